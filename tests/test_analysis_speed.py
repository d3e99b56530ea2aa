"""Issue #18's shortcuts give the very answers of the slower paths they replace (bit for bit)."""

from __future__ import annotations

import gc
import random
from pathlib import Path

import numpy as np
import pytest

from dfm import api, kernel
from dfm.kernel.geom import Geometry, geometry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def holed_plate(part_dir) -> Path:
    """A plate whose top face has 36 round openings (a face with a :class:`_PlaneTrim`) and a filleted pocket."""
    import cadquery as cq
    import generators

    part = (cq.Workplane("XY").box(12, 12, 2).faces(">Z").workplane().rarray(1.5, 1.5, 6, 6).hole(0.6)
            .faces(">Z").workplane().center(0, 0).rect(3, 1).cutBlind(-1.0).edges("|Z").fillet(0.2))
    return generators.export_step(part, part_dir / "holed_plate.step", name="holed_plate")


def _solids(*paths: Path):  # type: ignore[no-untyped-def]
    for p in paths:
        yield from kernel.load(p).solids


def test_point_normal_is_brepgprop_face_normal(holed_plate: Path) -> None:
    """The analytic-surface normal taken from the face record's adaptor equals BRepGProp_Face::Normal's."""
    from OCP.BRepGProp import BRepGProp_Face
    from OCP.gp import gp_Pnt, gp_Vec

    seen = set()
    for s in _solids(holed_plate, ROOT / "example_parts" / "micro_holes.step",
                     ROOT / "example_parts" / "lens_barrel.step"):
        g = geometry(s)
        for fid, f in g.faces.items():
            seen.add(f.kind)
            u0, u1, v0, v1 = g.uv_bounds(fid)
            ref_face = BRepGProp_Face(s.face(fid))
            for u in (u0, u1, (u0 + u1) / 2, u0 + 0.3 * (u1 - u0)):
                for v in (v0, v1, (v0 + v1) / 2, v0 + 0.7 * (v1 - v0)):
                    p, n = gp_Pnt(), gp_Vec()
                    ref_face.Normal(u, v, p, n)
                    if n.Magnitude() > 0:
                        n.Divide(n.Magnitude())
                    assert g._point_normal(fid, u, v) == ((p.X(), p.Y(), p.Z()), (n.X(), n.Y(), n.Z()))
    assert {"plane", "cylinder", "cone"} <= seen


def test_solid_box_is_addoptimal_of_the_solid(holed_plate: Path) -> None:
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    for s in _solids(holed_plate, ROOT / "example_parts" / "thin_web_plate.step"):
        box = Bnd_Box()
        BRepBndLib.AddOptimal_s(s.shape, box, False, False)
        x0, y0, z0, x1, y1, z1 = box.Get()
        assert s.bbox == ((x0, y0, z0), (x1, y1, z1))


def test_ray_prefilter_changes_no_answer(holed_plate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rays with the numpy plane and trim filters give what they give with every candidate tested exactly."""
    s = kernel.load(holed_plate).solids[0]
    g = geometry(s)
    assert g._plane_trims, "the plate's top face should have a trim"
    lo, hi = s.bbox
    rnd = random.Random(18)
    dirs = [(0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.3, 0.4, 0.866), (1e-9, 0.0, 1.0)]
    origins = [tuple(rnd.uniform(lo[k] - 0.5, hi[k] + 0.5) for k in range(3)) for _ in range(1500)]
    # and rays down the openings' axes, straight along the trim's circles and just inside them
    origins += [(-3.75 + 1.5 * i + dx, -3.75 + 1.5 * j, 3.0) for i in range(6) for j in range(6)
                for dx in (0.0, 0.29, 0.3, 0.31)]
    directions = [rnd.choice(dirs) for _ in range(1500)] + [(0.0, 0.0, -1.0)] * (len(origins) - 1500)
    dists = [rnd.choice([1e9, 0.5, 3.0]) for _ in origins]
    fast_hits = g.ray_hits_many(origins, directions, dists)
    fast_first = g.ray_hits_many(origins, directions, dists, first_only=True)
    fast_rf = g.ray_first_many(origins, directions, dists)
    monkeypatch.setattr(Geometry, "_plane_keeps", lambda self, ray, *a: np.ones(len(ray), dtype=bool))
    monkeypatch.setattr(Geometry, "_trim_keeps", lambda self, trims, ray, *a: np.ones(len(ray), dtype=bool))
    assert fast_hits == g.ray_hits_many(origins, directions, dists)
    assert fast_first == g.ray_hits_many(origins, directions, dists, first_only=True)
    assert fast_rf == g.ray_first_many(origins, directions, dists)
    assert any(fast_first) and not all(fast_first)


def test_collector_back_on_after_analysis(holed_plate: Path) -> None:
    """The stages switch the cyclic collector off; it comes back on, with nothing left frozen."""
    assert gc.isenabled()
    res = api.analyze(holed_plate)
    assert res.status == "ok"
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_trim_classify_in_one_pass_is_row_by_row(holed_plate: Path) -> None:
    """The trim's one-pass classification equals the row-by-row one, near edges and edge ends too."""
    g = geometry(kernel.load(holed_plate).solids[0])
    for trim in g._plane_trims.values():
        rng = np.random.default_rng(18)
        el = trim.el
        k = rng.integers(0, len(el), 400)
        qx = np.concatenate([rng.uniform(el[:, 1].min() - 0.5, el[:, 1].max() + 0.5, 600),
                             el[k, 1] + rng.normal(0, 1e-6, 400), el[k, 3]])
        qy = np.concatenate([rng.uniform(el[:, 2].min() - 0.5, el[:, 2].max() + 0.5, 600), el[k, 2],
                             el[k, 4] + rng.normal(0, 1e-6, 400)])
        got = trim.classify(qx, qy)
        assert np.array_equal(got, trim._classify_by_rows(qx, qy))
        assert set(np.unique(got).tolist()) == {0, 1, 2}
