"""A domain file read into columns of cells, with the accounting status of each of its rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import Rejection
from .cells import DEFAULT_DIGITS, cell_text, render_number

MAPPED, REJECTED = 1, 2  # values of Table.status; 0 is a row no entry has taken (yet)


@dataclass
class Table:
    """One domain file, read: the columns the mapping uses, each a list of cells, one per row.

    Cells stay as the reader gave them (an XPT number is a float) until a row is used: most rows of a
    big domain such as LB are only looked at through its filter columns, once per distinct value.
    """

    path: str
    domain: str
    columns: set[str]  # every column of the file
    digits: int = DEFAULT_DIGITS
    cells: dict[str, list[Any]] = field(default_factory=dict)  # upper-case column name -> its cells
    lines: Sequence[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    count: int = 0  # rows in the file, malformed ones included
    malformed: list[Rejection] = field(default_factory=list)  # CSV rows rejected as read
    numbers: dict[float, str] = field(default_factory=dict)  # XPT numbers already rendered as text
    distincts: dict[str, set[Any]] = field(default_factory=dict)
    sha256: str = ""  # of the bytes the rows were read from

    @property
    def size(self) -> int:
        """The rows read (a CSV file's malformed rows are not)."""
        return len(self.lines)

    def text(self, i: int, column: str) -> str:
        """Row `i`'s cell as text; empty where the file lacks the column (split domains may differ)."""
        values = self.cells.get(column)
        if values is None:
            return ""
        cell = values[i]
        return cell.strip() if type(cell) is str else self._render(cell)

    def texts(self, rows: list[int], column: str) -> list[str]:
        """`text` of each of `rows`, in one pass: a questionnaire's items, a group's dates."""
        values = self.cells.get(column)
        if values is None:
            return [""] * len(rows)
        return [cell.strip() if type(cell) is str else self._render(cell) for cell in map(values.__getitem__, rows)]

    def _render(self, cell: object) -> str:
        if type(cell) is float:  # a few distinct numbers (visit numbers, scores) over many rows
            text = self.numbers.get(cell)
            if text is None:
                text = self.numbers[cell] = render_number(cell, self.digits)
            return text
        return cell_text(cell, self.digits)

    def row(self, i: int) -> dict[str, str]:
        return {column: self.text(i, column) for column in self.cells}

    def distinct(self, column: str) -> set[Any]:
        """A column's distinct cells; several entries may filter one domain on the same column."""
        found = self.distincts.get(column)
        if found is None:
            found = self.distincts[column] = set(self.cells[column])
        return found
