"""The DFM task panel's Access and Pre-finish sizes tabs, in the real FreeCAD GUI under Xvfb (one launch).

Two CadQuery parts, exported to STEP by the test and read into FreeCAD documents: a T-slot block
(its head is an undercut: the panel lists the setup and the undercut, the head's faces turn
violet) and a lens barrel anodized through the Part settings panel (the panel lists every
pre-finish size, grouped by kind and finished size as in the HTML report). The expected faces
come from FreeCAD's own geometry (the head's box, the bore's radius), never from face numbers.
Screenshots and the macro's JSON go to ``test-artifacts/freecad-panel/``.
"""

from __future__ import annotations

import pytest
from freecad_harness import ROOT, needs_freecadcmd, needs_gui, run_gui_macro

pytestmark = [pytest.mark.freecad, needs_freecadcmd, needs_gui]

ARTIFACTS = ROOT / "test-artifacts" / "freecad-panel"

MACRO = r'''
def load(doc_name, env):
    doc = FreeCAD.newDocument(doc_name)
    obj = doc.addObject("Part::Feature", doc_name)
    shape = Part.Shape()
    shape.read(os.environ[env])
    obj.Shape = shape.Solids[0]
    doc.recompute()
    FreeCADGui.ActiveDocument.ActiveView.viewIsometric()
    FreeCADGui.SendMsgToActiveView("ViewFit")
    return doc, obj

def inside(f, lo, hi):
    b = f.BoundBox
    return all(l - 1e-6 <= a and c <= h + 1e-6 for a, c, l, h in
               ((b.XMin, b.XMax, lo[0], hi[0]), (b.YMin, b.YMax, lo[1], hi[1]), (b.ZMin, b.ZMax, lo[2], hi[2])))

def panel_state(p, obj):
    return {"status": p.status.text(), "tabs": [p.tabs.tabText(i) for i in range(p.tabs.count())],
            "access_label": p.access_label.text(), "setups": p.tree_rows(p.setup_tree),
            "undercuts": p.tree_rows(p.undercut_tree), "sizes_label": p.sizes_label.text(),
            "sizes": p.tree_rows(p.size_tree), "findings": p.rows(),
            "colors": [list(c) for c in obj.ViewObject.DiffuseColor]}

def checked(key, name):
    """The panel after a check of the object ``name``; its state goes to R[key]."""
    from dfm_workbench import gui
    p = gui.LAST_PANEL
    R[key] = panel_state(p, FreeCAD.ActiveDocument.getObject(name))
    return p

def selection():
    return [[s.ObjectName, sorted(s.SubElementNames)] for s in FreeCADGui.Selection.getSelectionEx()]

def start():
    # dfm in its own process, as a user's DFM_PYTHON would have it
    set_dfm_python(os.environ["TEST_PYTHON"])
    widen_combo_view(640)
    doc, obj = load("TSlot", "TSLOT")
    # generators.t_slot_block: the head is 3 mm wide, z 3..4, under the 1 mm neck, along x
    R["head"] = sorted(i + 1 for i, f in enumerate(obj.Shape.Faces) if inside(f, (-6, -1.5, 3), (6, 1.5, 4)))
    R["n_tslot"] = len(obj.Shape.Faces)
    FreeCADGui.Selection.clearSelection()
    run_command("DFM_Check", tslot_checked)

def tslot_checked():
    p = checked("tslot", "TSlot")
    FreeCADGui.ActiveDocument.ActiveView.saveImage(os.path.join(ART, "tslot_colours.png"), 800, 600, "White")
    p.tabs.setCurrentIndex(R["tslot"]["tabs"].index("Access"))
    p.undercut_tree.setCurrentItem(p.undercut_tree.topLevelItem(0))
    R["tslot_selection"] = selection()
    later(shoot_tslot, 600)

def shoot_tslot():
    R["tslot_png"] = grab_window("panel_access.png")
    FreeCADGui.Selection.clearSelection()
    doc, obj = load("Barrel", "BARREL")
    R["radius2"] = sorted(i + 1 for i, f in enumerate(obj.Shape.Faces)
                          if f.Surface.__class__.__name__ == "Cylinder" and abs(f.Surface.Radius - 2.0) < 1e-6)
    FreeCADGui.runCommand("DFM_Settings")  # the finish, as a user sets it
    from dfm_workbench import gui
    gui.LAST_PANEL.finish.setEditText("anodize-ii")
    gui.LAST_PANEL.accept()
    run_command("DFM_Check", barrel_checked)

def barrel_checked():
    p = checked("barrel", "Barrel")
    p.tabs.setCurrentIndex(R["barrel"]["tabs"].index("Pre-finish sizes"))
    bores = [i for i in range(p.size_tree.topLevelItemCount()) if p.size_tree.topLevelItem(i).text(1) == "bore"]
    p.size_tree.setCurrentItem(p.size_tree.topLevelItem(bores[0]))
    R["barrel_selection"] = [p.size_tree.topLevelItem(bores[0]).text(0), selection()]
    later(shoot_barrel, 600)

def shoot_barrel():
    R["barrel_png"] = grab_window("panel_sizes.png")
    finish(0)

later(start, 0)
'''


def test_panel_shows_setups_undercuts_and_pre_finish_sizes(tmp_path, make_part):
    r = run_gui_macro(tmp_path, MACRO, ARTIFACTS, name="panel", extra_env={
        "TSLOT": str(make_part("fc-tslot", "t_slot_block")), "BARREL": str(make_part("lens_barrel", "lens_barrel"))})

    # T-slot: the Access tab lists the one setup (+Z, for the slot) and the undercut: the head's faces
    t = r["tslot"]
    assert t["tabs"][:3] == ["Findings", "Access", "Pre-finish sizes"]
    head = r["head"]
    assert len(head) == 5
    names = " ".join(f"Face{n}" for n in head)
    ((setup),) = t["setups"]
    number, direction, features, _faces, _codes = setup["cells"]
    assert (number, direction) == ("1", "+Z") and features.startswith("slot-")
    ((undercut),) = t["undercuts"]
    assert undercut["cells"] == ["undercut-1 (t-slot)", names, "DFM650"]
    assert "setups +Z; 5 undercut faces" in t["status"] and t["access_label"] == "setups +Z; 5 undercut faces"
    assert any(row[1] == "DFM650" and row[3] == names for row in t["findings"])
    # the head is violet on the model (its DFM650 is a warning: the undercut colour wins), nothing else is
    violet = [0.557, 0.267, 0.678]
    colours = t["colors"]
    assert len(colours) == r["n_tslot"]
    for n, c in enumerate(colours, start=1):
        assert (c[:3] == pytest.approx(violet, abs=1e-6)) == (n in head), (n, c)
    # selecting the undercut selects its faces
    assert r["tslot_selection"] == [["TSlot", sorted(f"Face{n}" for n in head)]]
    assert "No pre-machining sizes: no finish was given" in t["sizes_label"] and t["sizes"] == []

    # lens barrel, anodized: every pre-finish size, grouped by (kind, finished size), smallest first
    b = r["barrel"]
    assert b["sizes"], b["sizes_label"]
    sizes = [float(row["cells"][0].split()[0].lstrip("Ø")) for row in b["sizes"]]
    assert sizes == sorted(sizes)
    assert len({(row["cells"][1], row["cells"][0]) for row in b["sizes"]}) == len(b["sizes"])
    assert {row["cells"][1] for row in b["sizes"]} <= {"bore", "shaft", "width", "thickness", "thread"}
    bore4 = [row for row in b["sizes"] if row["cells"][:2] == ["Ø4 mm", "bore"]]
    assert len(bore4) == 1
    size, kind, surfaces, faces, machine_to, finished, growth, source = bore4[0]["cells"]
    assert faces == " ".join(f"Face{n}" for n in r["radius2"])
    lo, hi = (float(x) for x in machine_to.removesuffix(" mm").split(" … "))
    assert 4.0 < (lo + hi) / 2  # a bore is machined oversize: the film closes it
    assert finished.startswith("4 ±") and growth.endswith("µm") and source.startswith("ISO 2768-m")
    assert surfaces == "1"
    assert "machine each size into its band" in b["sizes_label"]
    assert r["barrel_selection"] == ["Ø4 mm", [["Barrel", [f"Face{n}" for n in r["radius2"]]]]]
    assert r["tslot_png"] is True and r["barrel_png"] is True
    assert (ARTIFACTS / "panel_sizes.png").stat().st_size > 10_000
