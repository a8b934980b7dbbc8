"""Visit logs (CSV or JSON Lines) -> validated records, each bad row rejected with its reason."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from ..compiler.model import CompiledProtocol, EventSpec
from ..dates import clock_seconds, date_bounds, parse_iso
from ..errors import InputError, did_you_mean

BASE_COLUMNS = ("study", "site", "subject", "date", "event")
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}
# Input size limits (README, "Visit logs"): a longer cell, JSON value or line is a rejected row, so one
# corrupt row can neither exhaust memory nor hide the rest of the file. CELL_LIMIT is csv's own field limit.
CELL_LIMIT = 131_072
LINE_LIMIT = 1_048_576


@dataclass(frozen=True, slots=True)
class Record:
    """One event of a visit log, typed against the protocol's vocabulary."""

    file: str
    line: int
    study: str
    site: str
    subject: str | None
    date: dt.date
    date_text: str
    event: str
    values: dict[str, object]  # typed values of the fields present (a partial date: its first day)
    raw: dict[str, str]  # the fields as written, for reports
    # The last day a partial date can be, for the record's date ("date") and date fields; absent when exact.
    upper: dict[str, dt.date] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return bool(self.upper)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    def content_key(self) -> tuple:
        """Order and identity independent of file, line and input order."""
        return (self.subject or "", self.date, self.event, self.date_text, self.study, self.site,
                tuple(sorted(self.raw.items())))


@dataclass(frozen=True, slots=True)
class Rejection:
    file: str
    line: int
    reason: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class LogData:
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    read: int = 0
    files: list[str] = field(default_factory=list)
    # Per source table (an SDTM domain file): rows read, turned into records, left unmapped, rejected.
    sources: list[dict[str, object]] = field(default_factory=list)


def read_logs(paths: list[str], protocol: CompiledProtocol, time_zone: str | None = None) -> LogData:
    """Read every log; unreadable files raise InputError, bad rows become rejections."""
    data = LogData()
    # Records hold no cycles; the collector's passes over millions of them only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            data.files.append(path)
            log = LogFile(path)
            for line, row in log.rows():
                data.read += 1
                outcome = row if isinstance(row, str) else validate(log.as_dict(row), path, line, protocol, time_zone)
                if isinstance(outcome, Record):
                    data.records.append(outcome)
                else:
                    data.rejections.append(Rejection(path, line, outcome))
    finally:
        if collecting:
            gc.enable()
    return data


def read_text(path: str) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), or InputError saying why it cannot be read."""
    p = Path(path)
    if not p.is_file():
        raise InputError(path, "no such file" if not p.exists() else "not a file")
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or "cannot be read") from None


class LogFile:
    """One visit log (CSV, or JSON Lines by its suffix), streamed row by row without holding the file.

    A row comes as its text (`texts`) or parsed (`rows`): CSV cells in header order, or a JSON object.
    The text form is what partitions keep and ship to workers: a short string per row, parsed again
    where it is validated.
    """

    def __init__(self, path: str):
        self.path = path
        self.json = Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json")
        self.header: tuple[str, ...] = ()
        self._base_columns: tuple[int, ...] = ()
        p = Path(path)
        if not p.is_file():
            raise InputError(path, "no such file" if not p.exists() else "not a file")

    @classmethod
    def known(cls, path: str, header: tuple[str, ...], json_lines: bool) -> LogFile:
        """A log already opened elsewhere (a worker parsing rows it was sent): nothing is read here."""
        log = cls.__new__(cls)
        log.path, log.header, log.json, log._base_columns = path, header, json_lines, ()
        return log

    def rows(self) -> Iterator[tuple[int, list[str] | dict[str, object] | str]]:
        """(line, CSV cells or JSON object) per row; a row that cannot be parsed comes as its reason."""
        for line, _, parsed in self.entries():
            yield line, parsed

    def entries(self) -> Iterator[tuple[int, str, list[str] | dict[str, object] | str]]:
        """(line, text, parsed row or the reason it is not one) per row."""
        for line, text, parsed in self.texts():
            if "\x00" in text:  # csv and json take NUL as text; in a log it means a corrupt or binary file
                yield line, text, "has a NUL character (byte 0): not text"
                continue
            yield line, text, self.parse(text) if parsed is None else self._checked(parsed)

    def parse(self, text: str) -> list[str] | dict[str, object] | str:
        """One row's text (from `texts`) parsed: cells, an object, or why it is not a row."""
        if self.json:
            try:
                row = json.loads(text.rstrip("\r\n"))  # else an unfinished object's column is 1, past the line
            except json.JSONDecodeError as exc:
                return f"not valid JSON ({exc.msg} at column {exc.colno})"
            if not isinstance(row, dict):
                return "a JSON Lines row must be an object"
            return _json_problem(row) or row
        try:
            cells = next(csv.reader([text]))
        except csv.Error as exc:
            return _csv_problem(exc)
        return self._checked(cells)

    def _checked(self, cells: list[str] | str) -> list[str] | str:
        if isinstance(cells, str):
            return cells
        if len(cells) != len(self.header):
            return f"has {len(cells)} cells; the header has {len(self.header)}"
        return cells

    def as_dict(self, row: list[str] | dict[str, object]) -> dict[str, object]:
        """A row as `validate` takes it; a CSV row's empty cells (most of a wide log's) are left out."""
        return row if isinstance(row, dict) else {name: cell for name, cell in zip(self.header, row) if cell}

    def base(self, row: list[str] | dict[str, object]) -> tuple[str, str, str]:
        """A row's subject, event and date as written (stripped), without building the whole row."""
        if isinstance(row, dict):
            return _text(row.get("subject")), _text(row.get("event")), _text(row.get("date"))
        if not self._base_columns:
            self._base_columns = tuple(self.header.index(c) for c in ("subject", "event", "date"))
        subject, event, date = self._base_columns
        return row[subject].strip(), row[event].strip(), row[date].strip()

    def texts(self) -> Iterator[tuple[int, str, list[str] | str | None]]:
        """(first line number, text, parsed) per non-blank row in file order.

        `parsed` is the CSV cells as read, the reason a row is broken, or None where the text is still
        to be parsed (JSON Lines).
        """
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as handle:
                yield from (self._json_texts(handle) if self.json else self._csv_texts(handle))
        except UnicodeDecodeError as exc:
            line, column = _undecodable(self.path) or (None, exc.start + 1)
            where = f"byte {column} of the line" if line else f"near byte {column} of a block"
            raise InputError(self.path, f"not UTF-8 text ({where})", line) from None
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None

    def _json_texts(self, handle: TextIO) -> Iterator[tuple[int, str, list[str] | str | None]]:
        number = 0
        while line := handle.readline(LINE_LIMIT + 1):
            number += 1
            if len(line) > LINE_LIMIT and _skip_rest(handle, line):
                yield number, "", f"a line longer than {LINE_LIMIT} characters"
            elif line.strip():
                yield number, line, None

    def _csv_texts(self, handle: TextIO) -> Iterator[tuple[int, str, list[str] | str | None]]:
        consumed: list[str] = []
        overlong: list[int] = []  # physical lines cut out (each read as an empty line) of the next record

        def lines() -> Iterator[str]:
            number = 0
            while line := handle.readline(LINE_LIMIT + 1):
                number += 1
                if len(line) > LINE_LIMIT and _skip_rest(handle, line):
                    overlong.append(number)
                    line = "\n"
                consumed.append(line)
                yield line

        reader = csv.reader(lines())
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(self.path, "the file is empty; a visit log starts with a header row", 1) from None
        except csv.Error as exc:
            raise InputError(self.path, f"the header row is not valid CSV ({exc})", 1) from None
        self.header = tuple(h.strip() for h in header)
        missing = [c for c in BASE_COLUMNS if c not in self.header]
        if missing:
            raise InputError(self.path, f"the header lacks column{'s' if len(missing) > 1 else ''} "
                                        f"{', '.join(missing)}", 1)
        duplicates = sorted({h for h in self.header if self.header.count(h) > 1})
        if duplicates:
            raise InputError(self.path, f"the header repeats column {', '.join(duplicates)}", 1)
        consumed.clear()
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, "", _csv_problem(exc, start, reader.line_num)
                consumed.clear()
                overlong.clear()
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            text = "".join(consumed)
            consumed.clear()
            if overlong:
                yield line, "", f"line {overlong[0]} is longer than {LINE_LIMIT} characters"
                overlong.clear()
            elif len(cells) != len(self.header) and start - line > 1:
                # A quoted cell over several lines and a wrong count: most likely a quote never closed.
                yield line, "", (f"has {len(cells)} cells; the header has {len(self.header)} (a quoted cell "
                                 f"runs from line {line} to line {start - 1}: a quote not closed?)")
            elif any(c.strip() for c in cells):
                yield line, text, cells


def _skip_rest(handle: TextIO, line: str) -> bool:
    """Whether `line` (read with a LINE_LIMIT) was cut short; if so the rest of it is read and dropped."""
    if line.endswith(("\n", "\r")):
        return False
    while line and not line.endswith(("\n", "\r")):
        line = handle.readline(LINE_LIMIT)
    return True


def _csv_problem(exc: csv.Error, first: int = 0, last: int = 0) -> str:
    if "field larger than field limit" not in str(exc):
        return f"not valid CSV ({exc})"
    span = f"; it runs from line {first} to line {last}: a quote not closed?" if last > first else ""
    return f"a cell longer than {csv.field_size_limit()} characters{span}"


def _json_problem(row: dict[str, object]) -> str | None:
    """Why a JSON Lines object cannot be a row (a value nested, not finite, or too long), or None."""
    for key, value in row.items():
        if isinstance(value, (dict, list)):
            return f"{key} is a JSON {'object' if isinstance(value, dict) else 'array'}; a value must be " \
                   "a string, number, true, false or null"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key} is {value!r}, not a finite number"
        if isinstance(value, str) and len(value) > CELL_LIMIT:
            return f"{key} is longer than {CELL_LIMIT} characters"
    return None


def _undecodable(path: str) -> tuple[int, int] | None:
    """(line, byte in that line) of the first bytes that are not UTF-8; read again only on that error."""
    with open(path, "rb") as handle:
        number, pending = 1, b""
        while block := handle.read(1 << 20):
            pending += block
            *whole, pending = pending.split(b"\n")
            for raw in whole:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return number, exc.start + 1
                number += 1
            if len(pending) > LINE_LIMIT * 4:  # a line too long to hold: name it without reading it all
                try:
                    pending.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if exc.reason != "unexpected end of data":
                        return number, exc.start + 1
        try:
            pending.decode("utf-8")
        except UnicodeDecodeError as exc:
            return number, exc.start + 1
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def validate(row: dict[str, object], path: str, line: int, protocol: CompiledProtocol,
             time_zone: str | None = None) -> Record | str:
    """One row (a visit-log line, or an event an SDTM mapping made) as a Record, or the reason it is rejected."""
    # Most cells of a wide log are empty: drop them before any per-cell work.
    cells = {k: v.strip() if isinstance(v, str) else _text(v) for k, v in row.items() if v != "" and v is not None}
    for column, text in cells.items():
        if "\x00" in text:  # the rules engine takes C strings: a NUL would end (or break) the value
            return f"{column} has a NUL character (byte 0)"
    for column in ("date", "event"):
        if not cells.get(column):
            return f"no {column}"
    event_name = cells["event"]
    event = protocol.events.get(event_name)
    if event_name in protocol.groups:
        return f"'{event_name}' names a group of event types; a record gives one of {', '.join(protocol.groups[event_name])}"
    if event is None:
        hint = did_you_mean(event_name, protocol.events.keys())
        return f"unknown event type '{event_name}'" + (f" ({hint})" if hint else "")
    study = cells.get("study", "")
    if protocol.name and study and study != protocol.name:
        return f"study '{study}' is not {protocol.name}"
    subject = cells.get("subject", "") or None
    if event.trial_level and subject:
        return f"{event_name} is a trial-level event but names subject {subject}"
    if not event.trial_level and not subject:
        return f"{event_name} needs a subject"
    date_text = cells["date"]
    bounds = date_bounds(date_text, time_zone)
    if bounds is None:
        return f"'{date_text}' is not a valid ISO 8601 date"
    upper: dict[str, dt.date] = {} if bounds[0] == bounds[1] else {"date": bounds[1]}
    values, raw, problem = _fields(cells, event, upper)
    if problem:
        return problem
    return Record(path, line, study, cells.get("site", ""), subject, bounds[0], date_text, event_name, values, raw,
                  upper)


def _fields(cells: dict[str, str], event: EventSpec,
            upper: dict[str, dt.date]) -> tuple[dict[str, object], dict[str, str], str | None]:
    values: dict[str, object] = {}
    raw: dict[str, str] = {}
    for column, text in cells.items():
        if column in BASE_COLUMNS or not text:
            continue
        spec = event.fields.get(column)
        if spec is None:
            return {}, {}, f"{event.name} has no field '{column}' (value '{text}')"
        if spec.type == "date":
            bounds = date_bounds(text)
            if bounds is not None and bounds[0] != bounds[1]:
                upper[column] = bounds[1]
            value = bounds[0] if bounds else None
        else:
            value = _typed(text, spec.type)
        if value is None:
            return {}, {}, f"{column} '{text}' is not {_article(spec.type)}"
        values[column] = value
        raw[column] = text
    for spec in event.fields.values():
        if spec.required and spec.name not in values:
            return {}, {}, f"{event.name} lacks required field {spec.name}"
    return values, raw, None


def _typed(text: str, type_: str) -> object | None:
    if type_ == "text":
        return text
    if type_ == "boolean":
        word = text.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    if type_ == "date":
        return parse_iso(text)
    if type_ == "time":
        return clock_seconds(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if type_ == "integer":
        return int(number) if number == number.to_integral_value() else None
    return number


def _article(type_: str) -> str:
    return {"integer": "a whole number", "decimal": "a number", "date": "a valid ISO 8601 date",
            "boolean": "yes or no", "time": "a clock time (HH:MM or HH:MM:SS)"}.get(type_, type_)
