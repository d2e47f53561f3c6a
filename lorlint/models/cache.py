"""On-disk cache of layer tables, so a warm lint never imports torch.

Keyed by transformers version, a hash of the config and the class the model is loaded through
(the three things that decide module names). ``LORLINT_CACHE_DIR`` overrides the location.
Entries are validated, never trusted (see ``load``).

A build that fails is kept too (``load_failure``): importing torch and transformers to fail
again costs seconds on every run. Whether a meta-device build succeeds depends on the same key
and on the installed packages (torch, an optional library a model needs), so a failure is kept
with the state of the interpreter's package directories (``environment``): installing or
removing anything there tries the build again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from pathlib import Path

from lorlint.cachedir import cache_subdir
from lorlint.models.table import LayerTable
from lorlint.safeio import gunzip, read_regular, write_atomically

TABLE_FORMAT = 4  # an entry: {"format", "key", "checksum", "table"}; 4: a repeated block kept once
MAX_GZ_BYTES = 16_000_000
MAX_JSON_BYTES = 128_000_000
FAILURE_FORMAT = 1  # {"format", "key", "environment", "message"}
MAX_FAILURE_BYTES = 64_000


def table_key(config: dict, task_or_class: str, transformers_version: str) -> str:
    blob = json.dumps(
        [TABLE_FORMAT, transformers_version, task_or_class, config], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _dir(transformers_version: str, create: bool = False) -> Path | None:
    return cache_subdir("tables", transformers_version, create=create)


def load(key: str, transformers_version: str) -> LayerTable | None:
    """The cached table, or None on any doubt (then it is rebuilt): a regular file only (no
    symlink, FIFO or device), a complete gzip stream of bounded size, the right format, key and
    checksum, and at least one module."""
    directory = _dir(transformers_version)
    data = read_regular(directory / f"{key}.json.gz", MAX_GZ_BYTES) if directory else None
    raw = gunzip(data, MAX_JSON_BYTES) if data is not None else None
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        payload = entry["table"]
        if entry["format"] != TABLE_FORMAT or entry["key"] != key:
            return None
        if entry["checksum"] != _checksum(payload):
            return None
        table = LayerTable.from_json(payload)
    except Exception:  # any doubt: rebuild
        return None
    return table if table.modules else None


def store(key: str, transformers_version: str, table: LayerTable) -> None:
    """Write atomically; a cache that cannot be written is not an error."""
    directory = _dir(transformers_version, create=True)
    if directory is None or not table.modules:
        return
    payload = table.to_json()
    entry = {"format": TABLE_FORMAT, "key": key, "checksum": _checksum(payload), "table": payload}
    try:
        data = json.dumps(entry, separators=(",", ":")).encode()
    except (TypeError, ValueError):  # a value json cannot write: no cache entry, no error
        return
    write_atomically(directory, f"{key}.json.gz", gzip.compress(data, mtime=0))


def _checksum(payload: dict) -> str:
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def environment() -> str:
    """The interpreter and the modification times of its package directories: a pip or conda
    install or removal adds or deletes an entry there, which changes the directory's time."""
    parts = [sys.executable, sys.version]
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue  # the script's own directory, the working directory: not installs
        try:
            parts.append(f"{entry}={os.stat(entry).st_mtime_ns}")
        except OSError:
            continue
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def load_failure(key: str, transformers_version: str) -> str | None:
    """Why the build of ``key`` failed in this same environment, or None (then it is built)."""
    directory = _dir(transformers_version)
    data = read_regular(directory / f"{key}.failed.json", MAX_FAILURE_BYTES) if directory else None
    if data is None:
        return None
    try:
        entry = json.loads(data)
        if entry["format"] != FAILURE_FORMAT or entry["key"] != key:
            return None
        if entry["environment"] != environment() or not isinstance(entry["message"], str):
            return None
    except Exception:  # any doubt: build again
        return None
    return entry["message"]


def store_failure(key: str, transformers_version: str, message: str) -> None:
    """Keep why the build of ``key`` failed; a cache that cannot be written is not an error."""
    directory = _dir(transformers_version, create=True)
    if directory is None:
        return
    entry = {"format": FAILURE_FORMAT, "key": key, "environment": environment(), "message": message}
    data = json.dumps(entry).encode()
    if len(data) <= MAX_FAILURE_BYTES:
        write_atomically(directory, f"{key}.failed.json", data)
