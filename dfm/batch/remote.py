"""The task a Dask worker runs for one file.

The file's bytes travel with the task (uploads are a few MB), so workers need no shared
file system; the outputs travel back as bytes and the client writes them. On the worker the
file is still analysed in its own capped, timed process, so a segfault kills that process,
not the Dask worker.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dfm.batch.isolate import Outcome, run_isolated


def remote_task(job: Mapping[str, Any], data: bytes | None, timeout: float | None, memory_mb: int | None) -> Outcome:
    """Write ``data`` to a private folder under the file's own name and analyse it there.

    Args:
        job: The job; ``path`` gives the file name, ``display`` how results name it.
        data: The file's bytes, or None when the client could not read it (the analysis
            then reports the file as missing).
        timeout: Seconds before the analysis process is killed.
        memory_mb: Address-space cap of the analysis process.

    """
    tmp = Path(tempfile.mkdtemp(prefix="dfm-batch-in-"))
    try:
        local = tmp / (Path(str(job["path"])).name or "part")
        if data is not None:
            local.write_bytes(data)
        companion = job.get("companion")
        if companion is not None:  # the part's PART.dfm.toml, beside it as on the client
            local.with_name(local.stem + ".dfm.toml").write_bytes(companion)
        job = {k: v for k, v in job.items() if k != "companion"}
        return run_isolated(dict(job, path=str(local)), timeout, memory_mb)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
