"""What runs inside the per-file analysis process of ``dfm batch``.

:func:`run_entry` is called in the child made by :mod:`dfm.isolation` (which has already
capped the process's memory and turned core dumps off); it calls the job's *entry*
function, which writes the part's outputs into a private work folder. The parent
(:mod:`dfm.batch.isolate`) collects them; the child never writes into the batch output
folder, so a child killed half-way leaves nothing behind.

The default entry, :func:`analyse_job`, is ``api.analyze`` followed by the JSON, HTML and
(optionally) G-code writers. Tests can name another entry (``module:function``) through
the Python API to stand in a crashing or hanging worker; nothing in an uploaded file can
choose the entry.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dfm.batch.job import (
    DEFAULT_ENTRY,
    META_JSON,
    PROGRAM_NGC,
    REPORT_HTML,
    RESULT_JSON,
    TOOL_TABLE,
    Entry,
    options_of,
)

__all__ = ["DEFAULT_ENTRY", "META_JSON", "PROGRAM_NGC", "REPORT_HTML", "RESULT_JSON", "TOOL_TABLE",
           "analyse_job", "relabel", "resolve_entry", "run_entry"]


def resolve_entry(spec: str) -> Entry:
    """The function named ``module:function``."""
    mod_name, _, fn_name = spec.partition(":")
    fn = getattr(importlib.import_module(mod_name), fn_name)
    return fn  # type: ignore[no-any-return]


def run_entry(job: Mapping[str, Any], workdir: str) -> None:
    """Body of a batch child (under :func:`dfm.isolation.child_main`): run the job's entry."""
    resolve_entry(str(job.get("entry") or DEFAULT_ENTRY))(job, Path(workdir))


def analyse_job(job: Mapping[str, Any], work: Path) -> None:
    """The default entry: analyse the file and write its JSON, HTML and G-code.

    With ``gcode`` the analysis goes through ``dfm.cam.gcode.generate`` (it analyses once and
    plans), so the result carries the machining plan, its cycle time and a quote.
    """
    from dfm import api
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
