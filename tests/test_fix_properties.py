"""Property test: ``--fix --unsafe-fixes`` changes exactly what it reports, in any layout.

Scripts come from tests/fixgen.py (comments inside lists, trailing commas, multi-line calls, tabs,
CRLF and CR, form feeds, BOM, non-ASCII, implicit concatenation, f-strings, shared names,
``**dict(...)``). Each fix round is replayed with the fixer's own pieces and checked against
Python's ``ast`` — an oracle independent of lorlint's positions:

- the result parses;
- every edit lies inside a ``target_modules`` value (located by ``ast``), and every byte outside
  the values an edit touched is identical;
- the values change exactly as the fixes say (a rename renames that entry, a removal removes one
  entry, a rewrite gives the list in its message), comments are kept but the trailing comment of a
  removed entry;
- the real ``--fix`` writes that same text (mode, line endings and BOM kept), ``--diff`` writes
  nothing and prints a patch that ``patch`` applies to the same result, and a second run is a no-op.

A few hundred examples here (``LORLINT_FUZZ_EXAMPLES``); ``make fuzz`` runs thousands.
"""

from __future__ import annotations

import ast
import atexit
import io
import os
import re
import shutil
import stat
import subprocess
import tempfile
import tokenize
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from fixgen import encode, script
from hypothesis import HealthCheck, Phase, given, settings

from lorlint.commands import check
from lorlint.engine import Options, ViewCache, lint_source
from lorlint.fixes import choose, splice
from lorlint.textpos import line_starts

EXAMPLES = int(os.environ.get("LORLINT_FUZZ_EXAMPLES", "300"))
ARGS = SimpleNamespace(fix=True, diff=False, unsafe_fixes=True)
# the site cache is keyed by content: a text the replay parsed is not parsed again by the fixer
CACHE = tempfile.mkdtemp(prefix="lorlint-fuzz-")
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)
OPTIONS = Options(cache_root=Path(CACHE))
VIEWS = ViewCache(online=False)
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)  # LORLINT_FUZZ_SHRINK=0: quick triage


# --- an oracle from Python's own parser ---------------------------------------------------------
def _offsets(text: str):
    """(row, UTF-8 column) as ``ast`` reports them → offset into ``text`` (BOM excluded)."""
    starts = line_starts(text)

    def at(row: int, byte_col: int) -> int:
        start = starts[row - 1]
        line = text[start : starts[row] if row < len(starts) else len(text)]
        return start + len(line.encode("utf-8")[:byte_col].decode("utf-8"))

    return at


def target_values(text: str) -> list[tuple[int, int, ast.expr]]:
    """(start, end, node) of every ``target_modules`` value, at its binding when it is a name."""
    tree = ast.parse(text.removeprefix("\ufeff"))
    at = _offsets(text)
    bindings = {
        node.targets[0].id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg != "target_modules":
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in bindings:
            value = bindings[value.id]
        start = at(value.lineno, value.col_offset)
        found.append((start, at(value.end_lineno, value.end_col_offset), value))
    return sorted(found, key=lambda item: item[0])


def comments(text: str) -> dict[str, int]:
    """Each comment and its offset in ``text`` (comments are unique in generated scripts)."""
    starts = line_starts(text)
    stream = io.StringIO(text.removeprefix("\ufeff"), newline=None)
    return {
        t.string: starts[t.start[0] - 1] + t.start[1]
        for t in tokenize.generate_tokens(stream.readline)
        if t.type == tokenize.COMMENT
    }


def literal(node: ast.expr):
    """A display's value, f-strings of constants included; None for computed values."""
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [literal(elt) for elt in node.elts]
        return None if any(not isinstance(i, str) for i in items) else items
    if isinstance(node, ast.JoinedStr):
        parts = node.values
        return (
            "".join(p.value for p in parts)
            if all(isinstance(p, ast.Constant) for p in parts)
            else None
        )
    return node.value if isinstance(node, ast.Constant) else None


def _subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


# --- replaying the fixer round by round ---------------------------------------------------------
def rounds(text: str):
    """(text, applied fixes, edits, new text) for each round, as ``fix_file`` runs them."""
    out = []
    for _ in range(check.MAX_FIX_ROUNDS + 1):
        found = lint_source("t.py", text, OPTIONS, VIEWS)
        edits, applied = choose(text, check.wanted_fixes(found, set(), ARGS))
        new = splice(text, edits)
        if new == text:
            break
        out.append((text, applied, edits, new))
        text = new
    return out


RENAME = re.compile(r'Replace "(.*)" with "(.*)"$')
DROP = re.compile(r'Remove (?:the second )?"(.*)"$')


def check_round(text: str, applied, edits, new: str) -> None:
    assert check.parse_error(new) is None, new
    before, after = target_values(text), target_values(new)
    assert len(before) == len(after)
    touched: dict[int, list] = {}
    starts = line_starts(text)
    for fix in {fix.edits: fix for fix in applied}.values():  # identical edits apply once
        spans = [
            (
                starts[e.span.row - 1] + e.span.col - 1,
                starts[e.span.end_row - 1] + e.span.end_col - 1,
            )
            for e in fix.edits
        ]
        homes = [i for i, (s, e, _) in enumerate(before) if all(s <= a <= b <= e for a, b in spans)]
        assert homes, f"{fix.message}: edit {spans} outside every target_modules value"
        touched.setdefault(homes[0], []).append((fix, spans))
    cursor = cursor_new = 0
    for i, ((s, e, node), (s2, e2, node2)) in enumerate(zip(before, after, strict=True)):
        assert text[cursor:s] == new[cursor_new:s2], "bytes changed outside the fixed values"
        cursor, cursor_new = e, e2
        if i not in touched:
            assert text[s:e] == new[s2:e2]
            continue
        _check_value(text, node, literal(node), literal(node2), touched[i])
    assert text[cursor:] == new[cursor_new:]
    kept = comments(new)
    drops = [
        span
        for items in touched.values()
        for f, spans in items
        if DROP.match(f.message)
        for span in spans
    ]
    for comment, at in comments(text).items():
        dropped = any(a < at + len(comment) and at < b for a, b in drops)  # a removed entry's
        assert comment in kept or dropped, f"comment {comment!r} lost"


def _check_value(text, node, old, new, fixes) -> None:
    assert old is not None and new is not None, "a computed value was edited"
    if isinstance(old, str):  # a string became a list
        ((fix, _),) = fixes
        assert new == ast.literal_eval(fix.message[fix.message.index("[") :])
        return
    renamed, drops, rewrites = list(old), [], []
    for fix, spans in fixes:
        if m := RENAME.match(fix.message):
            ((a, b),) = spans
            at = _offsets(text)
            hits = [
                i
                for i, elt in enumerate(node.elts)
                if (at(elt.lineno, elt.col_offset), at(elt.end_lineno, elt.end_col_offset))
                == (a, b)
            ]
            assert len(hits) == 1 and old[hits[0]] == m.group(1), "the rename is not that entry"
            renamed[hits[0]] = m.group(2)
        elif m := DROP.match(fix.message):
            drops.append(m.group(1))
        else:
            rewrites.append(ast.literal_eval(fix.message[fix.message.index("[") :]))
    if rewrites:
        if len(fixes) == 1:
            assert new == rewrites[0]
        allowed = set(renamed) | {n for r in rewrites for n in r}
        assert set(new) <= allowed
        return
    assert _subsequence(new, renamed)
    assert Counter(renamed) - Counter(new) == Counter(drops)


# --- the real command ------------------------------------------------------------------------------
def run_fix(path: Path, diff: bool):
    args = SimpleNamespace(fix=not diff, diff=diff, unsafe_fixes=True)
    outcome = check._fix_or_refuse(path, OPTIONS, set(), args)
    assert not outcome.error, outcome.error
    if outcome.fixed and not diff:
        check.write_atomically(path, outcome.text)
    return outcome


def line_breaks(data: bytes) -> set[bytes]:
    return set(re.findall(rb"\r\n|\r|\n", data))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=tuple(Phase) if os.environ.get("LORLINT_FUZZ_SHRINK", "1") == "1" else NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(script())
def test_fix_changes_exactly_what_it_reports(case):
    data = encode(case)
    text = data.decode("utf-8")
    replayed = rounds(text)
    for step in replayed:
        check_round(*step)
    final = replayed[-1][3] if replayed else text
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.py"
        path.write_bytes(data)
        os.chmod(path, case["mode"])
        patch = run_fix(path, diff=True).diff
        assert path.read_bytes() == data  # --diff writes nothing
        run_fix(path, diff=False)
        result = path.read_bytes()
        assert result == final.encode("utf-8")
        assert stat.S_IMODE(path.stat().st_mode) == case["mode"]
        assert line_breaks(result) <= line_breaks(data) or not line_breaks(data)
        assert result.startswith(b"\xef\xbb\xbf") == case["bom"]
        assert run_fix(path, diff=False).fixed == 0  # a second run is a no-op
        assert path.read_bytes() == result
        if patch:
            copy = Path(tmp) / "a" / "train.py"
            copy.parent.mkdir()
            copy.write_bytes(data)
            proc = subprocess.run(
                ["patch", "-s", "-p1", "-d", str(Path(tmp) / "a")],
                input=patch.replace("a/" + path.as_posix(), "a/train.py")
                .replace("b/" + path.as_posix(), "b/train.py")
                .encode(),
                capture_output=True,
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert copy.read_bytes() == result
        else:
            assert not replayed
