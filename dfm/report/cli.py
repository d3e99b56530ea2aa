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
    from dfm import api
    from dfm.cli import options_from_args
    from dfm.report import html

    settings = html.ReportSettings(quote=args.quote, pictures=not args.no_pictures)
    html.viewmodel.load_quote_settings(settings.quote)  # a bad settings file fails before the analysis
    opts = options_from_args(args)
    result, cam, plan_note = None, None, ""
    if not args.no_plan:
        result, cam, plan_note = _plan(args.part, opts)
    else:
        plan_note = "No machining plan: it was turned off for this report (--no-plan)."
    if result is None:
        result = api.analyze(args.part, opts)
    if result.status != "ok" and result.error is not None:
        print(f"dfm: {result.error.message}", file=sys.stderr)
    target = Path(args.output) if args.output else Path(args.part).with_suffix(".html")
    html.write_report(result, target, settings=settings, cam=cam, plan_note=plan_note)
    print(f"dfm: wrote {target} ({result.verdict})", file=sys.stderr)
    return result.exit_code


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
