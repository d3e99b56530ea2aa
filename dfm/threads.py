"""The micro thread table (``rules/data/threads.toml``): lookups by tap drill and by size."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

from dfm.errors import RuleError
from dfm.resources import rules_dir


@dataclass(frozen=True)
class ThreadSize:
    """One row of the thread table (mm)."""

    designation: str
    system: str
    series: str
    major_mm: float
    pitch_mm: float
    pitch_diameter_mm: float | None
    minor_internal_mm: float | None
    minor_internal_min_mm: float | None
    minor_internal_max_mm: float | None
    tap_drills_mm: tuple[float, ...]
    pd_tolerance_6h_um: float | None
    confirmed: bool


@functools.cache
def thread_table() -> tuple[ThreadSize, ...]:
    """All rows, in file order."""
    path = rules_dir() / "data" / "threads.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    rows = []
    for i, r in enumerate(data.get("thread", [])):
        try:
            drills = tuple(
                float(r[k]) for k in ("tap_drill_mm", "tap_drill_alt_mm", "tap_drill_metric_mm",
                                      "tap_drill_metric_alt_mm") if k in r
            )
            rows.append(ThreadSize(
                designation=r["designation"], system=r["system"], series=r.get("series", ""),
                major_mm=float(r["major_mm"]), pitch_mm=float(r["pitch_mm"]),
                pitch_diameter_mm=r.get("pitch_diameter_mm"), minor_internal_mm=r.get("minor_internal_mm"),
                minor_internal_min_mm=r.get("minor_internal_min_mm"),
                minor_internal_max_mm=r.get("minor_internal_max_mm"), tap_drills_mm=drills,
                pd_tolerance_6h_um=r.get("pd_tolerance_6H_um"), confirmed=bool(r.get("confirmed", False)),
            ))
        except (KeyError, TypeError, ValueError) as err:
            raise RuleError(path, f"thread[{i}]", f"bad row: {err}") from err
    return tuple(rows)


def by_designation(name: str) -> ThreadSize | None:
    """The row for ``M1.6x0.35``, ``M1.6`` (coarse), ``0.80 UNM``, ``2-56 UNC`` (case/space-insensitive)."""
    key = name.replace(" ", "").replace("×", "x").lower()
    for row in thread_table():
        if row.designation.replace(" ", "").lower() == key:
            return row
    for row in thread_table():  # "M1.6" means the coarse pitch
        if row.series == "coarse" and row.designation.lower().split("x")[0] == key:
            return row
    return None


def tap_drill_candidates(diameter_mm: float, tol_mm: float = 0.005) -> list[ThreadSize]:
    """Threads whose tap drill is ``diameter_mm`` (± tol), closest first.

    A hole of that size is only a *candidate* thread: nothing says it is tapped.
    """
    hits = []
    for row in thread_table():
        if not row.tap_drills_mm:
            continue
        d = min(abs(t - diameter_mm) for t in row.tap_drills_mm)
        if d <= tol_mm:
            hits.append((d, row.series != "coarse", row.designation, row))
    return [h[-1] for h in sorted(hits)]


def nearest_thread(major_mm: float, pitch_mm: float) -> ThreadSize | None:
    """The table row that matches a measured major diameter and pitch, if one is close.

    Matches when the pitch is within 3 % and the major diameter within max(0.03 mm, 3 %).
    """
    best = None
    for row in thread_table():
        dp = abs(row.pitch_mm - pitch_mm) / row.pitch_mm
        dd = abs(row.major_mm - major_mm)
        if dp <= 0.03 and dd <= max(0.03, 0.03 * row.major_mm):
            score = dp + dd / row.major_mm
            if best is None or score < best[0]:
                best = (score, row)
    return best[1] if best else None
