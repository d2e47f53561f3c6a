"""The language server, driven by real LSP clients over stdio (pytest-lsp, and a bare client for
malformed requests and hostile inputs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import pytest_lsp
from helpers import REPO
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from rawlsp import RawClient

BAD = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()
SERVER = [sys.executable, "-m", "lorlint", "server"]


def _capabilities(name: str, notebooks: bool = False) -> types.ClientCapabilities:
    caps = client_capabilities(name)
    if notebooks:
        caps.notebook_document = types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities()
        )
    return caps


async def _start(lsp_client, tmp_path_factory, caps, options=None):
    root = tmp_path_factory.mktemp("workspace")
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps, root_uri=root.as_uri(), initialization_options=options
        )
    )
    lsp_client.root = root
    lsp_client.init_result = result
    return result


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    """VS Code 1.65's capabilities: diagnostics are pushed, code actions resolved lazily."""
    await _start(lsp_client, tmp_path_factory, _capabilities("visual-studio-code", True))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def pull_client(lsp_client: LanguageClient, tmp_path_factory):
    """Neovim 0.11's capabilities: it pulls diagnostics (textDocument/diagnostic)."""
    await _start(lsp_client, tmp_path_factory, _capabilities("neovim"))
    yield
    await lsp_client.shutdown_session()


def open_text(client: LanguageClient, name: str, text: str) -> str:
    uri = (Path(client.root) / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
    return uri


async def open_doc(client: LanguageClient, name: str, text: str) -> str:
    uri = open_text(client, name, text)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def apply_edit(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[: edit.range.start.line]) + edit.range.start.character
    end = sum(len(x) for x in lines[: edit.range.end.line]) + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


async def actions_for(client, uri, rng, diagnostics=(), only=None):
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )


@pytest.mark.asyncio
async def test_capabilities_advertise_what_is_implemented(client):
    caps = client.init_result.capabilities
    assert list(caps.execute_command_provider.commands) == ["lorlint.applyAutofix"]
    assert caps.hover_provider and caps.diagnostic_provider
    assert caps.code_action_provider.resolve_provider
    assert caps.notebook_document_sync.notebook_selector[0].notebook == "jupyter-notebook"
    assert caps.completion_provider is None and caps.definition_provider is None


@pytest.mark.asyncio
async def test_diagnostic_at_the_right_range_then_fixed_by_its_resolved_code_action(client):
    uri = await open_doc(client, "train.py", BAD)
    (diagnostic,) = [d for d in client.diagnostics[uri] if d.code == "LL101"]
    assert diagnostic.range == types.Range(types.Position(14, 84), types.Position(14, 94))
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.code_description.href.endswith("rules/LL101-unknown-target-module.md")
    assert diagnostic.source == "lorlint"

    actions = await actions_for(client, uri, diagnostic.range, [diagnostic])
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert quick[0].title == 'Replace "dwn_proj" with "down_proj" (LL101)'
    assert quick[0].edit is None  # resolved on demand
    resolved = await client.code_action_resolve_async(quick[0])
    fixed = apply_edit(BAD, resolved.edit.changes[uri][0])
    assert '"down_proj"],' in fixed

    change(client, uri, 2, fixed)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not [d for d in client.diagnostics[uri] if d.code == "LL101"]


@pytest.mark.asyncio
async def test_fix_all_and_syntax_errors_keep_last_good_diagnostics(client):
    uri = await open_doc(client, "other.py", BAD)
    good = {d.code for d in client.diagnostics[uri]}
    assert "LL101" in good
    zero = types.Range(types.Position(0, 0), types.Position(0, 0))
    (fix_all,) = await actions_for(client, uri, zero, only=["source.fixAll"])
    assert fix_all.title == "Fix all lorlint issues"
    fix_all = await client.code_action_resolve_async(fix_all)
    assert '"down_proj"],' in fix_all.edit.changes[uri][0].new_text

    change(client, uri, 2, BAD + "\nconfig = LoraConfig(\n")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    codes = {d.code for d in client.diagnostics[uri]}
    assert "LL900" in codes and good <= codes
    change(client, uri, 3, BAD + "\nconfig = LoraConfig(\nx\n")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri]].count("LL900") == 1


@pytest.mark.asyncio
async def test_pull_diagnostics(pull_client):
    client = pull_client
    uri = open_text(client, "train.py", BAD)
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [d.code for d in report.items] == ["LL101"]
    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            previous_result_id=report.result_id,
        )
    )
    assert again.kind == "unchanged"
    change(client, uri, 2, BAD.replace("dwn_proj", "down_proj"))
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            previous_result_id=report.result_id,
        )
    )
    assert report.kind == "full" and list(report.items) == []
    assert uri not in client.diagnostics  # a client that pulls is never pushed to


NOTEBOOK_CELLS = [
    ("markdown", "# Fine-tuning"),
    ("code", 'from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")'),
    ("code", '%pip install peft\nconfig = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "dwn_proj"], task_type="CAUSAL_LM")\nmodel = get_peft_model(model, config)'),
]  # fmt: skip


@pytest.mark.asyncio
async def test_notebook_cells_are_one_module(client):
    nb_uri = (Path(client.root) / "train.ipynb").as_uri()
    cells, docs = [], []
    for i, (kind, text) in enumerate(NOTEBOOK_CELLS):
        cell_uri = f"vscode-notebook-cell:{Path(client.root) / 'train.ipynb'}#cell{i}"
        cell_kind = types.NotebookCellKind.Code if kind == "code" else types.NotebookCellKind.Markup
        cells.append(types.NotebookCell(kind=cell_kind, document=cell_uri))
        language = "python" if kind == "code" else "markdown"
        docs.append(types.TextDocumentItem(cell_uri, language, 1, text))
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(nb_uri, "jupyter-notebook", 1, cells),
            cell_text_documents=docs,
        )
    )
    target = docs[2].uri
    while target not in client.diagnostics:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    (finding,) = client.diagnostics[target]
    # the model is loaded in another cell: the cells are one module, as `lorlint check` reads them
    assert finding.code == "LL101" and "meta-llama/Llama-3.1-8B" in finding.message
    row = NOTEBOOK_CELLS[2][1].splitlines()[1]
    assert finding.range.start == types.Position(1, row.index('"dwn_proj"'))
    fixed = NOTEBOOK_CELLS[2][1].replace("dwn_proj", "down_proj")
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=nb_uri),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(uri=target, version=2),
                            changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
                        )
                    ]
                )
            ),
        )
    )
    while client.diagnostics[target]:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[target]) == []


@pytest.mark.asyncio
async def test_settings_from_the_editor(client):
    uri = await open_doc(client, "settings.py", BAD)
    assert {d.code for d in client.diagnostics[uri]} == {"LL101"}
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"lorlint": {"ignore": ["LL101"]}})
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"lorlint": {"select": ["LL1"], "model": "gpt2"}}
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    messages = {d.message for d in client.diagnostics[uri]}
    assert messages and all("gpt2" in m for m in messages)


@pytest.mark.asyncio
async def test_hover_on_target_entries_and_the_model(client):
    uri = await open_doc(client, "hover.py", BAD)

    async def hover_at(line: int, needle: str) -> str:
        character = BAD.splitlines()[line].index(needle) + 1
        result = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line, character),
            )
        )
        return result.contents.value if result else ""

    typo = await hover_at(14, '"dwn_proj"')
    assert "**LL101 unknown-target-module** (error)" in typo and "Checks every entry" in typo
    assert "`dwn_proj` matches no module" in typo
    q_proj = await hover_at(14, '"q_proj"')
    assert "`q_proj` → 32 modules of meta-llama/Llama-3.1-8B" in q_proj
    assert "`self_attn.q_proj` Linear 4096→4096 × 32" in q_proj
    model = await hover_at(5, '"meta-llama')  # MODEL_ID = "meta-llama/Llama-3.1-8B"
    assert "LlamaForCausalLM" in model and "config from" in model and "self_attn.q_proj" in model
    assert await hover_at(2, "peft") == ""


def _raw(tmp_path, capabilities=None, env=None) -> RawClient:
    import os

    client = RawClient(SERVER, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    client.initialize(tmp_path.as_uri(), capabilities)
    return client


def _open(client: RawClient, uri: str, text: str, language: str = "python") -> None:
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
    )


def test_apply_autofix_command(tmp_path):
    client = _raw(tmp_path)
    try:
        uri = (tmp_path / "t.py").as_uri()
        _open(client, uri, BAD)
        client.diagnostics(uri)
        client.send({"jsonrpc": "2.0", "id": 99, "method": "workspace/executeCommand",
                     "params": {"command": "lorlint.applyAutofix", "arguments": [{"uri": uri}]}})  # fmt: skip
        request = client.wait(lambda m: m.get("method") == "workspace/applyEdit")
        (edit,) = request["params"]["edit"]["changes"][uri]
        assert '"down_proj"],' in edit["newText"]
    finally:
        assert client.close() == 0


MALFORMED = [
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.py"},
                            "position": {"line": -1, "character": -5}}),
    ("textDocument/hover", None),
    ("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"}}),
    ("textDocument/diagnostic", {}),
    ("codeAction/resolve", {"kind": "quickfix"}),
    ("workspace/executeCommand", {"command": "lorlint.nope"}),
    ("lorlint/unknownMethod", {}),
]  # fmt: skip


def test_malformed_requests_get_error_responses(tmp_path):
    client = _raw(tmp_path)
    try:
        for method, params in MALFORMED:
            response = client.request(method, params, timeout=30)
            assert "error" in response, (method, response)
            assert isinstance(response["error"]["code"], int)
        client.send(b"{not json")
        response = client.request("shutdown", None, timeout=30)
        assert "result" in response
        client.notify("exit", None)
        assert client.proc.wait(30) == 0
    finally:
        client.close()


HOSTILE = {
    "lambdas.py": "from peft import LoraConfig\nx = " + "lambda: " * 5000 + "0\n",
    "minus.py": "from peft import LoraConfig\nx = " + "-" * 20000 + "1\n",
    "calls.py": "from peft import LoraConfig\nx = f" + "()" * 10000 + "\n",
    "nested.py": "from peft import LoraConfig\nx = " + "[" * 5000 + "]" * 5000 + "\n",
    "sum.py": "from peft import LoraConfig\nLoraConfig(target_modules=" + "+".join(['"a"'] * 5000) + ")\n",
    "redos.py": 'from peft import LoraConfig\n# lorlint: model=meta-llama/Llama-3.1-8B\nLoraConfig(target_modules="(a+)+$")\n',
    "range.py": "from peft import LoraConfig\nLoraConfig(target_modules=['q'], layers_to_transform=list(range(10**8)))\n",
    "nul.py": "from peft import LoraConfig\x00\x01",
    "surrogate.py": "from peft import LoraConfig\nx = '\ud800'\n",
    "bad.ipynb": '{"cells": [{"cell_type": "code", "source": [1, [2]]}]}',
    "tags.yml": "base_model: !!python/name:os.system\nadapter: lora\nlora_target_modules: [q_proj]\n",
    "deep.yml": "adapter: lora\nx: " + "[" * 10000 + "]" * 10000 + "\n",
    "adapter_config.json": '{"peft_type": "LORA", "target_modules": ' + "[" * 10000 + "]" * 10000 + "}",
}  # fmt: skip


def test_hostile_documents_never_take_the_server_down(tmp_path):
    client = _raw(tmp_path, env={"LORLINT_LINT_TIMEOUT": "5"})  # a hang costs 5 s, not 30
    try:
        for name, text in HOSTILE.items():
            uri = (tmp_path / name).as_uri()
            _open(client, uri, text)
            published = client.diagnostics(uri, timeout=120)
            assert isinstance(published["diagnostics"], list), name
            hover = client.request(
                "textDocument/hover",
                {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 30}},
                timeout=120,
            )
            assert "result" in hover or "error" in hover
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        good = (tmp_path / "good.py").as_uri()
        _open(client, good, BAD)
        assert [d["code"] for d in client.diagnostics(good)["diagnostics"]] == ["LL101"]
    finally:
        assert client.close() == 0


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_memory_returns_after_a_large_document_is_closed(tmp_path):
    """Open, lint and close a 1 MB document three times: after the first round (which also
    imports what unpickling diagnostics needs), each close brings the server back where the
    previous left it (no growth per document: nothing of it stays), below its peak with the
    document open."""
    client = _raw(tmp_path)
    big_text = BAD + "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(30000))
    assert len(big_text) > 1_000_000
    figures = []
    try:
        for round_ in range(3):
            big = (tmp_path / f"big{round_}.py").as_uri()
            _open(client, big, big_text)
            client.diagnostics(big, timeout=300)
            during = _rss_kib(client.proc.pid)
            client.notify("textDocument/didClose", {"textDocument": {"uri": big}})
            client.diagnostics(big)  # cleared: the close has been handled
            client.request("hover", None)  # a round trip after it (an error response)
            figures.append((during, _rss_kib(client.proc.pid)))
        print(json.dumps({"rss_kib_during_after": figures}))
        afters = [after for _, after in figures[1:]]
        assert max(afters) - min(afters) < 2048, figures  # no growth per document
        assert all(during - after > 1024 for during, after in figures), figures  # given back
    finally:
        assert client.close() == 0


def test_a_message_that_cannot_be_written_is_reported_once():
    """After ``exit`` the editor may close the pipe while a message is still on its way: pygls
    reports the failed write with a window/showMessage, whose write fails too. Without the guard
    that recursed to Python's recursion limit (the malformed-requests test above hung for tens of
    seconds about one run in fifteen); now the report's own failure is not reported again."""
    from lorlint import server

    class ClosedPipe:
        writes = 0

        def write(self, data):
            ClosedPipe.writes += 1
            raise ValueError("I/O operation on closed file")

    lsp = server.LorlintServer()
    lsp.protocol.set_writer(ClosedPipe())
    lsp.protocol._send_data({"jsonrpc": "2.0", "method": "window/logMessage", "params": {}})
    assert ClosedPipe.writes == 2  # the message, then one report of its failure
    assert not lsp.reporting_error


def test_a_worker_starting_when_shutdown_comes_does_not_outlive_it(monkeypatch):
    """``shutdown`` may arrive while the worker warmed after ``initialized`` is still starting:
    that process is killed as soon as it exists, and no other is started."""
    import asyncio

    from lorlint import server

    worker = server.Worker()
    started = []
    real_exec = asyncio.create_subprocess_exec

    async def exec_during_shutdown(*args, **kwargs):
        process = await real_exec(sys.executable, "-c", "import time; time.sleep(60)", **kwargs)
        started.append(process)
        worker.shut_down = True  # the shutdown request, handled while the worker starts
        worker.stop()
        return process

    async def scenario():
        with pytest.raises(server.WorkerCrashed, match="shutting down"):
            await worker.run("warm", timeout=5)
        assert await asyncio.wait_for(started[0].wait(), 10) is not None  # killed
        with pytest.raises(server.WorkerCrashed, match="shutting down"):
            await worker.run("warm", timeout=5)  # nothing starts after shutdown
        assert len(started) == 1 and worker.process is None

    monkeypatch.setattr(asyncio, "create_subprocess_exec", exec_during_shutdown)
    asyncio.run(scenario())


def test_hover_reads_the_model_as_the_linter_does(monkeypatch, tmp_path):
    """The hover's view of the model is the linter's: the class the script loads it with is
    passed too (a concrete class fixes the architecture and the table)."""
    from lorlint import engine, server_worker

    path = tmp_path / "t.py"
    path.write_text(
        "from peft import LoraConfig, get_peft_model\n"
        "from transformers import GPT2LMHeadModel\n"
        'model = GPT2LMHeadModel.from_pretrained("gpt2")\n'
        'config = LoraConfig(target_modules=["c_attn"])\n'
        "model = get_peft_model(model, config)\n"
    )
    asked = []
    get = engine.ViewCache.get

    def recording_get(self, reference, task, base_dir, loader=None):
        asked.append((reference, task, loader))
        return get(self, reference, task, base_dir, loader)

    monkeypatch.setattr(engine.ViewCache, "get", recording_get)
    job = server_worker.LintJob(str(path), path.read_text(), {})
    text = server_worker.hover(job, 4, 38)
    assert "c_attn" in text
    assert asked and {loader for _, _, loader in asked} == {"GPT2LMHeadModel"}
