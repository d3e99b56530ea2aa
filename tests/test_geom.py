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


def _one_ray_broad_phase(geo, origin, direction, max_dist):
    """The broad phase one ray at a time, as ray casting first did it: every group box, then
    the member boxes of the groups hit, sorted stably by entry (the reference order)."""
    import numpy as np

    lo, hi, groups = geo._boxes
    o = np.asarray(origin, dtype=float)
    d = np.asarray(direction, dtype=float)
    d = np.where(np.abs(d) < 1e-30, 1e-30, d)
    inv = 1.0 / d

    def slab(blo, bhi):
        t1 = (blo - o) * inv
        t2 = (bhi - o) * inv
        tmin = np.minimum(t1, t2).max(axis=1)
        tmax = np.maximum(t1, t2).min(axis=1)
        return tmin, (tmax >= np.maximum(tmin, 0.0)) & (tmin <= max_dist)

    if groups is None:
        cand = np.arange(len(lo))
    else:
        glo, ghi, members = groups
        _, hit = slab(glo, ghi)
        cand = members[hit].ravel()
        cand = cand[cand >= 0]
    tmin, ok = slab(lo[cand], hi[cand])
    cand, tmin = cand[ok], tmin[ok]
    order = np.argsort(tmin, kind="stable")
    return cand[order].tolist(), tmin[order].tolist()


def _random_rays(rng, n, lo, hi, lengths):
    rays = []
    for _ in range(n):
        o = tuple(rng.uniform(a - 0.5, b + 0.5) for a, b in zip(lo, hi, strict=True))
        d = (rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1))
        m = math.sqrt(sum(c * c for c in d))
        rays.append((o, tuple(c / m for c in d), rng.choice(lengths)))
    return rays


@pytest.fixture(scope="module")
def long_comb(tmp_path_factory):
    """A 60 mm comb of 0.2 mm teeth fused from cells (about 900 faces, long and thin: a hard case for boxes)."""
    import cadquery as cq
    import generators

    from dfm.kernel import load
    from dfm.kernel.geom import geometry

    cells = []
    for i in range(130):
        x = i * 0.45
        pts = [(x, 0.0), (x, 1.0), (x + 0.2, 1.0), (x + 0.2, 0.4), (x + 0.45, 0.4), (x + 0.45, 0.0)]
        cells.append(cq.Workplane("XY").polyline(pts).close().extrude(2.0).val())
    comb = cells[0].fuse(*cells[1:])
    path = generators.export_step(cq.Workplane().add(comb), tmp_path_factory.mktemp("geom") / "comb.step")
    return geometry(load(path).solids[0])


@pytest.mark.parametrize("part", ["perforated", "long_comb"])
def test_batched_broad_phase_lists_what_one_ray_lists(part, request):
    """The ray tree of the batch finds the same boxes, entries and tie order as one ray at a time."""
    geo = request.getfixturevalue(part)
    rng = random.Random(11)
    lo, hi = geo.solid.bbox
    rays = _random_rays(rng, 400, lo, hi, (0.05, 0.3, 2.0, 6.0, 1e9))
    # rays from face samples along the inward normal (as wall thickness casts them), and along the axes
    for fid in range(1, geo.solid.face_count + 1, 3):
        for p, n in geo.sample_face(fid, 2):
            rays.append((p, (-n[0], -n[1], -n[2]), rng.choice((6.0, 1e9))))
    rays += [((lo[0] - 1, rng.uniform(lo[1], hi[1]), rng.uniform(lo[2], hi[2])), (1.0, 0.0, 0.0), 1e9)
             for _ in range(20)]
    got = list(geo._broad_phase_many([r[0] for r in rays], [r[1] for r in rays], [r[2] for r in rays]))
    assert len(got) == len(rays)
    n_cand = 0
    for (o, d, m), (_, _, _, cand, entry) in zip(rays, got, strict=True):
        ref_cand, ref_entry = _one_ray_broad_phase(geo, o, d, m)
        assert cand == ref_cand
        assert entry == ref_entry  # bit for bit: the same slab arithmetic
        n_cand += len(cand)
    assert n_cand > len(rays)  # the rays do meet boxes
    some = rays[::5]
    geo._RAY_BLOCK, geo._PAIR_BLOCK = 7, 13  # blocks that split rays and a ray's boxes
    try:
        small = list(geo._broad_phase_many([r[0] for r in some], [r[1] for r in some], [r[2] for r in some]))
    finally:
        del geo._RAY_BLOCK, geo._PAIR_BLOCK
    assert [g[3:] for g in small] == [g[3:] for g in got[::5]]
    flat = geo.__dict__["_boxes"]
    try:  # without groups the tie order is the face order
        geo.__dict__["_boxes"] = _flat(geo)
        some = rays[::7]
        got = list(geo._broad_phase_many([r[0] for r in some], [r[1] for r in some], [r[2] for r in some]))
        for (o, d, m), (_, _, _, cand, entry) in zip(some, got, strict=True):
            assert (cand, entry) == _one_ray_broad_phase(geo, o, d, m)
    finally:
        geo.__dict__["_boxes"] = flat


def test_ray_first_many_is_ray_first_one_by_one(long_comb):
    geo = long_comb
    rng = random.Random(5)
    lo, hi = geo.solid.bbox
    rays = _random_rays(rng, 300, lo, hi, (0.3, 6.0, 1e9))
    for fid in range(1, geo.solid.face_count + 1, 5):
        for p, n in geo.sample_face(fid, 2):
            rays.append((tuple(c - 1e-7 * nc for c, nc in zip(p, n, strict=True)), (-n[0], -n[1], -n[2]), 6.0))
    many = geo.ray_first_many([r[0] for r in rays], [r[1] for r in rays], [r[2] for r in rays])
    one = [geo.ray_first(o, d, m) for o, d, m in rays]
    assert many == one
    assert sum(1 for h in many if h is not None) > 100


@pytest.mark.parametrize("part", ["perforated", "long_comb"])
def test_plane_skip_changes_no_answer(part, request):
    """Skipping the exact test of planes the ray segment stays clear of gives the answers of testing them all."""
    geo = request.getfixturevalue(part)
    rng = random.Random(3)
    lo, hi = geo.solid.bbox
    rays = _random_rays(rng, 300, lo, hi, (0.3, 2.0, 1e9))
    for fid in range(1, geo.solid.face_count + 1, 4):
        for p, n in geo.sample_face(fid, 2):
            rays.append((tuple(c - 1e-7 * nc for c, nc in zip(p, n, strict=True)), (-n[0], -n[1], -n[2]), 6.0))
    args = ([r[0] for r in rays], [r[1] for r in rays], [r[2] for r in rays])
    skipped = (geo.ray_first_many(*args), geo.ray_hits_many(*args), geo.ray_hits_many(*args, first_only=True))
    geo._PLANE_MISS = math.inf  # never skip
    try:
        full = (geo.ray_first_many(*args), geo.ray_hits_many(*args), geo.ray_hits_many(*args, first_only=True))
    finally:
        del geo._PLANE_MISS
    assert skipped == full
    assert sum(1 for h in full[0] if h is not None) > 100
