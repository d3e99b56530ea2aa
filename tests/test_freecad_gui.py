"""GUI smoke test of the DFM workbench: the real FreeCAD under Xvfb, one launch.

The macro activates the workbench, stores part settings through the Part settings panel,
runs Check part on a thin-web plate, reads the face colours and the task panel rows,
selects a finding, takes screenshots, runs Open report and Recommend tools, and checks a part dfm cannot read.
It writes everything to a JSON file; this test asserts on it. Screenshots and the JSON go to
``test-artifacts/freecad/`` (CI keeps them; look at them).

The 0.2 mm web must come out as dfm's own thin-wall finding (DFM101) on the web's two faces.
One stage is added to dfm's pipeline by the test (never by the workbench): it repeats the
thinnest wall as an error and marks the top face with a warning, so that the panel and the
orange colour are exercised whatever else the shipped rules report on this part.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from freecad_harness import ROOT, needs_freecadcmd, needs_gui, run_gui_macro

pytestmark = [pytest.mark.freecad, needs_freecadcmd, needs_gui]

ARTIFACTS = ROOT / "test-artifacts" / "freecad"

STAGE = '''
from dfm.model import Finding, Severity

TOP_FACE = None  # set by the macro

def judge(ctx):
    m = ctx.measurements.get("min_wall_thickness_mm")
    if m is not None:
        ctx.findings.append(Finding("DFM990", "gui-test-thin", Severity.ERROR,
                                    f"gui test: thinnest wall {m.value:.3f} mm", faces=tuple(m.faces)))
    ctx.findings.append(Finding("DFM991", "gui-test-top", Severity.WARNING, "gui test: top face",
                                faces=(TOP_FACE,)))
'''

MACRO = r'''
def start():
    mw = FreeCADGui.getMainWindow()
    R["workbench"] = FreeCADGui.activeWorkbench().name()
    bars = [b for b in mw.findChildren(QtWidgets.QToolBar) if b.windowTitle() == "DFM"]
    R["toolbar"] = [a.text() for b in bars for a in b.actions()]
    R["menus"] = [a.text() for a in mw.menuBar().actions()]
    sys.path.insert(0, os.environ["STAGE_DIR"])
    # the test stage lives in this process: dfm runs inside FreeCAD until the isolated part below
    set_dfm_python("in-process")
    import dfm.stages
    dfm.stages.STAGES = tuple(dfm.stages.STAGES) + ("dfm_gui_test_stage:judge",)
    doc = FreeCAD.newDocument("WebPlate")
    V = FreeCAD.Vector
    obj = doc.addObject("Part::Feature", "Web")
    pockets = [Part.makeBox(4.9, 4, 2, V(1, 1, 1)), Part.makeBox(4.9, 4, 2, V(6.1, 1, 1))]
    obj.Shape = Part.makeBox(12, 6, 3).cut(pockets[0]).cut(pockets[1])
    doc.recompute()
    top = [i + 1 for i, f in enumerate(obj.Shape.Faces)
           if abs(f.CenterOfMass.z - 3) < 1e-9 and f.BoundBox.ZLength < 1e-9]
    R["top_face"] = top
    import dfm_gui_test_stage
    dfm_gui_test_stage.TOP_FACE = top[0]
    R["web_faces"] = sorted(i + 1 for i, f in enumerate(obj.Shape.Faces)
                            if f.BoundBox.XLength < 1e-9 and abs(f.CenterOfMass.x - 5.9) < 1e-9 or
                            f.BoundBox.XLength < 1e-9 and abs(f.CenterOfMass.x - 6.1) < 1e-9)
    R["n_faces"] = len(obj.Shape.Faces)
    v = FreeCADGui.ActiveDocument.ActiveView
    v.viewIsometric()
    FreeCADGui.SendMsgToActiveView("ViewFit")
    # Part settings through the panel, as a user would
    FreeCADGui.runCommand("DFM_Settings")
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    p.material.setEditText("6061-T6")
    p.general.setEditText("m")
    p.accept()
    s = doc.getObject("DFMSettings")
    R["settings"] = [s.Material, s.Finish, s.GeneralTolerance] if s else None
    R["dialog_open_after_settings"] = FreeCADGui.Control.activeDialog()
    FreeCADGui.Selection.clearSelection()
    run_command("DFM_Check", checked)

def checked():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    obj = FreeCAD.ActiveDocument.getObject("Web")
    R["status"] = p.status.text()
    R["rows"] = p.rows()
    R["colors"] = [list(c) for c in obj.ViewObject.DiffuseColor]
    R["responsive"] = {"ticks": p.ticks, "max_gap_s": p.max_gap, "elapsed_s": p.elapsed}
    R["dialog_open"] = FreeCADGui.Control.activeDialog()
    widen_combo_view(520)
    FreeCADGui.ActiveDocument.ActiveView.saveImage(os.path.join(ART, "check_colours.png"), 800, 600, "White")
    for i in range(p.tree.topLevelItemCount()):
        if p.tree.topLevelItem(i).text(1) == "DFM990":
            p.tree.setCurrentItem(p.tree.topLevelItem(i))
            break
    R["selection"] = [[s.ObjectName, list(s.SubElementNames)] for s in FreeCADGui.Selection.getSelectionEx()]
    later(shoot, 600)

def shoot():
    R["window_png"] = grab_window("check_window.png")
    FreeCADGui.Selection.clearSelection()
    run_command("DFM_Report", reported)

def reported():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    R["report"] = {"then": p.then, "files": [str(f) for f in p.files],
                   "exist": [os.path.isfile(f) for f in p.files], "status": p.status.text()}
    run_command("DFM_Tools", tooled)

def tooled():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    R["tools"] = {"then": p.then, "rows": p.tools, "text": p.tool_table.toPlainText(),
                  "visible": p.tool_table.isVisible(), "status": p.status.text()}
    R["tools_png"] = grab_window("tools_window.png")
    doc = FreeCAD.getDocument("WebPlate")
    doc.saveAs(os.path.join(os.environ["FC_DOCS"], "WebPlate.FCStd"))
    FreeCAD.setActiveDocument("WebPlate")
    run_command("DFM_Program", programmed)

def programmed():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    R["program"] = {"then": p.then, "files": [str(f) for f in p.files], "status": p.status.text(),
                    "button": p.open_button.isVisible() and p.open_button.text()}
    FreeCADGui.runCommand("DFM_Settings")  # the document is saved now: the spec goes beside it
    gui.LAST_PANEL.accept()
    doc = FreeCAD.newDocument("Broken")
    box = Part.makeBox(2, 2, 2)
    bad = doc.addObject("Part::Feature", "Open")
    bad.Shape = Part.Solid(Part.makeShell(box.Faces[:-1]))
    doc.recompute()
    run_command("DFM_Check", broken)

def broken():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    R["broken"] = {"status": p.status.text(), "rows": p.rows(),
                   "modal": QtWidgets.QApplication.activeModalWidget() is not None}
    # from here on dfm runs in its own process (the preference a user sets for DFM_PYTHON)
    set_dfm_python(os.environ["TEST_PYTHON"])
    # a PartDesign Body (its Tip carries the colours) and a plain box; first with one selected
    doc = FreeCAD.newDocument("Bodies")
    body = doc.addObject("PartDesign::Body", "Body")
    pad = body.newObject("PartDesign::AdditiveBox", "Block")
    pad.Length, pad.Width, pad.Height = 6, 4, 2
    other = doc.addObject("Part::Box", "Other")
    other.Placement.Base = FreeCAD.Vector(10, 0, 0)
    doc.recompute()
    FreeCADGui.Selection.clearSelection()
    FreeCADGui.Selection.addSelection(other)
    run_command("DFM_Check", selected_only)

def selected_only():
    from dfm_workbench import gui
    R["selected_only"] = [o.Name for o in gui.LAST_PANEL.objects]
    FreeCADGui.Selection.clearSelection()
    run_command("DFM_Check", all_visible)

def all_visible():
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    doc = FreeCAD.ActiveDocument
    R["all_visible"] = [o.Name for o in p.objects]
    R["body_colours"] = {n: len(doc.getObject(n).ViewObject.DiffuseColor) for n in ("Block", "Other")}
    R["body_status"] = p.status.text()
    R["body_rows"] = p.rows()
    # Close while dfm runs: the window is not blocked, the result is dropped, nothing is painted
    doc = FreeCAD.newDocument("Cancel")
    fresh = doc.addObject("Part::Box", "Fresh")
    doc.recompute()
    FreeCADGui.runCommand("DFM_Check")
    p = gui.LAST_PANEL
    R["cancel_running"] = p.worker is not None and p.worker.isRunning()
    p.reject()
    R["cancel_dialog_open"] = FreeCADGui.Control.activeDialog()
    wait_for_panel(cancelled)

def cancelled():
    from dfm_workbench import gui
    fresh = FreeCAD.ActiveDocument.getObject("Fresh")
    R["cancel"] = {"detached": len(gui._DETACHED), "colours": len(fresh.ViewObject.DiffuseColor),
                   "rows": gui.LAST_PANEL.outcomes}
    finish(0)

later(start, 0)
'''


def test_gui_check_part_colours_faces_and_lists_findings(tmp_path):
    stage_dir = tmp_path / "stage"
    stage_dir.mkdir()
    (stage_dir / "dfm_gui_test_stage.py").write_text(STAGE, encoding="utf-8")
    (tmp_path / "docs").mkdir()
    r = run_gui_macro(tmp_path, MACRO, ARTIFACTS,
                      extra_env={"STAGE_DIR": str(stage_dir), "FC_DOCS": str(tmp_path / "docs")})

    assert r["workbench"] == "DfmWorkbench"
    assert r["toolbar"] == ["Check part", "Part settings", "Recommend tools", "Generate program", "Open report"]
    assert "&DFM" in r["menus"]
    assert r["settings"] == ["6061-T6", "", "m"]
    assert r["dialog_open_after_settings"] is False

    # the task panel lists the findings, worst first, with FreeCAD's face names
    web = r["web_faces"]
    assert len(web) == 2
    rows = r["rows"]
    assert r["dialog_open"] is True
    thin = [row for row in rows if row[1] == "DFM990"]
    assert len(thin) == 1
    assert thin[0][0] == "error" and thin[0][2] == "gui test: thinnest wall 0.200 mm"
    assert sorted(thin[0][3].split()) == sorted(f"Face{n}" for n in web)
    assert ["warning", "DFM991", "gui test: top face", f"Face{r['top_face'][0]}"] in rows
    assert rows[0][0] == "error"  # worst first
    real = [row for row in rows if row[1] == "DFM101"]  # dfm's thin-wall rule, from the shipped rule files
    assert real and all(sorted(row[3].split()) == sorted(f"Face{n}" for n in web) for row in real), rows
    assert "0.2 mm" in real[0][2]

    # every face is coloured by the worst finding the panel lists on it
    rank = {"error": 0, "warning": 1}
    worst = {}
    for sev, _code, _msg, faces in rows:
        for name in faces.split():
            n = int(name.removeprefix("Face"))
            if sev in rank and rank[sev] < rank.get(worst.get(n, "ok"), 9):
                worst[n] = sev
    red, orange, green = [0.85, 0.1, 0.1], [1.0, 0.65, 0.0], [0.3, 0.75, 0.3]
    colours = r["colors"]
    assert len(colours) == r["n_faces"]
    for n, c in enumerate(colours, start=1):
        want = {"error": red, "warning": orange}.get(worst.get(n), green)
        assert c[:3] == pytest.approx(want, abs=1e-6), (n, c, worst.get(n))
    for n in web:
        assert colours[n - 1][:3] == pytest.approx(red, abs=1e-6)

    # selecting the finding selects its faces
    assert r["selection"] == [["Web", [f"Face{n}" for n in sorted(web)]]] or \
        sorted(r["selection"][0][1]) == sorted(f"Face{n}" for n in web)
    assert r["window_png"] is True
    assert (ARTIFACTS / "check_window.png").stat().st_size > 10_000
    assert (ARTIFACTS / "check_colours.png").stat().st_size > 5_000

    # Open report: the report, or one clear line saying it is not available
    rep = r["report"]
    if rep["files"]:
        assert all(rep["exist"]) and rep["files"][0].endswith(".html")
        html = Path(rep["files"][0]).read_text(encoding="utf-8")
        assert "6061-T6" in html and "DFM101" in html  # the Part settings reached the report
    else:
        assert "not available in this dfm installation" in rep["status"]

    # Recommend tools: the `dfm tools` table for the part
    tools = r["tools"]
    assert tools["then"] == "tools" and tools["visible"] is True
    assert tools["text"].splitlines()[0] == "Web"
    assert tools["rows"], tools["text"]
    for t in tools["rows"]:
        assert t["diameter_mm"] > 0 and t["body"] == 1
        assert t["id"] in tools["text"]

    # Generate program: G-code and tool table next to the saved document
    prog = r["program"]
    assert prog["then"] == "program", prog
    assert [Path(f).name for f in prog["files"]][-1] == "WebPlate.tbl", prog
    assert all(Path(f).parent == tmp_path / "docs" for f in prog["files"])
    ngc = [Path(f) for f in prog["files"] if f.endswith(".ngc")]
    assert ngc and ngc[0].name == "WebPlate.ngc"
    text = ngc[0].read_text()
    assert text.lstrip().startswith("%") and "M30" in text
    assert (tmp_path / "docs" / "WebPlate.tbl").read_text().startswith("T1 ")
    assert prog["button"] == "Open program"
    spec = (tmp_path / "docs" / "WebPlate.dfm.toml").read_text()  # Part settings on the saved document
    assert 'material = "6061-T6"' in spec and 'general_tolerance = "m"' in spec

    # a part dfm cannot read: one line, the CLI's message, no rows, no dialog
    broken = r["broken"]
    assert broken["rows"] == []
    assert "Open: not analysed — dfm: " in broken["status"]
    assert re.search(r"\[DFM90[78] (invalid-solid|open-shell)\]$", broken["status"]), broken["status"]
    assert broken["modal"] is False

    # the selection decides what is checked; without one, every visible solid (a Body through its Tip)
    assert r["selected_only"] == ["Other"]
    assert r["all_visible"] == ["Block", "Other"]
    assert r["body_colours"] == {"Block": 6, "Other": 6}
    assert "Block: " in r["body_status"] and "Other: " in r["body_status"]
    assert "not analysed" not in r["body_status"] and r["body_rows"]  # the isolated process analysed both

    # closing the panel while dfm runs drops the result and paints nothing
    assert r["cancel_running"] is True and r["cancel_dialog_open"] is False
    assert r["cancel"] == {"detached": 0, "colours": 1, "rows": []}
