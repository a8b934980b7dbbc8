"""The traceability matrix: protocol criterion -> rules -> scenarios -> findings of an audit.

Criteria come from the rules file (`criterion` lines), scenarios from the Gherkin feature files
(a scenario proves the rules whose ids it is tagged with), findings from an audit's JSON report or
from auditing logs now. A criterion no rule cites is either a manual check (with its reason) or a
gap, and the matrix says which.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compiler.model import CompiledProtocol
from ..errors import InputError
from .monitoring import load_json

SCENARIO_KEYWORDS = ("Scenario:", "Scenario Outline:", "Scenario Template:", "Example:")


@dataclass(frozen=True)
class Scenario:
    location: str  # file:line
    name: str
    tags: frozenset[str]


@dataclass
class AuditFigures:
    """Per rule: findings by status, and subjects by standing, from one audit."""

    source: str
    cutoff: str | None
    findings: dict[str, dict[str, int]] = field(default_factory=dict)
    subjects: dict[str, dict[str, int]] = field(default_factory=dict)


def read_scenarios(folder: Path) -> list[Scenario]:
    """Every scenario of the .feature files under `folder`, with its own and its feature's tags."""
    scenarios: list[Scenario] = []
    for path in sorted(folder.rglob("*.feature")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"cannot be read ({exc})") from None
        pending: set[str] = set()
        feature_tags: set[str] = set()
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if line.startswith("@"):
                pending |= {t.lstrip("@") for t in line.split() if t.startswith("@")}
            elif line.startswith("Feature:"):
                feature_tags, pending = pending, set()
            elif line.startswith(SCENARIO_KEYWORDS):
                name = line.split(":", 1)[1].strip()
                scenarios.append(Scenario(f"{path.as_posix()}:{number}", name, frozenset(pending | feature_tags)))
                pending = set()
            elif line and not line.startswith("#"):
                pending = set()
    return scenarios


def figures_from_report(path: str, protocol: CompiledProtocol | None = None) -> AuditFigures:
    """The per-rule figures of a JSON report written by `audit --format json`, about `protocol` if given.

    Anything else is an InputError naming the file and what is wrong in it: a count of another type
    would show as 0 in the matrix, or end the command with an internal error.
    """
    document = _load_report(path)
    summary = document.get("summary")
    if not isinstance(summary, dict) or not isinstance(summary.get("findings_by_rule"), dict):
        raise InputError(path, "is not a JSON audit report: it has no summary.findings_by_rule object "
                               "(audit --format json writes one)")
    cutoff = summary.get("data_cutoff")
    if cutoff is not None and not isinstance(cutoff, str):
        raise InputError(path, f"summary.data_cutoff is {_shown(cutoff)}, not a date")
    if protocol is not None:
        _require_protocol(path, document, protocol)
    figures = AuditFigures(path, cutoff)
    for rule_id, counts in summary["findings_by_rule"].items():
        where = f"summary.findings_by_rule[{json.dumps(rule_id)}]"
        if not isinstance(counts, dict):
            raise InputError(path, f"{where} is {_shown(counts)}, not an object of counts")
        subjects = counts.get("subjects", {})
        if not isinstance(subjects, dict):
            raise InputError(path, f"{where}.subjects is {_shown(subjects)}, not an object of counts")
        figures.findings[rule_id] = _counts(path, where, {k: v for k, v in counts.items() if k != "subjects"})
        figures.subjects[rule_id] = _counts(path, f"{where}.subjects", subjects)
    return figures


def _load_report(path: str) -> dict[str, Any]:
    """The report as a JSON object, or an InputError saying why it is not one."""
    document = load_json(path, "is not a JSON audit report: it ")
    if not isinstance(document, dict):
        raise InputError(path, f"is not a JSON audit report: it holds {_kind(document)}, not an object")
    return document


def _require_protocol(path: str, document: dict[str, Any], protocol: CompiledProtocol) -> None:
    """A report of another trial would put its figures beside this protocol's rules of the same ids."""
    named = document.get("protocol")
    if not isinstance(named, dict):
        raise InputError(path, "is not a JSON audit report: it names no protocol (audit --format json)")
    name, registry = named.get("name"), named.get("registry")
    if (name, registry) != (protocol.name, protocol.registry):
        theirs = _shown(name) + (f" ({_shown(registry)})" if registry else "")
        ours = f"{protocol.name}" + (f" ({protocol.registry})" if protocol.registry else "")
        raise InputError(path, f"is a report on protocol {theirs}, not {ours}; the matrix shows this protocol's "
                               "figures only")


def _counts(path: str, where: str, counts: dict[str, Any]) -> dict[str, int]:
    for key, value in counts.items():
        if type(value) is not int or value < 0:  # bool is an int to isinstance
            raise InputError(path, f"{where}.{key} is {_shown(value)}, not a count")
    return counts


def _shown(value: object) -> str:
    """A JSON value as one short line (ASCII, so no character of it breaks the line)."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(type(value), "a number")


def figures_from_summary(source: str, summary: dict[str, Any]) -> AuditFigures:
    figures = AuditFigures(source, summary.get("data_cutoff"))
    for rule_id, counts in summary["findings_by_rule"].items():
        figures.findings[rule_id] = {k: v for k, v in counts.items() if isinstance(v, int)}
        figures.subjects[rule_id] = dict(counts["subjects"])
    return figures


def build(protocol: CompiledProtocol, scenarios: list[Scenario], figures: AuditFigures | None) -> dict[str, Any]:
    """The matrix as one document; text, CSV and JSON are renderings of it."""
    by_rule: dict[str, list[Scenario]] = defaultdict(list)
    for scenario in scenarios:
        for tag in scenario.tags:
            by_rule[tag].append(scenario)
    rules_of: dict[str, list[str]] = defaultdict(list)
    for rule in protocol.rules:
        for cid in rule.criteria:
            rules_of[cid].append(rule.id)

    def rule_entry(rule_id: str) -> dict[str, Any]:
        rule = next(r for r in protocol.rules if r.id == rule_id)
        entry: dict[str, Any] = {
            "id": rule.id,
            "title": rule.title,
            "line": rule.span.line,
            "severity": rule.severity,
            "important": rule.important,
            "approximate": rule.approximate,
            "scenarios": [{"location": s.location, "name": s.name} for s in by_rule.get(rule.id, [])],
        }
        if figures is not None:
            entry["findings"] = figures.findings.get(rule.id, {})
            entry["subjects"] = figures.subjects.get(rule.id, {})
        return entry

    criteria = []
    for criterion in protocol.criteria.values():
        rule_ids = rules_of.get(criterion.id, [])
        status = "manual" if criterion.manual is not None else ("audited" if rule_ids else "not covered")
        if status == "audited" and all(r.approximate is not None for r in protocol.rules if r.id in rule_ids):
            status = "approximate"  # audited, but by no rule that states it exactly
        criteria.append({
            "id": criterion.id,
            "text": criterion.text,
            "line": criterion.line,
            "check": status,
            "manual_reason": criterion.manual,
            "rules": [rule_entry(rid) for rid in rule_ids],
        })
    uncited = [rule_entry(r.id) for r in protocol.rules if not r.criteria]
    return {
        "protocol": {"name": protocol.name, "registry": protocol.registry, "rules_file": protocol.filename},
        "audit": None if figures is None else {"source": figures.source, "data_cutoff": figures.cutoff},
        "criteria": criteria,
        "rules_citing_no_criterion": uncited,
        "choices": [{"owner": c.owner, "line": c.line, "text": c.text} for c in protocol.choices],
    }


def to_json(matrix: dict[str, Any]) -> str:
    return json.dumps(matrix, indent=2, ensure_ascii=False) + "\n"


def to_csv(matrix: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["criterion", "criterion_text", "check", "rule", "scenarios", "deviations", "not_evaluable",
                     "pending", "subjects_passed", "subjects_deviation", "subjects_not_evaluable",
                     "subjects_excused", "subjects_not_applicable"])
    for criterion in matrix["criteria"]:
        head = [criterion["id"], criterion["text"], criterion["check"]]
        if not criterion["rules"]:
            writer.writerow(head + [""] * 10)
        for rule in criterion["rules"]:
            findings, subjects = rule.get("findings", {}), rule.get("subjects", {})
            writer.writerow(head + [rule["id"], len(rule["scenarios"])] + [
                findings.get(k, "") for k in ("deviation", "not_evaluable", "pending")] + [
                subjects.get(k, "") for k in ("passed", "deviation", "not_evaluable", "excused", "not_applicable")])
    return out.getvalue()


def to_text(matrix: dict[str, Any]) -> str:
    p = matrix["protocol"]
    title = f"Traceability matrix: {p['name'] or p['rules_file']}" + (f" ({p['registry']})" if p["registry"] else "")
    lines = [title, "=" * len(title), ""]
    audit = matrix["audit"]
    lines.append(f"rules: {p['rules_file']}")
    lines.append("audit: " + (f"{audit['source']} (data cut-off {audit['data_cutoff']})" if audit
                              else "(none given: pass logs or --report to see findings)"))
    counts = defaultdict(int)
    for criterion in matrix["criteria"]:
        counts[criterion["check"]] += 1
    approximately = f"{counts['approximate']} only approximately, " if counts["approximate"] else ""
    lines.append(f"criteria: {len(matrix['criteria'])} ({counts['audited']} audited, {approximately}"
                 f"{counts['manual']} manual, {counts['not covered']} not covered)")
    approximate = sorted({r["id"] for c in matrix["criteria"] for r in c["rules"] if r["approximate"] is not None}
                         | {r["id"] for r in matrix["rules_citing_no_criterion"] if r["approximate"] is not None})
    if approximate:
        lines.append(f"approximate rules: {len(approximate)} ({', '.join(approximate)})")
    lines.append("")
    for criterion in matrix["criteria"]:
        lines.append(f"{criterion['id']}  {criterion['text']}")
        if criterion["check"] == "manual":
            lines.append(f"    manual check: {criterion['manual_reason']}")
        elif criterion["check"] == "not covered":
            lines.append("    NOT COVERED: no rule cites this criterion and it is not marked manual")
        for rule in criterion["rules"]:
            lines += _rule_lines(rule, audit is not None, p["rules_file"])
        lines.append("")
    if matrix["rules_citing_no_criterion"]:
        lines.append("Rules citing no declared criterion")
        for rule in matrix["rules_citing_no_criterion"]:
            lines += _rule_lines(rule, audit is not None, p["rules_file"])
        lines.append("")
    lines.append(f"Choices where the protocol is silent or ambiguous: {len(matrix['choices'])}")
    for choice in matrix["choices"]:
        lines.append(f"  {choice['owner']} ({p['rules_file']}:{choice['line']}): {choice['text']}")
    return "\n".join(lines) + "\n"


def _rule_lines(rule: dict[str, Any], audited: bool, rules_file: str) -> list[str]:
    important = "important" if rule["important"] else "not important"
    lines = [f"    {rule['id']}  {rule['title']}  ({rule['severity']}, {important}; {rules_file}:{rule['line']})"]
    if rule["approximate"] is not None:
        lines.append(f"      APPROXIMATE: {rule['approximate']}")
    scenarios = rule["scenarios"]
    lines.append(f"      scenarios: {len(scenarios)}" + ("  NONE" if not scenarios else ""))
    if audited:
        f, s = rule.get("findings", {}), rule.get("subjects", {})
        lines.append(f"      findings: {f.get('deviation', 0)} deviation, {f.get('possible_deviation', 0)} possible, "
                     f"{f.get('not_evaluable', 0)} not evaluable, {f.get('pending', 0)} pending checks")
        lines.append(f"      subjects: {s.get('passed', 0)} passed, {s.get('deviation', 0)} deviation, "
                     f"{s.get('not_evaluable', 0)} not evaluable, {s.get('pending', 0)} pending, "
                     f"{s.get('excused', 0)} excused, {s.get('not_applicable', 0)} not applicable")
    return lines
