"""Leaf conditions as predicates: whom a comparison, range, membership or flag is about, and what it says."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..compiler.model import FLIP, NEGATE
from ..language import nodes as n
from .expressions import DatePhrase, NounPhrases
from .names import Names, Scope
from .phrases import OPS_DATE, OPS_DATE_OFFSET, OPS_NUMBER, OPS_TIME, decimal_text, human_name, one_of_values


@dataclass(frozen=True)
class Predicate:
    """A condition leaf as words: who it is about and what is said of it (without "is")."""

    about: str  # date | field | flag | other
    subject: str  # the field name (date, field, flag) or a noun phrase (other)
    complement: str
    either: bool = False  # the complement is itself an alternative ("before A or after B")


class Predicates:
    """Each leaf condition as a predicate, one method per node type (`_pred_<Node>`), never per rule id."""

    def __init__(self, names: Names, nouns: NounPhrases):
        self.names = names
        self.nouns = nouns

    def of(self, cond: n.Cond, neg: bool, scope: Scope) -> Predicate:
        """The leaf `cond` as a predicate, `neg`ated if asked."""
        return getattr(self, f"_pred_{type(cond).__name__}")(cond, neg, scope)  # type: ignore[no-any-return]

    def _about(self, expr: n.Expr, scope: Scope, complement: str, either: bool = False) -> Predicate:
        """Whom a predicate is about: the current record's day or field, or anything else by name."""
        ref = self.names.resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        current = ref is not None and (ref.kind == "sought" or ref.kind in ("trigger", "group")
                                       and scope.current == "trigger")
        if current and ref is not None:
            name = human_name(ref.name) if ref.kind == "group" else ref.name
            return Predicate("date" if ref.name == "date" else "field", name, complement, either)
        return Predicate("other", self.nouns.phrase(expr, scope), complement, either)

    def _pred_Compare(self, cond: n.Compare, neg: bool, scope: Scope) -> Predicate:
        left, op, right = cond.left, NEGATE[cond.op] if neg else cond.op, cond.right
        if self.names.is_constant(left, scope) and not self.names.is_constant(right, scope) or \
                isinstance(right, n.Elapsed) and not isinstance(left, n.Elapsed):
            left, right, op = right, left, FLIP[op]
        kind = self.names.type_of(left, scope)
        if kind == "boolean" and isinstance(right, n.Boolean):
            return self._flag(left, right.value == (op == "="), scope)
        if kind == "date":
            return self._about(left, scope, self._date_relation(op, right, scope))
        if kind in ("time", "datetime"):
            return self._about(left, scope, f"{OPS_TIME[op]} {self.nouns.phrase(right, scope)}")
        return self._about(left, scope, self._amount(left, op, right, scope))

    def _amount(self, left: n.Expr, op: str, right: n.Expr, scope: Scope) -> str:
        value = self.nouns.phrase(right, scope) + _elapsed_unit(left, right)
        constant = self.names.is_constant(right, scope)
        if op in OPS_NUMBER:
            ref = self.names.resolve(left, scope) if isinstance(left, n.NameRef) else None
            bound = self.names.constant(right, scope)
            if ref is not None and ref.kind == "count" and ref.name == "count" and bound is not None \
                    and (op, bound.value) in (("<", Decimal(1)), ("<=", Decimal(0))):
                return "0"  # a count below 1 is none at all
            return f"{OPS_NUMBER[op]} {value}"
        text = self.names.type_of(right, scope) == "text" or self.names.type_of(left, scope) == "text"
        if op == "=":
            return value if text and constant else f"exactly {value}" if constant else f"equal to {value}"
        return f"other than {value}" if constant else f"different from {value}"

    def _flag(self, expr: n.Expr, value: bool, scope: Scope) -> Predicate:
        pred = self._about(expr, scope, "")
        if pred.about == "field":
            return Predicate("flag", pred.subject, ("marked " if value else "not marked ") + pred.subject)
        return replace(pred, complement="yes" if value else "no")

    def _date_relation(self, op: str, right: n.Expr, scope: Scope) -> str:
        date = self.nouns.date(right, scope)
        if isinstance(right, n.Arith):
            return f"{OPS_DATE_OFFSET[op]} {date.text}"
        if op == "=":
            return f"on {date.day()}"
        if op == "!=":
            return f"not on {date.day()}"
        return f"{OPS_DATE[op]} {date.text}"

    def _pred_Truthy(self, cond: n.Truthy, neg: bool, scope: Scope) -> Predicate:
        return self._flag(cond.subject, not neg, scope)

    def _pred_Known(self, cond: n.Known, neg: bool, scope: Scope) -> Predicate:
        ref = self.names.resolve(cond.subject, scope) if isinstance(cond.subject, n.NameRef) else None
        if ref is not None and ref.kind == "visit" and ref.name == "date":
            assigned = f"assigned to a visit of the schedule {ref.record}"
            return Predicate("flag", "", assigned if cond.known != neg else f"not {assigned}")
        if ref is not None and ref.kind == "state":  # a trial state's end: reached, or not yet
            return self._about(cond.subject, scope, "reached" if cond.known != neg else "not reached")
        return self._about(cond.subject, scope, "recorded" if cond.known != neg else "not recorded")

    def _pred_Member(self, cond: n.Member, neg: bool, scope: Scope) -> Predicate:
        values = [self.nouns.phrase(v, scope) for v in cond.values]
        return self._about(cond.subject, scope, one_of_values(values, cond.negated != neg))

    def _pred_Between(self, cond: n.Between, neg: bool, scope: Scope) -> Predicate:
        if self.names.type_of(cond.subject, scope) == "date":
            if neg:
                text = f"{self._date_relation('<', cond.low, scope)} or {self._date_relation('>', cond.high, scope)}"
                return self._about(cond.subject, scope, text, either=True)
            low, high = self.nouns.date(cond.low, scope).text, self.nouns.date(cond.high, scope).text
            return self._about(cond.subject, scope, f"from {low} to {high}")
        unit = _elapsed_unit(cond.subject, cond.high)
        low, high = self.nouns.phrase(cond.low, scope), self.nouns.phrase(cond.high, scope)
        if neg:
            return self._about(cond.subject, scope, f"less than {low} or more than {high}{unit}", either=True)
        return self._about(cond.subject, scope, f"between {low} and {high}{unit} inclusive")

    def _pred_Within(self, cond: n.Within, neg: bool, scope: Scope) -> Predicate:
        width = self.nouns.phrase(cond.width, scope)
        kind = self.names.type_of(cond.width, scope)
        if kind == "duration":
            anchor = self.nouns.date(cond.anchor, scope)
            relation = cond.relation
            if neg:
                low = f"before {anchor.text}" if relation == "after" else f"earlier than {width} before {anchor.text}"
                again = anchor.again()
                high = f"after {again}" if relation == "before" else f"later than {width} after {again}"
                return self._about(cond.subject, scope, f"{low} or {high}", either=True)
            if relation == "before":
                text = f"from {width} before {anchor.text} up to {DatePhrase(anchor.again(), anchor.head).day()}"
            elif relation == "after":
                text = f"from {anchor.day()} up to {width} after {anchor.again()}"
            else:
                text = f"from {width} before {anchor.text} to {width} after {anchor.again()}"
            return self._about(cond.subject, scope, text)
        anchor_text = self.nouns.phrase(cond.anchor, scope)
        bounds = _inclusive_range(self.names.constant(cond.width, scope), self.names.constant(cond.anchor, scope))
        text = f"within {width} of {anchor_text}" + (f" ({bounds})" if bounds else "")
        return self._about(cond.subject, scope, ("not " if neg else "") + text)


def _elapsed_unit(left: n.Expr, right: n.Expr) -> str:
    """The unit an elapsed time is counted in, after a bare number compared with it."""
    if isinstance(left, n.Elapsed) and isinstance(right, n.Quantity) and right.unit is None:
        return f" {left.unit}"
    return ""


def _inclusive_range(width: n.Quantity | None, anchor: n.Quantity | None) -> str:
    """`within 10% of 60 mg/kg` -> "54 to 66 mg/kg": the inclusive range, for a constant value."""
    if width is None or anchor is None:
        return ""
    if width.unit == "%":
        low, high = anchor.value * (1 - width.value / 100), anchor.value * (1 + width.value / 100)
    else:
        low, high = anchor.value - width.value, anchor.value + width.value
    unit = f" {anchor.unit}" if anchor.unit else ""
    return f"{decimal_text(low)} to {decimal_text(high)}{unit}"
