"""``dfm tools PART``: the recommended tools as a table (per part, per feature)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dfm.model import BodyResult, DfmResult
from dfm.tooling.select import MILLED_KINDS, corner_owners

#: What the table prints for a value nobody knows (an en dash, as in ``dfm check`` and the report).
UNKNOWN = "\u2013"


def add_parser(sub: Any) -> None:
    """Register ``dfm tools``."""
    from dfm.cli import EXIT_CODES, add_analysis_options

    p = sub.add_parser(
        "tools",
        help="recommend the largest usable end mills and drills for every feature",
        description="For every milled feature and hole: the largest catalogue tool that can finish it "
        "(corner radius with clearance, width, floor radius, reach), the roughing tool, and the part's "
        "tool set. --tools FILE replaces the shipped catalogue (rules/tools/*.toml) with your own.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("parts", nargs="+", metavar="PART", help="STEP (.step/.stp) or BREP (.brep) files")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text table (default) or json (tools, per-feature tool dims and DFM6xx findings)")
    add_analysis_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Analyse each part and print its tools."""
    from dfm import api
    from dfm.cli import limits_from_args, options_from_args

    limits = limits_from_args(args)
    opts = options_from_args(args)
    results = []
    for part in args.parts:
        res = api.analyze_isolated(part, opts, limits=limits)
        results.append(res)
        if res.status != "ok" and res.error is not None:
            print(f"dfm: {res.error.message}", file=sys.stderr)
    if args.format == "json":
        data = [as_json(r) for r in results]
        sys.stdout.write(json.dumps(data[0] if len(data) == 1 else data, indent=2, sort_keys=False) + "\n")
    else:
        sys.stdout.write("\n".join(render(r) for r in results))
    return max(r.exit_code for r in results)


def _n(x: float | None, digits: int = 3) -> str:
    if x is None:
        return UNKNOWN
    return f"{x:.{digits}f}".rstrip("0").rstrip(".")


def _flutes(n: Any) -> str:
    """Flute count for the table: ``–`` when the catalogue does not say (never ``None`` or ``0``)."""
    return str(n) if isinstance(n, int) and not isinstance(n, bool) and n > 0 else UNKNOWN


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return out


def render_body(b: BodyResult) -> list[str]:
    """Text lines for one body: tool set, then features, then DFM6xx findings."""
    lines = [f"body {b.index} ({b.name})"]
    m = b.measurements.get("max_tool_diameter_mm")
    milled = any("required_reach_mm" in f.dims and f.kind in MILLED_KINDS for f in b.features)
    if m is not None:
        where = f" ({', '.join(f'Face{i}' for i in m.faces[:4])})" if m.faces else ""
        verdict = f"Ø{_n(m.value)} mm{where}"
    else:
        verdict = "none (see findings)" if milled else "no milled features"
    lines.append(f"  largest tool that finishes every milled feature: {verdict}")
    if b.tools:
        rows = [[t.role, t.id, t.kind, _n(t.diameter_mm), _n(t.corner_radius_mm), _n(t.reach_mm),
                 _n(t.flute_length_mm), _flutes(t.flutes), ", ".join(t.features)]
                for t in b.tools]
        lines += ["  " + s for s in _table(
            ["role", "tool", "kind", "Ø mm", "R mm", "reach mm", "LCF mm", "fl", "features"], rows)]
    else:
        lines.append("  no tools")
    feats = [f for f in b.features if "required_reach_mm" in f.dims]
    # A corner of a pocket machined by the pocket's own tool adds nothing to the table.
    owners = corner_owners(b.features)
    tool_of = {f.id: f.props.get("tool") for f in feats}
    hidden = [f for f in feats if f.id in owners and f.props.get("tool") is not None
              and f.props.get("tool") == tool_of.get(owners[f.id])]
    feats = [f for f in feats if f not in hidden]
    if feats:
        rows = []
        for f in feats:
            rows.append([
                f.id, _n(f.dims.get("depth_mm")), _n(f.dims.get("min_corner_radius_mm", f.dims.get("radius_mm"))),
                _n(f.dims.get("width_mm", f.dims.get("diameter_mm"))), _n(f.dims.get("tool_diameter_limit_mm")),
                _n(f.dims.get("required_reach_mm")), str(f.props.get("tool", "NONE")),
                _n(f.dims.get("max_tool_diameter_mm")), str(f.props.get("rough_tool", "")),
            ])
            if any("gap_tool_reason" in g.props for g in feats):
                rows[-1].append(str(f.props.get("gap_tool", "NONE" if "gap_tool_reason" in f.props else "")))
        header = ["feature", "depth", "corner R", "width/Ø", "Ø limit", "reach need", "tool", "tool Ø", "rough"]
        if any("gap_tool_reason" in f.props for f in feats):
            header.append("gap")
        lines.append("")
        lines += ["  " + s for s in _table(header, rows)]
    if hidden:
        lines.append(f"  ({len(hidden)} corner(s) of pockets/slots not listed: same tool as their pocket/slot)")
    for f in feats:
        if "gap_tool_reason" in f.props:
            lines.append(f"  {f.id} gap: {f.props.get('gap_tool', 'no tool')}: {f.props['gap_tool_reason']}")
    for fd in (x for x in b.findings if x.code.startswith("DFM6")):
        lines.append("")
        lines.append(f"  {fd.severity.value.upper()} {fd.code} {fd.name}: {fd.message}")
        lines.append(f"    fix: {fd.fix}")
    return lines


def render(r: DfmResult) -> str:
    """Render the tools of one analysed file as text."""
    if r.status != "ok":
        return f"{r.file}: not analysed ({r.error.code if r.error else 'error'})\n"
    lines = [r.file]
    for b in r.bodies:
        lines += render_body(b)
    return "\n".join(lines) + "\n"


def as_json(r: DfmResult) -> dict[str, Any]:
    """Return the tooling part of a result as plain data (same field names as ``dfm check --format json``)."""
    from dfm.report.jsonout import finding_dict, num, tool_dict

    out: dict[str, Any] = {"file": r.file, "status": r.status, "bodies": []}
    if r.error is not None:
        out["error"] = {"code": r.error.code, "name": r.error.name, "message": r.error.message}
    for b in r.bodies:
        m = b.measurements.get("max_tool_diameter_mm")
        out["bodies"].append({
            "index": b.index,
            "max_tool_diameter_mm": num(m.value) if m else None,
            "tools": [tool_dict(t) for t in b.tools],
            "features": [
                {"id": f.id, "kind": f.kind, "tool": f.props.get("tool"), "rough_tool": f.props.get("rough_tool"),
                 **{k: num(f.dims[k]) for k in ("max_tool_diameter_mm", "required_reach_mm",
                                                "tool_diameter_limit_mm") if k in f.dims},
                 **({"gap_tool": f.props.get("gap_tool"), "gap_tool_reason": f.props["gap_tool_reason"]}
                    if "gap_tool_reason" in f.props else {})}
                for f in b.features if "required_reach_mm" in f.dims
            ],
            "findings": [finding_dict(f) for f in b.findings if f.code.startswith("DFM6")],
        })
    return out
