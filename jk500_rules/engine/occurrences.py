"""When a deviation happened and how many there are: a finding's date, and the findings a rule reports.

A monitor copies findings into a deviation log, where each is dated when the deviation happened and
counted once. The date is read from a record the engine matched, or stated by the rules text from one
(`dated by`, `judged from`); nothing here decides whether a rule was broken.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import replace

from ..compiler.model import CompiledRule, DateSource
from ..dates import add_days, add_months
from ..inputs.records import Record
from .facts import Evidence
from .results import Finding


def finding_date(rule: CompiledRule, status: str, evidence: dict[str, Evidence],
                 dating: dict[str, Evidence]) -> str:
    """The date of the record that breaks the rule; for something required that never came, when it was due;
    else the record checked.

    - `dated by EXPR`: that date, whatever the finding (the record checked when the record it names is missing).
    - forbid: the record checked (`for each X`: giving X was the deviation); for a rule checked once per
      subject (`for first|last X`), the forbidden record found (or the one it cannot tell about).
    - require: the record that took a count past its limit; in a rule checked once per subject, the latest
      record sought that its `needs` accepted and none of which qualified (the deciding lab result); else,
      for a record sought or a count short, the `judged from` date (when it was due); else the record checked.
    """
    checked = evidence["t"].display.get("date", "")
    if rule.dated_by is not None:
        return stated_date(rule.dated_by, evidence, dating) or checked
    if rule.mode == "forbid":
        found = evidence.get("x")
        once = rule.checked_for in ("first", "last")
        return found.display.get("date", checked) if once and found is not None else checked
    if "b" in evidence:
        return evidence["b"].display.get("date", checked)
    deciding = [ev.display.get("date", "") for alias, ev in evidence.items() if re.fullmatch(r"d\d+", alias)]
    if deciding:
        return max(deciding)
    if rule.due_date is not None and status == "deviation":
        return stated_date(rule.due_date, evidence, dating) or checked
    return checked


def stated_date(source: DateSource, evidence: dict[str, Evidence], dating: dict[str, Evidence]) -> str | None:
    """A date the rules text states, `first infusion.date - 7 days`, from the record matched under its alias;
    None when there is none, or its date is known only in part (a partial date is never made a day)."""
    record = evidence.get(source.alias) or dating.get(source.alias)
    text = record.display.get(source.field, "") if record is not None else ""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    moved = add_months(day, source.months) if source.months else day
    moved = add_days(moved, source.days) if moved is not None and source.days else moved
    return moved.isoformat() if moved is not None else None


def reported(rule: CompiledRule, findings: list[tuple[int, Finding]]) -> list[Finding]:
    """The findings a rule reports: one per check (each record checked, or each subject for a rule checked
    `for first|last X`), every offending record its evidence; `report each`: one per offending record;
    `report once per subject`: one per subject and status."""
    if rule.report == "each":
        return [finding for _, finding in findings]
    groups: dict[tuple, list[Finding]] = {}
    for check, finding in findings:
        key = (finding.subject, finding.status) if rule.report == "once" else (check, finding.status)
        groups.setdefault(key, []).append(finding)
    return [_merged(group) for group in groups.values()]


def _merged(findings: list[Finding]) -> Finding:
    """Several findings of one deviation as one: every record as evidence, dated by the latest deciding date, and
    naming the window of the finding that gives that date."""
    if len(findings) == 1:
        return findings[0]
    first = findings[0]
    latest = max(findings, key=lambda f: f.date)  # the first of the latest: it dates the finding, so its window
    reasons = [f.reason for f in findings if f.reason]
    return replace(first, date=latest.date, window=latest.window,
                   message=" ".join(dict.fromkeys(f.message for f in findings)),
                   evidence=tuple(distinct(r for f in findings for r in f.evidence)),
                   reason="; ".join(dict.fromkeys(reasons)) if reasons else None,
                   considered=tuple(distinct(r for f in findings for r in f.considered)))


def distinct(records: Iterable[Record]) -> list[Record]:
    """Each record once, in the order first met, compared by equality as `not in` a list would be.

    Equal records share their file, line and event, so only records sharing those are compared: a
    count over thousands of records stays linear.
    """
    out: list[Record] = []
    seen: dict[tuple[str, int, str], list[Record]] = {}
    for record in records:
        same = seen.setdefault((record.file, record.line, record.event), [])
        if record not in same:
            same.append(record)
            out.append(record)
    return out
