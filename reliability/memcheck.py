"""`python -m reliability.memcheck`: the compiled JK500 and pilot-study rulesets run under valgrind.

Each audit runs in one process (`--jobs 1`) under valgrind's memcheck with CPython's own allocator
switched off (PYTHONMALLOC=malloc), so that every allocation is valgrind's to see. Errors are sorted
by whether any frame of their stack is in durable-rules' C engine (`durable_rules_engine*.so`): those
must be none. CPython 3.11 itself reports a few uninitialised-value errors in its eval loop and
collector under valgrind, even for `python -c pass` (the baseline run shows them); they are counted
apart. Leaks are counted the same way: blocks definitely lost with an engine frame in their stack.
Exit status 1 when the engine has any error or leak.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENGINE_OBJECT = "durable_rules_engine"
_ERROR = re.compile(r"^==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|"
                    r"Mismatched free|Source and destination overlap|Argument .* of function)")
_LEAK = re.compile(r"^==\d+== [\d,]+ (\([\d,]+ direct, [\d,]+ indirect\) )?bytes in [\d,]+ blocks are definitely lost")


@dataclass
class Outcome:
    name: str
    seconds: float
    engine_errors: int
    other_errors: int
    engine_leaks: int
    exit_code: int
    log: str


def _blocks(text: str) -> list[list[str]]:
    """valgrind's report as its blocks: a message and its stack, up to the next blank `==PID==` line."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if re.fullmatch(r"==\d+==\s*", line):
            if current:
                blocks.append(current)
            current = []
        elif line.startswith("=="):
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def run(name: str, argv: list[str], folder: Path) -> Outcome:
    log = folder / f"{name}.valgrind.txt"
    command = ["valgrind", "--tool=memcheck", "--leak-check=full", "--num-callers=40", f"--log-file={log}",
               sys.executable, *argv]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env={**os.environ, "PYTHONMALLOC": "malloc"},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    engine, other, leaks = count(log.read_text(encoding="utf-8", errors="replace"))
    return Outcome(name, seconds, engine, other, leaks, done.returncode, str(log))


def count(report: str) -> tuple[int, int, int]:
    """(errors with an engine frame, other errors, leaks with an engine frame) in a valgrind report."""
    engine = other = leaks = 0
    for block in _blocks(report):
        in_engine = any(ENGINE_OBJECT in line for line in block)
        if _ERROR.match(block[0]):
            engine += in_engine
            other += not in_engine
        elif _LEAK.match(block[0]) and in_engine:
            leaks += 1
    return engine, other, leaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.memcheck", description=__doc__)
    parser.add_argument("--keep", metavar="DIR", help="keep valgrind's logs in this folder")
    parser.add_argument("--shared-data", default=os.environ.get("JK500_SHARED_DATA", str(REPO.parent / "shared" / "data")),
                        help="the folder holding cdiscpilot01/ (default: $JK500_SHARED_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("memcheck: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="jk500-memcheck-"))
    folder.mkdir(parents=True, exist_ok=True)
    audits = [
        ("baseline: python -c pass", ["-c", "pass"]),
        ("JK500 example", ["-m", "jk500_rules", "audit", "--rules", "protocol.rules", "examples/jk500_visits.csv",
                           "--jobs", "1", "--format", "json", "-o", str(folder / "jk500.json")]),
    ]
    pilot = Path(args.shared_data) / "cdiscpilot01"
    if pilot.is_dir():
        audits.append(("CDISC pilot study", ["-m", "jk500_rules", "audit", "--rules",
                                             "examples/cdiscpilot01/protocol.rules", "--mapping",
                                             "examples/cdiscpilot01/mapping.toml", str(pilot), "--jobs", "1",
                                             "--format", "json", "-o", str(folder / "pilot.json")]))
    else:
        print(f"memcheck: {pilot} is missing: the pilot study is not run", file=sys.stderr)
    failed = False
    print(f"{'run':<26} {'s':>7} {'engine errors':>14} {'engine leaks':>13} {'interpreter errors':>19} {'exit':>5}")
    for name, command in audits:
        outcome = run(name.split(":")[0].replace(" ", "_"), command, folder)
        # Exit 1 is an audit with findings, as both examples have.
        bad = outcome.engine_errors or outcome.engine_leaks or outcome.exit_code not in (0, 1)
        failed |= bool(bad)
        print(f"{name:<26} {outcome.seconds:>7.1f} {outcome.engine_errors:>14} {outcome.engine_leaks:>13} "
              f"{outcome.other_errors:>19} {outcome.exit_code:>5}")
    print(f"memcheck: {'FAILED' if failed else 'clean'}: no error or leak in {ENGINE_OBJECT} is allowed; "
          f"logs in {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
