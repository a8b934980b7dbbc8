"""Fuzzing the language: mutated and generated rules texts end in a positioned rules error, never a traceback.

Parse and check run in process on a few thousand cases; a sample of the cases that compile is fed to the
engine in subprocesses with a timeout (a crash or hang in its C code cannot be caught in process). The
inputs include what the first 100,000-case run found (deep nesting, huge numbers, line separators, a
syntax error in a very large file): all now end in a positioned error.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from reliability.fuzz.cases import case_text, planted_case, seeds
from reliability.fuzz.engine import run_engine
from reliability.fuzz.oracle import Tally, check, check_planted, check_planted_range, check_range, compiling
from reliability.fuzz.plant import RESERVED

SEED = 2026
ROOT = Path(__file__).resolve().parents[1]  # the checkout: its golden corpus and examples are the seeds


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    return seeds(ROOT)


@pytest.fixture(scope="module")
def tally(corpus: list[tuple[str, str]]) -> Tally:
    return check_range(SEED, 0, 3000, corpus)


def _shown(bugs: list[tuple[int, str, str]], seed: int, corpus: list[tuple[str, str]]) -> str:
    first = bugs[0]
    return (f"{len(bugs)} bug(s); case {first[0]} of seed {seed} ({first[1]}):\n{first[2]}\ninput:\n"
            f"{case_text(seed, first[0], corpus)[:600]!r}")


def test_the_corpus_holds_every_seed_file(corpus: list[tuple[str, str]]) -> None:
    names = {name for name, _ in corpus}
    assert "protocol.rules" in names
    assert any(name.startswith("tests/golden/errors/") for name in names)
    assert any(name.startswith("examples/") for name in names)


def test_a_case_is_named_by_its_seed_and_index(corpus: list[tuple[str, str]]) -> None:
    assert case_text(7, 41, corpus) == case_text(7, 41, corpus)
    assert case_text(7, 41, corpus) != case_text(7, 42, corpus)


def test_the_oracle_tells_errors_from_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check('protocol "X"\nrule') == ("rules_error", check('protocol "X"\nrule')[1])
    assert check('protocol "X"\n')[0] == "ok"
    import jk500_rules.compiler as compiler

    def broken(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(compiler, "compile_protocol", broken)
    outcome, detail = check('protocol "X"\n')
    assert outcome == "bug" and "KeyError" in detail


def test_parse_and_check_only_ever_give_positioned_errors(tally: Tally, corpus: list[tuple[str, str]]) -> None:
    assert tally.cases == 3000
    assert not tally.bugs, _shown(tally.bugs, SEED, corpus)
    assert tally.errors > 1000 and len(tally.compiled) > 50  # both outcomes are exercised


def test_what_reaches_the_engine_neither_crashes_nor_hangs(tally: Tally, corpus: list[tuple[str, str]]) -> None:
    picked = tally.compiled[:: max(1, len(tally.compiled) // 20)][:20]
    cases = [(index, case_text(SEED, index, corpus)) for index in picked]
    bugs = run_engine(cases[:10]) + run_engine(cases[10:])
    assert len(cases) == 20
    assert not bugs, _shown(bugs, SEED, corpus)


def test_the_command_reports_its_count(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reliability.fuzz", "--cases", "200", "--seed", "3", "--engine-every", "5",
         "--out", str(tmp_path / "bugs")],
        check=False, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert "Traceback" not in done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"fuzz: 200 cases \(seed 3\): \d+ rules errors, \d+ compiled, \d+ fed to the engine; "
                        r"20 of 20 planted reserved names and 'or' products refused at their place; 0 bugs",
                        last), done.stdout
    errors, compiled, fed = map(int, re.findall(r"(\d+) (?:rules errors|compiled|fed)", last))
    assert errors + compiled == 200 and fed >= 1
    assert done.returncode == 0
    assert not (tmp_path / "bugs").exists()


# --- planted constructs (issue 14): reserved names and 'or' products, refused at their place ----------------

@pytest.fixture(scope="module")
def bases(corpus: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = compiling(corpus)
    assert any(name == "protocol.rules" for name, _ in found)
    return found


def test_planted_reserved_names_and_or_products_are_refused_at_their_place(bases: list[tuple[str, str]]) -> None:
    tally = check_planted_range(SEED, 0, 100, bases)
    assert (tally.planted, tally.refused, tally.bugs) == (100, 100, [])
    kinds = {planted_case(SEED, i, bases)[2].split(" ")[1] for i in range(100)}
    assert kinds == {"field", "subject", "'or'", "negated", "filter"}  # every planting is drawn


def test_the_oracle_counts_a_planted_name_the_checker_lets_through_as_a_bug(bases: list[tuple[str, str]],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import jk500_rules.compiler.declare as declare

    names = [i for i in range(60) if "named" in planted_case(SEED, i, bases)[2]]
    assert all(check_planted(planted_case(SEED, i, bases))[0] == "rules_error" for i in names)
    monkeypatch.setattr(declare, "reserved", lambda name: False)  # the checker as it was before issue 14
    outcomes = [check_planted(planted_case(SEED, i, bases)) for i in names]
    # Some reserved names are keywords where a field is declared (a syntax error at the line): those stay refused.
    missed = [detail for outcome, detail in outcomes if outcome == "bug"]
    assert len(missed) > len(names) // 2 and all(detail.startswith("compiled, with a ") for detail in missed)
    text = 'protocol "X"\nevent e "E" {\n    a: integer\n}\n'
    assert check_planted((text, (3, 3), "nothing"))[0] == "bug"  # compiles: the construct was not refused
    outcome, detail = check_planted((text + "rule\n", (3, 3), "nothing"))
    assert outcome == "bug" and detail.startswith("nothing planted at lines 3-3, but the errors name lines [5]")


def test_random_mutations_also_plant_reserved_names_and_products(corpus: list[tuple[str, str]]) -> None:
    texts = [case_text(SEED, i, corpus) for i in range(400)]
    assert any("fuzz_planted" in text and "subject " in text for text in texts)
    assert any(re.search(rf"^\s+({'|'.join(map(re.escape, RESERVED))}): ", text, re.M) for text in texts)
