"""Capture what OpenCASCADE prints on the C-level stdout/stderr.

OCCT's STEP parser writes its errors (``**** ERR StepFile : ... Line 379 ...``) straight to
file descriptor 1. We redirect the descriptors while the kernel runs so that the CLI's own
output stays clean, and keep the text to explain a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Captured:
    """Holds the text printed while a :func:`captured_output` block ran."""

    def __init__(self) -> None:
        self.text = ""

    def error_lines(self) -> list[str]:
        """Lines that OCCT marked as errors, cleaned of colour codes and stars."""
        out = []
        for raw in _ANSI.sub("", self.text).splitlines():
            line = raw.strip().strip("*").strip()
            if "ERR" in line or "Fail" in line or "Error" in line:
                out.append(" ".join(line.split()))
        return out


@contextlib.contextmanager
def captured_output() -> Iterator[Captured]:
    """Redirect fds 1 and 2 to a temporary file for the duration of the block."""
    cap = Captured()
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield cap
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            cap.text = tmp.read().decode("utf-8", "replace")
