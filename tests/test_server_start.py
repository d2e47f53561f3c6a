"""``initialize`` answered before pygls is imported (lorlint/server_start.py): the same answer as
pygls's, once, and the server works after it exactly as after an ordinary start."""

from __future__ import annotations

import io
import os
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


def test_a_second_start_answers_initialize_early_with_pyglss_own_answer(tmp_path):
    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, {})
    kept = list((cache / "server").glob("*.json"))
    assert len(kept) == 1  # pygls's answer, kept
    second = _session(cache, tmp_path, {})
    assert second["answer"] == first["answer"]
    assert second["codes"] == first["codes"] and "LL101" in second["codes"]
    # answered once: no second response to the initialize request ever comes
    assert not [m for m in second["later"] if m.get("id") == 1 and "method" not in m]
    assert list((cache / "server").glob("*.json")) == kept  # the same, not rewritten as new
    ordinary = _session(tmp_path / "none", tmp_path, {}, early=False)
    assert ordinary["answer"] == first["answer"]
    assert not (tmp_path / "none").exists()


def test_another_client_gets_its_own_answer(tmp_path):
    cache = tmp_path / "cache"
    plain = _session(cache, tmp_path, {})["answer"]["result"]["capabilities"]
    for _ in range(2):  # the ordinary answer, then the early one
        caps = _session(cache, tmp_path, NOTEBOOK_CLIENT)["answer"]["result"]["capabilities"]
        assert caps["positionEncoding"] == "utf-8" and "notebookDocumentSync" in caps
    assert plain["positionEncoding"] == "utf-16" and "notebookDocumentSync" not in plain
    assert len(list((cache / "server").glob("*.json"))) == 2


def test_a_kept_answer_that_is_not_an_answer_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, {})
    (kept,) = (cache / "server").glob("*.json")
    kept.write_text('{"not": "capabilities"}')
    again = _session(cache, tmp_path, {})
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
    same = {"id": 2, "method": "initialize", "params": {"processId": 5, "rootUri": "file:///x"}}
    assert server_start.answer_key(same) == one


def test_the_kept_answer_is_what_answers_and_one_out_of_date_is_forgotten(tmp_path):
    import json

    cache = tmp_path / "cache"
    first = _session(cache, tmp_path, {})
    (kept,) = (cache / "server").glob("*.json")
    stale = json.loads(kept.read_text())
    stale["capabilities"]["hoverProvider"] = False  # as if written by another version
    kept.write_text(json.dumps(stale))
    second = _session(cache, tmp_path, {})
    assert second["answer"]["result"]["capabilities"]["hoverProvider"] is False  # answered early
    warnings = [m for m in second["later"] if m.get("method") == "window/logMessage"]
    assert any("out of date" in m["params"]["message"] for m in warnings)
    assert not kept.exists()  # forgotten: the next start answers the ordinary way
    assert _session(cache, tmp_path, {})["answer"] == first["answer"]
