"""Cycle-time estimate: feed and rapid distances at the programmed rates, plus tool changes."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dfm.cam.filters import expand_drill_cycles
from dfm.cam.geom2d import Seg
from dfm.cam.model import Arc, DrillCycle, Feed, Rapid, Step, ToolChange


def move_length(p: tuple[float, float, float], s: Rapid | Feed | Arc) -> float:
    """Path length of one move from ``p``."""
    if isinstance(s, Arc):
        seg = Seg((p[0], p[1]), (s.x, s.y), (s.cx, s.cy), s.ccw)
        xy = seg.length if math.dist((p[0], p[1]), (s.x, s.y)) > 1e-9 else 2 * math.pi * seg.radius
        return math.hypot(xy, s.z - p[2])
    return math.dist(p, (s.x, s.y, s.z))


def estimate(steps: Sequence[Step], start: tuple[float, float, float], rapid_mm_min: float,
             tool_change_s: float) -> tuple[float, tuple[float, float, float]]:
    """Seconds to run ``steps`` from ``start``; returns (seconds, end position)."""
    t = 0.0
    p = start
    flat: list[Step] = []
    for s in steps:
        flat.extend(expand_drill_cycles([s]) if isinstance(s, DrillCycle) else [s])
    for s in flat:
        if isinstance(s, ToolChange):
            t += tool_change_s
        elif isinstance(s, Rapid | Feed | Arc):
            length = move_length(p, s)
            rate = rapid_mm_min if isinstance(s, Rapid) else (s.feed or rapid_mm_min)
            t += length / rate * 60.0
            p = (s.x, s.y, s.z)
    return t, p


_CANON = re.compile(r"^\s*\d+\s+N\S*\s+([A-Z_]+)\((.*)\)\s*$")


@dataclass(frozen=True)
class CanonTime:
    """Seconds of a program as ``rs274`` interpreted it: feed moves, rapids, tool changes."""

    feed_s: float
    rapid_s: float
    tool_changes: int
    feed_mm: float
    rapid_mm: float

    def total(self, tool_change_s: float = 0.0) -> float:
        """Motion time plus ``tool_change_s`` per tool change."""
        return self.feed_s + self.rapid_s + self.tool_changes * tool_change_s


def canon_time(text: str, rapid_mm_min: float) -> CanonTime:
    """Time the canonical calls ``rs274`` prints, with the model of :func:`estimate`.

    Every feed move (``STRAIGHT_FEED``, ``ARC_FEED``, helices included: the length of the
    helix) runs at the last ``SET_FEED_RATE`` (mm/min), every ``STRAIGHT_TRAVERSE`` at
    ``rapid_mm_min``, with no acceleration; each ``CHANGE_TOOL`` is counted. The interpreter
    starts at the origin, so the first move only positions the tool and is not timed. Any
    program (dfm's or another CAM system's) read through rs274 is timed the same way.
    """
    feed = 0.0
    pos: tuple[float, float, float] | None = None
    feed_s = rapid_s = feed_mm = rapid_mm = 0.0
    changes = 0
    for raw in text.splitlines():
        m = _CANON.match(raw)
        if not m:
            continue
        name, args = m.group(1), m.group(2)
        if name == "SET_FEED_RATE":
            feed = float(args.split(",")[0])
        elif name == "CHANGE_TOOL":
            changes += 1
        elif name in ("STRAIGHT_TRAVERSE", "STRAIGHT_FEED", "ARC_FEED"):
            v = [float(x) for x in args.split(",")]
            if name == "ARC_FEED":
                end = (v[0], v[1], v[5])
            else:
                end = (v[0], v[1], v[2])
            if pos is not None:
                if name == "ARC_FEED":
                    turns = int(v[4])
                    seg = Seg((pos[0], pos[1]), (end[0], end[1]), (v[2], v[3]), turns > 0)
                    full = 2 * math.pi * seg.radius
                    xy = (seg.length if math.dist((pos[0], pos[1]), (end[0], end[1])) > 1e-9 else full)
                    xy += (abs(turns) - 1) * full
                    length = math.hypot(xy, end[2] - pos[2])
                else:
                    length = math.dist(pos, end)
                if name == "STRAIGHT_TRAVERSE":
                    rapid_s += length / rapid_mm_min * 60.0
                    rapid_mm += length
                else:
                    if feed <= 0:
                        raise ValueError(f"feed move with no feed rate: {raw.strip()}")
                    feed_s += length / feed * 60.0
                    feed_mm += length
            pos = end
    return CanonTime(feed_s, rapid_s, changes, feed_mm, rapid_mm)
