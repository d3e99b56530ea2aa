"""Everything the batch writes: names, atomic files, summary rows, JSON, CSV and the index.

Rows are plain dicts built from the part's ``dfm-result/1`` JSON (plus what the batch knows:
source, hash, duration), so a resumed part's row is rebuilt exactly from what is on disk.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

SUMMARY_SCHEMA = "dfm-batch-summary/1"

#: Output names a part may not take (they would overwrite the run's own files).
_RESERVED = frozenset({"index", "summary"})
_MAX_NAME = 100
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

CSV_COLUMNS = (
    "name", "source", "status", "verdict", "exit_code", "error_code", "error_name", "error_message",
    "worst_code", "worst_severity", "worst_message", "errors", "warnings", "infos", "bodies",
    "size_x_mm", "size_y_mm", "size_z_mm", "tools", "cycle_time_s", "price_per_piece", "price_currency",
    "price_quantity", "json", "html", "gcode",
    "seconds", "sha256", "resumed",
)


def safe_name(stem: str) -> str:
    """A file-name-safe version of ``stem``: letters and digits of any script, ``-_.``."""
    out = "".join(c if (c.isalnum() or c in "-_.") else "_" for c in stem).strip("._")
    out = out[:_MAX_NAME] or "part"
    if out.casefold() in _RESERVED:
        out += "-part"
    return out


def assign_names(sources: Sequence[tuple[str, PurePosixPath]]) -> list[str]:
    """Unique output names for parts, stable for the same set of inputs.

    A part is named after its file stem. Parts whose stems clash (case-insensitively, for
    case-insensitive file systems) are prefixed with the fewest parent folders that tell them
    apart (``a__bracket``, ``b__bracket``); what nothing tells apart (``b/bracket.step`` and
    ``b/Bracket.STP``) gets ``-2``, ``-3`` in source order.

    Args:
        sources: (source, path relative to its folder/archive) per part, in source order.

    """

    def parents(i: int) -> list[str]:
        full = PurePosixPath(sources[i][0].replace("\\", "/").replace("!", "/"))
        return [p for p in full.parent.parts if p not in ("/", ".", "")]

    def candidate(i: int, depth: int) -> str:
        up = parents(i)
        stem = PurePosixPath(sources[i][1].name).stem or sources[i][1].name
        return safe_name("__".join([*(up[max(0, len(up) - depth):] if depth else []), stem]))

    names = [candidate(i, 0) for i in range(len(sources))]
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        groups.setdefault(n.casefold(), []).append(i)
    for group in groups.values():
        if len(group) < 2:
            continue
        deepest = max(len(parents(i)) for i in group)
        for depth in range(1, deepest + 1):
            cands = [candidate(i, depth) for i in group]
            if len({c.casefold() for c in cands}) == len(cands):
                break
        else:
            cands = [candidate(i, 1) for i in group]
        for i, c in zip(group, cands, strict=True):
            names[i] = c
    taken: dict[str, int] = {}
    for i, n in enumerate(names):
        k = n.casefold()
        if k in taken:
            taken[k] += 1
            while f"{k}-{taken[k]}" in taken:
                taken[k] += 1
            names[i] = f"{n}-{taken[k]}"
            taken[names[i].casefold()] = 1
        else:
            taken[k] = 1
    return names


_tmp_counter = iter(range(1 << 62))
_tmp_lock = threading.Lock()


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` so that it is either the old or the whole new file, never torn."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with _tmp_lock:
        n = next(_tmp_counter)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{n}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _worst(result: Mapping[str, Any]) -> dict[str, Any] | None:
    findings = list(result.get("findings") or [])
    for body in result.get("bodies") or []:
        findings.extend(body.get("findings") or [])
    if not findings:
        return None
    f = min(findings, key=lambda f: (_SEVERITY_RANK.get(f.get("severity"), 9), f.get("code", ""),
                                     f.get("faces", []), f.get("message", "")))
    return {"code": f.get("code"), "name": f.get("name"), "severity": f.get("severity"), "message": f.get("message")}


def _size(result: Mapping[str, Any]) -> list[float] | None:
    bodies = result.get("bodies") or []
    if not bodies:
        return None
    lo = [min(b["bbox_min_mm"][k] for b in bodies) for k in range(3)]
    hi = [max(b["bbox_min_mm"][k] + b["bbox_mm"][k] for b in bodies) for k in range(3)]
    return [round(hi[k] - lo[k], 6) for k in range(3)]


def part_row(
    name: str,
    source: str,
    sha256: str | None,
    result: Mapping[str, Any],
    files: Mapping[str, Any],
    meta: Mapping[str, Any],
    seconds: float,
) -> dict[str, Any]:
    """The summary row of one part, from its ``dfm-result/1`` JSON."""
    tools = {t.get("id") for b in result.get("bodies") or [] for t in b.get("tools") or []}
    return {
        "name": name,
        "source": source,
        "sha256": sha256,
        "status": result.get("status"),
        "verdict": result.get("verdict"),
        "exit_code": result.get("exit_code"),
        "error": result.get("error"),
        "worst": _worst(result),
        "counts": dict(result.get("counts") or {}),
        "bodies": len(result.get("bodies") or []),
        "size_mm": _size(result),
        "tools": len(tools),
        "cycle_time_s": meta.get("cycle_time_s"),
        "price": meta.get("price"),
        "files": dict(files),
        "notes": sorted(set(meta.get("notes", []))),
        "seconds": round(seconds, 3),
        "resumed": False,
    }


def problem_row(source: str, code: str, name: str, message: str) -> dict[str, Any]:
    """The summary row of an input that never became a part (unsafe zip member, bomb...)."""
    return {
        "name": None, "source": source, "sha256": None, "status": "error", "verdict": "fail", "exit_code": 2,
        "error": {"code": code, "name": name, "message": message}, "worst": None,
        "counts": {"error": 0, "warning": 0, "info": 0}, "bodies": 0, "size_mm": None, "tools": 0,
        "cycle_time_s": None, "price": None, "files": {"json": None, "html": None, "gcode": None}, "notes": [],
        "seconds": 0.0, "resumed": False,
    }


def batch_exit_code(rows: Iterable[Mapping[str, Any]]) -> int:
    """2 if any file could not be read, else 1 if any part fails DFM, else 0."""
    codes = [int(r.get("exit_code") or 0) for r in rows]
    if any(c == 2 for c in codes):
        return 2
    return 1 if any(c == 1 for c in codes) else 0


def summary_dict(rows: Sequence[Mapping[str, Any]], run: Mapping[str, Any]) -> dict[str, Any]:
    """The run summary (``summary.json``)."""
    counts = {"files": len(rows), "pass": 0, "warn": 0, "fail": 0, "error": 0, "resumed": 0}
    for r in rows:
        if r["status"] != "ok":
            counts["error"] += 1
        else:
            counts[str(r["verdict"])] += 1
        counts["resumed"] += bool(r.get("resumed"))
    return {
        "schema": SUMMARY_SCHEMA,
        **run,
        "exit_code": batch_exit_code(rows),
        "counts": counts,
        "errors": [{"source": r["source"], "part": r["name"], **r["error"]} for r in rows if r.get("error")],
        "parts": list(rows),
    }


def _csv_cell(value: Any) -> Any:
    # Names come from uploads: keep a spreadsheet from reading a cell as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def summary_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The run summary as CSV, one line per file."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        err = r.get("error") or {}
        worst = r.get("worst") or {}
        size = r.get("size_mm") or [None, None, None]
        files = r.get("files") or {}
        counts = r.get("counts") or {}
        price = r.get("price") or {}
        values = [
            r["name"], r["source"], r["status"], r["verdict"], r["exit_code"], err.get("code"), err.get("name"),
            err.get("message"), worst.get("code"), worst.get("severity"), worst.get("message"),
            counts.get("error"), counts.get("warning"), counts.get("info"), r["bodies"], *size, r["tools"],
            r.get("cycle_time_s"), price.get("per_piece"), price.get("currency"), price.get("quantity"),
            files.get("json"), files.get("html"), files.get("gcode"),
            r.get("seconds"), r.get("sha256"), r.get("resumed"),
        ]
        w.writerow([_csv_cell(v) for v in values])
    return buf.getvalue()


def summary_json(summary: Mapping[str, Any]) -> str:
    """``summary.json`` text (stable key order of the rows as built)."""
    return json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def index_html(summary: Mapping[str, Any]) -> str:
    """``index.html``: a self-contained sortable table of every file (jinja2, autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dfm.batch", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    return env.get_template("index.html.j2").render(summary=summary, rows=summary["parts"])


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
