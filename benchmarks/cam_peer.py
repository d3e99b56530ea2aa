"""dfm's pocket clearing against FreeCAD 0.20 CAM (Path PocketShape and Adaptive), same tool and data.

    python benchmarks/cam_peer.py [--grid MM] [--dump DIR] [--roles] [PART ...]

Parts (CadQuery, built here): ``pocket`` (8 x 6 x 2 deep, R0.5 corners), ``slot`` (0.4 wide,
2 long, 1 deep, round ends), ``deep`` (a 1.0 x 3.0 pocket 3 mm deep), ``thin_wall`` (two 4 x 5
pockets 2 deep either side of a 0.2 mm web) and ``island`` (an 8 x 6 pocket 1.5 deep round a
2 x 2 boss). Name some to run only those.

For each pocket or slot dfm machines (``dfm.cam.gcode.generate``: planned, guarded, posted),
its roughing operation's tool diameter, rpm, feed, ap (stepdown) and ae (stepover) are handed
to FreeCAD's Path workbench, run headless in a ``freecadcmd`` child (§2 of TOOLS.md): a Job on
the same STEP file, the tool controller's tool set to that diameter, spindle to that rpm,
horizontal and vertical feed to that feed; on the pocket's floor face, from the part top (no
stock above it, as dfm's program here) to the floor, stepdown ap, stepover ae/D in percent,
the same safe and retract heights:

* ``PocketShape``: FreeCAD's default pattern (ZigZag). It enters every depth by a straight
  plunge at the feed; dfm never plunges an end mill, so the peer compared is
* ``PocketShape+ramp``: the same with FreeCAD's ramp entry dressup (RampMethod1) at dfm's
  ramp angle (``ramp_angle_deg``; the dressup's angle is from the vertical);
* ``Adaptive``: clearing, inside, its helix at dfm's ramp angle (its own finishing profile on).

FreeCAD's commands are written as G-code (feeds in mm/min) with the same tool change and
spindle start as dfm's.

One calculator times both: every program goes through LinuxCNC's ``rs274`` and the canon it
prints is timed by :func:`dfm.cam.cycletime.canon_time` (feed moves at the programmed feed,
rapids at the machine's ``rapid_mm_min``, no acceleration, the first positioning move and
tool changes not counted). ``dfm s`` is dfm's operations on the pocket with the roughing tool
(its roughing and its wall finish); ``rest s`` is the smaller tool's pass in the corners the
roughing tool cannot reach, which neither peer cuts (not in the ratio). One simulation judges
the removal: the canon as :func:`dfm.cam.sim.moves_from_canon` moves swept over the part's
exact height field (``dfm.cam.sim``, a ``--grid`` mm grid, stock top = part top); ``%`` is the
share of the pocket's removable volume (inside its outline, stock top down to the part) that
is gone (dfm's: with the roughing tool's operations only). The exact side check
(:func:`dfm.cam.sim.lateral_gouges`) prints any cut into the part.

``ratio`` is ``dfm s`` over the faster of ``PocketShape+ramp`` and ``Adaptive``; the goal of
#17 is <= 0.8 on every part with dfm's % at least the better peer's. ``plunge s`` and
``plunge %`` are plain PocketShape's, and ``vs plunge`` is ``dfm s`` over ``plunge s`` (the
strict reading of the goal, also <= 0.8). ``descent s`` is the least time any program that
never plunges needs only to get down: the pocket's depth along a ramp at ``ramp_angle_deg``,
at the feed (where it is above 0.8 x ``plunge s``, no ramping program meets the strict
reading, whatever its clearing). ``--dump DIR`` writes every program compared there;
``--roles`` prints where dfm's seconds go (per operation: rapids and feed moves by role, from
its steps, before the post). Without ``freecadcmd`` only dfm's side is printed (and the
reason).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The parts (:func:`build`).
PARTS = ("pocket", "slot", "deep", "thin_wall", "island")
#: The peers the ratio is taken against: PocketShape with FreeCAD's ramp entry dressup at dfm's
#: ramp angle (dfm never plunges an end mill), and Adaptive (its own helix at that angle).
PEERS = ("PocketShape+ramp", "Adaptive")
#: Everything FreeCAD is asked for; plain PocketShape plunges at the feed (shown, not compared).
KINDS = ("PocketShape", *PEERS)
#: ``--dump DIR``: every program compared is written there (PART-FEATURE-WHO.ngc).
DUMP: Path | None = None
#: ``--roles``: under each row, where dfm's seconds go (per operation and move kind).
ROLES = False


def build(name: str) -> Any:
    """The CadQuery part ``name`` (mm, top at z = its thickness, +Z approach)."""
    import cadquery as cq

    def block(lx: float, ly: float, h: float) -> Any:
        return cq.Workplane("XY").box(lx, ly, h, centered=(True, True, False))

    def pocket(lx: float, ly: float, depth: float, r: float, top: float, x: float = 0.0) -> Any:
        cut = cq.Workplane("XY").box(lx, ly, depth, centered=(True, True, False))
        if r > 0:
            cut = cut.edges("|Z").fillet(r)
        return cut.translate((x, 0, top - depth))

    if name == "pocket":
        return block(14, 10, 4).cut(pocket(8, 6, 2, 0.5, 4))
    if name == "slot":
        base = block(8, 6, 3)
        return base.cut(cq.Workplane("XY", origin=(0, 0, 2)).slot2D(2.0, 0.4, 0).extrude(1.0))
    if name == "deep":
        return block(8, 6, 4).cut(pocket(3.0, 1.0, 3.0, 0.25, 4))
    if name == "thin_wall":
        base = block(12, 8, 3)
        for sign in (-1, 1):
            base = base.cut(pocket(4, 5, 2, 0.25, 3, sign * (0.1 + 2)))
        return base
    if name == "island":
        boss = cq.Workplane("XY").box(2, 2, 1.5, centered=(True, True, False)).edges("|Z").fillet(0.3)
        return block(14, 10, 3).cut(pocket(8, 6, 1.5, 0.5, 3).cut(boss.translate((0, 0, 1.5))))
    raise ValueError(f"unknown part {name!r} (one of {', '.join(PARTS)})")


@dataclass
class Row:
    """One pocket's comparison."""

    part: str
    feature: str
    tool: str
    d: float
    rpm: float
    feed: float
    ap: float
    ae: float
    seconds: dict[str, float] = field(default_factory=dict)
    removed: dict[str, float] = field(default_factory=dict)
    gouge_um: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    descent_s: float = 0.0
    #: Where dfm's seconds go: (operation, move kind) -> seconds, from the operations' steps at their feeds.
    roles: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """dfm's time over the faster peer's (None without a peer)."""
        peers = [self.seconds[k] for k in PEERS if self.seconds.get(k, 0.0) > 0]
        return self.seconds["dfm"] / min(peers) if peers else None

    @property
    def vs_plunge(self) -> float | None:
        """dfm's time over plain (plunging) PocketShape's (None without it)."""
        t = self.seconds.get("PocketShape", 0.0)
        return self.seconds["dfm"] / t if t > 0 else None


def _fc_script() -> str:
    """The FreeCAD side (run by ``freecadcmd``): reads CAM_PEER_SPEC, writes CAM_PEER_OUT (JSON)."""
    return r'''
import json, os, sys
import FreeCAD, Part
sys.path.append("/usr/share/freecad/Mod/Path")
from PathScripts import PathAdaptive, PathDressupRampEntry, PathJob, PathPocketShape

def gcode(op):
    out = []
    for c in op.Path.Commands:
        if not c.Name or c.Name.startswith("("):
            continue
        words = [c.Name]
        for k in ("X", "Y", "Z", "I", "J"):
            if k in c.Parameters:
                words.append(f"{k}{c.Parameters[k]:.5f}")
        if c.Name in ("G1", "G01", "G2", "G02", "G3", "G03") and "F" in c.Parameters:
            words.append(f"F{c.Parameters['F'] * 60:.3f}")   # FreeCAD keeps feeds in mm/s
        out.append(" ".join(words))
    return out

spec = json.loads(open(os.environ["CAM_PEER_SPEC"]).read())
doc = FreeCAD.newDocument("Peer")
obj = doc.addObject("Part::Feature", "Part")
obj.Shape = Part.read(spec["step"])
doc.recompute()
job = PathJob.Create("Job", [obj], None)
tc = job.Tools.Group[0]
model = job.Model.Group[0]
results = []
for k, j in enumerate(spec["jobs"]):
    x0, y0, x1, y1 = j["box"]
    faces = [f"Face{i + 1}" for i, f in enumerate(model.Shape.Faces)
             if f.Surface.__class__.__name__ == "Plane" and abs(f.normalAt(0, 0).z - 1) < 1e-6
             and abs(f.BoundBox.ZMin - j["floor"]) < 1e-6 and f.BoundBox.XMin > x0 - 1e-3
             and f.BoundBox.XMax < x1 + 1e-3 and f.BoundBox.YMin > y0 - 1e-3 and f.BoundBox.YMax < y1 + 1e-3]
    tc.Tool.Diameter = j["d"]
    tc.SpindleSpeed = j["rpm"]
    tc.HorizFeed = f"{j['feed']} mm/min"
    tc.VertFeed = f"{j['feed']} mm/min"
    row = {"faces": faces}
    for kind, mod in (("PocketShape", PathPocketShape), ("Adaptive", PathAdaptive)):
        op = mod.Create(f"{kind}{k}")
        op.Base = [(model, faces)]
        doc.recompute()
        for p in ("StartDepth", "FinalDepth", "StepDown", "SafeHeight", "ClearanceHeight"):
            op.setExpression(p, None)
        op.StartDepth = j["top"]
        op.FinalDepth = j["floor"]
        op.StepDown = j["ap"]
        op.SafeHeight = j["top"] + j["retract"]
        op.ClearanceHeight = j["safe"]
        op.StepOver = round(100 * j["ae"] / j["d"])
        if kind == "Adaptive":
            op.Side = "Inside"
            op.OperationType = "Clearing"
            op.HelixAngle = j["ramp_deg"]
            op.HelixDiameterLimit = j["helix_d"]
        doc.recompute()
        row[kind] = gcode(op)
        if kind == "PocketShape":   # the same entry as dfm's: a ramp at its angle, never a plunge
            ramp = doc.addObject("Path::FeaturePython", f"RampDressup{k}")  # "Dressup" in the name: PathDressup.baseOp
            proxy = PathDressupRampEntry.ObjectDressup(ramp)
            ramp.Base = op
            job.Proxy.addOperation(ramp, op)
            proxy.setup(ramp)
            ramp.Angle = 90 - j["ramp_deg"]   # the dressup's angle is from the vertical
            ramp.Method = "RampMethod1"
            ramp.RampFeedRate = "Horizontal Feed Rate"
            doc.recompute()
            row["PocketShape+ramp"] = gcode(ramp)
    results.append(row)
open(os.environ["CAM_PEER_OUT"], "w").write(json.dumps(results))
'''


def _roles(ops: Any, rapid_mm_min: float) -> dict[tuple[str, str], float]:
    """Seconds per (operation, move kind) of ``ops``' steps: rapids, and feeds by role (cut, ramp, link...)."""
    from dfm.cam.cycletime import move_length
    from dfm.cam.model import Arc, Feed, Rapid

    out: dict[tuple[str, str], float] = {}
    for op in ops:
        pos = None
        for st in op.steps:
            if not isinstance(st, Rapid | Feed | Arc):
                continue
            if pos is not None:
                kind = "rapid" if isinstance(st, Rapid) else st.role
                rate = rapid_mm_min if isinstance(st, Rapid) else (st.feed or rapid_mm_min)
                key = (op.name, kind)
                out[key] = out.get(key, 0.0) + move_length(pos, st) / rate * 60.0
            pos = (st.x, st.y, st.z)
    return out


def freecad_programs(step: Path, jobs: list[dict[str, Any]], timeout: float = 600.0) -> list[dict[str, Any]]:
    """Run FreeCAD's PocketShape and Adaptive for ``jobs`` on ``step`` in a ``freecadcmd`` child."""
    exe = shutil.which("freecadcmd")
    if exe is None:
        raise FileNotFoundError("freecadcmd is not installed (Debian package freecad)")
    with tempfile.TemporaryDirectory(prefix="dfm-cam-peer-") as tmp:
        d = Path(tmp)
        (d / "spec.json").write_text(json.dumps({"step": str(step), "jobs": jobs}), encoding="utf-8")
        (d / "peer.py").write_text(_fc_script(), encoding="utf-8")
        env = dict(os.environ, HOME=str(d), CAM_PEER_SPEC=str(d / "spec.json"), CAM_PEER_OUT=str(d / "out.json"))
        env.pop("PYTHONPATH", None)
        proc = subprocess.run([exe, "-c", f"exec(open({str(d / 'peer.py')!r}).read())"], cwd=d, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        out = d / "out.json"
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"freecadcmd failed (rc {proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return json.loads(out.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _peer_ngc(lines: list[str], rpm: float, safe_z: float) -> str:
    """FreeCAD's commands as a whole program: the same preamble, tool change and spindle as dfm's."""
    body = "\n".join(lines)
    return (f"%\nG21 G90 G17 G94\nT1 M6\nS{rpm:.0f} M3\nG0 Z{safe_z:.4f}\n{body}\nG0 Z{safe_z:.4f}\nM5\nM30\n%\n")


def _simulate(canon: str, radii: dict[int, float], solid: Any, outline: list[list[float]],
              bmin: tuple[float, ...], bmax: tuple[float, ...], grid_mm: float) -> tuple[float, float]:
    """(removed share of the pocket's removable volume, deepest side gouge mm) of ``canon`` on the part.

    The side gouge is :func:`dfm.cam.sim.lateral_gouges` (the tool centre's exact distance to
    the part's sections; FreeCAD's own path accuracy, Area ``Accuracy`` 0.01 mm and Adaptive
    ``Tolerance``, shows here).
    """
    import numpy as np

    from dfm.cam import sim
    from dfm.cam.gcode import KernelSetupPart, section_fn

    xs = [p[0] for p in outline]
    ys = [p[1] for p in outline]
    pad = 0.3
    lo = (min(xs) - pad, min(ys) - pad, bmin[2])
    hi = (max(xs) + pad, max(ys) + pad, bmax[2])
    grid = sim.grid_for(lo, hi, grid_mm, pad=0.0)
    part = KernelSetupPart(solid, (0.0, 0.0, 1.0)).height_field(grid)
    simu = sim.new_simulation(grid, (bmin[0], bmin[1], bmin[2]), (bmax[0], bmax[1], bmax[2]), part)
    moves = sim.moves_from_canon(canon, radii)
    simu.run(moves)
    mask = sim.polygon_mask(grid, outline)
    top = bmax[2]
    removable = np.clip(top - part, 0.0, None)[mask]
    left = np.clip(np.minimum(simu.height, top) - part, 0.0, None)[mask]
    share = 1.0 - float(left.sum()) / float(removable.sum()) if removable.sum() > 0 else 1.0
    kp = KernelSetupPart(solid, (0.0, 0.0, 1.0))
    side = sim.lateral_gouges([m for m in moves if not m.rapid], section_fn(solid), bmax[2], levels=kp.levels)
    gouge = max((v.amount_mm for v in side), default=0.0)
    return share, gouge


def compare(name: str, workdir: Path, grid_mm: float = 0.005, peers: bool = True) -> list[Row]:
    """Plan ``name`` with dfm and, when ``peers``, with FreeCAD; time and simulate both."""
    from dfm.cam import cycletime, rs274
    from dfm.cam.gcode import generate, render
    from dfm.cam.model import Tool

    sys.path.insert(0, str(ROOT / "example_parts"))
    import generators

    step = generators.export_step(build(name), workdir / f"{name}.step", name=name)
    gen, result = generate(step)
    prog = gen.program
    body = result.bodies[0]
    from dfm.cam.gcode import part_geometry

    _, solid = part_geometry(step)
    bmin, bmax = solid.bbox
    su = prog.setups[0]
    rapid = prog.settings["rapid_mm_min"]
    feats = [f for f in body.features if f.kind in ("pocket", "slot") and f.props.get("outline")]
    rows: list[Row] = []
    jobs: list[dict[str, Any]] = []
    for f in sorted(feats, key=lambda f: f.id):
        ops = [op for op in su.operations if f.id in op.features
               and op.kind in (f.kind, "finish-wall", "finish-wall rest")]
        rough = next((op for op in ops if op.kind == f.kind), None)
        refused = [why for fid, why in su.unmachined if fid == f.id or fid.startswith(f"{f.id} ")]
        if rough is None or refused:
            print(f"{name} {f.id}: not machined by dfm: {'; '.join(refused) or 'no roughing operation'}")
            if rough is None:
                continue
        cd = rough.cutting
        d = rough.tool.cutter.diameter_mm
        row = Row(name, f.id, rough.tool.cutter.id, d, cd.rpm, min(cd.feed_mm_min, prog.settings["max_feed_mm_min"]),
                  cd.ap_mm, cd.ae_mm)
        outline = [list(p) for p in f.props["outline"]]
        same = tuple(op for op in ops if op.tool.number == rough.tool.number)
        row.roles = _roles(same, prog.settings["rapid_mm_min"])
        rest = tuple(op for op in ops if op.tool.number != rough.tool.number)
        for key, part_ops in (("dfm", same), ("dfm rest", rest)):
            if not part_ops:
                continue
            sub = replace(prog, setups=(replace(su, operations=part_ops),))
            ngc = render(sub, "linuxcnc").files[0][1]
            if DUMP:
                (DUMP / f"{name}-{f.id}-{key.replace(' ', '_')}.ngc").write_text(ngc, encoding="utf-8")
            run = rs274.run(ngc, sub)
            if not run.ok:
                raise RuntimeError(f"rs274 rejected dfm's {f.id} program: {run.errors}")
            row.seconds[key] = cycletime.canon_time(run.canon, rapid).total()
            if key == "dfm":
                radii = {t.number: t.radius for t in sub.tools}
                row.removed[key], row.gouge_um[key] = _simulate(run.canon, radii, solid, outline, bmin, bmax, grid_mm)
        if rest:
            row.notes.append(f"dfm rest: {', '.join(op.name for op in rest)} with "
                             f"{', '.join(sorted({op.tool.cutter.id for op in rest}))} (corners the peers leave)")
        z_top = float(f.props.get("top_z_mm", bmax[2]))
        z_floor = float(f.props["floor_z_mm"])
        width = float(f.dims.get("width_mm", d))
        xs = [p[0] for p in outline]
        ys = [p[1] for p in outline]
        jobs.append({"box": [min(xs), min(ys), max(xs), max(ys)], "floor": z_floor, "top": z_top, "d": d,
                     "rpm": cd.rpm, "feed": row.feed, "ap": cd.ap_mm, "ae": cd.ae_mm,
                     "retract": prog.settings["retract_mm"], "safe": su.safe_z,
                     "ramp_deg": prog.settings["ramp_angle_deg"],
                     "helix_d": round(max(0.01, min(0.75 * d, 0.9 * (width - d))), 4),
                     "outline": outline, "canon_radii": radii})
        # no program that never plunges gets down faster: the pocket's depth along a ramp at the angle, at the feed
        slope = math.tan(math.radians(prog.settings["ramp_angle_deg"]))
        row.descent_s = (z_top - z_floor) / slope / row.feed * 60.0
        rows.append(row)
    if peers and jobs:
        fc = freecad_programs(step, [{k: v for k, v in j.items() if k not in ("outline", "canon_radii")}
                                     for j in jobs])
        for row, job, got in zip(rows, jobs, fc, strict=True):
            if not got["faces"]:
                row.notes.append("FreeCAD: no floor face found")
                continue
            tool = SimpleNamespace(tools=(Tool(1, replace(next(t.cutter for t in prog.tools
                                                                if t.cutter.id == row.tool))),))
            for kind in KINDS:
                lines = got[kind]
                if sum(1 for ln in lines if ln.startswith(("G1", "G2", "G3"))) == 0:
                    row.notes.append(f"{kind}: FreeCAD made no cutting moves")
                    continue
                ngc = _peer_ngc(lines, row.rpm, job["safe"])
                if DUMP:
                    (DUMP / f"{name}-{row.feature}-{kind.replace('+', '_')}.ngc").write_text(ngc, encoding="utf-8")
                run = rs274.run(ngc, tool)  # type: ignore[arg-type]
                if not run.ok:
                    row.notes.append(f"{kind}: rs274: {run.errors.strip()[-200:]}")
                    continue
                row.seconds[kind] = cycletime.canon_time(run.canon, rapid).total()
                row.removed[kind], row.gouge_um[kind] = _simulate(run.canon, {1: row.d / 2}, solid, job["outline"],
                                                                  bmin, bmax, grid_mm)
    for row in rows:
        row.gouge_um = {k: v * 1000 for k, v in row.gouge_um.items()}
    return rows


def table(rows: list[Row]) -> str:
    """The printed comparison."""
    head = (f"{'part':<10} {'feature':<9} {'tool':<18} {'D':>5} {'S':>6} {'F':>7} {'ap':>6} {'ae':>6} "
            f"{'dfm s':>7} {'Pock+r s':>8} {'Adapt s':>7} {'ratio':>6} {'dfm %':>7} {'Pock+r %':>8} {'Adapt %':>7} "
            f"{'plunge s':>8} {'plunge %':>8} {'vs plunge':>9} {'descent s':>9} {'rest s':>7}")
    out = [head]
    for r in rows:
        def s(k: str, w: int, r: Row = r) -> str:
            return f"{r.seconds[k]:{w}.1f}" if k in r.seconds else f"{'-':>{w}}"

        def p(k: str, w: int, r: Row = r) -> str:
            return f"{100 * r.removed[k]:{w}.2f}" if k in r.removed else f"{'-':>{w}}"

        ratio = f"{r.ratio:6.2f}" if r.ratio is not None else f"{'-':>6}"
        vs = f"{r.vs_plunge:9.2f}" if r.vs_plunge is not None else f"{'-':>9}"
        out.append(f"{r.part:<10} {r.feature:<9} {r.tool[:18]:<18} {r.d:5.2f} {r.rpm:6.0f} {r.feed:7.1f} {r.ap:6.3f} "
                   f"{r.ae:6.3f} {s('dfm', 7)} {s('PocketShape+ramp', 8)} {s('Adaptive', 7)} {ratio} {p('dfm', 7)} "
                   f"{p('PocketShape+ramp', 8)} {p('Adaptive', 7)} {s('PocketShape', 8)} {p('PocketShape', 8)} "
                   f"{vs} {r.descent_s:9.1f} {s('dfm rest', 7)}")
        gouges = {k: v for k, v in r.gouge_um.items() if v > 0}
        if gouges:
            out.append("    side gouge (um into the part): "
                       + ", ".join(f"{k} {v:.0f}" for k, v in gouges.items()))
        out += [f"    note: {n}" for n in r.notes]
        if ROLES and r.roles:
            ops: dict[str, list[str]] = {}
            for (op, kind), t in r.roles.items():
                ops.setdefault(op, []).append(f"{kind} {t:.2f}")
            out += [f"    dfm {op}: {', '.join(v)} s" for op, v in ops.items()]
    return "\n".join(out)


def main() -> None:
    global DUMP, ROLES
    argv = sys.argv[1:]
    grid = 0.005
    if "--grid" in argv:
        i = argv.index("--grid")
        grid = float(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if "--roles" in argv:
        ROLES = True
        argv.remove("--roles")
    if "--dump" in argv:
        i = argv.index("--dump")
        DUMP = Path(argv[i + 1])
        DUMP.mkdir(parents=True, exist_ok=True)
        argv = argv[:i] + argv[i + 2:]
    names = argv or list(PARTS)
    peers = shutil.which("freecadcmd") is not None
    from dfm.cam import rs274

    if rs274.available() is None:
        print("rs274 (LinuxCNC) is not installed: nothing can be timed by the common calculator; skipped")
        return
    if not peers:
        print("freecadcmd is not installed (Debian package freecad): FreeCAD CAM skipped, dfm's side only")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="dfm-cam-peer-") as tmp:
        for name in names:
            rows += compare(name, Path(tmp), grid, peers)
            print(table([r for r in rows if r.part == name]).split("\n", 1)[-1], flush=True)
    print()
    print(table(rows))
    worst = max((r.ratio for r in rows if r.ratio is not None), default=None)
    if worst is not None:
        print(f"worst dfm/faster-peer ratio: {worst:.2f} (goal <= 0.8)")
    plunge = max((r.vs_plunge for r in rows if r.vs_plunge is not None), default=None)
    if plunge is not None:
        print(f"worst dfm/plain-PocketShape ratio: {plunge:.2f} (the strict reading's goal <= 0.8; see descent s)")


if __name__ == "__main__":
    main()
