"""Strategies: pure functions from a region or feature and a tool to toolpath steps.

All paths are tool-centre paths (no cutter compensation). Cutting is climb milling with a
clockwise (M3) spindle: the material being cut is on the right of the travel, so pocket
walls are followed counter-clockwise and outside walls and islands clockwise. An end mill
never plunges: every descent into material is a ramp along the path (a helix on a circle).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dfm.cam.geom2d import (
    EPS,
    MIN_ARC_RADIUS,
    POST_DIGITS,
    Loop,
    Pt,
    Seg,
    loop_box,
    loop_length,
    loop_points,
    orient,
    point_in_loop,
    postable,
    signed_area,
    start_nearest,
    tangent_joins,
)
from dfm.cam.model import Arc, DrillCycle, Feed, Rapid, Step
from dfm.errors import DfmError


class CamError(DfmError):
    """A toolpath cannot be made (no tool fits, the region vanishes, a plunge was requested)."""


# --- geometry helpers ---------------------------------------------------------------------

def _to_tuples(loop: Sequence[Seg]) -> list[tuple]:
    return [(s.a, s.b, s.c, s.ccw) for s in loop]


def _bare_holes(outer: Sequence[Seg], holes: Sequence[Sequence[Seg]]) -> list[Sequence[Seg]]:
    """The holes that bound the region: not inside another hole, not wholly outside ``outer``.

    The region is ``outer`` minus the holes, so a hole inside another hole takes nothing more
    away (an island standing in a pocket of a part whose outlines are the holes of the
    profile's region), and a hole outside ``outer`` nothing at all. The kernel offsets a face
    built from the loops it is given, and such loops made it grow rings without end.
    """
    polys = [loop_points(h, 1e-3) for h in holes]
    boxes = [loop_box([h]) for h in holes]
    keep: list[Sequence[Seg]] = []
    for i, h in enumerate(holes):
        pts = polys[i]
        if not any(point_in_loop(p, outer) for p in pts) and not point_in_loop(outer[0].a, h):
            continue
        bi = boxes[i]
        inside_other = False
        for j, q in enumerate(holes):
            bj = boxes[j]
            if j == i or bi[0] < bj[0] or bi[1] < bj[1] or bi[2] > bj[2] or bi[3] > bj[3]:
                continue  # (a loop inside another lies in its box)
            if not all(point_in_loop(p, q) for p in pts):
                continue
            # identical loops: keep the first of them
            if j < i or not all(point_in_loop(p, h) for p in polys[j]):
                inside_other = True
                break
        if not inside_other:
            keep.append(h)
    return keep


def offset(outer: Sequence[Seg], holes: Sequence[Sequence[Seg]], distance: float) -> list[Loop]:
    """Offset a region (negative shrinks); the kernel does the exact 2D offset.

    Holes inside other holes or outside ``outer`` are left out first (:func:`_bare_holes`).
    """
    from dfm.kernel import sampling

    holes = _bare_holes(outer, holes)
    loops = sampling.offset_region(_to_tuples(tangent_joins(orient(outer, ccw=True))),
                                   [_to_tuples(tangent_joins(orient(h, ccw=False))) for h in holes], distance)
    out = []
    for lp in loops:
        segs = _no_tiny_segments(tuple(Seg(a, b, c, ccw) for a, b, c, ccw in lp))
        if loop_length(segs) > 1e-6:
            out.append(segs)
    return out


def wall_loops(outer: Loop, holes: Sequence[Loop], distance: float) -> tuple[Loop, list[Loop]]:
    """A region grown by ``distance`` (its islands shrunk; negative: the other way), exactly (the kernel's offset).

    A pocket's outline is its floor face's; round a floor filleted with radius F the walls stand
    F outside it: ``wall_loops(floor outline, islands, F)``.
    """
    loops = offset(outer, list(holes), distance)
    outs = [lp for lp in loops if signed_area(lp) > 0]
    if len(outs) != 1:
        raise CamError(f"its outline offset by {distance:g} mm (floor fillets) is not one region")
    return outs[0], [lp for lp in loops if signed_area(lp) < 0]


def _no_tiny_segments(loop: Loop) -> Loop:
    """``loop`` without its segments shorter than :data:`EPS` (the next one starts where each began).

    The kernel's offset joins two nearly tangent pieces with an arc a few hundredths of a
    micrometre long (random part 9348: 0.08 um of a 0.3 mm radius); its ends print the same,
    and a controller runs an arc whose ends are the same as a full circle: 0.6 mm into the
    part. A loop of one segment (a whole circle) is kept as it is.
    """
    if len(loop) < 2 or all(math.dist(sg.a, sg.b) >= EPS for sg in loop):
        return loop
    keep = [sg for sg in loop if math.dist(sg.a, sg.b) >= EPS]
    if not keep:
        return loop
    out = []
    for i, sg in enumerate(keep):
        prev = keep[i - 1]
        out.append(sg if prev.b == sg.a else Seg(prev.b, sg.b, sg.c, sg.ccw))
    return tuple(out)


def depths(loops: Sequence[Loop]) -> list[int]:
    """Each loop's depth: the number of the others its first point is inside.

    Tested against their exact lines and arcs: offset loops come as close as they like before
    they merge, and a point a few µm inside an arc is outside the arc's chords.
    """
    boxes = [loop_box([lp]) for lp in loops]
    out = []
    for i, lp in enumerate(loops):
        p = lp[0].a
        out.append(sum(1 for j, q in enumerate(loops) if j != i and boxes[j][0] <= p[0] <= boxes[j][2]
                       and boxes[j][1] <= p[1] <= boxes[j][3] and point_in_loop(p, q)))
    return out


def classify(loops: Sequence[Loop]) -> list[Loop]:
    """Orient loops for climb milling: boundaries (even :func:`depths`) CCW, holes (islands) CW."""
    return [orient(lp, ccw=(k % 2 == 0)) for lp, k in zip(loops, depths(loops), strict=True)]


def rings(outer: Sequence[Seg], holes: Sequence[Sequence[Seg]], first: float, step: float,
          max_rings: int = 2000) -> list[list[Loop]]:
    """Contour-parallel rings: offsets at ``first``, ``first + step``, ... until the region vanishes.

    Every point of the region's offset by ``d`` is at least ``d`` from its boundary, so ring
    k lies in the box of ``outer`` shrunk by ``first + k step`` and the region's area falls
    from ring to ring; the number of rings is bounded by the box. A ring that breaks either
    is a failed kernel offset, not a toolpath.

    Raises:
        CamError: A ring grows or leaves the shrunk box, or more than ``max_rings`` rings.
    """
    if step <= 0:
        raise CamError(f"ring step {step:g} mm: must be > 0")
    x0, y0, x1, y1 = loop_box([outer])
    slack = 1e-5
    out: list[list[Loop]] = []
    area = math.inf
    d = first
    while True:
        loops = offset(outer, holes, -d)
        if not loops:
            return out
        if len(out) >= max_rings:
            raise CamError(f"more than {max_rings} rings of {step:g} mm: the region is too large for this step")
        loops = classify(loops)
        bx0, by0, bx1, by1 = loop_box(loops)
        now = sum(signed_area(lp) for lp in loops)
        if (bx0 < x0 + d - slack or by0 < y0 + d - slack or bx1 > x1 - d + slack or by1 > y1 - d + slack
                or now >= area):
            raise CamError(f"the offset of the region by {d:g} mm (ring {len(out) + 1}) does not shrink it: "
                           f"box X{bx0:.4f}..{bx1:.4f} Y{by0:.4f}..{by1:.4f}, area {now:.6f} mm2 "
                           f"(kernel offset failed)")
        out.append([_on_post_grid(lp) for lp in loops])
        area = now
        d += step


def _on_post_grid(loop: Loop) -> Loop:
    """A ring that is a whole circle, re-made with its centre, radius and half-arc ends on the posts' grid.

    The kernel's offset of a circle starts it anywhere: its arcs' ends, once the post rounds
    them, give a controller two radii that differ by more than it accepts on a small circle
    (0.1 % of 40 um is 0.04 um), so every lap went out as chords (a milled Ø0.3 hole: 27 000
    moves). On the grid (:data:`dfm.cam.geom2d.POST_DIGITS`) the ends are exact. The radius
    is rounded toward the region's inside (a loop round an island grows, an outer loop shrinks)
    by at least the centre's move, so the tool never comes nearer a wall.
    """
    c = loop[0].c if loop else None
    if len(loop) < 2 or c is None or any(sg.c is None for sg in loop):
        return loop
    r = math.dist(loop[0].a, c)
    if any(math.dist(sg.c or c, c) > 1e-9 or abs(math.dist(sg.a, c) - r) > 1e-9 or sg.ccw != loop[0].ccw
           for sg in loop) or abs(abs(sum(sg.sweep for sg in loop)) - 2 * math.pi) > 1e-6:
        return loop
    q = 10.0 ** POST_DIGITS
    cc = (round(c[0] * q) / q, round(c[1] * q) / q)
    moved = math.dist(cc, c)
    outer = signed_area(loop) > 0
    rr = (math.floor((r - moved) * q) if outer else math.ceil((r + moved) * q)) / q
    if rr < MIN_ARC_RADIUS:
        return loop
    x, y = cc
    pts = [(x + rr, y), (x, y + rr), (x - rr, y), (x, y - rr)]  # quarter arcs: four exact ends a lap
    if not loop[0].ccw:
        pts = [pts[0], pts[3], pts[2], pts[1]]
    return tuple(Seg(pts[k], pts[(k + 1) % 4], cc, bool(loop[0].ccw)) for k in range(4))


class Region:
    """Where the tool centre may go: inside an odd number of the given loops.

    The even-odd test of :func:`dfm.cam.geom2d.point_in_polygon` over every edge of every
    loop at once (the parity of all crossings is the parity of the loops a point is inside):
    with numpy on many points per call, compiled along a segment (``simkernel.segment_inside``).
    """

    def __init__(self, loops: Sequence[Loop]) -> None:
        polys = [loop_points(lp, 1e-4) for lp in loops]
        a = np.array([pt for q in polys for pt in q], dtype=float).reshape(-1, 2)
        b = np.array([pt for q in polys for pt in (*q[1:], q[0])], dtype=float).reshape(-1, 2)
        self.x0, self.y0, self.x1, self.y1 = (np.ascontiguousarray(c) for c in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        dy = self.y1 - self.y0
        self.dy = np.where(dy == 0.0, 1.0, dy)  # such edges never straddle a point's y
        self._bands: tuple[float, float, np.ndarray, np.ndarray] | None = None

    def _inside(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        y = ys[:, None]
        straddle = (self.y0 > y) != (self.y1 > y)
        xc = self.x0 + (y - self.y0) * (self.x1 - self.x0) / self.dy
        crossings = np.count_nonzero(straddle & (xc > xs[:, None]), axis=1)
        return crossings % 2 == 1  # type: ignore[no-any-return]

    def contains(self, p: Pt) -> bool:
        """True if ``p`` is in the region."""
        return bool(self._inside(np.array([p[0]]), np.array([p[1]]))[0])

    def segment_inside(self, p: Pt, q: Pt, step: float, on_edge: float = 0.0) -> bool:
        """True if samples along p→q every ``step`` mm are all in the region.

        ``on_edge``: a sample within that distance of the boundary counts as in (two points
        of a tool-centre ring are on the region's edge; the loops are chords of 0.1 µm).
        """
        from dfm.cam import simkernel

        n = max(1, math.ceil(math.dist(p, q) / step))
        if self._bands is None:
            self._bands = edge_bands(self.y0, self.y1)
        y_lo, h, start, idx = self._bands
        # compiled, over the edges near each sample's y, stopping at the first sample out (the links
        # of a large part's profile: 56 000 calls over 740 000 numpy passes, 140 s, before)
        return bool(simkernel.segment_inside(float(p[0]), float(p[1]), float(q[0]), float(q[1]), n,
                                             self.x0, self.y0, self.x1, self.y1, y_lo, h, start, idx,
                                             float(on_edge)))


def edge_bands(y0: np.ndarray, y1: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Edges (from y0 to y1) by band of y: (lowest y, band height, CSR start per band, edge indices).

    Band b of height h from the lowest y lists every edge whose y-range meets it, once
    (``simkernel.segment_inside`` and ``points_inside`` test a point against its band's edges).
    """
    lo = np.minimum(y0, y1)
    hi = np.maximum(y0, y1)
    m = len(lo)
    if m == 0:
        return 0.0, 1.0, np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    y_lo, y_hi = float(lo.min()), float(hi.max())
    nb = int(min(4096, max(1, m // 4)))
    h = (y_hi - y_lo) / nb if y_hi > y_lo else 1.0
    # the bands an edge meets, by the same floor and clamp as simkernel._band
    b0 = np.clip(np.floor((lo - y_lo) / h), 0, nb - 1).astype(np.int64)
    b1 = np.clip(np.floor((hi - y_lo) / h), 0, nb - 1).astype(np.int64)
    count = b1 - b0 + 1
    edge = np.repeat(np.arange(m, dtype=np.int64), count)
    first = np.repeat(np.cumsum(count) - count, count)
    band = np.repeat(b0, count) + (np.arange(len(edge), dtype=np.int64) - first)
    order = np.argsort(band, kind="stable")
    start = np.zeros(nb + 1, dtype=np.int64)
    np.add.at(start, band + 1, 1)
    return y_lo, h, np.cumsum(start), edge[order]


def depth_levels(z_top: float, z_floor: float, ap: float) -> list[float]:
    """Equal steps no deeper than ``ap`` from ``z_top`` down to ``z_floor`` (last = floor)."""
    depth = z_top - z_floor
    if depth <= 1e-9:
        return []
    n = max(1, math.ceil(depth / ap - 1e-9))
    return [z_top - depth * (k + 1) / n for k in range(n)]


def _moves(loop: Sequence[Seg], z: float, role: str = "cut", z_from: float | None = None) -> list[Step]:
    """Steps along ``loop`` ending at height ``z``; from ``z_from`` (a ramp) at a slope even in length.

    An arc a controller would read otherwise once the post has rounded it (too small, or its
    end radius off: :func:`dfm.cam.geom2d.postable`) goes out as its chords instead.
    """
    return _piece_moves([piece for s in loop for piece in postable(s)], z, role, z_from)


def _piece_moves(pieces: Sequence[Seg], z: float, role: str, z_from: float | None) -> list[Step]:
    """:func:`_moves` of pieces already made postable."""
    out: list[Step] = []
    total = sum(piece.length for piece in pieces)
    walked = 0.0
    for k, s in enumerate(pieces):
        walked += s.length
        zz = z
        if z_from is not None and total > 0.0 and k < len(pieces) - 1:
            zz = z_from + (z - z_from) * min(1.0, walked / total)
        if s.c is None:
            out.append(Feed(s.b[0], s.b[1], zz, role))
        else:
            out.append(Arc(s.b[0], s.b[1], zz, s.c[0], s.c[1], bool(s.ccw), role))
    return out


def ramp_on_loop(loop: Loop, z_from: float, z_to: float, angle_deg: float) -> tuple[list[Step], Loop]:
    """Descend along ``loop`` from ``z_from`` to ``z_to`` at ``angle_deg`` (a helix on a circle).

    Returns the ramp moves and the loop restarted where the ramp reached ``z_to``, so the
    caller then cuts that whole loop at ``z_to``.
    """
    total = loop_length(loop)
    if total < 1e-4:
        raise CamError("cannot ramp into material along a path shorter than 0.1 µm")
    slope = math.tan(math.radians(angle_deg))
    need = (z_from - z_to) / slope
    segs = list(loop)
    stop = _grid_stop(segs, need, total)
    if stop > need:  # a little longer (never steeper): the ramp ends on an end the posts write exactly
        need, slope = stop, (z_from - z_to) / stop
    out: list[Step] = []
    z = z_from
    walked = 0.0
    posted: dict[int, list[Seg]] = {}  # a ramp runs round a short loop many times: its pieces once
    i = 0
    while True:
        s = segs[i % len(segs)]
        if walked + s.length >= need - 1e-12:
            t = (need - walked) / s.length if s.length > 0 else 1.0
            j = i % len(segs)
            if (need - walked) < EPS and i > 0:
                # the ramp ends where this segment starts (to well under the posts' 0.1 um): splitting it
                # there would leave an arc whose ends print the same, a full circle to a controller
                return out, tuple(segs[j:]) + tuple(segs[:j])
            if t < 1.0 - 1e-9 and (1.0 - t) * s.length >= EPS:
                first, second = s.split(t)
                out.extend(_moves([first], z_to, "ramp", z))
                rest = (second,) + tuple(segs[j + 1:]) + tuple(segs[:j]) + (first,)
            else:
                out.extend(_moves([s], z_to, "ramp", z))
                rest = tuple(segs[j + 1:]) + tuple(segs[: j + 1])
            return out, rest
        walked += s.length
        z_start, z = z, z_from - walked * slope
        j = i % len(segs)
        if j not in posted:
            posted[j] = postable(s)
        out.extend(_piece_moves(posted[j], z, "ramp", z_start))
        i += 1


def _on_grid(p: Pt) -> bool:
    q = 10.0 ** POST_DIGITS
    return abs(p[0] * q - round(p[0] * q)) < 1e-6 and abs(p[1] * q - round(p[1] * q)) < 1e-6


def _grid_stop(segs: Sequence[Seg], need: float, total: float) -> float:
    """The least length ≥ ``need`` along a circle run round and round that ends on an arc's end on the posts' grid.

    A ramp that ends inside an arc splits it there, and the loop restarted at that point keeps
    the split: an arc's pieces with an end off the grid go out as chords on a small circle, lap
    after lap (a milled Ø0.3 hole: 27 000 moves), and chords miss the inside-arc feed
    reduction. ``need`` when the loop is not a circle or no end of it is on the grid.
    """
    if not segs or any(sg.c is None or math.dist(sg.c, segs[0].c) > 1e-9 for sg in segs):  # type: ignore[arg-type]
        return need  # a circle only: elsewhere an arc big enough to split stays postable, a line always does
    ends: list[float] = []
    walked = 0.0
    for sg in segs:
        walked += sg.length
        if _on_grid(sg.b):
            ends.append(walked)
    if not ends or total <= 0.0:
        return need
    laps = max(0, math.floor(need / total) - 1)
    best = math.inf
    for k in range(laps, laps + 3):
        for e in ends:
            if k * total + e >= need - 1e-12:
                best = min(best, k * total + e)
    return best if math.isfinite(best) else need


def _left_normal(s: Seg, at_start: bool = True) -> Pt:
    if s.c is None:
        dx, dy = s.b[0] - s.a[0], s.b[1] - s.a[1]
    else:
        p = s.a if at_start else s.b
        rx, ry = p[0] - s.c[0], p[1] - s.c[1]
        dx, dy = (-ry, rx) if s.ccw else (ry, -rx)
    n = math.hypot(dx, dy) or 1.0
    return (-dy / n, dx / n)


# --- strategies ---------------------------------------------------------------------------

def _without_specks(rs: list[list[Loop]], tool_radius: float, stepover: float) -> list[list[Loop]]:
    """Rings without loops too small to be cut as loops (radius below ``tool_radius`` / 100).

    Such a loop is a ring of a few µm: cut as arcs, it is a zero-radius arc to a controller, and
    ramped into, a helix of thousands of turns. Every point of ring k is ``stepover`` from ring
    k - 1, so when ``stepover`` + its diameter is within the tool radius ring k - 1 has cut it
    all and it is dropped; otherwise it becomes a visit of its centre (a zero-length loop: the
    straight link to it cuts it). In the first ring there is nothing before it to cut it.

    Raises:
        CamError: A loop of the first ring is such a speck (the tool gets there only by a plunge).
    """
    out: list[list[Loop]] = []
    for k, loops in enumerate(rs):
        kept: list[Loop] = []
        for lp in loops:
            x0, y0, x1, y1 = loop_box([lp])
            rho = math.hypot(x1 - x0, y1 - y0) / 2
            if rho >= tool_radius / 100:
                kept.append(lp)
                continue
            c = ((x0 + x1) / 2, (y0 + y1) / 2)
            if k == 0:
                raise CamError(f"the tool centre fits only a Ø{2 * rho:.4f} mm spot at X{c[0]:.4f} Y{c[1]:.4f}: "
                               f"a Ø{2 * tool_radius:g} mm tool gets in only by a plunge")
            if stepover + 2 * rho > tool_radius:
                kept.append((Seg(c, c),))
        if kept:
            out.append(kept)
    return out


def clear_region(outer: Sequence[Seg], holes: Sequence[Sequence[Seg]], *, z_top: float, z_floor: float,
                 tool_radius: float, ap: float, stepover: float, allowance: float, floor_allowance: float,
                 ramp_angle_deg: float, retract_z: float,
                 stock_box: tuple[float, float, float, float] | None = None) -> list[Step]:
    """Contour-parallel clearing of a 2.5D region down to ``z_floor``, leaving ``allowance`` on walls.

    At each depth the first ring's loops are cut first, then, nearest first, each loop of an
    inner ring whose neighbours in the ring before it are cut (:func:`_next_loop`), so the
    tool finishes one side of an island before it crosses to the other. A loop of an inner
    ring whose tool meets only what the rings before it cut is left out (:func:`_air_loops`:
    a pocket the first ring's tool sweeps whole is one spiral). The first ring of a depth (and
    any ring the tool cannot reach by a straight move inside the region) is entered by a ramp
    along itself from the depth above. The tool stays down between depths: it links to the
    next depth's first ring across the cleared depth above when the straight link stays in
    the region, and retracts only when it would cross an island or the region's outside.
    Rings of a few µm are not cut as loops (:func:`_without_specks`).

    The roughing depths are steps of ``ap`` down to ``floor_allowance`` above the floor, the last
    taking what is left (:func:`_full_steps`); the floor itself is one more depth that takes only
    that allowance: its finishing pass (the settings' ``finish_allowance_mm`` is left "on walls
    and floors"; 0 makes the last roughing depth the floor).

    The outermost ring spirals down (:func:`_spiral_ring`): its ramp into a depth is its cut
    at that depth, and the wedge a ramp leaves under it is what the next depth's ramp takes
    (never more than ``ap`` at any point); only the floor gets the flat lap after its ramp.

    ``stock_box`` (x0, y0, x1, y1): the stock's extent. An outermost loop whose tool never
    reaches it (the outside profile's first ring, round the stock) is not cut: the tool goes
    down in the air there and enters the stock sideways from it, at each depth.
    """
    rs = rings(outer, holes, tool_radius + allowance, stepover)
    if not rs:
        raise CamError(f"the region is too narrow for a Ø{2 * tool_radius:g} mm tool")
    rs = _without_specks(rs, tool_radius, stepover)
    region = Region(rs[0])
    levels = _full_steps(z_top, z_floor + floor_allowance, ap) if floor_allowance > 0 else []
    levels = [*levels, z_floor] if floor_allowance > 0 else (_full_steps(z_top, z_floor, ap) or [z_floor])
    out: list[Step] = []
    pos: tuple[float, float, float] | None = None
    z_prev = z_top
    probe = max(min(0.01, tool_radius / 4), 1e-3)
    slope = math.tan(math.radians(ramp_angle_deg))
    # outermost loops whose last ramp ended without the flat lap: (the loop from that end, wedge height)
    spiral: dict[int, tuple[Loop, float]] = {}
    air = {i for i, lp in enumerate(rs[0]) if stock_box is not None and _clear_of(lp, stock_box, tool_radius)}
    parents = _ring_parents(rs, stepover)
    skip = _air_loops(rs, tool_radius, stepover, air)
    for key in sorted(skip):  # a loop left out: its children wait for the loops it waited for and those that swept it
        for kid, ps in parents.items():
            if key in ps:
                parents[kid] = (ps - {key}) | parents[key] | skip[key]
    rs = _spiral_start(rs, skip, air, stepover)
    for z in levels:
        last = z == levels[-1]
        todo = [(k, i) for k, loops in enumerate(rs) for i in range(len(loops)) if (k, i) not in skip]
        done: set[tuple[int, int]] = set()
        while todo:
            k, i = _next_loop(todo, done, parents, pos, rs)
            todo.remove((k, i))
            done.add((k, i))
            loop = rs[k][i]
            if k == 0 and i in air:  # in the air all round: down beside the stock, nothing to cut
                loop = start_nearest(loop, (pos[0], pos[1])) if pos is not None else loop
                start = loop[0].a
                via = _via(region, (pos[0], pos[1]), start, rs, probe) if pos is not None else None
                if via is not None and pos is not None:
                    out.extend(Feed(w[0], w[1], pos[2], "link") for w in via
                               if math.dist(w, (pos[0], pos[1])) > 1e-9)
                else:
                    if pos is not None:
                        out.append(Rapid(pos[0], pos[1], retract_z))
                    out.append(Rapid(start[0], start[1], retract_z))
                out.append(Feed(start[0], start[1], z, "descend"))
                pos = (start[0], start[1], z)
                continue
            wedge = 0.0
            if k == 0 and i in spiral:
                loop, wedge = spiral.pop(i)
            elif pos is not None:
                loop = start_nearest(loop, (pos[0], pos[1]))
            start = loop[0].a
            same_level = pos is not None and abs(pos[2] - z) < 1e-12
            # (never over a wedge: a flat cut there would take it and the depth at once)
            via = (_via(region, (pos[0], pos[1]), start, rs, probe)
                   if pos is not None and same_level and wedge == 0.0 else None)
            if via is not None:
                here = (pos[0], pos[1]) if pos is not None else None
                out.extend(Feed(w[0], w[1], z, "link") for w in via if here is None or math.dist(w, here) > 1e-9)
                if loop_length(loop) > 0.0:
                    out.extend(_moves(loop, z))
            elif loop_length(loop) <= 0.0:
                raise CamError(f"a spot of the region at X{start[0]:.4f} Y{start[1]:.4f} is left that a "
                               f"Ø{2 * tool_radius:g} mm tool reaches only by a plunge")
            else:
                via = (_via(region, (pos[0], pos[1]), start, rs, probe)
                       if pos is not None and abs(pos[2] - z_prev) < 1e-12 else None)
                if via is not None:
                    # stay down: the level above is cleared all over the region; link across it
                    here = (pos[0], pos[1]) if pos is not None else None
                    out.extend(Feed(w[0], w[1], z_prev, "link") for w in via
                               if here is None or math.dist(w, here) > 1e-9)
                else:
                    if pos is not None:
                        out.append(Rapid(pos[0], pos[1], retract_z))
                    out.append(Rapid(start[0], start[1], retract_z))
                    if wedge > 0.0:
                        # from above: down onto the wedge's top and along the last lap's slope again
                        out.append(Feed(start[0], start[1], z_prev + wedge, "descend"))
                        out.extend(_moves(loop, z_prev, "ramp", z_prev + wedge))
                    else:
                        out.append(Feed(start[0], start[1], z_prev, "descend"))
                if k == 0:
                    steps, end_loop, wedge = _spiral_ring(loop, z_prev, z, slope, last, wedge)
                    out.extend(steps)
                    if not last:
                        spiral[i] = (end_loop, wedge)
                    loop = end_loop
                    end = loop[0].a if not last else loop[-1].b
                    pos = (end[0], end[1], z)
                    continue
                ramp, rest = ramp_on_loop(loop, z_prev, z, ramp_angle_deg)
                out.extend(ramp)
                out.extend(_moves(rest, z))
                loop = rest
            end = loop[-1].b
            pos = (end[0], end[1], z)
        z_prev = z
    if pos is not None:
        out.append(Rapid(pos[0], pos[1], retract_z))
    return out


def _loop_cloud(loop: Loop, spacing: float) -> np.ndarray:
    """Points along ``loop`` at most about ``spacing`` apart (an n x 2 array; a speck is its one point)."""
    pts: list[Pt] = []
    for sg in loop:
        n = max(1, math.ceil(sg.length / spacing))
        pts.extend(sg.point(k / n) for k in range(n))
    return np.array(pts or [loop[0].a], dtype=float).reshape(-1, 2)


def _ring_parents(rs: Sequence[Sequence[Loop]], stepover: float) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """For each loop of ring k > 0, the loops of ring k - 1 it lies beside (within about ``stepover``).

    Every point of ring k is ``stepover`` from ring k - 1 (an offset of it), so the loops it is
    that near are the ones whose cut it widens: they are cut first at each depth, which keeps
    its engagement the ring step's. Loops farther away may come before or after it. The
    distances are between points every stepover / 8 along both (a quarter step of slack over
    the exact distance takes in the sampling's error, and only ever asks for more parents).
    """
    from scipy.spatial import cKDTree

    spacing = max(stepover / 8, 1e-3)
    clouds = {(k, i): _loop_cloud(lp, spacing) for k, loops in enumerate(rs) for i, lp in enumerate(loops)}
    trees = {key: cKDTree(pts) for key, pts in clouds.items()}
    reach = 1.25 * stepover + 1e-3
    out: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for k in range(1, len(rs)):
        for i in range(len(rs[k])):
            a = clouds[(k, i)]
            out[(k, i)] = {(k - 1, j) for j in range(len(rs[k - 1]))
                           if float(trees[(k - 1, j)].query(a, distance_upper_bound=reach)[0].min()) <= reach}
    return out


_EIGHT_WAYS = np.array([(math.cos(a), math.sin(a)) for a in np.arange(8) * math.pi / 4])


def _air_loops(rs: Sequence[Sequence[Loop]], tool_radius: float, stepover: float, skip_first: set[int]
               ) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """Loops of rings k > 0 whose tool meets only what the rings before them cut at the same depth.

    Contour-parallel rings run until the offset vanishes, but where the region is narrower
    than the tool the first ring's tool already sweeps all of it (a 3 mm tool in a pocket 2.96
    mm wide for its centre): the inner rings then cut air at every depth. A loop is left out
    when every cell of a grid within the tool's reach of it lies within the reach of a loop
    of a lower ring that is cut (not in ``skip_first`` of ring 0, not left out itself); both
    tests are taken on the safe side of the grid's and the sampling's error. Loops whose
    grid would exceed 40 000 cells or be coarser than a third of the radius are kept.

    Returns:
        Each loop left out, with the loops that may have swept its reach (cut, of lower rings,
        within two radii of it): the loops inside it wait for those as they would for it.
    """
    from scipy.spatial import cKDTree

    r = tool_radius
    spacing = max(min(stepover, r) / 8, 1e-3)
    clouds = {(k, i): _loop_cloud(lp, spacing) for k, loops in enumerate(rs) for i, lp in enumerate(loops)}
    out: dict[tuple[int, int], set[tuple[int, int]]] = {}
    cut: list[tuple[int, int]] = [(0, i) for i in range(len(rs[0])) if i not in skip_first]
    trees: dict[tuple[int, int], Any] = {}
    for k in range(1, len(rs)):
        if not cut:
            break
        before = cKDTree(np.concatenate([clouds[key] for key in cut]))
        now: list[tuple[int, int]] = []
        for i, _ in enumerate(rs[k]):
            pts = clouds[(k, i)]
            x0, y0 = pts.min(axis=0) - r
            x1, y1 = pts.max(axis=0) + r
            h = max(r / 10, math.sqrt((x1 - x0) * (y1 - y0) / 40_000))
            if h > r / 3:
                now.append((k, i))
                continue
            # a point of the tool's reach (r from the loop's samples, eight ways) that no lower loop's reach
            # comes within a cell of: the cell holding it, and its finer cell below, are in doubt, so the
            # loop is cut; the grid is not needed to say so (a large part's profile rings: 3 s of grid)
            probe = (pts[:, None, :] + r * _EIGHT_WAYS[None]).reshape(-1, 2)
            if np.isinf(before.query(probe, distance_upper_bound=r + h)[0]).any():
                now.append((k, i))
                continue
            gx = np.arange(x0 - h / 2, x1 + h, h)
            gy = np.arange(y0 - h / 2, y1 + h, h)
            cells = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
            half = h * math.sqrt(2) / 2
            tree = cKDTree(pts)
            mine, _ = tree.query(cells, distance_upper_bound=r + half + spacing)
            touched = cells[np.isfinite(mine)]
            theirs, _ = before.query(touched, distance_upper_bound=r + half)
            doubt = touched[theirs > r - half]
            if len(doubt):  # cells near the reach's edge: once more on an 8 x 8 finer grid
                fine = (np.arange(8) - 3.5) * h / 8
                sub = (doubt[:, None, None, :] + np.stack(np.meshgrid(fine, fine), axis=-1)[None]).reshape(-1, 2)
                half = half / 8
                mine, _ = tree.query(sub, distance_upper_bound=r + half + spacing)
                theirs, _ = before.query(sub[np.isfinite(mine)], distance_upper_bound=r)
                doubt = sub[np.isfinite(mine)][~(theirs <= r - half)]
            if len(touched) and not len(doubt):
                near = 2 * r + spacing + 1e-3
                for key in cut:
                    if key not in trees:
                        trees[key] = cKDTree(clouds[key])
                out[(k, i)] = {key for key in cut
                               if float(trees[key].query(pts, distance_upper_bound=near)[0].min()) <= near}
            else:
                now.append((k, i))
        cut += now
    return out


def _spiral_start(rs: list[list[Loop]], skip: Container[tuple[int, int]], air: set[int], stepover: float
                  ) -> list[list[Loop]]:
    """The rings, the first loop started at its point nearest the other loops cut with it.

    The first loop spirals (every depth begins where the ramp before ended), so where it starts
    is where every depth's link to the next loop begins: beside an island's loop, a band's width
    from it, not across a corner.
    """
    if not rs or 0 in air or len(rs[0][0]) == 0:
        return rs
    spacing = max(stepover / 8, 1e-3)
    others = [_loop_cloud(lp, spacing) for k, loops in enumerate(rs) for i, lp in enumerate(loops)
              if (k, i) != (0, 0) and (k, i) not in skip and not (k == 0 and i in air)]
    if not others:
        return rs
    from scipy.spatial import cKDTree

    mine = _loop_cloud(rs[0][0], spacing)
    d, _ = cKDTree(np.concatenate(others)).query(mine)
    at = mine[int(np.argmin(d))]
    first = start_nearest(rs[0][0], (float(at[0]), float(at[1])))
    return [[first, *rs[0][1:]], *rs[1:]]


def _next_loop(todo: Sequence[tuple[int, int]], done: set[tuple[int, int]],
               parents: dict[tuple[int, int], set[tuple[int, int]]], pos: tuple[float, float, float] | None,
               rs: Sequence[Sequence[Loop]]) -> tuple[int, int]:
    """The loop to cut next at a depth: ring 0's in order, then the nearest whose parents are cut.

    Cutting the rings in index order sent the tool to and fro between the two sides of an
    island once per ring; the nearest loop ready (:func:`_ring_parents`) finishes one side first.
    """
    first = todo[0]
    if first[0] == 0 or pos is None:
        return first
    ready = [key for key in todo if parents.get(key, set()) <= done]
    if not ready:  # (cannot happen: ring k - 1 is done before the last of ring k is ready)
        return first
    here = np.array([pos[0], pos[1]])

    def dist(key: tuple[int, int]) -> float:
        lp = rs[key[0]][key[1]]
        return min(math.dist((here[0], here[1]), sg.point(t / 8)) for sg in lp for t in range(8))

    return min(ready, key=lambda key: (dist(key), key))


def _full_steps(z_top: float, z_floor: float, ap: float) -> list[float]:
    """Steps of ``ap`` from ``z_top``, the last one what is left to ``z_floor`` (as many as equal steps).

    The floor's step is the shallow one: the spiral's ramp into it then runs over that share of
    a lap only (:func:`_spiral_ring`), where equal steps made it a whole lap.
    """
    depth = z_top - z_floor
    if depth <= 1e-9:
        return []
    n = max(1, math.ceil(depth / ap - 1e-9))
    return [z_top - ap * (k + 1) for k in range(n - 1)] + [z_floor]


def _clear_of(loop: Loop, box: tuple[float, float, float, float], r: float) -> bool:
    """True if a tool of radius ``r`` on ``loop`` never reaches into ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    for x, y in loop_points(loop, 1e-3):
        dx = max(x0 - x, 0.0, x - x1)
        dy = max(y0 - y, 0.0, y - y1)
        if math.hypot(dx, dy) <= r + 1e-3:
            return False
    return True


def _via(region: Region, p: Pt, q: Pt, rs: Sequence[Sequence[Loop]], probe: float) -> list[Pt] | None:
    """A link from ``p`` to ``q`` inside ``region``: straight, else through one point of a ring; None if neither.

    The points tried are the rings' own (every ring lies in the region, and a level's rings
    clear it), the shortest detours first.
    """
    if region.segment_inside(p, q, probe, on_edge=2e-4):
        return [q]
    cands: set[Pt] = set()
    for loops in rs:
        for lp in loops:
            for sg in lp:
                n = max(1, math.ceil(sg.length / 0.25))
                cands.update(sg.point(k / n) for k in range(n))
    ranked = sorted(cands, key=lambda w: math.dist(p, w) + math.dist(w, q))
    for w in ranked[:400]:
        if region.segment_inside(p, w, probe, on_edge=2e-4) and region.segment_inside(w, q, probe, on_edge=2e-4):
            return [w, q]
    return None


def _spiral_ring(loop: Loop, z_from: float, z_to: float, slope: float, flat: bool, wedge_before: float = 0.0
                 ) -> tuple[list[Step], Loop, float]:
    """An outermost ring's descent from ``z_from`` to ``z_to``: its ramp is its cut at that depth.

    The ramp runs along the loop at ``slope`` (tan of the ramp angle), or over exactly one lap
    when a lap is longer than that ramp. What it leaves above ``z_to`` under the loop is a
    wedge, at most one lap's drop high; the next depth's ramp, starting where this one ended,
    takes the wedge with its own drop, no more than one depth at any point. With ``flat``
    (the floor) the whole loop is cut at ``z_to`` after the ramp, the wedge with it. Its ramp
    runs at the slope of the wedge the depth above left (``wedge_before`` over a lap, never
    steeper than ``slope``): the wedge falls as fast as the ramp, so the ramp meets the
    wedge's height and no more, and a floor step shallower than the wedge ramps over that
    share of a lap, not a whole one.

    Returns:
        (steps, the loop restarted where the tool is, the wedge's height there: 0 after ``flat``).
    """
    length = loop_length(loop)
    drop = z_from - z_to
    rest: Loop
    if flat:
        # a ramp steeper than the wedge before it would meet the wedge and its own drop at once
        # (up to twice the depth where the lap before began)
        down = min(slope, wedge_before / length) if wedge_before > 0.0 and length > 0.0 else slope
        steps, rest = ramp_on_loop(loop, z_from, z_to, math.degrees(math.atan(down)))
        steps.extend(_moves(rest, z_to))
        return steps, rest, 0.0
    if slope * length >= drop - 1e-12:
        steps = _moves(loop, z_to, "ramp", z_from)
        rest = tuple(loop)
        wedge = drop
    else:
        steps, rest = ramp_on_loop(loop, z_from, z_to, math.degrees(math.atan(slope)))
        wedge = slope * length
    return steps, rest, wedge


#: Most segments of a wall loop tried (longest first) for an entry point in the cleared region.
ENTRY_TRIES = 8


def finish_walls(walls: Sequence[Loop], *, z_top: float, z_floor: float, ap: float, allowance: float,
                 retract_z: float, cleared: Callable[[float, float], bool] | None = None,
                 left: list[Loop] | None = None, corner_left: float = 0.0) -> list[Step]:
    """Wall finishing to size along tool-centre ``walls`` (already oriented), level by level.

    Each level is entered from the cleared side: a feed down at a point ``allowance`` +
    10 µm off the wall (in the region roughing cleared), a straight lead-in, the loop, and
    the same lead-out. Where another wall is nearer than that (a slot barely wider than the
    tool), the point is half way across (:func:`_lead`). The point is at the middle of the
    loop's longest segment; with ``cleared`` (is a tool-centre point over what roughing
    cleared to the floor?), of the longest of its :data:`ENTRY_TRIES` longest segments whose
    point is, and a loop with none (a sliver of the region roughing never entered: its
    descent would feed the tool straight down through stock) is not finished but put in ``left``.
    ``corner_left``: the corner radius of the roughing tool's end, whose corner left that much
    more along the walls at the floor: the point is that much farther off.
    """
    out: list[Step] = []
    levels = depth_levels(z_top, z_floor, ap)
    for loop in walls:
        # the first of the longest segments: equal lengths differ in the last bits with the input
        top = max(seg.length for seg in loop)
        first = next(i for i, seg in enumerate(loop) if seg.length >= top - 1e-9)
        order = [first] + sorted((i for i in range(len(loop)) if i != first), key=lambda i: -loop[i].length)
        order = order[:ENTRY_TRIES] if cleared is not None else order[:1]
        entry = None
        for longest in order:
            a, b = loop[longest].split(0.5)
            p = b.a
            n = _left_normal(b)
            lead = _lead(p, n, allowance + corner_left + 0.01, walls)
            q = (p[0] + n[0] * lead, p[1] + n[1] * lead)
            if cleared is None or cleared(q[0], q[1]):
                entry = (longest, a, b, p, q)
                break
        if entry is None:
            if left is not None:
                left.append(loop)
            continue
        longest, a, b, p, q = entry
        loop = (b,) + tuple(loop[longest + 1:]) + tuple(loop[:longest]) + (a,)
        out.append(Rapid(q[0], q[1], retract_z))
        for z in levels:
            out.append(Feed(q[0], q[1], z, "descend"))
            out.append(Feed(p[0], p[1], z, "lead"))
            out.extend(_moves(loop, z))
            out.append(Feed(q[0], q[1], z, "lead"))
        out.append(Rapid(q[0], q[1], retract_z))
    return out


#: Depth of a wall-finishing pass as a share of the finishing tool's diameter. A finishing pass
#: takes only the finishing allowance radially (finish_allowance_mm, 20 um against the 0.4 D
#: of roughing), so its cutting force is a small share of a roughing pass's and it is not
#: stepped down like roughing (ap_over_d); one diameter per pass still keeps the tool's
#: deflection under that lighter load from tapering a deep wall. A shop setting in all but
#: name: no source gives a micro finishing depth.
FINISH_AP_OVER_D = 1.0


def finish_ap(diameter: float, depth: float) -> float:
    """Depth per wall-finishing pass of a tool of ``diameter`` on a wall ``depth`` high (equal passes)."""
    step = FINISH_AP_OVER_D * diameter
    if depth <= step + 1e-9:
        return max(depth, 1e-6)
    return depth / math.ceil(depth / step - 1e-9)


def _loop_samples(loop: Loop, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points along ``loop`` about every ``spacing`` mm: (arc length, x, y), the start once."""
    ss: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    acc = 0.0
    for sg in loop:
        length = sg.length
        if length <= 0.0:
            continue
        n = max(1, math.ceil(length / spacing))
        t = np.arange(n, dtype=float) / n
        if sg.c is None:
            px, py = sg.a[0] + (sg.b[0] - sg.a[0]) * t, sg.a[1] + (sg.b[1] - sg.a[1]) * t
        else:
            rad = math.dist(sg.a, sg.c)
            ang = math.atan2(sg.a[1] - sg.c[1], sg.a[0] - sg.c[0]) + sg.sweep * t
            px, py = sg.c[0] + rad * np.cos(ang), sg.c[1] + rad * np.sin(ang)
        ss.append(acc + t * length)
        xs.append(px)
        ys.append(py)
        acc += length
    if not ss:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.concatenate(ss), np.concatenate(xs), np.concatenate(ys)


def _piece(loop: Loop, s0: float, s1: float) -> list[Seg]:
    """The part of ``loop`` from arc length ``s0`` to ``s1`` (0 <= s0 < s1 <= its length)."""
    out: list[Seg] = []
    acc = 0.0
    for sg in loop:
        length = sg.length
        a, b = acc, acc + length
        acc = b
        if length <= 0.0 or b <= s0 + 1e-12 or a >= s1 - 1e-12:
            continue
        t0, t1 = max(0.0, (s0 - a) / length), min(1.0, (s1 - a) / length)
        piece = sg
        if t1 < 1.0 - 1e-12:
            piece = piece.split(t1)[0]
        if t0 > 1e-12:
            piece = piece.split(t0 / t1)[1]
        out.append(piece)
    return out


class RestMaterial:
    """Where a tool of radius ``r`` on wall loops meets what a larger tool left (rest material).

    The larger tool (radius ``big``) has swept every disc centred in ``centres`` (its tool-centre
    region); the smaller tool's disc at c lies inside one of those discs when c is within
    ``big - r`` of that region (inside it: distance 0). Anywhere else it meets rest material.
    """

    def __init__(self, centres: Sequence[Loop], big: float, r: float) -> None:
        self.region = Region(centres) if centres else None
        self.segs = [sg for lp in centres for sg in lp]
        self.limit = big - r + 1e-4  # 0.1 um: a disc on the larger one's edge is inside it

    def beyond(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """True where a centre at (px, py) meets rest material."""
        if self.region is None:
            return np.ones(len(px), dtype=bool)
        from dfm.cam.sim import _seg_distance

        d = np.full(len(px), np.inf)
        for sg in self.segs:
            d = np.minimum(d, _seg_distance(sg, px, py))
        return ~self.region._inside(px, py) & (d > self.limit)  # type: ignore[no-any-return]

    def flat_free(self, c: Pt, corner: float) -> bool:
        """True if the smaller tool's disc at ``c`` lies in the flat of a disc of the larger end (corner ``corner``).

        The larger end's corner leaves a band round its flat at the floor: a descent to the floor is clear
        only over the flat (the disc within ``big - corner - r`` of the larger tool's centre region).
        """
        if self.region is None or self.limit - 1e-4 - corner < -1e-9:
            return False
        from dfm.cam.sim import _seg_distance

        px, py = np.array([c[0]]), np.array([c[1]])
        if bool(self.region._inside(px, py)[0]) and self.limit - 1e-4 - corner >= 0:
            return True
        d = min((float(_seg_distance(sg, px, py)[0]) for sg in self.segs), default=math.inf)
        return d <= self.limit - corner

    def free(self, a: Pt, b: Pt) -> bool:
        """True if a centre moving straight from ``a`` to ``b`` meets no rest material (samples every 2 um)."""
        n = max(2, math.ceil(math.dist(a, b) / 0.002))
        t = np.linspace(0.0, 1.0, n + 1)
        return not self.beyond(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t).any()

    def way(self, a: Pt, b: Pt) -> list[Pt] | None:
        """A way from ``a`` to ``b`` that meets no rest material, or None.

        Straight, else through one point of the larger tool's region (its own loops, every
        0.1 mm), the shortest first.
        """
        if self.free(a, b):
            return [b]
        cands: set[Pt] = set()
        for sg in self.segs:
            n = max(1, math.ceil(sg.length / 0.1))
            cands.update(sg.point(k / n) for k in range(n))
        for w in sorted(cands, key=lambda w: math.dist(a, w) + math.dist(w, b))[:200]:
            if self.free(a, w) and self.free(w, b):
                return [w, b]
        return None

    def zones(self, loop: Loop, spacing: float = 0.002, margin: float = 0.005
              ) -> tuple[Loop, list[tuple[float, float]]]:
        """The loop restarted where it meets no rest material, and the (from, to) arc lengths where it does.

        Each stretch is widened by ``margin`` at both ends (stretches that then touch are one):
        the tool goes down and turns back there, on walls the larger tool finished.
        """
        s, px, py = _loop_samples(loop, spacing)
        hit = self.beyond(px, py) if len(s) else np.zeros(0, dtype=bool)
        total = loop_length(loop)
        if not hit.any():
            return loop, []
        if hit.all():
            raise CamError("a wall loop meets rest material all round: no place to go down on a finished wall")
        k = int(np.argmin(hit))  # a free sample: the loop restarts there
        start = float(s[k])
        if start > 0.0:
            loop = tuple(_piece(loop, start, total) + _piece(loop, 0.0, start))
            s, px, py = _loop_samples(loop, spacing)
            hit = self.beyond(px, py)
        out: list[tuple[float, float]] = []
        i = 0
        n = len(s)
        while i < n:
            if not hit[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and hit[j + 1]:
                j += 1
            lo = max(0.0, float(s[i - 1] if i > 0 else 0.0) - margin)
            hi = min(total, float(s[j + 1] if j + 1 < n else total) + margin)
            if out and lo <= out[-1][1] + 1e-9:
                out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
            i = j + 1
        return loop, out


def finish_rest(walls: Sequence[Loop], rest: RestMaterial, *, z_top: float, z_floor: float, ap: float,
                retract_z: float, corner_left: float = 0.0) -> list[Step]:
    """Rest machining: the smaller tool along its wall loops only where it meets rest material.

    Each stretch of a loop (:meth:`RestMaterial.zones`) is cut level by level (``ap``), climb,
    always from its start: down at the start (on a wall the larger tool finished), along the
    stretch, and back to the start across the corner where the way back meets no rest material
    (:meth:`RestMaterial.way`: straight or through the larger tool's region), else back along the
    stretch (cut at that level already); the last level is the floor. Between stretches the
    tool retracts. ``corner_left``: the corner radius of the larger tool's end, whose corner left
    that much along the walls at the floor: every level within that band of the floor (an R0.5
    leaves ten of 0.06; before, only the floor's was, and the rest fed straight down into the
    band above it) is entered beside the start, that far and 10 um more off the wall
    (:func:`_lead`), and led in to it. Where that point is not over the larger end's flat
    (:meth:`RestMaterial.flat_free`: a narrow place halves the lead), those levels are left.
    """
    out: list[Step] = []
    levels = depth_levels(z_top, z_floor, ap)
    if not levels:
        return out
    for wall in walls:
        loop, zones = rest.zones(wall)
        for s0, s1 in zones:
            path = _piece(loop, s0, s1)
            if not path:
                continue
            p, q = path[0].a, path[-1].b
            way = rest.way(q, p)
            home = [sg.reversed() for sg in reversed(path)]
            back: list[Feed | Arc] = ([Feed(w[0], w[1], 0.0, "link") for w in way] if way is not None else
                                      [replace(st, role="link") for st in _moves(home, 0.0)
                                       if isinstance(st, Feed | Arc)])
            aside = p
            todo = levels
            if corner_left > 0:
                n = _left_normal(path[0])
                off = _lead(p, n, corner_left + 0.01, walls)
                aside = (p[0] + n[0] * off, p[1] + n[1] * off)
                if not rest.flat_free(aside, corner_left):
                    # beside the start is no floor the larger end's flat reached (a narrow place): the levels in
                    # its corner's band are left (the guard measures what stays), never fed down into it
                    todo = [z for z in levels if z >= z_floor + corner_left - 1e-9]
                    aside = p
            if not todo:
                continue

            # the levels in the band the larger end's corner left along the walls are entered beside the start
            band = z_floor + corner_left - 1e-9 if aside != p else -math.inf
            out.append(Rapid(*(aside if todo[0] < band else p), retract_z))
            for k, z in enumerate(todo):
                if z < band:
                    if k > 0:  # along the lead cut at the level above (or above the band)
                        out.append(Feed(aside[0], aside[1], todo[k - 1], "link"))
                    out.append(Feed(aside[0], aside[1], z, "descend"))
                    out.append(Feed(p[0], p[1], z, "lead"))
                else:
                    out.append(Feed(p[0], p[1], z, "descend"))
                out.extend(_moves(path, z))
                if k < len(todo) - 1:
                    out.extend(replace(st, z=z) for st in back)
            out.append(Rapid(q[0], q[1], retract_z))
    return out


def _lead(p: Pt, n: Pt, want: float, walls: Sequence[Loop]) -> float:
    """How far off the wall at ``p`` (along ``n``, the cleared side) a lead-in point may be.

    ``want``, unless a wall (another loop, or this one across a narrow place) comes nearer to
    the point than it is to ``p``'s wall: then the largest distance that keeps the point
    nearer to its own wall, half way across the gap (a tool-centre point beyond it would put
    the tool into the far wall).
    """
    import numpy as np

    from dfm.cam.sim import _seg_distance

    segs = [sg for lp in walls for sg in lp]

    def free(d: float) -> bool:
        x, y = np.array([p[0] + n[0] * d]), np.array([p[1] + n[1] * d])
        return min(float(_seg_distance(sg, x, y)[0]) for sg in segs) >= d * (1 - 1e-6) - 1e-9

    if free(want):
        return want
    lo, hi = 0.0, want
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if free(mid) else (lo, mid)
    return lo


def face(x0: float, y0: float, x1: float, y1: float, *, z_top: float, z_final: float, tool_radius: float,
         ap: float, stepover: float, retract_z: float) -> list[Step]:
    """Zig-zag facing of the stock box from ``z_top`` down to ``z_final``; every entry is in the air."""
    out: list[Step] = []
    xa, xb = x0 - tool_radius - 0.5, x1 + tool_radius + 0.5
    ys: list[float] = []
    y = y0 - tool_radius + stepover
    while y < y1 + tool_radius:
        ys.append(y)
        y += stepover
    ys.append(min(y, y1 + tool_radius - 1e-3)) if ys and ys[-1] < y1 else None
    for z in depth_levels(z_top, z_final, ap):
        out.append(Rapid(xa, ys[0], retract_z))
        out.append(Feed(xa, ys[0], z, "descend"))
        left = True
        for k, yy in enumerate(ys):
            if k:
                out.append(Feed(xa if left else xb, yy, z, "link"))
            out.append(Feed(xb if left else xa, yy, z))
            left = not left
        last = out[-1]
        out.append(Rapid(last.x, last.y, retract_z))  # type: ignore[union-attr]
    return out


def drill(x: float, y: float, *, z_top: float, z_bottom: float, peck: float, retract_z: float) -> list[Step]:
    """Peck drilling (G83) from the R plane ``retract_z`` to ``z_bottom``."""
    return [Rapid(x, y, retract_z), DrillCycle(x, y, z_bottom, retract_z, peck), Rapid(x, y, retract_z)]


def orient_cw(loop: Loop) -> Loop:
    """The loop clockwise (an outside wall cut climb: the part on the right)."""
    return orient(loop, ccw=False)


def thread_mill(x: float, y: float, *, radii: Sequence[float], pitch: float, z_low: float, z_top: float,
                right_hand: bool, retract_z: float) -> list[Step]:
    """Helical thread milling of an internal thread on the axis (x, y), one pass per helix radius.

    Every pass climbs (counter-clockwise inside the hole, M3 spindle): from the axis, a
    half-circle lead-in to the helix radius, whole turns of one ``pitch`` each, and a
    half-circle lead-out back to the axis, each lead moving a quarter pitch along the axis.
    A right-hand thread rises counter-clockwise, so it is cut bottom-up from ``z_low``; a
    left-hand one top-down to ``z_low``. The tool tip never goes below ``z_low``, and the
    turns run until the tip is at or above ``z_top``. Between passes the tool moves along
    the axis, which is inside the already drilled hole (a ``descend`` in air).

    Raises:
        CamError: A non-positive pitch or helix radius.
    """
    if pitch <= 0 or not radii or min(radii) <= 0:
        raise CamError("thread milling needs a pitch and helix radii > 0")
    lead = pitch / 4.0
    turns = max(1, math.ceil((z_top - z_low - 2 * lead) / pitch - 1e-9))
    z_high = z_low + 2 * lead + turns * pitch
    sign = 1.0 if right_hand else -1.0
    z0 = z_low if right_hand else z_high
    out: list[Step] = [Rapid(x, y, retract_z), Feed(x, y, z0, "descend")]
    for k, rad in enumerate(radii):
        if k:
            out.append(Feed(x, y, z0, "descend") if right_hand else Rapid(x, y, z0))
        axis, start, half = (x, y), (x + rad, y), (x + rad / 2, y)
        z = z0 + sign * lead
        out.extend(_moves([Seg(axis, start, half, True)], z, "cut", z0))
        for _ in range(turns):
            z += sign * pitch
            out.extend(_moves([Seg(start, start, axis, True)], z, "cut", z - sign * pitch))
        z += sign * lead
        out.extend(_moves([Seg(start, axis, half, True)], z, "cut", z - sign * lead))
    out.append(Rapid(x, y, retract_z))
    return out
