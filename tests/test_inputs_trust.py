"""Inputs are not trusted blindly (issue 14): a log named twice is read once, -o never replaces an input,
and --since and --reviewed files are checked for their protocol and their shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jk500_rules import cli

ROOT = Path(__file__).resolve().parents[1]
RUN_TIME = "2026-01-01T00:00:00Z"


@pytest.fixture()
def trial(tmp_path: Path) -> Path:
    """Copies of the JK500 rules and visit log, and of the other trial's, to audit (and harm) freely."""
    shutil.copy(ROOT / "protocol.rules", tmp_path / "protocol.rules")
    shutil.copy(ROOT / "examples" / "jk500_visits.csv", tmp_path / "visits.csv")
    shutil.copy(ROOT / "examples" / "other_trial" / "protocol.rules", tmp_path / "other.rules")
    shutil.copy(ROOT / "examples" / "other_trial" / "visits.csv", tmp_path / "other_visits.csv")
    return tmp_path


def audit(trial: Path, *args: str) -> int:
    return cli.main(["audit", "--rules", str(trial / "protocol.rules"), "--run-time", RUN_TIME, *args])


def test_a_log_named_twice_or_through_a_symlink_is_audited_once(trial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = trial / "visits.csv"
    audit(trial, str(log), "--format", "json")
    once = capsys.readouterr().out
    (trial / "link.csv").symlink_to(log)
    assert audit(trial, str(log), str(log), str(trial / "link.csv"), "--format", "json") == 1
    captured = capsys.readouterr()
    assert captured.out == once
    assert json.loads(captured.out)["summary"]["records_read"] == 496
    assert captured.err.splitlines() == [
        f"jk500-rules audit: warning: {log} (log 2) is the same file as {log} (log 1); it is read once",
        f"jk500-rules audit: warning: {trial / 'link.csv'} (log 3) is the same file as {log} (log 1); "
        "it is read once",
    ]


def test_diff_reads_a_log_named_twice_once(trial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules, log = str(trial / "protocol.rules"), str(trial / "visits.csv")
    assert cli.main(["diff", rules, rules, log, log]) == 0
    captured = capsys.readouterr()
    assert "unchanged: 48" in captured.out
    assert captured.err.splitlines() == [
        f"jk500-rules diff: warning: {log} (log 2) is the same file as {log} (log 1); it is read once"]


@pytest.mark.parametrize("victim, role", [
    ("visits.csv", "the visit log"), ("protocol.rules", "the rules file"),
    ("previous.json", "the --since file"), ("reviews.csv", "the --reviewed file"),
])
def test_output_never_replaces_an_input(trial: Path, capsys: pytest.CaptureFixture[str], victim: str,
                                        role: str) -> None:
    log = str(trial / "visits.csv")
    audit(trial, log, "--format", "json", "-o", str(trial / "previous.json"))
    (trial / "reviews.csv").write_text("finding_id,decision,reason,by,at\n", encoding="utf-8")
    capsys.readouterr()
    before = (trial / victim).read_bytes()
    extra = ["--since", str(trial / "previous.json"), "--reviewed", str(trial / "reviews.csv")]
    assert audit(trial, log, *extra, "-o", str(trial / victim)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{trial / victim}: error: -o would write over {role} {trial / victim}; write the report elsewhere"]
    assert (trial / victim).read_bytes() == before


def test_output_folder_never_replaces_an_input_in_it(trial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = trial / "out"
    out.mkdir()
    audit(trial, str(trial / "visits.csv"), "--format", "json", "-o", str(out / "report.json"))
    capsys.readouterr()
    before = (out / "report.json").read_bytes()
    assert audit(trial, str(trial / "visits.csv"), "--since", str(out / "report.json"), "--format", "text,json",
                 "-o", str(out)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{out}: error: -o would write over the --since file {out / 'report.json'} (it writes "
        f"{out / 'report.json'}); write the report elsewhere"]
    assert (out / "report.json").read_bytes() == before


def test_since_refuses_another_protocols_report(trial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = trial / "other.json"
    cli.main(["audit", "--rules", str(trial / "other.rules"), str(trial / "other_visits.csv"), "--format", "json",
              "-o", str(other)])
    capsys.readouterr()
    assert audit(trial, str(trial / "visits.csv"), "--since", str(other)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{other}: error: is a report on protocol ASTHMA-07 (NCT00000007), not JK500 (NCT05519384); "
        "--since compares reports of the same protocol"]


JK500 = {"name": "JK500", "registry": "NCT05519384", "rules_file": "protocol.rules"}


@pytest.mark.parametrize("findings, message", [
    ([{"id": 1}, {"id": "F-x"}], 'finding 1: the id is 1, not a finding id (text such as F-a2048c77196a)'),
    ([{"id": None}], 'finding 1: the id is null, not a finding id (text such as F-a2048c77196a)'),
    ([{"id": "F-x"}, {"rule": "R"}], 'finding 2: the id is null, not a finding id (text such as F-a2048c77196a)'),
    ([{"id": "F-x", "rule": {"a": 1}}], 'finding 1 (F-x): rule is not text (rule: {"a": 1})'),
    (["F-x"], "finding 1 is not an object with an id"),
])
def test_since_refuses_findings_of_the_wrong_shape(trial: Path, capsys: pytest.CaptureFixture[str],
                                                   findings: list[object], message: str) -> None:
    previous = trial / "previous.json"
    previous.write_text(json.dumps({"protocol": JK500, "findings": findings}), encoding="utf-8")
    assert audit(trial, str(trial / "visits.csv"), "--since", str(previous)) == 2
    assert capsys.readouterr().err.splitlines() == [f"{previous}: error: {message}"]


def test_since_refuses_a_report_without_a_protocol(trial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    previous = trial / "previous.json"
    previous.write_text(json.dumps({"findings": [{"id": "F-x"}]}), encoding="utf-8")
    assert audit(trial, str(trial / "visits.csv"), "--since", str(previous)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{previous}: error: is not a JSON audit report: it names no protocol (audit --format json)"]


@pytest.mark.parametrize("decision, message", [
    ({"finding_id": "F-x", "decision": "waived", "reason": None}, ":1: error: the waiver of F-x gives no reason"),
    ({"finding_id": None, "decision": "acknowledged"}, ":1: error: a decision without a finding_id"),
    ({"finding_id": 7, "decision": "acknowledged"}, ": error: decision 1: finding_id is not text (finding_id: 7)"),
    ({"finding_id": "F-x", "decision": ["waived"]},
     ': error: decision 1: decision is not text (decision: ["waived"])'),
])
def test_json_reviews_are_checked_as_the_csv_ones(trial: Path, capsys: pytest.CaptureFixture[str],
                                                  decision: dict[str, object], message: str) -> None:
    reviews = trial / "reviews.json"
    reviews.write_text(json.dumps([decision]), encoding="utf-8")
    assert audit(trial, str(trial / "visits.csv"), "--reviewed", str(reviews)) == 2
    assert capsys.readouterr().err.splitlines() == [f"{reviews}{message}"]


@pytest.mark.parametrize("option", ["--since", "--reviewed"])
@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "holds values nested too deeply"),
    ('[{"finding_id": ' + "9" * 5000 + "}]", "holds a number of more than 4,300 digits"),
])
def test_json_that_python_cannot_read_is_refused_in_one_line(trial: Path, capsys: pytest.CaptureFixture[str],
                                                             option: str, text: str, message: str) -> None:
    given = trial / "given.json"
    given.write_text(text, encoding="utf-8")
    assert audit(trial, str(trial / "visits.csv"), option, str(given)) == 2
    assert capsys.readouterr().err.splitlines() == [f"{given}: error: {message}"]
