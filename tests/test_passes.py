"""Each compiler pass alone: what it takes, what it returns, what it reports, and what it leaves to the next."""

from __future__ import annotations

import pytest

from jk500_rules.compiler.check import check
from jk500_rules.compiler.declare import declare
from jk500_rules.compiler.lower import lower
from jk500_rules.compiler.operands import TypedCompare, TypedRange
from jk500_rules.compiler.pipeline import compile_version
from jk500_rules.compiler.plan import plan_facts
from jk500_rules.compiler.resolve import resolve
from jk500_rules.errors import Diagnostic
from jk500_rules.language import nodes as n
from jk500_rules.language.parser import parse

VOCABULARY = '''protocol "P"
event enrolment "Enrolment" {
    arm: integer required
}
event dose "Dose" {
    amount: decimal in mg required
    note: text
}
event lab "Lab" {
    result: decimal in mg
}
subject arm = enrolment.arm
parameter limit = 10 mg
'''


def rules(body: str) -> tuple[n.Protocol, list[str]]:
    text = VOCABULARY + body
    return parse(text, "p.rules"), text.splitlines()


def messages(diagnostics: list[Diagnostic]) -> list[str]:
    """The errors (a rule that cites nothing also draws a warning, beside the point here)."""
    return [d.message for d in diagnostics if d.severity == "error"]


def test_declare_collects_the_vocabulary_and_reports_a_clash() -> None:
    tree, _ = rules('event dose "Again" {\n    x: integer\n}\ngroup any_record "Any" = dose, lab\n')
    found: list[Diagnostic] = []
    decls = declare(tree, found)
    assert messages(found) == ["event dose is declared twice"]
    assert decls.attributes == {"arm": ("enrolment", "arm")}
    assert decls.groups == {"any_record": ("dose", "lab")}
    assert "any_record" in decls.events  # a group reads as an event type of its own
    assert decls.units == frozenset({"mg"})


def test_resolve_binds_names_and_leaves_out_a_leaf_whose_name_is_unknown() -> None:
    tree, lines = rules('rule R "r" {\n    for each dose\n        require amount <= limit and nope = 1\n}\n')
    found: list[Diagnostic] = []
    resolved = resolve(tree, declare(tree, found), lines, found)
    (rule,) = resolved.rules
    assert messages(found) == ["unknown name 'nope'"]
    bound = {type(leaf).__name__ for leaf in rule.bound}
    assert bound == {"Compare"} and len(rule.bound) == 1  # `nope = 1` is not bound
    amount = next(v for node, v in rule.values.items() if getattr(node, "name", "") == "amount")
    assert (amount.alias, amount.field, amount.type, amount.unit) == ("t", "amount", "number", "mg")
    assert resolved.used_params == frozenset({"limit"})


def test_resolve_drops_a_rule_whose_record_checked_does_not_exist() -> None:
    tree, lines = rules('rule R "r" {\n    for each dosse\n        require amount > 0\n}\n')
    found: list[Diagnostic] = []
    resolved = resolve(tree, declare(tree, found), lines, found)
    assert resolved.rules == ()
    (error,) = [d for d in found if d.severity == "error"]
    assert (error.message, error.hint) == ("unknown event type 'dosse'", "did you mean 'dose'?")


def test_check_types_each_leaf_and_reports_a_type_mismatch_once() -> None:
    tree, lines = rules('rule R "r" {\n    for each dose\n        require amount between 1 mg and 5 mg\n'
                        '            and amount < 2 %\n            and note = 2\n}\n')
    found: list[Diagnostic] = []
    checked = check(resolve(tree, declare(tree, found), lines, found), found)
    (rule,) = checked.rules
    assert messages(found) == ["cannot compare a number in mg with a percentage", "cannot compare a text with a number"]
    assert sorted(type(leaf).__name__ for leaf in rule.leaves.values()) == ["TypedRange"]
    (typed,) = rule.leaves.values()
    assert isinstance(typed, TypedRange) and (typed.low.const, typed.high.const) == (1, 5)


def test_lower_makes_alternatives_of_a_negated_range_and_scales_decimals() -> None:
    tree, lines = rules('rule R "r" {\n    for each dose\n        forbid not (amount between 1 mg and 5 mg)\n}\n')
    found: list[Diagnostic] = []
    lowered = lower(check(resolve(tree, declare(tree, found), lines, found), found), found)
    assert messages(found) == []
    (rule,) = lowered.rules
    assert [[t for atom in conj for t in atom.tests] for conj in rule.body] == [
        [_test("t", "amount", "<", 1_000_000)], [_test("t", "amount", ">", 5_000_000)]]


def _test(alias: str, field: str, op: str, const: int):  # noqa: ANN202 - the model's Test
    from jk500_rules.compiler.model import Test

    return Test(alias, field, op, const)


def test_lower_reports_what_the_engine_cannot_state_and_reads_the_leaf_as_true() -> None:
    tree, lines = rules('rule R "r" {\n    for each dose\n        require 1 mg < 2 mg\n}\n')
    found: list[Diagnostic] = []
    checked = check(resolve(tree, declare(tree, found), lines, found), found)
    assert isinstance(next(iter(checked.rules[0].leaves.values())), TypedCompare)
    lowered = lower(checked, found)
    assert messages(found) == ["this comparison has no field in it"]
    assert lowered.rules[0].body == ((),)


def test_plan_reads_only_what_the_rules_name() -> None:
    tree, lines = rules('rule R "r" {\n    for each lab\n        require result <= limit\n}\n'
                        'rule S "s" {\n    for each dose where arm = 2\n        require amount > 0 mg\n}\n')
    found: list[Diagnostic] = []
    decls = declare(tree, found)
    plan = plan_facts(list(resolve(tree, decls, lines, found).rules), decls)
    assert messages(found) == []
    assert plan.events == frozenset({"lab", "dose", "enrolment"})  # enrolment: the subject's arm
    assert plan.subject and not plan.counts and not plan.windows


@pytest.mark.parametrize("body, expected", [
    ('rule R "r" {\n    for each dose\n        require nope > 1 and nope < 2\n}\n',
     ["unknown name 'nope'", "unknown name 'nope'"]),
    ('rule R "r" {\n    for each dose\n        require a lab where result > dose.amount * dose.note\n}\n',
     ["a text cannot be computed with"]),
])
def test_the_pipeline_reports_each_mistake_once(body: str, expected: list[str]) -> None:
    tree, lines = rules(body)
    found: list[Diagnostic] = []
    build = compile_version(tree, "p.rules", "\n".join(lines), found)
    assert messages(found) == expected
    # The leaf in error reads as true and the rule is checked on, so that its other mistakes are found
    # too; compile_protocol then refuses the file.
    assert [rule.id for rule in build.protocol.rules] == ["R"]


def test_declare_refuses_the_names_the_audit_and_the_engine_use_themselves() -> None:
    tree, _ = rules('event note "Note" {\n    _t: integer\n}\nsubject id = enrolment.arm\n')
    found: list[Diagnostic] = []
    declare(tree, found)
    assert messages(found) == ["'_t' is reserved and cannot name a field",
                               "'id' is reserved and cannot name a subject attribute"]


def test_declare_names_a_table_key_given_twice_at_its_first_entry() -> None:
    # Keys are counted once for the table (keys.count per entry was quadratic: 46 s for 20,000 entries).
    entries = ", ".join(f"{k}: {k} mg" for k in (1, 2, 3, 2, 4))
    tree, lines = rules(f"parameter by_arm = by arm {{ {entries} }}\n")
    found: list[Diagnostic] = []
    declare(tree, found)
    assert messages(found) == ["key 2 appears twice in by_arm"]
    (diagnostic,) = found
    assert diagnostic.span is not None and lines[diagnostic.span.line - 1].startswith("parameter by_arm")
    assert lines[diagnostic.span.line - 1][diagnostic.span.column - 1:].startswith("2: 2 mg, 3")
