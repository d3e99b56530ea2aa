"""A narrow slot open at both ends beside a wall thinner than the slot's run-out is machined, not dropped.

A slot open at its ends and narrower than the profile's tool is cleared by a tool that fits it, in
its outline grown past the open ends less the part's shadow. Where the wall on one side is thinner
than that growth, the air beyond the wall joined the two open ends round the wall into a ring with
a sliver narrower than the tool; the kernel's offset of it crossed the wall by 27 um (random part
9504), and the guard dropped the slot. Now the growth is cut off behind the slot's walls too.
Parts in CadQuery: slots 0.25-0.35 mm wide, 0.983 mm deep, walls 0.15-0.26 mm thick, along Y and
turned 17 and 30 deg (before: 1 of 24 such parts dropped its slot; the first band attempt, cut in one
boolean with the shadow, dropped 9).
"""

from __future__ import annotations

import cadquery as cq
import pytest
from generators import export_step
from test_cam_random import assert_clean

from dfm.cam.gcode import generate


@pytest.mark.parametrize("width, wall, turn", [(0.28, 0.22, 17.0), (0.33, 0.19, 17.0), (0.25, 0.26, 0.0),
                                               (0.35, 0.15, 30.0)])
def test_open_slot_beside_a_thin_wall_is_machined(tmp_path, width, wall, turn):
    block = cq.Workplane("XY").box(10, 10, 5, centered=(True, True, False))
    x = 5.0 - wall - width / 2  # the slot's middle: the wall between it and the block's +X side is `wall` thick
    slot = cq.Workplane("XY").box(width, 12, 0.983, centered=(True, True, False)).translate((x, 0, 5 - 0.983))
    part = block.cut(slot).rotate((0, 0, 0), (0, 0, 1), turn)
    path = export_step(part, tmp_path / "thin.step", name="thin")
    gen, result = generate(path)
    slots = [f for f in result.bodies[0].features if f.kind == "slot"]
    assert len(slots) == 1 and slots[0].dims["width_mm"] == pytest.approx(width, abs=1e-6)
    ver = gen.verification
    assert not ver.dropped, ver.dropped
    assert not [i for i in ver.incomplete if i[1] == slots[0].id], ver.incomplete
    ops = [op for su in gen.program.setups for op in su.operations if slots[0].id in op.features]
    assert ops and all(op.tool.cutter.diameter_mm < width for op in ops)
    assert_clean(gen, path, (width, wall, turn))
