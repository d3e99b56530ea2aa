"""Plane sections of a set of faces: the trace of a through region's walls across its approach.

A passage (a through slot or pocket) has no floor whose loops would give its outline; its
walls run along the approach, so a plane square to the approach cuts them in the opening's
outline. Plain data out: point lists in mm (no OCP types leak).
"""

from __future__ import annotations

from collections.abc import Sequence

from OCP.BRep import BRep_Builder
from OCP.BRepAdaptor import BRepAdaptor_Curve
from OCP.BRepAlgoAPI import BRepAlgoAPI_Section
from OCP.BRepTools import BRepTools_WireExplorer
from OCP.GCPnts import GCPnts_QuasiUniformDeflection
from OCP.gp import gp_Dir, gp_Pln, gp_Pnt
from OCP.ShapeAnalysis import ShapeAnalysis_FreeBounds
from OCP.TopAbs import TopAbs_EDGE, TopAbs_REVERSED, TopAbs_WIRE
from OCP.TopExp import TopExp_Explorer
from OCP.TopoDS import TopoDS, TopoDS_Compound
from OCP.TopTools import TopTools_HSequenceOfShape

from dfm.errors import KernelError
from dfm.kernel.geom import Geometry
from dfm.model import Vec3


def face_section(geo: Geometry, faces: Sequence[int], origin: Vec3, normal: Vec3,
                 deflection: float = 0.001) -> list[tuple[list[Vec3], bool]]:
    """Where the plane through ``origin`` square to ``normal`` cuts ``faces``: chained polylines.

    The section's edges are joined end to end (0.1 um) into chains; each comes back as its
    points (chord error below ``deflection`` mm) and whether it closes on itself. A closed
    chain does not repeat its first point. Longest chain (most points) first.
    """
    comp = TopoDS_Compound()
    builder = BRep_Builder()
    builder.MakeCompound(comp)
    for fid in faces:
        builder.Add(comp, geo.solid.face(fid))
    sec = BRepAlgoAPI_Section(comp, gp_Pln(gp_Pnt(*origin), gp_Dir(*normal)), False)
    sec.Approximation(False)
    sec.Build()
    if not sec.IsDone():
        raise KernelError("cannot section the walls of a through region")
    edges = TopTools_HSequenceOfShape()
    exp = TopExp_Explorer(sec.Shape(), TopAbs_EDGE)
    while exp.More():
        edges.Append(exp.Current())
        exp.Next()
    if edges.Length() == 0:
        return []
    wires = TopTools_HSequenceOfShape()
    ShapeAnalysis_FreeBounds.ConnectEdgesToWires_s(edges, 1e-7, False, wires)
    out: list[tuple[list[Vec3], bool]] = []
    for k in range(1, wires.Length() + 1):
        shape = wires.Value(k)
        if shape.ShapeType() != TopAbs_WIRE:
            continue
        wire = TopoDS.Wire_s(shape)
        pts: list[Vec3] = []
        wexp = BRepTools_WireExplorer(wire)
        while wexp.More():
            edge = wexp.Current()
            curve = BRepAdaptor_Curve(edge)
            disc = GCPnts_QuasiUniformDeflection(curve, deflection)
            seg = [_t(disc.Value(i)) for i in range(1, disc.NbPoints() + 1)] if disc.IsDone() else []
            if edge.Orientation() == TopAbs_REVERSED:
                seg.reverse()
            if pts and seg:
                seg = seg[1:]
            pts.extend(seg)
            wexp.Next()
        if len(pts) < 2:
            continue
        closed = _close(pts[0], pts[-1])
        if closed:
            pts.pop()
        out.append((pts, closed))
    out.sort(key=lambda c: -len(c[0]))
    return out


def _t(p) -> Vec3:  # type: ignore[no-untyped-def]
    return (p.X(), p.Y(), p.Z())


def _close(a: Vec3, b: Vec3) -> bool:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) < 1e-12
