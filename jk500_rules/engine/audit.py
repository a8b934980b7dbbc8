"""Compiled protocol + visit logs -> findings, through the engine's matches and set differences."""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..compiler.model import CompiledProtocol, CompiledRule, FactPlan
from ..dates import date_bounds
from .durable import Engine
from ..errors import InputError
from .executor import Executor, local_executor
from .facts import Evidence, Marks, Session, subject_marks, subject_session, trial_session
from .partition import ROWS_IN_MEMORY, Group, SubjectRows, chunks
from ..inputs.records import LogData, LogFile, Record, Rejection, validate

CHUNK_ROWS = 4_000  # rows per unit of work handed to a worker
# Below this many rows, starting worker processes costs more than it saves: the audit stays in-process.
PARALLEL_FROM = 20_000

STATUSES = ("deviation", "possible_deviation", "not_evaluable")
# A subject's standing under a rule, worst first: the first that applies to any check is the subject's.
STANDINGS = ("deviation", "possible_deviation", "not_evaluable", "pending", "excused", "passed", "not_applicable")


@dataclass(frozen=True)
class Finding:
    rule: CompiledRule
    subject: str | None
    date: str
    status: str
    message: str
    evidence: tuple[Record, ...]
    reason: str | None = None
    # For `require a X`: the subject's (or the trial's) X records, none of which met the condition.
    considered: tuple[Record, ...] = ()
    version: str | None = None  # the protocol version it was judged under
    change: str | None = None  # against a previous report (--since): new | persisting
    review: dict[str, str] | None = None  # a monitor's decision (--reviewed): acknowledged | waived, why, who, when

    @property
    def id(self) -> str:
        """Stable across runs and input order: the rule, the subject, the date and the evidence's content
        (never a file name, line number or row position)."""
        key = json.dumps([self.rule.id, self.subject or "", self.date,
                          [[str(part) for part in r.content_key()] for r in self.evidence]])
        return "F-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]

    def sort_key(self, rule_order: dict[str, int]) -> tuple:
        return (rule_order[self.rule.id], self.subject or "", self.date, self.status,
                tuple(r.content_key() for r in self.evidence))


@dataclass(frozen=True)
class Standing:
    """Where a subject (or, for trial-level rules, the trial) stands under one rule."""

    rule: CompiledRule
    subject: str | None
    status: str  # one of STANDINGS
    reason: str | None = None
    version: str | None = None


@dataclass
class AuditResult:
    protocol: CompiledProtocol
    data: LogData
    cutoff: dt.date | None
    findings: list[Finding] = field(default_factory=list)
    standings: StandingTable | list[Standing] = field(default_factory=list)
    audited: int = 0
    not_used: Counter = field(default_factory=Counter)
    pending: Counter = field(default_factory=Counter)
    subjects: int = 0
    versions: dict[str, list[str]] = field(default_factory=dict)  # version -> the subjects it judged
    trial_version: str | None = None  # the version trial-level rules were judged under
    explanations: dict[tuple[str | None, str], str] = field(default_factory=dict)  # report's cache
    provenance: dict[str, Any] = field(default_factory=dict)  # tool, rules and input hashes, run time
    resolved: list[dict[str, Any]] = field(default_factory=list)  # findings of the previous report now gone
    orphan_reviews: list[dict[str, Any]] = field(default_factory=list)  # decisions whose finding is gone
    records_kept: bool = True  # data.records holds every record (audit_files drops them unless asked)

    @property
    def rules(self) -> list[CompiledRule]:
        """Every rule of every version, once: the latest version's first, then withdrawn ones."""
        rules = {rule.id: rule for rule in self.protocol.rules}
        for version in reversed(self.protocol.versions):
            for rule in version.protocol.rules:
                rules.setdefault(rule.id, rule)
        return list(rules.values())

    @property
    def exit_code(self) -> int:
        if self.data.rejections:
            return 3
        return 1 if self.findings else 0


def audit_files(protocol: CompiledProtocol, paths: list[str], as_of: dt.date | None = None,
                version: str | None = None, mapping: str | None = None, time_zone: str | None = None,
                progress: Callable[[int, int], None] | None = None, jobs: int = 1,
                executor: Executor | None = None, rows_in_memory: int = ROWS_IN_MEMORY,
                keep_records: bool = False) -> AuditResult:
    """Audit visit logs, or (with a mapping) folders of SDTM domains plus any visit logs.

    `time_zone` is the site's (e.g. "Asia/Shanghai"): a datetime with a UTC offset counts on its date
    there. Without one, and for every datetime without an offset, the date is taken as written.

    Subjects are judged `jobs` at a time in worker processes (or by `executor`); the result is the
    same for any number. A log is streamed and regrouped by subject, sorted externally beyond
    `rows_in_memory` rows, so memory follows the largest subject rather than the input. Records are
    kept in `result.data.records` (the HTML report's timelines need them) only with `keep_records`.
    """
    if mapping is not None:
        from ..inputs.sdtm import read_study  # only SDTM input needs the XPT reader

        data = read_study(paths, mapping, protocol, time_zone)
        return audit_data(protocol, data, as_of, version, progress, jobs=jobs, executor=executor)
    Versions(protocol, version)  # an unknown --version fails before any row is read
    logs = [LogFile(path) for path in paths]
    data = LogData(files=list(paths))
    trial_rows: list[tuple[int, int, dict[str, object]]] = []
    latest: dt.date | None = None
    collecting = gc.isenabled()
    gc.disable()  # rows and records hold no reference cycles: the collector's passes only cost time
    try:
        with SubjectRows(rows_in_memory) as rows:
            for index, log in enumerate(logs):
                for line, text, parsed in log.entries():
                    data.read += 1
                    if isinstance(parsed, str):
                        data.rejections.append(Rejection(log.path, line, parsed))
                        continue
                    key, event, date_text = log.base(parsed)
                    if not key:
                        trial_rows.append((index, line, log.as_dict(parsed)))
                        continue
                    rows.add(key, (index, line, text))
                    if as_of is None and event in protocol.events:
                        # The latest date of a row that may be valid: the cut-off, unless that row is
                        # rejected, which the workers' own latest date shows (then it is judged again).
                        bounds = date_bounds(date_text, time_zone)
                        if bounds is not None and (latest is None or bounds[0] > latest):
                            latest = bounds[0]
            trial_records: list[Record] = []
            for index, line, row in trial_rows:
                outcome = validate(row, logs[index].path, line, protocol, time_zone)
                if isinstance(outcome, Record):
                    trial_records.append(outcome)
                else:
                    data.rejections.append(Rejection(logs[index].path, line, outcome))
            if trial_records and as_of is None:
                trial_latest = max(r.date for r in trial_records)
                latest = trial_latest if latest is None or trial_latest > latest else latest
            cutoff = as_of or latest
            job = AuditJob(protocol.filename, protocol.source, version, cutoff, time_zone,
                           tuple(log.path for log in logs), tuple(log.header for log in logs),
                           tuple(log.json for log in logs), keep_records)
            result = _audit_groups(protocol, job, rows.groups, trial_records, data, progress, jobs, executor,
                                   exact_cutoff=as_of is not None, subjects=rows.keys, rows=rows.rows)
    finally:
        if collecting:
            gc.enable()
    return result


def audit_data(protocol: CompiledProtocol, data: LogData, as_of: dt.date | None = None,
               version: str | None = None, progress: Callable[[int, int], None] | None = None,
               jobs: int = 1, executor: Executor | None = None) -> AuditResult:
    """Audit records already validated (an SDTM study, or `read_logs`); the records stay in `data`.

    Each subject is judged under the protocol version in force on the date of their first record of
    the `governed by` event type (their first record of any type without one); trial-level rules under
    the version in force at the data cut-off. `version` judges everyone under that one version.
    """
    cutoff = as_of or max((r.date for r in data.records), default=None)
    by_subject: dict[str, list[Record]] = defaultdict(list)
    trial_records: list[Record] = []
    for record in data.records:
        if record.subject is None:
            trial_records.append(record)
        else:
            by_subject[record.subject].append(record)
    job = AuditJob(protocol.filename, protocol.source, version, cutoff, None, (), (), (), False)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _audit_groups(protocol, job, lambda: ((s, by_subject[s]) for s in sorted(by_subject)),
                             trial_records, data, progress, jobs, executor, exact_cutoff=True,
                             subjects=len(by_subject), rows=len(data.records))
    finally:
        if collecting:
            gc.enable()


@dataclass(frozen=True)
class AuditJob:
    """What every partition of one audit shares: small and picklable, so any worker can take it."""

    rules_file: str
    rules_source: str
    version: str | None  # judge everyone under this version (audit --version)
    cutoff: dt.date | None
    time_zone: str | None
    files: tuple[str, ...]  # the logs whose rows partitions hold, by index
    headers: tuple[tuple[str, ...], ...]
    json: tuple[bool, ...]
    keep_records: bool


@dataclass
class SubjectOutcome:
    """One subject judged: what the parent needs to join the partitions and the trial level."""

    subject: str
    version: str | None
    judged: bool  # has records up to the cut-off
    findings: list[Finding]  # rule given by id (see _pack), to travel light between processes
    standings: tuple[tuple[str, str | None], ...]  # per subject-level rule of the version, in rule order
    marks: Marks
    pending: Counter
    audited: int
    not_used: Counter
    records: list[Record]  # only when the job keeps records


@dataclass
class PartitionResult:
    outcomes: list[SubjectOutcome]
    rejections: list[Rejection]
    latest: dt.date | None  # the latest date of a valid record: confirms the cut-off


class Versions:
    """Which protocol version judges a subject, and which the trial level."""

    def __init__(self, protocol: CompiledProtocol, version: str | None):
        versions = protocol.versions
        if version is not None:
            chosen = next((v for v in versions if v.name == version), None)
            if chosen is None:
                known = ", ".join(v.name for v in versions) or "none (the rules declare no versions)"
                raise InputError(protocol.filename, f"no protocol version '{version}'; versions: {known}")
            versions = (chosen,)
        self.protocol = protocol
        self.versions = versions
        self.single: tuple[str | None, CompiledProtocol] | None = None
        if len(versions) <= 1:
            only = versions[0] if versions else None
            self.single = (only.name if only else None, only.protocol if only else protocol)

    def in_force(self, day: dt.date) -> tuple[str | None, CompiledProtocol]:
        if self.single is not None:
            return self.single
        chosen = self.versions[0]
        for v in self.versions:
            if v.effective is None or v.effective <= day:
                chosen = v
        return chosen.name, chosen.protocol

    def for_subject(self, records: list[Record]) -> tuple[str | None, CompiledProtocol]:
        if self.single is not None:
            return self.single
        governing = [r.date for r in records if r.event == self.protocol.governed_by]
        return self.in_force(min(governing) if governing else min(r.date for r in records))

    def by_name(self) -> dict[str | None, CompiledProtocol]:
        if self.single is not None:
            return {self.single[0]: self.single[1]}
        return {v.name: v.protocol for v in self.versions}


_PROTOCOLS: dict[tuple[str, str], CompiledProtocol] = {}
_PROTOCOLS_KEPT = 8  # a long-lived worker (Dask) may see many rules files: keep the latest few


def _remember(key: tuple[str, str], protocol: CompiledProtocol) -> CompiledProtocol:
    _PROTOCOLS.pop(key, None)
    _PROTOCOLS[key] = protocol
    while len(_PROTOCOLS) > _PROTOCOLS_KEPT:
        del _PROTOCOLS[next(iter(_PROTOCOLS))]
    return protocol


def _protocol_key(job: AuditJob) -> tuple[str, str]:
    return job.rules_file, hashlib.sha256(job.rules_source.encode("utf-8")).hexdigest()


def _job_protocol(job: AuditJob) -> CompiledProtocol:
    """The job's protocol: the parent's own object in-process or after a fork, compiled once elsewhere."""
    key = _protocol_key(job)
    if key in _PROTOCOLS:
        return _PROTOCOLS[key]
    from ..compiler import compile_protocol
    from ..language.parser import parse

    return _remember(key, compile_protocol(parse(job.rules_source, job.rules_file), job.rules_file, job.rules_source))


class Engines:
    """One engine per protocol version (and one for partial dates), made when first needed.

    Each entry holds its protocol, so that the protocol's id, the key, cannot be reused by another;
    past `kept` entries the oldest engine is closed (a long-lived worker may see many protocols).
    """

    def __init__(self, kept: int = 4 * _PROTOCOLS_KEPT) -> None:
        self.kept = kept
        self._engines: dict[tuple[int, bool], tuple[CompiledProtocol, Engine, dict[str, tuple[CompiledRule, Any]]]] = {}

    def get(self, protocol: CompiledProtocol, partial: bool) -> tuple[Engine, dict[str, tuple[CompiledRule, Any]]]:
        """The engine, and each of its engine rules' (rule, engine rule) by name."""
        key = (id(protocol), partial)
        if key not in self._engines:
            while len(self._engines) >= self.kept:
                self._engines.pop(next(iter(self._engines)))[1].close()
            engine = Engine(protocol.interval_rulesets() if partial else protocol.rulesets())
            names = {er.name: (rule, er) for rule in protocol.rules
                     for er in (rule.interval_rules if partial else rule.engine_rules)}
            self._engines[key] = (protocol, engine, names)
        _, engine, names = self._engines[key]
        return engine, names

    def close(self) -> None:
        for _, engine, _ in self._engines.values():
            engine.close()
        self._engines.clear()


_WORKER_ENGINES: Engines | None = None  # a worker process's own, kept for its lifetime


def judge_partition(job: AuditJob, groups: list[Group], engines: Engines | None = None) -> PartitionResult:
    """Validate and judge a chunk of subjects: the work a worker does, given only the job and the rows."""
    global _WORKER_ENGINES
    if engines is None:
        if _WORKER_ENGINES is None:
            _WORKER_ENGINES = Engines()
        engines = _WORKER_ENGINES
    protocol = _job_protocol(job)
    versions = Versions(protocol, job.version)
    trial_protocol = versions.in_force(job.cutoff)[1] if job.cutoff is not None else protocol
    logs: dict[int, LogFile] = {}
    outcomes: list[SubjectOutcome] = []
    rejections: list[Rejection] = []
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
                outcome = parsed if isinstance(parsed, str) else validate(
                    log.as_dict(parsed), log.path, line, protocol, job.time_zone)
                if isinstance(outcome, Record):
                    records.append(outcome)
                else:
                    rejections.append(Rejection(log.path, line, outcome))
            if records:
                top = max(r.date for r in records)
                latest = top if latest is None or top > latest else latest
            if records and job.cutoff is not None:  # without a cut-off, the parent asks again with one
                outcomes.append(judge_subject(job, subject, records, versions, trial_protocol, engines))
    finally:
        if collecting:
            gc.enable()
    return PartitionResult(outcomes, rejections, latest)


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
    return SubjectOutcome(subject, name, True, [_pack(f, name) for f in findings],
                          tuple((st.status, st.reason) for st in standings), marks, pending, len(used), not_used,
                          kept)


def judge_session(session: Session, protocol: CompiledProtocol, engines: Engines,
                   pending: Counter) -> tuple[list[Finding], list[Standing]]:
    """Feed one session to the engine and judge every rule of its level, in rule order."""
    engine, rules = engines.get(protocol, session.partial)
    by_rule: dict[str, list[tuple[Any, dict[str, int]]]] = defaultdict(list)
    for name, match in engine.feed(session.name, session.facts):
        rule, er = rules[name]
        by_rule[rule.id].append((er, match))
    level = "subject" if session.subject is not None else "trial"
    findings: list[Finding] = []
    standings: list[Standing] = []
    for rule in protocol.rules:
        if rule.level == level:
            judged, standing = _judge(rule, by_rule.get(rule.id, []), session, protocol, pending)
            findings += judged
            standings.append(standing)
    return findings, standings


@dataclass
class TrialOutcome:
    """The trial level judged: its findings (rules linked), its standings row and its record counts."""

    version: str | None
    findings: list[Finding]
    standings: tuple[tuple[str, str | None], ...]
    audited: int
    not_used: Counter
    pending: Counter


def judge_trial(trial_records: list[Record], marks: dict[str, Marks], versions: Versions, cutoff: dt.date,
                engines: Engines) -> TrialOutcome:
    """The trial's own records up to the cut-off and every judged subject's marks, as one session judged."""
    name, protocol = versions.in_force(cutoff)
    in_time = [r for r in trial_records if r.date <= cutoff]
    not_used: Counter = Counter()
    if len(in_time) < len(trial_records):
        not_used["dated after the data cut-off"] = len(trial_records) - len(in_time)
    read_events = protocol.plan.read_events
    used = [r for r in in_time if r.event in read_events]
    for record in in_time:
        if record.event not in read_events:
            not_used[f"{record.event}: no rule reads it"] += 1
    pending: Counter = Counter()
    findings, standings = judge_session(trial_session(used, marks, protocol, cutoff), protocol, engines, pending)
    return TrialOutcome(name, [replace(f, version=name) for f in findings],
                        tuple((st.status, st.reason) for st in standings), len(used), not_used, pending)


def _pack(finding: Finding, version: str | None) -> Finding:
    return replace(finding, rule=finding.rule.id, version=version)  # type: ignore[arg-type]


def _audit_groups(protocol: CompiledProtocol, job: AuditJob, groups: Callable[[], Iterable[Group]],
                  trial_records: list[Record], data: LogData, progress: Callable[[int, int], None] | None,
                  jobs: int, executor: Executor | None, exact_cutoff: bool, subjects: int, rows: int) -> AuditResult:
    """Judge the subjects' partitions (again, if a rejected row had set the cut-off), then the trial.

    Each partition's outcomes are joined as they arrive, so that the parent holds one shared row of
    standings per subject, not every subject's outcome.
    """
    versions = Versions(protocol, job.version)  # an unknown --version fails here, before any work
    _remember(_protocol_key(job), protocol)
    local = executor is None
    executor = executor or local_executor(jobs if rows >= PARALLEL_FROM else 1)
    engines = Engines()
    try:
        while True:
            joined = _Join(protocol, job, versions)
            for part in executor.map(judge_partition, job, chunks(iter(groups()), CHUNK_ROWS), engines):
                joined.add(part)
                if progress is not None:
                    for done in range(joined.seen - len(part.outcomes) + 1, joined.seen + 1):
                        if done % 100 == 0 or done == subjects:
                            progress(done, subjects)
            latest = max((d for d in (joined.latest, *(r.date for r in trial_records)) if d is not None),
                         default=None)
            if exact_cutoff or latest == job.cutoff:
                break
            job = replace(job, cutoff=latest)
        return joined.finish(trial_records, data, engines)
    finally:
        engines.close()
        if local:
            executor.close()


class MarkKeeper:
    """The subjects' marks the trial session can use, out of every subject's: memory per group, not per subject.

    A group fact takes a group's earliest mark (its latest, for `last`), and rank facts its `depth`
    earliest, ordered by date then subject as facts.trial_session orders them; no other mark can
    become a fact, so no other is kept.
    """

    def __init__(self, plan: FactPlan):
        self.plan = plan
        self._earliest: dict[tuple[tuple[str, str, str], object], list[tuple[dt.date, str]]] = defaultdict(list)
        self._latest: dict[tuple[tuple[str, str, str], object], tuple[dt.date, str]] = {}
        self._marks: dict[tuple[str, tuple[str, str, str]], tuple[object, Record]] = {}

    def _keep(self, key: tuple[str, str, str]) -> tuple[int, bool]:
        """How many earliest marks a key needs per group, and whether it needs the latest."""
        earliest = self.plan.depth(key) if key in self.plan.ranks else 0
        if key in self.plan.group_firsts and key[1] == "first":
            earliest = max(earliest, 1)
        return earliest, key in self.plan.group_firsts and key[1] == "last"

    def add(self, subject: str, marks: Marks) -> None:
        for key, (group, record) in marks.items():
            earliest, latest = self._keep(key)
            mark = (record.date, subject)
            kept = False
            if earliest:
                ranked = self._earliest[key, group]
                if len(ranked) < earliest or mark < ranked[-1]:
                    bisect.insort(ranked, mark)
                    kept = True
                    if len(ranked) > earliest:
                        self._drop(key, group, ranked.pop())
            if latest and ((key, group) not in self._latest or mark > self._latest[key, group]):
                previous = self._latest.get((key, group))
                self._latest[key, group] = mark
                kept = True
                if previous is not None:
                    self._drop(key, group, previous)
            if kept:
                self._marks[subject, key] = (group, record)

    def _drop(self, key: tuple[str, str, str], group: object, mark: tuple[dt.date, str]) -> None:
        """Forget a mark no longer kept, unless the other list still holds it."""
        if mark in self._earliest.get((key, group), ()) or self._latest.get((key, group)) == mark:
            return
        self._marks.pop((mark[1], key), None)

    def kept(self) -> dict[str, Marks]:
        marks: dict[str, Marks] = defaultdict(dict)
        for (subject, key), mark in self._marks.items():
            marks[subject][key] = mark
        return dict(marks)


def join_partitions(protocol: CompiledProtocol, job: AuditJob, versions: Versions, parts: Iterable[PartitionResult],
          trial_records: list[Record], data: LogData, engines: Engines) -> AuditResult:
    """Partition results already in hand, and the trial level, as one result."""
    joined = _Join(protocol, job, versions)
    for part in parts:
        joined.add(part)
    return joined.finish(trial_records, data, engines)


class _Join:
    """The partitions' outcomes as they arrive, then the trial level judged from the subjects' marks."""

    def __init__(self, protocol: CompiledProtocol, job: AuditJob, versions: Versions):
        self.job = job
        self.versions = versions
        self.by_name = versions.by_name()
        self.result = AuditResult(protocol, LogData(), job.cutoff)
        self.result.standings = StandingTable(self.result.rules, self.by_name)
        self.rules = {name: {rule.id: rule for rule in p.rules} for name, p in self.by_name.items()}
        cutoff = job.cutoff
        self.marks = MarkKeeper((versions.in_force(cutoff)[1] if cutoff is not None else protocol).plan)
        self.judged_by: dict[str | None, list[str]] = defaultdict(list)
        self.kept: list[Record] = []
        self.rejections: list[Rejection] = []
        self.latest: dt.date | None = None
        self.seen = 0

    def add(self, part: PartitionResult) -> None:
        result = self.result
        self.rejections += part.rejections
        if part.latest is not None and (self.latest is None or part.latest > self.latest):
            self.latest = part.latest
        for outcome in part.outcomes:
            self.seen += 1
            result.not_used.update(outcome.not_used)
            self.kept += outcome.records
            if not outcome.judged:
                continue
            result.subjects += 1
            result.audited += outcome.audited
            result.pending.update(outcome.pending)
            self.judged_by[outcome.version].append(outcome.subject)
            if outcome.marks:
                self.marks.add(outcome.subject, outcome.marks)
            rules = self.rules[outcome.version]
            result.findings += [replace(f, rule=rules[f.rule]) for f in outcome.findings]  # type: ignore[index]
            result.standings.add(outcome.subject, outcome.version, outcome.standings)

    def finish(self, trial_records: list[Record], data: LogData, engines: Engines) -> AuditResult:
        job, result = self.job, self.result
        cutoff = job.cutoff
        result.data = data
        data.rejections += self.rejections
        if job.files:  # rows streamed from logs: records exist only where a worker was asked to keep them
            data.records = self.kept + trial_records
            result.records_kept = job.keep_records
        data.rejections.sort(key=lambda r: (_file_order(data, r.file), r.line))
        if cutoff is not None:
            trial = judge_trial(trial_records, self.marks.kept(), self.versions, cutoff, engines)
            result.audited += trial.audited
            result.not_used.update(trial.not_used)
            result.pending.update(trial.pending)
            result.findings += trial.findings
            result.standings.add(None, trial.version, trial.standings)  # type: ignore[union-attr]
            self.judged_by.setdefault(trial.version, [])
            result.trial_version = trial.version
        elif trial_records:
            result.not_used["dated after the data cut-off"] += len(trial_records)
        result.versions = {v: sorted(self.judged_by[v]) for v in self.by_name if v is not None and v in self.judged_by}
        order = {rule.id: i for i, rule in enumerate(result.rules)}
        result.findings.sort(key=lambda f: f.sort_key(order))
        return result


def _file_order(data: LogData, file: str) -> int:
    try:
        return data.files.index(file)
    except ValueError:
        return len(data.files)


class StandingTable:
    """Where each subject (None: the trial) stands under every rule of their version.

    A subject's row is a tuple of (status, reason) per rule, shared with every subject who stands
    the same way, so that a portfolio's standings take little more memory than its subject ids.
    Iterates as Standings sorted by rule order, then subject.
    """

    def __init__(self, rules: list[CompiledRule], by_version: dict[str | None, CompiledProtocol]):
        self._order = [rule.id for rule in rules]
        self._levels: dict[tuple[str | None, bool], tuple[CompiledRule, ...]] = {
            (name, trial): tuple(r for r in protocol.rules if (r.level == "trial") == trial)
            for name, protocol in by_version.items() for trial in (False, True)}
        self._rows: dict[str | None, tuple[str | None, tuple[tuple[str, str | None], ...]]] = {}
        self._shared: dict[tuple, tuple] = {}

    def add(self, subject: str | None, version: str | None, row: tuple[tuple[str, str | None], ...]) -> None:
        self._rows[subject] = (version, self._shared.setdefault(row, row))

    def __len__(self) -> int:
        return sum(len(row) for _, row in self._rows.values())

    def counts(self) -> Counter:
        """(rule id, status) -> subjects, counted once per distinct row rather than once per subject."""
        rows = Counter((version, subject is None, row) for subject, (version, row) in self._rows.items())
        counts: Counter = Counter()
        for (version, trial, row), subjects in rows.items():
            for rule, (status, _) in zip(self._levels[version, trial], row):
                counts[rule.id, status] += subjects
        return counts

    def __iter__(self) -> Iterator[Standing]:
        subjects = sorted(self._rows, key=lambda s: s or "")
        positions = {key: {rule.id: (i, rule) for i, rule in enumerate(rules)} for key, rules in self._levels.items()}
        for rule_id in self._order:
            for subject in subjects:
                version, row = self._rows[subject]
                found = positions[version, subject is None].get(rule_id)
                if found is not None:
                    index, rule = found
                    status, reason = row[index]
                    yield Standing(rule, subject, status, reason, version)


@dataclass
class _Matches:
    """A rule's engine matches for one session, sorted by role."""

    triggers: set[int] = field(default_factory=set)
    due: set[int] = field(default_factory=set)
    covered: set[int] = field(default_factory=set)
    hits: dict[int, dict[int, dict[str, int]]] = field(default_factory=lambda: defaultdict(dict))  # t -> x -> refs
    unknown: dict[int, dict[int, tuple[str, dict[str, int]]]] = field(default_factory=lambda: defaultdict(dict))
    needs_met: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    excused: dict[int, dict[str, int]] = field(default_factory=dict)
    unanchored_excuses: dict[int, dict[str, int]] = field(default_factory=dict)
    anchored: set[int] = field(default_factory=set)
    # What a partial date makes possible, not certain.
    possible_triggers: dict[int, dict[str, int]] = field(default_factory=dict)
    possible_covered: dict[int, dict[str, int]] = field(default_factory=dict)
    possible_hits: dict[int, dict[int, dict[str, int]]] = field(default_factory=lambda: defaultdict(dict))


def _sort_matches(matches: list[tuple[Any, dict[str, int]]]) -> _Matches:
    sorted_ = _Matches()
    for er, refs in matches:
        t = refs["t"]
        if er.role == "trigger":
            sorted_.triggers.add(t)
        elif er.role == "due":
            sorted_.due.add(t)
        elif er.role == "covered":
            sorted_.covered.add(t)
        elif er.role == "deviation":
            sorted_.hits[t].setdefault(refs.get("x", -1), refs)
        elif er.role == "unknown":
            sorted_.unknown[t].setdefault(refs.get("x", -1), (er.reason or "", refs))
        elif er.role == "needs":
            sorted_.needs_met[er.need].add(t)
        elif er.role == "anchored":
            sorted_.anchored.add(t)
        elif er.role == "possible_trigger":
            sorted_.possible_triggers.setdefault(t, refs)
        elif er.role == "possible_covered":
            sorted_.possible_covered.setdefault(t, refs)
        elif er.role == "possible_deviation":
            sorted_.possible_hits[t].setdefault(refs.get("x", -1), refs)
        elif er.role in ("excused", "unanchored_excuse"):
            excuses = sorted_.excused if er.role == "excused" else sorted_.unanchored_excuses
            current = excuses.get(t)
            if current is None or sorted(refs.values()) < sorted(current.values()):
                excuses[t] = refs
    # A check whose due date has no anchor record (e.g. no first infusion) never falls due: any excuse counts.
    for t, refs in sorted_.unanchored_excuses.items():
        if t not in sorted_.anchored:
            sorted_.excused.setdefault(t, refs)
    return sorted_


def _judge(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
           protocol: CompiledProtocol, pending_counts: Counter) -> tuple[list[Finding], Standing]:
    """Findings for one rule and one session, and where the session's subject stands.

    Each check (trigger) ends in one outcome: excused (an `unless` record), passed (covered, or no
    forbidden record), not evaluable (a `needs` record is missing, or a field the check reads),
    deviation, or pending (a `judged from` date after the cut-off).
    """
    m = _sort_matches(matches)
    certain = m.triggers | set(m.hits)
    triggers = certain | set(m.possible_triggers)
    outcomes: list[tuple[str, str | None]] = []
    findings: list[Finding] = []
    if rule.has_due:
        pending = triggers - m.due - set(m.excused)
        pending_counts[rule.id] += len(pending)
        outcomes += [("pending", f"judged from {rule.due_text}, after the data cut-off")] * len(pending)
        triggers -= pending
    for t in sorted(triggers):
        if rule.mode == "require" and t in m.covered:
            outcomes.append(("passed", None))
            continue
        if t in m.excused:
            outcomes.append(("excused", _excuse_reason(m.excused[t], session)))
            continue
        hits = [refs for _, refs in sorted(m.hits.get(t, {}).items())]
        if hits:
            findings += [_finding(rule, "deviation", refs, session, protocol) for refs in hits]
            outcomes.append(("deviation", None))
            continue
        possible = [refs for _, refs in sorted(m.possible_hits.get(t, {}).items())]
        if rule.mode == "forbid" and possible:
            for refs in possible:
                findings.append(_possible(rule, refs, session, protocol))
            outcomes.append(("possible_deviation", findings[-1].reason))
            continue
        unmet = _unmet_need(rule, t, m)
        if unmet is not None:
            findings.append(_finding(rule, "not_evaluable", {"t": t}, session, protocol, unmet))
            outcomes.append(("not_evaluable", unmet))
            continue
        if rule.mode == "require" and (t in m.possible_covered or t not in certain):
            refs = m.possible_covered.get(t) or m.possible_triggers.get(t) or {"t": t}
            findings.append(_possible(rule, refs, session, protocol))
            outcomes.append(("possible_deviation", findings[-1].reason))
            continue
        unknown = [value for _, value in sorted(m.unknown.get(t, {}).items())]
        if unknown:
            if rule.mode == "require":
                unknown = unknown[:1]
            findings += [_finding(rule, "not_evaluable", refs, session, protocol, reason) for reason, refs in unknown]
            outcomes.append(("not_evaluable", unknown[0][0]))
            continue
        if rule.mode == "require":
            findings.append(_finding(rule, "deviation", {"t": t}, session, protocol))
            outcomes.append(("deviation", None))
        else:
            outcomes.append(("passed", None))
    return findings, _standing(rule, session, outcomes)


def _possible(rule: CompiledRule, refs: dict[str, int], session: Session, protocol: CompiledProtocol) -> Finding:
    """A finding a partial date leaves undecided: what is missing, and the interval each such date spans."""
    # Only the dates the rule's date tests read: a partial date the rule never compares is no reason.
    compared = {(alias, name) for er in rule.interval_rules for t in er.tests
                for alias, name in ((t.alias, t.field), (t.other, t.other_field)) if alias and name and "__hi" in name}
    dated_fields = {(alias, name.split("__")[0]) for alias, name in compared}
    parts = []
    for alias, ref in sorted(refs.items(), key=lambda item: item[1]):
        for record in session.evidence[ref].records:
            names = {name for a, name in dated_fields if a == alias}
            for name, high in sorted(record.upper.items()):
                if name not in names:
                    continue
                low = record.date if name == "date" else record.values[name]
                written = record.date_text if name == "date" else record.raw.get(name, "")
                what = f"{record.event} date" if name == "date" else f"{record.event} {name}"
                parts.append(f"{what} {written} is only known to lie between {low} and {high}")
    reason = "; ".join(dict.fromkeys(parts)) or "a date the check depends on is only partly known"
    return _finding(rule, "possible_deviation", refs, session, protocol, reason)


def _unmet_need(rule: CompiledRule, t: int, m: _Matches) -> str | None:
    for index, reason in enumerate(rule.needs, start=1):
        if t not in m.needs_met.get(index, set()):
            return reason
    return None


def _excuse_reason(refs: dict[str, int], session: Session) -> str:
    alias = next(a for a in sorted(refs) if re.fullmatch(r"e\d+", a))
    evidence = session.evidence[refs[alias]]
    record = evidence.records[0]
    return f"excused by {record.event} on {evidence.display.get('date', '')}"


def _standing(rule: CompiledRule, session: Session, outcomes: list[tuple[str, str | None]]) -> Standing:
    if not outcomes:
        return Standing(rule, session.subject, "not_applicable", f"no {rule.trigger_label} recorded")
    status, reason = min(outcomes, key=lambda o: STANDINGS.index(o[0]))
    return Standing(rule, session.subject, status, reason)


def _finding(rule: CompiledRule, status: str, refs: dict[str, int], session: Session, protocol: CompiledProtocol,
             reason: str | None = None) -> Finding:
    evidence: dict[str, Evidence] = {alias: session.evidence[ref] for alias, ref in refs.items()}
    dated = evidence.get("x") if "x" in evidence and rule.mode == "forbid" else evidence["t"]
    records: list[Record] = []
    for alias in sorted(evidence, key=lambda a: (a != "t", a != "x", a)):
        for record in evidence[alias].records:
            if record not in records:
                records.append(record)
    if status == "not_evaluable":
        message = f"{rule.title}: cannot be evaluated, {reason}."
    elif status == "possible_deviation":
        message = f"Possibly: {render_message(rule, evidence, protocol)} Undecided: {reason}."
    else:
        message = render_message(rule, evidence, protocol)
    considered: tuple[Record, ...] = ()
    if status == "deviation" and rule.mode == "require" and rule.exists_event:
        sought = {id(r): r for fact, ev in zip(session.facts, session.evidence)
                  if fact["kind"] == rule.exists_event for r in ev.records}
        considered = tuple(sorted(sought.values(), key=Record.content_key))
    return Finding(rule, session.subject, dated.display.get("date", ""), status, message, tuple(records), reason,
                   considered)


def render_message(rule: CompiledRule, evidence: dict[str, Evidence], protocol: CompiledProtocol) -> str:
    """Fill `{name}` placeholders with parameters and the matched records' values as written."""
    trigger = evidence["t"].display
    exists = evidence.get("x")

    def fill(match: re.Match[str]) -> str:
        text = match.group(1).strip()
        if "." in text:
            record, name = text.split(".", 1)
            source = exists.display if exists is not None and record == rule.exists_event else trigger
            return source.get(name, "(none)")
        if text in trigger:
            return trigger[text]
        value = protocol.parameters.get(text)
        return str(value) if value is not None else "(none)"

    return re.sub(r"\{([^{}]*)\}", fill, rule.message)

