"""Each column named once (issue 14, items 5 and 16): CSV headers of visit logs and domain files, XPT
files and JSON Lines rows. A name repeated or empty, or a header past the line limit, is refused with
its place; the header check is linear, so a header of 100,000 columns is decided at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.errors import InputError
from jk500_rules.inputs import sdtm
from jk500_rules.inputs.log_formats import LINE_LIMIT
from jk500_rules.live.tails import Sources

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
HEADER = "study,site,subject,date,event,condition,significant"
ROW = "JK500,01,S1,2019-05-01,medical_history,asthma,no"
# A hang guard, not a performance target: the quadratic check took 72-93 s on 100,000 columns; the
# linear one takes a fraction of a second beside the interpreter's start.
HANG_GUARD = 20

WIDE = [f"c{i}" for i in range(100_000)]  # 100,000 names of 2-6 characters: about 690 KB, under the line limit


def audit(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def refused(done: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2 and exactly the one `file:line: error: ...` line."""
    assert (done.returncode, done.stderr.strip()) == (2, message), done.stdout


# --- item 5: the duplicate-column check is linear ---------------------------------------------------------

def test_a_header_of_100000_columns_with_a_repeat_is_refused_at_once(tmp_path: Path) -> None:
    header = ",".join([HEADER, *WIDE, "c7"])
    assert len(header) < LINE_LIMIT
    refused(audit(tmp_path, "wide.csv", f"{header}\n{ROW}\n"), "wide.csv:1: error: the header repeats column c7")


def test_a_domain_file_of_100000_columns_with_a_repeat_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "ex.csv").write_text(",".join(["USUBJID", *WIDE, "C7"]) + "\nS1\n", encoding="utf-8")
    script = ("import sys; from pathlib import Path; from jk500_rules.inputs.sdtm.readers import open_csv\n"
              "from jk500_rules.errors import InputError\n"
              "try: open_csv(Path(sys.argv[1]), ('utf-8',))\n"
              "except InputError as error: print(error)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ex.csv")], capture_output=True, text=True,
                          timeout=HANG_GUARD, cwd=ROOT)
    assert done.stdout.strip() == f"{tmp_path / 'ex.csv'}:1: error: the header repeats column C7", done.stderr


def test_every_repeated_name_is_named_and_a_long_list_is_cut(tmp_path: Path) -> None:
    header = ",".join([HEADER, *WIDE[:30], *WIDE[:30]])
    refused(audit(tmp_path, "log.csv", f"{header}\n"),
            "log.csv:1: error: the header repeats column c0, c1, c10, c11, c12, c13, c14, c15, c16, c17, ... "
            "(30 in all)")


# --- item 16: a header past the line limit, an empty name, a repeated JSON key ---------------------------

def test_a_header_over_the_line_limit_says_so(tmp_path: Path) -> None:
    header = ",".join([HEADER, *(f"column{i:07d}" for i in range(80_000))])
    assert len(header) > LINE_LIMIT
    refused(audit(tmp_path, "log.csv", f"{header}\n{ROW}\n"),
            f"log.csv:1: error: the header line is longer than {LINE_LIMIT} characters")


def test_watch_refuses_a_header_over_the_line_limit_as_audit_does(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(",".join([HEADER, "x" * LINE_LIMIT]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        Sources([str(log)]).poll(strict=True)
    assert str(caught.value) == f"{log}:1: error: the header line is longer than {LINE_LIMIT} characters"


# Trailing commas are refused, not dropped: a cell under a column with no name has no field to go to, so
# it would be lost or every such row rejected. A monitor fixes the export once, told which columns.
@pytest.mark.parametrize(("header", "message"), [
    (HEADER + ",", "the header has an empty column name at column 8 (a trailing comma?)"),
    (HEADER + ",,", "the header has empty column names at columns 8, 9 (trailing commas?)"),
    (HEADER.replace(",condition,", ",,"), "the header has an empty column name at column 6"),
    (HEADER.replace(",condition,", ", ,"), "the header has an empty column name at column 6"),  # names are stripped
])
def test_an_empty_column_name_is_refused_with_its_position(tmp_path: Path, header: str, message: str) -> None:
    refused(audit(tmp_path, "log.csv", f"{header}\n{ROW},\n"), f"log.csv:1: error: {message}")


def test_watch_refuses_an_empty_column_name_as_audit_does(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(HEADER + ",\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        Sources([str(log)]).poll(strict=True)
    assert str(caught.value) == f"{log}:1: error: the header has an empty column name at column 8 (a trailing comma?)"


def test_a_json_lines_row_with_a_repeated_key_is_rejected(tmp_path: Path) -> None:
    good = {"study": "JK500", "subject": "S2", "date": "2019-05-01", "event": "medical_history",
            "condition": "asthma", "significant": "no"}
    repeated = json.dumps(good).replace('"S2"', '"S1"').replace('"significant": "no"',
                                                                '"significant": "yes", "significant": "no"')
    path = tmp_path / "log.jsonl"
    path.write_text(f"{repeated}\n{json.dumps(good)}\n", encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)], keep_records=True)
    assert [(r.line, r.reason) for r in result.data.rejections] == [
        (1, "key significant appears twice (a row gives each column once)")]
    assert [r.subject for r in result.data.records] == ["S2"]


def test_the_repeated_key_check_keeps_what_json_said_of_a_byte_order_mark(tmp_path: Path) -> None:
    # The hook needs a decoder built once, which does not look for a BOM as json.loads does: kept by hand.
    path = tmp_path / "log.jsonl"
    path.write_text('{"study": "JK500"}\n\ufeff{"study": "JK500"}\n', encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(path)])
    assert [(r.line, r.reason) for r in result.data.rejections] == [
        (1, "no date"), (2, "not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1)")]


def test_watch_rejects_a_json_lines_row_with_a_repeated_key(tmp_path: Path) -> None:
    log = tmp_path / "v.jsonl"
    log.write_text('{"subject": "S1", "subject": "S2", "event": "consent", "date": "2024-01-01"}\n', encoding="utf-8")
    rows, errors = Sources([str(log)]).poll(strict=True)
    assert not errors
    assert [(row.line, row.values) for row in rows] == [(1, "key subject appears twice (a row gives each column once)")]


# --- the same rules for SDTM domain files ---------------------------------------------------------------

def test_a_domain_csv_with_an_empty_or_repeated_column_is_refused(tmp_path: Path) -> None:
    from jk500_rules.inputs.sdtm.readers import open_csv

    (tmp_path / "ex.csv").write_text("USUBJID,EXTRT,EXSTDTC,,\nS1,X,2024-01-01,,\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_csv(tmp_path / "ex.csv", ("utf-8",))
    assert str(caught.value).endswith("ex.csv:1: error: the header has empty column names at columns 4, 5 "
                                      "(trailing commas?)")
    (tmp_path / "ex.csv").write_text("USUBJID,EXTRT,extrt\nS1,X,Y\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_csv(tmp_path / "ex.csv", ("utf-8",))
    assert str(caught.value).endswith("ex.csv:1: error: the header repeats column EXTRT")


def test_an_xpt_file_that_repeats_a_variable_is_refused(tmp_path: Path) -> None:
    import pandas as pd
    import pyreadstat

    path = tmp_path / "ex.xpt"
    frame = pd.DataFrame({"USUBJID": ["S1"], "EXTRT": ["A"], "EXTRX": ["B"], "EXSTDTC": ["2024-01-01"]})
    pyreadstat.write_xport(frame, str(path))  # readstat will not write a repeated name: it is made afterwards
    raw = path.read_bytes()
    assert raw.count(b"EXTRX") == 2  # the variable's name, and its label (the name, by default)
    path.write_bytes(raw.replace(b"EXTRX", b"EXTRT"))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[[event.infusion]]\ndomain = "EX"\ndate = "EXSTDTC"\nfields.dose = "EXTRT"\n',
                       encoding="utf-8")
    protocol = load_protocol(str(RULES))
    with pytest.raises(InputError) as caught:
        sdtm.read_study([str(tmp_path)], str(mapping), protocol)
    assert str(caught.value) == f"{path}: error: the file repeats column EXTRT"
