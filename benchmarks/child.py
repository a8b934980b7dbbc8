"""One measurement, run in a fresh interpreter by benchmarks.run; prints one JSON object on stdout.

    python -m benchmarks.child audit RULES CSV         full audit via the Python API
    python -m benchmarks.child floor CSV               csv module + date.fromisoformat only
    python -m benchmarks.child startup RULES           import time, then rules parse + compile time
    python -m benchmarks.child engine-probe RULES CSV FEEDS   RSS while re-feeding sessions
    python -m benchmarks.child profile RULES CSV OUT   cProfile of the audit, stats to OUT

Memory comes from /proc/self/status (VmRSS, VmHWM). For the audit, the high-water mark is reset
(`echo 5 > /proc/self/clear_refs`) once the engine's sessions are built, so that the peak of the
engine loop itself can be told apart from the peak of reading the log.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

MB = 1024 * 1024


def status() -> dict[str, int]:
    """VmRSS and VmHWM in bytes."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _audit(rules: str, log: str) -> dict:
    t_imp = time.perf_counter()
    from jk500_rules import audit as audit_mod
    from jk500_rules.cli import load_protocol
    from jk500_rules.report import to_json, summary

    marks: dict[str, float | int | bool] = {}
    real_read, real_build = audit_mod.read_logs, audit_mod.build_sessions

    def read_logs(*args, **kwargs):  # audit_files -> read_logs: timed, RSS after
        t = time.perf_counter()
        data = real_read(*args, **kwargs)
        marks["read_s"] = time.perf_counter() - t
        marks["read_end"] = time.perf_counter()
        s = status()
        marks["rss_after_read"] = s["VmRSS"]
        marks["hwm_after_read"] = s["VmHWM"]
        return data

    def build_sessions(*args, **kwargs):  # audit_data -> build_sessions: timed, then the peak reset
        t = time.perf_counter()
        sessions = real_build(*args, **kwargs)
        marks["sessions_s"] = time.perf_counter() - t
        s = status()
        marks["rss_before_engine"] = s["VmRSS"]
        marks["hwm_before_engine"] = s["VmHWM"]
        marks["peak_reset"] = reset_peak()
        marks["engine_start"] = time.perf_counter()
        marks["sessions"] = len(sessions)
        return sessions

    class Engine(audit_mod.Engine):  # times the trial session's feed apart from the subjects'
        def feed(self, session, facts):
            t = time.perf_counter()
            matches = super().feed(session, facts)
            if session == "trial":
                marks["trial_feed_s"] = time.perf_counter() - t
                marks["trial_facts"] = len(facts)
            return matches

    audit_mod.read_logs, audit_mod.build_sessions, audit_mod.Engine = read_logs, build_sessions, Engine
    t0 = time.perf_counter()
    protocol = load_protocol(rules)
    t1 = time.perf_counter()
    result = audit_mod.audit_files(protocol, [log])
    t2 = time.perf_counter()
    s_engine = status()
    report = to_json(result)
    t3 = time.perf_counter()
    s_end = status()
    summ = summary(result)
    hwm_engine = s_engine["VmHWM"] if marks.get("peak_reset") else None
    peak = max(int(marks.get("hwm_before_engine", 0)), s_end["VmHWM"])
    return {
        "startup_s": t_imp - _T_START,
        "import_s": t0 - t_imp,
        "compile_s": t1 - t0,
        "audit_files_s": t2 - t1,
        "read_s": marks.get("read_s"),
        "sessions_s": marks.get("sessions_s"),
        # everything in audit_data after build_sessions: the engine loop, judging, sorting findings
        "engine_s": t2 - marks["engine_start"] if "engine_start" in marks else None,
        "trial_feed_s": marks.get("trial_feed_s"),
        "trial_facts": marks.get("trial_facts"),
        "other_s": (marks["engine_start"] - marks["read_end"] - marks["sessions_s"]) if "engine_start" in marks else None,
        "report_s": t3 - t2,
        "total_s": t3 - t0,  # load_protocol + audit_files + to_json
        "peak_rss": peak,
        "rss_after_read": marks.get("rss_after_read"),
        "rss_before_engine": marks.get("rss_before_engine"),
        "peak_engine": hwm_engine,  # high-water mark during the engine loop (None if it could not be reset)
        "rss_after_engine": s_engine["VmRSS"],
        "rss_end": s_end["VmRSS"],
        "sessions": marks.get("sessions"),
        "report_bytes": len(report.encode()),
        "read": summ["records_read"],
        "audited": summ["records_audited"],
        "not_used": summ["records_not_used"],
        "rejected": summ["records_rejected"],
        "subjects": summ["subjects"],
        "findings": summ["findings"],
        "findings_by_rule": {k: v["deviation"] for k, v in summ["findings_by_rule"].items()},
    }


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


def _startup(rules: str) -> dict:
    t0 = time.perf_counter()
    import jk500_rules.audit  # noqa: F401
    import jk500_rules.report  # noqa: F401
    from jk500_rules.cli import load_protocol

    t1 = time.perf_counter()
    protocol = load_protocol(rules)
    t2 = time.perf_counter()
    from jk500_rules.engine import Engine

    with Engine(protocol.rulesets()):
        pass
    t3 = time.perf_counter()
    return {"interpreter_s": t0 - _T_START, "import_s": t1 - t0, "compile_s": t2 - t1,
            "engine_ruleset_s": t3 - t2, "peak_rss": status()["VmHWM"]}


def _engine_probe(rules: str, log: str, feeds: int) -> dict:
    """Feed the same subject sessions round and round: does RSS grow with sessions fed?"""
    from jk500_rules.cli import load_protocol
    from jk500_rules.engine import Engine
    from jk500_rules.facts import build_sessions
    from jk500_rules.records import read_logs

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

    from jk500_rules.audit import audit_files
    from jk500_rules.cli import load_protocol
    from jk500_rules.report import to_json

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    protocol = load_protocol(rules)
    result = audit_files(protocol, [log])
    to_json(result)
    prof.disable()
    t1 = time.perf_counter()
    prof.dump_stats(out)
    stats = pstats.Stats(out)
    return {"profiled_s": t1 - t0, "total_tt": stats.total_tt, "stats": out}


def main(argv: list[str]) -> int:
    mode, args = argv[0], argv[1:]
    if mode == "audit":
        out = _audit(*args)
    elif mode == "floor":
        out = _floor(*args)
    elif mode == "startup":
        out = _startup(*args)
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
