"""What the passes hand each other about expressions: typed operands and leaves, lowered atoms, the error."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Union

from ..errors import Diagnostic, Span, did_you_mean
from ..language import nodes as n
from .model import DURATION_UNITS, Test
from .units import known as known_unit


@dataclass(frozen=True)
class Value:
    """A typed operand: a constant, or a fact field (alias, field) plus an offset."""

    type: str  # date | number | text | boolean | duration | percent | elapsed | time
    span: Span
    alias: str | None = None
    field: str | None = None
    scale: int = 1
    unit: str | None = None
    const: Decimal | str | bool | None = None
    days: int = 0
    months: int = 0
    seconds: int = 0  # a date-time moved by hours and minutes (days move it by `days`)
    factor: int = 1  # `2 * uln`: a field times a whole number
    optional: bool = False
    spread: bool = False  # a count that may be an interval: `field__hi` holds the most it may be
    elapsed: tuple[Value, Value] | None = None
    lookup: tuple[str, Value] | None = None  # (table name, key value)
    # A field of a record that may not exist (a reference): the flag, besides the field's own, that says it does.
    guard: str | None = None
    # A computed amount (arithmetic.Amount) being typed; once settled, `field` names its fact field (`amount__1`).
    amount: object | None = None
    ratio: tuple[int, int] | None = None  # a bound that is num/den of a computed amount (`within 10 % of ...`)
    plus: Decimal | None = None  # a bound that is a computed amount plus this (`within 5 mg of ...`)
    formula: str | None = None  # a formula's name, until the check pass types its body

    @property
    def is_ref(self) -> bool:
        return self.alias is not None


@dataclass(frozen=True)
class Atom:
    """A lowered condition leaf: tests that hold together, plus the optional fields they read."""

    tests: tuple[Test, ...]
    reads: frozenset[tuple[str, str]]
    lookups: tuple[tuple[str, Value, Value], ...] = ()  # (op, table value with its factor, field compared)
    span: Span | None = None


Conj = tuple[Atom, ...]


@dataclass(frozen=True)
class TypedCompare:
    left: Value
    op: str
    right: Value
    span: Span


@dataclass(frozen=True)
class TypedRange:
    """`subject` from `low` to `high`, both included: `between`, and `within` once its bounds are known."""

    subject: Value
    low: Value
    high: Value
    span: Span


@dataclass(frozen=True)
class TypedFlag:
    """`x` (a yes/no field is yes) or `x is known` / `x is missing`."""

    value: Value
    known: bool | None  # None: a yes/no test; True/False: known/missing
    span: Span


@dataclass(frozen=True)
class TypedMember:
    subject: Value
    values: tuple[Value, ...]
    negated: bool
    span: Span


TypedLeaf = Union[TypedCompare, TypedRange, TypedFlag, TypedMember]


class Unsupported(Exception):
    """A construct a pass cannot accept; the pipeline records its diagnostic and reads on."""

    def __init__(self, message: str, span: Span, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(message, span, hint)


def describe(value: Value) -> str:
    """An operand's kind in words, for diagnostics."""
    if value.type == "number":
        return f"a number{' in ' + value.unit if value.unit else ''}"
    if value.type == "duration" and value.seconds:
        return "a duration in hours or minutes"
    return {"date": "a date", "datetime": "a date-time", "duration": "a duration", "percent": "a percentage", "text": "a text",
            "boolean": "a yes/no value", "elapsed": "an elapsed time", "time": "a clock time"}.get(value.type, value.type)


def shift(anchor: Value, width: Value, sign: int) -> Value:
    """A date (or date-time) moved by a duration, forwards (sign 1) or backwards (sign -1)."""
    return replace(anchor, days=anchor.days + sign * width.days, months=anchor.months + sign * width.months,
                   seconds=anchor.seconds + sign * width.seconds)


def text_of(source_lines: list[str], span: Span) -> str:
    """The rules text a span covers, on one line."""
    lines = source_lines[span.line - 1:span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1:span.end_column - 1]
    lines[-1] = lines[-1][:span.end_column - 1]
    lines[0] = lines[0][span.column - 1:]
    return " ".join(line.strip() for line in lines)


def quantity_text(q: n.Quantity) -> str:
    """A quantity written canonically, for a parameter whose source text is not at hand."""
    value = format(q.value.normalize(), "f") if q.value == q.value.to_integral_value() and abs(q.value) < 10**7 \
        else str(q.value.normalize())
    return f"{value} {q.unit}" if q.unit and q.unit != "%" else (f"{value}%" if q.unit == "%" else value)


def leaves(cond: n.Cond | None) -> list[n.Cond]:
    """The leaf conditions under `and`, `or` and `not`, in source order."""
    if cond is None:
        return []
    if isinstance(cond, n.Not):
        return leaves(cond.item)
    if isinstance(cond, (n.And, n.Or)):
        return [leaf for item in cond.items for leaf in leaves(item)]
    return [cond]


def typed_quantity(q: n.Quantity, units: frozenset[str]) -> Value:
    """A written amount as an operand: a plain number, a percentage, a duration, or a number in a unit."""
    if q.unit is not None and q.unit != "%" and q.unit not in DURATION_UNITS and q.unit not in units \
            and not known_unit(q.unit):
        known = sorted(set(DURATION_UNITS) | units)
        raise Unsupported(f"unknown unit '{q.unit}'", q.span,
                          did_you_mean(q.unit, known) or "units are durations (minutes, hours, days, weeks, months, "
                          "years), %, a unit declared on a field, or one of grams, litres, moles and metres with "
                          "their prefixes (mg/dL, umol/L, 10^9/L)")
    if q.unit is None:
        return Value("number", q.span, const=q.value)
    if q.unit == "%":
        return Value("percent", q.span, const=q.value)
    if q.unit in DURATION_UNITS:
        base, factor = DURATION_UNITS[q.unit]
        if q.value != q.value.to_integral_value():
            raise Unsupported(f"a duration must be a whole number of {q.unit}", q.span)
        amount = int(q.value) * factor
        return Value("duration", q.span, unit=base, days=amount if base == "days" else 0,
                     months=amount if base == "months" else 0, seconds=amount if base == "seconds" else 0)
    return Value("number", q.span, const=q.value, unit=q.unit)


def constant_duration(expr: n.Expr, params: dict[str, n.ParamDecl], units: frozenset[str],
                      zero: bool = False) -> tuple[Value, str | None]:
    """A window's length or tolerance, written or named by a parameter: (its value, the parameter named)."""
    value: Value | None = None
    param = None
    if isinstance(expr, n.Quantity):
        value = typed_quantity(expr, units)
    elif isinstance(expr, n.NameRef) and expr.field is None and expr.name in params:
        param = expr.name
        decl = params[expr.name]
        value = typed_quantity(decl.value, units) if decl.value is not None else None
    if value is None or value.type != "duration":
        raise Unsupported("a window's length is a duration, written or named by a parameter", expr.span,
                          "for example 3 months, or a parameter such as `parameter interval = 3 months`")
    if value.seconds:
        raise Unsupported("a window's length is in days, weeks, months or years", expr.span)
    if value.days and value.months or value.days + value.months < (0 if zero else 1):
        raise Unsupported("a window's length is a positive number of days, weeks, months or years", expr.span)
    return value, param
