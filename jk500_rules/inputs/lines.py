"""Where a line of a text input ends: one policy for the batch readers and `watch`, so line numbers agree.

`\\n` and `\\r\\n` end a line. A file with no `\\n` at all (an old Mac export) ends its lines with `\\r`.
Otherwise a bare `\\r` is text, part of its cell, quoted or not (Python's own csv writer leaves it
unquoted with `lineterminator="\\n"`): splitting there, as universal newlines do, cut such a row in two
and put every later `file:line` one off. Line numbers count these line ends, and nothing else (not
`\\v`, `\\f`, `\\x1c`-`\\x1e`, NEL or U+2028, which `str.splitlines` takes). The csv module takes any `\\r`
outside quotes for a line end, so `csv_line` hides a bare one from it and `csv_cells` puts it back.
"""

from __future__ import annotations

from pathlib import Path

LF, CR = "\n", "\r"
HIDDEN = "\x00"  # a bare \r while csv reads the row: a row holding a NUL of its own is rejected anyway
BLOCK = 1 << 20  # bytes read at a time when a file is scanned for its line end


def line_end(sample: bytes | str, complete: bool = True) -> str | None:
    """The line end of a file beginning with `sample`: `\\n` once it holds one, `\\r` when it holds none.

    For a file still being written (`complete` false) the answer waits (None) until it is certain: no
    line end yet, or a `\\r` as the last character, which may be the first half of a `\\r\\n`.
    """
    lf, cr = (LF, CR) if isinstance(sample, str) else (b"\n", b"\r")
    if lf in sample:  # type: ignore[operator]
        return LF
    position = sample.find(cr)  # type: ignore[arg-type]
    if position >= 0 and (complete or position < len(sample) - 1):
        return CR
    return LF if complete else None


def file_line_end(path: str | Path) -> str:
    """The line end of a whole file, scanned up to its first `\\n` (the first block, for most files)."""
    seen_cr = False
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            if b"\n" in block:
                return LF
            seen_cr = seen_cr or b"\r" in block
    return CR if seen_cr else LF


def split_lines(text: str) -> list[str]:
    """A whole text's lines, each with its line end (`str.splitlines(keepends=True)` under this policy)."""
    end = line_end(text)
    assert end is not None
    parts = text.split(end)
    lines = [part + end for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def csv_line(text: str) -> str:
    """A row's text (one line or more) as the csv module is to read it: each `\\r` that ends no line hidden.

    The text ends with its line end: `\\r\\n`, `\\n`, or in a file without `\\n`, `\\r`. Unchanged (the
    same object) when there is nothing to hide, as in every row of most files.
    """
    at = text.find(CR)
    if at < 0 or (at == len(text) - 2 and text.endswith(LF)) or (at == len(text) - 1 and LF not in text):
        return text
    if text.endswith(LF):
        cut = len(text) - (2 if text.endswith("\r\n") else 1)
    else:
        cut = len(text) - (1 if text.endswith(CR) else 0)
    return text[:cut].replace(CR, HIDDEN) + text[cut:]


def csv_cells(cells: list[str]) -> list[str]:
    """Cells read from a `csv_line` that hid something, with their `\\r`s back."""
    return [cell.replace(HIDDEN, CR) for cell in cells]
