"""Computed amounts: unit algebra, exact decimal evaluation per record, tolerances exact at their ends,
negation, unknown operands, partial birth dates, formulas, and thresholds that never reach the facts."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from jk500_rules import audit_records, compile_rules
from jk500_rules.compiler.model import Test as EngineTest
from jk500_rules.compiler.units import amount_conversion, combine, dimensioned
from jk500_rules.engine.computed_facts import add_computed_facts
from jk500_rules.engine.durable import Engine
from jk500_rules.engine.trial_facts import build_sessions
from jk500_rules.errors import RulesError
from jk500_rules.inputs.validation import validate

AS_OF = dt.date(2024, 6, 1)

HEAD = '''protocol "DEMO"
event screening "Screening" {
    birth_date: date required
    weight: decimal in kg
    creatinine: decimal in mg/dL
    sex: text required
}
event vitals "Vitals" { weight: decimal in kg required }
event dosing "Dose" { dose: decimal in mg required  volume: decimal in mL  tablets: integer  per_kg: decimal in mg/kg }
subject body_weight = screening.weight
subject sex = screening.sex
reference cycle_weight = latest vitals dated on or before each dosing
parameter sex_factor = by sex { "F": 0.85, "M": 1 }
formula crcl "Creatinine clearance by Cockcroft-Gault" in mL/min =
    (140 - years from birth_date to date) * weight / (72 * creatinine) * sex_factor[sex]
    empirical "Cockcroft-Gault's constant 72 carries the units."
'''


def rule(text: str) -> str:
    return HEAD + 'rule R "r" {\n    cites "x"\n    ' + text + "\n}\n"


def row(subject: str, date: str, event: str, **values: str) -> dict[str, str]:
    return {"study": "DEMO", "site": "01", "subject": subject, "date": date, "event": event, **values}


def screening(subject: str, weight: str = "70", birth: str = "1964-01-10", **values: str) -> dict[str, str]:
    return row(subject, "2024-01-10", "screening", birth_date=birth, weight=weight, sex=values.pop("sex", "M"),
               **values)


def standing(text: str, rows: list[dict[str, str]], subject: str = "001") -> tuple[str, str | None]:
    result = audit_records(compile_rules(rule(text)), rows, as_of=AS_OF)
    (found,) = [s for s in result.standings if s.subject == subject]
    return found.status, found.reason


# ----- units ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("left, right, divide, unit", [
    ("mg/kg", "kg", False, "mg"),  # the same unit cancels
    ("mg/kg", "g", False, "mg.g/kg"),  # one kind, other units: kept as written
    ("kg", "mg/dL", True, "kg.dL/mg"),
    (None, "mL/min", False, "mL/min"),  # a plain number keeps the unit
    ("mL/min", "min", False, "mL"),
    ("10^9/L", "L", False, "10^9"),
    (None, "kg", True, "10^0/kg"),
    ("mg", "m2", True, "mg/m2"),
    ("mg", "kg", True, "mg/kg"),  # a dose per weight stays one: it compares with a field in mg/kg
])
def test_units_multiply_divide_and_cancel(left: str | None, right: str, divide: bool, unit: str | None) -> None:
    assert combine(left, right, divide) == unit


@pytest.mark.parametrize("amount, target, factor", [
    ("mg.g/kg", "mg", Fraction(1, 1000)),  # a kind above and below cancels in the amount, its scales kept
    ("kg.dL/mg", "L", Fraction(10**5)),
    ("mg/kg", "mg/kg", Fraction(1)),
    ("mg/kg", "mmol/mol", None),  # the target's kinds never cancel
    ("kg.dL/mg", "mL/min", None),
    ("10^9", None, None),
])
def test_a_computed_amount_converts_once_its_kinds_cancel(amount: str, target: str | None,
                                                         factor: Fraction | None) -> None:
    assert amount_conversion(amount, target) == factor


def test_a_product_of_units_is_described_by_its_kinds() -> None:
    assert dimensioned("kg.m/s").describe() == "a mass times a length per time"
    assert dimensioned("10^0/kg").describe() == "a number per mass"


# ----- exact decimals ---------------------------------------------------------------------------------


def _amounts(text: str, rows: list[dict[str, str]]) -> list[tuple[int, int]]:
    """Each computed amount's (value in millionths, known) on the facts of the rule's records."""
    protocol = compile_rules(rule(text))
    records = [validate(r, "log", i, protocol, None) for i, r in enumerate(rows, start=2)]
    field = protocol.plan.computed[0].field
    out = []
    for session in build_sessions(records, protocol, AS_OF):  # type: ignore[arg-type]
        add_computed_facts(session, protocol)
        out += [(fact[field], fact[f"{field}__known"]) for fact in session.facts if field in fact]
    return out


@pytest.mark.parametrize("volume, expected", [
    ("1", 333333),  # 1/3 to 6 places
    ("2", 666667),
    ("0.000005", 2),  # 0.0000025: half-even, down to the even millionth
    ("0.000007", 4),  # 0.0000035: half-even, up
])
def test_a_division_is_exact_to_6_decimal_places_half_even(volume: str, expected: int) -> None:
    text = "for each dosing where volume is known\n        require volume / 3 <= 1 mL" if volume in "12" else \
        "for each dosing where volume is known\n        require volume / 2 <= 1 mL"
    amounts = _amounts(text, [row("001", "2024-01-15", "dosing", dose="1", volume=volume)])
    assert amounts == [(expected, 1)]


def test_products_and_sums_are_exact_and_only_the_result_is_rounded() -> None:
    amounts = _amounts("for each dosing where volume is known\n        require volume * 0.5 + 0.0000005 mL <= 1 L",
                       [row("001", "2024-01-15", "dosing", dose="1", volume="1.000001")])
    # 0.5000005 + 0.0000005 = 0.500001 exactly; rounding the product first (to 0.500000) would give 0.500000
    assert amounts == [(500001, 1)]


def test_cockcroft_gault_is_worked_out_as_written() -> None:
    # (140 - 60) * 54 / (72 * 1.2) = 4320 / 86.4 = 50 exactly; a woman: 50 * 0.85 = 42.5
    rows = [screening("001", weight="54", birth="1963-06-01", creatinine="1.2"),
            screening("002", weight="54", birth="1963-06-01", creatinine="1.2", sex="F")]
    assert _amounts("for each screening\n        require crcl >= 50 mL/min", rows) == [(50000000, 1), (42500000, 1)]


# ----- tolerances, exact at their ends ------------------------------------------------------------------

WEIGHT_DOSE = "for each dosing\n        require dose within 10 % of 10 mg/kg * body_weight"


@pytest.mark.parametrize("dose, status", [
    ("630", "passed"), ("629.999999", "deviation"),  # -10 % exactly, and one millionth below
    ("770", "passed"), ("770.000001", "deviation"),  # +10 % exactly, and one millionth above
    ("700", "passed"),
])
def test_a_percentage_of_a_computed_amount_is_exact_at_its_ends(dose: str, status: str) -> None:
    rows = [screening("001"), row("001", "2024-01-15", "dosing", dose=dose)]
    assert standing(WEIGHT_DOSE, rows)[0] == status


@pytest.mark.parametrize("dose, status", [("630", "passed"), ("629.999999", "deviation"),
                                          ("770.000001", "deviation")])
def test_the_same_through_a_reference_and_its_negation_is_the_exact_complement(dose: str, status: str) -> None:
    rows = [screening("001"), row("001", "2024-01-14", "vitals", weight="70"),
            row("001", "2024-01-15", "dosing", dose=dose)]
    text = "for each dosing\n        require dose within 10 % of 10 mg/kg * cycle_weight.weight"
    assert standing(text, rows)[0] == status
    negated = "for each dosing\n        forbid dose within 10 % of 10 mg/kg * cycle_weight.weight"
    assert standing(negated, rows)[0] == {"passed": "deviation", "deviation": "passed"}[status]


def test_a_percentage_of_an_amount_below_zero_is_never_met() -> None:
    rows = [screening("001", weight="70"), row("001", "2024-01-15", "dosing", dose="-100")]
    text = "for each dosing\n        require dose within 10 % of 10 mg/kg * (body_weight - 80 kg)"  # -100 mg
    assert standing(text, rows)[0] == "deviation"
    negated = "for each dosing\n        require not (dose within 10 % of 10 mg/kg * (body_weight - 80 kg))"
    assert standing(negated, rows)[0] == "passed"


@pytest.mark.parametrize("dose, status", [("355", "passed"), ("355.000001", "deviation"), ("345", "passed"),
                                          ("344.999999", "deviation")])
def test_an_absolute_tolerance_around_a_computed_amount(dose: str, status: str) -> None:
    rows = [screening("001"), row("001", "2024-01-15", "dosing", dose=dose)]
    assert standing("for each dosing\n        require dose within 5 mg of 10 mg/kg * body_weight / 2", rows)[0] \
        == status


@pytest.mark.parametrize("tablets, status", [("3", "passed"), ("4", "deviation")])
def test_a_field_of_the_same_record_against_a_computed_amount(tablets: str, status: str) -> None:
    # an integer field against an amount in millionths: 3.5 tablets' worth of 100 mg
    rows = [row("001", "2024-01-15", "dosing", dose="350", tablets=tablets)]
    assert standing("for each dosing where tablets is known\n        require tablets <= dose / 100 mg", rows)[0] \
        == status
    rows = [row("001", "2024-01-15", "dosing", dose="350", per_kg=tablets)]
    assert standing("for each dosing where per_kg is known\n        require dose / 100 kg >= per_kg", rows)[0] \
        == status


def test_a_threshold_in_another_unit_of_the_kind_is_converted() -> None:
    rows = [screening("001", weight="54", birth="1963-06-01", creatinine="1.2")]  # 50 mL/min
    assert standing("for each screening\n        require crcl >= 3 L/h", rows)[0] == "passed"  # 50 mL/min
    assert standing("for each screening\n        require crcl > 3 L/h", rows)[0] == "deviation"


# ----- unknown operands ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, reason", [
    ([row("001", "2024-01-15", "dosing", dose="700")],
     "10 mg/kg * body_weight cannot be worked out: the subject has no body_weight"),
    ([screening("001", weight=""), row("001", "2024-01-15", "dosing", dose="700")],
     "10 mg/kg * body_weight cannot be worked out: the subject has no body_weight"),
])
def test_an_unknown_operand_makes_the_check_not_evaluable_naming_it(rows: list[dict[str, str]], reason: str) -> None:
    assert standing(WEIGHT_DOSE, rows) == ("not_evaluable", reason)


def test_a_missing_reference_a_missing_field_and_a_division_by_zero() -> None:
    text = "for each dosing\n        require dose within 10 % of 10 mg/kg * cycle_weight.weight"
    assert standing(text, [row("001", "2024-01-15", "dosing", dose="700")]) == (
        "not_evaluable", "10 mg/kg * cycle_weight.weight cannot be worked out: there is no cycle_weight")
    crcl = "for each screening\n        require crcl >= 50 mL/min"
    assert standing(crcl, [screening("001")]) == (
        "not_evaluable", "crcl cannot be worked out: screening has no creatinine")
    assert standing(crcl, [screening("001", creatinine="0")]) == (
        "not_evaluable", "crcl cannot be worked out: 72 * creatinine is 0")
    assert standing(crcl, [screening("001", weight="", creatinine="")]) == (
        "not_evaluable", "crcl cannot be worked out: screening has no weight; screening has no creatinine")
    assert standing(crcl, [screening("001", creatinine="1", sex="X")]) == (
        "not_evaluable", "crcl cannot be worked out: sex_factor has no entry for sex X")


@pytest.mark.parametrize("birth, status", [("1964", "not_evaluable"), ("1964-05", "passed"),
                                           ("1964-01", "not_evaluable")])
def test_a_partial_birth_date_is_used_only_when_the_completed_years_are_certain(birth: str, status: str) -> None:
    # screening on 2024-01-10: born in 1964 is 59 or 60; in May 1964, 59 whatever the day; in January, either
    rows = [screening("001", birth=birth, creatinine="1")]
    found, reason = standing("for each screening\n        require crcl >= 50 mL/min", rows)
    assert found == status
    if status == "not_evaluable":
        assert reason is not None and "years from birth_date to date is not certain" in reason


def test_a_message_shows_a_formulas_value() -> None:
    protocol = compile_rules(rule('message "CrCl {crcl}"\n    for each screening\n        require crcl >= 60 mL/min'))
    result = audit_records(protocol, [screening("001", weight="54", birth="1963-06-01", creatinine="1.2")],
                           as_of=AS_OF)
    (finding,) = result.findings
    assert finding.message == "CrCl 50 mL/min"


# ----- the engine's integer comparisons -------------------------------------------------------------------


def test_a_fraction_of_an_amount_is_rounded_exactly_by_the_engine() -> None:
    ceil = EngineTest("m", "dose", ">=", other="m", other_field="c", factor=9, divisor=10, rounding="ceil")
    floor = EngineTest("m", "dose", "<=", other="m", other_field="c", factor=11, divisor=10, rounding="floor")
    facts = [{"kind": "x", "c": c, "dose": dose} for c, dose in
             ((1000001, 900000), (1000001, 900001), (4 * 10**18, 44 * 10**17), (4 * 10**18, 44 * 10**17 + 1))]
    with Engine({"r": {"all": [{"m": {"$and": [{"kind": "x"}, ceil.condition(), floor.condition()]}}]}}) as engine:
        matched = sorted(refs["m"] for _, refs in engine.feed("s", facts))
    assert matched == [1, 2]  # ceil(900000.9) = 900001; no overflow at 4e18 * 11 / 10


# ----- facts hold the formula, never a threshold ----------------------------------------------------------


def test_a_changed_threshold_changes_the_rules_not_the_facts() -> None:
    rows = [screening("001", weight="54", birth="1963-06-01", creatinine="1.2"),
            row("001", "2024-01-15", "dosing", dose="700")]
    texts = [("require crcl >= 50 mL/min", "require dose within 10 % of 10 mg/kg * body_weight"),
             ("require crcl >= 60 mL/min", "require dose within 5 % of 10 mg/kg * body_weight")]
    protocols, facts = [], []
    for crcl, dose in texts:
        protocol = compile_rules(HEAD + f'rule A "a" {{ cites "x" for each screening {crcl} }}\n'
                                 f'rule B "b" {{ cites "x" for each dosing {dose} }}\n')
        records = [validate(r, "log", i, protocol, None) for i, r in enumerate(rows, start=2)]
        sessions = build_sessions(records, protocol, AS_OF)  # type: ignore[arg-type]
        for session in sessions:
            add_computed_facts(session, protocol)
        protocols.append(protocol)
        facts.append([s.facts for s in sessions])
    assert facts[0] == facts[1]
    assert protocols[0].plan == protocols[1].plan
    assert protocols[0].rulesets() != protocols[1].rulesets()


# ----- mistakes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ('formula clearance in mL/min = weight / creatinine\nrule R "r" { cites "x" for each screening '
     'require clearance >= 50 mL/min }', "unit mismatch: formula clearance gives kg.dL/mg, but is declared in mL/min"),
    ('rule R "r" { cites "x" for each dosing require dose + volume <= 100 mg }',
     r"unit mismatch: cannot add mL and mg \(mg is a mass, mL a volume\)"),
    ('rule R "r" { cites "x" for each dosing require dose within 10 % of 10 mg/kg * volume }',
     r"unit mismatch: mg against mg.mL/kg \(mg is a mass, mg.mL/kg a volume\)"),
    ('formula loop in mg = loop * 2\nrule R "r" { cites "x" for each dosing require dose <= loop }',
     "formula loop reads itself"),
    ('formula sex in mg = dose\n', "'sex' already names a subject attribute"),
    ('formula odd in furlongs = dose\n', "unknown unit 'furlongs' for formula odd"),
    ('rule R "r" { cites "x" for each dosing require dose within 150 % of 10 mg/kg * body_weight }',
     "a percentage tolerance around a computed amount is from 0 % to 100 %"),
    ('rule R "r" { cites "x" for the count of dosing per subject require count <= body_weight / 10 kg }',
     "a computed amount is worked out on the record a subject-level rule checks"),
    ('rule R "r" { cites "x" for each dosing require dose <= (dose > 1) * 2 }',
     "a condition in parentheses stands where an amount is meant"),
])
def test_mistakes_are_errors_with_a_position(text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        compile_rules(HEAD + text)


def test_an_unused_formula_is_a_warning() -> None:
    protocol = compile_rules(HEAD.replace('parameter sex_factor', 'event lab { uln: decimal }\nparameter sex_factor')
                             + 'rule R "r" { cites "x" for each lab where uln is known require uln <= 2 }\n')
    assert any("formula crcl is never used" in w.message for w in protocol.warnings)


def test_decimal_attributes_neither_group_subjects_nor_key_tables() -> None:
    with pytest.raises(RulesError, match="a table is looked up by an integer, text or boolean attribute; "
                                         "body_weight is decimal"):
        compile_rules(HEAD + "parameter by_weight = by body_weight { 70: 1 mg }\n")
    with pytest.raises(RulesError, match="subjects are grouped by an integer, text or boolean attribute"):
        compile_rules(rule("for first dosing of each body_weight\n        require date > 0"))
