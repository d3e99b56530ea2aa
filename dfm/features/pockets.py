"""Milled 2.5D regions — pockets, slots and steps — per approach direction.

For each axis direction A of the part's frame (+Z first), a *floor* is a planar face whose
outward normal is A and that lies below the part's top along A. Its region is the floor
plus the faces that rise from it: walls (normal ⊥ A), vertical fillets (concave cylinders
∥ A) and floor fillets, collected across concave and tangent edges. A region with walls all
round is a pocket (or a closed slot when long and narrow between two parallel walls); one
open at the ends of two parallel walls is a slot; anything open on other sides is a step.
Regions without a floor (passages cut through the part) are found from their walls.
"""

from __future__ import annotations

import math

from dfm.features.common import (
    AXES,
    Analysis,
    clean,
    cross,
    dot,
    parallel,
    sub,
)
from dfm.model import Feature, Vec3


def _frame(a: Vec3) -> tuple[Vec3, Vec3]:
    """Two in-plane unit vectors (u, v) with u × v = a, chosen from the part's axes."""
    u = (1.0, 0.0, 0.0) if abs(a[0]) < 0.9 else (0.0, 1.0, 0.0)
    u = sub(u, tuple(c * dot(u, a) for c in a))  # type: ignore[arg-type]
    n = math.sqrt(dot(u, u))
    u = (u[0] / n, u[1] / n, u[2] / n)
    v = cross(a, u)
    return u, v


def _is_wall(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    if f.kind == "plane":
        return abs(dot(f.normal, a)) < 1e-6
    if f.kind in ("cylinder", "extrusion", "bspline", "other") and f.axis is not None:
        return parallel(f.axis, a, 1e-6)
    if f.kind in ("bspline", "extrusion", "other"):
        lo, hi = f.bbox
        return False
    return False


def _is_floor_fillet(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    if not f.concave:
        return False
    if f.kind == "cylinder":
        return abs(dot(f.axis, a)) < 1e-6
    return f.kind == "torus" and parallel(f.axis, a, 1e-6)


def _extent(f, a: Vec3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    lo, hi = f.bbox
    vals = [dot((x, y, z), a) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    return min(vals), max(vals)


def find_pockets(an: Analysis) -> None:
    """Add ``pocket``, ``slot`` and ``step`` features to ``an``."""
    geo = an.geo
    body_hi = {a: max(_extent(f, a)[1] for f in geo.faces.values()) for a in AXES}
    used: set[int] = set()
    for a in AXES:
        floors = [
            f for f in geo.faces.values()
            if f.kind == "plane" and dot(f.normal, a) > 1 - 1e-9 and f.id not in an.claimed
            and f.id not in used and dot(f.origin, a) < body_hi[a] - 1e-6
        ]
        for floor in sorted(floors, key=lambda f: f.id):
            if floor.id in used:
                continue
            region = _grow(an, floor.id, a, used)
            if region is None:
                continue
            _region_feature(an, a, floor.id, region)
            used.update(region)
    _passages(an, used)
    for f in an.features:
        if f.kind in ("pocket", "slot", "step") and "depth_width_ratio" in f.dims:
            an.measure("max_pocket_depth_ratio", f.dims["depth_width_ratio"], f.faces, f.location_mm,
                       smaller_is_worse=False)


def _grow(an: Analysis, floor_id: int, a: Vec3, used: set[int]) -> set[int] | None:
    geo = an.geo
    region = {floor_id}
    todo = [floor_id]
    while todo:
        cur = todo.pop()
        for nb, edges in geo.neighbours(cur).items():
            if nb in region or nb in used or nb in an.claimed:
                continue
            conv = {geo.edges[e].convexity for e in edges}
            if not conv & {"concave", "tangent"}:
                continue
            f = geo.faces[nb]
            if _is_wall(f, a) or _is_floor_fillet(f, a):
                region.add(nb)
                todo.append(nb)
            elif f.kind == "plane" and dot(f.normal, a) > 1 - 1e-9 and "tangent" in conv:
                region.add(nb)
                todo.append(nb)
    return region if len(region) > 1 else None


def _region_feature(an: Analysis, a: Vec3, floor_id: int, region: set[int]) -> None:
    geo = an.geo
    floor = geo.faces[floor_id]
    floor_h = dot(floor.origin, a)
    walls = [geo.faces[i] for i in sorted(region) if i != floor_id and _is_wall(geo.faces[i], a)]
    if not walls:
        return
    top = max(_extent(w, a)[1] for w in walls)
    depth = top - floor_h
    if depth <= 1e-6:
        return
    # Narrowest distance between opposite walls facing each other across the void.
    width = math.inf
    width_dir: Vec3 | None = None
    planes = [w for w in walls if w.kind == "plane"]
    for i, p in enumerate(planes):
        for q in planes[i + 1:]:
            if dot(p.normal, q.normal) < -1 + 1e-9:
                gap = dot(sub(q.origin, p.origin), p.normal)
                if gap > 1e-6 and gap < width - 1e-12:
                    width, width_dir = gap, p.normal
    for w in walls:
        # a half-round slot end or a round pocket (not a quarter fillet) spans ≥ 180°
        if w.kind == "cylinder" and w.concave and (w.span_deg or 0) >= 179.9 and 2 * w.radius < width - 1e-12:
            width = 2 * w.radius
            width_dir = None if width_dir is None else width_dir
    # Outline of the floor in the approach frame.
    loops = geo.face_loops(floor_id, deflection=0.001)
    u, v = _frame(a)
    if width_dir is not None:
        u = width_dir
        v = cross(a, u)
    outer = loops[0] if loops else []
    us = [dot(p, u) for p in outer]
    vs = [dot(p, v) for p in outer]
    span_u = _exact_span(floor.bbox, u, us)
    span_v = _exact_span(floor.bbox, v, vs)
    if not math.isfinite(width):
        width = min(span_u, span_v) if width_dir is None else span_u
    length = max(span_v, span_u) if width_dir is None else span_v
    length = max(length, width)
    # Corner radii.
    vert_r = []
    floor_r = []
    for fid in region:
        f = geo.faces[fid]
        if f.kind == "cylinder" and f.concave and parallel(f.axis, a, 1e-6):
            vert_r.append(f.radius)
        elif _is_floor_fillet(f, a):
            floor_r.append(f.radius)
    sharp_vertical = sharp_floor = False
    open_faces: set[int] = set()
    for fid in region:
        for eid in geo.face_edges[fid]:
            e = geo.edges[eid]
            others = [o for o in e.faces if o != fid]
            if not others:
                continue
            o = others[0]
            if o in region and e.convexity == "concave":
                if e.kind == "line" and parallel(e.direction, a, 1e-6):
                    sharp_vertical = True
                elif fid == floor_id or o == floor_id:
                    sharp_floor = True
            if fid == floor_id and e.convexity == "convex" and o not in an.claimed:
                of = geo.faces[o]
                # the floor runs out over an outside side: a flat one, or the round of a turned flange
                if (of.kind == "plane" and abs(dot(of.normal, a)) < 1e-6) or (
                        of.kind == "cylinder" and not of.concave and parallel(of.axis, a, 1e-6)):
                    open_faces.add(o)
    min_corner = 0.0 if sharp_vertical else (min(vert_r) if vert_r else None)
    floor_radius = 0.0 if sharp_floor or not floor_r else min(floor_r)
    has_pair = width_dir is not None
    if not open_faces:
        kind = "slot" if has_pair and length >= 2 * width - 1e-9 else "pocket"
        if vert_r and not has_pair and len(walls) <= 4 and length >= 2 * width - 1e-9:
            kind = "slot"
        if not has_pair and any(w.kind == "cylinder" and (w.span_deg or 0) >= 179.9
                                and abs(2 * w.radius - width) < 1e-6 for w in walls) \
                and length >= 2 * width - 1e-9:
            kind = "slot"
    elif width_dir is not None and all(
            geo.faces[o].kind == "cylinder" or abs(dot(geo.faces[o].normal, width_dir)) < 1e-6 for o in open_faces):
        # open at its ends only: across flat ends, or out over a round side (a slot across a disc)
        kind = "slot"
    else:
        kind = "step"
    dims = {
        "width_mm": width,
        "length_mm": length,
        "depth_mm": depth,
        "depth_width_ratio": depth / width if width > 0 else math.inf,
        "floor_radius_mm": floor_radius,
    }
    if min_corner is not None:
        dims["min_corner_radius_mm"] = min_corner
        if min_corner > 0:
            dims["depth_radius_ratio"] = depth / min_corner
    frame_u, frame_v = _frame(a)
    props = {
        "approach": list(clean(a)),
        "open": bool(open_faces),
        "open_sides": len(open_faces),
        "through": False,
        "floor": "flat",
        "floor_face": floor_id,
        "floor_z_mm": round(floor_h, 9),
        "top_z_mm": round(top, 9),
        "frame_u": list(clean(frame_u)),
        "frame_v": list(clean(frame_v)),
        "outline": [[round(dot(p, frame_u), 6), round(dot(p, frame_v), 6)] for p in outer],
        "islands": [[[round(dot(p, frame_u), 6), round(dot(p, frame_v), 6)] for p in loop] for loop in loops[1:]],
    }
    fid_ = an.new_id(kind)
    loc = floor.centroid
    an.features.append(Feature(fid_, kind, tuple(sorted(region)), dims, props, clean(loc), clean(a)))
    for i in region:
        an.claimed.setdefault(i, fid_)


def _exact_span(box: tuple[Vec3, Vec3], direction: Vec3, along: list[float]) -> float:
    """Extent of the floor along an axis ``direction``, exact from its optimal box.

    The outline points are a discretisation (chord error up to the deflection, 1 um), so a
    round floor of Ø8 would measure 7.999; off an axis the points are all there is.
    """
    for k in range(3):
        if abs(abs(direction[k]) - 1.0) < 1e-12:
            return box[1][k] - box[0][k]
    return (max(along) - min(along)) if along else 0.0


def _min_gap(planes: list) -> float:  # type: ignore[type-arg]
    """Smallest gap (> 1 um) between opposed planes, from each earlier plane along its normal.

    The same products and sums as ``dot(p.normal, q.normal)`` and ``dot(q.origin - p.origin,
    p.normal)`` for every pair p before q, one numpy row per p (a through slot along a comb
    of thousands of teeth has millions of pairs); inf when no pair is opposed.
    """
    import numpy as np

    width = math.inf
    if len(planes) < 2:
        return width
    nrm = np.array([p.normal for p in planes], dtype=float)
    org = np.array([p.origin for p in planes], dtype=float)
    for i in range(len(planes) - 1):
        n, o = nrm[i], org[i]
        qn, qo = nrm[i + 1:], org[i + 1:]
        opposed = qn[:, 0] * n[0] + qn[:, 1] * n[1] + qn[:, 2] * n[2] < -1 + 1e-9
        if not opposed.any():
            continue
        rel = qo[opposed] - o
        gap = rel[:, 0] * n[0] + rel[:, 1] * n[1] + rel[:, 2] * n[2]
        gap = gap[gap > 1e-6]
        if len(gap):
            width = min(width, float(gap.min()))
    return width


def _passages(an: Analysis, used: set[int]) -> None:
    """Through slots and passages: loops of walls with no floor, open at both ends."""
    geo = an.geo
    for a in AXES[::2]:  # one of each ± pair: a through region is the same from both sides
        cands = {f.id for f in geo.faces.values() if f.id not in used and f.id not in an.claimed
                 and _is_wall(f, a)}
        seen: set[int] = set()
        for seed in sorted(cands):
            if seed in seen:
                continue
            comp = {seed}
            todo = [seed]
            while todo:
                cur = todo.pop()
                for nb, edges in geo.neighbours(cur).items():
                    if nb in cands and nb not in comp and {geo.edges[e].convexity for e in edges} & {
                            "concave", "tangent"}:
                        comp.add(nb)
                        todo.append(nb)
            seen |= comp
            planes = [geo.faces[i] for i in comp if geo.faces[i].kind == "plane"]
            width = _min_gap(planes)
            if len(comp) < 2 or not math.isfinite(width):
                continue
            lo = min(_extent(geo.faces[i], a)[0] for i in comp)
            hi = max(_extent(geo.faces[i], a)[1] for i in comp)
            depth = hi - lo
            concave_vertical = [
                geo.edges[e] for i in comp for e in geo.face_edges[i]
                if geo.edges[e].convexity == "concave" and all(f in comp for f in geo.edges[e].faces)
            ]
            vert_r = [geo.faces[i].radius for i in comp if geo.faces[i].kind == "cylinder" and geo.faces[i].concave]
            min_corner = 0.0 if concave_vertical else (min(vert_r) if vert_r else None)
            closed = len(planes) >= 4 or (vert_r and len(planes) >= 2)
            kind = "pocket" if closed else "slot"
            dims = {"width_mm": width, "depth_mm": depth, "depth_width_ratio": depth / width,
                    "floor_radius_mm": 0.0}
            if min_corner is not None:
                dims["min_corner_radius_mm"] = min_corner
                if min_corner > 0:
                    dims["depth_radius_ratio"] = depth / min_corner
            pid = an.new_id(kind)
            props = {"approach": list(clean(a)), "open": not closed, "through": True, "floor": "through",
                     "top_z_mm": round(hi, 9), "floor_z_mm": round(lo, 9)}
            centre = geo.faces[min(comp)].centroid
            an.features.append(Feature(pid, kind, tuple(sorted(comp)), dims, props, clean(centre), clean(a)))
            for i in comp:
                an.claimed.setdefault(i, pid)
