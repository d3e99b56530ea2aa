"""The guard's height field on curved faces: the triangulation keeps to its chord error.

OCCT's default triangulator joined rows of a torus's parameter grid several rows apart: a
pocket's R0.05 floor fillet was meshed up to 2.3 um off (4.8 um in height), so a corner-radius
tool that fits the fillet exactly was refused for "cutting into the part" (tester's p15b/p15d,
a 0.5 / 4.4 um gouge), and on a convex fillet the chords lay inside the material, hiding a cut
as deep.
"""

from __future__ import annotations

import math

import cadquery as cq
import numpy as np
import pytest
from generators import export_step

from dfm.cam import guard
from dfm.cam.gcode import generate, part_geometry
from dfm.kernel import sampling

pytestmark = pytest.mark.slow


def _field_error(path, cx: float, r_in: float, r_out: float, true_z) -> float:
    """Largest |field - true height| (mm) over cells whose distance from (cx, 0) lies in [r_in, r_out]."""
    _, solid = part_geometry(path)
    step = 0.004
    x0, y0, n = cx - r_out - 0.01, -r_out - 0.01, int(2 * (r_out + 0.01) / step)
    field = sampling.height_field(solid, x0, y0, step, n, n)
    xs = x0 + (np.arange(n) + 0.5) * step
    ys = y0 + (np.arange(n) + 0.5) * step
    rr = np.hypot(xs[None, :] - cx, ys[:, None])
    sel = (rr >= r_in) & (rr <= r_out)
    assert sel.sum() > 1000
    return float(np.abs(field[sel] - true_z(rr[sel])).max())


def test_concave_floor_fillet_is_meshed_within_its_chord_error(tmp_path):
    plate = cq.Workplane("XY").box(20, 20, 2.5, centered=(True, True, False))
    plate = plate.cut(cq.Workplane("XY").workplane(offset=1.5).circle(5).extrude(1))
    plate = plate.edges(cq.selectors.BoxSelector((-5.1, -5.1, 1.49), (5.1, 5.1, 1.51))).fillet(0.05)
    path = export_step(plate, tmp_path / "fillet.step", name="fillet")
    # up to 60 deg of slope (past it the height's error grows as 1 / cos): 0.2 um chords, 0.4 um in height
    err = _field_error(path, 0.0, 4.95, 4.95 + 0.05 * math.sin(math.radians(60)),
                       lambda r: 1.55 - np.sqrt(np.maximum(0.05 ** 2 - (r - 4.95) ** 2, 0.0)))
    assert err <= 5e-4, err


def test_convex_top_fillet_is_meshed_within_its_chord_error(tmp_path):
    boss = cq.Workplane("XY").circle(3).extrude(2).edges(">Z").fillet(0.1)
    path = export_step(boss, tmp_path / "boss.step", name="boss")
    err = _field_error(path, 0.0, 2.9, 2.9 + 0.1 * math.sin(math.radians(60)),
                       lambda r: 1.9 + np.sqrt(np.maximum(0.1 ** 2 - (r - 2.9) ** 2, 0.0)))
    assert err <= 5e-4, err


@pytest.mark.parametrize("hole", [False, True])
def test_round_pocket_with_a_floor_fillet_its_tool_corner_fits_is_machined(tmp_path, hole):
    """The tester's p15b / p15d: a Ø10 pocket 1 deep with R0.05 floor fillets (and a Ø0.6 through hole)."""
    p = cq.Workplane("XY").box(20, 20, 2.5, centered=(True, True, False))
    p = p.cut(cq.Workplane("XY").workplane(offset=1.5).circle(5).extrude(1))
    p = p.edges(cq.selectors.BoxSelector((-5.1, -5.1, 1.49), (5.1, 5.1, 1.51))).fillet(0.05)
    if hole:
        p = p.cut(cq.Workplane("XY").circle(0.3).extrude(3))
    path = export_step(p, tmp_path / "p15.step", name="p15")
    gen, result = generate(path)
    ver = gen.verification
    assert not ver.dropped, ver.dropped
    pocket = next(f.id for f in result.bodies[0].features if f.kind == "pocket")
    assert any(pocket in op.features for su in gen.program.setups for op in su.operations)
    for sc in ver.setups:
        assert sc.closest_mm is None or sc.closest_mm >= -guard.TOL_MM
