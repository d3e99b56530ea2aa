"""One process per file, with a time limit and a memory cap (the batch's use of :mod:`dfm.isolation`).

A file that makes the kernel segfault, loop or eat memory must fail alone. Each file's
entry (:mod:`dfm.batch.worker`) runs in a child made by :func:`dfm.isolation.run_child` —
the same fork server, caps and explanations every ``dfm`` command uses — and writes the
part's outputs into a private work folder; this module reads them back into an
:class:`~dfm.batch.job.Outcome`, so the caller (a local thread or a remote Dask task) gets
the outputs as bytes and writes them itself. The child never writes into the batch's
output folder, so a child killed half-way leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from dfm import isolation
from dfm.batch.job import META_JSON, Outcome

#: Kept for callers of the batch's API: the same helpers as :mod:`dfm.isolation`.
can_fork_children = isolation.can_fork_children
describe_exit = isolation.describe_exit
kill_all = isolation.kill_all


def run_isolated(job: Mapping[str, Any], timeout: float | None, memory_mb: int | None) -> Outcome:
    """Run ``job`` in a fresh process and collect what it wrote.

    Args:
        job: The job (``path``, ``display``, ``settings``, ``gcode``, ``entry``).
        timeout: Seconds before the process is killed (None: no limit).
        memory_mb: Address-space cap of the process in MiB (None: no cap).

    """
    host = os.uname().nodename
    limits = isolation.Limits(timeout=timeout, memory_mb=memory_mb)
    with isolation.workdir() as work:
        got = isolation.run_child("dfm.batch.worker:run_entry", (dict(job), str(work)), limits=limits, work=work)
        if got.raised is not None:  # an entry lets no DfmError out; if one does, it is that file's error
            return Outcome(False, error="worker-error", cause=str(got.raised), seconds=got.seconds, host=host)
        if not got.ok:
            return Outcome(False, error=got.error, cause=got.cause, seconds=got.seconds, host=host)
        meta_path = work / META_JSON
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        skip = {META_JSON, isolation.RETURN_PICKLE, isolation.CHILD_LOG}
        files = {p.name: p.read_bytes() for p in sorted(work.iterdir()) if p.name not in skip and p.is_file()}
        return Outcome(True, files=files, meta=meta, seconds=got.seconds, host=host)
