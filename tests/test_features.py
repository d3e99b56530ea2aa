"""Feature analysers against generator parts of known dimensions, to the micrometre."""

from __future__ import annotations

import pytest

from dfm import api

UM = 1e-3  # one micrometre in mm


def _body(path):
    r = api.analyze(path)
    assert r.status == "ok", r.error
    (body,) = r.bodies
    return body


def _features(body, kind):
    return [f for f in body.features if f.kind == kind]


@pytest.mark.parametrize("web", [0.05, 0.2, 1.0])
def test_web_thickness(make_part, web):
    body = _body(make_part(f"web_{web}", "plate_with_pockets", web=web, corner_radius=0.25))
    m = body.measurements["min_wall_thickness_mm"]
    assert m.value == pytest.approx(web, abs=UM)
    assert m.location_mm[0] == pytest.approx(0.0, abs=UM)  # the web is centred on x = 0
    (wall,) = [w for w in _features(body, "wall") if set(w.faces) == set(m.faces)]
    assert wall.dims["height_mm"] == pytest.approx(2.0, abs=UM)  # pocket depth
    assert wall.props["orientation"] == "wall"
    assert set(wall.faces) == set(m.faces)


@pytest.mark.parametrize("radius", [0.05, 0.25, 1.5])
def test_vertical_corner_radius(make_part, radius):
    body = _body(make_part(f"corner_{radius}", "plate_with_pockets", corner_radius=radius, web=1.0))
    assert body.measurements["min_internal_corner_radius_mm"].value == pytest.approx(radius, abs=UM)
    vertical = [c for c in _features(body, "corner") if c.props["orientation"] == "vertical"]
    assert len(vertical) == 8
    for c in vertical:
        assert c.dims["radius_mm"] == pytest.approx(radius, abs=UM)
        assert c.dims["depth_mm"] == pytest.approx(2.0, abs=UM)
        assert c.props["approach"] == [0.0, 0.0, 1.0]
    pockets = _features(body, "pocket")
    assert len(pockets) == 2
    for p in pockets:
        assert p.dims["width_mm"] == pytest.approx(4.0, abs=UM)
        assert p.dims["length_mm"] == pytest.approx(5.0, abs=UM)
        assert p.dims["depth_mm"] == pytest.approx(2.0, abs=UM)
        assert p.dims["min_corner_radius_mm"] == pytest.approx(radius, abs=UM)
        assert p.dims["depth_radius_ratio"] == pytest.approx(2.0 / radius, rel=1e-6)
        assert p.props["open"] is False and p.props["floor"] == "flat"


def test_sharp_vertical_corners_are_radius_zero(make_part):
    body = _body(make_part("sharp", "plate_with_pockets", corner_radius=0.0, web=1.0))
    assert body.measurements["min_internal_corner_radius_mm"].value == 0.0
    sharp = [c for c in _features(body, "corner") if c.props["orientation"] == "vertical"]
    assert len(sharp) == 8 and all(c.props["sharp"] and c.dims["radius_mm"] == 0.0 for c in sharp)
    assert all(c.dims["length_mm"] == pytest.approx(2.0, abs=UM) for c in sharp)


def test_floor_corners(make_part):
    body = _body(make_part("web_0.2", "plate_with_pockets", web=0.2, corner_radius=0.25))
    floors = [c for c in _features(body, "corner") if c.props["orientation"] == "floor"]
    assert len(floors) == 2 and all(c.dims["radius_mm"] == 0.0 for c in floors)
    assert body.measurements["min_floor_corner_radius_mm"].value == 0.0


def test_slot_0_4_by_2_0(make_part):
    body = _body(make_part("slot", "slotted_block", slot_width=0.4, slot_length=2.0, slot_depth=1.0))
    (slot,) = _features(body, "slot")
    assert slot.dims["width_mm"] == pytest.approx(0.4, abs=UM)
    assert slot.dims["length_mm"] == pytest.approx(2.0, abs=UM)
    assert slot.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
    assert slot.dims["min_corner_radius_mm"] == pytest.approx(0.2, abs=UM)
    assert slot.dims["depth_width_ratio"] == pytest.approx(2.5, rel=1e-6)
    assert slot.props["approach"] == [0.0, 0.0, 1.0]
    assert slot.props["floor_z_mm"] == pytest.approx(2.0, abs=UM)
    assert body.measurements["min_internal_corner_radius_mm"].value == pytest.approx(0.2, abs=UM)


def test_holes(make_part):
    body = _body(make_part("holes", "holes_block"))
    holes = {round(h.dims["diameter_mm"], 4): h for h in _features(body, "hole")}
    assert sorted(holes) == [0.3, 0.5, 1.0, 1.25]
    a = holes[0.3]
    assert a.props["through"] and a.props["bottom"] == "through"
    assert a.dims["depth_mm"] == pytest.approx(3.0, abs=UM)
    assert a.dims["depth_diameter_ratio"] == pytest.approx(10.0, rel=1e-6)
    b = holes[1.25]
    assert not b.props["through"] and b.props["bottom"] == "flat"
    assert b.dims["depth_mm"] == pytest.approx(2.0, abs=UM)
    assert b.props["candidate_thread"] == "M1.6x0.35"  # a candidate only ...
    assert not _features(body, "thread")  # ... never a thread by itself
    c = holes[0.5]
    assert c.props["bottom"] == "drill-point"
    assert c.dims["point_angle_deg"] == pytest.approx(118.0, abs=1e-6)
    assert c.dims["depth_mm"] == pytest.approx(1.5, abs=UM)
    d = holes[1.0]
    assert d.props["through"]
    (cb,) = d.props["stack"]
    assert cb["kind"] == "counterbore"
    assert cb["diameter_mm"] == pytest.approx(1.8, abs=UM) and cb["depth_mm"] == pytest.approx(0.5, abs=UM)
    assert d.dims["depth_mm"] == pytest.approx(2.5, abs=UM)
    for h in holes.values():
        assert h.axis == (0.0, 0.0, 1.0)
        assert h.location_mm[2] == pytest.approx(3.0, abs=UM)
    assert body.measurements["min_hole_diameter_mm"].value == pytest.approx(0.3, abs=UM)
    # the counterbore's outer wall is 0.6 mm from the block's end
    assert body.measurements["min_wall_thickness_mm"].value == pytest.approx(0.6, abs=UM)


def test_lens_barrel(make_part):
    body = _body(make_part("barrel", "lens_barrel", bore=4.0, outer=6.0, seat_diameter=5.0))
    (bore,) = _features(body, "hole")
    assert bore.dims["diameter_mm"] == pytest.approx(4.0, abs=UM)
    assert bore.props["through"]
    (seat,) = bore.props["stack"]
    assert seat["diameter_mm"] == pytest.approx(5.0, abs=UM) and seat["depth_mm"] == pytest.approx(1.0, abs=UM)
    walls = sorted(round(w.dims["thickness_mm"], 6) for w in _features(body, "wall"))
    assert 0.5 in walls and 1.0 in walls  # seat wall (6-5)/2 and tube wall (6-4)/2
    assert body.measurements["min_wall_thickness_mm"].value == pytest.approx(0.5, abs=UM)
    # the shoulder above the Ø8 × 1.5 flange is turned from outside: an open step, not a pocket
    assert not _features(body, "pocket")
    (shoulder,) = _features(body, "step")
    assert shoulder.props["open"]
    assert shoulder.dims["depth_mm"] == pytest.approx(8.0 - 1.5, abs=UM)
    assert shoulder.dims["width_mm"] == pytest.approx(8.0, abs=UM)  # exact, not the 1 um chord of its outline


def test_no_false_thin_walls_at_fillets_chamfers_and_rib_junction(make_part):
    body = _body(make_part("rib", "rib_on_base", rib_thickness=0.5, fillet=0.3, chamfer=0.2))
    assert body.measurements["min_wall_thickness_mm"].value == pytest.approx(0.5, abs=UM)
    assert all(w.dims["thickness_mm"] >= 0.5 - UM for w in _features(body, "wall"))


def test_modelled_thread_m2(make_part):
    body = _body(make_part("m2", "threaded_rod", major=2.0, pitch=0.4))
    (t,) = _features(body, "thread")
    assert t.props["designation"] == "M2x0.4" and t.props["source"] == "model"
    assert t.dims["pitch_mm"] == pytest.approx(0.4, rel=0.005)
    assert t.dims["major_diameter_mm"] == pytest.approx(2.0, abs=UM)
    assert t.dims["minor_diameter_mm"] == pytest.approx(2.0 - 1.226869 * 0.4, abs=UM)
    assert t.props["internal"] is False
    assert t.props["hand"] == "right"


def test_modelled_internal_thread_m2_in_its_hole(make_part):
    body = _body(make_part("m2_tapped", "threaded_hole", major=2.0, pitch=0.4, length=3.0, bore_depth=3.5,
                           at=(0.7, -0.4)))
    (t,) = _features(body, "thread")
    (hole,) = _features(body, "hole")
    assert t.props["designation"] == "M2x0.4" and t.props["source"] == "model"
    assert t.props["internal"] is True and t.props["hole"] == hole.id
    assert t.dims["pitch_mm"] == pytest.approx(0.4, rel=0.005)
    assert t.dims["major_diameter_mm"] == pytest.approx(2.0, abs=UM)
    assert t.dims["minor_diameter_mm"] == pytest.approx(2.0 - 1.082532 * 0.4, abs=UM)
    assert hole.dims["diameter_mm"] == pytest.approx(2.0 - 1.082532 * 0.4, abs=UM)
    assert hole.dims["depth_mm"] == pytest.approx(3.5, abs=UM) and hole.props["bottom"] == "flat"
    assert tuple(t.location_mm[:2]) == pytest.approx((0.7, -0.4), abs=UM)
    assert t.props["hand"] == "right"


def test_modelled_left_hand_thread_is_left(make_part):
    body = _body(make_part("m2_left", "threaded_hole", major=2.0, pitch=0.4, length=2.0, bore_depth=2.5,
                           hand="left"))
    (t,) = _features(body, "thread")
    assert t.props["hand"] == "left" and t.props["designation"] == "M2x0.4"
    assert t.dims["pitch_mm"] == pytest.approx(0.4, rel=0.005)


def test_every_measurement_has_faces_and_location(make_part):
    body = _body(make_part("web_0.2", "plate_with_pockets", web=0.2, corner_radius=0.25))
    for m in body.measurements.values():
        assert m.faces and all(1 <= f <= body.faces for f in m.faces)
        assert m.location_mm is not None
    for f in body.features:
        assert f.faces and all(1 <= i <= body.faces for i in f.faces)


def test_slot_across_a_disc_runs_out_over_the_round_side(tmp_path):
    import cadquery as cq
    import generators

    disc = cq.Workplane("XY").circle(5.0).extrude(3.0)
    disc = disc.cut(cq.Workplane("XY").box(12.0, 0.8, 1.0, centered=(True, True, False)).translate((0, 0, 2.0)))
    path = generators.export_step(disc, tmp_path / "slotted_disc.step")
    body = _body(path)
    (slot,) = _features(body, "slot")
    assert slot.props["open"] and slot.dims["width_mm"] == pytest.approx(0.8, abs=UM)
    assert slot.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
