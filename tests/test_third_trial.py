"""A third, invented trial (examples/third_trial/, TX118-101) runs on the same engine without any Python.

A phase 1b trial whose criteria need every construct: references, subject attributes, empty values,
date-times in two zones, a schedule, arithmetic (a weight-based dose, Cockcroft-Gault) and a stopping
rule. The planted deviations are listed by hand in expected.csv; the audit must find exactly them.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import found_rows, read_expected
from pytest_bdd.feature import get_features

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.reports.report_content import summary

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "third_trial"
RULES = TRIAL / "protocol.rules"
LOG = TRIAL / "visits.csv"
EXPECTED = TRIAL / "expected.csv"
FEATURE = ROOT / "features" / "third_trial.feature"
CUTOFF = date(2025, 9, 30)

RULE_IDS = [
    "TX118-ELIG-AGE",
    "TX118-ELIG-ANC",
    "TX118-ELIG-PREGNANCY",
    "TX118-TRT-WEIGHT",
    "TX118-TRT-INFUSION",
    "TX118-TRT-CYCLE",
    "TX118-SCAN-MISSED",
    "TX118-SCAN-TIMING",
    "TX118-SAF-SAE-REPORT",
    "TX118-ELIG-CRCL",
    "TX118-TRT-DOSE",
    "TX118-SAF-PAUSE",
]


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(LOG)], as_of=CUTOFF)


def test_the_third_trial_is_neither_jk500_nor_asthma_07() -> None:
    text = (RULES.read_text(encoding="utf-8") + LOG.read_text(encoding="utf-8")).lower()
    for word in ("jk500", "asthma", "dose_group", "src_decision", "injection", "dsmb", "xanomeline"):
        assert word not in text


def test_it_compiles(result: AuditResult) -> None:
    protocol = result.protocol
    assert protocol.name == "TX118-101"
    assert [r.id for r in protocol.rules] == RULE_IDS
    assert protocol.subject_attributes == {"sex": ("screening", "sex"),
                                           "childbearing": ("screening", "childbearing_potential")}
    assert not any(r.approximate for r in protocol.rules)


def test_every_rule_fires_and_none_is_approximate() -> None:
    assert sorted({row[0] for row in read_expected(EXPECTED)}) == sorted(RULE_IDS)
    assert "approximate" not in RULES.read_text(encoding="utf-8")


def test_findings_are_exactly_the_planted_ones(result: AuditResult) -> None:
    expected = read_expected(EXPECTED)
    assert len(set(expected)) == len(expected)
    assert found_rows(result) == expected  # the report's order: rule order, then subject, date


def test_summary(result: AuditResult) -> None:
    s = summary(result)
    assert s["records_rejected"] == 0, s["rejections"]
    assert s["records_read"] == 207
    assert s["not_used_reasons"] == {}
    assert s["subjects"] == 14
    assert s["data_cutoff"] == "2025-09-30"
    # P14's first scan is due 2025-10-06; its window opened on 2025-09-29 and is still open.
    assert s["findings_by_rule"]["TX118-SCAN-MISSED"]["pending"] == 1


def test_the_default_cutoff_is_the_same(result: AuditResult) -> None:
    default = audit_files(result.protocol, [str(LOG)])
    assert found_rows(default) == found_rows(result)


def test_messages_quote_the_third_trials_values(result: AuditResult) -> None:
    messages = {(f.rule.id, f.subject): f.message for f in result.findings}
    assert messages[("TX118-TRT-INFUSION", "P03")] == (
        "Cycle 4 infusion ran from 2025-03-30T01:30 to 2025-03-30T03:29: under 60 minutes.")
    assert messages[("TX118-SCAN-MISSED", "P04")] == "No tumour scan from 2025-04-21 to 2025-05-05 (due date 2, due 2025-04-28)."
    assert messages[("TX118-ELIG-ANC", "P07")] == "Baseline ANC 1.3 x 10^9/L on 2025-02-21 is below 1.5 10^9/L."


def test_the_log_is_what_the_generator_writes() -> None:
    done = subprocess.run([sys.executable, str(TRIAL / "make_visits.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_features_state_protocol_rules_word_for_word() -> None:
    """features/third_trial.feature proves the rules the example audits, not a copy that could drift."""
    (feature,) = get_features([str(FEATURE)])
    assert feature.background is not None
    (step,) = [s for s in feature.background.steps if s.name == "the protocol rules:"]
    assert step.docstring == RULES.read_text(encoding="utf-8").rstrip("\n")


def test_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), "--as-of", "2025-09-30", str(LOG),
         "--format", "csv"],
        capture_output=True, text=True,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.count("\nTX118-") == 17
