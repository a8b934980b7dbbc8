"""The benchmark log's rows, formatted as CSV lines as they come and written in (date, subject) order.

The log is never held in memory: rows are sorted in chunks of CHUNK_ROWS, spilled to temporary run
files and merged (an external merge sort, stable, so the output is byte for byte what sorting every row
in memory gave).
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import io
import os
from collections import Counter
from operator import itemgetter
from pathlib import Path

# Rows sorted in memory at a time; a larger log is sorted in runs of this many rows and merged
# (about 60 MB of Python objects per run).
CHUNK_ROWS = 200_000


class SortedRows:
    """Formats each row as a CSV line as it is added and keeps at most `chunk_rows` of them.

    A full buffer is sorted by (date, subject) and spilled to a run file; `write` merges the runs.
    Sorting is stable and runs are merged earliest first, so rows with the same date and subject keep
    the order they were added in: the file is the one a single in-memory sort would give.
    """

    def __init__(self, study: str, cols: list[str], run_dir: Path, chunk_rows: int = CHUNK_ROWS):
        self.study = study
        self.index = {c: i for i, c in enumerate(cols)}
        self.width = len(cols)
        self.header = _line(list(cols), self.width)
        self.buffer: list[tuple[str, str, str]] = []  # (date, subject, line)
        self.events: Counter = Counter()
        self.rows = 0
        self.chunk_rows = max(1, chunk_rows)
        self.run_dir = run_dir
        self.runs: list[Path] = []

    def add(self, site: str, subject: str, date: dt.date, event: str, **values: object) -> None:
        row = [""] * self.width
        iso = date.isoformat()
        row[0], row[1], row[2], row[3], row[4] = self.study, site, subject, iso, event
        for name, value in values.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            row[self.index[name]] = str(value)
        self.rows += 1
        self.buffer.append((iso, subject, _line(row, self.width)))
        self.events[event] += 1
        if len(self.buffer) >= self.chunk_rows:
            self._spill()

    def _spill(self) -> None:
        self.buffer.sort(key=_BY_DATE_SUBJECT)
        path = self.run_dir / f"run{len(self.runs):05d}.txt"
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.writelines(entry[2] + "\n" for entry in self.buffer)
        self.runs.append(path)
        self.buffer = []

    def write(self, path: Path) -> int:
        """Write the header and every row in (date, subject, order added) order; return the runs merged."""
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            out.write(self.header + "\n")
            if not self.runs:
                self.buffer.sort(key=_BY_DATE_SUBJECT)
                out.writelines(entry[2] + "\n" for entry in self.buffer)
            else:
                if self.buffer:
                    self._spill()
                files = [run.open(encoding="utf-8", newline="", buffering=1 << 18) for run in self.runs]
                try:
                    # heapq.merge yields equal keys from the earlier run first: stable across runs.
                    out.writelines(heapq.merge(*files, key=_line_key))
                finally:
                    for fh in files:
                        fh.close()
        os.replace(tmp, path)
        return max(1, len(self.runs))


_BY_DATE_SUBJECT = itemgetter(0, 1)


def _line_key(line: str) -> tuple[str, str]:
    """(date, subject) of a formatted row: study, site and subject never hold a comma or a quote."""
    _, _, subject, date, _ = line.split(",", 4)
    return date, subject


def _line(row: list[str], width: int) -> str:
    """The row as csv.writer (QUOTE_MINIMAL, no line terminator) writes it; plain join when nothing needs quoting."""
    line = ",".join(row)
    if "\n" in line or "\r" in line:  # runs are spilled one line per row
        raise ValueError(f"generated value with a line break: {row}")
    if line.count(",") == width - 1 and '"' not in line:
        return line
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()[:-1]
