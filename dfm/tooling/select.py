"""The largest-usable-tool search: pure functions over features and a catalogue (no OCP).

For every milled feature (``pocket``, ``slot``, ``step``, vertical ``corner``) and every
``hole`` (docs/features.md), :func:`select_tools` picks the largest catalogue tool that can
finish it:

* vertical corner radius R: ``ratio × tool radius <= R`` (``corner_clearance_ratio``);
* narrowest width w: ``ratio × tool diameter <= w`` (no full-width slotting as a finish);
* floor-to-wall radius F: a sharp floor (F = 0) needs a square end mill; a fillet needs a
  corner-radius or ball end mill with ``0 < r <= F``; a curved floor needs ``r > 0``;
* reach: ``reach >= depth + reach_clearance``, plus the depth of every enclosing region
  (a pocket whose floor is this feature's opening) that the shank is too wide to enter.
  An unknown shank diameter is taken as too wide.

Among the tools that pass, the largest diameter wins, then the corner form closest to the
floor fillet, then the shortest reach (stiffest), then the id. Holes take a drill of their
own diameter that reaches the depth, else are milled (helical interpolation) by an end mill
under the same corner rule (the hole wall is a corner of radius d/2). Pockets, slots and
steps also get a roughing tool: the largest square/corner-radius tool that fits the width
and reaches, when it is larger than the finishing tool (which then does rest machining).
A region whose narrowest island gap (``min_gap_mm``) the finishing tool cannot pass with the
milling program's finishing allowance on both sides also gets a gap tool: the largest end mill
within the program's bound for that gap (``gap - 2 x allowance - 0.01``) that reaches.

When nothing passes, every tool is asked which design changes would let it pass; the
smallest single change per kind (corner radius, width, floor radius, depth) becomes the
concrete fix of a DFM6xx finding.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dfm.model import Feature, Finding, ToolChoice, Vec3
from dfm.tooling import clearance
from dfm.tooling.catalogue import EPS, Catalogue, Tool, _num
from dfm.tooling.rules import ToolingParams, ToolingRules, default_rules
from dfm.tooling.threadmill import ThreadError, pick_thread_mill, thread_job, thread_reach, through_extra

#: Feature kinds that are milled regions (get a finishing and a roughing tool).
REGION_KINDS = ("pocket", "slot", "step")
#: Kinds the search looks at.
TOOLED_KINDS = (*REGION_KINDS, "corner", "hole")
#: Kinds whose finishing tool bounds the body's ``max_tool_diameter_mm``.
MILLED_KINDS = (*REGION_KINDS, "corner")

ROLE_ORDER = {"rough": 0, "finish": 1, "rest": 2, "gap": 3, "drill": 4, "thread": 5}
#: Clearance beyond the allowances on both sides that a gap tool keeps to the gap (mm): the
#: milling program's rule (dfm.cam.program ``_mill_region``), so both pick the same tool.
GAP_CLEARANCE_MM = 0.01
_CHANGE_ORDER = ("corner", "width", "floor", "depth")
_CHANGE_RULE = {"corner": "no-tool-for-corner", "width": "no-tool-for-width",
                "floor": "no-tool-for-floor-radius", "depth": "no-tool-reach"}


@dataclass(frozen=True)
class Enclosure:
    """A region above a feature that the tool passes through (innermost first)."""

    feature_id: str
    depth_mm: float
    width_mm: float | None


@dataclass(frozen=True)
class Requirement:
    """What a feature asks of a tool, read from its dims/props (docs/features.md).

    Attributes:
        feature_id: The feature.
        kind: The feature kind.
        depth_mm: Depth the tool's tip must reach below the opening.
        corner_radius_mm: Smallest vertical corner radius (0 = sharp), None if no corner limits.
        width_mm: Narrowest width, None if it does not limit.
        floor: ``flat`` | ``curved`` | ``none`` (through or not a floor feature).
        floor_radius_mm: Floor-to-wall radius of a flat floor (0 = sharp).
        enclosures: Regions above the opening, innermost first.
        hole_diameter_mm: Hole diameter (holes only).
        drill_depth_mm: Depth a drill's flutes must reach, point included (holes only).
        through: The feature runs out through the part's bottom (cut ``breakthrough`` past it).
        gap_mm: Narrowest gap between an island and a wall or another island (the feature's
            ``min_gap_mm``), None without islands.
        islands: How many islands stand in the region.
        outline: The region's floor outline (its ``outline``, in its own frame) when it has
            islands: the roughing tool is sized by what it clears between them
            (:mod:`dfm.tooling.clearance`); empty otherwise.
        island_outlines: Its islands' outlines, in the same frame.

    """

    feature_id: str
    kind: str
    depth_mm: float
    corner_radius_mm: float | None = None
    width_mm: float | None = None
    floor: str = "none"
    floor_radius_mm: float = 0.0
    enclosures: tuple[Enclosure, ...] = ()
    hole_diameter_mm: float | None = None
    drill_depth_mm: float | None = None
    through: bool = False
    gap_mm: float | None = None
    islands: int = 0
    outline: tuple[tuple[float, float], ...] = ()
    island_outlines: tuple[tuple[tuple[float, float], ...], ...] = ()

    def diameter_limit_mm(self, params: ToolingParams) -> float | None:
        """Return the geometric bound on the finishing tool's diameter (catalogue-independent)."""
        k = params.corner_clearance_ratio
        limits = []
        if self.corner_radius_mm is not None:
            limits.append(2.0 * self.corner_radius_mm / k)
        if self.width_mm is not None:
            limits.append(self.width_mm / k)
        return min(limits) if limits else None


@dataclass(frozen=True)
class Change:
    """A design change that would let one tool finish a feature.

    Attributes:
        kind: ``corner`` | ``width`` | ``floor`` | ``depth``.
        value_mm: The new value (corner radius, width, floor radius, or depth).

    """

    kind: str
    value_mm: float


@dataclass(frozen=True)
class Alternative:
    """One way to make an unmachinable feature machinable: changes plus the tool they allow."""

    changes: tuple[Change, ...]
    tool: Tool


@dataclass(frozen=True)
class FeatureTooling:
    """The tool decision for one feature.

    Attributes:
        feature_id: The feature.
        operation: ``mill`` | ``drill`` | ``helical-mill`` | ``thread-mill``.
        finish: The finishing tool (the drill for a drilled hole), or None when nothing fits.
        rough: A larger roughing tool for the bulk of a pocket, or None.
        required_reach_mm: Reach the tool needs (with the finishing tool's shank; without a
            tool, assuming the shank enters no enclosing region).
        diameter_limit_mm: The geometric bound on the diameter, from corners and width.
        alternatives: Design changes, when ``finish`` is None.
        problem: Rule name of the finding when ``finish`` is None.
        gap: A smaller tool for the gap between an island and a wall (or another island) that
            ``finish`` cannot pass, or None.
        gap_reason: Why ``gap`` is there (or, when no tool fits the gap, what it would have to pass).
        gap_alternatives: Design changes that give the gap a tool, when it needs one and none fits.
        gap_problem: Rule name of the finding when the gap needs a tool and none fits.

    """

    feature_id: str
    operation: str
    finish: Tool | None
    rough: Tool | None = None
    required_reach_mm: float = 0.0
    diameter_limit_mm: float | None = None
    alternatives: tuple[Alternative, ...] = ()
    problem: str | None = None
    gap: Tool | None = None
    gap_reason: str = ""
    gap_alternatives: tuple[Alternative, ...] = ()
    gap_problem: str | None = None


@dataclass(frozen=True)
class ToolingResult:
    """What :func:`select_tools` returns: per feature, the part's tool set, findings.

    Attributes:
        per_feature: Decisions, in feature order.
        tools: The part's tool set, one row per (tool, role) (rough/finish/rest/gap/drill/thread), in
            machining order: roles in that order, largest first within a role.
        features: The input features with ``max_tool_diameter_mm``, ``required_reach_mm``,
            ``tool_diameter_limit_mm`` dims and ``tool``/``rough_tool``/``tool_operation`` props.
        max_tool_diameter_mm: Largest tool that finishes every milled feature, or None.
        limiting_feature: Id of the feature that sets it.
        findings: DFM6xx findings (unsorted; the caller sorts).
        catalogue_tools: The chosen tools by id (full catalogue records, for CAM).

    """

    per_feature: tuple[FeatureTooling, ...]
    tools: tuple[ToolChoice, ...]
    features: tuple[Feature, ...]
    max_tool_diameter_mm: float | None
    limiting_feature: str | None
    findings: tuple[Finding, ...]
    catalogue_tools: Mapping[str, Tool] = field(default_factory=dict)


# --- reading features --------------------------------------------------------------------

def _approach(f: Feature) -> Vec3 | None:
    a = f.props.get("approach")
    if a is None:
        return f.axis
    return (float(a[0]), float(a[1]), float(a[2]))


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _inside(pt: tuple[float, float], poly: Sequence[Sequence[float]]) -> bool:
    """Even-odd point-in-polygon test."""
    x, y = pt
    inside = False
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i][0], poly[i][1]
        x2, y2 = poly[(i + 1) % n][0], poly[(i + 1) % n][1]
        if (y1 > y) != (y2 > y):
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if xc > x:
                inside = not inside
    return inside


class RegionIndex(tuple):  # type: ignore[type-arg]
    """The body's regions, with the ones that can enclose something sorted by floor height.

    :func:`_parent` looks up the regions whose floor is at a feature's opening by bisection
    instead of walking every region (a 10 000-face comb: 1 428 regions, 0.7 s -> 0.01 s).
    """

    floors: list[float]
    rows: list[tuple[float, int, Feature, Vec3, Any, Any, Any]]

    def __new__(cls, regions: Sequence[Feature]) -> RegionIndex:
        """Index ``regions`` (kept in order as the tuple's items)."""
        self = super().__new__(cls, regions)
        rows = []
        for i, p in enumerate(self):
            if p.props.get("through"):
                continue
            pa = _approach(p)
            outline = p.props.get("outline")
            fu, fv = p.props.get("frame_u"), p.props.get("frame_v")
            floor = p.props.get("floor_z_mm")
            if pa is None or not outline or fu is None or fv is None or floor is None:
                continue
            rows.append((float(floor), i, p, pa, outline, fu, fv))
        rows.sort(key=lambda r: (r[0], r[1]))
        self.floors = [r[0] for r in rows]
        self.rows = rows
        return self


def _index(regions: Sequence[Feature]) -> RegionIndex:
    return regions if isinstance(regions, RegionIndex) else RegionIndex(regions)


def _parent(f: Feature, regions: Sequence[Feature]) -> Feature | None:
    """Return the region whose floor is ``f``'s opening and whose outline holds ``f`` (same approach)."""
    a = _approach(f)
    top = f.props.get("top_z_mm")
    if top is None and f.kind == "hole" and a is not None and f.location_mm is not None:
        top = _dot(f.location_mm, a)  # a hole's location is its opening
    if a is None or top is None or f.location_mm is None:
        return None
    index = _index(regions)
    top = float(top)
    lo = bisect.bisect_left(index.floors, top - 2e-6)
    hi = bisect.bisect_right(index.floors, top + 2e-6)
    best = None
    for floor, _pos, p, pa, outline, fu, fv in sorted(index.rows[lo:hi], key=lambda r: r[1]):  # file order
        if p.id == f.id or abs(floor - top) > 1e-6 or _dot(a, pa) < 1 - 1e-9:
            continue
        uv = (_dot(f.location_mm, fu), _dot(f.location_mm, fv))
        if _inside(uv, outline) and (best is None or p.id < best.id):
            best = p
    return best


def _enclosures(f: Feature, regions: Sequence[Feature]) -> tuple[Enclosure, ...]:
    regions = _index(regions)
    out: list[Enclosure] = []
    seen = {f.id}
    cur = _parent(f, regions)
    while cur is not None and cur.id not in seen:
        seen.add(cur.id)
        out.append(Enclosure(cur.id, float(cur.dims.get("depth_mm", 0.0)), cur.dims.get("width_mm")))
        cur = _parent(cur, regions)
    return tuple(out)


def _hole_stack(f: Feature, dia: float) -> tuple[Enclosure, ...]:
    """Counterbores/countersinks at the hole's entry, innermost (deepest) first.

    ``depth_mm`` of a hole is measured below its stack, so a cutter milling the hole must also
    pass the stack; a countersink narrows to the hole, so only a shank narrower than the hole
    would enter it (never, for a cutter of at most the hole's size) and its width is the hole's.
    """
    out = []
    for i, item in enumerate(f.props.get("stack") or ()):
        if not isinstance(item, Mapping) or item.get("side", "entry") != "entry" or "depth_mm" not in item:
            continue
        width = float(item["diameter_mm"]) if item.get("kind") == "counterbore" and "diameter_mm" in item else dia
        out.append(Enclosure(f"{f.id}:{item.get('kind', 'stack')}{i + 1}", float(item["depth_mm"]), width))
    return tuple(reversed(out))


def requirement(f: Feature, regions: Sequence[Feature] = ()) -> Requirement | None:
    """Return what feature ``f`` asks of a tool, or None if it is not machined by a cutter here.

    ``regions`` are the body's pocket/slot/step features, used to find enclosing regions.
    """
    d = f.dims
    if f.kind in REGION_KINDS:
        if "depth_mm" not in d:
            return None
        floor = str(f.props.get("floor", "flat"))
        through = bool(f.props.get("through")) or floor == "through"
        islands = [isl for isl in f.props.get("islands") or () if isl]
        outline = f.props.get("outline") if islands else None
        return Requirement(
            feature_id=f.id, kind=f.kind, depth_mm=float(d["depth_mm"]),
            corner_radius_mm=d.get("min_corner_radius_mm"), width_mm=d.get("width_mm"),
            floor="none" if through else ("curved" if floor == "curved" else "flat"),
            floor_radius_mm=float(d.get("floor_radius_mm", 0.0)),
            enclosures=_enclosures(f, regions), through=through,
            gap_mm=float(d["min_gap_mm"]) if d.get("min_gap_mm") is not None else None,
            islands=len(f.props.get("islands") or ()),
            outline=_points(outline) if outline else (),
            island_outlines=tuple(_points(isl) for isl in islands) if outline else (),
        )
    if f.kind == "corner":
        if f.props.get("orientation") != "vertical" or "radius_mm" not in d or "depth_mm" not in d:
            return None
        return Requirement(feature_id=f.id, kind=f.kind, depth_mm=float(d["depth_mm"]),
                           corner_radius_mm=float(d["radius_mm"]))
    if f.kind == "hole":
        if "diameter_mm" not in d or "depth_mm" not in d:
            return None
        dia = float(d["diameter_mm"])
        bottom = str(f.props.get("bottom", "through" if f.props.get("through") else "flat"))
        depth = float(d["depth_mm"])
        return Requirement(
            feature_id=f.id, kind=f.kind, depth_mm=depth, corner_radius_mm=dia / 2.0,
            floor="flat" if bottom == "flat" else "none", floor_radius_mm=0.0,
            enclosures=_hole_stack(f, dia) + _enclosures(f, regions),
            hole_diameter_mm=dia, drill_depth_mm=float(d.get("total_depth_mm", depth)), through=bottom == "through",
        )
    return None


# --- checking one tool -------------------------------------------------------------------

# The usual general-purpose twist drill point (ISO 5419 / the 118 deg standard point) when the
# catalogue does not give the drill's own.
DEFAULT_POINT_ANGLE_DEG = 118.0


def point_length(diameter: float, angle_deg: float | None) -> float:
    """Axial length of a drill's conical point: (D/2) / tan(angle/2)."""
    angle = angle_deg or DEFAULT_POINT_ANGLE_DEG
    return diameter / 2.0 / math.tan(math.radians(angle) / 2.0)


def drill_reach_needed(req: Requirement, params: ToolingParams) -> float:
    """Flute reach a drill needs for hole ``req``.

    In a blind hole, to the end of the point; through a through hole, the breakthrough plus
    the point, so that the hole is full size down to the part's bottom.
    """
    need = (req.drill_depth_mm or req.depth_mm) + params.reach_clearance_mm
    if req.through:
        need += params.breakthrough_mm + point_length(req.hole_diameter_mm or 0.0, None)
    return need


def reach_needed(tool: Tool | None, req: Requirement, params: ToolingParams) -> float:
    """Reach ``tool`` needs for ``req``: the depth plus the enclosures its shank cannot enter.

    With ``tool=None`` the shank is assumed to enter none (the conservative figure).
    """
    need = req.depth_mm + params.reach_clearance_mm + (params.breakthrough_mm if req.through else 0.0)
    shank = tool.shank_diameter_mm if tool is not None else None
    for enc in req.enclosures:
        if shank is not None and enc.width_mm is not None and shank < enc.width_mm - EPS:
            break
        need += enc.depth_mm
    return need


def floor_change(tool: Tool, req: Requirement) -> Change | None:
    """Return the floor-radius change ``tool`` would need, or None if its corner form fits."""
    r = tool.corner_radius_mm or 0.0
    if req.floor == "none":
        return None
    if req.floor == "curved":
        return None if r > EPS else Change("floor", math.nan)  # nan: no flat-floor value fixes it
    if req.floor_radius_mm <= EPS:
        return None if r <= EPS else Change("floor", r)
    if EPS < r <= req.floor_radius_mm + EPS:
        return None
    return Change("floor", r)


def changes_for(tool: Tool, req: Requirement, params: ToolingParams, *, finish: bool = True) -> list[Change] | None:
    """Design changes ``tool`` needs to machine ``req``: [] if it fits now, None if it never can.

    With ``finish=False`` (roughing) the corner and floor do not count.
    """
    reach = tool.usable_reach_mm
    if reach is None or not tool.is_mill:
        return None
    k = params.corner_clearance_ratio
    out: list[Change] = []
    if finish and req.corner_radius_mm is not None and k * tool.radius_mm > req.corner_radius_mm + EPS:
        out.append(Change("corner", k * tool.radius_mm))
    if req.width_mm is not None and k * tool.diameter_mm > req.width_mm + EPS:
        out.append(Change("width", k * tool.diameter_mm))
    if finish:
        fc = floor_change(tool, req)
        if fc is not None:
            if math.isnan(fc.value_mm):
                return None
            out.append(fc)
    need = reach_needed(tool, req, params)
    if reach + EPS < need:
        new_depth = reach - (need - req.depth_mm)
        if new_depth <= EPS:
            return None
        out.append(Change("depth", new_depth))
    return out


def fits(tool: Tool, req: Requirement, params: ToolingParams, *, finish: bool = True) -> bool:
    """Tell whether ``tool`` machines ``req`` as drawn (the fast form of ``changes_for(...) == []``)."""
    reach = tool.usable_reach_mm
    if reach is None or not tool.is_mill:
        return False
    k = params.corner_clearance_ratio
    if finish and req.corner_radius_mm is not None and k * tool.radius_mm > req.corner_radius_mm + EPS:
        return False
    if req.width_mm is not None and k * tool.diameter_mm > req.width_mm + EPS:
        return False
    if finish and floor_change(tool, req) is not None:
        return False
    return reach + EPS >= reach_needed(tool, req, params)


def _finish_key(tool: Tool, req: Requirement) -> tuple[Any, ...]:
    r = tool.corner_radius_mm or 0.0
    form = -r if req.floor == "flat" and req.floor_radius_mm > EPS else r
    return (-tool.diameter_mm, form, tool.usable_reach_mm or math.inf,
            tool.flute_length_mm or math.inf, tool.series, tool.id)


def best_finish(req: Requirement, tools: Iterable[Tool], params: ToolingParams) -> Tool | None:
    """Return the largest end mill that finishes ``req`` as drawn."""
    # Largest diameter first: stop at the first diameter that has a passing tool.
    limit = req.diameter_limit_mm(params)
    by_d = sorted((t for t in tools if t.is_mill and (limit is None or t.diameter_mm <= limit + EPS)),
                  key=lambda t: -t.diameter_mm)
    ok: list[Tool] = []
    for t in by_d:
        if ok and t.diameter_mm < ok[0].diameter_mm - EPS:
            break
        if fits(t, req, params):
            ok.append(t)
    return min(ok, key=lambda t: _finish_key(t, req)) if ok else None


def best_rough(req: Requirement, tools: Iterable[Tool], params: ToolingParams) -> Tool | None:
    """Return the largest square/corner-radius end mill that fits the width and reaches.

    In a region with islands it must also clear the floor between them: sweep
    :data:`~dfm.tooling.clearance.ROUGH_COVERAGE` of what the smallest such tool sweeps
    (:func:`~dfm.tooling.clearance.rough_coverage`); the region's width alone let a Ø3 into an
    8 x 6 pocket whose two islands leave channels 2 mm wide, which it does not enter.
    """
    wmax = None if req.width_mm is None else req.width_mm / params.corner_clearance_ratio
    by_d = sorted((t for t in tools if t.kind in ("square", "corner-radius")
                   and (wmax is None or t.diameter_mm <= wmax + EPS)), key=lambda t: -t.diameter_mm)
    clears = _clears(req, [t for t in by_d if fits(t, req, params, finish=False)], params)
    ok: list[Tool] = []
    for t in by_d:
        if ok and t.diameter_mm < ok[0].diameter_mm - EPS:
            break
        if fits(t, req, params, finish=False) and clears(t):
            ok.append(t)
    return min(ok, key=lambda t: (t.usable_reach_mm or math.inf, t.series, t.id)) if ok else None


def _points(poly: Iterable[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(p[0]), float(p[1])) for p in poly)


def _clears(req: Requirement, cands: Sequence[Tool], params: ToolingParams) -> Callable[[Tool], bool]:
    """Whether a roughing tool clears enough of ``req``'s floor between its islands (always, without islands).

    Tools the grid is too coarse for (:meth:`~dfm.tooling.clearance.FloorGrid.judges`) pass, as by the width alone.
    """
    if not req.outline or not req.island_outlines or not cands:
        return lambda t: True
    grid = clearance.FloorGrid(req.outline, req.island_outlines)
    fillet = req.floor_radius_mm if req.floor == "flat" else 0.0
    memo: dict[tuple[float, float], float] = {}

    def share(t: Tool) -> float:
        key = (round(t.diameter_mm, 6), round(t.corner_radius_mm or 0.0, 6))
        if key not in memo:
            memo[key] = clearance.rough_coverage(grid, t.diameter_mm, t.corner_radius_mm or 0.0,
                                                 params.finish_allowance_mm, fillet)
        return memo[key]

    judged = [t for t in cands if grid.judges(t.diameter_mm)]
    if not judged:
        return lambda t: True
    smallest = min(judged, key=lambda t: (t.diameter_mm, -(t.corner_radius_mm or 0.0)))
    need = clearance.ROUGH_COVERAGE * share(smallest)
    return lambda t: not grid.judges(t.diameter_mm) or share(t) >= need - 1e-9


def best_drill(req: Requirement, tools: Iterable[Tool], params: ToolingParams) -> Tool | None:
    """Return the shortest catalogue drill of the hole's diameter whose flutes reach the depth."""
    if req.hole_diameter_mm is None:
        return None
    need = drill_reach_needed(req, params)
    ok = [t for t in tools if t.kind == "drill" and abs(t.diameter_mm - req.hole_diameter_mm)
          <= params.drill_diameter_match_mm + EPS and (t.usable_reach_mm or 0.0) + EPS >= need]
    return min(ok, key=lambda t: (t.usable_reach_mm or math.inf, t.series, t.id)) if ok else None


# --- the gap between an island and a wall -------------------------------------------------

def gap_passes(tool: Tool, req: Requirement, params: ToolingParams) -> bool:
    """Tell whether ``tool`` passes the region's narrowest island gap (True when it has none).

    It passes when its diameter plus the finishing allowance roughing leaves on both sides fits
    the gap: the milling program's rule, so that the gap tool listed is the one it loads.
    """
    if req.gap_mm is None:
        return True
    return req.gap_mm + EPS >= tool.diameter_mm + 2.0 * params.finish_allowance_mm


def gap_limit_mm(req: Requirement, params: ToolingParams) -> float | None:
    """Largest diameter of a tool for the gap: less the allowance on both sides and a clearance."""
    if req.gap_mm is None:
        return None
    return req.gap_mm - 2.0 * params.finish_allowance_mm - GAP_CLEARANCE_MM


def gap_fits(tool: Tool, req: Requirement, params: ToolingParams) -> bool:
    """Tell whether ``tool`` cuts the region's gap: within :func:`gap_limit_mm`, floor form and reach."""
    lim = gap_limit_mm(req, params)
    reach = tool.usable_reach_mm
    return (lim is not None and reach is not None and tool.is_mill and tool.diameter_mm <= lim + EPS
            and floor_change(tool, req) is None and reach + EPS >= reach_needed(tool, req, params))


def best_gap(req: Requirement, tools: Iterable[Tool], params: ToolingParams) -> Tool | None:
    """Return the largest end mill that passes between the region's island and wall and reaches its floor."""
    ok = [t for t in tools if gap_fits(t, req, params)]
    if not ok:
        return None
    top = max(t.diameter_mm for t in ok)
    return min((t for t in ok if t.diameter_mm >= top - EPS), key=lambda t: _finish_key(t, req))


def _gap_alternatives(req: Requirement, tools: Sequence[Tool], params: ToolingParams) -> tuple[Alternative, ...]:
    """The smallest widening of the gap, and the least reduction of the depth, that give it a tool."""
    lim = gap_limit_mm(req, params) or 0.0
    extra = 2.0 * params.finish_allowance_mm + GAP_CLEARANCE_MM
    wide: tuple[tuple[Any, ...], Alternative] | None = None
    deep: tuple[tuple[Any, ...], Alternative] | None = None
    for t in tools:
        reach = t.usable_reach_mm
        if not t.is_mill or reach is None or floor_change(t, req) is not None:
            continue
        need = reach_needed(t, req, params)
        if reach + EPS >= need:
            c = Change("gap", _ceil2(t.diameter_mm + extra))
            key: tuple[Any, ...] = (c.value_mm, -t.diameter_mm, reach, t.id)
            if wide is None or key < wide[0]:
                wide = (key, Alternative((c,), t))
        elif t.diameter_mm <= lim + EPS and reach - (need - req.depth_mm) > EPS:
            c = Change("depth", _floor2(reach - (need - req.depth_mm)))
            key = (-c.value_mm, -t.diameter_mm, t.id)
            if c.value_mm > EPS and (deep is None or key < deep[0]):
                deep = (key, Alternative((c,), t))
    return tuple(a[1] for a in (wide, deep) if a is not None)


def _gap_decision(req: Requirement, tool: Tool, mills: Sequence[Tool], params: ToolingParams
                  ) -> tuple[Tool | None, str, tuple[Alternative, ...], str | None]:
    """(gap tool, reason, design changes, rule name) for a region whose finishing tool is ``tool``.

    Nothing when the finishing tool passes every gap. When no catalogue end mill fits the gap and
    reaches, the changes and the rule that says so; none when the gap is narrower than the
    smallest end mill, which DFM305 narrow-island-gap already reports as an error.
    """
    if req.gap_mm is None or gap_passes(tool, req, params):
        return None, "", (), None
    where = "an island and a wall" if req.islands <= 1 else "an island and a wall or another island"
    apart = f"{where} {_num(round(req.gap_mm, 4))} mm apart"
    gap = best_gap(req, mills, params)
    if gap is not None:
        return gap, f"passes between {apart} (Ø{_num(tool.diameter_mm)} does not)", (), None
    reason = f"no catalogue end mill passes between {apart} and reaches its floor"
    if not mills or req.gap_mm < min(t.diameter_mm for t in mills) - EPS:
        return None, reason, (), None  # DFM305 narrow-island-gap: narrower than the smallest end mill
    lim = gap_limit_mm(req, params) or 0.0
    narrow = any(t.is_mill and t.diameter_mm <= lim + EPS and floor_change(t, req) is None for t in mills)
    return None, reason, _gap_alternatives(req, mills, params), "no-tool-reach" if narrow else "no-tool-for-width"


# --- design changes ----------------------------------------------------------------------

def _ceil2(x: float) -> float:
    return math.ceil(x * 100.0 - 1e-6) / 100.0


def _floor2(x: float) -> float:
    return math.floor(x * 100.0 + 1e-6) / 100.0


def _rounded(c: Change) -> Change:
    if c.kind == "depth":
        return Change("depth", _floor2(c.value_mm))
    if c.kind == "floor":
        return Change("floor", round(c.value_mm, 4))
    return Change(c.kind, _ceil2(c.value_mm))


def alternatives(
    req: Requirement, tools: Iterable[Tool], params: ToolingParams, limit: int = 2
) -> tuple[Alternative, ...]:
    """Up to ``limit`` design changes that make ``req`` machinable, smallest change per kind first.

    Per kind (corner, width, floor, depth) the tool needing the smallest single change wins
    (for the floor: the largest tool; for depth: the least reduction). When no tool needs
    only one change, the tool needing the fewest changes (then the largest) is returned.
    """
    singles: dict[str, tuple[tuple[Any, ...], Alternative]] = {}
    multi: tuple[tuple[Any, ...], Alternative] | None = None
    for t in tools:
        ch = changes_for(t, req, params)
        if not ch:
            continue
        reach = t.usable_reach_mm or math.inf
        if len(ch) > 1:
            key: tuple[Any, ...] = (len(ch), -t.diameter_mm, reach, t.id)
            if multi is None or key < multi[0]:
                multi = (key, Alternative(tuple(_rounded(c) for c in ch), t))
            continue
        c = _rounded(ch[0])
        if c.kind == "depth":
            key = (-c.value_mm, -t.diameter_mm, t.id)
        elif c.kind == "floor":
            key = (-t.diameter_mm, abs(c.value_mm - req.floor_radius_mm), reach, t.id)
        else:
            key = (c.value_mm, reach, t.id)
        cur = singles.get(c.kind)
        if cur is None or key < cur[0]:
            singles[c.kind] = (key, Alternative((c,), t))
    if singles:
        return tuple(singles[k][1] for k in _CHANGE_ORDER if k in singles)[:limit]
    return (multi[1],) if multi is not None else ()


def _hole_alternatives(req: Requirement, tools: Sequence[Tool], params: ToolingParams) -> tuple[Alternative, ...]:
    """Drill-size and depth changes for a hole, then milling alternatives."""
    out: list[Alternative] = []
    need = drill_reach_needed(req, params)
    drills = [t for t in tools if t.kind == "drill" and t.usable_reach_mm is not None]
    d = req.hole_diameter_mm or 0.0
    deep = [t for t in drills if t.usable_reach_mm + EPS >= need]  # type: ignore[operator]
    if deep:
        t = min(deep, key=lambda t: (abs(t.diameter_mm - d), t.diameter_mm, t.usable_reach_mm, t.id))
        out.append(Alternative((Change("diameter", t.diameter_mm),), t))
    same = [t for t in drills if abs(t.diameter_mm - d) <= params.drill_diameter_match_mm + EPS]
    if same:
        t = max(same, key=lambda t: (t.usable_reach_mm, t.id))
        extra = need - req.depth_mm
        if t.usable_reach_mm - extra > EPS:  # type: ignore[operator]
            out.append(Alternative((Change("depth", _floor2(t.usable_reach_mm - extra)),), t))  # type: ignore[operator]
    if len(out) < 2:
        for alt in alternatives(req, tools, params):
            if len(out) >= 2:
                break
            chs = tuple(Change("diameter", _ceil2(2 * c.value_mm)) if c.kind == "corner" else c for c in alt.changes)
            out.append(Alternative(chs, alt.tool))
    out.sort(key=lambda a: abs(a.changes[0].value_mm - (d if a.changes[0].kind == "diameter" else req.depth_mm)))
    return tuple(out[:2])


def describe_change(c: Change, req: Requirement) -> str:
    """One clause: "raise the vertical corner radius to 0.13 mm"."""
    if c.kind == "corner":
        if (req.corner_radius_mm or 0.0) <= EPS:
            return f"give the vertical corners a radius of at least {_num(c.value_mm)} mm"
        return f"raise the vertical corner radius to {_num(c.value_mm)} mm"
    if c.kind == "width":
        return f"widen it to {_num(c.value_mm)} mm"
    if c.kind == "gap":
        return f"widen the gap between the island and the wall to {_num(c.value_mm)} mm"
    if c.kind == "floor":
        if c.value_mm <= EPS:
            return "make the floor-to-wall corner sharp"
        return f"make the floor-to-wall radius {_num(c.value_mm)} mm"
    if c.kind == "depth":
        return f"reduce the depth to {_num(c.value_mm)} mm"
    if c.kind == "diameter":
        return f"change the diameter to {_num(c.value_mm)} mm"
    return f"change {c.kind} to {_num(c.value_mm)} mm"


def fix_text(alts: Sequence[Alternative], req: Requirement) -> str:
    """Join alternatives into one fix sentence.

    E.g. "Raise the vertical corner radius to 0.25 mm to use Ø0.4 × 3 mm reach (MHR230-0.4x3)".
    """
    parts = []
    for alt in alts:
        what = " and ".join(describe_change(c, req) for c in alt.changes)
        verb = "drill with" if alt.tool.kind == "drill" else "use"
        parts.append(f"{what} to {verb} {alt.tool.label()}")
    text = "; or ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _state(req: Requirement) -> str:
    bits = []
    if req.hole_diameter_mm is not None:
        bits.append(f"Ø{_num(round(req.hole_diameter_mm, 4))} mm")
    elif req.corner_radius_mm is not None:
        r = req.corner_radius_mm
        bits.append("sharp vertical corners" if r <= EPS else f"vertical corner R{_num(round(r, 4))} mm")
    if req.width_mm is not None and req.hole_diameter_mm is None and req.kind != "corner":
        bits.append(f"width {_num(round(req.width_mm, 4))} mm")
    if req.floor == "flat" and req.kind != "hole":
        f = req.floor_radius_mm
        bits.append("sharp floor corner" if f <= EPS else f"floor radius R{_num(round(f, 4))} mm")
    elif req.floor == "curved":
        bits.append("curved floor")
    bits.append(f"{_num(round(req.depth_mm, 4))} mm deep")
    if req.enclosures:
        bits.append(f"below {', '.join(e.feature_id for e in req.enclosures)}")
    return ", ".join(bits)


# --- the search --------------------------------------------------------------------------

def _decide(f: Feature, req: Requirement, cat: Catalogue, params: ToolingParams) -> FeatureTooling:
    mills = cat.mills()
    limit = req.diameter_limit_mm(params)
    if req.kind == "hole":
        drill = best_drill(req, cat.tools, params)
        if drill is not None:
            need = drill_reach_needed(req, params)
            return FeatureTooling(f.id, "drill", drill, None, need, req.hole_diameter_mm)
        tool = best_finish(req, mills, params)
        if tool is not None:
            return FeatureTooling(f.id, "helical-mill", tool, None, reach_needed(tool, req, params), limit)
        if not cat.tools:
            return FeatureTooling(f.id, "drill", None, None, req.depth_mm + params.reach_clearance_mm, limit,
                                  problem="no-tool-in-catalogue")
        return FeatureTooling(f.id, "drill", None, None, req.depth_mm + params.reach_clearance_mm, limit,
                              _hole_alternatives(req, cat.tools, params), "no-tool-for-hole")
    tool = best_finish(req, mills, params)
    rough = best_rough(req, mills, params) if req.kind in REGION_KINDS else None
    if tool is not None:
        if rough is not None and rough.diameter_mm <= tool.diameter_mm + EPS:
            rough = None
        gap, why, gap_alts, gap_problem = _gap_decision(req, tool, mills, params)
        return FeatureTooling(f.id, "mill", tool, rough, reach_needed(tool, req, params), limit,
                              gap=gap, gap_reason=why, gap_alternatives=gap_alts, gap_problem=gap_problem)
    if not mills:
        return FeatureTooling(f.id, "mill", None, None, reach_needed(None, req, params), limit,
                              problem="no-tool-in-catalogue")
    alts = alternatives(req, mills, params)
    problem = _CHANGE_RULE[alts[0].changes[0].kind] if alts else "no-tool-in-catalogue"
    return FeatureTooling(f.id, "mill", None, rough, reach_needed(None, req, params), limit, alts, problem)


def _consolidate(decisions: list[FeatureTooling], reqs: Mapping[str, Requirement],
                 params: ToolingParams) -> list[FeatureTooling]:
    """Use one tool per (series, diameter, corner form): the longest-reach one chosen in the group.

    A longer neck of the same tool still passes every check that a shorter one passed
    (reach only grows, the shank only moves up), so this only removes tool changes.
    """
    groups: dict[tuple[str, str, float, float], Tool] = {}
    for d in decisions:
        for t in (d.finish, d.rough, d.gap):
            if t is None:
                continue
            key = (t.series, t.kind, round(t.diameter_mm, 6), round(t.corner_radius_mm or 0.0, 6))
            cur = groups.get(key)
            if cur is None or (t.usable_reach_mm or 0.0, t.id) > (cur.usable_reach_mm or 0.0, cur.id):
                groups[key] = t

    def pick(t: Tool | None, req: Requirement, finish: bool, gap: bool = False) -> Tool | None:
        if t is None or not t.is_mill:
            return t
        g = groups[(t.series, t.kind, round(t.diameter_mm, 6), round(t.corner_radius_mm or 0.0, 6))]
        return g if (gap_fits(g, req, params) if gap else fits(g, req, params, finish=finish)) else t

    out = []
    for d in decisions:
        req = reqs[d.feature_id]
        fin = pick(d.finish, req, True)
        reach = d.required_reach_mm
        if fin is not None and d.operation != "drill":
            reach = reach_needed(fin, req, params)
        out.append(replace(d, finish=fin, rough=pick(d.rough, req, False), required_reach_mm=reach,
                           gap=pick(d.gap, req, True, gap=True)))
    return out


def corner_owners(features: Sequence[Feature]) -> dict[str, str]:
    """Corner id → id of the pocket/slot/step whose faces include the corner's faces."""
    regions = [(f.id, set(f.faces)) for f in features if f.kind in REGION_KINDS]
    by_face: dict[Any, list[int]] = {}  # face -> positions of the regions holding it (in order)
    for i, (_rid, faces) in enumerate(regions):
        for face in faces:
            by_face.setdefault(face, []).append(i)
    out: dict[str, str] = {}
    for f in features:
        if f.kind == "corner" and f.faces:
            need = set(f.faces)
            owner = next((regions[i][0] for i in by_face.get(f.faces[0], ()) if need <= regions[i][1]), None)
            if owner is not None:
                out[f.id] = owner
    return out


def _tool_set(decisions: Sequence[FeatureTooling], owners: Mapping[str, str]) -> tuple[ToolChoice, ...]:
    """One row per (tool, role): a tool that roughs one pocket and finishes another has two rows.

    ``finish`` = the tool machines the whole feature; ``rest`` = it follows a larger roughing
    tool on the feature (or on the pocket a corner belongs to) and takes what that one left;
    ``gap`` = it cuts, after them, what they left between an island and a wall (or another
    island) that they cannot pass.
    """
    by_id = {d.feature_id: d for d in decisions}
    uses: dict[tuple[str, str], set[str]] = {}
    tools: dict[str, Tool] = {}
    for d in decisions:
        if d.rough is not None:
            tools[d.rough.id] = d.rough
            uses.setdefault((d.rough.id, "rough"), set()).add(d.feature_id)
        if d.finish is not None:
            tools[d.finish.id] = d.finish
            owner = by_id.get(owners.get(d.feature_id, ""))
            roughed = d.rough is not None or (owner is not None and owner.rough is not None)
            role = ("drill" if d.finish.kind == "drill" else "thread" if d.finish.kind == "thread-mill"
                    else ("rest" if roughed else "finish"))
            uses.setdefault((d.finish.id, role), set()).add(d.feature_id)
        if d.gap is not None:
            tools[d.gap.id] = d.gap
            uses.setdefault((d.gap.id, "gap"), set()).add(d.feature_id)
    out = []
    for (tid, role), feats in uses.items():
        t = tools[tid]
        out.append(ToolChoice(
            id=t.id, kind=t.kind, diameter_mm=t.diameter_mm, reach_mm=t.usable_reach_mm or 0.0,
            # Unknown flute length/count stay None (the JSON schema allows null), never a stand-in.
            flute_length_mm=t.flute_length_mm,  # type: ignore[arg-type]
            flutes=t.flutes,  # type: ignore[arg-type]
            source=t.source, role=role, features=tuple(sorted(feats)),
            corner_radius_mm=t.corner_radius_mm or 0.0, name=f"{t.vendor} {t.series_name}",
        ))
    out.sort(key=lambda c: (ROLE_ORDER[c.role], -c.diameter_mm, c.reach_mm, c.id))
    return tuple(out)


def _r6(x: float) -> float:
    return round(x, 6)


def _smallest(d: FeatureTooling) -> float:
    """The smallest diameter that finishing ``d``'s feature takes: its gap tool's, else its finishing tool's."""
    return min(t.diameter_mm for t in (d.finish, d.gap) if t is not None)


def select_tools(
    features: Sequence[Feature],
    catalogue: Catalogue,
    params: ToolingParams | None = None,
    rules: ToolingRules | None = None,
) -> ToolingResult:
    """Choose the largest usable tool for every feature and the part's tool set.

    Pure: reads only the features (docs/features.md) and the catalogue. ``dfm.cam`` calls it
    to get the same tools the report shows.

    Args:
        features: The body's features.
        catalogue: The tool catalogue (``dfm.tooling.catalogue_for(path)``).
        params: Overrides the parameters of ``rules/tooling.toml``.
        rules: The DFM6xx rule data (default: the shipped ``rules/tooling.toml``).

    Returns:
        A :class:`ToolingResult`.

    """
    rules = rules or default_rules()
    params = params or rules.params
    regions = RegionIndex([f for f in features if f.kind in REGION_KINDS])
    reqs: dict[str, Requirement] = {}
    decisions: list[FeatureTooling] = []
    memo: dict[Requirement, FeatureTooling] = {}
    extras = _through_extras(features, catalogue, params)
    for f in features:
        req = requirement(f, regions)
        if req is None:
            continue
        if extras.get(f.id):  # a through hole cut deeper for its thread (as dfm gcode cuts it)
            e = extras[f.id]
            req = replace(req, depth_mm=req.depth_mm + e,
                          drill_depth_mm=None if req.drill_depth_mm is None else req.drill_depth_mm + e)
        reqs[f.id] = req
        # Many features (the corners of a pocket) ask the same: decide once per requirement.
        key = replace(req, feature_id="")
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = _decide(f, req, catalogue, params)
        decisions.append(replace(hit, feature_id=f.id))
    decisions = _consolidate(decisions, reqs, params)
    threads, thread_findings = _thread_decisions(features, regions, catalogue, params, rules)
    decisions += threads
    by_feature = {d.feature_id: d for d in decisions}

    new_features = []
    for f in features:
        d = by_feature.get(f.id)
        if d is None:
            new_features.append(f)
            continue
        dims = dict(f.dims)
        props = dict(f.props)
        dims["required_reach_mm"] = _r6(d.required_reach_mm)
        if d.diameter_limit_mm is not None:
            dims["tool_diameter_limit_mm"] = _r6(d.diameter_limit_mm)
        if d.finish is not None:
            dims["max_tool_diameter_mm"] = d.finish.diameter_mm
            props["tool"] = d.finish.id
            props["tool_operation"] = d.operation
        if d.rough is not None:
            props["rough_tool"] = d.rough.id
        if d.gap is not None:
            dims["gap_tool_diameter_mm"] = d.gap.diameter_mm
            props["gap_tool"] = d.gap.id
        if d.gap_reason:
            props["gap_tool_reason"] = d.gap_reason
        new_features.append(replace(f, dims=dims, props=props))

    findings = _findings(features, decisions, reqs, rules, params) + thread_findings
    milled = [d for d in decisions if d.feature_id in reqs and reqs[d.feature_id].kind in MILLED_KINDS]
    max_d: float | None = None
    limiting: str | None = None
    # a region whose gap no tool passes is not finished either; its gap tool is the smallest it needs
    if milled and all(d.finish is not None and (d.gap is not None or not d.gap_reason) for d in milled):
        lim = min(milled, key=lambda d: (_smallest(d), d.feature_id))
        max_d, limiting = _smallest(lim), lim.feature_id
    chosen = {t.id: t for d in decisions for t in (d.finish, d.rough, d.gap) if t is not None}
    tool_set = _tool_set(decisions, corner_owners(features))
    return ToolingResult(tuple(decisions), tool_set, tuple(new_features), max_d, limiting,
                         tuple(findings), dict(sorted(chosen.items())))


def _through_extras(features: Sequence[Feature], cat: Catalogue, params: ToolingParams) -> dict[str, float]:
    """Hole id → extra depth below the breakthrough for a thread milled through it (with thread mills only)."""
    if not cat.thread_mills():
        return {}
    by_id = {f.id: f for f in features}
    out: dict[str, float] = {}
    for f in features:
        hole = by_id.get(str(f.props.get("hole", ""))) if f.kind == "thread" else None
        if hole is not None and f.props.get("internal", True):
            e = through_extra(f, hole, breakthrough=params.breakthrough_mm, clearance=params.thread_clearance_mm)
            out[hole.id] = max(out.get(hole.id, 0.0), e)
    return out


def _thread_decisions(features: Sequence[Feature], regions: Sequence[Feature], cat: Catalogue,
                      params: ToolingParams, rules: ToolingRules) -> tuple[list[FeatureTooling], list[Finding]]:
    """A thread mill for every internal thread on a hole, when the catalogue has thread mills."""
    mills = cat.thread_mills()
    if not mills:
        return [], []
    extras = _through_extras(features, cat, params)
    by_id = {f.id: f for f in features}
    out: list[FeatureTooling] = []
    findings: list[Finding] = []
    for f in features:
        hole = by_id.get(str(f.props.get("hole", "")))
        if f.kind != "thread" or hole is None or not f.props.get("internal", True):
            continue
        try:
            job = thread_job(f, hole, breakthrough=params.breakthrough_mm, clearance=params.thread_clearance_mm,
                             extra=extras.get(hole.id, 0.0))
        except ThreadError:
            continue  # an unknown size or a thread not above its bore: the thread rules say so
        # the pockets above the hole's opening (its own counterbores are in the tip depth already)
        above = sum(e.depth_mm for e in _enclosures(hole, regions))
        reach = thread_reach(job, above) + params.reach_clearance_mm
        tool, why = pick_thread_mill(mills, job, reach=reach, clearance=params.thread_clearance_mm)
        out.append(FeatureTooling(f.id, "thread-mill", tool, None, reach, None,
                                  problem=None if tool is not None else "no-thread-mill-fits"))
        if tool is None:
            findings.append(rules.finding(
                "no-thread-mill-fits",
                f"No catalogue thread mill cuts {f.id} ({f.props.get('designation', '')} in the "
                f"Ø{_num(job.bore)} mm bore of {hole.id}, reach needed {_num(round(reach, 4))} mm): "
                + "; ".join(why) + ".",
                value=job.pitch, unit="mm", faces=tuple(f.faces), location_mm=f.location_mm, feature=f.id))
    return out, findings


def _findings(features: Sequence[Feature], decisions: Sequence[FeatureTooling],
              reqs: Mapping[str, Requirement], rules: ToolingRules, params: ToolingParams) -> list[Finding]:
    by_id = {f.id: f for f in features}
    region_faces = [set(f.faces) for f in features if f.kind in REGION_KINDS]
    out = []
    for d in decisions:
        if d.finish is not None or d.problem is None or d.feature_id not in reqs:
            continue
        f = by_id[d.feature_id]
        req = reqs[d.feature_id]
        if f.kind == "corner" and f.faces and any(set(f.faces) <= faces for faces in region_faces):
            continue  # the pocket/slot the corner belongs to carries the finding
        what = "drill or mill" if f.kind == "hole" else "finish"
        message = f"No catalogue tool can {what} {f.id} ({_state(req)})."
        value = limit = None
        unit = "mm"
        if d.alternatives:
            first = d.alternatives[0].changes[0]
            value, limit = _measured(first.kind, req), first.value_mm
            lim = d.diameter_limit_mm or 0.0
            if d.alternatives[0].tool.kind != "drill" and lim > EPS:
                message = message[:-1] + f"; the largest diameter its geometry allows is Ø{_num(round(lim, 4))} mm."
        fix = fix_text(d.alternatives, req) or None
        out.append(rules.finding(d.problem, message, fix=fix, value=value, limit=limit, unit=unit,
                                 faces=tuple(f.faces), location_mm=f.location_mm, feature=f.id))
    for d in decisions:  # a region its tools finish, but for a gap no catalogue tool passes
        if d.gap_problem is None or d.feature_id not in reqs:
            continue
        f, req = by_id[d.feature_id], reqs[d.feature_id]
        alts = d.gap_alternatives
        gap_first = alts[0].changes[0] if alts else None
        out.append(rules.finding(
            d.gap_problem,
            f"No catalogue tool can finish {f.id} ({_state(req)}): {d.gap_reason}; the largest diameter the gap "
            f"allows is Ø{_num(round(gap_limit_mm(req, params) or 0.0, 4))} mm.",
            fix=fix_text(alts, req) or None, value=_measured(gap_first.kind, req) if gap_first else req.gap_mm,
            limit=gap_first.value_mm if gap_first else None, unit="mm", faces=tuple(f.faces), location_mm=f.location_mm,
            feature=f.id))
    return out


def _measured(kind: str, req: Requirement) -> float | None:
    if kind == "corner":
        return req.corner_radius_mm
    if kind == "width":
        return req.width_mm
    if kind == "gap":
        return req.gap_mm
    if kind == "floor":
        return req.floor_radius_mm
    if kind == "depth":
        return req.depth_mm
    if kind == "diameter":
        return req.hole_diameter_mm
    return None
