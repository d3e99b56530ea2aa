"""Pockets with several islands over filleted floors: roughed by a tool that clears them, the one the check lists.

dfm.tooling sized a region's roughing tool by its width alone: in an 8 x 6 pocket whose two 2 x 2
islands leave channels 1.75-2 mm wide it chose a Ø3, which enters none of them. The program
then fell back to the next smaller square end mills the check never listed (Ø2.5, then a Ø2
that cleared a sliver round the islands), the finishing tool could not enter where roughing had
not, and 46 % of the pocket was left. Now the check sizes the roughing tool by the share of the
floor it sweeps (``dfm.tooling.clearance``), the program loads that tool, and where a roughing
tool still turns out too narrow its fallback is chosen by the same rule, a corner that fits the
fillets first.

Parts in CadQuery, read through STEP; the fillets are checked against an analytic model.
"""

from __future__ import annotations

import random

import cadquery as cq
import numpy as np
import pytest
from test_cam_fillets import FilletPocket, _fillet_gouge, _rrect_sdf
from test_cam_random import assert_clean

from dfm.cam import rs274
from dfm.cam.gcode import generate
from dfm.cam.guard import end_corner

pytestmark = [pytest.mark.rs274,
              pytest.mark.skipif(rs274.available() is None,
                                 reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")]


class IslandsPocket(FilletPocket):
    """A rounded-rectangle pocket with several rounded-rectangle islands, every floor edge filleted."""

    def __init__(self, w: float, h: float, r: float, depth: float, fillet: float,
                 islands: list[tuple[float, float, float, float, float]]) -> None:
        super().__init__(w, h, r, depth, fillet)
        self.islands = islands

    def solid(self) -> cq.Workplane:
        top = 3.0
        part = cq.Workplane("XY").box(self.w + 4, self.h + 4, top).translate((0, 0, top / 2))
        pk = cq.Workplane("XY").rect(self.w, self.h).extrude(self.depth).edges("|Z").fillet(self.r)
        for cx, cy, iw, ih, ir in self.islands:
            pk = pk.cut(cq.Workplane("XY").rect(iw, ih).extrude(self.depth).edges("|Z").fillet(ir)
                        .translate((cx, cy, 0)))
        part = part.cut(pk.translate((0, 0, self.floor)))
        e = 1e-3
        box = cq.selectors.BoxSelector((-self.w / 2 - e, -self.h / 2 - e, self.floor - e),
                                       (self.w / 2 + e, self.h / 2 + e, self.floor + e))
        return part.edges(box).fillet(self.fillet)

    def wall_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d = -_rrect_sdf(x, y, 0.0, 0.0, self.w, self.h, self.r)
        for cx, cy, iw, ih, ir in self.islands:
            d = np.minimum(d, _rrect_sdf(x, y, cx, cy, iw, ih, ir))
        return d


def two_islands(fillet: float, gap: float, size: float = 2.0, w: float = 8.0, h: float = 6.0) -> IslandsPocket:
    return IslandsPocket(w, h, 0.5, 1.5, fillet, [(-(size + gap) / 2, 0.0, size, size, 0.3),
                                                  ((size + gap) / 2, 0.0, size, size, 0.3)])


def check(build, name: str, part: IslandsPocket, *, listed_only: bool = True):  # type: ignore[no-untyped-def]
    path = build(name, part.solid())
    gen, result = generate(path)
    (body,) = result.bodies
    (pocket,) = [f for f in body.features if f.kind in ("pocket", "slot")]  # long and narrow: a slot
    ver = gen.verification
    assert not ver.dropped, (name, ver.dropped)
    assert_clean(gen, path, name, corners=True)
    assert _fillet_gouge(part, gen) <= 1e-3, name
    ops = [op for su in gen.program.setups for op in su.operations if pocket.id in op.features]
    listed = {t.id for t in body.tools if pocket.id in t.features}
    if listed_only:
        assert {op.tool.cutter.id for op in ops} <= listed, (name, listed)
        assert not [n for op in ops for n in op.notes if "too narrow" in n], name
    partial = [why for su in gen.program.setups for fid, why in su.partly if fid == pocket.id]
    removed = dict(x for sc in ver.setups for x in sc.removed)[pocket.id]
    finish = min(end_corner(op.tool.cutter) for op in ops if op.kind.startswith("finish"))
    if finish < part.fillet - 1e-9:  # no corner as large as the fillets fits: a stand-off band is left, listed
        assert any(f"fillets round its floor are R{part.fillet:g}" in why for why in partial), (name, partial)
        assert removed >= 0.9, (name, removed)
    else:
        assert not partial, (name, partial)
        assert removed >= 0.999, (name, removed)
    return gen, body, pocket, ops


@pytest.mark.parametrize("fillet", [0.05, 0.1])
def test_two_islands_over_filleted_floor_are_roughed_by_the_listed_tool(build, fillet):
    part = two_islands(fillet, 0.5)
    _, body, pocket, ops = check(build, f"two_{fillet:g}", part)
    rough = next(op for op in ops if op.kind == "pocket").tool.cutter
    assert rough.diameter_mm < 2.0  # the channels are 1.75-2 mm wide (the width, 6 mm, let in a Ø3)
    assert rough.id == next(t.id for t in body.tools if t.role == "rough" and pocket.id in t.features)


@pytest.mark.parametrize("seed", range(3))
def test_random_island_pockets_over_filleted_floors(build, seed):
    rnd = random.Random(5200 + seed)
    fillet = rnd.choice([0.05, 0.1])
    size = round(rnd.uniform(1.2, 2.4), 3)
    part = two_islands(fillet, round(rnd.uniform(0.4, 1.0), 3), size, round(rnd.uniform(2 * size + 2.5, 10.0), 3),
                       round(rnd.uniform(size + 2.2, 6.0), 3))
    check(build, f"random{seed}", part)


def test_a_roughing_tool_too_wide_falls_back_to_one_that_clears_with_a_corner_that_fits(build, monkeypatch):
    """With the check's old rule (the width alone) the program meets a Ø3 too wide for the channels."""
    from dfm.tooling import select

    monkeypatch.setattr(select, "_clears", lambda req, cands, params: (lambda t: True))
    part = two_islands(0.1, 0.5)
    _, _, _, ops = check(build, "fallback", part, listed_only=False)
    rough = next(op for op in ops if op.kind == "pocket")
    notes = [n for n in rough.notes if "too narrow" in n]
    assert notes and "a tool the check does not list" in notes[-1], rough.notes
    c = rough.tool.cutter
    assert 1.0 <= c.diameter_mm < 2.0 and 0 < end_corner(c) <= part.fillet + 1e-9, c.id


def test_the_check_sizes_the_rough_by_what_it_clears_between_islands() -> None:
    from cam_helpers import rounded_rect

    from dfm.tooling.catalogue import default_catalogue
    from dfm.tooling.rules import default_rules
    from dfm.tooling.select import Requirement, best_rough

    params = default_rules().params
    mills = default_catalogue().mills()
    f = 0.05
    plain = Requirement("p", "pocket", 1.5, 0.5, 6.0, "flat", f)
    assert best_rough(plain, mills, params).diameter_mm == pytest.approx(3.0)  # type: ignore[union-attr]
    islands = (tuple(map(tuple, rounded_rect(-1.25, 0, 2 + 2 * f, 2 + 2 * f, 0.3 + f))),
               tuple(map(tuple, rounded_rect(1.25, 0, 2 + 2 * f, 2 + 2 * f, 0.3 + f))))
    two = Requirement("p", "pocket", 1.5, 0.5, 6.0, "flat", f, gap_mm=0.5, islands=2,
                      outline=tuple(map(tuple, rounded_rect(0, 0, 8 - 2 * f, 6 - 2 * f, 0.5 - f))),
                      island_outlines=islands)  # type: ignore[arg-type]
    rough = best_rough(two, mills, params)
    assert rough is not None and 1.4 <= rough.diameter_mm <= 1.8
