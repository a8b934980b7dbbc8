"""One rule's engine matches in one session -> each check's outcome: findings and the subject's standing."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from ..compiler.computed import COMPUTED_MARK
from ..compiler.model import CompiledProtocol, CompiledRule
from ..dates import instant_text
from ..inputs.records import Record
from .computed_facts import unknown_amount
from .facts import Evidence, Session
from .occurrences import distinct, finding_date, reported
from .results import Finding
from .standings import STANDINGS, Standing
from .ties import Ways, judge_ties
from .windows import finding_window


@dataclass
class _Matches:
    """A rule's engine matches for one session, sorted by role."""

    triggers: set[int] = field(default_factory=set)
    due: set[int] = field(default_factory=set)
    covered: set[int] = field(default_factory=set)
    hits: dict[int, dict[int, dict[str, int]]] = field(default_factory=lambda: defaultdict(dict))  # t -> x -> refs
    unknown: dict[int, dict[int, tuple[str, dict[str, int]]]] = field(default_factory=lambda: defaultdict(dict))
    needs_met: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    excused: dict[int, dict[str, int]] = field(default_factory=dict)
    unanchored_excuses: dict[int, dict[str, int]] = field(default_factory=dict)
    anchored: set[int] = field(default_factory=set)
    # What a partial date makes possible, not certain.
    possible_triggers: dict[int, dict[str, int]] = field(default_factory=dict)
    possible_covered: dict[int, dict[str, int]] = field(default_factory=dict)
    possible_hits: dict[int, dict[int, dict[str, int]]] = field(default_factory=lambda: defaultdict(dict))
    # References (compiler/finders.py): the records found for each check, and for records tied on the
    # day found, which of them the check holds for (require) or breaks on (forbid).
    found: dict[int, dict[str, int]] = field(default_factory=dict)
    ways: Ways = field(default_factory=Ways)
    # What dates a finding: per check, the records a stated date is read from (`dated by`, `judged from`),
    # and the record that took a count past its limit (the earliest, when several alternatives match).
    dating: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    breaking: dict[int, int] = field(default_factory=dict)
    # Per check of a `require a Y` rule checked once per subject, the Ys its `needs` clauses matched.
    candidates: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))


def _sort_matches(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]]) -> _Matches:
    sorted_ = _Matches()
    found = [alias for alias, _, _ in rule.ties]
    for er, refs in matches:
        t = refs["t"]
        if found:
            sorted_.ways.note(er, refs, found)
        if er.role == "trigger":
            sorted_.triggers.add(t)
            if found and t not in sorted_.found:
                sorted_.found[t] = {alias: refs[alias] for alias in found if alias in refs}
        elif er.role == "due":
            sorted_.due.add(t)
        elif er.role == "covered":
            sorted_.covered.add(t)
        elif er.role == "deviation":
            sorted_.hits[t].setdefault(refs.get("x", -1), refs)
        elif er.role == "unknown":
            sorted_.unknown[t].setdefault(refs.get("x", -1), (er.reason or "", refs))
        elif er.role == "needs":
            sorted_.needs_met[er.need].add(t)
            sorted_.candidates[t].update(ref for alias, ref in refs.items() if alias in rule.deciding)
        elif er.role == "anchored":
            sorted_.anchored.add(t)
        elif er.role == "dating":
            found = sorted_.dating[t]
            for alias, ref in refs.items():
                if alias != "t":  # two records (tied on a reference's day) date nothing: -1
                    found[alias] = ref if found.get(alias, ref) == ref else -1
        elif er.role == "breaking":
            sorted_.breaking[t] = min(refs["b"], sorted_.breaking.get(t, refs["b"]))
        elif er.role == "possible_trigger":
            sorted_.possible_triggers.setdefault(t, refs)
        elif er.role == "possible_covered":
            sorted_.possible_covered.setdefault(t, refs)
        elif er.role == "possible_deviation":
            sorted_.possible_hits[t].setdefault(refs.get("x", -1), refs)
        elif er.role in ("excused", "unanchored_excuse"):
            excuses = sorted_.excused if er.role == "excused" else sorted_.unanchored_excuses
            current = excuses.get(t)
            if current is None or sorted(refs.values()) < sorted(current.values()):
                excuses[t] = refs
    # A check whose due date has no anchor record (e.g. no first infusion) never falls due: any excuse counts.
    for t, refs in sorted_.unanchored_excuses.items():
        if t not in sorted_.anchored:
            sorted_.excused.setdefault(t, refs)
    return sorted_


def judge_rule(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
           protocol: CompiledProtocol, pending_counts: Counter) -> tuple[list[Finding], Standing]:
    """Findings for one rule and one session, and where the session's subject stands.

    Each check (trigger) ends in one outcome: excused (an `unless` record), passed (covered, or no
    forbidden record), not evaluable (a `needs` record is missing, or a field the check reads),
    deviation, or pending (a `judged from` date after the cut-off).
    """
    m = _sort_matches(rule, _explained(matches, session, protocol))
    certain = m.triggers | set(m.hits)
    triggers = certain | set(m.possible_triggers)
    outcomes: list[tuple[str, str | None]] = []
    findings: list[tuple[int, Finding]] = []  # each with the check it was found for
    if rule.has_due:
        pending = triggers - m.due - set(m.excused)
        pending_counts[rule.id] += len(pending)
        outcomes += [("pending", f"judged from {rule.due_text}, after the data cut-off")] * len(pending)
        triggers -= pending
    for t in sorted(triggers):
        if t in m.ways.tied and t not in m.excused and _unmet_need(rule, t, m) is None:
            judged = judge_ties(rule, t, m.ways, m.found.get(t, {}), m.hits.get(t, {}), session)
            if judged is not None:
                status, refs_list, reason = judged
                findings += [(t, _finding(rule, status, refs, session, protocol, reason, m)) for refs in refs_list]
                outcomes.append((status, reason))
                continue
        if rule.mode == "require" and t in m.covered:
            outcomes.append(("passed", None))
            continue
        if t in m.excused:
            outcomes.append(("excused", _excuse_reason(m.excused[t], session)))
            continue
        hits = [refs for _, refs in sorted(m.hits.get(t, {}).items())]
        if hits:
            findings += [(t, _finding(rule, "deviation", refs, session, protocol, dates=m)) for refs in hits]
            outcomes.append(("deviation", None))
            continue
        possible = [refs for _, refs in sorted(m.possible_hits.get(t, {}).items())]
        if rule.mode == "forbid" and possible:
            findings += [(t, _possible(rule, refs, session, protocol, m)) for refs in possible]
            outcomes.append(("possible_deviation", findings[-1][1].reason))
            continue
        unmet = _unmet_need(rule, t, m)
        if unmet is not None:
            reason, cause = unmet
            findings.append((t, _finding(rule, "not_evaluable", {"t": t}, session, protocol, reason, m, cause)))
            outcomes.append(("not_evaluable", reason))
            continue
        if rule.mode == "require" and (t in m.possible_covered or t not in certain):
            refs = m.possible_covered.get(t) or m.possible_triggers.get(t) or {"t": t}
            findings.append((t, _possible(rule, refs, session, protocol, m)))
            outcomes.append(("possible_deviation", findings[-1][1].reason))
            continue
        unknown = [value for _, value in sorted(m.unknown.get(t, {}).items())]
        if unknown:
            if rule.mode == "require":
                unknown = unknown[:1]
            findings += [(t, _finding(rule, "not_evaluable", refs, session, protocol, reason, m))
                         for reason, refs in unknown]
            outcomes.append(("not_evaluable", unknown[0][0]))
            continue
        if rule.mode == "require":
            # What decided it: the record past a count's limit, or the records sought that did not qualify.
            decided = {"b": m.breaking[t]} if t in m.breaking else \
                {f"d{number}": ref for number, ref in enumerate(sorted(m.candidates.get(t, ())))}
            findings.append((t, _finding(rule, "deviation", {"t": t, **m.found.get(t, {}), **decided}, session,
                                         protocol, dates=m)))
            outcomes.append(("deviation", None))
        else:
            outcomes.append(("passed", None))
    return reported(rule, findings), _standing(rule, session, outcomes)


def _explained(matches: list[tuple[Any, dict[str, int]]], session: Session,
               protocol: CompiledProtocol) -> list[tuple[Any, dict[str, int]]]:
    """Unknown matches whose reason marks a computed amount get why the audit could not work it out."""
    if not protocol.plan.computed:
        return matches
    labels = {amount.field: amount.label for amount in protocol.plan.computed}
    out = []
    for er, refs in matches:
        if er.role == "unknown" and er.reason and "[[" in er.reason:
            reason = er.reason
            for name, label in labels.items():
                mark = COMPUTED_MARK.format(field=name)
                if mark in reason:
                    reason = reason.replace(mark, unknown_amount(session, refs["t"], name, label))
            er = replace(er, reason=reason)
        out.append((er, refs))
    return out


def _possible(rule: CompiledRule, refs: dict[str, int], session: Session, protocol: CompiledProtocol,
              dates: _Matches) -> Finding:
    """A finding a partial date leaves undecided: what is missing, and the interval each such date spans."""
    # Only the dates the rule's date tests read: a partial date the rule never compares is no reason.
    compared = {(alias, name) for er in rule.interval_rules for t in er.tests
                for alias, name in ((t.alias, t.field), (t.other, t.other_field)) if alias and name and "__hi" in name}
    # A count that may be a range is so because of its records' partial dates (engine/schedule_facts.py).
    dated_fields = {(alias, "date" if name.split("__")[0] == "count" else name.split("__")[0]) for alias, name in compared}
    parts = []
    for alias, ref in sorted(refs.items(), key=lambda item: item[1]):
        for record in session.evidence[ref].records:
            names = {name for a, name in dated_fields if a == alias}
            for name, high in sorted(record.upper.items()):
                if name not in names:
                    continue
                low = record.date if name == "date" else record.values[name]
                if isinstance(low, int) and isinstance(high, int):  # a date-time: seconds (dates.instant)
                    low, high = instant_text(low), instant_text(high)
                written = record.date_text if name == "date" else record.raw.get(name, "")
                what = f"{record.event} date" if name == "date" else f"{record.event} {name}"
                parts.append(f"{what} {written} is only known to lie between {low} and {high}")
    reason = "; ".join(dict.fromkeys(parts)) or "a date the check depends on is only partly known"
    return _finding(rule, "possible_deviation", refs, session, protocol, reason, dates)


def _unmet_need(rule: CompiledRule, t: int, m: _Matches) -> tuple[str, str] | None:
    """The first `needs` clause the check lacks: its reason, and the cause it names (compiler/causes.py)."""
    for index, reason in enumerate(rule.needs, start=1):
        if t not in m.needs_met.get(index, set()):
            causes = rule.need_causes
            return reason, causes[index - 1] if index <= len(causes) else reason
    return None


def _excuse_reason(refs: dict[str, int], session: Session) -> str:
    alias = next(a for a in sorted(refs) if re.fullmatch(r"e\d+", a))
    evidence = session.evidence[refs[alias]]
    record = evidence.records[0]
    return f"excused by {record.event} on {evidence.display.get('date', '')}"


def _standing(rule: CompiledRule, session: Session, outcomes: list[tuple[str, str | None]]) -> Standing:
    if not outcomes:
        return Standing(rule, session.subject, "not_applicable", rule.absent or f"no {rule.trigger_label} recorded")
    status, reason = min(outcomes, key=lambda o: STANDINGS.index(o[0]))
    return Standing(rule, session.subject, status, reason)


def _finding(rule: CompiledRule, status: str, refs: dict[str, int], session: Session, protocol: CompiledProtocol,
             reason: str | None = None, dates: _Matches | None = None, cause: str | None = None) -> Finding:
    evidence: dict[str, Evidence] = {alias: session.evidence[ref] for alias, ref in refs.items()}
    matched = {alias: ref for alias, ref in dates.dating.get(refs["t"], {}).items() if ref >= 0} if dates else {}
    dating = {alias: session.evidence[ref] for alias, ref in matched.items()}
    records = distinct(record for alias in sorted(evidence, key=lambda a: (a != "t", a != "x", a))
                       for record in evidence[alias].records)
    if status == "not_evaluable":
        message = f"{rule.title}: cannot be evaluated, {reason}."
    elif status == "possible_deviation":
        message = f"Possibly: {render_message(rule, evidence, protocol)} Undecided: {reason}."
    else:
        message = render_message(rule, evidence, protocol)
    considered: tuple[Record, ...] = ()
    if status == "deviation" and rule.mode == "require" and rule.exists_event:
        considered = _considered(session, rule.exists_event)
    subject = session.subject
    if rule.per_subject and evidence["t"].records:  # judged with the trial, for one subject's record
        subject = evidence["t"].records[0].subject
    return Finding(rule, subject, finding_date(rule, status, evidence, dating), status, message, tuple(records),
                   reason, considered, cause=(cause or reason) if status == "not_evaluable" else None,
                   window=finding_window(rule, {**matched, **refs}, session, protocol))


def _considered(session: Session, event: str) -> tuple[Record, ...]:
    """The session's records of `event`, in content order: what a `require a` deviation looked through.

    Kept on the session, so that a subject with thousands of such deviations reads their facts once.
    """
    cached = session.considered.get(event)
    if cached is None:
        sought = {id(r): r for fact, ev in zip(session.facts, session.evidence) if fact["kind"] == event
                  for r in ev.records}
        cached = session.considered[event] = tuple(sorted(sought.values(), key=Record.content_key))
    return cached


def render_message(rule: CompiledRule, evidence: dict[str, Evidence], protocol: CompiledProtocol) -> str:
    """Fill `{name}` placeholders with parameters and the matched records' values as written."""
    trigger = evidence["t"].display
    exists = evidence.get("x")
    references = dict(rule.reference_aliases)

    def fill(match: re.Match[str]) -> str:
        text = match.group(1).strip()
        if "." in text:
            record, name = text.split(".", 1)
            if record in references:
                found = evidence.get(references[record])
                return found.display.get(name, "(none)") if found is not None else "(none)"
            source = exists.display if exists is not None and record == rule.exists_event else trigger
            return source.get(name, "(none)")
        if text in trigger:
            return trigger[text]
        if text in protocol.events[rule.trigger_event].fields:
            return "(none)"  # an empty field of the record checked shadows a parameter of its name
        if text in references:
            found = evidence.get(references[text])
            return found.display.get("date", "(none)") if found is not None else "(none)"
        value = protocol.parameters.get(text)
        return str(value) if value is not None else "(none)"

    return re.sub(r"\{([^{}]*)\}", fill, rule.message)

