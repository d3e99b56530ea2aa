"""Blind holes with a modelled drill point are drilled to the point, not short of it.

A blind drilled hole is modelled as a bore of depth D ending in the drill's cone. Before, dfm
drilled its tip to D: the bore was full size only down to D less the drill's point length (a
Ø1.5 hole 0.35 mm short, INCOMPLETE 92 %). Now the drill goes down by its own point length when
its cone fits within the modelled one (an angle as blunt or blunter), and to the modelled apex
otherwise, with the hole listed as machined in part. Parts: blocks with blind holes of several
diameters, depths and modelled point angles, in CadQuery to known dimensions.
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest
from generators import export_step
from test_cam_slivers import slivers

from dfm.cam.gcode import generate
from dfm.tooling.select import DEFAULT_POINT_ANGLE_DEG


def _drilled_block(holes: list[tuple[float, float, float, float]], h: float = 5.0) -> cq.Workplane:
    """A 16 x 12 x h block with blind holes (x, diameter, bore depth, modelled point angle) drilled from its top."""
    part = cq.Workplane("XY").box(16, 12, h, centered=(True, True, False))
    for x, dia, depth, angle in holes:
        r = dia / 2
        cone = r / math.tan(math.radians(angle) / 2)
        tool = (cq.Workplane("XZ").polyline([(0, h + 1), (r, h + 1), (r, h - depth), (0, h - depth - cone)]).close()
                .revolve(360, (0, 0, 0), (0, 1, 0)).translate((x, 0, 0)))
        part = part.cut(tool)
    return part


def _drill_ops(gen, result):  # type: ignore[no-untyped-def]
    holes = {f.id: f for f in result.bodies[0].features if f.kind == "hole"}
    out = {}
    for su in gen.program.setups:
        for op in su.operations:
            if op.kind == "drill":
                (fid,) = op.features
                out[fid] = (holes[fid], op, min(st.z for st in op.steps if getattr(st, "z", None) is not None))
    return out


@pytest.mark.parametrize("holes", [
    [(-4.0, 1.5, 3.0, 118.0), (4.0, 1.0, 2.2, 118.0)],
    [(-3.3, 1.4, 2.5, 118.0), (3.7, 1.5, 1.7, 135.0)],
])
def test_blind_drilled_holes_reach_full_size_at_their_depth(tmp_path, holes):
    path = export_step(_drilled_block(holes), tmp_path / "drilled.step", name="drilled")
    gen, result = generate(path)
    ops = _drill_ops(gen, result)
    assert len(ops) == len(holes), [op.name for su in gen.program.setups for op in su.operations]
    assert not gen.verification.dropped
    for x, dia, depth, angle in holes:
        f, op, z_tip = next(v for v in ops.values() if v[0].location_mm[0] == pytest.approx(x, abs=1e-6))
        assert f.props["bottom"] == "drill-point" and f.dims["depth_mm"] == pytest.approx(depth, abs=1e-6)
        modelled = dia / 2 / math.tan(math.radians(angle) / 2)
        drill = op.tool.cutter
        tip = drill.diameter_mm / 2 / math.tan(math.radians(drill.point_angle_deg or DEFAULT_POINT_ANGLE_DEG) / 2)
        z_bore = 5.0 - depth
        if tip <= modelled + 1e-6:  # the drill's cone fits in the modelled one: full size down to the depth
            assert z_tip == pytest.approx(z_bore - tip, abs=1e-9)
            assert any("full size down to its depth" in n for n in op.notes)
            assert f.id not in {p[0] for su in gen.program.setups for p in su.partly}
        else:  # a sharper drill stops at the modelled apex, and the hole is machined in part
            assert z_tip == pytest.approx(z_bore - modelled, abs=1e-9)
            assert any(p[0] == f.id and "sharper" in p[1] for su in gen.program.setups for p in su.partly)
    # the guard verified what is written; every drilled hole is removed whole (no INCOMPLETE for a hole)
    assert not [i for i in gen.verification.incomplete if i[1].startswith("hole")], gen.verification.incomplete
    assert not slivers(gen, result, path)


def test_a_drill_sharper_than_the_modelled_point_stops_at_its_apex(tmp_path):
    """A 150 deg modelled point is blunter than any catalogue drill's: the drill's tip stops at the
    modelled apex (never below it) and the hole is listed as machined in part, with the reason."""
    holes = [(0.0, 1.5, 2.5, 150.0)]
    path = export_step(_drilled_block(holes), tmp_path / "blunt.step", name="blunt")
    gen, result = generate(path)
    ((f, op, z_tip),) = _drill_ops(gen, result).values()
    drill = op.tool.cutter
    assert (drill.point_angle_deg or DEFAULT_POINT_ANGLE_DEG) < 150.0
    modelled = 0.75 / math.tan(math.radians(75.0))
    assert z_tip == pytest.approx(5.0 - 2.5 - modelled, abs=1e-9)
    (why,) = [p[1] for su in gen.program.setups for p in su.partly if p[0] == f.id]
    assert "sharper than the modelled 150 deg" in why
    assert not gen.verification.dropped
