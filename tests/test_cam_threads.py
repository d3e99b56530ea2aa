"""Helical thread milling: the thread-mill catalogue kind, the tool pick, the helix, its feeds,
and, on a generator part with threads called out in its spec, a program that rs274 runs and
that cuts the thread to its major diameter and nowhere else."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from dfm.cam import data, feeds, rs274, sim, strategies
from dfm.cam.data import Cutter
from dfm.cam.gcode import generate, part_geometry, section_fn
from dfm.cam.model import Arc, DrillCycle, Feed, Rapid
from dfm.errors import RuleError
from dfm.resources import rules_dir
from dfm.tooling.catalogue import load_file
from dfm.tooling.threadmill import ThreadJob, pick_thread_mill

CRIB = """
[[series]]
id = "crib-thread-mills"
vendor = "shop crib"
name = "Single-profile 60 deg thread mills"
kind = "thread-mill"
flutes = 3
profile_angle_deg = 60.0
source = "test crib (dfm tests): not vendor data"

[[series.tool]]
id = "TM-0.70"
diameter_mm = 0.7
flute_length_mm = 0.35
reach_mm = 4.0
neck_diameter_mm = 0.45
pitch_min_mm = 0.2
pitch_max_mm = 0.35

[[series.tool]]
id = "TM-1.00"
diameter_mm = 1.0
flute_length_mm = 0.5
reach_mm = 4.0
neck_diameter_mm = 0.6
pitch_min_mm = 0.25
pitch_max_mm = 0.5

[[series.tool]]
id = "TM-1.20"
diameter_mm = 1.2
flute_length_mm = 0.6
reach_mm = 4.0
neck_diameter_mm = 0.7
pitch_min_mm = 0.4
pitch_max_mm = 0.5
"""

SPEC = """
[[thread]]
select = { diameter_mm = 1.25 }
designation = "M1.6x0.35"
length_mm = 1.5

[[thread]]
select = { diameter_mm = 1.0 }
designation = "M1.2x0.25"
"""


def _mill(**kw) -> Cutter:
    base = dict(id="tm", kind="thread-mill", diameter_mm=1.0, reach_mm=4.0, flutes=3, corner_radius_mm=0.0,
                point_angle_deg=None, series="s", source="x", file="f.toml", flute_length_mm=0.5,
                neck_diameter_mm=0.6, pitch_min_mm=0.25, pitch_max_mm=0.5)
    base.update(kw)
    return Cutter(**base)


# --- catalogue ----------------------------------------------------------------------------

def test_crib_thread_mills_load(tmp_path):
    p = tmp_path / "tm.toml"
    p.write_text(CRIB)
    tools = load_file(p)
    assert [(t.id, t.kind, t.pitch_min_mm, t.pitch_max_mm, t.teeth) for t in tools] == [
        ("TM-0.70", "thread-mill", 0.2, 0.35, 1), ("TM-1.00", "thread-mill", 0.25, 0.5, 1),
        ("TM-1.20", "thread-mill", 0.4, 0.5, 1)]
    assert tools[1].label() == "Ø1 thread mill P0.25–0.5 × 4 mm reach (TM-1.00)"


@pytest.mark.parametrize("row, fragment", [
    ('id = "a"\ndiameter_mm = 1.0\n', "needs pitch_mm"),
    ('id = "a"\ndiameter_mm = 1.0\npitch_mm = 0.35\npitch_min_mm = 0.3\npitch_max_mm = 0.4\n', "not both"),
    ('id = "a"\ndiameter_mm = 1.0\npitch_min_mm = 0.4\npitch_max_mm = 0.3\n', "is above pitch_max_mm"),
    ('id = "a"\ndiameter_mm = 1.0\npitch_min_mm = 0.3\npitch_max_mm = 0.4\nteeth = 3\n', "ground for one pitch"),
    ('id = "a"\ndiameter_mm = 1.0\npitch_mm = 0.35\ncorner_radius_mm = 0.0\n', "have no corner radius"),
    ('id = "a"\ndiameter_mm = 1.0\npitch_mm = 0.0\n', "must be > 0"),
])
def test_bad_thread_mill_rows_are_named(tmp_path, row, fragment):
    p = tmp_path / "tm.toml"
    p.write_text('[[series]]\nid = "s"\nvendor = "v"\nname = "n"\nkind = "thread-mill"\nsource = "x"\n'
                 f"[[series.tool]]\n{row}")
    with pytest.raises(RuleError, match=fragment):
        load_file(p)


def test_pitch_on_an_end_mill_is_an_error(tmp_path):
    p = tmp_path / "em.toml"
    p.write_text('[[series]]\nid = "s"\nvendor = "v"\nname = "n"\nkind = "square"\nsource = "x"\n'
                 '[[series.tool]]\nid = "a"\ndiameter_mm = 1.0\ncorner_radius_mm = 0.0\npitch_mm = 0.35\n')
    with pytest.raises(RuleError, match="only thread mills have pitch_mm"):
        load_file(p)


def test_cam_reads_a_tools_folder_with_thread_mills(tmp_path):
    for f in (rules_dir() / "tools").glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "tm.toml").write_text(CRIB)
    cat = data.load_catalogue(tmp_path)
    mills = [c for c in cat if c.kind == "thread-mill"]
    assert [(c.id, c.neck_diameter_mm, c.pitch_min_mm, c.file) for c in mills] == [
        ("TM-0.70", 0.45, 0.2, str(tmp_path / "tm.toml")), ("TM-1.00", 0.6, 0.25, str(tmp_path / "tm.toml")),
        ("TM-1.20", 0.7, 0.4, str(tmp_path / "tm.toml"))]
    assert not [c for c in data.load_catalogue() if c.kind == "thread-mill"]  # none shipped (no sourced table)


# --- the pick -----------------------------------------------------------------------------

def _job(**kw) -> ThreadJob:
    base = dict(major=1.6, pitch=0.35, bore=1.25, bore_top=0.0, tip_depth=1.5, full_length=1.0625, length=1.0625)
    base.update(kw)
    return ThreadJob(**base)


def test_pick_takes_the_largest_mill_that_fits_and_says_why_others_do_not():
    cat = [_mill(id="small", diameter_mm=0.7, neck_diameter_mm=0.45),
           _mill(id="big", diameter_mm=1.0, neck_diameter_mm=0.6),
           _mill(id="too-big", diameter_mm=1.24, neck_diameter_mm=0.8),
           _mill(id="fine", diameter_mm=0.9, pitch_min_mm=0.1, pitch_max_mm=0.2),
           _mill(id="short", diameter_mm=0.95, reach_mm=1.0),
           _mill(id="fat-neck", diameter_mm=1.1, neck_diameter_mm=0.9)]
    got, why = pick_thread_mill(cat, _job(), reach=1.5, clearance=0.01)
    assert got is not None and got.id == "big"
    text = "; ".join(why)
    assert "too-big: Ø1.24 does not enter the Ø1.25 bore" in text
    assert "fine: pitch range does not hold P0.35" in text
    assert "short: reach 1.0 mm < 1.5 mm" in text
    assert "fat-neck: its neck (Ø0.9) would rub the thread crests" in text
    # the neck limit is exact: helix R = 0.8 - 0.55 = 0.25; R + neck/2 <= 0.625 - 0.01 -> neck <= 0.73
    ok, _ = pick_thread_mill([_mill(diameter_mm=1.1, neck_diameter_mm=0.73)], _job(), reach=1.5, clearance=0.01)
    bad, _ = pick_thread_mill([_mill(diameter_mm=1.1, neck_diameter_mm=0.7301)], _job(), reach=1.5, clearance=0.01)
    assert ok is not None and bad is None
    # no neck given: only a toothed length over the whole cut (1.5 mm) plus a pitch clears the crests
    teeth = dict(neck_diameter_mm=None, pitch_min_mm=0.35, pitch_max_mm=0.35)
    assert pick_thread_mill([_mill(flute_length_mm=1.85, **teeth)], _job(), reach=1.5, clearance=0.01)[0]
    assert not pick_thread_mill([_mill(flute_length_mm=1.84, **teeth)], _job(), reach=1.5, clearance=0.01)[0]


def test_thread_job_depths():
    from dfm.model import Feature
    from dfm.tooling.threadmill import ThreadError, thread_job, through_extra

    thread = Feature("t", "thread", (), {"major_diameter_mm": 1.6, "pitch_mm": 0.35, "length_mm": 1.5}, {})
    blind = Feature("h", "hole", (), {"diameter_mm": 1.25, "depth_mm": 2.0}, {"through": False})
    job = thread_job(thread, blind, breakthrough=0.05, clearance=0.01)
    assert job.tip_depth == pytest.approx(1.5 + 1.25 * 0.35) and job.full_length == 1.5
    shallow = Feature("h", "hole", (), {"diameter_mm": 1.25, "depth_mm": 1.7}, {"through": False})
    job = thread_job(thread, shallow, breakthrough=0.05, clearance=0.01)
    assert job.tip_depth == pytest.approx(1.69) and job.full_length == pytest.approx(1.69 - 0.4375)
    through = Feature("h", "hole", (), {"diameter_mm": 1.0, "depth_mm": 2.5},
                      {"through": True, "drill_depth_mm": 3.0,
                       "stack": [{"kind": "counterbore", "diameter_mm": 1.8, "depth_mm": 0.5}]})
    t12 = Feature("t", "thread", (), {"major_diameter_mm": 1.2, "pitch_mm": 0.25}, {})
    # length = the bore's 2.5 below the counterbore. Drilled only to the breakthrough, the tip stops
    # 0.01 above the bore's end and the last turn is incomplete...
    job = thread_job(t12, through, breakthrough=0.05, clearance=0.01)
    assert job.bore_top == 0.5 and job.tip_depth == pytest.approx(3.04) and job.limited
    assert job.full_length == pytest.approx(3.04 - 1.25 * 0.25 - 0.5)
    # ...so the hole is cut deeper by through_extra, and then the thread is full to the exit
    extra = through_extra(t12, through, breakthrough=0.05, clearance=0.01)
    assert extra == pytest.approx(0.5 + 2.5 + 1.25 * 0.25 + 0.01 - 3.0 - 0.05)
    job = thread_job(t12, through, breakthrough=0.05, clearance=0.01, extra=extra)
    assert job.tip_depth == pytest.approx(3.0 + 1.25 * 0.25) and not job.limited and job.full_length == 2.5
    assert through_extra(t12, blind, breakthrough=0.05, clearance=0.01) == 0.0
    with pytest.raises(ThreadError, match="too shallow"):
        thread_job(thread, Feature("h", "hole", (), {"diameter_mm": 1.25, "depth_mm": 0.4}, {}),
                   breakthrough=0.05, clearance=0.01)
    with pytest.raises(ThreadError, match="not larger than"):
        thread_job(Feature("t", "thread", (), {"major_diameter_mm": 1.0, "pitch_mm": 0.25}, {}), through,
                   breakthrough=0.05, clearance=0.01)


# --- the helix ----------------------------------------------------------------------------

def _walk(steps):
    pos = None
    for s in steps:
        if isinstance(s, Rapid | Feed | Arc):
            yield pos, s
            pos = (s.x, s.y, s.z)


@pytest.mark.parametrize("right", [True, False])
def test_helix_climbs_one_pitch_per_turn_within_the_thread(right):
    x, y, p = 2.0, -1.0, 0.35
    radii = [0.2125, 0.3]
    steps = strategies.thread_mill(x, y, radii=radii, pitch=p, z_low=1.5, z_top=3.0, right_hand=right,
                                   retract_z=3.5)
    zs = [s.z for s in steps if isinstance(s, Feed | Arc)]
    assert min(zs) == pytest.approx(1.5, abs=1e-12)
    arcs = [(a, s) for a, s in _walk(steps) if isinstance(s, Arc)]
    assert arcs and all(s.ccw for _, s in arcs)  # climb inside the bore with an M3 spindle
    turns = [(a, s) for a, s in arcs if (s.cx, s.cy) == (x, y)]
    for a, s in turns:  # whole turns about the axis, one pitch each, up for a right-hand thread
        assert math.dist(a[:2], (s.x, s.y)) < 1e-12
        assert s.z - a[2] == pytest.approx(p if right else -p, abs=1e-12)
    for rad in radii:
        ring = [(a, s) for a, s in turns if abs(math.hypot(s.x - x, s.y - y) - rad) < 1e-12]
        lo = min(min(a[2], s.z) for a, s in ring)
        hi = max(max(a[2], s.z) for a, s in ring)
        assert lo == pytest.approx(1.5 + p / 4)
        assert hi + p / 4 >= 3.0 - 1e-12  # the tip leaves the bore's top
        assert hi - lo == pytest.approx(4 * p)  # whole turns: ceil((3.0 - 1.5 - 2 leads of p/4) / p) = 4
    # every lead-in and lead-out is a half circle between the axis and the helix, tangent to it
    leads = [(a, s) for a, s in arcs if (s.cx, s.cy) != (x, y)]
    assert len(leads) == 2 * len(radii)
    for a, s in leads:
        assert {round(math.hypot(a[0] - x, a[1] - y), 9), round(math.hypot(s.x - x, s.y - y), 9)} - {0.0} <= {
            round(r, 9) for r in radii}
    assert isinstance(steps[-1], Rapid) and steps[-1].z == 3.5


def test_circular_engagement_is_the_internal_circular_interpolation_formula():
    # ae = (Dm^2 - Dw^2) / (4 (Dm - Dc)) for internal circular milling, Dm the diameter after the pass
    for dc, dw, dm in [(1.0, 1.25, 1.425), (1.0, 1.425, 1.6), (0.7, 1.0, 1.2), (3.0, 4.0, 6.0)]:
        got = feeds.circular_engagement(dc / 2, dm / 2 - dc / 2, dw / 2)
        assert got == pytest.approx((dm ** 2 - dw ** 2) / (4 * (dm - dc)), rel=1e-12)
    assert feeds.circular_engagement(0.5, 0.3, 0.8) == 0.0  # the pass cuts nothing


# --- on a part ----------------------------------------------------------------------------

GRID_MM = 0.02


@pytest.fixture(scope="module")
def threaded(make_part, tmp_path_factory):
    work = tmp_path_factory.mktemp("threads")
    src = make_part("cam_holes_block", "holes_block")
    part = work / "holes.step"
    shutil.copy(src, part)
    (work / "holes.dfm.toml").write_text(SPEC)
    tools = work / "tools"
    tools.mkdir()
    for f in (rules_dir() / "tools").glob("*.toml"):
        shutil.copy(f, tools / f.name)
    (tools / "thread-mills.toml").write_text(CRIB)
    gen, result = generate(part, tools=tools)
    return part, gen, result


def test_threads_are_milled_with_the_mill_that_fits(threaded):
    _, gen, result = threaded
    su = gen.program.setups[0]
    ops = {op.name: op for op in su.operations}
    assert ops["thread-spec-1 thread"].tool.cutter.id == "TM-1.00"  # M1.6 in the Ø1.25 bore
    assert ops["thread-spec-2 thread"].tool.cutter.id == "TM-0.70"  # M1.2 in the Ø1.0 bore: 1.0 does not enter
    names = [op.name for op in su.operations]
    for n, hole in (("thread-spec-1 thread", "hole-2"), ("thread-spec-2 thread", "hole-4")):
        assert any(hole in op.features for op in su.operations[:names.index(n)])  # the bore is cut first
    assert not [u for u in su.unmachined if u[0].startswith("thread")]
    # the thread mill never goes below what its hole's own operations cut to full diameter (a
    # feed down the axis into uncut stock would break it)
    from dfm.tooling.select import point_length

    def lowest(op):
        return min(st.z for st in op.steps if isinstance(st, Rapid | Feed | Arc))

    for n, hole in (("thread-spec-1 thread", "hole-2"), ("thread-spec-2 thread", "hole-4")):
        cut = [op for op in su.operations if hole in op.features and op.kind != "thread-mill"]
        full = []
        for op in cut:
            drills = [st for st in op.steps if isinstance(st, DrillCycle)]
            if drills:  # a drill is full size only above its point
                c = op.tool.cutter
                full.append(drills[0].z + point_length(c.diameter_mm, c.point_angle_deg))
            else:
                full.append(lowest(op))
        assert lowest(ops[n]) >= min(full) - 1e-9, (n, lowest(ops[n]), full)
    text = gen.files[0][1]
    assert "thread M1.6x0.35 [spec]: major" in text and "G3" in text
    tbl = gen.tool_table
    assert "thread-mill TM-1.00" in tbl and "thread-mill TM-0.70" in tbl
    # the thread mills are the ones the check recommends (the part's tool set, role "thread")
    recommended = {fid: t.id for t in result.bodies[0].tools if t.role == "thread" for fid in t.features}
    assert recommended == {"thread-spec-1": "TM-1.00", "thread-spec-2": "TM-0.70"}
    ops_json = result.cam["setups"][0]["operations"]
    assert {o["kind"] for o in ops_json} >= {"thread-mill"}


def _check_threads_in_rs274(path, gen, result, expect_zones, bores, *, bare_gouges=True):
    """rs274 runs the program; simulated, it cuts each thread to its major diameter over its
    full length and nothing of the part outside the threads' zones."""
    prog = gen.program
    su = prog.setups[0]
    run = rs274.run(gen.files[0][1], prog)
    assert run.ok, run.errors
    radii = {t.number: t.radius for t in prog.tools}
    moves = sim.moves_from_canon(run.canon, radii)
    _, solid = part_geometry(path)
    from dfm.kernel import sampling

    body = result.bodies[0]
    bottom = body.bbox_min_mm[2]
    zones = sorted(sim.thread_zones(body.features), key=lambda z: z.radius)
    assert [(round(z.radius, 4), round(z.z_bottom, 6), round(z.z_full, 4)) for z in zones] == expect_zones
    grid = sim.grid_for(su.stock_min, su.stock_max, GRID_MM)
    part = sampling.height_field(solid, grid.x0, grid.y0, grid.step, grid.nx, grid.ny)
    if bare_gouges:  # the check can fail: against the bare bore the thread mill cuts into the part
        bare = sim.new_simulation(grid, su.stock_min, su.stock_max, part).run(moves)
        assert any(v.kind == "gouge" for v in bare.violations)
    threadless = sim.cut_thread_zones(part, grid, zones, bottom)
    s = sim.new_simulation(grid, su.stock_min, su.stock_max, threadless).run(moves)
    assert not s.violations, s.violations[:5]
    side = sim.lateral_gouges(moves, sim.threaded_section(section_fn(solid), zones), part_top=su.part_top,
                              spacing=0.01)
    assert not side, side[:5]
    # the thread is cut to its full major diameter over its whole length (column model: the
    # annulus between the bore and the major diameter is down to the thread's bottom)
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    for z, bore in zip(zones, bores, strict=True):
        rho = np.hypot(cx - z.x, cy - z.y)
        ring = (rho > bore + GRID_MM) & (rho < z.radius - 0.005)
        assert ring.any()
        assert float(s.height[ring].max()) <= max(z.z_full, bottom - 0.05) + 1e-3, z


@pytest.mark.rs274
@pytest.mark.slow
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
def test_thread_program_runs_in_rs274_and_cuts_only_the_thread(threaded):
    path, gen, result = threaded
    # M1.2 through (under the counterbore); M1.6 x 1.5 in a 2 deep bore
    _check_threads_in_rs274(path, gen, result, [(0.6, -math.inf, 0.0), (0.8, 1.0, 1.5)], (0.5, 0.625))


@pytest.mark.rs274
@pytest.mark.slow
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
def test_modelled_internal_thread_is_milled(make_part, threaded):
    """A tapped hole modelled with its helical groove: found as M2x0.4, milled with the mill that fits."""
    path = make_part("cam_m2_tapped", "threaded_hole", major=2.0, pitch=0.4, length=3.0, bore_depth=3.5)
    tools = threaded[0].parent / "tools"
    gen, result = generate(path, tools=tools)
    su = gen.program.setups[0]
    (op,) = [op for op in su.operations if op.kind == "thread-mill"]
    assert op.tool.cutter.id == "TM-1.20"  # TM-1.00's neck would rub the crests; TM-0.70 is too fine
    assert not [u for u in su.unmachined if u[0].startswith("thread")]
    length = result.bodies[0].features[[f.kind for f in result.bodies[0].features].index("thread")].dims["length_mm"]
    assert 3.0 - 0.4 <= length <= 3.0  # the generator's 3 mm groove, less its run-out (under a pitch)
    minor = 2.0 - 1.082532 * 0.4
    _check_threads_in_rs274(path, gen, result, [(1.0, 0.5, round(4.0 - length, 4))], (minor / 2,),
                            bare_gouges=False)


def test_without_a_thread_mill_the_thread_is_listed_not_dropped(threaded, tmp_path):
    path, _, _ = threaded
    gen, _ = generate(path)  # the shipped catalogue: no thread mills
    un = dict(gen.program.setups[0].unmachined)
    assert "no thread mill in the tool catalogue" in un["thread-spec-1"]
    assert "thread M1.2x0.25" in un["thread-spec-2"]
    assert "NOT MACHINED thread-spec-1" in gen.files[0][1]


def test_cli_gcode_takes_the_spec_and_a_tools_folder(threaded, tmp_path, capsys):
    from dfm.cli import main

    path, _, _ = threaded
    part = tmp_path / "plain.step"  # no PART.dfm.toml beside it: the threads come from --spec
    shutil.copy(path, part)
    spec = tmp_path / "threads.toml"
    spec.write_text(SPEC)
    tools = path.parent / "tools"
    out = tmp_path / "p.ngc"
    assert main(["gcode", str(part), "-o", str(out), "--tools", str(tools), "--spec", str(spec)]) in (0, 1)
    text = out.read_text()
    assert "thread-spec-1 thread: thread-mill, T" in text and "thread-spec-2 thread: thread-mill" in text
    assert main(["gcode", str(part), "-o", str(out), "--tools", str(tools)]) in (0, 1)
    assert "thread-mill" not in out.read_text()  # a tap-drill hole is only a candidate thread
    capsys.readouterr()
    assert main(["gcode", str(part), "-o", str(out), "--set", "thread_passes=1.5"]) == 2
    assert "thread_passes: '1.5' must be a whole number" in capsys.readouterr().err


@pytest.mark.rs274
@pytest.mark.parametrize("post", ["fanuc", "grbl"])
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
def test_thread_program_in_other_posts_runs_in_rs274(threaded, post):
    from dfm.cam.gcode import render

    _, gen, _ = threaded
    text = render(gen.program, post).files[0][1]
    run = rs274.run(text, gen.program)
    assert run.ok, run.errors
    helix = [ln for ln in text.splitlines() if ln.startswith("G3") and " Z" in ln]
    assert helix, "no helical G3 in the thread program"


def test_check_warns_when_thread_mills_exist_but_none_fits(threaded, tmp_path, schema_validator):
    import json

    from dfm import api
    from dfm.report import jsonout

    path, _, _ = threaded
    crib = tmp_path / "tm.toml"  # only fine-pitch mills: none holds P0.35 or P0.25
    crib.write_text(CRIB.replace("pitch_max_mm = 0.35", "pitch_max_mm = 0.21").replace(
        "pitch_min_mm = 0.25\npitch_max_mm = 0.5", "pitch_min_mm = 0.1\npitch_max_mm = 0.2"))
    assert "pitch_min_mm = 0.4" in crib.read_text()  # TM-1.20 (P0.4-0.5) holds neither pitch either
    result = api.analyze(path, api.Options(tools=str(crib)))
    doc = json.loads(jsonout.dumps(result))
    schema_validator.validate(doc)
    found = [f for f in result.bodies[0].findings if f.code == "DFM607"]
    assert {f.feature for f in found} == {"thread-spec-1", "thread-spec-2"}
    assert all("pitch range does not hold" in f.message for f in found)
    # the shipped catalogue has no thread mills at all: nothing to warn about
    plain = api.analyze(path)
    assert not [f for f in plain.bodies[0].findings if f.code == "DFM607"]


def _pocket_and_counterbore_part(path):
    """A 10 x 6 x 4 block: hole A Ø1.25 x 2 deep blind in the floor of a 1 mm deep pocket; hole B
    Ø1.25 x 2 deep blind under a Ø2.2 x 0.6 counterbore, both from the top."""
    import cadquery as cq
    import generators

    body = cq.Workplane("XY").box(10, 6, 4, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY", origin=(-2.5, 0, 3)).rect(4, 4).extrude(1.1))
    body = body.cut(cq.Workplane("XY", origin=(-2.5, 0, 3 - 2.0)).circle(0.625).extrude(2.1))
    body = body.cut(cq.Workplane("XY", origin=(2.5, 0, 4 - 0.6)).circle(1.1).extrude(0.7))
    body = body.cut(cq.Workplane("XY", origin=(2.5, 0, 4 - 0.6 - 2.0)).circle(0.625).extrude(2.1))
    return generators.export_step(body, path)


REACH_CRIB = """
[[series]]
id = "reach-test"
vendor = "shop crib"
name = "Thread mills of one size, two reaches"
kind = "thread-mill"
flutes = 3
profile_angle_deg = 60.0
source = "test crib (dfm tests): not vendor data"

[[series.tool]]
id = "TM-1.00x2.6"
diameter_mm = 1.0
flute_length_mm = 0.5
reach_mm = 2.6
neck_diameter_mm = 0.6
pitch_min_mm = 0.25
pitch_max_mm = 0.5

[[series.tool]]
id = "TM-1.00x4"
diameter_mm = 1.0
flute_length_mm = 0.5
reach_mm = 4.0
neck_diameter_mm = 0.6
pitch_min_mm = 0.25
pitch_max_mm = 0.5

[[series]]
id = "reach-test-55"
vendor = "shop crib"
name = "A Whitworth-form (55 deg) thread mill"
kind = "thread-mill"
flutes = 3
profile_angle_deg = 55.0
source = "test crib (dfm tests): not vendor data"

[[series.tool]]
id = "TM-1.10x4-55deg"
diameter_mm = 1.1
reach_mm = 4.0
neck_diameter_mm = 0.7
pitch_min_mm = 0.25
pitch_max_mm = 0.5
"""


def test_check_and_program_agree_on_thread_mill_reach(tmp_path):
    """Under a pocket the mill needs the pocket's depth too; under a counterbore, not twice."""
    part = _pocket_and_counterbore_part(tmp_path / "pc.step")
    (tmp_path / "pc.dfm.toml").write_text('[[thread]]\nselect = { diameter_mm = 1.25 }\ndesignation = "M1.6x0.35"\n'
                                          'length_mm = 1.4\nhand = "left"\n')
    tools = tmp_path / "tools"
    tools.mkdir()
    for f in (rules_dir() / "tools").glob("*.toml"):
        shutil.copy(f, tools / f.name)
    (tools / "tm.toml").write_text(REACH_CRIB)
    gen, result = generate(part, tools=tools)
    body = result.bodies[0]
    holes = {f.id: f for f in body.features if f.kind == "hole"}
    threads = {f.props["hole"]: f for f in body.features if f.kind == "thread"}
    in_pocket = next(h for h in holes.values() if abs(h.location_mm[2] - 3.0) < 1e-6)
    under_cb = next(h for h in holes.values() if h.props.get("stack"))
    recommended = {fid: t.id for t in body.tools if t.role == "thread" for fid in t.features}
    mills = {op.features[0]: op for op in gen.program.setups[0].operations if op.kind == "thread-mill"}
    # in the pocket: 1 mm above the opening + 1.4 + 1.25 x 0.35 = 2.8375 -> the 4 mm reach;
    # under the counterbore: 0.6 + 1.4 + 0.4375 = 2.4375 from the top -> 2.6 is enough (not 3.0375)
    assert recommended[threads[in_pocket.id].id] == "TM-1.00x4"
    assert recommended[threads[under_cb.id].id] == "TM-1.00x2.6"
    # the program picks the same, then runs both on one mill of the size (one tool per size, #17): the note
    # names the twin it planned with
    used = {fid: op.tool.cutter.id for fid, op in mills.items()}
    assert set(used) == set(recommended) and set(used.values()) == {"TM-1.00x4"}
    assert ("TM-1.00x4 (reach 4) instead of its shorter twin TM-1.00x2.6: one tool per size"
            in mills[threads[under_cb.id].id].notes)
    # the larger 55° mill is the wrong form for a 60° thread
    assert "TM-1.10x4-55deg" not in used.values()
    # left-hand from the spec: climb (G3) top-down
    assert "left-hand, G3 top-down" in gen.files[0][1]


def test_modelled_thread_from_below_is_milled_in_its_holes_setup(tmp_path, threaded):
    """A modelled thread's axis has no sense; it is cut from its hole's side (here model -Z: the part
    modelled upside down is set up from -Z, one setup, dfm.cam.orient)."""
    import generators

    part = generators.threaded_hole(major=2.0, pitch=0.4, length=2.0, bore_depth=2.5).rotate((0, 0, 0), (1, 0, 0), 180)
    path = generators.export_step(part, tmp_path / "from_below.step")
    gen, _ = generate(path, tools=threaded[0].parent / "tools")
    assert [su.approach for su in gen.program.setups] == [(0.0, 0.0, -1.0)]
    su2 = gen.program.setups[0]
    kinds = [op.kind for op in su2.operations]
    assert "thread-mill" in kinds and kinds.index("thread-mill") > 0  # after its bore, in the same setup
    assert not [u for su in gen.program.setups for u in su.unmachined if u[0].startswith("thread")]


def test_a_tools_file_named_without_a_folder_is_not_called_shipped(tmp_path, monkeypatch):
    from dfm.cam.gcode import _catalogue_file

    (tmp_path / "mine.toml").write_text(CRIB)
    monkeypatch.chdir(tmp_path)
    (c, *_) = data.load_catalogue("mine.toml")
    assert c.file == str(tmp_path / "mine.toml") and _catalogue_file(c.file) == str(tmp_path / "mine.toml")
    shipped = data.load_catalogue()[0]
    assert _catalogue_file(shipped.file) == f"rules/tools/{shipped.file}"


def test_a_modelled_left_hand_thread_is_cut_top_down(make_part, threaded):
    path = make_part("cam_m2_left", "threaded_hole", major=2.0, pitch=0.4, length=2.0, bore_depth=2.5, hand="left")
    gen, _ = generate(path, tools=threaded[0].parent / "tools")
    (op,) = [op for op in gen.program.setups[0].operations if op.kind == "thread-mill"]
    turns = [(a, st) for a, st in _walk(op.steps) if isinstance(st, Arc) and (st.cx, st.cy) == (0.0, 0.0)]
    assert turns and all(st.ccw and st.z - a[2] == pytest.approx(-0.4) for a, st in turns)  # G3, one pitch down
    assert "left-hand, G3 top-down" in gen.files[0][1] and "assumed" not in gen.files[0][1]


def test_thread_mill_aims_at_the_pre_finish_pitch_diameter(make_part, threaded, tmp_path):
    """Under anodize the helix moves out so the pitch diameter lands mid pre-finish band (#15).

    The same modelled M2x0.4 tapped hole, with and without a Type II finish in its spec: the
    last helix's radius differs by half of (middle of the thread's pre-finish band - basic PD),
    the header says so, and the guard lets the pass through (it cuts past the modelled thread
    on purpose by that much, and no more).
    """
    src = make_part("cam_m2_tapped", "threaded_hole", major=2.0, pitch=0.4, length=3.0, bore_depth=3.5)
    tools = threaded[0].parent / "tools"

    def helix(gen):  # type: ignore[no-untyped-def]
        (op,) = [op for op in gen.program.setups[0].operations if op.kind == "thread-mill"]
        return op, max(math.hypot(s.x - s.cx, s.y - s.cy) for s in op.steps if isinstance(s, Arc))

    plain = tmp_path / "plain.step"
    shutil.copy(src, plain)
    coated = tmp_path / "coated.step"
    shutil.copy(src, coated)
    (tmp_path / "coated.dfm.toml").write_text(
        '[finish]\nkind = "anodize"\ntype = "II"\nthickness_um = [10, 25]\ngrowth_fraction = 0.5\n')
    gen0, _ = generate(plain, tools=tools)
    gen1, result = generate(coated, tools=tools)
    op0, r0 = helix(gen0)
    op1, r1 = helix(gen1)
    (allow,) = [f for f in result.bodies[0].features if f.kind == "anodize_allowance"
                and f.props.get("target") == "thread"]
    mid = (allow.dims["premachine_min_mm"] + allow.dims["premachine_max_mm"]) / 2
    shift = (mid - allow.dims["finished_mm"]) / 2
    assert shift > 0.005  # an internal thread closes under the coat: it is cut larger
    assert r1 - r0 == pytest.approx(shift, abs=1e-4)  # posted to 4 decimals
    assert op1.into_part_mm == pytest.approx(shift) and op0.into_part_mm == 0.0
    assert any("pre-finish band" in n for n in op1.notes)
    assert not gen1.verification.dropped
