"""Outputs for monitors' systems: the findings CSV, SDTM DV/SUPPDV (CSV and XPORT), several formats at once."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyreadstat
import pytest

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.reports import dv
from jk500_rules.reports.csv_report import CSV_COLUMNS, csv_text, safe_cell, to_csv
from jk500_rules.reports.writers import parse_formats

ROOT = Path(__file__).resolve().parents[1]
JK500_RULES = ROOT / "protocol.rules"
JK500_LOG = ROOT / "examples" / "jk500_visits.csv"
TRIAL = ROOT / "examples" / "other_trial"
RULES = TRIAL / "protocol.rules"
LOG = TRIAL / "visits.csv"
EXIT_FINDINGS, EXIT_INVALID = 1, 2
INJECTION = "=cmd|' /C calc'!A0"
DV_FILES = {"dv.csv", "suppdv.csv", "dv.xpt", "suppdv.xpt", "dv_trial.csv"}
ALL_FILES = {"report.txt", "report.json", "findings.csv", "provenance.json"} | DV_FILES


RUN_TIME = "2026-01-01T00:00:00Z"  # reports carry their run time; fixed, whole outputs compare byte for byte


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    fixed = ["--run-time", RUN_TIME] if args[:1] == ("audit",) and "--run-time" not in args else []
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args, *fixed], cwd=cwd, capture_output=True,
                          text=True, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def read_xpt(path: Path) -> tuple[list[dict[str, Any]], Any]:
    data, meta = pyreadstat.read_xport(str(path), output_format="dict")
    rows = [{name: values[i] for name, values in data.items()} for i in range(meta.number_rows)]
    return rows, meta


def as_csv_values(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """XPT rows as the CSV writes them: numbers (read back as floats) as integers."""
    return [{k: str(int(v)) if isinstance(v, float) else v for k, v in row.items()} for row in rows]


@pytest.fixture(scope="module")
def jk500_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("jk500") / "out"
    done = run("audit", "--rules", str(JK500_RULES), str(JK500_LOG), "--format", "text,json,csv,dv", "-o", str(out))
    assert done.returncode == EXIT_FINDINGS, done.stderr
    return out


@pytest.fixture(scope="module")
def jk500_findings(jk500_dir: Path) -> list[dict[str, Any]]:
    return json.loads((jk500_dir / "report.json").read_text(encoding="utf-8"))["findings"]


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The second example with subject S002 renamed to a spreadsheet formula and a message starting with '-'."""
    folder = tmp_path_factory.mktemp("injected")
    rules = RULES.read_text(encoding="utf-8")
    old = 'message "Live vaccine {vaccination.vaccine}'
    assert old in rules
    (folder / "protocol.rules").write_text(rules.replace(old, 'message "-Live vaccine {vaccination.vaccine}'),
                                           encoding="utf-8")
    log = LOG.read_text(encoding="utf-8").replace(",S002,", f",{INJECTION},")
    (folder / "visits.csv").write_text(log, encoding="utf-8")
    return folder


# ----- the findings CSV --------------------------------------------------------------------------


def test_csv_has_one_row_per_finding_with_the_report_columns() -> None:
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "csv")
    assert done.returncode == EXIT_FINDINGS
    report = json.loads(run("audit", "--rules", str(RULES), str(LOG), "--format", "json").stdout)
    header = done.stdout.splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    # The layout of earlier versions stays, column for column; `cause` and the window came after it.
    assert CSV_COLUMNS == ("rule", "title", "subject", "date", "status", "severity", "important", "category",
                           "criteria", "message", "reason", "protocol_version", "evidence", "cause",
                           "window_start", "window_end", "window")
    rows = read_csv(done.stdout)
    assert len(rows) == len(report["findings"]) == 10
    for row, finding in zip(rows, report["findings"]):
        assert row["rule"] == finding["rule"]
        assert row["title"] == finding["title"]
        assert row["subject"] == (finding["subject"] or "")
        assert (row["date"], row["status"], row["severity"]) == (finding["date"], finding["status"],
                                                                 finding["severity"])
        assert row["important"] == ("yes" if finding["important"] else "no")
        assert row["category"] == finding["category"]
        assert row["criteria"] == "; ".join(finding["criteria"])
        assert row["message"] == finding["message"]
        assert row["reason"] == (finding["reason"] or "")
        assert row["protocol_version"] == (finding["protocol_version"] or "")
        assert row["evidence"] == "; ".join(e["location"] for e in finding["evidence"])
        assert row["cause"] == (finding["cause"] or "")
    not_evaluable = next(r for r in rows if r["status"] == "not_evaluable")
    assert not_evaluable["reason"] and not_evaluable["cause"]
    trial = [r for r in rows if not r["subject"]]
    assert [r["rule"] for r in trial] == ["ASTHMA-07-SAF-DSMB-GATE"]
    several = [r for r in rows if ";" in r["evidence"]]
    assert several, "some finding rests on more than one record"


def test_csv_cells_cannot_run_as_formulas(injected: Path) -> None:
    done = run("audit", "--rules", str(injected / "protocol.rules"), str(injected / "visits.csv"), "--format", "csv")
    assert done.returncode == EXIT_FINDINGS, done.stderr
    rows = read_csv(done.stdout)
    vaccine = next(r for r in rows if r["rule"] == "ASTHMA-07-EXCL-LIVE-VACCINE")
    assert vaccine["subject"] == "'" + INJECTION
    assert vaccine["message"].startswith("'-Live vaccine ")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    # The JSON report keeps the values as they are.
    report = json.loads(run("audit", "--rules", str(injected / "protocol.rules"), str(injected / "visits.csv"),
                            "--format", "json").stdout)
    assert INJECTION in {f["subject"] for f in report["findings"]}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_quotes_formula_starts(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["S001", "2024-01-01", "", "a=b", "'quoted", 3, -1])
def test_safe_cell_leaves_other_cells(value: Any) -> None:
    assert safe_cell(value) == value


def test_csv_text_quotes_separators_and_escapes_every_cell() -> None:
    text = csv_text(["a", "b"], [["x, y", '-say "hi"'], [None, 7]])
    assert text == 'a,b\n"x, y","\'-say ""hi"""\n,7\n'


# ----- determinism -------------------------------------------------------------------------------


def test_two_runs_write_the_same_bytes(tmp_path: Path, jk500_dir: Path) -> None:
    again = tmp_path / "again"
    done = run("audit", "--rules", str(JK500_RULES), str(JK500_LOG), "--format", "text,json,csv,dv", "-o", str(again))
    assert done.returncode == EXIT_FINDINGS
    assert {p.name for p in again.iterdir()} == ALL_FILES
    for name in sorted(ALL_FILES):
        assert (again / name).read_bytes() == (jk500_dir / name).read_bytes(), name


def test_xpt_time_stamps_are_the_data_cutoff(jk500_dir: Path) -> None:
    for name in ("dv.xpt", "suppdv.xpt"):
        head = (jk500_dir / name).read_bytes()[:560]
        assert head.count(b"22JAN25:00:00:00") == 4, name  # the example's latest record: 2025-01-22


def test_in_process_csv_is_deterministic() -> None:
    protocol = load_protocol(str(RULES))
    first = to_csv(audit_files(protocol, [str(LOG)]))
    second = to_csv(audit_files(load_protocol(str(RULES)), [str(LOG)]))
    assert first == second


# ----- SDTM DV -----------------------------------------------------------------------------------


def test_dv_has_one_record_per_subject_level_finding(jk500_dir: Path, jk500_findings: list[dict[str, Any]]) -> None:
    rows = read_csv((jk500_dir / "dv.csv").read_text(encoding="utf-8"))
    assert list(rows[0]) == [name for name, _ in dv.DV_VARIABLES]
    subject_level = [f for f in jk500_findings if f["subject"] is not None]
    assert len(rows) == len(subject_level) == 47
    assert {r["STUDYID"] for r in rows} == {"JK500"}
    assert {r["DOMAIN"] for r in rows} == {"DV"}
    assert all(r["USUBJID"] for r in rows)
    # The same findings: subject, rule, date and status.
    found = sorted((f["subject"], f["rule"], f["date"], f["status"].upper().replace("_", " "))
                   for f in subject_level)
    written = sorted((r["USUBJID"], r["DVREFID"].rsplit(":", 1)[0], r["DVSTDTC"], r["DVSCAT"]) for r in rows)
    assert written == found
    by_rule = {f["rule"]: f for f in subject_level}
    for row in rows:
        finding = by_rule[row["DVREFID"].rsplit(":", 1)[0]]
        assert row["DVREFID"] == f"{finding['rule']}:{row['DVSTDTC']}"
        assert row["DVDECOD"] == finding["title"]
        assert row["DVCAT"] == finding["category"].upper().replace("_", " ")
        assert row["EPOCH"] == dv.EPOCHS.get(finding["category"], "")
    assert {r["DVSCAT"] for r in rows} == {"DEVIATION", "NOT EVALUABLE"}
    assert {r["EPOCH"] for r in rows} == {"SCREENING", "TREATMENT", "FOLLOW-UP", ""}
    messages = {f["message"] for f in subject_level}
    assert all(r["DVTERM"] in messages for r in rows)


def test_dvseq_numbers_each_subject_from_one_in_date_order(jk500_dir: Path) -> None:
    rows = read_csv((jk500_dir / "dv.csv").read_text(encoding="utf-8"))
    keys = [(r["USUBJID"], int(r["DVSEQ"])) for r in rows]
    assert keys == sorted(keys)
    per_subject: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        per_subject.setdefault(row["USUBJID"], []).append(row)
    assert len(per_subject) > 5
    for subject_rows in per_subject.values():
        assert [int(r["DVSEQ"]) for r in subject_rows] == list(range(1, len(subject_rows) + 1))
        dates = [r["DVSTDTC"] for r in subject_rows]
        assert dates == sorted(dates)


def test_suppdv_flags_each_dv_record_important_or_not(jk500_dir: Path,
                                                      jk500_findings: list[dict[str, Any]]) -> None:
    rows = read_csv((jk500_dir / "dv.csv").read_text(encoding="utf-8"))
    supp = read_csv((jk500_dir / "suppdv.csv").read_text(encoding="utf-8"))
    assert list(supp[0]) == [name for name, _ in dv.SUPPDV_VARIABLES]
    assert len(supp) == len(rows)
    assert [(s["USUBJID"], s["IDVARVAL"]) for s in supp] == [(r["USUBJID"], r["DVSEQ"]) for r in rows]
    important = {f["rule"]: f["important"] for f in jk500_findings}
    for record, flag in zip(rows, supp):
        assert (flag["STUDYID"], flag["RDOMAIN"], flag["IDVAR"]) == ("JK500", "DV", "DVSEQ")
        assert (flag["QNAM"], flag["QLABEL"]) == ("DVIMPFL", "Important Protocol Deviation Flag")
        assert (flag["QORIG"], flag["QEVAL"]) == ("DERIVED", "")
        assert flag["QVAL"] == ("Y" if important[record["DVREFID"].rsplit(":", 1)[0]] else "N")
    assert {s["QVAL"] for s in supp} == {"Y", "N"}


def test_trial_level_findings_go_to_dv_trial(jk500_dir: Path, jk500_findings: list[dict[str, Any]]) -> None:
    trial = [f for f in jk500_findings if f["subject"] is None]
    assert [f["rule"] for f in trial] == ["JK500-ESC-SRC-GATE"]
    rows = read_csv((jk500_dir / "dv_trial.csv").read_text(encoding="utf-8"))
    assert list(rows[0]) == [name for name, _ in dv.DV_VARIABLES] + ["DVIMPFL"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["USUBJID"], row["DVSEQ"], row["DVREFID"]) == ("", "1", "JK500-ESC-SRC-GATE:" + trial[0]["date"])
    assert (row["DVTERM"], row["DVSCAT"], row["DVIMPFL"]) == (trial[0]["message"], "DEVIATION", "Y")
    dv_rows = read_csv((jk500_dir / "dv.csv").read_text(encoding="utf-8"))
    assert "JK500-ESC-SRC-GATE" not in {r["DVREFID"].rsplit(":", 1)[0] for r in dv_rows}


def test_dv_to_stdout_is_dv_csv_and_names_what_it_left_out(jk500_dir: Path) -> None:
    done = run("audit", "--rules", str(JK500_RULES), str(JK500_LOG), "--format", "dv")
    assert done.returncode == EXIT_FINDINGS
    assert done.stdout == (jk500_dir / "dv.csv").read_text(encoding="utf-8")
    assert "1 trial-level finding(s) left out of DV" in done.stderr
    assert "dv_trial.csv" in done.stderr


def test_dv_trial_is_a_header_alone_without_trial_findings(tmp_path: Path) -> None:
    amendment = ROOT / "examples" / "amendment"
    out = tmp_path / "dv"
    done = run("audit", "--rules", str(amendment / "protocol.rules"), str(amendment / "visits.csv"),
               "--format", "dv", "-o", str(out))
    assert done.returncode == EXIT_FINDINGS, done.stderr
    assert {p.name for p in out.iterdir()} == DV_FILES | {"provenance.json"}
    assert (out / "dv_trial.csv").read_text(encoding="utf-8").count("\n") == 1
    rows = read_csv((out / "dv.csv").read_text(encoding="utf-8"))
    assert len(rows) == 6 and {r["STUDYID"] for r in rows} == {"AMEND-DEMO"}


# ----- SAS XPORT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "variables"), [("DV", dv.DV_VARIABLES), ("SUPPDV", dv.SUPPDV_VARIABLES)])
def test_xpt_reads_back_as_the_csv(jk500_dir: Path, name: str, variables: tuple[tuple[str, str], ...]) -> None:
    path = jk500_dir / f"{name.lower()}.xpt"
    assert path.read_bytes().startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")  # version 5, not LIBV8
    rows, meta = read_xpt(path)
    assert meta.table_name == name
    assert meta.file_label == dv.DATASET_LABELS[name]
    assert meta.column_names == [n for n, _ in variables]
    assert meta.column_labels == [label for _, label in variables]
    assert all(len(label) <= 40 for label in meta.column_labels)
    assert all(width <= 200 for width in meta.variable_storage_width.values())
    numeric = {n for n, t in meta.readstat_variable_types.items() if t == "double"}
    assert numeric == ({"DVSEQ"} if name == "DV" else set())
    expected = read_csv((jk500_dir / f"{name.lower()}.csv").read_text(encoding="utf-8"))
    assert len(rows) == len(expected) > 0
    assert as_csv_values(rows) == expected


def test_xpt_keeps_values_the_csv_quotes(injected: Path, tmp_path: Path) -> None:
    out = tmp_path / "dv"
    done = run("audit", "--rules", str(injected / "protocol.rules"), str(injected / "visits.csv"),
               "--format", "dv", "-o", str(out))
    assert done.returncode == EXIT_FINDINGS, done.stderr
    csv_rows = read_csv((out / "dv.csv").read_text(encoding="utf-8"))
    xpt_rows, _ = read_xpt(out / "dv.xpt")
    assert ("'" + INJECTION) in {r["USUBJID"] for r in csv_rows}
    assert INJECTION in {r["USUBJID"] for r in xpt_rows}
    assert any(r["DVTERM"].startswith("-Live vaccine") for r in xpt_rows)
    # Apart from the quote, the same values.
    unquoted = [{k: v.removeprefix("'") for k, v in r.items()} for r in csv_rows]
    assert as_csv_values(xpt_rows) == unquoted
    supp, _ = read_xpt(out / "suppdv.xpt")
    assert INJECTION in {r["USUBJID"] for r in supp}


def test_long_messages_continue_in_suppdv(tmp_path: Path) -> None:
    result = audit_files(load_protocol(str(RULES)), [str(LOG)])
    long = "é" + "word " * 90  # 452 bytes: 200 + 200 + 52, a two-byte character first
    index = next(i for i, f in enumerate(result.findings) if f.subject is not None)
    result.findings[index] = dataclasses.replace(result.findings[index], message=long)
    datasets = dv.build(result)
    record = next(r for r in datasets.dv if r["DVTERM"] == long[:199])
    assert len(record["DVTERM"].encode("utf-8")) == 200
    more = [s for s in datasets.suppdv
            if (s["USUBJID"], s["IDVARVAL"]) == (record["USUBJID"], str(record["DVSEQ"])) and s["QNAM"] != "DVIMPFL"]
    assert [s["QNAM"] for s in more] == ["DVTERM1", "DVTERM2"]
    assert [s["QLABEL"] for s in more] == ["Protocol Deviation Term 1", "Protocol Deviation Term 2"]
    assert record["DVTERM"] + "".join(s["QVAL"] for s in more) == long
    folder = tmp_path / "long"
    dv.write(result, folder)
    for name in ("dv.xpt", "suppdv.xpt"):
        _, meta = read_xpt(folder / name)
        assert max(meta.variable_storage_width.values()) == 200


def test_chunks_never_split_a_character() -> None:
    assert dv.chunks("") == [""]
    assert dv.chunks("abc", 2) == ["ab", "c"]
    assert dv.chunks("aé", 2) == ["a", "é"]
    assert dv.chunks("x" * 400) == ["x" * 200, "x" * 200]


def long_id_log(path: Path, *suffixes: str) -> Path:
    """The JK500 example with subjects 001 and 003 renamed to 200 shared bytes plus a suffix each."""
    long = "JK500-01-" + "0" * 191  # 200 bytes
    text = JK500_LOG.read_text(encoding="utf-8")
    for old, suffix in zip(("JK500-01-001,", "JK500-01-003,"), suffixes):
        text = text.replace(old, f"{long}{suffix},")
    path.write_text(text, encoding="utf-8")
    return path


def test_subject_ids_that_xpt_would_make_one_refuse_the_run(tmp_path: Path) -> None:
    log = long_id_log(tmp_path / "visits.csv", "-001", "-003")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("last week's\n", encoding="utf-8")
    for formats, output in (("json,dv", [ "-o", str(out)]), ("dv", [])):
        done = run("audit", "--rules", str(JK500_RULES), str(log), "--format", formats, *output)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stdout == ""
        assert "--format dv cannot tell apart the subject ids" in done.stderr
        assert '0-001" and "JK500-01-' in done.stderr and '0-003": they share their first 200 bytes' in done.stderr
    assert [p.name for p in out.iterdir()] == ["report.json"]  # nothing written, nothing replaced
    assert (out / "report.json").read_text(encoding="utf-8") == "last week's\n"
    # Without dv, the same logs are audited: every other format holds the whole ids.
    done = run("audit", "--rules", str(JK500_RULES), str(log), "--format", "json")
    assert done.returncode == 1 and "0-003" in done.stdout


def test_a_long_subject_id_alone_is_cut_to_200_bytes(tmp_path: Path) -> None:
    log = long_id_log(tmp_path / "visits.csv", "-001")
    out = tmp_path / "out"
    assert run("audit", "--rules", str(JK500_RULES), str(log), "--format", "dv", "-o", str(out)).returncode == 1
    rows, _ = read_xpt(out / "dv.xpt")
    cut = {r["USUBJID"] for r in rows if len(r["USUBJID"]) > 20}
    assert cut == {"JK500-01-" + "0" * 191}


def test_long_titles_and_categories_continue_in_suppdv() -> None:
    result = audit_files(load_protocol(str(RULES)), [str(LOG)])
    index = next(i for i, f in enumerate(result.findings) if f.subject is not None)
    finding = result.findings[index]
    title, category = "é" + "title " * 50, "cat_" * 60  # 301 and 240 bytes
    rule = dataclasses.replace(finding.rule, title=title, category=category)
    result.findings = [dataclasses.replace(f, rule=rule) if f.rule is finding.rule else f for f in result.findings]
    datasets = dv.build(result)
    record = next(r for r in datasets.dv if r["USUBJID"] == finding.subject and r["DVDECOD"] == title[:199])
    more = {s["QNAM"]: s for s in datasets.suppdv
            if (s["USUBJID"], s["IDVARVAL"]) == (record["USUBJID"], str(record["DVSEQ"]))}
    assert record["DVDECOD"] + more["DVDECOD1"]["QVAL"] == title
    assert record["DVCAT"] + more["DVCAT1"]["QVAL"] == category.upper().replace("_", " ")
    assert more["DVDECOD1"]["QLABEL"] == "Protocol Deviation Coded Term 1"
    assert more["DVCAT1"]["QLABEL"] == "Category for Protocol Deviation 1"
    assert all(len(v.encode("utf-8")) <= 200 for r in datasets.dv + datasets.suppdv for v in r.values()
               if isinstance(v, str))


def test_rule_ids_that_xpt_would_make_one_refuse_dv(tmp_path: Path) -> None:
    # DVREFID (rule id:date) is how a monitor follows one deviation from a data cut to the next.
    long = "R" * 200
    rules = tmp_path / "long.rules"
    rules.write_text(f'event e {{ x: integer }}\nrule {long}-1 "one" {{ for each e require x > 1 }}\n'
                     f'rule {long}-2 "two" {{ for each e require x > 2 }}\n', encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("study,site,subject,date,event,x\nS,01,A,2024-01-01,e,0\n", encoding="utf-8")
    done = run("audit", "--rules", str(rules), str(log), "--format", "dv")
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert (f'cannot tell apart the finding references (rule id:date) "{long}-1:2024-01-01" and '
            f'"{long}-2:2024-01-01": they share their first 200 bytes, all that SAS XPORT keeps of DVREFID'
            ) in done.stderr


# ----- several formats, files and folders --------------------------------------------------------


def test_several_formats_write_every_file(jk500_dir: Path) -> None:
    assert {p.name for p in jk500_dir.iterdir()} == ALL_FILES
    for fmt, name in (("text", "report.txt"), ("json", "report.json"), ("csv", "findings.csv")):
        alone = run("audit", "--rules", str(JK500_RULES), str(JK500_LOG), "--format", fmt)
        assert alone.returncode == EXIT_FINDINGS
        assert (jk500_dir / name).read_text(encoding="utf-8") == alone.stdout, name


def test_several_formats_need_a_folder(tmp_path: Path) -> None:
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "text,json")
    assert done.returncode == EXIT_INVALID
    assert "-o DIR" in done.stderr and done.stdout == ""
    a_file = tmp_path / "report"
    a_file.write_text("", encoding="utf-8")
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "csv,dv", "-o", str(a_file))
    assert done.returncode == EXIT_INVALID
    assert "is a file, not a folder" in done.stderr


def test_one_format_writes_the_file_o_names_or_into_a_folder(tmp_path: Path) -> None:
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "csv", "-o", str(tmp_path / "f.csv"))
    assert done.returncode == EXIT_FINDINGS and done.stdout == ""
    assert (tmp_path / "f.csv").read_text(encoding="utf-8").startswith("rule,title,subject,")
    folder = tmp_path / "existing"
    folder.mkdir()
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "json", "-o", str(folder))
    assert done.returncode == EXIT_FINDINGS
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["findings"]


def test_an_unknown_format_is_a_usage_error() -> None:
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "text,xml")
    assert done.returncode == EXIT_INVALID
    assert "'xml' is not a format" in done.stderr


def test_parse_formats() -> None:
    assert parse_formats("text") == ("text",)
    assert parse_formats(" csv , dv,csv") == ("csv", "dv")
    with pytest.raises(Exception, match="not a format"):
        parse_formats("text,,json")


def test_help_documents_the_formats() -> None:
    done = run("audit", "--help")
    text = " ".join(done.stdout.split())
    for word in ("csv", "dv", "text,json,csv,dv", "DVIMPFL", "dv_trial.csv", "suppdv.xpt", "findings.csv"):
        assert word in text, word
