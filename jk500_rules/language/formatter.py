"""Rules text -> its canonical layout, comments kept, so that a diff of protocol.rules shows meaning only.

The layout, stable under a second pass (`format_source(format_source(x)) == format_source(x)`):

- Four spaces per level of nesting. Top-level items, then the items of an `amendment`, one a line.
- One blank line between items, except that items of one kind written without a blank line between
  them (consecutive `criterion`, `parameter`, `group`, `subject`, `withdraw` lines, or the
  `protocol`/`version`/`governed by` header lines) stay adjacent. Events, rules and amendments
  always have a blank line around them.
- Blocks: `{` ends the item's first line, `}` stands alone at the item's level. One field per line in
  `event { }`, one attribute per line in `rule { }`, one item per line in `amendment { }`.
- Inside a rule: `for SOURCE` one level in; `needs`, `require`/`forbid`, `judged from` and `unless`
  clauses two levels in. The rule's `where` stays on the `for` line unless the author put it on a
  line of its own, where it is two levels in.
- A long clause keeps the author's line breaks at `and`/`or` (a break just before or just after the
  operator becomes a break before it), before a clause's `where` or `otherwise`, and after the commas
  of a list. A continuation line is three levels in (the clause's level plus one), or, inside an
  open `(`, aligned just after it. Any other break is joined into one line.
- `manual "..."` and `choice "..."` continue their criterion or parameter one level in.
- A table parameter stays on one line, `by x { 1: 1e6 cells/kg, 2: 5e6 cells/kg }`, when the author
  wrote it on one line; otherwise one entry per line, each with its comma, and `}` on its own line.
- Single spaces between words and around operators, one after each comma, none inside `()`/`[]`,
  before `:` or around the `.`, `-` and `/` of names, rule ids and units. Words, strings, numbers
  and units are kept exactly as written (`1e6` stays `1e6`).
- Comments: each is kept, in order, before the same token. A comment alone on its line stays alone on
  its line, indented as the line it precedes (inside a block before `}`: as the block's contents); a
  comment after code stays at the end of the line holding the same code, starting at column 36 or
  two spaces after the code, whichever is further right. A break after a trailing comment is kept.
- Blank lines: at most one in a row; the author's blank lines between lines of a block are kept,
  never just after `{`, just before `}` or inside a clause. No trailing whitespace; one final newline.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from lark import Lark, Token, Tree

from . import nodes as n
from ..errors import Diagnostic, RulesError, Span
from .grammar import make_lark
from .parser import parse

INDENT = "    "
COMMENT_COLUMN = 36

Blank = Literal["never", "author", "always"]

_COMMENTS: ContextVar[list[Token]] = ContextVar("comments")

# Item kinds whose consecutive lines may stay adjacent; events, rules and amendments are not here.
_LINE_KINDS = {
    "protocol_decl": "header",
    "version_decl": "header",
    "governed_decl": "header",
    "criterion_decl": "criterion",
    "group_decl": "group",
    "subject_decl": "subject",
    "param_decl": "parameter",
    "withdraw_decl": "withdraw",
}
_GLUE_BEFORE = {",", ")", "]", ":", "[", "."}
_GLUE_AFTER = {"(", "[", "."}
_GLUED_INSIDE = {"rule_id", "unit"}
_LISTS = {"member", "not_member", "group_decl", "cites_criteria"}
_SOUGHT = {"need", "excuse", "require_exists", "forbid_exists"}
_VERDICTS = {"require", "forbid", "require_exists", "forbid_exists"}


@dataclass(eq=False)
class _Piece:
    """One token to print, with what decides the space and the line break before it.

    `brk` names the breaks an author may keep before it: at an and/or operator ("op"), at a list
    item after a comma ("item"), at a clause's `where`/`otherwise` ("kw").
    """

    token: Token
    glue: bool = False
    brk: Literal["", "op", "item", "kw"] = ""
    break_level: int | None = None
    author_break: bool = False
    synthetic: bool = False
    leading: list[Token] = field(default_factory=list)
    trailing: Token | None = None


@dataclass(eq=False)
class _Row:
    """A line the layout starts; it may run onto continuation lines."""

    level: int
    cont: int
    blank: Blank
    pieces: list[_Piece] = field(default_factory=list)
    comment_level: int | None = None


def format_source(text: str, filename: str = "<rules>") -> str:
    """The canonical layout of `text`; RulesError, as from `parse`, if it does not parse."""
    protocol = parse(text, filename)
    comments: list[Token] = []
    reset = _COMMENTS.set(comments)
    try:
        tree = _lark().parse(text)
    finally:
        _COMMENTS.reset(reset)
    layout = _Layout()
    layout.items(tree.children, 0, "author")
    ends = _attach(layout.rows, comments, text)
    result = _Printer().print(layout.rows, ends)
    _check_meaning(protocol, result, filename, text)
    return result


def _check_meaning(protocol: n.Protocol, result: str, filename: str, text: str) -> None:
    """A formatter bug must not reach a protocol file: the new text has to parse to the same tree."""
    try:
        same = _shape(parse(result, filename)) == _shape(protocol)
    except RulesError:
        same = False
    if not same:
        message = "the formatter would change what this file means (a formatter bug); it is left as it is"
        raise RulesError(filename, text, [Diagnostic(message, None)])


@functools.cache
def _lark() -> Lark:
    """The parser with every token kept; it hands the comments it skips to the current call's list."""
    return make_lark(keep_all_tokens=True,
                     lexer_callbacks={"COMMENT": lambda comment: _COMMENTS.get().append(comment)})


def _shape(node: Any) -> Any:
    """A node tree without its spans: what two layouts of one text must share."""
    if isinstance(node, Span):
        return None
    if isinstance(node, n.Node):
        return type(node).__name__, tuple(
            (f.name, _shape(getattr(node, f.name))) for f in dataclasses.fields(node) if f.name != "span"
        )
    if isinstance(node, tuple):
        return tuple(_shape(item) for item in node)
    return node


class _Layout:
    """The lark tree (every token kept) -> rows: the grammar's structure decides where lines start."""

    def __init__(self) -> None:
        self.rows: list[_Row] = []

    def row(self, level: int, cont: int, blank: Blank, pieces: Sequence[_Piece] = (), **kw: Any) -> _Row:
        row = _Row(level, cont, blank, list(pieces), **kw)
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
        self.row(level, level + 1, blank, _flatten(item, level + 1))

    def _criterion_decl(self, item: Tree, level: int, blank: Blank) -> None:
        manual = _index(item, "MANUAL")
        self.row(level, level + 1, blank, _flatten_all(item.children[:manual], level + 1, item.data))
        if manual < len(item.children):
            self.row(level + 1, level + 2, "never", _flatten_all(item.children[manual:], level + 2, item.data))

    def _param_decl(self, item: Tree, level: int, blank: Blank) -> None:
        *head, last = item.children
        choice = last if isinstance(last, Tree) and last.data == "choice" else None
        value = head[-1] if choice else last
        if choice is not None:
            head = head[:-1]
        row = self.row(level, level + 1, blank, _flatten_all(head, level + 1, item.data))
        if value.data == "table" and _spans_lines(value):
            self._table_block(value, row, level)
        else:
            row.pieces += _flatten(value, level + 1, drop_trailing_comma=True)
        if choice is not None:
            self.row(level + 1, level + 2, "never", _flatten(choice, level + 2))

    def _table_block(self, table: Tree, row: _Row, level: int) -> None:
        brace = _index(table, "LBRACE")
        row.pieces += _flatten_all(table.children[: brace + 1], level + 1, "table")
        children = table.children
        entries = [position for position, child in enumerate(children) if isinstance(child, Tree)]
        for number, position in enumerate(entries):
            pieces = _flatten(children[position], level + 2)
            after = children[position + 1]
            if isinstance(after, Token) and after.type == "COMMA":
                pieces.append(_Piece(after, glue=True))
            else:
                pieces.append(_Piece(_synthetic(pieces[-1].token, ","), glue=True, synthetic=True))
            self.row(level + 1, level + 2, "never" if number == 0 else "author", pieces)
        self._close(table.children[-1], level)

    def _event_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, _flatten_all(item.children[: brace + 1], level + 1, item.data))
        for number, child in enumerate(item.children[brace + 1 : -1]):
            self.row(level + 1, level + 2, "never" if number == 0 else "author", _flatten(child, level + 2))
        self._close(item.children[-1], level)

    def _amendment_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, _flatten_all(item.children[: brace + 1], level + 1, item.data))
        self.items(item.children[brace + 1 : -1], level + 1, "never")
        self._close(item.children[-1], level)

    def _rule_decl(self, item: Tree, level: int, blank: Blank) -> None:
        brace = _index(item, "LBRACE")
        self.row(level, level + 1, blank, _flatten_all(item.children[: brace + 1], level + 1, item.data))
        *attributes, check = item.children[brace + 1 : -1]
        for number, attribute in enumerate(attributes):
            self.row(level + 1, level + 2, "never" if number == 0 else "author", _flatten(attribute, level + 2))
        self._check(check, level, "never" if not attributes else "author")
        self._close(item.children[-1], level)

    def _check(self, check: Tree, level: int, blank: Blank) -> None:
        clause, cont = level + 2, level + 3
        row = self.row(level + 1, cont, blank, _flatten_all(check.children[:2], cont, "check"))
        rest = check.children[2:]
        if isinstance(rest[0], Token):
            row.pieces.append(_Piece(rest[0], brk="kw", break_level=clause))
            row.pieces += _flatten(rest[1], cont)
            rest = rest[2:]
        for child in rest:
            due = child.children[-1] if child.data in _VERDICTS else None
            if not (isinstance(due, Tree) and due.data == "due"):
                due = None
            body = child.children[:-1] if due is not None else child.children
            self.row(clause, cont, "author", _flatten_all(body, cont, child.data))
            if due is not None:
                self.row(clause, cont, "author", _flatten(due, cont))

    def _close(self, brace: Token, level: int) -> None:
        self.row(level, level + 1, "never", [_Piece(brace)], comment_level=level + 1)


def _index(tree: Tree, token_type: str) -> int:
    """Position of the first child token of a type, or the number of children if there is none."""
    for position, child in enumerate(tree.children):
        if isinstance(child, Token) and child.type == token_type:
            return position
    return len(tree.children)


def _spans_lines(tree: Tree) -> bool:
    return tree.meta.line != tree.meta.end_line


def _synthetic(after: Token, text: str) -> Token:
    return Token(
        "COMMA", text, after.end_pos, after.end_line, after.end_column, after.end_line, after.end_column, after.end_pos
    )


def _flatten(tree: Tree, cont: int, drop_trailing_comma: bool = False) -> list[_Piece]:
    return _flatten_all(tree.children, cont, tree.data, drop_trailing_comma)


def _flatten_all(children: list[Any], cont: int, parent: str, drop_trailing_comma: bool = False) -> list[_Piece]:
    """Pieces of some children of a `parent` tree, in source order, with their spacing and breaks."""
    pieces: list[_Piece] = []

    def walk(children: list[Any], parent: str) -> None:
        after_comma = False
        for position, child in enumerate(children):
            start = len(pieces)
            if isinstance(child, Tree):
                walk(child.children, child.data)
            elif drop_trailing_comma and parent == "table" and child.type == "COMMA" and position + 2 == len(children):
                continue
            else:
                piece = _Piece(child)
                value = str(child)
                glued_inside = parent in _GLUED_INSIDE and position > 0
                previous = str(pieces[-1].token) if pieces else ""
                piece.glue = value in _GLUE_BEFORE or previous in _GLUE_AFTER or glued_inside
                if parent in ("or_", "and_") and child.type in ("OR", "AND"):
                    piece.brk = "op"
                elif child.type in ("WHERE", "OTHERWISE") and parent in _SOUGHT:
                    piece.brk = "kw"
                pieces.append(piece)
            if after_comma and len(pieces) > start and parent in _LISTS:
                pieces[start].brk = "item"
            after_comma = isinstance(child, Token) and child.type == "COMMA"

    walk(children, parent)
    for piece in pieces:
        if piece.brk and piece.break_level is None:
            piece.break_level = cont
    return pieces


def _gap(before: _Piece, after: _Piece) -> bool:
    return after.token.line > before.token.end_line


def _attach(rows: list[_Row], comments: list[Token], text: str) -> list[Token]:
    """Hang each comment on the piece it precedes or follows, then note the author's kept breaks.

    Returns the comments after the last piece, which end the file.
    """
    pieces = [p for row in rows for p in row.pieces if not p.synthetic]
    starts = [p.token.start_pos for p in pieces]
    ends: list[Token] = []
    for comment in comments:
        index = bisect.bisect(starts, comment.start_pos)
        line_start = text.rfind("\n", 0, comment.start_pos) + 1
        own_line = not text[line_start : comment.start_pos].strip()
        if not own_line and index > 0 and pieces[index - 1].trailing is None:
            pieces[index - 1].trailing = comment
        elif index < len(pieces):
            pieces[index].leading.append(comment)
        else:
            ends.append(comment)
    for row in rows:
        for i, p in enumerate(row.pieces[1:], 1):
            before = row.pieces[i - 1]
            if p.brk == "op":
                after = row.pieces[i + 1] if i + 1 < len(row.pieces) else None
                broken_after = after is not None and p.trailing is None and _gap(p, after)
                p.author_break = _gap(before, p) or broken_after
            elif p.brk == "item":
                p.author_break = _gap(before, p) or (i >= 2 and _gap(row.pieces[i - 2], before))
            elif p.brk == "kw":
                p.author_break = _gap(before, p)
    return ends


class _Printer:
    """Rows -> text: spaces, the kept line breaks, comments and blank lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.last_line = 0
        self.text = ""
        self.comment: Token | None = None

    def print(self, rows: list[_Row], ends: list[Token]) -> str:
        for row in rows:
            self._row(row)
        for comment in ends:
            self._own_line(comment, 0, "author")
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _row(self, row: _Row) -> None:
        first = row.pieces[0]
        blank = row.blank
        comment_level = row.level if row.comment_level is None else row.comment_level
        for comment in first.leading:
            self._own_line(comment, comment_level, blank)
            blank = "author"
        self._blank(blank, first.token.line)
        self._start(INDENT * row.level, first)
        brackets: list[int] = []
        self._track(first, brackets)
        previous = first
        for piece in row.pieces[1:]:
            forced = bool(piece.leading) or (previous.trailing is not None and not piece.synthetic)
            if forced or piece.author_break:
                level = piece.break_level if piece.author_break and piece.break_level is not None else row.cont
                column = brackets[-1] if brackets else len(INDENT) * level
                self._finish()
                for comment in piece.leading:
                    self._own_line(comment, 0, "never", " " * column)
                self._start(" " * column, piece)
            else:
                self.text += ("" if piece.glue else " ") + str(piece.token)
                self._note(piece)
            self._track(piece, brackets)
            previous = piece
        self._finish()

    def _track(self, piece: _Piece, brackets: list[int]) -> None:
        value = str(piece.token)
        if value in ("(", "["):
            brackets.append(len(self.text))
        elif value == "{":
            brackets.append(len(self.text) + 1)
        elif value in (")", "]", "}") and brackets:
            brackets.pop()

    def _start(self, indent: str, piece: _Piece) -> None:
        self.text = indent + str(piece.token)
        self._note(piece)

    def _note(self, piece: _Piece) -> None:
        self.last_line = max(self.last_line, piece.token.end_line or 0)
        if piece.trailing is not None:
            self.comment = piece.trailing

    def _finish(self) -> None:
        text = self.text.rstrip()
        if self.comment is not None:
            pad = max(COMMENT_COLUMN - 1 - len(text), 2)
            text += " " * pad + str(self.comment).rstrip()
            self.last_line = max(self.last_line, self.comment.line or 0)
            self.comment = None
        self.lines.append(text)
        self.text = ""

    def _own_line(self, comment: Token, level: int, blank: Blank, indent: str | None = None) -> None:
        self._blank(blank, comment.line or 0)
        prefix = INDENT * level if indent is None else indent
        self.lines.append(prefix + str(comment).rstrip())
        self.last_line = max(self.last_line, comment.line or 0)

    def _blank(self, blank: Blank, line: int) -> None:
        if not self.lines or self.lines[-1] == "":
            return
        if blank == "always" or (blank == "author" and line > self.last_line + 1):
            self.lines.append("")
