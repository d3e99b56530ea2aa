"""HTML reports of the generator parts compared with gold files (dates, paths and SVG path data scrubbed).

Regenerate after an intended change of the report with
``DFM_UPDATE_GOLD=1 python -m pytest tests/test_report_gold.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_support import GOLD, PARTS, TIMESTAMP, bare_result, scrub, synthetic

from dfm.report import html

OPTIONS = {
    "plate_with_pockets": {"material": "6061-T6", "finish": "anodize-ii"},
    "slotted_block": {"material": "303"},
    "holes_block": {"material": "6061-T6"},
    "lens_barrel": {},
}


@pytest.mark.parametrize("name", sorted(PARTS))
def test_report_matches_gold(name, make_part, monkeypatch):
    fn, kwargs = PARTS[name]
    path = make_part(name, fn, **kwargs)
    result, cam = synthetic(name, bare_result(path, monkeypatch, **OPTIONS[name]))
    out = html.render_html(result, cam=cam)
    assert TIMESTAMP in out
    got = scrub(out, str(path), str(path.parent)).replace(TIMESTAMP, "TIMESTAMP")
    gold = GOLD / f"{name}.html"
    if os.environ.get("DFM_UPDATE_GOLD"):
        gold.parent.mkdir(parents=True, exist_ok=True)
        gold.write_text(got, encoding="utf-8")
    assert gold.exists(), f"no gold file {gold}; run with DFM_UPDATE_GOLD=1"
    want = gold.read_text(encoding="utf-8")
    if got != want:
        import difflib

        diff = "".join(list(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "gold", "now"))[:60])
        pytest.fail(f"{name}: report differs from {gold} (DFM_UPDATE_GOLD=1 to accept):\n{diff}")


def test_gold_files_are_scrubbed():
    for gold in sorted(GOLD.glob("*.html")):
        text = gold.read_text(encoding="utf-8")
        assert "/tmp" not in text and "pytest-" not in text, gold
        # CI runs from another checkout folder: no absolute path of this one may be baked in.
        assert str(Path(__file__).resolve().parents[1]) not in text, gold
        assert "2026-01-01" not in text, gold
