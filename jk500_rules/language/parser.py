"""Rules text -> syntax tree, with syntax errors reported as positioned diagnostics."""

from __future__ import annotations

import re

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..errors import Diagnostic, RulesError, Span, did_you_mean
from . import nodes as n
from .grammar import build_parser
from .tree_builder import TreeBuilder

# Syntax-tree levels: the tree builder recurses once per level, and Python's stack ends near 1,000
# frames. 100 nested parentheses make about 300 levels.
MAX_DEPTH = 400
MAX_SYNTAX_ERRORS = 20  # past this many, a file is better fixed from the top than read on

# Terminal names as a protocol writer would say them.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text ("...")',
    "NUMBER": "a number",
    "ORDINAL": "an ordinal such as 3rd",
    "LESSTHAN": "'<'",
    "MORETHAN": "'>'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "DOT": "'.'",
    "PERCENT": "'%'",
    "SCALE": "a power of ten such as 10^9",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "SLASH": "'/'",
    "TRIAL": "'trial'",
    "STAR": "'*'",
    "REQUIRED": "'required'",
    "$END": "the end of the file",
}

# A top-level item starts at the beginning of a line with one of these words.
_ITEM_START = re.compile(r"^(protocol|criterion|trial|event|group|subject|parameter|rule|version|governed|amendment)\b")


def parse(source: str, filename: str = "<rules>") -> n.Protocol:
    """Parse rules text into a syntax tree, or raise RulesError with a caret diagnostic per broken item."""
    try:
        tree = build_parser().parse(source)
    except UnexpectedInput as exc:
        raise RulesError(filename, source, _syntax_diagnostics(exc, source)) from None
    deepest = _deepest(tree)
    if deepest is not None:
        raise RulesError(filename, source, [deepest])
    builder = TreeBuilder()
    protocol = builder.transform(tree)
    if builder.diagnostics:
        raise RulesError(filename, source, builder.diagnostics)
    return protocol


def _deepest(tree: Tree) -> Diagnostic | None:
    """A condition nested past MAX_DEPTH, where the tree builder would run out of Python's stack."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:  # no recursion here, whatever the depth
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            span = Span(meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else None
            return Diagnostic(f"this expression is nested too deeply (past {MAX_DEPTH} levels)", span,
                              "split it into named parameters or several conditions")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return None


def _syntax_diagnostics(first: UnexpectedInput, source: str) -> list[Diagnostic]:
    """The first syntax error, then the first of each later top-level item, so one run shows them all.

    Each item (a line starting with `rule`, `event`, ...) is parsed again on its own, every other line
    blanked so that line numbers hold. An item that runs into the next one (an unclosed brace) is
    reported once, where the next item begins.
    """
    diagnostics = [_syntax_diagnostic(first, source)]
    first_line = diagnostics[0].span.line if diagnostics[0].span else 1
    lines = source_lines(source)
    starts = [i for i, line in enumerate(lines) if _ITEM_START.match(line)] + [len(lines)]
    for begin, end in zip(starts, starts[1:]):
        if begin + 1 < first_line:  # items up to the first error: that error speaks for them
            continue
        if len(diagnostics) >= MAX_SYNTAX_ERRORS:
            diagnostics.append(Diagnostic(f"stopped after {MAX_SYNTAX_ERRORS} syntax errors; the items from here "
                                          "on are not read", Span(begin + 1, 1, begin + 1, 2), severity="note"))
            break
        # The item alone, at its own lines: blank lines before it cost the parser next to nothing.
        chunk = "\n" * begin + "\n".join(lines[begin:end])
        try:
            build_parser().parse(chunk)
        except UnexpectedInput as exc:
            if isinstance(exc, (UnexpectedToken, UnexpectedEOF)) and _at_end(exc, chunk) and end < len(lines):
                span = Span(end + 1, 1, end + 1, 1 + len(lines[end].split()[0]))
                diagnostic = Diagnostic(f"unexpected '{lines[end].split()[0]}'", span,
                                        f"the item that starts at line {begin + 1} is not finished: "
                                        f"expected {_describe_expected(set(getattr(exc, 'accepts', None) or exc.expected))}")
            else:
                diagnostic = _syntax_diagnostic(exc, chunk)
            if diagnostic.span is not None and diagnostic.span.line > first_line:
                diagnostics.append(diagnostic)
    return diagnostics


def source_lines(source: str) -> list[str]:
    """A text's lines as lark counts them: split at "\n" only (str.splitlines also splits at \f, \u2028...)."""
    return [line.removesuffix("\r") for line in source.split("\n")]


def _at_end(exc: UnexpectedInput, chunk: str) -> bool:
    token = getattr(exc, "token", None)
    return isinstance(exc, UnexpectedEOF) or (token is not None and token.type == "$END")


def _describe_expected(expected: set[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, _keyword(t)) for t in expected if not t.startswith("__")})
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _keyword(terminal: str) -> str:
    # Anonymous keyword terminals are named after the keyword itself (e.g. WHERE for "where").
    return f"'{terminal.lower()}'"


def _syntax_diagnostic(exc: UnexpectedInput, source: str) -> Diagnostic:
    line, column = exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        # `accepts` is what the parser state really takes; `expected` may be wider or narrower.
        expected = set(exc.accepts or exc.expected)
        if token.type == "$END":
            line, column = _end_position(source)
            span = Span(line, column, line, column + 1)
            return Diagnostic("unexpected end of file", span, f"expected {_describe_expected(expected)}")
        width = max(1, len(str(token)))
        span = Span(line, column, line, column + width)
        hint = f"expected {_describe_expected(expected)}"
        keywords = [_keyword(t).strip("'") for t in expected if t not in _TERMINAL_WORDS]
        suggestion = did_you_mean(str(token), keywords) if token.type == "NAME" else None
        if str(token) == "needs" and "NEEDS" not in expected:
            suggestion = "'needs' clauses come after 'for ...' and before 'require' or 'forbid'"
        return Diagnostic(f"unexpected {_token_words(token)}", span, suggestion or hint)
    if isinstance(exc, UnexpectedCharacters):
        span = Span(line, column, line, column + 1)
        char = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        hint = None
        if char == '"':
            hint = "a quoted text must end on the same line with a closing \""
        elif exc.allowed:
            hint = f"expected {_describe_expected(set(exc.allowed))}"
        return Diagnostic(f"unexpected character {char!r}", span, hint)
    if isinstance(exc, UnexpectedEOF):
        line, column = _end_position(source)
        return Diagnostic("unexpected end of file", Span(line, column, line, column + 1))
    return Diagnostic(str(exc), Span(line, column, line, column + 1))


def _token_words(token: Token) -> str:
    if token.type in ("NAME",):
        return f"name '{token}'"
    if token.type == "STRING":
        return f"text {token}"
    if token.type == "NUMBER":
        return f"number {token}"
    return f"'{token}'"


def _end_position(source: str) -> tuple[int, int]:
    lines = source_lines(source)
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    return len(lines), len(lines[-1]) + 1
