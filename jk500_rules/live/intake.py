"""Rows and records into a live audit: validated, counted, and kept per subject in reading order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..compiler.model import CompiledProtocol
from ..inputs.records import IgnoredColumn, LogData, Record, Rejection
from ..inputs.validation import column_warnings, rejection, validate


@dataclass(frozen=True)
class Row:
    """A visit-log row not yet validated: where it was read, and its cells by column (or why it is no row)."""

    file: str
    line: int
    values: dict[str, object] | str


class Intake:
    """Every row and record a live audit took: the rejected ones, and the records by subject and the trial's."""

    def __init__(self, protocol: CompiledProtocol, time_zone: str | None, strict_columns: bool = False):
        self.protocol = protocol
        self.time_zone = time_zone
        self.strict_columns = strict_columns
        self.read = 0  # rows and records taken, rejected ones included
        self.rejections: list[Rejection] = []
        self.ignored: Counter = Counter()  # as LogData.ignored: values in columns their event type lacks
        self.by_subject: dict[str, list[Record]] = {}  # in reading order (file, then line), as a batch reads them
        self.trial: list[Record] = []
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}

    def take(self, items: Iterable[Record | Row], rejected: list[Rejection]) -> tuple[set[str], bool]:
        """Keep validated records and rows (validated here, a rejection also added to `rejected`).

        Returns the subjects whose records they touch, and whether a trial record came.
        """
        touched: set[str] = set()
        trial = False
        for item in items:
            self.read += 1
            record = item if isinstance(item, Record) else self._validate(item, rejected)
            if record is None:
                continue
            self._place(record.file)
            if record.subject is None:
                _insert(self.trial, record, self._file_index)
                trial = True
            else:
                _insert(self.by_subject.setdefault(record.subject, []), record, self._file_index)
                touched.add(record.subject)
        return touched, trial

    def rename(self, renames: dict[str, str]) -> tuple[set[str], bool]:
        """Files renamed while read (a log rotated): their records and rejections take the new names, in
        the same reading place. Returns the subjects whose records moved, and whether trial records did."""
        if not any(name in self._file_index for name in renames):
            return set(), False
        self._files = [renames.get(name, name) for name in self._files]
        self._file_index = {name: index for index, name in enumerate(self._files)}
        touched = {subject for subject, records in self.by_subject.items() if _rename(records, renames)}
        trial = _rename(self.trial, renames)
        _rename(self.rejections, renames)
        self.ignored = Counter({(renames.get(file, file), column, event): count
                                for (file, column, event), count in self.ignored.items()})
        return touched, trial

    def log_data(self) -> LogData:
        """What a batch audit of the same rows reads: the subjects' records (by subject), then the trial's."""
        subject_records = [r for subject in sorted(self.by_subject) for r in self.by_subject[subject]]
        return LogData(records=subject_records + self.trial, rejections=list(self.rejections), read=self.read,
                       files=list(self._files), ignored=Counter(self.ignored))

    def column_warnings(self) -> list[IgnoredColumn]:
        """One warning per file and column whose values were ignored so far (as a batch audit gives them)."""
        return column_warnings(self.ignored, self._files, self.protocol)

    def _validate(self, row: Row, rejected: list[Rejection]) -> Record | None:
        self._place(row.file)
        cells = None if isinstance(row.values, str) else row.values
        outcome = validate(cells, row.file, row.line, self.protocol, self.time_zone,
                           strict_columns=self.strict_columns, ignored=self.ignored) if cells is not None \
            else str(row.values)
        if isinstance(outcome, Record):
            return outcome
        refused = rejection(cells, row.file, row.line, outcome)
        self.rejections.append(refused)
        rejected.append(refused)
        return None

    def _place(self, file: str) -> None:
        if file not in self._file_index:
            self._file_index[file] = len(self._files)
            self._files.append(file)


def _insert(records: list[Record], record: Record, file_index: dict[str, int]) -> None:
    """Keep reading order (file, then line) whatever order records come in: ties among equal records follow it."""
    records.append(record)
    if len(records) > 1:
        last, previous = record, records[-2]
        if (file_index[last.file], last.line) < (file_index[previous.file], previous.line):
            records.sort(key=lambda r: (file_index[r.file], r.line))


def _rename(items: list[Record] | list[Rejection], renames: dict[str, str]) -> bool:
    """`items` with their files renamed, in place; whether any was."""
    if not any(item.file in renames for item in items):
        return False
    items[:] = [replace(item, file=renames[item.file]) if item.file in renames else item  # type: ignore[misc]
                for item in items]
    return True
