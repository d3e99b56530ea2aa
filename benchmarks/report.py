"""HTML report figures: time to draw each view, painter's-sort accuracy against exact rays, sizes.

Usage: python benchmarks/report.py [PART.step ...]   (default: the four generator parts)

For each part and view it prints the triangles drawn, the SVG paths, the time to mesh and
project, the share of sample points where the painted face is the face an exact ray hits
first, and the size of the whole report.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "example_parts"))

from dfm import api, kernel  # noqa: E402
from dfm.kernel import render  # noqa: E402
from dfm.report import html  # noqa: E402


def _parts(argv: list[str]) -> list[Path]:
    if argv:
        return [Path(a) for a in argv]
    import generators

    out = Path(tempfile.mkdtemp(prefix="dfm-report-bench-"))
    return [generators.export_step(getattr(generators, fn)(), out / f"{fn}.step", name=fn)
            for fn in ("plate_with_pockets", "slotted_block", "holes_block", "lens_barrel")]


def main(argv: list[str]) -> int:
    print(f"{'part':<22}{'view':<6}{'tris':>7}{'paths':>7}{'draw s':>8}{'agree':>9}{'svg kB':>8}")
    for path in _parts(argv):
        solid = kernel.load(path).solids[0]
        render._MESH_CACHE.pop(solid, None)
        for view in ("iso", "top"):
            t0 = time.perf_counter()
            pic = render.picture(solid, view)
            dt = time.perf_counter() - t0
            n = 30
            pts = [(pic.width * (i + 0.37) / n, pic.height * (j + 0.61) / n) for i in range(n) for j in range(n)]
            painted = render.painted_faces(pic, pts)
            agree = sum(p == render.ray_face(solid, pic, x, y) for p, (x, y) in zip(painted, pts, strict=True))
            kb = sum(len(r.fill_d) + len(r.edge_d) for r in pic.runs) / 1000
            print(f"{path.stem:<22}{view:<6}{pic.triangles:>7}{len(pic.runs):>7}{dt:>8.3f}"
                  f"{100 * agree / len(pts):>8.1f}%{kb:>8.0f}")
        t0 = time.perf_counter()
        result = api.analyze(path, material="6061-T6")
        t1 = time.perf_counter()
        text = html.render_html(result)
        t2 = time.perf_counter()
        print(f"{'':<22}analyse {t1 - t0:.2f} s, report (read again + draw + render) {t2 - t1:.2f} s, "
              f"{len(text.encode()) / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
