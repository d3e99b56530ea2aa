"""Setups chosen, not assumed: which axis is setup 1, and which setup cuts each feature.

A part can be modelled in any orientation; the machine does not care which way the model's
+Z points. The first setup is the one that also cuts the outside profile, so it is chosen
among the six axis directions by (in this order):

1. the profile must be possible from it: an end mill reaches the part's extent along it;
2. the outside must be 2.5D from it: an axis is left out when the area of its outside
   faces (faces of no milled region, hole or thread) that are neither parallel nor across
   it (a cylinder lying across it, a slanted plane) exceeds the best axis's by more than
   10 % of the whole outside — a round part profiled from its side would come out a box,
   while a few edge rounds, which no 3-axis profile makes, do not turn a plate on its end;
3. fewest setups in all (features reached along other axes each need one);
4. the fewest steps and open regions left to other setups (setup 1's profile cuts them; a
   later setup can only clear them inside their outlines);
5. the least such non-2.5D area;
6. the shortest reach: the part's extent along the axis (a plate is cut lying down);
7. the most features cut in it;
8. the largest planar face down (the datum the part sits on);
9. the fixed axis order (+Z, -Z, +X, -X, +Y, -Y) so the choice is deterministic.

A through feature (a through hole with no counterbore, countersink or thread, a through
pocket or slot) can be cut from either end: it goes to a setup that is made anyway,
preferably the first. Such a feature is *seen from the other side* with
:func:`flipped` — the same measured feature, its approach, opening and outline frame
turned round; nothing is measured again.

Pure functions: the geometry comes in as face facts (:class:`FaceFact`) from the kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from dfm.cam.strategies import CamError
from dfm.model import Feature

Vec3 = tuple[float, float, float]

#: The six axis approaches, in the order ties are broken.
AXES: tuple[Vec3, ...] = ((0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0),
                          (0.0, 1.0, 0.0), (0.0, -1.0, 0.0))

_MILLED = ("pocket", "slot", "step", "hole", "thread")
#: Share of the outside's area by which an axis's non-2.5D area may exceed the best axis's.
SHARE = 0.1
_EPS = 1e-6


@dataclass(frozen=True)
class FaceFact:
    """What the choice needs of one face: its id, kind, area and direction.

    Attributes:
        id: 1-based face id.
        kind: plane | cylinder | cone | torus | revolution | ... (``dfm.kernel.geom.FaceInfo``).
        area: mm².
        normal: Outward normal (planes).
        axis: Axis (cylinders, cones, tori, surfaces of revolution).
    """

    id: int
    kind: str
    area: float
    normal: Vec3 | None = None
    axis: Vec3 | None = None


@dataclass(frozen=True)
class Choice:
    """The setups of a part.

    Attributes:
        order: The approaches of the setups, setup 1 first (it cuts the outside profile).
        features: The features as CAM sees them: through features assigned to another setup
            are :func:`flipped` (same ids).
        reasons: One line per deciding criterion (for the header and the report).
        flipped: Ids of the features cut from the end opposite their measured approach.
    """

    order: tuple[Vec3, ...]
    features: tuple[Feature, ...]
    reasons: tuple[str, ...]
    flipped: tuple[str, ...] = ()


def axis_key(v: Sequence[float] | None) -> Vec3 | None:
    """The axis direction ``v`` is (within 1e-6), else None."""
    if v is None or len(v) != 3:
        return None
    for k in AXES:
        if sum(a * b for a, b in zip(k, v, strict=True)) > 1 - _EPS:
            return k
    return None


def _neg(k: Vec3) -> Vec3:
    return (-k[0] + 0.0, -k[1] + 0.0, -k[2] + 0.0)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def axis_name(k: Sequence[float]) -> str:
    """``+Z``, ``-X``... for an axis direction."""
    i = max(range(3), key=lambda j: abs(k[j]))
    return ("+" if k[i] > 0 else "-") + "XYZ"[i]


def _approach(f: Feature, by_id: dict[str, Feature]) -> Vec3 | None:
    src = by_id.get(str(f.props.get("hole", ""))) if f.kind == "thread" else None
    src = src or f
    return axis_key(src.props.get("approach") or src.axis)


def flippable(f: Feature, threaded: set[str]) -> bool:
    """True when ``f`` can be cut from either end just as well (see the module docstring)."""
    if not f.props.get("through"):
        return False
    if f.kind == "hole":
        return not f.props.get("stack") and f.id not in threaded and f.location_mm is not None
    if f.kind in ("pocket", "slot"):
        return (not f.props.get("open") and bool(f.props.get("outline")) and bool(f.props.get("frame_u"))
                and bool(f.props.get("frame_v")) and f.dims.get("depth_mm") is not None)
    return False


def flipped(f: Feature) -> Feature:
    """``f`` (a :func:`flippable` feature) seen from its other end.

    The opening moves to the far end (``depth_mm`` along the approach), the approach and the
    axis turn round, and the outline frame becomes (u, -v) so that u × v is the new approach
    again, with the outline's v coordinates negated: the same points in space.
    """
    a = [float(x) for x in (f.props.get("approach") or f.axis or (0.0, 0.0, 1.0))]
    depth = float(f.dims.get("depth_mm", 0.0))
    props = dict(f.props)
    props["approach"] = [-x + 0.0 for x in a]
    props["flipped"] = True
    loc = f.location_mm
    axis = tuple(-x + 0.0 for x in f.axis) if f.axis is not None else None
    if f.kind == "hole":
        if loc is not None:
            loc = (loc[0] - a[0] * depth, loc[1] - a[1] * depth, loc[2] - a[2] * depth)
    else:
        top = props.get("top_z_mm")
        if top is not None:
            props["top_z_mm"] = -(float(top) - depth)
            props["floor_z_mm"] = -float(top)
        v = props["frame_v"]
        props["frame_v"] = [-float(x) + 0.0 for x in v]
        props["outline"] = [[float(p[0]), -float(p[1]) + 0.0] for p in props["outline"]]
        props["islands"] = [[[float(p[0]), -float(p[1]) + 0.0] for p in isl] for isl in props.get("islands") or []]
    return replace(f, props=props, location_mm=loc, axis=axis)  # type: ignore[arg-type]


def _bad_area(k: Vec3, faces: Sequence[FaceFact], skip: set[int]) -> float:
    """Area of outside faces that are not 2.5D seen along ``k`` (neither along nor across it)."""
    out = 0.0
    for f in faces:
        if f.id in skip:
            continue
        if f.kind == "plane" and f.normal is not None:
            c = abs(sum(a * b for a, b in zip(f.normal, k, strict=True)))
            if _EPS < c < 1 - _EPS:
                out += f.area
        elif f.kind in ("cylinder", "cone", "torus", "revolution", "sphere") and f.axis is not None:
            if f.kind == "sphere" or abs(sum(a * b for a, b in zip(f.axis, k, strict=True))) < 1 - _EPS:
                out += f.area
        elif f.kind not in ("plane",):
            out += f.area  # free-form: the same for every axis
    return out


def _down_area(k: Vec3, faces: Sequence[FaceFact]) -> float:
    """The largest planar face whose outward normal is -k (the face the part sits on)."""
    best = 0.0
    for f in faces:
        down = f.normal is not None and sum(a * b for a, b in zip(f.normal, k, strict=True)) < -1 + _EPS
        if f.kind == "plane" and down:
            best = max(best, f.area)
    return best


def choose(features: Sequence[Feature], *, bbox_min: Sequence[float], bbox_max: Sequence[float],
           faces: Sequence[FaceFact] = (), profile_reaches: Callable[[float], bool] | None = None,
           first: Vec3 | None = None, hole_reaches: Callable[[Feature, float], bool] | None = None) -> Choice:
    """Choose the setups of a part (see the module docstring for the criteria).

    Args:
        features: The body's features (docs/features.md).
        bbox_min: The part's box, low corner (model coordinates).
        bbox_max: Its high corner.
        faces: Face facts of the part (without them, criteria 2 and 6 are left out).
        profile_reaches: Whether an end mill reaches a profile of this depth (mm).
        first: Setup 1's approach when the caller has fixed it (only the other setups are chosen).
        hole_reaches: Whether the tool for a hole reaches this depth (mm) from the setup's top
            (without it, through holes keep the ends the features give).
    """
    threaded = {str(f.props.get("hole")) for f in features if f.kind == "thread" and f.props.get("hole")}
    # a through hole whose entry opens inside the part (a cross hole's far segment, entered from the bore it
    # meets) while its other end is on the outside: entered from the outside (a tool would otherwise travel
    # through the other features to reach it, beyond its reach and through what this setup has not cut)
    inner, one_way = _inner_entries(features, bbox_min, bbox_max, threaded, hole_reaches)
    features = [flipped(f) if f.id in inner else f for f in features]
    by_id = {f.id: f for f in features}
    fixed: dict[Vec3, int] = {}
    opened: dict[Vec3, int] = {}  # steps and open regions (the profile's) per approach
    flexible: list[tuple[Feature, Vec3]] = []
    skip: set[int] = set()
    for f in features:
        if f.kind in _MILLED or f.kind in ("chamfer", "undercut"):
            skip.update(f.faces)
        if f.kind not in _MILLED:
            continue
        k = _approach(f, by_id)
        if k is None:
            continue
        if flippable(f, threaded) and f.id not in inner and f.id not in one_way:
            flexible.append((f, k))
        else:
            fixed[k] = fixed.get(k, 0) + 1
            if f.kind == "step" or (f.kind in ("pocket", "slot") and f.props.get("open")):
                opened[k] = opened.get(k, 0) + 1
    extent = [float(bbox_max[i]) - float(bbox_min[i]) for i in range(3)]

    def cover(primary: Vec3) -> tuple[list[Vec3], dict[str, Vec3]]:
        used = [primary] + [k for k in AXES if k in fixed and k != primary]
        where: dict[str, Vec3] = {}
        left = []
        for f, k in flexible:
            cand = next((c for c in (primary, k, _neg(k)) if c in used and c in (k, _neg(k))), None)
            if cand is None:
                left.append((f, k))
            else:
                where[f.id] = cand
        while left:  # greedy: the direction that takes the most of what is left (its own approach on a tie)
            counts: dict[Vec3, int] = {}
            for _f, k in left:
                counts[k] = counts.get(k, 0) + 1
                counts[_neg(k)] = counts.get(_neg(k), 0) + 1
            best = max(AXES, key=lambda a: (counts.get(a, 0), sum(1 for _f, k in left if k == a),
                                            -AXES.index(a)))
            used.append(best)
            rest = []
            for f, k in left:
                if best in (k, _neg(k)):
                    where[f.id] = best
                else:
                    rest.append((f, k))
            left = rest
        return used, where

    outside = sum(f.area for f in faces if f.id not in skip)
    bads = {k: _bad_area(k, faces, skip) for k in AXES}
    least = min(bads.values())
    scored = []
    fixed_first = axis_key(first) if first is not None else None
    if first is not None and fixed_first is None:
        raise CamError(f"setup 1's approach {tuple(first)} is not an axis direction")
    for k in AXES if fixed_first is None else (fixed_first,):
        depth = extent[[abs(c) for c in k].index(1.0)]
        used, where = cover(k)
        n_here = fixed.get(k, 0) + sum(1 for v in where.values() if v == k)
        reach_ok = profile_reaches(depth) if profile_reaches is not None else True
        bad = round(bads[k], 3)
        much = bads[k] > least + SHARE * outside
        elsewhere = sum(n for a, n in opened.items() if a != k)
        key = (not reach_ok, much, len(used), elsewhere, bad, round(depth, 6), -n_here,
               -round(_down_area(k, faces), 3), AXES.index(k))
        scored.append((key, k, used, where, depth, n_here, bad))
    scored.sort(key=lambda s: s[0])
    key, primary, used, where, depth, n_here, bad = scored[0]
    # the flip (same clamping axis) right after setup 1, then the others in the axis order
    rest = [k for k in AXES if k in used and k != primary]
    rest.sort(key=lambda k: (k != _neg(primary), AXES.index(k)))
    order = (primary, *rest)
    out = []
    flips = []
    for f in features:
        k = where.get(f.id)
        if k is not None and k != _approach(f, by_id):
            out.append(flipped(f))
            flips.append(f.id)
        else:
            out.append(f)
    reasons = [f"setup 1 from model {axis_name(primary)}: {_count(len(order), 'setup')} in all, the outside profile "
               f"{depth:g} mm deep (the part's extent along {axis_name(primary)[1]}), {_count(n_here, 'feature')} "
               "cut in it"]
    if bad > 0:
        reasons.append(f"{bad:g} mm² of the outside ({100 * bad / outside:.0f} %) is not 2.5D from "
                       f"{axis_name(primary)}: the profile leaves it as the 2.5D shape over it")
    worse = [axis_name(s[1]) for s in scored if s[0][1]]
    if worse:
        reasons.append(f"not from {', '.join(worse)}: more than {100 * SHARE:g} % more of the outside is not 2.5D "
                       "from there")
    if not key[0] and profile_reaches is not None and any(s[0][0] for s in scored):
        reasons.append("no end mill reaches the profile from " + ", ".join(
            axis_name(s[1]) for s in scored if s[0][0]))
    if flips:
        reasons.append(f"through feature(s) cut from their other end: {', '.join(flips)}")
    if inner:
        reasons.append(f"through hole(s) entered from their outside end (the other opens inside the part): "
                       f"{', '.join(sorted(inner))}")
    return Choice(order=order, features=tuple(out), reasons=tuple(reasons), flipped=tuple(flips) + tuple(sorted(inner)))


def _inner_entries(features: Sequence[Feature], bbox_min: Sequence[float], bbox_max: Sequence[float],
                   threaded: set[str], reaches: Callable[[Feature, float], bool] | None = None
                   ) -> tuple[set[str], set[str]]:
    """Through holes that no tool reaches from one end (a cross hole's segment entered from the bore it meets).

    A tool enters a through hole at the setup's top and goes to the hole's far end: from its
    entry side that is the part's extent along the approach less the far end. Returns the ids of
    the holes whose entry side their tool does not reach (``reaches``) but whose other side it
    does: to be entered from that side; and of those that a tool reaches from their
    entry side only: not to be cut from their other end. A hole in a pocket's floor, reached
    through the pocket, stays as it is. Without ``reaches``, both sets are empty.
    """
    out: set[str] = set()
    one_way: set[str] = set()
    if reaches is None:
        return out, one_way
    corners = [(x, y, z) for x in (bbox_min[0], bbox_max[0]) for y in (bbox_min[1], bbox_max[1])
               for z in (bbox_min[2], bbox_max[2])]
    for f in features:
        if f.kind != "hole" or not flippable(f, threaded):
            continue
        a = [float(x) for x in (f.props.get("approach") or f.axis or (0.0, 0.0, 1.0))]
        if axis_key(a) is None:
            continue
        along = [sum(c[i] * a[i] for i in range(3)) for c in corners]
        loc = f.location_mm or (0.0, 0.0, 0.0)  # flippable: a hole with a location
        entry = sum(float(loc[i]) * a[i] for i in range(3))
        far = entry - float(f.dims.get("depth_mm", 0.0))
        here = reaches(f, max(along) - far)  # from this side's top to the far end
        there = reaches(f, entry - min(along))  # from the other side's top to this end
        if not here and there:
            out.add(f.id)
        elif here and not there:
            one_way.add(f.id)
    return out, one_way
