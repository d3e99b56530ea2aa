"""Geometry CAM needs from the exact part: plane offsets, sections and a height field.

Plain data in and out (no OCP types leak): a segment is ``(a, b, c, ccw)`` with points as
``(x, y)`` tuples; ``c`` and ``ccw`` are None for a line, the centre and the direction
(True = counter-clockwise) for an arc. A loop is a list of segments whose ends meet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from OCP.Bnd import Bnd_Box
from OCP.BRep import BRep_Tool
from OCP.BRepAdaptor import BRepAdaptor_Curve, BRepAdaptor_Surface
from OCP.BRepAlgoAPI import BRepAlgoAPI_Common, BRepAlgoAPI_Cut, BRepAlgoAPI_Fuse
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepBuilderAPI import (
    BRepBuilderAPI_MakeEdge,
    BRepBuilderAPI_MakeFace,
    BRepBuilderAPI_MakeWire,
    BRepBuilderAPI_Transform,
)
from OCP.BRepMesh import BRepMesh_IncrementalMesh
from OCP.BRepOffsetAPI import BRepOffsetAPI_MakeOffset
from OCP.BRepTools import BRepTools, BRepTools_WireExplorer
from OCP.GC import GC_MakeArcOfCircle
from OCP.GCPnts import GCPnts_QuasiUniformDeflection
from OCP.GeomAbs import GeomAbs_Arc, GeomAbs_Circle, GeomAbs_Line, GeomAbs_Plane
from OCP.gp import gp_Ax2, gp_Circ, gp_Dir, gp_Pln, gp_Pnt, gp_Trsf, gp_Vec
from OCP.IMeshTools import IMeshTools_MeshAlgoType_Delabella, IMeshTools_Parameters
from OCP.ShapeFix import ShapeFix_Face
from OCP.ShapeUpgrade import ShapeUpgrade_UnifySameDomain
from OCP.TopAbs import TopAbs_FACE, TopAbs_REVERSED, TopAbs_WIRE
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS, TopoDS_Face, TopoDS_Shape, TopoDS_Wire
from OCP.TopTools import TopTools_ListOfShape

from dfm.errors import KernelError

Pt = tuple[float, float]
SegT = tuple[Pt, Pt, "Pt | None", "bool | None"]


def _edges(seg: SegT, z: float) -> list:  # type: ignore[type-arg]
    """The segment's edges at height ``z``: a line, an arc, a whole circle as two halves; none for a speck.

    An arc under 0.1 um long (nist_ctc_01's sections: OCCT cannot make a circle through three
    points that close) is nothing, the next segment starting where it began; one OCCT still
    cannot make is its chord.
    """
    a, b, c, ccw = seg
    pa, pb = gp_Pnt(a[0], a[1], z), gp_Pnt(b[0], b[1], z)
    if c is None:
        return [BRepBuilderAPI_MakeEdge(pa, pb).Edge()]
    a0 = math.atan2(a[1] - c[1], a[0] - c[0])
    a1 = math.atan2(b[1] - c[1], b[0] - c[0])
    d = a1 - a0
    if ccw:
        while d <= 1e-12:
            d += 2 * math.pi
    else:
        while d >= -1e-12:
            d -= 2 * math.pi
    r = math.dist(a, c)

    def at(t: float) -> gp_Pnt:
        return gp_Pnt(c[0] + r * math.cos(a0 + d * t), c[1] + r * math.sin(a0 + d * t), z)

    if r * abs(d) < 1e-7:
        return []  # a speck under 0.1 um: an edge that short crashes OCCT's offset (the next starts here)
    chord = math.dist(a, b)
    pieces = [(pa, at(0.25), at(0.5)), (at(0.5), at(0.75), pb)] if chord < 1e-9 else [(pa, at(0.5), pb)]
    out = []
    for p, q, e in pieces:
        arc = GC_MakeArcOfCircle(p, q, e)
        if arc.IsDone():
            out.append(BRepBuilderAPI_MakeEdge(arc.Value()).Edge())
        elif p.Distance(e) >= 1e-7:
            out.append(BRepBuilderAPI_MakeEdge(p, e).Edge())
    return out


def _wire(loop: Sequence[SegT], z: float = 0.0) -> TopoDS_Wire:
    # each segment starts where the last one ended and the last closes on the first: ends read back
    # from OCCT (polylines of other curves, tolerant edges) may be apart by a fraction of a micrometre
    segs = [sg for sg in loop if sg[2] is not None or math.dist(sg[0], sg[1]) > 1e-9]
    mw = BRepBuilderAPI_MakeWire()
    if not segs:
        raise KernelError("an outline has no segment")
    first = prev = segs[0][0]
    for k, (_a, b, c, ccw) in enumerate(segs):
        end = first if k == len(segs) - 1 else b
        if c is None and math.dist(prev, end) <= 1e-9:
            continue
        edges = _edges((prev, end, c, ccw), z)
        for e in edges:
            mw.Add(e)
        if edges:
            prev = end
    if not mw.IsDone():
        raise KernelError("an outline does not form a closed wire")
    return mw.Wire()


def _read_wire(wire: TopoDS_Wire) -> list[SegT]:
    out: list[SegT] = []
    exp = BRepTools_WireExplorer(wire)
    while exp.More():
        edge = exp.Current()
        cur = BRepAdaptor_Curve(edge)
        t0, t1 = cur.FirstParameter(), cur.LastParameter()
        p0, p1 = cur.Value(t0), cur.Value(t1)
        rev = edge.Orientation() == TopAbs_REVERSED
        a, b = (p0.X(), p0.Y()), (p1.X(), p1.Y())
        if rev:
            a, b = b, a
        kind = cur.GetType()
        if kind == GeomAbs_Circle:
            circ = cur.Circle()
            ccw = circ.Axis().Direction().Z() > 0
            if rev:
                ccw = not ccw
            c = (circ.Location().X(), circ.Location().Y())
            if math.dist(a, b) < 1e-9:  # a full circle: two halves
                am = (t0 + t1) / 2
                pm = cur.Value(am)
                m = (pm.X(), pm.Y())
                out.append((a, m, c, ccw))
                out.append((m, b, c, ccw))
            else:
                out.append((a, b, c, ccw))
        elif kind == GeomAbs_Line:
            if math.dist(a, b) > 1e-9:
                out.append((a, b, None, None))
        else:  # any other curve: a polyline within 0.1 um of it
            ts = _curve_params(cur, t0, t1)
            if rev:
                ts.reverse()
            pts = [(cur.Value(t).X(), cur.Value(t).Y()) for t in ts]
            kept = [pts[0]]
            for q in pts[1:]:  # points 1 nm apart would make empty edges; the curve's end is kept exactly
                if math.dist(q, kept[-1]) > 1e-9:
                    kept.append(q)
                elif len(kept) > 1 and q is pts[-1]:
                    kept[-1] = q
            out.extend((p, q, None, None) for p, q in zip(kept, kept[1:], strict=False))
        exp.Next()
    return out


def _curve_params(cur: BRepAdaptor_Curve, t0: float, t1: float) -> list[float]:
    """Parameters of points along ``cur`` whose chords stay within 0.1 um of it."""
    pts = GCPnts_QuasiUniformDeflection(cur, 1e-4, t0, t1)
    if pts.IsDone() and pts.NbPoints() >= 2:
        return [pts.Parameter(i) for i in range(1, pts.NbPoints() + 1)]
    n = 256
    return [t0 + (t1 - t0) * k / n for k in range(n + 1)]


def offset_region(outer: Sequence[SegT], holes: Sequence[Sequence[SegT]], distance: float) -> list[list[SegT]]:
    """Offset the planar region bounded by ``outer`` minus ``holes`` by ``distance`` mm.

    Negative shrinks the region (the tool-centre region of a pocket), positive grows it.
    Convex corners of a grown region become arcs. Returns the loops of the result (empty
    when the region vanishes).

    OCCT's offset (a medial-axis construction) gives nothing for some regions with holes, e.g.
    a circle round a concentric circle (an O-ring groove round a boss: the bisector is itself
    a circle). Then each loop is offset alone and the grown holes are cut from the offset
    outside (exact booleans): the same region.
    """
    loops = _offset_face(outer, holes, distance)
    if loops or not holes:
        return loops
    out: list[list[SegT]] = []
    grown = [lp for h in holes for lp in _offset_face(_reversed(h), [], -distance)]
    for piece in _offset_face(outer, [], distance):
        for o, hs in subtract(piece, [(g, []) for g in grown]):
            out.append(o)
            out.extend(hs)
    return out


def _reversed(loop: Sequence[SegT]) -> list[SegT]:
    """The same loop run the other way round."""
    return [(b, a, c, None if ccw is None else not ccw) for a, b, c, ccw in reversed(loop)]


def _offset_face(outer: Sequence[SegT], holes: Sequence[Sequence[SegT]], distance: float) -> list[list[SegT]]:
    mf = BRepBuilderAPI_MakeFace(_wire(outer), True)
    for h in holes:
        mf.Add(_wire(h))
    if not mf.IsDone():
        raise KernelError("cannot build a planar face from the outline")
    fix = ShapeFix_Face(mf.Face())
    fix.Perform()
    face = fix.Face()
    off = BRepOffsetAPI_MakeOffset(face, GeomAbs_Arc)
    try:
        off.Perform(distance)
    except Exception:  # noqa: BLE001 - OCCT raises Standard_Failure for a vanishing region
        return []
    if not off.IsDone():
        return []
    loops = []
    exp = TopExp_Explorer(off.Shape(), TopAbs_WIRE)
    while exp.More():
        segs = _read_wire(TopoDS.Wire_s(exp.Current()))
        if segs:
            loops.append(segs)
        exp.Next()
    return loops


def _section_faces(solid, z: float) -> list[TopoDS_Face]:  # type: ignore[no-untyped-def]
    (x0, y0, _), (x1, y1, _) = solid.bbox
    pad = 1.0 + max(x1 - x0, y1 - y0)
    plane = gp_Pln(gp_Pnt(0, 0, z), gp_Dir(0, 0, 1))
    big = BRepBuilderAPI_MakeFace(plane, x0 - pad, x1 + pad, y0 - pad, y1 + pad).Face()
    common = BRepAlgoAPI_Common(solid.shape, big)
    if not common.IsDone():
        raise KernelError(f"cannot section the part at z = {z:.4f} mm")
    out = []
    exp = TopExp_Explorer(common.Shape(), TopAbs_FACE)
    while exp.More():
        out.append(TopoDS.Face_s(exp.Current()))
        exp.Next()
    return out


def _regions(faces: Sequence[TopoDS_Face]) -> list[tuple[list[SegT], list[list[SegT]]]]:
    out = []
    for face in faces:
        outer = BRepTools.OuterWire_s(face)
        holes = []
        wexp = TopExp_Explorer(face, TopAbs_WIRE)
        while wexp.More():
            w = TopoDS.Wire_s(wexp.Current())
            if not w.IsSame(outer):
                holes.append(_read_wire(w))
            wexp.Next()
        out.append((_read_wire(outer), holes))
    return out


def section(solid, z: float) -> list[tuple[list[SegT], list[list[SegT]]]]:  # type: ignore[no-untyped-def]
    """The part's cross-section at height ``z``: (outer loop, hole loops) per region."""
    return _regions(_section_faces(solid, z))


#: A shadow of more sections than this is fused onto the cached union of all but its lowest few
#: (aagnet partC, its bands split at its sloped faces: one boolean of 81 sections took 88 s, its
#: whole guard 7 s of booleans this way).
SHADOW_AT_ONCE = 12


def shadow(solid, heights: Sequence[float],  # type: ignore[no-untyped-def]
           cache: dict[Any, list[TopoDS_Face]] | None = None,
           keep_out: Sequence[tuple[float, float, float, float, float]] = ()
           ) -> list[tuple[list[SegT], list[list[SegT]]]]:
    """The union of the part's cross-sections at ``heights``, as regions in the plane z = 0.

    With heights that sample every band of the part above some z (each band's middle and
    both sides of every level), this is the part's shadow from above z: what a tool coming
    down from +Z must stay out of. Built with OCCT's boolean fuse of the planar sections;
    ``cache`` keeps each height's flattened section for the next call. ``keep_out`` adds
    discs (x, y, radius, z_low, z_high) to the union at the heights they span: a helical
    surface (a modelled external thread's crests) has no finite set of sections whose union
    is its shadow, but its major cylinder is.

    With ``cache`` and more than :data:`SHADOW_AT_ONCE` heights, the sections of the lowest
    one to three are fused onto the union of the rest (made the same way, and kept in
    ``cache``): the guard asks for the shadow above each band, each the one above the next
    band and that band's sections.
    """
    faces: list[TopoDS_Face] = []
    for x, y, r, z_lo, z_hi in keep_out:
        if any(z_lo - 1e-9 <= z <= z_hi + 1e-9 for z in heights):
            circ = gp_Circ(gp_Ax2(gp_Pnt(x, y, 0.0), gp_Dir(0, 0, 1)), r)
            edge = BRepBuilderAPI_MakeEdge(circ).Edge()
            faces.append(BRepBuilderAPI_MakeFace(BRepBuilderAPI_MakeWire(edge).Wire(), True).Face())
    if cache is not None and len(heights) > SHADOW_AT_ONCE:
        hs = tuple(sorted(heights))
        cut = len(hs) % 3 or 3
        faces += _united(solid, hs[cut:], cache)
        heights = hs[:cut]
    faces += _sections_flat(solid, heights, cache)
    if not faces:
        return []
    return _regions(_fused(faces))


def _sections_flat(solid, heights: Sequence[float],  # type: ignore[no-untyped-def]
                   cache: dict[Any, list[TopoDS_Face]] | None) -> list[TopoDS_Face]:
    """The part's sections at ``heights``, moved to z = 0 (each height's kept in ``cache``)."""
    faces: list[TopoDS_Face] = []
    for z in heights:
        if cache is not None and z in cache:
            faces += cache[z]
            continue
        flat = []
        for f in _section_faces(solid, z):
            tr = gp_Trsf()
            tr.SetTranslation(gp_Vec(0.0, 0.0, -z))
            flat.append(TopoDS.Face_s(BRepBuilderAPI_Transform(f, tr, True).Shape()))
        if cache is not None:
            cache[z] = flat
        faces += flat
    return faces


def _united(solid, hs: tuple[float, ...],  # type: ignore[no-untyped-def]
            cache: dict[Any, list[TopoDS_Face]]) -> list[TopoDS_Face]:
    """The union of the sections at the ascending heights ``hs`` as faces (kept in ``cache``)."""
    key = ("united", hs)
    if key not in cache:
        if len(hs) > SHADOW_AT_ONCE:
            cut = len(hs) % 3 or 3
            faces = _united(solid, hs[cut:], cache) + _sections_flat(solid, hs[:cut], cache)
        else:
            faces = _sections_flat(solid, hs, cache)
        cache[key] = _fused(faces) if len(faces) > 1 else faces
    return cache[key]


def _fused(faces: list[TopoDS_Face]) -> list[TopoDS_Face]:
    """The union of planar ``faces`` (themselves when one)."""
    if len(faces) == 1:
        return faces
    tools = TopTools_ListOfShape()
    for f in faces[1:]:
        tools.Append(f)
    return _planar_boolean(BRepAlgoAPI_Fuse(), faces[0], tools, "cannot unite the part's sections into its shadow")


def _planar_boolean(op, face: TopoDS_Face, tools: TopTools_ListOfShape, why: str  # type: ignore[no-untyped-def]
                    ) -> list[TopoDS_Face]:
    """``face`` fused with / cut by ``tools`` (0.1 um fuzz), coplanar pieces unified into faces."""
    args = TopTools_ListOfShape()
    args.Append(face)
    op.SetArguments(args)
    op.SetTools(tools)
    op.SetFuzzyValue(1e-7)
    op.Build()
    if not op.IsDone():
        raise KernelError(why)
    unify = ShapeUpgrade_UnifySameDomain(op.Shape(), True, True, False)
    unify.Build()
    out = []
    exp = TopExp_Explorer(unify.Shape(), TopAbs_FACE)
    while exp.More():
        out.append(TopoDS.Face_s(exp.Current()))
        exp.Next()
    return out


def subtract(outer: Sequence[SegT], cut: Sequence[tuple[Sequence[SegT], Sequence[Sequence[SegT]]]]
             ) -> list[tuple[list[SegT], list[list[SegT]]]]:
    """The planar region inside ``outer`` less the ``cut`` regions (outer, holes), as regions (exact booleans)."""
    base = BRepBuilderAPI_MakeFace(_wire(outer), True).Face()
    fix = ShapeFix_Face(base)
    fix.Perform()
    tools = TopTools_ListOfShape()
    for o, hs in cut:
        mf = BRepBuilderAPI_MakeFace(_wire(o), True)
        for h in hs:
            mf.Add(_wire(h))
        f = ShapeFix_Face(mf.Face())
        f.Perform()
        tools.Append(f.Face())
    if tools.Size() == 0:
        return _regions([fix.Face()])
    return _regions(_planar_boolean(BRepAlgoAPI_Cut(), fix.Face(), tools,
                                    "cannot subtract the part's shadow from a region"))


class Placed:
    """A solid turned into a setup's coordinates: ``shape`` and exact ``bbox`` like :class:`Solid`."""

    def __init__(self, shape: TopoDS_Shape) -> None:
        self.shape = shape
        box = Bnd_Box()
        BRepBndLib.AddOptimal_s(shape, box, False, False)
        x0, y0, z0, x1, y1, z1 = box.Get()
        self.bbox = ((x0, y0, z0), (x1, y1, z1))


def turned(solid, rows: Sequence[Sequence[float]]) -> Placed:  # type: ignore[no-untyped-def]
    """``solid`` in the coordinates whose axes are ``rows`` (a rotation: 3 orthonormal rows, det +1)."""
    (a, b, c), (d, e, f), (g, h, i) = rows
    tr = gp_Trsf()
    tr.SetValues(a, b, c, 0.0, d, e, f, 0.0, g, h, i, 0.0)
    # a rotation only moves the shape's location: the triangulation is shared, not copied
    return Placed(BRepBuilderAPI_Transform(solid.shape, tr, False).Shape())


def up_levels(solid) -> list[float]:  # type: ignore[no-untyped-def]
    """Heights (z, mm) of the part's horizontal faces, highest first."""
    from dfm.kernel.geom import geometry

    geo = geometry(solid)
    zs: list[float] = []
    for f in geo.faces.values():
        if f.kind == "plane" and f.normal is not None and abs(abs(f.normal[2]) - 1.0) < 1e-9:
            z = f.origin[2] if f.origin is not None else f.centroid[2]
            if all(abs(z - q) > 1e-6 for q in zs):
                zs.append(z)
    return sorted(zs, reverse=True)


def flat_levels(solid) -> list[float]:  # type: ignore[no-untyped-def]
    """Heights (z, mm) of the planar faces of ``solid`` (a :class:`Solid` or :class:`Placed`) normal to Z."""
    zs: list[float] = []
    exp = TopExp_Explorer(solid.shape, TopAbs_FACE)
    while exp.More():
        surf = BRepAdaptor_Surface(TopoDS.Face_s(exp.Current()))
        exp.Next()
        if surf.GetType() != GeomAbs_Plane:
            continue
        pln = surf.Plane()
        if abs(abs(pln.Axis().Direction().Z()) - 1.0) < 1e-9:
            z = pln.Location().Z()
            if all(abs(z - q) > 1e-6 for q in zs):
                zs.append(z)
    return sorted(zs, reverse=True)


def triangles(shape: TopoDS_Shape, deflection: float = 2e-4) -> np.ndarray:
    """The shape's triangulation (chord error ``deflection``) as an ``(n, 3, 3)`` array of vertices, mm.

    OCCT meshes the shape (once: an existing finer mesh is kept) and writes it as binary STL,
    which numpy reads in one go (float32 vertices: 0.01 um at 100 mm).

    With OCCT's Delabella triangulator: the default (Watson) one joins rows of a torus's
    parameter grid several rows apart, and its chords left a pocket's R0.05 floor fillet by up
    to 2.3 um (4.8 um in height), over ten times ``deflection`` (a tool whose corner fits the
    fillet read as cutting it; on a convex fillet the same chords lie inside the material and
    hide a cut that deep); Delabella's stay within it. Where it leaves a face without triangles,
    the shape is meshed again with the default one (a face missing from the field would be air).
    """
    import os
    import tempfile

    from OCP.StlAPI import StlAPI_Writer

    # the chord error bounds the heights; the angular limit only adds triangles (0.02 rad: 40x slower)
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape, box, False, False)
    if not box.IsVoid():  # a part metres across (a unit slip) would need billions of triangles at 0.2 um
        x0, y0, z0, x1, y1, z1 = box.Get()
        deflection = max(deflection, 1e-6 * math.dist((x0, y0, z0), (x1, y1, z1)))
    params = IMeshTools_Parameters()
    params.Deflection = params.DeflectionInterior = deflection
    params.Angle = params.AngleInterior = 0.5
    params.Relative = False
    params.InParallel = True
    params.MeshAlgo = IMeshTools_MeshAlgoType_Delabella
    BRepMesh_IncrementalMesh(shape, params)
    if _untriangulated(shape):
        BRepTools.Clean_s(shape)
        BRepMesh_IncrementalMesh(shape, deflection, False, 0.5, True)
    fd, name = tempfile.mkstemp(prefix="dfm-mesh-", suffix=".stl")
    os.close(fd)
    try:
        writer = StlAPI_Writer()
        writer.ASCIIMode = False
        if not writer.Write(shape, name):
            raise KernelError("cannot write the part's triangulation")
        raw = np.fromfile(name, dtype=np.uint8)
    finally:
        os.unlink(name)
    n = int(raw[80:84].view("<u4")[0])
    rec = np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    return raw[84:84 + n * 50].view(rec)["v"].astype(np.float64)


def _untriangulated(shape: TopoDS_Shape) -> bool:
    """Whether a face of ``shape`` has no triangulation."""
    exp = TopExp_Explorer(shape, TopAbs_FACE)
    while exp.More():
        if BRep_Tool.Triangulation_s(TopoDS.Face_s(exp.Current()), TopLoc_Location()) is None:
            return True
        exp.Next()
    return False


def height_field(solid, x0: float, y0: float, step: float, nx: int, ny: int,  # type: ignore[no-untyped-def]
                 deflection: float = 2e-4, skip: Sequence[tuple[Sequence[int], float, float, float, float, float]] = ()
                 ) -> np.ndarray:
    """Top of the material seen from +Z at cell centres ``(x0 + (i + .5) step, y0 + (j + .5) step)``.

    Returns an ``(ny, nx)`` array of z (mm); ``-inf`` where the vertical line through the
    cell misses the part. Built from a fine triangulation (chord error ``deflection``),
    rasterised by :func:`dfm.kernel.rasterkernel.raster`.

    ``skip``: (face ids, x, y, radius, z low, z high): those faces (1-based ids in the solid)
    are left out when their box lies within that vertical cylinder's square and heights; the
    caller fills the cylinder itself (a modelled thread's flanks: a helix meshed to 0.2 um is
    millions of triangles).
    """
    field = np.full((ny, nx), -np.inf)
    tris = triangles(_without(solid.shape, skip), deflection)
    if not len(tris):
        return field
    from dfm.kernel.rasterkernel import raster

    raster(field, np.ascontiguousarray(tris), float(x0), float(y0), float(step))
    return field


def _without(shape: TopoDS_Shape, skip: Sequence[tuple[Sequence[int], float, float, float, float, float]]
             ) -> TopoDS_Shape:
    """``shape``'s faces as a compound, less the ``skip`` faces that lie within their cylinder."""
    if not skip:
        return shape
    from OCP.BRep import BRep_Builder
    from OCP.TopExp import TopExp
    from OCP.TopoDS import TopoDS_Compound
    from OCP.TopTools import TopTools_IndexedMapOfShape

    faces = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, TopAbs_FACE, faces)
    drop = set()
    for ids, x, y, r, zlo, zhi in skip:
        for i in ids:
            if not 1 <= i <= faces.Extent():
                continue
            box = Bnd_Box()
            BRepBndLib.AddOptimal_s(faces.FindKey(i), box, False, False)
            fx0, fy0, fz0, fx1, fy1, fz1 = box.Get()
            eps = 1e-6
            if (x - r - eps <= fx0 and fx1 <= x + r + eps and y - r - eps <= fy0 and fy1 <= y + r + eps
                    and zlo - eps <= fz0 and fz1 <= zhi + eps):
                drop.add(i)
    if not drop:
        return shape
    comp = TopoDS_Compound()
    builder = BRep_Builder()
    builder.MakeCompound(comp)
    for i in range(1, faces.Extent() + 1):
        if i not in drop:
            builder.Add(comp, faces.FindKey(i))
    return comp
