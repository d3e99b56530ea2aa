"""'Cannot tell': material removed in a shape dfm does not recognise is a DFM308 warning, not a silent pass.

Parts are built here in CadQuery to known geometry and read back through STEP. Where a part
must carry the finding, the test names the faces it must list (found from the geometry, not
from face numbers) and the verdict it must give (warn, never pass); where it must not, the
part's verdict and findings are checked for the code's absence.
"""

from __future__ import annotations

import math

import cadquery as cq
import generators
import pytest

from dfm import api
from dfm.kernel import load
from dfm.kernel.geom import geometry

CODE = "DFM308"


def _result(path):
    r = api.analyze(path)
    assert r.status == "ok", r.error
    return r


def _unrecognised(r):
    (body,) = r.bodies
    feats = [f for f in body.features if f.kind == "unrecognised"]
    found = [f for f in body.findings if f.code == CODE]
    return feats, found


def _faces_where(path, test):
    """Ids of the faces of the part at ``path`` whose record passes ``test``."""
    geo = geometry(load(path).solids[0])
    return {fid for fid, f in geo.faces.items() if test(f)}


def test_turned_v_groove_is_cannot_tell(build):
    a = math.radians(30.0)
    path = build("vg30", generators.turned_v_groove_block(angle_deg=30.0))
    # the flanks: planes whose normals lie across the groove's direction (cos 30, sin 30, 0), neither
    # vertical nor horizontal
    flanks = _faces_where(path, lambda f: f.kind == "plane" and abs(f.normal[0] * math.cos(a)
                                                                     + f.normal[1] * math.sin(a)) < 1e-6
                          and 1e-3 < abs(f.normal[2]) < 1 - 1e-3)
    assert len(flanks) == 2
    r = _result(path)
    feats, found = _unrecognised(r)
    assert [set(f.faces) for f in feats] == [flanks]
    assert len(found) == 1
    (hit,) = found
    assert hit.severity.value == "warning"
    assert set(hit.faces) == flanks
    assert "2 faces" in hit.message and "cannot tell" in hit.message
    assert hit.why and hit.fix
    assert r.verdict == "warn"  # was 'pass' with no word about the groove


@pytest.mark.parametrize("deg", [0.0, 90.0])
def test_v_groove_along_an_axis_is_recognised(build, deg):
    path = build(f"vg{deg:g}", generators.turned_v_groove_block(angle_deg=deg))
    r = _result(path)
    feats, found = _unrecognised(r)
    assert not feats and not found
    (body,) = r.bodies
    assert [f.props.get("shape") for f in body.features if f.kind == "slot"] == ["v-groove"]


def test_outside_rounds_and_chamfers_are_no_removal(build):
    path = build("rounded", generators.rounded_chamfered_block())
    r = _result(path)
    feats, found = _unrecognised(r)
    assert not feats and not found
    assert r.verdict == "pass"


def test_outside_profile_with_inside_corners_is_no_removal(build):
    """An L-shaped outline turned 30° about Z, its inside corner rounded: the outline's own faces."""
    outline = (cq.Workplane("XY").polyline([(0, 0), (10, 0), (10, 4), (4, 4), (4, 9), (0, 9)]).close()
               .extrude(3.0).edges("|Z").fillet(0.8).rotate((0, 0, 0), (0, 0, 1), 30))
    path = build("l_outline", outline)
    feats, found = _unrecognised(_result(path))
    assert not feats and not found


def test_plate_with_pocket_and_hole_is_all_recognised(build):
    plate = cq.Workplane("XY").box(20.0, 14.0, 3.0, centered=(True, True, False))
    pocket = (cq.Workplane("XY").workplane(offset=1.5).center(-4.0, 0.0).rect(6.0, 5.0).extrude(2.0)
              .edges("|Z").fillet(0.5))
    hole = cq.Workplane("XY").workplane(offset=-1.0).center(5.0, 0.0).circle(1.0).extrude(6.0)
    path = build("pocket_hole", plate.cut(pocket).cut(hole))
    r = _result(path)
    (body,) = r.bodies
    assert sorted(f.kind for f in body.features if f.kind in ("pocket", "hole")) == ["hole", "pocket"]
    feats, found = _unrecognised(r)
    assert not feats and not found


def test_free_form_hollow_is_cannot_tell(build):
    path = build("loft", generators.lofted_hollow_block())
    free = _faces_where(path, lambda f: f.kind == "bspline")
    floor = _faces_where(path, lambda f: f.kind == "plane" and f.normal[2] > 1 - 1e-9
                         and abs(f.bbox[1][2] - 2.5) < 1e-6)  # 1.5 below the 4 mm top
    assert len(free) == 1 and len(floor) == 1
    r = _result(path)
    feats, found = _unrecognised(r)
    assert [set(f.faces) for f in feats] == [free | floor]
    assert [f.severity.value for f in found] == ["warning"]
    assert r.verdict == "warn"


def test_spherical_dimple_is_cannot_tell(build):
    block = cq.Workplane("XY").box(10.0, 8.0, 4.0, centered=(True, True, False))
    path = build("dimple", block.cut(cq.Workplane("XY").sphere(2.0).translate((0.0, 0.0, 5.0))))
    sphere = _faces_where(path, lambda f: f.kind == "sphere")
    assert len(sphere) == 1
    feats, found = _unrecognised(_result(path))
    assert [set(f.faces) for f in feats] == [sphere]
    assert len(found) == 1


def test_a_program_lists_what_dfm_did_not_recognise(build):
    """`dfm gcode` on a part with a hollow dfm cannot name: the program says it is not machined (header, JSON
    ``cam``, the report's plan), instead of passing over it in silence (the V-groove turned 30°, beside a
    pocket the program does cut)."""
    from dfm.cam.gcode import generate

    part = generators.turned_v_groove_block(angle_deg=30.0)
    part = part.cut(cq.Workplane("XY").rect(2, 2).extrude(1).translate((-3, 2.5, part.val().BoundingBox().zmax - 1)))
    path = build("vg30_pocket", part)
    gen, result = generate(path)
    feats, _found = _unrecognised(result)
    assert len(feats) == 1
    fid = feats[0].id
    (why,) = [w for f, w in gen.program.unreachable if f == fid]
    assert "DFM308" in why and "did not recognise" in why
    assert any(u["feature"] == fid for u in result.cam["unreachable"])
    assert f"UNREACHABLE {fid}:" in gen.files[0][1]
    assert any("pocket" in f for op in (o for s in gen.program.setups for o in s.operations) for f in op.features)
