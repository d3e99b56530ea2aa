"""Analysis time vs face count: generated plates of about 100, 1 000 and 10 000 faces.

By default the parts are combs (thin teeth: walls, sharp corners, open slots) fused from one
cell per tooth, so their faces stay small; ``--kind comb`` draws the same comb as one outline
(a few faces with thousands of edges) and ``--kind plate`` a plate with a grid of small
pockets (5 faces each) and through holes in one face.
Prints faces, bare STEP read time (STEPControl_Reader) and the time of the feature analysis
and of the whole ``api.analyze``; ``--stages`` adds, per part, the time of the solid check, of
the face and edge records and of each analyser.

Usage: python benchmarks/scale.py [--sizes 100 1000 10000] [--kind cells|comb|plate] [--out DIR] [--stages]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "example_parts"))


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


def bare_read(path: Path) -> float:
    from OCP.STEPControl import STEPControl_Reader

    from dfm.kernel.capture import captured_output

    t = time.perf_counter()
    with captured_output():
        r = STEPControl_Reader()
        r.ReadFile(str(path))
        r.TransferRoots()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--out", type=Path, default=Path("/tmp/dfm-scale"))
    ap.add_argument("--kind", choices=("cells", "comb", "plate"), default="cells",
                    help="cells: a comb fused from one cell per tooth (small faces; the default); "
                         "comb: the same teeth as one outline (OCCT's read slows down with the edges per face); "
                         "plate: pockets and holes in one face (OCCT's own read grows quadratically "
                         "with the holes per face)")
    ap.add_argument("--stages", action="store_true",
                    help="also time the solid check, the face/edge records and each analyser on a fresh load")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from dfm import api
    from dfm.features import analyse_solid
    from dfm.kernel import load

    print(f"{'target':>7s} {'faces':>6s} {'read s':>8s} {'load s':>8s} {'features s':>10s} {'analyze s':>9s} "
          f"{'ratio':>6s}  features")
    for n in args.sizes:
        t = time.perf_counter()
        make = {"cells": make_cells, "comb": make_comb, "plate": make_plate}[args.kind]
        p = make(n, args.out / f"{args.kind}_{n}.step")
        gen = time.perf_counter() - t
        read = bare_read(p)
        t = time.perf_counter()
        solid = load(p).solids[0]
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        an = analyse_solid(solid)
        t_feat = time.perf_counter() - t
        t = time.perf_counter()
        res = api.analyze(p)
        t_all = time.perf_counter() - t
        kinds: dict[str, int] = {}
        for f in an.features:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        print(f"{n:7d} {solid.face_count:6d} {read:8.2f} {t_load:8.2f} {t_feat:10.2f} {t_all:9.2f} "
              f"{t_all / read:6.1f}  {kinds} (generated in {gen:.0f} s; status {res.status})")
        if args.stages:
            print("        stages s: " + "  ".join(f"{k} {v:.2f}" for k, v in stage_times(p).items()))


def stage_times(path: Path) -> dict[str, float]:
    """Seconds spent in the solid check, the face and edge records and each analyser (in pipeline order)."""
    from dfm.features import access, corners, holes, pockets, threads, walls
    from dfm.features.common import Analysis
    from dfm.kernel import load
    from dfm.kernel.geom import geometry

    solid = load(path).solids[0]
    geo = geometry(solid)
    an = Analysis(geo=geo)
    steps = {"check": solid.check, "faces": lambda: geo.faces, "edges": lambda: geo.edges,
             "holes": lambda: holes.find_holes(an), "pockets": lambda: pockets.find_pockets(an),
             "threads": lambda: threads.find_threads(an), "access": lambda: access.assess(an),
             "corners": lambda: corners.find_corners(an), "walls": lambda: walls.find_walls(an)}
    out = {}
    for name, step in steps.items():
        t = time.perf_counter()
        step()
        out[name] = time.perf_counter() - t
    return out


if __name__ == "__main__":
    main()
