"""A subject's schedules: the visits due (a visit table's, or due dates every period), their count facts,
and for each record the visit it belongs to, which rules compare its date with (`follow_up.start`).

Which visits are due, and which visit a record is nearest, are orders and offsets, like a record's rank:
whether the record is inside the window is the engine's match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ..compiler.model import DECIDED, FOUND, Window
from ..compiler.references import visit_key
from ..dates import add_days, add_months, encode
from ..inputs.records import Record
from .facts import Evidence, Session


@dataclass(frozen=True)
class DueVisit:
    number: int  # 1, 2, ... in the schedule's order
    label: str
    day: dt.date  # the visit's day, or the due date
    low: dt.date  # its window's first day
    high: dt.date  # and last day


def shift(value: dt.date, days: int, months: int) -> dt.date | None:
    """`value` shifted by days or months; None when that is past the calendar's last day (9999-12-31)."""
    shifted = add_months(value, months) if months else add_days(value, days)
    if shifted is None and (months or days) < 0:
        return dt.date.min  # before the calendar's first day: a window bound there holds no day at all
    return shifted


def add_schedule_windows(session: Session, by_event: dict[str, list[Record]], window: Window, cutoff: dt.date) -> None:
    """A count fact per visit due, dated at the visit's day (a due date), empty ones too.

    Visits are due while the subject is on treatment, up to the day of the `until` record, and once
    their window has opened by the cut-off (one still open is pending for a `judged from end` check).

    A record dated only in part that may or may not lie in a window makes its count an interval, `count`
    to `count__hi`, which the engine's interval rules judge as they judge dates. A schedule whose anchor
    day is known only in part cannot be placed, and a visit an end of treatment known only in part may
    or may not precede is not known to be due: such a window's count is not known at all.
    """
    anchor, (until, until_high, ends) = _anchor(by_event, window), _until(by_event, window)
    if anchor is None:
        return
    day, day_high, anchors = anchor
    items = by_event.get(window.event, [])
    for visit in due_visits(window, day, until_high, cutoff):
        members = tuple(r for r in items if visit.low <= r.date and r.upper.get("date", r.date) <= visit.high)
        possible = tuple(r for r in items if "date" in r.upper and r not in members
                         and r.date <= visit.high and r.upper["date"] >= visit.low)
        placed = day == day_high and (until is None or until_high is None or visit.day <= until)
        # Besides the records counted and those that may be, the evidence names what leaves it unplaced.
        doubt = () if placed else anchors if day != day_high else ends
        add_window(session, window, visit.number, visit.day, visit.high, members, anchors[0],
                   (visit.low, visit.label) if window.schedule else None, (possible, doubt, placed))


def add_window(session: Session, window: Window, number: int, date: dt.date, end: dt.date,
               members: tuple[Record, ...], anchor: Record, visit: tuple[dt.date, str] | None = None,
               spread: tuple[tuple[Record, ...], tuple[Record, ...], bool] | None = None) -> None:
    """One window's count fact: its number, its date (first day, or due date) and last day, its records
    as evidence (the anchor record when there are none); a schedule's visit adds its first day and label,
    a due date's window (`spread`) the records it may hold besides (`count__hi`), the records whose dates
    leave it unplaced, and whether it is placed (known to be due, on known days)."""
    fact = {"kind": "$count", "event": window.event, "period": window.period, "count": len(members),
            "window": number, **encode("date", date), **encode("end", end)}
    display = {"count": str(len(members)), "date": date.isoformat(), "end": end.isoformat(), "window": str(number),
               **anchor_display(anchor)}
    if visit is not None:
        start, label = visit
        fact |= {**encode("start", start), "visit": label}
        display |= {"start": start.isoformat(), "visit": label}
    if spread is not None:
        possible, doubt, placed = spread
        fact |= {"count__hi": len(members) + len(possible), "count__known": 1 if placed else 0}
        if possible and placed:
            display["count"] = f"{len(members)} to {len(members) + len(possible)}"
        members += possible + tuple(r for r in doubt if r not in members + possible)
    session.add(fact, Evidence(members or (anchor,), display))


ANCHOR_KEYS = ("$anchor_event", "$anchor_subject", "$anchor_date", "$anchor_partial")


def anchor_display(anchor: Record) -> dict[str, str]:
    """The record a window is counted from, for the finding that names the window (engine/windows.py); keys no
    message placeholder can name."""
    return dict(zip(ANCHOR_KEYS, (anchor.event, anchor.subject or "", anchor.date_text,
                                  "1" if "date" in anchor.upper else "")))


def due_visits(window: Window, anchor: dt.date, until: dt.date | None, last_day: dt.date) -> Iterator[DueVisit]:
    """The visits due, in order: those whose window opens by `last_day` and whose day is not after `until`
    (nor, for due dates every period, after the horizon)."""
    if window.visits:
        for number, visit in enumerate(window.visits, start=1):
            day = shift(anchor, visit.offset, 0)
            low = shift(anchor, visit.offset - visit.before, 0)
            if day is None or low is None or low > last_day or (until is not None and day > until):
                return  # windows open in the order of the table (compiler/schedules.py)
            yield DueVisit(number, visit.label, day, low, shift(anchor, visit.offset + visit.after, 0) or dt.date.max)
        return
    horizon = (shift(anchor, window.horizon_days, window.horizon_months) or dt.date.max
               if window.horizon_days or window.horizon_months else None)
    tolerance = window.tolerance_days
    number = 1
    while True:
        due = shift(anchor, window.interval_days * number, window.interval_months * number)
        low = add_days(due, -tolerance) if due is not None else None
        if due is None or low is None or low > last_day:
            return
        if (until is not None and due > until) or (horizon is not None and due > horizon):
            return
        yield DueVisit(number, f"due date {number}", due, low, add_days(due, tolerance) or dt.date.max)
        number += 1


def add_visits_of(session: Session, by_event: dict[str, list[Record]], window: Window, cutoff: dt.date) -> None:
    """Give each record of `window.event` its visit: the visit of the schedule whose window holds the
    record's date, else the one whose day is nearest it.

    A record belongs to no visit when the subject has no anchor record, when it is dated after the
    `until` record's day or its visit is, or when it lies outside every window and further from the
    visits than half the gap between them (a baseline scan before the first due date of a 6-weekly
    schedule). A visit whose window has not opened by the cut-off still takes the records nearest it:
    a scan days before it is early. A record whose date is only partly known, or counted from an anchor
    whose date is, or near an end of treatment known only to the month, cannot be told its visit.
    """
    records = [(ref, evidence.records[0]) for ref, (fact, evidence) in enumerate(zip(session.facts, session.evidence))
               if fact["kind"] == window.event and evidence.records]
    if not records:
        return
    anchor, (until, until_high, _) = _anchor(by_event, window), _until(by_event, window)
    visits: list[DueVisit] = []
    if anchor is not None:
        latest = max(record.upper.get("date", record.date) for _, record in records)
        reach = add_days(max(latest, cutoff), 2 * (window.interval_days + 31 * window.interval_months)) or dt.date.max
        visits = list(due_visits(window, anchor[0], None, dt.date.max if window.visits else reach))
    key = visit_key(window)
    period = window.interval_days or 28 * window.interval_months or None  # a periodic schedule's gap
    for ref, record in records:
        if anchor is None:
            _add_no_visit(session, key, ref, undecided=0)
            continue
        if anchor[0] != anchor[1] or "date" in record.upper:
            _add_no_visit(session, key, ref, undecided=2)
            continue
        visit = _nearest(visits, record.date, period)
        last = max(record.date, visit.day) if visit is not None else record.date
        if until is not None and until_high is not None and until < last <= until_high:
            _add_no_visit(session, key, ref, undecided=2)  # on treatment then, or not: cannot be told
            continue
        if visit is None or (until_high is not None and last > until_high):
            _add_no_visit(session, key, ref, undecided=0)
            continue
        fact = {"kind": "$ref", "refname": key, "of": ref, "ties": 1, f"{FOUND}__known": 1, f"{DECIDED}__known": 1,
                "undecided": 0, "window": visit.number, "visit": visit.label,
                **encode("date", visit.day), **encode("start", visit.low), **encode("end", visit.high)}
        fact |= {f"{name}__known": 1 for name in ("date", "start", "end", "window", "visit")}
        display = {"date": visit.day.isoformat(), "start": visit.low.isoformat(), "end": visit.high.isoformat(),
                   "window": str(visit.number), "visit": visit.label}
        session.add(fact, Evidence(anchor[2], display))


def _nearest(visits: list[DueVisit], day: dt.date, period: int | None = None) -> DueVisit | None:
    """The visit whose window holds `day`; else the one whose day is nearest it (of two as near, the
    earlier), if `day` lies within half the gap to its neighbours (at either end of the schedule, the gap
    on the other side, or the period of a periodic one; a visit table of one visit has no bound)."""
    holding = [visit for visit in visits if visit.low <= day <= visit.high]
    if holding:
        return holding[0]  # windows never overlap (compiler/schedules.py)
    if not visits:
        return None
    index = min(range(len(visits)), key=lambda i: (abs((visits[i].day - day).days), i))
    visit = visits[index]
    before = (visit.day - visits[index - 1].day).days if index > 0 else None
    after = (visits[index + 1].day - visit.day).days if index + 1 < len(visits) else None
    near_side, far_side = (before, after) if day <= visit.day else (after, before)
    gap = near_side if near_side is not None else period if period is not None else far_side
    return visit if gap is None or 2 * abs((day - visit.day).days) <= gap else None


def _add_no_visit(session: Session, key: str, ref: int, undecided: int) -> None:
    """A visit fact with every field empty, of the same shape as a found one (the engine needs each key)."""
    fact = {"kind": "$ref", "refname": key, "of": ref, "ties": 0, f"{FOUND}__known": 0,
            f"{DECIDED}__known": 0 if undecided else 1, "undecided": undecided, "window": 0, "visit": ""}
    for name in ("date", "start", "end"):
        fact |= {name: 0, f"{name}__cal": 0, f"{name}__calhi": 0}
    fact |= {f"{name}__known": 0 for name in ("date", "start", "end", "window", "visit")}
    session.add(fact, Evidence((), {}))


def _anchor(by_event: dict[str, list[Record]], window: Window) -> tuple[dt.date, dt.date, tuple[Record, ...]] | None:
    """The anchor's day as an interval (one day when known) and the records that decide it; None: none."""
    found = _first_or_last(by_event.get(window.anchor, []), window.which)
    return found if found[2] else None


def _until(by_event: dict[str, list[Record]], window: Window) -> tuple[dt.date | None, dt.date | None,
                                                                       tuple[Record, ...]]:
    """The end of treatment's day as an interval, and the records that decide it; None, None: none yet."""
    if not window.until:
        return None, None, ()
    low, high, records = _first_or_last(by_event.get(window.until, []), window.until_which)
    return (low, high, records) if records else (None, None, ())


def _first_or_last(records: list[Record], which: str) -> tuple[dt.date, dt.date, tuple[Record, ...]]:
    """The day of the first (last) record as an interval: the earliest (latest) its records' days may
    be, low and high, with the records that may be it. A record dated only in part spans its days."""
    if not records:
        return dt.date.min, dt.date.min, ()
    spans = [(r.date, r.upper.get("date", r.date), r) for r in records]
    pick = min if which == "first" else max
    low, high = pick(lo for lo, _, _ in spans), pick(hi for _, hi, _ in spans)
    # The records that may be first (last): those whose days reach into [low, high], fully dated ones first.
    maybe = [(hi - lo, r) for lo, hi, r in spans if (lo <= high if which == "first" else hi >= low)]
    return low, high, tuple(r for _, r in sorted(maybe, key=lambda pair: (pair[0], pair[1].content_key())))
