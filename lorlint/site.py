"""The site: one PEFT config as the user wrote it — the currency between front ends and rules."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Span:
    """1-based rows and columns, end exclusive (ruff's convention)."""

    row: int
    col: int
    end_row: int
    end_col: int


@dataclass
class Value:
    """A resolved keyword value; lists keep a Value per element so findings point at the element."""

    value: Any  # a Python literal, or UNKNOWN
    span: Span | None = None
    elements: list[Value] | None = None
    bound_to: str | None = None  # the name it was read through (``TARGETS``), if any
    bound_uses: int = 0  # how often that name is used: a fix edits a shared binding only if 1
    editable: bool = True  # False for values computed from code (``"a,b".split(",")``)
    quote: str = '"'  # quote style of the string literal, for fixes

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN


@dataclass(frozen=True)
class Argument:
    """One argument of a setup call as written: its keyword (None: positional) and the span of
    the whole ``name=value``. ``clean`` says the text from the previous argument's end (or the
    opening parenthesis) to this one holds no comment, so a fix may delete across it."""

    keyword: str | None
    span: Span
    clean: bool = True


@dataclass
class Step:
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

    call: str
    row: int
    col: int
    end_row: int  # the call's end (end exclusive, like ``Span``): findings point at the call
    end_col: int
    detail: dict[str, Any] = field(default_factory=dict)
    conditional: bool = False  # may not run when the config is applied (a branch, loop, try)


@dataclass
class Site:
    """One PEFT config: where it is, what it says, and which base model it is applied to."""

    path: str
    kind: str  # "peft-config", "unsloth", "trl", ...; setup sites: SETUP_KINDS
    callee: str  # qualified name, e.g. "peft.LoraConfig"
    span: Span
    keywords: dict[str, Value] = field(default_factory=dict)
    model: str | None = None  # model reference, when known
    model_span: Span | None = None
    model_origin: str = ""  # "code", "comment", "cli", "config", "class" (the loading class)
    loader: str | None = None  # how it is loaded: "AutoModelForCausalLM", "FastLanguageModel", ...
    task: str | None = None  # lorlint task name derived from the loader
    quantized: str | None = None  # "4bit" / "8bit" when loaded through bitsandbytes
    quant_skip_modules: list[str] | None = None  # BitsAndBytesConfig(llm_int8_skip_modules=...)
    applied_with: str | None = None  # "get_peft_model", "SFTTrainer", ...
    statement_rows: tuple[int, int] = (0, 0)  # first and last row of the enclosing statement
    depends_on: list[str] = field(default_factory=list)  # other files its values came from
    flow: list[Step] = field(default_factory=list)  # calls on its model, in order (see Step)
    # Setup sites (kind "load", "quant-config"; issue #14): the call's arguments as
    # written, and what the front end found around it (JSON values only: the site cache keeps them).
    arguments: list[Argument] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

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
