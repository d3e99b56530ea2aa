"""From a part file to G-code: analyse, plan, filter, post; plus the tool table and times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dfm.cam import cycletime, data, filters, orient, setupsheet
from dfm.cam.geom2d import Loop, Seg
from dfm.cam.model import Program, Setup, Step
from dfm.cam.posts import get_post
from dfm.cam.posts.base import Post
from dfm.cam.program import StockSpec, plan
from dfm.cam.tools import from_tooling, pick_endmill
from dfm.errors import DfmError, UsageError


@dataclass(frozen=True)
class OperationTime:
    """Estimated time of one operation."""

    setup: int
    name: str
    tool: int
    seconds: float


@dataclass(frozen=True)
class Generated:
    """A generated program.

    Attributes:
        program: The plan.
        post: Post name.
        files: (suffix, text): ``""`` for PROGRAM.ngc, ``".setup2"`` for PROGRAM.setup2.ngc...
        tool_table: LinuxCNC tool table text (mm).
        sequences: Final step list per setup (what the post formatted).
        times: Per-operation times; ``setup_seconds`` per setup; ``total_seconds``.
    """

    program: Program
    post: str
    files: tuple[tuple[str, str], ...]
    tool_table: str
    sequences: tuple[tuple[Step, ...], ...]
    times: tuple[OperationTime, ...]
    setup_seconds: tuple[float, ...]
    total_seconds: float
    verification: Any = None

    def summary(self) -> dict[str, Any]:
        """The ``cam`` object of the result (for the quote): times, tools, unmachined features."""
        return {
            "post": self.post,
            "material": self.program.material,
            "cycle_time_s": round(self.total_seconds, 1),
            "setups": [
                {"index": su.index, "approach": list(su.approach), "cycle_time_s": round(self.setup_seconds[i], 1),
                 "sheet": setupsheet.sheet(self.program, su),
                 "operations": [{"name": t.name, "kind": op.kind, "features": list(op.features), "tool": t.tool,
                                 "cycle_time_s": round(t.seconds, 1)}
                                for t, op in zip((t for t in self.times if t.setup == su.index), su.operations,
                                                 strict=True)],
                 "unmachined": [{"feature": f, "reason": r} for f, r in su.unmachined],
                 "partly": [{"feature": f, "reason": r} for f, r in su.partly]}
                for i, su in enumerate(self.program.setups)
            ],
            "tools": [{"number": t.number, "id": t.cutter.id, "kind": t.cutter.kind,
                       "diameter_mm": t.cutter.diameter_mm} for t in self.program.tools],
            "unreachable": [{"feature": f, "reason": r} for f, r in self.program.unreachable],
            "guard": self.verification.summary() if self.verification is not None else None,
        }


def tool_table(program: Program) -> str:
    """LinuxCNC tool table, diameters in mm (metric machine): ``T1 P1 D0.500 Z0 ;comment``."""
    lines = []
    for t in program.tools:
        c = t.cutter
        lines.append(f"T{t.number} P{t.number} D{c.diameter_mm:.3f} Z0 ;{c.kind} {c.id} reach "
                     f"{'?' if c.reach_mm is None else f'{c.reach_mm:g}'} mm ({c.series}, {c.file})")
    return "\n".join(lines) + "\n"


def _catalogue_file(name: str) -> str:
    """Where a tool row came from: ``rules/tools/NAME`` for the shipped catalogue, else the user's path."""
    return name if Path(name).name != name else f"rules/tools/{name}"


def header(program: Program, setup: Setup, post: Post, times: Sequence[OperationTime], setup_s: float,
           total_s: float, verification: Any = None) -> list[str]:
    """Header comment lines: what, where, from which data rows, how long."""
    p = program
    n = len(p.setups)
    h = [f"dfm {p.meta.get('dfm_version', '')} program for {p.part}, post {post.name}",
         f"setup {setup.index} of {n}: {setup.orientation}"]
    h += setupsheet.sheet(p, setup)[1:]  # its first line says what the line above says
    h += ["tool-centre paths, no cutter compensation",
         f"stock X{setup.stock_min[0]:.3f}..{setup.stock_max[0]:.3f} "
         f"Y{setup.stock_min[1]:.3f}..{setup.stock_max[1]:.3f} Z{setup.stock_min[2]:.3f}..{setup.stock_max[2]:.3f}, "
         f"part top Z{setup.part_top:.3f}, safe Z{setup.safe_z:.3f}"]
    if p.meta.get("generated_at"):
        h.append(f"generated {p.meta['generated_at']}")
    h.append(_machine_line(p))
    h.append(f"material {p.material}: rules/data/materials.toml [[material]] name={p.material!r} "
             f"(sources {', '.join(p.material_sources)})")
    h.append("settings (dfm/cam/settings.toml unless stated): " + ", ".join(
        f"{k}={v:g}" + ("" if p.settings_source.get(k, "").startswith("settings.toml") else
                        f" [{p.settings_source.get(k)}]") for k, v in sorted(p.settings.items())))
    used = sorted({op.tool.number for op in setup.operations})
    for t in p.tools:
        if t.number not in used:
            continue
        c = t.cutter
        h.append(f"T{t.number}: {c.kind} D{c.diameter_mm:g} reach {c.reach_mm if c.reach_mm is not None else '?'} "
                 f"flutes {c.flutes}{' (assumed)' if c.flutes_assumed else ''} = "
                 f"{_catalogue_file(c.file)} id {c.id} "
                 f"series {c.series} ({c.source})")
    for op in setup.operations:
        op_time = next((x for x in times if x.setup == setup.index and x.name == op.name), None)
        h.append(f"OP {op.name} ({op.kind}) T{op.tool.number}: S{op.cutting.rpm:.0f} F{op.cutting.feed_mm_min:g} "
                 f"ap {op.cutting.ap_mm:.4f} ae {op.cutting.ae_mm:.4f}"
                 + (f", {op_time.seconds:.1f} s" if op_time is not None else ""))
        h += [f"  {line}" for line in op.cutting.lines]
        h += [f"  note: {w}" for w in op.cutting.warnings + op.notes]
    for fid, why in setup.unmachined:
        h.append(f"NOT MACHINED {fid}: {why}")
    for fid, why in setup.partly:
        h.append(f"PARTLY MACHINED {fid}: {why}")
    if verification is not None:
        h += verification.header(setup.index)
    else:
        h.append("NOT VERIFIED: this program was not simulated against the part (dfm.cam.guard)")
    if setup.index == 1:
        for fid, why in p.unreachable:
            h.append(f"UNREACHABLE {fid}: {why}")
    ramp = float(p.settings.get("spindle_ramp_s", 0.0))
    h.append(f"cycle time setup {setup.index}: {setup_s:.1f} s; whole program: {total_s:.1f} s "
             f"(feeds as programmed, rapids at {p.settings['rapid_mm_min']:g} mm/min, "
             f"{p.settings['tool_change_s']:g} s per tool change"
             + (f", {ramp:g} s per spindle start" if ramp > 0 else "") + ")")
    return h


def _machine_line(p: Program) -> str:
    """What the spindle dwell and the coolant are, and where they come from."""
    s, src = p.settings, p.settings_source
    ramp = float(s.get("spindle_ramp_s", 0.0))
    cool = int(s.get("coolant_m", 0))
    dwell = (f"G4 {ramp:g} s after each M3 (spindle_ramp_s, {src.get('spindle_ramp_s', 'settings.toml')})" if ramp > 0
             else "no dwell after M3 (spindle_ramp_s = 0: not set; set your spindle's run-up time)")
    coolant = (f"M{cool} on after M3, M9 before M5 (coolant_m, {src.get('coolant_m', 'settings.toml')})" if cool
               else "no coolant or air codes (coolant_m = 0; a machine profile's coolant sets it)")
    return f"spindle: {dwell}; coolant: {coolant}"


def spindle_starts(ops: Sequence[Any]) -> list[int]:
    """How many times the spindle starts or changes speed at each operation (as :func:`filters.sequence`)."""
    out = []
    current = rpm = None
    for op in ops:
        n = 0
        if current != op.tool.number:
            current, rpm = op.tool.number, None
        if rpm != op.cutting.rpm:
            n, rpm = 1, op.cutting.rpm
        out.append(n)
    return out


def op_times(program: Program) -> dict[tuple[int, str], float]:
    """(setup, operation name) → estimated seconds of its moves (tool changes not included)."""
    s = program.settings
    out = {}
    for su in program.setups:
        pos = (0.0, 0.0, su.safe_z)
        for op in su.operations:
            dt, pos = cycletime.estimate(op.steps, pos, s["rapid_mm_min"], 0.0)
            out[(su.index, op.name)] = dt
    return out


def render(program: Program, post_name: str = "linuxcnc", verification: Any = None) -> Generated:
    """Sequence, time and post every setup of ``program``."""
    post = get_post(post_name)
    s = program.settings
    seqs: list[tuple[Step, ...]] = []
    times: list[OperationTime] = []
    setup_s: list[float] = []
    for su in program.setups:
        seq = filters.sequence(su.operations, su.safe_z)
        if not post.canned_cycles:
            seq = filters.expand_drill_cycles(seq)
        seqs.append(tuple(seq))
        pos = (0.0, 0.0, su.safe_z)
        total = 0.0
        current = None
        ramp = float(s.get("spindle_ramp_s", 0.0))
        for op, starts in zip(su.operations, spindle_starts(su.operations), strict=True):
            sec = starts * ramp
            if current != op.tool.number:
                sec += s["tool_change_s"]
                current = op.tool.number
            dt, pos = cycletime.estimate(op.steps, pos, s["rapid_mm_min"], 0.0)
            sec += dt
            times.append(OperationTime(su.index, op.name, op.tool.number, sec))
            total += sec
        setup_s.append(total)
    total_s = sum(setup_s)
    files = []
    for i, su in enumerate(program.setups):
        h = header(program, su, post, times, setup_s[i], total_s, verification)
        title = Path(program.part).stem
        text = post.format(title, h, seqs[i], su.safe_z, spindle_ramp_s=float(s.get("spindle_ramp_s", 0.0)),
                           coolant_m=int(s.get("coolant_m", 0)))
        files.append(("" if su.index == 1 else f".setup{su.index}", text))
    return Generated(program, post.name, tuple(files), tool_table(program), tuple(seqs), tuple(times),
                     tuple(setup_s), total_s, verification)


class KernelSetupPart:
    """The exact part in one setup's coordinates, for :func:`dfm.cam.guard.verify` (kernel calls)."""

    def __init__(self, solid: Any, approach: Sequence[float], features: Sequence[Any] = ()) -> None:
        from dfm.cam.program import turn_point, turn_rows
        from dfm.kernel import sampling

        rows = turn_rows(approach)
        # modelled external threads along the tool axis: their major cylinder is their shadow
        self.keep_out: list[tuple[float, float, float, float, float]] = []
        for f in features:
            axis = f.axis or ()
            if (f.kind != "thread" or f.props.get("internal", True) or f.location_mm is None or len(axis) != 3
                    or abs(abs(sum(a * b for a, b in zip(axis, approach, strict=True))) - 1) > 1e-6):
                continue
            x, y, z = turn_point(approach, f.location_mm)
            half = float(f.dims.get("length_mm", 0.0)) / 2 + float(f.dims.get("pitch_mm", 0.0))
            # 0.5 um over the measured major radius swallows the crest points of the sections, which
            # stray a few nm past it (slivers between them break the kernel's offsets)
            self.keep_out.append((x, y, float(f.dims["major_diameter_mm"]) / 2 + 5e-4, z - half, z + half))
        self._sampling = sampling
        self.placed = solid if rows == ((1, 0, 0), (0, 1, 0), (0, 0, 1)) else sampling.turned(solid, rows)
        self.levels = sampling.flat_levels(self.placed)
        self._sections: dict[float, Any] = {}
        self._shadows: dict[tuple[float, ...], list[tuple[Loop, list[Loop]]]] = {}

    def height_field(self, grid: Any, skip: Sequence[Any] = ()) -> Any:
        """Top of the part over the grid's cell centres (faces in ``skip`` left out: ``SetupPart``)."""
        return self._sampling.height_field(self.placed, grid.x0, grid.y0, grid.step, grid.nx, grid.ny, skip=skip)

    def shadow(self, heights: Sequence[float]) -> list[tuple[Loop, list[Loop]]]:
        """Union of the part's sections at ``heights`` (kept: planning and the guard ask for the same sets)."""
        key = tuple(sorted(round(h, 9) for h in heights))
        if key in self._shadows:
            return self._shadows[key]

        def conv(lp: Sequence[tuple]) -> Loop:
            return tuple(Seg(a, b, c, ccw) for a, b, c, ccw in lp)

        out = [(conv(o), [conv(h) for h in hs])
               for o, hs in self._sampling.shadow(self.placed, heights, self._sections, self.keep_out)]
        self._shadows[key] = out
        return out


def guarded(program: Program, solid: Any, features: Sequence[Any], top: KernelSetupPart | None = None
            ) -> tuple[Program, Any]:
    """Run the guard over ``program`` against ``solid``; drop empty setups (renumbered).

    ``top``: the part as planning saw it in setup 1 (its sections are reused). ``features``:
    the features as planned (:class:`dfm.cam.orient.Choice`, through features flipped).
    """
    from dfm.cam import guard
    from dfm.cam.program import turn_feature_xy

    parts: dict[int, KernelSetupPart] = {}

    first = tuple(program.setups[0].approach) if program.setups else None

    def part_for(su: Setup) -> KernelSetupPart:
        if su.index not in parts:
            reuse = top is not None and tuple(su.approach) == first
            parts[su.index] = top if reuse and top is not None else KernelSetupPart(solid, su.approach, features)
        return parts[su.index]

    def turn(su: Setup):  # type: ignore[no-untyped-def]
        return lambda f, outline: turn_feature_xy(su.approach, f, outline)

    prog, ver = guard.verify(program, part_for, features=features, turn=turn, op_seconds=op_times(program))
    return guard.compact(prog, ver)


def part_geometry(path: str | Path) -> tuple[Any, Any]:
    """(loaded file, first solid) from the kernel."""
    from dfm import kernel

    loaded = kernel.load(path)
    if not loaded.solids:
        raise UsageError(f"{path}: no solid to machine")
    return loaded, loaded.solids[0]


def section_fn(solid: Any):  # type: ignore[no-untyped-def]
    """A ``section(z)`` function over the exact part, returning geom2d loops."""
    from dfm.kernel import sampling

    def conv(lp: Sequence[tuple]) -> Loop:
        return tuple(Seg(a, b, c, ccw) for a, b, c, ccw in lp)

    def section(z: float) -> list[tuple[Loop, list[Loop]]]:
        return [(conv(o), [conv(h) for h in hs]) for o, hs in sampling.section(solid, z)]

    return section


def choose_setups(solid: Any, features: Sequence[Any], catalogue: Sequence[Any]) -> orient.Choice:
    """The setups of ``solid`` (:func:`dfm.cam.orient.choose` over its exact faces)."""
    from dfm.kernel.geom import geometry

    geo = geometry(solid)
    faces = [orient.FaceFact(f.id, f.kind, f.area, f.normal, f.axis) for f in geo.faces.values()]
    lo, hi = solid.bbox

    def reaches(depth: float) -> bool:
        return pick_endmill(catalogue, max_d=3.0, reach=depth) is not None

    by_id = {c.id: c for c in catalogue}

    def hole_reaches(hole: Any, depth: float) -> bool:
        """The hole's tool (dfm.tooling's, which the program uses), else any drill or end mill that fits it."""
        own = by_id.get(str(hole.props.get("tool")))
        cands = [own] if own is not None else [c for c in catalogue if c.kind in ("drill", "square")
                                               and c.diameter_mm <= float(hole.dims.get("diameter_mm", 0.0)) + 1e-9]
        return any((c.reach_mm or 0.0) >= depth - 1e-9 for c in cands)

    return orient.choose(features, bbox_min=lo, bbox_max=hi, faces=faces, profile_reaches=reaches,
                         hole_reaches=hole_reaches)


def planned(solid: Any, features: Sequence[Any], *, part: str, material: Any, settings: Any,
            catalogue: Sequence[Any], stock: StockSpec, chosen: Mapping[tuple[str, str], Any] | None = None,
            meta: Mapping[str, Any] | None = None, unreachable: Sequence[tuple[str, str]] = ()
            ) -> tuple[Program, Any]:
    """Choose the setups, plan them on the exact part and guard the program: (program, verification).

    Setup 1's part (the solid turned so that its approach is +Z, exactly) gives the planner
    its sections, levels and shadows and the guard the same; the features are the ones the
    choice returns (through features it flipped included), for the planner and the guard alike.
    """
    from dataclasses import replace

    from dfm.kernel import sampling

    choice = choose_setups(solid, features, catalogue)
    top = KernelSetupPart(solid, choice.order[0], choice.features)
    levels = sampling.flat_levels(top.placed) if choice.order[0] != (0.0, 0.0, 1.0) else sampling.up_levels(solid)
    lo, hi = solid.bbox
    info = {**dict(meta or {}), "choice": choice.reasons, "part_box": (tuple(lo), tuple(hi)),
            "stock_margin_mm": stock.margin}
    prog = plan(choice.features, part=part, bbox_min=lo, bbox_max=hi, levels=levels, section=section_fn(top.placed),
                material=material, settings=settings, catalogue=catalogue, stock=stock, chosen=chosen, meta=info,
                shadow=top.shadow, order=choice.order)
    # material dfm found removed but cannot name (DFM308): no operation is planned for it
    unknown = tuple((f.id, f"a shape dfm did not recognise ({f.props.get('faces_text', 'its faces')}: "
                           f"{f.props.get('surfaces', '')}; DFM308): no operation is planned for it, and what other "
                           "operations cut of it is not its shape; program it by hand")
                    for f in features if f.kind == "unrecognised")
    if unreachable or unknown:
        prog = replace(prog, unreachable=prog.unreachable + unknown + tuple(unreachable))
    return guarded(prog, solid, choice.features, top)


def generate(path: str | Path, *, post: str = "linuxcnc", material: str | None = None,
             stock: StockSpec | None = None, machine: str | None = None, settings_file: str | Path | None = None,
             overrides: Mapping[str, str] | None = None, tools: str | Path | None = None,
             options: Any = None, timestamp: str | None = None) -> tuple[Generated, Any]:
    """Analyse ``path`` and generate its program.

    Returns:
        (generated program, the DfmResult of the analysis with ``cam`` filled when the
        result type has that field).

    Raises:
        DfmError: The part cannot be read or a setting is wrong.
    """
    from dataclasses import replace

    from dfm import __version__, api

    get_post(post)  # fail early on an unknown post
    if machine is None and options is not None:
        machine = dict(getattr(options, "extra", {}) or {}).get("machine")
    settings = data.load_settings(machine, overrides, settings_file)
    mat = data.load_material(material)
    catalogue = data.load_catalogue(tools)
    opts = options or api.Options(material=mat.name, tools=str(tools) if tools else None, generated_at=timestamp,
                                  extra={"machine": machine} if machine else {})
    result = api.analyze(path, opts)
    if result.status != "ok":
        raise DfmError(result.error.message if result.error else f"{path}: cannot be analysed")
    body = result.bodies[0]
    _loaded, solid = part_geometry(path)
    stock = stock or StockSpec(margin=settings["stock_margin_mm"])
    others = tuple((f"body {b.index}" + (f" ({b.name})" if b.name else ""),
                    "not machined: dfm writes the program of a file's first body only; put each body in a file "
                    "of its own") for b in result.bodies[1:])
    prog, ver = planned(solid, body.features, part=Path(path).name, material=mat, settings=settings,
                        catalogue=catalogue, stock=stock, chosen=from_tooling(body.tools, catalogue),
                        meta={"dfm_version": __version__, "generated_at": timestamp}, unreachable=others)
    gen = render(prog, post, ver)
    if "cam" in getattr(type(result), "__dataclass_fields__", {}):
        result = replace(result, cam=gen.summary())
    return gen, result
