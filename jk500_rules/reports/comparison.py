"""Two audits of the same data -> the findings that appear, disappear or change between them.

Used to see what an amendment (or any edit of the rules) does to a trial's findings before it takes
effect. A finding is the same finding in both audits when its rule, subject, date and evidence
records (by content, not by file line) are the same; it has changed when its status or message
differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..engine.results import AuditResult, Finding


@dataclass
class Comparison:
    old_label: str
    new_label: str
    appeared: list[Finding] = field(default_factory=list)
    disappeared: list[Finding] = field(default_factory=list)
    changed: list[tuple[Finding, Finding]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def differs(self) -> bool:
        return bool(self.appeared or self.disappeared or self.changed)


def _key(finding: Finding) -> tuple:
    return (finding.rule.id, finding.subject or "", finding.date, tuple(r.content_key() for r in finding.evidence[:1]))


def _same(a: Finding, b: Finding) -> bool:
    # The version a finding was judged under is what is being compared, not a change in itself.
    return (a.status, a.message) == (b.status, b.message)


def compare(old: AuditResult, new: AuditResult, old_label: str, new_label: str) -> Comparison:
    result = Comparison(old_label, new_label)
    before: dict[tuple, list[Finding]] = {}
    for finding in old.findings:
        before.setdefault(_key(finding), []).append(finding)
    for finding in new.findings:
        matches = before.get(_key(finding))
        if not matches:
            result.appeared.append(finding)
            continue
        previous = next((m for m in matches if _same(m, finding)), matches[0])
        matches.remove(previous)
        if _same(previous, finding):
            result.unchanged += 1
        else:
            result.changed.append((previous, finding))
    result.disappeared = [f for findings in before.values() for f in findings]
    result.disappeared.sort(key=_key)
    return result


def _line(finding: Finding) -> str:
    who = f"subject {finding.subject}" if finding.subject else "trial level"
    version = f" (version {finding.version})" if finding.version else ""
    return f"{finding.rule.id}  {who}  {finding.date}  {finding.status.replace('_', ' ')}{version}: {finding.message}"


def to_text(comparison: Comparison) -> str:
    lines = [f"Findings of {comparison.new_label} against {comparison.old_label}", ""]
    for mark, heading, findings in (("+", "appear", comparison.appeared), ("-", "disappear", comparison.disappeared)):
        lines.append(f"{heading}: {len(findings)}")
        lines += [f"  {mark} {_line(f)}" for f in findings]
        lines.append("")
    lines.append(f"change: {len(comparison.changed)}")
    for old, new in comparison.changed:
        lines += [f"  ~ {_line(old)}", f"    -> {_line(new)}"]
    lines += ["", f"unchanged: {comparison.unchanged}"]
    return "\n".join(lines) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {"rule": finding.rule.id, "subject": finding.subject, "date": finding.date, "status": finding.status,
            "protocol_version": finding.version, "message": finding.message}


def to_json(comparison: Comparison) -> str:
    document = {
        "old": comparison.old_label,
        "new": comparison.new_label,
        "appeared": [_finding_json(f) for f in comparison.appeared],
        "disappeared": [_finding_json(f) for f in comparison.disappeared],
        "changed": [{"old": _finding_json(a), "new": _finding_json(b)} for a, b in comparison.changed],
        "unchanged": comparison.unchanged,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
