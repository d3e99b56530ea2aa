"""The shipped rules and profiles, the reference data they read, and the run's settings.

``resolve(options, part_path)`` turns ``api.Options`` (``--spec``, ``--profile``,
``--material``, ``--finish``, ``--tools``, ``extra["machine"]``) plus the part
specification into :class:`Settings`: the enabled, tuned rules and the context variables
their expressions read (material, finish, machine, catalogue minima).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dfm.errors import RuleError
from dfm.model import Severity
from dfm.resources import rules_dir
from dfm.rules.loader import check_bands, load_profile, load_rule_file, read_toml
from dfm.rules.model import Band, Profile, Rule
from dfm.rules.spec import FinishSpec, PartSpec, load_spec, parse_spec, spec_path_for

PROCESS = "micro-milling"
PROFILE_KINDS = ("process", "material", "finish", "machine")


# ---------------------------------------------------------------- shipped files


def profiles_dir() -> Path:
    """``rules/profiles`` (inside the package when installed)."""
    return rules_dir() / "profiles"


@functools.cache
def shipped_profiles() -> dict[str, tuple[Profile, ...]]:
    """Every shipped profile, by kind (``rules/profiles/<kind>/*.toml``)."""
    out: dict[str, tuple[Profile, ...]] = {}
    for kind in PROFILE_KINDS:
        files = sorted((profiles_dir() / kind).glob("*.toml"))
        out[kind] = tuple(load_profile(f, kind=kind) for f in files)
    return out


def find_profile(kind: str, name: str, *, origin: str = "") -> Profile:
    """A shipped profile by name or alias (case-insensitive); a user path also works."""
    key = name.strip().lower()
    for prof in shipped_profiles()[kind]:
        if key == prof.name.lower() or key in (a.lower() for a in prof.aliases):
            return prof
    p = Path(name)
    if p.suffix == ".toml" and p.is_file():
        return load_profile(p, kind=kind)
    known = ", ".join(pr.name for pr in shipped_profiles()[kind])
    raise RuleError(origin or "settings", kind, f"unknown {kind} {name!r} (known: {known})")


@functools.cache
def _rules_for(globs: tuple[str, ...]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for pattern in globs:
        for f in sorted(rules_dir().glob(pattern)):
            rules.extend(load_rule_file(f))
    return _unique(rules)


def _unique(rules: list[Rule]) -> tuple[Rule, ...]:
    by_code: dict[str, Rule] = {}
    by_name: dict[str, Rule] = {}
    for r in rules:
        for seen, key in ((by_code, r.code), (by_name, r.name)):
            if key in seen:
                raise RuleError(r.path, f"rule {r.code}", f"{key} is already defined in {seen[key].path}")
            seen[key] = r
    return tuple(sorted(rules, key=lambda r: r.code))


def shipped_rules() -> tuple[Rule, ...]:
    """The rules the default process profile loads, sorted by code."""
    return _rules_for(find_profile("process", PROCESS).rule_globs)


# ---------------------------------------------------------------- reference data


@functools.cache
def materials() -> dict[str, Any]:
    """``rules/data/materials.toml`` parsed."""
    return read_toml(rules_dir() / "data" / "materials.toml")


@functools.cache
def finishes() -> dict[str, Any]:
    """``rules/data/finishes.toml`` parsed."""
    return read_toml(rules_dir() / "data" / "finishes.toml")


@functools.cache
def drill_sizes() -> tuple[tuple[float, bool], ...]:
    """Stock drill diameters (mm) with their ``confirmed`` flag, sorted (rules/data/drills.toml)."""
    data = read_toml(rules_dir() / "data" / "drills.toml")
    return tuple(sorted((float(r["diameter_mm"]), bool(r.get("confirmed", False))) for r in data.get("size", [])))


@functools.cache
def general_tolerance_table() -> tuple[tuple[float, float, dict[str, float]], ...]:
    """ISO 2768-1 linear deviations: (above_mm, up_to_mm, {class: +/- mm}) (rules/profiles/general-tolerances.toml)."""
    path = profiles_dir() / "general-tolerances.toml"
    out = []
    for i, row in enumerate(read_toml(path).get("ranges", [])):
        if not isinstance(row, list) or len(row) != 6 or not all(isinstance(x, int | float) for x in row):
            raise RuleError(path, f"ranges[{i}]", "each range is [above_mm, up_to_mm, f, m, c, v]")
        out.append((float(row[0]), float(row[1]), {k: float(v) for k, v in zip("fmcv", row[2:], strict=True) if v > 0}))
    return tuple(out)


def general_tolerance_mm(size_mm: float, cls: str) -> float | None:
    """The ISO 2768-1 +/- deviation of a size in class ``cls``, or None where the standard gives none."""
    for lo, hi, devs in general_tolerance_table():
        if (lo < size_mm <= hi) or (lo == 0.5 and abs(size_mm - 0.5) < 1e-9):
            return devs.get(cls)
    return None


@dataclass(frozen=True)
class ThreadRow:
    """What the rules need of one row of rules/data/threads.toml (mm, um)."""

    designation: str
    major_mm: float
    pitch_mm: float
    pitch_diameter_mm: float | None
    minor_internal_mm: float | None
    minor_min_mm: float | None
    minor_max_mm: float | None
    pd_tolerance_um: float | None
    confirmed: bool
    system: str = ""
    series: str = ""


@functools.cache
def thread_rows() -> tuple[ThreadRow, ...]:
    """rules/data/threads.toml rows."""
    path = rules_dir() / "data" / "threads.toml"
    rows = []
    for i, r in enumerate(read_toml(path).get("thread", [])):
        try:
            rows.append(ThreadRow(
                r["designation"], float(r["major_mm"]), float(r["pitch_mm"]), r.get("pitch_diameter_mm"),
                # ISO rows give only the basic D1: the window is then D1 .. d2 (a hole at the pitch
                # diameter leaves half the flank height; the tap drills of the table lie inside).
                r.get("minor_internal_mm"), r.get("minor_internal_min_mm", r.get("minor_internal_mm")),
                r.get("minor_internal_max_mm", r.get("pitch_diameter_mm")),
                r.get("pd_tolerance_6H_um", r.get("pd_tolerance_um")), bool(r.get("confirmed", False)),
                str(r.get("system", "")), str(r.get("series", "")),
            ))
        except (KeyError, TypeError, ValueError) as err:
            raise RuleError(path, f"thread[{i}]", f"bad row: {err}") from err
    return tuple(rows)


def thread_by_designation(name: str) -> ThreadRow | None:
    """``M1.6x0.35``, ``M1.6`` (the first, coarse row), ``0.80 UNM``, ``2-56 UNC``; None if unknown."""
    key = name.replace(" ", "").replace("×", "x").lower()
    rows = thread_rows()
    for row in rows:
        if row.designation.replace(" ", "").lower() == key:
            return row
    for row in rows:
        if row.designation.lower().split("x")[0] == key:
            return row
    return None


@dataclass(frozen=True)
class Catalogue:
    """What the rules need of a tool catalogue (rules/tools or --tools)."""

    source: str
    min_mill_d_mm: float | None
    corner_radii_mm: tuple[float, ...]


@functools.cache
def catalogue(user_file: str | None = None) -> Catalogue:
    """Smallest end mill and the corner radii on offer, from the shipped catalogue or a user file or folder.

    The files are read and checked by :mod:`dfm.tooling.catalogue`, as the tool search reads them.
    """
    from dfm.tooling.catalogue import catalogue_for

    mills = catalogue_for(user_file).mills()
    radii = {round(t.corner_radius_mm, 4) for t in mills
             if t.kind != "square" and t.corner_radius_mm is not None and t.corner_radius_mm > 0}
    return Catalogue(str(user_file or rules_dir() / "tools"), min((t.diameter_mm for t in mills), default=None),
                     tuple(sorted(radii)))


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs for one run.

    Attributes:
        rules: Enabled rules after profile tuning, sorted by code.
        vars: Context variables (base units) by name.
        spec: The part specification (empty when none was given or found).
        profiles: The profile names used, by kind.
        catalogue: The tool catalogue summary.
        notes: File-level notes (assumptions) for the report.

    """

    rules: tuple[Rule, ...]
    vars: Mapping[str, Any]
    spec: PartSpec
    profiles: Mapping[str, str]
    catalogue: Catalogue
    notes: tuple[str, ...] = field(default_factory=tuple)


def material_vars(prof: Profile) -> dict[str, Any]:
    """Context variables of a material profile, read from rules/data/materials.toml."""
    data = materials()
    row = next((m for m in data.get("material", []) if m.get("name") == (prof.data or prof.name)), None)
    if row is None:
        raise RuleError(prof.path, "data", f"no material {prof.data or prof.name!r} in rules/data/materials.toml")
    guide = data.get("wall_guidance", {}).get(row.get("wall_class", ""), {})
    out: dict[str, Any] = {
        "material": prof.name, "material_class": row.get("class"), "wall_class": row.get("wall_class"),
        "wall_recommended_mm": guide.get("min_wall_recommended_mm"),
        "wall_feasible_mm": guide.get("min_wall_feasible_mm"),
    }
    for key in ("vc_min_m_min", "vc_max_m_min", "fz_per_d_min", "fz_per_d_max", "hmin_over_redge_min",
                "hmin_over_redge_max"):
        out[key] = row.get(key)
    out.update(prof.vars)
    return out


def finish_vars(prof: Profile, fspec: FinishSpec | None, material_class: str | None) -> dict[str, Any]:
    """Context variables of a finish profile (rules/data/finishes.toml), with the spec's overrides."""
    out: dict[str, Any] = {"finish": prof.name, "finish_kind": "none", "finish_type": "",
                           "film_min_um": 0.0, "film_max_um": 0.0, "growth_fraction": 0.0,
                           "std_film_min_um": 0.0, "std_film_max_um": 0.0, "finish_applies": True}
    out.update(prof.vars)
    if prof.data:
        row = next((f for f in finishes().get("finish", []) if f.get("name") == prof.data), None)
        if row is None:
            raise RuleError(prof.path, "data", f"no finish {prof.data!r} in rules/data/finishes.toml")
        out["std_film_min_um"] = float(row.get("film_min_um", 0))
        out["std_film_max_um"] = float(row.get("film_max_um", 0))
        out["film_min_um"], out["film_max_um"] = out["std_film_min_um"], out["std_film_max_um"]
        out["growth_fraction"] = float(row.get("growth_fraction_outward", 0))
        classes = row.get("applies_to_classes", [])
        out["finish_applies"] = material_class in classes if classes else True
    if fspec is not None:
        if fspec.thickness_um is not None:
            out["film_min_um"], out["film_max_um"] = fspec.thickness_um
        if fspec.growth_fraction is not None:
            out["growth_fraction"] = fspec.growth_fraction
    out["penetration_max_um"] = out["film_max_um"] * (1.0 - out["growth_fraction"])
    return out


def _apply_tune(rules: tuple[Rule, ...], tune: Mapping[str, Mapping[str, Any]], origin: str) -> tuple[Rule, ...]:
    by_key = {r.code: r for r in rules} | {r.name: r for r in rules}
    unknown = sorted(set(tune) - set(by_key))
    if unknown:
        raise RuleError(origin, f"tune.{unknown[0]}", "no such rule code or name")
    out = []
    for r in rules:
        t = {**tune.get(r.code, {}), **tune.get(r.name, {})}
        if not t:
            out.append(r)
            continue
        params = dict(r.params)
        for k, v in t.get("params", {}).items():
            if k not in params:
                raise RuleError(origin, f"tune.{r.code}.params.{k}", f"{r.code} has no parameter {k!r}")
            params[k] = v
        bands = r.bands
        if "severity" in t:
            cap: Severity = t["severity"]
            capped: list[Band] = []
            for b in bands:
                sev = cap if b.severity.rank < cap.rank else b.severity
                if not capped or capped[-1].severity != sev:
                    capped.append(replace(b, severity=sev))
            bands = tuple(capped)
        if r.compare != "present":
            check_bands(bands, r.compare, params, origin, f"tune.{r.code}")
        out.append(replace(r, params=params, bands=bands, enabled=t.get("enabled", r.enabled)))
    return tuple(out)


def resolve(options: Any, part_path: str | Path | None = None, *, spec_data: Mapping[str, Any] | None = None
            ) -> Settings:
    """The run's settings from ``api.Options`` and the part spec.

    Args:
        options: ``dfm.api.Options`` (or anything with the same attributes).
        part_path: The part file, to find ``PART.dfm.toml`` beside it.
        spec_data: A spec table given directly (rule test cases), instead of a file.

    Raises:
        RuleError: A spec, profile, rule or catalogue file is bad, or a name is unknown.

    """
    extra = dict(getattr(options, "extra", {}) or {})
    if spec_data is not None:
        spec = parse_spec(spec_data, "<case spec>")
    else:
        sp = spec_path_for(part_path, getattr(options, "spec", None))
        spec = load_spec(sp) if sp is not None else PartSpec()
    user = None
    if getattr(options, "profile", None):
        user = load_profile(Path(options.profile))
    process = find_profile("process", PROCESS)
    if user is not None and user.kind == "process":
        process = user
    notes: list[str] = []
    origin = spec.path or "options"

    chosen: dict[str, Profile] = {}
    for kind, cli_value, spec_value in (
        ("material", getattr(options, "material", None), spec.material),
        ("finish", getattr(options, "finish", None), spec.finish.profile_name if spec.finish else None),
        ("machine", extra.get("machine"), None),
    ):
        if user is not None and user.kind == kind:
            chosen[kind] = user
            continue
        name = cli_value or spec_value or process.defaults.get(kind)
        if name is None:
            raise RuleError(process.path, f"defaults.{kind}", "the process profile names no default")
        chosen[kind] = find_profile(kind, name, origin=origin if spec_value and not cli_value else "options")
    assumed = not (getattr(options, "material", None) or spec.material
                   or (user is not None and user.kind == "material"))
    if assumed:
        notes.append(f"material-assumed:{chosen['material'].name}")

    env: dict[str, Any] = {"process": process.name}
    env.update(process.vars)
    env.update(material_vars(chosen["material"]))
    env["material_assumed"] = assumed
    fspec = spec.finish if spec.finish and spec.finish.profile_name == chosen["finish"].name else None
    env.update(finish_vars(chosen["finish"], fspec, env.get("material_class")))
    env.update(chosen["machine"].vars)
    cat = catalogue(getattr(options, "tools", None))
    env["min_mill_d_mm"] = cat.min_mill_d_mm
    sizes = drill_sizes()
    env["min_drill_series_mm"] = min((d for d, ok in sizes if ok), default=None)
    env["min_drill_any_mm"] = min((d for d, _ in sizes), default=None)
    env["max_drill_any_mm"] = max((d for d, _ in sizes), default=None)
    if user is not None and user.kind == "user":
        env.update(user.vars)

    rules = _rules_for(process.rule_globs)
    if user is not None and user.rules:
        rules = _unique(list(rules) + list(user.rules))
    for prof in (process, chosen["material"], chosen["finish"], chosen["machine"]):
        rules = _apply_tune(rules, prof.tune, prof.path)
    if user is not None and user.kind == "user":
        rules = _apply_tune(rules, user.tune, user.path)
    return Settings(
        rules=tuple(r for r in rules if r.enabled),
        vars=env,
        spec=spec,
        profiles={"process": process.name, **{k: p.name for k, p in chosen.items()}},
        catalogue=cat,
        notes=tuple(notes),
    )


def nearest_drill(diameter_mm: float) -> float | None:
    """The stock drill closest to ``diameter_mm``."""
    sizes = drill_sizes()
    if not sizes:
        return None
    return min((d for d, _ in sizes), key=lambda d: (abs(d - diameter_mm), d))


def nearest_radius_gap(radius_mm: float, radii: tuple[float, ...]) -> float:
    """Distance from ``radius_mm`` to the closest catalogue corner radius (inf if none)."""
    return min((abs(r - radius_mm) for r in radii), default=math.inf)
