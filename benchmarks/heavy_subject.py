"""`python -m benchmarks.heavy_subject`: the cost per record of one subject with thousands of lab rows.

The log holds `--subjects` standard subjects (60 records each, benchmarks/subjects.py); `--heavy` of
them (the earliest, sentinels of dose group 1) also have EXTRA lab rows of the four tests the
screening-lab rules read, dated from 10 days before their first infusion to the end of their 24-month
follow-up (a few fall in the screening window and join the first infusion; every value is under 2x ULN,
so the findings are the planted ones). For each EXTRA of `--extra` (0 is always measured), the audit
runs `--repeat` times, each in a fresh interpreter of the tree measured (`audit_files(..., jobs=1)` +
`to_json`; imports and `load_protocol` apart), the sizes taking turns within each round. Printed per
EXTRA: the median CPU and wall time, the wall runs, and the cost per added row, (audit(EXTRA) -
audit(0)) / (heavy * EXTRA), set against a standard record's, audit(0) / records(0). The target
(issue 14): within 3x, judged on CPU time (the audit is one process; on a shared machine its CPU time
is steadier than its wall time). `--against DIR` measures another checkout (a `git worktree` of the
starting main) on the same logs.

    python -m benchmarks.heavy_subject                              # 2k, 5k, 10k, 20k; 3 runs each
    python -m benchmarks.heavy_subject --against ../base14 --extra 2000,8000,16000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .generate import RECORDS_PER_SUBJECT, generate

HERE = Path(__file__).resolve().parents[1]
TARGET_RATIO = 3.0  # issue 14: a heavy subject's cost per record within 3x a 60-record subject's
# Run in a fresh interpreter with the measured tree as its working folder, so `jk500_rules` is that tree's.
_CHILD = r"""
import hashlib, inspect, json, sys, time
from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.reports.json_report import to_json
protocol = load_protocol(sys.argv[1])
kwargs = {"jobs": 1} if "jobs" in inspect.signature(audit_files).parameters else {}
t0, c0 = time.perf_counter(), time.process_time()
result = audit_files(protocol, [sys.argv[2]], **kwargs)
report = to_json(result).encode()
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu": cpu, "findings": len(result.findings),
                  "sha256": hashlib.sha256(report).hexdigest()}))
"""


def _audit(tree: Path, rules: Path, log: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(rules), str(log)], cwd=tree, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the audit with {tree} failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def curve(tree: Path, extras: list[int], subjects: int, heavy: int, repeat: int, seed: int,
          deviation_rate: float) -> dict:
    """Per EXTRA: the log's records, the audit's runs (wall and CPU) and its findings; logs made once."""
    sizes = sorted({0, *extras})
    rows: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="jk500-heavy-") as folder:
        logs = {}
        for extra in sizes:
            gen = generate(subjects * RECORDS_PER_SUBJECT, seed, Path(folder) / str(extra), deviation_rate,
                           extra_labs=extra, heavy_subjects=heavy if extra else 0)
            logs[extra] = gen
            rows[extra] = {"extra": extra, "records": gen.records, "largest_subject": gen.largest_subject,
                           "expected": sum(gen.expected.values()), "wall": [], "cpu": [], "findings": set(),
                           "sha256": set()}
        for _ in range(repeat):
            for extra in sizes:  # taking turns, so that a slow spell is shared
                run = _audit(tree, logs[extra].rules_path, logs[extra].csv_path)
                rows[extra]["wall"].append(run["seconds"])
                rows[extra]["cpu"].append(run["cpu"])
                rows[extra]["findings"].add(run["findings"])
                rows[extra]["sha256"].add(run["sha256"])  # the JSON report: one per EXTRA, whichever run
    for row in rows.values():
        row["wall_s"], row["cpu_s"] = statistics.median(row["wall"]), statistics.median(row["cpu"])
        row["findings"], row["sha256"] = sorted(row["findings"]), sorted(row["sha256"])
    base = rows[0]
    for key in ("wall", "cpu"):
        per_record = base[f"{key}_s"] / base["records"]
        base[f"{key}_per_record_us"] = per_record * 1e6
        for extra in extras:
            if extra:
                added = (rows[extra][f"{key}_s"] - base[f"{key}_s"]) / (heavy * extra)
                rows[extra][f"{key}_per_added_row_us"] = added * 1e6
                rows[extra][f"{key}_ratio"] = added / per_record
    return {"tree": str(tree), "subjects": subjects, "heavy": heavy, "repeat": repeat, "seed": seed,
            "rows": [rows[e] for e in sizes]}


def render(result: dict) -> str:
    base = result["rows"][0]
    lines = [f"{result['subjects']} subjects of {RECORDS_PER_SUBJECT} records, {result['heavy']} of them with EXTRA "
             f"more lab rows; `audit_files` (jobs 1) + `to_json`, median of {result['repeat']} runs ({result['tree']})",
             f"a standard record: {base['cpu_per_record_us']:.1f} µs CPU, {base['wall_per_record_us']:.1f} µs wall "
             "(the audit with EXTRA 0 / its records)", "",
             "| EXTRA lab rows | records | largest subject | CPU s | wall s | wall runs s | per added row, µs CPU "
             "| ÷ a standard record (CPU) | (wall) | findings |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for row in result["rows"]:
        runs = ", ".join(f"{s:.2f}" for s in row["wall"])
        if row["extra"]:
            added, cpu_x, wall_x = (f"{row['cpu_per_added_row_us']:.1f}", f"{row['cpu_ratio']:.2f}",
                                    f"{row['wall_ratio']:.2f}")
        else:
            added = cpu_x = wall_x = "-"
        lines.append(f"| {row['extra']:,} | {row['records']:,} | {row['largest_subject']:,} | {row['cpu_s']:.2f} "
                     f"| {row['wall_s']:.2f} | {runs} | {added} | {cpu_x} | {wall_x} "
                     f"| {'/'.join(map(str, row['findings']))} |")
    ratios = [row["cpu_ratio"] for row in result["rows"] if row["extra"]]
    if ratios:
        verdict = "met" if max(ratios) <= TARGET_RATIO else "NOT met"
        lines += ["", f"target: an added row within {TARGET_RATIO:g}x a standard record's cost (CPU): "
                      f"worst {max(ratios):.2f}x, {verdict}"]
    unexpected = [row["extra"] for row in result["rows"] if row["findings"] != [row["expected"]]]
    if unexpected:
        lines.append(f"warning: findings differ from the planted deviations at EXTRA {unexpected}")
    unsteady = [row["extra"] for row in result["rows"] if len(row["sha256"]) != 1]
    if unsteady:
        lines.append(f"warning: the reports differ between runs at EXTRA {unsteady}")
    return "\n".join(lines) + "\n"


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heavy_subject", description=__doc__.splitlines()[0])
    parser.add_argument("--extra", default="2000,5000,10000,20000", help="lab rows added to each heavy subject "
                        "(comma-separated; 0 is always measured; default %(default)s)")
    parser.add_argument("--subjects", type=int, default=100, help="standard subjects in the log (default 100)")
    parser.add_argument("--heavy", type=int, default=1, help="subjects given the extra lab rows (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported (default 3)")
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--deviation-rate", type=float, default=0.02)
    parser.add_argument("--against", type=Path, help="measure this checkout instead (e.g. a worktree of main)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    tree = (args.against or HERE).resolve()
    if not (tree / "jk500_rules").is_dir():
        parser.error(f"{tree} holds no jk500_rules package")
    extras = _ints(args.extra)
    if min(extras, default=0) < 0 or not 1 <= args.heavy <= args.subjects or args.repeat < 1:
        parser.error("--extra: counts >= 0; --heavy: 1 to --subjects; --repeat: at least 1")
    result = curve(tree, extras, args.subjects, args.heavy, args.repeat, args.seed, args.deviation_rate)
    sys.stdout.write(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
