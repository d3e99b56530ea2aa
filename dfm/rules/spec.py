"""The part specification: what the STEP cannot say (``PART.dfm.toml`` or ``--spec FILE``).

```toml
material = "6061-T6"
general_tolerance = "m"            # ISO 2768-1 class for untoleranced holes (f | m | c | v)
[finish]
kind = "anodize"                   # anodize | passivate | none
type = "II"                        # II | III
thickness_um = [10, 25]            # total film range
growth_fraction = 0.5              # share of the film that grows outward
[[tolerance]]
select = { diameter_mm = 4.0 }     # or { width_mm = 1.0 }, { thickness_mm = 0.5 }, { faces = [3, 4] },
                                   # { feature = "hole-2" }
plus_um = 3
minus_um = 3
kind = "bore"                      # bore | shaft | width | wall (default: what the surfaces are)
[[thread]]
select = { diameter_mm = 1.25 }
designation = "M1.6x0.35"
length_mm = 2.0                    # optional; default the hole depth
[[masking]]
select = { feature = "thread-1" }  # or any select above: those surfaces are machined to finished size
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfm.errors import RuleError
from dfm.model import Feature
from dfm.rules.loader import read_toml
from dfm.rules.sizes import Size

#: Size match for ``select = {diameter_mm = ...}`` (mm): well above STEP round-off, well
#: below the smallest catalogue step between drill sizes (0.01 mm, rules/data/drills.toml).
DIAMETER_MATCH_MM = 0.002

FINISH_KINDS = ("anodize", "passivate", "none")
ANODIZE_TYPES = ("II", "III")
TOL_KINDS = ("bore", "shaft", "width", "wall")
SELECT_KEYS = ("diameter_mm", "width_mm", "thickness_mm", "faces", "feature")
GENERAL_CLASSES = ("f", "m", "c", "v")


@dataclass(frozen=True)
class Select:
    """Which sizes (and features) a spec entry means."""

    diameter_mm: float | None = None
    faces: tuple[int, ...] = ()
    feature: str | None = None
    width_mm: float | None = None
    thickness_mm: float | None = None

    def describe(self) -> str:
        """A short human form (``diameter 4 mm``)."""
        if self.feature:
            return f"feature {self.feature}"
        if self.faces:
            return "faces " + ", ".join(map(str, self.faces))
        if self.width_mm is not None:
            return f"width {self.width_mm:g} mm"
        if self.thickness_mm is not None:
            return f"thickness {self.thickness_mm:g} mm"
        return f"diameter {self.diameter_mm:g} mm"

    @property
    def value_mm(self) -> float | None:
        """The size a size selection names (diameter, width or thickness)."""
        for v in (self.diameter_mm, self.width_mm, self.thickness_mm):
            if v is not None:
                return v
        return None

    def matches_size(self, size: Size, plus_um: float = 0.0, minus_um: float = 0.0) -> bool:
        """Whether ``size`` falls under this selection.

        A diameter selects every bore and shaft, a width every slot/pocket width, a thickness
        every wall, whose modelled size lies in the band ``value − minus .. value + plus``
        (± the match tolerance): a size modelled anywhere in its tolerance is that size.
        """
        if self.feature is not None:
            return size.feature == self.feature
        if self.faces:
            return bool(set(self.faces) & set(size.faces))
        kinds = (("bore", "shaft") if self.diameter_mm is not None else
                 ("width",) if self.width_mm is not None else ("wall",))
        val = self.value_mm
        if val is None or size.kind not in kinds:
            return False
        lo = val - minus_um / 1000.0 - DIAMETER_MATCH_MM
        hi = val + plus_um / 1000.0 + DIAMETER_MATCH_MM
        return lo <= size.nominal_mm <= hi

    def matches(self, feat: Feature) -> bool:
        """Whether ``feat`` falls under this selection."""
        if self.feature is not None:
            return feat.id == self.feature
        if self.faces:
            return bool(set(self.faces) & set(feat.faces))
        if self.diameter_mm is not None:
            for key in ("diameter_mm", "major_diameter_mm", "width_mm"):
                val = feat.dims.get(key)
                if val is not None and abs(val - self.diameter_mm) <= DIAMETER_MATCH_MM:
                    return True
        for want, key in ((self.width_mm, "width_mm"), (self.thickness_mm, "thickness_mm")):
            val = feat.dims.get(key)
            if want is not None and val is not None and abs(val - want) <= DIAMETER_MATCH_MM:
                return True
        return False


@dataclass(frozen=True)
class ToleranceSpec:
    """``[[tolerance]]``: a size and its band."""

    select: Select
    plus_um: float
    minus_um: float
    kind: str | None = None
    nominal_mm: float | None = None
    source: str = "spec"


@dataclass(frozen=True)
class ThreadSpec:
    """``[[thread]]``: a thread callout on a hole (or shaft)."""

    select: Select
    designation: str
    length_mm: float | None = None
    internal: bool = True
    hand: str = "right"


@dataclass(frozen=True)
class FinishSpec:
    """``[finish]``."""

    kind: str = "none"
    type: str | None = None
    thickness_um: tuple[float, float] | None = None
    growth_fraction: float | None = None

    @property
    def profile_name(self) -> str:
        """The finish profile this selects (``anodize-ii``)."""
        if self.kind == "anodize":
            return f"anodize-{(self.type or 'II').lower()}"
        return self.kind


@dataclass(frozen=True)
class PartSpec:
    """A part specification file, parsed and checked."""

    path: str | None = None
    material: str | None = None
    finish: FinishSpec | None = None
    general_tolerance: str | None = None
    tolerances: tuple[ToleranceSpec, ...] = ()
    threads: tuple[ThreadSpec, ...] = ()
    masking: tuple[Select, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


_TOP_KEYS = {"material", "finish", "general_tolerance", "tolerance", "thread", "masking", "mask", "schema_version",
             "note", "part"}


def _num(val: Any, path: str, key: str, *, positive: bool = False) -> float:
    if isinstance(val, bool) or not isinstance(val, int | float):
        raise RuleError(path, key, f"expected a number, got {val!r}")
    if positive and val <= 0 or val < 0:
        raise RuleError(path, key, f"must be {'positive' if positive else 'zero or more'}, got {val!r}")
    return float(val)


def _select(raw: Any, path: str, key: str) -> Select:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise RuleError(path, key, "select needs exactly one of " + ", ".join(SELECT_KEYS))
    (name, val), = raw.items()
    if name == "diameter_mm":
        return Select(diameter_mm=_num(val, path, f"{key}.{name}", positive=True))
    if name == "width_mm":
        return Select(width_mm=_num(val, path, f"{key}.{name}", positive=True))
    if name == "thickness_mm":
        return Select(thickness_mm=_num(val, path, f"{key}.{name}", positive=True))
    if name == "faces":
        if not isinstance(val, list) or not val or not all(isinstance(v, int) and v > 0 for v in val):
            raise RuleError(path, f"{key}.faces", "must be a list of 1-based face ids")
        return Select(faces=tuple(val))
    if name == "feature":
        if not isinstance(val, str) or not val:
            raise RuleError(path, f"{key}.feature", "must be a feature id such as 'hole-2'")
        return Select(feature=val)
    raise RuleError(path, f"{key}.{name}", "select by " + ", ".join(SELECT_KEYS))


def parse_spec(data: Mapping[str, Any], path: str) -> PartSpec:
    """Validate a spec table (from a file or a rule case)."""
    extra = sorted(set(data) - _TOP_KEYS)
    if extra:
        raise RuleError(path, extra[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    material = data.get("material")
    if material is not None and not isinstance(material, str):
        raise RuleError(path, "material", "must be a string such as '6061-T6'")
    finish = None
    if "finish" in data:
        f = data["finish"]
        if isinstance(f, str):
            f = {"kind": f}
        if not isinstance(f, Mapping) or set(f) - {"kind", "type", "thickness_um", "growth_fraction", "note"}:
            raise RuleError(path, "finish", "allowed keys: kind, type, thickness_um, growth_fraction")
        kind = f.get("kind", "none")
        if kind not in FINISH_KINDS:
            raise RuleError(path, "finish.kind", f"must be one of {', '.join(FINISH_KINDS)}, not {kind!r}")
        ftype = f.get("type")
        if kind == "anodize":
            ftype = str(ftype or "II").upper()
            if ftype not in ANODIZE_TYPES:
                raise RuleError(path, "finish.type", f"anodize type must be II or III, not {f.get('type')!r}")
        elif ftype is not None:
            raise RuleError(path, "finish.type", f"only anodize has a type (kind is {kind!r})")
        thick = None
        if "thickness_um" in f:
            t = f["thickness_um"]
            if isinstance(t, int | float) and not isinstance(t, bool):
                t = [t, t]
            if not isinstance(t, list) or len(t) != 2:
                raise RuleError(path, "finish.thickness_um", "must be [min, max] in um (or one number)")
            lo = _num(t[0], path, "finish.thickness_um[0]")
            hi = _num(t[1], path, "finish.thickness_um[1]")
            if hi < lo:
                raise RuleError(path, "finish.thickness_um", f"max {hi:g} is below min {lo:g}")
            thick = (lo, hi)
        growth = None
        if "growth_fraction" in f:
            growth = _num(f["growth_fraction"], path, "finish.growth_fraction")
            if growth > 1:
                raise RuleError(path, "finish.growth_fraction", f"is a share of the film (0..1), got {growth:g}")
        finish = FinishSpec(kind=kind, type=ftype if kind == "anodize" else None, thickness_um=thick,
                            growth_fraction=growth)
    general = data.get("general_tolerance")
    if general is not None:
        general = str(general).lower().removeprefix("iso 2768-").removeprefix("iso2768-")[:1]
        if general not in GENERAL_CLASSES:
            raise RuleError(path, "general_tolerance", "must be an ISO 2768-1 class: f, m, c or v")
    tols = []
    for i, t in enumerate(data.get("tolerance", [])):
        key = f"tolerance[{i}]"
        if not isinstance(t, Mapping) or set(t) - {"select", "plus_um", "minus_um", "kind", "nominal_mm", "note"}:
            raise RuleError(path, key, "allowed keys: select, plus_um, minus_um, kind, nominal_mm")
        if "plus_um" not in t or "minus_um" not in t:
            raise RuleError(path, key, "needs plus_um and minus_um (the band around the nominal, um)")
        kind = t.get("kind")
        if kind is not None and kind not in TOL_KINDS:
            raise RuleError(path, f"{key}.kind", f"must be one of {', '.join(TOL_KINDS)}")
        plus = float(t["plus_um"]) if isinstance(t["plus_um"], int | float) else None
        minus = float(t["minus_um"]) if isinstance(t["minus_um"], int | float) else None
        if plus is None or minus is None or isinstance(t["plus_um"], bool) or isinstance(t["minus_um"], bool):
            raise RuleError(path, key, "plus_um and minus_um must be numbers (um)")
        if plus + minus <= 0:
            raise RuleError(path, key, f"the band +{plus:g}/-{minus:g} um is empty")
        nominal = _num(t["nominal_mm"], path, f"{key}.nominal_mm", positive=True) if "nominal_mm" in t else None
        tols.append(ToleranceSpec(_select(t.get("select"), path, f"{key}.select"), plus, minus, kind, nominal))
    threads = []
    for i, t in enumerate(data.get("thread", [])):
        key = f"thread[{i}]"
        if not isinstance(t, Mapping) or set(t) - {"select", "designation", "length_mm", "internal", "hand", "note"}:
            raise RuleError(path, key, "allowed keys: select, designation, length_mm, internal, hand")
        hand = t.get("hand", "right")
        if hand not in ("right", "left"):
            raise RuleError(path, f"{key}.hand", f"must be 'right' or 'left', got {hand!r}")
        des = t.get("designation")
        if not isinstance(des, str) or not des.strip():
            raise RuleError(path, f"{key}.designation", "needs a designation such as 'M1.6x0.35'")
        length = _num(t["length_mm"], path, f"{key}.length_mm", positive=True) if "length_mm" in t else None
        internal = t.get("internal", True)
        if not isinstance(internal, bool):
            raise RuleError(path, f"{key}.internal", "must be true or false")
        threads.append(ThreadSpec(_select(t.get("select"), path, f"{key}.select"), des.strip(), length, internal,
                                  hand))
    masks = []
    for section in ("masking", "mask"):  # [[mask]] is the short spelling
        for i, m in enumerate(data.get(section, [])):
            if not isinstance(m, Mapping) or set(m) - {"select", "note"}:
                raise RuleError(path, f"{section}[{i}]", "allowed keys: select, note")
            masks.append(_select(m.get("select"), path, f"{section}[{i}].select"))
    return PartSpec(path=path, material=material, finish=finish, general_tolerance=general,
                    tolerances=tuple(tols), threads=tuple(threads), masking=tuple(masks), raw=dict(data))


def spec_path_for(part: str | Path | None, explicit: str | None) -> Path | None:
    """The spec file to use: ``--spec`` if given, else ``PART.dfm.toml`` beside the part if it exists."""
    if explicit:
        return Path(explicit)
    if part is None:
        return None
    p = Path(part)
    beside = p.with_name(p.stem + ".dfm.toml")
    return beside if beside.is_file() else None


def load_spec(path: Path) -> PartSpec:
    """Read and check a spec file."""
    return parse_spec(read_toml(path), str(path))


def dumps(data: Mapping[str, Any]) -> str:
    """Write a spec table back as TOML (scalars, lists, inline tables; for tests and front ends)."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, Mapping):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(val(x) for x in v) + "]"
        raise TypeError(f"cannot write {v!r} as TOML")

    lines = []
    for key, v in data.items():
        if isinstance(v, list | tuple) and v and all(isinstance(x, Mapping) for x in v):
            for row in v:
                lines.append(f"[[{key}]]")
                lines.extend(f"{k} = {val(x)}" for k, x in row.items())
        else:
            lines.append(f"{key} = {val(v)}")
    return "\n".join(lines) + "\n"
