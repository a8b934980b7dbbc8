"""What the parent hands a worker and what the worker hands back: small, picklable, at module level."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from ..inputs.records import Record, Rejection
from .facts import Marks
from .results import Finding


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
    strict_columns: bool = False  # a value in a column its event type does not declare rejects the row


@dataclass
class SubjectOutcome:
    """One subject judged: what the parent needs to join the partitions and the trial level."""

    subject: str
    version: str | None
    judged: bool  # has records up to the cut-off
    findings: list[Finding]  # rule given by id (see judging._pack), to travel light between processes
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
    # (file, column, event type) -> values ignored in columns their event type does not declare (LogData.ignored)
    ignored: Counter = field(default_factory=Counter)
