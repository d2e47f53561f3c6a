"""Linting over several processes: the main process lints with forked children (where processes
fork) or hands chunks to spawned workers; results, order, crashes and Ctrl-C as with one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import REPO, run_cli

from lorlint.commands import workers

FIXTURES = REPO / "fixtures"
needs_fork = pytest.mark.skipif(not workers.can_fork(), reason="processes do not fork here")


def test_chunks_cover_every_item_once_and_shrink_towards_the_end():
    for n in (0, 1, 7, 16, 91, 1000):
        for processes in (2, 3, 8):
            made = workers.chunks(list(range(n)), processes)
            assert [i for chunk in made for i in chunk] == list(range(n))
            sizes = [len(chunk) for chunk in made]
            assert sizes == sorted(sizes, reverse=True)
            assert not sizes or (sizes[0] <= workers.CHUNK_MAX and sizes[-1] == 1)
    assert len(workers.chunks(list(range(100_000)), 2)) <= workers.MAX_CHUNKS


def _square_slowly(n: int) -> tuple[int, int]:
    time.sleep(0.005)  # long enough that every child claims some before the end
    return n, os.getpid()


@needs_fork
@pytest.mark.parametrize("processes", [2, 3])
def test_forked_results_in_order_from_every_process(processes):
    items = list(range(60))
    own = set(range(0, 60, 7))
    out = list(workers.forked(_square_slowly, items, processes, own))
    assert [n for n, _ in out] == items
    assert len({pid for _, pid in out}) == processes  # this process and each child linted
    assert {out[i][1] for i in own} == {os.getpid()}  # the main process's own items: first


@needs_fork
def test_a_child_killed_on_an_item_marks_it_and_the_main_process_does_the_rest():
    main = os.getpid()

    def lint(n: int):
        if n == 0 and os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)
        if os.getpid() == main:
            time.sleep(0.02)  # the child claims item 0, the only shared one, first
        return n

    own = set(range(1, 20))
    out = list(workers.forked(lint, list(range(20)), 2, own, lambda n, why: f"{n}: {why}"))
    assert out == ["0: SIGKILL", *range(1, 20)]


@needs_fork
def test_a_child_that_fails_outside_an_item_leaves_its_items_to_the_main_process():
    main = os.getpid()

    def lint(n: int):
        if os.getpid() != main:
            raise SystemExit(3)
        return n * n

    assert list(workers.forked(lint, list(range(30)), 2)) == [n * n for n in range(30)]


def _tree(root, count: int = 20) -> None:
    for i in range(count):
        (root / f"s{i:02}.py").write_text((FIXTURES / "phi3_qlora.py").read_text())
    for i in range(4):
        (root / f"a{i}").mkdir()
        (root / f"a{i}" / "adapter_config.json").write_text(
            '{"peft_type": "LORA", "base_model_name_or_path": "microsoft/phi-2", '
            '"target_modules": ["q_proj", "dense", "fc9"]}'
        )


ARGS = ("check", ".", "--no-cache", "--output-format", "concise")


def test_spawned_workers_equal_one_process(tmp_path):
    """The pool of spawned workers (macOS, Windows), forced here: same output as one process."""
    _tree(tmp_path)
    code = (
        "import sys, multiprocessing, concurrent.futures as cf\n"
        "from lorlint.commands import workers, check\n"
        "workers.can_fork = lambda: False\n"
        "real = cf.ProcessPoolExecutor\n"
        "cf.ProcessPoolExecutor = lambda *a, **k: real(*a, mp_context="
        "multiprocessing.get_context('spawn'), **k)\n"
        "from lorlint.cli import main\n"
        f"sys.exit(main([*{ARGS!r}, '--jobs', '2']))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    spawned = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    serial = run_cli(*ARGS, "--jobs", "1", cwd=tmp_path)
    assert serial.returncode == spawned.returncode == 1, spawned.stderr
    assert spawned.stdout == serial.stdout
    assert "fc9" in serial.stdout


CRASH = """
import os, signal, sys
import lorlint.commands.check as check
from lorlint.cli import main
real, main_pid = check.lint_file, os.getpid()
def lint_file(path, options, views, data=None):
    if path.name == "crash.py":
        if os.getpid() == main_pid:
            raise RuntimeError("boom")
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, options, views, data)
check.lint_file = lint_file
main([*ARGS, "--jobs", "2"])
"""


@needs_fork
def test_a_file_that_crashes_a_process_is_that_file_s_ll900(tmp_path):
    _tree(tmp_path)
    (tmp_path / "crash.py").write_text("from peft import LoraConfig\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", f"ARGS = {ARGS!r}\n{CRASH}"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    (tmp_path / "crash.py").unlink()
    clean = _findings(run_cli(*ARGS, "--jobs", "1", cwd=tmp_path).stdout)
    found = _findings(proc.stdout)
    crashed = [line for line in found if line.startswith("crash.py")]
    assert len(crashed) == 1, proc.stdout + proc.stderr
    assert crashed[0].startswith("crash.py:1:1: LL900 internal error while linting this file: ")
    assert "RuntimeError: boom" in crashed[0] or "killed (SIGKILL)" in crashed[0]
    assert [line for line in found if line not in crashed] == clean
    assert "Traceback" not in proc.stderr


def _findings(concise: str) -> list[str]:
    return [line for line in concise.splitlines() if ": LL" in line]


SLOW = """
import os, signal, time, sys
# A terminal's foreground job: Ctrl-C's SIGINT raises KeyboardInterrupt even where this test
# runs with SIGINT ignored (a job started in the background by a non-interactive shell).
signal.signal(signal.SIGINT, signal.default_int_handler)
import lorlint.commands.check as check
from lorlint.cli import main
real = check.lint_file
def lint_file(path, options, views, data=None):
    open(f"linting.{os.getpid()}", "w").close()  # this process is linting
    time.sleep(0.5)
    return real(path, options, views, data)
check.lint_file = lint_file
sys.exit(main([*ARGS, "--jobs", "2"]))
"""


@needs_fork
def test_ctrl_c_exits_130_without_a_traceback_and_leaves_no_process(tmp_path):
    _tree(tmp_path, 40)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", f"ARGS = {ARGS!r}\n{SLOW}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("linting.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # until both processes lint (44 files at 0.5 s: 11 s of work left)
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: to every process of the group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no child left behind


@needs_fork
def test_no_process_to_be_had_this_one_lints_everything(monkeypatch):
    def refuse():
        raise BlockingIOError("fork: Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    out = list(workers.forked(_square_slowly, list(range(20)), 2))
    assert out == [(n, os.getpid()) for n in range(20)]


@needs_fork
def test_children_that_sent_everything_are_reaped_when_asked():
    """A child that sent every result is waited for by ``reap_ended`` (a check calls it once its
    report is written), not when its pipe closes; nothing is left behind after it."""
    out = list(workers.forked(_square_slowly, list(range(20)), 2))
    children = {pid for _, pid in out} - {os.getpid()}
    assert children and set(workers._ending) == children
    workers.reap_ended()
    assert workers._ending == []
    for pid in children:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more
