"""Checks whose references found several records on one day: each way of reading them judged on its own.

A reference ties when records share the day found (engine/reference_facts.py gives each its own fact,
counted in `ties`). The engine matches the check once per tied record (per combination, when several
references tie), so every way of reading the tie has its own engine answer: the check does not apply
(its `where` fails), holds, breaks, or cannot be told (an empty field). Ways that agree give that
answer; ways that disagree give a possible deviation, unless the reference says `if tied any` (the
check holds if it holds one way) or `if tied each` (only if it holds every way).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..compiler.model import CompiledRule
from .facts import Session

Way = tuple[int, ...]  # per reference alias of the rule, the fact read (-1: the match did not read it)


@dataclass
class Ways:
    """Per check, the tied records of each reference, and the ways the engine matched."""

    tied: dict[int, dict[str, set[int]]] = field(default_factory=lambda: defaultdict(dict))
    applies: dict[int, set[Way]] = field(default_factory=lambda: defaultdict(set))
    holds: dict[int, set[Way]] = field(default_factory=lambda: defaultdict(set))  # require: covered
    breaks: dict[int, set[Way]] = field(default_factory=lambda: defaultdict(set))  # forbid: a deviation
    unknown: dict[int, dict[Way, str]] = field(default_factory=lambda: defaultdict(dict))

    def note(self, er: Any, refs: dict[str, int], aliases: list[str]) -> None:
        t, way = refs["t"], tuple(refs.get(alias, -1) for alias in aliases)
        if er.role == "tied":
            alias = next(test.alias for test in er.tests if test.field == "ties")
            self.tied[t].setdefault(alias, set()).add(refs[alias])
        elif er.role == "trigger":
            self.applies[t].add(way)
        elif er.role == "covered":
            self.holds[t].add(way)
        elif er.role == "deviation":
            self.breaks[t].add(way)
        elif er.role == "unknown":
            self.unknown[t].setdefault(way, er.reason or "")


def judge_ties(rule: CompiledRule, t: int, ways: Ways, found: dict[str, int], hits: dict[int, dict[str, int]],
               session: Session) -> tuple[str, list[dict[str, int]], str | None] | None:
    """(status, the findings' evidence, reason) for a check whose references tied; None when none did."""
    tied = ways.tied.get(t)
    if not tied:
        return None
    aliases = [alias for alias, _, _ in rule.ties]
    names = sorted(tied)
    verdicts: dict[str, list[dict[str, int]]] = defaultdict(list)
    reasons: list[str] = []
    for chosen in itertools.product(*(sorted(tied[a]) for a in names)):
        reading = dict(zip(names, chosen))
        answer, reason = _answer(rule, t, ways, reading, aliases)
        verdicts[answer].append(reading)
        if reason is not None:
            reasons.append(reason)
    policies = {policy for alias, policy, _ in rule.ties if alias in tied}
    policy = policies.pop() if len(policies) == 1 else ""
    base = {"t": t, **found}
    holds, breaks, unknown = verdicts["holds"], verdicts["breaks"], verdicts["unknown"]
    if policy == "any" and holds or not breaks and not unknown:
        return "passed", [], None
    if policy == "each" and breaks or not holds and not unknown:
        if rule.mode == "forbid":
            return "deviation", [refs for _, refs in sorted(hits.items())] or [{**base, **breaks[0]}], None
        return "deviation", [{**base, **breaks[0]}], None
    if breaks and policy == "":
        reason = _tie_reason(rule, tied, session)
        return "possible_deviation", [{**base, **_all_tied(tied)}], reason
    return "not_evaluable", [{**base, **unknown[0]}], reasons[0] if reasons else None


def _answer(rule: CompiledRule, t: int, ways: Ways, reading: dict[str, int],
            aliases: list[str]) -> tuple[str, str | None]:
    """One way of reading the tie: the check does not apply or holds ("holds"), breaks, or is unknown."""

    def met(found: set[Way]) -> bool:
        return any(all(way[aliases.index(a)] in (-1, fact) for a, fact in reading.items()) for way in found)

    if not met(ways.applies.get(t, set())):
        return "holds", None
    if rule.mode == "require" and met(ways.holds.get(t, set())):
        return "holds", None
    if rule.mode == "forbid" and met(ways.breaks.get(t, set())):
        return "breaks", None
    for way, reason in sorted(ways.unknown.get(t, {}).items()):
        if all(way[aliases.index(a)] in (-1, fact) for a, fact in reading.items()):
            return "unknown", reason
    return ("breaks" if rule.mode == "require" else "holds"), None


def _tie_reason(rule: CompiledRule, tied: dict[str, set[int]], session: Session) -> str:
    labels = {alias: label for alias, _, label in rule.ties}
    parts = []
    for alias, facts in sorted(tied.items()):
        day = session.evidence[min(facts)].display.get("date", "")
        parts.append(f"{len(facts)} records dated {day} tie for {labels[alias]}, and the check holds for some of "
                     "them and not for others")
    return "; ".join(parts)


def _all_tied(tied: dict[str, set[int]]) -> dict[str, int]:
    """Every tied record as evidence: the first under the reference's alias, the others beside it."""
    refs: dict[str, int] = {}
    for alias, facts in sorted(tied.items()):
        for index, fact in enumerate(sorted(facts)):
            refs[alias if index == 0 else f"{alias}~{index + 1}"] = fact
    return refs
