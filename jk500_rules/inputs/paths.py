"""Input paths compared as files, not as spellings: a file named twice, or by a symlink, is one file."""

from __future__ import annotations

import os
from pathlib import Path


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths reach one existing file or folder (through symlinks, `..`, hard links)."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet): it cannot be the other
        return os.path.realpath(first) == os.path.realpath(second)


def distinct_paths(paths: list[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """The paths with every repeat of an earlier one left out, and each repeat as (its index, the first's).

    Auditing a log twice would count each of its rows twice and report each finding twice over.
    """
    kept: list[tuple[int, str]] = []
    repeats: list[tuple[int, int]] = []
    for index, path in enumerate(paths):
        first = next((i for i, earlier in kept if same_file(path, earlier)), None)
        if first is None:
            kept.append((index, path))
        else:
            repeats.append((index, first))
    return [path for _, path in kept], repeats
