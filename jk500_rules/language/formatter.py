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

import dataclasses
from typing import Any

from ..errors import Diagnostic, RulesError, Span
from . import nodes as n
from .format_comments import attach_comments, parse_keeping_comments
from .format_layout import Layout
from .format_printer import Printer
from .parser import parse


def format_source(text: str, filename: str = "<rules>") -> str:
    """The canonical layout of `text`; RulesError, as from `parse`, if it does not parse."""
    protocol = parse(text, filename)
    tree, comments = parse_keeping_comments(text)
    layout = Layout()
    layout.items(tree.children, 0, "author")
    ends = attach_comments(layout.rows, comments, text)
    result = Printer().print(layout.rows, ends)
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
