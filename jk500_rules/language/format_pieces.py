"""The formatter's units: tokens as pieces (the space and the breaks allowed before each), in rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lark import Token, Tree

Blank = Literal["never", "author", "always"]

_GLUE_BEFORE = {",", ")", "]", ":", "[", "."}
_GLUE_AFTER = {"(", "[", "."}
_GLUED_INSIDE = {"rule_id", "unit", "field_unit"}
_LISTS = {"member", "not_member", "group_decl", "cites_criteria"}
_SOUGHT = {"need", "excuse", "require_exists", "forbid_exists"}


@dataclass(eq=False)
class Piece:
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
class Row:
    """A line the layout starts; it may run onto continuation lines."""

    level: int
    cont: int
    blank: Blank
    pieces: list[Piece] = field(default_factory=list)
    comment_level: int | None = None


def synthetic_comma(after: Token) -> Token:
    """A comma the source lacks (after a table's last entry), placed just after `after`."""
    return Token(
        "COMMA", ",", after.end_pos, after.end_line, after.end_column, after.end_line, after.end_column, after.end_pos
    )


def flatten(tree: Tree, cont: int, drop_trailing_comma: bool = False) -> list[Piece]:
    return flatten_all(tree.children, cont, tree.data, drop_trailing_comma)


def flatten_all(children: list[Any], cont: int, parent: str, drop_trailing_comma: bool = False) -> list[Piece]:
    """Pieces of some children of a `parent` tree, in source order, with their spacing and breaks."""
    pieces: list[Piece] = []

    def walk(children: list[Any], parent: str) -> None:
        after_comma = False
        for position, child in enumerate(children):
            start = len(pieces)
            if isinstance(child, Tree):
                walk(child.children, child.data)
            elif drop_trailing_comma and parent == "table" and child.type == "COMMA" and position + 2 == len(children):
                continue
            else:
                piece = Piece(child)
                value = str(child)
                # A declared unit's parts after its `/` (`mg / kg` is printed `mg/kg`).
                glued_inside = parent in _GLUED_INSIDE and position > 0 or parent == "unit" and \
                    bool(pieces) and str(pieces[-1].token) == "/" and pieces[-1].glue
                previous = str(pieces[-1].token) if pieces else ""
                signed = parent == "visit_decl" and previous == "-"  # a visit's day: `day -6`
                piece.glue = value in _GLUE_BEFORE or previous in _GLUE_AFTER or glued_inside or signed
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
