"""Reading a mapping file's TOML: line numbers of key paths, and typed reads that fail with file:line and key."""

from __future__ import annotations

import re
from typing import Any

from ...errors import InputError, did_you_mean

KeyPath = tuple[str | int, ...]


class KeyLocator:
    """Best-effort line numbers for key paths of a TOML file (tomllib keeps none)."""

    def __init__(self, source: str):
        self.lines = source.splitlines()

    def line(self, path: KeyPath) -> int | None:
        if not path:
            return None
        keys = [k for k in path if isinstance(k, str)]
        start, end = self._section(path)
        if start is None:
            return None
        found = start
        position = start
        # The keys below the section's own header: `fields.dose =`, `fields = { dose = ...`, `[...fields]`.
        own = 2 if path[0] == "event" else 1
        for key in keys[own:]:
            pattern = re.compile(r"(^|[\s{,.\[])" + re.escape(key) + r"\s*[=.\]]")
            for number in range(position, end + 1):
                text = self._code(number)
                if pattern.search(text):
                    found = position = number
                    break
            else:
                break
        return found

    def _code(self, number: int) -> str:
        text = self.lines[number - 1]
        return text.split("#", 1)[0] if '"' not in text and "'" not in text else text

    def _section(self, path: KeyPath) -> tuple[int | None, int]:
        """The 1-based first and last line of the table that `path` starts in."""
        if path[0] == "event" and len(path) >= 2:
            name = re.escape(str(path[1]))
            index = path[2] if len(path) >= 3 and isinstance(path[2], int) else 0
            own = re.compile(r"^\s*\[\[?\s*event\s*\.\s*[\"']?" + name + r"[\"']?\s*\]\]?")
            below = re.compile(r"^\s*\[\s*event\s*\.\s*[\"']?" + name + r"[\"']?\s*\.")
        else:
            own = re.compile(r"^\s*\[\[?\s*" + re.escape(str(path[0])) + r"\s*[\].]")
            below = re.compile(r"^\s*\[\s*" + re.escape(str(path[0])) + r"\s*\.")
            index = 0
        starts = [number for number, text in enumerate(self.lines, start=1) if own.match(text)]
        if not starts:
            # An inline or dotted table: the first line naming the key.
            token = re.compile(r"(^|[\s{,.\[])" + re.escape(str(path[1] if len(path) > 1 else path[0]))
                               + r"\s*[=.\]]")
            for number, text in enumerate(self.lines, start=1):
                if token.search(text):
                    return number, len(self.lines)
            return None, 0
        start = starts[min(index, len(starts) - 1)]
        end = len(self.lines)
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1]
            if re.match(r"^\s*\[", text) and not below.match(text):
                end = number - 1
                break
        return start, end


class MappingChecker:
    """Reads of the mapping's values by kind (text, column name, true/false); errors name the key and line."""

    def __init__(self, path: str, source: str):
        self.path = path
        self.locator = KeyLocator(source)

    def fail(self, path: KeyPath, message: str, hint: str | None = None) -> InputError:
        text = f"{key_name(path)}: {message}" if path else message
        if hint:
            text += f" ({hint})"
        return InputError(self.path, text, self.locator.line(path))

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], path: KeyPath) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail((*path, key), "unknown key",
                                did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}")

    def text(self, value: object, path: KeyPath, what: str = "a text") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be {what}, not {shown(value)}")
        return value.strip()

    def column(self, value: object, path: KeyPath) -> str:
        name = self.text(value, path, "a column name")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(path, f"'{name}' is not a column name")
        return name.upper()

    def columns(self, value: object, path: KeyPath) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"must be a list of column names, not {shown(value)}")
        return tuple(self.column(v, (*path, i)) for i, v in enumerate(value))

    def boolean(self, value: object, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {shown(value)}")
        return value


def key_name(path: KeyPath) -> str:
    """A key path as errors show it: event.dose[0].fields.amount."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def shown(value: object) -> str:
    """A TOML value as errors name it: 'text' quoted, a table, a list, true."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
