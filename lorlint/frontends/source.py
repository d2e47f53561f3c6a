"""Reading files: bounded, regular files only, and Python source decoded as Python decodes it.

A file named ``*.py`` may be a FIFO (opening it blocks until a writer comes) or a link to
``/dev/zero`` (reading never ends); both are refused without reading. Every read stops at
``MAX_BYTES``. Python source is decoded per PEP 263 and PEP 3120: a UTF-8 byte order mark, else a
``# -*- coding: ... -*-`` cookie on one of the first two lines, else UTF-8.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from pathlib import Path

from lorlint.safeio import Refused, read_limited

MAX_BYTES = 5_000_000


class SourceError(ValueError):
    """Why a file cannot be read or decoded (a one-line, user-facing reason)."""


def read_bytes(path: Path | str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; SourceError otherwise."""
    try:
        return read_limited(path, limit, follow_symlinks=True)
    except Refused as why:
        raise SourceError(f"{'skipped' if why.too_large else 'cannot read'}: {why}") from None
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}") from None


def python_encoding(data: bytes) -> str:
    """The encoding Python would read ``data`` with (``utf-8-sig`` for a BOM)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:
        raise SourceError(f"cannot decode: {err.msg if hasattr(err, 'msg') else err}") from None
    return encoding


def decode_python(data: bytes) -> str:
    """Python source text as the interpreter reads it; the BOM is not part of the text."""
    encoding = python_encoding(data)
    try:
        codecs.lookup(encoding)
        return data.decode(encoding)
    except LookupError:
        raise SourceError(f"cannot decode: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as err:
        raise SourceError(f"cannot decode as {encoding}: {err.reason}") from None
