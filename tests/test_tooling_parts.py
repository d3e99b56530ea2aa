"""Tool recommendation on generator parts with known corner radii, widths and depths (via STEP)."""

from __future__ import annotations

import json

import pytest

from dfm import api
from dfm.cli import main
from dfm.tooling import default_catalogue, default_rules

K = default_rules().params.corner_clearance_ratio


def expected(corner: float, depth: float, width: float | None = None, floor_sharp: bool = True):
    """Largest catalogue end mill by the contract's inequalities, then its shortest reach."""
    ok = [t for t in default_catalogue().mills()
          if K * t.radius_mm <= corner + 1e-9 and (width is None or K * t.diameter_mm <= width + 1e-9)
          and ((t.corner_radius_mm or 0.0) == 0.0) == floor_sharp and t.usable_reach_mm >= depth - 1e-9]
    best = max(t.diameter_mm for t in ok)
    return best, min(t.usable_reach_mm for t in ok if t.diameter_mm == best)


def _body(path):
    res = api.analyze(path)
    assert res.status == "ok", res.error
    return res.bodies[0]


def _by_kind(body, kind):
    return [f for f in body.features if f.kind == kind]


def test_quarter_mm_corner_pocket_three_deep(make_part):
    path = make_part("tool_r025_d3", "plate_with_pockets", corner_radius=0.25, pocket_depth=3.0,
                     thickness=4.0, web=1.0)
    body = _body(path)
    pockets = _by_kind(body, "pocket")
    assert len(pockets) == 2
    d, reach = expected(0.25, 3.0, width=4.0)
    assert (d, reach) == (pytest.approx(0.4), pytest.approx(3.0))
    tools = {t.id: t for t in body.tools}
    for p in pockets:
        assert p.dims["max_tool_diameter_mm"] == pytest.approx(d)
        assert p.dims["required_reach_mm"] == pytest.approx(3.0, abs=1e-6)
        t = tools[p.props["tool"]]
        assert t.diameter_mm == pytest.approx(d) and t.reach_mm == pytest.approx(reach)
        assert t.role == "rest"  # a larger tool roughs the 4 mm wide pocket first
        rough = tools[p.props["rough_tool"]]
        assert rough.role == "rough" and K * rough.diameter_mm <= 4.0 + 1e-6 and rough.reach_mm >= 3.0
    m = body.measurements["max_tool_diameter_mm"]
    assert m.value == pytest.approx(d)
    assert not [f for f in body.findings if f.code.startswith("DFM6")]


def test_corner_too_small_for_reach_gives_design_change_that_works(make_part):
    path = make_part("tool_r005_d3", "plate_with_pockets", corner_radius=0.05, pocket_depth=3.0,
                     thickness=4.0, web=1.0)
    body = _body(path)
    six = [f for f in body.findings if f.code.startswith("DFM6")]
    assert {f.code for f in six} == {"DFM601"}
    assert {f.feature for f in six} == {p.id for p in _by_kind(body, "pocket")}
    f = six[0]
    assert f.value == pytest.approx(0.05, abs=1e-6)
    assert "raise the vertical corner radius to" in f.fix.lower()
    assert "max_tool_diameter_mm" not in body.measurements
    # Apply the suggested radius: the named tool (or a larger one) now finishes the pocket.
    new_r = f.limit
    path2 = make_part(f"tool_r{new_r}_d3", "plate_with_pockets", corner_radius=new_r, pocket_depth=3.0,
                      thickness=4.0, web=1.0)
    body2 = _body(path2)
    assert not [x for x in body2.findings if x.code.startswith("DFM6")]
    named = next(t for t in default_catalogue().tools if t.id in f.fix)
    assert body2.measurements["max_tool_diameter_mm"].value >= named.diameter_mm - 1e-9


def test_narrow_slot(make_part):
    path = make_part("tool_slot", "slotted_block", slot_width=0.4, slot_length=2.0, slot_depth=1.0)
    body = _body(path)
    (slot,) = _by_kind(body, "slot")
    d, reach = expected(0.2, 1.0, width=0.4)
    assert slot.dims["max_tool_diameter_mm"] == pytest.approx(d)
    tool = next(t for t in body.tools if t.id == slot.props["tool"])
    assert tool.reach_mm == pytest.approx(reach) and tool.role == "finish"


def test_holes_drilled_or_milled(make_part):
    body = _body(make_part("tool_holes", "holes_block"))
    holes = {round(h.dims["diameter_mm"], 3): h for h in _by_kind(body, "hole")}
    # Ø1.0 through: the catalogue has Ø1.0 drills.
    h = holes[1.0]
    assert h.props["tool_operation"] == "drill"
    assert next(t for t in body.tools if t.id == h.props["tool"]).role == "drill"
    # Ø1.25 flat-bottom: no Ø1.25 drill; milled by the largest end mill under the corner rule.
    h = holes[1.25]
    assert h.props["tool_operation"] == "helical-mill"
    d, _ = expected(0.625, 2.0)
    assert h.dims["max_tool_diameter_mm"] == pytest.approx(d)


def test_json_and_table(make_part, capsys, schema_validator):
    path = make_part("tool_r025_d3", "plate_with_pockets", corner_radius=0.25, pocket_depth=3.0,
                     thickness=4.0, web=1.0)
    assert main(["check", str(path), "--format", "json"]) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    schema_validator.validate(data)
    body = data["bodies"][0]
    assert body["tools"] and {t["role"] for t in body["tools"]} >= {"rough", "rest"}
    pocket = next(f for f in body["features"] if f["kind"] == "pocket")
    assert pocket["dims"]["max_tool_diameter_mm"] == pytest.approx(0.4)
    assert pocket["dims"]["required_reach_mm"] == pytest.approx(3.0)
    assert pocket["props"]["tool"] in {t["id"] for t in body["tools"]}
    main(["tools", str(path)])
    out = capsys.readouterr().out
    assert "largest tool that finishes every milled feature: Ø0.4 mm" in out
    assert "MHR230-0.4x3" in out


def test_user_tools_file(make_part, tmp_path, capsys):
    crib = tmp_path / "crib.toml"
    crib.write_text("""
[[series]]
id = "crib"
vendor = "shop"
name = "rack"
kind = "square"
source = "shop crib"

[[series.tool]]
id = "T7"
diameter_mm = 0.3
reach_mm = 5.0
corner_radius_mm = 0.0
""")
    path = make_part("tool_r025_d3", "plate_with_pockets", corner_radius=0.25, pocket_depth=3.0,
                     thickness=4.0, web=1.0)
    res = api.analyze(path, tools=str(crib))
    assert [t.id for t in res.bodies[0].tools] == ["T7"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[[series]]\nid = 1\n")
    assert main(["tools", str(path), "--tools", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


CRIB_SHANK = """
[[series]]
id = "crib"
vendor = "shop"
name = "rack"
kind = "square"
source = "shop crib, measured"

[[series.tool]]
id = "short"
diameter_mm = 0.4
reach_mm = 2.0
shank_diameter_mm = {shank}
corner_radius_mm = 0.0

[[series.tool]]
id = "long"
diameter_mm = 0.4
reach_mm = 3.0
shank_diameter_mm = {shank}
corner_radius_mm = 0.0
"""


@pytest.mark.parametrize("shank,tool,reach", [(3.0, "short", 2.0), (8.0, "long", 3.0)])
def test_shank_and_the_pocket_above(make_part, tmp_path, shank, tool, reach):
    # Inner pocket 2 mm deep in the floor of a 6 mm wide, 1 mm deep pocket: a Ø3 shank enters
    # the outer pocket (reach 2 suffices), a Ø8 shank stops on top (reach 1 + 2 = 3).
    path = make_part("tool_stepped", "stepped_pocket")
    crib = tmp_path / f"crib{shank}.toml"
    crib.write_text(CRIB_SHANK.format(shank=shank))
    body = api.analyze(path, tools=str(crib)).bodies[0]
    inner = next(f for f in body.features if f.kind == "pocket" and abs(f.dims["width_mm"] - 1.5) < 1e-6)
    assert inner.props["tool"] == tool
    assert inner.dims["required_reach_mm"] == pytest.approx(reach, abs=1e-6)


def test_tools_command_reports_the_design_change(make_part, capsys, schema_validator):
    path = make_part("tool_r005_d3", "plate_with_pockets", corner_radius=0.05, pocket_depth=3.0,
                     thickness=4.0, web=1.0)
    assert main(["tools", str(path)]) == 1  # DFM601 is an error: the part fails DFM
    out = capsys.readouterr().out
    assert "largest tool that finishes every milled feature: none (see findings)" in out
    assert "ERROR DFM601 no-tool-for-corner" in out and "fix: Raise the vertical corner radius to" in out
    assert main(["tools", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    body = data["bodies"][0]
    assert body["max_tool_diameter_mm"] is None
    assert {f["code"] for f in body["findings"]} == {"DFM601"}
    pockets = [f for f in body["features"] if f["kind"] == "pocket"]
    assert pockets and all(f["tool"] is None and "max_tool_diameter_mm" not in f for f in pockets)
    assert all(f["required_reach_mm"] == pytest.approx(3.0) for f in pockets)
    assert main(["check", str(path), "--format", "json"]) == 1
    schema_validator.validate(json.loads(capsys.readouterr().out))
