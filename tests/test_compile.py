"""`jk500-rules compile`: the engine JSON's shape, its golden texts, and numbers that reach rules, not facts."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from jk500_rules.cli import load_protocol
from jk500_rules.compiler import CompiledProtocol
from jk500_rules.facts import build_sessions
from jk500_rules.records import read_logs

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "compile"
GOLDEN_CASES = sorted(GOLDEN.glob("*.rules"))
JK500_LOG = ROOT / "examples" / "jk500_visits.csv"
OTHER = ROOT / "examples" / "other_trial"

RULES_FILES = [ROOT / "protocol.rules", OTHER / "protocol.rules", *GOLDEN_CASES]
FORBIDDEN_KEYS = {"$or", "$not", "$s", "any"}
MAX_PATTERNS = 16


def compile_json(path: Path, cwd: Path | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "compile", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


@pytest.fixture(scope="module")
def jk500_json() -> dict[str, Any]:
    return compile_json(Path("protocol.rules"), cwd=ROOT)


def test_rule_names_cover_every_rule_id(jk500_json: dict[str, Any]) -> None:
    rule_ids = [r.id for r in load_protocol(str(ROOT / "protocol.rules")).rules]
    assert rule_ids
    prefixes = {name.split("#", 1)[0] for name in jk500_json}
    assert prefixes == set(rule_ids)
    for name in jk500_json:
        assert "#" in name, name


def test_compile_is_deterministic(jk500_json: dict[str, Any]) -> None:
    assert compile_json(Path("protocol.rules"), cwd=ROOT) == jk500_json


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_pattern_starts_with_a_kind_test(path: Path) -> None:
    for name, rule in compile_json(path).items():
        assert set(rule) == {"all"}, name
        for pattern in rule["all"]:
            ((alias, condition),) = pattern.items()
            first = condition["$and"][0] if "$and" in condition else condition
            assert list(first) == ["kind"], (name, alias, condition)
            assert isinstance(first["kind"], str)


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_order_dependent_or_unsafe_constructs(path: Path) -> None:
    for name, rule in compile_json(path).items():
        used = set(keys(rule))
        assert not used & FORBIDDEN_KEYS, (name, used & FORBIDDEN_KEYS)
        aliases = [next(iter(p)) for p in rule["all"]]
        assert not [a for a in aliases if "$" in a], (name, aliases)  # x$not, x$any, x$all
        assert len(set(aliases)) == len(aliases), name


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_at_most_16_patterns_per_rule(path: Path) -> None:
    for name, rule in compile_json(path).items():
        assert 1 <= len(rule["all"]) <= MAX_PATTERNS, name


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[p.stem for p in GOLDEN_CASES])
def test_golden_compiled_json(case: Path) -> None:
    expected = json.loads(case.with_suffix(".json").read_text(encoding="utf-8"))
    assert compile_json(Path(case.name), cwd=GOLDEN) == expected


def test_golden_compile_corpus_is_complete() -> None:
    assert {p.stem for p in GOLDEN.glob("*.rules")} == {p.stem for p in GOLDEN.glob("*.json")}
    assert GOLDEN_CASES


# ----- numbers change the rules, never the facts ---------------------------------------------------


def _variant(tmp_path: Path, source: Path, edits: list[tuple[str, str]]) -> CompiledProtocol:
    text = source.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return load_protocol(str(path))


def _facts(protocol: CompiledProtocol, log: Path, cutoff: dt.date) -> list[tuple]:
    data = read_logs([str(log)], protocol)
    assert not data.rejections
    return [(s.name, s.subject, s.facts) for s in build_sessions(data.records, protocol, cutoff)]


CHANGES = [
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOG,
        [("live_vaccine_window = 28 days", "live_vaccine_window = 29 days"),
         ("max_age = 18 years", "max_age = 17 years")],
        {"JK500-EXCL-LIVE-VACCINE", "JK500-ELIG-AGE"},
        id="jk500",
    ),
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOG,
        [("max_infusions_per_week = 3", "max_infusions_per_week = 2"),
         ("treatment_period = 21 days", "treatment_period = 28 days"),
         ("2: 5e6 cells/kg", "2: 6e6 cells/kg"),
         ("dlt_window = 28 days", "dlt_window = 35 days")],
        {"JK500-TRT-WEEKLY", "JK500-TRT-TOTAL", "JK500-TRT-DOSE", "JK500-ESC-SRC-GATE"},
        id="jk500-more",
    ),
    pytest.param(
        OTHER / "protocol.rules",
        OTHER / "visits.csv",
        [("review_lag = 14 days", "review_lag = 21 days"),
         ("dose_tolerance = 5 %", "dose_tolerance = 10 %"),
         ("steroid_washout = 4 weeks", "steroid_washout = 6 weeks")],
        {"ASTHMA-07-SAF-DSMB-GATE", "ASTHMA-07-TRT-DOSE", "ASTHMA-07-EXCL-OCS"},
        id="other-trial",
    ),
]


@pytest.mark.parametrize("rules, log, edits, changed", CHANGES)
def test_changing_a_number_changes_rules_not_facts(tmp_path: Path, rules: Path, log: Path,
                                                   edits: list[tuple[str, str]], changed: set[str]) -> None:
    before = load_protocol(str(rules))
    after = _variant(tmp_path, rules, edits)

    old, new = before.rulesets(), after.rulesets()
    assert old.keys() == new.keys()
    differing = {name.split("#", 1)[0] for name in old if old[name] != new[name]}
    assert differing == changed
    assert before.plan == after.plan

    cutoff = dt.date(2030, 1, 1)
    assert _facts(before, log, cutoff) == _facts(after, log, cutoff)
