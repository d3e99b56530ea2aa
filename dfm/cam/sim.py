"""Material-removal simulation on a height map (numpy), and the checks the tests rely on.

The stock is a height field ``H`` over a grid of cells (the top of the material in each
cell). Each move sweeps a flat cylinder (the tool: radius r, bottom at the tool tip)
along its path and lowers ``H`` to the lowest tip height that passes over each cell
centre. Along the way it records:

* **gouges**: a second map swept by the tool shrunk by ``tol`` (radius r − tol, tip raised
  by tol) must never go below the part's own height field ``P``; so "no gouge" means the
  real tool never enters the part by more than ``tol`` in any direction;
* **rapids through material**: a rapid that would lower ``H`` by more than ``tol``;
* **cutting with the spindle off**: a feed that lowers ``H`` by more than ``tol`` while the
  spindle is stopped.

Moves come either from dfm's own steps or from the canonical calls LinuxCNC's ``rs274``
prints (:func:`moves_from_canon`), so a test can simulate what the controller will run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dfm.cam import simkernel
from dfm.cam.filters import expand_drill_cycles
from dfm.cam.geom2d import Seg
from dfm.cam.model import Arc, DrillCycle, Feed, Rapid, Spindle, Step, ToolChange


@dataclass(frozen=True)
class ToolBody:
    """What of a tool can touch the part, from the tip up (mm, tool axis vertical).

    Attributes:
        radius: Cutting radius.
        point_half_angle_deg: A drill's point (half the point angle); 0 for a flat end.
        shank_radius: Radius of the shank above the neck (≥ radius).
        shank_from: Height of the shank's bottom above the tip (the reach; inf = none).
        holder_radius: Radius of the tool holder.
        holder_from: Height of the holder's face above the tip.
        corner_radius: A corner-radius end's corner (a ball's: its radius; 0 flat). Exact on
            moves at one height (``simkernel.cut``); on others the end is taken as flat: it
            removes less than a flat end, so a flat end that does not gouge proves it does not
            either. The exact side check measures it from ``corner_radius`` above its tip, where
            its full radius begins (below, the height field checks it).
    """

    radius: float
    point_half_angle_deg: float = 0.0
    shank_radius: float = 0.0
    shank_from: float = math.inf
    holder_radius: float = 0.0
    holder_from: float = math.inf
    corner_radius: float = 0.0


@dataclass(frozen=True)
class Move:
    """One piece of tool motion: a line, or a flat or helical arc (``center``, ``sweep``; a drill's helix as chords).

    Attributes:
        rapid: True for G0.
        a, b: Start and end (x, y, z) of the tool tip.
        radius: Tool radius.
        spindle: True if the spindle turns.
        line: Source line (canon line or step index) for messages.
    """

    rapid: bool
    a: tuple[float, float, float]
    b: tuple[float, float, float]
    radius: float
    spindle: bool
    line: int
    center: tuple[float, float] | None = None
    sweep: float = 0.0
    body: ToolBody | None = None


def _arc_points(p: tuple[float, float, float], x: float, y: float, z: float, cx: float, cy: float, ccw: bool,
                turns: int = 1, max_err: float = 4e-4) -> list[tuple[float, float, float]]:
    seg = Seg((p[0], p[1]), (x, y), (cx, cy), ccw)
    sweep = seg.sweep
    if math.dist((p[0], p[1]), (x, y)) < 1e-9:
        sweep = 2 * math.pi * (1 if ccw else -1)
    sweep += (turns - 1) * 2 * math.pi * (1 if ccw else -1)
    r = seg.radius
    step = 2.0 * math.acos(max(-1.0, 1.0 - max_err / r)) if r > max_err else math.pi
    n = max(2, math.ceil(abs(sweep) / step))
    a0 = math.atan2(p[1] - cy, p[0] - cx)
    out = []
    for k in range(1, n + 1):
        t = k / n
        ang = a0 + sweep * t
        out.append((cx + r * math.cos(ang), cy + r * math.sin(ang), p[2] + (z - p[2]) * t))
    out[-1] = (x, y, z)
    return out


def _arc_moves(p: tuple[float, float, float], x: float, y: float, z: float, cx: float, cy: float, ccw: bool,
               turns: int, radius: float, spindle: bool, line: int, body: ToolBody | None = None) -> list[Move]:
    cone = body is not None and body.point_half_angle_deg > 0
    if abs(z - p[2]) < 1e-12 or not cone:  # a flat or helical arc of a flat end: swept exactly in one piece
        seg = Seg((p[0], p[1]), (x, y), (cx, cy), ccw)
        sweep = seg.sweep if math.dist((p[0], p[1]), (x, y)) > 1e-9 else 2 * math.pi * (1 if ccw else -1)
        sweep += (turns - 1) * 2 * math.pi * (1 if ccw else -1)
        return [Move(False, p, (x, y, z), radius, spindle, line, (cx, cy), sweep, body)]
    out = []
    for q in _arc_points(p, x, y, z, cx, cy, ccw, turns=turns):
        out.append(Move(False, p, q, radius, spindle, line, body=body))
        p = q
    return out


def _body(tool: float | ToolBody) -> ToolBody:
    return tool if isinstance(tool, ToolBody) else ToolBody(float(tool))


def moves_from_steps(steps: Sequence[Step], radii: Mapping[int, float | ToolBody],
                     start: tuple[float, float, float] | None = None, spindle: bool = False,
                     tool: float | ToolBody | None = None, posted: Callable[[float], float] | None = None
                     ) -> list[Move]:
    """Moves from dfm steps (drill cycles expanded as grbl would run them).

    Args:
        steps: The steps.
        radii: Tool number → radius or whole :class:`ToolBody`.
        start: Where the tool is before the first step (None: the first position is not swept).
        spindle: Whether the spindle turns before the first step.
        tool: The tool loaded before the first step.
        posted: Applied to every coordinate of a motion step first (e.g. the posts' rounding):
            the moves of the steps as a post writes them, without copies of the steps.
    """
    out: list[Move] = []
    pos = start
    body = _body(tool) if tool is not None else ToolBody(0.0)
    rd = posted if posted is not None else float
    two_pi = 2 * math.pi
    for i, s in enumerate(steps):
        if isinstance(s, Feed | Rapid):
            b = (rd(s.x), rd(s.y), rd(s.z)) if posted is not None else (s.x, s.y, s.z)
            if pos is not None:
                out.append(Move(isinstance(s, Rapid), pos, b, body.radius, spindle, i, body=body))
            pos = b
        elif isinstance(s, Arc):
            if pos is None:
                raise ValueError("arc without a start point")
            if posted is not None:
                x, y, z, cx, cy = rd(s.x), rd(s.y), rd(s.z), rd(s.cx), rd(s.cy)
            else:
                x, y, z, cx, cy = s.x, s.y, s.z, s.cx, s.cy
            if body.point_half_angle_deg > 0 and abs(z - pos[2]) >= 1e-12:  # a drill's helix: chords
                out.extend(_arc_moves(pos, x, y, z, cx, cy, s.ccw, 1, body.radius, spindle, i, body))
            elif math.dist((pos[0], pos[1]), (x, y)) > 1e-9:  # as _arc_moves: Seg.sweep, one piece
                sweep = math.atan2(y - cy, x - cx) - math.atan2(pos[1] - cy, pos[0] - cx)
                if s.ccw:
                    while sweep <= 1e-12:
                        sweep += two_pi
                else:
                    while sweep >= -1e-12:
                        sweep -= two_pi
                out.append(Move(False, pos, (x, y, z), body.radius, spindle, i, (cx, cy), sweep, body))
            else:
                out.append(Move(False, pos, (x, y, z), body.radius, spindle, i, (cx, cy),
                                two_pi * (1 if s.ccw else -1), body))
            pos = (x, y, z)
        elif isinstance(s, ToolChange):
            body = _body(radii[s.number])
        elif isinstance(s, Spindle):
            spindle = s.rpm > 0
        elif isinstance(s, DrillCycle):
            if posted is not None:
                s = replace(s, x=rd(s.x), y=rd(s.y), z=rd(s.z), r=rd(s.r))
            seq: list[Step] = []
            if start is not None and abs(start[2] - s.r) > 1e-9:  # (the position before the first step)
                seq.append(Rapid(s.x, s.y, s.r))
            seq.extend(expand_drill_cycles([s]))
            for e in seq:  # rapids and feeds
                assert isinstance(e, Rapid | Feed)
                b = (e.x, e.y, e.z)
                if pos is not None:
                    out.append(Move(isinstance(e, Rapid), pos, b, body.radius, spindle, i, body=body))
                pos = b
    return out


_CALL = re.compile(r"^\s*(\d+)\s+N\S*\s+([A-Z_]+)\((.*)\)\s*$")


def moves_from_canon(text: str, radii: Mapping[int, float | ToolBody]) -> list[Move]:
    """Moves from the canonical calls ``rs274`` prints (positions in program units, mm after G21).

    The interpreter starts at the origin; the first move positions the tool and is not swept
    (a real machine starts at its Z home).
    """
    out: list[Move] = []
    pos: tuple[float, float, float] | None = None
    body = ToolBody(0.0)
    spindle = False
    first = True
    for raw in text.splitlines():
        m = _CALL.match(raw)
        if not m:
            continue
        line, name, args = int(m.group(1)), m.group(2), m.group(3)
        if name == "CHANGE_TOOL":
            body = _body(radii[int(args.split(",")[0])])
        elif name.startswith("START_SPINDLE"):
            spindle = True
        elif name == "STOP_SPINDLE_TURNING":
            spindle = False
        elif name in ("STRAIGHT_TRAVERSE", "STRAIGHT_FEED"):
            v = [float(x) for x in args.split(",")]
            b = (v[0], v[1], v[2])
            if pos is not None and not first:
                out.append(Move(name == "STRAIGHT_TRAVERSE", pos, b, body.radius, spindle, line, body=body))
            first = False
            pos = b
        elif name == "ARC_FEED":
            v = [float(x) for x in args.split(",")]
            x, y, cx, cy, rot, z = v[0], v[1], v[2], v[3], int(v[4]), v[5]
            if pos is None:
                pos = (0.0, 0.0, 0.0)
            out.extend(_arc_moves(pos, x, y, z, cx, cy, rot > 0, abs(rot), body.radius, spindle, line, body))
            pos = (x, y, z)
            first = False
    return out


@dataclass
class Violation:
    """A broken rule: what, where (x, y), how much (mm), which line."""

    kind: str
    line: int
    x: float
    y: float
    amount_mm: float


@dataclass
class Grid:
    """The simulation grid: cell centres ``x0 + (i + .5) step``; arrays are (ny, nx)."""

    x0: float
    y0: float
    step: float
    nx: int
    ny: int

    @property
    def xs(self) -> np.ndarray:
        """Cell-centre x."""
        return self.x0 + (np.arange(self.nx) + 0.5) * self.step

    @property
    def ys(self) -> np.ndarray:
        """Cell-centre y."""
        return self.y0 + (np.arange(self.ny) + 0.5) * self.step


def grid_for(stock_min: Sequence[float], stock_max: Sequence[float], step: float, pad: float = 0.5) -> Grid:
    """A grid over the stock plus ``pad``.

    It is offset by an odd fraction of a cell so that cell centres do not fall on round
    coordinates (walls at exact tool-radius distances).
    """
    x0 = stock_min[0] - pad + 0.3719 * step
    y0 = stock_min[1] - pad + 0.2913 * step
    nx = math.ceil((stock_max[0] + pad - x0) / step)
    ny = math.ceil((stock_max[1] + pad - y0) / step)
    return Grid(x0, y0, step, nx, ny)


@dataclass
class Simulation:
    """State and findings of one run.

    Attributes:
        grid: The grid.
        height: Current material top (−inf = no stock).
        part: The part's top at each cell (−inf = no part).
        tol: Tolerance (mm) for gouges, rapids and spindle-off cuts.
    """

    grid: Grid
    height: np.ndarray
    part: np.ndarray
    tol: float = 1e-3
    violations: list[Violation] = field(default_factory=list)
    swept: int = 0
    near_margin: float = 0.0
    near: list[bool] = field(default_factory=list)
    #: Per move swept: (smallest XY distance from the path of a cell it cut, largest distance
    #: from an arc's centre of such a cell); (inf, 0) when it cut nothing (``simkernel.cut``).
    engaged: list[tuple[float, float]] = field(default_factory=list)
    top: float | None = None
    #: Check shank and holder and flag moves near the part (False: only the cutting end cuts, e.g. a
    #: window replay for engagement).
    bodies: bool = True
    tile: int = 16
    #: Watch a flat end fed straight down into stock (``pack_moves``): the guard's, with real tool bodies.
    plunges: bool = False
    _hmax: np.ndarray | None = field(default=None, repr=False)
    _pmax: np.ndarray | None = field(default=None, repr=False)

    def _tiles(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-block maxima of stock and part (``simkernel.cut`` keeps the stock's current)."""
        if self._hmax is None or self._pmax is None:
            self._hmax = simkernel.tile_max(self.height, self.tile)
            self._pmax = simkernel.tile_max(self.part, self.tile)
        return self._hmax, self._pmax

    def run(self, moves: Iterable[Move], packed: np.ndarray | None = None) -> Simulation:
        """Sweep every move; returns self.

        One compiled call sweeps them all (``simkernel.sweep_moves``: what :meth:`_sweep` does
        move by move, without its Python per move). ``packed``: ``pack_moves(moves)`` when the
        caller has it.
        """
        moves = list(moves)
        if not moves:
            return self
        if self.top is None and any(mv.radius > 0 for mv in moves):
            finite = self.height[np.isfinite(self.height)]
            self.top = max(float(finite.max()) if finite.size else -math.inf, float(self.part.max()))
        g = self.grid
        rows = pack_moves(moves, self.plunges) if packed is None else packed
        near, eng, swept, viol = simkernel.sweep_moves(
            self.height, self.part, *self._tiles(), self.tile, g.x0, g.y0, g.step, g.nx, g.ny, self.tol,
            self.top if self.top is not None else math.inf, self.near_margin, self.bodies, rows,
            recurring_plans(rows))
        self.near += near.tolist()
        self.engaged += [(a, b) for a, b in eng.tolist()]
        self.swept += swept
        for kind, k, i, j, amount in viol.tolist():
            mv = moves[int(k)]
            what = (("rapid-through-material" if mv.rapid else "cut-with-spindle-off"), "gouge", "shank-contact",
                    "holder-contact", "plunge-into-stock")[int(kind)]
            self.violations.append(Violation(what, mv.line, *self._cell(int(i), int(j)), amount))
        return self

    def _sweep(self, mv: Move) -> None:
        self.engaged.append((math.inf, 0.0))
        r = mv.radius
        if r <= 0:
            self.near.append(False)
            return
        body = mv.body or ToolBody(r)
        (ax, ay, _), (bx, by, _) = mv.a, mv.b
        if self.top is None:  # the highest material there can ever be (stock only gets lower)
            finite = self.height[np.isfinite(self.height)]
            self.top = max(float(finite.max()) if finite.size else -math.inf, float(self.part.max()))
        if min(mv.a[2], mv.b[2]) > self.top + self.tol:  # above all material: nothing to cut or touch
            self.swept += 1
            self.near.append(False)
            return
        if mv.center is not None:
            lo_x, hi_x, lo_y, hi_y = _arc_box(mv)
        else:
            lo_x, hi_x, lo_y, hi_y = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
        self.swept += 1
        # does any part above the tip come within the margin of the tool's box? (for exact checks)
        m = r + self.near_margin + 2 * self.grid.step
        nbox = self._box(lo_x - m, hi_x + m, lo_y - m, hi_y + m) if self.bodies else None
        if nbox is None:
            self.near.append(False)
        else:
            ni0, ni1, nj0, nj1 = nbox
            self.near.append(simkernel.box_max(self.part, ni0, ni1, nj0, nj1) > min(mv.a[2], mv.b[2]) + self.tol)
        box = self._box(lo_x - r, hi_x + r, lo_y - r, hi_y + r)
        if box is not None:
            self._cut(mv, body, *box)
        low = min(mv.a[2], mv.b[2])
        if not self.bodies:
            return
        for kind, rad, above in (("shank", body.shank_radius, body.shank_from),
                                 ("holder", body.holder_radius, body.holder_from)):
            if rad > r and math.isfinite(above) and low + above < self.top + self.tol:
                box = self._box(lo_x - rad, hi_x + rad, lo_y - rad, hi_y + rad)
                if box is not None:
                    self._body_part(mv, kind, rad, above, *box)

    def _box(self, x0: float, x1: float, y0: float, y1: float) -> tuple[int, int, int, int] | None:
        """Cell index range [i0, i1) x [j0, j1) covering the box, with one cell to spare; None if empty."""
        g = self.grid
        i0 = max(int((x0 - g.x0) / g.step) - 1, 0)
        i1 = min(int((x1 - g.x0) / g.step) + 2, g.nx)
        j0 = max(int((y0 - g.y0) / g.step) - 1, 0)
        j1 = min(int((y1 - g.y0) / g.step) + 2, g.ny)
        if i1 <= i0 or j1 <= j0:
            return None
        return i0, i1, j0, j1

    def _cell(self, i: int, j: int) -> tuple[float, float]:
        g = self.grid
        return g.x0 + (i + 0.5) * g.step, g.y0 + (j + 0.5) * g.step

    def _cut(self, mv: Move, body: ToolBody, i0: int, i1: int, j0: int, j1: int) -> None:
        g = self.grid
        plunge = self.plunges and _plunge(mv, 1.0 if body.point_half_angle_deg > 0 else 0.0)
        watch = mv.rapid or not mv.spindle or plunge
        worst, wi, wj, deepest, gi, gj, near, far = simkernel.cut(
            self.height, self.part, *self._tiles(), self.tile, g.x0, g.y0, g.step, i0, i1, j0, j1, watch, self.tol,
            min(mv.a[2], mv.b[2]), *_kernel_move(mv, body), *simkernel.NO_MEMO)
        if plunge and not (mv.rapid or not mv.spindle):
            if worst > simkernel.PLUNGE_MM:
                self.violations.append(Violation("plunge-into-stock", mv.line, *self._cell(wi, wj), worst))
        elif watch and worst > self.tol:
            self.violations.append(Violation("rapid-through-material" if mv.rapid else "cut-with-spindle-off",
                                             mv.line, *self._cell(wi, wj), worst))
        if deepest > 1e-9:
            self.violations.append(Violation("gouge", mv.line, *self._cell(gi, gj), deepest))
        self.engaged[-1] = (near, far)

    def _body_part(self, mv: Move, kind: str, rad: float, above: float, i0: int, i1: int, j0: int, j1: int) -> None:
        """The shank or holder (a flat-bottomed cylinder ``above`` the tip) must touch neither part nor stock."""
        (ax, ay, az), (bx, by, bz) = mv.a, mv.b
        lift = above + self.tol
        g = self.grid
        ox, oy, arad, a0, sweep = _arc_params(mv)
        if mv.center is not None:  # a helical arc: the shank or holder at its lowest all along (safe side)
            az = bz = min(az, bz)
        deepest, gi, gj = simkernel.body_contact(self.height, self.part, *self._tiles(), self.tile,
                                                 g.x0, g.y0, g.step, i0, i1, j0, j1,
                                                 mv.center is not None, ax, ay, az + lift, bx, by, bz + lift,
                                                 rad - self.tol, ox, oy, arad, a0, sweep)
        if deepest > 1e-9:
            self.violations.append(Violation(f"{kind}-contact", mv.line, *self._cell(gi, gj), deepest))

    def removed_fraction(self, mask: np.ndarray, stock_top: float, bottom: float) -> float:
        """Share of the removable volume inside ``mask`` (cells) that was removed.

        Where there is no part below a cell (a through feature), ``bottom`` (the part's
        bottom) is the floor: the stock skin below the part is not part of the feature.
        """
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if not len(rows):
            return 1.0
        # over the mask's box only: the same cells in the same order (the same sums)
        box = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        floor = np.maximum(self.part[box], bottom)
        removable = np.clip(stock_top - floor, 0.0, None)[mask[box]]
        left = np.clip(np.minimum(self.height[box], stock_top) - floor, 0.0, None)[mask[box]]
        total = float(removable.sum())
        return 1.0 if total <= 0 else float(1.0 - left.sum() / total)


_COT: dict[float, float] = {}


def _plunge(mv: Move, cot: float) -> bool:
    """Whether ``mv`` feeds a flat end (no drill point: ``cot`` 0) straight down, spindle on."""
    return (not mv.rapid and mv.spindle and cot == 0.0 and mv.center is None and mv.b[2] < mv.a[2] - 1e-9
            and abs(mv.b[0] - mv.a[0]) < 1e-9 and abs(mv.b[1] - mv.a[1]) < 1e-9)


def pack_moves(moves: Sequence[Move], plunges: bool = False) -> np.ndarray:
    """Moves as rows of ``simkernel.MOVE_COLUMNS`` (the arithmetic of :func:`_kernel_move`, exactly).

    ``plunges``: a flat end fed straight down is watched (``simkernel.PLUNGE_MM``); only when
    each move's tool body is the real one (the guard's), since from a radius alone a drill is
    not told from an end mill.
    """
    rows = []
    seen: dict[int, tuple[float, float, float, float, float, float]] = {}  # per body: cot, shank, holder, corner
    for mv in moves:
        b = seen.get(id(mv.body))
        if b is None:
            body = mv.body or ToolBody(mv.radius)
            half = body.point_half_angle_deg
            cot = 0.0
            if half > 0:
                cot = _COT.get(half, 0.0) or _COT.setdefault(half, 1.0 / math.tan(math.radians(half)))
            b = (cot, body.shank_radius, body.shank_from, body.holder_radius, body.holder_from, body.corner_radius)
            if mv.body is not None:
                seen[id(mv.body)] = b
        (ax, ay, az), (bx, by, bz) = mv.a, mv.b
        if mv.center is None:
            watch = 1.0 if mv.rapid or not mv.spindle else (2.0 if plunges and _plunge(mv, b[0]) else 0.0)
            rows.append((ax, ay, az, bx, by, bz, mv.radius, 2 if b[0] else 0, 0.0, 0.0, 0.0, 0.0, 0.0, b[0],
                         watch, b[1], b[2], b[3], b[4], b[5]))
        else:
            ox, oy = mv.center
            rows.append((ax, ay, az, bx, by, bz, mv.radius, 3 if b[0] else (1 if az == bz else 4), ox, oy,
                         math.dist((ax, ay), mv.center), math.atan2(ay - oy, ax - ox), mv.sweep, b[0],
                         mv.rapid or not mv.spindle, b[1], b[2], b[3], b[4], b[5]))
    return np.array(rows, dtype=float).reshape(-1, len(simkernel.MOVE_COLUMNS))


def recurring_plans(rows: np.ndarray) -> np.ndarray:
    """Per packed move, -1 or the number of its plan among helical arcs and sloped lines whose plan recurs.

    (``simkernel.sweep_moves``.) A plan: the kind, the ends in XY, an arc's centre, radius, start
    angle and sweep, the tool's radius and corner, and whether it descends; equal to the bit (a
    negative zero is another plan).
    """
    out = np.full(len(rows), -1, dtype=np.int64)
    sel = np.nonzero((rows[:, 7] == 4) | ((rows[:, 7] == 0) & (rows[:, 2] != rows[:, 5])))[0]
    if len(sel) < 2:
        return out
    cols = np.array([0, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 19])
    keys = np.ascontiguousarray(rows[np.ix_(sel, cols)]).view(np.int64)
    keys = np.column_stack([keys, (rows[sel, 5] <= rows[sel, 2]).astype(np.int64)])
    order, lead = key_groups(keys)
    group = np.cumsum(lead) - 1
    size = np.bincount(group)
    again = size[group] > 1
    if not again.any():
        return out
    num = np.cumsum(np.r_[True, (group[again][1:] != group[again][:-1])]) - 1
    out[sel[order[again]]] = num
    return out


def _arc_params(mv: Move) -> tuple[float, float, float, float, float]:
    """Centre, radius, start angle and sweep of an arc move (zeros for a straight one)."""
    if mv.center is None:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    ox, oy = mv.center
    return ox, oy, math.dist((mv.a[0], mv.a[1]), mv.center), math.atan2(mv.a[1] - oy, mv.a[0] - ox), mv.sweep


def _kernel_move(mv: Move, body: ToolBody) -> tuple:  # type: ignore[type-arg]
    """The move as ``simkernel.cut`` takes it: kind, ends, radius, arc, the drill point's cotangent, the corner."""
    cone = body.point_half_angle_deg > 0
    kind = (2 if cone else 0) + (mv.center is not None)
    if kind == 1 and mv.a[2] != mv.b[2]:
        kind = 4  # a helical arc
    cot = 1.0 / math.tan(math.radians(body.point_half_angle_deg)) if cone else 0.0
    (ax, ay, az), (bx, by, bz) = mv.a, mv.b
    return (kind, ax, ay, az, bx, by, bz, mv.radius, *_arc_params(mv), cot, body.corner_radius)


def _arc_box(mv: Move) -> tuple[float, float, float, float]:
    assert mv.center is not None
    ox, oy = mv.center
    rad = math.dist((mv.a[0], mv.a[1]), mv.center)
    xs = [mv.a[0], mv.b[0]]
    ys = [mv.a[1], mv.b[1]]
    a0 = math.atan2(mv.a[1] - oy, mv.a[0] - ox)
    for k in range(4):  # axis extremes inside the sweep
        ang = k * math.pi / 2
        rel = (ang - a0) % (2 * math.pi) if mv.sweep >= 0 else (a0 - ang) % (2 * math.pi)
        if rel <= abs(mv.sweep) + 1e-12:
            xs.append(ox + rad * math.cos(ang))
            ys.append(oy + rad * math.sin(ang))
    return min(xs), max(xs), min(ys), max(ys)


def polygon_mask(grid: Grid, outline: Sequence[Sequence[float]]) -> np.ndarray:
    """Cells whose centre is inside the closed polyline ``outline`` (even-odd)."""
    inside = np.zeros((grid.ny, grid.nx), dtype=bool)
    pts = [tuple(p) for p in outline]
    if len(pts) < 3:
        return inside
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    i0 = max(int((min(xs) - grid.x0) / grid.step) - 1, 0)
    i1 = min(int((max(xs) - grid.x0) / grid.step) + 2, grid.nx)
    j0 = max(int((min(ys) - grid.y0) / grid.step) - 1, 0)
    j1 = min(int((max(ys) - grid.y0) / grid.step) + 2, grid.ny)
    if i1 <= i0 or j1 <= j0:
        return inside
    # (compiled: per cell, with the arithmetic of the numpy test over the box it replaced)
    inside[j0:j1, i0:i1] = simkernel.polygon_cells(grid.xs[i0:i1], grid.ys[j0:j1], np.array(xs, dtype=float),
                                                   np.array(ys, dtype=float))
    return inside


def move_box(mv: Move) -> tuple[float, float, float, float]:
    """(x low, x high, y low, y high) of what a move's cutting end can reach (its radius included)."""
    if mv.center is not None:
        x0, x1, y0, y1 = _arc_box(mv)
    else:
        x0, x1 = min(mv.a[0], mv.b[0]), max(mv.a[0], mv.b[0])
        y0, y1 = min(mv.a[1], mv.b[1]), max(mv.a[1], mv.b[1])
    r = mv.radius
    return x0 - r, x1 + r, y0 - r, y1 + r


#: Most cells of an engagement window.
WINDOW_CELLS = 60_000


def window_step(mv: Move, step: float) -> float:
    """The grid step of ``mv``'s engagement window: ``step``, or coarser to keep :data:`WINDOW_CELLS`."""
    x0, x1, y0, y1 = move_box(mv)
    return max(step, math.sqrt((x1 - x0 + 4 * step) * (y1 - y0 + 4 * step) / WINDOW_CELLS))


def window_engagement(history: Sequence[Move], boxes: np.ndarray, mv: Move, stock_min: Sequence[float],
                      stock_max: Sequence[float], step: float, rows: np.ndarray | None = None,
                      upto: int | None = None) -> tuple[float, float]:
    """``mv``'s engagement (as :attr:`Simulation.engaged`) on a grid of ``step`` over its own box.

    The stock there is rebuilt from the stock box by the moves of ``history`` that reach the
    box (``boxes``: their :func:`move_box` rows), cutting ends only, lowest first (the same
    stock as in their order): what a coarse height field knows to a cell, a window knows to
    ``step`` (see :func:`window_step` for its size).

    ``rows``: ``history`` packed (:func:`pack_moves`, aligned with it): the same moves are
    left out and replayed in the same order from them (:func:`undominated_rows`), without a
    Python step per move. ``upto``: only ``history[:upto]`` (and its boxes and rows) counts.
    """
    x0, x1, y0, y1 = move_box(mv)
    pad = 2 * step
    g = Grid(x0 - pad + 0.3719 * step, y0 - pad + 0.2913 * step, step,
             math.ceil((x1 - x0 + 2 * pad) / step), math.ceil((y1 - y0 + 2 * pad) / step))
    w = new_simulation(g, stock_min, stock_max, np.full((g.ny, g.nx), -np.inf))
    w.bodies = False
    n = len(boxes) if upto is None else upto
    if n:
        bx = boxes[:n]
        hit = np.nonzero((bx[:, 0] <= x1) & (bx[:, 1] >= x0) & (bx[:, 2] <= y1) & (bx[:, 3] >= y0))[0]
        # lowest first: the stock they leave is the least of their tips over each cell in any order, and
        # a block a lower move already took below a higher move's tip is passed over whole (a part's
        # levels of rings, deepest last, were each swept over the last's stock)
        if rows is None:
            past = undominated([history[int(i)] for i in hit])
            w.run(sorted(past, key=lambda m: min(m.a[2], m.b[2])))
        else:
            sub = rows[hit]
            keep = undominated_rows(sub)
            order = keep[np.argsort(np.minimum(sub[keep, 2], sub[keep, 5]), kind="stable")]
            packed = sub[order]
            packed[:, 14] = np.where(packed[:, 14] == 2.0, 0.0, packed[:, 14])  # (no plunge watch: pack_moves')
            w.run([history[int(i)] for i in hit[order]], packed)
    w.run([mv])
    return w.engaged[-1]


def undominated(moves: Sequence[Move]) -> list[Move]:
    """``moves`` without those another of them cuts below everywhere (in order): the same stock after them.

    Cutting ends only (no part, no watch): the stock a run leaves is the lowest tip of any move
    over each cell, whatever the order. A move is left out when another runs the same path in XY
    (same kind, ends, arc, radius, point and direction of descent: the same cells, by the same
    arithmetic) wholly below it (its highest end under the other's lowest by 1 nm, far more than
    rounding), or at the same or a lower height when both are flat. A pocket's levels and a
    ramp's laps repeat their path: a window over a deep cut replays only the lowest.
    """
    best: dict[tuple[object, ...], Move] = {}
    keys = []
    for m in moves:
        cot = m.body.point_half_angle_deg if m.body is not None else 0.0
        key = (m.a[0], m.a[1], m.b[0], m.b[1], m.center, m.sweep, m.radius, cot, m.a[2] == m.b[2], m.b[2] <= m.a[2])
        keys.append(key)
        b = best.get(key)
        if b is None or max(m.a[2], m.b[2]) < max(b.a[2], b.b[2]):
            best[key] = m
    out = []
    for m, key in zip(moves, keys, strict=True):
        b = best[key]
        if b is not m:
            if min(m.a[2], m.b[2]) > max(b.a[2], b.b[2]) + 1e-6 or (m.a[2] == m.b[2] and b.a[2] <= m.a[2]):
                continue
        out.append(m)
    return out


def key_groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal ``key`` (int64 rows) together: (an order of the rows, where each row in it starts a group).

    Rows with one key keep their order. Grouped by a hash of the rows' bits, each group checked
    to hold one key (else by the keys themselves, ``np.unique``): a sort of one column, not of all.
    """
    n = len(key)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in np.ascontiguousarray(key.T).view(np.uint64):
            h = (h ^ c) * np.uint64(0x100000001B3) + np.uint64(0x9E3779B97F4A7C15)
    order = np.argsort(h, kind="stable")
    hs, ks = h[order], key[order]
    same = hs[1:] == hs[:-1]
    if not np.array_equal((ks[1:] == ks[:-1]).all(axis=1), same):  # two keys with one hash: by the keys
        _, inv = np.unique(key, axis=0, return_inverse=True)
        order = np.argsort(inv.reshape(-1), kind="stable")
        same = inv.reshape(-1)[order][1:] == inv.reshape(-1)[order][:-1]
    return order, np.r_[True, ~same]


def undominated_rows(rows: np.ndarray) -> np.ndarray:
    """Indices (in order) of the packed moves :func:`undominated` keeps, in numpy.

    The same key (ends and centre in XY, an arc or not, sweep, radius, drill point, flat, descending:
    compared as floats, a negative zero equal to zero), the same lowest per key (its highest end
    least, the first of equals) and the same tests against it; keys grouped by :func:`key_groups`.
    """
    n = len(rows)
    if n < 2:
        return np.arange(n)
    arc = np.isin(rows[:, 7], (1.0, 3.0, 4.0))
    zero = np.zeros(n)
    az, bz = rows[:, 2], rows[:, 5]
    cols = [rows[:, 0], rows[:, 1], rows[:, 3], rows[:, 4], np.where(arc, rows[:, 8], zero),
            np.where(arc, rows[:, 9], zero), np.where(arc, rows[:, 12], zero), rows[:, 6], rows[:, 13]]
    key = np.column_stack([np.column_stack([c + 0.0 for c in cols]).view(np.int64),  # (+ 0.0: -0.0 is 0.0)
                           arc, az == bz, bz <= az]).astype(np.int64)
    order, lead = key_groups(key)  # a key's moves together, in their order
    starts = np.flatnonzero(lead)
    size = np.diff(np.r_[starts, n])
    top = np.maximum(az, bz)[order]
    least = np.minimum.reduceat(top, starts)
    group = np.repeat(np.arange(len(starts)), size)
    at = np.flatnonzero(top == least[group])  # the first with the least top, per group
    first = at[np.r_[True, group[at][1:] != group[at][:-1]]]
    best = np.empty(n, dtype=np.int64)
    best[order] = np.repeat(order[first], size)
    mine = best == np.arange(n)
    gone = ~mine & ((np.minimum(az, bz) > np.maximum(az, bz)[best] + 1e-6) | ((az == bz) & (az[best] <= az)))
    return np.nonzero(~gone)[0]


def new_simulation(grid: Grid, stock_min: Sequence[float], stock_max: Sequence[float], part: np.ndarray,
                   tol: float = 1e-3) -> Simulation:
    """Stock box as a height map over ``grid`` with the part's height field ``part``."""
    xs, ys = grid.xs, grid.ys
    inside = (((ys >= stock_min[1]) & (ys <= stock_max[1]))[:, None]
              & ((xs >= stock_min[0]) & (xs <= stock_max[0]))[None, :])
    height = np.where(inside, float(stock_max[2]), -np.inf)
    return Simulation(grid, height, part, tol)


def lateral_gouges(moves: Sequence[Move], section, part_top: float, tol: float = 1e-3,  # type: ignore[no-untyped-def]
                   spacing: float = 0.005, band: float = 0.05,
                   levels: Sequence[float] | None = None) -> list[Violation]:
    """Exact side check: the tool centre keeps at least r − ``tol`` from the part's section.

    The height map sees walls only at cell centres; this check samples every move every
    ``spacing`` mm and measures the exact distance from the tool centre to the part's
    cross-section (``section(z)`` → [(outer, holes)], exact lines and arcs, chords of
    0.01 µm) at the tool tip's height band (``band``, rounded down: the wider, lower
    section for a 2.5D part). A centre inside the material or closer than r − tol is a gouge.
    With ``band=0`` each tip height (to 0.1 um) is checked against the section 2 ``tol``
    above it instead: right for floors at any height. With ``levels`` (the heights of the
    part's faces normal to Z) a tip is checked against the section in the middle of the band
    between levels just above it: the same for walls that are vertical between levels, and one
    section per band instead of one per height.
    """
    from dfm.cam.geom2d import loop_points

    groups: dict[int, list[tuple[float, float, float, int]]] = {}
    lv = sorted({round(v, 9) for v in levels if v < part_top - 1e-9} | {part_top}) if levels else []
    for mv in moves:
        if mv.radius <= 0:
            continue
        pts = _sample_move(mv, spacing)
        lift = mv.body.corner_radius if mv.body is not None else 0.0  # its full radius begins there
        for x, y, z0 in pts:
            if z0 >= part_top - tol:
                continue
            z = z0 + lift
            if lv:
                key = int(np.searchsorted(lv, z + 2 * tol, side="right")) - 1
            else:
                key = math.floor(z / band + 1e-9) if band > 0 else round(z * 1e4)
            groups.setdefault(key, []).append((x, y, mv.radius, mv.line))
    out: list[Violation] = []
    for key in sorted(groups):
        if lv:
            lo = lv[key] if key >= 0 else lv[0] - 1.0
            hi = lv[key + 1] if key + 1 < len(lv) else part_top
            z = (lo + hi) / 2 if hi > lo else lo + 2 * tol
        else:
            z = key * band + tol if band > 0 else key * 1e-4 + 2 * tol
        loops = []
        for outer, holes in section(z):
            loops.append(outer)
            loops.extend(holes)
        if not loops:
            continue
        polys = [np.array(loop_points(lp, 1e-3)) for lp in loops]  # even-odd only: see below
        segs = [sg for lp in loops for sg in lp]
        arr = np.array(groups[key])
        for chunk in range(0, len(arr), 20000):
            part = arr[chunk:chunk + 20000]
            px, py, pr = part[:, 0], part[:, 1], part[:, 2]
            inside = np.zeros(len(part), dtype=bool)
            for poly in polys:
                ax, ay = poly[:, 0][None, :], poly[:, 1][None, :]
                bx, by = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
                cond = (ay > py[:, None]) != (by > py[:, None])
                with np.errstate(divide="ignore", invalid="ignore"):
                    xc = ax + (py[:, None] - ay) * (bx - ax) / (by - ay)
                inside ^= (np.count_nonzero(cond & (xc > px[:, None]), axis=1) % 2).astype(bool)
            # exact distance to the lines and arcs; a point the coarse even-odd test puts on the
            # wrong side lies within 1 µm of the wall and is flagged by the distance anyway
            dmin = np.full(len(part), np.inf)
            for sg in segs:
                dmin = np.minimum(dmin, _seg_distance(sg, px, py))
            depth = np.where(inside, pr + dmin, pr - dmin)
            if (depth > tol).any():
                k = int(np.argmax(depth))
                out.append(Violation("gouge", int(part[k, 3]), float(part[k, 0]), float(part[k, 1]), float(depth[k])))
    return out


def _seg_distance(sg, px: np.ndarray, py: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    (ax, ay), (bx, by) = sg.a, sg.b
    ends = np.minimum(np.hypot(px - ax, py - ay), np.hypot(px - bx, py - by))
    if sg.c is None:
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        if ll <= 0:
            return ends
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / ll, 0.0, 1.0)
        return np.hypot(ax + t * dx - px, ay + t * dy - py)
    ox, oy = sg.c
    rad = math.dist(sg.a, sg.c)
    sweep = sg.sweep
    a0 = math.atan2(ay - oy, ax - ox)
    phi = np.arctan2(py - oy, px - ox) - a0
    rel = np.mod(phi, 2 * math.pi) if sweep >= 0 else np.mod(-phi, 2 * math.pi)
    within = rel <= abs(sweep) + 1e-12
    return np.where(within, np.abs(np.hypot(px - ox, py - oy) - rad), ends)


def _sample_move(mv: Move, spacing: float) -> list[tuple[float, float, float]]:
    (ax, ay, az), (bx, by, bz) = mv.a, mv.b
    if mv.center is None:
        n = max(1, math.ceil(math.dist(mv.a, mv.b) / spacing))
        return [(ax + (bx - ax) * k / n, ay + (by - ay) * k / n, az + (bz - az) * k / n) for k in range(n + 1)]
    ox, oy = mv.center
    rad = math.dist((ax, ay), mv.center)
    a0 = math.atan2(ay - oy, ax - ox)
    n = max(1, math.ceil(abs(mv.sweep) * rad / spacing))
    return [(ox + rad * math.cos(a0 + mv.sweep * k / n), oy + rad * math.sin(a0 + mv.sweep * k / n),
             az + (bz - az) * k / n) for k in range(n + 1)]


@dataclass(frozen=True)
class ThreadZone:
    """Where a thread is milled into the part on purpose.

    Within ``radius`` (the major radius) of a vertical axis at (x, y), from the hole's opening
    ``z_top`` down to ``z_bottom``: the bottom of the bore (incomplete turns may run below the
    full thread, never below the bore). The drawing's full thread ends at ``z_full``.
    ``inner`` is the bore's radius (the thread's crests): the thread's flanks fill the ring
    from it to ``radius``. ``faces``: the thread's faces (ids in the body).
    """

    x: float
    y: float
    radius: float
    z_bottom: float
    z_top: float
    z_full: float
    inner: float = math.inf
    faces: tuple[int, ...] = ()


def thread_zones(features: Sequence, approach: Sequence[float] = (0.0, 0.0, 1.0),  # type: ignore[type-arg]
                 turn: Callable[[Sequence[float]], tuple[float, float, float]] | None = None) -> list[ThreadZone]:
    """Thread zones of the internal threads in holes reached along ``approach``, from the features.

    A thread's zone is its major-diameter cylinder in its hole's bore; its full thread runs
    its length below the top of the main bore (under an entry counterbore), as the drawing
    calls it out. ``turn`` maps model coordinates to the setup's (default: +Z, unchanged).
    """
    from dfm.tooling.threadmill import entry_bore_top

    by_id = {f.id: f for f in features}
    out = []
    for f in features:
        hole = by_id.get(str(f.props.get("hole", "")))
        if f.kind != "thread" or hole is None or not f.props.get("internal", True) or hole.location_mm is None:
            continue
        axis = list(hole.props.get("approach") or hole.axis or ())
        if len(axis) != 3 or sum(a * b for a, b in zip(axis, approach, strict=True)) < 1 - 1e-6:
            continue
        major, length = f.dims.get("major_diameter_mm"), f.dims.get("length_mm") or hole.dims.get("depth_mm")
        if not major or not length:
            continue
        x, y, z_open = turn(hole.location_mm) if turn is not None else hole.location_mm
        depth = float(hole.props.get("drill_depth_mm", hole.dims["depth_mm"]))  # from the opening
        bottom = -math.inf if hole.props.get("through") else z_open - depth
        bore = float(hole.dims.get("diameter_mm", major)) / 2
        out.append(ThreadZone(x, y, major / 2, bottom, z_open, z_open - entry_bore_top(hole) - length,
                              min(bore, major / 2), tuple(f.faces)))
    return out


def cut_thread_zones(part: np.ndarray, grid: Grid, zones: Sequence[ThreadZone], part_bottom: float) -> np.ndarray:
    """The part's height field with every thread zone taken out (the column model of a threaded hole).

    A height map cannot hold the thread's crests (they overhang the grooves), so within the
    major radius the part's top becomes the thread's bottom, or nothing when the thread runs
    through the part's bottom. In the ring the flanks fill (from ``inner`` out) it is the
    thread's bottom whatever ``part`` says there, so the flanks need not be in ``part``
    (see :func:`dfm.kernel.sampling.height_field`'s ``skip``): only the bore's bottom shows
    inside the crests.
    """
    out = part.copy()
    cx, cy = np.meshgrid(grid.xs, grid.ys)
    for z in zones:
        rho = np.hypot(cx - z.x, cy - z.y)
        inside = rho <= z.radius
        low = z.z_bottom if z.z_bottom > part_bottom + 1e-9 else -np.inf  # through: nothing left
        out[inside] = np.minimum(out[inside], low)
        out[inside & (rho > z.inner)] = low
    return out


def threaded_section(section, zones: Sequence[ThreadZone]):  # type: ignore[no-untyped-def]
    """``section(z)`` with each thread's bore widened to its major diameter over the thread's length."""

    def cut(z: float):  # type: ignore[no-untyped-def]
        regions = section(z)
        live = [t for t in zones if t.z_bottom - 1e-9 <= z <= t.z_top + 1e-9]
        if not live:
            return regions
        return [(outer, widen_thread_holes(holes, live)) for outer, holes in regions]

    return cut


def widen_thread_holes(holes, live: Sequence[ThreadZone]):  # type: ignore[no-untyped-def]
    """Hole loops with each one that lies within a live thread zone replaced by the zone's major circle."""
    from dfm.cam.geom2d import circle, loop_points

    out = []
    for h in holes:
        pts = np.array(loop_points(h, 1e-3))
        for t in live:
            if np.all(np.hypot(pts[:, 0] - t.x, pts[:, 1] - t.y) <= t.radius + 1e-6):
                h = circle((t.x, t.y), t.radius)
                break
        out.append(h)
    return out
