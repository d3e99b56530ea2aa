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
from typing import Any

from dfm import __version__
from dfm.errors import DfmError

#: Same defaults as dfm.isolation (not imported here, so that `dfm --help` stays light).
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 4096

EXIT_CODES = """exit codes:
  0  every part was read and none has an error-severity finding
  1  at least one part has error-severity findings (it fails DFM)
  2  input error: a file could not be read (missing, not STEP/BREP, corrupt, empty,
     no solid, invalid solid, not read whole) or its analysis crashed, timed out or ran
     out of memory (DFM913/914/915), or a setting/rule/spec file is wrong

Each file is read and analysed in its own process (--timeout, --memory): a file that
crashes or hangs the geometry kernel is one error line, and the other files go on."""

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
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"seconds one file's analysis may take before its process is stopped "
                   f"(default {DEFAULT_TIMEOUT_S:g}; 0: no limit) [DFM914]")
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                   help=f"address-space cap of one file's analysis process in MiB (default {DEFAULT_MEMORY_MB}; "
                   "0: no cap) [DFM915]. It counts virtual memory, about 600 MiB of which is the loaded "
                   "kernel libraries; a cap dfm itself does not fit in is refused")
    p.add_argument("--in-process", action="store_true",
                   help="read and analyse in this process: no time limit, no memory cap, and a crash of the "
                   "geometry kernel ends dfm (for debugging, profiling and files you trust)")


def limits_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """``isolation.Limits`` from ``--timeout``/``--memory`` (0: none), checked.

    Raises:
        UsageError: A negative value, or a memory cap below what dfm's process itself takes.
    """
    from dfm import isolation
    from dfm.errors import UsageError

    timeout = getattr(args, "timeout", DEFAULT_TIMEOUT_S)
    memory = getattr(args, "memory", DEFAULT_MEMORY_MB)
    if timeout is None or timeout < 0 or memory is None or memory < 0:
        raise UsageError("--timeout and --memory must be >= 0 (0: no limit)")
    if getattr(args, "in_process", False):
        return isolation.Limits(timeout=None, memory_mb=None, in_process=True)
    limits = isolation.Limits(timeout=timeout or None, memory_mb=memory or None)
    isolation.check_limits(limits)
    return limits


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
    from dfm import api, isolation
    from dfm.report import jsonout, text

    limits = limits_from_args(args)
    opts = options_from_args(args)
    html_to = html_targets(args.parts, args.html) if getattr(args, "html", None) else {}
    report = _html_module() if html_to else None
    results = []
    for part in args.parts:
        got = isolation.run_child("dfm.cli:check_part", (part, opts, bool(html_to)), limits=limits)
        pictures: dict[int, Any] = {}
        note = ""
        if got.ok:
            result, pictures, note = got.value
        else:
            name, cause = (got.error or "worker-error", got.cause) if got.raised is None else ("worker-error",
                                                                                              str(got.raised))
            result = api.error_result(part, opts, name, cause)
        results.append(result)
        if result.status != "ok" and result.error is not None:
            print(f"dfm: {result.error.message}", file=sys.stderr)
        if report is not None:
            shown = pictures if result.status == "ok" else None  # None: the report says why there are none
            report.write_report(result, html_to[part], pictures=shown, pictures_note=note)
    if args.format == "json":
        out = jsonout.dumps(results[0] if len(results) == 1 else results)
    else:
        out = "\n".join(text.render(r) for r in results)
    _emit(out, args.output)
    return max(r.exit_code for r in results)


def check_part(part: str, opts: Any, pictures: bool) -> tuple[Any, dict[int, Any], str]:
    """What ``dfm check`` runs in the isolated process: (result, pictures by body, note)."""
    from dfm import api

    result = api.analyze(part, opts)
    if not pictures or result.status != "ok":
        return result, {}, ""
    pics, note = _html_module().pictures_for(result)
    return result, pics, note


def _html_module() -> Any:
    try:
        return importlib.import_module("dfm.report.html")
    except ModuleNotFoundError:
        raise DfmError("the HTML report is not available in this installation") from None


def html_targets(parts: Sequence[str], html: str) -> dict[str, Path]:
    """Where ``--html`` writes each part's report.

    The file itself for one part, else one file per part in the folder, named apart when
    stems clash (``a/part.stp``, ``b/part.stp`` give ``a__part.html``, ``b__part.html``).
    """
    from pathlib import PurePosixPath

    from dfm.batch.output import assign_names

    target = Path(html)
    unique = list(dict.fromkeys(parts))
    if len(unique) == 1:
        return {unique[0]: target}
    names = assign_names([(p, PurePosixPath(Path(p).name)) for p in unique])
    return {p: target / f"{n}.html" for p, n in zip(unique, names, strict=True)}


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
    from dfm import isolation

    previous = isolation.install_sigterm()
    try:
        return int(args.func(args))
    except DfmError as err:
        print(f"dfm: {err}", file=sys.stderr)
        return 2
    except isolation.Terminated:
        isolation.kill_all()
        print("dfm: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        isolation.kill_all()
        print("dfm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as err:  # an output folder that cannot be written, a disk that is full...
        where = f"{err.filename}: " if err.filename else ""
        print(f"dfm: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    finally:
        isolation.restore_sigterm(previous)
