"""``lorlint server``: a language server over stdio (pygls).

Diagnostics on open, change (debounced) and save; quick fixes for every fix a diagnostic carries,
and "Fix all lorlint issues" (``source.fixAll.lorlint``). Linting runs in a worker thread, so a
layer table that must be built never blocks the editor; a file that stops parsing keeps its last
good diagnostics.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lorlint import __version__, config
from lorlint.checks import RULES, Diagnostic
from lorlint.commands.check import per_file_ignores, selection
from lorlint.engine import Options, ViewCache, lint_text
from lorlint.fixes import Fix
from lorlint.fixes import apply as apply_fixes
from lorlint.frontends.names import file_kind

DEBOUNCE_SECONDS = 0.3
FIX_ALL = "source.fixAll.lorlint"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


@dataclass
class DocumentState:
    version: int | None = None
    diagnostics: list[types.Diagnostic] = field(default_factory=list)  # last good lint
    fixes: list[tuple[types.Diagnostic, Fix]] = field(default_factory=list)
    source: str = ""  # the text those fixes apply to


class LorlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "lorlint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents: dict[str, DocumentState] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.views = ViewCache(online=False)
        self.lock = threading.Lock()  # one lint at a time shares the model views

    # --- linting ----------------------------------------------------------------------------
    def _lint(self, path: str, source: str) -> list[Diagnostic]:
        settings = config.load(Path(path).parent)
        args = SimpleNamespace(select=None, ignore=None, extend_select=None)
        options = Options(
            model=settings.model,
            model_origin="config",
            online=settings.online,
            selected=selection(args, settings),
        )
        with self.lock:
            found = lint_text(path, source, options, self.views)
        ignored = per_file_ignores(Path(path), settings)
        return [d for d in found if d.code not in ignored]

    async def lint(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        version, source = doc.version, doc.source
        kind = file_kind(Path(doc.path).name)
        if kind == "notebook":
            return  # findings are in cell coordinates; editors send cells, not the JSON file
        try:
            found = await asyncio.to_thread(self._lint, doc.path, source)
        except Exception as err:  # never take the editor down with us
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"lorlint: {err!r}")
            )
            return
        if self.workspace.get_text_document(uri).version != version:
            return  # the text moved on while we linted; a newer lint is scheduled
        state = self.documents.setdefault(uri, DocumentState())
        parse_failed = [d for d in found if d.code == "LL900"]
        converted = [(self._to_lsp(doc, d), d) for d in found]
        if parse_failed:
            shown = state.diagnostics + [c for c, _ in converted]
        else:
            state.diagnostics = [c for c, _ in converted]
            state.fixes = [
                (c, d.fix) for c, d in converted if d.fix is not None and kind in (None, "python")
            ]
            state.source = source
            shown = state.diagnostics
        state.version = version
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=shown, version=version)
        )

    def schedule(self, uri: str) -> None:
        """Debounce: lint once typing pauses."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later() -> None:
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self.pending.pop(uri, None)
            await self.lint(uri)

        self.pending[uri] = asyncio.ensure_future(later())

    # --- conversions ------------------------------------------------------------------------
    @staticmethod
    def _range(doc, span) -> types.Range:
        codec, lines = doc.position_codec, doc.lines
        start = codec.position_to_client_units(lines, types.Position(span.row - 1, span.col - 1))
        end = codec.position_to_client_units(
            lines, types.Position(span.end_row - 1, span.end_col - 1)
        )
        return types.Range(start=start, end=end)

    def _to_lsp(self, doc, d: Diagnostic) -> types.Diagnostic:
        return types.Diagnostic(
            range=self._range(doc, d.span),
            message=d.message,
            severity=SEVERITY[d.severity],
            code=d.code,
            code_description=types.CodeDescription(href=RULES[d.code].url),
            source="lorlint",
        )

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        state = self.documents.get(uri)
        doc = self.workspace.get_text_document(uri)
        if state is None or state.source != doc.source:
            return []  # fixes were computed for another text
        only = params.context.only
        actions: list[types.CodeAction] = []
        if not only or types.CodeActionKind.QuickFix in only:
            for diagnostic, fix in state.fixes:
                if not _overlaps(diagnostic.range, params.range):
                    continue
                edits = [types.TextEdit(self._range(doc, e.span), e.content) for e in fix.edits]
                actions.append(
                    types.CodeAction(
                        title=f"{fix.message} ({diagnostic.code})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=fix.applicability == "safe",
                        edit=types.WorkspaceEdit(changes={uri: edits}),
                    )
                )
        safe = [fix for _, fix in state.fixes if fix.applicability == "safe"]
        wants_fix_all = not only or any(FIX_ALL.startswith(kind) for kind in only)
        if safe and wants_fix_all:
            fixed, _ = apply_fixes(state.source, safe)
            whole = types.Range(types.Position(0, 0), types.Position(len(doc.lines), 0))
            actions.append(
                types.CodeAction(
                    title="Fix all lorlint issues",
                    kind=FIX_ALL,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(whole, fixed)]}),
                )
            )
        return actions


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


server = LorlintServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: LorlintServer, params: types.DidOpenTextDocumentParams) -> None:
    await ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LorlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: LorlintServer, params: types.DidSaveTextDocumentParams) -> None:
    await ls.lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LorlintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.documents.pop(uri, None)
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def code_action(ls: LorlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    return ls.code_actions(params)


def main() -> int:
    server.start_io()
    return 0
