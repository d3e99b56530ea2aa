"""Time the largest-usable-tool search (dfm.tooling.select_tools).

Usage: python benchmarks/tooling_search.py [PART.step ...]

Prints the time to load the shipped catalogue, the search over synthetic bodies of 10, 100
and 1000 features (pockets with varied corner radii/depths, holes, a share that nothing
fits so the design-change search runs), and, for each PART given, the time of the
tooling stage alone next to the feature analysis it follows.
"""

from __future__ import annotations

import sys
import time

from dfm.model import Feature
from dfm.tooling import default_catalogue, select_tools
from dfm.tooling.catalogue import load_catalogue, shipped_catalogue_files


def synthetic(n: int) -> list[Feature]:
    out = []
    for i in range(n):
        if i % 4 == 3:
            d = 0.3 + (i % 13) * 0.1
            out.append(Feature(f"hole-{i}", "hole", (i,), {"diameter_mm": d, "depth_mm": 1 + i % 7},
                               {"bottom": "flat", "approach": [0, 0, 1]}, (float(i), 0.0, 0.0), (0.0, 0.0, 1.0)))
            continue
        corner = (i % 17) * 0.05  # 0 (sharp) .. 0.8 mm
        depth = 0.5 + (i % 11) * 0.75
        out.append(Feature(
            f"pocket-{i}", "pocket", (i,),
            {"width_mm": 1.0 + i % 5, "depth_mm": depth, "min_corner_radius_mm": corner, "floor_radius_mm": 0.0},
            {"approach": [0, 0, 1], "floor": "flat", "through": False},
            (float(i), 0.0, 0.0), (0.0, 0.0, 1.0)))
    return out


def main() -> None:
    t0 = time.perf_counter()
    cat = load_catalogue(shipped_catalogue_files())
    t1 = time.perf_counter()
    print(f"catalogue: {len(cat.tools)} tools from {len(cat.files)} files loaded+validated in {(t1 - t0) * 1e3:.1f} ms")
    cat = default_catalogue()
    for n in (10, 100, 1000):
        feats = synthetic(n)
        t0 = time.perf_counter()
        res = select_tools(feats, cat)
        dt = time.perf_counter() - t0
        print(f"select_tools: {n:5d} features -> {len(res.tools):3d} tool rows, {len(res.findings):4d} findings "
              f"in {dt * 1e3:8.1f} ms ({dt / n * 1e3:.2f} ms/feature)")
    for path in sys.argv[1:]:
        from dfm import kernel
        from dfm.api import Options
        from dfm.features import analyse
        from dfm.stages import BodyContext
        from dfm.tooling import recommend

        for solid in kernel.load(path).solids:
            ctx = BodyContext(solid=solid, options=Options())
            t0 = time.perf_counter()
            analyse(ctx)
            t1 = time.perf_counter()
            recommend(ctx)
            t2 = time.perf_counter()
            print(f"{path} body {solid.index}: {len(ctx.features)} features; analysis {(t1 - t0) * 1e3:.0f} ms, "
                  f"tooling {(t2 - t1) * 1e3:.1f} ms, {len(ctx.tools)} tool rows")


if __name__ == "__main__":
    main()
