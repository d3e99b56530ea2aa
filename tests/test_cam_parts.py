"""CAM on generator parts: rs274 accepts every program, and the simulation of what rs274
interprets shows no gouge (> 1 µm), no rapid through material, no cut with the spindle
off, and at least 95 % of each pocket/slot/milled hole removed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dfm.cam import rs274, sim
from dfm.cam.gcode import generate, part_geometry, render, section_fn
from dfm.cli import main

pytestmark = [pytest.mark.rs274, pytest.mark.slow,
              pytest.mark.skipif(rs274.available() is None,
                                 reason="rs274 (LinuxCNC, Debian linuxcnc-uspace) not installed")]

PARTS = {
    "plate_with_pockets": {},
    "slotted_block": {},
    "holes_block": {},
    "lens_barrel": {},
}
GRID_MM = 0.04


@pytest.fixture(scope="module")
def generated(make_part):
    cache = {}

    def _get(name):
        if name not in cache:
            path = make_part(f"cam_{name}", name, **PARTS[name])
            cache[name] = (path, *generate(path))
        return cache[name]

    return _get


@pytest.mark.parametrize("name", sorted(PARTS))
def test_program_runs_in_rs274_and_never_cuts_the_part(generated, name):
    path, gen, result = generated(name)
    prog = gen.program
    assert len(prog.setups) == 1
    su = prog.setups[0]
    assert su.operations, "no operations"
    run = rs274.run(gen.files[0][1], prog)
    assert run.ok, run.errors
    radii = {t.number: t.radius for t in prog.tools}
    moves = sim.moves_from_canon(run.canon, radii)
    assert moves
    _, solid = part_geometry(path)
    from dfm.kernel import sampling

    grid = sim.grid_for(su.stock_min, su.stock_max, GRID_MM)
    part = sampling.height_field(solid, grid.x0, grid.y0, grid.step, grid.nx, grid.ny)
    s = sim.new_simulation(grid, su.stock_min, su.stock_max, part).run(moves)
    assert not s.violations, s.violations[:5]
    side = sim.lateral_gouges(moves, section_fn(solid), part_top=su.part_top, spacing=0.02)
    assert not side, side[:5]
    body = result.bodies[0]
    bottom = body.bbox_min_mm[2]
    checked = 0
    for f in body.features:
        outline = None
        if f.kind in ("pocket", "slot") and f.props.get("outline") and not any(
                fid == f.id for fid, _ in su.unmachined):
            outline = f.props["outline"]
        elif f.kind == "hole" and f.props.get("approach") == [0.0, 0.0, 1.0]:
            x, y, _ = f.location_mm
            r = f.dims["diameter_mm"] / 2
            outline = [[x + r * np.cos(a), y + r * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 200)[:-1]]
        if outline is None:
            continue
        mask = sim.polygon_mask(grid, outline)
        frac = s.removed_fraction(mask, su.stock_max[2], bottom)
        assert frac >= 0.95, (f.id, frac)
        checked += 1
    assert checked >= 1
    assert result.cam is not None and result.cam["cycle_time_s"] > 0


@pytest.mark.parametrize("post", ["fanuc", "grbl"])
def test_other_posts_run_in_rs274(generated, post):
    _, gen, _ = generated("holes_block")
    text = render(gen.program, post).files[0][1]
    run = rs274.run(text, gen.program)
    assert run.ok, run.errors


def test_cli_writes_program_and_tool_table(make_part, tmp_path, capsys):
    path = make_part("cam_slotted_block", "slotted_block")
    out = tmp_path / "slot.ngc"
    code = main(["gcode", str(path), "-o", str(out), "--stock", "margin=0.5,top=3.1", "--material", "brass"])
    assert code in (0, 1)
    text = out.read_text()
    assert text.startswith("%") and "M30" in text and "brass" in text
    tbl = (tmp_path / "slot.tbl").read_text().splitlines()
    assert tbl and all(line.startswith(f"T{i + 1} P{i + 1} D") for i, line in enumerate(tbl))
    assert "facing" in text  # stock top above the part top
    assert main(["gcode", str(path), "-o", str(out), "--post", "haas"]) == 2
    assert "unknown post 'haas'" in capsys.readouterr().err
    assert main(["gcode", str(path), "-o", str(out), "--stock", "lid=2"]) == 2


def test_cam_summary_in_json(generated, schema_validator):
    from dfm.report import jsonout

    _, gen, result = generated("plate_with_pockets")
    doc = json.loads(jsonout.dumps(result))
    schema_validator.validate(doc)
    assert doc["cam"]["cycle_time_s"] == pytest.approx(gen.total_seconds, abs=0.1)
    ops = doc["cam"]["setups"][0]["operations"]
    assert sum(o["cycle_time_s"] for o in ops) == pytest.approx(doc["cam"]["cycle_time_s"], abs=0.5)


@pytest.mark.parametrize("name", sorted(PARTS))
def test_program_loads_the_tools_the_check_recommends(generated, name):
    """Every finishing tool (and drill) dfm.tooling recommends is the one the program cuts that feature with."""
    _, gen, result = generated(name)
    body = result.bodies[0]
    ops = [op for su in gen.program.setups for op in su.operations]
    checked = 0
    for tc in body.tools:
        if tc.role not in ("finish", "rest", "drill"):
            continue
        for fid in tc.features:
            mine = [op for op in ops if fid in op.features and op.kind in ("finish-wall", "finish-wall rest", "drill")
                    and not op.name.startswith("profile")]
            if not mine:
                continue  # cut by the outside profile (one tool for every band) or inside another region
            assert tc.id in {op.tool.cutter.id for op in mine}, (fid, tc.id, [op.tool.cutter.id for op in mine])
            checked += 1
    assert checked >= 1
