"""One measurement, run in a fresh interpreter by benchmarks.measure; prints one JSON object on stdout.

    python -m benchmarks.child audit RULES CSV JOBS PHASES  full audit via the Python API (PHASES: 1 or 0)
    python -m benchmarks.child floor CSV                    csv module + date.fromisoformat only
    python -m benchmarks.child engine-floor RULES CSV       the audit's own fact batches into a never-matching rule
    python -m benchmarks.child startup RULES                import time, then rules parse + compile time
    python -m benchmarks.child capabilities                 does audit_files take `jobs`?
    python -m benchmarks.child pilot RULES MAPPING DATA     the CDISC pilot in-process, by phase
    python -m benchmarks.child engine-probe RULES CSV FEEDS RSS while re-feeding sessions
    python -m benchmarks.child profile RULES CSV OUT        cProfile of the audit, stats to OUT

The audit (benchmarks/child_audit.py) is split into phases by benchmarks/hooks.py; memory comes from
benchmarks/memory.py.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import inspect
import json
import sys

from .child_audit import audit
from .memory import status


def _floor(log: str) -> dict:
    import csv
    import datetime as dt

    t0 = time.perf_counter()
    fromiso = dt.date.fromisoformat
    rows = 0
    with open(log, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = header.index("date")
        for row in reader:
            fromiso(row[col])
            rows += 1
    t1 = time.perf_counter()
    s = status()
    return {"startup_s": t0 - _T_START, "total_s": t1 - t0, "read": rows, "peak_rss": s["VmHWM"]}


def _engine_floor(rules: str, log: str) -> dict:
    """The engine's floor for this audit: the very fact batches the audit feeds (every session, references'
    and states' engines included), their JSON prepared beforehand, asserted one session per batch into a
    ruleset of one rule that never matches (plus the runner's marker rule, without which the engine's
    `delete_state` crashes). Only the asserting, the marker's action and the state's deletion are timed."""
    from jk500_rules import load_protocol
    from jk500_rules.engine import durable
    from jk500_rules.engine.audit import audit_files

    batches: list[list[dict]] = []
    real = durable.Engine.feed

    def recording(self: durable.Engine, session: str, facts: object) -> list:
        kept = list(facts)  # type: ignore[call-overload]
        batches.append(kept)
        return real(self, session, kept)

    durable.Engine.feed = recording  # type: ignore[method-assign]
    try:
        audit_files(load_protocol(rules), [log], jobs=1)  # one process: every feed is seen here
    finally:
        durable.Engine.feed = real  # type: ignore[method-assign]
    with durable.Engine({"never": {"all": [{"m": {"kind": "$never-matched"}}]}}) as engine:
        encoded = [engine.encode(f"floor {n}", facts) for n, facts in enumerate(batches)]
        c0, t0 = time.process_time(), time.perf_counter()
        for n, (sid, batch) in enumerate(encoded):
            engine.run(f"floor {n}", sid, batch)
        c1, t1 = time.process_time(), time.perf_counter()
    return {"total_s": t1 - t0, "cpu_s": c1 - c0, "batches": len(batches), "facts": sum(len(b) for b in batches)}


def _startup(rules: str) -> dict:
    t0 = time.perf_counter()
    import jk500_rules.engine.audit
    import jk500_rules.reports.writers  # noqa: F401
    from jk500_rules import load_protocol

    t1 = time.perf_counter()
    protocol = load_protocol(rules)
    t2 = time.perf_counter()
    engine_s = None
    try:
        from jk500_rules.engine.durable import Engine

        with Engine(protocol.rulesets()):
            pass
        engine_s = time.perf_counter() - t2
    except Exception as exc:  # noqa: BLE001 -- the engine's API is not this benchmark's to pin down
        print(f"engine ruleset not timed: {exc!r}", file=sys.stderr)
    return {"interpreter_s": t0 - _T_START, "import_s": t1 - t0, "compile_s": t2 - t1,
            "engine_ruleset_s": engine_s, "peak_rss": status()["VmHWM"]}


def _capabilities() -> dict:
    from jk500_rules.engine.audit import audit_files

    params = inspect.signature(audit_files).parameters
    return {"api_jobs": "jobs" in params, "audit_files_params": list(params)}


def _pilot(rules: str, mapping: str, data: str) -> dict:
    """The CDISC pilot audited in-process, by phase; falls back to one audit_files timing."""
    t0 = time.perf_counter()
    from jk500_rules import load_protocol
    from jk500_rules.engine import audit as audit_mod
    from jk500_rules.reports import text_report

    try:
        from jk500_rules.reports import monitoring
    except ImportError:
        monitoring = None
    t1 = time.perf_counter()
    protocol = load_protocol(rules)
    t2 = time.perf_counter()
    read_s = None
    try:
        from jk500_rules.inputs.sdtm import read_study

        study = read_study([data], mapping, protocol)
        t3 = time.perf_counter()
        read_s = t3 - t2
        result = audit_mod.audit_data(protocol, study)
    except (ImportError, AttributeError, TypeError) as exc:  # the split's API changed: time it whole
        print(f"pilot: no read/audit split ({exc!r}); timing audit_files whole", file=sys.stderr)
        t3 = time.perf_counter()
        result = audit_mod.audit_files(protocol, [data], mapping=mapping)
    t4 = time.perf_counter()
    provenance_s = None
    if monitoring is not None and hasattr(monitoring, "attach_provenance"):
        monitoring.attach_provenance(result, rules, "2026-01-01T00:00:00Z")
        provenance_s = time.perf_counter() - t4
    t5 = time.perf_counter()
    text = text_report.to_text(result)
    t6 = time.perf_counter()
    return {"startup_s": t0 - _T_START, "import_s": t1 - t0, "compile_s": t2 - t1, "read_s": read_s,
            "audit_s": t4 - t3 if read_s is not None else None, "audit_files_s": t4 - t2,
            "provenance_s": provenance_s, "report_s": t6 - t5, "total_s": t6 - t0,
            "findings": len(result.findings), "report_bytes": len(text.encode()), "peak_rss": status()["VmHWM"]}


def _engine_probe(rules: str, log: str, feeds: int) -> dict:
    """Feed the same subject sessions round and round: does RSS grow with sessions fed?"""
    from jk500_rules import load_protocol
    from jk500_rules.engine.durable import Engine
    from jk500_rules.engine.trial_facts import build_sessions
    from jk500_rules.inputs.visit_logs import read_logs

    protocol = load_protocol(rules)
    data = read_logs([log], protocol)
    used = [r for r in data.records if r.event in protocol.plan.events]
    cutoff = max(r.date for r in data.records)
    sessions = [s for s in build_sessions(used, protocol, cutoff) if s.subject is not None]
    samples = []
    every = max(1, feeds // 10)
    t0 = time.perf_counter()
    matches = 0
    with Engine(protocol.rulesets()) as engine:
        samples.append((0, status()["VmRSS"]))
        for i in range(1, feeds + 1):
            session = sessions[i % len(sessions)]
            # a fresh session name each time, as a larger trial would have
            matches += len(engine.feed(f"{session.name}#{i}", session.facts))
            if i % every == 0:
                samples.append((i, status()["VmRSS"]))
    t1 = time.perf_counter()
    first, last = samples[1], samples[-1]
    slope = (last[1] - first[1]) / max(1, last[0] - first[0])
    return {"feeds": feeds, "distinct_sessions": len(sessions), "seconds": t1 - t0, "matches": matches,
            "facts_per_session": sum(len(s.facts) for s in sessions) / len(sessions),
            "samples": samples, "bytes_per_feed": slope}


def _profile(rules: str, log: str, out: str) -> dict:
    import cProfile
    import pstats

    from jk500_rules import load_protocol
    from jk500_rules.engine.audit import audit_files
    from jk500_rules.reports.json_report import to_json

    # one process: a profile of the parent alone would miss the workers' time
    kwargs = {"jobs": 1} if "jobs" in inspect.signature(audit_files).parameters else {}
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    protocol = load_protocol(rules)
    result = audit_files(protocol, [log], **kwargs)
    to_json(result)
    prof.disable()
    t1 = time.perf_counter()
    prof.dump_stats(out)
    stats = pstats.Stats(out)
    return {"profiled_s": t1 - t0, "total_tt": stats.total_tt, "stats": out}


def main(argv: list[str]) -> int:
    mode, args = argv[0], argv[1:]
    if mode == "audit":
        out = audit(_T_START, *args)
    elif mode == "floor":
        out = _floor(*args)
    elif mode == "engine-floor":
        out = _engine_floor(*args)
    elif mode == "startup":
        out = _startup(*args)
    elif mode == "capabilities":
        out = _capabilities()
    elif mode == "pilot":
        out = _pilot(*args)
    elif mode == "engine-probe":
        out = _engine_probe(args[0], args[1], int(args[2]))
    elif mode == "profile":
        out = _profile(*args)
    else:
        raise SystemExit(f"unknown mode {mode}")
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
