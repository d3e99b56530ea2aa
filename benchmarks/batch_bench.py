"""Throughput of ``dfm batch`` (parts per minute): 1 and 2 local workers, and a local Dask cluster.

    python benchmarks/batch_bench.py                 # example parts + the MFCAD corpus files
    python benchmarks/batch_bench.py FILE_OR_DIR...  # your own set

Every configuration analyses the same files from scratch (a fresh output folder, so
nothing is resumed). Each file runs in its own capped process, as in production. The fork
server that keeps OCP loaded is warmed once before timing. The Dask cluster is a
``LocalCluster`` of 2 worker processes x 1 thread; it is timed twice: with the default
daemonic workers (each file's process is exec'd, paying the ~1.8 s OCP import) and with
``distributed.worker.daemon: false`` (each file's process is forked from a warm server).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dfm.batch import BatchConfig, run_batch

ROOT = Path(__file__).resolve().parents[1]


def default_set() -> list[str]:
    files = sorted(str(p) for p in (ROOT / "example_parts").glob("*.step"))
    mfcad = ROOT.parent / "shared" / "corpus" / "mfcad"
    files += sorted(str(p) for p in mfcad.glob("*.step"))
    return files


def timed(inputs: list[str], **kw) -> tuple[float, dict]:
    out = Path(tempfile.mkdtemp(prefix="dfm-bench-"))
    try:
        t0 = time.perf_counter()
        res = run_batch(inputs, BatchConfig(out_dir=out, progress="none", timeout=600, **kw))
        return time.perf_counter() - t0, dict(res.summary["counts"])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    inputs = args.inputs or default_set()
    n = len(inputs)
    print(f"set: {n} inputs ({'default: example parts + corpus/mfcad' if not args.inputs else 'given'})")
    timed(inputs[:1], jobs=1)  # warm the fork server
    rows = []
    for jobs in (1, 2):
        secs, counts = timed(inputs, jobs=jobs)
        rows.append((f"local, -j {jobs}", secs, counts))
    if not args.no_dask:
        import dask
        from distributed import Client, LocalCluster

        for daemon in (True, False):
            with dask.config.set({"distributed.worker.daemon": daemon}):
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
                    with Client(lc) as client:
                        client.wait_for_workers(2)
                        secs, counts = timed(inputs, scheduler=lc.scheduler_address)
            label = "dask LocalCluster 2x1, " + ("daemonic workers (exec)" if daemon else "non-daemonic (fork)")
            rows.append((label, secs, counts))
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(f"{'configuration':<58} {'files':>5} {'seconds':>8} {'parts/min':>9}")
    for label, secs, counts in rows:
        print(f"{label:<58} {counts['files']:>5} {secs:>8.1f} {counts['files'] * 60.0 / secs:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
