"""Audit result -> the readable text report: provenance, findings with their evidence, and the summary table."""

from __future__ import annotations

from ..engine.results import AuditResult, Finding
from .report_content import (CONSIDERED_SHOWN, REJECTIONS_SHOWN, changes, explanation, summary, warnings,
                             window_text)


def to_text(result: AuditResult) -> str:
    lines: list[str] = []
    p = result.protocol
    title = f"Deviation audit: {p.name or p.filename}" + (f" ({p.registry})" if p.registry else "")
    lines += [title, "=" * len(title), ""]
    provenance = result.provenance
    if provenance:
        lines.append(f"{provenance['tool']}; run {provenance['run_time']}")
        lines.append(f"rules: {provenance['rules']['file']} (sha256 {provenance['rules']['sha256']})")
        for item in provenance["inputs"]:
            lines.append(f"input: {item['file']} (sha256 {item['sha256']})")
        lines.append("")
    counted = changes(result)
    if counted:
        lines += [f"Since the previous report: {counted['new']} new, {counted['persisting']} persisting, "
                  f"{counted['resolved']} resolved", ""]
    lines += _input_lines(result)
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
    if result.resolved:
        lines += [f"Resolved since the previous report: {len(result.resolved)}", ""]
        lines += [f"  {r['id']}  {r['rule']}  {r['subject'] or 'trial level'}  {r['date']}  {r['message']}"
                  for r in result.resolved]
        lines.append("")
    if result.orphan_reviews:
        lines += [f"Reviews of findings no longer reported: {len(result.orphan_reviews)}", ""]
        lines += [f"  {r['id']}  {r['decision']} by {r['by'] or '?'} on {r['at'] or '?'}: {r['reason']}"
                  for r in result.orphan_reviews]
        lines.append("")
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
    if s["sources"]:
        lines.append("  SDTM domain rows (records count events: a questionnaire's items make one):")
        lines.append(f"    {'file':<40} {'rows':>7} {'mapped':>7} {'not used':>8} {'rejected':>8}")
        for source in s["sources"]:
            lines.append(f"    {str(source['source']):<40} {source['rows']:>7} {source['mapped']:>7} "
                         f"{source['not_mapped']:>8} {source['rejected']:>8}")
    lines.append(f"  subjects:          {s['subjects']}")
    lines.append(f"  data cut-off:      {s['data_cutoff'] or '(no dated records)'}")
    lines.append(f"  findings:          {s['findings']} ({s['findings_important']} important)")
    if len(result.versions) > 1:
        judged = ", ".join(f"{name} ({count} subjects)" for name, count in s["protocol_versions"].items())
        lines.append(f"  protocol versions: {judged}; trial-level rules under {result.trial_version}")
    lines.append("")
    lines += _cause_lines(s["not_evaluable_by_cause"])
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


def _input_lines(result: AuditResult) -> list[str]:
    """Rows rejected (the first REJECTIONS_SHOWN) and columns ignored, before the findings: what was not
    audited is read before what was found in the rest."""
    lines: list[str] = []
    rejected = result.data.rejections
    if rejected:
        heading = f"Rejected rows: {len(rejected)} of {result.data.read} read, not audited"
        lines += [heading, "-" * len(heading)]
        for r in rejected[:REJECTIONS_SHOWN]:
            lines.append(f"  {r.location}  {r.subject or '(no subject)'}  {r.date or '(no date)'}: {r.reason}")
        if len(rejected) > REJECTIONS_SHOWN:
            lines.append(f"  ... and {len(rejected) - REJECTIONS_SHOWN} more: every rejected row is listed in the "
                         "summary below")
        lines.append("")
    ignored = warnings(result)
    if ignored:
        heading = f"Warnings: {len(ignored)}"
        lines += [heading, "-" * len(heading)]
        lines += [f"  {w.message}" for w in ignored]
        lines.append("")
    return lines


def _cause_lines(groups: list[dict]) -> list[str]:
    """One line per subject and cause: `S1: no screening checklist recorded — blocks RULE-A, RULE-B`."""
    if not groups:
        return []
    lines = ["  Not evaluable, by cause (per subject, what is missing and the rules it blocks):"]
    for group in groups:
        rules = group["rules"]
        more = f" ({group['findings']} findings)" if group["findings"] > len(rules) else ""
        lines.append(f"    {group['subject'] or 'trial level'}: {group['cause']} — blocks {', '.join(rules)}{more}")
    return lines + [""]


def _finding_lines(number: int, f: Finding, result: AuditResult) -> list[str]:
    p = result.protocol
    who = f"subject {f.subject}" if f.subject else "trial level"
    version = f"  (version {f.version})" if len(result.versions) > 1 else ""
    change = f"  [{f.change}]" if f.change else ""
    lines = [f"{number:>3}. {f.rule.id}  {who}  {f.date}  {f.rule.severity}  {f.status.replace('_', ' ')}{version}"
             f"{change}  {f.id}",
             f"     {f.message}"]
    if f.reason:
        label = "undecided" if f.status == "possible_deviation" else "not evaluable"
        lines.append(f"     {label}: {f.reason}")
    if f.window is not None:
        lines.append(f"     {window_text(f.window)}")
    lines.append(f"     rule: {p.filename}:{f.rule.span.line}: {explanation(f, result)}")
    if f.review:
        review = f.review
        lines.append(f"     reviewed: {review['decision']} by {review['by'] or '?'} on {review['at'] or '?'}"
                     + (f": {review['reason']}" if review["reason"] else ""))
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
