"""What reading data in yields: a validated Record, a Rejection with its reason, and LogData holding them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

BASE_COLUMNS = ("study", "site", "subject", "date", "event")  # a record's own columns; the rest are its fields


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
    # The last day a partial date can be, for the record's date ("date") and date fields, and the last second
    # (dates.instant) a date-time given as a day can be; absent when exact.
    upper: dict[str, dt.date | int] = field(default_factory=dict)

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
    """A row that is no record, and why; its subject and date as written, where they can be read, so that a
    monitor can tell whose data it was without opening the log."""

    file: str
    line: int
    reason: str
    subject: str | None = None
    date: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class IgnoredColumn:
    """A visit-log column that the event type of some of its rows does not declare: in those rows its
    non-empty values were ignored and the rows audited without it (unless columns are strict)."""

    file: str
    column: str
    events: tuple[str, ...]  # the event types of the rows whose values were ignored
    values: int  # non-empty values ignored, over the whole file
    hint: str | None = None  # a declared field the column may be a typo of

    @property
    def message(self) -> str:
        counted = f"{self.values} non-empty value{'s' if self.values != 1 else ''}"
        hint = f" ({self.hint})" if self.hint else ""
        return (f"{self.file}: column '{self.column}' is not a field of {', '.join(self.events)}{hint}; "
                f"{counted} ignored, the rows audited without it")


@dataclass
class LogData:
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    read: int = 0
    files: list[str] = field(default_factory=list)
    # Per file read: the SHA-256 of the bytes read, hashed as they were read (provenance names exactly these).
    hashes: dict[str, str] = field(default_factory=dict)
    # Per source table (an SDTM domain file): rows read, turned into records, left unmapped, rejected.
    sources: list[dict[str, object]] = field(default_factory=list)
    # (file, column, event type) -> non-empty values of a column the event type does not declare, ignored in
    # rows that became records (validation.column_warnings makes them one warning per file and column).
    ignored: Counter = field(default_factory=Counter)
