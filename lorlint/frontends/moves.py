"""When LL401's fix may move ``prepare_model_for_kbit_training`` before ``get_peft_model``.

PEFT's ``prepare_model_for_kbit_training`` works on the model object in place and returns it, so
``X = prepare_model_for_kbit_training(X)`` (or the bare call) moved from after ``X =
get_peft_model(X, cfg)`` to just before it prepares the base model that ``get_peft_model`` then
wraps — PEFT's documented order — and leaves ``X`` bound to the same wrapped model. The move is
offered only where nothing else can tell the difference:

- both statements are simple statements of their own lines (nothing before them on their first
  line, at most a comment after them on their last), in the same block, with the same
  indentation;
- the wrapping statement is ``X = get_peft_model(X, ...)`` / ``X = PeftModel.from_pretrained(X,
  ...)`` and the prepare statement is ``[X =] prepare_model_for_kbit_training(X, ...)``, its other
  arguments literals (a name could be read before the wrapping statement changed it);
- every statement between them is ``X.print_trainable_parameters()`` (its counts are the same in
  both orders: ``get_peft_model`` marks the adapter trainable after prepare froze the base).

The front end may parse a reduced text (``reduce.py`` blanks statements it judges irrelevant), so
the move carries ``seen``, the text from the wrapping statement's row to the moved text's end as
it was parsed; the fix binds only where the file holds that same text there, comment-only lines
aside (``lorlint/fixes.py`` ``Move``).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from lorlint.frontends.follow import _argument_at, _last_name

if TYPE_CHECKING:
    from lorlint.frontends.python import PythonFile

MAX_ROWS = 40  # from the wrapping statement to the end of the moved one
_TAIL = re.compile(r"[ \t\f]*(#[^\r\n]*)?(\r\n|\r|\n)?")


def move_before(file: PythonFile, wrapper: ast.Call, prepare: ast.Call) -> dict | None:
    """The move of ``prepare``'s statement before ``wrapper``'s, or None where it is not safe
    (see the module docstring); the dict is ``Step.detail["move"]`` (lorlint/site.py)."""
    scope = file.scopes.call_scope.get(wrapper)
    if scope is None or scope is not file.scopes.call_scope.get(prepare):
        return None
    found = _block_of(scope.node, wrapper, prepare)
    if found is None:
        return None
    body, first, last = found
    wrap_stmt, prep_stmt = body[first], body[last]
    name = _wrapping_name(wrap_stmt, wrapper)
    if name is None or not _prepares(prep_stmt, prepare, name):
        return None
    if prep_stmt.end_lineno - wrap_stmt.lineno >= MAX_ROWS or wrap_stmt.lineno == 1:
        return None
    # every statement between them is read: a reduced text must hold them all, as the file does
    file.needs.rows.update(range(wrap_stmt.lineno, prep_stmt.end_lineno + 1))
    if not all(_inert(statement, name) for statement in body[first + 1 : last]):
        return None
    return _texts(file, wrap_stmt, prep_stmt)


def _block_of(root: ast.AST, wrapper: ast.Call, prepare: ast.Call):
    """(the statement list, index of ``wrapper``'s statement, index of ``prepare``'s) when both
    are whole statements of one block, ``wrapper``'s first."""
    for node in ast.walk(root):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            values = [getattr(statement, "value", None) for statement in body]
            if wrapper in values and prepare in values:
                first, last = values.index(wrapper), values.index(prepare)
                return (body, first, last) if first < last else None
    return None


def _wrapping_name(statement: ast.stmt, wrapper: ast.Call) -> str | None:
    """``X`` of ``X = get_peft_model(X, ...)`` / ``X = PeftModel.from_pretrained(X, ...)``."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
        return None
    target, model = statement.targets[0], _argument_at(wrapper, 0, "model")
    if not (isinstance(target, ast.Name) and isinstance(model, ast.Name)):
        return None
    return target.id if model.id == target.id else None


def _prepares(statement: ast.stmt, prepare: ast.Call, name: str) -> bool:
    """``[X =] prepare_model_for_kbit_training(X, <literals>)``."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
        if len(targets) != 1 or not (isinstance(targets[0], ast.Name) and targets[0].id == name):
            return False
    elif not isinstance(statement, ast.Expr):
        return False
    model = _argument_at(prepare, 0, "model")
    if not (isinstance(model, ast.Name) and model.id == name):
        return False
    others = [a for a in prepare.args if a is not model]
    others += [k.value for k in prepare.keywords if k.value is not model]
    return all(k.arg is not None for k in prepare.keywords) and all(map(_literal, others))


def _literal(node: ast.expr) -> bool:
    """A value that is the same wherever it is evaluated (``True``, ``{"use_reentrant": False}``)."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _inert(statement: ast.stmt, name: str) -> bool:
    """``X.print_trainable_parameters()``."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and not call.args
        and not call.keywords
        and _last_name(call.func) == "print_trainable_parameters"
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == name
    )


def _texts(file: PythonFile, wrap_stmt: ast.stmt, prep_stmt: ast.stmt) -> dict | None:
    """The cut (whole lines) and what was seen from ``wrap_stmt``'s row to its end."""
    text = file.text
    wrap_line = file.row_start(wrap_stmt.lineno)
    prep_line = file.row_start(prep_stmt.lineno)
    wrap_at = file.offset_of(wrap_stmt.lineno, wrap_stmt.col_offset)
    prep_at = file.offset_of(prep_stmt.lineno, prep_stmt.col_offset)
    indent = text[prep_line:prep_at]
    if text[wrap_line:wrap_at] != indent or indent.strip(" \t"):
        return None
    end = file.offset_of(prep_stmt.end_lineno, prep_stmt.end_col_offset)
    tail = _TAIL.match(text, end)
    if tail.end() < len(text) and not tail.group(2):
        return None  # more code on the line (``;``)
    end = tail.end()
    return {
        "row": wrap_stmt.lineno,
        "cut": [*file.position_of(prep_line), *file.position_of(end)],
        "seen": text[wrap_line:end],
    }
