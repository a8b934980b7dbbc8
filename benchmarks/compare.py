"""`python -m benchmarks.compare --against DIR`: this checkout's audit against another's, alternating runs.

For a change that must not slow the audit (a refactoring): both trees audit the same generated log
through the CLI, each run in a fresh process, the two trees taking turns (A B, then B A) so that the
machine's load falls on both alike. Prints each tree's median wall and CPU time (the audit's processes,
workers included), their ratios, and whether the reports agree.

    git worktree add ../main-before main      # the code to compare with
    python -m benchmarks.compare --against ../main-before --size 100000 --repeat 3

`--rules FILE` audits with other rules in both trees (an older protocol.rules, when this checkout's
uses a construct the other tree cannot read); `--against-rules FILE` gives the other tree its own.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .generate import generate

HERE = Path(__file__).resolve().parents[1]
RUN_TIME = "2026-01-01T00:00:00+00:00"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _audit(tree: Path, rules: Path, log: Path, out: Path, jobs: int) -> tuple[float, float, str]:
    """One CLI audit with `tree` first on the import path: its wall time, the CPU time of its processes
    (workers included: they end before it does) and its report's sha256."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "jk500_rules", "audit", "--rules", str(rules), str(log), "--format", "json",
           "-o", str(out), "--run-time", RUN_TIME, "--jobs", str(jobs)]
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"the audit with {tree} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, cpu, hashlib.sha256(out.read_bytes()).hexdigest()


def compare(against: Path, size: int, repeat: int, jobs: int, seed: int, rules: Path | None = None,
            against_rules: Path | None = None) -> str:
    trees = {"this checkout": HERE, "against": against.resolve()}
    times: dict[str, list[float]] = {name: [] for name in trees}
    cpus: dict[str, list[float]] = {name: [] for name in trees}
    digests: dict[str, set[str]] = {name: set() for name in trees}
    with tempfile.TemporaryDirectory(prefix="jk500-compare-") as folder:
        generated = generate(size, seed, Path(folder))
        rules_of = {"this checkout": rules or generated.rules_path,
                    "against": against_rules or rules or generated.rules_path}
        for turn in range(repeat):
            order = list(trees.items())
            for name, tree in order if turn % 2 == 0 else reversed(order):  # ABBA: neither always goes first
                wall, cpu, digest = _audit(tree, rules_of[name], generated.csv_path, Path(folder) / "report.json",
                                           jobs)
                times[name].append(wall)
                cpus[name].append(cpu)
                digests[name].add(digest)
    this, other = (statistics.median(times[name]) for name in trees)
    this_cpu, other_cpu = (statistics.median(cpus[name]) for name in trees)
    same = len(digests["this checkout"] | digests["against"]) == 1
    lines = [f"{size:,} records, --jobs {jobs}, {repeat} runs each, alternating (ABBA)"]
    for name, label in (("this checkout", f"this checkout ({HERE})"), ("against", f"against ({trees['against']})")):
        lines.append(f"{label}: median {statistics.median(times[name]):.2f} s wall, "
                     f"{statistics.median(cpus[name]):.2f} s CPU  (wall runs {', '.join(f'{t:.2f}' for t in times[name])})")
    lines += [f"ratio (this / against): {this / other:.3f} wall, {this_cpu / other_cpu:.3f} CPU",
              f"reports identical: {'yes' if same else 'NO'}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, type=Path, help="another checkout (e.g. a git worktree of main)")
    parser.add_argument("--size", type=int, default=100_000, help="records in the generated log (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree; medians are compared (default 3)")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of each audit (default 1)")
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--rules", type=Path, help="the rules both trees audit with (default: this checkout's "
                        "protocol.rules), e.g. an older protocol.rules that the other tree can read")
    parser.add_argument("--against-rules", type=Path, help="other rules for the other tree (the reports then differ)")
    args = parser.parse_args(argv)
    if not (args.against / "jk500_rules").is_dir():
        parser.error(f"{args.against} holds no jk500_rules package")
    print(compare(args.against, args.size, args.repeat, args.jobs, args.seed, args.rules, args.against_rules))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
