"""Reading and writing lorlint's own files (its caches) without trusting what is on disk.

A cache directory is a place other programs, or a cloned repository, can plant things in: a
symlink pointing out of the tree, a FIFO that blocks a reader forever, ``/dev/zero`` that never
ends, a truncated or hand-edited entry. Reads here open regular files only, never follow a
symlink, never block and stop at a size limit; directories are created one level at a time and
never through a symlink; writes go to a temporary file in the real directory and are renamed into
place (a symlink already at the name is replaced, never written through).
"""

from __future__ import annotations

import contextlib
import os
import stat
import zlib
from pathlib import Path

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class Refused(Exception):
    """Not a regular file of at most the limit; ``too_large`` tells the two apart."""

    def __init__(self, reason: str, too_large: bool = False):
        super().__init__(reason)
        self.too_large = too_large


def read_limited(path: Path | str, limit: int, *, follow_symlinks: bool) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, opened without blocking (a FIFO)
    and read no further than the limit (``/dev/zero``, a file that grows); Refused for anything
    else, and ``os.open``'s own errors as it raises them. The linted files may be symlinks; the
    caches' files never are."""
    flags = _READ_FLAGS if not follow_symlinks else _READ_FLAGS & ~getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        chunks, total = [], 0
        while total <= limit and info.st_size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
        raise Refused(f"larger than {limit:,} bytes", too_large=True)  # or grew while we read
    finally:
        os.close(fd)


def read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file (not a symlink) of at most ``limit`` bytes; None for anything
    else: a cache entry that cannot be read is a miss."""
    try:
        return read_limited(path, limit, follow_symlinks=False)
    except (OSError, ValueError, Refused):
        return None


def gunzip(data: bytes, limit: int) -> bytes | None:
    """A complete gzip stream's content of at most ``limit`` bytes (None: truncated, too big)."""
    try:
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = stream.decompress(data, limit + 1)
    except zlib.error:
        return None
    return out if stream.eof and len(out) <= limit else None


def real_dir(base: Path, *parts: str, create: bool = False) -> Path | None:
    """``base/part/...`` when each part is a real directory (made if ``create``), else None.

    ``base`` is trusted (the project root, the user's cache root); nothing below it may be a
    symlink, so nothing is ever read from or written to outside it."""
    path = base
    for part in parts:
        path = path / part
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(path)
            except FileExistsError:
                pass
            except OSError:
                return None
            try:
                info = os.lstat(path)
            except OSError:
                return None
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode):
            return None  # a symlink, a file, a FIFO...
    return path


def write_atomically(directory: Path, name: str, data: bytes) -> bool:
    """Write ``directory/name`` through a temporary file and a rename; False when it cannot."""
    import tempfile  # (with shutil and random) only when something is written

    try:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, directory / name)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
