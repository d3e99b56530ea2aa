"""Milled 2.5D regions — pockets, slots and steps — per approach direction.

For each approach A (the six axis directions, +Z first, then the normals of floors cut into
inclined faces: ``dfm.kernel.access``), a *floor* is a planar face whose outward normal is A,
that lies below the part's top along A and that a cutter coming in along A can see (rays
along A from its points leave the part). Its region is the floor plus the faces that rise
from it and that a cutter along A sees: walls (normal ⊥ A), vertical fillets (concave
cylinders ∥ A), floor fillets and concave floor chamfers, collected across concave edges and
across tangent edges into concave blends only (never into a convex round or a stock face).
Walls that stand over the floor without touching it (the neck of a T-slot) join it too.
A region with walls all round is a pocket (or a closed slot when long and narrow between two
parallel walls; an annular slot round a boss); one open at the ends of two parallel walls is
a slot; anything open on other sides is a step. A side is open where the floor runs out to
air across the approach (a ray along the floor leaves the part), not where it meets a
passage cut through it. Passages through the part (any outline) are found from their walls.
"""

from __future__ import annotations

import math

from dfm.features.common import (
    DRAFT_MAX_DEG,
    Analysis,
    add_chamfers,
    clean,
    cone_floor_radius,
    connected_sets,
    cross,
    dot,
    drafted_cone,
    obtuse,
    opening_deg,
    parallel,
    sub,
)
from dfm.kernel.access import Access, access
from dfm.model import Feature, Vec3

#: Slack of "normal equals the approach" for floors (1 - cos).
_FLOOR = 1e-9


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
    return False


def _is_floor_chamfer(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A face sloping between a floor and a wall (a plane facing up the approach; a cone round it).

    The cone is the chamfer at the foot of a round wall or of a boss.
    """
    if f.kind == "cone":
        return f.axis is not None and parallel(f.axis, a, 1e-6)
    return f.kind == "plane" and 1e-6 < dot(f.normal, a) < 1 - 1e-6


def _is_drafted(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A flat face leaning back from the approach by at most :data:`DRAFT_MAX_DEG` (a drafted wall's candidate)."""
    return f.kind == "plane" and 1e-6 <= dot(f.normal, a) <= math.sin(math.radians(DRAFT_MAX_DEG)) + 1e-12


def _draft_deg(f, a: Vec3) -> float:  # type: ignore[no-untyped-def]
    """Lean of a flat face (or a drafted cone) from the approach (degrees): 0 for a wall along it."""
    if f.kind == "cone":
        return abs(float(f.half_angle_deg))
    return math.degrees(math.asin(max(-1.0, min(1.0, dot(f.normal, a)))))


def _drafted_walls(geo, region: set[int], floor_id: int, a: Vec3) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The region's drafted walls: steep flat faces opening up from the floor, not chamfers under a wall.

    A face leaning back at most :data:`DRAFT_MAX_DEG` that meets a wall of the region along
    an edge across the approach (a wall standing on it) is a floor chamfer; else it is a
    wall of the region whose draft a straight end mill does not cut.
    """
    out = []
    for fid in sorted(region):
        f = geo.faces[fid]
        if drafted_cone(f, a):
            out.append(f)  # the blend of two drafted walls
            continue
        if fid == floor_id or not _is_drafted(f, a):
            continue
        under_wall = any(
            nb in region and _is_wall(geo.faces[nb], a) and any(
                geo.edges[e].convexity == "concave" and geo.edges[e].kind == "line"
                and abs(dot(geo.edges[e].direction, a)) < 1e-6 for e in edges)
            for nb, edges in geo.neighbours(fid).items())
        if not under_wall:
            out.append(f)
    return out


def _is_overhang(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A flat face leaning over the approach (facing partly against it): a dovetail's flank."""
    return f.kind == "plane" and -1 + 1e-6 < dot(f.normal, a) < -1e-6


def _is_floor_fillet(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    if not f.concave:
        return False
    if f.kind == "cylinder":
        return abs(dot(f.axis, a)) < 1e-6
    return f.kind == "torus" and parallel(f.axis, a, 1e-6)


def find_pockets(an: Analysis) -> None:
    """Add ``pocket``, ``slot`` and ``step`` features to ``an``."""
    geo = an.geo
    acc = access(geo)
    used: set[int] = set()
    # closed rings of walls first: a tunnel's floor seen through a pocket that crosses it is no step floor
    comps: dict[Vec3, list[set[int]]] = {}
    _passages(an, acc, used, comps, rings=True)
    for a in acc.directions():
        top = acc.body_extent(a)
        floors = [
            f for f in geo.faces.values()
            if f.kind == "plane" and dot(f.normal, a) > 1 - _FLOOR and f.id not in an.claimed
            and f.id not in used and dot(f.origin, a) < top - 1e-6
        ]
        floors.sort(key=lambda f: f.id)
        # the centre first (one ray each): a floor whose middle is covered is no floor from a
        floors = [f for f, c in zip(floors, acc.centre_visible_many((f.id, a) for f in floors), strict=True) if c]
        seen = acc.visible_many((f.id, a) for f in floors)
        _prefetch(an, acc, [f.id for f, v in zip(floors, seen, strict=True) if any(v)], a, used)
        grown = []
        for floor, vis in zip(floors, seen, strict=True):
            if floor.id in used or not any(vis):
                continue  # no cutter along a reaches it: not a floor from a
            # a floor a few degrees off an axis whose walls stand along the axis: grown along the axis
            d = _sloped_start(geo, a, floor.id) or a
            region = _grow(an, acc, floor.id, d, used)
            if region is None:
                continue
            grown.append((floor.id, region, sum(vis) / len(vis), d))
            used.update(region)
        # the open sides of all regions from a in one ray batch
        probes = [_open_probes(an, acc, d, fid, region) for fid, region, _, d in grown]
        flat = [p for ps in probes for p in ps]
        hits = acc.first_hits([p[1] for p in flat], [p[2] for p in flat])
        k = 0
        for (fid, region, seen_share, _), ps in zip(grown, probes, strict=True):
            open_faces = {o for (o, _, _), h in zip(ps, hits[k:k + len(ps)], strict=True) if h is None}
            k += len(ps)
            _region_feature(an, acc, a, fid, region, seen_share, open_faces)
    _passages(an, acc, used, comps, rings=False)
    for f in an.features:
        if f.kind in ("pocket", "slot", "step") and "depth_width_ratio" in f.dims:
            an.measure("max_pocket_depth_ratio", f.dims["depth_width_ratio"], f.faces, f.location_mm,
                       smaller_is_worse=False)


def _prefetch(an: Analysis, acc: Access, floors: list[int], a: Vec3, used: set[int]) -> None:
    """Cast in one batch the visibility rays growth will ask for (two rings of wall-like faces).

    Growth asks ring by ring; one ray batch per ring and floor costs a broad-phase pass each
    (a comb of a thousand gaps asked hundreds of small batches).
    """
    geo = an.geo
    ring = set(floors)
    seen = set(ring)
    want: list[int] = []
    for _ in range(2):
        nxt = set()
        for fid in ring:
            for nb, edges in geo.neighbours(fid).items():
                if nb in seen or nb in used or nb in an.claimed:
                    continue
                if not {geo.edges[e].convexity for e in edges} & {"concave", "tangent"}:
                    continue  # growth crosses only these
                f = geo.faces[nb]
                if _is_wall(f, a) or _is_floor_fillet(f, a) or _is_floor_chamfer(f, a):
                    nxt.add(nb)
        seen |= nxt
        want.extend(sorted(nxt))
        ring = nxt
    acc.visible_many((fid, a) for fid in want)


def _grow(an: Analysis, acc: Access, floor_id: int, a: Vec3, used: set[int]) -> set[int] | None:
    """The floor and the faces rising from it that a cutter along ``a`` sees (one ray batch per ring)."""
    geo = an.geo
    region = {floor_id}
    front = [floor_id]
    floor_h = dot(geo.faces[floor_id].origin, a)
    hidden = not all(acc.visible(floor_id, a))
    while front:
        cands: dict[int, None] = {}
        for cur in front:
            cur_f = geo.faces[cur]
            for nb, edges in geo.neighbours(cur).items():
                if nb in region or nb in used or nb in an.claimed or nb in cands:
                    continue
                conv = {geo.edges[e].convexity for e in edges}
                if not conv & {"concave", "tangent"}:
                    continue
                f = geo.faces[nb]
                if "concave" not in conv and (f.concave is False or cur_f.concave is False) and not (
                        cur_f.concave is not False and _is_wall(f, a)):
                    continue  # across a tangent edge only into a concave blend, never a convex round ...
                # ... but for a wall along the approach (an island's corner or a round boss, reached through the
                # floor's fillet when fillets part it from the floor; kept below only where it blends two walls
                # or stands inside the floor)
                if _is_wall(f, a) or _is_floor_fillet(f, a):
                    cands[nb] = None
                elif f.kind == "plane" and dot(f.normal, a) > 1 - _FLOOR and (
                        "tangent" in conv or abs(dot(f.origin, a) - floor_h) < 1e-6):
                    cands[nb] = None  # the floor's other pieces at its height (split by a passage)
                elif "concave" in conv and _is_floor_chamfer(f, a):
                    cands[nb] = None
                elif drafted_cone(f, a) and _is_drafted(cur_f, a):
                    cands[nb] = None  # the blend between two drafted walls
        ids = list(cands)
        seen = acc.visible_many((i, a) for i in ids)
        front = [fid for fid, vis in zip(ids, seen, strict=True) if any(vis)]
        hidden = hidden or len(front) < len(ids)
        region.update(front)
    # a convex round belongs only where it blends two of the region's walls (an island's corner),
    # not where it rounds a wall into a face outside the region (an outside edge of the part)
    for fid in [i for i in region if geo.faces[i].concave is False and (geo.faces[i].span_deg or 360.0) < 179.0]:
        if any(nb not in region and _is_wall(geo.faces[nb], a) for nb, edges in geo.neighbours(fid).items()
               if any(geo.edges[e].convexity == "tangent" for e in edges)):
            region.discard(fid)
    # a round boss reached through the floor's fillet belongs only where it stands inside the floor (an island),
    # not at the floor's edge (pins at the ends of a web: the web is no pocket between them)
    bosses = [i for i in region if geo.faces[i].concave is False and (geo.faces[i].span_deg or 360.0) >= 179.0
              and _is_wall(geo.faces[i], a) and floor_id not in geo.neighbours(i)]
    if bosses:
        inside = _inside_floor(geo, acc, floor_id, a)
        region.difference_update(i for i in bosses if not inside(i))
    # a sloped face belongs only where it blends the floor into a wall (concave to both)
    for fid in [i for i in region if _is_floor_chamfer(geo.faces[i], a)]:
        joins = {nb for nb, edges in geo.neighbours(fid).items() if nb in region
                 and any(geo.edges[e].convexity == "concave" for e in edges)}
        if len(joins) < 2 and not (floor_id in joins and _is_drafted(geo.faces[fid], a)) \
                and not drafted_cone(geo.faces[fid], a):
            region.discard(fid)  # (a drafted wall rising from the floor stays, as does the blend of two)
    # faces leaning over the floor from its edges (a dovetail's flanks) bound the region from above
    lean = {nb for nb, edges in geo.neighbours(floor_id).items() if nb not in used and nb not in an.claimed
            and _is_overhang(geo.faces[nb], a) and any(geo.edges[e].convexity == "concave" for e in edges)}
    for fid in sorted(lean):  # ... where no straight cutter reaches them (else it is a V's other flank)
        n = geo.faces[fid].normal
        ds = [d for d in acc.directions() if dot(n, d) > 1e-6]
        if any(acc.centre_visible_many((fid, d) for d in ds)):
            lean.discard(fid)
    region |= lean
    if hidden:  # something overhangs the floor: its opening may be walls that do not touch it
        over = _overhead_walls(an, acc, region, a, used)
        floor_vis = acc.visible(floor_id, a)
        if not over and not lean and sum(floor_vis) * 2 < len(floor_vis):
            return None  # mostly covered and no opening above it: a floor seen only through a gap
        region |= over
    return region if len(region) > 1 else None


def _rim_break(geo, acc: Access, region: set[int], walls: list, a: Vec3,  # type: ignore[no-untyped-def,type-arg]
               wall_top: float) -> tuple[str, float, float, list[int]] | None:
    """A chamfer or round along the walls' top edge: (kind, the top it rises to, the walls' top, its faces).

    The break's faces meet the walls at their top edge and rise to one flat top face across the
    approach; nothing else touches them. None when the walls meet the top directly, or when what
    stands on them is more than a break (a sloped face that runs on, another feature's wall).
    """
    ids = {w.id for w in walls}

    def breaks(i: int) -> str | None:
        f = geo.faces[i]
        lo, hi = acc.extent(i, a)
        if lo < wall_top - 1e-6 or hi <= wall_top + 1e-9:
            return None
        if f.kind == "plane" and f.normal is not None and 1e-6 < dot(f.normal, a) < 1 - 1e-6:
            return "chamfer"
        if f.kind == "cone" and f.axis is not None and parallel(f.axis, a, 1e-6):
            return "chamfer"  # round a corner of the outline
        if f.kind in ("cylinder", "torus") and f.concave is False:
            return "round"
        return None

    found: dict[int, str] = {}
    front = [nb for w in ids for nb in geo.neighbours(w) if nb not in region and nb not in ids]
    while front:
        i = front.pop()
        if i in found:
            continue
        kind = breaks(i)
        if kind is None:
            continue
        found[i] = kind
        front.extend(nb for nb in geo.neighbours(i) if nb not in found and nb not in region)
    if not found:
        return None
    tops = set()
    for i in found:
        for nb in geo.neighbours(i):
            if nb in found or nb in region:
                continue
            f = geo.faces[nb]
            if not (f.kind == "plane" and f.normal is not None and dot(f.normal, a) > 1 - 1e-9):
                return None  # something else stands on the break: not a break of the rim
            tops.add(round(dot(f.origin, a), 6))
    top = max(acc.extent(i, a)[1] for i in found)
    if len(tops) != 1 or abs(next(iter(tops)) - top) > 1e-6:
        return None
    kinds = set(found.values())
    return ("chamfer" if kinds == {"chamfer"} else "round" if kinds == {"round"} else "chamfer and round",
            top, wall_top, sorted(found))


def _loop_boxes(loops: list, u: Vec3, v: Vec3) -> list[tuple[float, float, float, float]]:  # type: ignore[type-arg]
    """Each loop's box across the approach: (u min, u max, v min, v max)."""
    boxes = []
    for loop in loops:
        us, vs = [dot(p, u) for p in loop], [dot(p, v) for p in loop]
        if us:
            boxes.append((min(us), max(us), min(vs), max(vs)))
    return boxes


def _inside_floor(geo, acc: Access, floor_id: int, a: Vec3):  # type: ignore[no-untyped-def]
    """A test of whether face ``i`` stands within an inner loop of the floor (across the approach, by its box)."""
    u, v = _frame(a)
    boxes = _loop_boxes(geo.face_loops(floor_id, deflection=0.001)[1:], u, v)
    tol = 2e-3  # the loops are chords of the floor's edges (1 um deflection); the faces are exact

    def inside(i: int) -> bool:
        lu, hu = acc.extent(i, u)
        lv, hv = acc.extent(i, v)
        return any(lu >= b[0] - tol and hu <= b[1] + tol and lv >= b[2] - tol and hv <= b[3] + tol for b in boxes)

    return inside


def _overhead_walls(an: Analysis, acc: Access, region: set[int], a: Vec3, used: set[int]) -> set[int]:
    """Walls that stand over the region without touching it (the neck above a T-slot's head).

    A wall ⊥ a joined to the region's faces by convex edges only, seen along a, whose points
    look down (along -a) onto the region's floor first.
    """
    geo = an.geo
    # such a wall is a few faces away (floor - hidden wall - ceiling - neck): three rings out
    seen = set(region)
    ring = set(region)
    found: list[int] = []
    for _ in range(3):
        ring = {nb for fid in ring for nb in geo.neighbours(fid)} - seen
        seen |= ring
        found.extend(sorted(ring))
    cands = [fid for fid in found if fid not in used and fid not in an.claimed and _is_wall(geo.faces[fid], a)
             and geo.faces[fid].kind == "plane"]
    out: set[int] = set()
    if not cands:
        return out
    vis = acc.visible_many((fid, a) for fid in cands)
    down = (-a[0], -a[1], -a[2])
    origins, owners = [], []
    for fid, v in zip(cands, vis, strict=True):
        if not all(v) or not v:
            continue
        n = geo.faces[fid].normal
        for p, _ in acc.points(fid):
            origins.append((p[0] + n[0] * 1e-4, p[1] + n[1] * 1e-4, p[2] + n[2] * 1e-4))
            owners.append(fid)
    hits = acc.first_hits(origins, [down] * len(origins))
    ok: dict[int, bool] = {}
    for fid, h in zip(owners, hits, strict=True):
        ok[fid] = ok.get(fid, True) and h is not None and h[1] in region
    return {fid for fid, good in ok.items() if good}


#: Steepest floor (degrees from an axis) taken as a sloped floor machined along that axis.
SLOPED_FLOOR_MAX_DEG = 30.0


def _nearest_axis(a: Vec3) -> tuple[Vec3, float]:
    """The axis direction nearest ``a`` and the angle between them (degrees)."""
    k = max(range(3), key=lambda i: abs(a[i]))
    b = tuple(0.0 if i != k else math.copysign(1.0, a[k]) for i in range(3))
    return b, math.degrees(math.acos(min(1.0, abs(a[k]))))  # type: ignore[return-value]


def _sloped_start(geo, a: Vec3, floor_id: int) -> Vec3 | None:  # type: ignore[no-untyped-def]
    """The axis to grow a tilted floor's region along, or None.

    When every face meeting the floor in a concave edge stands along the nearest axis (within
    :data:`SLOPED_FLOOR_MAX_DEG`).
    """
    if _tilt_deg(a) < 1e-6:
        return None
    b, deg = _nearest_axis(a)
    if deg > SLOPED_FLOOR_MAX_DEG:
        return None
    feet = [geo.faces[nb] for nb, edges in geo.neighbours(floor_id).items()
            if any(geo.edges[e].convexity == "concave" for e in edges)]
    return b if feet and all(_is_wall(f, b) for f in feet) else None


def _sloped_axis(geo, a: Vec3, floor_id: int, region: set[int]) -> Vec3 | None:  # type: ignore[no-untyped-def]
    """The axis a tilted floor's region is machined along when all its other faces run along it.

    A floor a few degrees off an axis between walls that all run along the axis (planes with
    normals across it, cylinders about it) is a pocket with a sloped floor, reached along the
    axis like any pocket: not a pocket on an inclined face (whose walls would stand square to
    the floor) needing a tilted setup, and its walls are no dovetail. None otherwise.
    """
    if _tilt_deg(a) < 1e-6:
        return None
    b, deg = _nearest_axis(a)
    if deg > SLOPED_FLOOR_MAX_DEG:
        return None
    others = [geo.faces[i] for i in sorted(region) if i != floor_id]
    if not others:
        return None
    for f in others:
        if f.kind == "plane":
            if abs(dot(f.normal, b)) >= 1e-6:  # type: ignore[arg-type]
                return None
        elif f.axis is None or not parallel(f.axis, b, 1e-6):  # type: ignore[arg-type]
            return None
    return b  # type: ignore[return-value]


def _region_feature(an: Analysis, acc: Access, a: Vec3, floor_id: int, region: set[int],
                    floor_seen: float, open_faces: set[int]) -> None:
    geo = an.geo
    floor = geo.faces[floor_id]
    slope = 0.0
    axis = _sloped_axis(geo, a, floor_id, region)
    if axis is not None:  # a sloped floor: along the axis, its highest point the flat level a mill can go to
        slope = math.degrees(math.acos(min(1.0, abs(dot(a, axis)))))
        a = axis
        floor_low, floor_h = acc.extent(floor_id, a)
        open_faces = {o for o in open_faces if not _is_wall(geo.faces[o], a)}
    else:
        floor_h = dot(floor.origin, a)
        floor_low = floor_h
    walls = [geo.faces[i] for i in sorted(region) if i != floor_id and _is_wall(geo.faces[i], a)]
    leaning = [geo.faces[i] for i in sorted(region) if _is_overhang(geo.faces[i], a)]
    drafted = _drafted_walls(geo, region, floor_id, a) if axis is None else []
    # a dish: its floor ringed only by fillets that rise to the top (no wall stands above them)
    dish = [] if walls or leaning or drafted or axis is not None else _dish_rim(geo, region, floor_id, a)
    if not walls and not leaning and not drafted and not dish:
        return
    top = max(acc.extent(w.id, a)[1] for w in walls + leaning + drafted + dish)
    # a chamfer or round on the walls' top edge: the pocket is as deep as from the top it breaks into
    rim = _rim_break(geo, acc, region, walls + drafted + dish, a, top) if axis is None else None
    if rim is not None:
        top = rim[1]
    depth = top - floor_low
    if depth <= 1e-6:
        return
    loops = floor_loops = geo.face_loops(floor_id, deflection=0.001)
    # walls standing on an inner loop of the floor (an island): the gaps round them are no width of the region
    island = _island_faces(an, acc, region, floor_id, a, floor_loops, walls + drafted)
    if island and _band(geo.faces[floor_id].area, floor_loops, island, an, acc, walls + drafted, floor_h, a):
        island = set()  # a groove round an island (as narrow all round): its width is the gap
    # Narrowest distance between opposite walls facing each other across the void.
    width = math.inf
    width_dir: Vec3 | None = None
    pair: tuple[int, int] | None = None
    planes = [w for w in walls if w.kind == "plane" and w.id not in island]
    for i, p in enumerate(planes):
        for q in planes[i + 1:]:
            if dot(p.normal, q.normal) < -1 + 1e-9:
                gap = dot(sub(q.origin, p.origin), p.normal)
                if gap > 1e-6 and gap < width - 1e-12:
                    width, width_dir, pair = gap, p.normal, (p.id, q.id)
    if drafted:  # drafted walls face each other across the floor: the width at the floor
        gap, gdir, gpair = _trace_gap(planes + [d for d in drafted if d.id not in island and d.kind == "plane"], a,
                                      floor_h)
        if gap < width - 1e-12:
            width, width_dir, pair = gap, gdir, gpair
    annulus = _annulus(walls, a)
    if annulus is not None:
        width, width_dir = annulus[1] - annulus[0], None
    round_dish = _round_dish(dish, depth)
    if round_dish is not None:  # one torus round a disc: as wide as the torus at the top, every way
        width, width_dir = round_dish, None
    elif dish and floor_loops:  # across the floor's outline, and its fillets each side as far as they reach
        width, width_dir = _caliper_2d(floor_loops[0], a)
        width += 2 * min(_fillet_reach(f.radius, depth) for f in dish)
    # Outline of the floor in the approach frame; lengths wall to wall, over every face of the region.
    if floor_seen < 1.0 or leaning:
        # part of the floor lies under an overhang: the outline is what a cutter along a reaches
        opening = _opening(an, acc, floor_id, a)
        if opening is not None:
            loops = opening
            if not math.isfinite(width):
                width, width_dir = _caliper_2d(loops[0], a)
    u, v = _frame(a)
    if width_dir is not None:
        u = width_dir
        v = cross(a, u)
    outer = loops[0] if loops else []
    if drafted and floor_loops:  # drafted walls widen upwards: the sizes at the floor, as drawn there
        box = geo.faces[floor_id].bbox
        span_u = _exact_span(box, u, [dot(p, u) for p in floor_loops[0]])
        span_v = _exact_span(box, v, [dot(p, v) for p in floor_loops[0]])
    else:
        span_u = _span(acc, region, u)
        span_v = _span(acc, region, v)
    if not math.isfinite(width):
        width = min(span_u, span_v) if width_dir is None else span_u
    length = max(span_v, span_u) if width_dir is None else span_v
    length = max(length, width)
    if annulus is not None:
        length = math.pi * (annulus[0] + annulus[1])  # along the groove's mid-line
    if round_dish is not None:
        length = round_dish
    # Corner radii.
    vert_r = []
    floor_r = []
    for fid in region:
        f = geo.faces[fid]
        if f.kind == "cylinder" and f.concave and parallel(f.axis, a, 1e-6) and (f.span_deg or 0) < 359.0:
            vert_r.append(f.radius)
        elif _is_floor_fillet(f, a):
            floor_r.append(f.radius)
        elif drafted and drafted_cone(f, a):
            vert_r.append(cone_floor_radius(f, a))  # a drafted corner: its radius at the floor
        if dish and f.kind == "torus" and _is_floor_fillet(f, a):  # a dish's corner: its radius at the top
            vert_r.append(f.major_radius + _fillet_reach(f.radius, depth))
    sharp_vertical = sharp_floor = False
    for fid in region:
        for eid in geo.face_edges[fid]:
            e = geo.edges[eid]
            o = next((x for x in e.faces if x != fid), None)
            if o is not None and o in region and e.convexity == "concave":
                if e.kind == "line" and (parallel(e.direction, a, 1e-6) or (
                        drafted and fid != floor_id and o != floor_id
                        and abs(dot(e.direction, a)) >= math.cos(math.radians(DRAFT_MAX_DEG)))):
                    # an obtuse edge (a shallow V's floor) limits no cutter's radius
                    sharp_vertical = sharp_vertical or not obtuse(geo, e)
                elif fid == floor_id or o == floor_id:
                    sharp_floor = True
    min_corner = 0.0 if sharp_vertical else (min(vert_r) if vert_r else None)
    floor_radius = 0.0 if sharp_floor or not floor_r else min(floor_r)
    if annulus is not None and not open_faces:
        kind = "slot"
    elif not open_faces:
        kind = _closed_kind(walls, _long_pair(acc, pair, v, width) if pair else width_dir is not None,
                            width, length, vert_r)
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
    tilt = _tilt_deg(a)
    if tilt > 1e-6:
        dims["tilt_deg"] = tilt
    if slope:
        dims["floor_slope_deg"] = slope
    if drafted:
        dims["draft_deg"] = max(_draft_deg(f, a) for f in drafted)
    if island:
        gap = _island_gap(an, acc, island, [w.id for w in walls + drafted], floor_h, a)
        if math.isfinite(gap):
            dims["min_gap_mm"] = gap
    frame_u, frame_v = _frame(a)
    props = {
        "approach": list(clean(a)),
        "open": bool(open_faces),
        "open_sides": len(open_faces),
        "through": False,
        "floor": "sloped" if slope else "flat",
        "floor_face": floor_id,
        "floor_z_mm": round(floor_h, 9),
        "top_z_mm": round(top, 9),
        "frame_u": list(clean(frame_u)),
        "frame_v": list(clean(frame_v)),
        "outline": [[round(dot(p, frame_u), 6), round(dot(p, frame_v), 6)] for p in outer],
        "islands": [[[round(dot(p, frame_u), 6), round(dot(p, frame_v), 6)] for p in loop] for loop in loops[1:]],
    }
    if rim is not None:
        props["rim_break"] = {"kind": rim[0], "from_z_mm": round(rim[2], 9), "faces": rim[3]}
    if loops is not floor_loops:
        props["floor_outline"] = [[round(dot(p, frame_u), 6), round(dot(p, frame_v), 6)] for p in floor_loops[0]]
    if annulus is not None:
        props["shape"] = "annular"
    if slope:
        props["floor_low_z_mm"] = round(floor_low, 9)  # floor_z_mm: its highest point
    if floor_seen < 1.0:
        props["floor_seen"] = round(floor_seen, 6)  # part of the floor lies under an overhang
    if tilt > 1e-6:
        props["setup"] = "3+2"
    fid_ = an.new_id(kind)
    loc = floor.centroid
    an.features.append(Feature(fid_, kind, tuple(sorted(region)), dims, props, clean(loc), clean(a)))
    for i in region:
        an.claimed.setdefault(i, fid_)
    skip = {f.id for f in drafted}
    add_chamfers(an, [i for i in sorted(region) if _is_floor_chamfer(geo.faces[i], a) and i not in skip], a, fid_,
                 "floor")


def _dish_rim(geo, region: set[int], floor_id: int, a: Vec3) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The fillets of a dish: every face round the floor is a floor fillet of the region, and they rise from it.

    A fluidic chamber with its floor rounded into the top (fillet radius = depth) has no wall; its fillets
    are the region's rim, each meeting the top at a convex edge. Empty when any neighbour of the floor
    is something else, the floor has an inner loop, or a fillet runs on into another face.
    """
    around = set(geo.neighbours(floor_id))
    rim = [geo.faces[i] for i in sorted(around)]
    if not rim or not around <= region or not all(_is_floor_fillet(f, a) for f in rim):
        return []
    if len(geo.face_loops(floor_id, deflection=0.001)) != 1:
        return []  # round an island too: not a dish (an annular recess dfm does not size)
    for f in rim:  # each fillet ends at an edge of the top, not in a further blend (a wall dfm does not see)
        for nb, edges in geo.neighbours(f.id).items():
            if nb != floor_id and nb not in around and any(geo.edges[e].convexity != "convex" for e in edges):
                return []
    return rim


def _fillet_reach(radius: float, depth: float) -> float:
    """How far out from the floor a floor fillet of ``radius`` reaches at ``depth`` above it (its top edge)."""
    if depth >= radius:
        return radius
    return math.sqrt(max(radius * radius - (radius - depth) ** 2, 0.0))


def _round_dish(rim: list, depth: float) -> float | None:  # type: ignore[type-arg]
    """The top diameter of a round dish (its rim one torus, or pieces of one: coaxial, the same radii), else None."""
    if not rim or any(f.kind != "torus" for f in rim):
        return None
    f0 = rim[0]
    for f in rim[1:]:
        if not (parallel(f.axis, f0.axis, 1e-9) and abs(f.major_radius - f0.major_radius) < 1e-9
                and abs(f.radius - f0.radius) < 1e-9 and math.dist(f.origin, f0.origin) < 1e-9):
            return None
    return 2 * (f0.major_radius + _fillet_reach(f0.radius, depth))


def _trace_gap(planes: list, a: Vec3, h: float) -> tuple[float, Vec3 | None, tuple[int, int] | None]:  # type: ignore[type-arg]
    """Narrowest gap between flat walls facing each other across the approach, where they cross height ``h``.

    For walls along the approach it is the gap between the planes; a drafted wall is taken
    where it meets the floor (height ``h`` along ``a``). Returns the gap, the first wall's
    direction across the approach towards the second, and the pair's face ids.
    """
    best: tuple[float, Vec3 | None, tuple[int, int] | None] = (math.inf, None, None)
    flat = []
    for p in planes:
        nh = sub(p.normal, tuple(c * dot(p.normal, a) for c in a))  # type: ignore[arg-type]
        size = math.sqrt(dot(nh, nh))
        if size < 1e-9:
            continue
        nh = (nh[0] / size, nh[1] / size, nh[2] / size)
        # the plane's trace at height h: points h·a + s·nh (+ along the trace), s from n·x = n·o
        s_ = (dot(p.normal, p.origin) - h * dot(p.normal, a)) / dot(p.normal, nh)
        flat.append((p, nh, s_))
    for i, (p, nh, sp) in enumerate(flat):
        for q, nq, sq in flat[i + 1:]:
            if dot(nh, nq) < -1 + 1e-9:
                gap = -sq - sp  # q's trace along nh sits at -sq
                if 1e-6 < gap < best[0] - 1e-12:
                    best = (gap, nh, (p.id, q.id))
    return best


def _island_faces(an: Analysis, acc: Access, region: set[int], floor_id: int, a: Vec3,  # type: ignore[type-arg]
                  floor_loops: list, walls: list) -> set[int]:
    """The walls (and their rounds) of islands: connected sets standing within an inner loop of the floor."""
    if len(floor_loops) < 2:
        return set()
    geo = an.geo
    u, v = _frame(a)
    boxes = _loop_boxes(floor_loops[1:], u, v)
    side = {w.id for w in walls} | {i for i in region if i != floor_id and geo.faces[i].concave is False}
    out: set[int] = set()
    for comp in connected_sets(geo, side):
        eu = [acc.extent(i, u) for i in comp]
        ev = [acc.extent(i, v) for i in comp]
        lu, hu = min(e[0] for e in eu), max(e[1] for e in eu)
        lv, hv = min(e[0] for e in ev), max(e[1] for e in ev)
        tol = 2e-3  # the loops are chords of the floor's edges (1 um deflection); the faces are exact
        if any(lu >= b[0] - tol and hu <= b[1] + tol and lv >= b[2] - tol and hv <= b[3] + tol for b in boxes):
            out |= comp
    return out


def _band(area: float, loops: list, island: set[int], an: Analysis, acc: Access,  # type: ignore[type-arg]
          walls: list, floor_h: float, a: Vec3) -> bool:  # type: ignore[type-arg]
    """True when the floor is a band round its islands, about as wide all round as at its narrowest.

    The floor's mean width is its area over the mean length of its outlines (a uniform band
    of width w round an island has area w x (outer + inner) / 2). Within twice the narrowest
    gap the region is a groove round the island (a racetrack O-ring groove), not a pocket
    narrowed at one place.
    """
    def perimeter(loop):  # type: ignore[no-untyped-def]
        return sum(math.dist(loop[k], loop[(k + 1) % len(loop)]) for k in range(len(loop))) if len(loop) > 1 else 0.0

    total = sum(perimeter(loop) for loop in loops)
    if total <= 0:
        return False
    mean = 2 * area / total
    gap = _island_gap(an, acc, island, [w.id for w in walls], floor_h, a)
    return math.isfinite(gap) and mean < 1.5 * gap


def _island_gap(an: Analysis, acc: Access, island: set[int], walls: list[int], floor_h: float, a: Vec3) -> float:
    """Narrowest gap between an island and a wall or another island, across the approach (mm).

    The walls are cut by a plane across the approach halfway up the lowest island; the gap is
    the least distance between the island's outline there and every other outline.
    """
    from dfm.errors import KernelError
    from dfm.kernel.sections import face_section

    geo = an.geo
    isl_top = min(acc.extent(i, a)[1] for i in island)
    h = floor_h + 0.5 * (isl_top - floor_h)
    origin = (a[0] * h, a[1] * h, a[2] * h)
    u, v = _frame(a)
    others = sorted(set(walls) - island)
    try:
        isl_chains = face_section(geo, sorted(island), origin, a)
        wall_chains = face_section(geo, others, origin, a) if others else []
    except KernelError:
        return math.inf

    def flat(chains):  # type: ignore[no-untyped-def]
        return [([(dot(p, u), dot(p, v)) for p in pts], closed) for pts, closed in chains if pts]

    isl, rest = flat(isl_chains), flat(wall_chains)
    best = math.inf
    for k, chain in enumerate(isl):
        best = min(best, _chains_gap([chain], rest + isl[:k] + isl[k + 1:]))
    return _exact_gap(geo, island, others, best, a) if math.isfinite(best) else best


#: How far the sections' gap may stand from the faces' exact one (their chords are 1 um off the arcs).
_CHORD_SLACK = 2e-3


def _exact_gap(geo, island: set[int], others: list[int], approx: float, a: Vec3) -> float:  # type: ignore[no-untyped-def]
    """The island gap ``approx`` (from the sections' chords) made exact.

    The least distance between an island's walls along the approach and the walls round it or
    another island's, where that is within the chords' slack of ``approx`` (walls along the
    approach: the gap is the same at every height).
    """
    def vertical(i: int) -> bool:
        return _is_wall(geo.faces[i], a)

    def box_gap(i: int, j: int) -> float:
        (alo, ahi), (blo, bhi) = geo.faces[i].bbox, geo.faces[j].bbox
        return math.sqrt(sum(max(blo[k] - ahi[k], alo[k] - bhi[k], 0.0) ** 2 for k in range(3)))

    groups = connected_sets(geo, island)
    pairs: set[tuple[int, int]] = set()
    for g in groups:
        near = [j for j in others if vertical(j)] + [j for h in groups if h is not g for j in h if vertical(j)]
        for i in g:
            if vertical(i):
                pairs.update((min(i, j), max(i, j)) for j in near if box_gap(i, j) <= approx + _CHORD_SLACK)
    exact = math.inf
    for i, j in sorted(pairs):
        got = geo.face_distance(i, j)
        if got is not None:
            exact = min(exact, got[0])
    return exact if abs(exact - approx) <= _CHORD_SLACK else approx


def _chains_gap(first: list, second: list) -> float:  # type: ignore[type-arg]
    """Least distance between two sets of 2D polylines ((points, closed) pairs) that do not cross."""
    import numpy as np

    def points(chains):  # type: ignore[no-untyped-def]
        return np.array([p for pts, _ in chains for p in pts], dtype=float).reshape(-1, 2)

    def segments(chains):  # type: ignore[no-untyped-def]
        out = []
        for pts, closed in chains:
            q = list(pts) + ([pts[0]] if closed and len(pts) > 2 else [])
            out.extend((q[i], q[i + 1]) for i in range(len(q) - 1))
        return np.array(out, dtype=float).reshape(-1, 2, 2)

    def to_segments(pts, segs) -> float:  # type: ignore[no-untyped-def]
        if len(pts) == 0 or len(segs) == 0:
            return math.inf
        a0, d = segs[:, 0, :], segs[:, 1, :] - segs[:, 0, :]
        dd = np.maximum((d * d).sum(axis=1), 1e-300)
        best = math.inf
        for k in range(0, len(pts), 512):
            p = pts[k:k + 512, None, :]
            t = np.clip(((p - a0) * d).sum(axis=2) / dd, 0.0, 1.0)
            near = a0 + t[:, :, None] * d
            best = min(best, float(np.sqrt(((p - near) ** 2).sum(axis=2)).min()))
        return best

    return min(to_segments(points(first), segments(second)), to_segments(points(second), segments(first)))


def _long_pair(acc: Access, pair: tuple[int, int], along: Vec3, width: float) -> bool:
    """True when both walls of an opposed pair run at least the gap between them along ``along``.

    Those are a channel's sides; a short flat facing a long one (a triangle's corner chamfer
    facing its hypotenuse) is not.
    """
    return all(acc.extent(i, along)[1] - acc.extent(i, along)[0] >= width - 1e-9 for i in pair)


def _closed_kind(walls: list, has_pair: bool, width: float, length: float,  # type: ignore[type-arg]
                 vert_r: list[float]) -> str:
    """``slot`` or ``pocket`` for a region with walls all round (blind or through).

    A slot is long (length ≥ 2 × width) between two long parallel walls (``has_pair``: the
    narrowest opposed flat pair runs along the slot, :func:`_long_pair`); with no such pair,
    between rounded walls (at most four faces with vertical fillets) or with a half-round end
    as wide as the region.
    """
    if length < 2 * width - 1e-9:
        return "pocket"
    if has_pair:
        return "slot"
    if vert_r and sum(1 for w in walls if w.concave is not False) <= 4:  # (a convex round at its mouth is no side)
        return "slot"
    if any(w.kind == "cylinder" and (w.span_deg or 0) >= 179.9 and abs(2 * w.radius - width) < 1e-6 for w in walls):
        return "slot"
    return "pocket"


def _opening(an: Analysis, acc: Access, floor_id: int, a: Vec3) -> list[list[Vec3]] | None:
    """Loops of the part of the floor no face above it covers along ``a`` (None when none does).

    The faces that cover it face partly against ``a`` (a T-slot head's ceilings, a dovetail's
    flanks) and lie above the floor; what their shadows leave is the reachable outline. Of
    pieces it falls into, the largest.
    """
    geo = an.geo
    floor = geo.faces[floor_id]
    floor_h = dot(floor.origin, a)
    axis = next((k for k in range(3) if abs(abs(a[k]) - 1.0) < 1e-12), None)
    flo, fhi = floor.bbox
    over = []
    for fid, f in geo.faces.items():
        if fid == floor_id or acc.extent(fid, a)[1] <= floor_h + 1e-6:
            continue
        if axis is not None and any(f.bbox[1][k] <= flo[k] + 1e-9 or f.bbox[0][k] >= fhi[k] - 1e-9
                                    for k in range(3) if k != axis):
            continue  # beside the floor
        if f.kind == "plane":
            if dot(f.normal, a) < -1e-9:
                over.append(fid)
        elif any(dot(n, a) < -1e-6 for _, n in acc.points(fid)):
            over.append(fid)
    if not over:
        return None
    pieces = geo.unshadowed_loops(floor_id, over, a, deflection=0.001)
    return pieces[0] if pieces and pieces[0] else None


def _caliper_2d(outline: list[Vec3], a: Vec3) -> tuple[float, Vec3 | None]:
    """Narrowest width of a closed outline across the approach, and its direction (3D)."""
    u, v = _frame(a)
    pts = sorted({(round(dot(p, u), 9), round(dot(p, v), 9)) for p in outline})
    if len(pts) < 3:
        return math.inf, None

    def turn(o, p, q):  # type: ignore[no-untyped-def]
        return (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])

    hull: list[tuple[float, float]] = []
    for seq in (pts, pts[::-1]):  # monotone chain: lower then upper hull
        part: list[tuple[float, float]] = []
        for p in seq:
            while len(part) >= 2 and turn(part[-2], part[-1], p) <= 0:
                part.pop()
            part.append(p)
        hull.extend(part[:-1])
    best, best_dir = math.inf, None
    for k, p in enumerate(hull):
        q = hull[(k + 1) % len(hull)]
        ex, ey = q[0] - p[0], q[1] - p[1]
        n = math.hypot(ex, ey)
        if n < 1e-12:
            continue
        nx, ny = -ey / n, ex / n
        w = max(abs((r[0] - p[0]) * nx + (r[1] - p[1]) * ny) for r in hull)
        if w < best - 1e-12:
            best, best_dir = w, (u[0] * nx + v[0] * ny, u[1] * nx + v[1] * ny, u[2] * nx + v[2] * ny)
    return best, best_dir


def _tilt_deg(a: Vec3) -> float:
    """Angle (degrees) between the approach and the nearest axis direction (0 for an axis)."""
    c = max(abs(x) for x in a)
    return math.degrees(math.acos(min(1.0, c)))


def _span(acc: Access, faces: set[int], d: Vec3) -> float:
    """Extent of a set of faces along ``d``: wall to wall, fillets included."""
    ext = [acc.extent(fid, d) for fid in faces]
    return max(e[1] for e in ext) - min(e[0] for e in ext)


def _annulus(walls: list, a: Vec3) -> tuple[float, float] | None:  # type: ignore[type-arg]
    """(inner, outer) radius when the walls are a full bore round a coaxial boss (an O-ring groove)."""
    outer = [w for w in walls if w.kind == "cylinder" and w.concave and (w.span_deg or 0) >= 359.0
             and parallel(w.axis, a, 1e-6)]
    inner = [w for w in walls if w.kind == "cylinder" and w.concave is False and parallel(w.axis, a, 1e-6)]
    for o in outer:
        for i in inner:
            off = sub(i.origin, o.origin)
            radial = sub(off, tuple(c * dot(off, o.axis) for c in o.axis))  # type: ignore[arg-type]
            if dot(radial, radial) < 1e-12 and i.radius < o.radius - 1e-6:
                return i.radius, o.radius
    return None


def _open_probes(an: Analysis, acc: Access, a: Vec3, floor_id: int,
                 region: set[int]) -> list[tuple[int, Vec3, Vec3]]:
    """Rays that find where the floor runs out to air across the approach: (side face, origin, direction).

    At each convex edge of the floor down to a side face (a flat one, or the round of a
    turned flange), a ray just above the floor, along the side's outward normal, must leave
    the part for the side to be open: a passage cut through the floor, which the ray crosses
    to the wall beyond, is not an open side.
    """
    geo = an.geo
    walls = [i for i in region if i != floor_id and _is_wall(geo.faces[i], a)]
    top = max((acc.extent(i, a)[1] for i in walls), default=dot(geo.faces[floor_id].origin, a))
    lift = max(1e-7, min(1e-3, (top - dot(geo.faces[floor_id].origin, a)) / 2))
    probes: list[tuple[int, Vec3, Vec3]] = []
    for eid in geo.face_edges[floor_id]:
        e = geo.edges[eid]
        if e.convexity != "convex":
            continue
        o = next((x for x in e.faces if x != floor_id), None)
        if o is None or o in region:
            continue
        of = geo.faces[o]
        out: Vec3 | None = None
        if of.kind == "plane" and abs(dot(of.normal, a)) < 1e-6:
            out = of.normal
        elif of.kind == "cylinder" and not of.concave and parallel(of.axis, a, 1e-6):
            out = geo.face_normal_at(o, e.midpoint)
        if out is None:
            continue
        out = sub(out, tuple(c * dot(out, a) for c in a))  # type: ignore[arg-type]
        size = math.sqrt(dot(out, out))
        if size < 1e-9:
            continue  # no direction across the approach (a degenerate normal)
        out = (out[0] / size, out[1] / size, out[2] / size)
        m = e.midpoint
        probes.append((o, (m[0] + a[0] * lift + out[0] * 1e-4, m[1] + a[1] * lift + out[1] * 1e-4,
                           m[2] + a[2] * lift + out[2] * 1e-4), out))
    return probes


def _exact_span(box: tuple[Vec3, Vec3], direction: Vec3, along: list[float]) -> float:
    """Extent of the floor along an axis ``direction``, exact from its optimal box.

    The outline points are a discretisation (chord error up to the deflection, 1 um), so a
    round floor of Ø8 would measure 7.999; off an axis the points are all there is.
    """
    for k in range(3):
        if abs(abs(direction[k]) - 1.0) < 1e-12:
            return box[1][k] - box[0][k]
    return (max(along) - min(along)) if along else 0.0


def _min_gap(planes: list) -> tuple[float, tuple[int, int] | None]:  # type: ignore[type-arg]
    """Smallest gap (> 1 um) between opposed planes, from each earlier plane along its normal, and that pair's face ids.

    The same products and sums as ``dot(p.normal, q.normal)`` and ``dot(q.origin - p.origin,
    p.normal)`` for every pair p before q, one numpy row per p (a through slot along a comb
    of thousands of teeth has millions of pairs); (inf, None) when no pair is opposed.
    """
    import numpy as np

    width: float = math.inf
    pair: tuple[int, int] | None = None
    if len(planes) < 2:
        return width, pair
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
        gap[gap <= 1e-6] = math.inf
        k = int(gap.argmin())
        if gap[k] < width:
            width = float(gap[k])
            pair = (planes[i].id, planes[i + 1 + int(np.flatnonzero(opposed)[k])].id)
    return width, pair


def _wall_comps(geo, cands: set[int]) -> list[set[int]]:  # type: ignore[no-untyped-def]
    """Connected sets (of two faces or more) of ``cands`` joined by concave or tangent edges."""
    out = []
    seen: set[int] = set()
    for seed in sorted(cands):
        if seed in seen:
            continue
        comp = {seed}
        todo = [seed]
        while todo:
            cur = todo.pop()
            for nb, edges in geo.neighbours(cur).items():
                if nb in cands and nb not in comp and any(
                        geo.edges[e].convexity in ("concave", "tangent") for e in edges):
                    comp.add(nb)
                    todo.append(nb)
        seen |= comp
        if len(comp) >= 2:
            out.append(comp)
    return out


def _ring(geo, comp: set[int]) -> bool:  # type: ignore[no-untyped-def]
    """True when every face of ``comp`` meets two others of it: a closed ring of walls."""
    return all(sum(1 for nb in geo.neighbours(i) if nb in comp) >= 2 for i in comp)


def _prefetch_centres(geo, acc: Access, comps: list[set[int]], a: Vec3, neg: Vec3) -> None:  # type: ignore[no-untyped-def]
    """Cast in one batch per direction the centre rays the rings of :func:`_passages` ask for, ring by ring.

    Down first (``neg``), for every ring; then up, for the rings seen from below (the loop asks
    up only for those). One batch instead of one per ring (plate_m: 121 rings).
    """
    rings = [sorted(c) for c in comps if _ring(geo, c)]
    down = acc.centre_visible_many((i, neg) for ids in rings for i in ids)
    k, seen_below = 0, []
    for ids in rings:
        if all(down[k:k + len(ids)]):
            seen_below.extend(ids)
        k += len(ids)
    acc.centre_visible_many((i, a) for i in seen_below)


def _passages(an: Analysis, acc: Access, used: set[int], comps: dict[Vec3, list[set[int]]], rings: bool) -> None:
    """Through slots and passages: loops of walls with no floor, open at both ends.

    The walls are joined by concave edges (or tangent ones into concave blends); a cutter
    must see them from both ends (rays along +a and -a leave the part). The width is the
    narrowest gap between opposed walls, or, for a closed outline with none (a triangle),
    the narrowest caliper width of the outline. With ``rings`` only closed rings whose every
    wall is seen from both ends at its middle are taken (a tunnel, before any floor is
    sought); without, the rest, including a V-shaped groove: walls with no floor and no two
    facing each other, meeting in a concave edge and all facing one side they are seen from.
    ``comps`` keeps the wall sets per direction from the first call for the second (faces
    are only taken away between them).
    """
    geo = an.geo
    dirs = [d for i, d in enumerate(acc.directions()) if i % 2 == 0 or i >= 6]
    for a in dirs:  # one of each ± axis pair: a through region is the same from both sides
        neg = (-a[0], -a[1], -a[2])
        known = comps.get(a)
        if known is None:
            cands = {f.id for f in geo.faces.values() if f.id not in used and f.id not in an.claimed
                     and _is_wall(f, a) and f.concave is not False}
            known = comps[a] = _wall_comps(geo, cands)
        todo_comps = []
        for c in known:
            rest = {i for i in c if i not in used and i not in an.claimed}
            todo_comps.extend([rest] if len(rest) == len(c) else _wall_comps(geo, rest))
        if rings:
            _prefetch_centres(geo, acc, todo_comps, a, neg)
        for comp in todo_comps:
            ring = _ring(geo, comp)
            ids = sorted(comp)
            if rings:
                if not ring or not all(acc.centre_visible_many((i, neg) for i in ids)) \
                        or not all(acc.centre_visible_many((i, a) for i in ids)):
                    continue
            planes = [geo.faces[i] for i in comp if geo.faces[i].kind == "plane"]
            width, pair = _min_gap(planes)
            width_dir = geo.faces[pair[0]].normal if pair else None
            side: Vec3 | None = None  # a V-groove's open side
            if not math.isfinite(width) and (ring or (side := _v_groove(an, acc, comp, planes, a)) is not None):
                width = _caliper(acc, comp, planes)
            vee = side is not None
            if not math.isfinite(width):
                continue
            up = acc.visible_many((i, a) for i in ids)
            down = acc.visible_many((i, neg) for i in ids)
            if not any(any(v) for v in up) or not any(any(v) for v in down):
                continue  # not open at both ends
            lo = min(acc.extent(i, a)[0] for i in comp)
            hi = max(acc.extent(i, a)[1] for i in comp)
            depth = hi - lo
            inner = {e for i in comp for e in geo.face_edges[i]
                     if geo.edges[e].convexity == "concave" and all(f in comp for f in geo.edges[e].faces)}
            openings = {e: opening_deg(geo, geo.edges[e]) for e in sorted(inner)} if vee else {}
            # an obtuse edge (a shallow V's floor) limits no cutter's radius
            concave_vertical = [geo.edges[e] for e in sorted(inner) if not obtuse(geo, geo.edges[e])]
            if side is not None and inner and not concave_vertical:
                # an open V whose floor limits no cutter: a tool along the groove sweeps its flanks from
                # the open side, so its width is the opening's, not the caliper of the closed triangle
                width = _span(acc, comp, cross(a, side))
            vert_r = [geo.faces[i].radius for i in comp if geo.faces[i].kind == "cylinder" and geo.faces[i].concave]
            min_corner = 0.0 if concave_vertical else (min(vert_r) if vert_r else None)
            closed = ring or len(planes) >= 4  # (two sides and a round end, not in a ring: a fork, open)
            # lengths wall to wall in the approach frame, as for a region with a floor
            u, v = _frame(a)
            along = cross(a, width_dir) if width_dir is not None else None
            length = max(_span(acc, comp, along) if along else max(_span(acc, comp, u), _span(acc, comp, v)), width)
            walls = [geo.faces[i] for i in ids]
            long_pair = pair is not None and along is not None and _long_pair(acc, pair, along, width)
            kind = _closed_kind(walls, long_pair, width, length, vert_r) if closed else "slot"
            dims = {"width_mm": width, "length_mm": length, "depth_mm": depth, "depth_width_ratio": depth / width,
                    "floor_radius_mm": 0.0}
            if min_corner is not None:
                dims["min_corner_radius_mm"] = min_corner
                if min_corner > 0:
                    dims["depth_radius_ratio"] = depth / min_corner
            tilt = _tilt_deg(a)
            if tilt > 1e-6:
                dims["tilt_deg"] = tilt
            pid = an.new_id(kind)
            props = {"approach": list(clean(a)), "open": not closed, "through": True, "floor": "through",
                     "top_z_mm": round(hi, 9), "floor_z_mm": round(lo, 9),
                     "frame_u": list(clean(u)), "frame_v": list(clean(v))}
            outline = _passage_outline(an, acc, comp, a)
            if outline:
                props["outline"] = [[round(dot(p, u), 6), round(dot(p, v), 6)] for p in outline]
            if tilt > 1e-6:
                props["setup"] = "3+2"
            angles = [x for x in openings.values() if x is not None]
            if vee and angles:  # flanks a flat end mill along the groove cannot make, only its corner
                props["shape"] = "v-groove"
                dims["v_angle_deg"] = min(angles)
            centre = geo.faces[min(comp)].centroid
            an.features.append(Feature(pid, kind, tuple(sorted(comp)), dims, props, clean(centre), clean(a)))
            for i in comp:
                an.claimed.setdefault(i, pid)


def _passage_outline(an: Analysis, acc: Access, comp: set[int], a: Vec3) -> list[Vec3] | None:
    """The opening of a through region: its walls cut square to the approach (3D points).

    With no floor, the outline is the trace of the walls, which run along the approach: a
    plane across the approach cuts them in it. The plane lies where every wall is (the middle
    of their common extent); where no height holds them all (a tunnel whose ceiling a pocket
    cuts away in the middle), at the middle of each wall's extent in turn, the first that
    closes round. An open chain (a V-groove, a slot open at its ends) closes across its
    opening, as a polygon does.
    """
    from dfm.kernel.sections import face_section

    ext = [acc.extent(i, a) for i in sorted(comp)]
    lo, hi = max(e[0] for e in ext), min(e[1] for e in ext)
    heights = [(lo + hi) / 2] if hi - lo > 1e-6 else []
    heights.append((min(e[0] for e in ext) + max(e[1] for e in ext)) / 2)
    heights += sorted({round((e[0] + e[1]) / 2, 9) for e in ext})
    best: list[Vec3] | None = None
    best_len = 0.0
    tried: set[float] = set()
    for h in heights:
        if round(h, 9) in tried:
            continue
        tried.add(round(h, 9))
        chains = face_section(an.geo, sorted(comp), (a[0] * h, a[1] * h, a[2] * h), a)
        if not chains:
            continue
        if len(chains) == 1 and chains[0][1] and len(chains[0][0]) >= 3:
            return chains[0][0]
        pts = chains[0][0]
        size = sum(math.dist(pts[k], pts[k + 1]) for k in range(len(pts) - 1))
        if len(pts) >= 3 and size > best_len:
            best, best_len = pts, size
    return best


def _v_groove(an: Analysis, acc: Access, comp: set[int], planes: list,  # type: ignore[type-arg]
              a: Vec3) -> Vec3 | None:
    """The side flat walls along ``a`` open towards when they meet in a concave edge (a V-groove), else None.

    That side is a candidate direction d across ``a`` that every wall faces (n·d > 0) and is
    seen from: the groove's opening (a V-groove's top). Coplanar pieces of one face (joined by
    flat edges) or the walls and ceiling of a T-slot's head (no side they all face) are not one.
    """
    geo = an.geo
    if len(planes) != len(comp) or not any(
            geo.edges[e].convexity == "concave" and all(f in comp for f in geo.edges[e].faces)
            for i in comp for e in geo.face_edges[i]):
        return None
    ids = sorted(comp)
    for d in acc.directions():
        if abs(dot(d, a)) > 1e-9 or not all(dot(geo.faces[i].normal, d) > 1e-6 for i in ids):
            continue
        if all(any(v) for v in acc.visible_many((i, d) for i in ids)):
            return d
    return None


def _caliper(acc: Access, comp: set[int], planes: list) -> float:  # type: ignore[type-arg]
    """Narrowest caliper width of a closed outline: min over its flat walls of the depth across from it."""
    width = math.inf
    for p in planes:
        # the void lies on the side the wall's outward normal points to
        base = dot(p.origin, p.normal)
        across = max(acc.extent(i, p.normal)[1] for i in comp) - base
        if 1e-6 < across < width:
            width = across
    return width
