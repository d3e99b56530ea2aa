"""Tooling: the cutter catalogue and the largest-usable-tool search (no OCP here).

``recommend(ctx)`` is the body-pipeline stage (after ``dfm.rules:judge``): it reads the
features, writes ``max_tool_diameter_mm``/``required_reach_mm`` dims and a ``tool`` prop on
each tooled feature, the body measurement ``max_tool_diameter_mm``, the part's tool set
(``ctx.tools``) and DFM6xx findings. Other stages (``dfm.cam``) call :func:`select_tools`
directly with the same catalogue to get the same tools.
"""

from __future__ import annotations

from typing import Any

from dfm.model import Measurement
from dfm.tooling.catalogue import Catalogue, Tool, catalogue_for, default_catalogue, load_catalogue
from dfm.tooling.rules import ToolingParams, ToolingRules, default_rules, load_rules
from dfm.tooling.select import FeatureTooling, ToolingResult, select_tools

__all__ = [
    "Catalogue", "FeatureTooling", "Tool", "ToolingParams", "ToolingResult", "ToolingRules",
    "catalogue_for", "default_catalogue", "default_rules", "load_catalogue", "load_rules",
    "recommend", "select_tools",
]


def recommend(ctx: Any) -> None:
    """Pipeline stage: choose tools for the body in ``ctx`` (a ``dfm.stages.BodyContext``).

    The catalogue is ``ctx.options.tools`` (``--tools FILE``) or the shipped one; a bad
    catalogue raises :class:`dfm.errors.RuleError`, which ``api.analyze`` reports.
    """
    cat = catalogue_for(getattr(ctx.options, "tools", None))
    result = select_tools(ctx.features, cat)
    ctx.features[:] = list(result.features)
    ctx.tools.extend(result.tools)
    ctx.findings.extend(result.findings)
    ctx.scratch["tooling"] = result
    if result.max_tool_diameter_mm is not None and result.limiting_feature is not None:
        lim = next(f for f in result.features if f.id == result.limiting_feature)
        ctx.measurements["max_tool_diameter_mm"] = Measurement(
            "max_tool_diameter_mm", result.max_tool_diameter_mm, tuple(lim.faces), lim.location_mm)
