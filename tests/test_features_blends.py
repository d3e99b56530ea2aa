"""Obtuse corners (a shallow V-groove), drafted pocket walls and islands near a wall.

Parts are built here in CadQuery to known dimensions and read back through STEP, as a user's
would be; sizes to the micrometre, angles to 0.01°. Variations the analysers were not written
round: other angles and sizes, parts turned 30° about Z.
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from dfm import api

UM = 1e-3  # one micrometre in mm
DEG = 0.01


def _result(path):
    r = api.analyze(path)
    assert r.status == "ok", r.error
    return r


def _codes(r) -> dict[str, list]:
    out: dict[str, list] = {}
    for b in r.bodies:
        for f in b.findings:
            out.setdefault(f.code, []).append(f)
    return out


def _kind(r, *kinds):
    (body,) = r.bodies
    return [f for f in body.features if f.kind in kinds]


def _turn(part: cq.Workplane, deg: float) -> cq.Workplane:
    return part.rotate((0, 0, 0), (0, 0, 1), deg) if deg else part


# --- 1. obtuse concave edges: a shallow V-groove --------------------------------------------

def shallow_v(included_deg: float, width: float = 2.0, length: float = 8.0) -> cq.Workplane:
    """A 12 x ``length`` x 3 block with a V-groove across x = 5..5+width on its top, running along y.

    The flanks meet at ``included_deg`` (the angle across the groove's void) at depth
    (width / 2) / tan(included / 2).
    """
    depth = (width / 2) / math.tan(math.radians(included_deg / 2))
    x0 = 6.0 - width / 2
    pts = [(0, 0), (12, 0), (12, 3), (x0 + width, 3), (6.0, 3 - depth), (x0, 3), (0, 3)]
    return cq.Workplane("XZ").polyline(pts).close().extrude(-length)


@pytest.mark.parametrize("included", [150.0, 140.0, 165.0])
def test_obtuse_v_floor_is_no_sharp_internal_corner(build, included):
    r = _result(build(f"vee{included:g}", shallow_v(included)))
    codes = _codes(r)
    assert "DFM201" not in codes and "DFM601" not in codes
    corners = _kind(r, "corner")
    obtuse = [c for c in corners if c.props["orientation"] == "obtuse"]
    assert len(obtuse) == 1 and not [c for c in corners if c.props["orientation"] == "vertical"]
    assert obtuse[0].dims["angle_deg"] == pytest.approx(included, abs=DEG)
    (slot,) = _kind(r, "slot", "pocket", "step")
    assert slot.props["shape"] == "v-groove"
    assert slot.dims["v_angle_deg"] == pytest.approx(included, abs=DEG)
    assert "min_corner_radius_mm" not in slot.dims  # the obtuse floor limits no tool
    assert slot.dims["width_mm"] == pytest.approx(2.0, abs=UM)  # the opening, not the closed triangle's caliper
    # the truthful finding: a V needs a V cutter or a 3D finish
    assert [f.severity.value for f in codes["DFM306"]] == ["warning"]


def test_long_asymmetric_shallow_v_needs_no_impossible_tool(build):
    # 12 mm along x, flanks 1.5 and 0.5 mm wide: its closed triangle's caliper (0.39 mm) is no width
    pts = [(0, 0), (10, 0), (10, 3), (6, 3), (4.5, 2.7), (4, 3), (0, 3)]
    r = _result(build("vee_asym", cq.Workplane("YZ").polyline(pts).close().extrude(12)))
    codes = _codes(r)
    assert not {"DFM201", "DFM601", "DFM602", "DFM603"} & set(codes)
    (slot,) = _kind(r, "slot")
    assert slot.dims["width_mm"] == pytest.approx(2.0, abs=UM)
    angle = 180.0 - math.degrees(math.atan(0.3 / 1.5)) - math.degrees(math.atan(0.3 / 0.5))
    assert slot.dims["v_angle_deg"] == pytest.approx(angle, abs=DEG)


def test_v_groove_turned_30_deg_is_no_false_error(build):
    r = _result(build("vee150_rot30", _turn(shallow_v(150.0), 30.0)))
    codes = _codes(r)
    assert "DFM201" not in codes and "DFM601" not in codes
    assert all(c.props["orientation"] != "vertical" for c in _kind(r, "corner"))


@pytest.mark.parametrize("depth", [1.5, 2.5])
def test_steep_v_groove_keeps_its_sharp_corner(make_part, depth):
    # 67° and 44° V: a flat end mill along the groove leaves its radius in the bottom: still DFM201
    r = _result(make_part(f"blends-vee-d{depth}", "v_groove_block", groove_width=2.0, groove_depth=depth))
    codes = _codes(r)
    assert "DFM201" in codes
    (slot,) = _kind(r, "slot")
    assert slot.dims["min_corner_radius_mm"] == 0.0
    assert slot.dims["v_angle_deg"] == pytest.approx(2 * math.degrees(math.atan(1.0 / depth)), abs=DEG)


def test_hexagon_pocket_corners_stay_sharp(build):
    # 120° corners are not obtuse enough to leave a tool unlimited: DFM201 as for a square corner
    part = cq.Workplane("XY").box(12, 12, 3, centered=(True, True, False)).faces(">Z").workplane() \
        .polygon(6, 6.0).cutBlind(-1.5)
    r = _result(build("hexagon", part))
    vertical = [c for c in _kind(r, "corner") if c.props["orientation"] == "vertical"]
    assert len(vertical) == 6 and all(c.dims["radius_mm"] == 0.0 for c in vertical)
    assert len(_codes(r)["DFM201"]) == 6


# --- 2. drafted pockets -------------------------------------------------------------------

def drafted_pocket(draft: float, length: float = 8.0, width: float = 6.0, depth: float = 2.0,
                   corner_radius: float = 0.0) -> cq.Workplane:
    """A 14 x 12 x 4 block with a pocket ``length`` x ``width`` at its floor (z = 4 - depth).

    Its walls widen upwards by ``draft``°; with ``corner_radius`` the floor's corners are
    rounded and the drafted corners are cones.
    """
    block = cq.Workplane("XY").box(14, 12, 4, centered=(True, True, False))
    base = cq.Workplane("XY").workplane(offset=4 - depth)
    sk = base.sketch().rect(length, width).vertices().fillet(corner_radius).finalize() if corner_radius \
        else base.rect(length, width)
    return block.cut(sk.extrude(depth + 0.01, taper=-draft))


@pytest.mark.parametrize(("draft", "length", "width", "depth", "turn"), [
    (5.0, 8.0, 6.0, 2.0, 0.0),
    (1.0, 8.0, 6.0, 2.0, 0.0),
    (10.0, 5.0, 3.0, 1.5, 0.0),
    (3.0, 8.0, 6.0, 2.0, 30.0),
])
def test_drafted_pocket_is_recognised(build, draft, length, width, depth, turn):
    r = _result(build(f"draft{draft:g}_{length:g}x{width:g}_{turn:g}",
                      _turn(drafted_pocket(draft, length, width, depth), turn)))
    (p,) = _kind(r, "pocket", "slot", "step")
    assert p.kind == "pocket" and p.props["approach"] == [0.0, 0.0, 1.0] and not p.props["open"]
    assert p.dims["width_mm"] == pytest.approx(width, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(length, abs=UM)
    assert p.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert p.dims["draft_deg"] == pytest.approx(draft, abs=DEG)
    codes = _codes(r)
    assert [f.severity.value for f in codes["DFM307"]] == ["warning"]
    # the walls meet in sharp corners at the floor: as unmachinable as a vertical sharp corner
    assert p.dims["min_corner_radius_mm"] == 0.0
    assert "DFM201" in codes
    assert r.bodies[0].access["undercut_faces"] == []
    # every face is in the pocket or is stock: nothing left unexplained
    assert not [c for c in _kind(r, "chamfer") if c.props["of"] == p.id]


def test_drafted_pocket_with_round_corners(build):
    r = _result(build("draft5_r05", drafted_pocket(5.0, corner_radius=0.5)))
    (p,) = _kind(r, "pocket")
    assert p.dims["draft_deg"] == pytest.approx(5.0, abs=DEG)
    assert p.dims["width_mm"] == pytest.approx(6.0, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(8.0, abs=UM)
    assert p.dims["min_corner_radius_mm"] == pytest.approx(0.5, abs=UM)
    assert "DFM201" not in _codes(r)


def test_vertical_pocket_has_no_draft(make_part):
    r = _result(make_part("blends-plain", "plate_with_pockets", corner_radius=0.25, web=1.0))
    assert all("draft_deg" not in p.dims for p in _kind(r, "pocket"))
    assert "DFM307" not in _codes(r)


# --- 3. islands near a wall ----------------------------------------------------------------

def island_pocket(gap: float, turn: float = 0.0, round_island: bool = False) -> cq.Workplane:
    """A 12 x 10 x 3 block with an 8 x 6 pocket (R0.5 corners) 1.5 deep round a 3 x 2 island (R0.3).

    The island stands ``gap`` from the pocket's +x wall (or a Ø2 round island, as far).
    """
    p = cq.Workplane("XY").box(12, 10, 3).translate((0, 0, 1.5))
    pk = cq.Workplane("XY").rect(8, 6).extrude(1.5).edges("|Z").fillet(0.5).translate((0, 0, 1.5))
    if round_island:
        isl = cq.Workplane("XY").circle(1.0).extrude(1.5).translate((4 - gap - 1.0, 0, 1.5))
    else:
        isl = cq.Workplane("XY").rect(3, 2).extrude(1.5).edges("|Z").fillet(0.3).translate((4 - gap - 1.5, 0, 1.5))
    return _turn(p.cut(pk.cut(isl)), turn)


@pytest.mark.parametrize(("gap", "turn", "severity"), [
    (0.35, 0.0, "warning"),
    (0.6, 0.0, "info"),
    (1.2, 0.0, None),
    (0.35, 30.0, "warning"),
])
def test_island_gap_is_no_pocket_width(build, gap, turn, severity):
    r = _result(build(f"island{gap:g}_{turn:g}", island_pocket(gap, turn)))
    (p,) = _kind(r, "pocket", "slot", "step")
    assert p.kind == "pocket"
    assert p.dims["width_mm"] == pytest.approx(6.0, abs=UM)
    assert p.dims["length_mm"] == pytest.approx(8.0, abs=UM)
    assert p.dims["min_gap_mm"] == pytest.approx(gap, abs=UM)
    assert p.dims["min_corner_radius_mm"] == pytest.approx(0.5, abs=UM)
    assert len(p.props["islands"]) == 1
    codes = _codes(r)
    assert "DFM304" not in codes and "DFM301" not in codes
    assert [f.severity.value for f in codes.get("DFM305", [])] == ([severity] if severity else [])


def test_round_island_gap(build):
    r = _result(build("island_round", island_pocket(0.4, round_island=True)))
    (p,) = _kind(r, "pocket")
    assert p.dims["width_mm"] == pytest.approx(6.0, abs=UM)
    assert p.dims["min_gap_mm"] == pytest.approx(0.4, abs=UM)


def test_two_islands_gap_between_them(build):
    p = cq.Workplane("XY").box(14, 10, 3).translate((0, 0, 1.5))
    pk = cq.Workplane("XY").rect(10, 6).extrude(1.5).translate((0, 0, 1.5))
    isl = cq.Workplane("XY").pushPoints([(-1.25, 0), (1.25, 0)]).rect(2.0, 2.0).extrude(1.5).translate((0, 0, 1.5))
    r = _result(build("two_islands", p.cut(pk.cut(isl))))
    (f,) = _kind(r, "pocket")
    assert f.dims["width_mm"] == pytest.approx(6.0, abs=UM)
    assert f.dims["length_mm"] == pytest.approx(10.0, abs=UM)
    assert f.dims["min_gap_mm"] == pytest.approx(0.5, abs=UM)  # the islands stand 0.5 apart


def _filleted_islands(gap: float, corner: float, fillet: float, size: float, turn: float) -> cq.Workplane:
    """A 16 x 12 x 3 block, a 12 x 8 pocket (R0.6 corners) 1.5 deep round two ``size`` square islands
    (``corner`` vertical rounds) ``gap`` apart; every edge of the pocket's floor filleted by ``fillet``."""
    p = cq.Workplane("XY").box(16, 12, 3).translate((0, 0, 1.5))
    pk = cq.Workplane("XY").rect(12, 8).extrude(1.5).edges("|Z").fillet(0.6).translate((0, 0, 1.5))
    c = (size + gap) / 2
    isl = (cq.Workplane("XY").pushPoints([(-c, 0), (c, 0)]).rect(size, size).extrude(1.5)
           .edges("|Z").fillet(corner).translate((0, 0, 1.5)))
    part = p.cut(pk.cut(isl)).edges(cq.selectors.BoxSelector((-6.01, -4.01, 1.49), (6.01, 4.01, 1.51))).fillet(fillet)
    return _turn(part, turn)


_ISLAND_CASES = [(0.5, 0.3, 0.05, 2.0, 0.0), (0.5, 0.3, 0.1, 2.0, 0.0)] + [
    (round(rng.uniform(0.3, 1.0), 3), round(rng.uniform(0.15, 0.5), 3), round(rng.uniform(0.03, 0.12), 3),
     round(rng.uniform(1.5, 2.5), 3), rng.choice([0.0, 17.0]))
    for rng in [__import__("random").Random(8100 + k) for k in range(4)]]


@pytest.mark.parametrize(("gap", "corner", "fillet", "size", "turn"), _ISLAND_CASES)
def test_islands_over_a_filleted_floor_keep_their_rounds(build, gap, corner, fillet, size, turn):
    """Floor fillets part an island's vertical rounds from the floor: the rounds were left out of the
    pocket (each a false DFM650 undercut, "1.45 mm high, under material") and the island's sides were
    measured as gaps to each other (two 2 x 2 islands with R0.3 corners 0.5 apart: min_gap 0.424 =
    0.3 x sqrt 2)."""
    r = _result(build(f"islands_fillet_{gap}_{corner}_{fillet}_{size}_{turn:g}", _filleted_islands(gap, corner, fillet,
                                                                                                   size, turn)))
    (f,) = _kind(r, "pocket", "slot", "step")
    assert f.kind == "pocket"
    assert f.dims["floor_radius_mm"] == pytest.approx(fillet, abs=UM)
    assert f.dims["min_gap_mm"] == pytest.approx(gap, abs=UM)
    assert len(f.props["islands"]) == 2
    assert not _kind(r, "undercut")
    assert "DFM650" not in _codes(r)
    assert not _kind(r, "unrecognised")


@pytest.mark.parametrize("fillet", [0.0, 0.08])
def test_a_lone_boss_in_an_open_slot_has_no_gap_to_itself(build, fillet):
    """A 3 x 2 boss with R0.4 corners on the floor of a slot open at one end: its sides are no gap to each other
    (a step round a boss with R13 corners in a NIST part was measured 6.725 = 2 x 13 x sin 15° "from
    another island": a false DFM305 warning)."""
    p = cq.Workplane("XY").box(12, 10, 3).translate((0, 0, 1.5))
    cut = cq.Workplane("XY").rect(10, 6).extrude(1.5).edges("|Z").fillet(0.5).translate((3, 0, 1.5))
    boss = cq.Workplane("XY").rect(3, 2).extrude(1.5).edges("|Z").fillet(0.4).translate((0.3, 0, 1.5))
    part = p.cut(cut.cut(boss))
    if fillet:
        part = part.edges(cq.selectors.BoxSelector((-2.01, -3.01, 1.49), (5.9, 3.01, 1.51))).fillet(fillet)
    r = _result(build(f"boss_in_step_{fillet:g}", part))
    (f,) = _kind(r, "pocket", "slot", "step")
    assert f.kind == "slot"  # open at its end
    assert f.dims["width_mm"] == pytest.approx(6.0, abs=UM)
    assert f.dims["min_gap_mm"] == pytest.approx(0.8, abs=UM)  # to the slot's closed end
    assert not _kind(r, "undercut")
    assert "DFM650" not in _codes(r) and "DFM305" in _codes(r)


def _round_bosses(fillet: float, gap: float | None, d1: float = 3.0, d2: float = 2.0) -> cq.Workplane:
    """A 30 x 20 x 4 block, a 20 x 12 pocket (R1 corners) 2 deep round a Ø``d1`` boss at (-6, 0) standing to
    the top (and a Ø``d2`` boss ``gap`` beside it), the pocket's floor edges filleted by ``fillet``."""
    blk = cq.Workplane("XY").box(30, 20, 4, centered=(True, True, False))
    pk = cq.Workplane("XY").rect(20, 12).extrude(2).edges("|Z").fillet(1.0).translate((0, 0, 2))
    pk = pk.cut(cq.Workplane("XY").circle(d1 / 2).extrude(2).translate((-6, 0, 2)))
    if gap is not None:
        pk = pk.cut(cq.Workplane("XY").circle(d2 / 2).extrude(2).translate((-6 + d1 / 2 + gap + d2 / 2, 0, 2)))
    part = blk.cut(pk)
    if fillet:
        part = part.edges(cq.selectors.BoxSelector((-10.1, -6.1, 1.99), (10.1, 6.1, 2.01))).fillet(fillet)
    return part


@pytest.mark.parametrize(("fillet", "gap"), [(0.0, None), (0.1, None), (0.0, 0.45), (0.1, 0.45), (0.05, 0.8)])
def test_a_round_boss_over_a_filleted_floor_is_an_island(build, fillet, gap):
    """A round boss standing in a pocket whose floor is filleted: a fillet parts its cylinder from the floor, and
    the cylinder was left out of the pocket, as a false DFM650 undercut ('under material'), its gap unmeasured."""
    r = _result(build(f"round_boss_{fillet:g}_{gap}", _round_bosses(fillet, gap)))
    (f,) = _kind(r, "pocket", "slot", "step")
    assert f.kind == "pocket"
    assert f.dims["depth_mm"] == pytest.approx(2.0, abs=UM)
    assert len(f.props["islands"]) == (1 if gap is None else 2)
    # exact, not the sections' 1 um chords (0.450979 for 0.45): the Ø3 boss stands 2.5 from x = -10
    assert f.dims["min_gap_mm"] == pytest.approx(2.5 if gap is None else gap, abs=1e-6)
    assert not _kind(r, "undercut") and not _kind(r, "unrecognised")
    assert "DFM650" not in _codes(r)
    if gap is not None and gap < 0.5:  # deeper than 4 x the gap: a warning (DFM305)
        assert [x.severity.value for x in _codes(r)["DFM305"]] == ["warning"]


@pytest.mark.parametrize("fillet", [0.0, 0.1])
def test_pins_at_the_ends_of_a_web_make_no_pocket(build, fillet):
    """Two round pins standing at the ends of a link's web (its top face runs round them): the web is no pocket
    or slot between them, with or without fillets at the pins' feet."""
    web = cq.Workplane("XY").slot2D(10, 3).extrude(1)
    pins = cq.Workplane("XY").pushPoints([(-3.5, 0), (3.5, 0)]).circle(1.5).extrude(1).translate((0, 0, 1))
    part = web.union(pins)  # each pin as wide as the web's round end, flush with it
    if fillet:
        part = part.edges(cq.selectors.BoxSelector((-3.6, -1.6, 0.99), (3.6, 1.6, 1.01))).fillet(fillet)
    r = _result(build(f"link_pins_{fillet:g}", part))
    assert not _kind(r, "pocket", "slot")


@pytest.mark.parametrize(("width", "turn"), [(1.2, 0.0), (0.8, 17.0), (2.0, 0.0)])
def test_a_fork_is_an_open_through_slot(build, width, turn):
    """A through slot with a round closed end that runs out of the plate's side (a fork): its two sides and its
    round end are no ring of walls, so it is open (it was a closed 'pocket' or slot in three NIST parts)."""
    plate = cq.Workplane("XY").box(24, 16, 3, centered=(True, True, False))
    fork = cq.Workplane("XY").slot2D(10.0, width).extrude(3).translate((9.0, 3.0, 0))  # x = 4 .. 14
    closed = cq.Workplane("XY").slot2D(6.0, width).extrude(3).translate((-4.0, -3.0, 0))  # a closed through slot
    r = _result(build(f"fork_{width:g}_{turn:g}", _turn(plate.cut(fork).cut(closed), turn)))
    slots = sorted(_kind(r, "pocket", "slot", "step"), key=lambda f: -f.dims["length_mm"])
    assert [f.kind for f in slots] == ["slot", "slot"]
    f, c = slots
    assert f.props["through"] and f.props["open"]
    assert f.dims["width_mm"] == pytest.approx(width, abs=UM)
    assert f.dims["length_mm"] == pytest.approx(12.0 - 4.0, abs=UM)  # from its closed end to the plate's side
    assert c.props["through"] and not c.props["open"]
    assert c.dims["width_mm"] == pytest.approx(width, abs=UM) and c.dims["length_mm"] == pytest.approx(6.0, abs=UM)
