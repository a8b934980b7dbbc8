"""A subject's records -> their session of facts (order, groups, attributes, counts, windows) and marks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ..compiler.model import CompiledProtocol, EventSpec, FactPlan, Window
from ..dates import encode, week_start
from ..inputs.records import Record
from .facts import Evidence, Marks, Session, cutoff_fact, mark_partial, record_display, record_fact, scale_decimal
from .schedule_facts import add_schedule_windows, add_visits_of, add_window, shift


def subject_session(subject: str, records: list[Record], protocol: CompiledProtocol,
                    cutoff: dt.date) -> tuple[Session, Marks]:
    """One subject's facts, built from their records alone, and their marks for the trial session."""
    plan = protocol.plan
    session = Session(f"subject:{subject}", subject)
    by_event = _ordered_by_event(records)
    for event, items in by_event.items():
        if event not in plan.events:
            continue
        spec = protocol.events[event]
        for index, record in enumerate(items):
            fact = record_fact(record, spec)
            fact["seq"], fact["rseq"] = index + 1, len(items) - index
            session.add(fact, Evidence((record,), record_display(record)))
    for group, members, reads in plan.groups:
        merged = sorted((r for m in members for r in by_event.get(m, [])), key=Record.content_key)
        by_event[group] = merged  # counts and windows may be over a group too
        member_spec = protocol.events[members[0]] if len(members) == 1 else None
        _add_group_members(session, group, merged, reads, member_spec)
    attributes = _subject_fact(session, by_event, protocol) if plan.subject else {}
    for event, period, start in sorted(plan.counts):
        _add_counts(session, by_event.get(event, []), event, period, start, cutoff)
    for window in sorted(plan.windows):
        if window.visits or window.tolerance_days >= 0:
            add_schedule_windows(session, by_event, window, cutoff)
        else:
            _add_windows(session, by_event, window)
    for window in sorted(plan.visits_of):
        add_visits_of(session, by_event, window, cutoff)
    if plan.counted:
        _add_counted(session, plan.counted)
    fact, evidence = cutoff_fact(cutoff)
    session.add(fact, evidence)
    mark_partial(session, any(r.upper for r in records))
    return session, _marks(by_event, attributes, plan)


def subject_marks(records: list[Record], protocol: CompiledProtocol) -> Marks:
    """A subject's marks under a protocol other than the one their own session was built under."""
    plan = protocol.plan
    if not (plan.group_firsts or plan.ranks or plan.state_marks):
        return {}
    by_event = _ordered_by_event(records)
    for group, members, _ in plan.groups:
        by_event[group] = sorted((r for m in members for r in by_event.get(m, [])), key=Record.content_key)
    attributes = _attribute_values(by_event, protocol)[0] if plan.subject else {}
    return _marks(by_event, attributes, plan)


def _marks(by_event: dict[str, list[Record]], attributes: dict[str, object], plan: FactPlan) -> Marks:
    marks: Marks = {}
    for key in plan.group_firsts | plan.ranks | plan.state_marks:
        event, which, attribute = key
        items = by_event.get(event)
        # A subject whose attribute is not recorded keeps its mark, group None: a trial state per group
        # cannot be told without it (engine/state_facts.py); group facts and ranks leave it out.
        group = attributes.get(attribute) if attribute else ""
        if items:
            marks[key] = (group, items[0] if which == "first" else items[-1])
    return marks


def _ordered_by_event(records: list[Record]) -> dict[str, list[Record]]:
    by_event: dict[str, list[Record]] = defaultdict(list)
    for record in sorted(records, key=Record.content_key):
        by_event[record.event].append(record)
    return dict(sorted(by_event.items()))


def _attribute_values(by_event: dict[str, list[Record]],
                      protocol: CompiledProtocol) -> tuple[dict[str, object], dict, list[Record]]:
    """Subject attributes, each from the subject's earliest record that gives it: (values, fact, sources)."""
    fact: dict = {"kind": "$subject"}
    values: dict[str, object] = {}
    sources: list[Record] = []
    for name, (event, fname) in sorted(protocol.subject_attributes.items()):
        spec = protocol.events[event].fields[fname]
        source = next((r for r in by_event.get(event, []) if fname in r.values or spec.empty is not None), None)
        fact[f"{name}__known"] = 1 if source else 0
        if source is None:
            fact[name] = "" if spec.type == "text" else 0
            continue
        value = source.values.get(fname, spec.empty)
        fact[name] = value if spec.type == "text" else scale_decimal(value) if spec.type == "decimal" \
            else int(value)  # type: ignore[call-overload, arg-type]
        values[name] = value
        if source not in sources:
            sources.append(source)
    return values, fact, sources


def _subject_fact(session: Session, by_event: dict[str, list[Record]], protocol: CompiledProtocol) -> dict[str, object]:
    """One fact of subject attributes; returns the attribute values."""
    values, fact, sources = _attribute_values(by_event, protocol)
    display = {name: str(value) for name, value in values.items()}
    session.add(fact, Evidence(tuple(sources), display))
    return values


def _add_counts(session: Session, items: list[Record], event: str, period: str, start: str,
                cutoff: dt.date) -> None:
    if period == "subject":
        date = items[-1].date if items else cutoff
        fact = {"kind": "$count", "event": event, "period": "subject", "count": len(items), **encode("date", date)}
        session.add(fact, Evidence(tuple(items), {"count": str(len(items)), "date": date.isoformat()}))
        return
    weeks: dict[dt.date, list[Record]] = defaultdict(list)
    for record in items:
        weeks[record.date if period == "day" else week_start(record.date, start)].append(record)
    key = "day" if period == "day" else f"week-{start}"
    for first_day, members in sorted(weeks.items()):
        fact = {"kind": "$count", "event": event, "period": key, "count": len(members),
                **encode("date", first_day)}
        session.add(fact, Evidence(tuple(members), {"count": str(len(members)), "date": first_day.isoformat()}))


def _add_counted(session: Session, counted: frozenset[tuple[str, str]]) -> None:
    """Each record of a count the rules check against a limit, with its position in the count (in date order)
    and the position before it: the engine tells which one took the count past the limit."""
    for ref in range(len(session.facts)):
        fact = session.facts[ref]
        if fact["kind"] != "$count" or (fact["event"], fact["period"]) not in counted:
            continue
        for position, record in enumerate(session.evidence[ref].records[:fact["count"]], start=1):
            session.add({"kind": "$counted", "of": ref, "position": position, "before": position - 1,
                         **encode("date", record.date, record.upper.get("date"))},
                        Evidence((record,), record_display(record)))


def _add_group_members(session: Session, group: str, items: list[Record], reads: frozenset[str],
                       member_spec: EventSpec | None) -> None:
    """Each record of a group's member types again, as a record of the group, ordered across types.

    When the rules read only the group's first (or last) record, only that one becomes a fact. A group of
    one event type carries that type's fields too.
    """
    for index, record in enumerate(items):
        if "all" not in reads and not (index == 0 and "first" in reads or index == len(items) - 1 and "last" in reads):
            continue
        fields = record_fact(record, member_spec) if member_spec is not None else \
            encode("date", record.date, record.upper.get("date"))
        fact = {**fields, "kind": group, "type": record.event, "type__known": 1,
                "seq": index + 1, "rseq": len(items) - index}
        session.add(fact, Evidence((record,), {**record_display(record), "type": record.event}))


def _earliest(first: dt.date | None, second: dt.date | None) -> dt.date | None:
    """The earlier of two window bounds, None standing for a bound past the calendar's end."""
    if first is None or second is None:
        return second if first is None else first
    return min(first, second)


def _add_windows(session: Session, by_event: dict[str, list[Record]], window: Window) -> None:
    """Consecutive windows from the anchor record up to the horizon, each with its count (zeros too).

    Window k covers [anchor + k * interval, anchor + (k + 1) * interval), cut at the horizon; its
    `date` is the first day and `end` the last. Every window gets a fact, so that an empty one can fail
    a `count >= 1` check: an absence of records is a count, not a missing fact.

    A window whose end falls past 9999-12-31 (an anchor dated near the calendar's end) ends on that
    day instead. That is honest for a monitor: no record or cut-off can be dated later, so the clamped
    window holds the same records and is as open at every cut-off as the true one would be; refusing
    the anchor instead would hide a record that was read correctly.
    """
    anchors = by_event.get(window.anchor)
    if not anchors:
        return
    anchor = anchors[0] if window.which == "first" else anchors[-1]
    horizon = shift(anchor.date, window.horizon_days, window.horizon_months)
    items = by_event.get(window.event, [])
    index = 0
    start = anchor.date
    while horizon is None or start < horizon:
        stop = _earliest(shift(anchor.date, window.interval_days * (index + 1),
                                window.interval_months * (index + 1)), horizon)
        end = dt.date.max if stop is None else stop - dt.timedelta(days=1)
        add_window(session, window, index + 1, start, end, tuple(r for r in items if start <= r.date <= end), anchor)
        if stop is None:
            break
        index += 1
        start = stop
