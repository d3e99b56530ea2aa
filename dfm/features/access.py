"""Access per face: from which approach directions a cutter reaches each face; undercuts.

A flat-end cutter coming in along a direction d (its shank behind it, along d) reaches a
point of a face when a ray from the point along d leaves the part (``dfm.kernel.access``)
and either

* the face belongs to a recognised feature (pocket, slot, step, passage, hole) whose
  approach is d — the cutter that enters the feature's opening touches its walls with its
  flank and its floor with its end; or
* the face opens towards d (n·d >= sin 0.5°: it faces d, however little — stock faces,
  chamfers, rounds, drafted walls) — an end, a corner, a ball or a tapered end mill touches
  it from outside. A face exactly parallel to d (a wall) or facing away is reached along d
  only through a feature's opening.

Candidate directions are the six axes and the normals of floors cut into inclined faces.
A face with a point that no candidate direction reaches is an **undercut**; connected
undercut faces become one ``undercut`` feature. Faces of modelled threads are left to the
thread tools. This module measures only: whether an undercut is acceptable is a rule's call.
"""

from __future__ import annotations

import math

from dfm.features.common import Analysis, clean, connected_sets, dot
from dfm.kernel.access import AXES, access
from dfm.model import Feature, Vec3

#: A face is reached from outside along d when its normal leans towards d by this (sin 0.5°):
#: a drafted wall opens towards d; a wall exactly parallel to d needs a feature's opening.
LOOKS_TOWARDS = math.sin(math.radians(0.5))
_FEATURE_KINDS = ("pocket", "slot", "step", "hole")


def assess(an: Analysis) -> None:
    """Add ``undercut`` features and the body's access summary (``an.access``) to ``an``."""
    geo = an.geo
    acc = access(geo)
    dirs = acc.directions()
    owner: dict[int, Feature] = {}
    skip: set[int] = set()
    for f in an.features:
        if f.kind == "thread":
            skip.update(f.faces)
        elif f.kind in _FEATURE_KINDS and f.props.get("approach") is not None:
            for fid in f.faces:
                owner.setdefault(fid, f)
    lo, hi = acc.body_box()
    # per face: the points not reached yet (index -> normal)
    left: dict[int, dict[int, Vec3]] = {}
    for fid, fi in geo.faces.items():
        if fid in skip or fi.area <= 1e-10:
            continue
        if on_box(fi, lo, hi):
            continue  # a stock face on the part's box: nothing lies beyond it
        pts = acc.points(fid)
        if pts:
            left[fid] = {k: n for k, (_p, n) in enumerate(pts)}
    # 1. through the feature a face belongs to (flank or end of the cutter)
    feat_pairs = [(fid, _approach(owner[fid])) for fid in sorted(left) if fid in owner]
    for (fid, d), vis in zip(feat_pairs, acc.visible_many(feat_pairs), strict=True):
        _settle(left, fid, vis, None, d)
    # 2. from outside, along each candidate direction the face looks towards
    for d in dirs:
        pairs = [(fid, d) for fid in sorted(left) if left[fid] and any(dot(n, d) >= LOOKS_TOWARDS - 1e-9
                                                                        for n in left[fid].values())]
        for (fid, _), vis in zip(pairs, acc.visible_many(pairs), strict=True):
            _settle(left, fid, vis, LOOKS_TOWARDS, d)
    undercut = sorted(fid for fid, pts in left.items() if pts)
    _undercut_features(an, undercut, owner)
    setups: dict[Vec3, int] = {}
    for f in an.features:
        if f.kind in _FEATURE_KINDS and f.props.get("approach") is not None:
            d = _approach(f)
            setups[d] = setups.get(d, 0) + 1
    order = sorted(setups, key=lambda d: (-setups[d], [i for i, ax in enumerate(AXES) if ax == d] or [9], d))
    an.access = {
        "undercut_faces": undercut,
        "setups": [{"approach": list(clean(d)), "features": setups[d], "tilt_deg": round(_tilt(d), 6)}
                   for d in order],
    }


def _approach(f: Feature) -> Vec3:
    a = f.props["approach"]
    return (float(a[0]), float(a[1]), float(a[2]))


def _tilt(d: Vec3) -> float:
    return math.degrees(math.acos(min(1.0, max(abs(x) for x in d))))


def on_box(fi, lo: Vec3, hi: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """True for a stock face: a plane square to an axis lying on the part's box (``lo``, ``hi``)."""
    if fi.kind != "plane" or fi.normal is None:
        return False
    for k in range(3):
        if abs(fi.normal[k] - 1.0) < 1e-12 and abs(fi.bbox[1][k] - hi[k]) < 1e-9:
            return True
        if abs(fi.normal[k] + 1.0) < 1e-12 and abs(fi.bbox[0][k] - lo[k]) < 1e-9:
            return True
    return False


def _settle(left: dict[int, dict[int, Vec3]], fid: int, vis: tuple[bool, ...], min_dot: float | None,
            d: Vec3) -> None:
    pts = left[fid]
    for k in list(pts):
        if k < len(vis) and vis[k] and (min_dot is None or dot(pts[k], d) >= min_dot - 1e-9):
            del pts[k]


def _undercut_features(an: Analysis, faces: list[int], owner: dict[int, Feature]) -> None:
    """One ``undercut`` feature per connected set of undercut faces."""
    geo = an.geo
    for comp in connected_sets(geo, faces):
        # the approach of the feature the undercut opens into (the slot above a T-slot's head)
        near = [owner[nb] for fid in sorted(comp) for nb in sorted(geo.neighbours(fid)) if nb in owner]
        near += [owner[fid] for fid in sorted(comp) if fid in owner]
        region = next((f for f in near if f.kind in ("pocket", "slot", "step")), near[0] if near else None)
        # else the direction the undercut and the faces it hangs over (concave neighbours) are seen from
        foot = {nb for fid in comp for nb, es in geo.neighbours(fid).items()
                if any(geo.edges[e].convexity == "concave" for e in es)}
        a = _approach(region) if region is not None else _seen_most(an, comp | foot)
        dims: dict[str, float] = {}
        props: dict[str, object] = {"profile": "undercut", "cutter": "form"}
        if a is not None:
            props["approach"] = list(clean(a))
            if region is not None:
                props["opens_into"] = region.id
            planes = [geo.faces[i] for i in comp if geo.faces[i].kind == "plane"]
            ceilings = [p for p in planes if dot(p.normal, a) < -1 + 1e-6]
            leaning = [p for p in planes if -1 + 1e-6 <= dot(p.normal, a) < -1e-6]
            if ceilings:
                props["profile"], props["cutter"] = "t-slot", "T-slot"
            elif leaning:
                props["profile"], props["cutter"] = "dovetail", "dovetail"
                dims["angle_deg"] = min(math.degrees(math.acos(min(1.0, -dot(p.normal, a)))) for p in leaning)
            ext = [access(geo).extent(i, a) for i in comp]
            dims["height_mm"] = max(e[1] for e in ext) - min(e[0] for e in ext)
        fid_ = an.new_id("undercut")
        loc = geo.faces[min(comp)].centroid
        an.features.append(Feature(fid_, "undercut", tuple(sorted(comp)), dims, props, clean(loc),
                                   clean(a) if a is not None else None))
        for i in comp:
            an.claimed.setdefault(i, fid_)


def _seen_most(an: Analysis, comp: set[int]) -> Vec3 | None:
    """The candidate direction from which most sample points of the faces are seen (None if none is)."""
    acc = access(an.geo)
    best: tuple[int, Vec3] | None = None
    for d in acc.directions():
        ids = sorted(comp)
        n = 0
        for i, vis in zip(ids, acc.visible_many((i, d) for i in ids), strict=True):
            pts = acc.points(i)
            n += sum(1 for k, v in enumerate(vis) if v and dot(pts[k][1], d) >= LOOKS_TOWARDS - 1e-9)
        if n and (best is None or n > best[0]):
            best = (n, d)
    return best[1] if best else None
