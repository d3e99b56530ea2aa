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
                    assert g._point_normal(fid, u, v) == ((p.X(), p.Y(), p.Z()), (n.X(), n.Y(), n.Z()))  # kept normal
                    if f.kind in ("plane", "cylinder", "cone"):  # a plane's later points, the axial extents: D0
                        q = g._evals[fid][0].Value(u, v)
                        assert (q.X(), q.Y(), q.Z()) == (p.X(), p.Y(), p.Z())
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
    """Rays with the numpy plane, trim and cylinder filters (and the axis grids) give what every candidate tested
    exactly by way of the box tree gives."""
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
    monkeypatch.setattr(Geometry, "_cyl_keeps", lambda self, ray, *a: np.ones(len(ray), dtype=bool))
    monkeypatch.setattr(Geometry, "_GRID_MAX_DIST", -1.0)  # every ray through the tree
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


def test_axis_grid_lists_what_the_tree_lists(holed_plate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rays along the axes get from their grid the very (ray, face, entry) triples the box tree gives."""
    paths = (holed_plate, ROOT / "example_parts" / "micro_holes.step", ROOT / "example_parts" / "lens_barrel.step")
    for s in _solids(*paths):
        g = geometry(s)
        lo, hi = s.bbox
        rnd = random.Random(7)
        axes = [(0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0),
                (0.0, -1.0, 0.0), (0.0, 0.0, 2.5), (0.3, 0.4, 0.866)]
        origins = [tuple(rnd.uniform(lo[k] - 0.3, hi[k] + 0.3) for k in range(3)) for _ in range(1500)]
        blo, bhi, _ = g._boxes
        for f in range(len(blo)):  # lines along the boxes' sides
            origins.append((float(blo[f][0]), float(blo[f][1]), rnd.uniform(lo[2], hi[2])))
            origins.append((rnd.uniform(lo[0], hi[0]), float(bhi[f][1]), float(bhi[f][2])))
        dirs = [rnd.choice(axes) for _ in origins]
        dists = [rnd.choice([1e9, 0.5, 3.0, 1e25]) for _ in origins]

        fast = _pairs(g, origins, dirs, dists)
        monkeypatch.setattr(Geometry, "_GRID_MAX_DIST", -1.0)
        assert fast == _pairs(g, origins, dirs, dists)
        monkeypatch.undo()
        assert sum(len(r) for r, _, _ in fast) > 1000


def _pairs(g: Geometry, origins: list, dirs: list, dists: list) -> list:  # type: ignore[type-arg]
    out = []
    for r0 in range(0, len(origins), 512):
        for missed in (False, True):
            got = g._block_pairs(origins[r0:r0 + 512], dirs[r0:r0 + 512], dists[r0:r0 + 512], missed)
            out.append(tuple(a.tolist() for a in got))
    return out


def test_escapes_is_the_cast(holed_plate: Path) -> None:
    """Access._escapes (rays settled by their candidates and by rectangles ahead) answers as the casts do."""
    import math

    from dfm.kernel.access import access

    for s in _solids(holed_plate, ROOT / "example_parts" / "thin_web_plate.step"):
        g = geometry(s)
        acc = access(g)
        lo, hi = s.bbox
        rnd = random.Random(11)
        axes = [(0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0),
                (0.0, -1.0, 0.0), (0.6, 0.0, 0.8)]
        origins = [tuple(rnd.uniform(lo[k], hi[k]) for k in range(3)) for _ in range(2000)]
        dirs = [rnd.choice(axes) for _ in origins]
        for fid in g.faces:  # the access model's own rays: just off the faces' sample points, along every axis
            for p, n in acc.points(fid):
                for d in axes[:6]:
                    origins.append((p[0] + n[0] * 1e-4, p[1] + n[1] * 1e-4, p[2] + n[2] * 1e-4))
                    dirs.append(d)
        for k in range(3):  # lines along the sides of the rectangles across an axis, inside, on and outside them
            is_rect, pos, box = acc._rects(k)
            i, j = (a for a in range(3) if a != k)
            for f in np.flatnonzero(is_rect).tolist():
                for e in (-2e-6, -5e-7, 0.0, 5e-7, 2e-6):
                    for side in (-1.0, 1.0):
                        p = [0.0, 0.0, 0.0]
                        p[i], p[j], p[k] = box[f][0] + e, (box[f][2] + box[f][3]) / 2, pos[f] - side * 0.5
                        d = [0.0, 0.0, 0.0]
                        d[k] = side
                        origins.append(tuple(p))
                        dirs.append(tuple(d))
        got = acc._escapes(origins, dirs)
        short = 1.0 + 0.01 * math.dist(lo, hi)
        near = g.ray_hits_many(origins, dirs, [short] * len(origins), first_only=True)
        far = g.ray_hits_many(origins, dirs, [1e9] * len(origins), first_only=True)
        want = [not h and not f for h, f in zip(near, far, strict=True)]
        assert got == want
        assert any(got) and not all(got)
        cands = g.ray_candidates(origins, dirs, [1e9] * len(dirs))
        blocked = acc._blocked(np.asarray(origins), np.asarray(dirs), *cands)
        assert blocked.any()


def test_cylinder_filter_keeps_lines_on_the_surface(holed_plate: Path) -> None:
    """A line along a cylinder's axis is dropped off its surface only (more than 1e-5 mm from the radius)."""
    g = geometry(kernel.load(holed_plate).solids[0])
    cyl = next(f for f in g.faces.values() if f.kind == "cylinder" and abs(f.radius - 0.3) < 1e-9)
    c, a, r = cyl.origin, cyl.axis, cyl.radius
    offsets = [0.0, r - 1e-4, r - 2e-6, r, r + 2e-6, r + 1e-4, 2 * r]
    origins = np.array([(c[0] + x, c[1], c[2]) for x in offsets] * 2)
    dirs = np.array([a] * len(offsets) + [(0.0, 0.6, 0.8)] * len(offsets))
    ray = np.arange(len(origins))
    keep = g._cyl_keeps(ray, np.full(len(ray), cyl.id - 1), origins, dirs)
    assert keep.tolist() == [False, False, True, True, True, False, False] + [True] * len(offsets)


def test_trim_closed_is_every_end_met() -> None:
    """_PlaneTrim._closed says what comparing every end with every other element's end says."""
    from dfm.kernel.geom import _PlaneTrim

    rng = np.random.default_rng(18)
    eps = 1e-6
    for trial in range(60):
        n = int(rng.integers(2, 40))
        pts = rng.uniform(-5, 5, (n, 2))
        ends = np.concatenate([pts, np.roll(pts, -1, axis=0)], axis=1)  # a closed polygon's edges
        if trial % 3:  # move some ends by about eps, some well beyond
            k = rng.integers(0, n, 3)
            ends[k, 2:] += rng.choice([0.5, 0.999, 1.001, 2.0, 1e6], (3, 1)) * eps * rng.choice([-1, 1], (3, 2))
        want = True
        for e in range(n):
            for (x, y) in (ends[e, :2], ends[e, 2:]):
                want &= any(abs(o[0] - x) <= eps and abs(o[1] - y) <= eps
                            for f in range(n) if f != e for o in (ends[f, :2], ends[f, 2:]))
        assert _PlaneTrim._closed(ends, eps) == want


def test_rule_messages_as_vformat_writes_them() -> None:
    """The engine's kept template parses fill every shipped message as string.Formatter.vformat does."""
    import string as string_mod

    from dfm.rules import engine
    from dfm.rules.registry import shipped_rules

    rng = random.Random(18)
    values = [0.123456789, 12.5, 3, "M2x0.4", (0.0, 0.0, 1.0), [1.0, -0.5, 0.25], True, None, "?"]
    templates = {r.message for r in shipped_rules()}
    templates |= {"plain {value:.3f} {unit!r} {d[0]} {d.real}", "[?opt {a}?] x {b:>{w}} [?{c} c?]", "{} {0}"}
    assert len(templates) > 20
    for t in sorted(templates):
        names = {n for _, n, _, _ in string_mod.Formatter().parse(t.replace("[?", "").replace("?]", "")) if n}
        roots = {n.split(".")[0].split("[")[0] for n in names}
        for _ in range(12):
            fields = engine._Fields({r: rng.choice(values) for r in roots if rng.random() < 0.8})
            if "d" in fields:
                fields["d"] = rng.choice([(1.5, 2.5), 2.0])
            if "w" in fields:
                fields["w"] = 6
            want: object
            try:
                want = engine._FORMATTER.vformat(engine._optional_parts(t, fields), (), fields)
            except Exception as err:  # noqa: BLE001 - the same error either way
                want = type(err)
            try:
                got: object = engine._message(t, fields)
            except Exception as err:  # noqa: BLE001
                got = type(err)
            assert got == want, t
