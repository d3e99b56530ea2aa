"""Run the test cases that sit beside each rule (synthetic features; parts run in the tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dfm.model import Feature, Finding, Severity
from dfm.rules.engine import evaluate, spec_features, worst
from dfm.rules.model import Case, Rule
from dfm.rules.registry import resolve


class CaseOptions:
    """The subset of ``api.Options`` a case sets (material, finish, machine)."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.spec = None
        self.profile = opts.get("profile")
        self.material = opts.get("material")
        self.finish = opts.get("finish")
        self.tools = opts.get("tools")
        self.extra = {"machine": opts["machine"]} if "machine" in opts else {}


def case_features(case: Case) -> list[Feature]:
    """The synthetic features of a case as :class:`Feature` objects (ids default to kind-n)."""
    out = []
    counts: dict[str, int] = {}
    for raw in case.features:
        kind = str(raw["kind"])
        counts[kind] = counts.get(kind, 0) + 1
        out.append(Feature(
            id=str(raw.get("id", f"{kind}-{counts[kind]}")), kind=kind, faces=tuple(raw.get("faces", ())),
            dims={k: float(v) for k, v in dict(raw.get("dims", {})).items()}, props=dict(raw.get("props", {})),
        ))
    return out


def run_synthetic(rule: Rule, case: Case) -> tuple[Severity | None, list[Finding]]:
    """Judge a synthetic case; returns the worst severity of ``rule`` and all findings."""
    opts = dict(case.options)
    spec = opts.pop("spec", None)
    settings = resolve(CaseOptions(opts), None, spec_data=spec if spec is not None else {})
    feats = case_features(case)
    added, _ = spec_features(settings, feats)
    findings = evaluate(settings.rules, feats + added, settings)
    return worst(findings, rule.code), findings
