"""Load and validate rule and profile files (TOML, read with ``tomllib``).

A bad file fails loudly: :class:`dfm.errors.RuleError` names the file, the key and the
reason (``rules/x.toml: rule[3].bands: bands are not monotonic: ...``).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dfm.errors import RuleError
from dfm.model import Severity
from dfm.rules.expr import Expr, ExprError, Missing, compile_expr
from dfm.rules.model import COMPARES, Band, Case, Profile, Rule
from dfm.rules.units import DISPLAY, parse_quantity

CODE_RE = re.compile(r"^DFM[1-8]\d\d$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

#: What each feature kind offers to rule expressions: docs/features.md dims and props, plus
#: the names the engine derives (dfm/rules/engine.py ``feature_env``).
KIND_NAMES: dict[str, frozenset[str]] = {
    "wall": frozenset({"thickness_mm", "height_mm", "height_thickness_ratio", "approach", "faces_pair"}),
    "corner": frozenset({"radius_mm", "length_mm", "depth_mm", "orientation", "approach", "tool_d_mm",
                         "floor_tool_gap_mm", "depth_radius_ratio", "angle_deg"}),
    "pocket": frozenset({"width_mm", "length_mm", "depth_mm", "min_corner_radius_mm", "floor_radius_mm",
                         "depth_width_ratio", "depth_radius_ratio", "approach", "open", "through", "floor",
                         "floor_z_mm", "top_z_mm", "tool_d_mm", "tilt_deg", "setup", "shape", "floor_seen",
                         "min_gap_mm", "draft_deg", "v_angle_deg"}),
    "hole": frozenset({"diameter_mm", "depth_mm", "depth_diameter_ratio", "point_angle_deg", "total_depth_mm",
                       "through", "bottom", "approach", "candidate_thread", "nearest_drill_mm", "drill_gap_mm",
                       "threaded", "candidate_major_mm", "candidate_system", "candidate_series", "tilt_deg"}),
    "thread": frozenset({"major_diameter_mm", "minor_diameter_mm", "pitch_mm", "pitch_diameter_mm", "length_mm",
                         "designation", "internal", "source", "hole", "in_table", "minor_min_mm", "minor_max_mm",
                         "pd_tolerance_um", "hole_diameter_mm", "hole_depth_mm", "hole_through",
                         "length_diameter_ratio"}),
    "anodize_allowance": frozenset({"finished_mm", "premachine_min_mm", "premachine_max_mm", "growth_min_um",
                                    "growth_max_um", "tolerance_band_um", "size_change_min_um",
                                    "size_change_max_um", "size_change_range_um", "plus_um", "minus_um",
                                    "target", "feasible", "masked", "source", "feature", "designation",
                                    "window", "action", "explicit", "toleranced", "size", "count", "features",
                                    "select"}),
    "undercut": frozenset({"height_mm", "angle_deg", "profile", "cutter", "approach", "opens_into"}),
    "unrecognised": frozenset({"area_mm2", "size_mm", "surfaces", "faces_text"}),
    "spec_item": frozenset({"section", "select", "matched"}),
    "part": frozenset(),
}
KIND_NAMES["slot"] = KIND_NAMES["pocket"]
KIND_NAMES["step"] = KIND_NAMES["pocket"]

#: Names every rule may read: the run's context (profiles, spec, catalogues).
CONTEXT_NAMES: frozenset[str] = frozenset({
    "id", "kind", "faces_count",
    # material (rules/data/materials.toml via a material profile)
    "material", "material_class", "wall_class", "material_assumed", "wall_recommended_mm", "wall_feasible_mm",
    "vc_min_m_min", "vc_max_m_min", "fz_per_d_min", "fz_per_d_max", "hmin_over_redge_min",
    "hmin_over_redge_max", "thread_engagement_min_d",
    # finish (rules/data/finishes.toml via a finish profile, overridden by the spec)
    "finish", "finish_kind", "finish_type", "film_min_um", "film_max_um", "growth_fraction",
    "std_film_min_um", "std_film_max_um", "finish_applies", "penetration_max_um",
    # machine
    "machine", "max_rpm", "runout_mm", "edge_radius_mm", "machine_axes",
    # catalogues
    "min_mill_d_mm", "min_drill_series_mm", "min_drill_any_mm", "max_drill_any_mm",
    # process
    "process",
})

_RULE_KEYS = {"code", "name", "title", "reads", "measure", "where", "when", "value", "compare", "unit", "bands",
              "severity", "params", "message", "why", "fix", "references", "case"}
_CASE_KEYS = {"expect", "features", "part", "options", "note"}
_PROFILE_KEYS = {"kind", "name", "title", "aliases", "data", "vars", "tune", "defaults", "rules", "rule",
                 "references", "schema_version", "sources", "note"}
PROFILE_KINDS = ("process", "material", "finish", "machine", "user")

_VAR_SUFFIX = {"_mm": ("length", 1.0), "_um": ("length", 1000.0), "_rpm": ("speed", 1.0),
               "_m_min": ("velocity", 1.0), "_deg": ("angle", 1.0)}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a missing or malformed file raises RuleError."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise RuleError(path, "", "file not found") from None
    except OSError as err:
        raise RuleError(path, "", f"cannot read the file: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise RuleError(path, "", f"not valid TOML: {err}") from None


def _req_str(row: Mapping[str, Any], key: str, path: Path, where: str) -> str:
    val = row.get(key)
    if not isinstance(val, str) or not val.strip():
        raise RuleError(path, f"{where}.{key}", "missing or not a non-empty string")
    return val.strip()


def _expr(text: Any, path: Path, key: str, allowed: frozenset[str]) -> Expr:
    try:
        ex = compile_expr(text)
    except ExprError as err:
        raise RuleError(path, key, str(err)) from None
    unknown = sorted(ex.names - allowed)
    if unknown:
        raise RuleError(path, key, f"unknown name(s) {', '.join(unknown)} in {ex.text!r}")
    return ex


def _severity(val: Any, path: Path, key: str) -> Severity:
    try:
        return Severity(val)
    except ValueError:
        raise RuleError(path, key, f"severity must be error, warning or info, not {val!r}") from None


def parse_params(raw: Any, path: Path, key: str) -> dict[str, float]:
    """Rule parameters: ``{name = "0.15 mm"}`` -> ``{name: 0.15}`` (base units)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RuleError(path, key, "must be a table of name = \"value unit\"")
    out = {}
    for name, val in raw.items():
        if not re.match(r"^[a-z_][a-z0-9_]*$", name):
            raise RuleError(path, f"{key}.{name}", "parameter names are snake_case")
        out[name] = parse_quantity(val, path=str(path), key=f"{key}.{name}").value
    return out


def parse_rule(row: Any, path: Path, where: str) -> Rule:
    """Validate one ``[[rule]]`` table and build a :class:`Rule`."""
    if not isinstance(row, Mapping):
        raise RuleError(path, where, "a rule must be a table")
    code = _req_str(row, "code", path, where)
    if not CODE_RE.match(code):
        raise RuleError(path, f"{where}.code", f"{code!r} is not DFM1xx-DFM8xx (9xx live in input.toml)")
    if code.startswith("DFM6") and int(code[3:]) < 650:
        raise RuleError(path, f"{where}.code",
                        f"{code}: DFM600-649 are reserved for tooling/reach (dfm.tooling); rule files use DFM650-699")
    where = f"rule {code}"
    extra = sorted(set(row) - _RULE_KEYS)
    if extra:
        raise RuleError(path, f"{where}.{extra[0]}", f"unknown key (allowed: {', '.join(sorted(_RULE_KEYS))})")
    name = _req_str(row, "name", path, where)
    if not NAME_RE.match(name):
        raise RuleError(path, f"{where}.name", f"{name!r} is not kebab-case")
    reads_raw = row.get("reads")
    reads = (reads_raw,) if isinstance(reads_raw, str) else tuple(reads_raw or ())
    if not reads or any(k not in KIND_NAMES for k in reads):
        raise RuleError(path, f"{where}.reads", f"must name feature kinds among {', '.join(sorted(KIND_NAMES))}")
    compare = row.get("compare", "present" if "value" not in row else None)
    if compare not in COMPARES:
        raise RuleError(path, f"{where}.compare", f"must be one of {', '.join(COMPARES)}")
    unit = row.get("unit", "")
    if compare != "present" and unit not in DISPLAY:
        raise RuleError(path, f"{where}.unit", f"unknown display unit {unit!r} (known: {', '.join(DISPLAY)})")
    params = parse_params(row.get("params"), path, f"{where}.params")
    allowed = CONTEXT_NAMES | frozenset(params) | frozenset().union(*(KIND_NAMES[k] for k in reads))
    where_ex = _expr(row["where"], path, f"{where}.where", allowed) if "where" in row else None
    when_ex = _expr(row["when"], path, f"{where}.when", CONTEXT_NAMES | frozenset(params)) if "when" in row else None
    value = None
    bands: list[Band] = []
    if compare == "present":
        if "value" in row or "bands" in row:
            raise RuleError(path, f"{where}.compare", "a 'present' rule has a severity, not value/bands")
        bands.append(Band(_severity(row.get("severity"), path, f"{where}.severity")))
    else:
        value = _expr(row.get("value"), path, f"{where}.value", allowed)
        raw_bands = row.get("bands")
        if not isinstance(raw_bands, list) or not raw_bands:
            raise RuleError(path, f"{where}.bands", "a compared rule needs bands = [{severity, limit}, ...]")
        for j, b in enumerate(raw_bands):
            if not isinstance(b, Mapping) or set(b) != {"severity", "limit"}:
                raise RuleError(path, f"{where}.bands[{j}]", "each band is {severity = ..., limit = ...}")
            bands.append(Band(_severity(b["severity"], path, f"{where}.bands[{j}].severity"),
                              _expr(b["limit"], path, f"{where}.bands[{j}].limit", allowed)))
        check_bands(bands, compare, params, path, f"{where}.bands")
    message = _req_str(row, "message", path, where)
    _check_template(message, allowed, path, f"{where}.message")
    refs = row.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
        raise RuleError(path, f"{where}.references", "give at least one source (a list of strings)")
    cases = tuple(parse_case(c, path, f"{where}.case[{j}]") for j, c in enumerate(row.get("case", [])))
    return Rule(
        code=code, name=name, title=_req_str(row, "title", path, where), reads=reads,
        measure=str(row.get("measure", "")), where=where_ex, when=when_ex, value=value, compare=compare,
        unit=unit, bands=tuple(bands), params=params, message=message, why=_req_str(row, "why", path, where),
        fix=_req_str(row, "fix", path, where), references=tuple(refs), cases=cases, path=str(path),
    )


def check_bands(bands: list[Band] | tuple[Band, ...], compare: str, env: Mapping[str, Any], path: Path | str,
                key: str) -> None:
    """Reject bands that are not ordered worst-first or whose limits are not monotonic.

    Limits that need the run's context are checked when they are evaluated (engine).
    """
    ranks = [b.severity.rank for b in bands]
    if ranks != sorted(ranks) or len(set(ranks)) != len(ranks):
        raise RuleError(path, key, "bands must go from the worst severity to the mildest, each severity once")
    limits = []
    for b in bands:
        if b.limit is None:
            continue
        try:
            limits.append(float(b.limit(env)))
        except Missing:
            return  # depends on the run: checked at evaluation
    monotonic_or_raise(limits, compare, path, key)


def monotonic_or_raise(limits: list[float], compare: str, path: Path | str, key: str) -> None:
    """Below-rules need non-decreasing limits (worst first); above-rules non-increasing."""
    pairs = list(zip(limits, limits[1:], strict=False))
    bad = any(b < a for a, b in pairs) if compare == "below" else any(b > a for a, b in pairs)
    if bad:
        shown = ", ".join(f"{x:g}" for x in limits)
        order = "increase" if compare == "below" else "decrease"
        raise RuleError(path, key, f"bands are not monotonic: limits {shown} must {order} from the worst band on")


def _check_template(text: str, allowed: frozenset[str], path: Path, key: str) -> None:
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError as err:
        raise RuleError(path, key, f"bad message template: {err}") from None
    unknown = sorted({f.split(".")[0].split("[")[0] for f in fields}
                     - allowed - {"value", "limit", "unit", "severity", "band_limit"})
    if unknown:
        raise RuleError(path, key, f"unknown field(s) {', '.join(unknown)} in the message")


def parse_case(raw: Any, path: Path, key: str) -> Case:
    """One ``[[rule.case]]``."""
    if not isinstance(raw, Mapping):
        raise RuleError(path, key, "a case must be a table")
    extra = sorted(set(raw) - _CASE_KEYS)
    if extra:
        raise RuleError(path, f"{key}.{extra[0]}", f"unknown key (allowed: {', '.join(sorted(_CASE_KEYS))})")
    exp = raw.get("expect")
    expect = None if exp == "none" else _severity(exp, path, f"{key}.expect")
    feats = raw.get("features", [])
    part = raw.get("part")
    if bool(feats) == bool(part):
        raise RuleError(path, key, "a case gives either features = [...] or part = {generator = ...}")
    for j, f in enumerate(feats):
        if not isinstance(f, Mapping) or "kind" not in f:
            raise RuleError(path, f"{key}.features[{j}]", "each feature needs a kind")
    if part is not None and (not isinstance(part, Mapping) or "generator" not in part):
        raise RuleError(path, f"{key}.part", "needs generator = \"name\" (example_parts/generators.py)")
    return Case(expect=expect, features=tuple(feats), part=part, options=dict(raw.get("options", {})),
                note=str(raw.get("note", "")))


def load_rule_file(path: Path) -> list[Rule]:
    """All rules of one file."""
    data = read_toml(path)
    extra = sorted(set(data) - {"rule", "schema_version", "sources", "note"})
    if extra:
        raise RuleError(path, extra[0], "unknown top-level key (a rule file holds [[rule]] tables)")
    rows = data.get("rule", [])
    if not isinstance(rows, list):
        raise RuleError(path, "rule", "must be an array of tables ([[rule]])")
    return [parse_rule(row, path, f"rule[{i}]") for i, row in enumerate(rows)]


def parse_vars(raw: Any, path: Path, key: str) -> dict[str, Any]:
    """Profile variables; a name ending in _mm/_um/_rpm/_m_min/_deg takes a quantity with a unit."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RuleError(path, key, "must be a table")
    out: dict[str, Any] = {}
    for name, val in raw.items():
        if name not in CONTEXT_NAMES:
            raise RuleError(path, f"{key}.{name}", f"unknown variable (known: {', '.join(sorted(CONTEXT_NAMES))})")
        suffix = next((s for s in _VAR_SUFFIX if name.endswith(s)), None)
        if suffix is not None:
            q = parse_quantity(val, path=str(path), key=f"{key}.{name}")
            dim, factor = _VAR_SUFFIX[suffix]
            if q.dimension != dim and not (q.dimension == "ratio" and isinstance(val, int | float)):
                raise RuleError(path, f"{key}.{name}", f"expected a {dim} (e.g. '3 um'), got {val!r}")
            out[name] = q.value * factor
        elif isinstance(val, bool | str):
            out[name] = val
        else:
            out[name] = parse_quantity(val, path=str(path), key=f"{key}.{name}").value
    return out


def load_profile(path: Path, *, kind: str | None = None) -> Profile:
    """Read a profile file (process, material, finish, machine, or a user overlay)."""
    data = read_toml(path)
    extra = sorted(set(data) - _PROFILE_KEYS)
    if extra:
        raise RuleError(path, extra[0], f"unknown key (allowed: {', '.join(sorted(_PROFILE_KEYS))})")
    pkind = data.get("kind", kind or "user")
    if pkind not in PROFILE_KINDS:
        raise RuleError(path, "kind", f"must be one of {', '.join(PROFILE_KINDS)}")
    if kind is not None and pkind != kind:
        raise RuleError(path, "kind", f"expected a {kind} profile, the file says {pkind!r}")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise RuleError(path, "name", "must be a string")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise RuleError(path, "aliases", "must be a list of strings")
    tune_raw = data.get("tune", {})
    if not isinstance(tune_raw, Mapping):
        raise RuleError(path, "tune", "must be a table of rule code/name -> {enabled, severity, params}")
    tune: dict[str, dict[str, Any]] = {}
    for target, t in tune_raw.items():
        key = f"tune.{target}"
        if not isinstance(t, Mapping) or set(t) - {"enabled", "severity", "params"}:
            raise RuleError(path, key, "allowed keys: enabled, severity, params")
        entry: dict[str, Any] = {}
        if "enabled" in t:
            if not isinstance(t["enabled"], bool):
                raise RuleError(path, f"{key}.enabled", "must be true or false")
            entry["enabled"] = t["enabled"]
        if "severity" in t:
            entry["severity"] = _severity(t["severity"], path, f"{key}.severity")
        if "params" in t:
            entry["params"] = parse_params(t["params"], path, f"{key}.params")
        tune[target] = entry
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping) or set(defaults) - {"material", "finish", "machine"}:
        raise RuleError(path, "defaults", "allowed keys: material, finish, machine")
    globs = data.get("rules", [])
    if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
        raise RuleError(path, "rules", "must be a list of rule-file patterns relative to rules/")
    rows = data.get("rule", [])
    if not isinstance(rows, list):
        raise RuleError(path, "rule", "must be an array of tables ([[rule]])")
    rules = tuple(parse_rule(row, path, f"rule[{i}]") for i, row in enumerate(rows))
    refs = data.get("references", [])
    return Profile(
        kind=pkind, name=name, title=str(data.get("title", "")), aliases=tuple(aliases),
        data=data.get("data"), vars=parse_vars(data.get("vars"), path, "vars"), tune=tune,
        defaults=dict(defaults), rule_globs=tuple(globs), rules=rules,
        references=tuple(refs) if isinstance(refs, list) else (), path=str(path),
    )
