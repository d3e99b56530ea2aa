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
