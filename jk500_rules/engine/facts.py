"""Records -> engine facts, one session per subject plus one for the trial.

Facts the engine cannot derive (order within a subject, counts, subject attributes, a dose group's
first record, the nth subject of a group, follow-up windows) are computed here from the data alone.
Nothing here reads a rule's thresholds: changing one changes the engine rules, never these facts. The
exceptions shape the facts themselves: a week's first day, and a window's length and horizon.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from ..compiler.model import DECIMAL_SCALE, CompiledProtocol, EventSpec, FactPlan, Window
from ..dates import add_months, encode, week_start, with_upper_bounds
from ..inputs.records import Record

TRIAL_SESSION = "trial"


@dataclass(frozen=True)
class Evidence:
    """What a fact stands for: the records behind it and the values a message may quote."""

    records: tuple[Record, ...]
    display: dict[str, str]


@dataclass
class Session:
    name: str
    subject: str | None
    facts: list[dict] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    partial: bool = False  # some record has a partial date: judged by the rules over date intervals

    def add(self, fact: dict, evidence: Evidence) -> None:
        fact["ref"] = len(self.evidence)
        self.facts.append(fact)
        self.evidence.append(evidence)


# A subject's place in the trial-level facts: per (event, which, attribute) the plan asks for, the
# subject's group value and its first (or last) record of the event.
Marks = dict[tuple[str, str, str], tuple[object, Record]]


def build_sessions(records: Iterable[Record], protocol: CompiledProtocol, cutoff: dt.date) -> list[Session]:
    """Sessions in a fixed order (subjects sorted, then the trial), whatever the input order."""
    by_subject: dict[str, list[Record]] = defaultdict(list)
    trial_records: list[Record] = []
    for record in records:
        if record.subject is None:
            trial_records.append(record)
        else:
            by_subject[record.subject].append(record)
    sessions: list[Session] = []
    marks: dict[str, Marks] = {}
    for subject in sorted(by_subject):
        session, marks[subject] = subject_session(subject, by_subject[subject], protocol, cutoff)
        sessions.append(session)
    sessions.append(trial_session(trial_records, marks, protocol, cutoff))
    return sessions


def _cutoff_fact(cutoff: dt.date) -> tuple[dict, Evidence]:
    return {"kind": "$cutoff", **encode("date", cutoff)}, Evidence((), {"date": cutoff.isoformat()})


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
            fact = _record_fact(record, spec)
            fact["seq"], fact["rseq"] = index + 1, len(items) - index
            session.add(fact, Evidence((record,), _display(record)))
    for group, members, reads in plan.groups:
        merged = sorted((r for m in members for r in by_event.get(m, [])), key=Record.content_key)
        by_event[group] = merged  # counts and windows may be over a group too
        _add_group_members(session, group, merged, reads)
    attributes = _subject_fact(session, by_event, protocol) if plan.subject else {}
    for event, period, start in sorted(plan.counts):
        _add_counts(session, by_event.get(event, []), event, period, start, cutoff)
    for window in sorted(plan.windows):
        _add_windows(session, by_event, window)
    fact, evidence = _cutoff_fact(cutoff)
    session.add(fact, evidence)
    _mark_partial(session, any(r.upper for r in records))
    return session, _marks(by_event, attributes, plan)


def subject_marks(records: list[Record], protocol: CompiledProtocol) -> Marks:
    """A subject's marks under a protocol other than the one their own session was built under."""
    plan = protocol.plan
    if not (plan.group_firsts or plan.ranks):
        return {}
    by_event = _ordered_by_event(records)
    for group, members, _ in plan.groups:
        by_event[group] = sorted((r for m in members for r in by_event.get(m, [])), key=Record.content_key)
    attributes = _attribute_values(by_event, protocol)[0] if plan.subject else {}
    return _marks(by_event, attributes, plan)


def _marks(by_event: dict[str, list[Record]], attributes: dict[str, object], plan: FactPlan) -> Marks:
    marks: Marks = {}
    for key in plan.group_firsts | plan.ranks:
        event, which, attribute = key
        items = by_event.get(event)
        group = attributes.get(attribute)
        if items and group is not None:
            marks[key] = (group, items[0] if which == "first" else items[-1])
    return marks


def trial_session(trial_records: list[Record], marks: dict[str, Marks], protocol: CompiledProtocol,
                  cutoff: dt.date) -> Session:
    """The trial's facts: its own records, and per dose group (or other attribute) the subjects' marks."""
    plan = protocol.plan
    trial = Session(TRIAL_SESSION, None)
    for record in sorted(trial_records, key=Record.content_key):
        if record.event in plan.events:
            trial.add(_record_fact(record, protocol.events[record.event]), Evidence((record,), _display(record)))
    for key in sorted(plan.group_firsts):
        _add_group_facts(trial, marks, *key)
    for key in sorted(plan.ranks):
        _add_rank_facts(trial, marks, plan.depth(key), *key)
    fact, evidence = _cutoff_fact(cutoff)
    trial.add(fact, evidence)
    _mark_partial(trial, any(r.upper for r in trial_records))
    return trial


def _mark_partial(session: Session, partial: bool) -> None:
    if partial:
        session.partial = True
        for fact in session.facts:
            with_upper_bounds(fact)


def _ordered_by_event(records: list[Record]) -> dict[str, list[Record]]:
    by_event: dict[str, list[Record]] = defaultdict(list)
    for record in sorted(records, key=Record.content_key):
        by_event[record.event].append(record)
    return dict(sorted(by_event.items()))


def _record_fact(record: Record, spec: EventSpec) -> dict:
    fact: dict = {"kind": record.event, **encode("date", record.date, record.upper.get("date"))}
    for name, fspec in spec.fields.items():
        value = record.values.get(name)
        known = value is not None
        fact[f"{name}__known"] = 1 if known else 0
        if fspec.type == "date":
            fact.update(encode(name, value, record.upper.get(name)) if known else _no_date(name))  # type: ignore[arg-type]
        elif fspec.type == "decimal":
            fact[name] = scale_decimal(value) if known else 0  # type: ignore[arg-type]
        elif fspec.type in ("integer", "boolean"):
            fact[name] = int(value) if known else 0  # type: ignore[call-overload]
        else:
            fact[name] = value if known else ""
    return fact


def _no_date(name: str) -> dict[str, int]:
    return {f"{name}{suffix}": 0 for suffix in ("", "__cal", "__calhi")}


def scale_decimal(value: Decimal) -> int:
    """A decimal as an exact integer count of millionths (rounded half-even past six places)."""
    return int((value * DECIMAL_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _display(record: Record) -> dict[str, str]:
    # A partial date is shown as written (2013-11), never as the first day it may be.
    return {"date": record.date_text.strip() if "date" in record.upper else record.date.isoformat(), **record.raw}


def _attribute_values(by_event: dict[str, list[Record]],
                      protocol: CompiledProtocol) -> tuple[dict[str, object], dict, list[Record]]:
    """Subject attributes, each from the subject's earliest record that gives it: (values, fact, sources)."""
    fact: dict = {"kind": "$subject"}
    values: dict[str, object] = {}
    sources: list[Record] = []
    for name, (event, fname) in sorted(protocol.subject_attributes.items()):
        spec = protocol.events[event].fields[fname]
        source = next((r for r in by_event.get(event, []) if fname in r.values), None)
        fact[f"{name}__known"] = 1 if source else 0
        if source is None:
            fact[name] = "" if spec.type == "text" else 0
            continue
        value = source.values[fname]
        fact[name] = value if spec.type == "text" else int(value)  # type: ignore[call-overload]
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


def _add_group_members(session: Session, group: str, items: list[Record], reads: frozenset[str]) -> None:
    """Each record of a group's member types again, as a record of the group, ordered across types.

    When the rules read only the group's first (or last) record, only that one becomes a fact.
    """
    for index, record in enumerate(items):
        if "all" not in reads and not (index == 0 and "first" in reads or index == len(items) - 1 and "last" in reads):
            continue
        fact = {"kind": group, "type": record.event, "type__known": 1,
                **encode("date", record.date, record.upper.get("date")),
                "seq": index + 1, "rseq": len(items) - index}
        session.add(fact, Evidence((record,), {**_display(record), "type": record.event}))


def _shift(value: dt.date, days: int, months: int) -> dt.date:
    return add_months(value, months) if months else value + dt.timedelta(days=days)


def _add_windows(session: Session, by_event: dict[str, list[Record]], window: Window) -> None:
    """Consecutive windows from the anchor record up to the horizon, each with its count (zeros too).

    Window k covers [anchor + k * interval, anchor + (k + 1) * interval), cut at the horizon; its
    `date` is the first day and `end` the last. Every window gets a fact, so that an empty one can fail
    a `count >= 1` check: an absence of records is a count, not a missing fact.
    """
    anchors = by_event.get(window.anchor)
    if not anchors:
        return
    anchor = anchors[0] if window.which == "first" else anchors[-1]
    horizon = _shift(anchor.date, window.horizon_days, window.horizon_months)
    items = by_event.get(window.event, [])
    index = 0
    start = anchor.date
    while start < horizon:
        stop = min(_shift(anchor.date, window.interval_days * (index + 1), window.interval_months * (index + 1)),
                   horizon)
        end = stop - dt.timedelta(days=1)
        members = tuple(r for r in items if start <= r.date <= end)
        fact = {"kind": "$count", "event": window.event, "period": window.period, "count": len(members),
                "window": index + 1, **encode("date", start), **encode("end", end)}
        display = {"count": str(len(members)), "date": start.isoformat(), "end": end.isoformat(),
                   "window": str(index + 1)}
        session.add(fact, Evidence(members or (anchor,), display))
        index += 1
        start = stop


def _subject_marks(marks: dict[str, Marks], key: tuple[str, str, str]) -> dict[object, list[tuple[dt.date, str, Record]]]:
    """Per group value: each subject's mark for `key`, earliest first (ties by subject)."""
    groups: dict[object, list[tuple[dt.date, str, Record]]] = defaultdict(list)
    for subject, subject_marks_ in marks.items():
        mark = subject_marks_.get(key)
        if mark is not None:
            group, record = mark
            groups[group].append((record.date, subject, record))
    for items in groups.values():
        items.sort(key=lambda m: (m[0], m[1]))
    return groups


def _group_value(value: object) -> object:
    return value if isinstance(value, str) else int(value)  # type: ignore[call-overload]


def _add_group_facts(trial: Session, marks: dict[str, Marks], event: str, which: str, attribute: str) -> None:
    for group, items in sorted(_subject_marks(marks, (event, which, attribute)).items(),
                               key=lambda item: str(item[0])):
        date, subject, record = items[0] if which == "first" else items[-1]
        fact = {"kind": "$group", "event": event, "which": which, "attribute": attribute,
                "group": _group_value(group), **encode("date", date)}
        trial.add(fact, Evidence((record,), {attribute: str(group), "date": record.date.isoformat(), "subject": subject}))


def _add_rank_facts(trial: Session, marks: dict[str, Marks], depth: int, event: str, which: str,
                    attribute: str) -> None:
    for group, items in sorted(_subject_marks(marks, (event, which, attribute)).items(),
                               key=lambda item: str(item[0])):
        for rank, (date, subject, record) in enumerate(items[:depth], start=1):
            fact = {"kind": "$rank", "event": event, "which": which, "attribute": attribute,
                    "group": _group_value(group), "rank": rank, **encode("date", date)}
            trial.add(fact, Evidence((record,), {attribute: str(group), "date": record.date.isoformat(),
                                                 "subject": subject, "rank": str(rank)}))
