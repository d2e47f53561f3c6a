"""Answer the editor's ``initialize`` before the LSP library is imported.

Importing pygls costs about half a second of CPU (lsprotocol defines about a thousand attrs
classes), and the editor waits for ``initialize`` before anything else. Its answer is a function
of the request and of the server's code (lorlint's features, pygls and lsprotocol), so it is
sent at once, then pygls is imported and the request replayed to it (its handlers run as usual;
its own, identical, answer is not sent again: see ``lorlint.server.Protocol``). The answer comes
from :mod:`lorlint.server_answer` (pygls's answer computed from the request, for the install it
was generated from) or, where that is not sure — another pygls, lsprotocol, cattrs or attrs, a
request of a shape it does not model — from the answer pygls gave before to the same request
(its id and process id aside), kept on disk under a key made of it and of the server's code. Any
other start goes the ordinary way and records pygls's answer.

Stdlib only, imported before anything heavy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lorlint import __version__
from lorlint.cachedir import cache_subdir
from lorlint.safeio import read_regular, write_atomically

MAX_HEADER_BYTES = 8192
MAX_BODY_BYTES = 4_000_000  # an initialize request is a few KB; larger ones are not kept
MAX_ANSWER_BYTES = 1_000_000


class Replay:
    """The server's stdin: the bytes already read (the first message), then the rest."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self.prefix = prefix
        self.stream = stream

    def readline(self) -> bytes:
        if self.prefix:
            line, sep, rest = self.prefix.partition(b"\n")
            if sep:
                self.prefix = rest
                return line + sep
            self.prefix = b""
            return line + self.stream.readline()
        return self.stream.readline()

    def read(self, n: int = -1) -> bytes:
        if not self.prefix:
            return self.stream.read(n)
        if n < 0:
            data, self.prefix = self.prefix, b""
            return data + self.stream.read()
        data, self.prefix = self.prefix[:n], self.prefix[n:]
        if len(data) < n:
            data += self.stream.read(n - len(data))
        return data


CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # pygls.io_'s


def read_message(stream: BinaryIO) -> tuple[bytes, dict | None]:
    """(the raw bytes read, the JSON-RPC message) of the next message, framed as pygls's reader
    reads it (the first ``Content-Length`` line counts, the body follows the first blank line
    after it); the message is None when it is not one this module can read (the bytes go to
    pygls all the same)."""
    raw = b""
    length = 0
    while len(raw) < MAX_HEADER_BYTES:
        line = stream.readline()
        raw += line
        if not line:
            return raw, None
        if not length and (match := CONTENT_LENGTH.fullmatch(line)):
            length = int(match.group(1))
        if length and not line.strip():
            break
    else:
        return raw, None
    if length > MAX_BODY_BYTES:
        return raw, None
    body = stream.read(length)
    raw += body
    if len(body) < length:
        return raw, None
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return raw, None
    return raw, message if isinstance(message, dict) else None


def answer_key(message: dict) -> str | None:
    """The key of an ``initialize`` request's answer (None for any other message, and for one
    whose ``processId`` is neither null nor an integer).

    The whole request but its id (echoed as it is) and its ``processId`` (any integer reads
    alike): whether pygls answers at all depends on every field (a root URI its ``initialize``
    cannot parse, a nested object with a "jsonrpc" key, the JSON-RPC version), so a kept answer
    is for the same client in the same project."""
    if message.get("method") != "initialize" or "id" not in message:
        return None
    params = message.get("params")
    if not isinstance(params, dict):
        return None
    process_id = params.get("processId")
    if process_id is not None and type(process_id) is not int:
        return None  # cattrs converts it (a string) or rejects it: not one key for all
    request = {k: v for k, v in message.items() if k != "id"}
    request["params"] = {k: v for k, v in params.items() if k != "processId"}
    blob = json.dumps([_code_fingerprint(), request], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _code_fingerprint() -> list:
    """What, besides the request, decides the answer: lorlint's server module and the installed
    pygls and lsprotocol (changed by any edit, install or upgrade), and Python's version."""
    out: list = [__version__, sys.version]
    server = Path(__file__).with_name("server.py")
    try:
        out.append(hashlib.sha256(server.read_bytes()).hexdigest())
    except OSError:
        out.append(None)
    import importlib.util

    for package in ("pygls", "lsprotocol"):
        spec = importlib.util.find_spec(package)
        origin = Path(spec.origin) if spec and spec.origin else None
        for path in (origin, origin.parent / "capabilities.py" if origin else None):
            try:
                info = path.stat() if path else None
            except OSError:
                info = None
            out.append([str(path), info.st_mtime_ns, info.st_size] if info else None)
    return out


def _directory(create: bool = False) -> Path | None:
    return cache_subdir("server", create=create)


def cached_answer(key: str) -> dict | None:
    directory = _directory()
    data = read_regular(directory / f"{key}.json", MAX_ANSWER_BYTES) if directory else None
    try:
        answer = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("capabilities"), dict):
        return None
    return answer


def remember(key: str, answer: dict) -> None:
    """Keep pygls's answer to an ``initialize`` request (quietly skipped when it cannot be)."""
    directory = _directory(create=True)
    data = json.dumps(answer, sort_keys=True).encode()
    if directory is not None and len(data) <= MAX_ANSWER_BYTES:
        write_atomically(directory, f"{key}.json", data)


def forget(key: str) -> None:
    directory = _directory()
    if directory is not None:
        with contextlib.suppress(OSError):
            os.unlink(directory / f"{key}.json")


def frame(message: dict) -> bytes:
    """A JSON-RPC message as pygls writes one (headers, then the ASCII JSON body)."""
    body = json.dumps(message)
    header = (
        f"Content-Length: {len(body)}\r\n"
        "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
    )
    return (header + body).encode("utf-8")


@dataclass
class Initialize:
    """The first message, an ``initialize`` request: its id, the key its answer is kept under
    (None when lorlint.server_answer answered it: nothing to keep), and the result sent before
    pygls was imported (None when none was)."""

    id: object
    key: str | None
    sent: dict | None = None


def start(stdin: BinaryIO, stdout: BinaryIO) -> tuple[Replay, Initialize | None]:
    """Read the first message; answer it now when it is an ``initialize`` whose answer is known.

    Returns the stdin to give pygls (the message replayed first) and the request, when the
    message is ``initialize``."""
    from lorlint import server_answer

    raw, message = read_message(stdin)
    key = answer_key(message) if message is not None else None
    if key is None:
        return Replay(raw, stdin), None
    result = server_answer.answer(message)
    if result is not None:
        request = Initialize(message["id"], None, result)
    else:
        request = Initialize(message["id"], key, cached_answer(key))
    if request.sent is not None:
        stdout.write(frame({"id": request.id, "result": request.sent, "jsonrpc": "2.0"}))
        stdout.flush()
    return Replay(raw, stdin), request


def disabled() -> bool:
    """``LORLINT_SERVER_EARLY_INITIALIZE=0`` turns the early answer off (measurements, doubts)."""
    return os.environ.get("LORLINT_SERVER_EARLY_INITIALIZE", "1") == "0"
