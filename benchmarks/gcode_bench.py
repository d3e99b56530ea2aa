"""G-code generation time vs STEP read time, per generator part (or the files given).

    python benchmarks/gcode_bench.py [--tools CATALOGUE] [PART.step ...]

Prints, per part: STEP read (kernel.load), analysis (api.analyze: read + features + rules +
tooling), program generation alone (planning, offsets, sections, filters, posts), the guard
(dfm.cam.guard: every move simulated against the exact part) and its share on top of the
generation, lines of G-code, operations, thread-milling operations and the estimated cycle time; first, the
guard's start-up (numba's import and compiled code, paid once a process). ``guard cpu %`` is the same share
in CPU seconds of this process (``time.process_time``): steadier than wall time on a shared machine. The
generation and its guard run ``--repeat N`` times (default 1); the fastest run is shown. The default parts
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


def _args() -> tuple[str | None, int, list[str]]:
    argv = sys.argv[1:]
    tools = None
    repeat = 1
    if "--tools" in argv:
        i = argv.index("--tools")
        tools = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = max(1, int(argv[i + 1]))
        argv = argv[:i] + argv[i + 2:]
    return tools, repeat, argv


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

    tools, repeat, given = _args()
    t0 = time.perf_counter()
    from dfm.cam import guard, simkernel

    verify = guard.verify
    guard_cpu = [0.0]

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        c0 = time.process_time()
        try:
            return verify(*args, **kwargs)
        finally:
            guard_cpu[0] += time.process_time() - c0

    guard.verify = timed

    simkernel.warm()
    print(f"guard start-up (numba import and compiled-code load, once a process): {time.perf_counter() - t0:.2f} s")
    print(f"{'part':<24} {'read s':>7} {'analyse s':>9} {'gcode s':>8} {'gcode/read':>10} {'guard s':>8} "
          f"{'guard %':>8} {'cpu %':>6} {'grid um':>8} {'lines':>7} {'ops':>4} {'thread':>6} {'cycle s':>8}")
    for path in parts(given):
        t0 = time.perf_counter()
        loaded = kernel.load(path)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = api.analyze(path, api.Options(tools=tools))
        t_an = time.perf_counter() - t0
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            c0 = time.process_time()
            guard_cpu[0] = 0.0
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
            c_all = time.process_time() - c0
            runs.append((t_guard + t_gen, t_gen, t_guard, c_all - guard_cpu[0], guard_cpu[0], prog, ver, gen))
        _, t_gen, t_guard, c_gen, c_guard, prog, ver, gen = min(runs, key=lambda x: x[0])
        grid = min((s.resolution_mm for s in ver.setups), default=0.0) * 1000
        lines = sum(len(t.splitlines()) for _, t in gen.files)
        ops = sum(len(s.operations) for s in prog.setups)
        threads = sum(op.kind == "thread-mill" for s in prog.setups for op in s.operations)
        print(f"{path.stem:<24} {t_read:7.3f} {t_an:9.3f} {t_gen:8.3f} {t_gen / t_read:10.1f} {t_guard:8.2f} "
              f"{100 * t_guard / t_gen:8.0f} {100 * c_guard / c_gen:6.0f} {grid:8.1f} {lines:7d} {ops:4d} {threads:6d} "
              f"{gen.total_seconds:8.1f}", flush=True)


if __name__ == "__main__":
    main()
