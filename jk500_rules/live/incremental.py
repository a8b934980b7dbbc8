"""Records arriving over time -> the findings that appear and disappear, re-judging only what they touch.

A batch audit judges each subject from their own records alone, and the trial level from the trial's
records plus each subject's marks (a dose group's first or last infusion: subject_facts.subject_marks).
So a new record for a subject can change that subject's findings only, and the trial's only when it is a
trial record or it moves the subject's marks. `IncrementalAudit.add` re-judges exactly that, with one set of
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
from dataclasses import replace
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
from ..inputs.records import IgnoredColumn, Record, Rejection
from .findings import Changes, StandingFindings
from .intake import Intake, Row


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
                 version: str | None = None, today: Callable[[], dt.date] | None = None,
                 strict_columns: bool = False):
        self.protocol = protocol
        self.time_zone = time_zone
        self.fixed = as_of is not None  # otherwise the cut-off follows `today`
        self._today = today or site_today(time_zone)
        self._versions = Versions(protocol, version)  # an unknown version fails here
        self._version = version
        self._engines = Engines()
        self._closed = False
        self._intake = Intake(protocol, time_zone, strict_columns)
        self._outcomes: dict[str, SubjectOutcome] = {}
        self._marks: dict[str, Marks] = {}  # judged subjects only, as the batch join keeps them
        self._trial_judged = False
        self._rules_by_version = {name: {rule.id: rule for rule in p.rules}
                                  for name, p in self._versions.by_name().items()}
        self._standing = StandingFindings(protocol)
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
        return self._intake.read

    @property
    def rejections(self) -> list[Rejection]:
        return list(self._intake.rejections)

    def column_warnings(self) -> list[IgnoredColumn]:
        """Columns whose values were ignored so far (their event type does not declare them): one per file and
        column, with the values ignored until now."""
        return self._intake.column_warnings()

    @property
    def subjects(self) -> int:
        """Subjects with records up to the cut-off (as a batch audit counts them)."""
        return sum(1 for outcome in self._outcomes.values() if outcome.judged)

    def findings(self) -> list[Finding]:
        """Every finding now standing, in the report's order."""
        return self._standing.all()

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
            touched, trial = self._intake.take(items, changes.rejections)
            self._rejudge(touched, trial, changes)
        finally:
            if collecting:
                gc.enable()
        return changes

    def rename(self, renames: dict[str, str]) -> Changes:
        """Logs renamed while followed (rotated), old name to new: the records read from them take the
        new names and their subjects are judged again, so evidence points where the rows are now. A
        finding's id does not depend on where its records were read, so nothing should change."""
        self._check_open()
        changes = Changes()
        touched, trial = self._intake.rename(renames)
        if touched or trial:  # the trial level too: its findings may cite the subjects' records
            self._rejudge(touched, True, changes)
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
        data = self._intake.log_data()
        outcomes = [self._outcomes[subject] for subject in sorted(self._outcomes)]
        return join_partitions(self.protocol, self._job, self._versions, [PartitionResult(outcomes, [], None)],
                               list(self._intake.trial), data, self._engines)

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
        self._rejudge(set(self._intake.by_subject), True, changes)

    def _rejudge(self, subjects: set[str], trial: bool, changes: Changes) -> None:
        for subject in sorted(subjects):
            outcome = judge_subject(self._job, subject, self._intake.by_subject[subject], self._versions,
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
            self._standing.update(subject, linked, changes)
            changes.subjects.append(subject)
        if trial or not self._trial_judged:
            judged = judge_trial(self._intake.trial, self._marks, self._versions, self._cutoff, self._engines)
            self._standing.update(None, judged.findings, changes)
            self._trial_judged = changes.trial = True
        self._standing.sort(changes)
