"""Visit logs that grow -> one line per finding that appears, is resolved or changes, as rows arrive.

`jk500-rules watch` reads each log's existing rows, audits them once (a summary line), then polls the
logs as tails.py follows them (whole lines only; new files in a watched folder read in full) and prints
what each poll's rows change. A log that can no longer be followed (it shrank, or the part already read
changed: rewritten in place, or replaced) gets an error line and is no longer watched, since records
already audited cannot be taken back (restart the watch to audit the new contents afresh). A log renamed
(rotated) gets a RENAMED line, and the rows read from it take its new name before the poll's rows come.
"""
from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

from ..compiler.model import CompiledProtocol
from ..engine.results import Finding
from ..errors import InputError
from ..inputs.records import IgnoredColumn, Rejection
from .findings import Changes
from .incremental import IncrementalAudit
from .tails import Sources


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

    def renamed(self, old: str, new: str) -> None:
        self._emit({"event": "renamed", "file": old, "to": new},
                   f"RENAMED {old} -> {new}: followed under its new name, where its rows are now", None)

    def rejection(self, rejection: Rejection, read_at: float | None) -> None:
        self._emit({"event": "rejected", "location": rejection.location, "subject": rejection.subject,
                    "date": rejection.date, "reason": rejection.reason},
                   f"REJECTED {rejection.location}: {rejection.reason}", read_at)

    def warning(self, warning: IgnoredColumn) -> None:
        self._emit({"event": "warning", "file": warning.file, "column": warning.column,
                    "events": list(warning.events), "values_ignored": warning.values, "message": warning.message},
                   f"WARNING {warning.message}", None)

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
          out: TextIO | None = None, err: TextIO | None = None, strict_columns: bool = False) -> int:
    """Audit the logs, then report what each new row changes until stopped; 0 when stopped.

    InputError (a path that is no log, a bad CSV header at the start, an unknown version) ends it at once.
    A column whose values are ignored (its event type does not declare it) gets one WARNING, the first
    time a value of it is ignored in that file; with `strict_columns` such a row is rejected instead.
    """
    out = out or sys.stdout
    printer = Printer(fmt, out, err or sys.stderr)
    sources = Sources(paths)
    started = time.monotonic()
    totals: Counter = Counter()
    warned: set[tuple[str, str]] = set()  # (file, column) of the warnings printed
    with IncrementalAudit(protocol, as_of, time_zone, version, strict_columns=strict_columns) as audit, \
            _Stop() as stop:
        read_at = time.perf_counter()
        rows, errors = sources.poll(strict=True)
        _report_moves(printer, audit, sources, errors, warned)
        initial = audit.add(rows)
        for rejection in initial.rejections:
            printer.rejection(rejection, read_at)
        _report_warnings(printer, audit, warned)
        cutoff_note = "fixed by --as-of" if as_of else f"today at the site ({time_zone or 'UTC'}), moving daily"
        figures = _figures(audit, sources)
        printer.summary("initial", {**figures, "interval_s": interval},
                        f"WATCHING {len(sources.tails)} file(s) and {len(sources.folders)} folder(s): "
                        f"{_summary_text(figures)}; data cut-off {audit.cutoff.isoformat()} ({cutoff_note}); "
                        f"polling every {interval:g} s, Ctrl-C to stop")
        for _ in _ticks(interval, exit_after, stop):
            read_at = time.perf_counter()
            rows, errors = sources.poll()
            _report_moves(printer, audit, sources, errors, warned)
            changes = audit.add(rows) if rows else audit.advance()
            if changes or changes.cutoff is not None:
                printer.changes(changes, read_at if rows else None)
            if rows:
                _report_warnings(printer, audit, warned)
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


def _report_moves(printer: Printer, audit: IncrementalAudit, sources: Sources, errors: list[InputError],
                  warned: set[tuple[str, str]]) -> None:
    """A poll's errors and renames printed, the renames applied to the rows already read (before new ones)."""
    for error in errors:
        printer.error(error)
    for old, new in sources.renamed:
        printer.renamed(old, new)
    if sources.renamed:
        renames = dict(sources.renamed)
        changes = audit.rename(renames)
        warned.update({(renames[file], column) for file, column in warned if file in renames})
        if changes:
            printer.changes(changes, None)


def _report_warnings(printer: Printer, audit: IncrementalAudit, warned: set[tuple[str, str]]) -> None:
    """A WARNING for each file and column whose values are ignored for the first time (the count so far)."""
    for warning in audit.column_warnings():
        if (warning.file, warning.column) not in warned:
            warned.add((warning.file, warning.column))
            printer.warning(warning)
    printer.out.flush()


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
            "values_ignored": sum(w.values for w in audit.column_warnings()), "subjects": audit.subjects, "findings": len(findings),
            "findings_important": sum(1 for f in findings if f.rule.important),
            "data_cutoff": audit.cutoff.isoformat()}


def _summary_text(figures: dict[str, Any]) -> str:
    ignored = (f"; {figures['values_ignored']} value(s) ignored in columns their event type does not declare"
               if figures["values_ignored"] else "")
    return (f"{figures['records_read']} row(s) read ({figures['records_rejected']} rejected{ignored}), "
            f"{figures['subjects']} subject(s), {figures['findings']} finding(s) "
            f"({figures['findings_important']} important)")
