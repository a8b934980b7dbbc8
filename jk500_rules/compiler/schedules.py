"""Pass 1a, visit tables: each `schedule` declaration checked and turned into visits with windows in days."""

from __future__ import annotations

import datetime as dt
import functools

from ..dates import add_months
from ..errors import Diagnostic, Span, did_you_mean
from ..language import nodes as n
from .model import DuePeriod, EventSpec, Schedule, Visit
from .operands import Unsupported, Value, constant_duration

# Words a count's period already means (`per day`): a schedule of that name could never be named.
_PERIOD_WORDS = frozenset({"subject", "day", "calendar"})
# Words that already mean something where a schedule's name is read (`first dosing`, a count's `start`).
_TAKEN_WORDS = frozenset({"first", "last", "previous", "next", "each", "the", "a", "an", "not", "date", "count",
                          "start", "end", "window", "visit", "yes", "no"})


def compile_schedules(tree: n.Protocol, events: dict[str, EventSpec], params: dict[str, n.ParamDecl],
                      units: frozenset[str], taken: dict[str, str], diagnostics: list[Diagnostic]) -> dict[str, Schedule]:
    """Every schedule the rules declare, by name; a problem goes to `diagnostics`. `taken`: the names the
    rules already use, each with what it names (a schedule's name reads its visits in a rule)."""
    schedules: dict[str, Schedule] = {}
    for decl in tree.schedules:
        if decl.name in schedules:
            diagnostics.append(Diagnostic(f"schedule {decl.name} is declared twice", decl.span))
            continue
        name = decl.name
        if name in _PERIOD_WORDS or name in _TAKEN_WORDS or name in taken or name.startswith("_") or "__" in name:
            what = (f"already names {taken[name]}" if name in taken else
                    f"already means a count's period (`per {name}`)" if name in _PERIOD_WORDS
                    else "is a word the rules already read otherwise")
            diagnostics.append(Diagnostic(f"'{decl.name}' {what}", decl.span, "give the schedule a name of its own"))
            continue
        try:
            schedules[decl.name] = _schedule(decl, events, params, units)
        except Unsupported as problem:
            diagnostics.append(problem.diagnostic)
            # Kept without visits, so that a rule counting per it is not also told it is unknown.
            schedules[decl.name] = Schedule(decl.name, decl.anchor.which, decl.anchor.event, 1, ())
    return schedules


def _schedule(decl: n.ScheduleDecl, events: dict[str, EventSpec], params: dict[str, n.ParamDecl],
              units: frozenset[str]) -> Schedule:
    for record in (decl.anchor, decl.until):
        if record is None:
            continue
        event = events.get(record.event)
        if event is None:
            raise Unsupported(f"unknown event type '{record.event}'", record.span, did_you_mean(record.event, events))
        if event.trial_level:
            raise Unsupported(f"{record.event} is a trial event; a schedule follows a subject's records", record.span)
    until = decl.until
    if decl.every is not None and decl.within is not None:
        used: set[str] = set()
        due = due_period(decl.every, decl.within, decl.through, until is not None, decl.span, params, units, used)
        return Schedule(decl.name, decl.anchor.which, decl.anchor.event, 0, (), until.which if until else "",
                        until.event if until else "", frozenset(used), due)
    if decl.anchor_day not in (0, 1):
        raise Unsupported("the anchor's day is day 0 or day 1", decl.anchor_day_span,
                          "write `as day 1` if the anchor's day is the first day of the study, `as day 0` if "
                          "the day after it is day 1")
    if not decl.visits:
        raise Unsupported(f"schedule {decl.name} has no visits", decl.span,
                          'list them in the braces, e.g. `"Week 2": day 15 within 3 days`')
    anchor_day = int(decl.anchor_day)
    visits: list[Visit] = []
    used = set()
    for visit in decl.visits:
        current = _visit(visit, anchor_day, params, units, used)
        if any(v.label == current.label for v in visits):
            raise Unsupported(f'the schedule has two visits called "{current.label}"', visit.span)
        if visits:
            _check_order(visits[-1], current, visit.span, anchor_day)
        visits.append(current)
    return Schedule(decl.name, decl.anchor.which, decl.anchor.event, anchor_day, tuple(visits),
                    until.which if until else "", until.event if until else "", frozenset(used))


def due_period(every: n.Expr, within: n.Expr, through: n.Expr | None, has_until: bool, span: Span,
               params: dict[str, n.ParamDecl], units: frozenset[str], used: set[str]) -> DuePeriod:
    """`every 6 weeks within 7 days ... [until ...] [through ...]`, checked: windows narrower than half the
    period, or one record would count twice; and an end, or due dates would run on to the cut-off."""
    interval = _duration(every, params, units, used)
    tolerance = _duration(within, params, units, used, zero=True)
    if tolerance.months:
        raise Unsupported("a due date's tolerance is in days or weeks", within.span)
    shortest = interval.days or shortest_months(int(interval.months))
    if 2 * tolerance.days >= shortest:
        gap = f"{shortest} days" + (f", the shortest {interval.months} months" if interval.months else "")
        raise Unsupported(f"a window of {tolerance.days} days either side of each due date is at least half the "
                          f"period between due dates ({gap}): consecutive windows would overlap",
                          within.span, "make the tolerance less than half the period")
    if not has_until and through is None:
        raise Unsupported("a schedule with no end: its due dates would run on to the data cut-off", span,
                          "end it at a record, `until first end_of_treatment`, or after a time, `through 12 months`; "
                          "or both")
    horizon = _duration(through, params, units, used) if through is not None else None
    return DuePeriod(int(interval.days), int(interval.months), int(tolerance.days),
                     int(horizon.days) if horizon else 0, int(horizon.months) if horizon else 0)


@functools.cache
def shortest_months(months: int) -> int:
    """The fewest days between two due dates `months` apart, counted from one anchor (each clamped to its
    month's end), over a four-year cycle of leap and common years. An anchor on day 1 to 28 of a month
    is never clamped, so day 1 stands for them all, beside days 29, 30 and 31."""
    gaps = []
    for month in range(48):
        for day in (1, 29, 30, 31):
            try:
                anchor = dt.date(2001 + month // 12, month % 12 + 1, day)
            except ValueError:
                continue
            dates = [add_months(anchor, months * k) for k in range(48 // months + 2)]
            gaps += [(later - earlier).days for earlier, later in zip(dates, dates[1:]) if earlier and later]
    return min(gaps)


def _duration(expr: n.Expr, params: dict[str, n.ParamDecl], units: frozenset[str], used: set[str],
              zero: bool = False) -> Value:
    value, param = constant_duration(expr, params, units, zero)
    if param is not None:
        used.add(param)
    return value


def _visit(visit: n.VisitDecl, anchor_day: int, params: dict[str, n.ParamDecl], units: frozenset[str],
           used: set[str]) -> Visit:
    if not visit.label.strip():
        raise Unsupported("a visit needs a name", visit.span, 'write it in the quotes, e.g. "Week 2"')
    if visit.day != visit.day.to_integral_value():
        raise Unsupported("a visit's day is a whole number", visit.day_span)
    day = int(visit.day)
    if anchor_day == 1 and day == 0:
        raise Unsupported("there is no day 0 when the anchor's day is day 1", visit.day_span,
                          "day -1 is the day before the anchor's; or number the anchor's day `as day 0`")
    # With the anchor's day numbered 1, day 1 is the anchor's day and day -1 the day before it.
    offset = day - 1 if anchor_day == 1 and day > 0 else day
    before = after = 0
    if visit.before is not None and visit.after is not None:
        before = _days(visit.before, params, units, used)
        after = _days(visit.after, params, units, used)
    return Visit(visit.label, day, offset, before, after)


def _days(expr: n.Expr, params: dict[str, n.ParamDecl], units: frozenset[str], used: set[str]) -> int:
    value = _duration(expr, params, units, used, zero=True)
    if value.months:
        raise Unsupported("a visit's window is in days or weeks", expr.span)
    return int(value.days)


def _check_order(earlier: Visit, later: Visit, span: Span, anchor_day: int) -> None:
    """Visits are listed in day order, and no day falls in two windows, or one record would count twice."""
    if later.offset == earlier.offset:
        raise Unsupported(f'"{earlier.label}" and "{later.label}" are both on day {later.day}', span,
                          "give each visit its own day, or make them one visit")
    if later.offset < earlier.offset:
        raise Unsupported(f"day {later.day} comes after day {earlier.day} in the table, but not in time", span,
                          "list the visits in the order of their days")
    if later.offset - later.before <= earlier.offset + earlier.after:
        first = max(later.offset - later.before, earlier.offset - earlier.before)
        raise Unsupported(
            f'the windows of "{earlier.label}" and "{later.label}" overlap: a record on day '
            f"{_day_number(first, anchor_day)} would count for both", span,
            "narrow the windows so that each day falls in at most one")


def _day_number(offset: int, anchor_day: int) -> int:
    """The day number, as the table writes days, of the day `offset` days after the anchor's."""
    return offset + 1 if anchor_day == 1 and offset >= 0 else offset

