"""Write the example STEP files from the generators: ``python example_parts/generate.py``."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generators as g  # noqa: E402

EXAMPLES = {
    # name: (generator call, what it shows)
    "thin_web_plate": (lambda: g.plate_with_pockets(web=0.2, corner_radius=0.25),
                       "12x8x3 plate, two 4x5x2 mm pockets, R0.25 corners, 0.2 mm web"),
    "micro_holes": (lambda: g.holes_block(), "10x6x3 block: Ø0.3 through, Ø1.25x2 flat, Ø0.5x1.5 118° point, Ø1 cbore"),
    "lens_barrel": (lambda: g.lens_barrel(), "turned barrel: Ø4.000 bore, Ø6 OD, Ø8 flange, Ø5x1 seat"),
    "micro_slot": (lambda: g.slotted_block(), "8x6x3 block with a 0.4 x 2.0 x 1.0 mm blind slot"),
}


def main(out: Path = HERE) -> None:
    for name, (make, _doc) in EXAMPLES.items():
        path = g.export_step(make(), out / f"{name}.step", name=name)
        print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
