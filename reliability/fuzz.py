"""Fuzz the rules language: mutated and generated rules texts must end in a positioned error, never a crash.

Each case is a pure function of (seed, index), so a case is named by two numbers and regenerated anywhere.
Parse and check run in process (a Python-level hang is cut by a timer signal); a case that compiles is
fed, now and then, to the engine in a subprocess with a timeout, since a crash or a hang in the engine's
C code cannot be caught in process.

    python -m reliability.fuzz --cases 100000 [--seed S] [--engine-every K] [--jobs J] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jk500_rules.errors import Diagnostic, Jk500Error, RulesError

if TYPE_CHECKING:
    from jk500_rules.compiler.model import CompiledProtocol

def _repository() -> Path:
    """The checkout the seeds come from: this source tree, or (for an installed package) the working folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "tests" / "golden").is_dir() else Path.cwd()


ROOT = _repository()
FILENAME = "fuzz.rules"
CASE_SECONDS = 10.0  # one parse + check; far above the slowest seen (tens of ms)
BATCH_CASES = 8  # compiled cases per engine subprocess
BATCH_SECONDS = 30.0  # per engine subprocess: interpreter start-up, imports, then every case of the batch

# The grammar's keywords and punctuation (grammar/protocol.lark), plus words that only mean something to
# the checker (types, units, severities, weekdays, field names of the seeds).
KEYWORDS = (  # noqa: SIM905 - a paragraph of words reads better than a list of quoted ones
    "protocol registry version effective governed by amendment withdraw rule criterion manual trial event in "
    "required group subject parameter choice severity category cites message important for where needs "
    "otherwise unless each of the count per day calendar week starting from through require forbid judged "
    "a an or and not within between is known missing before after years months weeks days hours minutes yes "
    "no first last previous same to"
).split()
WORDS = (  # noqa: SIM905
    "date time integer decimal text boolean mg kg mL days weeks day week months hours minutes mmol L "
    "major minor critical safety efficacy Monday Sunday consent dose screening visit birth_date weight "
    "amount result date subject trial 3rd 1st 22nd"
).split()
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", ",", "=", "<", ">", "<=", ">=", "!=", "+", "-", "*", "/",
               ".", "%", '"', '"x"', '""', "#", "'s", "subject's"]
NUMBERS = ["0", "1", "2.5", "007", "1e3", "1E-2", "99999999999999999999", "0.0000001", "3.", "-1", "1e99"]
# Numbers far past what a rule may hold (15 digits): each must be refused at its position, quickly.
HUGE_NUMBERS = ["1e99999", "1e9999", "2.1e5000", "1e999999"]
MAX_CASE_CHARS = 300_000  # a mutation that makes a case bigger is undone: a slow case should mean a bug
DEEP = (300, 1000, 3000)  # nesting past the parser's depth limit (parser.MAX_DEPTH): refused, not a crash
ODD_TEXT = ["\t", "\x00", "\x0b", "\x0c", "\u00a0", "\u200b", "\u2028", "\ufeff", "\u00e9", "\u4e2d", "\U0001f600",
            "\\", "\\\"", "\"\\", "é", "İ", "ß", "\u0301", "\x7f", "\u202e", "；", "＂"]
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|<=|>=|!=|\S')


def seeds(root: Path = ROOT) -> list[tuple[str, str]]:
    """(name, text) of every rules file in the golden corpus and the examples, in a fixed order."""
    paths = sorted((root / "tests" / "golden").glob("**/*.rules"))
    paths += sorted((root / "examples").glob("**/protocol.rules"))
    paths += [p for p in [root / "protocol.rules"] if p.is_file()]
    found = [(str(p.relative_to(root)), p.read_text(encoding="utf-8")) for p in paths]
    return found or [("generated", generate(random.Random(0)))]


# ----- cases ---------------------------------------------------------------------------------------------


def _numbers() -> list[str]:
    return NUMBERS + HUGE_NUMBERS


def _token(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(KEYWORDS)
    if pick < 0.6:
        return rng.choice(WORDS)
    if pick < 0.85:
        return rng.choice(PUNCTUATION)
    return rng.choice(_numbers())


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _retokenize(line: str, rng: random.Random, action: str) -> str:
    spans = [m.span() for m in TOKEN.finditer(line)]
    if not spans:
        return line + " " + _token(rng) if action != "drop" else line
    start, end = rng.choice(spans)
    if action == "drop":
        return line[:start] + line[end:]
    if action == "insert":
        at = rng.choice((start, end))
        return line[:at] + " " + _token(rng) + " " + line[at:]
    return line[:start] + _token(rng) + line[end:]


def mutate(text: str, rng: random.Random, corpus: list[tuple[str, str]]) -> str:
    """One random structural or lexical change."""
    lines = _lines(text)
    kind = rng.randrange(16)
    i = rng.randrange(len(lines))
    if kind == 0:  # delete lines
        del lines[i:i + rng.choice((1, 1, 2, 5))]
    elif kind == 1:  # duplicate a line or a block
        lines[i:i] = lines[i:i + rng.choice((1, 1, 3, 10))]
    elif kind == 2:  # swap two lines
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind in (3, 4, 5):  # drop, insert or replace a token
        for _ in range(rng.choice((1, 1, 1, 2, 4))):
            i = rng.randrange(len(lines))
            lines[i] = _retokenize(lines[i], rng, ("drop", "insert", "replace")[kind - 3])
    elif kind == 6:  # truncate
        return text[:rng.randrange(len(text) + 1)]
    elif kind == 7:  # splice two files
        other = _lines(rng.choice(corpus)[1])
        return "\n".join(lines[:i] + other[rng.randrange(len(other)):])
    elif kind == 8:  # odd characters
        at = rng.randrange(len(text) + 1)
        return text[:at] + "".join(rng.choice(ODD_TEXT) for _ in range(rng.choice((1, 1, 3)))) + text[at:]
    elif kind == 9:  # random unicode code points (no surrogates: a file read as UTF-8 cannot hold them)
        at = rng.randrange(len(text) + 1)
        chars = [chr(rng.choice((rng.randrange(0x20, 0x7f), rng.randrange(0, 0xd800), rng.randrange(0xe000, 0x110000))))
                 for _ in range(rng.randrange(1, 6))]
        return text[:at] + "".join(chars) + text[at:]
    elif kind == 10:  # a very long identifier, number or text
        spans = [m for m in TOKEN.finditer(lines[i])]
        if spans:
            m = rng.choice(spans)
            size = rng.choice((300, 5000, 50000))
            filler = rng.choice(("a" * size, "9" * size, '"' + "x" * size + '"', "x_" * (size // 2)))
            lines[i] = lines[i][:m.start()] + filler + lines[i][m.end():]
    elif kind == 11:  # deep nesting, or a long chain, in a condition
        depth = rng.choice((10, 100, 200, *DEEP))
        pick = rng.randrange(5)
        if pick == 0:
            cond = "(" * depth + "1 = 1" + ")" * depth
        elif pick == 1:
            cond = "not " * depth + "yes"
        elif pick == 2:
            cond = " + ".join(["1"] * depth) + " > 0"
        elif pick == 3:
            cond = " and ".join(["yes"] * depth)
        else:
            cond = " or ".join(["1 < 2"] * depth)
        targets = [k for k, line in enumerate(lines) if re.search(r"\b(require|forbid|where)\b", line)]
        k = rng.choice(targets) if targets else i
        word = re.search(r"\b(require|forbid|where)\b", lines[k])
        lines[k] = (lines[k][:word.end()] + " " + cond if word else lines[k] + " " + cond)
    elif kind == 12:  # line endings and whitespace
        joiner = rng.choice(("\r\n", "\r", "\n\n", "\n\t", " \\\n"))
        return joiner.join(lines)
    elif kind == 13:  # a generated item in the middle of a seed
        lines[i:i] = _lines(generate(rng, items=1))
    elif kind == 14:  # odd numbers in place of numbers
        for k, line in enumerate(lines):
            lines[k] = re.sub(r"\b[0-9]+\b", lambda m: rng.choice(_numbers()) if rng.random() < 0.3 else m.group(), line)
    else:  # the same line many times
        lines[i:i] = [lines[i]] * rng.choice((50, 600))
    return "\n".join(lines)


_TYPES = ("date", "integer", "decimal", "text", "boolean", "time")
_UNITS = ("mg", "kg", "mL", "mmol/L", "%")


def generate(rng: random.Random, items: int | None = None) -> str:
    """A rules text built from the grammar's constructs: mostly well formed, often odd in meaning."""
    events: dict[str, list[tuple[str, str]]] = {}
    out: list[str] = []
    if items is None:
        out.append(f'protocol "{rng.choice(("DEMO", "X", ""))}"')
    for e in range(rng.randint(1, 3)):
        name = f"ev{e}"
        fields = [(f"f{k}", rng.choice(_TYPES)) for k in range(rng.randint(0, 4))]
        events[name] = fields
        trial = "trial " if rng.random() < 0.15 else ""
        body = "\n".join(f"    {f}: {t}" + (f" in {rng.choice(_UNITS)}" if t in ("integer", "decimal") and rng.random() < 0.4
                                                else "") + (" required" if rng.random() < 0.5 else "")
                         for f, t in fields)
        out.append(f'{trial}event {name} "E {e}" {{\n{body}\n}}')
    names = list(events)
    if rng.random() < 0.4 and len(names) > 1:
        out.append(f"group grp = {', '.join(names)}")
    if rng.random() < 0.5:
        out.append(f"parameter p1 = {rng.choice(('3', '28 days', '2 weeks', '5 mg', '10 %'))}")
    params = ["p1"] if "p1" in "\n".join(out) else []

    def value(event: str) -> str:
        fields = events[event]
        pick = rng.random()
        if fields and pick < 0.5:
            return f"{event}.{rng.choice(fields)[0]}"
        if pick < 0.6 and params:
            return rng.choice(params)
        if pick < 0.7:
            return f"{rng.choice(('first', 'last'))} {rng.choice(names)}"
        if pick < 0.8:
            return f"{event}.date"
        return rng.choice(("1", "2 days", "3 weeks", '"x"', "yes", "5 mg", "0.5"))

    def cond(event: str, depth: int = 0) -> str:
        pick = rng.randrange(9 if depth < 3 else 5)
        if pick == 0:
            return f"{value(event)} {rng.choice(('<', '>', '=', '!=', '<=', '>='))} {value(event)}"
        if pick == 1:
            return f"{value(event)} is {rng.choice(('known', 'missing'))}"
        if pick == 2:
            return f"{value(event)} within {rng.choice(('3 days', '2 weeks', '1'))} {rng.choice(('before', 'after', 'of'))} {value(event)}"
        if pick == 3:
            return f"{value(event)} between {value(event)} and {value(event)}"
        if pick == 4:
            return f"{value(event)} in ({rng.choice(('1, 2', chr(34) + 'a' + chr(34), '3'))})"
        if pick == 5:
            return f"not {cond(event, depth + 1)}"
        if pick == 6:
            return f"({cond(event, depth + 1)})"
        if pick == 7:
            return f"{cond(event, depth + 1)} and {cond(event, depth + 1)}"
        return f"{cond(event, depth + 1)} or {cond(event, depth + 1)}"

    for r in range(rng.randint(1, 3) if items is None else items):
        event = rng.choice(names)
        source = rng.choice((f"each {event}", f"first {event}", f"last {event}",
                             f"the count of {event} per {rng.choice(('subject', 'day', 'calendar week'))}"))
        check = f"for {source}"
        if rng.random() < 0.4:
            check += f" where {cond(event)}"
        if rng.random() < 0.3:
            check += f"\n        needs a {rng.choice(names)} where {cond(event)}"
        if rng.random() < 0.7:
            check += f"\n        require {cond(event)}"
        else:
            check += f"\n        forbid {rng.choice(('a', 'an'))} {rng.choice(names)} where {cond(event)}"
        if rng.random() < 0.2:
            check += f"\n        unless a {rng.choice(names)}"
        attrs = rng.choice(("", "severity major\n    ", "severity critical\n    message \"{subject}\"\n    "))
        out.append(f'rule R-{r} "Rule {r}" {{\n    {attrs}{check}\n}}')
    return "\n\n".join(out) + "\n"


def case_text(seed: int, index: int, corpus: list[tuple[str, str]]) -> str:
    """Case `index` of run `seed`: a generated text (one in eight) or a seed mutated one to four times."""
    rng = random.Random(f"{seed}:{index}")
    if rng.random() < 0.125:
        text = generate(rng)
    else:
        text = rng.choice(corpus)[1]
        if text.count("\n") > 150 and rng.random() < 0.9:
            text = _some_items(text, rng)
    for _ in range(rng.choice((0, 1, 1, 1, 2, 3, 4)) if index % 8 else 1):
        changed = mutate(text, rng, corpus)
        if len(changed) <= MAX_CASE_CHARS:
            text = changed
    return as_read(text)


_ITEM = re.compile(r"^(protocol|criterion|trial|event|group|subject|parameter|rule|version|governed|amendment)\b")


def _some_items(text: str, rng: random.Random) -> str:
    """A big seed cut to its declarations and a few of its rules: a syntax error in it is checked item by
    item, so a 700-line seed costs 50 times a small one and says little more."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _ITEM.match(line)] + [len(lines)]
    items = [lines[a:b] for a, b in itertools.pairwise(starts)]
    kept = [item for item in items if not item[0].startswith("rule") or rng.random() < 0.15]
    return "\n".join(lines[:starts[0]] + [line for item in kept for line in item])


def as_read(text: str) -> str:
    """The text as load_protocol sees it from a file: UTF-8 with a byte-order mark dropped, newlines universal."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# ----- parse and check in process -----------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout()


def _position_problem(d: Diagnostic, source: str) -> str | None:
    if d.span is None:
        return f"a diagnostic without a position: {d.message!r}"
    last_line = source.count("\n") + 2
    if not (1 <= d.span.line <= last_line and d.span.column >= 1):
        return f"a diagnostic at {d.span.line}:{d.span.column}, outside the text: {d.message!r}"
    return None


def check(text: str, timeout: float = CASE_SECONDS) -> tuple[str, str]:
    """(outcome, detail) of parsing and checking one text: ok, rules_error, or bug with the reason."""
    from jk500_rules.compiler import compile_protocol
    from jk500_rules.language.parser import parse

    timed = timeout > 0 and hasattr(signal, "setitimer")
    if timed:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        protocol = compile_protocol(parse(text, FILENAME), FILENAME, text)
        for warning in protocol.warnings:
            problem = _position_problem(warning, text)
            if problem:
                return "bug", "warning: " + problem
            warning.render(FILENAME, text)
        return "ok", ""
    except RulesError as exc:
        if not exc.diagnostics:
            return "bug", "a RulesError without diagnostics"
        for d in exc.diagnostics:
            problem = _position_problem(d, text)
            if problem:
                return "bug", problem
        exc.render()
        return "rules_error", exc.diagnostics[0].message
    except _Timeout:
        return "bug", f"hang: parse and check took over {timeout:g} s"
    except Exception:  # noqa: BLE001 - anything else is what the fuzzer is for
        return "bug", traceback.format_exc(limit=-8)
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


@dataclass
class Tally:
    cases: int = 0
    errors: int = 0
    compiled: list[int] = field(default_factory=list)  # indices of the cases that compiled
    bugs: list[tuple[int, str, str]] = field(default_factory=list)  # (index, where, detail)

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.errors += other.errors
        self.compiled += other.compiled
        self.bugs += other.bugs


_CORPUS: list[tuple[str, str]] = []  # a pool worker's copy of its parent's corpus


def _set_corpus(corpus: list[tuple[str, str]]) -> None:
    _CORPUS[:] = corpus


def check_range(seed: int, start: int, stop: int, corpus: list[tuple[str, str]]) -> Tally:
    """Parse and check cases start..stop-1 of run `seed` in this process."""
    tally = Tally()
    for index in range(start, stop):
        outcome, detail = check(case_text(seed, index, corpus))
        tally.cases += 1
        if outcome == "ok":
            tally.compiled.append(index)
        elif outcome == "rules_error":
            tally.errors += 1
        else:
            tally.bugs.append((index, "check", detail))
    return tally


def _check_chunk(job: tuple[int, int, int]) -> Tally:
    seed, start, stop = job
    return check_range(seed, start, stop, _CORPUS)


# ----- the engine, in subprocesses ------------------------------------------------------------------------

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
    from jk500_rules.engine.audit import audit_files
    from jk500_rules.compiler import compile_protocol
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


def _engine_worker(cases_file: str) -> int:
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


# ----- the command ---------------------------------------------------------------------------------------


def fuzz(cases: int, seed: int = 1, engine_every: int = 20, jobs: int = 1, out: Path | None = None,
         progress: bool = True) -> tuple[Tally, int, list[tuple[int, str, str]]]:
    """Run `cases` cases; return the tally, the number fed to the engine and every bug (index, where, detail)."""
    corpus = seeds()  # read once: the corpus may change under a long run, a case must not
    _set_corpus(corpus)
    tally = Tally()
    began = time.monotonic()
    jobs_list = [(seed, start, min(cases, start + 250)) for start in range(0, cases, 250)]
    if jobs > 1:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with context.Pool(jobs, initializer=_set_corpus, initargs=(corpus,)) as pool:
            for part in pool.imap(_check_chunk, jobs_list):
                tally.add(part)
                _report(progress, tally, began)
    else:
        for job in jobs_list:
            tally.add(_check_chunk(job))
            _report(progress, tally, began)
    fed = tally.compiled[::engine_every] if engine_every > 0 else []
    texts = [(index, case_text(seed, index, corpus)) for index in fed]
    bugs = list(tally.bugs)
    batches = [texts[i:i + BATCH_CASES] for i in range(0, len(texts), BATCH_CASES)]
    with ThreadPoolExecutor(max(1, jobs)) as threads:
        for n, found in enumerate(threads.map(run_engine, batches), start=1):
            bugs += found
            if progress:
                print(f"fuzz: engine {min(n * BATCH_CASES, len(fed))}/{len(fed)}", file=sys.stderr, flush=True)
    if out is not None and bugs:
        out.mkdir(parents=True, exist_ok=True)
        for index, where, detail in bugs:
            name = f"seed{seed}-case{index}-{where}"
            (out / f"{name}.rules").write_text(case_text(seed, index, corpus), encoding="utf-8")
            (out / f"{name}.txt").write_text(detail + "\n", encoding="utf-8")
    return tally, len(fed), bugs


def _report(progress: bool, tally: Tally, began: float) -> None:
    if progress:
        print(f"fuzz: {tally.cases} cases checked, {len(tally.bugs)} bugs ({time.monotonic() - began:.0f} s)",
              file=sys.stderr, flush=True)


def summary(cases: int, seed: int, tally: Tally, fed: int, bugs: list) -> str:
    return (f"fuzz: {cases} cases (seed {seed}): {tally.errors} rules errors, {len(tally.compiled)} compiled, "
            f"{fed} fed to the engine, {len(bugs)} bugs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed: the same seed, the same cases")
    parser.add_argument("--engine-every", type=int, default=20, metavar="K",
                        help="feed every K-th compiled case to the engine in a subprocess (0: none; default 20)")
    parser.add_argument("--jobs", type=int, default=1, metavar="J", help="processes for parse and check")
    parser.add_argument("--out", default="fuzz-bugs", metavar="DIR", help="where each bug's input is written")
    parser.add_argument("--engine-worker", metavar="CASES.json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_worker:
        return _engine_worker(args.engine_worker)
    tally, fed, bugs = fuzz(args.cases, args.seed, args.engine_every, args.jobs, Path(args.out))
    for index, where, detail in bugs:
        print(f"BUG case {index} ({where}): {detail.strip().splitlines()[-1] if detail.strip() else ''}")
    print(summary(args.cases, args.seed, tally, fed, bugs))
    if bugs:
        print(f"fuzz: inputs written to {args.out}/", file=sys.stderr)
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
