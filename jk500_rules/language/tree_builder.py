"""lark tree -> the syntax tree of a whole rules file (nodes.Protocol), with its value errors as diagnostics."""

from __future__ import annotations

from typing import Any

from lark import v_args

from ..errors import Diagnostic, Span
from . import nodes as n
from .declaration_builder import DeclarationBuilder
from .expression_builder import meta_span
from .rule_builder import RuleBuilder


@v_args(meta=True)
class TreeBuilder(DeclarationBuilder, RuleBuilder):
    """lark tree -> nodes; value errors (a malformed number) become diagnostics, not exceptions."""

    def start(self, meta: Any, items: list[Any]) -> n.Protocol:
        headers = [i for i in items if isinstance(i, n.ProtocolDecl)]
        for extra in headers[1:]:
            self.diagnostics.append(Diagnostic("a second 'protocol' line", extra.span))
        for kind, label in ((n.VersionDecl, "'version' line"), (n.GovernedDecl, "'governed by' line")):
            for extra in [i for i in items if isinstance(i, kind)][1:]:
                self.diagnostics.append(Diagnostic(f"a second {label}", extra.span))
        span = meta_span(meta) if not meta.empty else Span(1, 1, 1, 1)
        return n.Protocol(
            span=span,
            header=headers[0] if headers else None,
            criteria=tuple(i for i in items if isinstance(i, n.Criterion)),
            events=tuple(i for i in items if isinstance(i, n.EventDecl)),
            groups=tuple(i for i in items if isinstance(i, n.GroupDecl)),
            subject_attributes=tuple(i for i in items if isinstance(i, n.SubjectDecl)),
            parameters=tuple(i for i in items if isinstance(i, n.ParamDecl)),
            rules=tuple(i for i in items if isinstance(i, n.Rule)),
            references=tuple(i for i in items if isinstance(i, n.ReferenceDecl)),
            sites=tuple(i for i in items if isinstance(i, n.SiteDecl)),
            schedules=tuple(i for i in items if isinstance(i, n.ScheduleDecl)),
            states=tuple(i for i in items if isinstance(i, n.StateDecl)),
            formulas=tuple(i for i in items if isinstance(i, n.FormulaDecl)),
            version=next((i for i in items if isinstance(i, n.VersionDecl)), None),
            governed_by=next((i for i in items if isinstance(i, n.GovernedDecl)), None),
            amendments=tuple(i for i in items if isinstance(i, n.Amendment)),
        )
