"""lark tree -> condition and expression nodes: the part of the tree builder the others stand on."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Paren:
    """`( ... )` as the parser built it: a condition, or an amount in parentheses (`(140 - age) * weight`).

    The grammar has one rule for both; the builder decides by where it stands."""

    cond: n.Cond
    span: Span


# The rule whose child may be a whole parenthesised condition; anywhere else it must be an amount.
_CONDITION_PLACES = {"truthy"}


def _as_amount(cond: n.Cond) -> n.Expr | None:
    """The amount a parenthesised condition holds (`(a + b)`), or None when it is a real condition."""
    while isinstance(cond, (n.Or, n.And)) and len(cond.items) == 1:
        cond = cond.items[0]
    return cond.subject if isinstance(cond, n.Truthy) else None


@v_args(meta=True)
class ExpressionBuilder(Transformer):
    """lark tree -> condition and expression nodes; value errors (a malformed number) become diagnostics."""

    def __init__(self) -> None:
        super().__init__()
        self.diagnostics: list[Diagnostic] = []

    def _call_userfunc(self, tree: Tree, new_children: list[Any] | None = None) -> Any:
        """A parenthesised condition standing where an amount is read becomes that amount (or an error)."""
        if new_children is not None and tree.data not in _CONDITION_PLACES:
            new_children = [self._amount(c) if isinstance(c, _Paren) else c for c in new_children]
        return super()._call_userfunc(tree, new_children)

    def _amount(self, paren: _Paren) -> n.Expr:
        amount = _as_amount(paren.cond)
        if amount is None:
            self.diagnostics.append(Diagnostic("a condition in parentheses stands where an amount is meant",
                                               paren.span, "compute with + - * / inside the parentheses, "
                                               "or compare outside them"))
            return n.Quantity(span=paren.span, value=Decimal(0), unit=None)
        return amount

    def paren(self, meta: Any, items: list[Any]) -> _Paren:
        return _Paren(items[0], meta_span(meta))

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

    def truthy(self, meta: Any, items: list[Any]) -> n.Cond:
        if isinstance(items[0], _Paren):  # `(a or b)`: the condition itself, as before parentheses were terms
            return items[0].cond
        return n.Truthy(span=meta_span(meta), subject=items[0])

    # --- expressions ---
    def arith(self, meta: Any, items: list[Any]) -> n.Arith:
        return n.Arith(span=meta_span(meta), left=items[0], op=str(items[1]), right=items[2])

    def quantity(self, meta: Any, items: list[Any]) -> n.Quantity:
        unit = items[1] if len(items) > 1 else None
        return n.Quantity(span=meta_span(meta), value=self._decimal(items[0]), unit=unit)

    def unit(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    def field_unit(self, meta: Any, items: list[Any]) -> str:
        return "/".join(str(t) for t in items if not (isinstance(t, Token) and t.type == "SLASH"))

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

    def group_state_ref(self, meta: Any, items: list[Token]) -> n.GroupStateRef:
        state, _, field, relation, attribute = items
        return n.GroupStateRef(span=meta_span(meta), state=str(state), field=str(field), relation=str(relation),
                               attribute=str(attribute), attribute_span=token_span(attribute))

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

