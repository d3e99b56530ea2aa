"""Bare OCCT STEP read time vs dfm's analysis time, per file.

Usage: python benchmarks/read_vs_check.py FILE... [--repeat N] [--stages] [--rss]

Prints, for each file: faces; the bare read (STEPControl_Reader: read + transfer); dfm's own
load (``kernel.load``: the XDE read with names and units, and the read check); the analysis
(everything ``api.analyze`` does after the load: solid check, features, rules, tooling);
the ratio analysis / bare read (issue #18's goal: at most 0.5) and ``api.analyze`` in all.
Medians of ``--repeat`` runs, each run timing the bare read and the analysis back to back
(the machine is shared: compare ratios of one run, not seconds across runs).
``--stages`` adds the seconds of each step (medians), ``--rss`` the peak resident memory of
``dfm check --in-process --format json FILE`` in a child process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def bare_read(path: Path) -> float:
    from OCP.STEPControl import STEPControl_Reader

    from dfm.kernel.capture import captured_output

    t = time.perf_counter()
    with captured_output():
        r = STEPControl_Reader()
        r.ReadFile(str(path))
        r.TransferRoots()
        r.OneShape()
    return time.perf_counter() - t


def analyze_timed(path: Path) -> tuple[float, dict[str, float], int, str]:
    """(seconds of api.analyze, seconds per step, faces, status)."""
    from dfm import api, stages

    stages.clock = {}
    try:
        t = time.perf_counter()
        res = api.analyze(path)
        dt = time.perf_counter() - t
        steps = dict(stages.clock)
    finally:
        stages.clock = None
    return dt, steps, sum(b.faces for b in res.bodies), res.status


def peak_rss_mib(path: Path) -> float:
    """Peak RSS (MiB) of ``dfm check --in-process`` on ``path`` in a fresh child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "dfm", "check", "--in-process", "--format", "json", str(path)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        return float("nan")  # an earlier child used more: this one's peak is not known
    return after / 1024.0


def measure(path: Path, repeat: int) -> dict[str, object]:
    """Medians of ``repeat`` runs: read, load, analysis, total seconds and the steps."""
    reads, loads, analyses, totals = [], [], [], []
    steps: dict[str, list[float]] = {}
    faces, status = 0, ""
    for _ in range(repeat):
        reads.append(bare_read(path))
        total, st, faces, status = analyze_timed(path)
        totals.append(total)
        loads.append(st.get("load", 0.0))
        analyses.append(total - st.get("load", 0.0))
        for k, v in st.items():
            steps.setdefault(k, []).append(v)
    return {"faces": faces, "status": status, "read": statistics.median(reads), "load": statistics.median(loads),
            "analysis": statistics.median(analyses), "total": statistics.median(totals),
            "steps": {k: statistics.median(v) for k, v in steps.items()}}


HEADER = (f"{'file':32s} {'faces':>6s} {'read s':>7s} {'load s':>7s} {'analysis s':>10s} {'ratio':>6s} "
          f"{'analyze s':>9s} {'RSS MiB':>8s}  status")


def row(name: str, m: dict[str, object], rss: float | None) -> str:
    r = float(m["read"])  # type: ignore[arg-type]
    a = float(m["analysis"])  # type: ignore[arg-type]
    rss_s = f"{rss:8.0f}" if rss is not None else f"{'-':>8s}"
    return (f"{name[:32]:32s} {m['faces']:6d} {r:7.2f} {float(m['load']):7.2f} {a:10.2f} "  # type: ignore[arg-type]
            f"{a / r if r else float('nan'):6.2f} {float(m['total']):9.2f} {rss_s}  {m['status']}")


def steps_line(m: dict[str, object]) -> str:
    steps: dict[str, float] = m["steps"]  # type: ignore[assignment]
    return "    steps s: " + "  ".join(f"{k} {v:.2f}" for k, v in steps.items() if k != "load")


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
