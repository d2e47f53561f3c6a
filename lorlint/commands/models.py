"""``lorlint models MODEL``: a model's real layer names and what a target spec adapts on it."""

from __future__ import annotations

import json
import sys

from lorlint.models.match import MatchResult, TargetSpec, match
from lorlint.models.resolve import ModelNotFound
from lorlint.models.summary import human, layer_coverage, rows, trainable_params
from lorlint.models.view import ModelView, load_view


class SpecError(ValueError):
    pass


def parse_names(text: str | None, option: str):
    """``all-linear``, a JSON value (list, or a string = a regex), or ``a,b,c`` (a list)."""
    if text is None:
        return None
    text = text.strip()
    if text.lower() == "all-linear":
        return text
    if text[:1] in '["':
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecError(f"{option}: not valid JSON: {err.msg}") from err
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return value
        raise SpecError(f"{option}: expected a JSON string or list of strings")
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_layers(text: str | None):
    """``3``, ``0-7``, ``0,2,4-6`` or a JSON list."""
    if text is None:
        return None
    text = text.strip()
    try:
        if text.startswith("["):
            value = json.loads(text)
            if isinstance(value, list) and all(isinstance(v, int) for v in value):
                return value
            raise ValueError
        if text.isdigit():
            return int(text)
        out: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
        return out
    except ValueError as err:
        raise SpecError(
            f"--layers: expected N, A-B, a comma list or a JSON list: {text!r}"
        ) from err


def add_parser(sub) -> None:
    p = sub.add_parser(
        "models",
        help="show a model's real layer names and what a target spec adapts",
        description="Resolve MODEL (hub id, local directory or transformers class), list its "
        "modules and, with --targets, exactly the modules PEFT would adapt.",
    )
    p.add_argument("model", help="hub id, local directory with config.json, or a class name")
    p.add_argument("--targets", help='all-linear, a JSON list/string, or "q_proj,v_proj"')
    p.add_argument("--exclude", help="exclude_modules, same forms as --targets")
    p.add_argument("--layers", help="layers_to_transform: N, A-B, 0,2,4 or a JSON list")
    p.add_argument("--layers-pattern", help="layers_pattern (e.g. layers, h, block)")
    p.add_argument("--task", help="how the model is loaded: causal-lm, seq2seq-lm, seq-cls, ...")
    p.add_argument("--rank", type=int, default=16, help="LoRA rank for the estimate (default 16)")
    p.add_argument("--format", "--output-format", dest="format", choices=("text", "json"),
                   default="text", help="text or json (--output-format is the same option)")  # fmt: skip
    p.add_argument("--online", action="store_true", help="allow downloading config.json")
    p.set_defaults(func=run)


def _spec(args) -> TargetSpec | None:
    targets = parse_names(args.targets, "--targets")
    exclude = parse_names(args.exclude, "--exclude")
    layers = parse_layers(args.layers)
    if targets is None and exclude is None and layers is None:
        return None
    task_type = "SEQ_CLS" if args.task == "seq-cls" else None
    return TargetSpec(
        r=args.rank,
        lora_alpha=args.rank,
        target_modules=targets,
        exclude_modules=exclude,
        layers_to_transform=layers,
        layers_pattern=args.layers_pattern,
        task_type=task_type,
    )


def run(args) -> int:
    try:
        spec = _spec(args)
        view = load_view(args.model, task=args.task, online=args.online)
    except SpecError as err:
        print(f"lorlint models: {err}", file=sys.stderr)
        return 2
    except ModelNotFound as err:
        print(f"lorlint models: {err}", file=sys.stderr)
        return 2
    if view.table is None:
        print(f"lorlint models: {view.describe()}: no layer table: {view.note}", file=sys.stderr)
        return 2
    result = match(view.table, spec) if spec else None
    if args.format == "json":
        print(json.dumps(as_json(view, spec, result, args.rank), indent=2))
    else:
        print(as_text(view, spec, result, args.rank))
    return 1 if result is not None and not result.ok else 0


def as_json(view: ModelView, spec: TargetSpec | None, result: MatchResult | None, r: int) -> dict:
    table = view.table
    out = {
        "model": view.reference,
        "model_type": view.model_type,
        "architecture": table.architecture,
        "task": view.task,
        "source": view.resolved.source,
        "source_detail": view.resolved.location,
        "table_source": view.table_source,
        "transformers_version": table.transformers_version,
        "num_hidden_layers": table.num_hidden_layers,
        "total_params": table.total_params,
        "modules": [
            {"name": m.name, "type": m.cls, "lora": m.kind, "shape": list(m.shape)}
            for m in table.modules
            if m.name
        ],
    }
    if view.note:
        out["note"] = view.note
    if result is not None:
        out["targets"] = spec.target_modules
        out["matched"] = sorted(result.modules)
        out["matched_parameters"] = sorted(result.parameters)
        out["error"] = result.error.message if result.error else None
        out["warnings"] = result.warnings
        out["trainable_params"] = trainable_params(
            table, result.modules, result.parameters, r, result.rank_pattern
        )
    return out


def _shape(shape: tuple[int, ...], kind: str | None) -> str:
    if not shape:
        return "-"
    if kind in ("linear", "conv1d_hf") and len(shape) == 2:
        return f"{shape[0]}→{shape[1]}"
    return "×".join(str(d) for d in shape)


def as_text(view: ModelView, spec: TargetSpec | None, result: MatchResult | None, r: int) -> str:
    table = view.table
    hit = result.modules if result else []
    lines = [
        view.reference,
        f"  architecture  {table.architecture} ({view.model_type}, loaded as {view.task})",
        f"  config from   {view.resolved.source_label}",
        f"  names from    {_names_from(view)}",
        f"  size          {table.num_hidden_layers} layers · {len(table.modules)} modules · "
        f"{human(table.total_params)} parameters",
    ]
    if view.note:
        lines.append(f"  note          {view.note}")
    all_rows = rows(table, hit)
    width = max([len(row.name) for row in all_rows] + [20])
    header = f"    {'module':{width}}  {'type':22} {'shape':>14} {'count':>6}  LoRA  "
    header += "targeted" if result else ""
    groups: dict[str, list] = {}
    for row in all_rows:
        groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        lines.append("")
        lines.append(f"  {group}.N  (per block)" if group else "  outside the blocks")
        lines.append(header.rstrip())
        for row in members:
            lora = "yes" if row.kind else "no"
            mark = ""
            if result:
                mark = f"{row.targeted}/{row.count}" if row.targeted else "-"
                if group == "" and row.name == table.output_embedding:
                    mark += "  (output layer)"
            lines.append(
                f"    {row.name:{width}}  {row.cls[:22]:22} {_shape(row.shape, row.kind):>14} "
                f"{row.count:>6}  {lora:4}  {mark}".rstrip()
            )
    if result is not None:
        lines.append("")
        lines.extend(_targets_text(view, spec, result, r))
    return "\n".join(lines)


def _names_from(view: ModelView) -> str:
    version = view.table.transformers_version
    labels = {
        "catalog": f"bundled catalog (transformers {version})",
        "cache": f"cached table (transformers {version})",
        "introspected": f"meta-device build (transformers {version})",
    }
    return labels.get(view.table_source, view.table_source)


def _targets_text(view: ModelView, spec: TargetSpec, result: MatchResult, r: int) -> list[str]:
    table = view.table
    shown = json.dumps(spec.target_modules) if spec.target_modules is not None else "(PEFT default)"
    if result.error:
        return [f"  targets {shown}: PEFT raises:", f"    {result.error.message}"]
    n_mod, n_par = len(result.modules), len(result.parameters)
    what = f"{n_mod} modules" + (f" + {n_par} parameters" if n_par else "")
    lines = [f"  targets {shown} → {what}"]
    if result.defaulted:
        lines.append(
            f"    (PEFT's default for {view.model_type}: {sorted(result.effective_targets)})"
        )
    added = trainable_params(table, result.modules, result.parameters, r, result.rank_pattern)
    total = table.total_params + added
    lines.append(
        f"  trainable at r={r}: {added:,} of {total:,} ({100 * added / max(total, 1):.4f}%)"
    )
    for group, (size, covered) in layer_coverage(table, result.modules).items():
        bar = "".join("■" if i in covered else "·" for i in range(size))
        lines.append(f"  layers {group}: {bar} {len(covered)}/{size}")
    lines.extend(f"  PEFT warns: {w}" for w in result.warnings)
    return lines
