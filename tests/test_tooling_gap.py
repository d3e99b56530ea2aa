"""A gap between an island and a wall (or two islands) that the pocket's tools cannot pass gets its own tool.

Features measure the gap (a pocket's ``min_gap_mm``); ``dfm.tooling`` turns it into a "gap" tool
in the feature's selection and the part's tool set, and ``dfm.cam`` loads that very tool there
(not one it picks on its own). Parts in CadQuery to known dimensions, read through STEP.
"""

from __future__ import annotations

import cadquery as cq
import pytest

from dfm import api
from dfm.cam.data import load_settings
from dfm.cam.gcode import generate
from dfm.model import Feature
from dfm.tooling import default_catalogue, default_rules, select_tools
from dfm.tooling.select import ROLE_ORDER

ALLOW = default_rules().params.finish_allowance_mm
DEPTH = 1.5


def island_pocket(gap: float, turn: float = 0.0) -> cq.Workplane:
    """An 8 x 6 pocket (R0.5 corners) 1.5 deep, a 3 x 2 island (R0.3) ``gap`` mm from its +x wall."""
    p = cq.Workplane("XY").box(12, 10, 3).translate((0, 0, 1.5))
    pk = cq.Workplane("XY").rect(8, 6).extrude(DEPTH).edges("|Z").fillet(0.5).translate((0, 0, 1.5))
    isl = cq.Workplane("XY").rect(3, 2).extrude(DEPTH).edges("|Z").fillet(0.3).translate((4 - gap - 1.5, 0, 1.5))
    part = p.cut(pk.cut(isl))
    return part.rotate((0, 0, 0), (0, 0, 1), turn) if turn else part


def two_islands(gap: float) -> cq.Workplane:
    """A 10 x 6 pocket (R0.5 corners) 1.5 deep with two 2 x 2 islands (R0.3) ``gap`` mm apart, far from the walls."""
    p = cq.Workplane("XY").box(14, 10, 3).translate((0, 0, 1.5))
    pk = cq.Workplane("XY").rect(10, 6).extrude(DEPTH).edges("|Z").fillet(0.5).translate((0, 0, 1.5))
    c = 1.0 + gap / 2
    isl = (cq.Workplane("XY").pushPoints([(-c, 0), (c, 0)]).rect(2.0, 2.0).extrude(DEPTH)
           .edges("|Z").fillet(0.3).translate((0, 0, 1.5)))
    return p.cut(pk.cut(isl))


def expected_gap_tool(gap: float, depth: float = DEPTH) -> float:
    """The diameter of the largest square catalogue end mill that passes the gap (the CAM's rule) and reaches."""
    ok = [t.diameter_mm for t in default_catalogue().mills() if t.kind == "square"
          and t.diameter_mm <= gap - 2 * ALLOW - 0.01 + 1e-9 and (t.usable_reach_mm or 0.0) >= depth - 1e-9]
    return max(ok)


def test_the_allowance_is_the_programs():
    assert ALLOW == pytest.approx(load_settings()["finish_allowance_mm"])
    assert ROLE_ORDER["rest"] < ROLE_ORDER["gap"] < ROLE_ORDER["drill"]


CASES = [  # (name, part, gap, needs a gap tool, where)
    ("g035", lambda: island_pocket(0.35), 0.35, True, "an island and a wall"),
    ("g060", lambda: island_pocket(0.6), 0.6, True, "an island and a wall"),
    ("g120", lambda: island_pocket(1.2), 1.2, False, ""),
    ("g035_rot30", lambda: island_pocket(0.35, 30.0), 0.35, True, "an island and a wall"),
    ("two050", lambda: two_islands(0.5), 0.5, True, "an island and a wall or another island"),
]


@pytest.mark.parametrize(("name", "make", "gap", "needed", "where"), CASES, ids=[c[0] for c in CASES])
def test_gap_tool_is_chosen_listed_and_loaded(build, name, make, gap, needed, where):
    path = build(name, make())
    gen, result = generate(path)
    (body,) = result.bodies
    (pocket,) = [f for f in body.features if f.kind == "pocket"]
    assert pocket.dims["min_gap_mm"] == pytest.approx(gap, abs=1e-3)
    tools = {(t.role, t.id): t for t in body.tools}
    finish = next(t for t in body.tools if pocket.id in t.features and t.role in ("finish", "rest"))
    assert finish.diameter_mm + 2 * ALLOW > gap + 1e-6 if needed else finish.diameter_mm + 2 * ALLOW <= gap
    gap_rows = [t for t in body.tools if t.role == "gap"]
    ops = [op for su in gen.program.setups for op in su.operations if op.name.endswith("gap rest")]
    if not needed:
        assert not gap_rows and "gap_tool" not in pocket.props and "gap_tool_reason" not in pocket.props
        assert not ops
        assert body.measurements["max_tool_diameter_mm"].value == pytest.approx(finish.diameter_mm)
    else:
        tid = pocket.props["gap_tool"]
        row = tools[("gap", tid)]
        assert row.features == (pocket.id,)
        assert row.diameter_mm == pytest.approx(expected_gap_tool(gap))
        assert pocket.dims["gap_tool_diameter_mm"] == pytest.approx(row.diameter_mm)
        assert row.reach_mm >= DEPTH - 1e-9
        assert pocket.props["gap_tool_reason"] == (
            f"passes between {where} {gap:g} mm apart (Ø{finish.diameter_mm:g} does not)")
        assert [t.role for t in body.tools] == sorted((t.role for t in body.tools), key=ROLE_ORDER.__getitem__)
        assert body.tools[-1].role == "gap"  # after the rest tool
        # the part needs it: the smallest tool that finishes every milled feature
        assert body.measurements["max_tool_diameter_mm"].value == pytest.approx(row.diameter_mm)
        # the program cuts the gap with that very tool
        assert ops, [op.name for su in gen.program.setups for op in su.operations]
        assert {op.tool.cutter.id for op in ops} == {tid}
        assert tid not in {op.tool.cutter.id for su in gen.program.setups for op in su.operations if op not in ops}
    assert not [f for f in body.findings if f.code.startswith("DFM6")]
    assert not gen.verification.dropped, gen.verification.dropped


def test_dfm_tools_prints_the_gap_tool(build, capsys):
    from dfm.cli import main

    path = build("g035", island_pocket(0.35))
    assert main(["tools", str(path), "--in-process"]) in (0, 1)
    out = capsys.readouterr().out
    want = f"MHR230-{expected_gap_tool(0.35):g}x"
    gap_line = next(line for line in out.splitlines() if line.strip().startswith("gap "))
    assert want in gap_line and "pocket-1" in gap_line
    assert "pocket-1 gap: " in out and "passes between an island and a wall 0.35 mm apart" in out
    assert main(["tools", str(path), "--in-process", "--format", "json"]) in (0, 1)
    import json

    data = json.loads(capsys.readouterr().out)
    (b,) = data["bodies"]
    assert [t["role"] for t in b["tools"]][-1] == "gap"
    (p,) = [f for f in b["features"] if f["id"] == "pocket-1"]
    assert p["gap_tool"].startswith(want) and "0.35 mm apart" in p["gap_tool_reason"]


def test_check_json_has_the_gap_role_and_validates(build, schema_validator):
    from dfm.report.jsonout import result_dict

    res = api.analyze(build("g035", island_pocket(0.35)))
    data = result_dict(res)
    schema_validator.validate(data)
    assert "gap" in [t["role"] for t in data["bodies"][0]["tools"]]


# --- synthetic features: what is reported when no tool fits the gap -----------------------

def pocket(*, gap: float, depth: float = DEPTH, islands: int = 1) -> Feature:
    dims = {"width_mm": 6.0, "length_mm": 8.0, "depth_mm": depth, "floor_radius_mm": 0.0,
            "min_corner_radius_mm": 0.5, "min_gap_mm": gap}
    props = {"approach": [0.0, 0.0, 1.0], "open": False, "through": False, "floor": "flat",
             "floor_z_mm": 5.0 - depth, "top_z_mm": 5.0, "frame_u": [1.0, 0.0, 0.0], "frame_v": [0.0, 1.0, 0.0],
             "islands": [[[0, 0], [1, 0], [1, 1]]] * islands}
    return Feature("pocket-1", "pocket", (1, 2, 3), dims, props, (0.0, 0.0, 5.0 - depth), (0.0, 0.0, 1.0))


def test_gap_narrower_than_every_tool_but_the_smallest_mill_is_a_width_finding():
    res = select_tools([pocket(gap=0.12)], default_catalogue())
    (d,) = res.per_feature
    assert d.finish is not None and d.gap is None and d.gap_problem == "no-tool-for-width"
    assert not [t for t in res.tools if t.role == "gap"]
    (f,) = res.findings
    assert f.code == "DFM602" and f.value == pytest.approx(0.12)
    smallest = min(t.diameter_mm for t in default_catalogue().mills()
                   if t.kind == "square" and (t.usable_reach_mm or 0.0) >= DEPTH - 1e-9)
    assert f.limit == pytest.approx(round(smallest + 2 * ALLOW + 0.01, 2))
    assert "widen the gap between the island and the wall to" in f.fix.lower()
    assert res.max_tool_diameter_mm is None  # the pocket is not finished
    # the change it proposes gives the gap a tool
    again = select_tools([pocket(gap=f.limit)], default_catalogue())
    assert again.per_feature[0].gap is not None and not again.findings


def test_gap_narrower_than_the_smallest_end_mill_is_left_to_dfm305():
    res = select_tools([pocket(gap=0.08)], default_catalogue())
    (d,) = res.per_feature
    assert d.gap is None and d.gap_problem is None and d.gap_reason
    assert not res.findings  # DFM305 narrow-island-gap says so, as an error


def test_gap_tools_that_do_not_reach_give_a_reach_finding():
    res = select_tools([pocket(gap=0.35, depth=9.5)], default_catalogue())
    (d,) = res.per_feature
    assert d.finish is not None and d.gap is None and d.gap_problem == "no-tool-reach"
    (f,) = res.findings
    assert f.code == "DFM603"
    kinds = [a.changes[0].kind for a in d.gap_alternatives]
    assert kinds == ["gap", "depth"]
    depth = d.gap_alternatives[1].changes[0].value_mm
    again = select_tools([pocket(gap=0.35, depth=depth)], default_catalogue())
    assert again.per_feature[0].gap is not None


def test_a_wide_gap_takes_no_gap_tool():
    res = select_tools([pocket(gap=2.0)], default_catalogue())
    (d,) = res.per_feature
    assert d.gap is None and not d.gap_reason and not res.findings
