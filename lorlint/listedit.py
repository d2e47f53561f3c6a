"""Structural edits of one list/tuple/set display with libcst: rename, remove and append entries.

Only the display's own text is parsed (``libcst.parse_expression``), so a fix never depends on
the rest of the file. Layout and comments are libcst's nodes, kept as they are: the comment after
an entry stays with that entry, own-line comments stay where they are, a removed entry's trailing
comment is dropped with it or (``keep_comments``) kept as a line of its own, and appended entries
follow the display's layout (one per line at the entries' indentation, or ``, ``-separated; a
trailing comma stays a trailing comma). libcst is imported only here, when a fix is applied.
"""

from __future__ import annotations

import libcst as cst

from lorlint.textpos import line_ending

_Whitespace = cst.SimpleWhitespace | cst.ParenthesizedWhitespace


class _Display:
    """The display as (value, comma-or-None) pairs between its opening and closing whitespace."""

    def __init__(self, node: cst.List | cst.Tuple | cst.Set):
        self.node = node
        if isinstance(node, cst.List):
            self.opening, self.closing = node.lbracket, node.rbracket
        elif isinstance(node, cst.Set):
            self.opening, self.closing = node.lbrace, node.rbrace
        else:
            self.opening, self.closing = node.lpar[0], node.rpar[-1]
        self.open_ws: _Whitespace = self.opening.whitespace_after
        self.close_ws: _Whitespace = self.closing.whitespace_before
        self.items: list[list] = [
            [e.value, e.comma if isinstance(e.comma, cst.Comma) else None] for e in node.elements
        ]
        last_comma = self.items[-1][1] if self.items else None
        if last_comma is not None:
            # libcst keeps what follows a trailing comma in the closing bracket; here it is the
            # comma's, like after any other comma (the text is the same)
            self.items[-1][1] = last_comma.with_changes(
                whitespace_after=_join(last_comma.whitespace_after, self.close_ws)
            )
            self.close_ws = cst.SimpleWhitespace("")

    def ws_before(self, i: int) -> _Whitespace:
        return self.open_ws if i == 0 else self.items[i - 1][1].whitespace_after

    def set_ws_before(self, i: int, ws: _Whitespace) -> None:
        if i == 0:
            self.open_ws = ws
        else:
            comma = self.items[i - 1][1]
            self.items[i - 1][1] = comma.with_changes(whitespace_after=ws)

    def build(self) -> cst.BaseExpression:
        elements = [
            cst.Element(value, comma if comma is not None else cst.MaybeSentinel.DEFAULT)
            for value, comma in self.items
        ]
        opening = self.opening.with_changes(whitespace_after=self.open_ws)
        closing = self.closing.with_changes(whitespace_before=self.close_ws)
        if isinstance(self.node, cst.List):
            return self.node.with_changes(elements=elements, lbracket=opening, rbracket=closing)
        if isinstance(self.node, cst.Set):
            return self.node.with_changes(elements=elements, lbrace=opening, rbrace=closing)
        return self.node.with_changes(elements=elements, lpar=[opening], rpar=[closing])


def _join(first: _Whitespace, second: _Whitespace) -> _Whitespace:
    """One whitespace node for two consecutive ones (the first is a plain space run)."""
    if isinstance(first, cst.ParenthesizedWhitespace) or not first.value:
        return second if not isinstance(first, cst.ParenthesizedWhitespace) else first
    if isinstance(second, cst.ParenthesizedWhitespace):
        line = second.first_line
        spaces = cst.SimpleWhitespace(first.value + line.whitespace.value)
        return second.with_changes(first_line=line.with_changes(whitespace=spaces))
    return cst.SimpleWhitespace(first.value + second.value)


def _comments(ws) -> list[cst.Comment]:
    if not isinstance(ws, cst.ParenthesizedWhitespace):
        return []
    found = [ws.first_line.comment] + [line.comment for line in ws.empty_lines]
    return [c for c in found if c is not None]


def _paren(ws, first_line=None, empty_lines=(), tail=None) -> cst.ParenthesizedWhitespace:
    """Parenthesized whitespace whose last line (the next token's indentation) comes from
    ``tail`` (or ``ws``)."""
    tail = tail if tail is not None else ws
    return cst.ParenthesizedWhitespace(
        first_line=first_line or cst.TrailingWhitespace(),
        empty_lines=list(empty_lines),
        indent=tail.indent,
        last_line=tail.last_line,
    )


def _merge(before, after, moved: list[cst.Comment], at_end: bool = False) -> _Whitespace:
    """The whitespace left where an entry was: what followed the token before it (that entry's
    comment), the own-line comments around it, ``moved`` comments as lines of their own, and the
    indentation of whatever comes next. The removed entry's own line is not kept. Between two
    plain spaces, the one beside the bracket stays (``at_end``: the closing one)."""
    paren_before = isinstance(before, cst.ParenthesizedWhitespace)
    paren_after = isinstance(after, cst.ParenthesizedWhitespace)
    if not moved and not paren_after:
        return after if at_end and not paren_before else before
    if not moved and not paren_before:
        return _paren(after, empty_lines=after.empty_lines)
    tail = after if paren_after else before if paren_before else None
    indent = (before if paren_before else tail).last_line.value if tail is not None else ""
    lines = list(before.empty_lines) if paren_before else []
    lines += [
        cst.EmptyLine(indent=True, whitespace=cst.SimpleWhitespace(indent), comment=c)
        for c in moved
    ]
    lines += list(after.empty_lines) if paren_after else []
    first = before.first_line if paren_before else None
    if tail is None:  # comments out of a one-line display: close it on a line of its own
        return cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(),
            empty_lines=lines,
            last_line=cst.SimpleWhitespace(""),
        )
    return _paren(tail, first_line=first, empty_lines=lines)


def _own_comments(comma: cst.Comma, after) -> list[cst.Comment]:
    """An entry's own comments: before its comma, and after it on the same line."""
    own = _comments(comma.whitespace_before) if comma is not None else []
    if isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None:
        own.append(after.first_line.comment)
    return own


def _remove(display: _Display, i: int, keep_comments: bool) -> None:
    items = display.items
    comma = items[i][1]
    if comma is not None:  # the entry and its comma go; what followed the comma stays
        before, after = display.ws_before(i), comma.whitespace_after
        own = _own_comments(comma, after)
        del items[i]
        display.set_ws_before(i, _merge(before, after, own if keep_comments else []))
        return
    # the last entry, with no trailing comma: the comma before it goes instead
    prev_comma, after = items[i - 1][1], display.close_ws
    own = _own_comments(None, after)
    moved = _comments(prev_comma.whitespace_before) + (own if keep_comments else [])
    del items[i]
    items[i - 1][1] = None
    display.close_ws = _merge(prev_comma.whitespace_after, after, moved, at_end=True)


def _separator(display: _Display) -> _Whitespace:
    """The whitespace that goes between two entries in this display's layout."""
    items = display.items
    ref = display.ws_before(len(items) - 1)
    if isinstance(ref, cst.ParenthesizedWhitespace):
        return _paren(ref)
    if len(items) == 1 and not ref.value:
        return cst.SimpleWhitespace(" ")
    return ref


def _append(display: _Display, codes: tuple[str, ...]) -> None:
    items = display.items
    sep = _separator(display)
    comma = items[-1][1]
    trailing = comma is not None
    end = comma.whitespace_after if trailing else display.close_ws
    if isinstance(end, cst.ParenthesizedWhitespace):
        # the last entry keeps its comment and the own-line comments below it
        tail = sep if isinstance(sep, cst.ParenthesizedWhitespace) else end
        after_last = _paren(tail, first_line=end.first_line, empty_lines=end.empty_lines)
        closing = _paren(end)
    else:
        after_last, closing = sep, end
    before_comma = comma.whitespace_before if trailing else cst.SimpleWhitespace("")
    items[-1][1] = cst.Comma(whitespace_before=before_comma, whitespace_after=after_last)
    for n, code in enumerate(codes):
        last = n == len(codes) - 1
        new_comma = cst.Comma(whitespace_after=closing if last else sep)
        items.append([cst.SimpleString(code), new_comma if (trailing or not last) else None])
    if not trailing:
        display.close_ws = closing


def edit_display(
    text: str, entries: tuple[str | None, ...], appended: tuple[str, ...], keep_comments: bool
) -> str | None:
    """The display's new text, or None when ``text`` is not a display of ``len(entries)``
    plain strings. ``entries``: per element None (remove), "" (keep) or a string literal."""
    newline = line_ending(text)
    try:
        config = cst.PartialParserConfig(default_newline=newline)
        node = cst.parse_expression(text, config=config)
    except (cst.ParserSyntaxError, ValueError, RecursionError):
        return None
    if isinstance(node, cst.Tuple):
        if len(node.lpar) != 1 or len(node.rpar) != 1:
            return None
    elif not isinstance(node, (cst.List, cst.Set)) or node.lpar:
        return None
    if len(node.elements) != len(entries) or not all(
        isinstance(e, cst.Element) and isinstance(e.value, cst.SimpleString) for e in node.elements
    ):
        return None
    display = _Display(node)
    for item, code in zip(display.items, entries, strict=True):
        if code:
            item[0] = item[0].with_changes(value=code)
    for i in reversed(range(len(entries))):
        if entries[i] is None and len(display.items) > 1:
            _remove(display, i, keep_comments)
    if appended:
        _append(display, appended)
    if isinstance(node, cst.Tuple) and len(display.items) == 1 and display.items[0][1] is None:
        display.items[0][1] = cst.Comma()  # ("a",): a one-element tuple keeps its comma
    return cst.Module(body=[], default_newline=newline).code_for_node(display.build())
