"""Audit result -> a CSV of findings, every cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from ..engine.results import AuditResult, Finding
from .report_content import cause_of, window_text

# `cause` and the window come last, after the columns of earlier versions, so that a reader by position still
# finds them.
CSV_COLUMNS = ("rule", "title", "subject", "date", "status", "severity", "important", "category", "criteria",
               "message", "reason", "protocol_version", "evidence", "cause", "window_start", "window_end", "window")
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
            finding.reason or "", finding.version or "", "; ".join(r.location for r in finding.evidence),
            cause_of(finding) if finding.status == "not_evaluable" else "", *_window_cells(finding)]


def _window_cells(finding: Finding) -> list[str]:
    """Its window's first and last day (empty: open, or not known to the day) and the window in words."""
    window = finding.window
    if window is None:
        return ["", "", ""]
    return [window.start or "", window.end or "", window_text(window)]


def to_csv(result: AuditResult) -> str:
    """One row per finding, in the report's order; subject empty for a trial-level finding."""
    return csv_text(CSV_COLUMNS, (finding_row(f) for f in result.findings))
