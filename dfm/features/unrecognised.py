"""Faces that bound material removed from the stock but that no recognised feature accounts for.

dfm judges what it recognises (holes, pockets, slots, steps, threads, undercuts, chamfers).
Material removed in a shape it does not recognise — a V-groove that does not run along an
axis, a free-form depression, a turned groove — would otherwise pass without a word. This
analyser collects such faces into connected regions, one ``unrecognised`` feature per region
(a rule says "cannot tell"; it measures only).

A face is **accounted for** when it

* lies on the part's box (a stock face: ``dfm.features.access.on_box``);
* belongs to a recognised region feature (its walls, floor, blends and chamfers; a hole's
  stack; a thread; an undercut): :data:`REGION_KINDS`;
* bends no material away: no concave edge to a face of no feature and a surface that is flat
  or convex — the outer skin (the outside of a block or a shaft, chamfers and rounds on its
  outside edges, the top of a boss). Removing material leaves a hollow: a concave edge where
  two faces meet round it, or a face curved round it. A concave edge to a recognised
  feature's face is that feature's (a step cut through an outside chamfer), and so is the
  crease where two convex edge rounds meet at an inside corner of the outline;
* is a curved break on the rim of a recognised feature (a concave cone or round round a
  slot's opening) that meets no unrecognised hollow;
* belongs to the **outside profile** from an axis direction A: a wall along A (a plane whose
  normal is across A, a cylinder about A) whose concave edges are all straight lines along A
  (the inside corners of an outline; a concave face only as a cylinder about A: an outline's
  corner fillet), which rays leave the part from along A (the cutter's way in) and across A
  (seen from the side, as the profile cutter that goes round the outline reaches it).

Every other face not on the box bounds removed material dfm did not recognise. Wall-like
thickness and corner features (``wall``, ``corner``) measure faces but account for none: a
corner is an edge of some region, not a region.
"""

from __future__ import annotations

import math

from dfm.features.access import on_box
from dfm.features.common import Analysis, clean, connected_sets, dot, parallel
from dfm.kernel.access import AXES, OFFSET_MM, access
from dfm.model import Feature, Vec3

#: Feature kinds whose faces are accounted for: regions dfm recognises and judges.
REGION_KINDS = ("hole", "pocket", "slot", "step", "thread", "undercut", "chamfer")

#: A free-form face is curved round the void (concave) where the normals at two of its sample
#: points turn towards each other by more than this (about 1°, measured along the line between
#: the points: (n1 - n2)·(p1 - p2) / |p1 - p2|; on a hollow sphere it is minus the angle the
#: points subtend, on a convex one plus it, on a plane 0).
CONCAVE_TURN = math.sin(math.radians(1.0))

#: Directions across the approach a wall's ray is sent along to find the outside: its normal and
#: this many steps each way round towards the wall's own plane (up to ±80°).
_SIDE_STEPS = 4
_SIDE_MAX_DEG = 80.0

#: Faces smaller than this (mm²) are slivers of the model, not surfaces a cutter leaves.
MIN_AREA_MM2 = 1e-8


def find_unrecognised(an: Analysis) -> None:
    """Add one ``unrecognised`` feature per connected region of faces no feature accounts for."""
    geo = an.geo
    acc = access(geo)
    lo, hi = acc.body_box()
    owned: set[int] = set()
    for f in an.features:
        if f.kind in REGION_KINDS:
            owned.update(f.faces)
    cands = [fid for fid, fi in geo.faces.items()
             if fid not in owned and fi.area > MIN_AREA_MM2 and not on_box(fi, lo, hi)]
    bends = {fid: _bends_round_void(an, fid, owned) for fid in cands}
    hollow = {fid for fid, b in bends.items() if b is True}
    # a feature's rim break that also meets an unrecognised hollow belongs to the hollow
    breaks = {fid for fid, b in bends.items() if b is None}
    for comp in connected_sets(geo, hollow | breaks):
        if comp & hollow:
            hollow |= comp
    left = [fid for fid in sorted(hollow) if not _outside_profile(an, fid)]
    for comp in connected_sets(geo, left):
        _add(an, comp)


def _bends_round_void(an: Analysis, fid: int, owned: set[int]) -> bool | None:
    """True when face ``fid`` bends round removed material that no recognised feature accounts for.

    * a concave edge to a face of no recognised feature (a concave edge to a feature's face is
      where that feature meets it: a step cut through an outside chamfer), except the crease
      where two convex rounds of edges meet (:func:`_mitre`);
    * else the face's own surface curved round the void (a hollow sphere, a free-form dimple),
      unless it meets a recognised feature: then it breaks that feature's rim (a chamfer or a
      round round a slot's opening), which is accounted for unless it also meets an
      unrecognised hollow (None: decided by its neighbours).
    """
    geo = an.geo
    f = geo.faces[fid]
    near_feature = False
    for nb, edges in geo.neighbours(fid).items():
        if nb in owned:
            near_feature = True
            continue
        if any(geo.edges[e].convexity == "concave" and not _mitre(f, geo.faces[nb], geo.edges[e]) for e in edges):
            return True
    if f.kind == "plane":
        return False
    curved = bool(f.concave) if f.concave is not None else _free_form_concave(an, fid)
    if curved and near_feature:
        return None
    return curved


def _mitre(f, g, e) -> bool:  # type: ignore[no-untyped-def]
    """A concave crease ``e`` where two convex rounds (cylinders, tori) meet.

    Edge rounds mitred at an inside corner of the outline. Not a circle: coaxial surfaces of
    revolution meeting in one (a screw's shank under its head) are a turned profile.
    """
    return (f.kind in ("cylinder", "torus") and g.kind in ("cylinder", "torus") and f.concave is False
            and g.concave is False and e.kind != "circle")


def _free_form_concave(an: Analysis, fid: int) -> bool:
    """A free-form face whose sample normals converge somewhere (concave or saddle-shaped)."""
    pts = access(an.geo).points(fid)
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            (pi, ni), (pj, nj) = pts[i], pts[j]
            dp = (pi[0] - pj[0], pi[1] - pj[1], pi[2] - pj[2])
            dist = math.sqrt(dot(dp, dp))
            if dist < 1e-9:
                continue
            dn = (ni[0] - nj[0], ni[1] - nj[1], ni[2] - nj[2])
            if dot(dn, dp) / dist < -CONCAVE_TURN:
                return True
    return False


def _outside_profile(an: Analysis, fid: int) -> bool:
    """True when face ``fid`` is a wall of the part's outline from some axis (see the module doc)."""
    geo = an.geo
    f = geo.faces[fid]
    for a in AXES[::2]:  # a wall along +A is one along -A
        if not _wall_along(f, a):
            continue
        concave = [geo.edges[e] for e in geo.face_edges[fid] if geo.edges[e].convexity == "concave"]
        if all(e.kind == "line" and e.direction is not None and parallel(e.direction, a) for e in concave) \
                and _seen_along(an, fid, a) and _seen_from_side(an, fid, a):
            return True
    return False


def _seen_along(an: Analysis, fid: int, a: Vec3) -> bool:
    """True when a ray along ``a`` or against it from some sample point of the wall leaves the part.

    The profile cutter comes in along the axis: a wall it goes round is open along it at one
    end (a floor fillet of a closed pocket along x is not: the pocket's ends close it along x).
    """
    acc = access(an.geo)
    back = (-a[0], -a[1], -a[2])
    return any(any(v) for v in acc.visible_many([(fid, a), (fid, back)]))


def _wall_along(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A plane whose normal is across ``a``, or a cylinder (or extrusion) about ``a``."""
    if f.kind == "plane":
        return f.normal is not None and abs(dot(f.normal, a)) < 1e-6
    if f.kind in ("cylinder", "extrusion") and f.axis is not None:
        return parallel(f.axis, a, 1e-6)
    return False


def _seen_from_side(an: Analysis, fid: int, a: Vec3) -> bool:
    """True when a ray across ``a`` from some sample point of the wall leaves the part."""
    acc = access(an.geo)
    origins: list[Vec3] = []
    dirs: list[Vec3] = []
    for p, n in acc.points(fid):
        # the normal's part across a (a wall's normal is across a already; a cylinder's too)
        h = dot(n, a)
        m = (n[0] - a[0] * h, n[1] - a[1] * h, n[2] - a[2] * h)
        ln = math.sqrt(dot(m, m))
        if ln < 1e-9:
            continue
        m = (m[0] / ln, m[1] / ln, m[2] / ln)
        side = (a[1] * m[2] - a[2] * m[1], a[2] * m[0] - a[0] * m[2], a[0] * m[1] - a[1] * m[0])
        o = (p[0] + n[0] * OFFSET_MM, p[1] + n[1] * OFFSET_MM, p[2] + n[2] * OFFSET_MM)
        for k in range(-_SIDE_STEPS, _SIDE_STEPS + 1):
            t = math.radians(_SIDE_MAX_DEG * k / _SIDE_STEPS)
            c, s = math.cos(t), math.sin(t)
            origins.append(o)
            dirs.append((m[0] * c + side[0] * s, m[1] * c + side[1] * s, m[2] * c + side[2] * s))
    if not origins:
        return False
    return any(h is None for h in acc.first_hits(origins, dirs))


def _add(an: Analysis, comp: set[int]) -> None:
    """One ``unrecognised`` feature for the connected faces ``comp``."""
    geo = an.geo
    faces = sorted(comp)
    lo = tuple(min(geo.faces[i].bbox[0][k] for i in faces) for k in range(3))
    hi = tuple(max(geo.faces[i].bbox[1][k] for i in faces) for k in range(3))
    kinds: dict[str, int] = {}
    for i in faces:
        kinds[geo.faces[i].kind] = kinds.get(geo.faces[i].kind, 0) + 1
    shown = ", ".join(map(str, faces[:8])) + (", ..." if len(faces) > 8 else "")
    props = {
        "surfaces": ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())),
        "faces_text": f"{len(faces)} face{'s' if len(faces) != 1 else ''} ({shown})",
    }
    dims = {
        "area_mm2": sum(geo.faces[i].area for i in faces),
        "size_mm": max(hi[k] - lo[k] for k in range(3)),
    }
    largest = max(faces, key=lambda i: (geo.faces[i].area, -i))
    an.features.append(Feature(an.new_id("unrecognised"), "unrecognised", tuple(faces), dims, props,
                               clean(geo.faces[largest].centroid)))
