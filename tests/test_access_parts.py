"""Recognition rules of the access model on exact parts: tunnels, V-grooves, chamfers, rounds.

Each rule here was found wanting on the labelled corpora (benchmarks/recognition.py) and is a
geometric rule, checked on a CadQuery part built to exact dimensions (example_parts/generators.py).
"""

from __future__ import annotations

import math

import pytest

from dfm.features import analyse_solid
from dfm.kernel import load

UM = 1e-3


def _analyse(make_part, name, gen, **kw):
    return analyse_solid(load(make_part(name, gen, **kw)).solids[0])


def _kind(an, *kinds):
    return [f for f in an.features if f.kind in kinds]


def _planes(an, normal, at=None, axis=None):
    """Planar faces with this outward normal (and at this coordinate along ``axis``)."""
    out = set()
    for i, f in an.geo.faces.items():
        if f.kind == "plane" and all(abs(a - b) < 1e-9 for a, b in zip(f.normal, normal, strict=True)):
            if at is None or abs(f.origin[axis] - at) < 1e-9:
                out.add(i)
    return out


def test_tunnel_crossed_by_a_pocket_is_a_passage_not_a_step(make_part):
    # the tunnel's floor is seen from the top through the pocket; its ends lie under material
    an = _analyse(make_part, "accp-tunnel", "tunnel_block")
    through = [f for f in _kind(an, "pocket", "slot", "step") if f.props["through"]]
    blind = [f for f in _kind(an, "pocket", "slot", "step") if not f.props["through"]]
    assert len(through) == 1 and len(blind) == 1
    (t,), (p,) = through, blind
    assert t.kind == "pocket" and t.props["approach"] == [1.0, 0.0, 0.0] and not t.props["open"]
    assert t.dims["width_mm"] == pytest.approx(2.0, abs=UM)  # the tunnel's height
    assert t.dims["depth_mm"] == pytest.approx(12.0, abs=UM)  # through the block
    tunnel_floor = _planes(an, (0, 0, 1), 1.0, 2)
    assert tunnel_floor <= set(t.faces)
    # the pocket keeps both pieces of its floor (the tunnel splits it) and its four walls
    assert p.props["approach"] == [0.0, 0.0, 1.0] and not p.props["open"]
    assert _planes(an, (0, 0, 1), 2.0, 2) <= set(p.faces) and len(_planes(an, (0, 0, 1), 2.0, 2)) == 2
    assert p.dims["depth_mm"] == pytest.approx(4.0, abs=UM)
    assert an.access["undercut_faces"] == []


def test_v_groove_is_a_through_slot(make_part):
    an = _analyse(make_part, "accp-vgroove", "v_groove_block")
    (s,) = _kind(an, "pocket", "slot", "step")
    assert s.kind == "slot" and s.props["through"] and s.props["open"]
    assert s.props["approach"] == [1.0, 0.0, 0.0]
    assert len(s.faces) == 2
    # narrowest caliper: from one flank to the far top edge of the other, w*h / sqrt(h^2 + w^2/4)
    assert s.dims["width_mm"] == pytest.approx(2.0 * 1.5 / math.hypot(1.5, 1.0), abs=UM)
    assert s.dims["depth_mm"] == pytest.approx(10.0, abs=UM)
    assert an.access["undercut_faces"] == []


def test_t_slot_head_is_no_v_groove(make_part):
    # the head's wall and ceiling meet concavely along x but open towards no common side
    an = _analyse(make_part, "accp-tslot", "t_slot_block")
    assert [f.props["approach"] for f in _kind(an, "pocket", "slot", "step")] == [[0.0, 0.0, 1.0]]


def test_floor_chamfers_and_countersinks_are_chamfer_features(make_part):
    an = _analyse(make_part, "accp-chamfers", "chamfered_holes_pocket")
    (p,) = _kind(an, "pocket")
    (h,) = _kind(an, "hole")
    chamfers = {c.props["of"]: c for c in _kind(an, "chamfer")}
    assert set(chamfers) == {p.id, h.id}
    floor = chamfers[p.id]
    assert floor.props["edge"] == "floor" and len(floor.faces) == 4  # the four 45° faces round the floor
    assert set(floor.faces) <= set(p.faces)  # still faces of the pocket
    assert floor.dims["angle_deg"] == pytest.approx(45.0, abs=1e-6)
    assert floor.dims["height_mm"] == pytest.approx(0.3, abs=UM)
    assert p.dims["width_mm"] == pytest.approx(4.0, abs=UM) and p.dims["length_mm"] == pytest.approx(5.0, abs=UM)
    sink = chamfers[h.id]
    assert sink.props["edge"] == "entry" and set(sink.faces) <= set(h.faces)
    assert sink.dims["angle_deg"] == pytest.approx(45.0, abs=1e-6)
    assert sink.dims["height_mm"] == pytest.approx(0.7, abs=UM)  # (3.0 - 1.6) / 2 at 90°
    # a countersunk through hole is drilled from its countersink's side
    assert h.props["approach"] == [0.0, 0.0, 1.0] and h.props["through"]
    assert h.dims["diameter_mm"] == pytest.approx(1.6, abs=UM)
    assert an.access["undercut_faces"] == []


def test_convex_round_of_the_parts_edge_is_not_part_of_a_step(make_part):
    an = _analyse(make_part, "accp-roundstep", "rounded_step_block")
    (s,) = _kind(an, "pocket", "slot", "step")
    rounds = {i for i, f in an.geo.faces.items() if f.kind == "cylinder" and f.concave is False}
    assert len(rounds) == 2
    assert not rounds & set(s.faces)
    assert s.kind == "step" and s.dims["depth_mm"] == pytest.approx(2.0, abs=UM)


def _width_of(outline):
    ys = [p[1] for p in outline]
    return max(ys) - min(ys)


def test_t_slot_outline_is_the_neck_opening_not_the_head_floor(make_part):
    # CAM clears props.outline from the approach: only the neck's shadow-free strip is reachable
    an = _analyse(make_part, "accp-tslot", "t_slot_block")
    (s,) = _kind(an, "slot")
    assert _width_of(s.props["outline"]) == pytest.approx(1.0, abs=UM)  # neck_width
    assert _width_of(s.props["floor_outline"]) == pytest.approx(3.0, abs=UM)  # head_width
    xs = [p[0] for p in s.props["outline"]]
    assert max(xs) - min(xs) == pytest.approx(10.0, abs=UM)
    (u,) = _kind(an, "undercut")
    assert u.props["opens_into"] == s.id


def test_dovetail_has_a_slot_for_its_opening(make_part):
    an = _analyse(make_part, "accp-dovetail", "dovetail_block")
    (s,) = _kind(an, "pocket", "slot", "step")
    assert s.kind == "slot" and s.props["approach"] == [0.0, 0.0, 1.0] and s.props["open"]
    assert s.dims["width_mm"] == pytest.approx(2.0, abs=UM)  # top_width: the opening
    assert s.dims["depth_mm"] == pytest.approx(1.5, abs=UM)
    assert s.dims["length_mm"] == pytest.approx(10.0, abs=UM)
    assert _width_of(s.props["outline"]) == pytest.approx(2.0, abs=UM)
    assert _width_of(s.props["floor_outline"]) == pytest.approx(2.0 + 2 * 1.5 / math.tan(math.radians(60)), abs=UM)
    flanks = {i for i, f in an.geo.faces.items() if f.kind == "plane" and -0.6 < f.normal[2] < -0.4}
    under = [f for f in an.features if f.kind == "undercut"]
    assert {i for u in under for i in u.faces} == flanks
    assert all(u.props["opens_into"] == s.id for u in under)
