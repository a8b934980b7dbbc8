"""Rules text -> syntax tree, with syntax errors reported as positioned diagnostics."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import nodes as n
from ..errors import Diagnostic, RulesError, Span, did_you_mean

_GRAMMAR_NAME = "protocol.lark"
MAX_NUMBER_DIGITS = 15
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


def grammar_path() -> Path:
    """The grammar ships inside the package; a source checkout keeps it at the top level."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / _GRAMMAR_NAME, here.parents[1] / "grammar" / _GRAMMAR_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{_GRAMMAR_NAME} is missing from the installation")


def make_lark(**options: Any) -> Lark:
    """A lark parser of the rules grammar with the options every tool shares, plus `options`."""
    settings: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True,
                                "maybe_placeholders": False, "cache": True}
    settings.update(options)
    return Lark(grammar_path().read_text(encoding="utf-8"), **settings)


@functools.cache
def _lark(strict: bool = False) -> Lark:
    # A parse table cached by grammar hash gives start-up without the LALR build; strict builds afresh.
    return make_lark(strict=strict, cache=not strict)


def build_parser(strict: bool = False) -> Lark:
    """The lark parser; `strict=True` makes any grammar ambiguity or terminal collision an error."""
    return _lark(strict)


# A top-level item starts at the beginning of a line with one of these words.
_ITEM_START = re.compile(r"^(protocol|criterion|trial|event|group|subject|parameter|rule|version|governed|amendment)\b")


def parse(source: str, filename: str = "<rules>") -> n.Protocol:
    """Parse rules text into a syntax tree, or raise RulesError with a caret diagnostic per broken item."""
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as exc:
        raise RulesError(filename, source, _syntax_diagnostics(exc, source)) from None
    deepest = _deepest(tree)
    if deepest is not None:
        raise RulesError(filename, source, [deepest])
    builder = _Builder()
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
            _lark().parse(chunk)
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


def _span(meta: Any) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _tspan(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def _unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class _Builder(Transformer):
    """lark tree -> nodes; value errors (a malformed number) become diagnostics, not exceptions."""

    def __init__(self) -> None:
        super().__init__()
        self.diagnostics: list[Diagnostic] = []

    # --- top level ---
    def start(self, meta: Any, items: list[Any]) -> n.Protocol:
        headers = [i for i in items if isinstance(i, n.ProtocolDecl)]
        for extra in headers[1:]:
            self.diagnostics.append(Diagnostic("a second 'protocol' line", extra.span))
        for kind, label in ((n.VersionDecl, "'version' line"), (n.GovernedDecl, "'governed by' line")):
            for extra in [i for i in items if isinstance(i, kind)][1:]:
                self.diagnostics.append(Diagnostic(f"a second {label}", extra.span))
        span = _span(meta) if not meta.empty else Span(1, 1, 1, 1)
        return n.Protocol(
            span=span,
            header=headers[0] if headers else None,
            criteria=tuple(i for i in items if isinstance(i, n.Criterion)),
            events=tuple(i for i in items if isinstance(i, n.EventDecl)),
            groups=tuple(i for i in items if isinstance(i, n.GroupDecl)),
            subject_attributes=tuple(i for i in items if isinstance(i, n.SubjectDecl)),
            parameters=tuple(i for i in items if isinstance(i, n.ParamDecl)),
            rules=tuple(i for i in items if isinstance(i, n.Rule)),
            version=next((i for i in items if isinstance(i, n.VersionDecl)), None),
            governed_by=next((i for i in items if isinstance(i, n.GovernedDecl)), None),
            amendments=tuple(i for i in items if isinstance(i, n.Amendment)),
        )

    def protocol_decl(self, meta: Any, items: list[Token]) -> n.ProtocolDecl:
        registry = _unquote(items[1]) if len(items) > 1 else None
        return n.ProtocolDecl(span=_span(meta), name=_unquote(items[0]), registry=registry)

    def event_decl(self, meta: Any, items: list[Any]) -> n.EventDecl:
        trial = bool(items) and isinstance(items[0], Token) and items[0].type == "TRIAL"
        rest = items[1:] if trial else items
        name = rest[0]
        label = _unquote(rest[1]) if len(rest) > 1 and isinstance(rest[1], Token) else None
        fields = tuple(i for i in rest if isinstance(i, n.FieldDecl))
        return n.EventDecl(span=_tspan(name), name=str(name), label=label, trial_level=trial, fields=fields)

    def field_decl(self, meta: Any, items: list[Any]) -> n.FieldDecl:
        name, type_ = items[0], items[1]
        unit = next((i for i in items[2:] if isinstance(i, str) and not isinstance(i, Token)), None)
        required = any(isinstance(i, Token) and i.type == "REQUIRED" for i in items)
        return n.FieldDecl(
            span=_tspan(name), name=str(name), type=str(type_), type_span=_tspan(type_), unit=unit, required=required
        )

    def group_decl(self, meta: Any, items: list[Token]) -> n.GroupDecl:
        name, rest = items[0], items[1:]
        label = _unquote(rest[0]) if rest and rest[0].type == "STRING" else None
        members = tuple((str(t), _tspan(t)) for t in rest if t.type == "NAME")
        return n.GroupDecl(span=_tspan(name), name=str(name), label=label, members=members)

    def subject_decl(self, meta: Any, items: list[Token]) -> n.SubjectDecl:
        name, event, _dot, field = items
        return n.SubjectDecl(
            span=_tspan(name),
            name=str(name),
            event=str(event),
            field=str(field),
            source_span=Span(event.line, event.column, field.end_line, field.end_column),
        )

    def version_decl(self, meta: Any, items: list[Token]) -> n.VersionDecl:
        return n.VersionDecl(span=_span(meta), name=_unquote(items[0]), effective=_unquote(items[1]),
                             effective_span=_tspan(items[1]))

    def governed_decl(self, meta: Any, items: list[Token]) -> n.GovernedDecl:
        return n.GovernedDecl(span=_span(meta), event=str(items[0]), event_span=_tspan(items[0]))

    def amendment_decl(self, meta: Any, items: list[Any]) -> n.Amendment:
        name, effective, rest = items[0], items[1], items[2:]
        summary = _unquote(rest[0]) if rest and isinstance(rest[0], Token) else None
        return n.Amendment(
            span=_span(meta), name=_unquote(name), effective=_unquote(effective), effective_span=_tspan(effective),
            summary=summary,
            parameters=tuple(i for i in rest if isinstance(i, n.ParamDecl)),
            rules=tuple(i for i in rest if isinstance(i, n.Rule)),
            withdrawals=tuple(i for i in rest if isinstance(i, n.Withdrawal)),
        )

    def withdraw_decl(self, meta: Any, items: list[Any]) -> n.Withdrawal:
        rule_id, span = items[0]
        return n.Withdrawal(span=_span(meta), rule_id=rule_id, id_span=span)

    def criterion_decl(self, meta: Any, items: list[Any]) -> n.Criterion:
        (cid, span), text = items[0], items[1]
        manual = _unquote(items[2]) if len(items) > 2 else None
        return n.Criterion(span=_span(meta), id=cid, id_span=span, text=_unquote(text), manual=manual)

    def param_decl(self, meta: Any, items: list[Any]) -> n.ParamDecl:
        name, value = items[0], items[1]
        choice = items[2] if len(items) > 2 else None
        if isinstance(value, n.Quantity):
            return n.ParamDecl(span=_tspan(name), name=str(name), value=value, choice=choice)
        key_attribute, entries = value
        return n.ParamDecl(span=_tspan(name), name=str(name), key_attribute=key_attribute, entries=entries,
                           choice=choice)

    def choice(self, meta: Any, items: list[Token]) -> str:
        return _unquote(items[0])

    def table(self, meta: Any, items: list[Any]) -> tuple[str, tuple[n.TableEntry, ...]]:
        return str(items[0]), tuple(items[1:])

    def table_entry(self, meta: Any, items: list[Any]) -> n.TableEntry:
        key, value = items
        key_value: Decimal | str = key.value
        return n.TableEntry(span=_span(meta), key=key_value, value=value)

    def number(self, meta: Any, items: list[Token]) -> n.Quantity:
        return n.Quantity(span=_span(meta), value=self._decimal(items[0]), unit=None)

    # --- rules ---
    def rule_decl(self, meta: Any, items: list[Any]) -> n.Rule:
        rule_id, title = items[0], items[1]
        attrs: dict[str, tuple[Any, Span]] = {}
        choices: list[str] = []
        for kind, value, span in (i for i in items[2:-1]):
            if kind == "choice":
                choices.append(value)
                continue
            if kind == "cites" and "criteria" in attrs or kind == "criteria" and "cites" in attrs:
                self.diagnostics.append(Diagnostic("cite criteria by id or by text, not both", span,
                                                   "list several criteria in one line: cites INC-1, EXC-2"))
            elif kind in attrs:
                word = "cites" if kind == "criteria" else kind
                self.diagnostics.append(Diagnostic(f"'{word}' is given twice in rule {rule_id[0]}", span,
                                                   "give it once" if word != "cites" else
                                                   "list several criteria in one line: cites INC-1, EXC-2"))
            attrs[kind] = (value, span)
        check = items[-1]

        def get(kind: str) -> Any:
            return attrs[kind][0] if kind in attrs else None

        def where(kind: str) -> Span | None:
            return attrs[kind][1] if kind in attrs else None

        return n.Rule(
            span=_span(meta),
            id=rule_id[0],
            id_span=rule_id[1],
            title=_unquote(title),
            severity=get("severity"),
            severity_span=where("severity"),
            category=get("category"),
            cites=get("cites"),
            message=get("message"),
            message_span=where("message"),
            check=check,
            criteria=get("criteria") or (),
            important=get("important"),
            choices=tuple(choices),
        )

    def rule_id(self, meta: Any, items: list[Token]) -> tuple[str, Span]:
        span = _span(meta)
        text = "".join(str(t) for t in items)
        if any(a.end_pos != b.start_pos for a, b in zip(items, items[1:])):
            self.diagnostics.append(
                Diagnostic("a rule id cannot contain spaces", span, f"write it as '{text}'")
            )
        return text, span

    def severity(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "severity", str(items[0]), _tspan(items[0])

    def category(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "category", str(items[0]), _span(meta)

    def cites(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "cites", _unquote(items[0]), _span(meta)

    def cites_criteria(self, meta: Any, items: list[tuple[str, Span]]) -> tuple[str, Any, Span]:
        return "criteria", tuple(items), _span(meta)

    def message(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "message", _unquote(items[0]), _tspan(items[0])

    def important(self, meta: Any, items: list[str]) -> tuple[str, Any, Span]:
        return "important", items[0] == "yes", _span(meta)

    def rule_choice(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "choice", _unquote(items[0]), _span(meta)

    def check(self, meta: Any, items: list[Any]) -> n.Check:
        source = items[0]
        verdict = next(i for i in items if isinstance(i, n.Verdict))
        where = items[1] if not isinstance(items[1], (n.Need, n.Verdict)) else None
        return n.Check(span=_span(meta), source=source, where=where, verdict=verdict,
                       needs=tuple(i for i in items if isinstance(i, n.Need)),
                       excuses=tuple(i for i in items if isinstance(i, n.Excuse)))

    def need(self, meta: Any, items: list[Any]) -> n.Need:
        event, rest = items[1], items[2:]
        cond = next((i for i in rest if not isinstance(i, Token)), None)
        reason = next((_unquote(i) for i in rest if isinstance(i, Token)), None)
        return n.Need(span=_span(meta), event=str(event), event_span=_tspan(event), cond=cond, reason=reason)

    def excuse(self, meta: Any, items: list[Any]) -> n.Excuse:
        event = items[1]
        cond = items[2] if len(items) > 2 else None
        return n.Excuse(span=_span(meta), event=str(event), event_span=_tspan(event), cond=cond)

    def each_source(self, meta: Any, items: list[Token]) -> n.Source:
        return n.Source(span=_span(meta), form="each", event=str(items[0]), event_span=_tspan(items[0]))

    def anchor_source(self, meta: Any, items: list[Token]) -> n.Source:
        return n.Source(span=_span(meta), form=str(items[0]), event=str(items[1]), event_span=_tspan(items[1]))

    def group_source(self, meta: Any, items: list[Token]) -> n.Source:
        which, event, attribute = items
        return n.Source(span=_span(meta), form=f"group_{which}", event=str(event), event_span=_tspan(event),
                        attribute=str(attribute))

    def count_source(self, meta: Any, items: list[Any]) -> n.Source:
        event, period = items
        if isinstance(period, _Window):
            return n.Source(span=_span(meta), form="count", event=str(event), event_span=_tspan(event),
                            period="window", interval=period.interval, anchor=period.anchor, horizon=period.horizon)
        period, week_start, week_start_span = period
        return n.Source(span=_span(meta), form="count", event=str(event), event_span=_tspan(event), period=period,
                        week_start=week_start, week_start_span=week_start_span)

    def per_subject(self, meta: Any, items: list[Any]) -> tuple[str, None, None]:
        return "subject", None, None

    def per_day(self, meta: Any, items: list[Any]) -> tuple[str, None, None]:
        return "day", None, None

    def per_window(self, meta: Any, items: list[Any]) -> Any:
        interval, which, event, horizon = items
        anchor = n.AnchorRef(span=Span(event.line, event.column, event.end_line, event.end_column), which=which,
                             event=str(event))
        return _Window(interval, anchor, horizon)

    def per_week(self, meta: Any, items: list[Token]) -> tuple[str, str, Span | None]:
        if not items:
            return "week", "monday", None
        return "week", str(items[0]).lower(), _tspan(items[0])

    def require(self, meta: Any, items: list[Any]) -> n.Verdict:
        due = items[1].expr if len(items) > 1 else None
        return n.Verdict(span=_span(meta), mode="require", cond=items[0], due=due)

    def forbid(self, meta: Any, items: list[Any]) -> n.Verdict:
        return n.Verdict(span=_span(meta), mode="forbid", cond=items[0])

    def require_exists(self, meta: Any, items: list[Any]) -> n.Verdict:
        return self._exists("require", meta, items)

    def forbid_exists(self, meta: Any, items: list[Any]) -> n.Verdict:
        return self._exists("forbid", meta, items)

    def _exists(self, mode: str, meta: Any, items: list[Any]) -> n.Verdict:
        event, rest = items[1], items[2:]
        cond = next((i for i in rest if not isinstance(i, _Due)), None)
        due = next((i.expr for i in rest if isinstance(i, _Due)), None)
        return n.Verdict(
            span=_span(meta), mode=mode, cond=cond, exists_event=str(event), exists_span=_tspan(event), due=due
        )

    def due(self, meta: Any, items: list[Any]) -> Any:
        return _Due(items[0])

    # --- conditions ---
    def or_(self, meta: Any, items: list[Any]) -> n.Or:
        return n.Or(span=_span(meta), items=tuple(items))

    def and_(self, meta: Any, items: list[Any]) -> n.And:
        return n.And(span=_span(meta), items=tuple(items))

    def not_(self, meta: Any, items: list[Any]) -> n.Not:
        return n.Not(span=_span(meta), item=items[0])

    def compare(self, meta: Any, items: list[Any]) -> n.Compare:
        return n.Compare(span=_span(meta), left=items[0], op=str(items[1]), right=items[2])

    def within(self, meta: Any, items: list[Any]) -> n.Within:
        return n.Within(span=_span(meta), subject=items[0], width=items[1], relation=str(items[2]), anchor=items[3])

    def between(self, meta: Any, items: list[Any]) -> n.Between:
        return n.Between(span=_span(meta), subject=items[0], low=items[1], high=items[2])

    def member(self, meta: Any, items: list[Any]) -> n.Member:
        return n.Member(span=_span(meta), subject=items[0], values=tuple(items[1:]))

    def not_member(self, meta: Any, items: list[Any]) -> n.Member:
        return n.Member(span=_span(meta), subject=items[0], values=tuple(items[1:]), negated=True)

    def known(self, meta: Any, items: list[Any]) -> n.Known:
        return n.Known(span=_span(meta), subject=items[0], known=str(items[1]) == "known")

    def truthy(self, meta: Any, items: list[Any]) -> n.Truthy:
        return n.Truthy(span=_span(meta), subject=items[0])

    # --- expressions ---
    def arith(self, meta: Any, items: list[Any]) -> n.Arith:
        return n.Arith(span=_span(meta), left=items[0], op=str(items[1]), right=items[2])

    def quantity(self, meta: Any, items: list[Any]) -> n.Quantity:
        unit = items[1] if len(items) > 1 else None
        return n.Quantity(span=_span(meta), value=self._decimal(items[0]), unit=unit)

    def unit(self, meta: Any, items: list[Token]) -> str:
        return "/".join(str(t) for t in items)

    def text(self, meta: Any, items: list[Token]) -> n.Text:
        return n.Text(span=_span(meta), value=_unquote(items[0]))

    def boolean(self, meta: Any, items: list[Token]) -> n.Boolean:
        return n.Boolean(span=_span(meta), value=str(items[0]) == "yes")

    def name_ref(self, meta: Any, items: list[Token]) -> n.NameRef:
        field = str(items[2]) if len(items) > 2 else None
        return n.NameRef(span=_span(meta), name=str(items[0]), field=field)

    def anchor_ref(self, meta: Any, items: list[Token]) -> n.AnchorRef:
        field = str(items[3]) if len(items) > 3 else None
        return n.AnchorRef(span=_span(meta), which=str(items[0]), event=str(items[1]), field=field)

    def ranked_ref(self, meta: Any, items: list[Token]) -> n.RankedRef:
        ordinal, which, event, relation, attribute = items[:5]
        field = str(items[6]) if len(items) > 6 else None
        rank = int(str(ordinal).rstrip("stndrh"))
        if rank < 1:
            self.diagnostics.append(Diagnostic("a subject's rank starts at 1st", _tspan(ordinal)))
        return n.RankedRef(
            span=_span(meta),
            rank=rank,
            which=str(which),
            event=str(event),
            relation=str(relation),
            attribute=str(attribute),
            field=field,
        )

    def lookup(self, meta: Any, items: list[Any]) -> n.Lookup:
        return n.Lookup(span=_span(meta), table=str(items[0]), key=items[1])

    def elapsed(self, meta: Any, items: list[Any]) -> n.Elapsed:
        return n.Elapsed(span=_span(meta), unit=str(items[0]), start=items[1], end=items[2])

    def _decimal(self, token: Token) -> Decimal:
        try:
            value = Decimal(str(token))
        except InvalidOperation:  # pragma: no cover - the NUMBER terminal only admits valid decimals
            self.diagnostics.append(Diagnostic(f"'{token}' is not a number", _tspan(token)))
            return Decimal(0)
        # Rules compare exact integers (millionths, days): a number past 15 digits cannot be held exactly,
        # and one like 1e999999 would take the compiler minutes to write out.
        if value.adjusted() >= MAX_NUMBER_DIGITS:
            self.diagnostics.append(Diagnostic(f"'{token}' is too large for a rule", _tspan(token),
                                               f"numbers in rules have at most {MAX_NUMBER_DIGITS} digits "
                                               "before the decimal point"))
            return Decimal(0)
        return value

    # Keyword alternatives (`!rule`s in the grammar) arrive as their single token's text.
    def compare_op(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    relation = knowledge = span_unit = bool_word = first_last = group_rel = article = compare_op

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        return Tree(data, children, meta)


class _Window:
    __slots__ = ("anchor", "horizon", "interval")

    def __init__(self, interval: Any, anchor: n.AnchorRef, horizon: Any) -> None:
        self.interval, self.anchor, self.horizon = interval, anchor, horizon


class _Due:
    __slots__ = ("expr",)

    def __init__(self, expr: Any) -> None:
        self.expr = expr
