"""The benchmark's measurements: each in a fresh child process, gathered into the rows the tables show."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jk500_rules.reports.monitoring import file_sha256

from .generate import REPO, generate

LARGE = 1_000_000  # sizes from here on are repeated --repeat-large times
RUN_TIME = "2026-01-01T00:00:00Z"  # fixed, so that the CLI's JSON reports can be compared byte for byte
PILOT_RULES = REPO / "examples" / "cdiscpilot01" / "protocol.rules"
PILOT_MAPPING = REPO / "examples" / "cdiscpilot01" / "mapping.toml"


class ChildFailed(RuntimeError):
    pass


def _child(*args: str) -> dict:
    """Run benchmarks.child in a fresh interpreter (cwd = repo, so `-m benchmarks.child` resolves)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.child", *args], cwd=REPO,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise ChildFailed(f"benchmark child {args[0]} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall  # interpreter start-up and exit included
    return out


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - t


def _timed_process(cmd: list[str], ok: tuple[int, ...] = (0, 1)) -> dict:
    """Wall time and peak RSS of a command; the peak is wait4's: the largest process of its tree."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
        _, wait_status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = code = os.waitstatus_to_exitcode(wait_status)
        if code not in ok:
            err.seek(0)
            raise ChildFailed(f"{' '.join(cmd)} exited {code}:\n{err.read().decode(errors='replace')[-4000:]}")
    return {"wall_s": wall, "max_rss": usage.ru_maxrss * 1024, "exit_code": code}


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "loadavg": load}


def capabilities() -> dict:
    """Whether the installed audit_files and CLI take --jobs (the parallel audit may not be there yet)."""
    caps = _child("capabilities")
    help_text = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--help"], cwd=REPO,
                               capture_output=True, text=True, check=False).stdout
    caps["cli_jobs"] = "--jobs" in help_text
    return caps


def startup(rules: Path, repeat: int) -> dict:
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    version = [_wall([sys.executable, "-m", "jk500_rules", "--version"]) for _ in range(repeat)]
    inner = [_child("startup", str(rules)) for _ in range(repeat)]
    return {"python_bare_s": statistics.median(bare), "cli_version_s": statistics.median(version),
            "import_s": _median(inner, "import_s"), "compile_s": _median(inner, "compile_s"),
            "engine_ruleset_s": _median(inner, "engine_ruleset_s"),
            "peak_rss": _median(inner, "peak_rss")}


AUDIT_KEYS = ("total_s", "work_s", "audit_files_s", "import_s", "compile_s", "report_s", "process_wall_s",
              "read_s", "sessions_s", "subject_session_s", "trial_session_s", "feed_s", "trial_feed_s",
              "engine_s", "other_s", "rss_after_read", "rss_before_engine", "peak_engine", "rss_after_engine",
              "rss_end", "peak_rss_audit", "peak_rss", "worker_peak_rss", "tree_peak_sampled", "tree_pss_peak_sampled",
              "workers_seen", "workers_hwm_sum", "worker_hwm_max")
COUNT_KEYS = ("read", "audited", "not_used", "rejected", "subjects", "findings", "sessions", "trial_facts",
              "findings_by_rule", "report_bytes", "hooks", "hook_calls", "hook_streaming")


def _cli_audit(rules: Path, csv: Path, jobs: int | None, out: Path) -> dict:
    """`python -m jk500_rules audit ... --format json -o OUT`, timed end to end, and its report's sha256."""
    cmd = [sys.executable, "-m", "jk500_rules", "audit", "--rules", str(rules), "--format", "json",
           "-o", str(out), str(csv), "--run-time", RUN_TIME]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    run = _timed_process(cmd, ok=(0, 1, 3))  # 1: findings; 3: rows rejected (warned about below)
    run["sha256"] = file_sha256(out)
    run["report_bytes"] = out.stat().st_size
    return run


def measure(size: int, seed: int, out_dir: Path, repeat: int, deviation_rate: float, api_jobs: list[int],
            cli_jobs: list[int | None], phases: bool = True, keep: bool = False) -> dict:
    """Generate one log, then per repeat: the read floor, the engine floor, the API audit for each jobs value,
    the CLI for each."""
    t = time.perf_counter()
    gen = generate(size, seed, out_dir, deviation_rate)
    gen_s = time.perf_counter() - t
    floors: list[dict] = []
    engine_floors: list[dict] = []
    audits: dict[int, list[dict]] = {j: [] for j in api_jobs}
    clis: dict[int | None, list[dict]] = {j: [] for j in cli_jobs}
    for k in range(repeat):
        # Interleaved, so that a slow spell on a shared machine does not land on one jobs value only.
        floors.append(_child("floor", str(gen.csv_path)))
        engine_floors.append(_child("engine-floor", str(gen.rules_path), str(gen.csv_path)))
        for j in api_jobs:
            audits[j].append(_child("audit", str(gen.rules_path), str(gen.csv_path), str(j), "1" if phases else "0"))
        for j in cli_jobs:
            report = out_dir / f"report-{size}-jobs{j or 'default'}.json"
            clis[j].append(_cli_audit(gen.rules_path, gen.csv_path, j, report))
            if not (keep and k == 0):
                report.unlink(missing_ok=True)  # 760 MB at 10M: hashed, then gone
        print(f"    run {k + 1}/{repeat}: floor {floors[-1]['total_s']:.2f} s; "
              + "; ".join(f"jobs {j}: audit {audits[j][-1]['total_s']:.2f} s" for j in api_jobs)
              + "".join(f"; CLI jobs {j or 'default'} {clis[j][-1]['wall_s']:.2f} s" for j in cli_jobs),
              file=sys.stderr, flush=True)
    first = audits[api_jobs[0]][0]
    api_shas = {r["report_sha256"] for runs in audits.values() for r in runs}
    cli_shas = {r["sha256"] for runs in clis.values() for r in runs}
    row = {
        "size": size, "records": gen.records, "subjects": gen.subjects, "file_bytes": gen.file_bytes,
        "largest_subject": gen.largest_subject, "trial_rows": gen.trial_rows,
        "generate_s": gen_s, "generate_runs_merged": gen.runs,
        "planted": dict(gen.planted), "expected": dict(gen.expected), "repeat": repeat,
        "floor": {k: _median(floors, k) for k in ("total_s", "peak_rss")},
        "floor_runs_s": [f["total_s"] for f in floors],
        # The same run's engine floor: the audit's fact batches into a rule that never matches (child.py).
        "engine_floor": {**{k: _median(engine_floors, k) for k in ("total_s", "cpu_s")},
                         "batches": engine_floors[0]["batches"], "facts": engine_floors[0]["facts"]},
        "audits": [{"jobs": j, "jobs_passed": runs[0].get("jobs") is not None,
                    **{k: _median(runs, k) for k in AUDIT_KEYS},
                    "runs_s": [r["total_s"] for r in runs],
                    "as_planted": all(_as_planted(r, gen.expected) for r in runs),
                    "report_sha256": sorted({r["report_sha256"] for r in runs})} for j, runs in audits.items()],
        "cli": [{"jobs": j, "wall_s": _median(runs, "wall_s"), "max_rss": _median(runs, "max_rss"),
                 "runs_s": [r["wall_s"] for r in runs], "exit_codes": sorted({r["exit_code"] for r in runs}),
                 "report_bytes": runs[0]["report_bytes"], "sha256": sorted({r["sha256"] for r in runs})}
                for j, runs in clis.items()],
        # one report for every jobs value and every repeat (None: nothing to compare)
        "api_identical": len(api_shas) == 1 if len(api_jobs) > 1 else None,
        "cli_identical": len(cli_shas) == 1 if len([j for j in cli_jobs if j is not None]) > 1 else None,
        "counts": {k: first.get(k) for k in COUNT_KEYS},
        "csv": str(gen.csv_path), "rules": str(gen.rules_path),
    }
    row["as_planted"] = all(a["as_planted"] for a in row["audits"])
    if first.get("read") != gen.records or first.get("rejected"):
        print(f"warning: {size}: generated {gen.records} records, the audit read {first.get('read')} "
              f"and rejected {first.get('rejected')}", file=sys.stderr)
    if not row["as_planted"]:
        print(f"warning: {size}: findings {first.get('findings')} (by rule {nonzero(first['findings_by_rule'])}) "
              f"differ from the planted deviations {dict(gen.expected)}", file=sys.stderr)
    for what, same in (("API", row["api_identical"]), ("CLI", row["cli_identical"])):
        if same is False:
            print(f"warning: {size}: the {what} JSON reports differ between jobs values or runs", file=sys.stderr)
    if not keep:
        gen.csv_path.unlink(missing_ok=True)
    return row


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def _as_planted(run: dict, expected: dict) -> bool:
    """The audit found exactly the planted deviations: per rule, and no other finding of any status."""
    return nonzero(run["findings_by_rule"]) == dict(expected) and run["findings"] == sum(expected.values())


def pilot(data: Path, repeat: int, jobs: list[int] | None = None) -> dict:
    """The CDISC pilot study audited from its XPT files by the CLI, as a fresh process each time.

    Run as given (the CLI's default --jobs), then once per value of `jobs` if the CLI takes --jobs:
    worker start-up is a fixed cost that weighs most on a study this small.
    """
    if not data.is_dir():
        return {"skipped": f"no CDISC pilot data in {data} (set JK500_SHARED_DATA to the folder holding "
                           "cdiscpilot01/)"}
    cmd = [sys.executable, "-m", "jk500_rules", "audit", "--rules", str(PILOT_RULES),
           "--mapping", str(PILOT_MAPPING), str(data)]
    variants: list[int | None] = [None, *(jobs or [])]
    runs: dict[int | None, list[dict]] = {j: [] for j in variants}
    for _ in range(repeat):
        for j in variants:
            runs[j].append(_timed_process(cmd if j is None else [*cmd, "--jobs", str(j)]))
    by_jobs = [{"jobs": j, "wall_s": _median(rs, "wall_s"), "runs_s": [r["wall_s"] for r in rs],
                "max_rss": _median(rs, "max_rss"), "exit_codes": sorted({r["exit_code"] for r in rs})}
               for j, rs in runs.items()]
    out: dict[str, Any] = {"data": str(data), "command": " ".join(["python", *cmd[1:]]), **by_jobs[0],
                           "by_jobs": by_jobs}
    try:
        inner = [_child("pilot", str(PILOT_RULES), str(PILOT_MAPPING), str(data)) for _ in range(repeat)]
        out["phases"] = {k: _median(inner, k) for k in ("import_s", "compile_s", "read_s", "audit_s",
                                                         "audit_files_s", "provenance_s", "report_s", "total_s",
                                                         "process_wall_s", "peak_rss")}
        out["findings"] = inner[0]["findings"]
    except ChildFailed as exc:
        out["phases_skipped"] = str(exc)
    return out


def pilot_data() -> Path:
    base = os.environ.get("JK500_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    return Path(base) / "cdiscpilot01"


def profile(size: int, seed: int, out_dir: Path, deviation_rate: float, top: int) -> str:
    """A cProfile of one audit of a generated log (jobs 1): the `top` functions by own and by cumulative time."""
    import io
    import pstats

    gen = generate(size, seed, out_dir, deviation_rate)
    stats_path = out_dir / f"audit-{size}.prof"
    info = _child("profile", str(gen.rules_path), str(gen.csv_path), str(stats_path))
    buf = io.StringIO()
    stats = pstats.Stats(str(stats_path), stream=buf)
    stats.strip_dirs()
    buf.write(f"cProfile of the audit of {gen.records:,} records (jobs 1): {info['profiled_s']:.2f} s under the profiler\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def engine_probe(size: int, seed: int, out_dir: Path, deviation_rate: float, feeds: int) -> dict:
    """RSS of one engine fed `feeds` subject sessions of a generated log, or why the probe was skipped."""
    gen = generate(size, seed, out_dir, deviation_rate)
    try:
        return _child("engine-probe", str(gen.rules_path), str(gen.csv_path), str(feeds))
    except ChildFailed as exc:  # it calls the engine's internals directly, which may have moved
        return {"skipped": str(exc)}
