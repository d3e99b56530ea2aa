"""How long the rule engine takes: loading the rule data, resolving settings, judging bodies.

Usage: python benchmarks/rules.py [PART.step ...]   (default: example_parts/*.step)
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dfm import kernel  # noqa: E402
from dfm.api import Options  # noqa: E402
from dfm.features import analyse  # noqa: E402
from dfm.rules import judge, registry  # noqa: E402
from dfm.stages import BodyContext  # noqa: E402


def _clear() -> None:
    for fn in (registry.shipped_profiles, registry._rules_for, registry.materials, registry.finishes,
               registry.drill_sizes, registry.thread_rows, registry.catalogue, registry.general_tolerance_table):
        fn.cache_clear()


def main(paths: list[Path]) -> None:
    _clear()
    t = time.perf_counter()
    rules = registry.shipped_rules()
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    registry.resolve(Options())
    t_resolve_warm = time.perf_counter() - t
    print(f"rules: {len(rules)}, cases: {sum(len(r.cases) for r in rules)}")
    print(f"cold load of rules + profiles + data: {t_load * 1000:.1f} ms; "
          f"first resolve (catalogue, drills, threads): {t_resolve_warm * 1000:.1f} ms")
    opts = [("default", Options()), ("anodize-ii", Options(material="6061-T6", finish="anodize-ii"))]
    print(f"{'part':28} {'features':>8} {'analyse ms':>10} " + " ".join(f"{n + ' judge ms':>18}" for n, _ in opts)
          + f" {'findings':>8}")
    for p in paths:
        loaded = kernel.load(p)
        for solid in loaded.solids:
            base = BodyContext(solid=solid, options=Options(), scratch={"path": str(p)})
            t = time.perf_counter()
            analyse(base)
            t_an = time.perf_counter() - t
            times = []
            n_find = 0
            for _name, o in opts:
                reps = 20
                t = time.perf_counter()
                for _ in range(reps):
                    ctx = BodyContext(solid=solid, options=o, features=list(base.features), scratch={"path": str(p)})
                    judge(ctx)
                times.append((time.perf_counter() - t) / reps)
                n_find = max(n_find, len(ctx.findings))
            print(f"{p.name[:28]:28} {len(base.features):>8} {t_an * 1000:>10.1f} "
                  + " ".join(f"{x * 1000:>18.2f}" for x in times) + f" {n_find:>8}")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or sorted((ROOT / "example_parts").glob("*.step")))
