"""``lorlint server``: a language server over stdio (pygls), in the manner of ``ruff server``.

- Diagnostics: pulled (``textDocument/diagnostic``) when the client supports it, else pushed on
  open, change and save. A document is linted again as soon as the previous lint of it ends, so
  at most one lint per document is running and the newest text always gets linted — no fixed
  debounce. A file that stops parsing keeps its last good diagnostics.
- Notebooks (``notebookDocument/*``): the code cells are linted as one module, as ``lorlint check``
  does, and each cell gets its own diagnostics.
- Quick fixes for every fix a diagnostic carries, "Fix all lorlint issues"
  (``source.fixAll.lorlint``), both resolved lazily where the client supports it
  (``codeAction/resolve``); the command ``lorlint.applyAutofix``.
- Hover on a target entry (its findings' rules and the modules it matches) and on a model id
  (architecture, where its config comes from, its block table).
- Settings: the project's ``[tool.lorlint]``, then the editor's (``initializationOptions`` and
  ``workspace/didChangeConfiguration``: ``select``, ``ignore``, ``extendSelect``, ``model``).
  ``online`` is never taken from the editor, whose workspace settings may come with a cloned
  project.

Linting and hovers run in a worker process (:mod:`lorlint.server_worker`): the loop stays
responsive, a crash or a hang on a hostile file costs that file an LL900, not the server, and
this module imports nothing heavy, so ``initialize`` is answered in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import gc
import json
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from lorlint import __version__

FIX_ALL = "source.fixAll.lorlint"
APPLY_AUTOFIX = "lorlint.applyAutofix"
LINT_TIMEOUT = 30.0  # seconds; a lint that takes longer is stopped and reported
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
RULES_URL = "https://github.com/lorlint/lorlint/blob/main/rules/{code}-{name}.md"
SETTING_KEYS = {"select": "select", "ignore": "ignore", "extendSelect": "extend-select",
                "extend-select": "extend-select", "model": "model"}  # fmt: skip


@dataclass
class DocumentState:
    version: int | None = None  # the version the diagnostics below are for
    diagnostics: list[types.Diagnostic] = field(default_factory=list)  # shown to the client
    good: list[types.Diagnostic] = field(default_factory=list)  # the last lint that parsed
    fixes: list[tuple[types.Diagnostic, Any]] = field(default_factory=list)  # (diagnostic, Fix)
    source: str = ""  # the text those fixes apply to


class WorkerCrashed(RuntimeError):
    pass


class Worker:
    """One child process (``python -m lorlint.server_worker``) that lints and hovers, spoken to
    over its own pipes; started at first use and replaced when it crashes or overruns the
    timeout. A subprocess rather than a fork: the server's threads (its stdin reader) hold locks
    a forked child could inherit held."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()  # one request at a time
        self.shut_down = False  # after ``shutdown`` no worker is started again

    async def _start(self) -> asyncio.subprocess.Process:
        if self.process is None or self.process.returncode is not None:
            import sys

            if self.shut_down:
                raise WorkerCrashed("the server is shutting down")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "lorlint.server_worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=2**30,
            )  # fmt: skip
            if self.shut_down:  # ``shutdown`` came while it was starting: it must not outlive it
                process.kill()
                raise WorkerCrashed("the server is shutting down")
            self.process = process
        return self.process

    async def run(self, name: str, *args, timeout: float | None = None):
        """Call ``lorlint.server_worker.<name>(*args)`` in the child; its result."""
        import pickle

        timeout = timeout or lint_timeout()
        async with self.lock:
            process = await self._start()
            try:
                payload = pickle.dumps((name, args), protocol=pickle.HIGHEST_PROTOCOL)
                process.stdin.write(len(payload).to_bytes(8, "big") + payload)
                await process.stdin.drain()
                header = await asyncio.wait_for(process.stdout.readexactly(8), timeout)
                body = await asyncio.wait_for(
                    process.stdout.readexactly(int.from_bytes(header, "big")), timeout
                )
            except asyncio.TimeoutError:
                self.stop()
                raise WorkerCrashed(f"stopped after {timeout:.0f} s") from None
            except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError):
                self.stop()
                raise WorkerCrashed("the lint process crashed") from None
        ok, value = pickle.loads(body)
        if not ok:
            raise WorkerCrashed(value)
        return value

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.kill()


def lint_timeout() -> float:
    """Seconds a lint may take before its process is replaced (LORLINT_LINT_TIMEOUT)."""
    import os

    try:
        return float(os.environ.get("LORLINT_LINT_TIMEOUT", LINT_TIMEOUT))
    except ValueError:
        return LINT_TIMEOUT


class _Ignored:
    jsonrpc = "ignored"  # handle_message drops it


class Protocol(LanguageServerProtocol):
    """pygls drops a request whose params do not fit the LSP types (a negative position, missing
    params) without a response, and the client waits forever: answer it with the error.

    The ``initialize`` request may have been answered before pygls was imported
    (:mod:`lorlint.server_start`): pygls's own answer to it is then not sent again (a different
    one is reported), and otherwise it is kept for the next start where that is what answers."""

    initialize = None  # lorlint.server_start.Initialize: the first message, when it is that

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException as err:
            if isinstance(data, dict) and "id" in data and "method" in data:
                reason = f"{err.message} for {data.get('method')!s:.60}: {err.__cause__ or ''}"
                self._send_response(
                    data["id"], error=types.ResponseError(err.code, reason.strip()[:500])
                )
                return _Ignored()
            raise

    def _send_response(self, msg_id, result=None, error=None):
        request = self.initialize
        if request is None or msg_id != request.id:
            return super()._send_response(msg_id, result, error)
        self.initialize = None
        from lorlint import server_start

        answer = None
        if error is None:
            answer = json.loads(json.dumps(result, default=self._serialize_message))
        if request.sent is None:
            super()._send_response(msg_id, result, error)
            if answer is not None and request.key is not None:
                server_start.remember(request.key, answer)
            return
        self._result_types.pop(msg_id, None)  # answered already: nothing is sent
        if answer != request.sent:  # not expected: forget it
            if request.key is not None:
                server_start.forget(request.key)
            self._server.window_log_message(
                types.LogMessageParams(
                    types.MessageType.Warning,
                    "lorlint: the server's early initialize answer was out of date; "
                    "restart the server to get its current capabilities",
                )
            )


class LorlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "lorlint",
            __version__,
            protocol_cls=Protocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        notebook="jupyter-notebook",
                        cells=[types.NotebookCellLanguage(language="python")],
                    )
                ],
                save=True,
            ),
        )
        self.documents: dict[str, DocumentState] = {}  # text documents and notebook cells
        self.running: dict[str, asyncio.Task] = {}  # key: a document or notebook uri
        self.dirty: set[str] = set()
        self.worker = Worker()
        self.settings: dict = {}  # the editor's, as [tool.lorlint] keys
        self.shown_messages: set[str] = set()
        self.warming: asyncio.Future | None = None
        self.reporting_error = False

    def report_server_error(self, error: Exception, source) -> None:
        """pygls's report (a window/showMessage), never made from within another. When a message
        cannot be written (the editor closed the pipe, after ``exit``), pygls reports that by
        sending a message, which fails the same way and is reported again: a recursion down to
        Python's limit, logging each ever longer chain of tracebacks, that kept the process
        alive for tens of seconds after ``exit``. Such a failure is now logged once."""
        if self.reporting_error:
            return
        self.reporting_error = True
        try:
            super().report_server_error(error, source)
        finally:
            self.reporting_error = False

    # --- client capabilities ----------------------------------------------------------------
    @property
    def pulls(self) -> bool:
        """The client asks for diagnostics (textDocument/diagnostic): then we never push."""
        text = self.client_capabilities.text_document
        return text is not None and text.diagnostic is not None

    @property
    def resolves_edits(self) -> bool:
        text = self.client_capabilities.text_document
        action = text.code_action if text else None
        support = action.resolve_support if action else None
        return support is not None and "edit" in support.properties

    def set_settings(self, raw) -> None:
        """Editor settings: ``{"lorlint": {...}}``, ``{"settings": {...}}`` or the keys alone."""
        if isinstance(raw, dict):
            raw = raw.get("lorlint", raw.get("settings", raw))
        settings = {}
        for key, value in (raw or {}).items() if isinstance(raw, dict) else ():
            if key in SETTING_KEYS and value not in (None, [], ""):
                settings[SETTING_KEYS[key]] = value
        self.settings = settings

    # --- documents ----------------------------------------------------------------------------
    def notebook_of(self, uri: str):
        """The notebook document a cell URI belongs to (None for a plain text document)."""
        return self.workspace.get_notebook_document(cell_uri=uri)

    def request_lint(self, key: str) -> asyncio.Task:
        """Lint ``key`` now, or right after the lint of it that is running (newest text wins)."""
        task = self.running.get(key)
        if task is not None:
            self.dirty.add(key)
            return task
        task = asyncio.ensure_future(self._lint_until_current(key))
        self.running[key] = task
        return task

    async def _lint_until_current(self, key: str) -> None:
        try:
            while True:
                self.dirty.discard(key)
                try:
                    await self._lint_once(key)
                except Exception as err:  # a bug: logged, and the editor keeps working
                    self.window_log_message(
                        types.LogMessageParams(types.MessageType.Error, f"lorlint: {err!r}")
                    )
                if key not in self.dirty:
                    return
        finally:
            self.running.pop(key, None)

    async def _lint_once(self, key: str) -> None:
        from lorlint import server_worker

        notebook = self.workspace.notebook_documents.get(key)
        if notebook is not None:
            await self._lint_notebook(notebook)
            return
        try:
            doc = self.workspace.get_text_document(key)
        except Exception:  # closed meanwhile
            return
        if key not in self.documents:
            return
        version, source = doc.version, doc.source
        job = server_worker.LintJob(doc.path, source, self.settings)
        found = await self._run_lint(job)
        if key not in self.documents or self.workspace.get_text_document(key).version != version:
            return  # closed or edited meanwhile: the loop lints the newer text
        self._store(key, doc, version, source, found, fixes=True)

    async def _lint_notebook(self, notebook) -> None:
        """The code cells as one module (as `lorlint check` reads a .ipynb), findings per cell."""
        import json

        from lorlint import server_worker

        cells, texts = [], []
        for cell in notebook.cells:
            doc = self.workspace.get_text_document(cell.document)
            code = cell.kind == types.NotebookCellKind.Code
            cells.append({"cell_type": "code" if code else "markdown", "source": doc.source,
                          "metadata": {}, **({"outputs": [], "execution_count": None} if code else {})})  # fmt: skip
            texts.append((cell.document, doc.version, doc.source))
        data = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        path = to_fs_path(notebook.uri) or notebook.uri
        if not path.endswith(".ipynb"):
            path += ".ipynb"
        found = await self._run_lint(server_worker.LintJob(path, json.dumps(data), self.settings))
        current = [
            (c.document, self.workspace.get_text_document(c.document).version)
            for c in notebook.cells
        ]
        if current != [(uri, version) for uri, version, _ in texts]:
            return  # a cell changed meanwhile
        by_cell: dict[int, list] = {i + 1: [] for i in range(len(texts))}
        for d in found:
            by_cell.setdefault(d.cell or 1, []).append(d)
        for number, (uri, version, source) in enumerate(texts, 1):
            if uri in self.documents:
                doc = self.workspace.get_text_document(uri)
                self._store(uri, doc, version, source, by_cell.get(number, []), fixes=True)

    async def _run_lint(self, job) -> list:
        """The worker's diagnostics, or an LL900 saying why there are none."""

        try:
            result = await self.worker.run("lint", job)
        except WorkerCrashed as err:
            return [_crash_diagnostic(job.path, str(err))]
        for message in result.messages:
            if message not in self.shown_messages:
                self.shown_messages.add(message)
                self.window_show_message(
                    types.ShowMessageParams(types.MessageType.Warning, message)
                )
        return result.diagnostics

    def _store(self, uri, doc, version, source, found, fixes: bool) -> None:
        state = self.documents.setdefault(uri, DocumentState())
        converted = [(self._to_lsp(doc, d), d) for d in found]
        if any(d.code == "LL900" for d in found):  # keep the last good findings while typing
            shown = state.good + [c for c, d in converted if d.code == "LL900"]
        else:
            shown = state.good = [c for c, _ in converted]
            state.fixes = [(c, d.fix) for c, d in converted if d.fix is not None and fixes]
            state.source = source
        state.diagnostics, state.version = shown, version
        if not self.pulls:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=shown, version=version)
            )

    async def current_diagnostics(self, uri: str) -> DocumentState:
        """The diagnostics of the document's current text (linting it if needed)."""
        notebook = self.notebook_of(uri)
        key = notebook.uri if notebook is not None else uri
        if uri not in self.documents:
            self.documents[uri] = DocumentState()
        for _ in range(10):  # each round lints the newest text; edits may keep coming
            version = self.workspace.get_text_document(uri).version
            state = self.documents.get(uri)
            if state is None or state.version == version:
                break
            await asyncio.shield(self.request_lint(key))
        return self.documents.get(uri) or DocumentState()

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self.dirty.discard(uri)
        if not self.pulls:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    # --- conversions ------------------------------------------------------------------------
    @staticmethod
    def _range(doc, span) -> types.Range:
        codec, lines = doc.position_codec, doc.lines
        start = codec.position_to_client_units(lines, types.Position(span.row - 1, span.col - 1))
        end = codec.position_to_client_units(
            lines, types.Position(span.end_row - 1, span.end_col - 1)
        )
        return types.Range(start=start, end=end)

    def _to_lsp(self, doc, d) -> types.Diagnostic:
        return types.Diagnostic(
            range=self._range(doc, d.span),
            message=d.message,
            severity=SEVERITY[d.severity],
            code=d.code,
            code_description=types.CodeDescription(href=RULES_URL.format(code=d.code, name=d.name)),
            source="lorlint",
        )

    # --- code actions -------------------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        state = self.documents.get(uri)
        doc = self.workspace.get_text_document(uri)
        if state is None or state.source != doc.source:
            return []  # fixes were computed for another text
        only = params.context.only
        actions: list[types.CodeAction] = []
        if not only or types.CodeActionKind.QuickFix in only:
            for index, (diagnostic, fix) in enumerate(state.fixes):
                if not _overlaps(diagnostic.range, params.range):
                    continue
                actions.append(
                    types.CodeAction(
                        title=f"{fix.message} ({diagnostic.code})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=fix.applicability == "safe",
                        data={"uri": uri, "version": doc.version, "fix": index},
                    )
                )
        wants_fix_all = not only or any(FIX_ALL.startswith(kind) for kind in only)
        if wants_fix_all and any(fix.applicability == "safe" for _, fix in state.fixes):
            actions.append(
                types.CodeAction(
                    title="Fix all lorlint issues",
                    kind=FIX_ALL,
                    data={"uri": uri, "version": doc.version, "fix": "all"},
                )
            )
        if not self.resolves_edits:
            actions = [self.resolve(a) for a in actions]
        return actions

    def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """Fill in the edit of an action from code_actions (codeAction/resolve)."""
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        state = self.documents.get(uri) if isinstance(uri, str) else None
        if state is None:
            return action
        doc = self.workspace.get_text_document(uri)
        if doc.version != data.get("version") or state.source != doc.source:
            return action  # the text moved on: no edit rather than a wrong one
        if data.get("fix") == "all":
            edit = self.fix_all_edit(uri)
            if edit is not None:
                action.edit = edit
            return action
        index = data.get("fix")
        if isinstance(index, int) and 0 <= index < len(state.fixes):
            fix = state.fixes[index][1]
            edits = [types.TextEdit(self._range(doc, e.span), e.content) for e in fix.edits]
            action.edit = types.WorkspaceEdit(changes={uri: edits})
        return action

    def fix_all_edit(self, uri: str) -> types.WorkspaceEdit | None:
        from lorlint.fixes import apply as apply_fixes

        state = self.documents.get(uri)
        if state is None:
            return None
        doc = self.workspace.get_text_document(uri)
        safe = [fix for _, fix in state.fixes if fix.applicability == "safe"]
        if not safe or state.source != doc.source:
            return None
        fixed, _ = apply_fixes(state.source, safe)
        whole = types.Range(types.Position(0, 0), types.Position(len(doc.lines), 0))
        return types.WorkspaceEdit(changes={uri: [types.TextEdit(whole, fixed)]})


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _crash_diagnostic(path: str, reason: str):
    from lorlint.checks import RULES, Diagnostic, load_all
    from lorlint.site import Span

    load_all()
    rule = RULES["LL900"]
    return Diagnostic(
        "LL900", rule.name, rule.severity, f"cannot lint this file: {reason}", path,
        Span(1, 1, 1, 1),
    )  # fmt: skip


server = LorlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: LorlintServer, params: types.InitializeParams) -> None:
    ls.set_settings(params.initialization_options)


@server.feature(types.INITIALIZED)
def initialized(ls: LorlintServer, params: types.InitializedParams) -> None:

    # import the linter in the worker now, while the user opens a file
    ls.warming = asyncio.ensure_future(_warm(ls))


async def _warm(ls: LorlintServer) -> None:
    try:
        await ls.worker.run("warm", timeout=120)
    except Exception as err:  # reported, never fatal
        ls.window_log_message(types.LogMessageParams(types.MessageType.Error, f"lorlint: {err}"))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LorlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.documents.setdefault(params.text_document.uri, DocumentState())
    if not ls.pulls:
        ls.request_lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LorlintServer, params: types.DidChangeTextDocumentParams) -> None:
    if not ls.pulls:
        ls.request_lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LorlintServer, params: types.DidSaveTextDocumentParams) -> None:
    if not ls.pulls:
        ls.request_lint(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LorlintServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)
    _release_memory()


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: LorlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    for cell in params.cell_text_documents:
        ls.documents.setdefault(cell.uri, DocumentState())
    if not ls.pulls:
        ls.request_lint(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: LorlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    structure = params.change.cells.structure if params.change.cells else None
    if structure is not None:
        for cell in structure.did_open or []:
            ls.documents.setdefault(cell.uri, DocumentState())
        for cell in structure.did_close or []:
            ls.close(cell.uri)
    if not ls.pulls:
        ls.request_lint(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_did_save(ls: LorlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    if not ls.pulls:
        ls.request_lint(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: LorlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    for cell in params.cell_text_documents:
        ls.close(cell.uri)
    _release_memory()


@server.feature(
    types.TEXT_DOCUMENT_DIAGNOSTIC,
    types.DiagnosticOptions(
        identifier="lorlint", inter_file_dependencies=False, workspace_diagnostics=False
    ),
)
async def diagnostic(
    ls: LorlintServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    state = await ls.current_diagnostics(params.text_document.uri)
    result_id = f"{state.version}:{len(state.diagnostics)}:{hash(state.source)}"
    if params.previous_result_id == result_id:
        return types.UnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.FullDocumentDiagnosticReport(items=state.diagnostics, result_id=result_id)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: LorlintServer, params: types.DidChangeConfigurationParams) -> None:
    ls.set_settings(params.settings)
    ls.shown_messages.clear()
    for uri, state in ls.documents.items():
        state.version = None  # stale under the new settings
        if not ls.pulls:
            notebook = ls.notebook_of(uri)
            ls.request_lint(notebook.uri if notebook is not None else uri)
    workspace = ls.client_capabilities.workspace
    diagnostics = workspace.diagnostics if workspace else None
    if ls.pulls and diagnostics is not None and diagnostics.refresh_support:
        ls.workspace_diagnostic_refresh(None)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True
    ),
)
def code_action(ls: LorlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    return ls.code_actions(params)


@server.feature(types.CODE_ACTION_RESOLVE)
def code_action_resolve(ls: LorlintServer, params: types.CodeAction) -> types.CodeAction:
    return ls.resolve(params)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: LorlintServer, params: types.HoverParams) -> types.Hover | None:
    from lorlint import server_worker

    uri = params.text_document.uri
    if ls.notebook_of(uri) is not None:
        return None  # cells: hover is not offered yet
    doc = ls.workspace.get_text_document(uri)
    position = doc.position_codec.position_from_client_units(doc.lines, params.position)
    job = server_worker.LintJob(doc.path, doc.source, ls.settings)
    try:
        text = await ls.worker.run("hover", job, position.line + 1, position.character + 1)
    except WorkerCrashed:
        return None
    if not text:
        return None
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text))


@server.command(APPLY_AUTOFIX)
def apply_autofix(ls: LorlintServer, *args) -> None:
    """``lorlint.applyAutofix`` [{"uri": ...}]: apply every safe fix of the document."""
    for arg in args:
        uri = arg.get("uri") if isinstance(arg, dict) else getattr(arg, "uri", None)
        if not isinstance(uri, str):
            continue
        edit = ls.fix_all_edit(uri)
        if edit is not None:
            ls.workspace_apply_edit(
                types.ApplyWorkspaceEditParams(edit=edit, label="lorlint: fix all")
            )


@server.feature(types.SHUTDOWN)
def shutdown(ls: LorlintServer, params) -> None:
    ls.worker.shut_down = True
    ls.worker.stop()


def _release_memory() -> None:
    """Give a closed document's memory back to the system (a 1 MB file must not stay resident)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def main(stdin=None, initialize=None) -> int:
    """Serve over stdio. ``stdin`` replays the first message when lorlint.server_start read it;
    ``initialize`` is that message when it is an ``initialize`` request."""
    server.protocol.initialize = initialize
    server.start_io(stdin)
    return 0
