"""The Python API's own entry points: a protocol from a rules file or text, an audit of rows in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .compiler import compile_protocol
from .compiler.model import CompiledProtocol
from .engine.audit import audit_data
from .engine.results import AuditResult
from .inputs.records import LogData, Record
from .inputs.validation import rejection, validate
from .inputs.visit_logs import read_hashed_text
from .language.parser import parse


def load_protocol(path: str) -> CompiledProtocol:
    """Read, parse and compile a rules file (RulesError or InputError on failure).

    The protocol carries the SHA-256 of the bytes compiled, for provenance: the file may change later.
    """
    text, sha256 = read_hashed_text(path)
    return replace(compile_rules(text, path), sha256=sha256)


def compile_rules(text: str, filename: str = "<rules>") -> CompiledProtocol:
    """Parse and compile rules text; a RulesError lists every problem, each with `filename:line:col`."""
    return compile_protocol(parse(text, filename), filename, text)


def audit_records(protocol: CompiledProtocol, rows: Iterable[Mapping[str, object]], *,
                  as_of: dt.date | None = None, version: str | None = None, time_zone: str | None = None,
                  source: str = "<records>", strict_columns: bool = False) -> AuditResult:
    """Audit rows held in memory, each a visit-log row as a mapping (`subject`, `date`, `event`, fields).

    Values may be text, as in a CSV log, or numbers and booleans, as in JSON Lines. Row N (from 1) is
    `source:N` in evidence and rejections; a row that cannot be read is rejected with its reason,
    never dropped, and `result.data` accounts for every row. A value under a key the row's event type
    does not declare is ignored and counted in `result.data.ignored` (with `strict_columns`, rejected).
    """
    data = LogData(files=[source])
    for line, row in enumerate(rows, start=1):
        data.read += 1
        cells = dict(row)
        outcome = validate(cells, source, line, protocol, time_zone, strict_columns=strict_columns,
                           ignored=data.ignored)
        if isinstance(outcome, Record):
            data.records.append(outcome)
        else:
            data.rejections.append(rejection(cells, source, line, outcome))
    return audit_data(protocol, data, as_of, version)
