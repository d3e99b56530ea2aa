"""Dishes: recesses whose floor is rounded into the top by its fillets, with no wall standing above them.

A fluidic chamber milled with a corner-radius or ball end is often modelled this way: the floor's
fillet radius equals the depth (the fillet rises to the vertical and meets the top at a right
angle) or exceeds it (the fillet meets the top at a slant). dfm found no wall and so no feature:
the fillets were a "cannot tell" (DFM308), and no program cut them. Parts are built here in
CadQuery to known sizes; the expected sizes come from the construction, not from dfm.
"""

from __future__ import annotations

import math
import random

import cadquery as cq
import pytest
from test_cam_random import assert_clean

from dfm import api
from dfm.cam.gcode import generate

UM = 1e-3


def dish(length: float, width: float, corner: float, fillet: float, depth: float, turn: float = 0.0,
         round_: bool = False) -> cq.Workplane:
    """A 16 x 12 x 3 block with a dish cut from its top: an outline ``length`` x ``width`` (``corner`` vertical
    rounds) or a circle of diameter ``width``, its floor edges rounded by ``fillet``, cut ``depth`` deep."""
    blk = cq.Workplane("XY").box(16, 12, 3).translate((0, 0, 1.5))
    base = cq.Workplane("XY").circle(width / 2) if round_ else cq.Workplane("XY").rect(length, width)
    cut = base.extrude(2.0)
    if not round_:
        cut = cut.edges("|Z").fillet(corner)
    cutter = cut.faces("<Z").edges().fillet(fillet).translate((0.7, -0.4, 3 - depth))
    part = blk.cut(cutter)
    return part.rotate((0, 0, 0), (0, 0, 1), turn) if turn else part


def _reach(fillet: float, depth: float) -> float:
    """How far the fillet reaches out from the floor's edge at the top."""
    return fillet if depth >= fillet else math.sqrt(fillet**2 - (fillet - depth) ** 2)


_rng = random.Random(8300)
CASES = [
    # length, width, corner, fillet, depth, turn, round
    (6.0, 4.0, 0.8, 0.1, 0.1, 0.0, False),
    (6.0, 4.0, 0.8, 0.05, 0.05, 17.0, False),
    (10.0, 2.0, 0.8, 0.1, 0.1, 0.0, False),  # long: a rounded channel
    (6.0, 4.0, 0.8, 0.3, 0.1, 0.0, False),  # fillet deeper than the cut: it meets the top at a slant
    (0.0, 4.0, 0.0, 0.1, 0.1, 0.0, True),
    (0.0, 2.0, 0.0, 0.3, 0.12, 0.0, True),
] + [(round(_rng.uniform(4.0, 8.0), 3), round(_rng.uniform(2.5, 4.0), 3), round(_rng.uniform(0.6, 1.0), 3),
      f, f, _rng.choice([0.0, 17.0, 30.0]), False) for f in (0.05, 0.1, 0.2)]


@pytest.mark.parametrize(("length", "width", "corner", "fillet", "depth", "turn", "round_"), CASES)
def test_a_dish_is_a_pocket_of_its_true_size(build, length, width, corner, fillet, depth, turn, round_):
    path = build(f"dish_{length}_{width}_{fillet}_{depth}_{turn:g}_{round_}",
                 dish(length, width, corner, fillet, depth, turn, round_))
    r = api.analyze(path)
    assert r.status == "ok"
    (body,) = r.bodies
    (f,) = [f for f in body.features if f.kind in ("pocket", "slot", "step")]
    assert f.kind == ("slot" if length >= 2 * width else "pocket")
    reach = _reach(fillet, depth)
    top_width = width - 2 * fillet + 2 * reach  # the floor's outline grown by the fillet's reach
    assert f.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert f.dims["floor_radius_mm"] == pytest.approx(fillet, abs=UM)
    assert f.dims["width_mm"] == pytest.approx(top_width, abs=UM)
    if round_:
        assert f.dims["length_mm"] == pytest.approx(top_width, abs=UM)
        assert f.dims["min_corner_radius_mm"] == pytest.approx(top_width / 2, abs=UM)
    else:
        assert f.dims["length_mm"] == pytest.approx(length - 2 * fillet + 2 * reach, abs=UM)
        assert f.dims["min_corner_radius_mm"] == pytest.approx(corner - fillet + reach, abs=UM)
    assert not [x for x in body.features if x.kind == "unrecognised"]
    assert "DFM308" not in {x.code for x in body.findings}


@pytest.mark.parametrize(("fillet", "turn"), [(0.1, 0.0), (0.05, 17.0)])
def test_a_dish_is_machined_to_its_fillets(build, fillet, turn):
    """The program cuts the dish with a corner-radius end that matches its fillet: rs274 accepts it, an
    independent simulation with the tools' real ends finds no gouge, and the guard lists nothing."""
    path = build(f"dish_cam_{fillet}_{turn:g}", dish(6.0, 4.0, 0.8, fillet, fillet, turn))
    gen, result = generate(path)
    (f,) = [f for f in result.bodies[0].features if f.kind == "pocket"]
    assert any(f.id in op.features for su in gen.program.setups for op in su.operations)
    assert not gen.program.unreachable
    assert not [u for su in gen.program.setups for u in su.unmachined]
    assert not gen.verification.incomplete
    assert_clean(gen, path, f.id, corners=True)
