"""Date-times: a time in the date column is never lost, site time zones, clock changes, and what is refused."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from jk500_rules.compiler import compile_protocol
from jk500_rules.dates import datetime_bounds
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.inputs.records import Record
from jk500_rules.inputs.validation import validate
from jk500_rules.language.parser import parse

from tests.helpers import found_rows
from tests.test_compile import ROOT

RULES = """
protocol "DT"
site "01" zone "Europe/Berlin"
event infusion "Infusion" { dose: decimal in mg required  time: time }
event premed "Premedication" { start: datetime }
event consent "Consent" { signed_by: text }
event visit "Visit" { opened: time  closed: time }
rule DOSE "At most 10 mg" { cites "x" for each infusion require dose <= 10 mg }
rule PREMED "Premedication timed" { cites "x" for each premed require start is known }
rule VISIT "Visits timed" { cites "x" for each visit require opened is known }
rule CONSENT "Consent signed" { cites "x" for each consent require signed_by is known }
"""


def protocol() -> CompiledProtocol:
    return compile_protocol(parse(RULES, "dt.rules"), "dt.rules", RULES)


def audit(rows: list[dict[str, str]], tmp_path: Path, time_zone: str | None = None) -> AuditResult:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "DT", "site": "01", **r}) + "\n" for r in rows), encoding="utf-8")
    return audit_files(protocol(), [str(path)], dt.date(2025, 1, 1), time_zone=time_zone)


def test_the_example_log_with_its_times_in_the_date_column_gives_the_same_findings(tmp_path: Path) -> None:
    rows = list(csv.DictReader((ROOT / "examples" / "jk500_visits.csv").open(encoding="utf-8")))
    moved = 0
    for row in rows:
        if row["time"]:
            row["date"], row["time"], moved = f"{row['date']}T{row['time']}", "", moved + 1
    path = tmp_path / "moved.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = (ROOT / "protocol.rules").read_text(encoding="utf-8")
    jk500 = compile_protocol(parse(text, "protocol.rules"), "protocol.rules", text)
    original = audit_files(jk500, [str(ROOT / "examples" / "jk500_visits.csv")])
    again = audit_files(jk500, [str(path)])
    assert moved > 100 and not again.data.rejections
    assert found_rows(again) == found_rows(original)
    untimed = [f for f in again.findings if "has no time" in (f.reason or "")]
    assert len(untimed) == len([f for f in original.findings if "has no time" in (f.reason or "")])


def row(date: str, event: str, **fields: str) -> Record | str:
    return validate({"study": "DT", "site": "01", "subject": "S1", "date": date, "event": event, **fields},
                    "log.csv", 2, protocol())


def test_a_time_in_the_date_column_fills_the_time_field() -> None:
    record = row("2024-03-04T10:00", "infusion", dose="5")
    assert isinstance(record, Record)
    assert record.raw["time"] == "10:00" and record.values["time"] == 36_000


def test_a_time_with_an_offset_is_moved_into_the_sites_zone() -> None:
    record = row("2024-03-04T23:30+00:00", "infusion", dose="5")
    assert isinstance(record, Record)
    assert (record.date, record.raw["time"]) == (dt.date(2024, 3, 5), "00:30")  # Berlin is UTC+1 in March


def test_a_time_with_nowhere_to_go_or_that_disagrees_is_a_rejected_row() -> None:
    assert row("2024-03-04T10:00", "consent", signed_by="subject") == (
        "the date 2024-03-04T10:00 gives the time 10:00, but consent has nowhere to keep it (it has no time "
        "field); write the date alone and the time in its field")
    assert row("2024-03-04T10:00", "visit") == (
        "the date 2024-03-04T10:00 gives the time 10:00, but visit has nowhere to keep it (its fields opened, "
        "closed are several); write the date alone and the time in its field")
    assert row("2024-03-04T10:00", "infusion", dose="5", time="11:00") == (
        "the date 2024-03-04T10:00 gives the time 10:00, but time says 11:00")
    assert isinstance(row("2024-03-04T10:00", "infusion", dose="5", time="10:00"), Record)


def test_a_wall_clock_time_the_clocks_skip_is_refused_and_one_they_repeat_is_an_interval() -> None:
    assert row("2024-03-31", "premed", start="2024-03-31T02:30") == (
        "start '2024-03-31T02:30' is not a date-time (YYYY-MM-DDTHH:MM, with an optional UTC offset) that exists "
        "in the site's time zone")
    record = row("2024-10-27", "premed", start="2024-10-27T02:30")
    assert isinstance(record, Record)
    assert record.upper["start"] - record.values["start"] == 3600  # 02:30 in summer time, then in winter time


def test_an_undeclared_site_takes_the_audits_time_zone() -> None:
    fields = {"study": "DT", "site": "99", "subject": "S1", "event": "infusion", "dose": "5"}
    record = validate({**fields, "date": "2024-03-04T23:30+00:00"}, "log.csv", 2, protocol(), "Asia/Tokyo")
    assert isinstance(record, Record)
    assert (record.date, record.raw["time"]) == (dt.date(2024, 3, 5), "08:30")


REVIEWED = """
protocol "DT"
site "01" zone "Europe/Berlin"
site "02" zone "America/Santiago"
site "03" zone "Asia/Tokyo"
event dosing "Dose" { start: datetime required }
event infusion "Infusion" { time: time required  dose: decimal required }
event premed "Premedication" { start: datetime }
rule OTHER "A premedication at another instant than the dose" {
    cites "x"
    for each dosing
        require a premed where start != dosing.start
}
rule INF "At most 10" { cites "x" for each infusion require dose <= 10 }
"""


def reviewed(site: str, date: str, event: str, **fields: str) -> Record | str:
    protocol = compile_protocol(parse(REVIEWED, "dt.rules"), "dt.rules", REVIEWED)
    return validate({"study": "DT", "site": site, "subject": "S1", "date": date, "event": event, **fields},
                    "log.csv", 2, protocol)


def test_a_required_time_field_may_come_from_the_date_column() -> None:
    assert isinstance(reviewed("01", "2024-03-04T09:00", "dosing"), Record)
    assert isinstance(reviewed("01", "2024-03-04T09:00", "infusion", dose="1"), Record)
    assert reviewed("01", "2024-03-04", "dosing") == "dosing lacks required field start"


def test_a_repeated_hour_in_the_date_column_keeps_both_readings() -> None:
    record = reviewed("01", "2024-10-27T02:30", "premed")
    assert isinstance(record, Record) and record.upper["start"] - record.values["start"] == 3600
    # The field may name one of the two readings; an instant neither reading is, is a conflict.
    assert isinstance(reviewed("01", "2024-10-27T02:30", "premed", start="2024-10-27T02:30+01:00"), Record)
    assert reviewed("01", "2024-10-27T02:30", "premed", start="2024-10-27T02:30+00:00") == (
        "the date 2024-10-27T02:30 gives the time 02:30, but start says 2024-10-27T02:30+00:00")


def test_a_skipped_time_in_the_date_column_is_refused_even_for_a_clock_time_field() -> None:
    assert reviewed("01", "2024-03-31T02:30", "infusion", dose="5") == (
        "'2024-03-31T02:30' is not a date-time that exists in the site's time zone")


def test_a_day_whose_midnight_the_clocks_skip_is_still_a_day() -> None:
    record = reviewed("02", "2024-09-08", "premed", start="2024-09-08")  # Santiago: 00:00 becomes 01:00
    assert isinstance(record, Record) and record.upper["start"] - record.values["start"] == 23 * 3600 - 1


def test_the_calendars_ends_and_shortened_forms_are_reasons_not_crashes() -> None:
    # Local days at the calendar's ends reach past it in UTC: rejected with the reason, never a crash.
    assert "exists in the site's time zone" in str(reviewed("03", "2024-03-01", "premed", start="0001-01-01"))
    assert "exists in the site's time zone" in str(reviewed("02", "2024-03-01", "premed", start="9999-12-31"))
    assert isinstance(reviewed("03", "0001-01-01T00:30+05:00", "premed"), str)
    assert isinstance(reviewed("03", "2024-03-01", "premed", start="0001-01-02"), Record)
    for text in ("2024-03-01T09", "2024-03-01T0930", "2024-W10-1T09:30"):
        assert isinstance(reviewed("01", "2024-03-01", "premed", start=text), str), text
        assert isinstance(reviewed("01", text, "premed"), str), text


def test_a_fraction_of_a_second_is_dropped_whatever_the_offset() -> None:
    assert datetime_bounds("2024-03-01T07:59:59.999999Z") == datetime_bounds("2024-03-01T07:59:59Z")
    assert datetime_bounds("2024-03-01T08:59:59.999999", "Europe/Berlin") == datetime_bounds("2024-03-01T07:59:59Z")


def test_different_from_is_undecided_when_either_may_be_the_same_instant(tmp_path: Path) -> None:
    protocol = compile_protocol(parse(REVIEWED, "dt.rules"), "dt.rules", REVIEWED)
    rows = [{"subject": "Z1", "date": "2024-03-04", "event": "premed", "start": "2024-03-04"},
            {"subject": "Z1", "date": "2024-03-04", "event": "dosing", "start": "2024-03-04T00:00"},
            {"subject": "Z2", "date": "2024-03-04", "event": "premed", "start": "2024-03-04T08:00"},
            {"subject": "Z2", "date": "2024-03-04", "event": "dosing", "start": "2024-03-04T09:00"}]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "DT", "site": "01", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date(2025, 1, 1))
    assert {s.subject: s.status for s in result.standings if s.rule.id == "OTHER"} == {
        "Z1": "possible_deviation", "Z2": "passed"}


def test_a_reference_to_date_times_not_found_in_a_session_with_a_partial_date(tmp_path: Path) -> None:
    """Over date intervals (a partial date elsewhere in the session), a reference to date-times that finds
    nothing still says so."""
    rules = REVIEWED + """
reference last_premed = latest premed dated on or before each dosing
rule GAP "A dose within 2 hours of the latest premedication" {
    cites "x"
    for each dosing
        require start <= last_premed.start + 2 hours
}
"""
    protocol = compile_protocol(parse(rules, "dt.rules"), "dt.rules", rules)
    rows = [{"subject": "P1", "date": "2024-03", "event": "infusion", "time": "09:00", "dose": "5"},
            {"subject": "P1", "date": "2024-03-04", "event": "dosing", "start": "2024-03-04T09:00"}]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "DT", "site": "01", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date(2025, 1, 1))
    assert [(f.rule.id, f.status, f.reason) for f in result.findings if f.rule.id == "GAP"] == [
        ("GAP", "not_evaluable", "there is no last_premed")]


def test_minutes_and_hours_compare_with_a_duration_written_in_them(tmp_path: Path) -> None:
    """`minutes from a to b >= 60 minutes` reads as `>= 60`; `90 minutes` against hours is an error."""
    from jk500_rules.errors import RulesError

    text = ('protocol "D"\nevent infusion "Infusion" { start: datetime required  stop: datetime required }\n'
            'rule D-60 "At least 60 minutes" {\n cites "x"\n for each infusion\n'
            '  require minutes from start to stop >= 60 minutes and hours from start to stop < 2 hours\n}\n')
    protocol = compile_protocol(parse(text, "d.rules"), "d.rules", text)
    log = tmp_path / "log.csv"
    log.write_text("study,site,subject,date,event,start,stop\n"
                   "D,1,A,2025-01-01,infusion,2025-01-01T10:00,2025-01-01T10:59\n"
                   "D,1,B,2025-01-01,infusion,2025-01-01T10:00,2025-01-01T11:00\n"
                   "D,1,C,2025-01-01,infusion,2025-01-01T10:00,2025-01-01T12:00\n", encoding="utf-8")
    result = audit_files(protocol, [str(log)])
    assert [(f.subject, f.status) for f in result.findings] == [("A", "deviation"), ("C", "deviation")]
    wrong = text.replace("< 2 hours", "< 90 minutes")
    with pytest.raises(RulesError, match="compare hours with a whole number of hours"):
        compile_protocol(parse(wrong, "d.rules"), "d.rules", wrong)
