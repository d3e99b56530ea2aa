"""Plain-text output of ``dfm check``: a summary line, then findings by severity."""

from __future__ import annotations

import re

from dfm.model import BodyResult, DfmResult, Finding, Severity
from dfm.report.viewmodel import UNKNOWN, direction_text, size_groups

__all__ = ["UNKNOWN", "render"]

_MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}
_HEAD = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Notes"}


def _fmt(v: float | None) -> str:
    if v is None or v != v:  # None or NaN: unknown
        return UNKNOWN
    return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else f"{v:.4g}"


#: Face sets listed for one block of identical findings; the rest are counted (the JSON lists each).
_PLACES_SHOWN = 20


def _finding_lines(f: Finding, where: str, places: list[Finding] | None = None) -> list[str]:
    """One finding's block, or one block for ``places``: findings that read the same at other faces."""
    places = places or [f]
    head = f"  {f.code} {f.name}"
    if where:
        head += f" [{where}]"
    if len(places) > 1:
        head += f" ({len(places)} places)"
    lines = [head, f"      {f.message}"]
    if f.value is not None and f.limit is not None:
        lines.append(f"      measured {_fmt(f.value)} {f.unit} vs limit {_fmt(f.limit)} {f.unit}".rstrip())
    sets = [", ".join(str(i) for i in p.faces) for p in places if p.faces]
    if sets:
        more = len(sets) - _PLACES_SHOWN
        shown = "; ".join(sets[:_PLACES_SHOWN]) + (f"; and {more} more (--format json lists each)" if more > 0 else "")
        lines.append(("      faces " if len(sets) == 1 else "      at faces ") + shown)
    if f.fix:
        lines.append(f"      fix: {f.fix}")
    return lines


def render(result: DfmResult) -> str:
    """The text report of one result."""
    if result.status != "ok":
        assert result.error is not None
        # not a DFM verdict: the file was not analysed (exit 2)
        return f"ERROR {result.file}: input error {result.error.code} {result.error.name}\n  {result.error.message}\n"
    counts = {s: 0 for s in Severity}
    for f in result.all_findings:
        counts[f.severity] += 1
    faces = sum(b.faces for b in result.bodies)
    size = ""
    if len(result.bodies) == 1:
        b = result.bodies[0]
        size = " x ".join(_fmt(v) for v in b.bbox_mm) + " mm, "
    material = result.settings.get("material")
    lines = [
        f"{_MARK[result.verdict]} {result.file}: {_n(len(result.bodies), 'body', 'bodies')}, {_n(faces, 'face')}, "
        f"{size}{_n(counts[Severity.ERROR], 'error')}, {_n(counts[Severity.WARNING], 'warning')}, "
        f"{_n(counts[Severity.INFO], 'note')}"
        + (f", material {material}" if material else "")
        + (f" (source units: {result.source_units})" if result.source_units not in ("mm", "unknown") else "")
    ]
    many = len(result.bodies) > 1
    for b in result.bodies:
        line = _access_line(b)
        if line:
            lines.append(f"  body {b.index} {line}" if many else f"  {line}")
    for b in result.bodies:
        lines.extend(_size_lines(b, f"body {b.index} " if many else ""))
    rows: list[tuple[Finding, int, str]] = [(f, 0, "") for f in result.findings]
    for b in result.bodies:
        rows.extend((f, b.index, b.name) for f in b.findings)
    for sev in Severity:
        group = sorted((r for r in rows if r[0].severity is sev), key=lambda r: (r[1], _natural(r[0])))
        if not group:
            continue
        # The same finding on several bodies (e.g. the assumed material) is printed once.
        merged: dict[Finding, list[tuple[int, str]]] = {}
        for f, index, name in group:
            merged.setdefault(f, []).append((index, name))
        # The same finding at other faces (16 sharp corners alike) is printed once, with every place.
        alike: dict[tuple, list[Finding]] = {}  # type: ignore[type-arg]
        where: dict[tuple, str] = {}  # type: ignore[type-arg]
        for f, bodies in merged.items():
            key = (f.code, f.name, f.message, f.value, f.limit, f.unit, f.fix, tuple(bodies))
            alike.setdefault(key, []).append(f)
            where[key] = _where(bodies) if many else ""
        lines.append(f"{_HEAD[sev]} ({len(group)}):")
        for key, same in alike.items():
            lines.extend(_finding_lines(same[0], where[key], same))
    return "\n".join(lines) + "\n"


def _size_lines(b: BodyResult, prefix: str) -> list[str]:
    """The pre-finish (machine-to) sizes a finish asks for, one line a size (the report's table, grouped)."""
    groups = size_groups(b)
    if not groups:
        return []
    out = [f"  {prefix}pre-finish sizes ({len(groups)}): machine to"]
    for g in groups:
        for row in g.rows:
            out.append(f"    {g.kind} {g.size}: {row.premachine} (finished {row.finished}, growth {row.growth}, "
                       f"{row.source}; faces {g.faces_text})")
    return out


def _access_line(b: BodyResult) -> str:
    """``setups: +Z (2 features), −X (1 feature); undercut faces: 5`` (empty without an access model)."""
    acc = b.access or {}
    if "setups" not in acc and "undercut_faces" not in acc:
        return ""
    setups = []
    for s in acc.get("setups") or ():
        n = s.get("features")
        setups.append(direction_text(s.get("approach")) +
                      (f" ({n} feature{'' if n == 1 else 's'})" if isinstance(n, int) else ""))
    return f"setups: {', '.join(setups) or 'none'}; undercut faces: {len(acc.get('undercut_faces') or ())}"


def _natural(f: Finding) -> tuple:  # type: ignore[type-arg]
    """The finding's sort key with the numbers in its message compared as numbers (body 2 < body 10)."""
    rank, code, faces, message = f.sort_key()
    parts = tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", message) if t)
    return (rank, code, faces, parts)


def _where(bodies: list[tuple[int, str]]) -> str:
    if bodies == [(0, "")]:
        return ""
    if len(bodies) == 1:
        return f"body {bodies[0][0]} {bodies[0][1]}"
    return "bodies " + ", ".join(str(i) for i, _ in bodies)


def _n(count: int, word: str, plural: str | None = None) -> str:
    """``1 body``, ``2 bodies``, ``0 errors``."""
    return f"{count} {word if count == 1 else (plural or word + 's')}"
