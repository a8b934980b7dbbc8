"""A second, invented trial (examples/other_trial/, ASTHMA-07) runs on the same engine without any Python.

Its vocabulary shares no word with JK500: the tool must take every event type, field, unit, attribute and
parameter from the rules text. The planted deviations are listed by hand in expected.csv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import Row, read_expected

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.reports.report_content import summary

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "other_trial"
RULES = TRIAL / "protocol.rules"
LOG = TRIAL / "visits.csv"
EXPECTED = TRIAL / "expected.csv"


def expected_rows() -> list[Row]:
    return read_expected(EXPECTED)


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(LOG)])


def test_the_second_trial_is_not_jk500() -> None:
    text = (RULES.read_text(encoding="utf-8") + LOG.read_text(encoding="utf-8")).lower()
    for word in ("jk500", "infusion", "dose_group", "src_decision", "consent", "enrolment"):
        assert word not in text


def test_it_compiles(result: AuditResult) -> None:
    protocol = result.protocol
    assert protocol.name == "ASTHMA-07"
    assert [r.id for r in protocol.rules] == [
        "ASTHMA-07-ELIG-AGE",
        "ASTHMA-07-EXCL-LIVE-VACCINE",
        "ASTHMA-07-EXCL-OCS",
        "ASTHMA-07-BASE-SPIRO",
        "ASTHMA-07-TRT-WEEKLY",
        "ASTHMA-07-TRT-TOTAL",
        "ASTHMA-07-TRT-DOSE",
        "ASTHMA-07-SAF-DSMB-GATE",
    ]
    assert protocol.subject_attributes == {"arm": ("randomisation", "arm")}
    assert protocol.parameters["nominal_dose"] == {"1": "100 mg", "2": "200 mg", "3": "300 mg"}
    assert {r.id: r.level for r in protocol.rules}["ASTHMA-07-SAF-DSMB-GATE"] == "trial"


def test_findings_are_exactly_the_planted_ones(result: AuditResult) -> None:
    found = [(f.rule.id, f.subject or "", f.date, f.status) for f in result.findings]
    expected = expected_rows()
    assert len(set(expected)) == len(expected)
    assert found == expected  # same findings, in the report's order (rule order, then subject, date)


def test_summary(result: AuditResult) -> None:
    s = summary(result)
    assert s["records_rejected"] == 0, s["rejections"]
    assert s["records_read"] == 49 == s["records_audited"]
    assert s["subjects"] == 6
    assert s["data_cutoff"] == "2024-04-15"
    # S006 started on 2024-04-08: its four injections are not due before 2024-05-13.
    assert s["findings_by_rule"]["ASTHMA-07-TRT-TOTAL"]["pending"] == 1


def test_messages_quote_the_second_trials_values(result: AuditResult) -> None:
    messages = {(f.rule.id, f.subject): f.message for f in result.findings}
    assert messages[("ASTHMA-07-ELIG-AGE", "S003")] == "Subject was younger than 18 years at screening (born 2006-01-03)."
    assert messages[("ASTHMA-07-EXCL-LIVE-VACCINE", "S002")] == (
        "Live vaccine yellow fever given within 30 days before the first injection."
    )
    assert messages[("ASTHMA-07-TRT-WEEKLY", "S001")] == "2 injections in the week starting 2024-01-21; at most 1 allowed."
    assert messages[("ASTHMA-07-SAF-DSMB-GATE", None)].startswith("Arm 3 opened on 2024-04-08 ")


def test_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), str(LOG), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    assert "ASTHMA-07-SAF-DSMB-GATE" in done.stdout


def test_week_start_is_read_from_the_rules(tmp_path: Path) -> None:
    """S003's injections on Saturday 20 and Sunday 21 January share a Monday week, not a Sunday one."""
    rules = tmp_path / "monday.rules"
    rules.write_text(RULES.read_text(encoding="utf-8").replace("starting sunday", "starting monday"),
                     encoding="utf-8")
    monday = audit_files(load_protocol(str(rules)), [str(LOG)])
    weekly = sorted((f.subject, f.date) for f in monday.findings if f.rule.id == "ASTHMA-07-TRT-WEEKLY")
    # Monday weeks: S001's Monday 8 and Sunday 14 January pair up, its Sunday 21 and Monday 22 do not;
    # S003's Saturday 20 and Sunday 21 January pair up. Each is dated on the injection past one a week.
    assert weekly == [("S001", "2024-01-14"), ("S003", "2024-01-21")]
