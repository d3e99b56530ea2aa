"""The data CAM reads: settings, material rows and the cutter catalogue.

Every number the program uses comes from one of these, and the program header cites them:
``rules/data/materials.toml`` (the material row), ``rules/tools/*.toml`` (the cutter row)
and ``dfm/cam/settings.toml`` (machine and shop settings, overridable).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfm.errors import RuleError, UsageError
from dfm.resources import rules_dir

SETTINGS_PATH = Path(__file__).with_name("settings.toml")


@dataclass(frozen=True)
class Settings:
    """Machine and shop settings (``[machine]`` and ``[cam]`` of settings.toml).

    Attributes:
        values: Setting name → value (float), both sections merged.
        source: Where each value came from (``settings.toml``, a user file, ``--set``).
    """

    values: Mapping[str, float]
    source: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return float(self.values[key])


DEFAULT_MACHINE = "hsm-60k"
_UNITS = {"rpm": 1.0, "mm": 1.0, "um": 1e-3, "µm": 1e-3, "s": 1.0}
#: A machine profile's ``vars.coolant`` → the M code switching it on (air: the mist output, M7).
COOLANT_CODES = {"none": 0.0, "mist": 7.0, "air": 7.0, "flood": 8.0}


def machine_profile(name: str | None) -> tuple[dict[str, float], Path]:
    """``max_rpm`` and ``edge_radius_mm`` from rules/profiles/machine/NAME.toml (by name or alias).

    Optional: ``spindle_ramp_s`` ("4 s") and ``coolant`` (none | mist | air | flood → ``coolant_m``).

    Raises:
        UsageError: No such machine profile.
        RuleError: The profile lacks one of the two values or its unit is unknown.
    """
    folder = rules_dir() / "profiles" / "machine"
    want = (name or DEFAULT_MACHINE).lower()
    names = []
    for f in sorted(folder.glob("*.toml")):
        prof = tomllib.loads(f.read_text(encoding="utf-8"))
        names.append(str(prof.get("name", f.stem)))
        if want != str(prof.get("name", f.stem)).lower() and want not in [a.lower() for a in prof.get("aliases", [])]:
            continue
        out: dict[str, float] = {}
        for key in ("max_rpm", "edge_radius_mm"):
            raw = str(prof.get("vars", {}).get(key, ""))
            parts = raw.split()
            if len(parts) != 2 or parts[1] not in _UNITS:
                raise RuleError(f, f"vars.{key}", f"expected a number and a unit, got '{raw}'")
            out[key] = float(parts[0]) * _UNITS[parts[1]]
        opt = prof.get("vars", {})
        if "spindle_ramp_s" in opt:
            raw = str(opt["spindle_ramp_s"])
            parts = raw.split()
            if len(parts) != 2 or parts[1] != "s":
                raise RuleError(f, "vars.spindle_ramp_s", f"expected seconds as 'N s', got '{raw}'")
            out["spindle_ramp_s"] = float(parts[0])
        if "coolant" in opt:
            code = COOLANT_CODES.get(str(opt["coolant"]).lower())
            if code is None:
                raise RuleError(f, "vars.coolant",
                                f"expected one of {', '.join(COOLANT_CODES)}, got '{opt['coolant']}'")
            out["coolant_m"] = code
        return out, f
    raise UsageError(f"unknown machine profile '{name}' (known: {', '.join(names)})")


def load_settings(machine: str | None = None, overrides: Mapping[str, str] | None = None,
                  machine_file: str | Path | None = None) -> Settings:
    """The machine profile, the shipped CAM settings, a user settings file, then ``key=value`` overrides.

    Raises:
        UsageError: An unknown setting name or a value outside the setting's range.
    """
    base = tomllib.loads(SETTINGS_PATH.read_text(encoding="utf-8"))
    values: dict[str, float] = {}
    source: dict[str, str] = {}
    for sect in ("machine", "cam"):
        for k, v in base[sect].items():
            values[k] = float(v)
            source[k] = f"settings.toml [{sect}]"
    from dfm.tooling.rules import default_rules

    tooling = default_rules().params
    values["breakthrough_mm"] = tooling.breakthrough_mm
    source["breakthrough_mm"] = "rules/tooling.toml [parameters.breakthrough]"
    values["thread_clearance_mm"] = tooling.thread_clearance_mm
    source["thread_clearance_mm"] = "rules/tooling.toml [parameters.thread_clearance]"
    prof, prof_path = machine_profile(machine)
    for k, v in prof.items():
        values[k] = v
        source[k] = f"rules/profiles/machine/{prof_path.name}"
    if machine_file is not None:
        path = Path(machine_file)
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise RuleError(path, "", f"cannot read the machine file: {err}") from err
        flat = {k: v for sect in ("machine", "cam") for k, v in user.get(sect, {}).items()}
        flat.update({k: v for k, v in user.items() if not isinstance(v, dict) and k != "schema_version"})
        for k, v in flat.items():
            _not_shared(k, str(path))
            if k not in values:
                raise RuleError(path, k, f"unknown CAM setting (known: {', '.join(sorted(values))})")
            values[k] = _in_range(k, v, f"{path}: {k}")
            source[k] = str(path)
    for k, v in (overrides or {}).items():
        _not_shared(k, "--set")
        if k not in values:
            raise UsageError(f"unknown CAM setting '{k}' (known: {', '.join(sorted(values))})")
        values[k] = _in_range(k, v, f"--set {k}")
        source[k] = "--set"
    return Settings(values, source)


# Valid ranges of the settings a user may change: (low, low allowed, high). A step, rate
# or angle of zero would make the generator loop forever (a pass of zero depth, a ramp of
# zero slope); a step-over above 1 x D leaves ribs of stock; a ramp is an entry, not a plunge.
_RANGES: dict[str, tuple[float, bool, float]] = {
    "ap_over_d": (0.0, False, 1.0),
    "ae_over_d": (0.0, False, 1.0),
    "peck_over_d": (0.0, False, 10.0),
    "ramp_angle_deg": (0.0, False, 45.0),
    "max_feed_mm_min": (0.0, False, math.inf),
    "rapid_mm_min": (0.0, False, math.inf),
    "max_rpm": (0.0, False, math.inf),
    "retract_mm": (0.0, False, math.inf),
    "safe_mm": (0.0, False, math.inf),
    "thread_passes": (1.0, True, 20.0),
    "thread_clearance_mm": (0.0, True, math.inf),
    "unknown_shank_mm": (0.0, False, 100.0),
    "holder_diameter_mm": (0.0, False, 500.0),
    "shank_stickout_mm": (0.0, True, 500.0),
    "finish_offsets": (0.0, True, 1.0),
    "spindle_ramp_s": (0.0, True, 120.0),
    "coolant_m": (0.0, True, 8.0),
}


#: CAM settings that are tool-search parameters too (rules/tooling.toml): one value for both.
_SHARED = {"breakthrough_mm": "breakthrough", "thread_clearance_mm": "thread_clearance"}


def _not_shared(key: str, where: str) -> None:
    if key in _SHARED:
        raise UsageError(f"{where}: {key} is shared with the tool search, so that the tools the check recommends "
                         f"are the ones the program loads; change [parameters.{_SHARED[key]}] in rules/tooling.toml")


#: Settings that count something.
_WHOLE = frozenset({"thread_passes", "finish_offsets", "coolant_m"})


def _in_range(key: str, v: Any, where: str) -> float:
    """``v`` as a number inside the valid range of setting ``key``, or a UsageError naming ``where``."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: '{v}' is not a number") from None
    lo, lo_ok, hi = _RANGES.get(key, (0.0, True, math.inf))
    if key in _WHOLE and math.isfinite(x) and not x.is_integer():
        raise UsageError(f"{where}: '{v}' must be a whole number")
    if key == "coolant_m" and x not in (0.0, 7.0, 8.0):
        raise UsageError(f"{where}: '{v}' must be 0 (none), 7 (M7 mist/air) or 8 (M8 flood)")
    if not math.isfinite(x) or x < lo or (x == lo and not lo_ok) or x > hi:
        low = f">= {lo:g}" if lo_ok else f"> {lo:g}"
        rng = low if hi == math.inf else f"{low} and <= {hi:g}"
        raise UsageError(f"{where}: '{v}' must be {rng}")
    return x


@dataclass(frozen=True)
class Material:
    """One ``[[material]]`` row of rules/data/materials.toml (the fields CAM uses)."""

    name: str
    vc_min_m_min: float
    vc_max_m_min: float
    fz_per_d_min: float
    fz_per_d_max: float
    hmin_over_redge_max: float
    sources: tuple[str, ...]
    drill_vc_hss_m_min: float | None = None
    drill_vc_carbide_m_min: float | None = None
    drill_f_per_d: float | None = None
    drill_sources: tuple[str, ...] = ()


def _opt(row: Mapping[str, Any], key: str) -> float | None:
    return None if row.get(key) is None else float(row[key])


def materials_path() -> Path:
    """rules/data/materials.toml."""
    return rules_dir() / "data" / "materials.toml"


def load_material(name: str | None) -> Material:
    """The material row called ``name`` (case-insensitive); default 6061-T6.

    Raises:
        UsageError: No such material in the table.
    """
    path = materials_path()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    want = (name or "6061-T6").lower()
    names = []
    for row in data.get("material", []):
        names.append(row["name"])
        if row["name"].lower() == want:
            try:
                return Material(
                    name=row["name"],
                    vc_min_m_min=float(row["vc_min_m_min"]),
                    vc_max_m_min=float(row["vc_max_m_min"]),
                    fz_per_d_min=float(row["fz_per_d_min"]),
                    fz_per_d_max=float(row["fz_per_d_max"]),
                    hmin_over_redge_max=float(row["hmin_over_redge_max"]),
                    sources=tuple(row.get("sources", ())),
                    drill_vc_hss_m_min=_opt(row, "drill_vc_hss_min_m_min"),
                    drill_vc_carbide_m_min=_opt(row, "drill_vc_carbide_min_m_min"),
                    drill_f_per_d=_opt(row, "drill_f_per_d_min"),
                    drill_sources=tuple(row.get("drill_sources", ())),
                )
            except KeyError as err:
                raise RuleError(path, f"material {row['name']}", f"missing field {err}") from err
    raise UsageError(f"unknown material '{name}' (known: {', '.join(names)})")


@dataclass(frozen=True)
class Cutter:
    """A catalogue tool as CAM uses it.

    Attributes:
        id: Catalogue id (unique).
        kind: square | ball | corner-radius | drill | thread-mill.
        diameter_mm: Cutting diameter (thread mills: over the tooth tips).
        reach_mm: Usable length below the holder (reach, else flute length); None = unknown.
        flutes: Number of flutes (2 when the catalogue does not say: stated in the header).
        corner_radius_mm: Corner radius (0 square).
        point_angle_deg: Drill point angle, if given.
        series: Series id; source: the catalogue source URL; file: the TOML file name (shipped
            catalogue) or its path (the user's ``--tools``).
        flutes_assumed: True when ``flutes`` is the default, not catalogue data.
        flute_length_mm: Length of cut (thread mills: the toothed length), if given.
        neck_diameter_mm: Neck diameter above the flutes, if given.
        pitch_min_mm, pitch_max_mm: Thread mills: the pitches the tooth form cuts.
        teeth: Thread mills: thread-form teeth along the axis (1 = single profile).
        tool_material: ``carbide``, ``HSS``, ``HSS-E``... as the catalogue gives it, if given.
        shank_diameter_mm: Shank diameter, if the catalogue gives it (the guard checks the shank).
    """

    id: str
    kind: str
    diameter_mm: float
    reach_mm: float | None
    flutes: int
    corner_radius_mm: float
    point_angle_deg: float | None
    series: str
    source: str
    file: str
    flutes_assumed: bool = False
    flute_length_mm: float | None = None
    neck_diameter_mm: float | None = None
    pitch_min_mm: float | None = None
    pitch_max_mm: float | None = None
    teeth: int = 1
    tool_material: str | None = None
    profile_angle_deg: float | None = None
    shank_diameter_mm: float | None = None

    @property
    def usable_reach_mm(self) -> float | None:
        """How deep the tool can go (the catalogue's reach, else its flute length)."""
        return self.reach_mm


def load_catalogue(path: str | Path | None = None) -> tuple[Cutter, ...]:
    """Cutters of the shipped catalogue or the user's ``--tools`` file or folder, sorted by kind, diameter, reach.

    The files are read and checked by :mod:`dfm.tooling.catalogue` (the same rows the
    tool search uses).

    Raises:
        RuleError: The catalogue is missing or invalid (file, key and reason named).
    """
    from dfm.tooling.catalogue import catalogue_for

    shipped = (rules_dir() / "tools").resolve()
    out: list[Cutter] = []
    for t in catalogue_for(path).tools:
        where = Path(t.file)
        name = where.name if where.resolve().parent == shipped else str(where.resolve())
        out.append(Cutter(
            id=t.id, kind=t.kind, diameter_mm=t.diameter_mm, reach_mm=t.usable_reach_mm,
            flutes=t.flutes or 2, corner_radius_mm=t.corner_radius_mm or 0.0, point_angle_deg=t.point_angle_deg,
            series=t.series, source=t.source, file=name, flutes_assumed=not t.flutes,
            flute_length_mm=t.flute_length_mm, neck_diameter_mm=t.neck_diameter_mm,
            pitch_min_mm=t.pitch_min_mm, pitch_max_mm=t.pitch_max_mm, teeth=t.teeth or 1,
            tool_material=t.tool_material, profile_angle_deg=t.profile_angle_deg,
            shank_diameter_mm=t.shank_diameter_mm,
        ))
    out.sort(key=lambda c: (c.kind, c.diameter_mm, c.reach_mm or 0.0, c.id))
    return tuple(out)


def corner_clearance_ratio() -> float:
    """``parameters.corner_clearance_ratio`` of rules/tooling.toml (tool radius × ratio ≤ corner radius)."""
    path = rules_dir() / "tooling.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))["parameters"]["corner_clearance_ratio"]["value"]
        return float(str(raw).split()[0])
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as err:
        raise RuleError(path, "parameters.corner_clearance_ratio", f"missing or not a number ({err})") from err
