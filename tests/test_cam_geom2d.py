"""CAM plane geometry: arc fitting, offset rings, arcs a controller accepts (issue #14).

Each test measures the geometry against the shape it came from (a polygon, or the exact curve
a discretised outline was taken from), so a fit that turns corners into circles, a ring loop
that runs away or an arc LinuxCNC refuses shows up as a number far off its limit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from cam_helpers import rounded_rect

from dfm.cam.geom2d import Loop, Pt, Seg, fit_arcs, loop_points

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
