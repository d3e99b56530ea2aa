"""A test-only stand-in for the batch's analysis entry that misbehaves on purpose.

It lives under tests/ (never installed) and is reached only through the Python API's
``BatchConfig(entry="batch_trouble:entry")`` or a Dask worker started by the tests with this
folder on PYTHONPATH. The production entry (``dfm.batch.worker:analyse_job``) has no such
behaviour, so nothing in an uploaded file can trigger it.

File names starting with:
  crash-segfault  dereference NULL: the process dies of SIGSEGV, as a kernel crash would
  crash-hang      sleep far past any time limit
  crash-oom       allocate memory in 64 MiB steps (up to 3 GiB) until the RLIMIT_AS cap stops it
anything else is analysed by the real entry.
"""

from __future__ import annotations

import ctypes
import time
from pathlib import Path

from dfm.batch.worker import analyse_job


def entry(job, work: Path) -> None:
    name = Path(str(job.get("display") or job["path"])).name
    if name.startswith("crash-segfault"):
        ctypes.string_at(0)  # SIGSEGV
    elif name.startswith("crash-hang"):
        time.sleep(3600)
    elif name.startswith("crash-oom"):
        hog = []
        for _ in range(48):  # 3 GiB at most, should the cap not work
            hog.append(bytearray(64 * 1024 * 1024))
        raise AssertionError("the memory cap did not stop the allocation")
    analyse_job(job, work)
