"""Loading a mapping file: its TOML parsed and checked against the protocol's event types and fields."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from ...compiler.model import CompiledProtocol, EventSpec
from ...errors import InputError, did_you_mean
from .. import visit_logs
from .cells import DEFAULT_DIGITS
from .mapping import DEFAULT_ENCODINGS, DEFAULT_KEYS, ENTRY_KEYS, LOG_COLUMNS, Entry, Mapping, Value
from .mapping_checks import KeyPath, key_name, shown
from .value_parser import ValueParser


class MappingParser(ValueParser):
    """The file as a whole: its [defaults], and each [[event.NAME]] entry with its fields."""

    def __init__(self, path: str, source: str, protocol: CompiledProtocol):
        super().__init__(path, source)
        self.protocol = protocol

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
            raise self.fail(("defaults", "digits"), f"must be a whole number from 1 to 17, not {shown(digits)}")
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

    def entry(self, event: EventSpec, table: dict[str, Any], path: KeyPath, subject: str, study: Value,
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
        return Entry(event, key_name(path), self.locator.line(path), domain, files,
                     self.boolean(table.get("optional", False), (*path, "optional")), where, subject_column,
                     entry_study, entry_site, date, fields, group_by)


def load_mapping(path: str, protocol: CompiledProtocol) -> Mapping:
    """Read and check a mapping file against the protocol's vocabulary (InputError on any problem)."""
    source = visit_logs.read_text(path)
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
    return MappingParser(path, source, protocol).mapping(document)
