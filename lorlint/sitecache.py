"""Per-file cache of extracted sites, keyed by content hash and lorlint version (like ruff's cache).

Only the front end's output is cached: model resolution and rules run on every lint, so a changed
local config.json or Hugging Face cache is always seen. A warm file never imports libcst.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from lorlint import __version__
from lorlint.site import UNKNOWN, Argument, Site, Span, Value

CACHE_DIRNAME = ".lorlint_cache"
# What a cached entry holds; bumped when the front end's output changes within one version (a
# stale entry would lack the newer sites).
SCHEMA = "sites-2"  # 2: setup sites (issue #14)
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
        "span": asdict(value.span) if value.span else None,
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
    data = asdict(site)
    data["keywords"] = {k: _value_to_json(v) for k, v in site.keywords.items()}
    return data


def site_from_json(data: dict, path: str) -> Site:
    data = dict(data)
    data["path"] = path
    data["span"] = Span(**data["span"])
    data["model_span"] = Span(**data["model_span"]) if data["model_span"] else None
    data["keywords"] = {k: _value_from_json(v) for k, v in data["keywords"].items()}
    data["statement_rows"] = tuple(data["statement_rows"])
    data["arguments"] = [
        Argument(a["keyword"], Span(**a["span"]), a["clean"]) for a in data.get("arguments", [])
    ]
    return Site(**data)


class SiteCache:
    def __init__(self, root: Path | None):
        self.dir = root / CACHE_DIRNAME / __version__ if root is not None else None

    @staticmethod
    def key(source: str) -> str:
        digest = hashlib.sha256(SCHEMA.encode())
        digest.update(source.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()[:40]

    def load(self, source: str, path: str) -> list[Site] | None:
        if self.dir is None:
            return None
        try:
            data = json.loads((self.dir / f"{self.key(source)}.json").read_text(encoding="utf-8"))
            return [site_from_json(s, path) for s in data]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, source: str, sites: list[Site]) -> None:
        if self.dir is None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            gitignore = self.dir.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Automatically created by lorlint.\n*\n")
            import tempfile

            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump([site_to_json(s) for s in sites], fh, separators=(",", ":"))
            os.replace(tmp, self.dir / f"{self.key(source)}.json")
        except OSError:
            pass
