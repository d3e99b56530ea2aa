"""Mutated copies of a valid STEP file: the hostile uploads of tests/test_hostile.py.

Each mutation is a plain byte edit of a part dfm reads whole, chosen the way uploads go
wrong (cut off, bit rot, hand edits, writers that print NaN or overflow, generated text
that nests without end). Deterministic: the same input gives the same mutations.

``python tests/helpers/hostile.py PART.step OUTDIR`` writes them all, for trying by hand
(``dfm check OUTDIR/*.step``) or with ``benchmarks/hostile.py``.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

_ENTITY = re.compile(rb"^#(\d+)\s*=\s*([A-Z_0-9]+|\()", re.MULTILINE)


def make_plate(path: Path) -> Path:
    """A 20 x 20 x 4.5 mm plate with a 10 x 10 x 2 mm sharp pocket: 11 faces, one solid."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "example_parts"))
    import cadquery as cq
    import generators

    base = cq.Workplane("XY").box(20, 20, 4.5, centered=(True, True, False))
    pocket = cq.Workplane("XY").box(10, 10, 2, centered=(True, True, False)).translate((0, 0, 2.5))
    return generators.export_step(base.cut(pocket), path, name="plate")


def entities(data: bytes) -> dict[int, tuple[int, int, bytes]]:
    """``id -> (start, end, type)`` of every ``#N = TYPE(...);`` record (end after the ``;``)."""
    out: dict[int, tuple[int, int, bytes]] = {}
    for m in _ENTITY.finditer(data):
        end = data.index(b";", m.end()) + 1
        while data.count(b"'", m.start(), end) % 2:  # a ';' inside a string
            end = data.index(b";", end) + 1
        out[int(m.group(1))] = (m.start(), end, m.group(2))
    return out


def _first(data: bytes, kind: bytes, nth: int = 0) -> tuple[int, int, int]:
    found = [(i, s, e) for i, (s, e, t) in sorted(entities(data).items()) if t == kind]
    return found[min(nth, len(found) - 1)]


def _edit_entity(data: bytes, kind: bytes, fn: Callable[[bytes], bytes], nth: int = 0) -> bytes:
    _i, s, e = _first(data, kind, nth)
    return data[:s] + fn(data[s:e]) + data[e:]


def _drop_ref(data: bytes, kind: bytes, nth: int = 0, which: int = 0) -> bytes:
    """Point the ``which``-th reference of the ``nth`` ``kind`` entity at an id that does not exist."""
    missing = max(entities(data)) + 1000

    def fn(rec: bytes) -> bytes:
        refs = list(re.finditer(rb"#\d+", rec))[1:]  # [0] is the entity's own id
        m = refs[min(which, len(refs) - 1)]
        return rec[:m.start()] + b"#%d" % missing + rec[m.end():]

    return _edit_entity(data, kind, fn, nth)


def _coord(data: bytes, value: bytes, kind: bytes = b"CARTESIAN_POINT", nth: int = 3) -> bytes:
    def fn(rec: bytes) -> bytes:
        return re.sub(rb"\(([-0-9.E+]+),", b"(" + value + b",", rec, count=1)

    return _edit_entity(data, kind, fn, nth)


def _nest(data: bytes, depth: int) -> bytes:
    def fn(rec: bytes) -> bytes:
        i = rec.index(b"(", rec.index(b"CARTESIAN_POINT")) + 1
        return rec[:i] + b"''," + b"(" * depth + b"0." + b")" * depth + b"," + rec[i + 3:]

    return _edit_entity(data, b"CARTESIAN_POINT", fn, 5)


def _self_ref(rec: bytes) -> bytes:
    """The record's first reference made to point at the record itself."""
    refs = list(re.finditer(rb"#\d+", rec))
    own, first = refs[0].group(), refs[1]
    return rec[:first.start()] + own + rec[first.end():]


def _data_lines(data: bytes) -> list[tuple[int, int]]:
    start = data.index(b"DATA;")
    end = data.rindex(b"ENDSEC;")
    out = []
    pos = data.index(b"\n", start) + 1
    while pos < end:
        nl = data.index(b"\n", pos)
        out.append((pos, nl + 1))
        pos = nl + 1
    return out


def mutations(data: bytes) -> dict[str, bytes]:
    """Named hostile variants of a valid STEP file (about 60)."""
    rng = random.Random(16)
    out: dict[str, bytes] = {}
    n = len(data)
    for frac in (0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
        out[f"trunc-{int(frac * 100):02d}"] = data[: int(n * frac)]
    out["trunc-no-endsec"] = data[: data.rindex(b"ENDSEC;")]
    body = data.index(b"DATA;") + 6
    for k in range(12):
        pos = rng.randrange(body, n - 30)
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        out[f"flip-{k:02d}"] = bytes(flipped)
    lines = _data_lines(data)
    for k in range(8):
        s, e = lines[rng.randrange(len(lines))]
        out[f"delete-line-{k}"] = data[:s] + data[e:]
    for kind in (b"CARTESIAN_POINT", b"ADVANCED_FACE", b"EDGE_CURVE", b"EDGE_LOOP", b"PLANE", b"VERTEX_POINT"):
        s, e, _t = next((s, e, t) for _i, (s, e, t) in sorted(entities(data).items()) if t == kind)
        out[f"delete-{kind.decode().lower()}"] = data[:s] + data[e:]
    out["ref-shell-face"] = _drop_ref(data, b"CLOSED_SHELL", which=1)
    out["ref-shell-first-face"] = _drop_ref(data, b"CLOSED_SHELL", which=0)
    out["ref-face-bound"] = _drop_ref(data, b"ADVANCED_FACE", nth=2)
    out["ref-face-surface"] = _drop_ref(data, b"ADVANCED_FACE", nth=2, which=1)
    out["ref-edge-vertex"] = _drop_ref(data, b"EDGE_CURVE", nth=4)
    out["ref-edge-curve"] = _drop_ref(data, b"EDGE_CURVE", nth=4, which=2)
    out["ref-vertex-point"] = _drop_ref(data, b"VERTEX_POINT", nth=1)
    out["ref-solid-shell"] = _drop_ref(data, b"MANIFOLD_SOLID_BREP")
    out["ref-brep-item"] = _drop_ref(data, b"ADVANCED_BREP_SHAPE_REPRESENTATION", which=1)
    out["nan-word"] = _coord(data, b"NaN")
    out["inf-point"] = _coord(data, b"1.E400")
    out["nan-inf-minus-inf"] = _coord(_coord(data, b"1.E400", nth=3), b"-1.E400", nth=4)
    out["nan-direction"] = _coord(data, b"1.E400", kind=b"DIRECTION", nth=2)
    out["big-1e308-point"] = _coord(data, b"1.E308")
    out["big-1e308-all"] = re.sub(rb"CARTESIAN_POINT\('',\(([-0-9.E+]+),", b"CARTESIAN_POINT('',(1.E308,", data)
    out["big-1e308-direction"] = _coord(data, b"1.E308", kind=b"DIRECTION", nth=2)
    out["big-1e300-neg"] = _coord(_coord(data, b"1.E300", nth=2), b"-1.E300", nth=3)
    out["nest-100"] = _nest(data, 100)
    out["nest-10000"] = _nest(data, 10_000)
    out["nest-200000"] = _nest(data, 200_000)
    out["cycle-self"] = _edit_entity(data, b"EDGE_CURVE", _self_ref, 3)
    out["dup-ids"] = data.replace(b"\n#41 =", b"\n#40 =", 1)
    out["huge-id"] = data.replace(b"#41", b"#99999999999999999999")
    out["bom"] = b"\xef\xbb\xbf" + data
    out["crlf"] = data.replace(b"\n", b"\r\n")
    out["zero-radius"] = data  # replaced below when the part has a circle
    if b"CIRCLE(" in data:
        out["zero-radius"] = re.sub(rb"(CIRCLE\('[^']*',#\d+,)([0-9.E+-]+)\)", rb"\g<1>0.)", data, count=1)
    else:
        del out["zero-radius"]
    out["empty-data"] = data[: data.index(b"DATA;") + 6] + b"ENDSEC;\nEND-ISO-10303-21;\n"
    return out


def bloat(data: bytes, records: int) -> bytes:
    """``data`` with ``records`` unused points added: valid, but slow to parse (a stand-in for
    a file that takes longer than the time limit, ~80k records/s here)."""
    end = data.rindex(b"ENDSEC;")
    first = max(entities(data)) + 1
    extra = b"".join(b"#%d = CARTESIAN_POINT('',(%d.,1.,2.));\n" % (first + i, i % 1000) for i in range(records))
    return data[:end] + extra + data[end:]


def main(argv: list[str]) -> int:
    src, dest = Path(argv[0]), Path(argv[1])
    dest.mkdir(parents=True, exist_ok=True)
    for name, blob in mutations(src.read_bytes()).items():
        (dest / f"{name}.step").write_bytes(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
