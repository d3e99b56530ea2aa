"""Pockets whose floors are filleted are machined to their walls, and never into the fillets.

A pocket's outline is its floor face's: round a floor filleted with radius F the walls stand F
outside it. The program's passes are planned from the walls (``strategies.wall_loops``); a
tool whose corner radius is at least F (the corner-radius end ``dfm.tooling`` chooses for a
filleted floor) runs at the walls, a smaller corner stays :func:`program.fillet_standoff` off
them and the feature is listed as partly machined. The guard models a corner-radius end as
the torus it is on moves at one height (``simkernel.cut``, ``corner_drop``).

Parts in CadQuery to known dimensions, read through STEP. The fillets are checked against an
analytic model of each part (the distance to its walls' rounded rectangles), independent of
dfm's geometry: no pass of the program's corner-radius ends goes into them by more than 1 um.
"""

from __future__ import annotations

import math
import random

import cadquery as cq
import numpy as np
import pytest
from test_cam_random import assert_clean

from dfm.cam import rs274, simkernel
from dfm.cam.gcode import generate
from dfm.cam.guard import end_corner
from dfm.cam.model import Arc, Feed
from dfm.cam.program import fillet_standoff

pytestmark = [pytest.mark.rs274,
              pytest.mark.skipif(rs274.available() is None,
                                 reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")]

TOP = 3.0


def _rrect_sdf(x: np.ndarray, y: np.ndarray, cx: float, cy: float, w: float, h: float, r: float) -> np.ndarray:
    """Signed distance to a rounded rectangle (negative inside), exact."""
    qx = np.abs(x - cx) - (w / 2 - r)
    qy = np.abs(y - cy) - (h / 2 - r)
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r


class FilletPocket:
    """A block with a rounded-rectangle pocket, maybe a rounded-rectangle island, every floor edge filleted."""

    def __init__(self, w: float, h: float, r: float, depth: float, fillet: float,
                 island: tuple[float, float, float, float, float] | None = None) -> None:
        self.w, self.h, self.r, self.depth, self.fillet, self.island = w, h, r, depth, fillet, island
        self.floor = TOP - depth

    def solid(self) -> cq.Workplane:
        part = cq.Workplane("XY").box(self.w + 4, self.h + 4, TOP).translate((0, 0, TOP / 2))
        pk = cq.Workplane("XY").rect(self.w, self.h).extrude(self.depth).edges("|Z").fillet(self.r)
        if self.island is not None:
            cx, cy, iw, ih, ir = self.island
            isl = cq.Workplane("XY").rect(iw, ih).extrude(self.depth).edges("|Z").fillet(ir).translate((cx, cy, 0))
            pk = pk.cut(isl)
        part = part.cut(pk.translate((0, 0, self.floor)))
        e = 1e-3
        box = cq.selectors.BoxSelector((-self.w / 2 - e, -self.h / 2 - e, self.floor - e),
                                       (self.w / 2 + e, self.h / 2 + e, self.floor + e))
        return part.edges(box).fillet(self.fillet)

    def wall_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance from (x, y) in the pocket to its nearest wall (outline or island)."""
        d = -_rrect_sdf(x, y, 0.0, 0.0, self.w, self.h, self.r)
        if self.island is not None:
            cx, cy, iw, ih, ir = self.island
            d = np.minimum(d, _rrect_sdf(x, y, cx, cy, iw, ih, ir))
        return d

    def height(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The part's top at (x, y) over the pocket's floor: the floor, risen into the fillets by the walls."""
        d = np.clip(self.wall_distance(x, y), 0.0, None)
        f = self.fillet
        rise = np.where(d < f, f - np.sqrt(np.clip(f * f - (f - d) ** 2, 0.0, None)), 0.0)
        return self.floor + rise


def _fillet_gouge(part: FilletPocket, gen) -> float:  # type: ignore[no-untyped-def]
    """The deepest any corner-radius end's pass at the floor goes into the part's fillets (mm; <= 0: none).

    Points every 2 um over the fillets' band (wall distance < F): :func:`fillet_gouge`.
    """
    f = part.fillet
    g = np.arange(-part.w / 2, part.w / 2, 0.002)
    gx, gy = np.meshgrid(g, np.arange(-part.h / 2, part.h / 2, 0.002))
    gx, gy = gx.ravel(), gy.ravel()
    d = part.wall_distance(gx, gy)
    band = (d > 0) & (d < f)
    px, py = gx[band], gy[band]
    return fillet_gouge(gen, px, py, part.height(px, py), part.floor + f)


def fillet_gouge(gen, px: np.ndarray, py: np.ndarray, pz: np.ndarray, z_max: float) -> float:  # type: ignore[no-untyped-def]
    """The deepest any pass goes into the surface points (px, py, pz) (mm; <= 0: none).

    Each pass at one height up to ``z_max`` sampled every 5 um; the end is the torus of the
    tool's diameter and corner radius.
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(np.c_[px, py])
    worst = -math.inf
    for su in gen.program.setups:
        for op in su.operations:
            c = op.tool.cutter
            rc = end_corner(c)
            r = c.diameter_mm / 2
            for qx, qy, qz in level_samples(op, z_max):
                idx = tree.query_ball_point((qx, qy), r)
                if not idx:
                    continue
                dd = np.hypot(px[idx] - qx, py[idx] - qy)
                e = np.clip(dd - (r - rc), 0.0, None)
                bottom = qz + np.where(e > 0, rc - np.sqrt(np.clip(rc * rc - e * e, 0.0, None)), 0.0)
                worst = max(worst, float((pz[idx] - bottom).max()))
    return worst


def level_samples(op, z_max: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(x, y, z) every 5 um along ``op``'s feeds and arcs that stay at one height, up to ``z_max``."""
    pts: list[tuple[float, float, float]] = []
    pos = None
    for st in op.steps:
        if not isinstance(st, (Feed, Arc)):
            pos = (st.x, st.y, st.z) if hasattr(st, "z") else pos
            continue
        a, pos = pos, (st.x, st.y, st.z)
        if a is None or abs(a[2] - st.z) > 1e-9 or st.z > z_max:
            continue
        if isinstance(st, Arc):
            a0 = math.atan2(a[1] - st.cy, a[0] - st.cx)
            a1 = math.atan2(st.y - st.cy, st.x - st.cx)
            sw = (a1 - a0) % (2 * math.pi) if st.ccw else -((a0 - a1) % (2 * math.pi))
            rad = math.hypot(a[0] - st.cx, a[1] - st.cy)
            t = a0 + sw * np.linspace(0, 1, max(2, int(abs(sw) * rad / 0.005) + 1))
            sx, sy = st.cx + rad * np.cos(t), st.cy + rad * np.sin(t)
        else:
            n = max(2, int(math.dist(a[:2], (st.x, st.y)) / 0.005) + 1)
            sx, sy = np.linspace(a[0], st.x, n), np.linspace(a[1], st.y, n)
        pts += [(float(x), float(y), st.z) for x, y in zip(sx, sy, strict=True)]
    return np.array(pts, dtype=float).reshape(-1, 3)


def test_fillet_standoff_keeps_the_corner_inside_the_fillet() -> None:
    assert fillet_standoff(0.05, 0.05) == 0.0
    assert fillet_standoff(0.05, 0.1) == 0.0
    assert fillet_standoff(0.2, 0.0) == pytest.approx(0.2)
    assert fillet_standoff(0.2, 0.05) == pytest.approx(0.15)
    assert fillet_standoff(0.2, 0.0, side=0.02) == pytest.approx(0.18)
    assert fillet_standoff(0.2, 0.0, bottom=0.25) == 0.0  # above the fillet
    # raised off the floor: the corner's arc is tangent to the fillet's from inside, not crossing it
    for fil, rc, side, bottom in [(0.3, 0.05, 0.0, 0.02), (0.5, 0.1, 0.02, 0.1), (0.2, 0.0, 0.0, 0.05)]:
        x = side + fillet_standoff(fil, rc, side, bottom)
        cx, cz = x + rc, bottom + rc  # the corner's centre (wall at 0, floor at 0)
        assert math.hypot(fil - cx, fil - cz) + rc == pytest.approx(fil - 0.0, abs=1e-12) or x == side
        assert math.hypot(fil - (cx - 1e-3), fil - cz) + rc > fil  # 1 um nearer: into the fillet


def test_corner_drop_is_the_torus() -> None:
    r, rc = 0.15, 0.05
    for d in np.linspace(0, r, 31):
        want = 0.0 if d <= r - rc else rc - math.sqrt(rc * rc - (d - (r - rc)) ** 2)
        assert simkernel.corner_drop(d, r, rc) == pytest.approx(want, abs=1e-15)
    assert simkernel.corner_drop(r + 1e-9, r, rc) == math.inf
    assert simkernel.corner_drop(0.07, 0.1, 0.1) == pytest.approx(0.1 - math.sqrt(0.01 - 0.07 ** 2))  # a ball


CASES = [  # name, part, needs a stand-off
    ("r005_gap035", FilletPocket(8, 6, 0.5, 1.5, 0.05, (4 - 0.35 - 1.5, 0.0, 3.0, 2.0, 0.3)), False),
    ("r01", FilletPocket(6, 4, 0.6, 1.0, 0.1), False),
    ("r02", FilletPocket(6, 4, 0.6, 1.0, 0.2), True),
]


@pytest.mark.parametrize(("name", "part", "standoff"), CASES, ids=[c[0] for c in CASES])
def test_filleted_floor_is_machined_to_the_walls_and_not_into_the_fillets(build, name, part, standoff):
    path = build(name, part.solid())
    gen, result = generate(path)
    (body,) = result.bodies
    (pocket,) = [f for f in body.features if f.kind == "pocket"]
    assert pocket.dims["floor_radius_mm"] == pytest.approx(part.fillet, abs=1e-6)
    ver = gen.verification
    assert not ver.dropped, ver.dropped
    assert_clean(gen, path, name, corners=True)
    assert _fillet_gouge(part, gen) <= 1e-3
    ops = [op for su in gen.program.setups for op in su.operations if pocket.id in op.features]
    partial = [why for su in gen.program.setups for fid, why in su.partly if fid == pocket.id]
    if standoff:
        # no catalogue corner as large as the fillet: the passes stay off the walls, and it is listed
        assert any("fillets round its floor are R0.2" in why for why in partial), partial
        assert "PARTLY MACHINED " + pocket.id in gen.files[0][1]
        return
    assert not partial, partial
    # every tool the pocket's program loads is one the check lists for it
    listed = {t.id for t in body.tools if pocket.id in t.features}
    assert {op.tool.cutter.id for op in ops} <= listed
    # the walls are reached: the finishing passes run at the walls' outline, not the floor's
    removed = dict(x for sc in ver.setups for x in sc.removed)
    assert removed[pocket.id] >= 0.999
    finish = [op for op in ops if op.kind.startswith("finish")]
    xs = [st.x for op in finish for st in op.steps if isinstance(st, (Feed, Arc))]
    r_min = min(op.tool.cutter.diameter_mm / 2 for op in finish)
    assert min(xs) == pytest.approx(-part.w / 2 + r_min, abs=2e-3)


@pytest.mark.parametrize("seed", range(3))
def test_random_filleted_pockets_never_cut_their_fillets(build, seed):
    rnd = random.Random(7100 + seed)
    fillet = rnd.choice([0.02, 0.05, 0.1, 0.15])
    w, h = round(rnd.uniform(3.0, 7.0), 3), round(rnd.uniform(2.5, 5.0), 3)
    r = round(rnd.uniform(max(0.3, fillet + 0.1), 0.8), 3)
    island = None
    if rnd.random() < 0.6 and min(w, h) > 3.0:
        iw, ih = round(rnd.uniform(0.6, w / 2 - 0.5), 3), round(rnd.uniform(0.6, h / 2 - 0.4), 3)
        island = (round(rnd.uniform(-0.3, 0.3), 3), round(rnd.uniform(-0.2, 0.2), 3), iw, ih,
                  round(min(iw, ih) / 2 * rnd.uniform(0.3, 0.9), 3))
    part = FilletPocket(w, h, r, round(rnd.uniform(0.5, 1.5), 3), fillet, island)
    path = build(f"random{seed}", part.solid())
    gen, _ = generate(path)
    assert not gen.verification.dropped, (seed, gen.verification.dropped)
    assert_clean(gen, path, seed, corners=True)
    assert _fillet_gouge(part, gen) <= 1e-3, seed


def test_a_corner_radius_end_is_swept_as_its_torus() -> None:
    """The compiled sweep against a brute-force torus: exact on moves at one height; on sloped and
    helical moves never above the torus's envelope (no gouge missed) nor below the flat end's."""
    from dfm.cam import sim

    r, rc = 0.15, 0.05
    body = sim.ToolBody(r, 0.0, corner_radius=rc)
    flat = sim.ToolBody(r)
    g = sim.grid_for((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 0.004, pad=0.2)
    xs, ys = np.meshgrid(g.xs, g.ys)

    def torus_bottom(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> np.ndarray:
        """Lowest of the torus over every cell, the tip at the points (px, py, pz)."""
        out = np.full(xs.shape, np.inf)
        for x, y, z in zip(px, py, pz, strict=True):
            d = np.hypot(xs - x, ys - y)
            e = np.clip(d - (r - rc), 0.0, None)
            drop = np.where(d <= r, rc - np.sqrt(np.clip(rc * rc - e * e, 0.0, None)), np.inf)
            out = np.minimum(out, z + drop)
        return out

    cases = [
        (sim.Move(False, (0.2, 0.3, 0.5), (0.8, 0.6, 0.5), r, True, 1), True),
        (sim.Move(False, (0.7, 0.5, 0.4), (0.5, 0.7, 0.4), r, True, 2, (0.5, 0.5), math.pi / 2), True),
        (sim.Move(False, (0.2, 0.3, 0.6), (0.8, 0.5, 0.45), r, True, 3), False),
        (sim.Move(False, (0.5, 0.5, 0.8), (0.5, 0.5, 0.4), r, True, 4), True),  # straight down: exact too
        (sim.Move(False, (0.7, 0.5, 0.6), (0.3, 0.5, 0.5), r, True, 5, (0.5, 0.5), math.pi), False),  # a helix
    ]
    for mv, exact in cases:
        heights = []
        for b in (body, flat):
            s = sim.new_simulation(g, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), np.full((g.ny, g.nx), -np.inf))
            s.run([replace_body(mv, b)])
            heights.append(s.height.copy())
        h, h_flat = heights
        n = 4001
        t = np.linspace(0.0, 1.0, n)
        if mv.center is None:
            px, py = mv.a[0] + (mv.b[0] - mv.a[0]) * t, mv.a[1] + (mv.b[1] - mv.a[1]) * t
        else:
            a0 = math.atan2(mv.a[1] - mv.center[1], mv.a[0] - mv.center[0])
            rad = math.dist(mv.a[:2], mv.center)
            px, py = mv.center[0] + rad * np.cos(a0 + mv.sweep * t), mv.center[1] + rad * np.sin(a0 + mv.sweep * t)
        pz = mv.a[2] + (mv.b[2] - mv.a[2]) * t
        want = np.minimum(torus_bottom(px, py, pz), 1.0)  # the stock's top is 1.0
        cut = want < 1.0
        assert cut.any()
        if exact:
            assert np.allclose(h[cut], want[cut], atol=2e-6), mv.line
        assert (h[cut] <= want[cut] + 1e-9).all(), mv.line  # never above the torus
        assert (h >= h_flat - 1e-12).all(), mv.line  # never below the flat end
        assert (h > h_flat + 1e-4).any(), mv.line  # and the corner is there


def replace_body(mv, body):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(mv, body=body)
