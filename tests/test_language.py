"""The language constructs that let a protocol cover every criterion, each audited end to end.

`needs` (not evaluable when a record is missing), `unless` (excused), groups of event types,
counts per day and per window after an anchor, clock times and elapsed minutes, `in (...)`,
products such as `2 * uln`, explicit `is known`, criteria and choices, and each subject's standing.
Every case runs a tiny protocol through the real engine; none looks at engine JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from jk500_rules.compiler import compile_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.errors import RulesError
from jk500_rules.language.parser import parse

VOCABULARY = """
protocol "TINY"

criterion C-1 "Criterion one"
criterion C-2 "A criterion no data can show" manual "judged by a person"

event dosing { amount: decimal in mg  time: time }
event premed { time: time }
event lab { test: text required  result: decimal required  uln: decimal }
event visit { purpose: text }
event stop { reason: text required }
event note { flag: boolean }
event course { stop: date }

group procedure "Any procedure" = dosing, lab

parameter interval = 3 months choice "no frequency is fixed"
parameter horizon = 12 months
"""


def protocol_of(rules: str) -> CompiledProtocol:
    text = VOCABULARY + rules
    return compile_protocol(parse(text, "tiny.rules"), "tiny.rules", text)


def audit(protocol: CompiledProtocol, rows: list[dict[str, str]], tmp_path: Path,
          as_of: str | None = None) -> AuditResult:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "TINY", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date.fromisoformat(as_of) if as_of else None)
    assert not result.data.rejections, [r.reason for r in result.data.rejections]
    return result


def found(result: AuditResult) -> list[tuple[str | None, str, str, str | None]]:
    return [(f.subject, f.date, f.status, f.reason) for f in result.findings]


def standing(result: AuditResult, subject: str | None) -> tuple[str, str | None]:
    [s] = [s for s in result.standings if s.subject == subject]
    return s.status, s.reason


def compile_error(rules: str) -> str:
    with pytest.raises(RulesError) as caught:
        protocol_of(rules)
    return caught.value.render()


# ----- needs -------------------------------------------------------------------------------------

NEEDS = """
rule R "Labs are at most 2 x ULN" {
    cites C-1
    for first dosing
        needs a lab where test = "creat" and date within 7 days before first dosing
            otherwise "no creatinine in the week before dosing"
        needs a lab where test = "alt"
        forbid a lab where result > 2 * uln
}
"""


def test_an_unmet_need_is_not_evaluable_with_its_reason(tmp_path: Path) -> None:
    p = protocol_of(NEEDS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "lab", "test": "creat", "result": "1", "uln": "1"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"}]
    result = audit(p, rows, tmp_path)
    assert found(result) == [("S1", "2024-01-10", "not_evaluable", "no creatinine in the week before dosing")]
    assert standing(result, "S1") == ("not_evaluable", "no creatinine in the week before dosing")


def test_a_need_without_its_own_reason_quotes_the_rules_text(tmp_path: Path) -> None:
    p = protocol_of(NEEDS)
    rows = [{"subject": "S1", "date": "2024-01-05", "event": "lab", "test": "creat", "result": "1", "uln": "1"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"}]
    assert found(audit(p, rows, tmp_path)) == [
        ("S1", "2024-01-10", "not_evaluable", 'no lab recorded where test = "alt"')]


def test_needs_met_then_the_rule_is_judged(tmp_path: Path) -> None:
    p = protocol_of(NEEDS)
    base = [{"subject": "S1", "date": "2024-01-05", "event": "lab", "test": "creat", "result": "2", "uln": "1"},
            {"subject": "S1", "date": "2024-01-06", "event": "lab", "test": "alt", "result": "30", "uln": "40"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"}]
    result = audit(p, base, tmp_path)
    assert found(result) == [] and standing(result, "S1") == ("passed", None)
    above = [dict(base[0], result="2.000001")] + base[1:]
    assert found(audit(p, above, tmp_path)) == [("S1", "2024-01-05", "deviation", None)]


def test_a_forbidden_record_outranks_an_unmet_need(tmp_path: Path) -> None:
    p = protocol_of(NEEDS)
    rows = [{"subject": "S1", "date": "2024-01-06", "event": "lab", "test": "alt", "result": "90", "uln": "40"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"}]
    assert found(audit(p, rows, tmp_path)) == [("S1", "2024-01-06", "deviation", None)]


def test_a_product_with_a_missing_factor_field_is_not_evaluable(tmp_path: Path) -> None:
    p = protocol_of(NEEDS)
    rows = [{"subject": "S1", "date": "2024-01-05", "event": "lab", "test": "creat", "result": "2"},
            {"subject": "S1", "date": "2024-01-06", "event": "lab", "test": "alt", "result": "30", "uln": "40"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"}]
    assert found(audit(p, rows, tmp_path)) == [("S1", "2024-01-05", "not_evaluable", "lab has no uln")]


# ----- unless: excused -----------------------------------------------------------------------------

UNLESS = """
rule R "Three visits" {
    for the count of visit per subject
        require count = 3
        judged from first dosing + 60 days
        unless a stop where date <= first dosing.date + 30 days
}
"""


def test_an_excuse_record_excuses_the_subject(tmp_path: Path) -> None:
    p = protocol_of(UNLESS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-02", "event": "visit"},
            {"subject": "S1", "date": "2024-01-31", "event": "stop", "reason": "withdrew"},
            {"subject": "S2", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S2", "date": "2024-02-01", "event": "stop", "reason": "withdrew"},
            {"subject": "S9", "date": "2024-04-01", "event": "note"}]  # the cut-off, past both due dates
    result = audit(p, rows, tmp_path)
    # Stopped on day 31: not excused. Dated when the third visit was due: first dosing + 60 days.
    assert found(result) == [("S2", "2024-03-01", "deviation", None)]
    assert standing(result, "S1") == ("excused", "excused by stop on 2024-01-31")
    assert standing(result, "S2") == ("deviation", None)


def test_an_excuse_counts_only_for_checks_falling_due_after_it(tmp_path: Path) -> None:
    p = protocol_of(UNLESS.replace(" where date <= first dosing.date + 30 days", ""))
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-03-01", "event": "stop", "reason": "withdrew"},  # the day it falls due
            {"subject": "S2", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S2", "date": "2024-03-02", "event": "stop", "reason": "withdrew"},  # a day later
            {"subject": "S3", "date": "2024-01-01", "event": "visit"},  # never dosed: never falls due...
            {"subject": "S3", "date": "2024-01-02", "event": "stop", "reason": "died"},  # ...and stopped
            {"subject": "S4", "date": "2024-01-01", "event": "visit"}]  # never dosed, not stopped
    result = audit(p, rows, tmp_path)
    assert [s.status for s in result.standings] == ["excused", "deviation", "excused", "pending"]
    assert standing(result, "S4")[1] == "judged from first dosing + 60 days, after the data cut-off"


def test_an_excused_check_is_not_pending_and_a_later_excuse_is_not_seen(tmp_path: Path) -> None:
    p = protocol_of(UNLESS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-02", "event": "stop", "reason": "died"}]
    result = audit(p, rows, tmp_path)
    assert result.pending["R"] == 0 and standing(result, "S1")[0] == "excused"
    result = audit(p, rows, tmp_path, as_of="2024-01-01")  # the stop is after the cut-off
    assert result.pending["R"] == 1 and standing(result, "S1")[0] == "pending"


def test_a_subject_that_is_covered_passes_even_with_an_excuse(tmp_path: Path) -> None:
    p = protocol_of(UNLESS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"}] + [
        {"subject": "S1", "date": f"2024-01-0{d}", "event": "visit"} for d in (2, 3, 4)] + [
        {"subject": "S1", "date": "2024-01-05", "event": "stop", "reason": "toxicity"}]
    assert standing(audit(p, rows, tmp_path), "S1") == ("passed", None)


# ----- groups --------------------------------------------------------------------------------------

GROUP = """
rule R "A visit before any procedure" {
    message "The first procedure ({type}, {date}) came before any visit."
    for first procedure
        require a visit where date <= procedure.date
}
"""


def test_first_of_a_group_is_the_earliest_record_of_any_member_type(tmp_path: Path) -> None:
    p = protocol_of(GROUP)
    rows = [{"subject": "S1", "date": "2024-01-05", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-03", "event": "lab", "test": "x", "result": "1"},
            {"subject": "S1", "date": "2024-01-04", "event": "visit"}]
    result = audit(p, rows, tmp_path)
    assert [(f.date, f.message) for f in result.findings] == [
        ("2024-01-03", "The first procedure (lab, 2024-01-03) came before any visit.")]
    assert result.audited == 3  # the group's member records are read, not counted as unused


def test_a_log_row_cannot_name_a_group(tmp_path: Path) -> None:
    p = protocol_of(GROUP)
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({"study": "TINY", "subject": "S1", "date": "2024-01-01", "event": "procedure"}) + "\n",
                    encoding="utf-8")
    result = audit_files(p, [str(path)])
    assert [r.reason for r in result.data.rejections] == [
        "'procedure' names a group of event types; a record gives one of dosing, lab"]


def test_group_members_must_be_subject_event_types() -> None:
    text = compile_error("group bad = dosing, nothing\nrule R \"r\" { for each visit require purpose is known }")
    assert "unknown event type 'nothing'" in text


# ----- counts per day and per window -----------------------------------------------------------------

WINDOWS = """
rule R "A visit in every 3 months for 12 months" {
    message "No visit from {date} to {end} (window {window})."
    for the count of visit per interval from first dosing through horizon
        require count >= 1
        judged from end
        unless a stop where date <= visit.end
}
rule D "One dosing a day" {
    for the count of dosing per day
        require count <= 1
}
"""


def test_every_window_is_judged_empty_ones_too(tmp_path: Path) -> None:
    p = protocol_of(WINDOWS)
    rows = [{"subject": "S1", "date": "2024-01-31", "event": "dosing"},
            {"subject": "S1", "date": "2024-04-29", "event": "visit"},  # last day of window 1
            {"subject": "S1", "date": "2024-10-30", "event": "visit"},  # window 4 (2024-10-31..) misses it
            {"subject": "S1", "date": "2025-02-01", "event": "note"}]
    result = audit(p, rows, tmp_path)
    messages = [f.message for f in result.findings if f.rule.id == "R"]
    # 31 January + 3 months is 30 April (clamped); the 12-month horizon ends on 30 January 2025.
    assert messages == ["No visit from 2024-04-30 to 2024-07-30 (window 2).",
                        "No visit from 2024-10-31 to 2025-01-30 (window 4)."]


def test_windows_after_the_cutoff_are_pending_and_a_stop_excuses_later_ones(tmp_path: Path) -> None:
    p = protocol_of(WINDOWS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-02-01", "event": "visit"},
            {"subject": "S1", "date": "2024-08-01", "event": "stop", "reason": "withdrew"},
            {"subject": "S2", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S2", "date": "2024-02-01", "event": "visit"}]
    result = audit(p, rows, tmp_path, as_of="2024-08-15")
    # Window 2 (April to June) is empty for both; S1 stopped in window 3, which excuses 3 and 4 only.
    # Each is dated when the window's visit was due at the latest: its last day.
    assert [(f.subject, f.date) for f in result.findings if f.rule.id == "R"] == [
        ("S1", "2024-06-30"), ("S2", "2024-06-30")]
    assert result.pending["R"] == 2  # S2's windows 3 and 4, not over by the cut-off


def test_counts_per_day(tmp_path: Path) -> None:
    p = protocol_of(WINDOWS)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-02", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-02", "event": "dosing", "amount": "2"}]
    assert [(f.subject, f.date) for f in audit(p, rows, tmp_path).findings if f.rule.id == "D"] == [
        ("S1", "2024-01-02")]


def test_a_window_length_must_be_a_positive_duration() -> None:
    text = compile_error('rule R "r" { for the count of visit per 0 days from first dosing through horizon '
                         'require count >= 1 }')
    assert "a window's length is a positive number of days, weeks, months or years" in text
    text = compile_error('rule R "r" { for the count of visit per 3 mg from first dosing through horizon '
                         'require count >= 1 }')
    assert "a window's length is a duration" in text


# ----- clock times, membership, products, explicit is known ---------------------------------------------

TIMES = """
rule R "Premedication 30 to 60 minutes before dosing" {
    for each dosing
        require a premed where date = dosing.date and minutes from time to dosing.time between 30 and 60
}
"""


@pytest.mark.parametrize("premed, dosing, status", [
    ("08:30", "09:00", None), ("08:31", "09:00", "deviation"), ("08:00", "09:00", None),
    ("07:59", "09:00", "deviation"), ("08:00:30", "09:00", None), ("08:45", None, "not_evaluable"),
])
def test_minutes_between_clock_times(tmp_path: Path, premed: str, dosing: str | None, status: str | None) -> None:
    p = protocol_of(TIMES)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "premed", "time": premed},
            {"subject": "S1", "date": "2024-01-01", "event": "dosing", **({"time": dosing} if dosing else {})}]
    assert [f.status for f in audit(p, rows, tmp_path).findings] == ([status] if status else [])


def test_a_clock_time_is_validated(tmp_path: Path) -> None:
    p = protocol_of(TIMES)
    path = tmp_path / "log.csv"
    path.write_text("study,site,subject,date,event,time\nTINY,1,S1,2024-01-01,premed,25:00\n", encoding="utf-8")
    assert [r.reason for r in audit_files(p, [str(path)]).data.rejections] == [
        "time '25:00' is not a clock time (HH:MM or HH:MM:SS)"]


def test_elapsed_minutes_need_clock_times() -> None:
    assert "needs two clock-time or two date-time fields" in compile_error(
        'rule R "r" { for each dosing require minutes from date to date < 3 }')


MEMBERS = """
rule IN "Known kinds" { for each visit require purpose in ("screening", "week 1") }
rule OUT "No unscheduled" { for each visit require purpose not in ("unscheduled") }
"""


@pytest.mark.parametrize("kind, rules", [("screening", []), ("week 1", []), ("unscheduled", ["IN", "OUT"]),
                                         ("other", ["IN"]), (None, ["IN", "OUT"])])
def test_membership(tmp_path: Path, kind: str | None, rules: list[str]) -> None:
    p = protocol_of(MEMBERS)
    row = {"subject": "S1", "date": "2024-01-01", "event": "visit", **({"purpose": kind} if kind else {})}
    result = audit(p, [row], tmp_path)
    expected = "not_evaluable" if kind is None else "deviation"
    assert [(f.rule.id, f.status) for f in result.findings] == [(r, expected) for r in rules]


def test_products_are_whole_numbers_times_a_field_of_the_same_record() -> None:
    # Any other product is a computed amount (tests/test_arithmetic.py), worked out per record.
    assert protocol_of('rule R "r" { for each lab require result <= 2.5 * uln }').plan.computed
    assert not protocol_of('rule R "r" { for each lab require result <= 2 * uln }').plan.computed
    assert "a multiplied field is compared with a field of the same record" in compile_error(
        'rule R "r" { for each lab require result <= 2 * first lab.uln }')


def test_a_product_with_a_constant_on_either_side(tmp_path: Path) -> None:
    p = protocol_of('rule R "r" { for each lab require 3 * result <= 9 }')
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "lab", "test": "a", "result": "3"},
            {"subject": "S1", "date": "2024-01-02", "event": "lab", "test": "a", "result": "3.01"}]
    assert [f.date for f in audit(p, rows, tmp_path).findings] == ["2024-01-02"]


def test_explicit_is_known_makes_a_missing_field_a_deviation(tmp_path: Path) -> None:
    p = protocol_of('rule K "r" { for each note require flag is known and flag }\n'
                    'rule U "r" { for each note require flag }')
    result = audit(p, [{"subject": "S1", "date": "2024-01-01", "event": "note"}], tmp_path)
    assert [(f.rule.id, f.status) for f in result.findings] == [("K", "deviation"), ("U", "not_evaluable")]


# ----- criteria, choices, standings -----------------------------------------------------------------------


def test_criteria_and_choices_are_compiled() -> None:
    p = protocol_of('rule R "r" { cites C-1  choice "read it this way"  important yes  '
                    'for each visit require purpose is known }')
    assert [(c.id, c.manual) for c in p.criteria.values()] == [("C-1", None), ("C-2", "judged by a person")]
    assert [(c.owner, c.text) for c in p.choices] == [("parameter interval", "no frequency is fixed"),
                                                      ("R", "read it this way")]
    assert p.rules[0].criteria == ("C-1",) and p.rules[0].important


def test_an_unknown_criterion_is_an_error_with_a_suggestion() -> None:
    text = compile_error('rule R "r" { cites C1 for each visit require purpose is known }')
    assert "unknown criterion 'C1'" in text and "did you mean C-1" in text.replace("'", "")


def test_a_criterion_nobody_cites_is_a_warning() -> None:
    p = protocol_of('rule R "r" { for each visit require purpose is known }')
    assert [w.message for w in p.warnings] == ["criterion C-1 is cited by no rule", "parameter interval is never used",
                                               "parameter horizon is never used", "rule R cites nothing"]


def test_every_subject_has_a_standing_under_every_rule(tmp_path: Path) -> None:
    p = protocol_of(GROUP)
    rows = [{"subject": "S1", "date": "2024-01-05", "event": "visit"},
            {"subject": "S2", "date": "2024-01-05", "event": "dosing"}]
    result = audit(p, rows, tmp_path)
    assert standing(result, "S1") == ("not_applicable", "no first procedure recorded")
    assert standing(result, "S2") == ("deviation", None)


# ----- one record in two roles -------------------------------------------------------------------------


def test_one_record_can_be_both_the_first_and_the_last(tmp_path: Path) -> None:
    p = protocol_of('rule R "r" { for last dosing forbid a visit where date > first dosing.date '
                    'and date <= last dosing.date + 10 days }\n'
                    'rule E "r" { for each dosing require date >= first dosing.date }')
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-05", "event": "visit"}]
    result = audit(p, rows, tmp_path)
    # R: the single dosing is the first and the last. E: the first dosing is compared with itself and
    # passes (were one record unable to fill two roles, E would report it and R would miss the visit).
    assert [(f.rule.id, f.date) for f in result.findings] == [("R", "2024-01-05")]


def test_counts_and_windows_over_a_group(tmp_path: Path) -> None:
    p = protocol_of('rule C "r" { for the count of procedure per day require count <= 1 }\n'
                    'rule W "r" { for the count of visit per 1 months from first procedure through 2 months '
                    'require count >= 1 judged from end }')
    rows = [{"subject": "S1", "date": "2024-01-10", "event": "lab", "test": "x", "result": "1"},
            {"subject": "S1", "date": "2024-01-10", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-20", "event": "visit"},
            {"subject": "S1", "date": "2024-03-20", "event": "note"}]
    result = audit(p, rows, tmp_path)
    # W's second window (February 10 to March 9) is empty: dated on its last day, when the visit was due.
    assert [(f.rule.id, f.date) for f in result.findings] == [("C", "2024-01-10"), ("W", "2024-03-09")]


def test_a_missing_required_record_lists_the_records_that_did_not_qualify(tmp_path: Path) -> None:
    from jk500_rules.reports.json_report import to_json
    from jk500_rules.reports.text_report import to_text

    p = protocol_of(TIMES)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "premed", "time": "08:50"},
            {"subject": "S1", "date": "2024-01-02", "event": "premed", "time": "08:15"},
            {"subject": "S1", "date": "2024-01-01", "event": "dosing", "time": "09:00"},
            {"subject": "S2", "date": "2024-01-01", "event": "dosing", "time": "09:00"}]
    result = audit(p, rows, tmp_path)
    assert [(f.subject, [r.date_text for r in f.considered]) for f in result.findings] == [
        ("S1", ["2024-01-01", "2024-01-02"]), ("S2", [])]
    report = json.loads(to_json(result))
    assert [len(f["considered"]) for f in report["findings"]] == [2, 0]
    assert "considered: no premed recorded" in to_text(result)


# ----- partial dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, bounds", [
    ("2013", ("2013-01-01", "2013-12-31")), ("2024-02", ("2024-02-01", "2024-02-29")),
    ("2023-02", ("2023-02-01", "2023-02-28")), ("2024-02-29", ("2024-02-29", "2024-02-29")),
    ("2024-13", None), ("2024-00", None), ("0000", None), ("2024-2", None), ("24-02", None),
])
def test_date_bounds(text: str, bounds: tuple[str, str] | None) -> None:
    from jk500_rules.dates import date_bounds

    got = date_bounds(text)
    assert (None if got is None else (got[0].isoformat(), got[1].isoformat())) == bounds


EQUAL = """
rule R "Premedication exactly 7 days before the first dose" {
    for first dosing
        require a premed where date = first dosing.date - 7 days
}
"""


@pytest.mark.parametrize("premed, dosing, status", [
    ("2024-01", "2024-01-08", "possible_deviation"),  # 2024-01-01 is in January
    ("2023-12", "2024-01-08", "deviation"),  # no day of December is 2024-01-01
    ("2024-01-01", "2024-01-08", None),
    ("2024-01-01", "2024-01", "possible_deviation"),  # the dose's own date is partial
])
def test_equality_with_partial_dates(tmp_path: Path, premed: str, dosing: str, status: str | None) -> None:
    p = protocol_of(EQUAL)
    rows = [{"subject": "S1", "date": premed, "event": "premed"}, {"subject": "S1", "date": dosing, "event": "dosing"}]
    result = audit(p, rows, tmp_path)
    assert [f.status for f in result.findings] == ([status] if status else [])
    if status == "possible_deviation":
        [finding] = result.findings
        assert "is only known to lie between" in (finding.reason or "")
        assert standing(result, "S1")[0] == "possible_deviation"


def test_a_possible_deviation_names_only_the_partial_dates_the_rule_compares(tmp_path: Path) -> None:
    p = protocol_of('rule R "r" { for first dosing forbid a course where date within 7 days before first dosing }')
    rows = [{"subject": "S1", "date": "2024-01", "event": "course", "stop": "2023"},
            {"subject": "S1", "date": "2024-01-05", "event": "dosing"}]
    [finding] = audit(p, rows, tmp_path).findings
    assert (finding.status, finding.date) == ("possible_deviation", "2024-01")
    assert finding.reason == "course date 2024-01 is only known to lie between 2024-01-01 and 2024-01-31"


# ----- several fields empty at once ---------------------------------------------------------------

def test_a_check_whose_fields_are_all_empty_is_not_evaluable_never_a_deviation(tmp_path: Path) -> None:
    # With one engine rule per empty field (the others present), two empty fields matched none of them,
    # and a check that cannot be decided was reported a certain deviation.
    text = ('protocol "TINY"\nevent e { p: integer  q: integer }\nevent mark { p: integer  q: integer }\n'
            'rule R "r" { for each e require p > 1 and q > 1 }\n'
            'rule F "f" { for each e forbid a mark where p > 1 and q > 1 and date = e.date }\n')
    protocol = compile_protocol(parse(text, "tiny.rules"), "tiny.rules", text)
    rows = [{"subject": "S1", "date": "2024-01-01", "event": "e"},
            {"subject": "S1", "date": "2024-01-01", "event": "mark"},
            {"subject": "S2", "date": "2024-01-01", "event": "e", "p": "5"},
            {"subject": "S3", "date": "2024-01-01", "event": "e", "p": "0"},
            {"subject": "S3", "date": "2024-01-01", "event": "mark", "p": "0"},
            {"subject": "S4", "date": "2024-01-01", "event": "e", "p": "5", "q": "5"}]
    result = audit(protocol, rows, tmp_path)
    assert sorted((f.rule.id, f.subject, f.status, f.reason) for f in result.findings) == [
        ("F", "S1", "not_evaluable", "mark has no p and no q"),  # it was passed: no mark matched
        ("R", "S1", "not_evaluable", "e has no p and no q"),  # it was a certain deviation
        ("R", "S2", "not_evaluable", "e has no q"),
        ("R", "S3", "deviation", None),  # p alone decides it; and the mark's p rules it out for F
    ]
    assert {(s.rule.id, s.status) for s in result.standings if s.subject == "S4"} == {("R", "passed"), ("F", "passed")}


def test_a_condition_reading_too_many_fields_that_may_be_empty_is_refused() -> None:
    fields = " ".join(f"f{i}: integer" for i in range(9))
    text = f'protocol "TINY"\nevent e {{ {fields} }}\nrule R "r" {{ for each e require ' + \
        " and ".join(f"f{i} > 1" for i in range(9)) + " }\n"
    with pytest.raises(RulesError) as caught:
        compile_protocol(parse(text, "tiny.rules"), "tiny.rules", text)
    assert "reads 9 fields that may be empty" in caught.value.render()


def test_a_where_reading_an_empty_field_checks_the_record_all_the_same(tmp_path: Path) -> None:
    # It was refused: the record would have dropped out. Now it is judged whether or not the filter holds.
    p = protocol_of('rule R "r" { for each dosing where amount > 50 mg require date >= first lab }\n')
    rows = [{"subject": "S1", "date": "2024-01-02", "event": "lab", "test": "ANC", "result": "2"},
            {"subject": "S1", "date": "2024-01-01", "event": "dosing"},
            {"subject": "S1", "date": "2024-01-03", "event": "dosing"},
            {"subject": "S2", "date": "2024-01-02", "event": "lab", "test": "ANC", "result": "2"},
            {"subject": "S2", "date": "2024-01-01", "event": "dosing", "amount": "10"},
            {"subject": "S3", "date": "2024-01-02", "event": "lab", "test": "ANC", "result": "2"},
            {"subject": "S3", "date": "2024-01-01", "event": "dosing", "amount": "60"}]
    result = audit(p, rows, tmp_path)
    assert found(result) == [("S1", "2024-01-01", "not_evaluable", "dosing has no amount"),
                             ("S3", "2024-01-01", "deviation", None)]
    assert standing(result, "S2") == ("not_applicable", "no dosing where amount > 50 mg recorded")
