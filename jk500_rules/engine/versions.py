"""Which protocol version judges whom, and each process's cache of the protocols its jobs name."""

from __future__ import annotations

import datetime as dt
import hashlib

from ..compiler.model import CompiledProtocol
from ..errors import InputError
from ..inputs.records import Record
from .jobs import AuditJob


class Versions:
    """Which protocol version judges a subject, and which the trial level."""

    def __init__(self, protocol: CompiledProtocol, version: str | None):
        versions = protocol.versions
        if version is not None:
            chosen = next((v for v in versions if v.name == version), None)
            if chosen is None:
                known = ", ".join(v.name for v in versions) or "none (the rules declare no versions)"
                raise InputError(protocol.filename, f"no protocol version '{version}'; versions: {known}")
            versions = (chosen,)
        self.protocol = protocol
        self.versions = versions
        self.single: tuple[str | None, CompiledProtocol] | None = None
        if len(versions) <= 1:
            only = versions[0] if versions else None
            self.single = (only.name if only else None, only.protocol if only else protocol)

    def in_force(self, day: dt.date) -> tuple[str | None, CompiledProtocol]:
        if self.single is not None:
            return self.single
        chosen = self.versions[0]
        for v in self.versions:
            if v.effective is None or v.effective <= day:
                chosen = v
        return chosen.name, chosen.protocol

    def for_subject(self, records: list[Record]) -> tuple[str | None, CompiledProtocol]:
        if self.single is not None:
            return self.single
        governing = [r.date for r in records if r.event == self.protocol.governed_by]
        return self.in_force(min(governing) if governing else min(r.date for r in records))

    def by_name(self) -> dict[str | None, CompiledProtocol]:
        if self.single is not None:
            return {self.single[0]: self.single[1]}
        return {v.name: v.protocol for v in self.versions}


_PROTOCOLS: dict[tuple[str, str], CompiledProtocol] = {}
PROTOCOLS_KEPT = 8  # a long-lived worker (Dask) may see many rules files: keep the latest few


def remember_protocol(key: tuple[str, str], protocol: CompiledProtocol) -> CompiledProtocol:
    _PROTOCOLS.pop(key, None)
    _PROTOCOLS[key] = protocol
    while len(_PROTOCOLS) > PROTOCOLS_KEPT:
        del _PROTOCOLS[next(iter(_PROTOCOLS))]
    return protocol


def protocol_key(job: AuditJob) -> tuple[str, str]:
    return job.rules_file, hashlib.sha256(job.rules_source.encode("utf-8")).hexdigest()


def job_protocol(job: AuditJob) -> CompiledProtocol:
    """The job's protocol: the parent's own object in-process or after a fork, compiled once elsewhere."""
    key = protocol_key(job)
    if key in _PROTOCOLS:
        return _PROTOCOLS[key]
    from ..compiler import compile_protocol
    from ..language.parser import parse

    compiled = compile_protocol(parse(job.rules_source, job.rules_file), job.rules_file, job.rules_source)
    return remember_protocol(key, compiled)
