"""A partition's rows -> validated records -> each subject's session fed to the engine and judged."""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from ..compiler.model import CompiledProtocol
from ..inputs.records import Record, Rejection
from ..inputs.validation import rejection, validate
from ..inputs.visit_logs import LogFile
from .checks import judge_rule
from .computed_facts import add_computed_facts
from .engines import Engines
from .facts import Session
from .jobs import AuditJob, PartitionResult, SubjectOutcome
from .partition import Group
from .reference_facts import add_nearest_days, add_reference_facts
from .results import Finding
from .standings import Standing
from .state_facts import add_state_facts, reference_marks
from .subject_facts import subject_marks, subject_session
from .versions import Versions, job_protocol

_WORKER_ENGINES: Engines | None = None  # a worker process's own, kept for its lifetime


def judge_partition(job: AuditJob, groups: list[Group], engines: Engines | None = None) -> PartitionResult:
    """Validate and judge a chunk of subjects: the work a worker does, given only the job and the rows."""
    global _WORKER_ENGINES
    if engines is None:
        if _WORKER_ENGINES is None:
            _WORKER_ENGINES = Engines()
        engines = _WORKER_ENGINES
    protocol = job_protocol(job)
    versions = Versions(protocol, job.version)
    trial_protocol = versions.in_force(job.cutoff)[1] if job.cutoff is not None else protocol
    logs: dict[int, LogFile] = {}
    outcomes: list[SubjectOutcome] = []
    rejections: list[Rejection] = []
    ignored: Counter = Counter()
    latest: dt.date | None = None
    collecting = gc.isenabled()
    gc.disable()
    try:
        for subject, items in groups:
            records: list[Record] = []
            for item in items:
                if isinstance(item, Record):
                    records.append(item)
                    continue
                index, line, text = item
                if index not in logs:
                    logs[index] = LogFile.known(job.files[index], job.headers[index], job.json[index])
                log = logs[index]
                parsed = log.parse(text)
                cells = None if isinstance(parsed, str) else log.as_dict(parsed)
                outcome = validate(cells, log.path, line, protocol, job.time_zone, strict_columns=job.strict_columns,
                                   ignored=ignored) if cells is not None else str(parsed)
                if isinstance(outcome, Record):
                    records.append(outcome)
                else:
                    rejections.append(rejection(cells, log.path, line, outcome))
            if records:
                top = max(r.date for r in records)
                latest = top if latest is None or top > latest else latest
            if records and job.cutoff is not None:  # without a cut-off, the parent asks again with one
                outcomes.append(judge_subject(job, subject, records, versions, trial_protocol, engines))
    finally:
        if collecting:
            gc.enable()
    return PartitionResult(outcomes, rejections, latest, ignored)


def judge_subject(job: AuditJob, subject: str, records: list[Record], versions: Versions,
                  trial_protocol: CompiledProtocol, engines: Engines) -> SubjectOutcome:
    cutoff = job.cutoff
    assert cutoff is not None
    in_time = [r for r in records if r.date <= cutoff]
    not_used: Counter = Counter()
    if len(in_time) < len(records):
        not_used["dated after the data cut-off"] = len(records) - len(in_time)
    kept = records if job.keep_records else []
    if not in_time:
        return SubjectOutcome(subject, None, False, [], (), {}, Counter(), 0, not_used, kept)
    name, protocol = versions.for_subject(in_time)
    read_events = protocol.plan.read_events
    used = [r for r in in_time if r.event in read_events]
    for record in in_time:
        if record.event not in read_events:
            not_used[f"{record.event}: no rule reads it"] += 1
    session, marks = subject_session(subject, used, protocol, cutoff)
    if trial_protocol is not protocol:
        marks = subject_marks([r for r in in_time if r.event in trial_protocol.plan.read_events], trial_protocol)
    pending: Counter = Counter()
    findings, standings = judge_session(session, protocol, engines, pending)
    if trial_protocol is protocol:
        marks.update(reference_marks(session, protocol))
    elif trial_protocol.plan.state_references:
        # The trial's states count references of the version in force at the cut-off: found under it.
        trial_records = [r for r in in_time if r.event in trial_protocol.plan.read_events]
        other, _ = subject_session(subject, trial_records, trial_protocol, cutoff)
        find_references(other, trial_protocol, engines)
        marks.update(reference_marks(other, trial_protocol))
    return SubjectOutcome(subject, name, True, [_pack(f, name) for f in findings],
                          tuple((st.status, st.reason) for st in standings), marks, pending, len(used), not_used,
                          kept)


def judge_session(session: Session, protocol: CompiledProtocol, engines: Engines,
                  pending: Counter) -> tuple[list[Finding], list[Standing]]:
    """Feed one session to the engine and judge every rule of its level, in rule order.

    The references the rules read are found first, by engine rules of their own, and become facts.
    """
    if protocol.finders and session.subject is not None:
        find_references(session, protocol, engines)
    add_computed_facts(session, protocol)  # after the references: an amount may read a record one finds
    if session.states:
        ends, names = engines.state_ends(protocol, session)
        add_state_facts(session, session.states, ends, names)
    matches, rules = engines.feed(protocol, session)
    by_rule: dict[str, list[tuple[Any, dict[str, int]]]] = defaultdict(list)
    for name, match in matches:
        rule, er = rules[name]
        by_rule[rule.id].append((er, match))
    level = "subject" if session.subject is not None else "trial"
    findings: list[Finding] = []
    standings: list[Standing] = []
    for rule in protocol.rules:
        if rule.level == level:
            judged, standing = judge_rule(rule, by_rule.get(rule.id, []), session, protocol, pending)
            findings += judged
            standings.append(standing)
    return findings, standings


def find_references(session: Session, protocol: CompiledProtocol, engines: Engines) -> None:
    """The records a subject's references find, by engine rules of their own, added as facts."""
    narrow = add_nearest_days(session, protocol)
    found, finders = engines.find(protocol, session, narrow)
    add_reference_facts(session, protocol, found, finders)


def _pack(finding: Finding, version: str | None) -> Finding:
    return replace(finding, rule=finding.rule.id, version=version)  # type: ignore[arg-type]
