"""Bare OCCT STEP read time vs `dfm check` time, per file.

Usage: python benchmarks/read_vs_check.py FILE... [--repeat N]

Prints, for each file: faces, bare read (STEPControl_Reader: read + transfer), the full
dfm analysis (api.analyze, everything the CLI does except printing) and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def bare_read(path: Path) -> float:
    from OCP.STEPControl import STEPControl_Reader

    t = time.perf_counter()
    r = STEPControl_Reader()
    r.ReadFile(str(path))
    r.TransferRoots()
    r.OneShape()
    return time.perf_counter() - t


def dfm_check(path: Path) -> tuple[float, int, str]:
    from dfm import api

    t = time.perf_counter()
    res = api.analyze(path)
    dt = time.perf_counter() - t
    return dt, sum(b.faces for b in res.bodies), res.status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from dfm.kernel.capture import captured_output

    print(f"{'file':48s} {'faces':>6s} {'read s':>8s} {'check s':>8s} {'ratio':>6s}  status")
    for f in args.files:
        reads, checks = [], []
        faces, status = 0, ""
        for _ in range(args.repeat):
            with captured_output():
                reads.append(bare_read(f))
            dt, faces, status = dfm_check(f)
            checks.append(dt)
        r, c = statistics.median(reads), statistics.median(checks)
        print(f"{f.name[:48]:48s} {faces:6d} {r:8.3f} {c:8.3f} {c / r if r else float('nan'):6.2f}  {status}")


if __name__ == "__main__":
    main()
