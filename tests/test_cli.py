"""The command line: exit codes, error reports without tracebacks, the JSON report, --as-of, input order."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRIAL = ROOT / "examples" / "other_trial"
RULES = TRIAL / "protocol.rules"
LOG = TRIAL / "visits.csv"
EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_REJECTED = 0, 1, 2, 3
FINDING_KEYS = {"rule", "subject", "date", "severity", "status", "message", "evidence"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], cwd=cwd, capture_output=True, text=True)
    assert "Traceback" not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout
    return done


def audit_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    done = run("audit", "--format", "json", *args, cwd=cwd)
    return done.returncode, json.loads(done.stdout)


def log_rows() -> tuple[str, list[str]]:
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    return header, rows


def write_log(path: Path, rows: list[str]) -> Path:
    header, _ = log_rows()
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def clean_log(tmp_path: Path) -> Path:
    """Subject S002 alone, without the live vaccine planted in the example: nothing to report."""
    _, rows = log_rows()
    kept = [r for r in rows if ",S002," in r and "yellow fever" not in r]
    assert len(kept) == 8
    return write_log(tmp_path / "clean.csv", kept)


# ----- exit codes --------------------------------------------------------------------------------


def test_exit_0_for_a_clean_log(tmp_path: Path) -> None:
    done = run("audit", "--rules", str(RULES), str(clean_log(tmp_path)))
    assert done.returncode == EXIT_CLEAN, done.stdout + done.stderr
    assert "No findings." in done.stdout
    assert done.stderr == ""


def test_exit_1_for_findings() -> None:
    done = run("audit", "--rules", str(RULES), str(LOG))
    assert done.returncode == EXIT_FINDINGS, done.stderr
    assert "Findings (10)" in done.stdout
    assert done.stderr == ""


def test_exit_2_for_a_bad_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text(RULES.read_text(encoding="utf-8").replace("for each injection", "for each injecton"),
                   encoding="utf-8")
    done = run("audit", "--rules", "bad.rules", str(LOG), cwd=tmp_path)
    assert done.returncode == EXIT_INVALID
    assert done.stdout == ""
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), start=1) if "injecton" in text)
    assert f"bad.rules:{line}:" in done.stderr
    assert "error: unknown event type 'injecton'" in done.stderr
    assert f"{line:>4} |     for each injecton\n" in done.stderr
    assert "^" in done.stderr
    assert "hint: did you mean 'injection'?" in done.stderr
    assert done.stderr.rstrip().endswith("1 error in bad.rules")


def test_exit_2_for_check_and_compile_of_a_bad_rules_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('protocol "X"\nrule X-1 "no verdict" {\n    for each visit\n}\n', encoding="utf-8")
    for command in ("check", "compile"):
        done = run(command, "bad.rules", cwd=tmp_path)
        assert done.returncode == EXIT_INVALID
        assert done.stdout == ""
        assert done.stderr.startswith("bad.rules:4:1: error: unexpected '}'\n")


def test_exit_2_for_a_missing_rules_file(tmp_path: Path) -> None:
    done = run("audit", "--rules", "nowhere.rules", str(LOG), cwd=tmp_path)
    assert done.returncode == EXIT_INVALID
    assert done.stderr == "nowhere.rules: error: no such file\n"


@pytest.mark.parametrize("problem", ["missing", "directory", "not-utf8", "empty", "no-header-columns"])
def test_exit_2_for_an_unreadable_log(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "log.csv"
    expected = {
        "missing": "log.csv: error: no such file",
        "directory": "log.csv: error: not a file",
        "not-utf8": "log.csv:11: error: not UTF-8 text (byte 53 of the line)",
        "empty": "log.csv:1: error: the file is empty",
        "no-header-columns": "log.csv:1: error: the header lacks columns",
    }[problem]
    if problem == "directory":
        path.mkdir()
    elif problem == "not-utf8":
        path.write_bytes(LOG.read_bytes().replace(b"yellow fever", b"fi\xe8vre jaune"))
    elif problem == "empty":
        path.write_text("", encoding="utf-8")
    elif problem == "no-header-columns":
        path.write_text("who,when\nS001,2024-01-01\n", encoding="utf-8")
    done = run("audit", "--rules", str(RULES), "log.csv", cwd=tmp_path)
    assert done.returncode == EXIT_INVALID
    assert done.stdout == ""
    assert done.stderr.startswith(expected), done.stderr


def test_exit_2_wins_over_everything_else(tmp_path: Path) -> None:
    """A second, missing log: nothing is audited, even though the first log has findings."""
    done = run("audit", "--rules", str(RULES), str(LOG), "missing.csv", cwd=tmp_path)
    assert done.returncode == EXIT_INVALID
    assert done.stdout == ""
    assert done.stderr == "missing.csv: error: no such file\n"


def test_exit_3_for_rejected_rows_each_listed_with_file_line_and_reason(tmp_path: Path) -> None:
    header, rows = log_rows()
    bad_rows = [
        "ASTHMA-07,101,S001,2024-01-30,injekcion,,,,100,abdomen,,,,,,\n",  # unknown event type
        "ASTHMA-07,101,S001,2024-02-30,injection,,,,100,abdomen,,,,,,\n",  # impossible date
        "ASTHMA-07,101,S001,2024-13,spirometry,,,,,,1.9,,,,,\n",  # a partial date with no 13th month
        "ASTHMA-07,101,S001,2024-01-31,injection,,,,lots,abdomen,,,,,,\n",  # not a number
        "ASTHMA-07,101,,2024-01-31,injection,,,,100,abdomen,,,,,,\n",  # no subject
        "ASTHMA-07,,S001,2024-02-01,dsmb_review,,,2,,,,,,,,proceed\n",  # subject on a trial event
        "ASTHMA-07,101,S001,2024-01-31,randomisation,,,,,,,,,,,\n",  # required field missing
        "OTHER-01,101,S001,2024-01-31,spirometry,,,,,,1.9,,,,,\n",  # another study
    ]
    log = tmp_path / "mixed.csv"
    log.write_text(header + "".join(rows[:10] + bad_rows + rows[10:]), encoding="utf-8")
    first_bad_line = 12  # header, ten good rows, then the bad ones

    done = run("audit", "--rules", str(RULES), "mixed.csv", cwd=tmp_path)
    assert done.returncode == EXIT_REJECTED  # 3 wins over the findings' 1
    assert done.stderr == "8 row(s) rejected; see the summary.\n"
    lines = done.stdout.splitlines()
    # Before the findings: the count and each row with its subject and date as written.
    findings_at = next(i for i, line in enumerate(lines) if line.startswith("Findings ("))
    top = lines[:findings_at]
    assert f"Rejected rows: 8 of {len(rows) + 8} read, not audited" in top
    first = [line for line in top if line.startswith("  mixed.csv:")]
    assert len(first) == 8
    assert first[0] == "  mixed.csv:12  S001  2024-01-30: unknown event type 'injekcion' (did you mean 'injection'?)"
    assert first[4] == "  mixed.csv:16  (no subject)  2024-01-31: injection needs a subject"
    # The summary at the end still accounts for every one.
    summary_at = lines.index("Summary")
    listed = [line.strip() for line in lines[summary_at:] if line.strip().startswith("mixed.csv:")]
    assert [entry.split(":", 2)[1] for entry in listed] == [str(first_bad_line + i) for i in range(8)]
    reasons = [entry.split(": ", 1)[1] for entry in listed]
    assert reasons[0] == "unknown event type 'injekcion' (did you mean 'injection'?)"
    assert "2024-02-30" in reasons[1]
    assert reasons[2] == "'2024-13' is not a valid ISO 8601 date"
    assert "lots" in reasons[3]
    assert reasons[4] == "injection needs a subject"
    assert "trial-level" in reasons[5]
    assert "arm" in reasons[6]
    assert "OTHER-01" in reasons[7]

    code, report = audit_json("--rules", str(RULES), "mixed.csv", cwd=tmp_path)
    assert code == EXIT_REJECTED
    summary = report["summary"]
    assert summary["records_rejected"] == 8
    assert [r["location"] for r in summary["rejections"]] == [f"mixed.csv:{first_bad_line + i}" for i in range(8)]
    assert [r["reason"] for r in summary["rejections"]] == reasons
    assert [(r["subject"], r["date"]) for r in summary["rejections"]][:5] == [
        ("S001", "2024-01-30"), ("S001", "2024-02-30"), ("S001", "2024-13"), ("S001", "2024-01-31"),
        (None, "2024-01-31")]
    # the good rows are audited as before
    assert len(report["findings"]) == 10


def test_bad_as_of_date_is_a_usage_error() -> None:
    done = run("audit", "--rules", str(RULES), str(LOG), "--as-of", "15/04/2024")
    assert done.returncode == 2
    assert "'15/04/2024' is not an ISO date" in done.stderr


# ----- the JSON report ---------------------------------------------------------------------------


def test_json_findings_and_summary() -> None:
    code, report = audit_json("--rules", str(RULES), str(LOG), "--as-of", "2024-03-10")
    assert code == EXIT_FINDINGS
    assert report["protocol"]["name"] == "ASTHMA-07"
    assert report["findings"]
    for finding in report["findings"]:
        assert FINDING_KEYS <= set(finding), finding
        assert finding["severity"] in ("critical", "major", "minor")
        assert finding["status"] in ("deviation", "possible_deviation", "not_evaluable")
        assert finding["message"] and "{" not in finding["message"]
        assert finding["evidence"], finding
        for evidence in finding["evidence"]:
            path, line = evidence["location"].rsplit(":", 1)
            assert Path(path) == LOG and int(line) >= 2
    summary = report["summary"]
    assert summary["records_read"] == 49
    assert summary["records_not_used"] > 0  # rows after the cut-off
    assert summary["records_read"] == (
        summary["records_audited"] + summary["records_not_used"] + summary["records_rejected"]
    )
    assert summary["findings"] == len(report["findings"])


def test_json_summary_adds_up_with_rejections_and_unused_rows(tmp_path: Path) -> None:
    _, rows = log_rows()
    log = write_log(tmp_path / "log.csv", rows + ["ASTHMA-07,101,S001,2024-01-30,injekcion,,,,100,,,,,,,\n"])
    code, report = audit_json("--rules", str(RULES), str(log), "--as-of", "2024-02-01")
    summary = report["summary"]
    assert code == EXIT_REJECTED
    assert summary["records_rejected"] == 1 and summary["records_not_used"] > 0 and summary["records_audited"] > 0
    assert summary["records_read"] == 50 == (
        summary["records_audited"] + summary["records_not_used"] + summary["records_rejected"]
    )


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = run("audit", "--rules", str(RULES), str(LOG), "--format", "json", "-o", str(out))
    assert done.returncode == EXIT_FINDINGS
    assert done.stdout == ""
    assert len(json.loads(out.read_text(encoding="utf-8"))["findings"]) == 10


# ----- --as-of -----------------------------------------------------------------------------------


def total_rule(report: dict[str, Any]) -> tuple[list[tuple[str, str]], int]:
    findings = [(f["subject"], f["date"]) for f in report["findings"] if f["rule"] == "ASTHMA-07-TRT-TOTAL"]
    return findings, report["summary"]["findings_by_rule"]["ASTHMA-07-TRT-TOTAL"]["pending"]


def test_as_of_makes_a_count_rule_pending() -> None:
    # S001's first injection is on 8 January; the count is judged 35 days later, on 12 February.
    _, full = audit_json("--rules", str(RULES), str(LOG))
    # S001 has five (dated on the fifth); S003 three (dated when four were due: 13 January + 35 days).
    assert total_rule(full) == ([("S001", "2024-01-29"), ("S003", "2024-02-17")], 1)

    _, before = audit_json("--rules", str(RULES), str(LOG), "--as-of", "2024-02-11")
    findings, pending = total_rule(before)
    assert findings == []
    assert pending == 5  # S001, S002, S003, and S004/S005 with no injection yet
    assert before["summary"]["data_cutoff"] == "2024-02-11"

    _, on_the_day = audit_json("--rules", str(RULES), str(LOG), "--as-of", "2024-02-12")
    assert total_rule(on_the_day) == ([("S001", "2024-01-29")], 4)


# ----- input order -------------------------------------------------------------------------------


def without_locations(report: dict[str, Any]) -> list[dict[str, Any]]:
    findings = report["findings"]
    for finding in findings:
        for evidence in finding["evidence"] + finding["considered"]:
            evidence.pop("location")
    return findings


def test_shuffled_records_give_identical_findings(tmp_path: Path) -> None:
    _, rows = log_rows()
    shuffled = rows[:]
    random.Random(2024).shuffle(shuffled)
    assert shuffled != rows
    log = write_log(tmp_path / "shuffled.csv", shuffled)

    code_a, original = audit_json("--rules", str(RULES), str(LOG))
    code_b, reordered = audit_json("--rules", str(RULES), str(log))

    assert code_a == code_b == EXIT_FINDINGS
    assert reordered["summary"] == original["summary"]
    assert without_locations(reordered) == without_locations(original)


def test_jsonl_in_shuffled_order_gives_the_same_findings_as_csv(tmp_path: Path) -> None:
    records = list(csv.DictReader(io.StringIO(LOG.read_text(encoding="utf-8"))))
    random.Random(7).shuffle(records)
    log = tmp_path / "visits.jsonl"
    log.write_text("".join(json.dumps({k: v for k, v in r.items() if v}) + "\n" for r in records),
                   encoding="utf-8")

    _, original = audit_json("--rules", str(RULES), str(LOG))
    code, from_jsonl = audit_json("--rules", str(RULES), str(log))

    assert code == EXIT_FINDINGS
    assert without_locations(from_jsonl) == without_locations(original)


# ----- fmt ---------------------------------------------------------------------------------------


def test_the_shipped_rules_files_are_laid_out_canonically() -> None:
    files = [str(p) for p in [ROOT / "protocol.rules", *sorted((ROOT / "examples").glob("*/protocol.rules"))]]
    done = run("fmt", "--check", *files)
    assert done.returncode == EXIT_CLEAN, done.stdout


def test_fmt_rewrites_checks_and_refuses_a_broken_file(tmp_path: Path) -> None:
    messy = tmp_path / "messy.rules"
    messy.write_text('event e { x: integer }\nrule R "r" {   cites "t"\nfor each e   require x is known }\n',
                     encoding="utf-8")
    broken = tmp_path / "broken.rules"
    broken.write_text('event e { x: integer\n', encoding="utf-8")
    before = messy.read_text(encoding="utf-8")
    checked = run("fmt", "--check", str(messy))
    assert checked.returncode == EXIT_FINDINGS and "not laid out canonically" in checked.stdout
    assert messy.read_text(encoding="utf-8") == before
    refused = run("fmt", str(messy), str(broken))
    assert refused.returncode == EXIT_INVALID and "broken.rules:1:21: error: unexpected end of file" in refused.stderr
    assert messy.read_text(encoding="utf-8") == before  # nothing is written when any file is broken
    assert run("fmt", str(messy)).returncode == EXIT_CLEAN
    assert messy.read_text(encoding="utf-8") == (
        'event e {\n    x: integer\n}\n\nrule R "r" {\n    cites "t"\n    for each e\n        require x is known\n}\n')
    assert run("fmt", "--check", str(messy)).returncode == EXIT_CLEAN


# ----- explain -------------------------------------------------------------------------------------


def test_explain_one_rule_all_rules_and_a_version() -> None:
    one = run("explain", "protocol.rules", "JK500-EXCL-LIVE-VACCINE", cwd=ROOT)
    assert one.returncode == EXIT_CLEAN
    assert one.stdout.startswith("JK500-EXCL-LIVE-VACCINE: No live attenuated vaccine in the 28 days before")
    assert "from 28 days before the subject's first JK500 infusion up to the day of that" in " ".join(one.stdout.split())
    assert max(len(line) for line in one.stdout.splitlines()) <= 100
    every = run("explain", "protocol.rules", cwd=ROOT)
    assert every.stdout.count("A deviation is reported") == 39
    typo = run("explain", "protocol.rules", "JK500-TRT-TOTL", cwd=ROOT)
    assert typo.returncode == EXIT_INVALID and "did you mean 'JK500-TRT-TOTAL'" in typo.stderr
    amended = ROOT / "examples" / "amendment" / "protocol.rules"
    old = run("explain", str(amended), "DEMO-DOSE", "--version", "1.0")
    new = run("explain", str(amended), "DEMO-DOSE")
    assert "within 5% of 100 mg" in old.stdout and "within 10% of 100 mg" in new.stdout


def test_each_finding_carries_the_rules_explanation(tmp_path: Path) -> None:
    code, report = audit_json("--rules", str(RULES), str(LOG))
    assert code == EXIT_FINDINGS
    for finding in report["findings"]:
        assert finding["explanation"].startswith("A deviation is reported"), finding["rule"]


def test_matrix_and_diff_read_sdtm_folders_too() -> None:
    sdtm = ROOT / "examples" / "jk500_sdtm"
    mapping = str(sdtm / "mapping.toml")
    logs = [str(sdtm), str(sdtm / "src_decisions.csv")]
    same = run("diff", "protocol.rules", "protocol.rules", *logs, "--mapping", mapping, cwd=ROOT)
    assert same.returncode == EXIT_CLEAN and "unchanged: 48" in same.stdout
    trace = run("matrix", "--rules", "protocol.rules", "--format", "json", "--mapping", mapping, *logs, cwd=ROOT)
    rules = {r["id"]: r for c in json.loads(trace.stdout)["criteria"] for r in c["rules"]}
    assert sum(r["findings"]["deviation"] + r["findings"]["not_evaluable"] for r in rules.values()) == 48


# --- standard output that cannot take the report: a full disk, a reader gone ---------------------------------

JK500 = ("--rules", str(ROOT / "protocol.rules"), str(ROOT / "examples" / "jk500_visits.csv"))
BIG_OUTPUTS = {  # each far more than a pipe holds (64 KiB), so that the reader's going is seen
    "audit json": ("audit", *JK500, "--format", "json"),
    "audit html": ("audit", *JK500, "--format", "html"),
}
SMALL_OUTPUTS = {
    "audit text": ("audit", *JK500),
    "audit dv": ("audit", *JK500, "--format", "dv"),
    "compile": ("compile", str(ROOT / "protocol.rules")),
    "explain": ("explain", str(ROOT / "protocol.rules")),
    "check": ("check", str(ROOT / "protocol.rules")),
}


@pytest.mark.parametrize("args", [*BIG_OUTPUTS.values(), *SMALL_OUTPUTS.values()], ids=[*BIG_OUTPUTS, *SMALL_OUTPUTS])
def test_a_full_standard_output_is_one_clear_line_with_the_output_exit_code(args: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:  # writing to it fails with ENOSPC, as a full disk does
        done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], stdout=full, stderr=subprocess.PIPE,
                              text=True, check=False)
    assert done.returncode == EXIT_INVALID
    assert done.stderr == "<standard output>: error: cannot be written (No space left on device)\n"


@pytest.mark.parametrize("args", BIG_OUTPUTS.values(), ids=BIG_OUTPUTS)
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly_with_141(args: tuple[str, ...]) -> None:
    """`jk500-rules audit ... | head -1`: the reader has what it wanted; no traceback, no "bug", and the
    shell's code for a program a closed pipe stopped (128 + SIGPIPE)."""
    child = subprocess.Popen([sys.executable, "-m", "jk500_rules", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.read(1024)
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait() == 141
    assert stderr == ""
