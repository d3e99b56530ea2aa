"""Wall thickness: the local thickness of the material between opposite faces.

From sample points inside every face, a ray is cast into the material along the inward
normal; the first face it leaves the material through is the opposite side of the wall.
A hit only counts when that face's normal is within 35° of the ray (the ray leaves
through a face *opposite* the start), so convex edges, chamfers and fillets — where
adjacent faces meet at distance zero — never read as thin walls, and neither does the
junction of a rib with its base. Each wall is then measured exactly: parallel planes and
coaxial cylinders by their rays, parallel cylinders and a plane beside a cylinder by formula,
and every other wall up to ``REFINE_MAX_MM`` by the kernel's exact face-to-face distance
(:func:`_nearest`). Where two faces are not parallel the thinnest spot is seldom under a
sample, and often not inside either face at all: it lies on a boundary edge (the top edge of
a drafted web, the low edge of a sloped floor) or at a point (a drill point's apex over a
floor), so the samples read thicker than the wall. The exact distance is kept where it is a
wall: the faces do not touch (faces that share an edge or a corner are at distance zero),
the segment leaves the first face into the material and reaches the second from it (within
``OPPOSITE_DEG`` of their normals, as a ray's exit face must be; a point where a face has no
normal, a cone's apex, is not tested), and crosses no face on the way. Otherwise the
thinnest ray reading is refined in the face's parameters (:func:`_refine`) as before.

Two faces that meet in a convex edge (two bores that run into each other) bound a wedge of
material, no wall: their distance falls to zero along that edge, where the normals stand
apart by the wedge's angle, and a ray reading (or its refinement) near the edge measures
only how far from the edge it was taken (the refinement of a thin reading walks to the edge,
where it reads zero). Between such faces a thin reading (one that is refined) is kept only
where the normals oppose across it (within ``MEET_OPPOSED_DEG``), as across a D-shaped pin
from its flat to its round; a thick one stays where its sample ray crossed the part.

Webs between two bores, parallel or crossing, are also measured by formula over every pair
of bores near each other (on the common perpendicular of their axes), so a web no sample ray
happens to cross square is not missed: a Ø2 bore is sampled every 45°, and a ray 22° off the
line of centres meets the other bore too obliquely to count.

Rays use the exact B-rep surfaces (no mesh), so the thickness of planar and cylindrical
walls is exact to floating-point precision.
"""

from __future__ import annotations

import math

from dfm.features.common import TOL, Analysis, add, clean, dot, mul, norm, parallel, sub, unit
from dfm.kernel.shape import Beside
from dfm.model import Feature, Vec3

#: Walls up to this thickness are reported as features (the micro range of interest).
REPORT_MAX_MM = 5.0
#: Rays probe this far into the material first (walls thicker than this are not micro walls).
PROBE_MM = 6.0
#: Free-form walls up to this thickness are refined to their local minimum.
REFINE_MAX_MM = 2.0
#: A ray's exit face must be within this angle of the ray to count as the opposite wall.
OPPOSITE_DEG = 35.0
_COS_OPP = math.cos(math.radians(OPPOSITE_DEG))
#: Between faces that meet, a reading's two normals must oppose within this angle to be a wall.
MEET_OPPOSED_DEG = 10.0
_COS_MEET = math.cos(math.radians(MEET_OPPOSED_DEG))


def _grid(area: float) -> int:
    # ~0.5 mm spacing, 3..8 per side: enough for the exact refinement to find the pair.
    return max(2, min(8, int(math.sqrt(max(area, 0.0)) / 0.5) + 1))


#: Parts with at least this many faces cast their wall rays beside the other analysers.
BESIDE_MIN_FACES = 300


def start_cast(an: Analysis) -> Beside:
    """Start the rays of :func:`find_walls` (they need only the face records).

    On a part of :data:`BESIDE_MIN_FACES` faces or more they run in a forked child while
    the other analysers run here (:class:`dfm.kernel.shape.Beside`: the same pairs as cast
    here); on a smaller part they wait for :func:`find_walls`.
    """
    return Beside(_cast_pairs, an.geo, PROBE_MM, fork=len(an.geo.faces) >= BESIDE_MIN_FACES)


def find_walls(an: Analysis, cast: Beside | None = None) -> None:
    """Add ``wall`` features and ``min_wall_thickness_mm`` to ``an`` (``cast``: from :func:`start_cast`)."""
    pairs, webs = (cast or start_cast(an)).result()
    if not pairs:  # nothing within the probe: measure the (thick) part all the same
        _cast(an.geo, pairs, 1e9)
    _report(an, pairs, webs)


def _cast_pairs(geo, max_dist: float) -> tuple[dict, dict]:  # type: ignore[no-untyped-def,type-arg]
    """The rays' pairs (:func:`_cast`) and the bores' webs (:func:`_bore_webs`): all the geometry walls need."""
    pairs: dict = {}  # type: ignore[type-arg]
    _cast(geo, pairs, max_dist)
    return pairs, _bore_webs(geo)


def _is_fillet(f) -> bool:  # type: ignore[no-untyped-def]
    """Blends: rays from them measure across a corner, not through a wall."""
    if f.kind == "torus":
        return True
    return f.kind == "cylinder" and (f.span_deg or 360.0) < 179.0


def _thickness(geo, fid: int, p: Vec3, n: Vec3, max_dist: float):  # type: ignore[no-untyped-def]
    d = (-n[0], -n[1], -n[2])
    return _opposite(fid, d, geo.ray_first(add(p, mul(d, 1e-7)), d, max_dist))


def _opposite(fid: int, d: Vec3, hit):  # type: ignore[no-untyped-def]
    """(thickness, exit face, exit point) of a ray cast along ``d`` from face ``fid``, or None."""
    if hit is None:
        return None
    w, gid, q, ng = hit
    if gid == fid or gid == 0 or dot(ng, d) < _COS_OPP:
        return None
    return w + 1e-7, gid, q


def _cast(geo, pairs: dict, max_dist: float) -> None:  # type: ignore[no-untyped-def,type-arg]
    samples = []  # (face id, u, v, point, grid, ray direction), in face then sample order
    for f in geo.faces.values():
        if f.area <= 1e-10 or _is_fillet(f):
            continue
        n_grid = _grid(f.area)
        for u, v, p, n in geo.sample_face_uv(f.id, n_grid):
            samples.append((f.id, u, v, p, n_grid, (-n[0], -n[1], -n[2])))
    # every ray of the part in one batch; the pairs are then updated in the same order as ray by ray
    hits = geo.ray_first_many([add(s[3], mul(s[5], 1e-7)) for s in samples], [s[5] for s in samples],
                              [max_dist] * len(samples))
    for (fid, u, v, p, n_grid, d), hit in zip(samples, hits, strict=True):
        res = _opposite(fid, d, hit)
        if res is None:
            continue
        w, gid, q = res
        key = (min(fid, gid), max(fid, gid))
        if key not in pairs or w < pairs[key][0]:
            pairs[key] = (w, p, q, fid, u, v, n_grid)


def _report(an: Analysis, pairs: dict, webs: dict) -> None:  # type: ignore[type-arg]
    geo = an.geo
    walls = []
    measured = _measure(geo, pairs)  # here, not in the rays' child: the faces' classifiers are built by now
    for (a, b), (w, p, q, src, u, v, n_grid) in pairs.items():
        thin = w <= REFINE_MAX_MM
        exact = measured.get((a, b))
        if exact is None and thin and (a, b) in measured:  # neither a formula nor a wall at the faces' distance
            exact = _refine(geo, src, (a if src == b else b), u, v, n_grid, w, p, q)
            if exact is not None and src == b:
                exact = (exact[0], exact[2], exact[1])
        if exact is not None:
            w, p, q = exact
        elif src == b:
            p, q = q, p
        web = webs.get((a, b))
        if web is not None and web[0] < w - 1e-9:
            w, p, q = web
        elif thin and _meet(geo, a, b) and not _opposed(geo, a, b, p, q):
            continue  # the faces meet in a wedge: its thickness by the edge they share is no wall
        walls.append((w, a, b, p, q))
    walls += [(w, a, b, p, q) for (a, b), (w, p, q) in webs.items() if (a, b) not in pairs]
    walls.sort()
    regions: dict[str, Feature] = {}  # the first pocket, slot or step of each id (one scan, not one per wall)
    for f in an.features:
        if f.kind in ("pocket", "slot", "step"):
            regions.setdefault(f.id, f)
    for w, a, b, p, q in walls:
        mid = mul(add(p, q), 0.5)
        an.measure("min_wall_thickness_mm", w, (a, b), mid)
        if w > REPORT_MAX_MM + 1e-9:
            continue
        thick_dir = unit(sub(q, p)) if norm(sub(q, p)) > 0 else None
        orientation, approach, height = _height(an, a, b, thick_dir, regions)
        dims = {"thickness_mm": w}
        if height is not None:
            dims["height_mm"] = height
            dims["height_thickness_ratio"] = height / w if w > 0 else math.inf
        props = {"faces_pair": [a, b], "orientation": orientation}
        if approach is not None:
            props["approach"] = list(clean(approach))
        an.features.append(Feature(an.new_id("wall"), "wall", (a, b), dims, props, clean(mid), None))


def _meet(geo, a: int, b: int) -> bool:  # type: ignore[no-untyped-def]
    """True when faces ``a`` and ``b`` share a convex edge: the material between them is a wedge.

    (Across a concave edge the material wraps round more than half a turn: a ray from one
    face that reaches the other crosses a lump, not the wedge.)
    """
    return any(geo.edges[e].convexity == "convex" for e in geo.neighbours(a).get(b, ()))


def _opposed(geo, a: int, b: int, p: Vec3, q: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """True when the normals of face ``a`` at ``p`` and face ``b`` at ``q`` oppose (within ``MEET_OPPOSED_DEG``)."""
    na, nb = geo.face_normal_at(a, p), geo.face_normal_at(b, q)
    return na is not None and nb is not None and dot(na, nb) <= -_COS_MEET


def _bore_webs(geo) -> dict[tuple[int, int], tuple[float, Vec3, Vec3]]:  # type: ignore[no-untyped-def]
    """Thinnest material between every two bores (concave cylinders) near each other, by formula.

    For axes that are parallel the web runs along them; for crossing (skew) axes it lies on
    their common perpendicular. Either way its thickness is the axes' distance less both
    radii, kept where that is positive (bores that run into each other have no web), where
    both closest points lie on the trimmed faces and a ray from one to the other crosses
    material only (one ray batch for all pairs).
    """
    bores = sorted((f for f in geo.faces.values() if f.kind == "cylinder" and f.concave and not _is_fillet(f)
                    and f.axis is not None and f.radius), key=lambda f: (f.bbox[0][0], f.id))
    cands = []
    for i, c1 in enumerate(bores):
        for c2 in bores[i + 1:]:
            if c2.bbox[0][0] > c1.bbox[1][0] + REPORT_MAX_MM:
                break  # sorted by the box's low x: every later bore lies farther along x
            if any(c2.bbox[0][k] > c1.bbox[1][k] + REPORT_MAX_MM or c1.bbox[0][k] > c2.bbox[1][k] + REPORT_MAX_MM
                   for k in (1, 2)):
                continue
            web = _web(geo, c1, c2)
            if web is not None:
                cands.append((c1.id, c2.id, *web))
    hits = geo.ray_first_many([add(q1, mul(unit(sub(q2, q1)), 1e-7)) for _, _, _, q1, q2 in cands],
                              [unit(sub(q2, q1)) for _, _, _, q1, q2 in cands],
                              [t + 1e-4 for _, _, t, _, _ in cands])
    out: dict[tuple[int, int], tuple[float, Vec3, Vec3]] = {}
    for (i1, i2, t, q1, q2), hit in zip(cands, hits, strict=True):
        if hit is None or hit[1] != i2 or abs(hit[0] + 1e-7 - t) > 1e-6:
            continue  # the ray meets another face first: no solid web between the two bores
        out[(i1, i2) if i1 < i2 else (i2, i1)] = (t, q1, q2) if i1 < i2 else (t, q2, q1)
    return out


def _web(geo, c1, c2) -> tuple[float, Vec3, Vec3] | None:  # type: ignore[no-untyped-def]
    """(thickness, point on c1, point on c2) of the web between two bores, or None.

    The points lie on both trimmed faces; whether material fills the web is the caller's ray.
    """
    a1, a2 = c1.axis, c2.axis
    w0 = sub(c1.origin, c2.origin)
    if parallel(a1, a2, 1e-12):
        off = sub(w0, mul(a2, dot(w0, a2)))  # from c2's axis to c1's, square to both
        thick = norm(off) - c1.radius - c2.radius
        if norm(off) < 1e-9 or thick <= 1e-9 or thick > REPORT_MAX_MM:
            return None  # coaxial (the radial rays measure it), bores that run into each other, or no micro web
        # the web runs along the axes: try heights over the faces' common axial extent
        lo = max(_extent(c1, a1)[0], _extent(c2, a1)[0])
        hi = min(_extent(c1, a1)[1], _extent(c2, a1)[1])
        if hi < lo:
            return None
        base = dot(c1.origin, a1)
        u = unit(mul(off, -1.0))  # from c1's axis towards c2's
        for k in (4, 2, 6, 1, 3, 5, 7):
            o1 = add(c1.origin, mul(a1, lo + (hi - lo) * k / 8 - base))
            q1 = add(o1, mul(u, c1.radius))
            q2 = add(q1, mul(u, thick))
            if geo.on_face(c1.id, q1) and geo.on_face(c2.id, q2):
                return thick, q1, q2
        return None
    # crossing axes: the closest points of the two axis lines
    b = dot(a1, a2)
    d, e = dot(a1, w0), dot(a2, w0)
    den = 1.0 - b * b
    s, t = (b * e - d) / den, (e - b * d) / den
    o1, o2 = add(c1.origin, mul(a1, s)), add(c2.origin, mul(a2, t))
    gap = sub(o2, o1)
    dist = norm(gap)
    thick = dist - c1.radius - c2.radius
    if dist < 1e-9 or thick <= 1e-9 or thick > REPORT_MAX_MM:
        return None  # axes that meet, bores that run into each other, or no micro web
    u = unit(gap)
    q1, q2 = add(o1, mul(u, c1.radius)), sub(o2, mul(u, c2.radius))
    return (thick, q1, q2) if geo.on_face(c1.id, q1) and geo.on_face(c2.id, q2) else None


def _closed_form(geo, a: int, b: int) -> bool:  # type: ignore[no-untyped-def]
    """Pairs whose ray samples are exact already (parallel planes, coaxial cylinders)."""
    fa, fb = geo.faces[a], geo.faces[b]
    if fa.kind == "plane" and fb.kind == "plane" and dot(fa.normal, fb.normal) < -1 + 1e-12:
        return True
    if fa.kind == "cylinder" and fb.kind == "cylinder" and parallel(fa.axis, fb.axis, 1e-12):
        off = sub(fb.origin, fa.origin)
        return norm(sub(off, mul(fa.axis, dot(off, fa.axis)))) < 1e-9
    return False


def _measure(geo, pairs: dict) -> dict[tuple[int, int], tuple[float, Vec3, Vec3] | None]:  # type: ignore[no-untyped-def,type-arg]
    """Exact thickness (t, point on a, point on b) of each pair (a, b) whose rays are not exact.

    Pairs of parallel planes and coaxial cylinders are left out (their rays are exact); the
    others map to their closed form (:func:`_analytic`), else, up to ``REFINE_MAX_MM``, to
    the faces' exact distance where it is a wall (:func:`_nearest`), else to None.
    """
    out: dict[tuple[int, int], tuple[float, Vec3, Vec3] | None] = {}
    near = []
    for (a, b), (w, p, q, src, *_) in pairs.items():
        if _closed_form(geo, a, b):
            continue
        out[(a, b)] = _analytic(geo, geo.faces[a], geo.faces[b], p if src == a else q, w)
        if out[(a, b)] is None and w <= REFINE_MAX_MM:
            near.append((a, b, w))
    out.update(_nearest(geo, near))
    return out


def _nearest(geo, cands: list[tuple[int, int, float]]) -> dict[tuple[int, int], tuple[float, Vec3, Vec3]]:  # type: ignore[no-untyped-def]
    """The exact distance of faces a and b (each ``(a, b, ray reading)``) where it is a wall's thickness.

    The closest points must not be where the faces touch (distance zero: a shared edge or
    corner), the segment from a to b must leave a against its normal and reach b along its
    normal within ``OPPOSITE_DEG`` (at a point without a normal, a cone's apex, that end is
    not tested; one end at least must be), and no face may cut it (one ray batch for all):
    so it runs through the material from one face to the other. A ray reading is a distance
    between the two faces too, so the exact one is never larger (1e-7 for rounding).
    """
    found = []
    for a, b, w in cands:
        res = geo.face_distance(a, b)
        if res is None:
            continue
        d, p, q = res
        if d <= TOL or d > w + 1e-7:
            continue
        seg = mul(sub(q, p), 1.0 / d)
        na, nb = geo.face_normal_at(a, p), geo.face_normal_at(b, q)
        ok_a = na is not None and norm(na) > 0.5
        ok_b = nb is not None and norm(nb) > 0.5
        if not (ok_a or ok_b) or (ok_a and dot(seg, na) > -_COS_OPP) or (ok_b and dot(seg, nb) < _COS_OPP):
            continue
        found.append((a, b, d, p, q, seg))
    if not found:
        return {}
    hits = geo.ray_hits_many([f[3] for f in found], [f[5] for f in found], [f[2] - TOL for f in found])
    return {(a, b): (d, p, q) for (a, b, d, p, q, _), crossed in zip(found, hits, strict=True) if not crossed}


def _refine(geo, src: int, dst: int, u: float, v: float, n_grid: int, w: float,  # type: ignore[no-untyped-def]
            p: Vec3, q: Vec3) -> tuple[float, Vec3, Vec3] | None:
    """Local minimum of the ray thickness around the best sample (compass search in UV).

    At the thinnest spot of a wall between smooth faces the shortest segment is normal to
    both, so minimising the along-normal ray length finds it; about 30 rays per wall.
    """
    umin, umax, vmin, vmax = geo.uv_bounds(src)
    du, dv = (umax - umin) / n_grid / 2, (vmax - vmin) / n_grid / 2
    best = (w, p, q)
    for _ in range(10):
        moved = False
        for su, sv in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            pn = geo.point_normal_uv(src, u + su * du, v + sv * dv)
            if pn is None:
                continue
            res = _thickness(geo, src, pn[0], pn[1], best[0] * 2 + 1e-6)
            if res is not None and res[1] == dst and res[0] < best[0] - 1e-12:
                best = (res[0], pn[0], res[2])
                u, v = u + su * du, v + sv * dv
                moved = True
                break
        if not moved:
            du, dv = du / 2, dv / 2
    return best if best[0] < w else None


def _analytic(geo, fa, fb, p: Vec3, w: float) -> tuple[float, Vec3, Vec3] | None:  # type: ignore[no-untyped-def]
    """Closed forms for walls between parallel cylinders, and a plane and a cylinder.

    The closest points are taken at the axial height of the sample and accepted only if
    they lie on both trimmed faces; the sample itself bounds the answer from above.
    """
    cyl = [f for f in (fa, fb) if f.kind == "cylinder"]
    pla = [f for f in (fa, fb) if f.kind == "plane"]
    if len(cyl) == 2 and parallel(cyl[0].axis, cyl[1].axis, 1e-12):
        c1, c2 = cyl
        ax = c1.axis
        h = dot(sub(p, c1.origin), ax)
        o1 = add(c1.origin, mul(ax, h))
        o2 = add(c2.origin, mul(ax, dot(sub(o1, c2.origin), ax)))
        gap = sub(o2, o1)
        dist = norm(gap)
        if dist < 1e-9:
            return None  # coaxial: the radial ray samples are exact
        u = unit(gap)
        if c1.concave and c2.concave:  # material between two bores
            t, q1, q2 = dist - c1.radius - c2.radius, add(o1, mul(u, c1.radius)), sub(o2, mul(u, c2.radius))
        elif c1.concave != c2.concave:  # a bore inside a boss, off-centre
            inner, outer = (c1, c2) if c1.concave else (c2, c1)
            oi, oo = (o1, o2) if c1.concave else (o2, o1)
            v = unit(sub(oi, oo))
            t = outer.radius - inner.radius - dist
            q1, q2 = add(oi, mul(v, inner.radius)), add(oo, mul(v, outer.radius))
            if c1 is outer:
                q1, q2 = q2, q1
        else:
            return None
    elif len(cyl) == 1 and len(pla) == 1 and abs(dot(cyl[0].axis, pla[0].normal)) < 1e-12:
        c, pl = cyl[0], pla[0]
        h = dot(sub(p, c.origin), c.axis)
        oc = add(c.origin, mul(c.axis, h))
        off = dot(sub(oc, pl.origin), pl.normal)  # signed height of the axis above the plane
        toward = mul(pl.normal, -1.0 if off > 0 else 1.0)  # from the axis towards the plane
        foot = sub(oc, mul(pl.normal, off))
        if c.concave:  # a bore beside a flat: material from the bore to the plane
            t = abs(off) - c.radius
            qc = add(oc, mul(toward, c.radius))
        else:  # a flat cut on a boss: material from the flat across to the far side
            t = abs(off) + c.radius
            qc = sub(oc, mul(toward, c.radius))
        q1, q2 = (qc, foot) if fa is c else (foot, qc)
    else:
        return None
    if t <= 1e-9 or t > w + 1e-7:
        return None
    if not (geo.on_face(fa.id, q1) and geo.on_face(fb.id, q2)):
        return None
    return t, q1, q2


def _height(an: Analysis, a: int, b: int, thick_dir: Vec3 | None,
            regions: dict[str, Feature]) -> tuple[str, Vec3 | None, float | None]:
    """Orientation (``wall`` or ``floor``), approach axis and height of the wall a|b.

    The approach is that of the pocket, slot or step either face belongs to; for walls
    outside any such feature it is the first setup's +Z. A wall whose thickness runs along
    the approach is a floor (a membrane under a pocket, a flange): it has no height. A
    standing wall's height is the overlap of its two faces along the approach. ``regions``
    holds the pocket, slot and step features by id.
    """
    geo = an.geo
    approach: Vec3 = (0.0, 0.0, 1.0)
    for fid in (a, b):
        owner = an.claimed.get(fid)
        feat = regions.get(owner) if owner is not None else None
        if feat is not None and feat.axis is not None:
            approach = feat.axis
            break
    if thick_dir is None:
        return "wall", approach, None
    if abs(dot(approach, thick_dir)) > math.cos(math.radians(45.0)):
        return "floor", approach, None
    ea, eb = _extent(geo.faces[a], approach), _extent(geo.faces[b], approach)
    return "wall", approach, max(min(ea[1], eb[1]) - max(ea[0], eb[0]), 0.0)


def _extent(f, a: Vec3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    lo, hi = f.bbox
    vals = [dot((x, y, z), a) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    return min(vals), max(vals)
