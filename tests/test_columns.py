"""Rejected rows and undeclared columns (issue 18): a value in a column its event type does not declare is
ignored with one warning per file and column (the row audited), or with --strict-columns rejects the row;
a rejected row carries its subject and date, and the text report lists rejected rows before the findings."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.api import audit_records
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.executor import ProcessExecutor
from jk500_rules.inputs.records import Record
from jk500_rules.inputs.validation import column_warnings, rejection, validate
from jk500_rules.inputs.visit_logs import LogFile, read_logs
from jk500_rules.live.incremental import IncrementalAudit
from jk500_rules.live.intake import Row
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.text_report import to_text

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
HEADER = "study,site,subject,date,event,test,result,uln,unit,dose\n"
# S1: a creatinine above 2x ULN with its unit, a bilirubin with its unit, an infusion (whose `unit` cell is
# empty); S2: a creatinine without a unit, an impossible infusion date, a dose that is no number.
ROWS = [
    "JK500,01,S1,2024-02-02,lab,creatinine,250,100,umol/L,\n",
    "JK500,01,S1,2024-02-03,lab,bilirubin,10,20,umol/L,\n",
    "JK500,01,S1,2024-03-01,infusion,,,,,1000000\n",
    "JK500,01,S2,2024-02-02,lab,creatinine,50,100,,\n",
    "JK500,01,S2,2024-03-40,infusion,,,,,1000000\n",
    "JK500,01,S2,2024-03-01,infusion,,,,mg,abc\n",
]
WARNING = "column 'unit' is not a field of lab; 2 non-empty values ignored, the rows audited without it"


@pytest.fixture(scope="module")
def protocol() -> CompiledProtocol:
    return load_protocol(str(RULES))


def lab(**cells: object) -> dict[str, object]:
    return {"study": "JK500", "subject": "S1", "date": "2024-02-02", "event": "lab", "test": "creatinine",
            "result": "250", "uln": "100", **cells}


def write(path: Path, rows: list[str] = ROWS) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], cwd=cwd, capture_output=True, text=True)
    assert "Traceback" not in done.stderr, done.stderr
    return done


# ----- validate ------------------------------------------------------------------------------------


def test_an_undeclared_column_is_ignored_counted_and_the_row_audited(protocol: CompiledProtocol) -> None:
    ignored: Counter = Counter()
    record = validate(lab(unit="umol/L"), "log.csv", 2, protocol, ignored=ignored)
    assert isinstance(record, Record)
    assert record.raw == {"test": "creatinine", "result": "250", "uln": "100"}  # as if the column were absent
    assert record == validate(lab(), "log.csv", 2, protocol)
    assert ignored == Counter({("log.csv", "unit", "lab"): 1})


def test_strict_columns_reject_the_row_as_before(protocol: CompiledProtocol) -> None:
    ignored: Counter = Counter()
    outcome = validate(lab(unit="umol/L"), "log.csv", 2, protocol, strict_columns=True, ignored=ignored)
    assert outcome == "lab has no field 'unit' (value 'umol/L')"
    assert not ignored


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_undeclared_value_is_neither_counted_nor_rejected(protocol: CompiledProtocol, empty: object) -> None:
    ignored: Counter = Counter()
    assert isinstance(validate(lab(unit=empty), "log.csv", 2, protocol, strict_columns=True, ignored=ignored), Record)
    assert isinstance(validate(lab(unit=empty), "log.csv", 2, protocol, ignored=ignored), Record)
    assert not ignored


def test_a_column_is_undeclared_per_event_type(protocol: CompiledProtocol) -> None:
    """A union header: `dose` is a field of infusion, read there; on a lab row it is ignored and counted."""
    ignored: Counter = Counter()
    infusion = validate({"subject": "S1", "date": "2024-03-01", "event": "infusion", "dose": "1000000"},
                        "log.csv", 3, protocol, ignored=ignored)
    assert isinstance(infusion, Record) and infusion.raw == {"dose": "1000000"}
    assert not ignored
    assert isinstance(validate(lab(dose="5"), "log.csv", 2, protocol, ignored=ignored), Record)
    assert ignored == Counter({("log.csv", "dose", "lab"): 1})


def test_a_row_rejected_for_another_reason_counts_no_ignored_value(protocol: CompiledProtocol) -> None:
    ignored: Counter = Counter()
    outcome = validate(lab(unit="umol/L", result="high"), "log.csv", 2, protocol, ignored=ignored)
    assert outcome == "result 'high' is not a number"
    assert not ignored


def test_one_warning_per_file_and_column_in_reading_order(protocol: CompiledProtocol) -> None:
    ignored = Counter({("b.csv", "unit", "lab"): 3, ("a.csv", "unit", "lab"): 2, ("a.csv", "unit", "infusion"): 1,
                       ("a.csv", "comment", "lab"): 1, ("b.csv", "reslt", "lab"): 1})
    warnings = column_warnings(ignored, ["b.csv", "a.csv"], protocol)
    assert [(w.file, w.column, w.events, w.values) for w in warnings] == [
        ("b.csv", "reslt", ("lab",), 1), ("b.csv", "unit", ("lab",), 3),
        ("a.csv", "comment", ("lab",), 1), ("a.csv", "unit", ("infusion", "lab"), 3)]
    assert warnings[0].message == ("b.csv: column 'reslt' is not a field of lab (did you mean 'result'?); "
                                   "1 non-empty value ignored, the rows audited without it")
    assert warnings[3].message.startswith("a.csv: column 'unit' is not a field of infusion, lab; 3 non-empty values")


def test_a_key_no_report_can_print_is_named_escaped(protocol: CompiledProtocol, tmp_path: Path) -> None:
    """A JSON key may hold a lone surrogate, a NUL or a line break: the warning (or the strict rejection)
    names it escaped, and every report is written (before, the rejection's reason broke the JSON report)."""
    log = tmp_path / "log.jsonl"
    rows = [lab(**{key: "a", "date": f"2024-02-0{n}"}) for n, key in enumerate(["\ud800x", "a\x00b", "new\nline"], 1)]
    log.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = audit_files(protocol, [str(log)])
    assert sorted(column for _, column, _ in result.data.ignored) == ["\\ud800x", "a\\x00b", "new\\nline"]
    strict = audit_files(protocol, [str(log)], strict_columns=True)
    assert strict.data.rejections[0].reason == "lab has no field '\\ud800x' (value 'a')"
    for audited in (result, strict):
        assert to_json(audited).encode("utf-8") and to_text(audited).encode("utf-8")


# ----- rejected rows carry their subject and date ------------------------------------------------------


def test_a_rejection_names_the_subject_and_date_as_written() -> None:
    assert rejection(lab(date="2024-03-40 "), "log.csv", 4, "bad").date == "2024-03-40"
    found = rejection({"subject": " S1 ", "date": "2024-03-40", "event": "infuzion"}, "log.csv", 4, "bad")
    assert (found.location, found.subject, found.date, found.reason) == ("log.csv:4", "S1", "2024-03-40", "bad")
    bare = rejection({"event": "infusion"}, "log.csv", 5, "no date")
    assert (bare.subject, bare.date) == (None, None)
    unreadable = rejection({"subject": "S\ud800", "date": "2024\x00"}, "log.csv", 6, "not text")
    assert (unreadable.subject, unreadable.date) == (None, None)  # a report could not print them
    assert rejection({"subject": 7, "date": 2024}, "log.jsonl", 7, "bad").subject == "7"
    unparsed = rejection(None, "log.csv", 8, "not valid CSV")
    assert (unparsed.subject, unparsed.date) == (None, None)


# ----- the audit: CSV and JSON Lines, workers, the live audit ------------------------------------------


def test_csv_and_json_lines_treat_an_undeclared_column_alike(protocol: CompiledProtocol, tmp_path: Path) -> None:
    csv_log = write(tmp_path / "log.csv")
    lines = []
    for row in ROWS:
        cells = dict(zip(HEADER.strip().split(","), row.strip().split(",")))
        lines.append(json.dumps({k: v for k, v in cells.items() if v}))
    json_log = tmp_path / "log.jsonl"
    json_log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in (csv_log, json_log):
        result = audit_files(protocol, [str(path)])
        assert result.data.ignored == Counter({(str(path), "unit", "lab"): 2}), path
        assert [(r.line, r.subject, r.date) for r in result.data.rejections] == [
            (len(ROWS) - 1 + (path == csv_log), "S2", "2024-03-40"), (len(ROWS) + (path == csv_log), "S2", "2024-03-01")]
        assert result.data.read == result.audited + sum(result.not_used.values()) + len(result.data.rejections)
        assert result.audited == 4  # both labs of S1 among them
        assert any(f.rule.id == "JK500-EXCL-CREATININE" and f.subject == "S1" for f in result.findings)


def test_warnings_and_rejections_travel_back_from_workers(protocol: CompiledProtocol, tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", ROWS + [row.replace("S1", f"S{n}").replace("S2", f"T{n}")
                                              for n in range(3, 40) for row in ROWS])
    serial = audit_files(protocol, [str(log)])
    executor = ProcessExecutor(2)
    try:
        workers = audit_files(protocol, [str(log)], executor=executor)
    finally:
        executor.close()
    assert workers.data.ignored == serial.data.ignored == Counter({(str(log), "unit", "lab"): 2 * 38})
    assert workers.data.rejections == serial.data.rejections and len(serial.data.rejections) == 2 * 38
    assert to_json(workers) == to_json(serial)


def test_strict_columns_travel_to_workers(protocol: CompiledProtocol, tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv")
    executor = ProcessExecutor(2)
    try:
        result = audit_files(protocol, [str(log)], executor=executor, strict_columns=True)
    finally:
        executor.close()
    assert not result.data.ignored
    assert [(r.line, r.reason) for r in result.data.rejections][:2] == [
        (2, "lab has no field 'unit' (value 'umol/L')"), (3, "lab has no field 'unit' (value 'umol/L')")]
    assert len(result.data.rejections) == 4
    assert read_logs([str(log)], protocol, strict_columns=True).rejections == result.data.rejections


def test_the_live_audit_warns_as_the_batch_audit_does(protocol: CompiledProtocol, tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv")
    log = LogFile(str(path))
    rows = [Row(str(path), line, parsed if isinstance(parsed, str) else log.as_dict(parsed))
            for line, _, parsed in log.entries()]
    cutoff = dt.date(2024, 3, 1)
    with IncrementalAudit(protocol, as_of=cutoff) as live:
        live.add(rows[:2])
        assert [(w.column, w.values) for w in live.column_warnings()] == [("unit", 2)]
        live.add(rows[2:])
        assert to_json(live.result()) == to_json(audit_files(protocol, [str(path)], as_of=cutoff))
    with IncrementalAudit(protocol, as_of=cutoff, strict_columns=True) as live:
        changes = live.add(rows)
        assert [r.line for r in changes.rejections] == [2, 3, 6, 7] and not live.column_warnings()


def test_the_api_ignores_or_rejects_an_undeclared_key(protocol: CompiledProtocol) -> None:
    rows = [lab(unit="umol/L"), lab(date="2024-02-03", unit="umol/L")]
    assert audit_records(protocol, rows).data.ignored == Counter({("<records>", "unit", "lab"): 2})
    strict = audit_records(protocol, rows, strict_columns=True)
    assert [(r.location, r.subject, r.date) for r in strict.data.rejections] == [
        ("<records>:1", "S1", "2024-02-02"), ("<records>:2", "S1", "2024-02-03")]


# ----- the reports and the command line ---------------------------------------------------------------


def test_the_text_report_lists_the_first_20_rejected_rows_before_the_findings(protocol: CompiledProtocol,
                                                                           tmp_path: Path) -> None:
    bad = [f"JK500,01,S1,2024-02-{day:02d},lab,creatinine,high,100,,\n" for day in range(1, 26)]
    log = write(tmp_path / "log.csv", ROWS[:3] + bad)
    text = to_text(audit_files(protocol, [str(log)]))
    rejected_at, findings_at = text.index("Rejected rows: 25 of 28 read"), text.index("\nFindings (")
    assert rejected_at < findings_at
    section = text[rejected_at:findings_at]
    assert f"  {log}:5  S1  2024-02-01: result 'high' is not a number\n" in section
    assert ":24  S1  2024-02-20: " in section and ":25  S1" not in section  # the first 20
    assert "  ... and 5 more: every rejected row is listed in the summary below\n" in section
    assert text.index(f"{log}: {WARNING}") < findings_at
    summary = text[text.index("\nSummary\n"):]
    assert summary.count(f"{log}:") == 25  # the end-of-report accounting keeps every one


def test_cli_audit_of_a_log_with_a_unit_column(tmp_path: Path) -> None:
    write(tmp_path / "log.csv", ROWS[:4])  # no rejected row: the warning alone
    done = run("audit", "--rules", str(RULES), "log.csv", cwd=tmp_path)
    assert done.returncode == 1  # findings; the warning changes no exit code
    assert done.stderr == f"jk500-rules audit: warning: log.csv: {WARNING}\n"
    head = done.stdout[:done.stdout.index("\nFindings (")]
    assert f"Warnings: 1\n-----------\n  log.csv: {WARNING}\n" in head
    assert "Rejected rows" not in done.stdout
    assert "JK500-EXCL-CREATININE  subject S1  2024-02-02" in done.stdout  # the lab with a unit was audited

    write(tmp_path / "log.csv")  # and now with rejected rows
    done = run("audit", "--rules", str(RULES), "log.csv", "--format", "json", cwd=tmp_path)
    assert done.returncode == 3
    report = json.loads(done.stdout)
    assert report["warnings"] == [{"kind": "undeclared_column", "file": "log.csv", "column": "unit", "events": ["lab"],
                                   "values_ignored": 2, "message": f"log.csv: {WARNING}"}]
    assert report["summary"]["rejections"] == [
        {"location": "log.csv:6", "subject": "S2", "date": "2024-03-40",
         "reason": "'2024-03-40' is not a valid ISO 8601 date"},
        {"location": "log.csv:7", "subject": "S2", "date": "2024-03-01", "reason": "dose 'abc' is not a number"}]
    summary = report["summary"]
    assert summary["records_read"] == summary["records_audited"] + summary["records_not_used"] + \
        summary["records_rejected"]

    text = run("audit", "--rules", str(RULES), "log.csv", cwd=tmp_path).stdout
    rejected_at, warnings_at, findings_at = (text.index("Rejected rows: 2 of 6 read, not audited"),
                                             text.index("Warnings: 1"), text.index("\nFindings ("))
    assert rejected_at < warnings_at < findings_at
    assert "  log.csv:6  S2  2024-03-40: '2024-03-40' is not a valid ISO 8601 date\n" in text

    strict = run("audit", "--rules", str(RULES), "log.csv", "--strict-columns", "--format", "json", cwd=tmp_path)
    assert strict.returncode == 3 and "warning" not in strict.stderr
    report = json.loads(strict.stdout)
    assert report["warnings"] == []
    assert [r["location"] for r in report["summary"]["rejections"]] == [f"log.csv:{n}" for n in (2, 3, 6, 7)]
    assert report["summary"]["rejections"][3]["reason"] == "infusion has no field 'unit' (value 'mg')"


def test_the_html_report_gives_a_notice(protocol: CompiledProtocol, tmp_path: Path) -> None:
    from jk500_rules.reports.html_report import render_html

    log = write(tmp_path / "log.csv")
    page = render_html(audit_files(protocol, [str(log)], keep_records=True))
    assert '<div class="notice small" id="warnings"><strong>Warnings (1)</strong>' in page
    assert f"<li>{log}: {WARNING.replace(chr(39), '&#39;')}</li>" in page
    assert f"{log}:6&nbsp; S2&nbsp; 2024-03-40: " in page


def test_watch_warns_once_per_file_and_column_or_rejects_with_strict_columns(protocol: CompiledProtocol,
                                                                           tmp_path: Path) -> None:
    import io

    from jk500_rules.live.watch import watch

    log = write(tmp_path / "log.csv")
    out = io.StringIO()
    assert watch(protocol, [str(log)], dt.date(2024, 3, 1), exit_after=0.2, interval=0.1, out=out) == 0
    lines = out.getvalue().splitlines()
    assert [line for line in lines if line.startswith("WARNING ")] == [f"WARNING {log}: {WARNING}"]
    assert "6 row(s) read (2 rejected; 2 value(s) ignored in columns their event type does not declare)" in lines[-1]

    out = io.StringIO()
    watch(protocol, [str(log)], dt.date(2024, 3, 1), exit_after=0.2, interval=0.1, fmt="jsonl", out=out,
          strict_columns=True)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert not [e for e in events if e["event"] == "warning"]
    rejected = [(e["location"], e["subject"], e["date"], e["reason"]) for e in events if e["event"] == "rejected"]
    assert rejected[0] == (f"{log}:2", "S1", "2024-02-02", "lab has no field 'unit' (value 'umol/L')")
    assert len(rejected) == 4
