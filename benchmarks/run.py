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

from .generate import REPO, generate, write_rules

OUT = Path(__file__).resolve().parent / "out"
MB = 1024 * 1024


def _child(*args: str) -> dict:
    """Run benchmarks.child in a fresh interpreter (cwd = repo, so `-m benchmarks.child` resolves)."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.child", *args], cwd=REPO,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - t


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
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds")}


def startup(rules: Path, repeat: int) -> dict:
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    version = [_wall([sys.executable, "-m", "jk500_rules", "--version"]) for _ in range(repeat)]
    inner = [_child("startup", str(rules)) for _ in range(repeat)]
    return {"python_bare_s": statistics.median(bare), "cli_version_s": statistics.median(version),
            "import_s": _median(inner, "import_s"), "compile_s": _median(inner, "compile_s"),
            "engine_ruleset_s": _median(inner, "engine_ruleset_s"),
            "peak_rss": _median(inner, "peak_rss")}


def measure(size: int, seed: int, out_dir: Path, repeat: int, deviation_rate: float) -> dict:
    t = time.perf_counter()
    gen = generate(size, seed, out_dir, deviation_rate)
    gen_s = time.perf_counter() - t
    audits, floors = [], []
    for _ in range(repeat):
        audits.append(_child("audit", str(gen.rules_path), str(gen.csv_path)))
        floors.append(_child("floor", str(gen.csv_path)))
    first = audits[0]
    keys = ("total_s", "compile_s", "read_s", "sessions_s", "engine_s", "other_s", "report_s", "peak_rss",
            "trial_feed_s", "rss_after_read", "rss_before_engine", "peak_engine", "rss_after_engine", "rss_end")
    row = {
        "size": size, "records": gen.records, "subjects": gen.subjects, "file_bytes": gen.csv_path.stat().st_size,
        "generate_s": gen_s, "planted": dict(gen.planted), "expected": dict(gen.expected), "repeat": repeat,
        "audit": {k: _median(audits, k) for k in keys},
        "audit_runs_s": [a["total_s"] for a in audits],
        "floor": {k: _median(floors, k) for k in ("total_s", "peak_rss")},
        "floor_runs_s": [f["total_s"] for f in floors],
        "counts": {k: first[k] for k in ("read", "audited", "not_used", "rejected", "subjects", "findings",
                                        "sessions", "trial_facts", "findings_by_rule", "report_bytes")},
        "csv": str(gen.csv_path), "rules": str(gen.rules_path),
    }
    if first["read"] != gen.records or first["rejected"]:
        print(f"warning: {size}: generated {gen.records} records, the audit read {first['read']} "
              f"and rejected {first['rejected']}", file=sys.stderr)
    if not _as_planted(row):
        print(f"warning: {size}: findings {first['findings']} (by rule {_nonzero(first['findings_by_rule'])}) "
              f"differ from the planted deviations {dict(gen.expected)}", file=sys.stderr)
    return row


def _nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def _as_planted(row: dict) -> bool:
    """The audit found exactly the planted deviations: per rule, and no other finding of any status."""
    c, expected = row["counts"], row.get("expected", {})
    return _nonzero(c["findings_by_rule"]) == expected and c["findings"] == sum(expected.values())


def _mb(x: float | None) -> str:
    return "n/a" if x is None else f"{x / MB:,.0f}"


def _s(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def render(results: dict) -> str:
    m, st, rows = results["machine"], results["startup"], results["sizes"]
    lines = [f"machine: {m['cpu']}, nproc {m['nproc']}, {m['implementation']} {m['python']}, {m['platform']}",
             f"date: {m['date']}   seed: {results['seed']}   repeat: {results['repeat']} (medians)", ""]
    lines.append("Start-up (medians)")
    lines.append(f"  python -c pass                       {_s(st['python_bare_s'])} s")
    lines.append(f"  python -m jk500_rules --version      {_s(st['cli_version_s'])} s")
    lines.append(f"  import jk500_rules (cli,audit,report) {_s(st['import_s'])} s")
    lines.append(f"  load_protocol (parse + compile)      {_s(st['compile_s'])} s")
    lines.append(f"  engine ruleset create + delete       {_s(st['engine_ruleset_s'])} s")
    lines.append("")
    head = (f"{'N':>9} {'subjects':>8} {'audit s':>9} {'audit rec/s':>12} {'peak RSS MB':>11} "
            f"{'floor s':>8} {'floor rec/s':>12} {'floor MB':>8} {'audit/floor':>11} {'findings':>8}")
    lines += ["Audit (load_protocol + audit_files + to_json) vs read floor (csv + date.fromisoformat)", head,
              "-" * len(head)]
    for r in rows:
        a, f, n = r["audit"], r["floor"], r["counts"]["read"]
        lines.append(f"{n:>9,} {r['subjects']:>8,} {a['total_s']:>9.3f} {n / a['total_s']:>12,.0f} "
                     f"{_mb(a['peak_rss']):>11} {f['total_s']:>8.3f} {n / f['total_s']:>12,.0f} "
                     f"{_mb(f['peak_rss']):>8} {a['total_s'] / f['total_s']:>11.1f} {r['counts']['findings']:>8}")
    lines.append("")
    head = (f"{'N':>9} {'compile':>8} {'read_logs':>9} {'sessions':>9} {'engine':>8} {'(trial)':>8} {'other':>7} {'to_json':>8}"
            f"   {'RSS read':>9} {'RSS pre-eng':>11} {'eng peak':>9} {'eng +MB':>8} {'RSS end':>8}")
    lines += ["Phases, s (medians) and memory, MB: RSS after read_logs, before the engine loop, peak during "
              "the engine loop, its growth over the pre-engine RSS, RSS at exit", head, "-" * len(head)]
    for r in rows:
        a = r["audit"]
        growth = None if a["peak_engine"] is None else a["peak_engine"] - a["rss_before_engine"]
        lines.append(f"{r['counts']['read']:>9,} {_s(a['compile_s']):>8} {_s(a['read_s']):>9} "
                     f"{_s(a['sessions_s']):>9} {_s(a['engine_s']):>8} {_s(a['trial_feed_s']):>8} {_s(a['other_s']):>7} "
                     f"{_s(a['report_s']):>8}   {_mb(a['rss_after_read']):>9} {_mb(a['rss_before_engine']):>11} "
                     f"{_mb(a['peak_engine']):>9} {_mb(growth):>8} {_mb(a['rss_end']):>8}")
    lines.append("")
    lines.append("Generated logs")
    for r in rows:
        lines.append(f"  {r['records']:>9,} records, {r['subjects']:,} subjects, {r['file_bytes'] / MB:.1f} MB, "
                     f"generated in {r['generate_s']:.1f} s")
    lines.append("")
    lines.append("Record accounting (first run): read = audited + not used + rejected")
    for r in rows:
        c = r["counts"]
        ok = c["read"] == c["audited"] + c["not_used"] + c["rejected"]
        lines.append(f"  {c['read']:>9,} = {c['audited']:,} + {c['not_used']:,} + {c['rejected']:,}"
                     f"  {'ok' if ok else 'MISMATCH'};  {c['sessions']} sessions (trial: {c['trial_facts']} facts)")
        lines.append(f"      findings by rule {_nonzero(c['findings_by_rule'])}: "
                     f"{'as planted' if _as_planted(r) else 'NOT AS PLANTED'} {r['planted']}")
    probe = results.get("engine_probe")
    if probe:
        lines.append("")
        lines.append(f"Engine probe: {probe['feeds']:,} session feeds cycling over {probe['distinct_sessions']} "
                     f"subject sessions ({probe['facts_per_session']:.1f} facts each), fresh session names, "
                     f"{probe['seconds']:.2f} s ({probe['feeds'] / probe['seconds']:,.0f} sessions/s)")
        lines.append("  RSS MB at feeds: " + ", ".join(f"{i:,}: {rss / MB:.1f}" for i, rss in probe["samples"]))
        lines.append(f"  slope after the first sample: {probe['bytes_per_feed']:.1f} bytes per session fed")
    return "\n".join(lines) + "\n"


def _profile(size: int, seed: int, out_dir: Path, deviation_rate: float, top: int) -> str:
    import io
    import pstats

    gen = generate(size, seed, out_dir, deviation_rate)
    stats_path = out_dir / f"audit-{size}.prof"
    info = _child("profile", str(gen.rules_path), str(gen.csv_path), str(stats_path))
    buf = io.StringIO()
    stats = pstats.Stats(str(stats_path), stream=buf)
    stats.strip_dirs()
    buf.write(f"cProfile of the audit of {gen.records:,} records: {info['profiled_s']:.2f} s under the profiler\n")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated record counts (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--deviation-rate", type=float, default=0.02,
                        help="fraction of subjects with one planted deviation (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep generated files in benchmarks/out/")
    parser.add_argument("--probe-feeds", type=int, default=20000,
                        help="engine probe: sessions fed to one engine (0 to skip; default: %(default)s)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="also print a cProfile of one audit of N records")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    if args.keep:
        out_dir = OUT
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = Path(tempfile.mkdtemp(prefix="jk500-bench-"))
    try:
        rules = write_rules(out_dir)
        results: dict = {"machine": machine(), "seed": args.seed, "repeat": args.repeat,
                         "command": " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]),
                         "startup": startup(rules, max(args.repeat, 5)), "sizes": []}
        for size in sizes:
            print(f"... {size:,} records", file=sys.stderr, flush=True)
            row = measure(size, args.seed, out_dir, args.repeat, args.deviation_rate)
            results["sizes"].append(row)
            print(f"    audit {row['audit']['total_s']:.2f} s, floor {row['floor']['total_s']:.2f} s, "
                  f"peak {row['audit']['peak_rss'] / MB:.0f} MB", file=sys.stderr, flush=True)
        if args.probe_feeds:
            probe_size = min(sizes) if sizes else 10000
            gen = generate(probe_size, args.seed, out_dir, args.deviation_rate)
            results["engine_probe"] = _child("engine-probe", str(gen.rules_path), str(gen.csv_path),
                                             str(args.probe_feeds))
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
