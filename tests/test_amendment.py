"""Protocol versions and amendments: which version judges whom, and what an amendment changes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler import compile_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.errors import InputError, RulesError
from jk500_rules.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "examples" / "amendment"
RULES = FOLDER / "protocol.rules"
LOG = FOLDER / "visits.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def test_the_example_gives_the_findings_written_in_expected_csv() -> None:
    with (FOLDER / "expected.csv").open(newline="", encoding="utf-8") as handle:
        expected = sorted((r["rule"], r["subject"], r["date"], r["status"], r["version"]) for r in csv.DictReader(handle))
    result = audit_files(load_protocol(str(RULES)), [str(LOG)])
    found = sorted((f.rule.id, f.subject or "", f.date, f.status, f.version or "") for f in result.findings)
    assert found == expected
    assert result.versions == {"1.0": ["D01", "D04"], "2.0": ["D02", "D03"]}
    assert {(s.subject, s.version) for s in result.standings} == {
        ("D01", "1.0"), ("D04", "1.0"), ("D02", "2.0"), ("D03", "2.0")}
    # A withdrawn rule still applies to subjects under the old version; an added one only to the new.
    assert {s.subject for s in result.standings if s.rule.id == "DEMO-FOLLOWUP"} == {"D01", "D04"}
    assert {s.subject for s in result.standings if s.rule.id == "DEMO-ALT"} == {"D02", "D03"}


def test_each_version_compiles_its_own_numbers() -> None:
    protocol = load_protocol(str(RULES))
    assert [(v.name, v.effective) for v in protocol.versions] == [
        ("1.0", dt.date(2023, 1, 1)), ("2.0", dt.date(2024, 6, 1))]
    old, new = (v.protocol for v in protocol.versions)
    assert old.parameters["ecg_window"] == "14 days" and new.parameters["ecg_window"] == "21 days"
    assert [r.id for r in old.rules] == ["DEMO-AGE", "DEMO-ECG", "DEMO-DOSE", "DEMO-FOLLOWUP"]
    assert [r.id for r in new.rules] == ["DEMO-AGE", "DEMO-ECG", "DEMO-DOSE", "DEMO-ALT"]
    assert protocol.rules == new.rules and protocol.governed_by == "consent"


def test_the_governing_record_picks_the_version(tmp_path: Path) -> None:
    header = LOG.read_text(encoding="utf-8").splitlines()[0]
    rows = ["AMEND-DEMO,01,E1,2024-05-31,consent,1990-01-01,,,,,",  # the day before 2.0: version 1.0
            "AMEND-DEMO,01,E2,2024-06-01,consent,1990-01-01,,,,,",  # the day 2.0 takes effect
            "AMEND-DEMO,01,E3,2024-05-01,dose,,,100,,,",  # no consent: its first record decides
            "AMEND-DEMO,01,E3,2024-07-01,dose,,,100,,,",
            "AMEND-DEMO,01,E4,2022-06-01,consent,1990-01-01,,,,,"]  # before 1.0's date: still 1.0
    log = tmp_path / "log.csv"
    log.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(log)])
    assert result.versions == {"1.0": ["E1", "E3", "E4"], "2.0": ["E2"]}


def test_version_forces_one_version_for_everyone() -> None:
    protocol = load_protocol(str(RULES))
    old = audit_files(protocol, [str(LOG)], version="1.0")
    assert {f.version for f in old.findings} == {"1.0"}
    assert [(f.rule.id, f.subject) for f in old.findings if f.rule.id == "DEMO-DOSE"] == [
        ("DEMO-DOSE", "D01"), ("DEMO-DOSE", "D02")]
    with pytest.raises(InputError, match="no protocol version '3.0'; versions: 1.0, 2.0"):
        audit_files(protocol, [str(LOG)], version="3.0")


def test_diff_shows_what_the_amendment_changes() -> None:
    done = run("diff", f"{RULES}@1.0", f"{RULES}@2.0", str(LOG), "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert sorted((f["rule"], f["subject"]) for f in report["appeared"]) == [
        ("DEMO-ALT", "D01"), ("DEMO-ALT", "D01"), ("DEMO-ALT", "D01"), ("DEMO-ALT", "D02"),
        ("DEMO-ALT", "D04"), ("DEMO-ALT", "D04")]
    assert sorted((f["rule"], f["subject"]) for f in report["disappeared"]) == [
        ("DEMO-DOSE", "D01"), ("DEMO-DOSE", "D02"), ("DEMO-ECG", "D01"), ("DEMO-ECG", "D02"),
        ("DEMO-FOLLOWUP", "D01")]
    [changed] = report["changed"]
    assert (changed["old"]["message"], changed["new"]["message"]) == (
        "No ECG in the 14 days before the first dose on 2024-07-29.",
        "No ECG in the 21 days before the first dose on 2024-07-29.")
    assert report["unchanged"] == 1
    same = run("diff", str(RULES), str(RULES), str(LOG))
    assert same.returncode == 0 and "appear: 0" in same.stdout and "unchanged: 6" in same.stdout


def test_the_text_report_names_each_findings_version() -> None:
    done = run("audit", "--rules", str(RULES), str(LOG))
    assert done.returncode == 1
    assert "DEMO-ALT  subject D02  2024-07-05  major  deviation  (version 2.0)" in done.stdout
    assert "protocol versions: 1.0 (2 subjects), 2.0 (2 subjects); trial-level rules under 2.0" in done.stdout


AMENDED = """
protocol "T"
version "1.0" effective "2023-01-01"
{governed}
event consent {{ birth_date: date required }}
parameter max_age = 65 years
rule A "r" {{ for each consent require years from birth_date to date <= max_age }}
{amendments}
"""


def errors_of(governed: str, amendments: str) -> list[str]:
    text = AMENDED.format(governed=governed, amendments=amendments)
    with pytest.raises(RulesError) as caught:
        compile_protocol(parse(text, "t.rules"), "t.rules", text)
    return [d.message for d in caught.value.diagnostics if d.severity == "error"]


def test_amendment_mistakes_are_reported_together() -> None:
    messages = errors_of("", '''
amendment "2.0" effective "2024-13-01" { parameter max_age = 70 years }
amendment "3.0" effective "2024-06-01" { withdraw rule B }
amendment "4.0" effective "2024-06-01" { parameter max_age = 60 years }
''')
    assert messages == [
        "a protocol with amendments says which version governs a subject",
        "'2024-13-01' is not a date (YYYY-MM-DD)",
        "amendment 3.0 withdraws rule B, which is not in force before it",
        "amendment 4.0 takes effect on 2024-06-01, not after the version before it (2024-06-01)",
    ]
    assert errors_of("governed by consnet", "") == ["unknown event type 'consnet'"]


def test_an_error_inside_an_amended_rule_points_into_the_amendment() -> None:
    text = AMENDED.format(governed="governed by consent", amendments='''
amendment "2.0" effective "2024-06-01" {
    rule A "r" { for each consent require years from birth_date to date <= max_agee }
}''')
    with pytest.raises(RulesError) as caught:
        compile_protocol(parse(text, "t.rules"), "t.rules", text)
    [error] = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert error.message == "unknown name 'max_agee'" and error.span and error.span.line == 10
