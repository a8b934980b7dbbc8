"""Smoke test of the benchmark: the generator's event mix, and an audit that reads every record.

No timing here: `python -m benchmarks` measures; this only keeps the generator and the audit agreeing:
a log without planted deviations has no finding, and with them the audit finds exactly those planted.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds `benchmarks`

from benchmarks.generate import (  # noqa: E402
    EXTRA_EVENT_NAMES,
    NOT_READ_BY_RULES,
    PER_SUBJECT,
    PLANTED_RULE,
    PROTOCOL_RULES,
    RECORDS_PER_SUBJECT,
    generate,
)
from jk500_rules.audit import audit_files  # noqa: E402
from jk500_rules.cli import load_protocol  # noqa: E402
from jk500_rules.report import summary  # noqa: E402


def _events(path: Path) -> Counter:
    with path.open(encoding="utf-8", newline="") as fh:
        return Counter(row["event"] for row in csv.DictReader(fh))


def _audit(gen):
    protocol = load_protocol(str(gen.rules_path))
    result = audit_files(protocol, [str(gen.csv_path)])
    return protocol, result, summary(result)


def test_benchmark_events_do_not_clash_with_the_protocol() -> None:
    declared = set(load_protocol(str(PROTOCOL_RULES)).events)
    assert not declared & set(EXTRA_EVENT_NAMES)
    # every generated event type but the benchmark-only ones is the protocol's own
    assert set(PER_SUBJECT) - NOT_READ_BY_RULES <= declared
    assert NOT_READ_BY_RULES == set(EXTRA_EVENT_NAMES)


def test_event_mix_and_every_record_read(tmp_path: Path) -> None:
    gen = generate(300, seed=11, out_dir=tmp_path, deviation_rate=0.0)
    assert RECORDS_PER_SUBJECT == 60
    assert gen.subjects == 5
    assert not gen.planted and not gen.expected
    events = _events(gen.csv_path)
    assert events == gen.events
    trial_rows = events.pop("src_decision")
    assert 1 <= trial_rows <= 6
    assert events == {event: n * gen.subjects for event, n in PER_SUBJECT.items()}
    assert sum(events.values()) + trial_rows == gen.records

    protocol, result, s = _audit(gen)
    # the rules read every generated event type but the benchmark-only ones
    assert set(PER_SUBJECT) - NOT_READ_BY_RULES <= protocol.plan.read_events
    assert not NOT_READ_BY_RULES & protocol.plan.read_events
    assert s["records_read"] == gen.records
    assert s["records_rejected"] == 0
    assert s["records_read"] == s["records_audited"] + s["records_not_used"] + s["records_rejected"]
    # the appended event types are read and counted as not used, never rejected
    assert s["records_not_used"] == sum(PER_SUBJECT[e] for e in NOT_READ_BY_RULES) * gen.subjects
    assert set(s["not_used_reasons"]) == {f"{e}: no rule reads it" for e in NOT_READ_BY_RULES}
    # every rule's data is consistent: no finding, and no subject stands worse than pending
    assert s["findings"] == 0
    assert {st.status for st in result.standings} <= {"passed", "pending", "not_applicable"}
    # follow-up windows are assessed (passed) or still open at the log's last date (pending)
    follow_up = {st.status for st in result.standings if st.rule.id in ("JK500-FU-RESPONSE", "JK500-FU-MRD")}
    assert follow_up <= {"passed", "pending"}


@pytest.mark.parametrize("seed", [3])
def test_planted_deviations_are_found_exactly(tmp_path: Path, seed: int) -> None:
    gen = generate(3000, seed=seed, out_dir=tmp_path, deviation_rate=0.9)
    assert set(gen.planted) == set(PLANTED_RULE)  # every kind is planted at this seed
    assert sum(gen.expected.values()) == sum(gen.planted.values())
    _, result, s = _audit(gen)
    assert s["records_read"] == gen.records == s["records_audited"] + s["records_not_used"]
    assert s["records_rejected"] == 0
    found = Counter(f.rule.id for f in result.findings)
    assert {f.status for f in result.findings} == {"deviation"}
    assert found == gen.expected
    assert s["findings"] == sum(gen.planted.values())
