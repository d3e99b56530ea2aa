"""Seeded fuzz test: mutated STEP files never crash, hang or garble ``dfm check`` (issue #16).

Each case is one random mutation of a small real part: a file of ``../shared/corpus`` or an
example part. The mutations are the ways uploads go wrong: truncation (anywhere, or at a
record boundary), bit flips and garbage bytes, deleted lines, a reference to an entity that
does not exist (or to the wrong one, or to itself), NaN / infinite / overflowing numbers,
deep nesting, a duplicated id, a UTF-8 byte-order mark; a quarter of the cases stack two.

Cases are checked in batches: one ``dfm check`` command line holds several mutated files and
one good file, at a short ``--timeout``, and for each command the test asserts

* exit 0, 1 or 2 only, and the code the results call for (2 when any file is an error);
* no traceback, on either stream;
* one ``dfm: FILE: cause [DFM9xx name]`` line on stderr per file in error, and no other line;
* every file on the command line reported, in order, the good file as it reads alone;
* the command ends within the sum of the per-file limits (no hang).

``DFM_FUZZ_CASES=N`` sets the number of cases (default 6, one batch: ~15 s; the slow run is
``DFM_FUZZ_CASES=300``), ``DFM_FUZZ_SEED`` the first seed, ``DFM_FUZZ_BATCH`` the files per
command. ``DFM_FUZZ_LOG=FILE`` appends one JSON row per case (kind, exit code, error code,
faces) for the figures. A failing case names its seed: ``fuzz_case(seed)`` rebuilds it.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parent / "helpers"
sys.path.insert(0, str(HELPERS))

import hostile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = int(os.environ.get("DFM_FUZZ_CASES", "6"))
SEED = int(os.environ.get("DFM_FUZZ_SEED", "1600"))
BATCH = max(1, int(os.environ.get("DFM_FUZZ_BATCH", "8")))
#: Seconds one file may take (``--timeout``): a clean small part takes well under 1 s.
TIMEOUT_S = 10.0

#: Small parts that read whole (each well under a second to analyse): corpus files, relative
#: to the corpus, and the example parts, relative to the repository.
CORPUS_PARTS = (
    "mfcad/0-6-12-13-14-23.step",
    "mfcad/4-8-13-14-19.step",
    "mfcadpp_hcadnet/3_true.stp",
    "nist_pmi/nist_ftc_11_asme1_rb.stp",
    "occt/parts/bug22821_test.step",
    "occt/parts/trj2_io1-in-203.stp",
    "occt/assemblies/trj12_is1-oc-214.stp",
)
EXAMPLE_PARTS = ("example_parts/lens_barrel.step", "example_parts/micro_holes.step",
                 "example_parts/micro_slot.step")

#: ``dfm: PATH: cause [DFM9xx name]``, one line.
_LINE = re.compile(r"^dfm: (?P<path>.+?): .+ \[(?P<code>DFM9\d\d) [a-z-]+\]$")
_REAL = re.compile(rb"(?<![#\w.])-?\d+\.\d*(?:E[-+]?\d+)?")
#: What writers with bugs print for a number.
_BAD_NUMBERS = (b"NaN", b"-nan", b"INF", b"-Infinity", b"1.#QNAN", b"1.E400", b"-1.E400", b"1.E308",
                b"-1.7976931348623157E308", b"1.E300", b"1.E99", b"1.E-400", b"1.E999999999999",
                b"123456789012345678901234567890.", b"0.", b"-0.")
_NEST_DEPTHS = (64, 1_000, 20_000, 200_000)

pytestmark = [pytest.mark.corpus]


# -- mutations ------------------------------------------------------------------------------------


def _data_span(data: bytes) -> tuple[int, int]:
    start = data.find(b"DATA;")
    end = data.rfind(b"ENDSEC;")
    return (start + 5 if start >= 0 else 0), (end if end > start else len(data))


def _with_refs(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """``(id, start, end, record)`` of the records that reference others."""
    out = []
    for i, (s, e, _t) in hostile.entities(data).items():
        rec = data[s:e]
        if rec.count(b"#") > 1:
            out.append((i, s, e, rec))
    return out


def _refs(rec: bytes) -> list[re.Match[bytes]]:
    return list(re.finditer(rb"#\d+", rec))[1:]  # [0] is the record's own id


def _truncate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    return "truncate", data[: rng.randrange(len(data))]


def _truncate_at_record(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Whole records cut off the end (and the ENDSEC, so the parser may or may not notice)."""
    ends = sorted(e for _s, e, _t in hostile.entities(data).values())
    end = ends[rng.randrange(len(ends))]
    tail = rng.choice([b"", b"\nENDSEC;\nEND-ISO-10303-21;\n"])
    return "truncate-record", data[:end] + tail


def _flip(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    lo, _hi = _data_span(data)
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(lo, len(out))
        out[pos] ^= 1 << rng.randrange(8)
    return "flip", bytes(out)


def _garbage(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    lo, hi = _data_span(data)
    pos = rng.randrange(lo, hi)
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return "garbage", data[:pos] + junk + data[pos + len(junk):]


def _delete_lines(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    lines = hostile._data_lines(data)  # noqa: SLF001 - the helper's own line finder
    out = data
    for s, e in sorted(rng.sample(lines, min(len(lines), rng.randint(1, 3))), reverse=True):
        out = out[:s] + out[e:]
    return "delete-lines", out


def _edit_record(data: bytes, rng: random.Random, fn) -> bytes:  # type: ignore[no-untyped-def]
    i, s, e, rec = rng.choice(_with_refs(data))
    return data[:s] + fn(i, rec) + data[e:]


def _missing_ref(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    missing = max(hostile.entities(data)) + rng.randint(1, 10_000)

    def fn(_i: int, rec: bytes) -> bytes:
        m = rng.choice(_refs(rec))
        return rec[:m.start()] + b"#%d" % missing + rec[m.end():]

    return "missing-ref", _edit_record(data, rng, fn)


def _wrong_ref(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    ids = sorted(hostile.entities(data))

    def fn(_i: int, rec: bytes) -> bytes:
        m = rng.choice(_refs(rec))
        return rec[:m.start()] + b"#%d" % rng.choice(ids) + rec[m.end():]

    return "wrong-ref", _edit_record(data, rng, fn)


def _self_ref(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    def fn(i: int, rec: bytes) -> bytes:
        m = rng.choice(_refs(rec))
        return rec[:m.start()] + b"#%d" % i + rec[m.end():]

    return "self-ref", _edit_record(data, rng, fn)


def _number(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    lo, hi = _data_span(data)
    reals = [m for m in _REAL.finditer(data, lo, hi)]
    out = data
    for m in sorted(rng.sample(reals, min(len(reals), rng.randint(1, 3))), key=lambda m: -m.start()):
        out = out[:m.start()] + rng.choice(_BAD_NUMBERS) + out[m.end():]
    return "number", out


def _nest(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    depth = rng.choice(_NEST_DEPTHS)
    _i, s, e, rec = rng.choice(_with_refs(data))
    opens = [k for k, c in enumerate(rec) if c == ord("(")]
    at = s + rng.choice(opens) + 1
    return f"nest-{depth}", data[:at] + b"(" * depth + b"0." + b")" * depth + b"," + data[at:]


def _dup_id(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    ents = hostile.entities(data)
    a, b = rng.sample(sorted(ents), 2)
    s, _e, _t = ents[a]
    m = re.match(rb"#\d+", data[s:])
    assert m
    return "dup-id", data[:s] + b"#%d" % b + data[s + m.end():]


def _bom(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    return "bom", b"\xef\xbb\xbf" + data


MUTATORS = (_truncate, _truncate_at_record, _flip, _garbage, _delete_lines, _missing_ref, _wrong_ref,
            _self_ref, _number, _nest, _dup_id, _bom)


def sources(corpus: Path) -> list[Path]:
    return [corpus / p for p in CORPUS_PARTS] + [ROOT / p for p in EXAMPLE_PARTS]


def fuzz_case(seed: int, parts: list[Path]) -> tuple[Path, str, bytes]:
    """(source, kind, mutated bytes) of case ``seed`` (deterministic)."""
    rng = random.Random(seed)
    src = rng.choice(parts)
    data = src.read_bytes()
    kinds = []
    for _ in range(2 if rng.random() < 0.25 else 1):
        mutate = rng.choice(MUTATORS)
        try:
            kind, data = mutate(data, rng)
        except (ValueError, IndexError):  # nothing of that kind left to edit (after a truncation)
            kind, data = _bom(data, rng)
        kinds.append(kind)
    return src, "+".join(kinds), data


# -- the test -------------------------------------------------------------------------------------


def _dfm(*args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str] | None, float]:
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "dfm", *args], capture_output=True, text=True,
                              errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0
    return proc, time.monotonic() - t0


def _guard(n_files: int) -> float:
    """Longest a command may take: start-up, then every file at its limit (and a margin)."""
    return 60 + n_files * (TIMEOUT_S + 5)


@pytest.fixture(scope="module")
def baseline(corpus) -> dict[str, dict]:
    """Every source part as it reads alone: all must be ``ok``."""
    parts = sources(corpus)
    proc, _s = _dfm("check", *map(str, parts), "--timeout", "60", "--format", "json", timeout=_guard(len(parts)) * 3)
    assert proc is not None, "the clean parts hung"
    rows = {r["file"]: r for r in json.loads(proc.stdout)}
    for p in parts:
        assert rows[str(p)]["status"] == "ok", (p, rows[str(p)].get("error"))
    return rows


def _faces(row: dict) -> int:
    return sum(b["faces"] for b in row.get("bodies") or [])


@pytest.mark.parametrize("batch", range((CASES + BATCH - 1) // BATCH), ids=lambda b: f"batch{b:03d}")
def test_mutated_uploads_never_crash_hang_or_garble(batch, corpus, baseline, tmp_path):
    parts = sources(corpus)
    seeds = range(SEED + batch * BATCH, SEED + min(CASES, (batch + 1) * BATCH))
    cases: dict[str, tuple[int, Path, str]] = {}
    files: list[Path] = []
    for seed in seeds:
        src, kind, data = fuzz_case(seed, parts)
        path = tmp_path / f"s{seed}-{kind.replace('+', '_')}-{src.stem}{src.suffix}"
        path.write_bytes(data)
        cases[str(path)] = (seed, src, kind)
        files.append(path)
    good = parts[batch % len(parts)]
    files.insert(random.Random(batch).randint(0, len(files)), good)
    fmt = "text" if batch % 3 == 2 else "json"  # the people's output must hold up as well
    limit = _guard(len(files))
    proc, seconds = _dfm("check", *map(str, files), "--timeout", f"{TIMEOUT_S:g}", "--format", fmt, timeout=limit)
    where = f"seeds {seeds.start}..{seeds.stop - 1} (DFM_FUZZ_SEED={SEED}), files in {tmp_path}"
    assert proc is not None, f"dfm check was still running after {limit:.0f} s: {where}"
    assert proc.returncode in (0, 1, 2), f"exit {proc.returncode}: {where}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr + proc.stdout, f"{where}\n{proc.stderr[-3000:]}"

    errors: dict[str, str] = {}
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        assert m, f"not one clear error line: {line!r} ({where})"
        assert m["path"] not in errors, f"two lines for {m['path']} ({where})"
        assert m["path"] in map(str, files), f"an error line names no file of the command: {line!r}"
        errors[m["path"]] = m["code"]
    assert str(good) not in errors, f"the good file failed: {errors[str(good)]} ({where})"

    if fmt == "json":
        rows = json.loads(proc.stdout)
        assert [r["file"] for r in rows] == list(map(str, files)), f"not every file reported, in order ({where})"
        by_file = {r["file"]: r for r in rows}
        for f, r in by_file.items():
            assert (r["status"] == "error") == (f in errors), (f, r["status"], errors.get(f))
            if r["status"] == "error":
                assert r["error"]["code"] == errors[f] and f in r["error"]["message"]
        clean = baseline[str(good)]
        assert by_file[str(good)]["verdict"] == clean["verdict"] and _faces(by_file[str(good)]) == _faces(clean)
        verdicts = {f: ("error" if r["status"] == "error" else r["verdict"]) for f, r in by_file.items()}
        assert proc.returncode == max(r["exit_code"] for r in rows), f"exit {proc.returncode} ({where})"
    else:
        heads = re.findall(r"^(PASS|WARN|FAIL) (.+?): ", proc.stdout, re.MULTILINE)
        assert [h[1] for h in heads] == list(map(str, files)), f"not every file reported, in order ({where})"
        verdicts = {f: ("error" if f in errors else v.lower()) for v, f in heads}
    want = 2 if errors else 1 if "fail" in verdicts.values() else 0
    assert proc.returncode == want, f"exit {proc.returncode}, the results call for {want} ({where})"

    log = os.environ.get("DFM_FUZZ_LOG")
    if log:
        with open(log, "a") as fh:
            for f in files:
                if f == good:
                    continue
                seed, src, kind = cases[str(f)]
                v = verdicts[str(f)]
                row = {"seed": seed, "source": src.name, "kind": kind, "verdict": v, "code": errors.get(str(f)),
                       "exit": 2 if v == "error" else 1 if v == "fail" else 0, "format": fmt,
                       "command_exit": proc.returncode, "command_s": round(seconds, 1)}
                if fmt == "json" and v != "error":
                    r = by_file[str(f)]
                    row["faces"], row["faces_clean"] = _faces(r), _faces(baseline[str(src)])
                    row["notes"] = sorted(set(re.findall(r'"(DFM9\d\d)"', json.dumps(r))))
                fh.write(json.dumps(row) + "\n")
