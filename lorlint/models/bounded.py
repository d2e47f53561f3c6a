"""Bounded regular-expression matching: a config's regex never hangs lorlint.

PEFT matches a string ``target_modules`` (and ``exclude_modules``, ``layers_pattern``, the
``modules_to_save`` entries and ``rank_pattern`` / ``alpha_pattern`` keys it interpolates into
regexes) with Python's ``re`` against every module name. A pattern with catastrophic backtracking
(``(a+)+$``, ``(.*)*x``) takes exponential time there — PEFT hangs as well — so lorlint checks a
config under a deadline and reports the pattern as too costly to check instead.

In the main thread (the CLI and its worker processes) the deadline is a timer signal: ``re``
checks for signals while it backtracks, so the match stops within milliseconds of the deadline.
Other threads (the language server's) cannot take signals: there a pattern runs only when its
shape cannot backtrack badly (no repeat inside a repeat, no alternation under a repeat, at most
two unbounded repeats, no backreference); any other is reported as too costly to check there.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import NoReturn

try:  # Python 3.11+
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]

CHECK_SECONDS = 2.0


class TooCostly(Exception):
    """Matching ran past the deadline; ``pattern`` is the regex that was running, if known."""

    def __init__(self, pattern: str | None = None, reason: str = ""):
        super().__init__(pattern)
        self.pattern = pattern
        self.reason = reason


class _Deadline(threading.local):
    active = False


_deadline = _Deadline()


@contextmanager
def deadline(seconds: float = CHECK_SECONDS) -> Iterator[None]:
    """Raise TooCostly in the block once ``seconds`` have passed (main thread only)."""
    usable = (
        threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and not _deadline.active
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # nobody else's timer is running
    )
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        if _deadline.active:
            raise TooCostly()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    _deadline.active = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _deadline.active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fullmatch(pattern: str, string: str) -> re.Match | None:
    return _run(re.Pattern.fullmatch, pattern, string)


def match(pattern: str, string: str) -> re.Match | None:
    return _run(re.Pattern.match, pattern, string)


def fullmatcher(pattern: str) -> Callable[[str], re.Match | None]:
    """``fullmatch(pattern, ·)`` as one call: for a pattern tried on every module name."""
    return _prepared(re.Pattern.fullmatch, pattern)


def matcher(pattern: str) -> Callable[[str], re.Match | None]:
    """``match(pattern, ·)`` as one call: for a pattern tried on every module name."""
    return _prepared(re.Pattern.match, pattern)


def _prepared(method, pattern: str) -> Callable[[str], re.Match | None]:
    """``_run(method, pattern, ·)``, its checks and compiling where ``_run`` does them (at each
    call: a pattern that does not compile raises when first run, as before), without the
    wrapper calls in between where a deadline is running and the pattern has not run out of
    time before: then ``_run`` would go straight to ``method``."""

    def run(string: str):
        if not _deadline.active or pattern in _too_costly:
            return _run(method, pattern, string)
        try:
            return method(compiled(pattern), string)
        except TooCostly as err:
            _ran_out(err, pattern)

    return run


_too_costly: set[str] = set()  # patterns that ran out of time once are not run again
# ``re.compile`` with a cache looked up in C: the rules and the matcher run one pattern on every
# module name, and ``re.match``'s own cache lookup costs as much as a short match.
compiled = lru_cache(maxsize=512)(re.compile)


def _run(method, pattern: str, string: str):
    if pattern in _too_costly:
        raise TooCostly(pattern)
    if not _deadline.active and risky(pattern):
        raise TooCostly(
            pattern, "it could backtrack for a long time, and no deadline can be set here"
        )
    try:
        return method(compiled(pattern), string)
    except TooCostly as err:
        _ran_out(err, pattern)


def _ran_out(err: TooCostly, pattern: str) -> NoReturn:
    """Name the pattern that ran past the deadline, keep it from running again, raise on."""
    err.pattern = err.pattern or pattern
    _too_costly.add(err.pattern)
    raise err


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


@lru_cache(maxsize=256)
def risky(pattern: str) -> bool:
    """Whether the pattern's shape allows super-linear backtracking (conservatively)."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return False  # re raises on it before matching anything
    unbounded = 0

    def walk(items, under_repeat: bool) -> bool:
        nonlocal unbounded
        for op, av in items:
            name = str(op)
            if name in _REPEATS:
                _, high, body = av
                if under_repeat and high > 1:
                    return True
                if high == sre_parse.MAXREPEAT:
                    unbounded += 1
                if walk(body, under_repeat or high > 1):
                    return True
            elif name == "BRANCH":
                if under_repeat:
                    return True
                if any(walk(branch, under_repeat) for branch in av[1]):
                    return True
            elif name == "SUBPATTERN":
                if walk(av[-1], under_repeat):
                    return True
            elif name in ("ASSERT", "ASSERT_NOT"):
                if walk(av[1], under_repeat):
                    return True
            elif name in ("GROUPREF", "GROUPREF_EXISTS", "ATOMIC_GROUP"):
                return True
        return unbounded > 2

    return walk(parsed, False)
