"""dfm batch on a real Dask cluster: scheduler and workers started as separate processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dfm.batch import BatchConfig, run_batch
from dfm.cli import main

ROOT = Path(__file__).resolve().parents[1]
HELPERS = Path(__file__).resolve().parent / "helpers"
EXAMPLES = ROOT / "example_parts"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and one worker process (nanny + 2 worker processes of 1 thread) on 127.0.0.1."""
    distributed = pytest.importorskip("distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HELPERS), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cli = [sys.executable, "-m", "distributed.cli"]
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [*cli[:2], "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"],
            stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True))
        procs.append(subprocess.Popen(
            [*cli[:2], "distributed.cli.dask_worker", address, "--nworkers", "2", "--nthreads", "1",
             "--memory-limit", "0", "--dashboard-address", ":0", "--local-directory", str(logs)],
            stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT, env=env, start_new_session=True))
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        _stop(list(reversed(procs)))


def test_batch_runs_on_a_dask_cluster_and_a_crash_fails_alone(cluster, tmp_path):
    import distributed

    up = tmp_path / "up"
    up.mkdir()
    shutil.copy(EXAMPLES / "micro_slot.step", up / "slot.step")
    shutil.copy(EXAMPLES / "thin_web_plate.step", up / "web.step")
    shutil.copy(EXAMPLES / "micro_slot.step", up / "crash-segfault.step")
    (up / "empty.step").write_bytes(b"")
    out = tmp_path / "out"
    res = run_batch([str(up)], BatchConfig(out_dir=out, scheduler=cluster, timeout=120, memory_mb=4096,
                                           entry="batch_trouble:entry", progress="none"))
    assert res.exit_code == 2
    rows = {Path(r["source"]).name: r for r in res.summary["parts"]}
    assert set(rows) == {"slot.step", "web.step", "crash-segfault.step", "empty.step"}
    seg = rows["crash-segfault.step"]
    assert seg["error"]["code"] == "DFM913" and "SIGSEGV" in seg["error"]["message"]
    assert str(up / "crash-segfault.step") in seg["error"]["message"]
    assert rows["empty.step"]["error"]["code"] == "DFM902"
    assert str(up / "empty.step") in rows["empty.step"]["error"]["message"]  # the worker's temp path is hidden
    for name in ("slot.step", "web.step"):
        data = json.loads((out / rows[name]["files"]["json"]).read_text())
        assert data["file"] == str(up / name)
        assert rows[name]["error"] is None or rows[name]["error"]["code"] < "DFM911"
    assert res.summary["scheduler"] == cluster
    # the segfault killed only its analysis process: both Dask workers are still there
    with distributed.Client(cluster, timeout="30s") as client:
        assert len(client.scheduler_info()["workers"]) == 2


def test_cli_scheduler_option(cluster, tmp_path):
    out = tmp_path / "out"
    rc = main(["batch", str(EXAMPLES / "micro_slot.step"), str(tmp_path / "missing.step"), "--out", str(out),
               "--scheduler", cluster, "--progress", "none"])
    summary = json.loads((out / "summary.json").read_text())
    assert rc == summary["exit_code"] == 2
    errors = {Path(e["source"]).name: e for e in summary["errors"]}
    assert errors["missing.step"]["code"] == "DFM901"
    slot = next(r for r in summary["parts"] if r["name"] == "micro_slot")
    assert (out / "micro_slot.json").is_file() and slot["seconds"] > 0
