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

#: Decimals the posts write coordinates and I/J with (:func:`dfm.cam.posts.base.num`).
POST_DIGITS = 4

#: Smallest arc radius posted (mm). LinuxCNC refuses an I/J arc whose start or end radius is
#: below RADIUS_TOLERANCE_MM = 0.00005 in = 0.00127 mm ("Zero-radius arc", interp_arc.cc
#: arc_data_ijk); twice that here.
MIN_ARC_RADIUS = 0.0025

#: Largest end-radius error of a posted arc, relative to its radius and absolute (mm).
#: LinuxCNC 2.9 refuses |r_end - r_start| above 0.1 % of the radius (SPIRAL_RELATIVE_TOLERANCE)
#: or above CENTER_ARC_RADIUS_TOLERANCE_MM = 0.0283 mm ("Radius to end of arc differs from
#: radius to start"); grbl 1.1 refuses more than 0.005 mm and 0.1 %. Both bounds: the check
#: below computes the radii from the same decimals the controller reads.
ARC_RADIUS_REL = 0.001
ARC_RADIUS_ABS = 0.005


def _posted(x: float, digits: int) -> float:
    return float(f"{x:.{digits}f}")


def arc_postable(a: Pt, b: Pt, c: Pt, ccw: bool, digits: int = POST_DIGITS) -> bool:
    """True if the arc ``a`` → ``b`` about ``c``, written as a post writes it, is the same arc to a controller.

    The post writes the end point and the centre offset I/J from the exact start, each rounded
    to ``digits`` decimals; the controller reads the rounded start it was left at. The arc is
    refused (False) when the radius is below :data:`MIN_ARC_RADIUS`, when the two radii the
    controller computes differ by more than :data:`ARC_RADIUS_REL` or :data:`ARC_RADIUS_ABS`,
    or when rounding turns a short arc into a full circle (or a full circle into a short arc).
    """
    s = (_posted(a[0], digits), _posted(a[1], digits))
    e = (_posted(b[0], digits), _posted(b[1], digits))
    cc = (s[0] + _posted(c[0] - a[0], digits), s[1] + _posted(c[1] - a[1], digits))
    r1, r2 = math.dist(cc, s), math.dist(cc, e)
    if min(r1, r2, math.dist(a, c)) < MIN_ARC_RADIUS:
        return False
    if abs(r1 - r2) > min(ARC_RADIUS_REL * max(r1, r2), ARC_RADIUS_ABS) * (1.0 - 1e-9):
        return False
    whole = math.dist(a, b) < EPS
    if whole != (s == e):
        return False
    if not whole:  # the swept angle as written is the swept angle meant (no wrap past 0 or 2π)
        meant = Seg(a, b, c, ccw).sweep
        read = Seg(s, e, cc, ccw).sweep
        if abs(meant - read) > math.pi / 2:
            return False
    return True


def postable(seg: Seg, digits: int = POST_DIGITS, max_err: float = 1e-4) -> list[Seg]:
    """``seg`` itself when a controller reads it as written; otherwise lines within ``max_err``.

    Lines are always postable. An arc that :func:`arc_postable` refuses becomes its chords
    (chord error ≤ ``max_err``, 0.1 µm by default), never nothing: a tiny arc becomes at least
    the line from its start to its end.
    """
    if seg.c is None or seg.ccw is None or arc_postable(seg.a, seg.b, seg.c, seg.ccw, digits):
        return [seg]
    pts = seg.chords(max_err)
    return [Seg(p, q) for p, q in zip(pts, pts[1:], strict=False) if math.dist(p, q) > 0.0] or [Seg(seg.a, seg.b)]


def loop_length(loop: Sequence[Seg]) -> float:
    """Total length of a loop."""
    return sum(s.length for s in loop)


def loop_points(loop: Sequence[Seg], max_err: float = 2e-4) -> list[Pt]:
    """A closed polyline through the loop (first point not repeated at the end)."""
    out: list[Pt] = []
    for s in loop:
        out.extend(s.chords(max_err)[:-1])
    return out


def loop_box(loops: Sequence[Sequence[Seg]]) -> tuple[float, float, float, float]:
    """Exact bounding box (x0, y0, x1, y1) of the loops: an arc counts with its extreme points."""
    xs: list[float] = []
    ys: list[float] = []
    for loop in loops:
        for s in loop:
            xs += [s.a[0], s.b[0]]
            ys += [s.a[1], s.b[1]]
            if s.c is None:
                continue
            r = s.radius
            a0 = math.atan2(s.a[1] - s.c[1], s.a[0] - s.c[0])
            sweep = s.sweep
            for k in range(4):  # the arc reaches the axis directions it sweeps over
                q = k * math.pi / 2
                t = (q - a0) % (2 * math.pi) if sweep > 0 else (a0 - q) % (2 * math.pi)
                if t <= abs(sweep):
                    xs.append(s.c[0] + r * math.cos(q))
                    ys.append(s.c[1] + r * math.sin(q))
    return min(xs), min(ys), max(xs), max(ys)


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


def _y_monotonic(s: Seg) -> list[tuple[Pt, Pt]]:
    """``s`` cut where an arc turns in y (at its top and bottom): pieces whose y only rises or falls."""
    if s.c is None:
        return [(s.a, s.b)]
    a0 = math.atan2(s.a[1] - s.c[1], s.a[0] - s.c[0])
    sweep = s.sweep
    ts = []
    for q in (math.pi / 2, -math.pi / 2):
        u = (q - a0) % (2 * math.pi) if sweep > 0 else (a0 - q) % (2 * math.pi)
        if 0.0 < u < abs(sweep):
            ts.append(u / abs(sweep))
    pts = [s.a] + [s.point(t) for t in sorted(ts)] + [s.b]
    return list(zip(pts, pts[1:], strict=False))


def point_in_loop(p: Pt, loop: Sequence[Seg]) -> bool:
    """Even-odd test of ``p`` against the exact lines and arcs of a closed loop (no chords).

    Which side of ``p``'s row a piece starts on is read from where the piece before it ended,
    so a row through a vertex whose two segments end a few ulps apart is counted once.
    """
    x, y = p
    inside = False
    pieces = [(s, a, b) for s in loop for a, b in _y_monotonic(s)]
    for k, (s, a, b) in enumerate(pieces):
        start_above = pieces[k - 1][2][1] > y
        if start_above == (b[1] > y):
            continue
        if s.c is None:  # (the row may cross in the gap before a: then at a)
            dy = b[1] - a[1]
            t = min(1.0, max(0.0, (y - a[1]) / dy)) if dy != 0.0 else 0.0
            xc = a[0] + t * (b[0] - a[0])
        else:  # a piece between the arc's top and bottom lies on one side of its centre
            half = math.sqrt(max(0.0, s.radius ** 2 - (y - s.c[1]) ** 2))
            xc = s.c[0] + half if a[0] + b[0] > 2 * s.c[0] else s.c[0] - half
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
    # relative to p: far from the origin, absolute squares would cancel away the digits
    bx, by = q[0] - p[0], q[1] - p[1]
    cx, cy = s[0] - p[0], s[1] - p[1]
    d = 2 * (bx * cy - by * cx)
    if abs(d) < 1e-12:
        return None
    b2, c2 = bx * bx + by * by, cx * cx + cy * cy
    ux = (cy * b2 - by * c2) / d
    uy = (bx * c2 - cx * b2) / d
    return (p[0] + ux, p[1] + uy), math.hypot(ux, uy)


#: Chord error of the outlines fit_arcs reads (mm): docs/features.md props.outline is a 1 µm
#: deflection discretisation (GCPnts_QuasiUniformDeflection keeps every chord's sagitta at or
#: below it), with room for coarser synthetic outlines. A chord that bulges further from the
#: circle through its neighbours is a straight edge of the part, not a piece of that circle.
MAX_SAGITTA = 2.5e-3

#: Largest angle (rad) one chord of a discretised curve may span. Regular polygons (square 90°,
#: hexagon 60°, octagon 45°) have concyclic vertices; their edges are longer than this.
MAX_CHORD_ANGLE = math.radians(40.0)


#: Circles larger than this (mm) through three outline points are a straight run, not an arc.
MAX_ARC_RADIUS = 1e3


def _arc_run_turn(pts: Sequence[Pt], c: Pt, r: float, tol: float, max_sagitta: float) -> float | None:
    """The signed angle (rad, CCW) ``pts`` turn about ``c`` if they can be one arc of the circle.

    They can be a discretisation of an arc of the circle (c, r) when every point lies on it
    within ``tol``, the points turn one way about ``c``, and every chord is short: it spans at
    most :data:`MAX_CHORD_ANGLE` and the arc over it stays within ``max_sagitta`` of the chord
    (so the arc stays that close to the polyline). None when they cannot.
    """
    if len(pts) < 2 or r <= tol:
        return None
    if any(abs(math.dist(p, c) - r) > tol for p in pts):
        return None
    sign = 0
    total = 0.0
    for p, q in zip(pts, pts[1:], strict=False):
        cross = (p[0] - c[0]) * (q[1] - c[1]) - (p[1] - c[1]) * (q[0] - c[0])
        dot = (p[0] - c[0]) * (q[0] - c[0]) + (p[1] - c[1]) * (q[1] - c[1])
        s = 1 if cross > 0 else -1 if cross < 0 else 0
        if s == 0 or (sign and s != sign):
            return None
        sign = s
        angle = math.atan2(abs(cross), dot)  # the chord's angle at the centre, 0..π
        if angle > MAX_CHORD_ANGLE or r * (1.0 - math.cos(angle / 2.0)) > max_sagitta:
            return None
        total += s * angle
    return total


def fit_arcs(points: Sequence[Pt], tol: float = 2e-5, max_sagitta: float = MAX_SAGITTA) -> Loop:
    """Turn a closed polyline into lines and arcs.

    Runs of at least four points that can be a discretisation of one arc become that arc:
    every point on the circle within ``tol``, one turning direction, and short chords (see
    :func:`_arc_run_turn`). Everything else stays a line, so a polygon whose vertices happen
    to be concyclic (every rectangle, triangle and regular polygon) keeps its corners. The
    outlines of docs/features.md are discretised curves, so this recovers the circular
    corners and holes for G2/G3.
    """
    pts: list[Pt] = [(float(x), float(y)) for x, y in points]
    if len(pts) > 1 and math.dist(pts[0], pts[-1]) < EPS:
        pts = pts[:-1]
    n = len(pts)
    if n < 3:
        raise ValueError("an outline needs at least three points")
    whole = _circle_through(pts[0], pts[n // 3], pts[(2 * n) // 3])
    if whole is not None and n >= 4:
        c, r = whole
        turn = _arc_run_turn(pts + [pts[0]], c, r, tol, max_sagitta)
        if turn is not None and abs(abs(turn) - 2 * math.pi) < 1e-6:
            ang = math.atan2(pts[0][1] - c[1], pts[0][0] - c[0])
            return circle(c, r, ang, turn > 0)
    # Start at a corner (a point where an arc cannot continue), so arcs are not cut in two.
    start = 0
    for i in range(n):
        a, b, c3 = pts[i - 1], pts[i], pts[(i + 1) % n]
        fit = _circle_through(a, b, c3)
        if fit is None or fit[1] > MAX_ARC_RADIUS or _arc_run_turn([a, b, c3], *fit, tol, max_sagitta) is None:
            start = i
            break
    pts = pts[start:] + pts[:start]
    pts.append(pts[0])
    segs: list[Seg] = []
    i = 0
    m = len(pts) - 1
    while i < m:
        best_j = i + 1
        best: tuple[Pt, float, bool] | None = None
        j = i + 3
        while j <= m:
            fit = _circle_through(pts[i], pts[(i + j) // 2], pts[j])
            if fit is None or fit[1] > MAX_ARC_RADIUS:
                break
            turn = _arc_run_turn(pts[i:j + 1], fit[0], fit[1], tol, max_sagitta)
            if turn is None:
                break
            best_j, best = j, (fit[0], fit[1], turn > 0)
            j += 1
        if best is not None:
            c, _r, ccw = best
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


#: Largest move (mm) :func:`tangent_joins` makes to put an arc exactly tangent to the lines beside it.
TANGENT_TOL = 1e-5


def tangent_joins(loop: Sequence[Seg], tol: float = TANGENT_TOL) -> Loop:
    """``loop`` with each arc between two lines made exactly tangent to both (moves of at most ``tol``).

    An outline fitted to points rounded to 1 um (a rounded-corner pocket turned 30 deg) has arcs
    whose centres sit 0.2 um off the lines' tangency: OCCT's offset then gives one open line
    instead of the region for every distance past the corner radius (the pocket was listed as not
    machined). The arc keeps its radius; its centre is where the lines offset by that radius
    meet, its ends the centre's feet on the lines. An arc that would move more than ``tol`` (a
    real step), or is already tangent, is left as it is.
    """
    segs = list(loop)
    n = len(segs)
    for i, sg in enumerate(segs):
        p, q = segs[i - 1], segs[(i + 1) % n]
        if sg.c is None or p.c is not None or q.c is not None or n < 3:
            continue
        r = (math.dist(sg.a, sg.c) + math.dist(sg.b, sg.c)) / 2
        l1, l2 = math.dist(p.a, p.b), math.dist(q.a, q.b)
        if l1 < 1e-9 or l2 < 1e-9 or r < 1e-9:
            continue
        d1 = ((p.b[0] - p.a[0]) / l1, (p.b[1] - p.a[1]) / l1)
        d2 = ((q.b[0] - q.a[0]) / l2, (q.b[1] - q.a[1]) / l2)

        def toward(o: Pt, d: Pt, c: Pt = sg.c) -> Pt:  # the line's normal on the centre's side
            nx, ny = -d[1], d[0]
            return (nx, ny) if (c[0] - o[0]) * nx + (c[1] - o[1]) * ny >= 0 else (-nx, -ny)

        n1, n2 = toward(p.a, d1), toward(q.a, d2)
        det = d2[0] * d1[1] - d1[0] * d2[1]
        if abs(det) < 1e-12:
            continue
        ox, oy = p.a[0] + n1[0] * r, p.a[1] + n1[1] * r
        ex, ey = q.a[0] + n2[0] * r - ox, q.a[1] + n2[1] * r - oy
        t = (ex * -d2[1] + ey * d2[0]) / (d1[0] * -d2[1] + d1[1] * d2[0])
        c = (ox + t * d1[0], oy + t * d1[1])
        ta = (c[0] - n1[0] * r, c[1] - n1[1] * r)
        tb = (c[0] - n2[0] * r, c[1] - n2[1] * r)
        moved = max(math.dist(c, sg.c), math.dist(ta, sg.a), math.dist(tb, sg.b))
        if moved > tol or moved < 1e-12:
            continue
        segs[i - 1] = Seg(p.a, ta, None, None)
        segs[i] = Seg(ta, tb, c, sg.ccw)
        segs[(i + 1) % n] = Seg(tb, q.b, None, None)
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
