"""Reading files: units, bodies, face ids, odd and broken files."""

from __future__ import annotations

import pytest

from dfm import api
from dfm.errors import InputError
from dfm.kernel import load


def _write_box_step(path, unit: str, size=(1.0, 2.0, 3.0)):
    """A box written by OCCT with the given STEP length unit (values converted by OCCT)."""
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.Interface import Interface_Static
    from OCP.STEPControl import STEPControl_AsIs, STEPControl_Writer

    Interface_Static.SetCVal_s("write.step.unit", unit)
    try:
        w = STEPControl_Writer()
        w.Transfer(BRepPrimAPI_MakeBox(*size).Shape(), STEPControl_AsIs)
        assert int(w.Write(str(path))) == 1
    finally:
        Interface_Static.SetCVal_s("write.step.unit", "MM")
    return path


@pytest.mark.parametrize("unit,expected", [("MM", "mm"), ("INCH", "inch"), ("M", "m"), ("CM", "cm")])
def test_units_come_out_in_mm(tmp_path, unit, expected):
    f = _write_box_step(tmp_path / f"box_{unit}.step", unit, size=(1.0, 2.0, 3.0))
    text = f.read_text(errors="replace").upper()
    assert {"MM": ".MILLI.", "INCH": "INCH", "M": "SI_UNIT($,.METRE.)", "CM": ".CENTI."}[unit] in text
    loaded = load(f)
    assert loaded.source_units == expected
    (solid,) = loaded.solids
    assert solid.size == pytest.approx((1.0, 2.0, 3.0), abs=1e-6)
    assert solid.volume == pytest.approx(6.0, abs=1e-6)


def test_inch_and_mm_nist_files_agree(corpus):
    inch = load(corpus / "nist_pmi/nist_ctc_03_asme1_rc.stp")
    mm = load(corpus / "nist_pmi/nist_ctc_03_asme1_ap242-e2.stp")
    assert inch.source_units == "inch" and mm.source_units == "mm"
    assert inch.solids[0].size == pytest.approx(mm.solids[0].size, abs=0.02)
    assert inch.solids[0].size == pytest.approx((302.96, 485.44, 162.69), abs=0.01)


def test_centimetre_file(corpus):
    lf = load(corpus / "occt/parts/trj2_io1-in-203.stp")
    assert lf.source_units == "cm"
    assert lf.solids[0].size == pytest.approx((88.0, 31.0, 88.0), abs=1e-3)


def test_metre_file_is_implausible_not_silent(corpus):
    r = api.analyze(corpus / "aagnet/partA.step")
    assert r.status == "ok" and r.source_units == "m"
    (f,) = [f for f in r.findings if f.code == "DFM951"]
    assert f.value == pytest.approx(86350.062, abs=0.01)
    assert "86.4 mm" in f.message
    assert r.verdict in ("warn", "fail")  # never a silent pass; the rules may fail it too


def test_assembly_declared_in_inch_with_mm_numbers_warns(corpus):
    r = api.analyze(corpus / "occt/assemblies/trj2_as1-pe-203.stp")
    assert r.source_units == "inch"
    assert any(f.code == "DFM951" for f in r.findings)


def test_multi_solid_files_give_one_body_per_solid(corpus):
    r = api.analyze(corpus / "occt/assemblies/trj3_as1-ec-214.stp")
    assert r.status == "ok"
    assert len(r.bodies) == 18
    assert [b.index for b in r.bodies] == list(range(1, 19))
    assert len({b.name for b in r.bodies}) == 18  # names made unique
    assert any(f.code == "DFM954" for f in r.findings)
    assert sum(b.faces for b in r.bodies) == 160


def test_assembly_placements_are_applied(corpus):
    lf = load(corpus / "occt/assemblies/trj12_is1-oc-214.stp")
    assert len(lf.solids) == 5
    lows = sorted(round(s.bbox[0][0], 3) for s in lf.solids)
    assert len(set(lows)) > 1  # the five 10 mm cubes are not all at the origin


def test_face_ids_follow_freecad_numbering(tmp_path):
    # BRepPrimAPI_MakeBox: FreeCAD shows Face1 = x-min, Face2 = x-max, ..., Face6 = z-max.
    f = _write_box_step(tmp_path / "box.step", "MM", size=(1.0, 2.0, 3.0))
    (solid,) = load(f).solids
    from OCP.BRepGProp import BRepGProp
    from OCP.GProp import GProp_GProps

    centres = []
    for i in range(1, 7):
        props = GProp_GProps()
        BRepGProp.SurfaceProperties_s(solid.face(i), props)
        c = props.CentreOfMass()
        centres.append((round(c.X(), 6), round(c.Y(), 6), round(c.Z(), 6)))
    assert centres == [(0, 1, 1.5), (1, 1, 1.5), (0.5, 0, 1.5), (0.5, 2, 1.5), (0.5, 1, 0), (0.5, 1, 3)]
    assert solid.face_id(solid.face(4)) == 4


def test_brep_files_load(tmp_path):
    from OCP.BRepPrimAPI import BRepPrimAPI_MakeBox
    from OCP.BRepTools import BRepTools

    p = tmp_path / "box.brep"
    BRepTools.Write_s(BRepPrimAPI_MakeBox(2.0, 3.0, 4.0).Shape(), str(p))
    lf = load(p)
    assert lf.format == "brep" and lf.solids[0].volume == pytest.approx(24.0)


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "DFM902"),
        (b"solid cube\nfacet normal 0 0 1\n", "DFM903"),
        (b"\x89PNG\r\n\x1a\n....", "DFM903"),
        (b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n#1=FOO(;\n", "DFM904"),
    ],
)
def test_bad_bytes(tmp_path, content, code):
    p = tmp_path / "upload.STEP"
    p.write_bytes(content)
    with pytest.raises(InputError) as exc:
        load(p)
    assert exc.value.code == code
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file(tmp_path):
    r = api.analyze(tmp_path / "nope.step")
    assert r.status == "error" and r.error.code == "DFM901" and r.exit_code == 2


# Every odd file ends in a clear error or a sane result, never a traceback.
ODD = {
    "occt/odd/DERIVED_truncated_60pct_xr1-tc-lbr.stp": ("error", "DFM904"),
    "occt/odd/OCC22459-TEST2.stp": ("error", "DFM906"),
    "occt/odd/bug25169_box-openshell.stp": ("ok", None),
    "occt/odd/bug27333_simple.stp": ("error", "DFM906"),
    "occt/odd/bug28366_fuselage.stp": ("ok", "DFM953"),
    "occt/odd/bug31000_InSensitive.stp": ("ok", None),
    "occt/odd/bug31670_russian.stp": ("ok", None),
    "occt/odd/bug32314_corrupted.stp": ("ok", None),
    "occt/odd/trj2_f1-db-214.stp": ("ok", "DFM952"),
    "occt/odd/trj9_ap209-td.stp": ("ok", None),
    "occt/xr1/trj4_xr1-tc-214.stp": ("error", "DFM905"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("rel", sorted(ODD))
def test_odd_files(corpus, rel, schema_validator):
    from dfm.report.jsonout import result_dict

    status, code = ODD[rel]
    r = api.analyze(corpus / rel)
    schema_validator.validate(result_dict(r))
    assert r.status == status, r.error
    if status == "error":
        assert r.error.code == code
        assert rel.split("/")[-1] in r.error.message and "\n" not in r.error.message
        assert r.exit_code == 2
    else:
        assert r.bodies
        if code:
            assert any(f.code == code for f in r.findings)


def test_external_references_are_never_followed(corpus):
    r = api.analyze(corpus / "occt/xr1/trj4_xr1-tc-214.stp")
    assert r.status == "error" and "external" in r.error.message


def test_a_file_that_references_others_says_so(tmp_path):
    """A part that came through while its file also names other files (an assembly split over files): the
    shapes this file holds are analysed, and a DFM961 warning says the rest was not followed."""
    path = tmp_path / "box.step"
    _write_box_step(path, "MM", size=(10.0, 8.0, 3.0))
    text = path.read_text()
    assert "DOCUMENT_FILE" not in text
    assert api.analyze(path).status == "ok"
    assert "DFM961" not in {f.code for f in api.analyze(path).findings}
    ref = path.with_name("box_ref.step")
    ref.write_text(text.replace("ENDSEC;\nEND-ISO", "#90001=DOCUMENT_TYPE('');\n"
                                "#90002=DOCUMENT_FILE('other.stp','',$,#90001,'',$);\nENDSEC;\nEND-ISO"))
    assert "DOCUMENT_FILE" in ref.read_text()
    r = api.analyze(ref)
    assert r.status == "ok" and len(r.bodies) == 1
    assert tuple(r.bodies[0].bbox_mm) == pytest.approx((10.0, 8.0, 3.0), abs=1e-6)
    (w,) = [f for f in r.findings if f.code == "DFM961"]
    assert w.severity.value == "warning" and "did not follow" in w.message
    assert r.verdict == "warn"


def test_cyrillic_names_are_decoded(corpus):
    lf = load(corpus / "occt/odd/bug31670_russian.stp")
    # raw CP1251 bytes in the file (PRODUCT('\xc4\xe5\xf28', ...)): the parts are Дет1..Дет8
    assert lf.product_names == ["Сборка1"] + [f"Дет{i}" for i in range(1, 9)]
    assert len(lf.solids) == 17
    assert all(s.name.startswith("Дет") for s in lf.solids)


@pytest.mark.parametrize("raw, page", [
    (b"PRODUCT('plain','plain','',(#1));", "UTF8"),
    ("PRODUCT('Сборка1');".encode(), "UTF8"),
    ("PRODUCT('Дет8');".encode("cp1251"), "CP1251"),
    ("PRODUCT('Gehäuse');".encode("cp1252"), "CP1252"),
])
def test_step_codepage_from_the_raw_bytes(raw, page):
    from dfm.kernel.io import step_codepage

    assert step_codepage(raw) == page


def test_invalid_solid_is_an_input_error(tmp_path):
    # A box whose top face was removed is an open shell wrapped as a solid.
    from test_solid_checks import _open_box

    p = _open_box(tmp_path / "open.brep")
    r = api.analyze(p)
    assert r.status == "error" and r.error.code in ("DFM907", "DFM908")
    assert "open.brep" in r.error.message
