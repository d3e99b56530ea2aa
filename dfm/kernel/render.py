"""Pictures of a solid drawn from its exact geometry: tessellate, project, sort.

The report shows the part as SVG. Each face is meshed by OCCT (``BRepMesh``) with a
deflection relative to the part's size, the triangles are projected orthographically for
a view (isometric, top), back faces are culled, large triangles are split so that a
painter's sort by centroid depth stays right, and consecutive triangles of one face and
one shade level are merged into one SVG path. Every path carries its 1-based face id, so a
report can colour and highlight the faces a finding names.

The painter's sort is checked against exact ray casts in ``tests/test_report_render.py``
(:func:`ray_face` gives the first face a view ray hits).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
from OCP.BRep import BRep_Tool
from OCP.BRepMesh import BRepMesh_IncrementalMesh
from OCP.gp import gp_Dir, gp_Lin, gp_Pnt
from OCP.IntCurvesFace import IntCurvesFace_ShapeIntersector
from OCP.TopAbs import TopAbs_EDGE, TopAbs_REVERSED
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS

from dfm.errors import KernelError
from dfm.kernel.shape import Solid

#: Views by name: (direction from the part towards the viewer, the screen's up vector).
VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # FreeCAD's isometric: looking from +X, -Y, +Z, so front, right and top faces show.
    "iso": ((1.0, -1.0, 1.0), (0.0, 0.0, 1.0)),
    "top": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "front": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
}

#: Light direction (towards the light), in view space: from upper left, in front.
_LIGHT = np.array([-0.35, 0.55, 0.76])
#: Shade levels: triangles of one face merge into one path when their shade level matches.
SHADE_LEVELS = 12


@dataclass(frozen=True)
class Run:
    """Consecutive triangles of one face and one shade, in drawing order.

    Attributes:
        face: 1-based face id.
        shade: Lightness factor in [0, 1] (Lambert, quantised to ``SHADE_LEVELS``).
        fill_d: SVG path data of the triangles (``M x y L x y L x y Z`` ...).
        edge_d: SVG path data of the face-boundary segments of those triangles (may be "").

    """

    face: int
    shade: float
    fill_d: str
    edge_d: str


@dataclass(frozen=True)
class Picture:
    """One projected view of a solid, ready for an SVG ``viewBox="0 0 width height"``.

    Attributes:
        view: View name (``iso``, ``top``...).
        width: Width in SVG user units (px).
        height: Height in SVG user units.
        scale: SVG units per mm.
        runs: Paths in painter's order (far first).
        triangles: Number of triangles drawn (after culling and splitting).
        faces: Ids of the faces that have at least one visible triangle.

    """

    view: str
    width: float
    height: float
    scale: float
    runs: tuple[Run, ...]
    triangles: int
    faces: tuple[int, ...]


@dataclass
class _Mesh:
    tris: np.ndarray  # (n, 3, 3) vertices in mm, outward winding (counter-clockwise seen from outside)
    face: np.ndarray  # (n,) face ids
    boundary: np.ndarray  # (n, 3) bool: edge i (vertex i -> i+1) lies on a B-rep edge of the face


_MESH_CACHE: weakref.WeakKeyDictionary[Solid, _Mesh] = weakref.WeakKeyDictionary()
_RAYS: weakref.WeakKeyDictionary[Solid, IntCurvesFace_ShapeIntersector] = weakref.WeakKeyDictionary()


def mesh(solid: Solid, rel_deflection: float = 0.002, angular_deg: float = 12.0) -> _Mesh:
    """Triangulate every face of ``solid`` (cached per solid).

    Args:
        solid: The body.
        rel_deflection: Linear deflection as a fraction of the bounding-box diagonal.
        angular_deg: Angular deflection in degrees.

    Raises:
        KernelError: when a face has no triangulation after meshing.

    """
    cached = _MESH_CACHE.get(solid)
    if cached is not None:
        return cached
    diag = math.dist(*solid.bbox) or 1.0
    BRepMesh_IncrementalMesh(solid.shape, diag * rel_deflection, False, math.radians(angular_deg), True)
    tris: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    bounds: list[np.ndarray] = []
    for fid in range(1, solid.face_count + 1):
        face = solid.face(fid)
        loc = TopLoc_Location()
        tri = BRep_Tool.Triangulation_s(face, loc)
        if tri is None:
            raise KernelError(f"{solid.name}: face {fid} could not be triangulated for the picture")
        trsf = loc.Transformation()
        nodes = np.empty((tri.NbNodes() + 1, 3))
        for i in range(1, tri.NbNodes() + 1):
            p = tri.Node(i).Transformed(trsf)
            nodes[i] = (p.X(), p.Y(), p.Z())
        idx = np.empty((tri.NbTriangles(), 3), dtype=np.int64)
        for i in range(1, tri.NbTriangles() + 1):
            idx[i - 1] = tri.Triangle(i).Get()
        if face.Orientation() == TopAbs_REVERSED:
            idx = idx[:, [0, 2, 1]]
        segs: set[tuple[int, int]] = set()
        exp = TopExp_Explorer(face, TopAbs_EDGE)
        while exp.More():
            edge = TopoDS.Edge_s(exp.Current())
            exp.Next()
            if BRep_Tool.Degenerated_s(edge) or BRep_Tool.IsClosed_s(edge, face):
                continue  # seams of cylinders and cones are not edges one sees
            poly = BRep_Tool.PolygonOnTriangulation_s(edge, tri, loc)
            if poly is None:
                continue
            ns = [poly.Node(i) for i in range(1, poly.NbNodes() + 1)]
            for a, b in zip(ns, ns[1:], strict=False):
                segs.add((min(a, b), max(a, b)))
        bnd = np.zeros(idx.shape, dtype=bool)
        for k in range(3):
            a, b = idx[:, k], idx[:, (k + 1) % 3]
            bnd[:, k] = [(min(x, y), max(x, y)) in segs for x, y in zip(a.tolist(), b.tolist(), strict=True)]
        tris.append(nodes[idx])
        faces.append(np.full(len(idx), fid, dtype=np.int64))
        bounds.append(bnd)
    out = _Mesh(
        tris=np.concatenate(tris) if tris else np.zeros((0, 3, 3)),
        face=np.concatenate(faces) if faces else np.zeros(0, dtype=np.int64),
        boundary=np.concatenate(bounds) if bounds else np.zeros((0, 3), dtype=bool),
    )
    _MESH_CACHE[solid] = out
    return out


def _basis(view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if view not in VIEWS:
        raise KernelError(f"unknown view {view!r}; known: {', '.join(sorted(VIEWS))}")
    d_raw, up_raw = VIEWS[view]
    d = np.asarray(d_raw, dtype=float)
    d /= np.linalg.norm(d)
    right = np.cross(np.asarray(up_raw, dtype=float), d)
    right /= np.linalg.norm(right)
    up = np.cross(d, right)
    return right, up, d


def _split(tris: np.ndarray, face: np.ndarray, bnd: np.ndarray, scr: np.ndarray,
           max_len: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split triangles whose longest projected edge exceeds ``max_len`` at its midpoint."""
    for _ in range(24):
        e = np.stack([np.linalg.norm(scr[:, (k + 1) % 3] - scr[:, k], axis=1) for k in range(3)], axis=1)
        big = e.max(axis=1) > max_len
        if not big.any():
            break
        keep = ~big
        t, f, b, s = tris[big], face[big], bnd[big], scr[big]
        k = e[big].argmax(axis=1)
        n = len(t)
        r = np.arange(n)
        i0, i1, i2 = k, (k + 1) % 3, (k + 2) % 3
        v0, v1, v2 = t[r, i0], t[r, i1], t[r, i2]
        s0, s1, s2 = s[r, i0], s[r, i1], s[r, i2]
        m, sm = (v0 + v1) / 2, (s0 + s1) / 2
        b01, b12, b20 = b[r, i0], b[r, i1], b[r, i2]
        # (v0, m, v2) and (m, v1, v2): winding kept; the new inner edge m-v2 is no boundary.
        ta = np.stack([v0, m, v2], axis=1)
        tb = np.stack([m, v1, v2], axis=1)
        sa = np.stack([s0, sm, s2], axis=1)
        sb = np.stack([sm, s1, s2], axis=1)
        false = np.zeros(n, dtype=bool)
        ba = np.stack([b01, false, b20], axis=1)
        bb = np.stack([b01, b12, false], axis=1)
        tris = np.concatenate([tris[keep], ta, tb])
        face = np.concatenate([face[keep], f, f])
        bnd = np.concatenate([bnd[keep], ba, bb])
        scr = np.concatenate([scr[keep], sa, sb])
    return tris, face, bnd, scr


def _fmt(v: float) -> str:
    s = f"{v:.1f}"
    return "0" if s in ("-0.0", "0.0") else (s[:-2] if s.endswith(".0") else s)


def picture(solid: Solid, view: str = "iso", size_px: float = 420.0, margin_px: float = 12.0,
            split_fraction: float = 1 / 10) -> Picture:
    """Project ``solid`` for ``view`` and sort its visible triangles back to front.

    Args:
        solid: The body.
        view: A key of :data:`VIEWS`.
        size_px: The larger side of the picture, margins included, in SVG units.
        margin_px: Empty border.
        split_fraction: Triangles are split until no projected edge is longer than this
            fraction of the picture's larger side; smaller gives a better sort and a bigger file.

    Returns:
        The :class:`Picture`.

    """
    m = mesh(solid)
    right, up, d = _basis(view)
    tris = m.tris
    # Outward normal from the winding; cull faces turned away from the viewer.
    nrm = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    length = np.linalg.norm(nrm, axis=1)
    ok = length > 1e-14
    facing = np.zeros(len(tris), dtype=bool)
    facing[ok] = (nrm[ok] @ d) / length[ok] > 1e-9
    tris, face, bnd = tris[facing], m.face[facing], m.boundary[facing]
    # Screen coordinates in mm: x right, y down; fit all vertices of the solid (not only the
    # visible ones) so that a picture's frame does not depend on culling.
    allpts = m.tris.reshape(-1, 3)
    xs, ys = allpts @ right, -(allpts @ up)
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    span = max(x1 - x0, y1 - y0, 1e-9)
    scale = (size_px - 2 * margin_px) / span
    width = (x1 - x0) * scale + 2 * margin_px
    height = (y1 - y0) * scale + 2 * margin_px
    scr = np.stack([(tris @ right - x0) * scale + margin_px, (-(tris @ up) - y0) * scale + margin_px], axis=2)
    tris, face, bnd, scr = _split(tris, face, bnd, scr, size_px * split_fraction)
    depth = (tris.mean(axis=1) @ d)
    order = np.lexsort((face, depth))  # far first; ties by face id for a stable output
    tris, face, bnd, scr = tris[order], face[order], bnd[order], scr[order]
    nrm = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-300)
    view_n = np.stack([nrm @ right, nrm @ up, nrm @ d], axis=1)
    lam = np.clip(view_n @ (_LIGHT / np.linalg.norm(_LIGHT)), 0.0, 1.0)
    level = np.rint((0.45 + 0.55 * lam) * (SHADE_LEVELS - 1)).astype(int)
    runs: list[Run] = []
    start = 0
    n = len(face)
    for i in range(1, n + 1):
        if i < n and face[i] == face[start] and level[i] == level[start]:
            continue
        fill: list[str] = []
        edge: list[str] = []
        for j in range(start, i):
            p = [(_fmt(x), _fmt(y)) for x, y in scr[j].tolist()]
            if len(set(p)) == 3:  # a triangle rounded to a point or a segment paints nothing
                fill.append(f"M{p[0][0]} {p[0][1]}L{p[1][0]} {p[1][1]}L{p[2][0]} {p[2][1]}Z")
            for k in range(3):
                if bnd[j, k]:
                    a, b = p[k], p[(k + 1) % 3]
                    edge.append(f"M{a[0]} {a[1]}L{b[0]} {b[1]}")
        runs.append(Run(face=int(face[start]), shade=round(level[start] / (SHADE_LEVELS - 1), 4),
                        fill_d="".join(fill), edge_d="".join(edge)))
        start = i
    return Picture(view=view, width=round(width, 1), height=round(height, 1), scale=scale, runs=tuple(runs),
                   triangles=n, faces=tuple(sorted({int(f) for f in face.tolist()})))


def screen_to_ray(solid: Solid, pic: Picture, x: float, y: float, margin_px: float = 12.0
                  ) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Return the view ray through SVG point (x, y) of ``pic``: (origin in front, direction inward)."""
    right, up, d = _basis(pic.view)
    allpts = mesh(solid).tris.reshape(-1, 3)
    x0, y0 = float((allpts @ right).min()), float((-(allpts @ up)).min())
    u = (x - margin_px) / pic.scale + x0
    v = -((y - margin_px) / pic.scale + y0)
    diag = math.dist(*solid.bbox) + 1.0
    lo, hi = solid.bbox
    centre = (np.asarray(lo) + np.asarray(hi)) / 2
    # A point on the ray: its screen coordinates are (u, v); put it in front of the part.
    base = right * u + up * v
    base = base + d * (float(centre @ d) - float(base @ d) + diag)
    return (float(base[0]), float(base[1]), float(base[2])), (float(-d[0]), float(-d[1]), float(-d[2]))


def ray_face(solid: Solid, pic: Picture, x: float, y: float) -> int:
    """Return the face an exact ray through SVG point (x, y) of ``pic`` hits first; 0 for none."""
    origin, direction = screen_to_ray(solid, pic, x, y)
    inter = _RAYS.get(solid)
    if inter is None:
        inter = _RAYS[solid] = IntCurvesFace_ShapeIntersector()
        inter.Load(solid.shape, 1e-7)
    inter.Perform(gp_Lin(gp_Pnt(*origin), gp_Dir(*direction)), -1e9, 1e9)
    best, best_w = 0, math.inf
    for i in range(1, inter.NbPnt() + 1):
        w = inter.WParameter(i)
        if w < best_w:
            best_w, best = w, solid.face_id(inter.Face(i))
    return best


def painted_faces(pic: Picture, points: list[tuple[float, float]]) -> list[int]:
    """Return, for each SVG point, the face whose triangle is painted last over it (0: background)."""
    tris: list[list[float]] = []
    faces: list[int] = []
    for run in pic.runs:
        for tri in run.fill_d.split("Z"):
            if tri:
                tris.append([float(t) for t in tri.replace("M", " ").replace("L", " ").split()])
                faces.append(run.face)
    if not tris:
        return [0] * len(points)
    t = np.asarray(tris).reshape(-1, 3, 2)
    fa = np.asarray(faces)
    # A triangle that rounding to 0.1 unit collapsed has no inside (the sign test would say "all").
    area = (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1]) - (t[:, 2, 0] - t[:, 0, 0]) * (t[:, 1, 1] - t[:, 0, 1])
    keep = np.abs(area) > 1e-12
    t, fa = t[keep], fa[keep]
    a, b, c = t[:, 0], t[:, 1], t[:, 2]
    out = []
    for x, y in points:
        d1 = (x - b[:, 0]) * (a[:, 1] - b[:, 1]) - (a[:, 0] - b[:, 0]) * (y - b[:, 1])
        d2 = (x - c[:, 0]) * (b[:, 1] - c[:, 1]) - (b[:, 0] - c[:, 0]) * (y - c[:, 1])
        d3 = (x - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (y - a[:, 1])
        neg = (d1 < 0) | (d2 < 0) | (d3 < 0)
        pos = (d1 > 0) | (d2 > 0) | (d3 > 0)
        inside = np.nonzero(~(neg & pos))[0]
        out.append(int(fa[inside[-1]]) if len(inside) else 0)
    return out


def painted_face(pic: Picture, x: float, y: float) -> int:
    """Return the face whose triangle is painted last over SVG point (x, y); 0 for background."""
    return painted_faces(pic, [(x, y)])[0]
