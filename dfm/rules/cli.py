"""``dfm rules`` (list the rules) and ``dfm rule CODE`` (explain one)."""

from __future__ import annotations

import argparse
import json
import sys

from dfm.errors import UsageError
from dfm.rules.describe import explain, input_records, rule_record
from dfm.rules.registry import find_profile, resolve, shipped_profiles


class _Opts:
    def __init__(self, args: argparse.Namespace) -> None:
        self.spec = None
        self.profile = getattr(args, "profile", None)
        self.material = getattr(args, "material", None)
        self.finish = getattr(args, "finish", None)
        self.tools = None
        self.extra = {"machine": args.machine} if getattr(args, "machine", None) else {}


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return resolve(_Opts(args))


def _cmd_rules(args: argparse.Namespace) -> int:
    if args.profiles:
        rows = [{"kind": k, "name": p.name, "title": p.title, "aliases": list(p.aliases)}
                for k, profs in shipped_profiles().items() for p in profs]
        if args.format == "json":
            sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        else:
            for r in rows:
                alias = f" (also: {', '.join(r['aliases'])})" if r["aliases"] else ""
                sys.stdout.write(f"{r['kind']:8} {r['name']:12} {r['title']}{alias}\n")
        return 0
    settings = _settings(args)
    records = [rule_record(r) for r in settings.rules] + ([] if args.no_input else input_records())
    if args.family:
        records = [r for r in records if r["code"][3] == args.family[0]]
    if args.format == "json":
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return 0
    for r in records:
        sys.stdout.write(f"{r['code']}  {r['severity']:7}  {r['name']:36} {r['title']}\n")
    sys.stdout.write(f"\n{len(records)} rules; `dfm rule CODE` explains one. Profiles: "
                     + ", ".join(f"{k}={v}" for k, v in settings.profiles.items()) + "\n")
    return 0


def _cmd_rule(args: argparse.Namespace) -> int:
    settings = _settings(args)
    key = args.code.strip()
    for rule in settings.rules:
        if key.upper() == rule.code or key.lower() == rule.name:
            if args.format == "json":
                sys.stdout.write(json.dumps(rule_record(rule), indent=2, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(explain(rule, settings.vars))
            return 0
    for rec in input_records():
        if key.upper() == rec["code"] or key.lower() == rec["name"]:
            if args.format == "json":
                sys.stdout.write(json.dumps(rec, indent=2, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(f"{rec['code']} {rec['name']}: {rec['title']}\n\n- Severity: {rec['severity']}\n\n"
                                 f"Why: {rec['why']}\n\nFix: {rec['fix']}\n\nDefined in rules/input.toml.\n")
            return 0
    raise UsageError(f"no rule {args.code!r}; `dfm rules` lists them")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    p.add_argument("--profile", metavar="FILE", help="your own profile or rule file (TOML)")
    p.add_argument("--material", metavar="NAME", help="material profile, e.g. 6061-T6, 303, PEEK")
    p.add_argument("--finish", metavar="NAME", help="finish profile, e.g. none, anodize-ii, anodize-iii, passivate")
    p.add_argument("--machine", metavar="NAME", help="machine profile, e.g. hsm-60k, vmc-15k")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``dfm rules`` and ``dfm rule``."""
    p = sub.add_parser("rules", help="list the rules (codes, names, severities)",
                       description="List the rules the given profiles enable (and the DFM9xx input diagnostics).")
    _common(p)
    p.add_argument("--family", metavar="N", help="only one family: 1 walls, 2 corners, 3 pockets, 4 holes/threads, "
                   "5 finish, 7 micro-physics, 9 input")
    p.add_argument("--no-input", action="store_true", help="leave out the DFM9xx input diagnostics")
    p.add_argument("--profiles", action="store_true", help="list the shipped profiles instead")
    p.set_defaults(func=_cmd_rules)
    q = sub.add_parser("rule", help="explain one rule: what it reads, limits, why, fix, sources",
                       description="Explain one rule by code (DFM101) or name (thin-wall).")
    q.add_argument("code", metavar="CODE", help="rule code or name")
    _common(q)
    q.set_defaults(func=_cmd_rule)


__all__ = ["add_parser", "find_profile"]
