"""Audit result -> one self-contained HTML page: summary, a sortable and filterable findings table, the
evidence of each finding, and per subject a timeline in inline SVG with the findings marked on it.

Nothing is fetched: styles, script and graphics are inline (a Content-Security-Policy says so too). Every
data-derived text goes through jinja2's autoescaping; the script reads no data but the page's own DOM.
The page is deterministic: the same result renders the same bytes (no clock is read here; only what
`result.provenance` holds).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import jinja2

from .._version import __version__
from ..engine.results import STATUSES, AuditResult, Finding
from ..inputs.records import Record
from .html_timeline import timeline_anchor, timeline_views, values_text
from .report_content import CONSIDERED_SHOWN, cause_of, citation, explanation, summary, warnings, window_text

SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
STATUS_LABELS = {"deviation": "deviation", "possible_deviation": "possible deviation", "not_evaluable": "not evaluable"}


def render_html(result: AuditResult) -> str:
    """The audit as one HTML document (a str), for `audit --format html`."""
    if not result.records_kept:
        raise ValueError("the HTML report's timelines need every record: audit with keep_records=True")
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(result))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("jk500_rules.reports", "templates"),
        autoescape=True,  # every {{ }} is escaped, in HTML and SVG text and attributes alike
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# ----- the page's view model -----------------------------------------------------------------------

def _record_view(record: Record) -> dict[str, Any]:
    return {"location": record.location, "event": record.event, "subject": record.subject or "",
            "date": record.date_text, "fields": values_text(record)}


def _finding_view(f: Finding, result: AuditResult, order: int) -> dict[str, Any]:
    rule = f.rule
    return {
        "id": f.id,
        "order": order,
        "rule": rule.id,
        "title": rule.title,
        "subject": f.subject,
        "subject_label": f.subject if f.subject is not None else "(trial)",
        "subject_anchor": timeline_anchor(f.subject),
        "date": f.date,
        "status": f.status,
        "status_label": STATUS_LABELS.get(f.status, f.status),
        "severity": rule.severity,
        "severity_rank": f"{0 if rule.important else 1}-{SEVERITY_RANK.get(rule.severity, 9)}",
        "important": rule.important,
        "category": rule.category,
        "message": f.message,
        "reason": f.reason or "",
        "cause": cause_of(f) if f.status == "not_evaluable" else "",
        "window": window_text(f.window),
        "explanation": explanation(f, result),
        "citation": citation(rule, result),
        "version": f.version or "",
        "change": f.change or "",
        "review": dict(f.review) if f.review else None,
        "evidence": [_record_view(r) for r in f.evidence],
        "considered": [_record_view(r) for r in f.considered[:CONSIDERED_SHOWN]],
        "considered_more": max(0, len(f.considered) - CONSIDERED_SHOWN),
    }


def _provenance(value: Any) -> dict[str, Any]:
    if isinstance(value, (dict, list, tuple)):
        return {"block": True, "text": json.dumps(value, indent=2, ensure_ascii=False, default=str)}
    return {"block": False, "text": "" if value is None else str(value)}


def _context(result: AuditResult) -> dict[str, Any]:
    s = summary(result)
    protocol = result.protocol
    findings = list(result.findings)
    # Important deviations first, then the report's order.
    ordered = sorted(enumerate(findings), key=lambda pair: (not pair[1].rule.important, pair[0]))
    views = {f.id: _finding_view(f, result, n) for n, (_, f) in enumerate(ordered)}
    rows = [views[f.id] for _, f in ordered]

    rules = {rule.id: rule for rule in result.rules}
    rule_rows = []
    for rule_id, counts in s["findings_by_rule"].items():
        rule = rules[rule_id]
        rule_rows.append({"id": rule_id, "title": rule.title, "severity": rule.severity, "important": rule.important,
                          "counts": {k: counts.get(k, 0) for k in (*STATUSES, "pending")},
                          "subjects": counts["subjects"],
                          "total": sum(counts.get(k, 0) for k in STATUSES)})
    rule_rows.sort(key=lambda r: (not r["important"], r["total"] == 0))

    by_severity = []
    sev = Counter(f.rule.severity for f in findings)
    sev_imp = Counter(f.rule.severity for f in findings if f.rule.important)
    for name in sorted(sev, key=lambda n: (SEVERITY_RANK.get(n, 9), n)):
        by_severity.append({"severity": name, "count": sev[name], "important": sev_imp[name]})

    by_subject_counts: dict[str | None, Counter] = defaultdict(Counter)
    for f in findings:
        by_subject_counts[f.subject][f.status] += 1
    by_subject = [{"label": key if key is not None else "(trial)", "anchor": timeline_anchor(key),
                   "counts": {st: c[st] for st in STATUSES}, "total": sum(c.values())}
                  for key, c in sorted(by_subject_counts.items(), key=lambda kv: (kv[0] is not None, kv[0] or ""))]

    by_cause = [{"subject": g["subject"] if g["subject"] is not None else "(trial)",
                 "anchor": timeline_anchor(g["subject"]), "cause": g["cause"], "rules": g["rules"],
                 "findings": g["findings"]} for g in s["not_evaluable_by_cause"]]

    changes = None
    if any(f.change for f in findings) or result.resolved:
        changed = Counter(f.change for f in findings if f.change)
        resolved = []
        for item in result.resolved:
            if isinstance(item, dict):
                resolved.append({"id": str(item.get("id", "")), "rule": str(item.get("rule", "")),
                                 "subject": str(item.get("subject") or "(trial)"), "date": str(item.get("date", "")),
                                 "status": str(item.get("status", "")),
                                 "message": str(item.get("message", ""))})
            else:
                resolved.append({"id": "", "rule": "", "subject": "", "date": "", "status": "", "message": str(item)})
        changes = {"new": changed["new"], "persisting": changed["persisting"], "resolved": len(result.resolved),
                   "resolved_list": resolved}

    return {
        "title": f"Deviation audit: {protocol.name or protocol.filename}"
                 + (f" ({protocol.registry})" if protocol.registry else ""),
        "tool_version": __version__,
        "rules_file": protocol.filename,
        "summary": s,
        "statuses": [(st, STATUS_LABELS[st]) for st in STATUSES],
        "rule_rows": rule_rows,
        "by_severity": by_severity,
        "by_subject": by_subject,
        "by_cause": by_cause,
        "causes": sorted({g["cause"] for g in by_cause}),
        "important": [r for r in rows if r["important"]],
        "changes": changes,
        "show_change": any(f.change for f in findings),
        "show_review": any(f.review for f in findings),
        "show_version": len(result.versions) > 1,
        "provenance": [(str(k), _provenance(v)) for k, v in result.provenance.items()],
        "rows": rows,
        "timelines": timeline_views(result, views),
        "not_used": s["not_used_reasons"],
        "rejections": s["rejections"],
        "warnings": [w.message for w in warnings(result)],
        "orphan_reviews": [json.dumps(o, ensure_ascii=False, sort_keys=True, default=str)
                           for o in result.orphan_reviews],
    }
