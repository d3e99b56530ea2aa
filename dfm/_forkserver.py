"""Imported by the fork server only: warm the kernel, and clean up when the parent is gone.

The fork server (:mod:`dfm.isolation`) outlives a parent killed outright (SIGKILL) by a
moment: it notices the end of its pipe and exits. On that exit it kills the children it
forked that still run (they also die by ``PR_SET_PDEATHSIG`` once it is gone) and removes
the parent's work folders. A failure to warm up must not stop the server: the child then
imports what it needs itself and reports any error as that file's ``worker-error``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
from pathlib import Path

from dfm import isolation

_SERVER = os.getpid()
_PARENT = os.getppid()


def _children() -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == _SERVER:
                out.append(int(stat.parent.name))
    return out


def _on_exit() -> None:
    if os.getpid() != _SERVER:  # a forked child inherits this hook; it leaves by os._exit anyway
        return
    for pid in _children():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    # The server only exits when its parent is gone (normally the parent removed it already).
    shutil.rmtree(isolation.root_of(_PARENT), ignore_errors=True)


atexit.register(_on_exit)

try:
    isolation.preload()
except Exception:  # noqa: BLE001, S110 - reported per file by the child instead
    pass
