"""Command lines that configure LoRA: shell scripts, notebook ``!`` lines, usage lines in docs.

A command is a site when it names its tool, and only then:

- **TRL** (``trl sft|dpo|grpo|... --use_peft``, also after ``accelerate launch``): its
  ``ModelConfig`` (trl/trainer/model_config.py) is parsed by transformers' ``HfArgumentParser``,
  which gives a ``list[str]`` field ``nargs="+"`` and accepts ``--lora_target_modules`` and
  ``--lora-target-modules`` alike. Each shell word is one entry, so ``q_proj, v_proj`` gives the
  entry ``"q_proj,"`` (matching nothing); ``ModelConfig.__post_init__`` turns a one-entry list
  into that string, which PEFT reads as a regex. The model is ``--model_name_or_path``.
- **LLaMA-Factory** (``llamafactory-cli train``): ``--lora_target`` is one string split on commas
  (``FinetuningArguments.__post_init__``), ``all`` by default, with ``--model_name_or_path`` and
  ``--finetuning_type lora``; the site then follows LLaMA-Factory's own semantics
  (lorlint/models/llama_factory.py).
- **LLaMA-Factory before llamafactory-cli** (``python src/train_bash.py``, July 2023 to May 2024,
  also behind ``accelerate launch`` / ``deepspeed``): the same arguments and the same LoraConfig
  (comma list, ``all`` for every Linear leaf, ``task_type`` CAUSAL_LM; src/llmtuner/model/
  adapter.py). ``--finetuning_type`` defaulted to ``lora`` throughout, but the default of
  ``--lora_target`` changed (``q_proj,v_proj`` until August 2023, required until March 2024, then
  ``all``), so a command without it has unknown targets.

Words are split as a POSIX shell does (quotes, backslash-continued lines); each value keeps its
own row and column. ``$NAME`` / ``${NAME}`` are expanded from plain assignments earlier in the same
text (``NAME=value``, ``export NAME=value``); a value that still names a variable is unknown, never
taken as written. A word that is one variable keeps the place of the value it was assigned, so a
finding points where the fix goes.
"""

from __future__ import annotations

import re

from lorlint.site import UNKNOWN, Record, Site, Span, Value

TRL_COMMANDS = frozenset({"sft", "dpo", "grpo", "kto", "reward", "rloo", "orpo", "ppo"})
OLD_LLAMA_FACTORY = "train_bash.py"  # src/train_bash.py: LLaMA-Factory's entry point until v0.7
PROMPT = re.compile(r"^\s*(?:[#!]+|\$|>>>|\.\.\.)?\s*")
ASSIGNMENT = re.compile(r"([A-Za-z_]\w*)=(.*)", re.S)
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")


class Word(Record):
    FIELDS = ("text", "row", "col", "end_row", "end_col")  # compared by value (``Record``)

    def __init__(self, text: str, row: int, col: int, end_row: int, end_col: int):
        self.text = text
        self.row = row
        self.col = col  # 1-based, where the word starts
        self.end_row = end_row
        self.end_col = end_col  # exclusive

    @property
    def span(self) -> Span:
        return Span(self.row, self.col, self.end_row, self.end_col)


# The words that name a tool a command line may run (``llamafactory-cli`` starts with one):
# ``might_have_sites`` looks for them as words, ``_may_name_tool`` within a line's words
_TOOL_NAMES = ("trl", "llamafactory", OLD_LLAMA_FACTORY)


def might_have_sites(text: str) -> bool:
    """Whether one of those words is in ``text`` as a whole word (``\\b`` at both ends): each
    looked for with ``str.find``, at memchr speed (a regex of them, whose alternatives start with
    different characters, is tried at every position of the text)."""
    for word in _TOOL_NAMES:
        size = len(word)
        at = text.find(word)
        while at >= 0:
            before, after = text[at - 1 : at], text[at + size : at + size + 1]
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
                return True
            at = text.find(word, at + 1)
    return False


def _words(lines: list[tuple[int, int, str]]) -> list[Word]:
    """Shell words of one logical command: (row, first column, text) per physical line."""
    if len(lines) == 1 and "'" not in lines[0][2] and '"' not in lines[0][2]:
        return _unquoted_words(*lines[0])
    return _any_words(lines)


def _any_words(lines: list[tuple[int, int, str]]) -> list[Word]:
    """``_words`` character by character: quotes, escapes, words across continued rows."""
    words: list[Word] = []
    current, start, quote = "", None, None
    for row, offset, text in lines:
        i = 0
        while i < len(text):
            ch = text[i]
            col = offset + i
            if quote:
                if ch == quote:
                    quote = None
                elif ch == "\\" and quote == '"' and i + 1 < len(text):
                    i += 1
                    current += text[i]
                else:
                    current += ch
            elif ch in "'\"":
                quote, start = ch, start or (row, col)
            elif ch.isspace() or ch in ";|&":
                if start is not None:
                    words.append(Word(current, start[0], start[1], row, col))
                    current, start = "", None
                if ch in ";|&":
                    return words  # the next command is not this tool's
            elif ch == "#" and start is None:
                break
            else:
                start = start or (row, col)
                current += ch
            i += 1
        if start is not None and not quote:
            words.append(Word(current, start[0], start[1], row, offset + len(text)))
            current, start = "", None
    return words


_UNQUOTED_WORD = re.compile(r"[;|&]|[^\s;|&]+")


def _unquoted_words(row: int, offset: int, text: str) -> list[Word]:
    """``_words`` of one row without quotes (most rows): each word is as written."""
    words = []
    for m in _UNQUOTED_WORD.finditer(text):
        word = m.group()
        if word in (";", "|", "&"):
            break  # the next command is not this tool's
        if word[0] == "#":
            break  # a comment
        words.append(Word(word, row, offset + m.start(), row, offset + m.end()))
    return words


def _may_name_tool(lines: list[tuple[int, int, str]]) -> bool:
    """Whether a word of this logical line can be ``trl``, ``llamafactory(-cli)`` or
    ``train_bash.py``: a word is its line's characters less quotes and backslashes, so a line
    without the name has no site."""
    joined = "".join(body for _, _, body in lines).translate(_QUOTING)
    return any(name in joined for name in _TOOL_NAMES)


_QUOTING = str.maketrans("", "", "'\"\\")


def _unquoted(text: str) -> str:
    """``text`` without quotes and backslashes, by ``str.replace`` (at memchr speed), which keeps
    every line break: a word's characters (``_words``) are together there, and on its row."""
    return text.replace("'", "").replace('"', "").replace("\\", "")


def _naming_rows(text: str, bare: str | None = None) -> set[int]:
    """The (0-based) rows for which ``_may_name_tool`` holds alone: those holding a name of
    ``_TOOL_NAMES`` once its quotes and backslashes are dropped (``bare``: ``_unquoted(text)``).
    A name found in the text without them is on the same row in the text; a regex allowing them
    between its letters was tried at every position."""
    bare = _unquoted(text) if bare is None else bare
    found = set()
    for name in _TOOL_NAMES:
        at = bare.find(name)
        row, counted = 0, 0
        while at >= 0:
            row += bare.count("\n", counted, at)
            counted = at
            found.add(row)
            at = bare.find(name, at + 1)
    return found


_CONTINUED = re.compile(r"\\[^\S\n]*$", re.MULTILINE)  # a row whose rstrip ends in ``\``


def _options(words: list[Word], env: dict[str, Word]) -> dict[str, list[Word]]:
    """``--name value...`` (or ``--name=value``): the words up to the next option; an option whose
    value names an unknown variable is left out (its value is not known)."""
    options = _raw_options(words)
    for name, values in list(options.items()):
        expanded = _expanded(values, env)
        if expanded is None:
            del options[name]
        else:
            options[name] = expanded
    return options


def _raw_options(words: list[Word]) -> dict[str, list[Word]]:
    options: dict[str, list[Word]] = {}
    name = None
    for word in words:
        if word.text.startswith("--"):
            key, eq, value = word.text[2:].partition("=")
            name = key.replace("-", "_")
            options[name] = []
            if eq:
                at = word.col + 2 + len(key) + 1
                options[name].append(Word(value, word.row, at, word.end_row, word.end_col))
                name = None
        elif name is not None:
            options[name].append(word)
    return options


def _site(path: str, kind: str, words: list[Word], anchor: Word) -> Site:
    span = Span(words[0].row, words[0].col, words[-1].end_row, words[-1].end_col)
    site = Site(path, kind, f"{kind}.cli", anchor.span, statement_rows=(span.row, span.end_row))
    return site


def expand(text: str, env: dict[str, Word]) -> str | None:
    """``text`` with ``$NAME`` / ``${NAME}`` replaced from ``env``; None if one is not known."""
    missing = False

    def value(m: re.Match) -> str:
        nonlocal missing
        name = m.group(1) or m.group(2)
        missing = missing or name not in env
        return env[name].text if name in env else ""

    out = VARIABLE.sub(value, text)
    return None if missing or "$" in out else out


def _assignments(words: list[Word], env: dict[str, Word]) -> None:
    """Record ``NAME=value`` / ``export NAME=value`` lines (a command of assignments only): each
    value expanded, at the place of its text when that is known (see ``_value_place``)."""
    if words and words[0].text == "export":
        words = words[1:]
    parsed = [ASSIGNMENT.fullmatch(w.text) for w in words]
    if words and all(parsed):
        for word, m in zip(words, parsed, strict=True):
            expanded = expand(m.group(2), env)
            if expanded is None:
                env.pop(m.group(1), None)
            else:
                env[m.group(1)] = _value_place(word, m, expanded)


def _value_place(word: Word, assignment: re.Match, value: str) -> Word:
    """The value of ``NAME=value`` as a word at its own columns when it is written as is on one
    line (``NAME=a,b`` or ``NAME="a,b"``: no variable, no escape); else at the whole word."""
    raw = word.end_col - word.col  # the written length: quotes and escapes make it longer
    written = len(assignment.group(1)) + 1 + len(value)
    as_is = assignment.group(2) == value and word.row == word.end_row and value
    if as_is and raw in (written, written + 2):
        at = word.col + len(assignment.group(1)) + 1 + (raw - written) // 2
        return Word(value, word.row, at, word.row, at + len(value))
    return Word(value, word.row, word.col, word.end_row, word.end_col)


def _expanded(words: list[Word], env: dict[str, Word]) -> list[Word] | None:
    """The words with variables expanded; a word that is one variable (``$TARGETS``) takes the
    place of the value assigned to it, so a finding points where the fix goes."""
    out = []
    for w in words:
        whole = VARIABLE.fullmatch(w.text)
        name = whole and (whole.group(1) or whole.group(2))
        if name and name in env:
            out.append(env[name])
            continue
        text = expand(w.text, env)
        if text is None:
            return None
        out.append(Word(text, w.row, w.col, w.end_row, w.end_col))
    return out


def _model(site: Site, options: dict[str, list[Word]]) -> None:
    value = options.get("model_name_or_path")
    if value:
        site.model, site.model_span, site.model_origin = value[0].text, value[0].span, "cli"


def _trl(path: str, words: list[Word], at: int, env: dict[str, Word]) -> Site | None:
    if at + 1 >= len(words) or words[at + 1].text not in TRL_COMMANDS:
        return None
    options = _options(words[at + 2 :], env)
    if "use_peft" not in options:
        return None
    site = _site(path, "trl", words, words[at])
    raw = _raw_options(words[at + 2 :])
    for name, key in (
        ("lora_target_modules", "target_modules"),
        ("lora_modules_to_save", "modules_to_save"),
    ):
        if name in raw and name not in options and raw[name]:  # an unexpandable variable
            site.keywords[key] = Value(UNKNOWN, raw[name][0].span)
    targets = options.get("lora_target_modules")
    if targets:
        elements = [Value(w.text, w.span, editable=False) for w in targets]
        span = Span(targets[0].row, targets[0].col, targets[-1].end_row, targets[-1].end_col)
        if len(elements) == 1:  # ModelConfig.__post_init__: one entry becomes the string
            site.keywords["target_modules"] = Value(elements[0].value, span, editable=False)
        else:
            value = [e.value for e in elements]
            site.keywords["target_modules"] = Value(value, span, elements=elements, editable=False)
    saved = options.get("lora_modules_to_save")
    if saved:
        elements = [Value(w.text, w.span, editable=False) for w in saved]
        site.keywords["modules_to_save"] = Value(
            [e.value for e in elements], elements[0].span, elements=elements, editable=False
        )
    site.keywords["task_type"] = Value("CAUSAL_LM", editable=False)
    _model(site, options)
    site.task = "causal-lm"
    site.quantized = "4bit" if "load_in_4bit" in options else None
    return site


def _llama_factory(path: str, words: list[Word], at: int, env: dict[str, Word]) -> Site | None:
    """``llamafactory-cli train --finetuning_type lora --model_name_or_path ...``, or the old
    ``python src/train_bash.py ...`` (``finetuning_type`` then defaults to lora, and an absent
    ``lora_target`` is unknown: its default changed between the releases of that era)."""
    old = words[at].text.rpartition("/")[2] == OLD_LLAMA_FACTORY
    first = at + 1 if old else at + 2
    if not old and (at + 1 >= len(words) or words[at + 1].text not in ("train", "sft")):
        return None
    raw = _raw_options(words[first:])
    options = _options(words[first:], env)
    kind = options.get("finetuning_type")
    lora = kind[0].text == "lora" if kind else old and "finetuning_type" not in raw
    if not lora or "model_name_or_path" not in raw:
        return None  # a YAML file carries the rest: the YAML front end reads it
    site = _site(path, "llama-factory", words, words[at])
    target = options.get("lora_target")
    if target:
        site.keywords["target_modules"] = _comma_list(target[0])
    elif "lora_target" in raw or old:  # a variable lorlint cannot expand; an era's default
        where = raw["lora_target"][0].span if raw.get("lora_target") else None
        site.keywords["target_modules"] = Value(UNKNOWN, where)
    for flag in ("freeze_vision_tower", "freeze_multi_modal_projector", "freeze_language_model"):
        if flag in raw:  # HfArgumentParser's string_to_bool; anything else: unknown
            given = options.get(flag)
            text = given[0].text.lower() if given else ""
            value = True if text in BOOL_TRUE else False if text in BOOL_FALSE else UNKNOWN
            site.keywords[flag] = Value(value, raw[flag][0].span)
    _model(site, options)
    return site


BOOL_TRUE, BOOL_FALSE = ("yes", "true", "t", "y", "1"), ("no", "false", "f", "n", "0")


def _comma_list(word: Word) -> Value:
    """LLaMA-Factory's ``split_arg``: ``all``, or names split on commas (each with its span)."""
    if word.text.strip() == "all":
        return Value("all-linear", word.span, editable=False)
    elements, cursor = [], 0
    for part in word.text.split(","):
        name = part.strip()
        at = word.text.find(name, cursor) if name else cursor
        cursor = at + len(part)
        if name:
            span = Span(word.row, word.col + at, word.row, word.col + at + len(name))
            elements.append(Value(name, span, editable=False))
    return Value([e.value for e in elements], word.span, elements=elements, editable=False)


def sites(path: str, text: str, rows: list[int] | None = None) -> list[Site]:
    """Sites of the command lines in a text; ``rows`` numbers its lines (default 1, 2, ...).

    Only lines that can name the tool are split into words, and before the last of them the
    lines that can assign (``_may_assign``) when one of those reads a variable (``$``): what the
    others hold cannot change a site."""
    found, env = [], {}
    continued, bare = _rows_matching(text, _CONTINUED), _unquoted(text)
    if not continued and not any(name in bare for name in _CONFIGURING):
        return found  # no command here can be a site (``_CONFIGURING``)
    script = path.endswith(".sh")
    for lines, may_name_tool in _lines_to_split(text, rows, script, continued, bare):
        words = _words(lines)
        _assignments(words, env)
        for at, word in enumerate(words if may_name_tool else ()):
            program = word.text.rpartition("/")[2]
            site = None
            if program == "trl":
                site = _trl(path, words, at, env)
            elif program in ("llamafactory-cli", "llamafactory", OLD_LLAMA_FACTORY):
                site = _llama_factory(path, words, at, env)
            if site is not None:
                found.append(site)
                break
    return found


# What a command needs to be a site: TRL's ``--use_peft`` (``_trl``: "use_peft" among its
# options, whose names are their words' text with ``-`` read as ``_``), or LLaMA-Factory's program
# (``_llama_factory``). A word is its row's characters less quotes and escaping backslashes, and
# rows are joined only where one ends in a backslash (``_CONTINUED``): without such a row, a word
# holding one of these is in the text without quotes and backslashes too. So most Python files
# that mention ``trl`` (``from trl import SFTTrainer``) are ruled out by ``str.find`` passes.
_CONFIGURING = ("use_peft", "use-peft", "llamafactory", OLD_LLAMA_FACTORY)


def _lines_to_split(
    text: str, rows: list[int] | None, script: bool, continued: set[int], bare: str
) -> list[tuple[list[tuple[int, int, str]], bool]]:
    """The logical lines ``sites`` splits into words, each with whether it may name the tool:
    those up to the last that may, which may or may assign. A logical line is its rows joined
    where a row ends in a backslash; in a shell ``script`` a ``#`` row is a comment (it ends a
    continued command and continues nothing), elsewhere (usage lines in docstrings and comments)
    the ``#`` is a prompt. Found without taking every row apart (a Python file's rows are mostly
    neither): the rows that end in a backslash and those holding the tool's name (quotes and
    backslashes between its characters: ``_may_name_tool``'s test on one row) come from two
    searches of the whole text; only lines of several rows are joined to be tested."""
    physical = text.split("\n")
    numbers = rows or range(1, len(physical) + 1)
    naming = _naming_rows(text, bare)  # ``continued``: the rows ``_CONTINUED`` matches
    spans = []  # (first row, last row, may name the tool) of each logical line
    if not continued and not script:  # every row is a logical line
        spans = [(k, k, k in naming) for k in range(max(naming, default=-1) + 1)]
    else:

        def comment(k: int) -> bool:
            return script and physical[k].lstrip().startswith("#")

        k, n = 0, len(physical)
        while k < n:
            if comment(k):  # a shell script's comment ends a continued command, continues nothing
                k += 1
                continue
            first = k
            while k in continued and k + 1 < n and not comment(k + 1):
                k += 1
            if first == k:
                spans.append((first, k, k in naming))
            else:
                lines = _logical(physical, numbers, first, k, continued)
                spans.append((first, k, _may_name_tool(lines)))
            k += 1
        spans = spans[: max((i + 1 for i, span in enumerate(spans) if span[2]), default=0)]
    # assignments matter only to a line that may name the tool and reads a variable (``$``)
    reads_variables = any(
        "$" in physical[k]
        for first, last, naming in spans
        if naming
        for k in range(first, last + 1)
    )
    out = []
    for first, last, may_name_tool in spans:
        if may_name_tool or (
            reads_variables and any("=" in physical[k] for k in range(first, last + 1))
        ):
            lines = _logical(physical, numbers, first, last, continued)
            if may_name_tool or _may_assign(lines):
                out.append((lines, may_name_tool))
    return out


# What a line's first words must start with for ``_assignments`` to record anything: ``NAME=``
# or a quote (after ``export``), as written.
_ASSIGNING = re.compile(r"\s*(?:export\s+)?(?:[A-Za-z_]\w*[='\"]|['\"])")


def _may_assign(lines: list[tuple[int, int, str]]) -> bool:
    """Whether ``_assignments`` may record something from this logical line: only when its
    first word (or the one after ``export``) is ``NAME=value``. In a line of one row that word
    starts at the row's first character after spaces and reads as written outside quotes, so
    the row must start ``NAME=`` or hold a quote there; a line of several rows is split."""
    return len(lines) > 1 or _ASSIGNING.match(lines[0][2]) is not None


def _logical(
    physical: list[str], numbers, first: int, last: int, continued: set[int]
) -> list[tuple[int, int, str]]:
    """Rows ``first`` to ``last`` as one logical line: (row, first column, text after any
    prompt) per row, a continuing backslash dropped."""
    out = []
    for k in range(first, last + 1):
        line = physical[k]
        prefix = PROMPT.match(line).end() if k == first else 0
        body = line[prefix:]
        if k in continued:
            body = body.rstrip()[:-1]
        out.append((numbers[k], prefix + 1, body))
    return out


def _rows_matching(text: str, pattern: re.Pattern) -> set[int]:
    """The (0-based) rows where a match of ``pattern`` starts."""
    found, row, at = set(), 0, 0
    for m in pattern.finditer(text):
        row += text.count("\n", at, m.start())
        at = m.start()
        found.add(row)
    return found
