"""``lorlint verify``: a one-step (Q)LoRA pass per PEFT site, proving the adapters attach and train.

Exit 0 when every site passes, 1 when any fails, 2 on usage errors or when nothing could be
verified.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from lorlint.commands.check import discover
from lorlint.engine import Options, ViewCache, sites_of
from lorlint.models.resolve import ModelNotFound
from lorlint.models.summary import human_bytes
from lorlint.report.progress import Progress

NEEDED = ("torch", "transformers", "peft", "bitsandbytes", "accelerate")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="run one (Q)LoRA training step per PEFT config to prove the adapters attach and train",
    )
    p.add_argument("paths", nargs="*", default=["."], help="files or directories (default .)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    p.add_argument("--weights", choices=("auto", "random"), default="auto",
                   help="auto: real weights when on disk, else random")  # fmt: skip
    p.add_argument("--tiny", action="store_true",
                   help="shrink each model (2 layers, small sizes, same names): seconds on a CPU")  # fmt: skip
    p.add_argument("--qlora", action=argparse_bool(), default=None,
                   help="force (--qlora) or skip (--no-qlora) 4-bit NF4 loading")  # fmt: skip
    p.add_argument("--steps", type=int, default=1, help="optimizer steps (default 1)")
    p.add_argument("--format", "--output-format", dest="format", choices=("text", "json"),
                   default="text", help="text or json (--output-format is the same option)")  # fmt: skip
    p.add_argument("--model", help="base model for every config (overrides the code)")
    p.add_argument("--online", action="store_true", help="allow downloading config.json")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow building remote-code models (runs their code)")  # fmt: skip
    p.set_defaults(func=run)


def argparse_bool():
    import argparse

    return argparse.BooleanOptionalAction


def run(args) -> int:
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f'lorlint verify: needs {", ".join(missing)}: pip install "lorlint[verify]"',
            file=sys.stderr,
        )
        return 2
    if args.steps < 1:
        print("lorlint verify: --steps must be at least 1", file=sys.stderr)
        return 2
    from lorlint.verify.runner import VerifyOptions, verify_site

    files, not_found = discover(args.paths, [])
    for raw in not_found:
        print(f"lorlint verify: {raw}: no such file or directory", file=sys.stderr)
    if not_found:
        return 2
    options = Options(model=args.model, online=args.online)
    views = ViewCache(args.online)
    opts = VerifyOptions(
        device=args.device,
        weights=args.weights,
        tiny=args.tiny,
        qlora=args.qlora,
        steps=args.steps,
        trust_remote_code=args.trust_remote_code,
    )
    progress = Progress(args.format == "text")
    results, skipped_reasons = [], []
    jobs = [(path, site) for path in files for site in sites_of(path, options)]
    for i, (path, site) in enumerate(jobs, 1):
        progress.prefix = f"[{i}/{len(jobs)}] {path}:{site.span.row}: "
        result = _verify_one(site, path, views, opts, progress, verify_site)
        results.append(result)
        if result.status == "skipped":
            skipped_reasons.append(f"{path}:{site.span.row}: {result.reason}")
    progress.done()
    ok = bool(results) and all(r.status == "pass" for r in results)
    if args.format == "json":
        print(json.dumps({"ok": ok, "sites": [r.as_json() for r in results]}, indent=2))
    else:
        print(as_text(results))
    if not jobs:
        print("lorlint verify: no PEFT configs found", file=sys.stderr)
        return 2
    if any(r.status == "fail" for r in results):
        return 1
    if all(r.status == "skipped" for r in results):
        print("lorlint verify: nothing could be verified:", file=sys.stderr)
        for reason in skipped_reasons:
            print(f"  {reason}", file=sys.stderr)
        return 2
    return 0 if ok else 1


def _verify_one(site, path: Path, views: ViewCache, opts, progress, verify_site):
    from lorlint.verify.runner import SiteResult

    if not site.model:
        return SiteResult(str(path), site.span.row, None, reason=(
            "the base model could not be determined: add `# lorlint: model=ORG/NAME` or --model"
        ))  # fmt: skip
    view = views.get(site.model, site.task, path.resolve().parent, site.loader)
    if isinstance(view, ModelNotFound):
        return SiteResult(str(path), site.span.row, site.model, reason=str(view))
    task = site.task or view.task
    return verify_site(site, view, task, opts, progress)


def as_text(results) -> str:
    out = []
    for r in results:
        mark = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}[r.status]
        out.append(f"{r.filename}:{r.row}: {r.model or '(no model)'}")
        if r.device:
            out.extend(f"  {k:16} {v}" for k, v in _rows(r))
            out.extend(f"  {'note':16} {n}" for n in r.notes)
        out.append(f"  {mark}" + (f": {r.reason}" if r.reason else ""))
        out.append("")
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    out.append(f"{passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(out)


def _rows(r) -> list[tuple[str, str]]:
    """The per-site table; rows with nothing to say (PEFT raised before training) are left out."""
    attached = f"{len(r.attached)} modules"
    if r.attached_parameters:
        attached += f" + {len(r.attached_parameters)} parameters"
    attached += (
        " (= lorlint's prediction)"
        if r.predicted_matches_actual
        else f" (lorlint predicted {len(r.predicted)})"
    )
    rows = [
        ("config from", r.source or "-"),
        ("device", r.device + (f", {r.quantization}" if r.quantization else "")),
        ("quantized", f"{r.quantized_modules} Linear4bit, {r.full_precision_linears} Linear "
                      "in full precision" if r.quantize_requested
                      else "no: the script loads the model in full precision"),
        ("attached", attached),
    ]  # fmt: skip
    if r.attached:
        rows.append(("missing targets", ", ".join(r.missing_targets) or "none"))
        rows.append(
            ("trainable", f"{r.trainable_params:,} ({_pct(r)}; predicted "
                          f"{r.predicted_trainable_params:,})")
        )  # fmt: skip
    if r.loss_before is not None:
        rows.append(("loss", _loss_text(r)))
    if r.peak_memory_bytes:
        where = "CUDA allocated" if r.device == "cuda" else "process RSS"
        rows.append(("peak memory", f"{human_bytes(r.peak_memory_bytes)} ({where})"))
    rows.append(
        ("time", f"load {r.load_seconds:.1f}s, step {r.step_seconds:.1f}s, total {r.seconds:.1f}s")
    )
    return rows


def _pct(r) -> str:
    return f"{100 * r.trainable_params / r.total_params:.2f}%" if r.total_params else "-"


def _loss_text(r) -> str:
    if r.loss_before is None:
        return "-"
    after = f"{r.loss_after:.4f}" if r.loss_after is not None else "-"
    return f"{r.loss_before:.4f} → {after}"
