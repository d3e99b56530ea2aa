"""The rule engine: load + validate rule files, registry, evaluate.

``judge(ctx)`` is the pipeline stage (``dfm/stages.py``) between the feature analysers and the
tooling. It resolves the run's settings (profiles, part spec, catalogue), adds the features
the spec calls out (threads) and the ``anodize_allowance`` features, then runs every enabled
rule and appends the findings.
"""

from __future__ import annotations

from pathlib import Path

from dfm import diagnostics
from dfm.errors import KernelError
from dfm.rules.engine import evaluate, spec_features
from dfm.rules.registry import Settings, resolve, shipped_rules
from dfm.rules.spec import Select, ToleranceSpec
from dfm.stages import BodyContext

#: The file's length unit in mm, for PMI nominal values (OCCT keeps them in the file's unit).
_UNIT_MM = {"mm": 1.0, "inch": 25.4, "m": 1000.0, "cm": 10.0, "foot": 304.8, "um": 0.001}

__all__ = ["judge", "resolve", "shipped_rules", "Settings"]


def settings_for(ctx: BodyContext) -> Settings:
    """The run's settings for this body (rule files, profiles and data tables are cached per process)."""
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
    added, notes = spec_features(settings, list(ctx.features), pmi_tolerances(ctx, settings), _faces(ctx, settings))
    ctx.features.extend(added)
    for note in settings.notes:
        kind, _, value = note.partition(":")
        if kind == "material-assumed":
            notes.append(diagnostics.finding(
                "material-assumed", f"No material was given (--material or the spec's material); the rules "
                f"used {value}."))
    ctx.findings.extend(notes)
    ctx.findings.extend(evaluate(settings.rules, list(ctx.features), settings))


def _faces(ctx: BodyContext, settings: Settings) -> object:
    """Per-face geometry for the sizes no feature lists (only when a finish or a tolerance needs it)."""
    if settings.vars.get("finish_kind") != "anodize" and not settings.spec.tolerances:
        return None
    from dfm.kernel.geom import geometry

    return geometry(ctx.solid).faces


def pmi_tolerances(ctx: BodyContext, settings: Settings) -> list[ToleranceSpec]:
    """Toleranced diameters from the file's AP242 PMI, as spec-like entries (``source = "pmi"``).

    Read only when they are used (an anodize finish) and the file declares AP242.
    """
    if settings.vars.get("finish_kind") != "anodize":
        return []
    path = ctx.scratch.get("path")
    if not path or Path(path).suffix.lower() not in (".step", ".stp"):
        return []
    with open(path, "rb") as fh:
        if b"AP242" not in fh.read(8192).upper():
            return []
    from dfm.kernel.pmi import read_dimensions

    try:
        dims = read_dimensions(path, [ctx.solid], _UNIT_MM.get(ctx.source_units, 1.0))
    except KernelError:
        return []  # the geometry was read; a PMI section OCCT cannot read only loses the PMI
    out = []
    for d in dims:
        faces = d.faces.get(ctx.solid.index)
        if d.kind != "diameter" or not faces or d.internal is None:
            continue
        out.append(ToleranceSpec(Select(faces=faces), d.plus_um, d.minus_um, "bore" if d.internal else "shaft",
                                 d.nominal_mm, source="pmi"))
    return out
