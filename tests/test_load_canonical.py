"""Free-form geometry that is analytic (B-spline planes, cylinders, lines, circles) is read as such.

Each part is built to known dimensions, written to STEP as it is and again after
``BRepBuilderAPI_NurbsConvert`` (every surface and curve a B-spline, as many exporters
write them): both files must give the same features, dimensions (to 1 µm), access and
findings, face for face.
"""

from __future__ import annotations

import math
from pathlib import Path

import cadquery as cq
import generators
import pytest

from dfm import api
from dfm.kernel import load

UM = 1e-3  # mm


def _plate_pocket_holes() -> cq.Workplane:
    """20 x 12 x 2 plate: a 6 x 4 x 1 mm pocket with r 0.5 corners, a Ø1 through hole, a Ø0.8 x 1 blind hole."""
    base = cq.Workplane("XY").box(20, 12, 2, centered=(True, True, False))
    pocket = cq.Workplane("XY").box(6, 4, 1, centered=(True, True, False)).edges("|Z").fillet(0.5)
    base = base.cut(pocket.translate((-4, 0, 1)))
    base = base.cut(cq.Workplane("XY", origin=(5, 2, -0.1)).circle(0.5).extrude(2.2))
    return base.cut(cq.Workplane("XY", origin=(5, -2, 1)).circle(0.4).extrude(1.1))


def _step_block() -> cq.Workplane:
    """20 x 10 x 6 block with a 4 wide x 3 deep step along x in its top."""
    base = cq.Workplane("XY").box(20, 10, 6, centered=(True, True, False))
    return base.cut(cq.Workplane("XY").box(22, 4, 3).translate((0, 3, 4.5)))


def _rot30(make):  # type: ignore[no-untyped-def]
    """``make``'s part turned 30° about Z: its planes and cylinders off the axes."""
    return lambda: make().rotate((0, 0, 0), (0, 0, 1), 30)


PARTS = {
    "plate_pocket_holes": _plate_pocket_holes,
    "slot": lambda: generators.slotted_block(slot_width=0.52),
    "step_block": _step_block,
    "rounded_step_block": generators.rounded_step_block,
    "step_block_rot30": _rot30(_step_block),
    "plate_rot30": _rot30(_plate_pocket_holes),
    "slot_rot30": _rot30(lambda: generators.slotted_block(slot_width=0.52)),
    "lens_barrel": generators.lens_barrel,
}


def _nurbs(part: cq.Workplane) -> cq.Shape:
    from OCP.BRepBuilderAPI import BRepBuilderAPI_NurbsConvert

    shape = cq.Shape.cast(BRepBuilderAPI_NurbsConvert(part.val().wrapped, True).Shape())
    assert shape.isValid()
    assert {f.geomType() for f in shape.Faces()} == {"BSPLINE"}
    return shape


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("canonical")
    out = {}
    for name, make in PARTS.items():
        part = make()
        analytic = generators.export_step(part, folder / f"{name}.step", name=name)
        nurbs = generators.export_step(_nurbs(part), folder / f"{name}_nurbs.step", name=name)
        out[name] = (analytic, nurbs)
    return out


def _kinds(path: Path) -> list[str]:
    from OCP.BRepAdaptor import BRepAdaptor_Surface

    (solid,) = load(path).solids
    return [str(BRepAdaptor_Surface(f).GetType()).rsplit("_", 1)[-1] for f in solid.faces()]


@pytest.mark.parametrize("name", list(PARTS))
def test_nurbs_faces_are_read_as_their_analytic_surfaces(twins, name):
    analytic, nurbs = twins[name]
    assert _kinds(nurbs) == _kinds(analytic)  # face for face, in the same order
    lf = load(nurbs)
    (solid,) = lf.solids
    assert lf.canonical.faces == solid.face_count and lf.canonical.kept == 0
    assert lf.canonical.edges > 0
    assert any("free-form face" in n for n in lf.notes)
    assert load(analytic).canonical.faces == 0


def _features(r) -> list[tuple]:
    (body,) = r.bodies
    return sorted((f.kind, f.faces, tuple(sorted(f.dims))) for f in body.features)


def _dims(r) -> dict[tuple, dict[str, float]]:
    (body,) = r.bodies
    return {(f.kind, f.faces): dict(f.dims) for f in body.features}


@pytest.mark.parametrize("name", list(PARTS))
def test_nurbs_twin_gives_the_same_analysis(twins, name):
    analytic, nurbs = twins[name]
    a, n = api.analyze(analytic), api.analyze(nurbs)
    assert a.status == n.status == "ok"
    assert _features(n) == _features(a)
    da, dn = _dims(a), _dims(n)
    for key, dims in da.items():
        assert dn[key] == pytest.approx(dims, abs=UM), key
    (ba,), (bn,) = a.bodies, n.bodies
    assert bn.volume_mm3 == pytest.approx(ba.volume_mm3, abs=1e-6)
    assert bn.bbox_mm == pytest.approx(ba.bbox_mm, abs=UM)
    assert bn.access.get("undercut_faces") == ba.access.get("undercut_faces")
    # the same findings, and the twin's file says what was read as analytic (an info: the verdict is the same)
    assert [(f.code, f.faces) for f in n.all_findings if f.code != "DFM960"] == [(f.code, f.faces)
                                                                                for f in a.all_findings]
    assert "DFM650" not in {f.code for f in n.all_findings}
    assert n.verdict == a.verdict
    assert "DFM960" not in {f.code for f in a.findings}
    (note,) = [f for f in n.findings if f.code == "DFM960"]
    lf = load(nurbs)
    assert note.severity.value == "info"
    assert note.message.startswith(f"{lf.canonical.faces} free-form face(s) (")
    within = f"and {lf.canonical.edges} free-form edge(s) were analytic within {lf.canonical.tolerance:.0e} mm"
    assert within in note.message


def test_free_form_face_stays_free_form(tmp_path):
    """A domed top (0.5 mm bump) is no plane: it is kept, the flat sides around it are converted."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeFace, BRepBuilderAPI_NurbsConvert
    from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
    from OCP.Geom import Geom_BSplineSurface
    from OCP.GeomAPI import GeomAPI_PointsToBSplineSurface
    from OCP.gp import gp_Pnt, gp_Vec
    from OCP.TColgp import TColgp_Array2OfPnt

    pts = TColgp_Array2OfPnt(1, 5, 1, 5)
    for i in range(5):
        for j in range(5):
            bump = 0.5 * math.sin(math.pi * i / 4) * math.sin(math.pi * j / 4)
            pts.SetValue(i + 1, j + 1, gp_Pnt(2.5 * i, 2.0 * j, 3.0 + bump))
    surf = GeomAPI_PointsToBSplineSurface(pts).Surface()
    assert isinstance(surf, Geom_BSplineSurface)
    face = BRepBuilderAPI_MakeFace(surf, 1e-6).Face()
    solid = BRepPrimAPI_MakePrism(face, gp_Vec(0, 0, -3.0)).Shape()
    shape = cq.Shape.cast(BRepBuilderAPI_NurbsConvert(solid, True).Shape())
    path = generators.export_step(shape, tmp_path / "dome.step", name="dome")

    lf = load(path)
    (s,) = lf.solids
    kinds = _kinds(path)
    assert kinds.count("BSplineSurface") == 2  # the dome and its copy at the bottom
    assert lf.canonical.kept == 2
    assert lf.canonical.faces == len(kinds) - 2 and set(kinds) == {"BSplineSurface", "Plane"}
    from OCP.BRepCheck import BRepCheck_Analyzer

    assert BRepCheck_Analyzer(s.shape).IsValid()


def test_files_without_free_form_skip_the_pass():
    from dfm.kernel.canonical import may_hold_freeform, tolerance

    assert not may_hold_freeform(b"ISO-10303-21; #1=PLANE('',#2); #3=CYLINDRICAL_SURFACE('',#4,1.);")
    assert may_hold_freeform(b"#1=B_SPLINE_SURFACE_WITH_KNOTS('',1,1,((#2,#3),(#4,#5)),.UNSPECIFIED.")
    assert may_hold_freeform(b"#1=(BOUNDED_CURVE() b_spline_curve(3,(#2,#3,#4,#5),.UNSPECIFIED.")
    # 1e-7 of the part's size, within [1e-7, 1e-5] mm: far below the 1 µm the dimensions are given to
    assert tolerance(20.0) == pytest.approx(2e-6)
    assert tolerance(0.1) == 1e-7 and tolerance(1e4) == 1e-5


@pytest.mark.parametrize("name", ["plate_pocket_holes", "lens_barrel"])
def test_face_and_edge_ids_stay_those_of_the_file(twins, name, monkeypatch):
    """Face i of the converted body is face i of the file: same orientation and neighbours as read,
    and the area and centre of the analytic twin's face i (the B-spline's own integrate loosely)."""
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    from dfm.kernel.canonical import Canonicalizer

    def props(solid):  # type: ignore[no-untyped-def]
        out = []
        for f in solid.faces():
            g = GProp_GProps()
            BRepGProp.SurfaceProperties_s(f, g)
            c = g.CentreOfMass()
            out.append((g.Mass(), c.X(), c.Y(), c.Z(), f.Orientation()))
        return out

    analytic, nurbs = twins[name]
    (converted,) = load(nurbs).solids
    (twin,) = load(analytic).solids
    monkeypatch.setattr(Canonicalizer, "body", lambda self, solid: solid)
    (raw,) = load(nurbs).solids
    assert converted.shape is not raw.shape
    assert converted.face_count == raw.face_count and converted.edge_count == raw.edge_count
    assert [p[4] for p in props(converted)] == [p[4] for p in props(raw)]
    assert converted.edge_faces == raw.edge_faces
    for (a, *ca, _), (b, *cb, _) in zip(props(converted), props(twin), strict=True):
        assert a == pytest.approx(b, abs=1e-6) and ca == pytest.approx(cb, abs=1e-6)
