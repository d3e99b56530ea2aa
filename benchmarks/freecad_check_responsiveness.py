"""How long Check part takes in the FreeCAD GUI, and how long the window stops responding.

Starts the real FreeCAD under Xvfb once (workbench linked into a throw-away HOME), loads each
STEP file given (default: example_parts/*.step) as a Part object, runs the DFM workbench's
Check part on it and reads, from the task panel: the wall time of the analysis, how often a
100 ms GUI timer fired meanwhile, and the longest gap between two firings (the longest time
the window could not repaint or take input). Prints one line per part.

    python benchmarks/freecad_check_responsiveness.py [--isolated] [PART.step ...]

``--isolated`` runs dfm in its own process (DFM_PYTHON = this Python, the workbench's default);
without it dfm runs in a thread inside FreeCAD (DFM_PYTHON=in-process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MACRO = r'''
import json, os, sys, time, traceback
import FreeCAD, FreeCADGui, Part
from PySide2 import QtCore
parts = json.loads(os.environ["BENCH_PARTS"])
rows = []
state = {"i": 0, "t_activate": None}

def done(code):
    with open(os.environ["BENCH_OUT"], "w") as fh:
        json.dump({"rows": rows, "activate_s": state["t_activate"]}, fh)
    for d in list(FreeCAD.listDocuments()):
        FreeCAD.closeDocument(d)
    os._exit(code)

def next_part():
    try:
        if state["i"] >= len(parts):
            done(0)
        path = parts[state["i"]]
        doc = FreeCAD.newDocument("B%d" % state["i"])
        obj = doc.addObject("Part::Feature", "Part")
        obj.Shape = Part.read(path)
        doc.recompute()
        FreeCADGui.runCommand("DFM_Check")
        QtCore.QTimer.singleShot(100, poll)
    except BaseException:
        traceback.print_exc(); done(1)

def poll():
    try:
        from dfm_workbench import gui
        p = gui.LAST_PANEL
        if not p.finished:
            QtCore.QTimer.singleShot(100, poll); return
        obj = FreeCAD.ActiveDocument.getObject("Part")
        rows.append({"part": os.path.basename(parts[state["i"]]), "faces": len(obj.Shape.Faces),
                     "findings": len(p.rows()), "elapsed_s": p.elapsed, "ticks": p.ticks, "max_gap_s": p.max_gap,
                     "status": p.status.text()})
        FreeCAD.closeDocument(FreeCAD.ActiveDocument.Name)
        state["i"] += 1
        QtCore.QTimer.singleShot(0, next_part)
    except BaseException:
        traceback.print_exc(); done(1)

def start():
    t = time.monotonic()
    FreeCADGui.activateWorkbench("DfmWorkbench")
    state["t_activate"] = time.monotonic() - t
    QtCore.QTimer.singleShot(0, next_part)

QtCore.QTimer.singleShot(0, start)
'''


def main(argv: list[str]) -> int:
    isolated = "--isolated" in argv
    argv = [a for a in argv if a != "--isolated"]
    parts = [str(Path(p).resolve()) for p in argv] or sorted(str(p) for p in (ROOT / "example_parts").glob("*.step"))
    if not (shutil.which("freecad") and shutil.which("xvfb-run")):
        print("needs freecad and xvfb-run")
        return 2
    work = Path(tempfile.mkdtemp(prefix="dfm-fc-bench-"))
    mod = work / "home" / ".local" / "share" / "FreeCAD" / "Mod"
    mod.mkdir(parents=True)
    (mod / "DFM").symlink_to(ROOT / "plugins" / "freecad", target_is_directory=True)
    macro = work / "bench.FCMacro"
    macro.write_text(textwrap.dedent(MACRO), encoding="utf-8")
    env = dict(os.environ, HOME=str(work / "home"), QTWEBENGINE_DISABLE_SANDBOX="1", DFM_FREECAD_NO_OPEN="1",
               BENCH_PARTS=json.dumps(parts), BENCH_OUT=str(work / "out.json"),
               DFM_PYTHONPATH=os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]))
    env.pop("PYTHONPATH", None)
    env.pop("DFM_PYTHON", None)
    env["DFM_PYTHON"] = sys.executable if isolated else "in-process"  # isolation is the default otherwise
    proc = subprocess.run(["timeout", "-k", "10", "900", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24",
                           "freecad", str(macro)], env=env, capture_output=True, text=True)
    if not (work / "out.json").is_file():
        print(f"FreeCAD failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
        return 1
    out = json.loads((work / "out.json").read_text())
    mode = "dfm in its own process (DFM_PYTHON)" if isolated else "dfm in a thread inside FreeCAD"
    print(f"mode: {mode}; workbench activation: {out['activate_s']:.2f} s")
    print(f"{'part':28} {'faces':>5} {'findings':>8} {'check s':>8} {'ticks':>5} {'max gap s':>9}")
    for r in out["rows"]:
        print(f"{r['part']:28} {r['faces']:5d} {r['findings']:8d} {r['elapsed_s']:8.2f} {r['ticks']:5d} "
              f"{r['max_gap_s']:9.2f}")
        if "not analysed" in r["status"]:
            print("    " + r["status"].replace("\n", "\n    "))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
