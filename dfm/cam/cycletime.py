"""Cycle-time estimate: feed and rapid distances at the programmed rates, plus tool changes."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
