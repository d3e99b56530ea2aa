"""Threads: modelled helical threads measured from the exact geometry.

A thread modelled in CAD is a helical (B-spline or swept) surface around an axis. We cut
the solid with a half-plane through the axis: the section's distance to the axis
alternates between crest and root once per pitch, so the pitch is the spacing of the
crests and the major/minor diameters are twice the largest/smallest radius. The size is
then named from the thread table (``rules/data/threads.toml``).

Holes whose diameter matches a tap drill are only *candidates* (``hole`` props
``candidate_thread``); threads named in a part specification or PMI are attached by the
rules stage.
"""

from __future__ import annotations

import statistics

from dfm import threads as table
from dfm.features.common import Analysis, add, canonical_axis, clean, dot, mul, parallel, sub
from dfm.model import Feature, Vec3

_HELICAL_KINDS = ("bspline", "bezier", "extrusion", "revolution", "other")


def find_threads(an: Analysis) -> None:
    """Add ``thread`` features for modelled threads."""
    geo = an.geo
    helical = [f for f in geo.faces.values() if f.kind in _HELICAL_KINDS]
    if not helical:
        return
    axes: list[tuple[Vec3, Vec3]] = []
    for f in geo.faces.values():
        if f.kind in ("cylinder", "cone") and f.axis is not None:
            d = canonical_axis(f.axis)
            p0 = sub(f.origin, mul(d, dot(f.origin, d)))
            if not any(parallel(d, a, 1e-9) and dot(sub(p0, b), sub(p0, b)) < 1e-12 for a, b in axes):
                axes.append((d, p0))
    for d, p0 in axes:
        around = [f for f in helical if _around(f, d, p0)]
        if not around:
            continue
        prof = geo.section_profile(p0, d)
        if len(prof) < 20:
            continue
        # only the axial range of the helical faces
        lo = min(dot(sub(c, p0), d) for f in around for c in f.bbox)
        hi = max(dot(sub(c, p0), d) for f in around for c in f.bbox)
        # and only the radial range of the helical faces (an internal thread's section also
        # holds the part's outside walls)
        r_out = max(_radial_extent(f, d, p0) for f in around)
        pts = [(h, r) for h, r in prof if lo - 1e-6 <= h <= hi + 1e-6 and r <= r_out + 1e-6]
        res = _pitch(pts)
        if res is None:
            continue
        pitch, rmax, rmin, length = res
        internal = any(f.concave for f in geo.faces.values()
                       if f.kind == "cylinder" and f.axis is not None and parallel(f.axis, d, 1e-9)
                       and _near_axis(f, d, p0) and abs(f.radius - rmin) < 0.25 * pitch)
        major = 2 * rmax
        row = table.nearest_thread(major, pitch)
        dims = {"major_diameter_mm": major, "minor_diameter_mm": 2 * rmin, "pitch_mm": pitch,
                "length_mm": length}
        props = {"source": "model", "internal": internal,
                 "designation": row.designation if row else f"M{major:g}x{pitch:.3g} (non-standard)"}
        hand = _hand(geo, around, d, p0, pitch, rmin, rmax)
        if hand is not None:
            props["hand"] = hand
        if row and row.pitch_diameter_mm:
            dims["pitch_diameter_mm"] = float(row.pitch_diameter_mm)
        hole = next((h for h in an.features if h.kind == "hole" and h.axis is not None
                     and parallel(h.axis, d, 1e-9) and h.location_mm is not None
                     and _off_axis(h.location_mm, d, p0) < 1e-4), None)
        if hole is not None:
            props["hole"] = hole.id
        faces = tuple(sorted(f.id for f in around))
        loc = add(p0, mul(d, (lo + hi) / 2))
        an.features.append(Feature(an.new_id("thread"), "thread", faces, dims, props, clean(loc), clean(d)))


def _hand(geo, faces, d: Vec3, p0: Vec3, pitch: float, rmin: float, rmax: float) -> str | None:  # type: ignore[no-untyped-def]
    """``right`` or ``left`` from points on the helical faces, or None if they do not say.

    Near the root/crest radius a thread's surface is a helix: z − s·p·θ/2π is the same (mod p)
    for every point, with θ counter-clockwise about the axis and s = +1 for a right-hand
    thread (it advances along the axis as it turns counter-clockwise), −1 for a left-hand one.
    The hand whose phases cluster (mean resultant length near 1; the other hand's spread over
    the whole pitch) is the thread's.
    """
    import cmath
    import math

    ref = (1.0, 0.0, 0.0) if abs(d[0]) < 0.9 else (0.0, 1.0, 0.0)
    u = sub(ref, mul(d, dot(ref, d)))
    u = mul(u, 1.0 / dot(u, u) ** 0.5)
    v = (d[1] * u[2] - d[2] * u[1], d[2] * u[0] - d[0] * u[2], d[0] * u[1] - d[1] * u[0])
    band = rmin + 0.9 * (rmax - rmin)
    pts = []
    for f in faces:
        for _u, _v, p, _n in geo.sample_face_uv(f.id, 24):
            rel = sub(p, p0)
            x, y = dot(rel, u), dot(rel, v)
            if math.hypot(x, y) >= band:
                pts.append((math.atan2(y, x), dot(rel, d)))
    if len(pts) < 12:
        return None
    score = {}
    for name, sgn in (("right", 1.0), ("left", -1.0)):
        acc = sum(cmath.exp(2j * math.pi * (z / pitch - sgn * th / (2 * math.pi))) for th, z in pts)
        score[name] = abs(acc) / len(pts)
    best = max(score, key=lambda k: score[k])
    other = min(score, key=lambda k: score[k])
    return best if score[best] > 0.8 and score[other] < 0.5 else None


def _off_axis(p: Vec3, d: Vec3, p0: Vec3) -> float:
    """Distance of point ``p`` from the axis line (p0, d)."""
    off = sub(p, p0)
    radial = sub(off, mul(d, dot(off, d)))
    return float(dot(radial, radial) ** 0.5)


def _radial_extent(f, d: Vec3, p0: Vec3) -> float:  # type: ignore[no-untyped-def]
    """How far the face's box reaches from the axis, across it (the larger half-width)."""
    lo, hi = f.bbox
    corners = [(x, y, z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    ref = (1.0, 0.0, 0.0) if abs(d[0]) < 0.9 else (0.0, 1.0, 0.0)
    u = sub(ref, mul(d, dot(ref, d)))
    u = mul(u, 1.0 / dot(u, u) ** 0.5)
    v = (d[1] * u[2] - d[2] * u[1], d[2] * u[0] - d[0] * u[2], d[0] * u[1] - d[1] * u[0])
    return max(max(abs(dot(sub(c, p0), u)), abs(dot(sub(c, p0), v))) for c in corners)


def _near_axis(f, d: Vec3, p0: Vec3) -> bool:  # type: ignore[no-untyped-def]
    off = sub(f.origin, p0)
    radial = sub(off, mul(d, dot(off, d)))
    return dot(radial, radial) < 1e-10


def _around(f, d: Vec3, p0: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """True when the face's box is centred on the axis (it wraps around it)."""
    lo, hi = f.bbox
    c = mul(add(lo, hi), 0.5)
    off = sub(c, p0)
    radial = sub(off, mul(d, dot(off, d)))
    size = max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    return dot(radial, radial) ** 0.5 < 0.1 * size


def _pitch(pts: list[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    """Pitch, max radius, min radius and threaded length from (axial, radius) samples."""
    if not pts:
        return None
    pts.sort()
    rmax = max(r for _, r in pts)
    rmin = min(r for _, r in pts)
    if rmax - rmin < 1e-3:
        return None
    band = rmin + 0.85 * (rmax - rmin)
    crests: list[float] = []
    run: list[float] = []
    for h, r in pts:
        if r >= band:
            run.append(h)
        elif run:
            crests.append((run[0] + run[-1]) / 2)
            run = []
    if run:
        crests.append((run[0] + run[-1]) / 2)
    if len(crests) < 3:
        return None
    gaps = [b - a for a, b in zip(crests, crests[1:], strict=False)]
    pitch = statistics.median(gaps)
    return pitch, rmax, rmin, pts[-1][0] - pts[0][0]
