"""CSV and JSON Lines as visit logs: rows within the size limits, the header checked, why a row is not one."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from ..errors import InputError
from .lines import csv_cells, csv_line
from .records import BASE_COLUMNS

if TYPE_CHECKING:
    import _csv

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")  # a log with one of these is read as JSON Lines, else as CSV
# Input size limits (README, "Visit logs"): a longer cell, JSON value or line is a rejected row, so one
# corrupt row can neither exhaust memory nor hide the rest of the file. CELL_LIMIT is csv's own field limit.
CELL_LIMIT = 131_072
LINE_LIMIT = 1_048_576
NUL_TEXT = "has a NUL character (byte 0): not text"  # csv and json take NUL as text; in a log it means corruption

# (first line number, text, parsed) per row: parsed is the CSV cells as read, the reason a row is broken,
# or None where the text is still to be parsed (JSON Lines).
RowTexts = Iterator[tuple[int, str, list[str] | str | None]]


def check_header(path: str, header: tuple[str, ...]) -> None:
    """InputError (at line 1) for a CSV header that lacks a base column, leaves one unnamed or repeats one."""
    names = set(header)
    missing = [c for c in BASE_COLUMNS if c not in names]
    if missing:
        raise InputError(path, f"the header lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", 1)
    problem = names_problem(header, "the header")
    if problem:
        raise InputError(path, problem, 1)


def names_problem(names: Sequence[str], what: str) -> str | None:
    """Why column names cannot key a row (one empty, one repeated), or None; `what` holds them.

    Rows become dicts keyed by these names: a repeated name would keep one of its cells and drop the
    other, an empty one would take cells that no field can be named for. Linear in the columns (a
    header of 100,000 columns fits the line limit).
    """
    empty = [number for number, name in enumerate(names, 1) if not name]
    if empty:
        trailing = empty[0] == len(names) - len(empty) + 1  # all at the end: an export's trailing commas
        hint = f" ({'a trailing comma' if len(empty) == 1 else 'trailing commas'}?)" if trailing else ""
        if len(empty) == 1:
            return f"{what} has an empty column name at column {empty[0]}{hint}"
        return f"{what} has empty column names at columns {listed(empty)}{hint}"
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        return f"{what} repeats column {listed(duplicates)}"
    return None


def listed(items: Sequence[object], most: int = 10) -> str:
    """Items for a one-line message: the first `most`, and how many there are when that is not all."""
    shown = ", ".join(map(str, items[:most]))
    return shown if len(items) <= most else f"{shown}, ... ({len(items)} in all)"


def json_texts(handle: TextIO, end: str = "\n") -> RowTexts:
    """A JSON Lines log's non-blank lines, each still to be parsed; an overlong one comes as its reason.

    `handle` is opened with `newline=end`, the file's line end (lines.file_line_end).
    """
    number = 0
    while line := handle.readline(LINE_LIMIT + 1):
        number += 1
        if len(line) > LINE_LIMIT and _skip_rest(handle, line, end):
            yield number, "", f"a line longer than {LINE_LIMIT} characters"
        elif line.strip():
            yield number, line, None


def csv_texts(path: str, handle: TextIO, end: str = "\n") -> tuple[tuple[str, ...], RowTexts]:
    """A CSV log's header (stripped, not yet checked) and its non-blank rows; InputError for no header.

    `handle` is opened with `newline=end`, the file's line end (lines.file_line_end): a bare `\r` in a
    file of `\n` lines stays in its line, so a quoted cell holding one keeps its row and the line count.
    """
    consumed: list[str] = []
    overlong: list[int] = []  # physical lines cut out (each read as an empty line) of the next record
    hidden: list[bool] = []  # whether a line of the next record had a bare \r hidden (lines.csv_line)

    def lines() -> Iterator[str]:
        number = 0
        while line := handle.readline(LINE_LIMIT + 1):
            number += 1
            if len(line) > LINE_LIMIT and _skip_rest(handle, line, end):
                overlong.append(number)
                line = "\n"
            consumed.append(line)
            seen = csv_line(line)
            if seen is not line:
                hidden.append(True)
            yield seen

    reader = csv.reader(lines())
    try:
        header = next(reader)
        if hidden:
            header = csv_cells(header)
    except StopIteration:
        raise InputError(path, "the file is empty; a visit log starts with a header row", 1) from None
    except csv.Error as exc:
        raise InputError(path, f"the header row is not valid CSV ({exc})", 1) from None
    if overlong:  # read as an empty line: without this it would be "the header lacks columns ..."
        raise InputError(path, f"the header line is longer than {LINE_LIMIT} characters", overlong[0])
    consumed.clear()
    hidden.clear()
    return tuple(h.strip() for h in header), _csv_rows(reader, consumed, overlong, hidden, len(header))


def _csv_rows(reader: _csv.Reader, consumed: list[str], overlong: list[int], hidden: list[bool],
              width: int) -> RowTexts:
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, "", csv_problem(exc, start, reader.line_num)
            consumed.clear()
            overlong.clear()
            hidden.clear()
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        text = "".join(consumed)
        consumed.clear()
        if hidden:
            cells = csv_cells(cells)
            hidden.clear()
        if overlong:
            yield line, "", f"line {overlong[0]} is longer than {LINE_LIMIT} characters"
            overlong.clear()
        elif len(cells) != width and start - line > 1:
            # A quoted cell over several lines and a wrong count: most likely a quote never closed.
            yield line, "", (f"has {len(cells)} cells; the header has {width} (a quoted cell "
                             f"runs from line {line} to line {start - 1}: a quote not closed?)")
        elif any(c.strip() for c in cells):
            yield line, text, cells


def _skip_rest(handle: TextIO, line: str, end: str) -> bool:
    """Whether `line` (read with a LINE_LIMIT) was cut short; if so the rest of it is read and dropped."""
    if line.endswith(end):
        return False
    while line and not line.endswith(end):
        line = handle.readline(LINE_LIMIT)
    return True


def csv_problem(exc: csv.Error, first: int = 0, last: int = 0) -> str:
    """Why a CSV row is not one: a cell past the limit (from `first` to `last` line), or the csv error."""
    if "field larger than field limit" not in str(exc):
        return f"not valid CSV ({exc})"
    span = f"; it runs from line {first} to line {last}: a quote not closed?" if last > first else ""
    return f"a cell longer than {csv.field_size_limit()} characters{span}"


def json_problem(row: dict[str, object]) -> str | None:
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


def undecodable(path: str, end: str = "\n") -> tuple[int, int] | None:
    """(line, byte in that line) of the first bytes that are not UTF-8; read again only on that error."""
    with open(path, "rb") as handle:
        number, pending = 1, b""
        while block := handle.read(1 << 20):
            pending += block
            *whole, pending = pending.split(end.encode())
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
