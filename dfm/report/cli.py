"""``dfm report PART -o report.html``: the quote-review HTML report of one part."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``dfm report``."""
    from dfm.cli import EXIT_CODES, add_analysis_options

    p = sub.add_parser(
        "report",
        help="write the HTML quote-review report of a part",
        description="Analyse a STEP/BREP part and write one self-contained HTML file (pictures, findings, "
        "features, tools, finish sizes, machining plan, quote) that opens from an e-mail attachment.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("part", metavar="PART", help="STEP (.step/.stp) or BREP (.brep) file")
    p.add_argument("-o", "--output", metavar="FILE", help="the HTML file to write (default: PART with .html)")
    p.add_argument("--quote", metavar="FILE", help="quote settings TOML (default: the shipped rules/quote.toml)")
    p.add_argument("--no-pictures", action="store_true", help="leave the part pictures out")
    p.add_argument("--no-plan", action="store_true",
                   help="do not plan the machining (no cycle time, so the quote leaves machine time out)")
    add_analysis_options(p)
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from dfm import api, isolation
    from dfm.cli import limits_from_args, options_from_args
    from dfm.report import html

    settings = html.ReportSettings(quote=args.quote, pictures=not args.no_pictures)
    html.viewmodel.load_quote_settings(settings.quote)  # a bad settings file fails before the analysis
    limits = limits_from_args(args)
    opts = options_from_args(args)
    got = isolation.run_child("dfm.report.cli:report_part", (args.part, opts, not args.no_plan, settings.pictures,
                                                             settings.views, settings.size_px), limits=limits)
    cam, plan_note, pictures, pictures_note = None, "", None, ""
    if got.ok:
        result, cam, plan_note, pictures, pictures_note = got.value
    else:
        name, cause = (got.error or "worker-error", got.cause) if got.raised is None else ("worker-error",
                                                                                          str(got.raised))
        result = api.error_result(args.part, opts, name, cause)
    if result.status != "ok" and result.error is not None:
        print(f"dfm: {result.error.message}", file=sys.stderr)
        pictures = None  # the report says why there are none
    target = Path(args.output) if args.output else Path(args.part).with_suffix(".html")
    html.write_report(result, target, settings=settings, cam=cam, plan_note=plan_note, pictures=pictures,
                      pictures_note=pictures_note)
    print(f"dfm: wrote {target} ({result.verdict})", file=sys.stderr)
    return result.exit_code


def report_part(part: str, opts: Any, plan: bool, pictures: bool, views: tuple[str, ...],
                size_px: float) -> tuple[Any, Any, str, dict[int, Any] | None, str]:
    """What ``dfm report`` runs in the isolated process: the kernel work of the report.

    Returns:
        (result, cam summary, plan note, pictures by body, pictures note); the parent
        renders and writes the HTML.
    """
    from dfm import api
    from dfm.report import html

    result, cam, plan_note = None, None, ""
    if plan:
        result, cam, plan_note = _plan(part, opts)
    else:
        plan_note = "No machining plan: it was turned off for this report (--no-plan)."
    if result is None:
        result = api.analyze(part, opts)
    if not pictures:
        return result, cam, plan_note, {}, "No pictures: they were turned off for this report."
    if result.status != "ok":
        return result, cam, plan_note, None, ""
    pics, note = html.pictures_for(result, views, size_px)
    return result, cam, plan_note, pics, note


def _plan(part: str, opts: Any) -> tuple[Any, Any, str]:
    """Analyse and plan with ``dfm.cam`` when it is installed: (result or None, cam summary, note)."""
    import importlib

    from dfm.errors import DfmError

    try:
        gcode = importlib.import_module("dfm.cam.gcode")
    except ModuleNotFoundError as err:
        if err.name not in ("dfm.cam", "dfm.cam.gcode"):
            raise
        return None, None, "No machining plan: dfm.cam is not installed in this dfm."
    try:
        gen, result = gcode.generate(part, material=opts.material, tools=opts.tools, options=opts,
                                     timestamp=opts.generated_at)
    except DfmError as err:
        return None, None, f"No machining plan: {' '.join(str(err).split())}"
    return result, gen.summary(), ""
