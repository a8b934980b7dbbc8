"""Reading a study: each mapping entry's domain rows made into events, validated, and every row accounted for."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ...compiler.model import CompiledProtocol
from ...errors import InputError
from ..records import LogData, Record
from ..validation import rejection, validate
from ..visit_logs import read_logs
from .aggregation import EventProblem, evaluate
from .mapping import Entry, Mapping, Value
from .mapping_parser import load_mapping
from .readers import SUFFIXES, Study
from .tables import MAPPED, REJECTED, Table


def read_study(paths: list[str], mapping_path: str, protocol: CompiledProtocol,
               time_zone: str | None = None, strict_columns: bool = False) -> LogData:
    """Read SDTM folders (and any visit logs among `paths`) into validated records, per the mapping.

    Each event made from domain rows is a row like a visit log's and is validated exactly as visit-log
    rows are (`validation.validate`): it becomes a record or a rejection at the domain file and row.

    Accounting: every row of every domain file read is counted once, in `LogData.sources`, as mapped (it
    made a record, or gave a value to one), not mapped (no entry of the mapping took it) or rejected (an
    event made from it was rejected; this wins over mapped). `LogData.read` counts the events made (records
    + rejections) plus the rows of ordinary visit logs, so that the audit's read = audited + not used +
    rejected still holds. An XPT row's "line" is its row number (1 = the first observation); a CSV domain
    row's is its line in the file (the header is line 1). `strict_columns` is for the visit logs among
    `paths` (`read_logs`): a mapping names only declared fields, which `load_mapping` checks.
    """
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
            logs.append(text)  # a visit log; visit_logs.read_logs reports a missing or unreadable one
        else:
            raise InputError(text, "no such file or folder")
    study = Study(mapping, candidates)
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
        data.hashes[table.path] = table.sha256
        data.sources.append({"source": table.path, "domain": table.domain, "rows": table.count, "mapped": mapped,
                             "not_mapped": table.count - mapped - rejected, "rejected": rejected})
    if logs:
        logged = read_logs(logs, protocol, time_zone, strict_columns)
        data.records.extend(logged.records)
        data.rejections.extend(logged.rejections)
        data.read += logged.read
        data.files.extend(logged.files)
        data.hashes.update(logged.hashes)
        data.ignored.update(logged.ignored)
    return data


def _plan(mapping: Mapping, study: Study, folders: list[Path]) -> list[tuple[Entry, list[Path]]]:
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


def _need_value(study: Study, value: Value, files: list[Path], entry: Entry) -> None:
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


def _map_entry(entry: Entry, table: Table, study: Study, protocol: CompiledProtocol, data: LogData,
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
        except EventProblem as problem:
            # The subject can still be named; the date is what may have failed.
            event_row = {"subject": table.text(members[0], subject_column) if subject_column else ""}
            outcome: Record | str = str(problem)
        else:
            outcome = validate(event_row, table.path, line, protocol, *validate_extra, date_time="day")
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
            data.rejections.append(rejection(event_row, table.path, line, outcome))
            for i in members:
                table.status[i] = REJECTED


def _lines(table: Table, members: list[int]) -> str:
    word = "rows" if table.path.lower().endswith(".xpt") else "lines"
    shown = ", ".join(str(table.lines[i]) for i in members[:6])
    return f"{word} {shown}" + (", ..." if len(members) > 6 else "")


def _event_row(entry: Entry, table: Table, members: list[int], subject_column: str | None,
               study: Study, used: list[tuple[Table, int]]) -> dict[str, str]:
    subject = table.text(members[0], subject_column) if subject_column else ""
    row: dict[str, str] = {"event": entry.event.name, "subject": subject}
    for name, value in (("study", entry.study), ("site", entry.site), ("date", entry.date)):
        row[name] = evaluate(value, table, members, subject or None, study, used)
    for name, value in entry.fields.items():
        row[name] = evaluate(value, table, members, subject or None, study, used)
    return row
