"""The largest-usable-tool search on synthetic features (docs/features.md) and small catalogues."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dfm.model import Feature
from dfm.tooling import ToolingParams, default_catalogue, default_rules, load_catalogue, select_tools
from dfm.tooling.select import requirement

K = default_rules().params.corner_clearance_ratio


def pocket(fid="pocket-1", *, width=4.0, depth=3.0, corner=0.25, floor_r=0.0, floor="flat", top=5.0,
           outline=None, loc=(0.0, 0.0, 2.0), faces=(1, 2, 3), kind="pocket"):
    dims = {"width_mm": width, "length_mm": width * 1.5, "depth_mm": depth, "floor_radius_mm": floor_r}
    if corner is not None:
        dims["min_corner_radius_mm"] = corner
    props = {"approach": [0.0, 0.0, 1.0], "open": False, "through": floor == "through", "floor": floor,
             "floor_z_mm": top - depth, "top_z_mm": top, "frame_u": [1.0, 0.0, 0.0], "frame_v": [0.0, 1.0, 0.0]}
    if outline is not None:
        props["outline"] = outline
    return Feature(fid, kind, faces, dims, props, loc, (0.0, 0.0, 1.0))


def hole(fid="hole-1", *, d=1.0, depth=3.0, total=None, bottom="flat"):
    dims = {"diameter_mm": d, "depth_mm": depth, "depth_diameter_ratio": depth / d}
    if total is not None:
        dims["total_depth_mm"] = total
    return Feature(fid, "hole", (9,), dims, {"bottom": bottom, "through": bottom == "through",
                                             "approach": [0.0, 0.0, 1.0]}, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def brute_force(corner, depth, width=None, floor_r=0.0):
    """The expected tool, straight from the catalogue and the contract's inequalities."""
    ok = []
    for t in default_catalogue().mills():
        r = t.corner_radius_mm or 0.0
        if corner is not None and K * t.diameter_mm / 2 > corner + 1e-9:
            continue
        if width is not None and K * t.diameter_mm > width + 1e-9:
            continue
        if (floor_r == 0 and r > 1e-9) or (floor_r > 0 and not 1e-9 < r <= floor_r + 1e-9):
            continue
        if t.usable_reach_mm < depth - 1e-9:
            continue
        ok.append(t)
    best_d = max(t.diameter_mm for t in ok)
    return [t for t in ok if t.diameter_mm == best_d]


def test_quarter_mm_corner_three_mm_deep_gets_largest_tool_passing_margin_and_reach():
    res = select_tools([pocket(corner=0.25, depth=3.0)], default_catalogue())
    d = res.per_feature[0]
    cands = brute_force(0.25, 3.0, width=4.0)
    assert d.finish is not None
    assert d.finish.diameter_mm == pytest.approx(0.4)  # 1.2 × 0.2 = 0.24 <= 0.25; Ø0.5 needs R0.30
    assert d.finish.diameter_mm == cands[0].diameter_mm
    assert d.finish.usable_reach_mm == pytest.approx(3.0)  # the shortest neck that reaches 3 mm
    assert d.finish.usable_reach_mm == min(t.usable_reach_mm for t in cands)
    f = res.features[0]
    assert f.dims["max_tool_diameter_mm"] == pytest.approx(0.4)
    assert f.dims["required_reach_mm"] == pytest.approx(3.0)
    assert f.dims["tool_diameter_limit_mm"] == pytest.approx(2 * 0.25 / K)
    assert f.props["tool"] == d.finish.id
    assert res.max_tool_diameter_mm == pytest.approx(0.4)
    assert res.limiting_feature == "pocket-1"
    assert not res.findings


@pytest.mark.parametrize("corner,depth", [(0.3, 6.0), (0.5, 2.0), (0.125, 1.0), (1.0, 8.0), (0.6, 4.5)])
def test_corner_and_depth_grid_matches_brute_force(corner, depth):
    res = select_tools([pocket(corner=corner, depth=depth, width=10.0)], default_catalogue())
    d = res.per_feature[0]
    cands = brute_force(corner, depth, width=10.0)
    assert d.finish is not None
    assert d.finish.diameter_mm == cands[0].diameter_mm
    assert d.finish.usable_reach_mm == min(t.usable_reach_mm for t in cands)
    assert K * d.finish.radius_mm <= corner + 1e-9
    assert d.finish.usable_reach_mm >= depth


def test_corner_margin_rejects_a_tool_at_exactly_the_corner_radius():
    # A 0.25 mm corner takes Ø0.5 only without the clearance margin.
    res = select_tools([pocket(corner=0.25)], default_catalogue(), params=ToolingParams(corner_clearance_ratio=1.0))
    assert res.per_feature[0].finish.diameter_mm == pytest.approx(0.5)
    res = select_tools([pocket(corner=0.25)], default_catalogue())
    assert res.per_feature[0].finish.diameter_mm < 0.5


def test_narrow_width_limits_the_diameter():
    # Full-round slot 0.4 wide: corner 0.2, width 0.4 → D <= 0.333 → Ø0.3.
    res = select_tools([pocket("slot-1", kind="slot", width=0.4, corner=0.2, depth=1.0)], default_catalogue())
    d = res.per_feature[0]
    assert d.finish.diameter_mm == pytest.approx(0.3)
    assert d.finish.usable_reach_mm == pytest.approx(1.0)
    # An open straight slot with no corner: only the width limits.
    res = select_tools([pocket("slot-2", kind="slot", width=1.25, corner=None, depth=2.0)], default_catalogue())
    assert res.per_feature[0].finish.diameter_mm == pytest.approx(1.0)  # 1.2 × 1.0 = 1.2 <= 1.25


def test_floor_radius_needs_matching_corner_form():
    # Sharp floor: only square tools. Filleted floor R0.1: corner-radius tools with r <= 0.1.
    res = select_tools([pocket(corner=1.0, floor_r=0.1, depth=3.0, width=10.0)], default_catalogue())
    t = res.per_feature[0].finish
    assert t.kind in ("corner-radius", "ball")
    assert 0 < t.corner_radius_mm <= 0.1
    assert t.diameter_mm == brute_force(1.0, 3.0, width=10.0, floor_r=0.1)[0].diameter_mm
    res = select_tools([pocket(corner=1.0, floor_r=0.0, depth=3.0, width=10.0)], default_catalogue())
    assert res.per_feature[0].finish.kind == "square"


def test_nothing_fits_corner_gives_concrete_design_change():
    res = select_tools([pocket(corner=0.05, depth=3.0)], default_catalogue())
    d = res.per_feature[0]
    assert d.finish is None
    assert "max_tool_diameter_mm" not in res.features[0].dims
    assert res.features[0].dims["required_reach_mm"] == pytest.approx(3.0)
    assert res.max_tool_diameter_mm is None
    (f,) = res.findings
    assert f.code == "DFM601" and f.name == "no-tool-for-corner" and f.severity.value == "error"
    assert f.feature == "pocket-1" and f.faces == (1, 2, 3)
    alt = d.alternatives[0]
    # The smallest corner change: the smallest tool that reaches 3 mm, its radius × 1.2, rounded up.
    reaching = [t for t in default_catalogue().mills() if t.kind == "square" and t.usable_reach_mm >= 3.0]
    smallest = min(t.diameter_mm for t in reaching)
    need = math.ceil(K * smallest / 2 * 100 - 1e-6) / 100
    assert alt.changes[0].kind == "corner" and alt.changes[0].value_mm == pytest.approx(need)
    assert f.value == pytest.approx(0.05) and f.limit == pytest.approx(need)
    assert f"raise the vertical corner radius to {need:g} mm" in f.fix.lower()
    assert alt.tool.id in f.fix
    # Applying the change makes that tool (or a larger one) fit.
    again = select_tools([pocket(corner=need, depth=3.0)], default_catalogue())
    assert again.per_feature[0].finish.diameter_mm >= alt.tool.diameter_mm


def test_nothing_fits_reach_suggests_depth():
    # 3 mm corner-free slot, 80 mm deep: tools fit the width but none reaches.
    res = select_tools([pocket("slot-1", kind="slot", width=3.0, corner=None, depth=80.0)], default_catalogue())
    (f,) = res.findings
    assert f.code == "DFM603" and f.name == "no-tool-reach"
    alt = res.per_feature[0].alternatives[0]
    assert alt.changes[0].kind == "depth"
    deepest = max(t.usable_reach_mm for t in default_catalogue().mills()
                  if K * t.diameter_mm <= 3.0 + 1e-9 and (t.corner_radius_mm or 0) == 0)
    assert alt.changes[0].value_mm == pytest.approx(deepest)
    assert f"reduce the depth to {deepest:g} mm" in f.fix.lower()


def test_sharp_corner_finding_names_a_radius():
    res = select_tools([pocket(corner=0.0, depth=1.0)], default_catalogue())
    (f,) = res.findings
    assert f.code == "DFM601"
    assert "sharp vertical corners" in f.message
    assert "give the vertical corners a radius of at least" in f.fix.lower()


def test_hole_drilled_with_exact_drill_else_milled():
    res = select_tools([hole(d=1.0, depth=3.0, total=3.3, bottom="drill-point")], default_catalogue())
    d = res.per_feature[0]
    assert d.operation == "drill" and d.finish.kind == "drill"
    assert d.finish.diameter_mm == pytest.approx(1.0)
    assert d.required_reach_mm == pytest.approx(3.3)
    assert res.tools[0].role == "drill"
    # No Ø0.5 drill in the catalogue: helical-milled by the largest mill under the corner rule (d/2).
    res = select_tools([hole("hole-2", d=0.5, depth=2.0)], default_catalogue())
    d = res.per_feature[0]
    assert d.operation == "helical-mill"
    assert d.finish.diameter_mm == brute_force(0.25, 2.0)[0].diameter_mm
    assert res.features[0].props["tool_operation"] == "helical-mill"


def test_hole_nothing_fits_suggests_sizes():
    res = select_tools([hole(d=0.1, depth=2.0)], default_catalogue())
    (f,) = res.findings
    assert f.code == "DFM605"
    assert "change the diameter to" in f.fix.lower()


def test_rough_and_rest_roles_and_consolidation():
    feats = [pocket("pocket-1", corner=0.25, depth=3.0, width=4.0, faces=(1,)),
             pocket("pocket-2", corner=0.25, depth=1.0, width=4.0, faces=(2,), loc=(20.0, 0.0, 2.0))]
    res = select_tools(feats, default_catalogue())
    by = {d.feature_id: d for d in res.per_feature}
    # Same series/diameter: one tool, the longer neck, for both pockets.
    assert by["pocket-1"].finish.id == by["pocket-2"].finish.id
    assert by["pocket-1"].finish.usable_reach_mm == pytest.approx(3.0)
    rough = by["pocket-1"].rough
    assert rough is not None and rough.diameter_mm > by["pocket-1"].finish.diameter_mm
    assert K * rough.diameter_mm <= 4.0 + 1e-9
    roles = {t.id: t.role for t in res.tools}
    assert roles[rough.id] == "rough"
    assert roles[by["pocket-1"].finish.id] == "rest"
    assert [t.role for t in res.tools] == sorted((t.role for t in res.tools),
                                                 key=["rough", "finish", "rest", "drill"].index)
    assert set(res.tools[0].features) == {"pocket-1", "pocket-2"}


def test_nested_pocket_counts_the_enclosure_the_shank_cannot_enter(tmp_path: Path):
    crib = tmp_path / "crib.toml"
    crib.write_text("""
[[series]]
id = "crib"
vendor = "shop"
name = "rack"
kind = "square"
source = "shop crib, measured"

[[series.tool]]
id = "T1"
diameter_mm = 0.5
reach_mm = 2.0
shank_diameter_mm = 3.0
corner_radius_mm = 0.0

[[series.tool]]
id = "T2"
diameter_mm = 0.5
reach_mm = 4.0
shank_diameter_mm = 3.0
corner_radius_mm = 0.0
""")
    cat = load_catalogue([crib])
    outer_outline = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]
    outer = pocket("pocket-1", width=2.0, depth=1.5, corner=0.5, top=5.0, outline=outer_outline, faces=(1,))
    inner = pocket("pocket-2", width=1.0, depth=1.0, corner=0.3, top=3.5, faces=(2,), loc=(0.0, 0.0, 2.5))
    req = requirement(inner, [outer, inner])
    assert [e.feature_id for e in req.enclosures] == ["pocket-1"]
    res = select_tools([outer, inner], cat)
    by = {d.feature_id: d for d in res.per_feature}
    # The Ø3 shank does not fit the 2 mm outer pocket: the tool must reach 1.0 + 1.5 mm.
    assert by["pocket-2"].finish.id == "T2"
    assert by["pocket-2"].required_reach_mm == pytest.approx(2.5)
    wide = pocket("pocket-1", width=8.0, depth=1.5, corner=0.5, top=5.0,
                  outline=[[-4.0, -4.0], [4.0, -4.0], [4.0, 4.0], [-4.0, 4.0]], faces=(1,))
    res = select_tools([wide, inner], cat)
    by = {d.feature_id: d for d in res.per_feature}
    assert by["pocket-2"].required_reach_mm == pytest.approx(1.0)  # the shank enters the wide pocket


def test_empty_catalogue_of_a_kind(tmp_path: Path):
    crib = tmp_path / "drills.toml"
    crib.write_text("""
[[series]]
id = "d"
vendor = "shop"
name = "drills"
kind = "drill"
source = "shop"

[[series.tool]]
id = "D1"
diameter_mm = 1.0
flute_length_mm = 10.0
""")
    res = select_tools([pocket()], load_catalogue([crib]))
    (f,) = res.findings
    assert f.code == "DFM606" and f.name == "no-tool-in-catalogue"


def test_features_without_tooling_pass_through_unchanged():
    wall = Feature("wall-1", "wall", (1, 2), {"thickness_mm": 0.2}, {"approach": [0, 0, 1]})
    floor_corner = Feature("corner-1", "corner", (1, 2), {"radius_mm": 0.0, "length_mm": 2.0},
                           {"orientation": "floor"})
    res = select_tools([wall, floor_corner], default_catalogue())
    assert res.features == (wall, floor_corner)
    assert res.tools == () and res.max_tool_diameter_mm is None


def test_corner_of_a_pocket_reports_through_the_pocket():
    p = pocket(corner=0.0, depth=1.0, faces=(1, 2, 3, 4))
    c = Feature("corner-1", "corner", (2, 3), {"radius_mm": 0.0, "length_mm": 1.0, "depth_mm": 1.0},
                {"orientation": "vertical", "approach": [0, 0, 1]})
    res = select_tools([p, c], default_catalogue())
    assert [f.feature for f in res.findings] == ["pocket-1"]
    assert "required_reach_mm" in res.features[1].dims


def test_deterministic():
    feats = [pocket(corner=0.25), hole(d=1.0, depth=3.0), pocket("pocket-2", corner=0.05, faces=(5,))]
    a = select_tools(feats, default_catalogue())
    b = select_tools(list(feats), default_catalogue())
    assert a == b


def test_a_tool_with_two_roles_gets_one_row_per_role(tmp_path: Path):
    crib = tmp_path / "crib.toml"
    crib.write_text("""
[[series]]
id = "crib"
vendor = "shop"
name = "rack"
kind = "square"
source = "shop crib"

[[series.tool]]
id = "T04"
diameter_mm = 0.4
reach_mm = 5.0
corner_radius_mm = 0.0

[[series.tool]]
id = "T3"
diameter_mm = 3.0
reach_mm = 5.0
corner_radius_mm = 0.0
""")
    a = pocket("pocket-1", corner=0.25, width=4.0, faces=(1, 2))
    b = pocket("pocket-2", corner=2.0, width=4.0, faces=(3, 4), loc=(20.0, 0.0, 2.0))
    c = Feature("corner-1", "corner", (1, 2), {"radius_mm": 0.25, "length_mm": 3.0, "depth_mm": 3.0},
                {"orientation": "vertical", "approach": [0, 0, 1]})
    res = select_tools([a, b, c], load_catalogue([crib]))
    rows = [(t.id, t.role, t.features) for t in res.tools]
    assert rows == [("T3", "rough", ("pocket-1",)), ("T3", "finish", ("pocket-2",)),
                    ("T04", "rest", ("corner-1", "pocket-1"))]


def test_milled_hole_passes_its_counterbore():
    h = hole("hole-4", d=1.25, depth=2.0)
    h = Feature(h.id, h.kind, h.faces, h.dims, {**h.props, "stack": [
        {"kind": "counterbore", "diameter_mm": 2.0, "depth_mm": 0.5, "from_mm": 0.0, "side": "entry"}]},
        h.location_mm, h.axis)
    res = select_tools([h], default_catalogue())
    d = res.per_feature[0]
    assert d.operation == "helical-mill"
    # Shank unknown for the catalogue's mills: the cutter must reach through the counterbore too.
    assert d.required_reach_mm == pytest.approx(2.5)
    assert d.finish.usable_reach_mm >= 2.5


def _parent_by_scan(f, regions):  # type: ignore[no-untyped-def]
    """The enclosure search as it was before the index (every region, every time): the reference."""
    from dfm.tooling.select import _approach, _dot, _inside

    a = _approach(f)
    top = f.props.get("top_z_mm")
    if top is None and f.kind == "hole" and a is not None and f.location_mm is not None:
        top = _dot(f.location_mm, a)
    if a is None or top is None or f.location_mm is None:
        return None
    best = None
    for p in regions:
        if p.id == f.id or p.props.get("through"):
            continue
        pa = _approach(p)
        outline = p.props.get("outline")
        fu, fv = p.props.get("frame_u"), p.props.get("frame_v")
        if pa is None or _dot(a, pa) < 1 - 1e-9 or not outline or fu is None or fv is None:
            continue
        floor = p.props.get("floor_z_mm")
        if floor is None or abs(float(floor) - float(top)) > 1e-6:
            continue
        uv = (_dot(f.location_mm, fu), _dot(f.location_mm, fv))
        if _inside(uv, outline) and (best is None or p.id < best.id):
            best = p
    return best


def test_the_enclosure_index_finds_what_a_scan_of_every_region_finds():
    """RegionIndex (bisection on floor height) against the scan it replaced, on random nests (#18)."""
    import random

    from dfm.tooling.select import RegionIndex, _parent

    rng = random.Random(18)
    found = 0
    for _ in range(30):
        regions = []
        for _i in range(rng.randint(1, 40)):
            top = rng.choice((5.0, 4.0, 3.0, 3.0 + 5e-7, 2.0))
            depth = rng.choice((1.0, 2.0, 1.0 + 2e-6))
            x, y, w = rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0.5, 6)
            outline = [(x - w, y - w), (x + w, y - w), (x + w, y + w), (x - w, y + w)]
            f = pocket(f"pocket-{rng.randint(1, 60)}", top=top, depth=depth, width=w,
                       outline=outline if rng.random() > 0.1 else None, loc=(x, y, top - depth),
                       floor="through" if rng.random() < 0.1 else "flat")
            if rng.random() < 0.1:
                f = Feature(f.id, f.kind, f.faces, f.dims, {**f.props, "approach": [0.0, 0.0, -1.0]},
                            f.location_mm, f.axis)
            regions.append(f)
        index = RegionIndex(regions)
        holes = [Feature(f"hole-{k}", "hole", (9,), {"diameter_mm": 0.5, "depth_mm": 1.0},
                         {"approach": [0.0, 0.0, 1.0]},
                         (rng.uniform(-8, 8), rng.uniform(-8, 8), rng.choice((1.0, 2.0, 3.0, 4.0))), (0.0, 0.0, 1.0))
                 for k in range(20)]
        for f in regions + holes:
            want = _parent_by_scan(f, regions)
            assert _parent(f, index) is want
            assert _parent(f, regions) is want
            found += want is not None
    assert found > 50  # the nests do nest
