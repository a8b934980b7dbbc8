"""A subject with thousands of rows is judged in time linear in them: counted operations, not timings.

The timings are the benchmark's (`python -m benchmarks.heavy_subject`); these tests pin the two places
where judging one subject went over every record once per finding: the records a `require a`
deviation looked through, and the evidence of a finding over a count of thousands of records.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.engine import checks, occurrences
from jk500_rules.engine.audit import audit_files
from jk500_rules.inputs.records import Record

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root holds `benchmarks`

from benchmarks.generate import generate  # noqa: E402


def _log_with_lone_il2(tmp_path: Path, count: int) -> tuple[Path, Path]:
    """One generated subject, plus `count` IL-2 doses on days without an infusion (each a deviation)."""
    gen = generate(60, seed=5, out_dir=tmp_path, deviation_rate=0.0)
    with gen.csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    mine = [r for r in rows if r["subject"]]
    first = min(dt.date.fromisoformat(r["date"]) for r in mine if r["event"] == "infusion")
    for k in range(count):
        day = (first + dt.timedelta(days=100 + k % 300)).isoformat()
        rows.append({**mine[0], **{f: "" for f in fields[5:]}, "date": day, "event": "il2", "dose": "100",
                     "time": "08:00"})
    rows.sort(key=lambda r: (r["date"], r["subject"]))
    with gen.csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return gen.rules_path, gen.csv_path


def test_the_records_a_require_deviation_looked_through_are_listed_once_per_subject(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules, log = _log_with_lone_il2(tmp_path, 600)
    listed: Counter = Counter()
    real = checks._considered

    def counted(session, event):  # type: ignore[no-untyped-def]
        listed[event, event in session.considered] += 1
        return real(session, event)

    monkeypatch.setattr(checks, "_considered", counted)
    result = audit_files(load_protocol(str(rules)), [str(log)], jobs=1)
    lone = [f for f in result.findings if f.rule.id == "JK500-TRT-IL2-WITH-INFUSION"]
    assert len(lone) == 600 and all(f.status == "deviation" for f in lone)
    assert {len(f.considered) for f in lone} == {6}  # the subject's six infusions, none that day
    assert listed == {("infusion", False): 1, ("infusion", True): 599}  # read once, then kept


def test_a_findings_evidence_compares_each_record_with_its_own_row_only(monkeypatch: pytest.MonkeyPatch) -> None:
    base = Record("log.csv", 0, "S", "01", "P", dt.date(2024, 1, 1), "2024-01-01", "infusion", {}, {})
    records = [dataclasses.replace(base, line=line) for line in range(3000)]
    twins = [dataclasses.replace(base, line=line) for line in range(0, 3000, 7)]  # equal, not the same objects
    compared = Counter()
    real_eq = Record.__eq__

    def counting(self: Record, other: object) -> bool:
        compared["eq"] += 1
        return real_eq(self, other)

    monkeypatch.setattr(Record, "__eq__", counting)
    distinct = occurrences.distinct([*records, *twins, *records[:10]])
    assert distinct == records and all(a is b for a, b in zip(distinct, records))
    assert compared["eq"] <= len(twins) + 10  # only a record met again is compared, with its own row
