"""pygls's answer to ``initialize``, computed without pygls (stdlib only).

The answer is a function of the request and of the server's code: pygls structures the request
with lsprotocol's converter (or answers with an error), then its capability builder combines
lorlint's registered features with a few of the client's capabilities — the first position
encoding it supports, whether ``willSave`` / ``willSaveWaitUntil`` are stated, whether it has
notebook support. ``lorlint/server_answer.json`` (made by scripts/gen_server_answer.py from the
real libraries) holds the answer for lorlint's features and the exact shape of a request;
this module answers only a request of exactly that shape (every field of the JSON type its
lsprotocol class declares, enums within their values, integers within LSP's range), under the
same pygls, lsprotocol, cattrs and attrs and the same lorlint/server.py as the file was made
from. Anything else — a value cattrs would convert or reject, another install — returns None,
and pygls answers. tests/test_server_answer.py compares it with pygls's answer over real
editors' requests and generated ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from importlib.util import find_spec
from pathlib import Path

from lorlint import __version__

DATA = Path(__file__).with_name("server_answer.json")
INT_RANGE = range(0, 2**31)  # LSP's uinteger; also inside its integer range
ENCODINGS = ("utf-8", "utf-16", "utf-32")  # pygls's supported position encodings


def answer(message: dict, data: dict | None = None) -> dict | None:
    """The ``result`` pygls sends for this ``initialize`` request, or None when not sure."""
    data = data if data is not None else load()
    if data is None or message.get("method") != "initialize" or message.get("jsonrpc") != "2.0":
        return None  # pygls drops a message of another JSON-RPC version, unanswered
    try:
        if not conforms(message, data["schema"]["root"], data["schema"]["classes"]):
            return None
        if any(_holds_message(v) for v in message.values()):
            return None
    except RecursionError:  # nested deeper than this module walks: pygls decides
        return None
    params = message["params"]
    if not _workspace_opens(params):
        return None
    client = _fields(params["capabilities"])
    capabilities = copy.deepcopy(data["capabilities"])
    encodings = _fields(client.get("general")).get("positionEncodings") or []
    capabilities["positionEncoding"] = next((e for e in encodings if e in ENCODINGS), "utf-16")
    # pygls: get_capability(...) and <feature registered>: None when the client leaves it out,
    # else False (lorlint registers neither willSave nor willSaveWaitUntil)
    sync = _fields(_fields(client.get("textDocument")).get("synchronization"))
    for key in ("willSave", "willSaveWaitUntil"):
        capabilities["textDocumentSync"].pop(key, None)
        if sync.get(key) is not None:
            capabilities["textDocumentSync"][key] = False
    if client.get("notebookDocument") is None:
        capabilities.pop("notebookDocumentSync", None)
    # serverInfo.version is lorlint's version, which the stamp leaves out
    return {
        "capabilities": capabilities,
        "serverInfo": {**data["server_info"], "version": __version__},
    }


def _fields(value) -> dict:
    """The fields of a conforming object: a list there (Neovim 0.9 sends ``callHierarchy: [...]``)
    is one with none set, as lsprotocol structures it (see ``conforms``)."""
    return value if isinstance(value, dict) else {}


def _holds_message(value) -> bool:
    """Whether an object inside the request has a "jsonrpc" key: pygls reads the body with its
    structure_message as json's object_hook, which structures such an object as a message."""
    if isinstance(value, dict):
        return "jsonrpc" in value or any(_holds_message(v) for v in value.values())
    return isinstance(value, list) and any(_holds_message(v) for v in value)


def _workspace_opens(params: dict) -> bool:
    """Whether pygls's initialize sets up its workspace without an exception (which it answers
    with an error): the calls its lsp_initialize makes with rootUri / rootPath and the
    workspace folders, made with pygls's own URI helpers (a light module)."""
    from urllib.parse import unquote

    from pygls import uris

    root_uri, root_path = params.get("rootUri"), params.get("rootPath")
    try:
        if root_path is not None and root_uri is None:
            root_uri = uris.from_fs_path(root_path)
        if root_uri is not None:
            uris.uri_scheme(root_uri)
            uris.to_fs_path(root_uri)
        for folder in params.get("workspaceFolders") or ():
            unquote(folder["uri"])
    except Exception:
        return False
    return True


def conforms(value, node, classes: dict) -> bool:
    """Whether ``value`` (parsed JSON) has exactly the type ``node`` describes (see
    scripts/gen_server_answer.py), so that lsprotocol structures it as it stands."""
    if isinstance(node, str):
        if node == "any":
            return True
        if node == "null":
            return value is None
        if node == "bool":
            return isinstance(value, bool)
        if node == "int":
            return type(value) is int and value in INT_RANGE
        if node == "float":
            return type(value) in (int, float)
        if node == "str":
            return isinstance(value, str)
        return False
    kind, arg = node
    if kind == "ref":
        fields = classes[arg]
        if isinstance(value, list):
            # cattrs's structure function tests ``"name" in o`` for each optional field and
            # reads ``o["name"]`` for a required one: a list with no element equal to a field's
            # name is an object with no field set (Neovim 0.9's empty Lua tables)
            return not any(required for _, required in fields.values()) and not any(
                isinstance(v, str) and v in fields for v in value
            )
        if not isinstance(value, dict):
            return False
        for name, (field, required) in fields.items():
            if name in value:
                if not conforms(value[name], field, classes):
                    return False
            elif required:
                return False
        return True
    if kind in ("enum", "literal"):
        return type(value) in (int, str) and any(
            type(value) is type(choice) and value == choice for choice in arg
        )
    if kind == "list":
        return isinstance(value, list) and all(conforms(v, arg, classes) for v in value)
    if kind == "dict":
        return isinstance(value, dict) and all(conforms(v, arg, classes) for v in value.values())
    if kind == "union":
        return any(conforms(value, member, classes) for member in arg)
    return False


def load() -> dict | None:
    """The generated data, when it was made from this install and this lorlint/server.py."""
    try:
        data = json.loads(DATA.read_bytes())
        server = hashlib.sha256(DATA.with_name("server.py").read_bytes()).hexdigest()
    except (OSError, ValueError):
        return None
    stamp = data.get("stamp", {})
    if stamp.get("server_sha256") != server:
        return None
    for name, version in stamp.get("distributions", {}).items():
        if not installed(name, version):
            return None
    return data


def installed(distribution: str, version: str) -> bool:
    """Whether ``distribution`` ``version`` is the one Python imports (its dist-info beside its
    package; no importlib.metadata, whose import alone costs ~50 ms)."""
    package = {"attrs": "attr"}.get(distribution, distribution)
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return False
    site = Path(next(iter(spec.submodule_search_locations))).parent
    return os.path.isdir(site / f"{distribution}-{version}.dist-info")
