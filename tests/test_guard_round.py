"""The guard on round parts (dfm.cam.guard's side check between levels and sloped faces).

A band between the part's levels that holds a sloped face (a blind hole's drill point) was
measured against the union of its sections *below* the tip too: on a round plate the full disc
under the hole, 6.9 mm "into the part" (its rim's arcs are near every sample by their box), a
false refusal; on a square plate the same samples had no edge near and were not counted, so the
hole's wall above the point was not side-checked at all. The bands now end at the sloped faces'
heights and a tip in a sloped band meets only the sections above it.
"""

from __future__ import annotations

import math
import random

import cadquery as cq
import pytest
from generators import export_step

from dfm.cam import guard, rs274
from dfm.cam.gcode import generate, guarded, part_geometry
from dfm.cam.model import Feed, Rapid

pytestmark = pytest.mark.slow

POINT = math.radians(59)  # half of a 118 deg drill point


def _blind_hole(x: float, y: float, d: float, depth: float, top: float, point: bool):
    """A blind hole's volume from ``top`` down ``depth`` (to the start of its point when ``point``)."""
    body = cq.Workplane("XY").workplane(offset=top - depth).center(x, y).circle(d / 2).extrude(depth + 1)
    if point:
        h = (d / 2) / math.tan(POINT)
        cone = cq.Solid.makeCone(d / 2, 0, h, pnt=cq.Vector(x, y, top - depth), dir=cq.Vector(0, 0, -1))
        body = body.union(cq.Workplane("XY").add(cone))
    return body


def _check(gen, part_name: str) -> None:
    ver = gen.verification
    assert ver is not None
    assert not ver.dropped, (part_name, ver.dropped)
    for su in gen.program.setups:
        assert not su.unmachined, (part_name, su.unmachined)
    for sc in ver.setups:
        assert sc.closest_mm is None or sc.closest_mm >= -guard.TOL_MM, (part_name, sc.closest_mm)
    assert "VERIFIED by dfm's guard" in gen.files[0][1]
    if rs274.available():
        for _, text in gen.files:
            run = rs274.run(text, gen.program)
            assert run.ok, (part_name, run.errors)


def test_blind_hole_with_a_drill_point_in_a_round_plate_is_machined(tmp_path):
    """The tester's part (p20b): Ø26 x 2.5 round plate, Ø0.5 hole 1.2 deep with a 118 deg point at (6, 2)."""
    plate = cq.Workplane("XY").circle(13).extrude(2.5)
    part = plate.cut(_blind_hole(6, 2, 0.5, 1.2, 2.5, point=True))
    path = export_step(part, tmp_path / "round_point.step", name="round_point")
    gen, _ = generate(path)
    _check(gen, "round_point")
    ops = [op.name for su in gen.program.setups for op in su.operations]
    assert any(n.startswith("hole-1") for n in ops), ops


@pytest.mark.parametrize("seed", range(4))
def test_round_plates_with_seeded_holes_are_machined_and_verified(tmp_path, seed):
    """Round plates of several diameters with holes at seeded positions, diameters and depths, with
    and without drill points (and one through), one with a round pin standing on it: every hole
    is machined and verified, nothing cuts into the part."""
    rnd = random.Random(9100 + seed)
    radius = (8.0, 13.0, 17.5, 11.0)[seed]
    thick = rnd.choice((2.0, 2.5, 3.0))
    part = cq.Workplane("XY").circle(radius).extrude(thick)
    placed: list[tuple[float, float, float]] = []
    pin = seed == 3
    if pin:  # a round pin on the plate's centre: a round boss is a round outline too
        part = part.union(cq.Workplane("XY").workplane(offset=thick).circle(2.0).extrude(1.5))
        placed.append((0.0, 0.0, 2.0))
    for k in range(3):
        d = rnd.choice((0.5, 0.6, 0.8, 1.0))
        for _ in range(200):
            rho = rnd.uniform(0.0, radius - d - 1.5)
            phi = rnd.uniform(0.0, 2 * math.pi)
            x, y = round(rho * math.cos(phi), 3), round(rho * math.sin(phi), 3)
            if all(math.hypot(x - u, y - v) > d / 2 + w + 1.0 for u, v, w in placed):
                break
        else:
            continue
        placed.append((x, y, d / 2))
        if k == 2 and seed % 2 == 0:  # a through hole
            part = part.cut(cq.Workplane("XY").center(x, y).circle(d / 2).extrude(thick + 1))
            continue
        depth = round(rnd.uniform(0.6, min(thick - 0.6, 4 * d)), 3)
        part = part.cut(_blind_hole(x, y, d, depth, thick, point=(k + seed) % 3 != 2))
    name = f"round_{seed}"
    path = export_step(part, tmp_path / f"{name}.step", name=name)
    gen, result = generate(path)
    _check(gen, name)
    holes = [f.id for f in result.bodies[0].features if f.kind == "hole"]
    assert len(holes) >= 2, [(f.id, f.kind) for f in result.bodies[0].features]
    cut = {fid for su in gen.program.setups for op in su.operations for fid in op.features}
    assert set(holes) <= cut, (holes, cut)


@pytest.fixture(scope="module")
def pointed(tmp_path_factory):
    """Round and square plates with the same Ø0.5 blind hole and drill point, generated and clean."""
    out = {}
    for shape in ("round", "square"):
        plate = (cq.Workplane("XY").circle(13).extrude(2.5) if shape == "round" else
                 cq.Workplane("XY").box(26, 26, 2.5, centered=(True, True, False)))
        part = plate.cut(_blind_hole(6, 2, 0.5, 1.2, 2.5, point=True))
        path = export_step(part, tmp_path_factory.mktemp(shape) / f"{shape}.step", name=shape)
        gen, result = generate(path)
        _, solid = part_geometry(path)
        out[shape] = (gen, result, solid)
    return out


def _with_steps(program, op_name, index, *steps):
    from dataclasses import replace

    setups = []
    for su in program.setups:
        ops = []
        for op in su.operations:
            if op.name == op_name:
                op = replace(op, steps=op.steps[:index] + tuple(steps) + op.steps[index:])
            ops.append(op)
        setups.append(replace(su, operations=tuple(ops)))
    return replace(program, setups=tuple(setups))


@pytest.mark.parametrize("shape", ["round", "square"])
@pytest.mark.parametrize("into_um", [2.5, 20.0])
def test_a_real_gouge_into_the_hole_wall_above_the_point_is_caught(pointed, shape, into_um):
    """The finishing tool poked a few um into the hole's wall above its drill point: refused on both
    plates. On the square plate the side check did not measure that wall before (its samples had
    no edge near in the band's full-square shadow) and a 2.5 um poke, a lens thinner than a
    grid cell, was written."""
    gen, result, solid = pointed[shape]
    _check(gen, shape)
    prog = gen.program
    fin = next(op for su in prog.setups for op in su.operations if op.name == "hole-1 finish")
    reach = 0.25 - fin.tool.radius + into_um / 1000  # the tool's side that far past the Ø0.5 wall
    z = 1.8
    a = math.radians(33)
    bad_steps = (Feed(6.0, 2.0, z, feed=100.0), Feed(6.0 + reach * math.cos(a), 2.0 + reach * math.sin(a), z,
                                                     feed=100.0), Feed(6.0, 2.0, z, feed=100.0))
    bad = _with_steps(prog, fin.name, len(fin.steps) - 2, *bad_steps)
    _, ver = guarded(bad, solid, result.bodies[0].features)
    why = [w for _, f, w in ver.dropped if f == "hole-1"]
    assert why and "hole-1 finish: cuts into the part by" in why[0], ver.dropped
    amount = float(why[0].split("cuts into the part by")[1].split()[0])
    # the side check's depth; the height field's, where it meets a cell first, is the wall's height above the tip
    assert amount >= into_um / 1000 - guard.TOL_MM - 1e-4, (why, into_um)


def test_a_real_gouge_into_a_round_plates_rim_is_caught(pointed):
    """A feed 5 um into the round plate's rim, below its top, in the outside profile: refused."""
    gen, result, solid = pointed["round"]
    prog = gen.program
    prof = next(op for su in prog.setups for op in su.operations if op.name.startswith("profile"))
    r_tool = prof.tool.radius
    x = 13 + r_tool - 0.005
    out = 13 + r_tool + 0.5
    safe = prof.steps[-1].z  # after the operation's last retract
    bad = _with_steps(prog, prof.name, len(prof.steps),
                      Rapid(out, 0.0, safe), Feed(out, 0.0, 1.0, feed=100.0), Feed(x, 0.0, 1.0, feed=100.0),
                      Feed(out, 0.0, 1.0, feed=100.0), Rapid(out, 0.0, safe))
    _, ver = guarded(bad, solid, result.bodies[0].features)
    assert ver.dropped and "cuts into the part by" in ver.dropped[0][2], ver.dropped
    amount = float(ver.dropped[0][2].split("cuts into the part by")[1].split()[0])
    assert amount >= 0.004 - 1e-4, ver.dropped  # (the height field's, where a cell lies in the sliver: deeper)
