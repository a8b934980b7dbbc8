"""Where a line ends, one policy for `audit`, `watch` and the SDTM CSV reader (inputs/lines.py).

`\\n` and `\\r\\n` end a line; a file with no `\\n` at all ends its lines with `\\r`; otherwise a bare `\\r`
is part of its cell. Line numbers count those line ends, in every reader, so evidence agrees.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.errors import InputError
from jk500_rules.inputs.sdtm.readers import open_csv
from jk500_rules.inputs.sdtm.tables import Table
from jk500_rules.inputs.visit_logs import LogFile
from jk500_rules.live.incremental import IncrementalAudit
from jk500_rules.live.tails import LogTail, Sources
from jk500_rules.reports.json_report import to_json

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
AS_OF = dt.date(2025, 1, 22)
LINES = LOG.read_bytes().split(b"\n")  # the header, 496 rows, and the empty piece after the last line end
# Line 2 is a medical history whose condition, "Down syndrome", we write as a quoted cell holding a bare CR.
CELL_CR = LINES[1].replace(b"Down syndrome", b'"Down\rsyndrome"')


@pytest.fixture(scope="module")
def protocol() -> CompiledProtocol:
    return load_protocol(str(RULES))


def watched(protocol: CompiledProtocol, path: Path) -> str:
    """The JSON report of a watch that read `path` in one poll (IncrementalAudit.result: a batch audit's form)."""
    sources = Sources([str(path)])
    rows, errors = sources.poll(strict=True)
    assert not errors
    with IncrementalAudit(protocol, as_of=AS_OF) as audit:
        audit.add(rows)
        return to_json(audit.result())


def dose_evidence(report: str) -> list[str]:
    import json

    document = json.loads(report)
    return sorted(e["location"].rsplit(":", 1)[1] for f in document["findings"] for e in f["evidence"]
                  if f["rule"] == "JK500-TRT-DOSE")


def test_the_policy() -> None:
    from jk500_rules.inputs.lines import line_end, split_lines  # here: the other tests also run without it

    assert line_end(b"a\nb") == line_end(b"a\r\nb") == line_end(b"a\rb\nc") == "\n"
    assert line_end(b"a\rb") == line_end("a\rb") == "\r"
    assert line_end(b"abc") == "\n"  # one line without an end: either would do
    # A file still being written: no answer until it is certain.
    assert line_end(b"abc", complete=False) is None
    assert line_end(b"abc\r", complete=False) is None  # may be the first half of "\r\n"
    assert line_end(b"abc\rd", complete=False) == "\r"
    # Only these ends: not the others str.splitlines takes (vertical tab, form feed, NEL, U+2028 ...).
    text = "a\x0bb\x0cc\x1cd\x85e\u2028f\r\ng\rh\n"
    assert split_lines(text) == ["a\x0bb\x0cc\x1cd\x85e\u2028f\r\n", "g\rh\n"]
    assert split_lines("a\rb\rc") == ["a\r", "b\r", "c"]


def test_a_bare_cr_is_hidden_from_csv_and_put_back() -> None:
    from jk500_rules.inputs.lines import csv_cells, csv_line

    for text in ("a,b\n", "a,b\r\n", "a,b\r", "a,b"):  # nothing to hide: the same object, at no cost
        assert csv_line(text) is text
    assert csv_line("a,b\rc\r\n") == "a,b\x00c\r\n"
    assert csv_line('a,"b\rc\r\nd",e\n') == 'a,"b\x00c\x00\nd",e\n'  # a quoted cell over two lines
    assert csv_line('a,"b\rc",d\r') == 'a,"b\x00c",d\r'  # a file of \r lines: the last one ends the row
    assert csv_cells(["b\x00c", "d"]) == ["b\rc", "d"]


def test_a_file_is_scanned_for_its_line_end(tmp_path: Path) -> None:
    from jk500_rules.inputs.lines import file_line_end

    path = tmp_path / "v.csv"
    path.write_bytes(b"x\r" * 600_000 + b"\n")  # the \n past the first block of the scan
    assert file_line_end(path) == "\n"
    path.write_bytes(b"x\r" * 600_000)
    assert file_line_end(path) == "\r"


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_audit_and_watch_read_the_same_rows_at_the_same_lines(protocol: CompiledProtocol, tmp_path: Path,
                                                              end: bytes) -> None:
    # The example with each line end; in a file of \n or \r\n lines, one cell also holds a bare \r.
    lines = [LINES[0], CELL_CR if end != b"\r" else LINES[1], *LINES[2:-1]]
    path = tmp_path / "visits.csv"
    path.write_bytes(end.join(lines) + end)
    batch = audit_files(protocol, [str(path)], as_of=AS_OF)
    assert batch.data.read == 496 and not batch.data.rejections
    assert dose_evidence(to_json(batch)) == ["110", "364"]  # the lines of the example as it is
    if end != b"\r":
        log = LogFile(str(path))
        cells = next(parsed for line, _, parsed in log.entries() if line == 2)
        assert log.as_dict(cells)["condition"] == "Down\rsyndrome"  # type: ignore[arg-type]
    assert watched(protocol, path) == to_json(batch)


def test_a_bare_cr_in_a_cell_not_quoted_is_part_of_it_too(protocol: CompiledProtocol, tmp_path: Path) -> None:
    """As Python's csv writer leaves it with lineterminator="\\n"; csv's reader would end the row there."""
    import csv
    import io

    written = io.StringIO()
    csv.writer(written, lineterminator="\n").writerow(["a", "Down\rsyndrome", "b\r"])
    assert written.getvalue() == "a,Down\rsyndrome,b\r\n"  # not quoted
    path = tmp_path / "visits.csv"
    path.write_bytes(b"\n".join([LINES[0], LINES[1].replace(b"Down syndrome", b"Down\rsyndrome"), *LINES[2:]]))
    batch = audit_files(protocol, [str(path)], as_of=AS_OF)
    assert batch.data.read == 496 and not batch.data.rejections
    assert dose_evidence(to_json(batch)) == ["110", "364"]
    log = LogFile(str(path))
    cells = next(parsed for line, _, parsed in log.entries() if line == 2)
    assert log.as_dict(cells)["condition"] == "Down\rsyndrome"  # type: ignore[arg-type]
    assert log.as_dict(log.parse(LINES[1].decode().replace("Down syndrome", "Down\rsyndrome") + "\n"))[
        "condition"] == "Down\rsyndrome"  # type: ignore[arg-type]  # as a worker parses the row's text
    assert watched(protocol, path) == to_json(batch)


def test_json_lines_follow_the_same_policy(protocol: CompiledProtocol, tmp_path: Path) -> None:
    rows = ['{"study": "JK500", "site": "01", "subject": "S1", "date": "2019-05-01", "event": "medical_history", '
            f'"condition": "asthma{n}", "significant": "no"}}' for n in range(3)]
    for end in ("\n", "\r\n", "\r"):
        path = tmp_path / f"v{len(end)}{'r' if end == chr(13) else ''}.jsonl"
        path.write_text(end.join(rows) + end + "not json" + end, encoding="utf-8", newline="")
        batch = audit_files(protocol, [str(path)], as_of=AS_OF)
        assert [(r.line, r.reason[:14]) for r in batch.data.rejections] == [(4, "not valid JSON")]
        assert watched(protocol, path) == to_json(batch)


def test_a_cr_only_log_is_followed_as_it_grows(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    header, row = "study,site,subject,date,event,term", "JK500,01,S1,2024-01-02,adverse_event,rash"
    path.write_bytes(header.encode() + b"\r")
    tail = LogTail(str(path))
    assert tail.read() == [] and tail.log is None  # a \r last may be the first half of \r\n: it waits
    with path.open("ab") as handle:
        handle.write(f'{row}\r{row[:-4]}"fever\ron both arms"\r'.encode())
    assert [(r.line, r.values["term"]) for r in tail.read()] == [  # type: ignore[index]
        (2, "rash"), (3, "fever\ron both arms")]
    with path.open("ab") as handle:
        handle.write(f"{row}\n".encode())  # a \n: read whole, the file's lines end with \n instead
    with pytest.raises(InputError, match=r"a line feed \(\\n\) came after lines ended by carriage returns alone"):
        tail.read()


def test_sdtm_csv_rows_end_where_visit_log_rows_do(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text('STUDYID,USUBJID,AETERM\nX,S1,"rash\ron arms"\nX,S2,cough\u2028fever\nX,S3,fever\n',
                    encoding="utf-8", newline="")
    header, read = open_csv(path, ("utf-8",))
    table = Table(str(path), "AE", {"STUDYID", "USUBJID", "AETERM"})
    read(table, ["USUBJID", "AETERM"])
    assert header == ["STUDYID", "USUBJID", "AETERM"] and not table.malformed
    assert table.cells["AETERM"] == ["rash\ron arms", "cough\u2028fever", "fever"]
    assert list(table.lines) == [2, 3, 4]
