"""The rule engine: units, expressions, loader errors, profiles, spec, anodize allowance, CLI, docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dfm import api
from dfm.cli import main
from dfm.errors import RuleError
from dfm.model import Feature, Severity
from dfm.resources import rules_dir
from dfm.rules import anodize
from dfm.rules.expr import ExprError, Missing, compile_expr
from dfm.rules.loader import load_profile, load_rule_file
from dfm.rules.registry import resolve, shipped_rules
from dfm.rules.units import parse_quantity

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "example_parts"

GOOD_RULE = """
[[rule]]
code = "DFM199"
name = "test-rule"
title = "t"
reads = "wall"
value = "thickness_mm"
compare = "below"
unit = "mm"
bands = [{ severity = "error", limit = "0.1" }, { severity = "warning", limit = "lim" }]
params = { lim = "0.3 mm" }
message = "{value} < {limit}"
why = "w"
fix = "f"
references = ["r"]
"""


# ---------------------------------------------------------------- units and expressions

@pytest.mark.parametrize("text,value,dim", [
    ("0.15 mm", 0.15, "length"), ("20 um", 0.02, "length"), ("20 µm", 0.02, "length"), ("3", 3.0, "ratio"),
    (4.5, 4.5, "ratio"), ("0.001 in", 0.0254, "length"), ("15000 rpm", 15000.0, "speed"), ("50 %", 0.5, "ratio"),
])
def test_parse_quantity(text, value, dim):
    q = parse_quantity(text)
    assert q.value == pytest.approx(value, abs=1e-12) and q.dimension == dim


@pytest.mark.parametrize("bad", ["0.15 furlong", "mm", "", True, [1]])
def test_parse_quantity_rejects(bad):
    with pytest.raises(RuleError, match="f.toml: k"):
        parse_quantity(bad, path="f.toml", key="k")


def test_expressions_are_safe_and_skip_missing_names():
    ex = compile_expr("depth_mm / radius_mm > 3 and orientation == 'vertical'")
    assert ex.names == {"depth_mm", "radius_mm", "orientation"}
    assert ex({"depth_mm": 2.0, "radius_mm": 0.25, "orientation": "vertical"}) is True
    with pytest.raises(Missing):
        ex({"depth_mm": 2.0})
    for bad in ("__import__('os')", "x.real", "open('f')", "[i for i in x]", "lambda: 1", "x[0]"):
        with pytest.raises(ExprError):
            compile_expr(bad)


# ---------------------------------------------------------------- loader errors name file and key

def _rule_file(tmp_path, text):
    p = tmp_path / "r.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("change,key,reason", [
    (('limit = "0.1"', 'limit = "0.5"'), "rule DFM199.bands", "not monotonic"),
    (('code = "DFM199"', 'code = "DFM601"'), "rule[0].code", "reserved for tooling"),
    (('code = "DFM199"', 'code = "DFM901"'), "rule[0].code", "input.toml"),
    (('name = "test-rule"', 'name = "Test_Rule"'), "rule DFM199.name", "kebab-case"),
    (('value = "thickness_mm"', 'value = "thicknes_mm"'), "rule DFM199.value", "unknown name"),
    (('severity = "error"', 'severity = "fatal"'), "rule DFM199.bands[0].severity", "severity"),
    (('lim = "0.3 mm"', 'lim = "0.3 parsecs"'), "rule DFM199.params.lim", "unknown unit"),
    (('references = ["r"]', 'references = []'), "rule DFM199.references", "at least one source"),
    (('why = "w"', 'why = "w"\nwhy_not = 1'), "rule DFM199.why_not", "unknown key"),
    (('message = "{value} < {limit}"', 'message = "{nonsense}"'), "rule DFM199.message", "unknown field"),
    (('value = "thickness_mm"', 'value = "__import__(1)"'), "rule DFM199.value", "may be called"),
])
def test_bad_rule_file_names_file_key_reason(tmp_path, change, key, reason):
    p = _rule_file(tmp_path, GOOD_RULE.replace(*change))
    with pytest.raises(RuleError) as info:
        load_rule_file(p)
    msg = str(info.value)
    assert msg.startswith(str(p)) and key in msg and reason in msg, msg


def test_good_rule_file_loads(tmp_path):
    (rule,) = load_rule_file(_rule_file(tmp_path, GOOD_RULE))
    assert rule.params == {"lim": pytest.approx(0.3)} and rule.severity is Severity.ERROR


def test_broken_toml_is_a_rule_error(tmp_path):
    with pytest.raises(RuleError, match="not valid TOML"):
        load_rule_file(_rule_file(tmp_path, "[[rule]\ncode = 1"))


def test_shipped_rules_are_many_unique_and_documented():
    rules = shipped_rules()
    assert len(rules) >= 30
    assert len({r.code for r in rules}) == len({r.name for r in rules}) == len(rules)
    # DFM600-649 are dfm.tooling's (rules/tooling.toml); DFM650-699 reach rules judged here
    assert not [r.code for r in rules if r.code.startswith("DFM9") or (r.code.startswith("DFM6") and r.code < "DFM650")]
    families = {r.code[3] for r in rules}
    assert {"1", "2", "3", "4", "5"} <= families
    assert all(r.why and r.fix and r.references for r in rules)


def test_every_shipped_profile_loads():
    for kind in ("process", "material", "finish", "machine"):
        files = sorted((rules_dir() / "profiles" / kind).glob("*.toml"))
        assert files
        for f in files:
            assert load_profile(f, kind=kind).kind == kind
    names = {load_profile(f).name for f in (rules_dir() / "profiles" / "material").glob("*.toml")}
    assert {"6061-T6", "7075-T6", "303", "316L", "Ti-6Al-4V", "brass", "PEEK"} <= names


# ---------------------------------------------------------------- settings: profiles, spec, CLI shortcuts

class Opts:
    def __init__(self, **kw):
        self.spec = kw.get("spec")
        self.profile = kw.get("profile")
        self.material = kw.get("material")
        self.finish = kw.get("finish")
        self.tools = kw.get("tools")
        self.extra = kw.get("extra", {})


def test_material_numbers_come_from_materials_toml():
    env = resolve(Opts(material="peek")).vars
    assert env["material"] == "PEEK" and env["wall_feasible_mm"] == 1.0 and env["wall_recommended_mm"] == 1.5
    env = resolve(Opts(material="sus303")).vars
    assert env["material_class"] == "stainless" and env["vc_min_m_min"] == 82 and env["thread_engagement_min_d"] == 1.0


def test_spec_then_cli_override(tmp_path):
    spec = tmp_path / "p.dfm.toml"
    spec.write_text('material = "7075-T6"\n[finish]\nkind = "anodize"\ntype = "III"\nthickness_um = [30, 40]\n')
    s = resolve(Opts(spec=str(spec)))
    assert s.profiles["material"] == "7075-T6" and s.profiles["finish"] == "anodize-iii"
    assert (s.vars["film_min_um"], s.vars["film_max_um"], s.vars["growth_fraction"]) == (30, 40, 0.5)
    s = resolve(Opts(spec=str(spec), material="303", finish="none"))
    assert s.profiles["material"] == "303" and s.vars["finish_kind"] == "none"


def test_spec_beside_the_part_is_found(tmp_path):
    part = tmp_path / "bracket.step"
    (tmp_path / "bracket.dfm.toml").write_text('material = "brass"\n')
    assert resolve(Opts(), part).profiles["material"] == "brass"
    assert not resolve(Opts(), part).vars["material_assumed"]
    assert resolve(Opts(), tmp_path / "other.step").vars["material_assumed"]


@pytest.mark.parametrize("text,key", [
    ('material = "unobtainium"\n', "material"),
    ('[finish]\nkind = "chrome"\n', "finish.kind"),
    ('[finish]\nkind = "anodize"\ntype = "IV"\n', "finish.type"),
    ('[finish]\nkind = "anodize"\nthickness_um = [25, 10]\n', "finish.thickness_um"),
    ('[[tolerance]]\nselect = { diameter_mm = 4.0 }\nplus_um = 3\n', "tolerance[0]"),
    ('[[tolerance]]\nselect = { radius = 4.0 }\nplus_um = 3\nminus_um = 3\n', "tolerance[0].select.radius"),
    ('[[thread]]\nselect = { faces = [0] }\ndesignation = "M2"\n', "thread[0].select.faces"),
    ('colour = "red"\n', "colour"),
])
def test_bad_spec_names_key(tmp_path, text, key):
    spec = tmp_path / "bad.dfm.toml"
    spec.write_text(text)
    with pytest.raises(RuleError) as info:
        resolve(Opts(spec=str(spec)))
    assert str(info.value).startswith(str(spec)) and f": {key}" in str(info.value), str(info.value)


def test_user_profile_tunes_and_adds_rules(tmp_path):
    prof = tmp_path / "shop.toml"
    prof.write_text('[tune.DFM101]\nenabled = false\n[tune.deep-hole]\nparams = { recommended = "6" }\n'
                    'severity = "info"\n' + GOOD_RULE)
    s = resolve(Opts(profile=str(prof)))
    codes = {r.code: r for r in s.rules}
    assert "DFM101" not in codes and "DFM199" in codes
    assert codes["DFM401"].params["recommended"] == 6 and codes["DFM401"].severity is Severity.INFO


def test_user_machine_profile(tmp_path):
    prof = tmp_path / "mill.toml"
    prof.write_text('kind = "machine"\nname = "mine"\n[vars]\nmax_rpm = "40000 rpm"\nruntout = 1\n')
    with pytest.raises(RuleError, match="mill.toml: vars.runtout: unknown variable"):
        resolve(Opts(profile=str(prof)))
    prof.write_text('kind = "machine"\nname = "mine"\n[vars]\nmax_rpm = "40000 rpm"\nrunout_mm = "1 um"\n')
    s = resolve(Opts(profile=str(prof)))
    assert s.vars["max_rpm"] == 40000 and s.vars["runout_mm"] == pytest.approx(0.001)


def test_tune_that_breaks_monotonic_bands_is_rejected(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text('[tune.DFM401]\nparams = { recommended = "12" }\n')
    with pytest.raises(RuleError, match="p.toml: tune.DFM401: bands are not monotonic"):
        resolve(Opts(profile=str(prof)))


def test_unknown_profile_name_lists_known():
    with pytest.raises(RuleError, match="unknown material 'steel' .*6061-T6"):
        resolve(Opts(material="steel"))


# ---------------------------------------------------------------- anodize allowance numbers

def test_lens_barrel_bore_type_ii():
    a = anodize.allowance("bore", 4.0, 3, 3, 10, 25, 0.5)
    assert not a.feasible
    assert (a.premachine_min_mm, a.premachine_max_mm) == (pytest.approx(4.010), pytest.approx(4.025))
    assert (a.growth_min_um, a.growth_max_um) == (5, 12.5)
    assert a.size_change_range_um == pytest.approx(15) and a.tolerance_band_um == 6


def test_shaft_example_of_accuratemetal():
    # 1.500 +.001/-0 in shaft, 0.001 +/-0.0001 in build-up per surface -> machine 1.4982..1.4988 in
    a = anodize.allowance("shaft", 1.5 * 25.4, 0.001 * 25400, 0, 2 * 0.0009 * 25400, 2 * 0.0011 * 25400, 0.5)
    assert a.feasible
    assert a.premachine_min_mm / 25.4 == pytest.approx(1.4982, abs=1e-6)
    assert a.premachine_max_mm / 25.4 == pytest.approx(1.4988, abs=1e-6)


def test_thread_pd_moves_four_times_the_buildup():
    a = anodize.allowance("thread-internal", 1.3727, 85, 0, 25, 64, 0.5)
    assert (a.size_change_min_um, a.size_change_max_um) == (-50, -128)
    b = anodize.allowance("thread-external", 1.3727, 0, 85, 10, 25, 0.5)
    assert b.size_change_max_um == 50 and b.feasible


# ---------------------------------------------------------------- end to end through api / cli

def test_lens_barrel_black_anodize_end_to_end(schema_validator):
    result = api.analyze(EX / "lens_barrel.step", spec=str(EX / "lens_barrel.black-anodize.dfm.toml"))
    assert result.status == "ok" and result.exit_code == 1
    (allow,) = [f for f in result.bodies[0].features if f.kind == "anodize_allowance" and f.props["explicit"]]
    assert allow.dims["premachine_min_mm"] == pytest.approx(4.010)
    assert allow.dims["premachine_max_mm"] == pytest.approx(4.025)
    assert allow.dims["growth_min_um"] == 5 and allow.dims["tolerance_band_um"] == 6
    assert allow.props["feasible"] is False and allow.faces
    (f501,) = [f for f in result.all_findings if f.code == "DFM501"]
    assert f501.severity is Severity.ERROR and f501.value == pytest.approx(15) and f501.limit == pytest.approx(6)
    assert f501.faces == allow.faces
    # the Ø4.000 bore alone: the Ø5 lens seat counterbored above it is not toleranced
    (hole,) = [f for f in result.bodies[0].features if f.kind == "hole" and f.dims["diameter_mm"] == pytest.approx(4)]
    assert allow.faces == tuple(hole.props["bore_faces"]) and set(allow.faces) < set(hole.faces)
    seat = next(st for st in hole.props["stack"] if st["diameter_mm"] == pytest.approx(5))
    assert not set(seat["faces"]) & set(allow.faces)
    from dfm.report import jsonout

    schema_validator.validate(json.loads(jsonout.dumps(result)))


def test_type_iii_on_m16_thread_must_be_masked(tmp_path):
    spec = tmp_path / "s.dfm.toml"
    spec.write_text((EX / "micro_holes.hardcoat.dfm.toml").read_text())
    result = api.analyze(EX / "micro_holes.step", spec=str(spec))
    threads = [f for f in result.bodies[0].features if f.kind == "thread"]
    assert [t.props["designation"] for t in threads] == ["M1.6x0.35"] and threads[0].props["source"] == "spec"
    (allow,) = [f for f in result.bodies[0].features if f.kind == "anodize_allowance" and f.props["target"] == "thread"]
    assert allow.props["target"] == "thread" and allow.dims["size_change_max_um"] == pytest.approx(-128)
    (f502,) = [f for f in result.all_findings if f.code == "DFM502"]
    assert f502.severity is Severity.ERROR and "must be masked" in f502.message and "Mask" in f502.fix
    assert "-50 to -128 um" in f502.message
    spec.write_text(spec.read_text() + "\n[[masking]]\nselect = { diameter_mm = 1.25 }\n")
    masked = api.analyze(EX / "micro_holes.step", spec=str(spec))
    codes = {f.code for f in masked.all_findings}
    assert "DFM502" not in codes and "DFM506" in codes


def test_spec_entry_that_selects_nothing_is_reported(tmp_path):
    spec = tmp_path / "s.dfm.toml"
    spec.write_text('[[thread]]\nselect = { diameter_mm = 2.5 }\ndesignation = "M3x0.5"\n')
    result = api.analyze(EX / "micro_holes.step", spec=str(spec))
    (f,) = [f for f in result.all_findings if f.code == "DFM956"]
    assert f.severity is Severity.WARNING and "diameter 2.5 mm" in f.message


@pytest.mark.parametrize("finish", ["", '[finish]\nkind = "anodize"\ntype = "II"\n'])
def test_mistyped_tolerance_is_reported_with_or_without_a_finish(tmp_path, finish):
    spec = tmp_path / "s.dfm.toml"
    spec.write_text(finish + "[[tolerance]]\nselect = { diameter_mm = 9.0 }\nplus_um = 3\nminus_um = 3\n"
                    "[[tolerance]]\nselect = { diameter_mm = 1.0 }\nplus_um = 5\nminus_um = 5\n")
    result = api.analyze(EX / "micro_holes.step", spec=str(spec))
    unmatched = [f for f in result.all_findings if f.code == "DFM956"]
    assert len(unmatched) == 1 and "diameter 9 mm" in unmatched[0].message  # the Ø1 entry does match


def test_bad_spec_is_exit_2_with_file_and_key(tmp_path, capsys):
    spec = tmp_path / "bad.dfm.toml"
    spec.write_text('[finish]\nkind = "anodize"\ntype = "IV"\n')
    result = api.analyze(EX / "micro_slot.step", spec=str(spec))
    assert result.status == "error" and result.exit_code == 2 and result.error.code == "DFM909"
    assert str(spec) in result.error.message and "finish.type" in result.error.message
    assert main(["check", str(EX / "micro_slot.step"), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad-settings-file" in err and "finish.type" in err


def test_bad_profile_and_unknown_material_exit_2(tmp_path):
    prof = tmp_path / "p.toml"
    prof.write_text(GOOD_RULE.replace('limit = "0.1"', 'limit = "0.5"'))
    assert main(["check", str(EX / "micro_slot.step"), "--profile", str(prof)]) == 2
    assert main(["check", str(EX / "micro_slot.step"), "--material", "steel"]) == 2


def test_cli_material_shortcut_changes_the_verdict():
    # 0.5 mm wall at the barrel's lens seat: feasible in metal, below even the feasible 1.0 mm in PEEK
    metal = api.analyze(EX / "lens_barrel.step", material="6061-T6")
    peek = api.analyze(EX / "lens_barrel.step", material="PEEK")
    assert metal.verdict == "warn" and peek.verdict == "fail"
    assert "DFM955" not in {f.code for f in metal.all_findings}


def test_cli_rules_json_and_rule_text(capsys):
    assert main(["rules", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len([r for r in rows if not r["code"].startswith("DFM9")]) >= 30
    assert {"DFM909", "DFM101", "DFM501"} <= {r["code"] for r in rows}
    assert all({"code", "name", "severity", "why", "fix"} <= set(r) for r in rows)
    assert main(["rule", "thin-wall", "--material", "PEEK"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DFM101 thin-wall") and "(= 1 mm)" in out and "Why:" in out
    assert main(["rule", "DFM999"]) == 2
    assert main(["rules", "--profiles"]) == 0
    assert "anodize-iii" in capsys.readouterr().out


def test_docs_page_is_generated_from_the_data():
    from dfm.rules.docs import render

    assert (ROOT / "docs" / "rules.md").read_text() == render(), "run: python -m dfm.rules.docs > docs/rules.md"


def test_rule_data_ships_in_the_wheel_config():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"rules" = "dfm/_rules"' in text
    assert (rules_dir() / "micro-milling").is_dir() and (rules_dir() / "profiles" / "process").is_dir()


def test_findings_name_faces_and_location():
    result = api.analyze(EX / "thin_web_plate.step")
    (f,) = [f for f in result.all_findings if f.code == "DFM101"]
    assert f.faces and f.location_mm is not None and f.feature and f.value == pytest.approx(0.2) and f.limit == 0.5


def test_python_dash_m_rules():
    proc = subprocess.run([sys.executable, "-m", "dfm", "rules", "--family", "5"], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert proc.returncode == 0 and "DFM501" in proc.stdout and "DFM101" not in proc.stdout


def test_feature_without_the_dim_is_skipped():
    from dfm.rules.engine import evaluate

    s = resolve(Opts())
    feats = [Feature(id="wall-1", kind="wall", dims={"height_mm": 2.0})]
    assert not [f for f in evaluate(s.rules, feats, s) if f.code == "DFM101"]


def test_check_machine_option(capsys):
    rc = main(["check", str(EX / "micro_slot.step"), "--machine", "vmc-15k", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["verdict"] == "warn" and data["settings"]["machine"] == "vmc-15k"
    (f,) = [f for b in data["bodies"] for f in b["findings"] if f["code"] == "DFM702"]
    assert f["severity"] == "warning" and f["limit"] == pytest.approx(47.1)
    # pi x 0.4 mm x 15000 rpm = 18.85 m/min: cutting speeds print to 0.1 m/min, the JSON keeps 6 decimals
    assert "cuts at 18.8 m/min, below 47.1 m/min" in f["message"] and f["value"] == pytest.approx(18.849556)


def test_message_numbers_keep_their_zeros_and_tell_value_from_limit():
    from dfm.rules.units import fmt

    assert (fmt(60000, 0), fmt(15000.4, 0), fmt(100.0, 1), fmt(0.5, 4), fmt(-0.0001, 2)) == (
        "60000", "15000", "100", "0.5", "0")


def test_iso_2768_general_tolerance_bands():
    from dfm.rules.registry import general_tolerance_mm

    assert general_tolerance_mm(4.0, "m") == 0.1 and general_tolerance_mm(4.0, "f") == 0.05
    assert general_tolerance_mm(6.0, "c") == 0.3 and general_tolerance_mm(6.01, "c") == 0.5
    assert general_tolerance_mm(0.3, "m") is None and general_tolerance_mm(2.0, "v") is None


@pytest.mark.corpus
def test_ap242_pmi_tolerances_feed_the_anodize_allowance(corpus, tmp_path):
    path = corpus / "nist_pmi" / "nist_ctc_01_asme1_ap242-e1.stp"
    result = api.analyze(path, material="6061-T6", finish="anodize-ii")
    allows = [f for f in result.bodies[0].features if f.kind == "anodize_allowance" and f.props["explicit"]]
    assert sorted(a.dims["finished_mm"] for a in allows) == [20, 20, 25, 35, 35]
    assert {a.props["source"] for a in allows} == {"pmi"} and all(a.props["feature"] for a in allows)
    (a,) = [a for a in allows if a.dims["finished_mm"] == 35 and a.dims["plus_um"] == 200]
    # 35 +0.2/-0 bore, Type II 5-25 um at half outward: machine 35.025 .. 35.205
    assert (a.dims["premachine_min_mm"], a.dims["premachine_max_mm"]) == (pytest.approx(35.025), pytest.approx(35.205))
    assert any("tolerance from pmi" in f.message for f in result.all_findings if f.code == "DFM503")
    # the part spec wins over the PMI for the same hole
    spec = tmp_path / "s.dfm.toml"
    spec.write_text(f'[[tolerance]]\nselect = {{ feature = "{a.props["feature"]}" }}\nplus_um = 2\nminus_um = 2\n')
    again = api.analyze(path, material="6061-T6", finish="anodize-ii", spec=str(spec))
    mine = [f for f in again.bodies[0].features
            if f.kind == "anodize_allowance" and f.props["explicit"] and f.props["feature"] == a.props["feature"]]
    assert [m.props["source"] for m in mine] == ["spec"] and mine[0].props["feasible"] is False


@pytest.mark.corpus
def test_pmi_nominal_of_an_inch_file_is_converted(corpus):
    from dfm import kernel
    from dfm.kernel.pmi import read_dimensions

    path = corpus / "nist_pmi" / "nist_ftc_07_asme1_ap242-e2.stp"
    loaded = kernel.load(path)
    dims = [d for d in read_dimensions(path, loaded.solids, 25.4) if d.kind == "diameter"]
    quarter = [d for d in dims if d.nominal_mm == pytest.approx(6.35)]
    assert quarter and quarter[0].plus_um == pytest.approx(76.2) and quarter[0].internal is True
    assert all(d.faces.get(1) for d in dims)
