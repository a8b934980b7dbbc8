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
AS_OF = __import__("datetime").date(2025, 1, 22)


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
    assert (summary["records_read"], summary["findings"], summary["subjects"]) == (496, 48, 12)
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


# ----- files that change under the watch: rewritten, rotated, linked, copied --------------------------


def test_a_log_rewritten_in_place_is_refused(tmp_path: Path) -> None:
    """Same inode, a row already read changed and a row appended: refused, not only the new row read."""
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED + PLANTED, encoding="utf-8")
    tail = LogTail(str(log))
    assert [row.line for row in tail.read()] == [2, 3]
    inode = log.stat().st_ino
    with log.open("r+b") as handle:  # rewritten through the same inode, as an export tool might
        handle.write((HEADER + "\n" + PLANTED.replace("6500000", "5000000") + PLANTED + PLANTED).encode())
    assert log.stat().st_ino == inode
    with pytest.raises(InputError, match=r"v.csv: error: the file was rewritten in place and the part already "
                                         r"read changed; it is no longer watched: restart the watch to audit it "
                                         r"afresh \(lines 1 to 3 were audited\)"):
        tail.read()


def test_a_rewrite_that_keeps_the_size_is_seen_by_its_times(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    tail = LogTail(str(log))
    assert len(tail.read()) == 1
    before = log.stat()
    time.sleep(0.05)
    with log.open("r+b") as handle:
        handle.write((HEADER + "\n" + PLANTED.replace("6500000", "5000000")).encode())
    os.utime(log, ns=(before.st_atime_ns, before.st_mtime_ns))  # the modification time set back: ctime moved
    assert (log.stat().st_size, log.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with pytest.raises(InputError, match="rewritten in place and the part already read changed"):
        tail.read()


def test_a_poll_of_an_unchanged_log_reads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheap path: one stat per file and poll; the part already read is hashed again only on a change."""
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    tail = LogTail(str(log))
    assert len(tail.read()) == 1
    opened: list[str] = []
    real_open = open

    def counting(path: object, *args: object, **kwargs: object) -> object:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting)
    assert tail.read() == [] and tail.read() == [] and opened == []
    append(log, PLANTED)
    assert [row.line for row in tail.read()] == [3] and opened == [str(log)]


def test_a_rotated_log_is_followed_under_its_new_name_and_the_new_one_read_in_full(tmp_path: Path) -> None:
    site = tmp_path / "site01.csv"
    site.write_text(HEADER + "\n" + PLANTED + PLANTED, encoding="utf-8")
    sources = Sources([str(tmp_path)])
    rows, errors = sources.poll(strict=True)
    assert [(row.file, row.line) for row in rows] == [(str(site), 2), (str(site), 3)] and not errors
    rotated = tmp_path / "site01-2025-01.csv"
    site.rename(rotated)  # mv site01.csv site01-2025-01.csv
    append(rotated, PLANTED)  # the writer still had it open
    site.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")  # and a new site01.csv
    rows, errors = sources.poll()
    assert not errors
    assert [(row.file, row.line) for row in rows] == [(str(rotated), 4), (str(site), 2)]
    assert sources.renamed == [(str(site), str(rotated))]
    assert sorted(sources.tails) == [str(rotated), str(site)]
    assert sources.poll() == ([], []) and sources.renamed == []


def test_a_rotation_gives_the_batch_audit_of_the_files_as_they_are_now(tmp_path: Path) -> None:
    """The example log rotated in a watched folder: 496 rows, not 992; evidence names the rotated file."""
    from jk500_rules import load_protocol
    from jk500_rules.engine.audit import audit_files
    from jk500_rules.live.incremental import IncrementalAudit
    from jk500_rules.reports.json_report import to_json

    protocol = load_protocol(str(RULES))
    site, rotated = tmp_path / "site01.csv", tmp_path / "site01-2025-01.csv"
    shutil.copy(LOG, site)
    sources = Sources([str(tmp_path)])
    with IncrementalAudit(protocol, as_of=AS_OF) as audit:
        rows, _ = sources.poll(strict=True)
        audit.add(rows)
        site.rename(rotated)
        site.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
        rows, errors = sources.poll()
        assert not errors and sources.renamed == [(str(site), str(rotated))]
        moved = audit.rename(dict(sources.renamed))
        assert not moved  # the same findings: only where their rows are read changed
        changes = audit.add(rows)
        assert len(changes.new) == 4 and not changes.resolved and not changes.changed  # as in a new file
        dose = next(f for f in changes.new if f.rule.id == "JK500-TRT-DOSE")
        assert [r.location for r in dose.evidence] == [f"{site}:2"]
        result = audit.result()
        assert result.data.read == 497
        assert to_json(result) == to_json(audit_files(protocol, [str(rotated), str(site)], as_of=AS_OF))
        locations = {r.location for f in result.findings for r in f.evidence}
        assert f"{rotated}:110" in locations and f"{site}:110" not in locations


def test_another_name_for_a_followed_log_is_not_read_again(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    sources = Sources([str(tmp_path)])
    assert len(sources.poll(strict=True)[0]) == 1
    os.link(log, tmp_path / "hard.csv")
    (tmp_path / "alias.csv").symlink_to(log)
    append(log, PLANTED)
    rows, errors = sources.poll()
    assert [(row.file, row.line) for row in rows] == [(str(log), 3)] and not errors
    assert list(sources.tails) == [str(log)]


def test_a_copy_of_rows_already_read_is_refused_and_an_editors_save_followed_on(tmp_path: Path) -> None:
    log = tmp_path / "v.csv"
    log.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    sources = Sources([str(tmp_path)])
    assert len(sources.poll(strict=True)[0]) == 1
    # An editor's save that keeps the old file as a backup (by renaming it) and writes the new one.
    backup = tmp_path / "v-backup.csv"
    log.rename(backup)
    log.write_text(HEADER + "\n" + PLANTED + PLANTED, encoding="utf-8")
    rows, errors = sources.poll()
    assert [(row.file, row.line) for row in rows] == [(str(log), 3)] and sources.renamed == []
    assert errors == []
    rows, errors = sources.poll()  # the backup, a log name in the folder, is the rows already read
    assert rows == [] and [str(error) for error in errors] == [
        f"{backup}: error: it is the earlier version of {log}, kept when that was saved; its rows were read there; "
        "it is not watched"]
    shutil.copy(log, tmp_path / "copy.csv")
    rows, errors = sources.poll()
    assert rows == [] and [str(error) for error in errors] == [
        f"{tmp_path / 'copy.csv'}: error: it begins with the 3 line(s) already read from {log}: a copy is not read, "
        "its rows would be audited twice (rotate a log by renaming it, not by copying and truncating it); it is "
        "not watched"]
    assert sources.poll() == ([], [])  # said once
    other = tmp_path / "other.csv"  # another log with the same header: read, as any new log is
    other.write_text(HEADER + "\n" + PLANTED.replace("JK500-01-005", "JK500-01-006"), encoding="utf-8")
    assert [(row.file, row.line) for row in sources.poll()[0]] == [(str(other), 2)]


def test_watch_prints_a_rotation_and_no_finding_twice(tmp_path: Path) -> None:
    site, rotated = tmp_path / "site01.csv", tmp_path / "site01-2025-01.csv"
    shutil.copy(LOG, site)
    watch = Watch(str(tmp_path))
    assert watch.next().startswith("WATCHING 1 file(s) and 1 folder(s): 496 row(s) read")
    site.rename(rotated)
    hidden = tmp_path / ".site01.csv.part"
    hidden.write_text(HEADER + "\n" + PLANTED, encoding="utf-8")
    hidden.rename(site)
    assert watch.next() == f"RENAMED {site} -> {rotated}: followed under its new name, where its rows are now\n"
    new = watch.until(lambda line: line.startswith("NEW ") and " JK500-TRT-DOSE " in line)
    assert " JK500-TRT-DOSE JK500-01-005 2024-04-16 deviation: " in new
    code, stderr = watch.stop()
    closing = watch.until(lambda line: line.startswith("STOPPED "))
    assert code == 0 and stderr == "", stderr
    assert "497 row(s) read (0 rejected)" in closing and "1 row(s): 4 new, 0 resolved, 0 changed" in closing


def test_watch_rejects_the_rows_audit_rejects_for_their_text(tmp_path: Path) -> None:
    """A NUL character, a line past the batch reader's limit: the same rejections at the same lines."""
    from jk500_rules import load_protocol
    from jk500_rules.engine.audit import audit_files
    from jk500_rules.inputs.log_formats import LINE_LIMIT
    from jk500_rules.live.incremental import IncrementalAudit
    from jk500_rules.reports.json_report import to_json

    protocol = load_protocol(str(RULES))
    long = "x" * LINE_LIMIT + "x"  # with its line end, two characters past the limit
    (tmp_path / "a.csv").write_text(
        HEADER + "\n" + PLANTED.replace("10:00", "10:\x0000") + csv_row(term=long) + PLANTED
        + PLANTED.replace("10:00", '"10:00\n' + long + '\n"') + PLANTED, encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"subject": "S\\u0000"}\n{"subject": "S\x00"}\n' + long + "\n{}\n",
                                      encoding="utf-8")
    paths = [str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl")]
    batch = audit_files(protocol, paths, as_of=AS_OF)
    assert [(r.location.rsplit("/", 1)[1], r.reason) for r in batch.data.rejections] == [
        ("a.csv:2", "has a NUL character (byte 0): not text"),
        ("a.csv:3", f"line 3 is longer than {LINE_LIMIT} characters"),
        ("a.csv:5", f"line 6 is longer than {LINE_LIMIT} characters"),  # a quoted cell over lines 5 to 7
        ("b.jsonl:1", "subject has a NUL character (byte 0)"),  # a value's own check
        ("b.jsonl:2", "has a NUL character (byte 0): not text"),
        ("b.jsonl:3", f"a line longer than {LINE_LIMIT} characters"),
        ("b.jsonl:4", "no date")]
    rows, errors = Sources(paths).poll(strict=True)
    assert not errors
    with IncrementalAudit(protocol, as_of=AS_OF) as audit:
        audit.add(rows)
        assert to_json(audit.result()) == to_json(batch)
