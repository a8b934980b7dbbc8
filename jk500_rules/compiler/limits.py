"""The engine's limits, checked at compile time: past them durable-rules fails at run time or crashes.

Measured in ../shared/design/durable-rules.md section 1; the compiler refuses such rules with a position.
The limits are read through this module at each check, so that a test can lower them.
"""

from __future__ import annotations

import json
from collections import Counter

from ..errors import Diagnostic
from ..language import nodes as n
from .computed import ComputedAmount
from .model import CompiledRule, EventSpec, FieldSpec, Finder

ENGINE_MAX_PATTERNS = 16
ENGINE_MAX_TESTS = 29
ENGINE_MAX_RULES = 4096
# A condition's sets of fields that may be empty each make an engine rule (2**n - 1 of them): past 8
# fields, one rule would make hundreds; such a condition is refused instead.
MAX_OPTIONAL_READS = 8
ENGINE_MAX_FIRST_KINDS = 500
ENGINE_MAX_PROPERTIES = 240  # about 250 fit; the runner adds id, sid and a sentinel
# One record test (a pattern's own tests, e.g. kind dose and seq 1) leads on to at most 256 joins or
# actions (BETA_LIST_LENGTH): past it the ruleset is refused with error 108. Counted per pattern, which
# overcounts a little (a pattern that ends its rule links to no join), so the guard errs on the safe side.
ENGINE_MAX_RULES_PER_RECORD_TEST = 256
# The engine walks from a record's last test before a join to every join hanging there on a stack of 64
# (MAX_STACK_SIZE): more patterns sharing those leading tests fail each fact with error 303. Measured: 64
# patterns reading one schedule's visits run, 68 fail.
ENGINE_MAX_JOINS_PER_RECORD_TEST = 64
FACT_BASE_PROPERTIES = 13  # id, sid, _t, kind, ref, seq, rseq and the date's six encodings
PROPERTIES_PER_FIELD = {"date": 7}  # known flag, three encodings, three for a partial date's last day


def check_event_width(decl: n.EventDecl, fields: dict[str, FieldSpec], diagnostics: list[Diagnostic]) -> None:
    """An event type's records must fit in one engine fact."""
    properties = FACT_BASE_PROPERTIES + sum(PROPERTIES_PER_FIELD.get(f.type, 2) for f in fields.values())
    if properties > ENGINE_MAX_PROPERTIES:
        diagnostics.append(Diagnostic(
            f"event {decl.name} has too many fields for the engine: its records would carry {properties} "
            f"properties, and durable-rules takes at most {ENGINE_MAX_PROPERTIES}", decl.span,
            "split it into two event types (a date field counts 7, another field 2)"))


def check_rule(rule: n.Rule, compiled: CompiledRule, diagnostics: list[Diagnostic]) -> None:
    """More than 16 patterns in a rule fails with error 304 when facts arrive; more than about 29 tests in
    one pattern fails with error 113."""
    for er in (*compiled.engine_rules, *compiled.interval_rules):
        patterns = er.definition()["all"]
        if len(patterns) > ENGINE_MAX_PATTERNS:
            diagnostics.append(Diagnostic(
                f"rule {rule.id} joins {len(patterns)} records in one engine rule; durable-rules joins at most "
                f"{ENGINE_MAX_PATTERNS}", rule.id_span, "split the rule, or compare fewer records in it"))
            return
        for pattern in patterns:
            ((alias, condition),) = pattern.items()
            tests = len(condition["$and"]) if "$and" in condition else 1
            if tests + 1 > ENGINE_MAX_TESTS:  # the runner closes every later pattern with one test more
                diagnostics.append(Diagnostic(
                    f"rule {rule.id} tests one record {tests} ways in one engine pattern; durable-rules takes at "
                    f"most {ENGINE_MAX_TESTS - 1}", rule.id_span, "split the rule's conditions over several rules"))
                return


def check_ruleset(tree: n.Protocol, rules: list[CompiledRule], diagnostics: list[Diagnostic]) -> None:
    """The whole ruleset: distinct first kinds (the engine hangs past 512 first tests) and rule count."""
    first_kinds = {er.patterns[0].kind for r in rules for er in (*r.engine_rules, *r.interval_rules)}
    if len(first_kinds) > ENGINE_MAX_FIRST_KINDS:
        diagnostics.append(Diagnostic(
            f"the rules start from {len(first_kinds)} kinds of record; durable-rules hangs past 512 distinct first "
            f"tests, so at most {ENGINE_MAX_FIRST_KINDS} are taken", tree.rules[0].id_span,
            "split the protocol into several rules files"))
    _check_record_tests(rules, diagnostics)
    for which in ("engine_rules", "interval_rules"):  # reported once: the interval rules are never fewer
        count = sum(len(getattr(r, which)) for r in rules) + 1  # the runner's marker rule
        if count > ENGINE_MAX_RULES:
            diagnostics.append(Diagnostic(
                f"the rules compile to {count} engine rules; durable-rules takes at most {ENGINE_MAX_RULES} in "
                "one ruleset", tree.rules[0].id_span, "split the protocol into several rules files"))
            return


def _check_record_tests(rules: list[CompiledRule], diagnostics: list[Diagnostic]) -> None:
    """How many engine patterns test a record the same way, in each ruleset (full dates, partial dates)."""
    for which in ("engine_rules", "interval_rules"):
        counts: Counter[str] = Counter()
        leading: Counter[str] = Counter()
        for rule in rules:
            for engine_rule in getattr(rule, which):
                for pattern in engine_rule.definition()["all"]:
                    ((_, condition),) = pattern.items()
                    lead = _leading_tests(condition)
                    if lead is not None:
                        leading[lead] += 1
                        if leading[lead] == ENGINE_MAX_JOINS_PER_RECORD_TEST + 1:
                            diagnostics.append(Diagnostic(
                                f"more than {ENGINE_MAX_JOINS_PER_RECORD_TEST} engine patterns read a record the "
                                f"same way ({lead}) before joining it to another, up to this rule; durable-rules "
                                f"follows at most {ENGINE_MAX_JOINS_PER_RECORD_TEST} from one record test", rule.span,
                                "fewer rules reading the same schedule's visits or the same reference, or split the "
                                "protocol into several rules files"))
                            return
                    key = _record_test(condition)
                    counts[key] += 1
                    if counts[key] == ENGINE_MAX_RULES_PER_RECORD_TEST + 1:
                        diagnostics.append(Diagnostic(
                            f"more than {ENGINE_MAX_RULES_PER_RECORD_TEST} engine rules test a record the same way "
                            f"({key}) by this rule; durable-rules links at most {ENGINE_MAX_RULES_PER_RECORD_TEST} "
                            "to one record test", rule.span,
                            "fewer rules (or fewer `needs`/`unless` clauses) on the same records, or split the protocol "
                            "into several rules files"))
                        return


def _record_test(condition: dict) -> str:
    """A pattern's tests on its own record, the part the engine shares between rules: joins left out."""
    tests = condition["$and"] if "$and" in condition else [condition]
    own = []
    for test in tests:
        ((key, value),) = test.items()
        if key.startswith("$"):  # {"$lt": {field: value}}
            ((_, value),) = value.items()
        if not _joins(value):
            own.append(test)
    return json.dumps(own, sort_keys=True)


def _leading_tests(condition: dict) -> str | None:
    """A pattern's own tests before its first join, which the engine shares between rules; None: no join."""
    tests = condition["$and"] if "$and" in condition else [condition]
    lead = []
    for test in tests:
        ((key, value),) = test.items()
        if key.startswith("$"):
            ((_, value),) = value.items()
        if _joins(value):
            return json.dumps(lead, sort_keys=True)
        lead.append(test)
    return None


def _joins(value: object) -> bool:
    """Whether a test's value names another record's field (`{"t": "date"}`), however it is wrapped."""
    if isinstance(value, dict):
        return any(not key.startswith("$") or _joins(inner) for key, inner in value.items())
    return False


def check_reference_width(tree: n.Protocol, events: dict[str, EventSpec], finders: tuple[Finder, ...],
                          diagnostics: list[Diagnostic], computed: tuple[ComputedAmount, ...] = ()) -> None:
    """A reference without a filter gives each record it is anchored at two more properties (the day it
    finds, and that day's last day for sessions with a partial date), and so does each amount computed on
    it (its value, and whether it is known): the records must still fit."""
    added: dict[str, list[Finder]] = {}
    for finder in finders:
        if finder.near is not None:
            added.setdefault(finder.anchor_event, []).append(finder)
    amounts: dict[str, int] = {}
    for amount in computed:
        amounts[amount.event] = amounts.get(amount.event, 0) + 1
    for event in amounts:
        added.setdefault(event, [])
    for event, nearing in added.items():
        fields = events[event].fields.values()
        properties = FACT_BASE_PROPERTIES + sum(PROPERTIES_PER_FIELD.get(f.type, 2) for f in fields) + \
            2 * len(nearing) + 2 * amounts.get(event, 0)
        if properties > ENGINE_MAX_PROPERTIES:
            named = {r.name: r.span for r in tree.references}
            spans = [named[f.key] for f in nearing if f.key in named]
            span = spans[-1] if spans else next(e.span for e in tree.events if e.name == event)
            what = " and ".join(part for part in (f"{len(nearing)} references anchored at {event}" if nearing else "",
                                                  f"{amounts[event]} amounts computed on {event}" if event in amounts
                                                  else "") if part)
            diagnostics.append(Diagnostic(
                f"{what} give its records {properties} properties, and durable-rules takes at most "
                f"{ENGINE_MAX_PROPERTIES}", span,
                f"anchor fewer references at {event}, compute fewer amounts on it, or give {event} fewer fields"))
