"""The language server, driven by a real LSP client over stdio (pytest-lsp)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from helpers import REPO
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

BAD = (REPO / "fixtures" / "transformers_peft_llama.py").read_text()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "lorlint", "server"]),
)
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
        )
    )
    lsp_client.root = root
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, name: str, text: str) -> str:
    uri = (Path(client.root) / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )
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


@pytest.mark.asyncio
async def test_diagnostic_at_the_right_range_then_fixed_by_its_code_action(client):
    uri = await open_doc(client, "train.py", BAD)
    (diagnostic,) = [d for d in client.diagnostics[uri] if d.code == "LL101"]
    assert diagnostic.range == types.Range(types.Position(14, 84), types.Position(14, 94))
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.code_description.href.endswith("rules/LL101-unknown-target-module.md")
    assert diagnostic.source == "lorlint"

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert quick[0].title == 'Replace "dwn_proj" with "down_proj" (LL101)'
    assert any(a.kind == "source.fixAll.lorlint" for a in actions)
    fixed = apply_edit(BAD, quick[0].edit.changes[uri][0])
    assert '"down_proj"],' in fixed

    change(client, uri, 2, fixed)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not [d for d in client.diagnostics[uri] if d.code == "LL101"]


@pytest.mark.asyncio
async def test_fix_all_and_syntax_errors_keep_last_good_diagnostics(client):
    uri = await open_doc(client, "other.py", BAD)
    good = {d.code for d in client.diagnostics[uri]}
    assert "LL101" in good
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    (fix_all,) = actions
    assert fix_all.title == "Fix all lorlint issues"
    assert '"down_proj"],' in fix_all.edit.changes[uri][0].new_text

    change(client, uri, 2, BAD + "\nconfig = LoraConfig(\n")
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    codes = {d.code for d in client.diagnostics[uri]}
    assert "LL900" in codes and good <= codes


def _frame(payload: dict) -> bytes:
    import json

    body = json.dumps(payload).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_shutdown_and_exit_are_clean():
    """initialize → shutdown → exit over raw stdio: the process ends with status 0."""
    import subprocess

    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "rootUri": None, "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None},
        {"jsonrpc": "2.0", "method": "exit", "params": None},
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "lorlint", "server"],
        input=b"".join(_frame(m) for m in messages),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert b'"id": 2' in proc.stdout or b'"id":2' in proc.stdout
    assert b"Traceback" not in proc.stderr
