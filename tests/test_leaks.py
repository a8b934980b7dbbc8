"""Nothing an audit starts outlives it: no worker process, no open file past the limit, no temporary file.

Worker processes end when the audit's process is killed (engine/lifeline.py); the external sort opens
at most FAN_IN run files at once and removes its files however the audit ends (engine/partition.py).
"""

from __future__ import annotations

import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jk500_rules.engine import partition
from jk500_rules.engine.executor import ProcessExecutor
from jk500_rules.engine.partition import SubjectRows

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
RUN_TIME = "2026-01-01T00:00:00Z"

linux_only = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc to find child processes")


# ----- worker processes end with their parent ----------------------------------------------------


def children(pid: int) -> set[int]:
    """The processes `pid` forked, from any of its threads."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:  # the thread ended while we looked
            pass
    return found


def alive(pid: int) -> bool:
    """Running, not merely a zombie left for its new parent to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_and_watch(process: subprocess.Popen, count: int, timeout: float = 5.0) -> list[int]:
    """Waits for `count` children of `process`, kills it with SIGKILL; the children alive `timeout` s later."""
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while len(workers) < count:
        assert process.poll() is None, "the process ended before its workers started"
        assert time.monotonic() < deadline, "no workers started"
        time.sleep(0.02)
        workers = children(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    left = sorted(pid for pid in workers if alive(pid))
    for pid in left:  # do not leak them into the rest of the run when the test fails
        os.kill(pid, signal.SIGKILL)
    return left


@linux_only
def test_killing_an_audit_ends_its_workers(tmp_path: Path) -> None:
    # Large enough for --jobs 2 to start workers, and for them to be busy when the parent dies.
    from benchmarks.generate import generate

    log = generate(60_000, 5, tmp_path, 0.02)
    audit = subprocess.Popen([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(log.rules_path),
                              str(log.csv_path), "--jobs", "2", "--format", "json", "-o", str(tmp_path / "r.json")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert kill_and_watch(audit, 2) == []


WORKERS_FROM_A_THREAD = """
import sys, threading, time
from jk500_rules.engine.executor import ProcessExecutor

def slow(job, chunk):
    time.sleep(60)

executor = ProcessExecutor(2)
threading.Thread(target=lambda: list(executor.map(slow, None, [1, 2], None))).start()
time.sleep(120)
"""


@linux_only
def test_workers_forked_by_another_thread_end_with_their_parent() -> None:
    # No PR_SET_PDEATHSIG here (see lifeline.py): the watchdog alone ends them.
    parent = subprocess.Popen([sys.executable, "-c", WORKERS_FROM_A_THREAD], stdout=subprocess.DEVNULL)
    assert kill_and_watch(parent, 2) == []


def pid_of_worker(job: object, chunk: int) -> int:
    return os.getpid()


@linux_only
def test_workers_outlive_the_thread_that_forked_them() -> None:
    # PR_SET_PDEATHSIG fires when the forking *thread* ends: asked for from a thread, it would kill the
    # workers of an executor that another thread goes on using.
    executor = ProcessExecutor(2)
    try:
        thread = threading.Thread(target=lambda: list(executor.map(pid_of_worker, None, [1, 2], None)))
        thread.start()
        thread.join()
        workers = children(os.getpid()) & set(executor._pool._processes)  # type: ignore[union-attr]
        assert len(workers) == 2
        time.sleep(0.5)
        assert all(alive(pid) for pid in workers)
        assert set(executor.map(pid_of_worker, None, range(8), None)) <= workers
    finally:
        executor.close()


def death_signal(job: object, chunk: int) -> int:
    """PR_GET_PDEATHSIG in a worker: the signal the kernel sends it when its forking thread ends."""
    import ctypes

    value = ctypes.c_int()
    assert ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0) == 0
    return value.value


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_kernel_is_asked_only_when_the_main_thread_forks() -> None:
    for in_thread, expected in ((False, {signal.SIGKILL}), (True, {0})):
        executor = ProcessExecutor(2)
        try:
            seen: list[int] = []
            work = lambda: seen.extend(executor.map(death_signal, None, range(4), None))  # noqa: E731
            if in_thread:
                thread = threading.Thread(target=work)
                thread.start()
                thread.join()
            else:
                work()
            assert set(seen) == expected
        finally:
            executor.close()


# ----- the external sort: bounded open files, no temporary file left -----------------------------


def many_subjects_log(path: Path, copies: int = 10) -> Path:
    """The example log `copies` times over (4,960 rows), each copy with subject ids of its own."""
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    out = [header]
    for copy in range(copies):
        out += [row.replace("JK500-01-", f"JK500-{copy:02d}-") if copy else row for row in rows]
    path.write_text("".join(out), encoding="utf-8")
    return path


def only_caches(folder: Path) -> list[str]:
    """What is left in `folder` besides lark's parser cache, which is kept there on purpose."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lark_cache"))


def open_files_256() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_a_small_memory_budget_needs_few_open_files(tmp_path: Path) -> None:
    log = many_subjects_log(tmp_path / "visits.csv")
    temp = tmp_path / "temp"
    temp.mkdir()
    reports = []
    for budget in ([], ["--rows-in-memory", "10"]):  # 10 rows: about 500 run files to merge
        out = tmp_path / f"report{len(budget)}.json"
        done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", str(RULES), str(log),
                               "--format", "json", "-o", str(out), "--run-time", RUN_TIME, *budget],
                              capture_output=True, text=True, env={**os.environ, "TMPDIR": str(temp)},
                              preexec_fn=open_files_256)
        assert done.returncode == 1, done.stderr  # findings, and nothing else wrong
        assert done.stderr == ""
        reports.append(out.read_bytes())
    assert reports[0] == reports[1]
    assert only_caches(temp) == []


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder temporary files go to, empty."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(folder))
    return folder


def open_in(folder: Path) -> list[str]:
    """The files under `folder` this process has open (none known off Linux)."""
    targets = []
    for fd in Path("/proc/self/fd").glob("*"):
        try:
            targets.append(os.readlink(fd))
        except OSError:  # closed while we looked (the listing's own descriptor, for one)
            pass
    return [t for t in targets if t.startswith(str(folder))]


def filled(rows: SubjectRows, count: int = 200) -> SubjectRows:
    for n in range(count):
        rows.add(f"S{n * 7 % 31:02d}", n)
    return rows


def test_runs_merge_in_passes_and_keep_reading_order(temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partition, "FAN_IN", 3)  # 100 runs: merged 3 at a time, in passes
    expected: dict[str, list[int]] = {}
    for n in range(200):
        expected.setdefault(f"S{n * 7 % 31:02d}", []).append(n)
    most_open = 0
    real_load = pickle.load

    def counting_load(handle):  # how many run files are open as each block is read
        nonlocal most_open
        most_open = max(most_open, len(open_in(temp)))
        return real_load(handle)

    with SubjectRows(rows_in_memory=2) as rows:
        filled(rows)
        monkeypatch.setattr(partition.pickle, "load", counting_load)
        assert list(rows.groups()) == sorted(expected.items())
        assert list(rows.groups()) == sorted(expected.items())  # asked again: the same
    if Path("/proc/self/fd").is_dir():
        assert 3 <= most_open <= 3 + 1  # FAN_IN runs read, one written
    assert list(temp.iterdir()) == []


def test_a_failure_mid_merge_leaves_no_temporary_file(temp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partition, "FAN_IN", 4)
    dumps = 0
    real_dump = pickle.dump

    def failing_dump(*args: object, **kwargs: object) -> None:  # the disk fills in the middle of a merge pass
        nonlocal dumps
        dumps += 1
        real_dump(*args, **kwargs)
        if dumps == 10:  # the 10th merged run of the first pass is written, then the disk is full
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"), SubjectRows(rows_in_memory=2) as rows:
        filled(rows)  # 100 runs, 100 dumps
        assert len(list(next(temp.iterdir()).iterdir())) == 100
        monkeypatch.setattr(partition.pickle, "dump", failing_dump)
        list(rows.groups())
    assert dumps == 10
    assert list(temp.iterdir()) == []


def test_a_merge_closed_early_or_interrupted_leaves_no_file(temp: Path) -> None:
    with SubjectRows(rows_in_memory=2) as rows:
        filled(rows)
        groups = rows.groups()
        next(groups)
        assert open_in(temp) or not Path("/proc/self/fd").is_dir()
        groups.close()  # a consumer that stops early: its run files are closed now, not at collection
        assert open_in(temp) == []
    assert list(temp.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), SubjectRows(rows_in_memory=2) as rows:
        filled(rows)
        for _ in rows.groups():
            raise KeyboardInterrupt
    assert list(temp.iterdir()) == []


def test_rows_dropped_unclosed_leave_no_file(temp: Path) -> None:
    rows = filled(SubjectRows(rows_in_memory=2))
    assert rows.spilled
    del rows
    assert list(temp.iterdir()) == []
