"""Shared helpers of the CAM tests: a synthetic part (features per docs/features.md)."""

from __future__ import annotations

import math

from dfm.model import Feature


def rounded_rect(cx: float, cy: float, w: float, h: float, r: float, n: int = 8) -> list[list[float]]:
    """Closed outline (CCW) of a w×h rectangle with corner radius r, arcs as n chords."""
    pts = []
    corners = [(cx + w / 2 - r, cy - h / 2 + r, -90), (cx + w / 2 - r, cy + h / 2 - r, 0),
               (cx - w / 2 + r, cy + h / 2 - r, 90), (cx - w / 2 + r, cy - h / 2 + r, 180)]
    for x, y, a0 in corners:
        for k in range(n + 1):
            a = math.radians(a0 + 90 * k / n)
            pts.append([round(x + r * math.cos(a), 9), round(y + r * math.sin(a), 9)])
    return pts


def synthetic_features() -> list[Feature]:
    """A 3 x 2 mm pocket 0.5 deep (R0.3 corners) and a Ø1.0 through hole, on a 8 x 4 x 2 block."""
    up = [0.0, 0.0, 1.0]
    pocket = Feature("pocket-1", "pocket", (1, 2), {"width_mm": 2.0, "length_mm": 3.0, "depth_mm": 0.5,
                                                     "min_corner_radius_mm": 0.3, "floor_radius_mm": 0.0},
                     {"approach": up, "open": False, "through": False, "floor": "flat", "floor_z_mm": 1.5,
                      "top_z_mm": 2.0, "outline": rounded_rect(-0.5, 0.0, 3.0, 2.0, 0.3), "islands": []},
                     (-0.5, 0.0, 1.5), (0.0, 0.0, 1.0))
    hole = Feature("hole-1", "hole", (3,), {"diameter_mm": 1.0, "depth_mm": 2.0, "total_depth_mm": 2.0},
                   {"through": True, "bottom": "through", "approach": up, "stack": [], "drill_depth_mm": 2.0},
                   (2.5, 0.0, 2.0), (0.0, 0.0, 1.0))
    return [pocket, hole]


BBOX_MIN = (-3.0, -2.0, 0.0)
BBOX_MAX = (5.0, 2.0, 2.0)
