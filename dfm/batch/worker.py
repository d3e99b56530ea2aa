"""What runs inside the per-file analysis process.

:func:`child_main` is the body of the child: it caps its own address space
(``RLIMIT_AS``) and core dumps first, then calls the job's *entry* function, which writes
the part's outputs into a private work folder. The parent (:mod:`dfm.batch.isolate`)
collects them; the child never writes into the batch output folder, so a child killed
half-way leaves nothing behind.

The default entry, :func:`analyse_job`, is ``api.analyze`` followed by the JSON, HTML and
(optionally) G-code writers. Tests can name another entry (``module:function``) through
the Python API to stand in a crashing or hanging worker; nothing in an uploaded file can
choose the entry.

:func:`main` is the exec-based child (``python -m dfm.batch._child JOB.json WORKDIR``) used
where ``multiprocessing`` may not fork (a daemonic Dask worker).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

DEFAULT_ENTRY = "dfm.batch.worker:analyse_job"

#: Names of the files an entry writes into its work folder.
RESULT_JSON = "result.json"
REPORT_HTML = "report.html"
PROGRAM_NGC = "program.ngc"
TOOL_TABLE = "tools.tbl"
META_JSON = "meta.json"
OUTCOME_JSON = "outcome.json"

Entry = Callable[[Mapping[str, Any], Path], None]


def preload() -> None:
    """Import the heavy modules once in the fork server, so each child starts warm."""
    import dfm.api  # noqa: F401
    import dfm.kernel  # noqa: F401
    import dfm.report.jsonout  # noqa: F401
    import dfm.stages

    dfm.stages.body_stages()


def resolve_entry(spec: str) -> Entry:
    """The function named ``module:function``."""
    mod_name, _, fn_name = spec.partition(":")
    fn = getattr(importlib.import_module(mod_name), fn_name)
    return fn  # type: ignore[no-any-return]


def limit_resources(memory_mb: int | None) -> None:
    """Cap this process: no core dumps, and at most ``memory_mb`` MiB of address space."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb:
        cap = int(memory_mb) * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def child_main(job: Mapping[str, Any], workdir: str, memory_mb: int | None) -> None:
    """Body of the analysis process: cap, run the entry, record the outcome last."""
    # Ctrl-C is the parent's to handle: it keeps finished parts and kills this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_resources(memory_mb)
    work = Path(workdir)
    outcome: dict[str, Any]
    try:
        resolve_entry(str(job.get("entry") or DEFAULT_ENTRY))(job, work)
        outcome = {"ok": True}
    except MemoryError:
        outcome = {"ok": False, "error": "out-of-memory",
                   "cause": f"it needed more than the {memory_mb} MB memory cap"}
    except Exception as err:  # noqa: BLE001 - any failure of one file must be reported, not raised
        if "OutOfMemory" in type(err).__name__:  # OCCT's Standard_OutOfMemory under the cap
            outcome = {"ok": False, "error": "out-of-memory",
                       "cause": f"it needed more than the {memory_mb} MB memory cap ({type(err).__name__})"}
            _write_json(work / OUTCOME_JSON, outcome)
            return
        last = traceback.extract_tb(err.__traceback__)[-1:]
        where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
        outcome = {"ok": False, "error": "worker-error", "cause": f"{type(err).__name__}: {err}{where}"}
    _write_json(work / OUTCOME_JSON, outcome)


def analyse_job(job: Mapping[str, Any], work: Path) -> None:
    """The default entry: analyse the file and write its JSON, HTML and G-code.

    With ``gcode`` the analysis goes through ``dfm.cam.gcode.generate`` (it analyses once and
    plans), so the result carries the machining plan, its cycle time and a quote.
    """
    from dfm import api
    from dfm.batch.runner import options_of
    from dfm.report import jsonout

    opts = options_of(job.get("settings") or {})
    path = str(job["path"])
    display = str(job.get("display") or path)
    meta: dict[str, Any] = {"notes": []}
    result, gen = None, None
    if job.get("gcode"):
        result, gen = _generate(path, opts, work, meta)
    if result is None:
        result = api.analyze(path, opts)
    shown = relabel(result, path, display) if display != path else result
    (work / RESULT_JSON).write_text(jsonout.dumps(shown), encoding="utf-8")
    cam = gen.summary() if gen is not None else None
    if cam is not None:
        meta["cycle_time_s"] = cam.get("cycle_time_s")
    _html(result, shown, cam, work, meta)
    _write_json(work / META_JSON, meta)


def _generate(path: str, opts: Any, work: Path, meta: dict[str, Any]) -> tuple[Any, Any]:
    """Plan and post the program with ``dfm.cam`` when it is installed; (result, generated)."""
    from dfm.errors import DfmError

    try:
        gcode = importlib.import_module("dfm.cam.gcode")
    except ModuleNotFoundError as err:
        if err.name not in ("dfm.cam", "dfm.cam.gcode"):
            raise
        meta["notes"].append("G-code not written: dfm.cam is not installed")
        return None, None
    try:
        gen, result = gcode.generate(path, material=opts.material, tools=opts.tools, options=opts,
                                     timestamp=opts.generated_at)
    except DfmError as err:
        meta["notes"].append(f"G-code not written: {' '.join(str(err).split())}")
        return None, None
    for suffix, text in gen.files:
        (work / f"program{suffix}.ngc").write_text(text, encoding="utf-8")
    if getattr(gen, "tool_table", ""):
        (work / TOOL_TABLE).write_text(gen.tool_table, encoding="utf-8")
    return result, gen


def _html(result: Any, shown: Any, cam: Any, work: Path, meta: dict[str, Any]) -> None:
    """Write the HTML report with ``dfm.report.html`` when it is installed, and read the quote."""
    try:
        html = importlib.import_module("dfm.report.html")
    except ModuleNotFoundError as err:
        if err.name not in ("dfm.report.html",):
            raise
        meta["html"] = "unavailable"
        meta["notes"].append("HTML report not written: dfm.report.html is not installed")
        return
    # Pictures are drawn from the file as it is on this machine; the report names the upload.
    pictures, _note = html.pictures_for(result) if result.status == "ok" else ({}, "")
    text = html.render_html(shown, pictures=pictures, cam=cam)
    (work / REPORT_HTML).write_text(text, encoding="utf-8")
    meta["html"] = "written"
    meta.update(_price(shown, cam, meta))


def _price(result: Any, cam: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """Price per piece at the first quoted quantity, when the quote is complete."""
    from dfm.errors import DfmError

    try:
        vm = importlib.import_module("dfm.report.viewmodel")
        qs = vm.load_quote_settings(None)
        quote = vm.quote_vm(result, vm.plan_vm(cam), qs)
    except (ModuleNotFoundError, DfmError) as err:
        meta["notes"].append(f"no price: {err}")
        return {}
    if not quote.complete or not quote.piece:
        return {}
    return {"price": {"per_piece": float(quote.piece[0].replace(",", "")), "currency": quote.currency,
                      "quantity": int(quote.quantities[0])}}


def relabel(result: Any, path: str, display: str) -> Any:
    """The result as if the file had been read from ``display`` (an archive member, an upload)."""
    err = result.error
    if err is not None:
        err = replace(err, message=err.message.replace(path, display))
    return replace(result, file=display, error=err)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """``python -m dfm.batch._child JOB.json WORKDIR``: the exec-based child."""
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    child_main(job, args[1], job.get("memory_mb"))
    return 0

