"""Growing visit logs, read by whole lines: each file (LogTail), and the files and folders named (Sources).

Each file is followed from a byte offset, and only whole lines are read, so a row still being written
waits for its newline (and a CSV row whose quoted cell spans lines, for its closing quote). A CSV header
is read once. New `.csv`, `.jsonl` and `.ndjson` files in a watched folder are picked up and read in
full. A file that shrinks, or is replaced by one whose beginning differs from what was read, is
refused: an InputError names it and it is no longer followed, since records already audited cannot be
taken back. A file replaced by one with the same beginning (an editor's save) is followed on.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from pathlib import Path

from ..errors import InputError
from ..inputs.log_formats import JSON_SUFFIXES, LINE_LIMIT, check_header
from ..inputs.visit_logs import LogFile
from .intake import Row

LOG_SUFFIXES = (".csv", ".jsonl", ".ndjson")  # what a watched folder's new files must end with


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
        pending, line = self._pending, self._pending_line
        row_text = "".join(pending)
        self._pending = []
        if self.log is None:
            overlong = next((line + i for i, text in enumerate(pending) if len(text.rstrip("\r\n")) > LINE_LIMIT), None)
            self.log = LogFile.known(self.path, _header(self.path, cells, problem, overlong), False)
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


def _header(path: str, cells: list[str], problem: str | None, overlong: int | None) -> tuple[str, ...]:
    """A CSV header, refused as visit_logs.LogFile refuses it; `overlong` is its first line over the limit."""
    if overlong is not None:
        raise InputError(path, f"the header line is longer than {LINE_LIMIT} characters", overlong)
    if problem is not None:
        raise InputError(path, f"the header row is {problem}", 1)
    header = tuple(cell.strip() for cell in cells)
    check_header(path, header)
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
