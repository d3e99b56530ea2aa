"""Narrow open slots whose floors are filleted are machined to their walls, and never into the fillets.

A slot open at one end or both and narrower than the outside profile's tool is cut by its own
operations (``program._open_slot_ops``): its outline grown past the open ends, less the part's
shadow. The outline is the floor face's; round a floor filleted with radius F the walls stand F
outside it, and the shadow just above the floor holds the fillets: the passes were planned from
the floor, the walls were left F proud, and a slot as narrow as its tool plus F was not cut at
all ("too narrow"). Now the region reaches the walls (the fillets between the floor's outline and
the walls are taken out of the shadow of the heights within F of the floor), and a tool whose
corner radius is smaller than F stands off like a pocket's (``program.fillet_standoff``), the
slot listed as partly machined with the reason.

Parts in CadQuery (a 10 x 10 x 3 block, a slot 1 mm deep through it or open at one end with a
round closed end, the floor's edges filleted, the whole part turned), read through STEP. The
fillets are checked against an analytic model of each part, independent of dfm's geometry.
"""

from __future__ import annotations

import math
import random

import cadquery as cq
import numpy as np
import pytest
from test_cam_fillets import fillet_gouge, level_samples
from test_cam_random import assert_clean

from dfm.cam import rs274
from dfm.cam.gcode import generate
from dfm.cam.guard import end_corner
from dfm.cam.program import fillet_standoff

pytestmark = [pytest.mark.rs274,
              pytest.mark.skipif(rs274.available() is None,
                                 reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")]

SIDE, TOP = 10.0, 3.0
CLOSED_END = 2.0  # a slot open at one end: its round end's centre, along the slot


class OpenSlot:
    """A block with a slot along its Y, open at -Y (and +Y when ``ends`` is 2), floor edges filleted, turned."""

    def __init__(self, width: float, fillet: float, turn: float, ends: int, depth: float = 1.0) -> None:
        self.w, self.fillet, self.turn, self.ends, self.depth = width, fillet, turn, ends, depth
        self.floor = TOP - depth

    def solid(self) -> cq.Workplane:
        block = cq.Workplane("XY").box(SIDE, SIDE, TOP, centered=(True, True, False))
        if self.ends == 2:
            cut = cq.Workplane("XY").box(self.w, SIDE + 2, self.depth, centered=(True, True, False))
        else:  # from beyond the -Y side to the round end at CLOSED_END
            length = CLOSED_END + SIDE / 2 + 1
            cut = (cq.Workplane("XY").center(0, CLOSED_END - length / 2)
                   .slot2D(length + self.w, self.w, 90).extrude(self.depth))
        part = block.cut(cut.translate((0, 0, self.floor)))
        edges = [e for e in part.edges().vals() if abs(e.Center().z - self.floor) < 1e-3
                 and abs(e.Center().x) < self.w / 2 + 1e-3 and abs(e.Center().y) < SIDE / 2 - 1e-3]
        return part.newObject(edges).fillet(self.fillet).rotate((0, 0, 0), (0, 0, 1), self.turn)

    def to_slot(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model (x, y) → (across the slot, along it)."""
        c, s = math.cos(math.radians(self.turn)), math.sin(math.radians(self.turn))
        return x * c + y * s, -x * s + y * c

    def wall_distance(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Distance from (u, v) in the slot (its frame) to its nearest wall."""
        along = np.maximum(v - CLOSED_END, 0.0) if self.ends == 1 else 0.0
        return self.w / 2 - np.hypot(u, along)

    def band(self, step: float = 0.002) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points every ``step`` over the fillets (inside the block), model coordinates, with the part's top there."""
        f, hw = self.fillet, self.w / 2
        side = np.r_[np.arange(-hw, -hw + f, step), np.arange(hw - f, hw, step)]
        v_end = CLOSED_END if self.ends == 1 else SIDE / 2
        u, v = (a.ravel() for a in np.meshgrid(side, np.arange(-SIDE / 2 + step, v_end - step, step)))
        if self.ends == 1:  # the round end: every u
            ue, ve = (a.ravel() for a in np.meshgrid(np.arange(-hw, hw, step), np.arange(CLOSED_END, CLOSED_END + hw,
                                                                                         step)))
            u, v = np.r_[u, ue], np.r_[v, ve]
        d = self.wall_distance(u, v)
        keep = (d > 0) & (d < f)
        u, v, d = u[keep], v[keep], d[keep]
        z = self.floor + f - np.sqrt(np.clip(f * f - (f - d) ** 2, 0.0, None))
        c, s = math.cos(math.radians(self.turn)), math.sin(math.radians(self.turn))
        return u * c - v * s, u * s + v * c, z


def wall_reached(part: OpenSlot, ops) -> float:  # type: ignore[no-untyped-def]
    """How far from the slot's middle the side of any pass at the floor (within F of it) comes, between its ends."""
    far = 0.0
    for op in ops:
        p = level_samples(op, part.floor + part.fillet)[:, :2]
        if not len(p):
            continue
        u, v = part.to_slot(p[:, 0], p[:, 1])
        v_end = CLOSED_END if part.ends == 1 else SIDE / 2
        mid = (v > -SIDE / 2 + 0.5) & (v < v_end - 0.5)
        if mid.any():
            far = max(far, float(np.abs(u[mid]).max()) + op.tool.cutter.diameter_mm / 2)
    return far


def check(build, name: str, part: OpenSlot, standoff: bool | None = None) -> None:  # type: ignore[no-untyped-def]
    path = build(name, part.solid())
    gen, result = generate(path)
    (body,) = result.bodies
    (slot,) = [f for f in body.features if f.kind == "slot"]
    assert slot.props.get("open") and slot.dims["floor_radius_mm"] == pytest.approx(part.fillet, abs=1e-6)
    assert slot.dims["width_mm"] == pytest.approx(part.w, abs=1e-6)
    ver = gen.verification
    assert not ver.dropped, (name, ver.dropped)
    assert not [u for su in gen.program.setups for u in su.unmachined if u[0] == slot.id], name
    assert_clean(gen, path, name, corners=True)
    assert fillet_gouge(gen, *part.band(), part.floor + part.fillet) <= 1e-3, name
    ops = [op for su in gen.program.setups for op in su.operations if slot.id in op.features]
    listed = {t.id for t in body.tools if slot.id in t.features}
    assert {op.tool.cutter.id for op in ops} <= listed, (name, listed)  # the tools the check lists
    partial = [why for su in gen.program.setups for fid, why in su.partly if fid == slot.id]
    finish = [op for op in ops if op.kind.startswith("finish")]
    corner = min(end_corner(op.tool.cutter) for op in finish)
    if standoff is None:
        standoff = corner < part.fillet - 1e-9
    reached = wall_reached(part, ops)
    if standoff:
        # no catalogue corner as large as the fillet fits: the passes stay off the walls, and it is listed
        assert any(f"fillets round its floor are R{part.fillet:g}" in why for why in partial), (name, partial)
        assert reached <= part.w / 2 - fillet_standoff(part.fillet, corner) + 1e-3, name
        return
    assert not partial, (name, partial)
    assert reached == pytest.approx(part.w / 2, abs=2e-3), name  # the walls, not the floor's outline
    removed = dict(x for sc in ver.setups for x in sc.removed)
    assert removed[slot.id] >= 0.999, (name, removed[slot.id])


CASES = [  # name, width, fillet, turn, ends, needs a stand-off (no corner as large as the fillet fits)
    ("w04_r005_through", 0.4, 0.05, 0.0, 2, False),  # Ø0.3 R0.05
    ("w04_r005_one_end_17", 0.4, 0.05, 17.0, 1, False),
    ("w11_r01_through_17", 1.1, 0.1, 17.0, 2, False),  # Ø0.9 R0.1
    ("w11_r01_one_end", 1.1, 0.1, 0.0, 1, False),
    ("w125_r005_one_end_17", 1.25, 0.05, 17.0, 1, False),  # Ø1 R0.05
    ("w05_r01_through_17", 0.5, 0.1, 17.0, 2, True),  # no R0.1 narrower than 0.42
]


@pytest.mark.parametrize(("name", "width", "fillet", "turn", "ends", "standoff"), CASES, ids=[c[0] for c in CASES])
def test_filleted_open_slot_is_machined_to_its_walls(build, name, width, fillet, turn, ends, standoff):
    check(build, name, OpenSlot(width, fillet, turn, ends), standoff)


@pytest.mark.parametrize("seed", range(3))
def test_random_filleted_open_slots_reach_their_walls_and_never_cut_their_fillets(build, seed):
    rnd = random.Random(8300 + seed)
    fillet = rnd.choice([0.05, 0.1])
    # a bit wider than a catalogue diameter (the check's tool is a bit narrower: 1.2 x D fits)
    width = round(rnd.choice([0.3, 0.4, 0.5, 0.9, 1.0]) * 1.2 + rnd.uniform(0.01, 0.08), 3)
    part = OpenSlot(width, fillet, round(rnd.uniform(-40.0, 40.0), 2), rnd.choice([1, 2]),
                    round(rnd.uniform(0.5, 1.5), 3))
    check(build, f"random{seed}", part)
