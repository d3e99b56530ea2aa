"""Every rule against the test cases written beside it in rules/micro-milling/*.toml.

Synthetic cases (features = [...]) run the engine on feature dicts that follow
docs/features.md; part cases (part = {generator = ...}) build the generator part, export it to
STEP and run the whole pipeline through dfm.api.analyze.
"""

from __future__ import annotations

import json

import pytest

from dfm import api
from dfm.rules.cases import run_synthetic
from dfm.rules.registry import shipped_rules
from dfm.rules.spec import dumps

CASES = [(rule, i, case) for rule in shipped_rules() for i, case in enumerate(rule.cases)]


def _id(item) -> str:
    rule, i, case = item
    return f"{rule.code}-{i}-{'part' if case.part else 'synthetic'}-{case.expect.value if case.expect else 'none'}"


def test_every_rule_has_cases_both_ways():
    for rule in shipped_rules():
        expects = {c.expect is None for c in rule.cases}
        assert expects == {True, False}, f"{rule.code} needs cases that must and must not trigger it"


@pytest.mark.parametrize("item", CASES, ids=[_id(c) for c in CASES])
def test_rule_case(item, make_part, tmp_path):
    rule, _i, case = item
    if case.part is None:
        got, findings = run_synthetic(rule, case)
    else:
        args = dict(case.part.get("args", {}))
        name = case.part["generator"] + "-" + "-".join(f"{k}{v}" for k, v in sorted(args.items()))
        path = make_part(name, case.part["generator"], **args)
        opts = dict(case.options)
        spec = None
        if "spec" in opts:
            spec = tmp_path / "case.dfm.toml"
            spec.write_text(dumps(opts.pop("spec")))
        result = api.analyze(path, api.Options(
            spec=str(spec) if spec else None, material=opts.get("material"), finish=opts.get("finish"),
            extra={"machine": opts["machine"]} if "machine" in opts else {},
        ))
        assert result.status == "ok", result.error
        findings = list(result.all_findings)
        sev = [f.severity for f in findings if f.code == rule.code]
        got = min(sev, key=lambda s: s.rank) if sev else None
    shown = json.dumps([f.message for f in findings if f.code == rule.code], ensure_ascii=False)
    assert got == case.expect, f"{rule.code} ({case.note}): expected {case.expect}, got {got}: {shown}"
