"""Analysis time vs face count: generated plates of about 100, 1 000 and 10 000 faces.

By default the parts are combs (thin teeth: walls, sharp corners, open slots) fused from one
cell per tooth, so their faces stay small; ``--kind comb`` draws the same comb as one outline
(a few faces with thousands of edges) and ``--kind plate`` a plate with a grid of small
pockets (5 faces each) and through holes in one face.
Prints, per part, what ``benchmarks/read_vs_check.py`` prints (bare STEP read, dfm's load, the
analysis after it and their ratio); ``--stages`` adds the seconds of each step (solid check,
face and edge records, each analyser, rules, tooling), ``--rss`` the peak RSS of ``dfm check``.

Usage: python benchmarks/scale.py [--sizes 100 1000 10000] [--kind cells|comb|plate] [--out DIR]
       [--repeat N] [--stages] [--rss]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "example_parts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_comb(target_faces: int, path: Path) -> Path:
    """A comb: a 2 mm thick bar with n teeth 0.2 mm wide, 0.6 mm tall, 0.25 mm apart.

    Every tooth adds 4 faces (two flanks, a tip, a gap floor): thin walls, sharp concave
    corners and open slots at scale, with no face carrying thousands of loops.
    """
    import cadquery as cq
    import generators

    if path.exists():
        return path
    n = max(1, (target_faces - 4) // 4)
    pts = [(0.0, 0.0)]
    x = 0.0
    for _ in range(n):
        pts += [(x, 1.0), (x + 0.2, 1.0), (x + 0.2, 0.4)]
        x += 0.45
        pts.append((x, 0.4))
    pts[-1] = (x - 0.25 + 0.2, 0.4)
    pts.append((pts[-1][0], 0.0))
    comb = cq.Workplane("XY").polyline(pts).close().extrude(2.0)
    return generators.export_step(comb, path)


def make_cells(target_faces: int, path: Path) -> Path:
    """The comb again, fused from one cell per tooth and not cleaned: about 7 small faces per tooth.

    The faces stay split at every cell boundary, as many CAD exports leave them, so no face
    carries a wire of thousands of edges: OCCT's own STEP read of the single-outline comb
    grows faster than quadratically (1 000 faces: 6 s; 10 000 faces: not done after 25 min),
    which would time OCCT's healing instead of dfm.
    """
    import cadquery as cq
    import generators

    if path.exists():
        return path
    n = max(2, (target_faces - 4) // 7)
    cells = []
    for i in range(n):
        x = i * 0.45
        pts = [(x, 0.0), (x, 1.0), (x + 0.2, 1.0), (x + 0.2, 0.4), (x + 0.45, 0.4), (x + 0.45, 0.0)]
        cells.append(cq.Workplane("XY").polyline(pts).close().extrude(2.0).val())
    comb = cells[0].fuse(*cells[1:])
    return generators.export_step(cq.Workplane().add(comb), path)


def make_plate(target_faces: int, path: Path) -> Path:
    import cadquery as cq
    import generators

    if path.exists():
        return path
    n_pockets = max(1, target_faces // 10)
    n_holes = max(1, (target_faces - 6 - 5 * n_pockets))
    side_p = math.ceil(math.sqrt(n_pockets))
    side_h = math.ceil(math.sqrt(n_holes))
    pitch = 1.0
    w = max(side_p, side_h) * pitch + 2
    plate = cq.Workplane("XY").box(2 * w + 2, w, 2.0, centered=(True, True, False))
    pts_p = [(-w / 2 - 0.5 + (i % side_p - side_p / 2) * pitch, (i // side_p - side_p / 2) * pitch)
             for i in range(n_pockets)]
    pts_h = [(w / 2 + 0.5 + (i % side_h - side_h / 2) * pitch, (i // side_h - side_h / 2) * pitch)
             for i in range(n_holes)]
    plate = plate.faces(">Z").workplane().pushPoints(pts_p).rect(0.5, 0.6).cutBlind(-0.5)
    plate = plate.faces(">Z").workplane().pushPoints(pts_h).hole(0.3)
    return generators.export_step(plate, path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--out", type=Path, default=Path("/tmp/dfm-scale"))
    ap.add_argument("--kind", choices=("cells", "comb", "plate"), default="cells",
                    help="cells: a comb fused from one cell per tooth (small faces; the default); "
                         "comb: the same teeth as one outline (OCCT's read slows down with the edges per face); "
                         "plate: pockets and holes in one face (OCCT's own read grows quadratically "
                         "with the holes per face)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per part (medians)")
    ap.add_argument("--stages", action="store_true", help="also print the seconds of each step of the analysis")
    ap.add_argument("--rss", action="store_true", help="also measure the peak RSS of dfm check (a child process)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import read_vs_check as rvc

    print(f"{'target':>7s} " + rvc.HEADER)
    for n in args.sizes:
        make = {"cells": make_cells, "comb": make_comb, "plate": make_plate}[args.kind]
        p = make(n, args.out / f"{args.kind}_{n}.step")
        m = rvc.measure(p, args.repeat)
        print(f"{n:7d} " + rvc.row(p.name, m, rvc.peak_rss_mib(p) if args.rss else None), flush=True)
        if args.stages:
            print(rvc.steps_line(m), flush=True)


if __name__ == "__main__":
    main()
