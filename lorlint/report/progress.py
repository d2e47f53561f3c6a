"""One status line on stderr for long work (``check`` over a tree, ``verify``).

It is drawn only when stderr is a terminal, rewritten in place and erased at the end, so CI logs
and pipes never see it.
"""

from __future__ import annotations

import sys
import time

MIN_INTERVAL = 0.1  # seconds between redraws


class Progress:
    def __init__(self, enabled: bool = True, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_tty(self.stream)
        self.prefix = ""
        self.start = time.perf_counter()
        self.last = 0.0
        self.drawn = False

    def __call__(self, message: str, force: bool = True) -> None:
        """Show ``message``; with ``force=False`` at most every MIN_INTERVAL seconds."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < MIN_INTERVAL:
            return
        self.last = now
        self.stream.write(f"\r\033[K{self.prefix}{message} ({now - self.start:.1f}s)")
        self.stream.flush()
        self.drawn = True

    def done(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
