"""The cutter catalogue: load and validate ``rules/tools/*.toml`` or a user's tool crib.

The file format is described in ``rules/tools/README.md``. Field names follow the usual CAM
tool-library fields (Fusion/HSM ``DC``, ``LCF``, ``LB``, ``SFDM``, ``NOF``), so a tool can be
exported to CAM without renaming. A field the source did not give is ``None`` (unknown),
never 0.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dfm.errors import RuleError
from dfm.resources import rules_dir

KINDS = ("square", "ball", "corner-radius", "drill", "thread-mill")
MILL_KINDS = ("square", "ball", "corner-radius")

#: Length tolerance for comparing catalogue numbers (mm); catalogues give 4 decimals.
EPS = 1e-6

_SERIES_KEYS = {
    "id": str, "vendor": str, "name": str, "kind": str, "tool_material": str, "coating": str,
    "flutes": int, "helix_deg": float, "point_angle_deg": float, "profile_angle_deg": float, "source": str,
    "source_quality": str, "notes": str, "missing": list, "tool": list,
}
_TOOL_KEYS = {
    "id": str, "diameter_mm": float, "flute_length_mm": float, "reach_mm": float,
    "neck_diameter_mm": float, "shank_diameter_mm": float, "overall_length_mm": float,
    "corner_radius_mm": float, "flutes": int, "notes": str,
    "pitch_mm": float, "pitch_min_mm": float, "pitch_max_mm": float, "teeth": int,
}
_THREAD_KEYS = ("pitch_mm", "pitch_min_mm", "pitch_max_mm", "teeth")
_SERIES_REQUIRED = ("id", "vendor", "name", "kind", "source")


@dataclass(frozen=True)
class Tool:
    """One cutter of the catalogue (all lengths in mm; ``None`` = not given by the source).

    Attributes:
        id: Vendor order code or size designation; unique in a catalogue.
        kind: ``square`` | ``ball`` | ``corner-radius`` | ``drill`` | ``thread-mill``.
        diameter_mm: Cutting diameter (CAM ``DC``).
        flute_length_mm: Length of cut (``LCF``).
        reach_mm: Usable length below the neck taper / shank (``LB``, shoulder length).
        neck_diameter_mm: Reduced neck diameter.
        shank_diameter_mm: Shank diameter (``SFDM``).
        overall_length_mm: Overall length (``OAL``).
        corner_radius_mm: Corner radius (``RE``): 0 square, D/2 ball; ``None`` for drills.
        flutes: Number of flutes (``NOF``).
        series: Id of the series the tool belongs to.
        vendor: Manufacturer.
        series_name: The series name as the vendor gives it.
        coating: Coating, if given.
        tool_material: Tool material, if given.
        point_angle_deg: Drill point angle, if given.
        pitch_min_mm, pitch_max_mm: Thread mills: the pitches the tooth form cuts (equal for
            a mill ground for one pitch).
        teeth: Thread mills: number of thread-form teeth along the axis (1 = single profile).
        profile_angle_deg: Thread mills: included angle of the tooth form (60 for ISO/UN).
        source: Where the numbers came from (URL or catalogue page).
        file: The catalogue file the tool was read from.

    """

    id: str
    kind: str
    diameter_mm: float
    series: str
    vendor: str
    series_name: str
    source: str
    file: str
    flute_length_mm: float | None = None
    reach_mm: float | None = None
    neck_diameter_mm: float | None = None
    shank_diameter_mm: float | None = None
    overall_length_mm: float | None = None
    corner_radius_mm: float | None = None
    flutes: int | None = None
    coating: str | None = None
    tool_material: str | None = None
    point_angle_deg: float | None = None
    pitch_min_mm: float | None = None
    pitch_max_mm: float | None = None
    teeth: int | None = None
    profile_angle_deg: float | None = None

    @property
    def usable_reach_mm(self) -> float | None:
        """How deep the tool can go: the reach, else the flute length (README rule), else unknown."""
        if self.reach_mm is not None:
            return self.reach_mm
        return self.flute_length_mm

    @property
    def radius_mm(self) -> float:
        """Half the cutting diameter."""
        return self.diameter_mm / 2.0

    @property
    def is_mill(self) -> bool:
        """True for end mills (square, ball, corner radius)."""
        return self.kind in MILL_KINDS

    def label(self) -> str:
        """Short human label: ``Ø0.5 × 3 mm reach (MHR230-0.5x3)``."""
        reach = self.usable_reach_mm
        r = f" × {_num(reach)} mm reach" if reach is not None else " (reach unknown)"
        form = ""
        if self.kind == "ball":
            form = " ball"
        elif self.kind == "corner-radius" and self.corner_radius_mm is not None:
            form = f" R{_num(self.corner_radius_mm)}"
        elif self.kind == "drill":
            form = " drill"
        elif self.kind == "thread-mill" and self.pitch_min_mm is not None and self.pitch_max_mm is not None:
            pitches = (_num(self.pitch_min_mm) if self.pitch_min_mm == self.pitch_max_mm
                       else f"{_num(self.pitch_min_mm)}–{_num(self.pitch_max_mm)}")
            form = f" thread mill P{pitches}"
        return f"Ø{_num(self.diameter_mm)}{form}{r} ({self.id})"


def _num(x: float) -> str:
    """Stable short number format for messages: 0.5, 3, 0.125."""
    return f"{x:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Catalogue:
    """Tools from one or more catalogue files, in a stable order (file, then file order)."""

    tools: tuple[Tool, ...]
    files: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Tool]:
        """Tools by id."""
        return {t.id: t for t in self.tools}

    def mills(self) -> tuple[Tool, ...]:
        """Return the end mills, largest diameter first (stable within a diameter)."""
        return self._mills

    @functools.cached_property
    def _mills(self) -> tuple[Tool, ...]:
        return tuple(sorted((t for t in self.tools if t.is_mill), key=lambda t: -t.diameter_mm))

    def drills(self) -> tuple[Tool, ...]:
        """Return the drills."""
        return tuple(t for t in self.tools if t.kind == "drill")

    def thread_mills(self) -> tuple[Tool, ...]:
        """Return the thread mills."""
        return tuple(t for t in self.tools if t.kind == "thread-mill")


def _check_type(path: Path, key: str, value: Any, want: type) -> Any:
    if want is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleError(path, key, f"must be a number, got {value!r}")
        return float(value)
    if want is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(path, key, f"must be an integer, got {value!r}")
        return value
    if not isinstance(value, want):
        raise RuleError(path, key, f"must be a {want.__name__}, got {value!r}")
    return value


def _parse_series(path: Path, i: int, raw: Mapping[str, Any]) -> list[Tool]:
    where = f"series[{i}]"
    if not isinstance(raw, Mapping):
        raise RuleError(path, where, "must be a table")
    for key in raw:
        if key not in _SERIES_KEYS:
            raise RuleError(path, f"{where}.{key}", f"unknown field (known: {', '.join(sorted(_SERIES_KEYS))})")
    for key in _SERIES_REQUIRED:
        if key not in raw:
            raise RuleError(path, f"{where}.{key}", "missing required field")
    s = {k: _check_type(path, f"{where}.{k}", v, _SERIES_KEYS[k]) for k, v in raw.items()}
    where = f"series {s['id']!r}"
    if s["kind"] not in KINDS:
        raise RuleError(path, f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {s['kind']!r}")
    if not s["source"].strip():
        raise RuleError(path, f"{where}.source", "must not be empty: every series needs a source")
    rows = s.get("tool", [])
    if not rows:
        raise RuleError(path, f"{where}.tool", "a series needs at least one [[series.tool]]")
    tools = []
    for j, row in enumerate(rows):
        tools.append(_parse_tool(path, f"{where}.tool[{j}]", s, row))
    return tools


def _parse_tool(path: Path, where: str, s: Mapping[str, Any], raw: Any) -> Tool:
    if not isinstance(raw, Mapping):
        raise RuleError(path, where, "must be a table")
    for key in raw:
        if key not in _TOOL_KEYS:
            raise RuleError(path, f"{where}.{key}", f"unknown field (known: {', '.join(sorted(_TOOL_KEYS))})")
    for key in ("id", "diameter_mm"):
        if key not in raw:
            raise RuleError(path, f"{where}.{key}", "missing required field")
    t = {k: _check_type(path, f"{where}.{k}", v, _TOOL_KEYS[k]) for k, v in raw.items()}
    where = f"tool {t['id']!r}"
    kind = s["kind"]
    for key in ("diameter_mm", "flute_length_mm", "reach_mm", "neck_diameter_mm", "shank_diameter_mm",
                "overall_length_mm"):
        if key in t and not t[key] > 0:
            raise RuleError(path, f"{where}.{key}", f"must be > 0 mm, got {t[key]}")
    d = t["diameter_mm"]
    if kind in MILL_KINDS:
        if "corner_radius_mm" not in t:
            raise RuleError(path, f"{where}.corner_radius_mm",
                            f"required for {kind} end mills (0 for square, D/2 for ball)")
        r = t["corner_radius_mm"]
        if r < 0 or r > d / 2 + EPS:
            raise RuleError(path, f"{where}.corner_radius_mm", f"must be between 0 and D/2 = {d / 2} mm, got {r}")
        if kind == "square" and r > EPS:
            raise RuleError(path, f"{where}.corner_radius_mm", f"a square end mill has corner radius 0, got {r}")
        if kind == "ball" and abs(r - d / 2) > EPS:
            raise RuleError(path, f"{where}.corner_radius_mm",
                            f"a ball end mill has corner radius D/2 = {d / 2} mm, got {r}")
        if kind == "corner-radius" and not r > EPS:
            raise RuleError(path, f"{where}.corner_radius_mm", "a corner-radius end mill needs a radius > 0")
    elif "corner_radius_mm" in t:
        raise RuleError(path, f"{where}.corner_radius_mm", f"{kind}s have no corner radius")
    pmin, pmax = _pitch_range(path, where, kind, t)
    neck = t.get("neck_diameter_mm")
    if neck is not None and neck > d + EPS:
        raise RuleError(path, f"{where}.neck_diameter_mm",
                        f"the neck ({neck} mm) must not be wider than the cutter ({d} mm)")
    lcf, reach = t.get("flute_length_mm"), t.get("reach_mm")
    if lcf is not None and reach is not None and lcf > reach + EPS:
        raise RuleError(path, f"{where}.flute_length_mm", f"flute length {lcf} mm exceeds the reach {reach} mm")
    oal = t.get("overall_length_mm")
    longest = max((x for x in (lcf, reach) if x is not None), default=None)
    if oal is not None and longest is not None and longest > oal + EPS:
        raise RuleError(path, f"{where}.overall_length_mm",
                        f"overall length {oal} mm is shorter than the reach {longest} mm")
    return Tool(
        id=t["id"],
        kind=kind,
        diameter_mm=d,
        series=s["id"],
        vendor=s["vendor"],
        series_name=s["name"],
        source=s["source"],
        file=str(path),
        flute_length_mm=lcf,
        reach_mm=reach,
        neck_diameter_mm=neck,
        shank_diameter_mm=t.get("shank_diameter_mm"),
        overall_length_mm=oal,
        corner_radius_mm=t.get("corner_radius_mm"),
        flutes=t.get("flutes", s.get("flutes")),
        coating=s.get("coating"),
        tool_material=s.get("tool_material"),
        point_angle_deg=s.get("point_angle_deg"),
        pitch_min_mm=pmin,
        pitch_max_mm=pmax,
        teeth=t.get("teeth", 1) if kind == "thread-mill" else None,
        profile_angle_deg=s.get("profile_angle_deg"),
    )


def _pitch_range(path: Path, where: str, kind: str, t: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """A thread mill's pitches: ``pitch_mm`` (one pitch) or ``pitch_min_mm``..``pitch_max_mm``."""
    given = [k for k in _THREAD_KEYS if k in t]
    if kind != "thread-mill":
        if given:
            raise RuleError(path, f"{where}.{given[0]}", f"only thread mills have {given[0]} (this is a {kind})")
        return None, None
    for key in ("pitch_mm", "pitch_min_mm", "pitch_max_mm"):
        if key in t and not t[key] > 0:
            raise RuleError(path, f"{where}.{key}", f"must be > 0 mm, got {t[key]}")
    if "teeth" in t and t["teeth"] < 1:
        raise RuleError(path, f"{where}.teeth", f"must be at least 1, got {t['teeth']}")
    if "pitch_mm" in t:
        if "pitch_min_mm" in t or "pitch_max_mm" in t:
            raise RuleError(path, f"{where}.pitch_mm", "give pitch_mm or pitch_min_mm/pitch_max_mm, not both")
        return t["pitch_mm"], t["pitch_mm"]
    if "pitch_min_mm" not in t or "pitch_max_mm" not in t:
        raise RuleError(path, f"{where}.pitch_mm",
                        "a thread mill needs pitch_mm (one pitch) or pitch_min_mm and pitch_max_mm (a range)")
    if t["pitch_min_mm"] > t["pitch_max_mm"] + EPS:
        raise RuleError(path, f"{where}.pitch_min_mm",
                        f"pitch_min_mm {t['pitch_min_mm']} is above pitch_max_mm {t['pitch_max_mm']}")
    if "teeth" in t and t["teeth"] > 1 and abs(t["pitch_min_mm"] - t["pitch_max_mm"]) > EPS:
        raise RuleError(path, f"{where}.teeth", "a multi-tooth thread mill is ground for one pitch: use pitch_mm")
    return t["pitch_min_mm"], t["pitch_max_mm"]


def load_file(path: str | Path) -> list[Tool]:
    """Read and validate one catalogue file.

    Raises:
        RuleError: The file is missing, not TOML, or a series/tool is invalid (the message
            names the file, the key and the reason).

    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise RuleError(p, "", "tool catalogue not found") from None
    except IsADirectoryError:
        raise RuleError(p, "", "is a folder; pass a .toml file") from None
    except tomllib.TOMLDecodeError as err:
        raise RuleError(p, "", f"not valid TOML: {err}") from err
    except OSError as err:
        raise RuleError(p, "", f"cannot be read: {err.strerror or err}") from err
    for key in data:
        if key != "series":
            raise RuleError(p, key, "unknown top-level key (a catalogue holds [[series]] tables only)")
    series = data.get("series")
    if not isinstance(series, list) or not series:
        raise RuleError(p, "series", "no [[series]] table: a catalogue needs at least one series")
    tools: list[Tool] = []
    for i, raw in enumerate(series):
        tools.extend(_parse_series(p, i, raw))
    return tools


def load_catalogue(paths: Iterable[str | Path]) -> Catalogue:
    """Read several catalogue files into one catalogue; ids must be unique across them."""
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    files = []
    for path in paths:
        files.append(str(path))
        for tool in load_file(path):
            if tool.id in seen:
                raise RuleError(path, f"tool {tool.id!r}", f"duplicate tool id (also in {seen[tool.id]})")
            seen[tool.id] = str(path)
            tools.append(tool)
    return Catalogue(tuple(tools), tuple(files))


def shipped_catalogue_files() -> list[Path]:
    """Return the catalogue files dfm ships (``rules/tools/*.toml``), sorted by name."""
    return sorted((rules_dir() / "tools").glob("*.toml"))


@functools.cache
def default_catalogue() -> Catalogue:
    """Return the shipped catalogue (read once per process)."""
    return load_catalogue(shipped_catalogue_files())


def catalogue_for(tools_path: str | Path | None) -> Catalogue:
    """Return the user's catalogue when ``--tools`` names one (it replaces the shipped one), else the shipped one.

    A folder is read as every ``*.toml`` in it.
    """
    if tools_path is None:
        return default_catalogue()
    p = Path(tools_path)
    if p.is_dir():
        files = sorted(p.glob("*.toml"))
        if not files:
            raise RuleError(p, "", "the tool catalogue folder holds no .toml file")
        return load_catalogue(files)
    return load_catalogue([p])
