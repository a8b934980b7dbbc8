"""Visit logs that grow -> one line per finding that appears, is resolved or changes, as rows arrive.

`jk500-rules watch` reads each log's existing rows, audits them once (a summary line), then polls:
each file is followed from a byte offset, and only whole lines are read, so a row still being written
waits for its newline (and a CSV row whose quoted cell spans lines, for its closing quote). A CSV header
is read once. New `.csv`, `.jsonl` and `.ndjson` files in a watched folder are picked up and read in
full. A file that shrinks, or is replaced by one whose beginning differs from what was read, is
refused: an error line names it and it is no longer watched, since records already audited cannot be
taken back (restart the watch to audit the new contents afresh). A file replaced by one with the same
beginning (an editor's save) is followed on.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ..engine.results import Finding
from ..compiler.model import CompiledProtocol
from ..errors import InputError
from .incremental import Changes, IncrementalAudit, Row
from ..inputs.records import BASE_COLUMNS, LogFile, Rejection

LOG_SUFFIXES = (".csv", ".jsonl", ".ndjson")  # what a watched folder's new files must end with
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")  # read as JSON Lines, as records.LogFile reads them


class LogTail:
    """One growing visit log, read by whole lines from a byte offset."""

    def __init__(self, path: str):
        self.path = path
        self.json = Path(path).suffix.lower() in JSON_SUFFIXES
        # CSV: made once the header row is whole; it parses rows against the header.
        self.log: LogFile | None = LogFile.known(path, (), True) if self.json else None
        self.offset = 0  # bytes consumed: whole lines only
        self.lines = 0  # lines consumed
        self._pending: list[str] = []  # lines of a CSV row whose quoted cell is still open
        self._pending_line = 0
        self._digest = hashlib.sha256()  # of the bytes consumed, to recognise the same file replaced
        self._identity: tuple[int, int] | None = None

    def read(self) -> list[Row]:
        """The rows completed since the last read (InputError when the file can no longer be followed)."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            raise InputError(self.path, "the file was removed; it is no longer watched") from None
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None
        identity = (status.st_dev, status.st_ino)
        if self._identity is not None and (identity != self._identity or status.st_size < self.offset):
            self._check_same_beginning(status.st_size)
        self._identity = identity
        if status.st_size <= self.offset:
            return []
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # a partial line waits for its newline
        chunk = chunk[:end + 1]
        first = self.offset == 0
        self.offset += len(chunk)
        self._digest.update(chunk)
        if first and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8):]
        rows: list[Row] = []
        for raw in chunk.split(b"\n")[:-1]:
            self.lines += 1
            try:
                text = raw.decode("utf-8") + "\n"
            except UnicodeDecodeError as exc:
                rows.append(Row(self.path, self.lines, f"not UTF-8 text (byte {exc.start} of the line)"))
                continue
            row = self._json_row(text) if self.json else self._csv_row(text)
            if row is not None:
                rows.append(row)
        return rows

    def _json_row(self, text: str) -> Row | None:
        if not text.strip():
            return None
        assert self.log is not None
        parsed = self.log.parse(text)
        return Row(self.path, self.lines, parsed if isinstance(parsed, str) else self.log.as_dict(parsed))

    def _csv_row(self, text: str) -> Row | None:
        if not self._pending:
            self._pending_line = self.lines
        self._pending.append(text)
        # A sentinel line after the row: if a quoted cell is still open, the reader swallows it too.
        reader = csv.reader(iter([*self._pending, "x\n"]))
        problem: str | None = None
        try:
            cells = next(reader)
        except csv.Error as exc:
            cells, problem = [], f"not valid CSV ({exc})"
        else:
            if reader.line_num > len(self._pending):
                return None  # the row goes on in lines still to come
        row_text, line = "".join(self._pending), self._pending_line
        self._pending = []
        if self.log is None:
            self.log = LogFile.known(self.path, _header(self.path, cells, problem), False)
            return None
        if problem is not None:
            return Row(self.path, line, problem)
        if not any(cell.strip() for cell in cells):
            return None  # a blank row, skipped as a batch audit skips it
        parsed = self.log.parse(row_text)
        return Row(self.path, line, parsed if isinstance(parsed, str) else self.log.as_dict(parsed))

    def _check_same_beginning(self, size: int) -> None:
        if size < self.offset:
            raise InputError(self.path, f"the file shrank from {self.offset} to {size} bytes (truncated or "
                                        "replaced); it is no longer watched: restart the watch to audit it afresh")
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as handle:
                remaining = self.offset
                while remaining:
                    block = handle.read(min(remaining, 1 << 20))
                    if not block:
                        break
                    digest.update(block)
                    remaining -= len(block)
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None
        if digest.digest() != self._digest.digest():
            raise InputError(self.path, "the file was replaced and the part already read changed; it is no "
                                        "longer watched: restart the watch to audit it afresh")


def _header(path: str, cells: list[str], problem: str | None) -> tuple[str, ...]:
    """A CSV header, refused as records.LogFile refuses it."""
    if problem is not None:
        raise InputError(path, f"the header row is {problem}", 1)
    header = tuple(cell.strip() for cell in cells)
    missing = [c for c in BASE_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"the header lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", 1)
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise InputError(path, f"the header repeats column {', '.join(duplicates)}", 1)
    return header


class Sources:
    """The logs named on the command line, and the logs that appear in the folders named."""

    def __init__(self, paths: list[str]):
        self.tails: dict[str, LogTail] = {}
        self.folders: list[Path] = []
        self.named: set[str] = set()  # the files named, as opposed to found in a folder
        self._seen: set[Path] = set()
        for path in paths:
            p = Path(path)
            if p.is_dir():
                self.folders.append(p)
            elif p.is_file():
                self._follow(path)
                self.named.add(path)
            else:
                raise InputError(path, "no such file or folder")

    def _follow(self, path: str) -> None:
        resolved = Path(path).resolve()
        if resolved not in self._seen:
            self._seen.add(resolved)
            self.tails[path] = LogTail(path)

    def _discover(self) -> None:
        for folder in self.folders:
            try:
                names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
            except OSError:
                continue  # a folder that went away has nothing new
            for name in names:
                if name.lower().endswith(LOG_SUFFIXES) and not name.startswith((".", "~")):
                    self._follow(str(folder / name))

    def poll(self, strict: bool = False) -> tuple[list[Row], list[InputError]]:
        """Rows completed in every log since the last poll; a log that cannot be followed is dropped.

        `strict` (the first poll) raises instead for a file named: a watch does not start on a log it
        cannot read. A folder's file that is no log (a CSV without the base columns) is only dropped.
        """
        self._discover()
        rows: list[Row] = []
        errors: list[InputError] = []
        for path, tail in list(self.tails.items()):
            try:
                rows += tail.read()
            except InputError as error:
                if strict and path in self.named:
                    raise
                errors.append(error)
                del self.tails[path]
        return rows, errors


class _Stop:
    """Ctrl-C (SIGINT) or SIGTERM ask the watch to stop after the current poll, not in the middle of one."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        try:
            for number in (signal.SIGINT, signal.SIGTERM):
                self._previous[number] = signal.signal(number, self._handle)
        except ValueError:  # not the main thread: the caller stops the watch its own way
            pass
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.requested = True


class Printer:
    """Events as text lines (a monitor's terminal) or JSON Lines (a program), flushed as they happen."""

    def __init__(self, fmt: str, out: TextIO, err: TextIO):
        self.fmt = fmt
        self.out = out
        self.err = err

    def changes(self, changes: Changes, read_at: float | None) -> None:
        if changes.cutoff is not None:
            self._emit({"event": "cutoff", "data_cutoff": changes.cutoff.isoformat(),
                        "subjects_judged": len(changes.subjects)},
                       f"CUTOFF {changes.cutoff.isoformat()}: a new day; every subject judged again", None)
        for kind, findings in (("new", changes.new), ("changed", changes.changed), ("resolved", changes.resolved)):
            for finding in findings:
                self._emit({"event": kind, **_finding(finding)}, f"{kind.upper()} {_finding_text(finding)}", read_at)
        for rejection in changes.rejections:
            self.rejection(rejection, read_at)
        self.out.flush()

    def rejection(self, rejection: Rejection, read_at: float | None) -> None:
        self._emit({"event": "rejected", "location": rejection.location, "reason": rejection.reason},
                   f"REJECTED {rejection.location}: {rejection.reason}", read_at)

    def error(self, error: InputError) -> None:
        if self.fmt == "jsonl":
            self._emit({"event": "error", "file": error.filename, "message": str(error)}, "", None)
        else:
            print(str(error), file=self.err, flush=True)
        self.out.flush()

    def summary(self, phase: str, figures: dict[str, Any], text: str) -> None:
        self._emit({"event": "summary", "phase": phase, **figures}, text, None)
        self.out.flush()

    def _emit(self, event: dict[str, Any], text: str, read_at: float | None) -> None:
        if self.fmt == "jsonl":
            stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            latency = round((time.perf_counter() - read_at) * 1000, 3) if read_at is not None else None
            self.out.write(json.dumps({"event": event.pop("event"), "time": stamp, "latency_ms": latency, **event},
                                      ensure_ascii=False) + "\n")
        else:
            self.out.write(text + "\n")


def seconds(text: str) -> float:
    """A positive number of seconds (an argparse type)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of seconds")
    return value


def _finding(finding: Finding) -> dict[str, Any]:
    return {"id": finding.id, "rule": finding.rule.id, "subject": finding.subject, "date": finding.date,
            "status": finding.status, "severity": finding.rule.severity, "important": finding.rule.important,
            "message": finding.message, "reason": finding.reason, "protocol_version": finding.version,
            "evidence": [record.location for record in finding.evidence]}


def _finding_text(finding: Finding) -> str:
    return (f"{finding.id} {finding.rule.id} {finding.subject or '(trial)'} {finding.date} "
            f"{finding.status}: {finding.message}")


def watch(protocol: CompiledProtocol, paths: list[str], as_of: dt.date | None = None, time_zone: str | None = None,
          version: str | None = None, interval: float = 1.0, fmt: str = "text", exit_after: float | None = None,
          out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Audit the logs, then report what each new row changes until stopped; 0 when stopped.

    InputError (a path that is no log, a bad CSV header at the start, an unknown version) ends it at once.
    """
    out = out or sys.stdout
    printer = Printer(fmt, out, err or sys.stderr)
    sources = Sources(paths)
    started = time.monotonic()
    totals: Counter = Counter()
    with IncrementalAudit(protocol, as_of, time_zone, version) as audit, _Stop() as stop:
        read_at = time.perf_counter()
        rows, errors = sources.poll(strict=True)
        for error in errors:
            printer.error(error)
        initial = audit.add(rows)
        for rejection in initial.rejections:
            printer.rejection(rejection, read_at)
        cutoff_note = "fixed by --as-of" if as_of else f"today at the site ({time_zone or 'UTC'}), moving daily"
        figures = _figures(audit, sources)
        printer.summary("initial", {**figures, "interval_s": interval},
                        f"WATCHING {len(sources.tails)} file(s) and {len(sources.folders)} folder(s): "
                        f"{_summary_text(figures)}; data cut-off {audit.cutoff.isoformat()} ({cutoff_note}); "
                        f"polling every {interval:g} s, Ctrl-C to stop")
        for _ in _ticks(interval, exit_after, stop):
            read_at = time.perf_counter()
            rows, errors = sources.poll()
            for error in errors:
                printer.error(error)
            changes = audit.add(rows) if rows else audit.advance()
            if changes or changes.cutoff is not None:
                printer.changes(changes, read_at if rows else None)
            totals.update(new=len(changes.new), resolved=len(changes.resolved), changed=len(changes.changed),
                          rejected=len(changes.rejections), rows=len(rows))
        figures = {**_figures(audit, sources), "while_watching": {k: totals[k] for k in
                                                                  ("rows", "new", "resolved", "changed", "rejected")},
                   "seconds": round(time.monotonic() - started, 3)}
        printer.summary("final", figures,
                        f"STOPPED after {figures['seconds']:g} s: {_summary_text(figures)}; while watching "
                        f"{totals['rows']} row(s): {totals['new']} new, {totals['resolved']} resolved, "
                        f"{totals['changed']} changed, {totals['rejected']} rejected")
    return 0


def _ticks(interval: float, exit_after: float | None, stop: _Stop) -> Iterator[None]:
    """One tick per polling interval, until stopped or `exit_after` seconds have passed."""
    deadline = time.monotonic() + exit_after if exit_after is not None else None
    while not stop.requested:
        wait = interval if deadline is None else min(interval, deadline - time.monotonic())
        if wait > 0:
            time.sleep(wait)
        if stop.requested:
            return
        yield None
        if deadline is not None and time.monotonic() >= deadline:
            return


def _figures(audit: IncrementalAudit, sources: Sources) -> dict[str, Any]:
    findings = audit.findings()
    return {"files": list(sources.tails), "records_read": audit.read, "records_rejected": len(audit.rejections),
            "subjects": audit.subjects, "findings": len(findings),
            "findings_important": sum(1 for f in findings if f.rule.important),
            "data_cutoff": audit.cutoff.isoformat()}


def _summary_text(figures: dict[str, Any]) -> str:
    return (f"{figures['records_read']} row(s) read ({figures['records_rejected']} rejected), "
            f"{figures['subjects']} subject(s), {figures['findings']} finding(s) "
            f"({figures['findings_important']} important)")
