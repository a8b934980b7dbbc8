"""Subject ids that are any valid Unicode text audit end to end; a value that is not text is a rejected row."""

from __future__ import annotations

import csv
import datetime as dt
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jk500_rules import IncrementalAudit, Row, audit_records, load_protocol, write_reports
from jk500_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
AS_OF = dt.date(2025, 1, 22)
# JK500-01-003 has planted deviations (an active infection at screening, an infusion 12 % under dose).
TWIN = "JK500-01-003"
SUBJECTS = ["S-é", "患者-001", 'A"B', "C\\D", "T\tAB"]


@pytest.fixture(scope="module")
def protocol():  # type: ignore[no-untyped-def]
    return load_protocol(str(RULES))


def twin_rows(subject: str) -> list[dict[str, str]]:
    with LOG.open(encoding="utf-8", newline="") as handle:
        return [{**row, "subject": subject} for row in csv.DictReader(handle) if row["subject"] == TWIN]


def findings_of(result, subject: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sorted((f.rule.id, f.subject, f.date, f.status, f.message.replace(subject, "<subject>"))
                  for f in result.findings)


@pytest.fixture(scope="module")
def twin_findings(protocol) -> list[tuple]:  # type: ignore[no-untyped-def]
    findings = findings_of(audit_records(protocol, twin_rows(TWIN), as_of=AS_OF), TWIN)
    assert any(status == "deviation" for _, _, _, status, _ in findings)
    return [(rule, "<subject>", *rest) for rule, _, *rest in findings]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_subject_id_of_any_text_is_judged_as_its_ascii_twin(protocol, twin_findings, subject: str,
                                                              tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = audit_records(protocol, twin_rows(subject), as_of=AS_OF)
    assert not result.data.rejections
    assert [(rule, "<subject>" if s == subject else s, *rest)
            for rule, s, *rest in findings_of(result, subject)] == twin_findings
    written = write_reports(result, ("text", "json", "csv", "html"), str(tmp_path))
    assert {path.name for path in written} >= {"report.txt", "report.json", "findings.csv", "report.html"}
    assert {finding["subject"] for finding in json.loads((tmp_path / "report.json").read_text("utf-8"))["findings"]
            if finding["subject"]} == {subject}
    with (tmp_path / "findings.csv").open(encoding="utf-8", newline="") as handle:
        assert {row["subject"] for row in csv.DictReader(handle) if row["subject"]} == {subject}


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_dv_output_holds_the_subject_in_csv_and_xpt(protocol, subject: str,
                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyreadstat

    result = audit_records(protocol, twin_rows(subject), as_of=AS_OF)
    write_reports(result, ("dv",), str(tmp_path))
    with (tmp_path / "dv.csv").open(encoding="utf-8", newline="") as handle:
        assert {row["USUBJID"] for row in csv.DictReader(handle)} == {subject}
    for name in ("dv.xpt", "suppdv.xpt"):  # XPORT declares no encoding: the text is stored as UTF-8
        frame, _ = pyreadstat.read_xport(str(tmp_path / name))
        assert set(frame["USUBJID"]) == {subject}
        assert subject.encode("utf-8") in (tmp_path / name).read_bytes()


@pytest.mark.parametrize("subject", ["患者-001", 'A"B'])
def test_the_incremental_audit_takes_the_subject_row_by_row(protocol, twin_findings,
                                                            subject: str) -> None:  # type: ignore[no-untyped-def]
    rows = twin_rows(subject)
    with IncrementalAudit(protocol, as_of=AS_OF) as live:
        for number, row in enumerate(rows, start=2):
            live.add([Row("visits.csv", number, row)])
        result = live.result()
    assert [(rule, "<subject>" if s == subject else s, *rest)
            for rule, s, *rest in findings_of(result, subject)] == twin_findings


def test_the_command_line_audits_a_chinese_subject_in_every_format(tmp_path: Path) -> None:
    log = tmp_path / "visits.csv"
    log.write_text(LOG.read_text(encoding="utf-8").replace(TWIN, "患者-001"), encoding="utf-8")
    output = tmp_path / "out"
    code = main(["audit", "--rules", str(RULES), "--as-of", "2025-01-22", "--format", "text,json,csv,html",
                 "-o", str(output), str(log)])
    assert code == 1  # findings, as for the original log
    assert "患者-001" in (output / "report.txt").read_text(encoding="utf-8")


def test_a_lone_surrogate_is_a_rejected_row_with_its_reason(protocol, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "visits.jsonl"
    rows = [{key: value for key, value in row.items() if value} for row in twin_rows(TWIN)]
    log.write_text("".join(json.dumps(row) + "\n" for row in rows[:-1])
                   + json.dumps({**rows[-1], "subject": "S\ud800"}) + "\n", encoding="utf-8")
    assert '"S\\ud800"' in log.read_text(encoding="utf-8")
    output = tmp_path / "out"
    code = main(["audit", "--rules", str(RULES), "--as-of", "2025-01-22", "--format", "text,json,csv,html,dv",
                 "-o", str(output), str(log)])
    assert code == 3  # rows rejected
    (rejection,) = json.loads((output / "report.json").read_text(encoding="utf-8"))["summary"]["rejections"]
    assert rejection["location"] == f"{log}:{len(rows)}"
    assert rejection["reason"] == "subject is not valid Unicode text (it holds a lone surrogate, 'S\\ud800')"
    in_memory = audit_records(protocol, [{**rows[0], "subject": "S\ud800"}], as_of=AS_OF)
    assert [r.reason for r in in_memory.data.rejections] == [rejection["reason"]]


def test_watch_survives_a_chinese_subject_appended_to_its_log(tmp_path: Path) -> None:
    log = tmp_path / "visits.csv"
    log.write_text(LOG.read_text(encoding="utf-8"), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "jk500_rules", "watch", "--rules", str(RULES),
                                "--as-of", "2025-01-22", "--interval", "0.01", "--format", "jsonl", str(log)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                               cwd=ROOT)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        assert json.loads(lines.get(timeout=60))["phase"] == "initial"
        with log.open("a", encoding="utf-8", newline="") as handle:
            handle.write("".join(",".join(row.values()) + "\n" for row in twin_rows("患者-001")
                                 if "," not in "".join(row.values()) and '"' not in "".join(row.values())))
        deadline = time.monotonic() + 60
        seen: set[str] = set()
        while "患者-001" not in seen:
            event = json.loads(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            seen.add(str(event.get("subject")))
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=60)
