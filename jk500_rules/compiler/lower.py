"""Pass 3: conditions lowered to disjunctive normal form, each leaf to engine `Test`s.

A condition becomes a disjunction of conjunctions of atoms, each atom tests that hold together: an
integer (or text) comparison between one fact field and a constant, or another fact's field plus an
offset. Windows, tolerances, elapsed years and table look-ups all reduce to that form here, so the
emit pass only ever sees `Test`s.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, replace
from decimal import Decimal

from ..dates import MONTH, SECONDS_PER_DAY, YEAR
from ..errors import Diagnostic, Span
from ..language import nodes as n
from .check import Checked, CheckedRule, elapsed_amount
from . import limits
from .model import DECIDED, FLIP, NEGATE, Test
from .operands import Atom, Conj, TypedCompare, TypedFlag, TypedLeaf, TypedMember, Unsupported, Value
from .resolve import Clause


@dataclass(frozen=True)
class LoweredRule:
    checked: CheckedRule
    where: tuple[Conj, ...]  # the trigger's filter; `((),)` when there is none
    body: tuple[Conj, ...]  # the verdict's condition
    clauses: tuple[tuple[Clause, tuple[Conj, ...]], ...]  # each `needs`/`unless` clause's condition
    due_tests: tuple[Test, ...]  # the cut-off is on or after the date the check falls due
    emittable: bool  # every part lowered: the rule becomes engine rules


@dataclass(frozen=True)
class Lowered:
    checked: Checked
    rules: tuple[LoweredRule, ...]


def lower(checked: Checked, diagnostics: list[Diagnostic]) -> Lowered:
    return Lowered(checked, tuple(_lower_rule(rule, diagnostics) for rule in checked.rules))


def _lower_rule(rule: CheckedRule, diagnostics: list[Diagnostic]) -> LoweredRule:
    resolved = rule.resolved
    check = resolved.rule.check

    too_large = False

    def dnf(cond: n.Cond | None) -> tuple[Conj, ...]:
        nonlocal too_large
        if cond is None:
            return ((),)
        try:
            return tuple(lower_condition(cond, rule.leaves, diagnostics))
        except Unsupported as exc:  # too many alternatives: refused before they are built
            diagnostics.append(exc.diagnostic)
            too_large = True
            return ((),)

    where, body = dnf(check.where), dnf(check.verdict.cond)
    clauses = tuple((clause, dnf(clause.cond)) for clause in resolved.clauses)
    if not too_large:
        too_large = not _few_enough(resolved.rule, where, body, clauses, diagnostics)
    emittable = resolved.complete and not too_large and (check.verdict.due is None or rule.due is not None)
    due_tests: tuple[Test, ...] = ()
    if rule.due is not None and emittable:
        cutoff = Value("date", check.verdict.due.span, alias="cutoff", field="date")  # type: ignore[union-attr]
        try:
            due_tests = compare_dates(cutoff, ">=", rule.due, rule.due.span).tests
            if rule.due.guard:  # a reference found: one absent or undecided never falls due
                due_tests += (Test(rule.due.alias or "", f"{rule.due.guard}__known", "=", 1),)
        except Unsupported as exc:
            diagnostics.append(exc.diagnostic)
            emittable = False
    return LoweredRule(rule, where, body, clauses, due_tests, emittable)


def _few_enough(rule: n.Rule, where: tuple[Conj, ...], body: tuple[Conj, ...],
                clauses: tuple[tuple[Clause, tuple[Conj, ...]], ...], diagnostics: list[Diagnostic]) -> bool:
    """The emit pass makes an engine rule per filter alternative and verdict (or clause) alternative:
    refuse, before any is built, a rule that would make more than one ruleset holds."""
    count = len(where) * (len(body) + sum(len(conjs) for _, conjs in clauses))
    if count <= limits.ENGINE_MAX_RULES:
        return True
    diagnostics.append(Diagnostic(
        f"rule {rule.id} makes at least {count:,} engine rules (its filter's alternatives times its check's); "
        f"durable-rules takes at most {limits.ENGINE_MAX_RULES} in one ruleset", rule.id_span,
        "split the rule into several, each with fewer 'or' choices"))
    return False


def lower_condition(cond: n.Cond, typed: dict[n.Node, TypedLeaf], diagnostics: list[Diagnostic],
                    negate: bool = False) -> list[Conj]:
    """A list of conjunctions of atoms; a leaf that failed an earlier pass, or fails here, reads as true."""
    if isinstance(cond, n.Not):
        return lower_condition(cond.item, typed, diagnostics, not negate)
    if isinstance(cond, (n.And, n.Or)):
        parts = [lower_condition(c, typed, diagnostics, negate) for c in cond.items]
        if isinstance(cond, n.And) != negate:
            alternatives = math.prod(len(part) for part in parts)
            if alternatives > limits.ENGINE_MAX_RULES:
                raise Unsupported(
                    f"this condition has {alternatives:,} alternatives once its 'or's are multiplied out, and each "
                    f"becomes an engine rule; durable-rules takes at most {limits.ENGINE_MAX_RULES} in one ruleset",
                    cond.span, "split the rule into several, each with fewer 'or' choices")
            return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
        alternatives = sum(len(part) for part in parts)
        if alternatives > limits.ENGINE_MAX_RULES:
            raise Unsupported(f"this condition has {alternatives:,} alternatives; durable-rules takes at most "
                              f"{limits.ENGINE_MAX_RULES} rules in one ruleset", cond.span,
                              "split the rule into several, each with fewer 'or' choices")
        return [conj for part in parts for conj in part]
    leaf = typed.get(cond)
    if leaf is None:
        return [()]
    try:
        return [(atom,) for atom in _atoms(leaf, negate)]
    except Unsupported as exc:
        diagnostics.append(exc.diagnostic)
        return [()]


def _atoms(leaf: TypedLeaf, negate: bool) -> list[Atom]:
    """A leaf as alternatives, each an Atom of tests that hold together."""
    if isinstance(leaf, TypedCompare):
        left, right = leaf.left, leaf.right
        op = NEGATE[leaf.op] if negate else leaf.op
        ordered = ("date", "datetime", "number", "elapsed")
        if op == "!=" and left.type in ordered or (op == "=" and left.type == "elapsed"):
            if op == "!=":
                return [compare(left, "<", right, leaf.span), compare(left, ">", right, leaf.span)]
            return [both(compare(left, ">=", right, leaf.span), compare(left, "<=", right, leaf.span))]
        return [compare(left, op, right, leaf.span)]
    if isinstance(leaf, TypedFlag):
        value = leaf.value
        if leaf.known is None:
            return [compare(value, "=", Value("boolean", leaf.span, const=not negate), leaf.span)]
        known = leaf.known != negate
        # Whether a reference was found is itself unknown when it is undecided: read its flag that says so.
        decided = frozenset({(value.alias or "", DECIDED)}) if value.guard else frozenset()
        return [Atom((Test(value.alias or "", f"{value.field}__known", "=", 1 if known else 0),), decided, (),
                     leaf.span)]
    if isinstance(leaf, TypedMember):
        different = leaf.negated != negate
        if different and leaf.subject.spread:
            # A count that may be a range: each `!=` is "less or more", as for dates, so that the range is
            # bounded on each side (2 ** n alternatives).
            sides = [[compare(leaf.subject, op, v, leaf.span) for op in ("<", ">")] for v in leaf.values]
            if len(sides) > 4:
                raise Unsupported("a schedule window's count is compared with at most 4 values in `not in`",
                                  leaf.span, "compare it with a range instead (`count between 1 and 3`)")
            return [functools.reduce(both, chosen) for chosen in itertools.product(*sides)]
        atoms = [compare(leaf.subject, "!=" if different else "=", v, leaf.span) for v in leaf.values]
        return [functools.reduce(both, atoms)] if different else atoms
    subject, low, high = leaf.subject, leaf.low, leaf.high
    if low.ratio is not None:
        # A percentage of a computed amount below zero is never met: the sign is part of the range, and its
        # negation one more alternative, so that `not` stays the exact complement.
        sign = Atom((Test("t", low.field or "", "<" if negate else ">=", 0),), reads_of(low), (), leaf.span)
        if negate:
            return [compare(subject, "<", low, leaf.span), compare(subject, ">", high, leaf.span), sign]
        return [both(both(compare(subject, ">=", low, leaf.span), compare(subject, "<=", high, leaf.span)), sign)]
    if negate:
        return [compare(subject, "<", low, leaf.span), compare(subject, ">", high, leaf.span)]
    return [both(compare(subject, ">=", low, leaf.span), compare(subject, "<=", high, leaf.span))]


def both(a: Atom, b: Atom) -> Atom:
    return Atom(a.tests + b.tests, a.reads | b.reads, a.lookups + b.lookups, a.span)


def compare(left: Value, op: str, right: Value, span: Span) -> Atom:
    """`left OP right` (checked by the check pass) as engine tests."""
    if left.type == "elapsed" or right.type == "elapsed":
        if right.type == "elapsed":
            left, right, op = right, left, FLIP[op]
        return _compare_elapsed(left, op, right, span)
    if left.type == "datetime":
        if not (left.is_ref and right.is_ref):
            raise Unsupported("a date-time is compared with another record's date-time", span)
        offset = (right.seconds + right.days * SECONDS_PER_DAY) - (left.seconds + left.days * SECONDS_PER_DAY)
        plain = {"days": 0, "seconds": 0}
        return Atom((join_test(replace(left, **plain), op, replace(right, **plain), offset),), reads_of(left, right),
                    (), span)
    if left.type == "date" or right.type == "date":
        return compare_dates(left, op, right, span)
    if left.type == "time":
        if not (left.is_ref and right.is_ref):
            raise Unsupported("a clock time is compared with another clock-time field", span)
        return Atom((join_test(left, op, right, 0),), reads_of(left, right), (), span)
    if left.type in ("text", "boolean"):
        return _compare_plain(left, op, right, span)
    return _compare_numbers(left, op, right, span)


def _compare_plain(left: Value, op: str, right: Value, span: Span) -> Atom:
    if not left.is_ref:
        left, right, op = right, left, FLIP[op]
    if not left.is_ref:
        raise Unsupported("this comparison has no field in it", span)
    reads = reads_of(left, right)
    if right.is_ref:
        return Atom((join_test(left, op, right, 0),), reads, (), span)
    const: int | str = int(right.const) if left.type == "boolean" else str(right.const)  # type: ignore[arg-type]
    return Atom((Test(left.alias or "", left.field or "", op, const),), reads, (), span)


def _compare_numbers(left: Value, op: str, right: Value, span: Span) -> Atom:
    if left.ratio is not None or left.plus is not None:
        left, right, op = right, left, FLIP[op]
    if right.ratio is not None or right.plus is not None:
        return _compare_bound(left, op, right, span)
    if not left.is_ref:
        left, right, op = right, left, FLIP[op]
    if not left.is_ref:
        raise Unsupported("this comparison has no field in it", span)
    if left.factor != 1 and right.is_ref:
        left, right, op = right, left, FLIP[op]
    reads = reads_of(left, right, *([right.lookup[1]] if right.lookup else []))
    if right.is_ref:
        if left.spread or right.spread:
            raise Unsupported("a schedule window's count is compared only with a number or a parameter", span,
                              "a count may be a range when a date is known only in part, and the other field is "
                              "not: compare the count with a number")
        if right.scale != left.scale and (left.amount is not None or right.amount is not None):
            return _compare_amount_integer(left, op, right, span)
        if right.scale != left.scale:
            raise Unsupported("cannot compare a decimal field with an integer field", span)
        if left.factor != 1 or right.factor != 1 and right.alias != left.alias:
            raise Unsupported("a multiplied field is compared with a field of the same record", span)
        return Atom((join_test(left, op, right, 0),), reads, (), span)
    if left.factor != 1:
        if right.lookup:
            raise Unsupported("a multiplied field cannot be compared with a table value", span)
        right = replace(right, const=Decimal(right.const) / left.factor)  # type: ignore[arg-type]
    if right.lookup:
        # Resolved per table key by the emit pass; carry the factor in `const`.
        return Atom((), reads, ((op, replace(right, scale=left.scale, alias=None), left),), span)
    return Atom((scaled_test(left, op, Decimal(right.const) * left.scale),), reads, (), span)  # type: ignore[arg-type]


def _compare_amount_integer(left: Value, op: str, right: Value, span: Span) -> Atom:
    """A computed amount (in millionths) against an integer field of the record checked: the field scaled up."""
    if left.amount is None:
        left, right, op = right, left, FLIP[op]
    if right.alias != "t" or right.spread:
        raise Unsupported("a computed amount is compared with a decimal field, or with an integer field of the "
                          "record checked", span)
    test = Test("t", left.field or "", op, other="t", other_field=right.field, factor=left.scale // right.scale)
    return Atom((test,), reads_of(left, right), (), span)


def _compare_bound(field_value: Value, op: str, bound: Value, span: Span) -> Atom:
    """`field OP bound`, the bound a fraction of a computed amount (`* num / den`, rounded so that the integer
    comparison is exact) or the amount plus a written amount."""
    if not field_value.is_ref or field_value.spread:
        raise Unsupported("a tolerance around a computed amount is for a field", span)
    reads = reads_of(field_value, bound)
    amount = bound.field or ""
    if bound.plus is not None:
        offset = bound.plus * bound.scale
        if offset != offset.to_integral_value():
            raise Unsupported("a tolerance around a computed amount has at most 6 decimal places", span)
        whole = int(offset)
        if field_value.scale == bound.scale:
            test = Test(field_value.alias or "", field_value.field or "", op, other="t", other_field=amount,
                        offset=whole)
        elif field_value.alias == "t":  # field * 10^6 OP amount + offset  <=>  amount FLIP(OP) field * 10^6 - offset
            test = Test("t", amount, FLIP[op], other="t", other_field=field_value.field,
                        factor=bound.scale // field_value.scale, offset=-whole)
        else:
            raise Unsupported("a computed amount is compared with a decimal field, or with an integer field of the "
                              "record checked", span)
        return Atom((test,), reads, (), span)
    assert bound.ratio is not None
    num, den = bound.ratio
    den *= bound.scale // field_value.scale
    common = math.gcd(num, den)
    num, den = num // common, den // common
    rounding = "ceil" if op in (">=", "<") else "floor"
    test = Test(field_value.alias or "", field_value.field or "", op, other="t", other_field=amount, factor=num,
                divisor=den if den > 1 else 0, rounding=rounding if den > 1 else "")
    return Atom((test,), reads, (), span)


def compare_dates(left: Value, op: str, right: Value, span: Span) -> Atom:
    if not (left.is_ref and right.is_ref):
        raise Unsupported("a date is compared with another record's date", span)
    if left.months and right.months:
        raise Unsupported("calendar months can be added on one side of a comparison only", span)
    if (left.months or right.months) and (left.days or right.days):
        raise Unsupported("cannot mix days and calendar months in one comparison", span)
    if right.months == 0 and left.months:
        left, right, op = right, left, FLIP[op]
    reads = reads_of(left, right)
    if right.months:
        # `left OP right + k months`: left is a real date, right shifted may be 31 February.
        lfield = f"{left.field}__cal" if op in ("<=", ">", "=", "!=") else f"{left.field}__calhi"
        offset = right.months * MONTH
        lval = replace(left, field=lfield, days=0)
        rval = replace(right, field=f"{right.field}__cal", months=0)
        return Atom((join_test(lval, op, rval, offset),), reads, (), span)
    offset = right.days - left.days
    return Atom((join_test(replace(left, days=0), op, replace(right, days=0), offset),), reads, (), span)


def _compare_elapsed(left: Value, op: str, right: Value, span: Span) -> Atom:
    assert left.elapsed is not None
    start, end = left.elapsed
    unit = left.unit or "years"
    amount = elapsed_amount(right, unit)
    if unit in ("hours", "minutes", "days", "weeks"):
        # whole weeks >= N  <=>  days >= 7N; clock times are in seconds
        factor = {"hours": 3600, "minutes": 60, "days": 1, "weeks": 7}[unit]
        threshold = _threshold(op, amount) * factor
        return Atom((join_test(end, _threshold_op(op), start, threshold),), reads_of(start, end), (), span)
    step = YEAR if unit == "years" else MONTH
    threshold = _threshold(op, amount) * step
    lval = replace(end, field=f"{end.field}__cal")
    rval = replace(start, field=f"{start.field}__cal")
    return Atom((join_test(lval, _threshold_op(op), rval, threshold),), reads_of(start, end), (), span)


def join_test(left: Value, op: str, right: Value, offset: int) -> Test:
    """`left OP right + offset`; EngineRule later moves it onto whichever pattern comes last."""
    return Test(left.alias or "", left.field or "", op, other=right.alias, other_field=right.field, offset=offset,
                factor=right.factor, dated=left.type == right.type and left.type in ("date", "datetime"))


def scaled_test(field_value: Value, op: str, bound: Decimal) -> Test:
    """`field OP bound` for an integer field: exact, since ceil/floor of the bound keeps the meaning."""
    alias, fname, spread = field_value.alias or "", field_value.field or "", field_value.spread
    if bound == bound.to_integral_value():
        return Test(alias, fname, op, int(bound), dated=spread)
    if op in ("<", ">="):
        return Test(alias, fname, op, math.ceil(bound), dated=spread)
    if op in ("<=", ">"):
        return Test(alias, fname, op, math.floor(bound), dated=spread)
    # An integer field never equals a fractional bound: '=' is never true, '!=' always.
    return Test(alias, fname, "<" if op == "=" else ">=", -(2**62))


def reads_of(*values: Value) -> frozenset[tuple[str, str]]:
    """The optional fields among the operands: a match needs them known."""
    reads = {(v.alias, v.field) for v in values if v.is_ref and v.optional}
    return frozenset(reads | {(v.alias, v.guard) for v in values if v.is_ref and v.guard})  # type: ignore[misc]


def _threshold(op: str, amount: int) -> int:
    """Completed units Y against N: Y > N and Y <= N compare the raw difference with N + 1 units."""
    return amount + 1 if op in (">", "<=") else amount


def _threshold_op(op: str) -> str:
    return {">": ">=", ">=": ">=", "<": "<", "<=": "<"}.get(op, op)
