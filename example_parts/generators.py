"""CadQuery generators for parts with exact, known dimensions (mm).

Each generator returns a ``cadquery.Workplane`` and documents the dimensions it builds, so
tests can check dfm's measurements against them to the micrometre. ``generate.py`` writes
the example parts a newcomer tries first; the tests build their own variants.

Conventions: +Z is the first setup's approach direction (the part's top is up); the part
sits on z = 0 unless said otherwise.
"""

from __future__ import annotations

from pathlib import Path

import cadquery as cq


def plate_with_pockets(
    *,
    length: float = 12.0,
    width: float = 8.0,
    thickness: float = 3.0,
    pocket_length: float = 4.0,
    pocket_width: float = 5.0,
    pocket_depth: float = 2.0,
    corner_radius: float = 0.25,
    web: float = 0.2,
) -> cq.Workplane:
    """A plate with two blind rectangular pockets separated by a thin web.

    The pockets are ``pocket_length`` (x) by ``pocket_width`` (y), ``pocket_depth`` deep from
    the top face, with vertical corner radius ``corner_radius`` (0 = sharp) and a sharp
    floor. They sit symmetric about x = 0, so the web between them (x from -web/2 to +web/2)
    is ``web`` thick and ``pocket_depth`` high above the pocket floors. The plate spans
    x in [-length/2, length/2], y in [-width/2, width/2], z in [0, thickness].
    """
    base = cq.Workplane("XY").box(length, width, thickness, centered=(True, True, False))
    cx = web / 2 + pocket_length / 2
    for sign in (-1, 1):
        cut = cq.Workplane("XY").box(pocket_length, pocket_width, pocket_depth, centered=(True, True, False))
        if corner_radius > 0:
            cut = cut.edges("|Z").fillet(corner_radius)
        cut = cut.translate((sign * cx, 0, thickness - pocket_depth))
        base = base.cut(cut)
    return base


def slotted_block(
    *,
    length: float = 8.0,
    width: float = 6.0,
    thickness: float = 3.0,
    slot_width: float = 0.4,
    slot_length: float = 2.0,
    slot_depth: float = 1.0,
) -> cq.Workplane:
    """A block with one closed blind slot with full-round ends, along x, centred on the top.

    The slot is ``slot_width`` wide, ``slot_length`` long overall (end to end, round ends of
    radius slot_width/2) and ``slot_depth`` deep, with a flat floor.
    """
    base = cq.Workplane("XY").box(length, width, thickness, centered=(True, True, False))
    slot = (
        cq.Workplane("XY", origin=(0, 0, thickness - slot_depth))
        .slot2D(slot_length, slot_width, 0)
        .extrude(slot_depth)
    )
    return base.cut(slot)


def holes_block(
    *,
    length: float = 10.0,
    width: float = 6.0,
    thickness: float = 3.0,
) -> cq.Workplane:
    """A block with micro holes drilled from the top (+Z).

    * hole A at (-3, 0): Ø0.300 through (3.000 deep).
    * hole B at (-1, 0): Ø1.250 blind 2.000 deep, flat bottom (M1.6 tap drill).
    * hole C at (1.5, 0): Ø0.500 blind 1.500 deep to the shoulder, with a 118° drill point.
    * hole D at (3.5, 0): Ø1.000 through with a Ø1.800 × 0.500 deep counterbore.
    """
    base = cq.Workplane("XY").box(length, width, thickness, centered=(True, True, False))
    top = thickness

    def cyl(d: float, h: float, x: float, z_top: float) -> cq.Workplane:
        return cq.Workplane("XY", origin=(x, 0, z_top - h)).circle(d / 2).extrude(h)

    base = base.cut(cyl(0.3, thickness + 0.2, -3.0, top + 0.1))
    base = base.cut(cyl(1.25, 2.0, -1.0, top))
    # hole C: cylinder + cone with 118° included angle
    d, depth = 0.5, 1.5
    cone_h = (d / 2) / __import__("math").tan(__import__("math").radians(59))
    cone = cq.Solid.makeCone(d / 2, 0.0, cone_h, pnt=cq.Vector(1.5, 0, top - depth), dir=cq.Vector(0, 0, -1))
    base = base.cut(cyl(d, depth, 1.5, top)).cut(cq.Workplane("XY").add(cone))
    base = base.cut(cyl(1.0, thickness + 0.2, 3.5, top + 0.1))
    base = base.cut(cyl(1.8, 0.5, 3.5, top))
    return base


def lens_barrel(
    *,
    bore: float = 4.0,
    outer: float = 6.0,
    length: float = 8.0,
    flange_diameter: float = 8.0,
    flange_length: float = 1.5,
    seat_diameter: float = 5.0,
    seat_depth: float = 1.0,
) -> cq.Workplane:
    """A turned lens barrel along +Z.

    A tube of outer Ø``outer`` and through bore Ø``bore`` (wall (outer-bore)/2), ``length``
    long from z = 0, with a flange Ø``flange_diameter`` × ``flange_length`` at the bottom and
    a lens seat counterbore Ø``seat_diameter`` × ``seat_depth`` at the top.
    """
    body = cq.Workplane("XY").circle(outer / 2).extrude(length)
    body = body.union(cq.Workplane("XY").circle(flange_diameter / 2).extrude(flange_length))
    body = body.cut(cq.Workplane("XY", origin=(0, 0, -0.1)).circle(bore / 2).extrude(length + 0.2))
    seat = cq.Workplane("XY", origin=(0, 0, length - seat_depth)).circle(seat_diameter / 2)
    body = body.cut(seat.extrude(seat_depth + 0.1))
    return body


def export_step(part: cq.Workplane, path: str | Path, name: str | None = None) -> Path:
    """Write ``part`` as STEP (AP214, mm) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = part.val() if isinstance(part, cq.Workplane) else part
    assy = cq.Assembly(shape, name=name or path.stem)
    assy.export(str(path), exportType="STEP")
    return path


def rib_on_base(
    *,
    base: tuple[float, float, float] = (10.0, 6.0, 2.0),
    rib_thickness: float = 0.5,
    rib_height: float = 3.0,
    fillet: float = 0.3,
    chamfer: float = 0.2,
) -> cq.Workplane:
    """A base plate with a rib standing on it, filleted at the junction.

    The rib is ``rib_thickness`` thick (x), runs the full base width (y) and rises
    ``rib_height`` above the base top. The rib/base junction has concave fillets of radius
    ``fillet``; the base's outer vertical edges are chamfered by ``chamfer``. The thinnest
    material is the rib itself: nothing else may read thinner (fillets, chamfers and the
    junction are the classic false positives).
    """
    bx, by, bz = base
    plate = cq.Workplane("XY").box(bx, by, bz, centered=(True, True, False))
    if chamfer > 0:
        plate = plate.edges("|Z").chamfer(chamfer)
    rib = cq.Workplane("XY").box(rib_thickness, by, rib_height, centered=(True, True, False)).translate((0, 0, bz))
    part = plate.union(rib)
    if fillet > 0:
        part = part.edges(cq.selectors.BoxSelector((-rib_thickness, -by, bz - 0.01),
                                                   (rib_thickness, by, bz + 0.01))).edges("|Y").fillet(fillet)
    return part


def threaded_rod(*, major: float = 2.0, pitch: float = 0.4, length: float = 3.0, shank: float = 1.0) -> cq.Workplane:
    """A rod with a modelled external ISO metric thread (60° V, sharp-V truncated to the basic profile).

    The thread's major diameter is ``major``, its pitch ``pitch``; the basic minor diameter
    d3 = d − 1.226869·P. The thread runs ``length`` mm above a plain shank of
    Ø``major`` × ``shank`` at z ∈ [0, shank].
    """
    import math

    h = 0.8660254 * pitch  # sharp-V height
    r_major = major / 2
    r_minor = r_major - 17 / 24 * h  # ISO external basic minor radius (d3/2 uses 17/24 H)
    core = cq.Workplane("XY").circle(r_minor).extrude(length + shank)
    shank_cyl = cq.Workplane("XY").circle(r_major).extrude(shank)
    # Triangle profile in the XZ plane at the root radius: flank angle 30° from radial.
    depth = r_major - r_minor
    half_base = depth * math.tan(math.radians(30)) + pitch / 8  # crest flat P/8 at the major diameter
    crest_half = pitch / 16
    pts = [(r_minor - 0.01, -half_base - 0.01 * math.tan(math.radians(30))), (r_major, -crest_half),
           (r_major, crest_half), (r_minor - 0.01, half_base + 0.01 * math.tan(math.radians(30)))]
    profile = cq.Workplane("XZ").polyline(pts).close().wires().val().translate(cq.Vector(0, 0, shank))
    helix = cq.Wire.makeHelix(pitch, length - pitch, r_minor - 0.01, center=cq.Vector(0, 0, shank))
    thread = cq.Solid.sweep(profile, [], helix, isFrenet=True)
    return core.union(shank_cyl).union(cq.Workplane("XY").add(thread))


def threaded_hole(
    *,
    major: float = 2.0,
    pitch: float = 0.4,
    length: float = 3.0,
    bore_depth: float = 3.5,
    block: tuple[float, float, float] = (6.0, 6.0, 4.0),
    at: tuple[float, float] = (0.0, 0.0),
    hand: str = "right",
) -> cq.Workplane:
    """A block with a blind tapped hole: a modelled internal ISO metric thread from the top.

    The bore is the basic minor diameter D1 = D − 1.082532·P (ISO 68-1: D1/2 = D/2 − 5/8 H,
    H = 0.866025·P), ``bore_depth`` deep with a flat floor, at ``at`` in a block of ``block``
    (x, y, z) standing on z = 0. The thread's 60° groove reaches the major diameter ``major``
    (a P/8 flat at the root), starts ``length`` below the top and runs out above it;
    ``hand`` is ``right`` or ``left``.
    """
    import math

    h = 0.8660254 * pitch
    r_major = major / 2
    r_minor = r_major - 5 / 8 * h
    bx, by, bz = block
    e = 0.02  # the groove starts inside the bore so the two meet cleanly
    t30 = math.tan(math.radians(30))
    crest_half = pitch / 16
    half_base = (r_major - r_minor) * t30 + crest_half
    pts = [(r_minor - e, -half_base - e * t30), (r_major, -crest_half), (r_major, crest_half),
           (r_minor - e, half_base + e * t30)]
    z_start = bz - length
    cx, cy = at
    profile = cq.Workplane("XZ").polyline(pts).close().wires().val().translate(cq.Vector(cx, cy, z_start))
    helix = cq.Wire.makeHelix(pitch, length + pitch, r_minor - e, center=cq.Vector(cx, cy, z_start),
                              lefthand=hand == "left")
    groove = cq.Solid.sweep(profile, [], helix, isFrenet=True)
    body = cq.Workplane("XY").box(bx, by, bz, centered=(True, True, False)).val()
    bore = cq.Solid.makeCylinder(r_minor, bore_depth + 0.1, cq.Vector(cx, cy, bz - bore_depth))
    # the groove first, then the bore: the other order leaves OCCT's cut without the groove
    return cq.Workplane("XY").add(body.cut(groove).cut(bore))


def stepped_pocket(
    *,
    length: float = 12.0,
    width: float = 10.0,
    thickness: float = 4.0,
    outer_length: float = 8.0,
    outer_width: float = 6.0,
    outer_depth: float = 1.0,
    outer_radius: float = 1.0,
    inner_length: float = 2.0,
    inner_width: float = 1.5,
    inner_depth: float = 2.0,
    inner_radius: float = 0.25,
) -> cq.Workplane:
    """A pocket in the floor of a wider pocket (a stepped cavity), both centred on the top.

    The outer pocket is ``outer_length`` (x) × ``outer_width`` (y) × ``outer_depth`` deep from
    the top (z = thickness), vertical corner radius ``outer_radius``, sharp floor. The inner
    pocket opens in the outer pocket's floor: ``inner_length`` × ``inner_width``, a further
    ``inner_depth`` deep (its floor at z = thickness − outer_depth − inner_depth), vertical
    corner radius ``inner_radius``, sharp floor. A tool finishing the inner pocket needs a reach of
    ``inner_depth`` if its shank fits the outer pocket, else ``outer_depth + inner_depth``.
    """
    base = cq.Workplane("XY").box(length, width, thickness, centered=(True, True, False))
    outer = cq.Workplane("XY").box(outer_length, outer_width, outer_depth, centered=(True, True, False))
    if outer_radius > 0:
        outer = outer.edges("|Z").fillet(outer_radius)
    base = base.cut(outer.translate((0, 0, thickness - outer_depth)))
    inner = cq.Workplane("XY").box(inner_length, inner_width, inner_depth, centered=(True, True, False))
    if inner_radius > 0:
        inner = inner.edges("|Z").fillet(inner_radius)
    return base.cut(inner.translate((0, 0, thickness - outer_depth - inner_depth)))


# --- parts for the access model (issue 13): where a cutter can come from ----------------


def sloped_floor_pocket(
    *,
    length: float = 16.0,
    width: float = 12.0,
    height: float = 4.0,
    pocket_length: float = 6.0,
    pocket_width: float = 4.0,
    corner_radius: float = 0.5,
    floor_high: float = 3.0,
    slope: float = 5.0,
) -> cq.Workplane:
    """A block with a pocket cut from its top whose vertical walls stand on a sloped floor.

    The pocket is ``pocket_length`` along x by ``pocket_width`` along y, centred on the top, its
    vertical corners of radius ``corner_radius``; its flat floor rises towards +x at ``slope``
    degrees, to z = ``floor_high`` at the wall x = pocket_length / 2 (and
    floor_high - pocket_length * tan(slope) at the other end wall).
    """
    import math

    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    prism = (cq.Workplane("XY").rect(pocket_length, pocket_width).extrude(2 * height)
             .edges("|Z").fillet(corner_radius))
    a = math.radians(slope)
    n = (-math.sin(a), 0.0, math.cos(a))  # the floor's normal: it rises towards +x
    plane = cq.Plane(origin=cq.Vector(pocket_length / 2, 0, floor_high), xDir=(math.cos(a), 0, math.sin(a)), normal=n)
    below = cq.Workplane(plane).rect(4 * length, 4 * width).extrude(-2 * height)
    return block.cut(prism.cut(below))


def inclined_pocket(
    *,
    length: float = 12.0,
    width: float = 10.0,
    height: float = 8.0,
    angle: float = 30.0,
    pocket_length: float = 4.0,
    pocket_width: float = 2.5,
    pocket_depth: float = 1.0,
    corner_radius: float = 0.4,
    face_drop: float = 1.0,
) -> cq.Workplane:
    """A block whose top is cut by a plane inclined ``angle`` from the top, with a pocket in it.

    The block spans x in [-length/2, length/2], y in [-width/2, width/2], z in [0, height].
    The inclined face passes through (0, 0, height - ``face_drop``) and is turned about the x axis: its
    outward normal is (0, -sin(angle), cos(angle)), so it falls towards +y. The pocket is cut
    square into it: ``pocket_length`` along x by ``pocket_width`` along the face's slope,
    ``pocket_depth`` deep along the normal, vertical corners of radius ``corner_radius`` (all
    four parallel to the normal) and a sharp flat floor, centred on (0, 0, height - face_drop).
    The inclined face meets the flat top at y = -face_drop / tan(angle).
    """
    import math

    a = math.radians(angle)
    n = (0.0, -math.sin(a), math.cos(a))
    centre = cq.Vector(0, 0, height - face_drop)
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    plane = cq.Plane(origin=centre, xDir=(1, 0, 0), normal=n)
    cutter = cq.Workplane(plane).rect(4 * length, 4 * width).extrude(2 * height)
    body = block.cut(cutter)
    floor_plane = cq.Plane(origin=centre - cq.Vector(*n) * pocket_depth, xDir=(1, 0, 0), normal=n)
    pocket = cq.Workplane(floor_plane).rect(pocket_length, pocket_width).extrude(pocket_depth + 2.0)
    if corner_radius > 0:
        pocket = pocket.edges(cq.selectors.ParallelDirSelector(cq.Vector(*n))).fillet(corner_radius)
    return body.cut(pocket)


def t_slot_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 5.0,
    neck_width: float = 1.0,
    neck_depth: float = 1.0,
    head_width: float = 3.0,
    head_height: float = 1.0,
) -> cq.Workplane:
    """A block with a T-slot along x, open at both ends.

    The neck is ``neck_width`` wide (y in ±neck_width/2) from the top z = height down
    ``neck_depth``; under it the head is ``head_width`` wide and ``head_height`` high, so the
    head's two ceilings (z = height - neck_depth, facing -z) lie under material. Block: x in
    [-length/2, length/2], y in [-width/2, width/2], z in [0, height].
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    neck = cq.Workplane("XY").box(length + 2, neck_width, neck_depth + 1, centered=(True, True, False)).translate(
        (0, 0, height - neck_depth))
    head = cq.Workplane("XY").box(length + 2, head_width, head_height, centered=(True, True, False)).translate(
        (0, 0, height - neck_depth - head_height))
    return block.cut(neck).cut(head)


def dovetail_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 5.0,
    top_width: float = 2.0,
    depth: float = 1.5,
    angle: float = 60.0,
) -> cq.Workplane:
    """A block with a dovetail slot along x, open at both ends.

    The slot is ``top_width`` wide at the top face (z = height), ``depth`` deep, and its two
    flanks make ``angle`` with the floor, leaning over it, so the floor is
    top_width + 2 * depth / tan(angle) wide and both flanks face partly down (undercut).
    """
    import math

    half_bottom = top_width / 2 + depth / math.tan(math.radians(angle))
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    # the profile runs on 1 mm above the top along the flanks, so the cut leaves no sliver
    top = height + 1.0
    k = 1.0 / math.tan(math.radians(angle))
    pts = [(-(top_width / 2 - k), top), (-half_bottom, height - depth), (half_bottom, height - depth),
           (top_width / 2 - k, top)]
    prof = cq.Workplane("YZ").polyline(pts).close().extrude(length / 2 + 1, both=True)
    return block.cut(prof)


def open_slot_block(
    *,
    length: float = 10.0,
    width: float = 6.0,
    height: float = 3.0,
    slot_width: float = 1.5,
    slot_depth: float = 1.0,
    slot_length: float | None = None,
) -> cq.Workplane:
    """A block with a sharp-cornered slot along x from the top, open at both ends or one.

    With ``slot_length`` None the slot runs through the block (open at x = ±length/2); with a
    length it starts at x = -length/2 (open there) and ends ``slot_length`` further on in a
    full-round end (radius slot_width/2, what the end mill leaves). ``slot_width`` wide (y in
    ±slot_width/2), ``slot_depth`` deep, sharp floor edges.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    if slot_length is None:
        cut = cq.Workplane("XY").box(length + 2, slot_width, slot_depth + 1, centered=(True, True, False))
        cut = cut.translate((0, 0, height - slot_depth))
    else:
        r = slot_width / 2
        straight = slot_length - r
        cut = cq.Workplane("XY").box(straight + 1, slot_width, slot_depth + 1, centered=(False, True, False))
        cut = cut.translate((-length / 2 - 1, 0, height - slot_depth))
        end = cq.Workplane("XY").circle(r).extrude(slot_depth + 1).translate(
            (-length / 2 + straight, 0, height - slot_depth))
        cut = cut.union(end)
    return block.cut(cut)


def floor_fillet_pocket(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 3.0,
    pocket_length: float = 4.0,
    pocket_width: float = 3.0,
    pocket_depth: float = 1.5,
    corner_radius: float = 0.5,
    floor_radius: float = 0.2,
) -> cq.Workplane:
    """A block with a closed pocket whose floor meets the walls in fillets.

    The pocket is ``pocket_length`` (x) by ``pocket_width`` (y) wall to wall, ``pocket_depth``
    deep from the top, vertical corners ``corner_radius`` and floor-to-wall fillets
    ``floor_radius`` all round, so the flat floor is pocket_length - 2 * floor_radius long.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    cut = cq.Workplane("XY").box(pocket_length, pocket_width, pocket_depth + 1, centered=(True, True, False))
    cut = cut.edges("|Z").fillet(corner_radius).faces("<Z").edges().fillet(floor_radius)
    cut = cut.translate((0, 0, height - pocket_depth))
    return block.cut(cut)


def pocket_with_passage(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 3.0,
    pocket_length: float = 6.0,
    pocket_width: float = 4.0,
    pocket_depth: float = 1.0,
    corner_radius: float = 0.5,
    passage_length: float = 2.0,
    passage_width: float = 1.5,
    passage_radius: float = 0.3,
) -> cq.Workplane:
    """A closed pocket whose floor is cut by a through passage.

    Pocket ``pocket_length`` x ``pocket_width``, ``pocket_depth`` deep from the top, corner
    radius ``corner_radius``; in the middle of its floor a rectangular passage
    ``passage_length`` x ``passage_width`` (corner radius ``passage_radius``) runs through
    to the bottom (z = 0).
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    pocket = cq.Workplane("XY").box(pocket_length, pocket_width, pocket_depth + 1, centered=(True, True, False))
    pocket = pocket.edges("|Z").fillet(corner_radius).translate((0, 0, height - pocket_depth))
    passage = cq.Workplane("XY").box(passage_length, passage_width, height + 2, centered=(True, True, False))
    passage = passage.edges("|Z").fillet(passage_radius).translate((0, 0, -1))
    return block.cut(pocket).cut(passage)


def triangular_passage(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 2.0,
    side: float = 4.0,
    chamfer: float = 0.5,
) -> cq.Workplane:
    """A plate with a right-triangle through passage, one corner cut by a vertical chamfer.

    The triangle's legs are ``side`` long along +x and +y from (-side/2, -side/2); the
    passage runs through the plate (z in [0, height]). Its right-angle corner at
    (-side/2, -side/2) is cut by a vertical chamfer ``chamfer`` along each leg.
    """
    x0 = y0 = -side / 2
    pts = [(x0 + chamfer, y0), (x0 + side, y0), (x0, y0 + side), (x0, y0 + chamfer)]
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    cut = cq.Workplane("XY").polyline(pts).close().extrude(height + 2).translate((0, 0, -1))
    return block.cut(cut)


def oring_groove(
    *,
    size: float = 24.0,
    height: float = 4.0,
    boss_diameter: float = 12.0,
    groove_diameter: float = 17.6,
    groove_depth: float = 1.2,
) -> cq.Workplane:
    """A block with an annular (O-ring) groove round a central boss, cut from the top.

    The groove is ``groove_depth`` deep with a flat floor, between the boss (Ø
    ``boss_diameter``, its top flush with the block's top z = height) and the outer wall (Ø
    ``groove_diameter``): (groove_diameter - boss_diameter) / 2 wide.
    """
    block = cq.Workplane("XY").box(size, size, height, centered=(True, True, False))
    ring = (cq.Workplane("XY").circle(groove_diameter / 2).circle(boss_diameter / 2)
            .extrude(groove_depth + 1).translate((0, 0, height - groove_depth)))
    return block.cut(ring)


def tunnel_block(
    *,
    length: float = 12.0,
    width: float = 10.0,
    height: float = 6.0,
    pocket_length: float = 6.0,
    pocket_width: float = 8.0,
    pocket_depth: float = 4.0,
    tunnel_width: float = 3.0,
    tunnel_height: float = 2.0,
    tunnel_z: float = 1.0,
) -> cq.Workplane:
    """A block with a rectangular tunnel along x, crossed by a pocket cut from the top.

    The tunnel runs through the block (x in [-length/2, length/2]), ``tunnel_width`` wide (y in
    ±tunnel_width/2) and ``tunnel_height`` high from z = ``tunnel_z``. The pocket
    (``pocket_length`` x ``pocket_width``, centred, ``pocket_depth`` deep from the top z =
    height) reaches below the tunnel's ceiling, so part of the tunnel's floor is seen from the
    top through the pocket while its ends lie under material.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    tunnel = cq.Workplane("XY").box(length + 2, tunnel_width, tunnel_height, centered=(True, True, False)).translate(
        (0, 0, tunnel_z))
    pocket = cq.Workplane("XY").box(pocket_length, pocket_width, pocket_depth + 1, centered=(True, True, False))
    return block.cut(tunnel).cut(pocket.translate((0, 0, height - pocket_depth)))


def v_groove_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 4.0,
    groove_width: float = 2.0,
    groove_depth: float = 1.5,
) -> cq.Workplane:
    """A block with a V-groove along x from the top, open at both ends.

    The groove is ``groove_width`` wide at the top face (z = height, y in ±groove_width/2)
    and ``groove_depth`` deep to its apex (y = 0): two flat flanks, no floor.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    # the profile runs on 1 mm above the top along the flanks, so the cut leaves no sliver
    k = (groove_width / 2) / groove_depth
    top = height + 1.0
    pts = [(-(groove_width / 2 + k), top), (0.0, height - groove_depth), (groove_width / 2 + k, top)]
    prof = cq.Workplane("YZ").polyline(pts).close().extrude(length / 2 + 1, both=True)
    return block.cut(prof)


def chamfered_holes_pocket(
    *,
    length: float = 12.0,
    width: float = 8.0,
    height: float = 3.0,
    pocket_length: float = 5.0,
    pocket_width: float = 4.0,
    pocket_depth: float = 1.5,
    floor_chamfer: float = 0.3,
    hole_diameter: float = 1.6,
    sink_diameter: float = 3.0,
) -> cq.Workplane:
    """A block with a pocket whose floor edges are chamfered, and a countersunk through hole.

    The pocket (centred at x = -3, ``pocket_length`` x ``pocket_width`` wall to wall,
    ``pocket_depth`` deep from the top) meets its walls in 45° chamfers ``floor_chamfer`` wide
    all round. At x = +3.5 a through hole Ø``hole_diameter`` opens at the top in a 90°
    countersink Ø``sink_diameter``.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    cut = cq.Workplane("XY").box(pocket_length, pocket_width, pocket_depth + 1, centered=(True, True, False))
    cut = cut.faces("<Z").edges().chamfer(floor_chamfer)
    block = block.cut(cut.translate((-3.0, 0, height - pocket_depth)))
    return block.faces(">Z").workplane(centerOption="CenterOfBoundBox").center(3.5, 0).cskHole(
        hole_diameter, sink_diameter, 90.0)


def rounded_step_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 5.0,
    step_depth: float = 2.0,
    round_radius: float = 0.5,
) -> cq.Workplane:
    """A block with a step along y cut from the top, the step wall's outside edges rounded.

    The step takes x < 0 down ``step_depth`` from the top (z = height); its wall (x = 0,
    facing -x) meets the block's sides y = ±width/2 in convex vertical rounds of
    ``round_radius`` (the part's own edges, not the step's).
    """
    base = cq.Workplane("XY").box(length, width, height - step_depth, centered=(True, True, False))
    upper = cq.Workplane("XY").box(length / 2, width, step_depth, centered=(False, True, False))
    upper = upper.edges("|Z and <X").fillet(round_radius).translate((0, 0, height - step_depth))
    return base.union(upper)


# --- parts for the measurement fixes of the new-user trial --------------------------------


def through_slot_block(
    *,
    length: float = 12.0,
    width: float = 8.0,
    height: float = 10.0,
    slot_length: float = 4.0,
    slot_width: float = 0.6,
    round_ends: bool = False,
) -> cq.Workplane:
    """A block with a narrow closed slot through it along z (no floor).

    The block spans x in ±length/2, y in ±width/2, z in [0, height]. The slot is centred,
    ``slot_length`` along x by ``slot_width`` along y wall to wall, through the whole
    ``height``: with ``round_ends`` its ends are half-rounds of Ø``slot_width`` (the slot is
    still ``slot_length`` long overall), else square.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    sketch = cq.Workplane("XY").workplane(offset=-1.0)
    sketch = sketch.slot2D(slot_length, slot_width) if round_ends else sketch.rect(slot_length, slot_width)
    return block.cut(sketch.extrude(height + 2.0))


def crossing_bores(
    *,
    size: float = 10.0,
    bore_diameter: float = 4.0,
    cross_diameter: float = 2.0,
    cross_offset: float = 0.0,
    cross_z: float = 5.0,
) -> cq.Workplane:
    """A cube with a vertical through bore and a horizontal cross bore.

    The cube spans ±size/2 in x and y, z in [0, size]. The bore Ø``bore_diameter`` runs along
    z through the centre. The cross bore Ø``cross_diameter`` runs along x through the whole
    cube at height ``cross_z``, its axis ``cross_offset`` from the vertical bore's axis along
    y: with |offset| < (bore + cross) / 2 the two bores intersect; the material between them
    is otherwise |offset| - (bore + cross) / 2 thick at its thinnest.
    """
    block = cq.Workplane("XY").box(size, size, size, centered=(True, True, False))
    bore = cq.Workplane("XY").circle(bore_diameter / 2).extrude(size + 2).translate((0, 0, -1))
    cross = (cq.Workplane("YZ").circle(cross_diameter / 2).extrude(size + 2)
             .translate((-size / 2 - 1, cross_offset, cross_z)))
    return block.cut(bore).cut(cross)


def parallel_bores(
    *,
    length: float = 12.0,
    width: float = 8.0,
    height: float = 5.0,
    diameter: float = 2.0,
    pitch: float = 1.5,
) -> cq.Workplane:
    """A block with two parallel through bores along z, ``pitch`` apart along x.

    Both are Ø``diameter``, centred at x = ±pitch/2, y = 0, through the height: with ``pitch``
    below ``diameter`` they overlap (one figure-eight opening, no material between them);
    above it the web between them is ``pitch - diameter`` thick.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    bores = (cq.Workplane("XY").workplane(offset=-1.0).pushPoints([(-pitch / 2, 0), (pitch / 2, 0)])
             .circle(diameter / 2).extrude(height + 2))
    return block.cut(bores)


# --- parts for the "cannot tell" check (material removed in a shape dfm does not recognise) ---


def turned_v_groove_block(*, angle_deg: float = 30.0, **kwargs: float) -> cq.Workplane:
    """:func:`v_groove_block` (same keyword sizes) with its groove turned ``angle_deg`` about Z.

    The block stays square to the axes (x in ±length/2, y in ±width/2, z in [0, height]); the
    groove's apex runs through (0, 0, height - groove_depth) along (cos a, sin a, 0), so at
    30° it runs out through the block's sides, along no axis. At 0° it is :func:`v_groove_block`.
    """
    length = kwargs.get("length", 10.0)
    width = kwargs.get("width", 8.0)
    height = kwargs.get("height", 4.0)
    groove_width = kwargs.get("groove_width", 2.0)
    groove_depth = kwargs.get("groove_depth", 1.5)
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    k = (groove_width / 2) / groove_depth
    top = height + 1.0
    pts = [(-(groove_width / 2 + k), top), (0.0, height - groove_depth), (groove_width / 2 + k, top)]
    reach = (length**2 + width**2) ** 0.5  # through the block whatever the angle
    prof = cq.Workplane("YZ").polyline(pts).close().extrude(reach, both=True)
    return block.cut(prof.rotate((0, 0, 0), (0, 0, 1), angle_deg))


def rounded_chamfered_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 4.0,
    round_radius: float = 1.0,
    chamfer: float = 0.5,
) -> cq.Workplane:
    """A block with only outside edge breaks: vertical edges rounded, top edges chamfered.

    The block spans x in ±length/2, y in ±width/2, z in [0, height]; its four vertical edges are
    rounded to ``round_radius`` and the whole top outline (lines and arcs) chamfered ``chamfer``
    at 45°. Nothing is cut into it: no feature, nothing unrecognised.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    return block.edges("|Z").fillet(round_radius).edges(">Z").chamfer(chamfer)


def lofted_hollow_block(
    *,
    length: float = 10.0,
    width: float = 8.0,
    height: float = 4.0,
    depth: float = 1.5,
) -> cq.Workplane:
    """A block with a free-form hollow in its top: a ruled loft between two closed splines.

    The hollow's flat floor, ``depth`` below the top (z = height), is bounded by a periodic
    spline through (±1.5, 0), (0, 1), (0, -0.8); its side is one B-spline face, the ruled loft
    from that spline to one through (±4, 0), (0, 3.5), (0, -3) 1 mm above the top, leaning
    outwards. The rim (where the side crosses the top) lies inside the block: no milled region
    dfm knows.
    """
    block = cq.Workplane("XY").box(length, width, height, centered=(True, True, False))
    foot = [(-1.5, 0.0), (0.0, 1.0), (1.5, 0.0), (0.0, -0.8)]
    over = [(-4.0, 0.0), (0.0, 3.5), (4.0, 0.0), (0.0, -3.0)]
    tool = (cq.Workplane("XY").workplane(offset=height - depth).spline(foot, periodic=True).close()
            .workplane(offset=depth + 1.0).spline(over, periodic=True).close().loft(ruled=True))
    return block.cut(tool)
