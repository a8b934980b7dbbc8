"""Compiled cases run through the engine in subprocesses, where a crash or a hang in its C code is caught."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from jk500_rules.errors import Jk500Error

from .cases import ROOT
from .oracle import FILENAME

if TYPE_CHECKING:
    from jk500_rules.compiler.model import CompiledProtocol

BATCH_CASES = 8  # compiled cases per engine subprocess
BATCH_SECONDS = 30.0  # per engine subprocess: interpreter start-up, imports, then every case of the batch

_SAMPLE = {"date": ("2024-01-05", "2024-02", "2023-12-31"), "integer": ("3", "0", "120"),
           "decimal": ("1.5", "0", "99.9"), "text": ("x", "positive"), "boolean": ("yes", "no"),
           "time": ("08:30", "23:59:59")}


def write_log(protocol: CompiledProtocol, path: Path, rng: random.Random) -> None:
    """A tiny visit log for `protocol`: two subjects, a few rows of the event types it declares."""
    events = protocol.events
    fields = sorted({f for spec in events.values() for f in spec.fields if f not in ("study", "site", "subject", "date", "event")})
    header = ["study", "site", "subject", "date", "event", *fields]
    rows = []
    for subject in ("S1", "S2"):
        for name, spec in sorted(events.items()):
            if name in protocol.groups:  # a group reads as an event type in rules, never in a log
                continue
            for _ in range(rng.choice((0, 1, 1, 2))):
                day = rng.choice(("2024-01-01", "2024-01-03", "2024-01-20", "2024-03-01", "2024-01"))
                row = {"study": protocol.name, "site": "01",
                       "subject": "" if spec.trial_level else subject, "date": day, "event": name}
                for f in spec.fields.values():
                    if f.name in header and (f.required or rng.random() < 0.7):
                        row[f.name] = rng.choice(_SAMPLE.get(f.type, ("x",)))
                rows.append([row.get(c, "") for c in header])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def engine_case(text: str, folder: Path, rng: random.Random) -> str:
    """Build the engine rulesets of a compiled text and audit a tiny log with them; '' or a bug's reason."""
    from jk500_rules.compiler import compile_protocol
    from jk500_rules.engine.audit import audit_files
    from jk500_rules.engine.durable import Engine
    from jk500_rules.language.parser import parse

    protocol = compile_protocol(parse(text, FILENAME), FILENAME, text)
    with Engine(protocol.rulesets()):
        pass
    with Engine(protocol.interval_rulesets()):
        pass
    log = folder / "visits.csv"
    write_log(protocol, log, rng)
    try:
        audit_files(protocol, [str(log)], jobs=1)
    except Jk500Error:  # a refused input is an answer, not a crash (EngineError is not one of these)
        pass
    return ""


def engine_worker(cases_file: str) -> int:
    """Run in a subprocess on a JSON list of [index, text]: each index on stdout as it starts, then its result."""
    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="jk500-fuzz-") as tmp:
        for index, text in cases:
            print(json.dumps({"start": index}), flush=True)
            try:
                detail = engine_case(text, Path(tmp), random.Random(f"{index}:{len(text)}"))
            except Exception:  # noqa: BLE001 - a traceback is the finding
                detail = traceback.format_exc(limit=-8)
            print(json.dumps({"done": index, "bug": detail}), flush=True)
    return 0


def _run_worker(cases: list[tuple[int, str]], timeout: float) -> tuple[str, int | None, bool, str]:
    """(stdout, exit code, hung, stderr) of one engine worker on `cases`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as handle:
        json.dump(cases, handle)
    command = [sys.executable, "-m", "reliability.fuzz", "--engine-worker", handle.name]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        return done.stdout, done.returncode, False, done.stderr
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return output, None, True, ""
    finally:
        os.unlink(handle.name)


def run_engine(cases: list[tuple[int, str]], timeout: float = BATCH_SECONDS) -> list[tuple[int, str, str]]:
    """Feed compiled cases ([index, text]) to the engine in a subprocess; a crash or hang is pinned on the
    case that was running, and the cases after it get a fresh process."""
    bugs: list[tuple[int, str, str]] = []
    todo = list(cases)
    while todo:
        output, code, hung, stderr = _run_worker(todo, timeout)
        started: int | None = None
        finished: set[int] = set()
        for line in output.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "start" in message:
                started = message["start"]
            elif "done" in message:
                finished.add(message["done"])
                if message["bug"]:
                    bugs.append((message["done"], "engine", message["bug"]))
        if code == 0 and not hung:
            break
        if started is None or started in finished:
            bugs.append((todo[0][0], "engine", f"the worker failed outside a case (exit {code}): {stderr[-2000:]}"))
            break
        at = [index for index, _ in todo].index(started)
        # A slow batch on a busy machine is not a hang: the case gets a run of its own, with twice the time.
        if hung and _run_worker(todo[at:at + 1], timeout * 2)[2] is False:
            todo = todo[at + 1:]
            continue
        reason = (f"hang: no answer in {timeout:g} s" if hung else
                  f"the engine process died (exit {code}, signal {-code})" if code is not None and code < 0 else
                  f"the engine process failed (exit {code}): {stderr[-2000:]}")
        bugs.append((started, "engine", reason))
        todo = todo[at + 1:]
    return bugs
