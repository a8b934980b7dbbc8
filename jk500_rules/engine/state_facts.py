"""Trial states: the subjects' marks -> when each state starts; the engine's matches of its end -> its fact.

Which subjects come first, and which of their marks is the Nth, is an order, like a subject's rank;
which record a reference finds, and which trial records may end a state, are the engine's matches
(compiler/states.py). A state that never started starts "never" (the calendar's last day, later than
any record); one whose start or end cannot be told (a partial date, a reference undecided, a subject's
group not recorded) has a fact that says so, and the rules reading it are not evaluable.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..compiler.model import DECIDED, FOUND, STATE_PREFIX, CompiledProtocol, TrialState, reference_mark
from ..dates import encode, with_upper_bounds
from ..inputs.records import Record
from .facts import Evidence, Marks, Session, record_display, record_fact

Match = tuple[str, dict[str, int]]
# Why a state cannot be told (variants.UNDECIDED_CAUSES): 1 an empty field, 2 a partial date, 3 both.
_EMPTY, _PARTIAL = 1, 2


def reference_marks(session: Session, protocol: CompiledProtocol) -> Marks:
    """A subject's marks for the references a state counts, once the subject's references were found: the
    record found, or (keyed apart) that whether one was could not be told."""
    plan = protocol.plan
    if not plan.state_references:
        return {}
    attributes = next((f for f in session.facts if f["kind"] == "$subject"), {})
    marks: Marks = {}
    for name, attribute in sorted(plan.state_references):
        group = "" if not attribute else attributes[attribute] if attributes.get(f"{attribute}__known") else None
        facts = [(fact, evidence) for fact, evidence in zip(session.facts, session.evidence)
                 if fact["kind"] == "$ref" and fact.get("refname") == name]
        found = [evidence.records[0] for fact, evidence in facts if fact[f"{FOUND}__known"] and evidence.records]
        if found:
            marks[reference_mark(name, attribute)] = (group, min(found, key=Record.content_key))
        else:
            cause = max((fact["undecided"] for fact, _ in facts if not fact[f"{DECIDED}__known"]), default=0)
            anyone = next((ev.records[0] for ev in session.evidence if ev.records), None)
            if cause and anyone is not None:
                marks[reference_mark(name, attribute, cause)] = (group, anyone)
    return marks


def add_subject_triggers(trial: Session, marks: dict[str, Marks], protocol: CompiledProtocol) -> bool:
    """Each subject's first (and last) record of a type a rule judged with the trial is checked for, as a
    fact of that type carrying the subject. Returns whether one has a partial date."""
    keys = sorted({(event, which) for event, which, attribute in protocol.plan.state_marks if not attribute})
    partial = False
    for subject in sorted(marks):
        for event in sorted({event for event, _ in keys}):
            first = marks[subject].get((event, "first", ""))
            last = marks[subject].get((event, "last", ""))
            records = [mark[1] for mark in (first, last) if mark is not None]
            if len(records) == 2 and records[1] is records[0]:
                records = records[:1]  # one fact when the first is the last
            for record in records:
                fact = record_fact(record, protocol.events[record.event])
                fact.update({"kind": event, "subject": subject,
                             "seq": 1 if first is not None and record is first[1] else 2,
                             "rseq": 1 if last is not None and record is last[1] else 2})
                trial.add(fact, Evidence((record,), record_display(record)))
                partial = partial or bool(record.upper)
    return partial


@dataclass(frozen=True)
class StateStart:
    """When one state (of one group) starts, or why that cannot be told (`undecided`), or that it has not
    (neither); the end comes from the engine."""

    state: TrialState
    group: object
    start: dt.date | None
    undecided: int
    evidence: tuple[Record, ...]
    display: dict[str, str]


def state_starts(marks: dict[str, Marks], protocol: CompiledProtocol) -> list[StateStart]:
    """Per state the rules read, and per group of its attribute: the Nth subject's mark."""
    starts: list[StateStart] = []
    for state in protocol.states:
        by_group: dict[object, dict[str, dict[str, Any]]] = defaultdict(dict)
        ungrouped = False  # a subject with a mark whose group is not recorded: it may count in any group
        for subject, own in marks.items():
            for role, key in _keys(state):
                mark = own.get(key)
                if mark is not None and mark[0] is None:
                    ungrouped = True
                elif mark is not None:
                    by_group[_group_value(mark[0])].setdefault(subject, {})[role] = mark[1]
        if state.per is None:
            by_group.setdefault("", {})  # one state for the trial, started or not
        starts += [_start(state, group, by_group[group], _EMPTY if ungrouped else 0) for group in sorted(by_group, key=str)]
    return starts


def _keys(state: TrialState) -> list[tuple[str, tuple[str, str, str]]]:
    attribute = state.attribute
    if state.mark[0] == "reference":
        keys = [("mark", reference_mark(state.mark[1], attribute))]
        keys += [(f"undecided-{cause}", reference_mark(state.mark[1], attribute, cause)) for cause in (1, 2, 3)]
    else:
        keys = [("mark", (state.mark[1], state.mark[0], attribute))]
    if state.among is not None:
        keys.append(("among", (state.among[2], state.among[1], attribute)))
    return keys


def _start(state: TrialState, group: object, subjects: dict[str, dict[str, Any]], undecided: int) -> StateStart:
    counted = sorted(subjects)
    if state.among is not None:
        ranked = sorted((roles["among"].date, subject) for subject, roles in subjects.items() if "among" in roles)
        if any(_partial(subjects[subject]["among"]) for _, subject in ranked):
            undecided |= _PARTIAL
        counted = [subject for _, subject in ranked[:state.among[0]]]
    dated = []
    for subject in counted:
        roles = subjects[subject]
        for cause in (1, 2, 3):
            if f"undecided-{cause}" in roles:
                undecided |= cause
        if "mark" in roles:
            if _partial(roles["mark"]):
                undecided |= _PARTIAL
            dated.append((roles["mark"].date, subject, roles["mark"]))
    dated.sort(key=lambda item: (item[0], item[1]))
    if undecided:
        return StateStart(state, group, None, undecided, (), {})
    if len(dated) < state.ordinal:  # not started: its start is "never"
        return StateStart(state, group, None, 0, (), {"start": "(not started)"})
    start, subject, record = dated[state.ordinal - 1]
    display = {"date": start.isoformat(), "start": start.isoformat(), "subject": subject}
    return StateStart(state, group, start, 0, (record,), display)


def _partial(record: Record) -> bool:
    return "date" in record.upper


def _group_value(value: object) -> object:
    return value if isinstance(value, str) else int(value)  # type: ignore[call-overload]


def add_state_facts(session: Session, starts: list[StateStart], matches: list[Match],
                    names: dict[str, tuple[TrialState, Any]]) -> None:
    """Each state's fact, its end the first (last) record the engine matched dated on or after its start."""
    certain: dict[str, set[int]] = defaultdict(set)
    possible: dict[str, set[int]] = defaultdict(set)
    for name, refs in matches:
        state, rule = names[name]
        if rule.role == "covered":
            certain[state.name].add(refs["t"])
        elif rule.role in ("unknown", "possible_covered"):
            possible[state.name].add(refs["t"])
    added = len(session.facts)
    for start in starts:
        state = start.state
        if start.start is None or state.end is None:
            _add(session, start, None, None, start.undecided)
            continue
        which, event = state.end
        if state.end_rule is None:  # no `where`: every record of the type may end it
            candidates = {i for i, fact in enumerate(session.facts) if fact["kind"] == event}
            certain[state.name], possible[state.name] = candidates, set()
        end, undecided = _end(session, start.start, which, certain[state.name], possible[state.name])
        _add(session, start, end, None if end is None else session.evidence[end].records, undecided)
    if session.partial:
        for fact in session.facts[added:]:
            with_upper_bounds(fact)


def _end(session: Session, start: dt.date, which: str, certain: set[int],
         possible: set[int]) -> tuple[int | None, int]:
    """The record that ends a state, and why which one cannot be told (0: it can)."""
    def low(i: int) -> dt.date:
        return session.evidence[i].records[0].date

    def high(i: int) -> dt.date:
        record = session.evidence[i].records[0]
        return record.upper.get("date", record.date)  # type: ignore[return-value]

    full = sorted((i for i in certain if "date" not in session.evidence[i].records[0].upper and low(i) >= start),
                  key=lambda i: (low(i), session.evidence[i].records[0].content_key()))
    end = (full[0] if which == "first" else full[-1]) if full else None
    doubtful = [i for i in (possible | certain) - set(full) if high(i) >= start]
    if which == "first" and end is not None:
        doubtful = [i for i in doubtful if low(i) <= low(end)]
    elif which == "last" and end is not None:
        doubtful = [i for i in doubtful if high(i) >= low(end)]
    if not doubtful:
        return end, 0
    cause = (_EMPTY if any(i in possible and "date" not in session.evidence[i].records[0].upper for i in doubtful)
             else 0) | (_PARTIAL if any("date" in session.evidence[i].records[0].upper for i in doubtful) else 0)
    return None, cause or _EMPTY


def _add(session: Session, start: StateStart, end: int | None, end_records: tuple[Record, ...] | None,
         undecided: int) -> None:
    state = start.state
    fact: dict = {"kind": "$state", "refname": STATE_PREFIX + state.name, "group": start.group, "of": -1, "ties": 1}
    if start.start is None and not undecided:
        # Never started: its start is later than any record, so `date > start` is false and `date <= start`
        # true, `is known` false; it has no end.
        fact.update({f"{FOUND}__known": 1, f"{DECIDED}__known": 1, "undecided": 0, "date__known": 0,
                     "start__known": 0, "end__known": 0, **encode("date", dt.date.max),
                     **encode("start", dt.date.max), **_no_date("end")})
        session.add(fact, Evidence((), dict(start.display)))
        return
    if undecided or start.start is None:
        fact.update({f"{FOUND}__known": 0, f"{DECIDED}__known": 0, "undecided": undecided or _PARTIAL,
                     "date__known": 0, "start__known": 0, "end__known": 0, **_no_date("date"), **_no_date("start"),
                     **_no_date("end")})
        session.add(fact, Evidence((), {}))
        return
    end_day = session.evidence[end].records[0].date if end is not None else None
    fact.update({f"{FOUND}__known": 1, f"{DECIDED}__known": 1, "undecided": 0, "date__known": 1, "start__known": 1,
                 **encode("date", start.start), **encode("start", start.start),
                 **(encode("end", end_day) if end_day is not None else _no_date("end")),
                 "end__known": 1 if end_day is not None else 0})
    display = dict(start.display)
    if end_day is not None:
        display["end"] = end_day.isoformat()
    session.add(fact, Evidence(start.evidence + (end_records or ()), display))


def _no_date(name: str) -> dict[str, int]:
    return {name: 0, f"{name}__cal": 0, f"{name}__calhi": 0}
