"""CAM: data, feeds, geometry, filters, posts, simulation — synthetic parts (docs/features.md)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from cam_helpers import BBOX_MAX, BBOX_MIN, rounded_rect, synthetic_features

from dfm.cam import data, filters, rs274, sim
from dfm.cam.feeds import cutting_data
from dfm.cam.gcode import render
from dfm.cam.geom2d import fit_arcs, loop_length, loop_points
from dfm.cam.model import Arc, Feed, Rapid, Spindle, Tool, ToolChange
from dfm.cam.posts import available, get_post
from dfm.cam.program import StockSpec, plan
from dfm.cam.strategies import CamError
from dfm.errors import UsageError

GOLD = Path(__file__).parent / "gold" / "cam"


@pytest.fixture(scope="module")
def settings():
    return data.load_settings()


@pytest.fixture(scope="module")
def catalogue():
    return data.load_catalogue()


@pytest.fixture(scope="module")
def synthetic_program(settings, catalogue):
    return plan(synthetic_features(), part="synthetic.step", bbox_min=BBOX_MIN, bbox_max=BBOX_MAX, levels=(),
                section=None, material=data.load_material("6061-T6"), settings=settings, catalogue=catalogue,
                stock=StockSpec(margin=1.0, top=2.1), meta={"dfm_version": "test"})


# --- data and feeds -----------------------------------------------------------------------

def test_settings_machine_profile_and_overrides():
    s = data.load_settings("vmc-15k", {"ap_over_d": "0.1"})
    assert s["max_rpm"] == 15000 and s["edge_radius_mm"] == pytest.approx(0.002)
    assert s["ap_over_d"] == 0.1 and s.source["ap_over_d"] == "--set"
    assert s.source["max_rpm"].endswith("vmc-15k.toml")
    with pytest.raises(UsageError, match="unknown CAM setting 'nope'"):
        data.load_settings(None, {"nope": "1"})
    with pytest.raises(UsageError, match="unknown machine profile"):
        data.load_settings("no-such-machine")
    with pytest.raises(UsageError, match="unknown material"):
        data.load_material("unobtainium")


@pytest.mark.parametrize("key, value, message", [
    ("peck_over_d", "0", "must be > 0"),  # a zero peck once made the generator run out of memory
    ("ap_over_d", "0", "must be > 0 and <= 1"),
    ("ae_over_d", "1.5", "must be > 0 and <= 1"),
    ("ramp_angle_deg", "90", "must be > 0 and <= 45"),
    ("rapid_mm_min", "inf", "must be > 0"),
    ("finish_allowance_mm", "-0.01", "must be >= 0"),
    ("safe_mm", "nan", "must be > 0"),
    ("retract_mm", "abc", "is not a number"),
])
def test_settings_outside_their_range_are_refused(key, value, message):
    with pytest.raises(UsageError, match=f"--set {key}: '{value}' {message}"):
        data.load_settings(None, {key: value})


def test_zero_is_fine_where_zero_means_none():
    s = data.load_settings(None, {"finish_allowance_mm": "0", "stock_margin_mm": "0"})
    assert s["finish_allowance_mm"] == 0 and s["stock_margin_mm"] == 0


@pytest.mark.parametrize("key", ["breakthrough_mm", "thread_clearance_mm"])
def test_settings_shared_with_the_tool_search_are_not_overridden(key, tmp_path):
    s = data.load_settings()
    assert s.source[key].startswith("rules/tooling.toml")
    with pytest.raises(UsageError, match=f"--set: {key} is shared with the tool search"):
        data.load_settings(None, {key: "0.1"})
    f = tmp_path / "cam.toml"
    f.write_text(f"[cam]\n{key} = 0.1\n")
    with pytest.raises(UsageError, match="rules/tooling.toml"):
        data.load_settings(None, None, f)


def test_feeds_follow_the_material_row(settings, catalogue):
    mat = data.load_material("6061-T6")
    small = next(c for c in catalogue if c.id == "MHR230-0.5x2")
    cd = cutting_data(small, mat, settings, ae_mm=0.2)
    # vc_min 244 m/min on Ø0.5 needs 155 000 rpm: capped at the machine's 60 000
    assert cd.rpm == 60000 and any("capped" in w for w in cd.warnings)
    fz = mat.fz_per_d_min * 0.5
    assert cd.fz_mm == pytest.approx(fz * 0.5 / (2 * math.sqrt(0.2 * 0.3)))  # chip thinning at ae 0.2 < D/2
    assert cd.feed_mm_min == pytest.approx(60000 * 2 * cd.fz_mm, rel=1e-3)
    assert any("materials.toml" in line and "6061-T6" in line for line in cd.lines)
    tiny = next(c for c in catalogue if c.id == "MHR230-0.1x0.5")
    cd = cutting_data(tiny, mat, settings, ae_mm=0.1)
    # fz/D gives 0.00067 mm, below h_min = 0.43 x 2 µm: the feed per tooth is raised to h_min
    assert cd.fz_mm == pytest.approx(mat.hmin_over_redge_max * settings["edge_radius_mm"])


def test_drilling_feeds_come_from_the_drill_rows(settings, catalogue):
    from dataclasses import replace

    from dfm.cam.feeds import drilling_data

    carbide = next(c for c in catalogue if c.kind == "drill" and c.tool_material == "carbide")
    hss = next(c for c in catalogue if c.kind == "drill" and c.tool_material == "HSS")
    ss = data.load_material("303")
    cd = drilling_data(carbide, ss, settings)  # 303 has a carbide drilling speed: its low end
    d = carbide.diameter_mm
    assert cd.rpm == round(min(ss.drill_vc_carbide_m_min * 1000 / (math.pi * d), settings["max_rpm"]))
    assert cd.feed_mm_min == pytest.approx(cd.rpm * ss.drill_f_per_d * d, abs=0.1)
    assert "drill_vc_carbide_min_m_min" in cd.lines[0] and "tungaloy_drill" in cd.lines[0]
    assert cd.peck_mm == pytest.approx(settings["peck_over_d"] * d)
    cd = drilling_data(hss, ss, settings)  # an HSS drill in 303: the HSS speed, 21.3 m/min
    assert cd.rpm == round(21.3 * 1000 / (math.pi * hss.diameter_mm))
    al = data.load_material("6061-T6")
    cd = drilling_data(carbide, al, settings)  # no carbide drilling speed for aluminium: the HSS one
    assert cd.rpm == round(61 * 1000 / (math.pi * d)) and "no carbide drilling speed" in cd.lines[0]
    # a micro drill: 0.008 x D per rev is below two lips x h_min (2 x 0.43 x 2 µm), which wins
    micro = replace(hss, diameter_mm=0.1)
    cd = drilling_data(micro, al, settings)
    assert cd.fz_mm == pytest.approx(al.hmin_over_redge_max * settings["edge_radius_mm"])
    assert cd.rpm == 60000 and any("capped" in w for w in cd.warnings)
    # a material row without drill rows falls back to the end-mill row, and says so
    bare = replace(al, drill_vc_hss_m_min=None, drill_f_per_d=None)
    assert "end-mill vc and fz/D used" in drilling_data(hss, bare, settings).lines[-1]


def test_fit_arcs_recovers_corners_and_circles():
    loop = fit_arcs(rounded_rect(0, 0, 3, 2, 0.3))
    arcs = [s for s in loop if s.is_arc]
    assert len(arcs) == 4 and all(s.radius == pytest.approx(0.3) for s in arcs)
    assert loop_length(loop) == pytest.approx(2 * (2.4 + 1.4) + 2 * math.pi * 0.3, rel=1e-6)
    circle = fit_arcs([(1 + 0.5 * math.cos(a), 0.5 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 60)[:-1]])
    assert len(circle) == 2 and all(s.is_arc and s.radius == pytest.approx(0.5) for s in circle)


# --- filters --------------------------------------------------------------------------------

def test_no_plunge_guard_rejects_a_straight_plunge(catalogue):
    mill = Tool(1, next(c for c in catalogue if c.kind == "square"))
    steps = [Rapid(0, 0, 1), Feed(0, 0, -0.1)]
    with pytest.raises(CamError, match="plunge"):
        filters.no_plunge(steps, mill)
    assert filters.no_plunge([Rapid(0, 0, 1), Feed(0, 0, 0.5, "descend")], mill)


def test_safe_height_lifts_every_xy_rapid():
    out = filters.safe_height([Rapid(0, 0, 0.5), Feed(1, 0, 0.0), Rapid(1, 0, 0.5), Rapid(5, 5, 0.5)], 3.0)
    assert out[0] == Rapid(0, 0, 3.0)
    moved = 0
    for a, b in zip(out, out[1:], strict=False):
        if isinstance(a, Rapid) and isinstance(b, Rapid) and (a.x, a.y) != (b.x, b.y):
            assert a.z == 3.0 and b.z == 3.0
            moved += 1
    assert moved == 1 and out[-1].z == 3.0


def test_feeds_slow_down_on_concave_arcs(settings, catalogue):
    cutter = next(c for c in catalogue if c.id == "MHR230-0.5x2")
    tool = Tool(1, cutter)
    cd = cutting_data(cutter, data.load_material("6061-T6"), settings)
    out = filters.feeds([Rapid(1, 0, 0), Arc(0, 1, 0, 0, 0, True), Arc(1, 0, 0, 0, 0, False)], cd, tool, 1e9)
    ccw, cw = out[1], out[2]
    assert ccw.feed == pytest.approx(cd.feed_mm_min * 1 / (1 + 0.25), abs=0.1)
    assert cw.feed == pytest.approx(cd.feed_mm_min, abs=0.1)


# --- posts ----------------------------------------------------------------------------------

def test_posts_by_name_and_unknown_post():
    assert {"linuxcnc", "fanuc", "grbl"} <= set(available())
    assert get_post("fanuc").name == "fanuc"
    with pytest.raises(UsageError, match="unknown post 'haas'.*linuxcnc"):
        get_post("haas")


def test_posts_are_registered_as_entry_points():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '[project.entry-points."dfm.posts"]' in text
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="dfm.posts")}
    if not names:
        pytest.skip("package metadata not installed (pip install -e .)")
    assert {"linuxcnc", "fanuc", "grbl"} <= names


@pytest.mark.parametrize("post", ["linuxcnc", "fanuc", "grbl"])
def test_gold_program_per_post(synthetic_program, post):
    text = render(synthetic_program, post).files[0][1]
    gold = GOLD / f"synthetic.{post}.ngc"
    if os.environ.get("DFM_UPDATE_GOLD") or not gold.exists():
        gold.write_text(text, encoding="utf-8")
    assert text == gold.read_text(encoding="utf-8")


def test_program_structure(synthetic_program):
    gen = render(synthetic_program, "linuxcnc")
    ops = [op.name for op in synthetic_program.setups[0].operations]
    assert ops[0] == "facing" and "pocket-1 rough" in ops and "hole-1 drill" in ops
    text = gen.files[0][1]
    assert "G83" in text and "G3 " in text and "materials.toml" in text and "rules/tools/" in text
    assert gen.tool_table.splitlines()[0].startswith("T1 P1 D")
    for line in gen.tool_table.splitlines():  # mm, three decimals, Z0
        d = float(line.split()[2][1:])
        assert 0.05 < d <= 3.0 and " Z0 ;" in line
    assert gen.total_seconds == pytest.approx(sum(t.seconds for t in gen.times))
    grbl = render(synthetic_program, "grbl").files[0][1]
    assert "G83" not in grbl and "M6" not in grbl and "M0" in grbl


def test_through_holes_are_drilled_past_the_point(synthetic_program, settings):
    from dfm.cam.program import DEFAULT_POINT_ANGLE_DEG, point_length

    op = next(op for op in synthetic_program.setups[0].operations if op.name == "hole-1 drill")
    angle = op.tool.cutter.point_angle_deg or DEFAULT_POINT_ANGLE_DEG
    tip = 0.5 / math.tan(math.radians(angle) / 2)  # Ø1 drill
    assert point_length(1.0, angle) == pytest.approx(tip)
    lowest = min(st.z for st in op.steps if hasattr(st, "z") and st.z is not None)
    # the part's bottom is z 0: full diameter down to the breakthrough, the point below that
    assert lowest == pytest.approx(0.0 - settings["breakthrough_mm"] - tip, abs=1e-9)
    assert any("deeper for the" in n for n in op.notes)
    assert point_length(1.0, 118.0) == pytest.approx(0.3004, abs=1e-4)


def test_cycle_time_counts_feed_and_rapid_distances(synthetic_program):
    from dfm.cam.cycletime import estimate

    steps = [Rapid(0, 0, 5), Feed(10, 0, 5, feed=600.0), Rapid(10, 0, 10)]
    t, end = estimate(steps, (0, 0, 5), 3000.0, 0.0)
    assert t == pytest.approx(10 / 600 * 60 + 5 / 3000 * 60)
    assert end == (10, 0, 10)


# --- simulation -----------------------------------------------------------------------------

def _block_sim(step=0.02):
    grid = sim.grid_for((-2, -2, 0), (2, 2, 2), step)
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    part = np.where((np.abs(cx) <= 1.5) & (np.abs(cy) <= 1.5), 2.0, -np.inf)
    part = np.where((np.abs(cx) <= 0.5) & (np.abs(cy) <= 0.5), 1.0, part)  # a 1x1 pocket 1 deep
    return grid, sim.new_simulation(grid, (-2, -2, 0), (2, 2, 2), part)


def test_simulation_detects_gouge_rapid_and_spindle_off():
    grid, s = _block_sim()
    radii = {1: 0.2}
    good = [ToolChange(1, "t"), Spindle(1000), Rapid(0, 0, 3), Feed(0, 0, 2.0, "descend"),
            Feed(0.25, 0, 1.0, "ramp"), Feed(0.3, 0, 1.0), Rapid(0.3, 0, 3)]
    s.run(sim.moves_from_steps(good, radii))
    assert not s.violations
    _, s = _block_sim()
    deep = [ToolChange(1, "t"), Spindle(1000), Rapid(0, 0, 3), Feed(0, 0, 2.0), Feed(0.2, 0, 0.98)]
    s.run(sim.moves_from_steps(deep, radii))  # 20 µm below the pocket floor
    assert [v.kind for v in s.violations] == ["gouge"]
    # 2 µm into the wall: too thin for the grid, caught by the exact side check
    side = [ToolChange(1, "t"), Spindle(1000), Rapid(0, 0, 3), Feed(0, 0, 2.0), Feed(0.302, 0, 1.5)]
    from dfm.cam.geom2d import Seg

    sq = (Seg((-1.5, -1.5), (1.5, -1.5)), Seg((1.5, -1.5), (1.5, 1.5)), Seg((1.5, 1.5), (-1.5, 1.5)),
          Seg((-1.5, 1.5), (-1.5, -1.5)))
    hole = (Seg((-0.5, -0.5), (-0.5, 0.5)), Seg((-0.5, 0.5), (0.5, 0.5)), Seg((0.5, 0.5), (0.5, -0.5)),
            Seg((0.5, -0.5), (-0.5, -0.5)))
    def section(z):
        return [(sq, [hole] if z > 1.0 else [])] if z < 2.0 else []
    moves = sim.moves_from_steps(side, radii)
    found = sim.lateral_gouges(moves, section, part_top=2.0)
    assert len(found) == 1 and found[0].amount_mm == pytest.approx(0.002, abs=2e-4)
    assert not sim.lateral_gouges(sim.moves_from_steps(good, radii), section, part_top=2.0)
    _, s = _block_sim()
    s.run(sim.moves_from_steps([ToolChange(1, "t"), Spindle(1000), Rapid(0, 0, 3), Rapid(0, 0, 1.5)], radii))
    assert [v.kind for v in s.violations] == ["rapid-through-material"]
    _, s = _block_sim()
    s.run(sim.moves_from_steps([ToolChange(1, "t"), Rapid(0, 0, 3), Feed(0, 0, 2.0), Feed(0.2, 0, 1.9)], radii))
    assert "cut-with-spindle-off" in [v.kind for v in s.violations]


def test_synthetic_program_simulates_clean(synthetic_program):
    gen = render(synthetic_program, "linuxcnc")
    su = synthetic_program.setups[0]
    grid = sim.grid_for(su.stock_min, su.stock_max, 0.02)
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    part = np.where((cx >= -3) & (cx <= 5) & (cy >= -2) & (cy <= 2), 2.0, -np.inf)
    pocket = sim.polygon_mask(grid, rounded_rect(-0.5, 0.0, 3.0, 2.0, 0.3, n=90))  # finer than the outline
    part = np.where(pocket, 1.5, part)
    part = np.where(np.hypot(cx - 2.5, cy) < 0.5, -np.inf, part)
    s = sim.new_simulation(grid, su.stock_min, su.stock_max, part)
    radii = {t.number: t.radius for t in synthetic_program.tools}
    s.run(sim.moves_from_steps(gen.sequences[0], radii))
    assert not s.violations, s.violations[:3]
    assert s.removed_fraction(pocket, su.stock_max[2], 0.0) >= 0.95


@pytest.mark.rs274
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
@pytest.mark.parametrize("post", ["linuxcnc", "fanuc", "grbl"])
def test_rs274_accepts_the_synthetic_program(synthetic_program, post):
    gen = render(synthetic_program, post)
    run = rs274.run(gen.files[0][1], synthetic_program)
    assert run.ok, run.errors
    assert "ARC_FEED" in run.canon
    if post == "linuxcnc":
        radii = {t.number: t.radius for t in synthetic_program.tools}
        moves = sim.moves_from_canon(run.canon, radii)
        ours = sim.moves_from_steps(gen.sequences[0], radii)
        # the controller's canon ends where our own steps end
        assert moves[-1].b == pytest.approx(ours[-1].b, abs=1e-4)


@pytest.mark.rs274
@pytest.mark.skipif(rs274.available() is None, reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")
def test_rs274_rejects_a_broken_program(synthetic_program):
    run = rs274.run("%\nG21\nG1 X1 Y1\nM30\n%\n", synthetic_program)
    assert not run.ok and "feed rate" in run.errors


def test_other_approach_goes_to_setup2_and_oblique_is_listed(settings, catalogue):
    from dfm.model import Feature

    feats = synthetic_features()
    under = Feature("hole-2", "hole", (9,), {"diameter_mm": 1.0, "depth_mm": 0.5, "total_depth_mm": 0.5},
                    {"through": False, "bottom": "flat", "approach": [0.0, 0.0, -1.0], "stack": [],
                     "drill_depth_mm": 0.5}, (-2.0, 1.0, 0.0), (0.0, 0.0, -1.0))
    oblique = Feature("hole-3", "hole", (10,), {"diameter_mm": 0.5, "depth_mm": 0.5},
                      {"through": False, "approach": [0.6, 0.0, 0.8]}, (0.0, 0.0, 2.0), (0.6, 0.0, 0.8))
    prog = plan(feats + [under, oblique], part="two.step", bbox_min=BBOX_MIN, bbox_max=BBOX_MAX, levels=(),
                section=None, material=data.load_material("PEEK"), settings=settings, catalogue=catalogue)
    assert [su.index for su in prog.setups] == [1, 2]
    su2 = prog.setups[1]
    assert su2.approach == (0.0, 0.0, -1.0) and "Z = -model Z" in su2.orientation
    assert su2.part_top == pytest.approx(0.0) and [op.features for op in su2.operations][0] == ("hole-2",)
    # the hole at model (-2, 1) is at program (-2, -1) after turning the part over about X
    first = next(s for s in su2.operations[0].steps if isinstance(s, Feed))
    assert abs(first.y + 1.0) < 0.5 and abs(first.x + 2.0) < 0.5
    assert ("hole-3", "approached along (0.6, 0, 0.8), not an axis direction: needs a tilted (3+2) setup (DFM651)") \
        in prog.unreachable
    gen = render(prog, "linuxcnc")
    assert [suffix for suffix, _ in gen.files] == ["", ".setup2"]
    assert "setup 2 of 2: part turned over about X" in gen.files[1][1]
    assert "UNREACHABLE hole-3" in gen.files[0][1]
    if rs274.available():
        for _, text in gen.files:
            assert rs274.run(text, prog).ok


def test_region_matches_the_even_odd_test_point_by_point():
    import random

    from dfm.cam.geom2d import circle, point_in_polygon
    from dfm.cam.strategies import Region

    outer = circle((0.0, 0.0), 2.0)
    island = circle((0.5, 0.2), 0.6)
    region = Region([outer, island])
    polys = [loop_points(lp, 1e-4) for lp in (outer, island)]
    rng = random.Random(3)
    for _ in range(2000):
        p = (rng.uniform(-2.5, 2.5), rng.uniform(-2.5, 2.5))
        want = sum(point_in_polygon(p, q) for q in polys) % 2 == 1
        assert region.contains(p) == want
    assert region.segment_inside((-1.8, -0.5), (-1.8, 0.5), 0.01)  # beside the island
    assert not region.segment_inside((-1.5, 0.2), (1.5, 0.2), 0.01)  # through the island
    assert not region.segment_inside((0.0, 0.0), (3.0, 0.0), 0.001)  # out of the outer loop, past a chunk
