"""``lorlint models MODEL``: a model's real layer names and what a target spec adapts on it."""

from __future__ import annotations

import json
import sys

from lorlint.models import catalog
from lorlint.models.layerkinds import BlockParts, coverage, expert_parameters, expert_stacks
from lorlint.models.match import MatchResult, TargetSpec, match
from lorlint.models.resolve import ModelNotFound
from lorlint.models.summary import human, layer_coverage, rows, split_block, trainable_params
from lorlint.models.tasks import TASK_AUTO_CLASS, is_task
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
    p.add_argument(
        "--target-parameters",
        help='target_parameters: "mlp.experts.gate_up_proj,mlp.experts.down_proj" or a JSON list',
    )
    p.add_argument("--layers", help="layers_to_transform: N, A-B, 0,2,4 or a JSON list")
    p.add_argument("--layers-pattern", help="layers_pattern (e.g. layers, h, block)")
    p.add_argument(
        "--task",
        help="how the model is loaded: a task (causal-lm, seq2seq-lm, image-text-to-text, "
        "speech-seq2seq, seq-cls, token-cls, ctc, image-cls, base, ...), an Auto class or a "
        "model class; default: what the architecture is usually fine-tuned as",
    )
    p.add_argument("--rank", type=int, default=16, help="LoRA rank for the estimate (default 16)")
    p.add_argument("--format", "--output-format", dest="format", choices=("text", "json"),
                   default="text", help="text or json (--output-format is the same option)")  # fmt: skip
    p.add_argument("--online", action="store_true", help="allow downloading config.json")
    p.set_defaults(func=run)


def _spec(args) -> TargetSpec | None:
    targets = parse_names(args.targets, "--targets")
    exclude = parse_names(args.exclude, "--exclude")
    layers = parse_layers(args.layers)
    parameters = parse_names(args.target_parameters, "--target-parameters")
    if isinstance(parameters, str):
        raise SpecError("--target-parameters: a list of names (PEFT takes no regex there)")
    if targets is None and exclude is None and layers is None and parameters is None:
        return None
    task_type = "SEQ_CLS" if args.task == "seq-cls" else None
    return TargetSpec(
        r=args.rank,
        lora_alpha=args.rank,
        target_modules=targets,
        exclude_modules=exclude,
        target_parameters=parameters,
        layers_to_transform=layers,
        layers_pattern=args.layers_pattern,
        task_type=task_type,
    )


def run(args) -> int:
    try:
        spec = _spec(args)
        task, loader = _task_or_loader(args.task)
        view = load_view(args.model, task=task, online=args.online, loader=loader)
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
    uncertain = result is not None and view.certain(spec, result) is None
    if args.format == "json":
        print(json.dumps(as_json(view, spec, result, args.rank, uncertain), indent=2))
    else:
        print(as_text(view, spec, result, args.rank, uncertain))
    if uncertain:
        return 2
    return 1 if result is not None and not result.ok else 0


def _task_or_loader(value: str | None) -> tuple[str | None, str | None]:
    """--task takes a task name, or a class as a script would load with (Auto or concrete)."""
    if value and value[:1].isupper():
        return None, value
    if value and not is_task(value):
        raise SpecError(
            f"--task: unknown task {value!r} (one of {', '.join(TASK_AUTO_CLASS)}, "
            "or a transformers class name)"
        )
    return value, None


def as_json(
    view: ModelView,
    spec: TargetSpec | None,
    result: MatchResult | None,
    r: int,
    uncertain: bool = False,
) -> dict:
    table = view.table
    out = {
        "model": view.reference,
        "model_type": view.model_type,
        "architecture": table.architecture,
        "task": view.task,
        "source": view.resolved.source,
        "source_detail": view.resolved.location,
        "certainty": view.certainty,
        "layout_fields": catalog.layout_fields(view.resolved.model_type) if not view.exact else [],
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
    parts = coverage(table, result.modules if result else (), result.parameters if result else ())
    if parts is not None and _modern(parts):
        out["expert_parameters"] = [
            {"name": f"{m.name}.{p}", "type": m.cls, "shape": list(shape)}
            for m in expert_stacks(table)
            for p, shape in expert_parameters(m)
        ]
        out["block_parts"] = {
            kind: {
                "layers": sorted(part.layers),
                **({"adapted": sorted(part.adapted)} if result is not None else {}),
            }
            for kind, part in parts.parts.items()
        }
    if view.note:
        out["note"] = view.note
    if result is not None:
        out["targets"] = spec.target_modules
        out["matched"] = sorted(result.modules)
        out["matched_parameters"] = sorted(result.parameters)
        out["error"] = result.error.message if result.error else None
        out["outcome_known"] = not uncertain
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


def as_text(
    view: ModelView,
    spec: TargetSpec | None,
    result: MatchResult | None,
    r: int,
    uncertain: bool = False,
) -> str:
    table = view.table
    hit = result.modules if result else []
    about = "" if view.exact else "about "
    lines = [
        view.reference,
        f"  architecture  {table.architecture} ({view.model_type}, loaded as {view.task})",
        f"  config from   {view.resolved.source_label}",
        f"  names from    {_names_from(view)}",
        f"  certainty     {_certainty(view)}",
        f"  size          {about}{table.num_hidden_layers} layers · {len(table.modules)} "
        f"modules · {human(table.total_params)} parameters"
        + ("" if view.exact else f" ({view.model_type}'s default config, not this model's)"),
    ]
    if view.note:
        lines.append(f"  note          {view.note}")
    all_rows = rows(table, hit, result.parameters if result else ())
    parts = coverage(table, hit, result.parameters if result else ())
    part_of = _part_of(parts) if parts is not None and _modern(parts) else None
    width = max([len(row.name) for row in all_rows] + [20])
    lora_width = 9 if any(row.kind == "parameter" for row in all_rows) else 4
    header = f"    {'module':{width}}  {'type':22} {'shape':>14} {'count':>6}  "
    header += f"{'LoRA':{lora_width}}  " + (f"{'part':11}  " if part_of is not None else "")
    header += "targeted" if result else ""
    groups: dict[str, list] = {}
    for row in all_rows:
        groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        lines.append("")
        lines.append(f"  {group}.N  (per block)" if group else "  outside the blocks")
        lines.append(header.rstrip())
        for row in members:
            lora = "parameter" if row.kind == "parameter" else "yes" if row.kind else "no"
            part = f"{part_of.get((group, row.name), ''):11}  " if part_of is not None else ""
            mark = ""
            if result:
                mark = f"{row.targeted}/{row.count}" if row.targeted else "-"
                if group == "" and row.name == table.output_embedding:
                    mark += "  (output layer)"
            lines.append(
                f"    {row.name:{width}}  {row.cls[:22]:22} {_shape(row.shape, row.kind):>14} "
                f"{row.count:>6}  {lora:{lora_width}}  {part}{mark}".rstrip()
            )
    if result is not None:
        lines.append("")
        lines.extend(_targets_text(view, spec, result, r, uncertain, parts))
    return "\n".join(lines)


def _certainty(view: ModelView) -> str:
    if view.exact:
        return "exact: this model's own config"
    text = f"architecture: {view.model_type}'s default config; names exact, counts approximate"
    fields = catalog.layout_fields(view.resolved.model_type)
    if fields:
        text += f" (names that depend on {', '.join(fields)} may differ)"
    return text


def _modern(parts: BlockParts) -> bool:
    """Routed experts or hybrid blocks: the block's parts are worth a column and a picture."""
    return any(kind not in ("attention", "mlp") for kind in parts.parts)


def _part_of(parts: BlockParts) -> dict[tuple[str, str], str]:
    """(group, relative name) → the block part it belongs to (``attention``, ``experts``, ...)."""
    out = {}
    for full, kind in parts.kind_of.items():
        block = split_block(full)
        if block:
            out[(block[0], block[2])] = kind
    return out


def _parts_picture(parts: BlockParts) -> list[str]:
    """One line per block part: ■ adapted, □ present but not adapted, · absent in that layer."""
    lines = [f"  block parts of {parts.stack} (■ adapted, □ not adapted, · absent):"]
    width = max(len(kind) for kind in parts.parts)
    for kind, part in parts.parts.items():
        bar = "".join(
            "■" if i in part.adapted else "□" if i in part.layers else "·"
            for i in range(parts.layers)
        )
        lines.append(f"    {kind:{width}}  {bar} {len(part.adapted)}/{len(part.layers)}")
    return lines


def _names_from(view: ModelView) -> str:
    version = view.table.transformers_version
    labels = {
        "catalog": f"bundled catalog (transformers {version})",
        "cache": f"cached table (transformers {version})",
        "introspected": f"meta-device build (transformers {version})",
    }
    return labels.get(view.table_source, view.table_source)


def _targets_text(
    view: ModelView,
    spec: TargetSpec,
    result: MatchResult,
    r: int,
    uncertain: bool,
    parts: BlockParts | None,
) -> list[str]:
    table = view.table
    shown = json.dumps(spec.target_modules) if spec.target_modules is not None else "(PEFT default)"
    if spec.target_parameters:
        shown += f" + target_parameters {json.dumps(list(spec.target_parameters))}"
    if uncertain:
        return [
            f"  targets {shown}: no entry matches {view.model_type}'s default config, but another "
            "layout of it has a module an entry names:",
            "    whether PEFT raises depends on the real config (a local directory, or --online)",
        ]
    if result.error:
        outcome = "not checked" if result.error.kind == "too-costly" else "PEFT raises"
        return [f"  targets {shown}: {outcome}:", f"    {result.error.message}"]
    n_mod, n_par = len(result.modules), len(result.parameters)
    about = "" if view.exact else "about "
    what = f"{about}{n_mod} modules" + (f" + {n_par} parameters" if n_par else "")
    lines = [f"  targets {shown} → {what}"]
    if result.defaulted:
        lines.append(
            f"    (PEFT's default for {view.model_type}: {sorted(result.effective_targets)})"
        )
    added = trainable_params(table, result.modules, result.parameters, r, result.rank_pattern)
    total = table.total_params + added
    about = "" if view.exact else "about "
    lines.append(
        f"  trainable at r={r}: {about}{added:,} of {total:,} ({100 * added / max(total, 1):.4f}%)"
    )
    for group, (size, covered) in layer_coverage(table, result.modules).items():
        bar = "".join("■" if i in covered else "·" for i in range(size))
        lines.append(f"  layers {group}: {bar} {len(covered)}/{size}")
    if parts is not None and _modern(parts):
        lines.extend(_parts_picture(parts))
    lines.extend(f"  PEFT warns: {w}" for w in result.warnings)
    return lines
