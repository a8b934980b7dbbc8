"""Visit logs (CSV or JSON Lines) read row by row into validated records, each bad row rejected with its reason."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..compiler.model import CompiledProtocol
from ..errors import InputError
from .lines import LF, csv_cells, csv_line, file_line_end
from .log_formats import (JSON_SUFFIXES, NUL_TEXT, RowTexts, check_header, csv_problem, csv_texts, json_problem,
                          json_texts, undecodable)
from .records import LogData, Record
from .validation import rejection, validate, value_text


def read_logs(paths: list[str], protocol: CompiledProtocol, time_zone: str | None = None,
              strict_columns: bool = False) -> LogData:
    """Read every log; unreadable files raise InputError, bad rows become rejections (see `validate` for
    columns an event type does not declare: ignored and counted in `LogData.ignored`, or with
    `strict_columns` rejected)."""
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
                cells = None if isinstance(row, str) else log.as_dict(row)
                outcome = validate(cells, path, line, protocol, time_zone, strict_columns=strict_columns,
                                   ignored=data.ignored) if cells is not None else str(row)
                if isinstance(outcome, Record):
                    data.records.append(outcome)
                else:
                    data.rejections.append(rejection(cells, path, line, outcome))
            data.hashes[path] = log.sha256
    finally:
        if collecting:
            gc.enable()
    return data


def read_text(path: str) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), or InputError saying why it cannot be read."""
    return read_hashed_text(path)[0]


def read_hashed_text(path: str) -> tuple[str, str]:
    """A UTF-8 text file as `read_text` gives it, and the SHA-256 of the bytes it was read from."""
    p = Path(path)
    if not p.is_file():
        raise InputError(path, "no such file" if not p.exists() else "not a file")
    try:
        raw = p.read_bytes()
        # Decoded as open() in text mode does (universal newlines), from the very bytes hashed.
        with io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig") as text:
            return text.read(), hashlib.sha256(raw).hexdigest()
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or "cannot be read") from None


class HashedReader(io.RawIOBase):
    """A binary file whose bytes are hashed as they are read: the hash is of exactly what was read,
    whatever the file holds by the time a report names it (a log may grow during an audit)."""

    def __init__(self, raw: io.RawIOBase):
        self.raw = raw
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


class _RepeatedKey(Exception):
    """A JSON object names a key twice: json would keep the last value without a word."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object as a dict, refused where a key repeats (as a CSV header may not repeat a column)."""
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return row


# Built once: json.loads(text, object_pairs_hook=...) builds a decoder per call, which doubled the cost of a row.
_DECODER = json.JSONDecoder(object_pairs_hook=_object)


class LogFile:
    """One visit log (CSV, or JSON Lines by its suffix), streamed row by row without holding the file.

    A row comes as its text (`texts`) or parsed (`rows`): CSV cells in header order, or a JSON object.
    The text form is what partitions keep and ship to workers: a short string per row, parsed again
    where it is validated.
    """

    def __init__(self, path: str):
        self.path = path
        self.json = Path(path).suffix.lower() in JSON_SUFFIXES
        self.header: tuple[str, ...] = ()
        self._base_columns: tuple[int, ...] = ()
        self.sha256 = ""  # of the bytes read, once `texts` has read the file to its end
        p = Path(path)
        if not p.is_file():
            raise InputError(path, "no such file" if not p.exists() else "not a file")

    @classmethod
    def known(cls, path: str, header: tuple[str, ...], json_lines: bool) -> LogFile:
        """A log already opened elsewhere (a worker parsing rows it was sent): nothing is read here."""
        log = cls.__new__(cls)
        log.path, log.header, log.json, log._base_columns, log.sha256 = path, header, json_lines, (), ""
        return log

    def rows(self) -> Iterator[tuple[int, list[str] | dict[str, object] | str]]:
        """(line, CSV cells or JSON object) per row; a row that cannot be parsed comes as its reason."""
        for line, _, parsed in self.entries():
            yield line, parsed

    def entries(self) -> Iterator[tuple[int, str, list[str] | dict[str, object] | str]]:
        """(line, text, parsed row or the reason it is not one) per row."""
        for line, text, parsed in self.texts():
            if "\x00" in text:  # csv and json take NUL as text; in a log it means a corrupt or binary file
                yield line, text, NUL_TEXT
                continue
            yield line, text, self.parse(text) if parsed is None else self._checked(parsed)

    def parse(self, text: str) -> list[str] | dict[str, object] | str:
        """One row's text (from `texts`) parsed: cells, an object, or why it is not a row."""
        if self.json:
            line = text.rstrip("\r\n")  # else an unfinished object's column is 1, past the line
            try:
                if line.startswith("\ufeff"):  # what json.loads says of it; the decoder alone does not look
                    raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
                row = _DECODER.decode(line)
            except json.JSONDecodeError as exc:
                return f"not valid JSON ({exc.msg} at column {exc.colno})"
            except _RepeatedKey as exc:
                return f"key {exc.key} appears twice (a row gives each column once)"
            except ValueError:  # an integer past the 4,300 digits Python reads
                return "has a number of more than 4,300 digits"
            except RecursionError:
                return "has values nested too deeply to read"
            if not isinstance(row, dict):
                return "a JSON Lines row must be an object"
            return json_problem(row) or row
        seen = csv_line(text)
        try:
            cells = next(csv.reader([seen]))
        except csv.Error as exc:
            return csv_problem(exc)
        return self._checked(cells if seen is text else csv_cells(cells))

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
            return value_text(row.get("subject")), value_text(row.get("event")), value_text(row.get("date"))
        if not self._base_columns:
            self._base_columns = tuple(self.header.index(c) for c in ("subject", "event", "date"))
        subject, event, date = self._base_columns
        return row[subject].strip(), row[event].strip(), row[date].strip()

    def texts(self) -> RowTexts:
        """(first line number, text, parsed) per non-blank row in file order (see `log_formats.RowTexts`)."""
        end = LF
        try:
            end = file_line_end(self.path)  # one policy with `watch` (lines.py): where a line ends
            hashed = HashedReader(io.FileIO(self.path, "r"))  # closed with `handle`
            buffered = io.BufferedReader(hashed, 1 << 20)
            with io.TextIOWrapper(buffered, encoding="utf-8-sig", newline=end) as handle:
                if self.json:
                    yield from json_texts(handle, end)
                else:
                    self.header, rows = csv_texts(self.path, handle, end)
                    check_header(self.path, self.header)
                    yield from rows
                self.sha256 = hashed.digest.hexdigest()  # read to the end: every byte hashed was audited
        except UnicodeDecodeError as exc:
            line, column = undecodable(self.path, end) or (None, exc.start + 1)
            where = f"byte {column} of the line" if line else f"near byte {column} of a block"
            raise InputError(self.path, f"not UTF-8 text ({where})", line) from None
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None
