"""Audit result -> the monitor's report: a readable table, or one JSON document."""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .audit import STATUSES, AuditResult, Finding


def summary(result: AuditResult) -> dict[str, Any]:
    data = result.data
    per_rule: dict[str, dict[str, int]] = {}
    for rule in result.protocol.rules:
        counts = {status: 0 for status in STATUSES}
        counts["pending"] = result.pending.get(rule.id, 0)
        per_rule[rule.id] = counts
    for finding in result.findings:
        per_rule[finding.rule.id][finding.status] += 1
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
        "findings_by_rule": per_rule,
    }


def finding_dict(finding: Finding, rules_file: str) -> dict[str, Any]:
    rule = finding.rule
    return {
        "rule": rule.id,
        "title": rule.title,
        "subject": finding.subject,
        "date": finding.date,
        "severity": rule.severity,
        "category": rule.category,
        "status": finding.status,
        "message": finding.message,
        "reason": finding.reason,
        "cites": rule.cites,
        "rule_location": f"{rules_file}:{rule.span.line}",
        "evidence": [
            {"location": r.location, "event": r.event, "subject": r.subject, "date": r.date_text, "values": r.raw}
            for r in finding.evidence
        ],
    }


def to_json(result: AuditResult) -> str:
    document = {
        "tool": {"name": "jk500-rules", "version": __version__},
        "protocol": {"name": result.protocol.name, "registry": result.protocol.registry,
                     "rules_file": result.protocol.filename},
        "findings": [finding_dict(f, result.protocol.filename) for f in result.findings],
        "summary": summary(result),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def to_text(result: AuditResult) -> str:
    lines: list[str] = []
    p = result.protocol
    title = f"Deviation audit: {p.name or p.filename}" + (f" ({p.registry})" if p.registry else "")
    lines += [title, "=" * len(title), ""]
    if result.findings:
        lines.append(f"Findings ({len(result.findings)})")
        lines.append("")
        for i, f in enumerate(result.findings, start=1):
            who = f"subject {f.subject}" if f.subject else "trial level"
            lines.append(f"{i:>3}. {f.rule.id}  {who}  {f.date}  {f.rule.severity}  {f.status.replace('_', ' ')}")
            lines.append(f"     {f.message}")
            if f.reason:
                lines.append(f"     not evaluable: {f.reason}")
            lines.append(f"     rule: {p.filename}:{f.rule.span.line}" + (f" ({f.rule.cites})" if f.rule.cites else ""))
            for r in f.evidence:
                values = ", ".join(f"{k}={v}" for k, v in sorted(r.raw.items()))
                subject = f" subject {r.subject}" if r.subject else ""
                lines.append(f"     evidence: {r.location}  {r.event}{subject} {r.date_text}"
                             + (f"  {values}" if values else ""))
            lines.append("")
    else:
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
    lines.append("")
    width = max((len(r.id) for r in p.rules), default=4)
    lines.append(f"  {'rule':<{width}}  deviation  possible  not evaluable  pending")
    for rule_id, counts in s["findings_by_rule"].items():
        lines.append(f"  {rule_id:<{width}}  {counts['deviation']:>9}  {counts['possible_deviation']:>8}  "
                     f"{counts['not_evaluable']:>13}  {counts['pending']:>7}")
    return "\n".join(lines) + "\n"
