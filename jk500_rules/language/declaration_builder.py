"""lark tree -> declaration nodes: protocol, events, groups, subject attributes, parameters, criteria, amendments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lark import Token, v_args

from ..errors import Diagnostic, Span
from . import nodes as n
from .expression_builder import ExpressionBuilder, meta_span, token_span, unquote


@v_args(meta=True)
class DeclarationBuilder(ExpressionBuilder):
    """lark tree -> the declarations a protocol makes besides its rules."""

    def protocol_decl(self, meta: Any, items: list[Token]) -> n.ProtocolDecl:
        registry = unquote(items[1]) if len(items) > 1 else None
        return n.ProtocolDecl(span=meta_span(meta), name=unquote(items[0]), registry=registry)

    def event_decl(self, meta: Any, items: list[Any]) -> n.EventDecl:
        trial = bool(items) and isinstance(items[0], Token) and items[0].type == "TRIAL"
        rest = items[1:] if trial else items
        name = rest[0]
        label = unquote(rest[1]) if len(rest) > 1 and isinstance(rest[1], Token) else None
        fields = tuple(i for i in rest if isinstance(i, n.FieldDecl))
        return n.EventDecl(span=token_span(name), name=str(name), label=label, trial_level=trial, fields=fields)

    def field_decl(self, meta: Any, items: list[Any]) -> n.FieldDecl:
        name, type_ = items[0], items[1]
        unit = next((i for i in items[2:] if isinstance(i, str) and not isinstance(i, Token)), None)
        required = any(isinstance(i, Token) and i.type == "REQUIRED" for i in items)
        empty = next((i for i in items[2:] if isinstance(i, (n.Quantity, n.Text, n.Boolean))), None)
        return n.FieldDecl(
            span=token_span(name), name=str(name), type=str(type_), type_span=token_span(type_), unit=unit,
            required=required, empty=empty,
        )

    def group_decl(self, meta: Any, items: list[Token]) -> n.GroupDecl:
        name, rest = items[0], items[1:]
        label = unquote(rest[0]) if rest and rest[0].type == "STRING" else None
        members = tuple((str(t), token_span(t)) for t in rest if t.type == "NAME")
        return n.GroupDecl(span=token_span(name), name=str(name), label=label, members=members)

    def reference_decl(self, meta: Any, items: list[Any]) -> n.ReferenceDecl:
        name, rest = items[0], items[1:]
        label = unquote(rest.pop(0)) if isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        order, event = rest[0], rest[1]
        where = rest[2] if len(rest) > 2 and not isinstance(rest[2], tuple) else None
        side_items = [i for i in rest[2:] if isinstance(i, tuple)]
        (side, inclusive, width), (which, anchor) = side_items[0], side_items[1]
        ties = next((str(i) for i in rest[2:] if isinstance(i, str) and not isinstance(i, Token)), None)
        return n.ReferenceDecl(
            span=token_span(name), name=str(name), label=label, order=str(order), event=str(event),
            event_span=token_span(event), where=where, side=side, inclusive=inclusive, width=width,
            anchor_which=which, anchor_event=str(anchor), anchor_span=token_span(anchor), ties=ties)

    def ref_side(self, meta: Any, items: list[Any]) -> tuple[str, bool, n.Expr | None]:
        """`before`, `on or before`, `within 14 days before`: (side, whether the anchor's day counts, width)."""
        if isinstance(items[0], n.Node):
            return str(items[1]), True, items[0]
        return str(items[-1]), len(items) > 1, None

    def ref_anchor(self, meta: Any, items: list[Token]) -> tuple[str, Token]:
        return str(items[0]), items[1]

    def ref_each(self, meta: Any, items: list[Token]) -> tuple[str, Token]:
        return "each", items[0]

    def ref_ties(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    def state_decl(self, meta: Any, items: list[Any]) -> n.StateDecl:
        name, rest = items[0], list(items[1:])
        label = unquote(rest.pop(0)) if isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        per = rest.pop(0) if isinstance(rest[0], Token) and rest[0].type == "NAME" else None
        ordinal = rest.pop(0)
        (mark_which, mark), rest = rest[0], rest[1:]
        among = next((i for i in rest if isinstance(i, tuple) and i[0] == "among"), None)
        end = next((i for i in rest if isinstance(i, tuple) and i[0] == "end"), None)
        rank = int(str(ordinal).rstrip("stndrh"))
        if rank < 1:
            self.diagnostics.append(Diagnostic("a state starts at the 1st mark or a later one", token_span(ordinal)))
        extra: dict[str, Any] = {}
        if among is not None:
            _, count, which, event = among
            extra.update(among=int(str(count)) if str(count).isdigit() else 0, among_span=token_span(count),
                         among_which=str(which), among_event=str(event), among_event_span=token_span(event))
        if end is not None:
            _, which, event, where = end
            extra.update(end_which=str(which), end_event=str(event), end_span=token_span(event), end_where=where)
        return n.StateDecl(
            span=token_span(name), name=str(name), label=label, per=str(per) if per is not None else None,
            per_span=token_span(per) if per is not None else None, ordinal=rank, ordinal_span=token_span(ordinal),
            mark_which=mark_which, mark=str(mark), mark_span=token_span(mark), **extra)

    def mark_record(self, meta: Any, items: list[Token]) -> tuple[str, Token]:
        return str(items[0]), items[1]

    def mark_reference(self, meta: Any, items: list[Token]) -> tuple[None, Token]:
        return None, items[0]

    def state_among(self, meta: Any, items: list[Any]) -> tuple:
        return ("among", items[0], items[1], items[2])

    def state_end(self, meta: Any, items: list[Any]) -> tuple:
        return ("end", items[0], items[1], items[2] if len(items) > 2 else None)

    def site_decl(self, meta: Any, items: list[Token]) -> n.SiteDecl:
        return n.SiteDecl(span=token_span(items[0]), site=unquote(items[0]), zone=unquote(items[1]),
                          zone_span=token_span(items[1]))

    def schedule_decl(self, meta: Any, items: list[Any]) -> n.ScheduleDecl:
        name, rest = items[0], items[1:]
        label = unquote(rest.pop(0)) if isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        which, event, day, *rest = rest
        until = None
        if rest and isinstance(rest[0], str) and not isinstance(rest[0], n.Node):
            until = n.AnchorRef(span=token_span(rest[1]), which=str(rest[0]), event=str(rest[1]))
        return n.ScheduleDecl(
            span=token_span(name), name=str(name), label=label,
            anchor=n.AnchorRef(span=token_span(event), which=str(which), event=str(event)),
            anchor_day=Decimal(str(day)), anchor_day_span=token_span(day),
            until=until, visits=tuple(i for i in rest if isinstance(i, n.VisitDecl)))

    def periodic_schedule_decl(self, meta: Any, items: list[Any]) -> n.ScheduleDecl:
        name, rest = items[0], items[1:]
        label = unquote(rest.pop(0)) if isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        every, within, which, event, *rest = rest
        until = None
        if len(rest) >= 2:
            until = n.AnchorRef(span=token_span(rest[1]), which=str(rest[0]), event=str(rest[1]))
        through = rest[-1] if len(rest) % 2 else None
        return n.ScheduleDecl(
            span=token_span(name), name=str(name), label=label,
            anchor=n.AnchorRef(span=token_span(event), which=str(which), event=str(event)),
            anchor_day=Decimal(0), anchor_day_span=token_span(event), until=until, visits=(),
            every=every, within=within, through=through)

    def visit_decl(self, meta: Any, items: list[Any]) -> n.VisitDecl:
        label, *rest = items
        sign = -1 if isinstance(rest[0], Token) and rest[0].type == "MINUS" else 1
        number = rest[1] if sign < 0 else rest[0]
        window = rest[-1] if isinstance(rest[-1], tuple) else (None, None)
        start = rest[0]
        day_span = Span(start.line, start.column, number.end_line, number.end_column)
        return n.VisitDecl(span=meta_span(meta), label=unquote(label), day=sign * Decimal(str(number)), day_span=day_span,
                           before=window[0], after=window[1])

    def window_around(self, meta: Any, items: list[Any]) -> tuple[n.Expr, n.Expr]:
        return items[0], items[0]

    def window_sides(self, meta: Any, items: list[Any]) -> tuple[n.Expr, n.Expr]:
        return items[0], items[1]

    def subject_decl(self, meta: Any, items: list[Token]) -> n.SubjectDecl:
        name, event, _dot, field = items
        return n.SubjectDecl(
            span=token_span(name),
            name=str(name),
            event=str(event),
            field=str(field),
            source_span=Span(event.line, event.column, field.end_line, field.end_column),
        )

    def version_decl(self, meta: Any, items: list[Token]) -> n.VersionDecl:
        return n.VersionDecl(span=meta_span(meta), name=unquote(items[0]), effective=unquote(items[1]),
                             effective_span=token_span(items[1]))

    def governed_decl(self, meta: Any, items: list[Token]) -> n.GovernedDecl:
        return n.GovernedDecl(span=meta_span(meta), event=str(items[0]), event_span=token_span(items[0]))

    def amendment_decl(self, meta: Any, items: list[Any]) -> n.Amendment:
        name, effective, rest = items[0], items[1], items[2:]
        summary = unquote(rest[0]) if rest and isinstance(rest[0], Token) else None
        return n.Amendment(
            span=meta_span(meta), name=unquote(name), effective=unquote(effective),
            effective_span=token_span(effective), summary=summary,
            parameters=tuple(i for i in rest if isinstance(i, n.ParamDecl)),
            rules=tuple(i for i in rest if isinstance(i, n.Rule)),
            withdrawals=tuple(i for i in rest if isinstance(i, n.Withdrawal)),
        )

    def withdraw_decl(self, meta: Any, items: list[Any]) -> n.Withdrawal:
        rule_id, span = items[0]
        return n.Withdrawal(span=meta_span(meta), rule_id=rule_id, id_span=span)

    def criterion_decl(self, meta: Any, items: list[Any]) -> n.Criterion:
        (cid, span), text = items[0], items[1]
        manual = unquote(items[2]) if len(items) > 2 else None
        return n.Criterion(span=meta_span(meta), id=cid, id_span=span, text=unquote(text), manual=manual)

    def param_decl(self, meta: Any, items: list[Any]) -> n.ParamDecl:
        name, value = items[0], items[1]
        choice = items[2] if len(items) > 2 else None
        if isinstance(value, n.Quantity):
            return n.ParamDecl(span=token_span(name), name=str(name), value=value, choice=choice)
        key_attribute, entries = value
        return n.ParamDecl(span=token_span(name), name=str(name), key_attribute=key_attribute, entries=entries,
                           choice=choice)

    def formula_decl(self, meta: Any, items: list[Any]) -> n.FormulaDecl:
        name, rest = items[0], list(items[1:])
        label = unquote(rest.pop(0)) if isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        unit, body = rest[0], rest[1]
        empirical = rest[2] if len(rest) > 2 else None
        return n.FormulaDecl(span=token_span(name), name=str(name), label=label, unit=unit, body=body,
                             empirical=empirical)

    def formula_empirical(self, meta: Any, items: list[Token]) -> str:
        return unquote(items[0])

    def choice(self, meta: Any, items: list[Token]) -> str:
        return unquote(items[0])

    def table(self, meta: Any, items: list[Any]) -> tuple[str, tuple[n.TableEntry, ...]]:
        return str(items[0]), tuple(items[1:])

    def table_entry(self, meta: Any, items: list[Any]) -> n.TableEntry:
        key, value = items
        key_value: Decimal | str = key.value
        return n.TableEntry(span=meta_span(meta), key=key_value, value=value)

    def number(self, meta: Any, items: list[Token]) -> n.Quantity:
        return n.Quantity(span=meta_span(meta), value=self._decimal(items[0]), unit=None)
