"""The guard's fast paths give what the plain ones give, bit for bit (#14).

No timings here (speed is measured by ``benchmarks/gcode_bench.py``): these tests pin that
the one-call sweep (``Simulation.run`` through ``simkernel.sweep_moves``), the cell shortcuts
of ``simkernel.cut`` (cells below the move, a helix's inner disc and outside, the lowest end's
disc, the lateral's bound), the window replay without dominated moves and the posted moves
change nothing: the same stock, engagement, near flags and violations, to the last bit.
"""

from __future__ import annotations

import math
import random

import numpy as np
from numba import njit

from dfm.cam import guard, sim, simkernel
from dfm.cam.model import Arc, DrillCycle, Feed, Rapid, Spindle, ToolChange


@njit(cache=False, fastmath=False)
def _reference_cut(height, part, hmax, pmax, tile, x0, y0, step, i0, i1, j0, j1, watch, tol, zmin,  # type: ignore[no-untyped-def]
        kind, ax, ay, az, bx, by, bz, radius, ox, oy, rad, a0, sweep, cot, corner=0.0, memo=False, memo_at=None,
        memo_share=None, memo_share2=None, memo_rim=None, memo_i0=0, memo_j0=0, memo_w=1):
    """``simkernel.cut`` as it was before its shortcuts (9c5bd85): every cell through ``lowest``.

    (Flat ends only: ``corner`` is taken and must be 0, as every end of these tests is; the memo of a
    recurring helix is taken and not used.)

    Sweep the cutting end over cells [j0:j1, i0:i1]: lower ``height``, find what went wrong.

    Returns (worst removal above 0, its i, j) when ``watch`` (a rapid or a spindle-off feed)
    and (deepest gouge: the part's top above the end shrunk by ``tol``, i, j), −inf when
    there is none; then the move's **engagement**: the smallest distance from the path (XY)
    of a cell it cut more than :data:`simkernel.ENGAGED_MM` deep (inf: it cut nothing, or it is a
    plunge or a drill) and, for an arc, the largest distance from the arc's centre of such a
    cell (0 for a line). ``hmax`` and ``pmax`` hold the max of ``height`` and ``part`` per
    block of ``tile`` cells (``hmax`` is kept an upper bound as the stock is cut): a block the
    end cannot reach, or whose stock and part lie below the end, is skipped whole; a block
    the end covers whole at one height is lowered without the per-cell geometry.
    """
    worst = -np.inf
    wi = -1
    wj = -1
    deepest = -np.inf
    gi = -1
    gj = -1
    flat = kind == 1 or (kind == 0 and az == bz)
    near = np.inf
    far = 0.0
    length = math.hypot(bx - ax, by - ay)
    engage = kind == 1 or kind == 4 or (kind == 0 and length > 1e-12)
    tx = (bx - ax) / length if length > 1e-12 else 0.0
    ty = (by - ay) / length if length > 1e-12 else 0.0
    for tj in range(j0 // tile, (j1 - 1) // tile + 1):
        cj0 = max(tj * tile, j0)
        cj1 = min(tj * tile + tile, j1)
        for ti in range(i0 // tile, (i1 - 1) // tile + 1):
            ci0 = max(ti * tile, i0)
            ci1 = min(ti * tile + tile, i1)
            xc = x0 + 0.5 * (ci0 + ci1) * step
            yc = y0 + 0.5 * (cj0 + cj1) * step
            hd = 0.5 * math.hypot(ci1 - ci0, cj1 - cj0) * step
            d = simkernel.path_distance(kind, xc, yc, ax, ay, bx, by, ox, oy, rad, a0, sweep)
            if d - hd > radius + 1e-9:
                continue  # the end passes over no cell of this block
            if hmax[tj, ti] > zmin:  # stock above the end's lowest point: cut it
                whole = flat and d + hd < radius - 1e-9
                changed = False
                for j in range(cj0, cj1):
                    y = y0 + (j + 0.5) * step
                    for i in range(ci0, ci1):
                        if whole:
                            zt = az
                        else:
                            zt = simkernel.lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz, radius, 0.0,
                                        ox, oy, rad, a0, sweep, cot)
                        h = height[j, i]
                        if watch and h - zt > worst:  # (since: material only RAPID_RIM_MM inside the rim)
                            zw = zt
                            if h > zt:
                                zw = simkernel.lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz,
                                                      radius - simkernel.RAPID_RIM_MM, 0.0, ox, oy, rad, a0, sweep, cot)
                            if h - zw > worst:
                                worst = h - zw
                                wi = i
                                wj = j
                        if zt < h:
                            if engage and h - zt > simkernel.ENGAGED_MM:
                                x = x0 + (i + 0.5) * step
                                if kind == 0:
                                    lat = abs((x - ax) * ty - (y - ay) * tx)
                                else:
                                    lat, rho = simkernel._arc_lateral(x, y, ox, oy, rad, a0, sweep)
                                    if rho > far:
                                        far = rho
                                if lat < near:
                                    near = lat
                            height[j, i] = zt
                            changed = True
                if changed:  # the block's new max (over the whole block, not only the part cut)
                    m = -np.inf
                    for j in range(tj * tile, min(tj * tile + tile, height.shape[0])):
                        for i in range(ti * tile, min(ti * tile + tile, height.shape[1])):
                            if height[j, i] > m:
                                m = height[j, i]
                    hmax[tj, ti] = m
            if pmax[tj, ti] <= zmin + tol or d - hd > radius - tol + 1e-9:
                continue  # the shrunk end stays above the part or off this block: no gouge here
            for j in range(cj0, cj1):
                y = y0 + (j + 0.5) * step
                for i in range(ci0, ci1):
                    p = part[j, i]
                    if p - zmin - tol <= deepest or p - zmin - tol <= 0.0:
                        continue  # cannot be a gouge, or not deeper than one found
                    zg = simkernel.lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz, radius, tol,
                                ox, oy, rad, a0, sweep, cot)
                    if p - zg > deepest:
                        deepest = p - zg
                        gi = i
                        gj = j
    return worst, wi, wj, deepest, gi, gj, near, far



def _plain(s: sim.Simulation, moves: list[sim.Move]) -> sim.Simulation:
    """The per-move path (``Simulation._sweep``) with the kernel as it was."""
    saved = simkernel.cut
    simkernel.cut = _reference_cut
    try:
        for mv in moves:
            s._sweep(mv)
    finally:
        simkernel.cut = saved
    return s


def _stock(seed: int) -> tuple[sim.Grid, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = sim.grid_for((0.0, 0.0, 0.0), (1.2, 1.0, 1.0), 0.013, pad=0.2)
    part = np.full((g.ny, g.nx), -np.inf)
    for _ in range(4):  # blocks of part at several heights
        i0, j0 = int(rng.integers(0, g.nx - 10)), int(rng.integers(0, g.ny - 10))
        part[j0:j0 + int(rng.integers(3, 25)), i0:i0 + int(rng.integers(3, 25))] = float(rng.uniform(0.0, 0.9))
    return g, part


def _moves(seed: int, n: int = 160) -> list[sim.Move]:
    """Lines (flat, sloped, plunges, chords), flat and helical arcs (inner disc, hole, multi-turn), drills."""
    rnd = random.Random(seed)
    flat_end = sim.ToolBody(0.12, 0.0, 0.2, 0.6, 0.6, 1.0)
    drill = sim.ToolBody(0.1, 59.0)
    out = []
    p = (0.6, 0.5, 1.3)
    for k in range(n):
        body = drill if rnd.random() < 0.1 else flat_end
        r = body.radius * rnd.choice((0.5, 1.0, 1.5, 2.5))
        body = sim.ToolBody(r, body.point_half_angle_deg, max(body.shank_radius, r), body.shank_from,
                            body.holder_radius, body.holder_from)
        z = p[2] + rnd.choice((0.0, 0.0, -0.01, -0.08, 0.03, -0.3))
        z = min(max(z, -0.1), 1.3)
        rapid = rnd.random() < 0.1
        spindle = rnd.random() > 0.05
        kind = rnd.random()
        if kind < 0.45:  # a line: long, short or a tiny chord
            size = rnd.choice((0.4, 0.05, 0.004))
            q = (min(max(p[0] + rnd.uniform(-size, size), -0.1), 1.3),
                 min(max(p[1] + rnd.uniform(-size, size), -0.1), 1.1), z)
            out.append(sim.Move(rapid, p, q, r, spindle, k, body=body))
        elif kind < 0.5:  # a plunge
            q = (p[0], p[1], z)
            out.append(sim.Move(rapid, p, q, r, spindle, k, body=body))
        else:  # an arc about a centre at a radius below, near or above the tool's
            rad = r * rnd.choice((0.2, 0.9, 1.0, 1.7, 3.0))
            ang = rnd.uniform(-math.pi, math.pi)
            c = (p[0] - rad * math.cos(ang), p[1] - rad * math.sin(ang))
            sweep = rnd.choice((1, -1)) * rnd.choice((0.02, 0.5, math.pi, 2 * math.pi, 5.0, 4 * math.pi))
            e = ang + sweep
            q = (c[0] + rad * math.cos(e), c[1] + rad * math.sin(e), z)
            if body.point_half_angle_deg > 0 and z != p[2]:
                q = (q[0], q[1], p[2])  # drills run flat arcs only (their helices are chords)
            out.append(sim.Move(False, p, q, r, spindle, k, c, sweep, body))
        p = out[-1].b
    return out


def _same(a: sim.Simulation, b: sim.Simulation) -> None:
    assert np.array_equal(a.height, b.height)
    assert a.engaged == b.engaged
    assert a.near == b.near
    assert a.swept == b.swept
    assert [(v.kind, v.line, v.x, v.y, v.amount_mm) for v in a.violations] == \
        [(v.kind, v.line, v.x, v.y, v.amount_mm) for v in b.violations]


def test_one_call_sweep_is_the_plain_sweep() -> None:
    for seed in range(12):
        g, part = _stock(seed)
        moves = _moves(seed)
        fast = sim.new_simulation(g, (0.0, 0.0, 0.0), (1.2, 1.0, 1.0), part)
        plain = sim.new_simulation(g, (0.0, 0.0, 0.0), (1.2, 1.0, 1.0), part)
        for s in (fast, plain):
            s.near_margin = 0.05
        half = len(moves) // 2  # two runs, the second with another tolerance (a pre-finish pass's)
        fast.run(moves[:half])
        _plain(plain, moves[:half])
        fast.tol = plain.tol = 0.02
        fast.run(moves[half:])
        _plain(plain, moves[half:])
        _same(fast, plain)
        assert fast.violations, seed  # the moves do run into the part and the stock
        assert any(math.isfinite(e[0]) for e in fast.engaged)


def test_window_replay_without_dominated_moves() -> None:
    for seed in range(6):
        moves = [m for m in _moves(100 + seed, 120) if m.body is None or m.body.point_half_angle_deg == 0]
        laps = []  # a ramp's laps and a pocket's levels: the same paths lower
        for dz in (0.0, -0.05, -0.1, -0.1):
            laps += [sim.Move(m.rapid, (m.a[0], m.a[1], m.a[2] + dz), (m.b[0], m.b[1], m.b[2] + dz), m.radius,
                              m.spindle, m.line, m.center, m.sweep, m.body) for m in moves[:40]]
        history = laps + moves[40:]
        kept = sim.undominated(history)
        assert len(kept) < len(history)
        box = (-0.5, -0.5, 0.0), (1.7, 1.5, 1.0)
        g = sim.grid_for(*box, 0.02)
        full = sim.new_simulation(g, *box, np.full((g.ny, g.nx), -np.inf))
        less = sim.new_simulation(g, *box, np.full((g.ny, g.nx), -np.inf))
        full.bodies = less.bodies = False
        full.run(history)
        less.run(kept)
        assert np.array_equal(full.height, less.height)
        boxes = np.array([sim.move_box(m) for m in history])
        for mv in moves[40:70]:
            fast = sim.window_engagement(history, boxes, mv, *box, 0.01)
            packed = sim.pack_moves(history, plunges=True)  # the guard's: the same moves left out, from rows
            assert sim.window_engagement(history, boxes, mv, *box, 0.01, packed) == fast
            assert sim.window_engagement(history + [mv], np.concatenate([boxes, [sim.move_box(mv)]]), mv, *box, 0.01,
                                         sim.pack_moves(history + [mv], plunges=True), len(history)) == fast
            saved = sim.undominated
            sim.undominated = list  # every hit move replayed
            try:
                plain = sim.window_engagement(history, boxes, mv, *box, 0.01)
            finally:
                sim.undominated = saved
            assert fast == plain


def test_posted_moves_are_the_moves_of_the_posted_steps() -> None:
    rnd = random.Random(3)
    steps = [ToolChange(1, "t"), Spindle(12000), Rapid(0.123456789, 0.3, 5.0)]
    x, y, z = 0.123456789, 0.3, 1.0
    for _ in range(300):
        roll = rnd.random()
        nx, ny, z = x + rnd.uniform(-0.3, 0.3), y + rnd.uniform(-0.3, 0.3), z - rnd.uniform(0.0, 0.01)
        if roll < 0.4:
            steps.append(Feed(nx, ny, z, "cut", 100.0))
        elif roll < 0.8:
            cx, cy = (x + nx) / 2 + rnd.uniform(-1e-7, 1e-7), (y + ny) / 2
            steps.append(Arc(nx, ny, z, cx, cy, rnd.random() < 0.5, "ramp", 50.0))
        elif roll < 0.85:
            steps.append(Arc(x + 1e-6, y, z, x + 0.1, y, True, "cut", 50.0))  # ends that print the same
        elif roll < 0.9:
            steps.append(DrillCycle(nx, ny, -0.5, 0.5, 0.2, 30.0))
        else:
            steps.append(Rapid(nx, ny, z + 1.0))
        x, y = nx, ny
    bodies = {1: sim.ToolBody(0.1, 0.0, 0.2, 1.0, 3.0, 2.0), 2: sim.ToolBody(0.1, 59.0)}
    for tool in (1, 2):
        steps[0] = ToolChange(tool, "t")
        for start in (None, (0.0, 0.0, 5.0), (0.0, 0.0, 0.5)):
            want = sim.moves_from_steps(guard._as_posted(steps), bodies, start=start, spindle=True, tool=bodies[tool])
            got = sim.moves_from_steps(steps, bodies, start=start, spindle=True, tool=bodies[tool],
                                       posted=guard._posted())
            assert got == want
            assert any(m.center is not None and abs(abs(m.sweep) - 2 * math.pi) < 1e-12 for m in got) or tool == 2


def _shadow_loops(seed: int) -> guard._Loops:
    """Circles and a rectangle (lines), as chords and exact segments, as ``guard._Shadows.loops`` builds them."""
    from dfm.cam.geom2d import Seg, circle, loop_points

    rnd = random.Random(seed)
    loops = [circle((rnd.uniform(0.2, 1.0), rnd.uniform(0.2, 0.8)), rnd.uniform(0.05, 0.3)) for _ in range(3)]
    x0, y0 = rnd.uniform(0.0, 0.5), rnd.uniform(0.0, 0.5)
    pts = [(x0, y0), (x0 + 0.4, y0), (x0 + 0.4, y0 + 0.3), (x0, y0 + 0.3)]
    loops.append(tuple(Seg(a, b) for a, b in zip(pts, pts[1:] + pts[:1], strict=True)))
    return guard._Loops([np.array(loop_points(lp, 1e-4)) for lp in loops], [sg for lp in loops for sg in lp])


def test_side_check_least_is_the_least_of_every_sample() -> None:
    """Samples passed over (``skip``) never hold the least; moves with a -inf sample do not count either way."""
    for seed in range(8):
        loops = _shadow_loops(seed)
        rnd = random.Random(50 + seed)
        xs, ys, idx = [], [], []
        for move in range(30):  # paths every 5 um, some along the circles at a constant clearance
            x, y = rnd.uniform(-0.2, 1.4), rnd.uniform(-0.2, 1.2)
            ang = rnd.uniform(0, 2 * math.pi)
            for _ in range(rnd.choice((20, 200, 600))):
                x, y = x + 0.005 * math.cos(ang), y + 0.005 * math.sin(ang)
                ang += rnd.choice((0.0, 0.0, 0.02, -0.02))
                xs.append(x)
                ys.append(y)
                idx.append(move)
        px, py = np.array(xs), np.array(ys)
        pr = np.full(len(px), 0.1)
        ids = np.array(idx, dtype=np.int64)
        for step in (32, 2048):
            plain = np.full(30, np.inf)
            simkernel.side_clearance(px, py, pr, ids, step, loops.ax, loops.ay, loops.bx, loops.by, loops.rows,
                                     loops.boxes, guard.NEAR_MM, plain, np.full(1, np.inf), False)
            fast = np.full(30, np.inf)
            simkernel.side_clearance(px, py, pr, ids, step, loops.ax, loops.ay, loops.bx, loops.by, loops.rows,
                                     loops.boxes, guard.NEAR_MM, fast, np.full(1, np.inf), True)
            assert np.isneginf(plain).any() == np.isneginf(fast).any()
            want = plain[np.isfinite(plain)]
            got = fast[np.isfinite(fast)]
            assert (want.min() if want.size else None) == (got.min() if got.size else None)
            assert (plain < 0).any() and (plain > 0).any()  # inside and outside the shadow
            # against the chunks as guard._Loops.clearance measured them and np.minimum.at kept them
            old = np.full(30, np.inf)
            pts = np.column_stack([px, py, np.zeros(len(px)), pr, ids])
            for c in range(0, len(px), step):
                np.minimum.at(old, ids[c:c + step], loops.clearance(pts[c:c + step]))
            assert np.array_equal(old, plain)


def test_posted_value_is_the_posts_number() -> None:
    """The guard's rounding (round(x, POST_DIGITS) + 0.0) is float(posts.base.num(x)) to the bit."""
    import struct

    from dfm.cam.posts.base import POST_DIGITS, num

    rnd = random.Random(7)
    unit = 10.0 ** -POST_DIGITS
    values = [rnd.uniform(-200, 200) for _ in range(20000)]
    values += [rnd.choice((-1, 1)) * (k + 0.5) * unit for k in range(20000)]  # halfway cases
    values += [x + d for x in (0.5 * unit, 1 + 0.5 * unit, -2.5 * unit) for d in (0.0, 1e-17, -1e-17, 1e-15, -1e-15)]
    values += [0.0, -0.0, 0.4 * unit, -0.4 * unit, -0.5 * unit]
    posted = guard._posted()
    for x in values:
        assert struct.pack("d", posted(x)) == struct.pack("d", float(num(x))), x


def test_nearest_segment_passes_over_arcs_without_changing_the_least() -> None:
    """``simkernel._nearest`` (arcs no nearer than the least so far passed over, any segment first) gives
    ``_distance``'s least to the bit, arcs whose ends lie off their circle (by up to 1e-5) included."""
    rnd = random.Random(11)
    for _ in range(40):
        rows = []
        for _ in range(rnd.randint(1, 12)):
            ax, ay = rnd.uniform(-1, 1), rnd.uniform(-1, 1)
            if rnd.random() < 0.5:
                rows.append((ax, ay, rnd.uniform(-1, 1), rnd.uniform(-1, 1), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
                continue
            ox, oy = ax + rnd.uniform(-0.5, 0.5), ay + rnd.uniform(-0.5, 0.5)
            rad = math.dist((ax, ay), (ox, oy))
            a0 = math.atan2(ay - oy, ax - ox)
            sweep = rnd.uniform(-2 * math.pi, 2 * math.pi)
            off = rnd.choice((0.0, 1e-9, 1e-7, 1e-5))
            bx = ox + (rad + off) * math.cos(a0 + sweep)
            by = oy + (rad + off) * math.sin(a0 + sweep)
            rows.append((ax, ay, bx, by, 1.0, ox, oy, rad, a0, sweep))
        segs = np.array(rows, dtype=float)
        dev = np.array([max(abs(math.hypot(r[0] - r[5], r[1] - r[6]) - r[7]), abs(math.hypot(r[2] - r[5], r[3] - r[6])
                                                                                  - r[7])) if r[4] else 0.0
                        for r in rows])
        for _ in range(200):
            x, y = rnd.uniform(-1.5, 1.5), rnd.uniform(-1.5, 1.5)
            want = simkernel._distance(x, y, segs, len(segs))
            for first in range(len(segs)):
                got, g = simkernel._nearest(x, y, segs, dev, len(segs), first)
                assert got == want
                assert simkernel._seg_distance(x, y, segs, g) == want


def test_undominated_rows_keeps_what_undominated_keeps() -> None:
    """``sim.undominated_rows`` (numpy over packed moves: partC's 190 windows spent 2 s in the Python one)
    keeps the moves ``sim.undominated`` keeps, in order: repeated paths at other heights, negative zeros,
    drills and end mills of one radius, arcs and lines, flat and sloped, ties."""
    rnd = random.Random(3)
    bodies = [sim.ToolBody(0.2), sim.ToolBody(0.2, 59.0), sim.ToolBody(0.3)]
    for trial in range(300):
        paths = []
        for _ in range(rnd.randint(1, 8)):
            a = (round(rnd.uniform(-1, 1), 2), round(rnd.uniform(-1, 1), 2))
            b = (round(rnd.uniform(-1, 1), 2), round(rnd.uniform(-1, 1), 2))
            paths.append((a, b, rnd.random() < 0.4, rnd.choice(bodies)))
        moves = []
        for _ in range(rnd.randint(1, 60)):
            a, b, arc, body = rnd.choice(paths)
            za = rnd.choice([0.0, -0.0, 0.5, 1.0, rnd.uniform(-1, 1)])
            zb = za if rnd.random() < 0.5 else rnd.choice([za - 1e-7, za + 0.3, rnd.uniform(-1, 1)])
            if rnd.random() < 0.1 and a[0] == 0:
                a = (-0.0, a[1])
            moves.append(sim.Move(False, (*a, za), (*b, zb), body.radius, True, 0, (0.0, 0.0) if arc else None,
                                  1.0 if arc else 0.0, body))
        want = [id(m) for m in sim.undominated(moves)]
        assert [id(moves[i]) for i in sim.undominated_rows(sim.pack_moves(moves))] == want, trial
