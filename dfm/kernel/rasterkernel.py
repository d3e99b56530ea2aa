"""Compiled triangle rasteriser for the part's height field (numba).

Each triangle raises the cells whose centres it covers (barycentric test, the same formula
and tolerance as the numpy version it replaced) to its height there: the top of the part
seen from +Z. One pass over the triangles, no temporary arrays.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, fastmath=False)
def raster(field, v, x0, y0, step):  # type: ignore[no-untyped-def]
    """Raise ``field`` (ny, nx) to every triangle of ``v`` (n, 3, 3) over the cell centres it covers."""
    ny, nx = field.shape
    eps = -1e-12
    for n in range(v.shape[0]):
        ax, ay, az = v[n, 0, 0], v[n, 0, 1], v[n, 0, 2]
        bx, by, bz = v[n, 1, 0], v[n, 1, 1], v[n, 1, 2]
        cx, cy, cz = v[n, 2, 0], v[n, 2, 1], v[n, 2, 2]
        det = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
        if abs(det) < 1e-14:
            continue  # vertical triangle: no top surface
        i0 = max(int(math.floor((min(ax, bx, cx) - x0) / step - 0.5)), 0)
        i1 = min(int(math.ceil((max(ax, bx, cx) - x0) / step - 0.5)), nx - 1)
        j0 = max(int(math.floor((min(ay, by, cy) - y0) / step - 0.5)), 0)
        j1 = min(int(math.ceil((max(ay, by, cy) - y0) / step - 0.5)), ny - 1)
        for j in range(j0, j1 + 1):
            py = y0 + (j + 0.5) * step
            for i in range(i0, i1 + 1):
                px = x0 + (i + 0.5) * step
                l1 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / det
                l2 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / det
                l3 = 1.0 - l1 - l2
                if l1 >= eps and l2 >= eps and l3 >= eps:
                    z = l1 * az + l2 * bz + l3 * cz
                    if z > field[j, i]:
                        field[j, i] = z
