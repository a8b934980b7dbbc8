"""Smoke test of the benchmark: the generator's event mix, and an audit that reads every record.

No timing here: `python -m benchmarks` measures; this only keeps the generator, the audit and the
benchmark's own machinery agreeing: a log without planted deviations has no finding, with them the
audit finds exactly those planted; the generator's file does not depend on how it was sorted; the
jobs comparison sees identical reports; `benchmarks.compare` runs both trees; and a missing phase hook
point is n/a, not a crash.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds `benchmarks`

from benchmarks import hooks, tables  # noqa: E402
from benchmarks.generate import (  # noqa: E402
    EXTRA_EVENT_NAMES,
    NOT_READ_BY_RULES,
    PER_SUBJECT,
    PROTOCOL_RULES,
    RECORDS_PER_SUBJECT,
    generate,
)
from benchmarks.measure import capabilities, machine, measure, pilot  # noqa: E402
from benchmarks.subjects import PLANTED_RULE  # noqa: E402
from jk500_rules import load_protocol  # noqa: E402
from jk500_rules.engine.audit import audit_files  # noqa: E402
from jk500_rules.reports.report_content import summary  # noqa: E402

API_JOBS = "jobs" in inspect.signature(audit_files).parameters


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


def test_the_log_does_not_depend_on_how_it_was_sorted(tmp_path: Path) -> None:
    """Sorted in memory or in 13 spilled runs merged: the same bytes (10M records need the runs)."""
    whole = generate(3000, seed=3, out_dir=tmp_path / "whole", deviation_rate=0.9)
    runs = generate(3000, seed=3, out_dir=tmp_path / "runs", deviation_rate=0.9, chunk_rows=229)
    assert whole.runs == 1 and runs.runs == -(-whole.records // 229)
    digest = [hashlib.sha256(g.csv_path.read_bytes()).hexdigest() for g in (whole, runs)]
    assert digest[0] == digest[1]
    assert (whole.records, whole.events, whole.planted, whole.expected) == \
        (runs.records, runs.events, runs.planted, runs.expected)
    assert not list((tmp_path / "runs").glob(".runs-*"))  # the run files are gone
    # what the memory table reports beside the peak: the largest subject, the trial rows, the bytes
    with whole.csv_path.open(encoding="utf-8", newline="") as fh:
        per_subject = Counter(row["subject"] for row in csv.DictReader(fh))
    assert whole.trial_rows == per_subject.pop("")
    assert whole.largest_subject == max(per_subject.values()) == RECORDS_PER_SUBJECT
    assert whole.file_bytes == whole.csv_path.stat().st_size


def test_missing_or_streaming_hook_points_are_not_applicable(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rewrite of the audit the phase hooks may find nothing to wrap, or iterators."""
    monkeypatch.setattr(hooks, "MARKS", {"calls": Counter(), "seconds": Counter(), "streaming": set()})
    monkeypatch.setattr(hooks, "_REAL", {})
    monkeypatch.setattr(hooks, "reset_peak", lambda: False)  # not this test process's high-water mark
    assert hooks.install_hooks(types.SimpleNamespace()) == []
    fake = types.SimpleNamespace(read_logs=lambda *a: iter(()), build_sessions=lambda *a: ["s1", "s2"])
    assert hooks.install_hooks(fake) == ["read_logs", "build_sessions"]
    fake.read_logs()
    assert fake.build_sessions() == ["s1", "s2"]
    assert hooks.phase_seconds("read_logs") is None  # it returned an iterator: its own time says nothing
    assert hooks.phase_seconds("build_sessions") is not None
    assert hooks.MARKS["sessions"] == 2
    assert hooks.phase_seconds("subject_session") is None  # not there at all


def test_pilot_without_data_is_skipped_with_a_message(tmp_path: Path) -> None:
    out = pilot(tmp_path / "cdiscpilot01", repeat=1)
    assert "no CDISC pilot data" in out["skipped"]


def test_benchmark_run_reports_as_planted_and_identical_across_jobs(tmp_path: Path) -> None:
    """One small size through the real machinery: fresh child processes, the floor, the CLI, the tables.

    With a parallel audit (audit_files takes `jobs`, the CLI --jobs) the reports of jobs 1 and 2 must be
    the same bytes; without one the run falls back to jobs 1 and says there was nothing to compare.
    """
    caps = capabilities()
    jobs = [1, 2] if caps["api_jobs"] else [1]
    cli_jobs: list[int | None] = [1, 2] if caps["cli_jobs"] else [None]
    row = measure(1200, seed=3, out_dir=tmp_path, repeat=1, deviation_rate=0.9, api_jobs=jobs,
                  cli_jobs=cli_jobs)
    assert row["expected"] and row["as_planted"]
    assert [a["jobs"] for a in row["audits"]] == jobs
    assert {a["jobs_passed"] for a in row["audits"]} == {caps["api_jobs"]}
    assert row["counts"]["read"] == row["records"] and row["counts"]["rejected"] == 0
    assert row["api_identical"] is (True if caps["api_jobs"] else None)
    assert row["cli_identical"] is (True if caps["cli_jobs"] else None)
    assert {code for c in row["cli"] for code in c["exit_codes"]} == {1}  # findings
    for a in row["audits"]:
        assert a["peak_rss_audit"] and a["peak_rss"] >= a["peak_rss_audit"]
        assert tables._upper_bound(a) >= a["peak_rss_audit"]
    text = tables.render({"machine": machine(), "seed": 3, "repeat": 1, "repeat_large": 1, "command": "test",
                          "sizes": [row]})
    comparisons = caps["api_jobs"] + caps["cli_jobs"]
    verdict = f"{comparisons} comparison(s) | yes |" if comparisons else "0 comparison(s) | n/a (one jobs value) |"
    assert f"| identical output for every --jobs N | {verdict}" in text
    assert "NOT AS PLANTED" not in text
    # The engine floor: every batch the audit fed, one session each, asserted into a never-matching rule.
    floor = row["engine_floor"]
    assert floor["batches"] > row["subjects"] and floor["facts"] > row["records"] and floor["total_s"] > 0
    assert "Engine floor: the audit's own fact batches" in text and "audit/engine floor" in text


def test_compare_times_two_checkouts_on_one_log_and_compares_their_reports() -> None:
    from benchmarks import compare

    root = Path(__file__).resolve().parents[1]
    text = compare.compare(root, 1_200, 2, 1, 7)
    assert "1,200 records, --jobs 1, 2 runs each" in text
    assert "ratio (this / against): " in text and "reports identical: yes" in text


def test_a_heavy_subject_has_only_more_labs_the_rules_read(tmp_path: Path) -> None:
    """benchmarks.heavy_subject's log: the same rows as without the extra labs, plus labs the rules join."""
    from benchmarks.subjects import READ_LAB_TESTS

    plain = generate(600, seed=3, out_dir=tmp_path / "plain", deviation_rate=0.9)
    heavy = generate(600, seed=3, out_dir=tmp_path / "heavy", deviation_rate=0.9, extra_labs=400, heavy_subjects=2)
    assert len(heavy.heavy) == 2 and heavy.largest_subject == RECORDS_PER_SUBJECT + 400
    with plain.csv_path.open(encoding="utf-8", newline="") as fh:
        before = Counter(tuple(row.items()) for row in csv.DictReader(fh))
    with heavy.csv_path.open(encoding="utf-8", newline="") as fh:
        after = Counter(tuple(row.items()) for row in csv.DictReader(fh))
    assert before <= after  # every row of the plain log is there
    added = [dict(row) for row in (after - before).elements()]
    assert len(added) == 800 and {r["event"] for r in added} == {"lab"}
    assert Counter(r["subject"] for r in added) == {s: 400 for s in heavy.heavy}
    assert {r["test"] for r in added} == {test for test, *_ in READ_LAB_TESTS}
    protocol, result, s = _audit(heavy)
    assert s["records_rejected"] == 0 and s["records_audited"] == s["records_read"] - s["records_not_used"]
    assert Counter(f.rule.id for f in result.findings) == heavy.expected  # no lab row is a deviation


def test_the_heavy_subject_benchmark_prints_its_curve(tmp_path: Path) -> None:
    from benchmarks import heavy_subject

    root = Path(__file__).resolve().parents[1]
    result = heavy_subject.curve(root, [300], subjects=5, heavy=1, repeat=1, seed=3, deviation_rate=0.0)
    assert [row["extra"] for row in result["rows"]] == [0, 300]
    assert result["rows"][1]["records"] == result["rows"][0]["records"] + 300
    text = heavy_subject.render(result)
    assert f"| 300 | {result['rows'][1]['records']:,} | 360 |" in text and "target: an added row within 3x" in text
    assert "warning" not in text
