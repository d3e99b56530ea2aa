"""Hole recognition against CadQuery parts of known dimensions, to the micrometre.

Each case is built here to exact dimensions (seeded variations of diameters, depths, fillet
radii and angles), exported to STEP and read back through ``api.analyze``:

* a round blind recess with a filleted floor is blind, as deep as it is, with its floor
  radius and every face (a round pocket: a drill leaves no fillet), and a hole through its
  floor is a hole from that floor;
* a bore's depth-to-diameter ratio is its own length (below a counterbore or countersink)
  over its diameter, and DFM401's message agrees with it;
* DFM404 (flat bottom) is for holes a stock drill makes, not for milled round recesses;
* a bore entering a sloped face is as deep as its longest side, exactly;
* a hole square to an inclined face carries tilt_deg, setup 3+2 and DFM651.
"""

from __future__ import annotations

import math
import random

import cadquery as cq
import pytest

from dfm import api

UM = 1e-3  # one micrometre in mm


def _body(path):  # type: ignore[no-untyped-def]
    r = api.analyze(path)
    assert r.status == "ok", r.error
    (body,) = r.bodies
    return body


def _kind(body, kind):  # type: ignore[no-untyped-def]
    return [f for f in body.features if f.kind == kind]


def _codes(body, code):  # type: ignore[no-untyped-def]
    return [f for f in body.findings if f.code == code]


# --- 1. a round blind recess with a filleted floor ------------------------------------------

def _recess(d: float, depth: float, fillet: float, thick: float, hole: float = 0.0) -> cq.Workplane:
    """A 20 x 20 plate ``thick`` high with a Ø``d`` recess ``depth`` deep (floor fillet ``fillet``)."""
    p = cq.Workplane("XY").box(20, 20, thick, centered=(True, True, False))
    floor = thick - depth
    p = p.cut(cq.Workplane("XY").workplane(offset=floor).circle(d / 2).extrude(depth + 1))
    if fillet > 0:
        lo, hi = (-d / 2 - 0.1, -d / 2 - 0.1, floor - 0.01), (d / 2 + 0.1, d / 2 + 0.1, floor + 0.01)
        p = p.edges(cq.selectors.BoxSelector(lo, hi)).fillet(fillet)
    if hole > 0:
        p = p.cut(cq.Workplane("XY").circle(hole / 2).extrude(thick + 1))
    return p


def _recess_cases() -> list[tuple[float, float, float, float]]:
    rnd = random.Random(4151)
    out = [(10.0, 1.0, 0.05, 2.5), (10.0, 1.0, 0.5, 2.5), (3.0, 1.0, 0.1, 2.5), (2.0, 1.0, 0.05, 2.5)]
    for _ in range(4):
        d = round(rnd.uniform(1.5, 14.0), 3)
        depth = round(rnd.uniform(0.4, 2.0), 3)
        fillet = rnd.choice([0.02, 0.05, 0.1, 0.2, 0.3])
        fillet = min(fillet, round(depth / 2, 3), round(d / 5, 3))
        out.append((d, depth, fillet, round(depth + rnd.uniform(0.5, 2.0), 3)))
    return out


@pytest.mark.parametrize(("d", "depth", "fillet", "thick"), _recess_cases())
def test_filleted_round_recess_is_blind_with_its_depth_floor_radius_and_faces(build, d, depth, fillet, thick):
    path = build(f"recess_{d}_{depth}_{fillet}_{thick}", _recess(d, depth, fillet, thick))
    body = _body(path)
    assert not _kind(body, "hole"), [(h.id, h.dims, h.props["through"]) for h in _kind(body, "hole")]
    (pocket,) = _kind(body, "pocket")
    assert pocket.props["through"] is False and pocket.props["floor"] == "flat"
    assert pocket.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert pocket.dims["width_mm"] == pytest.approx(d, abs=UM)
    assert pocket.dims["floor_radius_mm"] == pytest.approx(fillet, abs=UM)
    assert pocket.props["floor_z_mm"] == pytest.approx(thick - depth, abs=UM)
    # wall, fillet and floor: every face that is not the plate's own is the recess's
    assert len(pocket.faces) == 3, pocket.faces
    assert not _codes(body, "DFM404")


@pytest.mark.parametrize(("d", "depth", "thick"), [(10.0, 1.0, 2.5), (4.3, 0.7, 2.0)])
def test_unfilleted_round_recess_stays_a_blind_hole(build, d, depth, thick):
    body = _body(build(f"plain_{d}_{depth}", _recess(d, depth, 0.0, thick)))
    (hole,) = _kind(body, "hole")
    assert hole.props["through"] is False and hole.props["bottom"] == "flat"
    assert hole.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert hole.dims["diameter_mm"] == pytest.approx(d, abs=UM)
    assert not _codes(body, "DFM404")  # no drill of this size: milled, and an end mill leaves a flat floor


@pytest.mark.parametrize(("d", "depth", "fillet", "thick", "small"),
                         [(10.0, 1.0, 0.05, 2.5, 0.6), (6.0, 1.2, 0.2, 3.1, 1.0)])
def test_hole_through_a_filleted_recess_floor_starts_at_the_floor(build, d, depth, fillet, thick, small):
    body = _body(build(f"recess_hole_{d}_{small}", _recess(d, depth, fillet, thick, small)))
    (pocket,) = _kind(body, "pocket")
    assert pocket.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert pocket.dims["floor_radius_mm"] == pytest.approx(fillet, abs=UM)
    (hole,) = _kind(body, "hole")
    assert hole.props["through"] is True and hole.props["stack"] == []
    assert hole.dims["diameter_mm"] == pytest.approx(small, abs=UM)
    assert hole.dims["depth_mm"] == pytest.approx(thick - depth, abs=UM)
    assert hole.dims["depth_diameter_ratio"] == pytest.approx((thick - depth) / small, abs=1e-6)


@pytest.mark.parametrize(("d", "depth", "fillet"), [(3.0, 1.0, 0.1), (2.0, 1.0, 0.05)])
def test_filleted_round_recess_is_machined(build, d, depth, fillet):
    from dfm.cam.gcode import generate

    path = build(f"cam_recess_{d}_{fillet}", _recess(d, depth, fillet, 2.5))
    gen, result = generate(path)
    (pocket,) = [f for f in result.bodies[0].features if f.kind == "pocket"]
    assert not gen.verification.dropped, gen.verification.dropped
    header = gen.files[0][1]
    assert "NOT MACHINED" not in header
    assert any(pocket.id in op.features for su in gen.program.setups for op in su.operations)


# --- 2. the depth ratio of a bore under a counterbore or countersink -----------------------

def _cases_cbore() -> list[tuple[float, float, float, float]]:
    rnd = random.Random(4012)
    out = [(1.0, 2.0, 3.0, 6.0)]
    for _ in range(3):
        d = round(rnd.uniform(0.5, 2.0), 3)
        out.append((d, round(d * rnd.uniform(1.6, 2.5), 3), round(rnd.uniform(0.5, 3.0), 3),
                    round(rnd.uniform(4.0, 8.0), 3)))
    return out


@pytest.mark.parametrize(("d", "cb_d", "cb_depth", "height"), _cases_cbore())
def test_counterbored_hole_ratio_is_the_bore_below_the_counterbore(build, d, cb_d, cb_depth, height):
    p = cq.Workplane("XY").box(16, 10, height, centered=(True, True, False))
    p = p.cut(cq.Workplane("XY").circle(d / 2).extrude(height))
    p = p.cut(cq.Workplane("XY").workplane(offset=height - cb_depth).circle(cb_d / 2).extrude(cb_depth))
    body = _body(build(f"cbore_{d}_{cb_d}_{cb_depth}_{height}", p))
    (hole,) = _kind(body, "hole")
    bore = height - cb_depth
    assert hole.dims["depth_mm"] == pytest.approx(bore, abs=UM)
    assert hole.dims["depth_diameter_ratio"] == pytest.approx(bore / d, abs=1e-6)
    assert hole.props["drill_depth_mm"] == pytest.approx(height, abs=UM)  # the drill still reaches from the top
    found = _codes(body, "DFM401")
    assert bool(found) == (bore / d > 4.0 + 1e-6)
    for f in found:
        assert f.value == pytest.approx(bore / d, abs=1e-6)


@pytest.mark.parametrize(("d", "sink_d", "height"), [(1.2, 2.4, 6.0), (0.8, 2.0, 5.0), (1.5, 2.7, 9.0)])
def test_countersunk_hole_ratio_is_the_bore_below_the_countersink(build, d, sink_d, height):
    sink = (sink_d - d) / 2  # 90 deg: as deep as the radius it adds
    p = cq.Workplane("XY").box(16, 10, height, centered=(True, True, False))
    p = p.cut(cq.Workplane("XY").circle(d / 2).extrude(height))
    p = p.cut(cq.Workplane(obj=cq.Solid.makeCone(0.0, sink_d / 2, sink_d / 2,
                                                 pnt=cq.Vector(0, 0, height - sink_d / 2), dir=cq.Vector(0, 0, 1))))
    body = _body(build(f"csk_{d}_{sink_d}_{height}", p))
    (hole,) = _kind(body, "hole")
    bore = height - sink
    assert hole.dims["depth_mm"] == pytest.approx(bore, abs=UM)
    assert hole.dims["depth_diameter_ratio"] == pytest.approx(bore / d, abs=1e-6)
    for f in _codes(body, "DFM401"):  # its depth and its ratio tell the same story
        assert f.value == pytest.approx(bore / d, abs=1e-4)


# --- 3. DFM404 on drilled holes only --------------------------------------------------------

@pytest.mark.parametrize(("d", "depth", "fires"), [(1.0, 2.0, True), (0.8, 1.5, True), (3.3306, 0.1, False),
                                                   (28.35, 0.1, False), (5.0, 1.0, False)])
def test_flat_bottom_finding_is_for_holes_a_drill_makes(build, d, depth, fires):
    p = cq.Workplane("XY").box(40, 40, 3, centered=(True, True, False))
    p = p.cut(cq.Workplane("XY").workplane(offset=3 - depth).circle(d / 2).extrude(depth))
    body = _body(build(f"flat_{d}_{depth}", p))
    (hole,) = _kind(body, "hole")
    assert hole.props["bottom"] == "flat"
    assert bool(_codes(body, "DFM404")) is fires


# --- 4. a bore entering a sloped face --------------------------------------------------------

def _slope_block(angle: float) -> cq.Workplane:
    t = math.tan(math.radians(angle))
    pts = [(-7, 0), (7, 0), (7, 4 + 7 * t), (-7, 4 - 7 * t)]
    return cq.Workplane("YZ").polyline(pts).close().extrude(10, both=True)


def _slope_cases() -> list[tuple[float, float, float, float, float]]:
    rnd = random.Random(4250)
    out = [(20.0, 1.0, 6.0, 3.0, 3.98)]  # the tester's: longest side 3.98 mm
    for _ in range(4):
        angle, d = round(rnd.uniform(8.0, 35.0), 3), round(rnd.uniform(0.4, 1.6), 3)
        x, y = round(rnd.uniform(-6, 6), 3), round(rnd.uniform(-4, 4), 3)
        top = 4 + (y + d / 2) * math.tan(math.radians(angle))
        out.append((angle, d, x, y, round(rnd.uniform(1.0, top - 0.3), 3)))  # the bottom stays in the block
    return out


@pytest.mark.parametrize(("angle", "d", "x", "y", "longest"), _slope_cases())
def test_blind_hole_from_a_slope_is_as_deep_as_its_longest_side(build, angle, d, x, y, longest):
    t = math.tan(math.radians(angle))
    top = 4 + (y + d / 2) * t  # the rim's highest point
    p = _slope_block(angle).cut(cq.Workplane("XY").workplane(offset=top - longest).center(x, y)
                                .circle(d / 2).extrude(longest + 10))
    body = _body(build(f"slope_{angle}_{d}_{x}_{y}", p))
    (hole,) = _kind(body, "hole")
    assert hole.props["through"] is False and hole.props["bottom"] == "flat"
    assert hole.dims["depth_mm"] == pytest.approx(longest, abs=UM)
    assert hole.dims["depth_diameter_ratio"] == pytest.approx(longest / d, abs=1e-5)
    assert hole.location_mm[2] == pytest.approx(top, abs=UM)
    assert bool(_codes(body, "DFM401")) == (longest / d > 4.0 + 1e-6)


@pytest.mark.parametrize(("angle", "d", "x", "y"),
                         [(20.0, 0.8, 6.0, 3.0), (27.0, 1.1, -2.0, -3.5), (12.5, 0.6, 0.0, 5.0)])
def test_through_hole_from_a_slope_is_as_long_as_its_longest_side(build, angle, d, x, y):
    t = math.tan(math.radians(angle))
    p = _slope_block(angle).cut(cq.Workplane("XY").center(x, y).circle(d / 2).extrude(20))
    body = _body(build(f"slope_through_{angle}_{d}", p))
    (hole,) = _kind(body, "hole")
    assert hole.props["through"] is True
    assert hole.dims["depth_mm"] == pytest.approx(4 + (y + d / 2) * t, abs=UM)


# --- 5. a hole square to an inclined face ---------------------------------------------------

@pytest.mark.parametrize(("angle", "d", "depth"), [(20.0, 1.0, 2.0), (28.0, 0.7, 1.4), (11.0, 1.5, 2.5)])
def test_hole_square_to_an_inclined_face_needs_a_tilted_setup(build, angle, d, depth):
    a = math.radians(angle)
    n = cq.Vector(0, -math.sin(a), math.cos(a))
    plane = cq.Plane(origin=(0, 0, 4), xDir=(1, 0, 0), normal=n.toTuple())
    p = _slope_block(angle).cut(cq.Workplane(plane).workplane(offset=-depth).circle(d / 2).extrude(depth + 1))
    body = _body(build(f"tilted_{angle}_{d}", p))
    (hole,) = _kind(body, "hole")
    assert hole.dims["tilt_deg"] == pytest.approx(angle, abs=1e-6)
    assert hole.props["setup"] == "3+2"
    assert hole.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert [f.feature for f in _codes(body, "DFM651")] == [hole.id]
