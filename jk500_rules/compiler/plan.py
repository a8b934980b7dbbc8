"""Pass 4: the facts the audit must build, summed up from what each resolved rule reads."""

from __future__ import annotations

from collections import defaultdict

from .computed import ComputedAmount
from .declare import Declarations
from .model import FactPlan
from .resolve import ResolvedRule


def plan_facts(rules: list[ResolvedRule], decls: Declarations, computed: tuple[ComputedAmount, ...] = ()) -> FactPlan:
    """Depends on the rules' structure, never on their thresholds; the one number read is a rank."""
    events: set[str] = set()
    counts: set[tuple[str, str, str]] = set()
    group_firsts: set[tuple[str, str, str]] = set()
    rank_depth: dict[tuple[str, str, str], int] = {}
    windows = set()
    visits_of = set()
    group_reads: dict[str, set[str]] = defaultdict(set)
    subject = False
    state_marks: set[tuple[str, str, str]] = set()
    state_references: set[tuple[str, str]] = set()
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
            elif kind == "state_trigger":
                state_marks.add((rest[0], rest[1], ""))
            elif kind == "state":
                decl = decls.states[rest[0]]
                attribute = decl.per or ""
                subject = subject or bool(decl.per)
                # The Nth mark needs only each group's N earliest marks, as a rank does (and the first M
                # subjects, their M earliest); marks counted among the first M are kept for everyone.
                if decl.mark_which is None:
                    state_references.add((decl.mark, attribute))
                elif decl.among:
                    state_marks.add((decl.mark, decl.mark_which, attribute))
                else:
                    key = (decl.mark, decl.mark_which, attribute)
                    rank_depth[key] = max(rank_depth.get(key, 0), decl.ordinal)
                if decl.mark_which is not None:
                    events.add(decl.mark)
                if decl.among_event:
                    key = (decl.among_event, decl.among_which or "first", attribute)
                    rank_depth[key] = max(rank_depth.get(key, 0), decl.among)
                    events.add(decl.among_event)
                if decl.end_event:
                    events.add(decl.end_event)
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
        state_marks=frozenset(state_marks),
        state_references=frozenset(state_references),
        computed=computed,
    )
