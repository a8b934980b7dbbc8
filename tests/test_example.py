"""The shipped JK500 example log yields exactly the findings planted in examples/expected.csv."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules.audit import AuditResult, audit_files
from jk500_rules.cli import load_protocol
from jk500_rules.report import summary, to_json
from helpers import Row, found_rows, read_expected

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
EXPECTED = ROOT / "examples" / "expected.csv"


def expected_rows() -> list[Row]:
    return read_expected(EXPECTED)



@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(LOG)])


def test_findings_are_exactly_the_planted_ones(result: AuditResult) -> None:
    expected, found = expected_rows(), found_rows(result)
    assert len(set(expected)) == len(expected), "examples/expected.csv lists a finding twice"
    assert len(set(found)) == len(found), f"the audit reports a finding twice: {found}"
    assert set(found) == set(expected)


def test_every_rule_has_a_planted_deviation(result: AuditResult) -> None:
    assert {f.rule.id for f in result.findings} == {rule.id for rule in result.protocol.rules}


def test_summary_counts_add_up(result: AuditResult) -> None:
    s = summary(result)
    assert s["records_rejected"] == 0, s["rejections"]
    assert s["records_read"] == s["records_audited"] + s["records_not_used"] + s["records_rejected"]
    assert s["records_not_used"] == sum(s["not_used_reasons"].values())
    assert s["subjects"] == 12
    assert s["data_cutoff"] == "2025-01-22"
    assert s["findings"] == len(expected_rows())
    # JK500-01-012 is still in treatment at the cut-off: its count is pending, not a finding.
    assert s["findings_by_rule"]["JK500-TRT-TOTAL"]["pending"] == 1


def test_command_line_exits_1_and_names_each_rule() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "audit", "--rules", "protocol.rules", "examples/jk500_visits.csv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    for rule_id in {row[0] for row in expected_rows()}:
        assert rule_id in done.stdout


def _findings_without_locations(result: AuditResult) -> list[dict]:
    findings = json.loads(to_json(result))["findings"]
    for finding in findings:
        for evidence in finding["evidence"]:
            del evidence["location"]
    return findings


def test_shuffled_and_split_logs_give_the_same_findings(result: AuditResult, tmp_path: Path) -> None:
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(500).shuffle(rows)
    half = len(rows) // 2
    first, second = tmp_path / "part1.csv", tmp_path / "part2.csv"
    first.write_text(header + "".join(rows[:half]), encoding="utf-8")
    second.write_text(header + "".join(rows[half:]), encoding="utf-8")

    split = audit_files(result.protocol, [str(second), str(first)])

    assert not split.data.rejections
    assert split.data.read == result.data.read
    assert _findings_without_locations(split) == _findings_without_locations(result)


# Each near miss of examples/README.md, pushed one step (a day, one cell/kg, the cut-off) across its
# boundary, adds exactly one finding: the example's near misses really sit on the rules' edges.
NEAR_MISSES = [
    ("JK500-01-007,2024-04-15,consent", "JK500-01-007,2024-04-16,consent", None,
     ("JK500-ELIG-AGE", "JK500-01-007", "2024-04-16", "deviation")),
    ("JK500-01-011,2024-07-09,vaccination", "JK500-01-011,2024-07-10,vaccination", None,
     ("JK500-EXCL-LIVE-VACCINE", "JK500-01-011", "2024-07-10", "deviation")),
    ("JK500-01-005,2024-04-19,infusion,,,,,,,,5500000,", "JK500-01-005,2024-04-19,infusion,,,,,,,,5500001,", None,
     ("JK500-TRT-DOSE", "JK500-01-005", "2024-04-19", "deviation")),
    ("JK500-01-001,2024-02-14,infusion,,,,,,,,900000,", "JK500-01-001,2024-02-14,infusion,,,,,,,,899999,", None,
     ("JK500-TRT-DOSE", "JK500-01-001", "2024-02-14", "deviation")),
    (",2024-04-15,src_decision,,,2,", ",2024-04-14,src_decision,,,2,", None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    (",2024-04-15,src_decision,,,2,", ",2024-04-16,src_decision,,,2,", None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    ("JK500-01-002,2024-03-17,infusion", "JK500-01-002,2024-03-18,infusion", None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    (None, None, "2025-02-03", ("JK500-TRT-TOTAL", "JK500-01-012", "2025-01-22", "deviation")),
]


@pytest.mark.parametrize(
    "old, new, as_of, added", NEAR_MISSES, ids=[f"{c[3][0]}-{i}" for i, c in enumerate(NEAR_MISSES)]
)
def test_each_near_miss_fires_one_step_further(result: AuditResult, tmp_path: Path, old: str | None,
                                                new: str | None, as_of: str | None, added: Row) -> None:
    text = LOG.read_text(encoding="utf-8")
    if old is not None:
        assert text.count(old) == 1, old
        text = text.replace(old, new or "")
    log = tmp_path / "nudged.csv"
    log.write_text(text, encoding="utf-8")
    cutoff = dt.date.fromisoformat(as_of) if as_of else None

    nudged = audit_files(result.protocol, [str(log)], cutoff)

    assert not nudged.data.rejections
    assert sorted(found_rows(nudged)) == sorted(found_rows(result) + [added])
