"""Islands lower than their pocket's rim (a boss below the top) are cleared over, not left standing.

A pocket's island is the outline of what stands on its floor. Before, it was kept out of every
roughing level, so the stock above a boss whose top lies below the rim stayed there (1 mm over a
Ø3 boss: INCOMPLETE, 0 % removed). Now the pocket is cleared in Z bands between its islands' tops:
above a boss's top the boss is no island. Parts in CadQuery to known dimensions: round, square
(turned 30 deg) and several bosses of different heights, and a stepped boss whose upper tier
reaches the rim (whose outline at the floor is then kept whole: what lies over its lower tier
is listed, never cut into).
"""

from __future__ import annotations

import cadquery as cq
import pytest
from generators import export_step
from test_cam_random import assert_clean
from test_cam_slivers import slivers

from dfm.cam.gcode import generate

RIM = 4.0
FLOOR = 2.0


def _pocket(bosses: list[cq.Workplane]) -> cq.Workplane:
    """A 10 x 8 mm pocket (R1 corners) 2 mm deep in a 14 x 12 x 4 block, with ``bosses`` on its floor."""
    block = cq.Workplane("XY").box(14, 12, RIM, centered=(True, True, False))
    pocket = cq.Workplane("XY").rect(10, 8).extrude(RIM - FLOOR).edges("|Z").fillet(1.0).translate((0, 0, FLOOR))
    part = block.cut(pocket)
    for b in bosses:
        part = part.union(b)
    return part


def _round(x: float, y: float, r: float, top: float) -> cq.Workplane:
    return cq.Workplane("XY").circle(r).extrude(top - FLOOR).translate((x, y, FLOOR))


def _square(x: float, y: float, a: float, top: float, turn: float = 0.0) -> cq.Workplane:
    return (cq.Workplane("XY").rect(a, a).extrude(top - FLOOR).edges("|Z").fillet(0.3)
            .rotate((0, 0, 0), (0, 0, 1), turn).translate((x, y, FLOOR)))


def _check(gen, result, path):  # type: ignore[no-untyped-def]
    ver = gen.verification
    assert not ver.dropped, ver.dropped
    assert not ver.incomplete, ver.incomplete
    assert_clean(gen, path, path.name)
    assert not slivers(gen, result, path)


@pytest.mark.parametrize("bosses, bands", [
    ([_round(0.0, 0.0, 1.5, 3.0)], 2),                                    # 1 mm below the rim
    ([_square(-1.5, 0.5, 2.0, 3.37, 30.0)], 2),                          # square, turned, 0.63 below
    ([_round(-2.5, 0.0, 1.0, 2.6), _round(2.5, 0.5, 1.2, 3.3)], 3),       # two heights: three bands
    ([_round(-2.5, 0.0, 1.0, 3.2), _round(2.5, 0.0, 1.0, RIM)], 2),       # one low, one to the rim
])
def test_pocket_is_cleared_over_bosses_lower_than_its_rim(tmp_path, bosses, bands):
    path = export_step(_pocket(bosses), tmp_path / "bosses.step", name="bosses")
    gen, result = generate(path)
    pocket = next(f for f in result.bodies[0].features if f.kind == "pocket" and f.props.get("islands"))
    roughs = [op for su in gen.program.setups for op in su.operations
              if op.features == (pocket.id,) and op.name.endswith("rough")]
    assert len(roughs) == bands, [op.name for op in roughs]
    floors = sorted(min(st.z for st in op.steps if getattr(st, "z", None) is not None) for op in roughs)
    assert floors[0] == pytest.approx(FLOOR, abs=1e-6) and len(set(floors)) == bands  # each band to its floor
    # every band roughed before any is finished: each tool is loaded once for the pocket
    mine = [op for su in gen.program.setups for op in su.operations if op.features == (pocket.id,)]
    changes = sum(1 for a, b in zip(mine, mine[1:], strict=False) if a.tool.number != b.tool.number)
    assert changes == len({op.tool.number for op in mine}) - 1, [(op.name, op.tool.number) for op in mine]
    _check(gen, result, path)


def test_a_stepped_boss_reaching_the_rim_is_never_cut_into(tmp_path):
    """Its outline on the floor (the lower tier) holds material up to the rim: it stays an island the
    whole height. Nothing is cut into it; the stock over the lower tier is listed, not hidden."""
    lower = _round(0.0, 0.0, 2.0, 3.0)
    upper = _round(0.0, 0.0, 0.8, RIM)
    path = export_step(_pocket([lower, upper]), tmp_path / "stepped.step", name="stepped")
    gen, result = generate(path)
    assert not gen.verification.dropped, gen.verification.dropped
    assert_clean(gen, path, "stepped")


@pytest.mark.parametrize("turn", [30.0, 60.0, 123.0])
def test_rounded_pockets_turned_off_the_axes_are_machined(tmp_path, turn):
    """An 8 x 6 pocket with R0.5 corners turned 30 deg (outline points rounded to 1 um: its fitted arcs
    0.2 um off tangency with the sides) was listed as not machined: OCCT's offset gave one open line for
    every distance past the corner radius. Arcs are made exactly tangent first (geom2d.tangent_joins)."""
    block = cq.Workplane("XY").box(14, 12, RIM, centered=(True, True, False))
    pocket = cq.Workplane("XY").rect(8, 6).extrude(RIM - FLOOR).edges("|Z").fillet(0.5).translate((0, 0, FLOOR))
    island = cq.Workplane("XY").rect(3, 2).extrude(RIM - FLOOR).edges("|Z").fillet(0.3).translate((-1.0, 0, FLOOR))
    part = block.cut(pocket).union(island).rotate((0, 0, 0), (0, 0, 1), turn)
    path = export_step(part, tmp_path / "turned.step", name="turned")
    gen, result = generate(path)
    (pocket_f,) = [f for f in result.bodies[0].features if f.kind == "pocket"]
    assert [op for su in gen.program.setups for op in su.operations if pocket_f.id in op.features]
    assert not [u for su in gen.program.setups for u in su.unmachined], gen.summary()["setups"]
    _check(gen, result, path)
