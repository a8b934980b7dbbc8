"""`python -m reliability.fuzz`: the fuzzer's command line, and the engine worker it starts in subprocesses."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import reliability.fuzz as fuzz_package

from .engine import engine_worker
from .run import fuzz, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.fuzz",
                                     description=fuzz_package.__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed: the same seed, the same cases")
    parser.add_argument("--engine-every", type=int, default=20, metavar="K",
                        help="feed every K-th compiled case to the engine in a subprocess (0: none; default 20)")
    parser.add_argument("--jobs", type=int, default=1, metavar="J", help="processes for parse and check")
    parser.add_argument("--out", default="fuzz-bugs", metavar="DIR", help="where each bug's input is written")
    parser.add_argument("--engine-worker", metavar="CASES.json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_worker:
        return engine_worker(args.engine_worker)
    tally, fed, bugs = fuzz(args.cases, args.seed, args.engine_every, args.jobs, Path(args.out))
    for index, where, detail in bugs:
        print(f"BUG case {index} ({where}): {detail.strip().splitlines()[-1] if detail.strip() else ''}")
    print(summary(args.cases, args.seed, tally, fed, bugs))
    if bugs:
        print(f"fuzz: inputs written to {args.out}/", file=sys.stderr)
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
