"""The FreeCAD workbench's bridge, headless in the real ``freecadcmd`` (FreeCAD 0.20).

Shapes are built with FreeCAD's own Part module, handed to dfm through the bridge, and the
results are checked in FreeCAD's terms (``FaceN``, DiffuseColor tuples, document properties).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from freecad_harness import ROOT, needs_freecadcmd, run_freecadcmd

pytestmark = [pytest.mark.freecad, needs_freecadcmd]

BRIDGE = """
from dfm_workbench import dfm_bridge as B
OUT["path_added"] = B.configure_path()
"""


def test_workbench_links_into_mod_dir_and_finds_dfm(tmp_path):
    out = run_freecadcmd(tmp_path, BRIDGE + """
import dfm, cadquery
from dfm_workbench import dfm_bridge
OUT["bridge_file"] = dfm_bridge.__file__
OUT["status"] = B.dfm_status()
OUT["dfm_file"] = dfm.__file__
OUT["sys_path"] = sys.path
OUT["fc_version"] = FreeCAD.Version()[:3]
""")
    assert out["bridge_file"].startswith(str(tmp_path / "home" / ".local" / "share" / "FreeCAD" / "Mod" / "DFM"))
    ok, message = out["status"]
    assert ok, message
    assert out["dfm_file"] == str(ROOT / "dfm" / "__init__.py")
    path = out["sys_path"]
    assert path.index(str(ROOT)) < path.index("/usr/lib/python3/dist-packages")  # before Debian's old pyparsing
    assert out["path_added"][0] == str(ROOT)


def test_modules_loaded_before_the_workbench_are_named(tmp_path):
    """A package FreeCAD imported from Debian before dfm's environment came first is reported."""
    out = run_freecadcmd(tmp_path, """
import numpy  # Debian's, as another workbench would have loaded it
from dfm_workbench import dfm_bridge as B
B.configure_path()
OUT["numpy"] = numpy.__file__
OUT["shadowed"] = B.shadowed()
OUT["status"] = B.dfm_status()
""")
    if out["numpy"].startswith(str(ROOT)) or "/usr/" not in out["numpy"]:
        pytest.skip(f"FreeCAD's own numpy is not a separate copy here ({out['numpy']})")
    env_has_numpy = any((Path(p) / "numpy" / "__init__.py").is_file()
                        for p in sysconfig.get_paths().values())
    if not env_has_numpy:
        pytest.skip("this environment has no numpy of its own")
    assert any(m.startswith("numpy ") for m in out["shadowed"])
    ok, message = out["status"]
    assert ok and "had already loaded numpy " in message and "\n" not in message


def test_dfm_missing_is_one_clear_line(tmp_path):
    out = run_freecadcmd(tmp_path, """
from dfm_workbench import dfm_bridge as B
OUT["added"] = B.configure_path()
OUT["status"] = B.dfm_status()
""", extra_env={"DFM_PYTHONPATH": str(tmp_path / "nowhere")})
    ok, message = out["status"]
    assert not ok
    assert "\n" not in message and "DFM_PYTHONPATH" in message and "No module named 'dfm'" in message


FACE_CHECK = """
import cadquery as cq
from dfm import kernel
V = FreeCAD.Vector
def faces_agree(shape, label):
    job = B.prepare(shape, label, os.environ["FC_WORK"])
    loaded = kernel.load(job.path)
    assert len(loaded.solids) == len(job.face_map) == len(shape.Solids)
    seen = []
    for b, solid in enumerate(loaded.solids):
        assert solid.face_count == len(job.face_map[b])
        for j in range(1, solid.face_count + 1):
            ours = cq.Face(solid.face(j))
            n = job.face_map[b][j - 1]
            theirs = shape.Faces[n - 1]
            c = ours.Center()
            assert abs(ours.Area() - theirs.Area) < 1e-9 * max(1.0, theirs.Area), (label, b, j, n)
            assert (V(c.x, c.y, c.z) - theirs.CenterOfMass).Length < 1e-7, (label, b, j, n)
            seen.append(n)
    assert sorted(seen) == list(range(1, len(shape.Faces) + 1))
    return [list(m) for m in job.face_map]

plate = Part.makeBox(10, 8, 2).cut(Part.makeCylinder(1, 2, V(5, 4, 0))).cut(Part.makeBox(3, 2, 1, V(1, 1, 1)))
plate = plate.makeFillet(0.5, [e for e in plate.Edges if abs(e.Vertexes[0].Point.z - e.Vertexes[-1].Point.z) > 1.5][:4])
OUT["plate"] = faces_agree(plate, "Plate")
moved = plate.copy()
moved.Placement = FreeCAD.Placement(V(20, -3, 7), FreeCAD.Rotation(V(1, 1, 0), 30))
OUT["moved"] = faces_agree(moved, "Moved")
two = Part.makeCompound([Part.makeBox(1, 1, 1), plate.copy()])
two.translate(V(0, 0, 0))
OUT["two"] = faces_agree(two, "Two")
OUT["n_two"] = len(two.Faces)
"""


def test_face_ids_map_one_to_one_to_freecad_facen(tmp_path):
    """dfm's face j of body b is FreeCAD's FaceN: same area and centre, checked through dfm's own loader."""
    work = tmp_path / "work"
    out = run_freecadcmd(tmp_path, BRIDGE + FACE_CHECK, extra_env={"FC_WORK": str(work)})
    n_plate = len(out["plate"][0])
    assert out["plate"] == [list(range(1, n_plate + 1))]  # one solid: the identity
    assert out["moved"] == out["plate"]  # placement does not renumber
    # a compound: the second solid's faces follow the first solid's in FreeCAD's numbering
    assert out["two"] == [[1, 2, 3, 4, 5, 6], list(range(7, 7 + n_plate))]
    assert out["n_two"] == 6 + n_plate


def test_findings_map_to_facen_and_colour_by_worst(tmp_path):
    """Constructed findings on body 2 of a compound land on the right global faces and colours."""
    out = run_freecadcmd(tmp_path, BRIDGE + """
from dfm.model import BodyResult, DfmResult, Finding, Severity
V = FreeCAD.Vector
two = Part.makeCompound([Part.makeBox(1, 1, 1), Part.makeBox(2, 2, 2, V(5, 0, 0))])
job = B.prepare(two, "Two", os.environ["FC_WORK"])
def body(i, n, findings):
    return BodyResult(index=i, name=f"b{i}", bbox_mm=(1, 1, 1), bbox_min_mm=(0, 0, 0), volume_mm3=1.0,
                      faces=n, edges=12, findings=tuple(findings))
result = DfmResult(
    file=job.path, status="ok",
    findings=(Finding("DFM954", "several-bodies", Severity.INFO, "two bodies"),),
    bodies=(
        body(1, 6, [Finding("DFM201", "sharp-corner", Severity.WARNING, "w1", faces=(2,))]),
        body(2, 6, [Finding("DFM101", "thin-wall", Severity.ERROR, "e2", faces=(3,)),
                    Finding("DFM102", "tall-wall", Severity.WARNING, "w2", faces=(3, 4)),
                    Finding("DFM401", "note", Severity.INFO, "i2", faces=(5,))]),
    ),
)
oc = B.outcome(job, result)
OUT["map"] = [list(m) for m in job.face_map]
OUT["rows"] = [[r.severity, r.code, list(r.face_names), r.body] for r in oc.rows]
OUT["sev"] = list(oc.face_severity)
OUT["colors"] = oc.colors
OUT["verdict"] = oc.verdict
OUT["consts"] = [B.COLOR_ERROR, B.COLOR_WARNING, B.COLOR_OK]
bad = DfmResult(file=job.path, status="ok", bodies=(body(1, 6, []),))
try:
    B.outcome(job, bad)
    OUT["mismatch"] = None
except B.BridgeError as err:
    OUT["mismatch"] = str(err)
""", extra_env={"FC_WORK": str(tmp_path / "work")})
    assert out["map"] == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
    assert out["rows"] == [
        ["info", "DFM954", [], 0],
        ["warning", "DFM201", ["Face2"], 1],
        ["error", "DFM101", ["Face9"], 2],
        ["warning", "DFM102", ["Face9", "Face10"], 2],
        ["info", "DFM401", ["Face11"], 2],
    ]
    assert out["sev"] == ["ok", "warning", "ok", "ok", "ok", "ok", "ok", "ok", "error", "warning", "info", "ok"]
    red, orange, green = (list(c) for c in out["consts"])
    assert out["colors"] == [green, orange] + [green] * 6 + [red, orange, green, green]  # info stays green
    assert out["verdict"] == "fail"
    assert "1 bodies but the shape has 2 solids" in out["mismatch"]


THIN_WEB = """
V = FreeCAD.Vector
# 12 x 6 x 3 block, two 4.9 x 4 x 2 pockets from the top leaving a 0.2 mm web at x = 5.9 .. 6.1
web = Part.makeBox(12, 6, 3).cut(Part.makeBox(4.9, 4, 2, V(1, 1, 1))).cut(Part.makeBox(4.9, 4, 2, V(6.1, 1, 1)))
def planar_at_x(x):
    return sorted(i + 1 for i, f in enumerate(web.Faces)
                  if f.Surface.__class__.__name__ == "Plane" and abs(f.CenterOfMass.x - x) < 1e-9
                  and f.BoundBox.XLength < 1e-9)
OUT["web_faces"] = planar_at_x(5.9) + planar_at_x(6.1)
oc = B.check(web, "Web", {"material": "6061-T6"}, workdir=os.environ["FC_WORK"])
OUT["ok"] = oc.ok
OUT["error"] = oc.error
if not oc.ok:
    raise SystemExit(0)  # the test reports OUT["error"]
res = oc.result
m = res.bodies[0].measurements["min_wall_thickness_mm"]
fmap = B.face_map(web)[0]
OUT["min_wall"] = [m.value, [fmap[i - 1] for i in m.faces]]
OUT["walls"] = [[f.dims["thickness_mm"], [fmap[i - 1] for i in f.faces]] for f in res.bodies[0].features
                if f.kind == "wall"]
OUT["rows"] = [[r.severity, r.code, r.name, list(r.faces)] for r in oc.rows]
OUT["sev"] = list(oc.face_severity)
"""


def test_thin_web_is_measured_on_the_right_facen(tmp_path):
    out = run_freecadcmd(tmp_path, BRIDGE + THIN_WEB, extra_env={"FC_WORK": str(tmp_path / "work")})
    assert out["ok"], out["error"]
    web = out["web_faces"]
    assert len(web) == 2
    value, faces = out["min_wall"]
    assert value == pytest.approx(0.2, abs=1e-6)
    assert sorted(faces) == sorted(web)
    thinnest = min(out["walls"])
    assert thinnest[0] == pytest.approx(0.2, abs=1e-6) and sorted(thinnest[1]) == sorted(web)


def _has_rules_stage() -> bool:
    try:
        return hasattr(importlib.import_module("dfm.rules"), "judge")
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not _has_rules_stage(), reason="dfm.rules (the rules stage) is not in this checkout yet")
def test_thin_web_gives_thin_wall_finding_on_the_web_faces(tmp_path):
    out = run_freecadcmd(tmp_path, BRIDGE + THIN_WEB, extra_env={"FC_WORK": str(tmp_path / "work")})
    assert out["ok"], out["error"]
    web = sorted(out["web_faces"])
    thin = [r for r in out["rows"] if r[2] == "thin-wall"]
    assert thin, out["rows"]
    assert all(sorted(r[3]) == web for r in thin)
    worst = thin[0][0]
    assert worst in ("error", "warning")
    assert [out["sev"][n - 1] for n in web] == [worst, worst]


def test_unreadable_solid_gives_the_clis_one_line_message(tmp_path):
    """An open shell forced into a solid: the bridge reports exactly what `dfm check` prints."""
    out = run_freecadcmd(tmp_path, BRIDGE + """
box = Part.makeBox(2, 2, 2)
open_solid = Part.Solid(Part.makeShell(box.Faces[:-1]))
job = B.prepare(open_solid, "Open", os.environ["FC_WORK"])
oc = B.outcome(job, B.run(job))
OUT["ok"] = oc.ok
OUT["error"] = oc.error
OUT["path"] = job.path
OUT["colors"] = oc.colors
try:
    B.prepare(Part.makeShell(box.Faces[:-1]), "Shell", os.environ["FC_WORK"])
except B.BridgeError as err:
    OUT["shell"] = str(err)
""", extra_env={"FC_WORK": str(tmp_path / "work")})
    assert out["ok"] is False
    cli = subprocess.run([sys.executable, "-m", "dfm", "check", out["path"]], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert cli.returncode == 2
    assert out["error"] == cli.stderr.strip()
    assert out["error"].startswith("dfm: ") and "\n" not in out["error"]
    assert "[DFM906 no-solid]" in out["shell"]


def test_part_settings_travel_with_the_document_and_write_the_spec(tmp_path):
    fcstd = tmp_path / "Bracket.FCStd"
    out = run_freecadcmd(tmp_path, BRIDGE + f"""
from dfm_workbench import settings
doc = FreeCAD.newDocument("Bracket")
doc.addObject("Part::Feature", "Block").Shape = Part.makeBox(3, 3, 3)
settings.write(doc, {{"material": "Ti-6Al-4V", "finish": "anodize-iii", "general_tolerance": "f",
                      "machine": "kern-micro",
                      "spec_extra": "[[tolerance]]\\nselect = {{ faces = [1] }}\\nplus_um = 5\\nminus_um = 0"}})
doc.saveAs({str(fcstd)!r})
FreeCAD.closeDocument("Bracket")
doc = FreeCAD.openDocument({str(fcstd)!r})
values = settings.read(doc)
OUT["values"] = values
OUT["spec_path"] = str(settings.spec_path(doc))
B.write_spec(values, settings.spec_path(doc), source="Bracket.FCStd")
opts = B.options(values, settings.spec_path(doc))
OUT["options"] = [opts.spec, opts.material, opts.finish, dict(opts.extra)]
try:
    B.spec_toml({{"finish": "chrome"}})
except B.BridgeError as err:
    OUT["bad_finish"] = str(err)
try:
    B.spec_toml({{"spec_extra": "[[tolerance]"}})
except B.BridgeError as err:
    OUT["bad_toml"] = str(err)
""")
    values = out["values"]
    assert values["material"] == "Ti-6Al-4V" and values["finish"] == "anodize-iii"
    assert values["general_tolerance"] == "f" and values["machine"] == "kern-micro"
    spec = tmp_path / "Bracket.dfm.toml"
    assert out["spec_path"] == str(spec)
    data = tomllib.loads(spec.read_text())
    assert data["material"] == "Ti-6Al-4V"
    assert data["general_tolerance"] == "f"
    assert data["finish"] == {"kind": "anodize", "type": "III"}
    assert data["tolerance"] == [{"select": {"faces": [1]}, "plus_um": 5, "minus_um": 0}]
    assert out["options"] == [str(spec), "Ti-6Al-4V", "anodize-iii", {"machine": "kern-micro"}]
    assert "unknown finish 'chrome'" in out["bad_finish"]
    assert "valid TOML" in out["bad_toml"]
    try:
        spec_mod = importlib.import_module("dfm.rules.spec")
    except ModuleNotFoundError:
        return
    parsed = spec_mod.load_spec(spec)  # the CLI's own reader accepts it
    assert parsed.material == "Ti-6Al-4V" and parsed.finish.profile_name == "anodize-iii"
    assert parsed.general_tolerance == "f" and len(parsed.tolerances) == 1


def test_generate_program_writes_gcode_and_tool_table(tmp_path):
    pytest.importorskip("dfm.cam.gcode", reason="dfm.cam (G-code generation) is not in this checkout")
    out = run_freecadcmd(tmp_path, BRIDGE + """
V = FreeCAD.Vector
plate = Part.makeBox(12, 8, 3)
pocket = Part.makeBox(6, 4, 1.5, V(3, 2, 1.5))
pocket = pocket.makeFillet(0.5, [e for e in pocket.Edges if abs(e.Vertexes[0].Point.z - e.Vertexes[-1].Point.z) > 1])
plate = plate.cut(pocket).cut(Part.makeCylinder(0.5, 3, V(1.5, 1.5, 0)))
work = os.environ["FC_WORK"]
values = {"material": "6061-T6"}
job = B.prepare(plate, "Plate", work)
spec = B.write_spec(values, os.path.join(work, "Plate.dfm.toml"))
result, generated = B.run_program(job, B.options(values, spec), values)
OUT["status"] = result.status
OUT["files"] = [str(p) for p in B.write_program(generated, os.path.join(work, "out"), "Plate")]
""", extra_env={"FC_WORK": str(tmp_path / "work")})
    assert out["status"] == "ok"
    names = [p.rsplit("/", 1)[1] for p in out["files"]]
    assert names[0] == "Plate.ngc" and names[-1] == "Plate.tbl"
    ngc = (tmp_path / "work" / "out" / "Plate.ngc").read_text()
    assert ngc.startswith("%") and "M30" in ngc and "G21" in ngc
    table = (tmp_path / "work" / "out" / "Plate.tbl").read_text().splitlines()
    assert table and all(line.startswith(f"T{i} P{i} D") for i, line in enumerate(table, start=1))
    used = {int(w[1:]) for w in ngc.split() if w.startswith("T") and w[1:].isdigit()}
    assert used and used <= set(range(1, len(table) + 1))


def test_isolated_process_gives_the_same_result_without_loading_occt_into_freecad(tmp_path):
    """DFM_PYTHON: dfm runs in its own process; FreeCAD only unpickles the result (no OCP import)."""
    out = run_freecadcmd(tmp_path, BRIDGE + THIN_WEB.split("oc = B.check")[0] + """
job = B.prepare(web, "Web", os.environ["FC_WORK"])
opts = B.options({"material": "6061-T6"})
result, extra = B.run_isolated(job, opts)
OUT["ocp_in_freecad"] = any(m == "OCP" or m.startswith("OCP.") for m in sys.modules)
oc = B.outcome(job, result)
OUT["isolated"] = [[r.severity, r.code, list(r.faces)] for r in oc.rows]
OUT["extra"] = extra
OUT["colors"] = oc.colors
OUT["same"] = B.outcome(job, B.run(job, opts)).rows == oc.rows
try:
    B.run_isolated(job, opts, python=os.environ["FC_WORK"] + "/no-python")
except B.BridgeError as err:
    OUT["no_python"] = str(err)
""", extra_env={"FC_WORK": str(tmp_path / "work"), "DFM_PYTHON": sys.executable})
    assert out["ocp_in_freecad"] is False
    assert out["extra"] is None
    assert out["same"] is True
    web = sorted(out["web_faces"])
    assert any(code == "DFM101" and sorted(faces) == web for _sev, code, faces in out["isolated"])
    assert "the dfm process could not run" in out["no_python"]


def test_isolation_is_the_default_where_dfms_environment_has_a_python(tmp_path):
    """No DFM_PYTHON, no preference: dfm's environment's Python runs dfm; a hang is DFM914, not a frozen FreeCAD."""
    out = run_freecadcmd(tmp_path, BRIDGE + THIN_WEB.split("oc = B.check")[0] + """
os.environ.pop("DFM_PYTHON", None)
prefs = FreeCAD.ParamGet(B.PREF_GROUP)
OUT["auto"] = B.isolated_python()
prefs.SetString("PythonExecutable", B.IN_PROCESS)
OUT["off"] = B.isolated_python()
prefs.SetString("PythonExecutable", "")
job = B.prepare(web, "Web", os.environ["FC_WORK"])
result, extra = B.run_isolated(job, B.options({}), python=os.environ["TEST_PYTHON"], timeout=0.5)
oc = B.outcome(job, result)
OUT["stopped"] = [oc.ok, oc.error, extra]
OUT["ocp_in_freecad"] = any(m == "OCP" or m.startswith("OCP.") for m in sys.modules)
""", extra_env={"FC_WORK": str(tmp_path / "work"), "TEST_PYTHON": sys.executable})
    if sys.prefix != sys.base_prefix:  # the tests run from a virtual environment: that one is found
        assert Path(out["auto"]).resolve() == Path(sys.executable).resolve()
    assert out["off"] is None
    ok, error, extra = out["stopped"]
    assert ok is False and extra is None
    assert error.startswith("dfm: ") and error.endswith("[DFM914 analysis-timeout]") and "0.5 s" in error
    assert out["ocp_in_freecad"] is False


ACCESS = """
V = FreeCAD.Vector
def read(path):
    shape = Part.Shape()
    shape.read(path)
    return shape.Solids[0]
# a plain box first, so that the T-slot's faces come second in FreeCAD's numbering
tslot = read(os.environ["TSLOT"])
tslot.translate(V(20, 0, 0))
two = Part.makeCompound([Part.makeBox(2, 2, 2), tslot])
def inside(f, lo, hi):
    b = f.BoundBox
    return all(l - 1e-6 <= a and c <= h + 1e-6 for a, c, l, h in
               ((b.XMin, b.XMax, lo[0], hi[0]), (b.YMin, b.YMax, lo[1], hi[1]), (b.ZMin, b.ZMax, lo[2], hi[2])))
# the T-slot's head (generators.t_slot_block: 3 mm wide, z 3..4, under a 1 mm neck, along x): its faces
OUT["head"] = sorted(i + 1 for i, f in enumerate(two.Faces) if inside(f, (14, -1.5, 3), (26, 1.5, 4)))
OUT["neck"] = sorted(i + 1 for i, f in enumerate(two.Faces) if inside(f, (14, -0.5, 4), (26, 0.5, 5)) and
                     f.BoundBox.ZLength > 0.5)
oc = B.check(two, "Two", {}, workdir=os.environ["FC_WORK"] + "/two")
OUT["undercut"] = list(oc.undercut_faces)
OUT["colors"] = oc.colors
OUT["sev"] = list(oc.face_severity)
OUT["setups"] = [[s.body, s.direction, list(s.features), list(s.faces), s.faces_text] for s in oc.setups]
OUT["undercuts"] = [[u.body, u.label, list(u.faces), [l.code for l in u.findings]] for u in oc.undercuts]
OUT["dfm650"] = [list(r.faces) for r in oc.rows if r.code == "DFM650"]
OUT["summary"] = oc.access_summary
OUT["consts"] = [B.COLOR_ERROR, B.COLOR_UNDERCUT]

barrel = read(os.environ["BARREL"])
oc = B.check(barrel, "Barrel", {"finish": "anodize-ii"}, workdir=os.environ["FC_WORK"] + "/barrel")
def cylinders(radius):
    return sorted(i + 1 for i, f in enumerate(barrel.Faces)
                  if f.Surface.__class__.__name__ == "Cylinder" and abs(f.Surface.Radius - radius) < 1e-6)
OUT["radius2"], OUT["radius3"] = cylinders(2.0), cylinders(3.0)
OUT["sizes"] = [[g.kind, g.size, g.finished_mm, g.surfaces, list(g.faces), g.faces_text,
                 [[list(r.faces), r.premachine, r.source] for r in g.rows]] for g in oc.sizes]
OUT["sizes_note"] = oc.sizes_note
oc = B.check(barrel, "Barrel", {}, workdir=os.environ["FC_WORK"] + "/plain")
OUT["plain"] = [len(oc.sizes), oc.sizes_note]
"""


def test_setups_undercuts_and_pre_finish_sizes_map_to_facen(tmp_path, make_part):
    """A compound (box + CadQuery T-slot block) and an anodized lens barrel: the panel's data on FreeCAD's FaceN."""
    out = run_freecadcmd(tmp_path, BRIDGE + ACCESS, extra_env={
        "FC_WORK": str(tmp_path / "work"), "TSLOT": str(make_part("fc-tslot", "t_slot_block")),
        "BARREL": str(make_part("lens_barrel", "lens_barrel"))})
    head, neck = out["head"], out["neck"]
    assert len(head) == 5 and len(neck) == 2 and min(head) > 6  # after the box's six faces
    # the undercut is the head, on the second solid's FaceN, coloured violet unless an error lies there
    assert out["undercut"] == head
    assert not set(neck) & set(out["undercut"])
    red, violet = (list(c) for c in out["consts"])
    for n, (colour, sev) in enumerate(zip(out["colors"], out["sev"], strict=True), start=1):
        if n in head:
            assert colour == (red if sev == "error" else violet), n
        else:
            assert colour != violet, n
    assert [u[:3] for u in out["undercuts"]] == [[2, "undercut-1 (t-slot)", head]]
    assert out["undercuts"][0][3] == ["DFM650"] and out["dfm650"] == [head]
    # the box needs no setup; the T-slot one, from +Z, for its slot (the neck), on FreeCAD faces
    ((body, direction, features, faces, faces_text),) = out["setups"]
    assert body == 2 and direction == "+Z" and features and all(f.startswith("slot-") for f in features)
    assert set(neck) <= set(faces) and faces_text == " ".join(f"Face{n}" for n in faces)
    assert out["summary"] == "body 1: setups none; 0 undercut faces; body 2: setups +Z; 5 undercut faces"

    # the barrel's pre-finish sizes: grouped by (kind, finished size), smallest first, on FreeCAD faces
    sizes = out["sizes"]
    assert sizes and [s[2] for s in sizes] == sorted(s[2] for s in sizes)
    bore = [s for s in sizes if s[0] == "bore" and s[2] == pytest.approx(4.0)]
    shaft = [s for s in sizes if s[0] == "shaft" and s[2] == pytest.approx(6.0)]
    assert len(bore) == 1 and bore[0][1] == "Ø4 mm" and bore[0][4] == out["radius2"]
    assert len(shaft) == 1 and shaft[0][4] == out["radius3"]
    for _kind, _size, _fin, _n, faces, text, rows in sizes:
        assert text == " ".join(f"Face{n}" for n in faces)
        assert sorted({f for r in rows for f in r[0]}) == faces
        assert all(r[2].startswith("ISO 2768-m") for r in rows)  # no tolerance given: the general class
    assert out["sizes_note"] == ""
    assert out["plain"] == [0, "No pre-machining sizes: no finish was given, so there is nothing to allow for."]
