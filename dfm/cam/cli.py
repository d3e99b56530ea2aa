"""``dfm gcode PART -o PROGRAM.ngc``: the micro-milling program, its tool table and times."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dfm.errors import UsageError


def add_parser(sub: Any) -> None:
    """Register ``dfm gcode``."""
    from dfm.cli import EXIT_CODES, add_analysis_options

    p = sub.add_parser(
        "gcode",
        help="write the micro-milling program (G-code) and its LinuxCNC tool table",
        description="Generate the milling program from the part's features, the tool catalogue and the "
        "material table: PROGRAM.ngc (setup 1: the axis chosen for the fewest setups and the shortest reach; "
        "its header's setup sheet says how to hold the part and where G54 is), PROGRAM.setup2.ngc... for "
        "features reached from other axis directions, and PROGRAM.tbl (LinuxCNC tool table, mm). "
        "Tool-centre paths (no cutter compensation). Feeds and speeds cite their table rows in the header.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("part", metavar="PART", help="STEP (.step/.stp) or BREP (.brep) file")
    p.add_argument("-o", "--output", metavar="PROGRAM.ngc", required=True, help="program file to write")
    p.add_argument("--post", default="linuxcnc", metavar="NAME",
                   help="post (dialect): linuxcnc (default), fanuc, grbl, or one registered under the "
                   "'dfm.posts' entry point group")
    p.add_argument("--stock", metavar="SPEC", default=None,
                   help="stock: 'margin=MM[,top=Z]' (default margin from settings, top = part top; Z in setup 1's "
                   "program coordinates, which the header's setup sheet relates to the model's); "
                   "a plain number is the margin")
    p.add_argument("--cam-settings", metavar="FILE", help="your CAM settings TOML (keys of dfm/cam/settings.toml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one CAM setting, e.g. --set max_rpm=40000 (repeatable)")
    add_analysis_options(p)
    p.set_defaults(func=run)


def parse_stock(spec: str | None, default_margin: float) -> Any:
    """``margin=1,top=3.5`` (or ``1``) → StockSpec.

    Raises:
        UsageError: Unknown key or a value that is not a number.
    """
    from dfm.cam.program import StockSpec

    if spec is None:
        return StockSpec(margin=default_margin)
    margin, top = default_margin, None
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        key, sep, value = item.partition("=")
        if not sep:
            key, value = "margin", item
        try:
            num = float(value)
        except ValueError:
            raise UsageError(f"--stock: '{value}' is not a number") from None
        if key == "margin":
            if num < 0:
                raise UsageError("--stock: the margin must be zero or positive")
            margin = num
        elif key == "top":
            top = num
        else:
            raise UsageError(f"--stock: unknown key '{key}' (known: margin, top)")
    return StockSpec(margin=margin, top=top)


def _overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set: expected KEY=VALUE, got '{item}'")
        out[key.strip()] = value.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Generate and write the program files; prints a summary on stderr."""
    from dfm import isolation
    from dfm.cam import data
    from dfm.cam.posts import get_post
    from dfm.cli import limits_from_args, options_from_args

    get_post(args.post)
    overrides = _overrides(args.overrides)
    settings = data.load_settings(args.machine, overrides, args.cam_settings)
    stock = parse_stock(args.stock, settings["stock_margin_mm"])
    # the kernel work runs in its own process: a crash, hang or memory blow-up is one DFM913/914/915 line
    gen, result = isolation.call("dfm.cam.gcode:generate", args.part, path=args.part, limits=limits_from_args(args),
                                 post=args.post, material=args.material, stock=stock,
                                 machine=args.machine, settings_file=args.cam_settings, overrides=overrides,
                                 tools=args.tools, timestamp=args.timestamp, options=options_from_args(args))
    if not any(su.operations for su in gen.program.setups):  # nothing to cut: say why, write no empty program
        _reasons(gen)
        print(f"dfm: {args.part}: no program written: no operation could be planned and verified "
              f"(reasons above)", file=sys.stderr)
        return max(result.exit_code, 1)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = out.with_suffix("") if out.suffix else out
    ext = out.suffix or ".ngc"
    written = []
    for suffix, text in gen.files:
        target = out if not suffix else base.with_name(base.name + suffix + ext)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    tbl = base.with_suffix(".tbl")
    tbl.write_text(gen.tool_table, encoding="utf-8")
    written.append(tbl)
    print(f"dfm: wrote {', '.join(str(w) for w in written)}; estimated cycle time {gen.total_seconds:.0f} s",
          file=sys.stderr)
    _reasons(gen)
    return result.exit_code


def _reasons(gen) -> None:  # type: ignore[no-untyped-def]
    """What was not machined and why (stderr)."""
    for su in gen.program.setups:
        for fid, why in su.unmachined:
            print(f"dfm: setup {su.index}: {fid} not machined: {why}", file=sys.stderr)
        for fid, why in su.partly:
            print(f"dfm: setup {su.index}: {fid} partly machined: {why}", file=sys.stderr)
    for fid, why in gen.program.unreachable:
        print(f"dfm: {fid} unreachable: {why}", file=sys.stderr)
    ver = gen.verification
    for setup, fid, why in getattr(ver, "dropped", ()) or ():
        print(f"dfm: setup {setup}: {fid} NOT MACHINED (the guard refused it): {why}", file=sys.stderr)
