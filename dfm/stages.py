"""The per-body pipeline: measure, judge, choose tools.

Each stage is a function ``stage(ctx)`` that reads what earlier stages left on the
:class:`BodyContext` and adds its own results. ``api.analyze`` runs them in order; the
order is the data flow of STYLE.md (features → rules → tooling).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dfm.model import Feature, Finding, Measurement, ToolChoice


@dataclass
class BodyContext:
    """Mutable working state of one body while the stages run.

    Attributes:
        solid: The kernel solid (``dfm.kernel.Solid``), opaque to non-kernel code except
            through the kernel's helpers.
        options: The ``api.Options`` of the run.
        source_units: The unit the file declared.
        measurements: Named measurements, filled by the feature analysers.
        features: Recognised features.
        findings: Judgements of the rules.
        tools: Recommended tools.
        scratch: Data one stage hands to a later one (not part of the result).
    """

    solid: Any
    options: Any
    source_units: str = "mm"
    measurements: dict[str, Measurement] = field(default_factory=dict)
    features: list[Feature] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tools: list[ToolChoice] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)


Stage = Callable[[BodyContext], None]

#: Stages in data-flow order, as "module:function". A stage whose module is not present
#: yet is skipped, so the pipeline grows as the packages land.
STAGES: tuple[str, ...] = (
    "dfm.features:analyse",
    "dfm.rules:judge",
    "dfm.tooling:recommend",
)


def body_stages() -> list[Stage]:
    """The stage functions that exist in this installation, in order."""
    out: list[Stage] = []
    for spec in STAGES:
        mod_name, fn_name = spec.split(":")
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as err:
            if err.name == mod_name:
                continue
            raise
        fn = getattr(mod, fn_name, None)
        if fn is not None:
            out.append(fn)
    return out
