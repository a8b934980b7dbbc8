"""Pass 5: each lowered rule becomes engine rules, one per role, with its twin for partial dates.

Roles: `trigger` (the rule applies), `due` (its time has come), `covered` / `deviation` (the verdict),
`unknown` (a field it reads is missing), `anchored`, `needs`, `excused`, `unanchored_excuse`; for
sessions with a partial date, the same rules with date tests over intervals plus `possible_*` rules.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

from ..errors import Diagnostic
from ..language import nodes as n
from .declare import Declarations
from .lower import LoweredRule, compare_dates
from . import limits
from .model import NEGATE, VISIT_PREFIX, CompiledRule, DateSource, EngineRule, Pattern, Test
from .operands import Atom, Conj, Unsupported, Value, text_of
from .resolve import ResolvedRule
from .variants import expand_lookups, flatten, unknown_variants
from .windows import rule_window

# Roles judged on what a partial date makes possible rather than certain (the rest need certainty).
POSSIBLE_ROLES = {"needs": "possible", "unknown": "possible"}
_DATE_SUFFIXES = ("__calhi", "__cal")


def emit_rule(lowered: LoweredRule, decls: Declarations, source_lines: list[str],
              diagnostics: list[Diagnostic]) -> CompiledRule:
    """Raises operands.Unsupported when a condition cannot become engine rules (two tables looked up at once)."""
    return _Emitter(lowered, decls, diagnostics, source_lines).rule(source_lines)


def emitted(lowered: LoweredRule, decls: Declarations, source_lines: list[str],
            diagnostics: list[Diagnostic]) -> CompiledRule | None:
    """The rule's engine rules, checked against the engine's limits; None (reported) when they cannot be made."""
    if not lowered.emittable:
        return None
    try:
        compiled = emit_rule(lowered, decls, source_lines, diagnostics)
    except Unsupported as exc:
        diagnostics.append(exc.diagnostic)
        return None
    limits.check_rule(lowered.checked.resolved.rule, compiled, diagnostics)
    return compiled


class _Emitter:
    def __init__(self, lowered: LoweredRule, decls: Declarations, diagnostics: list[Diagnostic],
                 source_lines: list[str]) -> None:
        self.lowered, self.decls, self.diagnostics = lowered, decls, diagnostics
        self.window = rule_window(lowered, source_lines)
        self.resolved: ResolvedRule = lowered.checked.resolved
        self.engine_rules: dict[str, EngineRule] = {}  # by what the engine sees: the same rule is made once
        self.interval_rules: dict[str, EngineRule] = {}
        self.counter = itertools.count(1)
        self.undecided: list[tuple[Test, ...]] = []  # the tests of each `where` the check cannot decide

    def emit(self, role: str, patterns: tuple[Pattern, ...], tests: tuple[Test, ...], keep: tuple[str, ...] = (),
             reason: str | None = None, need: int = 0) -> None:
        """Append an engine rule for full dates, and its interval twin for sessions with partial dates."""
        rule_id, number = self.resolved.rule.id, next(self.counter)
        self._add(self.engine_rules, EngineRule(f"{rule_id}#{role}{number}", role, _used(patterns, tests, keep=keep),
                                                tests, reason, need))
        bounded = _bounded(tests, POSSIBLE_ROLES.get(role, "certain"))
        self._add(self.interval_rules, EngineRule(f"{rule_id}#{role}{number}", role,
                                                  _used(patterns, bounded, keep=keep), bounded, reason, need))
        if role in ("trigger", "covered", "deviation") and any(t.dated for t in tests):
            possible = _bounded(tests, "possible")
            self._add(self.interval_rules, EngineRule(f"{rule_id}#possible_{role}{number}", f"possible_{role}",
                                                      _used(patterns, possible, keep=keep), possible, reason, need))

    def _add(self, rules: dict[str, EngineRule], rule: EngineRule) -> None:
        """Keep the first of identical rules; stop, before making more, past what one ruleset holds."""
        rules.setdefault(json.dumps([rule.role, rule.reason, rule.need, rule.definition()], sort_keys=True), rule)
        if len(rules) > limits.ENGINE_MAX_RULES:
            resolved = self.resolved.rule
            raise Unsupported(f"rule {resolved.id} makes more than {limits.ENGINE_MAX_RULES} engine rules (one per "
                              "alternative of its conditions, and per optional field they read); durable-rules takes "
                              f"at most {limits.ENGINE_MAX_RULES} in one ruleset", resolved.id_span,
                              "split the rule into several, each with fewer 'or' choices")

    def rule(self, source_lines: list[str]) -> CompiledRule:
        lowered, resolved = self.lowered, self.resolved
        written = resolved.rule
        if written.report == "once" and resolved.level == "trial" and written.check.source.form not in ("first", "last"):
            self.diagnostics.append(Diagnostic(
                "'report once per subject' needs findings that name a subject; this rule is judged with the trial",
                written.report_span or written.id_span, "leave it out: each record checked makes its own finding"))
        verdict = resolved.rule.check.verdict
        due = lowered.checked.due
        anchors = tuple(a for a in resolved.anchors if a.alias != "cutoff")
        base = (resolved.trigger, *anchors)
        full = base + ((resolved.exists,) if resolved.exists else ())
        keep = (resolved.exists.alias,) if resolved.exists else ()
        anchored = due is not None and due.alias != "t"
        found = self._found_aliases()
        for alias in found:  # the records tied on the day a reference found, whether or not the rule applies
            if not alias.startswith(VISIT_PREFIX):  # a record has one visit of a schedule: never tied
                self.emit("tied", base, (Test(alias, "ties", ">", 1),), keep=(alias,))
        for conj in lowered.where:
            where_tests, _ = flatten(conj)
            for reason, tests in unknown_variants(conj, self.decls.params, self._alias_label):
                self._undecided_filter(reason, tests, base, full, keep)
            # A check's references are its evidence; each record tied on the day found is matched.
            self.emit("trigger", base, where_tests, keep=found)
            if verdict.mode == "require" and due is not None:
                cutoff = Pattern("cutoff", "$cutoff")
                self.emit("due", base + (cutoff,), where_tests + lowered.due_tests, keep=(cutoff.alias,))
            for body_conj in lowered.body:
                conj_all = conj + body_conj
                for variant_conj, lookup_tests in expand_lookups(conj_all, self.decls.params):
                    tests, _ = flatten(variant_conj)
                    self.emit("covered" if verdict.mode == "require" else "deviation", full, tests + lookup_tests, keep)
                for reason, tests in unknown_variants(conj_all, self.decls.params, self._alias_label):
                    self.emit("unknown", full, tests, keep, reason)
            for alias in self._dating_aliases():
                # The record a finding's date is read from, when it is neither the check's nor the one sought.
                self.emit("dating", base, where_tests, keep=(alias,))
            if self._counts_break():
                self._breaking(where_tests, base)
            if anchored and lowered.clauses:
                # Whether the date the check falls due exists at all (its anchor record may not).
                self.emit("anchored", base, where_tests, keep=(due.alias or "",))  # type: ignore[union-attr]
            for clause, conjs in lowered.clauses:
                self._clause(clause.role, clause.index, clause.pattern, conjs, clause.reason, conj, base, due, anchored)
        for filter_tests in self.undecided:  # such a check's finding is dated (and windowed) like any other
            for alias in self._dating_aliases():
                self.emit("dating", base, filter_tests, keep=(alias,))
        return self._compiled(source_lines)

    def _dating_aliases(self) -> tuple[str, ...]:
        """The records a finding's date or window is read from that a check's own matches may not hold: the
        engine matches each (`dating`), so that nothing is looked up afterwards."""
        checked = self.lowered.checked
        sources = (checked.dated, checked.due if self._dated_when_due() else None)
        aliases = [v.alias for v in sources if v is not None and v.alias is not None]
        if self.window is not None:
            aliases += [bound.anchor.alias for bound in (self.window.low, self.window.high) if bound is not None]
        return tuple(dict.fromkeys(a for a in aliases if a not in ("t", "x", "cutoff")))

    def _dated_when_due(self) -> bool:
        """Something required that never came is dated when it was due: a count short, or a record sought."""
        check = self.resolved.rule.check
        if check.source.period in ("schedule", "due"):
            return False  # a visit's count is dated on the visit's day: when it was due
        return check.verdict.mode == "require" and (check.verdict.exists_event is not None
                                                    or self.resolved.trigger.kind == "$count")

    def _counts_break(self) -> bool:
        """A count checked only against numbers: the record past the limit can be told by its position."""
        resolved, body = self.resolved, self.lowered.body
        if resolved.trigger.kind != "$count" or resolved.rule.check.verdict.mode != "require" or not body:
            return False
        if resolved.rule.check.verdict.exists_event is not None:
            return False
        for conj in body:
            tests, _ = flatten(conj)
            if any(a.lookups for a in conj) or not tests:
                return False
            if any(t.alias != "t" or t.field != "count" or t.other is not None for t in tests):
                return False
        # Only a limit a further record can break: at most, exactly, or other than a number.
        return any(t.op in ("<", "<=", "=", "!=") for conj in body for t in flatten(conj)[0])

    def _breaking(self, where_tests: tuple[Test, ...], base: tuple[Pattern, ...]) -> None:
        """The record that broke the count's limit: the count before it met the check, the count with it does not.

        Each of the count's records is a `$counted` fact with its position (engine/subject_facts.py); the
        check is read twice, for `before` (position - 1) and for `position`, negated.
        """
        counted = Pattern("b", "$counted")
        joined = Test("b", "of", "=", other="t", other_field="ref")
        alternatives = [flatten(conj)[0] for conj in self.lowered.body]
        negated: list[tuple[Test, ...]] = [()]
        for alternative in alternatives:  # not (A or B) = not A and not B; not A = some test of A fails
            negated = [done + (_on(t, "position", NEGATE[t.op]),) for done in negated for t in alternative]
        for alternative in alternatives:
            held = tuple(_on(t, "before", t.op) for t in alternative)
            for failed in negated:
                self.emit("breaking", base + (counted,), where_tests + (joined,) + held + failed, keep=("b",))

    def _deciding(self) -> tuple[str, ...]:
        """In a rule checked once per subject, the `needs` clauses seeking the record a `require a` seeks."""
        check = self.resolved.rule.check
        if check.verdict.mode != "require" or check.source.form not in ("first", "last"):
            return ()
        return tuple(c.pattern.alias for c in self.resolved.clauses
                     if c.role == "needs" and c.pattern.kind == check.verdict.exists_event)

    def _found_aliases(self) -> tuple[str, ...]:
        return tuple(p.alias for p in self.resolved.anchors if p.kind == "$ref")

    def _undecided_filter(self, reason: str, filter_tests: tuple[Test, ...], base: tuple[Pattern, ...],
                          full: tuple[Pattern, ...], keep: tuple[str, ...]) -> None:
        """A record the `where` cannot decide for (a value it reads is empty) is checked all the same: it
        passes if the check holds whether or not the rule applies, and is not evaluable otherwise, so
        that nothing drops out silently."""
        lowered = self.lowered
        verdict = self.resolved.rule.check.verdict
        undecided = (Atom(filter_tests, frozenset()),)
        self.emit("trigger", base, filter_tests)
        self.undecided.append(filter_tests)
        if verdict.mode == "require" and lowered.checked.due is not None:
            cutoff = Pattern("cutoff", "$cutoff")
            self.emit("due", base + (cutoff,), filter_tests + lowered.due_tests, keep=(cutoff.alias,))
        for body_conj in lowered.body:
            for variant_conj, lookup_tests in expand_lookups(undecided + body_conj, self.decls.params):
                tests, _ = flatten(variant_conj)
                if verdict.mode == "require":
                    self.emit("covered", full, tests + lookup_tests, keep)
                else:
                    self.emit("unknown", full, tests + lookup_tests, keep, reason)
            if verdict.mode == "forbid":
                for _, tests in unknown_variants(undecided + body_conj, self.decls.params, self._alias_label):
                    self.emit("unknown", full, tests, keep, reason)
        if verdict.mode == "require":
            self.emit("unknown", base, filter_tests, (), reason)
        for clause, conjs in lowered.clauses:
            if clause.role == "excused":
                self._clause(clause.role, clause.index, clause.pattern, conjs, clause.reason, undecided, base,
                             lowered.checked.due, False)

    def _clause(self, role: str, index: int, pattern: Pattern, conjs: tuple[Conj, ...], reason: str, conj: Conj,
                base: tuple[Pattern, ...], due: Value | None, anchored: bool) -> None:
        pats = base + (pattern,)
        rule = self.resolved.rule
        for clause_conj in conjs:
            for variant_conj, lookup_tests in expand_lookups(conj + clause_conj, self.decls.params):
                tests, _ = flatten(variant_conj)
                tests = tests + lookup_tests
                if role == "excused" and due is not None:
                    # An excuse counts for a check that falls due on or after it, never for one already due
                    # before the subject left; without a due date, any excuse counts.
                    before = compare_dates(Value("date", rule.span, alias=pattern.alias, field="date"), "<=", due,
                                           rule.span)
                    self.emit(role, pats, tests + before.tests, (pattern.alias,), None, index)
                    if anchored:
                        self.emit("unanchored_excuse", pats, tests, (pattern.alias,), None, index)
                    continue
                self.emit(role, pats, tests, (pattern.alias,), reason or None, index)

    def _compiled(self, source_lines: list[str]) -> CompiledRule:
        resolved = self.resolved
        rule, check = resolved.rule, resolved.rule.check
        verdict = check.verdict
        return CompiledRule(
            id=rule.id,
            title=rule.title,
            severity=rule.severity or "major",
            category=rule.category or "other",
            cites=rule.cites,
            message=rule.message or rule.title,
            span=rule.span,
            mode=verdict.mode,
            level=resolved.level,
            per_subject=resolved.level == "trial" and check.source.form in ("first", "last"),
            trigger_event=check.source.event,
            exists_event=verdict.exists_event,
            engine_rules=tuple(self.engine_rules.values()),
            interval_rules=tuple(self.interval_rules.values()),
            has_due=verdict.due is not None,
            trigger_label=resolved.trigger_label,
            absent=self._nothing_due(check.source),
            criteria=tuple(c for c, _ in rule.criteria),
            important=bool(rule.important),
            choices=rule.choices,
            approximate=rule.approximate,
            needs=tuple(c.reason for c in resolved.clauses if c.role == "needs"),
            needs_sought=tuple(c.sought for c in resolved.clauses if c.role == "needs"),
            excuses=tuple(e.event for e in check.excuses),
            due_text=text_of(source_lines, verdict.due.span) if verdict.due is not None else None,
            ties=tuple((p.alias, self._tie_policy(p.label), p.label) for p in resolved.anchors if p.kind == "$ref"),
            reference_aliases=tuple((p.label, p.alias) for p in resolved.anchors if p.kind in ("$ref", "$state")),
            checked_for="group" if check.source.form.startswith("group_") else check.source.form,
            report=rule.report or "check",
            dated_by=_date_source(self.lowered.checked.dated, rule.dated_by, source_lines),
            due_date=_date_source(self.lowered.checked.due, verdict.due, source_lines) if self._dated_when_due() else None,
            breaks=self._counts_break(),
            deciding=self._deciding(),
            window=self.window,
        )

    def _nothing_due(self, source: n.Source) -> str:
        """A count per visit of a schedule has nothing to check before a visit is due."""
        schedule = self.decls.schedules.get(source.schedule or "") if source.period == "schedule" else None
        if schedule is None:
            return ""
        until = f", or every visit falls after their {schedule.until_which} {schedule.until}" if schedule.until else ""
        return (f"no visit of {schedule.name} due yet: no {schedule.which} {schedule.anchor} recorded to count from, "
                f"or no window opened by the data cut-off{until}")

    def _tie_policy(self, label: str) -> str:
        decl = self.decls.references.get(label)
        return decl.ties or "" if decl is not None else ""

    def _alias_label(self, alias: str) -> str:
        resolved = self.resolved
        if alias == "t":
            return resolved.rule.check.source.event
        if alias == "x":
            return resolved.rule.check.verdict.exists_event or "record"
        for pattern in resolved.anchors:
            if pattern.alias == alias:
                return pattern.label or alias
        return alias


def _date_source(value: Value | None, expr: n.Expr | None, source_lines: list[str]) -> DateSource | None:
    if value is None or value.alias is None or value.field is None or expr is None:
        return None
    return DateSource(value.alias, value.field, value.days, value.months, text_of(source_lines, expr.span))


def _on(test: Test, field: str, op: str) -> Test:
    """A count's test read on a `$counted` fact's position (or the position before it)."""
    return replace(test, alias="b", field=field, op=op, dated=False)


def _upper(field_name: str) -> str:
    """`date` -> `date__hi`, `birth_date__cal` -> `birth_date__hi__cal`: the last day's encoding."""
    for suffix in _DATE_SUFFIXES:
        if field_name.endswith(suffix):
            return f"{field_name.removesuffix(suffix)}__hi{suffix}"
    return f"{field_name}__hi"


def _bounded(tests: tuple[Test, ...], mode: str) -> tuple[Test, ...]:
    """Date tests over intervals: true for every day each date may be ("certain"), or for some ("possible");
    a count that may be an interval likewise.

    A full date is an interval of one day, so both read as the plain test for it.
    """
    out: list[Test] = []
    for t in tests:
        if not t.dated:
            out.append(t)
            continue
        left_lo, left_hi = t.field, _upper(t.field)
        # Against a constant (a count that may be an interval), only the field has two ends.
        right_lo, right_hi = (t.other_field, _upper(t.other_field)) if t.other_field else (None, None)
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


def _used(patterns: tuple[Pattern, ...], tests: tuple[Test, ...], keep: tuple[str, ...] = ()) -> tuple[Pattern, ...]:
    """The patterns a rule needs, in order: the trigger, those its tests name, and `keep`."""
    named = {t.alias for t in tests} | {t.other for t in tests if t.other} | set(keep)
    for p in patterns:
        named |= {t.other for t in p.identity if t.other}
    return tuple(p for i, p in enumerate(patterns) if i == 0 or p.alias in named)
