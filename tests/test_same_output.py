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
