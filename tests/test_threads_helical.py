"""A thread is a helix: modelled threads are found, grooved surfaces of revolution are not.

A shaft whose profile is a sawtooth revolved about its axis (rings) has the same zig-zag
section on one half-plane as a thread, and the detector named both shafts below "M2x0.4"
(issue #16 reports a B-spline surface of revolution in a Fusion 360 export read as
"M14.5377x0.176", minor Ø6.7). Threads now need the helical form (the crests of sections at
other angles about the axis shift along it by lead·θ/360) and a crest-to-root depth the
pitch explains.
"""

from __future__ import annotations

import pytest

from dfm import api

UM = 1e-3


def _sawtooth_shaft(*, major: float = 2.0, pitch: float = 0.4, length: float = 3.0, shank: float = 1.0,
                    nurbs: bool = False):  # type: ignore[no-untyped-def]
    """A Ø``major`` shaft with ISO-deep sawtooth grooves every ``pitch`` revolved about Z: rings.

    The grooves' profile is one spline through the crests and roots (a surface of
    revolution, as the thread's B-spline in an export); ``nurbs`` turns every face into a
    B-spline surface (as some exporters write them) and adds a pin of the root diameter
    below, so a cylinder gives the axis.
    """
    import cadquery as cq

    r_major = major / 2
    r_root = r_major - 17 / 24 * 0.8660254 * pitch  # the external ISO thread's depth
    n = int(length / pitch)
    top = shank + n * pitch
    pts = []
    for k in range(n):
        z0 = shank + k * pitch
        pts += [(r_root, z0 + 0.25 * pitch), (r_major, z0 + 0.5 * pitch), (r_root, z0 + 0.75 * pitch)]
    wp = (cq.Workplane("XZ").moveTo(0, 0).lineTo(r_major, 0).lineTo(r_major, shank)
          .spline([*pts, (r_major, top)], includeCurrent=True).lineTo(0, top).close())
    shaft = wp.revolve(360, (0, 0, 0), (0, 1, 0)).val()
    if not nurbs:
        return cq.Workplane("XY").add(shaft)
    from OCP.BRepBuilderAPI import BRepBuilderAPI_NurbsConvert

    converted = cq.Shape.cast(BRepBuilderAPI_NurbsConvert(shaft.wrapped, True).Shape())
    pin = cq.Solid.makeCylinder(r_root, 1.0, cq.Vector(0, 0, -0.9))
    return cq.Workplane("XY").add(converted.fuse(pin).clean())


def _threads(path) -> list:  # type: ignore[no-untyped-def]
    r = api.analyze(path)
    assert r.status == "ok", r.error
    (body,) = r.bodies
    return [f for f in body.features if f.kind == "thread"]


@pytest.mark.parametrize(("name", "fn", "kwargs", "designation", "pitch", "major", "internal"), [
    ("rod_m1", "threaded_rod", {"major": 1.0, "pitch": 0.25, "length": 2.0}, "M1x0.25", 0.25, 1.0, False),
    ("rod_m2", "threaded_rod", {"major": 2.0, "pitch": 0.4}, "M2x0.4", 0.4, 2.0, False),
    ("hole_m2_left", "threaded_hole", {"major": 2.0, "pitch": 0.4, "length": 2.0, "bore_depth": 2.5,
                                       "hand": "left"}, "M2x0.4", 0.4, 2.0, True),
])
def test_a_modelled_helical_thread_is_found_with_its_pitch_and_diameter(
        make_part, name, fn, kwargs, designation, pitch, major, internal):
    (t,) = _threads(make_part(f"helical_{name}", fn, **kwargs))
    assert t.props["designation"] == designation and t.props["source"] == "model"
    assert t.props["internal"] is internal and "starts" not in t.props
    assert t.dims["pitch_mm"] == pytest.approx(pitch, rel=0.005)
    assert t.dims["major_diameter_mm"] == pytest.approx(major, abs=UM)
    assert t.props["hand"] == kwargs.get("hand", "right")


@pytest.mark.parametrize("nurbs", [False, True], ids=["surface-of-revolution", "bspline"])
def test_a_revolved_sawtooth_shaft_is_not_a_thread(tmp_path, nurbs):
    """Rings of an M2x0.4's size and depth: the same section at every angle, so no thread."""
    import generators

    path = generators.export_step(_sawtooth_shaft(nurbs=nurbs), tmp_path / "rings.step", name="rings")
    r = api.analyze(path)
    (body,) = r.bodies
    kinds = {f.kind for f in body.features}
    assert "thread" not in kinds, [f for f in body.features if f.kind == "thread"]
    assert not [f for f in body.findings if f.code.startswith("DFM4") and "thread" in f.message.lower()]


def test_the_helix_evidence_of_a_thread_and_of_rings(make_part, tmp_path):
    """Crest points' phases follow the angle for the M2 rod (one start, right hand), not for rings."""
    import generators

    from dfm.features.threads import _HELICAL_KINDS, _helix
    from dfm.kernel.geom import geometry
    from dfm.kernel.io import load

    r_root = 1.0 - 17 / 24 * 0.8660254 * 0.4
    rod = make_part("helical_rod_m2", "threaded_rod", major=2.0, pitch=0.4)
    rings = generators.export_step(_sawtooth_shaft(), tmp_path / "rings.step", name="rings")
    got = []
    for path in (rod, rings):
        (solid,) = load(path).solids
        geo = geometry(solid)
        faces = [f for f in geo.faces.values() if f.kind in _HELICAL_KINDS]
        assert faces
        got.append(_helix(geo, faces, (0.0, 0.0, 1.0), (0.0, 0.0, 0.0), 0.4, r_root, 1.0))
    assert got == [(1, "right"), None]
