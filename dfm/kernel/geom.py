"""Exact geometric facts about a solid's faces and edges, as plain Python data.

The feature analysers (``dfm/features``) work only from these records and the query
helpers below, so they never touch OCP themselves.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from OCP.Bnd import Bnd_Box
from OCP.BRep import BRep_Tool
from OCP.BRepAdaptor import BRepAdaptor_Curve, BRepAdaptor_Curve2d, BRepAdaptor_Surface
from OCP.BRepClass3d import BRepClass3d_SolidClassifier
from OCP.BRepExtrema import BRepExtrema_DistShapeShape
from OCP.BRepGProp import BRepGProp, BRepGProp_Face
from OCP.BRepTools import BRepTools
from OCP.BRepTopAdaptor import BRepTopAdaptor_FClass2d
from OCP.GCPnts import GCPnts_AbscissaPoint
from OCP.GeomAbs import (
    GeomAbs_BezierSurface,
    GeomAbs_BSplineSurface,
    GeomAbs_Circle,
    GeomAbs_Cone,
    GeomAbs_Cylinder,
    GeomAbs_Line,
    GeomAbs_Plane,
    GeomAbs_Sphere,
    GeomAbs_SurfaceOfExtrusion,
    GeomAbs_SurfaceOfRevolution,
    GeomAbs_Torus,
)
from OCP.gp import gp_Dir, gp_Lin, gp_Pnt, gp_Pnt2d, gp_Vec
from OCP.GProp import GProp_GProps
from OCP.IntCurvesFace import IntCurvesFace_Intersector
from OCP.TopAbs import TopAbs_IN, TopAbs_ON, TopAbs_REVERSED
from OCP.TopExp import TopExp
from OCP.TopoDS import TopoDS

from dfm.kernel.shape import Solid
from dfm.model import Vec3

#: Surfaces whose evaluation (GeomAdaptor_Surface::D1) does not read the adaptor's UV bounds.
_ANALYTIC = frozenset(("plane", "cylinder", "cone", "sphere", "torus"))

_SURF_KIND = {
    GeomAbs_Plane: "plane",
    GeomAbs_Cylinder: "cylinder",
    GeomAbs_Cone: "cone",
    GeomAbs_Sphere: "sphere",
    GeomAbs_Torus: "torus",
    GeomAbs_BSplineSurface: "bspline",
    GeomAbs_BezierSurface: "bezier",
    GeomAbs_SurfaceOfRevolution: "revolution",
    GeomAbs_SurfaceOfExtrusion: "extrusion",
}


@dataclass(frozen=True)
class FaceInfo:
    """Exact facts about one face.

    Attributes:
        id: 1-based face id.
        kind: plane | cylinder | cone | sphere | torus | bspline | bezier | revolution |
            extrusion | other.
        area: Area in mm².
        centroid: Area centroid.
        normal: Outward unit normal (planes only).
        origin: A point on the plane, or on the axis (cylinder, cone, torus, sphere centre).
        axis: Axis direction (cylinder, cone, torus).
        radius: Cylinder/sphere radius; torus minor radius; cone radius at ``origin``.
        major_radius: Torus major radius.
        half_angle_deg: Cone half angle.
        concave: For surfaces of revolution: True when the material lies outside the
            surface (a hole, a fillet in an internal corner), False for a boss or convex round.
        span_deg: Angular span around the axis (360 for a full hole).
        axial: (min, max) of the face along its axis, measured from ``origin``.
        bbox: Axis-aligned box (lo, hi).

    """

    id: int
    kind: str
    area: float
    centroid: Vec3
    bbox: tuple[Vec3, Vec3]
    normal: Vec3 | None = None
    origin: Vec3 | None = None
    axis: Vec3 | None = None
    radius: float | None = None
    major_radius: float | None = None
    half_angle_deg: float | None = None
    concave: bool | None = None
    span_deg: float | None = None
    axial: tuple[float, float] | None = None


@dataclass(frozen=True)
class EdgeInfo:
    """Exact facts about one edge.

    Attributes:
        id: 1-based edge id.
        faces: Ids of the faces it bounds (two for a manifold edge; one for a seam).
        kind: line | circle | other.
        convexity: concave | convex | tangent | seam | free | mixed.
        length: Length in mm.
        midpoint: Point at half length.
        direction: Unit direction (lines).
        center: Circle centre; radius: circle radius; axis: circle axis.
        start: First vertex point; end: last vertex point.

    """

    id: int
    faces: tuple[int, ...]
    kind: str
    convexity: str
    length: float
    midpoint: Vec3
    start: Vec3
    end: Vec3
    direction: Vec3 | None = None
    center: Vec3 | None = None
    radius: float | None = None
    axis: Vec3 | None = None


def _t(p: gp_Pnt | gp_Dir | gp_Vec) -> Vec3:
    return (p.X(), p.Y(), p.Z())


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _unit_rows(d):  # type: ignore[no-untyped-def]
    """Each row of ``d`` (n x 3) over its length as :func:`_unit` divides one, and which rows have a length."""
    import numpy as np

    n = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
    pos = n > 0
    return np.where(pos[:, None], d / np.where(pos, n, 1.0)[:, None], d), pos


def _unit(a: Vec3) -> Vec3:
    n = math.sqrt(_dot(a, a))
    return (a[0] / n, a[1] / n, a[2] / n) if n > 0 else a


class Geometry:
    """Face and edge records of one solid, computed once, plus exact queries."""

    def __init__(self, solid: Solid) -> None:
        self.solid = solid

    # --- records --------------------------------------------------------------------
    @functools.cached_property
    def faces(self) -> dict[int, FaceInfo]:
        """FaceInfo by face id."""
        return {i: self._face_info(i) for i in range(1, self.solid.face_count + 1)}

    @functools.cached_property
    def edges(self) -> dict[int, EdgeInfo]:
        """EdgeInfo by edge id."""
        return self._edge_records()

    def _face_info(self, fid: int) -> FaceInfo:
        face = self.solid.face(fid)
        # Unrestricted: the kind and the analytic surface do not depend on the UV bounds, and
        # restricting would compute them a second time (UVBounds below).
        surf = BRepAdaptor_Surface(face, False)
        kind = _SURF_KIND.get(surf.GetType(), "other")
        if kind in _ANALYTIC:
            self._evals[fid] = (surf, face.Orientation() == TopAbs_REVERSED, kind == "plane")
        props = GProp_GProps()
        BRepGProp.SurfaceProperties_s(face, props)
        area = props.Mass()
        centroid = _t(props.CentreOfMass())
        got = self.solid.face_box(fid)
        x0, y0, z0, x1, y1, z1 = got if got is not None else Bnd_Box().Get()  # void: OCCT raises, as it did
        bbox = ((x0, y0, z0), (x1, y1, z1))
        umin, umax, vmin, vmax = bounds = BRepTools.UVBounds_s(face)
        self.__dict__.setdefault("_uv_bounds", {})[fid] = bounds  # what uv_bounds would compute
        reversed_ = face.Orientation() == TopAbs_REVERSED
        info: dict = {"id": fid, "kind": kind, "area": area, "centroid": centroid, "bbox": bbox}
        if kind == "plane":
            pln = surf.Plane()
            n = pln.Axis().Direction()
            normal = _t(n)
            if reversed_:
                normal = (-normal[0], -normal[1], -normal[2])
            info.update(normal=normal, origin=_t(pln.Location()))
        elif kind in ("cylinder", "cone", "torus", "sphere"):
            if kind == "cylinder":
                ax = surf.Cylinder().Axis()
                info["radius"] = surf.Cylinder().Radius()
            elif kind == "cone":
                cone = surf.Cone()
                ax = cone.Axis()
                info["radius"] = cone.RefRadius()
                info["half_angle_deg"] = math.degrees(abs(cone.SemiAngle()))
            elif kind == "torus":
                tor = surf.Torus()
                ax = tor.Axis()
                info["radius"] = tor.MinorRadius()
                info["major_radius"] = tor.MajorRadius()
            else:
                sph = surf.Sphere()
                ax = sph.Position().Axis()
                info["radius"] = sph.Radius()
            o, d = _t(ax.Location()), _t(ax.Direction())
            info.update(origin=o, axis=d)
            # Concavity: compare the oriented normal with the direction away from the axis.
            um, vm = (umin + umax) / 2, (vmin + vmax) / 2
            p, n = self._point_normal(fid, um, vm)
            if kind == "torus":
                # away from the tube's centre circle
                rel = _sub(p, o)
                h = _dot(rel, d)
                radial = _sub(rel, (d[0] * h, d[1] * h, d[2] * h))
                rn = math.sqrt(_dot(radial, radial)) or 1.0
                big = info["major_radius"]
                tube_c = (o[0] + radial[0] / rn * big, o[1] + radial[1] / rn * big, o[2] + radial[2] / rn * big)
                away = _sub(p, tube_c)
            elif kind == "sphere":
                away = _sub(p, o)
            else:
                rel = _sub(p, o)
                h = _dot(rel, d)
                away = _sub(rel, (d[0] * h, d[1] * h, d[2] * h))
            info["concave"] = _dot(away, n) < 0
            if kind in ("cylinder", "cone", "torus"):
                info["span_deg"] = math.degrees(umax - umin)
                # axial extent from the face's bbox corners is loose; sample the face instead
                hs = []
                # a cylinder's or cone's point from D0 is D1's, bit for bit (not a torus's)
                value = surf.Value if kind != "torus" else None
                for uu in (umin, (umin + umax) / 2, umax):
                    for vv in (vmin, vmax):
                        q = _t(value(uu, vv)) if value is not None else self._point_normal(fid, uu, vv)[0]
                        hs.append(_dot(_sub(q, o), d))
                info["axial"] = (min(hs), max(hs))
        return FaceInfo(**info)

    @functools.cached_property
    def _evals(self) -> dict[int, Any]:
        """How :meth:`_point_normal` evaluates each face: (adaptor, reversed) or a BRepGProp_Face."""
        return {}

    def _point_normal(self, fid: int, u: float, v: float) -> tuple[Vec3, Vec3]:
        """Point and outward unit normal of face ``fid`` at (u, v).

        The normal is ``BRepGProp_Face::Normal``'s: D1U x D1V of the face's surface, reversed on
        a reversed face, divided by its length. On an analytic surface (plane, cylinder, cone,
        sphere, torus) the face record's unrestricted adaptor gives the same D1 (their
        evaluation does not read the UV bounds) and the product is taken here in the same
        order of operations: the same bits, without a restricted adaptor per face (its UV
        bounds cost as much as the rest of the face record). Other surfaces go through
        ``BRepGProp_Face`` itself.
        """
        ev = self._evals.get(fid)
        if ev is None:
            ev = self._evals[fid] = BRepGProp_Face(self.solid.face(fid))
        if ev.__class__ is tuple:
            surf, rev, planar = ev
            if planar:  # the same normal at every (u, v) (see _normal), and D0's point is D1's
                n = self._plane_normal.get(fid)
                if n is not None:
                    q = surf.Value(u, v)
                    return (q.X(), q.Y(), q.Z()), n
            p, du, dv = self._d1_out  # written by D1 and read at once: one set serves every call
            surf.D1(u, v, p, du, dv)
            ax, ay, az = du.X(), du.Y(), du.Z()
            bx, by, bz = dv.X(), dv.Y(), dv.Z()
            nx, ny, nz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
            if rev:
                nx, ny, nz = -nx, -ny, -nz
            mag = math.sqrt(nx * nx + ny * ny + nz * nz)
            if mag > 0:
                nx, ny, nz = nx / mag, ny / mag, nz / mag
            if planar:
                self._plane_normal[fid] = (nx, ny, nz)
            return (p.X(), p.Y(), p.Z()), (nx, ny, nz)
        pt = gp_Pnt()
        n = gp_Vec()
        ev.Normal(u, v, pt, n)
        mag = n.Magnitude()
        if mag > 0:
            n.Divide(mag)
        return _t(pt), _t(n)

    @functools.cached_property
    def _d1_out(self) -> tuple[gp_Pnt, gp_Vec, gp_Vec]:
        """The point and derivatives :meth:`_point_normal` has D1 write into."""
        return gp_Pnt(), gp_Vec(), gp_Vec()

    def _normal(self, fid: int, u: float, v: float) -> Vec3:
        """``_point_normal(fid, u, v)[1]``; a plane's is kept from its first call.

        :meth:`_point_normal`'s normal is D1U x D1V of the face's surface, which on a plane
        is the same at every (u, v): the kept one is the very value a new call would give.
        """
        n = self._plane_normal.get(fid)
        if n is None:
            n = self._point_normal(fid, u, v)[1]  # (which keeps a plane's)
        return n

    @functools.cached_property
    def _plane_normal(self) -> dict[int, Vec3]:
        """The normals :meth:`_point_normal` kept, by face id (planes only)."""
        return {}

    def _edge_info(self, eid: int) -> EdgeInfo:
        return self._edge_record(eid, self.solid.edge(eid), self.solid.edge_faces.get(eid, ()))

    def _edge_records(self) -> dict[int, EdgeInfo]:
        """Every edge's record (:attr:`edges`): the one loop, with what each edge needs bound once."""
        solid = self.solid
        edge_faces = solid.edge_faces
        find, as_edge = solid._edges.FindKey, TopoDS.Edge_s
        record = self._edge_record
        return {eid: record(eid, as_edge(find(eid)), edge_faces.get(eid, ()))
                for eid in range(1, solid.edge_count + 1)}

    def _edge_record(self, eid: int, edge, faces: tuple[int, ...]) -> EdgeInfo:  # type: ignore[no-untyped-def]
        if BRep_Tool.Degenerated_s(edge):
            c = BRep_Tool.Pnt_s(TopExp.FirstVertex_s(edge))
            pt = _t(c)
            return EdgeInfo(eid, faces, "degenerate", "seam", 0.0, pt, pt, pt)
        curve = BRepAdaptor_Curve(edge)
        t0, t1 = curve.FirstParameter(), curve.LastParameter()
        length = GCPnts_AbscissaPoint.Length_s(curve)
        tm = (t0 + t1) / 2
        mid = _t(curve.Value(tm))
        start, end = _t(curve.Value(t0)), _t(curve.Value(t1))
        ctype = curve.GetType()
        direction = center = radius = axis = None
        kind = "other"
        if ctype == GeomAbs_Line:
            kind = "line"
            direction = _t(curve.Line().Direction())
        elif ctype == GeomAbs_Circle:
            kind = "circle"
            circ = curve.Circle()
            center, radius, axis = _t(circ.Location()), circ.Radius(), _t(circ.Axis().Direction())
        if len(faces) == 1:
            convexity = "seam" if BRep_Tool.IsClosed_s(edge, self.solid.face(faces[0])) else "free"
        else:
            convexity = self._convexity(eid, edge, curve, faces, tm)
        return EdgeInfo(eid, faces, kind, convexity, length, mid, start, end, direction, center, radius, axis)

    #: sin(0.5 deg): the dihedral tolerance of :meth:`_convexity`.
    _TANGENT_SIN = math.sin(math.radians(0.5))

    def _convexity(self, eid: int, edge, curve, faces: tuple[int, ...],  # type: ignore[no-untyped-def]
                   t: float | None = None) -> str:
        """Classify the edge at its midpoint as concave, convex or tangent (dihedral test, 0.5° tolerance).

        With n1 the outward normal of face 1 and T the edge tangent as face 1's boundary
        runs, n1 × T points into face 1; the edge is concave when face 2's outward normal
        leans towards face 1 (n2 · (n1 × T) > 0). Returns ``mixed`` when the tangent vanishes.
        The tangent's length, normalisation and reversal are ``gp_Vec``'s arithmetic, done here.
        """
        f1, f2 = faces[0], faces[1]
        if t is None:
            t = (curve.FirstParameter() + curve.LastParameter()) / 2
        p, tan, _ = self._d1_out  # written by D1 and read at once
        curve.D1(t, p, tan)
        tx, ty, tz = tan.X(), tan.Y(), tan.Z()
        mag = math.sqrt(tx * tx + ty * ty + tz * tz)
        if mag < 1e-12:
            return "mixed"
        tx, ty, tz = tx / mag, ty / mag, tz / mag
        if self.solid.edge_reversed_in(eid, f1):
            tx, ty, tz = -tx, -ty, -tz
        planar = self._plane_normal
        n1 = planar.get(f1)  # a plane's normal needs no point on it (see _normal): no pcurve
        if n1 is None:
            n1 = self._face_normal_on(edge, f1, t)
        n2 = planar.get(f2)
        if n2 is None:
            n2 = self._face_normal_on(edge, f2, t)
        d1 = (n1[1] * tz - n1[2] * ty, n1[2] * tx - n1[0] * tz, n1[0] * ty - n1[1] * tx)
        s = _dot(n2, d1)
        lim = self._TANGENT_SIN
        if s > lim:
            return "concave"
        if s < -lim:
            return "convex"
        return "tangent"

    def _face_normal_on(self, edge, fid: int, t: float) -> Vec3:  # type: ignore[no-untyped-def]
        """Face ``fid``'s outward normal where ``edge`` (on it) is at parameter ``t``.

        A plane's normal is the same at every (u, v) (see :meth:`_normal`): it is taken at
        (0, 0), without the edge's curve on the face (computing that curve on a plane is a
        projection, the dearest part of an edge's record).
        """
        if self.faces[fid].kind == "plane":
            return self._normal(fid, 0.0, 0.0)
        uv = BRepAdaptor_Curve2d(edge, self.solid.face(fid)).Value(t)
        return self._normal(fid, uv.X(), uv.Y())

    # --- adjacency ------------------------------------------------------------------
    @functools.cached_property
    def face_edges(self) -> dict[int, tuple[int, ...]]:
        """Edge ids of each face."""
        out: dict[int, list[int]] = {i: [] for i in range(1, self.solid.face_count + 1)}
        for eid, fids in self.solid.edge_faces.items():
            for f in fids:
                out[f].append(eid)
        return {k: tuple(sorted(v)) for k, v in out.items()}

    def neighbours(self, fid: int) -> dict[int, list[int]]:
        """For face ``fid``: neighbour face id → the edge ids they share (cached: read, never change it)."""
        cache: dict[int, dict[int, list[int]]] = self.__dict__.setdefault("_neighbours", {})
        out = cache.get(fid)
        if out is None:
            out = {}
            for eid in self.face_edges[fid]:
                for other in self.solid.edge_faces[eid]:
                    if other != fid:
                        out.setdefault(other, []).append(eid)
            cache[fid] = out
        return out

    # --- exact queries --------------------------------------------------------------
    def sample_face(self, fid: int, n: int = 5) -> list[tuple[Vec3, Vec3]]:
        """Points strictly inside face ``fid`` with outward normals (an n×n UV grid, trimmed)."""
        return [(p, nn) for _u, _v, p, nn in self.sample_face_uv(fid, n)]

    def point_normal_uv(self, fid: int, u: float, v: float) -> tuple[Vec3, Vec3] | None:
        """Point and outward normal of face ``fid`` at (u, v), or None outside its trim."""
        u0, u1, v0, v1 = self.uv_bounds(fid)
        m = self._inner_margin(fid)
        if not (m is not None and u0 + m < u < u1 - m and v0 + m < v < v1 - m):
            if self._classifier2d(fid).Perform(gp_Pnt2d(u, v)) != TopAbs_IN:
                return None
        return self._point_normal(fid, u, v)

    def point_normals_uv(self, fid: int, uvs: Sequence[tuple[float, float]]) -> list[tuple[Vec3, Vec3] | None]:
        """:meth:`point_normal_uv` for several (u, v) of one face."""
        u0, u1, v0, v1 = self.uv_bounds(fid)
        m = self._inner_margin(fid)
        cls = None
        point_normal = self._point_normal
        out: list[tuple[Vec3, Vec3] | None] = []
        for u, v in uvs:
            if not (m is not None and u0 + m < u < u1 - m and v0 + m < v < v1 - m):
                if cls is None:
                    cls = self._classifier2d(fid)
                if cls.Perform(gp_Pnt2d(u, v)) != TopAbs_IN:
                    out.append(None)
                    continue
            out.append(point_normal(fid, u, v))
        return out

    def _inner_margin(self, fid: int) -> float | None:
        """How far inside its UV box a point of face ``fid`` is known to be on it, or None (classify it).

        0 for a planar face that fills its UV box (:meth:`fills_uv_box`); 1e-3 for a cylinder
        that does: its area is then its radius times the box's area, as a cylinder's
        parameters are an angle and a length (a face with a hole or a cut corner has less), and
        the margin (1e-3 rad, 1 um) keeps the point far outside the classifier's tolerance band.
        """
        cache: dict[int, float | None] = self.__dict__.setdefault("_inner_margin_cache", {})
        if fid in cache:
            return cache[fid]
        f = self.faces[fid]
        got: float | None = None
        if self.fills_uv_box(fid):
            got = 0.0
        elif f.kind == "cylinder" and f.radius is not None:
            u0, u1, v0, v1 = self.uv_bounds(fid)
            box = f.radius * (u1 - u0) * (v1 - v0)
            if box > 0 and abs(f.area - box) <= 1e-10 * box:
                got = 1e-3
        cache[fid] = got
        return got

    def fills_uv_box(self, fid: int) -> bool:
        """True for a planar face that is its whole UV box (a rectangle): every inner (u, v) is on it.

        A plane's parameters are lengths, so such a face's area is the box's; a face with a
        hole or a cut corner has less. Classifying points inside it costs nothing then.
        """
        cache: dict[int, bool] = self.__dict__.setdefault("_fills_uv", {})
        got = cache.get(fid)
        if got is None:
            f = self.faces[fid]
            u0, u1, v0, v1 = self.uv_bounds(fid)
            box = (u1 - u0) * (v1 - v0)
            got = cache[fid] = f.kind == "plane" and box > 0 and abs(f.area - box) <= 1e-10 * box
        return got

    def sample_face_uv(self, fid: int, n: int = 5) -> list[tuple[float, float, Vec3, Vec3]]:
        """Like :meth:`sample_face`, with the (u, v) of each point first.

        A point 1 um (a cylinder: 1e-3 of its parameters) or more inside a face that fills its
        UV box (:meth:`_inner_margin`) is on it without a test; the others are classified as always.
        """
        umin, umax, vmin, vmax = self.uv_bounds(fid)
        rect = self._inner_margin(fid) is not None
        cls = None
        out = []
        for i in range(n):
            for j in range(n):
                u = umin + (umax - umin) * (i + 0.5) / n
                v = vmin + (vmax - vmin) * (j + 0.5) / n
                if not (rect and umin + 1e-3 < u < umax - 1e-3 and vmin + 1e-3 < v < vmax - 1e-3):
                    if cls is None:  # the kept one, else one for this call (10 000 kept cost ~60 MB)
                        cls = self.__dict__.get("_fclass2_cache", {}).get(fid) or \
                            BRepTopAdaptor_FClass2d(self.solid.face(fid), 1e-7)
                    if cls.Perform(gp_Pnt2d(u, v)) != TopAbs_IN:
                        continue
                out.append((u, v, *self._point_normal(fid, u, v)))
        return out

    def _classifier2d(self, fid: int):  # type: ignore[no-untyped-def]
        """The (cached) UV classifier of face ``fid`` (tolerance 1e-7)."""
        cache = self.__dict__.setdefault("_fclass2_cache", {})
        cls = cache.get(fid)
        if cls is None:
            cls = cache[fid] = BRepTopAdaptor_FClass2d(self.solid.face(fid), 1e-7)
        return cls

    def uv_bounds(self, fid: int) -> tuple[float, float, float, float]:
        """(umin, umax, vmin, vmax) of face ``fid``."""
        cache: dict[int, tuple[float, float, float, float]] = self.__dict__.setdefault("_uv_bounds", {})
        got = cache.get(fid)
        if got is None:
            got = cache[fid] = BRepTools.UVBounds_s(self.solid.face(fid))
        return got

    def face_boxes(self):  # type: ignore[no-untyped-def]
        """The padded face boxes the ray broad phase tests, as numpy arrays (lo, hi), row = face id - 1.

        A ray that meets none of them meets no face.
        """
        lo, hi, _ = self._boxes
        return lo, hi

    @functools.cached_property
    def _boxes(self):  # type: ignore[no-untyped-def]
        """Padded face boxes, and a two-level index over them for the ray broad phase.

        Faces are sorted along a Morton curve of their box centres and cut into groups of
        about sqrt(F); a ray is tested against the group boxes first and then only against
        the faces of the groups it meets, so a ray costs about sqrt(F) box tests, not F.
        """
        import numpy as np

        lo = np.array([self.faces[i].bbox[0] for i in range(1, self.solid.face_count + 1)], dtype=float)
        hi = np.array([self.faces[i].bbox[1] for i in range(1, self.solid.face_count + 1)], dtype=float)
        pad = 1e-6 + 1e-9 * np.abs(hi - lo).max(initial=1.0)
        lo, hi = lo - pad, hi + pad
        n = len(lo)
        size = max(8, math.isqrt(n))
        if n <= 4 * size:
            return lo, hi, None
        centre = (lo + hi) / 2
        span = np.maximum(centre.max(axis=0) - centre.min(axis=0), 1e-12)
        cell = np.clip(((centre - centre.min(axis=0)) / span * 1023).astype(np.int64), 0, 1023)
        code = np.zeros(n, dtype=np.int64)
        for bit in range(10):
            for axis in range(3):
                code |= ((cell[:, axis] >> bit) & 1) << (3 * bit + axis)
        perm = np.argsort(code, kind="stable")
        n_groups = -(-n // size)
        members = np.full(n_groups * size, -1, dtype=np.int64)
        members[:n] = perm
        members = members.reshape(n_groups, size)
        starts = np.arange(0, n, size)
        glo = np.minimum.reduceat(lo[perm], starts, axis=0)
        ghi = np.maximum.reduceat(hi[perm], starts, axis=0)
        return lo, hi, (glo, ghi, members)

    @functools.cached_property
    def _planes(self) -> list[tuple[float, float, float, float] | None]:
        """(nx, ny, nz, c) with n·x = c for each planar face (0-based), None for the others."""
        out: list[tuple[float, float, float, float] | None] = []
        for i in range(1, self.solid.face_count + 1):
            f = self.faces[i]
            if f.kind == "plane" and f.normal is not None and f.origin is not None:
                n, o = f.normal, f.origin
                out.append((n[0], n[1], n[2], n[0] * o[0] + n[1] * o[1] + n[2] * o[2]))
            else:
                out.append(None)
        return out

    #: A plane the ray segment stays this far from (mm) cannot be hit: 100 times the
    #: intersector's tolerance, far above the rounding of the test.
    _PLANE_MISS = 1e-5

    def _misses_plane(self, plane: tuple[float, float, float, float], origin: Vec3, unit_dir: Vec3,
                      w_max: float) -> bool:
        """True when the ray's segment w in [1e-6, w_max] keeps clear of the plane (no exact test needed).

        Planar faces whose boxes hold the ray (a plate's top face, a ray parallel to it)
        cost an exact intersection with a trim of hundreds of edges; most never meet the ray.
        """
        nx, ny, nz, c = plane
        s0 = nx * origin[0] + ny * origin[1] + nz * origin[2] - c
        dn = nx * unit_dir[0] + ny * unit_dir[1] + nz * unit_dir[2]
        sa, sb = s0 + 1e-6 * dn, s0 + w_max * dn
        tol = self._PLANE_MISS
        return (sa > tol and sb > tol) or (sa < -tol and sb < -tol)

    def _face_intersector(self, fid: int):  # type: ignore[no-untyped-def]
        cache = self.__dict__.setdefault("_isec_cache", {})
        isec = cache.get(fid)
        if isec is None:
            isec = cache[fid] = IntCurvesFace_Intersector(self.solid.face(fid), 1e-7)
        return isec

    def ray_hits(self, origin: Vec3, direction: Vec3, max_dist: float = 1e9,
                 first_only: bool = False) -> list[tuple[float, int, Vec3]]:
        """Intersections of a ray with the solid's faces, sorted by distance.

        A numpy slab test over the faces' boxes picks the candidate faces (the broad
        phase), then each is intersected exactly; with ``first_only`` the search stops
        as soon as no nearer box remains.

        Returns:
            (distance, face id, point) for each hit with distance in (1e-6, max_dist].
        """
        return self.ray_hits_many([origin], [direction], [max_dist], first_only)[0]

    def ray_hits_many(self, origins: Sequence[Vec3], directions: Sequence[Vec3], max_dists: Sequence[float],
                      first_only: bool = False) -> list[list[tuple[float, int, Vec3]]]:
        """:meth:`ray_hits` for many rays at once (one batched broad phase), in the order given."""
        out: list[list[tuple[float, int, Vec3]]] = []
        planes = self._planes
        for origin, direction, max_dist, order, entry, missed in self._broad_phase_many(origins, directions,
                                                                                         max_dists, True):
            if not order and _dot(direction, direction) > 1e-300:
                out.append([])  # no face left to meet (gp_Dir would accept this direction)
                continue
            lin = gp_Lin(gp_Pnt(*origin), gp_Dir(*direction))
            hits: list[tuple[float, int, Vec3]] = []
            best = math.inf
            ud = _unit(direction)
            for idx, t_box in zip(order, entry, strict=True):
                if first_only and t_box > best:
                    break
                plane = planes[idx]
                if plane is not None and self._misses_plane(plane, origin, ud, min(best, max_dist) if first_only
                                                            else max_dist):
                    continue  # no hit (or, for the first hit only, none nearer than the best)
                if missed and idx in missed:
                    continue  # the line crosses the plane clear of the face's trim
                fid = idx + 1
                isec = self._face_intersector(fid)
                try:
                    isec.Perform(lin, 1e-6, max_dist)
                except Exception:  # noqa: BLE001 - OCP maps Standard_NullObject etc. outside Standard_Failure
                    continue  # a face the intersector cannot take (a null curve or surface): no hit
                if not isec.IsDone():
                    continue
                for k in range(1, isec.NbPnt() + 1):
                    w = isec.WParameter(k)
                    if w > 1e-6:
                        hits.append((w, fid, _t(isec.Pnt(k))))
                        best = min(best, w)
            hits.sort()
            out.append(hits[:1] if first_only else hits)
        return out

    def ray_first(self, origin: Vec3, direction: Vec3, max_dist: float = 1e9) -> tuple[float, int, Vec3, Vec3] | None:
        """The first face a ray meets: (distance, face id, point, outward normal there), or None."""
        return self.ray_first_many([origin], [direction], [max_dist])[0]

    def ray_first_many(self, origins: Sequence[Vec3], directions: Sequence[Vec3],
                       max_dists: Sequence[float]) -> list[tuple[float, int, Vec3, Vec3] | None]:
        """:meth:`ray_first` for many rays at once: one numpy broad phase for the whole batch.

        The boxes are tested exactly as one ray at a time (the same slab arithmetic, the same
        candidate order), so each answer is the one :meth:`ray_first` gives for that ray;
        only the exact intersections stay one call per candidate face.
        """
        out: list[tuple[float, int, Vec3, Vec3] | None] = []
        for o, d, m, cand, entry, missed in self._broad_phase_many(origins, directions, max_dists, True):
            out.append(self._first_exact(o, d, m, cand, entry, missed))
        return out

    def _first_exact(self, origin: Vec3, direction: Vec3, max_dist: float, order: list[int],
                     entry: list[float], missed: set[int] | None = None) -> tuple[float, int, Vec3, Vec3] | None:
        """Narrow phase of :meth:`ray_first` over broad-phase candidates (0-based, nearest box first)."""
        if not order and _dot(direction, direction) > 1e-300:
            return None  # no face left to meet (gp_Dir would accept this direction)
        lin = gp_Lin(gp_Pnt(*origin), gp_Dir(*direction))
        best: tuple[float, int, int] | None = None
        best_isec = None
        cache = self.__dict__.setdefault("_isec_cache", {})
        planes = self._planes
        ud = _unit(direction)
        for idx, t_box in zip(order, entry, strict=True):
            if best is not None and t_box > best[0]:
                break
            plane = planes[idx]
            if plane is not None and self._misses_plane(plane, origin, ud, max_dist if best is None
                                                        else min(best[0], max_dist)):
                continue  # no hit, or only one farther than the best: it would not count
            if missed and idx in missed:
                continue  # the line crosses the plane clear of the face's trim
            fid = idx + 1
            isec = cache.get(fid)
            if isec is None:
                isec = self._face_intersector(fid)
            try:
                isec.Perform(lin, 1e-6, max_dist)
            except Exception:  # noqa: BLE001 - as in ray_hits_many
                continue  # a face the intersector cannot take: no hit
            if not isec.IsDone():
                continue
            for k in range(1, isec.NbPnt() + 1):
                w = isec.WParameter(k)
                if w > 1e-6 and (best is None or w < best[0]):
                    best = (w, fid, k)
                    best_isec = (_t(isec.Pnt(k)), isec.UParameter(k), isec.VParameter(k))
        if best is None or best_isec is None:
            return None
        point, u, v = best_isec
        return best[0], best[1], point, self._normal(best[1], u, v)

    @functools.cached_property
    def _ray_tree(self):  # type: ignore[no-untyped-def]
        """A bounding-volume tree over the face boxes of :attr:`_boxes`, for batched rays.

        Faces are sorted along a Morton curve of their box centres on one common scale
        (cells are cubes, so a long thin part still gets compact leaves), cut into leaves of
        ``_LEAF`` faces, and consecutive nodes are merged pairwise up to the root. A node's
        box is the exact min/max of its children's, so a ray that meets a face box meets
        every box above it (the slab test is monotone): the tree only skips faces the face
        test would reject. Returns (levels from the leaves up as (lo, hi), leaf members).
        """
        import numpy as np

        lo, hi, _ = self._boxes
        blo, bhi = np.minimum(lo, hi), np.maximum(lo, hi)  # the slab test is symmetric in lo/hi
        n = len(blo)
        centre = (blo + bhi) / 2
        cmin = centre.min(axis=0)
        span = max(float((centre.max(axis=0) - cmin).max()), 1e-12)
        cell = np.clip(((centre - cmin) / span * 65535).astype(np.int64), 0, 65535)
        code = np.zeros(n, dtype=np.int64)
        for bit in range(16):
            for axis in range(3):
                code |= ((cell[:, axis] >> bit) & 1) << (3 * bit + axis)
        perm = np.argsort(code, kind="stable")
        leaf = self._LEAF
        n_leaves = -(-n // leaf)
        members = np.full(n_leaves * leaf, -1, dtype=np.int64)
        members[:n] = perm
        starts = np.arange(0, n, leaf)
        levels = [(np.minimum.reduceat(blo[perm], starts, axis=0), np.maximum.reduceat(bhi[perm], starts, axis=0))]
        while len(levels[-1][0]) > 1:
            nlo, nhi = levels[-1]
            pairs = np.arange(0, len(nlo), 2)
            levels.append((np.minimum.reduceat(nlo, pairs, axis=0), np.maximum.reduceat(nhi, pairs, axis=0)))
        return levels, members.reshape(n_leaves, leaf)

    def _ray_rank(self):  # type: ignore[no-untyped-def]
        """Each face's place in the order one ray's broad phase lists boxes (the tie-break of equal entries).

        That is the Morton order of :attr:`_boxes`' groups, or face order without groups.
        """
        import numpy as np

        boxes = self._boxes
        cached = self.__dict__.get("_ray_rank_cache")
        if cached is not None and cached[0] is boxes:
            return cached[1]
        lo, _, groups = boxes
        if groups is None:
            rank = np.arange(len(lo))
        else:
            order = groups[2].ravel()
            order = order[order >= 0]
            rank = np.empty(len(lo), dtype=np.int64)
            rank[order] = np.arange(len(order))
        self.__dict__["_ray_rank_cache"] = (boxes, rank)
        return rank

    #: Faces per leaf of the ray tree; rays per numpy block; (ray, face) box tests per block.
    _LEAF = 8
    #: The broad phase starts at the first level of the tree (from the root) with this many nodes.
    _TOP_NODES = 8
    _RAY_BLOCK = 1024
    _PAIR_BLOCK = 1 << 19
    #: Rays along an axis longer than this (mm) go through the tree (see :class:`_AxisGrid`).
    _GRID_MAX_DIST = 1e20

    def long_rays_cheap(self, directions):  # type: ignore[no-untyped-def]
        """Per direction (numpy n x 3): True when a ray along it of any length lists only its grid cell's boxes.

        That is a direction exactly along an axis whose :class:`_AxisGrid` is used (the broad
        phase of a ray 1e9 long costs no more than that of a short one).
        """
        import numpy as np

        out = np.zeros(len(directions), dtype=bool)
        for k in range(3):
            i, j = (a for a in range(3) if a != k)
            along = (directions[:, i] == 0.0) & (directions[:, j] == 0.0) & (directions[:, k] != 0.0)
            if along.any() and self._axis_grid(k).useful:
                out |= along
        return out

    def _axis_grid(self, k: int) -> _AxisGrid:
        """The (cached) :class:`_AxisGrid` of the padded face boxes along axis k."""
        cache = self.__dict__.setdefault("_axis_grids", {})
        got = cache.get(k)
        if got is None:
            lo, hi, _ = self._boxes
            got = cache[k] = _AxisGrid(lo, hi, k)
        return got  # type: ignore[no-any-return]

    def _broad_phase_many(self, origins: Sequence[Vec3], directions: Sequence[Vec3],
                          max_dists: Sequence[float], missed: bool = False):  # type: ignore[no-untyped-def]
        """Yield (origin, direction, max_dist, candidates, entries) for each ray.

        Candidates are the 0-based indices of the faces whose padded boxes the ray meets
        within ``max_dist``, nearest box entry first, ties in Morton order (see
        :meth:`_ray_rank`): the order in which a test of every face box, sorted stably by
        entry distance, lists them. Entries are those box entry distances. With ``missed``,
        a sixth item, None (it was the candidates the trims say the line misses: they are now
        left out), and the candidates :meth:`_block_pairs` leaves out with ``missed``.
        """
        n_rays = len(origins)
        for r0 in range(0, n_rays, self._RAY_BLOCK):
            r1 = min(n_rays, r0 + self._RAY_BLOCK)
            ray, face, tmin = self._block_pairs(origins[r0:r1], directions[r0:r1], max_dists[r0:r1], missed)
            bounds = ray.searchsorted(range(r1 - r0 + 1)).tolist()
            face_l, tmin_l = face.tolist(), tmin.tolist()
            if not missed:
                for k in range(r1 - r0):
                    a, b = bounds[k], bounds[k + 1]
                    yield origins[r0 + k], directions[r0 + k], max_dists[r0 + k], face_l[a:b], tmin_l[a:b]
                continue
            for k in range(r1 - r0):
                a, b = bounds[k], bounds[k + 1]
                yield (origins[r0 + k], directions[r0 + k], max_dists[r0 + k], face_l[a:b], tmin_l[a:b], None)

    def ray_candidates(self, origins: Sequence[Vec3], directions: Sequence[Vec3],
                       max_dists: Sequence[float]):  # type: ignore[no-untyped-def]
        """The candidates :meth:`ray_hits_many` and :meth:`ray_first_many` test exactly, as numpy arrays.

        Returns (ray, face): for each candidate its ray (index into ``origins``) and its face
        (0-based), by ray, then in the order they are tested. A ray with no candidate meets no
        face (the exact tests would find nothing): such rays are settled without a loop of their own.
        """
        import numpy as np

        rays, faces = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for r0 in range(0, len(origins), self._RAY_BLOCK):
            r1 = min(len(origins), r0 + self._RAY_BLOCK)
            ray, face, _ = self._block_pairs(origins[r0:r1], directions[r0:r1], max_dists[r0:r1], True)
            rays.append(ray + r0)
            faces.append(face)
        return np.concatenate(rays), np.concatenate(faces)

    def _block_pairs(self, origins: Sequence[Vec3], directions: Sequence[Vec3], max_dists: Sequence[float],
                     missed: bool):  # type: ignore[no-untyped-def]
        """The broad phase of one block of rays: (ray, face, entry) numpy arrays sorted by ray, entry, Morton rank.

        With ``missed``, candidates that both consumers (:meth:`ray_hits_many`,
        :meth:`_first_exact`) would skip whatever else they find are left out: planar faces
        whose plane the ray's whole segment keeps clear of (:meth:`_misses_plane` with
        ``max_dist``, in numpy with the same operations: a nearer bound only skips more), those
        whose plane the line crosses clear of the face's trim (:meth:`_trim_keeps`), and
        cylinders the line runs parallel to, off their surface (:meth:`_cyl_keeps`). A skipped
        candidate yields no hit and cannot end a first-hit search that the next one (entered no
        sooner) would not end: the answers are the same.
        """
        import numpy as np

        lo, hi, _ = self._boxes
        o = np.asarray(origins, dtype=float).reshape(-1, 3)
        n_rays = len(o)
        if len(lo) == 0 or n_rays == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        dirs = np.asarray(directions, dtype=float).reshape(-1, 3)
        d = np.where(np.abs(dirs) < 1e-30, 1e-30, dirs)
        inv = 1.0 / d
        md = np.asarray(max_dists, dtype=float).reshape(-1)
        levels, members = self._ray_tree
        rank = self._ray_rank()
        # start a few levels below the root: a wide first level tests every ray against many boxes
        top = len(levels) - 1
        while top > 0 and len(levels[top][0]) < self._TOP_NODES:
            top -= 1
        leaf = members.shape[1]

        def slab(blo, bhi, o, inv, md):  # type: ignore[no-untyped-def]
            t1 = (blo - o) * inv
            t2 = (bhi - o) * inv
            near, far = np.minimum(t1, t2), np.maximum(t1, t2)
            # max/min over the 3 columns pairwise: the same values as .max(axis=1), without
            # numpy's slow reduction along a short axis
            tmin = np.maximum(np.maximum(near[:, 0], near[:, 1]), near[:, 2])
            tmax = np.minimum(np.minimum(far[:, 0], far[:, 1]), far[:, 2])
            return tmin, (tmax >= np.maximum(tmin, 0.0)) & (tmin <= md)

        # rays exactly along an axis of the part take their candidates from that axis's grid, the
        # others from the tree; both are tested with the same slab, so the same pairs pass
        tree_rays = np.ones(n_rays, dtype=bool)
        pair_rays, pair_faces = [], []
        finite = np.isfinite(o).all(axis=1) & (md < self._GRID_MAX_DIST)
        for k in range(3):
            i, j = (a for a in range(3) if a != k)
            along = finite & (dirs[:, i] == 0.0) & (dirs[:, j] == 0.0) & (dirs[:, k] != 0.0)
            if along.any() and self._axis_grid(k).useful:
                r = np.flatnonzero(along)
                rr, ff = self._axis_grid(k).pairs(r, o[r, i], o[r, j])
                pair_rays.append(rr)
                pair_faces.append(ff)
                tree_rays &= ~along
        if tree_rays.any():
            n_top = len(levels[top][0])
            sub = np.flatnonzero(tree_rays)
            ray = np.repeat(sub, n_top)
            node = np.tile(np.arange(n_top), len(sub))
            for k in range(top, -1, -1):
                nlo, nhi = levels[k]
                _, ok = slab(nlo[node], nhi[node], o[ray], inv[ray], md[ray])
                ray, node = ray[ok], node[ok]
                if k > 0:
                    n_below = len(levels[k - 1][0])
                    ray = np.repeat(ray, 2)
                    node = (node[:, None] * 2 + np.arange(2)).ravel()
                    keep = node < n_below
                    ray, node = ray[keep], node[keep]
            ray = np.repeat(ray, leaf)
            face = members[node].ravel()
            keep = face >= 0
            pair_rays.append(ray[keep])
            pair_faces.append(face[keep])
        ray = np.concatenate(pair_rays) if len(pair_rays) > 1 else pair_rays[0]
        face = np.concatenate(pair_faces) if len(pair_faces) > 1 else pair_faces[0]
        rays_parts, faces_parts, tmin_parts = [], [], []
        for p0 in range(0, len(ray), self._PAIR_BLOCK):
            rr, ff = ray[p0:p0 + self._PAIR_BLOCK], face[p0:p0 + self._PAIR_BLOCK]
            tmin, ok = slab(lo[ff], hi[ff], o[rr], inv[rr], md[rr])
            rays_parts.append(rr[ok])
            faces_parts.append(ff[ok])
            tmin_parts.append(tmin[ok])
        ray = np.concatenate(rays_parts) if rays_parts else np.zeros(0, dtype=np.int64)
        face = np.concatenate(faces_parts) if faces_parts else np.zeros(0, dtype=np.int64)
        tmin = np.concatenate(tmin_parts) if tmin_parts else np.zeros(0)
        order = np.lexsort((rank[face], tmin, ray))  # by ray, then entry, then Morton rank
        ray, face, tmin = ray[order], face[order], tmin[order]
        if missed:
            keep = self._plane_keeps(ray, face, o, dirs, md)
            keep &= self._cyl_keeps(ray, face, o, dirs)
            ray, face, tmin = ray[keep], face[keep], tmin[keep]
            trims = self._plane_trims
            if trims:
                keep = self._trim_keeps(trims, ray, face, o, dirs)
                ray, face, tmin = ray[keep], face[keep], tmin[keep]
        return ray, face, tmin

    #: A planar face with at least this many edges gets a :class:`_PlaneTrim` (the exact
    #: intersector classifies a hit point against every edge of the face: a plate's top face
    #: with a thousand openings costs half a millisecond per ray).
    _TRIM_MIN_EDGES = 24

    @functools.cached_property
    def _plane_trims(self) -> dict[int, _PlaneTrim]:
        """:class:`_PlaneTrim` by 0-based face index, for the planar faces with many edges that have one."""
        out: dict[int, _PlaneTrim] = {}
        for fid, f in self.faces.items():
            if f.kind != "plane" or f.normal is None or f.origin is None:
                continue
            if len(self.face_edges[fid]) < self._TRIM_MIN_EDGES:
                continue
            trim = _PlaneTrim.build(self.solid.face(fid), f.normal, f.origin, self)
            if trim is not None:
                out[fid - 1] = trim
        return out

    @functools.cached_property
    def _plane_rows(self):  # type: ignore[no-untyped-def]
        """:attr:`_planes` as numpy: (is a plane, (n, 4) rows nx, ny, nz, c; zeros for the others)."""
        import numpy as np

        planes = self._planes
        is_plane = np.array([p is not None for p in planes], dtype=bool)
        rows = np.array([p if p is not None else (0.0, 0.0, 0.0, 0.0) for p in planes], dtype=float).reshape(-1, 4)
        return is_plane, rows

    def _plane_keeps(self, ray, face, o, d, md):  # type: ignore[no-untyped-def]
        """False for the (ray, face) pairs :meth:`_misses_plane` rejects with the whole segment (``md``).

        The same operations in the same order as :meth:`_misses_plane` and :func:`_unit`, on
        float64 arrays: the same bits, so the same verdicts.
        """
        import numpy as np

        is_plane, rows = self._plane_rows
        keep = np.ones(len(ray), dtype=bool)
        sel = np.flatnonzero(is_plane[face])
        if len(sel) == 0:
            return keep
        ud, pos = _unit_rows(d)
        r, pl = ray[sel], rows[face[sel]]
        nx, ny, nz, c = pl[:, 0], pl[:, 1], pl[:, 2], pl[:, 3]
        oo, uu = o[r], ud[r]
        s0 = nx * oo[:, 0] + ny * oo[:, 1] + nz * oo[:, 2] - c
        dn = nx * uu[:, 0] + ny * uu[:, 1] + nz * uu[:, 2]
        sa, sb = s0 + 1e-6 * dn, s0 + md[r] * dn
        tol = self._PLANE_MISS
        keep[sel] = ~(((sa > tol) & (sb > tol)) | ((sa < -tol) & (sb < -tol)))
        return keep

    def _trim_keeps(self, trims: dict[int, _PlaneTrim], ray, face, o, d):  # type: ignore[no-untyped-def]
        """False for the (ray, face) pairs whose line crosses the face's plane clear of its trim (``missed_by``).

        Only faces with a :class:`_PlaneTrim` are looked at; each point is classified on its own,
        so the verdicts do not depend on which other pairs are in the batch.
        """
        import numpy as np

        keep = np.ones(len(ray), dtype=bool)
        fast = np.zeros(len(self._planes), dtype=bool)
        fast[list(trims)] = True
        sel = np.flatnonzero(fast[face])
        if len(sel) == 0:
            return keep
        rr, ff = ray[sel], face[sel]
        for idx in np.unique(ff).tolist():
            mine = ff == idx
            keep[sel[mine]] = ~trims[idx].missed_by(o[rr[mine]], d[rr[mine]])
        return keep

    @functools.cached_property
    def _cyl_rows(self):  # type: ignore[no-untyped-def]
        """The cylinders' axes as numpy: (is a cylinder, (n, 7) rows ax, ay, az, cx, cy, cz, radius; zeros else)."""
        import numpy as np

        n = self.solid.face_count
        is_cyl = np.zeros(n, dtype=bool)
        rows = np.zeros((n, 7))
        for fid, f in self.faces.items():
            if f.kind == "cylinder" and f.axis is not None and f.origin is not None and f.radius is not None:
                is_cyl[fid - 1] = True
                rows[fid - 1] = (*f.axis, *f.origin, f.radius)
        return is_cyl, rows

    def _cyl_keeps(self, ray, face, o, d):  # type: ignore[no-untyped-def]
        """False for the (ray, face) pairs whose line runs parallel to a cylinder face's axis, off its surface.

        Such a line stays at one distance from the axis: farther than :attr:`_PLANE_MISS` from the
        radius, it never meets the cylinder (inside or outside it), so the face's exact test finds
        nothing. Parallel means the cross product of the unit direction and the axis is exactly 0
        (a ray along an axis of the part, a fillet or bore about that axis); other pairs are kept.
        """
        import numpy as np

        is_cyl, rows = self._cyl_rows
        keep = np.ones(len(ray), dtype=bool)
        sel = np.flatnonzero(is_cyl[face])
        if len(sel) == 0:
            return keep
        ud, pos = _unit_rows(d)
        r, cy = ray[sel], rows[face[sel]]
        ax, ay, az = cy[:, 0], cy[:, 1], cy[:, 2]
        uu = ud[r]
        ux, uy, uz = uu[:, 0], uu[:, 1], uu[:, 2]
        par = (uy * az - uz * ay == 0.0) & (uz * ax - ux * az == 0.0) & (ux * ay - uy * ax == 0.0) & pos[r]
        rel = o[r] - cy[:, 3:6]
        h = rel[:, 0] * ax + rel[:, 1] * ay + rel[:, 2] * az
        px, py, pz = rel[:, 0] - h * ax, rel[:, 1] - h * ay, rel[:, 2] - h * az
        dist = np.sqrt(px * px + py * py + pz * pz)
        keep[sel] = ~(par & (np.abs(dist - cy[:, 6]) > self._PLANE_MISS))
        return keep

    def face_distance(self, a: int, b: int) -> tuple[float, Vec3, Vec3] | None:
        """Exact minimum distance between faces ``a`` and ``b`` and the two closest points."""
        dss = BRepExtrema_DistShapeShape(self.solid.face(a), self.solid.face(b))
        if not dss.IsDone() or dss.NbSolution() == 0:
            return None
        return dss.Value(), _t(dss.PointOnShape1(1)), _t(dss.PointOnShape2(1))

    def face_normal_at(self, fid: int, point: Vec3) -> Vec3 | None:
        """Outward normal of face ``fid`` at the point of it nearest to ``point``."""
        from OCP.GeomAPI import GeomAPI_ProjectPointOnSurf

        info = self.faces[fid]
        if info.kind == "plane":
            return info.normal
        face = self.solid.face(fid)
        surf = BRep_Tool.Surface_s(face)
        proj = GeomAPI_ProjectPointOnSurf(gp_Pnt(*point), surf)
        if proj.NbPoints() == 0:
            return None
        u, v = proj.LowerDistanceParameters()
        return self._point_normal(fid, u, v)[1]

    def on_face(self, fid: int, point: Vec3, tol: float = 1e-6) -> bool:
        """True when ``point`` lies on face ``fid`` (within ``tol`` of its surface, inside its trim)."""
        from OCP.GeomAPI import GeomAPI_ProjectPointOnSurf

        cache = self.__dict__.setdefault("_fclass_cache", {})
        entry = cache.get(fid)
        if entry is None:
            face = self.solid.face(fid)
            entry = cache[fid] = (BRep_Tool.Surface_s(face), BRepTopAdaptor_FClass2d(face, 1e-7))
        surf, cls = entry
        proj = GeomAPI_ProjectPointOnSurf(gp_Pnt(*point), surf)
        if proj.NbPoints() == 0 or proj.LowerDistance() > tol:
            return False
        u, v = proj.LowerDistanceParameters()
        return cls.Perform(gp_Pnt2d(u, v)) in (TopAbs_IN, TopAbs_ON)

    def is_void(self, point: Vec3, direction: Vec3) -> bool:
        """True when ``point`` is outside the material, by the parity of ray crossings.

        Two rays (``direction`` and a skewed one) must agree; when they do not (a ray
        grazing an edge), the exact classifier decides.
        """
        return self.is_void_many([point], [direction])[0]

    def is_void_many(self, points: Sequence[Vec3], directions: Sequence[Vec3]) -> list[bool]:
        """:meth:`is_void` for many points at once (their rays cast in one batch)."""
        skews = []
        for d in directions:
            skew = (d[0] + 0.0137, d[1] - 0.0291, d[2] + 0.0173)
            n = math.sqrt(_dot(skew, skew))
            skews.append((skew[0] / n, skew[1] / n, skew[2] / n))
        k = len(points)
        hits = self.ray_hits_many([*points, *points], [*directions, *skews], [1e9] * (2 * k))
        out = []
        for i, p in enumerate(points):
            a = len(hits[i]) % 2 == 0
            b = len(hits[k + i]) % 2 == 0
            out.append(a if a == b else self.classify(p) == "out")
        return out

    def classify(self, point: Vec3, tol: float = 1e-7) -> str:
        """``in``, ``on`` or ``out`` of the solid."""
        c = self.__dict__.get("_classifier")
        if c is None:
            c = BRepClass3d_SolidClassifier(self.solid.shape)
            self.__dict__["_classifier"] = c
        c.Perform(gp_Pnt(*point), tol)
        st = c.State()
        return "in" if st == TopAbs_IN else "on" if st == TopAbs_ON else "out"

    def face_loops(self, fid: int, deflection: float = 0.002) -> list[list[Vec3]]:
        """Boundary loops of face ``fid`` as ordered point lists, outer loop first.

        Edges are discretised so that the chord error stays below ``deflection`` mm.
        """
        return self._loops(self.solid.face(fid), deflection)

    def unshadowed_loops(self, floor_id: int, over: Sequence[int], direction: Vec3,
                         deflection: float = 0.002) -> list[list[list[Vec3]]]:
        """The pieces of planar face ``floor_id`` that faces ``over`` leave uncovered along ``direction``.

        Each face in ``over`` casts its shadow onto the floor along -direction (a prism swept
        from it to below the floor); what the shadows leave of the floor is what a cutter coming
        in along ``direction`` can reach. Returns each piece's loops (outer first, as
        :meth:`face_loops`), largest piece first; [] when nothing is left.
        """
        from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut
        from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
        from OCP.TopAbs import TopAbs_FACE
        from OCP.TopExp import TopExp_Explorer
        from OCP.TopoDS import TopoDS
        from OCP.TopTools import TopTools_ListOfShape

        from dfm.errors import KernelError

        floor = self.solid.face(floor_id)
        h_floor = _dot(self.faces[floor_id].centroid, direction)
        tools = TopTools_ListOfShape()
        for fid in over:
            lo, hi = self.faces[fid].bbox
            top = max(_dot((x, y, z), direction)
                      for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2]))
            length = top - h_floor + 1.0
            vec = gp_Vec(-direction[0] * length, -direction[1] * length, -direction[2] * length)
            tools.Append(BRepPrimAPI_MakePrism(self.solid.face(fid), vec).Shape())
        args = TopTools_ListOfShape()
        args.Append(floor)
        cut = BRepAlgoAPI_Cut()
        cut.SetArguments(args)
        cut.SetTools(tools)
        cut.Build()
        if not cut.IsDone():
            raise KernelError(f"shadows on face {floor_id}: the boolean cut failed")
        pieces = []
        exp = TopExp_Explorer(cut.Shape(), TopAbs_FACE)
        while exp.More():
            face = TopoDS.Face_s(exp.Current())
            props = GProp_GProps()
            BRepGProp.SurfaceProperties_s(face, props)
            if props.Mass() > 1e-12:
                pieces.append((props.Mass(), self._loops(face, deflection)))
            exp.Next()
        pieces.sort(key=lambda p: -p[0])
        return [loops for _, loops in pieces]

    def _loops(self, face, deflection: float) -> list[list[Vec3]]:  # type: ignore[no-untyped-def]
        from OCP.BRepTools import BRepTools_WireExplorer
        from OCP.GCPnts import GCPnts_QuasiUniformDeflection
        from OCP.TopAbs import TopAbs_WIRE
        from OCP.TopExp import TopExp_Explorer
        from OCP.TopoDS import TopoDS

        outer = BRepTools.OuterWire_s(face)
        wires = [outer] if not outer.IsNull() else []
        exp = TopExp_Explorer(face, TopAbs_WIRE)
        while exp.More():
            w = TopoDS.Wire_s(exp.Current())
            if outer.IsNull() or not w.IsSame(outer):
                wires.append(w)
            exp.Next()
        loops = []
        for w in wires:
            pts: list[Vec3] = []
            wexp = BRepTools_WireExplorer(w, face)
            while wexp.More():
                edge = wexp.Current()
                curve = BRepAdaptor_Curve(edge)
                disc = GCPnts_QuasiUniformDeflection(curve, deflection)
                seg = [_t(disc.Value(k)) for k in range(1, disc.NbPoints() + 1)] if disc.IsDone() else []
                if edge.Orientation() == TopAbs_REVERSED:
                    seg.reverse()
                if pts and seg:
                    seg = seg[1:]
                pts.extend(seg)
                wexp.Next()
            if len(pts) > 1 and _dot(_sub(pts[0], pts[-1]), _sub(pts[0], pts[-1])) < 1e-14:
                pts.pop()
            loops.append(pts)
        return loops

    def section_profile(self, origin: Vec3, axis: Vec3, deflection: float = 0.0005) -> list[tuple[float, float]]:
        """(axial position, distance to axis) of the solid's boundary on one half-plane.

        The half-plane contains the axis and extends to one side of it; the points are the
        discretised section curves, so a modelled thread's profile appears as a zig-zag.
        """
        from OCP.BRepAlgoAPI import BRepAlgoAPI_Section
        from OCP.GCPnts import GCPnts_QuasiUniformDeflection
        from OCP.gp import gp_Ax3, gp_Pln
        from OCP.TopAbs import TopAbs_EDGE
        from OCP.TopExp import TopExp_Explorer
        from OCP.TopoDS import TopoDS

        d = gp_Dir(*axis)
        ref = gp_Dir(1, 0, 0) if abs(axis[0]) < 0.9 else gp_Dir(0, 1, 0)
        xdir = gp_Dir(gp_Vec(ref).Crossed(gp_Vec(d)))  # ⊥ axis
        # plane through the axis: normal ⊥ axis and ⊥ xdir's partner
        normal = gp_Dir(gp_Vec(d).Crossed(gp_Vec(xdir)))
        pln = gp_Pln(gp_Ax3(gp_Pnt(*origin), normal, xdir))
        sec = BRepAlgoAPI_Section(self.solid.shape, pln, False)
        # Curves on the solid's faces let the intersector bound each section edge's
        # tolerance from them instead of projecting points back on a B-spline face (8 s of a
        # tapped hole's 10): the same section edges, the same points.
        sec.ComputePCurveOn1(True)
        sec.Approximation(False)
        sec.Build()
        out: list[tuple[float, float]] = []
        if not sec.IsDone():
            return out
        exp = TopExp_Explorer(sec.Shape(), TopAbs_EDGE)
        xd = _t(xdir)
        while exp.More():
            curve = BRepAdaptor_Curve(TopoDS.Edge_s(exp.Current()))
            disc = GCPnts_QuasiUniformDeflection(curve, deflection)
            if disc.IsDone():
                for k in range(1, disc.NbPoints() + 1):
                    p = _t(disc.Value(k))
                    rel = _sub(p, origin)
                    x = _dot(rel, xd)
                    if x > 0:
                        out.append((_dot(rel, axis), x))
            exp.Next()
        return out

    def edge_points(self, eid: int, n: int = 5) -> list[Vec3]:
        """``n`` points evenly spaced in parameter along edge ``eid``."""
        curve = BRepAdaptor_Curve(self.solid.edge(eid))
        t0, t1 = curve.FirstParameter(), curve.LastParameter()
        return [_t(curve.Value(t0 + (t1 - t0) * k / (n - 1))) for k in range(n)] if n > 1 else [
            _t(curve.Value((t0 + t1) / 2))
        ]


class _AxisGrid:
    """The padded face boxes seen along axis k, binned on a grid over the two other axes (i, j).

    A ray exactly along ±e_k (its i and j components 0) has an inverse direction of 1e30 in
    i and j in the slab test (``Geometry._block_pairs``): a box whose [lo - MARGIN, hi + MARGIN]
    in i or j misses the ray's line enters at 1e21 or more, or leaves behind the start, so
    the slab test rejects it for any ray shorter than ``Geometry._GRID_MAX_DIST``. The grid
    lists, for a ray's cell, every box whose margin-widened i-j rectangle reaches that cell
    (and the boxes wider than :attr:`WIDE` cells, listed for every ray): a superset of the
    boxes the slab test passes. Cells are computed with monotone arithmetic and clipped
    alike for boxes and rays, so a rectangle holding the ray's line always reaches its cell.
    A grid whose cells hold many boxes (a row of walls across the axis: each lies across
    every ray) is not :attr:`useful`: the tree, which a short ray descends only near its
    start, lists fewer pairs to test.
    """

    MARGIN = 1e-9
    WIDE = 64
    #: Boxes a ray's cell may list on average (the wide ones included) for the grid to be used.
    MAX_PER_CELL = 32

    def __init__(self, lo, hi, k: int) -> None:  # type: ignore[no-untyped-def]
        import numpy as np

        i, j = (a for a in range(3) if a != k)
        n = len(lo)
        m = self.MARGIN
        li, hi_i, lj, hi_j = lo[:, i] - m, hi[:, i] + m, lo[:, j] - m, hi[:, j] + m
        x0, y0 = float(li.min()), float(lj.min())
        ext_i = max(float(hi_i.max()) - x0, 1e-9)
        ext_j = max(float(hi_j.max()) - y0, 1e-9)
        size_i = max(float(np.median(hi_i - li)), ext_i * 1e-6)
        size_j = max(float(np.median(hi_j - lj)), ext_j * 1e-6)
        ni = max(1, min(4096, int(round(ext_i / size_i))))
        nj = max(1, min(4096, int(round(ext_j / size_j))))
        budget = max(1, 2 * n)
        if ni * nj > budget:
            scale = math.sqrt(budget / (ni * nj))
            ni, nj = max(1, int(ni * scale)), max(1, int(nj * scale))
        self.x0, self.y0, self.ni, self.nj = x0, y0, ni, nj
        self.ci, self.cj = ext_i / ni, ext_j / nj
        a0, a1 = self._col(li, x0, self.ci, ni), self._col(hi_i, x0, self.ci, ni)
        b0, b1 = self._col(lj, y0, self.cj, nj), self._col(hi_j, y0, self.cj, nj)
        count = (a1 - a0 + 1) * (b1 - b0 + 1)
        wide = count > self.WIDE
        self.wide = np.flatnonzero(wide)
        narrow = np.flatnonzero(~wide)
        cnt = count[narrow]
        face = np.repeat(narrow, cnt)
        # each narrow box's cells, row by row of its rectangle
        first = np.cumsum(cnt) - cnt
        q = np.arange(int(cnt.sum())) - np.repeat(first, cnt)
        width = np.repeat(b1[narrow] - b0[narrow] + 1, cnt)
        cell = (np.repeat(a0[narrow], cnt) + q // width) * nj + np.repeat(b0[narrow], cnt) + q % width
        order = np.argsort(cell, kind="stable")
        self.members = face[order]
        self.starts = np.searchsorted(cell[order], np.arange(ni * nj + 1))
        per_cell = np.diff(self.starts)
        busy = per_cell[per_cell > 0]
        self.useful = bool(len(busy) == 0 or float(busy.mean()) + len(self.wide) <= self.MAX_PER_CELL)

    @staticmethod
    def _col(v, v0: float, c: float, n: int):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.clip(np.floor((v - v0) / c), 0, n - 1).astype(np.int64)

    def pairs(self, rays, oi, oj):  # type: ignore[no-untyped-def]
        """(ray, face) pairs to slab-test for rays (their indices ``rays``) whose lines pass through (oi, oj)."""
        import numpy as np

        cell = self._col(oi, self.x0, self.ci, self.ni) * self.nj + self._col(oj, self.y0, self.cj, self.nj)
        start = self.starts[cell]
        cnt = self.starts[cell + 1] - start
        first = np.cumsum(cnt) - cnt
        total = int(cnt.sum())
        face = self.members[np.repeat(start - first, cnt) + np.arange(total)]
        ray = np.repeat(rays, cnt)
        if len(self.wide):
            ray = np.concatenate([ray, np.repeat(rays, len(self.wide))])
            face = np.concatenate([face, np.tile(self.wide, len(rays))])
        return ray, face


class _PlaneTrim:
    """A planar face's boundary in the plane, exactly (lines and circle arcs): where a line misses the face.

    The exact intersector (``IntCurvesFace_Intersector``) classifies the point where a line
    crosses the face's plane against every edge of the face. Here the edges are kept as 2D
    segments and y-monotone circle arcs, binned in rows along y, and a crossing point is
    classified by the parity of the boundary crossings of a ray from it towards -x. The
    answer is used only where it cannot differ from the exact one: the point lies farther
    than :attr:`margin` from every edge (and from every edge end on its row), well beyond
    the face's tolerances; a point nearer the boundary is left to the exact intersector.
    Faces with other curves, internal edges or open loops get no trim (``build`` gives None).
    """

    __slots__ = ("normal", "origin", "e1", "e2", "margin", "y0", "h", "rows", "el", "row_start", "row_members")

    #: A line leaning less than this (sine of its angle) to the plane is left to the exact test.
    MIN_SINE = 1e-3
    #: :meth:`classify` in one pass up to this many (point, element) pairs, else row by row.
    MAX_PAIRS = 1 << 16

    def __init__(self) -> None:
        zero: Vec3 = (0.0, 0.0, 0.0)
        self.normal: Vec3 = zero
        self.origin: Vec3 = zero
        self.e1: Vec3 = zero
        self.e2: Vec3 = zero
        self.margin = 0.0
        self.y0 = 0.0
        self.h = 1.0
        self.rows: list[Any] = []
        self.row_start: Any = None
        self.row_members: Any = None
        self.el: Any = None

    @classmethod
    def build(cls, face, normal: Vec3, origin: Vec3,  # type: ignore[no-untyped-def]
              geo: Geometry | None = None) -> _PlaneTrim | None:
        """The trim of a planar ``face`` (plane through ``origin`` with unit ``normal``), or None.

        With ``geo`` (the solid's geometry), a line's ends are its edge record's (the same
        curve values) instead of being read from the kernel again.
        """
        import numpy as np
        from OCP.TopAbs import TopAbs_EDGE, TopAbs_FORWARD, TopAbs_VERTEX
        from OCP.TopExp import TopExp_Explorer
        from OCP.TopoDS import TopoDS

        n = _unit(normal)
        ref = (1.0, 0.0, 0.0) if abs(n[0]) < 0.9 else (0.0, 1.0, 0.0)
        e1 = _unit((ref[1] * n[2] - ref[2] * n[1], ref[2] * n[0] - ref[0] * n[2], ref[0] * n[1] - ref[1] * n[0]))
        e2 = (n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0])

        def uv(p: Vec3) -> tuple[float, float]:
            r = _sub(p, origin)
            return _dot(r, e1), _dot(r, e2)

        # the largest tolerance of the face, its edges and their vertices (each edge's, in one call)
        tol = max(BRep_Tool.Tolerance_s(face), BRep_Tool.MaxTolerance_s(face, TopAbs_EDGE),
                  BRep_Tool.MaxTolerance_s(face, TopAbs_VERTEX))
        off = 0.0
        # rows of el: kind (0 segment, 1 arc), ax, ay, bx, by, cx, cy, r, branch
        el: list[tuple[float, ...]] = []
        exp = TopExp_Explorer(face, TopAbs_EDGE)
        more, current, step, as_edge, degenerated = exp.More, exp.Current, exp.Next, TopoDS.Edge_s, \
            BRep_Tool.Degenerated_s
        records = geo.edges if geo is not None else None
        edge_id = geo.solid.edge_id if geo is not None else None
        while more():
            edge = as_edge(current())
            step()
            if edge.Orientation() not in (TopAbs_FORWARD, TopAbs_REVERSED) or degenerated(edge):
                return None
            info = records.get(edge_id(edge)) if records is not None and edge_id is not None else None
            if info is not None and info.kind == "line":  # its record's ends: BRepAdaptor_Curve's values at t0, t1
                p0, p1 = info.start, info.end
                off = max(off, abs(_dot(_sub(p0, origin), n)), abs(_dot(_sub(p1, origin), n)))
                (ax, ay), (bx, by) = uv(p0), uv(p1)
                el.append((0.0, ax, ay, bx, by, 0.0, 0.0, 0.0, 0.0))
                continue
            try:
                curve = BRepAdaptor_Curve(edge)
                t0, t1 = curve.FirstParameter(), curve.LastParameter()
                ctype = curve.GetType()
            except Exception:  # noqa: BLE001 - an edge without a 3D curve: leave the face to the exact test
                return None
            if ctype == GeomAbs_Line:
                p0, p1 = _t(curve.Value(t0)), _t(curve.Value(t1))
                off = max(off, abs(_dot(_sub(p0, origin), n)), abs(_dot(_sub(p1, origin), n)))
                (ax, ay), (bx, by) = uv(p0), uv(p1)
                el.append((0.0, ax, ay, bx, by, 0.0, 0.0, 0.0, 0.0))
            elif ctype == GeomAbs_Circle:
                circ = curve.Circle()
                axis = _t(circ.Axis().Direction())
                if abs(abs(_dot(axis, n)) - 1.0) > 1e-12 or not (t1 > t0) or t1 - t0 > 2 * math.pi + 1e-9:
                    return None
                c3 = _t(circ.Location())
                off = max(off, abs(_dot(_sub(c3, origin), n)))
                r = circ.Radius()
                cx, cy = uv(c3)
                xd, yd = _t(circ.XAxis().Direction()), _t(circ.YAxis().Direction())
                x2, y2 = (_dot(xd, e1), _dot(xd, e2)), (_dot(yd, e1), _dot(yd, e2))
                alpha = math.atan2(x2[1], x2[0])
                sense = 1.0 if x2[0] * y2[1] - x2[1] * y2[0] > 0 else -1.0
                a0, a1 = (alpha + t0, alpha + t1) if sense > 0 else (alpha - t1, alpha - t0)
                cuts = [a0]
                k = math.ceil((a0 - math.pi / 2) / math.pi)
                while math.pi / 2 + k * math.pi < a1:
                    cut = math.pi / 2 + k * math.pi
                    if cut > a0:
                        cuts.append(cut)
                    k += 1
                cuts.append(a1)
                for f0, f1 in zip(cuts, cuts[1:], strict=False):
                    if f1 <= f0:
                        continue
                    branch = 1.0 if math.cos((f0 + f1) / 2) > 0 else -1.0
                    el.append((1.0, cx + r * math.cos(f0), cy + r * math.sin(f0), cx + r * math.cos(f1),
                               cy + r * math.sin(f1), cx, cy, r, branch))
            else:
                return None
        if len(el) < 2:
            return None
        arr = np.array(el, dtype=float)
        scale = float(np.abs(arr[:, 1:5]).max(initial=1.0))
        margin = 1e-6 + 4.0 * tol + off + 1e-12 * scale
        if not cls._closed(arr[:, 1:5], margin / 4):
            return None
        trim = cls()
        trim.normal, trim.origin, trim.e1, trim.e2, trim.margin = n, origin, e1, e2, margin
        ylo = np.minimum(arr[:, 2], arr[:, 4]) - margin
        yhi = np.maximum(arr[:, 2], arr[:, 4]) + margin
        y0, y1 = float(ylo.min()), float(yhi.max())
        n_rows = max(1, min(1024, len(arr) // 4))
        h = max((y1 - y0) / n_rows, 1e-12)
        trim.y0, trim.h = y0, h
        r0 = np.clip(np.floor((ylo - y0) / h), 0, n_rows - 1).astype(np.int64)
        r1 = np.clip(np.floor((yhi - y0) / h), 0, n_rows - 1).astype(np.int64)
        members: list[list[int]] = [[] for _ in range(n_rows)]
        for i, (a, b) in enumerate(zip(r0.tolist(), r1.tolist(), strict=True)):
            for row in range(a, b + 1):
                members[row].append(i)
        trim.el = arr
        trim.rows = [np.asarray(m, dtype=np.int64) for m in members]
        trim.row_start = np.concatenate(([0], np.cumsum([len(m) for m in members]))).astype(np.int64)
        trim.row_members = np.asarray([i for m in members for i in m], dtype=np.int64)
        return trim

    @staticmethod
    def _closed(ends, eps: float) -> bool:  # type: ignore[no-untyped-def]
        """True when every element end meets another element's end (within ``eps``): closed loops.

        The ends sorted by x; each end is compared with those of a window 2 ``eps`` wide either
        side of it in x (the test, |dx| <= eps and |dy| <= eps, decides: the window only
        has to hold every end that can pass it).
        """
        import numpy as np

        n = len(ends)
        x = np.concatenate([ends[:, 0], ends[:, 2]])
        y = np.concatenate([ends[:, 1], ends[:, 3]])
        elem = np.concatenate([np.arange(n), np.arange(n)])
        order = np.argsort(x, kind="stable")
        xs = x[order]
        a = np.searchsorted(xs, x - 2 * eps, side="left")
        b = np.searchsorted(xs, x + 2 * eps, side="right")
        cnt = b - a
        first = np.cumsum(cnt) - cnt
        k = np.repeat(np.arange(len(x)), cnt)
        q = order[np.repeat(a - first, cnt) + np.arange(int(cnt.sum()))]
        ok = (q != k) & (elem[q] != elem[k]) & (np.abs(x[q] - x[k]) <= eps) & (np.abs(y[q] - y[k]) <= eps)
        return bool((np.bincount(k[ok], minlength=len(x)) > 0).all())

    def missed_by(self, origins, directions):  # type: ignore[no-untyped-def]
        """For lines through ``origins`` along ``directions`` (numpy n×3): True where the line misses the face."""
        import numpy as np

        n = np.asarray(self.normal)
        d = directions / np.linalg.norm(directions, axis=1)[:, None]
        dn = d @ n
        s0 = (origins - np.asarray(self.origin)) @ n
        ok = np.abs(dn) > self.MIN_SINE
        w = np.where(ok, -s0 / np.where(ok, dn, 1.0), 0.0)
        p = origins - np.asarray(self.origin) + w[:, None] * d
        status = self.classify(p @ np.asarray(self.e1), p @ np.asarray(self.e2))
        return ok & (status == 0)

    def classify(self, qx, qy):  # type: ignore[no-untyped-def]
        """Per point (plane coordinates): 0 outside the face, 1 inside, 2 too near the boundary to tell.

        Every (point, element of the point's row) pair in one numpy pass: the same element-wise
        arithmetic as row by row, and per point an exact "any" and an integer count.
        """
        import numpy as np

        out = np.full(len(qx), 2, dtype=np.int8)
        n_rows = len(self.rows)
        row = np.floor((qy - self.y0) / self.h)
        inside = (row >= 0) & (row < n_rows)
        out[~inside] = 0  # beyond the face's extent in y, more than the margin away
        pts = np.flatnonzero(inside)
        rows = row[pts].astype(np.int64)
        start = self.row_start[rows]
        cnt = self.row_start[rows + 1] - start
        out[pts[cnt == 0]] = 0
        pts, start, cnt = pts[cnt > 0], start[cnt > 0], cnt[cnt > 0]
        if len(pts) == 0:
            return out
        first = np.cumsum(cnt) - cnt  # each point's first pair
        total = int(cnt.sum())
        if total > self.MAX_PAIRS:
            return self._classify_by_rows(qx, qy)  # (the pairs' gathered columns would not pay)
        mem = self.row_members[np.repeat(start - first, cnt) + np.arange(total)]
        q = np.repeat(pts, cnt)
        m = self.margin
        near, left = self._pairs_by_kind(self.el[mem], qx[q], qy[q], m)
        count = np.add.reduceat(left.astype(np.int64), first)
        any_near = np.add.reduceat(near.astype(np.int64), first) > 0
        out[pts] = np.where(any_near, 2, (count % 2).astype(np.int8))
        return out


    def _classify_by_rows(self, qx, qy):  # type: ignore[no-untyped-def]
        """:meth:`classify` row by row (each row's points against its elements, broadcast): for large batches."""
        import numpy as np

        out = np.full(len(qx), 2, dtype=np.int8)
        n_rows = len(self.rows)
        row = np.floor((qy - self.y0) / self.h)
        inside = (row >= 0) & (row < n_rows)
        out[~inside] = 0  # beyond the face's extent in y, more than the margin away
        row = np.where(inside, row, 0).astype(np.int64)
        m = self.margin
        el = self.el
        order = np.argsort(row, kind="stable")
        srow = row[order]
        starts = np.searchsorted(srow, np.arange(n_rows + 1))
        for r in np.unique(srow[inside[order]]).tolist():
            q = order[starts[r]:starts[r + 1]]
            q = q[inside[q]]
            mem = self.rows[r]
            if len(mem) == 0:
                out[q] = 0
                continue
            near, left = self._pairs(el[mem], qx[q][:, None], qy[q][:, None], m)
            count = left.sum(axis=1)
            out[q] = np.where(near.any(axis=1), 2, (count % 2).astype(np.int8))
        return out

    @classmethod
    def _pairs_by_kind(cls, e, x, y, m):  # type: ignore[no-untyped-def]
        """:meth:`_pairs` for 1-D pairs, the segments' and the arcs' formulas each on its own pairs only.

        The same element-wise operations on each pair as :meth:`_pairs` (which computes both
        formulas for every pair and keeps one): the same verdicts, in about half the work.
        """
        import numpy as np

        arc = e[:, 0] > 0.5
        if not arc.any() or arc.all():
            return cls._pairs(e, x, y, m)
        near = np.empty(len(e), dtype=bool)
        left = np.empty(len(e), dtype=bool)
        for sel in (np.flatnonzero(~arc), np.flatnonzero(arc)):
            near[sel], left[sel] = cls._pairs(e[sel], x[sel], y[sel], m)
        return near, left

    @staticmethod
    def _pairs(e, x, y, m):  # type: ignore[no-untyped-def]
        """Per (point, element) pair, element-wise (broadcast): (near, crossed).

        Near: the element passes within ``m`` of the point, or has an end on the point's ray line,
        left of it (the half-open rule could miscount). Crossed: the ray to the point's left crosses
        it. ``e``: element rows; ``x``, ``y``: the points.
        """
        import numpy as np

        kind, ax, ay, bx, by = e[:, 0], e[:, 1], e[:, 2], e[:, 3], e[:, 4]
        cx, cy, rad, branch = e[:, 5], e[:, 6], e[:, 7], e[:, 8]
        arc = kind > 0.5
        segs, arcs = not arc.all(), arc.any()  # which formulas some pair needs (both when mixed)
        if segs:  # distance to segments
            vx, vy = bx - ax, by - ay
            ll = vx * vx + vy * vy
            t = np.clip(((x - ax) * vx + (y - ay) * vy) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
            dseg = np.hypot(x - ax - t * vx, y - ay - t * vy)
            xs_seg = ax + (y - ay) * vx / np.where(vy != 0, vy, 1.0)
        if arcs:  # distance to y-monotone arcs (span <= pi): the circle inside the sector, else the nearer end
            rx, ry = x - cx, y - cy
            in_sector = ((ax - cx) * ry - (ay - cy) * rx >= 0) & (rx * (by - cy) - ry * (bx - cx) >= 0)
            dend = np.minimum(np.hypot(x - ax, y - ay), np.hypot(x - bx, y - by))
            darc = np.where(in_sector, np.abs(np.hypot(rx, ry) - rad), dend)
            xs_arc = cx + branch * np.sqrt(np.maximum(rad * rad - ry * ry, 0.0))
        if segs and arcs:
            dist, xs = np.where(arc, darc, dseg), np.where(arc, xs_arc, xs_seg)
        else:
            dist, xs = (dseg, xs_seg) if segs else (darc, xs_arc)
        near = (dist <= m) | ((np.abs(ay - y) <= m) & (ax < x + m)) | ((np.abs(by - y) <= m) & (bx < x + m))
        cross = (ay > y) != (by > y)
        return near, cross & (xs < x)


def geometry(solid: Solid) -> Geometry:
    """The (cached) Geometry of a solid."""
    g = getattr(solid, "_dfm_geometry", None)
    if g is None:
        g = Geometry(solid)
        solid._dfm_geometry = g  # type: ignore[attr-defined]
    return g
