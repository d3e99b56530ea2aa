"""What the batch's parent and its analysis processes share: the job, its files, its outcome.

A module below :mod:`dfm.batch.runner`, :mod:`dfm.batch.isolate` and
:mod:`dfm.batch.worker`, so that none of them imports another to get these names (it was
a circle: runner -> worker -> runner).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The function an analysis process runs for one file (``module:function``).
DEFAULT_ENTRY = "dfm.batch.worker:analyse_job"

#: Names of the files an entry writes into its work folder.
RESULT_JSON = "result.json"
REPORT_HTML = "report.html"
PROGRAM_NGC = "program.ngc"
TOOL_TABLE = "tools.tbl"
META_JSON = "meta.json"

#: ``entry(job, workdir)``: writes the part's outputs into ``workdir``.
Entry = Callable[[Mapping[str, Any], Path], None]


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


def options_of(settings: Mapping[str, Any]) -> Any:
    """``api.Options`` from a batch's settings mapping (unknown keys go to ``extra``)."""
    from dataclasses import fields

    from dfm import api

    known = {f.name for f in fields(api.Options)}
    extra = dict(settings.get("extra") or {})
    extra.update({k: v for k, v in settings.items() if k not in known})
    kw = {k: v for k, v in settings.items() if k in known and k != "extra"}
    return api.Options(**kw, extra=extra)
