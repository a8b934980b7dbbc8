"""Rows grouped by subject: in memory up to a budget of rows, sorted externally beyond it.

An audit judges each subject from their own rows alone, so the input is regrouped by subject before
anything is validated. Past `rows_in_memory` rows, the groups held so far are sorted and written to a
temporary run file, and the runs are merged back in subject order: memory then holds one block per
run and the subject being judged, not the whole input.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

ROWS_IN_MEMORY = 250_000
_BLOCK_ROWS = 4_000  # rows per pickled block of a run file: what the merge holds per run

Group = tuple[str, list[Any]]  # (subject key, that subject's rows in reading order)


class SubjectRows:
    """Rows by subject key; `groups()` yields them in key order, as often as asked. Use as a context manager."""

    def __init__(self, rows_in_memory: int = ROWS_IN_MEMORY):
        if rows_in_memory < 1:
            raise ValueError("rows_in_memory must be at least 1")
        self.rows_in_memory = rows_in_memory
        self.rows = 0
        self._held: dict[str, list[Any]] = defaultdict(list)
        self._held_rows = 0
        self._runs: list[Path] = []
        self._keys: set[str] = set()
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> SubjectRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def spilled(self) -> bool:
        return bool(self._runs)

    @property
    def keys(self) -> int:
        """How many distinct subject keys were added."""
        return len(self._keys)

    def add(self, key: str, row: Any) -> None:
        if key not in self._held:
            self._keys.add(key)
        self._held[key].append(row)
        self.rows += 1
        self._held_rows += 1
        if self._held_rows >= self.rows_in_memory:
            self._spill()

    def groups(self) -> Iterator[Group]:
        if not self._runs:
            for key in sorted(self._held):
                yield key, self._held[key]
            return
        if self._held:
            self._spill()
        merged = heapq.merge(*(self._read_run(path) for path in self._runs), key=itemgetter(0))
        current: Group | None = None
        for key, rows in merged:  # equal keys come run by run, so rows stay in reading order
            if current is not None and current[0] == key:
                current[1].extend(rows)
                continue
            if current is not None:
                yield current
            current = (key, list(rows))
        if current is not None:
            yield current

    def close(self) -> None:
        self._held.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
            self._runs.clear()

    def _spill(self) -> None:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="jk500-rows-")
        path = Path(self._folder.name) / f"run{len(self._runs):05d}.pickle"
        with path.open("wb") as handle:
            block: list[Group] = []
            size = 0
            for key in sorted(self._held):
                rows = self._held[key]
                block.append((key, rows))
                size += len(rows)
                if size >= _BLOCK_ROWS:
                    pickle.dump(block, handle, protocol=pickle.HIGHEST_PROTOCOL)
                    block, size = [], 0
            if block:
                pickle.dump(block, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._runs.append(path)
        self._held = defaultdict(list)
        self._held_rows = 0

    @staticmethod
    def _read_run(path: Path) -> Iterator[Group]:
        with path.open("rb") as handle:
            while True:
                try:
                    block = pickle.load(handle)
                except EOFError:
                    return
                yield from block


def chunks(groups: Iterator[Group], rows_per_chunk: int) -> Iterator[list[Group]]:
    """Consecutive subjects, a chunk closing once it holds `rows_per_chunk` rows: the unit of work."""
    chunk: list[Group] = []
    size = 0
    for group in groups:
        chunk.append(group)
        size += len(group[1])
        if size >= rows_per_chunk:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
