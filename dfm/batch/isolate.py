"""One process per file, with a time limit and a memory cap.

A file that makes the kernel segfault, loop or eat memory must fail alone. So each file is
analysed in its own process: forked from a *fork server* that has already imported OCP
(about 1.8 s saved per file), or, where ``multiprocessing`` may not create children (inside
a daemonic Dask worker), exec'd as ``python -m dfm.batch._child``. The child caps its own
address space (``RLIMIT_AS``); the parent enforces the time limit and kills the child's
process on expiry. What the child wrote is read back into an :class:`Outcome`, so the
caller (local thread or remote Dask task) gets the outputs as bytes and writes them itself.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfm.batch import worker

_SIGNAL_NOTES = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "abort, e.g. a failed allocation under the memory cap",
    signal.SIGKILL: "killed, e.g. by the system's out-of-memory killer",
    signal.SIGFPE: "arithmetic fault",
    signal.SIGILL: "illegal instruction",
}

_lock = threading.Lock()
_active: set[Any] = set()
_ctx: Any = None


@dataclass(frozen=True)
class Outcome:
    """What came back from one file's process.

    Attributes:
        ok: True when the child finished and wrote its outputs (the part itself may still
            have an input error inside its result JSON).
        files: Output files by their work-folder name (``result.json``, ``report.html``...).
        meta: Notes of the entry (HTML/G-code availability, cycle time).
        error: On failure: diagnostic name (``worker-crashed``, ``analysis-timeout``,
            ``out-of-memory``, ``worker-error``).
        cause: On failure: what happened, in words.
        seconds: Wall time of the process.
        host: Machine that ran it.

    """

    ok: bool
    files: Mapping[str, bytes] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    cause: str = ""
    seconds: float = 0.0
    host: str = ""


def _fork_context() -> Any:
    global _ctx
    with _lock:
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["dfm.batch.worker", "dfm.batch._preload"])
            _ctx = ctx
        return _ctx


def can_fork_children() -> bool:
    """False inside a daemonic process (a Dask nanny's worker), where multiprocessing refuses."""
    return not multiprocessing.current_process().daemon


def run_isolated(job: Mapping[str, Any], timeout: float | None, memory_mb: int | None) -> Outcome:
    """Run ``job`` in a fresh process and collect what it wrote.

    Args:
        job: The job (``path``, ``display``, ``settings``, ``gcode``, ``entry``).
        timeout: Seconds before the process is killed (None: no limit).
        memory_mb: Address-space cap of the process in MiB (None: no cap).

    """
    workdir = Path(tempfile.mkdtemp(prefix="dfm-batch-"))
    host = os.uname().nodename
    t0 = time.monotonic()
    try:
        if can_fork_children():
            returncode, timed_out = _run_forked(job, workdir, timeout, memory_mb)
        else:
            returncode, timed_out = _run_exec(job, workdir, timeout, memory_mb)
        seconds = time.monotonic() - t0
        if timed_out:
            return Outcome(False, error="analysis-timeout", seconds=seconds, host=host,
                           cause=f"the analysis did not finish within {timeout:g} s and was stopped")
        outcome_path = workdir / worker.OUTCOME_JSON
        if returncode != 0 or not outcome_path.exists():
            return Outcome(False, error="worker-crashed", cause=describe_exit(returncode), seconds=seconds,
                           host=host)
        outcome = json.loads(outcome_path.read_text(encoding="utf-8"))
        if not outcome.get("ok"):
            return Outcome(False, error=str(outcome.get("error", "worker-error")), cause=str(outcome.get("cause", "")),
                           seconds=seconds, host=host)
        meta_path = workdir / worker.META_JSON
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        files = {
            p.name: p.read_bytes()
            for p in sorted(workdir.iterdir())
            if p.name not in (worker.OUTCOME_JSON, worker.META_JSON) and p.is_file()
        }
        return Outcome(True, files=files, meta=meta, seconds=seconds, host=host)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def describe_exit(returncode: int | None) -> str:
    """Words for how a child process ended."""
    if returncode is None:
        return "the analysis process did not report"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"the analysis process was killed by signal {-returncode}"
        note = _SIGNAL_NOTES.get(sig)
        return f"the analysis process was killed by signal {-returncode} ({sig.name}{', ' + note if note else ''})"
    return f"the analysis process exited with status {returncode} without writing its result"


def _run_forked(
    job: Mapping[str, Any], workdir: Path, timeout: float | None, memory_mb: int | None
) -> tuple[int, bool]:
    proc = _fork_context().Process(target=worker.child_main, args=(dict(job), str(workdir), memory_mb), daemon=True)
    with _lock:
        proc.start()
        _active.add(proc)
    try:
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            return -signal.SIGKILL, True
        return int(proc.exitcode), False
    finally:
        with _lock:
            _active.discard(proc)
        proc.close()


def _run_exec(job: Mapping[str, Any], workdir: Path, timeout: float | None, memory_mb: int | None) -> tuple[int, bool]:
    job_file = workdir / "job.json"
    job_file.write_text(json.dumps(dict(job, memory_mb=memory_mb)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "dfm.batch._child", str(job_file), str(workdir)],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    with _lock:
        _active.add(proc)
    try:
        try:
            return proc.wait(timeout), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return -signal.SIGKILL, True
    finally:
        with _lock:
            _active.discard(proc)
        job_file.unlink(missing_ok=True)


def kill_all() -> int:
    """Kill every analysis process this process started and is waiting for (on Ctrl-C)."""
    with _lock:
        procs = list(_active)
    for p in procs:
        try:
            p.kill()
        except (OSError, ValueError):
            pass
    return len(procs)
