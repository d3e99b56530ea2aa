"""Setups chosen, not assumed (#17): the same part modelled in any orientation is set up the same
way; a part with features on two opposite faces gets a flip with a setup sheet; spindle dwell
and coolant come from the machine settings.

Parts are built here with CadQuery and read back from STEP (the real import path).
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest
from generators import export_step

from dfm.cam import orient, rs274
from dfm.cam.gcode import generate, render
from dfm.cam.program import by_type, turn_point
from dfm.errors import UsageError
from dfm.model import Feature

THICK = 2.0


def _plate() -> cq.Workplane:
    """A 16 x 10 x 2 plate lying on z = 0: a 4 x 3 pocket 1 deep (R0.5), a 5 x 1 slot 0.6 deep, three Ø1 holes."""
    base = cq.Workplane("XY").box(16, 10, THICK, centered=(True, True, False))
    pocket = (cq.Workplane("XY").box(4, 3, 1.0, centered=(True, True, False)).edges("|Z").fillet(0.5)
              .translate((-4, 1, THICK - 1.0)))
    slot = cq.Workplane("XY").slot2D(5, 1.0).extrude(0.6).translate((3, 2.5, THICK - 0.6))
    base = base.cut(pocket).cut(slot)
    for x in (-5.0, 0.0, 5.0):
        base = base.cut(cq.Workplane("XY").circle(0.5).extrude(THICK + 2).translate((x, -3, -1)))
    return base


#: name → (how the plate is modelled, the model direction its pocket opens to)
POSES = {
    "lying": (lambda p: p, (0.0, 0.0, 1.0)),
    "standing_y": (lambda p: p.rotate((0, 0, 0), (1, 0, 0), 90), (0.0, -1.0, 0.0)),
    "standing_x": (lambda p: p.rotate((0, 0, 0), (0, 1, 0), 90), (1.0, 0.0, 0.0)),
    "upside_down": (lambda p: p.rotate((0, 0, 0), (1, 0, 0), 180), (0.0, 0.0, -1.0)),
    "standing_y_moved": (lambda p: p.rotate((0, 0, 0), (1, 0, 0), -90).translate((5, 7, 3)), (0.0, 1.0, 0.0)),
}


@pytest.fixture(scope="module")
def plates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orient")
    out = {}
    for name, (pose, up) in POSES.items():
        path = export_step(pose(_plate()), folder / f"plate_{name}.step", name=name)
        gen, result = generate(path, timestamp="2026-01-01T00:00:00Z")
        out[name] = (path, gen, result, up)
    return out


def _flat(text: str) -> str:
    """The header comments as one line (the post wraps long ones and drops parentheses)."""
    return " ".join(line[1:-1].strip() for line in text.splitlines() if line.startswith("("))


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("(")]


def _ops(gen):
    return [(su.index, op.name, op.kind, op.tool.cutter.id) for su in gen.program.setups for op in su.operations]


@pytest.mark.parametrize("name", [n for n in POSES if n != "lying"])
def test_the_same_plate_in_any_orientation_is_set_up_the_same(plates, name):
    _, lying, _, _ = plates["lying"]
    _, gen, _, up = plates[name]
    assert [su.approach for su in gen.program.setups] == [up]  # one setup, from the pocket's side
    assert _ops(gen) == _ops(lying)
    assert gen.total_seconds == pytest.approx(lying.total_seconds, rel=0.05)
    # the profile's tool reaches the plate's thickness, not its 10 or 16 mm width standing up
    prof = next(op for op in gen.program.setups[0].operations if op.name == "profile rough")
    assert prof.tool.cutter.reach_mm < 10.0
    assert gen.program.setups[0].part_top - gen.program.setups[0].part_bottom == pytest.approx(THICK, abs=1e-6)
    ver = gen.verification
    assert not ver.dropped and not ver.incomplete, (ver.dropped, ver.incomplete)
    removed = {fid: frac for sc in ver.setups for fid, frac in sc.removed}
    assert set(removed) == {"pocket-1", "slot-1", "hole-1", "hole-2", "hole-3"}
    assert min(removed.values()) >= 0.95, removed


def test_through_holes_measured_from_the_other_side_are_drilled_from_the_pocket_side(plates):
    _, gen, result, up = plates["standing_y"]
    holes = [f for f in result.bodies[0].features if f.kind == "hole"]
    assert holes and all(f.props["approach"] == [0.0, 1.0, 0.0] for f in holes)  # as the check measured them
    text = gen.files[0][1]
    assert "through feature[s] cut from their other end: hole-1, hole-2, hole-3" in text
    drills = [op for op in gen.program.setups[0].operations if op.kind == "drill"]
    su = gen.program.setups[0]
    for op in drills:  # each drill starts at the part top of the setup (the pocket side) at the hole's X/Y
        hole = next(f for f in holes if f.id == op.features[0])
        x, y, _ = turn_point(up, hole.location_mm)
        cyc = next(st for st in op.steps if hasattr(st, "peck"))
        assert (cyc.x, cyc.y) == pytest.approx((x, y), abs=1e-9)
        assert cyc.r == pytest.approx(su.part_top + gen.program.settings["retract_mm"], abs=1e-9)


@pytest.mark.rs274
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
@pytest.mark.parametrize("name", ["standing_x", "upside_down"])
def test_turned_programs_run_in_rs274(plates, name):
    _, gen, _, _ = plates[name]
    for _, text in gen.files:
        run = rs274.run(text, gen.program)
        assert run.ok, run.errors


def _two_faced() -> cq.Workplane:
    """A 16 x 10 x 2 plate with one pocket opening up (+Z) and two opening down (-Z)."""
    def pocket(w, h, d, at):
        return cq.Workplane("XY").box(w, h, d, centered=(True, True, False)).edges("|Z").fillet(0.5).translate(at)

    base = cq.Workplane("XY").box(16, 10, THICK, centered=(True, True, False))
    base = base.cut(pocket(4, 3, 0.8, (-4, 0, 1.2))).cut(pocket(4, 3, 0.8, (4, 0, 0)))
    return base.cut(pocket(3, 2, 0.5, (-3, 2, 0)))


@pytest.fixture(scope="module")
def two_faced(tmp_path_factory):
    path = export_step(_two_faced(), tmp_path_factory.mktemp("orient2") / "two_faced.step", name="two_faced")
    return (path, *generate(path, timestamp="2026-01-01T00:00:00Z"))


def test_features_on_two_opposite_faces_give_a_flip_with_a_setup_sheet(two_faced):
    _, gen, result = two_faced
    prog = gen.program
    # setup 1 from the side with more features (two pockets), then turned over for the third
    assert [su.approach for su in prog.setups] == [(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)]
    assert {op.features for op in prog.setups[1].operations} == {("pocket-1",)}
    first, flat = _flat(gen.files[0][1]), _flat(gen.files[1][1])
    assert "hold: stock 18.000 x 12.000 x 3.000 mm [program X x Y x Z], model -Z up, in the vise" in first
    assert "touch off the stock" in first and "its top at Z0.000" in first
    assert "after: the part stays on a 1.000 mm base of stock on its model +Z side" in first
    assert "setup 2 of 2: program X = model X, Y = model Y, Z = model Z" in flat
    assert "hold: the part turned over from setup 1: the model -Z face cut in setup 1 down on parallels" in flat
    assert "base setup 1 left on the model +Z side is on top now: saw it off and face the part to Z2.000" in flat
    assert ("touch off the part: its X- side [model -X] at X-8.000, its Y- side [model -Y] at Y-5.000, the parallels "
            "under it at Z0.000") in flat
    # the sheet is in the result's cam summary and in the HTML report's plan section
    sheets = [su["sheet"] for su in result.cam["setups"]]
    assert sheets[1][0].startswith("SETUP 2 of 2: tool from model +Z")
    from dfm.report import html

    page = html.render_html(result)
    assert "<h3>Setup sheet</h3>" in page and "SETUP 2 of 2: tool from model +Z" in page
    assert "touch off the part" in page


def test_the_flip_is_the_same_whichever_way_the_part_was_modelled(two_faced, tmp_path):
    _, gen, _ = two_faced
    path = export_step(_two_faced().rotate((0, 0, 0), (0, 1, 0), 90), tmp_path / "two_faced_x.step")
    turned, _ = generate(path)
    assert [su.approach for su in turned.program.setups] == [(-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)]
    assert _ops(turned) == _ops(gen)
    assert turned.total_seconds == pytest.approx(gen.total_seconds, rel=0.05)


def test_spindle_dwell_and_coolant_come_from_the_machine_settings(plates):
    path, gen, _, _ = plates["lying"]
    assert not [line for line in _body(gen.files[0][1]) if line.startswith(("G4", "M7", "M8", "M9"))]
    assert "no dwell after M3 [spindle_ramp_s = 0: not set" in _flat(gen.files[0][1])
    wet, _ = generate(path, overrides={"spindle_ramp_s": "2.5", "coolant_m": "8"})
    body = _body(wet.files[0][1])
    starts = [i for i, line in enumerate(body) if line.endswith(" M3")]
    assert starts and all(body[i + 1] == "G4 P2.50" and body[i + 2] == "M8" for i in starts[:1])
    assert all(body[i + 1] == "G4 P2.50" for i in starts)
    stops = [i for i, line in enumerate(body) if line == "M5"]
    assert stops and all(body[i - 1] == "M9" for i in stops)
    # each start of the spindle waits 2.5 s: the cycle time says so
    assert wet.total_seconds == pytest.approx(gen.total_seconds + 2.5 * len(starts), abs=0.2)
    fanuc = render(wet.program, "fanuc", wet.verification).files[0][1]
    assert "G4 X2.50" in fanuc  # a Fanuc reads G04 P as milliseconds
    if rs274.available():
        for post in ("linuxcnc", "grbl"):
            run = rs274.run(render(wet.program, post, wet.verification).files[0][1], wet.program)
            assert run.ok, run.errors
            assert "DWELL(2.5000)" in run.canon and "FLOOD_ON()" in run.canon


def test_coolant_setting_takes_only_the_codes_a_post_writes():
    from dfm.cam import data

    with pytest.raises(UsageError, match="must be 0 \\(none\\), 7"):
        data.load_settings(overrides={"coolant_m": "5"})
    with pytest.raises(UsageError):
        data.load_settings(overrides={"spindle_ramp_s": "-1"})
    assert data.COOLANT_CODES["air"] == 7.0 and data.COOLANT_CODES["flood"] == 8.0


# --- the choice itself (pure) -------------------------------------------------------------------

def _hole(fid, loc, approach, *, through=True, stack=()):
    return Feature(fid, "hole", (11,), {"diameter_mm": 1.0, "depth_mm": 2.0},
                   {"through": through, "approach": list(approach), "stack": list(stack), "drill_depth_mm": 2.0},
                   loc, approach)


def _pocket(fid, approach, top):
    return Feature(fid, "pocket", (20,), {"width_mm": 2.0, "depth_mm": 0.5},
                   {"approach": list(approach), "through": False, "top_z_mm": top, "floor_z_mm": top - 0.5,
                    "outline": [[0, 0], [2, 0], [2, 2], [0, 2]]}, None, approach)


def test_choose_prefers_fewest_setups_then_the_shortest_reach():
    box = ((0.0, 0.0, 0.0), (20.0, 10.0, 2.0))
    feats = [_pocket("pocket-1", (0.0, 0.0, -1.0), 0.0), _hole("hole-1", (5.0, 5.0, 2.0), (0.0, 0.0, 1.0))]
    ch = orient.choose(feats, bbox_min=box[0], bbox_max=box[1])
    assert ch.order == ((0.0, 0.0, -1.0),) and ch.flipped == ("hole-1",)
    hole = next(f for f in ch.features if f.id == "hole-1")
    assert hole.props["approach"] == [0.0, 0.0, -1.0] and hole.location_mm == (5.0, 5.0, 0.0)
    # a counterbored through hole keeps its side: two setups, the larger planar face down breaks no tie here
    cb = _hole("hole-1", (5.0, 5.0, 2.0), (0.0, 0.0, 1.0), stack=({"kind": "counterbore"},))
    ch = orient.choose([feats[0], cb], bbox_min=box[0], bbox_max=box[1])
    assert set(ch.order) == {(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)} and not ch.flipped
    # only a side hole along X: one setup from +X (fewest setups) if an end mill reaches 20 mm, else +Z first
    side = [_hole("hole-2", (20.0, 5.0, 1.0), (1.0, 0.0, 0.0), through=False)]
    assert orient.choose(side, bbox_min=box[0], bbox_max=box[1]).order == ((1.0, 0.0, 0.0),)
    short = orient.choose(side, bbox_min=box[0], bbox_max=box[1], profile_reaches=lambda d: d <= 8.0)
    assert short.order == ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0))


def test_choose_keeps_a_round_part_upright():
    """A cylinder standing along Z with a cross hole along X: profiled from Z (2.5D), not from the side."""
    faces = [orient.FaceFact(1, "cylinder", 100.0, None, (0.0, 0.0, 1.0)),
             orient.FaceFact(2, "plane", 20.0, (0.0, 0.0, 1.0)), orient.FaceFact(3, "plane", 20.0, (0.0, 0.0, -1.0))]
    side = [_hole("hole-1", (3.0, 0.0, 5.0), (1.0, 0.0, 0.0), through=False)]
    ch = orient.choose(side, bbox_min=(-3.0, -3.0, 0.0), bbox_max=(3.0, 3.0, 10.0), faces=faces)
    assert ch.order == ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0))  # two setups rather than a box-shaped profile
    assert "not from +X, -X, +Y, -Y: more than 10 % more of the outside is not 2.5D from there" in ch.reasons


def test_a_few_edge_rounds_do_not_stand_a_plate_on_its_end():
    """Rounds along the plate's top edges are 2.5D only from their own axes; one setup from +Z still wins."""
    faces = [orient.FaceFact(1, "plane", 160.0, (0.0, 0.0, 1.0)), orient.FaceFact(2, "plane", 160.0, (0.0, 0.0, -1.0)),
             orient.FaceFact(3, "plane", 32.0, (0.0, 1.0, 0.0)), orient.FaceFact(4, "plane", 32.0, (0.0, -1.0, 0.0)),
             orient.FaceFact(5, "plane", 20.0, (1.0, 0.0, 0.0)), orient.FaceFact(6, "plane", 20.0, (-1.0, 0.0, 0.0)),
             orient.FaceFact(7, "cylinder", 4.0, None, (1.0, 0.0, 0.0)),
             orient.FaceFact(8, "cylinder", 4.0, None, (1.0, 0.0, 0.0)),
             orient.FaceFact(9, "cylinder", 2.5, None, (0.0, 1.0, 0.0)),
             orient.FaceFact(10, "cylinder", 2.5, None, (0.0, 1.0, 0.0))]
    feats = [_pocket("pocket-1", (0.0, 0.0, 1.0), 2.0)]
    ch = orient.choose(feats, bbox_min=(-8.0, -5.0, 0.0), bbox_max=(8.0, 5.0, 2.0), faces=faces)
    assert ch.order == ((0.0, 0.0, 1.0),)
    assert "13 mm² of the outside (3 %) is not 2.5D from +Z" in ch.reasons[1]


def test_a_flipped_feature_is_the_same_feature_seen_from_its_other_end():
    f = Feature("slot-1", "slot", (3,), {"width_mm": 1.0, "depth_mm": 2.0},
                {"approach": [0.0, -1.0, 0.0], "through": True, "top_z_mm": 0.0, "frame_u": [1.0, 0.0, 0.0],
                 "frame_v": [0.0, 0.0, 1.0], "outline": [[1.0, 2.0], [4.0, 2.0], [4.0, 3.0], [1.0, 3.0]]},
                (2.5, 0.0, 2.5), (0.0, -1.0, 0.0))
    g = orient.flipped(f)
    assert g.props["approach"] == [0.0, 1.0, 0.0] and g.props["top_z_mm"] == pytest.approx(2.0)
    u, v = g.props["frame_u"], g.props["frame_v"]
    cross = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    assert cross == pytest.approx((0.0, 1.0, 0.0))  # u x v is the new approach
    for p, q in zip(f.props["outline"], g.props["outline"], strict=True):  # the same points in space
        a = [p[0] * f.props["frame_u"][i] + p[1] * f.props["frame_v"][i] for i in range(3)]
        b = [q[0] * u[i] + q[1] * v[i] for i in range(3)]
        assert a == pytest.approx(b)
    back = orient.flipped(g)
    assert back.props["outline"] == f.props["outline"] and back.props["top_z_mm"] == pytest.approx(0.0)


def test_operations_follow_the_tool_and_keep_each_features_order(plates):
    _, gen, _, _ = plates["lying"]
    ops = gen.program.setups[0].operations
    assert [op.name for op in ops[:2]] == ["profile rough", "profile finish"]  # the outside first
    changes = sum(1 for a, b in zip(ops, ops[1:], strict=False) if a.tool.number != b.tool.number) + 1
    assert changes == len({op.tool.number for op in ops})  # each tool loaded once
    assert [op.name for op in by_type(list(reversed(ops)))[:2]] == ["profile rough", "profile finish"]
    names = [op.name for op in ops]
    for fid in ("pocket-1", "slot-1"):
        assert names.index(f"{fid} rough") < names.index(f"{fid} finish")
    assert not math.isnan(gen.total_seconds)



def test_one_tool_per_size():
    """Operations on a shorter twin (same kind, Ø, flutes) run on the longest one loaded; tools renumbered."""
    from dfm.cam import data
    from dfm.cam.model import CuttingData, Operation, Setup, Tool
    from dfm.cam.program import one_tool_per_size

    cat = {c.id: c for c in data.load_catalogue()}
    short, long_, other = Tool(1, cat["MHR230-0.8x3"]), Tool(2, cat["MHR230-2.5x8"]), Tool(3, cat["MHR230-0.8x4"])
    cd = CuttingData(rpm=60000, feed_mm_min=500.0, fz_mm=0.005, ap_mm=0.16, ae_mm=0.02)

    def op(name, tool):
        return Operation(name, "finish-wall", (name.split()[0],), tool, cd, ())

    su1 = Setup(1, (0.0, 0.0, 1.0), "", (0, 0, 0), (1, 1, 1), 1.0, (op("pocket-1 finish", short),
                                                                   op("pocket-2 rough", long_)))
    su2 = Setup(2, (0.0, 0.0, -1.0), "", (0, 0, 0), (1, 1, 1), 1.0, (op("pocket-3 finish", other),))
    setups, tools = one_tool_per_size([su1, su2], [short, long_, other])
    assert [t.cutter.id for t in tools] == ["MHR230-0.8x4", "MHR230-2.5x8"] and [t.number for t in tools] == [1, 2]
    ids = [(o.name, o.tool.number, o.tool.cutter.id) for su in setups for o in su.operations]
    assert ids == [("pocket-1 finish", 1, "MHR230-0.8x4"), ("pocket-2 rough", 2, "MHR230-2.5x8"),
                   ("pocket-3 finish", 1, "MHR230-0.8x4")]
    assert setups[0].operations[0].notes == ("MHR230-0.8x4 (reach 4) instead of its shorter twin MHR230-0.8x3: "
                                             "one tool per size",)
    assert setups[0].operations[0].cutting == cd  # the same feeds: twins differ only in reach


def test_a_through_slot_is_cut_from_the_side_setup_1_works_from(tmp_path):
    """A blind pocket opens down (-Z); a through slot and a through hole, measured from +Z, join its setup."""
    block = cq.Workplane("XY").box(16, 10, 3, centered=(True, True, False))
    slot = cq.Workplane("XY").workplane(offset=-1).center(-3, 1).slot2D(5, 1.6).extrude(5)
    pocket = cq.Workplane("XY").box(4, 3, 1, centered=(True, True, False)).edges("|Z").fillet(0.5).translate((4, 0, 0))
    hole = cq.Workplane("XY").workplane(offset=-1).center(-3, -3).circle(0.5).extrude(5)
    part = block.cut(slot).cut(pocket).cut(hole)
    gens = {}
    for name, pose in (("lying", part), ("standing", part.rotate((0, 0, 0), (1, 0, 0), 90))):
        gens[name], result = generate(export_step(pose, tmp_path / f"through_{name}.step"))
        kinds = {f.id: (f.kind, f.props.get("through")) for f in result.bodies[0].features
                 if f.kind in ("slot", "hole", "pocket")}
        assert kinds == {"slot-1": ("slot", True), "hole-1": ("hole", True), "pocket-1": ("pocket", False)}
    lying, standing = gens["lying"], gens["standing"]
    assert [su.approach for su in lying.program.setups] == [(0.0, 0.0, -1.0)]
    assert [su.approach for su in standing.program.setups] == [(0.0, 1.0, 0.0)]
    assert _ops(lying) == _ops(standing)
    assert standing.total_seconds == pytest.approx(lying.total_seconds, rel=0.05)
    for gen in (lying, standing):
        removed = {fid: frac for sc in gen.verification.setups for fid, frac in sc.removed}
        assert not gen.verification.dropped and min(removed.values()) >= 0.95, removed
        assert set(removed) == {"slot-1", "hole-1", "pocket-1"}


def test_a_machine_profile_sets_the_dwell_and_the_coolant(tmp_path, monkeypatch):
    from dfm.cam import data
    from dfm.errors import RuleError

    folder = tmp_path / "profiles" / "machine"
    folder.mkdir(parents=True)
    (folder / "shop.toml").write_text('kind = "machine"\nname = "shop"\n[vars]\nmax_rpm = "40000 rpm"\n'
                                      'edge_radius_mm = "2 um"\nspindle_ramp_s = "4 s"\ncoolant = "air"\n')
    monkeypatch.setattr(data, "rules_dir", lambda: tmp_path)
    s = data.load_settings("shop")
    assert s["spindle_ramp_s"] == 4.0 and s["coolant_m"] == 7.0
    assert s.source["coolant_m"] == "rules/profiles/machine/shop.toml"
    (folder / "shop.toml").write_text('kind = "machine"\nname = "shop"\n[vars]\nmax_rpm = "40000 rpm"\n'
                                      'edge_radius_mm = "2 um"\ncoolant = "oil"\n')
    with pytest.raises(RuleError, match="vars.coolant"):
        data.load_settings("shop")


def test_a_step_goes_to_setup_1_whose_profile_cuts_it(tmp_path):
    """Two pockets open up, a step across the bottom end opens down: setup 1 works from below, where the
    outside profile cuts the step whole; the pockets follow turned over (a later setup has no profile)."""
    def pocket(w, at):
        return cq.Workplane("XY").box(w, 3, 1, centered=(True, True, False)).edges("|Z").fillet(0.5).translate(at)

    part = (cq.Workplane("XY").box(16, 10, 3, centered=(True, True, False)).cut(pocket(4, (-4, 0, 2)))
            .cut(pocket(3, (3, 0, 2))).cut(cq.Workplane("XY").box(4, 10, 1, centered=(True, True, False))
                                           .translate((6, 0, 0))))
    gen, result = generate(export_step(part, tmp_path / "step_below.step"))
    steps = [f.id for f in result.bodies[0].features if f.kind == "step"]
    assert steps and [su.approach for su in gen.program.setups] == [(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)]
    prof = next(op for op in gen.program.setups[0].operations if op.name == "profile rough")
    assert set(steps) <= set(prof.features)
    assert not gen.verification.dropped and not gen.verification.incomplete
    assert "2 setups in all" in " ".join(result.cam["setups"][0]["sheet"])
