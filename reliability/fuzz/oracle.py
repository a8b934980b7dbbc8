"""The oracle: parse and check one rules text in process, and tell a positioned rules error from a bug."""

from __future__ import annotations

import signal
import traceback
from dataclasses import dataclass, field

from jk500_rules.errors import Diagnostic, RulesError

from .cases import case_text, planted_case
from .plant import Planted

FILENAME = "fuzz.rules"
CASE_SECONDS = 10.0  # one parse + check; far above the slowest seen (tens of ms)


class _Timeout(BaseException):
    """The case's time ran out: a BaseException, so that the oracle's `except Exception` cannot take it."""


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
    outcome, detail, _ = _checked(text, timeout)
    return outcome, detail


def check_planted(planted: Planted, timeout: float = CASE_SECONDS) -> tuple[str, str]:
    """(outcome, detail) of a text with a construct planted: rules_error when an error names a line of the
    construct, else bug (the text compiled, or was refused only elsewhere)."""
    text, (first, last), what = planted
    outcome, detail, lines = _checked(text, timeout)
    if outcome == "ok":
        return "bug", f"compiled, with {what} planted at line {first}"
    if outcome == "rules_error" and not any(first <= line <= last for line in lines):
        return "bug", f"{what} planted at lines {first}-{last}, but the errors name lines {sorted(set(lines))[:8]}"
    return outcome, detail


def _checked(text: str, timeout: float) -> tuple[str, str, list[int]]:
    """check's outcome and detail, and the line of every error."""
    timed = timeout > 0 and hasattr(signal, "setitimer")
    if timed:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        try:
            return _outcome(text)
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:  # also when the timer runs out as the case ends, before it is stopped
        return "bug", f"hang: parse and check took over {timeout:g} s", []
    finally:
        if timed:
            signal.signal(signal.SIGALRM, previous)


def _outcome(text: str) -> tuple[str, str, list[int]]:
    from jk500_rules.compiler import compile_protocol
    from jk500_rules.language.parser import parse

    try:
        protocol = compile_protocol(parse(text, FILENAME), FILENAME, text)
        for warning in protocol.warnings:
            problem = _position_problem(warning, text)
            if problem:
                return "bug", "warning: " + problem, []
            warning.render(FILENAME, text)
        return "ok", "", []
    except RulesError as exc:
        if not exc.diagnostics:
            return "bug", "a RulesError without diagnostics", []
        for d in exc.diagnostics:
            problem = _position_problem(d, text)
            if problem:
                return "bug", problem, []
        exc.render()
        return "rules_error", exc.diagnostics[0].message, [d.span.line for d in exc.diagnostics if d.span]
    except Exception:  # noqa: BLE001 - anything else is what the fuzzer is for
        return "bug", traceback.format_exc(limit=-8), []


@dataclass
class Tally:
    cases: int = 0
    errors: int = 0
    compiled: list[int] = field(default_factory=list)  # indices of the cases that compiled
    bugs: list[tuple[int, str, str]] = field(default_factory=list)  # (index, where, detail)
    planted: int = 0  # planted cases checked (`check_planted_range`)
    refused: int = 0  # of those, refused with an error at the planted construct

    def add(self, other: Tally) -> None:
        self.cases += other.cases
        self.errors += other.errors
        self.compiled += other.compiled
        self.bugs += other.bugs
        self.planted += other.planted
        self.refused += other.refused


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


def compiling(corpus: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The seeds that compile: a construct planted in one of them is what its error must be about."""
    return [(name, text) for name, text in corpus if check(text)[0] == "ok"]


def check_planted_range(seed: int, start: int, stop: int, bases: list[tuple[str, str]]) -> Tally:
    """Check planted cases start..stop-1 of run `seed` (`cases.planted_case`) in this process."""
    tally = Tally()
    for index in range(start, stop):
        outcome, detail = check_planted(planted_case(seed, index, bases))
        tally.planted += 1
        if outcome == "rules_error":
            tally.refused += 1
        else:
            tally.bugs.append((index, "planted", detail))
    return tally
