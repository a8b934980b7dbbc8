"""Pass 1b, the record checked: what a rule's `for ...` names (each, first, last, a count, a group's first)."""

from __future__ import annotations

from ..dates import WEEKDAYS
from ..errors import did_you_mean
from ..language import nodes as n
from .model import Pattern, Test, Window
from .operands import Unsupported, Value, typed_quantity
from .references import References


def resolve_trigger(source: n.Source, refs: References) -> tuple[Pattern, str]:
    """The record a rule is checked for (`for each`, `for first`, a count, a group's first) and the rule's level."""
    decls = refs.decls
    event = decls.events.get(source.event)
    if event is None:
        raise decls.unknown_event(source.event, source.event_span)
    if source.form == "each":
        return Pattern("t", source.event, label=source.event), "trial" if event.trial_level else "subject"
    if event.trial_level:
        raise Unsupported(f"{source.event} is a trial event; only 'for each {source.event}' applies", source.span)
    if source.form in ("first", "last"):
        seq = "seq" if source.form == "first" else "rseq"
        return Pattern("t", source.event, (Test("t", seq, "=", 1),), f"{source.form} {source.event}"), "subject"
    if source.form == "count" and source.period in ("window", "due"):
        window = _window(source, refs)
        refs.reads.add(("window", window))
        ident = (Test("t", "event", "=", source.event), Test("t", "period", "=", window.period))
        return Pattern("t", "$count", ident, f"{source.event} window after {window.which} {window.anchor}"), \
            "subject"
    if source.form == "count":
        period = {"subject": "subject", "day": "day"}.get(source.period or "", f"week-{source.week_start}")
        if source.week_start and source.week_start not in WEEKDAYS:
            raise Unsupported(f"'{source.week_start}' is not a day of the week",
                              source.week_start_span or source.span, did_you_mean(source.week_start, WEEKDAYS))
        refs.reads.add(("count", source.event, source.period or "subject", source.week_start or ""))
        ident = (Test("t", "event", "=", source.event), Test("t", "period", "=", period))
        return Pattern("t", "$count", ident, f"count of {source.event} per {source.period}"), "subject"
    which = source.form.removeprefix("group_")  # group_first / group_last
    attribute = source.attribute or ""
    if attribute not in decls.attributes:
        raise Unsupported(f"unknown subject attribute '{attribute}'", source.span,
                          did_you_mean(attribute, decls.attributes.keys()))
    refs.reads.add(("group_first", source.event, which, attribute))
    refs.use_subject()
    ident = (Test("t", "event", "=", source.event), Test("t", "which", "=", which),
             Test("t", "attribute", "=", attribute))
    return Pattern("t", "$group", ident, f"{which} {source.event} of each {attribute}"), "trial"

def _window(source: n.Source, refs: References) -> Window:
    assert source.anchor is not None and source.interval is not None
    anchor = source.anchor
    for record in (anchor, source.until):
        if record is None:
            continue
        event = refs.decls.events.get(record.event)
        if event is None:
            raise refs.decls.unknown_event(record.event, record.span)
        if event.trial_level:
            raise Unsupported(f"{record.event} is a trial event; windows follow a subject's records", record.span)
        refs.reads.add(("event", record.event))
    interval = _constant_duration(source.interval, refs)
    if source.tolerance is not None:
        return _due_window(source, interval, refs)
    assert source.horizon is not None
    horizon = _constant_duration(source.horizon, refs)
    return Window(source.event, anchor.which, anchor.event, interval.days, interval.months,
                  horizon.days, horizon.months)


def _due_window(source: n.Source, interval: Value, refs: References) -> Window:
    """Windows centred on due dates; each must be narrower than its period, or one record would count twice."""
    assert source.anchor is not None and source.tolerance is not None
    tolerance = _constant_duration(source.tolerance, refs, zero=True)
    if tolerance.months:
        raise Unsupported("a due date's tolerance is in days or weeks", source.tolerance.span)
    shortest = interval.days or interval.months * 28  # the shortest month
    if 2 * tolerance.days >= shortest:
        raise Unsupported(f"a window of {tolerance.days} days either side of each due date is as wide as the "
                          "period between due dates: consecutive windows would overlap", source.tolerance.span,
                          "make the tolerance less than half the period")
    until = source.until
    return Window(source.event, source.anchor.which, source.anchor.event, interval.days, interval.months, 0, 0,
                  tolerance.days, until.which if until else "", until.event if until else "")

def _constant_duration(expr: n.Expr, refs: References, zero: bool = False) -> Value:
    value: Value | None = None
    params = refs.decls.params
    if isinstance(expr, n.Quantity):
        value = typed_quantity(expr, refs.decls.units)
    elif isinstance(expr, n.NameRef) and expr.field is None and expr.name in params:
        refs.used_params.add(expr.name)
        decl = params[expr.name]
        value = typed_quantity(decl.value, refs.decls.units) if decl.value is not None else None
    if value is None or value.type != "duration":
        raise Unsupported("a window's length is a duration, written or named by a parameter", expr.span,
                          "for example 3 months, or a parameter such as `parameter interval = 3 months`")
    if value.seconds:
        raise Unsupported("a window's length is in days, weeks, months or years", expr.span)
    if value.days and value.months or value.days + value.months < (0 if zero else 1):
        raise Unsupported("a window's length is a positive number of days, weeks, months or years", expr.span)
    return value
