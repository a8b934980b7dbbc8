"""Each rule in plain English: golden texts for whole protocols, and one test per language construct.

The goldens in tests/golden/explain/ are the full `explain_protocol` text of JK500 (protocol.txt), of the
second and third trials (other_trial.txt, third_trial.txt) and of every NAME.rules there (NAME.txt).
After a deliberate change, rewrite them with `python tests/test_explain.py --update` and read every changed paragraph against
its rule before committing: a golden is only as good as that review.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler import compile_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.errors import Jk500Error
from jk500_rules.explain import explain_protocol, explain_rule, finding_explanation
from jk500_rules.language import nodes as n
from jk500_rules.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "explain"
GOLDEN_CASES = {
    "protocol": ROOT / "protocol.rules",
    "other_trial": ROOT / "examples" / "other_trial" / "protocol.rules",
    "third_trial": ROOT / "examples" / "third_trial" / "protocol.rules",
    **{p.stem: p for p in sorted(GOLDEN.glob("*.rules"))},
}

VOCABULARY = """
protocol "TINY"

criterion C-1 "Criterion one: doses as planned"

event randomisation "Randomisation to an arm" { arm: integer required  birth_date: date required }
event dosing "Study drug dose" { dose: decimal in mg  time: time  fasting: boolean  code: text }
event premed "Premedication" { time: time }
event visit "Follow-up visit" { purpose: text }
event stop "Subject withdrew, died or stopped" { reason: text required }
event lab "Laboratory result" { test: text required  result: decimal required  uln: decimal }
trial event review "Safety review" { arm: integer required  outcome: text required }

group procedure "Any study procedure" = lab, dosing
subject arm = randomisation.arm

parameter window_length = 28 days
parameter max_age = 65 years
parameter nominal_dose = by arm { 1: 1e2 mg, 2: 250 mg }
parameter dose_tolerance = 10 %
    choice "No tolerance is fixed: 10% either way."
parameter target_dose = 60 mg
parameter review_lag = 14 days
parameter doses_per_subject = 6
"""


def protocol_of(rules: str) -> CompiledProtocol:
    text = VOCABULARY + rules
    return compile_protocol(parse(text, "t.rules"), "t.rules", text)


def explained(check: str, header: str = "") -> str:
    """The explanation of one rule `R-1` whose check (from `for` on) is `check`."""
    protocol = protocol_of(f'rule R-1 "The rule\'s title" {{\n{header}\n{check}\n}}\n')
    return explain_rule(protocol, "R-1")


def sentence(check: str) -> str:
    return finding_explanation(protocol_of(f'rule R-1 "The rule\'s title" {{\n{check}\n}}\n'), "R-1")


# ----- goldens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_explanation(name: str) -> None:
    expected = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")
    assert explain_protocol(load_protocol(str(GOLDEN_CASES[name]))) == expected


def test_golden_corpus_is_complete() -> None:
    assert {p.stem for p in GOLDEN.glob("*.txt")} == set(GOLDEN_CASES)


def test_jk500_golden_has_a_paragraph_per_rule() -> None:
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    text = (GOLDEN / "protocol.txt").read_text(encoding="utf-8")
    headers = [line.split(":", 1)[0] for line in text.splitlines() if line.startswith("JK500-")]
    assert headers == [rule.id for rule in protocol.rules]
    assert len(protocol.rules) == 39


def test_the_brief_example_reads_as_written() -> None:
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    assert finding_explanation(protocol, "JK500-EXCL-LIVE-VACCINE") == (
        "A deviation is reported for every vaccination marked live_attenuated and dated from 28 days before "
        "the subject's first JK500 infusion up to the day of that infusion "
        "(Exclusion 7: used a live attenuated vaccine 4 weeks before administration).")


@pytest.mark.parametrize("name", ["protocol", "other_trial", "third_trial"])
def test_every_rule_shows_its_parameters_values_not_their_names(name: str) -> None:
    protocol = load_protocol(str(GOLDEN_CASES[name]))
    assert protocol.tree is not None
    for rule in protocol.tree.rules:
        body = explain_rule(protocol, rule.id).splitlines()[1]
        for node in _nodes(rule.check):
            param = node.table if isinstance(node, n.Lookup) else \
                node.name if isinstance(node, n.NameRef) and node.field is None else None
            value = protocol.parameters.get(param or "")
            if value is None:
                continue
            if isinstance(value, dict):
                assert all(f"{key}: " in body for key in value), (rule.id, param)
            else:
                assert str(value) in body, (rule.id, param, value)
            if param is not None and "_" in param:
                assert param not in body, (rule.id, param)
        assert "{" not in body and "None" not in body and "$" not in body, rule.id


def _nodes(node: object) -> list[object]:
    found: list[object] = [node]
    if isinstance(node, n.Node):
        for f in dataclasses.fields(node):
            found += _nodes(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            found += _nodes(item)
    return found


def test_explanations_are_deterministic() -> None:
    first = explain_protocol(load_protocol(str(ROOT / "protocol.rules")))
    again = explain_protocol(load_protocol(str(ROOT / "protocol.rules")))
    assert first == again
    assert first == explain_protocol(load_protocol(str(ROOT / "protocol.rules")))


def test_finding_explanation_is_the_paragraphs_first_sentence() -> None:
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    for rule in protocol.rules:
        one = finding_explanation(protocol, rule.id)
        assert one.startswith("A deviation is reported ") and one.endswith(".")
        assert "\n" not in one
        assert explain_rule(protocol, rule.id).splitlines()[1].startswith(one)


def test_an_unknown_rule_id_is_a_tool_error_with_a_hint() -> None:
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    with pytest.raises(Jk500Error, match="did you mean 'JK500-ELIG-AGE'"):
        explain_rule(protocol, "JK500-ELIG-AGES")
    with pytest.raises(KeyError):
        finding_explanation(protocol, "NOPE")


# ----- sources ---------------------------------------------------------------------------------------


def test_each_record() -> None:
    assert sentence("for each dosing require dose <= target_dose") == (
        "A deviation is reported for any study drug dose, if its dose is more than 60 mg.")


def test_first_and_last_record() -> None:
    assert "for a subject's first study drug dose, if its dose is more than 60 mg" in \
        sentence("for first dosing require dose <= target_dose")
    assert "for a subject's last study drug dose" in sentence("for last dosing require dose <= target_dose")


def test_first_record_of_each_group_and_the_nth_subject() -> None:
    text = explained("for first dosing of each arm where arm > 1\n"
                     "require date > the 3rd subject's last dosing in the previous arm + review_lag")
    assert ("for the first study drug dose in each arm with arm more than 1, if it is dated no later than "
            "14 days after the last study drug dose of the 3rd subject of the previous arm") in text
    assert ("The 3rd subject of the previous arm is the 3rd of its subjects, by date, to have their last "
            "study drug dose; if it has fewer than 3 such subjects, that is a deviation.") in text
    assert "A subject's arm is the arm of their earliest randomisation to an arm that records one." in text


def test_counts_per_subject_day_and_week() -> None:
    assert sentence("for the count of dosing per subject require count = doses_per_subject") == (
        "A deviation is reported if a subject's total number of study drug doses (0 if none) is other than 6.")
    assert "the number of study drug doses a subject has on one day is more than 1" in \
        sentence("for the count of dosing per day require count <= 1")
    assert "in one calendar week (Monday to Sunday) is more than 3" in \
        sentence("for the count of dosing per calendar week require count <= 3")
    assert "in one calendar week (Thursday to Wednesday)" in \
        sentence("for the count of dosing per calendar week starting thursday require count <= 3")


def test_count_per_window() -> None:
    text = explained("for the count of visit per 3 months from first dosing through 24 months\n"
                     "require count >= 1 judged from end")
    assert "if the number of follow-up visits a subject has in one window of 3 months is 0" in text
    assert ("The windows run back to back from the day of the subject's first study drug dose, the last ending "
            "the day before 24 months after it") in text
    assert "It is judged only once the data cut-off reaches the window's last day; until then it is pending." in text


def test_event_group_is_defined() -> None:
    text = explained("for first procedure require a randomisation where date <= procedure.date")
    assert "for a subject's first study procedure, if the subject has no randomisation to an arm dated on or " \
        "before the subject's first study procedure" in text
    assert "A study procedure is any record of type lab or dosing." in text


# ----- verdicts --------------------------------------------------------------------------------------


def test_where_filter_narrows_the_records_checked() -> None:
    assert sentence('for each lab where test = "X" forbid result > 2 * uln') == (
        'A deviation is reported for any laboratory result with test "X", if its result is more than 2 times its uln.')


def test_require_and_forbid_a_record() -> None:
    assert sentence('for each dosing require a premed where date = dosing.date') == (
        "A deviation is reported for any study drug dose, if the subject has no premedication dated on the day "
        "of that study drug dose.")
    assert sentence('for each randomisation forbid a lab where test = "HIV" and result > 0') == (
        'A deviation is reported for every laboratory result with test "HIV" and result more than 0, '
        "once per randomisation to an arm.")


def test_trial_level_record_sought() -> None:
    assert "if the trial has no safety review with outcome \"go\"" in \
        sentence('for first dosing of each arm require a review where outcome = "go"')


# ----- conditions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("check", "phrase"), [
    ("require date within window_length before first randomisation",
     ("if it is dated earlier than 28 days before the subject's first randomisation to an arm or after that "
     "randomisation")),
    ("forbid date within window_length before first randomisation",
     "dated from 28 days before the subject's first randomisation to an arm up to the day of that randomisation"),
    ("forbid date within window_length after first randomisation",
     "dated from the day of the subject's first randomisation to an arm up to 28 days after that randomisation"),
    ("forbid date within window_length of first randomisation",
     "dated from 28 days before the subject's first randomisation to an arm to 28 days after that randomisation"),
    ("require dose within dose_tolerance of target_dose", "if its dose is not within 10% of 60 mg (54 to 66 mg)"),
    ("require dose within 5 mg of target_dose", "if its dose is not within 5 mg of 60 mg (55 to 65 mg)"),
    ("require dose within dose_tolerance of nominal_dose[arm]",
     "if its dose is not within 10% of the arm's nominal dose (1: 1e2 mg, 2: 250 mg)"),
    ("forbid dose between 1 mg and 2 mg", "if its dose is between 1 mg and 2 mg inclusive"),
    ("require dose between 1 mg and 2 mg", "if its dose is less than 1 mg or more than 2 mg"),
    ("forbid date between first randomisation.date and first randomisation + 7 days",
     ("if it is dated from the subject's first randomisation to an arm to 7 days after the subject's first "
     "randomisation to an arm")),
    ('forbid code in ("A", "B", "C")', 'if its code is "A", "B" or "C"'),
    ('forbid code not in ("A", "B")', 'if its code is neither "A" nor "B"'),
    ('require code in ("A")', 'if its code is other than "A"'),
    ("forbid code is missing", "if its code is not recorded"),
    ("require code is known", "if its code is not recorded"),
    ("forbid code is known", "if its code is recorded"),
    ("require fasting", "if it is not marked fasting"),
    ("forbid not fasting", "if it is not marked fasting"),
    ("forbid fasting = no", "if it is not marked fasting"),
    ('forbid fasting and code = "A" or dose > target_dose',
     'if either (it is marked fasting and its code is "A") or its dose is more than 60 mg'),
    ('require not (fasting or code = "A")', 'if it is marked fasting or its code is "A"'),
    ('require fasting and (code = "A" or code = "B")',
     'if either it is not marked fasting or (its code is other than "A" and its code is other than "B")'),
    ("require dose = target_dose", "if its dose is other than 60 mg"),
    ("forbid dose = target_dose", "if its dose is exactly 60 mg"),
    ("forbid dose != target_dose", "if its dose is other than 60 mg"),
    ("require date <= first randomisation + 6 months", ("if it is dated later than 6 months after the subject's "
     "first randomisation to an arm")),
    ("require date = first randomisation.date - 7 days", ("if it is not dated exactly 7 days before the subject's "
     "first randomisation to an arm")),
    ("require date > first randomisation.date", "if it is dated on or before the subject's first randomisation"),
])
def test_condition_phrases(check: str, phrase: str) -> None:
    assert phrase in sentence(f"for each dosing {check}")


def test_age_in_completed_years() -> None:
    assert sentence("for each randomisation require years from birth_date to date <= max_age") == (
        "A deviation is reported for any randomisation to an arm, if the subject's age in completed years from "
        "its birth_date to its date is more than 65 years.")


def test_elapsed_clock_minutes_and_calendar_units() -> None:
    assert ("where the number of completed minutes from its time to that study drug dose's time is between 30 "
            "and 60 minutes inclusive") in \
        sentence("for each dosing require a premed where minutes from time to dosing.time between 30 and 60")
    assert "the number of completed weeks from the subject's first randomisation to an arm to its date is " \
        "more than 2 weeks" in sentence("for each visit forbid weeks from first randomisation to date > 2")


def test_a_field_times_a_whole_number() -> None:
    assert "with result more than 2 times its uln" in \
        sentence("for first dosing forbid a lab where result > 2 * uln")


# ----- what else decides the outcome -------------------------------------------------------------------


def test_judged_from_and_unless() -> None:
    text = explained("for the count of dosing per subject require count = doses_per_subject\n"
                     "judged from first dosing + 21 days\nunless a stop where reason = \"died\"")
    assert ("It is judged only once the data cut-off reaches 21 days after the subject's first study drug dose; "
            "until then, and while the subject has no study drug dose, it is pending.") in text
    assert ('It is excused (no deviation) if the subject has a stop with reason "died" on or before the day it '
            "falls due (21 days after the subject's first study drug dose); while the subject has no study drug "
            "dose, any such record excuses it.") in text


def test_unless_without_a_due_date_counts_at_any_date() -> None:
    assert "It is excused (no deviation) if the subject has a stop, whatever its date." in \
        explained("for each dosing require dose <= target_dose unless a stop")


def test_needs_with_and_without_a_reason() -> None:
    text = explained('for first dosing\nneeds a lab where test = "x" otherwise "no x lab"\n'
                     "forbid a lab where result > 2 * uln")
    assert ('It cannot be evaluated without a laboratory result with test "x" ("no x lab"): if the subject has '
            "none, it is reported not evaluable instead of passing (a deviation found is still reported).") in text
    text = explained("for each dosing needs a randomisation require dose <= target_dose")
    assert ('It cannot be evaluated without a randomisation to an arm ("no randomisation recorded"): if the '
            "subject has none, it is reported not evaluable instead of a deviation.") in text


def test_a_missing_value_is_not_evaluable() -> None:
    text = explained("for each dosing require dose within dose_tolerance of nominal_dose[arm]")
    assert ("Where the outcome turns on a value not recorded (the dose field of the study drug dose; the "
            "subject's arm, or its entry in the nominal dose table), it is reported not evaluable.") in text
    assert "Where the outcome" not in explained("for each dosing require dose is known and dose > 1 mg")


def test_a_missing_record_named_by_a_require_is_a_deviation() -> None:
    assert "A subject with no follow-up visit fails the check: a deviation." in \
        explained("for each dosing require date <= first visit + 7 days")
    assert "A subject with no" not in explained("for each dosing forbid date <= first visit + 7 days")


# ----- severity, importance, criteria, choices ----------------------------------------------------------


def test_severity_importance_criteria_and_choices() -> None:
    text = explained("for each dosing require dose within dose_tolerance of target_dose",
                     'severity minor\nimportant yes\ncites C-1\nchoice "Doses are read as recorded."')
    assert text.splitlines()[0] == "R-1: The rule's title"
    assert "(Criterion one: doses as planned)." in text
    assert "Severity minor; an important deviation (ICH E3); cites C-1." in text
    assert "\nReading: Doses are read as recorded." in text
    assert "\nReading (dose_tolerance): No tolerance is fixed: 10% either way." in text


def test_defaults_and_free_text_citation() -> None:
    text = explained("for each dosing require dose <= target_dose", 'cites "Protocol section 6.1"')
    assert "more than 60 mg (Protocol section 6.1)." in text
    assert text.endswith("Severity major; not an important deviation.")


def test_event_labels_that_do_not_read_as_nouns_give_way_to_names() -> None:
    # "Subject withdrew, died or stopped" is no noun phrase: the event's name is used instead.
    assert "if the subject has a stop, whatever its date" in \
        explained("for each dosing require dose <= target_dose unless a stop")


def _update() -> None:
    for name, path in GOLDEN_CASES.items():
        (GOLDEN / f"{name}.txt").write_text(explain_protocol(load_protocol(str(path))), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update()
