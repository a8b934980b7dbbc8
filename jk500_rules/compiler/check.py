"""Pass 2: types and units. Every expression gets a typed operand; every leaf condition is checked.

A leaf that passes becomes a typed leaf (a comparison, a range, a yes/no or known test, a membership),
the only form the lowering pass reads. Constraints of the engine's test language (which comparisons it
can state) are the lowering pass's; this one checks what the rules text means.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from ..dates import SECONDS_PER_DAY
from ..errors import Diagnostic, Span
from ..language import nodes as n
from .arithmetic import Amount, AmountBuilder, Registry, amount_value, same_amount_units, scale, settle
from .computed import ComputedAmount
from .model import FLIP
from .operands import (TypedCompare, TypedFlag, TypedLeaf, TypedMember, TypedRange, Unsupported, Value, describe, leaves,
                       shift, text_of, typed_quantity)
from .resolve import Resolved, ResolvedRule
from .units import amount_conversion, amount_kind, conversion, dimensioned, exact_decimal


@dataclass(frozen=True)
class CheckedRule:
    resolved: ResolvedRule
    leaves: dict[n.Node, TypedLeaf]  # a leaf missing here did not resolve or failed a check (reported)
    due: Value | None  # the date a `judged from` check falls due
    dated: Value | None = None  # the date `dated by` gives the rule's findings


@dataclass(frozen=True)
class Checked:
    resolved: Resolved
    rules: tuple[CheckedRule, ...]
    computed: tuple[ComputedAmount, ...] = ()  # what the audit works out per record (computed.py)


def check(resolved: Resolved, diagnostics: list[Diagnostic], source_lines: list[str] | None = None) -> Checked:
    registry = Registry()
    rules = tuple(_RuleChecker(rule, resolved, diagnostics, registry, source_lines or []).check()
                  for rule in resolved.rules)
    return Checked(resolved, rules, registry.all())


class _RuleChecker:
    def __init__(self, rule: ResolvedRule, resolved: Resolved, diagnostics: list[Diagnostic], registry: Registry,
                 source_lines: list[str]) -> None:
        self.rule, self.decls, self.diagnostics = rule, resolved.decls, diagnostics
        self.registry, self.source_lines = registry, source_lines

    def check(self) -> CheckedRule:
        check = self.rule.rule.check
        conds = [check.where, check.verdict.cond, *(c.cond for c in (*check.needs, *check.excuses))]
        typed: dict[n.Node, TypedLeaf] = {}
        for leaf in (leaf for cond in conds for leaf in leaves(cond)):
            if leaf not in self.rule.bound:
                continue
            try:
                typed[leaf] = self._settled(self._leaf(leaf))
            except Unsupported as exc:
                if exc.diagnostic not in self.diagnostics:  # a formula's mistake, met by each rule reading it
                    self.diagnostics.append(exc.diagnostic)
        due = None
        if check.verdict.due is not None and self.rule.complete:
            try:
                due = self.value(check.verdict.due)
                if due.type != "date":
                    raise Unsupported("'judged from' needs a date", check.verdict.due.span)
            except Unsupported as exc:
                self.diagnostics.append(exc.diagnostic)
                due = None
        return CheckedRule(self.rule, typed, due, self._dated())

    def _dated(self) -> Value | None:
        """`dated by`: a date of a record the rule matches, moved by a duration (resolve.py refuses the record a
        `require` seeks)."""
        rule = self.rule.rule
        if rule.dated_by is None or not self.rule.complete:
            return None
        try:
            dated = self.value(rule.dated_by)
            if dated.type != "date" or dated.alias is None or dated.field is None or dated.seconds:
                raise Unsupported("'dated by' takes the date of a record the rule reads, moved by days, weeks or months",
                                  rule.dated_by.span, "for example: dated by first infusion.date - 7 days")
            if dated.guard is not None or dated.spread or dated.lookup is not None:
                raise Unsupported("'dated by' takes a record's own date field", rule.dated_by.span)
        except Unsupported as exc:
            self.diagnostics.append(exc.diagnostic)
            return None
        return dated

    def value(self, expr: n.Expr) -> Value:
        """The typed operand of an expression."""
        if isinstance(expr, n.Quantity):
            return typed_quantity(expr, self.decls.units)
        if isinstance(expr, n.Text):
            return Value("text", expr.span, const=expr.value)
        if isinstance(expr, n.Boolean):
            return Value("boolean", expr.span, const=expr.value)
        if isinstance(expr, n.Arith):
            return self._amount(expr) if self._computed(expr) else self._arith(expr)
        if isinstance(expr, n.Elapsed):
            return self._elapsed(expr)
        if isinstance(expr, n.Lookup):
            key = self.value(expr.key)
            if not key.is_ref:
                raise Unsupported("a table is looked up by a field or subject attribute", expr.key.span)
            decl = self.decls.params[expr.table]
            unit = decl.entries[0].value.unit if decl.entries else None
            return Value("number", expr.span, unit=unit, lookup=(expr.table, key))
        value = self.rule.values[expr]
        if value.formula is not None:
            return self._formula(self.decls.formulas[value.formula], expr.span)
        return value

    def _computed(self, expr: n.Arith) -> bool:
        """Whether an expression is a computed amount: a field in it, and not a date moved by a duration nor
        the exact `N * field` a comparison with a field of the same record takes as it is."""
        values = self._operands(expr)
        if not any(v.is_ref or v.lookup is not None or v.elapsed is not None or v.amount is not None for v in values):
            return False
        if any(v.type in ("date", "datetime", "duration", "time") for v in values):
            return False
        if expr.op == "*" and len(values) == 2:
            const, field = sorted(values, key=lambda v: v.is_ref)
            whole = not const.is_ref and const.lookup is None and const.unit is None and const.type == "number" and \
                const.const == const.const.to_integral_value() and const.const > 0  # type: ignore[union-attr]
            plain = field.is_ref and field.type == "number" and field.amount is None and field.factor == 1
            return not (whole and plain)
        return True

    def _operands(self, expr: n.Expr) -> list[Value]:
        if isinstance(expr, n.Arith):
            return self._operands(expr.left) + self._operands(expr.right)
        return [self.value(expr)]

    def _home(self, span: Span) -> str:
        """The record type a computed amount is worked out on: the record a subject-level rule checks."""
        source = self.rule.rule.check.source
        if self.rule.level != "subject" or source.form not in ("each", "first", "last"):
            raise Unsupported("a computed amount is worked out on the record a subject-level rule checks", span,
                              "check the rule for each, first or last record of a type")
        return source.event

    def _builder(self, span: Span, plain: bool = False) -> AmountBuilder:
        return AmountBuilder(self.value, self.rule.anchors, self._home(span),
                             self.decls.params, lambda span: text_of(self.source_lines, span), plain)

    def _amount(self, expr: n.Arith) -> Value:
        term, unit = self._builder(expr.span).build(expr)
        label = text_of(self.source_lines, expr.span) or "the amount computed"
        return amount_value(Amount(term, unit, label), expr.span)

    def _formula(self, decl: n.FormulaDecl, span: Span) -> Value:
        """A formula read by a rule: its body typed in the rule's scope, in the unit it declares."""
        term, unit = self._builder(span, plain=decl.empirical is not None).build(decl.body)
        if decl.empirical is None and unit != decl.unit:
            factor = amount_conversion(unit, decl.unit)
            if factor is None:
                kinds = amount_kind(unit) if unit is not None else "a plain number"
                raise Unsupported(f"unit mismatch: formula {decl.name} gives {unit or 'a plain number'}, but is declared "
                                  f"in {decl.unit} ({unit or 'it'} is {kinds}, {decl.unit} "
                                  f"{dimensioned(decl.unit).describe()})", decl.body.span,
                                  "write the formula in units that give its own, or state `empirical \"why\"` if "
                                  "its constants carry units")
            term = scale(term, factor)
        return amount_value(Amount(term, decl.unit, decl.name, decl.name), span)

    def _settled(self, leaf: TypedLeaf) -> TypedLeaf:
        """Each computed amount of a typed leaf given its fact field, in the unit it is compared in."""
        fields = {TypedCompare: ("left", "right"), TypedRange: ("subject", "low", "high"), TypedFlag: ("value",),
                  TypedMember: ("subject",)}[type(leaf)]
        values = [getattr(leaf, name) for name in fields]
        if not any(v.amount is not None for v in values):
            return leaf
        event = self._home(leaf.span)
        return replace(leaf, **{name: settle(v, event, self.registry) for name, v in zip(fields, values)})

    def _elapsed(self, expr: n.Elapsed) -> Value:
        start, end = self.value(expr.start), self.value(expr.end)
        clock = expr.unit in ("hours", "minutes")
        for v in (start, end):
            if clock and (v.type not in ("time", "datetime") or not v.is_ref or v.seconds or v.days):
                raise Unsupported(f"'{expr.unit} from ... to ...' needs two clock-time or two date-time fields",
                                  v.span, "declare them with the type time (HH:MM) or datetime")
            if not clock and (v.type != "date" or not v.is_ref or v.days or v.months):
                raise Unsupported(f"'{expr.unit} from ... to ...' needs two record dates", v.span)
        if clock and start.type != end.type:
            raise Unsupported(f"'{expr.unit} from ... to ...' measures between two clock times or two date-times, "
                              f"not {describe(start)} and {describe(end)}", expr.span)
        return Value("elapsed", expr.span, unit=expr.unit, elapsed=(start, end))

    def _arith(self, expr: n.Arith) -> Value:
        left, right = self.value(expr.left), self.value(expr.right)
        if expr.op == "*":
            return _multiply(left, right, expr.span)
        if expr.op == "/":
            return _divide(left, right, expr.span)
        sign = 1 if expr.op == "+" else -1
        if left.type == "datetime" and right.type == "duration":
            if right.months:
                raise Unsupported("calendar months and years cannot be added to a date-time", expr.right.span,
                                  "add days, hours or minutes")
            return replace(left, span=expr.span, seconds=left.seconds + sign * (right.seconds + right.days * SECONDS_PER_DAY))
        if left.type == "date" and right.type == "duration" and right.seconds:
            raise Unsupported("hours and minutes are added to a date-time, not to a date", expr.right.span,
                              "declare the field with the type datetime")
        if left.type == "date" and right.type == "duration":
            return replace(left, span=expr.span, days=left.days + sign * right.days,
                           months=left.months + sign * right.months)
        if left.type == "duration" and right.type == "duration" and left.unit == right.unit:
            return replace(left, span=expr.span, days=left.days + sign * right.days,
                           months=left.months + sign * right.months, seconds=left.seconds + sign * right.seconds)
        if left.type == "number" and right.type == "number" and left.unit == right.unit and not right.is_ref \
                and right.lookup is None and left.lookup is None:
            if left.is_ref:
                raise Unsupported("arithmetic on a field is limited to dates plus or minus a duration", expr.span)
            return Value("number", expr.span, const=left.const + sign * right.const, unit=left.unit)  # type: ignore[operator]
        raise Unsupported(f"cannot {'add' if sign > 0 else 'subtract'} {describe(right)} "
                          f"{'to' if sign > 0 else 'from'} {describe(left)}", expr.span)

    def _leaf(self, cond: n.Cond) -> TypedLeaf:
        if isinstance(cond, n.Compare):
            left, right = same_units(self.value(cond.left), self.value(cond.right), cond.span)
            check_comparison(left, cond.op, right, cond.span)
            return TypedCompare(left, cond.op, right, cond.span)
        if isinstance(cond, n.Truthy):
            value = self.value(cond.subject)
            if value.type != "boolean" or not value.is_ref:
                raise Unsupported(f"{describe(value)} is not a yes/no field", cond.span,
                                  "compare it, e.g. 'x > 0' or 'x = \"text\"'")
            return TypedFlag(value, None, cond.span)
        if isinstance(cond, n.Known):
            value = self.value(cond.subject)
            if value.amount is not None:
                raise Unsupported("a computed amount is known when each value it reads is", cond.span,
                                  "ask whether those values are known")
            if not value.is_ref:
                raise Unsupported("only a field can be known or missing", cond.span)
            if not value.optional and not value.guard:
                raise Unsupported(f"{value.field} is always known", cond.span,
                                  "it is required, has a value when empty (`empty means`), or is the record's date")
            return TypedFlag(value, cond.known, cond.span)
        if isinstance(cond, n.Member):
            subject = self.value(cond.subject)
            values = tuple(same_units(subject, self.value(v), cond.span)[1] for v in cond.values)
            for v in values:
                check_comparison(subject, "!=" if cond.negated else "=", v, cond.span)
            return TypedMember(subject, values, cond.negated, cond.span)
        if isinstance(cond, n.Between):
            subject, low, high = self.value(cond.subject), self.value(cond.low), self.value(cond.high)
            return _range(subject, low, high, cond.span)
        if isinstance(cond, n.Within):
            return self._within(cond)
        raise Unsupported("this condition is not supported here", cond.span)  # pragma: no cover

    def _within(self, cond: n.Within) -> TypedRange:
        subject, width, anchor = self.value(cond.subject), self.value(cond.width), self.value(cond.anchor)
        if width.type == "duration" and (subject.type == "datetime" or anchor.type == "datetime"):
            if subject.type != "datetime" or anchor.type != "datetime":
                raise Unsupported(f"a window of time compares like with like, not {describe(subject)} with "
                                  f"{describe(anchor)}", cond.span)
            if width.months:
                raise Unsupported("a window around a date-time is in days, hours or minutes", cond.width.span)
            width = replace(width, seconds=width.seconds + width.days * SECONDS_PER_DAY, days=0)
            low = anchor if cond.relation == "after" else shift(anchor, width, -1)
            high = anchor if cond.relation == "before" else shift(anchor, width, +1)
            return _range(subject, low, high, cond.span)
        if width.type == "duration":
            if subject.type != "date" or anchor.type != "date":
                raise Unsupported("a window of time needs dates on both sides", cond.span)
            if width.seconds:
                raise Unsupported("a window of hours or minutes is around a date-time, not a date", cond.width.span,
                                  "declare the fields with the type datetime")
            low = anchor if cond.relation == "after" else shift(anchor, width, -1)
            high = anchor if cond.relation == "before" else shift(anchor, width, +1)
            return _range(subject, low, high, cond.span)
        if width.type == "percent":
            if cond.relation != "of":
                raise Unsupported("a percentage tolerance reads 'within P % of VALUE'", cond.span)
            if anchor.amount is not None:
                return _percent_of_amount(subject, width, anchor, cond)
            if anchor.type != "number" or anchor.is_ref:
                raise Unsupported("a percentage tolerance needs a constant or table value", cond.anchor.span)
            fraction = width.const / Decimal(100)  # type: ignore[operator]
            anchor = same_units(subject, anchor, cond.anchor.span)[1]  # the amount as written, before the bounds
            if anchor.lookup:
                # A table value: the factor rides in `const` until the table is expanded per key.
                low = replace(anchor, const=Decimal(1) - fraction)
                high = replace(anchor, const=Decimal(1) + fraction)
            else:
                low = replace(anchor, const=anchor.const * (1 - fraction))  # type: ignore[operator]
                high = replace(anchor, const=anchor.const * (1 + fraction))  # type: ignore[operator]
            return _range(subject, low, high, cond.span)
        if width.type == "number" and not width.is_ref and cond.relation == "of":
            if anchor.amount is not None:
                return _width_around_amount(subject, width, anchor, cond)
            if anchor.type != "number" or anchor.is_ref or anchor.lookup:
                raise Unsupported("an absolute tolerance needs a constant value", cond.anchor.span)
            anchor = same_units(subject, anchor, cond.anchor.span)[1]  # amounts as written, before the bounds
            if width.unit != anchor.unit and width.unit is not None:
                converted = in_unit(width, anchor.unit, cond.width.span) if anchor.unit else None
                if converted is None:
                    a, b = dimensioned(width.unit), dimensioned(anchor.unit or "")
                    raise Unsupported(f"unit mismatch: a tolerance in {width.unit} around {describe(anchor)}"
                                      + (f" ({width.unit} is {a.describe()}, {anchor.unit} {b.describe()})"
                                         if anchor.unit else ""), cond.width.span,
                                      f"write the tolerance in {anchor.unit}" if anchor.unit else None)
                width = converted
            low = replace(anchor, const=anchor.const - width.const)  # type: ignore[operator]
            high = replace(anchor, const=anchor.const + width.const)  # type: ignore[operator]
            return _range(subject, low, high, cond.span)
        raise Unsupported(f"'within' takes a duration, a percentage or an amount, not {describe(width)}",
                          cond.width.span)


def same_units(left: Value, right: Value, span: Span) -> tuple[Value, Value]:
    """Two numbers in units of the same kind, the constant converted exactly to the field's unit (`1.5 g/L`
    against a field in mg/dL is 150 mg/dL); units of different kinds are an error naming both."""
    if left.type != "number" or right.type != "number" or left.unit == right.unit or None in (left.unit, right.unit):
        return left, right
    if left.amount is not None or right.amount is not None:
        left, right = same_amount_units(left, right, span)
        if left.unit == right.unit:
            return left, right
    table = next((v for v in (left, right) if v.lookup is not None), None)
    if table is not None and table.lookup is not None and \
            dimensioned(left.unit or "").kinds == dimensioned(right.unit or "").kinds:
        field = right if table is left else left
        raise Unsupported(f"the entries of {table.lookup[0]} are in {table.unit}, the field in {field.unit}: a "
                          "table's amounts are not converted", span, f"write the entries of {table.lookup[0]} in "
                          f"{field.unit}")
    constant = right if not right.is_ref and right.lookup is None else left if not left.is_ref and \
        left.lookup is None else None
    other = left if constant is right else right
    converted = in_unit(constant, other.unit, span) if constant is not None and other.unit else None
    if converted is None:
        a, b = dimensioned(left.unit or ""), dimensioned(right.unit or "")
        if a.kinds != b.kinds:
            raise Unsupported(f"unit mismatch: {left.unit} against {right.unit} ({left.unit} is {a.describe()}, "
                              f"{right.unit} {b.describe()})", span,
                              f"write the amount in {other.unit}, or in a unit of the same kind"
                              if constant is not None else "compare amounts of the same kind")
        raise Unsupported(f"unit mismatch: {left.unit} against {right.unit}", span,
                          "only a written amount is converted to a field's unit: give both sides one unit")
    return (left, converted) if constant is right else (converted, right)


def in_unit(value: Value, unit: str, span: Span) -> Value | None:
    """A constant amount in another unit of the same kind, exactly; None when the units do not convert."""
    if value.unit is None or value.const is None:
        return None
    factor = conversion(value.unit, unit)
    if factor is None:
        return None
    amount = exact_decimal(Fraction(Decimal(value.const)) * factor)  # type: ignore[arg-type]
    if amount is None:
        raise Unsupported(f"{value.const} {value.unit} has no exact decimal value in {unit}", value.span or span,
                          f"write the amount in {unit}")
    return replace(value, const=amount, unit=unit)


def check_comparison(left: Value, op: str, right: Value, span: Span) -> None:
    """`left OP right` must compare like with like: dates, numbers in one unit, texts, elapsed times."""
    if left.type == "elapsed" or right.type == "elapsed":
        if right.type == "elapsed":
            left, right, op = right, left, FLIP[op]
        unit = left.unit or "years"
        if right.type not in ("duration", "number") or right.is_ref:
            raise Unsupported(f"compare {unit} with a number of {unit}", right.span)
        elapsed_amount(right, unit)
        return
    if left.type == "datetime" or right.type == "datetime":
        if left.type != right.type:
            raise Unsupported(f"cannot compare {describe(left)} with {describe(right)}", span,
                              "a date-time is an instant, a date a whole day: compare two date-times, or two dates"
                              if {left.type, right.type} == {"date", "datetime"} else None)
        return
    if left.type == "date" or right.type == "date":
        if left.type != "date" or right.type != "date":
            raise Unsupported(f"cannot compare {describe(left)} with {describe(right)}", span)
        return
    if left.type == "time" and right.type == "time":
        return
    if left.type != right.type:
        hint = None
        if {left.type, right.type} == {"number", "duration"}:
            hint = "a count or an amount is compared with a number; time between two dates reads `days from A to B`"
        raise Unsupported(f"cannot compare {describe(left)} with {describe(right)}", span, hint)
    if left.type in ("text", "boolean"):
        if op not in ("=", "!="):
            raise Unsupported(f"{left.type} values can only be equal or different", span)
        return
    if left.type == "number":
        if left.unit != right.unit and left.unit is not None and right.unit is not None:
            raise Unsupported(f"unit mismatch: {left.unit} against {right.unit}", span)
        if left.unit != right.unit:
            unit = left.unit or right.unit
            missing = right if right.unit is None else left
            if missing.is_ref or missing.lookup:
                raise Unsupported(f"unit mismatch: {unit} against a plain number", span)
        return
    raise Unsupported(f"cannot compare {describe(left)} with {describe(right)}", span)


def elapsed_amount(value: Value, unit: str) -> int:
    """The whole number of `unit`s an elapsed time is compared with (`60 minutes`, `1 hour` or `60`)."""
    if value.type == "number":
        if value.unit is not None or value.const != value.const.to_integral_value():  # type: ignore[union-attr]
            raise Unsupported(f"compare {unit} with a whole number of {unit}", value.span)
        return int(value.const)  # type: ignore[arg-type]
    if unit in ("hours", "minutes"):
        seconds = value.seconds + value.days * SECONDS_PER_DAY
        step = 3600 if unit == "hours" else 60
        if value.months or seconds % step:
            raise Unsupported(f"compare {unit} with a whole number of {unit}", value.span,
                              f"write a whole number of {unit}, e.g. `2 {unit}`")
        return seconds // step
    if unit in ("years", "months"):
        if value.days:
            raise Unsupported(f"cannot compare {unit} with days or weeks", value.span)
        if unit == "months":
            return value.months
        if value.months % 12:
            raise Unsupported("compare years with a whole number of years", value.span)
        return value.months // 12
    if value.months:
        raise Unsupported(f"cannot compare {unit} with months or years", value.span)
    return value.days // 7 if unit == "weeks" else value.days


def _range(subject: Value, low: Value, high: Value, span: Span) -> TypedRange:
    low, high = same_units(subject, low, span)[1], same_units(subject, high, span)[1]
    same_date = low.type == high.type == "date" and (low.alias, low.field) == (high.alias, high.field)
    if same_date and low.months == high.months and low.days > high.days or \
            same_date and low.days == high.days and low.months > high.months or \
            low.type == high.type == "number" and not low.is_ref and not high.is_ref \
            and low.lookup is None and high.lookup is None and low.const > high.const:  # type: ignore[operator]
        raise Unsupported("this window can never match: it starts after it ends", span, "put the earlier bound first")
    check_comparison(subject, ">=", low, span)
    check_comparison(subject, "<=", high, span)
    return TypedRange(subject, low, high, span)


def _percent_of_amount(subject: Value, width: Value, anchor: Value, cond: n.Within) -> TypedRange:
    """`dose within 10 % of 10 mg/kg * weight`: bounds that are exact fractions of the computed amount."""
    if subject.type != "number" or not subject.is_ref:
        raise Unsupported(f"a tolerance around a computed amount is for a field, not {describe(subject)}", cond.span)
    percent = Fraction(Decimal(width.const))  # type: ignore[arg-type]
    if not 0 <= percent <= 100:
        raise Unsupported("a percentage tolerance around a computed amount is from 0 % to 100 %", cond.width.span)
    anchor = same_units(subject, anchor, cond.anchor.span)[1]
    low, high = 1 - percent / 100, 1 + percent / 100
    return _range(subject, replace(anchor, ratio=(low.numerator, low.denominator)),
                  replace(anchor, ratio=(high.numerator, high.denominator)), cond.span)


def _width_around_amount(subject: Value, width: Value, anchor: Value, cond: n.Within) -> TypedRange:
    """`dose within 5 mg of 10 mg/kg * weight`: the computed amount plus and minus a written amount."""
    anchor = same_units(subject, anchor, cond.anchor.span)[1]
    if width.unit != anchor.unit:
        converted = in_unit(width, anchor.unit, cond.width.span) if anchor.unit and width.unit else None
        if converted is None:
            raise Unsupported(f"unit mismatch: a tolerance in {width.unit or 'a plain number'} around an amount in "
                              f"{anchor.unit or 'a plain number'}", cond.width.span,
                              f"write the tolerance in {anchor.unit}" if anchor.unit else None)
        width = converted
    amount = Decimal(width.const)  # type: ignore[arg-type]
    if amount < 0:
        raise Unsupported("a tolerance is a positive amount", cond.width.span)
    return _range(subject, replace(anchor, plus=-amount), replace(anchor, plus=amount), cond.span)


def _divide(left: Value, right: Value, span: Span) -> Value:
    """`10 mg / 4` of two constants: worked out when the quotient has an exact decimal."""
    if left.type != "number" or right.type != "number" or left.is_ref or right.is_ref or right.unit is not None \
            or left.lookup is not None or right.lookup is not None:
        raise Unsupported(f"cannot divide {describe(left)} by {describe(right)}", span)
    if right.const == 0:
        raise Unsupported("division by zero", span)
    quotient = exact_decimal(Fraction(Decimal(left.const)) / Fraction(Decimal(right.const)))  # type: ignore[arg-type]
    if quotient is None:
        raise Unsupported("this quotient has no exact decimal value", span, "write the amount as a decimal")
    return Value("number", span, const=quotient, unit=left.unit)


def _multiply(left: Value, right: Value, span: Span) -> Value:
    """`2 * uln`: a whole, unitless number times a number (a field, or another constant)."""
    if right.type == "number" and not right.is_ref and right.lookup is None and right.unit is None:
        left, right = right, left
    if left.type != "number" or left.is_ref or left.lookup is not None or left.unit is not None:
        raise Unsupported("a product is a plain number times a number, e.g. 2 * uln", span)
    if right.type != "number" or right.lookup is not None:
        raise Unsupported(f"cannot multiply {describe(right)}", span)
    if not right.is_ref:
        return Value("number", span, const=left.const * right.const, unit=right.unit)  # type: ignore[operator]
    if left.const != left.const.to_integral_value() or left.const <= 0:  # type: ignore[union-attr]
        raise Unsupported("a field can be multiplied by a positive whole number only", span,
                          "the engine compares whole numbers exactly; 2.5 * uln cannot be compared exactly")
    return replace(right, span=span, factor=right.factor * int(left.const))  # type: ignore[arg-type]

