"""``lorlint version``: the version (``--output-format json`` for tools), as ``ruff version``."""

from __future__ import annotations

import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("version", help="print lorlint's version")
    p.add_argument("--output-format", "--format", dest="output_format", choices=("text", "json"),
                   default="text", help="text or json (--format is the same option)")  # fmt: skip
    p.set_defaults(func=run)


def run(args) -> int:
    from lorlint import __version__

    if args.output_format == "json":
        data = {"version": __version__, "python": sys.version.split()[0]}
        print(json.dumps(data, indent=2))
    else:
        print(f"lorlint {__version__}")
    return 0
