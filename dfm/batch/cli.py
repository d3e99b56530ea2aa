"""``dfm batch``: the command line of :mod:`dfm.batch`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from dfm.errors import UsageError

EXIT_CODES = """exit codes:
  0    every file was read and no part fails DFM
  1    at least one part has error-severity findings (it fails DFM)
  2    at least one file could not be analysed (unreadable, not a regular file, unsafe,
       corrupt or oversized archive, not read whole,
       crash, timeout or memory cap of its analysis); its error is in summary.json/csv;
       or --memory is below what dfm itself needs
  130  interrupted (Ctrl-C or SIGTERM): the analysis processes are killed, finished parts
       are kept, a re-run does the rest

outputs in DIR: NAME.json (dfm-result/1) and NAME.html per part (NAME.ngc with --gcode),
index.html, summary.json, summary.csv. Parts whose content and settings are unchanged
since the last run into DIR are not analysed again."""


def add_parser(subparsers: Any) -> None:
    """Register ``dfm batch``."""
    from dfm.batch.inputs import ZipLimits
    from dfm.cli import add_analysis_options

    p = subparsers.add_parser(
        "batch",
        help="analyse many STEP/BREP files (folders, globs, zip archives) in isolated processes",
        description="Analyse every part of a set of uploads, each in its own process with a time limit and a "
        "memory cap, locally or on a Dask cluster; write one report per part and an index.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="STEP/BREP files, folders (searched recursively), globs ('uploads/**/*.stp') or .zip archives")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="files analysed at once on this machine (default: number of CPUs)")
    p.add_argument("--gcode", action="store_true", help="also write each part's milling program (NAME.ngc)")
    p.add_argument("--scheduler", metavar="URL",
                   help="run on a Dask distributed cluster (tcp://HOST:8786) instead of this machine; "
                   "files are sent to the workers, so they need no shared file system")
    p.add_argument("--max-unzipped", type=int, default=2048, metavar="MB",
                   help="most bytes one zip archive may inflate to (default 2048)")
    p.add_argument("--max-ratio", type=float, default=100.0, metavar="R",
                   help="largest compression ratio of a zip member (default 100)")
    p.add_argument("--max-members", type=int, default=ZipLimits().max_members, metavar="N",
                   help=f"most members one zip archive may list (default {ZipLimits().max_members}); each part "
                   "takes seconds to analyse, so a zip of 10 000 tiny members is refused as DFM912")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress display: a bar on a terminal, log lines otherwise (default auto)")
    add_analysis_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``dfm batch``."""
    from dfm.batch import BatchConfig, ZipLimits, run_batch
    from dfm.cli import limits_from_args, options_from_args

    if args.jobs < 1:
        raise UsageError(f"-j must be at least 1, not {args.jobs}")
    if getattr(args, "in_process", False):
        raise UsageError("--in-process: dfm batch always analyses each file in a process of its own")
    if args.max_unzipped <= 0 or args.max_ratio <= 1 or args.max_members < 1:
        raise UsageError("--max-unzipped must be > 0, --max-ratio > 1 and --max-members >= 1")
    caps = limits_from_args(args) if not args.scheduler else None  # remote workers are checked where they run
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")
    opts = options_from_args(args)
    settings = {k: v for k, v in vars(opts).items() if v is not None and k != "extra"}
    if opts.extra:
        settings["extra"] = dict(opts.extra)  # machine, post...: settings of later stages
    limits = ZipLimits(max_total_bytes=args.max_unzipped * 1024 * 1024,
                       max_member_bytes=min(args.max_unzipped, ZipLimits().max_member_bytes >> 20) * 1024 * 1024,
                       max_ratio=args.max_ratio, max_members=args.max_members)
    config = BatchConfig(
        out_dir=Path(args.out),
        jobs=args.jobs,
        timeout=caps.timeout if caps else (args.timeout or None),
        memory_mb=caps.memory_mb if caps else (args.memory or None),
        gcode=args.gcode,
        scheduler=args.scheduler,
        settings=settings,
        zip_limits=limits,
        progress=args.progress,
    )
    result = run_batch(args.inputs, config)
    for err in result.summary["errors"]:  # one line per file that could not be analysed, as `dfm check`
        print(f"dfm: {err['message']}", file=sys.stderr)
    c = result.summary["counts"]
    print(f"dfm batch: {c['files']} files: {c['pass']} pass, {c['warn']} warn, {c['fail']} fail DFM, "
          f"{c['error']} not analysed ({c['resumed']} unchanged); {Path(args.out) / 'index.html'}")
    if result.interrupted:
        print(f"dfm: interrupted; finished parts are in {args.out}, run again to do the rest", flush=True)
        return 130
    return result.exit_code
