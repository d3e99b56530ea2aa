"""What ``dfm check`` makes of hostile uploads: crash, hang, pass or a clear error.

    python benchmarks/hostile.py                    # mutations of a generated 20x20x4.5 plate
    python benchmarks/hostile.py --part P.step      # mutations of your own part
    python benchmarks/hostile.py --cmd "check --timeout 20"

Each mutated file (tests/helpers/hostile.py) is checked alone in a fresh ``dfm`` process
with a wall-clock guard (``--guard``, default 60 s) and sorted into:

* ``crash``: the dfm process died of a signal (exit 139 = SIGSEGV) or printed a traceback;
* ``hang``: it was still running at the guard and was killed;
* ``pass``: exit 0 or 1, i.e. the file was read and judged as a part (``warned`` when the
  read itself was flagged: DFM957 partial-read, the solids complete but entities failed);
* ``error``: exit 2 with one ``dfm: FILE: ... [DFM9xx name]`` line (what we want for damage).

The table lists every file, then the counts; ``--json`` writes the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

import hostile  # noqa: E402

_CODE = re.compile(r"\[(DFM9\d\d) [a-z-]+\]")


def classify(rc: int | None, out: str, err: str) -> tuple[str, str]:
    """(kind, detail) of one run."""
    if rc is None:
        return "hang", ""
    if rc < 0 or rc >= 128 or "Traceback" in err:
        return "crash", f"exit {rc}"
    codes = _CODE.findall(err)
    if rc == 2 and codes:
        return "error", codes[0]
    if rc in (0, 1):
        first = out.strip().splitlines()[:1]
        return "warned" if "DFM957" in out else "pass", first[0][:90] if first else ""
    return "crash", f"exit {rc}: {err.strip()[-90:]}"


def run_one(dfm: list[str], cmd: list[str], path: Path, guard: float) -> dict:
    t0 = time.monotonic()
    proc = subprocess.Popen([*dfm, *cmd, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=guard)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    kind, detail = classify(rc, out, err)
    lines = [ln for ln in err.splitlines() if ln.startswith("dfm: ")]
    return {"file": path.name, "kind": kind, "detail": detail, "rc": rc, "seconds": round(time.monotonic() - t0, 2),
            "message": lines[0][:300] if lines else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", help="the valid STEP file to mutate (default: a generated plate)")
    ap.add_argument("--cmd", default="check", help="dfm sub-command and options (default: check)")
    ap.add_argument("--guard", type=float, default=60.0, help="seconds before a run counts as a hang")
    ap.add_argument("--only", help="regular expression of mutation names to run")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    dfm = [str(Path(sys.executable).with_name("dfm"))]
    with tempfile.TemporaryDirectory(prefix="dfm-hostile-") as tmp:
        part = Path(args.part) if args.part else hostile.make_plate(Path(tmp) / "plate.step")
        rows = []
        for name, blob in hostile.mutations(part.read_bytes()).items():
            if args.only and not re.search(args.only, name):
                continue
            path = Path(tmp) / f"{name}.step"
            path.write_bytes(blob)
            row = run_one(dfm, shlex.split(args.cmd), path, args.guard)
            rows.append(row)
            print(f"{row['file']:28} {row['kind']:6} {row['seconds']:6.1f} s  {row['detail']}", flush=True)
    counts = {k: sum(r["kind"] == k for r in rows) for k in ("crash", "hang", "pass", "warned", "error")}
    print(f"{len(rows)} files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
