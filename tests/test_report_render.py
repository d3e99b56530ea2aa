"""The part pictures: dfm.kernel.render against exact ray casts on the generator parts."""

from __future__ import annotations

import pytest

from dfm import kernel
from dfm.kernel import render

PARTS = {
    "plate_with_pockets": {},
    "slotted_block": {},
    "holes_block": {},
    "lens_barrel": {},
}


@pytest.fixture(scope="module")
def solids(make_part):
    return {name: kernel.load(make_part(name, name, **kw)).solids[0] for name, kw in PARTS.items()}


def _grid(pic, n=24):
    # Offsets keep the samples off the round radii and mid-lines of the generator parts.
    for i in range(n):
        for j in range(n):
            yield pic.width * (i + 0.37) / n, pic.height * (j + 0.61) / n


@pytest.mark.parametrize("name", sorted(PARTS))
@pytest.mark.parametrize("view", ["iso", "top"])
def test_painted_face_is_the_face_a_ray_hits_first(solids, name, view):
    """The painter's sort shows, at nearly every sample point, the face an exact ray hits first.

    Misses are allowed only where a sample lands on a face boundary or on the silhouette of a
    curved face (the tessellation's chords): at most 3 % of the samples.
    """
    solid = solids[name]
    pic = render.picture(solid, view)
    samples = list(_grid(pic))
    painted = render.painted_faces(pic, samples)
    wrong = [(x, y) for (x, y), f in zip(samples, painted, strict=True) if f != render.ray_face(solid, pic, x, y)]
    assert len(wrong) <= 0.03 * len(samples), f"{name} {view}: {len(wrong)}/{len(samples)} differ: {wrong[:5]}"


def test_a_pocket_floor_shows_through_its_opening(solids):
    """Top view of the plate: the pocket centres show the floors (faces 23, 24), the rim shows the top (3)."""
    solid = solids["plate_with_pockets"]
    pic = render.picture(solid, "top")
    # plate x in [-6, 6] -> picture; pocket centres at x = +-2.1 mm, y = 0
    def at(x_mm, y_mm):
        x = pic.width / 2 + x_mm * pic.scale
        y = pic.height / 2 - y_mm * pic.scale
        return render.painted_face(pic, x, y)

    assert at(-2.1, 0.0) == 23
    assert at(2.1, 0.0) == 24
    assert at(-5.5, 3.5) == 3
    assert at(0.0, 0.0) == 3  # the 0.2 mm web's top is part of the top face


def test_every_path_is_tagged_with_a_real_face_and_back_faces_are_culled(solids):
    solid = solids["plate_with_pockets"]
    pic = render.picture(solid, "iso")
    faces = {r.face for r in pic.runs}
    assert faces <= set(range(1, solid.face_count + 1))
    # From (+1, -1, +1) the bottom (5), the back (4, y = +4) and the left end (1, x = -6) are turned away.
    assert not faces & {1, 4, 5}
    assert {2, 3, 6, 23, 24} <= faces
    assert pic.faces == tuple(sorted(faces))


def test_same_part_same_picture(make_part):
    """Determinism: reading and drawing the file twice gives the same paths."""
    path = make_part("slotted_block", "slotted_block")
    a = render.picture(kernel.load(path).solids[0], "iso")
    b = render.picture(kernel.load(path).solids[0], "iso")
    assert a == b


def test_edges_are_drawn_only_on_face_boundaries(solids):
    """The top view of the slotted block draws the slot outline and the block outline, nothing else."""
    pic = render.picture(solids["slotted_block"], "top")
    edged = {r.face for r in pic.runs if r.edge_d}
    assert edged == {3, 11}  # the top face (block + slot outline) and the slot floor (its outline)


def test_unknown_view_is_an_error(solids):
    from dfm.errors import KernelError

    with pytest.raises(KernelError, match="unknown view 'side'"):
        render.picture(solids["slotted_block"], "side")


@pytest.mark.corpus
@pytest.mark.slow
def test_painter_sort_on_a_real_part(corpus):
    """NIST FTC 07 (269 faces): the painted face agrees with the exact ray at >= 97 % of the samples."""
    path = corpus / "nist_pmi" / "nist_ftc_07_asme1_rd.stp"
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    solid = kernel.load(path).solids[0]
    for view in ("iso", "top"):
        pic = render.picture(solid, view)
        samples = list(_grid(pic, 16))
        painted = render.painted_faces(pic, samples)
        agree = sum(f == render.ray_face(solid, pic, x, y) for (x, y), f in zip(samples, painted, strict=True))
        assert agree >= 0.97 * len(samples), (view, agree, len(samples))
