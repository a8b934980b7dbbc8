"""lark tree -> rule nodes: a rule's id, title and attributes, around its check."""

from __future__ import annotations

from typing import Any

from lark import Token, v_args

from ..errors import Diagnostic, Span
from . import nodes as n
from .check_builder import CheckBuilder
from .expression_builder import meta_span, token_span, unquote


@v_args(meta=True)
class RuleBuilder(CheckBuilder):
    """lark tree -> rules, on top of their checks and the conditions and expressions they contain."""

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
            span=meta_span(meta),
            id=rule_id[0],
            id_span=rule_id[1],
            title=unquote(title),
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
            approximate=get("approximate"),
            dated_by=get("dated_by"),
            report=get("report"),
            report_span=where("report"),
        )

    def rule_id(self, meta: Any, items: list[Token]) -> tuple[str, Span]:
        span = meta_span(meta)
        text = "".join(str(t) for t in items)
        if any(a.end_pos != b.start_pos for a, b in zip(items, items[1:])):
            self.diagnostics.append(
                Diagnostic("a rule id cannot contain spaces", span, f"write it as '{text}'")
            )
        return text, span

    def severity(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "severity", str(items[0]), token_span(items[0])

    def category(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "category", str(items[0]), meta_span(meta)

    def cites(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "cites", unquote(items[0]), meta_span(meta)

    def cites_criteria(self, meta: Any, items: list[tuple[str, Span]]) -> tuple[str, Any, Span]:
        return "criteria", tuple(items), meta_span(meta)

    def message(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "message", unquote(items[0]), token_span(items[0])

    def important(self, meta: Any, items: list[str]) -> tuple[str, Any, Span]:
        return "important", items[0] == "yes", meta_span(meta)

    def rule_choice(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "choice", unquote(items[0]), meta_span(meta)

    def dated_by(self, meta: Any, items: list[Any]) -> tuple[str, Any, Span]:
        return "dated_by", items[0], meta_span(meta)

    def report_once(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "report", "once", meta_span(meta)

    def report_each(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        return "report", "each", meta_span(meta)

    def approximate(self, meta: Any, items: list[Token]) -> tuple[str, Any, Span]:
        reason = unquote(items[0])
        if not reason.strip():
            self.diagnostics.append(Diagnostic("an approximate rule says why it is approximate", token_span(items[0]),
                                               'for example: approximate "the protocol counts hours; the log '
                                               'has dates only"'))
        return "approximate", reason, meta_span(meta)
