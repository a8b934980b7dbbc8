"""`python -m benchmarks`: generate seeded JK500 visit logs, audit them in fresh processes, print tables."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .generate import write_rules
from .measure import LARGE, capabilities, engine_probe, machine, measure, pilot, pilot_data, profile, startup
from .tables import render

OUT = Path(__file__).resolve().parent / "out"


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
            results["engine_probe"] = engine_probe(probe_size, args.seed, out_dir, args.deviation_rate,
                                                   args.probe_feeds)
        text = render(results)
        sys.stdout.write(text)
        if args.profile:
            sys.stdout.write("\n" + profile(args.profile, args.seed, out_dir, args.deviation_rate, 25))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep:
            shutil.rmtree(out_dir, ignore_errors=True)
    return 0
