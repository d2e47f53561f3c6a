"""On-disk cache of layer tables, so a warm lint never imports torch.

Keyed by transformers version, a hash of the config and the class the model is loaded through
(the three things that decide module names). ``LORLINT_CACHE_DIR`` overrides the location.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

from lorlint.models.table import LayerTable

TABLE_FORMAT = 2  # 2: convolution groups


def cache_dir() -> Path:
    if os.environ.get("LORLINT_CACHE_DIR"):
        return Path(os.environ["LORLINT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lorlint"


def table_key(config: dict, task_or_class: str, transformers_version: str) -> str:
    blob = json.dumps(
        [TABLE_FORMAT, transformers_version, task_or_class, config], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _path(key: str, transformers_version: str) -> Path:
    return cache_dir() / "tables" / transformers_version / f"{key}.json.gz"


def load(key: str, transformers_version: str) -> LayerTable | None:
    path = _path(key, transformers_version)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return LayerTable.from_json(json.load(fh))
    except (OSError, ValueError, KeyError, IndexError):
        return None


def store(key: str, transformers_version: str, table: LayerTable) -> None:
    """Write atomically; a cache that cannot be written is not an error."""
    import tempfile

    path = _path(key, transformers_version)
    try:
        blob = json.dumps(table.to_json(), separators=(",", ":")).encode()
    except (TypeError, ValueError):  # a value json cannot write: no cache entry, no error
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass
