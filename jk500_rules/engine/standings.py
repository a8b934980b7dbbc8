"""Where each subject, and the trial, stands under each rule: the standing kinds, one standing, the table of all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ..compiler.model import CompiledProtocol, CompiledRule

# A subject's standing under a rule, worst first: the first that applies to any check is the subject's.
STANDINGS = ("deviation", "possible_deviation", "not_evaluable", "pending", "excused", "passed", "not_applicable")


@dataclass(frozen=True)
class Standing:
    """Where a subject (or, for trial-level rules, the trial) stands under one rule."""

    rule: CompiledRule
    subject: str | None
    status: str  # one of STANDINGS
    reason: str | None = None
    version: str | None = None


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
