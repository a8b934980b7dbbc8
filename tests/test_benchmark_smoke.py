"""Smoke test of the benchmark: the generator's event mix, and an audit that reads every record.

No timing here: `python -m benchmarks` measures; this only keeps the generator and the audit agreeing.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds `benchmarks`

from benchmarks.generate import PER_SUBJECT, RECORDS_PER_SUBJECT, generate  # noqa: E402
from jk500_rules.audit import audit_files  # noqa: E402
from jk500_rules.cli import load_protocol  # noqa: E402
from jk500_rules.report import summary  # noqa: E402

NOT_READ_BY_RULES = {"lab", "virology", "adverse_event", "vital_signs", "lymphodepletion", "il2"}


def _events(path: Path) -> Counter:
    with path.open(encoding="utf-8", newline="") as fh:
        return Counter(row["event"] for row in csv.DictReader(fh))


def _audit(gen):
    protocol = load_protocol(str(gen.rules_path))
    return summary(audit_files(protocol, [str(gen.csv_path)]))


def test_event_mix_and_every_record_read(tmp_path: Path) -> None:
    gen = generate(300, seed=11, out_dir=tmp_path, deviation_rate=0.0)
    assert RECORDS_PER_SUBJECT == 60
    assert gen.subjects == 5
    events = _events(gen.csv_path)
    assert events == gen.events
    trial_rows = events.pop("src_decision")
    assert 1 <= trial_rows <= 6
    assert events == {event: n * gen.subjects for event, n in PER_SUBJECT.items()}
    assert sum(events.values()) + trial_rows == gen.records

    s = _audit(gen)
    assert s["records_read"] == gen.records
    assert s["records_rejected"] == 0
    assert s["records_read"] == s["records_audited"] + s["records_not_used"] + s["records_rejected"]
    # the appended event types are read and counted as not used, never rejected
    assert s["records_not_used"] == sum(PER_SUBJECT[e] for e in NOT_READ_BY_RULES) * gen.subjects
    assert set(s["not_used_reasons"]) == {f"{e}: no rule reads it" for e in NOT_READ_BY_RULES}
    assert s["findings"] == 0


@pytest.mark.parametrize("seed", [3])
def test_planted_deviations_are_found(tmp_path: Path, seed: int) -> None:
    gen = generate(600, seed=seed, out_dir=tmp_path, deviation_rate=0.5)
    assert sum(gen.planted.values()) > 0
    s = _audit(gen)
    assert s["records_read"] == gen.records == s["records_audited"] + s["records_not_used"]
    assert s["records_rejected"] == 0
    assert s["findings"] > 0
