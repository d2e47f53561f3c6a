"""Hostile inputs (issue #15): no input may hang, crash or exhaust memory, and one bad file never
stops the run.

Each case is a small tree: the hostile file(s) plus ``good.py`` (a misspelt target, LL101), which
must still be linted. Every case runs ``lorlint`` in its own process under a wall-clock timeout and
an address-space limit (``resource.setrlimit``), all cases concurrently, so this suite can never
hang or take the machine down, and each has its expected exit code and message.

Cases that belong to other areas are ``xfail(strict=True)``: they flip when that work is merged.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIMEOUT = 30  # seconds per case; a normal case takes a few
TORCH_TIMEOUT = 240  # importing torch and building a table, on a busy machine
MEMORY = 3 << 30  # bytes of address space per case
TORCH_MEMORY = 8 << 30  # cases that build a layer table import torch
LLAMA = "# lorlint: model=meta-llama/Llama-3.1-8B"
GOOD = f'from peft import LoraConfig  {LLAMA}\ncfg = LoraConfig(target_modules=["q_proj", "dwn_proj"])\n'
GOOD_FINDING = 'good.py:2:44: LL101 [*] "dwn_proj" matches no module'
AXOLOTL = "base_model: NousResearch/Meta-Llama-3-8B\nadapter: lora\n"
ADAPTER = {
    "peft_type": "LORA",
    "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
    "target_modules": ["q_proj", "dwn_proj"],
    "r": 8,
}


CHECK = ("check", ".", "--output-format", "concise", "--no-cache")


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    rc: int = 1
    expect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    args: tuple[str, ...] = CHECK
    good: bool = True  # good.py is written and its finding expected
    setup: Callable[[Path], None] | None = None  # extra preparation of the tree
    verify: Callable[[Path], None] | None = None  # extra checks after the run
    env: dict[str, str] = field(default_factory=dict)
    memory: int = MEMORY
    timeout: int = TIMEOUT
    run: Callable[[Path, dict], tuple[int, str]] | None = None  # instead of `lorlint ARGS`


def notebook(*sources) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "from peft import LoraConfig"}]
    cells += [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
        for s in sources
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def python(body: str) -> str:
    return f"from peft import LoraConfig  {LLAMA}\n{body}\n"


def fifo(name: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / name)

    return make


def dev_zero(name: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to("/dev/zero")

    return make


# --- caches ---------------------------------------------------------------------------------------
def site_cache_entry(make: Callable[[Path], None]) -> Callable[[Path], None]:
    """Plant something at good.py's site-cache entry."""

    def setup(root: Path) -> None:
        from lorlint import __version__
        from lorlint.sitecache import CACHE_DIRNAME, SiteCache

        directory = root / CACHE_DIRNAME / __version__
        directory.mkdir(parents=True)
        make(directory / f"{SiteCache.key(GOOD)}.json")

    return setup


TINY_LLAMA = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 128,
}
LOCAL_MODEL = (
    "from peft import LoraConfig  # lorlint: model=./tiny\n"
    'cfg = LoraConfig(target_modules=["q_proj", "v_proj", "dwn_proj"], task_type="CAUSAL_LM")\n'
)


def table_cache_entry(make: Callable[[Path], None]) -> Callable[[Path], None]:
    """A local model whose layer table is built once and cached; plant ``make`` at its entry."""

    def setup(root: Path) -> None:
        from lorlint.models.cache import table_key
        from lorlint.models.resolve import resolve
        from lorlint.models.view import installed_transformers

        (root / "tiny").mkdir()
        (root / "tiny" / "config.json").write_text(json.dumps(TINY_LLAMA))
        installed = installed_transformers()
        key = table_key(resolve(str(root / "tiny")).config, "causal-lm", installed)
        directory = root / "cache" / "tables" / installed
        directory.mkdir(parents=True)
        make(directory / f"{key}.json.gz")

    return setup


def empty_table(path: Path) -> None:
    from lorlint.models.cache import TABLE_FORMAT, _checksum

    table = {
        "model_type": "llama",
        "architecture": "LlamaForCausalLM",
        "classes": [],
        "modules": [],
    }
    entry = {"format": TABLE_FORMAT, "key": path.name.split(".")[0], "table": table}
    entry["checksum"] = _checksum(table)
    path.write_bytes(gzip.compress(json.dumps(entry).encode()))


def truncated_gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(b'{"format": 2, "table": {"modules": [' + b"1, " * 5000)[:-40])


LOCAL_FINDING = 'model.py:2:54: LL101 [*] "dwn_proj" matches no module of ./tiny'


def nothing_outside(root: Path) -> None:
    assert list((root.parent / f"{root.name}-outside").iterdir()) == []


def cache_points_outside(root: Path) -> None:
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (root / ".lorlint_cache").symlink_to(outside)


# --- running a crash into one file ------------------------------------------------------------------
CRASH = """
import sys
from lorlint.cli import main
import lorlint.commands.check as check
real = check.lint_file
def lint_file(path, options, views, data=None):
    if path.name == "crash.py":
        raise RuntimeError("boom")
    return real(path, options, views, data)
check.lint_file = lint_file
sys.exit(main(["check", ".", "--output-format", "concise", "--no-cache"]))
"""


def crash_one_file(root: Path, env: dict) -> tuple[int, str]:
    return _run([sys.executable, "-c", CRASH], root, env, MEMORY)


# --- network: a project's own settings must not turn it on ---------------------------------------------
def no_connection(root: Path, env: dict) -> tuple[int, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    env = {**env, "HF_ENDPOINT": f"http://127.0.0.1:{listener.getsockname()[1]}"}
    env.pop("HF_HUB_OFFLINE", None)
    try:
        code, out = _run([sys.executable, "-m", "lorlint", *CHECK], root, env, MEMORY)
        try:
            listener.accept()
            out += "\nCONNECTED to HF_ENDPOINT"
        except BlockingIOError:
            pass
    finally:
        listener.close()
    return code, out


# --- the language server: a malformed request gets an error response ------------------------------
def lsp_malformed_request(root: Path, env: dict) -> tuple[int, str]:
    """Initialize, then a code action request without params: a reply (an error) must come."""
    import queue
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "lorlint", "server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=root,
        env=env,
        preexec_fn=_limits(MEMORY),
    )
    replies: queue.Queue = queue.Queue()

    def read() -> None:  # never blocks the test: a silent server just times out below
        try:
            while True:
                length = 0
                while (line := proc.stdout.readline()) not in (b"\r\n", b"\n"):
                    if not line:
                        return
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                replies.put(json.loads(proc.stdout.read(length)))
        except (OSError, ValueError):
            return

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        proc.stdin.flush()

    def reply_to(request_id: int) -> dict | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                reply = replies.get(timeout=1)
            except queue.Empty:
                continue
            if reply.get("id") == request_id:
                return reply
        return None

    threading.Thread(target=read, daemon=True).start()
    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}})  # fmt: skip
        if reply_to(1) is None:
            return 1, "no reply to initialize"
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {}})
        reply = reply_to(2)
        return (0, json.dumps(reply)) if reply is not None else (1, "no reply")
    except OSError as err:
        return 1, f"server failed: {err}"
    finally:
        proc.kill()
        proc.wait()


def git_with_fsmonitor(root: Path) -> None:
    subprocess.run(["git", "init", "-q", "."], cwd=root, check=True, capture_output=True)
    with (root / ".git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = touch {root / 'FSMONITOR-RAN'}\n")


def fsmonitor_idle(root: Path) -> None:
    assert not (root / "FSMONITOR-RAN").exists(), (
        "the linted tree's git configuration ran a command"
    )


def sparse_config_json(root: Path) -> None:
    (root / "m").mkdir()
    path = root / "m" / "config.json"
    path.write_bytes(b"{")
    os.truncate(path, 3 << 30)  # 3 GB that take no disk


# --- the cases ---------------------------------------------------------------------------------------
CASES = [
    # notebooks
    Case("notebook-source-ints", {"nb.ipynb": notebook([1, 2, 3])},
         expect=("nb.ipynb:1:1: LL900 cannot parse notebook: cell 2: `source` is neither",)),
    Case("notebook-source-nested-lists", {"nb.ipynb": notebook([["from peft import x\n"]])},
         expect=("nb.ipynb:1:1: LL900 cannot parse notebook: cell 2: `source` is neither",)),
    Case("notebook-huge-int", {"nb.ipynb": notebook("x = 1")[:-1] + ', "n": ' + "7" * 5000 + "}"},
         expect=("nb.ipynb:1:1: LL900 cannot parse notebook: invalid JSON: an integer with more",)),
    Case("notebook-deep-json",
         {"nb.ipynb": notebook("x = 1")[:-1] + ', "d": ' + "[" * 20000 + "]" * 20000 + "}"},
         expect=("nb.ipynb:1:1: LL900 cannot parse notebook: JSON nested deeper than 200 levels",)),
    # YAML
    Case("yaml-python-name-base-model",
         {"ax.yml": "base_model: !!python/name:os.system\nadapter: lora\nlora_target_modules: [q_proj]\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 1, column 13: the tag !!python/name:os.system "
                 "is refused by YAML's safe loader",)),
    Case("yaml-python-module-target-entry",
         {"ax.yml": AXOLOTL + "lora_target_modules:\n  - !!python/module:os\n  - q_proj\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 4, column 5: the tag !!python/module:os",)),
    Case("yaml-custom-tag-adapter-field",
         {"ax.yml": "base_model: NousResearch/Meta-Llama-3-8B\nadapter: !peft lora\n"
                    "lora_target_modules: [q_proj]\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 2, column 10: the tag !peft is refused",)),
    Case("yaml-custom-tag-elsewhere",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\ndatasets: !Ref data\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 4, column 11: the tag !Ref is refused",)),
    Case("yaml-complex-key",
         {"ax.yml": AXOLOTL + "? [lora_target_modules]\n: [q_proj]\nlora_target_modules: [q_proj]\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 3, column 3: a complex mapping key",)),
    Case("yaml-huge-lora-r",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\nlora_r: " + "9" * 5000 + "\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 4, column 9: an integer with more than",)),
    Case("yaml-huge-layers",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\npeft_layers_to_transform: ["
                    + "9" * 5000 + "]\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: line 4, column 28: an integer with more than",)),
    Case("yaml-huge-quantization-bit",
         {"lf.yaml": "model_name_or_path: meta-llama/Llama-3.1-8B\nfinetuning_type: lora\n"
                     "lora_target: q_proj\nquantization_bit: " + "4" * 5000 + "\n"},
         expect=("lf.yaml:1:1: LL900 cannot parse: line 4, column 19: an integer with more than",)),
    Case("yaml-10000-deep",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\nx: " + "[" * 10000 + "]" * 10000 + "\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: invalid YAML: nested too deeply",)),
    Case("yaml-alias-bomb",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\na0: &a0 [x, x, x, x, x, x, x, x]\n"
                    + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
                              for i in range(1, 12))
                    + "lora_modules_to_save: *a11\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: more than 20000 YAML nodes",)),
    Case("yaml-merge-keys",
         {"ax.yml": "defaults: &defaults\n  adapter: lora\n  lora_target_modules: [q_proj, dwn_proj]\n"
                    "base_model: NousResearch/Meta-Llama-3-8B\n<<: *defaults\n"},
         expect=('ax.yml:3:33: LL101 "dwn_proj" matches no module of NousResearch/Meta-Llama-3-8B',)),
    Case("yaml-merge-bomb",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\nm0: &m0 {k: v}\n"
                    + "".join(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: v}}\n"
                              for i in range(1, 40))
                    + "lora_modules_to_save:\n  <<: *m39\n"},
         expect=("ax.yml:1:1: LL900 cannot parse: more than 20000 YAML nodes",)),
    # adapter_config.json
    Case("adapter-config-utf16", {"a/adapter_config.json": json.dumps(ADAPTER).encode("utf-16")},
         expect=("a/adapter_config.json:1:1: LL900 cannot decode: UTF-16/UTF-32 text",)),
    Case("adapter-config-huge-int",
         {"a/adapter_config.json": json.dumps(ADAPTER)[:-1] + ', "x": ' + "7" * 5000 + "}"},
         expect=("a/adapter_config.json:1:1: LL900 cannot parse: invalid JSON: an integer with",)),
    Case("adapter-config-deep-json",
         {"a/adapter_config.json": json.dumps(ADAPTER)[:-1] + ', "x": ' + "[" * 9000 + "]" * 9000 + "}"},
         expect=("a/adapter_config.json:1:1: LL900 cannot parse: JSON nested deeper than 200",)),
    # values and regexes
    Case("layers-pattern-invalid-regex",
         {"t.py": python('cfg = LoraConfig(target_modules=["q_proj"], layers_to_transform=[0], '
                         'layers_pattern="lay(ers")')},
         expect=("t.py:2:85: LL107 layers_pattern 'lay(ers' is not a valid regular expression",)),
    Case("layers-to-transform-10-to-the-12",
         {"t.py": python('cfg = LoraConfig(target_modules=["q_proj", "v_proj"], '
                         "layers_to_transform=1000000000000)")},
         expect=("t.py:2:75: LL107 layers_to_transform has [1000000000000] but",)),
    Case("redos-target-modules",
         {"t.py": python('cfg = LoraConfig(target_modules="(.*)*q_proj$x", task_type="CAUSAL_LM")')},
         expect=("t.py:2:33: LL103 the regular expression '(.*)*q_proj$x' is too costly to check",)),
    Case("redos-exclude-modules",
         {"t.py": python('cfg = LoraConfig(target_modules=["q_proj"], exclude_modules="(.*)*x$y")')},
         expect=("t.py:2:61: LL103 the regular expression '(.*)*x$y' is too costly to check",)),
    Case("yaml-invalid-layers-pattern",
         {"ax.yml": AXOLOTL + "lora_target_modules: [q_proj]\npeft_layers_to_transform: [1]\n"
                    "peft_layers_pattern: 'lay(ers'\n"},
         expect=("ax.yml:5:22: LL107 layers_pattern 'lay(ers' is not a valid regular expression",)),
    # one bad file never stops the run
    Case("crash-in-one-file", {"crash.py": python("x = 1")}, run=crash_one_file,
         expect=("crash.py:1:1: LL900 internal error while linting this file: RuntimeError: boom; "
                 "please report it",)),
    # caches
    Case("site-cache-entry-empty-object", args=("check", ".", "--output-format", "concise"),
         setup=site_cache_entry(lambda p: p.write_text("{}"))),
    Case("site-cache-entry-no-sites", args=("check", ".", "--output-format", "concise"),
         setup=site_cache_entry(lambda p: p.write_text('{"format": 2, "sites": []}'))),
    Case("site-cache-entry-fifo", args=("check", ".", "--output-format", "concise"),
         setup=site_cache_entry(os.mkfifo)),
    Case("site-cache-entry-dev-zero", args=("check", ".", "--output-format", "concise"),
         setup=site_cache_entry(lambda p: p.symlink_to("/dev/zero"))),
    Case("site-cache-symlinked-out-of-tree", args=("check", ".", "--output-format", "concise"),
         setup=cache_points_outside, verify=nothing_outside),
    Case("table-cache-empty-table", {"model.py": LOCAL_MODEL}, expect=(LOCAL_FINDING,),
         setup=table_cache_entry(empty_table), memory=TORCH_MEMORY, timeout=TORCH_TIMEOUT),
    Case("table-cache-truncated-gzip", {"model.py": LOCAL_MODEL}, expect=(LOCAL_FINDING,),
         setup=table_cache_entry(truncated_gzip), memory=TORCH_MEMORY, timeout=TORCH_TIMEOUT),
    Case("table-cache-fifo", {"model.py": LOCAL_MODEL}, expect=(LOCAL_FINDING,),
         setup=table_cache_entry(os.mkfifo), memory=TORCH_MEMORY, timeout=TORCH_TIMEOUT),
    # front end (parsing, evaluation, reading linted files)
    # deep expressions at the top level are never parsed (no site can involve them); inside a
    # config call they are, and must end as LL900, not as a native crash or a hang
    *[Case(f"front-end-native-crash-{name}", {"t.py": python(body), "u.py": python(in_config)},
           expect=("u.py:1:1: LL900",))
      for name, body, in_config in [
          (name, "x = " + expr, f'cfg = LoraConfig(target_modules=["q_proj"], r={expr})')
          for name, expr in [("lambda-5000", "lambda: " * 5000 + "0"),
                             ("minus-10000", "-" * 10000 + "1"),
                             ("plus-10000", "+" * 10000 + "1"),
                             ("attribute-10000", "a" + ".b" * 10000),
                             ("call-10000", "f" + "()" * 10000)]]],
    *[Case(f"front-end-hang-{name}", {"t.py": python(body), "u.py": python(in_config)},
           expect=("u.py:",))
      for name, body, in_config in [
          (name, "x = " + expr, f'cfg = LoraConfig(target_modules=["q_proj"], r={expr})')
          for name, expr in [("minus-20000", "-" * 20000 + "1"),
                             ("plus-100000", "1" + " + 1" * 100000),
                             ("attribute-50000", "a" + ".b" * 50000),
                             ("call-20000", "f" + "()" * 20000),
                             ("subscript-20000", "a" + "[0]" * 20000)]]],
    Case("front-end-hang-sum-5000-in-target-modules",
         {"t.py": python("cfg = LoraConfig(target_modules="
                         + " + ".join(['["q_proj"]'] * 5000) + ")")}, expect=("t.py:",)),
    Case("front-end-hang-5000-configs",
         {"t.py": python("\n".join(f'c{i} = LoraConfig(target_modules=["q_proj"])'
                                   for i in range(5000)))}, expect=("t.py:",)),
    Case("front-end-range-10-to-the-8",
         {"t.py": python('cfg = LoraConfig(target_modules=["q_proj"], '
                         "layers_to_transform=list(range(100000000)))")}),
    Case("front-end-5mb-file", {"t.py": python("x = 1\n" * 700_000)}),
    Case("front-end-fifo-named-py", setup=fifo("pipe.py")),
    Case("front-end-dev-zero-named-py", setup=dev_zero("zero.py")),
    Case("front-end-bom-before-import", {"t.py": "\ufeff" + GOOD},
         expect=('t.py:2:44: LL101 [*] "dwn_proj"',)),
    Case("front-end-cr-only-line-endings", {"t.py": ("# train\n" + GOOD).replace("\n", "\r")},
         expect=('t.py:3:44: LL101 [*] "dwn_proj"',)),
    Case("front-end-latin-1-with-cookie",
         {"t.py": ("# -*- coding: latin-1 -*-\n" + GOOD + "x = 'é'\n").encode("latin-1")},
         expect=('t.py:3:44: LL101 [*] "dwn_proj"',)),
    # settings, git, network, server
    *[Case(f"settings-{name}", {"pyproject.toml": "[tool.lorlint]\n" + line}, rc=2, good=False,
           expect=key)
      for name, line, key in [
          ("per-file-ignores-list", 'per-file-ignores = ["x"]\n', ("per-file-ignores",)),
          ("fail-level-unknown", 'fail-level = "bogus"\n', ("fail-level", "bogus")),
          ("model-int", "model = 5\n", ("model", "5")),
          ("select-string", 'select = "LL1"\n', ("select", "LL1"))]],
    Case("settings-invalid-utf8-lorlint-toml", {"lorlint.toml": b"select = ['\xff']\n"}, rc=2,
         good=False, expect=("lorlint.toml",)),
    Case("git-fsmonitor-never-runs", setup=git_with_fsmonitor, verify=fsmonitor_idle),
    Case("project-online-setting-opens-no-connection", run=no_connection,
         files={"pyproject.toml": "[tool.lorlint]\nonline = true\n",
                "t.py": 'from peft import LoraConfig  # lorlint: model=someorg/not-in-any-index\n'
                        'cfg = LoraConfig(target_modules=["q_proj"])\n'},
         expect=("t.py:",)),
    Case("server-malformed-request-gets-an-error", run=lsp_malformed_request, rc=0,
         good=False, expect=('"error"',)),
    # model knowledge
    Case("config-json-task-builds-no-arbitrary-class", memory=TORCH_MEMORY, timeout=TORCH_TIMEOUT,
         files={"m/config.json": json.dumps({**TINY_LLAMA, "task": "Trainer"}),
                "t.py": 'from peft import LoraConfig  # lorlint: model=./m\n'
                        'cfg = LoraConfig(target_modules=["q_proj"])\n'},
         expect=("t.py:",), absent=("cannot build Trainer",)),
    Case("config-json-100000-layers", memory=TORCH_MEMORY, timeout=120,
         files={"m/config.json": json.dumps({**TINY_LLAMA, "num_hidden_layers": 100000}),
                "t.py": 'from peft import LoraConfig  # lorlint: model=./m\n'
                        'cfg = LoraConfig(target_modules=["q_proj"])\n'},
         expect=("t.py:",)),
    Case("config-json-3-gb",
         files={"t.py": 'from peft import LoraConfig  # lorlint: model=./m\n'
                        'cfg = LoraConfig(target_modules=["q_proj"])\n'},
         setup=sparse_config_json, expect=("t.py:",)),
]  # fmt: skip


# --- running them ------------------------------------------------------------------------------------
def _limits(memory: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _run(
    command: list[str], root: Path, env: dict, memory: int, timeout: int = TIMEOUT
) -> tuple[int, str]:
    try:
        proc = subprocess.run(
            command,
            cwd=root,
            env=env,
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limits(memory),
        )
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"") + (err.stderr or b"")
        return -999, f"TIMED OUT after {timeout} s\n" + out.decode(errors="replace")
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def _execute(case: Case, root: Path) -> tuple[int, str, float]:
    root.mkdir(parents=True)
    if case.good:
        (root / "good.py").write_text(GOOD)
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "LORLINT_CACHE_DIR": str(root / "cache"),
        "HF_HUB_CACHE": str(root / "hf-cache"),
        "NO_COLOR": "1",
        **case.env,
    }
    started = time.monotonic()
    try:
        if case.setup is not None:
            case.setup(root)
        if case.run is not None:
            code, out = case.run(root, env)
        else:
            command = [sys.executable, "-m", "lorlint", *case.args]
            code, out = _run(command, root, env, case.memory, case.timeout)
    except Exception as err:  # a broken setup is this case's failure, not the suite's
        code, out = -998, f"setup failed: {type(err).__name__}: {err}"
    return code, out, time.monotonic() - started


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, tuple[int, str, float]]:
    """Every selected case, run four at a time (most of the time is waiting on a limit)."""
    selected = {item.callspec.id for item in request.session.items if hasattr(item, "callspec")}
    base = tmp_path_factory.mktemp("hostile")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            case.id: pool.submit(_execute, case, base / case.id)
            for case in CASES
            if case.id in selected
        }
    results = {name: future.result() for name, future in futures.items()}
    results["__base__"] = (0, str(base), 0.0)
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, outcomes):
    code, out, seconds = outcomes[case.id]
    out += f"\n[{case.id}: exit {code} after {seconds:.1f} s]"
    root = Path(outcomes["__base__"][1]) / case.id
    assert code not in (-998, -999), out  # setup failed, or the run hung
    assert code >= 0, f"killed by signal {-code} (a native crash or the memory limit)\n{out}"
    for bad in ("Traceback", "internal error"):
        assert bad not in out or any(bad in text for text in case.expect), out
    assert code == case.rc, out
    for text in case.expect:
        assert text in out, out
    for text in case.absent:
        assert text not in out, out
    if case.good:
        assert GOOD_FINDING in out, out  # the good file beside it is still linted
    if case.verify is not None:
        case.verify(root)
