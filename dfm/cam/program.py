"""The planner: part features + tools + material → setups of operations → filtered steps.

Coordinates: each setup works in the model's coordinates turned so that its approach is +Z
(``_TURNS``; G54 at the model origin). Which axis is setup 1 (the one that also cuts the
outside profile) is chosen by :mod:`dfm.cam.orient`, not assumed; features whose approach
is another axis direction go into further setups; features with any other approach are
listed as unreachable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dfm.cam import feeds as feedmod
from dfm.cam import filters, orient, strategies
from dfm.cam.data import Cutter, Material, Settings, corner_clearance_ratio
from dfm.cam.geom2d import Loop, Seg, circle, fit_arcs, loop_box, loop_points, point_in_polygon, polygon_area
from dfm.cam.geom2d import orient as orient_loop
from dfm.cam.model import Arc, CuttingData, Feed, Operation, Program, Rapid, Setup, Step, Tool
from dfm.cam.strategies import CamError
from dfm.cam.tools import pick_drill, pick_endmill
from dfm.errors import KernelError
from dfm.model import Feature
from dfm.tooling import clearance
from dfm.tooling.clearance import fillet_standoff
from dfm.tooling.select import DEFAULT_POINT_ANGLE_DEG, point_length
from dfm.tooling.threadmill import LEAD_PITCHES, ThreadError, pick_thread_mill, thread_job, thread_reach, through_extra

Vec3 = tuple[float, float, float]
#: section(z) → [(outer loop, [hole loops])] of the part at height z (setup 1 coordinates).
SectionFn = Callable[[float], list[tuple[Loop, list[Loop]]]]
#: shadow(heights) → the union of the part's sections at those heights (setup 1 coordinates).
ShadowFn = Callable[[Sequence[float]], list[tuple[Loop, list[Loop]]]]

#: Axis approaches and the matrix taking model coordinates to setup coordinates (rows).
_TURNS: dict[Vec3, tuple[Vec3, Vec3, Vec3, str]] = {
    (0.0, 0.0, 1.0): ((1, 0, 0), (0, 1, 0), (0, 0, 1),
                      "program X = model X, Y = model Y, Z = model Z (tool from +Z)"),
    (0.0, 0.0, -1.0): ((1, 0, 0), (0, -1, 0), (0, 0, -1),
                       "part turned over about X: program X = model X, Y = -model Y, Z = -model Z "
                       "(tool from model -Z)"),
    (1.0, 0.0, 0.0): ((0, 1, 0), (0, 0, 1), (1, 0, 0),
                      "part on its side: program X = model Y, Y = model Z, Z = model X (tool from model +X)"),
    (-1.0, 0.0, 0.0): ((0, -1, 0), (0, 0, 1), (-1, 0, 0),
                       "part on its side: program X = -model Y, Y = model Z, Z = -model X (tool from model -X)"),
    (0.0, 1.0, 0.0): ((-1, 0, 0), (0, 0, 1), (0, 1, 0),
                      "part on its side: program X = -model X, Y = model Z, Z = model Y (tool from model +Y)"),
    (0.0, -1.0, 0.0): ((1, 0, 0), (0, 0, 1), (0, -1, 0),
                       "part on its side: program X = model X, Y = model Z, Z = -model Y (tool from model -Y)"),
}


def _axis_key(v: Sequence[float] | None) -> Vec3 | None:
    if v is None:
        return None
    for k in _TURNS:
        if sum(a * b for a, b in zip(k, v, strict=True)) > 1 - 1e-6:
            return k
    return None


def _apply(m: tuple[Vec3, Vec3, Vec3, str], p: Sequence[float]) -> Vec3:
    return tuple(sum(row[i] * p[i] for i in range(3)) for row in m[:3])  # type: ignore[return-value]


def _plain_frame(f: Feature) -> bool:
    """True when ``f``'s outline is in model X/Y already (approach +Z, frame (X, Y) or none given)."""
    u, v = f.props.get("frame_u"), f.props.get("frame_v")
    if not u or not v:
        return True
    return (abs(float(u[0]) - 1) < 1e-9 and abs(float(v[1]) - 1) < 1e-9)


def turn_point(approach: Sequence[float], p: Sequence[float]) -> Vec3:
    """A model point in the coordinates of the setup whose tool comes along ``approach``."""
    key = _axis_key(approach)
    if key is None:
        raise CamError(f"approach {tuple(approach)} is not an axis direction")
    return _apply(_TURNS[key], p)


def turn_rows(approach: Sequence[float]) -> tuple[Vec3, Vec3, Vec3]:
    """Rows of the rotation taking model coordinates to the setup's whose tool comes along ``approach``."""
    key = _axis_key(approach)
    if key is None:
        raise CamError(f"approach {tuple(approach)} is not an axis direction")
    m = _TURNS[key]
    return (m[0], m[1], m[2])


def turn_feature_xy(approach: Sequence[float], f: Feature, outline: Sequence[Sequence[float]] | None
                    ) -> list[list[float]] | Vec3:
    """A feature's outline (in its approach frame, docs/features.md) in the setup's X/Y; its location with None."""
    key = _axis_key(approach)
    if key is None:
        raise CamError(f"approach {tuple(approach)} is not an axis direction")
    m = _TURNS[key]
    if outline is None:
        return _apply(m, f.location_mm or (0.0, 0.0, 0.0))
    if key == (0.0, 0.0, 1.0) and _plain_frame(f):
        return [[float(p[0]), float(p[1])] for p in outline]
    u, v = f.props.get("frame_u"), f.props.get("frame_v")
    if not u or not v:
        raise CamError("outline frame (frame_u/frame_v) missing for a turned setup")
    out = []
    for p in outline:
        q = _apply(m, tuple(p[0] * u[i] + p[1] * v[i] for i in range(3)))
        out.append([q[0], q[1]])
    return out


@dataclass(frozen=True)
class StockSpec:
    """Stock box: the part's box plus ``margin`` in X/Y and below; top at ``top`` (None = part top)."""

    margin: float
    top: float | None = None


@dataclass
class _Ctx:
    settings: Settings
    material: Material
    catalogue: Sequence[Cutter]
    chosen: Mapping[tuple[str, str], Cutter]
    tools: dict[str, Tool]
    finish: Sequence[Feature] = field(default_factory=tuple)
    thread_finish: Sequence[Feature] = field(default_factory=tuple)
    #: (feature id, reason) of what a feature's operations leave out (a hole's countersink): listed as not machined
    partial: list[tuple[str, str]] = field(default_factory=list)
    #: feature id → the features whose operations must run before its own (the pocket it is entered from)
    after: dict[str, set[str]] = field(default_factory=dict)

    def tool(self, cutter: Cutter) -> Tool:
        t = self.tools.get(cutter.id)
        if t is None:
            t = Tool(len(self.tools) + 1, cutter)
            self.tools[cutter.id] = t
        return t


def plan(features: Sequence[Feature], *, part: str, bbox_min: Vec3, bbox_max: Vec3, levels: Sequence[float],
         section: SectionFn | None, material: Material, settings: Settings, catalogue: Sequence[Cutter],
         stock: StockSpec | None = None, chosen: Mapping[tuple[str, str], Cutter] | None = None,
         meta: Mapping[str, Any] | None = None, shadow: ShadowFn | None = None,
         order: Sequence[Vec3] | None = None) -> Program:
    """Plan and filter the whole program.

    Setup 1 is ``order[0]``: ``levels``, ``section`` and ``shadow`` are the part's in that
    setup's coordinates (the model turned so that its approach is +Z, ``turn_rows``). Without
    ``order``, setup 1 is model +Z (``section`` in model coordinates) and the other setups are
    chosen from the features (:func:`dfm.cam.orient.choose`, which may cut a through feature
    from its other end to save a setup).

    Args:
        features: The body's features (docs/features.md).
        part: Part file name for the header.
        bbox_min: The part's box, low corner, model coordinates.
        bbox_max: Its high corner.
        levels: Heights of the part's horizontal faces (for the outside profile bands).
        section: Cross-section function for the outside profile (None: no profile).
        material: The material row.
        settings: Machine and shop settings.
        catalogue: The cutters.
        stock: Stock box settings.
        chosen: (feature id, role) → cutter from ``dfm.tooling``.
        meta: Extra header facts.
        shadow: Union of sections (for the outside profile: each band keeps the shadow of
            everything above it). Without it, the union of ``section`` at the same heights.
        order: The setups' approaches, setup 1 first (:func:`dfm.cam.orient.choose`); its
            features are the ones to plan (through features flipped as it chose).
    """
    s = settings
    if order is None:
        choice = orient.choose(features, bbox_min=bbox_min, bbox_max=bbox_max, first=(0.0, 0.0, 1.0))
        features, order = choice.features, choice.order
    order = [tuple(float(x) + 0.0 for x in k) for k in order]  # type: ignore[misc]
    stock = stock or StockSpec(margin=s["stock_margin_mm"])
    finish = tuple(f for f in features if f.kind == "anodize_allowance" and f.props.get("target") != "thread")
    threads_fin = tuple(f for f in features if f.kind == "anodize_allowance" and f.props.get("target") == "thread")
    ctx = _Ctx(s, material, catalogue, chosen or {}, {}, finish, threads_fin)
    groups: dict[Vec3, list[Feature]] = {}
    unreachable: list[tuple[str, str]] = []
    by_id = {f.id: f for f in features}
    for f in features:
        if f.kind == "undercut":  # material over it on every axis (docs/features.md, DFM650)
            shape = str(f.props.get("profile", "undercut"))
            unreachable.append((f.id, f"{'' if shape == 'undercut' else shape + ' '}undercut (faces "
                                      f"{', '.join(str(i) for i in f.faces)}): no straight end mill reaches it along "
                                      "an axis; a T-slot or dovetail cutter, EDM or a redesign (DFM650)"))
            continue
        if f.kind not in ("pocket", "slot", "step", "hole", "thread"):
            continue
        # a thread is cut from its hole's side (a modelled thread's own axis has no sense)
        src = by_id.get(str(f.props.get("hole", ""))) if f.kind == "thread" else None
        src = src or f
        key = _axis_key(src.props.get("approach") or src.axis)
        if key is None:
            d = [float(v) for v in (src.props.get("approach") or src.axis or ())]
            shown = "(" + ", ".join(f"{v:.3f}".rstrip("0").rstrip(".") for v in d) + ")" if d else "unknown"
            unreachable.append((f.id, f"approached along {shown}, not an axis direction: needs a tilted (3+2) "
                                      "setup (DFM651)"))
            continue
        groups.setdefault(key, []).append(f)
    keys = list(order) + [k for k in _TURNS if k in groups and k not in order]
    setups: list[Setup] = []
    for key in keys:
        first = key == keys[0]
        setups.append(_plan_setup(len(setups) + 1, key, groups.get(key, []), ctx, bbox_min, bbox_max,  # type: ignore[arg-type]
                                  levels if first else (), section if first else None, stock,
                                  shadow if first else None))
    setups, tools = one_tool_per_size(setups, sorted(ctx.tools.values(), key=lambda t: t.number))
    return Program(part=part, material=material.name, material_sources=material.sources, setups=tuple(setups),
                   tools=tuple(tools), settings=dict(s.values),
                   settings_source=dict(s.source), unreachable=tuple(unreachable), meta=dict(meta or {}))


def _plan_setup(index: int, key: Vec3, feats: list[Feature], ctx: _Ctx, bmin: Vec3, bmax: Vec3,
                levels: Sequence[float], section: SectionFn | None, stock: StockSpec,
                shadow: ShadowFn | None = None) -> Setup:
    s = ctx.settings
    m = _TURNS[key]
    corners = [_apply(m, (x, y, z)) for x in (bmin[0], bmax[0]) for y in (bmin[1], bmax[1]) for z in (bmin[2], bmax[2])]
    lo = tuple(min(c[i] for c in corners) for i in range(3))
    hi = tuple(max(c[i] for c in corners) for i in range(3))
    part_top, part_bottom = hi[2], lo[2]
    top = stock.top if (stock.top is not None and index == 1) else part_top
    if top < part_top - 1e-9:
        raise CamError(f"the stock top Z{top:g} is below the part top Z{part_top:g}")
    smin = (lo[0] - stock.margin, lo[1] - stock.margin, part_bottom - stock.margin)
    smax = (hi[0] + stock.margin, hi[1] + stock.margin, top)
    safe_z = top + s["safe_mm"]
    retract = s["retract_mm"]
    ops: list[Operation] = []
    unmachined: list[tuple[str, str]] = []

    if top > part_top + 1e-6:
        cutter = pick_endmill(ctx.catalogue, max_d=3.0, reach=top - part_top)
        if cutter is None:
            unmachined.append(("facing", "no end mill reaches"))
        else:
            tool = ctx.tool(cutter)
            cd = feedmod.cutting_data(cutter, ctx.material, s, ae_mm=s["ae_over_d"] * cutter.diameter_mm)
            steps = strategies.face(smin[0], smin[1], smax[0], smax[1], z_top=top, z_final=part_top,
                                    tool_radius=tool.radius, ap=cd.ap_mm, stepover=cd.ae_mm, retract_z=top + retract)
            ops.append(_op("facing", "facing", (), tool, cd, steps, safe_z, s))

    profile_feats: list[str] = []
    regions = [f for f in feats if f.kind in ("pocket", "slot", "step")]
    regions.sort(key=lambda f: (-float(f.props.get("top_z_mm", part_top)), f.id))
    prof = pick_endmill(ctx.catalogue, max_d=3.0, reach=part_top - part_bottom) if section is not None else None
    for f in regions:
        narrow = (prof is not None and shadow is not None and f.kind == "slot" and f.props.get("open")
                  and float(f.dims.get("width_mm", math.inf)) < prof.diameter_mm + 2 * s["finish_allowance_mm"])
        if narrow:  # the profile's tool cannot enter it: a tool that fits cuts it, out through its open ends
            try:
                g = f if _plain_frame(f) and key == (0.0, 0.0, 1.0) else replace(
                    f, props={**f.props, "outline": turn_feature_xy(key, f, f.props.get("outline") or None),
                              "floor_outline": None})
                ops.extend(_open_slot_ops(g, ctx, safe_z, part_top, levels, shadow))  # type: ignore[arg-type]
            except (CamError, KernelError) as err:
                unmachined.append((f.id, str(err)))
            continue
        # an open pocket or slot the profile's tool cannot reach from outside is cut by its own operations; a
        # step stays the profile's (cut by region operations, an open step's finish round the corners at its
        # open side met more than its allowance on random part 9100 and the guard's reading missed it)
        if section is not None and (f.kind == "step" or f.props.get("open") or _is_shoulder(f, section)) and (
                f.kind == "step" or shadow is None or prof is None
                or _profile_reaches(f, shadow, levels, part_top, smin, smax, prof.diameter_mm / 2,
                                    s["finish_allowance_mm"], key)):
            profile_feats.append(f.id)
            continue
        # no profile in this setup (not setup 1): an open region is cleared inside its outline, its open
        # sides taken as walls (air beyond them), rather than left out
        n_partial = len(ctx.partial)
        try:
            start = None
            if section is not None and shadow is not None and prof is not None:
                start = _start_z(f, _loops_of(f, key)[0], float(f.props.get("top_z_mm", part_top)), regions,
                                 ctx, part_top, levels, section, shadow, smin, smax,
                                 prof.diameter_mm / 2, key)
            ops.extend(_region_ops(f, ctx, safe_z, part_top, part_bottom, key, section, levels, shadow, start))
            brk = f.props.get("rim_break")
            if brk:  # a chamfer or round on its top edge (features: its depth is from the top it breaks into)
                ctx.partial.append((f.id, f"the {brk.get('kind', 'break')} on its top edge (from Z"
                                          f"{float(brk.get('from_z_mm', part_top)):.3f} up) is not machined: it "
                                          "needs a chamfer or ball mill, which dfm does not plan"))
        except (CamError, KernelError) as err:
            del ctx.partial[n_partial:]  # not machined at all: the one reason below
            unmachined.append((f.id, str(err)))
    by_id = {f.id: f for f in feats}
    extras = _through_extras(feats, by_id, ctx)
    for f in sorted((f for f in feats if f.kind == "hole"), key=lambda f: f.id):
        n_partial = len(ctx.partial)
        try:
            start = None
            if section is not None and shadow is not None and prof is not None and f.location_mm is not None:
                x, y, z_open = _apply(_TURNS[key], f.location_mm)
                start = _start_z(f, circle((x, y), float(f.dims["diameter_mm"]) / 2), z_open, regions,
                                 ctx, part_top, levels, section, shadow, smin, smax,
                                 prof.diameter_mm / 2, key)
            ops.extend(_hole_ops(f, ctx, safe_z, part_top, part_bottom, key, extras.get(f.id, 0.0), start))
        except (CamError, KernelError) as err:
            del ctx.partial[n_partial:]  # not machined at all: the one reason below
            unmachined.append((f.id, str(err)))
    partly = list(ctx.partial)
    ctx.partial.clear()
    machined = {fid for op in ops for fid in op.features}
    for f in sorted((f for f in feats if f.kind == "thread"), key=lambda f: f.id):
        try:
            ops.extend(_thread_ops(f, by_id, machined, ctx, safe_z, part_top, part_bottom, key,
                                   extras.get(str(f.props.get("hole", "")), 0.0)))
        except (CamError, KernelError) as err:
            unmachined.append((f.id, f"thread {f.props.get('designation', '')}: {err}"))
    if section is not None:
        # the outside first (after facing): features in steps and shoulders it opens are cut after it, so
        # their retracts and rapids never run through material the profile has not removed yet
        first = 1 if ops and ops[0].kind == "facing" else 0
        try:
            ops[first:first] = _profile_ops(ctx, section, levels, part_top, part_bottom, smin, smax, safe_z,
                                            profile_feats, shadow)
        except (CamError, KernelError) as err:
            unmachined.append(("profile", str(err)))
    return Setup(index=index, approach=key, orientation=m[3], stock_min=smin, stock_max=smax,  # type: ignore[arg-type]
                 part_top=part_top, operations=tuple(by_type(ops, ctx.after)), unmachined=tuple(unmachined),
                 partly=tuple(partly), safe_z=safe_z, part_bottom=part_bottom)


#: Operation order within a setup by kind: facing, the outside profile (before inner walls are
#: freed by the pockets beside them), roughing, drilling, finishing, thread milling last.
_RANK = {"facing": 0, "profile": 1, "drill": 4, "finish-wall": 5, "finish-wall rest": 5, "thread-mill": 6}


def _rank(op: Operation) -> int:
    if op.kind == "finish-wall" and op.name.startswith("profile"):
        return 2  # the profile's finish right after its roughing: the outside is done first
    return _RANK.get(op.kind, 3)


def by_type(ops: Sequence[Operation], after: Mapping[str, set[str]] | None = None) -> list[Operation]:
    """``ops`` in the order of fewest tool changes, by operation type where the tool changes.

    Facing first, then the outside profile (rough, finish: the outside is cut before pockets
    free the inner walls beside it); then, greedily, the next operation with the tool in the
    spindle, else the first of the lowest type (roughing, drilling, finishing, thread milling)
    whose feature's earlier operations are done: an operation never moves before an earlier one
    that shares a feature (rough before finish, bore before thread), nor before the roughing
    of a feature it is entered from (``after``: a hole in a pocket's floor after the pocket's).
    Every operation starts and ends at the safe height, so the order moves no rapid through
    material.
    """
    n = len(ops)
    feats = [set(op.features) or {op.name} for op in ops]
    first = [set().union(*(after.get(x, set()) for x in fs)) if after else set() for fs in feats]
    # entered from a feature's floor: after that feature's roughing (its finishes take only allowances)
    deps = [{i for i in range(n) if i != j and feats[i] & first[j] and _rank(ops[i]) <= 3} | {
        i for i in range(j) if feats[i] & feats[j] or _rank(ops[i]) < 3 <= _rank(ops[j])
        or (_rank(ops[j]) < 3 and _rank(ops[i]) < _rank(ops[j]))} for j in range(n)]
    done: set[int] = set()
    out: list[Operation] = []
    tool: int | None = None
    while len(out) < n:
        ready = [j for j in range(n) if j not in done and deps[j] <= done]
        same = [j for j in ready if ops[j].tool.number == tool and _rank(ops[j]) >= 3]
        j = min(same or ready, key=lambda i: (_rank(ops[i]), i))
        done.add(j)
        out.append(ops[j])
        tool = ops[j].tool.number
    return out


def one_tool_per_size(setups: Sequence[Setup], tools: Sequence[Tool]) -> tuple[list[Setup], list[Tool]]:
    """One tool of each size: a shorter twin's operations run on the longest one loaded anyway.

    Twins: the same kind, diameter, corner radius, flutes, tool material (and thread form).

    The twins' cutting data are the same (the feeds read the diameter and the flutes, not the
    reach); the guard checks the longer tool's shank and holder. Tools are numbered again in
    order of first use.
    """
    def size(c: Cutter) -> tuple[Any, ...]:
        return (c.kind, round(c.diameter_mm, 6), round(c.corner_radius_mm, 6), c.flutes, c.tool_material,
                c.profile_angle_deg, c.pitch_min_mm, c.pitch_max_mm, c.teeth)

    longest: dict[tuple[Any, ...], Cutter] = {}
    for t in tools:
        c = t.cutter
        best = longest.get(size(c))
        if best is None or (c.reach_mm or 0.0, c.id) > (best.reach_mm or 0.0, best.id):
            longest[size(c)] = c
    numbers: dict[str, Tool] = {}
    out = []
    for su in setups:
        ops = []
        for op in su.operations:
            c = longest[size(op.tool.cutter)]
            if c.id not in numbers:
                numbers[c.id] = Tool(len(numbers) + 1, c)
            note = (() if c.id == op.tool.cutter.id else
                    (f"{c.id} (reach {c.reach_mm:g}) instead of its shorter twin {op.tool.cutter.id}: one tool per "
                     "size",))
            ops.append(replace(op, tool=numbers[c.id], notes=op.notes + note))
        out.append(replace(su, operations=tuple(ops)))
    return out, list(numbers.values())


def _op(name: str, kind: str, feats: tuple[str, ...], tool: Tool, cd: CuttingData, steps: list[Step],
        safe_z: float, s: Settings, notes: tuple[str, ...] = ()) -> Operation:
    out = filters.safe_height(steps, safe_z)
    out = filters.no_plunge(out, tool)
    out = filters.feeds(out, cd, tool, s["max_feed_mm_min"])
    return Operation(name, kind, feats, tool, cd, tuple(out), notes)


def _loops_of(f: Feature, key: Vec3) -> tuple[Loop, list[Loop]]:
    outline = f.props.get("outline")
    if not outline:
        raise CamError("its outline could not be traced from the model, so no toolpath can be planned for it")
    outer = fit_arcs([tuple(p) for p in outline])
    holes = [fit_arcs([tuple(p) for p in isl]) for isl in f.props.get("islands") or []]
    if key != (0.0, 0.0, 1.0) or not _plain_frame(f):
        outer, holes = _turn_loops(f, outer, key), [_turn_loops(f, h, key) for h in holes]
    return outer, holes


def _turn_loops(f: Feature, loop: Loop, key: Vec3) -> Loop:
    # outline is in the approach frame (frame_u, frame_v); map to setup X/Y
    u = f.props.get("frame_u")
    v = f.props.get("frame_v")
    if not u or not v:
        raise CamError("outline frame (frame_u/frame_v) missing for a turned setup")
    m = _TURNS[key]

    def tr(p: tuple[float, float]) -> tuple[float, float]:
        w = tuple(p[0] * u[i] + p[1] * v[i] for i in range(3))
        q = _apply(m, w)
        return (q[0], q[1])

    out = []
    # a mirror in the mapping (u, v) → setup X/Y flips the arcs' direction
    (ux, uy), (vx, vy) = tr((1.0, 0.0)), tr((0.0, 1.0))
    det = ux * vy - uy * vx
    for sg in loop:
        a, b = tr(sg.a), tr(sg.b)
        c = tr(sg.c) if sg.c is not None else None
        ccw = sg.ccw
        if c is not None and det < 0:
            ccw = not ccw
        out.append(Seg(a, b, c, ccw))
    return tuple(out)


def _is_shoulder(f: Feature, section: SectionFn) -> bool:
    """A closed 'pocket' whose outline is the part's outside below its floor is a profile shoulder."""
    outline = f.props.get("outline")
    if not outline:
        return False
    z = float(f.props.get("floor_z_mm", 0.0)) - 0.01
    area = polygon_area([tuple(p) for p in outline])
    try:
        regions = section(z)
    except Exception:  # noqa: BLE001 - below the part: nothing to compare with
        return False
    outer_areas = [polygon_area(loop_points(o, 1e-3)) for o, _ in regions]
    return bool(outer_areas) and area >= 0.999 * max(outer_areas)


def _open_slot_ops(f: Feature, ctx: _Ctx, safe_z: float, part_top: float, levels: Sequence[float],
                   shadow: ShadowFn) -> list[Operation]:
    """A slot open at its ends, narrower than the profile's tool: cleared by a tool that fits it.

    The tool-centre region is the slot's walls grown past its open ends, less the shadow of
    everything above its floor (the exact boolean): the tool runs out through the open ends
    into air or stock, never into the walls. The outline is the floor face's: with fillets of
    radius F round the floor the walls stand F outside it, and the shadow of the heights within
    F of the floor holds the fillets; they are taken out of it (the band between the floor's
    outline and the walls), and :func:`_mill_region` keeps every end out of them
    (:func:`fillet_standoff`), as a pocket's.
    """
    from dfm.kernel import sampling

    s = ctx.settings
    outline = f.props.get("outline")
    if not outline:
        raise CamError("its outline could not be traced from the model, so no toolpath can be planned for it")
    if f.props.get("floor_outline") and float(f.props.get("floor_seen", 1.0)) < 1.0:
        # part of the floor runs on under an overhang (a bridge over the slot): the outline traced from
        # above stops there, the floor's goes on to the far side; the shadow below cuts the bridge out
        outline = f.props["floor_outline"]
    z_top = float(f.props.get("top_z_mm", part_top))
    z_floor = float(f.props.get("floor_z_mm", z_top - f.dims.get("depth_mm", 0.0)))
    width = float(f.dims.get("width_mm", 0.0)) or math.inf
    grow = min(width, 3.0) + s["finish_allowance_mm"] + 0.1
    floor = fit_arcs([tuple(p) for p in outline])
    fillet = float(f.dims.get("floor_radius_mm") or 0.0)
    if f.props.get("through") or f.props.get("floor", "flat") != "flat":
        fillet = 0.0
    if fillet > 0 and any(z_floor + 1e-6 < z < z_floor + fillet - 1e-6 for z in levels):
        # a face of the part lies within the fillets' height: the band between the floor's outline and the walls
        # may hold more than the fillets, and is left (a square end at the floor's outline is tangent to them)
        ctx.partial.append((f.id, f"the fillets round its floor are R{fillet:g} and a face of the part lies within "
                                  f"{fillet:g} mm of the floor: its passes stay at the floor's outline, the walls are "
                                  "left that much proud"))
        fillet = 0.0
    outer = strategies.wall_loops(floor, [], fillet)[0] if fillet > 0 else floor
    grown = strategies.offset(outer, [], grow)
    if not grown:
        raise CamError("cannot grow the slot's outline past its open ends")
    heights = _heights_above(z_floor, part_top, levels)

    def tup(loop: Loop) -> list[tuple]:
        return [(sg.a, sg.b, sg.c, sg.ccw) for sg in loop]

    def loops(regions: Sequence[tuple[list[Any], list[list[Any]]]]) -> list[tuple[Loop, list[Loop]]]:
        return [(tuple(Seg(*sg) for sg in o), [tuple(Seg(*sg) for sg in h) for h in hs]) for o, hs in regions]

    low = [z for z in heights if z < z_floor + fillet]
    high = shadow([z for z in heights if z >= z_floor + fillet]) if len(low) < len(heights) else []
    low_cut: list[tuple[Loop, list[Loop]]] = []
    if low:
        # the fillets: in the section of the heights within F of the floor, between the floor's outline and the walls
        ring = (tup(orient_loop(outer, ccw=True)), [tup(orient_loop(floor, ccw=False))])
        low_cut = loops([q for o, hs in shadow(low) for q in sampling.subtract(tup(o), [(tup(h), []) for h in hs]
                                                                               + [ring])])
    above = [*high, *low_cut]

    # behind each wall of the slot (a side with the part's shadow just outside it) the grown outline is cut off
    # too: where a wall is thinner than the growth, the air beyond it would join the open ends round the wall's
    # end into a ring, a sliver narrower than the tool round a thin wall (random part 9504: the kernel's offset
    # of that ring crossed the wall by 27 um, and the guard dropped the slot)
    # (one band at a time, before the shadow: OCCT's cut of tools that overlap each other, a band and the
    # wall's own shadow, kept the band's area in the result)
    # (the shadows of the heights above the fillets and within them overlap: cut one after the other, see below)
    shadow_cuts: list[list[tuple[list[Any], list[list[Any]]]]] = [
        [(tup(a), [tup(h) for h in ahs]) for a, ahs in part] for part in (high, low_cut) if part]
    pieces: list[tuple[list[Any], list[list[Any]]]] = [(tup(grown[0]), [])]
    for band, _ in _wall_bands(outer, above, 2 * grow):
        pieces = [q for o, _ in pieces for q in sampling.subtract(o, [(tup(band), [])])]
    if any(hs for _, hs in pieces):  # a band inside the grown outline (not met): without the bands
        pieces = [(tup(grown[0]), [])]
    free = pieces
    for cut in shadow_cuts:
        free = [q for o, hs in free for q in sampling.subtract(o, [*((h, []) for h in hs), *cut])]
    if low_cut and not _clear_of(loops(free), above):
        # the booleans of the two shadows went wrong (a piece over material): the one cut of the whole shadow,
        # the walls left as proud as the fillets are wide (a square end at the floor's outline is tangent to them)
        ctx.partial.append((f.id, f"the fillets round its floor are R{fillet:g}: its passes stay at the floor's "
                                  "outline (the region to its walls could not be built), the walls are left that "
                                  "much proud"))
        fillet = 0.0
        whole = [(tup(a), [tup(h) for h in ahs]) for a, ahs in shadow(heights)]
        free = [q for o, _ in pieces for q in sampling.subtract(o, whole)]
    ops: list[Operation] = []
    narrow: list[str] = []
    for k, (o, hs) in enumerate(sorted(free, key=lambda r: -polygon_area([sg[0] for sg in r[0]]))):
        region = tuple(Seg(*sg) for sg in o)
        holes = [tuple(Seg(*sg) for sg in h) for h in hs]
        if polygon_area(loop_points(region, 1e-3)) < 1e-6:
            continue
        name = f.id if k == 0 else f"{f.id}.{k + 1}"
        try:
            part_ops = _mill_region(f.id, f.kind, region, holes, z_top, z_floor, part_top - z_floor, width,
                                    float(f.dims.get("min_corner_radius_mm", 0.0)), ctx, safe_z,
                                    s["finish_allowance_mm"], fillet=fillet)
        except CamError as err:
            # one piece narrower than every tool (a sliver between the slot's grown end and a boss over
            # it) does not cost the others theirs; the guard's removal check reports what stays
            if "too narrow" not in str(err):
                raise
            narrow.append(str(err))
            continue
        ops += [replace(op, name=op.name.replace(f.id, name, 1)) for op in part_ops]
    if not ops:
        raise CamError(narrow[0] if narrow else "no room for a tool between the slot's walls")
    return ops


def _clear_of(regions: Sequence[tuple[Loop, list[Loop]]], material: Sequence[tuple[Loop, list[Loop]]],
              n: int = 160) -> bool:
    """Whether no point of ``regions`` 2 um inside their loops, nor of an n x n grid over them, lies in ``material``.

    False when the kernel cannot offset a region (no proof).
    """
    pts: list[np.ndarray] = []
    for o, hs in regions:
        try:
            inner = strategies.offset(o, hs, -0.002)
        except (CamError, KernelError):
            return False
        for lp in inner:
            pts.append(np.asarray(loop_points(lp, 1e-4), dtype=float).reshape(-1, 2))
        x0, y0, x1, y1 = loop_box([o])
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        pts.append(grid[_in_material(grid, [(o, hs)])])
    if not pts:
        return True
    every = np.concatenate(pts)
    return not _in_material(every, material).any()


def _wall_bands(outer: Loop, above: Sequence[tuple[Loop, list[Loop]]], grow: float
                ) -> list[tuple[Loop, list[Loop]]]:
    """Bands ``grow`` wide outside the walls of ``outer``: its straight sides with ``above`` (material) just outside.

    A side is a wall when points 5 um outside it, at a tenth to nine tenths of its length, all lie in
    ``above``; an open side (air outside at any of them) and an arc have no band.
    """
    loop = orient_loop(outer, ccw=True)
    out: list[tuple[Loop, list[Loop]]] = []
    for sg in loop:
        if sg.c is not None:
            continue
        (ax, ay), (bx, by) = sg.a, sg.b
        length = math.hypot(bx - ax, by - ay)
        if length < 1e-6:
            continue
        nx, ny = (by - ay) / length, -(bx - ax) / length  # outward: the right of a counter-clockwise loop
        t = np.linspace(0.1, 0.9, 5)
        pts = np.column_stack([ax + (bx - ax) * t + nx * 0.005, ay + (by - ay) * t + ny * 0.005])
        if not _in_material(pts, above).all():
            continue
        corners = [(ax, ay), (ax + nx * grow, ay + ny * grow), (bx + nx * grow, by + ny * grow), (bx, by)]  # CCW
        out.append((tuple(Seg(corners[k], corners[(k + 1) % 4]) for k in range(4)), []))
    return out


def _material_islands(holes: list[Loop], z: float, section: SectionFn) -> list[Loop]:
    """The inner loops of a floor with material above them (bosses); openings through the floor are air."""
    regions = section(z)
    polys = [(loop_points(o, 1e-4), [loop_points(h, 1e-4) for h in hs]) for o, hs in regions]
    out = []
    for h in holes:
        pts = loop_points(h, 1e-3)
        x0, y0, x1, y1 = loop_box([h])
        # 10 um inside (less in a tiny loop): the section's loop may differ from the feature's by a micrometre
        depth = min(0.01, (x1 - x0) / 4, (y1 - y0) / 4)
        probe = None
        for sg in h:  # a point just inside the loop, beside its longest-lived first segment
            a, b = sg.point(0.5), sg.point(0.52)
            dx, dy = b[0] - a[0], b[1] - a[1]
            norm = math.hypot(dx, dy) or 1.0
            for side in (1, -1):
                q = (a[0] - side * dy / norm * depth, a[1] + side * dx / norm * depth)
                if point_in_polygon(q, pts):
                    probe = q
                    break
            if probe is not None:
                break
        solid = probe is None or any(point_in_polygon(probe, o) and not any(point_in_polygon(probe, x) for x in hs)
                                     for o, hs in polys)
        if solid:
            out.append(h)
    return out


def _island_bands(holes: list[Loop], z_top: float, z_floor: float, levels: Sequence[float], section: SectionFn
                  ) -> list[tuple[float, float, list[Loop]]]:
    """A region's Z bands between the tops of its islands: [(band top, band floor, the islands standing in it)].

    An island whose top is one of the part's levels below ``z_top`` (a boss lower than the pocket's
    rim) is no island above that level: there is no material inside its outline in the section just
    above its top, nor in any band between there and ``z_top``. One band (all islands, ``z_top`` to
    ``z_floor``) when every island stands the whole height.
    """
    inner = sorted({round(z, 9) for z in levels if z_floor + 1e-6 < z < z_top - 1e-6})
    if not holes or not inner:
        return [(z_top, z_floor, holes)]
    probes = [z + 1e-3 for z in inner] + [(a + b) / 2 for a, b in zip(inner, [*inner[1:], z_top], strict=True)]
    cache: dict[float, list[tuple[Any, list[Any]]]] = {}

    def material(z: float) -> list[tuple[Any, list[Any]]]:
        if z not in cache:
            cache[z] = [(loop_points(o, 1e-4), [loop_points(x, 1e-4) for x in xs]) for o, xs in section(z)]
        return cache[z]

    def absent(h: Loop, z: float) -> bool:  # no material inside the island's outline at z
        if _material_islands([h], z, section):
            return False
        pts = loop_points(h, 1e-3)
        return not any(point_in_polygon(tuple(o[k]), pts) for o, _ in material(z) for k in range(0, len(o), 7))

    tops = []
    for h in holes:
        top = z_top
        try:
            for lv in reversed(inner):  # the lowest level above which the island is air all the way up
                if all(absent(h, z) for z in probes if z > lv):
                    top = lv
                else:
                    break
        except KernelError:
            top = z_top
        tops.append(top)
    cuts = sorted({t for t in tops if t < z_top - 1e-6}, reverse=True)
    if not cuts:
        return [(z_top, z_floor, holes)]
    out = []
    hi = z_top
    for lo in [*cuts, z_floor]:
        out.append((hi, lo, [h for h, t in zip(holes, tops, strict=True) if t > lo + 1e-6]))
        hi = lo
    return out


def _region_ops(f: Feature, ctx: _Ctx, safe_z: float, part_top: float, part_bottom: float,
                key: Vec3, section: SectionFn | None = None, levels: Sequence[float] = (),
                shadow: ShadowFn | None = None, z_start: float | None = None) -> list[Operation]:
    s = ctx.settings
    allow = s["finish_allowance_mm"]
    outer, holes = _loops_of(f, key)
    z_top = float(f.props.get("top_z_mm", part_top))
    z_floor = float(f.props.get("floor_z_mm", z_top - f.dims.get("depth_mm", 0.0)))
    if z_start is not None:
        z_top = z_start
    # the outline is the floor face's: with fillets round the floor (every floor edge is filleted when
    # floor_radius_mm > 0; it is the least of their radii) the walls stand that much farther out
    fillet = float(f.dims.get("floor_radius_mm") or 0.0)
    if fillet > 0 and not f.props.get("through") and f.props.get("floor", "flat") == "flat":
        outer, holes = strategies.wall_loops(outer, holes, fillet)
    else:
        fillet = 0.0
    if holes and section is not None:  # section: setup 1's, in its coordinates
        holes = _material_islands(holes, z_floor + 1e-3, section)
    if section is not None and shadow is not None and not f.props.get("through"):
        # over an open side the roughing tool runs out by its diameter (the one dfm.tooling chose, else
        # the largest _mill_region would take)
        chosen = ctx.chosen.get((f.id, "rough"))
        d_rough = chosen.diameter_mm if chosen is not None else min(0.8 * (float(f.dims.get("width_mm", 0.0))
                                                                           or 3.0), 3.0)
        opened = _open_region(outer, holes, z_floor, part_top, levels, section, shadow, d_rough + allow + 0.05,
                              z_top, float(f.dims.get("floor_radius_mm") or 0.0) - fillet)
        if opened is not None:
            outer, holes = opened
    if key != (0.0, 0.0, 1.0):
        # props are heights along the approach; the setup's Z is that height
        pass
    if f.props.get("through"):
        z_floor = part_bottom - s["breakthrough_mm"]
    depth = part_top - z_floor
    width = float(f.dims.get("width_mm", 0.0)) or math.inf
    corner = float(f.dims.get("min_corner_radius_mm", 0.0))
    grow, gnotes = finish_offset(ctx, (), f.id, width, ("width",)) if math.isfinite(width) else (0.0, ())
    bands = _island_bands(holes, z_top, z_floor, levels, section) if section is not None else []
    if len(bands) > 1:
        # an island lower than the region's top (a boss below the rim): the band above it is cleared without
        # it, down to its top; each band's operations are named by its floor
        ops = []
        for zt, zf, hs in bands:
            band = _mill_region(f.id, f.kind, outer, hs, zt, zf, part_top - zf, width, corner, ctx, safe_z,
                                allow, grow, gnotes, fillet if zf <= z_floor + 1e-9 else 0.0)
            if zf > z_floor + 1e-9:
                band = [replace(op, name=op.name.replace(f.id, f"{f.id} to Z{zf:.3f}", 1)) for op in band]
            ops += band
        # every band roughed, then every band's wall finish, then the smaller tools': one change per tool, not
        # one per band (each band's finish and rest passes only take what its own roughing left)
        # (roughing stays top band first: each band's roughing starts where the one above ended)
        ops.sort(key=lambda op: (0, 0.0) if op.kind == f.kind else (1 if op.kind == "finish-wall" else 2,
                                                                    -op.tool.cutter.diameter_mm))
    else:
        ops = _mill_region(f.id, f.kind, outer, holes, z_top, z_floor, depth, width, corner, ctx, safe_z, allow,
                           grow, gnotes, fillet)
    if f.props.get("floor") == "sloped" and not f.props.get("through"):
        # floor_z_mm is the slope's highest point: the flat level no end mill cuts below
        low = float(f.props.get("floor_low_z_mm", z_floor))
        note = (f"sloped floor ({float(f.dims.get('floor_slope_deg', 0.0)):.2f} deg): milled flat at its highest "
                f"point Z{z_floor:g}; up to {z_floor - low:.3f} mm is left on the slope for a 3D (ball-nose) "
                "finish, which dfm does not write")
        ops = [replace(op, notes=(note, *op.notes)) if k == 0 else op for k, op in enumerate(ops)]
    draft = float(f.dims.get("draft_deg") or 0.0)
    if draft > 1e-6:
        # the walls lean back from the floor's outline: an end mill cuts them vertical there
        left = (z_top - z_floor) * math.tan(math.radians(draft))
        ctx.partial.append((f.id, f"its walls are drafted ({draft:.2f} deg): milled vertical at the floor's outline, "
                                  f"up to {left:.3f} mm is left at the top of each wall for a tapered end mill or a "
                                  "3D finish, which dfm does not plan"))
    return ops


def _start_z(f: Feature, outer: Loop, z_top: float, regions: Sequence[Feature], ctx: _Ctx,
             part_top: float, levels: Sequence[float], section: SectionFn, shadow: ShadowFn, smin: Sequence[float],
             smax: Sequence[float], r_profile: float, key: Vec3) -> float:
    """Where a feature's cut starts: its top ``z_top``, or the part's top when nothing clears above it.

    ``outer`` is its outline (a pocket's, a slot's, a hole's circle). A feature whose top lies
    below the part's is entered from its top only when the stock over
    it is gone by then: a larger pocket, slot or step of the setup has its floor there and holds
    it (its operations run first: regions go by falling top), or the outside profile's tool
    reaches that band from outside (a plateau beside a boss). Otherwise nothing removes that
    stock, and an entry at its top would feed the tool straight down into it (a fillet or
    chamfer on the feature's top edge, 0.4 mm; an unrecognised recess over an O-ring groove,
    0.5 mm): the cut starts at the part's top. A blend on its top edge (the part still rims
    the outline just above its top) is listed as partly machined.
    """
    if z_top >= part_top - 1e-6:
        return z_top
    probe = np.array([outer[0].a], dtype=float)
    for g in regions:
        if g is f or g.kind not in ("pocket", "slot", "step"):
            continue
        g_top = float(g.props.get("top_z_mm", part_top))
        g_floor = float(g.props.get("floor_z_mm", g_top - g.dims.get("depth_mm", 0.0)))
        if abs(g_floor - z_top) > 1e-3 or g_top <= z_top + 1e-6:
            continue
        try:
            g_outer, _ = _loops_of(g, key)
        except CamError:
            continue
        if _in_material(probe, [(g_outer, [])])[0]:
            ctx.after.setdefault(f.id, set()).add(g.id)  # entered from g's floor: after g's operations
            return z_top
    if _profile_clears(outer, z_top, shadow, levels, part_top, smin, smax, r_profile,
                       ctx.settings["finish_allowance_mm"]):
        return z_top
    try:  # the part rims the outline just above its top (5 um outside; a chamfer has widened it by 1 um)
        pts = _outside_samples(outer, 0.005, 0.05)
        rim = bool(len(pts)) and _in_material(pts, section(z_top + min(1e-3, (part_top - z_top) / 2))).mean() >= 0.5
    except (CamError, KernelError):
        rim = False
    if rim:
        ctx.partial.append((f.id, f"the fillet or chamfer on its top edge (from Z{z_top:.3f}) is not machined: it "
                                  "needs a ball or chamfer mill, which dfm does not plan (the feature is cleared "
                                  f"straight down from the part's top, Z{part_top:.3f})"))
    return part_top


def _profile_clears(outer: Loop, z: float, shadow: ShadowFn, levels: Sequence[float], part_top: float,
                    smin: Sequence[float], smax: Sequence[float], r: float, allow: float) -> bool:
    """Whether the outside profile's tool (radius ``r``) sweeps 95 % of the prism over ``outer`` above ``z``.

    The profile clears, band by band, what its tool reaches from outside the part's shadow
    (``_free_components``: air enclosed by the part is not entered); True when it cannot tell.
    """
    heights = _heights_above(z + 1e-3, part_top, levels)
    if not heights:
        return True
    try:
        above = shadow(heights)
        main, _ = _free_components(_profile_box(smin, smax, r, allow), [o for o, _ in above], r + allow)
        if main is None:
            return False
        reach = strategies.offset(main[0], main[1], r + allow - 1e-3)
        inner = strategies.offset(outer, [], -0.005)
    except (CamError, KernelError):
        return True
    share = _reach_share(inner, reach)
    return share is None or share >= 0.95


def _reach_share(inner: Sequence[Loop], reach: Sequence[Loop], above: Sequence[tuple[Loop, list[Loop]]] | None = None
                 ) -> float | None:
    """The share of a 32 x 32 grid's points in ``inner`` (and outside ``above``'s outlines) that ``reach`` holds.

    None when no point is left (empty ``inner``, or all under ``above``): cannot tell.
    """
    if not inner:
        return None
    x0, y0, x1, y1 = loop_box(inner)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 32), np.linspace(y0, y1, 32))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    keep = _in_material(pts, [(inner[0], list(inner[1:]))])
    if above is not None:
        keep &= ~_in_material(pts, [(o, []) for o, _ in above])
    pts = pts[keep]
    if not len(pts):
        return None
    covered = np.zeros(len(pts), dtype=bool)
    for lp in reach:
        covered ^= _in_polygon(pts, loop_points(lp, 1e-4))
    return float(covered.mean())


def _outside_samples(outer: Loop, gap: float, spacing: float) -> np.ndarray:
    """Points ``gap`` mm outside the loop ``outer``, about ``spacing`` mm apart along it."""
    out = strategies.offset(outer, [], gap)
    pts: list[tuple[float, float]] = []
    for lp in out:
        poly = loop_points(lp, 1e-4)
        for a, b in zip(poly, poly[1:] + poly[:1], strict=False):
            n = max(1, math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / spacing))
            pts += [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n)]
    return np.array(pts, dtype=float).reshape(-1, 2)


def _in_polygon(pts: np.ndarray, poly: Sequence[tuple[float, float]]) -> np.ndarray:
    """Even-odd test of many points against one closed polyline.

    Compiled over the edges near each point's y (``simkernel.points_inside``): a large part's
    sections have tens of thousands of chords, and every point against every chord in numpy
    took 42 s of mfcadpp 4_true's plan.
    """
    from dfm.cam import simkernel

    inside = np.zeros(len(pts), dtype=bool)
    if len(poly) < 3 or not len(pts):
        return inside
    q = np.asarray(poly, dtype=float)
    x0, y0 = np.ascontiguousarray(q[:, 0]), np.ascontiguousarray(q[:, 1])
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    y_lo, h, start, idx = strategies.edge_bands(y0, y1)
    return simkernel.points_inside(np.ascontiguousarray(pts[:, 0], dtype=float),  # type: ignore[no-any-return]
                                   np.ascontiguousarray(pts[:, 1], dtype=float), x0, y0, x1, y1, y_lo, h, start, idx)


def _in_material(pts: np.ndarray, regions: Sequence[tuple[Loop, list[Loop]]]) -> np.ndarray:
    inside = np.zeros(len(pts), dtype=bool)
    for o, hs in regions:
        here = _in_polygon(pts, loop_points(o, 1e-4))
        for h in hs:
            here &= ~_in_polygon(pts, loop_points(h, 1e-4))
        inside |= here
    return inside


def _open_region(outer: Loop, holes: list[Loop], z_floor: float, part_top: float, levels: Sequence[float],
                 section: SectionFn, shadow: ShadowFn, grow: float, z_top: float | None = None,
                 floor_radius: float = 0.0) -> tuple[Loop, list[Loop]] | None:
    """A closed pocket's region widened where its outline is open (None where it is walled all round).

    A pocket or slot can open sideways onto a deeper neighbour (a slot beside it, a hole
    through its wall) or past the part's edge, where its outline has no wall: a tool-centre
    loop kept inside the outline leaves its radius of material in the corners of that open
    side, full depth. Where a point 5 um outside the outline (and outside the floor fillet of
    ``floor_radius``, which puts the wall that far outside the floor's outline) is air just above
    the floor and halfway up to ``z_top`` (the feature's top), the region is the outline grown by
    ``grow`` less the shadow of the part above the floor (the exact boolean, as an open slot's),
    the piece holding the pocket: the tool runs out over the open side into what is air (or stock
    a deeper feature removes) down to the floor.
    """
    from dfm.kernel import sampling

    pts = _outside_samples(outer, 0.005 + floor_radius, 0.02)
    if not len(pts):
        return None
    z_mid = (z_floor + (part_top if z_top is None else z_top)) / 2
    try:
        air = ~_in_material(pts, section(z_floor + 1e-3))
        if air.any() and z_mid > z_floor + 2e-3:
            air &= ~_in_material(pts, section(z_mid))
    except KernelError:
        return None
    if not air.any():
        return None
    heights = _heights_above(z_floor, part_top, levels)
    grown = strategies.offset(outer, [], grow)
    inside = strategies.offset(outer, holes, -0.005)
    if not heights or not grown or not inside:
        return None

    def tup(loop: Loop) -> list[tuple]:
        return [(sg.a, sg.b, sg.c, sg.ccw) for sg in loop]

    try:
        free = sampling.subtract(tup(grown[0]), [(tup(o), [tup(h) for h in hs]) for o, hs in shadow(heights)])
    except KernelError:
        return None
    probe = np.array([inside[0][0].a], dtype=float)
    for o, hs in free:
        region = tuple(Seg(*sg) for sg in o)
        rholes = [tuple(Seg(*sg) for sg in h) for h in hs]
        if _in_material(probe, [(region, rholes)])[0]:
            return region, rholes
    return None


def finish_offset(ctx: _Ctx, faces: Sequence[int], fid: str, modelled_mm: float, kinds: Sequence[str]
                  ) -> tuple[float, tuple[str, ...]]:
    """Per-side growth (mm) of a region so that a finished size lands mid pre-finish band, and its header note.

    The part's finish (``anodize_allowance`` features of the rules stage) says what size a
    surface must have before finishing; the finishing pass machines the middle of that band
    (a bore or width grows by ``(target − modelled) / 2`` per side). A masked surface is
    machined to its finished (modelled) size.
    """
    fs = set(faces)
    hit = next((a for a in ctx.finish if a.props.get("target") in kinds and fs and fs & set(a.faces)), None)
    if hit is None and not fs:
        hit = next((a for a in ctx.finish if a.props.get("target") in kinds
                    and fid in (a.props.get("features") or ())), None)
    if hit is None:
        return 0.0, ()
    d = hit.dims
    label = str(hit.props.get("size", hit.props.get("target")))
    if hit.props.get("masked"):
        return 0.0, (f"finish {label}: masked, machined to the finished size {modelled_mm:.4f} mm",)
    lo, hi = float(d["premachine_min_mm"]), float(d["premachine_max_mm"])
    target = (lo + hi) / 2
    if not ctx.settings["finish_offsets"]:
        return 0.0, (f"finish {label} ({hit.props.get('source')}): pre-finish {lo:.4f}-{hi:.4f} mm (middle "
                     f"{target:.4f}) NOT applied (finish_offsets = 0): machined to the modelled "
                     f"{modelled_mm:.4f} mm",)
    note = (f"finish {label} ({hit.props.get('source')}): finished {float(d['finished_mm']):.4f} mm, the film moves it "
            f"{float(d['size_change_min_um']):+.1f}..{float(d['size_change_max_um']):+.1f} um; pre-finish "
            f"{lo:.4f}-{hi:.4f} mm, machined to {target:.4f} mm (the middle)")
    return (target - modelled_mm) / 2, (note,)


def _mill_region(fid: str, kind: str, outer: Loop, holes: list[Loop], z_top: float, z_floor: float, depth: float,
                 width: float, corner: float, ctx: _Ctx, safe_z: float, allow: float, grow: float = 0.0,
                 grow_notes: tuple[str, ...] = (), fillet: float = 0.0) -> list[Operation]:
    """Rough and finish a region; the finishing pass moves every wall ``grow`` mm outward (finish offset).

    ``outer`` and ``holes`` are its walls; ``fillet``: the least radius of the fillets round its
    floor (0: none). Where the finishing (or gap) tool's corner radius is smaller, every pass
    stays off the walls by :func:`fillet_standoff` and the feature is listed as partly machined;
    a roughing tool's smaller corner keeps only the roughing off (the finishing tool then
    finishes every wall). A larger tool's corner larger than the fillets leaves its own along the
    walls at the floor: the smaller tool's passes are entered beside it and run once at the floor.
    """
    s = ctx.settings
    # dfm.tooling's rest tool (the one that fits the corners) finishes the walls when it chose one
    def reaches(c: Cutter | None) -> Cutter | None:
        # to dfm.tooling's tolerance (catalogue.EPS): the part's box, so its depth here, is the kernel's, a
        # tenth of a micrometre over the modelled depth that the check's reach is measured against
        return c if c is not None and c.reach_mm is not None and c.reach_mm >= depth - 1e-6 else None

    finish = reaches(ctx.chosen.get((fid, "rest"))) or reaches(ctx.chosen.get((fid, "finish")))
    listed = finish is not None
    if finish is None:
        ratio = corner_clearance_ratio()  # the same rule as dfm.tooling (rules/tooling.toml)
        max_fd = min(2 * corner / ratio if corner > 0 else math.inf, width / ratio)
        finish = pick_endmill(ctx.catalogue, max_d=max_fd, reach=depth)
    if finish is None:  # nothing fits the corners: the smallest tool that fits the width and reaches
        cands = [c for c in ctx.catalogue if c.kind == "square" and c.reach_mm is not None
                 and c.reach_mm >= depth - 1e-9 and c.diameter_mm <= width - 2 * allow - 0.02 + 1e-9]
        finish = min(cands, key=lambda c: (c.diameter_mm, c.reach_mm, c.id)) if cands else None
    if finish is None:
        raise CamError(f"no square end mill narrower than {width:g} mm reaches {depth:g} mm")
    rough = reaches(ctx.chosen.get((fid, "rough")))
    if rough is None and listed and ctx.chosen.get((fid, "rough")) is None:
        rough = finish  # dfm.tooling chose no larger roughing tool: its finishing tool cuts it all (what it lists)
    if rough is None:
        rough = pick_endmill(ctx.catalogue, max_d=min(0.8 * width, 3.0), reach=depth) or finish
    if rough.diameter_mm < finish.diameter_mm:
        rough = finish
    notes: list[str] = []
    standoff = 0.0
    if fillet > 0:
        standoff = fillet_standoff(fillet, verified_corner(finish))
        if standoff > 1e-9:
            outer, holes = strategies.wall_loops(outer, holes, -standoff)
    gap_tool: Cutter | None = None
    gap_note = ""
    if holes:
        # an island nearer a wall (or another island) than the finishing tool's diameter: no tool so far
        # can pass between them and the gap stays full depth; a tool that passes cuts what they left there:
        # the rest tool when there is one tool, else a third tool after the rest tool, only there
        gap = _narrowest_gap(outer, holes)
        if gap < finish.diameter_mm + 2 * allow - 1e-6:
            # dfm.tooling's gap tool (the one the check lists), while it fits this gap and reaches
            own = reaches(ctx.chosen.get((fid, "gap")))
            fits = (own if own is not None and own.diameter_mm <= gap - 2 * allow - 0.01 + 1e-6
                    else pick_endmill(ctx.catalogue, max_d=gap - 2 * allow - 0.01, reach=depth))
            if fits is not None and fits.diameter_mm < finish.diameter_mm - 1e-9:
                gap_note = (f"an island stands {gap:.3f} mm from a wall: {fits.id} Ø{fits.diameter_mm:g} cuts "
                            "what the larger tools leave between them")
                more = fillet_standoff(fillet, verified_corner(fits)) - standoff if fillet > 0 else 0.0
                if more > 1e-9:  # its corner is smaller still: every pass stays off the fillets as far as it must
                    outer, holes = strategies.wall_loops(outer, holes, -more)
                    standoff += more
                if finish.id == rough.id:
                    finish = fits
                    notes.append(gap_note)
                else:
                    gap_tool = fits
    r_f = finish.diameter_mm / 2
    if corner > 0 and r_f > corner + 1e-9:
        notes.append(f"vertical corners R{corner:g} are left at R{r_f:g} (smallest tool that fits and reaches)")
    ops = []
    rnotes: list[str] = []
    while True:  # a tool the region turns out too narrow for (its measured width was wrong): the next smaller
        # a roughing corner smaller than the finishing tool's stays off the fillets farther: the finishing tool
        # then finishes every wall (it takes that much more)
        extra_r = max(fillet_standoff(fillet, verified_corner(rough)) - standoff, 0.0) if fillet > 0 else 0.0
        r_outer, r_holes = (outer, holes) if extra_r <= 1e-9 else strategies.wall_loops(outer, holes, -extra_r)
        cd = feedmod.cutting_data(rough, ctx.material, s, ae_mm=s["ae_over_d"] * rough.diameter_mm)
        try:
            steps = strategies.clear_region(r_outer, r_holes, z_top=z_top, z_floor=z_floor,
                                            tool_radius=rough.diameter_mm / 2, ap=cd.ap_mm, stepover=cd.ae_mm,
                                            allowance=allow, floor_allowance=allow,
                                            ramp_angle_deg=s["ramp_angle_deg"], retract_z=z_top + s["retract_mm"])
            break
        except CamError as err:
            smaller = (_smaller_rough(ctx, fid, rough, finish, depth, fillet, standoff, outer, holes, allow)
                       if "too narrow" in str(err) else None)
            if smaller is None:
                raise
            known = smaller.id in _listed(ctx, fid)
            rnotes.append(f"roughed with {smaller.id} Ø{smaller.diameter_mm:g}: the region is too narrow for "
                          f"{rough.id} Ø{rough.diameter_mm:g} with {allow:g} mm left on the walls"
                          + ("" if known or not ctx.chosen else " (a tool the check does not list for it)"))
            rough = smaller
    if standoff > 1e-9:
        small = min((finish, *([gap_tool] if gap_tool else [])), key=verified_corner)
        why = f"the corner of {small.id}, the finishing tool that fits, is R{verified_corner(small):g}"
        ctx.partial.append((fid, f"the fillets round its floor are R{fillet:g} and {why}: its passes stay "
                                 f"{standoff:.3f} mm off the walls, which are left that much proud down to the "
                                 "fillets (a 3D finish would cut them)"))
    tr = ctx.tool(rough)
    ops.append(_op(f"{fid} rough", kind, (fid,), tr, cd, steps, safe_z, s, tuple(rnotes)))
    tf = ctx.tool(finish)
    def gap_rest() -> list[Operation]:  # the third tool, only where the rest tool could not pass
        if gap_tool is None:
            return []
        more = _rest_split(fid, outer, holes, tf, ctx.tool(gap_tool), z_top, z_floor, ctx, safe_z, allow, grow,
                           (gap_note,), grow_notes, fillet)
        return [replace(op, name=f"{fid} gap rest") for op in (more or [])[1:]]

    if finish.id != rough.id and extra_r <= 1e-9:
        split = _rest_split(fid, outer, holes, tr, tf, z_top, z_floor, ctx, safe_z, allow, grow, tuple(notes),
                            grow_notes, fillet)
        if split is not None:
            return ops + split + gap_rest()
    walls = strategies.classify(strategies.offset(outer, holes, -tf.radius + grow))
    if not walls:
        raise CamError(f"the region is too narrow for the finishing tool Ø{finish.diameter_mm:g}")
    kind_f = "finish-wall" if finish.id == rough.id else "finish-wall rest"
    # a finish of the whole wall with a smaller tool meets rest material: stepped down like roughing
    ap_f = (strategies.finish_ap(finish.diameter_mm, z_top - z_floor) if kind_f == "finish-wall"
            else s["ap_over_d"] * finish.diameter_mm)
    cdf = feedmod.cutting_data(finish, ctx.material, s, ae_mm=allow + extra_r + max(grow, 0.0), ap_mm=ap_f)
    # the lead-in stays in what roughing cleared: allowance measured from the offset wall; a wall loop in a
    # sliver roughing never entered is left (listed by the guard's removed share), not fed into
    left: list[Loop] = []
    corner_left = (verified_corner(rough) if finish.id != rough.id
                   and verified_corner(rough) > _left_below(fillet, finish) else 0.0)
    steps = strategies.finish_walls(walls, z_top=z_top, z_floor=z_floor, ap=ap_f,
                                    allowance=allow + extra_r + grow, retract_z=z_top + s["retract_mm"],
                                    cleared=_cleared_by(r_outer, r_holes, tr.radius, allow, tf.radius, corner_left),
                                    left=left, corner_left=corner_left)
    if left:
        notes.append(f"{len(left)} wall loop(s) of the finishing tool lie where roughing could not enter: not "
                     "finished (no descent through stock)")
    if not steps:  # the roughing stands; what it left is measured and listed by the guard
        note = (f"its walls are not finished: roughing entered none of the region's pieces that the finishing tool "
                f"Ø{finish.diameter_mm:g} fits (no descent through stock)")
        return [replace(o, notes=(*o.notes, note)) for o in ops] + gap_rest()
    op = _op(f"{fid} finish", kind_f, (fid,), tf, cdf, steps, safe_z, s, tuple(notes) + grow_notes)
    if kind_f == "finish-wall rest":
        op = _rest_feeds(op, outer, holes, tr.radius + allow + extra_r, tf.radius - grow, ctx)
    ops.append(replace(op, into_part_mm=max(grow, 0.0)))
    return ops + gap_rest()


def _left_below(fillet: float, smaller: Cutter) -> float:
    """The largest corner of a larger tool that leaves nothing along the walls at the floor for ``smaller``.

    On the walls of a floor filleted with radius ``fillet`` (0: sharp), a larger tool's corner
    up to the fillets' leaves nothing beyond them; where ``smaller``'s corner is smaller still, it
    stands off the walls (:func:`fillet_standoff`) with the larger one on the same loops, and a
    larger corner than its own leaves a band it must take at the floor (the rest pass then
    descended into it: an R0.1 rough beside an R0.05 rest tool over R0.1 fillets, 42 um).
    """
    return min(fillet, verified_corner(smaller)) + 1e-9 if fillet > 0 else 1e-9


def _listed(ctx: _Ctx, fid: str) -> set[str]:
    """The ids of the tools dfm.tooling chose for feature ``fid`` (every role)."""
    return {c.id for (f, _), c in ctx.chosen.items() if f == fid}


def _smaller_rough(ctx: _Ctx, fid: str, rough: Cutter, finish: Cutter, depth: float, fillet: float, standoff: float,
                   outer: Loop, holes: Sequence[Loop], allow: float) -> Cutter | None:
    """The roughing tool after ``rough`` turned out too narrow for the region (walls ``outer``, ``holes``).

    The largest end mill between the finishing tool's diameter and ``rough``'s that reaches and
    sweeps :data:`clearance.ROUGH_COVERAGE` of what the finishing tool sweeps (dfm.tooling's
    rule): of one diameter, one the check lists for the feature first, then one whose corner fits
    the floor's fillets (radius ``fillet``: a bull-nose, the largest corner that fits; a square on a
    sharp floor), which stays off them least. The finishing tool when none does (it is listed).
    A Ø2 square took over from a Ø2.5 in an 8 x 6 pocket with two islands 0.5 apart and
    cleared a sliver round them; the finishing tool then left 46 % of it.
    """
    listed = _listed(ctx, fid)
    cands = [c for c in ctx.catalogue if c.kind in ("square", "corner-radius") and c.reach_mm is not None
             and c.reach_mm >= depth - 1e-6 and finish.diameter_mm - 1e-9 <= c.diameter_mm < rough.diameter_mm - 1e-6
             and c.id != finish.id]

    def key(c: Cutter) -> tuple[Any, ...]:
        rc = verified_corner(c)
        fit = rc <= fillet + 1e-9
        return (-c.diameter_mm, c.id not in listed, not fit, -rc if fit else rc, c.reach_mm, c.id)

    grid = clearance.FloorGrid(loop_points(outer, 1e-3), [loop_points(h, 1e-3) for h in holes])

    def share(c: Cutter) -> float:
        r = c.diameter_mm / 2
        return grid.coverage(r, r + allow + max(fillet_standoff(fillet, verified_corner(c)) - standoff, 0.0))

    judged = [c for c in (*cands, finish) if grid.judges(c.diameter_mm)]
    need = clearance.ROUGH_COVERAGE * share(min(judged, key=lambda c: c.diameter_mm)) if judged else 0.0
    for c in sorted(cands, key=key):
        if not grid.judges(c.diameter_mm) or share(c) >= need - 1e-9:
            return c
    return finish if finish.id != rough.id else None


def verified_corner(c: Cutter) -> float:
    """The corner radius of ``c`` that the guard's model of its end has (what it can prove a pass in a fillet by)."""
    from dfm.cam.guard import end_corner

    return end_corner(c)


def _cleared_by(outer: Loop, holes: Sequence[Loop], r_rough: float, allow: float, r_tool: float,
                corner: float = 0.0) -> Callable[[float, float], bool]:
    """Whether a tool of radius ``r_tool`` centred at (x, y) lies over what the roughing cleared.

    The roughing (radius ``r_rough``, ``allow`` left on the walls) cleared its tool-centre region
    swept by its disc: yes within ``r_rough - r_tool`` (+1 um) of that region (the tool's disc then
    lies in one of the roughing tool's discs). ``corner``: the roughing end's corner radius, for a
    descent to the floor: its corner left that band round its flat end, so the disc must lie in one
    of the flat ends (an R0.5 rough's band took a rest tool's floor entry 60 um into stock).
    """
    from dfm.cam.sim import _seg_distance

    roughed = strategies.offset(outer, list(holes), -(r_rough + allow))
    polys = [loop_points(lp, 1e-3) for lp in roughed]
    segs = [sg for lp in roughed for sg in lp]
    flat = r_rough - corner
    reach = max(flat - r_tool, 0.0) + 1e-3

    def cleared(x: float, y: float) -> bool:
        if flat < r_tool - 1e-9:
            return False  # wider than the roughing end's flat: nowhere proven
        if sum(point_in_polygon((x, y), pts) for pts in polys) % 2 == 1:
            return True
        px, py = np.array([x]), np.array([y])
        return any(float(_seg_distance(sg, px, py)[0]) <= reach for sg in segs)

    return cleared


def _narrowest_gap(outer: Loop, holes: Sequence[Loop], spacing: float = 0.005) -> float:
    """The least distance between two different boundary loops of a region (outline and islands), mm.

    Sampled every ``spacing`` mm along each loop (the distance is found within that).
    """
    from scipy.spatial import cKDTree

    def pts(lp: Loop) -> np.ndarray:
        poly = loop_points(lp, 1e-4)
        out: list[tuple[float, float]] = []
        for a, b in zip(poly, poly[1:] + poly[:1], strict=False):
            n = max(1, math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / spacing))
            out += [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n)]
        return np.array(out, dtype=float).reshape(-1, 2)

    loops = [pts(lp) for lp in (outer, *holes)]
    best = math.inf
    for i in range(1, len(loops)):
        if not len(loops[i]):
            continue
        tree = cKDTree(loops[i])
        for j in range(i):
            if len(loops[j]):
                best = min(best, float(tree.query(loops[j], k=1)[0].min()))
    return best


def _rest_split(fid: str, outer: Loop, holes: list[Loop], tr: Tool, tf: Tool, z_top: float, z_floor: float,
                ctx: _Ctx, safe_z: float, allow: float, grow: float, notes: tuple[str, ...],
                grow_notes: tuple[str, ...], fillet: float = 0.0) -> list[Operation] | None:
    """The roughing tool finishes every wall it reaches; the smaller tool cuts only the corners it left.

    The roughing tool's finish runs on its own tool-centre loops (``grow`` out, passes of
    :func:`dfm.cam.strategies.finish_ap`); the smaller tool then follows its loops only where
    its disc is outside every disc the larger one swept (:class:`dfm.cam.strategies.RestMaterial`),
    stepped like roughing (``ap_over_d``) at the full-engagement feed (ae = D), since there it
    may meet rest material across its whole width; then its loops offset inward by half its
    diameter at a time, where they still meet rest material (what lies farther from the wall
    than its diameter: between the larger tool's round sweep and the wall band, in corners).
    None when a loop of the smaller tool meets rest material all round (the caller finishes the
    whole wall with the smaller tool).
    """
    s = ctx.settings
    retract = z_top + s["retract_mm"]
    big = strategies.classify(strategies.offset(outer, holes, -tr.radius + grow))
    small = strategies.classify(strategies.offset(outer, holes, -tf.radius + grow))
    if not big or not small:
        return None
    # the roughing tool finishes the walls of the pieces it roughed; a sliver of its region it could not
    # enter (narrower than its allowance) is left to the smaller tool, as rest material
    ap_f = strategies.finish_ap(tr.cutter.diameter_mm, z_top - z_floor)
    left: list[Loop] = []
    steps = strategies.finish_walls(big, z_top=z_top, z_floor=z_floor, ap=ap_f, allowance=allow + grow,
                                    retract_z=retract, cleared=_cleared_by(outer, holes, tr.radius, allow, tr.radius),
                                    left=left)
    big = [lp for lp in big if lp not in left]
    if not big:
        return None
    rest = strategies.RestMaterial(big, tr.radius, tf.radius)
    ap_r = s["ap_over_d"] * tf.cutter.diameter_mm
    try:
        # the larger tool's corner, left along the walls at the floor where it is larger than the floor's fillets
        # or, where the smaller tool's corner is smaller than those and it stands off them, than its corner
        corner_left = verified_corner(tr.cutter) if verified_corner(tr.cutter) > _left_below(fillet, tf.cutter) \
            else 0.0
        rest_steps = strategies.finish_rest(small, rest, z_top=z_top, z_floor=z_floor, ap=ap_r, retract_z=retract,
                                            corner_left=corner_left)
        # rest material farther from the wall than the smaller tool's diameter (between the larger tool's
        # round sweep and the wall loop's band, a tall pin in a corner): loops offset inward by half its
        # diameter, where they meet rest material, until one meets none; a loop that meets it all round
        # (a lobe the larger tool never entered) is cleared whole, ramped down along itself
        for k in range(1, 400):
            inner = strategies.classify(strategies.offset(outer, holes, -tf.radius * (1 + k) + grow))
            hits: list[list[tuple[float, float]] | None] = []
            for lp in inner:
                try:
                    hits.append(rest.zones(lp)[1])
                except CamError:  # all round
                    hits.append(None)
            if not any(h is None or h for h in hits):
                break
            for lp, h in zip(inner, hits, strict=True):
                if h is None:
                    rest_steps += _ramped_loop(lp, z_top, z_floor, ap_r, s["ramp_angle_deg"], retract)
                elif h:
                    rest_steps += strategies.finish_rest([lp], rest, z_top=z_top, z_floor=z_floor, ap=ap_r,
                                                         retract_z=retract, corner_left=corner_left)
    except CamError:
        return None
    if corner_left > 0 and verified_corner(tf.cutter) < corner_left - 1e-9:
        # the larger tool's corner left a fillet of its radius along every wall it finished, at the floor (whose
        # own fillets, ``fillet``, are smaller or none): the smaller tool runs its loops once more at the floor,
        # entered beside them (its descents elsewhere then meet none of it)
        rest_steps += strategies.finish_walls(small, z_top=z_floor + corner_left, z_floor=z_floor,
                                              ap=min(corner_left, ap_r),
                                              allowance=allow + grow, retract_z=retract, corner_left=corner_left,
                                              cleared=_cleared_by(outer, holes, tr.radius, allow, tf.radius,
                                                                  corner_left))
    cdf = feedmod.cutting_data(tr.cutter, ctx.material, s, ae_mm=allow + max(grow, 0.0), ap_mm=ap_f)
    fnote = (f"walls finished by the roughing tool {tr.cutter.id} (passes of at most {strategies.FINISH_AP_OVER_D:g} "
             f"x D: it takes only the allowance); "
             + (f"the corners it cannot reach by {tf.cutter.id} ({fid} rest)" if rest_steps
                else "it leaves no corner a smaller tool would cut (no rest pass)"),)
    out = [replace(_op(f"{fid} finish", "finish-wall", (fid,), tr, cdf, steps, safe_z, s, grow_notes + fnote),
                   into_part_mm=max(grow, 0.0))]
    if rest_steps:
        cdr = feedmod.cutting_data(tf.cutter, ctx.material, s, ae_mm=tf.cutter.diameter_mm, ap_mm=ap_r)
        rnote = ("rest machining: only where the tool meets what the roughing tool left (corners), at the "
                 "full-engagement feed (ae = D, no chip thinning), from a finished wall; the ways back to a "
                 "corner's start meet no rest material and run at the machine's max_feed_mm_min",)
        op = _op(f"{fid} rest", "finish-wall rest", (fid,), tf, cdr, rest_steps, safe_z, s, notes + grow_notes + rnote)
        # its ways back meet no rest material (RestMaterial.way): in air, at the machine's feed
        air = float(s["max_feed_mm_min"])
        linked = tuple(replace(st, feed=air) if isinstance(st, Feed) and st.role == "link" else st for st in op.steps)
        out.append(replace(op, steps=linked, into_part_mm=max(grow, 0.0)))
    return out


def _ramped_loop(loop: Loop, z_top: float, z_floor: float, ap: float, angle_deg: float, retract_z: float
                 ) -> list[Step]:
    """A closed tool-centre loop cut whole level by level (``ap``), each level ramped down along the loop."""
    out: list[Step] = []
    levels = strategies.depth_levels(z_top, z_floor, ap)
    if not levels or not loop:
        return out
    p = loop[0].a
    out += [Rapid(p[0], p[1], retract_z), Feed(p[0], p[1], z_top, "descend")]
    z, cur = z_top, tuple(loop)
    for lv in levels:
        ramp, cur = strategies.ramp_on_loop(cur, z, lv, angle_deg)
        out += ramp
        out += strategies._moves(cur, lv)
        z = lv
    q = cur[-1].b
    out.append(Rapid(q[0], q[1], retract_z))
    return out


def _rest_feeds(op: Operation, outer: Loop, holes: list[Loop], reach: float, off: float, ctx: _Ctx) -> Operation:
    """A smaller finishing tool's feed where it meets what the roughing tool left: full engagement.

    Along straight walls the finishing tool takes only the allowance (its feed is raised for
    chip thinning); in a corner the roughing tool (centre ``reach`` from the walls) could not
    reach, it cuts the rest material at up to its full width, and the thinned feed there
    would make chips several times the material table's largest. Where a move's tool centre
    (``off`` from the walls) is farther than ``reach`` − ``off`` from the roughing tool's
    centre region (by 0.1 µm), the move runs at the full-engagement feed (ae = D, no
    thinning), with the inside-arc reduction kept.
    """
    from dfm.cam import sim

    centres = strategies.offset(outer, holes, -reach)
    if not centres:
        return op
    segs = [sg for lp in centres for sg in lp]
    region = strategies.Region(centres)
    limit = reach - off + 1e-4
    full = feedmod.cutting_data(op.tool.cutter, ctx.material, ctx.settings, ae_mm=op.tool.cutter.diameter_mm)
    base = min(op.cutting.feed_mm_min, ctx.settings["max_feed_mm_min"])
    ratio = min(full.feed_mm_min, ctx.settings["max_feed_mm_min"]) / base if base > 0 else 1.0
    if ratio >= 1.0 - 1e-9:
        return op
    memo: dict[tuple[float, ...], tuple[float, float] | None] = {}

    def beyond(sg: Seg) -> tuple[float, float] | None:
        """The part (t from, t to) of the move whose tool meets rest material (None: none)."""
        key = (round(sg.a[0], 7), round(sg.a[1], 7), round(sg.b[0], 7), round(sg.b[1], 7),
               *(() if sg.c is None else (round(sg.c[0], 7), round(sg.c[1], 7), float(bool(sg.ccw)))))
        if key not in memo:
            if sg.c is None:
                n = max(2, math.ceil(math.dist(sg.a, sg.b) / 0.002))  # every 2 um: rest material shows within 1 um
                t = np.linspace(0.0, 1.0, n + 1)
                px, py = sg.a[0] + (sg.b[0] - sg.a[0]) * t, sg.a[1] + (sg.b[1] - sg.a[1]) * t
            else:
                rad = math.dist(sg.a, sg.c)
                sweep = sg.sweep if math.dist(sg.a, sg.b) > 1e-9 else 2 * math.pi * (1 if sg.ccw else -1)
                n = max(2, math.ceil(abs(sweep) * rad / 0.002))
                t = np.linspace(0.0, 1.0, n + 1)
                ang = math.atan2(sg.a[1] - sg.c[1], sg.a[0] - sg.c[0]) + sweep * t
                px, py = sg.c[0] + rad * np.cos(ang), sg.c[1] + rad * np.sin(ang)
            d = np.full(len(px), np.inf)
            for c in segs:
                d = np.minimum(d, sim._seg_distance(c, px, py))
            hit = np.nonzero(~region._inside(px, py) & (d > limit))[0]
            # one sample (2 um) of margin each side: the zone starts between samples
            memo[key] = None if not hit.size else (float(t[max(hit[0] - 1, 0)]), float(t[min(hit[-1] + 1, n)]))
        return memo[key]

    steps: list[Step] = []
    pos: tuple[float, float, float] | None = None
    slowed = 0
    for st in op.steps:
        if isinstance(st, Feed | Arc) and pos is not None and st.role in ("cut", "lead") and st.feed is not None:
            xy = (pos[0], pos[1])
            sg = Seg(xy, (st.x, st.y)) if isinstance(st, Feed) else Seg(xy, (st.x, st.y), (st.cx, st.cy), st.ccw)
            zone = beyond(sg)
            if zone is not None:
                slow = round(max(st.feed * ratio, 0.1), 1)
                slowed += 1
                if isinstance(st, Feed) and (zone[0] > 0.0 or zone[1] < 1.0):  # only that part of a line
                    def at(t: float, p: tuple[float, float, float] = pos, q: Feed = st) -> tuple[float, float, float]:
                        return (p[0] + (q.x - p[0]) * t, p[1] + (q.y - p[1]) * t, p[2] + (q.z - p[2]) * t)

                    if zone[0] > 0.0:
                        steps.append(replace(st, x=at(zone[0])[0], y=at(zone[0])[1], z=at(zone[0])[2]))
                    if zone[1] < 1.0:
                        steps.append(replace(st, x=at(zone[1])[0], y=at(zone[1])[1], z=at(zone[1])[2], feed=slow))
                        st = replace(st)
                    else:
                        st = replace(st, feed=slow)
                else:
                    st = replace(st, feed=slow)
        if isinstance(st, Feed | Arc | Rapid):
            pos = (st.x, st.y, st.z)
        steps.append(st)
    if not slowed:
        return op
    note = (f"rest material in corners the roughing tool left: {slowed} moves at the full-engagement feed "
            f"F{min(full.feed_mm_min, ctx.settings['max_feed_mm_min']):.1f} (ae = D, no chip thinning)")
    return replace(op, steps=tuple(steps), notes=op.notes + (note,))


def _through_extras(feats: Sequence[Feature], by_id: Mapping[str, Feature], ctx: _Ctx) -> dict[str, float]:
    """Hole id → how much deeper a threaded through hole is cut (when there are thread mills at all)."""
    if not any(c.kind == "thread-mill" for c in ctx.catalogue):
        return {}
    s = ctx.settings
    out: dict[str, float] = {}
    for f in feats:
        hole = by_id.get(str(f.props.get("hole", ""))) if f.kind == "thread" else None
        if hole is not None and f.props.get("internal", True):
            extra = through_extra(f, hole, breakthrough=s["breakthrough_mm"], clearance=s["thread_clearance_mm"])
            out[hole.id] = max(out.get(hole.id, 0.0), extra)
    return out


def _hole_ops(f: Feature, ctx: _Ctx, safe_z: float, part_top: float, part_bottom: float,
              key: Vec3, thread_extra: float = 0.0, z_start: float | None = None) -> list[Operation]:
    s = ctx.settings
    m = _TURNS[key]
    loc = _apply(m, f.location_mm or (0.0, 0.0, part_top))
    x, y, z_open = loc
    d = float(f.dims["diameter_mm"])
    through = bool(f.props.get("through"))
    depth_from_open = float(f.props.get("drill_depth_mm", f.dims.get("depth_mm", 0.0)))
    # a thread to be milled through the hole needs its bore this much deeper (through_extra)
    z_far = z_open - depth_from_open  # a through hole's far end: the part's bottom, or a cavity it opens into
    if through and abs(z_far - part_bottom) < 1e-6:
        z_far = part_bottom
    z_floor = z_far - s["breakthrough_mm"] - thread_extra if through else z_far
    ops: list[Operation] = []
    z_entry = z_open if z_start is None else max(z_start, z_open)  # stock nothing else removes: from the top
    z_main_top = z_entry
    skipped = False  # an entry countersink left: what lies below it is cut from the top, through its material
    narrowest = math.inf  # the narrowest counterbore machined above
    z_done = z_entry  # the floor of the last counterbore machined
    n_cb = 0
    for st in f.props.get("stack") or []:
        if st.get("kind") != "counterbore" or st.get("side", "entry") != "entry":
            skipped = skipped or st.get("side", "entry") == "entry"
            # the bore is still drilled or milled; the countersink (or a counterbore on the far side) is listed
            need = "a countersink or chamfer tool" if st.get("kind") == "countersink" else "a tool from the other side"
            ctx.partial.append((f.id, f"its {st.get('kind')} on the {st.get('side', 'entry')} side (Ø"
                                      f"{float(st.get('diameter_mm') or 0.0):g}) is not machined: it needs {need}, "
                                      "which dfm does not plan (the bore itself is machined)"))
            continue
        dia = float(st["diameter_mm"])
        from_mm = float(st.get("from_mm", 0.0))
        if dia > narrowest + 1e-6:
            # wider than a counterbore above it (a circlip groove, a thread relief): a straight end mill reaching
            # it from the entry would cut that counterbore's wall; the counterbore below it is cut through it
            ctx.partial.append((f.id, f"its groove Ø{dia:g} ({from_mm:g} to {from_mm + float(st['depth_mm']):g} mm "
                                      f"deep) is wider than the bore above it (Ø{narrowest:g}): an undercut that "
                                      "needs a slot or form cutter, which dfm does not plan (the rest of the hole is "
                                      "machined)"))
            continue
        cb_floor = z_open - from_mm - float(st["depth_mm"])
        cb_top = z_entry if skipped else z_done
        grow, gnotes = finish_offset(ctx, tuple(st.get("faces") or ()), f.id, dia, ("bore",))
        # the hole's own operations (its feature): cut before the bore below, which its rapids reach through it
        name = f"{f.id} counterbore" if n_cb == 0 else f"{f.id} counterbore {n_cb + 1}"
        ops.extend(replace(o, features=(f.id,)) for o in _mill_region(
            name, "counterbore", circle((x, y), dia / 2), [], cb_top, cb_floor, part_top - cb_floor, dia, dia / 2,
            ctx, safe_z, s["finish_allowance_mm"], grow, gnotes))
        n_cb += 1
        narrowest = min(narrowest, dia)
        z_done = cb_floor
        z_main_top = min(z_main_top, cb_floor)
    bottom = f.props.get("bottom", "through" if through else "flat")
    grow, gnotes = finish_offset(ctx, tuple(f.props.get("bore_faces") or ()), f.id, d, ("bore",))
    drill = ctx.chosen.get((f.id, "drill"))
    if drill is None and bottom in ("through", "drill-point"):
        extra = point_length(d, None) if through else 0.0  # the same need as dfm.tooling's drill_reach_needed
        drill = pick_drill(ctx.catalogue, diameter=d, reach=part_top - z_floor + extra, match=s["drill_match_mm"])
    if drill is not None:
        tool = ctx.tool(drill)
        cd = feedmod.drilling_data(drill, ctx.material, s)
        notes: tuple[str, ...] = ()
        z_drill = z_floor
        if through:
            # The hole is full size only above the drill's point: take the point out of the bottom too.
            tip = point_length(drill.diameter_mm, drill.point_angle_deg)
            z_drill -= tip
            angle = drill.point_angle_deg or DEFAULT_POINT_ANGLE_DEG
            assumed = "" if drill.point_angle_deg else ", assumed: not in the catalogue"
            notes = (f"through: drilled {tip:.3f} mm deeper for the {angle:g} deg point{assumed}",)
        elif bottom == "drill-point":
            deeper, notes, partly = _drill_point_depth(f, drill, depth_from_open)
            z_drill -= deeper
            if partly:
                ctx.partial.append((f.id, partly))
        if thread_extra > 0:
            notes += (f"{thread_extra:.3f} mm deeper below the part for the thread mill's full last turn",)
        if gnotes and abs(grow) > 1e-6:
            notes += (gnotes[0].replace("machined to", "NOT machined to") + ": drilled at the modelled size "
                      "(ream or mill it to the pre-finish size)",)
        if not through and bottom == "flat":
            cone = point_length(drill.diameter_mm, drill.point_angle_deg)
            notes += (f"flat bottom left as the drill's {drill.point_angle_deg or DEFAULT_POINT_ANGLE_DEG:g} deg point "
                      f"(a {cone:.3f} mm cone): a flat-bottom end mill would finish it",)
        steps = strategies.drill(x, y, z_top=z_main_top, z_bottom=z_drill, peck=cd.peck_mm,
                                 retract_z=z_main_top + s["retract_mm"])
        ops.append(_op(f"{f.id} drill", "drill", (f.id,), tool, cd, steps, safe_z, s, notes))
        return ops
    ops.extend(_mill_region(f.id, "hole", circle((x, y), d / 2), [], z_main_top, z_floor, part_top - z_floor,
                            d, d / 2, ctx, safe_z, s["finish_allowance_mm"], grow, gnotes))
    return ops


def _drill_point_depth(f: Feature, drill: Cutter, depth: float) -> tuple[float, tuple[str, ...], str | None]:
    """How much deeper than its full-diameter depth a blind hole with a modelled drill point is drilled.

    The drill's tip goes down to where its cone fills the modelled one: its full diameter reaches the
    bore's modelled depth when its point is no longer than the modelled point (an angle as blunt or
    blunter). A sharper point would run past the modelled apex: the drill stops at that apex, and the bore
    is full size only down to where its point begins (the hole is listed as machined in part).

    Returns:
        (mm deeper than ``depth``, the operation's notes, the partly-machined reason or None).
    """
    modelled = float(f.dims.get("total_depth_mm", depth)) - depth  # the modelled cone's length
    if modelled <= 1e-9:
        return 0.0, (), None
    angle = drill.point_angle_deg or DEFAULT_POINT_ANGLE_DEG
    assumed = "" if drill.point_angle_deg else ", assumed: not in the catalogue"
    tip = point_length(drill.diameter_mm, drill.point_angle_deg)
    if tip <= modelled + 1e-6:
        return tip, (f"drill point: drilled {tip:.3f} mm below the bore's depth for the {angle:g} deg point"
                     f"{assumed} (within the modelled {float(f.dims.get('point_angle_deg') or 0.0):g} deg point), "
                     "so the bore is full size down to its depth",), None
    short = tip - modelled
    return modelled, (f"drill point: drilled to the modelled point's apex ({modelled:.3f} mm below the bore's depth); "
                      f"the drill's {angle:g} deg point{assumed} is longer than the modelled one",), (
        f"the drill's {angle:g} deg point is sharper than the modelled "
        f"{float(f.dims.get('point_angle_deg') or 0.0):g} deg one: drilled to the modelled apex, the bore is full "
        f"size only to {short:.3f} mm above its depth (a drill with a blunter point would finish it)")


def _thread_ops(f: Feature, by_id: Mapping[str, Feature], machined: set[str], ctx: _Ctx, safe_z: float,
                part_top: float, part_bottom: float, key: Vec3, extra: float = 0.0) -> list[Operation]:
    """Helical thread milling of an internal thread in its (already machined) hole."""
    s = ctx.settings
    if not f.props.get("internal", True):
        raise CamError("external threads are not milled by dfm yet (turn them, or cut them with a die)")
    hole = by_id.get(str(f.props.get("hole", "")))
    if hole is None:
        raise CamError("the thread is on no hole of this setup")
    if hole.id not in machined:
        raise CamError(f"its hole {hole.id} is not machined")
    clear = s["thread_clearance_mm"]
    try:
        job = thread_job(f, hole, breakthrough=s["breakthrough_mm"], clearance=clear, extra=extra)
    except ThreadError as err:
        raise CamError(str(err)) from None
    x, y, z_open = _apply(_TURNS[key], hole.location_mm or (0.0, 0.0, part_top))
    top = z_open - job.bore_top
    z_low = z_open - job.tip_depth
    notes: list[str] = []
    if job.limited:
        notes.append(f"full thread only {job.full_length:.3f} mm long (called out {job.length:g} mm): the bore is "
                     f"cut to full diameter only {job.tip_depth + clear - job.bore_top:.3f} mm below its top; the "
                     "last turn runs out incomplete")
    reach = thread_reach(job, part_top - z_open)
    chosen = ctx.chosen.get((f.id, "thread"))  # dfm.tooling's pick, when it still fits here
    cutter, why = pick_thread_mill([chosen] if chosen is not None else [], job, reach=reach, clearance=clear)
    if cutter is None:
        cutter, why = pick_thread_mill(ctx.catalogue, job, reach=reach, clearance=clear)
        if chosen is not None and cutter is not None:
            notes.append(f"the check's thread mill {chosen.id} does not fit here ({'; '.join(why[:1])}): "
                         f"{cutter.id} instead")
    if cutter is None:
        raise CamError("no thread mill in the tool catalogue (add yours with --tools)" if not why
                       else "no thread mill fits: " + "; ".join(why))
    tool = ctx.tool(cutter)
    major, pitch, bore = job.major, job.pitch, job.bore
    passes = max(1, round(s["thread_passes"]))
    r_touch = max(bore / 2 - tool.radius, 0.0)
    shift, fnotes = _thread_finish(f, ctx)
    r_full = major / 2 - tool.radius + shift
    notes.extend(fnotes)
    radii = [r_touch + (r_full - r_touch) * (k + 1) / passes for k in range(passes)]
    depth = (r_full - r_touch) / passes
    hand = f.props.get("hand")
    right = str(hand or "right").lower() != "left"
    span = (cutter.teeth - 1) * pitch
    z_top = max(top - span, z_low + pitch)
    prev = [bore / 2] + [rad + tool.radius for rad in radii[:-1]]
    ae = max(feedmod.circular_engagement(tool.radius, rad, rw) for rad, rw in zip(radii, prev, strict=True))
    cd = feedmod.cutting_data(cutter, ctx.material, s, ae_mm=ae, ap_mm=min(cutter.teeth * pitch, top - z_low))
    steps = strategies.thread_mill(x, y, radii=radii, pitch=pitch, z_low=z_low, z_top=z_top, right_hand=right,
                                   retract_z=part_top + s["retract_mm"])
    notes.insert(0, f"thread {f.props.get('designation', '')} ({f.props.get('source', 'model')}): major Ø{major:g}, "
                    f"P{pitch:g}, in the Ø{bore:g} bore of {hole.id}; {passes} radial pass(es) of {depth:.4f} mm "
                    f"(thread_passes) to the R{r_full:.4f} helix; ae {ae:.4f} mm = the largest pass's engagement on "
                    f"the arc (feeds.circular_engagement); {'right' if right else 'left'}-hand"
                    f"{'' if hand else ' (assumed: the model and the spec do not say)'}, "
                    f"G3 {'bottom-up' if right else 'top-down'} (climb); tip Z{z_low:.3f} and above "
                    f"({'limited by the bore' if job.limited else f'{LEAD_PITCHES:g} P below the thread end'}); "
                    f"centre feed on "
                    f"the helix x R/(R+r) (filters.feeds); vc and fz/D are the end-mill row's (the table has no "
                    f"thread-mill rows)")
    if cutter.teeth > 1:
        notes.append(f"{cutter.teeth}-tooth mill: the helix stops {span:g} mm below the bore top")
    op = _op(f"{f.id} thread", "thread-mill", (f.id, hole.id), tool, cd, steps, safe_z, s, tuple(notes))
    return [replace(op, into_part_mm=max(shift, 0.0))]


def _thread_finish(f: Feature, ctx: _Ctx) -> tuple[float, tuple[str, ...]]:
    """Radial shift of a thread mill's last helix so the pitch diameter lands mid pre-finish band.

    The mill's profile cuts the basic pitch diameter when its tip reaches the major diameter;
    a coat builds up on both flanks and closes an internal thread's pitch diameter (by 4x the
    growth per surface on a 60 degree thread: the ``anodize_allowance`` of the thread says by
    how much), so the helix moves out by half the difference between the middle of the
    pre-finish band and the basic pitch diameter. A masked thread is cut to its finished size.
    """
    a = next((x for x in ctx.thread_finish if x.props.get("feature") == f.id), None)
    if a is None or not f.props.get("internal", True):
        return 0.0, ()
    lo, hi, basic = a.dims.get("premachine_min_mm"), a.dims.get("premachine_max_mm"), a.dims.get("finished_mm")
    if lo is None or hi is None or basic is None:
        return 0.0, ()
    label = f"thread {a.props.get('designation', '')} pitch diameter"
    if a.props.get("masked"):
        return 0.0, (f"finish: {label} masked: cut to the finished size (PD {basic:.4f} mm)",)
    mid = (lo + hi) / 2
    shift = (mid - basic) / 2
    if not ctx.settings["finish_offsets"]:
        return 0.0, (f"finish: {label} pre-finish {lo:.4f}-{hi:.4f} mm (middle {mid:.4f}) NOT applied "
                     f"(finish_offsets = 0): cut to the basic PD {basic:.4f} mm",)
    return shift, (f"finish: {label} machined to the middle of its pre-finish band {lo:.4f}-{hi:.4f} mm: "
                   f"PD {mid:.4f} mm, the helix {shift * 1000:+.1f} um out from the basic PD {basic:.4f} mm",)


def _same_outline(a: list[tuple[Loop, list[Loop]]], b: list[tuple[Loop, list[Loop]]]) -> bool:
    if len(a) != len(b):
        return False
    pa = sorted(round(polygon_area(loop_points(o, 1e-3)), 5) for o, _ in a)
    pb = sorted(round(polygon_area(loop_points(o, 1e-3)), 5) for o, _ in b)
    return pa == pb


def _heights_above(z_floor: float, part_top: float, levels: Sequence[float]) -> list[float]:
    """:func:`_band_heights` of every band between the part's levels from ``z_floor`` up to its top."""
    zs = sorted({round(z, 9) for z in levels if z_floor + 1e-6 < z <= part_top + 1e-9} | {part_top})
    heights: list[float] = []
    lo = z_floor
    for hi in zs:
        if hi > lo + 1e-6:
            heights += _band_heights(lo, hi)
            lo = hi
    return heights


def _band_heights(lo: float, hi: float) -> list[float]:
    """Heights that sample a band between two levels: both sides of each level and its middle.

    The same heights as the guard's shadows (dfm.cam.guard), so their sections are computed once.
    """
    eps = min(1e-4, (hi - lo) / 4)
    return [lo + eps, (lo + hi) / 2, hi - eps]


def _profile_ops(ctx: _Ctx, section: SectionFn, levels: Sequence[float], part_top: float, part_bottom: float,
                 smin: Sequence[float], smax: Sequence[float], safe_z: float, feats: list[str],
                 shadow: ShadowFn | None = None) -> list[Operation]:
    """Outside profile band by band (between the heights of horizontal faces), finished to size.

    Each band is cut around the *shadow* of everything at and above it (the union of the
    part's sections above the band's floor), so nothing wider higher up (an overhang, a
    flange, a thread's crests) is cut through from above. Gaps narrower than the tool
    between parts of the shadow are never entered: the tool-centre region is the offset of
    the air around the whole shadow, not around each piece on its own.
    """
    s = ctx.settings
    allow = s["finish_allowance_mm"]
    zs = sorted({round(z, 9) for z in levels if part_bottom - 1e-9 <= z <= part_top + 1e-9} | {part_top, part_bottom},
                reverse=True)

    def union(heights: Sequence[float]) -> list[tuple[Loop, list[Loop]]]:
        if shadow is not None:
            return shadow(heights)
        regions = [r for z in heights for r in section(z)]
        return regions  # overlapping pieces: the offsets below treat them as one obstacle

    bands: list[tuple[float, float, list[tuple[Loop, list[Loop]]]]] = []
    above: list[float] = []
    for hi, lo in zip(zs, zs[1:], strict=False):
        above += _band_heights(lo, hi)
        sec = union(above)
        if bands and _same_outline(bands[-1][2], sec):
            bands[-1] = (bands[-1][0], lo, bands[-1][2])
        else:
            bands.append((hi, lo, sec))
    depth = part_top - part_bottom
    cutter = pick_endmill(ctx.catalogue, max_d=3.0, reach=depth)
    if cutter is None:
        raise CamError(f"no end mill reaches the part bottom ({depth:g} mm)")
    tool = ctx.tool(cutter)
    r = tool.radius
    cd = feedmod.cutting_data(cutter, ctx.material, s, ae_mm=s["ae_over_d"] * cutter.diameter_mm)
    big = _profile_box(smin, smax, r, allow)
    x0, y0, x1, y1 = big[0].a[0], big[0].a[1], big[1].a[0], big[1].b[1]
    rough: list[Step] = []
    finish: list[Step] = []
    grow, gnotes = _outside_finish(ctx)
    for hi, lo, sec in bands:
        outers = [o for o, _ in sec]
        if not outers:
            continue
        # air the tool cannot reach from the outside (a notch whose mouth is narrower than the tool, a
        # pocket opening onto a narrow through slot) is not the profile's: its features cut it, from above
        obstacles = outers + _enclosed_air(big, outers, r + allow)
        rough += strategies.clear_region(big, obstacles, z_top=hi, z_floor=lo,
                                         tool_radius=r, ap=cd.ap_mm,
                                         stepover=cd.ae_mm, allowance=allow, floor_allowance=allow,
                                         ramp_angle_deg=s["ramp_angle_deg"], retract_z=smax[2] + s["retract_mm"],
                                         stock_box=(smin[0], smin[1], smax[0], smax[1]))
        # the finish contours: where the tool centre meets the shadow (holes of the offset air region)
        free = strategies.offset(big, outers + _enclosed_air(big, outers, r - grow), -r + grow)  # grow: into the part
        box_area = (x1 - x0 - 2 * r) * (y1 - y0 - 2 * r)
        walls = [strategies.orient_cw(g) for g in free
                 if abs(polygon_area(loop_points(g, 1e-3))) < 0.999 * box_area]
        # entered only where roughing cleared: air the finish's tool centre reaches but roughing's (its
        # allowance farther from the part) does not is joined to the outside through a gap between r and
        # r + allow (random part 9517: a ring round a boss among pockets, fed 0.58 mm into their stock)
        finish += strategies.finish_walls(walls, z_top=hi, z_floor=lo, ap=cd.ap_mm, allowance=allow + grow,
                                          retract_z=smax[2] + s["retract_mm"],
                                          cleared=_cleared_by(big, obstacles, r, allow, r))
    cdf = feedmod.cutting_data(cutter, ctx.material, s, ae_mm=allow + grow)
    names = tuple(feats)
    fin = _op("profile finish", "finish-wall", names, tool, cdf, finish, safe_z, s, gnotes)
    return [_op("profile rough", "profile", names, tool, cd, rough, safe_z, s),
            replace(fin, into_part_mm=grow)]


def _profile_box(smin: Sequence[float], smax: Sequence[float], r: float, allow: float) -> Loop:
    """The outside profile's outer boundary: the stock box grown so that ring 0 runs just outside the stock."""
    pad = 2 * r + allow + 0.05
    x0, y0, x1, y1 = smin[0] - pad, smin[1] - pad, smax[0] + pad, smax[1] + pad
    return (Seg((x0, y0), (x1, y0)), Seg((x1, y0), (x1, y1)), Seg((x1, y1), (x0, y1)), Seg((x0, y1), (x0, y0)))


def _free_components(big: Loop, outers: Sequence[Loop], d: float) -> tuple[tuple[Loop, list[Loop]] | None, list[Loop]]:
    """Where a tool centre ``d`` from the shadow ``outers`` can be inside ``big``.

    The region joined to ``big``'s boundary (its outer loop and holes), and the outer loops of the
    pockets of free space cut off from it (enclosed by the shadow: reached only from above).

    A loop's depth (:func:`strategies.depths`): 0 is the outside ring, 1 its holes, 2 an enclosed
    region, 3 its holes, and so on.
    """
    loops = strategies.offset(big, list(outers), -d)
    depth = strategies.depths(loops)
    ring = [lp for lp, k in zip(loops, depth, strict=True) if k == 0]
    main = (ring[0], [lp for lp, k in zip(loops, depth, strict=True) if k == 1]) if len(ring) == 1 else None
    return main, [lp for lp, k in zip(loops, depth, strict=True) if k >= 2 and k % 2 == 0]


def _enclosed_air(big: Loop, outers: Sequence[Loop], d: float) -> list[Loop]:
    """Islands that fill the free space a tool ``d`` from the shadow cannot reach from the outside.

    Each enclosed region of tool-centre space (:func:`_free_components`) grown by ``d`` and 1 um
    is all the tool could cut from there; taken as material, the outside profile leaves it alone.
    The regions are found 2 um nearer the shadow than ``d`` (a pocket exactly the tool's width
    is a region of no area at ``d``, which has no offset) and grown by 3 um more.
    """
    _, enclosed = _free_components(big, outers, d - 2e-3)
    out: list[Loop] = []
    for lp in enclosed:
        out += [g for g in strategies.offset(lp, [], d + 3e-3) if polygon_area(loop_points(g, 1e-3)) > 0]
    return out


def _profile_reaches(f: Feature, shadow: ShadowFn, levels: Sequence[float], part_top: float, smin: Sequence[float],
                     smax: Sequence[float], r: float, allow: float, key: Vec3) -> bool:
    """Whether the outside profile's tool (radius ``r``) reaches 95 % of an open feature from outside.

    At its floor, over its outline: a step or a notch open to the outside does; a pocket that
    opens only onto a through slot narrower than the tool does not (its own operations cut it).
    """
    try:
        outer, _ = _loops_of(f, key)
    except CamError:
        return True
    z_floor = float(f.props.get("floor_z_mm", float(f.props.get("top_z_mm", part_top)) - f.dims.get("depth_mm", 0.0)))
    heights = _heights_above(z_floor, part_top, levels)
    if not heights:
        return True
    big = _profile_box(smin, smax, r, allow)
    try:
        above = shadow(heights)
        main, _ = _free_components(big, [o for o, _ in above], r + allow)
        if main is None:
            return False
        reach = strategies.offset(main[0], main[1], r + allow - 1e-3)
        inner = strategies.offset(outer, [], -0.005)
    except (CamError, KernelError):
        return True  # cannot tell: as before (the guard measures what is left)
    # the feature's air: inside its outline, outside the part above its floor (a step's outline may hold a
    # boss; holes through that are other features', never reached from the outside)
    share = _reach_share(inner, reach, above)
    return share is None or share >= 0.95


def _outside_finish(ctx: _Ctx) -> tuple[float, tuple[str, ...]]:
    """How far the outside profile's finish cuts into the part under a finish, and its header note.

    A coat grows every outside surface by g (per surface), so a shaft's diameter and an outer
    wall's thickness grow by 2g: with a symmetric tolerance the middle of the pre-finish band
    is the finished size less 2 x the mean growth, which moving the whole outside contour in
    by the mean growth per surface gives. The contour is one loop: a masked outside size (the
    spec's [[mask]]) or a shaft whose own band that offset misses keeps it at the modelled
    size, and the header says which.
    """
    outside = [a for a in ctx.finish if a.props.get("target") in ("shaft", "thickness")]
    if not outside:
        return 0.0, ()
    a0 = outside[0].dims
    g = (float(a0.get("growth_min_um", 0.0)) + float(a0.get("growth_max_um", 0.0))) / 2 / 1000
    if g <= 0:
        return 0.0, ()
    if not ctx.settings["finish_offsets"]:
        return 0.0, (f"finish: the outside NOT moved in by the mean growth {g * 1000:.1f} um per surface "
                     "(finish_offsets = 0): machined to the modelled size",)
    masked = [a for a in outside if a.props.get("masked")]
    if masked:
        names = ", ".join(str(a.props.get("size")) for a in masked)
        return 0.0, (f"finish: {len(masked)} outside size(s) masked ({names}): the outside contour is machined "
                     "to the modelled size",)
    missed = []
    for a in outside:
        if a.props.get("target") != "shaft":
            continue
        lo, hi, fin = a.dims.get("premachine_min_mm"), a.dims.get("premachine_max_mm"), a.dims.get("finished_mm")
        if lo is not None and hi is not None and fin is not None and not lo - 1e-9 <= fin - 2 * g <= hi + 1e-9:
            missed.append(f"{a.props.get('size')} (band {lo:.4f}-{hi:.4f} mm)")
    note = (f"finish: the outside contour moved in by the mean growth {g * 1000:.1f} um per surface, so shafts and "
            "outer walls come out mid pre-finish band")
    if missed:
        note += f"; not these, whose own band the offset misses: {', '.join(missed)}"
    return g, (note,)


def with_steps(program: Program, setup_index: int, steps: Sequence[Step]) -> Program:
    """A copy of ``program`` (helper for tests that alter a setup's steps)."""
    setups = list(program.setups)
    su = setups[setup_index - 1]
    op = su.operations[0]
    setups[setup_index - 1] = replace(su, operations=(replace(op, steps=tuple(steps)),) + su.operations[1:])
    return replace(program, setups=tuple(setups))
