"""The HTML report: view model, quote arithmetic, escaping, self-containment, CLI."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import PurePath

import pytest
from report_support import TIMESTAMP, bare_result, synthetic

from dfm.cli import main
from dfm.model import DfmResult, ErrorInfo, Feature, Finding, Severity
from dfm.report import html, viewmodel


@pytest.fixture(scope="module")
def plate(make_part):
    return make_part("plate_with_pockets", "plate_with_pockets")


@pytest.fixture()
def plate_result(plate, monkeypatch):
    return synthetic("plate_with_pockets", bare_result(plate, monkeypatch, material="6061-T6", finish="anodize-ii"))


def test_findings_sorted_by_severity_then_code(plate_result):
    result, cam = plate_result
    extra = Finding("DFM001", "a-note", Severity.INFO, "note", faces=(3,))
    body = replace(result.bodies[0], findings=(extra, *result.bodies[0].findings))
    vm = viewmodel.build(replace(result, bodies=(body,)), cam=cam)
    assert [(r.severity, r.code) for r in vm.findings] == [
        ("error", "DFM101"), ("warning", "DFM203"), ("warning", "DFM203"), ("info", "DFM001")]
    assert vm.findings[0].measured == "0.2 mm" and vm.findings[0].limit == "0.5 mm"


def test_worst_severity_colours_a_face(plate_result):
    result, _ = plate_result
    body = result.bodies[0]
    note = Finding("DFM001", "a-note", Severity.INFO, "note", faces=(13, 3))
    body = replace(body, findings=(*body.findings, note))

    class Run:
        def __init__(self, face):
            self.face, self.shade, self.fill_d, self.edge_d = face, 1.0, "M0 0L1 0L0 1Z", ""

    class Pic:
        view, width, height = "iso", 10.0, 10.0
        runs = (Run(13), Run(3), Run(2))

    vm = viewmodel.build(replace(result, bodies=(body,)), pictures={1: [Pic()]})
    fills = {p.face: p.fill for p in vm.bodies[0].pictures[0].paths}
    assert fills[13] == "#d7263d"  # error beats the note on the same face
    assert fills[3] == "#2f7fd1"
    assert fills[2] == "#b0b8c2"


def test_quote_arithmetic(plate_result, tmp_path):
    result, cam = plate_result
    q = tmp_path / "q.toml"
    q.write_text('currency = "EUR"\nquantities = [10, 1]\n[setup]\nminutes = 60\n[machine]\nrate_per_hour = 120\n'
                 '[stock]\nallowance_mm = 0\n[material_price_per_kg]\n"6061-T6" = 1000\n'
                 '[finish."anodize-type-ii"]\nper_piece = 2\nlot_charge = 30\n[finish_aliases]\n'
                 '"anodize-ii" = "anodize-type-ii"\n')
    qs = viewmodel.load_quote_settings(q)
    vm = viewmodel.build(result, quote_settings=qs, cam=cam)
    quote = vm.quote
    assert quote.quantities == (1, 10) and quote.complete
    # setup 120/q; machine 15 min at 120/h = 30; stock 12x8x3 mm = 0.288 cm3 * 2.70 g/cm3 = 0.7776 g at 1000/kg
    # = 0.7776; finish 2 + 30/q.
    piece1 = 120 + 30 + 0.7776 + 2 + 30
    piece10 = 12 + 30 + 0.7776 + 2 + 3
    assert quote.piece == (viewmodel.money(piece1), viewmodel.money(piece10))
    assert quote.batch == (viewmodel.money(piece1), viewmodel.money(piece10 * 10))
    assert [line.label for line in quote.lines] == ["Setup", "Machine time", "Material", "Finish"]


def test_quote_says_what_it_could_not_price(plate_result):
    result, _ = plate_result
    result = replace(result, settings={"material": "unobtainium", "finish": "gold-plate"})
    quote = viewmodel.build(result).quote
    assert not quote.complete
    text = " ".join(quote.notes)
    assert "Machine time is not priced" in text
    assert "Material unobtainium is not priced" in text
    assert "Finish gold-plate is not priced" in text


def test_report_names_files_but_never_server_paths(plate_result):
    # The report goes to a customer: the upload folder and the shop's settings path stay private.
    result, cam = plate_result
    result = replace(result, settings={"material": "unobtainium", "finish": "gold-plate"})
    out = html.render_html(result, cam=cam)
    upload_dir = str(PurePath(result.file).parent)
    assert PurePath(result.file).name in out
    assert upload_dir not in out
    assert str(viewmodel.load_quote_settings().path) not in out
    assert "no price in quote.toml" in out


@pytest.mark.parametrize("body, message", [
    ('quantities = []\n[setup]\nminutes=1\n[machine]\nrate_per_hour=1\n[stock]\nallowance_mm=0\n', "quantities"),
    ('quantities = [1]\n[setup]\nminutes=-1\n[machine]\nrate_per_hour=1\n[stock]\nallowance_mm=0\n',
     r"\[setup\] minutes must be a number >= 0"),
    ('quantities = [1]\n[setup]\nminutes=1\n[machine]\n[stock]\nallowance_mm=0\n', r"\[machine\] rate_per_hour"),
    ("quantities = [1\n", "cannot read the quote settings"),
])
def test_bad_quote_settings_name_the_file_and_key(tmp_path, body, message):
    q = tmp_path / "bad.toml"
    q.write_text(body)
    with pytest.raises(viewmodel.QuoteSettingsError, match=message) as info:
        viewmodel.load_quote_settings(q)
    assert str(q) in str(info.value)


def test_shipped_quote_settings_load_and_every_priced_material_has_a_density():
    qs = viewmodel.load_quote_settings()
    assert qs.quantities and qs.machine_rate_per_hour > 0
    dens = viewmodel.material_densities()
    assert set(qs.material_price_per_kg) <= set(dens)
    assert {"6061-T6", "7075-T6", "brass"} <= set(qs.material_price_per_kg)
    # 7075 at 2-3x 6061 (two sources), brass C260 at ~2.1x (two sources): derived from the 6061 figure
    assert qs.material_price_per_kg["7075-T6"] == pytest.approx(2.5 * qs.material_price_per_kg["6061-T6"])


def test_missing_sections_say_so(plate, monkeypatch):
    result = bare_result(plate, monkeypatch)
    out = html.render_html(result, settings=html.ReportSettings(pictures=False))
    assert "No findings: every rule that ran passed." in out
    assert "No holes, threads, slots, pockets or steps in this result" in out
    assert "No tool recommendation in this result" in out
    assert "No pre-machining sizes: no finish was given, so there is nothing to allow for." in out
    assert "No access model in this result" in out
    assert "No machining plan in this result" in out
    assert "No pictures: they were turned off for this report." in out
    assert "Price per piece (incomplete)" in out


def test_sections_render_what_is_present(plate_result):
    result, cam = plate_result
    out = html.render_html(result, cam=cam, settings=html.ReportSettings(pictures=False))
    for text in ("DFM101", "thin-wall", "pocket-1", "NS-MHR230-0.4", "4.025 … 4.035 mm", "pockets finish", "15 min",
                 "A thin wall deflects", "Make the web at least 0.5 mm thick"):
        assert text in out, text
    assert 'data-faces="13 22"' in out


def test_error_result_renders(tmp_path):
    result = DfmResult(file=str(tmp_path / "broken.step"), status="error",
                       error=ErrorInfo("DFM904", "corrupt-file", "broken.step: the STEP file is truncated"),
                       generated_at=TIMESTAMP, dfm_version="0")
    out = html.render_html(result)
    assert "The file could not be analysed" in out
    assert "DFM904 corrupt-file: broken.step: the STEP file is truncated" in out
    assert "No pictures: no body was analysed." in out


def test_self_contained_and_script_allowed_by_its_hash(plate_result):
    result, cam = plate_result
    out = html.render_html(result, cam=cam)
    # No URL other than the SVG namespace; no external resource of any kind.
    urls = set(re.findall(r"(?:https?|ftp)://[^\s\"'<>)]+", out))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert not re.search(r"<(?:link|img|iframe|object|embed)\b", out)
    assert not re.search(r"\bsrc=", out)
    # the only links lead to rows of this page (``#finding-N``), and each one's row is there
    for target in re.findall(r'\bhref="([^"]*)"', out):
        assert re.fullmatch(r"#finding-\d+", target), target
        assert f'id="{target[1:]}"' in out
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', out).group(1)
    assert "default-src 'none'" in csp
    scripts = re.findall(r"<script>(.*?)</script>", out, re.S)
    assert len(scripts) == 1
    assert f"script-src '{html.script_hash(scripts[0])}'" in csp
    assert "@media print" in out


def test_text_from_the_file_is_escaped(plate_result):
    result, cam = plate_result
    evil = "<script>alert(1)</script>"
    body = replace(result.bodies[0], name=evil, features=(
        Feature(f"hole-{evil}", "hole", (1,), {"diameter_mm": 1.0}, {"designation": evil}),))
    result = replace(result, file=f"/x/{evil}.step", product_names=(evil, "b\"'&"), bodies=(body,))
    out = html.render_html(result, cam=cam, settings=html.ReportSettings(pictures=False))
    assert out.count("<script>") == 1  # only the report's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "b&#34;&#39;&amp;" in out


def test_dfm_report_cli_writes_the_report(plate, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("dfm.api.body_stages", lambda: [])
    target = tmp_path / "out" / "r.html"
    rc = main(["report", str(plate), "-o", str(target), "--material", "6061-T6", "--timestamp", TIMESTAMP,
               "--in-process"])  # the patched pipeline lives in this process
    assert rc == 0
    text = target.read_text(encoding="utf-8")
    assert "plate_with_pockets" in text and TIMESTAMP in text and "<svg" in text
    assert f"wrote {target}" in capsys.readouterr().err


def test_dfm_report_cli_bad_quote_file_is_an_input_error(plate, tmp_path, capsys):
    q = tmp_path / "q.toml"
    q.write_text("quantities = 3\n")
    rc = main(["report", str(plate), "-o", str(tmp_path / "r.html"), "--quote", str(q)])
    assert rc == 2
    assert str(q) in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_dfm_check_html(plate, tmp_path, monkeypatch):
    monkeypatch.setattr("dfm.api.body_stages", lambda: [])
    target = tmp_path / "c.html"
    rc = main(["check", str(plate), "--html", str(target), "-o", str(tmp_path / "c.txt"), "--in-process"])
    assert rc == 0
    assert "Quote (USD)" in target.read_text(encoding="utf-8")


def test_report_of_a_missing_file(tmp_path, capsys):
    target = tmp_path / "r.html"
    rc = main(["report", str(tmp_path / "nope.step"), "-o", str(target)])
    assert rc == 2
    assert "DFM901" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["plate_with_pockets", "holes_block"])
def test_live_pipeline_report_shows_everything_the_result_holds(name, make_part, tmp_path):
    """``dfm report`` on a generator part with the real analysers, rules, tooling and CAM of this checkout."""
    from dfm import api

    path = make_part(name, name)
    target = tmp_path / f"{name}.html"
    rc = main(["report", str(path), "-o", str(target), "--material", "6061-T6", "--timestamp", TIMESTAMP])
    result = api.analyze(path, material="6061-T6", generated_at=TIMESTAMP)
    assert rc == result.exit_code
    text = target.read_text(encoding="utf-8")
    assert f'class="banner {result.verdict}"' in text
    for f in result.all_findings:
        assert f.code in text
        if f.faces:
            assert f'data-faces="{" ".join(map(str, f.faces))}"' in text
    for b in result.bodies:
        for feat in b.features:
            if feat.kind in viewmodel.TABLE_KINDS:
                assert f"<td>{feat.id}" in text
        for t in b.tools:
            assert f"<b>{t.id}</b>" in text
    # The plan section either has a cycle time or says why there is none.
    assert "Cycle time per piece" in text or "No machining plan" in text


def test_material_and_finish_come_from_the_part_spec(make_part, monkeypatch, tmp_path):
    """With no --material/--finish, the report (and its quote) use the part specification's."""
    import shutil

    path = make_part("lens_barrel", "lens_barrel")
    part = tmp_path / "barrel.step"
    shutil.copy(path, part)
    (tmp_path / "barrel.dfm.toml").write_text('material = "6061-T6"\n[finish]\nkind = "anodize"\ntype = "II"\n')
    result = bare_result(part, monkeypatch)
    assert viewmodel.material_and_finish(result) == ("6061-T6", "anodize-ii")
    vm = viewmodel.build(result)
    assert vm.material == "6061-T6" and vm.finish == "anodize-ii"
    assert [line.label for line in vm.quote.lines] == ["Setup", "Machine time", "Material", "Finish"]
    # The command line wins over the spec.
    assert viewmodel.material_and_finish(replace(result, settings={"material": "303"}))[0] == "303"


# --- the access model (#13) -------------------------------------------------------------------
def test_direction_text_names_axes_and_tilts():
    assert viewmodel.direction_text((0, 0, 1)) == "+Z"
    assert viewmodel.direction_text((-1.0, 0.0, 0.0)) == "−X"  # a real minus sign
    assert viewmodel.direction_text((0, -0.5, math.sqrt(3) / 2)) == "tilted 30° about X: (0, −0.5, 0.866)"
    assert viewmodel.direction_text((0.5, 0, -math.sqrt(3) / 2)) == "tilted 30° about Y: (0.5, 0, −0.866)"
    # turned about no single axis: named from the nearest axis direction
    d = viewmodel.direction_text((1, 1, 1))
    assert d == "tilted 54.7° from +X: (0.577, 0.577, 0.577)", d
    assert viewmodel.direction_text(None) == viewmodel.UNKNOWN
    assert viewmodel.direction_text((0, 0, 0)) == viewmodel.UNKNOWN


@pytest.fixture(scope="module")
def t_slot(make_part):
    """A T-slot block (CadQuery, exported to STEP) through the real analysis: its head is an undercut."""
    from dfm import api

    result = api.analyze(make_part("report-tslot", "t_slot_block"), generated_at=TIMESTAMP)
    assert result.status == "ok", result.error
    return result


def test_t_slot_report_shows_its_setup_and_undercut_faces(t_slot):
    body = t_slot.bodies[0]
    under = tuple(body.access["undercut_faces"])
    assert under, body.access  # the access model found the head
    vm = viewmodel.build(t_slot)
    acc = vm.bodies[0].access
    assert acc.known and acc.undercut_faces == under
    # every setup direction of the result, with the features cut along it
    assert [s.direction for s in acc.setups] == [viewmodel.direction_text(s["approach"]) for s in body.access["setups"]]
    assert acc.setups[0].direction == "+Z"
    slots = [f for f in body.features if f.kind == "slot"]
    assert slots and all(f.id in acc.setups[0].features for f in slots)
    assert acc.setups[0].count == body.access["setups"][0]["features"] == len(acc.setups[0].features)
    assert set(acc.setups[0].faces) == {i for f in body.features if f.id in acc.setups[0].features for i in f.faces}
    # the undercut rows cover exactly the undercut faces, and link the DFM650 finding on them
    assert sorted(i for u in acc.undercuts for i in u.faces) == sorted(under)
    dfm650 = [r for r in vm.findings if r.code == "DFM650"]
    assert dfm650
    links = [link for u in acc.undercuts for link in u.findings]
    assert {(link.code, link.anchor) for link in links} == {(r.code, r.anchor) for r in dfm650}
    assert acc.summary.startswith("1 setup: +Z; ") and f"{len(under)} undercut faces" in acc.summary
    # the picture legend says what violet means
    assert ("undercut (no straight cutter reaches it)", "#8e44ad") in vm.legend

    out = html.render_html(t_slot, settings=html.ReportSettings(pictures=False))
    section = re.search(r'<section id="access">(.*?)</section>', out, re.S).group(1)
    for r in dfm650:
        assert f'<a class="finding-link sev-{r.severity}" href="#{r.anchor}"' in section
        assert f'<tr class="finding" id="{r.anchor}"' in out
    assert f'data-faces="{" ".join(map(str, under))}"' in section
    assert "<td>+Z</td>" in section


def test_undercut_faces_are_violet_in_the_pictures_unless_an_error_lies_on_them(t_slot):
    body = t_slot.bodies[0]
    under = list(body.access["undercut_faces"])
    other = next(i for i in range(1, body.faces + 1) if i not in under)
    error = Finding("DFM001", "an-error", Severity.ERROR, "error on an undercut face", faces=(under[0],))
    warning = Finding("DFM002", "a-warning", Severity.WARNING, "warning on an undercut face", faces=(under[1],))
    result = replace(t_slot, bodies=(replace(body, findings=(error, warning)),))

    class Run:
        def __init__(self, face):
            self.face, self.shade, self.fill_d, self.edge_d = face, 1.0, "M0 0L1 0L0 1Z", ""

    class Pic:
        view, width, height = "iso", 10.0, 10.0
        runs = tuple(Run(i) for i in (*under, other))

    paths = {p.face: p for p in viewmodel.build(result, pictures={1: [Pic()]}).bodies[0].pictures[0].paths}
    assert paths[under[0]].fill == "#d7263d" and paths[under[0]].undercut  # the error says more
    assert all(paths[i].fill == "#8e44ad" and paths[i].undercut for i in under[1:])  # beats the warning
    assert paths[other].fill == "#b0b8c2" and not paths[other].undercut


def test_tilted_setup_is_named_by_its_angle_and_links_dfm651(make_part):
    from dfm import api

    result = api.analyze(make_part("report-inclined", "inclined_pocket"), generated_at=TIMESTAMP)
    vm = viewmodel.build(result)
    (setup,) = vm.bodies[0].access.setups
    assert setup.direction == "tilted 30° about X: (0, −0.5, 0.866)" and setup.tilt == "30°"
    pockets = [f.id for f in result.bodies[0].features if f.kind == "pocket"]
    assert list(setup.features) == pockets
    assert [link.code for link in setup.findings] == ["DFM651"]
    assert vm.bodies[0].access.undercuts == () and vm.bodies[0].access.undercut_faces == ()
    out = html.render_html(result, settings=html.ReportSettings(pictures=False))
    assert "tilted 30° about X: (0, −0.5, 0.866)" in out
    assert "No undercut: a straight cutter reaches every face." in out
    assert "undercut (no straight cutter reaches it)" not in out  # no legend entry for a colour not drawn


def test_text_output_has_one_access_line_per_body(t_slot):
    from dfm.report import text

    lines = text.render(t_slot).splitlines()
    n = len(t_slot.bodies[0].access["undercut_faces"])
    assert lines[1] == f"  setups: +Z ({t_slot.bodies[0].access['setups'][0]['features']} feature); undercut faces: {n}"
    assert sum(1 for line in lines if "setups:" in line) == 1


# --- pre-machining sizes (#15) ----------------------------------------------------------------
def _allowances(result):
    return [f for b in result.bodies for f in b.features if f.kind == "anodize_allowance"]


def test_lens_barrel_pre_machining_sizes_are_grouped_by_kind_and_size(make_part):
    """The lens barrel (CadQuery) anodized: every size the finish changes, once, smallest first."""
    from dfm import api

    result = api.analyze(make_part("lens_barrel", "lens_barrel"), finish="anodize-ii", generated_at=TIMESTAMP)
    allowances = _allowances(result)
    assert allowances
    vm = viewmodel.build(result)
    groups = vm.bodies[0].sizes
    keys = [(g.kind, g.finished_mm) for g in groups]
    assert len(keys) == len(set(keys))  # one group per (kind, finished size)
    assert [g.finished_mm for g in groups] == sorted(g.finished_mm for g in groups)
    assert {g.kind for g in groups} <= {"bore", "shaft", "width", "thickness", "thread"}
    # every allowance is one row of exactly the group of its kind and finished size
    rows = {r.id: g for g in groups for r in g.rows}
    assert sorted(rows) == sorted(f.id for f in allowances)
    for f in allowances:
        g = rows[f.id]
        assert g.kind == viewmodel.SIZE_KINDS[f.props["target"]]
        assert g.finished_mm == pytest.approx(f.dims["finished_mm"], abs=1e-6)
        row = next(r for r in g.rows if r.id == f.id)
        assert row.faces == tuple(f.faces)
        lo, hi = f.dims["premachine_min_mm"], f.dims["premachine_max_mm"]
        assert row.premachine == f"{viewmodel.fmt(lo, 4)} … {viewmodel.fmt(hi, 4)} mm"
        src = f.props["source"]
        assert row.source.startswith(f"ISO 2768-{src[9:]}" if src.startswith("iso-2768-") else "explicit tolerance")
    # the barrel's bores are machined oversize and its shafts undersize (the film closes / grows them)
    for g in groups:
        for r in g.rows:
            lo, hi = (float(x) for x in r.premachine.removesuffix(" mm").split(" … "))
            if g.kind == "bore":
                assert (lo + hi) / 2 > g.finished_mm
            elif g.kind in ("shaft", "thickness"):
                assert (lo + hi) / 2 < g.finished_mm
    assert vm.sizes_note == ""
    out = html.render_html(result, settings=html.ReportSettings(pictures=False))
    section = re.search(r'<section id="sizes">(.*?)</section>', out, re.S).group(1)
    assert section.count('<tbody class="size-group"') == len(groups)
    assert "Finish anodize-ii" in section and "No pre-machining sizes" not in section
    bore = next(g for g in groups if g.kind == "bore")
    assert f"<th rowspan=\"{len(bore.rows)}\">{bore.size}</th>" in section


def test_sizes_of_one_kind_and_size_from_different_tolerances_share_a_group(plate_result):
    result, cam = plate_result
    groups = viewmodel.build(result, cam=cam).bodies[0].sizes
    assert [(g.kind, g.size, len(g.rows)) for g in groups] == [("thickness", "0.2 mm", 1), ("width", "4 mm", 2)]
    width = groups[1]
    assert width.surfaces == "2" and width.faces == (8, 13, 18, 22)
    explicit, general = width.rows
    assert explicit.source == "explicit tolerance (the part spec): feature pocket-1"
    assert explicit.finished == "4 +0.03/0 mm" and explicit.premachine == "4.025 … 4.035 mm"
    assert general.source == "ISO 2768-m (general tolerance)" and general.finished == "4 ±0.1 mm"
    web = groups[0].rows[0]
    assert not web.feasible and web.band == "none"


def test_no_pre_machining_sizes_message_only_without_a_finish(plate, monkeypatch):
    bare = bare_result(plate, monkeypatch)
    settings = html.ReportSettings(pictures=False)
    none = html.render_html(bare, settings=settings)
    assert "No pre-machining sizes: no finish was given" in none
    for finish in ("anodize-ii", "passivate"):
        out = html.render_html(replace(bare, settings={"finish": finish}), settings=settings)
        assert "No pre-machining sizes" not in out
        assert f"Finish {finish}: no sized surface was found that this finish changes" in out
    broken = DfmResult(file="/x/broken.step", status="error", settings={"finish": "anodize-ii"},
                       error=ErrorInfo("DFM904", "corrupt-file", "truncated"))
    assert viewmodel.build(broken).sizes_note == "Finish anodize-ii: the file could not be analysed, so no size was " \
                                                 "measured."


# --- unknown values (#16) ---------------------------------------------------------------------
def test_unknown_values_print_as_an_en_dash(plate_result):
    from dfm.model import ToolChoice

    result, _ = plate_result
    body = result.bodies[0]
    nothing = Finding("DFM002", "no-number", Severity.INFO, "a finding with no value <&>")
    bare_tool = ToolChoice(id="T-?", kind="flat-end-mill", diameter_mm=0.5, reach_mm=float("nan"),
                           flute_length_mm=float("nan"), flutes=0, source="mine.toml", role="finish")
    result = replace(result, bodies=(replace(body, findings=(*body.findings, nothing), tools=(bare_tool,)),),
                     settings={"material": "unobtainium"})
    vm = viewmodel.build(result, cam={"setups": [{"index": 1, "operations": [{"name": "op", "tool": None}]}],
                                      "unreachable": [{"reason": "too deep"}]})
    assert viewmodel.UNKNOWN == "\u2013"
    row = next(r for r in vm.findings if r.code == "DFM002")
    assert (row.measured, row.limit, row.faces_text) == ("–", "–", "–")
    (tool,) = vm.bodies[0].tools
    assert (tool.flutes, tool.reach, tool.flute_length, tool.features) == ("–", "–", "–", "–")
    (op,) = vm.plan.rows
    assert (op.tool, op.features, op.time) == ("–", "–", "–") and vm.plan.cycle_time == "–"
    assert "– : too deep" not in vm.plan.note and "–: too deep" in vm.plan.note
    assert all(a == "–" for line in vm.quote.lines if "not priced" in line.basis for a in line.amounts)
    out = html.render_html(result, settings=html.ReportSettings(pictures=False), cam={
        "setups": [{"index": 1, "operations": [{"name": "op", "tool": None}]}]})
    # no cell says "-" or "?" for a value nobody knows; the dash is the character, not an entity
    assert not re.search(r"<t[dh][^>]*>\s*[-?]\s*</t[dh]>", out)
    assert '<td class="num">–</td>' in out and "&ndash;" not in out
    assert "a finding with no value &lt;&amp;&gt;" in out  # escaping still holds


def test_plan_note_lists_what_the_guard_found_left_uncut(plate_result):
    """The report says what the guard's simulation found left: features under 95 % removed and
    material no recognised feature claims (cam.guard.incomplete), besides what is not machined."""
    cam = {"cycle_time_s": 60.0, "setups": [{"index": 1, "operations": [],
                                             "unmachined": [{"feature": "hole-1", "reason": "no tool"}],
                                             "partly": [{"feature": "hole-2", "reason": "its <countersink>"}]}],
           "guard": {"incomplete": [{"setup": 1, "feature": "material at X2.1 Y0 over Z3.2", "fraction": 0.0,
                                     "reason": "0.8 mm thick <outside> every feature"}]}}
    plan = viewmodel.plan_vm(cam)
    assert "hole-1 (setup 1): no tool" in plan.note
    # a hole whose bore is machined but not its countersink is not "not machined"
    assert "Machined only in part by this plan" in plan.note and "hole-2 (setup 1): its <countersink>" in plan.note
    assert "hole-2" not in plan.note.split("Machined only in part")[0]
    assert "Left partly uncut by this plan" in plan.note
    assert "material at X2.1 Y0 over Z3.2 (setup 1): 0 % removed, 0.8 mm thick <outside> every feature" in plan.note
    html_text = html.render_html(plate_result[0], cam=cam)
    assert "&lt;outside&gt;" in html_text and "<outside>" not in html_text
    assert "&lt;countersink&gt;" in html_text and "<countersink>" not in html_text


def test_text_output_prints_findings_alike_once_with_every_place():
    """16 sharp corners that read the same are one block naming the 16 places (the JSON keeps 16 findings); a
    finding that differs in its message stays its own block; the headline counts every finding."""
    from dfm.model import BodyResult, DfmResult, Finding, Severity
    from dfm.report import text

    def corner(a, b, depth=0.5):
        return Finding("DFM201", "sharp-internal-corner", Severity.ERROR,
                       f"Sharp internal vertical corner ({depth:g} mm deep, radius 0 mm).", faces=(a, b),
                       fix="Give the corner a radius.")

    alike = [corner(10 + k, 11 + k) for k in range(0, 50, 2)]  # 25 places
    other = corner(90, 91, depth=0.75)
    body = BodyResult(index=1, name="b", bbox_mm=(1.0, 1.0, 1.0), bbox_min_mm=(0.0, 0.0, 0.0), volume_mm3=1.0,
                      faces=99, edges=1, findings=(*alike, other))
    out = text.render(DfmResult(file="p.step", status="ok", bodies=(body,)))
    assert "26 errors" in out.splitlines()[0] and "Errors (26):" in out
    assert out.count("DFM201 sharp-internal-corner") == 2
    assert "  DFM201 sharp-internal-corner (25 places)" in out
    (places,) = [line for line in out.splitlines() if line.startswith("      at faces ")]
    assert places.startswith("      at faces 10, 11; 12, 13; 14, 15;")
    assert places.count(";") == 20 and places.endswith("; and 5 more (--format json lists each)")
    assert "      faces 90, 91" in out  # the lone one as before
    assert out.count("fix: Give the corner a radius.") == 2
