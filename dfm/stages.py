"""The per-body pipeline: measure, judge, choose tools.

Each stage is a function ``stage(ctx)`` that reads what earlier stages left on the
:class:`BodyContext` and adds its own results. ``api.analyze`` runs them in order; the
order is the data flow of STYLE.md (features → rules → tooling).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

#: Stages in data-flow order, as "module:function".
STAGES: tuple[str, ...] = (
    "dfm.features:analyse",
    "dfm.rules:judge",
    "dfm.tooling:recommend",
)


def body_stages() -> list[Stage]:
    """The stage functions, in order."""
    out: list[Stage] = []
    for spec in STAGES:
        mod_name, fn_name = spec.split(":")
        out.append(getattr(importlib.import_module(mod_name), fn_name))
    return out


#: Seconds spent per step of the analyses since a benchmark set it to ``{}`` (None: not timed).
#: Steps are named ``load``, ``check``, ``features``, ``features.holes``... (see :func:`timed`).
clock: dict[str, float] | None = None


#: CPU seconds of this process per step, kept beside :data:`clock` when a benchmark sets both.
cpu_clock: dict[str, float] | None = None


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the seconds the block takes to ``clock[name]`` when the clock is on (a benchmark's switch)."""
    if clock is None:
        yield
        return
    t, c = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        if clock is not None:
            clock[name] = clock.get(name, 0.0) + time.perf_counter() - t
        if cpu_clock is not None:
            cpu_clock[name] = cpu_clock.get(name, 0.0) + time.process_time() - c
