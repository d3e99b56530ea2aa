"""AP242 semantic PMI: toleranced dimensions, mapped to the body's face ids.

``read_dimensions(path, solids)`` reads the file's GD&T (XCAF ``DimTolTool``) and returns every
diameter/radius/linear dimension that carries a plus/minus tolerance, with the faces it points
at translated to our 1-based face ids (matched on face centroid and area, because the PMI read
builds its own copy of the shapes). Lengths in mm.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from OCP.BRepAdaptor import BRepAdaptor_Surface
from OCP.BRepGProp import BRepGProp, BRepGProp_Face
from OCP.GeomAbs import GeomAbs_Cylinder
from OCP.gp import gp_Pnt, gp_Vec
from OCP.GProp import GProp_GProps
from OCP.IFSelect import IFSelect_RetDone
from OCP.STEPCAFControl import STEPCAFControl_Reader
from OCP.TCollection import TCollection_ExtendedString
from OCP.TDF import TDF_LabelSequence
from OCP.TDocStd import TDocStd_Document
from OCP.TopAbs import TopAbs_FACE
from OCP.TopExp import TopExp_Explorer
from OCP.TopoDS import TopoDS, TopoDS_Face, TopoDS_Shape
from OCP.XCAFDoc import XCAFDoc_Dimension, XCAFDoc_DimTolTool, XCAFDoc_DocumentTool, XCAFDoc_ShapeTool

from dfm.errors import KernelError
from dfm.kernel.capture import captured_output
from dfm.kernel.io import _ensure_units
from dfm.kernel.shape import Solid

#: Face match tolerance: centroids within this distance (mm) and areas within 1e-4 relative.
MATCH_MM = 1e-4


@dataclass(frozen=True)
class PmiDimension:
    """One toleranced dimension from the file's semantic PMI.

    Attributes:
        kind: ``diameter`` | ``radius`` | ``linear`` (XCAF dimension type, simplified).
        nominal_mm: Nominal size in mm (checked against the geometry of a cylindrical face).
        plus_um: Upper deviation (um).
        minus_um: Lower deviation as a positive number (um).
        faces: {body index: (face ids)} the dimension points at.
        internal: For a diameter/radius: True when the cylinder is a hole (concave), False for a
            shaft, None when no cylindrical face was found.
        note: How the nominal was read (e.g. scaled from inches to match the geometry).
    """

    kind: str
    nominal_mm: float
    plus_um: float
    minus_um: float
    faces: dict[int, tuple[int, ...]]
    internal: bool | None = None
    note: str = ""


def _signature(face: TopoDS_Shape) -> tuple[float, float, float, float]:
    props = GProp_GProps()
    BRepGProp.SurfaceProperties_s(face, props)
    c = props.CentreOfMass()
    return (c.X(), c.Y(), c.Z(), props.Mass())


def _faces_of(shape: TopoDS_Shape) -> list[TopoDS_Face]:
    out = []
    exp = TopExp_Explorer(shape, TopAbs_FACE)
    while exp.More():
        out.append(TopoDS.Face_s(exp.Current()))
        exp.Next()
    return out


def _cylinder(faces: list[TopoDS_Face]) -> tuple[float, bool] | None:
    """Diameter of the first cylindrical face and whether it is concave (a hole)."""
    for f in faces:
        surf = BRepAdaptor_Surface(f)
        if surf.GetType() != GeomAbs_Cylinder:
            continue
        cyl = surf.Cylinder()
        u = (surf.FirstUParameter() + surf.LastUParameter()) / 2
        v = (surf.FirstVParameter() + surf.LastVParameter()) / 2
        pnt, normal = gp_Pnt(), gp_Vec()
        BRepGProp_Face(f).Normal(u, v, pnt, normal)
        axis = cyl.Axis()
        to_p = gp_Vec(axis.Location(), pnt)
        along = gp_Vec(axis.Direction()).Multiplied(to_p.Dot(gp_Vec(axis.Direction())))
        radial = to_p.Subtracted(along)
        return 2.0 * cyl.Radius(), normal.Dot(radial) < 0
    return None


@functools.cache
def _read(path: str, mtime: float) -> tuple[tuple[str, float, float, float, tuple[tuple[float, ...], ...],
                                                   tuple[float, bool] | None], ...]:
    _ensure_units()
    reader = STEPCAFControl_Reader()
    reader.SetGDTMode(True)
    for off in ("SetColorMode", "SetLayerMode", "SetMatMode", "SetPropsMode", "SetViewMode", "SetSHUOMode"):
        getattr(reader, off)(False)
    with captured_output():
        if reader.ReadFile(path) != IFSelect_RetDone:
            raise KernelError(f"{path}: the PMI could not be read")
        doc = TDocStd_Document(TCollection_ExtendedString("XmlOcaf"))
        if not reader.Transfer(doc):
            raise KernelError(f"{path}: the PMI could not be transferred")
    tool = XCAFDoc_DocumentTool.DimTolTool_s(doc.Main())
    labels = TDF_LabelSequence()
    tool.GetDimensionLabels(labels)
    out = []
    for i in range(1, labels.Length() + 1):
        lab = labels.Value(i)
        obj = XCAFDoc_Dimension.Set_s(lab).GetObject()  # Set_s finds the existing attribute
        kind = str(obj.GetType()).rsplit("_", 1)[-1].lower()
        if not obj.IsDimWithPlusMinusTolerance():
            continue
        first, second = TDF_LabelSequence(), TDF_LabelSequence()
        XCAFDoc_DimTolTool.GetRefShapeLabel_s(lab, first, second)
        faces: list[TopoDS_Face] = []
        for seq in (first, second):
            for j in range(1, seq.Length() + 1):
                faces.extend(_faces_of(XCAFDoc_ShapeTool.GetShape_s(seq.Value(j))))
        if not faces:
            continue
        out.append((kind, float(obj.GetValue()), float(obj.GetUpperTolValue()), float(obj.GetLowerTolValue()),
                    tuple(_signature(f) for f in faces), _cylinder(faces)))
    return tuple(out)


def read_dimensions(path: str | Path, solids: list[Solid], length_unit_mm: float = 1.0) -> list[PmiDimension]:
    """Toleranced PMI dimensions of a STEP file, on the given bodies' face ids.

    Args:
        path: The STEP file (AP242 with semantic PMI; other files give an empty list).
        solids: The bodies ``kernel.load`` returned for it.
        length_unit_mm: The file's length unit in mm (25.4 for inch files): OCCT passes nominal
            values on in the file's unit (tolerances come in mm).

    Returns:
        Diameter, radius and linear dimensions with a plus/minus tolerance, in file order.
    """
    p = Path(path)
    raw = _read(str(p), p.stat().st_mtime)
    sigs = {s.index: [_signature(f) for f in s.faces()] for s in solids}
    out = []
    for kind, value, upper, lower, face_sigs, cyl in raw:
        simple = {"diameter": "diameter", "radius": "radius"}.get(kind, "linear")
        faces: dict[int, list[int]] = {}
        for fs in face_sigs:
            for idx, body in sigs.items():
                for fid, bs in enumerate(body, 1):
                    if math.dist(fs[:3], bs[:3]) <= MATCH_MM and abs(fs[3] - bs[3]) <= 1e-4 * max(bs[3], 1e-9):
                        faces.setdefault(idx, []).append(fid)
        nominal, note = value * length_unit_mm, ""
        if simple in ("diameter", "radius") and cyl is not None:
            size = cyl[0] if simple == "diameter" else cyl[0] / 2
            # OCCT hands the nominal over in the file's unit but the tolerances in mm: trust the geometry.
            for scale, why in ((1.0, ""), (25.4, "nominal read in inches and converted")):
                if abs(value * scale - size) <= max(0.01 * size, 1e-4):
                    nominal, note = value * scale, why
                    break
            else:
                nominal, note = size, f"PMI value {value:g} does not match the face ({size:.4f} mm); geometry used"
        out.append(PmiDimension(simple, nominal, upper * 1000.0, abs(lower) * 1000.0,
                                {k: tuple(sorted(set(v))) for k, v in faces.items()},
                                None if cyl is None else cyl[1], note))
    return out
