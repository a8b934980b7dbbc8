"""Reports written whole or not at all: a run that fails, fills the disk or is killed leaves the previous
reports as they were; a folder holds one run's files (provenance.json lists them, stale ones go); two
runs into one folder do not mix (a lock); `fmt` replaces a rules file whole."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import io
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jk500_rules import load_protocol
from jk500_rules.cli import main
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.errors import Jk500Error
from jk500_rules.reports import atomic, dv, writers
from jk500_rules.reports.monitoring import attach_provenance

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
THEN, NOW = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"  # last week's run, this one
DV_FILES = set(dv.FILES)
TEMP = f"*{atomic.TEMP_SUFFIX}"


def audit_args(out: Path, formats: str, run_time: str = NOW) -> list[str]:
    return ["audit", "--rules", str(RULES), str(LOG), "--format", formats, "-o", str(out), "--run-time", run_time]


def quiet_main(args: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(args)


def contents(folder: Path) -> dict[str, bytes]:
    """Every file of the folder, hidden ones (temporary files, the lock) included, by name."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def last_week(folder: Path, formats: str = "text,json,csv,dv") -> dict[str, bytes]:
    folder.mkdir(exist_ok=True)  # -o names a folder, also for one format
    assert quiet_main(audit_args(folder, formats, THEN)) == 1
    return contents(folder)


def full_disk_after(size: int):  # type: ignore[no-untyped-def]
    """A preexec hook: the child may write no file past `size` bytes (EFBIG, as a full disk gives ENOSPC)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def cli(*args: str, size: int | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", *args], capture_output=True, text=True, check=False,
                          preexec_fn=full_disk_after(size) if size else None)
    assert "Traceback" not in done.stderr and "bug" not in done.stderr, done.stderr
    return done


# --- a failure, a full disk, kill -9: the previous reports stay ---------------------------------------------

def test_a_run_that_fails_while_writing_leaves_last_weeks_reports(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    before = last_week(out)

    def failing(result: AuditResult) -> Iterator[str]:
        yield "{\n"
        raise RuntimeError("a bug while rendering")

    monkeypatch.setattr(writers, "json_parts", failing)
    assert quiet_main(audit_args(out, "text,json,csv,dv")) == 4
    assert contents(out) == before  # no 0-byte report.json, no temporary file, no lock left


def test_a_single_file_output_that_fails_leaves_the_previous_file_and_its_mode(tmp_path: Path, monkeypatch) -> None:
    report = tmp_path / "report.json"
    assert quiet_main(audit_args(report, "json", THEN)) == 1
    report.chmod(0o640)
    before = report.read_bytes()
    original = writers.json_parts

    def failing(result: AuditResult) -> Iterator[str]:
        parts = original(result)
        yield next(parts)
        raise RuntimeError("a bug while rendering")

    monkeypatch.setattr(writers, "json_parts", failing)
    assert quiet_main(audit_args(report, "json")) == 4
    assert report.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    monkeypatch.undo()
    assert quiet_main(audit_args(report, "json")) == 1
    assert report.read_bytes() != before and report.stat().st_mode & 0o777 == 0o640  # replaced, its mode kept


@pytest.mark.parametrize("single", [True, False], ids=["file", "folder"])
def test_a_full_disk_leaves_the_previous_report_whole(tmp_path: Path, single: bool) -> None:
    out = tmp_path / ("report.json" if single else "out")
    assert cli(*audit_args(out, "json" if single else "text,json,csv")).returncode == 1
    before = out.read_bytes() if single else contents(out)
    done = cli(*audit_args(out, "json" if single else "text,json,csv", NOW), size=100_000)  # report.json: 162 KB
    assert done.returncode == 2
    line, = done.stderr.splitlines()
    assert line.startswith(f"{out if single else out / 'report.json'}: error: cannot be written (File too large)")
    assert (out.read_bytes() if single else contents(out)) == before
    assert not list(tmp_path.rglob(TEMP))


def test_kill_9_while_the_reports_are_written_leaves_last_weeks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = last_week(out, "text,json,csv,dv")
    child = subprocess.Popen([sys.executable, "-m", "jk500_rules", *audit_args(out, "text,json,csv,dv")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(out.glob(TEMP)) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run ended before its first temporary file was seen"
    left = contents(out)
    assert {name: data for name, data in left.items() if not name.endswith(atomic.TEMP_SUFFIX)
            and name != atomic.LOCK_NAME} == before
    # The next run takes over the dead run's lock and removes its temporary files.
    assert quiet_main(audit_args(out, "text")) == 1
    assert set(contents(out)) == {"report.txt", "provenance.json"}


# --- one run's files, listed; stale ones removed, the user's own left --------------------------------------

def test_fewer_formats_than_last_time_leave_no_stale_files_and_provenance_lists_the_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    last_week(out, "text,json,csv,dv")
    (out / "notes.txt").write_text("the monitor's own notes\n", encoding="utf-8")
    assert quiet_main(audit_args(out, "csv,text")) == 1
    assert set(contents(out)) == {"findings.csv", "report.txt", "provenance.json", "notes.txt"}
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["outputs"] == ["findings.csv", "report.txt"] and provenance["run_time"] == NOW


def test_files_no_manifest_lists_are_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "dv.csv").write_text("the monitor's own DV\n", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("keep\n", encoding="utf-8")
    (out / "provenance.json").write_text(json.dumps({"outputs": ["../outside.txt", "notes.txt", "report.json"]}),
                                         encoding="utf-8")
    (out / "notes.txt").write_text("keep\n", encoding="utf-8")
    assert quiet_main(audit_args(out, "text")) == 1
    assert set(contents(out)) == {"dv.csv", "notes.txt", "report.txt", "provenance.json"}
    assert (tmp_path / "outside.txt").is_file() and (out / "dv.csv").read_text(encoding="utf-8") == \
        "the monitor's own DV\n"


# --- two runs into one folder: the second is refused ------------------------------------------------------

def test_a_second_run_into_a_folder_being_written_is_refused_naming_the_lock_and_its_pid(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = last_week(out, "text")
    lock = out / atomic.LOCK_NAME
    with lock.open("w") as holder:  # what a run holds while it writes
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.write(f"{os.getpid()}\n")
        holder.flush()
        done = cli(*audit_args(out, "text,json"))
    assert done.returncode == 2
    assert done.stderr == (f"{lock}: error: another jk500-rules run (pid {os.getpid()}) is writing its reports into "
                           f"{out}; wait for it to end, or write elsewhere\n")
    lock.unlink()
    assert contents(out) == before


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout
    (out / atomic.LOCK_NAME).write_text(dead, encoding="utf-8")  # no process holds it any more
    assert quiet_main(audit_args(out, "text")) == 1
    assert set(contents(out)) == {"report.txt", "provenance.json"}


# --- fmt replaces a rules file whole ------------------------------------------------------------------------

def test_fmt_on_a_full_disk_leaves_the_rules_file_as_it_was(tmp_path: Path) -> None:
    rules = tmp_path / "protocol.rules"
    text = RULES.read_text(encoding="utf-8").replace("\nrule ", "\n\n\nrule ", 1)  # not canonical
    rules.write_text(text, encoding="utf-8")
    done = cli("fmt", str(rules), size=4_096)
    assert done.returncode == 2
    assert done.stderr == f"{rules}: error: cannot be written (File too large); it is left as it was\n"
    assert rules.read_text(encoding="utf-8") == text and [p.name for p in tmp_path.iterdir()] == ["protocol.rules"]


# --- the property: an output interrupted at any point leaves the previous report -----------------------------

@pytest.fixture(scope="module")
def audited() -> AuditResult:
    result = audit_files(load_protocol(str(RULES)), [str(LOG)])
    attach_provenance(result, str(RULES), NOW)
    return result


FORMAT_SETS = [("text",), ("json",), ("csv", "dv"), ("text", "json", "csv", "dv"), ("dv", "text")]


@settings(derandomize=True, database=None, deadline=None, max_examples=25)
@given(previous=st.sampled_from(FORMAT_SETS), formats=st.sampled_from(FORMAT_SETS),
       where=st.sampled_from(["write", "rename"]), number=st.integers(1, 12), fraction=st.floats(0, 1))
def test_an_output_interrupted_at_any_point_leaves_the_previous_report(
        audited: AuditResult, tmp_path_factory: pytest.TempPathFactory, previous: tuple[str, ...],
        formats: tuple[str, ...], where: str, number: int, fraction: float) -> None:
    """The folder holds the previous run's files, byte for byte, or (no failure drawn) this run's; never a mix."""
    folder = tmp_path_factory.mktemp("out")
    last = dataclasses.replace(audited, provenance={**audited.provenance, "run_time": THEN})
    writers.write_reports(last, previous, str(folder))
    before = contents(folder)
    seen: list[Path] = []

    def interrupt(path: Path) -> None:  # the `number`th file written is cut at `fraction` of its bytes
        if path in seen:
            return
        seen.append(path)
        if where == "write" and len(seen) == number:
            with path.open("r+b") as handle:
                handle.truncate(int(handle.seek(0, io.SEEK_END) * fraction))
            raise OSError(errno.ENOSPC, "No space left on device")

    write, write_text, write_xpt, replace = writers._write, Path.write_text, dv.write_xpt, os.replace
    renames: list[str] = []

    def failing_replace(source: str | Path, target: str | Path) -> None:
        renames.append(str(target))
        if where == "rename" and len(renames) == number:
            raise OSError(errno.EIO, "Input/output error")
        replace(source, target)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writers, "_write", lambda path, name, result: (write(path, name, result), interrupt(path)))
        patch.setattr(Path, "write_text", lambda self, *a, **k: (write_text(self, *a, **k), interrupt(self))[0])
        patch.setattr(dv, "write_xpt", lambda path, *a, **k: (write_xpt(path, *a, **k), interrupt(path)))
        patch.setattr(os, "replace", failing_replace)
        try:
            writers.write_reports(audited, formats, str(folder))
            failed = False
        except Jk500Error as exc:
            failed = True
            assert "cannot be written" in str(exc)
    after = contents(folder)
    if failed:
        assert after == before
    else:
        expected = tmp_path_factory.mktemp("expected")
        writers.write_reports(audited, formats, str(expected))
        assert after == contents(expected)


def test_an_output_that_is_not_a_regular_file_is_written_to_not_replaced(tmp_path: Path) -> None:
    """`-o /dev/stdout` or a named pipe: written through, never renamed over (a device stays a device)."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert quiet_main(audit_args(fifo, "json")) == 1
    reader.join(30)
    assert json.loads(received[0])["provenance"]["run_time"] == NOW
    assert fifo.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["pipe"]
