"""``lorlint server``: the language server, over stdio."""

from __future__ import annotations

import importlib.util
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("server", help="run the language server (LSP over stdio)")
    p.set_defaults(func=run)


def run(args) -> int:
    if importlib.util.find_spec("pygls") is None:
        print('lorlint server: needs pygls: pip install "lorlint[lsp]"', file=sys.stderr)
        return 2
    from lorlint.server import main

    return main()
