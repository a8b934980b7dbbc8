"""The formatter's comments: collected as lark skips them, then hung on the pieces they precede or follow."""

from __future__ import annotations

import bisect
import functools
from contextvars import ContextVar

from lark import Lark, Token, Tree

from .format_pieces import Piece, Row
from .grammar import make_lark

_COMMENTS: ContextVar[list[Token]] = ContextVar("comments")


def parse_keeping_comments(text: str) -> tuple[Tree, list[Token]]:
    """The lark tree of `text` with every token kept, and its comments in order."""
    comments: list[Token] = []
    reset = _COMMENTS.set(comments)
    try:
        tree = _lark().parse(text)
    finally:
        _COMMENTS.reset(reset)
    return tree, comments


@functools.cache
def _lark() -> Lark:
    """The parser with every token kept; it hands the comments it skips to the current call's list."""
    return make_lark(keep_all_tokens=True,
                     lexer_callbacks={"COMMENT": lambda comment: _COMMENTS.get().append(comment)})


def attach_comments(rows: list[Row], comments: list[Token], text: str) -> list[Token]:
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


def _gap(before: Piece, after: Piece) -> bool:
    return after.token.line > before.token.end_line
