"""The trial's records and every subject's marks -> the trial session; and all the sessions of some records."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from ..compiler.model import CompiledProtocol
from ..dates import encode
from ..inputs.records import Record
from .facts import TRIAL_SESSION, Evidence, Marks, Session, cutoff_fact, mark_partial, record_display, record_fact
from .state_facts import add_subject_triggers, state_starts
from .subject_facts import subject_session


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


def trial_session(trial_records: list[Record], marks: dict[str, Marks], protocol: CompiledProtocol,
                  cutoff: dt.date) -> Session:
    """The trial's facts: its own records, and per dose group (or other attribute) the subjects' marks."""
    plan = protocol.plan
    trial = Session(TRIAL_SESSION, None)
    for record in sorted(trial_records, key=Record.content_key):
        if record.event in plan.events:
            trial.add(record_fact(record, protocol.events[record.event]), Evidence((record,), record_display(record)))
    for key in sorted(plan.group_firsts):
        _add_group_facts(trial, marks, *key)
    for key in sorted(plan.ranks):
        _add_rank_facts(trial, marks, plan.depth(key), *key)
    partial = add_subject_triggers(trial, marks, protocol) if plan.state_marks else False
    trial.states = state_starts(marks, protocol)
    fact, evidence = cutoff_fact(cutoff)
    trial.add(fact, evidence)
    mark_partial(trial, partial or any(r.upper for r in trial_records))
    return trial


def _subject_marks(marks: dict[str, Marks], key: tuple[str, str, str]) -> dict[object, list[tuple[dt.date, str, Record]]]:
    """Per group value: each subject's mark for `key`, earliest first (ties by subject)."""
    groups: dict[object, list[tuple[dt.date, str, Record]]] = defaultdict(list)
    for subject, subject_marks_ in marks.items():
        mark = subject_marks_.get(key)
        if mark is not None and mark[0] is not None:
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
