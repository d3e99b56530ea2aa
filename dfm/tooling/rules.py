"""The DFM6xx rule data (``rules/tooling.toml``): tooling parameters and finding definitions."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dfm.errors import RuleError
from dfm.model import Finding, Severity, Vec3
from dfm.resources import rules_dir

_UNITS = {"mm": 1.0, "um": 0.001, "µm": 0.001, "ratio": 1.0, "": 1.0}
_VALUE = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*([a-zµ]*)\s*$")


@dataclass(frozen=True)
class ToolingParams:
    """The numbers the tool search uses (mm, or a plain ratio).

    Attributes:
        corner_clearance_ratio: A corner of radius R takes tools of radius <= R / ratio; a
            width w takes tools of diameter <= w / ratio.
        reach_clearance_mm: Reach a tool needs beyond the depth.
        drill_diameter_match_mm: A drill matches a hole within this.
        breakthrough_mm: How far below the part a through feature is cut (the tool must
            reach this too; ``dfm gcode`` cuts to it).
        thread_clearance_mm: A thread mill's clearance to the bore, the floor and the crests.
        finish_allowance_mm: What the milling program's roughing leaves on walls and floors
            (``[cam] finish_allowance_mm`` of dfm/cam/settings.toml, read by :func:`load_rules`): a
            tool passes between an island and a wall when its diameter plus twice this fits the gap.

    """

    corner_clearance_ratio: float = 1.2
    reach_clearance_mm: float = 0.0
    drill_diameter_match_mm: float = 0.0005
    breakthrough_mm: float = 0.05
    thread_clearance_mm: float = 0.01
    finish_allowance_mm: float = 0.02


@dataclass(frozen=True)
class ToolingRule:
    """One DFM6xx definition."""

    code: str
    name: str
    severity: Severity
    summary: str
    why: str
    fix: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolingRules:
    """Everything ``rules/tooling.toml`` holds."""

    params: ToolingParams
    rules: Mapping[str, ToolingRule]
    parameter_sources: Mapping[str, str]

    def finding(
        self,
        name: str,
        message: str,
        *,
        fix: str | None = None,
        value: float | None = None,
        limit: float | None = None,
        unit: str = "",
        faces: tuple[int, ...] = (),
        location_mm: Vec3 | None = None,
        feature: str | None = None,
    ) -> Finding:
        """Build a finding for rule ``name``; ``fix`` replaces the generic fix with a concrete one."""
        rule = self.rules[name]
        return Finding(
            code=rule.code, name=rule.name, severity=rule.severity, message=message, value=value,
            limit=limit, unit=unit, faces=faces, location_mm=location_mm, feature=feature,
            why=rule.why, fix=fix or rule.fix,
        )


def parse_quantity(path: Path, key: str, text: Any, unit: str) -> float:
    """``"0.2 mm"`` / ``"20 um"`` / ``"1.2"`` → a float in mm (or the plain ratio)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        raise RuleError(path, key, f"must be a string like '0.2 mm', got {text!r}")
    m = _VALUE.match(text)
    if not m:
        raise RuleError(path, key, f"cannot read {text!r} as a number with a unit")
    number, u = float(m.group(1)), m.group(2)
    if u not in _UNITS:
        raise RuleError(path, key, f"unknown unit {u!r} (use mm, um or none)")
    if unit == "ratio" and u not in ("", "ratio"):
        raise RuleError(path, key, f"is a ratio; got a length {text!r}")
    if unit == "mm" and u in ("", "ratio"):
        raise RuleError(path, key, f"is a length; give a unit, e.g. '{number} mm'")
    return number * _UNITS[u]


def load_rules(path: str | Path) -> ToolingRules:
    """Read and validate a tooling rule file.

    Raises:
        RuleError: The file or one of its keys is wrong (names the file, key and reason).

    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as err:
        raise RuleError(p, "", f"cannot be read: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise RuleError(p, "", f"not valid TOML: {err}") from err
    raw_params = data.get("parameters", {})
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    field_of = {"corner_clearance_ratio": ("corner_clearance_ratio", "ratio"),
                "reach_clearance": ("reach_clearance_mm", "mm"),
                "drill_diameter_match": ("drill_diameter_match_mm", "mm"),
                "breakthrough": ("breakthrough_mm", "mm"),
                "thread_clearance": ("thread_clearance_mm", "mm")}
    for name, row in raw_params.items():
        key = f"parameters.{name}"
        if name not in field_of:
            raise RuleError(p, key, f"unknown parameter (known: {', '.join(sorted(field_of))})")
        if not isinstance(row, Mapping) or "value" not in row or not str(row.get("source", "")).strip():
            raise RuleError(p, key, "needs a value and a source")
        attr, unit = field_of[name]
        if row.get("unit", unit) != unit:
            raise RuleError(p, f"{key}.unit", f"must be {unit!r}")
        v = parse_quantity(p, f"{key}.value", row["value"], unit)
        if v < 0 or (unit == "ratio" and v < 1.0):
            raise RuleError(p, f"{key}.value", f"out of range: {row['value']!r}")
        values[attr] = v
        sources[name] = str(row["source"])
    rules: dict[str, ToolingRule] = {}
    codes: set[str] = set()
    for i, row in enumerate(data.get("rule", [])):
        try:
            rule = ToolingRule(
                code=row["code"], name=row["name"], severity=Severity(row["severity"]),
                summary=row["summary"], why=row["why"], fix=row["fix"],
                parameters=tuple(row.get("parameters", ())),
            )
        except (KeyError, ValueError, TypeError) as err:
            raise RuleError(p, f"rule[{i}]", f"bad tooling rule: {err}") from err
        if not re.fullmatch(r"DFM6\d\d", rule.code):
            raise RuleError(p, f"rule[{i}].code", f"tooling codes are DFM6xx, got {rule.code!r}")
        if rule.code in codes or rule.name in rules:
            raise RuleError(p, f"rule[{i}]", f"duplicate code or name {rule.code} {rule.name}")
        for par in rule.parameters:
            if par not in field_of:
                raise RuleError(p, f"rule[{i}].parameters", f"unknown parameter {par!r}")
        codes.add(rule.code)
        rules[rule.name] = rule
    values["finish_allowance_mm"] = cam_finish_allowance()  # the program's setting, not a tooling.toml parameter
    return ToolingRules(ToolingParams(**values), rules, sources)


#: The milling program's shipped settings: the one place the finishing allowance is set.
CAM_SETTINGS = Path(__file__).resolve().parents[1] / "cam" / "settings.toml"


@functools.cache
def cam_finish_allowance() -> float:
    """``[cam] finish_allowance_mm`` of the shipped CAM settings (``CAM_SETTINGS``).

    Read as data (no import of ``dfm.cam``, which sits above this layer), so that the gap tool
    the search picks is the one the program's rule picks: a tool passes between an island and
    a wall when its diameter plus twice the allowance the roughing left fits the gap.

    Raises:
        RuleError: The file cannot be read or holds no such number.
    """
    key = "cam.finish_allowance_mm"
    try:
        raw = tomllib.loads(CAM_SETTINGS.read_text(encoding="utf-8"))["cam"]["finish_allowance_mm"]
        value = float(raw)
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as err:
        raise RuleError(CAM_SETTINGS, key, f"missing or not a number ({err})") from err
    if value < 0:
        raise RuleError(CAM_SETTINGS, key, f"out of range: {raw!r}")
    return value


@functools.cache
def default_rules() -> ToolingRules:
    """Return the shipped ``rules/tooling.toml`` (read once per process)."""
    return load_rules(rules_dir() / "tooling.toml")
