"""Hostile Python inputs (issue #15, "Bounded work") end in a finding or a clean LL900, quickly
and in bounded memory, and the good file beside them is still linted.

Each case once crashed libcst's native parser, hung, or took minutes. The whole tree is linted in
one subprocess under a time limit and an address-space limit, so this test itself cannot hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

HEAD = "from peft import LoraConfig\n# lorlint: model=meta-llama/Llama-3.1-8B\n"
TOO_DEEP = "LL900 cannot parse: expressions or brackets nested too deeply"

CASES = {
    # name: (text, what the concise output says about it; None: no finding at all)
    "lambda_in_config.py": (HEAD + "LoraConfig(r=" + "lambda: " * 5000 + "0)\n", TOO_DEEP),
    "lambda_elsewhere.py": (
        HEAD + "x = " + "lambda: " * 5000 + "0\nLoraConfig(target_modules=['dwn_proj'])\n",
        "lambda_elsewhere.py:4:28: LL101",
    ),
    "minus_10k.py": (HEAD + "LoraConfig(r=" + "-" * 10_000 + "1)\n", TOO_DEEP),
    "minus_20k.py": (HEAD + "LoraConfig(r=" + "-" * 20_000 + "1)\n", TOO_DEEP),
    "plus_100k.py": (HEAD + "LoraConfig(r=" + "+" * 100_000 + "1)\n", TOO_DEEP),
    "attribute_50k.py": (HEAD + "LoraConfig(r=a" + ".b" * 50_000 + ")\n", TOO_DEEP),
    "call_20k.py": (HEAD + "LoraConfig(r=f" + "()" * 20_000 + ")\n", TOO_DEEP),
    "subscript_20k.py": (HEAD + "LoraConfig(r=a" + "[0]" * 20_000 + ")\n", TOO_DEEP),
    "chain_elsewhere.py": (
        HEAD + "x = a" + ".b" * 50_000 + "\nLoraConfig(target_modules=['dwn_proj'])\n",
        "chain_elsewhere.py:4:28: LL101",
    ),
    "sum_in_targets.py": (
        HEAD + "LoraConfig(target_modules=" + " + ".join(['["q_proj"]'] * 5000) + ")\n",
        TOO_DEEP,
    ),
    "range_10_8.py": (
        HEAD + "LoraConfig(target_modules=['q_proj'], layers_to_transform=list(range(10**8)))\n",
        None,
    ),
    "range_literal.py": (
        HEAD
        + "LoraConfig(target_modules=['q_proj'], layers_to_transform=list(range(100000000)))\n",
        None,
    ),
    "doubling.py": (
        HEAD
        + "S0 = 'x' * 2\n"
        + "".join(f"S{i} = S{i - 1} + S{i - 1}\n" for i in range(1, 60))
        + "LoraConfig(target_modules=S59)\n",
        None,
    ),
    "many_configs.py": (
        HEAD + "".join(f"c{i} = LoraConfig(target_modules=['q_proj'])\n" for i in range(5000)),
        "many_configs.py:203:8: LL900 this file has 5,000 PEFT configs",
    ),
}


def _big_file() -> str:
    parts, size, i = [HEAD], len(HEAD), 0
    while size < 4_900_000:
        part = f"def f{i}(x):\n    return [x, {i}, 'some text here']\n"
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts) + "LoraConfig(target_modules=['dwn_proj'])\n"


def _limited():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_hostile_inputs_are_bounded(tmp_path):
    for name, (text, _) in CASES.items():
        (tmp_path / name).write_text(text)
    big = _big_file()
    (tmp_path / "generated_5mb.py").write_text(big)
    (tmp_path / "good.py").write_text(HEAD + "LoraConfig(target_modules=['dwn_proj'])\n")
    start = time.perf_counter()
    args = ["check", ".", "--no-cache", "--jobs", "1", "--output-format", "concise"]
    proc = subprocess.run(
        [sys.executable, "-m", "lorlint", *args, "--select", "LL101,LL900"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        preexec_fn=_limited,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    out = proc.stdout
    assert "good.py:3:28: LL101" in out
    rows = big.count("\n")
    assert f"generated_5mb.py:{rows}:28: LL101" in out
    for name, (_, expected) in CASES.items():
        said = [line for line in out.splitlines() if line.startswith(name)]
        if expected is None:
            assert said == [], said
        else:
            assert any(expected in line for line in said), (name, said)
    assert elapsed < 120, elapsed


def test_the_server_path_is_bounded_too():
    """``lorlint server`` lints through ``lint_text``: the same bounds, in-process."""
    from lorlint.engine import Options, ViewCache, lint_text

    views = ViewCache(online=False)
    for name in ("lambda_in_config.py", "plus_100k.py", "attribute_50k.py", "sum_in_targets.py"):
        text, expected = CASES[name]
        start = time.perf_counter()
        found = lint_text(name, text, Options(), views)
        assert time.perf_counter() - start < 30
        assert [d.code for d in found] == ["LL900"], found
        assert expected.split(" ", 1)[1] in found[0].message


def test_notebook_nesting_check_is_a_character_walk_at_c_speed():
    """The JSON depth guard cuts strings out with a regex: same answer as walking every
    character (escapes, unterminated strings), without a Python loop over megabytes."""
    import random

    from lorlint.frontends.jsontext import depth as _depth

    def walk(text: str) -> int:
        depth = peak = 0
        in_string = escaped = False
        for ch in text:
            if in_string:
                escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
            elif ch == '"':
                in_string = True
            elif ch in "[{":
                depth += 1
                peak = max(peak, depth)
            elif ch in "]}":
                depth -= 1
        return peak

    rnd = random.Random(12)
    for _ in range(20_000):
        text = "".join(rnd.choice('[]{}"\\ab') for _ in range(rnd.randint(0, 14)))
        assert _depth(text) == walk(text), text
    big = '{"cells": [' + ",".join(['{"source": ["x = [1, {2: 3}]\\n"]}'] * 100_000) + "]}"
    start = time.perf_counter()
    assert _depth(big) == 4
    assert time.perf_counter() - start < 5


def test_json_nesting_read_from_the_parsed_value():
    """``jsontext.loads`` checks the nesting of what ``json.loads`` gave (lists and objects):
    for valid JSON the same figure as the text's bracket depth, and the same reasons as before."""
    import json
    import random

    from helpers import REPO

    from lorlint.frontends.jsontext import MAX_DEPTH, JSONTextError, _nesting, depth, loads

    rnd = random.Random(7)

    def value(level: int):
        kind = rnd.choice("ldsnx" if level < 6 else "snx")
        if kind == "l":
            return [value(level + 1) for _ in range(rnd.randint(0, 3))]
        if kind == "d":
            return {f"k{i}[{{": value(level + 1) for i in range(rnd.randint(0, 3))}
        return {"s": 'a]b}\\"[', "n": 1.5, "x": None}[kind]

    for _ in range(2_000):
        text = json.dumps(value(0))
        assert _nesting(json.loads(text)) == depth(text), text
    for path in sorted((REPO / "tests" / "realworld").rglob("*")):
        if path.suffix in (".ipynb", ".json"):
            text = path.read_text(encoding="utf-8")
            assert _nesting(loads(text)) == depth(text), path
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    for text in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 5_000 + "]" * 5_000):
        with pytest.raises(JSONTextError, match="nested deeper"):
            loads(text)
    with pytest.raises(JSONTextError, match="nested deeper"):
        loads("[" * (MAX_DEPTH + 1) + "x")  # deep and invalid: the depth is said first
    with pytest.raises(JSONTextError, match="invalid JSON"):
        loads('{"a": [1, 2}')
