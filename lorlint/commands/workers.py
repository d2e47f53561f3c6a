"""Linting a tree on several cores, the main process among them.

Where processes fork (every Unix but macOS, whose system libraries do not survive a fork),
``forked`` forks ``processes - 1`` children once what linting needs at start-up is loaded (they
share it: no copy, no pickling, no import), and the main process lints too: on two cores, two
busy processes and none waiting. The items are split into chunks whose numbers are written into a
pipe before the fork; each process claims its next chunk by reading one record (a read of a whole
record from a pipe is atomic), so a fast process takes more and none waits for another. A child
sends each item's result, pickled, on a pipe of its own as soon as it has it; the main process
reads them between its own items and yields every result in the items' order. Children end with
``os._exit``: what they hold is freed with the process, not object by object; a child that sent
every result is waited for later (``reap_ended``), while the main process writes the report.

Elsewhere (spawn) ``lorlint.commands.check`` uses a ``ProcessPoolExecutor``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

RECORD = 4  # bytes per chunk number in a claim pipe
# Chunks per claim pipe: their records (4 KiB) fit in any pipe, written at once before anyone
# reads (Linux gives a pipe as little as two pages when a user holds many).
MAX_CHUNKS = 1024
CHUNK_MAX = 4  # items per chunk while much is left: few claims, neighbouring files together


def can_fork() -> bool:
    """Whether ``forked`` may be used: ``fork`` exists and is safe (not macOS, where system
    frameworks break in a forked child and Python itself spawns)."""
    return hasattr(os, "fork") and sys.platform != "darwin"


def chunks(indices: Sequence[int], processes: int) -> list[list[int]]:
    """Consecutive items in chunks that shrink towards the end (4, then 3, 2, 1): large while
    much is left, one item at a time when little is, so that the processes end together."""
    least = max(1, -(-len(indices) // MAX_CHUNKS))  # never more chunks than a pipe holds
    out, at = [], 0
    while at < len(indices):
        size = max(least, min(CHUNK_MAX, (len(indices) - at) // (processes * 4)))
        out.append(list(indices[at : at + size]))
        at += size
    return out


def forked(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    processes: int,
    own_first: set[int] | frozenset[int] = frozenset(),
    crashed: Callable[[Any, str], Any] | None = None,
) -> Iterator[Any]:
    """``function(item)`` for every item, in the items' order, computed by this process and
    ``processes - 1`` forked children.

    ``own_first``: indices of items this process takes before any other (the children take them
    last), so that work needing a module of its own (YAML's) is, as far as the balance allows,
    done in one process. A child that dies leaves its items to this process, except the one it
    died on when a signal ended it (a crash, the out-of-memory killer): ``crashed(item, signal
    name)`` is that item's result, so that a file that crashes the interpreter cannot crash this
    process too.
    """
    reap_ended()
    pool = _Pool(function, items, processes, own_first, crashed)
    try:
        pool.start(min(processes, len(pool.plan)) - 1)  # no process without a chunk
        emitted = 0
        for chunk in _claims(pool.claim_pipes):
            for index in pool.plan[chunk]:
                pool.results[index], pool.done[index] = function(items[index]), True
                pool.receive(wait=False)
                while emitted < len(items) and pool.done[emitted]:
                    yield pool.take(emitted)
                    emitted += 1
        while pool.children:
            pool.receive(wait=True)
            while emitted < len(items) and pool.done[emitted]:
                yield pool.take(emitted)
                emitted += 1
        for index in range(emitted, len(items)):  # left by a child that died
            yield pool.take(index) if pool.done[index] else function(items[index])
    finally:
        pool.close()


class _Child:
    __slots__ = ("buffer", "fd", "pid", "working")

    def __init__(self, pid: int, fd: int):
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()  # bytes received, up to the last whole message
        self.working: list[int] = []  # the items of the chunk it claimed last


class _Pool:
    """The plan, the claim pipes, the children and the results of one ``forked`` run."""

    def __init__(self, function, items, processes: int, own_first, crashed):
        self.function, self.items, self.crashed = function, items, crashed
        n = len(items)
        mine = chunks([i for i in range(n) if i in own_first], processes)
        shared = chunks([i for i in range(n) if i not in own_first], processes)
        self.plan = mine + shared
        # this process reads its own chunks first, the children the shared ones
        self.claim_pipes = (
            _claim_pipe(range(len(mine))),
            _claim_pipe(range(len(mine), len(self.plan))),
        )
        self.children: dict[int, _Child] = {}
        self.results: list = [None] * n
        self.done = [False] * n

    def start(self, count: int) -> None:
        for _ in range(count):
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to be had (a limit): fewer lint, this one at least
                os.close(read_end)
                os.close(write_end)
                return
            if pid == 0:  # the child: never returns
                os.close(read_end)
                for other in self.children.values():
                    os.close(other.fd)
                _child(self.function, self.items, self.plan, self.claim_pipes[::-1], write_end)
            os.close(write_end)
            _enlarge(read_end)
            os.set_blocking(read_end, False)
            self.children[read_end] = _Child(pid, read_end)

    def take(self, index: int):
        result, self.results[index] = self.results[index], None
        return result

    def receive(self, wait: bool) -> None:
        """Read what the children sent; with ``wait``, block until one of them sends or ends."""
        if wait:
            import select

            select.select(list(self.children), [], [])
        for fd, child in list(self.children.items()):
            ended = False
            while True:
                try:
                    data = os.read(fd, 1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    ended = True
                    break
                child.buffer += data
            self._unpack(child)
            if ended:
                del self.children[fd]
                os.close(fd)
                if any(not self.done[index] for index in child.working):
                    self._ended(child, _reap(child.pid))  # how it ended tells about its item
                else:  # it sent every result: waiting for it to exit can wait (``reap_ended``)
                    _ending.append(child.pid)

    def _unpack(self, child: _Child) -> None:
        """Take the whole messages out of a child's buffer."""
        buffer, at = child.buffer, 0
        while len(buffer) - at >= 4:
            size = int.from_bytes(buffer[at : at + 4], "little")
            if len(buffer) - at - 4 < size:
                break
            message = pickle.loads(buffer[at + 4 : at + 4 + size])
            at += 4 + size
            if message[0] == "claim":
                child.working = self.plan[message[1]]
            else:
                self.results[message[1]], self.done[message[1]] = message[2], True
        del buffer[:at]

    def _ended(self, child: _Child, status: int) -> None:
        """A child's pipe closed: after its last chunk, or it died (its items are left undone
        for this process, but the one a signal ended it on)."""
        lost = [index for index in child.working if not self.done[index]]
        if lost and os.WIFSIGNALED(status) and self.crashed is not None:
            number = os.WTERMSIG(status)
            try:
                why = signal.Signals(number).name
            except ValueError:  # a real-time signal
                why = f"signal {number}"
            self.results[lost[0]] = self.crashed(self.items[lost[0]], why)
            self.done[lost[0]] = True

    def close(self) -> None:
        for fd in self.claim_pipes:
            os.close(fd)
        for child in self.children.values():  # interrupted: end the children, leave no zombie
            os.close(child.fd)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            _reap(child.pid)
        self.children.clear()


def _claim_pipe(numbers: range) -> int:
    """A pipe holding ``numbers`` as records, its writing end closed: readers meet the end of
    the file once every number is claimed."""
    read_end, write_end = os.pipe()
    view = memoryview(b"".join(k.to_bytes(RECORD, "little") for k in numbers))
    while view:
        view = view[os.write(write_end, view) :]
    os.close(write_end)
    return read_end


def _claims(pipes: tuple[int, ...]) -> Iterator[int]:
    """Chunk numbers claimed from ``pipes``, each read to its end in turn."""
    for fd in pipes:
        while len(record := os.read(fd, RECORD)) == RECORD:
            yield int.from_bytes(record, "little")


def _enlarge(fd: int) -> None:
    """A results pipe that holds a megabyte, so a child seldom waits while this process lints."""
    import fcntl

    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is not None:
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: 64 KiB works too
            fcntl.fcntl(fd, setsize, 1 << 20)


def _child(function, items, plan, pipes, out: int) -> None:
    """A forked child's whole life: claim chunks, send each item's result, then end at once."""
    code = 0
    try:
        for chunk in _claims(pipes):
            _send(out, ("claim", chunk))
            for index in plan[chunk]:
                _send(out, ("result", index, function(items[index])))
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # whatever it was (a result that does not pickle): the items go back
        code = 1
    # The kernel frees an ending process's memory before it closes its files (2-3 ms for a child
    # that linted): closed here, the pipe tells the main process at once that nothing more comes.
    os.close(out)
    os._exit(code)


def _send(fd: int, message) -> None:
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(4, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


# Children that sent every result and closed their pipes, and may still be exiting.
_ending: list[int] = []


def reap_ended() -> None:
    """Wait for the children that ``forked`` left exiting: a caller does this once it has used
    the results (a check: once its report is written), so that a child's last milliseconds of
    exiting pass while the main process works. ``forked`` does it first too."""
    while _ending:
        _reap(_ending.pop())


def _reap(pid: int) -> int:
    """The wait status of a child that has ended or is ending."""
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0
