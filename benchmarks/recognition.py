"""Feature-recognition benchmark against labelled datasets in ../shared/corpus.

For each family (holes, slots, pockets, steps) it prints precision and recall of the faces
dfm assigns to that family (faces of its hole / slot / pocket / step features) against the
dataset labels, pooled over the files:

* MFCAD (hducg/MFCAD): ADVANCED_FACE name = face index into labels/<stem>.json
* MFCAD++ test cases (hierarchical-cadnet): ADVANCED_FACE name = class id (0-24)
* AAGNet test.json: semantic class per face in B-rep explorer order (MFCAD++ classes)

Then the pooled figures the access model is judged by (issue 13), per face over all files:

* group accuracy: of the faces labelled as a machining feature (hole, slot, pocket, passage,
  step, O-ring groove), the share dfm puts in the same group — hole | milled (slot, pocket and
  step pooled: the datasets and dfm name these differently, see docs/features.md) | groove;
* feature-or-not accuracy: of all faces, the share where dfm and the label agree on whether the
  face belongs to a machining feature at all (chamfers, rounds and stock do not). The datasets
  label every chamfer "chamfer", also a countersink or a chamfer at a groove's foot; a face in a
  dfm ``chamfer`` feature is scored so (it stays a face of its hole or pocket in dfm's output).

Usage: python benchmarks/recognition.py [CORPUS_DIR]
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

from dfm.kernel.stepmap import face_entities

FAMILIES = ("holes", "slots", "pockets", "steps", "milled")
# "milled" pools slots, pockets and steps: region detection regardless of naming (the
# datasets call a closed round-ended slot a "circular end pocket"; dfm calls it a slot).
MILLED = {"slots", "pockets", "steps"}
MFCADPP = ["chamfer", "through_hole", "triangular_passage", "rectangular_passage", "6sides_passage",
           "triangular_through_slot", "rectangular_through_slot", "circular_through_slot",
           "rectangular_through_step", "2sides_through_step", "slanted_through_step", "Oring", "blind_hole",
           "triangular_pocket", "rectangular_pocket", "6sides_pocket", "circular_end_pocket",
           "rectangular_blind_slot", "v_circular_end_blind_slot", "h_circular_end_blind_slot",
           "triangular_blind_step", "circular_blind_step", "rectangular_blind_step", "round", "stock"]


def family_of_label(name: str) -> str | None:
    n = name.lower()
    if "hole" in n:
        return "holes"
    if "slot" in n:
        return "slots"
    if "pocket" in n or "passage" in n:
        return "pockets"
    if "step" in n:
        return "steps"
    return None


def family_of_kind(kind: str) -> str | None:
    return {"hole": "holes", "slot": "slots", "pocket": "pockets", "step": "steps"}.get(kind)


def group_of_label(name: str) -> str | None:
    """The pooled group of a dataset label: hole, milled, groove or None (not a machining feature)."""
    if name.lower() == "oring":
        return "groove"
    fam = family_of_label(name)
    return "milled" if fam in MILLED else fam


def dfm_families(path: Path, groups: dict[int, str] | None = None) -> tuple[dict[int, str], list]:
    """dfm's family per face id, and the body's face centroids (for matching).

    With ``groups`` given, it is filled with dfm's pooled group per face (see group_of_label).
    """
    from dfm.features import analyse_solid
    from dfm.kernel import load
    from dfm.kernel.geom import geometry

    solid = load(path).solids[0]
    out: dict[int, str] = {}
    feats = analyse_solid(solid).features
    # a face dfm names a chamfer (a countersink, a floor chamfer) is a chamfer, as the datasets
    # label it, though it stays a face of the hole or pocket whose edge it breaks
    chamfers = {fid for f in feats if f.kind == "chamfer" for fid in f.faces}
    for f in feats:
        fam = family_of_kind(f.kind)
        if fam:
            group = "groove" if f.props.get("shape") == "annular" else ("milled" if fam in MILLED else fam)
            for fid in f.faces:
                if fid in chamfers:
                    continue
                out.setdefault(fid, fam)
                if groups is not None:
                    groups.setdefault(fid, group)
    geo = geometry(solid)
    return out, [(fid, fi.centroid, fi.area) for fid, fi in geo.faces.items()]


def match(ours: list, theirs: list) -> dict[int, int]:
    """our face id -> index into theirs, by centroid and area."""
    out = {}
    for fid, c, a in ours:
        best = min(range(len(theirs)), key=lambda i: math.dist(c, theirs[i][2]) + abs(a - theirs[i][3]))
        out[fid] = best
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    corpus = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    tp = defaultdict(int)
    fp = defaultdict(int)
    fn = defaultdict(int)
    per_set = {}
    t0 = time.perf_counter()
    cases = []
    for step in sorted((corpus / "mfcad").glob("*.step")):
        lab = json.loads((corpus / "mfcad/labels" / f"{step.stem}.json").read_text())
        names = {str(f["face_id"]): f["label_name"] for f in lab["faces"]}
        cases.append(("MFCAD", step, lambda ents, names=names: [names.get(e[1], "?") for e in ents]))
    for step in sorted((corpus / "mfcadpp_hcadnet").glob("*_true.stp")):
        cases.append(("MFCAD++", step, lambda ents: [MFCADPP[int(e[1])] if e[1].isdigit() else "?" for e in ents]))
    aag = corpus / "aagnet/test.json"
    if aag.exists():
        seg = json.loads(aag.read_text())[0][1]["seg"]
        cases.append(("AAGNet", corpus / "aagnet/test.step",
                      lambda ents, seg=seg: [MFCADPP[seg[str(i)]] for i in range(len(ents))]))
    grp = [0, 0]  # feature faces in the right group, feature faces
    fon = [0, 0]  # faces right on feature-or-not, faces
    wrong: list[str] = []
    for dataset, step, labeller in cases:
        ents = face_entities(step)
        labels = labeller(ents)
        groups: dict[int, str] = {}
        ours, centroids = dfm_families(step, groups)
        m = match(centroids, ents)
        stats = per_set.setdefault(dataset, defaultdict(lambda: [0, 0, 0]))
        for fid, idx in m.items():
            g_true, g_pred = group_of_label(labels[idx]), groups.get(fid)
            if g_true is not None:
                grp[1] += 1
                grp[0] += g_true == g_pred
            fon[1] += 1
            fon[0] += (g_true is None) == (g_pred is None)
            if g_true != g_pred:
                wrong.append(f"{step.name} face {fid}: label {labels[idx]}, dfm {g_pred or '-'}")
            truth = family_of_label(labels[idx])
            pred = ours.get(fid)
            for fam in FAMILIES:
                if fam == "milled":
                    pred_m = "milled" if pred in MILLED else None
                    truth_m = "milled" if truth in MILLED else None
                else:
                    pred_m, truth_m = pred, truth
                if pred_m == fam and truth_m == fam:
                    tp[fam] += 1
                    stats[fam][0] += 1
                elif pred_m == fam:
                    fp[fam] += 1
                    stats[fam][1] += 1
                elif truth_m == fam:
                    fn[fam] += 1
                    stats[fam][2] += 1
    dt = time.perf_counter() - t0
    print(f"{len(cases)} labelled files, {dt:.1f} s")
    print(f"{'dataset':10s} {'family':8s} {'prec':>6s} {'recall':>6s} {'tp':>5s} {'fp':>5s} {'fn':>5s}")
    for dataset, stats in per_set.items():
        for fam in FAMILIES:
            a, b, c = stats[fam]
            if a + b + c:
                print(f"{dataset:10s} {fam:8s} {_p(a, b):>6s} {_p(a, c):>6s} {a:5d} {b:5d} {c:5d}")
    for fam in FAMILIES:
        print(f"{'ALL':10s} {fam:8s} {_p(tp[fam], fp[fam]):>6s} {_p(tp[fam], fn[fam]):>6s} "
              f"{tp[fam]:5d} {fp[fam]:5d} {fn[fam]:5d}")
    print("(strict table above: dfm's slot/pocket/step names against the datasets' names)")
    print(f"group accuracy (hole | milled | groove) of feature faces: {grp[0] / max(grp[1], 1):.3f} "
          f"({grp[0]}/{grp[1]})")
    print(f"feature-or-not accuracy of all faces:                     {fon[0] / max(fon[1], 1):.3f} "
          f"({fon[0]}/{fon[1]})")
    if "-v" in sys.argv:
        print("\n".join(wrong))


def _p(a: int, b: int) -> str:
    return f"{a / (a + b):.3f}" if a + b else "-"


if __name__ == "__main__":
    main()
