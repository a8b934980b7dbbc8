"""Syntax tree -> engine rules: names resolved, units checked, every condition lowered to tests.

Lowering happens in one direction. A condition becomes a disjunction of conjunctions of `Test`s,
each test an integer (or text) comparison between one fact field and a constant or another fact's
field plus an offset. Windows, tolerances, elapsed years and table lookups all reduce to that form
before any engine JSON is written, so the generator at the end only ever sees `Test`s.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterable, Iterator

from ..language import nodes as n
from ..dates import MONTH, WEEKDAYS, YEAR
from ..errors import Diagnostic, RulesError, Span, did_you_mean
from .model import (Choice, CompiledProtocol, CompiledRule, CriterionSpec, DECIMAL_SCALE, DURATION_UNITS, ENGINE_MAX_FIRST_KINDS, ENGINE_MAX_PATTERNS, ENGINE_MAX_PROPERTIES, ENGINE_MAX_RULES, ENGINE_MAX_TESTS, EngineRule, EventSpec, FIELD_TYPES, FLIP, FactPlan, FieldSpec, NEGATE, Pattern, ProtocolVersion, RESERVED_FIELDS, SEVERITIES, Test, Window, _FACT_BASE_PROPERTIES, _PROPERTIES_PER_FIELD, _place)

# ----- typed values during lowering --------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A typed operand: a constant, or a fact field (alias, field) plus an offset."""

    type: str  # date | number | text | boolean | duration | percent | elapsed
    span: Span
    alias: str | None = None
    field: str | None = None
    scale: int = 1
    unit: str | None = None
    const: Decimal | str | bool | None = None
    days: int = 0
    months: int = 0
    factor: int = 1  # `2 * uln`: a field times a whole number
    optional: bool = False
    elapsed: tuple[Value, Value] | None = None
    lookup: tuple[str, Value] | None = None  # (table name, key value)

    @property
    def is_ref(self) -> bool:
        return self.alias is not None


@dataclass(frozen=True)
class Atom:
    """A lowered condition leaf: tests that hold together, plus the optional fields they read."""

    tests: tuple[Test, ...]
    reads: frozenset[tuple[str, str]]
    lookups: tuple[tuple[str, Value], ...] = ()
    span: Span | None = None


Conj = tuple[Atom, ...]


class _Unsupported(Exception):
    def __init__(self, message: str, span: Span, hint: str | None = None):
        self.diagnostic = Diagnostic(message, span, hint)


# ----- the compiler ------------------------------------------------------------------------------


def compile_protocol(tree: n.Protocol, filename: str, source: str) -> CompiledProtocol:
    """Check and lower a parsed protocol; raise RulesError listing every problem found.

    With amendments, every version is compiled in full (the original text, then each amendment in
    effective-date order applied on top of the previous version); the latest version is returned,
    and `versions` holds them all for the audit to pick per subject.
    """
    diagnostics: list[Diagnostic] = []
    version_trees = _version_trees(tree, diagnostics)
    compiled: list[tuple[str, dt.date | None, CompiledProtocol]] = []
    used: set[str] = set()
    for name, effective, version_tree in version_trees:
        compiler = _Compiler(version_tree, filename, source)
        compiled.append((name, effective, compiler.run()))
        diagnostics += [d for d in compiler.diagnostics if d not in diagnostics]
        used |= compiler.used_params
    declared = {}
    for param in tree.parameters + tuple(p for a in tree.amendments for p in a.parameters):
        declared.setdefault(param.name, param)
    for name, param in declared.items():
        if name not in used:
            diagnostics.append(Diagnostic(f"parameter {name} is never used", param.span,
                                          "use it in a rule or a message, or delete it", severity="warning"))
    all_rules = tree.rules + tuple(r for a in tree.amendments for r in a.rules)
    cited = {c for rule in all_rules for c, _ in rule.criteria}
    for criterion in tree.criteria:
        if criterion.id not in cited and criterion.manual is None:
            diagnostics.append(Diagnostic(
                f"criterion {criterion.id} is cited by no rule", criterion.id_span,
                "cite it from a rule, or mark it `manual \"why no data can show it\"`", severity="warning"))
    if any(d.severity == "error" for d in diagnostics):
        # Warnings wait until the errors are fixed: many follow from them (a parameter only a broken
        # rule uses looks unused).
        shown = [d for d in diagnostics if d.severity != "warning"]
        raise RulesError(filename, source, _in_source_order(shown))
    versions = tuple(ProtocolVersion(name, effective, protocol) for name, effective, protocol in compiled)
    latest = versions[-1].protocol
    governed = tree.governed_by.event if tree.governed_by else None
    return replace(latest, versions=versions if len(versions) > 1 or tree.version else (), governed_by=governed,
                   warnings=tuple(_in_source_order([d for d in diagnostics if d.severity != "error"])))


def _in_source_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """By position in the file; a note stays right after the diagnostic it belongs to."""
    groups: list[list[Diagnostic]] = []
    for d in diagnostics:
        if d.severity == "note" and groups:
            groups[-1].append(d)
        else:
            groups.append([d])
    groups.sort(key=lambda g: (g[0].span.line, g[0].span.column) if g[0].span else (0, 0))
    return [d for group in groups for d in group]


def _version_trees(tree: n.Protocol, diagnostics: list[Diagnostic]) -> list[tuple[str, dt.date | None, n.Protocol]]:
    """(name, effective date, syntax tree) of each protocol version, oldest first."""
    base = replace(tree, amendments=())
    effective = _effective_date(tree.version.effective, tree.version.effective_span, diagnostics) \
        if tree.version else None
    versions = [(tree.version.name if tree.version else "original", effective, base)]
    if tree.governed_by is not None:
        events = {e.name for e in tree.events}
        if tree.governed_by.event not in events:
            diagnostics.append(Diagnostic(f"unknown event type '{tree.governed_by.event}'", tree.governed_by.event_span,
                                          did_you_mean(tree.governed_by.event, events)))
    dated = []
    for amendment in tree.amendments:
        when = _effective_date(amendment.effective, amendment.effective_span, diagnostics)
        if when is not None:
            dated.append((when, amendment))
    dated.sort(key=lambda item: item[0])
    names = [versions[0][0]]
    for (when, amendment), previous in zip(dated, [effective] + [w for w, _ in dated]):
        if amendment.name in names:
            diagnostics.append(Diagnostic(f"version {amendment.name} is declared twice", amendment.span))
        if previous is not None and when <= previous:
            diagnostics.append(Diagnostic(f"amendment {amendment.name} takes effect on {when}, not after the "
                                          f"version before it ({previous})", amendment.effective_span))
        names.append(amendment.name)
        current = versions[-1][2]
        params = {p.name: p for p in current.parameters}
        for param in amendment.parameters:
            params[param.name] = param
        rules = {r.id: r for r in current.rules}
        for rule in amendment.rules:
            rules[rule.id] = rule
        for withdrawal in amendment.withdrawals:
            if rules.pop(withdrawal.rule_id, None) is None:
                diagnostics.append(Diagnostic(f"amendment {amendment.name} withdraws rule {withdrawal.rule_id}, "
                                              "which is not in force before it", withdrawal.id_span,
                                              did_you_mean(withdrawal.rule_id, rules.keys())))
        versions.append((amendment.name, when,
                         replace(current, parameters=tuple(params.values()), rules=tuple(rules.values()))))
    if tree.amendments and tree.governed_by is None:
        diagnostics.append(Diagnostic("a protocol with amendments says which version governs a subject",
                                      tree.amendments[0].span, "add e.g. `governed by consent`: the version in "
                                      "force at a subject's first consent judges that subject"))
    return versions


def _effective_date(text: str, span: Span, diagnostics: list[Diagnostic]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        diagnostics.append(Diagnostic(f"'{text}' is not a date (YYYY-MM-DD)", span))
        return None


@dataclass
class _Scope:
    """The records a rule's names can refer to, innermost first."""

    trigger: n.Source
    trigger_alias: str
    exists_event: str | None = None
    in_exists: bool = False
    inner_alias: str = "x"  # the alias of the record a `require a`/`needs a`/`unless a` clause seeks


@dataclass
class _RuleState:
    scope: _Scope
    level: str
    anchors: dict[tuple, Pattern] = field(default_factory=dict)


class _Compiler:
    def __init__(self, tree: n.Protocol, filename: str, source: str = ""):
        self.tree = tree
        self.filename = filename
        self.source_lines = source.splitlines()
        self.diagnostics: list[Diagnostic] = []
        self.criteria: dict[str, CriterionSpec] = {}
        self.groups: dict[str, tuple[str, ...]] = {}
        self.group_reads: dict[str, set[str]] = defaultdict(set)
        self.plan_windows: set[Window] = set()
        self.used_params: set[str] = set()
        self.events: dict[str, EventSpec] = {}
        self.attributes: dict[str, tuple[str, str]] = {}
        self.params: dict[str, n.ParamDecl] = {}
        self.plan_counts: set[tuple[str, str, str]] = set()
        self.plan_groups: set[tuple[str, str, str]] = set()
        self.plan_ranks: set[tuple[str, str, str]] = set()
        self.rank_depth: dict[tuple[str, str, str], int] = {}
        self.plan_events: set[str] = set()
        self.plan_subject = False
        self.units: set[str] = set()

    def _guard_engine(self, rule: n.Rule, compiled: CompiledRule) -> None:
        """Refuse rule shapes past the engine's limits, where it would fail at run time or crash.

        Measured in ../shared/design/durable-rules.md: more than 16 patterns in a rule fails with error
        304 when facts arrive; more than about 29 tests in one pattern fails with error 113.
        """
        for er in (*compiled.engine_rules, *compiled.interval_rules):
            patterns = er.definition()["all"]
            if len(patterns) > ENGINE_MAX_PATTERNS:
                self.error(f"rule {rule.id} joins {len(patterns)} records in one engine rule; durable-rules "
                           f"joins at most {ENGINE_MAX_PATTERNS}", rule.id_span,
                           "split the rule, or compare fewer records in it")
                return
            for pattern in patterns:
                ((alias, condition),) = pattern.items()
                tests = len(condition["$and"]) if "$and" in condition else 1
                if tests + 1 > ENGINE_MAX_TESTS:  # the runner closes every later pattern with one test more
                    self.error(f"rule {rule.id} tests one record {tests} ways in one engine pattern; "
                               f"durable-rules takes at most {ENGINE_MAX_TESTS - 1}", rule.id_span,
                               "split the rule's conditions over several rules")
                    return

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, span, hint))

    # --- declarations ---
    def run(self) -> CompiledProtocol:
        self._declare_criteria()
        self._declare_events()
        self._declare_groups()
        self._declare_attributes()
        self._declare_parameters()
        rules: list[CompiledRule] = []
        seen: dict[str, n.Rule] = {}
        for rule in self.tree.rules:
            duplicate = rule.id in seen
            if duplicate:
                self.error(f"rule id {rule.id} is used twice", rule.id_span, "give each rule its own id")
                self.diagnostics.append(Diagnostic(f"the first {rule.id} is here", seen[rule.id].id_span,
                                                   severity="note"))
            seen.setdefault(rule.id, rule)
            try:
                compiled = self._compile_rule(rule)
            except _Unsupported as exc:
                self.diagnostics.append(exc.diagnostic)
                continue
            self._guard_engine(rule, compiled)
            if not duplicate:
                rules.append(compiled)
        first_kinds = {er.patterns[0].kind for r in rules for er in (*r.engine_rules, *r.interval_rules)}
        if len(first_kinds) > ENGINE_MAX_FIRST_KINDS:
            self.error(f"the rules start from {len(first_kinds)} kinds of record; durable-rules hangs past 512 "
                       f"distinct first tests, so at most {ENGINE_MAX_FIRST_KINDS} are taken",
                       self.tree.rules[0].id_span, "split the protocol into several rules files")
        for which in ("engine_rules", "interval_rules"):
            count = sum(len(getattr(r, which)) for r in rules) + 1  # the runner's marker rule
            if count > ENGINE_MAX_RULES:
                self.error(f"the rules compile to {count} engine rules; durable-rules takes at most "
                           f"{ENGINE_MAX_RULES} in one ruleset", self.tree.rules[0].id_span,
                           "split the protocol into several rules files")
        header = self.tree.header
        return CompiledProtocol(
            name=header.name if header else "",
            registry=header.registry if header else None,
            filename=self.filename,
            events=self.events,
            subject_attributes=self.attributes,
            parameters={name: self._param_value(p) for name, p in self.params.items()},
            rules=tuple(rules),
            plan=FactPlan(
                events=frozenset(self.plan_events),
                counts=frozenset(self.plan_counts),
                group_firsts=frozenset(self.plan_groups),
                ranks=frozenset(self.plan_ranks),
                subject=self.plan_subject,
                windows=frozenset(self.plan_windows),
                groups=tuple(sorted((g, m, frozenset(self.group_reads[g])) for g, m in self.groups.items()
                                    if g in self.plan_events)),
                rank_depth=tuple(sorted(self.rank_depth.items())),
            ),
            criteria=self.criteria,
            choices=tuple(
                [Choice(f"parameter {p.name}", p.span.line, p.choice) for p in self.tree.parameters if p.choice]
                + [Choice(r.id, r.span.line, text) for r in self.tree.rules for text in r.choices]),
            groups=self.groups,
            warnings=tuple(d for d in self.diagnostics if d.severity != "error"),
            tree=self.tree,
            source="\n".join(self.source_lines),
        )

    def _declare_criteria(self) -> None:
        for decl in self.tree.criteria:
            if decl.id in self.criteria:
                self.error(f"criterion {decl.id} is declared twice", decl.id_span,
                           f"the first {decl.id} is at line {self.criteria[decl.id].line}")
                continue
            self.criteria[decl.id] = CriterionSpec(decl.id, decl.text, decl.manual, decl.id_span.line)

    def _declare_groups(self) -> None:
        for decl in self.tree.groups:
            if decl.name in self.events:
                self.error(f"'{decl.name}' already names an event type", decl.span)
                continue
            members: list[str] = []
            for member, span in decl.members:
                event = self.events.get(member)
                if event is None:
                    self.diagnostics.append(self._unknown_event(member, span).diagnostic)
                elif event.trial_level:
                    self.error(f"{member} is a trial event; a group gathers a subject's records", span)
                elif member in members:
                    self.error(f"{member} is listed twice in group {decl.name}", span)
                else:
                    members.append(member)
            self.groups[decl.name] = tuple(members)
            fields = {"type": FieldSpec("type", "text", None, True)}
            self.events[decl.name] = EventSpec(decl.name, decl.label, False, fields)

    def _declare_events(self) -> None:
        for decl in self.tree.events:
            if decl.name in self.events:
                self.error(f"event {decl.name} is declared twice", decl.span)
                continue
            if decl.name.startswith("$") or decl.name == "subject":
                self.error(f"'{decl.name}' cannot name an event", decl.span)
            fields: dict[str, FieldSpec] = {}
            for f in decl.fields:
                if f.name in fields:
                    self.error(f"field {f.name} is declared twice in event {decl.name}", f.span)
                if f.name in RESERVED_FIELDS or f.name.endswith("__known") or "__" in f.name:
                    self.error(f"'{f.name}' is reserved and cannot name a field", f.span,
                               "every record already has a date; pick another name" if f.name == "date"
                               else "the audit uses this name itself; pick another name")
                if f.type not in FIELD_TYPES:
                    self.error(f"unknown field type '{f.type}'", f.type_span,
                               did_you_mean(f.type, FIELD_TYPES) or f"types are {', '.join(FIELD_TYPES)}")
                elif f.unit and f.type not in ("decimal", "integer"):
                    self.error(f"only numbers carry a unit; {f.name} is {f.type}", f.span)
                fields[f.name] = FieldSpec(f.name, f.type, f.unit, f.required)
                if f.unit:
                    self.units.add(f.unit)
            self.events[decl.name] = EventSpec(decl.name, decl.label, decl.trial_level, fields)
            properties = _FACT_BASE_PROPERTIES + sum(_PROPERTIES_PER_FIELD.get(f.type, 2) for f in fields.values())
            if properties > ENGINE_MAX_PROPERTIES:
                self.error(f"event {decl.name} has too many fields for the engine: its records would carry "
                           f"{properties} properties, and durable-rules takes at most {ENGINE_MAX_PROPERTIES}",
                           decl.span, "split it into two event types (a date field counts 7, another field 2)")

    def _declare_attributes(self) -> None:
        for decl in self.tree.subject_attributes:
            event = self.events.get(decl.event)
            if event is None:
                self.diagnostics.append(self._unknown_event(decl.event, decl.source_span).diagnostic)
                continue
            if event.trial_level:
                self.error(f"{decl.event} is a trial event; a subject attribute needs a subject's record",
                           decl.source_span)
            spec = event.fields.get(decl.field)
            if spec is None:
                self.diagnostics.append(self._unknown_field(decl.event, decl.field, decl.source_span).diagnostic)
                continue
            if spec.type not in ("integer", "text", "boolean"):
                self.error(f"a subject attribute must be an integer, text or boolean field; "
                           f"{decl.event}.{decl.field} is {spec.type}", decl.source_span)
            if decl.name in self.attributes:
                self.error(f"subject attribute {decl.name} is declared twice", decl.span)
            self.attributes[decl.name] = (decl.event, decl.field)

    def _declare_parameters(self) -> None:
        for decl in self.tree.parameters:
            if decl.name in self.params:
                self.error(f"parameter {decl.name} is declared twice", decl.span)
            if decl.key_attribute is not None:
                if decl.key_attribute not in self.attributes:
                    self.error(f"unknown subject attribute '{decl.key_attribute}'", decl.span,
                               did_you_mean(decl.key_attribute, self.attributes.keys()))
                units = {e.value.unit for e in decl.entries}
                if len(units) > 1:
                    self.error(f"the entries of {decl.name} mix units: {', '.join(sorted(map(str, units)))}",
                               decl.span)
                keys = [e.key for e in decl.entries]
                for entry, key in zip(decl.entries, keys):
                    if keys.count(key) > 1:
                        self.error(f"key {key} appears twice in {decl.name}", entry.span)
                        break
            self.params[decl.name] = decl

    def _param_value(self, decl: n.ParamDecl) -> object:
        """A parameter's value for messages, as the rules text writes it (`5.0 mIU/L`, `1e6 cells/kg`)."""
        if decl.value is not None:
            return self._written(decl.value)
        return {str(e.key): self._written(e.value) for e in decl.entries}

    def _written(self, q: n.Quantity) -> str:
        text = " ".join(self._text_of(q.span).split())
        return text.replace(" %", "%") if text else _quantity_text(q)

    def _use_subject(self) -> None:
        self.plan_subject = True
        self.plan_events.update(event for event, _ in self.attributes.values())

    def _unknown_event(self, name: str, span: Span) -> _Unsupported:
        return _Unsupported(f"unknown event type '{name}'", span, did_you_mean(name, self.events.keys()))

    def _unknown_field(self, event: str, name: str, span: Span) -> _Unsupported:
        fields = list(self.events[event].fields) + ["date"]
        return _Unsupported(f"event {event} has no field '{name}'", span, did_you_mean(name, fields))

    # --- rules ---
    def _compile_rule(self, rule: n.Rule) -> CompiledRule:
        check = rule.check
        source = check.source
        severity = rule.severity or "major"
        if rule.severity is not None and rule.severity not in SEVERITIES:
            self.error(f"unknown severity '{rule.severity}'", rule.severity_span,
                       did_you_mean(rule.severity, SEVERITIES) or f"use one of {', '.join(SEVERITIES)}")
        if not rule.criteria and rule.cites is None:
            self.diagnostics.append(Diagnostic(f"rule {rule.id} cites nothing", rule.id_span,
                                               "say what it enforces: cites CRITERION-ID, or cites \"protocol text\"",
                                               severity="warning"))
        for cid, span in rule.criteria:
            if cid not in self.criteria:
                self.error(f"unknown criterion '{cid}'", span,
                           did_you_mean(cid, self.criteria.keys()) or "declare it: criterion ID \"text\"")
        trigger_pattern, level = self._trigger(source)
        if source.event in self.groups:
            self.group_reads[source.event].add(source.form if source.form in ("first", "last") else "all")
        alias_name = source.event
        scope = _Scope(trigger=source, trigger_alias=alias_name)
        state = _RuleState(scope=scope, level=level)
        verdict = check.verdict

        where = self._lower_cond(check.where, state) if check.where else [()]
        exists_pattern = None
        if verdict.exists_event:
            exists_pattern = self._exists_pattern(verdict.exists_event, verdict.exists_span or verdict.span,
                                                  level, state, "x")
        scope.exists_event = verdict.exists_event
        scope.in_exists = verdict.exists_event is not None
        body = self._lower_cond(verdict.cond, state) if verdict.cond else [()]
        scope.in_exists = False
        due_tests: list[Test] = []
        due_value: Value | None = None
        if verdict.due is not None:
            due_value = self._value(verdict.due, state)
            due_tests = self._due_tests(verdict.due, state)
        clauses: list[tuple[str, int, Pattern, list[Conj], str]] = []
        for index, clause in enumerate(check.needs + check.excuses, start=1):
            role = "needs" if isinstance(clause, n.Need) else "excused"
            alias = f"{role[0]}{index}"
            pattern = self._exists_pattern(clause.event, clause.event_span, level, state, alias)
            scope.exists_event, scope.in_exists, scope.inner_alias = clause.event, True, alias
            conjs = self._lower_cond(clause.cond, state) if clause.cond else [()]
            scope.exists_event, scope.in_exists, scope.inner_alias = verdict.exists_event, False, "x"
            reason = ""
            if isinstance(clause, n.Need):
                reason = clause.reason or self._need_reason(clause)
            clauses.append((role, index, pattern, conjs, reason))

        anchors = [a for a in state.anchors.values() if a.alias != "cutoff"]
        base = (trigger_pattern,)
        full = base + tuple(anchors)
        if exists_pattern:
            full += (exists_pattern,)
        keep = (exists_pattern.alias,) if exists_pattern else ()
        engine_rules: list[EngineRule] = []
        interval_rules: list[EngineRule] = []
        counter = itertools.count(1)

        def emit(role: str, patterns: tuple[Pattern, ...], tests: tuple[Test, ...], keep: tuple[str, ...] = (),
                 reason: str | None = None, need: int = 0) -> None:
            """Append an engine rule for full dates, and its interval twin for sessions with partial dates."""
            number = next(counter)
            engine_rules.append(EngineRule(f"{rule.id}#{role}{number}", role, _used(patterns, tests, keep=keep),
                                           tests, reason, need))
            bounded = _bounded(tests, POSSIBLE_ROLES.get(role, "certain"))
            interval_rules.append(EngineRule(f"{rule.id}#{role}{number}", role, _used(patterns, bounded, keep=keep),
                                             bounded, reason, need))
            if role in ("trigger", "covered", "deviation") and any(t.dated for t in tests):
                possible = _bounded(tests, "possible")
                interval_rules.append(EngineRule(f"{rule.id}#possible_{role}{number}", f"possible_{role}",
                                                 _used(patterns, possible, keep=keep), possible, reason, need))

        for conj in where:
            where_tests, where_reads = _flatten(conj)
            if where_reads:
                self.error("a 'where' filter can only read required fields", check.where.span if check.where else rule.span,
                           "records missing the field would be silently left out; test 'is known' in the check instead")
            emit("trigger", base + tuple(anchors), where_tests)
            if verdict.mode == "require" and verdict.due is not None:
                cutoff = Pattern("cutoff", "$cutoff")
                emit("due", base + tuple(anchors) + (cutoff,), where_tests + tuple(due_tests), keep=(cutoff.alias,))
            for body_conj in body:
                conj_all = conj + body_conj
                for variant_conj, lookup_tests in self._expand_lookups(conj_all):
                    tests, _ = _flatten(variant_conj)
                    emit("covered" if verdict.mode == "require" else "deviation", full, tests + lookup_tests, keep)
                for reason, tests in self._unknown_variants(conj_all, state):
                    emit("unknown", full, tests, keep, reason)
            anchored = due_value is not None and due_value.alias != "t"
            if anchored and clauses:
                # Whether the date the check falls due exists at all (its anchor record may not).
                assert due_value is not None
                emit("anchored", base + tuple(anchors), where_tests, keep=(due_value.alias or "",))
            for role, index, pattern, conjs, reason in clauses:
                pats = base + tuple(anchors) + (pattern,)
                for clause_conj in conjs:
                    for variant_conj, lookup_tests in self._expand_lookups(conj + clause_conj):
                        tests, _ = _flatten(variant_conj)
                        tests = tests + lookup_tests
                        if role == "excused" and due_value is not None:
                            # An excuse counts for a check that falls due on or after it, never for one
                            # already due before the subject left; without a due date, any excuse counts.
                            before = self._compare_dates(Value("date", rule.span, alias=pattern.alias, field="date"),
                                                         "<=", due_value, rule.span)
                            emit(role, pats, tests + before.tests, (pattern.alias,), None, index)
                            if anchored:
                                emit("unanchored_excuse", pats, tests, (pattern.alias,), None, index)
                            continue
                        emit(role, pats, tests, (pattern.alias,), reason or None, index)
        self.plan_events.add(source.event)
        message = rule.message or rule.title
        self._check_message(message, rule, state, verdict)
        return CompiledRule(
            id=rule.id,
            title=rule.title,
            severity=severity,
            category=rule.category or "other",
            cites=rule.cites,
            message=message,
            span=rule.span,
            mode=verdict.mode,
            level=level,
            trigger_event=source.event,
            exists_event=verdict.exists_event,
            engine_rules=tuple(_dedupe(engine_rules)),
            interval_rules=tuple(_dedupe(interval_rules)),
            has_due=verdict.due is not None,
            trigger_label=trigger_pattern.label + (f" where {self._text_of(check.where.span)}" if check.where else ""),
            criteria=tuple(c for c, _ in rule.criteria),
            important=bool(rule.important),
            choices=rule.choices,
            needs=tuple(reason for role, _, _, _, reason in clauses if role == "needs"),
            excuses=tuple(e.event for e in check.excuses),
            due_text=self._text_of(verdict.due.span) if verdict.due is not None else None,
        )

    def _need_reason(self, need: n.Need) -> str:
        if need.cond is None:
            return f"no {need.event} recorded"
        return f"no {need.event} recorded where {self._text_of(need.cond.span)}"

    def _text_of(self, span: Span) -> str:
        """The rules text a span covers, on one line."""
        lines = self.source_lines[span.line - 1:span.end_line]
        if not lines:
            return ""
        if len(lines) == 1:
            return lines[0][span.column - 1:span.end_column - 1]
        lines[-1] = lines[-1][:span.end_column - 1]
        lines[0] = lines[0][span.column - 1:]
        return " ".join(line.strip() for line in lines)

    def _trigger(self, source: n.Source) -> tuple[Pattern, str]:
        event = self.events.get(source.event)
        if event is None:
            raise self._unknown_event(source.event, source.event_span)
        if source.form == "each":
            return Pattern("t", source.event, label=source.event), "trial" if event.trial_level else "subject"
        if event.trial_level:
            raise _Unsupported(f"{source.event} is a trial event; only 'for each {source.event}' applies",
                               source.span)
        if source.form in ("first", "last"):
            seq = "seq" if source.form == "first" else "rseq"
            return Pattern("t", source.event, (Test("t", seq, "=", 1),), f"{source.form} {source.event}"), "subject"
        if source.form == "count" and source.period == "window":
            window = self._window(source)
            self.plan_windows.add(window)
            ident = (Test("t", "event", "=", source.event), Test("t", "period", "=", window.period))
            return Pattern("t", "$count", ident, f"{source.event} window after {window.which} {window.anchor}"), \
                "subject"
        if source.form == "count":
            period = {"subject": "subject", "day": "day"}.get(source.period or "", f"week-{source.week_start}")
            if source.week_start and source.week_start not in WEEKDAYS:
                raise _Unsupported(f"'{source.week_start}' is not a day of the week",
                                   source.week_start_span or source.span,
                                   did_you_mean(source.week_start, WEEKDAYS))
            self.plan_counts.add((source.event, source.period or "subject", source.week_start or ""))
            ident = (Test("t", "event", "=", source.event), Test("t", "period", "=", period))
            return Pattern("t", "$count", ident, f"count of {source.event} per {source.period}"), "subject"
        # group_first / group_last
        which = source.form.removeprefix("group_")
        attribute = source.attribute or ""
        if attribute not in self.attributes:
            raise _Unsupported(f"unknown subject attribute '{attribute}'", source.span,
                               did_you_mean(attribute, self.attributes.keys()))
        self.plan_groups.add((source.event, which, attribute))
        self._use_subject()
        ident = (Test("t", "event", "=", source.event), Test("t", "which", "=", which),
                 Test("t", "attribute", "=", attribute))
        return Pattern("t", "$group", ident, f"{which} {source.event} of each {attribute}"), "trial"

    def _window(self, source: n.Source) -> Window:
        assert source.anchor is not None and source.interval is not None and source.horizon is not None
        anchor = source.anchor
        event = self.events.get(anchor.event)
        if event is None:
            raise self._unknown_event(anchor.event, anchor.span)
        if event.trial_level:
            raise _Unsupported(f"{anchor.event} is a trial event; windows start from a subject's record", anchor.span)
        interval, horizon = self._constant_duration(source.interval), self._constant_duration(source.horizon)
        self.plan_events.add(anchor.event)
        return Window(source.event, anchor.which, anchor.event, interval.days, interval.months,
                      horizon.days, horizon.months)

    def _constant_duration(self, expr: n.Expr) -> Value:
        value: Value | None = None
        if isinstance(expr, n.Quantity):
            value = self._quantity(expr)
        elif isinstance(expr, n.NameRef) and expr.field is None and expr.name in self.params:
            self.used_params.add(expr.name)
            decl = self.params[expr.name]
            value = self._quantity(decl.value) if decl.value is not None else None
        if value is None or value.type != "duration":
            raise _Unsupported("a window's length is a duration, written or named by a parameter", expr.span,
                               "for example 3 months, or a parameter such as `parameter interval = 3 months`")
        if value.days and value.months or value.days + value.months <= 0:
            raise _Unsupported("a window's length is a positive number of days, weeks, months or years", expr.span)
        return value

    def _exists_pattern(self, name: str, span: Span, level: str, state: _RuleState, alias: str) -> Pattern:
        event = self.events.get(name)
        if event is None:
            raise self._unknown_event(name, span)
        event_level = "trial" if event.trial_level else "subject"
        if event_level != level:
            raise _Unsupported(
                f"this rule is checked per {level}, but {name} is a {event_level}-level event", span,
                "subject-level rules read a subject's records; trial-level rules read trial events and group facts")
        if name == state.scope.trigger.event:
            raise _Unsupported(f"the record sought and the record checked are both {name}", span,
                               "name a different event type")
        self.plan_events.add(name)
        if name in self.groups:
            self.group_reads[name].add("all")
        return Pattern(alias, name, label=name)

    def _due_tests(self, expr: n.Expr, state: _RuleState) -> list[Test]:
        value = self._value(expr, state)
        if value.type != "date":
            raise _Unsupported("'judged from' needs a date", expr.span)
        cutoff = Value("date", expr.span, alias="cutoff", field="date")
        state.anchors.setdefault(("cutoff",), Pattern("cutoff", "$cutoff"))
        atom = self._compare_dates(cutoff, ">=", value, expr.span)
        return list(atom.tests)

    # --- message placeholders ---
    def _check_message(self, message: str, rule: n.Rule, state: _RuleState, verdict: n.Verdict) -> None:
        for match in re.finditer(r"\{([^{}]*)\}", message):
            text = match.group(1).strip()
            parts = text.split(".")
            ok = False
            if len(parts) == 1:
                ok = text in self.params or text in self._trigger_fields(state.scope.trigger)
                if text in self.params:
                    self.used_params.add(text)
            elif len(parts) == 2:
                record, fname = parts
                if record == state.scope.trigger.event and state.scope.trigger.form != "count":
                    ok = fname in self._trigger_fields(state.scope.trigger)
                elif record == verdict.exists_event and verdict.mode == "forbid":
                    ok = fname in self.events[record].fields or fname == "date"
            if not ok and rule.message_span:
                self.error(f"the message names '{{{text}}}', which this rule cannot fill in", rule.message_span,
                           "use a parameter, a field of the record checked, or (for 'forbid a ...') record.field")

    def _trigger_fields(self, source: n.Source) -> set[str]:
        if source.form == "count":
            return {"count", "date", "end", "window"} if source.period == "window" else {"count", "date"}
        if source.form.startswith("group_"):
            return {"date", source.attribute or ""}
        return set(self.events[source.event].fields) | {"date"}

    # --- names and values ---
    def _value(self, expr: n.Expr, state: _RuleState) -> Value:
        if isinstance(expr, n.Quantity):
            return self._quantity(expr)
        if isinstance(expr, n.Text):
            return Value("text", expr.span, const=expr.value)
        if isinstance(expr, n.Boolean):
            return Value("boolean", expr.span, const=expr.value)
        if isinstance(expr, n.Arith):
            return self._arith(expr, state)
        if isinstance(expr, n.Elapsed):
            start, end = self._value(expr.start, state), self._value(expr.end, state)
            clock = expr.unit in ("hours", "minutes")
            for v in (start, end):
                if clock and (v.type != "time" or not v.is_ref):
                    raise _Unsupported(f"'{expr.unit} from ... to ...' needs two clock-time fields", v.span,
                                       "declare them with the type time (HH:MM)")
                if not clock and (v.type != "date" or not v.is_ref or v.days or v.months):
                    raise _Unsupported(f"'{expr.unit} from ... to ...' needs two record dates", v.span)
            return Value("elapsed", expr.span, unit=expr.unit, elapsed=(start, end))
        if isinstance(expr, n.Lookup):
            decl = self.params.get(expr.table)
            self.used_params.add(expr.table)
            if decl is None or decl.key_attribute is None:
                raise _Unsupported(f"'{expr.table}' is not a table parameter", expr.span,
                                   did_you_mean(expr.table, [p for p, d in self.params.items() if d.key_attribute]))
            key = self._value(expr.key, state)
            if not key.is_ref:
                raise _Unsupported("a table is looked up by a field or subject attribute", expr.key.span)
            unit = decl.entries[0].value.unit if decl.entries else None
            return Value("number", expr.span, unit=unit, lookup=(expr.table, key))
        if isinstance(expr, n.AnchorRef):
            return self._anchor(expr, state)
        if isinstance(expr, n.RankedRef):
            return self._ranked(expr, state)
        return self._name(expr, state)

    def _quantity(self, q: n.Quantity) -> Value:
        if q.unit is not None and q.unit != "%" and q.unit not in DURATION_UNITS and q.unit not in self.units:
            known = sorted(set(DURATION_UNITS) | self.units)
            raise _Unsupported(f"unknown unit '{q.unit}'", q.span,
                               did_you_mean(q.unit, known) or "units are durations (days, weeks, months, years), "
                               "% or a unit declared on a field")
        if q.unit is None:
            return Value("number", q.span, const=q.value)
        if q.unit == "%":
            return Value("percent", q.span, const=q.value)
        if q.unit in DURATION_UNITS:
            base, factor = DURATION_UNITS[q.unit]
            if q.value != q.value.to_integral_value():
                raise _Unsupported(f"a duration must be a whole number of {q.unit}", q.span)
            amount = int(q.value) * factor
            return Value("duration", q.span, unit=base, days=amount if base == "days" else 0,
                         months=amount if base == "months" else 0)
        return Value("number", q.span, const=q.value, unit=q.unit)

    def _arith(self, expr: n.Arith, state: _RuleState) -> Value:
        left, right = self._value(expr.left, state), self._value(expr.right, state)
        if expr.op == "*":
            return self._multiply(left, right, expr.span)
        sign = 1 if expr.op == "+" else -1
        if left.type == "date" and right.type == "duration":
            return replace(left, span=expr.span, days=left.days + sign * right.days,
                           months=left.months + sign * right.months)
        if left.type == "duration" and right.type == "duration" and left.unit == right.unit:
            return replace(left, span=expr.span, days=left.days + sign * right.days,
                           months=left.months + sign * right.months)
        if left.type == "number" and right.type == "number" and left.unit == right.unit and not right.is_ref \
                and right.lookup is None and left.lookup is None:
            if left.is_ref:
                raise _Unsupported("arithmetic on a field is limited to dates plus or minus a duration", expr.span)
            return Value("number", expr.span, const=left.const + sign * right.const, unit=left.unit)  # type: ignore[operator]
        raise _Unsupported(f"cannot {'add' if sign > 0 else 'subtract'} {_describe(right)} "
                           f"{'to' if sign > 0 else 'from'} {_describe(left)}", expr.span)

    def _multiply(self, left: Value, right: Value, span: Span) -> Value:
        """`2 * uln`: a whole, unitless number times a number (a field, or another constant)."""
        if right.type == "number" and not right.is_ref and right.lookup is None and right.unit is None:
            left, right = right, left
        if left.type != "number" or left.is_ref or left.lookup is not None or left.unit is not None:
            raise _Unsupported("a product is a plain number times a number, e.g. 2 * uln", span)
        if right.type != "number" or right.lookup is not None:
            raise _Unsupported(f"cannot multiply {_describe(right)}", span)
        if not right.is_ref:
            return Value("number", span, const=left.const * right.const, unit=right.unit)  # type: ignore[operator]
        if left.const != left.const.to_integral_value() or left.const <= 0:  # type: ignore[union-attr]
            raise _Unsupported("a field can be multiplied by a positive whole number only", span,
                               "the engine compares whole numbers exactly; 2.5 * uln cannot be compared exactly")
        return replace(right, span=span, factor=right.factor * int(left.const))  # type: ignore[arg-type]

    def _name(self, ref: n.NameRef, state: _RuleState) -> Value:
        scope = state.scope
        if ref.field is not None:
            record = ref.name
            if scope.in_exists and record == scope.exists_event:
                return self._field(scope.inner_alias, record, ref.field, ref.span)
            if record == scope.trigger.event:
                return self._trigger_field(ref.field, ref.span, state)
            if record == "subject":
                return self._attribute(ref.field, ref.span, state)
            known = [scope.trigger.event] + ([scope.exists_event] if scope.in_exists and scope.exists_event else [])
            raise _Unsupported(f"'{record}' is not a record this rule can read", ref.span,
                               did_you_mean(record, known) or f"this rule reads {', '.join(known)}")
        name = ref.name
        if scope.in_exists and scope.exists_event:
            event = self.events[scope.exists_event]
            if name in event.fields or name == "date":
                return self._field(scope.inner_alias, scope.exists_event, name, ref.span)
        if name in self._trigger_fields(scope.trigger):
            return self._trigger_field(name, ref.span, state)
        if name in self.attributes:
            return self._attribute(name, ref.span, state)
        if name in self.params:
            self.used_params.add(name)
            decl = self.params[name]
            if decl.value is None:
                raise _Unsupported(f"{name} is a table; look it up with {name}[{decl.key_attribute}]", ref.span)
            value = self._quantity(decl.value)
            return replace(value, span=ref.span)
        choices = set(self._trigger_fields(scope.trigger)) | set(self.attributes) | set(self.params)
        if scope.in_exists and scope.exists_event:
            choices |= set(self.events[scope.exists_event].fields)
        raise _Unsupported(f"unknown name '{name}'", ref.span,
                           did_you_mean(name, choices) or "declare it as a field, subject attribute or parameter")

    def _trigger_field(self, name: str, span: Span, state: _RuleState) -> Value:
        source = state.scope.trigger
        if source.form == "count":
            if name in ("count", "window"):
                return Value("number", span, alias="t", field=name)
            return Value("date", span, alias="t", field=name)
        if source.form.startswith("group_"):
            if name == source.attribute:
                event, fname = self.attributes[name]
                spec = self.events[event].fields[fname]
                return self._typed_ref("t", "group", spec, span, optional=False)
            return Value("date", span, alias="t", field="date")
        return self._field("t", source.event, name, span)

    def _field(self, alias: str, event: str, name: str, span: Span) -> Value:
        if name == "date":
            return Value("date", span, alias=alias, field="date")
        spec = self.events[event].fields.get(name)
        if spec is None:
            raise self._unknown_field(event, name, span)
        return self._typed_ref(alias, name, spec, span, optional=not spec.required)

    def _typed_ref(self, alias: str, fname: str, spec: FieldSpec, span: Span, optional: bool) -> Value:
        if spec.type == "date":
            return Value("date", span, alias=alias, field=fname, optional=optional)
        if spec.type == "time":
            return Value("time", span, alias=alias, field=fname, optional=optional)
        if spec.type in ("integer", "decimal"):
            scale = DECIMAL_SCALE if spec.type == "decimal" else 1
            return Value("number", span, alias=alias, field=fname, scale=scale, unit=spec.unit, optional=optional)
        return Value(spec.type, span, alias=alias, field=fname, optional=optional)

    def _attribute(self, name: str, span: Span, state: _RuleState) -> Value:
        if name not in self.attributes:
            raise _Unsupported(f"unknown subject attribute '{name}'", span, did_you_mean(name, self.attributes.keys()))
        if state.level != "subject":
            raise _Unsupported(f"a trial-level rule cannot read the subject attribute {name}", span)
        self._use_subject()
        state.anchors.setdefault(("subject",), Pattern("subject", "$subject", label="subject"))
        event, fname = self.attributes[name]
        return self._typed_ref("subject", name, self.events[event].fields[fname], span, optional=True)

    def _anchor(self, ref: n.AnchorRef, state: _RuleState) -> Value:
        event = self.events.get(ref.event)
        if event is None:
            raise self._unknown_event(ref.event, ref.span)
        if event.trial_level or state.level != "subject":
            raise _Unsupported(f"'{ref.which} {ref.event}' is a subject's record; this rule is trial-level"
                               if state.level != "subject" else f"{ref.event} is a trial event", ref.span)
        source = state.scope.trigger
        self.plan_events.add(ref.event)
        if ref.event in self.groups:
            self.group_reads[ref.event].add(ref.which)
        if source.form == ref.which and source.event == ref.event:
            alias = "t"
        else:
            alias = f"{ref.which[0]}_{ref.event}"
            seq = "seq" if ref.which == "first" else "rseq"
            state.anchors.setdefault((ref.which, ref.event),
                                     Pattern(alias, ref.event, (Test(alias, seq, "=", 1),), f"{ref.which} {ref.event}"))
        return self._field(alias, ref.event, ref.field or "date", ref.span)

    def _ranked(self, ref: n.RankedRef, state: _RuleState) -> Value:
        source = state.scope.trigger
        if not source.form.startswith("group_") or source.attribute != ref.attribute:
            raise _Unsupported(f"'the {ref.rank}th subject's ...' needs a rule checked per {ref.attribute} group",
                               ref.span, f"check it 'for first <event> of each {ref.attribute}'")
        if ref.field not in (None, "date"):
            raise _Unsupported("a ranked subject's record offers only its date", ref.span)
        if ref.event not in self.events or self.events[ref.event].trial_level:
            raise _Unsupported(f"'{ref.event}' is not a subject-level event type", ref.span,
                               did_you_mean(ref.event, self.events.keys()))
        if ref.relation == "previous":
            event, fname = self.attributes[ref.attribute]
            if self.events[event].fields[fname].type != "integer":
                raise _Unsupported(f"'the previous {ref.attribute}' needs whole-number groups; "
                                   f"{event}.{fname} is {self.events[event].fields[fname].type}", ref.span)
        key = (ref.event, ref.which, ref.attribute)
        self.plan_ranks.add(key)
        self.rank_depth[key] = max(self.rank_depth.get(key, 0), ref.rank)
        self.plan_events.add(ref.event)
        self._use_subject()
        alias = f"r{ref.rank}_{ref.which}_{ref.event}_{ref.relation}"
        shift = 1 if ref.relation == "previous" else 0
        ident = (Test(alias, "event", "=", ref.event), Test(alias, "which", "=", ref.which),
                 Test(alias, "attribute", "=", ref.attribute), Test(alias, "rank", "=", ref.rank),
                 Test(alias, "group", "=", other="t", other_field="group", offset=-shift))
        state.anchors.setdefault(("rank", alias), Pattern(alias, "$rank", ident,
                                                          f"{ref.which} {ref.event} of the {ref.rank} subject"))
        return Value("date", ref.span, alias=alias, field="date")

    # --- conditions ---
    def _lower_cond(self, cond: n.Cond, state: _RuleState, negate: bool = False) -> list[Conj]:
        """Lower to disjunctive normal form: a list of conjunctions of atoms."""
        if isinstance(cond, n.Not):
            return self._lower_cond(cond.item, state, not negate)
        if isinstance(cond, (n.And, n.Or)):
            parts = [self._lower_cond(c, state, negate) for c in cond.items]
            conjunctive = isinstance(cond, n.And) != negate
            if conjunctive:
                return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
            return [conj for part in parts for conj in part]
        try:
            return [(atom,) for atom in self._atoms(cond, state, negate)]
        except _Unsupported as exc:
            # Record it and read the condition as true, so that the rest of the rule is checked too.
            self.diagnostics.append(exc.diagnostic)
            return [()]

    def _atoms(self, cond: n.Cond, state: _RuleState, negate: bool) -> list[Atom]:
        """A leaf condition as alternatives (each an Atom of tests that hold together)."""
        if isinstance(cond, n.Compare):
            left, right = self._value(cond.left, state), self._value(cond.right, state)
            op = NEGATE[cond.op] if negate else cond.op
            if op == "!=" and left.type in ("date", "number", "elapsed") or (op == "=" and left.type == "elapsed"):
                below = self._compare(left, "<", right, cond.span)
                above = self._compare(left, ">", right, cond.span)
                return [below, above] if op == "!=" else [self._both(self._compare(left, ">=", right, cond.span),
                                                                      self._compare(left, "<=", right, cond.span))]
            return [self._compare(left, op, right, cond.span)]
        if isinstance(cond, n.Truthy):
            value = self._value(cond.subject, state)
            if value.type != "boolean" or not value.is_ref:
                raise _Unsupported(f"{_describe(value)} is not a yes/no field", cond.span,
                                   "compare it, e.g. 'x > 0' or 'x = \"text\"'")
            const = Value("boolean", cond.span, const=not negate)
            return [self._compare(value, "=", const, cond.span)]
        if isinstance(cond, n.Known):
            value = self._value(cond.subject, state)
            if not value.is_ref:
                raise _Unsupported("only a field can be known or missing", cond.span)
            known = cond.known != negate
            if not value.optional:
                raise _Unsupported(f"{value.field} is always known", cond.span,
                                   "it is required, or the record's date")
            return [Atom((Test(value.alias or "", f"{value.field}__known", "=", 1 if known else 0),), frozenset(), (), cond.span)]
        if isinstance(cond, n.Member):
            value = self._value(cond.subject, state)
            different = cond.negated != negate
            atoms = [self._compare(value, "!=" if different else "=", self._value(v, state), cond.span)
                     for v in cond.values]
            if different:
                return [functools.reduce(self._both, atoms)]
            return atoms
        if isinstance(cond, n.Between):
            subject = self._value(cond.subject, state)
            low, high = self._value(cond.low, state), self._value(cond.high, state)
            return self._range(subject, low, high, negate, cond.span)
        if isinstance(cond, n.Within):
            return self._within(cond, state, negate)
        raise _Unsupported("this condition is not supported here", cond.span)  # pragma: no cover

    def _within(self, cond: n.Within, state: _RuleState, negate: bool) -> list[Atom]:
        subject = self._value(cond.subject, state)
        width = self._value(cond.width, state)
        anchor = self._value(cond.anchor, state)
        if width.type == "duration":
            if subject.type != "date" or anchor.type != "date":
                raise _Unsupported("a window of time needs dates on both sides", cond.span)
            low = anchor if cond.relation == "after" else _shift(anchor, width, -1)
            high = anchor if cond.relation == "before" else _shift(anchor, width, +1)
            return self._range(subject, low, high, negate, cond.span)
        if width.type == "percent":
            if cond.relation != "of":
                raise _Unsupported("a percentage tolerance reads 'within P % of VALUE'", cond.span)
            if anchor.type != "number" or anchor.is_ref:
                raise _Unsupported("a percentage tolerance needs a constant or table value", cond.anchor.span)
            fraction = width.const / Decimal(100)  # type: ignore[operator]
            if anchor.lookup:
                # A table value: the factor rides in `const` until the table is expanded per key.
                low = replace(anchor, const=Decimal(1) - fraction)
                high = replace(anchor, const=Decimal(1) + fraction)
            else:
                low = replace(anchor, const=anchor.const * (1 - fraction))  # type: ignore[operator]
                high = replace(anchor, const=anchor.const * (1 + fraction))  # type: ignore[operator]
            return self._range(subject, low, high, negate, cond.span)
        if width.type == "number" and not width.is_ref and cond.relation == "of":
            if anchor.type != "number" or anchor.is_ref or anchor.lookup:
                raise _Unsupported("an absolute tolerance needs a constant value", cond.anchor.span)
            if width.unit != anchor.unit and width.unit is not None:
                raise _Unsupported(f"unit mismatch: a tolerance in {width.unit} around {_describe(anchor)}",
                                   cond.width.span)
            low = replace(anchor, const=anchor.const - width.const)  # type: ignore[operator]
            high = replace(anchor, const=anchor.const + width.const)  # type: ignore[operator]
            return self._range(subject, low, high, negate, cond.span)
        raise _Unsupported(f"'within' takes a duration, a percentage or an amount, not {_describe(width)}",
                           cond.width.span)

    def _range(self, subject: Value, low: Value, high: Value, negate: bool, span: Span) -> list[Atom]:
        same_date = low.type == high.type == "date" and (low.alias, low.field) == (high.alias, high.field)
        if same_date and low.months == high.months and low.days > high.days or \
                same_date and low.days == high.days and low.months > high.months or \
                low.type == high.type == "number" and not low.is_ref and not high.is_ref \
                and low.lookup is None and high.lookup is None and low.const > high.const:  # type: ignore[operator]
            raise _Unsupported("this window can never match: it starts after it ends", span,
                               "put the earlier bound first")
        if negate:
            return [self._compare(subject, "<", low, span), self._compare(subject, ">", high, span)]
        return [self._both(self._compare(subject, ">=", low, span), self._compare(subject, "<=", high, span))]

    @staticmethod
    def _both(a: Atom, b: Atom) -> Atom:
        return Atom(a.tests + b.tests, a.reads | b.reads, a.lookups + b.lookups, a.span)

    def _compare(self, left: Value, op: str, right: Value, span: Span) -> Atom:
        if left.type == "elapsed" or right.type == "elapsed":
            if right.type == "elapsed":
                left, right, op = right, left, FLIP[op]
            return self._compare_elapsed(left, op, right, span)
        if left.type == "date" or right.type == "date":
            return self._compare_dates(left, op, right, span)
        if left.type == "time" and right.type == "time":
            if not (left.is_ref and right.is_ref):
                raise _Unsupported("a clock time is compared with another clock-time field", span)
            return Atom((self._join_test(left, op, right, 0),), _reads(left, right), (), span)
        if left.type != right.type:
            hint = None
            if {left.type, right.type} == {"number", "duration"}:
                hint = ("a count or an amount is compared with a number; time between two dates reads "
                        "`days from A to B`")
            raise _Unsupported(f"cannot compare {_describe(left)} with {_describe(right)}", span, hint)
        if left.type in ("text", "boolean"):
            if op not in ("=", "!="):
                raise _Unsupported(f"{left.type} values can only be equal or different", span)
            return self._compare_plain(left, op, right, span)
        if left.type == "number":
            if left.unit != right.unit and left.unit is not None and right.unit is not None:
                raise _Unsupported(f"unit mismatch: {left.unit} against {right.unit}", span)
            if left.unit != right.unit:
                unit = left.unit or right.unit
                missing = right if right.unit is None else left
                if missing.is_ref or missing.lookup:
                    raise _Unsupported(f"unit mismatch: {unit} against a plain number", span)
            return self._compare_numbers(left, op, right, span)
        raise _Unsupported(f"cannot compare {_describe(left)} with {_describe(right)}", span)

    def _compare_plain(self, left: Value, op: str, right: Value, span: Span) -> Atom:
        if not left.is_ref:
            left, right, op = right, left, FLIP[op]
        if not left.is_ref:
            raise _Unsupported("this comparison has no field in it", span)
        reads = _reads(left, right)
        if right.is_ref:
            return Atom((self._join_test(left, op, right, 0),), reads, (), span)
        const: int | str = int(right.const) if left.type == "boolean" else str(right.const)
        return Atom((Test(left.alias or "", left.field or "", op, const),), reads, (), span)

    def _compare_numbers(self, left: Value, op: str, right: Value, span: Span) -> Atom:
        if not left.is_ref:
            left, right, op = right, left, FLIP[op]
        if not left.is_ref:
            raise _Unsupported("this comparison has no field in it", span)
        if left.factor != 1 and right.is_ref:
            left, right, op = right, left, FLIP[op]
        reads = _reads(left, right, *([right.lookup[1]] if right.lookup else []))
        if right.is_ref:
            if right.scale != left.scale:
                raise _Unsupported("cannot compare a decimal field with an integer field", span)
            if left.factor != 1 or right.factor != 1 and right.alias != left.alias:
                raise _Unsupported("a multiplied field is compared with a field of the same record", span)
            return Atom((self._join_test(left, op, right, 0),), reads, (), span)
        if left.factor != 1:
            if right.lookup:
                raise _Unsupported("a multiplied field cannot be compared with a table value", span)
            right = replace(right, const=Decimal(right.const) / left.factor)  # type: ignore[arg-type]
        if right.lookup:
            # Resolved per table key later; carry the factor in `const`.
            return Atom((), reads, ((op, replace(right, scale=left.scale, alias=None), left),), span)
        return Atom((_scaled_test(left, op, Decimal(right.const) * left.scale),), reads, (), span)  # type: ignore[arg-type]

    def _compare_dates(self, left: Value, op: str, right: Value, span: Span) -> Atom:
        if left.type != "date" or right.type != "date":
            raise _Unsupported(f"cannot compare {_describe(left)} with {_describe(right)}", span)
        if not (left.is_ref and right.is_ref):
            raise _Unsupported("a date is compared with another record's date", span)
        if left.months and right.months:
            raise _Unsupported("calendar months can be added on one side of a comparison only", span)
        if (left.months or right.months) and (left.days or right.days):
            raise _Unsupported("cannot mix days and calendar months in one comparison", span)
        if right.months == 0 and left.months:
            left, right, op = right, left, FLIP[op]
        reads = _reads(left, right)
        if right.months:
            # `left OP right + k months`: left is a real date, right shifted may be 31 February.
            lfield = f"{left.field}__cal" if op in ("<=", ">", "=", "!=") else f"{left.field}__calhi"
            offset = right.months * MONTH
            lval = replace(left, field=lfield, days=0)
            rval = replace(right, field=f"{right.field}__cal", months=0)
            return Atom((self._join_test(lval, op, rval, offset),), reads, (), span)
        offset = right.days - left.days
        return Atom((self._join_test(replace(left, days=0), op, replace(right, days=0), offset),), reads, (), span)

    def _compare_elapsed(self, left: Value, op: str, right: Value, span: Span) -> Atom:
        assert left.elapsed is not None
        start, end = left.elapsed
        unit = left.unit or "years"
        if unit in ("hours", "minutes"):
            if right.type != "number" or right.is_ref:
                raise _Unsupported(f"compare {unit} with a number of {unit}", right.span)
            amount = _elapsed_amount(right, unit)
            seconds = 3600 if unit == "hours" else 60
            threshold = _threshold(op, amount) * seconds
            return Atom((self._join_test(end, _threshold_op(op), start, threshold),), _reads(start, end), (), span)
        if unit in ("days", "weeks"):
            if right.type not in ("duration", "number") or right.is_ref:
                raise _Unsupported(f"compare {unit} with a number of {unit}", right.span)
            amount = _elapsed_amount(right, unit)
            # whole weeks >= N  <=>  days >= 7N
            factor = 7 if unit == "weeks" else 1
            threshold = _threshold(op, amount) * factor
            return Atom((self._join_test(end, _threshold_op(op), start, threshold),), _reads(start, end), (), span)
        if right.type not in ("duration", "number") or right.is_ref:
            raise _Unsupported(f"compare {unit} with a number of {unit}", right.span)
        amount = _elapsed_amount(right, unit)
        step = YEAR if unit == "years" else MONTH
        threshold = _threshold(op, amount) * step
        lval = replace(end, field=f"{end.field}__cal")
        rval = replace(start, field=f"{start.field}__cal")
        return Atom((self._join_test(lval, _threshold_op(op), rval, threshold),), _reads(start, end), (), span)

    @staticmethod
    def _join_test(left: Value, op: str, right: Value, offset: int) -> Test:
        """`left OP right + offset`; `_place` later moves it onto whichever pattern comes last."""
        return Test(left.alias or "", left.field or "", op, other=right.alias, other_field=right.field, offset=offset,
                    factor=right.factor, dated=left.type == "date" and right.type == "date")

    # --- variants ---
    def _expand_lookups(self, conj: Conj) -> Iterator[tuple[Conj, tuple[Test, ...]]]:
        """One conjunction per table key when the conjunction looks a value up in a table."""
        lookups = [lk for atom in conj for lk in atom.lookups]
        if not lookups:
            yield conj, ()
            return
        tables = {(lk[1].lookup[0], lk[1].lookup[1].alias, lk[1].lookup[1].field) for lk in lookups}  # type: ignore[index]
        if len(tables) > 1:
            raise _Unsupported("a condition may look up one table by one key", conj[0].span or Span(1, 1, 1, 1))
        table, key_alias, key_field = next(iter(tables))
        for entry in self.params[table].entries:
            tests: list[Test] = []
            for op, factor_value, field_value in lookups:
                bound = Decimal(factor_value.const if factor_value.const is not None else 1) * entry.value.value
                tests.append(_scaled_test(field_value, op, bound * field_value.scale))
            key = int(entry.key) if isinstance(entry.key, Decimal) else entry.key
            tests.append(Test(key_alias, key_field, "=", key))
            yield conj, tuple(tests)

    def _unknown_variants(self, conj: Conj, state: _RuleState) -> Iterator[tuple[str, tuple[Test, ...]]]:
        """For each optional field the conjunction reads: the same match with that field missing."""
        # A field the rule itself tests with `is known` is a condition, not a gap in the data.
        explicit = {(t.alias, t.field.removesuffix("__known")) for atom in conj if not atom.reads
                    for t in atom.tests if t.field.endswith("__known") and t.const == 1}
        reads = sorted({r for atom in conj for r in atom.reads} - explicit)
        for alias, fname in reads:
            kept = tuple(a for a in conj if (alias, fname) not in a.reads)
            for variant, lookup_tests in self._expand_lookups(kept):
                vtests, _ = _flatten(variant)
                vtests = tuple(t for t in vtests if not (t.alias == alias and t.field == f"{fname}__known"))
                yield (f"{_alias_label(alias, state)} has no {fname}",
                       vtests + lookup_tests + (Test(alias, f"{fname}__known", "=", 0),))
        lookups = [lk for atom in conj for lk in atom.lookups]
        if lookups:
            table, key = lookups[0][1].lookup  # type: ignore[misc]
            kept = tuple(a for a in conj if not a.lookups)
            tests, _ = _flatten(kept)
            keys = [int(e.key) if isinstance(e.key, Decimal) else e.key for e in self.params[table].entries]
            outside = tuple(Test(key.alias or "", key.field or "", "!=", k) for k in keys)
            known = (Test(key.alias or "", f"{key.field}__known", "=", 1),) if key.optional else ()
            yield (f"{table} has no entry for this {key.field}", tests + outside + known)


# ----- helpers -----------------------------------------------------------------------------------


# Roles judged on what a partial date makes possible rather than certain (the rest need certainty).
POSSIBLE_ROLES = {"needs": "possible", "unknown": "possible"}
_DATE_SUFFIXES = ("__calhi", "__cal")


def _upper(field_name: str) -> str:
    """`date` -> `date__hi`, `birth_date__cal` -> `birth_date__hi__cal`: the last day's encoding."""
    for suffix in _DATE_SUFFIXES:
        if field_name.endswith(suffix):
            return f"{field_name.removesuffix(suffix)}__hi{suffix}"
    return f"{field_name}__hi"


def _bounded(tests: tuple[Test, ...], mode: str) -> tuple[Test, ...]:
    """Date tests over intervals: true for every day each date may be ("certain"), or for some ("possible").

    A full date is an interval of one day, so both read as the plain test for it.
    """
    out: list[Test] = []
    for t in tests:
        if not t.dated:
            out.append(t)
            continue
        left_lo, left_hi = t.field, _upper(t.field)
        right_lo, right_hi = t.other_field or "", _upper(t.other_field or "")
        certain = mode == "certain"
        if t.op in ("<", "<="):
            out.append(replace(t, field=left_hi if certain else left_lo, other_field=right_lo if certain else right_hi,
                               dated=False))
        elif t.op in (">", ">="):
            out.append(replace(t, field=left_lo if certain else left_hi, other_field=right_hi if certain else right_lo,
                               dated=False))
        elif t.op == "!=":  # never built for dates: `!=` is lowered to "before or after" first
            out.append(replace(t, dated=False))
        else:  # "=": certain only when both are one and the same day; possible when the intervals meet
            out.append(replace(t, op="<=", field=left_hi if certain else left_lo,
                               other_field=right_lo if certain else right_hi, dated=False))
            out.append(replace(t, op=">=", field=left_lo if certain else left_hi,
                               other_field=right_hi if certain else right_lo, dated=False))
    return tuple(dict.fromkeys(out))




def _flatten(conj: Iterable[Atom]) -> tuple[tuple[Test, ...], frozenset[tuple[str, str]]]:
    tests: list[Test] = []
    reads: set[tuple[str, str]] = set()
    for atom in conj:
        tests.extend(atom.tests)
        reads |= atom.reads
    for alias, fname in sorted(reads):
        tests.append(Test(alias, f"{fname}__known", "=", 1))
    return tuple(dict.fromkeys(tests)), frozenset(reads)


def _reads(*values: Value) -> frozenset[tuple[str, str]]:
    return frozenset((v.alias, v.field) for v in values if v.is_ref and v.optional)  # type: ignore[misc]


def _used(patterns: tuple[Pattern, ...], tests: tuple[Test, ...], keep: tuple[str, ...] = ()) -> tuple[Pattern, ...]:
    """The patterns a rule needs, in order: the trigger, those its tests name, and `keep`."""
    named = {t.alias for t in tests} | {t.other for t in tests if t.other} | set(keep)
    for p in patterns:
        named |= {t.other for t in p.identity if t.other}
    return tuple(p for i, p in enumerate(patterns) if i == 0 or p.alias in named)


def _dedupe(rules: list[EngineRule]) -> list[EngineRule]:
    seen: set[str] = set()
    out: list[EngineRule] = []
    for rule in rules:
        key = json.dumps([rule.role, rule.reason, rule.need, rule.definition()], sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(rule)
    return out


def _scaled_test(field_value: Value, op: str, bound: Decimal) -> Test:
    """`field OP bound` for an integer field: exact, since ceil/floor of the bound keeps the meaning."""
    alias, fname = field_value.alias or "", field_value.field or ""
    if bound == bound.to_integral_value():
        return Test(alias, fname, op, int(bound))
    if op in ("<", ">="):
        return Test(alias, fname, op, math.ceil(bound))
    if op in ("<=", ">"):
        return Test(alias, fname, op, math.floor(bound))
    # An integer field never equals a fractional bound: '=' is never true, '!=' always.
    return Test(alias, fname, "<" if op == "=" else ">=", -(2**62))


def _threshold(op: str, amount: int) -> int:
    """Completed units Y against N: Y > N and Y <= N compare the raw difference with N + 1 units."""
    return amount + 1 if op in (">", "<=") else amount


def _threshold_op(op: str) -> str:
    return {">": ">=", ">=": ">=", "<": "<", "<=": "<"}.get(op, op)


def _elapsed_amount(value: Value, unit: str) -> int:
    if value.type == "number":
        if value.unit is not None or value.const != value.const.to_integral_value():  # type: ignore[union-attr]
            raise _Unsupported(f"compare {unit} with a whole number of {unit}", value.span)
        return int(value.const)  # type: ignore[arg-type]
    if unit in ("years", "months"):
        if value.days:
            raise _Unsupported(f"cannot compare {unit} with days or weeks", value.span)
        return value.months // 12 if unit == "years" and value.months % 12 == 0 else (
            value.months if unit == "months" else _bad_years(value))
    if value.months:
        raise _Unsupported(f"cannot compare {unit} with months or years", value.span)
    return value.days // 7 if unit == "weeks" else value.days


def _bad_years(value: Value) -> int:
    raise _Unsupported("compare years with a whole number of years", value.span)


def _shift(anchor: Value, width: Value, sign: int) -> Value:
    return replace(anchor, days=anchor.days + sign * width.days, months=anchor.months + sign * width.months)


def _describe(value: Value) -> str:
    if value.type == "number":
        return f"a number{' in ' + value.unit if value.unit else ''}"
    return {"date": "a date", "duration": "a duration", "percent": "a percentage", "text": "a text",
            "boolean": "a yes/no value", "elapsed": "an elapsed time", "time": "a clock time"}.get(value.type, value.type)


def _alias_label(alias: str, state: _RuleState) -> str:
    if alias == "t":
        return state.scope.trigger.event
    if alias == "x":
        return state.scope.exists_event or "record"
    for pattern in state.anchors.values():
        if pattern.alias == alias:
            return pattern.label or alias
    return alias


def _quantity_text(q: n.Quantity) -> str:
    value = format(q.value.normalize(), "f") if q.value == q.value.to_integral_value() and abs(q.value) < 10**7 \
        else str(q.value.normalize())
    return f"{value} {q.unit}" if q.unit and q.unit != "%" else (f"{value}%" if q.unit == "%" else value)
