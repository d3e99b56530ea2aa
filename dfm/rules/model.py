"""The rule engine's own data: rules, bands, cases, profiles (frozen, no OCP)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dfm.model import Severity
from dfm.rules.expr import Expr

#: Rule families by the hundreds digit of the code.
FAMILIES: dict[str, str] = {
    "1": "walls",
    "2": "corners",
    "3": "pockets and slots",
    "4": "holes and threads",
    "5": "finish and anodize",
    "6": "tooling and reach (dfm.tooling)",
    "7": "micro-cutting physics",
    "9": "input and geometry",
}

#: Comparison kinds: the value is bad when it is below / above a band's limit; ``present``
#: rules fire on every feature their ``where`` selects.
COMPARES = ("below", "above", "present")


@dataclass(frozen=True)
class Band:
    """One severity band: ``severity`` when the value is beyond ``limit``."""

    severity: Severity
    limit: Expr | None = None


@dataclass(frozen=True)
class Case:
    """A test case beside a rule: a part or synthetic features, and the expected outcome.

    Attributes:
        expect: The worst severity the rule must report, or ``None`` for "must not trigger".
        features: Synthetic features (``kind``, ``dims``, ``props``, ``id``, ``faces``).
        part: A generator part: ``{"generator": name, "args": {...}}``.
        options: Run settings: ``material``, ``finish``, ``machine``, ``spec`` (a spec table).
        note: What the case shows.

    """

    expect: Severity | None
    features: tuple[Mapping[str, Any], ...] = ()
    part: Mapping[str, Any] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """A rule as data (see ``docs/rules.md`` for the file format).

    Attributes:
        code: Stable code (``DFM101``), never reused.
        name: Kebab-case name (``thin-wall``).
        title: One-line summary.
        reads: Feature kinds it judges (``wall``...), or ``part`` for the run as a whole.
        measure: What measurement it reads, for people (``wall thickness_mm``).
        where: Feature filter (expression), or None.
        when: Run-context filter (expression), or None.
        value: Expression of the measured value (base units), None for ``present`` rules.
        compare: ``below`` | ``above`` | ``present``.
        unit: Display unit of value and limits (``mm``, ``um``, ``ratio``, ``rpm``, ``%``...).
        bands: Severity bands, worst first.
        params: Parameter values (base units) by name.
        message: Message template (``{value}``, ``{limit}``, ``{unit}``, any env name).
        why: Why this is bad to make.
        fix: What to change.
        references: Sources of the numbers.
        cases: Test cases beside the rule.
        path: The file it came from.
        enabled: False when a profile turned it off.

    """

    code: str
    name: str
    title: str
    reads: tuple[str, ...]
    measure: str
    where: Expr | None
    when: Expr | None
    value: Expr | None
    compare: str
    unit: str
    bands: tuple[Band, ...]
    params: Mapping[str, float]
    message: str
    why: str
    fix: str
    references: tuple[str, ...] = ()
    cases: tuple[Case, ...] = ()
    path: str = ""
    enabled: bool = True

    @property
    def family(self) -> str:
        """The family name from the code's hundreds digit."""
        return FAMILIES.get(self.code[3:4], "other")

    @property
    def severity(self) -> Severity:
        """The worst severity the rule can report."""
        return self.bands[0].severity


@dataclass(frozen=True)
class Profile:
    """A profile: a named set of context variables and rule tuning.

    Attributes:
        kind: ``process`` | ``material`` | ``finish`` | ``machine`` | ``user``.
        name: Profile name (``6061-T6``, ``anodize-ii``).
        title: One-line description.
        aliases: Other names that select it (case-insensitive).
        data: Name of the row in ``rules/data/materials.toml`` / ``finishes.toml`` it reads.
        vars: Context variables (base units) by name; string-valued facts too.
        tune: Per-rule tuning by code or name: ``enabled``, ``severity``, ``params``.
        defaults: (process) default ``material``/``finish``/``machine`` profile names.
        rule_globs: (process) rule files to load, relative to ``rules/``.
        rules: Rules the profile file itself defines (user files).
        references: Sources of the numbers.
        path: The file it came from.

    """

    kind: str
    name: str
    title: str = ""
    aliases: tuple[str, ...] = ()
    data: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    tune: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    rule_globs: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    references: tuple[str, ...] = ()
    path: str = ""
