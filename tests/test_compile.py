"""`jk500-rules compile`: the engine JSON's shape, its golden texts, and numbers that reach rules, not facts."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.trial_facts import build_sessions
from jk500_rules.inputs.visit_logs import read_logs

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
        assert set(rule) <= {"all", "dist"}, name
        if "dist" in rule:  # only where two patterns match the same kind of fact
            kinds = [next(iter(p.values())) for p in rule["all"]]
            kinds = [(c["$and"][0] if "$and" in c else c)["kind"] for c in kinds]
            assert rule["dist"] == 0 and len(set(kinds)) < len(kinds), name
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

GENERATED = Path("<generated>")  # stands for the `generated_log` fixture in CHANGES
# The hand-written example (every event type, few subjects) and a generated log (many subjects, all windows)
JK500_LOGS = (JK500_LOG, GENERATED)


@pytest.fixture(scope="module")
def generated_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's seeded JK500 log with planted deviations, less its benchmark-only event types.

    It holds every event type the JK500 rules read for a subject, in protocol.rules' vocabulary (clock
    times, labs, follow-up assessments), several subjects in each dose group and the SRC decisions.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the repository root holds `benchmarks`
    from benchmarks.generate import NOT_READ_BY_RULES, generate

    out = tmp_path_factory.mktemp("generated")
    gen = generate(1800, seed=7, out_dir=out, deviation_rate=0.5)
    path = out / "jk500.csv"
    with gen.csv_path.open(encoding="utf-8", newline="") as src, path.open("w", encoding="utf-8", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        event = header.index("event")
        writer.writerows(row for row in reader if row[event] not in NOT_READ_BY_RULES)
    return path


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
    assert data.records
    assert not data.rejections
    return [(s.name, s.subject, s.facts) for s in build_sessions(data.records, protocol, cutoff)]


def _is_window(fact: dict) -> bool:
    return fact["kind"] == "$count" and str(fact["period"]).startswith("window-")


def _split_windows(sessions: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Each session's facts without the follow-up window counts (refs dropped: they are positions), and those counts."""
    others = [(name, subject, [{k: v for k, v in f.items() if k != "ref"} for f in facts if not _is_window(f)])
              for name, subject, facts in sessions]
    windows = [(name, subject, [f for f in facts if _is_window(f)]) for name, subject, facts in sessions]
    return others, windows


CHANGES = [
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOGS,
        [("live_vaccine_before = 28 days", "live_vaccine_before = 29 days"),
         ("max_age = 18 years", "max_age = 17 years")],
        {"JK500-EXCL-LIVE-VACCINE", "JK500-ELIG-AGE"},
        None,
        id="jk500",
    ),
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOGS,
        [("max_infusions_per_week = 3", "max_infusions_per_week = 2"),
         ("treatment_period = 21 days", "treatment_period = 28 days"),
         ("2: 5e6 cells/kg", "2: 6e6 cells/kg"),
         ("dlt_window = 28 days", "dlt_window = 35 days")],
        {"JK500-TRT-WEEKLY", "JK500-TRT-TOTAL", "JK500-TRT-DOSE", "JK500-ESC-SRC-GATE", "JK500-SAF-AE-GRADED"},
        None,
        id="jk500-more",
    ),
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOGS,
        [("uln_multiple = 2", "uln_multiple = 3"),
         ("screening_period = 28 days", "screening_period = 35 days"),
         ("live_vaccine_after = 6 months", "live_vaccine_after = 7 months"),
         ("other_trial_window = 4 weeks", "other_trial_window = 6 weeks"),
         ("recent_disease_window = 28 days", "recent_disease_window = 21 days"),
         ("recent_surgery_window = 28 days", "recent_surgery_window = 14 days"),
         ("min_standard_inductions = 2", "min_standard_inductions = 3"),
         ("early_relapse = 6 months", "early_relapse = 12 months")],
        {"JK500-EXCL-CREATININE", "JK500-EXCL-BILIRUBIN", "JK500-EXCL-TRANSAMINASES", "JK500-EXCL-VIROLOGY",
         "JK500-EXCL-LIVE-VACCINE-AFTER", "JK500-EXCL-OTHER-TRIAL", "JK500-EXCL-RECENT-DISEASE",
         "JK500-EXCL-RECENT-SURGERY", "JK500-ELIG-REFRACTORY"},
        None,
        id="jk500-eligibility",
    ),
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOGS,
        [("cyclophosphamide_dose = 60 mg/kg", "cyclophosphamide_dose = 50 mg/kg"),
         ("fludarabine_dose = 25 mg/m2", "fludarabine_dose = 30 mg/m2"),
         ("il2_dose = 100 WU/m2", "il2_dose = 120 WU/m2"),
         ("dose_tolerance = 10 %", "dose_tolerance = 5 %")],
        {"JK500-TRT-CY-DOSE", "JK500-TRT-FLU-DOSE", "JK500-TRT-IL2-DOSE", "JK500-TRT-DOSE"},
        None,
        id="jk500-doses",
    ),
    # The one exception: follow-up windows are facts (one count per window, empty windows included),
    # computed from these two numbers. They change the window facts and the plan's windows, besides
    # the two follow-up rules, and nothing else.
    pytest.param(
        ROOT / "protocol.rules",
        JK500_LOGS,
        [("assessment_interval = 3 months", "assessment_interval = 2 months"),
         ("follow_up_period = 24 months", "follow_up_period = 12 months")],
        {"JK500-FU-RESPONSE", "JK500-FU-MRD"},
        ((3, 24), (2, 12)),  # (interval, horizon) in months, before and after
        id="jk500-follow-up-windows",
    ),
    pytest.param(
        OTHER / "protocol.rules",
        (OTHER / "visits.csv",),
        [("review_lag = 14 days", "review_lag = 21 days"),
         ("dose_tolerance = 5 %", "dose_tolerance = 10 %"),
         ("steroid_washout = 4 weeks", "steroid_washout = 6 weeks")],
        {"ASTHMA-07-SAF-DSMB-GATE", "ASTHMA-07-TRT-DOSE", "ASTHMA-07-EXCL-OCS"},
        None,
        id="other-trial",
    ),
]


@pytest.mark.parametrize("rules, logs, edits, changed, windows", CHANGES)
def test_changing_a_number_changes_rules_not_facts(tmp_path: Path, rules: Path, logs: tuple[Path, ...],
                                                   edits: list[tuple[str, str]], changed: set[str],
                                                   windows: tuple[tuple[int, int], tuple[int, int]] | None,
                                                   request: pytest.FixtureRequest) -> None:
    before = load_protocol(str(rules))
    after = _variant(tmp_path, rules, edits)

    old, new = before.rulesets(), after.rulesets()
    assert old.keys() == new.keys()
    differing = {name.split("#", 1)[0] for name in old if old[name] != new[name]}
    assert differing == changed
    if windows is None:
        assert before.plan == after.plan
    else:  # window numbers: the plan's windows change, nothing else in it
        no_windows = [dataclasses.replace(plan, windows=frozenset()) for plan in (before.plan, after.plan)]
        assert no_windows[0] == no_windows[1]
        for plan, expected in ((before.plan, windows[0]), (after.plan, windows[1])):
            assert plan.windows
            assert {(w.interval_months, w.horizon_months) for w in plan.windows if not w.schedule} == {expected}

    cutoff = dt.date(2030, 1, 1)
    for log in logs:
        if log == GENERATED:
            log = request.getfixturevalue("generated_log")
        facts_before, facts_after = _facts(before, log, cutoff), _facts(after, log, cutoff)
        if windows is None:
            assert facts_before == facts_after, log
            continue
        # Window numbers: the window facts change, every other fact stays the same.
        others_before, windows_before = _split_windows(facts_before)
        others_after, windows_after = _split_windows(facts_after)
        assert others_before == others_after, log
        for sessions, (interval, horizon) in ((windows_before, windows[0]), (windows_after, windows[1])):
            per_subject = {len(facts) for _, subject, facts in sessions if subject is not None and facts}
            follow_up = [w for w in before.plan.windows if not w.schedule]
            assert per_subject == {len(follow_up) * horizon // interval}, log  # one fact per window


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_interval_rules_keep_the_same_shape_limits(path: Path) -> None:
    """The rules for sessions with partial dates: the same engine rules over date intervals, plus
    `possible_*` ones, within the same structural limits as the plain ones."""
    from jk500_rules import load_protocol

    protocol = load_protocol(str(path))
    plain, interval = protocol.rulesets(), protocol.interval_rulesets()
    assert set(plain) <= set(interval)
    assert {name for name in interval if name not in plain} == {
        er.name for rule in protocol.rules for er in rule.interval_rules if er.role.startswith("possible_")}
    for name, rule in interval.items():
        assert not set(keys(rule)) & FORBIDDEN_KEYS, name
        assert 1 <= len(rule["all"]) <= MAX_PATTERNS, name


@pytest.mark.parametrize("limit, value, message", [
    ("ENGINE_MAX_TESTS", 5, "tests one record 5 ways in one engine pattern; durable-rules takes at most 4"),
    ("ENGINE_MAX_PATTERNS", 2, "joins 3 records in one engine rule; durable-rules joins at most 2"),
    ("ENGINE_MAX_RULES", 100, "engine rules; durable-rules takes at most 100 in one ruleset"),
    ("ENGINE_MAX_FIRST_KINDS", 5, "durable-rules hangs past 512 distinct first tests"),
    ("ENGINE_MAX_RULES_PER_RECORD_TEST", 20, "more than 20 engine rules test a record the same way ("),
])
def test_rules_past_the_engines_limits_are_refused(monkeypatch, limit: str, value: int, message: str) -> None:
    # The real limits are far above what protocol.rules needs; lowered, the same guard must refuse it.
    from jk500_rules.compiler import limits as compiler
    from jk500_rules.errors import RulesError

    monkeypatch.setattr(compiler, limit, value)
    with pytest.raises(RulesError) as caught:
        load_protocol(str(ROOT / "protocol.rules"))
    assert message in caught.value.render()
