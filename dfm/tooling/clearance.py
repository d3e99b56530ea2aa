"""How much of a region with islands a roughing tool clears: the estimate the rough tool is sized by.

A pocket's width says how wide a tool fits between its walls, not between its walls and its
islands: two 2 x 2 islands in an 8 x 6 pocket leave channels 1.75-2 mm wide, and the Ø3 the
width allows clears none of it (the milling program then fell back to smaller tools that the
check never listed). The largest roughing tool is the one whose passes sweep most of the
floor: its centre keeps its radius plus the finishing allowance (and, over floor fillets, its
stand-off, :func:`fillet_standoff`) from every wall and island, and its disc round those
centres covers at least :data:`ROUGH_COVERAGE` of the floor.

On a grid (numpy, scipy's exact Euclidean distance transform) in the outline's own frame: the
outline is the floor face's, and with floor fillets of radius F the walls stand F outside it
(and F inside the islands' outlines), so a point's distance to the walls is its distance to the
floor's boundary plus F.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Share of the floor a roughing tool must sweep (the finishing tools take the rest: corners,
#: the narrowest gaps, the band the allowance and a stand-off leave along the walls).
ROUGH_COVERAGE = 0.9
#: Grid cells across the region's larger side (and the finest cell, mm).
CELLS = 400
MIN_STEP_MM = 0.002
#: A tool is judged on the grid only when its radius spans this many cells (in a region hundreds
#: of mm wide a cell is a couple of mm: a Ø3's share would be the grid's error, not the region's).
JUDGE_CELLS = 6

Poly = Sequence[Sequence[float]]


def fillet_standoff(fillet: float, corner: float, side: float = 0.0, bottom: float = 0.0) -> float:
    """How much farther than ``side`` from the walls a tool with corner radius ``corner`` stays off a floor fillet.

    The fillet (radius ``fillet``) is tangent to wall and floor; the tool's side is ``side`` +
    the result off the wall and its bottom ``bottom`` above the floor (a roughing pass leaves
    its allowance on the walls and takes its last level at the floor). Its corner's arc (centre
    ``corner`` in from its side and bottom) must lie within the fillet's (centre ``fillet`` off
    both): a corner as large as the fillet or larger needs nothing more; a square end mill on
    the floor stays ``fillet`` off the wall.
    """
    k = fillet - corner
    h = fillet - bottom - corner
    if k <= 1e-12 or h <= 0:
        return 0.0
    return max(k - math.sqrt(max(k * k - h * h, 0.0)) - side, 0.0)


class FloorGrid:
    """The floor of a region (its outline less its islands) on a grid, with each cell's distance to its boundary."""

    def __init__(self, outline: Poly, islands: Sequence[Poly] = ()) -> None:
        from scipy import ndimage

        pts = np.asarray(outline, dtype=float).reshape(-1, 2)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        self.step = max(max(x1 - x0, y1 - y0) / CELLS, MIN_STEP_MM)
        pad = 2 * self.step
        xs = np.arange(x0 - pad, x1 + pad + self.step, self.step)
        ys = np.arange(y0 - pad, y1 + pad + self.step, self.step)
        inside = _fill(pts, xs, ys)
        for isl in islands:
            inside &= ~_fill(np.asarray(isl, dtype=float).reshape(-1, 2), xs, ys)
        self.inside = inside
        # each cell centre's distance to the floor's boundary (half a cell: the boundary lies between cells)
        self.dist = np.where(inside, ndimage.distance_transform_edt(inside) * self.step - self.step / 2, 0.0)

    def judges(self, diameter: float) -> bool:
        """Whether the grid is fine enough to judge a tool of ``diameter`` (:data:`JUDGE_CELLS`)."""
        return diameter / 2 >= JUDGE_CELLS * self.step - 1e-12

    @property
    def area_cells(self) -> int:
        """How many cells the floor has."""
        return int(self.inside.sum())

    def coverage(self, radius: float, keep: float) -> float:
        """The share of the floor a disc of ``radius`` sweeps with its centre ``keep`` or more from the boundary."""
        from scipy import ndimage

        total = self.area_cells
        if total == 0:
            return 0.0
        # a cell holds a centre when its own centre lies within half a cell of one that keeps off (the cell's
        # distance is its centre's, less half a cell): a channel just wide enough has a line of centres that
        # grid rows pass beside, and copies of one pocket turned on the grid measured 0.82 and 0.89
        centres = self.inside & (self.dist >= keep - self.step / 2 - 1e-9)
        if not centres.any():
            return 0.0
        reach = ndimage.distance_transform_edt(~centres) * self.step <= radius + 1e-9
        return float((reach & self.inside).sum()) / total


def _fill(poly: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Cells (rows ys, columns xs) whose centres lie inside the closed polyline ``poly`` (even-odd)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    out = np.zeros((len(ys), len(xs)), dtype=bool)
    ay, by = a[:, 1][None, :], b[:, 1][None, :]
    y = ys[:, None]
    crosses = (ay <= y) != (by <= y)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (y - ay) / (by - ay)
        x = a[:, 0][None, :] + t * (b[:, 0] - a[:, 0])[None, :]
    x = np.where(crosses, x, np.inf)
    for i in range(len(ys)):
        row = np.sort(x[i][np.isfinite(x[i])])
        for lo, hi in zip(row[0::2], row[1::2], strict=False):
            out[i] |= (xs > lo) & (xs < hi)
    return out


def rough_coverage(grid: FloorGrid, diameter: float, corner: float, allowance: float, fillet: float) -> float:
    """The share of ``grid``'s floor a roughing tool sweeps (diameter, corner radius) that leaves ``allowance``.

    Its centre keeps its radius + the allowance + its stand-off over the floor's fillets (radius
    ``fillet``) from the walls, which stand ``fillet`` outside the floor's boundary.
    """
    r = diameter / 2
    keep = r + allowance + fillet_standoff(fillet, corner) - fillet
    return grid.coverage(r, keep)
