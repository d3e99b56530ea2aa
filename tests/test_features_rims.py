"""A chamfer or round on a pocket's top edge: the pocket is as deep as from the top it breaks into.

The walls stop where the break begins, and dfm measured depth and reach from there: a 3.2 mm deep
pocket under a 0.3 mm chamfer read 2.9 deep, and the check recommended an end mill of 3.0 mm reach
that cannot get to its floor (the program loaded a 4 mm one). Parts are built in CadQuery to known
sizes; the expected numbers come from the construction.
"""

from __future__ import annotations

import cadquery as cq
import pytest

from dfm import api
from dfm.cam.gcode import generate

UM = 1e-3
H = 5.0


def rimmed(depth: float, brk: str, size: float, turn: float = 0.0, step: float = 0.0) -> cq.Workplane:
    """A 20 x 15 x 5 block, an 8 x 6 pocket (R0.5 corners) ``depth`` deep from the top (or from the floor of a
    ``step``-deep 14 x 11 recess), its top edge broken by a ``brk`` ("chamfer", "round" or "") of ``size``."""
    blk = cq.Workplane("XY").box(20, 15, H, centered=(True, True, False))
    top = H
    if step:
        blk = blk.cut(cq.Workplane("XY").rect(14, 11).extrude(step).edges("|Z").fillet(1.0).translate((0, 0, H - step)))
        top = H - step
    pocket = cq.Workplane("XY").rect(8, 6).extrude(depth).edges("|Z").fillet(0.5).translate((0, 0, top - depth))
    part = blk.cut(pocket)
    sel = cq.selectors.BoxSelector((-4.1, -3.1, top - 0.01), (4.1, 3.1, top + 0.01))
    if brk == "chamfer":
        part = part.edges(sel).chamfer(size)
    elif brk == "round":
        part = part.edges(sel).fillet(size)
    return part.rotate((0, 0, 0), (0, 0, 1), turn) if turn else part


def _pocket(r):
    (body,) = r.bodies
    return next(f for f in body.features if f.kind == "pocket" and abs(f.dims["width_mm"] - 6.0) < 1e-3)


@pytest.mark.parametrize(("depth", "brk", "size", "turn", "step"), [
    (2.0, "chamfer", 0.1, 0.0, 0.0),
    (2.0, "chamfer", 0.3, 17.0, 0.0),
    (3.2, "chamfer", 0.3, 0.0, 0.0),
    (2.0, "round", 0.2, 0.0, 0.0),
    (1.5, "chamfer", 0.2, 0.0, 1.0),  # inside a recess: its top is the recess's floor
    (2.0, "", 0.0, 0.0, 0.0),
])
def test_depth_and_reach_are_from_the_top_the_break_rises_to(build, depth, brk, size, turn, step):
    r = api.analyze(build(f"rim_{depth}_{brk}_{size}_{turn:g}_{step:g}", rimmed(depth, brk, size, turn, step)))
    assert r.status == "ok"
    f = _pocket(r)
    top = H - step
    assert f.dims["depth_mm"] == pytest.approx(depth, abs=UM)
    assert f.props["top_z_mm"] == pytest.approx(top, abs=UM)
    assert f.dims["required_reach_mm"] >= depth + step - UM  # from the part's top through the recess
    if brk:
        rim = f.props["rim_break"]
        assert rim["kind"] == brk
        assert rim["from_z_mm"] == pytest.approx(top - size, abs=UM)
        assert len(rim["faces"]) == 8  # 4 sides and 4 corners
    else:
        assert "rim_break" not in f.props
    (body,) = r.bodies
    tool = {t.id: t for t in body.tools}.get(f.props.get("tool"))
    assert tool is not None and tool.reach_mm >= f.dims["required_reach_mm"] - UM


def test_the_program_says_the_break_is_left_and_loads_the_tool_the_check_lists(build):
    """3.2 deep under a 0.3 chamfer: the check lists a tool that reaches 3.2; the program loads only listed
    tools and says the chamfer is not machined (dfm plans no chamfer mill)."""
    path = build("rim_cam", rimmed(3.2, "chamfer", 0.3))
    gen, result = generate(path)
    f = _pocket(result)
    (body,) = result.bodies
    listed = {t.id for t in body.tools}
    used = {op.tool.cutter.id for su in gen.program.setups for op in su.operations if f.id in op.features}
    assert used and used <= listed
    assert any(fid == f.id and "chamfer on its top edge" in why for su in gen.program.setups for fid, why in su.partly)
