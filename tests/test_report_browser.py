"""The HTML report in real headless Chromium: no console error, no network request, no injected script.

Needs Debian's ``chromium`` and the ``playwright`` Python package (which drives it; its own
browser download is never used). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_support import TIMESTAMP, bare_result, synthetic

from dfm.report import html

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path):
    """Load ``path``; return (page, console errors, page errors, requests, dialogs)."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    def _dialog(d):
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", _dialog)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, errors, page_errors, requests, dialogs


def test_report_loads_clean_and_highlights_faces(browser, make_part, monkeypatch):
    step = make_part("plate_with_pockets", "plate_with_pockets")
    result, cam = synthetic("plate_with_pockets",
                            bare_result(step, monkeypatch, material="6061-T6", finish="anodize-ii"))
    ARTIFACTS.mkdir(exist_ok=True)
    target = html.write_report(result, ARTIFACTS / "report-plate_with_pockets.html", cam=cam)
    page, errors, page_errors, requests, dialogs = _open(browser, target)
    try:
        assert errors == [] and page_errors == [], (errors, page_errors)
        assert requests == [target.resolve().as_uri()], requests  # the file itself, nothing else
        assert page.evaluate("document.documentElement.classList.contains('js')")  # the script ran (CSP hash ok)
        assert page.locator("svg.part").count() == 2
        # Severity badges and words in table cells are never split across lines ("warnin|g"), even
        # in a window as narrow as a laptop's half screen.
        page.set_viewport_size({"width": 900, "height": 1200})
        lines = page.eval_on_selector_all(".sev", "els => els.map(e => e.getClientRects().length)")
        assert lines and set(lines) == {1}, lines
        heights = page.eval_on_selector_all(".sev", "els => els.map(e => e.getBoundingClientRect().height)")
        assert max(heights) < 1.8 * min(heights), heights
        # Hovering the thin-wall finding lights up its faces (13, 22) in the pictures, and only those.
        row = page.locator('tr.finding[data-faces="13 22"]')
        row.hover()
        lit = page.eval_on_selector_all("svg.part g.hl", "els => els.map(e => e.getAttribute('data-face'))")
        assert lit and set(lit) == {"22"}, lit  # face 13 faces away from the iso view and is under the top view
        caption = page.locator("svg.part[data-view='iso'] + figcaption + .pic-caption").inner_text()
        assert caption == "Faces 13, 22 (not visible in this view: 13)"
        fill = page.eval_on_selector("svg.part g.hl path.f", "e => getComputedStyle(e).fill")
        assert fill == "rgb(255, 210, 31)"
        # Click pins it; the mouse leaving keeps it; a second click clears it.
        row.click()
        page.mouse.move(5, 5)
        assert page.locator("svg.part g.hl").count() > 0
        page.screenshot(path=str(ARTIFACTS / "report-plate_with_pockets.png"), full_page=True)
        row.click()
        # the click leaves the mouse on the row, whose hover may light it again: off the row, nothing is lit
        page.mouse.move(5, 5)
        page.wait_for_function("document.querySelectorAll('svg.part g.hl').length === 0", timeout=5000)
        assert page.locator("svg.part g.hl").count() == 0
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report-plate_with_pockets.pdf"), format="A4")
        assert errors == [] and page_errors == [] and dialogs == []
        assert requests == [target.resolve().as_uri()], requests
    finally:
        page.close()


def test_script_in_product_and_file_name_is_shown_not_run(browser, make_part, tmp_path, monkeypatch):
    evil = "<script>alert(1)</script>"
    import generators

    # A file name cannot hold '/', so the file name carries an <img onerror> instead.
    evil_file = "<img src=x onerror=alert(2)>part"
    step = generators.export_step(generators.slotted_block(), tmp_path / f"{evil_file}.step", name=evil)
    result = bare_result(step, monkeypatch)
    assert evil in result.product_names or result.bodies[0].name == evil, (result.product_names, result.bodies)
    ARTIFACTS.mkdir(exist_ok=True)
    target = html.write_report(result, tmp_path / "evil.html")
    page, errors, page_errors, requests, dialogs = _open(browser, target)
    try:
        text = page.inner_text("body")
        assert evil in text
        assert f"{evil_file}.step" in text
        assert dialogs == [], dialogs
        assert page.locator("script").count() == 1  # only the report's own
        assert page.locator("img").count() == 0
        assert errors == [] and page_errors == [], (errors, page_errors)
        assert requests == [target.resolve().as_uri()], requests
        page.screenshot(path=str(ARTIFACTS / "report-xss.png"), full_page=False)
    finally:
        page.close()


def test_injected_script_would_be_blocked_by_the_policy(browser, tmp_path, make_part, monkeypatch):
    """Belt and braces: were the escaping ever broken, the page's CSP still refuses a foreign script."""
    step = make_part("slotted_block", "slotted_block")
    out = html.render_html(bare_result(step, monkeypatch), settings=html.ReportSettings(pictures=False))
    poisoned = out.replace("<main>", "<main><script>document.title='pwned'</script><img src=x onerror=alert(3)>", 1)
    target = tmp_path / "poisoned.html"
    target.write_text(poisoned, encoding="utf-8")
    page, errors, page_errors, requests, dialogs = _open(browser, target)
    try:
        assert page.title() != "pwned"
        assert dialogs == []
        assert any("Content Security Policy" in e for e in errors), errors
        assert all(r.startswith("file://") for r in requests), requests
    finally:
        page.close()


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(x) for x in css.removeprefix("rgb(").removesuffix(")").split(","))


def _shade_of(rgb: tuple[int, ...], base: tuple[int, int, int]) -> bool:
    """Whether ``rgb`` is ``base`` times one shade factor (each channel rounded)."""
    k = rgb[2] / base[2]
    return all(abs(c - b * k) <= 1.0 for c, b in zip(rgb, base, strict=True))


def test_undercut_faces_get_their_colour_and_finding_links_pin(browser, make_part):
    """A T-slot block (CadQuery) through the real analysis: its undercut faces are violet, with a legend."""
    from dfm import api
    from dfm.report import viewmodel

    result = api.analyze(make_part("report-tslot", "t_slot_block"), generated_at=TIMESTAMP)
    under = set(result.bodies[0].access["undercut_faces"])
    assert under
    ARTIFACTS.mkdir(exist_ok=True)
    target = html.write_report(result, ARTIFACTS / "report-t_slot.html", settings=html.ReportSettings(
        views=("iso", "top", "front")))
    page, errors, page_errors, requests, dialogs = _open(browser, target)
    try:
        assert page.evaluate("document.documentElement.classList.contains('js')")
        legend = page.eval_on_selector_all(
            ".legend span",
            "els => els.map(e => [e.textContent, getComputedStyle(e.querySelector('i')).backgroundColor])")
        assert ["undercut (no straight cutter reaches it)", "rgb(142, 68, 173)"] in legend, legend
        drawn = page.eval_on_selector_all("svg.part g[data-face]", """els => els.map(g => [
            Number(g.getAttribute('data-face')), g.classList.contains('undercut'),
            getComputedStyle(g.querySelector('path.f')).fill])""")
        seen = {face for face, _uc, _fill in drawn}
        assert seen & under, (seen, under)  # the views show some of the head
        for face, uc, fill in drawn:
            assert uc == (face in under), face
            violet = _shade_of(_rgb(fill), viewmodel.UNDERCUT_COLOUR)
            assert violet == (face in under), (face, fill)
        page.locator("#pictures").screenshot(path=str(ARTIFACTS / "report-t_slot-undercut.png"))
        # pointing at the undercut row lights exactly its drawn faces
        page.locator("tr.undercut").first.hover()
        page.wait_for_function("document.querySelectorAll('svg.part g.hl').length > 0", timeout=10000)
        lit = set(page.eval_on_selector_all("svg.part g.hl",
                                            "els => els.map(e => Number(e.getAttribute('data-face')))"))
        assert lit == seen & under, (lit, under)
        fill = page.eval_on_selector("svg.part g.hl path.f", "e => getComputedStyle(e).fill")
        assert fill == "rgb(255, 210, 31)"  # the selection colour wins over the violet
        page.mouse.move(5, 5)
        # the DFM650 link in the access table pins its finding row and lights that finding's faces
        link = page.locator("#access a.finding-link", has_text="DFM650").first
        anchor = link.get_attribute("href").removeprefix("#")
        link.click()
        page.wait_for_function(f"document.getElementById('{anchor}').classList.contains('pinned')", timeout=10000)
        faces = page.get_attribute(f"#{anchor}", "data-faces").split()
        page.mouse.move(5, 5)
        lit = set(page.eval_on_selector_all("svg.part g.hl", "els => els.map(e => e.getAttribute('data-face'))"))
        assert lit and lit <= set(faces), (lit, faces)
        assert page.evaluate("location.hash") == f"#{anchor}"
        assert page.locator("tr.pinned").count() == 1  # the access row the link sits in is not pinned too
        page.screenshot(path=str(ARTIFACTS / "report-t_slot.png"), full_page=True)
        assert errors == [] and page_errors == [] and dialogs == [], (errors, page_errors, dialogs)
        assert requests == [target.resolve().as_uri()], requests  # following an in-page link loads nothing
    finally:
        page.close()


def test_pre_machining_sizes_table_groups_rows_and_lights_their_faces(browser, make_part):
    """The anodized lens barrel (CadQuery): one table body per (kind, finished size); a row lights its faces."""
    from dfm import api

    result = api.analyze(make_part("lens_barrel", "lens_barrel"), finish="anodize-ii", generated_at=TIMESTAMP)
    ARTIFACTS.mkdir(exist_ok=True)
    target = html.write_report(result, ARTIFACTS / "report-lens_barrel-anodize.html")
    page, errors, page_errors, requests, dialogs = _open(browser, target)
    try:
        groups = page.eval_on_selector_all("#sizes tbody.size-group", """els => els.map(b => [
            b.getAttribute('data-kind'), b.querySelector('th').textContent, b.querySelectorAll('tr').length])""")
        allowances = [f for f in result.bodies[0].features if f.kind == "anodize_allowance"]
        assert groups and sum(n for _k, _s, n in groups) == len(allowances)
        sizes = [float(s.split()[0].lstrip("Ø")) for _k, s, _n in groups]
        assert sizes == sorted(sizes)
        row = page.locator("#sizes tr[data-faces]").first
        row.hover()
        page.wait_for_function("document.querySelectorAll('svg.part g.hl').length > 0", timeout=10000)
        lit = set(page.eval_on_selector_all("svg.part g.hl", "els => els.map(e => e.getAttribute('data-face'))"))
        assert lit <= set(row.get_attribute("data-faces").split())
        page.locator("#sizes").screenshot(path=str(ARTIFACTS / "report-lens_barrel-sizes.png"))
        assert errors == [] and page_errors == [] and dialogs == [], (errors, page_errors, dialogs)
        assert requests == [target.resolve().as_uri()], requests
    finally:
        page.close()
