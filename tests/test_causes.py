"""Not-evaluable findings grouped by their root cause (issue 18): what names a cause (compiler/causes.py),
and the reports on the bundled example without JK500-01-008's screening checklist, whose absence blocks
seven rules. features/report_causes.feature states the grouping for monitors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from jk500_rules import audit_records, compile_rules, load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.reports.csv_report import to_csv
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.report_content import not_evaluable_by_cause
from jk500_rules.reports.text_report import to_text

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
SCREENING_ROW = ",JK500-01-008,2024-05-15,screening,"  # the subject's one screening checklist
BLOCKED = ["JK500-EXCL-CONGENITAL", "JK500-EXCL-INFECTION", "JK500-EXCL-OTHER-TRIAL", "JK500-EXCL-RECENT-DISEASE",
           "JK500-EXCL-RECENT-SURGERY", "JK500-EXCL-PLANNED-SURGERY", "JK500-EXCL-LIVE-VACCINE"]

HEAD = '''
protocol "DEMO"
event screening "Screening checklist" { active_infection: boolean  surgery_planned: boolean }
event enrolment "Enrolment" { arm: text required }
event lab "Laboratory result" { test: text required  result: decimal required }
'''


def _rule(rule_id: str, need: str) -> str:
    return f'''
rule {rule_id} "{rule_id}" {{
    cites "the protocol"
    for each enrolment
        {need}
        forbid a lab where result > 100
}}
'''


def _causes(*needs: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per rule: the reasons its `needs` clauses give, and the causes they name."""
    protocol = compile_rules(HEAD + "".join(_rule(f"DEMO-{i}", need) for i, need in enumerate(needs, start=1)))
    return {rule.id: (rule.needs, rule.need_causes) for rule in protocol.rules}


# ----- what names a cause ------------------------------------------------------------------------


def test_clauses_seeking_one_record_in_the_same_words_name_it_in_those_words() -> None:
    need = 'needs a screening otherwise "no screening checklist recorded"'
    assert _causes(need, need) == {rule: (("no screening checklist recorded",),) * 2 for rule in ("DEMO-1", "DEMO-2")}


def test_clauses_seeking_one_record_in_other_words_name_it_by_the_record() -> None:
    causes = _causes('needs a screening otherwise "no screening checklist recorded"',
                     'needs a screening otherwise "the screening CRF is missing"',
                     "needs a screening")
    assert causes == {"DEMO-1": (("no screening checklist recorded",), ("no screening recorded",)),
                      "DEMO-2": (("the screening CRF is missing",), ("no screening recorded",)),
                      "DEMO-3": (("no screening recorded",), ("no screening recorded",))}


def test_records_of_one_type_sought_with_other_conditions_are_other_causes() -> None:
    # The same words for two records: a cause never stands for two, so each is named by its record.
    causes = _causes('needs a lab where test = "creatinine" otherwise "a lab is missing"',
                     'needs a lab where test = "bilirubin" otherwise "a lab is missing"')
    assert causes["DEMO-1"][1] == ('no lab recorded where test = "creatinine"',)
    assert causes["DEMO-2"][1] == ('no lab recorded where test = "bilirubin"',)


def test_a_writers_reason_that_is_another_records_name_is_not_taken() -> None:
    # The labs' clauses disagree, so their cause is "no lab recorded"; the screening clause that says
    # "no lab recorded" must not share it.
    causes = _causes('needs a screening otherwise "no lab recorded"', 'needs a lab otherwise "labs missing"',
                     'needs a lab otherwise "no lab in the file"')
    assert causes["DEMO-1"][1] == ("no screening recorded",)
    assert causes["DEMO-2"][1] == causes["DEMO-3"][1] == ("no lab recorded",)


def test_each_clause_of_a_rule_names_its_own_cause_and_the_finding_the_one_unmet() -> None:
    protocol = compile_rules(HEAD + _rule("DEMO-1", 'needs a screening otherwise "missing"\n'
                                                     '        needs a lab otherwise "missing"'))
    assert protocol.rules[0].need_causes == ("no screening recorded", "no lab recorded")
    result = audit_records(protocol, [
        {"subject": "S1", "date": "2024-01-02", "event": "enrolment", "arm": "A"},
        {"subject": "S1", "date": "2024-01-01", "event": "screening", "active_infection": "no"},
        {"subject": "S2", "date": "2024-01-02", "event": "enrolment", "arm": "A"},
        {"subject": "S2", "date": "2024-01-01", "event": "lab", "test": "ALT", "result": "20"}])
    assert [(f.subject, f.reason, f.cause) for f in result.findings] == [("S1", "missing", "no lab recorded"),
                                                                         ("S2", "missing", "no screening recorded")]


def test_an_empty_field_is_its_own_cause_and_other_findings_have_none() -> None:
    protocol = compile_rules(HEAD + '''
rule DEMO-1 "No active infection" {
    cites "the protocol"
    for each screening
        forbid active_infection
}
rule DEMO-2 "No surgery planned" {
    cites "the protocol"
    for each screening
        forbid surgery_planned
}''')
    result = audit_records(protocol, [
        {"subject": "S1", "date": "2024-01-01", "event": "screening", "surgery_planned": "yes"}])
    assert [(f.rule.id, f.status, f.cause) for f in result.findings] == [
        ("DEMO-1", "not_evaluable", "screening has no active_infection"), ("DEMO-2", "deviation", None)]


# ----- the bundled example without one screening checklist -----------------------------------------


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    lines = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if SCREENING_ROW not in line]
    assert len(kept) == len(lines) - 1
    log = tmp_path_factory.mktemp("causes") / "jk500_visits.csv"
    log.write_text("".join(kept), encoding="utf-8")
    return audit_files(load_protocol(str(RULES)), [str(log)], keep_records=True)


def test_each_blocked_rule_keeps_its_finding_and_standing(result: AuditResult) -> None:
    blocked = [f for f in result.findings if f.subject == "JK500-01-008" and f.reason == "no screening checklist recorded"]
    assert [f.rule.id for f in blocked] == BLOCKED
    assert all(f.status == "not_evaluable" and f.cause == f.reason for f in blocked)
    standings = {s.rule.id: (s.status, s.reason) for s in result.standings if s.subject == "JK500-01-008"}
    for rule in BLOCKED:
        assert standings[rule] == ("not_evaluable", "no screening checklist recorded")


def test_the_text_report_has_one_line_for_the_subject_and_the_missing_checklist(result: AuditResult) -> None:
    text = to_text(result)
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("JK500-01-008: ")]
    assert lines == ["JK500-01-008: disease_history has no standard_inductions — blocks JK500-ELIG-REFRACTORY",
                     "JK500-01-008: no screening checklist recorded — blocks " + ", ".join(BLOCKED)]
    # Every finding is still listed on its own, and the section comes in the summary.
    for rule in BLOCKED:
        assert text.count(f"{rule}  subject JK500-01-008  ") == 1
    summary = text.index("\nSummary\n")
    assert text.index("Not evaluable, by cause") > summary
    assert text.index("JK500-01-008: no screening checklist recorded") > summary


def test_every_not_evaluable_finding_is_in_one_group(result: AuditResult) -> None:
    groups = not_evaluable_by_cause(result)
    not_evaluable = [f for f in result.findings if f.status == "not_evaluable"]
    assert sum(g["findings"] for g in groups) == len(not_evaluable)
    keys = [(g["subject"], g["cause"]) for g in groups]
    assert len(set(keys)) == len(keys)
    subjects = [subject for subject, _ in keys]
    assert subjects == sorted(subjects)  # a subject's causes in the report's order: its first finding's rule
    assert [cause for subject, cause in keys if subject == "JK500-01-008"] == [
        "disease_history has no standard_inductions", "no screening checklist recorded"]
    assert {(f.subject, f.cause) for f in not_evaluable} == set(keys)


def test_json_findings_carry_their_cause_and_the_summary_the_groups(result: AuditResult) -> None:
    report = json.loads(to_json(result))
    for finding in report["findings"]:
        if finding["status"] == "not_evaluable":
            assert finding["cause"] == finding["reason"], finding  # JK500's writers agree on every record
        else:
            assert finding["cause"] is None
    [group] = [g for g in report["summary"]["not_evaluable_by_cause"]
               if g["subject"] == "JK500-01-008" and g["cause"] == "no screening checklist recorded"]
    assert group == {"subject": "JK500-01-008", "cause": "no screening checklist recorded", "rules": BLOCKED,
                     "findings": len(BLOCKED)}


def test_the_csv_has_the_cause_after_the_earlier_columns(result: AuditResult) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert list(rows[0])[13:] == ["cause", "window_start", "window_end", "window"]
    assert [r["rule"] for r in rows if r["cause"] == "no screening checklist recorded"] == BLOCKED
    assert all(r["cause"] == "" for r in rows if r["status"] != "not_evaluable")


def test_several_findings_of_one_rule_are_counted_on_their_line() -> None:
    protocol = load_protocol(str(RULES))
    # Three infusions and no enrolment: the subject has no dose group, and each dose cannot be judged.
    rows = [{"subject": "S1", "date": f"2024-03-0{day}", "event": "infusion", "dose": "1000000", "time": "10:00"}
            for day in (4, 6, 8)]
    result = audit_records(protocol, rows)
    assert not result.data.rejections
    assert [f.cause for f in result.findings if f.rule.id == "JK500-TRT-DOSE"] == ["subject has no dose_group"] * 3
    lines = [line.strip() for line in to_text(result).splitlines() if line.strip().startswith("S1: ")]
    assert "S1: subject has no dose_group — blocks JK500-TRT-DOSE (3 findings)" in lines
    assert "S1: no screening checklist recorded — blocks JK500-EXCL-OTHER-TRIAL, JK500-EXCL-RECENT-DISEASE, " \
           "JK500-EXCL-RECENT-SURGERY, JK500-EXCL-LIVE-VACCINE" in lines
