"""The guard: every operation is simulated against the exact part before a program is written.

Each setup is checked in its own coordinates (the part turned so the tool comes from +Z):

* a **height-field stock** (``dfm.cam.sim``) on a grid finer than the smallest tool radius
  / 10 (coarser only past a cell budget, and then said): every move, rapids included, sweeps
  the tool's cutting end (flat, or a drill's cone), its shank above the reach and the
  holder; the cutting end must not go more than ``tol`` into the part, a rapid must not
  meet stock, the spindle must turn when it cuts, and shank and holder must touch neither
  part nor stock;
* an **exact side check**: every move below the part top is sampled every few micrometres
  and the tool centre's distance to the part's *shadow* above the tip (the union of the
  exact cross-sections of everything above, from OCCT) must be at least the radius − ``tol``.
  For walls that are vertical between the part's levels this is exact; other walls are
  covered by the height field at its resolution;
* **sanity**: moves outside the stock box (plus the tool and the approach margin) and an
  operation time far beyond what the stock volume could need are errors.

An operation that fails takes its features' other operations with it (a finish pass
without its roughing would bury a micro tool): those features are listed as not machined,
with the reason, and the setup is simulated again without them. After the guard, the same
simulation gives the share of each feature's removable volume that was cut.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from dfm.cam import feeds as feedmod
from dfm.cam import sim, simkernel, strategies
from dfm.cam.geom2d import POST_DIGITS, Loop, fit_arcs, loop_points
from dfm.cam.model import Arc, DrillCycle, Feed, Operation, Program, Rapid, Setup, Step
from dfm.cam.sim import Move, ToolBody
from dfm.errors import KernelError

#: Deepest a tool may go into the part (mm): 1 um.
TOL_MM = 1e-3
#: Largest simulation grid (cells) per setup; past it the grid is coarser than r/10 (said).
CELL_BUDGET = 6_000_000
#: Moves whose tool comes within this (plus two grid cells) of the part get the exact side check.
NEAR_MM = 0.05
#: Spacing (mm) of the samples of the exact side check.
SPACING_MM = 0.005
#: An operation whose time is this many times the stock's volume at its own removal rate is absurd.
ABSURD_FACTOR = 20.0

Regions = list[tuple[Loop, list[Loop]]]


class SetupPart(Protocol):
    """The exact part in one setup's coordinates (given by the caller, from the kernel)."""

    @property
    def levels(self) -> Sequence[float]:
        """Heights of the part's faces normal to the tool axis."""

    def height_field(self, grid: sim.Grid, skip: Sequence[tuple[Sequence[int], float, float, float, float, float]] = ()
                     ) -> np.ndarray:
        """Top of the part at each cell centre (-inf where none).

        ``skip``: (face ids, x, y, radius, z low, z high): faces left out where they lie within
        that vertical cylinder (a thread zone, set by :func:`dfm.cam.sim.cut_thread_zones`).
        """

    def shadow(self, heights: Sequence[float]) -> Regions:
        """Union of the part's cross-sections at ``heights``, in the plane."""


@dataclass(frozen=True)
class OpCheck:
    """What the guard found for one operation.

    Attributes:
        setup: Setup index.
        name: Operation name.
        features: Feature ids it machines.
        moves: Moves simulated.
        closest_mm: Smallest clearance between the cutter's side and the part (mm; about 0
            for a finishing pass, negative = into the part), None when no move came below the top.
        problems: What is wrong (empty: verified).
    """

    setup: int
    name: str
    features: tuple[str, ...]
    moves: int
    closest_mm: float | None
    problems: tuple[str, ...]
    allowed_mm: float = 0.0


@dataclass(frozen=True)
class SetupCheck:
    """The verification of one setup (after the guard removed what failed)."""

    index: int
    resolution_mm: float
    fine: bool
    moves: int
    samples: int
    closest_mm: float | None
    ops: tuple[OpCheck, ...]
    removed: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Verification:
    """The guard's result: what was checked, what was dropped, what is left uncut."""

    setups: tuple[SetupCheck, ...]
    dropped: tuple[tuple[int, str, str], ...]
    incomplete: tuple[tuple[int, str, float, str], ...]
    seconds: float
    tol_mm: float = TOL_MM

    def header(self, setup_index: int) -> list[str]:
        """Program header lines for one setup."""
        sc = next((s for s in self.setups if s.index == setup_index), None)
        if sc is None:
            return []
        if sc.closest_mm is None:
            close = "no move below the part top"
        elif abs(sc.closest_mm) < 5e-5:  # on the surface (a finishing pass), within 0.05 um
            close = "closest approach of a cutter's side to the part 0.0 um (a finishing pass runs on the surface)"
        else:
            close = f"closest approach of a cutter's side to the part {sc.closest_mm * 1000:+.1f} um"
        grid = f"grid {sc.resolution_mm * 1000:.1f} um" + ("" if sc.fine else
                                                          " (coarser than the smallest tool radius / 10: cell budget)")
        out = [f"VERIFIED by dfm's guard before writing: {sc.moves} moves of {len(sc.ops)} operations simulated "
               f"against the exact part ({grid}; side check every {SPACING_MM * 1000:g} um against the exact "
               f"sections, {sc.samples} samples); no gouge over {self.tol_mm * 1000:g} um, no rapid through stock, "
               f"no shank or holder contact; {close}"]
        for oc in sc.ops:
            if oc.allowed_mm > 0:
                out.append(f"  {oc.name}: cuts {oc.allowed_mm * 1000:.2f} um past the modelled walls on purpose (the "
                           "pre-finish size): checked with that allowance")
        for s, fid, why in self.dropped:
            if s == setup_index:
                out.append(f"GUARD removed {fid}: {why}")
        for s, fid, frac, why in self.incomplete:
            if s == setup_index:
                out.append(f"INCOMPLETE {fid}: {frac * 100:.1f} % of its volume removed ({why})")
        return out

    def summary(self) -> dict[str, Any]:
        """The ``guard`` object of the ``cam`` JSON."""
        return {
            "tolerance_mm": self.tol_mm,
            "seconds": round(self.seconds, 2),
            "setups": [{"index": s.index, "resolution_mm": round(s.resolution_mm, 6), "moves": s.moves,
                        "samples": s.samples,
                        "closest_mm": None if s.closest_mm is None else round(s.closest_mm, 6),
                        "removed": [{"feature": f, "fraction": round(v, 4)} for f, v in s.removed]}
                       for s in self.setups],
            "dropped": [{"setup": s, "feature": f, "reason": r} for s, f, r in self.dropped],
            "incomplete": [{"setup": s, "feature": f, "fraction": round(v, 4), "reason": r}
                           for s, f, v, r in self.incomplete],
        }


# --------------------------------------------------------------------------- tool bodies
def tool_body(tool: Any, settings: Mapping[str, float]) -> ToolBody:
    """The guard's model of a program tool: cutting end, shank above the reach, holder above that."""
    c = tool.cutter
    r = c.diameter_mm / 2
    half = 0.0
    if c.kind == "drill":
        half = (c.point_angle_deg or 118.0) / 2
    reach = c.reach_mm if c.reach_mm is not None else (c.flute_length_mm or 0.0)
    shank = c.shank_diameter_mm or settings["unknown_shank_mm"]
    shank_r = max(shank / 2, r)
    holder_from = reach + settings["shank_stickout_mm"]
    return ToolBody(r, half, shank_r, reach if reach > 0 else math.inf,
                    max(settings["holder_diameter_mm"] / 2, shank_r), holder_from, end_corner(c))


def end_corner(c: Any) -> float:
    """The corner radius of a cutter's end as the guard models it: a ball's is its radius, a drill's 0."""
    if c.kind == "ball":
        return c.diameter_mm / 2
    if c.kind in ("drill", "thread-mill"):
        return 0.0
    return min(max(float(c.corner_radius_mm or 0.0), 0.0), c.diameter_mm / 2)


# --------------------------------------------------------------------------- shadows
class _Shadows:
    """The part's shadow above each band between its levels (cached), thread zones taken out."""

    def __init__(self, part: SetupPart, top: float, bottom: float, zones: Sequence[sim.ThreadZone]) -> None:
        lv = sorted({round(z, 9) for z in part.levels if bottom - 1e-9 <= z <= top + 1e-9} | {top, bottom})
        self.levels = lv
        self.part = part
        self.zones = zones
        self.cache: dict[Any, _Loops] = {}

    def bands(self, z: np.ndarray) -> np.ndarray:
        """Index of the band a tip at each ``z`` cuts in (0: the lowest, also below the part)."""
        k = np.searchsorted(np.array(self.levels), z + TOL_MM, side="right") - 1
        return np.clip(k, 0, max(len(self.levels) - 2, 0))

    def heights(self, k: int) -> list[float]:
        out = []
        for lo, hi in zip(self.levels[k:], self.levels[k + 1:], strict=False):
            eps = min(1e-4, (hi - lo) / 4)
            out += [lo + eps, (lo + hi) / 2, hi - eps]
        return out

    def above(self, k: int, z: float, start: float | None = None) -> list[_Loops]:
        """The shadow above band ``k``, as regions whose union it is.

        From ``start`` within the band, when given (a corner's full radius begins there): the
        shadow above the next band and the sections of the rest of this one, each on its own (a
        tool centre's clearance from a union is the least of its clearances from the parts,
        outside them all, and below zero inside any).
        """
        if start is None or start <= self.levels[k] + TOL_MM:
            return [self.loops(k, z)]
        if start >= self.levels[-1] - 1e-9:  # nothing above it
            return []
        hi = self.levels[k + 1]
        eps = min(1e-4, (hi - start) / 4)
        out = [self.loops(k, z, [h]) for h in (start + eps, (start + hi) / 2, hi - eps)]
        return out + ([self.loops(k + 1, z)] if k + 2 < len(self.levels) else [])

    def loops(self, k: int, z: float, heights: list[float] | None = None) -> _Loops:
        """The shadow above band ``k`` (of ``heights`` instead, when given)."""
        live = [t for t in self.zones if t.z_bottom - 1e-9 <= z <= t.z_top + 1e-9]
        key: Any = k if not live else -(k + 1) * 1000 - len(live)
        if heights is None:
            heights = self.heights(k)
        else:
            key = (key, tuple(round(h, 9) for h in heights))
        if key not in self.cache:
            loops: list[Loop] = []
            for outer, holes in self.part.shadow(heights):
                loops.append(outer)
                loops.extend(sim.widen_thread_holes(holes, live))
            polys = [np.array(loop_points(lp, 1e-4)) for lp in loops]
            self.cache[key] = _Loops(polys, [sg for lp in loops for sg in lp])
        return self.cache[key]


#: Most side-check samples one operation may need; past it the operation cannot be verified (not written).
SAMPLE_BUDGET = 20_000_000


def _samples(moves: Sequence[Move], top: float, spacing: float, near: Sequence[bool],
             rows: np.ndarray | None = None) -> np.ndarray:
    """(x, y, z, r, move index) rows every ``spacing`` mm of the ``near`` moves that go below ``top``.

    ``rows``: the moves packed (``sim.pack_moves``), to read them in numpy.

    Raises:
        KernelError: More than :data:`SAMPLE_BUDGET` samples would be needed.
    """
    if rows is None:
        rows = sim.pack_moves(moves)
    flag = np.array(near, dtype=bool).reshape(-1)
    ax, ay, az, bx, by, bz, rad_t = (rows[:, c] for c in range(7))
    is_arc = np.isin(rows[:, 7], (1, 3, 4))
    # near the budget, the sum as it always was (math.dist, in order): the same verdict to the last bit
    need = float(np.where(is_arc, np.abs(rows[:, 12]) * rows[:, 10],
                          np.sqrt((bx - ax) ** 2 + (by - ay) ** 2 + (bz - az) ** 2))[flag].sum()) / spacing
    if abs(need - SAMPLE_BUDGET) < 1e-6 * SAMPLE_BUDGET:
        need = sum(math.dist(mv.a, mv.b) if mv.center is None else abs(mv.sweep) * math.dist(mv.a[:2], mv.center)
                   for i, mv in enumerate(moves) if near[i]) / spacing
    if need > SAMPLE_BUDGET:
        raise KernelError(f"its side check needs {need / 1e6:.0f} M samples, over the "
                          f"{SAMPLE_BUDGET / 1e6:.0f} M budget")
    sel = np.nonzero(flag & (rad_t > 0) & (np.minimum(az, bz) < top - TOL_MM))[0]
    if not len(sel):
        return np.zeros((0, 5))
    return simkernel.sample_moves(rows, sel.astype(np.int64), spacing, top - TOL_MM)


class _Loops:
    """A shadow's boundary as numpy arrays: polygon edges (even-odd) and exact segments with boxes."""

    def __init__(self, polys: list[np.ndarray], segs: list[Any]) -> None:
        polys = [p for p in polys if p.ndim == 2 and len(p) >= 2]  # a degenerate loop has no inside
        a = np.concatenate(polys) if polys else np.zeros((0, 2))
        b = np.concatenate([np.roll(p, -1, axis=0) for p in polys]) if polys else np.zeros((0, 2))
        self.ax, self.ay, self.bx, self.by = (np.ascontiguousarray(c) for c in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        self.segs = segs
        boxes = []
        for sg in segs:
            pts = [sg.a, sg.b]
            if sg.c is not None:
                rad = sg.radius
                pts += [(sg.c[0] - rad, sg.c[1] - rad), (sg.c[0] + rad, sg.c[1] + rad)]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
        self.boxes = np.ascontiguousarray(np.array(boxes, dtype=float).reshape(-1, 4))
        rows = []
        for sg in segs:
            if sg.c is None:
                rows.append((*sg.a, *sg.b, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
            else:
                rows.append((*sg.a, *sg.b, 1.0, *sg.c, math.dist(sg.a, sg.c),
                             math.atan2(sg.a[1] - sg.c[1], sg.a[0] - sg.c[0]), sg.sweep))
        self.rows = np.ascontiguousarray(np.array(rows, dtype=float).reshape(-1, 10))

    def clearance(self, pts: np.ndarray) -> np.ndarray:
        """Distance from each tool side to the shadow (negative = into it)."""
        px, py, pr = pts[:, 0], pts[:, 1], pts[:, 3]
        x0, x1, y0, y1 = px.min(), px.max(), py.min(), py.max()
        # even-odd: only edges that straddle the chunk's y range and reach right of it count
        e = np.nonzero((np.maximum(self.ay, self.by) >= y0) & (np.minimum(self.ay, self.by) <= y1)
                       & (np.maximum(self.ax, self.bx) >= x0))[0]
        # exact distance to the segments whose box is within reach (others are farther than every radius)
        reach = float(pr.max()) + NEAR_MM
        bx0, by0, bx1, by1 = self.boxes[:, 0], self.boxes[:, 1], self.boxes[:, 2], self.boxes[:, 3]
        close = np.nonzero((bx1 >= x0 - reach) & (bx0 <= x1 + reach) & (by1 >= y0 - reach) & (by0 <= y1 + reach))[0]
        return simkernel.shadow_clearance(np.ascontiguousarray(px), np.ascontiguousarray(py), np.ascontiguousarray(pr),
                                          self.ax[e], self.ay[e], self.bx[e], self.by[e],
                                          np.ascontiguousarray(self.rows[close]))


def _side_check(moves: Sequence[Move], shadows: _Shadows, top: float, near: Sequence[bool],
                rows: np.ndarray | None = None) -> tuple[float | None, int]:
    """The least of the moves' smallest side clearances (None: none checked); number of samples.

    Only moves whose tool comes near the part in the height field (``near``: part material
    above the tip within the radius + a margin) are sampled: the others are clear by more
    than the margin. A move with a sample inside the shadow and no segment of it near
    (clearance -inf) does not count. Samples that cannot go below the least found so far are
    not measured (``simkernel.side_clearance``): the least is the same.
    """
    pts = _samples(moves, top, SPACING_MM, near, rows)
    if not len(pts):
        return None, 0
    if rows is None:
        rows = sim.pack_moves(moves)
    # a corner-radius end has its full radius from its corner's height up: measured from there (the
    # height field checks the corner below it); as the band's shadow is the one above its lowest level (the
    # same above every height in it where its walls are vertical), from that level + the corner: one shadow
    # per band and corner
    idx = pts[:, 4].astype(np.int64)
    lift = rows[idx, 19]
    start = pts[:, 2]
    if (lift > 0).any():  # (a tip below the part's bottom: as a flat end's, the stricter)
        low = np.array(shadows.levels)[shadows.bands(pts[:, 2])]
        lift = np.where(pts[:, 2] >= low - TOL_MM, lift, 0.0)
        start = np.where(lift > 0, low + lift, start)
    bands = shadows.bands(start)
    zone_keys = np.zeros(len(pts), dtype=int)
    for n, t in enumerate(shadows.zones):
        zone_keys |= (((pts[:, 2] >= t.z_bottom - 1e-9) & (pts[:, 2] <= t.z_top + 1e-9)).astype(int) << n)
    groups = []
    # the samples of each (band, zones) key in their order, keys in order: one stable sort
    combo = bands.astype(np.int64) * (1 << len(shadows.zones)) + zone_keys
    if (lift > 0).any():  # lifted samples: one more key per height their full radius begins at
        _, at = np.unique(np.where(lift > 0, np.round(start, 6), -np.inf), return_inverse=True)
        combo = combo * (int(at.max()) + 1) + at.reshape(-1)
    order = np.argsort(combo, kind="stable")
    sc = combo[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    for s0, s1 in zip(starts.tolist(), [*starts[1:].tolist(), len(sc)], strict=True):
        sel = order[s0:s1]
        key = (int(bands[sel[0]]), int(zone_keys[sel[0]]))
        cols = None  # the group's samples, gathered once for all the shadows it is measured against
        for loops in shadows.above(key[0], float(pts[sel[0], 2]), float(start[sel[0]]) if lift[sel[0]] > 0 else None):
            if not loops.segs:
                continue
            if cols is None:
                cols = (pts[sel, 0], pts[sel, 1], pts[sel, 3], idx[sel])
            # samples follow the path, so a chunk is a small area; its size keeps samples x edges near 4 M
            step = int(min(2048, max(32, 4_000_000 // max(1, len(loops.ax)))))
            groups.append((*cols, step, loops))
    for skip in (True, False):  # without skipping only when a move has a -inf sample (it does not count)
        best = np.full(len(moves), np.inf)
        least = np.full(1, np.inf)
        for px, py, pr, idx, step, loops in groups:
            simkernel.side_clearance(px, py, pr, idx, step, loops.ax, loops.ay, loops.bx, loops.by, loops.rows,
                                     loops.boxes, NEAR_MM, best, least, skip)
        if not np.isneginf(best).any():
            break
    finite = best[np.isfinite(best)]
    return (float(finite.min()) if finite.size else None), len(pts)


# --------------------------------------------------------------------------- the guard
def _as_posted(steps: Sequence[Step]) -> list[Step]:
    """The steps with the coordinates the posts write (``posts.base.num``): what the machine runs.

    A tiny arc whose ends print the same is a full circle to an interpreter; rounding here
    makes the guard see it as one too. (:func:`verify` reads the same values through
    ``sim.moves_from_steps(..., posted=_posted())``, without copying the steps.)
    """
    r = _posted()
    out: list[Step] = []
    for s in steps:
        if isinstance(s, Rapid | Feed):
            out.append(replace(s, x=r(s.x), y=r(s.y), z=r(s.z)))
        elif isinstance(s, Arc):
            out.append(replace(s, x=r(s.x), y=r(s.y), z=r(s.z), cx=r(s.cx), cy=r(s.cy)))
        elif isinstance(s, DrillCycle):
            out.append(replace(s, x=r(s.x), y=r(s.y), z=r(s.z), r=r(s.r)))
        else:
            out.append(s)
    return out


def _posted() -> Callable[[float], float]:
    """A coordinate as the posts write it (``posts.base.num``), each value computed once.

    Paths repeat their coordinates level after level (holes_block's 31 000 steps spent 0.45 s here).
    """
    return _PostedValues().__getitem__


class _PostedValues(dict[float, float]):
    """Coordinate → its posted value, computed on first use (``__getitem__`` is C: no Python frame per hit).

    ``round(x, POST_DIGITS) + 0.0`` is ``float(posts.base.num(x))`` to the bit: both are CPython's
    correctly rounded decimal digits (``_Py_dg_dtoa`` mode 3), and + 0.0 drops a negative zero as
    ``num`` does (tests/test_guard_speed.py holds them together); without the string.
    """

    def __missing__(self, x: float) -> float:
        v = self[x] = round(x, POST_DIGITS) + 0.0
        return v


def _group(op: Operation) -> tuple[str, ...]:
    return op.features if op.features else (op.name.split()[0],)


def _motion(steps: Sequence[Step]) -> list[tuple[float, float, float]]:
    out = []
    for s in steps:
        if isinstance(s, Rapid | Feed | Arc):
            out.append((s.x, s.y, s.z))
        elif isinstance(s, DrillCycle):
            out += [(s.x, s.y, s.r), (s.x, s.y, s.z)]
    return out


def _sanity(op: Operation, su: Setup, settings: Mapping[str, float]) -> list[str]:
    r = op.tool.radius
    pad = 2 * r + 1.0
    # below the stock: breakthrough, a drill's point and a thread mill's last turn stay within 3 mm
    lo = (su.stock_min[0] - pad, su.stock_min[1] - pad, su.stock_min[2] - 3.0 - 2 * r)
    hi = (su.stock_max[0] + pad, su.stock_max[1] + pad, su.safe_z + 1e-6)
    pts = np.array(_motion(op.steps), dtype=float).reshape(-1, 3)
    out = ((pts < np.array([v - 1e-6 for v in lo])) | (pts > np.array([v + 1e-6 for v in hi]))).any(axis=1)
    if not out.any():
        return []
    p = pts[int(np.argmax(out))].tolist()  # the first that leaves the box
    return [f"a move to X{p[0]:.3f} Y{p[1]:.3f} Z{p[2]:.3f} leaves the stock box "
            f"X{lo[0]:.3f}..{hi[0]:.3f} Y{lo[1]:.3f}..{hi[1]:.3f} Z{lo[2]:.3f}..{hi[2]:.3f} (tool and "
            f"approach margin included): a runaway path, not written"]


def _absurd(op: Operation, seconds: float, su: Setup) -> list[str]:
    cd = op.cutting
    vol = float(np.prod(np.subtract(su.stock_max, su.stock_min)))
    mrr = cd.feed_mm_min / 60.0 * max(cd.ap_mm, 1e-3) * max(cd.ae_mm, 1e-3)
    limit = ABSURD_FACTOR * vol / mrr + 600.0 if mrr > 0 else math.inf
    if op.kind in ("thread-mill", "drill"):
        return []
    if seconds > limit:
        return [f"its estimated {seconds:.0f} s exceed {limit:.0f} s, {ABSURD_FACTOR:g} x the time to remove the "
                f"whole stock at its own rate: a runaway path, not written"]
    return []


def _describe(kind: str, amount: float) -> str:
    what = {"gouge": "cuts into the part", "rapid-through-material": "rapids through stock",
            "cut-with-spindle-off": "cuts with the spindle stopped", "shank-contact": "its shank touches",
            "holder-contact": "the holder touches",
            "plunge-into-stock": "feeds a flat end mill straight down into stock (no ramp or helix)"}.get(kind, kind)
    if kind in ("shank-contact", "holder-contact"):
        return f"{what} the part or the stock by {amount:.4f} mm"
    return f"{what} by {amount:.4f} mm"


def _masks(features: Sequence[Any], su: Setup, grid: sim.Grid, turn: Callable[[Any, Sequence[float] | None], Any]
           ) -> dict[str, tuple[np.ndarray, float]]:
    """Feature id → (cells of its opening, its floor height) for the features this setup machines."""
    out = {}
    ids = {fid for op in su.operations for fid in op.features}
    for f in features:
        if f.id not in ids:
            continue
        outline = None
        islands: list[Any] = []
        floor = su.part_bottom
        if f.kind in ("pocket", "slot", "step") and f.props.get("outline"):
            outline = turn(f, f.props["outline"])
            islands = [turn(f, isl) for isl in f.props.get("islands") or []]
            if not f.props.get("through") and f.props.get("floor_z_mm") is not None:
                # a sloped floor's lowest point (floor_z_mm is its highest: the wedge below is the feature's too)
                floor = float(f.props.get("floor_low_z_mm", f.props["floor_z_mm"]))
        elif f.kind == "hole" and f.location_mm is not None:
            c = turn(f, None)
            r = float(f.dims["diameter_mm"]) / 2
            outline = [[c[0] + r * math.cos(a), c[1] + r * math.sin(a)] for a in np.linspace(0, 2 * math.pi, 200)[:-1]]
            far = c[2] - float(f.props.get("drill_depth_mm", f.dims.get("depth_mm", 0.0)))
            if not f.props.get("through") or far > floor + 1e-6:  # a cross hole's segment ends in the bore it meets
                floor = far
        if outline is None:
            continue
        fillet = float(f.dims.get("floor_radius_mm") or 0.0)
        if fillet > 0 and not f.props.get("through") and f.props.get("floor", "flat") == "flat":
            # the outline is the floor face's: its walls (and the islands') stand the fillets' radius beyond it
            try:
                walls, isles = strategies.wall_loops(fit_arcs([tuple(p) for p in outline]),
                                                     [fit_arcs([tuple(p) for p in i]) for i in islands], fillet)
                outline = loop_points(walls, 1e-4)
                islands = [loop_points(i, 1e-4) for i in isles]
            except (strategies.CamError, KernelError):
                pass  # measured over the floor's outline, as it is
        mask = sim.polygon_mask(grid, outline)
        for isl in islands:  # an island (or a passage through the floor) is not this feature's volume
            mask &= ~sim.polygon_mask(grid, isl)
        if mask.any():
            out[f.id] = (mask, floor)
    return out


#: Thickest material (mm) the program may leave on a flat floor outside every feature before it is listed.
LEFTOVER_MM = 0.05


def _leftover(s: sim.Simulation, field: np.ndarray, features: Sequence[Any], su: Setup, grid: sim.Grid,
              turn: Callable[[Any, Sequence[float] | None], Any], program: Program,
              known: Mapping[str, tuple[np.ndarray, float]] | None = None) -> list[tuple[int, str, float, str]]:
    """Material left over a flat floor of the part that belongs to no feature and no operation removes.

    ``known``: the masks :func:`_masks` already gave for this setup's features (not made again).

    A region dfm did not recognise as a feature (a pocket whose side meets a slot's wall in a
    tangent fillet, say), or one it recognised from another side only (a passage through the
    part's length that is open from above too), is not machined from this side, and no
    feature's removed share shows it. After the
    whole setup, cells whose stock stands more than :data:`LEFTOVER_MM` over the part, outside
    every feature's outline (all features, grown by two cells), are grouped into connected
    regions; a region is listed when most of it lies over one flat level of the part and the
    smallest of the program's end mills that reaches that level fits there (a disc of its
    radius over floor at or below the level covers some of the region): material a tool could
    remove, left. Sloped floors (fillets and chamfers of outside edges, which 2.5D programs leave
    square) and corners no tool fits are not listed here.
    """
    from scipy import ndimage

    with np.errstate(invalid="ignore"):  # no stock or no part in a column: not finite, never a candidate
        left = np.minimum(s.height, su.stock_max[2]) - field
    cand = (left > LEFTOVER_MM) & np.isfinite(left)
    if not cand.any():
        return []
    left = np.where(cand, left, 0.0)
    # everything below on the candidates' box (3 cells to spare): a few cells of a large grid, mostly
    rows, cols = np.nonzero(cand.any(axis=1))[0], np.nonzero(cand.any(axis=0))[0]
    j_0, i_0 = max(int(rows[0]) - 3, 0), max(int(cols[0]) - 3, 0)
    near = np.s_[j_0:int(rows[-1]) + 4, i_0:int(cols[-1]) + 4]
    owned = np.zeros_like(cand[near])
    known = known or {}
    rest = tuple(f.id for f in features if f.id not in known)
    everything = replace(su, operations=(replace(su.operations[0], features=rest),)) if su.operations else su
    for mask, _ in [*known.values(), *_masks(features, everything, grid, turn).values()]:
        owned |= mask[near]
    cx, cy = grid.xs[None, near[1]], grid.ys[near[0], None]
    for f in features:  # a hole's counterbore or countersink is wider than its bore (the mask's)
        wide = max((float(st.get("diameter_mm") or 0.0) for st in f.props.get("stack") or ()), default=0.0)
        if f.kind == "hole" and f.location_mm is not None and wide > float(f.dims.get("diameter_mm", 0.0)):
            c = turn(f, None)
            owned |= (cx - c[0]) ** 2 + (cy - c[1]) ** 2 <= (wide / 2) ** 2
    mine = cand[near] & ~ndimage.binary_dilation(owned, iterations=2)
    if not mine.any():
        return []
    labels, _ = ndimage.label(mine)
    out: list[tuple[int, str, float, str]] = []
    tools = [(t.radius, t.cutter.reach_mm or 0.0) for t in program.tools if t.cutter.kind == "square"]
    for k, sub in enumerate(ndimage.find_objects(labels), start=1):
        region = labels[sub] == k
        box = np.s_[sub[0].start + j_0:sub[0].stop + j_0, sub[1].start + i_0:sub[1].stop + i_0]
        floors = field[box][region]
        level = float(np.median(floors))
        flat = np.abs(floors - level) <= 1e-3
        if flat.mean() < 0.5:
            continue
        depth = su.part_top - level
        fits = [r for r, reach in tools if reach >= depth - 1e-9]
        if not fits:
            continue
        rt = min(fits)
        m = int(math.ceil(rt / grid.step)) + 2
        j0, j1 = max(box[0].start - m, 0), min(box[0].stop + m, grid.ny)
        i0, i1 = max(box[1].start - m, 0), min(box[1].stop + m, grid.nx)
        free = ~np.isfinite(field[j0:j1, i0:i1]) | (field[j0:j1, i0:i1] <= level + 1e-3)
        centres = ndimage.distance_transform_edt(free) * grid.step >= rt + grid.step
        if not centres.any():
            continue
        reach = ndimage.distance_transform_edt(~centres) * grid.step <= rt - grid.step
        here = np.zeros_like(free)
        rj, ri = box[0].start - j0, box[1].start - i0
        here[rj:rj + region.shape[0], ri:ri + region.shape[1]] = region
        hit = here & reach
        if not hit.any():
            continue
        area = float(region.sum()) * grid.step ** 2
        jj, ii = np.nonzero(region)
        x = float(grid.xs[box[1].start + int(np.median(ii))])
        y = float(grid.ys[box[0].start + int(np.median(jj))])
        thick = float(left[box][region].max())
        removable = float(np.clip(su.stock_max[2] - field[box][region], 0.0, None).sum())
        frac = 1.0 - float(left[box][region].sum()) / removable if removable > 0 else 0.0
        out.append((su.index, f"material at X{x:.3f} Y{y:.3f} over Z{level:.3f}", frac,
                    f"{area:.3f} mm2, up to {thick:.3f} mm thick, over a flat floor of the part: no operation "
                    f"removes it and no feature machined from this side covers it, though a Ø{2 * rt:g} end mill "
                    "reaches it from this side (a region dfm did not recognise, or a feature it could not machine "
                    "from another side: see the features not machined)"))
    return out


def verify(program: Program, part_for: Callable[[Setup], SetupPart], *, features: Sequence[Any] = (),
           turn: Callable[[Setup], Callable[[Any, Sequence[float] | None], Any]] | None = None,
           op_seconds: Mapping[tuple[int, str], float] | None = None,
           tol: float = TOL_MM) -> tuple[Program, Verification]:
    """Simulate every operation of ``program``; drop what fails; measure what is left uncut.

    Args:
        program: The planned program.
        part_for: The exact part in a setup's coordinates.
        features: The body's features (for thread zones and the removed share).
        turn: For a setup, a function mapping a feature's outline (or, with None, its
            location) to that setup's X/Y.
        op_seconds: (setup, operation name) → estimated time (for the absurd-time check).
        tol: Deepest allowed cut into the part (mm).

    Returns:
        The program without the operations that failed (their features listed as not
        machined, with the reason) and the verification.
    """
    t0 = time.perf_counter()
    settings = program.settings
    bodies = {t.number: tool_body(t, settings) for t in program.tools}
    parts: dict[int, tuple[SetupPart, sim.Grid, np.ndarray, _Shadows, bool]] = {}
    dropped: list[tuple[int, str, str]] = []
    done: dict[int, tuple[tuple[Any, ...], SetupCheck, sim.Simulation]] = {}  # setups that passed, as run
    slowed: dict[tuple[int, str], Operation | None] = {}  # operations whose feeds the engagement lowers
    posted = _posted()
    for _ in range(4):
        checks: list[SetupCheck] = []
        failing: dict[int, dict[tuple[str, ...], str]] = {}
        sims: dict[int, sim.Simulation] = {}
        for su in program.setups:
            if su.index in done and done[su.index][0] == su.operations:  # unchanged since it passed
                checks.append(done[su.index][1])
                sims[su.index] = done[su.index][2]
                continue
            if su.index not in parts:
                parts[su.index] = _prepare(su, part_for(su), features, program, settings)
            part, grid, field, shadows, fine = parts[su.index]
            s = sim.new_simulation(grid, su.stock_min, su.stock_max, field, tol)
            s.near_margin = NEAR_MM
            s.plunges = True
            pos: tuple[float, float, float] | None = None
            history = _Past()  # the setup's moves so far (for engagement windows)
            op_checks = []
            n_moves = n_samples = 0
            closest: float | None = None
            for op in su.operations:
                problems = _sanity(op, su, settings)
                if op_seconds is not None and not problems:
                    problems = _absurd(op, op_seconds.get((su.index, op.name), 0.0), su)
                moves = sim.moves_from_steps(op.steps, bodies, start=pos, spindle=True, tool=bodies[op.tool.number],
                                             posted=posted)  # the steps as posted (see _as_posted)
                rows = sim.pack_moves(moves, plunges=True)
                if not problems:
                    before, first = len(s.violations), len(s.near)
                    s.tol = tol + op.into_part_mm  # a pass machined to a pre-finish size cuts that much on purpose
                    s.run(moves, rows)
                    s.tol = tol
                    worst: dict[str, float] = {}
                    for v in s.violations[before:]:
                        worst[v.kind] = max(worst.get(v.kind, 0.0), v.amount_mm)
                    op_close = None
                    unverified = None
                    if "gouge" not in worst:  # the height field already proves a gouge: no need to measure it
                        try:
                            op_close, ns = _side_check(moves, shadows, su.part_top, s.near[first:], rows)
                        except KernelError as err:  # cannot tell: not written
                            unverified = f"could not be verified against the exact part ({err})"
                        else:
                            n_samples += ns
                    if op_close is not None and op_close < -(tol + op.into_part_mm):
                        worst["gouge"] = max(worst.get("gouge", 0.0), -op_close)
                    problems = [_describe(k, v) for k, v in sorted(worst.items())]
                    if unverified:
                        problems.append(unverified)
                    if op_close is not None:
                        op_close += op.into_part_mm  # measured from the surface this pass is meant to cut
                        closest = op_close if closest is None else min(closest, op_close)
                    if not problems:
                        slowed[(su.index, op.name)] = _engaged_feeds(op, moves, s.engaged[first:], grid.step,
                                                                     history, su, rows)
                else:
                    op_close = None
                n_moves += len(moves)
                history.add(moves, rows)
                if moves:
                    pos = moves[-1].b
                op_checks.append(OpCheck(su.index, op.name, op.features, len(moves), op_close, tuple(problems),
                                         op.into_part_mm))
                if problems:
                    # the first failure of a group is the cause (a later one may only follow from it)
                    failing.setdefault(su.index, {}).setdefault(_group(op), f"{op.name}: {problems[0]}")
            sims[su.index] = s
            checks.append(SetupCheck(su.index, grid.step, fine, n_moves, n_samples, closest, tuple(op_checks), ()))
            if su.index not in failing:
                done[su.index] = (su.operations, checks[-1], s)
        if not failing:
            break
        program, more = _drop(program, failing)
        dropped += more
    else:  # still failing after removals: nothing of those setups is written
        program, more = _drop(program, failing, everything=True)
        dropped += more
    program = _with_slowed(program, slowed)
    incomplete: list[tuple[int, str, float, str]] = []
    final: list[SetupCheck] = []
    for sc in checks:
        su = next(x for x in program.setups if x.index == sc.index)
        removed: list[tuple[str, float]] = []
        masks: dict[str, tuple[np.ndarray, float]] = {}
        if turn is not None:
            _, grid, field, _, _ = parts[su.index]
            masks = _masks(features, su, grid, turn(su))
            for fid, (mask, floor) in sorted(masks.items()):
                frac = sims[su.index].removed_fraction(mask, su.stock_max[2], floor)
                removed.append((fid, frac))
                if frac < 0.95:
                    cut_by = [op for op in su.operations if fid in op.features]
                    why = next((n for op in cut_by for n in op.notes if "left" in n or "limited" in n), None)
                    feat = next((f for f in features if f.id == fid), None)
                    if why is None and feat is not None and feat.dims.get("min_corner_radius_mm") == 0.0:
                        why = "its vertical corners are sharp: no end mill's radius fits them (they stay round)"
                    if why is None:
                        tools = sorted({f"Ø{op.tool.cutter.diameter_mm:g}" for op in cut_by})
                        why = (f"cut only by {', '.join(op.name for op in cut_by)} ({', '.join(tools)}): "
                               f"the tool does not fit all of it")
                    incomplete.append((su.index, fid, frac, why))
        if turn is not None:
            _, grid, field, _, _ = parts[su.index]
            incomplete += _leftover(sims[su.index], field, features, su, grid, turn(su), program, masks)
        final.append(replace(sc, removed=tuple(removed)))
    return program, Verification(tuple(final), tuple(dropped), tuple(incomplete), time.perf_counter() - t0, tol)


#: A move's engagement is measured again on a window this many times finer than the setup's grid
#: when the grid's cell-wide doubt could put its chip over the limit.
WINDOW_REFINE = 8
#: Most windows one operation may measure; past it the grid's estimate (a cell nearer) stands.
WINDOW_BUDGET = 60


class _Past:
    """A setup's moves so far, with their packed rows and boxes (each made once), for engagement windows."""

    def __init__(self) -> None:
        self.moves: list[Move] = []
        self._rows: list[np.ndarray] = []
        self._boxes = np.zeros((0, 4))

    def add(self, moves: Sequence[Move], rows: np.ndarray) -> None:
        self.moves += moves
        self._rows.append(rows)

    def rows(self) -> np.ndarray:
        if len(self._rows) != 1:
            self._rows = [np.concatenate([np.zeros((0, len(simkernel.MOVE_COLUMNS))), *self._rows])
                          .reshape(-1, len(simkernel.MOVE_COLUMNS))]
        return self._rows[0]

    def boxes(self) -> np.ndarray:
        """:func:`sim.move_box` of every move so far."""
        if len(self._boxes) < len(self.moves):
            more = np.array([sim.move_box(m) for m in self.moves[len(self._boxes):]]).reshape(-1, 4)
            self._boxes = np.concatenate([self._boxes, more])
        return self._boxes


def _engaged_feeds(op: Operation, moves: Sequence[Move], engaged: Sequence[tuple[float, float]], step: float,
                   history: Sequence[Move] | _Past = (), su: Setup | None = None, rows: np.ndarray | None = None
                   ) -> Operation | None:
    """``op`` with the feed lowered where the simulated engagement passes the largest chip (None: nowhere).

    The limit is the table's largest chip, ``op.cutting.fz_max_mm``.

    The material a move cut is known to a cell (the stock's edge from earlier moves, and where
    in its cell this move's edge falls): its nearest cut cell is taken two cells nearer the
    path (the thicker chip). On an arc the edge's speed over the centre's is the farthest cut
    cell's radius, that much farther, over the path's (``feeds.chip_at``), or the tool's far
    edge's: a sliver thinner than a cell may lie there. Where the chip is then over the limit
    (a strip thinner than a cell, e.g. the next wall's allowance met head-on at the end of a
    move, is not in the grid at all), the move is measured again on a window up to
    :data:`WINDOW_REFINE` times finer over its own box (``sim.WINDOW_CELLS`` at most), the
    stock there rebuilt from ``history`` and the operation's earlier moves
    (``sim.window_engagement``); the same path at another level (a wall stepped down) whose
    grid reading is no nearer keeps that window's result. A cutting move that cut no cell may
    still meet a sliver thinner than a cell (two other passes' edges less than a cell apart,
    random part 9348's slot finish): it is read as meeting one cell's width out to its far edge,
    and measured on a window where that chip would pass the limit. Links and descents are left
    out of that: they run where the operation's own tools cleared. Drilling and thread milling
    keep their own feeds (their chips are not a side cutter's).

    ``history`` as a :class:`_Past`, with ``rows`` (``moves`` packed): the windows read the moves
    packed and boxed once (``sim.window_engagement``'s ``rows``).
    """
    cd = op.cutting
    if cd.fz_max_mm <= 0 or op.kind in ("drill", "thread-mill") or cd.rpm <= 0:
        return None
    r = op.tool.radius
    flutes = op.tool.cutter.flutes
    limit = cd.fz_max_mm * (1 + 1e-9)
    past = history if isinstance(history, _Past) else None
    before: list[Move] = history.moves if isinstance(history, _Past) else list(history)
    everything: list[Move] = []
    all_rows: np.ndarray | None = None
    boxes: np.ndarray | None = None
    windows = 0

    def prepare() -> np.ndarray:
        """``everything`` (the moves before this operation's and its own) and their boxes (rows), once."""
        nonlocal all_rows
        everything.extend(before)
        everything.extend(moves)
        own = np.array([sim.move_box(m) for m in moves]).reshape(-1, 4)
        if past is None:
            return np.concatenate([np.array([sim.move_box(m) for m in before]).reshape(-1, 4), own])
        if rows is not None:
            all_rows = np.concatenate([past.rows(), rows])
        return np.concatenate([past.boxes(), own])

    def chip(st: Any, mv: Move, near: float, far: float, cell: float) -> float:
        rad = math.dist(mv.a[:2], mv.center) if mv.center is not None else 0.0
        edge = (far + 2 * cell) / rad if rad > 1e-9 else 1.0
        return feedmod.chip_at(st.feed, cd.rpm, flutes, r, near - 2 * cell, edge)

    new: dict[int, float] = {}
    measured: dict[tuple[Any, ...], tuple[float, float, Callable[[Any], float]]] = {}
    fine_arcs = _arcs_within(op, moves, engaged, step, limit)
    for k, (mv, (near, far)) in enumerate(zip(moves, engaged, strict=True)):
        if mv.rapid or not 0 <= mv.line < len(op.steps) or k in fine_arcs:
            continue
        st = op.steps[mv.line]
        if not isinstance(st, Feed | Arc) or not st.feed:
            continue
        if flutes <= 0 or (mv.center is None and st.feed / (cd.rpm * flutes) <= limit):
            continue  # no chip, or a line's: never thicker than its feed per tooth (chip_at: fz x at most 1)
        if not math.isfinite(near):
            if st.role not in ("cut", "lead"):
                continue  # a link or descent runs where the operation's own tools have cleared: no sliver
            # no cell cut: a sliver narrower than a cell may still lie anywhere under the tool
            # (two other operations' edges a part of a cell apart): read as one cell wide, out to the far edge
            rad = math.dist(mv.a[:2], mv.center) if mv.center is not None else 0.0
            near, far = r + step, (rad + r - 2 * step if mv.center is not None else 0.0)
        c = chip(st, mv, near, far, step)
        if mv.center is not None:  # a sliver thinner than a cell may lie out to the tool's far edge
            c = max(c, chip(st, mv, near, math.dist(mv.a[:2], mv.center) + r - 2 * step, step))
        if c <= limit:
            continue
        fine = sim.window_step(mv, step / WINDOW_REFINE)
        if c > limit and su is not None and fine >= step / 2 and mv.center is None and windows < WINDOW_BUDGET:
            # a long straight move: its window in pieces (each after the ones before it), the thickest chip
            if boxes is None:
                boxes = prepare()
            n = len(before) + k

            def measure(nw: float, fw: float, fn: float, s2: Any = st, m: Move = mv) -> float:
                return chip(s2, m, nw, fw, fn) if math.isfinite(nw) else 0.0

            c = _piecewise_chip(mv, everything[:n], boxes[:n], su, step / WINDOW_REFINE, step, measure, c)
            windows += 1
        elif c > limit and su is not None and fine < step / 2:
            # the same path at another level whose grid reading was no nearer: its window stands
            key = (round(mv.a[0], 6), round(mv.a[1], 6), round(mv.b[0], 6), round(mv.b[1], 6), mv.center, mv.sweep)
            seen = measured.get(key)
            if seen is not None and near >= seen[0] - 1e-9 and far <= seen[1] + 1e-9:
                c = seen[2](st)
            elif windows < WINDOW_BUDGET:
                windows += 1
                if boxes is None:
                    boxes = prepare()
                n = len(before) + k
                near_w, far_w = sim.window_engagement(everything, boxes, mv, su.stock_min, su.stock_max, fine,
                                                      all_rows, n)

                def again(st2: Any, m: Move = mv, nw: float = near_w, fw: float = far_w, fn: float = fine) -> float:
                    if not math.isfinite(nw):
                        return 0.0
                    # as on the grid: a sliver thinner than the window's cell may lie out to the far edge (random
                    # part 9909: a 3 deg arc met 9 um at its far edge, 2.5 um wide, which its window's cells missed)
                    edge = math.dist(m.a[:2], m.center) + r - 2 * fn if m.center is not None else fw
                    return max(chip(st2, m, nw, fw, fn), chip(st2, m, nw, edge, fn))

                measured[key] = (near, far, again)
                c = again(st)
        if c > limit:
            f = math.floor(st.feed * cd.fz_max_mm / c * 10) / 10
            new[mv.line] = min(new.get(mv.line, f), f)
    if not new:
        return None
    steps = [replace(st, feed=max(new[i], 0.1)) if i in new else st  # type: ignore[type-var, arg-type]
             for i, st in enumerate(op.steps)]
    note = (f"feed lowered on {len(new)} of its moves to F{min(new.values()):g}..F{max(new.values()):g}: "
            f"the simulated stock meets the tool nearer its path than the feed was set for, and the chip "
            f"would pass the table's largest, {cd.fz_max_mm:.4f} mm (fz_per_d_max x D or h_min)")
    return replace(op, steps=tuple(steps), notes=op.notes + (note,))


def _arcs_within(op: Operation, moves: Sequence[Move], engaged: Sequence[tuple[float, float]], step: float,
                 limit: float) -> set[int]:
    """Indices of the arc moves whose chip (both of ``_engaged_feeds``'s readings) is surely within ``limit``.

    The readings' arithmetic (``feeds.chip_at``) in numpy over all arcs at once, 1e-9 to
    spare for its rounding: those arcs need no reading one by one.
    """
    cd = op.cutting
    r = op.tool.radius
    flutes = op.tool.cutter.flutes
    rows = []
    for k, (mv, (near, far)) in enumerate(zip(moves, engaged, strict=True)):
        if mv.center is None or mv.rapid or not math.isfinite(near) or not 0 <= mv.line < len(op.steps):
            continue
        st = op.steps[mv.line]
        if isinstance(st, Feed | Arc) and st.feed:
            rows.append((k, st.feed, near, far, math.dist(mv.a[:2], mv.center)))
    if not rows or flutes <= 0:
        return set()
    k, feed, near, far, rad = np.array(rows, dtype=float).T
    rad = np.where(rad > 1e-9, rad, np.nan)
    d = np.minimum(np.maximum(near - 2 * step, 0.0), r)
    thin = np.sqrt(np.maximum(0.0, 1.0 - (d / r) ** 2))
    edge = np.maximum(np.maximum((far + 2 * step) / rad, (rad + r - 2 * step + 2 * step) / rad), 1.0)
    edge = np.where(np.isnan(edge), 1.0, edge)
    chip = feed / (cd.rpm * flutes) * thin * edge
    return set(k[chip <= limit * (1 - 1e-9)].astype(int).tolist())


def _piecewise_chip(mv: Move, history: Sequence[Move], boxes: np.ndarray, su: Setup, want: float, step: float,
                    chip: Callable[[float, float, float], float], coarse: float) -> float:
    """The thickest chip of a straight move, measured on windows over pieces of it.

    Each piece's window is no coarser than half the grid's ``step`` and replays the pieces
    before it; ``coarse`` (the grid's reading) when 16 pieces are not enough.
    """
    for n in (2, 4, 8, 16):
        cuts = [(mv.a[0] + (mv.b[0] - mv.a[0]) * t, mv.a[1] + (mv.b[1] - mv.a[1]) * t,
                 mv.a[2] + (mv.b[2] - mv.a[2]) * t) for t in np.linspace(0.0, 1.0, n + 1)]
        pieces = [replace(mv, a=p, b=q) for p, q in zip(cuts, cuts[1:], strict=False)]
        fines = [sim.window_step(pc, want) for pc in pieces]
        if max(fines) >= step / 2:
            continue
        worst = 0.0
        done: list[Move] = list(history)
        rows = [boxes] if len(boxes) else []
        for pc, fine in zip(pieces, fines, strict=True):
            bx = np.concatenate(rows).reshape(-1, 4) if rows else np.zeros((0, 4))
            near_w, far_w = sim.window_engagement(done, bx, pc, su.stock_min, su.stock_max, fine)
            worst = max(worst, chip(near_w, far_w, fine))
            done.append(pc)
            rows.append(np.array([sim.move_box(pc)]))
        return worst
    return coarse


def _with_slowed(program: Program, slowed: Mapping[tuple[int, str], Operation | None]) -> Program:
    """``program`` with the operations :func:`_engaged_feeds` lowered (those still in it)."""
    setups = []
    for su in program.setups:
        ops = tuple(slowed.get((su.index, op.name)) or op for op in su.operations)
        setups.append(replace(su, operations=ops) if ops != su.operations else su)
    return replace(program, setups=tuple(setups))


def _prepare(su: Setup, part: SetupPart, features: Sequence[Any], program: Program, settings: Mapping[str, float]
             ) -> tuple[SetupPart, sim.Grid, np.ndarray, _Shadows, bool]:
    radii = [op.tool.radius for op in su.operations] or [0.5]
    want = min(radii) / 10
    area = (su.stock_max[0] - su.stock_min[0] + 2) * (su.stock_max[1] - su.stock_min[1] + 2)
    step = max(want, math.sqrt(area / CELL_BUDGET))
    grid = sim.grid_for(su.stock_min, su.stock_max, step, pad=1.0)
    zones = sim.thread_zones(features, approach=su.approach, turn=_setup_turn(su))
    # a modelled thread's flanks are replaced by its zone: not meshed (0.2 um chords of a helix: millions)
    field = part.height_field(grid, [(z.faces, z.x, z.y, z.radius, z.z_bottom, z.z_top) for z in zones])
    if zones:
        field = sim.cut_thread_zones(field, grid, zones, su.part_bottom)
    shadows = _Shadows(part, su.part_top, su.part_bottom, zones)
    return part, grid, field, shadows, step <= want + 1e-12


def _setup_turn(su: Setup) -> Callable[[Sequence[float]], tuple[float, float, float]]:
    from dfm.cam.program import turn_point

    return lambda p: turn_point(su.approach, p)


def _drop(program: Program, failing: Mapping[int, Mapping[tuple[str, ...], str]], everything: bool = False
          ) -> tuple[Program, list[tuple[int, str, str]]]:
    setups = []
    dropped: list[tuple[int, str, str]] = []
    for su in program.setups:
        bad = failing.get(su.index, {})
        if not bad:
            setups.append(su)
            continue
        ids = {fid for grp in bad for fid in grp}
        keep, lost = [], []
        for op in su.operations:
            if everything or (set(_group(op)) & ids):
                lost.append(op)
            else:
                keep.append(op)
        unmachined = list(su.unmachined)
        for grp, why in bad.items():
            for fid in grp:
                dropped.append((su.index, fid, why))
                unmachined.append((fid, f"dfm's own plan for it failed its check and is not written (a limit of "
                                         f"dfm's planning, not of the part): the guard found that {why}"))
        for op in lost:  # features that lose operations with a failing one
            for fid in _group(op):
                if fid not in ids and all(fid != u for u, _ in unmachined):
                    unmachined.append((fid, f"not machined with {op.name}: an operation it depends on failed"))
        gone = {u for u, _ in unmachined}
        setups.append(replace(su, operations=tuple(keep), unmachined=tuple(unmachined),
                              partly=tuple((fid, why) for fid, why in su.partly if fid not in gone)))
    return replace(program, setups=tuple(setups)), dropped


def compact(program: Program, ver: Verification) -> tuple[Program, Verification]:
    """Leave out setups without an operation (their not-machined lists go to the first setup); renumber.

    The first setup is kept even when empty, so the program still says why nothing is cut.
    """
    keep = [su for su in program.setups if su.operations]
    gone = [su for su in program.setups if not su.operations]
    if not keep and program.setups:
        keep, gone = [program.setups[0]], list(program.setups[1:])
    moved = tuple((fid, f"(setup from {su.orientation.split(':')[0]}) {why}")
                  for su in gone for fid, why in su.unmachined)
    new = {su.index: k + 1 for k, su in enumerate(keep)}
    setups = []
    for k, su in enumerate(keep):
        extra = moved if k == 0 else ()
        setups.append(replace(su, index=k + 1, unmachined=su.unmachined + extra))
    ver = replace(ver,
                  setups=tuple(replace(s, index=new[s.index]) for s in ver.setups if s.index in new),
                  dropped=tuple((new.get(s, 1), f, r) for s, f, r in ver.dropped),
                  incomplete=tuple((new.get(s, 1), f, v, r) for s, f, v, r in ver.incomplete))
    return replace(program, setups=tuple(setups)), ver
