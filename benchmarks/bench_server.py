"""`lorlint server` latency with a scripted LSP client: initialize, and re-lint after an edit.

    python benchmarks/bench_server.py --runs 10

- initialize: from starting the process to the initialize response (what an editor waits for),
  beside `ruff server` and a bare `python -c pass` start. With nothing kept (a first start), for
  an empty client and for VS Code 1.65's request (tests/lsp_clients/): the answer is computed
  (lorlint/server_answer.py) and sent before pygls is imported. Then a request that module does
  not model (a bool sent as 1): its first start waits for pygls, its later starts get the answer
  pygls gave, kept on disk;
- re-lint: a 2,000-line training script and a 2,000-line notebook (40 cells) are opened, then one
  line is edited; the time from didChange to the new diagnostics (push mode, as VS Code 1.65 and
  most clients). Python's own `ast.parse` of the same text is shown as the floor.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from rawlsp import RawClient  # noqa: E402

HEADER = """\
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
"""
CONFIG = (
    'config = LoraConfig(target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", '
    '"up_proj", "{name}"], task_type="CAUSAL_LM")\nmodel = get_peft_model(model, config)\n'
)


def filler(lines: int) -> str:
    """Ordinary training-script code: small functions, about ``lines`` lines."""
    out = []
    for i in range(lines // 4):
        out.append(f"def step_{i}(batch, lr=1e-4):\n    loss = batch['x'] * {i} + lr\n"
                   f"    return loss / {i + 1}\n\n")  # fmt: skip
    return "".join(out)


def script(name: str) -> str:
    return HEADER + filler(1000) + CONFIG.format(name=name) + filler(990)


def notebook_cells(name: str) -> list[str]:
    cells = [HEADER] + [filler(48) for _ in range(38)] + [CONFIG.format(name=name)]
    return cells


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux): the figure that the machine's load
    does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pid(pid: int) -> int | None:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else None


def start(command: list[str], env) -> tuple[RawClient, float]:
    t0 = time.perf_counter()
    client = RawClient(command, env=env)
    client.initialize(Path(tempfile.gettempdir()).as_uri())
    return client, time.perf_counter() - t0


VSCODE = REPO / "tests" / "lsp_clients" / "visual_studio_code_v1.65.2.json"
UNMODELLED = {"textDocument": {"synchronization": {"willSave": 1}}}


def initialize_times(
    command: list[str], runs: int, env, fresh_cache: bool = False, capabilities: dict | None = None
) -> tuple[list[float], list[float]]:
    """Wall seconds to the initialize response, and the server's CPU seconds by then;
    ``fresh_cache``: each start with an empty cache directory (no initialize answer kept)."""
    times, cpu = [], []
    for _ in range(runs):
        run_env = env
        if fresh_cache:
            run_env = {**env, "LORLINT_CACHE_DIR": tempfile.mkdtemp(prefix="lorlint-bench-")}
        t0 = time.perf_counter()
        client = RawClient(command, env=run_env)
        client.request("initialize", {"processId": None, "rootUri": None,
                                      "capabilities": capabilities or {}})  # fmt: skip
        times.append(time.perf_counter() - t0)
        cpu.append(cpu_seconds(client.proc.pid))
        client.notify("initialized", {})
        client.close()
        if fresh_cache:
            shutil.rmtree(run_env["LORLINT_CACHE_DIR"], ignore_errors=True)
    return times, cpu


def relint_script(runs: int, env) -> tuple[list[float], float]:
    client, _ = start([sys.executable, "-m", "lorlint", "server"], env)
    try:
        uri = (Path(tempfile.gettempdir()) / "bench_train.py").as_uri()
        text = script("dwn_proj")
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}})  # fmt: skip
        client.diagnostics(uri, timeout=300)
        times, cpu = [], []
        worker = worker_pid(client.proc.pid)
        for version in range(2, runs + 2):
            name = "down_proj" if version % 2 else "dwn_proj"
            new = script(name)
            c0 = cpu_seconds(worker) + cpu_seconds(client.proc.pid)
            t0 = time.perf_counter()
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": new}]})  # fmt: skip
            published = client.diagnostics(uri, timeout=300)
            times.append(time.perf_counter() - t0)
            cpu.append(cpu_seconds(worker) + cpu_seconds(client.proc.pid) - c0)
            assert bool(published["diagnostics"]) == (name == "dwn_proj"), published
        floor = min(_parse_time(script("x")) for _ in range(3))
        return times, cpu, floor
    finally:
        client.close()


def relint_notebook(runs: int, env) -> tuple[list[float], float]:
    client, _ = start([sys.executable, "-m", "lorlint", "server"], env)
    capabilities = {"notebookDocument": {"synchronization": {}}}
    client.close()
    client = RawClient([sys.executable, "-m", "lorlint", "server"], env=env)
    client.initialize(Path(tempfile.gettempdir()).as_uri(), capabilities)
    try:
        base = Path(tempfile.gettempdir()) / "bench.ipynb"
        cells = notebook_cells("dwn_proj")
        uris = [f"vscode-notebook-cell:{base}#c{i}" for i in range(len(cells))]
        client.notify("notebookDocument/didOpen", {
            "notebookDocument": {"uri": base.as_uri(), "notebookType": "jupyter-notebook",
                                 "version": 1,
                                 "cells": [{"kind": 2, "document": u} for u in uris]},
            "cellTextDocuments": [{"uri": u, "languageId": "python", "version": 1, "text": t}
                                  for u, t in zip(uris, cells, strict=True)]})  # fmt: skip
        client.diagnostics(uris[-1], timeout=300)
        times, cpu = [], []
        worker = worker_pid(client.proc.pid)
        for version in range(2, runs + 2):
            name = "down_proj" if version % 2 else "dwn_proj"
            c0 = cpu_seconds(worker) + cpu_seconds(client.proc.pid)
            t0 = time.perf_counter()
            client.notify("notebookDocument/didChange", {
                "notebookDocument": {"uri": base.as_uri(), "version": version},
                "change": {"cells": {"textContent": [{
                    "document": {"uri": uris[-1], "version": version},
                    "changes": [{"text": CONFIG.format(name=name)}]}]}}})  # fmt: skip
            while True:
                published = client.diagnostics(uris[-1], timeout=300)
                if bool(published["diagnostics"]) == (name == "dwn_proj"):
                    break
            times.append(time.perf_counter() - t0)
            cpu.append(cpu_seconds(worker) + cpu_seconds(client.proc.pid) - c0)
        floor = min(_parse_time("\n".join(cells)) for _ in range(3))
        return times, cpu, floor
    finally:
        client.close()


def _parse_time(text: str) -> float:
    t0 = time.perf_counter()
    ast.parse(text)
    return time.perf_counter() - t0


def _row(label: str, times: list[float], cpu: list[float] | None = None) -> str:
    cpu_text = f"{statistics.median(cpu):.2f}" if cpu else "-"
    return (f"| {label} | {statistics.median(times):.3f} | {min(times):.3f} | "
            f"{max(times):.3f} | {cpu_text} | {len(times)} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "lorlint")], check=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("\n| initialize (s) | median | min | max | CPU (median) | runs |\n"
          "|---|---|---|---|---|---|")  # fmt: skip
    lorlint = [sys.executable, "-m", "lorlint", "server"]
    print(_row("`lorlint server`, first start (nothing kept)", *initialize_times(
        lorlint, args.runs, env, fresh_cache=True)))  # fmt: skip
    print(_row("`lorlint server`, first start, VS Code 1.65's request", *initialize_times(
        lorlint, args.runs, env, True, json.loads(VSCODE.read_text())["capabilities"])))  # fmt: skip
    print(_row("`lorlint server`, later start", *initialize_times(lorlint, args.runs, env)))
    print(_row("unmodelled request, first start (pygls answers)", *initialize_times(
        lorlint, args.runs, env, True, UNMODELLED)))  # fmt: skip
    initialize_times(lorlint, 1, env, capabilities=UNMODELLED)  # keeps pygls's answer
    print(_row("unmodelled request, later start (kept answer)", *initialize_times(
        lorlint, args.runs, env, capabilities=UNMODELLED)))  # fmt: skip
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():
        print(_row("`ruff server`", *initialize_times([ruff, "server"], args.runs, env)))
    starts = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.perf_counter() - t0)
    print(_row("`python -c pass` (process start)", starts))
    print("\n| re-lint after an edit (s) | median | min | max | CPU (median) | edits |\n"
          "|---|---|---|---|---|---|")  # fmt: skip
    times, cpu, floor = relint_script(args.runs, env)
    print(_row("2,000-line script", times, cpu))
    print(f"| `ast.parse` of it (floor) | {floor:.3f} | | | | |")
    times, cpu, floor = relint_notebook(args.runs, env)
    print(_row("2,000-line notebook (40 cells)", times, cpu))
    print(f"| `ast.parse` of its code (floor) | {floor:.3f} | | | | |")
    print(json.dumps({"note": "figures vary with the machine's load"}))


if __name__ == "__main__":
    main()
