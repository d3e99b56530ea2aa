"""G-code generation time vs STEP read time, per generator part (or the files given).

    python benchmarks/gcode_bench.py [--tools CATALOGUE] [PART.step ...]

Prints, per part: STEP read (kernel.load), analysis (api.analyze: read + features + rules +
tooling), program generation alone (planning, offsets, sections, filters, posts), the guard
(dfm.cam.guard: every move simulated against the exact part) and its share on top of the
generation, lines of G-code, operations, thread-milling operations and the estimated cycle time; first, the
guard's start-up (numba's import and compiled code, paid once a process). The default parts
include a modelled M2x0.4 tapped hole; its thread is milled only with ``--tools`` naming a
catalogue (file or folder) that holds thread mills.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "example_parts"))


def _args() -> tuple[str | None, list[str]]:
    argv = sys.argv[1:]
    tools = None
    if "--tools" in argv:
        i = argv.index("--tools")
        tools = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    return tools, argv


def parts(given: list[str]) -> list[Path]:
    if given:
        return [Path(p) for p in given]
    import generators

    out = []
    tmp = Path(tempfile.mkdtemp(prefix="dfm-gcode-bench-"))
    for name in ("plate_with_pockets", "slotted_block", "holes_block", "lens_barrel", "threaded_hole"):
        out.append(generators.export_step(getattr(generators, name)(), tmp / f"{name}.step", name=name))
    return out


def main() -> None:
    from dfm import api, kernel
    from dfm.cam import data
    from dfm.cam.gcode import planned, render
    from dfm.cam.program import StockSpec
    from dfm.cam.tools import from_tooling

    tools, given = _args()
    t0 = time.perf_counter()
    from dfm.cam import simkernel

    simkernel.warm()
    print(f"guard start-up (numba import and compiled-code load, once a process): {time.perf_counter() - t0:.2f} s")
    print(f"{'part':<24} {'read s':>7} {'analyse s':>9} {'gcode s':>8} {'gcode/read':>10} {'guard s':>8} "
          f"{'guard %':>8} {'grid um':>8} {'lines':>7} {'ops':>4} {'thread':>6} {'cycle s':>8}")
    for path in parts(given):
        t0 = time.perf_counter()
        loaded = kernel.load(path)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = api.analyze(path, api.Options(tools=tools))
        t_an = time.perf_counter() - t0
        t0 = time.perf_counter()
        settings = data.load_settings()
        cat = data.load_catalogue(tools)
        solid = loaded.solids[0]
        body = result.bodies[0]
        # as dfm.cam.gcode.generate: setups chosen, planned on the exact part and guarded
        prog, ver = planned(solid, body.features, part=path.name, material=data.load_material("6061-T6"),
                            settings=settings, catalogue=cat, stock=StockSpec(margin=settings["stock_margin_mm"]),
                            chosen=from_tooling(body.tools, cat))
        t_plan_guard = time.perf_counter() - t0
        t_guard = ver.seconds
        t_gen = t_plan_guard - t_guard
        t0 = time.perf_counter()
        gen = render(prog, "linuxcnc", ver)
        t_gen += time.perf_counter() - t0
        grid = min((s.resolution_mm for s in ver.setups), default=0.0) * 1000
        lines = sum(len(t.splitlines()) for _, t in gen.files)
        ops = sum(len(s.operations) for s in prog.setups)
        threads = sum(op.kind == "thread-mill" for s in prog.setups for op in s.operations)
        print(f"{path.stem:<24} {t_read:7.3f} {t_an:9.3f} {t_gen:8.3f} {t_gen / t_read:10.1f} {t_guard:8.2f} "
              f"{100 * t_guard / t_gen:8.0f} {grid:8.1f} {lines:7d} {ops:4d} {threads:6d} {gen.total_seconds:8.1f}",
              flush=True)


if __name__ == "__main__":
    main()
