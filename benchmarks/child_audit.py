"""The benchmark child's main measurement: one audit through the Python API, its time by phase and its memory."""

from __future__ import annotations

import hashlib
import inspect
import time
from collections import Counter

from .hooks import MARKS, install_hooks, phase_seconds
from .memory import TreeSampler, children_peak, status


def audit(started: float, rules: str, log: str, jobs: str = "1", phases: str = "1") -> dict:
    """load_protocol, audit_files with `jobs` workers, then to_json; `started`: the child's start (perf_counter)."""
    t_imp = time.perf_counter()
    from jk500_rules import load_protocol
    from jk500_rules.engine import audit as audit_mod
    from jk500_rules.engine import engines, judging, trial
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
        "startup_s": t_imp - started,
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
        "read_s": phase_seconds("read_logs"),
        "sessions_s": phase_seconds("build_sessions"),
        "subject_session_s": phase_seconds("subject_session"),
        "trial_session_s": phase_seconds("trial_session"),
        "feed_s": phase_seconds("Engine.feed"),
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
