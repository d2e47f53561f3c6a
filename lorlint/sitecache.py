"""Per-file cache of extracted sites, keyed by content hash and lorlint version (like ruff's cache).

Entries are validated, never trusted (see ``SiteCache``).

Only the front end's output is cached: model resolution and rules run on every lint, so a changed
local config.json or Hugging Face cache is always seen. A warm file never imports libcst.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lorlint import __version__
from lorlint.safeio import read_regular, real_dir, write_atomically
from lorlint.site import UNKNOWN, Argument, Site, Span, Step, Value

CACHE_DIRNAME = ".lorlint_cache"
FORMAT = 7  # of an entry: {"format", "key", "checksum", "sites"}; 3: setup sites, 4: flows,
# 5: conditional steps, 6: step spans, 7: load_adapter sites and checkpointing steps
MAX_ENTRY_BYTES = 4_000_000
_UNKNOWN = {"__unknown__": True}


def _encode(obj):
    if obj is UNKNOWN:
        return _UNKNOWN
    if isinstance(obj, (list, tuple, set)):
        return {"__seq__": type(obj).__name__, "items": [_encode(x) for x in obj]}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _encode(v)] for k, v in obj.items()]}
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        if obj.get("__unknown__"):
            return UNKNOWN
        if "__seq__" in obj:
            kind = {"list": list, "tuple": tuple, "set": set}[obj["__seq__"]]
            return kind(_decode(x) for x in obj["items"])
        if "__dict__" in obj:
            return {k: _decode(v) for k, v in obj["__dict__"]}
    return obj


def _value_to_json(value: Value) -> dict:
    return {
        "value": _encode(value.value),
        "span": value.span.to_json() if value.span else None,
        "elements": [_value_to_json(e) for e in value.elements]
        if value.elements is not None
        else None,
        "bound_to": value.bound_to,
        "bound_uses": value.bound_uses,
        "editable": value.editable,
        "quote": value.quote,
    }


def _value_from_json(data: dict) -> Value:
    return Value(
        value=_decode(data["value"]),
        span=Span(**data["span"]) if data["span"] else None,
        elements=[_value_from_json(e) for e in data["elements"]]
        if data["elements"] is not None
        else None,
        bound_to=data["bound_to"],
        bound_uses=data["bound_uses"],
        editable=data["editable"],
        quote=data["quote"],
    )


def site_to_json(site: Site) -> dict:
    data = (
        site.to_json()
    )  # byte for byte what ``dataclasses.asdict`` gave (tests/test_sitecache.py)
    data["keywords"] = {k: _value_to_json(v) for k, v in site.keywords.items()}
    return data


def site_from_json(data: dict, path: str) -> Site:
    data = dict(data)
    data["path"] = path
    data["span"] = Span(**data["span"])
    data["model_span"] = Span(**data["model_span"]) if data["model_span"] else None
    data["keywords"] = {k: _value_from_json(v) for k, v in data["keywords"].items()}
    data["statement_rows"] = tuple(data["statement_rows"])
    data["flow"] = [Step(**step) for step in data.get("flow", [])]
    data["arguments"] = [
        Argument(a["keyword"], Span(**a["span"]), a["clean"]) for a in data.get("arguments", [])
    ]
    return Site(**data)


class SiteCache:
    """Sites by content hash under ``root/.lorlint_cache/<version>/``.

    An entry is trusted only when it is a regular file (no symlink, FIFO or device) under 4 MB
    whose format, key and checksum are right and whose sites decode; anything else is a miss and
    the file is parsed again. The cache directory is never a symlink: one pointing out of the tree
    is not followed, for reading or writing."""

    def __init__(self, root: Path | None):
        self.root = root
        self.dir = root / CACHE_DIRNAME / __version__ if root is not None else None

    @staticmethod
    def key(source: str) -> str:
        import hashlib  # OpenSSL's start-up: only with the cache on

        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:40]

    def load(self, source: str, path: str) -> list[Site] | None:
        if self.root is None:
            return None
        directory = real_dir(self.root, CACHE_DIRNAME, __version__)
        key = self.key(source)
        data = read_regular(directory / f"{key}.json", MAX_ENTRY_BYTES) if directory else None
        if data is None:
            return None
        try:
            entry = json.loads(data)
            payload = entry["sites"]
            if (
                entry["format"] != FORMAT
                or entry["key"] != key
                or _checksum(payload) != entry["checksum"]
            ):
                return None
            return [site_from_json(s, path) for s in payload]
        except Exception:  # any doubt: parse the file again
            return None

    def store(self, source: str, sites: list[Site]) -> None:
        if self.root is None:
            return
        try:  # the root is trusted (the project, or --cache-dir's folder, made on first use)
            os.makedirs(self.root, exist_ok=True)
        except OSError:
            return
        top = real_dir(self.root, CACHE_DIRNAME, create=True)
        directory = real_dir(self.root, CACHE_DIRNAME, __version__, create=True)
        if top is None or directory is None:
            return  # a cache that cannot be written safely is not an error
        if not os.path.lexists(top / ".gitignore"):
            write_atomically(top, ".gitignore", b"# Automatically created by lorlint.\n*\n")
        key = self.key(source)
        payload = [site_to_json(s) for s in sites]
        entry = {"format": FORMAT, "key": key, "checksum": _checksum(payload), "sites": payload}
        data = json.dumps(entry, separators=(",", ":")).encode()
        if len(data) <= MAX_ENTRY_BYTES:
            write_atomically(directory, f"{key}.json", data)


def _checksum(payload) -> str:
    import hashlib

    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()
