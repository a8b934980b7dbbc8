"""Audit result -> one JSON document: findings, resolved findings, reviews, every standing and the summary."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .._version import __version__
from ..engine.results import AuditResult, Finding
from ..inputs.records import Record
from .report_content import cause_of, citation, explanation, summary, warning_dicts, window_dict


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
        "cause": cause_of(finding) if finding.status == "not_evaluable" else None,
        "window": window_dict(finding.window),
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
        "warnings": warning_dicts(result),
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
