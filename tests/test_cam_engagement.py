"""Feeds that follow the real engagement (#17): a finishing tool smaller than the roughing tool
never runs its chip-thinned wall feed where it meets the rest material in the corners.

The roughing and finishing passes dfm writes are simulated on a 2 µm height field; before each
finishing move the material its tool will meet is measured: the radial engagement ae is the
depth of that material from the tool's wall side. A move fed for thin walls (the allowance)
must meet no more than the allowance; deeper engagement must run at the full-engagement
feed. Parts are built to exact dimensions with CadQuery; the corner radii and tools vary.
"""

from __future__ import annotations

import math

import cadquery as cq
import numpy as np
import pytest
from generators import export_step

from dfm.cam import sim
from dfm.cam.gcode import generate
from dfm.cam.model import Arc, Feed, Rapid


def _pocket(w: float, h: float, depth: float, corner: float) -> cq.Workplane:
    body = cq.Workplane("XY").box(w + 6, h + 5, depth + 2.5, centered=(True, True, False))
    pocket = cq.Workplane("XY").box(w, h, depth, centered=(True, True, False)).translate((0, 0, 2.5))
    pocket = pocket.edges("|Z").fillet(corner)
    return body.cut(pocket)


def _engagement(s: sim.Simulation, p: tuple[float, float, float], q: tuple[float, float, float], r: float,
                z_floor: float) -> float:
    """Largest depth of the material a straight move p→q meets, measured from the tool's wall side.

    Material: cells within the swept disc whose stock stands above the tool's bottom (and
    above the pocket floor, which the floor pass is not for). The wall lies to the move's
    on one side of the move: both sides are measured and the smaller depth kept, which is
    the wall side's for a wall pass.
    """
    g = s.grid
    (ax, ay, az), (bx, by, _) = p, q
    length = math.hypot(bx - ax, by - ay)
    tx, ty = (bx - ax) / length, (by - ay) / length
    nx, ny = -ty, tx
    i0, i1 = int((min(ax, bx) - r - g.x0) / g.step) - 1, int((max(ax, bx) + r - g.x0) / g.step) + 2
    j0, j1 = int((min(ay, by) - r - g.y0) / g.step) - 1, int((max(ay, by) + r - g.y0) / g.step) + 2
    i0, j0, i1, j1 = max(i0, 0), max(j0, 0), min(i1, g.nx), min(j1, g.ny)
    cx, cy = np.meshgrid(g.xs[i0:i1], g.ys[j0:j1])
    along = (cx - ax) * tx + (cy - ay) * ty
    lat = (cx - ax) * nx + (cy - ay) * ny
    inside = (along >= 0) & (along <= length) & (np.abs(lat) <= r)
    material = inside & (s.height[j0:j1, i0:i1] > max(az, z_floor) + 1e-4)
    if not material.any():
        return 0.0
    return float(min(r - lat[material].min(), r + lat[material].max()))


def _walk(s: sim.Simulation, op, z_floor: float, check) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Run ``op`` over ``s``; before each straight cut, ``check(move, ae)``; returns (moves checked, deep ones)."""
    r = op.tool.radius
    pos = None
    checked = deep = 0
    for st in op.steps:
        if isinstance(st, Feed) and pos is not None and st.role == "cut" and math.dist(pos[:2], (st.x, st.y)) > 1e-6:
            ae = _engagement(s, pos, (st.x, st.y, st.z), r, z_floor)
            checked += 1
            deep += ae > 0.02 + 0.006
            check(st, ae)
        if isinstance(st, Feed) and pos is not None and st.role == "link" and math.dist(pos[:2], (st.x, st.y)) > 1e-6:
            # a way back runs at the machine's feed: it meets nothing (3 cells of the 2 um grid)
            assert _engagement(s, pos, (st.x, st.y, st.z), r, z_floor) <= 0.006, (pos, st)
        if isinstance(st, Feed | Arc | Rapid):
            s.run(sim.moves_from_steps([st], {op.tool.number: r}, start=pos, spindle=True, tool=r))
            pos = (st.x, st.y, st.z)
    return checked, deep


@pytest.mark.parametrize("corner,w,h", [(0.25, 4.0, 3.0), (0.3, 3.6, 2.8), (0.22, 5.0, 2.4)])
def test_finish_rest_pass_is_fed_for_what_it_meets(tmp_path, corner, w, h):
    """The roughing tool finishes the walls at the thinned feed meeting only the allowance; the
    smaller tool then cuts only the corners it left, every move at the full-engagement feed."""
    depth = 1.2
    path = export_step(_pocket(w, h, depth, corner), tmp_path / "rest.step", name="rest")
    gen, _ = generate(path)
    setup = gen.program.setups[0]
    rough = next(op for op in setup.operations if op.name.endswith(" rough") and op.kind != "profile")
    fin = next(op for op in setup.operations if op.name == rough.name.replace(" rough", " finish"))
    rest = next(op for op in setup.operations if op.name == rough.name.replace(" rough", " rest"))
    assert fin.kind == "finish-wall" and fin.tool == rough.tool, [op.name for op in setup.operations]
    assert rest.kind == "finish-wall rest" and rest.tool.radius < rough.tool.radius
    assert any("rest machining" in n for n in rest.notes)
    assert rest.cutting.ae_mm == pytest.approx(rest.tool.cutter.diameter_mm)  # fed for full engagement
    top = 2.5 + depth
    grid = sim.Grid(-w / 2 - 0.3719, -h / 2 - 0.2913, 0.002, math.ceil((w + 0.6) / 0.002), math.ceil((h + 0.6) / 0.002))
    s = sim.new_simulation(grid, (-w / 2 - 3, -h / 2 - 3, 0.0), (w / 2 + 3, h / 2 + 3, top),
                           np.full((grid.ny, grid.nx), -np.inf))
    s.run(sim.moves_from_steps(rough.steps, {rough.tool.number: rough.tool.radius}, spindle=True,
                               tool=rough.tool.radius))
    allow = fin.cutting.ae_mm

    def thin(st: Feed, ae: float) -> None:
        assert ae <= allow + 0.006, (st, ae)  # 3 cells of the 2 um grid

    checked, _ = _walk(s, fin, 2.5, thin)
    assert checked
    feed = rest.cutting.feed_mm_min

    def full(st: Feed, ae: float) -> None:
        assert st.feed == pytest.approx(feed), (st, ae)

    checked, deep = _walk(s, rest, 2.5, full)
    assert checked and deep  # the rest pass does meet what the roughing tool left
    # the corners are cut: nothing stands above the floor 3 cells inside what the smaller tool
    # reaches (the pocket with its corners rounded to the larger of its radius and theirs)
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    rr = max(rest.tool.radius, corner)
    ix, iy = np.clip(np.abs(cx) - (w / 2 - rr), 0, None), np.clip(np.abs(cy) - (h / 2 - rr), 0, None)
    reach = (np.abs(cx) <= w / 2 - 0.006) & (np.abs(cy) <= h / 2 - 0.006) & (np.hypot(ix, iy) <= rr - 0.006)
    left = np.where(reach & (s.height > 2.5 + 1e-3))
    assert not left[0].size, [(float(cx[j, i]), float(cy[j, i])) for j, i in zip(*left, strict=True)][:5]
