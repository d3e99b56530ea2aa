"""kernel.geom ray casting: the two-level broad phase finds exactly what a test of every face finds."""

from __future__ import annotations

import math
import random

import pytest


@pytest.fixture(scope="module")
def perforated(tmp_path_factory):
    """A 10 x 10 x 2 mm plate with 12 x 12 through holes and a pocket: about 150 faces, enough for groups."""
    import cadquery as cq
    import generators

    from dfm.kernel import load
    from dfm.kernel.geom import geometry

    pts = [(-4.4 + 0.8 * i, -4.4 + 0.8 * j) for i in range(12) for j in range(12)]
    plate = (cq.Workplane("XY").box(10, 10, 2, centered=(True, True, False))
             .faces(">Z").workplane().pushPoints(pts).hole(0.3)
             .faces(">Z").workplane().rect(0.5, 0.5).cutBlind(-0.5))
    path = generators.export_step(plate, tmp_path_factory.mktemp("geom") / "perforated.step")
    solid = load(path).solids[0]
    return geometry(solid)


def _flat(geo):
    """The same Geometry's broad phase without the group level (every face box tested)."""
    lo, hi, _ = geo._boxes
    return lo, hi, None


def test_groups_are_built_for_many_faces(perforated):
    lo, hi, groups = perforated._boxes
    assert groups is not None
    glo, ghi, members = groups
    ids = members[members >= 0]
    assert sorted(ids.tolist()) == list(range(len(lo)))  # every face in exactly one group
    for g, row in enumerate(members):
        row = row[row >= 0]
        assert (glo[g] <= lo[row] + 1e-12).all() and (ghi[g] >= hi[row] - 1e-12).all()


def test_grouped_rays_hit_what_every_face_test_hits(perforated):
    geo = perforated
    rng = random.Random(7)
    rays = []
    for _ in range(300):
        o = (rng.uniform(-6, 6), rng.uniform(-6, 6), rng.uniform(-1, 3))
        d = (rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1))
        n = math.sqrt(sum(c * c for c in d))
        rays.append((o, tuple(c / n for c in d), rng.choice((0.3, 2.0, 1e9))))
    # Rays along the axes through hole rows: many boxes on the line, the case groups must not miss.
    rays += [((-4.4 + 0.8 * i, -6.0, 1.0), (0.0, 1.0, 0.0), 1e9) for i in range(12)]
    rays += [((-4.4 + 0.8 * i, -4.4, 3.0), (0.0, 0.0, -1.0), 1e9) for i in range(12)]
    grouped = [(geo.ray_hits(o, d, m), geo.ray_first(o, d, m)) for o, d, m in rays]
    saved = geo.__dict__["_boxes"]
    try:
        geo.__dict__["_boxes"] = _flat(geo)
        flat = [(geo.ray_hits(o, d, m), geo.ray_first(o, d, m)) for o, d, m in rays]
    finally:
        geo.__dict__["_boxes"] = saved
    assert sum(1 for hits, _ in flat if hits) > 100  # the test rays do hit the part
    for (gh, gf), (fh, ff) in zip(grouped, flat, strict=True):
        assert [(round(w, 9), fid) for w, fid, _ in gh] == [(round(w, 9), fid) for w, fid, _ in fh]
        assert (gf is None) == (ff is None)
        if gf is not None:
            assert gf[1] == ff[1] and gf[0] == pytest.approx(ff[0], abs=1e-12)
