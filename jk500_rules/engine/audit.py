"""Compiled protocol + visit logs -> one result: the audit's entry points, and its partitions sent to workers."""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace

from ..compiler.model import CompiledProtocol
from ..dates import date_bounds
from ..inputs.paths import distinct_paths
from ..inputs.records import LogData, Record
from ..inputs.validation import rejection, validate
from ..inputs.visit_logs import LogFile
from .engines import Engines
from .executor import Executor, local_executor
from .jobs import AuditJob
from .judging import judge_partition
from .partition import ROWS_IN_MEMORY, Group, SubjectRows, chunks
from .results import AuditResult
from .trial import PartitionJoin
from .versions import Versions, protocol_key, remember_protocol

CHUNK_ROWS = 4_000  # rows per unit of work handed to a worker
# Below this many rows, starting worker processes costs more than it saves: the audit stays in-process.
PARALLEL_FROM = 20_000


def audit_files(protocol: CompiledProtocol, paths: list[str], as_of: dt.date | None = None,
                version: str | None = None, mapping: str | None = None, time_zone: str | None = None,
                progress: Callable[[int, int], None] | None = None, jobs: int = 1,
                executor: Executor | None = None, rows_in_memory: int = ROWS_IN_MEMORY,
                keep_records: bool = False, strict_columns: bool = False) -> AuditResult:
    """Audit visit logs, or (with a mapping) folders of SDTM domains plus any visit logs.

    `time_zone` is the site's (e.g. "Asia/Shanghai"): a datetime with a UTC offset counts on its date
    there. Without one, and for every datetime without an offset, the date is taken as written.

    Subjects are judged `jobs` at a time in worker processes (or by `executor`); the result is the
    same for any number. A log is streamed and regrouped by subject, sorted externally beyond
    `rows_in_memory` rows, so memory follows the largest subject rather than the input. Records are
    kept in `result.data.records` (the HTML report's timelines need them) only with `keep_records`.
    A path naming a file already given (again, or through a symlink) is left out: each file is read once.
    A value in a column its row's event type does not declare is ignored (counted in `result.data.ignored`,
    one warning per file and column: `validation.column_warnings`); with `strict_columns` it rejects the row.
    """
    paths, _ = distinct_paths(list(paths))
    if mapping is not None:
        from ..inputs.sdtm import read_study  # only SDTM input needs the XPT reader

        data = read_study(paths, mapping, protocol, time_zone, strict_columns)
        return audit_data(protocol, data, as_of, version, progress, jobs=jobs, executor=executor)
    Versions(protocol, version)  # an unknown --version fails before any row is read
    logs = [LogFile(path) for path in paths]
    data = LogData(files=list(paths))
    trial_rows: list[tuple[int, int, dict[str, object]]] = []
    latest: dt.date | None = None
    collecting = gc.isenabled()
    gc.disable()  # rows and records hold no reference cycles: the collector's passes only cost time
    try:
        with SubjectRows(rows_in_memory) as rows:
            for index, log in enumerate(logs):
                for line, text, parsed in log.entries():
                    data.read += 1
                    if isinstance(parsed, str):
                        data.rejections.append(rejection(None, log.path, line, parsed))
                        continue
                    key, event, date_text = log.base(parsed)
                    if not key:
                        trial_rows.append((index, line, log.as_dict(parsed)))
                        continue
                    rows.add(key, (index, line, text))
                    if as_of is None and event in protocol.events:
                        # The latest date of a row that may be valid: the cut-off, unless that row is
                        # rejected, which the workers' own latest date shows (then it is judged again).
                        bounds = date_bounds(date_text, time_zone)
                        if bounds is not None and (latest is None or bounds[0] > latest):
                            latest = bounds[0]
                data.hashes[log.path] = log.sha256  # of what was read: a log growing meanwhile is not what it says
            trial_records: list[Record] = []
            for index, line, row in trial_rows:
                outcome = validate(row, logs[index].path, line, protocol, time_zone, strict_columns=strict_columns,
                                   ignored=data.ignored)
                if isinstance(outcome, Record):
                    trial_records.append(outcome)
                else:
                    data.rejections.append(rejection(row, logs[index].path, line, outcome))
            if trial_records and as_of is None:
                trial_latest = max(r.date for r in trial_records)
                latest = trial_latest if latest is None or trial_latest > latest else latest
            cutoff = as_of or latest
            job = AuditJob(protocol.filename, protocol.source, version, cutoff, time_zone,
                           tuple(log.path for log in logs), tuple(log.header for log in logs),
                           tuple(log.json for log in logs), keep_records, strict_columns)
            result = _audit_groups(protocol, job, rows.groups, trial_records, data, progress, jobs, executor,
                                   exact_cutoff=as_of is not None, subjects=rows.keys, rows=rows.rows)
    finally:
        if collecting:
            gc.enable()
    return result


def audit_data(protocol: CompiledProtocol, data: LogData, as_of: dt.date | None = None,
               version: str | None = None, progress: Callable[[int, int], None] | None = None,
               jobs: int = 1, executor: Executor | None = None) -> AuditResult:
    """Audit records already validated (an SDTM study, or `read_logs`); the records stay in `data`.

    Each subject is judged under the protocol version in force on the date of their first record of
    the `governed by` event type (their first record of any type without one); trial-level rules under
    the version in force at the data cut-off. `version` judges everyone under that one version.
    """
    cutoff = as_of or max((r.date for r in data.records), default=None)
    by_subject: dict[str, list[Record]] = defaultdict(list)
    trial_records: list[Record] = []
    for record in data.records:
        if record.subject is None:
            trial_records.append(record)
        else:
            by_subject[record.subject].append(record)
    job = AuditJob(protocol.filename, protocol.source, version, cutoff, None, (), (), (), False)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _audit_groups(protocol, job, lambda: ((s, by_subject[s]) for s in sorted(by_subject)),
                             trial_records, data, progress, jobs, executor, exact_cutoff=True,
                             subjects=len(by_subject), rows=len(data.records))
    finally:
        if collecting:
            gc.enable()


def _audit_groups(protocol: CompiledProtocol, job: AuditJob, groups: Callable[[], Iterable[Group]],
                  trial_records: list[Record], data: LogData, progress: Callable[[int, int], None] | None,
                  jobs: int, executor: Executor | None, exact_cutoff: bool, subjects: int, rows: int) -> AuditResult:
    """Judge the subjects' partitions (again, if a rejected row had set the cut-off), then the trial.

    Each partition's outcomes are joined as they arrive, so that the parent holds one shared row of
    standings per subject, not every subject's outcome.
    """
    versions = Versions(protocol, job.version)  # an unknown --version fails here, before any work
    remember_protocol(protocol_key(job), protocol)
    local = executor is None
    executor = executor or local_executor(jobs if rows >= PARALLEL_FROM else 1)
    engines = Engines()
    try:
        while True:
            joined = PartitionJoin(protocol, job, versions)
            for part in executor.map(judge_partition, job, chunks(iter(groups()), CHUNK_ROWS), engines):
                joined.add(part)
                if progress is not None:
                    for done in range(joined.seen - len(part.outcomes) + 1, joined.seen + 1):
                        if done % 100 == 0 or done == subjects:
                            progress(done, subjects)
            latest = max((d for d in (joined.latest, *(r.date for r in trial_records)) if d is not None),
                         default=None)
            if exact_cutoff or latest == job.cutoff:
                break
            job = replace(job, cutoff=latest)
        return joined.finish(trial_records, data, engines)
    finally:
        engines.close()
        if local:
            executor.close()
