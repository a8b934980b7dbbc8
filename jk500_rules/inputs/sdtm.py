"""SDTM domains (SAS XPORT `.xpt` or `.csv`) -> the protocol's events, through a TOML mapping.

A mapping (docs/sdtm.md) says, for each event type of the protocol, which domain's rows become its
records: a filter on the rows, the column giving the date, and where each field's value comes from (a
column, a constant, a value map, a value of another domain such as DM or a SUPP-- qualifier, or an
aggregate over a group of rows, e.g. a questionnaire total). Each event so made is a row like a visit
log's and is validated exactly as visit-log rows are (`records.validate`): it becomes a record or a
rejection at the domain file and row.

Accounting: every row of every domain file read is counted once, in `LogData.sources`, as mapped (it
made a record, or gave a value to one), not mapped (no entry of the mapping took it) or rejected (an
event made from it was rejected; this wins over mapped). `LogData.read` counts the events made (records
+ rejections) plus the rows of ordinary visit logs, so that the audit's read = audited + not used +
rejected still holds. An XPT row's "line" is its row number (1 = the first observation); a CSV domain
row's is its line in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import math
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import compress
from pathlib import Path
from typing import Any

from . import records
from ..compiler.model import CompiledProtocol, EventSpec
from ..errors import InputError, did_you_mean
from .records import LogData, Record, Rejection

DEFAULT_ENCODINGS = ("utf-8", "cp1252")
DEFAULT_DIGITS = 10
LOG_COLUMNS = set(records.BASE_COLUMNS)

ENTRY_KEYS = ("domain", "files", "optional", "where", "where_any", "subject", "study", "site", "date", "fields",
              "group_by")
DEFAULT_KEYS = ("subject", "study", "site", "encoding", "digits")
VALUE_KEYS = ("column", "value", "from", "supp", "where", "match", "sum", "count", "min", "max", "map", "other",
              "ignore_case", "part", "scale", "missing")
AGGREGATES = ("sum", "count", "min", "max")
TEST_KINDS = ("equals", "one_of", "contains", "regex", "empty")
TEST_KEYS = (*TEST_KINDS, "ignore_case", "not")
SUFFIXES = (".xpt", ".csv")

MAPPED, REJECTED = 1, 2


# ----- rendering numbers -------------------------------------------------------------------------


def render_number(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """A number read from an XPT file as text, without binary noise: 6.1999999999999993 -> '6.2'.

    XPT numbers are floating point. They are rounded to `digits` significant digits (default 10, far
    more than any measurement carries, far fewer than the 15-17 where float noise shows), then written
    without an exponent and without trailing zeros: 1e6 -> '1000000', 0.0820 -> '0.082'. NaN -> ''.
    """
    if math.isnan(value) or math.isinf(value):
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(format(value, f".{digits}g")).normalize(), "f")
    return "0" if text == "-0" else text


def _decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0E+0") else text


def _cell(value: object, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return render_number(value, digits)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 and not value.microsecond else "seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _toml_text(value: object) -> str:
    """A constant of the mapping file as text: numbers as written, booleans as yes/no, dates ISO."""
    if isinstance(value, float):
        return render_number(value)
    return _cell(value, DEFAULT_DIGITS)


# ----- the mapping -------------------------------------------------------------------------------


Path_ = tuple[str | int, ...]


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
        passing = {cell for cell in distinct if self._one(_cell(cell, table.digits)) != self.negate}
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
    path: str
    subject: str
    encodings: tuple[str, ...]
    digits: int
    entries: list[Entry]


class _Locator:
    """Best-effort line numbers for key paths of a TOML file (tomllib keeps none)."""

    def __init__(self, source: str):
        self.lines = source.splitlines()

    def line(self, path: Path_) -> int | None:
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

    def _section(self, path: Path_) -> tuple[int | None, int]:
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


class _Parser:
    def __init__(self, path: str, source: str, protocol: CompiledProtocol):
        self.path = path
        self.locator = _Locator(source)
        self.protocol = protocol

    # -- errors --
    def fail(self, path: Path_, message: str, hint: str | None = None) -> InputError:
        text = f"{_key(path)}: {message}" if path else message
        if hint:
            text += f" ({hint})"
        return InputError(self.path, text, self.locator.line(path))

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], path: Path_) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail((*path, key), "unknown key",
                                did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}")

    def text(self, value: object, path: Path_, what: str = "a text") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be {what}, not {_shown(value)}")
        return value.strip()

    def column(self, value: object, path: Path_) -> str:
        name = self.text(value, path, "a column name")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise self.fail(path, f"'{name}' is not a column name")
        return name.upper()

    def columns(self, value: object, path: Path_) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"must be a list of column names, not {_shown(value)}")
        return tuple(self.column(v, (*path, i)) for i, v in enumerate(value))

    def boolean(self, value: object, path: Path_) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {_shown(value)}")
        return value

    # -- the file --
    def mapping(self, document: dict[str, Any]) -> Mapping:
        self.keys(document, ("defaults", "event"), ())
        defaults = document.get("defaults", {})
        if not isinstance(defaults, dict):
            raise self.fail(("defaults",), "must be a table ([defaults])")
        self.keys(defaults, DEFAULT_KEYS, ("defaults",))
        subject = self.column(defaults.get("subject", "USUBJID"), ("defaults", "subject"))
        encodings = defaults.get("encoding", list(DEFAULT_ENCODINGS))
        if isinstance(encodings, str):
            encodings = [encodings]
        if not isinstance(encodings, list) or not encodings or not all(isinstance(e, str) for e in encodings):
            raise self.fail(("defaults", "encoding"), "must be an encoding name or a list of them")
        for i, name in enumerate(encodings):
            try:
                "".encode(name)
            except LookupError:
                raise self.fail(("defaults", "encoding", i), f"unknown encoding '{name}'") from None
        digits = defaults.get("digits", DEFAULT_DIGITS)
        if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 17:
            raise self.fail(("defaults", "digits"), f"must be a whole number from 1 to 17, not {_shown(digits)}")
        # A default study or site given as a column name is read where a domain has that column; a
        # domain without the site column takes the subject's site from DM.
        study = self.value(defaults.get("study", "STUDYID"), ("defaults", "study"), grouped=False)
        if study.column is not None and study.lookup is None and study.constant is None:
            study.optional = True
        site = self.value(defaults.get("site", "SITEID"), ("defaults", "site"), grouped=False)
        if site.column is not None and site.lookup is None and site.aggregate is None:
            site.optional = True
            site.fallback = Value(site.key, site.line, column=site.column, lookup="DM", optional=True)
        events = document.get("event")
        if not isinstance(events, dict) or not events:
            raise self.fail((), "the mapping maps no event type; add an [[event.NAME]] table")
        entries: list[Entry] = []
        for name, tables in events.items():
            event = self.event(name)
            if isinstance(tables, dict):
                entries.append(self.entry(event, tables, ("event", name), subject, study, site))
            elif isinstance(tables, list) and all(isinstance(t, dict) for t in tables):
                for index, table in enumerate(tables):
                    entries.append(self.entry(event, table, ("event", name, index), subject, study, site))
            else:
                raise self.fail(("event", name), "must be a table: write [[event.NAME]] above its keys")
        return Mapping(self.path, subject, tuple(encodings), digits, entries)

    def event(self, name: str) -> EventSpec:
        if name in self.protocol.groups:
            raise self.fail(("event", name), f"'{name}' names a group of event types; map each of "
                            f"{', '.join(self.protocol.groups[name])}")
        event = self.protocol.events.get(name)
        if event is None:
            raise self.fail(("event", name), f"unknown event type '{name}'",
                            did_you_mean(name, self.protocol.events.keys()))
        return event

    def entry(self, event: EventSpec, table: dict[str, Any], path: Path_, subject: str, study: Value,
              site: Value) -> Entry:
        self.keys(table, ENTRY_KEYS, path)
        for key in ("domain", "date"):
            if key not in table:
                raise self.fail(path, f"no '{key}': say which " + (
                    "domain's rows make the event" if key == "domain" else "column gives the event's date"))
        domain = self.text(table["domain"], (*path, "domain"), "a domain code such as \"EX\"").upper()
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,7}", domain):
            raise self.fail((*path, "domain"), f"'{domain}' is not a domain code (2 to 8 letters, e.g. EX)")
        files = None
        if "files" in table:
            raw = table["files"]
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list) or not raw or not all(isinstance(p, str) and p for p in raw):
                raise self.fail((*path, "files"), "must be a file name pattern or a list of them (e.g. \"lb*.xpt\")")
            outside = next((p for p in raw if "/" in p or "\\" in p or p.startswith("..")), None)
            if outside is not None:
                raise self.fail((*path, "files"), f"'{outside}' is not a file name: the files of a domain are "
                                                  "found in the folders given to the audit (e.g. \"lb*.xpt\")")
            files = tuple(p.lower() for p in raw)
        group_by = self.columns(table["group_by"], (*path, "group_by")) if "group_by" in table else None
        grouped = group_by is not None
        where = self.filter(table.get("where", {}), table.get("where_any"), path)
        subject_column = self.column(table["subject"], (*path, "subject")) if "subject" in table else subject
        entry_study = self.value(table["study"], (*path, "study"), grouped) if "study" in table else study
        entry_site = self.value(table["site"], (*path, "site"), grouped) if "site" in table else site
        date = self.value(table["date"], (*path, "date"), grouped, domain)
        fields_table = table.get("fields", {})
        if not isinstance(fields_table, dict):
            raise self.fail((*path, "fields"), "must be a table of field = value source")
        fields: dict[str, Value] = {}
        for name, spec in fields_table.items():
            fpath = (*path, "fields", name)
            if name in LOG_COLUMNS:
                raise self.fail(fpath, f"'{name}' is not a field: an entry gives it with its own '{name}' key"
                                if name != "event" else "'event' is not a field: the table's name is the event type")
            if name not in event.fields:
                hint = did_you_mean(name, event.fields.keys()) or (
                    f"its fields are {', '.join(event.fields)}" if event.fields else f"{event.name} has no fields")
                raise self.fail(fpath, f"{event.name} has no field '{name}'", hint)
            fields[name] = self.value(spec, fpath, grouped, domain)
        missing = [f.name for f in event.fields.values() if f.required and f.name not in fields]
        if missing:
            raise self.fail(path, f"{event.name} requires field{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; map {'them' if len(missing) > 1 else 'it'} under 'fields'")
        return Entry(event, _key(path), self.locator.line(path), domain, files,
                     self.boolean(table.get("optional", False), (*path, "optional")), where, subject_column,
                     entry_study, entry_site, date, fields, group_by)

    def filter(self, where: object, where_any: object, path: Path_) -> Filter:
        result = Filter(self.tests(where, (*path, "where")))
        if where_any is not None:
            if not isinstance(where_any, list) or not where_any:
                raise self.fail((*path, "where_any"), "must be a list of filter tables, one of which a row passes")
            result.any_of = [self.tests(t, (*path, "where_any", i)) for i, t in enumerate(where_any)]
        return result

    def tests(self, where: object, path: Path_) -> list[Test]:
        if not isinstance(where, dict):
            raise self.fail(path, f"must be a table of COLUMN = condition, not {_shown(where)}")
        return [self.test(column, spec, (*path, column)) for column, spec in where.items()]

    def test(self, column: str, spec: object, path: Path_) -> Test:
        columns = (self.column(column, path),)
        if isinstance(spec, list):
            spec = {"one_of": spec}
        elif not isinstance(spec, dict):
            spec = {"equals": spec}
        self.keys(spec, TEST_KEYS, path)
        kinds = [k for k in TEST_KINDS if k in spec]
        if len(kinds) != 1:
            raise self.fail(path, "a condition needs exactly one of " + ", ".join(TEST_KINDS)
                            + (f"; it has {', '.join(kinds)}" if kinds else ""))
        kind = kinds[0]
        ignore_case = self.boolean(spec.get("ignore_case", False), (*path, "ignore_case"))
        negate = self.boolean(spec.get("not", False), (*path, "not"))
        raw = spec[kind]
        if kind == "empty":
            return Test(columns, kind, ("yes" if self.boolean(raw, (*path, kind)) else "no",), negate=negate)
        if kind == "regex":
            text = raw if isinstance(raw, str) else None
            if text is None:
                raise self.fail((*path, kind), f"must be a regular expression in quotes, not {_shown(raw)}")
            try:
                pattern = re.compile(text, re.IGNORECASE if ignore_case else 0)
            except re.error as exc:
                raise self.fail((*path, kind), f"not a valid regular expression ({exc})") from None
            return Test(columns, kind, pattern=pattern, ignore_case=ignore_case, negate=negate)
        items = raw if isinstance(raw, list) else [raw]
        if kind == "equals" and isinstance(raw, list) or not items or any(isinstance(v, (dict, list)) for v in items):
            raise self.fail((*path, kind), f"must be {'a value' if kind == 'equals' else 'a value or a list of values'}"
                            f", not {_shown(raw)}")
        values = tuple(_toml_text(v) for v in items)
        if ignore_case:
            values = tuple(v.casefold() for v in values)
        return Test(columns, kind, values, ignore_case=ignore_case, negate=negate)

    def value(self, spec: object, path: Path_, grouped: bool, domain: str | None = None) -> Value:
        key, line = _key(path), self.locator.line(path)
        if isinstance(spec, str):
            return Value(key, line, column=self.column(spec, path))
        if not isinstance(spec, dict):
            raise self.fail(path, f"must be a column name or a table such as {{ column = \"X\" }}, not {_shown(spec)}")
        self.keys(spec, VALUE_KEYS, path)
        value = Value(key, line)
        sources = [k for k in ("column", "value", *AGGREGATES, "supp") if k in spec]
        if len(sources) != 1:
            raise self.fail(path, "say where the value comes from with exactly one of column, value, supp, "
                            + ", ".join(AGGREGATES) + (f"; it has {', '.join(sources)}" if sources else ""))
        source = sources[0]
        if source == "value":
            if isinstance(spec["value"], (dict, list)):
                raise self.fail((*path, "value"),
                                f"must be a text, number, date or true/false, not {_shown(spec['value'])}")
            value.constant = _toml_text(spec["value"])
        elif source == "supp":
            if domain is None:
                raise self.fail((*path, "supp"), "a supplemental qualifier belongs to an entry's domain")
            qnam = self.text(spec["supp"], (*path, "supp"), "a QNAM").upper()
            value.lookup, value.column = f"SUPP{domain}", "QVAL"
            tests = [Test(("QNAM",), "equals", (qnam,)), Test(("RDOMAIN",), "equals", (domain,))]
            if domain != "DM":
                tests.append(Test(("IDVAR",), "equals", (f"{domain}SEQ",)))
                value.match = {"IDVARVAL": f"{domain}SEQ"}
            value.where = Filter(tests)
        elif source in AGGREGATES:
            if not grouped:
                raise self.fail((*path, source), f"'{source}' adds up a group's rows; give the entry a group_by")
            value.aggregate, value.column = source, self.column(spec[source], (*path, source))
        else:
            value.column = self.column(spec["column"], (*path, "column"))
        if "from" in spec:
            if source != "column":
                raise self.fail((*path, "from"), "'from' reads a column of another domain: use it with 'column'")
            value.lookup = self.text(spec["from"], (*path, "from"), "a domain code such as \"DM\"").upper()
        if "match" in spec:
            if value.lookup is None or source == "supp":
                raise self.fail((*path, "match"), "'match' pairs the columns of a 'from' domain with this row's")
            match = spec["match"]
            if not isinstance(match, dict) or not match:
                raise self.fail((*path, "match"), "must be a table of FROM_COLUMN = \"THIS_COLUMN\"")
            value.match = {self.column(k, (*path, "match", k)): self.column(v, (*path, "match", k))
                           for k, v in match.items()}
        if "where" in spec:
            if source == "supp" or not (value.lookup or grouped):
                raise self.fail((*path, "where"), "a value's own filter picks rows of a group (group_by) or of a "
                                "'from' domain")
            value.where = Filter(self.tests(spec["where"], (*path, "where")))
        value.ignore_case = self.boolean(spec.get("ignore_case", False), (*path, "ignore_case"))
        if "map" in spec:
            if source in ("sum", "count"):
                raise self.fail((*path, "map"), f"a value map does not apply to a {source}")
            table = spec["map"]
            if not isinstance(table, dict) or not table or any(isinstance(v, (dict, list)) for v in table.values()):
                raise self.fail((*path, "map"), "must be a table of \"AS WRITTEN\" = \"AS THE PROTOCOL SAYS\"")
            value.mapping = {(k.casefold() if value.ignore_case else k): _toml_text(v) for k, v in table.items()}
        if "other" in spec:
            if value.mapping is None:
                raise self.fail((*path, "other"), "'other' is the value for anything a 'map' does not list")
            if isinstance(spec["other"], (dict, list)):
                raise self.fail((*path, "other"), f"must be a text, not {_shown(spec['other'])}")
            value.other = _toml_text(spec["other"])
        if "part" in spec:
            if spec["part"] not in ("date", "time"):
                raise self.fail((*path, "part"), f"must be \"date\" or \"time\", not {_shown(spec['part'])}")
            value.part = spec["part"]
        if "scale" in spec:
            scale = spec["scale"]
            if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale):
                raise self.fail((*path, "scale"), f"must be a number, not {_shown(scale)}")
            value.scale = Decimal(str(scale))
        if "missing" in spec:
            if source not in AGGREGATES:
                raise self.fail((*path, "missing"), "'missing' says what an aggregate does with empty values")
            if spec["missing"] not in ("empty", "skip"):
                raise self.fail((*path, "missing"), f"must be \"empty\" or \"skip\", not {_shown(spec['missing'])}")
            value.missing = spec["missing"]
        return value


def _key(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def load_mapping(path: str, protocol: CompiledProtocol) -> Mapping:
    """Read and check a mapping file against the protocol's vocabulary (InputError on any problem)."""
    source = records.read_text(path)
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(found.group(1)) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if found:
            message += f" (column {found.group(2)})"
        raise InputError(path, f"not valid TOML: {message}", line) from None
    return _Parser(path, source, protocol).mapping(document)


# ----- domain files ------------------------------------------------------------------------------


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
        return _cell(cell, self.digits)

    def row(self, i: int) -> dict[str, str]:
        return {column: self.text(i, column) for column in self.cells}

    def distinct(self, column: str) -> set[Any]:
        """A column's distinct cells; several entries may filter one domain on the same column."""
        found = self.distincts.get(column)
        if found is None:
            found = self.distincts[column] = set(self.cells[column])
        return found


def _matches_domain(path: Path, domain: str, patterns: tuple[str, ...] | None) -> bool:
    name, stem = path.name.lower(), path.stem.lower()
    if patterns is not None:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)
    code = domain.lower()
    if stem == code:
        return True
    # Split domains (SDTMIG 4.1.7): LB in lbch, lbhe, lbur; QS in qsmm, qshi. Not SUPPLB in supplbch.
    rest = stem[len(code):]
    return (stem.startswith(code) and 1 <= len(rest) <= 2 and rest.isalnum()
            and (code.startswith("supp") or not stem.startswith("supp")))


def _pyreadstat() -> Any:
    """pyreadstat, imported without OpenBLAS worker threads unless numpy is loaded already.

    pyreadstat imports numpy, whose OpenBLAS starts worker threads as it loads and shuts them down at
    exit: about 55 ms of a run on a two-core machine, for linear algebra nothing here does. OpenBLAS
    reads the variable once, as it loads; it is taken away again so that child processes do not inherit it.
    """
    if "numpy" in sys.modules or "OPENBLAS_NUM_THREADS" in os.environ:
        import pyreadstat
    else:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        try:
            import pyreadstat
        finally:
            del os.environ["OPENBLAS_NUM_THREADS"]
    return pyreadstat


class _Study:
    """The domain files of the folders given, read on demand (only the columns the mapping uses)."""

    def __init__(self, mapping: Mapping, candidates: list[Path]):
        self.mapping = mapping
        self.candidates = candidates
        self.tables: dict[str, Table] = {}
        self.needs: dict[str, set[str]] = {}  # file -> the columns to read
        self.opened: dict[str, tuple[list[str], list[str], Callable[[Table, list[str]], None]]] = {}
        self.lookups: dict[int, dict[tuple, list[tuple[Table, int]]]] = {}

    def files(self, domain: str, patterns: tuple[str, ...] | None = None) -> list[Path]:
        found = [p for p in self.candidates if _matches_domain(p, domain, patterns)]
        stems: dict[tuple[Path, str], Path] = {}
        for p in found:
            other = stems.setdefault((p.parent, p.stem.lower()), p)
            if other is not p:
                raise InputError(str(p), f"both {other.name} and {p.name} hold domain {p.stem.upper()}; keep one")
        return found

    def header(self, path: Path) -> list[str]:
        """The file's columns, upper case (the file is opened, not yet read)."""
        key = str(path)
        if key not in self.opened:
            columns, reader = self._xpt(path) if path.suffix.lower() == ".xpt" else self._csv(path)
            self.opened[key] = ([c.upper() for c in columns], columns, reader)
        return self.opened[key][0]

    def need(self, files: list[Path], column: str, by: Value | Entry | None, key: str) -> None:
        """Read `column` from those of `files` that have it; at least one must, unless it is optional.

        Split files of one domain may differ in columns: where a file lacks one, its rows read it empty.
        """
        having = [p for p in files if column in self.header(p)]
        optional = by is None or isinstance(by, Value) and (by.optional or by.fallback is not None)
        if files and not having and not optional:
            names = sorted({c for p in files for c in self.header(p)})
            hint = did_you_mean(column, names)
            shown = ", ".join(p.name for p in files)
            raise InputError(self.mapping.path, f"{key}: column {column} is not in {shown}"
                             + (f" ({hint})" if hint else ""), by.line if by is not None else None)
        for p in having:
            self.needs.setdefault(str(p), set()).add(column)

    def table(self, path: Path, domain: str) -> Table:
        key = str(path)
        if key not in self.tables:
            self.header(path)
            upper, columns, reader = self.opened[key]
            needed = self.needs.get(key, set())
            table = Table(key, domain, set(upper), self.mapping.digits)
            reader(table, [original for name, original in zip(upper, columns) if name in needed])
            table.status = [0] * table.size
            self.tables[key] = table
        return self.tables[key]

    def _xpt(self, path: Path) -> tuple[list[str], Callable[[Table, list[str]], None]]:
        try:
            pyreadstat = _pyreadstat()
        except ImportError:  # pragma: no cover - a dependency of the package
            raise InputError(str(path), "reading SAS XPORT files needs pyreadstat (pip install pyreadstat)") from None
        failures = (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError)
        try:
            _, meta = pyreadstat.read_xport(str(path), metadataonly=True, output_format="dict")
        except failures as exc:  # not a readable XPT file
            raise InputError(str(path), f"not a SAS XPORT file that can be read ({exc})") from None
        size = path.stat().st_size
        if size % 80:  # XPORT is written in 80-byte records; pyreadstat drops a cut-off last row silently
            raise InputError(str(path), f"truncated: {size} bytes is not a whole number of the 80-byte "
                                        "records a SAS XPORT file is made of")
        names = list(meta.column_names)

        def read(table: Table, usecols: list[str]) -> None:
            usecols = usecols or names[:1]
            data: dict[str, list[Any]] = {}
            problems = []
            for encoding in self.mapping.encodings:
                is_utf8 = encoding.lower().replace("-", "").replace("_", "") == "utf8"
                try:
                    data, _ = pyreadstat.read_xport(str(path), output_format="dict", usecols=usecols,
                                                    encoding=None if is_utf8 else encoding)
                    break
                except UnicodeDecodeError as exc:
                    problems.append(f"not {encoding} (byte {exc.start})")
                except failures as exc:  # pyreadstat's own decoding failed, or the encoding is unknown to it
                    problems.append(f"{encoding}: {exc}")
            else:
                raise InputError(str(path), "cannot decode its text: " + "; ".join(problems)
                                 + " (set [defaults] encoding in the mapping)")
            table.cells = {c.upper(): values for c, values in data.items()}
            count = len(next(iter(data.values()))) if data else 0
            table.lines = range(1, count + 1)
            table.count = count

        return names, read

    def _csv(self, path: Path) -> tuple[list[str], Callable[[Table, list[str]], None]]:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(str(path), exc.strerror or "cannot be read") from None
        text = None
        for encoding in self.mapping.encodings:
            try:
                text = raw.decode("utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise InputError(str(path), f"cannot decode its text as {' or '.join(self.mapping.encodings)} "
                             "(set [defaults] encoding in the mapping)")
        reader = csv.reader(text.splitlines(keepends=True))
        try:
            header = [h.strip().upper() for h in next(reader)]
        except StopIteration:
            raise InputError(str(path), "the file is empty; a domain file starts with a header row", 1) from None
        except csv.Error as exc:
            raise InputError(str(path), f"the header row is not valid CSV ({exc})", 1) from None
        duplicates = sorted({h for h in header if header.count(h) > 1})
        if duplicates:
            raise InputError(str(path), f"the header repeats column {', '.join(duplicates)}", 1)

        def read(table: Table, usecols: list[str]) -> None:
            wanted = {c.upper() for c in usecols}
            keep = [(i, h) for i, h in enumerate(header) if h in wanted]
            table.cells = {h: [] for _, h in keep}
            kept = [(i, table.cells[h].append) for i, h in keep]
            lines: list[int] = []
            start = reader.line_num + 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    table.count += 1
                    table.malformed.append(Rejection(str(path), start, f"not valid CSV ({exc})"))
                    start = reader.line_num + 1
                    continue
                line, start = start, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                table.count += 1
                if len(cells) != len(header):
                    table.malformed.append(Rejection(str(path), line, f"has {len(cells)} cells; the header "
                                                     f"has {len(header)}"))
                    continue
                for i, append in kept:
                    append(cells[i].strip())
                lines.append(line)
            table.lines = lines

        return header, read

    # -- lookups --
    def lookup(self, value: Value, subject: str | None, table: Table, i: int) -> list[tuple[Table, int]]:
        """The rows of the value's `from` domain for row `i` of `table`: the subject's, matched on `match`."""
        index = self.lookups.get(id(value))
        if index is None:
            index = self.lookups[id(value)] = {}
            assert value.lookup is not None
            for p in self.files(value.lookup):
                other = self.table(p, value.lookup)
                keyed = self.mapping.subject in other.columns
                chosen = value.where.select(other) if value.where is not None else range(other.size)
                for j in chosen:
                    key = (other.text(j, self.mapping.subject) if keyed else None,
                           *(other.text(j, c) for c in value.match))
                    index.setdefault(key, []).append((other, j))
        if not value.match:  # e.g. the subject's site in DM
            return index.get((subject,)) or (index.get((None,), []) if subject is not None else [])
        matched = tuple(table.text(i, c) for c in value.match.values())
        found = index.get((subject, *matched), [])
        if not found and subject is not None:
            found = index.get((None, *matched), [])
        return found


class _Problem(Exception):
    """An event cannot be made from its rows: it becomes a rejection with this reason."""


# ----- making events -----------------------------------------------------------------------------


def read_study(paths: list[str], mapping_path: str, protocol: CompiledProtocol,
               time_zone: str | None = None) -> LogData:
    """Read SDTM folders (and any visit logs among `paths`) into validated records, per the mapping."""
    mapping = load_mapping(mapping_path, protocol)
    folders: list[Path] = []
    candidates: list[Path] = []
    logs: list[str] = []
    seen: set[Path] = set()
    for text in paths:
        p = Path(text)
        if p.is_dir():
            folders.append(p)
            for child in sorted(p.iterdir(), key=lambda c: c.name.lower()):
                if child.is_file() and child.suffix.lower() in SUFFIXES and child.resolve() not in seen:
                    seen.add(child.resolve())
                    candidates.append(child)
        elif p.is_file() and p.suffix.lower() == ".xpt":
            if p.resolve() not in seen:
                seen.add(p.resolve())
                candidates.append(p)
        elif p.exists() or p.suffix:
            logs.append(text)  # a visit log; records.read_logs reports a missing or unreadable one
        else:
            raise InputError(text, "no such file or folder")
    study = _Study(mapping, candidates)
    plan = _plan(mapping, study, folders)
    data = LogData()
    validate_extra = () if time_zone is None else (time_zone,)
    for entry, files in plan:
        for p in files:
            table = study.table(p, entry.domain)
            _map_entry(entry, table, study, protocol, data, validate_extra)
    for table in study.tables.values():
        data.rejections.extend(table.malformed)
    data.read = len(data.records) + len(data.rejections)
    for table in study.tables.values():
        rejected = table.status.count(REJECTED) + len(table.malformed)
        mapped = table.status.count(MAPPED)
        data.files.append(table.path)
        data.sources.append({"source": table.path, "domain": table.domain, "rows": table.count, "mapped": mapped,
                             "not_mapped": table.count - mapped - rejected, "rejected": rejected})
    if logs:
        logged = records.read_logs(logs, protocol, *validate_extra)
        data.records.extend(logged.records)
        data.rejections.extend(logged.rejections)
        data.read += logged.read
        data.files.extend(logged.files)
    return data


def _plan(mapping: Mapping, study: _Study, folders: list[Path]) -> list[tuple[Entry, list[Path]]]:
    """Each entry's files, and every column each file must give; errors for a domain with no file."""
    plan: list[tuple[Entry, list[Path]]] = []
    for entry in mapping.entries:
        files = study.files(entry.domain, entry.files)
        if not files and not entry.optional:
            where = ", ".join(str(f) for f in folders) if folders else "no SDTM folder was given"
            names = sorted({p.name for p in study.candidates})
            raise InputError(mapping.path, f"{entry.key}: no file for domain {entry.domain} "
                             + (f"matching {', '.join(entry.files)} " if entry.files else "")
                             + f"in {where}" + (f" (files there: {', '.join(names)})" if names else "")
                             + "; add the file, or write optional = true", entry.line)
        plan.append((entry, files))
        subject_needed = not entry.event.trial_level
        if subject_needed:
            study.need(files, entry.subject, entry, f"{entry.key}.subject")
        for column in entry.where.columns():
            study.need(files, column, entry, f"{entry.key}.where")
        for column in entry.group_by or ():
            study.need(files, column, entry, f"{entry.key}.group_by")
        for value in entry.values():
            _need_value(study, value, files, entry)
    return plan


def _need_value(study: _Study, value: Value, files: list[Path], entry: Entry) -> None:
    if value.lookup is not None:
        lookup_files = study.files(value.lookup)
        if not lookup_files and value.fallback is None and not value.optional:
            raise InputError(study.mapping.path, f"{value.key}: no file for domain {value.lookup} to read "
                             f"{value.column} from", value.line)
        assert value.column is not None
        study.need(lookup_files, value.column, value, value.key)
        study.need(lookup_files, study.mapping.subject, None, value.key)  # optional: keyed by subject if there
        for column in value.match:
            study.need(lookup_files, column, value, f"{value.key}.match")
        for column in value.match.values():
            study.need(files, column, value, f"{value.key}.match")
        if value.where is not None:
            for column in value.where.columns():
                study.need(lookup_files, column, value, f"{value.key}.where")
        return
    if value.column is not None:
        study.need(files, value.column, value, value.key)
    if value.where is not None:
        for column in value.where.columns():
            study.need(files, column, value, f"{value.key}.where")
    if value.fallback is not None:
        _need_value(study, value.fallback, files, entry)


def _map_entry(entry: Entry, table: Table, study: _Study, protocol: CompiledProtocol, data: LogData,
               validate_extra: tuple) -> None:
    # The subject column may be absent only where the table lacks it and the event is trial-level.
    subject_column = None if entry.event.trial_level else entry.subject
    chosen = entry.where.select(table)
    if entry.group_by is None:
        groups: Iterable[list[int]] = ([i] for i in chosen)
    else:
        keyed: dict[tuple, list[int]] = {}
        for i in chosen:
            key = (table.text(i, subject_column) if subject_column else "",
                   *(table.text(i, c) for c in entry.group_by))
            keyed.setdefault(key, []).append(i)
        groups = keyed.values()
    for members in groups:
        line = table.lines[members[0]]
        used: list[tuple[Table, int]] = []
        try:
            event_row = _event_row(entry, table, members, subject_column, study, used)
        except _Problem as problem:
            outcome: Record | str = str(problem)
        else:
            outcome = records.validate(event_row, table.path, line, protocol, *validate_extra)
        if isinstance(outcome, Record):
            data.records.append(outcome)
            status = table.status
            for i in members:
                if not status[i]:
                    status[i] = MAPPED
            for other, i in used:
                if not other.status[i]:
                    other.status[i] = MAPPED
        else:
            if len(members) > 1:
                outcome += f" [an event of {len(members)} rows: {_lines(table, members)}]"
            data.rejections.append(Rejection(table.path, line, outcome))
            for i in members:
                table.status[i] = REJECTED


def _lines(table: Table, members: list[int]) -> str:
    word = "rows" if table.path.lower().endswith(".xpt") else "lines"
    shown = ", ".join(str(table.lines[i]) for i in members[:6])
    return f"{word} {shown}" + (", ..." if len(members) > 6 else "")


def _event_row(entry: Entry, table: Table, members: list[int], subject_column: str | None,
               study: _Study, used: list[tuple[Table, int]]) -> dict[str, str]:
    subject = table.text(members[0], subject_column) if subject_column else ""
    row: dict[str, str] = {"event": entry.event.name, "subject": subject}
    for name, value in (("study", entry.study), ("site", entry.site), ("date", entry.date)):
        row[name] = _evaluate(value, table, members, subject or None, study, used)
    for name, value in entry.fields.items():
        row[name] = _evaluate(value, table, members, subject or None, study, used)
    return row


def _evaluate(value: Value, table: Table, members: list[int], subject: str | None, study: _Study,
              used: list[tuple[Table, int]]) -> str:
    if value.constant is not None:
        text = value.constant
    elif value.lookup is not None:
        text = _looked_up(value, table, members[0], subject, study, used)
    elif value.column is not None and value.column not in table.columns and (value.optional or value.fallback):
        text = _evaluate(value.fallback, table, members, subject, study, used) if value.fallback else ""
        return text
    elif value.aggregate is not None:
        text = _aggregate(value, _texts(value, table, members))
    elif len(members) == 1 and value.where is None:
        assert value.column is not None
        text = table.text(members[0], value.column)
    else:
        texts = sorted(set(_texts(value, table, members)) - {""})
        if len(texts) > 1:
            raise _Problem(f"the rows disagree on {value.column} ({', '.join(repr(t) for t in texts[:4])}), "
                           f"read for {value.key}")
        text = texts[0] if texts else ""
    if value.part is None and value.mapping is None and value.scale is None:
        return text
    return _transform(value, text)


def _texts(value: Value, table: Table, members: list[int]) -> list[str]:
    """The value's column in the rows of a group that its own filter keeps."""
    assert value.column is not None
    chosen = [i for i in members if value.where(table.row(i))] if value.where is not None else members
    return table.texts(chosen, value.column)


def _looked_up(value: Value, table: Table, i: int, subject: str | None, study: _Study,
               used: list[tuple[Table, int]]) -> str:
    found = study.lookup(value, subject, table, i)
    assert value.column is not None
    if len(found) == 1:
        other, j = found[0]
        used.append(found[0])
        return other.text(j, value.column)
    texts = sorted({t.text(j, value.column) for t, j in found} - {""})
    if len(texts) > 1:
        raise _Problem(f"{len(found)} {value.lookup} rows give {value.key} different values "
                       f"({', '.join(repr(t) for t in texts[:4])})")
    used.extend(found)
    return texts[0] if texts else ""


def _aggregate(value: Value, texts: list[str]) -> str:
    present = [t for t in texts if t != ""]
    if value.aggregate == "count":
        return str(len(present))
    if len(present) < len(texts) and value.missing == "empty" or not present:
        return ""
    numbers = []
    for text in present:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            if value.aggregate == "sum":
                raise _Problem(f"{value.key}: {value.column} '{text}' is not a number to add up")
            numbers = []
            break
        numbers.append(number)
    if value.aggregate == "sum":
        return _decimal_text(sum(numbers, Decimal(0)))
    pick = min if value.aggregate == "min" else max
    if numbers:
        return present[numbers.index(pick(numbers))]
    return pick(present)


def _transform(value: Value, text: str) -> str:
    if text and value.part == "date":
        text = text[:10] if len(text) >= 10 else text
    elif value.part == "time":
        found = re.match(r"^\d{4}-\d{2}-\d{2}[T ](\d{2}:\d{2}(:\d{2})?)", text)
        text = found.group(1) if found else ""
    if text and value.mapping is not None:
        key = text.casefold() if value.ignore_case else text
        if key in value.mapping:
            text = value.mapping[key]
        elif value.other is not None:
            text = value.other
    if text and value.scale is not None:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _Problem(f"{value.key}: '{text}' is not a number to scale") from None
        text = _decimal_text(number * value.scale)
    return text
