"""Audit result -> the monitor's report: a readable table, one JSON document, a CSV of findings.

`write_reports` writes any set of formats at once, SDTM DV included (see dv.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from .._version import __version__
from ..engine.results import STATUSES, AuditResult, Finding
from ..engine.standings import STANDINGS, StandingTable
from ..compiler.model import CompiledRule
from ..errors import InputError, Jk500Error
from ..explain import finding_explanation
from ..inputs.records import Record

CONSIDERED_SHOWN = 5  # records sought but not matching, shown per finding in the text report


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


def finding_dict(finding: Finding, result: AuditResult) -> dict[str, Any]:
    rule = finding.rule
    rules_file = result.protocol.filename
    return {
        "id": finding.id,
        "rule": rule.id,
        "title": rule.title,
        "subject": finding.subject,
        "date": finding.date,
        "severity": rule.severity,
        "important": rule.important,
        "category": rule.category,
        "status": finding.status,
        "change": finding.change,
        "review": finding.review,
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


_STANDINGS_PLACE = "\u0000standings\u0000"


def to_json(result: AuditResult) -> str:
    return "".join(json_parts(result))


def json_parts(result: AuditResult) -> Iterator[str]:
    """The JSON report in pieces, standings streamed one by one: a portfolio's run to millions of them."""
    document = {
        "tool": {"name": "jk500-rules", "version": __version__},
        "protocol": {"name": result.protocol.name, "registry": result.protocol.registry,
                     "rules_file": result.protocol.filename},
        "provenance": result.provenance,
        "findings": [finding_dict(f, result) for f in result.findings],
        "resolved": result.resolved,
        "orphan_reviews": result.orphan_reviews,
        "standings": _STANDINGS_PLACE,
        "summary": summary(result),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    head, tail = text.split(json.dumps(_STANDINGS_PLACE), 1)
    yield head
    # Laid out as json.dumps(indent=2) lays out a list of objects one level down; written here because
    # json's indenting encoder is pure Python, and a portfolio has millions of standings.
    opening = "["
    quoted: dict[object, str] = {}  # rule ids, statuses, reasons and versions repeat

    def quote(value: object) -> str:
        text = quoted.get(value)
        if text is None:
            text = quoted[value] = json.dumps(value, ensure_ascii=False)
        return text

    for batch in _batches(result.standings, 2_000):
        yield opening + ",".join(
            f'\n    {{\n      "rule": {quote(s.rule.id)},\n      "subject": {json.dumps(s.subject, ensure_ascii=False)},'
            f'\n      "status": {quote(s.status)},\n      "reason": {quote(s.reason)},'
            f'\n      "protocol_version": {quote(s.version)}\n    }}' for s in batch)
        opening = ","
    yield "[]" if opening == "[" else "\n  ]"
    yield tail


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    change = f"  [{f.change}]" if f.change else ""
    lines = [f"{number:>3}. {f.rule.id}  {who}  {f.date}  {f.rule.severity}  {f.status.replace('_', ' ')}{version}"
             f"{change}  {f.id}",
             f"     {f.message}"]
    if f.reason:
        label = "undecided" if f.status == "possible_deviation" else "not evaluable"
        lines.append(f"     {label}: {f.reason}")
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


# ----- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("rule", "title", "subject", "date", "status", "severity", "important", "category", "criteria",
               "message", "reason", "protocol_version", "evidence")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet could run as a formula gets a leading `'` (CSV injection); numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """RFC 4180 CSV with \\n line ends, every cell through safe_cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return out.getvalue()


def finding_row(finding: Finding) -> list[Any]:
    rule = finding.rule
    return [rule.id, rule.title, finding.subject or "", finding.date, finding.status, rule.severity,
            "yes" if rule.important else "no", rule.category, "; ".join(rule.criteria), finding.message,
            finding.reason or "", finding.version or "", "; ".join(r.location for r in finding.evidence)]


def to_csv(result: AuditResult) -> str:
    """One row per finding, in the report's order; subject empty for a trial-level finding."""
    return csv_text(CSV_COLUMNS, (finding_row(f) for f in result.findings))


# ----- several formats, files and folders ------------------------------------------------------------

def to_html(result: AuditResult) -> str:
    from .html_report import render_html  # jinja2 is needed only for this format

    return render_html(result)


FORMATS = ("text", "json", "csv", "dv", "html")
FILE_NAMES = {"text": "report.txt", "json": "report.json", "csv": "findings.csv", "html": "report.html"}
RENDERERS = {"text": to_text, "json": to_json, "csv": to_csv, "html": to_html}


def parse_formats(text: str) -> tuple[str, ...]:
    """`--format` value: one format or several, comma-separated (argparse type)."""
    chosen: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if name not in FORMATS:
            raise argparse.ArgumentTypeError(f"'{name}' is not a format; choose from {', '.join(FORMATS)}, "
                                             "or several separated by commas")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _folder_wanted(formats: tuple[str, ...], output: str | None) -> bool:
    """Whether -o names a folder: for dv or several formats always, for one file format if it is one."""
    if output is None:
        return False
    return len(formats) > 1 or formats == ("dv",) or Path(output).is_dir() or output.endswith(("/", "\\"))


def check_output(formats: tuple[str, ...], output: str | None) -> None:
    """Fail before the audit runs when the formats cannot be written where -o says."""
    if len(formats) > 1 and output is None:
        raise Jk500Error(f"jk500-rules audit: error: --format {','.join(formats)} writes several files; "
                         "give a folder for them with -o DIR")
    if output is not None and _folder_wanted(formats, output) and Path(output).exists() \
            and not Path(output).is_dir():
        raise InputError(output, "is a file, not a folder; --format "
                         f"{','.join(formats)} writes several files into the folder -o names")
    if output is not None and "dv" in formats:
        from . import dv

        dv.require_xport(output)  # before any file is written


def write_reports(result: AuditResult, formats: tuple[str, ...], output: str | None,
                  stdout: TextIO | None = None, stderr: TextIO | None = None) -> list[Path]:
    """Render each format; to stdout (one format, no -o), to the file -o names, or into the folder.

    Folder names: report.txt, report.json, findings.csv, for dv the files of dv.FILES, and
    provenance.json (the tool, input hashes and run time, which CSV and XPT cannot carry).
    """
    from . import dv

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    check_output(formats, output)
    if output is None:
        (only,) = formats
        if only == "dv":
            datasets = dv.build(result)
            stdout.write(dv.dv_csv(datasets))
            if datasets.trial:
                print(f"{len(datasets.trial)} trial-level finding(s) left out of DV, whose records belong to "
                      f"subjects; -o DIR writes them to {dv.TRIAL_FILE}.", file=stderr)
        elif only == "json":
            stdout.writelines(json_parts(result))
        else:
            stdout.write(RENDERERS[only](result))
        return []
    written: list[Path] = []
    try:
        if not _folder_wanted(formats, output):
            path = Path(output)
            _write(path, formats[0], result)
            return [path]
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        if result.provenance:  # CSV and DV files have no place for it: it goes beside them
            path = folder / "provenance.json"
            path.write_text(json.dumps(result.provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(path)
        for name in formats:
            if name == "dv":
                written += dv.write(result, folder)
            else:
                path = folder / FILE_NAMES[name]
                _write(path, name, result)
                written.append(path)
    except OSError as exc:
        raise InputError(str(exc.filename or output), f"cannot be written ({exc.strerror or exc})") from None
    return written


def _write(path: Path, name: str, result: AuditResult) -> None:
    if name == "json":
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(json_parts(result))
    else:
        path.write_text(RENDERERS[name](result), encoding="utf-8")
