"""Audit result -> the monitor's report: a readable table, or one JSON document."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from . import __version__
from .audit import STANDINGS, STATUSES, AuditResult, Finding
from .compiler import CompiledRule
from .explanation import finding_explanation
from .records import Record

CONSIDERED_SHOWN = 5  # records sought but not matching, shown per finding in the text report


def summary(result: AuditResult) -> dict[str, Any]:
    data = result.data
    per_rule: dict[str, dict[str, Any]] = {}
    standings = Counter((s.rule.id, s.status) for s in result.standings)
    for rule in result.rules:
        counts: dict[str, Any] = {status: 0 for status in STATUSES}
        counts["pending"] = result.pending.get(rule.id, 0)
        counts["subjects"] = {status: standings[rule.id, status] for status in STANDINGS}
        per_rule[rule.id] = counts
    for finding in result.findings:
        per_rule[finding.rule.id][finding.status] += 1
    important = sum(1 for f in result.findings if f.rule.important)
    return {
        "records_read": data.read,
        "records_audited": result.audited,
        "records_not_used": sum(result.not_used.values()),
        "records_rejected": len(data.rejections),
        "not_used_reasons": dict(sorted(result.not_used.items())),
        "rejections": [{"location": r.location, "reason": r.reason} for r in data.rejections],
        "subjects": result.subjects,
        "data_cutoff": result.cutoff.isoformat() if result.cutoff else None,
        "findings": len(result.findings),
        "findings_important": important,
        "findings_other": len(result.findings) - important,
        "findings_by_rule": per_rule,
        "protocol_versions": {name: len(subjects) for name, subjects in result.versions.items()},
        "trial_level_version": result.trial_version,
    }


def citation(rule: CompiledRule, result: AuditResult) -> str:
    """What the rule enforces, as the protocol words it: its criteria, or its free-text citation."""
    criteria = result.protocol.criteria
    parts = [f"{cid}: {criteria[cid].text}" for cid in rule.criteria if cid in criteria]
    if rule.cites:
        parts.append(rule.cites)
    return "; ".join(parts)


def explanation(finding: Finding, result: AuditResult) -> str:
    """When the rule reports a deviation, in words, from the protocol version the finding was judged under."""
    protocol = next((v.protocol for v in result.protocol.versions if v.name == finding.version), result.protocol)
    cache = result.explanations
    key = (finding.version, finding.rule.id)
    if key not in cache:
        cache[key] = finding_explanation(protocol, finding.rule.id)
    return cache[key]


def finding_dict(finding: Finding, result: AuditResult) -> dict[str, Any]:
    rule = finding.rule
    rules_file = result.protocol.filename
    return {
        "rule": rule.id,
        "title": rule.title,
        "subject": finding.subject,
        "date": finding.date,
        "severity": rule.severity,
        "important": rule.important,
        "category": rule.category,
        "status": finding.status,
        "protocol_version": finding.version,
        "message": finding.message,
        "reason": finding.reason,
        "criteria": list(rule.criteria),
        "cites": citation(rule, result),
        "explanation": explanation(finding, result),
        "rule_location": f"{rules_file}:{rule.span.line}",
        "evidence": [_record_dict(r) for r in finding.evidence],
        "considered": [_record_dict(r) for r in finding.considered],
    }


def _record_dict(r: Record) -> dict[str, Any]:
    return {"location": r.location, "event": r.event, "subject": r.subject, "date": r.date_text, "values": r.raw}


def to_json(result: AuditResult) -> str:
    document = {
        "tool": {"name": "jk500-rules", "version": __version__},
        "protocol": {"name": result.protocol.name, "registry": result.protocol.registry,
                     "rules_file": result.protocol.filename},
        "findings": [finding_dict(f, result) for f in result.findings],
        "standings": [{"rule": s.rule.id, "subject": s.subject, "status": s.status, "reason": s.reason,
                       "protocol_version": s.version} for s in result.standings],
        "summary": summary(result),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def to_text(result: AuditResult) -> str:
    lines: list[str] = []
    p = result.protocol
    title = f"Deviation audit: {p.name or p.filename}" + (f" ({p.registry})" if p.registry else "")
    lines += [title, "=" * len(title), ""]
    important = [f for f in result.findings if f.rule.important]
    other = [f for f in result.findings if not f.rule.important]
    if result.findings:
        lines += [f"Findings ({len(result.findings)}): {len(important)} important, {len(other)} other", ""]
    number = 0
    for heading, group in (("Important deviations (ICH E3: subject safety, rights or data reliability)", important),
                           ("Other findings", other)):
        if not group:
            continue
        lines += [f"{heading}: {len(group)}", "-" * len(f"{heading}: {len(group)}"), ""]
        for f in group:
            number += 1
            lines += _finding_lines(number, f, result)
    if not result.findings:
        lines += ["No findings.", ""]
    s = summary(result)
    lines.append("Summary")
    lines.append(f"  records read:      {s['records_read']}")
    lines.append(f"    audited:         {s['records_audited']}")
    lines.append(f"    not used:        {s['records_not_used']}")
    for reason, count in s["not_used_reasons"].items():
        lines.append(f"      {count:>5}  {reason}")
    lines.append(f"    rejected:        {s['records_rejected']}")
    for rejection in result.data.rejections:
        lines.append(f"      {rejection.location}: {rejection.reason}")
    lines.append(f"  subjects:          {s['subjects']}")
    lines.append(f"  data cut-off:      {s['data_cutoff'] or '(no dated records)'}")
    lines.append(f"  findings:          {s['findings']} ({s['findings_important']} important)")
    if len(result.versions) > 1:
        judged = ", ".join(f"{name} ({count} subjects)" for name, count in s["protocol_versions"].items())
        lines.append(f"  protocol versions: {judged}; trial-level rules under {result.trial_version}")
    lines.append("")
    width = max((len(r.id) for r in result.rules), default=4)
    lines.append(f"  {'':<{width}}  {'findings':^30}  {'subjects (or the trial)':^55}")
    lines.append(f"  {'rule':<{width}}  deviation  possible  not eval.  pending   passed  deviation  not eval.  "
                 f"pending  excused  n/a")
    for rule_id, counts in s["findings_by_rule"].items():
        subj = counts["subjects"]
        lines.append(f"  {rule_id:<{width}}  {counts['deviation']:>9}  {counts['possible_deviation']:>8}  "
                     f"{counts['not_evaluable']:>9}  {counts['pending']:>7}  {subj['passed']:>7}  "
                     f"{subj['deviation'] + subj['possible_deviation']:>9}  {subj['not_evaluable']:>9}  "
                     f"{subj['pending']:>7}  {subj['excused']:>7}  {subj['not_applicable']:>3}")
    lines.append("")
    lines.append("  Findings count checks (one per record, week, window...); subjects count each subject once per rule,")
    lines.append("  by its worst outcome. n/a: nothing the rule checks was recorded for the subject; that is not a pass.")
    return "\n".join(lines) + "\n"


def _finding_lines(number: int, f: Finding, result: AuditResult) -> list[str]:
    p = result.protocol
    who = f"subject {f.subject}" if f.subject else "trial level"
    version = f"  (version {f.version})" if len(result.versions) > 1 else ""
    lines = [f"{number:>3}. {f.rule.id}  {who}  {f.date}  {f.rule.severity}  {f.status.replace('_', ' ')}{version}",
             f"     {f.message}"]
    if f.reason:
        lines.append(f"     not evaluable: {f.reason}")
    lines.append(f"     rule: {p.filename}:{f.rule.span.line}: {explanation(f, result)}")
    for label, records in (("evidence", f.evidence), ("considered", f.considered[:CONSIDERED_SHOWN])):
        for r in records:
            values = ", ".join(f"{k}={v}" for k, v in sorted(r.raw.items()))
            subject = f" subject {r.subject}" if r.subject else ""
            lines.append(f"     {label}: {r.location}  {r.event}{subject} {r.date_text}" + (f"  {values}" if values else ""))
    if f.rule.exists_event and f.status == "deviation" and f.rule.mode == "require":
        if not f.considered:
            lines.append(f"     considered: no {f.rule.exists_event} recorded")
        elif len(f.considered) > CONSIDERED_SHOWN:
            lines.append(f"     considered: ... {len(f.considered) - CONSIDERED_SHOWN} more {f.rule.exists_event} "
                         "records (all in the JSON report)")
    lines.append("")
    return lines
