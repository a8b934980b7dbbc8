"""The findings a live audit last reported, by stable id, and what each re-judging changed in them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..compiler.model import CompiledProtocol
from ..engine.results import AuditResult, Finding
from ..inputs.records import LogData, Rejection


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


class StandingFindings:
    """The findings now standing, per subject (None: the trial) and by stable id, in the report's order."""

    def __init__(self, protocol: CompiledProtocol):
        self._order = {rule.id: i for i, rule in enumerate(AuditResult(protocol, LogData(), None).rules)}
        self._findings: dict[str | None, dict[str, Finding]] = {}  # per subject (None: the trial), by id
        self._ids: dict[str | None, dict[tuple, str]] = {}  # see _by_id

    def all(self) -> list[Finding]:
        return self._sorted([f for by_id in self._findings.values() for f in by_id.values()])

    def update(self, key: str | None, findings: list[Finding], changes: Changes) -> None:
        """A subject's (None: the trial's) findings judged again; `changes` gets the new, changed and resolved."""
        now = self._by_id(key, findings)
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

    def sort(self, changes: Changes) -> None:
        """The findings of `changes` in the report's order."""
        for found in (changes.new, changes.resolved, changes.changed):
            found[:] = self._sorted(found)

    def _by_id(self, key: str | None, findings: list[Finding]) -> dict[str, Finding]:
        """Findings by their stable id, computed once per finding while its evidence records stay the same.

        Every evidence record is held by the audit for its lifetime, so the records' identities key
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

    def _sorted(self, findings: list[Finding]) -> list[Finding]:
        return sorted(findings, key=lambda f: f.sort_key(self._order))
