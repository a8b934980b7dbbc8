"""The trial level: the subjects' marks kept, the partitions joined, trial-level rules judged, one result."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..compiler.model import CompiledProtocol, FactPlan, is_reference_mark
from ..inputs.records import LogData, Record, Rejection
from .engines import Engines
from .facts import Marks
from .jobs import AuditJob, PartitionResult
from .judging import judge_session
from .results import AuditResult, Finding
from .standings import StandingTable
from .trial_facts import trial_session
from .versions import Versions


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


class MarkKeeper:
    """The subjects' marks the trial session can use, out of every subject's: memory per group, not per subject.

    A group fact takes a group's earliest mark (its latest, for `last`), and rank facts its `depth`
    earliest, ordered by date then subject as trial_facts.trial_session orders them; no other mark can
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
            if key in self.plan.state_marks or is_reference_mark(key):
                self._marks[subject, key] = (group, record)  # a trial state counts every subject's
                continue
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
    joined = PartitionJoin(protocol, job, versions)
    for part in parts:
        joined.add(part)
    return joined.finish(trial_records, data, engines)


class PartitionJoin:
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
        self.ignored: Counter = Counter()
        self.latest: dt.date | None = None
        self.seen = 0

    def add(self, part: PartitionResult) -> None:
        result = self.result
        self.rejections += part.rejections
        self.ignored.update(part.ignored)
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
        data.ignored.update(self.ignored)
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
