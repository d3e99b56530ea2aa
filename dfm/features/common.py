"""Small vector helpers and the analysers' shared state (no OCP here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dfm.model import Feature, Measurement, Vec3

#: Length tolerance for comparing kernel numbers (mm): well below the 1 µm we report.
TOL = 1e-6
#: Angular tolerance for parallel/perpendicular tests (radians, as a cosine margin).
ANG = 1e-6


def dot(a: Vec3, b: Vec3) -> float:
    """Dot product of ``a`` and ``b``."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def sub(a: Vec3, b: Vec3) -> Vec3:
    """Difference ``a - b``."""
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def add(a: Vec3, b: Vec3) -> Vec3:
    """Sum ``a + b``."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def mul(a: Vec3, k: float) -> Vec3:
    """``a`` scaled by ``k``."""
    return (a[0] * k, a[1] * k, a[2] * k)


def cross(a: Vec3, b: Vec3) -> Vec3:
    """Cross product ``a × b``."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def norm(a: Vec3) -> float:
    """Euclidean length of ``a``."""
    return math.sqrt(dot(a, a))


def unit(a: Vec3) -> Vec3:
    """``a`` scaled to length 1; a zero vector is returned unchanged."""
    n = norm(a)
    return (a[0] / n, a[1] / n, a[2] / n) if n > 0 else a


def parallel(a: Vec3, b: Vec3, tol: float = 1e-6) -> bool:
    """Parallel or anti-parallel unit vectors."""
    return abs(abs(dot(a, b)) - 1.0) <= tol


def canonical_axis(d: Vec3) -> Vec3:
    """The direction with its first clearly non-zero component made positive."""
    for c in d:
        if abs(c) > 1e-9:
            return d if c > 0 else (-d[0], -d[1], -d[2])
    return d


def clean(v: Vec3, digits: int = 9) -> Vec3:
    """Round away kernel noise (−0.0, 1e-17) for output."""
    out = []
    for x in v:
        r = round(x, digits)
        out.append(0.0 if r == 0 else r)
    return tuple(out)  # type: ignore[return-value]


#: A sharp concave edge whose faces open wider than this across the void (degrees) is no corner
#: a cutter's radius must fit: a tool of radius r leaves at most r (1/sin(θ/2) − 1) there (3.5 %
#: of r at 150°, the floor of a shallow V-groove; 8 % at 135°, which stays a corner, as does a
#: hexagon's 120°).
OBTUSE_DEG = 135.0


def opening_deg(geo, e) -> float | None:  # type: ignore[no-untyped-def]
    """Angle across the void between the two faces of concave edge ``e`` (90 for a square corner).

    From the faces' outward normals at the edge's midpoint: 180° less the angle between them.
    None when a normal cannot be had there.
    """
    if len(e.faces) != 2:
        return None
    ns = []
    for fid in e.faces:
        f = geo.faces[fid]
        n = f.normal if f.kind == "plane" and f.normal is not None else geo.face_normal_at(fid, e.midpoint)
        if n is None:
            return None
        ns.append(n)
    c = max(-1.0, min(1.0, dot(ns[0], ns[1])))
    return 180.0 - math.degrees(math.acos(c))


def obtuse(geo, e) -> bool:  # type: ignore[no-untyped-def]
    """True for a concave edge whose faces open wider than :data:`OBTUSE_DEG` across the void."""
    ang = opening_deg(geo, e)
    return ang is not None and ang > OBTUSE_DEG + 1e-6


#: Steepest lean of a flat wall from the approach (degrees) taken as a drafted wall of a pocket,
#: slot or step (a tapered end mill's angle, a mould draft): beyond it a face sloping from a
#: floor is a chamfer (45°) or a sloped face of its own.
DRAFT_MAX_DEG = 15.0


def drafted_cone(f, a: Vec3) -> bool:  # type: ignore[no-untyped-def]
    """A concave cone about ``a`` widening up ``a`` by at most :data:`DRAFT_MAX_DEG`: a drafted wall's corner blend."""
    if f.kind != "cone" or not f.concave or f.axis is None or f.half_angle_deg is None or f.axial is None:
        return False
    if abs(abs(dot(f.axis, a)) - 1.0) > 1e-6 or not 1e-6 <= abs(f.half_angle_deg) <= DRAFT_MAX_DEG + 1e-9:
        return False
    (h0, r0), (h1, r1) = sorted(_cone_ends(f, a))
    return r1 > r0 + 1e-9


def cone_floor_radius(f, a: Vec3) -> float:  # type: ignore[no-untyped-def]
    """Radius of a cone about ``a`` at its lower end along ``a`` (0 where it runs out to its apex)."""
    r = min(_cone_ends(f, a))[1]
    return 0.0 if r < 1e-9 else r  # an apex: sharp


def _cone_ends(f, a: Vec3) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """(height along ``a``, radius) at the two ends of a cone face."""
    tan = math.tan(math.radians(f.half_angle_deg))
    base = dot(f.origin, a)
    along = dot(f.axis, a)
    return [(base + t * along, max(0.0, f.radius + t * tan)) for t in f.axial]


AXES: tuple[Vec3, ...] = ((0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0),
                          (0.0, 1.0, 0.0), (0.0, -1.0, 0.0))


@dataclass
class Analysis:
    """What the analysers of one body produce, plus facts they share."""

    geo: Any
    features: list[Feature] = field(default_factory=list)
    measurements: dict[str, Measurement] = field(default_factory=dict)
    #: faces already claimed by a feature family (face id -> feature id)
    claimed: dict[int, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    #: the body's access summary (``dfm.features.access``): undercut faces, setups
    access: dict[str, Any] = field(default_factory=dict)

    def new_id(self, kind: str) -> str:
        """Next feature id of ``kind``: ``kind-1``, ``kind-2``... per body."""
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return f"{kind}-{n}"

    def measure(self, name: str, value: float, faces: tuple[int, ...] = (), location: Vec3 | None = None,
                smaller_is_worse: bool = True) -> None:
        """Record ``name`` if it is the worst value so far."""
        old = self.measurements.get(name)
        if old is None or (value < old.value - TOL if smaller_is_worse else value > old.value + TOL):
            self.measurements[name] = Measurement(name, value, tuple(faces),
                                                  clean(location) if location else None)


def add_chamfers(an: Analysis, faces: list[int], approach: Vec3, of: str, edge: str) -> list[str]:
    """Add one ``chamfer`` feature per connected set of ``faces`` (planes and cones) of feature ``of``.

    A chamfer stays a face of the feature it breaks an edge of; the chamfer feature names it
    as the face a chamfer or countersink tool makes. ``edge``: ``floor`` (between a floor and
    a wall) | ``entry`` (round a hole's opening). Returns the new feature ids.
    """
    from dfm.kernel.access import access

    geo = an.geo
    out = []
    for comp in connected_sets(geo, faces):
        angles = []
        for fid in comp:
            f = geo.faces[fid]
            if f.kind == "plane" and f.normal is not None:
                angles.append(math.degrees(math.acos(min(1.0, abs(dot(f.normal, approach))))))
            elif f.kind == "cone" and f.half_angle_deg is not None:
                angles.append(90.0 - f.half_angle_deg)
        ext = [access(geo).extent(fid, approach) for fid in comp]
        dims = {"height_mm": max(e[1] for e in ext) - min(e[0] for e in ext)}
        if angles:
            dims["angle_deg"] = min(angles)
        cid = an.new_id("chamfer")
        props = {"approach": list(clean(approach)), "of": of, "edge": edge}
        an.features.append(Feature(cid, "chamfer", tuple(sorted(comp)), dims, props,
                                   clean(geo.faces[min(comp)].centroid), clean(approach)))
        out.append(cid)
    return out


def connected_sets(geo, faces) -> list[set[int]]:  # type: ignore[no-untyped-def]
    """The sets of ``faces`` joined through shared edges (lowest face id first)."""
    rest = set(faces)
    out = []
    while rest:
        seed = min(rest)
        comp = {seed}
        todo = [seed]
        rest.discard(seed)
        while todo:
            cur = todo.pop()
            for nb in geo.neighbours(cur):
                if nb in rest:
                    rest.discard(nb)
                    comp.add(nb)
                    todo.append(nb)
        out.append(comp)
    return out
