"""What a named pass produced, as deterministic JSON: `jk500-rules compile --stage resolved|lowered|engine`.

A protocol writer sees how each name was bound and each condition lowered before the engine gets it.
The forms are documented in docs/architecture.md ("Seeing a pass's output").
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..language import nodes as n
from .lower import LoweredRule
from .computed import program_text
from .model import CompiledProtocol, Pattern, Test
from .operands import Atom, Conj, Value
from .pipeline import Build, compile_version
from .resolve import ResolvedRule

STAGES = ("resolved", "lowered", "engine")


def stage_json(protocol: CompiledProtocol, stage: str) -> str:
    """A compiled protocol's latest version (named in `version`) as the named pass left it."""
    if stage == "engine":
        # What the engine is handed: the rules, then the rules that find references, fed before them.
        return json.dumps({**protocol.rulesets(), **protocol.finder_rulesets(False)}, indent=2, sort_keys=True) + "\n"
    assert protocol.tree is not None
    build = compile_version(protocol.tree, protocol.filename, protocol.source, [])
    document = _resolved(build, protocol) if stage == "resolved" else _lowered(build, protocol)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _resolved(build: Build, protocol: CompiledProtocol) -> dict[str, Any]:
    decls = build.resolved.decls
    return {
        "stage": "resolved",
        "protocol": protocol.name,
        "version": protocol.versions[-1].name if protocol.versions else None,
        "events": {name: {"label": e.label, "trial_level": e.trial_level,
                          "fields": {f.name: {"type": f.type, "unit": f.unit, "required": f.required}
                                     for f in e.fields.values()}}
                   for name, e in decls.events.items()},
        "groups": {name: list(members) for name, members in decls.groups.items()},
        "subject_attributes": {name: f"{event}.{field}" for name, (event, field) in decls.attributes.items()},
        "parameters": protocol.parameters,
        "rules": [_resolved_rule(rule, protocol.source.splitlines()) for rule in build.resolved.rules],
    }


def _resolved_rule(rule: ResolvedRule, lines: list[str]) -> dict[str, Any]:
    records = [_record("trigger", rule.trigger)]
    records += [_record("cut-off" if a.alias == "cutoff" else "reference" if a.kind == "$ref" else
                        "state" if a.kind == "$state" else "anchor", a)
                for a in rule.anchors]
    if rule.exists is not None:
        records.append(_record("sought", rule.exists))
    records += [_record(c.role, c.pattern) for c in rule.clauses]
    names = sorted(rule.values.items(), key=lambda item: (item[0].span.line, item[0].span.column))
    tables = sorted(_lookups(rule.rule.check), key=lambda node: (node.span.line, node.span.column))
    return {
        "id": rule.rule.id,
        "line": rule.rule.span.line,
        "level": rule.level,
        "checked_for": rule.trigger_label,
        "records": records,
        "names": [{"at": f"{node.span.line}:{node.span.column}", "text": _source(lines, node), **_operand(value)}
                  for node, value in names],
        "tables": [{"at": f"{node.span.line}:{node.span.column}", "text": _source(lines, node), "table": node.table}
                   for node in tables],
    }


def _lookups(node: object) -> list[n.Lookup]:
    """The table look-ups under a node (`nominal[arm]`)."""
    if isinstance(node, n.Lookup):
        return [node, *_lookups(node.key)]
    if isinstance(node, n.Node):
        return [found for f in dataclasses.fields(node) for found in _lookups(getattr(node, f.name))]
    if isinstance(node, tuple):
        return [found for item in node for found in _lookups(item)]
    return []


def _record(role: str, pattern: Pattern) -> dict[str, Any]:
    return {"alias": pattern.alias, "role": role, "kind": pattern.kind, "label": pattern.label,
            "which": [_test(t) for t in pattern.identity]}


def _operand(value: Value) -> dict[str, Any]:
    """A typed operand: the field it reads (with its offset) or the constant it stands for."""
    out: dict[str, Any] = {"type": value.type}
    if value.formula is not None:
        out["formula"] = value.formula
    elif value.is_ref:
        out["reads"] = f"{value.alias}.{value.field}"
        out["optional"] = value.optional
    else:
        out["value"] = str(value.const) if value.const is not None else None
    if value.unit:
        out["unit"] = value.unit
    if value.scale != 1:
        out["scale"] = value.scale
    if value.days or value.months:
        out["shift"] = {"days": value.days, "months": value.months}
    return out


def _lowered(build: Build, protocol: CompiledProtocol) -> dict[str, Any]:
    plan = protocol.plan
    out = {
        "stage": "lowered",
        "protocol": protocol.name,
        "version": protocol.versions[-1].name if protocol.versions else None,
        "rules": [_lowered_rule(rule) for rule in build.lowered.rules],
        "plan": {
            "events": sorted(plan.events),
            "counts": [list(c) for c in sorted(plan.counts)],
            "group_firsts": [list(g) for g in sorted(plan.group_firsts)],
            "ranks": [[*key, depth] for key, depth in plan.rank_depth],
            "subject": plan.subject,
            "windows": [w.period for w in sorted(plan.windows)],
            "groups": [{"group": g, "members": list(m), "reads": sorted(r)} for g, m, r in plan.groups],
        },
    }
    if plan.computed:  # worked out on each record of a type by the audit, from the data and the formula alone
        out["plan"]["computed"] = [{"field": a.field, "on": a.event, "unit": a.unit, "amount": a.label,
                                    "program": program_text(a.term)} for a in plan.computed]
    if protocol.finders:  # each reference, found by engine rules of its own before the rules are fed
        out["references"] = [{"name": f.key, "finds": f"{f.order} {f.event}", "anchor": f"{f.anchor_which} "
                              f"{f.anchor_event}", "engine_rules": [er.name for er in f.near_rules or f.rule.engine_rules]}
                             for f in protocol.finders]
    return out


def _lowered_rule(rule: LoweredRule) -> dict[str, Any]:
    """Each condition as alternatives (a list of conjunctions), each conjunction a list of atoms."""
    resolved = rule.checked.resolved
    out: dict[str, Any] = {
        "id": resolved.rule.id,
        "mode": resolved.rule.check.verdict.mode,
        "where": _dnf(rule.where),
        "verdict": _dnf(rule.body),
    }
    if rule.clauses:
        out["clauses"] = [{"role": c.role, "seeks": c.pattern.kind, "alias": c.pattern.alias, "when": _dnf(conjs)}
                          for c, conjs in rule.clauses]
    if rule.due_tests:
        out["due"] = [_test(t) for t in rule.due_tests]
    return out


def _dnf(conjs: tuple[Conj, ...]) -> list[list[dict[str, Any]]]:
    return [[_atom(atom) for atom in conj] for conj in conjs]


def _atom(atom: Atom) -> dict[str, Any]:
    out: dict[str, Any] = {"tests": [_test(t) for t in atom.tests]}
    if atom.span is not None:
        out["at"] = f"{atom.span.line}:{atom.span.column}"
    if atom.reads:
        out["needs_known"] = [f"{alias}.{field}" for alias, field in sorted(atom.reads)]
    if atom.lookups:
        out["per_table_key"] = [f"{field.alias}.{field.field} {op} {factor.const if factor.const is not None else 1}"
                                f" * {factor.lookup[0]}[{factor.lookup[1].alias}.{factor.lookup[1].field}]"  # type: ignore[index]
                                f" (scale {field.scale})" for op, factor, field in atom.lookups]
    return out


def _test(test: Test) -> str:
    """`alias.field OP constant` or `alias.field OP other.field [* factor] [+/- offset]`."""
    if test.other is None:
        right = json.dumps(test.const)
    else:
        right = f"{test.other}.{test.other_field}" + (f" * {test.factor}" if test.factor != 1 else "")
        if test.divisor:
            right = f"{test.rounding}({right} / {test.divisor})"
        if test.offset:
            right += f" {'+' if test.offset > 0 else '-'} {abs(test.offset)}"
    return f"{test.alias}.{test.field} {test.op} {right}" + (" (dates)" if test.dated else "")


def _source(lines: list[str], node: n.Node) -> str:
    span = node.span
    if span.line != span.end_line:
        return lines[span.line - 1][span.column - 1:].strip()
    return lines[span.line - 1][span.column - 1:span.end_column - 1]
