"""Pass 2, its arithmetic: an expression across fields typed as a computed amount, its units worked out.

A computed amount is `+ - * /` over at least one field that is not a date plus a duration: fields of the
record checked, subject attributes, fields of references and of the subject's first or last records,
constants, parameters, table look-ups and completed years. Units multiply and divide, a kind above and
below cancels (mg/kg times kg is mg); `+` and `-` need one kind. The amount becomes a program
(computed.py) the audit works out per record; a rule's thresholds never enter it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from ..errors import Span
from ..language import nodes as n
from .computed import COMPUTED_PREFIX, ComputedAmount, Const, Elapsed, Op, Read, Table, Term
from .model import DECIMAL_SCALE, FOUND, Pattern
from .operands import Unsupported, Value, describe
from .units import amount_conversion, amount_kind, combine, dimensioned, exact_decimal


@dataclass(frozen=True)
class Amount:
    """A computed amount being typed: its program, its unit (None: a plain number), how reasons name it."""

    term: Term
    unit: str | None
    label: str
    name: str = ""  # a formula's name


class Registry:
    """The computed amounts of one protocol version, each once: one fact field per (record type, program)."""

    def __init__(self) -> None:
        self.amounts: dict[tuple[str, Term], ComputedAmount] = {}

    def field(self, event: str, amount: Amount) -> str:
        key = (event, amount.term)
        if key not in self.amounts:
            name = f"{COMPUTED_PREFIX}{len(self.amounts) + 1}"
            self.amounts[key] = ComputedAmount(name, event, amount.term, amount.label, amount.unit, amount.name)
        return self.amounts[key].field

    def all(self) -> tuple[ComputedAmount, ...]:
        return tuple(self.amounts.values())


def amount_value(amount: Amount, span: Span) -> Value:
    """A computed amount as an operand: like a decimal field of the record checked, never certain."""
    return Value("number", span, alias="t", scale=DECIMAL_SCALE, unit=amount.unit, optional=True, amount=amount)


def settle(value: Value, event: str, registry: Registry) -> Value:
    """An operand with its computed amount (if any) in the unit it was compared in, as a fact field."""
    amount = value.amount
    if not isinstance(amount, Amount) or value.field is not None:
        return value
    term = amount.term
    if value.unit != amount.unit and value.unit is not None and amount.unit is not None:
        factor = amount_conversion(amount.unit, value.unit)
        assert factor is not None  # same_amount_units checked it
        term = scale(term, factor)
    settled = Amount(term, value.unit, amount.label, amount.name)
    return replace(value, field=registry.field(event, settled), amount=settled)


def scale(term: Term, factor: Fraction) -> Term:
    """`term` times an exact factor: a decimal multiplied, or a fraction with no finite decimal (1/60) as a
    product and a division (rounded to 6 places)."""
    if factor == 1:
        return term
    exact = exact_decimal(factor)
    if exact is not None:
        return Op("*", term, Const(exact))
    return Op("/", Op("*", term, Const(exact_decimal(Fraction(factor.numerator)) or 0)),
              Const(exact_decimal(Fraction(factor.denominator)) or 1))


def same_amount_units(left: Value, right: Value, span: Span) -> tuple[Value, Value]:
    """A computed amount against another operand of the same kind: a written amount converted exactly to the
    computed amount's unit (as same_units does for a field); a field, a table or another amount: the computed
    amount converted to theirs. Other kinds are an error naming both units."""
    if left.unit == right.unit or left.unit is None or right.unit is None:
        return left, right
    computed, other = (left, right) if left.amount is not None else (right, left)
    factor = amount_conversion(computed.unit, other.unit)
    if factor is None:
        a, b = (amount_kind(v.unit) if v.amount is not None else dimensioned(v.unit).describe()  # type: ignore[arg-type]
                for v in (left, right))
        raise Unsupported(f"unit mismatch: {left.unit} against {right.unit} ({left.unit} is {a}, {right.unit} {b})",
                          span, "compare amounts of the same kind")
    if other.amount is None and not other.is_ref and other.lookup is None:  # a written amount, converted
        amount = exact_decimal(Fraction(Decimal(other.const)) / factor)  # type: ignore[arg-type]
        if amount is None:
            raise Unsupported(f"{other.const} {other.unit} has no exact decimal value in {computed.unit}", other.span,
                              f"write the amount in {computed.unit}")
        written = replace(other, const=amount, unit=computed.unit)
        return (computed, written) if computed is left else (written, computed)
    converted = replace(computed, unit=other.unit)
    return (converted, other) if computed is left else (other, converted)


class AmountBuilder:
    """An arithmetic expression -> (program, unit), each operand typed by the check pass's `value_of`."""

    def __init__(self, value_of: Callable[[n.Expr], Value], anchors: tuple[Pattern, ...], event: str,
                 params: dict[str, n.ParamDecl], written: Callable[[Span], str], plain: bool = False) -> None:
        self.value_of, self.event, self.params, self.plain = value_of, event, params, plain
        self.written = written
        self.anchors = {p.alias: p for p in anchors}

    def build(self, expr: n.Expr) -> tuple[Term, str | None]:
        if isinstance(expr, n.Arith):
            left, lunit = self.build(expr.left)
            right, runit = self.build(expr.right)
            if expr.op in "+-":
                right, unit = self._like(left, lunit, right, runit, expr)
                return _fold(Op(expr.op, left, right)), unit
            unit = None if self.plain else combine(lunit, runit, expr.op == "/")
            text = self.written(expr.right.span) if expr.op == "/" else ""
            return _fold(Op(expr.op, left, right, text)), unit
        if isinstance(expr, n.Elapsed):
            value = self.value_of(expr)
            assert value.elapsed is not None
            if value.unit not in ("years", "months", "weeks", "days"):
                raise Unsupported(f"{value.unit} from clock times cannot be computed with", expr.span,
                                  "compute with completed years, months, weeks or days between two dates")
            start, end = value.elapsed
            return Elapsed(value.unit or "years", self._read(start), self._read(end), self.written(expr.span)), None
        value = self.value_of(expr)
        if isinstance(value.amount, Amount):  # a formula read inside another
            return value.amount.term, None if self.plain else value.amount.unit
        if value.lookup is not None:
            table, key = value.lookup
            entries = tuple((int(e.key) if not isinstance(e.key, str) else e.key, e.value.value)
                            for e in self.params[table].entries)
            return Table(table, entries, self._read(key)), None if self.plain else value.unit
        if value.type != "number":
            raise Unsupported(f"{describe(value)} cannot be computed with", expr.span,
                              "a computed amount is made of numbers: fields, constants, parameters, table "
                              "values and completed years")
        if value.factor != 1:  # pragma: no cover - a product is built here, never through the legacy path
            raise Unsupported("this product cannot be computed with", expr.span)
        unit = None if self.plain else value.unit
        if not value.is_ref:
            return Const(value.const), unit  # type: ignore[arg-type]
        return self._read(value), unit

    def _like(self, left: Term, lunit: str | None, right: Term, runit: str | None,
              expr: n.Arith) -> tuple[Term, str | None]:
        """`+` and `-` need amounts of one kind: the right one converted to the left one's unit exactly; a
        written plain number takes the other side's unit."""
        if lunit == runit:
            return right, lunit
        if runit is None and isinstance(right, Const):
            return right, lunit
        if lunit is None and isinstance(left, Const):
            return right, runit
        factor = amount_conversion(runit, lunit) if runit and lunit else None
        if factor is None:
            words = "add" if expr.op == "+" else "subtract"
            kinds = (f" ({lunit} is {amount_kind(lunit)}, {runit} {amount_kind(runit)})"
                     if lunit and runit else "")
            raise Unsupported(f"unit mismatch: cannot {words} {runit or 'a plain number'} and "
                              f"{lunit or 'a plain number'}{kinds}", expr.span,
                              "add and subtract amounts of the same kind")
        return scale(right, factor), lunit

    def _read(self, value: Value) -> Read:
        """Where the audit finds an operand's value."""
        kind = "date" if value.type == "date" else "decimal" if value.scale != 1 else "integer"
        fname = value.field or ""
        if value.alias == "t":
            return Read("field", fname, kind, self.event)
        if value.alias == "subject":
            return Read("subject", fname, kind, "the subject")
        pattern = self.anchors.get(value.alias or "")
        if pattern is not None and pattern.kind == "$ref" and value.guard == FOUND:
            key = next(str(t.const) for t in pattern.identity if t.field == "refname")
            each = any(t.field == "of" for t in pattern.identity)
            return Read("found", fname, kind, pattern.label, key, each)
        if pattern is not None and any(t.field in ("seq", "rseq") for t in pattern.identity):
            which = "first" if any(t.field == "seq" for t in pattern.identity) else "last"
            return Read("anchor", fname, kind, pattern.label, pattern.kind, which=which)
        raise Unsupported("a computed amount reads the record checked, the subject's attributes, references and "
                          "first or last records, and parameters; not this record", value.span,
                          "compute from the record checked, or name the record by a reference")


def _fold(op: Op) -> Term:
    """Constants worked out at once when exact: `72 * 1` stays a program only when a field is in it."""
    left, right = op.left, op.right
    if isinstance(left, Const) and isinstance(right, Const):
        if op.op == "+":
            return Const(left.value + right.value)
        if op.op == "-":
            return Const(left.value - right.value)
        if op.op == "*":
            return Const(left.value * right.value)
        if right.value != 0:
            exact = exact_decimal(Fraction(left.value) / Fraction(right.value))
            if exact is not None:
                return Const(exact)
    return op

