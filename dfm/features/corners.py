"""Internal corners: concave edges and concave fillet faces, classified against the approach.

* ``vertical``: the corner runs along the tool axis. An end mill leaves its own radius
  there, so the corner radius limits the cutter diameter (0 = sharp: no end mill makes it).
* ``floor``: the corner runs across the tool axis, between a floor and a wall. The
  tool's corner form (square, bull-nose, ball) must match its radius.
* ``other``: neither (sloped or compound corners).
* ``obtuse``: a sharp edge that would be vertical but whose faces open wider than
  :data:`~dfm.features.common.OBTUSE_DEG` across the void (the floor of a shallow V-groove):
  a cutter's radius leaves only a sliver there, so it limits no tool (``angle_deg`` in dims).

The approach of a corner is an axis direction from which the void at the corner is open
(a ray from the corner's void side leaves the part without hitting it), preferring +Z,
then the other axes.
"""

from __future__ import annotations

import math

from dfm.features.common import (
    AXES,
    DRAFT_MAX_DEG,
    Analysis,
    add,
    clean,
    cone_floor_radius,
    dot,
    drafted_cone,
    mul,
    norm,
    obtuse,
    opening_deg,
    parallel,
    sub,
    unit,
)
from dfm.model import Feature, Vec3


def _open_from(geo, point: Vec3, direction: Vec3, known: dict | None = None) -> bool:  # type: ignore[no-untyped-def,type-arg]
    if known is not None:
        hit = known.get((point, direction))
        if hit is not None:
            return hit
    return not geo.ray_hits(point, direction, first_only=True)


def _prefetch(geo, rays: list[tuple[Vec3, Vec3]], known: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Cast the open-direction rays of many corners in one batch; ``known[(point, direction)]`` is open."""
    rays = [r for r in dict.fromkeys(rays) if r not in known]
    hits = geo.ray_hits_many([p for p, _ in rays], [d for _, d in rays], [1e9] * len(rays), first_only=True)
    for r, h in zip(rays, hits, strict=True):
        known[r] = not h


def _floor_axes(f1, f2) -> list[Vec3]:  # type: ignore[no-untyped-def]
    """The axes a floor corner between f1 and f2 may open along (a planar face facing the axis)."""
    return [a for a in AXES if any(fa.kind == "plane" and parallel(fa.normal, a, 1e-6) and dot(fa.normal, a) > 0
                                   for fa in (f1, f2))]


def find_corners(an: Analysis) -> None:
    """Add ``corner`` features and the corner measurements to ``an``."""
    geo = an.geo
    floor_groups: dict[tuple[int, Vec3], list[int]] = {}

    # 1. Sharp concave edges. Their rays are cast in two batches first (the vertical axes,
    # then the floor axes of the corners that are not vertical); the decisions below are
    # those of one ray at a time.
    by_id = {f.id: f for f in an.features}
    corners = []
    for e in geo.edges.values():
        if e.convexity != "concave" or len(e.faces) != 2:
            continue
        f1, f2 = (geo.faces[i] for i in e.faces)
        owner1, owner2 = an.claimed.get(f1.id), an.claimed.get(f2.id)
        owners = [by_id[o] for o in (owner1, owner2) if o in by_id]
        if owner1 is not None and owner1 == owner2 and owners and owners[0].kind in _DRILLED:
            continue  # inside a hole (bottom or counterbore step): drilling, not milling
        if any(o.kind == "undercut" for o in owners):
            # an edge of an undercut: no straight cutter's axis runs along it
            _add_corner(an, "other", None, 0.0, (f1.id, f2.id), (e.id,), e.length, e.midpoint)
            continue
        region = next((o for o in owners if o.kind in _REGIONS), None)
        if region is not None:
            _region_corner(an, region, e, f1, f2, floor_groups)
            continue
        n1 = geo.face_normal_at(f1.id, e.midpoint)
        n2 = geo.face_normal_at(f2.id, e.midpoint)
        if n1 is None or n2 is None:
            continue
        bis = unit(add(n1, n2))
        eps = max(1e-4, min(0.01, e.length * 0.05))
        corners.append((e, f1, f2, add(e.midpoint, mul(bis, eps))))
    known: dict[tuple[Vec3, Vec3], bool] = {}
    _prefetch(geo, [(void_pt, a) for e, _, _, void_pt in corners if e.kind == "line"
                    for a in AXES if parallel(a, e.direction, 1e-6)], known)
    _prefetch(geo, [(void_pt, a) for e, f1, f2, void_pt in corners
                    if e.kind != "line" or not any(known.get((void_pt, a)) for a in AXES)
                    for a in _floor_axes(f1, f2)], known)
    for e, f1, f2, void_pt in corners:
        if e.kind == "line":
            t = e.direction
            vert = [a for a in AXES if parallel(a, t, 1e-6) and _open_from(geo, void_pt, a, known)]
            if vert:
                _vertical_or_obtuse(an, e, f1, f2, vert[0])
                continue
        # Floor corner: one face faces an open axis direction and the edge lies across it.
        floor = None
        for a in AXES:
            for fa, fb in ((f1, f2), (f2, f1)):
                if fa.kind == "plane" and parallel(fa.normal, a, 1e-6) and dot(fa.normal, a) > 0:
                    if _open_from(geo, void_pt, a, known):
                        floor = (a, fa.id, fb.id)
                        break
            if floor:
                break
        if floor:
            a, floor_face, _wall = floor
            floor_groups.setdefault((floor_face, a), []).append(e.id)
            continue
        _add_corner(an, "other", None, 0.0, (f1.id, f2.id), (e.id,), e.length, e.midpoint)

    for (floor_face, a), edge_ids in sorted(floor_groups.items()):
        walls = sorted({f for eid in edge_ids for f in geo.edges[eid].faces if f != floor_face})
        length = sum(geo.edges[eid].length for eid in edge_ids)
        mid = geo.edges[edge_ids[0]].midpoint
        _add_corner(an, "floor", a, 0.0, tuple(sorted({floor_face, *walls})), tuple(sorted(edge_ids)), length, mid,
                    depth=0.0)

    # 2. Concave fillet faces (partial cylinders and tori).
    for f in geo.faces.values():
        if not f.concave or f.kind not in ("cylinder", "torus", "cone"):
            continue
        owner = by_id.get(an.claimed.get(f.id, ""))
        if f.kind == "cone":  # only the blend of a drafted region's walls: a corner of it, radius at the floor
            a_: Vec3 | None = tuple(owner.props["approach"]) if owner is not None and owner.kind in _REGIONS \
                else None  # type: ignore[assignment]
            if a_ is not None and drafted_cone(f, a_):
                ext = [dot(f.origin, a_) + t * dot(f.axis, a_) for t in f.axial]
                nbrs = tuple(sorted(nb for nb, es in geo.neighbours(f.id).items()
                                    if any(geo.edges[e].convexity == "tangent" for e in es)))
                _add_corner(an, "vertical", a_, cone_floor_radius(f, a_), (f.id,) + nbrs, (), max(ext) - min(ext),
                            f.centroid, depth=max(ext) - min(ext))
            continue
        if owner is not None and owner.kind not in _REGIONS and owner.kind != "undercut":
            continue
        if f.kind == "cylinder" and f.span_deg is not None and f.span_deg >= 359.0:
            continue  # a full bore that is not a hole (internal cavity, a groove's outer wall); not a corner
        r = f.radius
        if owner is not None:
            _region_fillet(an, owner, f)
            continue
        if f.kind == "cylinder":
            lo, hi = f.axial
            mid_axis = add(f.origin, mul(f.axis, (lo + hi) / 2))
            # a point just off the fillet towards its axis is in the void
            to_axis = sub(mid_axis, f.centroid)
            probe = add(f.centroid, mul(unit(to_axis), min(r * 0.5, 0.01))) if norm(to_axis) > 0 else mid_axis
            vert = [a for a in AXES if parallel(a, f.axis, 1e-6) and _open_from(geo, probe, a)]
            nbrs = tuple(sorted(nb for nb, es in geo.neighbours(f.id).items()
                                if any(geo.edges[e].convexity == "tangent" for e in es)))
            if vert:
                _add_corner(an, "vertical", vert[0], r, (f.id,) + nbrs, (), hi - lo, f.centroid, depth=hi - lo)
                continue
            across = [a for a in AXES if abs(dot(a, f.axis)) < 1e-6 and _open_from(geo, probe, a)]
            if across:
                _add_corner(an, "floor", across[0], r, (f.id,) + nbrs, (), hi - lo, f.centroid, depth=0.0)
                continue
            _add_corner(an, "other", None, r, (f.id,) + nbrs, (), hi - lo, f.centroid)
        else:  # torus: the blend of a floor fillet round a vertical corner
            torus_axis = next((ax for ax in AXES if parallel(ax, f.axis, 1e-6)), None)
            _add_corner(an, "floor" if torus_axis else "other", torus_axis, r, (f.id,), (), 0.0, f.centroid, depth=0.0)

    for c in an.features:
        if c.kind != "corner":
            continue
        if c.props["orientation"] == "vertical":
            an.measure("min_internal_corner_radius_mm", c.dims["radius_mm"], c.faces, c.location_mm)
        elif c.props["orientation"] == "floor":
            an.measure("min_floor_corner_radius_mm", c.dims["radius_mm"], c.faces, c.location_mm)


_DRILLED = ("hole", "thread")
_REGIONS = ("pocket", "slot", "step")


def _region_corner(an: Analysis, region: Feature, e, f1, f2,  # type: ignore[no-untyped-def]
                   floor_groups: dict[tuple[int, Vec3], list[int]]) -> None:
    """A sharp concave edge of a pocket, slot or step, classified against that feature's approach.

    Only an edge along the approach is a vertical corner; an edge across it is a floor
    corner even where the feature is open along the edge (a slot open at both ends).
    """
    a: Vec3 = tuple(region.props["approach"])  # type: ignore[assignment]
    if e.kind == "line" and (parallel(e.direction, a, 1e-6) or _drafted_corner(e, f1, f2, a)):
        _vertical_or_obtuse(an, e, f1, f2, a)
        return
    across = (e.kind == "line" and abs(dot(e.direction, a)) < 1e-6) or (
        e.kind == "circle" and e.axis is not None and parallel(e.axis, a, 1e-6))
    floor = next((f for f in (f1, f2) if f.kind == "plane" and dot(f.normal, a) > 1 - 1e-9), None)
    if floor is not None or across:
        key = floor.id if floor is not None else int(region.props.get("floor_face") or min(f1.id, f2.id))
        floor_groups.setdefault((key, a), []).append(e.id)
        return
    _add_corner(an, "other", None, 0.0, (f1.id, f2.id), (e.id,), e.length, e.midpoint)


def _drafted_corner(e, f1, f2, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A line edge within the draft limit of the approach where a drafted wall meets another wall.

    Two walls of a drafted pocket meet there as two vertical walls do: a cutter leaves its
    radius in the corner (a tapered end mill as much as a straight one).
    """
    drafted = [f for f in (f1, f2) if f.kind == "plane" and 1e-6 <= dot(f.normal, a) <= math.sin(
        math.radians(DRAFT_MAX_DEG)) + 1e-12]
    walls = [f for f in (f1, f2) if f.kind == "plane" and dot(f.normal, a) <= math.sin(
        math.radians(DRAFT_MAX_DEG)) + 1e-12 and dot(f.normal, a) > -1e-6]
    return bool(drafted) and len(walls) == 2 and abs(dot(e.direction, a)) >= math.cos(math.radians(DRAFT_MAX_DEG))


def _vertical_or_obtuse(an: Analysis, e, f1, f2, a: Vec3) -> None:  # type: ignore[no-untyped-def]
    """A sharp edge along approach ``a``: a vertical corner, or an obtuse one no cutter's radius is limited by."""
    if obtuse(an.geo, e):
        _add_corner(an, "obtuse", None, 0.0, (f1.id, f2.id), (e.id,), e.length, e.midpoint,
                    angle=opening_deg(an.geo, e))
        return
    depth = abs(dot(e.direction, a)) * e.length if not parallel(e.direction, a, 1e-6) else None
    _add_corner(an, "vertical", a, 0.0, (f1.id, f2.id), (e.id,), e.length, e.midpoint, depth=depth)


def _region_fillet(an: Analysis, owner: Feature, f) -> None:  # type: ignore[no-untyped-def]
    """A concave fillet face of a pocket, slot or step (or of an undercut), against its approach."""
    geo = an.geo
    nbrs = tuple(sorted(nb for nb, es in geo.neighbours(f.id).items()
                        if any(geo.edges[e].convexity == "tangent" for e in es)))
    if owner.kind == "undercut":
        _add_corner(an, "other", None, f.radius, (f.id,) + nbrs, (), 0.0, f.centroid)
        return
    a: Vec3 = tuple(owner.props["approach"])  # type: ignore[assignment]
    if f.kind == "torus":
        _add_corner(an, "floor" if parallel(f.axis, a, 1e-6) else "other", a if parallel(f.axis, a, 1e-6) else None,
                    f.radius, (f.id,), (), 0.0, f.centroid, depth=0.0)
        return
    lo, hi = f.axial
    if parallel(f.axis, a, 1e-6):
        _add_corner(an, "vertical", a, f.radius, (f.id,) + nbrs, (), hi - lo, f.centroid, depth=hi - lo)
    elif abs(dot(f.axis, a)) < 1e-6:
        _add_corner(an, "floor", a, f.radius, (f.id,) + nbrs, (), hi - lo, f.centroid, depth=0.0)
    else:
        _add_corner(an, "other", None, f.radius, (f.id,) + nbrs, (), hi - lo, f.centroid)


def _add_corner(an: Analysis, orientation: str, approach: Vec3 | None, radius: float, faces: tuple[int, ...],
                edges: tuple[int, ...], length: float, loc: Vec3, depth: float | None = None,
                angle: float | None = None) -> None:
    cid = an.new_id("corner")
    dims = {"radius_mm": radius, "length_mm": length}
    if angle is not None:
        dims["angle_deg"] = angle
    if orientation == "vertical":
        dims["depth_mm"] = length if depth is None else depth
    props = {"orientation": orientation, "edges": list(edges), "sharp": radius == 0.0}
    if approach is not None:
        props["approach"] = list(clean(approach))
    an.features.append(Feature(cid, "corner", tuple(sorted(set(faces))), dims, props, clean(loc),
                               clean(approach) if approach else None))
