"""Compiled inner loops of the height-map simulation (numba).

One call sweeps one move over the cells of its box: the lowest height of the tool's cutting
end over each cell centre, the stock lowered to it, and the worst rapid/spindle-off removal
and the deepest gouge with their cells. The arithmetic is that of the numpy formulas it
replaced (``sim._lowest``, ``_lowest_arc``, ``_lowest_body``), cell by cell, so results are
the same; it only avoids a dozen temporary arrays per move. ``cache=True`` keeps the
compiled code next to the module, so a process pays the compile once per installation.

Move kinds: 0 a straight flat-end move, 1 a flat arc, 2 a straight drill (cone) move,
3 a drill on a flat arc, 4 a flat end on a helical arc (swept exactly, see ``_helix``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

_TWO_PI = 2.0 * math.pi
#: A cell a move lowers by more than this (mm) is material the move cut (for its engagement).
ENGAGED_MM = 1e-4
#: A rapid (or a feed with the spindle off) meets material only where it lies this far (0.1 um)
#: inside its radius. An arc is swept at its start's radius about the centre as posted, so its
#: modelled end lies a few nm from the end the next move starts at: a cell on the rim of the
#: disc it left is cut by one and not the other (random part 9069: a retract straight up from the
#: end of a helix "met" 0.13 mm of wedge at a cell 3 nm inside the D1.2's rim, 4 nm outside the
#: helix's modelled end disc). The guard's tolerance is 1 um.
RAPID_RIM_MM = 1e-4
#: A flat end mill fed straight down (no ramp, no helix) may meet this much stock (mm): a finish
#: pass's descent onto the roughing's floor allowance (0.02 mm). Deeper, its centre, where the
#: edges do not cut, is pushed into the stock: the guard refuses it.
PLUNGE_MM = 0.03


@njit(cache=True, fastmath=False)
def _flat_line_at(x, y, ax, ay, bx, by, r):  # type: ignore[no-untyped-def]
    """Where a flat end of radius r on a line passes over (x, y), from its plan alone (:func:`_flat_line`).

    (0, _, _): it does not; (1, _, _): its lowest tip, min(az, bz) (a move along Z); (2, lo, hi): from
    ``lo`` to ``hi`` of the way.
    """
    dx = bx - ax
    dy = by - ay
    qa = dx * dx + dy * dy
    rx = x - ax
    ry = y - ay
    c0 = rx * rx + ry * ry - r * r
    if qa < 1e-18:
        return (1, 0.0, 0.0) if c0 <= 0 else (0, 0.0, 0.0)
    qb = -2.0 * (rx * dx + ry * dy)
    disc = qb * qb - 4 * qa * c0
    if disc < 0:
        return 0, 0.0, 0.0
    sq = math.sqrt(disc)
    t1 = (-qb - sq) / (2 * qa)
    t2 = (-qb + sq) / (2 * qa)
    if t2 < 0.0 or t1 > 1.0:
        return 0, 0.0, 0.0
    return 2, min(max(t1, 0.0), 1.0), min(max(t2, 0.0), 1.0)


@njit(cache=True, fastmath=False)
def _flat_line(x, y, ax, ay, az, bx, by, bz, r):  # type: ignore[no-untyped-def]
    where, lo, hi = _flat_line_at(x, y, ax, ay, bx, by, r)
    if where == 0:
        return np.inf
    if where == 1:
        return min(az, bz)
    return min(az + (bz - az) * lo, az + (bz - az) * hi)


@njit(cache=True, fastmath=False)
def _arc_covers(x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep, r):  # type: ignore[no-untyped-def]
    if math.hypot(x - ax, y - ay) <= r or math.hypot(x - bx, y - by) <= r:
        return True
    rho = math.hypot(x - ox, y - oy)
    if abs(rho - rad) > r:
        return False
    if abs(sweep) >= _TWO_PI - 1e-12:
        return True
    phi = math.atan2(y - oy, x - ox) - a0
    if sweep >= 0:
        return phi % _TWO_PI <= sweep + 1e-12
    return (-phi) % _TWO_PI <= -sweep + 1e-12


@njit(cache=True, fastmath=False)
def _helix_at(x, y, down, ox, oy, rad, a0, sweep, r):  # type: ignore[no-untyped-def]
    """Where a flat end of radius r on a helical arc is lowest over (x, y), from its plan alone (:func:`_helix`).

    (0, _): it does not pass; (1, _): at its lowest tip, min(az, bz); (2, share): ``share`` (u / big)
    of the way, for a descent (``down``) or an ascent.
    """
    dx = x - ox
    dy = y - oy
    rho = math.hypot(dx, dy)
    big = abs(sweep)
    if rho * rad <= 1e-15 or big <= 1e-15:  # a cell on the axis, a zero-radius or zero-sweep arc
        d = abs(rho - rad) if big > 1e-15 else math.hypot(x - (ox + rad * math.cos(a0)), y - (oy + rad * math.sin(a0)))
        return (1, 0.0) if d <= r else (0, 0.0)
    k = (rho * rho + rad * rad - r * r) / (2.0 * rho * rad)
    if k > 1.0:
        return 0, 0.0
    if k <= -1.0:
        return 1, 0.0
    half = math.acos(k)
    g0 = (a0 - math.atan2(dy, dx)) if sweep >= 0 else (math.atan2(dy, dx) - a0)
    if down:  # descending: the largest covered u in [0, big]
        m = math.floor((big + half + g0) / _TWO_PI)
        hi = _TWO_PI * m + half - g0
        lo = _TWO_PI * m - half - g0
        if hi < 0.0 or lo > big:
            return 0, 0.0
        u = min(hi, big)
    else:  # ascending: the smallest covered u
        m = math.ceil((g0 - half) / _TWO_PI)
        lo = _TWO_PI * m - half - g0
        hi = _TWO_PI * m + half - g0
        if lo > big or hi < 0.0:
            return 0, 0.0
        u = max(lo, 0.0)
    return 2, u / big


@njit(cache=True, fastmath=False)
def _helix(x, y, az, bz, ox, oy, rad, a0, sweep, r):  # type: ignore[no-untyped-def]
    """Lowest tip of a flat end of radius r on a helical arc over (x, y) (inf if it does not pass).

    The centre runs o + rad (cos, sin)(a0 + sweep t), its tip z = az + (bz - az) t, t in [0, 1].
    (x, y) is covered at t iff the centre's angle is within ``half`` of the cell's (law of
    cosines); those t form intervals 2 pi apart along the sweep; z is linear in t, so the
    lowest tip over (x, y) is at the last covered t of a descent (the first of an ascent).
    Exact: no chords.
    """
    where, share = _helix_at(x, y, bz <= az, ox, oy, rad, a0, sweep, r)
    if where == 0:
        return np.inf
    if where == 1:
        return min(az, bz)
    return az + (bz - az) * share


@njit(cache=True, fastmath=False)
def lowest(kind, x, y, ax, ay, az, bx, by, bz, radius, shrink, ox, oy, rad, a0, sweep, cot):  # type: ignore[no-untyped-def]
    """Lowest height of the cutting end over (x, y), shrunk by ``shrink`` (inf if it does not pass)."""
    r = radius - shrink
    if kind == 0:
        return _flat_line(x, y, ax, ay, az + shrink, bx, by, bz + shrink, r)
    if kind == 1:
        return az + shrink if _arc_covers(x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep, r) else np.inf
    if kind == 4:
        return _helix(x, y, az + shrink, bz + shrink, ox, oy, rad, a0, sweep, r)
    if kind == 2:
        dx = bx - ax
        dy = by - ay
        ll = dx * dx + dy * dy
        if ll > 1e-18:
            t = min(max(((x - ax) * dx + (y - ay) * dy) / ll, 0.0), 1.0)
            base = az + (bz - az) * t
        else:
            t = 0.0
            base = min(az, bz)
        d = math.hypot(ax + t * dx - x, ay + t * dy - y)
    else:
        if not _arc_covers(x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep, r):
            return np.inf
        d = min(abs(math.hypot(x - ox, y - oy) - rad), min(math.hypot(x - ax, y - ay), math.hypot(x - bx, y - by)))
        base = az
    if d <= r:
        return base + shrink + d * cot
    return np.inf


@njit(cache=True, fastmath=False)
def corner_drop(d, r, corner):  # type: ignore[no-untyped-def]
    """Height above its tip of a corner-radius end's bottom at distance ``d`` from its axis (inf beyond ``r``)."""
    if d > r:
        return np.inf
    e = d - (r - corner)
    if e <= 0.0:
        return 0.0
    return corner - math.sqrt(max(corner * corner - e * e, 0.0))


@njit(cache=True, fastmath=False)
def path_distance(kind, x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep):  # type: ignore[no-untyped-def]
    """Distance in XY from (x, y) to the move's path: the cutting end covers (x, y) iff it is ≤ r."""
    if kind == 0 or kind == 2:
        dx = bx - ax
        dy = by - ay
        ll = dx * dx + dy * dy
        if ll <= 1e-18:
            return math.hypot(x - ax, y - ay)
        t = min(max(((x - ax) * dx + (y - ay) * dy) / ll, 0.0), 1.0)
        return math.hypot(ax + t * dx - x, ay + t * dy - y)
    ends = min(math.hypot(x - ax, y - ay), math.hypot(x - bx, y - by))
    if abs(sweep) < _TWO_PI - 1e-12:
        phi = math.atan2(y - oy, x - ox) - a0
        rel = phi % _TWO_PI if sweep >= 0 else (-phi) % _TWO_PI
        if rel > abs(sweep) + 1e-12:
            return ends
    return min(abs(math.hypot(x - ox, y - oy) - rad), ends)


@njit(cache=True, fastmath=False)
def _arc_lateral(x, y, ox, oy, rad, a0, sweep):  # type: ignore[no-untyped-def]
    """(distance of (x, y) across an arc's path, its radius from the centre; 0 outside the sweep).

    Within the arc's angular span the distance is |rho - rad|; a point beyond either end (the
    tool's disc there) is measured across the tangent at the nearer end, where the tool meets it.
    """
    dx = x - ox
    dy = y - oy
    rho = math.hypot(dx, dy)
    big = abs(sweep)
    if big >= _TWO_PI - 1e-12:
        return abs(rho - rad), rho
    phi = math.atan2(dy, dx) - a0
    rel = phi % _TWO_PI if sweep >= 0 else (-phi) % _TWO_PI
    if rel <= big:
        return abs(rho - rad), rho
    # past the end by rel - big, before the start by 2 pi - rel: the nearer end's tangent
    a = a0 + sweep if rel - big <= _TWO_PI - rel else a0
    return abs(dx * math.cos(a) + dy * math.sin(a) - rad), 0.0


@njit(cache=True, fastmath=False)
def _off_chord(x, y, ax, ay, dx, dy, ll, reach):  # type: ignore[no-untyped-def]
    """True if (x, y) is farther than ``reach`` from the segment from (ax, ay) by (dx, dy) (``ll``: dx² + dy²)."""
    t = 0.0
    if ll > 0.0:
        t = min(max(((x - ax) * dx + (y - ay) * dy) / ll, 0.0), 1.0)
    px = ax + t * dx - x
    py = ay + t * dy - y
    return px * px + py * py > reach * reach


@njit(cache=True, fastmath=False)
def _span_side(vx, vy, m, full, small, sx, sy, ex, ey):  # type: ignore[no-untyped-def]
    """1 if (vx, vy) is surely within an arc's sweep, -1 if surely not, 0 when too near an end to tell.

    The sweep runs counter-clockwise from (sx, sy) to (ex, ey); ``m``: the margin of the cross
    products against the ends' directions.
    """
    if full:
        return 1
    if small:  # a wedge of at most pi: within iff left of the start and right of the end
        c1 = sx * vy - sy * vx
        c2 = vx * ey - vy * ex
        if c1 > m and c2 > m:
            return 1
        if c1 < -m or c2 < -m:
            return -1
        return 0
    c1 = ex * vy - ey * vx  # past pi: outside iff within the other wedge (from the end to the start)
    c2 = vx * sy - vy * sx
    if c1 > m and c2 > m:
        return -1
    if c1 < -m or c2 < -m:
        return 1
    return 0


@njit(cache=True)
def _record(viol, nv, kind, k, i, j, amount):  # type: ignore[no-untyped-def]
    """Row ``nv`` of the violations (kind, move, i, j, amount), the array doubled when full; (array, nv + 1)."""
    if nv + 1 > viol.shape[0]:
        more = np.empty((2 * viol.shape[0], 5))
        more[:nv] = viol[:nv]
        viol = more
    viol[nv, 0] = kind
    viol[nv, 1] = k
    viol[nv, 2] = i
    viol[nv, 3] = j
    viol[nv, 4] = amount
    return viol, nv + 1


@njit(cache=True, fastmath=False)
def _move_distance(kind, x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep, full, small, sx, sy, ex, ey):  # type: ignore[no-untyped-def]
    """:func:`path_distance`, an arc's without its atan2 where the cell is surely within or beyond its sweep."""
    if kind == 0 or kind == 2:
        return path_distance(kind, x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep)
    lx = x - ox
    ly = y - oy
    rs = math.sqrt(lx * lx + ly * ly)
    side = _span_side(lx, ly, 1e-9 * rs, full, small, sx, sy, ex, ey)
    if side > 0:
        return abs(rs - rad)
    if side < 0:
        return min(math.hypot(x - ax, y - ay), math.hypot(x - bx, y - by))
    return path_distance(kind, x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep)


@njit(cache=True)
def tile_max(a, tile):  # type: ignore[no-untyped-def]
    """Max of ``a`` over each tile x tile block (the bound that lets whole blocks be skipped)."""
    ny, nx = a.shape
    out = np.full(((ny + tile - 1) // tile, (nx + tile - 1) // tile), -np.inf)
    for j in range(ny):
        for i in range(nx):
            if a[j, i] > out[j // tile, i // tile]:
                out[j // tile, i // tile] = a[j, i]
    return out


@njit(cache=True, fastmath=False)
def cut(height, part, hmax, pmax, tile, x0, y0, step, i0, i1, j0, j1, watch, tol, zmin,  # type: ignore[no-untyped-def]
        kind, ax, ay, az, bx, by, bz, radius, ox, oy, rad, a0, sweep, cot, corner, memo, memo_at, memo_share,
        memo_share2, memo_rim, memo_i0, memo_j0, memo_w):
    """Sweep the cutting end over cells [j0:j1, i0:i1]: lower ``height``, find what went wrong.

    ``corner``: the end's corner radius (a ball's is its radius). On a move at one height (a flat
    line or arc) the end is that torus, exactly (:func:`corner_drop` at each cell's distance from
    the path); on any other move it is taken as flat, which reaches lower everywhere: no gouge
    missed, and only a corner's sliver of stock taken as cut.

    Returns (worst removal above 0, its i, j) when ``watch`` (a rapid or a spindle-off feed)
    and (deepest gouge: the part's top above the end shrunk by ``tol``, i, j), −inf when
    there is none; then the move's **engagement**: the smallest distance from the path (XY)
    of a cell it cut more than :data:`ENGAGED_MM` deep (inf: it cut nothing, or it is a
    plunge or a drill) and, for an arc, the largest distance from the arc's centre of such a
    cell (0 for a line). ``hmax`` and ``pmax`` hold the max of ``height`` and ``part`` per
    block of ``tile`` cells (``hmax`` is kept an upper bound as the stock is cut): a block the
    end cannot reach, or whose stock and part lie below the end, is skipped whole; a block
    the end covers whole at one height is lowered without the per-cell geometry.

    ``memo`` (a helical arc or a sloped line whose plan recurs, :func:`sweep_moves`): where
    over each cell of the box from (``memo_i0``, ``memo_j0``), ``memo_w`` cells wide, the end
    is lowest, as :func:`_helix_at` or :func:`_flat_line_at` and the tests before them decide
    it, kept in ``memo_at`` (-1: not yet; 0: it does not pass; 1: its lowest tip; 3: its last
    point; 2: ``memo_share`` of the way, a line's least of that and ``memo_share2``), and a
    corner's drop there (``memo_rim``, NaN: not yet), since they depend on the plan only: the
    next lap's cells need no acos, atan2 or root.
    """
    worst = -np.inf
    wi = -1
    wj = -1
    deepest = -np.inf
    gi = -1
    gj = -1
    flat = kind == 1 or (kind == 0 and az == bz)
    rounded = flat and corner > 0.0
    # any other move of a corner-radius end: the flat end's envelope, or the torus at the move's lowest
    # point and the cell's least distance from the path, whichever is higher (both are at or below the
    # torus's envelope: a vertical move's is the second, exactly)
    bounded = corner > 0.0 and not rounded and (kind == 0 or kind == 4)
    core = radius - corner  # the flat part of the end (a cell farther than this from the path meets its corner)
    g_r = radius - tol  # the end shrunk by tol (a torus: its corner shrinks, its flat part stays)
    g_c = max(corner - tol, 0.0)
    near = np.inf
    far = 0.0
    e_far2 = -1.0  # an arc's cell moves far only past this squared radius, near only between these two
    e_in2 = -1.0
    e_out2 = np.inf
    length = math.hypot(bx - ax, by - ay)
    engage = kind == 1 or kind == 4 or (kind == 0 and length > 1e-12)
    tx = (bx - ax) / length if length > 1e-12 else 0.0
    ty = (by - ay) / length if length > 1e-12 else 0.0
    # a cell at or below this cannot be lowered (the end's tip never goes below zmin; 1 nm for the
    # rounding of a slope's interpolation) nor be cut by a rapid: it is left as it is
    zskip = zmin if flat else zmin - 1e-9
    # a helical arc's cells within r - rad of its axis are under the end all along (at its lowest
    # tip), those beyond r + rad (or within rad - r) never: ``_helix`` without its acos and atan2,
    # decided on the squared distance with 1e-9 mm2 to spare (far more than its rounding)
    h_in = -1.0
    h_out = np.inf
    h_hole = -1.0
    if kind == 4 and abs(sweep) > 1e-15:
        if radius > rad:
            h_in = (radius - rad) * (radius - rad) - 1e-9
        else:
            h_hole = (rad - radius) * (rad - radius) - 1e-9
        h_out = (radius + rad) * (radius + rad) + 1e-9
    zlow = min(az + 0.0, bz + 0.0)  # as lowest() gives it (shrink 0)
    cs0 = math.cos(a0)  # an arc's ends' radial directions (as _arc_lateral computes them)
    sn0 = math.sin(a0)
    cs1 = math.cos(a0 + sweep)
    sn1 = math.sin(a0 + sweep)
    g_out = (radius - tol + rad) * (radius - tol + rad) + 1e-9  # the same for the end shrunk by tol
    # a helix of at most half a turn: its centre stays within the sagitta of the chord between its
    # ends, so a cell farther than r + sagitta (+ 1 nm) from that chord is never under the end
    chord = kind == 4 and 1e-15 < abs(sweep) <= math.pi
    c_ax = ox + rad * cs0 if chord else 0.0
    c_ay = oy + rad * sn0 if chord else 0.0
    c_dx = (ox + rad * cs1) - c_ax if chord else 0.0
    c_dy = (oy + rad * sn1) - c_ay if chord else 0.0
    c_ll = c_dx * c_dx + c_dy * c_dy
    sag = rad * (1.0 - math.cos(0.5 * abs(sweep))) + 1e-9
    g_hole = (rad - radius + tol) * (rad - radius + tol) - 1e-9 if rad > radius - tol else -1.0
    # the end where the tip is lowest (a descent's last, an ascent's first): a cell well inside its
    # disc is passed lowest there, by the same arithmetic as _flat_line's and _helix's (no sqrt, no
    # acos or atan2); 1e-9 mm2 to spare, far more than their rounding, and none for a cell _helix
    # takes as on its axis or under the end all along (the inner disc, decided above)
    end_r2 = radius * radius - 1e-9
    down = bz + 0.0 <= az + 0.0
    end_ok = False
    ex = 0.0
    ey = 0.0
    z_end = 0.0
    e_in = -1.0
    if kind == 0:
        ddx = bx - ax
        ddy = by - ay
        end_ok = ddx * ddx + ddy * ddy >= 1e-18  # _flat_line's non-degenerate case
        ex = bx if down else ax
        ey = by if down else ay
        z_end = (az + 0.0) + ((bz + 0.0) - (az + 0.0)) * (1.0 if down else 0.0)
    elif kind == 4 and abs(sweep) > 1e-15 and rad > 1e-7:
        end_ok = True
        ea = a0 + sweep if down else a0
        ex = ox + rad * math.cos(ea)
        ey = oy + rad * math.sin(ea)
        big = abs(sweep)
        z_end = (az + 0.0) + ((bz + 0.0) - (az + 0.0)) * ((big if down else 0.0) / big)
        e_in = (radius - rad) * (radius - rad) + 1e-9 if radius > rad else 1e-9 / (rad * rad)
    if rounded:
        end_ok = False  # the end's disc is not flat to its rim
    span_full = abs(sweep) >= _TWO_PI - 1e-12
    span_small = abs(sweep) <= math.pi
    wsx, wsy, wex, wey = (cs0, sn0, cs1, sn1) if sweep >= 0 else (cs1, sn1, cs0, sn0)  # the sweep counter-clockwise
    for tj in range(j0 // tile, (j1 - 1) // tile + 1):
        cj0 = max(tj * tile, j0)
        cj1 = min(tj * tile + tile, j1)
        for ti in range(i0 // tile, (i1 - 1) // tile + 1):
            ci0 = max(ti * tile, i0)
            ci1 = min(ti * tile + tile, i1)
            xc = x0 + 0.5 * (ci0 + ci1) * step
            yc = y0 + 0.5 * (cj0 + cj1) * step
            hd = 0.5 * math.hypot(ci1 - ci0, cj1 - cj0) * step
            d = path_distance(kind, xc, yc, ax, ay, bx, by, ox, oy, rad, a0, sweep)
            if d - hd > radius + 1e-9:
                continue  # the end passes over no cell of this block
            rim = bounded and d + hd >= core - 1e-9  # a block the corner's rim may pass over
            if hmax[tj, ti] > zmin:  # stock above the end's lowest point: cut it
                whole = flat and d + hd < core - 1e-9
                # the engagement (a least and a largest over the cells cut) is measured only in a block that
                # can change it: every cell lies within hd of its centre, so its distance across the path is
                # at least the centre's less hd, and an arc's radius of it at most the centre's plus hd (1 nm
                # to spare for the rounding, far more than it)
                eng = engage
                if eng and kind == 0:
                    eng = abs((xc - ax) * ty - (yc - ay) * tx) - hd - 1e-9 < near
                elif eng:
                    ux = xc - ox
                    uy = yc - oy
                    rc = math.sqrt(ux * ux + uy * uy)
                    lb = min(abs(rc - rad), min(abs(ux * cs0 + uy * sn0 - rad), abs(ux * cs1 + uy * sn1 - rad)))
                    eng = lb - hd - 1e-9 < near or rc + hd + 1e-9 > far
                changed = False
                top_cut = False
                for j in range(cj0, cj1):
                    y = y0 + (j + 0.5) * step
                    for i in range(ci0, ci1):
                        h = height[j, i]
                        if h <= zskip:
                            continue
                        q = 0
                        if whole:
                            zt = az
                        elif rounded:
                            zt = az + corner_drop(_move_distance(kind, x0 + (i + 0.5) * step, y, ax, ay, bx, by, ox,
                                                                 oy, rad, a0, sweep, span_full, span_small, wsx, wsy,
                                                                 wex, wey), radius, corner)
                        elif kind == 4:
                            share = 0.0
                            q = (j - memo_j0) * memo_w + (i - memo_i0) if memo else 0
                            where = memo_at[q] if memo else -1
                            if where < 0:  # not met before: as _helix decides it (lowest's, shrink 0)
                                hx = x0 + (i + 0.5) * step - ox
                                hy = y - oy
                                rho2 = hx * hx + hy * hy
                                if rho2 < h_in:
                                    where = 1
                                elif rho2 > h_out or rho2 < h_hole:
                                    where = 0
                                elif (end_ok and rho2 > e_in and (x0 + (i + 0.5) * step - ex) ** 2 + (y - ey) ** 2
                                      < end_r2):
                                    where = 3
                                elif chord and _off_chord(x0 + (i + 0.5) * step, y, c_ax, c_ay, c_dx, c_dy, c_ll,
                                                          radius + sag):
                                    where = 0
                                else:
                                    where, share = _helix_at(x0 + (i + 0.5) * step, y, down, ox, oy, rad, a0, sweep,
                                                             radius)
                                    if memo:
                                        memo_share[q] = share
                                if memo:
                                    memo_at[q] = where
                            if where == 0:
                                continue
                            if where == 1:
                                zt = zlow
                            elif where == 3:
                                zt = z_end
                            else:  # _helix's arithmetic (lowest's shrink 0 added to both ends)
                                if memo:
                                    share = memo_share[q]
                                zt = (az + 0.0) + ((bz + 0.0) - (az + 0.0)) * share
                        elif kind == 0 and memo:  # a recurring sloped line: as below, kept for its next laps
                            q = (j - memo_j0) * memo_w + (i - memo_i0)
                            where = memo_at[q]
                            if where < 0:
                                if end_ok and (x0 + (i + 0.5) * step - ex) ** 2 + (y - ey) ** 2 < end_r2:
                                    where = 3
                                else:  # lowest's (shrink 0): _flat_line's
                                    where, t_lo, t_hi = _flat_line_at(x0 + (i + 0.5) * step, y, ax, ay, bx, by, radius)
                                    memo_share[q] = t_lo
                                    memo_share2[q] = t_hi
                                memo_at[q] = where
                            if where == 0:
                                continue
                            if where == 1:
                                zt = zlow
                            elif where == 3:
                                zt = z_end
                            else:
                                zt = min((az + 0.0) + ((bz + 0.0) - (az + 0.0)) * memo_share[q],
                                         (az + 0.0) + ((bz + 0.0) - (az + 0.0)) * memo_share2[q])
                        elif end_ok and (x0 + (i + 0.5) * step - ex) ** 2 + (y - ey) ** 2 < end_r2:
                            zt = z_end
                        else:
                            zt = lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz, radius, 0.0,
                                        ox, oy, rad, a0, sweep, cot)
                        if rim and zt < h and zt < zlow + corner:  # (the torus cannot be higher than that)
                            drop = memo_rim[q] if memo else np.nan
                            if math.isnan(drop):
                                drop = corner_drop(_move_distance(kind, x0 + (i + 0.5) * step, y, ax, ay, bx, by, ox,
                                                                  oy, rad, a0, sweep, span_full, span_small, wsx,
                                                                  wsy, wex, wey), radius, corner)
                                if memo:
                                    memo_rim[q] = drop
                            zt = max(zt, zlow + drop)
                        if watch and h - zt > worst:
                            zw = zt
                            if h > zt:  # material a rapid meets: only RAPID_RIM_MM inside its rim
                                zw = lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz,
                                            radius - RAPID_RIM_MM, 0.0, ox, oy, rad, a0, sweep, cot)
                                if rounded or rim:  # the torus within its rim, as above
                                    zw = max(zw, zlow + corner_drop(
                                        _move_distance(kind, x0 + (i + 0.5) * step, y, ax, ay, bx, by, ox, oy, rad,
                                                       a0, sweep, span_full, span_small, wsx, wsy, wex, wey),
                                        radius - RAPID_RIM_MM,
                                        min(corner, radius - RAPID_RIM_MM)))
                            if h - zw > worst:
                                worst = h - zw
                                wi = i
                                wj = j
                        if zt < h:
                            if eng and h - zt > ENGAGED_MM:
                                x = x0 + (i + 0.5) * step
                                if kind == 0:
                                    lat = abs((x - ax) * ty - (y - ay) * tx)
                                    if lat < near:
                                        near = lat
                                else:
                                    # the exact lateral is one of |rho - rad| and the projections on the
                                    # ends' radii less rad, its rho at most rho: a cell that can move
                                    # neither near nor far (1e-12 for sqrt against hypot) needs no atan2
                                    lx = x - ox
                                    ly = y - oy
                                    r2 = lx * lx + ly * ly
                                    # first without a root: a cell whose rho is neither past far nor within
                                    # near of rad, and neither end's projection within near of rad, moves
                                    # neither (1 nm to spare for the squares' rounding)
                                    if not (r2 > e_far2 or e_in2 < r2 < e_out2
                                            or abs(lx * cs0 + ly * sn0 - rad) < near + 1e-9
                                            or abs(lx * cs1 + ly * sn1 - rad) < near + 1e-9):
                                        pass
                                    else:
                                        rs = math.sqrt(r2)
                                        side = _span_side(lx, ly, 1e-9 * rs, span_full, span_small, wsx, wsy, wex,
                                                          wey)
                                        if side > 0:  # surely within the sweep: _arc_lateral's in-span answer
                                            if rs + 1e-12 > far or abs(rs - rad) - 1e-12 < near:  # (else neither)
                                                rho = math.hypot(lx, ly)
                                                lat = abs(rho - rad)
                                                if rho > far:
                                                    far = rho
                                                if lat < near:
                                                    near = lat
                                        else:
                                            lb = min(abs(lx * cs0 + ly * sn0 - rad), abs(lx * cs1 + ly * sn1 - rad))
                                            if side == 0:
                                                lb = min(lb, abs(rs - rad))
                                            if lb - 1e-12 < near or (side == 0 and rs + 1e-12 > far):
                                                lat, rho = _arc_lateral(x, y, ox, oy, rad, a0, sweep)
                                                if rho > far:
                                                    far = rho
                                                if lat < near:
                                                    near = lat
                                        e_far2 = (far - 1e-9) * (far - 1e-9) if far > 1e-9 else -1.0
                                        lo_r = rad - near - 1e-9
                                        e_in2 = lo_r * lo_r if lo_r > 0 else -1.0
                                        e_out2 = (rad + near + 1e-9) * (rad + near + 1e-9)
                            if h >= hmax[tj, ti]:
                                top_cut = True  # a cell at the block's max: the max may come down
                            height[j, i] = zt
                            changed = True
                if changed and top_cut:  # the block's new max (over the whole block, not only the part cut)
                    m = -np.inf
                    for j in range(tj * tile, min(tj * tile + tile, height.shape[0])):
                        for i in range(ti * tile, min(ti * tile + tile, height.shape[1])):
                            if height[j, i] > m:
                                m = height[j, i]
                    hmax[tj, ti] = m
            if pmax[tj, ti] <= zmin + tol or d - hd > radius - tol + 1e-9:
                continue  # the shrunk end stays above the part or off this block: no gouge here
            for j in range(cj0, cj1):
                y = y0 + (j + 0.5) * step
                for i in range(ci0, ci1):
                    p = part[j, i]
                    if p - zmin - tol <= deepest or p - zmin - tol <= 0.0:
                        continue  # cannot be a gouge, or not deeper than one found
                    if kind == 4 and abs(sweep) > 1e-15:  # beyond the shrunk end's reach of the axis
                        hx = x0 + (i + 0.5) * step - ox
                        hy = y - oy
                        rho2 = hx * hx + hy * hy
                        if rho2 > g_out or rho2 < g_hole:
                            continue
                        if chord and _off_chord(x0 + (i + 0.5) * step, y, c_ax, c_ay, c_dx, c_dy, c_ll,
                                                radius - tol + sag):
                            continue
                    if rounded:
                        zg = az + tol + corner_drop(_move_distance(kind, x0 + (i + 0.5) * step, y, ax, ay, bx, by,
                                                                   ox, oy, rad, a0, sweep, span_full, span_small, wsx,
                                                                   wsy, wex, wey), g_r, g_c)
                    else:
                        zg = lowest(kind, x0 + (i + 0.5) * step, y, ax, ay, az, bx, by, bz, radius, tol,
                                    ox, oy, rad, a0, sweep, cot)
                        if rim and p - zg > deepest and zg < zlow + tol + g_c:
                            zg = max(zg, zlow + tol + corner_drop(_move_distance(kind, x0 + (i + 0.5) * step, y, ax,
                                                                                 ay, bx, by, ox, oy, rad, a0, sweep,
                                                                                 span_full, span_small, wsx, wsy, wex,
                                                                                 wey), g_r, g_c))
                    if p - zg > deepest:
                        deepest = p - zg
                        gi = i
                        gj = j
    return worst, wi, wj, deepest, gi, gj, near, far


@njit(cache=True, fastmath=False)
def body_contact(height, part, hmax, pmax, tile, x0, y0, step, i0, i1, j0, j1, arc,  # type: ignore[no-untyped-def]
                 ax, ay, az, bx, by, bz, r, ox, oy, rad, a0, sweep):
    """Deepest entry of a flat-bottomed cylinder (shank, holder) of radius r into stock or part (−inf: none)."""
    deepest = -np.inf
    gi = -1
    gj = -1
    kind = 1 if arc else 0
    zmin = min(az, bz)
    for tj in range(j0 // tile, (j1 - 1) // tile + 1):
        cj0 = max(tj * tile, j0)
        cj1 = min(tj * tile + tile, j1)
        for ti in range(i0 // tile, (i1 - 1) // tile + 1):
            if max(hmax[tj, ti], pmax[tj, ti]) <= zmin:
                continue
            ci0 = max(ti * tile, i0)
            ci1 = min(ti * tile + tile, i1)
            hd = 0.5 * math.hypot(ci1 - ci0, cj1 - cj0) * step
            d = path_distance(kind, x0 + 0.5 * (ci0 + ci1) * step, y0 + 0.5 * (cj0 + cj1) * step,
                              ax, ay, bx, by, ox, oy, rad, a0, sweep)
            if d - hd > r + 1e-9:
                continue
            for j in range(cj0, cj1):
                y = y0 + (j + 0.5) * step
                for i in range(ci0, ci1):
                    top = max(height[j, i], part[j, i])
                    if top - zmin <= max(deepest, 0.0):
                        continue
                    x = x0 + (i + 0.5) * step
                    if arc:
                        zb = az if _arc_covers(x, y, ax, ay, bx, by, ox, oy, rad, a0, sweep, r) else np.inf
                    else:
                        zb = _flat_line(x, y, ax, ay, az, bx, by, bz, r)
                    if top - zb > deepest:
                        deepest = top - zb
                        gi = i
                        gj = j
    return deepest, gi, gj


#: Columns of a packed move (``sim.pack_moves``): tip start and end, cutting radius, kind (as ``cut``), arc
#: centre, radius, start angle and sweep, the drill point's cotangent, watch (a rapid or a spindle-off
#: move), shank radius and height above the tip, holder radius and height, the end's corner radius.
MOVE_COLUMNS = ("ax", "ay", "az", "bx", "by", "bz", "radius", "kind", "ox", "oy", "rad", "a0", "sweep", "cot",
                "watch", "shank_r", "shank_from", "holder_r", "holder_from", "corner")


@njit(cache=True)
def _cells(x0, y0, step, nx, ny, lx, hx, ly, hy):  # type: ignore[no-untyped-def]
    """Cell index range [i0, i1) x [j0, j1) covering the box, one cell to spare (as ``Simulation._box``)."""
    i0 = max(int((lx - x0) / step) - 1, 0)
    i1 = min(int((hx - x0) / step) + 2, nx)
    j0 = max(int((ly - y0) / step) - 1, 0)
    j1 = min(int((hy - y0) / step) + 2, ny)
    return i0, i1, j0, j1


@njit(cache=True)
def _plan_box(mv, k):  # type: ignore[no-untyped-def]
    """(x low, x high, y low, y high) of packed move ``k``'s path: its ends, and an arc's axis extremes in its sweep."""
    ax = mv[k, 0]
    ay = mv[k, 1]
    bx = mv[k, 3]
    by = mv[k, 4]
    kind = int(mv[k, 7])
    ox = mv[k, 8]
    oy = mv[k, 9]
    rad = mv[k, 10]
    a0 = mv[k, 11]
    sweep = mv[k, 12]
    lx = min(ax, bx)
    hx = max(ax, bx)
    ly = min(ay, by)
    hy = max(ay, by)
    if kind == 1 or kind == 3 or kind == 4:  # axis extremes inside the sweep (as sim._arc_box)
        for q in range(4):
            ang = q * math.pi / 2
            rel = (ang - a0) % (2 * math.pi) if sweep >= 0 else (a0 - ang) % (2 * math.pi)
            if rel <= abs(sweep) + 1e-12:
                px = ox + rad * math.cos(ang)
                py = oy + rad * math.sin(ang)
                lx = min(lx, px)
                hx = max(hx, px)
                ly = min(ly, py)
                hy = max(hy, py)
    return lx, hx, ly, hy


#: Most cells :func:`sweep_moves` keeps of recurring plans (an int8 and three floats each).
MEMO_CELLS = 2_000_000


@njit(cache=True)
def sweep_moves(height, part, hmax, pmax, tile, x0, y0, step, nx, ny, tol, top, near_margin,  # type: ignore[no-untyped-def]
                bodies, mv, slot):
    """``Simulation._sweep`` over every row of ``mv`` (packed moves, :data:`MOVE_COLUMNS`) in one call.

    Returns per move whether the part comes near (``Simulation.near``), its engagement
    (``Simulation.engaged``), the number swept, and the violations in order as rows (kind: 0 a
    rapid or spindle-off cut, 1 gouge, 2 shank, 3 holder; move; i; j; amount).

    ``slot``: per move, -1 or the number of its plan among helical arcs and sloped lines whose
    plan recurs (``sim.recurring_plans``: a ramp's laps): where the end is lowest over each cell
    of such a plan is kept (``cut``'s ``memo``, up to :data:`MEMO_CELLS` cells) for its next laps.
    """
    n = mv.shape[0]
    near = np.zeros(n, dtype=np.bool_)
    eng = np.empty((n, 2))
    viol = np.empty((16, 5))
    nv = 0
    swept = 0
    nslot = 0
    for k in range(n):
        nslot = max(nslot, slot[k] + 1)
    memo_box = np.full((max(nslot, 1), 4), -1, dtype=np.int64)
    for k in range(n):
        if slot[k] >= 0 and memo_box[slot[k], 0] < 0 and mv[k, 6] > 0:
            lx, hx, ly, hy = _plan_box(mv, k)
            r = mv[k, 6]
            i0, i1, j0, j1 = _cells(x0, y0, step, nx, ny, lx - r, hx + r, ly - r, hy + r)
            memo_box[slot[k], 0] = i0
            memo_box[slot[k], 1] = i1
            memo_box[slot[k], 2] = j0
            memo_box[slot[k], 3] = j1
    memo_off = np.full(max(nslot, 1), -1, dtype=np.int64)
    total = 0
    for q in range(nslot):
        size = max(memo_box[q, 1] - memo_box[q, 0], 0) * max(memo_box[q, 3] - memo_box[q, 2], 0)
        if memo_box[q, 0] >= 0 and size > 0 and total + size <= MEMO_CELLS:
            memo_off[q] = total
            total += size
    memo_at = np.full(max(total, 1), -1, dtype=np.int8)
    memo_share = np.empty(max(total, 1))
    memo_share2 = np.empty(max(total, 1))
    memo_rim = np.full(max(total, 1), np.nan)
    for k in range(n):
        eng[k, 0] = np.inf
        eng[k, 1] = 0.0
        r = mv[k, 6]
        if r <= 0:
            continue
        ax = mv[k, 0]
        ay = mv[k, 1]
        az = mv[k, 2]
        bx = mv[k, 3]
        by = mv[k, 4]
        bz = mv[k, 5]
        zlo = min(az, bz)
        swept += 1
        if zlo > top + tol:  # above all material: nothing to cut or touch
            continue
        kind = int(mv[k, 7])
        ox = mv[k, 8]
        oy = mv[k, 9]
        rad = mv[k, 10]
        a0 = mv[k, 11]
        sweep = mv[k, 12]
        arc = kind == 1 or kind == 3 or kind == 4
        lx, hx, ly, hy = _plan_box(mv, k)
        if bodies:
            m = r + near_margin + 2 * step
            i0, i1, j0, j1 = _cells(x0, y0, step, nx, ny, lx - m, hx + m, ly - m, hy + m)
            if i1 > i0 and j1 > j0:
                near[k] = _box_above(part, i0, i1, j0, j1, zlo + tol)
        i0, i1, j0, j1 = _cells(x0, y0, step, nx, ny, lx - r, hx + r, ly - r, hy + r)
        if i1 > i0 and j1 > j0:
            watch = mv[k, 14] != 0.0
            q = slot[k]
            memo = ((kind == 4 or (kind == 0 and az != bz)) and q >= 0 and memo_off[q] >= 0 and memo_box[q, 0] == i0
                    and memo_box[q, 1] == i1 and memo_box[q, 2] == j0 and memo_box[q, 3] == j1)
            o0 = memo_off[q] if memo else 0
            o1 = o0 + (i1 - i0) * (j1 - j0) if memo else 1
            worst, wi, wj, deepest, gi, gj, nr, fr = cut(height, part, hmax, pmax, tile, x0, y0, step, i0, i1, j0, j1,
                                                         watch, tol, zlo, kind, ax, ay, az, bx, by, bz, r,
                                                         ox, oy, rad, a0, sweep, mv[k, 13], mv[k, 19], memo,
                                                         memo_at[o0:o1], memo_share[o0:o1], memo_share2[o0:o1],
                                                         memo_rim[o0:o1], i0, j0, i1 - i0)
            if watch and mv[k, 14] == 2.0:  # a flat end fed straight down: only beyond an allowance
                if worst > PLUNGE_MM:
                    viol, nv = _record(viol, nv, 4, k, wi, wj, worst)
            elif watch and worst > tol:
                viol, nv = _record(viol, nv, 0, k, wi, wj, worst)
            if deepest > 1e-9:
                viol, nv = _record(viol, nv, 1, k, gi, gj, deepest)
            eng[k, 0] = nr
            eng[k, 1] = fr
        if not bodies:
            continue
        for b in range(2):
            brad = mv[k, 15 + 2 * b]
            above = mv[k, 16 + 2 * b]
            if brad > r and math.isfinite(above) and zlo + above < top + tol:
                i0, i1, j0, j1 = _cells(x0, y0, step, nx, ny, lx - brad, hx + brad, ly - brad, hy + brad)
                if i1 <= i0 or j1 <= j0:
                    continue
                lift = above + tol
                za = az
                zb = bz
                if arc:  # a helical arc: the shank or holder at its lowest all along (safe side)
                    za = zlo
                    zb = zlo
                deepest, gi, gj = body_contact(height, part, hmax, pmax, tile, x0, y0, step, i0, i1, j0, j1, arc,
                                               ax, ay, za + lift, bx, by, zb + lift, brad - tol, ox, oy, rad, a0,
                                               sweep)
                if deepest > 1e-9:
                    viol, nv = _record(viol, nv, 2 + b, k, gi, gj, deepest)
    return near, eng, swept, viol[:nv].copy()


@njit(cache=True)
def _box_above(a, i0, i1, j0, j1, level):  # type: ignore[no-untyped-def]
    """Whether a cell of a[j0:j1, i0:i1] is above ``level`` (``box_max(...) > level``, stopping at the first)."""
    for j in range(j0, j1):
        for i in range(i0, i1):
            if a[j, i] > level:
                return True
    return False


@njit(cache=True)
def box_max(a, i0, i1, j0, j1):  # type: ignore[no-untyped-def]
    """Max of a[j0:j1, i0:i1] (−inf when empty)."""
    m = -np.inf
    for j in range(j0, j1):
        for i in range(i0, i1):
            if a[j, i] > m:
                m = a[j, i]
    return m


@njit(cache=True, fastmath=False)
def shadow_clearance(px, py, pr, eax, eay, ebx, eby, segs):  # type: ignore[no-untyped-def]
    """Side clearance of tools at (px, py) with radii pr from a shadow (negative: into it).

    Inside by even-odd over the polygon edges (e*: the loops as fine chords); the distance is
    exact, to the loops' lines and arcs: ``segs`` rows (ax, ay, bx, by, is_arc, ox, oy, radius,
    start angle, sweep). The same arithmetic as ``sim._seg_distance`` and the numpy test it replaced.
    """
    n = px.shape[0]
    out = np.empty(n)
    for k in range(n):
        inside = _inside(px[k], py[k], eax, eay, ebx, eby, eax.shape[0])
        dmin = _distance(px[k], py[k], segs, segs.shape[0])
        out[k] = -(dmin + pr[k]) if inside else dmin - pr[k]
    return out


#: Every this many samples of a chunk are measured first (they set the least so far, which lets
#: :func:`side_clearance` pass over samples that cannot go below it).
SIDE_STRIDE = 16


@njit(cache=True, fastmath=False)
def _crosses(x, y, fax, fay, fbx, fby, e):  # type: ignore[no-untyped-def]
    """Whether edge ``e`` straddles y to the right of x (one crossing of the even-odd count)."""
    ay = fay[e]
    by = fby[e]
    return (ay > y) != (by > y) and fax[e] + (y - ay) * (fbx[e] - fax[e]) / (by - ay) > x


@njit(cache=True, fastmath=False)
def _inside(x, y, fax, fay, fbx, fby, m):  # type: ignore[no-untyped-def]
    """Even-odd over the first ``m`` edges, as :func:`shadow_clearance` counts them."""
    crossings = 0
    for e in range(m):
        if _crosses(x, y, fax, fay, fbx, fby, e):
            crossings += 1
    return crossings % 2 == 1


@njit(cache=True, fastmath=False)
def _distance(x, y, fseg, q):  # type: ignore[no-untyped-def]
    """Least distance to the first ``q`` segments, as :func:`shadow_clearance` measures it."""
    dmin = np.inf
    for g in range(q):
        d = _seg_distance(x, y, fseg, g)
        if d < dmin:
            dmin = d
    return dmin


@njit(cache=True, fastmath=False)
def _nearest(x, y, fseg, fdev, q, first):  # type: ignore[no-untyped-def]
    """:func:`_distance` and the segment it came from, measuring segment ``first`` first.

    An arc no nearer than the least so far is passed over: its distance is at least the
    distance to its circle, less how far its ends lie off the circle (``fdev``) and 1 nm for
    the rounding; the least is the same (a least over the segments in any order).
    """
    dmin = np.inf
    arg = -1
    for n in range(q):
        g = first if n == 0 else (n - 1 if n <= first else n)
        if fseg[g, 4] != 0.0 and math.isfinite(dmin):
            if abs(math.hypot(x - fseg[g, 5], y - fseg[g, 6]) - fseg[g, 7]) - fdev[g] - 1e-9 >= dmin:
                continue
        d = _seg_distance(x, y, fseg, g)
        if d < dmin:
            dmin = d
            arg = g
    return dmin, arg


@njit(cache=True, fastmath=False)
def side_clearance(px, py, pr, idx, step, eax, eay, ebx, eby, segs, boxes, near_mm, best, least,  # type: ignore[no-untyped-def]
                   skip):
    """:func:`shadow_clearance` chunk by chunk, each sample's into ``best[idx]`` (its move's least).

    Chunks of ``step`` samples in order, each with the edges that straddle its y range and
    reach right of it and the segments whose box (``boxes`` rows: x low, y low, x high, y high)
    is within the largest radius + ``near_mm`` of it: what ``guard._Loops.clearance`` gives
    per chunk and ``np.minimum.at`` keeps, in one call. ``least[0]``: the least finite
    clearance so far (kept).

    With ``skip`` a sample that cannot go below ``least`` is not measured (its move's ``best``
    may then stay above its own least, never the least of all): the distance to the chunk's
    segments moves by at most as much as the point, and no polygon edge (a chord within
    0.1 um of a segment) lies between two points whose distances stay over 0.2 um on the
    way, so from the last measured sample the clearance is bounded below, and a sample that
    near it is on its side (no even-odd count). Every :data:`SIDE_STRIDE`-th sample is
    measured first. A sample inside with no segment near
    (-inf) is never passed over: the caller redoes the check without ``skip`` then.
    """
    n = px.shape[0]
    ne = eax.shape[0]
    nseg = segs.shape[0]
    fax = np.empty(ne)  # the chunk's edges and segments, contiguous
    fay = np.empty(ne)
    fbx = np.empty(ne)
    fby = np.empty(ne)
    fseg = np.empty((nseg, 10))
    fdev = np.zeros(nseg)  # how far an arc's ends lie off its circle
    dist = np.empty(step)
    inside = np.zeros(step, dtype=np.bool_)
    done = np.zeros(step, dtype=np.bool_)
    for c0 in range(0, n, step):
        c1 = min(c0 + step, n)
        x0 = np.inf
        x1 = -np.inf
        y0 = np.inf
        y1 = -np.inf
        rmax = -np.inf
        for k in range(c0, c1):
            x0 = min(x0, px[k])
            x1 = max(x1, px[k])
            y0 = min(y0, py[k])
            y1 = max(y1, py[k])
            rmax = max(rmax, pr[k])
        m = 0
        for e in range(ne):
            if max(eay[e], eby[e]) >= y0 and min(eay[e], eby[e]) <= y1 and max(eax[e], ebx[e]) >= x0:
                fax[m] = eax[e]
                fay[m] = eay[e]
                fbx[m] = ebx[e]
                fby[m] = eby[e]
                m += 1
        reach = rmax + near_mm
        q = 0
        for g in range(nseg):
            if (boxes[g, 2] >= x0 - reach and boxes[g, 0] <= x1 + reach and boxes[g, 3] >= y0 - reach
                    and boxes[g, 1] <= y1 + reach):
                fseg[q] = segs[g]
                if segs[g, 4] != 0.0:
                    fdev[q] = max(abs(math.hypot(segs[g, 0] - segs[g, 5], segs[g, 1] - segs[g, 6]) - segs[g, 7]),
                                  abs(math.hypot(segs[g, 2] - segs[g, 5], segs[g, 3] - segs[g, 6]) - segs[g, 7]))
                q += 1
        first = 0
        for k in range(c0, c1):
            done[k - c0] = False
        for rnd in range(2 if skip else 1):
            last = -1
            for k in range(c0, c1):
                if done[k - c0]:
                    last = k
                    continue
                if skip and rnd == 0 and (k - c0) % SIDE_STRIDE != 0:
                    continue
                same = False  # on the same side as the last measured sample
                if skip and last >= 0:
                    dq = dist[last - c0]
                    way = math.hypot(px[k] - px[last], py[k] - py[last])
                    if math.isfinite(dq) and dq - way > 2e-4:
                        same = True
                        if inside[last - c0]:
                            low = -(dq + way + pr[k])
                        else:
                            low = dq - way - pr[k]
                        if rnd == 1 and low - 1e-9 >= least[0]:
                            continue
                ins = inside[last - c0] if same else _inside(px[k], py[k], fax, fay, fbx, fby, m)
                if q > 0:
                    dmin, g = _nearest(px[k], py[k], fseg, fdev, q, first)
                    if g >= 0:
                        first = g  # the next sample's nearest, most likely
                else:
                    dmin = np.inf
                inside[k - c0] = ins
                dist[k - c0] = dmin
                done[k - c0] = True
                last = k
                v = -(dmin + pr[k]) if ins else dmin - pr[k]
                if v < best[idx[k]]:
                    best[idx[k]] = v
                if math.isfinite(v) and v < least[0]:
                    least[0] = v
    return best


@njit(cache=True, fastmath=False)
def _seg_distance(x, y, segs, s):  # type: ignore[no-untyped-def]
    """Distance from (x, y) to row ``s`` of ``segs`` (as :func:`shadow_clearance`)."""
    ax, ay, bx, by = segs[s, 0], segs[s, 1], segs[s, 2], segs[s, 3]
    if segs[s, 4] == 0.0:
        dx = bx - ax
        dy = by - ay
        ll = dx * dx + dy * dy
        if ll <= 0:
            return min(math.hypot(x - ax, y - ay), math.hypot(x - bx, y - by))
        t = min(max(((x - ax) * dx + (y - ay) * dy) / ll, 0.0), 1.0)
        return math.hypot(ax + t * dx - x, ay + t * dy - y)
    ox, oy, rad, a0, sweep = segs[s, 5], segs[s, 6], segs[s, 7], segs[s, 8], segs[s, 9]
    phi = math.atan2(y - oy, x - ox) - a0
    rel = phi % _TWO_PI if sweep >= 0 else (-phi) % _TWO_PI
    if rel <= abs(sweep) + 1e-12:
        return abs(math.hypot(x - ox, y - oy) - rad)
    return min(math.hypot(x - ax, y - ay), math.hypot(x - bx, y - by))


@njit(cache=True)
def sample_moves(mv, sel, spacing, zmax):  # type: ignore[no-untyped-def]
    """Rows (x, y, z, cutting radius, move index) every ``spacing`` mm along the packed moves ``mv[sel]``.

    Moves as :data:`MOVE_COLUMNS`, both ends included, where z < ``zmax``: ``guard._samples``
    without its temporary arrays. A move of length L gets n = max(1, ceil(L / spacing)) intervals; an arc is
    sampled on its circle (radius from its start), z linear along it (flat and helical alike).
    """
    m = sel.shape[0]
    counts = np.empty(m, dtype=np.int64)
    total = 0
    for q in range(m):
        k = sel[q]
        kind = int(mv[k, 7])
        if kind == 1 or kind == 3 or kind == 4:
            length = abs(mv[k, 12]) * math.hypot(mv[k, 0] - mv[k, 8], mv[k, 1] - mv[k, 9])
        else:
            length = math.sqrt((mv[k, 3] - mv[k, 0]) ** 2 + (mv[k, 4] - mv[k, 1]) ** 2 + (mv[k, 5] - mv[k, 2]) ** 2)
        n = max(1, int(math.ceil(length / spacing)))
        counts[q] = n
        total += n + 1
    out = np.empty((total, 5))
    w = 0
    for q in range(m):
        k = sel[q]
        n = counts[q]
        ax = mv[k, 0]
        ay = mv[k, 1]
        az = mv[k, 2]
        dx = mv[k, 3] - ax
        dy = mv[k, 4] - ay
        dz = mv[k, 5] - az
        kind = int(mv[k, 7])
        arc = kind == 1 or kind == 3 or kind == 4
        ox = mv[k, 8]
        oy = mv[k, 9]
        sweep = mv[k, 12]
        rad = math.hypot(ax - ox, ay - oy)
        a0 = math.atan2(ay - oy, ax - ox)
        for s in range(n + 1):
            t = s / n
            z = az + dz * t
            if not z < zmax:
                continue
            if arc:
                ang = a0 + sweep * t
                out[w, 0] = ox + rad * math.cos(ang)
                out[w, 1] = oy + rad * math.sin(ang)
            else:
                out[w, 0] = ax + dx * t
                out[w, 1] = ay + dy * t
            out[w, 2] = z
            out[w, 3] = mv[k, 6]
            out[w, 4] = k
            w += 1
    return out[:w].copy()


@njit(cache=True, fastmath=False)
def polygon_cells(xs, ys, px, py):  # type: ignore[no-untyped-def]
    """Even-odd inside of the closed polygon (``px``, ``py``) at the cell centres ``xs`` x ``ys``: (len(ys), len(xs)).

    ``sim.polygon_mask``'s numpy test cell by cell, with its arithmetic: an edge (y0 != y1)
    counts where it straddles the cell's y, (y0 > y) != (y1 > y), and crosses right of its x,
    x0 + (y - y0) (x1 - x0) / (y1 - y0) > x. A row's crossings are found once.
    """
    ny = ys.shape[0]
    nx = xs.shape[0]
    n = px.shape[0]
    out = np.zeros((ny, nx), dtype=np.bool_)
    cross = np.empty(n)
    for j in range(ny):
        y = ys[j]
        m = 0
        for e in range(n):
            x0 = px[e]
            y0 = py[e]
            x1 = px[(e + 1) % n]
            y1 = py[(e + 1) % n]
            if y0 == y1 or (y0 > y) == (y1 > y):
                continue
            cross[m] = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            m += 1
        if m == 0:
            continue
        for i in range(nx):
            x = xs[i]
            odd = False
            for c in range(m):
                if cross[c] > x:
                    odd = not odd
            out[j, i] = odd
    return out


#: ``cut``'s last arguments when nothing is kept (a move swept on its own).
NO_MEMO: tuple[Any, ...] = (False, np.full(1, -1, dtype=np.int8), np.zeros(1), np.zeros(1), np.full(1, np.nan), 0, 0, 1)


def warm() -> None:
    """Load every compiled function once (from numba's cache, or compile it): a process's start-up cost."""
    from dfm.kernel.rasterkernel import raster

    a = np.zeros((4, 4))
    t = tile_max(a, 2)
    cut(a, a, t, t.copy(), 2, 0.0, 0.0, 0.1, 0, 4, 0, 4, True, 1e-3, 0.0,
        0, 0.1, 0.1, 0.0, 0.2, 0.2, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, *NO_MEMO)
    body_contact(a, a, t, t, 2, 0.0, 0.0, 0.1, 0, 4, 0, 4, False, 0.1, 0.1, 0.0, 0.2, 0.2, 0.0, 0.1,
                 0.0, 0.0, 0.0, 0.0, 0.0)
    box_max(a, 0, 4, 0, 4)
    row = np.zeros((1, len(MOVE_COLUMNS)))
    row[0, 3] = row[0, 4] = 0.2
    row[0, 6] = 0.1
    sweep_moves(a, a, t, t.copy(), 2, 0.0, 0.0, 0.1, 4, 4, 1e-3, 0.0, 0.0, True, row, np.full(1, -1, dtype=np.int64))
    v = np.zeros(1)
    shadow_clearance(v, v, v, v, v, v, v, np.zeros((1, 10)))
    side_clearance(v, v, v, np.zeros(1, dtype=np.int64), 32, v, v, v, v, np.zeros((1, 10)), np.zeros((1, 4)), 0.05,
                   np.full(1, np.inf), np.full(1, np.inf), True)
    raster(a, np.zeros((1, 3, 3)), 0.0, 0.0, 0.1)
    sample_moves(row, np.zeros(1, dtype=np.int64), 0.005, 1.0)
    polygon_cells(np.zeros(2), np.zeros(2), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]))


@njit(cache=True, fastmath=False)
def _edge_near(x, y, fax, fay, fbx, fby, e, tol):  # type: ignore[no-untyped-def]
    """Whether (x, y) is within ``tol`` of edge ``e`` (the distance to its nearest point)."""
    dx = fbx[e] - fax[e]
    dy = fby[e] - fay[e]
    ll = dx * dx + dy * dy
    if not ll > 0.0:
        ll = 1.0
    t = ((x - fax[e]) * dx + (y - fay[e]) * dy) / ll
    t = min(max(t, 0.0), 1.0)
    return math.hypot(fax[e] + t * dx - x, fay[e] + t * dy - y) <= tol


@njit(cache=True)
def _band(y, y_lo, h, nb):  # type: ignore[no-untyped-def]
    """The band of height ``h`` from ``y_lo`` that holds ``y``, clamped to 0 .. nb - 1."""
    b = math.floor((y - y_lo) / h)
    return min(max(b, 0), nb - 1)


@njit(cache=True, fastmath=False)
def _band_inside(x, y, fax, fay, fbx, fby, b, start, idx):  # type: ignore[no-untyped-def]
    """Even-odd over band ``b``'s edges: an odd number straddle y to the right of x (:func:`_inside`'s arithmetic)."""
    crossings = 0
    for j in range(start[b], start[b + 1]):
        if _crosses(x, y, fax, fay, fbx, fby, idx[j]):
            crossings += 1
    return crossings % 2 == 1


@njit(cache=True, fastmath=False)
def segment_inside(px, py, qx, qy, n, fax, fay, fbx, fby, y_lo, h, start, idx, on_edge):  # type: ignore[no-untyped-def]
    """Whether the ``n`` + 1 samples p + (q - p) k / n are all in the region (``strategies.Region``).

    In: an odd number of the loops' edges straddle the sample's y to its right (even-odd), or
    one edge is within ``on_edge`` of it; stops at the first sample that is neither. The edges
    are binned by y (band b of height ``h`` from ``y_lo`` lists ``idx[start[b]:start[b + 1]]``:
    every edge whose y-range meets the band, once): an edge that straddles y lies in y's band,
    one within ``on_edge`` in a band that meets y ± on_edge. The same edges decide as when all
    are tested, with the same arithmetic.
    """
    nb = start.shape[0] - 1
    for k in range(n + 1):
        x = px + (qx - px) * float(k) / n
        y = py + (qy - py) * float(k) / n
        if _band_inside(x, y, fax, fay, fbx, fby, _band(y, y_lo, h, nb), start, idx):
            continue
        if on_edge <= 0.0:
            return False
        near = False
        for bb in range(_band(y - on_edge, y_lo, h, nb), _band(y + on_edge, y_lo, h, nb) + 1):
            for j in range(start[bb], start[bb + 1]):
                if _edge_near(x, y, fax, fay, fbx, fby, idx[j], on_edge):
                    near = True
                    break
            if near:
                break
        if not near:
            return False
    return True


@njit(cache=True, fastmath=False)
def points_inside(px, py, fax, fay, fbx, fby, y_lo, h, start, idx):  # type: ignore[no-untyped-def]
    """Even-odd: whether each point has an odd number of the edges straddling its y to its right.

    Over the edges of the point's band (:func:`segment_inside`'s bins), with the crossing
    arithmetic of :func:`_inside`.
    """
    nb = start.shape[0] - 1
    out = np.zeros(px.shape[0], dtype=np.bool_)
    for k in range(px.shape[0]):
        x = px[k]
        y = py[k]
        out[k] = _band_inside(x, y, fax, fay, fbx, fby, _band(y, y_lo, h, nb), start, idx)
    return out
