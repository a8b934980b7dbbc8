"""One measurement, run in a fresh interpreter by benchmarks.run; prints one JSON object on stdout.

    python -m benchmarks.child audit RULES CSV JOBS PHASES  full audit via the Python API (PHASES: 1 or 0)
    python -m benchmarks.child floor CSV                    csv module + date.fromisoformat only
    python -m benchmarks.child startup RULES                import time, then rules parse + compile time
    python -m benchmarks.child capabilities                 does audit_files take `jobs`?
    python -m benchmarks.child pilot RULES MAPPING DATA     the CDISC pilot in-process, by phase
    python -m benchmarks.child engine-probe RULES CSV FEEDS RSS while re-feeding sessions
    python -m benchmarks.child profile RULES CSV OUT        cProfile of the audit, stats to OUT

Memory comes from /proc (VmRSS, VmHWM) and getrusage. With worker processes the audit process's
own peak (VmHWM) misses the workers, so the audit also reports the largest child's peak
(RUSAGE_CHILDREN, once the workers have exited) and samples the RSS of the whole process tree.

The phase split wraps functions the engine modules look up at call time (see HOOKS). They are optional:
a hook point that is missing, streams (returns an iterator) or runs in a worker is reported as n/a
(None), never an error. The wrappers act only in this process, never in a forked worker.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import hashlib
import inspect
import json
import os
import resource
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

MB = 1024 * 1024
_PARENT = os.getpid()
# The engine modules' functions timed when present: name -> phase label in the results.
HOOKS = ("read_logs", "build_sessions", "subject_session", "trial_session")


def status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM in bytes; empty if the process is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def children_peak() -> int:
    """The largest peak RSS of any child waited for so far (bytes; Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids += [int(x) for x in fh.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return kids


def pss(pid: int | str = "self") -> int | None:
    """Proportional set size in bytes: shared pages divided among the processes that map them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class TreeSampler(threading.Thread):
    """Samples the memory of this process plus all live descendants (worker processes).

    Every `interval` s: the sum of VmRSS (a forked worker's RSS counts the pages it shares with the
    parent, so the sum over-counts), and each process's VmHWM. Less often, as reading smaps_rollup
    walks page tables (about 5 ms at 1.5 GB): the sum of PSS, which splits shared pages among their
    processes, so its maximum estimates what the machine actually held. Both are samples: a spike
    between two is missed. The PSS interval adapts so that sampling stays near 1% of a core.
    """

    def __init__(self, interval: float = 0.05, pss_interval: float = 0.25):
        super().__init__(daemon=True)
        self.interval = interval
        self.pss_interval = pss_interval
        self.peak = 0
        self.pss_peak = 0
        self.samples = 0
        self.pss_samples = 0
        self.pids: set[int] = set()
        self.child_hwm: dict[int, int] = {}
        self._halt = threading.Event()
        self._next_pss = 0.0

    def _tree(self) -> list[int]:
        pids, frontier = [], _children(os.getpid())
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            frontier += _children(pid)
        return pids

    def sample(self, with_pss: bool = False) -> None:
        tree = self._tree()
        total = status().get("VmRSS", 0)
        for pid in tree:
            s = status(pid)
            if s:
                self.pids.add(pid)
                total += s.get("VmRSS", 0)
                self.child_hwm[pid] = max(self.child_hwm.get(pid, 0), s.get("VmHWM", 0))
        self.peak = max(self.peak, total)
        self.samples += 1
        if with_pss:
            t = time.perf_counter()
            shares = [pss(), *(pss(pid) for pid in tree)]
            self.pss_peak = max(self.pss_peak, sum(x for x in shares if x))
            self.pss_samples += 1
            self._next_pss = time.perf_counter() + max(self.pss_interval, 100 * (time.perf_counter() - t))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample(with_pss=time.perf_counter() >= self._next_pss)

    def stop(self) -> dict[str, Any]:
        self._halt.set()
        self.join()
        self.sample(with_pss=True)
        return {"tree_peak_sampled": self.peak, "tree_pss_peak_sampled": self.pss_peak or None,
                "tree_samples": self.samples, "tree_pss_samples": self.pss_samples,
                "workers_seen": len(self.pids), "workers_hwm_sum": sum(self.child_hwm.values()) or None,
                "worker_hwm_max": max(self.child_hwm.values(), default=None)}


# ---- optional phase hooks -------------------------------------------------------------------------

MARKS: dict[str, Any] = {"calls": Counter(), "seconds": Counter(), "streaming": set()}
_REAL: dict[str, Any] = {}


def _is_stream(value: object) -> bool:
    """A generator or iterator: the work happens later, so the call's own time says nothing."""
    return hasattr(value, "__next__") or inspect.isgenerator(value)


def _wrap(name: str) -> Callable:
    """A timing wrapper, registered in this module under its own name so that pickle finds it by reference."""
    real = _REAL[name]

    def timed(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != _PARENT:  # a forked worker inherits the patch: stay out of its way
            return real(*args, **kwargs)
        t = time.perf_counter()
        value = real(*args, **kwargs)
        now = time.perf_counter()
        MARKS["calls"][name] += 1
        MARKS["seconds"][name] += now - t
        if _is_stream(value):
            MARKS["streaming"].add(name)
        first = MARKS["calls"][name] == 1
        if name == "read_logs" and first:
            MARKS["read_end"] = now
            MARKS["rss_after_read"] = status().get("VmRSS")
        if name == "build_sessions" and first and not _is_stream(value):
            # Reset the high-water mark so the engine loop's own peak can be told apart.
            s = status()
            MARKS["rss_before_engine"] = s.get("VmRSS")
            MARKS["hwm_before_reset"] = s.get("VmHWM")
            MARKS["peak_reset"] = reset_peak()
            MARKS["sessions"] = len(value) if hasattr(value, "__len__") else None
            MARKS["engine_start"] = time.perf_counter()
        return value

    timed.__name__ = timed.__qualname__ = f"timed_{name}"
    timed.__module__, timed.__doc__, timed.__wrapped__ = __name__, real.__doc__, real  # type: ignore[attr-defined]
    globals()[timed.__name__] = timed
    return timed


def _timed_feed(self: Any, session: Any, facts: Any) -> Any:
    real = _REAL["Engine"].feed
    if os.getpid() != _PARENT:
        return real(self, session, facts)
    t = time.perf_counter()
    matches = real(self, session, facts)
    took = time.perf_counter() - t
    MARKS["calls"]["Engine.feed"] += 1
    MARKS["seconds"]["Engine.feed"] += took
    if session == "trial":
        MARKS["trial_feed_s"] = took
        MARKS["trial_facts"] = len(facts) if hasattr(facts, "__len__") else None
    return matches


TimedEngine: type | None = None  # module level, so that pickle could find it by name


def install_hooks(*modules: Any) -> list[str]:
    """Wrap whichever hook points `modules` have, each once; return their names. Never raises."""
    global TimedEngine
    installed = []
    for module in modules:
        for name in HOOKS:
            real = getattr(module, name, None)
            if name not in _REAL and callable(real) and not isinstance(real, type):
                try:
                    _REAL[name] = real
                    setattr(module, name, _wrap(name))
                    installed.append(name)
                except (AttributeError, TypeError):
                    continue
        base = getattr(module, "Engine", None)
        if "Engine" not in _REAL and isinstance(base, type) and callable(getattr(base, "feed", None)):
            try:
                _REAL["Engine"] = base
                TimedEngine = type("TimedEngine", (base,), {"feed": _timed_feed, "__module__": __name__})
                module.Engine = TimedEngine
                installed.append("Engine.feed")
            except TypeError:  # e.g. a final class
                pass
    return installed


def _phase(name: str) -> float | None:
    if not MARKS["calls"][name] or name in MARKS["streaming"]:
        return None
    return MARKS["seconds"][name]


def _audit(rules: str, log: str, jobs: str = "1", phases: str = "1") -> dict:
    t_imp = time.perf_counter()
    from jk500_rules.engine import audit as audit_mod
    from jk500_rules.engine import engines, judging, trial
    from jk500_rules import load_protocol
    from jk500_rules.reports.json_report import to_json
    from jk500_rules.reports.report_content import summary

    n_jobs = int(jobs)
    takes_jobs = "jobs" in inspect.signature(audit_mod.audit_files).parameters
    if n_jobs != 1 and not takes_jobs:
        raise SystemExit(f"jobs={n_jobs}: this audit_files has no `jobs` parameter")
    hooks = install_hooks(judging, trial, engines) if phases == "1" else []
    kwargs = {"jobs": n_jobs} if takes_jobs else {}
    sampler = TreeSampler()
    sampler.start()
    t0 = time.perf_counter()
    protocol = load_protocol(rules)
    t1 = time.perf_counter()
    result = audit_mod.audit_files(protocol, [log], **kwargs)
    t2 = time.perf_counter()
    s_audit = status()
    tree = sampler.stop()  # the workers are done: what follows is this process alone
    worker_peak = children_peak()
    report = to_json(result).encode()
    t3 = time.perf_counter()
    s_end = status()
    summ = summary(result)

    single = (MARKS["calls"]["read_logs"] == 1 and MARKS["calls"]["build_sessions"] == 1
              and not MARKS["streaming"] & {"read_logs", "build_sessions"} and "engine_start" in MARKS)
    reset = bool(MARKS.get("peak_reset"))
    before_reset = MARKS.get("hwm_before_reset") or 0
    peak_audit = max(before_reset, s_audit.get("VmHWM", 0))
    peak = max(peak_audit, s_end.get("VmHWM", 0))
    by_rule = summ.get("findings_by_rule")
    if isinstance(by_rule, dict):
        findings_by_rule = {k: (v.get("deviation", 0) if isinstance(v, dict) else v) for k, v in by_rule.items()}
    else:
        findings_by_rule = dict(Counter(f.rule.id for f in result.findings if f.status == "deviation"))
    return {
        "startup_s": t_imp - _T_START,
        "import_s": t0 - t_imp,
        "compile_s": t1 - t0,
        "audit_files_s": t2 - t1,
        "report_s": t3 - t2,
        "work_s": t3 - t1,  # audit_files + to_json: what grows with the log
        "total_s": t3 - t0,  # load_protocol + audit_files + to_json
        "jobs": n_jobs if takes_jobs else None,
        "hooks": hooks,
        "hook_calls": dict(MARKS["calls"]),
        "hook_streaming": sorted(MARKS["streaming"]),
        "read_s": _phase("read_logs"),
        "sessions_s": _phase("build_sessions"),
        "subject_session_s": _phase("subject_session"),
        "trial_session_s": _phase("trial_session"),
        "feed_s": _phase("Engine.feed"),
        "trial_feed_s": MARKS.get("trial_feed_s"),
        "trial_facts": MARKS.get("trial_facts"),
        # everything in audit_files after the one build_sessions call: engine loop, judging, sorting
        "engine_s": t2 - MARKS["engine_start"] if single else None,
        # between read_logs and build_sessions: the loop that splits used from not-used records
        "other_s": (MARKS["engine_start"] - MARKS["read_end"] - MARKS["seconds"]["build_sessions"]) if single else None,
        "rss_after_read": MARKS.get("rss_after_read"),
        "rss_before_engine": MARKS.get("rss_before_engine") if single else None,
        "peak_engine": s_audit.get("VmHWM") if single and reset else None,
        "rss_after_engine": s_audit.get("VmRSS"),
        "rss_end": s_end.get("VmRSS"),
        "peak_rss_audit": peak_audit,  # this process, load_protocol + audit_files
        "peak_rss": peak,  # this process, to_json included
        "worker_peak_rss": worker_peak or None,  # largest exited child (worker), RUSAGE_CHILDREN
        **tree,
        "sessions": MARKS.get("sessions"),
        "report_bytes": len(report),
        "report_sha256": hashlib.sha256(report).hexdigest(),
        "read": summ.get("records_read"),
        "audited": summ.get("records_audited"),
        "not_used": summ.get("records_not_used"),
        "rejected": summ.get("records_rejected"),
        "subjects": summ.get("subjects"),
        "findings": summ.get("findings", len(result.findings)),
        "findings_by_rule": findings_by_rule,
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
    from jk500_rules.engine import audit as audit_mod
    from jk500_rules.reports import text_report
    from jk500_rules import load_protocol

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

    from jk500_rules.engine.audit import audit_files
    from jk500_rules import load_protocol
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
        out = _audit(*args)
    elif mode == "floor":
        out = _floor(*args)
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
