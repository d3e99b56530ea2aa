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

import bisect
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


def _axis(d: Vec3) -> tuple[int, int] | None:
    """(k, ±1) when ``d`` is exactly ±e_k, else None."""
    for k in range(3):
        if abs(d[k]) == 1.0 and d[k - 1] == 0.0 and d[k - 2] == 0.0:
            return k, (1 if d[k] > 0 else -1)
    return None


def _key(d: Vec3) -> Vec3:
    return (round(d[0], 9), round(d[1], 9), round(d[2], 9))


class Access:
    """Visibility facts of one solid's faces, computed on demand and cached.

    Attributes:
        geo: The solid's :class:`Geometry`.
    """

    def __init__(self, geo: Geometry) -> None:
        self.geo = geo
        self._points: dict[int, list[tuple[Vec3, Vec3]]] = {}
        self._vis: dict[tuple[int, Vec3], tuple[bool, ...]] = {}
        self._axis_index: dict[int, _AxisIndex] = {}
        self._axis_rays: dict[int, int] = {}

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
            for fu, fv in ((0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)):
                pn = self.geo.point_normal_uv(fid, u0 + (u1 - u0) * fu, v0 + (v1 - v0) * fv)
                if pn is not None:
                    got.append(pn)
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
        per_axis: dict[int, int] = {}
        for _fid, d in todo:
            ax = _axis(d)
            if ax is not None:
                per_axis[ax[0]] = per_axis.get(ax[0], 0) + 5
        indexes = {k: self._index(k, n) for k, n in per_axis.items()}
        for fid, d in todo:
            pts = self.points(fid)
            flags = [False] * len(pts)
            pending[(fid, d)] = flags
            ks = [k for k, (_p, n) in enumerate(pts) if _dot(n, d) >= -1e-6]
            orig = [(p[0] + n[0] * OFFSET_MM, p[1] + n[1] * OFFSET_MM, p[2] + n[2] * OFFSET_MM)
                    for p, n in (pts[k] for k in ks)]
            ax = _axis(d)
            index = indexes.get(ax[0]) if ax is not None else None
            if index is not None and ax is not None and orig:
                verdict = index.decide_box(orig, ax[1])  # the face's rays together, from the boxes
                if verdict is not None:
                    for k in ks:
                        flags[k] = verdict
                    continue
            for k, o in zip(ks, orig, strict=True):
                origins.append(o)
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

    def _index(self, k: int, n_rays: int) -> _AxisIndex | None:
        """The box index along axis k, once rays along it are many enough to pay for it (else None)."""
        index = self._axis_index.get(k)
        if index is None:
            n = self._axis_rays[k] = self._axis_rays.get(k, 0) + n_rays
            if n < max(_AxisIndex.MIN_RAYS, len(self.geo.faces) // 8):
                return None  # too few rays along this axis to pay for its index
            index = self._axis_index[k] = _AxisIndex(self.geo, k)
        return index

    def _escapes(self, origins: list[Vec3], dirs: list[Vec3]) -> list[bool]:
        """For each ray: True when it leaves the solid without meeting a face.

        A ray along an axis is first settled by :class:`_AxisIndex` where its boxes decide it
        (no face box on its line: it leaves; a rectangular face across it ahead: it is blocked),
        with the answer a cast would give. The rest are cast short first (most blocked rays
        meet a face near their start, and the broad phase of a short ray lists few boxes);
        only the rays that leaves free are cast in full.
        """
        free: list[bool | None] = [None] * len(origins)
        by_axis: dict[tuple[int, int], list[int]] = {}
        for i, d in enumerate(dirs):
            ax = _axis(d)
            if ax is not None:
                by_axis.setdefault(ax, []).append(i)
        for (k, sign), idx in by_axis.items():
            index = self._index(k, len(idx))
            if index is not None:
                for i in idx:
                    free[i] = index.decide_box([origins[i]], sign)
        todo = [i for i, f in enumerate(free) if f is None]
        if not todo:
            return [bool(f) for f in free]
        lo, hi = self.body_box()
        short = 1.0 + 0.01 * math.dist(lo, hi)
        near = self.geo.ray_hits_many([origins[i] for i in todo], [dirs[i] for i in todo], [short] * len(todo),
                                      first_only=True)
        far_idx = []
        for i, h in zip(todo, near, strict=True):
            free[i] = not h
            if not h:
                far_idx.append(i)
        if far_idx:
            far = self.geo.ray_hits_many([origins[i] for i in far_idx], [dirs[i] for i in far_idx],
                                         [1e9] * len(far_idx), first_only=True)
            for i, h in zip(far_idx, far, strict=True):
                free[i] = not h
        return [bool(f) for f in free]

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


class _AxisIndex:
    """The face boxes seen along one axis k, on a grid over the two other axes.

    It settles a ray along ±k from the boxes alone, with the answer a cast would give:

    * no padded face box (those the ray broad phase tests) holds the ray's line ahead of its
      start: the broad phase lists no face, so the ray leaves the solid;
    * a planar face across k that is a whole rectangle (its area is its box's) lies ahead,
      more than 1e-6 mm on (the casts ignore nearer hits), and holds the ray's line
      strictly inside (1 um clear of its sides): the ray meets it, so it does not leave.

    Anything else (a hole in the face ahead, a curved face, a line along a box side) is left
    to a cast. Each grid cell keeps its boxes sorted by their far end ahead of a ray going
    +k (hi, descending) and -k (lo, ascending), and its rectangles by position along k; a
    box wider than ``WIDE`` cells is kept once, in a list every query reads.
    """

    #: Rays along an axis before its index is built: at least this many and an eighth of the
    #: face count (building it costs about what a few rays per face cost).
    MIN_RAYS = 64
    WIDE = 64
    #: Boxes a query reads before it gives up and leaves the ray to a cast.
    CAP = 48
    MARGIN = 1e-9
    INSIDE = 1e-6

    def __init__(self, geo: Geometry, k: int) -> None:
        import numpy as np

        self.k = k
        i, j = (a for a in range(3) if a != k)
        self.i, self.j = i, j
        lo, hi = geo.face_boxes()
        n = len(lo)
        # flat columns (floats are no work for the garbage collector; lists of lists are)
        self.lo_i, self.hi_i = lo[:, i].tolist(), hi[:, i].tolist()
        self.lo_j, self.hi_j = lo[:, j].tolist(), hi[:, j].tolist()
        x0, y0 = float(lo[:, i].min()), float(lo[:, j].min())
        ext_i = max(float(hi[:, i].max()) - x0, 1e-9)
        ext_j = max(float(hi[:, j].max()) - y0, 1e-9)
        size_i = max(float(np.median(hi[:, i] - lo[:, i])), ext_i * 1e-6)
        size_j = max(float(np.median(hi[:, j] - lo[:, j])), ext_j * 1e-6)
        ni = max(1, min(4096, int(round(ext_i / size_i))))
        nj = max(1, min(4096, int(round(ext_j / size_j))))
        budget = max(1, 2 * n)
        if ni * nj > budget:
            scale = math.sqrt(budget / (ni * nj))
            ni, nj = max(1, int(ni * scale)), max(1, int(nj * scale))
        self.x0, self.y0, self.ni, self.nj = x0, y0, ni, nj
        self.ci, self.cj = ext_i / ni, ext_j / nj
        m = self.MARGIN
        a0 = np.clip(np.floor((lo[:, i] - m - x0) / self.ci), 0, ni - 1).astype(np.int64)
        a1 = np.clip(np.floor((hi[:, i] + m - x0) / self.ci), 0, ni - 1).astype(np.int64)
        b0 = np.clip(np.floor((lo[:, j] - m - y0) / self.cj), 0, nj - 1).astype(np.int64)
        b1 = np.clip(np.floor((hi[:, j] + m - y0) / self.cj), 0, nj - 1).astype(np.int64)
        count = (a1 - a0 + 1) * (b1 - b0 + 1)
        wide = count > self.WIDE
        wide_cell = ni * nj  # one extra cell: the wide boxes
        single = (~wide) & (count == 1)
        rows = [np.flatnonzero(single)]
        cells = [a0[single] * nj + b0[single]]
        multi: list[int] = []
        multi_cells: list[int] = []
        for f in np.flatnonzero((~wide) & (count > 1)).tolist():
            for a in range(int(a0[f]), int(a1[f]) + 1):
                for b in range(int(b0[f]), int(b1[f]) + 1):
                    multi.append(f)
                    multi_cells.append(a * nj + b)
        rows.append(np.asarray(multi, dtype=np.int64))
        cells.append(np.asarray(multi_cells, dtype=np.int64))
        rows.append(np.flatnonzero(wide))
        cells.append(np.full(int(wide.sum()), wide_cell, dtype=np.int64))
        row = np.concatenate(rows)
        cell = np.concatenate(cells)
        self.n_cells = wide_cell + 1

        def csr(r, c, key):  # type: ignore[no-untyped-def]
            order = np.lexsort((key, c))
            starts = np.searchsorted(c[order], np.arange(self.n_cells + 1)).tolist()
            return r[order].tolist(), key[order].tolist(), starts

        self.up = csr(row, cell, -hi[row, k])  # ahead of a +k ray: far end hi, largest first
        self.down = csr(row, cell, lo[row, k])  # ahead of a -k ray: far end lo, smallest first
        # whole rectangles across k: exact boxes (not padded), area = box area
        rect = np.zeros(n, dtype=bool)
        pos = np.zeros(n)
        ex = np.zeros((n, 4))
        for fid, face in geo.faces.items():
            if face.kind == "plane" and face.normal is not None and abs(abs(face.normal[k]) - 1.0) < 1e-12:
                blo, bhi = face.bbox
                box = (bhi[i] - blo[i]) * (bhi[j] - blo[j])
                if box > 0 and abs(face.area - box) <= 1e-10 * box:
                    rect[fid - 1] = True
                    pos[fid - 1] = (blo[k] + bhi[k]) / 2
                    ex[fid - 1] = (blo[i], bhi[i], blo[j], bhi[j])
        self.rect_box = ex.ravel().tolist()
        keep = rect[row]
        self.rects = csr(row[keep], cell[keep], pos[row[keep]])

    def decide_box(self, origins: Sequence[Vec3], sign: int) -> bool | None:
        """For rays from all ``origins`` along sign·e_k: True all leave the solid, False all meet a face.

        None: cast them. The rays lie in the box of their origins, so a box clear of every face box clears them
        all, and a rectangle face that holds the box strictly, ahead of every origin, stops all.
        """
        k, i, j, m = self.k, self.i, self.j, self.MARGIN
        lo_i = min(o[i] for o in origins)
        hi_i = max(o[i] for o in origins)
        lo_j = min(o[j] for o in origins)
        hi_j = max(o[j] for o in origins)
        lo_k = min(o[k] for o in origins)
        hi_k = max(o[k] for o in origins)
        if (hi_i < self.x0 - m or lo_i > self.x0 + self.ni * self.ci + m
                or hi_j < self.y0 - m or lo_j > self.y0 + self.nj * self.cj + m):
            return True  # beside every box
        a0, b0 = self._cell(lo_i, lo_j)
        a1, b1 = self._cell(hi_i, hi_j)
        wide = self.n_cells - 1
        rect = (lo_i, hi_i, lo_j, hi_j)
        if self._blocker(a0 * self.nj + b0, rect, lo_k, hi_k, sign) or self._blocker(wide, rect, lo_k, hi_k, sign):
            return False
        if (a1 - a0 + 1) * (b1 - b0 + 1) > 16:
            return None
        cells = [a * self.nj + b for a in range(a0, a1 + 1) for b in range(b0, b1 + 1)] + [wide]
        for c in cells:
            if not self._clear(c, rect, hi_k if sign < 0 else lo_k, sign):
                return None
        return True

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        a = min(self.ni - 1, max(0, int(math.floor((x - self.x0) / self.ci))))
        b = min(self.nj - 1, max(0, int(math.floor((y - self.y0) / self.cj))))
        return a, b

    def _blocker(self, c: int, rect: tuple[float, float, float, float], lo_k: float, hi_k: float,
                 sign: int) -> bool:
        """True when a whole rectangle face of cell c holds ``rect`` strictly, ahead of [lo_k, hi_k]."""
        rows, pos, starts = self.rects
        s, e = starts[c], starts[c + 1]
        if s == e:
            return False
        t = self.INSIDE
        if sign > 0:
            first = bisect.bisect_right(pos, hi_k + 1e-6, s, e)
            seq = range(first, min(e, first + self.CAP))
        else:
            last = bisect.bisect_left(pos, lo_k - 1e-6, s, e)
            seq = range(last - 1, max(s, last - self.CAP) - 1, -1)
        box = self.rect_box
        x0, x1, y0, y1 = rect
        for q in seq:
            f = 4 * rows[q]
            if box[f] + t < x0 and x1 < box[f + 1] - t and box[f + 2] + t < y0 and y1 < box[f + 3] - t:
                return True
        return False

    def _clear(self, c: int, rect: tuple[float, float, float, float], start: float, sign: int) -> bool:
        """True when no box of cell c meets ``rect`` ahead of ``start`` (False: one may, or too many to read)."""
        rows, keys, starts = self.up if sign > 0 else self.down
        m = self.MARGIN
        x0, x1, y0, y1 = rect
        read = 0
        for q in range(starts[c], starts[c + 1]):
            key = keys[q]
            # +k: boxes whose hi >= start - m are ahead (key = -hi); -k: those whose lo <= start + m
            if (sign > 0 and -key < start - m) or (sign < 0 and key > start + m):
                return True
            f = rows[q]
            if (self.lo_i[f] - m <= x1 and x0 <= self.hi_i[f] + m
                    and self.lo_j[f] - m <= y1 and y0 <= self.hi_j[f] + m):
                return False
            read += 1
            if read >= self.CAP:
                return False
        return True


def access(geo: Geometry) -> Access:
    """The (cached) access model of a solid's geometry."""
    a = geo.__dict__.get("_dfm_access")
    if a is None:
        a = geo.__dict__["_dfm_access"] = Access(geo)
    return a  # type: ignore[no-any-return]
