"""Visit logs (CSV or JSON Lines) -> validated records, each bad row rejected with its reason."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from .compiler import CompiledProtocol, EventSpec
from .dates import clock_seconds, date_bounds, parse_iso
from .errors import InputError, did_you_mean

BASE_COLUMNS = ("study", "site", "subject", "date", "event")
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}


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
        _read_into(data, paths, protocol, time_zone)
    finally:
        if collecting:
            gc.enable()
    return data


def _read_into(data: LogData, paths: list[str], protocol: CompiledProtocol, time_zone: str | None) -> None:
    for path in paths:
        data.files.append(path)
        for line, row in _rows(path):
            data.read += 1
            if isinstance(row, str):
                data.rejections.append(Rejection(path, line, row))
                continue
            outcome = validate(row, path, line, protocol, time_zone)
            if isinstance(outcome, Record):
                data.records.append(outcome)
            else:
                data.rejections.append(Rejection(path, line, outcome))


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


def _rows(path: str) -> Iterator[tuple[int, dict[str, object] | str]]:
    p = Path(path)
    text = read_text(path)
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _json_rows(text)
    else:
        yield from _csv_rows(text, path)


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, object] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(row, dict):
            yield number, "a JSON Lines row must be an object"
            continue
        yield number, row


def _csv_rows(text: str, path: str) -> Iterator[tuple[int, dict[str, object] | str]]:
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path, "the file is empty; a visit log starts with a header row", 1) from None
    except csv.Error as exc:
        raise InputError(path, f"the header row is not valid CSV ({exc})", 1) from None
    header = [h.strip() for h in header]
    missing = [c for c in BASE_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"the header lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", 1)
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise InputError(path, f"the header repeats column {', '.join(duplicates)}", 1)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not valid CSV ({exc})"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield line, f"has {len(cells)} cells; the header has {len(header)}"
            continue
        yield line, dict(zip(header, cells))


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
