"""Cylindrical holes: diameter, depth, through/blind, bottom form, counterbore/countersink stacks.

A hole is a connected set of coaxial concave surfaces of revolution (full cylinders, cones)
and the flat annuli or bottoms between them. Whether an end is open is decided by the
exact solid classifier just beyond the end on the axis, so holes that start in a pocket
floor or cross another hole are handled like any other. A bore whose floor is filleted (a
concave torus round it) is no hole: a drill leaves no fillet, and a square end mill
interpolating a hole cuts it away. Its wall, fillet and floor are left to the pocket
analyser, which measures a round pocket with its ``floor_radius_mm``; what lies below its
floor (a hole through it) is a hole from that floor, as from any pocket's.

Depths are exact: a bore's extent along its axis is read from its boundary (a sloped entry's
rim is an ellipse; the deepest side, where the cutter must reach, sets ``depth_mm``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dfm import threads
from dfm.features.common import (
    Analysis,
    add,
    add_chamfers,
    canonical_axis,
    clean,
    connected_sets,
    dot,
    mul,
    parallel,
    sub,
)
from dfm.model import Feature, Vec3

_FULL = 359.0  # degrees: a cylinder spanning this much is a full bore


@dataclass
class _Segment:
    radius: float
    t0: float
    t1: float
    faces: list[int]
    span: float


def _axis_key(origin: Vec3, axis: Vec3) -> tuple[Vec3, Vec3]:
    d = canonical_axis(axis)
    p0 = sub(origin, mul(d, dot(origin, d)))  # foot of the axis line nearest the origin
    return d, p0


def _same_line(a: tuple[Vec3, Vec3], b: tuple[Vec3, Vec3], tol: float = 1e-6) -> bool:
    if not parallel(a[0], b[0], 1e-9):
        return False
    diff = sub(a[1], b[1])
    return math.sqrt(dot(diff, diff)) <= tol


def find_holes(an: Analysis) -> None:
    """Add ``hole`` features (and the hole measurements) to ``an``."""
    geo = an.geo
    revol = [f for f in geo.faces.values() if f.kind in ("cylinder", "cone") and f.concave and f.axis is not None]
    groups: list[tuple[tuple[Vec3, Vec3], list]] = []
    # Two coarse hashes of the axis line, offset by half a bucket, so that lines equal
    # to 1e-6 always share at least one bucket.
    index: dict[tuple, list[int]] = {}
    for f in revol:
        key = _axis_key(f.origin, f.axis)
        coords = key[0] + key[1]
        hashes = [(0, *(round(x, 4) for x in coords)), (1, *(round(x + 5e-5, 4) for x in coords))]
        found = None
        for h in hashes:
            for gi in index.get(h, []):
                if _same_line(groups[gi][0], key):
                    found = gi
                    break
            if found is not None:
                break
        if found is None:
            groups.append((key, [f]))
            found = len(groups) - 1
        else:
            groups[found][1].append(f)
        for h in hashes:
            bucket = index.setdefault(h, [])
            if found not in bucket:
                bucket.append(found)

    bores: list[_Bore] = []
    for (d, p0), members in groups:
        ids = {f.id for f in members}
        # Flat faces perpendicular to the axis joined to the group by a concave edge
        # (hole bottoms, counterbore floors).
        for f in members:
            for nb, edges in geo.neighbours(f.id).items():
                nf = geo.faces[nb]
                if nf.kind == "plane" and parallel(nf.normal, d) and any(
                    geo.edges[e].convexity == "concave" for e in edges
                ):
                    ids.add(nb)
        ids |= _floor_fillets(geo, members, (d, p0))
        todo = connected_sets(geo, ids)
        while todo:
            comp = todo.pop(0)
            if _round_boss(geo, comp, (d, p0)):
                continue  # a groove round a boss (an O-ring groove): a milled annular slot, not a hole
            bore = _bore(geo, comp, d, p0)
            if bore is not None and bore.filleted:
                # A bore with a filleted floor is milled by a corner-radius end mill, not drilled or
                # interpolated by a square one: its faces (wall, fillet, floor) are left to the pocket
                # analyser (a round pocket with floor_radius_mm); the rest may still be a hole (one
                # that starts from that floor, as from any pocket's).
                gone = set(bore.filleted)
                for t in bore.filleted:
                    if geo.faces[t].kind == "torus":
                        gone |= {nb for nb in geo.neighbours(t) if nb in comp and geo.faces[nb].kind == "plane"}
                todo[:0] = connected_sets(geo, comp - gone)
                continue
            if bore is not None:
                bores.append(bore)
    # whether each bore is open at its ends: every ray of every bore in one batch
    ends = geo.is_void_many([q for b in bores for q in b.ends], [v for b in bores for v in (b.d, mul(b.d, -1.0))])
    for i, bore in enumerate(bores):
        _hole_from(an, bore, ends[2 * i], ends[2 * i + 1])

    holes = [f for f in an.features if f.kind == "hole"]
    for hole in holes:
        an.measure("min_hole_diameter_mm", hole.dims["diameter_mm"], hole.faces, hole.location_mm)
        an.measure("max_hole_depth_ratio", hole.dims["depth_diameter_ratio"], hole.faces, hole.location_mm,
                   smaller_is_worse=False)


def _floor_fillets(geo, members: list, line: tuple[Vec3, Vec3]) -> set[int]:  # type: ignore[no-untyped-def]
    """The fillets round the floors of the group's bores, and the floors they blend into.

    A floor fillet is a concave torus on the bore's axis line whose outer equator is the
    bore's wall (major + minor radius = the bore's radius), next to that bore and to a flat
    face square to the axis (its floor). Without them a filleted blind bore has
    no bottom of its own and its open-end test looks into the fillet's void.
    """
    d = line[0]
    out: set[int] = set()
    for f in members:
        if f.kind != "cylinder":
            continue
        for nb in geo.neighbours(f.id):
            t = geo.faces[nb]
            if (t.kind != "torus" or not t.concave or t.axis is None or t.major_radius is None
                    or abs(t.major_radius + t.radius - f.radius) > 1e-6
                    or not _same_line(_axis_key(t.origin, t.axis), line)):
                continue
            floors = [nb2 for nb2, edges in geo.neighbours(nb).items()
                      if geo.faces[nb2].kind == "plane" and parallel(geo.faces[nb2].normal, d)
                      and any(geo.edges[e].convexity in ("tangent", "concave") for e in edges)]
            if floors:  # a torus blending the bore into a taper or a curved bottom is no floor fillet
                out.add(nb)
                out.update(floors)
    return out


def _round_boss(geo, comp: set[int], line: tuple[Vec3, Vec3]) -> bool:  # type: ignore[no-untyped-def]
    """True when a bottom of the bore meets a convex cylinder on the same axis (a boss inside it).

    A boss whose foot is filleted meets the bottom through a concave torus on the axis that is
    no fillet of the bore's own (not in ``comp``).
    """
    for fid in comp:
        if geo.faces[fid].kind != "plane":
            continue
        for nb, edges in geo.neighbours(fid).items():
            f = geo.faces[nb]
            if f.axis is None or not _same_line(_axis_key(f.origin, f.axis), line):
                continue
            if f.kind in ("cylinder", "cone") and f.concave is False and any(
                    geo.edges[e].convexity == "concave" for e in edges):
                return True
            if f.kind == "torus" and f.concave and nb not in comp:
                return True
    return False


def _axial_range(geo, f, d: Vec3, p0: Vec3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(min, max) of face ``f`` along the axis (d, p0), exact.

    ``FaceInfo.axial`` samples the face's UV box, which is loose where the bore meets a face
    that is not square to it (a sloped entry: the rim is an ellipse, and the box over-reads the
    depth). The extremes of a cylinder or cone along its axis lie on its boundary: circles
    square to the axis and lines give theirs exactly; any other edge is sampled evenly in its
    parameter and its extreme refined by a parabola through the best sample and its
    neighbours (far below 1 nm on a bore's rim).
    """
    base = dot(sub(f.origin, p0), d)
    sign = 1.0 if dot(f.axis, d) > 0 else -1.0
    a, b = f.axial
    lo, hi = sorted((base + sign * a, base + sign * b))
    edges = [geo.edges[e] for e in geo.face_edges[f.id]]
    if f.kind not in ("cylinder", "cone") or all(
            (e.kind == "circle" and e.axis is not None and parallel(e.axis, d, 1e-9)) or e.kind == "line"
            for e in edges):
        return (lo, hi)
    vals: list[float] = []
    for e in edges:
        if e.kind in ("circle", "line") and (e.kind == "line" or (e.axis is not None and parallel(e.axis, d, 1e-9))):
            vals += [dot(sub(e.start, p0), d), dot(sub(e.end, p0), d)]
            continue
        hs = [dot(sub(q, p0), d) for q in geo.edge_points(e.id, 257)]
        closed = math.dist(e.start, e.end) < 1e-9
        vals += [hs[0], hs[-1]]
        ring = hs[:-1] if closed else hs
        n = len(ring)
        for pick in (max, min):
            k = ring.index(pick(ring))
            if not closed and (k == 0 or k == n - 1):
                continue  # at an end: the vertex itself
            y0, y1, y2 = ring[(k - 1) % n], ring[k], ring[(k + 1) % n]
            den = y0 - 2.0 * y1 + y2
            vals.append(y1 - (y2 - y0) ** 2 / (8.0 * den) if abs(den) > 1e-15 else y1)
    return (min(vals), max(vals))


@dataclass
class _Bore:
    """A set of coaxial faces with full-round segments, before its ends are tested (see :func:`_bore`)."""

    comp: set[int]
    d: Vec3
    p0: Vec3
    cyls: list
    cones: list
    planes: list
    segments: list
    tmin: float
    tmax: float
    ends: tuple[Vec3, Vec3]  # just beyond the top (along d) and the bottom (along -d)
    ranges: dict[int, tuple[float, float]]  # face id -> its exact (min, max) along d (cylinders, cones, tori)
    filleted: list[int]  # faces of the segments whose floor is filleted, and the fillets (see find_holes)


def _bore(geo, comp: set[int], d: Vec3, p0: Vec3) -> _Bore | None:  # type: ignore[no-untyped-def]
    """The full-round segments of ``comp`` along the axis (d, p0), or None when it has none."""
    faces = [geo.faces[i] for i in sorted(comp)]

    ranges_of = {f.id: _axial_range(geo, f, d, p0) for f in faces if f.kind in ("cylinder", "cone", "torus")}

    def axial(f) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        return ranges_of[f.id]

    cyls = [f for f in faces if f.kind == "cylinder"]
    cones = [f for f in faces if f.kind == "cone"]
    planes = [f for f in faces if f.kind == "plane"]
    tori = [f for f in faces if f.kind == "torus"]
    segments: list[_Segment] = []
    for f in sorted(cyls, key=lambda f: (round(f.radius, 7), axial(f))):
        t0, t1 = axial(f)
        for s in segments:
            if abs(s.radius - f.radius) <= 1e-7 and t0 <= s.t1 + 1e-6 and t1 >= s.t0 - 1e-6:
                overlap = min(t1, s.t1) - max(t0, s.t0)
                # halves of one bore add their spans; stacked pieces extend the segment
                s.span = s.span + f.span_deg if overlap > 1e-6 else max(s.span, f.span_deg)
                s.t0, s.t1 = min(s.t0, t0), max(s.t1, t1)
                s.faces.append(f.id)
                break
        else:
            segments.append(_Segment(f.radius, t0, t1, [f.id], f.span_deg))
    segments = [s for s in segments if s.span >= _FULL]
    if not segments:
        return None
    filleted: list[int] = []  # the faces of the bores with a floor fillet (their walls and fillets)
    fillets = []
    for t in tori:
        t0, t1 = axial(t)
        for s in segments:
            if abs(s.radius - (t.major_radius + t.radius)) <= 1e-6 and t0 <= s.t1 + 1e-6 and t1 >= s.t0 - 1e-6:
                filleted += [t.id, *s.faces]
                fillets.append(t)
                break
    ranges = [axial(f) for f in cyls + cones + fillets]
    tmin = min(r[0] for r in ranges)
    tmax = max(r[1] for r in ranges)
    rmin = min(s.radius for s in segments)
    eps = min(0.01, 0.2 * rmin)
    return _Bore(comp, d, p0, cyls, cones, planes, segments, tmin, tmax,
                 (add(p0, mul(d, tmax + eps)), add(p0, mul(d, tmin - eps))), ranges_of, sorted(set(filleted)))


def _hole_from(an: Analysis, bore: _Bore, top_open: bool, bot_open: bool) -> None:
    geo = an.geo
    comp, d, p0 = bore.comp, bore.d, bore.p0
    cones, planes, segments = bore.cones, bore.planes, bore.segments
    tmin, tmax = bore.tmin, bore.tmax

    def axial(f) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        return bore.ranges[f.id]

    if not top_open and not bot_open:
        return  # an internal cavity, not a machinable hole
    through = top_open and bot_open
    if through:
        # Enter from the side with the larger opening (counterbore side); else the +Z-most.
        # the opening's radius: a bore or a countersink cone that reaches that end
        def end_radius(top: bool) -> float:
            t_end = tmax if top else tmin
            rs = [s.radius for s in segments if abs((s.t1 if top else s.t0) - t_end) < 1e-6]
            for c in cones:
                if abs(axial(c)[1 if top else 0] - t_end) < 1e-6:
                    rs += [geo.edges[e].radius or 0.0 for e in geo.face_edges[c.id] if geo.edges[e].kind == "circle"]
            return max(rs, default=0.0)

        r_top, r_bot = end_radius(True), end_radius(False)
        from_top = r_top > r_bot + 1e-7 or (abs(r_top - r_bot) <= 1e-7 and _prefer(d) >= _prefer(mul(d, -1)))
    else:
        from_top = top_open
    approach = d if from_top else mul(d, -1.0)
    # Work in "depth" coordinates: 0 at the opening, growing into the part.
    opening_t = tmax if from_top else tmin

    def depth(t: float) -> float:
        return (opening_t - t) if from_top else (t - opening_t)

    main = min(segments, key=lambda s: (s.radius, -abs(s.t1 - s.t0)))
    m_near, m_far = sorted((depth(main.t0), depth(main.t1)))
    stack = []
    for s in sorted(segments, key=lambda s: min(depth(s.t0), depth(s.t1))):
        if s is main:
            continue
        near, far = sorted((depth(s.t0), depth(s.t1)))
        stack.append({"kind": "counterbore", "diameter_mm": round(2 * s.radius, 9), "depth_mm": round(far - near, 9),
                      "from_mm": round(near, 9), "side": "entry" if near < m_near else "exit",
                      "faces": sorted(s.faces)})
    point_angle = None
    bottom = "through" if through else "other"
    for c in cones:
        near, far = sorted((depth(axial(c)[0]), depth(axial(c)[1])))
        if not through and abs(near - m_far) < 1e-6:
            bottom = "drill-point"
            point_angle = 2.0 * c.half_angle_deg
        elif far <= m_near + 1e-6:
            radii = [geo.edges[e].radius for e in geo.face_edges[c.id] if geo.edges[e].kind == "circle"]
            stack.append({"kind": "countersink", "diameter_mm": round(2 * max(radii or [c.radius]), 9),
                          "angle_deg": round(2.0 * c.half_angle_deg, 6), "depth_mm": round(far - near, 9),
                          "from_mm": round(near, 9), "side": "entry", "faces": [c.id]})
    if not through and bottom == "other":
        for pl in planes:
            if abs(depth(dot(sub(pl.origin, p0), d)) - m_far) < 1e-6:
                bottom = "flat"
    diameter = 2.0 * main.radius
    depth_mm = m_far - m_near
    total = (tmax - tmin)
    dims = {
        "diameter_mm": diameter,
        "depth_mm": depth_mm,
        "total_depth_mm": total,
        # the bore's own length: a counterbore or countersink above it is cut by its own tool
        "depth_diameter_ratio": depth_mm / diameter,
    }
    if point_angle is not None:
        dims["point_angle_deg"] = point_angle
    tilt = math.degrees(math.acos(min(1.0, max(abs(x) for x in approach))))
    if tilt > 1e-6:
        dims["tilt_deg"] = tilt
    props = {
        "through": through,
        "bottom": bottom,
        "approach": list(clean(approach)),
        "stack": sorted(stack, key=lambda e: (e["from_mm"], e["kind"])),
        "drill_depth_mm": round(m_far, 9),
        # the faces of the bore of diameter_mm alone (a tolerance on it is not on the counterbore)
        "bore_faces": sorted(main.faces),
    }
    if tilt > 1e-6:
        props["setup"] = "3+2"  # square to no machine axis: the part is tilted to it (DFM651)
    cands = threads.tap_drill_candidates(diameter)
    if cands:
        props["candidate_thread"] = cands[0].designation
        props["candidate_threads"] = [c.designation for c in cands]
    hid = an.new_id("hole")
    loc = add(p0, mul(d, opening_t))
    an.features.append(Feature(hid, "hole", tuple(sorted(comp)), dims, props, clean(loc), clean(approach)))
    for fid in comp:
        an.claimed.setdefault(fid, hid)
    sinks = [c.id for c in cones if any(c.id in e["faces"] for e in stack if e["kind"] == "countersink")]  # type: ignore[operator]
    add_chamfers(an, sinks, approach, hid, "entry")


def _prefer(v: Vec3) -> float:
    # +Z first, then +Y, then +X: the usual first setup.
    return v[2] * 4 + v[1] * 2 + v[0]
