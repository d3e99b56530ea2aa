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
import sys
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


#: The head of every GUI test macro. The macro's steps fill ``R``; ``finish`` writes it to FC_OUT and ends
#: FreeCAD; ``later`` runs a step from Qt's event loop (a step that raises ends the run with its traceback in
#: ``R["error"]``); ``run_command`` runs a DFM command and, once its task panel is done, the next step.
GUI_PRELUDE = r'''
import json, os, sys, traceback
import FreeCAD, FreeCADGui, Part
from PySide2 import QtCore, QtGui, QtWidgets

OUT = os.environ["FC_OUT"]
ART = os.environ["FC_ARTIFACTS"]
R = {"steps": []}

def finish(code):
    try:
        R["exit"] = code
        with open(OUT, "w") as fh:
            json.dump(R, fh, indent=1, default=str)
    finally:
        for d in list(FreeCAD.listDocuments()):
            FreeCAD.closeDocument(d)
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)

def guard(fn):
    def run():
        try:
            R["steps"].append(fn.__name__)
            fn()
        except BaseException:
            R["error"] = traceback.format_exc()
            traceback.print_exc()
            finish(1)
    return run

def later(fn, ms=0):
    QtCore.QTimer.singleShot(ms, guard(fn))

def wait_for_panel(then):
    from dfm_workbench import gui
    def poll():
        if gui.LAST_PANEL is not None and getattr(gui.LAST_PANEL, "finished", True):
            later(then)
        else:
            QtCore.QTimer.singleShot(100, poll)
    QtCore.QTimer.singleShot(100, poll)

def run_command(name, then):
    FreeCADGui.runCommand(name)
    wait_for_panel(then)

def set_dfm_python(executable):
    FreeCAD.ParamGet("User parameter:BaseApp/Preferences/Mod/DFM").SetString("PythonExecutable", executable)

def widen_combo_view(width):
    mw = FreeCADGui.getMainWindow()
    combo = [d for d in mw.findChildren(QtWidgets.QDockWidget) if d.objectName() in ("Combo View", "ComboView")]
    if combo:
        mw.resizeDocks(combo, [width], QtCore.Qt.Horizontal)

def grab_window(png):
    """Save a screenshot of the main window as ART/png; True when it was written."""
    return QtGui.QGuiApplication.primaryScreen().grabWindow(FreeCADGui.getMainWindow().winId()).save(
        os.path.join(ART, png))
'''


def run_gui_macro(tmp_path: Path, macro: str, artifacts: Path, name: str = "gui",
                  extra_env: dict[str, str] | None = None) -> dict:
    """Run ``GUI_PRELUDE + macro`` in the FreeCAD GUI and return the macro's ``R``.

    ``artifacts`` is emptied first; FreeCAD's log and the result JSON are kept there beside the
    macro's screenshots. A run that hangs, fails or records an error fails the test with the log.
    The macro gets FC_ARTIFACTS and TEST_PYTHON (this interpreter, for dfm in its own process).
    """
    if artifacts.exists():
        shutil.rmtree(artifacts)
    artifacts.mkdir(parents=True)
    env = {"FC_ARTIFACTS": str(artifacts), "TEST_PYTHON": sys.executable, **(extra_env or {})}
    proc, out = run_gui(tmp_path, GUI_PRELUDE + macro, name=name, extra_env=env)
    log = (proc.stdout or "")[-4000:] + (proc.stderr or "")[-4000:]
    (artifacts / "freecad.log").write_text(log, encoding="utf-8")
    if not out.is_file():
        pytest.fail(f"the GUI wrote no result (rc {proc.returncode}; 124 = hung, killed by timeout):\n{log}")
    r = json.loads(out.read_text(encoding="utf-8"))
    shutil.copy(out, artifacts / "result.json")
    if proc.returncode != 0 or "error" in r:
        pytest.fail(r.get("error", log))
    return r
