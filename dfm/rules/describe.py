"""One text for a rule, shared by ``dfm rule CODE``, ``dfm rules`` and docs/rules.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dfm import diagnostics
from dfm.rules.expr import Missing
from dfm.rules.model import Rule
from dfm.rules.units import fmt, to_display


def band_lines(rule: Rule, env: Mapping[str, Any] | None = None) -> list[str]:
    """``error when value < wall_feasible_mm (0.5 mm)`` for each band."""
    if rule.compare == "present":
        return [f"{rule.severity.value} whenever it applies"]
    op = "<" if rule.compare == "below" else ">"
    out = []
    for b in rule.bands:
        assert b.limit is not None
        text = f"{b.severity.value} when {rule.value.text if rule.value else 'value'} {op} {b.limit.text}"
        if env is not None:
            try:
                lim = float(b.limit({**env, **rule.params}))
                unit = "" if rule.unit == "ratio" else f" {rule.unit}"
                text += f" (= {fmt(to_display(lim, rule.unit))}{unit})"
            except (Missing, TypeError, ZeroDivisionError):
                text += " (depends on the feature)"
        out.append(text)
    return out


def rule_record(rule: Rule) -> dict[str, Any]:
    """The JSON record of ``dfm rules --format json``."""
    return {
        "code": rule.code, "name": rule.name, "severity": rule.severity.value, "title": rule.title,
        "family": rule.family, "reads": list(rule.reads), "measure": rule.measure, "why": rule.why, "fix": rule.fix,
        "params": {k: v for k, v in sorted(rule.params.items())}, "references": list(rule.references),
        "bands": [{"severity": b.severity.value, "limit": b.limit.text if b.limit else None} for b in rule.bands],
        "file": rule.path.split("/rules/")[-1] if "/rules/" in rule.path else rule.path,
    }


def input_records() -> list[dict[str, Any]]:
    """DFM9xx input diagnostics (rules/input.toml) in the same shape."""
    return [
        {"code": d.code, "name": d.name, "severity": d.severity.value, "title": d.summary,
         "family": "input and geometry", "reads": ["file"], "measure": "", "why": d.why, "fix": d.fix,
         "params": {}, "references": [],
         "bands": [{"severity": d.severity.value, "limit": None}], "file": "input.toml"}
        for d in sorted(diagnostics.diagnostics().values(), key=lambda d: d.code)
    ]


def explain(rule: Rule, env: Mapping[str, Any] | None = None, *, markdown: bool = False) -> str:
    """A rule explained: what it reads, its bands, why, fix, references, cases."""
    h = "### " if markdown else ""
    lines = [f"{h}{rule.code} {rule.name}: {rule.title}", ""]
    lines.append(f"- Family: {rule.family}; reads: {', '.join(rule.reads)}"
                 + (f" ({rule.measure})" if rule.measure else ""))
    if rule.where is not None:
        lines.append(f"- Applies where: `{rule.where.text}`" if markdown else f"- Applies where: {rule.where.text}")
    if rule.when is not None:
        lines.append(f"- Applies when: `{rule.when.text}`" if markdown else f"- Applies when: {rule.when.text}")
    if rule.params:
        ps = ", ".join(f"{k} = {fmt(v)}" for k, v in sorted(rule.params.items()))
        lines.append(f"- Parameters (mm, ratios): {ps}")
    for b in band_lines(rule, env):
        lines.append(f"- Severity: {b}")
    lines += ["", f"**Why:** {rule.why}" if markdown else f"Why: {rule.why}", "",
              f"**Fix:** {rule.fix}" if markdown else f"Fix: {rule.fix}", ""]
    lines.append("References:" if not markdown else "**References:**")
    lines += [f"- {r}" for r in rule.references]
    if rule.cases:
        lines += ["", "Cases:" if not markdown else "**Cases** (run by tests/test_rules_cases.py):"]
        for c in rule.cases:
            what = f"part {c.part['generator']}{dict(c.part.get('args', {})) or ''}" if c.part else "synthetic features"
            opts = f" with {dict(c.options)}" if c.options else ""
            exp = f"must report {c.expect.value}" if c.expect else "must not trigger"
            note = f" — {c.note}" if c.note else ""
            lines.append(f"- {what}{opts}: {exp}{note}")
    return "\n".join(lines) + "\n"
