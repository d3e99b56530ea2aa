"""Same-output safety net: dfm's JSON for every corpus and example part, kept as gold files.

Usage:
    python benchmarks/snapshot.py --write [FILE...]   # (re)write gold for FILE... (default: all parts)
    python benchmarks/snapshot.py --check [FILE...]   # compare against the gold, print differences

The gold lives in ``tests/gold/analysis/<folder>__<stem>.json``: ``dfm check --format json``'s
object (``dfm.report.jsonout.result_dict`` of ``api.analyze``) with what does not belong to
the analysis scrubbed: the file's path (its name relative to the corpus or ``example_parts/``),
the dfm version, the timestamp; numbers rounded to 1 µm. ``tests/test_same_output.py``
recomputes and compares with :func:`diff` (numbers to 1 µm, numbers inside messages to
their printed precision).

Each part runs in its own child process (``api.analyze_isolated``), so that a file that
crashes OpenCASCADE does not end the run; the result is the same object ``api.analyze`` gives.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLES = ROOT / "example_parts"
GOLD = ROOT / "tests" / "gold" / "analysis"

#: Numbers are kept and compared to 1 µm (mm), and to 1e-3 of their unit otherwise.
TOL = 1e-3
_NUM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def parts() -> list[Path]:
    """Every STEP file of the corpus and of ``example_parts/``, sorted."""
    out = sorted(p for p in EXAMPLES.iterdir() if p.suffix.lower() in (".step", ".stp"))
    if CORPUS.is_dir():
        out += sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".step", ".stp"))
    return out


def label(path: Path) -> str:
    """The part's name free of where the tree lives: ``corpus/mfcad/x.step``, ``example_parts/y.step``."""
    path = path.resolve()
    for base, name in ((CORPUS.resolve(), "corpus"), (EXAMPLES.resolve(), "example_parts")):
        if path.is_relative_to(base):
            return f"{name}/{path.relative_to(base).as_posix()}"
    return path.name


def gold_path(path: Path) -> Path:
    """Where the gold of ``path`` lives."""
    return GOLD / (label(path).replace("/", "__") + ".json")


def _round(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        r = round(value, 3)
        return 0.0 if r == 0 else r
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _scrub_text(value: Any, path: Path) -> Any:
    if isinstance(value, str):
        name = label(path)
        for p in {str(path), str(path.resolve())}:
            value = value.replace(p, name)
        return value
    if isinstance(value, list):
        return [_scrub_text(v, path) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_text(v, path) for k, v in value.items()}
    return value


def normalise(result: Any, path: Path) -> dict[str, Any]:
    """The result's JSON object without path, version, date; numbers to 1 µm."""
    from dfm.report.jsonout import result_dict

    out = result_dict(result)
    out["file"] = label(path)
    out.pop("dfm_version", None)
    out.pop("generated_at", None)
    return _round(_scrub_text(out, path))  # type: ignore[no-any-return]


def compute(path: Path) -> dict[str, Any]:
    """Analyse ``path`` in a child process and return the normalised JSON object."""
    from dfm import api
    from dfm.isolation import Limits

    res = api.analyze_isolated(path, limits=Limits(timeout=1800.0, memory_mb=8192))
    return normalise(res, path)


def _text_same(a: str, b: str) -> bool:
    if a == b:
        return True
    sa, sb = _NUM.split(a), _NUM.split(b)
    na, nb = _NUM.findall(a), _NUM.findall(b)
    if sa != sb or len(na) != len(nb):
        return False
    for x, y in zip(na, nb, strict=True):
        if x == y:
            continue
        digits = max(len(x.partition(".")[2]), len(y.partition(".")[2])) if "e" not in x.lower() else 0
        step = 10.0 ** -digits if digits else 1.0
        if abs(float(x) - float(y)) > max(TOL, step) * (1 + 1e-9):
            return False
    return True


def diff(got: Any, want: Any, where: str = "$") -> list[str]:
    """Differences between two normalised objects (numbers within 1 µm are the same)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(want) | set(got)):
            if k not in got:
                out.append(f"{where}.{k}: missing (gold {json.dumps(want[k])[:200]})")
            elif k not in want:
                out.append(f"{where}.{k}: new {json.dumps(got[k])[:200]}")
            else:
                out += diff(got[k], want[k], f"{where}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{where}: {len(got)} items, gold {len(want)}: "
                    f"got {json.dumps(got)[:300]} gold {json.dumps(want)[:300]}"]
        out = []
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            out += diff(g, w, f"{where}[{i}]")
        return out
    if isinstance(want, (int, float)) and isinstance(got, (int, float)) and not isinstance(want, bool) \
            and not isinstance(got, bool):
        return [] if abs(got - want) <= TOL * (1 + 1e-9) + 1e-12 else [f"{where}: {got} != gold {want}"]
    if isinstance(want, str) and isinstance(got, str):
        return [] if _text_same(got, want) else [f"{where}: {got!r} != gold {want!r}"]
    return [] if got == want else [f"{where}: {got!r} != gold {want!r}"]


def main() -> int:
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the gold of the files")
    mode.add_argument("--check", action="store_true", help="compare the files with their gold")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or parts()
    GOLD.mkdir(parents=True, exist_ok=True)
    bad = 0
    for f in files:
        t = time.perf_counter()
        got = compute(f)
        dt = time.perf_counter() - t
        g = gold_path(f)
        if args.write:
            g.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
            print(f"{dt:7.1f} s  {label(f)}  {got['status']}", flush=True)
        else:
            d = diff(got, json.loads(g.read_text())) if g.exists() else ["no gold"]
            bad += bool(d)
            print(f"{dt:7.1f} s  {label(f)}  {'same' if not d else 'DIFFERENT'}", flush=True)
            for line in d[:20]:
                print("    " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
