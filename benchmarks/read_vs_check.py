"""Bare OCCT STEP read time vs dfm's analysis time, per file.

Usage: python benchmarks/read_vs_check.py FILE... [--repeat N] [--stages] [--rss]

Prints, for each file: faces; the bare read (STEPControl_Reader: read + transfer); dfm's own
load (``kernel.load``: the XDE read with names and units, and the read check); the analysis
(everything ``api.analyze`` does after the load: solid check, features, rules, tooling);
the ratio analysis / bare read (issue #18's goal: at most 0.5) and ``api.analyze`` in all.
Medians of ``--repeat`` runs, each run timing the bare read and the analysis back to back
(the machine is shared: compare ratios of one run, not seconds across runs).
``--stages`` adds the seconds and the CPU seconds (this process) of each step (medians),
``--rss`` the peak resident memory of
``dfm check --in-process --format json FILE`` in a child process.

The machine is often shared, and dfm runs the solid check and the walls' rays in forked
children beside the analysis (``kernel.shape.Beside``): so each row also gives CPU seconds,
which other processes do not inflate: of the bare read, of the analysis in this process
(``an. cpu``, its critical path when the children have cores of their own; ``cpu ratio`` =
an. cpu / read cpu) and of the children (``child cpu``).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def bare_read(path: Path) -> tuple[float, float]:
    """(seconds, CPU seconds) of a bare OCCT read."""
    from OCP.STEPControl import STEPControl_Reader

    from dfm.kernel.capture import captured_output

    t, c = time.perf_counter(), time.process_time()
    with captured_output():
        r = STEPControl_Reader()
        r.ReadFile(str(path))
        r.TransferRoots()
        r.OneShape()
    return time.perf_counter() - t, time.process_time() - c


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def analyze_timed(path: Path) -> tuple[float, dict[str, float], int, str, float, float, dict[str, float]]:
    """(seconds of api.analyze, seconds per step, faces, status, CPU seconds here, CPU seconds of children,
    CPU seconds per step here)."""
    from dfm import api, stages

    stages.clock, stages.cpu_clock = {}, {}
    try:
        t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
        res = api.analyze(path)
        dt, cpu, kids = time.perf_counter() - t, time.process_time() - c, _children_cpu() - k
        steps, cpu_steps = dict(stages.clock), dict(stages.cpu_clock)
        cpu -= stages.cpu_clock.get("load", 0.0)
    finally:
        stages.clock = stages.cpu_clock = None
    return dt, steps, sum(b.faces for b in res.bodies), res.status, cpu, kids, cpu_steps


#: Runs ``dfm check`` and prints its peak RSS (KiB): a small process, so that the fork
#: before the exec does not lend ``dfm check`` this benchmark's own size (Linux keeps the
#: larger of the two in ``ru_maxrss`` across the exec).
_RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "subprocess.run([sys.executable, '-m', 'dfm', 'check', '--in-process', '--format', 'json', sys.argv[1]],"
    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss_mib(path: Path) -> float:
    """Peak RSS (MiB) of ``dfm check --in-process`` on ``path`` and the children it forks."""
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(path)], capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.split()[-1]) / 1024.0
    except (IndexError, ValueError):
        return float("nan")


def measure(path: Path, repeat: int) -> dict[str, object]:
    """Medians of ``repeat`` runs: read, load, analysis, total seconds and the steps."""
    reads, read_cpus, loads, analyses, totals, cpus, kids = [], [], [], [], [], [], []
    steps: dict[str, list[float]] = {}
    cpu_steps: dict[str, list[float]] = {}
    faces, status = 0, ""
    for _ in range(repeat):
        r, rc = bare_read(path)
        reads.append(r)
        read_cpus.append(rc)
        total, st, faces, status, cpu, kid, cst = analyze_timed(path)
        totals.append(total)
        loads.append(st.get("load", 0.0))
        analyses.append(total - st.get("load", 0.0))
        cpus.append(cpu)
        kids.append(kid)
        for k, v in st.items():
            steps.setdefault(k, []).append(v)
        for k, v in cst.items():
            cpu_steps.setdefault(k, []).append(v)
    med = statistics.median
    return {"faces": faces, "status": status, "read": med(reads), "load": med(loads),
            "analysis": med(analyses), "total": med(totals), "read_cpu": med(read_cpus), "cpu": med(cpus),
            "children_cpu": med(kids), "steps": {k: med(v) for k, v in steps.items()},
            "cpu_steps": {k: med(v) for k, v in cpu_steps.items()}}


HEADER = (f"{'file':32s} {'faces':>6s} {'read s':>7s} {'load s':>7s} {'analysis s':>10s} {'ratio':>6s} "
          f"{'analyze s':>9s} {'RSS MiB':>8s}  {'read cpu':>8s} {'an. cpu':>7s} {'cpu ratio':>9s} "
          f"{'child cpu':>9s}  status")


def row(name: str, m: dict[str, object], rss: float | None) -> str:
    r = float(m["read"])  # type: ignore[arg-type]
    a = float(m["analysis"])  # type: ignore[arg-type]
    rss_s = f"{rss:8.0f}" if rss is not None else f"{'-':>8s}"
    rc, ac, kc = float(m["read_cpu"]), float(m["cpu"]), float(m["children_cpu"])  # type: ignore[arg-type]
    return (f"{name[:32]:32s} {m['faces']:6d} {r:7.2f} {float(m['load']):7.2f} {a:10.2f} "  # type: ignore[arg-type]
            f"{a / r if r else float('nan'):6.2f} {float(m['total']):9.2f} {rss_s}  "
            f"{rc:8.2f} {ac:7.2f} {ac / rc if rc else float('nan'):9.2f} {kc:9.2f}  {m['status']}")


def steps_line(m: dict[str, object]) -> str:
    steps: dict[str, float] = m["steps"]  # type: ignore[assignment]
    cpu: dict[str, float] = m["cpu_steps"]  # type: ignore[assignment]
    return ("    steps s: " + "  ".join(f"{k} {v:.2f}" for k, v in steps.items() if k != "load")
            + "\n    steps cpu s: " + "  ".join(f"{k} {v:.2f}" for k, v in cpu.items() if k != "load"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--stages", action="store_true", help="also print the seconds of each step")
    ap.add_argument("--rss", action="store_true", help="also measure the peak RSS of dfm check (a child process)")
    args = ap.parse_args()
    print(HEADER)
    for f in args.files:
        m = measure(f, args.repeat)
        print(row(f.name, m, peak_rss_mib(f) if args.rss else None), flush=True)
        if args.stages:
            print(steps_line(m), flush=True)


if __name__ == "__main__":
    main()
