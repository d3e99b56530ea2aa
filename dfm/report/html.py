"""The self-contained HTML quote-review report (``dfm report``, ``dfm check --html``).

One file, CSS, SVG pictures and script inline, that opens from an e-mail attachment and
makes no network request: a Content-Security-Policy forbids every fetch and allows only the
report's own script, by its SHA-256. Text from the part file (product names, file name) goes
through jinja2's autoescaping like everything else.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from dfm.errors import DfmError
from dfm.model import DfmResult
from dfm.report import viewmodel

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class ReportSettings:
    """How the report is made.

    Attributes:
        quote: Quote settings file (TOML); the shipped ``rules/quote.toml`` when None.
        views: Picture views (keys of ``dfm.kernel.render.VIEWS``).
        pictures: False to leave the pictures out (no geometry is read).
        size_px: Larger side of each picture in CSS px.

    """

    quote: str | Path | None = None
    views: tuple[str, ...] = ("iso", "top")
    pictures: bool = True
    size_px: float = 420.0


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """Return the CSP source expression (``sha256-...``) that allows exactly this inline script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def pictures_for(result: DfmResult, views: Sequence[str] = ("iso", "top"), size_px: float = 420.0
                 ) -> tuple[dict[int, list[Any]], str]:
    """Read the part again and draw each body; returns (pictures by body index, note).

    ``api.analyze`` does not keep the shape, so the file is loaded once more here. When that
    fails, the note says why and the report goes on without pictures.
    """
    if result.status != "ok":
        return {}, "No pictures: the file could not be analysed."
    try:
        from dfm import kernel
        from dfm.kernel import render

        loaded = kernel.load(result.file)
        out: dict[int, list[Any]] = {}
        for solid in loaded.solids:
            out[solid.index] = [render.picture(solid, view, size_px=size_px) for view in views]
        return out, ""
    except DfmError as err:
        return {}, f"No pictures: the geometry could not be read again ({err})."


def render_html(result: DfmResult, *, settings: ReportSettings | None = None,
                pictures: Mapping[int, Sequence[Any]] | None = None, cam: Any = None, plan_note: str = "",
                pictures_note: str = "") -> str:
    """Render the report of ``result`` as one HTML document.

    Args:
        result: The analysis.
        settings: Report settings.
        pictures: Pictures by body index; read from ``result.file`` when None and enabled
            (front ends that isolate the kernel draw them in the analysis process and pass them).
        cam: The machining plan, when the result does not carry it (``result.cam``).
        plan_note: Why there is no machining plan, when there is none.
        pictures_note: Why given ``pictures`` are missing, when they are.

    """
    s = settings or ReportSettings()
    note = pictures_note
    if pictures is None:
        if s.pictures:
            pictures, note = pictures_for(result, s.views, s.size_px)
        else:
            pictures, note = {}, "No pictures: they were turned off for this report."
    qs = viewmodel.load_quote_settings(s.quote)
    vm = viewmodel.build(result, pictures=pictures, quote_settings=qs, pictures_note=note, cam=cam,
                         plan_note=plan_note)
    script = _asset("report.js")
    return _env().get_template("report.html.j2").render(
        vm=vm,
        css=_safe(_asset("report.css")),
        script=_safe(script),
        script_hash=script_hash(script),
    )


def _safe(text: str) -> Any:
    from markupsafe import Markup

    if "</" in text:  # our own assets never close their element early
        raise DfmError("report asset contains '</', which would end its <style>/<script> element")
    return Markup(text)


def write_report(result: DfmResult, path: str | Path, *, settings: ReportSettings | None = None,
                 cam: Any = None, plan_note: str = "", pictures: Mapping[int, Sequence[Any]] | None = None,
                 pictures_note: str = "") -> Path:
    """Write the HTML report of ``result`` to ``path`` (atomically) and return the path.

    ``pictures``/``pictures_note`` as :func:`render_html` (None: drawn here from the file).
    """
    target = Path(path)
    html = render_html(result, settings=settings, cam=cam, plan_note=plan_note, pictures=pictures,
                       pictures_note=pictures_note)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
