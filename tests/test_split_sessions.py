"""A large session fed as several engine sessions finds the same matches: every report stays the same.

jk500_rules/engine/split.py spreads a subject's facts over engine sessions when the subject has more
than SPLIT_FROM facts (the engine's store is quadratic within one session). These tests lower the
thresholds so that every session of every example is split as finely as the rules allow, and compare
with the pinned reports and with one engine session; a split the rules do not allow must show.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import unavailable
from report_pins import AUDITS, make_reports, read_pins, shared_pilot

from jk500_rules import load_protocol
from jk500_rules.compiler.model import EngineRule, Pattern
from jk500_rules.engine import engines as engines_module
from jk500_rules.engine import split
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.engines import Engines
from jk500_rules.engine.facts import Session
from jk500_rules.engine.split import SplitPlan, plan_split
from jk500_rules.engine.trial_facts import build_sessions
from jk500_rules.inputs.visit_logs import read_logs
from jk500_rules.reports.json_report import to_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root holds `benchmarks`

from benchmarks.generate import generate  # noqa: E402


@pytest.fixture
def split_finely(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Split every session, each split kind `chunk` facts at a time; count the engine sessions per kind."""
    monkeypatch.setattr(split, "SPLIT_FROM", 0)
    monkeypatch.setattr(split, "CHUNK_FACTS", 1)
    fed: Counter = Counter()
    real = engines_module.split_sessions

    def counted(plan: SplitPlan, facts: list[dict], kinds: list[str]) -> list[tuple[str | None, list[int]]]:
        parts = real(plan, facts, kinds)
        fed.update(kind for kind, _ in parts)
        return parts

    monkeypatch.setattr(engines_module, "split_sessions", counted)
    return fed


def _full_rules(protocol):  # type: ignore[no-untyped-def]
    return [er for rule in protocol.rules for er in rule.engine_rules]


@pytest.mark.parametrize("name", sorted(AUDITS))
def test_every_pinned_report_is_the_same_with_every_session_split_finely(
        name: str, tmp_path: Path, split_finely: Counter) -> None:
    if name == "cdiscpilot01" and not shared_pilot().is_dir():
        unavailable(f"the CDISC pilot SDTM data is not at {shared_pilot()}; set JK500_SHARED_DATA",
                    "every pinned report")
    pinned = {key: digest for key, digest in read_pins().items() if key.startswith(f"{name}/")}
    made = make_reports(tmp_path, [name])
    assert made == pinned
    assert sum(n for kind, n in split_finely.items() if kind is not None) >= 2  # it did split


def test_engine_gives_a_sessions_matches_rule_by_rule_in_ruleset_order() -> None:
    """What putting split matches back in ruleset order relies on: one engine session's own order."""
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    data = read_logs([str(ROOT / "examples" / "jk500_visits.csv")], protocol)
    cutoff = max(r.date for r in data.records)
    sessions = build_sessions([r for r in data.records if r.event in protocol.plan.read_events], protocol, cutoff)
    position = {name: i for i, name in enumerate(protocol.rulesets())}
    engines = Engines()
    try:
        engine, _ = engines.get(protocol, False)
        checked = 0
        for session in sessions:
            if session.partial:
                continue
            order = [position[name] for name, _ in engine.feed(session.name, session.facts)]
            assert order == sorted(order), session.name
            checked += len(order)
        assert checked > 1000
    finally:
        engines.close()


def test_which_kinds_may_be_split_off() -> None:
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    plan = plan_split(_full_rules(protocol))
    # Labs join only the first infusion, one lab at a time: each chunk of labs goes with the infusions.
    assert plan.splittable("lab") and plan.partners["lab"] == {"infusion"}
    # A rule names the first and the last infusion at once: a match needs two infusions together.
    assert not plan.splittable("infusion")
    # The subject's attributes are an anchor of a deviation rule (nominal_dose[dose_group]): kept whole.
    assert not plan.splittable("$subject")
    # Kinds one rule joins are never split off together.
    facts = [{"kind": "consent"}] * 3000 + [{"kind": "procedure"}] * 2500
    assert plan.joined("consent", "procedure")
    assert split.split_kinds(plan, facts) == ["consent"]
    assert split.split_kinds(plan, facts[:split.SPLIT_FROM]) == []  # small sessions stay whole


def test_kinds_a_rule_names_twice_or_keys_its_verdicts_by_are_kept_whole() -> None:
    """Named twice: a match needs two of its facts together. Keyed by t and x, the first match per
    (t, x) counts: a split kind must be t or x there, so that all of a key's matches share a session."""
    t, a, x = Pattern("t", "infusion"), Pattern("a", "lab"), Pattern("x", "lab")
    plan = plan_split([EngineRule("R#covered1", "covered", (t, x), ()),
                       EngineRule("R#deviation2", "deviation", (t, Pattern("x", "vaccination")), ())])
    assert plan.splittable("lab") and plan.splittable("vaccination") and plan.splittable("infusion")
    assert not plan_split([EngineRule("R#covered1", "covered", (t, a, x), ())]).splittable("lab")  # twice
    assert not plan_split([EngineRule("R#deviation1", "deviation", (t, a), ())]).splittable("lab")  # an anchor
    assert plan_split([EngineRule("R#needs1", "needs", (t, a), ())]).splittable("lab")  # read as a set
    assert not plan_split([EngineRule("R#possible_covered1", "possible_covered", (t, x), ())]).splittable("lab")


def _heavy_log(tmp_path: Path) -> tuple[Path, Path, str, Counter]:
    """A generated log whose first subject has 3,000 more labs, among them deviations and missing ULNs."""
    gen = generate(600, seed=5, out_dir=tmp_path, deviation_rate=0.0, extra_labs=3000, heavy_subjects=1)
    subject = gen.heavy[0]
    with gen.csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    mine = [r for r in rows if r["subject"] == subject]
    first = min(dt.date.fromisoformat(r["date"]) for r in mine if r["event"] == "infusion")
    planted: Counter = Counter()
    # In the screening window: creatinine at 3x ULN (deviations); AST without its ULN (cannot be judged).
    for k in range(7):
        day = (first - dt.timedelta(days=1 + k)).isoformat()
        rows.append({**mine[0], "date": day, "event": "lab", **{f: "" for f in fields[5:]},
                     "test": "creatinine", "result": "240.0", "uln": "80"})
        planted["JK500-EXCL-CREATININE", "deviation"] += 1
    for k in range(5):
        day = (first - dt.timedelta(days=2 + k)).isoformat()
        rows.append({**mine[0], "date": day, "event": "lab", **{f: "" for f in fields[5:]},
                     "test": "AST", "result": "300.0", "uln": ""})
        planted["JK500-EXCL-TRANSAMINASES", "not_evaluable"] += 1
    rows.sort(key=lambda r: (r["date"], r["subject"]))
    with gen.csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return gen.rules_path, gen.csv_path, subject, planted


def _report(rules: Path, log: Path, subject: str = "") -> tuple[str, Counter, dict[str, str]]:
    """The JSON report, the labs the findings hold as evidence by (rule, status), and where `subject` stands
    under each rule. (A rule checked for the first infusion makes one finding per subject, every lab its
    evidence.)"""
    result = audit_files(load_protocol(str(rules)), [str(log)], jobs=1)
    standings = {st.rule.id: st.status for st in result.standings if st.subject == subject}
    labs = Counter((f.rule.id, f.status) for f in result.findings for r in f.evidence if r.event == "lab")
    return to_json(result), labs, standings


def test_a_subject_with_thousands_of_labs_is_judged_the_same_split_or_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules, log, subject, planted = _heavy_log(tmp_path)
    monkeypatch.setattr(split, "SPLIT_FROM", 10**9)
    whole, found, _ = _report(rules, log)
    assert found == planted  # the labs the rules join with the first infusion, found across every chunk
    parts: list[tuple[str | None, int]] = []
    real = engines_module.split_sessions

    def recorded(plan: SplitPlan, facts: list[dict], kinds: list[str]) -> list[tuple[str | None, list[int]]]:
        out = real(plan, facts, kinds)
        parts.extend((kind, len(indexes)) for kind, indexes in out)
        return out

    monkeypatch.setattr(engines_module, "split_sessions", recorded)
    for chunk in (1000, 7, 1):
        monkeypatch.setattr(split, "SPLIT_FROM", 2000)
        monkeypatch.setattr(split, "CHUNK_FACTS", chunk)
        parts.clear()
        assert _report(rules, log)[0] == whole, f"chunks of {chunk}"
        assert Counter(kind for kind, _ in parts)["lab"] == -(-3019 // chunk)  # 3,000 + 7 of its own + 12
        assert max(n for kind, n in parts if kind == "lab") <= chunk + 6  # the chunk and the 6 infusions


def test_a_split_the_rules_do_not_allow_changes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above have teeth: infusions fed one per engine session lose every match naming two."""
    rules, log, subject, _ = _heavy_log(tmp_path)
    monkeypatch.setattr(split, "SPLIT_FROM", 10**9)
    whole, _, stands = _report(rules, log, subject)
    assert stands["JK500-SAF-AE-GRADED"] == "passed"

    def careless(engine_rules: list) -> SplitPlan:  # ignores that a rule names two infusions
        naming: dict[str, list[str]] = {}
        partners: dict[str, set[str]] = {}
        for er in engine_rules:
            for p in er.patterns:
                naming.setdefault(p.kind, []).append(er.name)
                partners.setdefault(p.kind, set()).update(q.kind for q in er.patterns if q.kind != p.kind)
        return SplitPlan({k: tuple(v) for k, v in naming.items()}, {k: frozenset(v) for k, v in partners.items()})

    monkeypatch.setattr(engines_module, "plan_split", careless)
    monkeypatch.setattr(engines_module, "split_kinds", lambda plan, facts: ["infusion"])
    monkeypatch.setattr(split, "SPLIT_FROM", 0)
    monkeypatch.setattr(split, "CHUNK_FACTS", 1)
    careless, _, careless_stands = _report(rules, log, subject)
    assert careless != whole
    # Its adverse events are checked between the first and the last infusion, now never in one session.
    assert careless_stands["JK500-SAF-AE-GRADED"] == "not_applicable"


def test_a_session_with_a_partial_date_is_fed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its `possible_*` matches are keyed by the check alone: their order would change if split."""
    monkeypatch.setattr(split, "SPLIT_FROM", 0)
    monkeypatch.setattr(split, "CHUNK_FACTS", 1)
    protocol = load_protocol(str(ROOT / "protocol.rules"))
    engines = Engines()
    try:
        session = Session("subject:P", "P", [{"kind": "lab"} for _ in range(5)], [], partial=True)
        called = []
        monkeypatch.setattr(engines_module, "split_sessions", lambda *a: called.append(a) or [])
        engine, _ = engines.get(protocol, True)
        monkeypatch.setattr(engine, "feed", lambda name, facts: [("fed whole", {"t": len(facts)})])
        assert engines.feed(protocol, session)[0] == [("fed whole", {"t": 5})]
        assert not called
    finally:
        engines.close()
