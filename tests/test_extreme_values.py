"""Values at the edges of what the engine can hold (issue 14): huge numbers, digits of other scripts,
dates at the calendar's ends. Each is a rejected row with its reason, or an audit that completes."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from jk500_rules import audit_records, load_protocol, to_html
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.dates import add_days, add_months, week_start
from jk500_rules.engine.results import AuditResult
from jk500_rules.engine.trial_facts import build_sessions
from jk500_rules.inputs import sdtm
from jk500_rules.inputs.validation import validate

ROOT = Path(__file__).resolve().parents[1]
TOO_LARGE_INTEGER = "is too large (at most 9223372036854775807 in size: the engine holds whole numbers as 64-bit integers)"
TOO_LARGE_DECIMAL = ("is too large (at most 9223372036854.775807 in size: "
                     "the engine holds decimals as 64-bit counts of millionths)")
ASCII_ONLY = "only the ASCII digits 0-9 are read as digits"


@pytest.fixture(scope="module")
def protocol() -> CompiledProtocol:
    return load_protocol(ROOT / "protocol.rules")


def infusion(date: str = "2024-01-01", dose: str = "1000000", subject: str = "S1") -> dict[str, object]:
    return {"study": "JK500", "subject": subject, "date": date, "event": "infusion", "dose": dose}


def adverse_event(grade: str) -> dict[str, object]:
    return {"study": "JK500", "subject": "S1", "date": "2024-01-01", "event": "adverse_event", "term": "rash",
            "grade": grade}


def reasons(result: AuditResult) -> list[str]:
    return [rejection.reason for rejection in result.data.rejections]


@pytest.mark.parametrize(("row", "reason"), [
    (infusion(dose="1e22"), f"dose '1e22' {TOO_LARGE_DECIMAL}"),
    (infusion(dose="-9223372036854.7758071"), f"dose '-9223372036854.7758071' {TOO_LARGE_DECIMAL}"),
    (adverse_event("1e5000"), f"grade '1e5000' {TOO_LARGE_INTEGER}"),
    (adverse_event("-1e10000000"), f"grade '-1e10000000' {TOO_LARGE_INTEGER}"),
    (adverse_event("9223372036854775808"), f"grade '9223372036854775808' {TOO_LARGE_INTEGER}"),
])
def test_a_number_too_large_for_the_engine_is_a_rejected_row(protocol: CompiledProtocol, row: dict[str, object],
                                                             reason: str) -> None:
    assert reasons(audit_records(protocol, [row])) == [reason]


def test_the_largest_numbers_the_engine_holds_are_accepted(protocol: CompiledProtocol) -> None:
    rows = [infusion(dose="9223372036854.775807"), adverse_event("-9223372036854775807")]
    assert all(not isinstance(validate(row, "x", 1, protocol), str) for row in rows)


@pytest.mark.parametrize("text", ["1e10000000", "1e999999999999999999", "9" * 131_072])
def test_a_huge_number_is_refused_in_bounded_time(protocol: CompiledProtocol, text: str) -> None:
    started = time.perf_counter()
    reason = validate(adverse_event(text), "x", 1, protocol)
    assert time.perf_counter() - started < 1.0
    assert isinstance(reason, str) and reason.startswith("grade '")


@pytest.mark.parametrize(("row", "reason"), [
    (infusion(dose="١٠٠٠٠٠٠"), f"dose '١٠٠٠٠٠٠' is not a number: {ASCII_ONLY}"),
    (adverse_event("３"), f"grade '３' is not a whole number: {ASCII_ONLY}"),
    (infusion(dose="1_000_000"), "dose '1_000_000' is not a number: digits may not be grouped with '_'"),
    (adverse_event("1_0"), "grade '1_0' is not a whole number: digits may not be grouped with '_'"),
    (infusion(date="２０２４-01-01"), f"'２０２４-01-01' is not a valid ISO 8601 date: {ASCII_ONLY}"),
    (infusion(date="２０２４"), f"'２０２４' is not a valid ISO 8601 date: {ASCII_ONLY}"),
    (infusion(date="٢٠٢٤-01"), f"'٢٠٢٤-01' is not a valid ISO 8601 date: {ASCII_ONLY}"),
    ({**infusion(), "time": "1٢:00"}, f"time '1٢:00' is not a clock time (HH:MM or HH:MM:SS): {ASCII_ONLY}"),
])
def test_only_ascii_digits_are_numbers_or_dates(protocol: CompiledProtocol, row: dict[str, object],
                                                 reason: str) -> None:
    assert reasons(audit_records(protocol, [row])) == [reason]


@pytest.mark.parametrize("date", ["9999-12-31", "9998-01-01", "9999-06-30", "0001-01-01"])
def test_an_infusion_at_the_calendars_ends_audits_to_the_end(protocol: CompiledProtocol, date: str) -> None:
    result = audit_records(protocol, [infusion(date=date)])
    assert reasons(result) == [] and result.findings
    assert "<svg" in to_html(result)


def test_a_window_past_the_calendars_end_ends_on_its_last_day(protocol: CompiledProtocol) -> None:
    records = audit_records(protocol, [infusion(date="9998-01-01"), infusion(date="9998-03-01")]).data.records
    (session, _trial) = build_sessions(records, protocol, dt.date(9999, 12, 31))
    windows = [e.display for f, e in zip(session.facts, session.evidence) if "window" in f]
    assert windows and windows[-1]["end"] == "9999-12-31"
    assert all(w["end"] <= "9999-12-31" for w in windows)
    first = [w for w in windows if w["date"] == "9998-01-01"]
    assert first and first[0]["count"] == "0"


def test_date_shifts_past_the_calendar_are_none() -> None:
    assert add_months(dt.date(9999, 12, 31), 1) is None
    assert add_months(dt.date(9998, 1, 1), 24) is None
    assert add_months(dt.date(1, 1, 31), -1) is None
    assert add_months(dt.date(9999, 1, 31), 1) == dt.date(9999, 2, 28)
    assert add_days(dt.date(9999, 12, 31), 1) is None and add_days(dt.date(1, 1, 1), -1) is None
    assert add_days(dt.date(9999, 12, 30), 1) == dt.date.max


def test_the_week_of_the_calendars_first_day_starts_on_it() -> None:
    assert week_start(dt.date(1, 1, 1), "sunday") == dt.date.min  # a Monday: its Sunday is before year 1
    assert week_start(dt.date(1, 1, 8), "sunday") == dt.date(1, 1, 7)


# --- SDTM: a sum or a scale reads numbers as visit-log fields are read, before any arithmetic -------------

def sdtm_doses(tmp_path: Path, protocol: CompiledProtocol, doses: list[str], dose: str) -> list[str]:
    """The reasons of the rejections when EX rows with these EXDOSE cells (one day, one subject) are read
    with `fields.dose = <dose>`; every row is accounted for."""
    folder = tmp_path / "sdtm"
    folder.mkdir(parents=True)
    lines = ["USUBJID,EXDOSE,EXSTDTC"] + [f'S1,"{d}",2024-01-01' for d in doses]
    (folder / "ex.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(f'[[event.infusion]]\ndomain = "EX"\ngroup_by = ["EXSTDTC"]\ndate = "EXSTDTC"\n'
                       f"fields.dose = {dose}\n", encoding="utf-8")
    data = sdtm.read_study([str(folder)], str(mapping), protocol)
    assert data.read == len(data.records) + len(data.rejections) == 1
    return [r.reason for r in data.rejections]


@pytest.mark.parametrize(("cell", "why"), [
    ("١٠٠", f"is not a number to {{}}: {ASCII_ONLY}"),
    ("２０", f"is not a number to {{}}: {ASCII_ONLY}"),
    ("1_000", "is not a number to {}: digits may not be grouped with '_'"),
    ("1e1000000", "is too large to {} (the engine holds numbers of at most 19 digits before the point)"),
    ("-1e999999999", "is too large to {} (the engine holds numbers of at most 19 digits before the point)"),
    ("1e-999999", "is too small to {} (below 1e-324, the smallest number an XPT file holds)"),
])
def test_an_sdtm_sum_or_scale_refuses_what_a_field_refuses(tmp_path: Path, protocol: CompiledProtocol, cell: str,
                                                           why: str) -> None:
    started = time.perf_counter()
    summed = sdtm_doses(tmp_path / "sum", protocol, [cell, "1"], '{ sum = "EXDOSE" }')
    scaled = sdtm_doses(tmp_path / "scale", protocol, [cell], '{ column = "EXDOSE", scale = 1000 }')
    assert time.perf_counter() - started < 5.0  # a hang guard: 1e-999999 written out is a million zeros
    assert summed == [f"event.infusion[0].fields.dose: EXDOSE '{cell}' {why.format('add up')} "
                      "[an event of 2 rows: lines 2, 3]"]
    assert scaled == [f"event.infusion[0].fields.dose: '{cell}' {why.format('scale')}"]


def test_an_sdtm_sum_or_scale_of_ordinary_numbers_still_works(tmp_path: Path, protocol: CompiledProtocol) -> None:
    assert sdtm_doses(tmp_path / "sum", protocol, ["999999", "1", "-0"], '{ sum = "EXDOSE" }') == []
    assert sdtm_doses(tmp_path / "scale", protocol, ["1.5e-7"], '{ column = "EXDOSE", scale = 1000 }') == []
    assert sdtm_doses(tmp_path / "max", protocol, ["5", "1e1000000"], '{ max = "EXDOSE" }') == [
        f"dose '1e1000000' {TOO_LARGE_DECIMAL} [an event of 2 rows: lines 2, 3]"]
