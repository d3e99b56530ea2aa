"""Where a cutter can come from: visibility of faces along approach directions.

The access model's facts, from exact ray casts over the B-rep (``Geometry.ray_hits_many``):
for a face and a direction d, which of its sample points see open air along d (a ray
started just off the face, into the void, leaves the solid without meeting it). A flat-end
cutter coming in along d (its shank above it, along d) can touch such a point with its end
(a floor, n = d) or its flank (a wall, n ⊥ d). What counts as *reachable* — which of these
facts a feature or a finding needs — is decided in ``dfm.features.access``; this module only
measures, and caches what it measured so recognition and the undercut search share rays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from dfm.kernel.geom import Geometry
from dfm.model import Vec3

#: The six axis directions of the part's frame, +Z first (the usual first setup).
AXES: tuple[Vec3, ...] = ((0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0),
                          (0.0, 1.0, 0.0), (0.0, -1.0, 0.0))
#: A ray starts this far off the face, into the void (mm): far above the intersector's
#: tolerance (1e-6), far below the narrowest gap a micro tool enters (~0.05 mm).
OFFSET_MM = 1e-4
#: Directions closer than this (1 - cos) are the same direction.
SAME_DIR = 1e-9


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _arc_extremes(e, d: Vec3) -> list[float]:  # type: ignore[no-untyped-def]
    """The values along ``d`` of a circular edge's extreme points that lie on the arc (none for other edges).

    The extremes of a circle along ``d`` are its centre plus or minus the radius along ``d``'s part in the
    circle's plane; each counts when it lies on the arc from ``start`` through ``midpoint`` to ``end``.
    """
    if e.kind != "circle" or e.center is None or e.radius is None or e.axis is None:
        return []
    c, r, n = e.center, e.radius, e.axis
    dn = _dot(d, n)
    w = (d[0] - dn * n[0], d[1] - dn * n[1], d[2] - dn * n[2])
    lw = math.sqrt(_dot(w, w))
    if lw < 1e-12:  # the circle lies across d: every point is as far along it
        return []
    u1 = (e.start[0] - c[0], e.start[1] - c[1], e.start[2] - c[2])
    l1 = math.sqrt(_dot(u1, u1))
    if l1 < 1e-12:
        return []
    u1 = (u1[0] / l1, u1[1] / l1, u1[2] / l1)
    u2 = (n[1] * u1[2] - n[2] * u1[1], n[2] * u1[0] - n[0] * u1[2], n[0] * u1[1] - n[1] * u1[0])

    def angle(p: Vec3) -> float:
        q = (p[0] - c[0], p[1] - c[1], p[2] - c[2])
        return math.atan2(_dot(q, u2), _dot(q, u1)) % (2 * math.pi)

    closed = math.dist(e.start, e.end) < 1e-9
    a_mid, a_end = angle(e.midpoint), angle(e.end)
    forward = closed or a_mid <= a_end  # the arc runs from 0 towards +angle through its midpoint
    out = []
    for sign in (1.0, -1.0):
        q = (c[0] + sign * r * w[0] / lw, c[1] + sign * r * w[1] / lw, c[2] + sign * r * w[2] / lw)
        a = angle(q)
        if closed or (a <= a_end if forward else (a == 0.0 or a >= a_end)):
            out.append(_dot(q, d))
    return out


#: ``_key`` of the directions seen so far (a handful per part: the axes, tilted floor normals).
_KEYS: dict[Vec3, Vec3] = {}


def _key(d: Vec3) -> Vec3:
    got = _KEYS.get(d)
    if got is None:
        if len(_KEYS) > 4096:
            _KEYS.clear()
        got = _KEYS[d] = (round(d[0], 9), round(d[1], 9), round(d[2], 9))
    return got


class Access:
    """Visibility facts of one solid's faces, computed on demand and cached.

    Attributes:
        geo: The solid's :class:`Geometry`.
    """

    def __init__(self, geo: Geometry) -> None:
        self.geo = geo
        self._points: dict[int, list[tuple[Vec3, Vec3]]] = {}
        self._vis: dict[tuple[int, Vec3], tuple[bool, ...]] = {}

    # --- the body -------------------------------------------------------------------
    def body_box(self) -> tuple[Vec3, Vec3]:
        """The solid's axis-aligned box (from the faces' optimal boxes)."""
        cached = self.__dict__.get("_box")
        if cached is None:
            faces = self.geo.faces.values()
            lo = tuple(min(f.bbox[0][k] for f in faces) for k in range(3))
            hi = tuple(max(f.bbox[1][k] for f in faces) for k in range(3))
            cached = self.__dict__["_box"] = (lo, hi)
        return cached  # type: ignore[no-any-return,return-value]

    def extent(self, fid: int, d: Vec3) -> tuple[float, float]:
        """(min, max) of face ``fid`` along the unit direction ``d``.

        Exact from the face's optimal box along an axis; from its boundary points (1 um
        chords) along any other direction (the extremes of a plane or of a cylinder
        parallel to ``d`` lie on its boundary).
        """
        f = self.geo.faces[fid]
        for k in range(3):
            if abs(abs(d[k]) - 1.0) < 1e-12:
                lo, hi = f.bbox[0][k], f.bbox[1][k]
                return (lo, hi) if d[k] > 0 else (-hi, -lo)
        cache = self.__dict__.setdefault("_ext", {})
        key = (fid, _key(d))
        got = cache.get(key)
        if got is None:
            pts = [p for loop in self.geo.face_loops(fid, deflection=0.001) for p in loop]
            if not pts:
                lo3, hi3 = f.bbox
                pts = [(x, y, z) for x in (lo3[0], hi3[0]) for y in (lo3[1], hi3[1]) for z in (lo3[2], hi3[2])]
            vals = [_dot(p, d) for p in pts]
            for eid in self.geo.face_edges[fid]:  # a circular edge's extremes, exactly (the chords fall short)
                vals.extend(_arc_extremes(self.geo.edges[eid], d))
            got = cache[key] = (min(vals), max(vals))
        return got  # type: ignore[no-any-return]

    def body_extent(self, d: Vec3) -> float:
        """The solid's largest coordinate along ``d`` (its top seen from ``d``)."""
        cache = self.__dict__.setdefault("_top", {})
        key = _key(d)
        got = cache.get(key)
        if got is None:
            axis = [k for k in range(3) if abs(d[k]) == 1.0 and d[k - 1] == 0.0 and d[k - 2] == 0.0]
            if axis:
                lo, hi = self.body_box()
                k = axis[0]
                got = cache[key] = hi[k] if d[k] > 0 else -lo[k]
            else:
                got = cache[key] = max(self.extent(fid, d)[1] for fid in self.geo.faces)
        return got  # type: ignore[no-any-return]

    # --- samples and rays -------------------------------------------------------------
    def points(self, fid: int) -> list[tuple[Vec3, Vec3]]:
        """Sample points strictly inside face ``fid`` with their outward normals (at most 5).

        The middle of the face's UV box first (when inside its trim), then a 2×2 grid; a face
        too narrow for those gets up to five points of a finer grid.
        """
        got = self._points.get(fid)
        if got is None:
            u0, u1, v0, v1 = self.geo.uv_bounds(fid)
            mid = self.middle(fid)
            got = [mid] if mid is not None else []
            grid = [(u0 + (u1 - u0) * fu, v0 + (v1 - v0) * fv)
                    for fu, fv in ((0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75))]
            got.extend(pn for pn in self.geo.point_normals_uv(fid, grid) if pn is not None)
            if not got:
                got = self.geo.sample_face(fid, 7)[:5]
            self._points[fid] = got
        return got

    def middle(self, fid: int) -> tuple[Vec3, Vec3] | None:
        """The point (and normal) at the middle of face ``fid``'s UV box, or None outside its trim."""
        cache: dict[int, tuple[Vec3, Vec3] | None] = self.__dict__.setdefault("_middle", {})
        if fid not in cache:
            u0, u1, v0, v1 = self.geo.uv_bounds(fid)
            cache[fid] = self.geo.point_normal_uv(fid, (u0 + u1) / 2, (v0 + v1) / 2)
        return cache[fid]

    def visible_many(self, pairs: Iterable[tuple[int, Vec3]]) -> list[tuple[bool, ...]]:
        """For each (face, direction): per sample point, True when a ray along it leaves the solid.

        A point whose normal faces away from the direction (n·d < -1e-6) is not visible.
        The rays of all pairs not cached yet are cast in one batch.
        """
        pairs = [(fid, _key(d)) for fid, d in pairs]
        todo = [p for p in dict.fromkeys(pairs) if p not in self._vis]
        origins: list[Vec3] = []
        dirs: list[Vec3] = []
        slots: list[tuple[tuple[int, Vec3], int]] = []
        pending: dict[tuple[int, Vec3], list[bool]] = {}
        for fid, d in todo:
            pts = self.points(fid)
            flags = [False] * len(pts)
            pending[(fid, d)] = flags
            for k, (p, n) in enumerate(pts):
                if _dot(n, d) >= -1e-6:
                    origins.append((p[0] + n[0] * OFFSET_MM, p[1] + n[1] * OFFSET_MM, p[2] + n[2] * OFFSET_MM))
                    dirs.append(d)
                    slots.append(((fid, d), k))
        if origins:
            for (key, k), free in zip(slots, self._escapes(origins, dirs), strict=True):
                pending[key][k] = free
        for key, flags in pending.items():
            self._vis[key] = tuple(flags)
        return [self._vis[p] for p in pairs]

    def centre_visible_many(self, pairs: Iterable[tuple[int, Vec3]]) -> list[bool]:
        """For each (face, direction): True when the face's first sample point (its middle) is seen.

        One ray per pair: a cheap first test before :meth:`visible_many` (a ray cast along a
        row of a thousand faces costs its whole broad phase even when it stops at the first).
        """
        pairs = [(fid, _key(d)) for fid, d in pairs]
        cache: dict[tuple[int, Vec3], bool] = self.__dict__.setdefault("_centre", {})
        todo = [p for p in dict.fromkeys(pairs) if p not in cache and p not in self._vis]
        origins, dirs, keys = [], [], []
        for fid, d in todo:
            mid = self.middle(fid)
            pts = [mid] if mid is not None else self.points(fid)
            if not pts:
                cache[(fid, d)] = False
                continue
            k = 0  # the middle of the face (or its first sample point)
            p, n = pts[k]
            if _dot(n, d) < -1e-6:
                cache[(fid, d)] = False
                continue
            origins.append((p[0] + n[0] * OFFSET_MM, p[1] + n[1] * OFFSET_MM, p[2] + n[2] * OFFSET_MM))
            dirs.append(d)
            keys.append((fid, d, k))
        if origins:
            for (fid, d, _k), free in zip(keys, self._escapes(origins, dirs), strict=True):
                cache[(fid, d)] = free
        out = []
        for pair in pairs:
            full = self._vis.get(pair)
            out.append(any(full) if full is not None else cache[pair])
        return out

    def _escapes(self, origins: list[Vec3], dirs: list[Vec3]) -> list[bool]:
        """For each ray: True when it leaves the solid without meeting a face.

        Rays are cast short first (most blocked rays meet a face near their start, and the
        broad phase of a short ray lists few boxes); only the rays that leaves free are cast in
        full. The broad phase of the batch (``Geometry.ray_candidates``) settles beforehand
        what it can, with the answer the casts would give: a ray with no candidate face meets
        nothing; a ray along an axis with a whole rectangle face across it ahead
        (:meth:`_blocked`) meets it. Its first pass is at the full length for the rays whose
        long broad phase costs no more than a short one (``Geometry.long_rays_cheap``), at the
        short length for the others (a row of walls across the ray's axis: the short pass
        settles most of them, and only the rest get the long one).
        """
        import numpy as np

        n = len(origins)
        if n == 0:
            return []
        o = np.asarray(origins, dtype=float).reshape(-1, 3)
        d = np.asarray(dirs, dtype=float).reshape(-1, 3)
        moves = (d * d).sum(axis=1) > 1e-300  # a zero direction goes to the casts (which raise)
        lo, hi = self.body_box()
        short = 1.0 + 0.01 * math.dist(lo, hi)
        geo = self.geo
        long_first = geo.long_rays_cheap(d) & moves
        met = np.zeros(n, dtype=bool)  # a ray not met once every step below has looked at it leaves

        def settle(idx, lengths):  # type: ignore[no-untyped-def]
            """The broad phase of rays ``idx``: the blocked ones are met; returns those it lists (or cannot tell)."""
            ids = idx.tolist()
            ray, face = geo.ray_candidates([origins[i] for i in ids], [dirs[i] for i in ids], lengths)
            listed = np.zeros(len(ids), dtype=bool)
            listed[ray] = True
            blocked = self._blocked(o[idx], d[idx], ray, face)
            met[idx[blocked]] = True
            return (listed | ~moves[idx]) & ~blocked

        def cast(idx, length):  # type: ignore[no-untyped-def]
            ids = idx.tolist()
            if ids:
                hits = geo.ray_hits_many([origins[i] for i in ids], [dirs[i] for i in ids], [length] * len(ids),
                                         first_only=True)
                met[[i for i, h in zip(ids, hits, strict=True) if h]] = True

        every = np.arange(n)
        listed = settle(every, np.where(long_first, 1e9, short).tolist())
        cast(every[listed], short)
        full = every[long_first & listed & ~met]  # something on the full length, nothing met on the short one
        later = every[~long_first & ~met]  # nothing met on the short length: the full one decides
        listed_far = settle(later, [1e9] * len(later))
        cast(np.concatenate([full, later[listed_far]]), 1e9)
        return (~met).tolist()  # type: ignore[no-any-return]

    #: A rectangle blocks a ray whose line passes this far (mm) inside its sides.
    INSIDE = 1e-6

    def _blocked(self, o, d, ray, face):  # type: ignore[no-untyped-def]
        """Per ray (numpy): True when it runs along ±e_k into a planar face across k that is a whole rectangle.

        The rectangle (its area is its box's) lies more than 1e-6 mm ahead (the casts ignore
        nearer hits) and holds the ray's line :attr:`INSIDE` its sides: the ray meets it, and
        does not leave. Only the candidate faces (``ray``, ``face``) of each ray are looked at.
        """
        import numpy as np

        out = np.zeros(len(o), dtype=bool)
        t = self.INSIDE
        for k in range(3):
            i, j = (a for a in range(3) if a != k)
            along = (np.abs(d[:, k]) == 1.0) & (d[:, i] == 0.0) & (d[:, j] == 0.0)
            if not along.any():
                continue
            is_rect, pos, box = self._rects(k)
            sel = np.flatnonzero(along[ray] & is_rect[face])
            if len(sel) == 0:
                continue
            r, f = ray[sel], face[sel]
            oi, oj, ok = o[r, i], o[r, j], o[r, k]
            bx = box[f]
            inside = (bx[:, 0] + t < oi) & (oi < bx[:, 1] - t) & (bx[:, 2] + t < oj) & (oj < bx[:, 3] - t)
            ahead = np.where(d[r, k] > 0, pos[f] > ok + 1e-6, pos[f] < ok - 1e-6)
            out[r[inside & ahead]] = True
        return out

    def _rects(self, k: int):  # type: ignore[no-untyped-def]
        """The planar faces across axis k that are whole rectangles (area = box area), by 0-based face index.

        Returns (is a rectangle, position along k, (n, 4) box columns lo_i, hi_i, lo_j, hi_j), exact
        (the faces' optimal boxes, not padded).
        """
        import numpy as np

        cache = self.__dict__.setdefault("_rect_cache", {})
        got = cache.get(k)
        if got is None:
            i, j = (a for a in range(3) if a != k)
            n = len(self.geo.faces)
            rect = np.zeros(n, dtype=bool)
            pos = np.zeros(n)
            ex = np.zeros((n, 4))
            for fid, face in self.geo.faces.items():
                if face.kind == "plane" and face.normal is not None and abs(abs(face.normal[k]) - 1.0) < 1e-12:
                    blo, bhi = face.bbox
                    box = (bhi[i] - blo[i]) * (bhi[j] - blo[j])
                    if box > 0 and abs(face.area - box) <= 1e-10 * box:
                        rect[fid - 1] = True
                        pos[fid - 1] = (blo[k] + bhi[k]) / 2
                        ex[fid - 1] = (blo[i], bhi[i], blo[j], bhi[j])
            got = cache[k] = (rect, pos, ex)
        return got

    def visible(self, fid: int, d: Vec3) -> tuple[bool, ...]:
        """:meth:`visible_many` for one pair."""
        return self.visible_many([(fid, d)])[0]

    def first_hits(self, origins: Sequence[Vec3], directions: Sequence[Vec3],
                   max_dist: float = 1e9) -> list[tuple[float, int] | None]:
        """(distance, face id) of the first face each ray meets, or None (one batch).

        A ray without a direction (a zero vector) meets nothing.
        """
        ok = [i for i, d in enumerate(directions) if _dot(d, d) > 1e-18]
        hits = self.geo.ray_hits_many([origins[i] for i in ok], [directions[i] for i in ok],
                                      [max_dist] * len(ok), first_only=True)
        out: list[tuple[float, int] | None] = [None] * len(origins)
        for i, h in zip(ok, hits, strict=True):
            out[i] = (h[0][0], h[0][1]) if h else None
        return out

    # --- candidate directions -------------------------------------------------------
    def tilted_directions(self, limit: int = 8) -> list[Vec3]:
        """Normals of recessed planar faces that are no axis direction (3+2 setups).

        A planar face whose outward normal a is not an axis, that lies below the solid's top
        along a and sees open air along a, is the floor of something cut into an inclined
        face; its normal is a candidate approach. The largest faces' normals come first.
        """
        cached = self.__dict__.get("_tilted")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        cands: dict[Vec3, float] = {}
        for f in self.geo.faces.values():
            if f.kind != "plane" or f.normal is None:
                continue
            n = f.normal
            if max(abs(c) for c in n) > 1 - 1e-6:
                continue
            k = _key(n)
            same = next((c for c in cands if _dot(c, k) > 1 - SAME_DIR), None)
            if same is not None:
                cands[same] += f.area
                continue
            cands[k] = f.area
        out: list[Vec3] = []
        for d in sorted(cands, key=lambda c: -cands[c]):
            norm = math.sqrt(_dot(d, d))
            d = (d[0] / norm, d[1] / norm, d[2] / norm)
            top = self.body_extent(d)
            floors = [f.id for f in self.geo.faces.values() if f.kind == "plane" and f.normal is not None
                      and _dot(f.normal, d) > 1 - SAME_DIR and self.extent(f.id, d)[1] < top - 1e-6]
            if floors and any(any(v) for v in self.visible_many((fid, d) for fid in floors)):
                out.append(d)
            if len(out) >= limit:
                break
        self.__dict__["_tilted"] = out
        return out

    def directions(self) -> list[Vec3]:
        """Every candidate approach: the six axes, then the tilted floor normals."""
        return list(AXES) + self.tilted_directions()


def access(geo: Geometry) -> Access:
    """The (cached) access model of a solid's geometry."""
    a = geo.__dict__.get("_dfm_access")
    if a is None:
        a = geo.__dict__["_dfm_access"] = Access(geo)
    return a  # type: ignore[no-any-return]
