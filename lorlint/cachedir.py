"""The user's lorlint cache directory (layer tables, the server's ``initialize`` answers).

Its own module so that what starts early (``lorlint.server_start``) reads it without importing
the model code."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``LORLINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/lorlint`` or ``~/.cache/lorlint``."""
    if os.environ.get("LORLINT_CACHE_DIR"):
        return Path(os.environ["LORLINT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lorlint"
