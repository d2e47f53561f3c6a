"""Regenerate lorlint/server_answer.json from lorlint's server and the installed pygls/lsprotocol.

``lorlint.server_answer`` answers the editor's ``initialize`` without importing pygls (whose import
is most of a first start). What that answer needs, read here from the real libraries:

- ``schema``: the shape lsprotocol's converter structures an ``initialize`` request into (each
  attrs class's JSON fields, their types, which are required), so that a request is answered
  early only when it has exactly that shape — anything else goes to pygls, which may read it
  differently (cattrs converts ``"yes"`` to ``True``) or reject it;
- ``capabilities``, ``server_info``: pygls's own answer for lorlint's registered features, for a
  client with notebook support and no other capability; ``lorlint.server_answer`` adjusts the
  parts of it that pygls's capability builder takes from the client (position encoding,
  willSave / willSaveWaitUntil, notebookDocumentSync) and sets lorlint's version;
- ``stamp``: what it was made from (the installed distributions and lorlint/server.py's hash),
  compared at start: any difference and pygls answers.

``make catalog`` runs it; tests/test_server_answer.py checks the file is current.
"""

from __future__ import annotations

import collections.abc
import enum
import hashlib
import importlib.metadata
import json
import typing
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "lorlint" / "server_answer.json"
DISTRIBUTIONS = ("pygls", "lsprotocol", "cattrs", "attrs")
# What pygls's ServerCapabilitiesBuilder reads from the client for features lorlint does not
# register: registering one of these makes the answer depend on more of the request than
# lorlint.server_answer models, so the script refuses rather than generate a wrong model.
UNMODELLED_FEATURES = (
    "textDocument/willSave", "textDocument/willSaveWaitUntil", "textDocument/rename",
    "textDocument/prepareRename", "workspace/willCreateFiles", "workspace/didCreateFiles",
    "workspace/willRenameFiles", "workspace/didRenameFiles", "workspace/willDeleteFiles",
    "workspace/didDeleteFiles",
)  # fmt: skip
TEMPLATE_CLIENT = {"notebookDocument": {"synchronization": {}}}


def _json_name(name: str) -> str:
    """lsprotocol's field name on the wire (its converter's ``_to_camel_case``)."""
    name = name[:-1] if name.endswith("_") else name
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def schema() -> dict:
    """{"root": node, "classes": {name: {json field: [node, required]}}} for an initialize
    request. A node: "any", "null", "bool", "int", "float", "str", ["enum", values],
    ["literal", values], ["list", node], ["dict", node], ["union", nodes] or ["ref", name]."""
    import attrs
    from lsprotocol import types

    classes: dict[str, dict] = {}

    def node(tp) -> object:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if tp is typing.Any:
            return "any"
        if tp is type(None):
            return "null"
        if tp in (bool, int, float, str):
            return tp.__name__
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return ["enum", [member.value for member in tp]]
        if isinstance(tp, type) and attrs.has(tp):
            if tp.__name__ not in classes:
                classes[tp.__name__] = {}  # placed first: recursive types end here
                hints = typing.get_type_hints(tp, vars(types))
                classes[tp.__name__] = {
                    _json_name(f.name): [node(hints[f.name]), f.default is attrs.NOTHING]
                    for f in attrs.fields(tp)
                }
            return ["ref", tp.__name__]
        if origin is typing.Union:
            return ["union", [node(arg) for arg in args]]
        if origin is typing.Literal:
            return ["literal", list(args)]
        if origin in (list, collections.abc.Sequence):
            return ["list", node(args[0])]
        if origin in (dict, collections.abc.Mapping) and args[0] is str:
            return ["dict", node(args[1])]
        raise TypeError(f"no schema node for {tp!r}: extend scripts/gen_server_answer.py")

    root = node(types.InitializeRequest)
    return {"root": root, "classes": dict(sorted(classes.items()))}


def pygls_sends(body: bytes) -> list[dict]:
    """What lorlint's server (pygls) sends for a message body, read as pygls's reader reads it
    (``json.loads`` with the protocol's ``structure_message`` as object hook, then
    ``handle_message``): its real request handling, nothing written anywhere."""
    from lorlint.server import server

    protocol = server.protocol
    sent: list = []
    protocol._send_data = sent.append  # an instance attribute, deleted below
    try:
        protocol.handle_message(json.loads(body, object_hook=protocol.structure_message))
    except Exception as err:  # pygls's reader logs it and reports it to the server
        sent.append({"raised": repr(err)})
    finally:
        del protocol._send_data
    return [json.loads(json.dumps(m, default=protocol._serialize_message)) for m in sent]


def pygls_answer(capabilities: dict) -> dict:
    """pygls's ``result`` for an ``initialize`` request with these client capabilities."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"processId": None, "rootUri": None, "capabilities": capabilities}}  # fmt: skip
    (response,) = pygls_sends(json.dumps(message).encode())
    return response["result"]


def registered_features() -> list[str]:
    from lorlint.server import server

    fm = server.protocol.fm
    return sorted({*fm.features, *fm.builtin_features})


def stamp() -> dict:
    server = (REPO / "lorlint" / "server.py").read_bytes()
    return {
        "distributions": {name: importlib.metadata.version(name) for name in DISTRIBUTIONS},
        "server_sha256": hashlib.sha256(server).hexdigest(),
    }


def collect() -> dict:
    unmodelled = sorted(set(registered_features()) & set(UNMODELLED_FEATURES))
    if unmodelled:
        raise SystemExit(f"lorlint.server_answer does not model {unmodelled}: extend it first")
    result = pygls_answer(TEMPLATE_CLIENT)
    server_info = {k: v for k, v in result["serverInfo"].items() if k != "version"}
    return {"stamp": stamp(), "capabilities": result["capabilities"], "server_info": server_info,
            "schema": schema()}  # fmt: skip


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> None:
    OUT.write_text(render(collect()))


if __name__ == "__main__":
    main()
