"""Plane geometry for toolpaths: line and arc segments, loops, arc fitting (pure Python).

A *loop* is a closed sequence of :class:`Seg` whose ends meet. Arcs carry their centre
and direction so that posts can write them as G2/G3 and the simulation can sweep them
exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Pt = tuple[float, float]

#: Points closer than this (mm) are the same point.
EPS = 1e-7


@dataclass(frozen=True)
class Seg:
    """A line (``ccw is None``) or a circular arc from ``a`` to ``b`` about ``c``.

    Attributes:
        a: Start point.
        b: End point.
        c: Arc centre (None for a line).
        ccw: True for counter-clockwise (G3), False for clockwise (G2), None for a line.
    """

    a: Pt
    b: Pt
    c: Pt | None = None
    ccw: bool | None = None

    @property
    def is_arc(self) -> bool:
        """True for an arc."""
        return self.c is not None

    @property
    def radius(self) -> float:
        """Arc radius (0 for a line)."""
        if self.c is None:
            return 0.0
        return math.dist(self.a, self.c)

    @property
    def sweep(self) -> float:
        """Signed swept angle of an arc in radians (positive CCW); 2π for a full circle."""
        if self.c is None:
            return 0.0
        a0 = math.atan2(self.a[1] - self.c[1], self.a[0] - self.c[0])
        a1 = math.atan2(self.b[1] - self.c[1], self.b[0] - self.c[0])
        d = a1 - a0
        if self.ccw:
            while d <= 1e-12:
                d += 2 * math.pi
        else:
            while d >= -1e-12:
                d -= 2 * math.pi
        return d

    @property
    def length(self) -> float:
        """Length in mm."""
        if self.c is None:
            return math.dist(self.a, self.b)
        return abs(self.sweep) * self.radius

    def reversed(self) -> Seg:
        """The same segment travelled the other way."""
        return Seg(self.b, self.a, self.c, None if self.ccw is None else not self.ccw)

    def point(self, t: float) -> Pt:
        """The point at parameter ``t`` in [0, 1] (by length)."""
        if self.c is None:
            return (self.a[0] + (self.b[0] - self.a[0]) * t, self.a[1] + (self.b[1] - self.a[1]) * t)
        a0 = math.atan2(self.a[1] - self.c[1], self.a[0] - self.c[0]) + self.sweep * t
        r = self.radius
        return (self.c[0] + r * math.cos(a0), self.c[1] + r * math.sin(a0))

    def split(self, t: float) -> tuple[Seg, Seg]:
        """Two segments meeting at parameter ``t``."""
        p = self.point(t)
        return Seg(self.a, p, self.c, self.ccw), Seg(p, self.b, self.c, self.ccw)

    def chords(self, max_err: float = 2e-4) -> list[Pt]:
        """Points along the segment (start included, end included), chord error ≤ ``max_err``."""
        if self.c is None:
            return [self.a, self.b]
        r = self.radius
        if r <= max_err:
            return [self.a, self.b]
        step = 2.0 * math.acos(max(-1.0, 1.0 - max_err / r))
        n = max(2, math.ceil(abs(self.sweep) / step))
        return [self.point(k / n) for k in range(n)] + [self.b]


Loop = tuple[Seg, ...]


def loop_length(loop: Sequence[Seg]) -> float:
    """Total length of a loop."""
    return sum(s.length for s in loop)


def loop_points(loop: Sequence[Seg], max_err: float = 2e-4) -> list[Pt]:
    """A closed polyline through the loop (first point not repeated at the end)."""
    out: list[Pt] = []
    for s in loop:
        out.extend(s.chords(max_err)[:-1])
    return out


def signed_area(loop: Sequence[Seg]) -> float:
    """Signed area (positive for a counter-clockwise loop)."""
    pts = loop_points(loop, 1e-4)
    area = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        area += x0 * y1 - x1 * y0
    return area / 2.0


def reverse_loop(loop: Sequence[Seg]) -> Loop:
    """The loop travelled the other way round."""
    return tuple(s.reversed() for s in reversed(loop))


def orient(loop: Sequence[Seg], ccw: bool) -> Loop:
    """The loop with the requested direction."""
    is_ccw = signed_area(loop) > 0
    return tuple(loop) if is_ccw == ccw else reverse_loop(loop)


def point_in_polygon(p: Pt, poly: Sequence[Pt]) -> bool:
    """Even-odd test of ``p`` against a closed polyline."""
    x, y = p
    inside = False
    n = len(poly)
    for i in range(n):
        x0, y0 = poly[i]
        x1, y1 = poly[(i + 1) % n]
        if (y0 > y) != (y1 > y):
            xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if xc > x:
                inside = not inside
    return inside


def start_nearest(loop: Sequence[Seg], p: Pt) -> Loop:
    """The same loop, restarted at its point nearest to ``p`` (splitting a segment there)."""
    best = (math.inf, 0, 0.0)
    for i, s in enumerate(loop):
        for k in range(9):
            t = k / 8
            d = math.dist(s.point(t), p)
            if d < best[0]:
                best = (d, i, t)
    _, i, t = best
    s = loop[i]
    if t <= 1e-9:
        return tuple(loop[i:]) + tuple(loop[:i])
    if t >= 1 - 1e-9:
        return tuple(loop[i + 1:]) + tuple(loop[: i + 1])
    first, second = s.split(t)
    return (second,) + tuple(loop[i + 1:]) + tuple(loop[:i]) + (first,)


def circle(center: Pt, r: float, start_angle: float = 0.0, ccw: bool = True) -> Loop:
    """A full circle as two half arcs (posts and interpreters dislike one 360° arc)."""
    cx, cy = center
    p0 = (cx + r * math.cos(start_angle), cy + r * math.sin(start_angle))
    p1 = (cx - r * math.cos(start_angle), cy - r * math.sin(start_angle))
    return (Seg(p0, p1, center, ccw), Seg(p1, p0, center, ccw))


def _circle_through(p: Pt, q: Pt, s: Pt) -> tuple[Pt, float] | None:
    ax, ay = p
    bx, by = q
    cx, cy = s
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if abs(d) < 1e-12:
        return None
    ux = ((ax * ax + ay * ay) * (by - cy) + (bx * bx + by * by) * (cy - ay) + (cx * cx + cy * cy) * (ay - by)) / d
    uy = ((ax * ax + ay * ay) * (cx - bx) + (bx * bx + by * by) * (ax - cx) + (cx * cx + cy * cy) * (bx - ax)) / d
    return (ux, uy), math.dist((ux, uy), p)


def fit_arcs(points: Sequence[Pt], tol: float = 2e-5) -> Loop:
    """Turn a closed polyline into lines and arcs.

    Runs of at least four points that lie on one circle within ``tol`` (and turn one way)
    become one arc; everything else stays a line. The outlines of docs/features.md are
    discretised curves, so this recovers the circular corners and holes for G2/G3.
    """
    pts: list[Pt] = [(float(x), float(y)) for x, y in points]
    if len(pts) > 1 and math.dist(pts[0], pts[-1]) < EPS:
        pts = pts[:-1]
    n = len(pts)
    if n < 3:
        raise ValueError("an outline needs at least three points")
    whole = _circle_through(pts[0], pts[n // 3], pts[(2 * n) // 3])
    if whole is not None and all(abs(math.dist(p, whole[0]) - whole[1]) <= tol for p in pts):
        c, r = whole
        ccw = polygon_signed_area(pts) > 0
        ang = math.atan2(pts[0][1] - c[1], pts[0][0] - c[0])
        return circle(c, r, ang, ccw)
    # Start at a corner (a point where an arc cannot continue), so arcs are not cut in two.
    start = 0
    for i in range(n):
        a, b, c = pts[i - 1], pts[i], pts[(i + 1) % n]
        fit = _circle_through(a, b, c)
        if fit is None or fit[1] > 1e3:
            start = i
            break
    pts = pts[start:] + pts[:start]
    pts.append(pts[0])
    segs: list[Seg] = []
    i = 0
    m = len(pts) - 1
    while i < m:
        best_j = i + 1
        best: tuple[Pt, float] | None = None
        j = i + 3
        while j <= m:
            fit = _circle_through(pts[i], pts[(i + j) // 2], pts[j])
            if fit is None or fit[1] > 1e3:
                break
            c, r = fit
            if any(abs(math.dist(pts[k], c) - r) > tol for k in range(i, j + 1)):
                break
            # one turning direction only, and chords short relative to the radius
            cross = [(pts[k][0] - c[0]) * (pts[k + 1][1] - c[1]) - (pts[k][1] - c[1]) * (pts[k + 1][0] - c[0])
                     for k in range(i, j)]
            if not (all(x > 0 for x in cross) or all(x < 0 for x in cross)):
                break
            if any(math.dist(pts[k], pts[k + 1]) > 1.2 * r for k in range(i, j)):
                break
            best_j, best = j, (c, r)
            j += 1
        if best is not None and best_j - i >= 3:
            c, _r = best
            ccw = ((pts[i][0] - c[0]) * (pts[i + 1][1] - c[1]) - (pts[i][1] - c[1]) * (pts[i + 1][0] - c[0])) > 0
            a, b = pts[i], pts[best_j]
            if math.dist(a, b) < EPS:  # a full circle: split in two halves
                mid = pts[(i + best_j) // 2]
                segs.append(Seg(a, mid, c, ccw))
                segs.append(Seg(mid, b, c, ccw))
            else:
                segs.append(Seg(a, b, c, ccw))
            i = best_j
        else:
            if math.dist(pts[i], pts[i + 1]) > EPS:
                segs.append(Seg(pts[i], pts[i + 1]))
            i += 1
    return tuple(segs)


def polygon_area(points: Sequence[Pt]) -> float:
    """Unsigned area of a closed polyline."""
    a = 0.0
    for (x0, y0), (x1, y1) in zip(points, list(points[1:]) + [points[0]], strict=True):
        a += x0 * y1 - x1 * y0
    return abs(a) / 2.0


def polygon_signed_area(points: Sequence[Pt]) -> float:
    """Signed area of a closed polyline (positive counter-clockwise)."""
    a = 0.0
    for (x0, y0), (x1, y1) in zip(points, list(points[1:]) + [points[0]], strict=True):
        a += x0 * y1 - x1 * y0
    return a / 2.0
