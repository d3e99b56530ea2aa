"""Where dfm finds the data it ships: rule files, schema."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """The folder holding the shipped rule data.

    In a wheel the top-level ``rules/`` folder is installed as ``dfm/_rules``; in a source
    checkout (editable install, tests) it is the repository's ``rules/``.
    """
    packaged = _PKG / "_rules"
    if packaged.is_dir():
        return packaged
    return _PKG.parent / "rules"


def schema_path() -> Path:
    """The JSON Schema of the ``dfm-result/1`` contract."""
    return _PKG / "schema" / "dfm-result-1.schema.json"
