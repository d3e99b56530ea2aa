"""Run a program through LinuxCNC's standalone interpreter ``rs274`` (tests, checks).

Standalone rs274 reads tool-table lengths in inches whatever the program says
(../shared/TOOLS.md §3.2), so the table handed to it is the program's table converted to
inches; the paths are tool-centre paths, so nothing depends on the diameters anyway.
Each run gets its own HOME because rs274 always rewrites ``$HOME/.tool.mmap``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dfm.cam.model import Program


@dataclass(frozen=True)
class Rs274Run:
    """Exit code, canonical calls (stdout) and messages (stderr)."""

    returncode: int
    canon: str
    errors: str

    @property
    def ok(self) -> bool:
        """True when rs274 accepted the whole program."""
        return self.returncode == 0 and self.errors.strip() in ("", "executing")


def available() -> str | None:
    """Path of ``rs274``, or None."""
    return shutil.which("rs274")


def inch_table(program: Program) -> str:
    """The tool table with D in inches, for the standalone interpreter."""
    return "".join(f"T{t.number} P{t.number} D{t.cutter.diameter_mm / 25.4:.7f} Z+0.000 ;{t.cutter.id}\n"
                   for t in program.tools)


def run(ngc_text: str, program: Program, timeout: float = 120.0) -> Rs274Run:
    """Interpret ``ngc_text`` with ``rs274 -g`` in a private HOME; returns what it printed."""
    exe = available()
    if exe is None:
        raise FileNotFoundError("rs274 is not installed (Debian package linuxcnc-uspace)")
    with tempfile.TemporaryDirectory(prefix="dfm-rs274-") as tmp:
        d = Path(tmp)
        (d / "prog.ngc").write_text(ngc_text, encoding="utf-8")
        (d / "tools.tbl").write_text(inch_table(program), encoding="utf-8")
        env = dict(os.environ, HOME=str(d))
        proc = subprocess.run([exe, "-t", str(d / "tools.tbl"), "-g", str(d / "prog.ngc")], cwd=d, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        return Rs274Run(proc.returncode, proc.stdout, proc.stderr)
