"""How lorlint scales with the size of one file: N small functions around one LoraConfig.

    python benchmarks/bench_scaling.py [--runs 3] [--sizes 1000,4000,16000]

Each file is N functions of six lines (a docstring, a list, a branch, two returns) followed by a
model load, a LoraConfig with a misspelt target and get_peft_model: the finding is on the last
lines, so everything before must be read. Each size runs ``lorlint check FILE --no-cache`` in a
fresh process; ``ast.parse`` of the same file in a fresh process is the floor. Prints a Markdown
table (wall median, peak RSS); the figures in benchmarks/RESULTS.md come from it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import BIN, load_average, timed

FLOOR = "import ast, sys; ast.parse(open(sys.argv[1], encoding='utf-8').read())"


def generated(functions: int) -> str:
    out = [
        "import os",
        "from peft import LoraConfig, get_peft_model",
        "from transformers import AutoModelForCausalLM",
        "",
    ]
    for i in range(functions):
        out.append(
            f"def function_{i}(x, y={i % 7}):\n"
            '    """Return a value."""\n'
            f"    z = [x * y + {i}, os.path.join('a', str(x))]\n"
            "    if z[0] > 3:\n"
            "        return z\n"
            "    return None\n"
        )
    out.append('model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")')
    out.append('config = LoraConfig(target_modules=["q_proj", "k_proj", "dwn_proj"], r=8)')
    out.append("model = get_peft_model(model, config)")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,4000,16000")
    args = parser.parse_args()
    lorlint = str(BIN / "lorlint")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            path = work / f"f{size}.py"
            path.write_text(generated(size))
            mb = path.stat().st_size / 1e6
            cmd = [lorlint, "check", path.name, "--no-cache", "-q", "--exit-zero"]
            timed(cmd, work, 1)  # bytecode compiled once, as installed
            ours = timed(cmd, work, args.runs)
            base = timed([sys.executable, "-c", FLOOR, path.name], work, args.runs)
            rows.append((size, mb, ours, base))
    print(f"median of {args.runs} runs, fresh process each; {load_average()}\n")
    print("| functions | MB | lorlint wall (s) | CPU (s) | MB/s (CPU) | peak RSS (MB) "
          "| `ast.parse` wall (s) | CPU (s) | RSS (MB) |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for size, mb, ours, base in rows:
        print(
            f"| {size:,} | {mb:.2f} | {ours.wall:.2f} | {ours.cpu:.2f} | {mb / ours.cpu:.1f} | "
            f"{ours.rss_mb:.0f} | {base.wall:.2f} | {base.cpu:.2f} | {base.rss_mb:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
