"""The compiled sweep (dfm.cam.simkernel) against the numpy formulas it replaced, cell by cell.

The reference below is the height-map arithmetic the simulation used before it was compiled
(whole arrays per move, no blocks skipped): random moves of every kind over random stock and
part maps must leave the same stock and report the same worst removal and deepest gouge.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dfm.cam import sim, simkernel
from dfm.cam.sim import Move, ToolBody


def _lowest_body(mv, cx: np.ndarray, cy: np.ndarray, body, shrink: float) -> np.ndarray:
    """Lowest height of the cutting end over each cell (inf if none): flat, or a drill's cone."""
    (ax, ay, az), (bx, by, bz) = mv.a, mv.b
    r = mv.radius - shrink
    if body.point_half_angle_deg <= 0:
        if mv.center is None:
            return _lowest(cx, cy, ax, ay, az + shrink, bx, by, bz + shrink, r)
        return _lowest_arc(cx, cy, mv, r, az + shrink)
    cot = 1.0 / math.tan(math.radians(body.point_half_angle_deg))
    if mv.center is None:
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        if ll > 1e-18:
            t = np.clip(((cx - ax) * dx + (cy - ay) * dy) / ll, 0.0, 1.0)
            base = az + (bz - az) * t
        else:
            t = np.zeros_like(cx)
            base = np.full_like(cx, min(az, bz))
        d = np.hypot(ax + t * dx - cx, ay + t * dy - cy)
    else:
        ox, oy = mv.center
        rad = math.dist((ax, ay), mv.center)
        d = np.minimum(np.abs(np.hypot(cx - ox, cy - oy) - rad),
                       np.minimum(np.hypot(cx - ax, cy - ay), np.hypot(cx - bx, cy - by)))
        d = np.where(np.isfinite(_lowest_arc(cx, cy, mv, r, 0.0)), d, np.inf)
        base = np.full_like(cx, az)
    return np.where(d <= r, base + shrink + d * cot, np.inf)


def _lowest(cx: np.ndarray, cy: np.ndarray, ax: float, ay: float, az: float, bx: float, by: float, bz: float,
            r: float) -> np.ndarray:
    """Lowest tip height of a flat tool of radius r moving a→b over each cell centre (inf if none)."""
    dx, dy = bx - ax, by - ay
    qa = dx * dx + dy * dy
    rx, ry = cx - ax, cy - ay
    c0 = rx * rx + ry * ry - r * r
    if qa < 1e-18:
        return np.where(c0 <= 0, min(az, bz), np.inf)
    qb = -2.0 * (rx * dx + ry * dy)
    disc = qb * qb - 4 * qa * c0
    ok = disc >= 0
    sq = np.sqrt(np.where(ok, disc, 0.0))
    t1 = (-qb - sq) / (2 * qa)
    t2 = (-qb + sq) / (2 * qa)
    lo = np.clip(t1, 0.0, 1.0)
    hi = np.clip(t2, 0.0, 1.0)
    ok &= (t2 >= 0.0) & (t1 <= 1.0)
    z = np.minimum(az + (bz - az) * lo, az + (bz - az) * hi)
    return np.where(ok, z, np.inf)


def _lowest_arc(cx: np.ndarray, cy: np.ndarray, mv, r: float, z: float) -> np.ndarray:
    """Flat arc at height z: the annular sector swept by the disc, plus the discs at both ends."""
    assert mv.center is not None
    ox, oy = mv.center
    rad = math.dist((mv.a[0], mv.a[1]), mv.center)
    rho = np.hypot(cx - ox, cy - oy)
    a0 = math.atan2(mv.a[1] - oy, mv.a[0] - ox)
    phi = np.arctan2(cy - oy, cx - ox) - a0
    if mv.sweep >= 0:
        rel = np.mod(phi, 2 * math.pi)
        in_range = rel <= mv.sweep + 1e-12
    else:
        rel = np.mod(-phi, 2 * math.pi)
        in_range = rel <= -mv.sweep + 1e-12
    if abs(mv.sweep) >= 2 * math.pi - 1e-12:
        in_range = np.ones_like(rho, dtype=bool)
    cov = (in_range & (np.abs(rho - rad) <= r))
    cov |= np.hypot(cx - mv.a[0], cy - mv.a[1]) <= r
    cov |= np.hypot(cx - mv.b[0], cy - mv.b[1]) <= r
    return np.where(cov, z, np.inf)


def _reference(s: sim.Simulation, mv, body) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """One move the old way over the whole grid: (worst removal, deepest gouge); lowers s.height."""
    cx, cy = np.meshgrid(s.grid.xs, s.grid.ys)
    zt = _lowest_body(mv, cx, cy, body, 0.0)
    removed = float(np.max(s.height - zt))
    if mv.rapid:  # a rapid meets material only simkernel.RAPID_RIM_MM inside its rim
        rim = Move(mv.rapid, mv.a, mv.b, mv.radius - simkernel.RAPID_RIM_MM, mv.spindle, mv.line, mv.center,
                   mv.sweep, body)
        zr = _lowest_body(rim, cx, cy, body, 0.0)
        with np.errstate(invalid="ignore"):
            removed = float(np.max(np.where(s.height <= zt, s.height - zt, s.height - zr)))
    np.minimum(s.height, zt, out=s.height)
    zg = _lowest_body(mv, cx, cy, body, s.tol)
    return removed, float(np.max(s.part - zg))


def _random_move(rng: np.random.Generator, r: float) -> Move:
    a = (rng.uniform(0, 4), rng.uniform(0, 4), rng.uniform(-1, 1))
    kind = rng.integers(0, 5)
    if kind == 0:  # flat line
        b = (rng.uniform(0, 4), rng.uniform(0, 4), a[2])
    elif kind == 1:  # ramp
        b = (rng.uniform(0, 4), rng.uniform(0, 4), rng.uniform(-1, 1))
    elif kind == 2:  # plunge
        b = (a[0], a[1], a[2] - rng.uniform(0, 1))
    else:  # flat arc, part or whole circle
        c = (a[0] + rng.uniform(-1, 1), a[1] + rng.uniform(-1, 1))
        rad = math.dist(a[:2], c)
        sweep = rng.uniform(-2 * math.pi, 2 * math.pi) if kind == 3 else 2 * math.pi * rng.choice([-1, 1])
        a0 = math.atan2(a[1] - c[1], a[0] - c[0])
        b = (c[0] + rad * math.cos(a0 + sweep), c[1] + rad * math.sin(a0 + sweep), a[2])
        return Move(bool(rng.integers(0, 2)), a, b, r, True, 0, c, sweep)
    return Move(bool(rng.integers(0, 2)), a, b, r, True, 0)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_sweep_matches_the_numpy_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    grid = sim.Grid(-0.5137, -0.4871, 0.02, 260, 250)
    part = rng.uniform(-1.2, 0.6, (grid.ny, grid.nx))
    part[rng.uniform(size=part.shape) < 0.2] = -np.inf  # holes through the part
    fast = sim.new_simulation(grid, (-0.5, -0.5, -2.0), (4.5, 4.5, 1.0), part.copy())
    fast.tile = int(rng.integers(3, 20))
    ref = sim.new_simulation(grid, (-0.5, -0.5, -2.0), (4.5, 4.5, 1.0), part.copy())
    for n in range(60):
        r = float(rng.uniform(0.03, 0.8))
        body = ToolBody(r, float(rng.choice([0.0, 59.0, 70.0])))
        mv = _random_move(rng, r)
        if body.point_half_angle_deg > 0 and mv.center is not None and n % 2:
            body = ToolBody(r)
        mv = Move(mv.rapid, mv.a, mv.b, r, mv.spindle, n, mv.center, mv.sweep, body)
        before = len(fast.violations)
        fast.tol = ref.tol = 1e-3
        fast._sweep(mv)
        removed, deepest = _reference(ref, mv, body)
        assert np.array_equal(fast.height, ref.height), (seed, n)
        got = {v.kind: v.amount_mm for v in fast.violations[before:]}
        if mv.rapid and removed > ref.tol:
            assert got.get("rapid-through-material") == pytest.approx(removed, abs=1e-12), (seed, n)
        else:
            assert "rapid-through-material" not in got
        if deepest > 1e-9:
            assert got.get("gouge") == pytest.approx(deepest, abs=1e-12), (seed, n)
        else:
            assert "gouge" not in got, (seed, n)


@pytest.mark.parametrize("seed", range(4))
def test_helical_arc_is_swept_exactly(seed: int) -> None:
    """A helical arc (kind 4) against the brute force: the centre sampled at 200 000 points along t.

    A cell is covered where some centre is within r; its lowest tip is z at the last covered t
    of a descent (first of an ascent). Multi-turn, either direction, ascending or descending.
    """
    from dfm.cam import simkernel

    rng = np.random.default_rng(100 + seed)
    for _ in range(60):
        ox, oy = rng.uniform(-1, 1, 2)
        rad = float(rng.choice([rng.uniform(0.0, 0.05), rng.uniform(0.05, 1.0)]))
        r = float(rng.uniform(0.05, 0.6))
        a0 = float(rng.uniform(-math.pi, math.pi))
        sweep = float(rng.uniform(0.1, 3 * 2 * math.pi)) * float(rng.choice([-1, 1]))
        az = float(rng.uniform(-1, 1))
        bz = az + float(rng.uniform(-0.5, 0.5))
        t = np.linspace(0.0, 1.0, 200_001)
        px, py = ox + rad * np.cos(a0 + sweep * t), oy + rad * np.sin(a0 + sweep * t)
        zs = az + (bz - az) * t
        for x, y in rng.uniform(-2, 2, (40, 2)):
            d = np.hypot(px - x, py - y)
            got = simkernel._helix(x, y, az, bz, ox, oy, rad, a0, sweep, r)
            if abs(d.min() - r) < 1e-6:
                continue  # on the edge of the swept band: either answer is right
            if d.min() > r:
                assert got == np.inf
                continue
            cov = np.nonzero(d <= r)[0]
            want = zs[cov[-1]] if bz <= az else zs[cov[0]]
            assert got == pytest.approx(want, abs=abs(bz - az) * 2e-5 + 1e-9), (x, y, got, want)


def _segment_inside_numpy(region, p, q, step, on_edge):  # type: ignore[no-untyped-def]
    """The numpy samples and tests ``Region.segment_inside`` ran before it was compiled."""
    n = max(1, math.ceil(math.dist(p, q) / step))
    k = np.arange(n + 1, dtype=float)
    xs = p[0] + (q[0] - p[0]) * k / n
    ys = p[1] + (q[1] - p[1]) * k / n
    ok = region._inside(xs, ys)
    if ok.all():
        return True
    if on_edge <= 0.0:
        return False
    x0, y0, x1, y1 = region.x0, region.y0, region.x1, region.y1
    dx, dy = x1 - x0, y1 - y0
    ll = np.where(dx * dx + dy * dy > 0.0, dx * dx + dy * dy, 1.0)
    sx, sy = xs[~ok][:, None], ys[~ok][:, None]
    t = np.clip(((sx - x0) * dx + (sy - y0) * dy) / ll, 0.0, 1.0)
    d = np.hypot(x0 + t * dx - sx, y0 + t * dy - sy)
    return bool((d.min(axis=1) <= on_edge).all())


@pytest.mark.parametrize("seed", range(4))
def test_compiled_segment_inside_matches_the_numpy_test(seed: int) -> None:
    """A region's link test, compiled (a large part's profile made 740 000 numpy calls), gives the
    numpy version's answer on segments in, out, across and along the boundary."""
    from dfm.cam import strategies
    from dfm.cam.geom2d import Seg, circle

    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(2.0, 5.0, n)
    pts = [(float(r * math.cos(a)), float(r * math.sin(a))) for a, r in zip(ang, rad, strict=True)]
    outer = tuple(Seg(pts[i], pts[(i + 1) % n]) for i in range(n))
    region = strategies.Region([outer, circle((0.1, -0.2), 0.8)])  # even-odd: the circle is a hole
    answers = []
    for _ in range(300):
        if rng.random() < 0.3:  # from a boundary vertex
            p = pts[int(rng.integers(n))]
        else:
            p = (float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)))
        q = (float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)))
        for step, edge in ((0.05, 0.0), (0.05, 2e-4), (0.3, 0.05)):
            got = region.segment_inside(p, q, step, on_edge=edge)
            assert got == _segment_inside_numpy(region, p, q, step, edge), (p, q, step, edge)
            answers.append(got)
    assert any(answers) and not all(answers)


@pytest.mark.parametrize("seed", range(3))
def test_compiled_points_in_polygon_match_the_numpy_test(seed: int) -> None:
    """``program._in_polygon`` (compiled over y-bands: 42 s of numpy on a large part's sections)
    gives every point the numpy even-odd answer, on vertices, on edges' y and far outside."""
    from dfm.cam import program

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 3000))
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(1.0, 5.0, n)
    poly = [(float(r * math.cos(a)), float(r * math.sin(a))) for a, r in zip(ang, rad, strict=True)]
    q = np.asarray(poly)
    pts = np.concatenate([rng.uniform(-6, 6, (4000, 2)), q, q[:, ::-1] * 0.5,
                          np.column_stack([rng.uniform(-6, 6, n), q[:, 1]])])  # at the vertices' y
    x0, y0 = q[:, 0], q[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    px, py = pts[:, :1], pts[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.logical_xor.reduce(((y0 > py) != (y1 > py)) & (x0 + (py - y0) * (x1 - x0) / (y1 - y0) > px), axis=1)
    got = program._in_polygon(pts, poly)
    assert np.array_equal(got, want)
    assert want.any() and not want.all()


def _raster_numpy(field: np.ndarray, v: np.ndarray, x0: float, y0: float, step: float) -> None:
    """The rasteriser's test over each triangle's whole box (before rows were cut to their span)."""
    ny, nx = field.shape
    for (ax, ay, az), (bx, by, bz), (cx, cy, cz) in v:
        det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
        if abs(det) < 1e-14:
            continue
        i0 = max(math.floor((min(ax, bx, cx) - x0) / step - 0.5), 0)
        i1 = min(math.ceil((max(ax, bx, cx) - x0) / step - 0.5), nx - 1)
        j0 = max(math.floor((min(ay, by, cy) - y0) / step - 0.5), 0)
        j1 = min(math.ceil((max(ay, by, cy) - y0) / step - 0.5), ny - 1)
        if i1 < i0 or j1 < j0:
            continue
        px = x0 + (np.arange(i0, i1 + 1) + 0.5) * step
        py = (y0 + (np.arange(j0, j1 + 1) + 0.5) * step)[:, None]
        l1 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / det
        l2 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / det
        l3 = 1.0 - l1 - l2
        inside = (l1 >= -1e-12) & (l2 >= -1e-12) & (l3 >= -1e-12)
        z = np.where(inside, l1 * az + l2 * bz + l3 * cz, -np.inf)
        sub = field[j0:j1 + 1, i0:i1 + 1]
        np.maximum(sub, z, out=sub)


@pytest.mark.parametrize("seed", range(3))
def test_raster_spans_give_the_whole_box_test(seed: int) -> None:
    """The rasteriser tests each row of a triangle only over the span its test can pass: the same
    cells as testing the whole box, for slivers, near-horizontal edges and vertices on cell centres."""
    from dfm.kernel.rasterkernel import raster

    rng = np.random.default_rng(seed)
    step = 0.01
    tris = []
    for k in range(400):
        base = rng.uniform(-20, 20, 2)
        if k % 4 == 0:
            p = base + rng.uniform(-0.5, 0.5, (3, 2))
        elif k % 4 == 1:  # a sliver
            d = rng.normal(size=2)
            d /= np.linalg.norm(d)
            p = np.array([base, base + d * rng.uniform(0.05, 1.5),
                          base + d * rng.uniform(0.05, 1.5) + rng.normal(size=2) * 10 ** rng.uniform(-9, -3)])
        elif k % 4 == 2:  # an edge within 1e-6 of a row
            p = base + np.array([[0, 0], [rng.uniform(0.2, 1.5), rng.uniform(-1e-6, 1e-6)],
                                 [rng.uniform(-1, 1), rng.uniform(-0.5, 0.5)]])
        else:  # vertices on cell centres
            p = (np.round((base + rng.uniform(-0.5, 0.5, (3, 2))) / step) + 0.5) * step
        tris.append(np.column_stack([p, rng.uniform(-1, 1, 3)]))
    v = np.ascontiguousarray(np.array(tris, dtype=float))
    for t in range(0, len(v), 40):  # a field per 40 triangles (the overlaps keep their highest)
        part = v[t:t + 40]
        lo, hi = part[:, :, :2].min(axis=(0, 1)) - 0.05, part[:, :, :2].max(axis=(0, 1)) + 0.05
        x0, y0 = math.floor(lo[0] / step) * step, math.floor(lo[1] / step) * step
        shape = (int((hi[1] - y0) / step) + 1, int((hi[0] - x0) / step) + 1)
        got, want = np.full(shape, -np.inf), np.full(shape, -np.inf)
        raster(got, np.ascontiguousarray(part), x0, y0, step)
        _raster_numpy(want, part, x0, y0, step)
        assert np.array_equal(got, want)
        assert np.isfinite(got).any()


@pytest.mark.parametrize("seed", range(3))
def test_recurring_helix_laps_sweep_as_each_on_its_own(seed: int) -> None:
    """A helical ramp's laps recur in plan: one run keeps where the end is lowest over each cell for
    the next lap (``simkernel.sweep_moves``' memo); the stock, engagement and findings are those of
    sweeping every move on its own (``Simulation._sweep``: no memo), bit for bit."""
    rng = np.random.default_rng(700 + seed)
    grid = sim.grid_for((-2.0, -2.0, -1.0), (2.0, 2.0, 1.0), 0.01)
    xs, ys = np.meshgrid(grid.xs, grid.ys)
    part = np.where(np.hypot(xs, ys) > 1.3, 0.8, -0.6)  # a bore, its wall within reach of some laps
    for case in range(4):
        r = float(rng.uniform(0.1, 0.7))
        rad = float(rng.choice([rng.uniform(0.0, 0.05), rng.uniform(0.05, 0.6)]))
        body = ToolBody(r, corner_radius=float(rng.choice([0.0, r * 0.3])))
        cx, cy = (float(v) for v in rng.uniform(-0.2, 0.2, 2))
        parts = int(rng.choice([2, 3, 4]))  # arcs per lap
        ccw = bool(rng.integers(2))
        pitch = float(rng.uniform(0.005, 0.08)) * (1 if case % 3 else -1)  # an ascent now and then
        a = [cx + rad, cy, 0.9 if pitch > 0 else -0.7]
        moves = []
        for k in range(int(rng.integers(8, 30))):
            ang = 2 * math.pi * (k + 1) / parts * (1 if ccw else -1)
            b = (round(cx + rad * math.cos(ang), 4), round(cy + rad * math.sin(ang), 4), a[2] - pitch / parts)
            mv = Move(False, tuple(a), b, r, True, k, (cx, cy), 0.0, body)  # type: ignore[arg-type]
            sweep = math.atan2(b[1] - cy, b[0] - cx) - math.atan2(a[1] - cy, a[0] - cx)
            sweep = (sweep % (2 * math.pi) or 2 * math.pi) if ccw else -((-sweep) % (2 * math.pi) or 2 * math.pi)
            moves.append(Move(False, mv.a, mv.b, r, True, k, (cx, cy), sweep, body))
            a = list(b)
        rows = sim.pack_moves(moves)
        assert (sim.recurring_plans(rows) >= 0).sum() >= len(moves) - parts - 1
        one = sim.new_simulation(grid, (-2, -2, -1), (2, 2, 1), part)
        one.run(moves)
        each = sim.new_simulation(grid, (-2, -2, -1), (2, 2, 1), part)
        for mv in moves:
            each._sweep(mv)
        assert np.array_equal(one.height, each.height)
        assert one.engaged == each.engaged
        assert [(v.kind, v.line, v.amount_mm) for v in one.violations] == \
            [(v.kind, v.line, v.amount_mm) for v in each.violations]


@pytest.mark.parametrize("seed", range(3))
def test_a_window_replays_its_history_lowest_first(seed: int) -> None:
    """``sim.window_engagement`` replays the moves before a move lowest first: the stock (the least
    tip over each cell) and the move's engagement are those of the moves in their order."""
    rng = np.random.default_rng(900 + seed)
    body = ToolBody(0.4, corner_radius=float(rng.choice([0.0, 0.1])))
    history = []
    for _ in range(60):
        mv = _random_move(rng, 0.4)
        history.append(Move(mv.rapid, mv.a, mv.b, 0.4, True, 0, mv.center, mv.sweep, body))
    last = history.pop()
    boxes = np.array([sim.move_box(m) for m in history])
    got = sim.window_engagement(history, boxes, last, (0.0, 0.0, -1.0), (4.0, 4.0, 1.0), 0.01)
    x0, x1, y0, y1 = sim.move_box(last)  # the same window, its history in order
    step, pad = 0.01, 0.02
    g = sim.Grid(x0 - pad + 0.3719 * step, y0 - pad + 0.2913 * step, step,
                 math.ceil((x1 - x0 + 2 * pad) / step), math.ceil((y1 - y0 + 2 * pad) / step))
    w = sim.new_simulation(g, (0.0, 0.0, -1.0), (4.0, 4.0, 1.0), np.full((g.ny, g.nx), -np.inf))
    w.bodies = False
    w.run(sim.undominated(history))
    w.run([last])
    assert got == w.engaged[-1]
    assert math.isfinite(got[0])


def _polygon_mask_numpy(grid: sim.Grid, outline) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``sim.polygon_mask`` as it was: the even-odd test in numpy over the outline's box."""
    inside = np.zeros((grid.ny, grid.nx), dtype=bool)
    pts = [tuple(p) for p in outline]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    i0 = max(int((min(xs) - grid.x0) / grid.step) - 1, 0)
    i1 = min(int((max(xs) - grid.x0) / grid.step) + 2, grid.nx)
    j0 = max(int((min(ys) - grid.y0) / grid.step) - 1, 0)
    j1 = min(int((max(ys) - grid.y0) / grid.step) + 2, grid.ny)
    if i1 <= i0 or j1 <= j0:
        return inside
    cx, cy = np.meshgrid(grid.xs[i0:i1], grid.ys[j0:j1])
    sub = np.zeros(cx.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        if y0 == y1:
            continue
        cond = (y0 > cy) != (y1 > cy)
        xc = x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        sub ^= cond & (xc > cx)
    inside[j0:j1, i0:i1] = sub
    return inside


@pytest.mark.parametrize("seed", range(3))
def test_compiled_polygon_mask_matches_the_numpy_test(seed: int) -> None:
    """``sim.polygon_mask`` (compiled: a 200-gon hole outline made 200 numpy passes over its box) gives the
    numpy version's cells: star and self-touching outlines, vertices on cell centres' rows, integer points."""
    rng = np.random.default_rng(seed)
    grid = sim.grid_for((-2.0, -2.0, 0.0), (2.0, 2.0, 1.0), 0.0137)
    for k in range(30):
        n = int(rng.integers(3, 250))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = rng.uniform(0.2, 2.2, n) if k % 2 else np.full(n, rng.uniform(0.1, 1.5))
        pts = [[float(r * math.cos(a)), float(r * math.sin(a))] for a, r in zip(ang, rad, strict=True)]
        if k % 3 == 0:  # some vertices on rows of cell centres, one outline of integers
            for p in pts[::3]:
                p[1] = float(grid.ys[int(np.clip((p[1] - grid.y0) / grid.step, 0, grid.ny - 1))])
        if k == 4:
            pts = [[-1, -1], [1, -1], [1, 1], [0, 0], [-1, 1]]
        assert np.array_equal(sim.polygon_mask(grid, pts), _polygon_mask_numpy(grid, pts)), (seed, k)


@pytest.mark.parametrize("seed", range(3))
def test_recurring_ramp_laps_sweep_as_each_on_its_own(seed: int) -> None:
    """A ramp round a polygon (a pocket's entry) repeats its sloped lines lap after lap: one run keeps
    where each line's end passes over each cell (and a corner's drop there) for the next lap; the
    stock, engagement and findings are those of every move swept on its own, bit for bit."""
    rng = np.random.default_rng(800 + seed)
    grid = sim.grid_for((-2.0, -2.0, -1.0), (2.0, 2.0, 1.0), 0.01)
    xs, ys = np.meshgrid(grid.xs, grid.ys)
    part = np.where((np.abs(xs) > 1.4) | (np.abs(ys) > 1.2), 0.8, -0.6)
    for case in range(4):
        r = float(rng.uniform(0.1, 0.6))
        body = ToolBody(r, corner_radius=float(rng.choice([0.0, r * 0.2, r])))
        n = int(rng.integers(2, 6))
        corners = [(round(float(x), 4), round(float(y), 4)) for x, y in rng.uniform(-0.9, 0.9, (n, 2))]
        drop = float(rng.uniform(0.01, 0.1)) * (1 if case % 3 else -1)
        z = 0.9 if drop > 0 else -0.7
        moves = []
        a = (*corners[0], z)
        for k in range(int(rng.integers(2, 6)) * n):
            z -= drop
            b = (*corners[(k + 1) % n], z)
            moves.append(Move(False, a, b, r, True, k, body=body))
            a = b
        moves.append(Move(False, a, (a[0], a[1], a[2] - 0.05), r, True, len(moves), body=body))  # and down
        rows = sim.pack_moves(moves)
        assert (sim.recurring_plans(rows) >= 0).sum() >= len(moves) - n - 1
        one = sim.new_simulation(grid, (-2, -2, -1), (2, 2, 1), part)
        one.run(moves)
        each = sim.new_simulation(grid, (-2, -2, -1), (2, 2, 1), part)
        for mv in moves:
            each._sweep(mv)
        assert np.array_equal(one.height, each.height)
        assert one.engaged == each.engaged
        assert [(v.kind, v.line, v.amount_mm) for v in one.violations] == \
            [(v.kind, v.line, v.amount_mm) for v in each.violations]
