"""`jk500-rules watch`: growing logs followed by whole lines, findings reported as rows arrive."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jk500_rules.errors import InputError
from jk500_rules.live.tails import LogTail, Sources

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
HEADER = LOG.read_text(encoding="utf-8").splitlines()[0]
COLUMNS = HEADER.split(",")
WAIT = 30.0  # seconds: generous, the machine is shared


def csv_row(**values: str) -> str:
    return ",".join(values.get(column, "") for column in COLUMNS) + "\n"


# A seventh JK500-01-005 infusion, the fourth in its first week, its dose 30 % off the group's 5e6 cells/kg.
PLANTED = csv_row(study="JK500", site="01", subject="JK500-01-005", date="2024-04-16", event="infusion",
                  dose="6500000", time="10:00")


class Watch:
    """`jk500-rules watch` in a child process, its output lines read by a thread."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, "-m", "jk500_rules", "watch", "--rules", str(RULES),
                                         "--as-of", "2025-01-22", "--interval", "0.01", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next(self, timeout: float = WAIT) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"no output; stderr: {self.process.stderr.read() if self.process.stderr else ''}")

    def until(self, predicate, timeout: float = WAIT) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            line = self.next(max(0.1, deadline - time.monotonic()))
            if predicate(line):
                return line

    def stop(self, signal_number: int = signal.SIGINT) -> tuple[int, str]:
        self.process.send_signal(signal_number)
        code = self.process.wait(timeout=WAIT)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


def test_a_planted_deviation_is_reported_and_ctrl_c_ends_with_a_summary(tmp_path: Path) -> None:
    log = tmp_path / "visits.csv"
    shutil.copy(LOG, log)
    watch = Watch("--format", "jsonl", str(log))
    summary = json.loads(watch.next())
    assert summary["event"] == "summary" and summary["phase"] == "initial"
    assert (summary["records_read"], summary["findings"], summary["subjects"]) == (496, 44, 12)
    with log.open("a", encoding="utf-8", newline="") as handle:
        handle.write(PLANTED[:40])  # a partial line: not read until its newline comes
        handle.flush()
        time.sleep(0.5)
        assert watch.lines.empty()
        handle.write(PLANTED[40:])
    new = json.loads(watch.until(lambda line: json.loads(line).get("rule") == "JK500-TRT-DOSE"))
    assert (new["rule"], new["subject"], new["date"], new["status"]) == (
        "JK500-TRT-DOSE", "JK500-01-005", "2024-04-16", "deviation")
    assert new["evidence"] == [f"{log}:498"] and new["id"].startswith("F-")
    assert isinstance(new["latency_ms"], float) and new["time"].endswith("Z")
    code, stderr = watch.stop()
    assert code == 0 and "Traceback" not in stderr, stderr
    final = json.loads(watch.until(lambda line: json.loads(line)["event"] == "summary"))
    assert final["phase"] == "final" and final["records_read"] == 497 and final["while_watching"]["rows"] == 1


def test_a_new_file_in_a_watched_folder_is_picked_up(tmp_path: Path) -> None:
    shutil.copy(LOG, tmp_path / "visits.csv")
    watch = Watch(str(tmp_path))
    assert watch.next().startswith("WATCHING 1 file(s) and 1 folder(s): 496 row(s) read (0 rejected)")
    hidden = tmp_path / ".more.csv.part"  # written under a name the watch ignores, then renamed
    hidden.write_text(HEADER + "\n" + PLANTED + PLANTED.replace("infusion", "infuzion"), encoding="utf-8")
    hidden.rename(tmp_path / "more.csv")
    new = watch.until(lambda line: line.startswith("NEW ") and " JK500-TRT-DOSE " in line)
    assert " JK500-TRT-DOSE JK500-01-005 2024-04-16 deviation: Dose 6500000 cells/kg" in new
    rejected = watch.until(lambda line: line.startswith("REJECTED "))
    assert rejected == f"REJECTED {tmp_path / 'more.csv'}:3: unknown event type 'infuzion' (did you mean 'infusion'?)\n"
    code, stderr = watch.stop(signal.SIGTERM)
    closing = watch.until(lambda line: line.startswith("STOPPED "))
    assert code == 0 and "4 new, 0 resolved, 0 changed, 1 rejected" in closing, stderr


def test_invalid_rules_and_missing_logs_exit_2_with_a_diagnostic(tmp_path: Path) -> None:
    rules = tmp_path / "bad.rules"
    rules.write_text('protocol "X"\nrule R "t" {\n  for each nothing\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "watch", "--rules", str(rules), str(LOG)],
                          capture_output=True, text=True, timeout=WAIT, check=False)
    assert done.returncode == 2 and f"{rules}:" in done.stderr and "error" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "watch", "--rules", str(RULES),
                           str(tmp_path / "none.csv")], capture_output=True, text=True, timeout=WAIT, check=False)
    assert done.returncode == 2 and done.stderr == f"{tmp_path / 'none.csv'}: error: no such file or folder\n"


# ----- following one file ------------------------------------------------------------------------


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def test_only_whole_lines_are_read_and_the_header_once(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text("\ufeff" + HEADER[:10], encoding="utf-8")
    tail = LogTail(str(log))
    assert tail.read() == []  # the header is still partial
    append(log, HEADER[10:] + "\n" + PLANTED[:30])
    assert tail.read() == [] and tail.log is not None and tail.log.header == tuple(COLUMNS)
    append(log, PLANTED[30:] + "\n" + PLANTED)  # a blank line between: skipped, but counted
    rows = tail.read()
    assert [row.line for row in rows] == [2, 4]
    assert rows[0].values == {"study": "JK500", "site": "01", "subject": "JK500-01-005", "date": "2024-04-16",
                              "event": "infusion", "dose": "6500000", "time": "10:00"}


def test_a_quoted_csv_cell_across_lines_waits_for_its_closing_quote(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text("study,site,subject,date,event,term\n", encoding="utf-8")
    tail = LogTail(str(log))
    assert tail.read() == []
    append(log, 'JK500,01,S1,2024-01-02,adverse_event,"rash\n')
    assert tail.read() == []
    append(log, 'on both arms"\nJK500,01,S1,2024-01-03,adverse_event,fever\n')
    rows = tail.read()
    assert [(row.line, row.values["term"]) for row in rows] == [  # type: ignore[index]
        (2, "rash\non both arms"), (4, "fever")]


def test_json_lines_and_unparsable_rows(tmp_path: Path) -> None:
    log = tmp_path / "v.jsonl"
    log.write_text('{"subject": "S1", "event": "consent"}\n\nnot json\n[1]\n', encoding="utf-8")
    rows = LogTail(str(log)).read()
    assert [(row.line, row.values) for row in rows] == [
        (1, {"subject": "S1", "event": "consent"}),
        (3, "not valid JSON (Expecting value at column 1)"),
        (4, "a JSON Lines row must be an object")]


def test_a_file_that_shrinks_or_changes_is_refused_one_saved_again_is_followed(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    tail = LogTail(str(log))
    assert len(tail.read()) == 1
    saved = tmp_path / "saved.csv"  # an editor's save: a new file, the same beginning, one more row
    saved.write_text(HEADER + "\n" + PLANTED + PLANTED, encoding="utf-8")
    os.replace(saved, log)
    assert [row.line for row in tail.read()] == [3]
    changed = tmp_path / "changed.csv"
    changed.write_text(HEADER + "\n" + PLANTED.replace("6500000", "5000000") + PLANTED + PLANTED, encoding="utf-8")
    os.replace(changed, log)
    with pytest.raises(InputError, match="the part already read changed; it is no longer watched"):
        tail.read()
    shrunk = tmp_path / "s.csv"
    shrunk.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    tail = LogTail(str(shrunk))
    assert len(tail.read()) == 1
    shrunk.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s.csv: error: the file shrank from \d+ to \d+ bytes"):
        tail.read()


def test_a_refused_file_is_dropped_and_the_others_followed(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        path.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    sources = Sources([str(first), str(second)])
    rows, errors = sources.poll(strict=True)
    assert len(rows) == 2 and not errors
    first.write_text(HEADER + "\n", encoding="utf-8")
    append(second, PLANTED)
    rows, errors = sources.poll()
    assert [(row.file, row.line) for row in rows] == [(str(second), 3)]
    assert [str(error) for error in errors] == [
        (f"{first}: error: the file shrank from {len((HEADER + chr(10) + PLANTED).encode())} to "
         f"{len(HEADER) + 1} bytes (truncated or replaced); it is no longer watched: restart the watch to audit it "
         "afresh")]
    assert list(sources.tails) == [str(second)]


def test_a_bad_header_is_refused_like_audit_refuses_it(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text("study,site,subject,event\n", encoding="utf-8")
    with pytest.raises(InputError, match="v.csv:1: error: the header lacks column date"):
        Sources([str(log)]).poll(strict=True)


def test_a_folder_file_that_is_no_log_is_dropped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "expected.csv").write_text("rule,subject,date,status\n", encoding="utf-8")
    (tmp_path / "visits.csv").write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    (tmp_path / ".draft.csv").write_text("not a log\n", encoding="utf-8")
    sources = Sources([str(tmp_path)])
    rows, errors = sources.poll(strict=True)
    assert [(row.file, row.line) for row in rows] == [(str(tmp_path / "visits.csv"), 2)]
    assert [str(error) for error in errors] == [
        f"{tmp_path / 'expected.csv'}:1: error: the header lacks columns study, site, event"]
    assert list(sources.tails) == [str(tmp_path / "visits.csv")]
