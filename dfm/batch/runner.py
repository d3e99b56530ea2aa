"""The batch run: expand inputs, skip unchanged parts, analyse the rest, write the index.

Local runs use a pool of threads, each waiting on one isolated analysis process
(:mod:`dfm.batch.isolate`); ``scheduler=`` sends the same tasks to a Dask distributed
cluster. Either way the results come back to this process, which alone writes the output
folder, atomically, one finished part at a time. The resume state of a part (its content +
settings hash and summary row) is written after its outputs, so a run that is killed at any
moment leaves only complete parts behind and the next run redoes exactly the rest.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfm import __version__, isolation
from dfm.batch import inputs as inp
from dfm.batch import isolate, output
from dfm.batch import job as jb
from dfm.batch.job import Outcome, options_of

STATE_DIR = ".dfm-batch"
_SUFFIX = {jb.RESULT_JSON: ".json", jb.REPORT_HTML: ".html", jb.PROGRAM_NGC: ".ngc", jb.TOOL_TABLE: ".tbl"}
_FILE_KEYS = {jb.RESULT_JSON: "json", jb.REPORT_HTML: "html", jb.PROGRAM_NGC: "gcode", jb.TOOL_TABLE: "tool_table"}


def _output_suffix(fname: str) -> str | None:
    """Suffix of a work file in the output folder (``program.setup2.ngc`` -> ``.setup2.ngc``)."""
    if fname in _SUFFIX:
        return _SUFFIX[fname]
    if fname.startswith("program.") and fname.endswith(".ngc"):
        return fname[len("program"):]
    return None


@dataclass(frozen=True)
class BatchConfig:
    """Settings of one batch run.

    Attributes:
        out_dir: Output folder.
        jobs: Files analysed at once on this machine (ignored with a scheduler).
        timeout: Seconds one file may take (None: no limit).
        memory_mb: Address-space cap of one file's process, MiB (None: no cap).
        gcode: Also write the milling program (needs ``dfm.cam``).
        scheduler: Dask scheduler address (``tcp://host:8786``), or None to run locally.
        settings: ``api.Options`` fields for every part (material, finish, spec...).
        entry: The function the analysis process runs (``module:function``); tests only.
        zip_limits: Zip bomb limits.
        progress: ``auto`` (bar on a terminal, lines otherwise), ``bar``, ``lines``, ``none``.

    """

    out_dir: Path
    jobs: int = 1
    timeout: float | None = 300.0
    memory_mb: int | None = 4096
    gcode: bool = False
    scheduler: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    entry: str = jb.DEFAULT_ENTRY
    zip_limits: inp.ZipLimits = field(default_factory=inp.ZipLimits)
    progress: str = "auto"


@dataclass(frozen=True)
class BatchResult:
    """What a run did: the summary it wrote, its exit code, whether it was interrupted."""

    summary: Mapping[str, Any]
    exit_code: int
    interrupted: bool


@dataclass(frozen=True)
class _Task:
    name: str
    item: inp.InputItem
    sha256: str | None
    key: str | None


def settings_hash(config: BatchConfig) -> str:
    """Hash of everything besides the file that decides its results (settings, dfm, rules)."""
    from dfm.resources import rules_dir

    h = hashlib.sha256()
    h.update(json.dumps({"settings": dict(config.settings), "gcode": config.gcode, "dfm": __version__,
                         "entry": config.entry}, sort_keys=True, default=str).encode())
    for extra in ("spec", "profile", "tools"):  # files named by the settings count by content
        p = config.settings.get(extra)
        if p and Path(p).is_file():
            h.update(Path(p).read_bytes())
    root = rules_dir()
    for p in sorted(root.rglob("*.toml")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def file_sha256(path: Path, max_bytes: int | None = None) -> str | None:
    """Content hash of a regular file; None when it is unreadable, not regular or too long.

    Too long is longer than ``max_bytes``. The file is opened without blocking and checked on
    the open descriptor, so a file swapped for a FIFO after the input checks cannot hang the
    batch.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (max_bytes is not None and st.st_size > max_bytes):
            return None
        h = hashlib.sha256()
        left = st.st_size if max_bytes is None else min(st.st_size, max_bytes)
        while left > 0:
            chunk = os.read(fd, min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        return h.hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)


def run_batch(inputs: Sequence[str], config: BatchConfig) -> BatchResult:
    """Run a batch and write the output folder (see the module docstring).

    Raises:
        UsageError: The memory cap is below what dfm's analysis process itself takes (local
            runs; checked before any work starts).
    """
    isolation.allow_new()
    if not config.scheduler:
        isolation.check_limits(isolation.Limits(timeout=config.timeout, memory_mb=config.memory_mb))
        isolation.warm()  # the fork server starts from this (main) thread, not from a pool thread
    out = Path(config.out_dir)
    state = out / STATE_DIR
    (state / "done").mkdir(parents=True, exist_ok=True)
    exp = inp.expand(inputs, state / "unzipped", config.zip_limits)
    names = output.assign_names([(i.source, i.rel) for i in exp.items])
    shash = settings_hash(config)
    tasks: list[_Task] = []
    bound = config.zip_limits.max_member_bytes
    for name, item in zip(names, exp.items, strict=True):
        sha = file_sha256(item.path, bound)
        # a PART.dfm.toml beside the part is a setting of that part
        spec = None if config.settings.get("spec") else file_sha256(inp.companion_of(item.path), 1 << 20)
        key = None if sha is None else hashlib.sha256(f"{sha}:{spec}:{shash}".encode()).hexdigest()
        tasks.append(_Task(name, item, sha, key))

    rows: dict[str, dict[str, Any]] = {}
    pending: list[_Task] = []
    for t in tasks:
        row = _resumable(out, t)
        if row is not None:
            rows[t.name] = row
        else:
            pending.append(t)
    problem_rows = [output.problem_row(p.source, p.code, p.name, p.message) for p in exp.problems]

    progress = _make_progress(config.progress)
    progress.start(len(tasks) + len(problem_rows), len(rows) + len(problem_rows),
                   sum(r["status"] != "ok" or r["verdict"] == "fail" for r in rows.values()) + len(problem_rows))
    interrupted = False
    try:
        runner = _run_dask if config.scheduler else _run_local
        for task, outcome in runner(pending, config):
            row = _store(out, task, outcome, config)
            rows[task.name] = row
            progress.advance(row)
    except KeyboardInterrupt:
        interrupted = True
        isolation.kill_all()
    finally:
        progress.close()

    all_rows = [rows[t.name] for t in tasks if t.name in rows] + problem_rows
    all_rows.sort(key=lambda r: (r["name"] is None, r["name"] or "", r["source"]))
    unfinished = sorted(t.item.source for t in tasks if t.name not in rows)
    summary = output.summary_dict(all_rows, _run_info(config, shash, exp, interrupted, unfinished))
    output.write_atomic(out / "summary.json", output.summary_json(summary))
    output.write_atomic(out / "summary.csv", output.summary_csv(all_rows))
    output.write_atomic(out / "index.html", output.index_html(summary))
    return BatchResult(summary, int(summary["exit_code"]), interrupted)


def _run_info(
    config: BatchConfig, shash: str, exp: inp.Expansion, interrupted: bool, unfinished: list[str]
) -> dict[str, Any]:
    notes: list[str] = []
    try:
        import importlib

        importlib.import_module("dfm.report.html")
    except ModuleNotFoundError:
        notes.append("HTML part reports were not written: dfm.report.html is not installed in this dfm.")
    if exp.ignored:
        notes.append(f"{len(exp.ignored)} archive members were not STEP/BREP files and were ignored.")
    return {
        "dfm_version": __version__,
        "generated_at": config.settings.get("generated_at"),
        "settings": {k: v for k, v in sorted(config.settings.items()) if k != "generated_at" and v is not None},
        "settings_hash": shash,
        "gcode": config.gcode,
        "timeout_s": config.timeout,
        "memory_mb": config.memory_mb,
        "scheduler": config.scheduler,
        "interrupted": interrupted,
        "unfinished": unfinished,
        "ignored": list(exp.ignored),
        "notes": notes,
    }


def _state_path(out: Path, name: str) -> Path:
    return out / STATE_DIR / "done" / f"{name}.json"


def _resumable(out: Path, t: _Task) -> dict[str, Any] | None:
    """The stored row when the part's content and settings are unchanged and its outputs exist."""
    if t.key is None:
        return None
    p = _state_path(out, t.name)
    try:
        st = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    row = st.get("row") or {}
    if st.get("key") != t.key or row.get("source") != t.item.source:
        return None
    listed = [f for v in (row.get("files") or {}).values() for f in (v if isinstance(v, list) else [v]) if f]
    if not all((out / f).is_file() for f in listed):
        return None
    return dict(row, resumed=True)


def _store(out: Path, t: _Task, oc: Outcome, config: BatchConfig) -> dict[str, Any]:
    """Write one finished part atomically (reports first, JSON, then its resume state)."""
    files: dict[str, Any] = {"json": None, "html": None, "gcode": None}
    if oc.ok:
        result = json.loads(oc.files[jb.RESULT_JSON])
        for fname in sorted(oc.files, key=lambda f: (f == jb.RESULT_JSON, f)):  # the JSON last
            suffix = _output_suffix(fname)
            if suffix is None:
                continue
            output.write_atomic(out / f"{t.name}{suffix}", oc.files[fname])
            if fname in _FILE_KEYS:
                files[_FILE_KEYS[fname]] = f"{t.name}{suffix}"
            else:
                files.setdefault("gcode_setups", []).append(f"{t.name}{suffix}")
        meta = oc.meta
    else:
        result = _failure_result(t, oc, config)
        output.write_atomic(out / f"{t.name}.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        files["json"] = f"{t.name}.json"
        # a stale report of an earlier run of this name would contradict the failure
        for stale in (out / f"{t.name}.html", out / f"{t.name}.ngc", out / f"{t.name}.tbl"):
            stale.unlink(missing_ok=True)
        meta = {}
    row = output.part_row(t.name, t.item.source, t.sha256, result, files, meta, oc.seconds)
    if oc.ok and t.key is not None:
        output.write_atomic(_state_path(out, t.name), json.dumps({"key": t.key, "row": row}, ensure_ascii=False))
    else:
        _state_path(out, t.name).unlink(missing_ok=True)  # worker failures are retried next run
    return row


def _failure_result(t: _Task, oc: Outcome, config: BatchConfig) -> dict[str, Any]:
    """A ``dfm-result/1`` object for a file whose analysis process failed."""
    from dfm import diagnostics
    from dfm.model import DfmResult, ErrorInfo
    from dfm.report import jsonout

    diag = diagnostics.diagnostics()[oc.error or "worker-error"]
    where = f" on {oc.host}" if config.scheduler and oc.host else ""
    msg = f"{t.item.source}: {oc.cause}{where} [{diag.code} {diag.name}]"
    opts = options_of(config.settings)
    res = DfmResult(file=t.item.source, status="error", error=ErrorInfo(diag.code, diag.name, " ".join(msg.split())),
                    settings=opts.as_dict(), generated_at=opts.generated_at, dfm_version=__version__)
    return jsonout.result_dict(res)


def _job(t: _Task, config: BatchConfig) -> dict[str, Any]:
    return {"name": t.name, "path": str(t.item.path), "display": t.item.source,
            "settings": dict(config.settings), "gcode": config.gcode, "entry": config.entry}


def _run_local(tasks: Sequence[_Task], config: BatchConfig) -> Iterator[tuple[_Task, Outcome]]:
    ex = cf.ThreadPoolExecutor(max_workers=max(1, config.jobs), thread_name_prefix="dfm-batch")
    try:
        futs = {ex.submit(isolate.run_isolated, _job(t, config), config.timeout, config.memory_mb): t for t in tasks}
        for fut in cf.as_completed(futs):
            yield futs[fut], fut.result()
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def _run_dask(tasks: Sequence[_Task], config: BatchConfig) -> Iterator[tuple[_Task, Outcome]]:
    from distributed import Client, as_completed

    from dfm.batch.remote import remote_task

    client = Client(config.scheduler, timeout="30s")
    futs: dict[Any, _Task] = {}
    try:
        for t in tasks:
            data = _read(t.item.path)
            job = _job(t, config)
            spec = None if config.settings.get("spec") else _read(inp.companion_of(t.item.path))
            if spec is not None:
                job["companion"] = spec
            fut = client.submit(remote_task, job, data, config.timeout, config.memory_mb,
                                key=f"dfm-batch-{t.name}-{os.getpid()}-{time.monotonic_ns()}", pure=False)
            futs[fut] = t
        for fut in as_completed(list(futs)):
            t = futs[fut]
            try:
                oc = fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker fails that file only
                oc = Outcome(False, error="worker-crashed",
                             cause=f"the Dask worker running it was lost ({type(err).__name__}: {err})")
            yield t, oc
    finally:
        if futs:
            client.cancel(list(futs))
        client.close()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# -- progress -------------------------------------------------------------------------------


class _Progress:
    def start(self, total: int, done: int, failed: int) -> None:
        self.total, self.done, self.failed, self.t0 = total, done, failed, time.monotonic()
        self.first = done

    def advance(self, row: Mapping[str, Any]) -> None:
        self.done += 1
        self.failed += row["status"] != "ok" or row["verdict"] == "fail"

    def close(self) -> None:
        pass

    def rate(self) -> float:
        dt = time.monotonic() - self.t0
        return (self.done - self.first) * 60.0 / dt if dt > 0 else 0.0


class _Lines(_Progress):
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def start(self, total: int, done: int, failed: int) -> None:
        super().start(total, done, failed)
        print(f"dfm batch: {total} files, {done} unchanged or refused before analysis", file=self.stream, flush=True)

    def advance(self, row: Mapping[str, Any]) -> None:
        super().advance(row)
        what = row["verdict"] if row["status"] == "ok" else f"error {row['error']['code']} {row['error']['name']}"
        print(f"dfm batch: [{self.done}/{self.total}] {row['name']}: {what} ({row['seconds']:.1f} s)",
              file=self.stream, flush=True)

    def close(self) -> None:
        print(f"dfm batch: {self.done}/{self.total} done, {self.failed} fail DFM or not analysed, "
              f"{self.rate():.1f} parts/min", file=self.stream, flush=True)


class _Bar(_Progress):
    def start(self, total: int, done: int, failed: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        super().start(total, done, failed)
        self.bar = Progress(
            TextColumn("dfm batch"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} fail or not analysed"),
            TextColumn("{task.fields[rate]:.1f} parts/min"),
            TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True), transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task("batch", total=total, completed=done, failed=failed, rate=0.0)

    def advance(self, row: Mapping[str, Any]) -> None:
        super().advance(row)
        self.bar.update(self.task, completed=self.done, failed=self.failed, rate=self.rate())

    def close(self) -> None:
        self.bar.stop()


def _make_progress(mode: str) -> _Progress:
    if mode == "none":
        return _Progress()
    if mode == "bar" or (mode == "auto" and sys.stderr.isatty()):
        return _Bar()
    return _Lines(sys.stderr)

