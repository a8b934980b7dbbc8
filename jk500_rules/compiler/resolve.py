"""Pass 1b: each rule's records (trigger, anchors, sought records) and names resolved in their scopes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Diagnostic, Span, did_you_mean
from ..language import nodes as n
from .declare import Declarations
from .model import SEVERITIES, Pattern
from .operands import Unsupported, Value, leaves, text_of
from .references import FINDER_PREFIX, VISIT_FIELDS, Read, References, Scope
from .triggers import resolve_trigger


@dataclass(frozen=True)
class Clause:
    """A `needs a ...` or `unless a ...` clause: the record it seeks and the reason given when unmet."""

    role: str  # needs | excused
    index: int  # 1-based, over needs then excuses
    pattern: Pattern
    cond: n.Cond | None
    reason: str
    # What a `needs` clause seeks, in its default reason's words (`no lab recorded where test = "AST"`): the
    # same for every clause that seeks the same record, whatever reason its writer gave.
    sought: str = ""


@dataclass(frozen=True)
class ResolvedRule:
    """A rule with every record it reads named and every name bound to a typed operand."""

    rule: n.Rule
    level: str  # subject | trial
    trigger: Pattern
    trigger_label: str  # what the rule is checked for, in words
    exists: Pattern | None  # the record a `require a`/`forbid a` clause seeks
    clauses: tuple[Clause, ...]
    anchors: tuple[Pattern, ...]  # first/last records, the subject, ranked subjects, the cut-off
    values: dict[n.Node, Value]  # the operand each name stands for
    bound: frozenset[n.Node]  # the leaf conditions whose names all resolved (the others are reported)
    reads: frozenset[Read]  # what the audit must build for this rule (see references.Read)
    complete: bool  # False: a record the rule seeks did not resolve; its conditions are checked, not emitted


@dataclass(frozen=True)
class Resolved:
    decls: Declarations
    rules: tuple[ResolvedRule, ...]  # in file order; a rule whose trigger does not resolve is left out
    used_params: frozenset[str]


def resolve(tree: n.Protocol, decls: Declarations, source_lines: list[str],
            diagnostics: list[Diagnostic]) -> Resolved:
    used_params: set[str] = set()
    rules = []
    seen: dict[str, n.Rule] = {}
    for rule in tree.rules:
        if rule.id in seen:
            diagnostics.append(Diagnostic(f"rule id {rule.id} is used twice", rule.id_span, "give each rule its own id"))
            diagnostics.append(Diagnostic(f"the first {rule.id} is here", seen[rule.id].id_span, severity="note"))
        seen.setdefault(rule.id, rule)
        _check_header(rule, decls, diagnostics)
        try:
            rules.append(_RuleResolver(rule, decls, source_lines, used_params, diagnostics).resolve())
        except Unsupported as exc:
            diagnostics.append(exc.diagnostic)
    return Resolved(decls, tuple(rules), frozenset(used_params))


def _check_header(rule: n.Rule, decls: Declarations, diagnostics: list[Diagnostic]) -> None:
    if rule.severity is not None and rule.severity not in SEVERITIES:
        diagnostics.append(Diagnostic(f"unknown severity '{rule.severity}'", rule.severity_span,
                                      did_you_mean(rule.severity, SEVERITIES) or f"use one of {', '.join(SEVERITIES)}"))
    if not rule.criteria and rule.cites is None:
        diagnostics.append(Diagnostic(f"rule {rule.id} cites nothing", rule.id_span,
                                      "say what it enforces: cites CRITERION-ID, or cites \"protocol text\"",
                                      severity="warning"))
    for cid, span in rule.criteria:
        if cid not in decls.criteria:
            diagnostics.append(Diagnostic(f"unknown criterion '{cid}'", span,
                                          did_you_mean(cid, decls.criteria.keys()) or "declare it: criterion ID \"text\""))


class _RuleResolver:
    def __init__(self, rule: n.Rule, decls: Declarations, source_lines: list[str], used_params: set[str],
                 diagnostics: list[Diagnostic]) -> None:
        self.rule, self.decls, self.source_lines, self.diagnostics = rule, decls, source_lines, diagnostics
        self.used_params = used_params
        self.bound: set[n.Node] = set()

    def resolve(self) -> ResolvedRule:
        """Raises Unsupported when the trigger does not resolve: nothing else of the rule can be read then."""
        rule, check = self.rule, self.rule.check
        source, verdict = check.source, check.verdict
        refs = References(self.decls, Scope(source, "subject"), self.used_params)
        if rule.id.startswith(FINDER_PREFIX):
            refs.scope.finding = rule.title
        trigger, refs.scope.level = resolve_trigger(source, refs)
        if refs.scope.level == "subject" and self._reads_state(refs):
            if source.form not in ("first", "last"):
                raise Unsupported("a rule that reads a trial state is judged with the whole trial, once per subject",
                                  source.span, f"check it for the subject's first or last {source.event}")
            refs.scope.level = "trial"
            refs.reads.add(("state_trigger", source.event, source.form))
        if source.event in self.decls.groups:
            refs.reads.add(("group_read", source.event, source.form if source.form in ("first", "last") else "all"))
        self._conditions(check.where, refs)
        exists: Pattern | None = None
        clauses: list[Clause] = []
        complete = False
        try:
            if verdict.exists_event:
                exists = self._sought(verdict.exists_event, verdict.exists_span or verdict.span, refs, "x")
            refs.scope.exists_event = verdict.exists_event
            refs.scope.in_exists = verdict.exists_event is not None
            self._conditions(verdict.cond, refs)
            refs.scope.in_exists = False
            if verdict.due is not None:
                refs.walk(verdict.due)
                refs.anchors.setdefault(("cutoff",), Pattern("cutoff", "$cutoff"))
            if rule.dated_by is not None:
                sought = _record_named(rule.dated_by)
                if verdict.mode == "require" and sought is not None and sought == verdict.exists_event:
                    raise Unsupported(f"'{sought}' is the record this rule requires: a deviation is that it is "
                                      "missing, so it cannot date one", rule.dated_by.span,
                                      "date it by the record checked, or by one it is anchored to")
                refs.scope.names_found = verdict.mode == "forbid"
                refs.walk(rule.dated_by)
                refs.scope.names_found = False
            for index, clause in enumerate(check.needs + check.excuses, start=1):
                clauses.append(self._clause(index, clause, refs))
            complete = True
        except Unsupported as exc:
            self.diagnostics.append(exc.diagnostic)
        refs.reads.add(("event", source.event))
        if complete:
            self._check_message(refs)
        where = f" where {text_of(self.source_lines, check.where.span)}" if check.where else ""
        return ResolvedRule(rule, refs.scope.level, trigger, trigger.label + where, exists, tuple(clauses),
                            tuple(refs.anchors.values()), refs.values, frozenset(self.bound),
                            frozenset(refs.reads), complete)

    def _reads_state(self, refs: References) -> bool:
        """Whether a condition names a trial state: the rule is then judged with the trial (its records are
        each subject's first or last record of the type checked)."""
        check, states = self.rule.check, self.decls.states
        conds = [check.where, check.verdict.cond, *(c.cond for c in (*check.needs, *check.excuses))]
        fields = refs.trigger_fields()
        for leaf in (leaf for cond in conds for leaf in leaves(cond)):
            for expr in _operands(leaf):
                for node in _names(expr):
                    if node.name in states and (node.field is not None or node.name not in fields):
                        return True
        return False

    def _conditions(self, cond: n.Cond | None, refs: References) -> None:
        """Bind each leaf's names; a leaf with one that does not resolve is reported and left out."""
        for leaf in leaves(cond):
            try:
                for expr in _operands(leaf):
                    refs.walk(expr)
            except Unsupported as exc:
                if exc.diagnostic not in self.diagnostics:  # a formula's mistake, met by each rule reading it
                    self.diagnostics.append(exc.diagnostic)
                continue
            self.bound.add(leaf)

    def _clause(self, index: int, clause: n.Need | n.Excuse, refs: References) -> Clause:
        role = "needs" if isinstance(clause, n.Need) else "excused"
        alias = f"{role[0]}{index}"
        pattern = self._sought(clause.event, clause.event_span, refs, alias)
        scope = refs.scope
        saved = scope.exists_event
        scope.exists_event, scope.in_exists, scope.inner_alias = clause.event, True, alias
        self._conditions(clause.cond, refs)
        scope.exists_event, scope.in_exists, scope.inner_alias = saved, False, "x"
        reason = sought = ""
        if isinstance(clause, n.Need):
            sought = self._need_reason(clause)
            reason = clause.reason or sought
        return Clause(role, index, pattern, clause.cond, reason, sought)

    def _need_reason(self, need: n.Need) -> str:
        if need.cond is None:
            return f"no {need.event} recorded"
        return f"no {need.event} recorded where {text_of(self.source_lines, need.cond.span)}"

    def _sought(self, name: str, span: Span, refs: References, alias: str) -> Pattern:
        """The record a `require a`, `forbid a`, `needs a` or `unless a` clause looks for."""
        event = self.decls.events.get(name)
        if event is None:
            raise self.decls.unknown_event(name, span)
        event_level = "trial" if event.trial_level else "subject"
        level = refs.scope.level
        if event_level != level:
            raise Unsupported(
                f"this rule is checked per {level}, but {name} is a {event_level}-level event", span,
                "subject-level rules read a subject's records; trial-level rules read trial events and group facts")
        if name == refs.scope.trigger.event and refs.scope.finding is None:
            raise Unsupported(f"the record sought and the record checked are both {name}", span,
                              "name a different event type")
        refs.reads.add(("event", name))
        if name in self.decls.groups:
            refs.reads.add(("group_read", name, "all"))
        return Pattern(alias, name, label=name)

    def _check_message(self, refs: References) -> None:
        """Each `{placeholder}` in the message names something the rule can fill in."""
        rule, verdict, scope = self.rule, self.rule.check.verdict, refs.scope
        for match in re.finditer(r"\{([^{}]*)\}", rule.message or rule.title):
            text = match.group(1).strip()
            parts = text.split(".")
            ok = False
            read = {read[1] for read in refs.reads if read[0] == "reference"}
            relative = {f"{read[1]} {read[2]}": read[2] for read in refs.reads if read[0] == "relative"}
            visits = {read[1].schedule for read in refs.reads if read[0] == "visit_of"}
            states = {read[1] for read in refs.reads if read[0] == "state"}
            formulas = {read[1] for read in refs.reads if read[0] == "formula"}
            if len(parts) == 1:
                if text not in refs.trigger_fields() and self._names_another_record(text, refs):
                    continue
                ok = (text in self.decls.params or text in refs.trigger_fields() or text in read or text in relative
                      or text in visits or (text in states and verdict.mode == "forbid") or text in formulas)
                if text in self.decls.params:
                    self.used_params.add(text)
            elif len(parts) == 2:
                record, fname = parts
                if record == scope.trigger.event and scope.trigger.form != "count":
                    ok = fname in refs.trigger_fields()
                elif record == verdict.exists_event and verdict.mode == "forbid":
                    ok = fname in self.decls.events[record].fields or fname == "date"
                elif record in visits:
                    ok = fname in VISIT_FIELDS
                elif record in states:
                    ok = fname in ("start", "end") and verdict.mode == "forbid"
                    if ok is False and fname in ("start", "end") and rule.message_span:
                        self.diagnostics.append(Diagnostic(
                            f"the message names '{{{text}}}', which a `require` rule's finding does not hold",
                            rule.message_span, "a deviation of `require` is the absence of a match, so no state "
                            "is in its evidence; quote the state's dates in a `forbid` rule, or name the state's "
                            "label in the text"))
                        continue
                elif record in read or record in relative:
                    event = self.decls.references[record].event if record in read else relative[record]
                    ok = fname in self.decls.events[event].fields or fname == "date"
            if not ok and rule.message_span:
                self.diagnostics.append(Diagnostic(
                    f"the message names '{{{text}}}', which this rule cannot fill in", rule.message_span,
                    "use a parameter, a field of the record checked or of a reference it reads, or (for 'forbid a ...') "
                    "record.field"))


    def _names_another_record(self, text: str, refs: References) -> bool:
        """A placeholder naming a field of the record sought, or of the records behind a count or a group's
        first, is reported: it would show a parameter of that name, or nothing, instead of the value meant."""
        rule, verdict = self.rule, self.rule.check.verdict
        sought = verdict.exists_event if verdict.mode == "forbid" else None
        if sought is not None and text in self.decls.events[sought].fields and rule.message_span:
            self.diagnostics.append(Diagnostic(
                f"the message names '{{{text}}}', a field of the {sought} found", rule.message_span,
                f"write {{{sought}.{text}}}"))
            return True
        try:
            refs.refuse_unread_field(text, rule.message_span or rule.span)
        except Unsupported as exc:
            self.diagnostics.append(exc.diagnostic)
            return True
        return False


def _names(expr: n.Expr) -> list[n.NameRef]:
    """The plain names in an expression (`x`, `record.field`)."""
    if isinstance(expr, n.NameRef):
        return [expr]
    if isinstance(expr, n.Arith):
        return _names(expr.left) + _names(expr.right)
    if isinstance(expr, n.Elapsed):
        return _names(expr.start) + _names(expr.end)
    if isinstance(expr, n.Lookup):
        return _names(expr.key)
    return []


def _operands(leaf: n.Cond) -> list[n.Expr]:
    """A leaf condition's expressions, in the order they are read."""
    if isinstance(leaf, n.Compare):
        return [leaf.left, leaf.right]
    if isinstance(leaf, (n.Truthy, n.Known)):
        return [leaf.subject]
    if isinstance(leaf, n.Member):
        return [leaf.subject, *leaf.values]
    if isinstance(leaf, n.Between):
        return [leaf.subject, leaf.low, leaf.high]
    if isinstance(leaf, n.Within):
        return [leaf.subject, leaf.width, leaf.anchor]
    raise Unsupported("this condition is not supported here", leaf.span)  # pragma: no cover


def _record_named(expr: n.Expr) -> str | None:
    """The record a `dated by` date is read from, as written: `premedication` of `premedication.date - 1 day`."""
    while isinstance(expr, n.Arith):
        expr = expr.left
    return expr.name if isinstance(expr, n.NameRef) and expr.field is not None else None
