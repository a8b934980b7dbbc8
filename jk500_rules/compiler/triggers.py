"""Pass 1b, the record checked: what a rule's `for ...` names (each, first, last, a count, a group's first)."""

from __future__ import annotations

from ..dates import WEEKDAYS
from ..errors import did_you_mean
from ..language import nodes as n
from .model import Pattern, Test, Window
from .operands import Unsupported, Value, constant_duration
from .references import References
from .schedules import due_period


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
    if source.form == "count" and source.period in ("window", "due", "schedule"):
        window = _schedule_window(source, refs) if source.period == "schedule" else _window(source, refs)
        refs.reads.add(("window", window))
        ident = (Test("t", "event", "=", source.event), Test("t", "period", "=", window.period))
        label = (f"{source.event} window of {window.schedule}" if window.schedule else
                 f"{source.event} window after {window.which} {window.anchor}")
        return Pattern("t", "$count", ident, label), "subject"
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
    if decls.decimal_attribute(attribute):
        raise Unsupported(f"subjects are grouped by an integer, text or boolean attribute; {attribute} is decimal",
                          source.span)
    refs.reads.add(("group_first", source.event, which, attribute))
    refs.use_subject()
    ident = (Test("t", "event", "=", source.event), Test("t", "which", "=", which),
             Test("t", "attribute", "=", attribute))
    return Pattern("t", "$group", ident, f"{which} {source.event} of each {attribute}"), "trial"

def _schedule_window(source: n.Source, refs: References) -> Window:
    """A window per visit of a declared schedule."""
    name = source.schedule or ""
    if name not in refs.decls.schedules:
        known = [s.name for s in refs.decls.schedules.values()] + ["subject", "day", "calendar week"]
        raise Unsupported(f"unknown schedule '{name}'", source.schedule_span or source.span,
                          did_you_mean(name, known) or "count per subject, day, calendar week, a window, or a schedule "
                          "declared with `schedule NAME ...`")
    return refs.use_schedule(name).window(source.event)


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
    if source.tolerance is not None:
        return _due_window(source, refs)
    interval = _constant_duration(source.interval, refs)
    assert source.horizon is not None
    horizon = _constant_duration(source.horizon, refs)
    return Window(source.event, anchor.which, anchor.event, interval.days, interval.months,
                  horizon.days, horizon.months)


def _due_window(source: n.Source, refs: References) -> Window:
    """Windows centred on due dates (`per 6 weeks within 7 days from first dosing until ...`)."""
    assert source.anchor is not None and source.interval is not None and source.tolerance is not None
    used: set[str] = set()
    due = due_period(source.interval, source.tolerance, source.horizon, source.until is not None, source.span,
                     refs.decls.params, refs.decls.units, used)
    refs.used_params |= used
    until = source.until
    return Window(source.event, source.anchor.which, source.anchor.event, due.interval_days, due.interval_months,
                  due.horizon_days, due.horizon_months, due.tolerance_days, until.which if until else "",
                  until.event if until else "")


def _constant_duration(expr: n.Expr, refs: References, zero: bool = False) -> Value:
    value, param = constant_duration(expr, refs.decls.params, refs.decls.units, zero)
    if param is not None:
        refs.used_params.add(param)
    return value
