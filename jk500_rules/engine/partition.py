"""Rows grouped by subject: in memory up to a budget of rows, sorted externally beyond it.

An audit judges each subject from their own rows alone, so the input is regrouped by subject before
anything is validated. Past `rows_in_memory` rows, the groups held so far are sorted and written to a
temporary run file, and the runs are merged back in subject order: memory then holds one block per
run and the subject being judged, not the whole input. At most FAN_IN run files are open at once:
more runs are first merged FAN_IN at a time into longer ones, in passes, since a process may open
only so many files (256 on some systems). Every temporary file goes when the rows are closed, however
the audit ends.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import pickle
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

ROWS_IN_MEMORY = 250_000
_BLOCK_ROWS = 4_000  # rows per pickled block of a run file: what the merge holds per run
FAN_IN = 64  # run files open at once: the audit's other files and the workers' pipes need the rest

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
        self._runs: list[Path] = []  # in the order they were written: equal keys merge in that order
        self._keys: set[str] = set()
        self._folder: Path | None = None
        self._made = 0  # run files made so far, for their names
        self._files: set[Path] = set()  # every temporary file not yet removed, complete or not
        self._cleanup: weakref.finalize | None = None

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
        """Closed early (or failing), it closes every run file it opened: the files stay until close()."""
        if not self._runs:
            for key in sorted(self._held):
                yield key, self._held[key]
            return
        if self._held:
            self._spill()
        while len(self._runs) > FAN_IN:
            self._merge_pass()
        with contextlib.ExitStack() as opened:
            handles = [opened.enter_context(path.open("rb")) for path in self._runs]
            yield from _joined(heapq.merge(*(_read_run(handle) for handle in handles), key=itemgetter(0)))

    def close(self) -> None:
        """Removes every temporary file, by name: no file descriptor is needed, even when none is left."""
        self._held.clear()
        self._runs.clear()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None
            self._folder = None

    def _new_run(self) -> Path:
        """A name for the next run file, counted before the file exists so close() removes it, however partial."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="jk500-rows-"))
            # Also when the rows are dropped unclosed, or at interpreter exit.
            self._cleanup = weakref.finalize(self, _remove, self._files, self._folder)
        path = self._folder / f"run{self._made:05d}.pickle"
        self._made += 1
        self._files.add(path)
        return path

    def _spill(self) -> None:
        path = self._new_run()
        _write_run(path, ((key, self._held[key]) for key in sorted(self._held)))
        self._runs.append(path)
        self._held = defaultdict(list)
        self._held_rows = 0

    def _merge_pass(self) -> None:
        """Merges the runs FAN_IN at a time, each batch into one run in its place, so that order holds.

        `_runs` names the complete runs at every step: a pass that fails leaves nothing half-counted.
        """
        merged: list[Path] = []
        remaining = list(self._runs)
        while remaining:
            batch, remaining = remaining[:FAN_IN], remaining[FAN_IN:]
            if len(batch) == 1:
                merged.append(batch[0])
                continue
            path = self._new_run()
            with contextlib.ExitStack() as opened:
                handles = [opened.enter_context(run.open("rb")) for run in batch]
                _write_run(path, _joined(heapq.merge(*(_read_run(h) for h in handles), key=itemgetter(0))))
            merged.append(path)
            self._runs = merged + remaining
            for run in batch:
                run.unlink()
                self._files.discard(run)


def _write_run(path: Path, groups: Iterable[Group]) -> None:
    """Groups in key order, pickled in blocks of about _BLOCK_ROWS rows."""
    with path.open("wb") as handle:
        for block in chunks(iter(groups), _BLOCK_ROWS):
            pickle.dump(block, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _read_run(handle: IO[bytes]) -> Iterator[Group]:
    while True:
        try:
            block = pickle.load(handle)
        except EOFError:
            return
        yield from block


def _joined(merged: Iterable[Group]) -> Iterator[Group]:
    """One group per key: equal keys come run by run, so rows stay in reading order."""
    current: Group | None = None
    for key, rows in merged:
        if current is not None and current[0] == key:
            current[1].extend(rows)
            continue
        if current is not None:
            yield current
        current = (key, list(rows))
    if current is not None:
        yield current


def _remove(files: set[Path], folder: Path) -> None:
    for path in sorted(files):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    files.clear()
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(folder)


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
