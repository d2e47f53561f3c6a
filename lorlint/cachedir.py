"""The user's lorlint cache directory (layer tables, the server's ``initialize`` answers).

Its own module so that what starts early (``lorlint.server_start``) reads it without importing
the model code."""

from __future__ import annotations

import os
from pathlib import Path

from lorlint.safeio import real_dir


def cache_dir() -> Path:
    """``LORLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lorlint`` or ``~/.cache/lorlint``."""
    if os.environ.get("LORLINT_CACHE_DIR"):
        return Path(os.environ["LORLINT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lorlint"


def cache_subdir(*parts: str, create: bool = False) -> Path | None:
    """``cache_dir()/part/...`` when each part is a real directory (made if ``create``), else
    None: nothing below the cache root may be a symlink (see ``safeio.real_dir``)."""
    base = cache_dir()
    if create:
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
    return real_dir(base, *parts, create=create)
