"""Threads: modelled helical threads measured from the exact geometry.

A thread modelled in CAD is a helical (B-spline or swept) surface around an axis. We cut
the solid with a half-plane through the axis: the section's distance to the axis
alternates between crest and root once per pitch, so the pitch is the spacing of the
crests and the major/minor diameters are twice the largest/smallest radius. The size is
then named from the thread table (``rules/data/threads.toml``).

A zig-zag section is not yet a thread: a grooved surface of revolution (rings: a sawtooth
grooved shaft, a bellows) gives one too. So a thread must also show

* a helical form: its sections on half-planes at other angles θ about the axis hold the
  same crests shifted along it by lead·θ/360 (lead = pitch × starts), where rings give the
  same section at every angle. Measured on points sampled over the faces (the phase of
  z − lead·θ/2π near the crest, :func:`_helix`), not with more sections: a section of a
  helical B-spline takes seconds;
* a depth the pitch explains: crest to root 0.40–0.75 P (ISO 68-1 basic: 0.541 P internal,
  0.613 P external; miniature ISO 1501 0.48 P; modelled tolerances and truncations move it).

Holes whose diameter matches a tap drill are only *candidates* (``hole`` props
``candidate_thread``); threads named in a part specification or PMI are attached by the
rules stage.
"""

from __future__ import annotations

import cmath
import math
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
        if not _DEPTH_P[0] * pitch <= rmax - rmin <= _DEPTH_P[1] * pitch:
            continue  # crest to root is no thread's depth for that pitch
        helix = _helix(geo, around, d, p0, pitch, rmin, rmax)
        if helix is None:
            continue  # the same section all round (rings), or no one helix
        starts, hand = helix
        internal = any(f.concave for f in geo.faces.values()
                       if f.kind == "cylinder" and f.axis is not None and parallel(f.axis, d, 1e-9)
                       and _near_axis(f, d, p0) and abs(f.radius - rmin) < 0.25 * pitch)
        major = 2 * rmax
        row = table.nearest_thread(major, pitch)
        dims = {"major_diameter_mm": major, "minor_diameter_mm": 2 * rmin, "pitch_mm": pitch,
                "length_mm": length}
        props = {"source": "model", "internal": internal,
                 "designation": row.designation if row else f"M{major:g}x{pitch:.3g} (non-standard)"}
        if hand is not None:
            props["hand"] = hand
        if starts > 1:
            props["starts"] = starts
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


def _helix(geo, faces, d: Vec3, p0: Vec3, pitch: float, rmin: float,  # type: ignore[no-untyped-def]
           rmax: float) -> tuple[int, str | None] | None:
    """(starts, hand) of the helix the faces form, or None if they form none (rings).

    Near the crest (of an external thread; the groove's root of an internal one) a thread's
    surface is a helix: z − n·P·θ/2π is the same (mod P) for every point, θ counter-clockwise
    about the axis, n the number of starts with the sign of the hand (+ right: it advances
    along the axis as it turns counter-clockwise). So the points' phases
    exp(2πi·(z/P − n·θ/2π)) cluster (mean resultant length near 1) for the thread's n and
    spread over the whole pitch for any other. Rings — a grooved surface of revolution —
    cluster for n = 0 instead: every section through the axis is the same, where a helix's
    sections at angle θ are those at 0 shifted by n·P·θ/360. The hand is named when the
    other hand's phases spread.
    """
    ref = (1.0, 0.0, 0.0) if abs(d[0]) < 0.9 else (0.0, 1.0, 0.0)
    u = sub(ref, mul(d, dot(ref, d)))
    u = mul(u, 1.0 / dot(u, u) ** 0.5)
    v = (d[1] * u[2] - d[2] * u[1], d[2] * u[0] - d[0] * u[2], d[0] * u[1] - d[1] * u[0])
    band = rmin + 0.9 * (rmax - rmin)
    pts = []
    for f in faces:
        for _u, _v, p, _n in geo.sample_face_uv(f.id, _SAMPLES):
            rel = sub(p, p0)
            x, y = dot(rel, u), dot(rel, v)
            if math.hypot(x, y) >= band:
                pts.append((math.atan2(y, x), dot(rel, d)))
    if len(pts) < 12:
        return None

    def score(n: int) -> float:
        acc = sum(cmath.exp(2j * math.pi * (z / pitch - n * th / (2 * math.pi))) for th, z in pts)
        return abs(acc) / len(pts)

    if score(0) > 0.5:
        return None  # the same phase at every angle: rings
    best = max((1, -1, 2, -2, 3, -3, 4, -4), key=score)
    if score(best) < 0.8:
        return None
    hand = ("right" if best > 0 else "left") if score(-best) < 0.5 else None
    return abs(best), hand


#: Crest-to-root depth of a modelled thread, in pitches (see the module's docstring).
_DEPTH_P = (0.40, 0.75)
#: Points sampled per face (a grid of this many squared, in its UV box) for the helix test.
_SAMPLES = 32


def _crests(pts: list[tuple[float, float]], band: float) -> list[float]:
    """Axial middles of the runs of (axial-sorted) points at or above radius ``band``."""
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
    return crests


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
    crests = _crests(pts, rmin + 0.85 * (rmax - rmin))
    if len(crests) < 3:
        return None
    gaps = [b - a for a, b in zip(crests, crests[1:], strict=False)]
    pitch = statistics.median(gaps)
    return pitch, rmax, rmin, pts[-1][0] - pts[0][0]
