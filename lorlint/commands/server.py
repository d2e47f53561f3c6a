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
    from lorlint import server_start

    if server_start.disabled():
        from lorlint.server import main

        return main()
    # answer a known initialize before pygls is imported (lorlint/server_start.py)
    stdin, initialize = server_start.start(sys.stdin.buffer, sys.stdout.buffer)
    from lorlint.server import main

    return main(stdin, initialize)
