"""The HTML report's view model: plain data built from a :class:`DfmResult`.

The templates read these dataclasses and nothing else (coverage.py's build-then-render
split): every number is formatted, every row sorted and every missing section explained
here, so the templates only lay out. Pictures come in as :class:`dfm.kernel.render.Picture`
data (projected, sorted, face-tagged paths); their colours are decided here.
"""

from __future__ import annotations

import math
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
    """Format a number for people: fixed decimals, trailing zeros dropped, '-' for None."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
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
    flutes: str  # "?" when the catalogue does not say
    role: str
    features: str
    source: str


@dataclass(frozen=True)
class AnodizeRow:
    """One row of the pre-machining table for a finish."""

    feature: str
    faces: tuple[int, ...]
    faces_text: str
    body: int
    finished: str
    premachine: str
    growth: str
    band: str
    target: str = ""
    action: str = ""
    feasible: bool = True


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
class PlanVM:
    """The machining plan and its cycle time (minutes), or why there is none."""

    rows: tuple[PlanRow, ...]
    cycle_time_min: float | None
    cycle_time: str
    note: str


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
    anodize: tuple[AnodizeRow, ...]


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
    return ", ".join(str(f) for f in faces) if faces else "-"


def _finding_row(f: Finding, body: int, where: str) -> FindingRow:
    unit = f" {f.unit}" if f.unit else ""
    return FindingRow(
        code=f.code, name=f.name, severity=f.severity.value, message=f.message,
        measured="-" if f.value is None else fmt(f.value, 4) + unit,
        limit="-" if f.limit is None else fmt(f.limit, 4) + unit,
        why=f.why, fix=f.fix, faces=tuple(f.faces), faces_text=_faces_text(f.faces), body=body, where=where,
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
        dims.append((label, fmt(f.dims[key], 4) + (f" {unit}" if unit else "")))
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
    return ToolRow(id=t.id, name=t.name or t.id, kind=t.kind, diameter=fmt(t.diameter_mm, 4),
                   corner_radius=fmt(t.corner_radius_mm, 4), reach=fmt(t.reach_mm, 3),
                   flute_length=fmt(t.flute_length_mm, 3), flutes=str(t.flutes) if t.flutes else "?", role=t.role,
                   features=", ".join(t.features) or "-", source=t.source)


def _anodize_row(f: Feature, body: int) -> AnodizeRow:
    d = f.dims
    lo, hi = d.get("premachine_min_mm"), d.get("premachine_max_mm")
    g0, g1 = d.get("growth_min_um"), d.get("growth_max_um")
    target = " ".join(str(f.props[k]) for k in ("target", "designation") if f.props.get(k))
    if "plus_um" in d and "minus_um" in d:
        target += f" (+{fmt(d['plus_um'], 1)}/−{fmt(d['minus_um'], 1)} µm)"
    return AnodizeRow(
        target=target.strip(), action=str(f.props.get("action", "") or ""),
        feasible=bool(f.props.get("feasible", True)),
        feature=str(f.props.get("feature", f.id)), faces=tuple(f.faces), faces_text=_faces_text(f.faces), body=body,
        finished=fmt(d.get("finished_mm"), 4) + " mm" if "finished_mm" in d else "-",
        premachine=(f"{fmt(lo, 4)} … {fmt(hi, 4)} mm" if lo is not None and hi is not None else "-"),
        growth=(f"{fmt(g0, 1)} … {fmt(g1, 1)} µm" if g0 is not None and g1 is not None else "-"),
        band=fmt(d.get("tolerance_band_um"), 1) + " µm" if "tolerance_band_um" in d else "-",
    )


def _colour(rgb: tuple[int, int, int], shade: float) -> str:
    r, g, b = (max(0, min(255, round(c * shade))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def picture_vm(pic: Any, face_severity: Mapping[int, str]) -> PictureVM:
    """Colour a :class:`dfm.kernel.render.Picture`: each face by its worst finding's severity."""
    paths = []
    for run in pic.runs:
        sev = face_severity.get(run.face)
        rgb = SEVERITY_COLOURS[sev] if sev else BASE_COLOUR
        paths.append(PathVM(face=run.face, fill=_colour(rgb, 0.35 + 0.65 * run.shade), fill_d=run.fill_d,
                            edge_d=run.edge_d, flagged=sev is not None))
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
        return "-"
    if isinstance(cutter, str):
        return cutter
    dia = _get(cutter, "diameter_mm")
    return " ".join(x for x in (str(_get(cutter, "id", "") or ""),
                                f"Ø{fmt(dia, 4)} mm" if dia is not None else "") if x) or "-"


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
    ``cycle_time_s`` (or ``cycle_time_min``), and ``unmachined``/``unreachable`` features.
    """
    if cam is None:
        return PlanVM(rows=(), cycle_time_min=None, cycle_time="-",
                      note="No machining plan in this result (the CAM stage did not run), so there is no "
                           "cycle time and the quote cannot price machine time.")
    by_number = {}
    for t in _get(cam, "tools") or ():
        num = _get(t, "number")
        if isinstance(num, int):
            by_number[num] = t
    rows = []
    left: list[str] = []
    setups = _get(cam, "setups") or ()
    groups = [(str(_get(s, "index", i + 1)), _get(s, "operations") or ()) for i, s in enumerate(setups)]
    if not groups and _get(cam, "operations"):
        groups = [("1", _get(cam, "operations"))]
    for s in setups:
        for item in _get(s, "unmachined") or ():
            left.append(f"{_get(item, 'feature', '?')} (setup {_get(s, 'index', '?')}): {_get(item, 'reason', '')}")
    for item in _get(cam, "unreachable") or ():
        left.append(f"{_get(item, 'feature', '?')}: {_get(item, 'reason', '')}")
    for setup, ops in groups:
        for op in ops:
            t = _seconds(op)
            rows.append(PlanRow(setup=setup, name=str(_get(op, "name", "")), kind=str(_get(op, "kind", "") or ""),
                                tool=_tool_text(_get(op, "tool"), by_number),
                                features=", ".join(_get(op, "features", ()) or ()) or "-",
                                time="-" if t is None else fmt(t / 60.0, 2) + " min"))
    minutes = _get(cam, "cycle_time_min")
    if minutes is None and isinstance(_get(cam, "cycle_time_s"), (int, float)):
        minutes = _get(cam, "cycle_time_s") / 60.0
    notes = [] if minutes is not None else ["The machining plan carries no cycle time; machine time is not priced."]
    if left:
        notes.append("Not machined by this plan (the cycle time and the quote leave them out): " + "; ".join(left))
    return PlanVM(rows=tuple(rows), cycle_time_min=None if minutes is None else float(minutes),
                  cycle_time="-" if minutes is None else fmt(minutes, 2) + " min", note=" ".join(notes))


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
        lines.append(QuoteLine("Machine time", "no cycle time: not priced", tuple("-" for _ in qtys)))
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
        lines.append(QuoteLine("Material", "no material given: not priced", tuple("-" for _ in qtys)))
        notes.append("Material is not priced: give one with --material (or in the part spec).")
    elif density is None or price is None:
        complete = False
        why = "no density in rules/data/materials.toml" if density is None else f"no price in {source}"
        lines.append(QuoteLine("Material", f"{material}: {why}", tuple("-" for _ in qtys)))
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
            lines.append(QuoteLine("Finish", f"{finish}: no price in {source}", tuple("-" for _ in qtys)))
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
    many = len(result.bodies) > 1
    bodies = []
    all_rows = [_finding_row(f, 0, "file") for f in result.findings]
    for b in result.bodies:
        rows = [_finding_row(f, b.index, f"body {b.index}" if many else "") for f in b.findings]
        all_rows.extend(rows)
        face_sev: dict[int, str] = {}
        for f in sorted(b.findings, key=lambda f: f.severity.rank, reverse=True):
            for fid in f.faces:
                face_sev[fid] = f.severity.value  # worst severity written last wins
        feats = sorted((f for f in b.features if f.kind in TABLE_KINDS),
                       key=lambda f: (TABLE_KINDS.index(f.kind), f.id))
        anod = sorted((f for f in b.features if f.kind == "anodize_allowance"), key=lambda f: f.id)
        pics = tuple(picture_vm(p, face_sev) for p in pictures.get(b.index, ()))
        bodies.append(BodyVM(
            index=b.index, name=b.name, size=" × ".join(fmt(v, 3) for v in b.bbox_mm) + " mm",
            volume=fmt(b.volume_mm3, 3) + " mm³", faces=b.faces, pictures=pics,
            pictures_note="" if pics else (pictures_note or "No pictures: the part's geometry was not available."),
            findings=tuple(sorted(rows, key=_row_key)),
            features=tuple(_feature_row(f, b.index) for f in feats),
            tools=tuple(_tool_row(t) for t in sorted(b.tools, key=lambda t: (t.diameter_mm, t.id))),
            anodize=tuple(_anodize_row(f, b.index) for f in anod),
        ))
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
    material, finish = material_and_finish(result)
    size = bodies[0].size if len(bodies) == 1 else (f"{len(bodies)} bodies" if bodies else "-")
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
        findings=tuple(sorted(all_rows, key=_row_key)), bodies=tuple(bodies), plan=plan,
        quote=quote_vm(result, plan, qs),
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
