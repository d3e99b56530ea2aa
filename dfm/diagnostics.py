"""Input and geometry diagnostics (DFM9xx), defined as data in ``rules/input.toml``."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from dfm.errors import InputError, RuleError
from dfm.model import Finding, Severity, Vec3
from dfm.resources import rules_dir


@dataclass(frozen=True)
class Diagnostic:
    """One DFM9xx definition."""

    code: str
    name: str
    severity: Severity
    summary: str
    why: str
    fix: str


@functools.cache
def diagnostics() -> dict[str, Diagnostic]:
    """All input diagnostics by name."""
    path = rules_dir() / "input.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: dict[str, Diagnostic] = {}
    for i, row in enumerate(data.get("rule", [])):
        try:
            diag = Diagnostic(
                code=row["code"],
                name=row["name"],
                severity=Severity(row["severity"]),
                summary=row["summary"],
                why=row["why"],
                fix=row["fix"],
            )
        except (KeyError, ValueError) as err:
            raise RuleError(path, f"rule[{i}]", f"bad input diagnostic: {err}") from err
        out[diag.name] = diag
    return out


def input_error(name: str, path: str | Path, cause: str) -> InputError:
    """Build the InputError for diagnostic ``name`` (e.g. ``corrupt-file``)."""
    diag = diagnostics()[name]
    return InputError(diag.code, diag.name, path, cause)


def finding(
    name: str,
    message: str,
    *,
    value: float | None = None,
    limit: float | None = None,
    unit: str = "",
    faces: tuple[int, ...] = (),
    location_mm: Vec3 | None = None,
) -> Finding:
    """A file-level finding for diagnostic ``name`` (a warning or info)."""
    diag = diagnostics()[name]
    return Finding(
        code=diag.code,
        name=diag.name,
        severity=diag.severity,
        message=message,
        value=value,
        limit=limit,
        unit=unit,
        faces=faces,
        location_mm=location_mm,
        why=diag.why,
        fix=diag.fix,
    )
