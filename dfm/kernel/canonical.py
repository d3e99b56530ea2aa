"""Analytic geometry in place of free-form geometry that is analytic (canonical recognition).

Many exporters write planes and cylinders as B-spline surfaces, and lines and circles as
B-spline curves. The analysers look for analytic surfaces, so such a part would be measured
wrong (a B-spline plane has no normal to group by, a B-spline bore is no hole). On load, each
B-spline, Bézier, revolved or extruded face that is a plane, cylinder, cone, sphere or torus
within :func:`tolerance` gets that surface, and each B-spline or Bézier edge whose faces are
all analytic gets its line, circle or ellipse. The topology is not touched: the solid is
copied (same sub-shape order, so face and edge ids stay those of the file), the copy's faces
and edges get the new geometry and new pcurves, and a copy whose changed faces do not pass
BRepCheck is dropped for the file's own shape.

What "within the tolerance" means: a plane is accepted when every control point of the
surface lies within it of the plane (a B-spline or Bézier surface, rational or not, lies in
the convex hull of its control points, so the surface does too: a proof, not a sample); a line
likewise from the curve's control points. Curved surfaces and circles are accepted when
``GeomConvert`` finds them and a dense sample (every knot span cut in 6 per direction, at least
24 by 24 over the face's parameter box) lies within it; the rational forms CAD systems write
for conics are exact to rounding, 1e-12 mm, five orders below the tolerance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from OCP.Bnd import Bnd_Box
from OCP.BRep import BRep_Builder, BRep_Tool
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepBuilderAPI import BRepBuilderAPI_Copy
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepLib import BRepLib
from OCP.BRepTools import BRepTools
from OCP.ElCLib import ElCLib
from OCP.ElSLib import ElSLib
from OCP.Geom import (
    Geom_BezierCurve,
    Geom_BezierSurface,
    Geom_BSplineCurve,
    Geom_BSplineSurface,
    Geom_Circle,
    Geom_ConicalSurface,
    Geom_CylindricalSurface,
    Geom_Ellipse,
    Geom_Line,
    Geom_Plane,
    Geom_SphericalSurface,
    Geom_SurfaceOfLinearExtrusion,
    Geom_SurfaceOfRevolution,
    Geom_ToroidalSurface,
)
from OCP.GeomAbs import GeomAbs_Circle, GeomAbs_Ellipse
from OCP.GeomConvert import GeomConvert_ConvType, GeomConvert_CurveToAnaCurve, GeomConvert_SurfToAnaSurf
from OCP.gp import gp_Ax3, gp_Dir, gp_Lin, gp_Pnt, gp_Pnt2d, gp_Vec, gp_Vec2d
from OCP.ShapeBuild import ShapeBuild_Edge
from OCP.ShapeFix import ShapeFix_Edge
from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_FORWARD, TopAbs_REVERSED
from OCP.TopExp import TopExp, TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS, TopoDS_Edge, TopoDS_Face, TopoDS_Shape
from OCP.TopTools import TopTools_IndexedDataMapOfShapeListOfShape, TopTools_IndexedMapOfShape

from dfm.kernel.capture import captured_output
from dfm.kernel.shape import Solid

_FREE_SURFACES = (Geom_BSplineSurface, Geom_BezierSurface, Geom_SurfaceOfRevolution, Geom_SurfaceOfLinearExtrusion)
_FREE_CURVES = (Geom_BSplineCurve, Geom_BezierCurve)
_ANALYTIC = (Geom_Plane, Geom_CylindricalSurface, Geom_ConicalSurface, Geom_SphericalSurface, Geom_ToroidalSurface)
_EXACT_PCURVES = (Geom_Plane, Geom_CylindricalSurface, Geom_ConicalSurface)
#: STEP entities that can carry free-form geometry; a file with none of them skips the pass.
_STEP_FREEFORM = re.compile(rb"B_SPLINE_(?:SURFACE|CURVE)|BEZIER_(?:SURFACE|CURVE)|SURFACE_OF_"
                            rb"(?:REVOLUTION|LINEAR_EXTRUSION)", re.IGNORECASE)

#: Relative tolerance (of the body's bounding-box diagonal) and its bounds in mm.
RELATIVE_TOLERANCE = 1e-7
MIN_TOLERANCE_MM = 1e-7
MAX_TOLERANCE_MM = 1e-5
_SPAN_SAMPLES = 6
_MIN_SAMPLES = 24
_MAX_SAMPLES = 120
#: An arc must bow this far (mm) off its chord for its circle to be well defined.
_MIN_BOW_MM = 1e-4


def tolerance(diagonal: float) -> float:
    """Largest deviation (mm) accepted between a free-form shape and its analytic stand-in.

    1e-7 of the body's size (2 nm on a 20 mm part), kept between 1e-7 mm (OCCT's confusion
    distance: below it two points are one) and 1e-5 mm (10 nm, a hundredth of the 1 µm the
    measurements are reported to): a conversion can never move a reported dimension, and a
    surface that is only approximately a plane (a fitted or sculpted one) stays free-form.
    """
    return min(MAX_TOLERANCE_MM, max(MIN_TOLERANCE_MM, RELATIVE_TOLERANCE * diagonal))


def may_hold_freeform(raw: bytes) -> bool:
    """False when a STEP file's text names no free-form entity (the pass is then skipped)."""
    return _STEP_FREEFORM.search(raw) is not None


@dataclass
class CanonicalStats:
    """What the pass did over one file.

    Attributes:
        faces: Faces given an analytic surface.
        edges: Edges given an analytic curve.
        kept: Free-form faces left free-form (not analytic within the tolerance, or dropped
            because the converted face failed BRepCheck).
        tolerance: Largest tolerance used (mm).
        by_kind: Converted faces by new surface kind (``plane``, ``cylinder``...).

    """

    faces: int = 0
    edges: int = 0
    kept: int = 0
    tolerance: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def note(self) -> str | None:
        """One line for the load's notes, or None when nothing was converted."""
        if not self.faces and not self.edges:
            return None
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items()))
        read = [f"{self.faces} free-form face(s) ({kinds})"] if self.faces else []
        read += [f"{self.edges} free-form edge(s)"] if self.edges else []
        kept = f"; {self.kept} free-form face(s) kept" if self.kept else ""
        return f"{' and '.join(read)} were analytic within {self.tolerance:.0e} mm and were read as such{kept}"


_KIND = {Geom_Plane: "plane", Geom_CylindricalSurface: "cylinder", Geom_ConicalSurface: "cone",
         Geom_SphericalSurface: "sphere", Geom_ToroidalSurface: "torus"}


class Canonicalizer:
    """Converts the solids of one file; an instance placed twice is converted once."""

    def __init__(self) -> None:
        self.stats = CanonicalStats()
        self._done: list[tuple[TopoDS_Shape, TopoDS_Shape]] = []

    def body(self, solid: Solid) -> Solid:
        """``solid`` itself when it has no free-form geometry, else a body of its converted shape.

        The check walks the body's own face and edge maps (built anyway for its ids): a file
        whose B-splines are all pcurves (2D, not converted) pays some 5 µs per face and edge.
        """
        if not _body_has_freeform(solid):
            return solid
        new = self.solid(solid.shape)
        return solid if new is solid.shape else Solid(new, solid.name, solid.index)

    def solid(self, shape: TopoDS_Shape) -> TopoDS_Shape:
        """``shape`` with its analytic free-form geometry made analytic (``shape`` itself if none)."""
        loc, orient = shape.Location(), shape.Orientation()
        proto = shape.Located(TopLoc_Location()).Oriented(TopAbs_FORWARD)
        for old, new in self._done:
            if old.IsSame(proto):
                return new.Located(loc).Oriented(orient) if new is not old else shape
        new = self._convert(proto)
        self._done.append((proto, new))
        return new.Located(loc).Oriented(orient) if new is not proto else shape

    def _convert(self, proto: TopoDS_Shape) -> TopoDS_Shape:
        if not _has_freeform(proto):
            return proto
        box = Bnd_Box()
        BRepBndLib.Add_s(proto, box, False)
        if box.IsVoid():
            return proto
        tol = tolerance(math.sqrt(box.SquareExtent()))
        excluded: set[int] = set()
        for _ in range(3):  # faces that fail the check are left free-form and the copy redone
            with captured_output():
                result = _Pass(proto, tol, excluded).run()
            if result.failed:
                if result.failed <= excluded:
                    break
                excluded |= result.failed
                continue
            if not result.faces and not result.edges:
                break
            self.stats.faces += len(result.faces)
            self.stats.edges += result.edges
            self.stats.kept += _count_free(result.shape)
            self.stats.tolerance = max(self.stats.tolerance, tol)
            for kind in result.faces.values():
                self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1
            return result.shape
        self.stats.kept += _count_free(proto)
        return proto


def _count_free(shape: TopoDS_Shape) -> int:
    """Faces of ``shape`` on free-form surfaces."""
    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, TopAbs_FACE, m)
    return sum(isinstance(BRep_Tool.Surface_s(TopoDS.Face_s(m.FindKey(i))), _FREE_SURFACES)
               for i in range(1, m.Extent() + 1))


def _body_has_freeform(solid: Solid) -> bool:
    surface, curve, face, edge = BRep_Tool.Surface_s, BRep_Tool.Curve_s, TopoDS.Face_s, TopoDS.Edge_s
    faces, edges = solid._faces.FindKey, solid._edges.FindKey  # noqa: SLF001 - the kernel's own index
    if any(isinstance(surface(face(faces(i))), _FREE_SURFACES) for i in range(1, solid.face_count + 1)):
        return True
    return any(isinstance(curve(edge(edges(i)), 0.0, 1.0), _FREE_CURVES) for i in range(1, solid.edge_count + 1))


def _has_freeform(shape: TopoDS_Shape) -> bool:
    exp = TopExp_Explorer(shape, TopAbs_FACE)
    while exp.More():
        if isinstance(BRep_Tool.Surface_s(TopoDS.Face_s(exp.Current())), _FREE_SURFACES):
            return True
        exp.Next()
    exp = TopExp_Explorer(shape, TopAbs_EDGE)
    while exp.More():
        edge = TopoDS.Edge_s(exp.Current())
        if not BRep_Tool.Degenerated_s(edge):
            c = BRep_Tool.Curve_s(edge, 0.0, 1.0)
            if isinstance(c, _FREE_CURVES):
                return True
        exp.Next()
    return False


@dataclass
class _Result:
    shape: TopoDS_Shape
    faces: dict[int, str]
    edges: int
    failed: set[int]


class _Pass:
    """One try at converting a copy of ``proto``, leaving the faces ``excluded`` alone."""

    def __init__(self, proto: TopoDS_Shape, tol: float, excluded: set[int]) -> None:
        self.tol = tol
        self.excluded = excluded
        copier = BRepBuilderAPI_Copy(proto, True, False)
        self.shape = copier.Shape()
        self.faces = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(self.shape, TopAbs_FACE, self.faces)
        self.edges = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(self.shape, TopAbs_EDGE, self.edges)
        # The copy keeps the order of the sub-shapes, hence the ids; checked, as findings name them.
        old = TopTools_IndexedMapOfShape()
        TopExp.MapShapes_s(proto, TopAbs_FACE, old)
        self.same_ids = old.Extent() == self.faces.Extent() and all(
            copier.Modified(old.FindKey(i)).First().IsSame(self.faces.FindKey(i)) for i in range(1, old.Extent() + 1))
        self.edge_faces = TopTools_IndexedDataMapOfShapeListOfShape()
        TopExp.MapShapesAndAncestors_s(self.shape, TopAbs_EDGE, TopAbs_FACE, self.edge_faces)
        self.builder = BRep_Builder()

    def _faces_of(self, edge: TopoDS_Edge) -> list[int]:
        out: list[int] = []
        for f in self.edge_faces.FindFromKey(edge):
            i = self.faces.FindIndex(f)
            if i not in out:
                out.append(i)
        return out

    def run(self) -> _Result:
        if not self.same_ids:
            return _Result(self.shape, {}, 0, set())
        planned: dict[int, tuple[object, TopLoc_Location, float]] = {}
        for i in range(1, self.faces.Extent() + 1):
            face = TopoDS.Face_s(self.faces.FindKey(i))
            loc = TopLoc_Location()
            surf = BRep_Tool.Surface_s(face, loc)
            if not isinstance(surf, _FREE_SURFACES):
                continue
            got = None if i in self.excluded else _analytic_surface(face, surf, self.tol)
            if got is None:
                continue
            planned[i] = (got[0], loc, got[1])
        # A new edge curve needs new pcurves on all its faces: made only where projecting a
        # line or circle is exact (planes, cylinders, cones; on a torus OCCT's projection
        # failed BRepCheck on a real part).
        analytic = {i for i in range(1, self.faces.Extent() + 1)
                    if isinstance(planned[i][0] if i in planned else BRep_Tool.Surface_s(
                        TopoDS.Face_s(self.faces.FindKey(i))), _EXACT_PCURVES)}
        curves: dict[int, tuple[object, float, float, TopLoc_Location]] = {}
        for j in range(1, self.edges.Extent() + 1):
            edge = TopoDS.Edge_s(self.edges.FindKey(j))
            if BRep_Tool.Degenerated_s(edge):
                continue
            loc = TopLoc_Location()
            got = BRep_Tool.Curve_s(edge, loc, 0.0, 1.0)
            curve = got[0] if isinstance(got, tuple) else got
            if not isinstance(curve, _FREE_CURVES):
                continue
            faces = self._faces_of(edge)
            if not all(f in analytic and f not in self.excluded for f in faces):
                continue
            first, last = BRep_Tool.Range_s(edge)
            new_c = _analytic_curve(curve, first, last, self.tol)
            if new_c is not None:
                curves[j] = (new_c[0], new_c[1], new_c[2], loc)
        if not planned and not curves:
            return _Result(self.shape, {}, 0, set())
        # Which pcurves to rebuild: (edge id, face id) -> seam?
        redo: dict[tuple[int, int], bool] = {}
        for i in planned:
            face = TopoDS.Face_s(self.faces.FindKey(i))
            exp = TopExp_Explorer(face, TopAbs_EDGE)
            while exp.More():
                edge = TopoDS.Edge_s(exp.Current())
                redo[(self.edges.FindIndex(edge), i)] = BRep_Tool.IsClosed_s(edge, face)
                exp.Next()
        for j in curves:
            edge = TopoDS.Edge_s(self.edges.FindKey(j))
            for i in self._faces_of(edge):
                face = TopoDS.Face_s(self.faces.FindKey(i))
                redo[(j, i)] = BRep_Tool.IsClosed_s(edge, face)
        # On a face that keeps its surface, a new pcurve must sit where the old one did (the
        # same turn of a periodic surface): remember where each started.
        starts: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for j, i in redo:
            if i not in planned:
                starts[(j, i)] = _pcurve_starts(TopoDS.Edge_s(self.edges.FindKey(j)),
                                                TopoDS.Face_s(self.faces.FindKey(i)))
        sbe = ShapeBuild_Edge()
        for j, i in redo:  # the old pcurves go with the old surfaces or curves
            sbe.RemovePCurve(TopoDS.Edge_s(self.edges.FindKey(j)), TopoDS.Face_s(self.faces.FindKey(i)))
        kinds: dict[int, str] = {}
        for i, (new, loc, _gap) in planned.items():
            face = TopoDS.Face_s(self.faces.FindKey(i))
            self.builder.UpdateFace(face, new, loc, BRep_Tool.Tolerance_s(face))
            kinds[i] = _KIND[type(new)]
        for j, (new_c, first, last, loc) in curves.items():
            edge = TopoDS.Edge_s(self.edges.FindKey(j))
            self.builder.UpdateEdge(edge, new_c, loc, BRep_Tool.Tolerance_s(edge))
            self.builder.Range(edge, first, last, True)
        fixer = ShapeFix_Edge()
        failed: set[int] = set()
        touched: set[int] = set()
        for (j, i), seam in redo.items():
            edge = TopoDS.Edge_s(self.edges.FindKey(j))
            face = TopoDS.Face_s(self.faces.FindKey(i))
            fixer.FixAddPCurve(edge, face, seam, 0.0)
            if seam and not BRep_Tool.IsClosed_s(edge, face):
                failed.add(i)
            elif (j, i) in starts and not _match_starts(edge, face, starts[(j, i)], self.builder):
                failed.add(i)
            touched.add(j)
        for i, (_new, _loc, gap) in planned.items():
            if not _lift(TopoDS.Face_s(self.faces.FindKey(i)), gap, self.builder):
                failed.add(i)
        for j in touched:
            edge = TopoDS.Edge_s(self.edges.FindKey(j))
            BRepLib.SameParameter_s(edge, BRep_Tool.Tolerance_s(edge))
            fixer.FixVertexTolerance(edge)
        for i in {i for _, i in redo}:
            if not BRepCheck_Analyzer(self.faces.FindKey(i)).IsValid():
                failed.add(i)
        if not failed:  # the faces are valid each; the shell's orientation is checked on the whole
            check = BRepCheck_Analyzer(self.shape)
            if not check.IsValid():
                failed = {i for _, i in redo if not check.IsValid(self.faces.FindKey(i))} or {i for _, i in redo}
        return _Result(self.shape, kinds, len(curves), failed)


def _pcurves(edge: TopoDS_Edge, face: TopoDS_Face) -> list:  # type: ignore[type-arg]
    """The edge's pcurve(s) on the face: [forward] or, on a seam, [forward, reversed]."""
    out = []
    orients = (TopAbs_FORWARD, TopAbs_REVERSED) if BRep_Tool.IsClosed_s(edge, face) else (TopAbs_FORWARD,)
    for o in orients:
        got = BRep_Tool.CurveOnSurface_s(TopoDS.Edge_s(edge.Oriented(o)), face, 0.0, 1.0)
        out.append(got[0] if isinstance(got, tuple) else got)
    return out


def _pcurve_starts(edge: TopoDS_Edge, face: TopoDS_Face) -> list[tuple[float, float]]:
    """(u, v) where each pcurve of the edge on the face starts (the edge's first vertex)."""
    first, _ = BRep_Tool.Range_s(edge, face)
    out = []
    for c in _pcurves(edge, face):
        if c is None:
            return []
        q = c.Value(first)
        out.append((q.X(), q.Y()))
    return out


def _match_starts(edge: TopoDS_Edge, face: TopoDS_Face, old: list[tuple[float, float]],
                  builder: BRep_Builder) -> bool:
    """Shift the new pcurve(s) by whole periods to start where the old ones did; False if they cannot."""
    surf = BRep_Tool.Surface_s(face)
    new = _pcurves(edge, face)
    if len(new) != len(old) or any(c is None for c in new):
        return False
    first, last = BRep_Tool.Range_s(edge, face)
    periods = (surf.UPeriod() if surf.IsUPeriodic() else 0.0, surf.VPeriod() if surf.IsVPeriodic() else 0.0)
    moved = []
    for c, (u0, v0) in zip(new, old, strict=True):
        q = c.Value(first)
        shift = []
        for got, want, period in ((q.X(), u0, periods[0]), (q.Y(), v0, periods[1])):
            k = round((want - got) / period) if period else 0
            if abs(got + k * period - want) > 1e-6:
                return False
            shift.append(k * period)
        if shift != [0.0, 0.0]:
            c = c.Copy()
            c.Translate(gp_Vec2d(*shift))
        moved.append(c)
    if all(m is c for m, c in zip(moved, new, strict=True)):
        return True
    tol = BRep_Tool.Tolerance_s(edge)
    e = TopoDS.Edge_s(edge.Oriented(TopAbs_FORWARD))
    if len(moved) == 2:
        builder.UpdateEdge(e, moved[0], moved[1], face, tol)
    else:
        builder.UpdateEdge(e, moved[0], face, tol)
    builder.Range(e, face, first, last)
    return True


# --- surfaces ---------------------------------------------------------------------------------
def _grid(surf, u0: float, u1: float, v0: float, v1: float) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Sample parameters over [u0, u1] x [v0, v1]: every knot span in _SPAN_SAMPLES."""
    def axis(knots: list[float], a: float, b: float) -> list[float]:
        cuts = sorted({a, b, *(k for k in knots if a < k < b)})
        out: list[float] = []
        per = max(_SPAN_SAMPLES, -(-_MIN_SAMPLES // max(1, len(cuts) - 1)))
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            out.extend(lo + (hi - lo) * k / per for k in range(per))
        out.append(b)
        if len(out) > _MAX_SAMPLES:
            step = len(out) / _MAX_SAMPLES
            out = [out[int(k * step)] for k in range(_MAX_SAMPLES)] + [b]
        return out

    uk: list[float] = []
    vk: list[float] = []
    if isinstance(surf, Geom_BSplineSurface):
        uk = [surf.UKnot(k) for k in range(1, surf.NbUKnots() + 1)]
        vk = [surf.VKnot(k) for k in range(1, surf.NbVKnots() + 1)]
    return axis(uk, u0, u1), axis(vk, v0, v1)


def _distance(new, p: gp_Pnt) -> float:  # type: ignore[no-untyped-def]
    """Distance from ``p`` to the analytic surface ``new``."""
    if isinstance(new, Geom_Plane):
        return new.Pln().Distance(p)
    if isinstance(new, Geom_CylindricalSurface):
        c = new.Cylinder()
        return abs(gp_Lin(c.Axis()).Distance(p) - c.Radius())
    if isinstance(new, Geom_SphericalSurface):
        s = new.Sphere()
        return abs(s.Location().Distance(p) - s.Radius())
    if isinstance(new, Geom_ConicalSurface):
        c = new.Cone()
        ax = c.Axis()
        rel = gp_Vec(ax.Location(), p)
        h = rel.Dot(gp_Vec(ax.Direction()))
        rho = math.sqrt(max(0.0, rel.SquareMagnitude() - h * h))
        a = c.SemiAngle()
        # distance to the generatrix rho = R + h tan(a) in the meridian plane
        return abs((rho - c.RefRadius()) * math.cos(a) - h * math.sin(a))
    t = new.Torus()
    ax = t.Axis()
    rel = gp_Vec(ax.Location(), p)
    h = rel.Dot(gp_Vec(ax.Direction()))
    rho = math.sqrt(max(0.0, rel.SquareMagnitude() - h * h))
    return abs(math.hypot(rho - t.MajorRadius(), h) - t.MinorRadius())


def _parameters(new, p: gp_Pnt) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for cls, get in ((Geom_Plane, "Pln"), (Geom_CylindricalSurface, "Cylinder"), (Geom_ConicalSurface, "Cone"),
                     (Geom_SphericalSurface, "Sphere"), (Geom_ToroidalSurface, "Torus")):
        if isinstance(new, cls):
            return ElSLib.Parameters_s(getattr(new, get)(), p)
    raise TypeError(type(new))


def _normal(surf, u: float, v: float) -> gp_Vec | None:  # type: ignore[no-untyped-def]
    p, du, dv = gp_Pnt(), gp_Vec(), gp_Vec()
    surf.D1(u, v, p, du, dv)
    n = du.Crossed(dv)
    return n if n.Magnitude() > 1e-12 else None


def _analytic_surface(face: TopoDS_Face, surf, tol: float):  # type: ignore[no-untyped-def]
    """The analytic surface ``surf`` is within ``tol`` over ``face``, its normal the same way; or None."""
    exp = TopExp_Explorer(face, TopAbs_EDGE)
    while exp.More():  # a pole (sphere, cone apex) needs a pcurve made by hand: left alone
        if BRep_Tool.Degenerated_s(TopoDS.Edge_s(exp.Current())):
            return None
        exp.Next()
    u0, u1, v0, v1 = BRepTools.UVBounds_s(face)
    with captured_output():
        # Over the whole surface first: over the face's box the search misses some cylinders.
        new = GeomConvert_SurfToAnaSurf(surf).ConvertToAnalytical(tol)
        if new is None:
            new = GeomConvert_SurfToAnaSurf(surf).ConvertToAnalytical(tol, u0, u1, v0, v1)
    if new is None or not isinstance(new, _ANALYTIC):
        return None
    if isinstance(new, Geom_ToroidalSurface) and new.MajorRadius() < new.MinorRadius():
        # A spindle torus is the corner of a blend (a floor fillet round a small vertical
        # one), not a turned surface; the corner analysis reads it as one more corner beside
        # the blend's own (nist_ctc_02: six duplicate R6 floor-fillet findings): left as written.
        return None
    us, vs = _grid(surf, u0, u1, v0, v1)
    if isinstance(new, Geom_CylindricalSurface):
        new = _exact_cylinder(surf, new, us, vs, tol)
    if isinstance(new, Geom_Plane):
        if not isinstance(surf, (Geom_BSplineSurface, Geom_BezierSurface)):
            return None
        pln = new.Pln()
        for a in range(1, surf.NbUPoles() + 1):  # convex hull: the proof for a plane
            for b in range(1, surf.NbVPoles() + 1):
                if pln.Distance(surf.Pole(a, b)) > tol:
                    return None
    else:
        for u in us:
            for v in vs:
                if _distance(new, surf.Value(u, v)) > tol:
                    return None
    if isinstance(new, Geom_Plane):
        new = _plane_in_surface_frame(surf, new, us, vs, tol)
    # The same side out: the analytic normal where the free-form one is.
    um, vm = us[len(us) // 2], vs[len(vs) // 2]
    n_old = _normal(surf, um, vm)
    if n_old is None:
        return None
    p = surf.Value(um, vm)
    n_new = _normal(new, *_parameters(new, p))
    if n_new is None:
        return None
    if n_old.Dot(n_new) < 0:
        if isinstance(new, Geom_Plane):
            pos = new.Position()
            new = Geom_Plane(gp_Ax3(pos.Location(), pos.Direction().Reversed(), pos.XDirection()))
        else:
            new.UReverse()
        n_new = _normal(new, *_parameters(new, p))
        if n_new is None or n_old.Dot(n_new) <= 0:
            return None
    gap = 0.0 if isinstance(new, Geom_Plane) else _start_at_face(face, new)
    if gap is None:
        return None
    return new, gap


def _circle(p1: gp_Pnt, p2: gp_Pnt, p3: gp_Pnt):  # type: ignore[no-untyped-def]
    """The circle through three points (gp_Circ), or None when they are (nearly) in a line."""
    from OCP.gce import gce_MakeCirc

    if min(p1.Distance(p2), p2.Distance(p3), p1.Distance(p3)) < 1e-9:
        return None
    made = gce_MakeCirc(p1, p2, p3)
    return made.Value() if made.IsDone() else None


def _exact_cylinder(surf, cyl, us: list[float], vs: list[float], tol: float):  # type: ignore[no-untyped-def]
    """The cylinder through circles of the surface's own points, else ``cyl``.

    ``GeomConvert`` fits the axis and radius to some 1e-13 mm; a tangent plane that meets the
    cylinder exactly in the file then meets it 1e-13 mm off, and a ray along the tangency
    picks the other face. Circles through three points of one circular iso-line are exact
    to rounding; two of them, at the ends of the other direction, give the axis.
    """
    ax = cyl.Cylinder().Axis()
    d = gp_Vec(ax.Direction())

    def height(p: gp_Pnt) -> float:
        return gp_Vec(ax.Location(), p).Dot(d)

    um, vm = us[len(us) // 2], vs[len(vs) // 2]
    if abs(height(surf.Value(us[0], vm)) - height(surf.Value(us[-1], vm))) <= tol:
        rows = [[surf.Value(u, v) for u in (us[0], um, us[-1])] for v in (vs[0], vs[-1])]
    elif abs(height(surf.Value(um, vs[0])) - height(surf.Value(um, vs[-1]))) <= tol:
        rows = [[surf.Value(u, v) for v in (vs[0], vm, vs[-1])] for u in (us[0], us[-1])]
    else:
        return cyl
    circles = [_circle(*row) for row in rows]
    if any(c is None for c in circles):
        return cyl
    c1, c2 = circles
    axis = gp_Vec(c1.Location(), c2.Location())
    if axis.Magnitude() <= 1e3 * tol:
        return cyl
    if axis.Dot(d) < 0:
        axis.Reverse()
    pos = cyl.Position()
    frame = gp_Ax3(c1.Location(), gp_Dir(axis), pos.XDirection())
    if abs(c1.Radius() - c2.Radius()) > tol:
        return cyl
    return Geom_CylindricalSurface(frame, (c1.Radius() + c2.Radius()) / 2)


def _plane_in_surface_frame(surf, plane, us: list[float], vs: list[float], tol: float):  # type: ignore[no-untyped-def]
    """``plane`` in the surface's own (u, v) when the surface is that plane's parametrisation.

    An exporter that writes a plane as a B-spline usually keeps the plane's parameters (the
    control points at the corners of its (u, v) box): then the plane gets the same origin and
    axes, so the face keeps its (u, v) and whatever samples it does so at the same points.
    """
    u0, v0 = us[0], vs[0]
    p = gp_Pnt()
    du, dv = gp_Vec(), gp_Vec()
    surf.D1(u0, v0, p, du, dv)
    if abs(du.Magnitude() - 1) > 1e-12 or abs(dv.Magnitude() - 1) > 1e-12 or abs(du.Dot(dv)) > 1e-12:
        return plane
    origin = p.Translated(du.Multiplied(-u0)).Translated(dv.Multiplied(-v0))
    frame = gp_Ax3(origin, gp_Dir(du.Crossed(dv)), gp_Dir(du))
    new = Geom_Plane(frame)
    for u in us:
        for v in vs:
            if new.Value(u, v).Distance(surf.Value(u, v)) > tol:
                return plane
    return new


def _boundary_points(face: TopoDS_Face, per_edge: int = 64) -> list[gp_Pnt]:
    from OCP.BRepAdaptor import BRepAdaptor_Curve

    pts: list[gp_Pnt] = []
    exp = TopExp_Explorer(face, TopAbs_EDGE)
    while exp.More():
        edge = TopoDS.Edge_s(exp.Current())
        if not BRep_Tool.Degenerated_s(edge):
            c = BRepAdaptor_Curve(edge)
            a, b = c.FirstParameter(), c.LastParameter()
            pts.extend(c.Value(a + (b - a) * k / per_edge) for k in range(per_edge + 1))
        exp.Next()
    return pts


def _seam_point(face: TopoDS_Face) -> gp_Pnt | None:
    from OCP.BRepAdaptor import BRepAdaptor_Curve

    exp = TopExp_Explorer(face, TopAbs_EDGE)
    while exp.More():
        edge = TopoDS.Edge_s(exp.Current())
        if BRep_Tool.IsClosed_s(edge, face) and not BRep_Tool.Degenerated_s(edge):
            c = BRepAdaptor_Curve(edge)
            return c.Value((c.FirstParameter() + c.LastParameter()) / 2)
        exp.Next()
    return None


def _start_at_face(face: TopoDS_Face, new) -> float | None:  # type: ignore[no-untyped-def]
    """Turn a revolved surface about its axis so the face's angles run from 0 (at its seam or its gap's end).

    Returns the angle the face leaves out of the turn (0 with a seam), None when unknown.

    The points are in the face's surface frame only when the face has no location of its own
    on the surface; BRep_Tool gives the surface in the face's frame and the edges in theirs, so
    the points are taken back into the surface frame first.
    """
    loc = TopLoc_Location()
    BRep_Tool.Surface_s(face, loc)
    trsf = loc.Transformation().Inverted()
    seam = _seam_point(face)
    gap = 0.0
    if seam is not None:
        start = _parameters(new, seam.Transformed(trsf))[0]
    else:
        angles = sorted(_parameters(new, p.Transformed(trsf))[0] % (2 * math.pi) for p in _boundary_points(face))
        if not angles:
            return None
        gaps = [(b - a, b) for a, b in zip(angles, angles[1:], strict=False)]
        gaps.append((angles[0] + 2 * math.pi - angles[-1], angles[0]))
        gap, start = max(gaps)
    pos = new.Position()
    direct = pos.Direct()
    x = gp_Vec(pos.XDirection()).Multiplied(math.cos(start)).Added(gp_Vec(pos.YDirection()).Multiplied(math.sin(start)))
    ax = gp_Ax3(pos.Location(), pos.Direction(), gp_Dir(x))
    if not direct:
        ax.YReverse()
    new.SetPosition(ax)
    return gap


def _lift(face: TopoDS_Face, gap: float, builder: BRep_Builder) -> bool:
    """Move the face's pcurves by whole turns so they make one piece in u; False if they cannot.

    The face's angles start at 0 (see :func:`_start_at_face`) and leave out ``gap`` at the end
    of the turn: each pcurve goes into the window [-gap/2, 2 pi - gap/2), one turn long, so
    its place is unique. A seam's two pcurves go to 0 and 2 pi, each on the side its
    occurrence bounds (material lies left of a forward face's boundary in (u, v)).
    """
    loc = TopLoc_Location()
    surf = BRep_Tool.Surface_s(face, loc)
    if isinstance(surf, Geom_Plane):
        return True
    period = 2 * math.pi
    fwd = TopoDS.Face_s(face.Oriented(TopAbs_FORWARD))
    seen = TopTools_IndexedMapOfShape()
    exp = TopExp_Explorer(fwd, TopAbs_EDGE)
    while exp.More():
        seen.Add(exp.Current())
        exp.Next()
    for k in range(1, seen.Extent() + 1):
        edge = TopoDS.Edge_s(seen.FindKey(k).Oriented(TopAbs_FORWARD))
        got = BRep_Tool.CurveOnSurface_s(edge, fwd, 0.0, 1.0)
        c2d = got[0] if isinstance(got, tuple) else got
        if c2d is None:
            return False
        a, b = BRep_Tool.Range_s(edge, fwd)
        tol = BRep_Tool.Tolerance_s(edge)
        if BRep_Tool.IsClosed_s(edge, fwd):
            q, d = gp_Pnt2d(), gp_Vec2d()
            c2d.D1((a + b) / 2, q, d)
            if abs(d.Y()) <= 1e-12 or gap > 0:
                return False
            c1 = c2d.Copy()
            target = period if d.Y() > 0 else 0.0
            c1.Translate(gp_Vec2d(target - q.X(), 0.0))
            c2 = c1.Copy()
            c2.Translate(gp_Vec2d(period - 2 * target, 0.0))
            builder.UpdateEdge(edge, c1, c2, fwd, tol)
            builder.Range(edge, fwd, a, b)
            continue
        um = c2d.Value((a + b) / 2).X()
        shift = -math.floor((um + gap / 2) / period) * period
        if shift:
            c2d = c2d.Copy()
            c2d.Translate(gp_Vec2d(shift, 0.0))
            builder.UpdateEdge(edge, c2d, fwd, tol)
            builder.Range(edge, fwd, a, b)
    return True


def _analytic_curve(curve, first: float, last: float, tol: float):  # type: ignore[no-untyped-def]
    """(line, circle or ellipse, new first, new last) for ``curve`` over [first, last], or None."""
    p0, p1 = curve.Value(first), curve.Value(last)
    chord = p0.Distance(p1)
    poles = [curve.Pole(k) for k in range(1, curve.NbPoles() + 1)]
    if chord > tol:
        lin = gp_Lin(p0, gp_Dir(gp_Vec(p0, p1)))
        if all(lin.Distance(q) <= tol for q in poles):  # convex hull: the proof for a line
            return Geom_Line(lin), 0.0, chord
    with captured_output():
        for target in (GeomAbs_Circle, GeomAbs_Ellipse):
            got = GeomConvert_CurveToAnaCurve.ComputeCurve_s(curve, tol, first, last, 0.0, 0.0, 0.0,
                                                            GeomConvert_ConvType.GeomConvert_Target, target)
            new = got[0] if isinstance(got, tuple) else got
            if isinstance(new, (Geom_Circle, Geom_Ellipse)):
                break
        else:
            return None
    if chord > tol:
        # A short arc's centre is ill-conditioned (a 1e-4 rad arc of 1 mm bows 1e-9 mm off its
        # chord): a circle fitted to it can lie far from the true one and still pass the
        # samples. Such edges stay as they are.
        mid = curve.Value((first + last) / 2)
        if gp_Lin(p0, gp_Dir(gp_Vec(p0, p1))).Distance(mid) < _MIN_BOW_MM:
            return None
    if isinstance(new, Geom_Circle):  # exact to rounding, where the fit is good to some 1e-13 mm
        thirds = (first, first + (last - first) / 3, first + 2 * (last - first) / 3)
        picks = thirds if chord <= tol else (first, (first + last) / 2, last)
        exact = _circle(*(curve.Value(t) for t in picks))
        if exact is not None:
            new = Geom_Circle(exact)
    n = max(_MIN_SAMPLES, _SPAN_SAMPLES * (curve.NbKnots() if isinstance(curve, Geom_BSplineCurve) else 4))
    ts = [first + (last - first) * k / n for k in range(n + 1)]
    conic = new.Circ() if isinstance(new, Geom_Circle) else new.Elips()
    params = []
    for t in ts:
        q = curve.Value(t)
        w = ElCLib.Parameter_s(conic, q)
        if ElCLib.Value_s(w, conic).Distance(q) > tol:
            return None
        params.append(w)
    # Run the conic the way the curve runs, from its start: unwrap the parameters.
    period = 2 * math.pi
    steps = [(b - a + math.pi) % period - math.pi for a, b in zip(params, params[1:], strict=False)]
    if all(s < 0 for s in steps):
        new.Reverse()
        conic = new.Circ() if isinstance(new, Geom_Circle) else new.Elips()
        params = [ElCLib.Parameter_s(conic, curve.Value(t)) for t in ts]
        steps = [(b - a + math.pi) % period - math.pi for a, b in zip(params, params[1:], strict=False)]
    if not all(s > 0 for s in steps):
        return None
    start = params[0]
    end = start + sum(steps)
    if end - start > period + 1e-9:
        return None
    return new, start, end
