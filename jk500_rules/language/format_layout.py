"""The formatter's layout: the lark tree (every token kept) -> rows, where the grammar decides lines start."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lark import Token, Tree

from .format_pieces import Blank, Piece, Row, flatten, flatten_all, synthetic_comma

# Item kinds whose consecutive lines may stay adjacent; events, rules and amendments are not here.
_LINE_KINDS = {
    "protocol_decl": "header",
    "version_decl": "header",
    "governed_decl": "header",
    "criterion_decl": "criterion",
    "group_decl": "group",
    "subject_decl": "subject",
    "param_decl": "parameter",
    "site_decl": "site",
    "periodic_schedule_decl": "schedule",
    "withdraw_decl": "withdraw",
}
_VERDICTS = {"require", "forbid", "require_exists", "forbid_exists"}


class Layout:
    """The lark tree (every token kept) -> rows: the grammar's structure decides where lines start."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def row(self, level: int, cont: int, blank: Blank, pieces: Sequence[Piece] = (), **kw: Any) -> Row:
        row = Row(level, cont, blank, list(pieces), **kw)
        self.rows.append(row)
        return row

    def items(self, items: list[Tree], level: int, first: Blank) -> None:
        previous: str | None = None
        for index, item in enumerate(items):
            kind = _LINE_KINDS.get(item.data)
            blank: Blank = first if index == 0 else "author" if kind is not None and kind == previous else "always"
            getattr(self, "_" + item.data, self._line)(item, level, blank)
            previous = kind

    def _line(self, item: Tree, level: int, blank: Blank) -> None:
        self.row(level, level + 1, blank, flatten(item, level + 1))

    def _criterion_decl(self, item: Tree, level: int, blank: Blank) -> None:
        manual = _index(item, "MANUAL")
        self.row(level, level + 1, blank, flatten_all(item.children[:manual], level + 1, item.data))
        if manual < len(item.children):
            self.row(level + 1, level + 2, "never", flatten_all(item.children[manual:], level + 2, item.data))

    def _param_decl(self, item: Tree, level: int, blank: Blank) -> None:
        *head, last = item.children
        choice = last if isinstance(last, Tree) and last.data == "choice" else None
        value = head[-1] if choice else last
        if choice is not None:
            head = head[:-1]
        row = self.row(level, level + 1, blank, flatten_all(head, level + 1, item.data))
        if value.data == "table" and _spans_lines(value):
            self._table_block(value, row, level)
        else:
            row.pieces += flatten(value, level + 1, drop_trailing_comma=True)
        if choice is not None:
            self.row(level + 1, level + 2, "never", flatten(choice, level + 2))

    def _state_decl(self, item: Tree, level: int, blank: Blank) -> None:
        """`state NAME ... =`, then `starts at ...` and `ends at ...` one level in, a line each."""
        children = item.children
        starts = next(i for i, c in enumerate(children) if isinstance(c, Token) and c.value == "starts")
        end = next((i for i, c in enumerate(children) if isinstance(c, Tree) and c.data == "state_end"), len(children))
        self.row(level, level + 1, blank, flatten_all(children[:starts], level + 1, item.data))
        self.row(level + 1, level + 2, "never", flatten_all(children[starts:end], level + 2, item.data))
        if end < len(children):
            self.row(level + 1, level + 2, "never", flatten_all(children[end:], level + 2, item.data))

    def _formula_decl(self, item: Tree, level: int, blank: Blank) -> None:
        """`formula NAME "label" in UNIT =`, then the expression one level in, then `empirical "..."`."""
        children = item.children
        equals = next(i for i, c in enumerate(children) if isinstance(c, Token) and c.value == "=")
        empirical = next((i for i, c in enumerate(children) if isinstance(c, Tree) and c.data == "formula_empirical"),
                         len(children))
        self.row(level, level + 1, blank, flatten_all(children[:equals + 1], level + 1, item.data))
        self.row(level + 1, level + 2, "never", flatten_all(children[equals + 1:empirical], level + 2, item.data))
        if empirical < len(children):
            self.row(level + 1, level + 2, "never", flatten_all(children[empirical:], level + 2, item.data))

    def _table_block(self, table: Tree, row: Row, level: int) -> None:
        brace = _index(table, "LBRACE")
        row.pieces += flatten_all(table.children[: brace + 1], level + 1, "table")
        children = table.children
        entries = [position for position, child in enumerate(children) if isinstance(child, Tree)]
        for number, position in enumerate(entries):
            pieces = flatten(children[position], level + 2)
            after = children[position + 1]
            if isinstance(after, Token) and after.type == "COMMA":
                pieces.append(Piece(after, glue=True))
            else:
                pieces.append(Piece(synthetic_comma(pieces[-1].token), glue=True, synthetic=True))
            self.row(level + 1, level + 2, "never" if number == 0 else "author", pieces)
        self._close(table.children[-1], level)

    def _event_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, flatten_all(item.children[: brace + 1], level + 1, item.data))
        for number, child in enumerate(item.children[brace + 1 : -1]):
            self.row(level + 1, level + 2, "never" if number == 0 else "author", flatten(child, level + 2))
        self._close(item.children[-1], level)

    _schedule_decl = _event_decl  # a header, one visit a line, the closing brace

    def _amendment_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, flatten_all(item.children[: brace + 1], level + 1, item.data))
        self.items(item.children[brace + 1 : -1], level + 1, "never")
        self._close(item.children[-1], level)

    def _rule_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, flatten_all(item.children[: brace + 1], level + 1, item.data))
        *attributes, check = item.children[brace + 1 : -1]
        for number, attribute in enumerate(attributes):
            self.row(level + 1, level + 2, "never" if number == 0 else "author", flatten(attribute, level + 2))
        self._check(check, level, "never" if not attributes else "author")
        self._close(item.children[-1], level)

    def _check(self, check: Tree, level: int, blank: Blank) -> None:
        clause, cont = level + 2, level + 3
        row = self.row(level + 1, cont, blank, flatten_all(check.children[:2], cont, "check"))
        rest = check.children[2:]
        if isinstance(rest[0], Token):
            row.pieces.append(Piece(rest[0], brk="kw", break_level=clause))
            row.pieces += flatten(rest[1], cont)
            rest = rest[2:]
        for child in rest:
            due = child.children[-1] if child.data in _VERDICTS else None
            if not (isinstance(due, Tree) and due.data == "due"):
                due = None
            body = child.children[:-1] if due is not None else child.children
            self.row(clause, cont, "author", flatten_all(body, cont, child.data))
            if due is not None:
                self.row(clause, cont, "author", flatten(due, cont))

    def _close(self, brace: Token, level: int) -> None:
        self.row(level, level + 1, "never", [Piece(brace)], comment_level=level + 1)


def _index(tree: Tree, token_type: str) -> int:
    """Position of the first child token of a type, or the number of children if there is none."""
    for position, child in enumerate(tree.children):
        if isinstance(child, Token) and child.type == token_type:
            return position
    return len(tree.children)


def _spans_lines(tree: Tree) -> bool:
    return tree.meta.line != tree.meta.end_line
