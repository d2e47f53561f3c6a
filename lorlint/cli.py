"""The ``lorlint`` command line. Exit codes follow ruff: 0 clean, 1 findings, 2 usage or error."""

from __future__ import annotations

import argparse
import os
import sys

from lorlint import __version__
from lorlint.commands import check, models, rule, server, verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lorlint",
        description="Static analysis for LoRA / QLoRA fine-tuning code and configs.",
    )
    parser.add_argument("--version", action="version", version=f"lorlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check.add_parser(sub)
    models.add_parser(sub)
    rule.add_parser(sub)
    server.add_parser(sub)
    verify.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug: one line, not a traceback, unless asked for
        if os.environ.get("LORLINT_DEBUG"):
            raise
        print(
            f"lorlint: internal error: {type(err).__name__}: {err} "
            "(set LORLINT_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
