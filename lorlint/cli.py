"""The ``lorlint`` command line. Exit codes follow ruff: 0 clean, 1 findings, 2 usage or error."""

from __future__ import annotations

import argparse
import os
import sys

from lorlint import __version__

COMMANDS = ("check", "models", "rule", "server", "verify", "version")
# The cyclic garbage collector's thresholds during a check (see commands.check._fewer_collections).
GC_THRESHOLDS = (20_000, 50, 100)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the parser of that one command, as a run of it
    reads it (every command's options cost 8 ms to build, importing ``lorlint models`` included)."""
    import importlib

    parser = _Parser(
        prog="lorlint",
        description="Static analysis for LoRA / QLoRA fine-tuning code and configs.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"lorlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"lorlint.commands.{name}").add_parser(sub)
    return parser


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, with the terminal's width read as ``shutil.get_terminal_size``
    reads it but without importing ``shutil`` (and the compressors it imports: 2.4 ms of every
    run): argparse builds a formatter for every option it adds, to check it."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        width = _columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help is laid out by ``_Formatter`` (its commands' parsers too)."""

    def __init__(self, *args, formatter_class=_Formatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            return action.choices[name]
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``. Called without it, as the ``lorlint`` program is, a check
    ends the process itself once its output is flushed (see ``_end_process``)."""
    program = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["server"]:
        # the editor waits for initialize: skip importing every command (and the linter)
        from lorlint.commands import server

        return server.run(None)
    if argv[:1] == ["check"]:
        _collect_less()
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the subcommand's usage, not the top level's (exit 2)
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    code = _run(args)
    if program and args.command == "check":
        _end_process(code)
    return code


def _collect_less() -> None:
    """Before a check imports the linter: Python's cyclic garbage collector would walk the new
    modules' objects about 30 times while they load (3 ms), for no cycle worth freeing. The
    check keeps these thresholds (``commands.check._fewer_collections``)."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)


def _run(args: argparse.Namespace) -> int:
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


def _end_process(code: int) -> None:
    """Flush standard output and error, then end the process at once (never returns). Python's
    own exit would free what the run built object by object (syntax trees, layer tables, every
    module): 20 ms after a tree's report is printed, for memory the system takes back whole. A
    check leaves nothing else to do at exit (its files are written and closed, its workers
    reaped, no thread left)."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # a reader gone (| head), closed
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
