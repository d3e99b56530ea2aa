"""The tool catalogue files (rules/tools) and the DFM6xx rule data (rules/tooling.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dfm.errors import RuleError
from dfm.tooling import catalogue_for, default_catalogue, default_rules, load_catalogue, load_rules
from dfm.tooling.catalogue import shipped_catalogue_files

CRIB = """
[[series]]
id = "crib-square"
vendor = "mixed"
name = "Square end mills on the micro rack"
kind = "square"
source = "shop tool crib, measured"

[[series.tool]]
id = "T12"
diameter_mm = 0.5
flute_length_mm = 0.75
reach_mm = 3.0
neck_diameter_mm = 0.47
shank_diameter_mm = 3.0
overall_length_mm = 38.0
corner_radius_mm = 0.0
"""


def test_shipped_catalogue_loads_with_sources():
    cat = default_catalogue()
    files = shipped_catalogue_files()
    assert files and len(cat.files) == len(files)
    raw_count = 0
    for f in files:
        data = tomllib.loads(f.read_text())
        for s in data["series"]:
            assert s["source"].strip()
            raw_count += len(s["tool"])
    assert len(cat.tools) == raw_count
    assert len({t.id for t in cat.tools}) == len(cat.tools)
    for t in cat.tools:
        assert 0.05 <= t.diameter_mm <= 3.0 + 1e-9
        assert t.usable_reach_mm is not None, t.id  # every shipped tool can be checked for depth
        assert t.source


def test_shipped_series_are_sorted_as_the_readme_says():
    for f in shipped_catalogue_files():
        for s in tomllib.loads(f.read_text())["series"]:
            keys = [(t["diameter_mm"], t.get("reach_mm", t.get("flute_length_mm", 0.0))) for t in s["tool"]]
            assert keys == sorted(keys) and len(set(keys)) == len(keys), (f.name, s["id"])


def test_user_crib_replaces_the_shipped_catalogue(tmp_path: Path):
    crib = tmp_path / "crib.toml"
    crib.write_text(CRIB)
    cat = catalogue_for(crib)
    (t,) = cat.tools
    assert t.id == "T12" and t.reach_mm == 3.0 and t.shank_diameter_mm == 3.0 and t.neck_diameter_mm == 0.47
    assert t.flutes is None  # not given: unknown, never 0
    assert catalogue_for(None) is default_catalogue()
    folder = tmp_path / "crib"
    folder.mkdir()
    (folder / "a.toml").write_text(CRIB)
    assert [t.id for t in catalogue_for(folder).tools] == ["T12"]


@pytest.mark.parametrize("edit,key,reason", [
    (("diameter_mm = 0.5", "diamter_mm = 0.5"), "diamter_mm", "unknown field"),
    (("corner_radius_mm = 0.0", "corner_radius_mm = 0.1"), "corner_radius_mm", "square end mill"),
    (("neck_diameter_mm = 0.47", "neck_diameter_mm = 0.6"), "neck_diameter_mm", "wider than the cutter"),
    (("flute_length_mm = 0.75", "flute_length_mm = 4.0"), "flute_length_mm", "exceeds the reach"),
    (('source = "shop tool crib, measured"', 'source = " "'), "source", "every series needs a source"),
    (('kind = "square"', 'kind = "saw"'), "kind", "must be one of"),
    (("diameter_mm = 0.5", "diameter_mm = -0.5"), "diameter_mm", "must be > 0"),
    (("diameter_mm = 0.5", 'diameter_mm = "0.5"'), "diameter_mm", "must be a number"),
    (("corner_radius_mm = 0.0", ""), "corner_radius_mm", "required for square"),
])
def test_bad_catalogue_fails_loudly_with_file_key_and_reason(tmp_path: Path, edit, key, reason):
    bad = tmp_path / "bad.toml"
    bad.write_text(CRIB.replace(*edit))
    with pytest.raises(RuleError) as err:
        load_catalogue([bad])
    msg = str(err.value)
    assert str(bad) in msg and key in msg and reason in msg
    assert "\n" not in msg


def test_ball_radius_must_be_half_the_diameter(tmp_path: Path):
    bad = tmp_path / "ball.toml"
    bad.write_text(CRIB.replace('kind = "square"', 'kind = "ball"').replace("corner_radius_mm = 0.0",
                                                                            "corner_radius_mm = 0.2"))
    with pytest.raises(RuleError, match="ball end mill has corner radius D/2"):
        load_catalogue([bad])
    bad.write_text(bad.read_text().replace("corner_radius_mm = 0.2", "corner_radius_mm = 0.25"))
    assert load_catalogue([bad]).tools[0].kind == "ball"


def test_duplicate_ids_missing_and_broken_files(tmp_path: Path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(CRIB)
    b.write_text(CRIB.replace('id = "crib-square"', 'id = "other"'))
    with pytest.raises(RuleError, match="duplicate tool id"):
        load_catalogue([a, b])
    with pytest.raises(RuleError, match="tool catalogue not found"):
        load_catalogue([tmp_path / "nope.toml"])
    broken = tmp_path / "broken.toml"
    broken.write_text("[[series]\nid=")
    with pytest.raises(RuleError, match="not valid TOML"):
        load_catalogue([broken])
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(RuleError, match=r"no \[\[series\]\]"):
        load_catalogue([empty])


def test_tooling_rules_file():
    rules = default_rules()
    assert rules.params.corner_clearance_ratio == pytest.approx(1.2)
    assert rules.params.reach_clearance_mm == pytest.approx(0.0)
    codes = [r.code for r in rules.rules.values()]
    assert len(set(codes)) == len(codes) and all(c.startswith("DFM6") for c in codes)
    for r in rules.rules.values():
        assert r.why and r.fix and r.summary
    assert all(s.strip() for s in rules.parameter_sources.values())
    assert set(rules.parameter_sources) == {"corner_clearance_ratio", "reach_clearance", "drill_diameter_match",
                                            "breakthrough", "thread_clearance"}
    assert rules.params.breakthrough_mm == 0.05


@pytest.mark.parametrize("text,match", [
    ('[parameters.reach_clearance]\nvalue = "0.2"\nunit = "mm"\nsource = "x"\n', "is a length"),
    ('[parameters.reach_clearance]\nvalue = "0.2 furlong"\nunit = "mm"\nsource = "x"\n', "cannot read|unknown unit"),
    ('[parameters.corner_clearance_ratio]\nvalue = "0.8"\nunit = "ratio"\nsource = "x"\n', "out of range"),
    ('[parameters.corner_clearance_ratio]\nvalue = "1.2"\nunit = "ratio"\n', "needs a value and a source"),
    ('[parameters.stepover]\nvalue = "1"\nsource = "x"\n', "unknown parameter"),
    ('[[rule]]\ncode = "DFM101"\nname = "x"\nseverity = "error"\nsummary = "s"\nwhy = "w"\nfix = "f"\n',
     "tooling codes are DFM6xx"),
])
def test_bad_tooling_rules_fail_loudly(tmp_path: Path, text, match):
    p = tmp_path / "tooling.toml"
    p.write_text(text)
    with pytest.raises(RuleError, match=match):
        load_rules(p)


def test_reach_clearance_in_micrometres(tmp_path: Path):
    p = tmp_path / "tooling.toml"
    p.write_text('[parameters.reach_clearance]\nvalue = "50 um"\nunit = "mm"\nsource = "shop"\n')
    assert load_rules(p).params.reach_clearance_mm == pytest.approx(0.05)


def test_empty_tools_folder_is_an_error(tmp_path: Path):
    with pytest.raises(RuleError, match="holds no .toml file"):
        catalogue_for(tmp_path)
