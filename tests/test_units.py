"""Units: kinds and exact factors (`mg/dL`, `10^9/L`, `m2`), and a written amount converted to a field's unit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from jk500_rules import audit_records, compile_rules
from jk500_rules.compiler.units import conversion, dimensioned, known
from jk500_rules.errors import RulesError


@pytest.mark.parametrize("source, target, factor", [
    ("g/L", "mg/dL", Decimal(100)),
    ("g/dL", "g/L", Decimal(10)),
    ("10^3/uL", "10^9/L", Decimal(1)),
    ("mmol/L", "umol/L", Decimal(1000)),
    ("mcg", "mg", Decimal("0.001")),
    ("ug/mL", "mg/L", Decimal(1)),
    ("cm3", "mL", Decimal(1)),
    ("mL/hour", "mL/h", Decimal(1)),
    ("mg/kg/day", "mg/kg/h", Fraction(1, 24)),
    ("L/h", "mL/min", Fraction(1000, 60)),
    ("mg/m2", "g/m2", Decimal("0.001")),
    ("cells/kg", "cells/g", Decimal("0.001")),
])
def test_units_of_one_kind_convert_by_an_exact_factor(source: str, target: str, factor: Decimal) -> None:
    assert conversion(source, target) == factor


@pytest.mark.parametrize("source, target", [("mg/dL", "umol/L"), ("mg", "mL"), ("mg/m2", "mg/kg"),
                                            ("cells/kg", "WU/kg"), ("10^9/L", "g/L"),
                                            ("mmol/mol", "mg/kg"), ("mL/L", "mg/g")])  # ratios of other kinds
def test_units_of_different_kinds_never_convert(source: str, target: str) -> None:
    assert conversion(source, target) is None


def test_a_unit_is_described_by_its_kind() -> None:
    assert dimensioned("umol/L").describe() == "an amount of substance per volume"
    assert dimensioned("mg/m2").describe() == "a mass per area"
    assert dimensioned("g/L/h").describe() == "a mass per volume per time"
    assert dimensioned("mmol/mol").describe() == "an amount of substance per amount of substance"
    assert dimensioned("10^9/L").describe() == "a number per volume"
    assert known("10^3/uL") and known("mL/min") and not known("cells/kg")


HEAD = """protocol "DEMO"
event blood_count "Blood count" { platelets: decimal in 10^9/L required  creatinine: decimal in umol/L }
"""


def _statuses(rule: str, value: str) -> str:
    protocol = compile_rules(HEAD + rule)
    result = audit_records(protocol, [{"study": "DEMO", "site": "01", "subject": "001", "date": "2024-01-01",
                                       "event": "blood_count", "platelets": value}], as_of=dt.date(2024, 2, 1))
    (standing,) = result.standings
    return standing.status


@pytest.mark.parametrize("value, status", [("99.999999", "deviation"), ("100", "passed")])
def test_a_threshold_in_another_unit_of_the_kind_is_exact_at_the_boundary(value: str, status: str) -> None:
    rule = 'rule R "r" { cites "x" for each blood_count require platelets >= 100 10^3/uL }'
    assert _statuses(rule, value) == status


def test_a_threshold_of_another_kind_is_an_error_naming_both_units() -> None:
    rule = 'rule R "r" { cites "x" for each blood_count where creatinine is known require creatinine <= 1.5 mg/dL }'
    with pytest.raises(RulesError, match=r"unit mismatch: umol/L against mg/dL \(umol/L is an amount of substance "
                                         r"per volume, mg/dL a mass per volume\)"):
        compile_rules(HEAD + rule)


def test_a_tolerance_and_a_range_in_another_unit_convert_too() -> None:
    head = HEAD.replace("creatinine: decimal in umol/L", "albumin: decimal in g/L")
    protocol = compile_rules(head + 'rule R "r" { cites "x" for each blood_count where albumin is known\n'
                             '    require albumin within 2 g/L of 3.5 g/dL and albumin between 3 g/dL and 4 g/dL }')
    rows = [{"study": "DEMO", "site": "01", "subject": s, "date": "2024-01-01", "event": "blood_count",
             "platelets": "200", "albumin": a} for s, a in (("001", "33"), ("002", "32.9"), ("003", "37"))]
    result = audit_records(protocol, rows, as_of=dt.date(2024, 2, 1))
    assert sorted(f.subject for f in result.findings) == ["002"]


def test_an_amount_with_no_exact_decimal_in_the_fields_unit_is_refused() -> None:
    head = 'protocol "DEMO"\nevent infusion "Infusion" { rate: decimal in mL/min required }\n'
    compile_rules(head + 'rule R "r" { cites "x" for each infusion require rate <= 6 L/h }')  # 100 mL/min
    with pytest.raises(RulesError, match="1 L/h has no exact decimal value in mL/min"):
        compile_rules(head + 'rule R "r" { cites "x" for each infusion require rate <= 1 L/h }')


def test_a_finite_fraction_is_written_out_exactly_and_another_is_refused() -> None:
    from jk500_rules.compiler.units import exact_decimal
    assert exact_decimal(Fraction(3, 2**40)) == Decimal("2.7284841053187847137451171875E-12")
    assert exact_decimal(Fraction(-7, 8)) == Decimal("-0.875")
    assert exact_decimal(Fraction(1, 3)) is None


def test_a_tables_entries_are_not_converted_and_the_error_says_so() -> None:
    rules = ('protocol "DEMO"\nevent enrolment "Enrolment" { group: integer required }\n'
             'event infusion "Infusion" { dose: decimal in mg required }\nsubject group = enrolment.group\n'
             'parameter nominal = by group { 1: 5 g, 2: 6 g }\n'
             'rule R "r" { cites "x" for each infusion require dose <= nominal[group] }\n')
    with pytest.raises(RulesError, match="the entries of nominal are in g, the field in mg: a table's amounts are "
                                         "not converted"):
        compile_rules(rules)
