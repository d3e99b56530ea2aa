"""CAM plane geometry: arc fitting, offset rings, arcs a controller accepts (issue #14).

Each test measures the geometry against the shape it came from (a polygon, or the exact curve
a discretised outline was taken from), so a fit that turns corners into circles, a ring loop
that runs away or an arc LinuxCNC refuses shows up as a number far off its limit.
"""

from __future__ import annotations

import math
import random
import re
from types import SimpleNamespace

import numpy as np
import pytest
from cam_helpers import rounded_rect

from dfm.cam import data, filters, rs274, strategies
from dfm.cam.feeds import cutting_data
from dfm.cam.geom2d import (
    MIN_ARC_RADIUS,
    Loop,
    Pt,
    Seg,
    arc_postable,
    circle,
    fit_arcs,
    loop_box,
    loop_points,
    signed_area,
)
from dfm.cam.model import Arc, Feed, Operation, Rapid, Tool
from dfm.cam.posts import get_post
from dfm.cam.strategies import CamError

# --- measuring helpers ----------------------------------------------------------------------


def _dense(points: list[Pt], step: float = 1e-2) -> np.ndarray:
    """The closed polyline through ``points`` with every edge cut into pieces ≤ ``step``."""
    p = np.asarray(points, dtype=float)
    q = np.roll(p, -1, axis=0)
    out = []
    for a, b in zip(p, q, strict=True):
        k = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        t = np.arange(k)[:, None] / k
        out.append(a + (b - a) * t)
    return np.vstack(out)


def _to_polyline(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance of every point of ``pts`` to the closed polyline ``poly``."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    ab = b - a
    ll = np.maximum((ab * ab).sum(axis=1), 1e-300)
    out = np.empty(len(pts))
    for i in range(0, len(pts), 256):
        p = pts[i:i + 256, None, :]
        t = np.clip(((p - a) * ab).sum(axis=2) / ll, 0.0, 1.0)
        d = p - (a + t[..., None] * ab)
        out[i:i + 256] = np.sqrt((d * d).sum(axis=2)).min(axis=1)
    return out


def deviation(loop: Loop, reference: list[Pt]) -> float:
    """Largest distance between ``loop`` and the closed polyline ``reference``, both directions."""
    fitted = np.asarray(loop_points(loop, 1e-6), dtype=float)
    ref = np.asarray(reference, dtype=float)
    there = _to_polyline(_dense(list(map(tuple, fitted))), ref).max()
    back = _to_polyline(_dense(list(map(tuple, ref))), fitted).max()
    return float(max(there, back))


def _regular(n: int, r: float, cx: float = 0.0, cy: float = 0.0, phase: float = 0.3) -> list[Pt]:
    return [(cx + r * math.cos(phase + 2 * math.pi * k / n), cy + r * math.sin(phase + 2 * math.pi * k / n))
            for k in range(n)]


def _arc_points(cx: float, cy: float, r: float, a0: float, a1: float, sagitta: float) -> list[Pt]:
    """Points along an arc from a0 to a1 (rad), chords of at most ``sagitta`` chord error."""
    step = 2 * math.acos(1 - sagitta / r)
    n = max(2, math.ceil(abs(a1 - a0) / step))
    return [(cx + r * math.cos(a0 + (a1 - a0) * k / n), cy + r * math.sin(a0 + (a1 - a0) * k / n))
            for k in range(n + 1)]


def _slot(cx: float, cy: float, length: float, r: float, sagitta: float) -> list[Pt]:
    """An obround (two half circles joined by straight sides), CCW."""
    right = _arc_points(cx + length / 2, cy, r, -math.pi / 2, math.pi / 2, sagitta)
    left = _arc_points(cx - length / 2, cy, r, math.pi / 2, 3 * math.pi / 2, sagitta)
    return right + left


# --- fit_arcs: polygons stay polygons --------------------------------------------------------

POLYGONS = {
    "rectangle 5x4": [(-2.5, -2.0), (2.5, -2.0), (2.5, 2.0), (-2.5, 2.0)],
    "rectangle off the origin": [(10.0, 3.0), (10.6, 3.0), (10.6, 3.2), (10.0, 3.2)],
    "square clockwise": [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)],
    "equilateral triangle": _regular(3, 1.0),
    "scalene triangle": [(0.0, 0.0), (3.0, 0.2), (0.7, 1.9)],
    "regular hexagon": _regular(6, 1.0),
    "small regular hexagon": _regular(6, 0.05, 1.0, -2.0),
    "regular octagon": _regular(8, 2.0, -1.0, 0.5),
    "small regular octagon": _regular(8, 0.1),
    "regular 12-gon": _regular(12, 1.5),
    "regular 24-gon": _regular(24, 1.5),
    # four vertices of a hexagon on one circle, closed by a straight edge
    "half hexagon": _regular(6, 1.0)[:4],
    "half octagon with a tail": _regular(8, 1.0)[:5] + [(-1.5, -1.5), (1.5, -1.5)],
}


@pytest.mark.parametrize("name", sorted(POLYGONS))
def test_fit_arcs_keeps_polygon_corners(name):
    pts = POLYGONS[name]
    loop = fit_arcs(pts)
    assert not [s for s in loop if s.is_arc], f"{name}: {loop}"
    assert len(loop) == len(pts)
    assert deviation(loop, pts) < 1e-4


def test_fit_arcs_rectangle_is_not_its_circumcircle():
    loop = fit_arcs([(-2.5, -2), (2.5, -2), (2.5, 2), (-2.5, 2)])
    corners = sorted(s.a for s in loop)
    assert corners == [(-2.5, -2.0), (-2.5, 2.0), (2.5, -2.0), (2.5, 2.0)]


# --- fit_arcs: discretised curves become arcs ----------------------------------------------


def _rr(n: int) -> tuple[list[Pt], list[Pt]]:
    coarse = [(x, y) for x, y in rounded_rect(0.4, -0.2, 3.0, 2.0, 0.3, n=n)]
    exact = [(x, y) for x, y in rounded_rect(0.4, -0.2, 3.0, 2.0, 0.3, n=500)]
    return coarse, exact


CURVES = {
    # name: (outline points, the exact curve as a dense polyline, arcs expected)
    "rounded rectangle n=8": (*_rr(8), 4),
    "rounded rectangle n=16": (*_rr(16), 4),
    "rounded rectangle n=64": (*_rr(64), 4),
    "circle r0.5 1um": (_arc_points(1.0, 0.0, 0.5, 0, 2 * math.pi, 1e-3)[:-1],
                        _arc_points(1.0, 0.0, 0.5, 0, 2 * math.pi, 1e-6)[:-1], 2),
    "circle r0.05 1um": (_arc_points(-3.0, 2.0, 0.05, 0, 2 * math.pi, 1e-3)[:-1],
                         _arc_points(-3.0, 2.0, 0.05, 0, 2 * math.pi, 1e-6)[:-1], 2),
    "circle r3 1um clockwise": (_arc_points(20.0, 5.0, 3.0, 0, -2 * math.pi, 1e-3)[:-1],
                                _arc_points(20.0, 5.0, 3.0, 0, -2 * math.pi, 1e-6)[:-1], 2),
    "slot r0.4": (_slot(0.0, 0.0, 2.0, 0.4, 1e-3), _slot(0.0, 0.0, 2.0, 0.4, 1e-6), 2),
    # a half circle closed by its diameter (a D)
    "D shape": (_arc_points(0.0, 0.0, 1.0, 0.0, math.pi, 1e-3),
                _arc_points(0.0, 0.0, 1.0, 0.0, math.pi, 1e-6), 1),
    # a square with one rounded corner and a concave arc notch in the opposite side
    "square with round corner and notch": (
        [(0.0, 0.0), (0.8, 0.0)] + _arc_points(1.0, 0.0, 0.2, math.pi, 0.0, 1e-3)[1:-1]
        + [(1.2, 0.0), (2.0, 0.0)] + _arc_points(1.6, 1.6, 0.4, 0.0, math.pi / 2, 1e-3) + [(0.0, 2.0)],
        [(0.0, 0.0), (0.8, 0.0)] + _arc_points(1.0, 0.0, 0.2, math.pi, 0.0, 1e-6)[1:-1]
        + [(1.2, 0.0), (2.0, 0.0)] + _arc_points(1.6, 1.6, 0.4, 0.0, math.pi / 2, 1e-6) + [(0.0, 2.0)], 2),
}


@pytest.mark.parametrize("name", sorted(CURVES))
def test_fit_arcs_recovers_discretised_curves(name):
    pts, exact, n_arcs = CURVES[name]
    loop = fit_arcs(pts)
    assert len([s for s in loop if s.is_arc]) == n_arcs, loop
    # the fitted loop is the curve the points were taken from, not the polyline through them
    assert deviation(loop, exact) < 1e-4
    # and it passes through every outline point
    assert _to_polyline(np.asarray(pts), np.asarray(loop_points(loop, 1e-7))).max() < 1e-4


def test_fit_arcs_keeps_a_polygon_inside_a_curved_outline():
    """Polygon corners next to discretised arcs: the arcs are found, the corners kept."""
    arc = _arc_points(0.0, 0.0, 1.0, 0.0, math.pi / 2, 1e-3)  # a quarter circle, 1 µm chords
    hexagon_part = _regular(6, 1.0, 0.0, 0.0, math.pi / 2)[:4]  # 4 concyclic vertices, 60° apart
    pts = arc + hexagon_part[1:] + [(0.0, -1.0), (1.0, -1.0)]
    loop = fit_arcs(pts)
    arcs = [s for s in loop if s.is_arc]
    assert len(arcs) == 1 and arcs[0].radius == pytest.approx(1.0, abs=1e-6)
    exact = _arc_points(0.0, 0.0, 1.0, 0.0, math.pi / 2, 1e-6) + hexagon_part[1:] + [(0.0, -1.0), (1.0, -1.0)]
    assert deviation(loop, exact) < 1e-4


def test_fit_arcs_chord_limit_is_the_outline_chord_error():
    """A regular polygon is a circle only when its chords are as short as a discretisation's."""
    for n, r in [(8, 1.0), (16, 1.0), (32, 1.0), (64, 1.0), (12, 0.05)]:
        pts = _regular(n, r)
        sag = r * (1 - math.cos(math.pi / n))
        loop = fit_arcs(pts)
        is_circle = len(loop) == 2 and all(s.is_arc for s in loop)
        assert is_circle == (sag <= 2.5e-3 and 2 * math.pi / n <= math.radians(40)), (n, r, sag)
        # a circle is only accepted where it stays within the chord error of the polygon
        assert deviation(loop, pts) <= max(sag, 0.0) + 1e-6


def test_fit_arcs_circle_is_two_half_arcs_of_the_right_size():
    pts = _arc_points(2.0, -1.0, 0.75, 0.1, 0.1 + 2 * math.pi, 1e-3)[:-1]
    loop = fit_arcs(pts)
    assert len(loop) == 2 and all(s.is_arc and s.ccw for s in loop)
    assert loop[0].c == pytest.approx((2.0, -1.0), abs=1e-6)
    assert sum(s.length for s in loop) == pytest.approx(2 * math.pi * 0.75, rel=1e-6)
    cw = fit_arcs(pts[::-1])
    assert all(s.is_arc and not s.ccw for s in cw)


def test_segments_join_end_to_end():
    for pts in [p for p, _, _ in CURVES.values()] + list(POLYGONS.values()):
        loop = fit_arcs(pts)
        for s, t in zip(loop, loop[1:] + loop[:1], strict=True):
            assert math.dist(s.b, t.a) < 1e-9
            if s.is_arc:
                assert abs(math.dist(s.b, s.c) - s.radius) < 1e-4



# --- strategies: deterministic choices -------------------------------------------------------


def _poly_loop(pts: list[Pt]) -> Loop:
    return tuple(Seg(p, q) for p, q in zip(pts, pts[1:] + pts[:1], strict=True))


def test_finish_walls_start_does_not_hang_on_the_last_bit():
    """Two equally long walls: the lead-in goes to the first, whichever is longer by 1e-13 mm."""
    from dfm.cam.model import Feed
    from dfm.cam.strategies import finish_walls

    starts = set()
    for dy in (0.0, 1e-13, -1e-13):
        loop = _poly_loop([(-1.2, -0.75), (1.2, -0.75), (1.2 + dy, 0.75), (-1.2, 0.75)])  # top longer by dy
        steps = finish_walls([loop], z_top=1.0, z_floor=0.9, ap=0.2, allowance=0.02, retract_z=1.5)
        lead = next(s for s in steps if isinstance(s, Feed) and s.role == "lead")
        starts.add((round(lead.x, 9), round(lead.y, 9)))
    assert starts == {(0.0, -0.75)}


# --- offset rings: a pocket with an island --------------------------------------------------

def _square(cx: float, cy: float, s: float) -> Loop:
    return _poly_loop([(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)])


ISLANDS = {
    "square in the middle": _square(0.0, 0.0, 0.5),
    "triangle": _poly_loop([(0.5, 0.6), (-0.1, -0.5), (1.1, -0.5)]),
    "square 0.3 from the wall": _square(2.3, 0.0, 0.4),
    "square 0.05 from the wall": _square(2.55, 0.2, 0.4),
    "circle in a corner": circle((2.4, 1.4), 0.3),
}
OUTER = fit_arcs(rounded_rect(0.0, 0.0, 6.0, 4.0, 0.5))


def _moves_box(steps) -> tuple[float, float, float, float]:
    """Box of every position the steps reach, arcs with their extreme points."""
    segs = []
    pos = None
    for s in steps:
        if isinstance(s, Rapid | Feed | Arc):
            if pos is not None:
                segs.append(Seg(pos, (s.x, s.y), (s.cx, s.cy), s.ccw) if isinstance(s, Arc) else Seg(pos, (s.x, s.y)))
            pos = (s.x, s.y)
    return loop_box([segs])


@pytest.mark.parametrize("name", sorted(ISLANDS))
def test_rings_round_an_island_shrink_inside_the_pocket_box(name):
    first, step = 0.27, 0.2
    rs = strategies.rings(OUTER, [ISLANDS[name]], first, step, max_rings=100)
    x0, y0, x1, y1 = loop_box([OUTER])
    assert 0 < len(rs) <= math.ceil((min(x1 - x0, y1 - y0) / 2 - first) / step) + 1
    areas = []
    for k, loops in enumerate(rs):
        d = first + k * step
        bx0, by0, bx1, by1 = loop_box(loops)
        assert bx0 >= x0 + d - 1e-6 and by0 >= y0 + d - 1e-6 and bx1 <= x1 - d + 1e-6 and by1 <= y1 - d + 1e-6
        areas.append(sum(signed_area(lp) for lp in loops))
    assert all(b < a for a, b in zip(areas, areas[1:], strict=False)), areas
    steps = strategies.clear_region(OUTER, [ISLANDS[name]], z_top=1.0, z_floor=0.8, tool_radius=0.25, ap=0.1,
                                    stepover=0.2, allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0,
                                    retract_z=1.5)
    mx0, my0, mx1, my1 = _moves_box(steps)
    assert mx0 >= x0 + 0.27 - 1e-6 and my0 >= y0 + 0.27 - 1e-6 and mx1 <= x1 - 0.27 + 1e-6 and my1 <= y1 - 0.27 + 1e-6
    assert len(steps) < 2000


def test_profile_region_round_a_part_with_an_island_in_its_pocket():
    """The profile's region: a box minus the part's outlines, one of them an island in a pocket.

    The island's outline lies inside the block's: it takes nothing more from the region. Given
    to the kernel as a hole of the face, it made the rings grow without end (to ±2.4 m).
    """
    big = _square(0.0, 0.0, 8.0)
    block = _poly_loop([(-5.0, -4.0), (5.0, -4.0), (5.0, 4.0), (-5.0, 4.0)])
    island = _square(0.3, 0.0, 0.5)
    rs = strategies.rings(big, [block, island], 0.51, 0.4, max_rings=60)
    assert 0 < len(rs) <= math.ceil((16 / 2 - 0.51) / 0.4) + 1
    for k, loops in enumerate(rs):
        d = 0.51 + k * 0.4
        bx0, by0, bx1, by1 = loop_box(loops)
        assert bx0 >= -8 + d - 1e-6 and bx1 <= 8 - d + 1e-6 and by0 >= -8 + d - 1e-6 and by1 <= 8 - d + 1e-6
        for lp in loops:  # nothing of the region is inside the block
            assert not strategies.Region([block]).contains(lp[0].a)


def test_rings_refuse_an_offset_that_grows(monkeypatch):
    """A kernel offset that comes back larger than the ring before is an error, not a toolpath."""
    real = strategies.offset
    calls = []

    def flaky(outer, holes, distance):
        calls.append(distance)
        return real(outer, holes, distance if len(calls) < 3 else -distance)

    monkeypatch.setattr(strategies, "offset", flaky)
    with pytest.raises(CamError, match="does not shrink"):
        strategies.rings(OUTER, [], 0.27, 0.2)
    assert len(calls) == 3


def test_island_crossing_the_wall_never_sends_the_tool_outside():
    """Refused (a kernel offset that does not shrink the region), or cleared inside the pocket and off the island:
    with the outline's fitted arcs made exactly tangent (geom2d.tangent_joins) the kernel's offset is right."""
    crossing = _square(2.8, 0.0, 0.4)  # pokes 0.2 mm through the pocket's right wall
    try:
        steps = strategies.clear_region(OUTER, [crossing], z_top=1.0, z_floor=0.8, tool_radius=0.25, ap=0.1,
                                        stepover=0.2, allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0,
                                        retract_z=1.5)
    except CamError as err:
        assert "does not shrink" in str(err)
        return
    mx0, my0, mx1, my1 = _moves_box(steps)
    assert mx0 >= -3 + 0.27 - 1e-6 and my0 >= -2 + 0.27 - 1e-6 and mx1 <= 3 - 0.27 + 1e-6 and my1 <= 2 - 0.27 + 1e-6
    grown = strategies.Region(strategies.offset(crossing, [], 0.27 - 1e-6))
    for st in steps:
        if isinstance(st, Feed | Arc) and st.z < 1.0:
            assert not grown.contains((st.x, st.y)), st


@pytest.mark.parametrize("outline", [
    [(2.15, -0.2), (2.95, -0.2), (2.95, 0.6), (2.15, 0.6)],  # a square island 0.05 mm from the wall
    [(2.0, -1.0), (2.9, 0.0), (2.0, 1.0)],  # a triangle 0.1 mm from it
])
def test_island_outline_near_a_wall_is_cleared_inside_the_pocket(outline):
    """Outline points as docs/features.md gives them, through fit_arcs as the planner reads them.

    Fitted as its circumcircle, the island crossed the pocket's wall and the kernel's offset
    of that region sent the tool outside the pocket.
    """
    pocket = fit_arcs([(-3.0, -2.0), (3.0, -2.0), (3.0, 2.0), (-3.0, 2.0)])
    island = fit_arcs(outline)
    steps = strategies.clear_region(pocket, [island], z_top=1.0, z_floor=0.8, tool_radius=0.15, ap=0.1,
                                    stepover=0.12, allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0,
                                    retract_z=1.5)
    mx0, my0, mx1, my1 = _moves_box(steps)
    assert mx0 >= -3 + 0.17 - 1e-6 and my0 >= -2 + 0.17 - 1e-6 and mx1 <= 3 - 0.17 + 1e-6 and my1 <= 2 - 0.17 + 1e-6
    # and the tool centre keeps its distance from the island's sides
    for s in steps:
        if isinstance(s, Feed | Arc) and s.z < 1.0:
            assert not strategies.Region([island]).contains((s.x, s.y))


# --- arcs a controller accepts ---------------------------------------------------------------

needs_rs274 = pytest.mark.skipif(rs274.available() is None,
                                 reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")


def _tool() -> Tool:
    cutter = next(c for c in data.load_catalogue() if c.kind == "square" and c.diameter_mm == 0.5)
    return Tool(1, cutter)


def _post(steps, post: str = "linuxcnc", safe_z: float = 3.0) -> tuple[str, list]:
    """The steps as the planner and the renderer hand them to a post: filtered, sequenced, posted."""
    tool = _tool()
    cd = cutting_data(tool.cutter, data.load_material("6061-T6"), data.load_settings())
    out = filters.safe_height(steps, safe_z)
    out = filters.no_plunge(out, tool)
    out = filters.feeds(out, cd, tool, 3000.0)
    seq = filters.sequence([Operation("t", "pocket", (), tool, cd, tuple(out))], safe_z)
    if not get_post(post).canned_cycles:
        seq = filters.expand_drill_cycles(seq)
    return get_post(post).format("t", ["dfm test"], seq, safe_z), seq


def _refused_arcs(text: str) -> list[str]:
    """G2/G3 lines a controller refuses, its radii computed from the written numbers.

    LinuxCNC 2.9 (interp_arc.cc arc_data_ijk): radius < 0.00127 mm, or end radius off by more
    than 0.1 % or 0.0283 mm; grbl 1.1: off by more than 0.005 mm and 0.1 %. The strictest of them.
    """
    pos = None
    bad = []
    for line in text.splitlines():
        code = line.split("(")[0]
        words = {k: float(v) for k, v in re.findall(r"([XYZIJ])(-?\d+\.?\d*)", code)}
        g = re.match(r"\s*G([0123])\b", code)
        if g and g.group(1) in "23" and pos is not None:
            cx, cy = pos[0] + words["I"], pos[1] + words["J"]
            r1 = math.hypot(pos[0] - cx, pos[1] - cy)
            r2 = math.hypot(words["X"] - cx, words["Y"] - cy)
            if min(r1, r2) < 0.00127 or abs(r1 - r2) > min(0.001 * max(r1, r2), 0.005):
                bad.append(line)
        if g and "X" in words and "Y" in words:
            pos = (words["X"], words["Y"])
    return bad


def _run(text: str):
    return rs274.run(text, SimpleNamespace(tools=(_tool(),)))  # type: ignore[arg-type]


def test_ramped_small_rings_post_arcs_every_controller_accepts():
    """Rings of 0.02-0.3 mm, ramped into from anywhere: each arc as written is the arc meant.

    The ramp ends where its length runs out, mid-arc, so the ring's closing arc ends at an
    arbitrary point; rounded to 4 decimals its end radius was off by up to 0.3 % of a small
    radius (LinuxCNC: "Radius to end of arc differs from radius to start").
    """
    rng = random.Random(7)
    texts = []
    for _ in range(150):
        c = (round(rng.uniform(-3, 3), 3), round(rng.uniform(-3, 3), 3))
        ring = rng.uniform(0.02, 0.3)
        steps = strategies.clear_region(circle(c, 0.27 + ring), [], z_top=1.0, z_floor=0.95, tool_radius=0.25,
                                        ap=0.05, stepover=0.4, allowance=0.02, floor_allowance=0.0,
                                        ramp_angle_deg=2.0, retract_z=1.5)
        arcs = [s for s in steps if isinstance(s, Arc)]
        # the ring's circle is put on the posts' grid (strategies._on_post_grid): its radius within
        # 0.2 um of the offset's, never larger (the tool never nearer the wall)
        assert arcs and all(ring - 2e-4 <= math.hypot(s.x - s.cx, s.y - s.cy) <= ring + 1e-9 for s in arcs)
        assert _strategy_arcs_postable(steps)  # the steps the simulation reads are the ones posted
        text, _ = _post(steps)
        assert not _refused_arcs(text), _refused_arcs(text)[:3]
        texts.append(text)
    if rs274.available():
        for text in texts[:10]:
            run = _run(text)
            assert run.ok, run.errors


def _strategy_arcs_postable(steps) -> bool:
    pos = None
    for s in steps:
        if isinstance(s, Arc) and not arc_postable(pos, (s.x, s.y), (s.cx, s.cy), s.ccw):
            return False
        if isinstance(s, Rapid | Feed | Arc):
            pos = (s.x, s.y)
    return True


def _ring_pocket(ring: float, tool_radius: float = 0.25, step: float = 0.2, n: int = 3) -> Loop:
    """A round pocket whose n-th ring (after the first) has radius ``ring``."""
    return circle((0.3137, -0.2113), tool_radius + 0.02 + n * step + ring)


def test_final_speck_ring_is_not_cut():
    """A last ring of radius 0.4 µm: every point of it is within the stepover of the ring before.

    Cut as arcs, it was "Zero-radius arc" to LinuxCNC (radius below 0.00127 mm) at F0.7; ramped
    into, a helix of hundreds of turns. Ring 3 at 0.2 mm already cuts there (tool radius 0.25).
    """
    pocket = _ring_pocket(0.0004)
    steps = strategies.clear_region(pocket, [], z_top=1.0, z_floor=0.9, tool_radius=0.25, ap=0.05, stepover=0.2,
                                    allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0, retract_z=1.5)
    radii = [math.hypot(s.x - s.cx, s.y - s.cy) for s in steps if isinstance(s, Arc)]
    assert min(radii) >= 0.2 - 1e-6
    assert len(steps) < 100
    text, _ = _post(steps)
    assert not _refused_arcs(text)
    # every point of the pocket's centre region was passed within the tool radius
    centre = pocket[0].c
    assert min(math.dist((s.x, s.y), centre) for s in steps if isinstance(s, Feed | Arc)) <= 0.25


def test_speck_ring_beyond_the_tools_reach_is_visited():
    """Rings further apart than the tool radius: the speck is cut by a straight link to it."""
    pocket = _ring_pocket(0.0004, step=0.3)
    steps = strategies.clear_region(pocket, [], z_top=1.0, z_floor=0.9, tool_radius=0.25, ap=0.05, stepover=0.3,
                                    allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0, retract_z=1.5)
    assert not [s for s in steps if isinstance(s, Arc) and math.hypot(s.x - s.cx, s.y - s.cy) < 0.1]
    centre = pocket[0].c
    visits = [s for s in steps if isinstance(s, Feed) and s.role == "link" and math.dist((s.x, s.y), centre) < 4e-4]
    assert len(visits) == 2  # one per depth
    assert all(isinstance(s, Feed) and s.role == "link" for s in steps if isinstance(s, Feed) and
               math.dist((s.x, s.y), centre) < 4e-4)


def test_speck_first_ring_is_refused_not_plunged():
    pocket = circle((0.0, 0.0), 0.25 + 0.02 + 0.0004)
    with pytest.raises(CamError, match="plunge"):
        strategies.clear_region(pocket, [], z_top=1.0, z_floor=0.9, tool_radius=0.25, ap=0.05, stepover=0.2,
                                allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0, retract_z=1.5)


def test_postable_arcs_stage_turns_refused_arcs_into_chords_never_drops_them():
    c = (0.12345, -0.54321)
    start = (c[0] + 0.0004, c[1])
    tiny_turn = (c[0] + math.cos(1e-6), c[1] + math.sin(1e-6))
    # radius 0.02 from (0.02, 0) through 1 rad: the end written as (0.0108, 0.0168) is 0.14 % inside
    off_end = (0.02 * math.cos(1.0), 0.02 * math.sin(1.0))
    steps = [
        Rapid(start[0], start[1], 1.0),
        Arc(start[0], start[1], 0.9, c[0], c[1], True, "ramp"),  # a full helix turn of radius 0.4 µm
        Feed(c[0] + 1.0, c[1], 0.9),
        Arc(tiny_turn[0], tiny_turn[1], 0.9, c[0], c[1], True),  # 1 µrad; written, start = end: a full circle
        Feed(0.02, 0.0, 0.9),
        Arc(off_end[0], off_end[1], 0.85, 0.0, 0.0, True),  # helical, its end radius off once written
        Feed(1.0, 1.0, 0.85),
        Arc(1.0, 3.0, 0.85, 1.0, 2.0, True),  # a good half circle: kept as it is
    ]
    bad = {1: steps[0], 3: steps[2], 5: steps[4]}
    for i, prev in bad.items():
        s = steps[i]
        assert not arc_postable((prev.x, prev.y), (s.x, s.y), (s.cx, s.cy), s.ccw)
    out = filters.postable_arcs(steps)
    assert [s for s in out if isinstance(s, Arc)] == [steps[-1]]
    # every step's end is still reached, in order, and between them only the chords of its arc
    got = [(s.x, s.y, s.z) for s in out]
    k = 0
    for i, s in enumerate(steps):
        j = got.index((s.x, s.y, s.z), k)
        pieces = out[k:j + 1]
        if i in bad:
            prev = bad[i]
            assert len(pieces) >= 1 and all(isinstance(p, Feed) and p.role == s.role for p in pieces)
            r = math.dist((prev.x, prev.y), (s.cx, s.cy))
            zs = [prev.z] + [p.z for p in pieces]
            assert all(b <= a + 1e-12 for a, b in zip(zs, zs[1:], strict=False))  # z falls evenly, never rises
            pts = [(prev.x, prev.y)] + [(p.x, p.y) for p in pieces]
            for a, b in zip(pts, pts[1:], strict=False):  # each chord's middle within 0.1 µm of the arc
                mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                assert abs(math.dist(mid, (s.cx, s.cy)) - r) <= 1e-4 + 1e-12
                assert abs(math.dist(b, (s.cx, s.cy)) - r) <= 1e-9
            if i == 1:  # the full turn goes all the way round
                angles = {round(math.atan2(p[1] - c[1], p[0] - c[0]), 3) for p in pts}
                assert len(angles) >= 4
            if i == 3:  # the 1 µrad arc stays 1 µrad long
                assert sum(math.dist(a, b) for a, b in zip(pts, pts[1:], strict=False)) < 1e-5
        else:
            assert pieces == [s]
        k = j + 1
    text, seq = _post(steps)
    assert not _refused_arcs(text)
    assert [(a.x, a.y, a.cx, a.cy) for a in seq if isinstance(a, Arc)] == [(1.0, 3.0, 1.0, 2.0)]
    assert "G3" in text


def test_arc_postable_minimum_radius_is_linuxcncs():
    assert not arc_postable((0.0006, 0.0), (0.0006, 0.0), (0.0, 0.0), True)
    assert not arc_postable((1.0, 0.0), (0.0, 1.0 + 0.0011), (0.0, 0.0), True)  # end radius 0.11 % off
    assert arc_postable((1.0, 0.0), (0.0, 1.0 + 0.0009), (0.0, 0.0), True)
    assert arc_postable((MIN_ARC_RADIUS, 0.0), (-MIN_ARC_RADIUS, 0.0), (0.0, 0.0), True)


@needs_rs274
@pytest.mark.rs274
@pytest.mark.parametrize("post", ["linuxcnc", "fanuc", "grbl"])
def test_rs274_refuses_what_arc_postable_refuses_and_takes_the_chords(post):
    """The arcs LinuxCNC refuses are refused here too; their chords run."""
    refused = [((0.0006, 0.0), (0.0006, 0.0), (0.0, 0.0)),  # "Zero-radius arc"
               ((20.0, 0.0), (0.0, 20.03), (0.0, 0.0))]  # "Radius to end of arc differs from radius to start"
    for a, b, c in refused:
        assert not arc_postable(a, b, c, True)
        raw = f"%\nG21 G90 G17 G94\nF100\nG0 X{a[0]:.4f} Y{a[1]:.4f} Z0\nG3 X{b[0]:.4f} Y{b[1]:.4f} " \
              f"I{c[0] - a[0]:.4f} J{c[1] - a[1]:.4f}\nM30\n%\n"
        assert not _run(raw).ok
        steps = [Rapid(a[0], a[1], 1.0), Feed(a[0], a[1], 0.5, "descend"), Arc(b[0], b[1], 0.5, c[0], c[1], True)]
        text, _ = _post(steps, post)
        assert "G3" not in text
        run = _run(text)
        assert run.ok, run.errors


def test_thread_mill_leads_post_arcs_every_controller_accepts():
    """A lead-in half circle of radius R/2: written from the axis, its centre offset rounds apart
    from its end point's (R = 0.0313: I0.0156 or I0.0157 against X+0.0313)."""
    for rad in (0.0313, 0.0517, 0.1001, 0.2125, 0.30005):
        steps = strategies.thread_mill(1.0, -1.0, radii=[rad], pitch=0.2, z_low=1.0, z_top=2.0, right_hand=True,
                                       retract_z=2.5)
        assert _strategy_arcs_postable(steps)
        text, _ = _post(steps)
        assert not _refused_arcs(text), (rad, _refused_arcs(text)[:2])


# --- classify: which loops are islands ---------------------------------------------------------


def test_classify_an_island_close_to_an_arc_of_the_boundary():
    """An island loop starting 0.5 µm inside a round boundary, between the boundary's 1 µm chords.

    Tested against the chords, its first point was outside the boundary: the island was taken
    for a boundary and cut counter-clockwise (conventional milling round it).
    """
    outer = circle((0.0, 0.0), 1.0)
    a = math.pi / 72  # half-way between chord vertices of a 1 µm polygon of the circle
    p = (0.9995 * math.cos(a), 0.9995 * math.sin(a))
    island = _poly_loop([p, (p[0] - 0.2, p[1] + 0.01), (p[0] - 0.2, p[1] - 0.03)])
    got = strategies.classify([outer, island])
    assert signed_area(got[0]) > 0 and signed_area(got[1]) < 0
    got = strategies.classify([island, outer])
    assert signed_area(got[0]) < 0 and signed_area(got[1]) > 0


def test_point_in_loop_on_a_row_through_a_vertex_with_ulps_gaps():
    """Kernel loops: a segment starts a few ulps from where the one before it ended."""
    from dfm.cam.geom2d import point_in_loop, point_in_polygon

    loop = (Seg((1.1, 1.1299999999999997), (1.37, 0.5000000000000001), (0.5, 0.5), False),
            Seg((1.37, 0.5), (1.37, -0.5)),
            Seg((1.37, -0.49999999999999994), (1.1000000000000005, -1.1299999999999997), (0.5, -0.5), False),
            Seg((1.1000000000000005, -1.13), (2.13, -1.13)),
            Seg((2.13, -1.13), (2.13, 1.1299999999999994)),
            Seg((2.13, 1.13), (1.1000000000000005, 1.13)))
    poly = loop_points(loop, 1e-7)
    for y in (-1.13, -1.1299999999999997, 1.13, 0.5, -0.5, 0.0, 1.0):
        for x in (-2.13, 1.0, 1.2, 1.5, 2.0, 3.0):
            assert point_in_loop((x, y), loop) == point_in_polygon((x, y), poly), (x, y)


def test_rings_of_a_region_split_by_an_island_are_all_boundaries():
    """Where the island meets the walls' offsets, each ring is two pieces, both boundaries (CCW)."""
    pocket = _poly_loop([(-3.0, -2.0), (3.0, -2.0), (3.0, 2.0), (-3.0, 2.0)])
    rs = strategies.rings(pocket, [_square(0.0, 0.0, 0.5)], 0.27, 0.2)
    split = [loops for loops in rs if len(loops) == 2 and all(loop_box([lp])[2] < 0 or loop_box([lp])[0] > 0
                                                              for lp in loops)]
    assert split
    for loops in split:
        assert all(signed_area(lp) > 0 for lp in loops)


# --- a part: a pocket with an island ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("island", ["square", "triangle", "near-wall"])
def test_part_with_an_island_in_a_pocket_stays_in_its_stock(tmp_path, island):
    """dfm gcode on a 10 x 8 block with a 6 x 4 pocket round an island as tall as the block.

    The profile's region is the stock box minus the part's outlines at each height, one of
    them the island inside the pocket: its rings grew to ±2.4 m (75 km of feed).
    """
    import cadquery as cq
    import generators

    from dfm.cam.gcode import generate

    body = cq.Workplane("XY").box(10, 8, 3, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").workplane(offset=2).rect(6, 4).extrude(1))
    top = cq.Workplane("XY").workplane(offset=2)  # (one sketch per part: pending wires are shared)
    if island == "square":
        shape = top.rect(1, 1)
    elif island == "triangle":
        shape = top.polyline([(0, 0.6), (-0.6, -0.5), (0.6, -0.5)]).close()
    else:
        shape = top.center(2.2, 0).rect(0.8, 0.8)
    path = generators.export_step(body.union(shape.extrude(1)), tmp_path / f"island_{island}.step")
    gen, _ = generate(path)
    su = gen.program.setups[0]
    assert not su.unmachined, su.unmachined
    pocket_ops = [op for op in su.operations if not op.name.startswith(("profile", "facing"))]
    assert pocket_ops
    feed_mm = 0.0
    for op in su.operations:
        pos = None
        for s in op.steps:
            if isinstance(s, Rapid | Feed | Arc):
                # the profile's rings run just outside the stock (2 r + allowance + 0.05 mm)
                assert su.stock_min[0] - 1.6 <= s.x <= su.stock_max[0] + 1.6, (op.name, s)
                assert su.stock_min[1] - 1.6 <= s.y <= su.stock_max[1] + 1.6, (op.name, s)
                if op in pocket_ops:
                    assert -3.0 <= s.x <= 3.0 and -2.0 <= s.y <= 2.0, (op.name, s)
                if pos is not None and not isinstance(s, Rapid):
                    feed_mm += math.dist(pos, (s.x, s.y, s.z))
                pos = (s.x, s.y, s.z)
    assert feed_mm < 20_000  # mm
    if rs274.available():
        run = _run_program(gen.files[0][1], gen.program)
        assert run.ok, run.errors
        assert not _refused_arcs(gen.files[0][1])


def _run_program(text: str, program):
    return rs274.run(text, program)


@pytest.mark.parametrize("region", ["rectangle", "circle"])
def test_clearing_stays_down_between_levels(region):
    """Between depths the tool links across the cleared depth above: no retract, no feed through air (#17).

    A convex region (a pocket, a milled hole) is entered once; every later depth starts from
    where the last one ended, by a feed at that depth and a ramp, and the tool never leaves the
    tool-centre region.
    """
    from dfm.cam.geom2d import circle
    from dfm.cam.model import Feed, Rapid

    outer = _poly_loop([(-1.5, -1.0), (1.5, -1.0), (1.5, 1.0), (-1.5, 1.0)]) if region == "rectangle" \
        else circle((0.0, 0.0), 0.15)
    r = 0.25 if region == "rectangle" else 0.1
    steps = strategies.clear_region(outer, [], z_top=1.0, z_floor=0.6, tool_radius=r, ap=0.05, stepover=0.2,
                                    allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0, retract_z=1.5)
    levels = sorted({round(s.z, 9) for s in steps if not isinstance(s, Rapid)})
    assert len(levels) > 8  # many depths
    rapids = [s for s in steps if isinstance(s, Rapid)]
    assert len(rapids) == 2, rapids  # in over the start, and out at the end
    assert len([s for s in steps if isinstance(s, Feed) and s.role == "descend"]) == 1
    region_ = strategies.Region(strategies.rings(outer, [], r + 0.02, 0.2)[0])
    for s in steps:
        if isinstance(s, Feed) and s.role == "link":
            assert region_.segment_inside((s.x, s.y), (s.x, s.y), 1.0, on_edge=2e-4)  # in, or on its edge


@pytest.mark.parametrize("d", [-0.5, -1.5, -1.502, 0.4])
def test_offset_of_a_ring_round_a_concentric_boss(d):
    """OCCT's offset gives nothing for a circle round a concentric circle (its bisector is a circle):
    dfm offsets each loop alone and subtracts, so an O-ring groove round a boss has its tool-centre ring."""
    from dfm.cam.geom2d import circle

    c = (20.3773, 30.4621)
    loops = strategies.offset(circle(c, 8.285), [circle(c, 5.279)], d)
    radii = sorted(round(math.dist(lp[0].a, c), 6) for lp in loops)
    assert radii == pytest.approx(sorted([8.285 + d, 5.279 - d]), abs=1e-6)
    assert strategies.offset(circle(c, 8.285), [circle(c, 5.279)], -1.51) == []  # the ring is gone


def _tiny_arcs(steps) -> list:
    """Arcs whose ends are less than 0.1 um apart (a controller runs them as full circles) and not meant so."""
    pos, out = None, []
    for s in steps:
        if isinstance(s, Arc) and pos is not None and 0 < math.dist(pos, (s.x, s.y)) < 1e-7:
            out.append(s)
        if isinstance(s, Rapid | Feed | Arc):
            pos = (s.x, s.y)
    return out


@pytest.mark.parametrize("past", [0.0, 3e-11, 4e-9, 9e-8])
def test_a_ramp_ending_at_a_segments_start_leaves_no_speck_arc(past):
    """Random part 9335: a ramp round a slot's ring ran out 4e-11 mm into the next arc; the split
    left an arc that short, whose ends print the same: a full circle of 0.84 mm to a controller."""
    line = Seg((0.0, 0.0), (2.0, 0.0))
    arc = Seg((2.0, 0.0), (2.0, 1.0), (2.0, 0.5), True)
    back = Seg((2.0, 1.0), (0.0, 1.0))
    close = Seg((0.0, 1.0), (0.0, 0.0), (0.0, 0.5), True)
    loop = (line, arc, back, close)
    need = line.length + arc.length + back.length + past
    angle = 3.0
    z_to = 1.0 - need * math.tan(math.radians(angle))
    ramp, rest = strategies.ramp_on_loop(loop, 1.0, z_to, angle)
    assert not _tiny_arcs([Feed(0.0, 0.0, 1.0, "ramp", 100.0)] + ramp)
    assert all(math.dist(sg.a, sg.b) >= 1e-7 for sg in rest)
    assert math.dist(rest[0].a, close.a) < 1e-6  # the level's loop starts where the ramp ended
    assert abs(strategies.loop_length(rest) - strategies.loop_length(loop)) < 1e-6


def test_offset_loops_hold_no_segment_shorter_than_a_tenth_of_a_micrometre():
    """Random part 9348: the kernel joined a slot's straight side and its round end (traced to
    1 nm, fitted nearly tangent) by an arc 0.08 um long; posted, a full circle into the wall."""
    rng = random.Random(11)
    for _ in range(40):
        w = rng.uniform(0.5, 1.2)
        length = rng.uniform(1.0, 4.0)
        r = w / 2
        n = rng.randint(6, 24)
        pts = [(-r, 0.0), (-r, -length)]
        pts += [(r * math.cos(math.pi + math.pi * k / n), -length + r * math.sin(math.pi + math.pi * k / n))
                for k in range(1, n)]
        pts += [(r, -length), (r, 0.0)]
        pts += [(r * math.cos(math.pi * k / n), r * math.sin(math.pi * k / n)) for k in range(1, n)]
        outline = fit_arcs([(round(x, 6), round(y, 6)) for x, y in pts])  # as outlines are traced (1 nm)
        for d in (-rng.uniform(0.1, r - 0.01), -0.3 if r > 0.31 else -0.1):
            for lp in strategies.offset(outline, [], d):
                assert all(math.dist(sg.a, sg.b) >= 1e-7 for sg in lp) or len(lp) == 1
                assert all(math.dist(lp[i].b, lp[(i + 1) % len(lp)].a) < 1e-9 for i in range(len(lp)))


def test_kernel_outlines_take_whole_circles_and_arc_specks():
    """A loop of one whole-circle arc (its ends one point) and an arc a few nanometres long, as
    nist_ctc_01's sections hold: OCCT cannot make an arc through three points that close (before:
    StdFail_NotDone, and `dfm gcode` failed on the whole part). The circle is two halves, the
    speck its chord or nothing."""
    from dfm.kernel import sampling

    whole = [((1.0, 0.0), (1.0, 0.0), (0.0, 0.0), True)]
    out = sampling.offset_region(whole, [], -0.25)
    assert len(out) == 1
    pts = loop_points(tuple(Seg(*sg) for sg in out[0]), 1e-4)
    assert all(abs(math.hypot(*p) - 0.75) < 1e-6 for p in pts)
    speck = (1.0, 1.0 + 3e-9)
    square = [((0.0, 0.0), (1.0, 0.0), None, None), ((1.0, 0.0), (1.0, 1.0), None, None),
              ((1.0, 1.0), speck, (0.5, 0.5), True), (speck, (0.0, 1.0), None, None),
              ((0.0, 1.0), (0.0, 0.0), None, None)]
    out = sampling.offset_region(square, [], -0.1)
    assert len(out) == 1
    x0, y0, x1, y1 = loop_box([tuple(Seg(*sg) for sg in out[0])])
    assert abs(x0 - 0.1) < 1e-6 and abs(y0 - 0.1) < 1e-6 and abs(x1 - 0.9) < 1e-6 and abs(y1 - 0.9) < 1e-6


def test_tangent_joins_puts_arcs_exactly_tangent_and_leaves_real_steps():
    import math

    from dfm.cam.geom2d import Seg, tangent_joins

    # a rounded corner whose centre sits 0.2 um off the two sides' tangency
    c = (1.0 - 0.5, 1.0 - 0.5 + 2e-7)
    loop = (Seg((-1.0, -1.0), (1.0, -1.0)), Seg((1.0, -1.0), (1.0, 0.5)),
            Seg((1.0, 0.5), (0.5, 1.0), c, True), Seg((0.5, 1.0), (-1.0, 1.0)), Seg((-1.0, 1.0), (-1.0, -1.0)))
    fixed = tangent_joins(loop)
    arc = fixed[2]
    r = math.dist(arc.a, arc.c)
    assert math.dist(arc.b, arc.c) == pytest.approx(r, abs=1e-12)
    assert abs(arc.c[0] + r - 1.0) < 1e-12 and abs(arc.c[1] + r - 1.0) < 1e-12  # tangent to x = 1 and y = 1
    assert fixed[1].b == arc.a and fixed[3].a == arc.b and max(math.dist(p, q) for p, q in
                                                               ((arc.a, (1.0, 0.5)), (arc.b, (0.5, 1.0)))) < 1e-6
    # an arc 0.1 mm off tangency is a real step: left as it is
    off = (loop[0], loop[1], Seg((1.0, 0.5), (0.5, 1.0), (0.5, 0.6), True), loop[3], loop[4])
    assert tangent_joins(off) == off
