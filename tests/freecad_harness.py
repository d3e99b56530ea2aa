"""Running the real FreeCAD from the tests (shared by tests/test_freecad*.py).

Every run gets its own HOME (FreeCAD's config, its Mod folder with the workbench linked in),
so tests never touch the user's FreeCAD and never share state. See ../shared/TOOLS.md §2 for
why scripts run through ``freecadcmd -c "exec(...)"`` (a script file given as an argument
exits 0 even when it raises, and runs twice) and why the GUI runs under ``timeout``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "freecad"
FREECADCMD = shutil.which("freecadcmd")
FREECAD = shutil.which("freecad")
XVFB_RUN = shutil.which("xvfb-run")
WORKBENCH_CLASS = "DfmWorkbench"

needs_freecadcmd = pytest.mark.skipif(FREECADCMD is None, reason="freecadcmd not installed (apt-get install freecad)")
needs_gui = pytest.mark.skipif(
    FREECAD is None or XVFB_RUN is None or shutil.which("xauth") is None,
    reason="freecad, xvfb-run or xauth not installed (apt-get install freecad xvfb xauth)",
)


def dfm_pythonpath() -> str:
    """What a user puts in DFM_PYTHONPATH: this checkout first, then its environment's site-packages."""
    paths = [str(ROOT)]
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths()[key]
        if p not in paths:
            paths.append(p)
    return os.pathsep.join(paths)


def fc_home(tmp_path: Path, autoload: bool = False) -> Path:
    """A fresh HOME with the workbench linked into FreeCAD's user Mod folder."""
    home = tmp_path / "home"
    mod = home / ".local" / "share" / "FreeCAD" / "Mod"
    mod.mkdir(parents=True, exist_ok=True)
    link = mod / "DFM"
    if not link.exists():
        link.symlink_to(PLUGIN, target_is_directory=True)
    if autoload:
        # keeps the Start page (QtWebEngine, which aborts as root) from loading
        run_freecadcmd(tmp_path, f"""
            general = FreeCAD.ParamGet('User parameter:BaseApp/Preferences/General')
            general.SetString('AutoloadModule', '{WORKBENCH_CLASS}')
            FreeCAD.saveParameter()
            OUT['ok'] = True
        """, name="autoload")
    return home


def _env(tmp_path: Path, out: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update({
        "HOME": str(tmp_path / "home"),
        "DFM_PYTHONPATH": dfm_pythonpath(),
        "FC_OUT": str(out),
        "DFM_FREECAD_NO_OPEN": "1",
    })
    env.update(extra or {})
    return env


PRELUDE = """\
import json, os, sys
import FreeCAD, Part
OUT = {}
"""
EPILOGUE = """
finally:
    with open(os.environ["FC_OUT"], "w") as _fh:
        json.dump(OUT, _fh, indent=1, default=str)
"""


def run_freecadcmd(tmp_path: Path, body: str, name: str = "script", extra_env: dict[str, str] | None = None,
                   timeout: float = 300) -> dict:
    """Run ``body`` inside ``freecadcmd``; it fills the dict ``OUT``, which is returned.

    A failing script fails the test with FreeCAD's stdout/stderr.
    """
    if not (tmp_path / "home").exists():
        fc_home(tmp_path)
    script = tmp_path / f"{name}.py"
    out = tmp_path / f"{name}.json"
    script.write_text(PRELUDE + "try:\n" + textwrap.indent(textwrap.dedent(body), "    ") + EPILOGUE,
                      encoding="utf-8")
    proc = subprocess.run(
        [FREECADCMD or "freecadcmd", "-c", f"exec(open({str(script)!r}).read())"],
        env=_env(tmp_path, out, extra_env), cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0 or not out.is_file():  # an exception: rc 1 (OUT is still written)
        pytest.fail(f"freecadcmd {name} failed (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def run_gui(tmp_path: Path, macro: str, name: str = "gui", extra_env: dict[str, str] | None = None,
            timeout: float = 240) -> tuple[subprocess.CompletedProcess, Path]:
    """Run a macro in the FreeCAD GUI under Xvfb (the workbench auto-loads); returns the process and FC_OUT."""
    if not (tmp_path / "home").exists():
        fc_home(tmp_path, autoload=True)
    path = tmp_path / f"{name}.FCMacro"
    path.write_text(textwrap.dedent(macro), encoding="utf-8")
    out = tmp_path / f"{name}.json"
    proc = subprocess.run(
        ["timeout", "-k", "10", str(int(timeout)), XVFB_RUN or "xvfb-run", "-a", "-s", "-screen 0 1280x800x24",
         FREECAD or "freecad", str(path)],
        env=_env(tmp_path, out, extra_env), cwd=tmp_path, capture_output=True, text=True, timeout=timeout + 30,
    )
    return proc, out
