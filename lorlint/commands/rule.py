"""``lorlint rule CODE`` prints a rule's page; ``--all`` lists every rule (as ``ruff rule``)."""

from __future__ import annotations

import json
import sys

from lorlint.checks import by_name_or_code, load_all
from lorlint.report.pages import page


def add_parser(sub) -> None:
    p = sub.add_parser("rule", help="explain a rule (LL101 or unknown-target-module)")
    p.add_argument("rule", nargs="?", help="code or name")
    p.add_argument("--all", action="store_true", help="list every rule")
    p.add_argument(
        "--output-format",
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help="text or json (--format is the same option)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    rules = load_all()
    if args.all:
        chosen = list(rules.values())
    elif args.rule:
        chosen = [r for r in by_name_or_code(args.rule) if r.code == args.rule.upper()
                  or r.name == args.rule.lower()]  # fmt: skip
        if not chosen:
            print(f"lorlint rule: unknown rule {args.rule!r}", file=sys.stderr)
            return 2
    else:
        print("lorlint rule: give a rule code or --all", file=sys.stderr)
        return 2
    if args.output_format == "json":
        items = [
            {"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary,
             "fix": list(r.fixes), "url": r.url, "explanation": page(r.code, r.name)}
            for r in chosen
        ]  # fmt: skip
        print(json.dumps(items if args.all else items[0], indent=2))
    elif args.all:
        for r in chosen:
            print(f"{r.code}  {r.name:36} {r.severity:8} {r.summary}")
    else:
        print(page(chosen[0].code, chosen[0].name) or chosen[0].summary)
    return 0
