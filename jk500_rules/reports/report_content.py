"""What every report format says of an audit: its summary counts, changes, citations and explanations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..compiler.model import CompiledRule
from ..engine.results import STATUSES, AuditResult, Finding, Window
from ..engine.standings import STANDINGS, StandingTable
from ..explain import finding_explanation
from ..inputs.records import IgnoredColumn
from ..inputs.validation import column_warnings

CONSIDERED_SHOWN = 5  # records sought but not matching, shown per finding in the text and HTML reports
REJECTIONS_SHOWN = 20  # rejected rows listed before the findings of the text report (all in its summary)


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
        "rejections": [{"location": r.location, "subject": r.subject, "date": r.date, "reason": r.reason}
                       for r in data.rejections],
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
        "not_evaluable_by_cause": not_evaluable_by_cause(result),
    }


def warnings(result: AuditResult) -> list[IgnoredColumn]:
    """What the audit read but did not use without a word otherwise: one per file and column whose values
    were ignored, their event type not declaring it (the rows were audited without them)."""
    return column_warnings(result.data.ignored, result.data.files, result.protocol)


def warning_dicts(result: AuditResult) -> list[dict[str, Any]]:
    return [{"kind": "undeclared_column", "file": w.file, "column": w.column, "events": list(w.events),
             "values_ignored": w.values, "message": w.message} for w in warnings(result)]


def not_evaluable_by_cause(result: AuditResult) -> list[dict[str, Any]]:
    """Not-evaluable findings grouped by subject (or the trial) and cause: what is missing, the rules it blocks.

    One missing screening checklist blocks every rule that needs one: one entry lists them all. The trial
    comes first, then subjects in order of their ids; a subject's causes, and a cause's rules, in the
    report's order of findings. Each finding stays in the report; `findings` counts those of the entry.
    """
    groups: dict[tuple[str | None, str], dict[str, Any]] = {}
    for finding in result.findings:
        if finding.status != "not_evaluable":
            continue
        cause = cause_of(finding)
        group = groups.get((finding.subject, cause))
        if group is None:
            group = groups[finding.subject, cause] = {"subject": finding.subject, "cause": cause, "rules": [],
                                                      "findings": 0}
        if finding.rule.id not in group["rules"]:
            group["rules"].append(finding.rule.id)
        group["findings"] += 1
    return sorted(groups.values(), key=lambda g: (g["subject"] is not None, g["subject"] or ""))


def cause_of(finding: Finding) -> str:
    """A not-evaluable finding's cause (engine/results.py), or its reason for one made without it."""
    return finding.cause or finding.reason or "no reason recorded"


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


def window_text(window: Window | None) -> str:
    """The window a finding's rule computed, in one line: "src_decision window: after 2024-06-21, ..."."""
    if window is None:
        return ""
    note = f"; {window.note}" if window.note and not window.text.startswith(window.note) else ""
    return f"{window.event} window: {window.text}{note}"


def window_dict(window: Window | None) -> dict[str, Any] | None:
    """The window as the JSON report holds it: its first and last day (null: open, or not known to the day)."""
    if window is None:
        return None
    anchors = [None if a is None else {"event": a.event, "subject": a.subject, "date": a.date, "label": a.label}
               for a in (window.anchor, window.end_anchor)]
    return {"event": window.event, "start": window.start, "end": window.end, "anchor": anchors[0],
            "end_anchor": anchors[1], "text": window.text, "note": window.note}
