"""Which assignments of a name can reach a use of it, in structured code.

``if resume: model = A(...) else: model = B(...)`` followed by a use of ``model``: both
assignments reach it, and where they disagree about something a rule needs, that thing is
unknown. An assignment stops the earlier ones from reaching a use only when it *dominates* the use:
it sits, before the use, directly in a statement list the use is nested in (a ``with`` block counts
as straight-line code; a branch, a loop body, a ``try`` body or handler does not).

Loops are read once, in order: an assignment later in a loop body is not taken to reach a use
earlier in it (the next iteration), as before this module existed.
"""

from __future__ import annotations

import ast
from bisect import bisect_right

_TRANSPARENT = (ast.With, ast.AsyncWith)


def _bodies(stmt: ast.stmt) -> list[tuple[ast.AST, str, list[ast.stmt]]]:
    """The statement lists directly inside a compound statement (not function or class
    bodies: those are other scopes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    out = []
    for field in ("body", "orelse", "finalbody"):
        stmts = getattr(stmt, field, None)
        if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
            out.append((stmt, field, stmts))
    for handler in getattr(stmt, "handlers", ()):
        out.append((handler, "body", handler.body))
    for case in getattr(stmt, "cases", ()):
        out.append((case, "body", case.body))
    return out


def path_to(
    root: ast.AST, position: tuple[int, int], starts_of: dict[int, list] | None = None
) -> list[tuple[ast.AST, str, int]]:
    """The statements around ``position`` from ``root``'s body inwards: (owner, field, index)
    at each level (a position after the last top-level statement: one past it). ``starts_of``:
    id(statement list) → its statements' positions, kept by the caller for one tree."""
    out: list[tuple[ast.AST, str, int]] = []
    lists = [(root, "body", root.body)]
    while lists:
        for owner, field, stmts in lists:
            starts = starts_of.get(id(stmts)) if starts_of is not None else None
            if starts is None:
                starts = [(s.lineno, s.col_offset) for s in stmts]
                if starts_of is not None:
                    starts_of[id(stmts)] = starts
            i = bisect_right(starts, position) - 1
            if i >= 0:
                stmt = stmts[i]
                if position <= (stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0):
                    out.append((owner, field, i))
                    lists = _bodies(stmt)
                    break
                if owner is root:  # past the module's statements: its end, once it has run
                    out.append((owner, field, i + 1))
        else:
            break
    return out


def dominates(
    binding_path: list[tuple[ast.AST, str, int]], use_path: list[tuple[ast.AST, str, int]]
) -> bool:
    """Does the statement at ``binding_path`` run on every path to the use at ``use_path``?"""
    return any(
        _earlier_in_same_list(binding_path, use_path, depth)
        for depth in range(1, len(binding_path) + 1)
    )


def _earlier_in_same_list(binding_path, use_path, depth: int) -> bool:
    """Both paths agree above ``depth`` and the binding is earlier in the list at ``depth``
    (every level of the binding below it being a ``with`` block)."""
    if depth == 0 or depth > len(use_path) or depth > len(binding_path):
        return False
    for k in range(depth - 1):
        if binding_path[k] != use_path[k]:
            return False
    b_owner, b_field, b_index = binding_path[depth - 1]
    u_owner, u_field, u_index = use_path[depth - 1]
    if b_owner is not u_owner or b_field != u_field or b_index >= u_index:
        return False
    return all(isinstance(level[0], _TRANSPARENT) for level in binding_path[depth:])


# Blocks that run straight through once entered: no loop repeats them, no handler catches midway.
_STRAIGHT = (ast.If, ast.With, ast.AsyncWith, ast.match_case)


def kills(
    earlier: list[tuple[ast.AST, str, int]],
    later: list[tuple[ast.AST, str, int]],
    use_path: list[tuple[ast.AST, str, int]],
) -> bool:
    """Does the assignment at ``later`` overwrite the one at ``earlier`` on every path from it to
    the use? ``if __name__ == "__main__": model = A(); ...; model = B()`` then, after the ``if``,
    a use of ``model``: only ``B`` reaches it. Both must sit in one block that runs straight
    through (``if`` / ``with`` / ``match`` arms, never a loop or ``try`` between them and the use's
    statement list), ``later`` directly (or in ``with`` blocks) after ``earlier``."""
    if not earlier or not later:
        return False
    # the depth where ``earlier`` and the use part: siblings in one list, ``earlier`` first
    m = next((d for d, (a, b) in enumerate(zip(earlier, use_path, strict=False)) if a != b), None)
    if m is None:
        return False
    (e_owner, e_field, e_index), (u_owner, u_field, u_index) = earlier[m], use_path[m]
    if e_owner is not u_owner or e_field != u_field or e_index >= u_index:
        return False
    for k in range(m + 1, min(len(earlier), len(later))):
        if later[:k] != earlier[:k]:
            return False
        if not isinstance(earlier[k][0], _STRAIGHT):
            return False
        (b_owner, b_field, b_index), (l_owner, l_field, l_index) = earlier[k], later[k]
        if b_owner is l_owner and b_field == l_field and b_index < l_index:
            return all(isinstance(level[0], _TRANSPARENT) for level in later[k + 1 :])
    return False


def exclusive(path: list[tuple[ast.AST, str, int]], other: list[tuple[ast.AST, str, int]]) -> bool:
    """Are the statements at ``path`` and ``other`` in different arms of one ``if`` / ``match``
    / ``try`` handler list, so that no run executes both?"""
    for mine, theirs in zip(path, other, strict=False):
        if mine == theirs:
            continue
        (m_owner, m_field, _), (t_owner, t_field, _) = mine, theirs
        if m_owner is t_owner:
            return isinstance(m_owner, ast.If) and m_field != t_field
        arms = (ast.ExceptHandler, ast.match_case)
        return any(isinstance(m_owner, a) and isinstance(t_owner, a) for a in arms)
    return False


def conditional(
    path: list[tuple[ast.AST, str, int]], other: list[tuple[ast.AST, str, int]]
) -> bool:
    """May the statement at ``path`` not run in a run that executes the one at ``other``? It
    sits, below what the two share, inside a branch, loop or ``try`` (``with`` blocks do not
    count)."""
    k = next((d for d, (a, b) in enumerate(zip(path, other, strict=False)) if a != b), None)
    if k is None:
        k = min(len(path), len(other))
        below = path[k:]
    elif path[k][0] is other[k][0] and path[k][1] == other[k][1]:
        below = path[k + 1 :]  # siblings in one list: what is inside the step's statement
    else:
        below = path[k:]
    return any(not isinstance(level[0], _TRANSPARENT) for level in below)
