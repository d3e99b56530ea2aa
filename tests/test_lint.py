"""ruff and mypy report nothing (config in pyproject.toml), so CI keeps the tree clean."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this environment (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_ruff_check_is_clean():
    proc = _run("ruff", "check", ".", "--output-format", "concise")
    assert proc.returncode == 0, f"ruff check . failed:\n{proc.stdout}{proc.stderr}"


def test_mypy_is_clean():
    proc = _run("mypy", "dfm")
    assert proc.returncode == 0, f"mypy dfm failed:\n{proc.stdout}{proc.stderr}"
