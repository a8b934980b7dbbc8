"""One large session's facts spread over several engine sessions, so that each match is still found once.

durable-rules' store is quadratic within one session (../shared/design/durable-rules.md §8): a
subject with 20,000 lab rows cost about 36 µs more per fact than one with 60 records. The engine still
does every match; only where the facts sit changes. A kind of fact may be split off when every engine
rule names it in at most one pattern: each of its facts then goes to a session of its own chunk,
together with every fact of the kinds the rules reading it join it with, and those rules alone run
there. The other facts stay in one session fed to the whole ruleset, where a rule naming a split-off
kind cannot match at all. So every match of every rule lies in exactly one session.

The judge reads a rule's matches as sets, except where two matches share a key (a check and the
record it found): then the first delivered counts. The engine delivers a session's matches rule by
rule in the ruleset's order (tests/test_split_sessions.py pins that), so split matches are put back
in that order. A kind is split off only when, in every rule whose matches are keyed that way, it is the
check's record or the record found: all matches of one key then lie in one session, in the engine's
own order. Sessions with a partial date are never split: their `possible_*` matches are keyed by the
check alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..compiler.model import EngineRule

# A session with more facts than this may be split; then each chunk holds this many facts of a split kind.
SPLIT_FROM = 2_000
CHUNK_FACTS = 1_000
# Roles whose matches the judge reads as sets (or keeps the least of): their order never matters.
_SET_ROLES = frozenset({"trigger", "due", "covered", "needs", "anchored", "excused", "unanchored_excuse",
                        "dating", "breaking"})
# Roles whose first match per (check, record found) counts: a split kind must be one of those two there.
_KEYED_ROLES = frozenset({"deviation", "unknown"})
_KEY_ALIASES = frozenset({"t", "x"})


@dataclass(frozen=True)
class SplitPlan:
    """For one ruleset: each kind that may be split off, with the engine rules naming it and their other kinds."""

    rules: dict[str, tuple[str, ...]]  # kind -> names of the engine rules with a pattern of that kind
    partners: dict[str, frozenset[str]]  # kind -> the other kinds those rules name

    def splittable(self, kind: str) -> bool:
        return kind in self.rules

    def joined(self, kind: str, other: str) -> bool:
        """Whether some rule names both kinds (then they cannot both be split off)."""
        return other in self.partners[kind]


def plan_split(engine_rules: Iterable[EngineRule]) -> SplitPlan:
    """Which kinds may be split off: named at most once by every rule, and only as t or x where order counts."""
    rules: dict[str, list[str]] = {}
    partners: dict[str, set[str]] = {}
    barred: set[str] = set()
    for er in engine_rules:
        kinds = Counter(p.kind for p in er.patterns)
        for pattern in er.patterns:
            kind = pattern.kind
            if kinds[kind] > 1 or er.role not in _SET_ROLES | _KEYED_ROLES:
                barred.add(kind)
            elif er.role in _KEYED_ROLES and pattern.alias not in _KEY_ALIASES:
                barred.add(kind)
            rules.setdefault(kind, []).append(er.name)
            partners.setdefault(kind, set()).update(k for k in kinds if k != kind)
    return SplitPlan({k: tuple(v) for k, v in rules.items() if k not in barred},
                     {k: frozenset(v) for k, v in partners.items() if k not in barred})


def large(facts: list[dict]) -> bool:
    """Whether a session has facts enough for the store's cost to tell: smaller ones are never split."""
    return len(facts) > SPLIT_FROM


def split_kinds(plan: SplitPlan, facts: list[dict]) -> list[str]:
    """The kinds to split off this session's facts: the most numerous first, never two that a rule joins."""
    if not large(facts):
        return []
    counts = Counter(fact["kind"] for fact in facts)
    chosen: list[str] = []
    for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count > CHUNK_FACTS and plan.splittable(kind) and not any(plan.joined(kind, k) for k in chosen):
            chosen.append(kind)
    return chosen


def split_sessions(plan: SplitPlan, facts: list[dict], kinds: list[str]) -> list[tuple[str | None, list[int]]]:
    """(the split kind, or None for the rest; the indexes of the facts fed together), each list in input order."""
    split = set(kinds)
    out: list[tuple[str | None, list[int]]] = [(None, [i for i, f in enumerate(facts) if f["kind"] not in split])]
    for kind in kinds:
        own = [i for i, f in enumerate(facts) if f["kind"] == kind]
        partners = plan.partners[kind]
        joined = [i for i, f in enumerate(facts) if f["kind"] in partners]
        for start in range(0, len(own), CHUNK_FACTS):
            out.append((kind, sorted(joined + own[start:start + CHUNK_FACTS])))
    return out
