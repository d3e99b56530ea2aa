"""The guard on real parts: ``dfm gcode`` on the example parts and ../shared/corpus files.

    python benchmarks/guard_corpus.py [PART.step ...]

Per part: the generation time, the guard's own time, the grid, moves and samples it checked,
the closest approach of a cutter's side to the part (about 0 for finishing passes; negative
beyond -0.001 would be a gouge the guard let through, which it never should), the operations
it refused and why, and the features left more than 5 % uncut. With rs274 installed, each
written program is also run through LinuxCNC's interpreter (ok / the error).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT = [*sorted((ROOT / "example_parts").glob("*.step")),
           *sorted((CORPUS / "mfcadpp_hcadnet").glob("*_true.stp")),
           CORPUS / "aagnet" / "partA.step", CORPUS / "aagnet" / "partC.step"]


def main() -> None:
    from dfm.cam import rs274
    from dfm.cam.gcode import generate
    from dfm.errors import DfmError

    parts = [Path(p) for p in sys.argv[1:]] or [p for p in DEFAULT if p.exists()]
    have_rs274 = rs274.available() is not None
    print(f"{'part':<34} {'total s':>8} {'guard s':>8} {'grid um':>8} {'moves':>7} {'samples':>9} "
          f"{'closest mm':>11} {'rs274':>6}  refused / incomplete")
    for path in parts:
        t0 = time.perf_counter()
        try:
            gen, _ = generate(path)
        except DfmError as err:
            print(f"{path.name:<34} error: {err}")
            continue
        total = time.perf_counter() - t0
        ver = gen.verification
        closest = [s.closest_mm for s in ver.setups if s.closest_mm is not None]
        grid = min((s.resolution_mm for s in ver.setups), default=0.0) * 1000
        ok = "-"
        if have_rs274:
            runs = [rs274.run(text, gen.program) for _, text in gen.files]
            ok = "ok" if all(r.ok for r in runs) else "FAIL"
        notes = [f"{f}: {why}" for _, f, why in ver.dropped]
        notes += [f"{f} {frac * 100:.0f}% ({why})" for _, f, frac, why in ver.incomplete]
        print(f"{path.name:<34} {total:8.1f} {ver.seconds:8.1f} {grid:8.1f} "
              f"{sum(s.moves for s in ver.setups):7d} {sum(s.samples for s in ver.setups):9d} "
              f"{min(closest) if closest else float('nan'):11.6f} {ok:>6}  {'; '.join(notes)[:300]}", flush=True)


if __name__ == "__main__":
    main()
