"""``initialize`` answered before pygls is imported (lorlint/server_start.py): the same answer as
pygls's, once, and the server works after it exactly as after an ordinary start — computed on
the first start (lorlint/server_answer.py), or kept from pygls's answer to the same client where
that computation is not sure."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from rawlsp import RawClient

from lorlint import server_start

BAD = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
config = LoraConfig(target_modules=["q_proj", "dwn_proj"], task_type="CAUSAL_LM")
model = get_peft_model(model, config)
"""
NOTEBOOK_CLIENT = {"notebookDocument": {"synchronization": {}}, "general": {
    "positionEncodings": ["utf-8", "utf-16"]}}  # fmt: skip
# a bool field sent as a number: cattrs reads 1 as True, lorlint.server_answer does not guess
UNMODELLED = {"textDocument": {"synchronization": {"willSave": 1}}}


class Recording(RawClient):
    """Keeps every message the server sent (``wait`` drops those it does not look for)."""

    def __init__(self, *args, **kwargs):
        self.seen: list[dict] = []
        super().__init__(*args, **kwargs)

    def wait(self, predicate, timeout: float = 60) -> dict:
        def record(message):
            self.seen.append(message)
            return predicate(message)

        return super().wait(record, timeout)


def _server(cache: Path, early: bool = True) -> Recording:
    env = {**os.environ, "LORLINT_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    env["LORLINT_SERVER_EARLY_INITIALIZE"] = "1" if early else "0"
    return Recording([sys.executable, "-m", "lorlint", "server"], env=env)


def _session(cache: Path, tmp_path: Path, capabilities: dict, early: bool = True) -> dict:
    """initialize, then lint one document; every message the server sent, by kind."""
    client = _server(cache, early)
    try:
        answer = client.request(
            "initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                           "capabilities": capabilities}, timeout=120)  # fmt: skip
        client.notify("initialized", {})
        uri = (tmp_path / "train.py").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": BAD}})  # fmt: skip
        codes = [d["code"] for d in client.diagnostics(uri, timeout=120)["diagnostics"]]
        assert client.close() == 0
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
    while not client.messages.empty():
        message = client.messages.get()
        if message is not None:
            client.seen.append(message)
    return {"answer": answer, "codes": codes, "later": client.seen[1:]}


def test_the_first_start_answers_early_with_pyglss_answer_and_keeps_nothing(tmp_path):
    cache = tmp_path / "cache"
    early = _session(cache, tmp_path, NOTEBOOK_CLIENT)
    assert not (cache / "server").exists()  # computed, not kept
    ordinary = _session(tmp_path / "none", tmp_path, NOTEBOOK_CLIENT, early=False)
    assert early["answer"] == ordinary["answer"]
    assert early["codes"] == ordinary["codes"] and "LL101" in early["codes"]
    # answered once: no second response to the initialize request ever comes
    assert not [m for m in early["later"] if m.get("id") == 1 and "method" not in m]
    assert not [m for m in early["later"] if m.get("method") == "window/logMessage"
                and "out of date" in m["params"]["message"]]  # fmt: skip


def test_the_answer_is_sent_before_pygls_is_imported():
    body = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "initialize",
                       "params": {"processId": None, "capabilities": {}}})  # fmt: skip
    code = f"""
import io, json, sys
from lorlint import server_start
out = io.BytesIO()
stdin = io.BytesIO(b"Content-Length: {len(body)}\\r\\n\\r\\n" + {body.encode()!r})
replay, request = server_start.start(stdin, out)
assert request.sent is not None and request.key is None, request
heavy = [m for m in sys.modules if m.split(".")[0] in ("pygls", "lsprotocol", "cattrs")]
assert heavy == ["pygls", "pygls.uris"], heavy  # its URI helpers only (stdlib-based)
sys.stdout.buffer.write(out.getvalue())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    header, _, sent = out.stdout.partition(b"\r\n\r\n")
    assert header.startswith(b"Content-Length: %d\r\n" % len(sent))
    assert json.loads(sent)["id"] == 3 and "capabilities" in json.loads(sent)["result"]


def test_a_request_it_does_not_model_gets_pyglss_answer_then_the_kept_one(tmp_path):
    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, UNMODELLED)
    assert first["answer"]["result"]["capabilities"]["textDocumentSync"]["willSave"] is False
    kept = list((cache / "server").glob("*.json"))
    assert len(kept) == 1  # pygls's answer, kept
    second = _session(cache, tmp_path, UNMODELLED)
    assert second["answer"] == first["answer"]
    assert second["codes"] == first["codes"] and "LL101" in second["codes"]
    assert not [m for m in second["later"] if m.get("id") == 1 and "method" not in m]
    assert list((cache / "server").glob("*.json")) == kept  # the same, not rewritten as new
    ordinary = _session(tmp_path / "none", tmp_path, UNMODELLED, early=False)
    assert ordinary["answer"] == first["answer"]
    assert not (tmp_path / "none").exists()


def test_another_client_gets_its_own_answer(tmp_path):
    cache = tmp_path / "cache"
    plain = _session(cache, tmp_path, {})["answer"]["result"]["capabilities"]
    caps = _session(cache, tmp_path, NOTEBOOK_CLIENT)["answer"]["result"]["capabilities"]
    assert caps["positionEncoding"] == "utf-8" and "notebookDocumentSync" in caps
    assert plain["positionEncoding"] == "utf-16" and "notebookDocumentSync" not in plain
    for _ in range(2):  # pygls's answer, then the kept one
        caps = _session(cache, tmp_path, {**NOTEBOOK_CLIENT, **UNMODELLED})["answer"]
        assert "notebookDocumentSync" in caps["result"]["capabilities"]
    assert len(list((cache / "server").glob("*.json"))) == 1


def test_a_kept_answer_that_is_not_an_answer_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, UNMODELLED)
    (kept,) = (cache / "server").glob("*.json")
    kept.write_text('{"not": "capabilities"}')
    again = _session(cache, tmp_path, UNMODELLED)
    assert again["answer"] == first["answer"]


def test_the_first_message_is_replayed_to_pygls_byte_for_byte():
    body = b'{"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {}}'
    rest = b"Content-Length: 2\r\n\r\n{}"
    stream = io.BytesIO(b"Content-Length: %d\r\n\r\n" % len(body) + body + rest)
    raw, message = server_start.read_message(stream)
    assert message["id"] == 7 and raw.endswith(body)
    replay = server_start.Replay(raw, stream)
    assert replay.readline() == b"Content-Length: %d\r\n" % len(body)
    assert replay.readline() == b"\r\n"
    assert replay.read(len(body)) == body
    assert replay.readline() == b"Content-Length: 2\r\n"
    assert replay.readline() + replay.read(2) == b"\r\n{}"


def test_only_an_initialize_request_has_an_answer_key():
    assert server_start.answer_key({"method": "initialized", "params": {}}) is None
    assert server_start.answer_key({"method": "initialize", "params": {}}) is None  # no id
    one = server_start.answer_key({"id": 1, "method": "initialize", "params": {}})
    other = {"id": 1, "method": "initialize", "params": {"initializationOptions": {"a": 1}}}
    assert one is not None and server_start.answer_key(other) not in (None, one)
    # the id and an integer process id aside, the whole request decides whether pygls answers
    same = {"id": 2, "method": "initialize", "params": {"processId": 5}}
    assert server_start.answer_key(same) == one
    for params in ({"rootUri": "file://[::1"}, {"trace": "bogus"}, {"x": {"jsonrpc": "2.0"}}):
        message = {"id": 1, "method": "initialize", "params": params}
        assert server_start.answer_key(message) not in (None, one)
    assert server_start.answer_key({"id": 1, "jsonrpc": "1.0", "method": "initialize",
                                    "params": {}}) not in (None, one)  # fmt: skip
    converted = {"id": 1, "method": "initialize", "params": {"processId": "12"}}
    assert server_start.answer_key(converted) is None  # cattrs reads "12" as 12, "x" not at all


def test_the_kept_answer_is_what_answers_and_one_out_of_date_is_forgotten(tmp_path):
    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, UNMODELLED)
    (kept,) = (cache / "server").glob("*.json")
    stale = json.loads(kept.read_text())
    stale["capabilities"]["hoverProvider"] = False  # as if written by another version
    kept.write_text(json.dumps(stale))
    second = _session(cache, tmp_path, UNMODELLED)
    assert second["answer"]["result"]["capabilities"]["hoverProvider"] is False  # answered early
    warnings = [m for m in second["later"] if m.get("method") == "window/logMessage"]
    assert any("out of date" in m["params"]["message"] for m in warnings)
    assert not kept.exists()  # forgotten: the next start answers the ordinary way
    assert _session(cache, tmp_path, UNMODELLED)["answer"] == first["answer"]


def test_a_first_message_pygls_would_frame_otherwise_is_not_read():
    """pygls reads "Content-Length: N\\r\\n" exactly (a lowercase name or a bare newline is no
    header to it): such a message is left for pygls, never answered early."""
    body = b'{"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {"capabilities": {}}}'
    for header in (b"content-length: %d\r\n\r\n", b"Content-Length: %d\n\n"):
        stream = io.BytesIO(header % len(body) + body)
        raw, message = server_start.read_message(stream)
        assert message is None
    first = b"Content-Type: x\r\nContent-Length: %d\r\nContent-Length: 1\r\n\r\n" % len(body)
    raw, message = server_start.read_message(io.BytesIO(first + body))
    assert message["id"] == 7 and raw == first + body
