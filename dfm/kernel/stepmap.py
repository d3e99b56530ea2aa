"""Map faces back to the STEP entities they came from (for labelled datasets and PMI)."""

from __future__ import annotations

from pathlib import Path

from OCP.BRepGProp import BRepGProp
from OCP.GProp import GProp_GProps
from OCP.STEPControl import STEPControl_Reader
from OCP.TopAbs import TopAbs_FACE
from OCP.TopExp import TopExp
from OCP.TopoDS import TopoDS
from OCP.TopTools import TopTools_IndexedMapOfShape

from dfm.kernel.capture import captured_output


def face_entities(path: str | Path) -> list[tuple[int, str, tuple[float, float, float], float]]:
    """For every face of the file: (STEP entity number, entity name, centroid, area).

    The entity number is the ``#N`` of the ``ADVANCED_FACE``; the name is its first
    attribute (labelled datasets store the class or face index there).
    """
    reader = STEPControl_Reader()
    with captured_output():
        reader.ReadFile(str(path))
        reader.TransferRoots()
    shape = reader.OneShape()
    model = reader.WS().Model()
    tr = reader.WS().TransferReader()
    faces = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, TopAbs_FACE, faces)
    out = []
    for i in range(1, faces.Extent() + 1):
        face = TopoDS.Face_s(faces.FindKey(i))
        ent = tr.EntityFromShapeResult(face, 1)
        num = model.Number(ent) if ent is not None else 0
        name = ""
        if ent is not None and hasattr(ent, "Name"):
            try:
                name = ent.Name().ToCString()
            except Exception:  # noqa: BLE001 - entities without a name string
                name = ""
        props = GProp_GProps()
        BRepGProp.SurfaceProperties_s(face, props)
        c = props.CentreOfMass()
        out.append((num, name, (c.X(), c.Y(), c.Z()), props.Mass()))
    return out
