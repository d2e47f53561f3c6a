"""The site: one PEFT config as the user wrote it — the currency between front ends and rules."""

from __future__ import annotations

from typing import Any


class _Unknown:
    """A value the front end could not determine statically. No rule guesses about it."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Unknown"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()

# Sites that are not PEFT configs but calls around them that decide whether anything trains
# (issue #14): only the rules registered with ``sites="setup"`` or "both" see them; no model view.
SETUP_KINDS = frozenset({"load", "quant-config", "adapter-load"})

# This module's classes are plain, not ``@dataclass`` (which compiles each class's methods at every
# start, ~0.5 ms a class, and imports ``dataclasses`` -> ``inspect``, 5-9 ms, before the first file
# is linted). They keep what the dataclasses gave: the same constructor (field order included),
# and through ``Record`` comparison by value, hashing for the frozen ``Span`` and ``Argument``,
# and the dataclass repr (tests/test_startup.py).


def _copied(value):
    """A deep copy of JSON values (dicts, lists, tuples, scalars), as ``dataclasses.asdict``
    copies a field's containers."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value


class Record:
    """What ``@dataclass`` gave these classes and is used: equality field by field (``FIELDS``,
    in the constructor's order) and the dataclass repr, ``Span(row=1, col=2, end_row=1,
    end_col=5)``. Mutable records are unhashable, as dataclasses are; the frozen ones define
    ``__hash__`` as the hash of ``_key()``, as a frozen dataclass does."""

    __slots__ = ()
    FIELDS: tuple[str, ...] = ()

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._key() == other._key()
        return NotImplemented

    __hash__ = None  # mutable records are unhashable, as dataclasses (``eq=True``) are

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({fields})"


class Span(Record):
    """1-based rows and columns, end exclusive (ruff's convention). Immutable by convention (a
    dict key and set member), as the frozen dataclass it was."""

    __slots__ = ("col", "end_col", "end_row", "row")
    FIELDS = ("row", "col", "end_row", "end_col")

    def __init__(self, row: int, col: int, end_row: int, end_col: int):
        self.row, self.col, self.end_row, self.end_col = row, col, end_row, end_col

    def _key(self) -> tuple:
        return (self.row, self.col, self.end_row, self.end_col)

    def __hash__(self) -> int:
        return hash(self._key())

    def to_json(self) -> dict:
        """What ``dataclasses.asdict`` gave (the site cache's format)."""
        return {"row": self.row, "col": self.col, "end_row": self.end_row, "end_col": self.end_col}


class Value(Record):
    """A resolved keyword value; lists keep a Value per element so findings point at the element."""

    FIELDS = ("value", "span", "elements", "bound_to", "bound_uses", "editable", "quote")

    def __init__(
        self,
        value: Any,  # a Python literal, or UNKNOWN
        span: Span | None = None,
        elements: list[Value] | None = None,
        bound_to: str | None = None,  # the name it was read through (``TARGETS``), if any
        bound_uses: int = 0,  # how often that name is used: a fix edits a shared binding only if 1
        editable: bool = True,  # False for values computed from code (``"a,b".split(",")``)
        quote: str = '"',  # quote style of the string literal, for fixes
    ):
        self.value, self.span, self.elements, self.bound_to = value, span, elements, bound_to
        self.bound_uses, self.editable, self.quote = bound_uses, editable, quote

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN


class Argument(Record):
    """One argument of a setup call as written: its keyword (None: positional) and the span of
    the whole ``name=value``. ``clean`` says the text from the previous argument's end (or the
    opening parenthesis) to this one holds no comment, so a fix may delete across it."""

    __slots__ = ("clean", "keyword", "span")
    FIELDS = ("keyword", "span", "clean")

    def __init__(self, keyword: str | None, span: Span, clean: bool = True):
        self.keyword, self.span, self.clean = keyword, span, clean

    def _key(self) -> tuple:
        return (self.keyword, self.span, self.clean)

    def __hash__(self) -> int:
        return hash(self._key())


class Step(Record):
    """One call in the life of the model a site is applied to, in the order the code runs them
    (``Site.flow``). ``call`` is one of:

    - ``load``: ``from_pretrained`` / ``from_config`` of the base model (``detail``: ``loader``,
      ``quantized`` "4bit" / "8bit" / None);
    - ``prepare_model_for_kbit_training`` (``detail``: ``use_gradient_checkpointing`` when
      passed), ``prepare_model_for_int8_training``, ``get_peft_model``;
    - ``gradient_checkpointing_enable`` (``detail``: ``use_reentrant`` True / False as passed in
      ``gradient_checkpointing_kwargs``, "default" with no arguments, None unknown);
    - ``enable_input_require_grads``, ``merge_and_unload``,
      ``set_adapter``, ``enable_adapters``;
    - ``load_adapter`` (``detail``: ``is_trainable``, as for ``PeftModel.from_pretrained``);
    - ``PeftModel.from_pretrained`` (``detail``: ``is_trainable``: True / False / None unknown;
      PEFT's default is False);
    - ``trainer``: a ``*Trainer(model=...)`` (``detail``: ``class``, ``peft_config``: True when
      the trainer is given one; for transformers' ``Trainer`` / ``Seq2SeqTrainer`` and TRL's
      ``SFTTrainer`` also ``gradient_checkpointing`` and ``use_reentrant`` as its ``args`` set
      them, read as for ``gradient_checkpointing_enable``);
    - ``optimizer``: an optimizer built over ``model.parameters()`` (``detail``: ``class``).

    A ``prepare_model_for_kbit_training`` step after ``get_peft_model`` also has ``move`` in
    ``detail`` where moving its statement before that call is provably safe
    (``lorlint/frontends/moves.py``): ``{"row": the wrapping statement's first row, "cut": [row,
    col, end_row, end_col] of the text to move, "seen": the text from the start of ``row`` to
    the cut's end as the analysis parsed it}``.

    Values in ``detail`` are plain (literals) or None where the code does not say. Steps come
    from the function (or module) that applies the config and its one caller, plus the load
    wherever it is (``lorlint/frontends/flow.py``)."""

    FIELDS = ("call", "row", "col", "end_row", "end_col", "detail", "conditional")

    def __init__(
        self,
        call: str,
        row: int,
        col: int,
        end_row: int,  # the call's end (end exclusive, like ``Span``): findings point at the call
        end_col: int,
        detail: dict[str, Any] | None = None,
        conditional: bool = False,  # may not run when the config is applied (a branch, loop, try)
    ):
        self.call, self.row, self.col, self.end_row, self.end_col = call, row, col, end_row, end_col
        self.detail = {} if detail is None else detail
        self.conditional = conditional

    def to_json(self) -> dict:
        """What ``dataclasses.asdict`` gave (the site cache's format; ``detail`` holds JSON
        values, copied as ``asdict`` copied them)."""
        return {"call": self.call, "row": self.row, "col": self.col, "end_row": self.end_row,
                "end_col": self.end_col, "detail": _copied(self.detail),
                "conditional": self.conditional}  # fmt: skip


class Site(Record):
    """One PEFT config: where it is, what it says, and which base model it is applied to."""

    FIELDS = ("path", "kind", "callee", "span", "keywords", "model", "model_span", "model_origin",
              "loader", "task", "quantized", "quant_skip_modules", "applied_with",
              "statement_rows", "depends_on", "flow", "arguments", "facts")  # fmt: skip

    def __init__(
        self,
        path: str,
        kind: str,  # "peft-config", "unsloth", "trl", ...; setup sites: SETUP_KINDS
        callee: str,  # qualified name, e.g. "peft.LoraConfig"
        span: Span,
        keywords: dict[str, Value] | None = None,
        model: str | None = None,  # model reference, when known
        model_span: Span | None = None,
        model_origin: str = "",  # "code", "comment", "cli", "config", "class" (the loading class)
        loader: str | None = None,  # how it is loaded: "AutoModelForCausalLM", ...
        task: str | None = None,  # lorlint task name derived from the loader
        quantized: str | None = None,  # "4bit" / "8bit" when loaded through bitsandbytes
        quant_skip_modules: list[str] | None = None,  # BitsAndBytesConfig(llm_int8_skip_modules)
        applied_with: str | None = None,  # "get_peft_model", "SFTTrainer", ...
        statement_rows: tuple[int, int] = (0, 0),  # first and last row of the enclosing statement
        depends_on: list[str] | None = None,  # other files its values came from
        flow: list[Step] | None = None,  # calls on its model, in order (see Step)
        # Setup sites (kind "load", "quant-config"; issue #14): the call's arguments as written,
        # and what the front end found around it (JSON values only: the site cache keeps them).
        arguments: list[Argument] | None = None,
        facts: dict[str, Any] | None = None,
    ):
        self.path, self.kind, self.callee, self.span = path, kind, callee, span
        self.keywords = {} if keywords is None else keywords
        self.model, self.model_span, self.model_origin = model, model_span, model_origin
        self.loader, self.task, self.quantized = loader, task, quantized
        self.quant_skip_modules, self.applied_with = quant_skip_modules, applied_with
        self.statement_rows = statement_rows
        self.depends_on = [] if depends_on is None else depends_on
        self.flow = [] if flow is None else flow
        self.arguments = [] if arguments is None else arguments
        self.facts = {} if facts is None else facts

    def to_json(self) -> dict:
        """What ``dataclasses.asdict`` gave, field by field in its order (the site cache's
        format; ``keywords`` are left to the cache, which encodes their values)."""
        span = self.model_span
        return {
            "path": self.path, "kind": self.kind, "callee": self.callee,
            "span": self.span.to_json(), "keywords": None, "model": self.model,
            "model_span": span.to_json() if span is not None else None,
            "model_origin": self.model_origin, "loader": self.loader, "task": self.task,
            "quantized": self.quantized, "quant_skip_modules": _copied(self.quant_skip_modules),
            "applied_with": self.applied_with, "statement_rows": tuple(self.statement_rows),
            "depends_on": _copied(self.depends_on), "flow": [s.to_json() for s in self.flow],
            "arguments": [
                {"keyword": a.keyword, "span": a.span.to_json(), "clean": a.clean}
                for a in self.arguments
            ],
            "facts": _copied(self.facts),
        }  # fmt: skip

    @property
    def peft_type(self) -> str:
        """PEFT's name for the method: ``LoraConfig`` → ``LORA``, ``LNTuningConfig`` →
        ``LN_TUNING``; tools' configs are LoRA."""
        if not self.callee.startswith("peft."):
            return "LORA"
        from lorlint.models.peft_defaults import CONFIG_PEFT_TYPES

        name = self.callee.rpartition(".")[2]
        return CONFIG_PEFT_TYPES.get(name) or name.removesuffix("Config").upper() or "LORA"

    @property
    def rank_known(self) -> bool:
        """Whether ``r`` and ``lora_alpha`` are known (absent ones are PEFT's defaults)."""
        return self.get("r") is not UNKNOWN and self.get("lora_alpha") is not UNKNOWN

    def get(self, name: str, default: Any = None) -> Any:
        value = self.keywords.get(name)
        return default if value is None else value.value

    def has(self, name: str) -> bool:
        return name in self.keywords
