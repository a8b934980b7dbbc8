"""What an audit returns: its findings, their statuses and the result that holds them with every count."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..compiler.model import CompiledProtocol, CompiledRule
from ..inputs.records import LogData, Record
from .standings import Standing, StandingTable

STATUSES = ("deviation", "possible_deviation", "not_evaluable")


@dataclass(frozen=True)
class WindowAnchor:
    """The record a window is counted from: its type, subject, date as written, and what the rule calls it."""

    event: str
    subject: str | None
    date: str
    label: str  # "first infusion"; "cohort_complete.start for the previous dose_group: the 3rd subject's ..."


@dataclass(frozen=True)
class Window:
    """The window a finding's rule computed (engine/windows.py): the first and last day it holds (None: open
    on that side, or not known to the day), the record it is counted from (and the record its end is counted
    from, when another), and the bounds in words."""

    event: str  # the type of the record whose date it bounds
    start: str | None
    end: str | None
    anchor: WindowAnchor
    text: str  # "after 2024-06-21, 28 days after ... (JK500-01-007, 2024-05-24); on or before 2024-07-01, ..."
    end_anchor: WindowAnchor | None = None
    note: str | None = None  # why it is not known to the day (a partial date), or never opens


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
    # Not evaluable: what is missing, shared by the findings one missing record or value blocks (the cause
    # an unmet `needs` clause names, compiler/causes.py; else the reason). Reports group findings by it.
    cause: str | None = None
    window: Window | None = None  # the window its rule computed; not part of `id`

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
