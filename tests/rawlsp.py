"""A bare LSP client over a subprocess's stdio: JSON-RPC frames, no library in between.

Used where pytest-lsp's typed client cannot go (malformed requests, a server from another venv)
and by benchmarks/bench_server.py to time initialize and re-lint.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time


class RawClient:
    def __init__(self, command: list[str], cwd=None, env=None):
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr += line

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = out.read(length or 0)
            self.messages.put(json.loads(body))

    def send(self, payload: dict | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params, timeout: float = 60) -> dict:
        """Send a request and return its response (the whole message: result or error)."""
        self.next_id += 1
        ident = self.next_id
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m, timeout)

    def wait(self, predicate, timeout: float = 60) -> dict:
        """The next message satisfying ``predicate``; server requests get an empty result."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching message from the server")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                raise EOFError(f"server exited: {self.stderr.decode(errors='replace')[-2000:]}")
            if "method" in message and "id" in message:  # e.g. workspace/configuration
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            if predicate(message):
                return message

    def diagnostics(self, uri: str, timeout: float = 60) -> dict:
        return self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            ),
            timeout,
        )["params"]

    def initialize(self, root_uri: str | None = None, capabilities: dict | None = None) -> dict:
        result = self.request(
            "initialize",
            {"processId": None, "rootUri": root_uri, "capabilities": capabilities or {}},
        )
        self.notify("initialized", {})
        return result

    def close(self, timeout: float = 30) -> int:
        """shutdown → exit; the process's exit status."""
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout)
                self.notify("exit", None)
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
