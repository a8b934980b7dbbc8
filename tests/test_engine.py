"""The engine runner: audits do not interfere, memory stays flat, joins do not depend on fact order."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.durable import Engine, EngineError
from jk500_rules.engine.facts import Session
from jk500_rules.engine.trial_facts import build_sessions
from jk500_rules.inputs.visit_logs import read_logs

ROOT = Path(__file__).resolve().parents[1]
JK500_RULES, JK500_LOG = ROOT / "protocol.rules", ROOT / "examples" / "jk500_visits.csv"
OTHER_RULES, OTHER_LOG = ROOT / "examples" / "other_trial" / "protocol.rules", ROOT / "examples" / "other_trial" / "visits.csv"

Match = tuple[str, tuple[tuple[str, int], ...]]


def sessions_of(protocol: CompiledProtocol, log: Path) -> list[Session]:
    data = read_logs([str(log)], protocol)
    cutoff = max(r.date for r in data.records)
    return build_sessions(data.records, protocol, cutoff)


def fed(engine: Engine, session: str, facts: list[dict]) -> list[Match]:
    """Feed a batch; each match as (engine rule, aliases -> the facts' refs): independent of batch order."""
    before = copy.deepcopy(facts)
    matches = engine.feed(session, facts)
    assert facts == before, "the engine changed the facts it was fed"
    return sorted((name, tuple(sorted((alias, facts[index]["ref"]) for alias, index in match.items())))
                  for name, match in matches)


def feed_all(engine: Engine, sessions: list[Session]) -> dict[str, list[Match]]:
    return {s.name: fed(engine, s.name, s.facts) for s in sessions}


@pytest.fixture(scope="module")
def jk500() -> tuple[CompiledProtocol, list[Session]]:
    protocol = load_protocol(str(JK500_RULES))
    return protocol, sessions_of(protocol, JK500_LOG)


@pytest.fixture(scope="module")
def other() -> tuple[CompiledProtocol, list[Session]]:
    protocol = load_protocol(str(OTHER_RULES))
    return protocol, sessions_of(protocol, OTHER_LOG)


def test_two_engines_fed_in_turn_give_what_each_gives_alone(jk500, other) -> None:
    (p1, s1), (p2, s2) = jk500, other
    with Engine(p1.rulesets()) as alone:
        expected1 = feed_all(alone, s1)
    with Engine(p2.rulesets()) as alone:
        expected2 = feed_all(alone, s2)
    assert any(expected1.values()) and any(expected2.values())

    got1: dict[str, list[Match]] = {}
    got2: dict[str, list[Match]] = {}
    with Engine(p1.rulesets()) as a, Engine(p2.rulesets()) as b:
        for one, two in itertools.zip_longest(s1, s2):
            if one is not None:
                got1[one.name] = fed(a, one.name, copy.deepcopy(one.facts))
            if two is not None:
                got2[two.name] = fed(b, two.name, copy.deepcopy(two.facts))
    assert got1 == expected1
    assert got2 == expected2


def test_two_engines_of_one_ruleset_with_the_same_session_names(jk500) -> None:
    """Both engines see a session named 'trial' and 'subject:...': the engine keys state by ruleset."""
    protocol, sessions = jk500
    with Engine(protocol.rulesets()) as alone:
        expected = feed_all(alone, sessions)
    reversed_sessions = list(reversed(sessions))
    with Engine(protocol.rulesets()) as a, Engine(protocol.rulesets()) as b:
        assert a.name != b.name
        got_a, got_b = {}, {}
        for x, y in zip(sessions, reversed_sessions):
            got_a[x.name] = fed(a, x.name, copy.deepcopy(x.facts))
            got_b[y.name] = fed(b, y.name, copy.deepcopy(y.facts))
    assert got_a == expected == got_b


def test_one_engine_fed_the_same_session_twice(jk500) -> None:
    """State is deleted after each session: feeding it again gives the same matches, not doubled ones."""
    protocol, sessions = jk500
    with Engine(protocol.rulesets()) as engine:
        first = feed_all(engine, sessions)
        second = feed_all(engine, sessions)
    assert first == second


def test_a_closed_engine_refuses_facts(jk500) -> None:
    protocol, sessions = jk500
    engine = Engine(protocol.rulesets())
    engine.close()
    engine.close()  # closing twice is harmless
    with pytest.raises(EngineError):
        engine.feed("subject:x", [])


def test_interleaved_audits_give_the_findings_of_separate_audits() -> None:
    p1, p2 = load_protocol(str(JK500_RULES)), load_protocol(str(OTHER_RULES))
    alone1 = [(f.rule.id, f.subject, f.date, f.status) for f in audit_files(p1, [str(JK500_LOG)]).findings]
    alone2 = [(f.rule.id, f.subject, f.date, f.status) for f in audit_files(p2, [str(OTHER_LOG)]).findings]
    for _ in range(3):
        again2 = [(f.rule.id, f.subject, f.date, f.status) for f in audit_files(p2, [str(OTHER_LOG)]).findings]
        again1 = [(f.rule.id, f.subject, f.date, f.status) for f in audit_files(p1, [str(JK500_LOG)]).findings]
        assert again1 == alone1 and again2 == alone2


# ----- joins: the same matches whatever order the facts arrive in ------------------------------------

WINDOW_RULES = {
    "window#1": {"all": [
        {"t": {"$and": [{"kind": "dose"}, {"seq": 1}]}},
        {"x": {"$and": [{"kind": "vaccine"}, {"live": 1},
                        {"$gte": {"date": {"$sub": {"$l": {"t": "date"}, "$r": 28}}}},
                        {"$lte": {"date": {"t": "date"}}}]}},
    ]},
    "gate#1": {"all": [
        {"t": {"$and": [{"kind": "dose"}, {"seq": 1}]}},
        {"r": {"$and": [{"kind": "milestone"}, {"group": {"t": "group"}}]}},
        {"x": {"$and": [{"kind": "review"}, {"group": {"t": "group"}},
                        {"$gt": {"date": {"r": "date"}}}, {"$lte": {"date": {"t": "date"}}}]}},
    ]},
}


def window_facts() -> list[dict]:
    day = 19_800
    facts = [
        {"kind": "dose", "seq": 1, "group": 2, "date": day},
        {"kind": "dose", "seq": 2, "group": 2, "date": day + 7},
        {"kind": "vaccine", "live": 1, "date": day - 28},  # first day of the window: a match
        {"kind": "vaccine", "live": 1, "date": day - 29},  # a day early: no match
        {"kind": "vaccine", "live": 0, "date": day - 3},  # not live
        {"kind": "vaccine", "live": 1, "date": day},  # the day of the first dose: a match
        {"kind": "milestone", "group": 2, "date": day - 20},
        {"kind": "milestone", "group": 1, "date": day - 5},
        {"kind": "review", "group": 2, "date": day - 20},  # not after the milestone
        {"kind": "review", "group": 2, "date": day - 1},  # a match
        {"kind": "review", "group": 1, "date": day - 1},  # wrong group
    ]
    for ref, fact in enumerate(facts):
        fact["ref"] = ref
    return facts


def test_a_join_matches_the_same_facts_in_every_order() -> None:
    facts = window_facts()
    expected = sorted([
        ("gate#1", (("r", 6), ("t", 0), ("x", 9))),
        ("window#1", (("t", 0), ("x", 2))),
        ("window#1", (("t", 0), ("x", 5))),
    ])
    rng = random.Random(7)
    orders = [list(range(len(facts))), list(reversed(range(len(facts))))]
    orders += [rng.sample(range(len(facts)), len(facts)) for _ in range(200)]
    with Engine(WINDOW_RULES) as engine:
        for number, order in enumerate(orders):
            batch = [copy.deepcopy(facts[i]) for i in order]
            assert fed(engine, f"s{number}", batch) == expected, order


def test_every_permutation_of_a_small_join() -> None:
    facts = [f for f in window_facts() if f["ref"] in (0, 2, 3, 5, 9, 6)]
    expected = sorted([
        ("gate#1", (("r", 6), ("t", 0), ("x", 9))),
        ("window#1", (("t", 0), ("x", 2))),
        ("window#1", (("t", 0), ("x", 5))),
    ])
    with Engine(WINDOW_RULES) as engine:
        for number, order in enumerate(itertools.permutations(facts)):
            assert fed(engine, f"p{number}", copy.deepcopy(list(order))) == expected


@pytest.mark.parametrize("which", ["jk500", "other"])
def test_compiled_rules_match_the_same_facts_in_shuffled_sessions(which: str, jk500, other) -> None:
    protocol, sessions = jk500 if which == "jk500" else other
    rng = random.Random(11)
    with Engine(protocol.rulesets()) as engine:
        expected = feed_all(engine, sessions)
        assert sum(len(m) for m in expected.values()) > 20
        for _ in range(5):
            for session in sessions:
                shuffled = copy.deepcopy(session.facts)
                rng.shuffle(shuffled)
                assert fed(engine, session.name, shuffled) == expected[session.name], session.name


# ----- memory ----------------------------------------------------------------------------------------

MEMORY_PROBE = textwrap.dedent(
    """
    import gc, json, os, resource, sys
    from jk500_rules.engine.audit import audit_files
    from jk500_rules import load_protocol

    def rss_mb():
        if os.path.exists("/proc/self/statm"):  # the current RSS on Linux
            with open("/proc/self/statm") as handle:
                return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # peak RSS in bytes (macOS)

    rules, log, findings = sys.argv[1], sys.argv[2], int(sys.argv[3])
    protocol = load_protocol(rules)
    marks = {}
    for i in range(1, 301):
        result = audit_files(protocol, [log])
        assert len(result.findings) == findings, len(result.findings)
        if i in (50, 300):
            gc.collect()
            marks[i] = rss_mb()
    print(json.dumps(marks))
    """
)


def test_engine_memory_does_not_grow_across_audits() -> None:
    findings = len(audit_files(load_protocol(str(JK500_RULES)), [str(JK500_LOG)]).findings)
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(JK500_RULES), str(JK500_LOG), str(findings)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    marks = json.loads(done.stdout)
    after_50, after_300 = marks["50"], marks["300"]
    print(f"RSS after 50 audits: {after_50:.1f} MB; after 300 audits: {after_300:.1f} MB; "
          f"growth {after_300 - after_50:+.1f} MB")
    assert after_300 - after_50 < 15


def test_dates_of_facts_are_epoch_days(jk500) -> None:
    """The window arithmetic above assumes `date` is a day count; the fact builder must agree."""
    _, sessions = jk500
    fact = next(f for s in sessions for f in s.facts if f["kind"] == "infusion")
    assert dt.date(1970, 1, 1) + dt.timedelta(days=fact["date"]) > dt.date(2020, 1, 1)


def test_text_values_that_look_like_engine_json_do_not_confuse_the_matches() -> None:
    hostile = ['x","t":{"id": 3, "kind": "review"', '"id": 0,', '{"id": 7,}', 'a\\\\"b']
    facts = window_facts()
    plain = None
    with Engine(WINDOW_RULES) as engine:
        plain = fed(engine, "plain", copy.deepcopy(facts))
        for number, text in enumerate(hostile):
            batch = [dict(f, note=text) for f in copy.deepcopy(facts)]
            assert fed(engine, f"hostile{number}", batch) == plain, text


def test_a_rules_matches_come_whole_in_messages_of_at_most_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `cap`, one action message carries a list of one rule's matches: every pair of a small join is
    read back once, whether the matches come in one message or in messages of 3."""
    from jk500_rules.engine import durable

    rules = {"pair": {"all": [{"t": {"kind": "a"}}, {"x": {"$and": [{"kind": "b"}, {"v": {"t": "v"}}]}}]}}
    facts = [{"kind": "a", "v": n % 3, "ref": n} for n in range(7)] + \
        [{"kind": "b", "v": n % 3, "ref": 10 + n} for n in range(8)]
    expected = sorted(("pair", (("t", a["ref"]), ("x", b["ref"]))) for a in facts for b in facts
                      if a["kind"] == "a" and b["kind"] == "b" and a["v"] == b["v"])
    assert len(expected) == 19
    for cap in (durable.CAP, 3, 1):
        monkeypatch.setattr(durable, "CAP", cap)
        with Engine(rules) as engine:
            assert engine.definition["pair"]["cap"] == cap
            assert fed(engine, f"cap {cap}", copy.deepcopy(facts)) == expected
