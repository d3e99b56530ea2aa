"""The access model (issue 13): where a cutter comes from, on parts built to exact dimensions.

Each part is a CadQuery generator (example_parts/generators.py) exported to STEP and read back,
so the real import path is exercised. Lengths are checked to the micrometre.
"""

from __future__ import annotations

import math

import pytest

from dfm import api
from dfm.features import analyse_solid
from dfm.kernel import load

UM = 1e-3


def _analyse(make_part, name, gen, **kw):
    path = make_part(name, gen, **kw)
    return analyse_solid(load(path).solids[0]), path


def _regions(an):
    return [f for f in an.features if f.kind in ("pocket", "slot", "step")]


def _codes(path, *, extra=None):
    res = api.analyze(path, api.Options(extra=extra or {}))
    assert res.status == "ok", res.error
    return res, {f.code: f for f in res.all_findings}


def test_pocket_on_a_30_degree_face_is_approached_along_its_normal(make_part):
    an, path = _analyse(make_part, "acc-inclined", "inclined_pocket")
    (p,) = _regions(an)
    assert p.kind == "pocket" and not p.props["open"] and not p.props["through"]
    a = p.props["approach"]
    assert a == pytest.approx([0.0, -0.5, math.sqrt(3) / 2], abs=1e-9)
    assert p.dims["width_mm"] == pytest.approx(2.5, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(4.0, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
    assert p.dims["min_corner_radius_mm"] == pytest.approx(0.4, abs=UM)
    assert p.dims["tilt_deg"] == pytest.approx(30.0, abs=1e-6)
    assert p.props["setup"] == "3+2"
    # CAM's contract: the frame and heights are along the approach
    u, v = p.props["frame_u"], p.props["frame_v"]
    assert sum(x * y for x, y in zip(u, a, strict=True)) == pytest.approx(0, abs=1e-9)
    assert sum(x * y for x, y in zip(v, a, strict=True)) == pytest.approx(0, abs=1e-9)
    assert p.props["top_z_mm"] - p.props["floor_z_mm"] == pytest.approx(1.0, abs=UM)
    assert an.access["undercut_faces"] == []
    assert any(s["tilt_deg"] == pytest.approx(30.0) for s in an.access["setups"])
    res, codes = _codes(path)
    assert codes["DFM651"].severity.value == "warning"
    assert "30" in codes["DFM651"].message
    assert "DFM601" not in codes and "DFM201" not in codes  # its corners are 0.4 mm: a tool fits


@pytest.mark.parametrize("angle", [20.0, 30.0, 45.0])
@pytest.mark.parametrize(("across", "along"), [(3.0, 4.0), (4.0, 3.0)])
def test_pocket_on_an_inclined_face_is_measured_wall_to_wall_in_its_own_frame(make_part, angle, across, along):
    # a 3 x 4 pocket cut square into the inclined face reads 3 x 4 whichever way it lies on the
    # slope (``across``: along x, level; ``along``: down the slope), as it does on a flat face
    an, _ = _analyse(make_part, f"acc-inclined-{angle:g}-{across:g}x{along:g}", "inclined_pocket", angle=angle,
                     pocket_length=across, pocket_width=along, face_drop=2.0)
    (p,) = _regions(an)
    assert p.kind == "pocket" and not p.props["open"]
    a = math.radians(angle)
    assert p.props["approach"] == pytest.approx([0.0, -math.sin(a), math.cos(a)], abs=1e-9)
    assert p.dims["width_mm"] == pytest.approx(3.0, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(4.0, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
    assert p.dims["tilt_deg"] == pytest.approx(angle, abs=1e-6)
    # the outline (approach frame) spans the same sizes: level across, down the slope along
    us = [q[0] for q in p.props["outline"]]
    vs = [q[1] for q in p.props["outline"]]
    spans = sorted([max(us) - min(us), max(vs) - min(vs)])
    assert spans == pytest.approx([3.0, 4.0], abs=UM)


def test_needs_extra_setup_is_info_on_a_five_axis_machine(make_part, tmp_path):
    path = make_part("acc-inclined", "inclined_pocket")
    prof = tmp_path / "five.toml"
    prof.write_text('kind = "user"\nname = "five-axis"\n[vars]\nmachine_axes = 5\n')
    res = api.analyze(path, api.Options(profile=str(prof)))
    sev = {f.code: f.severity.value for f in res.all_findings}
    assert sev["DFM651"] == "info"


def test_t_slot_head_is_an_undercut_and_the_slot_is_its_neck(make_part):
    an, path = _analyse(make_part, "acc-tslot", "t_slot_block")
    (s,) = _regions(an)
    assert s.kind == "slot" and s.props["approach"] == [0.0, 0.0, 1.0]
    assert s.dims["width_mm"] == pytest.approx(1.0, abs=UM)  # the neck, not the 3 mm head
    assert s.dims["depth_mm"] == pytest.approx(2.0, abs=UM)
    (u,) = [f for f in an.features if f.kind == "undercut"]
    geo = an.geo
    ceilings = {i for i, f in geo.faces.items() if f.kind == "plane" and f.normal[2] < -0.999
                and abs(f.origin[2] - 4.0) < 1e-9}
    head_walls = {i for i, f in geo.faces.items() if f.kind == "plane" and abs(abs(f.normal[1]) - 1) < 1e-9
                  and abs(abs(f.origin[1]) - 1.5) < 1e-9}
    neck_walls = {i for i, f in geo.faces.items() if f.kind == "plane" and abs(abs(f.normal[1]) - 1) < 1e-9
                  and abs(abs(f.origin[1]) - 0.5) < 1e-9}
    assert len(ceilings) == 2 and len(head_walls) == 2 and len(neck_walls) == 2
    assert ceilings | head_walls <= set(u.faces)
    assert not neck_walls & set(u.faces)
    assert set(an.access["undercut_faces"]) == set(u.faces)
    assert u.props["profile"] == "t-slot" and u.dims["height_mm"] == pytest.approx(1.0, abs=UM)
    res, codes = _codes(path)
    assert codes["DFM650"].severity.value == "warning"
    assert set(codes["DFM650"].faces) == set(u.faces)
    assert "T-slot" in codes["DFM650"].message
    assert not [f for f in res.all_findings if f.severity.value == "error"]
    body = res.bodies[0]
    assert body.access["undercut_faces"] == sorted(u.faces)


def test_dovetail_flanks_are_an_undercut(make_part):
    an, path = _analyse(make_part, "acc-dovetail", "dovetail_block")
    under = [f for f in an.features if f.kind == "undercut"]
    geo = an.geo
    flanks = {i for i, f in geo.faces.items() if f.kind == "plane" and -0.6 < f.normal[2] < -0.4}
    assert len(flanks) == 2 and flanks == {i for u in under for i in u.faces}
    for u in under:
        assert u.props["profile"] == "dovetail" and u.props["approach"] == [0.0, 0.0, 1.0]
        assert u.dims["angle_deg"] == pytest.approx(60.0, abs=1e-6)
        assert u.dims["height_mm"] == pytest.approx(1.5, abs=UM)
    res, codes = _codes(path)
    assert "DFM650" in codes and "DFM201" not in codes


@pytest.mark.parametrize("kw", [{}, {"slot_length": 6.0}], ids=["both-ends", "one-end"])
def test_open_slot_floor_edges_are_floor_corners(make_part, kw):
    name = "acc-openslot-" + ("-".join(f"{k}{v}" for k, v in kw.items()) or "through")
    an, path = _analyse(make_part, name, "open_slot_block", **kw)
    (s,) = _regions(an)
    assert s.kind == "slot" and s.props["open"]
    assert s.dims["width_mm"] == pytest.approx(1.5, abs=UM)
    assert s.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
    assert s.dims["length_mm"] == pytest.approx(kw.get("slot_length", 10.0), abs=UM)
    assert not [c for c in an.features if c.kind == "corner" and c.props["orientation"] == "vertical"
                and c.dims["radius_mm"] == 0.0]
    res, codes = _codes(path)
    assert "DFM201" not in codes
    assert not [f for f in res.all_findings if f.severity.value == "error"]


def test_floor_fillet_pocket_length_is_wall_to_wall(make_part):
    an, _ = _analyse(make_part, "acc-floorfillet", "floor_fillet_pocket")
    (p,) = _regions(an)
    assert p.kind == "pocket"
    assert p.dims["length_mm"] == pytest.approx(4.0, abs=UM)
    assert p.dims["width_mm"] == pytest.approx(3.0, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(1.5, abs=UM)
    assert p.dims["floor_radius_mm"] == pytest.approx(0.2, abs=UM)
    assert p.dims["min_corner_radius_mm"] == pytest.approx(0.5, abs=UM)


def test_pocket_whose_floor_a_passage_cuts_stays_closed(make_part):
    an, _ = _analyse(make_part, "acc-pocketpassage", "pocket_with_passage")
    blind = [f for f in _regions(an) if not f.props["through"]]
    through = [f for f in _regions(an) if f.props["through"]]
    assert len(blind) == 1 and len(through) == 1
    (p,), (q,) = blind, through
    assert p.kind == "pocket" and not p.props["open"]
    assert p.dims["width_mm"] == pytest.approx(4.0, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(6.0, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(1.0, abs=UM)
    assert q.dims["width_mm"] == pytest.approx(1.5, abs=UM)
    assert q.dims["min_corner_radius_mm"] == pytest.approx(0.3, abs=UM)
    assert len(p.props["islands"]) == 1  # the passage's opening in the floor


def test_triangular_passage_with_a_corner_chamfer_is_found(make_part):
    an, _ = _analyse(make_part, "acc-tripassage", "triangular_passage")
    (p,) = _regions(an)
    assert p.props["through"] and not p.props["open"]
    assert len(p.faces) == 4  # three sides and the chamfer
    # narrowest caliper: the chamfer to the hypotenuse, (4 - 0.5) / sqrt(2)
    assert p.dims["width_mm"] == pytest.approx(3.5 / math.sqrt(2), abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(2.0, abs=UM)


def test_triangular_passage_without_opposed_walls_is_found(make_part):
    an, _ = _analyse(make_part, "acc-tripassage-sharp", "triangular_passage", chamfer=0.0)
    (p,) = _regions(an)
    assert p.props["through"] and len(p.faces) == 3
    # no two walls face each other: the narrowest caliper width is the altitude on the hypotenuse
    assert p.dims["width_mm"] == pytest.approx(4.0 / math.sqrt(2), abs=UM)


def test_oring_groove_round_a_boss_is_an_annular_slot(make_part):
    an, _ = _analyse(make_part, "acc-oring", "oring_groove")
    assert not [f for f in an.features if f.kind == "hole"]
    (g,) = _regions(an)
    assert g.kind == "slot" and g.props["shape"] == "annular" and not g.props["open"]
    assert g.dims["width_mm"] == pytest.approx(2.8, abs=UM)
    assert g.dims["depth_mm"] == pytest.approx(1.2, abs=UM)
    assert g.dims["length_mm"] == pytest.approx(math.pi * (6.0 + 8.8), abs=UM)
    assert len(g.props["islands"]) == 1  # the boss


@pytest.mark.parametrize("slope", [3.0, 10.0])
def test_sloped_floor_between_vertical_walls_is_a_pocket_from_the_top(make_part, slope):
    """A floor a few degrees off the top between walls that all stand vertical is a pocket machined
    from +Z with a sloped floor: not a pocket on an inclined face needing a tilted setup, and its
    walls are no dovetail undercut (before: DFM651 and a false DFM650 'no end mill reaches it')."""
    an, path = _analyse(make_part, f"acc-sloped-{slope:g}", "sloped_floor_pocket", slope=slope)
    (p,) = _regions(an)
    assert p.kind == "pocket" and p.props["approach"] == [0.0, 0.0, 1.0]
    assert p.props["floor"] == "sloped" and "setup" not in p.props and "tilt_deg" not in p.dims
    drop = 6.0 * math.tan(math.radians(slope))
    assert p.props["floor_z_mm"] == pytest.approx(3.0, abs=UM)  # the highest point: a flat mill's lowest level
    assert p.props["floor_low_z_mm"] == pytest.approx(3.0 - drop, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(1.0 + drop, abs=UM)
    assert p.dims["floor_slope_deg"] == pytest.approx(slope, abs=1e-6)
    assert p.dims["width_mm"] == pytest.approx(4.0, abs=UM) and p.dims["length_mm"] == pytest.approx(6.0, abs=UM)
    assert p.dims["min_corner_radius_mm"] == pytest.approx(0.5, abs=UM)
    assert an.access["undercut_faces"] == [] and not [f for f in an.features if f.kind == "undercut"]
    _, codes = _codes(path)
    assert "DFM650" not in codes and "DFM651" not in codes and "DFM201" not in codes


def test_sloped_floor_pocket_is_roughed_to_its_highest_point_and_the_slope_listed(make_part):
    from dfm.cam.gcode import generate

    path = make_part("acc-sloped-10", "sloped_floor_pocket", slope=10.0)
    gen, result = generate(path)
    assert not gen.verification.dropped
    ops = [op for su in gen.program.setups for op in su.operations if "pocket-1" in op.features]
    assert ops and all(min(st.z for st in op.steps) >= 3.0 - 1e-6 for op in ops)
    (left,) = [i for i in gen.verification.incomplete if i[1] == "pocket-1"]
    assert "sloped floor" in left[3] and "1.058 mm is left" in left[3]


def test_a_circular_edges_extremes_along_any_direction_are_exact():
    """``Access.extent`` along a direction off the axes took a face's extremes from its boundary chords (1 µm
    short on arcs: a closed slot turned 17° measured 5.998 long); an arc's own extremes are now exact."""
    import math
    import random
    from types import SimpleNamespace

    from dfm.kernel.access import _arc_extremes

    rng = random.Random(8500)
    for _ in range(300):
        n = _unit([rng.gauss(0, 1) for _ in range(3)])
        a = [rng.gauss(0, 1) for _ in range(3)]
        t = sum(x * y for x, y in zip(a, n, strict=True))
        u1 = _unit([x - t * y for x, y in zip(a, n, strict=True)])
        u2 = (n[1] * u1[2] - n[2] * u1[1], n[2] * u1[0] - n[0] * u1[2], n[0] * u1[1] - n[1] * u1[0])
        c, r = tuple(rng.uniform(-5, 5) for _ in range(3)), rng.uniform(0.1, 3.0)
        sweep = 2 * math.pi if rng.random() < 0.1 else rng.choice([1, -1]) * rng.uniform(0.1, 2 * math.pi - 0.1)

        def at(s, c=c, r=r, u1=u1, u2=u2):
            return tuple(c[i] + r * (math.cos(s) * u1[i] + math.sin(s) * u2[i]) for i in range(3))

        e = SimpleNamespace(kind="circle", center=c, radius=r, axis=n, start=at(0.0), end=at(sweep),
                            midpoint=at(sweep / 2))
        d = _unit([rng.gauss(0, 1) for _ in range(3)])
        dense = [sum(x * y for x, y in zip(at(sweep * i / 4000), d, strict=True)) for i in range(4001)]
        ends = [sum(x * y for x, y in zip(p, d, strict=True)) for p in (e.start, e.end)]
        vals = _arc_extremes(e, d) + ends
        assert max(vals) == pytest.approx(max(dense), abs=2e-6) and max(vals) >= max(dense) - 1e-12
        assert min(vals) == pytest.approx(min(dense), abs=2e-6) and min(vals) <= min(dense) + 1e-12


def _unit(v):
    length = sum(x * x for x in v) ** 0.5
    return tuple(x / length for x in v)
