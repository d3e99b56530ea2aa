from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "example_parts"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def schema_validator():
    import jsonschema

    from dfm.resources import schema_path

    schema = json.loads(schema_path().read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="session")
def part_dir(tmp_path_factory) -> Path:
    """Folder where generated test parts are cached for the session."""
    return tmp_path_factory.mktemp("parts")


@pytest.fixture(scope="session")
def make_part(part_dir):
    """Build a generator part once per session and return its STEP path."""
    import generators

    cache: dict[str, Path] = {}

    def _make(name: str, fn: str, **kwargs) -> Path:
        key = name
        if key not in cache:
            part = getattr(generators, fn)(**kwargs)
            cache[key] = generators.export_step(part, part_dir / f"{name}.step", name=name)
        return cache[key]

    return _make


@pytest.fixture(scope="module")
def build(part_dir, request):
    """Export a CadQuery part once per test module and return its STEP path (named by the module)."""
    import generators

    prefix = request.module.__name__.rsplit(".", 1)[-1]
    cache: dict[str, Path] = {}

    def _build(name: str, part) -> Path:  # type: ignore[no-untyped-def]
        if name not in cache:
            cache[name] = generators.export_step(part, part_dir / f"{prefix}_{name}.step", name=name)
        return cache[name]

    return _build
