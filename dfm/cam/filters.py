"""Ordered filters over toolpath steps: each takes steps and returns new steps.

Order (``apply``): safe height → no plunge (a guard) → feeds and corner slow-down →
canned-cycle expansion (for posts without G83). Tool changes and spindle on/off are added
per program by :func:`sequence`, which also puts every tool change at the safe height and
hands the posts only arcs a controller accepts (:func:`postable_arcs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from dfm.cam.feeds import circular_engagement
from dfm.cam.geom2d import Seg, postable
from dfm.cam.model import Arc, Comment, CuttingData, DrillCycle, Feed, Operation, Rapid, Spindle, Step, Tool, ToolChange
from dfm.cam.strategies import CamError


def safe_height(steps: Sequence[Step], safe_z: float) -> list[Step]:
    """Every rapid that moves in X/Y does so at ``safe_z``; the operation starts from there."""
    out: list[Step] = []
    pos: tuple[float, float, float] | None = None
    for s in steps:
        if isinstance(s, Rapid):
            same_xy = pos is not None and math.hypot(s.x - pos[0], s.y - pos[1]) < 1e-9
            if not same_xy:
                if pos is not None and pos[2] < safe_z - 1e-9:
                    out.append(Rapid(pos[0], pos[1], safe_z))
                out.append(Rapid(s.x, s.y, safe_z))
                if abs(s.z - safe_z) > 1e-9:
                    out.append(s)
            else:
                out.append(s)
            pos = (s.x, s.y, s.z)
        elif isinstance(s, Feed | Arc):
            if pos is None:
                raise CamError("a toolpath starts with a cutting move instead of a positioning rapid")
            out.append(s)
            pos = (s.x, s.y, s.z)
        elif isinstance(s, DrillCycle):
            out.append(s)
            pos = (s.x, s.y, s.r)
        else:
            out.append(s)
    if pos is not None and pos[2] < safe_z - 1e-9:
        out.append(Rapid(pos[0], pos[1], safe_z))
    return out


def no_plunge(steps: Sequence[Step], tool: Tool) -> list[Step]:
    """Guard: an end mill never feeds straight down except a ``descend`` into cleared space.

    Raises:
        CamError: A vertical downward cutting move of an end mill, or a drill cycle with one.
    """
    is_drill = tool.cutter.kind == "drill"
    pos: tuple[float, float, float] | None = None
    for s in steps:
        if isinstance(s, Feed) and pos is not None and not is_drill:
            vertical = math.hypot(s.x - pos[0], s.y - pos[1]) < 1e-9
            if vertical and s.z < pos[2] - 1e-9 and s.role != "descend":
                raise CamError(f"plunge of end mill {tool.cutter.id} at X{s.x:.4f} Y{s.y:.4f} to Z{s.z:.4f}")
        if isinstance(s, DrillCycle) and not is_drill:
            raise CamError(f"drill cycle with end mill {tool.cutter.id}")
        if isinstance(s, Rapid | Feed | Arc):
            pos = (s.x, s.y, s.z)
    return list(steps)


def feeds(steps: Sequence[Step], cutting: CuttingData, tool: Tool, max_feed: float) -> list[Step]:
    """Set the feed of every cutting move, slower on concave arcs.

    Cutting is climb milling with the material on the right, so a counter-clockwise arc has
    the material outside it: the cutting edge travels faster than the tool centre by
    (R + r) / R, and the centre feed is cut by R / (R + r) to keep the chip load. Helical
    ramps (a helix into a hole or a pocket) get the same reduction as flat arcs. A lead-in
    (role ``lead``) gets the feed without the chip-thinning raise: it meets the wall head-on.
    Round a concave wall the raise is that of the arc's equivalent engagement
    (``feeds.circular_engagement``: a small corner or bore makes a thin wall pass a wide one).
    """
    base = min(cutting.feed_mm_min, max_feed)
    r = tool.radius
    d = 2 * r
    # a lead-in runs head-on into the wall's material, where a tooth takes the whole fz: no chip-thinning
    # raise (the feed was raised for the pass's thin side engagement ae, a lead's front meets full depth)
    ae = cutting.ae_mm
    lead = round(max(base / _thin(ae, d), 0.1), 1)
    out: list[Step] = []
    for s in steps:
        if isinstance(s, Feed):
            out.append(replace(s, feed=lead if s.role == "lead" else base))
        elif isinstance(s, Arc):
            f = base
            if s.ccw and s.role in ("cut", "ramp"):  # a helix's arcs too: the same edge speed-up
                rad = math.hypot(s.x - s.cx, s.y - s.cy)
                f = base * rad / (rad + r) if rad > 0 else base
                if rad > 0 and 0 < ae < d / 2:
                    # round a concave wall the tool meets the material over a wider angle than on a
                    # straight one: the chip-thinning raise is that of the arc's equivalent engagement
                    eq = circular_engagement(r, rad, rad + r - ae)
                    if eq > ae:
                        f *= _thin(eq, d) / _thin(ae, d)
            out.append(replace(s, feed=round(max(f, 0.1), 1)))
        elif isinstance(s, DrillCycle):
            out.append(replace(s, feed=base))
        else:
            out.append(s)
    return out


def _thin(ae: float, d: float) -> float:
    """The chip-thinning factor of ``feeds.cutting_data`` at radial engagement ``ae`` (1 from D/2 on)."""
    return d / (2.0 * math.sqrt(ae * (d - ae))) if 0 < ae < d / 2 else 1.0


def expand_drill_cycles(steps: Sequence[Step]) -> list[Step]:
    """Replace G83 by its moves (for controllers without canned cycles, e.g. grbl)."""
    out: list[Step] = []
    for s in steps:
        if not isinstance(s, DrillCycle):
            out.append(s)
            continue
        depth = s.r
        while depth > s.z + 1e-9:
            nxt = max(depth - s.peck, s.z)
            start = depth + min(0.02, s.r - depth) if depth < s.r else depth
            out.append(Rapid(s.x, s.y, start))
            out.append(Feed(s.x, s.y, nxt, "drill", s.feed))
            out.append(Rapid(s.x, s.y, s.r))
            depth = nxt
    return out


def postable_arcs(steps: Sequence[Step]) -> list[Step]:
    """Every arc as a controller will read it once posted, or its chords (never dropped).

    An arc is checked from where the step before it left the tool, the way a post writes it
    (:func:`dfm.cam.geom2d.arc_postable`: the radius, the end radius after rounding, a short
    arc that rounds to a full circle); one that fails becomes lines within 0.1 µm of it, z
    falling or rising along them as along the helix. The strategies already write arcs this
    way; this stage holds for any step list that reaches a post.
    """
    out: list[Step] = []
    pos: tuple[float, float, float] | None = None
    for s in steps:
        if isinstance(s, Arc) and pos is not None:
            seg = Seg((pos[0], pos[1]), (s.x, s.y), (s.cx, s.cy), s.ccw)
            pieces = postable(seg)
            if len(pieces) == 1 and pieces[0] is seg:
                out.append(s)
            else:
                total = sum(p.length for p in pieces)
                walked = 0.0
                for k, p in enumerate(pieces):
                    walked += p.length
                    last = k == len(pieces) - 1
                    z = s.z if last or total <= 0.0 else pos[2] + (s.z - pos[2]) * walked / total
                    out.append(Feed(s.x, s.y, s.z, s.role, s.feed) if last else Feed(p.b[0], p.b[1], z, s.role, s.feed))
        else:
            out.append(s)
        if isinstance(s, Rapid | Feed | Arc):
            pos = (s.x, s.y, s.z)
        elif isinstance(s, DrillCycle):
            pos = (s.x, s.y, s.r)
        elif isinstance(s, ToolChange):
            pos = None
    return out


def sequence(ops: Sequence[Operation], safe_z: float) -> list[Step]:
    """The setup's whole step list, spindle and tool changes included.

    Per operation: a comment, a tool change (spindle stopped first; every operation ends at
    the safe height) when the tool differs, the spindle speed, then its steps; the spindle
    stops at the end. Last, every arc is made one a controller reads as meant
    (:func:`postable_arcs`), whichever post writes it.
    """
    out: list[Step] = []
    current: Tool | None = None
    rpm: float | None = None
    for op in ops:
        out.append(Comment(f"{op.name}: {op.kind}, T{op.tool.number} {op.tool.cutter.id} "
                           f"D{op.tool.cutter.diameter_mm:g}, features {', '.join(op.features) or '-'}"))
        if current is None or current.number != op.tool.number:
            if rpm:
                out.append(Spindle(0))
            out.append(ToolChange(op.tool.number, op.tool.cutter.id))
            current, rpm = op.tool, None
        if rpm != op.cutting.rpm:
            out.append(Spindle(op.cutting.rpm))
            rpm = op.cutting.rpm
        out.extend(op.steps)
    if rpm:
        out.append(Spindle(0))
    return postable_arcs(out)
