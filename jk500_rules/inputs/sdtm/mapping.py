"""The mapping model: entries that turn one domain's rows into events, their filters and value sources."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import compress

from ...compiler.model import EventSpec
from .. import records
from .cells import cell_text
from .tables import Table

DEFAULT_ENCODINGS = ("utf-8", "cp1252")
LOG_COLUMNS = set(records.BASE_COLUMNS)

ENTRY_KEYS = ("domain", "files", "optional", "where", "where_any", "subject", "study", "site", "date", "fields",
              "group_by")
DEFAULT_KEYS = ("subject", "study", "site", "encoding", "digits")
VALUE_KEYS = ("column", "value", "from", "supp", "where", "match", "sum", "count", "min", "max", "map", "other",
              "ignore_case", "part", "scale", "missing")
AGGREGATES = ("sum", "count", "min", "max")
TEST_KINDS = ("equals", "one_of", "contains", "regex", "empty")
TEST_KEYS = (*TEST_KINDS, "ignore_case", "not")


@dataclass
class Test:
    """One column test of a filter; with several columns, any one of them passing is enough."""

    columns: tuple[str, ...]
    kind: str
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    ignore_case: bool = False
    negate: bool = False

    def __call__(self, row: dict[str, str]) -> bool:
        outcome = any(self._one(row.get(column, "")) for column in self.columns)
        return outcome != self.negate

    def select(self, table: Table, rows: list[int] | None) -> list[int] | None:
        """The rows (of `rows`, or all when None) that pass; None stays None when every row passes.

        A filter column holds few distinct values (a test code, a category) over many rows: each is
        judged once, and the rows are picked out without a Python loop over them.
        """
        if len(self.columns) != 1:
            return [i for i in (range(table.size) if rows is None else rows) if self(table.row(i))]
        values = table.cells.get(self.columns[0])
        if values is None:  # the file lacks the column: every row reads it empty
            return rows if self({}) else []
        cells = values if rows is None else list(map(values.__getitem__, rows))
        distinct = table.distinct(self.columns[0]) if rows is None else set(cells)
        passing = {cell for cell in distinct if self._one(cell_text(cell, table.digits)) != self.negate}
        return list(compress(range(len(values)) if rows is None else rows, map(passing.__contains__, cells)))

    def _one(self, text: str) -> bool:
        if self.kind == "empty":
            return (text == "") == (self.values[0] == "yes")
        if self.kind == "regex":
            assert self.pattern is not None
            return self.pattern.search(text) is not None
        if self.ignore_case:
            text = text.casefold()
        if self.kind == "contains":
            return any(v in text for v in self.values)
        return text in self.values  # equals, one_of


@dataclass
class Filter:
    every: list[Test] = field(default_factory=list)
    any_of: list[list[Test]] = field(default_factory=list)  # where_any: at least one table passes

    def __call__(self, row: dict[str, str]) -> bool:
        if not all(test(row) for test in self.every):
            return False
        return not self.any_of or any(all(test(row) for test in tests) for tests in self.any_of)

    def select(self, table: Table) -> Sequence[int]:
        """The indexes of the table's rows that pass, in file order."""
        rows: list[int] | None = None
        for test in self.every:
            rows = test.select(table, rows)
            if not rows and rows is not None:
                return []
        if self.any_of:
            chosen: set[int] = set()
            for tests in self.any_of:
                part = rows
                for test in tests:
                    part = test.select(table, part)
                if part is None:
                    return range(table.size) if rows is None else rows
                chosen.update(part)
            return sorted(chosen)
        return range(table.size) if rows is None else rows

    def columns(self) -> set[str]:
        return {c for test in self.every for c in test.columns} | {
            c for tests in self.any_of for test in tests for c in test.columns}


@dataclass
class Value:
    """Where one value of an event row (its date, study, site or a field) comes from."""

    key: str
    line: int | None
    column: str | None = None
    constant: str | None = None
    aggregate: str | None = None  # sum | count | min | max (of `column`, over a group's rows)
    lookup: str | None = None  # another domain: the value of `column` in its matching row
    where: Filter | None = None  # the rows of the group (or of the lookup domain) to read
    match: dict[str, str] = field(default_factory=dict)  # lookup column -> this row's column
    mapping: dict[str, str] | None = None
    other: str | None = None
    ignore_case: bool = False
    part: str | None = None  # date | time of an ISO 8601 datetime
    scale: Decimal | None = None
    missing: str = "empty"  # an aggregate over an empty value: empty, or skip it
    optional: bool = False  # a default study/site column: absent from a domain, the value is empty
    fallback: Value | None = None  # the default site: the subject's SITEID in DM when a domain lacks it


@dataclass
class Entry:
    """One `[[event.NAME]]` table: how rows of one domain become records of one event type."""

    event: EventSpec
    key: str
    line: int | None
    domain: str
    files: tuple[str, ...] | None
    optional: bool
    where: Filter
    subject: str
    study: Value
    site: Value
    date: Value
    fields: dict[str, Value]
    group_by: tuple[str, ...] | None

    def values(self) -> list[Value]:
        return [self.study, self.site, self.date, *self.fields.values()]


@dataclass
class Mapping:
    """A mapping file (docs/sdtm.md), checked: for each event type, the entries whose rows make its records.

    An entry names a domain, a filter on its rows, the column giving the date, and where each field's
    value comes from (a column, a constant, a value map, a value of another domain such as DM or a SUPP--
    qualifier, or an aggregate over a group of rows, e.g. a questionnaire total).
    """

    path: str
    subject: str
    encodings: tuple[str, ...]
    digits: int
    entries: list[Entry]
