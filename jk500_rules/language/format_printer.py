"""The formatter's printer: rows -> text, with spaces, the kept line breaks, comments and blank lines."""

from __future__ import annotations

from lark import Token

from .format_pieces import Blank, Piece, Row

INDENT = "    "
COMMENT_COLUMN = 36


class Printer:
    """Rows -> text: spaces, the kept line breaks, comments and blank lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.last_line = 0
        self.text = ""
        self.comment: Token | None = None

    def print(self, rows: list[Row], ends: list[Token]) -> str:
        for row in rows:
            self._row(row)
        for comment in ends:
            self._own_line(comment, 0, "author")
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _row(self, row: Row) -> None:
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

    def _track(self, piece: Piece, brackets: list[int]) -> None:
        value = str(piece.token)
        if value in ("(", "["):
            brackets.append(len(self.text))
        elif value == "{":
            brackets.append(len(self.text) + 1)
        elif value in (")", "]", "}") and brackets:
            brackets.pop()

    def _start(self, indent: str, piece: Piece) -> None:
        self.text = indent + str(piece.token)
        self._note(piece)

    def _note(self, piece: Piece) -> None:
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
