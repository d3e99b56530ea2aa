"""Geometry CAM needs from the exact part: plane offsets, sections and a height field.

Plain data in and out (no OCP types leak): a segment is ``(a, b, c, ccw)`` with points as
``(x, y)`` tuples; ``c`` and ``ccw`` are None for a line, the centre and the direction
(True = counter-clockwise) for an arc. A loop is a list of segments whose ends meet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from OCP.BRep import BRep_Tool
from OCP.BRepAdaptor import BRepAdaptor_Curve
from OCP.BRepAlgoAPI import BRepAlgoAPI_Common
from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeEdge, BRepBuilderAPI_MakeFace, BRepBuilderAPI_MakeWire
from OCP.BRepMesh import BRepMesh_IncrementalMesh
from OCP.BRepOffsetAPI import BRepOffsetAPI_MakeOffset
from OCP.BRepTools import BRepTools, BRepTools_WireExplorer
from OCP.GC import GC_MakeArcOfCircle
from OCP.GeomAbs import GeomAbs_Arc, GeomAbs_Circle, GeomAbs_Line
from OCP.gp import gp_Dir, gp_Pln, gp_Pnt
from OCP.ShapeFix import ShapeFix_Face
from OCP.TopAbs import TopAbs_FACE, TopAbs_REVERSED, TopAbs_WIRE
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS, TopoDS_Wire

from dfm.errors import KernelError

Pt = tuple[float, float]
SegT = tuple[Pt, Pt, "Pt | None", "bool | None"]


def _edge(seg: SegT, z: float):  # type: ignore[no-untyped-def]
    a, b, c, ccw = seg
    pa, pb = gp_Pnt(a[0], a[1], z), gp_Pnt(b[0], b[1], z)
    if c is None:
        return BRepBuilderAPI_MakeEdge(pa, pb).Edge()
    a0 = math.atan2(a[1] - c[1], a[0] - c[0])
    a1 = math.atan2(b[1] - c[1], b[0] - c[0])
    d = a1 - a0
    if ccw:
        while d <= 1e-12:
            d += 2 * math.pi
    else:
        while d >= -1e-12:
            d -= 2 * math.pi
    r = math.dist(a, c)
    am = a0 + d / 2
    pm = gp_Pnt(c[0] + r * math.cos(am), c[1] + r * math.sin(am), z)
    return BRepBuilderAPI_MakeEdge(GC_MakeArcOfCircle(pa, pm, pb).Value()).Edge()


def _wire(loop: Sequence[SegT], z: float = 0.0) -> TopoDS_Wire:
    mw = BRepBuilderAPI_MakeWire()
    for seg in loop:
        mw.Add(_edge(seg, z))
    if not mw.IsDone():
        raise KernelError("an outline does not form a closed wire")
    return mw.Wire()


def _read_wire(wire: TopoDS_Wire) -> list[SegT]:
    out: list[SegT] = []
    exp = BRepTools_WireExplorer(wire)
    while exp.More():
        edge = exp.Current()
        cur = BRepAdaptor_Curve(edge)
        t0, t1 = cur.FirstParameter(), cur.LastParameter()
        p0, p1 = cur.Value(t0), cur.Value(t1)
        rev = edge.Orientation() == TopAbs_REVERSED
        a, b = (p0.X(), p0.Y()), (p1.X(), p1.Y())
        if rev:
            a, b = b, a
        kind = cur.GetType()
        if kind == GeomAbs_Circle:
            circ = cur.Circle()
            ccw = circ.Axis().Direction().Z() > 0
            if rev:
                ccw = not ccw
            c = (circ.Location().X(), circ.Location().Y())
            if math.dist(a, b) < 1e-9:  # a full circle: two halves
                am = (t0 + t1) / 2
                pm = cur.Value(am)
                m = (pm.X(), pm.Y())
                out.append((a, m, c, ccw))
                out.append((m, b, c, ccw))
            else:
                out.append((a, b, c, ccw))
        elif kind == GeomAbs_Line:
            if math.dist(a, b) > 1e-9:
                out.append((a, b, None, None))
        else:  # any other curve: a fine polyline
            n = 64
            ts = [t0 + (t1 - t0) * k / n for k in range(n + 1)]
            if rev:
                ts.reverse()
            pts = [(cur.Value(t).X(), cur.Value(t).Y()) for t in ts]
            out.extend((p, q, None, None) for p, q in zip(pts, pts[1:], strict=False) if math.dist(p, q) > 1e-9)
        exp.Next()
    return out


def offset_region(outer: Sequence[SegT], holes: Sequence[Sequence[SegT]], distance: float) -> list[list[SegT]]:
    """Offset the planar region bounded by ``outer`` minus ``holes`` by ``distance`` mm.

    Negative shrinks the region (the tool-centre region of a pocket), positive grows it.
    Convex corners of a grown region become arcs. Returns the loops of the result (empty
    when the region vanishes).
    """
    mf = BRepBuilderAPI_MakeFace(_wire(outer), True)
    for h in holes:
        mf.Add(_wire(h))
    if not mf.IsDone():
        raise KernelError("cannot build a planar face from the outline")
    fix = ShapeFix_Face(mf.Face())
    fix.Perform()
    face = fix.Face()
    off = BRepOffsetAPI_MakeOffset(face, GeomAbs_Arc)
    try:
        off.Perform(distance)
    except Exception:  # noqa: BLE001 - OCCT raises Standard_Failure for a vanishing region
        return []
    if not off.IsDone():
        return []
    loops = []
    exp = TopExp_Explorer(off.Shape(), TopAbs_WIRE)
    while exp.More():
        segs = _read_wire(TopoDS.Wire_s(exp.Current()))
        if segs:
            loops.append(segs)
        exp.Next()
    return loops


def section(solid, z: float) -> list[tuple[list[SegT], list[list[SegT]]]]:  # type: ignore[no-untyped-def]
    """The part's cross-section at height ``z``: (outer loop, hole loops) per region."""
    (x0, y0, _), (x1, y1, _) = solid.bbox
    pad = 1.0 + max(x1 - x0, y1 - y0)
    plane = gp_Pln(gp_Pnt(0, 0, z), gp_Dir(0, 0, 1))
    big = BRepBuilderAPI_MakeFace(plane, x0 - pad, x1 + pad, y0 - pad, y1 + pad).Face()
    common = BRepAlgoAPI_Common(solid.shape, big)
    if not common.IsDone():
        raise KernelError(f"cannot section the part at z = {z:.4f} mm")
    out = []
    exp = TopExp_Explorer(common.Shape(), TopAbs_FACE)
    while exp.More():
        face = TopoDS.Face_s(exp.Current())
        outer = BRepTools.OuterWire_s(face)
        holes = []
        wexp = TopExp_Explorer(face, TopAbs_WIRE)
        while wexp.More():
            w = TopoDS.Wire_s(wexp.Current())
            if not w.IsSame(outer):
                holes.append(_read_wire(w))
            wexp.Next()
        out.append((_read_wire(outer), holes))
        exp.Next()
    return out


def up_levels(solid) -> list[float]:  # type: ignore[no-untyped-def]
    """Heights (z, mm) of the part's horizontal faces, highest first."""
    from dfm.kernel.geom import geometry

    geo = geometry(solid)
    zs: list[float] = []
    for f in geo.faces.values():
        if f.kind == "plane" and f.normal is not None and abs(abs(f.normal[2]) - 1.0) < 1e-9:
            z = f.origin[2] if f.origin is not None else f.centroid[2]
            if all(abs(z - q) > 1e-6 for q in zs):
                zs.append(z)
    return sorted(zs, reverse=True)


def height_field(solid, x0: float, y0: float, step: float, nx: int, ny: int,  # type: ignore[no-untyped-def]
                 deflection: float = 2e-4) -> np.ndarray:
    """Top of the material seen from +Z at cell centres ``(x0 + (i + .5) step, y0 + (j + .5) step)``.

    Returns an ``(ny, nx)`` array of z (mm); ``-inf`` where the vertical line through the
    cell misses the part. Built from a fine triangulation (chord error ``deflection``).
    """
    mesh = BRepMesh_IncrementalMesh(solid.shape, deflection, False, 0.02, True)
    mesh.Perform()
    field = np.full((ny, nx), -np.inf)
    exp = TopExp_Explorer(solid.shape, TopAbs_FACE)
    while exp.More():
        face = TopoDS.Face_s(exp.Current())
        loc = TopLoc_Location()
        tri = BRep_Tool.Triangulation_s(face, loc)
        exp.Next()
        if tri is None:
            continue
        trsf = loc.Transformation()
        nodes = np.array([[p.X(), p.Y(), p.Z()] for p in
                          (tri.Node(i).Transformed(trsf) for i in range(1, tri.NbNodes() + 1))])
        tris = np.array([tri.Triangle(i).Get() for i in range(1, tri.NbTriangles() + 1)]) - 1
        for t in tris:
            _raster(field, nodes[t], x0, y0, step)
    return field


def _raster(field: np.ndarray, v: np.ndarray, x0: float, y0: float, step: float) -> None:
    (ax, ay, az), (bx, by, bz), (cx, cy, cz) = v
    det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    if abs(det) < 1e-14:
        return  # vertical triangle: no top surface
    ny, nx = field.shape
    i0 = max(int(math.floor((min(ax, bx, cx) - x0) / step - 0.5)), 0)
    i1 = min(int(math.ceil((max(ax, bx, cx) - x0) / step - 0.5)), nx - 1)
    j0 = max(int(math.floor((min(ay, by, cy) - y0) / step - 0.5)), 0)
    j1 = min(int(math.ceil((max(ay, by, cy) - y0) / step - 0.5)), ny - 1)
    if i1 < i0 or j1 < j0:
        return
    xs = x0 + (np.arange(i0, i1 + 1) + 0.5) * step
    ys = y0 + (np.arange(j0, j1 + 1) + 0.5) * step
    px, py = np.meshgrid(xs, ys)
    l1 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / det
    l2 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / det
    l3 = 1.0 - l1 - l2
    eps = -1e-12
    inside = (l1 >= eps) & (l2 >= eps) & (l3 >= eps)
    if not inside.any():
        return
    z = l1 * az + l2 * bz + l3 * cz
    sub = field[j0:j1 + 1, i0:i1 + 1]
    np.maximum(sub, np.where(inside, z, -np.inf), out=sub)
