"""Issue 15: a finish applies to every sized surface; tolerances select sizes, not feature kinds.

Parts are CadQuery code exported as STEP (the real import path); numbers are the allowance
formulas of dfm/rules/anodize.py (bore/width shrink by 2g, shaft/wall grow by 2g, 60° thread
PD by 4g) with the film of each spec.
"""

from __future__ import annotations

import json

import cadquery as cq
import generators
import pytest

from dfm import api
from dfm.model import Severity
from dfm.rules.spec import dumps

FILM = {"kind": "anodize", "type": "II", "thickness_um": [10, 25], "growth_fraction": 0.5}
G_MIN, G_MAX = 0.005, 0.0125  # build-up per surface (mm) of a 10-25 um film, half outward


def barrel_seat_end() -> cq.Workplane:
    """A Ø6 × 8 barrel: Ø4.000 bore 7 deep from the top, Ø3.4 seat 1 long through the bottom."""
    body = cq.Workplane("XY").circle(3.0).extrude(8.0)
    body = body.cut(cq.Workplane("XY", origin=(0, 0, 1.0)).circle(2.0).extrude(7.1))
    return body.cut(cq.Workplane("XY", origin=(0, 0, -0.1)).circle(1.7).extrude(1.2))


def boss_plate() -> cq.Workplane:
    """A 10 × 10 × 2 plate with a Ø3 × 2 boss on top."""
    plate = cq.Workplane("XY").box(10, 10, 2, centered=(True, True, False))
    return plate.union(cq.Workplane("XY", origin=(0, 0, 2)).circle(1.5).extrude(2.0))


def slot_block() -> cq.Workplane:
    """A 12 × 8 × 4 block with a 1.0 wide, 6 long (end to end), 1.5 deep round-ended slot."""
    block = cq.Workplane("XY").box(12, 8, 4, centered=(True, True, False))
    return block.cut(cq.Workplane("XY", origin=(0, 0, 2.5)).slot2D(6.0, 1.0).extrude(2.0))


def m2_block() -> cq.Workplane:
    """An 8 × 8 × 4 block with a Ø1.6 (M2 tap drill) hole 3 deep."""
    block = cq.Workplane("XY").box(8, 8, 4, centered=(True, True, False))
    return block.cut(cq.Workplane("XY", origin=(0, 0, 1.0)).circle(0.8).extrude(3.1))


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    d = tmp_path_factory.mktemp("finish_sizes")
    return {name: generators.export_step(fn(), d / f"{name}.step")
            for name, fn in (("barrel", barrel_seat_end), ("boss", boss_plate), ("slot", slot_block),
                             ("m2", m2_block))}


def _run(part, tmp_path, spec: dict):
    path = tmp_path / "s.dfm.toml"
    path.write_text(dumps({"material": "6061-T6", **spec}))
    result = api.analyze(part, spec=str(path))
    assert result.status == "ok", result.error
    allows = [f for f in result.bodies[0].features if f.kind == "anodize_allowance"]
    return result, allows


def _bore_face(result, dia):
    """The face ids of the concave cylinder(s) of diameter ``dia`` (from the hole's faces/stack)."""
    for h in (f for f in result.bodies[0].features if f.kind == "hole"):
        if h.dims["diameter_mm"] == pytest.approx(dia):
            return tuple(h.props["bore_faces"])
        for st in h.props.get("stack", ()):
            if st["diameter_mm"] == pytest.approx(dia):
                return tuple(st["faces"])
    raise AssertionError(f"no Ø{dia} surface")


def test_diameter_tolerance_finds_the_bore_the_recogniser_called_a_counterbore(parts, tmp_path, schema_validator):
    tol = {"select": {"diameter_mm": 4.0}, "plus_um": 3, "minus_um": 3}
    result, allows = _run(parts["barrel"], tmp_path, {"finish": FILM, "tolerance": [tol]})
    assert not [f for f in result.all_findings if f.code == "DFM956"]
    (a,) = [a for a in allows if a.props["explicit"]]
    bore = _bore_face(result, 4.0)
    assert a.faces == bore and a.props["target"] == "bore" and a.props["select"] == "diameter 4 mm"
    assert (a.dims["premachine_min_mm"], a.dims["premachine_max_mm"]) == (pytest.approx(4.010), pytest.approx(4.025))
    (f501,) = [f for f in result.all_findings if f.code == "DFM501"]
    assert f501.severity is Severity.ERROR and f501.faces == bore
    from dfm.report import jsonout

    doc = json.loads(jsonout.dumps(result))
    schema_validator.validate(doc)
    (row,) = [f for f in doc["bodies"][0]["features"] if f["id"] == a.id]
    assert tuple(row["faces"]) == bore and row["props"]["select"] == "diameter 4 mm"


def test_finish_without_tolerance_gives_every_size_its_general_band(parts, tmp_path):
    result, allows = _run(parts["barrel"], tmp_path, {"finish": FILM})
    assert not [f for f in result.all_findings if f.code in ("DFM501", "DFM956")]
    by_size = {a.props["size"]: a for a in allows}
    assert {"bore Ø4 mm", "bore Ø3.4 mm", "shaft Ø6 mm"} <= set(by_size)
    assert any(k.startswith("wall") for k in by_size)
    a = by_size["bore Ø4 mm"]
    assert a.props["source"] == "iso-2768-m" and not a.props["explicit"] and a.faces == _bore_face(result, 4.0)
    # ISO 2768-1 m over 3-6 mm: +/-0.1; a bore shrinks by 2g: [lo + 2g_max, hi + 2g_min]
    assert a.dims["premachine_min_mm"] == pytest.approx(3.9 + 2 * G_MAX)
    assert a.dims["premachine_max_mm"] == pytest.approx(4.1 + 2 * G_MIN)
    shaft = by_size["shaft Ø6 mm"]  # grows by 2g: [lo - 2g_min, hi - 2g_max]
    assert shaft.dims["premachine_min_mm"] == pytest.approx(5.9 - 2 * G_MIN)
    assert shaft.dims["premachine_max_mm"] == pytest.approx(6.1 - 2 * G_MAX)
    # one row per size: no face in two allowances of the same kind
    for kind in ("bore", "shaft"):
        faces = [fid for x in allows if x.props["target"] == kind for fid in x.faces]
        assert len(faces) == len(set(faces))


def test_general_class_comes_from_the_spec(parts, tmp_path):
    _, allows = _run(parts["barrel"], tmp_path, {"finish": FILM, "general_tolerance": "f"})
    a = next(a for a in allows if a.props["size"] == "bore Ø4 mm")
    assert a.props["source"] == "iso-2768-f" and a.dims["tolerance_band_um"] == pytest.approx(100)


def test_boss_tolerance_is_a_shaft(parts, tmp_path):
    tol = {"select": {"diameter_mm": 3.0}, "plus_um": 20, "minus_um": 20}
    result, allows = _run(parts["boss"], tmp_path, {"finish": FILM, "tolerance": [tol]})
    (a,) = [a for a in allows if a.props["explicit"]]
    assert a.props["target"] == "shaft" and a.props["feasible"] and a.faces
    # OD_pre = OD - 2g, for every film: [lo - 2g_min, hi - 2g_max]
    assert a.dims["premachine_min_mm"] == pytest.approx(2.98 - 2 * G_MIN)
    assert a.dims["premachine_max_mm"] == pytest.approx(3.02 - 2 * G_MAX)
    assert "DFM503" in {f.code for f in result.all_findings}


def test_slot_width_is_selectable(parts, tmp_path):
    tol = {"select": {"width_mm": 1.0}, "plus_um": 20, "minus_um": 20}
    result, allows = _run(parts["slot"], tmp_path, {"finish": FILM, "tolerance": [tol]})
    assert not [f for f in result.all_findings if f.code == "DFM956"]
    (a,) = [a for a in allows if a.props["explicit"]]
    (slot,) = [f for f in result.bodies[0].features if f.kind == "slot"]
    assert a.props["target"] == "width" and a.props["feature"] == slot.id
    assert set(a.faces) <= set(slot.faces) and a.faces
    assert a.dims["premachine_min_mm"] == pytest.approx(0.98 + 2 * G_MAX)
    assert a.dims["premachine_max_mm"] == pytest.approx(1.02 + 2 * G_MIN)


def test_tapped_m2_under_type_iii_is_dfm502(parts, tmp_path):
    spec = {"finish": {"kind": "anodize", "type": "III"},
            "thread": [{"select": {"diameter_mm": 1.6}, "designation": "M2x0.4"}]}
    result, allows = _run(parts["m2"], tmp_path, spec)
    (f502,) = [f for f in result.all_findings if f.code == "DFM502"]
    assert f502.severity is Severity.ERROR
    # the thread governs its hole: no general-tolerance bore allowance on the tap drill
    assert not [a for a in allows if a.props["size"] == "bore Ø1.6 mm"]
    result, _ = _run(parts["m2"], tmp_path, {**spec, "mask": [{"select": {"diameter_mm": 1.6}}]})
    assert "DFM502" not in {f.code for f in result.all_findings}


def test_mask_spelling_and_new_select_keys_parse():
    from dfm.rules.spec import parse_spec

    s = parse_spec({"mask": [{"select": {"thickness_mm": 0.5}}],
                    "tolerance": [{"select": {"width_mm": 1.0}, "plus_um": 5, "minus_um": 5, "kind": "wall"}]}, "x")
    assert s.masking[0].thickness_mm == 0.5 and s.tolerances[0].select.width_mm == 1.0


def test_text_output_lists_the_pre_finish_sizes(parts, tmp_path):
    """``dfm check`` in text says what to machine to, not only the report (new-user try)."""
    from dfm.report.text import render

    result, allows = _run(parts["barrel"], tmp_path, {"finish": FILM})
    text = render(result)
    assert "pre-finish sizes" in text
    bore = next(a for a in allows if a.props["size"] == "bore Ø4 mm")
    lo, hi = bore.dims["premachine_min_mm"], bore.dims["premachine_max_mm"]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("bore Ø4 mm"))
    assert f"{lo:.4f}".rstrip("0") in line and f"{hi:.4f}".rstrip("0") in line and "ISO 2768-m" in line
    plain, _ = _run(parts["barrel"], tmp_path, {})
    assert "pre-finish sizes" not in render(plain)
