"""lark tree -> condition and expression nodes: the part of the tree builder the others stand on."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from lark import Token, Transformer, Tree, v_args

from ..errors import Diagnostic, Span
from . import nodes as n

MAX_NUMBER_DIGITS = 15


def meta_span(meta: Any) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def unquote(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class ExpressionBuilder(Transformer):
    """lark tree -> condition and expression nodes; value errors (a malformed number) become diagnostics."""

    def __init__(self) -> None:
        super().__init__()
        self.diagnostics: list[Diagnostic] = []

    # --- conditions ---
    def or_(self, meta: Any, items: list[Any]) -> n.Or:
        return n.Or(span=meta_span(meta), items=tuple(items))

    def and_(self, meta: Any, items: list[Any]) -> n.And:
        return n.And(span=meta_span(meta), items=tuple(items))

    def not_(self, meta: Any, items: list[Any]) -> n.Not:
        return n.Not(span=meta_span(meta), item=items[0])

    def compare(self, meta: Any, items: list[Any]) -> n.Compare:
        return n.Compare(span=meta_span(meta), left=items[0], op=str(items[1]), right=items[2])

    def within(self, meta: Any, items: list[Any]) -> n.Within:
        return n.Within(span=meta_span(meta), subject=items[0], width=items[1], relation=str(items[2]), anchor=items[3])

    def between(self, meta: Any, items: list[Any]) -> n.Between:
        return n.Between(span=meta_span(meta), subject=items[0], low=items[1], high=items[2])

    def member(self, meta: Any, items: list[Any]) -> n.Member:
        return n.Member(span=meta_span(meta), subject=items[0], values=tuple(items[1:]))

    def not_member(self, meta: Any, items: list[Any]) -> n.Member:
        return n.Member(span=meta_span(meta), subject=items[0], values=tuple(items[1:]), negated=True)

    def known(self, meta: Any, items: list[Any]) -> n.Known:
        return n.Known(span=meta_span(meta), subject=items[0], known=str(items[1]) == "known")

    def truthy(self, meta: Any, items: list[Any]) -> n.Truthy:
        return n.Truthy(span=meta_span(meta), subject=items[0])

    # --- expressions ---
    def arith(self, meta: Any, items: list[Any]) -> n.Arith:
        return n.Arith(span=meta_span(meta), left=items[0], op=str(items[1]), right=items[2])

    def quantity(self, meta: Any, items: list[Any]) -> n.Quantity:
        unit = items[1] if len(items) > 1 else None
        return n.Quantity(span=meta_span(meta), value=self._decimal(items[0]), unit=unit)

    def unit(self, meta: Any, items: list[Token]) -> str:
        return "/".join(str(t) for t in items)

    def text(self, meta: Any, items: list[Token]) -> n.Text:
        return n.Text(span=meta_span(meta), value=unquote(items[0]))

    def boolean(self, meta: Any, items: list[Token]) -> n.Boolean:
        return n.Boolean(span=meta_span(meta), value=str(items[0]) == "yes")

    def name_ref(self, meta: Any, items: list[Token]) -> n.NameRef:
        field = str(items[2]) if len(items) > 2 else None
        return n.NameRef(span=meta_span(meta), name=str(items[0]), field=field)

    def anchor_ref(self, meta: Any, items: list[Token]) -> n.AnchorRef:
        field = str(items[3]) if len(items) > 3 else None
        return n.AnchorRef(span=meta_span(meta), which=str(items[0]), event=str(items[1]), field=field)

    def relative_ref(self, meta: Any, items: list[Token]) -> n.RelativeRef:
        field = str(items[3]) if len(items) > 3 else None
        return n.RelativeRef(span=meta_span(meta), which=str(items[0]), event=str(items[1]), field=field)

    def ranked_ref(self, meta: Any, items: list[Token]) -> n.RankedRef:
        ordinal, which, event, relation, attribute = items[:5]
        field = str(items[6]) if len(items) > 6 else None
        rank = int(str(ordinal).rstrip("stndrh"))
        if rank < 1:
            self.diagnostics.append(Diagnostic("a subject's rank starts at 1st", token_span(ordinal)))
        return n.RankedRef(
            span=meta_span(meta),
            rank=rank,
            which=str(which),
            event=str(event),
            relation=str(relation),
            attribute=str(attribute),
            field=field,
        )

    def lookup(self, meta: Any, items: list[Any]) -> n.Lookup:
        return n.Lookup(span=meta_span(meta), table=str(items[0]), key=items[1])

    def elapsed(self, meta: Any, items: list[Any]) -> n.Elapsed:
        return n.Elapsed(span=meta_span(meta), unit=str(items[0]), start=items[1], end=items[2])

    def _decimal(self, token: Token) -> Decimal:
        try:
            value = Decimal(str(token))
        except InvalidOperation:  # pragma: no cover - the NUMBER terminal only admits valid decimals
            self.diagnostics.append(Diagnostic(f"'{token}' is not a number", token_span(token)))
            return Decimal(0)
        # Rules compare exact integers (millionths, days): a number past 15 digits cannot be held exactly,
        # and one like 1e999999 would take the compiler minutes to write out.
        if value.adjusted() >= MAX_NUMBER_DIGITS:
            self.diagnostics.append(Diagnostic(f"'{token}' is too large for a rule", token_span(token),
                                               f"numbers in rules have at most {MAX_NUMBER_DIGITS} digits "
                                               "before the decimal point"))
            return Decimal(0)
        return value

    # Keyword alternatives (`!rule`s in the grammar) arrive as their single token's text.
    def compare_op(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    relation = knowledge = span_unit = bool_word = first_last = group_rel = article = compare_op
    previous_next = ref_order = before_after = on_or = tie_policy = compare_op

    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        return Tree(data, children, meta)

