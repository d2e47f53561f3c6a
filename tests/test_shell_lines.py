"""Splitting only the lines that can name the tool changes no site: ``shell.sites`` against
splitting every line into words (the front end before), on every file of the fixtures and the
real-world set, on altered copies of the command lines among them, and on spellings of the
tool's name that quotes take apart."""

from __future__ import annotations

import contextlib
import re

import pytest
from helpers import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from lorlint.frontends import shell
from lorlint.frontends.names import word_search
from lorlint.frontends.notebook import load

ROOTS = [REPO / "fixtures", REPO / "tests" / "realworld"]


def _logical_lines(text: str, script: bool) -> list[list[tuple[int, int, str]]]:
    """Each logical line as its physical lines (row, first column, text after any prompt), row
    by row, as the front end split them before: in a shell ``script`` a ``#`` line is a comment
    (it ends a continued command and continues nothing), elsewhere the ``#`` is a prompt."""
    out, pending = [], []
    for row, line in enumerate(text.split("\n"), 1):
        if script and line.lstrip().startswith("#"):
            if pending:
                out.append(pending)
                pending = []
            continue
        prefix = shell.PROMPT.match(line).end() if not pending else 0
        body = line[prefix:]
        continued = body.rstrip().endswith("\\")
        if continued:
            body = body.rstrip()[:-1]
        pending.append((row, prefix + 1, body))
        if not continued:
            out.append(pending)
            pending = []
    if pending:
        out.append(pending)
    return out


def _every_line_sites(path: str, text: str) -> list:
    """The reference: every logical line split into words, as before."""
    found, env = [], {}
    lines = _logical_lines(text, script=path.endswith(".sh"))
    for words in [words for words in map(shell._words, lines) if words]:
        shell._assignments(words, env)
        for at, word in enumerate(words):
            program = word.text.rpartition("/")[2]
            site = None
            if program == "trl":
                site = shell._trl(path, words, at, env)
            elif program in ("llamafactory-cli", "llamafactory", shell.OLD_LLAMA_FACTORY):
                site = shell._llama_factory(path, words, at, env)
            if site is not None:
                found.append(site)
                break
    return found


def _texts() -> list[tuple[str, str]]:
    out = []
    for root in ROOTS:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in (".sh", ".py", ".ipynb", ".md", ".txt"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            name = str(path.relative_to(REPO))
            if path.suffix == ".ipynb":  # its code cells, and its JSON text as it is
                with contextlib.suppress(Exception):
                    out.append((name + ":code", load(text).source))
            out.append((name, text))
    return [(name, text) for name, text in out if shell.might_have_sites(text)]


CORPUS = _texts()
SPELLINGS = [
    'MODEL=meta-llama/Llama-3.1-8B\nt"r"l sft --use_peft --model_name_or_path $MODEL '
    "--lora_target_modules q_proj v_proj\n",
    "t'r'l sft --use_peft --model_name_or_path x/y --lora_target_modules q_proj\n",
    'M=a/b\nexport T="q_proj,v_proj"\n"tr\\\nl" sft --use_peft --model_name_or_path $M '
    "--lora_target_modules $T\n",
    "T=q_proj\nllama'factory'-cli train --model_name_or_path meta-llama/Llama-3.1-8B "
    "--finetuning_type lora --lora_target $T\nT=v_proj\n",
    '# an old entry point, quoted apart\nT=q_proj\npython src/train_"bash.py" --stage sft '
    "--model_name_or_path meta-llama/Llama-2-7b-hf --lora_target $T\n",
    # assignments written with quotes around or inside the name
    *(
        assignment + "\ntrl sft --use_peft --model_name_or_path a/b --lora_target_modules $T\n"
        for assignment in ('"T=q_proj"', "export 'T'=k_proj", "T''=o_proj", ' "T"=v_proj')
    ),
]


@pytest.mark.parametrize("name,text", CORPUS, ids=[name for name, _ in CORPUS])
def test_same_sites_as_splitting_every_line(name, text):
    assert shell.sites(name, text) == _every_line_sites(name, text)


@pytest.mark.parametrize("text", SPELLINGS)
def test_quoted_spellings_of_the_tool(text):
    expected = _every_line_sites("run.sh", text)
    assert expected, "the reference finds a site"
    assert shell.sites("run.sh", text) == expected


# ``--use_peft`` and the programs spelt with quotes (and escapes) among their characters: the
# check that rules a text out without splitting it (``shell._CONFIGURING``) must still find them
OPTION_SPELLINGS = ['--use_"peft"', "--'use'-peft", '"--use\\_peft"', "--use''_peft=true",
                    '--u"se-p"eft', "--use_peft"]  # fmt: skip


@pytest.mark.parametrize("option", OPTION_SPELLINGS)
@pytest.mark.parametrize("name", ["run.sh", "train.py"])
def test_use_peft_spelt_with_quotes(option, name):
    text = f"# usage:\ntrl sft {option} --model_name_or_path a/b --lora_target_modules q_proj\n"
    expected = _every_line_sites(name, text)
    assert expected, "the reference finds a site"
    assert shell.sites(name, text) == expected


def test_a_file_without_a_configuring_word_is_not_split(monkeypatch):
    """``from trl import ...`` mentions the tool, but no command there can be a site."""

    def split(*args):
        raise AssertionError("no line should be split")

    monkeypatch.setattr(shell, "_lines_to_split", split)
    assert shell.sites("train.py", "from trl import SFTTrainer\nprint('trl sft')\n") == []


def test_the_corpus_has_command_sites():
    assert sum(len(_every_line_sites(name, text)) for name, text in CORPUS) >= 1


# Generated texts: command lines among other rows, with what the row and word splitting hinge on
# (the tool's name quoted apart or split over rows, backslash continuations before spaces and
# ``\r``, comments, prompts, separators, assignments before and after).
PROGRAMS = ["trl", "t'r'l", '"tr\\\nl"', "llamafactory-cli", "llama'factory'-cli",
            "python src/train_bash.py", 'python src/train_"bash.py"']  # fmt: skip
SUBCOMMANDS = ["sft", "dpo", "train", "sft --use_peft", ""]
OPTIONS = [
    "--use_peft", "--finetuning_type lora", "--model_name_or_path $M", "--model_name_or_path a/b",
    "--lora_target_modules $T", "--lora_target_modules q_proj v_proj", "--lora_target $T",
    "--lora_target q_proj,v_proj", "--lora_target=$T", "--lora_modules_to_save lm_head",
    "--load_in_4bit", "'--lora_target' k_proj", "; echo", "# a comment", "&& ls",
]  # fmt: skip
SEPARATORS = [" ", "  ", " \\\n", " \\\r\n", " \\ \n  ", "\t"]
ROWS = [
    "", "x = 1", "M=a/b", "T=q_proj", "export T='k_proj,o_proj'", 'T="v_proj"', "T=$U", "M= a/b",
    "f(a=1, b=2)", "# trl sft --use_peft --model_name_or_path a/b", "# T=up_proj", "ctrl = 2",
    "!M=c/d", ">>> T=gate_proj", "x = 1 \\", "  # trl sft --use_peft --model_name_or_path a/b",
    "\t# T=up_proj \\", "'unclosed", "T=q_proj\r", "\u2028T=o_proj", "T''=o_proj",
    'export "T=gate_proj"', "x = 1; T=v_proj",
]  # fmt: skip
PROMPTS = ["", "!", "$ ", "# ", ">>> ", "  "]


@st.composite
def _command(draw) -> str:
    words = [draw(st.sampled_from(PROGRAMS)), draw(st.sampled_from(SUBCOMMANDS))]
    words += draw(st.lists(st.sampled_from(OPTIONS), max_size=6))
    text = words[0]
    for word in words[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + word
    return draw(st.sampled_from(PROMPTS)) + text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(ROWS), _command()), max_size=12),
    st.sampled_from(["run.sh", "train.py"]),
)
def test_same_sites_on_generated_lines(rows, name):
    text = "\n".join(rows)
    assert shell.sites(name, text) == _every_line_sites(name, text)


@settings(max_examples=1_000, deadline=None)
@given(st.text(alphabet=" \t\x0c\u2028ab=;|&#\\$-/.", max_size=30), st.integers(1, 9))
def test_a_row_without_quotes_splits_as_character_by_character(text, offset):
    assert shell._unquoted_words(3, offset, text) == shell._any_words([(3, offset, text)])


# What ``shell.might_have_sites`` finds with ``str.find``: this regex's matches at a word start
MENTION = re.compile(r"(?:trl|llamafactory-cli|llamafactory|train_bash\.py)\b")
MENTION_PARTS = ["trl", "llamafactory", "-cli", "train_bash.py", "train_bash", ".py", "ctrl",
                 "trl_", " ", "_", "a", "é", "1", "٣", "ª", ".", "-", "/", "\n", "'"]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(MENTION_PARTS), max_size=8).map("".join))
def test_mentions_found_as_the_regex_finds_them(text):
    assert shell.might_have_sites(text) == (word_search(MENTION, text) is not None)


# What ``shell._naming_rows`` finds by dropping quotes and backslashes from the whole text: the rows
# where this regex (the tool's names with them anywhere between their letters) has a match
TOOL_NAME = re.compile(
    "|".join("['\"\\\\]*".join(map(re.escape, name)) for name in shell._TOOL_NAMES)
)
NAME_PARTS = ["t", "r", "l", "trl", "llama", "factory", "train_", "bash", ".py", "'", '"', "\\",
              "\n", "\r", "\r\n", " ", "x", "é"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(NAME_PARTS), max_size=14).map("".join))
def test_naming_rows_as_the_regex_finds_them(text):
    assert shell._naming_rows(text) == shell._rows_matching(text, TOOL_NAME)
