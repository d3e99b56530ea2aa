"""No sliver over 20 um is left where a catalogue tool fits (#17).

Each program dfm writes is simulated on a fine height field of its setup (the stock box cut by
every move), beside the exact part's height field in the same coordinates. Material left
above the part (or above the part's bottom where there is no part: a through feature) is a
sliver where it is more than 20 um thick and a tool of the catalogue could reach it: at the
cell's floor level L, the smallest square end mill whose reach covers the depth down to L fits
there when a disc of its radius lies wholly over floor at or below L (the part's free region at
L) and covers the cell. Corners tighter than every tool are not slivers: no tool fits them.
Features the program lists as not machined or not fully removed (with their reason) are left
out. Parts: the example generators, pockets with corners tighter than the roughing tool (one
with an island) and seeded random parts (``DFM_RANDOM_PARTS`` / ``DFM_RANDOM_SEED``).
"""

from __future__ import annotations

import math
import os

import cadquery as cq
import generators
import numpy as np
import pytest
from generators import export_step
from scipy import ndimage
from test_cam_random import random_part

from dfm.cam import data, rs274, sim
from dfm.cam.gcode import KernelSetupPart, generate, part_geometry
from dfm.cam.model import Arc, Feed

COUNT = int(os.environ.get("DFM_RANDOM_PARTS", "3"))
SEED = int(os.environ.get("DFM_RANDOM_SEED", "1000"))
#: Thickest material a program may leave where a tool fits (mm).
SLIVER_MM = 0.02
#: Most cells of the test's height field.
CELLS = 3_000_000


def slivers(gen, result, path) -> list[tuple]:  # type: ignore[no-untyped-def]
    """[(setup, x, y, floor, thickness, tool radius)] of the slivers, thickest first (one per level)."""
    _, solid = part_geometry(path)
    features = result.bodies[0].features
    cat = [c for c in data.load_catalogue(None) if c.kind == "square"]
    out = []
    for su in gen.program.setups:
        if not su.operations:
            continue
        radii = [op.tool.radius for op in su.operations]
        area = (su.stock_max[0] - su.stock_min[0] + 1) * (su.stock_max[1] - su.stock_min[1] + 1)
        g = sim.grid_for(su.stock_min, su.stock_max, max(0.005, min(radii) / 10, math.sqrt(area / CELLS)), pad=0.2)
        part = KernelSetupPart(solid, su.approach, features).height_field(g)
        s = sim.new_simulation(g, su.stock_min, su.stock_max, part)
        s.bodies = False
        pos = None
        for op in su.operations:
            moves = sim.moves_from_steps(op.steps, {op.tool.number: op.tool.radius}, start=pos, spindle=True,
                                         tool=op.tool.radius)
            s.run(moves)
            if moves:
                pos = moves[-1].b
        inside = np.isfinite(s.height)
        if su.index > 1:  # the stock round the part is setup 1's outside profile's (this simulation starts whole)
            inside &= np.isfinite(part)
        floor = np.where(np.isfinite(part), part, su.part_bottom)
        floor = np.maximum(floor, su.part_bottom)
        left = np.where(inside, s.height - floor, 0.0)
        left[~inside] = 0.0
        excused = _excused(g, su, features, gen) if tuple(su.approach) == (0.0, 0.0, 1.0) else np.zeros_like(inside)
        for level in np.unique(np.round(floor[inside & (left > SLIVER_MM)], 4)):
            depth = su.part_top - level
            fits = [c.diameter_mm / 2 for c in cat if (c.reach_mm or 0.0) >= depth - 1e-9]
            if not fits:
                continue
            rt = min(fits)
            free = floor <= level + 1e-4
            room = ndimage.distance_transform_edt(free) * g.step  # to the nearest cell above the level
            centres = room >= rt + g.step
            reach = ndimage.distance_transform_edt(~centres) * g.step <= rt - g.step
            bad = reach & ~excused & (np.abs(floor - level) <= 1e-4) & (left > SLIVER_MM)
            if bad.any():
                j, i = np.unravel_index(np.argmax(np.where(bad, left, 0.0)), bad.shape)
                out.append((su.index, float(g.xs[i]), float(g.ys[j]), float(level), float(left[j, i]), rt,
                            int(bad.sum())))
    return sorted(out, key=lambda t: -t[4])


def _excused(g, su, features, gen) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Cells (setup 1 from +Z: model X/Y) of features listed as not machined or not fully removed,
    and of the sharp corners of outlines: within 1.5 x the radius of the largest tool that cut
    the feature of a vertex where the outline turns by more than 30 degrees (no end mill fits
    a sharp corner; its rounding is the tool's, stated by the check's corner finding)."""
    out = np.zeros((g.ny, g.nx), dtype=bool)
    skip = {f for f, _ in su.unmachined + su.partly} | {f for _, f, _, _ in gen.verification.incomplete}
    cx, cy = np.meshgrid(g.xs, g.ys)
    for f in features:
        if f.id in skip and f.kind == "hole" and f.location_mm is not None:
            x, y = f.location_mm[0], f.location_mm[1]
            out |= np.hypot(cx - x, cy - y) <= float(f.dims.get("diameter_mm", 0.0)) / 2 + g.step
        pts = [tuple(p[:2]) for p in f.props.get("outline") or ()]
        if not pts:
            continue
        if f.id in skip:  # its outline and its floor's (a floor running on under a bridge to the far side)
            out |= sim.polygon_mask(g, pts)
            if f.props.get("floor_outline"):
                out |= sim.polygon_mask(g, [tuple(p[:2]) for p in f.props["floor_outline"]])
        radii = [op.tool.radius for op in su.operations if f.id in op.features]
        if not radii or f.dims.get("min_corner_radius_mm") != 0.0:
            continue
        reach = 1.5 * max(radii)
        for k, p in enumerate(pts):
            a, b = pts[k - 1], pts[(k + 1) % len(pts)]
            t1 = math.atan2(p[1] - a[1], p[0] - a[0])
            t2 = math.atan2(b[1] - p[1], b[0] - p[0])
            turn = abs((t2 - t1 + math.pi) % (2 * math.pi) - math.pi)
            if turn > math.radians(30):
                out |= np.hypot(cx - p[0], cy - p[1]) <= reach
    return out


@pytest.mark.parametrize("name", ["plate_with_pockets", "slotted_block", "holes_block", "lens_barrel"])
def test_example_programs_leave_no_sliver_a_tool_fits(tmp_path, name):
    path = export_step(getattr(generators, name)(), tmp_path / f"{name}.step", name=name)
    gen, result = generate(path)
    assert not slivers(gen, result, path)


def _pocket(w: float, h: float, corner: float, island: float = 0.0) -> cq.Workplane:
    body = cq.Workplane("XY").box(w + 6, h + 5, 3.7, centered=(True, True, False))
    pocket = cq.Workplane("XY").box(w, h, 1.2, centered=(True, True, False)).translate((0, 0, 2.5))
    body = body.cut(pocket.edges("|Z").fillet(corner) if corner else pocket)
    if island:
        body = body.union(cq.Workplane("XY").box(island, island, 1.2, centered=(True, True, False))
                          .translate((0, 0, 2.5)))
    return body


@pytest.mark.parametrize("corner,w,h,island", [(0.25, 4.0, 3.0, 0.0), (0.12, 2.6, 1.9, 0.0), (0.6, 5.0, 2.4, 0.0),
                                               (0.3, 6.0, 5.0, 1.5)])
def test_pockets_leave_no_sliver_a_tool_fits(tmp_path, corner, w, h, island):
    path = export_step(_pocket(w, h, corner, island), tmp_path / "p.step", name="p")
    gen, result = generate(path)
    assert not slivers(gen, result, path)


def _pocket_beside_slot() -> cq.Workplane:
    """An R0.1 pocket mostly cut away by a deeper through slot: a 0.4 mm strip of it stays, open onto the slot."""
    body = cq.Workplane("XY").box(10, 8, 3.5, centered=(True, True, False))
    slot = cq.Workplane("XY").box(0.7, 10, 0.8, centered=(True, True, False)).translate((0, 0, 2.7))
    pocket = (cq.Workplane("XY").box(1.1, 3.0, 0.7, centered=(True, True, False)).edges("|Z").fillet(0.1)
              .translate((-0.2, 0.5, 2.8)))
    return body.cut(slot).cut(pocket)


def _island_near_wall(triangle: bool) -> cq.Workplane:
    """A sharp-cornered pocket with an island 0.25 mm from its wall (a triangle's tip or a square's side)."""
    body = cq.Workplane("XY").box(10, 8, 3.5, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").box(4.0, 3.0, 1.2, centered=(True, True, False)).translate((0, 0, 2.3)))
    if triangle:  # tip at +x: circumradius 0.9 about x = 2 - 0.25 - 0.9
        boss = cq.Workplane("XY").polygon(3, 1.8).extrude(1.2).translate((0.85, 0, 2.3))
    else:
        boss = cq.Workplane("XY").box(1.0, 1.0, 1.2, centered=(True, True, False)).translate((1.25, 0, 2.3))
    return body.union(boss)


def _pocket_onto_narrow_slot(start: float, corner: float, width: float = 3.0) -> cq.Workplane:
    """A pocket opening sideways onto a through slot narrower than the outside profile's Ø3 (a fluidic
    chamber on its channel): ``start`` is where the pocket begins in X (the slot's wall is at 0.6)."""
    body = cq.Workplane("XY").box(12, 10, 4, centered=(True, True, False))
    slot = cq.Workplane("XY").box(1.2, 12, 1.5, centered=(True, True, False)).translate((0, 0, 2.5))
    pocket = cq.Workplane("XY").box(3, width, 0.8, centered=(True, True, False))
    if corner:
        pocket = pocket.edges("|Z").fillet(corner)
    return body.cut(slot).cut(pocket.translate((start + 1.5, 0, 3.2)))


def _round_island_near_wall() -> cq.Workplane:
    """An R0.5 pocket with a Ø1.6 pin 0.3 mm from its wall: roughing Ø3, the corners' rest tool Ø0.8,
    and a third tool only for the gap (the rest tool cannot pass it)."""
    body = cq.Workplane("XY").box(16, 12, 4, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").rect(8, 6).extrude(1.2).edges("|Z").fillet(0.5).translate((0, 0, 2.8)))
    return body.union(cq.Workplane("XY").circle(0.8).extrude(1.2).translate((2.9, 0, 2.8)))


def _bottom_pocket() -> cq.Workplane:
    """A pocket in the top and one in the bottom face: two setups."""
    body = cq.Workplane("XY").box(16, 12, 4, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").rect(6, 4).extrude(1.0).edges("|Z").fillet(0.5))
    return body.cut(cq.Workplane("XY").rect(4, 3).extrude(1.0).edges("|Z").fillet(0.5).translate((3, 2, 3)))


def _floor_fillet_pocket() -> cq.Workplane:
    """A pocket with an R0.3 floor fillet: its floor's outline lies 0.3 mm inside its walls, with air over
    that band near the floor (not an open side: before, taken for one and the kernel offset failed)."""
    pocket = cq.Workplane("XY").rect(6, 4).extrude(1.5).edges("|Z").fillet(0.6).edges("<Z").fillet(0.3)
    return cq.Workplane("XY").box(16, 12, 4, centered=(True, True, False)).cut(pocket.translate((0, 0, 2.5)))


@pytest.mark.parametrize("name", ["pocket_beside_slot", "triangle_near_wall", "square_near_wall",
                                  "onto_slot_sharp", "onto_slot_overlap", "onto_slot_wide", "round_island_near_wall",
                                  "floor_fillet", "bottom_pocket"])
def test_open_sides_and_narrow_gaps_leave_no_sliver(tmp_path, name):
    """A pocket open onto a deeper neighbour is cut out over the open side (no radius left in its
    corners there); an island nearer a wall than the roughing tool's diameter gets a tool that passes;
    a pocket opening onto a slot the outside profile's tool cannot enter is cut by its own tools, and
    the profile, which cannot reach it from the outside, leaves it alone (before: the profile finish
    went into it from above, the guard found a 0.8 mm gouge and the whole outside went unmachined)."""
    part = {"pocket_beside_slot": _pocket_beside_slot, "triangle_near_wall": lambda: _island_near_wall(True),
            "square_near_wall": lambda: _island_near_wall(False),
            "onto_slot_sharp": lambda: _pocket_onto_narrow_slot(0.6, 0.0),
            "onto_slot_overlap": lambda: _pocket_onto_narrow_slot(0.4, 0.3),
            "onto_slot_wide": lambda: _pocket_onto_narrow_slot(0.4, 0.3, 4.2),
            "round_island_near_wall": _round_island_near_wall, "floor_fillet": _floor_fillet_pocket,
            "bottom_pocket": _bottom_pocket}[name]()
    path = export_step(part, tmp_path / f"{name}.step", name=name)
    gen, result = generate(path)
    assert not gen.verification.dropped
    assert not [u for su in gen.program.setups for u in su.unmachined]
    if name.startswith("onto_slot"):
        ops = [op for su in gen.program.setups for op in su.operations]
        assert any(op.kind == "profile" for op in ops)
        pocket = next(f.id for f in result.bodies[0].features if f.kind == "pocket")
        assert any(pocket in op.features and op.kind != "profile" for op in ops)
    assert not slivers(gen, result, path)


@pytest.mark.parametrize("seed", range(SEED, SEED + COUNT))
def test_random_part_programs_leave_no_sliver_a_tool_fits(tmp_path, seed):
    path = export_step(random_part(seed), tmp_path / f"random_{seed}.step")
    gen, result = generate(path)
    assert not slivers(gen, result, path), seed


def test_material_no_feature_claims_is_listed(tmp_path):
    """A pocket whose side meets a slot's wall in tangent fillets is not recognised as a feature (a
    recognition gap); the program must not leave its 0.8 mm of material silently: the guard lists
    it, where it is, in the header and the JSON (cam.guard.incomplete)."""
    path = export_step(_pocket_onto_narrow_slot(0.6, 0.3), tmp_path / "tangent.step", name="tangent")
    gen, result = generate(path)
    left = [i for i in gen.verification.incomplete if i[1].startswith("material at")]
    if any(f.kind == "pocket" for f in result.bodies[0].features):  # recognised one day: then it is machined
        assert not slivers(gen, result, path)
        return
    assert len(left) == 1, gen.verification.incomplete
    su, what, frac, why = left[0]
    x, y, z = (float(t[1:]) for t in what.split() if t[0] in "XYZ")
    assert 0.6 < x < 3.6 and -1.5 < y < 1.5 and z == pytest.approx(3.2, abs=1e-3)
    assert frac < 0.05 and "0.800 mm thick" in why
    assert any(line.startswith("INCOMPLETE material at") for line in gen.verification.header(su))
    assert gen.summary()["guard"]["incomplete"][0]["feature"] == what



def test_cross_hole_segments_are_drilled_from_their_outside_ends(tmp_path):
    """A Ø1 cross hole through a block's length meets a Ø2 vertical bore: dfm finds two through segments,
    each with one end in the bore. Each is drilled from its outside face to where it opens into the bore
    (not from the bore side, which a tool reaches only through the other segment, beyond a jobber drill's
    12 mm, and not to the far face of the part: before, both were dropped by the guard)."""
    body = cq.Workplane("XY").box(16, 12, 4, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").circle(1.0).extrude(4))
    part = body.cut(cq.Workplane("YZ").circle(0.5).extrude(20, both=True).translate((0, 0, 2)))
    path = export_step(part, tmp_path / "cross.step", name="cross")
    gen, result = generate(path)
    assert not gen.verification.dropped and not gen.verification.incomplete
    assert not [u for su in gen.program.setups for u in su.unmachined]
    segs = [f for f in result.bodies[0].features if f.kind == "hole" and f.dims["diameter_mm"] == pytest.approx(1.0)]
    assert len(segs) == 2
    drilled = {}
    for su in gen.program.setups:
        for op in su.operations:
            for f in segs:
                if f.id in op.features:
                    drilled[f.id] = (tuple(su.approach), max(st.z for st in op.steps), min(st.z for st in op.steps))
    assert sorted(d[0] for d in drilled.values()) == [(-1.0, 0.0, 0.0), (1.0, 0.0, 0.0)]
    for _, z_hi, z_lo in drilled.values():
        # from above the face (8 mm out) to the bore's wall (0.866 mm from the axis) + breakthrough + point
        assert z_hi > 8.0 and 0.0 < z_lo < 0.866
    assert not slivers(gen, result, path)


@pytest.mark.parametrize("kind", ["csk", "cbore"])
def test_countersunk_and_counterbored_holes_are_machined(tmp_path, kind):
    """A countersunk hole's bore is machined and its countersink listed as partly machined (not "not
    machined": its bore is) with the tool it needs (before: the whole hole was left); a counterbore
    is cut before the bore below it (its rapids reach the bore through it) and counts as the hole's
    own operation."""
    body = cq.Workplane("XY").box(16, 12, 4, centered=(True, True, False)).faces(">Z").workplane()
    pts = [(-4, 0), (4, 0)]
    body = body.pushPoints(pts)
    part = body.cskHole(1.0, 2.0, 90) if kind == "csk" else body.cboreHole(1.0, 2.0, 0.8)
    path = export_step(part, tmp_path / f"{kind}.step", name=kind)
    gen, result = generate(path)
    holes = [f.id for f in result.bodies[0].features if f.kind == "hole"]
    assert len(holes) == 2 and not gen.verification.dropped
    ops = [op for su in gen.program.setups for op in su.operations]
    for h in holes:
        mine = [op for op in ops if h in op.features]
        assert mine and all(op.features == (h,) for op in mine)
        if kind == "cbore":
            names = [op.name for op in mine]
            assert names.index(f"{h} counterbore rough") < min(i for i, n in enumerate(names) if "counterbore" not in n)
    assert not [u for su in gen.program.setups for u in su.unmachined]
    listed = dict(u for su in gen.program.setups for u in su.partly)  # machined, all but the countersink
    if kind == "csk":
        assert sorted(listed) == sorted(holes) and all("countersink" in why and "bore itself is machined" in why
                                                        for why in listed.values())
        assert all(f"PARTLY MACHINED {h}: its countersink" in gen.files[0][1] for h in holes)
        assert {x["feature"] for su in gen.summary()["setups"] for x in su["partly"]} == set(holes)
    else:
        assert not listed
    assert not slivers(gen, result, path)


@pytest.mark.parametrize("blend", ["fillet", "chamfer"])
def test_a_blended_top_edge_is_cleared_from_the_top_not_plunged_into(tmp_path, blend):
    """A pocket and a 0.52 mm slot whose top edges are filleted or chamfered: their walls end under
    the blend, and nothing else removes the stock over them. Their cut starts at the part's top
    (before: an end mill was fed straight down 0.2-0.4 mm into the stock at the cutting feed), and
    the blend is listed as partly machined. The features say so: their top is the part's top, and
    ``rim_break`` says where the walls stop."""
    body = cq.Workplane("XY").box(16, 10, 3, centered=(True, True, False))
    body = body.cut(cq.Workplane("XY").rect(5, 4).extrude(1.5).edges("|Z").fillet(0.5).translate((-3, 0, 1.5)))
    body = body.cut(cq.Workplane("XY").slot2D(5, 0.52).extrude(1.3).translate((4, 0, 1.7)))
    rims = body.edges(">Z").edges(cq.selectors.BoxSelector((-7, -4.5, 2.9), (7, 4.5, 3.1)))
    part = rims.fillet(0.3) if blend == "fillet" else rims.chamfer(0.2)
    path = export_step(part, tmp_path / f"rim_{blend}.step", name=f"rim_{blend}")
    gen, result = generate(path)
    ver = gen.verification
    assert not ver.dropped, ver.dropped
    feats = {f.id: f for f in result.bodies[0].features if f.kind in ("pocket", "slot")}
    assert len(feats) == 2 and all(float(f.props["top_z_mm"]) == pytest.approx(3.0, abs=1e-6) for f in feats.values())
    foot = {fid: float(f.props["rim_break"]["from_z_mm"]) for fid, f in feats.items()}
    assert all(z < 3.0 - 0.1 for z in foot.values())
    partly = dict(u for su in gen.program.setups for u in su.partly)
    assert set(partly) == set(feats) and all("top edge" in why for why in partly.values())
    su = gen.program.setups[0]
    for fid in feats:
        rough = next(op for op in su.operations if op.features == (fid,) and op.name.endswith("rough"))
        cuts = [st.z for st in rough.steps if isinstance(st, Feed | Arc) and st.role in ("cut", "ramp")]
        assert max(cuts) > foot[fid] + 0.05  # it starts above the blend's foot
    assert all(frac >= 0.95 for _, frac in ver.setups[0].removed), ver.setups[0].removed
    if rs274.available():
        for _, text in gen.files:
            run = rs274.run(text, gen.program)
            assert run.ok, run.errors[-500:]


def test_a_groove_in_a_bore_is_listed_and_the_bore_still_machined(tmp_path):
    """A barrel's Ø6 bore with a Ø6.2 circlip groove 3 mm down: the groove (wider than the bore
    above it) is an undercut no straight end mill reaches from the entry and is listed; the bore
    above and below it is milled (before: the groove was milled as a counterbore, its finish cut
    3.5 mm into the bore's wall, and the guard dropped the whole hole)."""
    pts = [(2.0, 0), (4.0, 0), (4.0, 6), (3.5, 6), (3.5, 10), (3.0, 10), (3.0, 7.0), (3.1, 7.0), (3.1, 6.5),
           (3.0, 6.5), (3.0, 1.0), (2.0, 1.0)]
    barrel = cq.Workplane("XZ").polyline(pts).close().revolve(360, (0, 0, 0), (0, 1, 0))
    path = export_step(barrel, tmp_path / "barrel.step", name="barrel")
    gen, result = generate(path)
    assert not gen.verification.dropped, gen.verification.dropped
    hole = next(f.id for f in result.bodies[0].features if f.kind == "hole")
    names = [op.name for su in gen.program.setups for op in su.operations if hole in op.features]
    assert len(names) == len(set(names)) and sum("counterbore" in n for n in names) >= 4  # two bores, each 2 ops
    partly = dict(u for su in gen.program.setups for u in su.partly)
    assert "groove Ø6.2" in partly[hole] and "undercut" in partly[hole]
    assert not [u for su in gen.program.setups for u in su.unmachined]


def test_holes_under_a_recess_no_feature_machines_are_cut_from_the_top(corpus):
    """mfcadpp 5_true: four holes open 0.1 mm below the plate's top, in a recess no recognised
    feature machines. Their cut starts at the part's top (before: the end mill was fed straight
    down through that 0.1 mm of stock, which the guard now refuses)."""
    path = corpus / "mfcadpp_hcadnet" / "5_true.stp"
    gen, result = generate(path)
    assert not gen.verification.dropped, gen.verification.dropped
    low = [f.id for f in result.bodies[0].features if f.kind == "hole" and f.location_mm[2] < 0.95]
    assert len(low) == 4
    machined = {fid for su in gen.program.setups for op in su.operations for fid in op.features}
    assert set(low) <= machined


@pytest.mark.parametrize("taper, turn", [(1.0, 0.0), (5.0, 0.0), (3.0, 30.0)])
def test_drafted_pocket_is_machined_at_its_floor_and_listed_partly_machined(tmp_path, taper, turn):
    """A pocket whose walls lean back (a draft) is milled vertical at its floor's outline (never into the
    drafted walls) and listed as machined in part, with what is left at the top of each wall (depth x
    tan draft). Before, it was not recognised at all and nothing said so."""
    import math

    from test_cam_random import assert_clean

    block = cq.Workplane("XY").box(14, 12, 4, centered=(True, True, False))
    pocket = cq.Workplane("XY").workplane(offset=2).rect(8, 6).extrude(2.01, taper=-taper)
    part = block.cut(pocket).rotate((0, 0, 0), (0, 0, 1), turn)
    path = export_step(part, tmp_path / "drafted.step", name="drafted")
    gen, result = generate(path)
    (f,) = [f for f in result.bodies[0].features if f.kind == "pocket"]
    assert f.dims["draft_deg"] == pytest.approx(taper, abs=0.01)
    assert not gen.verification.dropped, gen.verification.dropped
    assert [op for su in gen.program.setups for op in su.operations if f.id in op.features]
    (why,) = [w for su in gen.program.setups for fid, w in su.partly if fid == f.id]
    assert f"up to {2.0 * math.tan(math.radians(taper)):.3f} mm is left" in why and "drafted" in why
    assert_clean(gen, path, (taper, turn))
