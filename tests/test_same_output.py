"""Same output: ``api.analyze``'s JSON for corpus and example parts equals the gold (numbers to 1 µm).

The gold (``tests/gold/analysis/``) is written by ``benchmarks/snapshot.py --write``; it guards
speed work that must not change results. By default the example parts and a fixed sample of
corpus files run; ``DFM_SAME_OUTPUT_ALL=1`` runs every file that has gold.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import snapshot  # noqa: E402

#: The corpus files of the default run: small, and between them planes, cylinders, cones,
#: tori and B-splines, inch and metre files, several bodies, PMI, and a file that is an error.
SAMPLE = (
    "aagnet/test.step",
    "mfcad/1-3-3-6-19.step",
    "mfcadpp_hcadnet/2_true.stp",
    "mfcadpp_hcadnet/5_true.stp",
    "nist_pmi/nist_ctc_03_asme1_rc.stp",
    "nist_pmi/nist_ftc_11_asme1_ap242-e1.stp",
    "occt/assemblies/trj3_as1-ec-214.stp",
    "occt/odd/bug27333_simple.stp",
    "occt/odd/trj2_f1-db-214.stp",
    "occt/parts/screw.step",
    "occt/parts/bug22821_test.step",
    "occt/xr1/xr1-tc-plt.stp",
)


def _files() -> list[Path]:
    every = [p for p in snapshot.parts() if snapshot.gold_path(p).exists()]
    if os.environ.get("DFM_SAME_OUTPUT_ALL") == "1":
        return every
    keep = {f"corpus/{s}" for s in SAMPLE}
    return [p for p in every if snapshot.label(p).startswith("example_parts/") or snapshot.label(p) in keep]


@pytest.mark.parametrize("path", _files(), ids=snapshot.label)
def test_same_output(path: Path) -> None:
    want = json.loads(snapshot.gold_path(path).read_text())
    got = snapshot.compute(path)
    differences = snapshot.diff(got, want)
    assert not differences, f"{snapshot.label(path)} differs from its gold:\n" + "\n".join(differences[:30])


def test_diff_tolerates_a_micrometre_only() -> None:
    assert not snapshot.diff({"a": 1.0, "m": "wall 0.200 mm"}, {"a": 1.001, "m": "wall 0.201 mm"})
    assert snapshot.diff({"a": 1.0}, {"a": 1.003})
    assert snapshot.diff({"m": "wall 0.20 mm"}, {"m": "wall 0.25 mm"})
    assert snapshot.diff({"f": [1, 2]}, {"f": [1]})


@pytest.mark.parametrize("name", ["micro_holes.step", "thin_web_plate.step"])
def test_plane_trim_agrees_with_the_exact_intersector(name: str) -> None:
    """Where a planar face's trim decides a line's hit (in or out), the exact intersector says the same.

    Lines cross the faces at random points and at 10 nm .. 10 um beside their edges.
    """
    import random

    import numpy as np
    from OCP.BRepAdaptor import BRepAdaptor_Curve
    from OCP.gp import gp_Dir, gp_Lin, gp_Pnt

    from dfm.kernel import load
    from dfm.kernel.geom import geometry

    solid = load(snapshot.EXAMPLES / name).solids[0]
    geo = geometry(solid)
    geo._TRIM_MIN_EDGES = 4  # every planar face with lines and arcs gets a trim
    rng = random.Random(5)
    decided = 0
    assert geo._plane_trims
    for idx, trim in geo._plane_trims.items():
        n = np.asarray(trim.normal)
        pts = []
        lo, hi = geo.faces[idx + 1].bbox
        pts += [np.array([rng.uniform(lo[k] - 0.1, hi[k] + 0.1) for k in range(3)]) for _ in range(40)]
        for eid in geo.face_edges[idx + 1]:
            c = BRepAdaptor_Curve(solid.edge(eid))
            for _ in range(4):
                t = rng.uniform(c.FirstParameter(), c.LastParameter())
                p, v = c.Value(t), c.DN(t, 1)
                side = np.cross(n, [v.X(), v.Y(), v.Z()])
                side /= np.linalg.norm(side)
                pts.append(np.array([p.X(), p.Y(), p.Z()]) + 10 ** rng.uniform(-8, -5) * rng.choice([-1, 1]) * side)
        origins, dirs = [], []
        for p in pts:
            d = n + np.array([rng.uniform(-0.4, 0.4) for _ in range(3)]) * rng.choice([0, 1])
            d /= np.linalg.norm(d)
            q = p - ((p - np.asarray(trim.origin)) @ n) * n
            origins.append(q - 1.5 * d)
            dirs.append(d)
        o, d = np.array(origins), np.array(dirs)
        rel = o - np.asarray(trim.origin) + ((-(o - np.asarray(trim.origin)) @ n) / (d @ n))[:, None] * d
        status = trim.classify(rel @ np.asarray(trim.e1), rel @ np.asarray(trim.e2))
        missed = trim.missed_by(o, d)
        isec = geo._face_intersector(idx + 1)
        for k in range(len(o)):
            isec.Perform(gp_Lin(gp_Pnt(*o[k]), gp_Dir(*d[k])), 1e-6, 1e9)
            hit = isec.IsDone() and isec.NbPnt() > 0
            if status[k] != 2:
                decided += 1
                assert bool(status[k]) == hit, (idx + 1, o[k], d[k])
            if missed[k]:
                assert not hit
    assert decided > 100
