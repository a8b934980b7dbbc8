"""`python -m benchmarks`: generate seeded JK500 visit logs, audit them in fresh processes, print tables."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jk500_rules.reports.monitoring import file_sha256

from .generate import REPO, generate, write_rules

OUT = Path(__file__).resolve().parent / "out"
MB = 1024 * 1024
LARGE = 1_000_000  # sizes from here on are repeated --repeat-large times
RUN_TIME = "2026-01-01T00:00:00Z"  # fixed, so that the CLI's JSON reports can be compared byte for byte
PILOT_RULES = REPO / "examples" / "cdiscpilot01" / "protocol.rules"
PILOT_MAPPING = REPO / "examples" / "cdiscpilot01" / "mapping.toml"
# The targets the issue sets, shown next to the figures.
TARGET_FLOOR_RATIO = 3.0  # 1M audit within 3x the read floor
TARGET_FLAT = 1.3  # cost per record within 1.3x of the smallest size's, up to 10M
TARGET_PILOT_S = 1.0  # the CDISC pilot's full audit, wall


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
    """Generate one log, then per repeat: the read floor, the API audit for each jobs value, the CLI for each."""
    t = time.perf_counter()
    gen = generate(size, seed, out_dir, deviation_rate)
    gen_s = time.perf_counter() - t
    floors: list[dict] = []
    audits: dict[int, list[dict]] = {j: [] for j in api_jobs}
    clis: dict[int | None, list[dict]] = {j: [] for j in cli_jobs}
    for k in range(repeat):
        # Interleaved, so that a slow spell on a shared machine does not land on one jobs value only.
        floors.append(_child("floor", str(gen.csv_path)))
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
        print(f"warning: {size}: findings {first.get('findings')} (by rule {_nonzero(first['findings_by_rule'])}) "
              f"differ from the planted deviations {dict(gen.expected)}", file=sys.stderr)
    for what, same in (("API", row["api_identical"]), ("CLI", row["cli_identical"])):
        if same is False:
            print(f"warning: {size}: the {what} JSON reports differ between jobs values or runs", file=sys.stderr)
    if not keep:
        gen.csv_path.unlink(missing_ok=True)
    return row


def _nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def _as_planted(run: dict, expected: dict) -> bool:
    """The audit found exactly the planted deviations: per rule, and no other finding of any status."""
    return _nonzero(run["findings_by_rule"]) == dict(expected) and run["findings"] == sum(expected.values())


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


# ---- rendering (markdown tables, ready for benchmarks/README.md) ----------------------------------

THROUGHPUT_LEGEND = (
    "start-up: imports + `load_protocol` in the audit process. audit s: `audit_files` + `to_json` "
    "(rec/s, µs/rec and the ratio to the first size use it). audit+load s: `load_protocol` + "
    "`audit_files` + `to_json` (audit/floor uses it, as before). CLI wall: `python -m jk500_rules "
    "audit --format json -o FILE` end to end (interpreter, input hashing, report writing, exit).")
MEMORY_LEGEND = (
    "audit peak: VmHWM of the audit process (`load_protocol` + `audit_files`); incl. to_json: to "
    "the end, with the report string. largest worker: RUSAGE_CHILDREN ru_maxrss once the workers "
    "exited. bound: audit peak + jobs × largest worker, an upper bound for the audit (pages shared "
    "with the parent count in each). tree PSS sampled: the largest sum of PSS (shared pages divided "
    "among their processes) over the audit process and its live workers during `audit_files`, sampled "
    "every 0.25 s or more (may miss spikes): an estimate of what the machine held. ÷ 1M's: against "
    "the same jobs value at 1M. CLI largest process: wait4's ru_maxrss (the CLI process or one of its "
    "workers, report writing included).")


def _mb(x: float | None) -> str:
    return "n/a" if x is None else f"{x / MB:,.0f}"


def _s(x: float | None, places: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{places}f}"


def _x(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _yes(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "NO")


def _table(head: list[str], rows: list[list[str]], right: int = 0) -> list[str]:
    """A markdown table; columns from index `right` on are right-aligned (figures), those before left."""
    align = ["---" if i < right else "---:" for i in range(len(head))]
    return ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def _upper_bound(a: dict) -> float | None:
    """The audit process's peak (to the end of audit_files) plus `jobs` times the largest worker's.

    No moment of the audit held more, since at most `jobs` workers run at once. to_json is left out:
    it holds the whole report as one string, which says nothing about how the audit itself scales.
    """
    if a.get("peak_rss_audit") is None:
        return None
    workers = a.get("worker_peak_rss") or a.get("worker_hwm_max") or 0
    return a["peak_rss_audit"] + ((a["jobs"] or 1) if workers else 0) * workers


def _ratio(x: float | None, y: float | None) -> float | None:
    return x / y if x and y else None


def _per_record(a: dict, records: int) -> float | None:
    return None if not a.get("work_s") else a["work_s"] / records * 1e6


def render(results: dict) -> str:
    m, rows = results["machine"], results["sizes"]
    load = m.get("loadavg")
    lines = [f"machine: {m['cpu']}, nproc {m['nproc']}, {m['implementation']} {m['python']}, {m['platform']}",
             f"date: {m['date']}   load average at start: {', '.join(f'{x:.2f}' for x in load) if load else 'n/a'}",
             (f"seed: {results['seed']}   repeat: {results['repeat']} (sizes >= {LARGE:,}: "
              f"{results['repeat_large']}); medians"),
             f"command: {results['command']}"]
    for note in results.get("notes", []):
        lines.append(f"note: {note}")
    lines.append("")

    st = results.get("startup")
    if st:
        lines += ["Start-up (medians)", ""]
        lines += _table(["what", "s"], [
            ["`python -c pass`", _s(st["python_bare_s"])],
            ["`python -m jk500_rules --version`", _s(st["cli_version_s"])],
            ["import jk500_rules.cli + audit + report", _s(st["import_s"])],
            ["`load_protocol` (parse + compile)", _s(st["compile_s"])],
            ["engine ruleset create + delete", _s(st["engine_ruleset_s"])]], right=1)
        lines.append("")

    base = {a["jobs"]: _per_record(a, r["records"]) for r in rows[:1] for a in r["audits"]}
    first_size = rows[0]["records"] if rows else 0
    lines += ["Throughput: API audit in a fresh process vs the read floor (csv + date.fromisoformat, same file)", ""]
    body = []
    for r in rows:
        for a in r["audits"]:
            us = _per_record(a, r["records"])
            ratio = us / base[a["jobs"]] if us and base.get(a["jobs"]) else None
            floor = r["floor"]["total_s"]
            cli = next((c for c in r["cli"] if c["jobs"] in (a["jobs"], None)), None)
            body.append([f"{r['records']:,}", str(a["jobs"]), _s((a["import_s"] or 0) + (a["compile_s"] or 0)),
                         _s(a["work_s"]), f"{r['records'] / a['work_s']:,.0f}", _s(us, 1), _x(ratio),
                         _s(a["total_s"]), _s(floor), f"{a['total_s'] / floor:.1f}",
                         _s(cli["wall_s"]) if cli else "n/a", _yes(a["as_planted"])])
    lines += _table(["N records", "jobs", "start-up s", "audit s", "rec/s", "µs/rec", f"÷ {first_size:,}",
                     "audit+load s", "floor s", "audit/floor", "CLI wall s", "as planted"], body)
    lines += ["", THROUGHPUT_LEGEND, ""]

    lines += ["Memory (MB): peak RSS of the audit process, of its largest worker, their bound, and the sampled "
              + "whole-tree peak", ""]
    body = []
    ref = {a["jobs"]: a for r in rows if r["size"] == LARGE for a in r["audits"]}
    for r in rows:
        for a in r["audits"]:
            at_1m = ref.get(a["jobs"])
            bound = _upper_bound(a)
            pss = a.get("tree_pss_peak_sampled")
            cli = next((c for c in r["cli"] if c["jobs"] in (a["jobs"], None)), None)
            body.append([f"{r['records']:,}", str(a["jobs"]), f"{r['file_bytes'] / MB:,.1f}", str(r["largest_subject"]),
                         _mb(a["peak_rss_audit"]), _mb(a["peak_rss"]), _mb(a["worker_peak_rss"]),
                         _mb(bound), _mb(pss), _x(_ratio(bound, _upper_bound(at_1m) if at_1m else None)),
                         _x(_ratio(pss, at_1m.get("tree_pss_peak_sampled") if at_1m else None)),
                         _mb(cli["max_rss"]) if cli else "n/a", _mb(r["floor"]["peak_rss"])])
    lines += _table(["N records", "jobs", "input MB", "largest subject (records)", "audit peak",
                     "peak incl. to_json", "largest worker", "bound", "tree PSS sampled", "bound ÷ 1M's",
                     "PSS ÷ 1M's", "CLI largest process", "floor peak"], body)
    lines += ["", MEMORY_LEGEND, ""]

    lines += ["Phases where measurable in the audit process (seconds, medians; n/a: not called there, called "
              + "more than once where one call is needed, or streamed)", ""]
    body = []
    for r in rows:
        for a in r["audits"]:
            growth = None if a["peak_engine"] is None or a["rss_before_engine"] is None \
                else a["peak_engine"] - a["rss_before_engine"]
            body.append([f"{r['records']:,}", str(a["jobs"]), _s(a["compile_s"]), _s(a["read_s"]),
                         _s(a["sessions_s"]), _s(a["subject_session_s"]), _s(a["trial_session_s"]),
                         _s(a["feed_s"]), _s(a["trial_feed_s"]), _s(a["engine_s"]), _s(a["other_s"]),
                         _s(a["report_s"]), _mb(a["rss_after_read"]), _mb(a["rss_before_engine"]),
                         _mb(a["peak_engine"]), _mb(growth), _mb(a["rss_end"])])
    lines += _table(["N", "jobs", "compile", "read_logs", "build_sessions", "subject_session", "trial_session",
                     "Engine.feed", "(trial feed)", "engine loop", "other", "to_json", "RSS after read",
                     "RSS pre-engine", "engine peak", "engine +MB", "RSS end"], body)
    lines.append("")

    lines += ["Identical reports across jobs (sha256 of the JSON report, every jobs value and every repeat)", ""]
    body = []
    for r in rows:
        api = ", ".join(f"{a['jobs']}: {'/'.join(s[:12] for s in a['report_sha256'])}" for a in r["audits"])
        cli = ", ".join(f"{c['jobs'] or 'default'}: {'/'.join(s[:12] for s in c['sha256'])}" for c in r["cli"])
        body.append([f"{r['records']:,}", api, _yes(r["api_identical"]), cli or "not run", _yes(r["cli_identical"])])
    lines += _table(["N", "API to_json by jobs", "identical across jobs (API)", "CLI report by jobs",
                     "identical across jobs (CLI)"], body, right=5)
    lines.append("")

    lines.append("Generated logs and record accounting (first run)")
    for r in rows:
        c = r["counts"]
        parts = [c.get(k) for k in ("read", "audited", "not_used", "rejected")]
        ok = None not in parts and parts[0] == sum(parts[1:])
        lines.append(f"- {r['records']:,} records, {r['subjects']:,} subjects, {r['file_bytes'] / MB:,.1f} MB, "
                     f"largest subject {r['largest_subject']} records, {r['trial_rows']} trial rows; generated in "
                     f"{r['generate_s']:.1f} s ({r['generate_runs_merged']} sorted run(s) merged)")
        lines.append(f"  read {c.get('read')} = audited {c.get('audited')} + not used {c.get('not_used')} + "
                     f"rejected {c.get('rejected')}: {'ok' if ok else 'MISMATCH'}; trial facts {c.get('trial_facts')}; "
                     f"findings by rule {_nonzero(c.get('findings_by_rule') or {})}: "
                     f"{'as planted' if r['as_planted'] else 'NOT AS PLANTED'} {r['planted']}")
        calls = c.get("hook_calls") or {}
        said = (", ".join(f"{k} ×{v}" for k, v in calls.items()) or "none called in the audit process") \
            if c.get("hooks") else "none installed (--no-phases, or the audit module has none of them)"
        lines.append(f"  phase hooks (first run, jobs {r['audits'][0]['jobs']}): {said}")
    lines.append("")

    lines += _targets(results)

    p = results.get("pilot")
    if p:
        lines.append("")
        if "skipped" in p:
            lines.append(f"CDISC pilot: skipped: {p['skipped']}")
        else:
            lines += [f"CDISC pilot, audited from XPT by the CLI in a fresh process (`{p['command']}`)", ""]
            lines += _table(["--jobs", "wall s (median)", "runs s", "largest process MB", "exit codes"],
                            [[str(b["jobs"]) if b["jobs"] is not None else "default", _s(b["wall_s"]),
                              ", ".join(f"{x:.3f}" for x in b["runs_s"]), _mb(b["max_rss"]),
                              ", ".join(map(str, b["exit_codes"]))] for b in p.get("by_jobs", [p])], right=1)
            lines.append("")
            ph = p.get("phases")
            if ph:
                lines.append(f"  in-process: import {_s(ph['import_s'])}, load rules {_s(ph['compile_s'])}, read XPT "
                             f"{_s(ph['read_s'])}, audit {_s(ph['audit_s'])} (read + audit "
                             f"{_s(ph['audit_files_s'])}), provenance {_s(ph['provenance_s'])}, report (text) "
                             f"{_s(ph['report_s'])}; total {_s(ph['total_s'])} s, process "
                             f"{_s(ph['process_wall_s'])} s, {p.get('findings')} findings, peak "
                             f"{_mb(ph['peak_rss'])} MB")
            else:
                lines.append(f"  in-process phases not measured: {p.get('phases_skipped', '')[:300]}")

    probe = results.get("engine_probe")
    if probe and "skipped" in probe:
        lines += ["", f"Engine probe: skipped: {probe['skipped'][:300]}"]
    elif probe:
        lines.append("")
        lines.append(f"Engine probe: {probe['feeds']:,} session feeds cycling over {probe['distinct_sessions']} "
                     f"subject sessions ({probe['facts_per_session']:.1f} facts each), fresh session names, "
                     f"{probe['seconds']:.2f} s ({probe['feeds'] / probe['seconds']:,.0f} sessions/s)")
        lines.append("  RSS MB at feeds: " + ", ".join(f"{i:,}: {rss / MB:.1f}" for i, rss in probe["samples"]))
        lines.append(f"  slope after the first sample: {probe['bytes_per_feed']:.1f} bytes per session fed")
    return "\n".join(lines) + "\n"


def _targets(results: dict) -> list[str]:
    """The issue's targets against this run's figures (n/a where the run did not cover them)."""
    rows = results["sizes"]
    out = ["Targets", ""]
    body = []
    for a in (rows[0]["audits"] if rows else []):
        j = a["jobs"]
        at = {r["size"]: next(x for x in r["audits"] if x["jobs"] == j) | {"_r": r} for r in rows}
        one_m = at.get(LARGE)
        ratio = one_m["total_s"] / one_m["_r"]["floor"]["total_s"] if one_m else None
        body.append([f"1M audit within {TARGET_FLOOR_RATIO:g}× the read floor (jobs {j})",
                     "n/a (1M not run)" if ratio is None else f"{ratio:.1f}×",
                     "n/a" if ratio is None else _yes(ratio <= TARGET_FLOOR_RATIO)])
        per = {s: _per_record(x, x["_r"]["records"]) for s, x in at.items()}
        smallest = min(per)
        flat = max(v / per[smallest] for v in per.values()) if len(per) > 1 else None
        body.append([f"cost per record within {TARGET_FLAT:g}× from {smallest:,} to {max(per):,} (jobs {j})",
                     "n/a (one size)" if flat is None else f"{flat:.2f}× (largest ratio)",
                     "n/a" if flat is None else _yes(flat <= TARGET_FLAT)])
        biggest = max(at)
        if one_m and biggest > LARGE:
            b1, b2 = _upper_bound(one_m), _upper_bound(at[biggest])
            p1, p2 = one_m.get("tree_pss_peak_sampled"), at[biggest].get("tree_pss_peak_sampled")
            body.append([f"peak memory bounded by the largest subject: {biggest:,} vs 1M (jobs {j})",
                         (f"bound {_mb(b2)} / {_mb(b1)} MB = {_x(_ratio(b2, b1))}×, PSS {_mb(p2)} / {_mb(p1)} MB = "
                          f"{_x(_ratio(p2, p1))}×, for {biggest // LARGE}× the input; largest subject "
                          f"{at[biggest]['_r']['largest_subject']} records"), "no threshold set"])
    p = results.get("pilot") or {}
    if p.get("wall_s") is not None:
        best = min(p.get("by_jobs", [p]), key=lambda b: b["wall_s"])
        also = f" (best: {best['wall_s']:.3f} s with --jobs {best['jobs']})" if best["jobs"] is not None else ""
        body.append([f"CDISC pilot full audit within {TARGET_PILOT_S:g} s wall (default --jobs)",
                     f"{p['wall_s']:.3f} s{also}", _yes(p["wall_s"] <= TARGET_PILOT_S)])
    same = [r[k] for r in rows for k in ("api_identical", "cli_identical") if r[k] is not None]
    body.append(["identical output for every --jobs N", f"{len(same)} comparison(s)",
                 _yes(all(same)) if same else "n/a (one jobs value)"])
    return out + _table(["target", "this run", "met"], body, right=3)


def _profile(size: int, seed: int, out_dir: Path, deviation_rate: float, top: int) -> str:
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


def _int_list(text: str) -> list[int]:
    values = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    return list(dict.fromkeys(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated record counts (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--repeat-large", type=int, default=1, metavar="K",
                        help=f"runs per measurement for sizes >= {LARGE:,} (default: %(default)s)")
    parser.add_argument("--jobs", default=f"1,{os.cpu_count() or 1}", metavar="LIST",
                        help="comma-separated --jobs values; the audit runs once per value (default: %(default)s)")
    parser.add_argument("--cli", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the CLI end to end per size and jobs value, and compare its reports")
    parser.add_argument("--phases", action=argparse.BooleanOptionalAction, default=True,
                        help="time the audit's phases by wrapping its functions (--no-phases: plain timing)")
    parser.add_argument("--pilot", action=argparse.BooleanOptionalAction, default=True,
                        help="time the CDISC pilot audit from XPT ($JK500_SHARED_DATA/cdiscpilot01)")
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--deviation-rate", type=float, default=0.02,
                        help="fraction of subjects with one planted deviation (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep generated files in benchmarks/out/")
    parser.add_argument("--probe-feeds", type=int, default=20000,
                        help="engine probe: sessions fed to one engine (0 to skip; default: %(default)s)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="also print a cProfile of one audit of N records (jobs 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    sizes = _int_list(args.sizes)
    jobs = _int_list(args.jobs)
    if not jobs or min(jobs) < 1:
        parser.error("--jobs: positive integers, e.g. 1,2")

    caps = capabilities()
    notes = []
    api_jobs = jobs if caps["api_jobs"] else [1]
    if not caps["api_jobs"]:
        notes.append(f"audit_files has no `jobs` parameter: the API audit ran with jobs=1 only (asked: {args.jobs})")
    cli_jobs: list[int | None] = []
    if args.cli:
        cli_jobs = list(jobs) if caps["cli_jobs"] else [None]
        if not caps["cli_jobs"]:
            notes.append("`jk500-rules audit` has no --jobs: the CLI ran once per size, without it")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    if args.keep:
        out_dir = OUT
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = Path(tempfile.mkdtemp(prefix="jk500-bench-"))
    try:
        rules = write_rules(out_dir)
        results: dict = {"machine": machine(), "seed": args.seed, "repeat": args.repeat,
                         "repeat_large": args.repeat_large, "capabilities": caps, "notes": notes,
                         "command": " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]),
                         "startup": startup(rules, max(args.repeat, 5)), "sizes": []}
        for size in sizes:
            repeat = args.repeat_large if size >= LARGE else args.repeat
            print(f"... {size:,} records, {repeat} run(s), API jobs {api_jobs}, CLI jobs {cli_jobs or 'not run'}",
                  file=sys.stderr, flush=True)
            row = measure(size, args.seed, out_dir, repeat, args.deviation_rate, api_jobs, cli_jobs,
                          phases=args.phases, keep=args.keep)
            results["sizes"].append(row)
        if args.pilot:
            print("... CDISC pilot", file=sys.stderr, flush=True)
            results["pilot"] = pilot(pilot_data(), max(args.repeat, 1), jobs if caps["cli_jobs"] else None)
        if args.probe_feeds:
            probe_size = min(sizes) if sizes else 10000
            gen = generate(probe_size, args.seed, out_dir, args.deviation_rate)
            try:
                results["engine_probe"] = _child("engine-probe", str(gen.rules_path), str(gen.csv_path),
                                                 str(args.probe_feeds))
            except ChildFailed as exc:  # it calls the engine's internals directly, which may have moved
                results["engine_probe"] = {"skipped": str(exc)}
        text = render(results)
        sys.stdout.write(text)
        if args.profile:
            sys.stdout.write("\n" + _profile(args.profile, args.seed, out_dir, args.deviation_rate, 25))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    return 0
