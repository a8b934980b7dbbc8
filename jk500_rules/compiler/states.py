"""Trial-level states (stopping rules, escalation gates): declared and checked, and how each one ends.

A state starts on a date found across subjects: the Nth of their marks (a first or last record of a
type, or the record a reference finds), optionally among the first M subjects by a record of theirs,
per group of a subject attribute. Which subjects come first and which mark is the Nth is an order,
like a subject's rank; which record a reference finds is the engine's match. The state ends at a trial
record: the engine matches the end's `where` (a rule of its own, as a reference's finder is), and the
audit takes the first (or last) match dated on or after the start.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Diagnostic
from ..language import nodes as n
from .check import check
from .declare import Declarations
from .emit import emitted
from .lower import lower
from .model import TrialState
from .resolve import resolve

STATE_RULE_PREFIX = "$state:"  # the id of the rule that matches a state's end: no rules text can write it


@dataclass(frozen=True)
class Compiled:
    states: tuple[TrialState, ...]
    used_params: frozenset[str]


def compile_states(tree: n.Protocol, decls: Declarations, read: set[str], source_lines: list[str],
                   diagnostics: list[Diagnostic]) -> Compiled:
    """Every declared state compiled (a mistake in one is reported, read or not); those the rules read kept."""
    used: set[str] = set()
    wanted = {name: decl for name, decl in decls.states.items()}
    enders = [_end_rule(decl) for decl in wanted.values() if decl.end_where is not None]
    resolved = resolve(n.Protocol(span=tree.span, header=tree.header, criteria=(), events=(), groups=(),
                                  subject_attributes=(), parameters=(), rules=tuple(enders)),
                       decls, source_lines, diagnostics)
    used |= resolved.used_params
    lowered = {r.checked.resolved.rule.id: r for r in lower(check(resolved, diagnostics), diagnostics).rules}
    states = []
    for name, decl in wanted.items():
        end_rule = None
        if decl.end_where is not None:
            rule = lowered.get(f"{STATE_RULE_PREFIX}{name}")
            end_rule = emitted(rule, decls, source_lines, diagnostics) if rule is not None else None
            if end_rule is None:
                continue
        if name not in read:
            continue
        mark = ("reference", decl.mark) if decl.mark_which is None else (decl.mark_which, decl.mark)
        among = (decl.among, decl.among_which or "first", decl.among_event or "") if decl.among else None
        end = (decl.end_which or "first", decl.end_event) if decl.end_event else None
        states.append(TrialState(name, decl.label or name, decl.ordinal, mark, decl.per, among, end, end_rule))
    return Compiled(tuple(states), frozenset(used))


def _end_rule(decl: n.StateDecl) -> n.Rule:
    """`for each <end event> require <where>`: its covered matches are the records that may end the state."""
    span = decl.end_span or decl.span
    assert decl.end_where is not None and decl.end_event is not None
    source = n.Source(span=span, form="each", event=decl.end_event, event_span=span)
    verdict = n.Verdict(span=decl.end_where.span, mode="require", cond=decl.end_where)
    return n.Rule(span=decl.span, id=f"{STATE_RULE_PREFIX}{decl.name}", id_span=decl.span, title=decl.name,
                  severity=None, severity_span=None, category=None, cites="the state's own declaration",
                  message=None, message_span=None, check=n.Check(span=span, source=source, where=None, verdict=verdict))
