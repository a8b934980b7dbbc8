"""Compiled protocol + visit logs -> findings, through the engine's matches and set differences."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .compiler import CompiledProtocol, CompiledRule
from .engine import Engine
from .facts import Evidence, Session, build_sessions
from .records import LogData, Record, read_logs

STATUSES = ("deviation", "possible_deviation", "not_evaluable")


@dataclass(frozen=True)
class Finding:
    rule: CompiledRule
    subject: str | None
    date: str
    status: str
    message: str
    evidence: tuple[Record, ...]
    reason: str | None = None

    def sort_key(self, rule_order: dict[str, int]) -> tuple:
        return (rule_order[self.rule.id], self.subject or "", self.date, self.status,
                tuple(r.content_key() for r in self.evidence))


@dataclass
class AuditResult:
    protocol: CompiledProtocol
    data: LogData
    cutoff: dt.date | None
    findings: list[Finding] = field(default_factory=list)
    audited: int = 0
    not_used: Counter = field(default_factory=Counter)
    pending: Counter = field(default_factory=Counter)
    subjects: int = 0

    @property
    def exit_code(self) -> int:
        if self.data.rejections:
            return 3
        return 1 if self.findings else 0


def audit_files(protocol: CompiledProtocol, paths: list[str], as_of: dt.date | None = None) -> AuditResult:
    return audit_data(protocol, read_logs(paths, protocol), as_of)


def audit_data(protocol: CompiledProtocol, data: LogData, as_of: dt.date | None = None) -> AuditResult:
    """Audit validated records: the engine matches, Python only takes set differences."""
    cutoff = as_of or max((r.date for r in data.records), default=None)
    result = AuditResult(protocol, data, cutoff)
    used: list[Record] = []
    for record in data.records:
        if cutoff is not None and record.date > cutoff:
            result.not_used["dated after the data cut-off"] += 1
        elif record.event not in protocol.plan.events:
            result.not_used[f"{record.event}: no rule reads it"] += 1
        else:
            used.append(record)
    result.audited = len(used)
    result.subjects = len({r.subject for r in data.records
                           if r.subject is not None and (cutoff is None or r.date <= cutoff)})
    if cutoff is None:
        return result
    sessions = build_sessions(used, protocol, cutoff)
    engine_rules = {er.name: (rule, er) for rule in protocol.rules for er in rule.engine_rules}
    findings: list[Finding] = []
    with Engine(protocol.rulesets()) as engine:
        for session in sessions:
            matches = engine.feed(session.name, session.facts)
            by_rule: dict[str, list[tuple[Any, dict[str, int]]]] = defaultdict(list)
            for name, match in matches:
                rule, er = engine_rules[name]
                by_rule[rule.id].append((er, {alias: fact["ref"] for alias, fact in match.items()}))
            for rule in protocol.rules:
                if rule.id in by_rule:
                    findings.extend(_judge(rule, by_rule[rule.id], session, protocol, result))
    order = {rule.id: i for i, rule in enumerate(protocol.rules)}
    result.findings = sorted(findings, key=lambda f: f.sort_key(order))
    return result


def _judge(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
           protocol: CompiledProtocol, result: AuditResult) -> list[Finding]:
    if rule.mode == "require":
        return _judge_require(rule, matches, session, protocol, result)
    return _judge_forbid(rule, matches, session, protocol)


def _judge_require(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
                   protocol: CompiledProtocol, result: AuditResult) -> list[Finding]:
    triggers: set[int] = set()
    due: set[int] = set()
    covered: set[int] = set()
    unknown: dict[int, tuple[str, dict[str, int]]] = {}
    for er, refs in matches:
        t = refs["t"]
        if er.role == "trigger":
            triggers.add(t)
        elif er.role == "due":
            due.add(t)
        elif er.role == "covered":
            covered.add(t)
        elif er.role == "unknown":
            unknown.setdefault(t, (er.reason or "", refs))
    if rule.has_due:
        result.pending[rule.id] += len(triggers - due)
        triggers &= due
    findings = []
    for t in sorted(triggers - covered):
        if t in unknown:
            reason, refs = unknown[t]
            findings.append(_finding(rule, "not_evaluable", refs, session, protocol, reason))
        else:
            findings.append(_finding(rule, "deviation", {"t": t}, session, protocol))
    return findings


def _judge_forbid(rule: CompiledRule, matches: list[tuple[Any, dict[str, int]]], session: Session,
                  protocol: CompiledProtocol) -> list[Finding]:
    hits: dict[tuple, dict[str, int]] = {}
    unknown: dict[tuple, tuple[str, dict[str, int]]] = {}
    for er, refs in matches:
        key = (refs["t"], refs.get("x"))
        if er.role == "deviation":
            hits.setdefault(key, refs)
        elif er.role == "unknown":
            unknown.setdefault(key, (er.reason or "", refs))
    findings = [_finding(rule, "deviation", refs, session, protocol) for _, refs in sorted(hits.items())]
    findings += [_finding(rule, "not_evaluable", refs, session, protocol, reason)
                 for key, (reason, refs) in sorted(unknown.items()) if key not in hits]
    return findings


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
    else:
        message = render_message(rule, evidence, protocol)
    return Finding(rule, session.subject, dated.display.get("date", ""), status, message, tuple(records), reason)


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

