"""A Dask cluster judges the partitions: the reports are the same bytes as a local run's.

A two-worker LocalCluster (separate processes, one thread each, as docs/scaling.md recommends) is
started once for the module. Without dask the tests are skipped, with how to install it, except under
CI (`CI=true`), where they fail: CI installs the dask extra (.ci/run) and must run them.
"""

from __future__ import annotations

import csv
import logging
import operator
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import unavailable

from jk500_rules import load_protocol
from jk500_rules.engine import audit
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.executor import DaskExecutor, _one_at_a_time, dask_executor
from jk500_rules.engine.results import AuditResult
from jk500_rules.errors import InputError
from jk500_rules.reports.csv_report import to_csv
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.text_report import to_text

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
AMENDMENT = ROOT / "examples" / "amendment"
SDTM = ROOT / "examples" / "jk500_sdtm"
RUN_TIME = "2026-01-01T00:00:00Z"
UNREACHABLE = "tcp://127.0.0.1:9"  # the discard port: nothing listens there


def reports(result: AuditResult) -> tuple[str, str, str]:
    return to_json(result), to_text(result), to_csv(result)


def _dask_or_skip() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        reason = "dask is not installed: pip install -e '.[dask]' (or '.[test]', which includes it)"
        unavailable(reason, "the Dask tests")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a local two-process cluster, for the module's lifetime."""
    _dask_or_skip()
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def executor(scheduler: str) -> Iterator[DaskExecutor]:
    dask = dask_executor(scheduler)
    assert isinstance(dask, DaskExecutor)
    yield dask
    dask.close()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """About a dozen chunks for the example's 496 rows: several in flight, on both workers."""
    monkeypatch.setattr(audit, "CHUNK_ROWS", 40)


@pytest.fixture(scope="module")
def protocol():
    return load_protocol(str(RULES))


def test_the_example_on_dask_gives_the_same_reports(protocol, executor, small_chunks) -> None:
    local = audit_files(protocol, [str(LOG)], jobs=1)
    assert local.findings  # 48 findings: there is something to compare
    assert reports(audit_files(protocol, [str(LOG)], executor=executor)) == reports(local)


def test_an_amended_protocol_on_dask(executor, small_chunks) -> None:
    protocol = load_protocol(str(AMENDMENT / "protocol.rules"))
    local = audit_files(protocol, [str(AMENDMENT / "visits.csv")], jobs=1)
    assert len(local.versions) == 2  # subjects judged under two protocol versions
    assert reports(audit_files(protocol, [str(AMENDMENT / "visits.csv")], executor=executor)) == reports(local)


def test_sdtm_input_on_dask(protocol, executor, small_chunks) -> None:
    paths = [str(SDTM), str(SDTM / "src_decisions.csv")]
    mapping = str(SDTM / "mapping.toml")
    local = audit_files(protocol, paths, mapping=mapping, jobs=1)
    assert local.findings
    assert reports(audit_files(protocol, paths, mapping=mapping, executor=executor)) == reports(local)


def test_an_external_sort_on_dask(protocol, executor) -> None:
    # 496 rows with room for 50 at a time: run files merged back by subject before the chunks go out.
    local = audit_files(protocol, [str(LOG)], jobs=1)
    assert reports(audit_files(protocol, [str(LOG)], executor=executor, rows_in_memory=50)) == reports(local)


def test_a_rejected_row_that_set_the_cutoff_on_dask(protocol, executor, small_chunks, tmp_path: Path) -> None:
    # The workers' latest valid date corrects the parent's guess: a second pass on the cluster.
    log = tmp_path / "log.csv"
    with LOG.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    late = dict.fromkeys(header, "")
    late.update(study="JK500", site="01", subject="JK500-01-001", date="2031-01-01", event="infusion", dose="lots")
    log.write_text(LOG.read_text(encoding="utf-8") + ",".join(late[h] for h in header) + "\n", encoding="utf-8")
    local = audit_files(protocol, [str(log)], jobs=1)
    on_dask = audit_files(protocol, [str(log)], executor=executor)
    assert str(on_dask.cutoff) == "2025-01-22" and len(on_dask.data.rejections) == 1
    assert reports(on_dask) == reports(local)


def test_chunks_are_taken_lazily_and_results_come_in_order(executor) -> None:
    taken: list[int] = []

    def chunks() -> Iterator[int]:
        for n in range(40):
            taken.append(n)
            yield n

    window = executor.window()
    assert window == 4  # two per worker process
    results: list[int] = []
    for result in executor.map(operator.add, 1000, chunks(), engines=None):
        assert len(taken) <= len(results) + window + 1  # never more than the window ahead
        results.append(result)
    assert results == [1000 + n for n in range(40)]


def test_equal_chunks_are_each_judged(executor) -> None:
    assert list(executor.map(operator.mul, 3, iter([2, 2, 2]), engines=None)) == [6, 6, 6]


def test_a_worker_judges_one_chunk_at_a_time_whatever_its_threads() -> None:
    # A worker started with --nthreads 4 runs four tasks at once; the audit's engines must not see that.
    running: list[int] = []
    most: list[int] = []

    def judge(job: float, chunk: int) -> int:
        running.append(chunk)
        most.append(len(running))
        time.sleep(job)
        running.remove(chunk)
        return chunk

    threads = [threading.Thread(target=_one_at_a_time, args=(judge, 0.01, n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(most) == 8 and max(most) == 1


class _LostCluster:
    """A client whose every task comes back cancelled, as when the scheduler goes away mid-audit."""

    def __init__(self, error: BaseException):
        self.error = error
        self.cancelled: list[object] = []

    def scatter(self, data: object, **options: object) -> object:
        return "job-future"

    def nthreads(self) -> dict[str, int]:
        return {"worker": 1}

    def submit(self, *args: object, **options: object) -> _LostCluster:
        return self

    def result(self) -> None:
        raise self.error

    def cancel(self, futures: list[object]) -> None:
        self.cancelled += futures


def test_a_cluster_lost_mid_audit_is_an_error_not_a_traceback() -> None:
    _dask_or_skip()
    from distributed.client import FutureCancelledError

    client = _LostCluster(FutureCancelledError("judge-1", "scheduler-connection-lost"))
    lost = DaskExecutor(client, "tcp://10.0.0.5:8786")
    with pytest.raises(InputError) as failed:
        list(lost.map(operator.add, 1, iter(range(5)), engines=None))
    assert failed.value.render() == ("tcp://10.0.0.5:8786: error: the Dask cluster failed during the audit "
                                     "(judge-1 cancelled for reason: scheduler-connection-lost.)")
    assert "job-future" in client.cancelled  # the job is let go; so are the chunks still in flight


def test_a_scheduler_without_workers_is_refused() -> None:
    _dask_or_skip()
    from distributed import LocalCluster

    with (LocalCluster(n_workers=0, processes=False, dashboard_address=":0", silence_logs=logging.ERROR) as empty,
          pytest.raises(InputError, match="has no worker after 1 s; start one per core with: dask worker")):
        dask_executor(empty.scheduler_address, timeout=1)


@pytest.mark.parametrize(("address", "message"), [
    (UNREACHABLE, "tcp://127.0.0.1:9: error: cannot reach the Dask scheduler within 1 s"),
    ("nonsense", "nonsense: error: not a Dask scheduler address (missing port number"),
])
def test_a_bad_scheduler_address_is_refused(address: str, message: str) -> None:
    _dask_or_skip()
    with pytest.raises(InputError) as refused:
        dask_executor(address, timeout=1)
    assert refused.value.render().startswith(message)


def test_without_dask_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(InputError, match=r"needs dask: pip install 'jk500-rules\[dask\]'"):
        dask_executor("tcp://10.0.0.5:8786")


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), str(LOG), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_cli_on_dask_gives_the_bytes_of_one_job(scheduler: str, tmp_path: Path) -> None:
    outputs = []
    for how in (["--jobs", "1"], ["--executor", "dask", "--scheduler", scheduler]):
        folder = tmp_path / how[0].strip("-")
        done = _cli(*how, "--format", "text,json,csv", "-o", str(folder), "--run-time", RUN_TIME)
        assert done.returncode == 1, done.stderr  # findings
        assert done.stderr == ""  # nothing from dask either
        outputs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert outputs[0] == outputs[1]
    assert {"report.txt", "report.json", "findings.csv"} <= set(outputs[0])


def test_cli_dask_needs_a_scheduler() -> None:
    done = _cli("--executor", "dask")
    assert done.returncode == 2
    assert "--executor dask and --scheduler ADDRESS go together" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_unreachable_scheduler_exits_2_within_the_timeout() -> None:
    _dask_or_skip()
    start = time.monotonic()
    done = _cli("--executor", "dask", "--scheduler", UNREACHABLE)
    elapsed = time.monotonic() - start
    assert done.returncode == 2
    assert done.stderr == f"{UNREACHABLE}: error: cannot reach the Dask scheduler within 10 s\n"
    assert elapsed < 20, f"took {elapsed:.1f} s"
