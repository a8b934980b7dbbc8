"""Pass 4: the facts the audit must build, summed up from what each resolved rule reads."""

from __future__ import annotations

from collections import defaultdict

from .declare import Declarations
from .model import FactPlan
from .resolve import ResolvedRule


def plan_facts(rules: list[ResolvedRule], decls: Declarations) -> FactPlan:
    """Depends on the rules' structure, never on their thresholds; the one number read is a rank."""
    events: set[str] = set()
    counts: set[tuple[str, str, str]] = set()
    group_firsts: set[tuple[str, str, str]] = set()
    rank_depth: dict[tuple[str, str, str], int] = {}
    windows = set()
    visits_of = set()
    group_reads: dict[str, set[str]] = defaultdict(set)
    subject = False
    for rule in rules:
        for read in rule.reads:
            kind, rest = read[0], read[1:]
            if kind == "event":
                events.add(rest[0])
            elif kind == "group_read":
                group_reads[rest[0]].add(rest[1])
            elif kind == "count":
                counts.add(rest)
            elif kind == "group_first":
                group_firsts.add(rest)
            elif kind == "rank":
                key = rest[:3]
                rank_depth[key] = max(rank_depth.get(key, 0), rest[3])
            elif kind == "window":
                windows.add(rest[0])
            elif kind == "visit_of":
                visits_of.add(rest[0])
            elif kind == "subject":
                subject = True
    if subject:
        events.update(event for event, _ in decls.attributes.values())
    return FactPlan(
        events=frozenset(events),
        counts=frozenset(counts),
        group_firsts=frozenset(group_firsts),
        ranks=frozenset(rank_depth),
        subject=subject,
        windows=frozenset(windows),
        visits_of=frozenset(visits_of),
        groups=tuple(sorted((g, m, frozenset(group_reads[g])) for g, m in decls.groups.items() if g in events)),
        rank_depth=tuple(sorted(rank_depth.items())),
    )
