"""Records arriving over time -> the findings that appear and disappear, re-judging only what they touch.

A batch audit judges each subject from their own records alone, and the trial level from the trial's
records plus each subject's marks (a dose group's first or last infusion: facts.subject_marks). So a new
record for a subject can change that subject's findings only, and the trial's only when it is a trial
record or it moves the subject's marks. `IncrementalAudit.add` re-judges exactly that, with one set of
engines for the object's lifetime; `result()` is the batch audit of everything added so far.

The data cut-off. A batch audit takes the latest date in its data; a live audit cannot, since each later
date would re-judge every subject. `as_of` fixes it. Without it the cut-off is today, in the site's time
zone (UTC without one), and it follows the calendar: on the first `add` or `advance` of a new day every
subject is judged once again, so that checks falling due that day (a total of infusions judged 21 days
after the first, a follow-up window closing) are reported then. Records dated after the cut-off are not
used, as in a batch audit, until their day comes.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from types import TracebackType

import pendulum

from ..compiler.model import CompiledProtocol
from ..engine.engines import Engines
from ..engine.facts import Marks
from ..engine.jobs import AuditJob, PartitionResult, SubjectOutcome
from ..engine.judging import judge_subject
from ..engine.results import AuditResult, Finding
from ..engine.trial import join_partitions, judge_trial
from ..engine.versions import Versions
from ..inputs.records import LogData, Record, Rejection, validate


@dataclass(frozen=True)
class Row:
    """A visit-log row not yet validated: where it was read, and its cells by column (or why it is no row)."""

    file: str
    line: int
    values: dict[str, object] | str


@dataclass
class Changes:
    """What one `add` (or a new day's cut-off) changed. Findings are compared by their stable id."""

    new: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)  # as they were last reported
    changed: list[Finding] = field(default_factory=list)  # same id, another status, message or reason
    rejections: list[Rejection] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # the subjects judged again
    trial: bool = False  # whether the trial level was judged again
    cutoff: dt.date | None = None  # the new cut-off, when the calendar moved it

    def __bool__(self) -> bool:
        return bool(self.new or self.resolved or self.changed or self.rejections)


def site_today(time_zone: str | None = None) -> Callable[[], dt.date]:
    """A clock of today's date at the site (in its time zone), or in UTC without one."""
    zone = pendulum.timezone(time_zone) if time_zone else dt.timezone.utc

    def today() -> dt.date:
        now = dt.datetime.now(zone)
        return dt.date(now.year, now.month, now.day)

    return today


class IncrementalAudit:
    """A long-lived audit: records come in with `add`, each answered with what changed; use as a context manager.

    It holds every record added (by subject, and the trial's), each subject's last outcome and marks, and
    the findings last reported per subject and for the trial.
    """

    def __init__(self, protocol: CompiledProtocol, as_of: dt.date | None = None, time_zone: str | None = None,
                 version: str | None = None, today: Callable[[], dt.date] | None = None):
        self.protocol = protocol
        self.time_zone = time_zone
        self.fixed = as_of is not None  # otherwise the cut-off follows `today`
        self._today = today or site_today(time_zone)
        self._versions = Versions(protocol, version)  # an unknown version fails here
        self._version = version
        self._engines = Engines()
        self._closed = False
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}
        self._read = 0
        self._rejections: list[Rejection] = []
        self._records: dict[str, list[Record]] = {}  # in reading order (file, then line), as a batch reads them
        self._trial_records: list[Record] = []
        self._outcomes: dict[str, SubjectOutcome] = {}
        self._marks: dict[str, Marks] = {}  # judged subjects only, as the batch join keeps them
        self._findings: dict[str | None, dict[str, Finding]] = {}  # per subject (None: the trial), by id
        self._ids: dict[str | None, dict[tuple, str]] = {}  # see _by_id
        self._trial_judged = False
        self._rules_by_version = {name: {rule.id: rule for rule in p.rules}
                                  for name, p in self._versions.by_name().items()}
        self._order = {rule.id: i for i, rule in enumerate(AuditResult(protocol, LogData(), None).rules)}
        self._set_cutoff(as_of or self._today())

    # ----- lifetime -----------------------------------------------------------------------------

    def __enter__(self) -> IncrementalAudit:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._engines.close()
        self._closed = True

    # ----- what the audit holds -------------------------------------------------------------------

    @property
    def cutoff(self) -> dt.date:
        return self._cutoff

    @property
    def read(self) -> int:
        """Rows and records taken so far, rejected ones included."""
        return self._read

    @property
    def rejections(self) -> list[Rejection]:
        return list(self._rejections)

    @property
    def subjects(self) -> int:
        """Subjects with records up to the cut-off (as a batch audit counts them)."""
        return sum(1 for outcome in self._outcomes.values() if outcome.judged)

    def findings(self) -> list[Finding]:
        """Every finding now standing, in the report's order."""
        return self._sorted([f for by_id in self._findings.values() for f in by_id.values()])

    # ----- records in ------------------------------------------------------------------------------

    def add(self, items: Iterable[Record | Row]) -> Changes:
        """Take validated records and/or rows (validated here); judge again the subjects they touch.

        The trial level is judged again when a trial record arrives or a re-judged subject's marks move.
        """
        self._check_open()
        changes = Changes()
        collecting = gc.isenabled()
        gc.disable()  # as in a batch audit: records and facts hold no cycles, and a collection over
        try:  # everything this audit holds would cost more than judging a subject
            self._advance(changes)
            touched: set[str] = set()
            trial = False
            for item in items:
                self._read += 1
                record = item if isinstance(item, Record) else self._validate(item, changes)
                if record is None:
                    continue
                self._place(record.file)
                if record.subject is None:
                    _insert(self._trial_records, record, self._file_index)
                    trial = True
                else:
                    _insert(self._records.setdefault(record.subject, []), record, self._file_index)
                    touched.add(record.subject)
            self._rejudge(touched, trial, changes)
        finally:
            if collecting:
                gc.enable()
        return changes

    def advance(self, today: dt.date | None = None) -> Changes:
        """Move a live cut-off to today (or `today`), judging everyone again if the day changed."""
        self._check_open()
        changes = Changes()
        self._advance(changes, today)
        return changes

    def result(self) -> AuditResult:
        """The audit of every record added so far: equal to a batch audit of them with this cut-off."""
        self._check_open()
        subject_records = [r for subject in sorted(self._records) for r in self._records[subject]]
        data = LogData(records=subject_records + self._trial_records, rejections=list(self._rejections),
                       read=self._read, files=list(self._files))
        outcomes = [self._outcomes[subject] for subject in sorted(self._outcomes)]
        return join_partitions(self.protocol, self._job, self._versions, [PartitionResult(outcomes, [], None)],
                     list(self._trial_records), data, self._engines)

    # ----- judging --------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the incremental audit is closed")

    def _set_cutoff(self, cutoff: dt.date) -> None:
        self._cutoff = cutoff
        self._job = AuditJob(self.protocol.filename, self.protocol.source, self._version, cutoff, self.time_zone,
                             (), (), (), False)
        self._trial_name, self._trial_protocol = self._versions.in_force(cutoff)

    def _advance(self, changes: Changes, today: dt.date | None = None) -> None:
        if self.fixed:
            return
        day = today or self._today()
        if day <= self._cutoff:
            return
        self._set_cutoff(day)
        changes.cutoff = day
        self._rejudge(set(self._records), True, changes)

    def _validate(self, row: Row, changes: Changes) -> Record | None:
        self._place(row.file)
        outcome = row.values if isinstance(row.values, str) else validate(
            row.values, row.file, row.line, self.protocol, self.time_zone)
        if isinstance(outcome, Record):
            return outcome
        rejection = Rejection(row.file, row.line, outcome)
        self._rejections.append(rejection)
        changes.rejections.append(rejection)
        return None

    def _place(self, file: str) -> None:
        if file not in self._file_index:
            self._file_index[file] = len(self._files)
            self._files.append(file)

    def _rejudge(self, subjects: set[str], trial: bool, changes: Changes) -> None:
        for subject in sorted(subjects):
            outcome = judge_subject(self._job, subject, self._records[subject], self._versions,
                                     self._trial_protocol, self._engines)
            self._outcomes[subject] = outcome
            marks = outcome.marks if outcome.judged else {}
            if marks != self._marks.get(subject, {}):
                trial = True
            if outcome.judged:
                self._marks[subject] = marks
            else:
                self._marks.pop(subject, None)
            rules = self._rules_by_version.get(outcome.version, {})  # an outcome not judged has no findings
            linked = [replace(f, rule=rules[f.rule]) for f in outcome.findings]  # type: ignore[index]
            self._compare(subject, self._by_id(subject, linked), changes)
            changes.subjects.append(subject)
        if trial or not self._trial_judged:
            self._compare(None, self._judge_trial(), changes)
            self._trial_judged = changes.trial = True
        for found in (changes.new, changes.resolved, changes.changed):
            found[:] = self._sorted(found)

    def _judge_trial(self) -> dict[str, Finding]:
        trial = judge_trial(self._trial_records, self._marks, self._versions, self._cutoff, self._engines)
        return self._by_id(None, trial.findings)

    def _by_id(self, key: str | None, findings: list[Finding]) -> dict[str, Finding]:
        """Findings by their stable id, computed once per finding while its evidence records stay the same.

        Every evidence record is held by this audit for its lifetime, so the records' identities key
        the cache safely; a finding whose evidence changed gets its id computed afresh.
        """
        known = self._ids.get(key, {})
        ids: dict[tuple, str] = {}
        by_id: dict[str, Finding] = {}
        for finding in findings:
            cache_key = (finding.rule.id, finding.date, tuple(map(id, finding.evidence)))
            finding_id = known.get(cache_key) or finding.id
            ids[cache_key] = finding_id
            by_id[finding_id] = finding
        self._ids[key] = ids
        return by_id

    def _compare(self, key: str | None, now: dict[str, Finding], changes: Changes) -> None:
        before = self._findings.get(key, {})
        for finding_id, finding in now.items():
            old = before.get(finding_id)
            if old is None:
                changes.new.append(finding)
            elif (old.status, old.message, old.reason) != (finding.status, finding.message, finding.reason):
                changes.changed.append(finding)
        changes.resolved += [finding for finding_id, finding in before.items() if finding_id not in now]
        if now:
            self._findings[key] = now
        else:
            self._findings.pop(key, None)

    def _sorted(self, findings: list[Finding]) -> list[Finding]:
        return sorted(findings, key=lambda f: f.sort_key(self._order))


def _insert(records: list[Record], record: Record, file_index: dict[str, int]) -> None:
    """Keep reading order (file, then line) whatever order records come in: ties among equal records follow it."""
    records.append(record)
    if len(records) > 1:
        last, previous = record, records[-2]
        if (file_index[last.file], last.line) < (file_index[previous.file], previous.line):
            records.sort(key=lambda r: (file_index[r.file], r.line))
