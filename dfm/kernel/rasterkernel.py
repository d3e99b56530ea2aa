"""Compiled triangle rasteriser for the part's height field (numba).

Each triangle raises the cells whose centres it covers (barycentric test, the same formula
and tolerance as the numpy version it replaced) to its height there: the top of the part
seen from +Z. One pass over the triangles, no temporary arrays.
"""

from __future__ import annotations

import math

from numba import njit

#: Unit roundoff of a double, doubled and more (the margins below use multiples of it).
_U = 2.0 ** -50


@njit(cache=True, fastmath=False)
def _bound(a, b, e, eps):  # type: ignore[no-untyped-def]
    """For ``a t + b >= eps - e`` (real arithmetic, a != 0): (is it t's lower bound, the bound, its rounding)."""
    t = (eps - e - b) / a
    return a > 0.0, t, 64.0 * _U * ((abs(b) + abs(eps) + e) / abs(a) + abs(t))


@njit(cache=True, fastmath=False)
def raster(field, v, x0, y0, step):  # type: ignore[no-untyped-def]
    """Raise ``field`` (ny, nx) to every triangle of ``v`` (n, 3, 3) over the cell centres it covers.

    Each row of a triangle's box is tested only over the span of cells its test can pass: the
    barycentric coordinates are affine along the row, and their rounding is bounded over the
    box (``e1``..``e3``), so a cell whose exact coordinates fall short by more than that (plus
    the bound's own rounding and two cells) cannot pass; the cells in the span get the same
    test, with the same arithmetic, as all cells of the box did. A long thin triangle of a
    face fanned round holes no longer tests its whole box (micro_holes at 10 um: 24 M cells
    tested for 1.4 M).
    """
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
        if i1 < i0 or j1 < j0:
            continue
        # l1 = (A1 (px - cx) + B1 (py - cy)) / det, l2 likewise, l3 = 1 - l1 - l2: their rounding over the box
        a1_ = by - cy
        b1_ = cx - bx
        a2_ = cy - ay
        b2_ = ax - cx
        wx = max(abs(x0 + (i0 + 0.5) * step - cx), abs(x0 + (i1 + 0.5) * step - cx)) + 2.0 * step
        wy = max(abs(y0 + (j0 + 0.5) * step - cy), abs(y0 + (j1 + 0.5) * step - cy)) + 2.0 * step
        ad = abs(det)
        big1 = (abs(a1_) * wx + abs(b1_) * wy) / ad
        big2 = (abs(a2_) * wx + abs(b2_) * wy) / ad
        e1 = 16.0 * _U * (big1 + 1.0)
        e2 = 16.0 * _U * (big2 + 1.0)
        e3 = e1 + e2 + 16.0 * _U * (1.0 + big1 + big2)
        s1 = a1_ / det  # the slopes along a row
        s2 = a2_ / det
        s3 = -(s1 + s2)
        ok3 = abs(s3) > 1e-6 * (abs(s1) + abs(s2))  # else l3 is about flat along rows: no bound from it
        for j in range(j0, j1 + 1):
            py = y0 + (j + 0.5) * step
            lo = -math.inf
            hi = math.inf
            slack = 2.0 * step
            q1 = b1_ * (py - cy) / det
            q2 = b2_ * (py - cy) / det
            if s1 != 0.0:
                low, t, m = _bound(s1, q1, e1, eps)
                if low:
                    lo = max(lo, t - m)
                else:
                    hi = min(hi, t + m)
            if s2 != 0.0:
                low, t, m = _bound(s2, q2, e2, eps)
                if low:
                    lo = max(lo, t - m)
                else:
                    hi = min(hi, t + m)
            if ok3:
                q3 = 1.0 - q1 - q2
                low, t, m = _bound(s3, q3, e3, eps)
                # the slope's own rounding (relative 4u of |s1| + |s2| over |s3|) moves the bound by that much of t
                m += 64.0 * _U * (abs(t) + (1.0 + abs(q1) + abs(q2)) / abs(s3)) * (abs(s1) + abs(s2)) / abs(s3)
                if low:
                    lo = max(lo, t - m)
                else:
                    hi = min(hi, t + m)
            ia = i0
            ib = i1
            if lo > -math.inf:
                f = (cx + lo - slack - x0) / step - 0.5
                if f > ia:
                    ia = min(int(math.floor(f)), i1 + 1)
            if hi < math.inf:
                f = (cx + hi + slack - x0) / step - 0.5
                if f < ib:
                    ib = max(int(math.ceil(f)), i0 - 1)
            for i in range(ia, ib + 1):
                px = x0 + (i + 0.5) * step
                l1 = ((by - cy) * (px - cx) + (cx - bx) * (py - cy)) / det
                l2 = ((cy - ay) * (px - cx) + (ax - cx) * (py - cy)) / det
                l3 = 1.0 - l1 - l2
                if l1 >= eps and l2 >= eps and l3 >= eps:
                    z = l1 * az + l2 * bz + l3 * cz
                    if z > field[j, i]:
                        field[j, i] = z
