"""A finding names the window its rule computed (issue 18): the window read off a rule's tests at compile
time (compiler/windows.py), the days it held for the records the engine matched (engine/windows.py), and
the reports that show it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler import compile_protocol
from jk500_rules.compiler.model import CompiledProtocol, WindowSpec
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult, Finding
from jk500_rules.language.parser import parse
from jk500_rules.reports.csv_report import to_csv
from jk500_rules.reports.html_report import render_html
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.text_report import to_text

ROOT = Path(__file__).resolve().parent.parent

DECLARATIONS = """
protocol "WIN"
event dosing "Study drug dose" { dose: decimal in mg  arm: integer }
event prep "Preparation" { }
event visit "Visit" { name: text }
event lab "Laboratory test" { test: text required }
event adverse_event "Adverse event" { grade: integer }
trial event committee "Safety committee decision" { decision: text  arm: integer }
subject arm = dosing.arm
parameter window = 28 days
state done "Three subjects dosed" per arm = starts at the 3rd last dosing
"""


def compiled(rules: str) -> CompiledProtocol:
    text = DECLARATIONS + rules
    return compile_protocol(parse(text, "win.rules"), "win.rules", text)


def window_of(body: str) -> WindowSpec | None:
    protocol = compiled(f'rule R "r" {{\n    cites "x"\n{body}\n}}\n')
    return protocol.rules[0].window


def bounds(spec: WindowSpec | None) -> tuple:
    """A window as (subject, (op, anchor, field, days, months, encoding, words) per side)."""
    assert spec is not None
    sides = tuple(None if b is None else (b.op, b.anchor.alias, b.field, b.days, b.months, b.encoding, b.words)
                  for b in (spec.low, spec.high))
    return (spec.subject, *sides)


# ----- the window read off a rule's tests -----------------------------------------------------------


def test_between_bounds_the_record_checked_by_its_anchor() -> None:
    spec = window_of("    for each prep\n"
                     "        require date between first dosing.date - 6 days and first dosing.date - 2 days")
    assert bounds(spec) == ("t", (">=", "f_dosing", "date", -6, 0, "", "the first dosing"),
                            ("<=", "f_dosing", "date", -2, 0, "", "the first dosing"))
    assert spec is not None and spec.event == "prep"


def test_within_before_bounds_the_record_sought_by_the_record_checked() -> None:
    spec = window_of("    for first dosing\n"
                     "        forbid a lab where test = \"ANC\" and date within window before first dosing")
    assert bounds(spec) == ("x", (">=", "t", "date", -28, 0, "", "the first dosing"),
                            ("<=", "t", "date", 0, 0, "", "the first dosing"))
    assert spec is not None and spec.event == "lab"


def test_within_after_a_last_record() -> None:
    spec = window_of("    for first dosing\n        require a visit where date within 4 weeks after last dosing")
    assert bounds(spec) == ("x", (">=", "l_dosing", "date", 0, 0, "", "the last dosing"),
                            ("<=", "l_dosing", "date", 28, 0, "", "the last dosing"))


def test_within_of_a_shifted_anchor() -> None:
    spec = window_of("    for each visit where name = \"WEEK 2\"\n"
                     "        require date within 3 days of first dosing.date + 2 weeks")
    assert bounds(spec) == ("t", (">=", "f_dosing", "date", 11, 0, "", "the first dosing"),
                            ("<=", "f_dosing", "date", 17, 0, "", "the first dosing"))


def test_a_state_start_plus_an_offset_keeps_the_rules_words() -> None:
    spec = window_of("    for first dosing of each arm where arm > 1\n"
                     "        require a committee where decision = \"go\" and committee.arm = dosing.arm\n"
                     "            and date > done.start for the previous arm + window and date <= dosing.date")
    assert bounds(spec) == ("x", (">", "state_done_previous", "start", 28, 0, "", "done.start for the previous arm"),
                            ("<=", "t", "date", 0, 0, "", "the first dosing of arm"))
    assert spec is not None and spec.high is not None and spec.high.group == "arm"


def test_calendar_months_keep_the_encoding_the_engine_compares() -> None:
    spec = window_of("    for each visit\n"
                     "        require date > first dosing.date + 1 month and date < first dosing.date + 3 months")
    assert bounds(spec) == ("t", (">", "f_dosing", "date", 0, 1, "cal", "the first dosing"),
                            ("<", "f_dosing", "date", 0, 3, "calhi", "the first dosing"))


def test_an_anchor_on_the_left_is_turned_round() -> None:
    spec = window_of("    for each visit\n        require first dosing.date + 2 days <= date")
    assert bounds(spec) == ("t", (">=", "f_dosing", "date", 2, 0, "", "the first dosing"), None)


def test_the_filters_window_when_the_verdict_has_none() -> None:
    spec = window_of("    for each adverse_event where date between first dosing.date and last dosing.date + window\n"
                     "        require grade is known")
    assert bounds(spec) == ("t", (">=", "f_dosing", "date", 0, 0, "", "the first dosing"),
                            ("<=", "l_dosing", "date", 28, 0, "", "the last dosing"))


def test_a_count_per_window_is_its_own_window() -> None:
    spec = window_of("    for the count of visit per 3 months from first dosing through 12 months\n"
                     "        require count >= 1")
    assert spec is not None and spec.count is not None and spec.low is None and spec.high is None
    assert (spec.count.interval_months, spec.count.anchor, spec.count_words) == (3, "dosing", "the first dosing")


@pytest.mark.parametrize("body", [
    # alternatives bounding the date differently
    "    for each visit\n        require date < first dosing.date or date > first dosing.date + 10 days",
    # a `not` of a range is two alternatives
    "    for each visit\n        require not (date between first dosing.date and first dosing.date + 3 days)",
    # two lower bounds
    "    for each visit\n        require date > first dosing.date and date > last dosing.date - 5 days",
    # a calendar-month shift on the record's own side cannot be solved for its date
    "    for each visit\n        require first dosing.date <= date + 3 months",
    # a count per day has no anchor
    "    for the count of visit per day\n        require count <= 1",
    # no date compared with another record's
    "    for each lab\n        require test = \"ANC\"",
])
def test_no_single_window_is_no_window(body: str) -> None:
    assert window_of(body) is None


def test_alternatives_with_the_same_window_have_it() -> None:
    spec = window_of("    for first dosing\n"
                     "        forbid a lab where (test = \"ANC\" or test = \"ALT\") and date within window before first dosing")
    assert bounds(spec)[0] == "x" and spec is not None and spec.low is not None and spec.low.days == -28


# ----- the days it held: the bundled example ---------------------------------------------------------


@cache
def example() -> AuditResult:
    return audit_files(load_protocol(str(ROOT / "protocol.rules")), [str(ROOT / "examples" / "jk500_visits.csv")],
                       keep_records=True)


def example_rows() -> list[dict[str, str]]:
    with (ROOT / "examples" / "jk500_visits.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def only(result: AuditResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule.id == rule]
    assert len(found) == 1, found
    return found[0]


def test_the_src_gate_finding_says_when_the_gate_opened_and_why() -> None:
    rows = example_rows()
    groups = {r["subject"]: r["dose_group"] for r in rows if r["event"] == "enrolment"}
    last: dict[str, str] = {}
    first: dict[str, str] = {}
    for r in rows:
        if r["event"] == "infusion":
            last[r["subject"]] = max(last.get(r["subject"], ""), r["date"])
            first[r["subject"]] = min(first.get(r["subject"], "9999"), r["date"])
    finding = only(example(), "JK500-ESC-SRC-GATE")
    opened = min(first[s] for s in first if groups[s] == "3")
    assert finding.date == opened
    # The previous group's 3rd subject to finish, by last infusion (ties by subject id), read from the data.
    date, third = sorted((last[s], s) for s in last if groups[s] == "2")[2]
    window = finding.window
    assert window is not None
    assert (window.anchor.subject, window.anchor.date, window.anchor.event) == (third, date, "infusion")
    dlt_end = (dt.date.fromisoformat(date) + dt.timedelta(days=28)).isoformat()
    assert (window.start, window.end) == ((dt.date.fromisoformat(dlt_end) + dt.timedelta(days=1)).isoformat(), opened)
    assert window.end_anchor is not None and window.end_anchor.date == opened
    assert window.end_anchor.label == "the first infusion of dose group 3"
    assert window.text == (
        f"after {dlt_end}, 28 days after cohort_complete.start for the previous dose_group: the 3rd subject's last "
        f"infusion in dose group 2 ({third}, {date}); on or before {opened}, the first infusion of dose group 3 "
        f"(JK500-01-009, {opened})")
    # The decisions considered all fall outside it: the escalation to 3 is dated on the DLT window's last day.
    assert [r.date_text for r in finding.considered if r.raw.get("dose_group") == "3"] == [dlt_end]


def test_a_window_between_two_anchors_names_both() -> None:
    finding = only(example(), "JK500-SAF-AE-GRADED")
    subject_rows = [r for r in example_rows() if r["subject"] == finding.subject and r["event"] == "infusion"]
    first, last = min(r["date"] for r in subject_rows), max(r["date"] for r in subject_rows)
    window = finding.window
    assert window is not None and window.end_anchor is not None
    assert (window.start, window.anchor.date, window.end_anchor.date) == (first, first, last)
    assert window.end == (dt.date.fromisoformat(last) + dt.timedelta(days=28)).isoformat()


def test_a_count_per_window_names_its_window_and_anchor() -> None:
    finding = only(example(), "JK500-FU-RESPONSE")
    window = finding.window
    assert window is not None
    first = min(r["date"] for r in example_rows() if r["subject"] == finding.subject and r["event"] == "infusion")
    assert (window.anchor.date, window.anchor.label) == (first, "the first infusion")
    assert (window.start, window.end) == ("2024-07-15", "2024-10-14")
    assert window.text.startswith("2024-07-15 to 2024-10-14: window 2, every 3 months, from the first infusion")


def test_findings_of_rules_without_a_window_have_none() -> None:
    assert only(example(), "JK500-ELIG-AGE").window is None


def test_the_window_is_not_part_of_a_findings_id() -> None:
    for finding in example().findings:
        assert replace(finding, window=None).id == finding.id


# ----- the days it held agree with the engine, at every month's end --------------------------------

MONTH_RULES = """
rule GT "after a month" { cites "x"  for each visit  require date > first dosing.date + 1 month }
rule GE "from a month" { cites "x"  for each visit  require date >= first dosing.date + 1 month }
rule LT "before two months" { cites "x"  for each visit  require date < first dosing.date + 2 months }
rule LE "up to two months" { cites "x"  for each visit  require date <= first dosing.date + 2 months }
rule ELAPSED "under two months" { cites "x"  for each visit  require months from first dosing.date to date < 2 }
rule YEARS "from a year" { cites "x"  for each visit  require years from first dosing.date to date >= 1 }
rule DAYS "after 30 days" { cites "x"  for each visit  require date > first dosing.date + 30 days }
"""


@pytest.mark.parametrize("anchor", ["2023-01-28", "2023-01-29", "2023-01-31", "2024-01-30", "2024-01-31",
                                    "2024-02-29", "2023-03-31", "2024-08-31", "2023-12-31"])
def test_the_days_a_window_holds_are_the_days_the_engine_lets_in(anchor: str, tmp_path: Path) -> None:
    """Every day around each bound: a visit gets a finding exactly when it lies outside the window named."""
    protocol = compiled(MONTH_RULES)
    start = dt.date.fromisoformat(anchor)
    rows = [{"subject": "S1", "date": anchor, "event": "dosing", "dose": "5"}]
    days = [start + dt.timedelta(days=k) for k in [*range(20, 75), *range(350, 380)]]
    rows += [{"subject": "S1", "date": d.isoformat(), "event": "visit", "name": "V"} for d in days]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "WIN", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date(2030, 1, 1))
    for rule in ("GT", "GE", "LT", "LE", "ELAPSED", "YEARS", "DAYS"):
        findings = [f for f in result.findings if f.rule.id == rule]
        assert findings, f"{rule}: every day passes; the days around the bound are not covered"
        windows = {f.window for f in findings}
        assert len(windows) == 1 and None not in windows, windows
        window = windows.pop()
        assert window is not None
        low = dt.date.fromisoformat(window.start) if window.start else dt.date.min
        high = dt.date.fromisoformat(window.end) if window.end else dt.date.max
        outside = {f.date for f in findings}
        for day in days:
            assert (day.isoformat() in outside) == (not low <= day <= high), (rule, anchor, day, window.text)


# ----- partial dates and states that never started --------------------------------------------------


def test_a_partial_anchor_date_gives_a_window_known_only_in_part(tmp_path: Path) -> None:
    protocol = compiled('rule PREP "r" { cites "x"  for each prep\n'
                        '    require date between first dosing.date - 6 days and first dosing.date - 2 days }\n')
    rows = [{"subject": "S1", "date": "2024-03", "event": "dosing", "dose": "5"},
            {"subject": "S1", "date": "2024-02-01", "event": "prep"}]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "WIN", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    finding = only(audit_files(protocol, [str(path)], dt.date(2025, 1, 1)), "PREP")
    window = finding.window
    assert window is not None
    assert (window.start, window.end) == (None, None)  # never silently the month's first day
    assert window.anchor.date == "2024-03"
    assert window.note == "the first dosing is dated 2024-03, known only in part"
    assert window.text.startswith("from a day between 2024-02-24 and 2024-03-25, 6 days before the first dosing "
                                  "(S1, 2024-03); on or before a day between 2024-02-28 and 2024-03-29")


def test_a_gate_whose_state_never_started_never_opens(tmp_path: Path) -> None:
    protocol = compiled('rule GATE "r" { cites "x"\n'
                        '    for first dosing of each arm where arm > 1\n'
                        '        require a committee where decision = "go" and committee.arm = dosing.arm\n'
                        '            and date > done.start for the previous arm + window and date <= dosing.date }\n')
    rows = [{"subject": s, "date": d, "event": "dosing", "dose": "5", "arm": arm}
            for s, d, arm in (("S1", "2024-01-03", "1"), ("S2", "2024-01-10", "1"), ("S4", "2024-03-01", "2"))]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "WIN", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    finding = only(audit_files(protocol, [str(path)], dt.date(2025, 1, 1)), "GATE")
    window = finding.window
    assert window is not None and (window.start, window.end, window.note) == (None, None, "never opens")
    assert window.text == ("never opens: done.start for the previous arm has not started (it starts at the 3rd "
                           "subject's last dosing in arm 1)")


# ----- the reports -----------------------------------------------------------------------------------


def test_every_report_names_the_window() -> None:
    result = example()
    gate = only(result, "JK500-ESC-SRC-GATE")
    assert gate.window is not None
    line = f"src_decision window: {gate.window.text}"
    text = to_text(result)
    block = text.split(gate.id, 1)[1].split("\n\n", 1)[0]
    assert f"\n     {line}\n" in block
    document = json.loads(to_json(result))
    entry = next(f for f in document["findings"] if f["id"] == gate.id)
    assert entry["window"] == {
        "event": "src_decision", "start": gate.window.start, "end": gate.window.end, "text": gate.window.text,
        "note": None,
        "anchor": {"event": "infusion", "subject": gate.window.anchor.subject, "date": gate.window.anchor.date,
                   "label": "cohort_complete.start for the previous dose_group: the 3rd subject's last infusion in "
                            "dose group 2"},
        "end_anchor": {"event": "infusion", "subject": "JK500-01-009", "date": gate.date,
                       "label": "the first infusion of dose group 3"}}
    age = next(f for f in document["findings"] if f["rule"] == "JK500-ELIG-AGE")
    assert age["window"] is None
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    row = next(r for r in rows if r["rule"] == "JK500-ESC-SRC-GATE")
    assert (row["window_start"], row["window_end"], row["window"]) == (gate.window.start, gate.window.end, line)
    assert next(r for r in rows if r["rule"] == "JK500-ELIG-AGE")["window"] == ""
    page = render_html(result)
    escaped = line.replace("'", "&#39;")
    assert page.count(escaped) == 2  # in the findings table and in the finding's evidence
