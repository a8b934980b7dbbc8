"""The shipped JK500 example log yields exactly the findings planted in examples/expected.csv.

examples/README.md tells the story (timeline, planted deviations, not-evaluable cases, near misses);
examples/make_jk500_visits.py writes the log, one commented block per plant; expected.csv was written
by hand from that plan. These tests hold the three together.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import Row, found_rows, read_expected

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.report_content import summary

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
EXPECTED = ROOT / "examples" / "expected.csv"
GENERATOR = ROOT / "examples" / "make_jk500_visits.py"
CUTOFF = "2025-01-22"

# Rules the example exercises without a planted deviation, and why (examples/README.md). Each must still
# be applied to the data: its standings below, none "not applicable".
EXERCISED_NOT_PLANTED = {
    # Any JK500-ESC-COHORT deviation is also a JK500-ESC-SRC-GATE deviation for the same dose group (the
    # SRC decision must follow the 3rd subject's last infusion by 28 days and precede the group's first
    # infusion), so planting it means reopening a dose group before its predecessor finished: the
    # escalation timeline of the story. Group 2 and group 3 both open after 3 subjects finished.
    "JK500-ESC-COHORT": {None: "passed"},
    # Every subject of the story had cyclophosphamide: the off-day ones are JK500-TRT-CY-DAY's plants (001 on
    # day -8, 002's second dose on day -6). A subject with none at all is features/lymphodepletion.feature's.
    "JK500-TRT-CY-GIVEN": {f"JK500-01-{n:03d}": "passed" for n in range(1, 13)},
}

# Each not-evaluable plant and the reason the audit must give (derived from the rule text).
NOT_EVALUABLE_REASONS = {
    ("JK500-ELIG-REFRACTORY", "JK500-01-008"): "disease_history has no standard_inductions",
    ("JK500-CONSENT-SIGNER", "JK500-01-003"): "consent has no signed_by",
    ("JK500-EXCL-LEUKEMIA-TYPE", "JK500-01-010"): "diagnosis has no cns_leukemia",
    ("JK500-EXCL-VIROLOGY", "JK500-01-002"): "no treponema pallidum antibody test in the screening period",
    ("JK500-EXCL-BILIRUBIN", "JK500-01-006"): "lab has no uln",
    ("JK500-TRT-IL2-TIMING", "JK500-01-011"): "il2 has no time",
}


def expected_rows() -> list[Row]:
    return read_expected(EXPECTED)


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(LOG)])


def test_the_log_is_what_the_generator_writes() -> None:
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_findings_are_exactly_the_planted_ones(result: AuditResult) -> None:
    expected, found = expected_rows(), found_rows(result)
    assert len(set(expected)) == len(expected), "examples/expected.csv lists a finding twice"
    assert len(set(found)) == len(found), f"the audit reports a finding twice: {found}"
    assert sorted(found) == sorted(expected)


def test_every_rule_is_planted_or_exercised_without_a_plant(result: AuditResult) -> None:
    rule_ids = {rule.id for rule in result.protocol.rules}
    planted = {rule for rule, _, _, status in expected_rows() if status == "deviation"}
    assert planted.isdisjoint(EXERCISED_NOT_PLANTED)
    assert planted | set(EXERCISED_NOT_PLANTED) == rule_ids
    for rule_id, standings in EXERCISED_NOT_PLANTED.items():
        assert not [f for f in result.findings if f.rule.id == rule_id]
        found = {s.subject: s.status for s in result.standings if s.rule.id == rule_id}
        assert found == standings, f"{rule_id} was not applied as documented: {found}"


def test_esc_cohort_cannot_fire_without_the_src_gate(result: AuditResult, tmp_path: Path) -> None:
    """Why JK500-ESC-COHORT has no plant: with dose group 2 short of 3 subjects (007 and 008 removed),
    group 3 opens too early, and the SRC gate (already planted for group 3) fires for the same opening."""
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [r for r in rows if ",JK500-01-007," not in r and ",JK500-01-008," not in r]
    log = tmp_path / "short_group_2.csv"
    log.write_text(header + "".join(kept), encoding="utf-8")

    short = audit_files(result.protocol, [str(log)])

    trial_level = sorted(r for r in found_rows(short) if r[1] == "")
    assert trial_level == [("JK500-ESC-COHORT", "", "2024-07-01", "deviation"),
                           ("JK500-ESC-SRC-GATE", "", "2024-07-01", "deviation")]


def test_not_evaluable_plants_give_their_reason(result: AuditResult) -> None:
    reasons = {(f.rule.id, f.subject): f.reason for f in result.findings if f.status == "not_evaluable"}
    assert reasons == NOT_EVALUABLE_REASONS
    assert 4 <= len(reasons) <= 6


def test_discontinuations_excuse_and_the_cutoff_leaves_pending(result: AuditResult) -> None:
    standing = {(s.rule.id, s.subject): (s.status, s.reason) for s in result.standings}
    # 009 stopped for toxicity after 4 infusions, inside the treatment period: not held to six.
    assert standing[("JK500-TRT-TOTAL", "JK500-01-009")] == ("excused", "excused by discontinuation on 2024-07-09")
    # 012 is still in treatment at the cut-off: its total is pending, not a finding.
    assert standing[("JK500-TRT-TOTAL", "JK500-01-012")][0] == "pending"
    # 003 withdrew on 2024-09-02: its 3rd window has a response but no MRD, and is excused.
    for rule in ("JK500-FU-RESPONSE", "JK500-FU-MRD"):
        assert standing[(rule, "JK500-01-003")] == ("excused", "excused by discontinuation on 2024-09-02")
        assert standing[(rule, "JK500-01-009")] == ("excused", "excused by discontinuation on 2024-07-09")
        assert standing[(rule, "JK500-01-012")][0] == "pending"


def test_summary_counts_add_up(result: AuditResult) -> None:
    s = summary(result)
    data_rows = len(LOG.read_text(encoding="utf-8").splitlines()) - 1
    assert s["records_read"] == data_rows
    assert s["records_rejected"] == 0, s["rejections"]
    assert s["records_read"] == s["records_audited"] + s["records_not_used"] + s["records_rejected"]
    assert s["records_not_used"] == sum(s["not_used_reasons"].values())
    assert s["subjects"] == 12
    assert s["data_cutoff"] == CUTOFF
    assert s["findings"] == len(expected_rows())
    by_status = Counter((rule, status) for rule, _, _, status in expected_rows())
    for rule_id, counts in s["findings_by_rule"].items():
        for status in ("deviation", "possible_deviation", "not_evaluable"):
            assert counts[status] == by_status[(rule_id, status)], (rule_id, status)
    assert sum(c["deviation"] + c["possible_deviation"] + c["not_evaluable"]
               for c in s["findings_by_rule"].values()) == s["findings"]
    # Pending at the cut-off: 012's infusion total (judged from 2025-02-03), and 59 follow-up windows
    # per follow-up rule (examples/README.md counts them subject by subject).
    pending = {rule_id: c["pending"] for rule_id, c in s["findings_by_rule"].items() if c["pending"]}
    assert pending == {"JK500-TRT-TOTAL": 1, "JK500-FU-RESPONSE": 59, "JK500-FU-MRD": 59}


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
        for evidence in finding["evidence"] + finding["considered"]:
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
    assert [(s.rule.id, s.subject, s.status) for s in split.standings] == \
        [(s.rule.id, s.subject, s.status) for s in result.standings]


# ----- near misses ------------------------------------------------------------------------------------
# Each near miss of examples/README.md, pushed one step (a day, a minute, one unit, a yes/no, the
# cut-off) across its boundary, adds exactly one finding: the near misses really sit on the rules' edges.

Edit = tuple[dict[str, str], "dict[str, str] | None"]  # (the one row matched, new values or None: drop)


def at(subject: str | None, date: str, event: str, **fields: str) -> dict[str, str]:
    return {"subject": f"JK500-01-{subject}" if subject else "", "date": date, "event": event, **fields}


def S(number: str) -> str:
    return f"JK500-01-{number}"


NEAR_MISSES: list[tuple[str, list[Edit], str | None, Row]] = [
    # kept from the six-rule example
    ("age: consent on the 19th birthday", [(at("007", "2024-04-15", "consent"), {"date": "2024-04-16"})], None,
     ("JK500-ELIG-AGE", S("007"), "2024-04-16", "deviation")),
    ("live vaccine 28 days before", [(at("011", "2024-07-09", "vaccination"), {"date": "2024-07-10"})], None,
     ("JK500-EXCL-LIVE-VACCINE", S("011"), "2024-07-10", "deviation")),
    ("dose +10% -> +1 cell/kg", [(at("005", "2024-04-19", "infusion"), {"dose": "5500001"})], None,
     ("JK500-TRT-DOSE", S("005"), "2024-04-19", "deviation")),
    ("dose -10% -> -1 cell/kg", [(at("001", "2024-02-14", "infusion"), {"dose": "899999"})], None,
     ("JK500-TRT-DOSE", S("001"), "2024-02-14", "deviation")),
    ("SRC decision on the milestone", [(at(None, "2024-04-15", "src_decision"), {"date": "2024-04-14"})], None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    ("SRC decision after the opening", [(at(None, "2024-04-15", "src_decision"), {"date": "2024-04-16"})], None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    ("3rd subject to finish a day later", [(at("002", "2024-03-17", "il2"), {"date": "2024-03-18"}),
                                           (at("002", "2024-03-17", "infusion"), {"date": "2024-03-18"})], None,
     ("JK500-ESC-SRC-GATE", "", "2024-04-15", "deviation")),
    ("012's treatment period over", [], "2025-02-03",
     ("JK500-TRT-TOTAL", S("012"), "2025-02-03", "deviation")),  # due: first infusion 2025-01-13 + 21 days
    # new rules
    ("IL-2 30 -> 29 minutes before", [(at("006", "2024-05-06", "il2"), {"time": "08:31"})], None,
     ("JK500-TRT-IL2-TIMING", S("006"), "2024-05-06", "deviation")),
    ("IL-2 60 -> 61 minutes before", [(at("010", "2024-07-19", "il2"), {"time": "07:59"})], None,
     ("JK500-TRT-IL2-TIMING", S("010"), "2024-07-19", "deviation")),
    ("creatinine exactly 2x ULN -> above", [(at("004", "2024-02-20", "lab", test="creatinine"), {"result": "176.9"})],
     None, ("JK500-EXCL-CREATININE", S("004"), "2024-02-20", "deviation")),
    ("bilirubin a day before the screening period -> in it",
     [(at("003", "2024-01-21", "lab", test="bilirubin"), {"date": "2024-01-22"})], None,
     ("JK500-EXCL-BILIRUBIN", S("003"), "2024-01-22", "deviation")),
    ("relapse 6 months after CR -> a day later",
     [(at("011", "2024-07-18", "disease_history"), {"relapse_date": "2024-05-21"})], None,
     ("JK500-ELIG-REFRACTORY", S("011"), "2024-07-22", "deviation")),
    ("screening checklist on enrolment day -> the day after",
     [(at("005", "2024-03-25", "screening"), {"date": "2024-03-26"})], None,
     ("JK500-ELIG-CONFIRMED", S("005"), "2024-03-25", "deviation")),
    ("consent on the day of the first procedure -> the day after",
     [(at("006", "2024-04-08", "consent"), {"date": "2024-04-09"})], None,
     ("JK500-CONSENT-FIRST", S("006"), "2024-04-08", "deviation")),
    ("HIV test 28 -> 29 days before the first infusion",
     [(at("001", "2024-01-08", "serology", test="HIV-Ab"), {"date": "2024-01-07"})], None,
     ("JK500-EXCL-VIROLOGY", S("001"), "2024-02-05", "not_evaluable")),
    ("other trial 29 -> 28 days before", [(at("010", "2024-06-16", "other_trial"), {"date": "2024-06-17"})], None,
     ("JK500-EXCL-OTHER-TRIAL", S("010"), "2024-06-17", "deviation")),
    ("significant disease 29 -> 28 days before",
     [(at("005", "2024-03-17", "medical_history"), {"date": "2024-03-18"})], None,
     ("JK500-EXCL-RECENT-DISEASE", S("005"), "2024-03-18", "deviation")),
    ("recent disease not significant -> significant",
     [(at("009", "2024-06-20", "medical_history"), {"significant": "yes"})], None,
     ("JK500-EXCL-RECENT-DISEASE", S("009"), "2024-06-20", "deviation")),
    ("central line minor -> major", [(at("004", "2024-03-09", "surgery"), {"major": "yes"})], None,
     ("JK500-EXCL-RECENT-SURGERY", S("004"), "2024-03-09", "deviation")),
    ("live vaccine 6 months + 1 day after -> 6 months",
     [(at("005", "2024-10-27", "vaccination"), {"date": "2024-10-26"})], None,
     ("JK500-EXCL-LIVE-VACCINE-AFTER", S("005"), "2024-10-26", "deviation")),
    ("fludarabine +10% -> above", [(at("002", "2024-02-29", "fludarabine"), {"dose": "27.6"})], None,
     ("JK500-TRT-FLU-DOSE", S("002"), "2024-02-29", "deviation")),
    ("ungraded AE a day after the DLT window -> its last day",
     [(at("007", "2024-06-22", "adverse_event"), {"date": "2024-06-21"})], None,
     ("JK500-SAF-AE-GRADED", S("007"), "2024-06-21", "deviation")),
    ("ungraded AE before the first infusion -> on its day",
     [(at("004", "2024-03-13", "adverse_event"), {"date": "2024-03-18"})], None,
     ("JK500-SAF-AE-GRADED", S("004"), "2024-03-18", "deviation")),
    ("response on a window's last day -> the next day",
     [(at("002", "2024-06-03", "response"), {"date": "2024-06-04"})], None,
     ("JK500-FU-RESPONSE", S("002"), "2024-06-03", "deviation")),  # the window's last day
    ("withdrawal inside the window without MRD -> the day after it",
     [(at("003", "2024-09-02", "discontinuation"), {"date": "2024-11-19"})], None,
     ("JK500-FU-MRD", S("003"), "2024-11-18", "deviation")),  # the window's last day
    ("stopped for toxicity -> no discontinuation recorded", [(at("009", "2024-07-09", "discontinuation"), None)],
     None, ("JK500-TRT-TOTAL", S("009"), "2024-07-22", "deviation")),  # due: 2024-07-01 + 21 days
]


def edited(text: str, edits: list[Edit]) -> str:
    reader = csv.DictReader(io.StringIO(text))
    header, rows = reader.fieldnames, list(reader)
    for match, change in edits:
        hits = [r for r in rows if all(r[k] == v for k, v in match.items())]
        assert len(hits) == 1, (match, len(hits))
        if change is None:
            rows.remove(hits[0])
        else:
            hits[0].update(change)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("name, edits, as_of, added", NEAR_MISSES,
                         ids=[f"{c[3][0]}-{i}" for i, c in enumerate(NEAR_MISSES)])
def test_each_near_miss_fires_one_step_further(result: AuditResult, tmp_path: Path, name: str, edits: list[Edit],
                                                as_of: str | None, added: Row) -> None:
    log = tmp_path / "nudged.csv"
    log.write_text(edited(LOG.read_text(encoding="utf-8"), edits), encoding="utf-8")
    cutoff = dt.date.fromisoformat(as_of) if as_of else None

    nudged = audit_files(result.protocol, [str(log)], cutoff)

    assert not nudged.data.rejections
    assert sorted(found_rows(nudged)) == sorted(found_rows(result) + [added]), name


@pytest.mark.parametrize("stopped, added", [
    ("2024-07-22", []),  # the last day of 009's treatment period (first infusion 2024-07-01 + 21 days)
    ("2024-07-23", [("JK500-TRT-TOTAL", "JK500-01-009", "2024-07-22", "deviation")]),  # dated when due
])
def test_a_discontinuation_excuses_the_total_only_within_the_treatment_period(
        result: AuditResult, tmp_path: Path, stopped: str, added: list[Row]) -> None:
    log = tmp_path / "stopped.csv"
    log.write_text(edited(LOG.read_text(encoding="utf-8"),
                          [(at("009", "2024-07-09", "discontinuation"), {"date": stopped})]), encoding="utf-8")

    moved = audit_files(result.protocol, [str(log)])

    assert sorted(found_rows(moved)) == sorted(found_rows(result) + added)
