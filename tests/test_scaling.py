"""Workers, external sorting and the streamed read change nothing in the report.

The figures (speed, memory) are the benchmark's (benchmarks/README.md); these tests hold the
guarantees those figures rely on: every number of jobs, every memory budget and both ways into the
audit (streamed logs, or records read first) give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.engine.audit import PARALLEL_FROM, audit_data, audit_files
from jk500_rules.engine.executor import ProcessExecutor, SerialExecutor
from jk500_rules.engine.partition import SubjectRows, chunks
from jk500_rules.inputs.visit_logs import read_logs
from jk500_rules.reports.csv_report import to_csv
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.text_report import to_text

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
AMENDMENT = ROOT / "examples" / "amendment"
SDTM = ROOT / "examples" / "jk500_sdtm"


def reports(result) -> tuple[str, str, str]:
    return to_json(result), to_text(result), to_csv(result)


@pytest.fixture(scope="module")
def protocol():
    return load_protocol(str(RULES))


@pytest.fixture
def workers():
    """Two worker processes, forced: audit_files alone keeps an input this small in-process."""
    executor = ProcessExecutor(2)
    yield executor
    executor.close()


@pytest.fixture(scope="module")
def serial(protocol) -> tuple[str, str, str]:
    return reports(audit_files(protocol, [str(LOG)], jobs=1))


def test_two_jobs_give_the_same_reports(protocol, serial, workers) -> None:
    result = audit_files(protocol, [str(LOG)], executor=workers)
    assert result.findings  # the example has 48 findings: there is something to compare
    assert reports(result) == serial


def test_an_external_sort_gives_the_same_reports(protocol, serial, workers) -> None:
    # 496 rows with room for 7 at a time: about 70 run files merged back by subject.
    assert reports(audit_files(protocol, [str(LOG)], rows_in_memory=7)) == serial
    assert reports(audit_files(protocol, [str(LOG)], rows_in_memory=7, executor=workers)) == serial


def test_streamed_logs_and_records_read_first_agree(protocol, serial) -> None:
    assert reports(audit_data(protocol, read_logs([str(LOG)], protocol))) == serial


def test_amended_protocol_with_workers(workers) -> None:
    protocol = load_protocol(str(AMENDMENT / "protocol.rules"))
    one = audit_files(protocol, [str(AMENDMENT / "visits.csv")], jobs=1)
    two = audit_files(protocol, [str(AMENDMENT / "visits.csv")], executor=workers, rows_in_memory=3)
    assert len(one.versions) == 2
    assert reports(one) == reports(two)


def test_sdtm_input_with_workers(protocol, workers) -> None:
    paths = [str(SDTM), str(SDTM / "src_decisions.csv")]
    mapping = str(SDTM / "mapping.toml")
    one = audit_files(protocol, paths, mapping=mapping, jobs=1)
    two = audit_files(protocol, paths, mapping=mapping, executor=workers)
    assert one.findings and reports(one) == reports(two)


def test_row_order_and_file_split_change_no_finding(protocol, workers, tmp_path: Path) -> None:
    with LOG.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    random.Random(7).shuffle(rows)
    parts = [rows[: len(rows) // 3], rows[len(rows) // 3:]]
    paths = []
    for index, part in enumerate(parts):
        path = tmp_path / f"part{index}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *part])
        paths.append(str(path))
    result = audit_files(protocol, paths, executor=workers, rows_in_memory=50)
    expected = audit_files(protocol, [str(LOG)])
    assert [(f.id, f.status) for f in result.findings] == [(f.id, f.status) for f in expected.findings]
    assert result.audited == expected.audited and result.data.read == expected.data.read


def test_a_rejected_row_does_not_set_the_cutoff(protocol, workers, tmp_path: Path) -> None:
    # The parent guesses the cut-off before validating; a row it counted but a worker rejects makes
    # the partitions be judged again with the latest valid date.
    log = tmp_path / "log.csv"
    text = LOG.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    late = dict.fromkeys(header, "")
    late.update(study="JK500", site="01", subject="JK500-01-001", date="2031-01-01", event="infusion",
                dose="lots")
    log.write_text(text + ",".join(late[h] for h in header) + "\n", encoding="utf-8")
    streamed = audit_files(protocol, [str(log)], executor=workers)
    read_first = audit_data(protocol, read_logs([str(log)], protocol))
    assert str(streamed.cutoff) == "2025-01-22"
    assert [r.reason for r in streamed.data.rejections] == ["dose 'lots' is not a number"]
    assert reports(streamed) == reports(read_first)
    counted = streamed.audited + sum(streamed.not_used.values()) + len(streamed.data.rejections)
    assert streamed.data.read == counted == 497


def test_subject_rows_merge_runs_in_subject_then_reading_order() -> None:
    rows = [(subject, n) for n, subject in enumerate("cabcacbba")]
    with SubjectRows(rows_in_memory=2) as grouped:
        for subject, n in rows:
            grouped.add(subject, n)
        assert grouped.spilled
        merged = list(grouped.groups())
        assert merged == list(grouped.groups())  # groups() can be asked again (a second judging pass)
    assert merged == [("a", [1, 4, 8]), ("b", [2, 6, 7]), ("c", [0, 3, 5])]
    assert [[key for key, _ in chunk] for chunk in chunks(iter(merged), 4)] == [["a", "b"], ["c"]]


def test_cli_jobs_give_identical_bytes(tmp_path: Path) -> None:
    # A benchmark log just large enough for `--jobs 2` to start workers.
    from benchmarks.generate import generate

    log = generate(PARALLEL_FROM + 1_000, 3, tmp_path, 0.05)
    outputs = []
    for jobs in ("1", "2"):
        folder = tmp_path / f"jobs{jobs}"
        done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(log.rules_path),
                               str(log.csv_path), "--jobs", jobs, "--format", "text,json,csv,html", "-o",
                               str(folder), "--run-time", "2026-01-01T00:00:00Z"], capture_output=True, text=True)
        assert done.returncode == 1, done.stderr  # findings
        outputs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert outputs[0] == outputs[1]
    assert {"report.txt", "report.json", "findings.csv", "report.html"} <= set(outputs[0])


def test_workers_start_only_for_inputs_worth_it(protocol, monkeypatch) -> None:
    started: list[int] = []
    monkeypatch.setattr("jk500_rules.engine.audit.local_executor", lambda jobs: started.append(jobs) or SerialExecutor())
    audit_files(protocol, [str(LOG)], jobs=2)
    assert started == [1]  # 496 rows: in-process


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_cli_refuses_a_bad_job_count(value: str) -> None:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), str(LOG),
                           "--jobs", value], capture_output=True, text=True)
    assert done.returncode == 2
    assert "is not a whole number of at least 1" in done.stderr and "Traceback" not in done.stderr


def test_the_streamed_json_report_is_laid_out_as_json_dumps_would(protocol) -> None:
    # The JSON report streams its standings (millions, for a portfolio) instead of building them first.
    result = audit_files(protocol, [str(LOG)])
    for standings in (result.standings, []):
        result.standings = standings
        text = to_json(result)
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text)["standings"] == []


def test_cli_refuses_jobs_with_a_dask_cluster() -> None:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), str(LOG),
                           "--jobs", "2", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "with --executor dask the cluster's workers judge" in done.stderr and "Traceback" not in done.stderr


def test_a_worker_that_never_saw_the_protocol_compiles_it_from_the_job(protocol, monkeypatch) -> None:
    # As on a remote (Dask) worker: no protocol in the process cache, only the job's rules text.
    from jk500_rules.engine import versions
    from jk500_rules.engine.engines import Engines
    from jk500_rules.engine.jobs import AuditJob
    from jk500_rules.engine.judging import judge_partition

    job = AuditJob(protocol.filename, protocol.source, None, dt.date(2025, 1, 22), None, (), (), (), False)
    records = [r for r in read_logs([str(LOG)], protocol).records if r.subject == "JK500-01-001"]
    monkeypatch.setattr(versions, "_PROTOCOLS", {})
    engines = Engines()
    try:
        part = judge_partition(job, [("JK500-01-001", records)], engines)
    finally:
        engines.close()
    assert list(versions._PROTOCOLS) == [versions.protocol_key(job)]
    assert versions._PROTOCOLS[versions.protocol_key(job)] is not protocol  # compiled here, from the text
    (outcome,) = part.outcomes
    expected = audit_files(protocol, [str(LOG)])
    assert sorted(f.rule for f in outcome.findings) == sorted(
        f.rule.id for f in expected.findings if f.subject == "JK500-01-001")


def test_process_caches_stay_bounded(protocol, monkeypatch) -> None:
    from jk500_rules.engine import versions
    from jk500_rules.engine.engines import Engines

    monkeypatch.setattr(versions, "_PROTOCOLS", {})
    for n in range(versions.PROTOCOLS_KEPT + 3):
        versions.remember_protocol((f"rules{n}", "hash"), protocol)
    assert [key for key, _ in versions._PROTOCOLS] == [f"rules{n}" for n in range(3, versions.PROTOCOLS_KEPT + 3)]
    other = load_protocol(str(AMENDMENT / "protocol.rules"))
    engines = Engines(kept=1)
    try:
        first, _ = engines.get(protocol, False)
        engines.get(other, False)
        assert first._handle is None  # the older engine was closed to make room
    finally:
        engines.close()


def test_standing_counts_agree_with_the_standings_one_by_one(protocol) -> None:
    from collections import Counter

    for result in (audit_files(protocol, [str(LOG)]),
                   audit_files(load_protocol(str(AMENDMENT / "protocol.rules")), [str(AMENDMENT / "visits.csv")])):
        one_by_one = Counter((s.rule.id, s.status) for s in result.standings)
        assert result.standings.counts() == one_by_one and sum(one_by_one.values()) == len(result.standings)


def test_the_trial_session_from_kept_marks_is_the_one_from_every_mark(protocol) -> None:
    from jk500_rules.engine.trial import MarkKeeper
    from jk500_rules.engine.trial_facts import trial_session
    from jk500_rules.inputs.records import Record

    plan = protocol.plan
    keys = sorted(plan.ranks | plan.group_firsts)
    assert keys and any(key in plan.ranks for key in keys)
    rng = random.Random(11)
    every: dict = {}
    keeper = MarkKeeper(plan)
    for n in range(300):
        subject = f"S{n:03d}"
        marks = {}
        for key in keys:
            day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(60))  # ties on a day are common
            record = Record("log.csv", n, "JK500", "01", subject, day, day.isoformat(), key[0], {}, {}, {})
            marks[key] = (rng.choice([1, 2, 3]), record)
        every[subject] = marks
        keeper.add(subject, marks)
    cutoff = dt.date(2025, 1, 1)
    full = trial_session([], every, protocol, cutoff)
    kept = trial_session([], keeper.kept(), protocol, cutoff)
    assert kept.facts == full.facts and kept.evidence == full.evidence
    assert len(keeper.kept()) < 40  # a few subjects per group, not 300
    assert len(full.facts) < 40  # rank facts only up to the highest rank a rule names


def _die(job, chunk, engines=None):
    os._exit(9)  # as a crash in the engine's C code would end a worker


def test_a_worker_that_dies_fails_the_audit_instead_of_hanging_it() -> None:
    from jk500_rules.engine.executor import WorkerError

    executor = ProcessExecutor(2)
    try:
        with pytest.raises(WorkerError, match="a worker process died"):
            list(executor.map(_die, None, [["chunk"]] * 3, None))
    finally:
        executor.close()


def test_cli_reports_a_failed_audit_with_its_own_exit_code(monkeypatch, capsys) -> None:
    from jk500_rules import cli
    from jk500_rules.cli import commands
    from jk500_rules.engine.durable import EngineError

    def failing(*args, **kwargs):
        raise EngineError("the engine refused the facts of subject:S1: error code 302")

    monkeypatch.setattr(commands, "audit_files", failing)
    assert cli.main(["audit", "--rules", str(RULES), str(LOG)]) == cli.EXIT_FAILED == 4
    assert "jk500-rules: the audit failed: the engine refused the facts" in capsys.readouterr().err
