"""Corrupt and hostile inputs: each is a clear `file:line: error:` (exit 2) or a counted rejection naming
file:line (exit 3), never a traceback, and always within a time bound (the subprocess timeout).

The CDISC pilot's XPT files (for the truncated-XPT cases) are read from `$JK500_SHARED_DATA/cdiscpilot01`,
as in test_cdiscpilot.py: skipped without them, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import shared_data, unavailable

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.errors import InputError
from jk500_rules.inputs.log_formats import CELL_LIMIT, LINE_LIMIT
from jk500_rules.inputs.visit_logs import LogFile

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
TIMEOUT = 60  # seconds: the only time bound asserted

HEADER = "study,site,subject,date,event,condition,significant\n"


def row(subject: str = "S1", date: str = "2019-05-01", condition: str = "asthma", significant: str = "no") -> str:
    return f"JK500,01,{subject},{date},medical_history,{condition},{significant}\n"


def jrow(**values: object) -> dict[str, object]:
    base: dict[str, object] = {"study": "JK500", "subject": "S1", "date": "2019-05-01",
                               "event": "medical_history", "condition": "asthma", "significant": "no"}
    base.update(values)
    return base


def audit(tmp_path: Path, name: str, content: str | bytes, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m jk500_rules audit --rules protocol.rules NAME` run in tmp_path, which holds NAME."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return run(tmp_path, "--rules", str(RULES), *extra, name)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def rejected(done: subprocess.CompletedProcess[str], *locations_and_reasons: tuple[str, str]) -> None:
    """Exit 3, the count of rejections in the summary, and each `file:line: reason` listed."""
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert f"{len(locations_and_reasons)} row(s) rejected" in done.stderr
    for location, reason in locations_and_reasons:
        assert f"{location}: {reason}" in done.stdout, done.stdout


def failed(done: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2 with exactly one `file[:line]: error: ...` line."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.strip() == message, done.stderr


# --- CSV -------------------------------------------------------------------------------------------------

def test_unterminated_quote_at_end_of_file(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row() + 'JK500,01,S2,2019-05-01,medical_history,"asthma,no\n')
    rejected(done, ("log.csv:3", "has 6 cells; the header has 7"))


def test_unterminated_quote_mid_file_names_the_lines_it_swallows(tmp_path: Path) -> None:
    rows = "".join(row(f"S{i}") for i in range(4000))
    quoted = 'JK500,01,SQ,2019-05-01,medical_history,"asthma,no\n'
    done = audit(tmp_path, "log.csv", HEADER + row("S0") + quoted + rows)
    assert done.returncode == 3
    assert f"log.csv:3: a cell longer than {CELL_LIMIT} characters; it runs from line 3 to line " in done.stdout
    assert "a quote not closed?" in done.stdout


def test_unterminated_quote_in_a_small_file_names_the_lines(tmp_path: Path) -> None:
    quoted = 'JK500,01,SQ,2019-05-01,medical_history,"asthma,no\n'
    done = audit(tmp_path, "log.csv", HEADER + quoted + row("S2") + row("S3"))
    rejected(done, ("log.csv:2", "has 6 cells; the header has 7 (a quoted cell runs from line 2 to line 4: "
                                 "a quote not closed?)"))


def test_a_quote_inside_an_unquoted_cell_is_taken_as_written(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + row(condition='ast"hma') + row("S2"), encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)], keep_records=True)
    assert not result.data.rejections
    assert sorted(r.raw["condition"] for r in result.data.records) == ['ast"hma', "asthma"]
    assert run(tmp_path, "--rules", str(RULES), "log.csv").returncode == 0


def test_ragged_rows_are_rejected_each(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row().rstrip("\n") + ",extra\n"
                 + "JK500,01,S3,2019-05-01,medical_history\n" + row("S4"))
    rejected(done, ("log.csv:2", "has 8 cells; the header has 7"), ("log.csv:3", "has 5 cells; the header has 7"))


@pytest.mark.parametrize("text", ["\ufeff" + HEADER + row(), (HEADER + row() + row("S2")).replace("\n", "\r\n"),
                                  HEADER + row() + "\n\n" + row("S2") + ",,,,,,\n"],
                         ids=["bom", "crlf", "blank lines"])
def test_bom_crlf_and_blank_lines_are_read(tmp_path: Path, text: str) -> None:
    done = audit(tmp_path, "log.csv", text)
    assert done.returncode == 0, done.stderr
    assert "rejected:        0" in done.stdout


def test_a_non_utf8_byte_deep_in_a_big_file_names_its_line(tmp_path: Path) -> None:
    content = (HEADER + "".join(row(f"S{i}") for i in range(50_000))).encode()
    content += b"JK500,01,SX,2019-05-01,medical_history,ast\xffhma,no\n" + row().encode() * 10
    done = audit(tmp_path, "log.csv", content)
    failed(done, "log.csv:50002: error: not UTF-8 text (byte 43 of the line)")


def test_a_cut_off_utf8_character_at_the_end(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", (HEADER + row()).encode() + "é".encode()[:1])
    failed(done, "log.csv:3: error: not UTF-8 text (byte 1 of the line)")


def test_a_nul_byte_rejects_its_row(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row(condition="as\x00thma") + row("S2"))
    rejected(done, ("log.csv:2", "has a NUL character (byte 0): not text"))


def test_a_cell_over_the_csv_limit_is_rejected(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row(condition="a" * (CELL_LIMIT + 10)) + row("S2"))
    rejected(done, ("log.csv:2", f"a cell longer than {CELL_LIMIT} characters"))


@pytest.mark.parametrize("quoted", [False, True])
def test_a_10mb_field_is_rejected_and_the_rest_read(tmp_path: Path, quoted: bool) -> None:
    huge = "a" * 10_000_000
    done = audit(tmp_path, "log.csv", HEADER + row(condition=f'"{huge}"' if quoted else huge) + row("S2"))
    rejected(done, ("log.csv:2", f"line 2 is longer than {LINE_LIMIT} characters"))


def test_the_rows_after_an_overlong_line_are_read(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + row(condition="a" * (LINE_LIMIT + 5)) + row("S2") + row("S3"), encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)], keep_records=True)
    assert [(r.line, r.reason) for r in result.data.rejections] == [
        (2, f"line 2 is longer than {LINE_LIMIT} characters")]
    assert sorted((r.subject, r.line) for r in result.data.records) == [("S2", 3), ("S3", 4)]


def test_an_empty_file(tmp_path: Path) -> None:
    failed(audit(tmp_path, "log.csv", ""), "log.csv:1: error: the file is empty; a visit log starts with a header row")


def test_a_header_only_file_audits_nothing(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER)
    assert done.returncode == 0, done.stderr
    assert "rejected:        0" in done.stdout


def test_a_header_with_a_repeated_column(tmp_path: Path) -> None:
    failed(audit(tmp_path, "log.csv", HEADER.replace("significant", "condition") + row()),
           "log.csv:1: error: the header repeats column condition")


def test_a_header_without_a_required_column(tmp_path: Path) -> None:
    failed(audit(tmp_path, "log.csv", HEADER.replace("date,", "") + row()),
           "log.csv:1: error: the header lacks column date")


@pytest.mark.parametrize("date", ["2024-02-30", "2024-13-01", "0000-01-01", "2024-1-5", "2024-02-", "24-02-01"])
def test_impossible_or_malformed_dates_are_rejected(tmp_path: Path, date: str) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row(date=date) + row("S2"))
    rejected(done, ("log.csv:2", f"'{date}' is not a valid ISO 8601 date"))


def test_a_partial_date_is_accepted(tmp_path: Path) -> None:
    done = audit(tmp_path, "log.csv", HEADER + row(date="2024-02") + row("S2", date="2024"))
    assert done.returncode == 0, done.stdout + done.stderr


# --- JSON Lines ------------------------------------------------------------------------------------------

def jsonl(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def dumps(values: dict[str, object]) -> str:
    import json

    return json.dumps(values)


def test_broken_json_lines_are_each_rejected(tmp_path: Path) -> None:
    text = jsonl(dumps(jrow()), '{"study": ', "[1, 2]", '"subject"', "", dumps(jrow(subject="S2")), "{")
    done = audit(tmp_path, "log.jsonl", text)
    rejected(done, ("log.jsonl:2", "not valid JSON (Expecting value at column 11)"),
             ("log.jsonl:3", "a JSON Lines row must be an object"),
             ("log.jsonl:4", "a JSON Lines row must be an object"),
             ("log.jsonl:7", "not valid JSON (Expecting property name enclosed in double quotes at column 2)"))


@pytest.mark.parametrize(("value", "reason"), [
    ('{"a": 1}', "condition is a JSON object; a value must be a string, number, true, false or null"),
    ("[1]", "condition is a JSON array; a value must be a string, number, true, false or null"),
    ("1e999", "condition is inf, not a finite number"),
    ("-Infinity", "condition is -inf, not a finite number"),
    ("NaN", "condition is nan, not a finite number"),
])
def test_json_values_that_are_not_scalars_or_not_finite(tmp_path: Path, value: str, reason: str) -> None:
    line = dumps(jrow()).replace('"asthma"', value)
    done = audit(tmp_path, "log.jsonl", jsonl(line, dumps(jrow(subject="S2"))))
    rejected(done, ("log.jsonl:1", reason))


@pytest.mark.parametrize(("value", "reason"), [
    ("[" * 100_000 + "]" * 100_000, "has values nested too deeply to read"),  # 200,000 characters: under the limits
    ("9" * 5_000, "has a number of more than 4,300 digits"),
])
def test_json_values_python_cannot_read_reject_their_row(tmp_path: Path, value: str, reason: str) -> None:
    line = dumps(jrow()).replace('"asthma"', value)
    done = audit(tmp_path, "log.jsonl", jsonl(line, dumps(jrow(subject="S2"))))
    rejected(done, ("log.jsonl:1", reason))


def test_a_number_as_subject_is_its_text(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(jsonl(dumps(jrow(subject=1001)), dumps(jrow(subject="S2"))), encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)], keep_records=True)
    assert not result.data.rejections
    assert sorted(r.subject for r in result.data.records) == ["1001", "S2"]


def test_json_size_limits(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(jsonl(dumps(jrow(condition="a" * (CELL_LIMIT + 1))),
                          dumps(jrow(subject="S2", condition="b" * 10_000_000)),
                          dumps(jrow(subject="S3"))), encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)], keep_records=True)
    assert [(r.line, r.reason) for r in result.data.rejections] == [
        (1, f"condition is longer than {CELL_LIMIT} characters"),
        (2, f"a line longer than {LINE_LIMIT} characters")]
    assert [r.subject for r in result.data.records] == ["S3"]
    done = run(tmp_path, "--rules", str(RULES), "log.jsonl")
    assert done.returncode == 3 and "2 row(s) rejected" in done.stderr


def test_json_nul_and_non_utf8(tmp_path: Path) -> None:
    # "\u0000" escaped is valid JSON, but the rules engine would fail on it (exit 4 before the fix)
    done = audit(tmp_path, "log.jsonl", jsonl(dumps(jrow()), dumps(jrow(subject="S\x00"))))
    rejected(done, ("log.jsonl:2", "subject has a NUL character (byte 0)"))
    raw = (jsonl(dumps(jrow())) + '{"subject": "S\x002"}\n').encode()
    rejected(audit(tmp_path, "raw.jsonl", raw), ("raw.jsonl:2", "has a NUL character (byte 0): not text"))
    failed(audit(tmp_path, "bad.jsonl", jsonl(dumps(jrow())).encode() + b'{"subject": "\xc3("}\n'),
           "bad.jsonl:2: error: not UTF-8 text (byte 14 of the line)")


def test_logfile_in_process_raises_input_error_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(HEADER.encode() + b"\x80\n")
    with pytest.raises(InputError) as caught:
        list(LogFile(str(path)).entries())
    assert (caught.value.line, str(caught.value)) == (2, f"{path}:2: error: not UTF-8 text (byte 1 of the line)")


# --- truncated SDTM XPT ----------------------------------------------------------------------------------

CDISC = ROOT / "examples" / "cdiscpilot01"


def _pilot_data() -> Path:
    path = shared_data() / "cdiscpilot01"
    if not (path / "dm.xpt").is_file():
        unavailable(f"the CDISC pilot SDTM data is not at {path}; set JK500_SHARED_DATA", "the truncated-XPT cases")
    return path


@pytest.fixture(scope="module")
def pilot_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = _pilot_data()
    folder = tmp_path_factory.mktemp("pilot") / "sdtm"
    folder.mkdir()
    for xpt in source.glob("*.xpt"):
        shutil.copyfile(xpt, folder / xpt.name)
    return folder


@pytest.mark.parametrize("size", [0, 40, 1000, 10_001, 30_017, -1])
def test_a_truncated_xpt_file_is_named(pilot_copy: Path, size: int) -> None:
    original = (_pilot_data() / "dm.xpt").read_bytes()
    cut = original[:size]
    (pilot_copy / "dm.xpt").write_bytes(cut)
    try:
        done = run(pilot_copy.parent, "--rules", str(CDISC / "protocol.rules"), "--mapping",
                   str(CDISC / "mapping.toml"), "sdtm")
    finally:
        (pilot_copy / "dm.xpt").write_bytes(original)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("sdtm/dm.xpt: error: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if len(cut) > 3000:  # a shorter cut fails on the header: "not a SAS XPORT file that can be read"
        assert f"truncated: {len(cut)} bytes is not a whole number of the 80-byte records" in done.stderr
