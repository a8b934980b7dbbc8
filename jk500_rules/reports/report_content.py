"""What every report format says of an audit: its summary counts, changes, citations and explanations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..compiler.model import CompiledRule
from ..engine.results import STATUSES, AuditResult, Finding
from ..engine.standings import STANDINGS, StandingTable
from ..explain import finding_explanation

CONSIDERED_SHOWN = 5  # records sought but not matching, shown per finding in the text and HTML reports


def summary(result: AuditResult) -> dict[str, Any]:
    data = result.data
    per_rule: dict[str, dict[str, Any]] = {}
    standings = (result.standings.counts() if isinstance(result.standings, StandingTable)
                 else Counter((s.rule.id, s.status) for s in result.standings))
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
        # SDTM input: every row of every domain file read, by what became of it (records count events).
        "sources": [dict(source) for source in data.sources],
        "subjects": result.subjects,
        "data_cutoff": result.cutoff.isoformat() if result.cutoff else None,
        "findings": len(result.findings),
        "findings_important": important,
        "findings_other": len(result.findings) - important,
        "findings_by_rule": per_rule,
        "protocol_versions": {name: len(subjects) for name, subjects in result.versions.items()},
        "changes": changes(result),
        "trial_level_version": result.trial_version,
    }


def changes(result: AuditResult) -> dict[str, int] | None:
    """New, persisting and resolved counts against a previous report (None without one)."""
    if not any(f.change for f in result.findings) and not result.resolved:
        return None
    counted = Counter(f.change for f in result.findings)
    return {"new": counted["new"], "persisting": counted["persisting"], "resolved": len(result.resolved)}


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
