"""Properties over generated JK500 visit logs: input order, files, line ends and other subjects change no finding.

The logs are drawn from the rows of examples/jk500_visits.csv (a subset of its subjects, the trial-level
SRC decisions always), shuffled, split into one to four CSV or JSON Lines files with a few blank lines,
plus planted junk rows that must be rejected. Every example of every property audits at least once
through two forced worker processes (parallel judging), against an in-process audit where it compares.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from jk500_rules import cli, load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.executor import ProcessExecutor
from jk500_rules.engine.results import AuditResult
from jk500_rules.errors import InputError
from jk500_rules.live.incremental import IncrementalAudit
from jk500_rules.live.tails import Sources
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.monitoring import attach_provenance
from jk500_rules.reports.report_content import summary
from jk500_rules.reports.writers import write_reports

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
AS_OF = dt.date(2025, 1, 22)  # fixed, so that the cut-off is never what a property sees change
RUN_TIME = "2026-01-01T00:00:00Z"

with LOG.open(encoding="utf-8", newline="") as _handle:
    _reader = csv.DictReader(_handle)
    HEADER: list[str] = list(_reader.fieldnames or ())
    ROWS: list[dict[str, str]] = list(_reader)
SUBJECTS = sorted({row["subject"] for row in ROWS if row["subject"]})

# Rows every audit must reject, with the start of the reason it must give.
JUNK: dict[str, tuple[dict[str, str], str]] = {
    "unknown event": ({"date": "2024-03-01", "event": "infuzion", "dose": "1000000"},
                      "unknown event type 'infuzion'"),
    "impossible date": ({"date": "2024-02-30", "event": "vaccination", "vaccine": "BCG", "live_attenuated": "no"},
                        "'2024-02-30' is not a valid ISO 8601 date"),
    "no subject": ({"subject": "", "date": "2024-03-01", "event": "infusion", "dose": "1000000"},
                   "infusion needs a subject"),
    "not a number": ({"date": "2024-03-02", "event": "infusion", "dose": "lots"}, "dose 'lots' is not a number"),
    "subject on a trial event": ({"date": "2024-03-03", "event": "src_decision", "dose_group": "2",
                                  "decision": "escalate"}, "src_decision is a trial-level event but names subject"),
}

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=25)


@dataclass(frozen=True)
class Part:
    name: str  # file name, its suffix choosing CSV or JSON Lines
    rows: tuple[dict[str, str], ...]
    blanks: frozenset[int] = frozenset()  # a blank line goes before each of these rows (len(rows): at the end)


@dataclass(frozen=True)
class Written:
    paths: list[str]
    rows: dict[str, int]  # path -> data rows written to it (every one non-blank)
    junk: dict[tuple[str, int], str]  # (path, line) of each planted junk row -> the reason it must get


def junk_row(kind: str, subject: str) -> dict[str, str]:
    cells, _ = JUNK[kind]
    return {"study": "JK500", "site": "01", "subject": subject, **cells}


def write(folder: str, parts: list[Part]) -> Written:
    """Each part as its file: CSV with the example's header, or JSON Lines of each row's non-empty cells."""
    paths, counts, junk = [], {}, {}
    reasons = {json.dumps(junk_row(kind, s), sort_keys=True): reason for kind, (_, reason) in JUNK.items()
               for s in ["", *SUBJECTS]}
    for part in parts:
        path = str(Path(folder) / part.name)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv_log = part.name.endswith(".csv")
            writer = csv.DictWriter(handle, HEADER, restval="", lineterminator="\n")
            if csv_log:
                writer.writeheader()
            line = 2 if csv_log else 1
            for index, row in enumerate((*part.rows, None)):
                if index in part.blanks:
                    handle.write("\n")
                    line += 1
                if row is None:
                    break
                if csv_log:
                    writer.writerow(row)
                else:
                    handle.write(json.dumps({k: v for k, v in row.items() if v}) + "\n")
                reason = reasons.get(json.dumps(row, sort_keys=True))
                if reason is not None:
                    junk[path, line] = reason
                line += 1
        paths.append(path)
        counts[path] = len(part.rows)
    return Written(paths, counts, junk)


@dataclass(frozen=True)
class Log:
    rows: tuple[dict[str, str], ...]  # the chosen rows in the example's order, junk at the end
    parts: tuple[Part, ...]  # the same rows shuffled and split into files


@st.composite
def logs(draw: st.DrawFn, junk: bool = True) -> Log:
    subjects = draw(st.sets(st.sampled_from(SUBJECTS), min_size=1, max_size=len(SUBJECTS)))
    rows = [row for row in ROWS if not row["subject"] or row["subject"] in subjects]
    if junk:
        planted = draw(st.lists(st.tuples(st.sampled_from(sorted(JUNK)), st.sampled_from(SUBJECTS)), max_size=4))
        rows += [junk_row(kind, "" if kind == "no subject" else subject) for kind, subject in planted]
    shuffled = [rows[i] for i in draw(st.permutations(range(len(rows))))]
    files = draw(st.integers(1, 4))
    cuts = sorted(draw(st.lists(st.integers(0, len(rows)), min_size=files - 1, max_size=files - 1)))
    bounds = [0, *cuts, len(rows)]
    kinds = draw(st.lists(st.sampled_from(["csv", "jsonl"]), min_size=files, max_size=files))
    parts = []
    for n, kind in enumerate(kinds):
        chosen = tuple(shuffled[bounds[n]:bounds[n + 1]])
        blanks = draw(st.frozensets(st.integers(0, len(chosen)), max_size=2))
        parts.append(Part(f"part{n}.{kind}", chosen, blanks))
    return Log(tuple(rows), tuple(parts))


def findings(result: AuditResult) -> list[tuple]:
    """Everything about each finding but where its records were read (file:line)."""
    return [(f.id, f.rule.id, f.subject, f.date, f.status, f.message, f.reason, f.version,
             tuple(r.content_key() for r in f.evidence), tuple(r.content_key() for r in f.considered))
            for f in result.findings]


def standings(result: AuditResult) -> list[tuple]:
    return [(s.rule.id, s.subject, s.status, s.reason, s.version) for s in result.standings]


def counts(result: AuditResult) -> dict[str, Any]:
    """The summary, with rejections by reason instead of by location."""
    figures = summary(result)
    figures["rejections"] = sorted(Counter(r["reason"] for r in figures["rejections"]).items())
    return figures


@pytest.fixture(scope="module")
def protocol():
    return load_protocol(str(RULES))


@pytest.fixture(scope="module")
def workers():
    """Two worker processes, forced (audit_files keeps an input this small in-process), shared by the examples."""
    executor = ProcessExecutor(2)
    yield executor
    executor.close()


@PROPERTY
@given(log=logs(), order=st.randoms(use_true_random=False), rows_in_memory=st.sampled_from([None, 7]))
def test_row_order_and_files_change_no_finding(protocol, workers, log: Log, order, rows_in_memory) -> None:
    # rows_in_memory=7: the rows are regrouped by subject through an external sort of many run files.
    spill = {} if rows_in_memory is None else {"rows_in_memory": rows_in_memory}
    with tempfile.TemporaryDirectory() as folder:
        one = write(folder, [Part("one.csv", log.rows)])
        split = write(folder, list(log.parts))
        expected = audit_files(protocol, one.paths, as_of=AS_OF)
        reordered = list(split.paths)
        order.shuffle(reordered)
        for paths in (split.paths, reordered):
            result = audit_files(protocol, paths, as_of=AS_OF, executor=workers, **spill)
            assert findings(result) == findings(expected)
            assert standings(result) == standings(expected)
            assert counts(result) == counts(expected)


@PROPERTY
@given(log=logs(junk=False), donor=st.sampled_from(SUBJECTS), number=st.integers(100, 999),
       kind=st.sampled_from(["same file", "csv", "jsonl"]))
def test_an_added_subject_changes_no_other_subjects_findings(protocol, workers, log: Log, donor: str,
                                                             number: int, kind: str) -> None:
    # The newcomer is a copy of a donor's rows under a fresh id. Trial-level rules legitimately see
    # them (the order of first infusions within a dose group, a group's first infusion before the SRC's
    # decision), so only subject-level findings and standings of the other subjects must not move.
    newcomer = f"JK500-99-{number}"
    rows = tuple({**row, "subject": newcomer} for row in ROWS if row["subject"] == donor)
    with tempfile.TemporaryDirectory() as folder:
        before = audit_files(protocol, write(folder, list(log.parts)).paths, as_of=AS_OF)
        if kind == "same file":
            first = log.parts[0]
            parts = [Part(first.name, first.rows + rows, first.blanks), *log.parts[1:]]
        else:
            parts = [*log.parts, Part(f"newcomer.{kind}", rows)]
        after = audit_files(protocol, write(folder, parts).paths, as_of=AS_OF, executor=workers)

    def others(result: AuditResult) -> tuple[list[tuple], list[tuple]]:
        subject_level = {rule.id for rule in result.rules if rule.level == "subject"}
        return ([f for f in findings(result) if f[1] in subject_level and f[2] != newcomer],
                [s for s in standings(result) if s[0] in subject_level and s[1] not in (None, newcomer)])

    assert after.subjects == before.subjects + 1
    assert others(after) == others(before)
    # The newcomer is judged as the donor was, under every subject-level rule (nothing names the id).
    if any(row["subject"] == donor for row in log.rows):
        assert as_subject(after, newcomer) == as_subject(after, donor)


def as_subject(result: AuditResult, subject: str) -> list[tuple]:
    subject_level = {rule.id for rule in result.rules if rule.level == "subject"}
    return [(f.rule.id, f.date, f.status, f.message, f.reason) for f in result.findings
            if f.subject == subject and f.rule.id in subject_level]


@PROPERTY
@given(log=logs(), as_of=st.sampled_from([None, dt.date(2024, 6, 1), AS_OF]))
def test_every_row_is_accounted_for(protocol, workers, log: Log, as_of: dt.date | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        written = write(folder, list(log.parts))
        result = audit_files(protocol, written.paths, as_of=as_of, executor=workers)
        figures = summary(result)
        assert figures["records_read"] == sum(written.rows.values()) == (
            figures["records_audited"] + figures["records_not_used"] + figures["records_rejected"])
        # Exactly the planted rows are rejected, each once, at its own file:line, for its own reason.
        rejected = [(r.file, r.line) for r in result.data.rejections]
        assert len(rejected) == len(set(rejected))
        assert set(rejected) == set(written.junk)
        for r in result.data.rejections:
            assert r.reason.startswith(written.junk[r.file, r.line]), r
        assert [r["location"] for r in figures["rejections"]] == [f"{f}:{n}" for f, n in rejected]
        # Per file: the audit reports only totals, so each file is audited alone for its own count.
        for path in written.paths:
            alone = summary(audit_files(protocol, [path], as_of=as_of))
            assert alone["records_read"] == written.rows[path] == (
                alone["records_audited"] + alone["records_not_used"] + alone["records_rejected"])
            assert alone["records_rejected"] == sum(1 for file, _ in written.junk if file == path)


LOCATION = re.compile(r"(part\d+\.(csv|jsonl)|one\.csv):\d+")


def reports(folder: str, result: AuditResult, run_time: str) -> dict[str, bytes]:
    attach_provenance(result, str(RULES), run_time)
    out = Path(folder) / "out"
    written = write_reports(result, ("text", "json", "csv"), str(out))
    files = {path.name: path.read_bytes() for path in written}
    for path in written:
        path.unlink()
    return files


def without_input_order(report: bytes) -> Any:
    """A JSON report without what follows the order of the input files: evidence locations (a row may
    have a twin in another file), and the order of the inputs and of the rejections."""
    document = json.loads(report)
    for finding in document["findings"]:
        for record in finding["evidence"] + finding["considered"]:
            record.pop("location")
    document["provenance"]["inputs"].sort(key=lambda item: item["file"])
    document["summary"]["rejections"].sort(key=lambda item: item["location"])
    return document


@PROPERTY
@given(log=logs(), order=st.randoms(use_true_random=False))
def test_reports_are_byte_identical_apart_from_the_run_time(protocol, workers, log: Log, order) -> None:
    later = "2026-06-30T12:34:56Z"
    with tempfile.TemporaryDirectory() as folder:
        written = write(folder, list(log.parts))
        paths = written.paths
        serial = reports(folder, audit_files(protocol, paths, as_of=AS_OF, jobs=1), RUN_TIME)
        assert set(serial) == {"provenance.json", "report.txt", "report.json", "findings.csv"}
        out = Path(folder) / "cli"
        code = cli.main(["audit", "--rules", str(RULES), *paths, "--as-of", AS_OF.isoformat(), "--run-time", RUN_TIME,
                         "--jobs", "2", "--format", "text,json,csv", "-o", str(out)])
        assert code == (3 if written.junk else 1 if json.loads(serial["report.json"])["findings"] else 0)
        assert {path.name: path.read_bytes() for path in out.iterdir()} == serial
        assert reports(folder, audit_files(protocol, paths, as_of=AS_OF, jobs=1), RUN_TIME) == serial
        assert reports(folder, audit_files(protocol, paths, as_of=AS_OF, executor=workers), RUN_TIME) == serial
        moved = reports(folder, audit_files(protocol, paths, as_of=AS_OF, executor=workers), later)
        assert moved != serial
        assert {name: data.replace(later.encode(), RUN_TIME.encode()) for name, data in moved.items()} == serial
        # The same files given in another order: the same report, but for what follows the input order.
        reordered = list(paths)
        order.shuffle(reordered)
        other = reports(folder, audit_files(protocol, reordered, as_of=AS_OF, executor=workers), RUN_TIME)
        assert without_input_order(other["report.json"]) == without_input_order(serial["report.json"])
        assert LOCATION.sub("", other["findings.csv"].decode()) == LOCATION.sub("", serial["findings.csv"].decode())


# ----- a watched folder: logs rotated, renamed, linked, copied or rewritten; every kind of line end -----------

ENDS = ("\n", "\r\n", "\r")  # \n and \r\n end lines; a file without \n ends them with \r (inputs/lines.py)
# The example holds one row twice; two logs that began with the same row would be taken for copies.
DISTINCT_ROWS = list({tuple(row.items()): row for row in ROWS}.values())
WATCH_PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=60)
ACTIONS = st.one_of(
    st.tuples(st.just("none")),
    st.tuples(st.just("rotate"), st.sampled_from(ENDS), st.sampled_from(["csv", "jsonl"])),
    st.tuples(st.just("rename"), st.integers(0, 20)),  # an earlier log renamed again
    st.tuples(st.just("link"), st.sampled_from(["hard", "symbolic"])),
    st.tuples(st.just("copy")),
)
# A step: rows appended to the current log, an action on the folder, and whether the watch polls after it.
STEPS = st.tuples(st.integers(0, 60), ACTIONS, st.booleans())


@dataclass(frozen=True)
class History:
    subjects: tuple[str, ...]  # their rows appended in the example's order, to whichever log is current
    carriage: frozenset[int]  # the rows (by index) written with a bare \r in a text cell
    end: str  # the first log's line end
    kind: str  # and format
    steps: tuple[tuple, ...]
    rewrite: int | None  # from this step, once a row was read: one changed in place, the file grown by a line

    @property
    def rows(self) -> list[dict[str, str]]:
        rows = [row for row in DISTINCT_ROWS if not row["subject"] or row["subject"] in self.subjects]
        return [with_bare_cr(row) if i in self.carriage else row for i, row in enumerate(rows)]


def with_bare_cr(row: dict[str, str]) -> dict[str, str]:
    """The row with its text cell's first space a carriage return (part of the cell, in any log)."""
    for column in ("condition", "term", "reason", "disease"):
        if " " in row.get(column, ""):
            return {**row, column: row[column].replace(" ", "\r", 1)}
    return row


@st.composite
def histories(draw: st.DrawFn) -> History:
    subjects = tuple(sorted(draw(st.sets(st.sampled_from(SUBJECTS), min_size=1, max_size=3))))
    carriage = draw(st.frozensets(st.integers(0, 150), max_size=6))
    return History(subjects, carriage, draw(st.sampled_from(ENDS)), draw(st.sampled_from(["csv", "jsonl"])),
                   tuple(draw(st.lists(STEPS, min_size=2, max_size=10))),
                   draw(st.one_of(st.none(), st.integers(0, 6))))


def encoded(row: dict[str, str] | None, kind: str, end: str) -> str:
    """A row (None: the header) as written in a log: csv's writer quotes a \\r only when it ends lines."""
    if kind == "jsonl":
        return "" if row is None else json.dumps({k: v for k, v in row.items() if v}) + end
    text = io.StringIO()
    csv.writer(text, lineterminator=end).writerow(HEADER if row is None else [row.get(c, "") for c in HEADER])
    return text.getvalue()


class WatchedFolder:
    """A folder a site's tools change (`do`), and a watch (Sources and an IncrementalAudit) polling it."""

    def __init__(self, folder: str, protocol, end: str, kind: str):
        self.folder = Path(folder)
        self.names = 0
        self.archives: list[Path] = []
        self.polled: set[Path] = set()  # logs with a row read: a rewrite of those is refused
        self.errors: list[InputError] = []
        self.copies = self.renames = 0
        self.sources = Sources([folder])
        self.audit = IncrementalAudit(protocol, as_of=AS_OF)
        self._start(end, kind)

    def _start(self, end: str, kind: str) -> None:
        self.end, self.kind = end, kind
        self.current = self.folder / f"site.{kind}"
        self.current.write_text(encoded(None, kind, end), encoding="utf-8", newline="")
        self.appended = 0  # rows in the current log

    def name(self, stem: str, like: Path) -> Path:
        self.names += 1
        return self.folder / f"{stem}-{self.names:02d}{like.suffix}"

    def append(self, rows: tuple[dict[str, str], ...]) -> None:
        with self.current.open("a", encoding="utf-8", newline="") as handle:
            handle.write("".join(encoded(row, self.kind, self.end) for row in rows))
        self.appended += len(rows)

    def poll(self) -> list[InputError]:
        rows, errors = self.sources.poll()
        self.renames += len(self.sources.renamed)
        if self.sources.renamed:
            moved = self.audit.rename(dict(self.sources.renamed))
            assert not moved and not moved.rejections  # a finding's id does not depend on where it was read
        self.audit.add(rows)
        if self.appended:
            self.polled.add(self.current)
        self.errors += errors
        return errors

    def do(self, step: tuple) -> None:
        kind = step[0]
        if kind == "rotate":
            archive = self.name("site", self.current)  # site-01.csv sorts before site.csv, as it came first
            self.current.rename(archive)
            self.archives.append(archive)
            self.polled.discard(self.current)
            self._start(step[1], step[2])
        elif kind == "rename" and self.archives:
            old = self.archives.pop(step[1] % len(self.archives))
            self.archives.append(old.rename(self.name("old", old)))
        elif kind == "link":
            link = self.name("link" if step[1] == "hard" else "alias", self.current)
            os.link(self.current, link) if step[1] == "hard" else link.symlink_to(self.current.name)
        elif kind == "copy":
            shutil.copyfile(self.current, self.name("copy", self.current))
            self.copies += 1

    def rewrite(self) -> None:
        """The current log rewritten through its own inode: its first row's study changed, a blank line added."""
        data = self.current.read_bytes()
        at = data.index(b"JK500")
        with self.current.open("r+b") as handle:
            handle.write(data[:at] + b"JK50O" + data[at + 5:] + self.end.encode())


@WATCH_PROPERTY
@given(history=histories())
def test_a_watched_folder_gives_the_batch_audit_of_its_logs_as_they_end(protocol, history: History) -> None:
    """Rotations, renames, hard and symbolic links and copies between polls: the watch's audit is, byte for
    byte, the batch audit of the folder's logs as they end, each file read once (copies refused); a log
    rewritten in place is refused with a clear line."""
    with tempfile.TemporaryDirectory() as folder:
        watched = WatchedFolder(folder, protocol, history.end, history.kind)
        rows = history.rows
        total = len(rows)
        with watched.audit:
            for step, (appended, action, poll) in enumerate(history.steps):
                watched.append(tuple(rows[:appended]))
                del rows[:appended]
                watched.do(action)
                if poll:
                    watched.poll()
                if history.rewrite is not None and step >= history.rewrite and watched.current in watched.polled:
                    watched.rewrite()
                    errors = [e for e in watched.poll() if "a copy is not read" not in str(e)]  # copies, as ever
                    assert [str(error).split(": error: ")[1].split(";")[0] for error in errors] == [
                        "the file was rewritten in place and the part already read changed"]
                    assert os.path.samefile(errors[0].filename, watched.current)
                    event("a log rewritten in place: refused")
                    return
            watched.append(tuple(rows))
            watched.poll()
            watched.poll()  # a file is first seen once the name it had is followed again
            assert all("a copy is not read" in str(error) for error in watched.errors), watched.errors
            event(f"renames followed: {min(watched.renames, 2)}{'+' if watched.renames >= 2 else ''}")
            event(f"copies refused: {bool(watched.errors)}")
            result = watched.audit.result()
            tails = watched.sources.tails
            paths = result.data.files + sorted(set(tails) - set(result.data.files))
            logs = [p for p in Path(folder).iterdir() if p.suffix in (".csv", ".jsonl") and p.is_file()]
            refused = {error.filename for error in watched.errors}
            assert {identity(p) for p in paths} == {identity(p) for p in logs if str(p) not in refused}
            assert len(paths) == len({identity(p) for p in paths})  # each file read once, by one name
            if not watched.copies:  # no row lost, none read twice (a copy read before its rows were is a log)
                assert result.data.read == total
            batch = audit_files(protocol, paths, as_of=AS_OF)
            assert to_json(result) == to_json(batch)


def identity(path: str | Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


@WATCH_PROPERTY
@given(log=logs(), ends=st.lists(st.sampled_from(ENDS), min_size=4, max_size=4),
       carriage=st.frozensets(st.integers(0, 600), max_size=6))
def test_line_ends_change_nothing_audit_and_watch_read(protocol, log: Log, ends: list[str],
                                                       carriage: frozenset[int]) -> None:
    """Each file with \\n, \\r\\n or \\r alone, text cells holding a bare \\r: audit and watch read the same rows at
    the same lines (one report, byte for byte), with the findings of the same log written with \\n."""
    with tempfile.TemporaryDirectory() as folder:
        plain, varied = Path(folder) / "plain", Path(folder) / "varied"
        plain.mkdir(), varied.mkdir()
        for n, part in enumerate(log.parts):
            rows = [with_bare_cr(row) if i in carriage else row for i, row in enumerate(part.rows)]
            for where, end in ((plain, "\n"), (varied, ends[n])):
                kind = part.name.rsplit(".", 1)[1]
                text = encoded(None, kind, end) + "".join(encoded(row, kind, end) for row in rows)
                (where / part.name).write_text(text, encoding="utf-8", newline="")
        names = [part.name for part in log.parts]
        batch = audit_files(protocol, [str(varied / name) for name in names], as_of=AS_OF)
        rows, errors = Sources([str(varied / name) for name in names]).poll(strict=True)
        assert not errors
        with IncrementalAudit(protocol, as_of=AS_OF) as audit:
            audit.add(rows)
            assert to_json(audit.result()) == to_json(batch)
        expected = audit_files(protocol, [str(plain / name) for name in names], as_of=AS_OF)
        assert findings(batch) == findings(expected) and counts(batch)["records_read"] == counts(expected)[
            "records_read"]
        if "\r" not in ends[:len(names)]:  # a quoted \r is a line end in a file of \r lines: lines move there
            assert [f.location for f in batch.data.rejections] == [
                f.location.replace("/plain/", "/varied/") for f in expected.data.rejections]
            assert [r.location for f in batch.findings for r in f.evidence] == [
                r.location.replace("/plain/", "/varied/") for f in expected.findings for r in f.evidence]
