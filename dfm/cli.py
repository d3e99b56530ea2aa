"""The ``dfm`` command line: thin over :mod:`dfm.api`.

Exit codes (every command):
  0  every part read, no error-severity finding
  1  at least one part has an error-severity finding (it fails DFM)
  2  at least one input could not be read or a setting is wrong (input error)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from dfm import __version__
from dfm.errors import DfmError

EXIT_CODES = """exit codes:
  0  every part was read and none has an error-severity finding
  1  at least one part has error-severity findings (it fails DFM)
  2  input error: a file could not be read (missing, not STEP/BREP, corrupt, empty,
     no solid, invalid solid) or a setting/rule/spec file is wrong"""

#: Modules that add further sub-commands; each has ``add_parser(subparsers)`` which
#: registers its parser and sets ``func`` (``func(args) -> int``) as the handler.
COMMAND_MODULES: tuple[str, ...] = (
    "dfm.rules.cli",
    "dfm.tooling.cli",
    "dfm.cam.cli",
    "dfm.report.cli",
    "dfm.batch.cli",
)


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Options every command that analyses a part shares."""
    p.add_argument("--spec", metavar="FILE", help="part specification TOML (default: PART.dfm.toml beside the part)")
    p.add_argument("--profile", metavar="FILE", help="your own profile or rule file (TOML)")
    p.add_argument("--material", metavar="NAME",
                   help="material, e.g. 6061-T6, 7075-T6, 303, 316L, Ti-6Al-4V, brass, PEEK")
    p.add_argument("--finish", metavar="NAME", help="finish, e.g. none, anodize-ii, anodize-iii, passivate")
    p.add_argument("--tools", metavar="FILE", help="your own tool catalogue (TOML)")
    p.add_argument("--machine", metavar="NAME",
                   help="machine profile, e.g. hsm-60k (default), vmc-15k (`dfm rules --profiles`)")
    p.add_argument("--timestamp", metavar="ISO",
                   help="timestamp to stamp on results (default: none, for reproducible output)")


def options_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """``api.Options`` from the shared analysis options."""
    from dfm.api import Options

    return Options(
        spec=getattr(args, "spec", None),
        profile=getattr(args, "profile", None),
        material=getattr(args, "material", None),
        finish=getattr(args, "finish", None),
        tools=getattr(args, "tools", None),
        generated_at=getattr(args, "timestamp", None),
        extra={"machine": args.machine} if getattr(args, "machine", None) else {},
    )


def _cmd_check(args: argparse.Namespace) -> int:
    from dfm import api
    from dfm.report import jsonout, text

    opts = options_from_args(args)
    results = []
    for part in args.parts:
        result = api.analyze(part, opts)
        results.append(result)
        if result.status != "ok" and result.error is not None:
            print(f"dfm: {result.error.message}", file=sys.stderr)
        if getattr(args, "html", None):
            _write_html(result, args, len(args.parts))
    if args.format == "json":
        out = jsonout.dumps(results[0] if len(results) == 1 else results)
    else:
        out = "\n".join(text.render(r) for r in results)
    _emit(out, args.output)
    return max(r.exit_code for r in results)


def _write_html(result, args: argparse.Namespace, n_parts: int) -> None:  # type: ignore[no-untyped-def]
    try:
        report = importlib.import_module("dfm.report.html")
    except ModuleNotFoundError:
        raise DfmError("the HTML report is not available in this installation") from None
    target = Path(args.html)
    if n_parts > 1:
        target.mkdir(parents=True, exist_ok=True)
        target = target / (Path(result.file).stem + ".html")
    report.write_report(result, target)


def _emit(text_out: str, output: str | None) -> None:
    if output and output != "-":
        Path(output).parent.mkdir(parents=True, exist_ok=True)  # as gcode -o, report -o and --html do
        Path(output).write_text(text_out, encoding="utf-8")
    else:
        sys.stdout.write(text_out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="dfm",
        description="Design-for-manufacturability checks for micro-milled parts (STEP/BREP in, findings out).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dfm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check",
        help="analyse STEP/BREP files and print the findings",
        description="Analyse STEP (AP203/AP214/AP242) or OpenCASCADE BREP files. Lengths in mm whatever the "
        "file declares; faces are numbered 1.. as FreeCAD's FaceN.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("parts", nargs="+", metavar="PART", help="STEP (.step/.stp) or BREP (.brep) files")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for machines (one object, or an array for several parts)")
    check.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE instead of stdout")
    check.add_argument("--html", metavar="FILE", help="also write the HTML report (a folder when several parts)")
    add_analysis_options(check)
    check.set_defaults(func=_cmd_check)

    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is not None and name.startswith(err.name):
                continue  # that front end is not part of this installation yet
            raise
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except DfmError as err:
        print(f"dfm: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dfm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as err:  # an output folder that cannot be written, a disk that is full...
        where = f"{err.filename}: " if err.filename else ""
        print(f"dfm: {where}{err.strerror or err}", file=sys.stderr)
        return 2
