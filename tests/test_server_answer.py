"""lorlint/server_answer.py: its answer to ``initialize`` is pygls's, or it gives none.

pygls is the oracle: each request is given to lorlint's real server protocol exactly as pygls's
reader reads a message (scripts/gen_server_answer.py's ``pygls_sends``), and whatever
``server_answer.answer`` returns must be the ``result`` of the one response pygls sends. Requests:
real editors' (tests/lsp_clients/: captured by pytest-lsp, Helix's and Zed's reproduced from
their source), with and without notebook support and initialization options, and generated ones
— every field of lsprotocol's ``InitializeRequest`` drawn from its type or, now and then, from the
wrong one (a number for a bool, a list for an object, a nested message, a bad URI).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lorlint import server_answer

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = sorted((ROOT / "tests" / "lsp_clients").glob("*.json"))
NOTEBOOKS = {"synchronization": {"dynamicRegistration": True, "executionSummarySupport": True}}


def _script():
    spec = importlib.util.spec_from_file_location(
        "gen_server_answer", ROOT / "scripts" / "gen_server_answer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _script()
DATA = server_answer.load()


def _pygls_and_ours(message: dict) -> tuple[list[dict], dict | None]:
    body = json.dumps(message).encode()
    return GEN.pygls_sends(body), server_answer.answer(json.loads(body), DATA)


def _check(message: dict) -> dict | None:
    sent, ours = _pygls_and_ours(message)
    if ours is not None:
        assert sent == [{"id": message["id"], "jsonrpc": "2.0", "result": ours}]
    return ours


def test_the_generated_data_is_current():
    """scripts/gen_server_answer.py run now makes the file lorlint ships (regenerate it with
    `python scripts/gen_server_answer.py` after editing lorlint/server.py or upgrading pygls)."""
    assert DATA is not None, "lorlint/server_answer.json was made from another install"
    assert json.loads(server_answer.DATA.read_text()) == GEN.collect()


@pytest.mark.parametrize("client", CLIENTS, ids=[c.stem for c in CLIENTS])
@pytest.mark.parametrize("notebooks", [False, True])
@pytest.mark.parametrize("options", [None, {"lorlint": {"select": ["LL1"], "model": "gpt2"}}])
def test_real_editors_get_pyglss_answer_early(client, notebooks, options):
    params = {"processId": 4242, "rootUri": "file:///home/u/project", "rootPath": "/home/u/project",
              "workspaceFolders": [{"uri": "file:///home/u/project", "name": "project"}],
              **json.loads(client.read_text())}  # fmt: skip
    if notebooks:
        params["capabilities"] = {**params["capabilities"], "notebookDocument": NOTEBOOKS}
    if options is not None:
        params["initializationOptions"] = options
    ours = _check({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
    assert ours is not None  # every real editor here is answered without pygls
    assert ("notebookDocumentSync" in ours["capabilities"]) == notebooks


def test_each_part_taken_from_the_client():
    base = {"jsonrpc": "2.0", "id": "a", "method": "initialize"}
    for capabilities, expected in [
        ({}, {"positionEncoding": "utf-16"}),
        ({"general": {"positionEncodings": ["x", "utf-32", "utf-8"]}}, {"positionEncoding": "utf-32"}),
        ({"textDocument": {"synchronization": {"willSave": True, "willSaveWaitUntil": None}}},
         {"textDocumentSync": {"openClose": True, "change": 2, "save": True, "willSave": False}}),
        ({"textDocument": []}, {"positionEncoding": "utf-16"}),  # a list: an empty object
    ]:  # fmt: skip
        ours = _check({**base, "params": {"capabilities": capabilities}})
        assert ours is not None and expected.items() <= ours["capabilities"].items()


@pytest.mark.parametrize(
    "params",
    [
        {"capabilities": {"general": {"positionEncodings": "utf-8"}}},  # cattrs: ('u', 't', ...)
        {"capabilities": {"textDocument": {"synchronization": {"willSave": "no"}}}},
        {"capabilities": {"notebookDocument": {}}},  # required field missing: pygls errs
        {"capabilities": {}, "processId": "12"},
        {"capabilities": {}, "rootUri": "file://[::1"},  # urlparse raises in pygls's initialize
        {"capabilities": {}, "rootPath": "//server"},  # so does pygls's from_fs_path
        {"capabilities": {}, "initializationOptions": {"jsonrpc": "2.0"}},  # read as a message
        {"capabilities": {"textDocument": ["hover"]}},  # a list naming a field: cattrs reads it
    ],
)
def test_what_it_does_not_model_is_left_to_pygls(params):
    assert _check({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}) is None


def test_a_message_pygls_drops_is_not_answered():
    message = {"jsonrpc": "1.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    sent, ours = _pygls_and_ours(message)
    assert sent == [] and ours is None


def test_another_install_or_server_module_is_left_to_pygls(tmp_path, monkeypatch):
    data = json.loads(server_answer.DATA.read_text())
    other = copy.deepcopy(data)
    other["stamp"]["distributions"]["pygls"] = "0.0.1"
    (tmp_path / "server_answer.json").write_text(json.dumps(other))
    (tmp_path / "server.py").write_bytes((ROOT / "lorlint" / "server.py").read_bytes())
    monkeypatch.setattr(server_answer, "DATA", tmp_path / "server_answer.json")
    assert server_answer.load() is None
    (tmp_path / "server_answer.json").write_text(json.dumps(data))
    assert server_answer.load() == data
    (tmp_path / "server.py").write_text("# edited\n")
    assert server_answer.load() is None


# --- generated requests --------------------------------------------------------------------
CLASSES = DATA["schema"]["classes"] if DATA else {}
NAMES = sorted({name for fields in CLASSES.values() for name in fields})
WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**32), st.floats(allow_nan=False),
    st.sampled_from(["", "utf-8", "file:///x", "file://[::1", "//host", "2.0", *NAMES[:20]]),
    st.lists(st.sampled_from([0, "x", {}, *NAMES[:10]]), max_size=2),
    st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "method": st.just("x")}), st.builds(dict),
)  # fmt: skip


def _of(node, depth: int = 0):
    """Values of a schema node's type (objects down to depth 4)."""
    if isinstance(node, str):
        return {"any": st.just({"k": [1, "v"]}), "null": st.none(), "bool": st.booleans(),
                "int": st.integers(0, 2**31 - 1), "float": st.floats(allow_nan=False),
                "str": st.sampled_from(["utf-8", "utf-16", "utf-32", "file:///p", "", "x"])}[node]  # fmt: skip
    kind, arg = node
    if kind in ("enum", "literal"):
        return st.sampled_from(arg)
    if kind == "list":
        return st.lists(_of(arg, depth + 1), max_size=2)
    if kind == "dict":
        return st.dictionaries(st.text(max_size=3), _of(arg, depth + 1), max_size=2)
    if kind == "union":
        return st.one_of(*[_of(member, depth) for member in arg])
    fields = CLASSES[arg]
    return st.fixed_dictionaries(
        {n: _of(f, depth + 1) for n, (f, req) in fields.items() if req},
        optional={n: _of(f, depth + 1) for n, (f, req) in fields.items() if not req and depth < 4},
    )


def _places(value):
    """Every (container, key) in a parsed JSON value."""
    if isinstance(value, (dict, list)):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield value, key
            yield from _places(item)


def _request(data, capabilities) -> dict:
    encodings = data.draw(st.lists(st.sampled_from(["utf-8", "utf-16", "utf-32", "x"]), max_size=3))
    general = capabilities.get("general") or {}
    capabilities["general"] = {**general, "positionEncodings": encodings}
    params = data.draw(_of(["ref", "InitializeParams"], 3))  # its own fields, shallow
    if data.draw(st.booleans()):
        params["initializationOptions"] = {"select": ["LL101"], "settings": {"model": "gpt2"}}
    return {"jsonrpc": "2.0", "id": data.draw(st.integers(0, 9) | st.text(max_size=3)),
            "method": "initialize", "params": {**params, "capabilities": capabilities}}  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_requests_are_answered_early_and_as_pygls_answers(data):
    """Drawn from lsprotocol's types, a request is answered early, and as pygls answers it."""
    message = _request(data, data.draw(_of(["ref", "ClientCapabilities"])))
    assert _check(message) is not None


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_altered_requests_get_pyglss_answer_or_none(data):
    """The same with one to three values replaced by one of another type, dropped or added:
    the answer is pygls's, or none (pygls answers)."""
    message = _request(data, data.draw(_of(["ref", "ClientCapabilities"])))
    for _ in range(data.draw(st.integers(1, 3))):
        container, key = data.draw(st.sampled_from(list(_places(message))))
        action = data.draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace" or not isinstance(container, dict):
            container[key] = data.draw(WRONG)
        elif action == "drop":
            del container[key]
        else:
            container[data.draw(st.sampled_from(["jsonrpc", "x", *NAMES[:30]]))] = data.draw(WRONG)
    _check(message)
