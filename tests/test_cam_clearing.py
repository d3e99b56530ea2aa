"""Pocket clearing that wastes no time (#17): the outermost ring spirals down (its ramp is its cut),
links stay down round islands, wall finishes are not stepped like roughing, and a smaller tool
cuts only the corners the larger one left.

Each property is checked on the steps themselves or by sweeping them over a height field
(``dfm.cam.sim``): no move ever meets more than one depth (ap) of material above its tip.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from cam_helpers import rounded_rect

from dfm.cam import sim, strategies
from dfm.cam.geom2d import fit_arcs, loop_length
from dfm.cam.model import Arc, Feed, Rapid


def _loop(pts):  # type: ignore[no-untyped-def]
    return fit_arcs([tuple(p) for p in pts])


def _clear(outer, holes, *, r=0.4, ap=0.16, ae=0.32, z_top=2.0, z_floor=1.0, floor_allowance=0.02):  # type: ignore[no-untyped-def]
    return strategies.clear_region(outer, holes, z_top=z_top, z_floor=z_floor, tool_radius=r, ap=ap, stepover=ae,
                                   allowance=0.02, floor_allowance=floor_allowance, ramp_angle_deg=2.0,
                                   retract_z=z_top + 0.5)


def _axial_engagement(steps, r: float, lo: tuple[float, float], hi: tuple[float, float], top: float,
                      step: float = 0.01) -> float:  # type: ignore[no-untyped-def]
    """Largest height of material any move meets above its own tip (swept one by one)."""
    grid = sim.Grid(lo[0] - 0.3719 * step, lo[1] - 0.2913 * step, step, math.ceil((hi[0] - lo[0]) / step) + 1,
                    math.ceil((hi[1] - lo[1]) / step) + 1)
    s = sim.new_simulation(grid, (lo[0], lo[1], 0.0), (hi[0], hi[1], top), np.full((grid.ny, grid.nx), -np.inf))
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    worst = 0.0
    pos = None
    for st in steps:
        if not isinstance(st, Rapid | Feed | Arc):
            continue
        if pos is not None and not isinstance(st, Rapid):
            mv = sim.moves_from_steps([st], {1: r}, start=pos, spindle=True, tool=r)
            for m in mv:
                for t in np.linspace(0.0, 1.0, 9):
                    if m.center is None:
                        x, y = m.a[0] + (m.b[0] - m.a[0]) * t, m.a[1] + (m.b[1] - m.a[1]) * t
                    else:
                        rad = math.dist(m.a[:2], m.center)
                        ang = math.atan2(m.a[1] - m.center[1], m.a[0] - m.center[0]) + m.sweep * t
                        x, y = m.center[0] + rad * math.cos(ang), m.center[1] + rad * math.sin(ang)
                    z = m.a[2] + (m.b[2] - m.a[2]) * t
                    disc = np.hypot(cx - x, cy - y) <= r - step
                    if disc.any():
                        worst = max(worst, float(s.height[disc].max()) - z)
                s.run([m])
        pos = (st.x, st.y, st.z)
    return worst


def test_outer_ring_spirals_down_without_extra_laps():
    """A 3 x 1.2 pocket with a D0.8: the one ring's ramps are its cuts; one flat lap, on the floor."""
    outer = _loop(rounded_rect(0, 0, 3.0, 1.2, 0.3))
    steps = _clear(outer, [])
    ring = strategies.rings(outer, [], 0.42, 0.32)[0][0]
    lap = loop_length(ring)
    levels = strategies.depth_levels(2.0, 1.02, 0.16) + [1.0]  # the floor pass takes the 20 um allowance
    pos = None
    ramp = flat = 0.0
    for st in steps:
        if isinstance(st, Feed | Arc) and pos is not None:
            seg = math.dist(pos[:2], (st.x, st.y)) if isinstance(st, Feed) else None
            if seg is None:
                from dfm.cam.cycletime import move_length

                seg = math.hypot(move_length(pos, st), 0.0)
            if st.role == "ramp":
                ramp += seg
            elif st.role == "cut":
                flat += seg
        if isinstance(st, Rapid | Feed | Arc):
            pos = (st.x, st.y, st.z)
    # one lap per level at most (a lap is longer than a 0.16 mm ramp at 2 deg), ramps on the floor
    # included; flat cutting is the floor's single lap
    assert ramp <= len(levels) * lap + 1e-6
    assert flat == pytest.approx(lap, rel=1e-3)
    assert sum(isinstance(st, Rapid) for st in steps) == 2  # in and out: the tool stays down between depths


@pytest.mark.parametrize("w,h,r", [(3.0, 1.2, 0.4), (1.4, 0.9, 0.3), (4.0, 3.0, 0.5)])
def test_no_move_meets_more_than_one_depth(w, h, r):
    """Spiral laps, ramps that wrap round a short ring several times, and the wedges they leave."""
    outer = _loop(rounded_rect(0, 0, w, h, min(r, h / 2 - 1e-3)))
    ap = 0.4 * r
    steps = _clear(outer, [], r=r, ap=ap, ae=0.8 * r)
    worst = _axial_engagement(steps, r, (-w / 2 - 0.1, -h / 2 - 0.1), (w / 2 + 0.1, h / 2 + 0.1), 2.0)
    assert worst <= ap + 0.02 + 2e-3  # the last roughing depth leaves the floor allowance to the floor pass


def test_island_pocket_stays_down(tmp_path):
    """An 8 x 6 pocket 1.5 deep round a 2 x 2 boss (the real part, planned and guarded): the links go
    round the boss instead of retracting, and no move meets more than one depth."""
    import cadquery as cq
    from generators import export_step

    from dfm.cam.gcode import generate

    boss = cq.Workplane("XY").box(2, 2, 1.5, centered=(True, True, False)).edges("|Z").fillet(0.3)
    pocket = cq.Workplane("XY").box(8, 6, 1.5, centered=(True, True, False)).edges("|Z").fillet(0.5)
    part = cq.Workplane("XY").box(14, 10, 3, centered=(True, True, False)).cut(
        pocket.translate((0, 0, 1.5)).cut(boss.translate((0, 0, 1.5))))
    gen, _ = generate(export_step(part, tmp_path / "island.step", name="island"))
    rough = next(op for op in gen.program.setups[0].operations if op.name == "pocket-1 rough")
    rapids = [st for st in rough.steps if isinstance(st, Rapid)]
    assert len(rapids) <= 4, rapids  # to the start (safe height, retract height), out at the end
    r, ap = rough.tool.radius, rough.cutting.ap_mm
    worst = _axial_engagement(rough.steps, r, (-4.1, -3.1), (4.1, 3.1), 3.0, step=0.02)
    assert worst <= ap + 0.02 + 4e-3


def test_finish_ap_is_not_a_roughing_step():
    assert strategies.finish_ap(3.0, 2.0) == pytest.approx(2.0)
    assert strategies.finish_ap(0.3, 1.0) == pytest.approx(0.25)  # 4 equal passes of at most 1 D
    assert strategies.finish_ap(0.8, 3.0) == pytest.approx(0.75)


def test_rest_zones_are_the_corners_only():
    """A D3 finish of a 6 x 4 R0.5 pocket leaves four corners; a D0.8 meets them and nothing else."""
    outer = _loop(rounded_rect(0, 0, 6.0, 4.0, 0.5))
    big = strategies.classify(strategies.offset(outer, [], -1.5))
    small = strategies.classify(strategies.offset(outer, [], -0.4))
    rest = strategies.RestMaterial(big, 1.5, 0.4)
    loop, zones = rest.zones(small[0])
    assert len(zones) == 4
    # a 90 deg corner of radius 0.5 in a wall the D3 finished with R1.5: the D0.8 centre meets rest
    # material within 1.5 - 0.5 = 1 mm of the corner along each wall (less its own radius' worth)
    total = sum(b - a for a, b in zones)
    assert 4 * 1.0 < total < 4 * 2.6
    steps = strategies.finish_rest(small, rest, z_top=2.0, z_floor=1.0, ap=0.16, retract_z=2.5)
    from dfm.cam.cycletime import move_length

    pos = None
    cut = 0.0
    for st in steps:
        if isinstance(st, Feed | Arc) and pos is not None and st.role == "cut":
            cut += move_length(pos, st)
        if isinstance(st, Rapid | Feed | Arc):
            pos = (st.x, st.y, st.z)
    # each zone once per depth, nothing else cut
    assert cut == pytest.approx(len(strategies.depth_levels(2.0, 1.0, 0.16)) * total, rel=1e-6)
    with pytest.raises(strategies.CamError):
        strategies.RestMaterial([], 1.5, 0.4).zones(small[0])


def test_outside_profile_does_not_cut_the_air_round_the_stock():
    """The profile's first ring runs round the stock, in the air: the tool goes down beside the stock
    and enters it sideways at each depth instead of lapping that ring (ramps included)."""
    r, ap = 0.5, 0.4
    stock = (-3.0, -2.5, 3.0, 2.5)
    pad = 2 * r + 0.02 + 0.05
    big = _loop([[-3 - pad, -2.5 - pad], [3 + pad, -2.5 - pad], [3 + pad, 2.5 + pad], [-3 - pad, 2.5 + pad]])
    part = _loop(rounded_rect(0, 0, 4.0, 3.0, 0.5))
    kw = dict(z_top=2.0, z_floor=0.8, tool_radius=r, ap=ap, stepover=0.4, allowance=0.02, floor_allowance=0.02,
              ramp_angle_deg=2.0, retract_z=2.5)
    lapped = strategies.clear_region(big, [part], **kw)
    steps = strategies.clear_region(big, [part], stock_box=stock, **kw)
    ring0 = strategies.rings(big, [part], r + 0.02, 0.4)[0]
    outer = next(lp for lp in ring0 if abs(lp[0].a[0]) > 3.0 + r)
    on_outer = [st for st in steps if isinstance(st, Feed | Arc) and st.role in ("cut", "ramp")
                and min(math.dist((st.x, st.y), sg.point(t / 8)) for sg in outer for t in range(9)) < 1e-6]
    assert not on_outer
    assert sum(isinstance(st, Rapid) for st in steps) <= 3
    descends = [st for st in steps if isinstance(st, Feed) and st.role == "descend"]
    assert len(descends) == len(strategies.depth_levels(2.0, 0.82, ap)) + 1  # one per depth, beside the stock
    from dfm.cam.cycletime import estimate

    assert estimate(steps, (0.0, 0.0, 2.5), 5000.0, 0.0)[0] < estimate(lapped, (0.0, 0.0, 2.5), 5000.0, 0.0)[0]
    worst = _axial_engagement(steps, r, stock[:2], stock[2:], 2.0, step=0.02)
    assert worst <= ap + 0.02 + 4e-3
