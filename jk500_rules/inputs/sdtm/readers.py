"""Domain files: finding each domain's files in the folders given, and reading XPT (pyreadstat) and CSV."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import InputError, did_you_mean
from ..lines import csv_cells, csv_line, split_lines
from ..log_formats import names_problem
from ..records import Rejection
from .mapping import Entry, Mapping, Value
from .tables import Table

SUFFIXES = (".xpt", ".csv")

ReadInto = Callable[[Table, list[str]], None]  # fills a table with the columns named (as the file spells them)


def matches_domain(path: Path, domain: str, patterns: tuple[str, ...] | None) -> bool:
    name, stem = path.name.lower(), path.stem.lower()
    if patterns is not None:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)
    code = domain.lower()
    if stem == code:
        return True
    # Split domains (SDTMIG 4.1.7): LB in lbch, lbhe, lbur; QS in qsmm, qshi. Not SUPPLB in supplbch.
    rest = stem[len(code):]
    return (stem.startswith(code) and 1 <= len(rest) <= 2 and rest.isalnum()
            and (code.startswith("supp") or not stem.startswith("supp")))


def import_pyreadstat() -> Any:
    """pyreadstat, imported without OpenBLAS worker threads unless numpy is loaded already.

    pyreadstat imports numpy, whose OpenBLAS starts worker threads as it loads and shuts them down at
    exit: about 55 ms of a run on a two-core machine, for linear algebra nothing here does. OpenBLAS
    reads the variable once, as it loads; it is taken away again so that child processes do not inherit it.
    """
    if "numpy" in sys.modules or "OPENBLAS_NUM_THREADS" in os.environ:
        import pyreadstat
    else:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        try:
            import pyreadstat
        finally:
            del os.environ["OPENBLAS_NUM_THREADS"]
    return pyreadstat


def open_xpt(path: Path, encodings: tuple[str, ...]) -> tuple[list[str], ReadInto]:
    """An XPT file's columns, from its metadata, and the reader of its rows (the first encoding that decodes)."""
    try:
        pyreadstat = import_pyreadstat()
    except ImportError:  # pragma: no cover - a dependency of the package
        raise InputError(str(path), "reading SAS XPORT files needs pyreadstat (pip install pyreadstat)") from None
    failures = (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError)
    try:
        with warnings.catch_warnings():  # a repeated name: renamed with a warning, refused below instead
            warnings.simplefilter("ignore", UserWarning)
            _, meta = pyreadstat.read_xport(str(path), metadataonly=True, output_format="dict")
    except failures as exc:  # not a readable XPT file
        raise InputError(str(path), f"not a SAS XPORT file that can be read ({exc})") from None
    sha256, before = _hashed(path)
    size = before.st_size
    if size % 80:  # XPORT is written in 80-byte records; pyreadstat drops a cut-off last row silently
        raise InputError(str(path), f"truncated: {size} bytes is not a whole number of the 80-byte "
                                    "records a SAS XPORT file is made of")
    names = list(meta.column_names)
    problem = names_problem(_original_names(names), "the file")
    if problem:
        raise InputError(str(path), problem)

    def read(table: Table, usecols: list[str]) -> None:
        usecols = usecols or names[:1]
        data: dict[str, list[Any]] = {}
        problems = []
        for encoding in encodings:
            is_utf8 = encoding.lower().replace("-", "").replace("_", "") == "utf8"
            try:
                data, _ = pyreadstat.read_xport(str(path), output_format="dict", usecols=usecols,
                                                encoding=None if is_utf8 else encoding)
                break
            except UnicodeDecodeError as exc:
                problems.append(f"not {encoding} (byte {exc.start})")
            except failures as exc:  # pyreadstat's own decoding failed, or the encoding is unknown to it
                problems.append(f"{encoding}: {exc}")
        else:
            raise InputError(str(path), "cannot decode its text: " + "; ".join(problems)
                             + " (set [defaults] encoding in the mapping)")
        if _changed(before, path):  # pyreadstat reads by name: the rows must come from the bytes hashed
            raise InputError(str(path), "changed while it was being read; audit it again once it is written")
        table.sha256 = sha256
        table.cells = {c.upper(): values for c, values in data.items()}
        count = len(next(iter(data.values()))) if data else 0
        table.lines = range(1, count + 1)
        table.count = count

    return names, read


def _original_names(names: list[str]) -> list[str]:
    """XPT column names as the file spells them, upper case (SAS names ignore case).

    pyreadstat renames a repeated name (AESEQ_duplicated1), which would leave the mapping reading one
    of two columns without a word; the rename is undone so that the repeat is refused.
    """
    given = set(names)
    found = []
    for name in names:
        original, mark, number = name.rpartition("_duplicated")
        found.append((original if mark and number.isdigit() and original in given else name).upper())
    return found


def open_csv(path: Path, encodings: tuple[str, ...]) -> tuple[list[str], ReadInto]:
    """A CSV file's header row, upper case, and the reader of the rows below it; malformed rows are rejected."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), exc.strerror or "cannot be read") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    text = None
    for encoding in encodings:
        try:
            text = raw.decode("utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise InputError(str(path), f"cannot decode its text as {' or '.join(encodings)} "
                         "(set [defaults] encoding in the mapping)")
    reader = csv.reader(map(csv_line, split_lines(text)))  # the visit logs' line ends (lines.py)
    # A bare \r, hidden from csv (lines.csv_line), is put back in its cell.
    bare_cr = "\r" in text and "\n" in text and "\r" in text.replace("\r\n", "")
    try:
        header = [h.strip().upper() for h in next(reader)]
    except StopIteration:
        raise InputError(str(path), "the file is empty; a domain file starts with a header row", 1) from None
    except csv.Error as exc:
        raise InputError(str(path), f"the header row is not valid CSV ({exc})", 1) from None
    problem = names_problem(header, "the header")
    if problem:
        raise InputError(str(path), problem, 1)

    def read(table: Table, usecols: list[str]) -> None:
        table.sha256 = sha256
        wanted = {c.upper() for c in usecols}
        keep = [(i, h) for i, h in enumerate(header) if h in wanted]
        table.cells = {h: [] for _, h in keep}
        kept = [(i, table.cells[h].append) for i, h in keep]
        lines: list[int] = []
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
                if bare_cr:
                    cells = csv_cells(cells)
            except StopIteration:
                break
            except csv.Error as exc:
                table.count += 1
                table.malformed.append(Rejection(str(path), start, f"not valid CSV ({exc})"))
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            table.count += 1
            if len(cells) != len(header):
                table.malformed.append(Rejection(str(path), line, f"has {len(cells)} cells; the header "
                                                 f"has {len(header)}"))
                continue
            for i, append in kept:
                append(cells[i].strip())
            lines.append(line)
        table.lines = lines

    return header, read


def _hashed(path: Path) -> tuple[str, os.stat_result]:
    """The file's SHA-256, and its status as it was hashed (to see whether it changes afterwards)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(str(path), exc.strerror or "cannot be read") from None
    return digest.hexdigest(), status


def _changed(before: os.stat_result, path: Path) -> bool:
    try:
        now = path.stat()
    except OSError:
        return True
    return (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns)


class Study:
    """The domain files of the folders given, read on demand (only the columns the mapping uses)."""

    def __init__(self, mapping: Mapping, candidates: list[Path]):
        self.mapping = mapping
        self.candidates = candidates
        self.tables: dict[str, Table] = {}
        self.needs: dict[str, set[str]] = {}  # file -> the columns to read
        self.opened: dict[str, tuple[list[str], list[str], ReadInto]] = {}
        self.lookups: dict[int, dict[tuple, list[tuple[Table, int]]]] = {}

    def files(self, domain: str, patterns: tuple[str, ...] | None = None) -> list[Path]:
        found = [p for p in self.candidates if matches_domain(p, domain, patterns)]
        stems: dict[tuple[Path, str], Path] = {}
        for p in found:
            other = stems.setdefault((p.parent, p.stem.lower()), p)
            if other is not p:
                raise InputError(str(p), f"both {other.name} and {p.name} hold domain {p.stem.upper()}; keep one")
        return found

    def header(self, path: Path) -> list[str]:
        """The file's columns, upper case (the file is opened, not yet read)."""
        key = str(path)
        if key not in self.opened:
            opener = open_xpt if path.suffix.lower() == ".xpt" else open_csv
            columns, reader = opener(path, self.mapping.encodings)
            self.opened[key] = ([c.upper() for c in columns], columns, reader)
        return self.opened[key][0]

    def need(self, files: list[Path], column: str, by: Value | Entry | None, key: str) -> None:
        """Read `column` from those of `files` that have it; at least one must, unless it is optional.

        Split files of one domain may differ in columns: where a file lacks one, its rows read it empty.
        """
        having = [p for p in files if column in self.header(p)]
        optional = by is None or isinstance(by, Value) and (by.optional or by.fallback is not None)
        if files and not having and not optional:
            names = sorted({c for p in files for c in self.header(p)})
            hint = did_you_mean(column, names)
            shown = ", ".join(p.name for p in files)
            raise InputError(self.mapping.path, f"{key}: column {column} is not in {shown}"
                             + (f" ({hint})" if hint else ""), by.line if by is not None else None)
        for p in having:
            self.needs.setdefault(str(p), set()).add(column)

    def table(self, path: Path, domain: str) -> Table:
        key = str(path)
        if key not in self.tables:
            self.header(path)
            upper, columns, reader = self.opened[key]
            needed = self.needs.get(key, set())
            table = Table(key, domain, set(upper), self.mapping.digits)
            reader(table, [original for name, original in zip(upper, columns) if name in needed])
            table.status = [0] * table.size
            self.tables[key] = table
        return self.tables[key]


    def lookup(self, value: Value, subject: str | None, table: Table, i: int) -> list[tuple[Table, int]]:
        """The rows of the value's `from` domain for row `i` of `table`: the subject's, matched on `match`."""
        index = self.lookups.get(id(value))
        if index is None:
            index = self.lookups[id(value)] = {}
            assert value.lookup is not None
            for p in self.files(value.lookup):
                other = self.table(p, value.lookup)
                keyed = self.mapping.subject in other.columns
                chosen = value.where.select(other) if value.where is not None else range(other.size)
                for j in chosen:
                    key = (other.text(j, self.mapping.subject) if keyed else None,
                           *(other.text(j, c) for c in value.match))
                    index.setdefault(key, []).append((other, j))
        if not value.match:  # e.g. the subject's site in DM
            return index.get((subject,)) or (index.get((None,), []) if subject is not None else [])
        matched = tuple(table.text(i, c) for c in value.match.values())
        found = index.get((subject, *matched), [])
        if not found and subject is not None:
            found = index.get((None, *matched), [])
        return found
