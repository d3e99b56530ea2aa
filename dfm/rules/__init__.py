"""The rule engine: load + validate rule files, registry, evaluate.

``judge(ctx)`` is the pipeline stage (``dfm/stages.py``) between the feature analysers and the
tooling. It resolves the run's settings (profiles, part spec, catalogue), adds the features
the spec calls out (threads) and the ``anodize_allowance`` features, then runs every enabled
rule and appends the findings.
"""

from __future__ import annotations

from dfm import diagnostics
from dfm.rules.engine import evaluate, spec_features
from dfm.rules.registry import Settings, resolve, shipped_rules
from dfm.stages import BodyContext

__all__ = ["judge", "resolve", "shipped_rules", "Settings"]


def settings_for(ctx: BodyContext) -> Settings:
    """The run's settings, resolved once per file and shared by its bodies."""
    cached = ctx.scratch.get("rules_settings")
    if cached is None:
        cached = resolve(ctx.options, ctx.scratch.get("path"))
        ctx.scratch["rules_settings"] = cached
    return cached


def judge(ctx: BodyContext) -> None:
    """Pipeline stage: judge the body's features with the rules.

    Raises:
        dfm.errors.RuleError: A rule, profile or spec file is bad (``api.analyze`` turns it into
            an error result, exit code 2).

    """
    settings = settings_for(ctx)
    added, notes = spec_features(settings, list(ctx.features))
    ctx.features.extend(added)
    for note in settings.notes:
        kind, _, value = note.partition(":")
        if kind == "material-assumed":
            notes.append(diagnostics.finding(
                "material-assumed", f"No material was given (--material or the spec's material); the rules "
                f"used {value}."))
    ctx.findings.extend(notes)
    ctx.findings.extend(evaluate(settings.rules, list(ctx.features), settings))
