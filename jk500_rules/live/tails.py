"""Growing visit logs, read by whole lines: each file (LogTail), and the files and folders named (Sources).

Each file is followed from a byte offset, and only whole lines are read, their ends as a batch audit
finds them (inputs/lines.py), so a row still being written waits for its line end (and a CSV row whose
quoted cell spans lines, for its closing quote). A CSV header is read once. New `.csv`, `.jsonl` and
`.ndjson` files in a watched folder are picked up and read in full.

Files that change under the watch. Each poll compares a file's inode, size, mtime and ctime with the
last poll's (one stat); only when one differs is the part already read read again and compared with
the sha256 kept of it. A file that shrinks, or whose part already read differs (rewritten in place, or
replaced by another file), is refused: an InputError names it and it is no longer followed, since records
already audited cannot be taken back. A file replaced by one that begins with the rows read (an editor's
save) is followed on. A file renamed (its inode found under another name in its own folder or a watched
one: a log rotated) is followed under its new name, and a new file at the old name is a new log. Another
name for a file followed (a hard link, a symlink) is not read again; a new file that begins with every
row read from one followed (a copy), or is the version an editor's save replaced, is refused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from ..inputs.lines import csv_cells, csv_line, line_end
from ..inputs.log_formats import JSON_SUFFIXES, LINE_LIMIT, NUL_TEXT, check_header, csv_problem
from ..inputs.visit_logs import LogFile
from .intake import Row

LOG_SUFFIXES = (".csv", ".jsonl", ".ndjson")  # what a watched folder's new files must end with
HEADER_BYTES = 4096  # compared first when a new file may be a copy of one followed
AFRESH = "it is no longer watched: restart the watch to audit it afresh"

Identity = tuple[int, int]  # (device, inode): a file, whatever its name


class LogTail:
    """One growing visit log, read by whole lines from a byte offset."""

    def __init__(self, path: str, identity: Identity | None = None):
        self.path = path
        self.json = Path(path).suffix.lower() in JSON_SUFFIXES
        # CSV: made once the header row is whole; it parses rows against the header.
        self.log: LogFile | None = LogFile.known(path, (), True) if self.json else None
        self.offset = 0  # bytes consumed: whole lines only
        self.lines = 0  # lines consumed
        self.identity = identity  # of the file read
        self.former: set[Identity] = set()  # of the files it replaced (saved by an editor), no new logs
        self._pending: list[str] = []  # lines of a CSV row whose quoted cell is still open
        self._pending_line = 0
        self._overlong = 0  # the first line of the pending CSV row past LINE_LIMIT, as batch reports it
        self._digest = hashlib.sha256()  # of the bytes consumed, to recognise the same file replaced
        self._seen: tuple[int, ...] | None = None  # identity, size, mtime and ctime when last read
        self._end: bytes | None = None  # the line end, once the file shows it (lines.line_end)
        self._row_end = 0  # the offset after the first row's line (the header's next), once read

    def rename(self, path: str) -> None:
        """The file is followed under a new name (rotated): the rows read from now on carry it."""
        self.path = path
        if self.log is not None:
            self.log.path = path

    def read(self) -> list[Row]:
        """The rows completed since the last read (InputError when the file can no longer be followed)."""
        try:
            if _signature(os.stat(self.path)) == self._seen:
                return []  # not changed since the last poll: nothing is read
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                self._check_part_read(handle, status)
                chunk = handle.read()
        except FileNotFoundError:
            raise InputError(self.path, "the file was removed; it is no longer watched") from None
        except OSError as exc:
            raise InputError(self.path, exc.strerror or "cannot be read") from None
        if self.identity is not None and self.identity != (status.st_dev, status.st_ino):
            self.former.add(self.identity)  # replaced by a file that begins the same: an editor's save
        self.identity = (status.st_dev, status.st_ino)
        self._seen = _signature(status)  # as before the read: a write during it shows at the next poll
        return self._rows(chunk)

    def _rows(self, chunk: bytes) -> list[Row]:
        if self._end is None:  # nothing consumed yet: `chunk` is the file from its start
            end = line_end(chunk, complete=False)
            if end is None:
                return []
            self._end = end.encode()
        elif self._end == b"\r" and b"\n" in chunk:
            raise InputError(self.path, "a line feed (\\n) came after lines ended by carriage returns alone (\\r), "
                                        f"so the lines already read are not the file's lines; {AFRESH}")
        cut = chunk.rfind(self._end)
        if cut < 0:
            return []  # a partial line waits for its line end
        chunk = chunk[:cut + 1]
        first = self.offset == 0
        self._note_first_row(chunk)
        self.offset += len(chunk)
        self._digest.update(chunk)
        if first and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8):]
        rows: list[Row] = []
        end = self._end.decode()
        for raw in chunk.split(self._end)[:-1]:
            self.lines += 1
            try:
                text = raw.decode("utf-8") + end
            except UnicodeDecodeError as exc:
                rows.append(Row(self.path, self.lines, f"not UTF-8 text (byte {exc.start} of the line)"))
                continue
            if len(text) > LINE_LIMIT + 1:  # the batch reader's limit (log_formats), line end included
                if self.json:
                    rows.append(Row(self.path, self.lines, f"a line longer than {LINE_LIMIT} characters"))
                    continue
                self._overlong = self._overlong or self.lines
                text = "\n"  # as the batch reader reads it: an empty line in its record
            row = self._json_row(text) if self.json else self._csv_row(text)
            if row is not None:
                rows.append(row)
        return rows

    def _note_first_row(self, chunk: bytes) -> None:
        """Where the first row's line ends (after the header's, in a CSV), as `chunk` is consumed."""
        assert self._end is not None
        at, wanted = -1, (1 if self.json else 2) - self.lines
        if self._row_end or wanted < 1:
            return
        for _ in range(wanted):
            at = chunk.find(self._end, at + 1)
            if at < 0:
                return
        self._row_end = self.offset + at + 1

    def _json_row(self, text: str) -> Row | None:
        if not text.strip():
            return None
        if "\x00" in text:
            return Row(self.path, self.lines, NUL_TEXT)
        assert self.log is not None
        parsed = self.log.parse(text)
        return Row(self.path, self.lines, parsed if isinstance(parsed, str) else self.log.as_dict(parsed))

    def _csv_row(self, text: str) -> Row | None:
        if not self._pending:
            self._pending_line = self.lines
        self._pending.append(text)
        # A sentinel line after the row: if a quoted cell is still open, the reader swallows it too.
        seen = [csv_line(line) for line in self._pending]
        reader = csv.reader(iter([*seen, "x\n"]))
        problem: str | None = None
        try:
            cells = next(reader)
            if any(a is not b for a, b in zip(seen, self._pending)):
                cells = csv_cells(cells)
        except csv.Error as exc:
            cells, problem = [], csv_problem(exc)
        else:
            if reader.line_num > len(self._pending):
                return None  # the row goes on in lines still to come
        row_text, line, overlong = "".join(self._pending), self._pending_line, self._overlong
        self._pending, self._overlong = [], 0
        if self.log is None:
            self.log = LogFile.known(self.path, _header(self.path, cells, problem, overlong or None), False)
            return None
        if problem is not None:
            return Row(self.path, line, problem)
        if overlong:
            return Row(self.path, line, f"line {overlong} is longer than {LINE_LIMIT} characters")
        if not any(cell.strip() for cell in cells):
            return None  # a blank row, skipped as a batch audit skips it
        if "\x00" in row_text:
            return Row(self.path, line, NUL_TEXT)
        parsed = self.log.parse(row_text)
        return Row(self.path, line, parsed if isinstance(parsed, str) else self.log.as_dict(parsed))

    def copied_in(self, path: str) -> bool:
        """Whether the file at `path`, another file, begins with all this one's part read, a row at least:
        a copy or a backup of it."""
        if not self._row_end:
            return False  # no row read yet: any log of the trial begins with the same header
        try:
            with open(path, "rb") as copy, open(self.path, "rb") as own:
                first = min(HEADER_BYTES, self.offset)
                if copy.read(first) != own.read(first):
                    return False  # most logs differ in their first rows: no need to read further
                copy.seek(0)
                return self._part_read_kept(copy)
        except OSError:
            return False

    def saved_as(self, path: str) -> bool:
        """Whether the file at `path`, which replaced this one, begins with its rows read (an editor's save);
        not when only a header was read, which a new log after a rotation begins with too."""
        if not self._row_end:
            return False
        try:
            with open(path, "rb") as handle:
                return self._part_read_kept(handle)
        except OSError:
            return False

    def _part_read_kept(self, handle: BinaryIO) -> bool:
        """Whether `handle` begins with the bytes consumed; it is left after them."""
        digest = hashlib.sha256()
        remaining = self.offset
        while remaining:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                return False
            digest.update(block)
            remaining -= len(block)
        return digest.digest() == self._digest.digest()

    def _check_part_read(self, handle: BinaryIO, status: os.stat_result) -> None:
        """InputError unless the file still begins with the bytes consumed; `handle` is left after them."""
        if self._seen is None:
            return  # nothing read yet
        if status.st_size < self.offset:
            raise InputError(self.path, f"the file shrank from {self.offset} to {status.st_size} bytes (truncated or "
                                        f"replaced); {AFRESH}")
        if not self._part_read_kept(handle):
            how = "rewritten in place" if (status.st_dev, status.st_ino) == self.identity else "replaced"
            raise InputError(self.path, f"the file was {how} and the part already read changed; {AFRESH} "
                                        f"(lines 1 to {self.lines} were audited)")


def _signature(status: os.stat_result) -> tuple[int, ...]:
    """What a poll compares: a write changes the size or the times (ctime even when mtime is set back)."""
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _identity(path: str) -> Identity | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


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
        self.renamed: list[tuple[str, str]] = []  # the last poll's renames (old name, new name)
        self._closed: set[str] = set()  # files refused or removed (real paths): never followed again
        self._vacated: set[str] = set()  # named files renamed away: a file there again is a new log
        for path in paths:
            p = Path(path)
            if p.is_dir():
                self.folders.append(p)
            elif p.is_file():
                self._follow(path)
                self.named.add(path)
            else:
                raise InputError(path, "no such file or folder")

    def _follow(self, path: str, errors: list[InputError] | None = None) -> None:
        """Follow `path` from its start, unless it is followed already, under this name or another, or
        it is a copy of rows already read (then `errors` says so)."""
        identity = _identity(path)
        if path in self.tails or identity is None or os.path.realpath(path) in self._closed:
            return
        if any(tail.identity == identity for tail in self.tails.values()):
            return  # a hard link or a symlink to a file followed: its rows are read once
        reason = self._not_new(path, identity)
        if reason is not None and errors is not None:
            self._closed.add(os.path.realpath(path))
            errors.append(InputError(path, f"{reason}; it is not watched"))
            return
        self.tails[path] = LogTail(path, identity)

    def _not_new(self, path: str, identity: Identity) -> str | None:
        """Why a file that appeared is no new log (its rows would be audited twice), or None."""
        for tail in self.tails.values():
            if identity in tail.former:
                return f"it is the earlier version of {tail.path}, kept when that was saved; its rows were read there"
            if tail.copied_in(path):
                return (f"it begins with the {tail.lines} line(s) already read from {tail.path}: a copy is not read, "
                        "its rows would be audited twice (rotate a log by renaming it, not by copying and "
                        "truncating it)")
        return None

    def _discover(self, errors: list[InputError]) -> None:
        for folder in self.folders:
            try:
                names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
            except OSError:
                continue  # a folder that went away has nothing new
            for name in names:
                if name.lower().endswith(LOG_SUFFIXES) and not name.startswith((".", "~")):
                    self._follow(str(folder / name), errors)
        for path in sorted(self._vacated):
            if os.path.isfile(path):
                self._vacated.discard(path)
                self._follow(path, errors)

    def _follow_renames(self, errors: list[InputError]) -> None:
        """Tails whose file now has another name (rotated) follow it there; checked only when a name
        no longer holds its file, so a poll costs one stat per file."""
        moved: dict[str, str] = {}
        for path, tail in self.tails.items():
            now = _identity(path)
            if tail.identity is not None and now != tail.identity and not (now and tail.saved_as(path)):
                # Its name holds another file, or none, and not one that begins with its rows (a save).
                new = self._find(tail.identity, path)
                if new is not None:
                    moved[path] = new
        tails = {old: self.tails.pop(old) for old in moved}
        for old, new in moved.items():
            left = self.tails.pop(new, None)
            if left is not None:  # that name's own file went away without a trace
                errors.append(InputError(new, f"the file was removed and {old} renamed to its name; the rows "
                                              "read from it stay audited; it is no longer watched"))
            tails[old].rename(new)
            self.tails[new] = tails[old]
            if old in self.named:
                self.named.discard(old)
                self.named.add(new)
                self._vacated.add(old)
            self.renamed.append((old, new))

    def _find(self, identity: Identity, path: str) -> str | None:
        """The name the file `identity` has now, in its own folder or a watched one, or None."""
        for folder in dict.fromkeys([Path(path).parent, *self.folders]):
            try:
                entries = [entry for entry in os.scandir(folder) if entry.inode() == identity[1]]
                for entry in sorted(entries, key=lambda entry: entry.name):  # hard links: the first name
                    if not entry.is_symlink() and entry.is_file() and entry.stat().st_dev == identity[0]:
                        return str(folder / entry.name)
            except OSError:
                continue  # a folder gone, or an entry that went away while looked at
        return None

    def poll(self, strict: bool = False) -> tuple[list[Row], list[InputError]]:
        """Rows completed in every log since the last poll; a log that cannot be followed is dropped.

        The poll's renames are in `renamed`, to be applied to the records already read before these
        rows are taken. `strict` (the first poll) raises instead for a file named: a watch does not start
        on a log it cannot read. A folder's file that is no log (a CSV without the base columns) is only
        dropped.
        """
        rows: list[Row] = []
        errors: list[InputError] = []
        self.renamed = []
        self._follow_renames(errors)
        self._discover(errors)
        for path, tail in list(self.tails.items()):
            try:
                rows += tail.read()
            except InputError as error:
                if strict and path in self.named:
                    raise
                errors.append(error)
                del self.tails[path]
                self._closed.add(os.path.realpath(path))
        return rows, errors
