"""A fuzzing run: cases checked (in a process pool with --jobs), a sample of the compiled ones fed to the engine."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .cases import case_text, planted_case, seeds
from .engine import BATCH_CASES, run_engine
from .oracle import Tally, check_planted_range, check_range, compiling

PLANTED_SHARE = 10  # one planted case (a reserved name, an 'or' product) per ten cases
_CORPUS: list[tuple[str, str]] = []  # a pool worker's copy of its parent's corpus
_BASES: list[tuple[str, str]] = []  # and of the seeds that compile, where constructs are planted


def _set_corpus(corpus: list[tuple[str, str]], bases: list[tuple[str, str]]) -> None:
    _CORPUS[:] = corpus
    _BASES[:] = bases


def _check_chunk(job: tuple[int, int, int, bool]) -> Tally:
    seed, start, stop, planted = job
    return check_planted_range(seed, start, stop, _BASES) if planted else check_range(seed, start, stop, _CORPUS)


def fuzz(cases: int, seed: int = 1, engine_every: int = 20, jobs: int = 1, out: Path | None = None,
         progress: bool = True) -> tuple[Tally, int, list[tuple[int, str, str]]]:
    """Run `cases` cases; return the tally, the number fed to the engine and every bug (index, where, detail)."""
    corpus = seeds()  # read once: the corpus may change under a long run, a case must not
    bases = compiling(corpus)
    _set_corpus(corpus, bases)
    tally = Tally()
    began = time.monotonic()
    planted = -(-cases // PLANTED_SHARE) if bases else 0
    jobs_list = [(seed, start, min(cases, start + 250), False) for start in range(0, cases, 250)]
    jobs_list += [(seed, start, min(planted, start + 250), True) for start in range(0, planted, 250)]
    if jobs > 1:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with context.Pool(jobs, initializer=_set_corpus, initargs=(corpus, bases)) as pool:
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
            text = planted_case(seed, index, bases)[0] if where == "planted" else case_text(seed, index, corpus)
            (out / f"{name}.rules").write_text(text, encoding="utf-8")
            (out / f"{name}.txt").write_text(detail + "\n", encoding="utf-8")
    return tally, len(fed), bugs


def _report(progress: bool, tally: Tally, began: float) -> None:
    if progress:
        print(f"fuzz: {tally.cases} cases checked, {len(tally.bugs)} bugs ({time.monotonic() - began:.0f} s)",
              file=sys.stderr, flush=True)


def summary(cases: int, seed: int, tally: Tally, fed: int, bugs: list) -> str:
    return (f"fuzz: {cases} cases (seed {seed}): {tally.errors} rules errors, {len(tally.compiled)} compiled, "
            f"{fed} fed to the engine; {tally.refused} of {tally.planted} planted reserved names and 'or' products "
            f"refused at their place; {len(bugs)} bugs")

