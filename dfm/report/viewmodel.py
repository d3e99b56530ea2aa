"""The HTML report's view model: plain data built from a :class:`DfmResult`.

The templates read these dataclasses and nothing else (coverage.py's build-then-render
split): every number is formatted, every row sorted and every missing section explained
here, so the templates only lay out. Pictures come in as :class:`dfm.kernel.render.Picture`
data (projected, sorted, face-tagged paths); their colours are decided here.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any

from dfm.errors import DfmError
from dfm.model import DfmResult, Feature, Finding, Severity, ToolChoice
from dfm.resources import rules_dir

#: Fill colours by severity (worst finding on the face wins); base colour for other faces.
SEVERITY_COLOURS: dict[str, tuple[int, int, int]] = {
    "error": (215, 38, 61),
    "warning": (240, 160, 0),
    "info": (47, 127, 209),
}
BASE_COLOUR = (176, 184, 194)
#: Fill of undercut faces (violet): it beats a warning or a note on the face, an error beats it.
UNDERCUT_COLOUR = (142, 68, 173)
#: Highlight of the faces of the finding (or row) pointed at; report.css says the same.
SELECTED_COLOUR = (255, 210, 31)
#: What the report (and the text output) prints for a value nobody knows: an en dash.
UNKNOWN = "\u2013"
#: Findings of the access model, linked from the access section: an undercut, a tilted setup.
ACCESS_CODES = ("DFM650", "DFM651")
#: Features the access model counts in a setup (``dfm.features.access``).
SETUP_KINDS = ("pocket", "slot", "step", "hole")
#: Kinds of sized surface in the pre-machining table (the allowance's target -> what the table says), in order.
SIZE_KINDS = {"bore": "bore", "shaft": "shaft", "width": "width", "wall": "thickness", "thread": "thread",
              "thread-internal": "thread", "thread-external": "thread"}
_SIZE_ORDER = ("bore", "shaft", "width", "thickness", "thread")
VERDICT_TEXT = {
    "pass": "Can be made as drawn",
    "warn": "Can be made, with the warnings below",
    "fail": "Cannot be made as drawn: change what the errors say",
}
#: Feature kinds in the feature table, in this order.
TABLE_KINDS = ("hole", "thread", "slot", "pocket", "step")
_VIEW_TITLES = {"iso": "Isometric", "top": "Top (+Z)", "front": "Front (-Y)"}


class QuoteSettingsError(DfmError):
    """The quote settings file is missing, unreadable or wrong."""


def fmt(value: float | None, digits: int = 3) -> str:
    """Format a number for people: fixed decimals, trailing zeros dropped, :data:`UNKNOWN` for None."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return UNKNOWN
    s = f"{float(value):.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def money(value: float) -> str:
    """Money with two decimals and thousands separators."""
    return f"{value:,.2f}"


# --- view-model dataclasses -----------------------------------------------------------------
@dataclass(frozen=True)
class PathVM:
    """One SVG path group of a picture: a run of triangles of one face."""

    face: int
    fill: str
    fill_d: str
    edge_d: str
    flagged: bool
    undercut: bool = False


@dataclass(frozen=True)
class PictureVM:
    """One view of one body."""

    view: str
    title: str
    width: float
    height: float
    paths: tuple[PathVM, ...]


@dataclass(frozen=True)
class FindingRow:
    """One row of the findings table."""

    code: str
    name: str
    severity: str
    message: str
    measured: str
    limit: str
    why: str
    fix: str
    faces: tuple[int, ...]
    faces_text: str
    body: int
    where: str
    feature: str = ""
    anchor: str = ""  # the row's id in the page (``finding-3``), for links to it


@dataclass(frozen=True)
class FindingLink:
    """A link to a row of the findings table."""

    code: str
    anchor: str
    severity: str
    message: str


@dataclass(frozen=True)
class FeatureRow:
    """One row of the feature table."""

    id: str
    kind: str
    dims: tuple[tuple[str, str], ...]
    facts: tuple[str, ...]
    faces: tuple[int, ...]
    faces_text: str
    body: int


@dataclass(frozen=True)
class ToolRow:
    """One recommended tool."""

    id: str
    name: str
    kind: str
    diameter: str
    corner_radius: str
    reach: str
    flute_length: str
    flutes: str  # UNKNOWN when the catalogue does not say
    role: str
    features: str
    source: str


@dataclass(frozen=True)
class SizeRow:
    """One finish allowance of a size: a tolerance source and its pre-machining band."""

    id: str
    faces: tuple[int, ...]
    faces_text: str
    body: int
    surfaces: str
    finished: str  # the finished size with its tolerance
    growth: str
    premachine: str
    band: str
    source: str
    action: str
    features: str
    feasible: bool = True
    masked: bool = False


@dataclass(frozen=True)
class SizeGroup:
    """The pre-machining sizes of one (kind, finished size): one or more allowances (tolerance sources)."""

    kind: str  # bore | shaft | width | thickness | thread
    size: str  # "Ø4 mm", "0.5 mm", "M1.6x0.35 (PD 1.373 mm)"
    finished_mm: float | None
    surfaces: str  # how many sized surfaces, all rows together
    faces: tuple[int, ...]
    faces_text: str
    body: int
    rows: tuple[SizeRow, ...]


@dataclass(frozen=True)
class SetupRow:
    """One direction the part is machined from, and the features cut from it."""

    number: int
    direction: str
    tilt: str
    count: int
    features: tuple[str, ...]
    features_text: str
    faces: tuple[int, ...]  # the faces of those features
    faces_text: str
    findings: tuple[FindingLink, ...]
    body: int


@dataclass(frozen=True)
class UndercutRow:
    """Faces no straight cutter reaches, one group (an ``undercut`` feature) per row."""

    label: str
    faces: tuple[int, ...]
    faces_text: str
    findings: tuple[FindingLink, ...]
    body: int


@dataclass(frozen=True)
class AccessVM:
    """The body's access model: the setups it needs and its undercut faces."""

    known: bool
    summary: str
    setups: tuple[SetupRow, ...]
    undercuts: tuple[UndercutRow, ...]
    undercut_faces: tuple[int, ...]
    note: str


@dataclass(frozen=True)
class PlanRow:
    """One machining operation."""

    setup: str
    name: str
    kind: str
    tool: str
    features: str
    time: str


@dataclass(frozen=True)
class SheetVM:
    """One setup's sheet: how to hold and zero the part (``dfm.cam.setupsheet``)."""

    setup: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class PlanVM:
    """The machining plan and its cycle time (minutes), or why there is none."""

    rows: tuple[PlanRow, ...]
    cycle_time_min: float | None
    cycle_time: str
    note: str
    sheets: tuple[SheetVM, ...] = ()


@dataclass(frozen=True)
class QuoteLine:
    """One cost line: per-piece amounts for each quantity."""

    label: str
    basis: str
    amounts: tuple[str, ...]


@dataclass(frozen=True)
class QuoteVM:
    """The price table for the settable quantities."""

    currency: str
    quantities: tuple[int, ...]
    lines: tuple[QuoteLine, ...]
    piece: tuple[str, ...]
    batch: tuple[str, ...]
    complete: bool
    notes: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class BodyVM:
    """Everything shown for one body."""

    index: int
    name: str
    size: str
    volume: str
    faces: int
    pictures: tuple[PictureVM, ...]
    pictures_note: str
    findings: tuple[FindingRow, ...]
    features: tuple[FeatureRow, ...]
    tools: tuple[ToolRow, ...]
    sizes: tuple[SizeGroup, ...]
    access: AccessVM


@dataclass(frozen=True)
class ReportVM:
    """The whole report."""

    title: str
    part_name: str
    file_name: str  # never the server's path: the report goes to a customer
    product_names: tuple[str, ...]
    material: str
    finish: str
    units: str
    size: str
    verdict: str
    verdict_text: str
    counts: Mapping[str, int]
    generated_at: str
    dfm_version: str
    error: str
    findings: tuple[FindingRow, ...]
    bodies: tuple[BodyVM, ...]
    plan: PlanVM
    quote: QuoteVM
    sizes_note: str = ""  # why the pre-machining table is empty, when it is
    legend: tuple[tuple[str, str], ...] = ()  # (label, colour) of the pictures' fills
    undercut_colour: str = ""
    unknown: str = UNKNOWN
    notes: tuple[str, ...] = field(default_factory=tuple)


# --- quote settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class QuoteSettings:
    """Rates from ``rules/quote.toml`` (or the user's copy)."""

    path: str
    currency: str
    quantities: tuple[int, ...]
    setup_minutes: float
    machine_rate_per_hour: float
    stock_allowance_mm: float
    material_price_per_kg: Mapping[str, float]
    finish: Mapping[str, Mapping[str, float]]
    finish_aliases: Mapping[str, str]


def _number(data: Mapping[str, Any], key: str, where: str, path: Path) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise QuoteSettingsError(f"{path}: [{where}] {key} must be a number >= 0, got {value!r}")
    return float(value)


def load_quote_settings(path: str | Path | None = None) -> QuoteSettings:
    """Read and check the quote settings file (default: the shipped ``rules/quote.toml``).

    Raises:
        QuoteSettingsError: naming the file and the key when something is wrong.

    """
    p = Path(path) if path is not None else rules_dir() / "quote.toml"
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuoteSettingsError(f"{p}: quote settings file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise QuoteSettingsError(f"{p}: cannot read the quote settings: {err}") from err
    qty = data.get("quantities", [1])
    if not isinstance(qty, list) or not qty or not all(isinstance(q, int) and not isinstance(q, bool) and q > 0
                                                       for q in qty):
        raise QuoteSettingsError(f"{p}: quantities must be a non-empty list of whole numbers > 0, got {qty!r}")
    prices = data.get("material_price_per_kg", {})
    finish = data.get("finish", {})
    if not isinstance(prices, dict) or not isinstance(finish, dict):
        raise QuoteSettingsError(f"{p}: material_price_per_kg and finish must be tables")
    return QuoteSettings(
        path=str(p),
        currency=str(data.get("currency", "")),
        quantities=tuple(sorted(set(qty))),
        setup_minutes=_number(data.get("setup", {}), "minutes", "setup", p),
        machine_rate_per_hour=_number(data.get("machine", {}), "rate_per_hour", "machine", p),
        stock_allowance_mm=_number(data.get("stock", {}), "allowance_mm", "stock", p),
        material_price_per_kg={k: _number(prices, k, "material_price_per_kg", p) for k in sorted(prices)},
        finish={k: {kk: _number(v, kk, f"finish.{k}", p) for kk in sorted(v)} for k, v in sorted(finish.items())},
        finish_aliases={str(k): str(v) for k, v in data.get("finish_aliases", {}).items()},
    )


def material_densities() -> dict[str, float]:
    """Density (g/cm³) of every material in ``rules/data/materials.toml``, by name."""
    data = tomllib.loads((rules_dir() / "data" / "materials.toml").read_text(encoding="utf-8"))
    return {m["name"]: float(m["density_g_cm3"]) for m in data.get("material", []) if "density_g_cm3" in m}


# --- building ---------------------------------------------------------------------------------
def _faces_text(faces: Sequence[int]) -> str:
    return ", ".join(str(f) for f in faces) if faces else UNKNOWN


def _faces_of(features: Sequence[Feature]) -> tuple[int, ...]:
    """The faces of all ``features``, each once, in order."""
    return tuple(sorted({i for f in features for i in f.faces}))


def _range_text(lo: float | None, hi: float | None, digits: int, unit: str) -> str:
    """``lo … hi unit``, or :data:`UNKNOWN` unless both ends are known."""
    return f"{fmt(lo, digits)} … {fmt(hi, digits)} {unit}" if lo is not None and hi is not None else UNKNOWN


def _with_unit(value: float | None, digits: int, unit: str) -> str:
    """``fmt`` and a unit, or :data:`UNKNOWN` alone (never "– mm")."""
    text = fmt(value, digits)
    return text if text == UNKNOWN or not unit else f"{text} {unit}"


def _finding_row(f: Finding, body: int, where: str) -> FindingRow:
    return FindingRow(
        code=f.code, name=f.name, severity=f.severity.value, message=f.message,
        measured=_with_unit(f.value, 4, f.unit), limit=_with_unit(f.limit, 4, f.unit),
        why=f.why, fix=f.fix, faces=tuple(f.faces), faces_text=_faces_text(f.faces), body=body, where=where,
        feature=f.feature or "",
    )


def _dim_label(key: str) -> tuple[str, str]:
    for suffix, unit in (("_mm", "mm"), ("_deg", "°"), ("_um", "µm"), ("_ratio", ""), ("_mm3", "mm³")):
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " "), unit
    return key.replace("_", " "), ""


def _feature_row(f: Feature, body: int) -> FeatureRow:
    dims = []
    for key in sorted(f.dims):
        label, unit = _dim_label(key)
        dims.append((label, _with_unit(f.dims[key], 4, unit)))
    facts = []
    for key in ("designation", "candidate_thread", "bottom", "through", "open", "internal", "source", "hole"):
        if key in f.props and f.props[key] not in (None, "", False):
            val = f.props[key]
            facts.append(key.replace("_", " ") if val is True else f"{key.replace('_', ' ')}: {val}")
    for item in f.props.get("stack", ()) or ():
        if isinstance(item, Mapping):
            kind, dia, depth = item.get("kind", "stack"), item.get("diameter_mm"), item.get("depth_mm")
            facts.append(f"{kind} Ø{fmt(dia)} × {fmt(depth)} mm")
    return FeatureRow(id=f.id, kind=f.kind, dims=tuple(dims), facts=tuple(facts), faces=tuple(f.faces),
                      faces_text=_faces_text(f.faces), body=body)


def _tool_row(t: ToolChoice) -> ToolRow:
    flutes = t.flutes if isinstance(t.flutes, int) and not isinstance(t.flutes, bool) and t.flutes > 0 else None
    return ToolRow(id=t.id, name=t.name or t.id, kind=t.kind, diameter=fmt(t.diameter_mm, 4),
                   corner_radius=fmt(t.corner_radius_mm, 4), reach=fmt(t.reach_mm, 3),
                   flute_length=fmt(t.flute_length_mm, 3), flutes=UNKNOWN if flutes is None else str(flutes),
                   role=t.role, features=", ".join(t.features) or UNKNOWN, source=t.source)


# --- pre-machining sizes (a finish) ------------------------------------------------------------
def _um_as_mm(um: float) -> str:
    return fmt(um / 1000.0, 4)


def _finished_text(d: Mapping[str, float]) -> str:
    """``4 ±0.1 mm``, ``1.373 +0.085/0 mm``: the finished size and its tolerance."""
    fin = d.get("finished_mm")
    if fin is None:
        return UNKNOWN
    plus, minus = d.get("plus_um"), d.get("minus_um")
    if plus is None or minus is None:
        return f"{fmt(fin, 4)} mm"
    if abs(plus - minus) < 1e-9:
        tol = f" ±{_um_as_mm(plus)}" if plus > 0 else ""
    else:
        up = "+" + _um_as_mm(plus) if plus > 0 else "0"
        down = "\u2212" + _um_as_mm(minus) if minus > 0 else "0"
        tol = f" {up}/{down}"
    return f"{fmt(fin, 4)}{tol} mm"


#: How the table names where a size's tolerance comes from (explicit sources).
_SOURCE_TEXT = {"spec": "the part spec", "pmi": "the file's PMI", "model": "the modelled thread"}


def _source_text(props: Mapping[str, Any], kind: str) -> str:
    """Explicit tolerance (spec, PMI, thread class) or the ISO 2768 general class."""
    source = str(props.get("source") or "")
    if source.startswith("iso-2768-"):
        text = f"ISO 2768-{source.removeprefix('iso-2768-')} (general tolerance)"
    elif not source:
        text = UNKNOWN
    elif kind == "thread":
        text = f"thread pitch-diameter tolerance ({_SOURCE_TEXT.get(source, source)})"
    else:
        text = f"explicit tolerance ({_SOURCE_TEXT.get(source, source)})"
    if props.get("select"):
        text += f": {props['select']}"
    if props.get("masked"):
        text += "; masked"
    return text


def _count(props: Mapping[str, Any]) -> int | None:
    n = props.get("count")
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None


def _size_row(f: Feature, body: int) -> SizeRow:
    d, props = f.dims, f.props
    kind = SIZE_KINDS.get(str(props.get("target") or ""), str(props.get("target") or UNKNOWN))
    feats = props.get("features") or ([props["feature"]] if props.get("feature") else [])
    n = _count(props)
    return SizeRow(
        id=f.id, faces=tuple(f.faces), faces_text=_faces_text(f.faces), body=body,
        surfaces=UNKNOWN if n is None else str(n), finished=_finished_text(d),
        growth=_range_text(d.get("growth_min_um"), d.get("growth_max_um"), 1, "µm"),
        premachine=_range_text(d.get("premachine_min_mm"), d.get("premachine_max_mm"), 4, "mm"),
        band="none" if props.get("toleranced") is False else _with_unit(d.get("tolerance_band_um"), 1, "µm"),
        source=_source_text(props, kind),
        action=str(props.get("action") or "") or UNKNOWN, features=", ".join(str(x) for x in feats),
        feasible=bool(props.get("feasible", True)), masked=bool(props.get("masked", False)),
    )


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key comparing the numbers in ``text`` as numbers (``hole-2`` before ``hole-10``)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text) if t)


def size_groups(body: Any) -> tuple[SizeGroup, ...]:
    """The body's finish allowances grouped by (kind, finished size), smallest size first.

    A group holds one row per allowance: sizes of one kind and finished size whose tolerance
    comes from different places (the spec, PMI, ISO 2768) or that are masked stay apart
    inside the group, since they are machined to different bands.
    """
    groups: dict[tuple[str, float | None], list[Feature]] = {}
    for f in body.features:
        if f.kind != "anodize_allowance":
            continue
        target = str(f.props.get("target") or "")
        kind = SIZE_KINDS.get(target, target or UNKNOWN)
        fin = f.dims.get("finished_mm")
        groups.setdefault((kind, None if fin is None else round(float(fin), 6)), []).append(f)
    out = []
    for (kind, fin), feats in groups.items():
        feats.sort(key=lambda f: (not f.props.get("explicit", False), str(f.props.get("source", "")),
                                  _natural(f.id)))
        rows = tuple(_size_row(f, body.index) for f in feats)
        counts = [_count(f.props) for f in feats]
        faces = _faces_of(feats)
        if kind == "thread":
            names = sorted({str(f.props["designation"]) for f in feats if f.props.get("designation")})
            size = " / ".join(names) + (f" (PD {fmt(fin, 4)} mm)" if fin is not None else "") if names \
                else _with_unit(fin, 4, "mm")
        else:
            size = ("Ø" if kind in ("bore", "shaft") and fin is not None else "") + _with_unit(fin, 4, "mm")
        out.append(SizeGroup(
            kind=kind, size=size, finished_mm=fin,
            surfaces=UNKNOWN if None in counts else str(sum(c for c in counts if c is not None)),
            faces=faces, faces_text=_faces_text(faces), body=body.index, rows=rows,
        ))
    out.sort(key=lambda g: (math.inf if g.finished_mm is None else g.finished_mm,
                            _SIZE_ORDER.index(g.kind) if g.kind in _SIZE_ORDER else len(_SIZE_ORDER), g.size))
    return tuple(out)


def sizes_note(result: DfmResult, finish: str, groups: int) -> str:
    """Why the pre-machining table is empty (``""`` when it has ``groups`` rows)."""
    if groups:
        return ""
    if not finish or finish == "none":
        return "No pre-machining sizes: no finish was given, so there is nothing to allow for."
    if result.status != "ok":
        return f"Finish {finish}: the file could not be analysed, so no size was measured."
    return (f"Finish {finish}: no sized surface was found that this finish changes (no bore, shaft, width, "
            "wall thickness or thread it builds up on), so every size is machined as drawn.")


# --- access: setups and undercuts ---------------------------------------------------------------
_AXIS_NAMES = ("X", "Y", "Z")


def _unit(v: Sequence[float] | None) -> tuple[float, float, float] | None:
    try:
        x, y, z = (float(c) for c in v)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    n = math.sqrt(x * x + y * y + z * z)
    if not math.isfinite(n) or n < 1e-12:
        return None
    return (x / n, y / n, z / n)


def _signed(value: float, digits: int = 3) -> str:
    """A number with a real minus sign (U+2212), as in ``(0, −0.5, 0.866)``."""
    text = fmt(value, digits)
    return "\u2212" + text[1:] if text.startswith("-") else text


def _axis_name(k: int, sign: float) -> str:
    return ("+" if sign > 0 else "\u2212") + _AXIS_NAMES[k]


def direction_text(d: Sequence[float] | None) -> str:
    """An approach direction for people: ``+Z``, ``−X``, ``tilted 30° about X: (0, −0.5, 0.866)``.

    A direction off the axes is named by its angle from the nearest axis direction and, when
    it is turned about one coordinate axis only, that axis; otherwise ``tilted 35.3° from +Z``.
    """
    v = _unit(d)
    if v is None:
        return UNKNOWN
    k = max(range(3), key=lambda i: abs(v[i]))
    if abs(abs(v[k]) - 1.0) < 1e-9:
        return _axis_name(k, v[k])
    a = [0.0, 0.0, 0.0]
    a[k] = math.copysign(1.0, v[k])
    angle = math.degrees(math.acos(min(1.0, abs(v[k]))))
    # the axis a is turned about to reach v: a x v
    r = _unit((a[1] * v[2] - a[2] * v[1], a[2] * v[0] - a[0] * v[2], a[0] * v[1] - a[1] * v[0]))
    about = next((_AXIS_NAMES[j] for j in range(3) if r is not None and abs(abs(r[j]) - 1.0) < 1e-6), None)
    vec = "(" + ", ".join(_signed(c) for c in v) + ")"
    where = f"about {about}" if about else f"from {_axis_name(k, v[k])}"
    return f"tilted {fmt(angle, 1)}° {where}: {vec}"


def _same_direction(a: Sequence[float] | None, b: Sequence[float] | None) -> bool:
    u, v = _unit(a), _unit(b)
    return u is not None and v is not None and sum(x * y for x, y in zip(u, v, strict=True)) > 1.0 - 1e-6


def _link(r: FindingRow) -> FindingLink:
    return FindingLink(code=r.code, anchor=r.anchor, severity=r.severity, message=r.message)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def access_vm(body: Any, rows: Sequence[FindingRow] = ()) -> AccessVM:
    """The setups and undercut faces of ``body`` (``BodyResult.access``), with links to ``rows``.

    The features each setup serves are the body's pocket, slot, step and hole features whose
    approach is the setup's direction (what ``dfm.features.access`` counted).
    """
    acc = getattr(body, "access", None) or {}
    if "setups" not in acc and "undercut_faces" not in acc:
        return AccessVM(known=False, summary=UNKNOWN, setups=(), undercuts=(), undercut_faces=(),
                        note="No access model in this result (the feature analysers did not run), so the setups "
                             "and undercuts are not known.")
    mine = [r for r in rows if r.body == body.index and r.code in ACCESS_CODES]
    cut_feats = [f for f in body.features if f.kind in SETUP_KINDS and f.props.get("approach") is not None]
    setups = []
    for n, s in enumerate(acc.get("setups") or (), 1):
        approach = s.get("approach")
        served = sorted((f for f in cut_feats if _same_direction(f.props["approach"], approach)),
                        key=lambda f: _natural(f.id))
        ids = tuple(f.id for f in served)
        count = s.get("features")
        count = count if isinstance(count, int) and not isinstance(count, bool) else len(ids)
        faces = _faces_of(served)
        tilt = fmt(s.get("tilt_deg"), 1)
        setups.append(SetupRow(
            number=n, direction=direction_text(approach), tilt=tilt if tilt == UNKNOWN else f"{tilt}°",
            count=count, features=ids,
            features_text=", ".join(ids) if ids else (_plural(count, "feature") if count else UNKNOWN),
            faces=faces, faces_text=_faces_text(faces),
            findings=tuple(_link(r) for r in mine if r.feature and r.feature in ids), body=body.index,
        ))
    under = tuple(sorted({int(i) for i in acc.get("undercut_faces") or ()}))
    groups = []
    left = set(under)
    for f in sorted((f for f in body.features if f.kind == "undercut"), key=lambda f: _natural(f.id)):
        faces = tuple(i for i in f.faces if not under or i in under) or tuple(f.faces)
        left -= set(faces)
        profile = f.props.get("profile")
        groups.append((f"{f.id} ({profile})" if profile else f.id, faces, f.id))
    if left:
        groups.append(("undercut faces" if not groups else "other undercut faces", tuple(sorted(left)), ""))
    undercuts = tuple(
        UndercutRow(label=label, faces=faces, faces_text=_faces_text(faces), body=body.index,
                    findings=tuple(_link(r) for r in mine if (fid and r.feature == fid) or set(r.faces) & set(faces)))
        for label, faces, fid in groups)
    summary = "; ".join((
        f"{_plural(len(setups), 'setup')}: {', '.join(s.direction for s in setups)}" if setups else "no setup",
        _plural(len(under), "undercut face") + (f" ({_faces_text(under)})" if under else "")))
    note = "" if setups else "No machined feature (pocket, slot, step or hole) was found, so no setup is needed."
    return AccessVM(known=True, summary=summary, setups=tuple(setups), undercuts=undercuts, undercut_faces=under,
                    note=note)


def _colour(rgb: tuple[int, int, int], shade: float) -> str:
    r, g, b = (max(0, min(255, round(c * shade))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _hex(rgb: tuple[int, int, int]) -> str:
    return _colour(rgb, 1.0)


def picture_vm(pic: Any, face_severity: Mapping[int, str], undercut: Sequence[int] = ()) -> PictureVM:
    """Colour a :class:`dfm.kernel.render.Picture`: each face by its worst finding's severity.

    Undercut faces are violet unless an error lies on them (an error says more).
    """
    under = set(undercut)
    paths = []
    for run in pic.runs:
        sev = face_severity.get(run.face)
        uc = run.face in under
        if sev == "error" or (sev and not uc):
            rgb = SEVERITY_COLOURS[sev]
        else:
            rgb = UNDERCUT_COLOUR if uc else BASE_COLOUR
        paths.append(PathVM(face=run.face, fill=_colour(rgb, 0.35 + 0.65 * run.shade), fill_d=run.fill_d,
                            edge_d=run.edge_d, flagged=sev is not None, undercut=uc))
    return PictureVM(view=pic.view, title=_VIEW_TITLES.get(pic.view, pic.view), width=pic.width,
                     height=pic.height, paths=tuple(paths))


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _tool_text(tool: Any, by_number: Mapping[int, Any]) -> str:
    if isinstance(tool, int) and not isinstance(tool, bool):
        row = by_number.get(tool)
        if row is None:
            return f"T{tool}"
        dia = _get(row, "diameter_mm")
        return " ".join(x for x in (f"T{tool}", str(_get(row, "id", "") or ""),
                                    f"Ø{fmt(dia, 4)} mm" if dia is not None else "") if x)
    cutter = _get(tool, "cutter", tool)
    if cutter is None:
        return UNKNOWN
    if isinstance(cutter, str):
        return cutter
    dia = _get(cutter, "diameter_mm")
    return " ".join(x for x in (str(_get(cutter, "id", "") or ""),
                                f"Ø{fmt(dia, 4)} mm" if dia is not None else "") if x) or UNKNOWN


def _seconds(obj: Any) -> float | None:
    for key in ("time_s", "cycle_time_s"):
        v = _get(obj, key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def plan_vm(cam: Any) -> PlanVM:
    """Build the machining plan from the result's ``cam`` field (object or mapping), if any.

    Reads ``setups[].operations[]`` (``name``, ``kind``, ``features``, ``tool`` — a T number
    looked up in ``tools[]``, or a cutter — and ``cycle_time_s`` or ``time_s``), the whole
    ``cycle_time_s`` (or ``cycle_time_min``), ``unmachined``/``unreachable`` features, and each
    setup's ``sheet`` (lines: the first its title, the rest how to hold and zero it).
    """
    if cam is None:
        return PlanVM(rows=(), cycle_time_min=None, cycle_time=UNKNOWN,
                      note="No machining plan in this result (the CAM stage did not run), so there is no "
                           "cycle time and the quote cannot price machine time.")
    by_number = {}
    for t in _get(cam, "tools") or ():
        num = _get(t, "number")
        if isinstance(num, int):
            by_number[num] = t
    rows = []
    left: list[str] = []
    part: list[str] = []  # machined, but not all of it
    setups = _get(cam, "setups") or ()
    groups = [(str(_get(s, "index", i + 1)), _get(s, "operations") or ()) for i, s in enumerate(setups)]
    if not groups and _get(cam, "operations"):
        groups = [("1", _get(cam, "operations"))]
    for s in setups:
        for item in _get(s, "unmachined") or ():
            feature, index = _get(item, "feature", UNKNOWN), _get(s, "index", UNKNOWN)
            left.append(f"{feature} (setup {index}): {_get(item, 'reason', '')}")
        for item in _get(s, "partly") or ():
            feature, index = _get(item, "feature", UNKNOWN), _get(s, "index", UNKNOWN)
            part.append(f"{feature} (setup {index}): {_get(item, 'reason', '')}")
    for item in _get(cam, "unreachable") or ():
        left.append(f"{_get(item, 'feature', UNKNOWN)}: {_get(item, 'reason', '')}")
    partly: list[str] = []
    for item in _get(_get(cam, "guard") or {}, "incomplete") or ():
        frac = _get(item, "fraction")
        share = f"{fmt(100 * frac, 1)} % removed, " if isinstance(frac, (int, float)) else ""
        partly.append(f"{_get(item, 'feature', UNKNOWN)} (setup {_get(item, 'setup', UNKNOWN)}): {share}"
                      f"{_get(item, 'reason', '')}")
    for setup, ops in groups:
        for op in ops:
            t = _seconds(op)
            rows.append(PlanRow(setup=setup, name=str(_get(op, "name", "")), kind=str(_get(op, "kind", "") or ""),
                                tool=_tool_text(_get(op, "tool"), by_number),
                                features=", ".join(_get(op, "features", ()) or ()) or UNKNOWN,
                                time=UNKNOWN if t is None else fmt(t / 60.0, 2) + " min"))
    sheets = []
    for i, s in enumerate(setups):
        lines = [str(x) for x in _get(s, "sheet") or ()]
        if lines:
            sheets.append(SheetVM(setup=str(_get(s, "index", i + 1)), title=lines[0],
                                  lines=tuple(x.strip() for x in lines[1:])))
    minutes = _get(cam, "cycle_time_min")
    if minutes is None and isinstance(_get(cam, "cycle_time_s"), (int, float)):
        minutes = _get(cam, "cycle_time_s") / 60.0
    notes = [] if minutes is not None else ["The machining plan carries no cycle time; machine time is not priced."]
    if left:
        notes.append("Not machined by this plan (the cycle time and the quote leave them out): " + "; ".join(left))
    if part:
        notes.append("Machined only in part by this plan (the cycle time and the quote leave the rest out): "
                     + "; ".join(part))
    if partly:
        notes.append("Left partly uncut by this plan (the guard's simulation): " + "; ".join(partly))
    return PlanVM(rows=tuple(rows), cycle_time_min=None if minutes is None else float(minutes),
                  cycle_time=UNKNOWN if minutes is None else fmt(minutes, 2) + " min", note=" ".join(notes),
                  sheets=tuple(sheets))


def material_and_finish(result: DfmResult) -> tuple[str, str]:
    """Return the material and finish of the run: the command line's, else the part specification's."""
    material = str(result.settings.get("material") or "")
    finish = str(result.settings.get("finish") or "")
    if material and finish:
        return material, finish
    try:
        from dfm.rules import spec as specs
    except ImportError:
        return material, finish
    try:
        path = specs.spec_path_for(result.file, result.settings.get("spec"))
        part_spec = specs.load_spec(path) if path is not None and path.is_file() else None
    except (DfmError, OSError):
        part_spec = None  # the analysis reports a bad spec itself
    if part_spec is not None:
        material = material or str(part_spec.material or "")
        if not finish and part_spec.finish is not None:
            finish = part_spec.finish.profile_name
    return material, finish


def quote_vm(result: DfmResult, plan: PlanVM, qs: QuoteSettings) -> QuoteVM:
    """Price per piece and per batch for each quantity of the settings."""
    material, finish = material_and_finish(result)
    notes: list[str] = []
    complete = True
    qtys = qs.quantities
    lines: list[QuoteLine] = []
    setup_cost = qs.setup_minutes / 60.0 * qs.machine_rate_per_hour
    lines.append(QuoteLine("Setup", f"{fmt(qs.setup_minutes, 1)} min at {money(qs.machine_rate_per_hour)}/h, "
                                    "shared by the batch", tuple(money(setup_cost / q) for q in qtys)))
    totals = [setup_cost / q for q in qtys]
    if plan.cycle_time_min is not None:
        machine = plan.cycle_time_min / 60.0 * qs.machine_rate_per_hour
        lines.append(QuoteLine("Machine time", f"{plan.cycle_time} at {money(qs.machine_rate_per_hour)}/h",
                               tuple(money(machine) for _ in qtys)))
        totals = [t + machine for t in totals]
    else:
        complete = False
        lines.append(QuoteLine("Machine time", "no cycle time: not priced", tuple(UNKNOWN for _ in qtys)))
        notes.append("Machine time is not priced: this result has no machining plan with a cycle time.")
    density = material_densities().get(material)
    price = qs.material_price_per_kg.get(material)
    # The report goes to a customer: name the settings file, never the server's path to it.
    source = PurePath(qs.path).name
    if not result.bodies:
        complete = False
        notes.append("No body was analysed, so there is no stock to price.")
    elif not material:
        complete = False
        lines.append(QuoteLine("Material", "no material given: not priced", tuple(UNKNOWN for _ in qtys)))
        notes.append("Material is not priced: give one with --material (or in the part spec).")
    elif density is None or price is None:
        complete = False
        why = "no density in rules/data/materials.toml" if density is None else f"no price in {source}"
        lines.append(QuoteLine("Material", f"{material}: {why}", tuple(UNKNOWN for _ in qtys)))
        notes.append(f"Material {material} is not priced: {why}.")
    else:
        a = qs.stock_allowance_mm
        vol_mm3 = sum(math.prod(v + 2 * a for v in b.bbox_mm) for b in result.bodies)
        kg = vol_mm3 * density / 1e6
        cost = kg * price
        lines.append(QuoteLine("Material", f"{material} stock {fmt(vol_mm3 / 1000, 3)} cm³ × {fmt(density, 2)} g/cm³ "
                                           f"= {fmt(kg * 1000, 2)} g at {money(price)}/kg",
                               tuple(money(cost) for _ in qtys)))
        totals = [t + cost for t in totals]
    if finish and finish != "none":
        key = qs.finish_aliases.get(finish, finish)
        rates = qs.finish.get(key)
        if rates is None:
            complete = False
            lines.append(QuoteLine("Finish", f"{finish}: no price in {source}", tuple(UNKNOWN for _ in qtys)))
            notes.append(f"Finish {finish} is not priced: add it to the quote settings.")
        else:
            per, lot = rates.get("per_piece", 0.0), rates.get("lot_charge", 0.0)
            lines.append(QuoteLine("Finish", f"{key}: {money(per)} per piece + {money(lot)} per lot",
                                   tuple(money(per + lot / q) for q in qtys)))
            totals = [t + per + lot / q for t, q in zip(totals, qtys, strict=True)]
    return QuoteVM(currency=qs.currency, quantities=qtys, lines=tuple(lines),
                   piece=tuple(money(t) for t in totals),
                   batch=tuple(money(t * q) for t, q in zip(totals, qtys, strict=True)),
                   complete=complete, notes=tuple(notes), source=source)


def _display_name(file: str) -> str:
    """The uploaded file as the customer knows it: its name, or ``archive.zip!member`` for a zip member."""
    archive, sep, member = str(file).partition("!")
    return f"{PurePath(archive).name}!{member}" if sep else PurePath(file).name


def finding_rows(result: DfmResult) -> tuple[FindingRow, ...]:
    """All findings of ``result`` as table rows, in table order, each with its anchor (``finding-N``)."""
    many = len(result.bodies) > 1
    rows = [_finding_row(f, 0, "file") for f in result.findings]
    for b in result.bodies:
        rows.extend(_finding_row(f, b.index, f"body {b.index}" if many else "") for f in b.findings)
    return tuple(replace(r, anchor=f"finding-{n}") for n, r in enumerate(sorted(rows, key=_row_key), 1))


def build(result: DfmResult, pictures: Mapping[int, Sequence[Any]] | None = None,
          quote_settings: QuoteSettings | None = None, pictures_note: str = "", cam: Any = None,
          plan_note: str = "") -> ReportVM:
    """Build the view model of ``result``.

    Args:
        result: The analysis.
        pictures: Per body index, its :class:`dfm.kernel.render.Picture` views.
        quote_settings: Rates; the shipped ``rules/quote.toml`` when None.
        pictures_note: Why there are no pictures, when there are none.
        cam: The machining plan; the result's ``cam`` field when None.
        plan_note: Why there is no machining plan, when there is none.

    """
    qs = quote_settings or load_quote_settings()
    pictures = pictures or {}
    material, finish = material_and_finish(result)
    # Every finding row gets its place in the page before the sections that link to it are built.
    all_rows = finding_rows(result)
    bodies = []
    for b in result.bodies:
        face_sev: dict[int, str] = {}
        for f in sorted(b.findings, key=lambda f: f.severity.rank, reverse=True):
            for fid in f.faces:
                face_sev[fid] = f.severity.value  # worst severity written last wins
        feats = sorted((f for f in b.features if f.kind in TABLE_KINDS),
                       key=lambda f: (TABLE_KINDS.index(f.kind), f.id))
        access = access_vm(b, all_rows)
        pics = tuple(picture_vm(p, face_sev, access.undercut_faces) for p in pictures.get(b.index, ()))
        bodies.append(BodyVM(
            index=b.index, name=b.name, size=" × ".join(fmt(v, 3) for v in b.bbox_mm) + " mm",
            volume=_with_unit(b.volume_mm3, 3, "mm³"), faces=b.faces, pictures=pics,
            pictures_note="" if pics else (pictures_note or "No pictures: the part's geometry was not available."),
            findings=tuple(r for r in all_rows if r.body == b.index),
            features=tuple(_feature_row(f, b.index) for f in feats),
            tools=tuple(_tool_row(t) for t in sorted(b.tools, key=lambda t: (t.diameter_mm, t.id))),
            sizes=size_groups(b), access=access,
        ))
    legend = [("error", _hex(SEVERITY_COLOURS["error"])), ("warning", _hex(SEVERITY_COLOURS["warning"])),
              ("note", _hex(SEVERITY_COLOURS["info"]))]
    if any(b.access.undercut_faces for b in bodies):
        legend.append(("undercut (no straight cutter reaches it)", _hex(UNDERCUT_COLOUR)))
    legend += [("no finding", _hex(BASE_COLOUR)), ("selected finding", _hex(SELECTED_COLOUR))]
    counts = {s.value: 0 for s in Severity}
    for f in result.all_findings:
        counts[f.severity.value] += 1
    plan = plan_vm(cam if cam is not None else getattr(result, "cam", None))
    if plan_note and not plan.rows and plan.cycle_time_min is None:
        plan = replace(plan, note=plan_note + " The quote cannot price machine time.")
    path = PurePath(result.file)
    # The STEP writer's own placeholder (with a per-process counter) is no name a person gave.
    names = tuple(n for n in result.product_names if n and not n.startswith(_TRANSLATOR_NAMES))
    part_name = _part_name(result, path)
    size = bodies[0].size if len(bodies) == 1 else (f"{len(bodies)} bodies" if bodies else UNKNOWN)
    source_units = result.source_units
    units = "mm" + (f" (the file declares {source_units})" if source_units not in ("mm", "unknown", "") else "")
    return ReportVM(
        title=f"DFM and quote review: {part_name}",
        part_name=part_name, file_name=_display_name(result.file), product_names=names,
        material=material or "not given",
        finish=finish or "none",
        units=units, size=size, verdict=result.verdict,
        verdict_text=("The file could not be analysed" if result.status != "ok" else VERDICT_TEXT[result.verdict]),
        counts=counts, generated_at=result.generated_at or "", dfm_version=result.dfm_version,
        error="" if result.error is None else f"{result.error.code} {result.error.name}: {result.error.message}",
        findings=all_rows, bodies=tuple(bodies), plan=plan,
        quote=quote_vm(result, plan, qs),
        sizes_note=sizes_note(result, finish, sum(len(b.sizes) for b in bodies)), legend=tuple(legend),
        undercut_colour=_hex(UNDERCUT_COLOUR),
    )


def _part_name(result: DfmResult, path: PurePath) -> str:
    """Pick the body's name for one body, else the first product name a person gave, else the file stem."""
    if len(result.bodies) == 1 and not result.bodies[0].name.startswith("body-"):
        return result.bodies[0].name
    for name in result.product_names:
        if name and not name.startswith(_TRANSLATOR_NAMES):
            return name
    return path.stem


#: Product names that STEP writers put in when the user gave none.
_TRANSLATOR_NAMES = ("Open CASCADE STEP translator",)


def _row_key(r: FindingRow) -> tuple[int, str, int, tuple[int, ...], str]:
    return (Severity(r.severity).rank, r.code, r.body, r.faces, r.message)
