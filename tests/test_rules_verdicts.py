"""The machinist's verdict on every example part (example_parts/verdicts.toml) against dfm's."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dfm import api

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "example_parts"
VERDICTS = tomllib.loads((EX / "verdicts.toml").read_text())["part"]


def test_every_example_part_has_a_verdict():
    assert {p.name for p in EX.glob("*.step")} <= {v["file"] for v in VERDICTS}


@pytest.mark.parametrize("entry", VERDICTS, ids=[f"{v['file']}-{v.get('spec', 'nospec')}" for v in VERDICTS])
def test_example_verdict(entry):
    spec = str(EX / entry["spec"]) if "spec" in entry else None
    result = api.analyze(EX / entry["file"], api.Options(spec=spec))
    assert result.status == "ok", result.error
    codes = {f.code for f in result.all_findings}
    summary = sorted(f"{f.severity.value} {f.code} {f.message}" for f in result.all_findings)
    assert result.verdict == entry["verdict"], (entry["why"], summary)
    assert set(entry["must"]) <= codes, summary
    assert not set(entry["must_not"]) & codes, summary
