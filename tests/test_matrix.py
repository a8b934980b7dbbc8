"""The traceability matrix: every criterion of the rules file, its rules, scenarios and audit figures."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.reports.matrix import read_scenarios

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
EXAMPLE = ROOT / "examples" / "jk500_visits.csv"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], cwd=cwd, capture_output=True, text=True)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


@pytest.fixture(scope="module")
def matrix() -> dict:
    done = run("matrix", "--rules", "protocol.rules", "--format", "json", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_criterion_of_the_rules_file_is_in_the_matrix(matrix: dict) -> None:
    declared = re.findall(r"^criterion (\S+)", RULES.read_text(encoding="utf-8"), flags=re.M)
    assert len(declared) >= 30
    assert [c["id"] for c in matrix["criteria"]] == declared


def test_every_criterion_is_audited_by_a_rule_or_a_manual_check_with_a_reason(matrix: dict) -> None:
    for criterion in matrix["criteria"]:
        if criterion["check"] == "manual":
            assert criterion["manual_reason"] and not criterion["rules"], criterion["id"]
        else:
            assert criterion["check"] == "audited" and criterion["rules"], criterion["id"]
    assert matrix["rules_citing_no_criterion"] == []


def test_every_rule_appears_with_its_scenarios_and_figures(matrix: dict) -> None:
    protocol = load_protocol(str(RULES))
    listed = {r["id"]: r for c in matrix["criteria"] for r in c["rules"]}
    assert set(listed) == {r.id for r in protocol.rules}
    for rule_id, rule in listed.items():
        assert rule["scenarios"], f"{rule_id} has no scenario"
        assert all(re.fullmatch(r"features/.+\.feature:\d+", s["location"]) for s in rule["scenarios"])
        subjects = rule["subjects"]
        level = next(r.level for r in protocol.rules if r.id == rule_id)
        assert sum(subjects.values()) == (1 if level == "trial" else 12), rule_id


def test_every_choice_of_the_rules_file_is_listed(matrix: dict) -> None:
    text = RULES.read_text(encoding="utf-8")
    written = re.findall(r'^\s*choice "([^"]*)"', text, flags=re.M)
    assert len(written) >= 10
    assert [c["text"] for c in matrix["choices"]] == written  # parameters come before rules in the file
    lines = text.splitlines()
    for choice in matrix["choices"]:
        owner = choice["owner"].removeprefix("parameter ")
        assert re.match(rf"(rule|parameter) {re.escape(owner)}\b", lines[choice["line"] - 1]), choice


def test_the_matrix_from_a_saved_report_equals_the_matrix_from_the_logs(matrix: dict, tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    run("audit", "--rules", "protocol.rules", "--format", "json", "-o", str(report), str(EXAMPLE))
    done = run("matrix", "--rules", "protocol.rules", "--format", "json", "--report", str(report))
    from_report = json.loads(done.stdout)
    assert from_report["criteria"] == matrix["criteria"]
    assert from_report["audit"]["data_cutoff"] == matrix["audit"]["data_cutoff"]


def test_text_and_csv_renderings(matrix: dict) -> None:
    text = run("matrix", "--rules", "protocol.rules", str(EXAMPLE)).stdout
    for criterion in matrix["criteria"]:
        assert f"{criterion['id']}  {criterion['text']}" in text
    assert "manual check: " in text and "Choices where the protocol is silent or ambiguous" in text
    rows = list(csv.DictReader(io.StringIO(run("matrix", "--rules", "protocol.rules", "--format", "csv").stdout)))
    assert {r["criterion"] for r in rows} == {c["id"] for c in matrix["criteria"]}
    assert {r["rule"] for r in rows if r["rule"]} == {r["id"] for c in matrix["criteria"] for r in c["rules"]}


def test_without_an_audit_the_matrix_says_so() -> None:
    done = run("matrix", "--rules", "protocol.rules")
    assert done.returncode == 0 and "audit: (none given" in done.stdout
    assert "findings:" not in done.stdout


def test_an_uncovered_criterion_is_shown_and_warned_about(tmp_path: Path) -> None:
    rules = tmp_path / "p.rules"
    rules.write_text('criterion A "covered"\ncriterion B "forgotten"\nevent e { x: integer }\n'
                     'rule R "r" { cites A for each e require x is known }\n', encoding="utf-8")
    (tmp_path / "features").mkdir()
    check = run("check", str(rules))
    assert check.returncode == 0 and "warning: criterion B is cited by no rule" in check.stderr
    text = run("matrix", "--rules", str(rules), "--features", str(tmp_path / "features")).stdout
    assert "B  forgotten\n    NOT COVERED" in text and "criteria: 2 (1 audited, 0 manual, 1 not covered)" in text


def test_an_approximate_rule_is_visible_in_check_explain_and_the_matrix(tmp_path: Path) -> None:
    rules = tmp_path / "p.rules"
    rules.write_text('criterion A "exactly stated"\ncriterion B "only approximated"\nevent e { x: integer }\n'
                     'rule R "r" { cites A for each e require x is known }\n'
                     'rule S "s" { cites B approximate "the log has dates, the protocol hours" '
                     'for each e require x > 1 }\n'
                     'rule T "t" { cites A, B for each e require x < 9 }\n', encoding="utf-8")
    (tmp_path / "features").mkdir()
    assert run("check", str(rules)).stdout.endswith("3 rules, 1 of them approximate, no errors\n")
    assert "Approximate: the log has dates, the protocol hours" in run("explain", str(rules), "S").stdout
    assert "Approximate" not in run("explain", str(rules), "R").stdout
    text = run("matrix", "--rules", str(rules), "--features", str(tmp_path / "features")).stdout
    assert "criteria: 2 (2 audited, 0 manual, 0 not covered)" in text  # T states B exactly
    assert "approximate rules: 1 (S)" in text
    assert "    S  s  (major, not important;" in text
    assert "      APPROXIMATE: the log has dates, the protocol hours" in text
    rules.write_text(rules.read_text(encoding="utf-8").replace("cites A, B", "cites A"), encoding="utf-8")
    done = run("matrix", "--rules", str(rules), "--features", str(tmp_path / "features"), "--format", "json")
    criteria = {c["id"]: c for c in json.loads(done.stdout)["criteria"]}
    assert (criteria["A"]["check"], criteria["B"]["check"]) == ("audited", "approximate")
    assert [r["approximate"] for r in criteria["B"]["rules"]] == ["the log has dates, the protocol hours"]


def test_bad_inputs_are_errors_not_tracebacks(tmp_path: Path) -> None:
    assert run("matrix", "--rules", "protocol.rules", "--features", str(tmp_path / "none")).returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    done = run("matrix", "--rules", "protocol.rules", "--report", str(bad))
    assert done.returncode == 2 and "is not a JSON audit report" in done.stderr
    assert run("matrix", "--rules", "protocol.rules", "--report", str(bad), str(EXAMPLE)).returncode == 2


def test_scenario_tags_come_from_the_scenario_and_its_feature(tmp_path: Path) -> None:
    (tmp_path / "a.feature").write_text(
        "@whole\nFeature: f\n  # a comment\n  @R1 @R2\n  Scenario: one\n    Given x\n\n"
        "  Scenario Outline: two <n>\n    Given y\n    @ignored\n    Examples:\n      | n |\n      | 1 |\n\n"
        "  @R3\n  Scenario: three\n    Given z\n", encoding="utf-8")
    found = [(s.name, sorted(s.tags), s.location.rsplit(":", 1)[1]) for s in read_scenarios(tmp_path)]
    assert found == [("one", ["R1", "R2", "whole"], "5"), ("two <n>", ["whole"], "8"),
                     ("three", ["R3", "whole"], "16")]


PROTOCOL = '"protocol": {"name": "JK500", "registry": "NCT05519384"}'
WRONG_REPORTS = {
    "not-json.json": ("not json", ":1: error: is not JSON (Expecting value)"),
    "a-list.json": ("[1, 2]", "error: is not a JSON audit report: it holds a list, not an object"),
    "nested.json": ("[" * 100_000 + "]" * 100_000,
                    "error: is not a JSON audit report: it holds values nested too deeply"),
    "no-summary.json": (f"{{{PROTOCOL}}}",
                        "error: is not a JSON audit report: it has no summary.findings_by_rule object"),
    "by-rule-list.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": []}}}}',
                          "error: is not a JSON audit report: it has no summary.findings_by_rule object"),
    "counts-number.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{"R1": 3}}}}}}',
                           'error: summary.findings_by_rule["R1"] is 3, not an object of counts'),
    "count-text.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{"R1": {{"deviation": "two"}}}}}}}}',
                        'error: summary.findings_by_rule["R1"].deviation is "two", not a count'),
    "count-bool.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{"R1": {{"deviation": true}}}}}}}}',
                        'error: summary.findings_by_rule["R1"].deviation is true, not a count'),
    "subjects-list.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{"R1": {{"subjects": [1]}}}}}}}}',
                           'error: summary.findings_by_rule["R1"].subjects is [1], not an object of counts'),
    "subject-count.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": '
                           f'{{"R1": {{"subjects": {{"passed": -1}}}}}}}}}}',
                           'error: summary.findings_by_rule["R1"].subjects.passed is -1, not a count'),
    "cutoff.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{}}, "data_cutoff": 5}}}}',
                    "error: summary.data_cutoff is 5, not a date"),
    "huge-number.json": (f'{{{PROTOCOL}, "summary": {{"findings_by_rule": {{"R1": {{"pending": {"9" * 5000}}}}}}}}}',
                         "error: is not a JSON audit report: it holds a number of more than 4,300 digits"),
    "no-protocol.json": ('{"summary": {"findings_by_rule": {}}}',
                         "error: is not a JSON audit report: it names no protocol"),
    "other-trial.json": ('{"protocol": {"name": "OTHER", "registry": null}, "summary": {"findings_by_rule": {}}}',
                         'error: is a report on protocol "OTHER", not JK500 (NCT05519384)'),
}


@pytest.mark.parametrize("name", sorted(WRONG_REPORTS))
def test_a_report_of_the_wrong_shape_is_one_line_naming_the_file(name: str, tmp_path: Path, capsys) -> None:
    from jk500_rules.cli import main

    text, expected = WRONG_REPORTS[name]
    report = tmp_path / name
    report.write_text(text, encoding="utf-8")
    assert main(["matrix", "--rules", str(RULES), "--features", str(ROOT / "features"), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(str(report)) and expected in err
    assert err.count("\n") == 1
