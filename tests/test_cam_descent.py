"""Pocket clearing with no pass that cuts nothing (#17): the floor is the last depth, rings the
first ring's tool already swept are left out, the rest are cut nearest first, and the spiral
starts beside the loop cut after it.

Each property is checked by sweeping the steps over a height field (``dfm.cam.sim``): the
floor is reached everywhere the tool can reach, and no move meets more than one depth.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from test_cam_clearing import _axial_engagement

from dfm.cam import sim, strategies
from dfm.cam.cycletime import move_length
from dfm.cam.geom2d import Seg, loop_length
from dfm.cam.model import Arc, Feed, Rapid


def _rrect(w: float, h: float, rad: float) -> tuple[Seg, ...]:
    """A w x h rectangle round the origin with corners of radius ``rad``, counter-clockwise, exact arcs."""
    x, y = w / 2, h / 2
    out: list[Seg] = []
    for cx, cy, a0 in ((x - rad, -y + rad, -90), (x - rad, y - rad, 0), (-x + rad, y - rad, 90),
                       (-x + rad, -y + rad, 180)):
        a1 = math.radians(a0 + 90)
        p = (cx + rad * math.cos(math.radians(a0)), cy + rad * math.sin(math.radians(a0)))
        q = (cx + rad * math.cos(a1), cy + rad * math.sin(a1))
        if out:
            out.append(Seg(out[-1].b, p))
        out.append(Seg(p, q, (cx, cy), True))
    out.append(Seg(out[-1].b, out[0].a))
    return tuple(out)


def _heights(steps, r: float, lo: tuple[float, float], hi: tuple[float, float], top: float, step: float = 0.02
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(x, y, height) of a stock block from ``top`` after every move (no part under it)."""
    grid = sim.Grid(lo[0], lo[1], step, math.ceil((hi[0] - lo[0]) / step) + 1, math.ceil((hi[1] - lo[1]) / step) + 1)
    s = sim.new_simulation(grid, (lo[0], lo[1], -10.0), (hi[0], hi[1], top), np.full((grid.ny, grid.nx), -np.inf))
    start = next(st for st in steps if isinstance(st, Rapid))
    s.run(sim.moves_from_steps(list(steps), {1: r}, start=(start.x, start.y, start.z), spindle=True, tool=r))
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    return cx, cy, s.height


def _cut_loops_per_depth(steps) -> dict[float, int]:  # type: ignore[no-untyped-def]
    """How many runs of cut/ramp moves each depth has (a run ends at a link, descend or rapid)."""
    out: dict[float, int] = {}
    inside = False
    for st in steps:
        cutting = isinstance(st, Feed | Arc) and st.role in ("cut", "ramp")
        if cutting and not inside:
            key = round(st.z, 6)
            out[key] = out.get(key, 0) + 1
        inside = cutting
    return out


def test_a_pocket_the_first_ring_sweeps_is_one_spiral():
    """The cam_peer pocket (8 x 6, 2 deep) with a D3: the tool centre's region is 2.96 mm wide, so
    the first ring's tool sweeps all of it; the inner ring is not cut, and the floor is still cut
    everywhere the tool reaches, no move deeper than ap."""
    outer = _rrect(8.0, 6.0, 0.5)
    r, ap = 1.5, 0.6
    # no floor allowance: the last roughing depth is the floor (the descent bound is exact)
    steps = strategies.clear_region(outer, [], z_top=4.0, z_floor=2.0, tool_radius=r, ap=ap, stepover=1.2,
                                    allowance=0.02, floor_allowance=0.0, ramp_angle_deg=2.0, retract_z=4.5)
    rs = strategies.rings(outer, [], r + 0.02, 1.2)
    assert len(rs) == 2  # the inner ring exists ...
    inner = rs[1][0]
    on_inner = [st for st in steps if isinstance(st, Feed | Arc)
                and min(math.dist((st.x, st.y), sg.point(t / 8)) for sg in inner for t in range(9)) < 1e-6]
    assert not on_inner  # ... and is not cut
    assert sum(isinstance(st, Rapid) for st in steps) == 2
    assert not [st for st in steps if isinstance(st, Feed) and st.role == "link"]
    # the descent is the least a 2 deg ramp needs (steps of ap, the floor's the shallow one: its ramp
    # runs part of a lap at the wedge's slope), then one flat lap on the floor
    ramp = flat = 0.0
    pos = None
    for st in steps:
        if isinstance(st, Feed | Arc) and pos is not None:
            length = move_length((pos[0], pos[1], 0.0), replace(st, z=0.0))
            ramp += length if st.role == "ramp" else 0.0
            flat += length if st.role == "cut" else 0.0
        if isinstance(st, Rapid | Feed | Arc):
            pos = (st.x, st.y, st.z)
    assert ramp == pytest.approx(2.0 / math.tan(math.radians(2.0)), rel=1e-3)
    assert flat == pytest.approx(loop_length(rs[0][0]), rel=1e-3)
    cx, cy, h = _heights(steps, r, (-4.2, -3.2), (4.2, 3.2), 4.0)
    # every cell the tool centre's region (a 4.96 x 2.96 rectangle) reaches, with the grid's slack
    reach = np.hypot(np.maximum(np.abs(cx) - 2.48, 0.0), np.maximum(np.abs(cy) - 1.48, 0.0)) <= r - 0.03
    assert reach.sum() > 1000
    assert float(h[reach].max()) <= 2.0 + 1e-6
    assert _axial_engagement(steps, r, (-4.2, -3.2), (4.2, 3.2), 4.0, step=0.04) <= ap + 2e-3


def test_the_floor_allowance_is_left_by_roughing_and_taken_by_a_floor_pass():
    """With a floor allowance roughing stops that far above the floor; the floor pass after it (its
    ramp takes the last ramp's wedge, then a flat lap) reaches the floor everywhere, no move deeper than ap."""
    outer = _rrect(8.0, 6.0, 0.5)
    r, ap, allow = 1.5, 0.6, 0.02
    steps = strategies.clear_region(outer, [], z_top=4.0, z_floor=2.0, tool_radius=r, ap=ap, stepover=1.2,
                                    allowance=0.02, floor_allowance=allow, ramp_angle_deg=2.0, retract_z=4.5)
    first = next(k for k, st in enumerate(steps) if isinstance(st, Feed | Arc) and st.z < 2.0 + allow - 1e-9)
    cx, cy, h = _heights(steps[:first], r, (-4.2, -3.2), (4.2, 3.2), 4.0)
    reach = np.hypot(np.maximum(np.abs(cx) - 2.48, 0.0), np.maximum(np.abs(cy) - 1.48, 0.0)) <= r - 0.03
    assert float(h[reach].min()) == pytest.approx(2.0 + allow, abs=1e-6)  # (the last ramp's wedge stands above)
    cx, cy, h = _heights(steps, r, (-4.2, -3.2), (4.2, 3.2), 4.0)
    assert float(h[reach].max()) <= 2.0 + 1e-6
    assert _axial_engagement(steps, r, (-4.2, -3.2), (4.2, 3.2), 4.0, step=0.04) <= ap + 2e-3


def test_island_pocket_two_loops_a_depth_and_short_links():
    """The cam_peer island (8 x 6 pocket, 2 x 2 boss, 1.5 deep) with a D1.6: the outer loop and the
    boss's loop sweep the bands between them, so each depth is those two loops; the spiral starts
    where the boss's loop is nearest, so the links are a band's width, not a corner's diagonal."""
    outer = _rrect(8.0, 6.0, 0.5)
    boss = _rrect(2.0, 2.0, 0.3)
    r, ap = 0.8, 0.32
    steps = strategies.clear_region(outer, [boss], z_top=3.0, z_floor=1.5, tool_radius=r, ap=ap, stepover=0.64,
                                    allowance=0.02, floor_allowance=0.02, ramp_angle_deg=2.0, retract_z=3.5)
    levels = strategies._full_steps(3.0, 1.52, ap) + [1.5]  # roughing to the floor allowance, the floor pass
    runs = _cut_loops_per_depth(steps)
    assert all(n <= 3 for n in runs.values()), runs  # the spiral, the boss's loop (and the floor's flat lap)
    pos = None
    links = []
    for st in steps:
        if isinstance(st, Feed) and st.role == "link" and pos is not None:
            links.append(math.dist(pos[:2], (st.x, st.y)))
        if isinstance(st, Rapid | Feed | Arc):
            pos = (st.x, st.y, st.z)
    assert len(links) == 2 * len(levels) - 1  # to the boss and back, no way back after the floor
    # across the band between the loops (3 - 0.82 - 1 - 0.82 = 0.36); on the floor the flat lap begins
    # and ends where the ramp into the floor's shallower step ended, part of the way round
    assert max(links[:-1]) < 0.4 and links[-1] < 2.0
    cx, cy, h = _heights(steps, r, (-4.2, -3.2), (4.2, 3.2), 3.0)
    inside = ((np.abs(cx) <= 4.0 - 0.06) & (np.abs(cy) <= 3.0 - 0.06)
              & ~((np.abs(cx) > 3.4) & (np.abs(cy) > 2.4))  # the R0.5 corners a D1.6 leaves
              & ~((np.abs(cx) <= 1.06) & (np.abs(cy) <= 1.06)))  # the boss and its allowance
    assert float(h[inside].max()) <= 1.5 + 1e-6
    assert _axial_engagement(steps, r, (-4.2, -3.2), (4.2, 3.2), 3.0, step=0.04) <= ap + 2e-3


def test_wide_bands_are_cut_one_side_then_the_other():
    """A 12 x 6 pocket round a 2 x 2 boss with a D1.0: the bands left and right of the boss need
    rings of their own. Each depth clears one side's rings before crossing to the other (index
    order went to and fro once per ring), and every cell the tool reaches is at the floor."""
    outer = _rrect(12.0, 6.0, 0.5)
    boss = _rrect(2.0, 2.0, 0.3)
    r, ap = 0.5, 0.2
    steps = strategies.clear_region(outer, [boss], z_top=1.0, z_floor=0.6, tool_radius=r, ap=ap, stepover=0.4,
                                    allowance=0.02, floor_allowance=0.02, ramp_angle_deg=2.0, retract_z=1.5)
    # runs of cutting moves (a loop each) that lie on one side of the boss: one side's, then the other's
    sides: dict[float, list[bool]] = {}
    run: list[float] = []
    for st in [*steps, Rapid(0.0, 0.0, 9.0)]:
        if isinstance(st, Feed | Arc) and st.role in ("cut", "ramp"):
            run.append(st.x)
            z = round(st.z, 6)
            continue
        if run and (min(run) > 0.0 or max(run) < 0.0):
            sides.setdefault(z, []).append(run[0] > 0.0)
        run = []
    assert sides and all(len(v) >= 4 for v in sides.values()), sides
    assert all(sum(a != b for a, b in zip(v, v[1:], strict=False)) <= 1 for v in sides.values()), sides
    cx, cy, h = _heights(steps, r, (-6.2, -3.2), (6.2, 3.2), 1.0)
    inside = ((np.abs(cx) <= 6.0 - 0.06) & (np.abs(cy) <= 3.0 - 0.06)
              & ~((np.abs(cx) > 5.6) & (np.abs(cy) > 2.6))
              & ~((np.abs(cx) <= 1.06) & (np.abs(cy) <= 1.06)))
    assert float(h[inside].max()) <= 0.6 + 1e-6


def test_only_rings_that_cut_nothing_are_left_out():
    """A 10 x 10 pocket with a D1: every ring widens the cut but the innermost, a 0.16 mm square
    that the ring before it (0.96 mm across, its tool 1 mm) sweeps whole."""
    outer = _rrect(10.0, 10.0, 1.0)
    rs = strategies.rings(outer, [], 0.52, 0.4)
    assert len(rs) == 12
    assert set(strategies._air_loops(rs, 0.5, 0.4, set())) == {(11, 0)}
