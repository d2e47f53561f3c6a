"""The ``lorlint`` command line. Exit codes follow ruff: 0 clean, 1 findings, 2 usage or error."""

from __future__ import annotations

import argparse
import os
import sys

from lorlint import __version__


def build_parser() -> argparse.ArgumentParser:
    from lorlint.commands import check, models, rule, server, verify, version

    parser = argparse.ArgumentParser(
        prog="lorlint",
        description="Static analysis for LoRA / QLoRA fine-tuning code and configs.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"lorlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (check, models, rule, server, verify, version):
        command.add_parser(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            return action.choices[name]
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["server"]:
        # the editor waits for initialize: skip importing every command (and the linter)
        from lorlint.commands import server

        return server.run(None)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the subcommand's usage, not the top level's (exit 2)
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
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
