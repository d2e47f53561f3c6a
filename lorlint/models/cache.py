"""On-disk cache of layer tables, so a warm lint never imports torch.

Keyed by transformers version, a hash of the config and the class the model is loaded through
(the three things that decide module names). ``LORLINT_CACHE_DIR`` overrides the location.
Entries are validated, never trusted (see ``load``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from lorlint.cachedir import cache_subdir
from lorlint.models.table import LayerTable
from lorlint.safeio import gunzip, read_regular, write_atomically

TABLE_FORMAT = 3  # an entry: {"format", "key", "checksum", "table"}; tables carry conv groups
MAX_GZ_BYTES = 16_000_000
MAX_JSON_BYTES = 128_000_000


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
