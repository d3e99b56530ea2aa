"""Measurements a new-user trial found wrong, on CadQuery parts of known dimensions.

* A deep narrow through slot (no floor) gets the outline of its opening, so CAM can plan it.
* Two bores that run into each other are no thin wall where they meet; a real web between
  two bores that do not meet is still measured exactly.

(The pocket on an inclined face, measured in its own frame: tests/test_access.py.)
"""

from __future__ import annotations

import pytest

from dfm.features import analyse_solid
from dfm.kernel import load

UM = 1e-3


def _analyse(make_part, name, gen, **kw):
    path = make_part(name, gen, **kw)
    return analyse_solid(load(path).solids[0]), path


def _regions(an):
    return [f for f in an.features if f.kind in ("pocket", "slot", "step")]


def _spans(outline):
    us = [p[0] for p in outline]
    vs = [p[1] for p in outline]
    return max(us) - min(us), max(vs) - min(vs)


# --- a deep narrow through slot ------------------------------------------------------------


@pytest.mark.parametrize("round_ends", [False, True], ids=["square-ends", "round-ends"])
def test_deep_narrow_through_slot_has_its_opening_as_outline(make_part, round_ends):
    an, _ = _analyse(make_part, f"trial-through-slot-{round_ends}", "through_slot_block", round_ends=round_ends)
    (s,) = _regions(an)
    # long (4 mm) between two parallel walls 0.6 mm apart, closed, through: a through slot
    assert s.kind == "slot" and s.props["through"] and not s.props["open"]
    assert s.props["approach"] == [0.0, 0.0, 1.0]
    assert s.dims["width_mm"] == pytest.approx(0.6, abs=UM)
    assert s.dims["length_mm"] == pytest.approx(4.0, abs=UM)
    assert s.dims["depth_mm"] == pytest.approx(10.0, abs=UM)
    assert s.dims["depth_width_ratio"] == pytest.approx(10.0 / 0.6, rel=1e-6)
    # the outline is the opening, wall to wall, in the approach frame (u = x, v = y here)
    assert s.props["frame_u"] == [1.0, 0.0, 0.0] and s.props["frame_v"] == [0.0, 1.0, 0.0]
    du, dv = _spans(s.props["outline"])
    assert du == pytest.approx(4.0, abs=UM)
    assert dv == pytest.approx(0.6, abs=UM)
    assert s.dims["min_corner_radius_mm"] == pytest.approx(0.3 if round_ends else 0.0, abs=UM)


@pytest.mark.slow
@pytest.mark.parametrize(("height", "machined"), [(10.0, True), (20.0, False)], ids=["10-deep", "20-deep"])
def test_through_slot_is_machined_or_given_an_honest_reason(make_part, height, machined):
    from dfm.cam.gcode import generate

    path = make_part(f"trial-through-slot-h{height:g}", "through_slot_block", height=height, round_ends=True)
    gen, _ = generate(path)
    done = {fid for su in gen.program.setups for op in su.operations for fid in op.features}
    reasons = {fid: why for su in gen.program.setups for fid, why in su.unmachined}
    assert not any("could not be traced" in why for why in reasons.values())
    if machined:
        # a Ø0.5 tool with 12 mm reach fits the 0.6 mm slot and reaches through its 10 mm
        assert "slot-1" in done and "slot-1" not in reasons
    else:
        # nothing in the catalogue fits 0.6 mm and reaches 20 mm: said so, not "no outline"
        assert "slot-1" not in done and "slot-1" in reasons
        assert "reaches" in reasons["slot-1"] and "0.6 mm" in reasons["slot-1"]


def test_through_passages_keep_their_kinds_and_get_outlines(make_part):
    # a tunnel 3 wide x 2 high is no slot (not long); a triangle is no slot (its chamfer faces
    # the hypotenuse but is short); both get the outline of their opening
    an, _ = _analyse(make_part, "trial-tunnel", "tunnel_block")
    (t,) = [f for f in _regions(an) if f.props["through"]]
    assert t.kind == "pocket" and t.dims["length_mm"] == pytest.approx(3.0, abs=UM)
    assert sorted(_spans(t.props["outline"])) == pytest.approx([2.0, 3.0], abs=UM)
    an, _ = _analyse(make_part, "trial-tri", "triangular_passage")
    (p,) = _regions(an)
    assert p.kind == "pocket"
    assert _spans(p.props["outline"]) == pytest.approx((4.0, 4.0), abs=UM)
    assert len(p.props["outline"]) == 4  # three sides and the chamfer


# --- bores that meet, and webs between bores that do not ----------------------------------


def _bore_walls(an):
    cyl = {i for i, f in an.geo.faces.items() if f.kind == "cylinder"}
    return [f for f in an.features if f.kind == "wall" and set(f.faces) <= cyl]


@pytest.mark.parametrize("offset", [0.0, 1.0, 2.5, 2.9, 2.95], ids=lambda o: f"offset-{o:g}")
def test_crossing_bores_that_meet_are_no_thin_wall(make_part, offset):
    # Ø4 bore along z, Ø2 cross bore along x, axes `offset` apart: they meet while offset < 3;
    # near 3 the cross bore grazes the bore in a thin wedge whose distance is 0 along the edge
    an, _ = _analyse(make_part, f"trial-cross-{offset:g}", "crossing_bores", cross_offset=offset)
    assert not [w for w in _bore_walls(an) if w.dims["thickness_mm"] < 0.05]
    assert an.measurements["min_wall_thickness_mm"].value > 0.05


@pytest.mark.parametrize("pitch", [0.5, 1.0, 1.5, 1.9], ids=lambda p: f"pitch-{p:g}")
def test_overlapping_parallel_bores_are_no_thin_wall(make_part, pitch):
    an, _ = _analyse(make_part, f"trial-parallel-{pitch:g}", "parallel_bores", pitch=pitch)
    assert not [w for w in _bore_walls(an) if w.dims["thickness_mm"] < 0.05]
    assert an.measurements["min_wall_thickness_mm"].value > 0.05


@pytest.mark.parametrize("web", [0.05, 0.2, 0.5])
def test_web_between_crossing_bores_that_do_not_meet_is_measured(make_part, web):
    an, _ = _analyse(make_part, f"trial-cross-web-{web:g}", "crossing_bores", cross_offset=3.0 + web)
    (w,) = _bore_walls(an)
    assert w.dims["thickness_mm"] == pytest.approx(web, abs=UM)
    # at the common perpendicular of the axes: x = 0, y between the bores, the cross bore's height
    assert w.location_mm == pytest.approx((0.0, 2.0 + web / 2, 5.0), abs=UM)
    assert an.measurements["min_wall_thickness_mm"].value == pytest.approx(web, abs=UM)


@pytest.mark.parametrize("web", [0.05, 0.2, 0.5])
def test_web_between_parallel_bores_is_measured(make_part, web):
    # Ø2 bores sampled every 45°: no sample ray crosses the web square; the formula finds it
    an, _ = _analyse(make_part, f"trial-parallel-web-{web:g}", "parallel_bores", pitch=2.0 + web)
    (w,) = _bore_walls(an)
    assert w.dims["thickness_mm"] == pytest.approx(web, abs=UM)
    assert w.dims["height_mm"] == pytest.approx(5.0, abs=UM)  # the bores run through the 5 mm block
    assert w.location_mm[0] == pytest.approx(0.0, abs=UM) and w.location_mm[1] == pytest.approx(0.0, abs=UM)
    assert an.measurements["min_wall_thickness_mm"].value == pytest.approx(web, abs=UM)


def test_aagnet_bores_that_meet_are_no_wall(corpus):
    # faces 21 (Ø3.4 along z) and 24 (Ø11.6 along x) run into each other: DFM101 said 0.0005 mm
    from dfm import api

    res = api.analyze(corpus / "aagnet" / "test.step")
    assert res.status == "ok"
    walls = [f for b in res.bodies for f in b.features if f.kind == "wall"]
    assert not [w for w in walls if set(w.faces) == {21, 24}]
    assert not [f for f in res.all_findings if f.code in ("DFM101", "DFM102") and set(f.faces) == {21, 24}]
    assert min(w.dims["thickness_mm"] for w in walls) == pytest.approx(0.2772, abs=1e-4)
