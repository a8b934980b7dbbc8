"""Compiled protocol + visit logs -> findings, through the engine's matches and set differences."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .compiler import CompiledProtocol, CompiledRule
from .engine import Engine
from .errors import InputError
from .facts import Evidence, Session, build_sessions
from .records import LogData, Record, read_logs

STATUSES = ("deviation", "possible_deviation", "not_evaluable")
# A subject's standing under a rule, worst first: the first that applies to any check is the subject's.
STANDINGS = ("deviation", "possible_deviation", "not_evaluable", "pending", "excused", "passed", "not_applicable")


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


@dataclass(frozen=True)
class Standing:
    """Where a subject (or, for trial-level rules, the trial) stands under one rule."""

    rule: CompiledRule
    subject: str | None
    status: str  # one of STANDINGS
    reason: str | None = None
    version: str | None = None


@dataclass
class AuditResult:
    protocol: CompiledProtocol
    data: LogData
    cutoff: dt.date | None
    findings: list[Finding] = field(default_factory=list)
    standings: list[Standing] = field(default_factory=list)
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
    judged_subjects: int = 0

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


def audit_files(protocol: CompiledProtocol, paths: list[str], as_of: dt.date | None = None,
                version: str | None = None, mapping: str | None = None, time_zone: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Audit visit logs, or (with a mapping) folders of SDTM domains plus any visit logs.

    `time_zone` is the site's (e.g. "Asia/Shanghai"): a datetime with a UTC offset counts on its date
    there. Without one, and for every datetime without an offset, the date is taken as written.
    """
    if mapping is not None:
        from .sdtm import read_study  # only SDTM input needs the XPT reader

        return audit_data(protocol, read_study(paths, mapping, protocol, time_zone), as_of, version, progress)
    return audit_data(protocol, read_logs(paths, protocol, time_zone), as_of, version, progress)


@dataclass
class _Part:
    """One protocol version and what it judges: some subjects, and perhaps the trial-level rules."""

    name: str | None
    protocol: CompiledProtocol
    subjects: set[str] = field(default_factory=set)
    trial: bool = False
    records: list[Record] = field(default_factory=list)


def audit_data(protocol: CompiledProtocol, data: LogData, as_of: dt.date | None = None,
               version: str | None = None, progress: Callable[[int, int], None] | None = None) -> AuditResult:
    """Audit validated records: the engine matches, Python only takes set differences.

    Each subject is judged under the protocol version in force on the date of their first record of
    the `governed by` event type (their first record of any type without one); trial-level rules under
    the version in force at the data cut-off. `version` judges everyone under that one version.
    """
    cutoff = as_of or max((r.date for r in data.records), default=None)
    result = AuditResult(protocol, data, cutoff)
    result.subjects = len({r.subject for r in data.records
                           if r.subject is not None and (cutoff is None or r.date <= cutoff)})
    in_time = [r for r in data.records if cutoff is None or r.date <= cutoff]
    result.not_used["dated after the data cut-off"] = len(data.records) - len(in_time)
    if not result.not_used["dated after the data cut-off"]:
        del result.not_used["dated after the data cut-off"]
    parts = _parts(protocol, in_time, cutoff, version)
    result.versions = {part.name: sorted(part.subjects) for part in parts if part.name is not None}
    result.trial_version = next((part.name for part in parts if part.trial), None)
    for part in parts:
        read_events = part.protocol.plan.read_events
        for record in part.records:
            if record.event in read_events:
                result.audited += 1
            else:
                result.not_used[f"{record.event}: no rule reads it"] += 1
    if cutoff is None:
        return result
    # Facts and matches hold no reference cycles: the collector's passes over them only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        total = sum(len(part.subjects) for part in parts)
        for part in parts:
            _judge_sessions(part, in_time, cutoff, result, progress, total)
    finally:
        if collecting:
            gc.enable()
    order = {rule.id: i for i, rule in enumerate(result.rules)}
    result.findings.sort(key=lambda f: f.sort_key(order))
    result.standings.sort(key=lambda s: (order[s.rule.id], s.subject or ""))
    return result


def _parts(protocol: CompiledProtocol, records: list[Record], cutoff: dt.date | None,
           version: str | None) -> list[_Part]:
    """The records each protocol version judges: every record lands in exactly one part."""
    versions = protocol.versions
    if version is not None:
        chosen = next((v for v in versions if v.name == version), None)
        if chosen is None:
            known = ", ".join(v.name for v in versions) or "none (the rules declare no versions)"
            raise InputError(protocol.filename, f"no protocol version '{version}'; versions: {known}")
        versions = (chosen,)
    if len(versions) <= 1:
        only = versions[0] if versions else None
        return [_Part(only.name if only else None, only.protocol if only else protocol,
                      {r.subject for r in records if r.subject is not None}, True, list(records))]
    parts = [_Part(v.name, v.protocol) for v in versions]

    def in_force(day: dt.date) -> _Part:
        index = 0
        for i, v in enumerate(versions):
            if v.effective is None or v.effective <= day:
                index = i
        return parts[index]

    first: dict[str, dt.date] = {}
    governing: dict[str, dt.date] = {}
    for record in records:
        if record.subject is None:
            continue
        if record.subject not in first or record.date < first[record.subject]:
            first[record.subject] = record.date
        if record.event == protocol.governed_by and (
                record.subject not in governing or record.date < governing[record.subject]):
            governing[record.subject] = record.date
    for subject, day in first.items():
        in_force(governing.get(subject, day)).subjects.add(subject)
    if cutoff is not None:
        in_force(cutoff).trial = True
    for record in records:
        if record.subject is None:
            next(p for p in parts if p.trial).records.append(record)
        else:
            next(p for p in parts if record.subject in p.subjects).records.append(record)
    return [p for p in parts if p.subjects or p.trial]


def _judge_sessions(part: _Part, records: list[Record], cutoff: dt.date, result: AuditResult,
                    progress: Callable[[int, int], None] | None = None, total: int = 0) -> None:
    """Build and judge the sessions of one version's subjects (and the trial, if it is that version's)."""
    protocol = part.protocol
    read_events = protocol.plan.read_events
    # The trial session's group facts (a dose group's first infusion, the nth subject to finish) read
    # every subject's records; a subject's own session only theirs.
    source = records if part.trial else part.records
    sessions = build_sessions([r for r in source if r.event in read_events], protocol, cutoff)
    sessions = [s for s in sessions if s.subject in part.subjects or s.subject is None and part.trial]
    plain_rules = {er.name: (rule, er) for rule in protocol.rules for er in rule.engine_rules}
    interval_rules = {er.name: (rule, er) for rule in protocol.rules for er in rule.interval_rules}
    interval_engine: Engine | None = None
    try:
        with Engine(protocol.rulesets()) as engine:
            for session in sessions:
                # A session with a partial date goes to the rules over date intervals instead.
                if session.partial:
                    if interval_engine is None:
                        interval_engine = Engine(protocol.interval_rulesets())
                    matches, engine_rules = interval_engine.feed(session.name, session.facts), interval_rules
                else:
                    matches, engine_rules = engine.feed(session.name, session.facts), plain_rules
                by_rule: dict[str, list[tuple[Any, dict[str, int]]]] = defaultdict(list)
                for name, match in matches:
                    rule, er = engine_rules[name]
                    by_rule[rule.id].append((er, match))
                level = "subject" if session.subject is not None else "trial"
                if progress is not None and session.subject is not None:
                    result.judged_subjects += 1
                    if result.judged_subjects % 100 == 0 or result.judged_subjects == total:
                        progress(result.judged_subjects, total)
                for rule in protocol.rules:
                    if rule.level != level:
                        continue
                    judged, standing = _judge(rule, by_rule.get(rule.id, []), session, protocol, result)
                    result.findings += [replace(f, version=part.name) for f in judged]
                    result.standings.append(replace(standing, version=part.name))
    finally:
        if interval_engine is not None:
            interval_engine.close()


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


def _sort_matches(matches: list[tuple[Any, dict[str, int]]]) -> _Matches:
    sorted_ = _Matches()
    for er, refs in matches:
        t = refs["t"]
        if er.role == "trigger":
            sorted_.triggers.add(t)
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
        elif er.role == "anchored":
            sorted_.anchored.add(t)
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


def _judge(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
           protocol: CompiledProtocol, result: AuditResult) -> tuple[list[Finding], Standing]:
    """Findings for one rule and one session, and where the session's subject stands.

    Each check (trigger) ends in one outcome: excused (an `unless` record), passed (covered, or no
    forbidden record), not evaluable (a `needs` record is missing, or a field the check reads),
    deviation, or pending (a `judged from` date after the cut-off).
    """
    m = _sort_matches(matches)
    certain = m.triggers | set(m.hits)
    triggers = certain | set(m.possible_triggers)
    outcomes: list[tuple[str, str | None]] = []
    findings: list[Finding] = []
    if rule.has_due:
        pending = triggers - m.due - set(m.excused)
        result.pending[rule.id] += len(pending)
        outcomes += [("pending", f"judged from {rule.due_text}, after the data cut-off")] * len(pending)
        triggers -= pending
    for t in sorted(triggers):
        if rule.mode == "require" and t in m.covered:
            outcomes.append(("passed", None))
            continue
        if t in m.excused:
            outcomes.append(("excused", _excuse_reason(m.excused[t], session)))
            continue
        hits = [refs for _, refs in sorted(m.hits.get(t, {}).items())]
        if hits:
            findings += [_finding(rule, "deviation", refs, session, protocol) for refs in hits]
            outcomes.append(("deviation", None))
            continue
        possible = [refs for _, refs in sorted(m.possible_hits.get(t, {}).items())]
        if rule.mode == "forbid" and possible:
            for refs in possible:
                findings.append(_possible(rule, refs, session, protocol))
            outcomes.append(("possible_deviation", findings[-1].reason))
            continue
        unmet = _unmet_need(rule, t, m)
        if unmet is not None:
            findings.append(_finding(rule, "not_evaluable", {"t": t}, session, protocol, unmet))
            outcomes.append(("not_evaluable", unmet))
            continue
        if rule.mode == "require" and (t in m.possible_covered or t not in certain):
            refs = m.possible_covered.get(t) or m.possible_triggers.get(t) or {"t": t}
            findings.append(_possible(rule, refs, session, protocol))
            outcomes.append(("possible_deviation", findings[-1].reason))
            continue
        unknown = [value for _, value in sorted(m.unknown.get(t, {}).items())]
        if unknown:
            if rule.mode == "require":
                unknown = unknown[:1]
            findings += [_finding(rule, "not_evaluable", refs, session, protocol, reason) for reason, refs in unknown]
            outcomes.append(("not_evaluable", unknown[0][0]))
            continue
        if rule.mode == "require":
            findings.append(_finding(rule, "deviation", {"t": t}, session, protocol))
            outcomes.append(("deviation", None))
        else:
            outcomes.append(("passed", None))
    return findings, _standing(rule, session, outcomes)


def _possible(rule: CompiledRule, refs: dict[str, int], session: Session, protocol: CompiledProtocol) -> Finding:
    """A finding a partial date leaves undecided: what is missing, and the interval each such date spans."""
    # Only the dates the rule's date tests read: a partial date the rule never compares is no reason.
    compared = {(alias, name) for er in rule.interval_rules for t in er.tests
                for alias, name in ((t.alias, t.field), (t.other, t.other_field)) if alias and name and "__hi" in name}
    dated_fields = {(alias, name.split("__")[0]) for alias, name in compared}
    parts = []
    for alias, ref in sorted(refs.items(), key=lambda item: item[1]):
        for record in session.evidence[ref].records:
            names = {name for a, name in dated_fields if a == alias}
            for name, high in sorted(record.upper.items()):
                if name not in names:
                    continue
                low = record.date if name == "date" else record.values[name]
                written = record.date_text if name == "date" else record.raw.get(name, "")
                what = f"{record.event} date" if name == "date" else f"{record.event} {name}"
                parts.append(f"{what} {written} is only known to lie between {low} and {high}")
    reason = "; ".join(dict.fromkeys(parts)) or "a date the check depends on is only partly known"
    return _finding(rule, "possible_deviation", refs, session, protocol, reason)


def _unmet_need(rule: CompiledRule, t: int, m: _Matches) -> str | None:
    for index, reason in enumerate(rule.needs, start=1):
        if t not in m.needs_met.get(index, set()):
            return reason
    return None


def _excuse_reason(refs: dict[str, int], session: Session) -> str:
    alias = next(a for a in sorted(refs) if re.fullmatch(r"e\d+", a))
    evidence = session.evidence[refs[alias]]
    record = evidence.records[0]
    return f"excused by {record.event} on {evidence.display.get('date', '')}"


def _standing(rule: CompiledRule, session: Session, outcomes: list[tuple[str, str | None]]) -> Standing:
    if not outcomes:
        return Standing(rule, session.subject, "not_applicable", f"no {rule.trigger_label} recorded")
    status, reason = min(outcomes, key=lambda o: STANDINGS.index(o[0]))
    return Standing(rule, session.subject, status, reason)


def _finding(rule: CompiledRule, status: str, refs: dict[str, int], session: Session, protocol: CompiledProtocol,
             reason: str | None = None) -> Finding:
    evidence: dict[str, Evidence] = {alias: session.evidence[ref] for alias, ref in refs.items()}
    dated = evidence.get("x") if "x" in evidence and rule.mode == "forbid" else evidence["t"]
    records: list[Record] = []
    for alias in sorted(evidence, key=lambda a: (a != "t", a != "x", a)):
        for record in evidence[alias].records:
            if record not in records:
                records.append(record)
    if status == "not_evaluable":
        message = f"{rule.title}: cannot be evaluated, {reason}."
    elif status == "possible_deviation":
        message = f"Possibly: {render_message(rule, evidence, protocol)} Undecided: {reason}."
    else:
        message = render_message(rule, evidence, protocol)
    considered: tuple[Record, ...] = ()
    if status == "deviation" and rule.mode == "require" and rule.exists_event:
        sought = {id(r): r for fact, ev in zip(session.facts, session.evidence)
                  if fact["kind"] == rule.exists_event for r in ev.records}
        considered = tuple(sorted(sought.values(), key=Record.content_key))
    return Finding(rule, session.subject, dated.display.get("date", ""), status, message, tuple(records), reason,
                   considered)


def render_message(rule: CompiledRule, evidence: dict[str, Evidence], protocol: CompiledProtocol) -> str:
    """Fill `{name}` placeholders with parameters and the matched records' values as written."""
    trigger = evidence["t"].display
    exists = evidence.get("x")

    def fill(match: re.Match[str]) -> str:
        text = match.group(1).strip()
        if "." in text:
            record, name = text.split(".", 1)
            source = exists.display if exists is not None and record == rule.exists_event else trigger
            return source.get(name, "(none)")
        if text in trigger:
            return trigger[text]
        value = protocol.parameters.get(text)
        return str(value) if value is not None else "(none)"

    return re.sub(r"\{([^{}]*)\}", fill, rule.message)

