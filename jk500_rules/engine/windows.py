"""A finding's window: the days its rule's window held for the records the engine matched, and why.

The compiler names each rule's window (compiler/windows.py): bounds on one record's date against an
anchor's date plus an offset. The anchor is the fact the engine matched for it: in the check's own match,
or, where that holds only the record checked (a `require a` deviation), in a `dating` match the compiler
adds for the anchor (the subject's first infusion, the previous dose group's state). Each bound is
that fact's date moved by the offset the rules text states, never the rule's condition judged again: a
calendar-month shift is pendulum's, clamped to the month's end as the engine's calendar positions compare
(dates.py). An anchor dated only in part gives bounds known only within some days, said so; a state that
has not started gives a window that never opens; an anchor that cannot be told gives no window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..compiler import model
from ..compiler.model import FOUND, STATE_PREFIX, CompiledProtocol, CompiledRule, WindowBound, WindowSpec
from ..dates import add_days, add_months, from_epoch_day
from ..inputs.records import Record
from .facts import Session
from .schedule_facts import ANCHOR_KEYS
from .results import Window, WindowAnchor

_STEP = {">": 1, ">=": 0, "<": -1, "<=": 0}  # from the bound's own day to the first (last) day inside


@dataclass(frozen=True)
class _Side:
    """One bound, worked out: the first (lower) or last (upper) day inside, as the earliest and latest it may
    be (None: the window never opens, or has no end on that side), in words, and its anchor."""

    days: tuple[dt.date, dt.date] | None
    when: str  # "after 2024-06-21"; "never opens"
    why: str  # "28 days after the first infusion"
    details: str  # the anchor's subject and date: "JK500-01-007, 2024-05-24"
    anchor: WindowAnchor
    key: tuple[str, str]  # (alias, field): which anchor, to name it once
    note: str | None = None

    def text(self, details: bool = True) -> str:
        said = f"{self.when}, {self.why}" if self.days is not None else f"{self.when}: {self.why}"
        return said + (f" ({self.details})" if details and self.details else "")


def finding_window(rule: CompiledRule, refs: dict[str, int], session: Session,
                   protocol: CompiledProtocol) -> Window | None:
    """The window `rule` computed for the finding whose matched facts are `refs`, or None without one."""
    spec = rule.window
    t = refs.get("t")
    if spec is None or t is None:
        return None
    if spec.count is not None:
        return _count_window(spec, spec.count, t, session)
    sides: list[_Side | None] = []
    for bound, lower in ((spec.low, True), (spec.high, False)):
        if bound is None:
            sides.append(None)
            continue
        ref = refs.get(bound.anchor.alias)  # the check's own match, or the engine's `dating` match of the anchor
        side = None if ref is None else _side(bound, lower, ref, session, protocol)
        if side is None:
            return None
        sides.append(side)
    return _window(spec, sides[0], sides[1])


def _window(spec: WindowSpec, low: _Side | None, high: _Side | None) -> Window | None:
    sides = [side for side in (low, high) if side is not None]
    if low is not None and low.days is None:
        return Window(spec.event, None, None, low.anchor, low.text(), None, "never opens")
    start = _day(low.days) if low is not None else None
    end = _day(high.days) if high is not None else None
    note = next((side.note for side in sides if side.note), None)
    same = low is not None and high is not None and high.key == low.key
    if low is not None and high is not None and same and start is not None and start == end and low.why == high.why:
        text = f"on {start}, {low.why}" + (f" ({low.details})" if low.details else "")
    else:
        # The anchor's record and date are said once when both bounds are counted from it.
        text = "; ".join(side.text(details=side is sides[0] or not same) for side in sides)
    if start is not None and end is not None and start > end:
        note = "it holds no day: it closes before it opens"
    end_anchor = high.anchor if low is not None and high is not None and not same else None
    return Window(spec.event, start, end, sides[0].anchor, text, end_anchor, note)


def _day(days: tuple[dt.date, dt.date] | None) -> str | None:
    """A bound's day when it is known to the day (None: open, or known only within some days)."""
    return days[0].isoformat() if days is not None and days[0] == days[1] else None


def _side(bound: WindowBound, lower: bool, ref: int, session: Session, protocol: CompiledProtocol) -> _Side | None:
    fact, evidence = session.facts[ref], session.evidence[ref]
    field = bound.field
    record = _record(fact, evidence.records, field)
    known = bool(fact.get(f"{field}__known", 1) and fact.get(f"{FOUND}__known", 1)) and field in fact
    # A record's fields as written (a partial date as written, never its first day); a state's start and end.
    written = evidence.display.get(field, "") if known else ""
    mark = _state_mark(fact, protocol) if fact["kind"] == "$state" and field == "start" else None
    label = bound.words
    if mark and known:
        label = f"{bound.words}: {mark}"
    elif bound.group and evidence.display.get(bound.group):
        label = f"{bound.words} {evidence.display[bound.group]}"
    elif fact["kind"] == "$ref" and evidence.display.get("visit"):  # a record's visit of a schedule
        label = f"{bound.words} of visit {evidence.display['visit']}"
        record = None  # its days are counted from the schedule's anchor, not that record's date
    subject = record.subject if record is not None and record.subject else \
        evidence.display.get("subject") or session.subject
    anchor = WindowAnchor(record.event if record is not None else "", subject, written, label)
    key = (bound.anchor.alias, field)
    if not known:
        if fact["kind"] != "$state" or not fact.get(f"{FOUND}__known"):
            return None  # not recorded, or not decided: the window cannot be told
        if lower and field == "start":  # a state that has not started: its start is "never"
            return _Side(None, "never opens", f"{bound.words} has not started"
                         + (f" (it starts at {mark})" if mark else ""), "", anchor, key)
        return _Side(None, "no end", f"{bound.words} has not {'started' if field == 'start' else 'ended'}", "",
                     anchor, key)
    low_day, high_day = from_epoch_day(fact[field]), from_epoch_day(fact.get(f"{field}__hi", fact[field]))
    days = _moved(low_day, bound), _moved(high_day, bound)
    if days[0] is None or days[1] is None:
        return None  # past the calendar's ends
    edge = (days[0], days[1])
    strict = bound.op in (">", "<")
    shown = [add_days(d, (-1 if lower else 1) if strict else 0) or d for d in edge]  # the day the rule names
    word = ("after" if strict else "from") if lower else ("before" if strict else "on or before")
    when = shown[0].isoformat() if edge[0] == edge[1] else f"a day between {shown[0]} and {shown[1]}"
    details = ", ".join(part for part in (subject, written) if part)
    note = None if edge[0] == edge[1] else f"{bound.words} is dated {written}, known only in part"
    return _Side(edge, f"{word} {when}", f"{_offset(bound.days, bound.months)}{label}", details, anchor, key, note)


def _moved(day: dt.date, bound: WindowBound) -> dt.date | None:
    """The first (lower bound) or last (upper bound) day the test `date OP day + offset` lets in."""
    op = bound.op
    if not bound.encoding:
        target = add_days(day, bound.days)
        return None if target is None else add_days(target, _STEP[op])
    shifted = add_months(day, bound.months)
    if shifted is None:
        return None
    # A calendar position past the month's end (31 January + 1 month: "31 February") compares as dates.py says.
    exact = shifted.day == day.day
    if bound.encoding == "cal":
        step = {">": 1, ">=": 0 if exact else 1, "<": -1 if exact else 0, "<=": 0}[op]
    elif op in (">=", "<"):  # calhi: the last day of a month counts as its 31st
        step = _STEP[op]
    else:
        return None  # never lowered so (compiler/lower.py)
    return add_days(shifted, step)


def _offset(days: int, months: int) -> str:
    """An offset in words, before the anchor's name: "28 days after ", "6 months before ", "" for none."""
    amount, unit = (abs(months) // 12, "year") if months and months % 12 == 0 else \
        (abs(months), "month") if months else (abs(days), "day")
    if amount == 0:
        return ""
    return f"{amount} {unit}{'' if amount == 1 else 's'} {'before' if (months or days) < 0 else 'after'} "


def _record(fact: dict, records: tuple[Record, ...], field: str) -> Record | None:
    """The record behind an anchor's date: a state's start is its mark, its end the record that ended it."""
    if not records:
        return None
    return records[-1] if fact["kind"] == "$state" and field == "end" else records[0]


def _state_mark(fact: dict, protocol: CompiledProtocol) -> str | None:
    """What starts a state, for this fact's group: "the 3rd subject's last infusion in dose group 2"."""
    name = str(fact.get("refname", "")).removeprefix(STATE_PREFIX)
    state = next((s for s in protocol.states if s.name == name), None)
    if state is None:
        return None
    which, mark = state.mark
    what = mark if which == "reference" else f"{which} {mark}"
    group = f" in {state.per.replace('_', ' ')} {fact['group']}" if state.per else ""
    return f"the {_ordinal(state.ordinal)} subject's {what}{group}"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _count_window(spec: WindowSpec, window: model.Window, t: int, session: Session) -> Window | None:
    """A count's window: its fact carries its days; named with the record the windows are counted from."""
    fact, display = session.facts[t], session.evidence[t].display
    if "end" not in fact or "date" not in fact:
        return None
    day, end = from_epoch_day(fact["date"]), from_epoch_day(fact["end"])
    every = _offset(window.interval_days, window.interval_months).removesuffix(" after ")
    if window.schedule:
        start = from_epoch_day(fact["start"]) if "start" in fact else day
        what = f"visit {display.get('visit', '')} of {window.schedule}"
    elif window.tolerance_days >= 0:
        start = add_days(day, -window.tolerance_days) or dt.date.min
        what = f"due date {display.get('window', '')} ({day}) within {window.tolerance_days} days, every {every}"
    else:
        start = day
        what = f"window {display.get('window', '')}, every {every}"
    # The record the window fact was counted from when it was built (engine/schedule_facts.py).
    event, subject, written, partial = (display.get(key, "") for key in ANCHOR_KEYS)
    if not event:
        return None
    anchor = WindowAnchor(event, subject or None, written, spec.count_words)
    details = ", ".join(part for part in (subject, written) if part)
    why = f"{what}, from {spec.count_words} ({details})"
    if partial:  # the windows are placed from a day the anchor may not be
        note = f"{spec.count_words} is dated {written}, known only in part"
        return Window(spec.event, None, None, anchor, f"not known to the day: {why}", None, note)
    days = f"on {start}" if start == end else f"{start} to {end}"
    return Window(spec.event, start.isoformat(), end.isoformat(), anchor, f"{days}: {why}")
