"""Provenance, stable finding ids, what changed since the last report, reviews and --fail-on."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jk500_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "examples" / "jk500_visits.csv"
RUN_TIME = "2026-01-01T00:00:00Z"


def audit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", "protocol.rules", *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def report(*args: str) -> dict:
    done = audit("--format", "json", "--run-time", RUN_TIME, *args)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_reports_carry_provenance_and_are_identical_apart_from_the_run_time() -> None:
    first = audit(str(LOG), "--run-time", RUN_TIME)
    second = audit(str(LOG), "--run-time", RUN_TIME)
    assert first.stdout == second.stdout
    later = audit(str(LOG), "--run-time", "2026-02-01T00:00:00Z")
    assert later.stdout.replace("2026-02-01T00:00:00Z", RUN_TIME) == first.stdout
    provenance = report(str(LOG))["provenance"]
    assert provenance["rules"]["sha256"] == hashlib.sha256((ROOT / "protocol.rules").read_bytes()).hexdigest()
    assert provenance["inputs"] == [{"file": str(LOG), "sha256": hashlib.sha256(LOG.read_bytes()).hexdigest()}]
    assert provenance["run_time"] == RUN_TIME and provenance["tool"].startswith("jk500-rules ")


def test_finding_ids_do_not_depend_on_row_order_or_file_names(tmp_path: Path) -> None:
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(5).shuffle(rows)
    shuffled = tmp_path / "renamed.csv"
    shuffled.write_text(header + "".join(rows), encoding="utf-8")
    ids = [f["id"] for f in report(str(LOG))["findings"]]
    assert len(set(ids)) == len(ids) == 48
    assert [f["id"] for f in report(str(shuffled))["findings"]] == ids


def test_since_marks_new_persisting_and_resolved(tmp_path: Path) -> None:
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(report(str(LOG))), encoding="utf-8")
    header, *rows = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    # Fix one planted deviation (009's dose of 33100000 back to nominal) and add a new one (a live vaccine).
    fixed = [r.replace("33100000", "30000000") for r in rows]
    columns = header.strip().split(",")
    cells = ["JK500", "01", "JK500-01-002", "2024-02-20", "vaccination"] + [""] * (len(columns) - 5)
    cells[columns.index("vaccine")], cells[columns.index("live_attenuated")] = "MMR", "yes"
    added = ",".join(cells) + "\n"
    changed = tmp_path / "next.csv"
    changed.write_text(header + "".join(fixed) + added, encoding="utf-8")
    now = report(str(changed), "--since", str(previous))
    assert now["summary"]["changes"] == {"new": 1, "persisting": 47, "resolved": 1}
    [new] = [f for f in now["findings"] if f["change"] == "new"]
    assert (new["rule"], new["subject"]) == ("JK500-EXCL-LIVE-VACCINE", "JK500-01-002")
    [resolved] = now["resolved"]
    assert (resolved["rule"], resolved["subject"], resolved["date"]) == ("JK500-TRT-DOSE", "JK500-01-009",
                                                                         "2024-07-08")
    text = audit(str(changed), "--since", str(previous), "--run-time", RUN_TIME).stdout
    assert "Since the previous report: 1 new, 47 persisting, 1 resolved" in text
    # A scheduled job: fail only on new important deviations.
    assert audit(str(changed), "--since", str(previous), "--fail-on", "new-important").returncode == 1
    assert audit(str(LOG), "--since", str(previous), "--fail-on", "new-important").returncode == 0
    assert audit(str(LOG), "--fail-on", "new").returncode == 2


def test_reviews_are_shown_never_dropped_and_orphans_reported(tmp_path: Path) -> None:
    findings = report(str(LOG))["findings"]
    first, second = findings[0]["id"], findings[1]["id"]
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("finding_id,decision,reason,by,at\n"
                       f"{first},waived,agreed with the sponsor,J. Monitor,2026-01-02\n"
                       f"{second},acknowledged,,J. Monitor,2026-01-02\n"
                       "F-000000000000,waived,old finding,J. Monitor,2025-12-01\n", encoding="utf-8")
    now = report(str(LOG), "--reviewed", str(reviews))
    assert len(now["findings"]) == 48
    assert now["findings"][0]["review"] == {"decision": "waived", "reason": "agreed with the sponsor",
                                            "by": "J. Monitor", "at": "2026-01-02"}
    assert now["findings"][1]["review"]["decision"] == "acknowledged"
    assert [r["id"] for r in now["orphan_reviews"]] == ["F-000000000000"]
    text = audit(str(LOG), "--reviewed", str(reviews)).stdout
    assert "reviewed: waived by J. Monitor on 2026-01-02: agreed with the sponsor" in text
    assert "Reviews of findings no longer reported: 1" in text


def test_bad_review_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "reviews.csv"
    bad.write_text("finding_id,decision,reason,by,at\nF-1,waived,,me,today\n", encoding="utf-8")
    done = audit(str(LOG), "--reviewed", str(bad))
    assert done.returncode == 2 and "reviews.csv:2: error: the waiver of F-1 gives no reason" in done.stderr
    bad.write_text("finding_id,decision\nF-1,ignored\n", encoding="utf-8")
    assert "decision 'ignored' is not one of acknowledged, waived" in audit(str(LOG), "--reviewed", str(bad)).stderr


def test_progress_is_reported_through_the_api_only_when_asked() -> None:
    from jk500_rules import load_protocol
    from jk500_rules.engine.audit import audit_files

    seen: list[tuple[int, int]] = []
    audit_files(load_protocol(str(ROOT / "protocol.rules")), [str(LOG)], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(12, 12)]
    piped = audit(str(LOG))
    assert "audited" not in piped.stderr  # not a terminal: no progress line


# --- provenance names what was read: a file that changes during or after the audit --------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("jobs", [1, 2])
def test_provenance_hashes_the_bytes_audited_not_what_the_files_hold_later(tmp_path: Path, monkeypatch,
                                                                          jobs: int) -> None:
    """A row is appended while the log is read (it is audited) and another after (it is not): the report
    names the hash of the bytes read, rows counted from those bytes; the rules as compiled, not as edited."""
    from jk500_rules.cli import commands
    from jk500_rules.engine import audit as audit_module
    from jk500_rules.inputs import visit_logs

    log, rules, out = tmp_path / "visits.csv", tmp_path / "protocol.rules", tmp_path / "report.json"
    log.write_bytes(LOG.read_bytes())
    rules.write_bytes((ROOT / "protocol.rules").read_bytes())
    row = LOG.read_text(encoding="utf-8").splitlines(keepends=True)[1]
    audited = LOG.read_bytes() + row.encode("utf-8")
    check_header, audit_files = visit_logs.check_header, commands.audit_files

    def growing_while_read(path: str, header: tuple[str, ...]) -> None:
        check_header(path, header)
        with open(path, "a", encoding="utf-8") as handle:  # the site appends as the audit reads
            handle.write(row)

    def growing_after(*args: object, **kwargs: object) -> object:
        result = audit_files(*args, **kwargs)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(row)
        with rules.open("a", encoding="utf-8") as handle:
            handle.write("# edited after the audit\n")
        return result

    monkeypatch.setattr(visit_logs, "check_header", growing_while_read)
    monkeypatch.setattr(commands, "audit_files", growing_after)
    monkeypatch.setattr(audit_module, "PARALLEL_FROM", 0 if jobs > 1 else audit_module.PARALLEL_FROM)
    code = main(["audit", "--rules", str(rules), str(log), "--format", "json", "-o", str(out), "--run-time", RUN_TIME,
                 "--jobs", str(jobs)])
    assert code == 1
    document = json.loads(out.read_text(encoding="utf-8"))
    assert log.read_bytes() == audited + row.encode("utf-8")  # the log did grow twice
    assert document["summary"]["records_read"] == len(LOG.read_text(encoding="utf-8").splitlines())  # header + 1
    assert document["provenance"]["inputs"] == [{"file": str(log), "sha256": _sha(audited)}]
    assert document["provenance"]["rules"]["sha256"] == _sha((ROOT / "protocol.rules").read_bytes())


def test_sdtm_domain_files_are_hashed_as_they_were_read(tmp_path: Path, monkeypatch) -> None:
    from jk500_rules import attach_provenance, load_protocol
    from jk500_rules.engine import audit as audit_module
    from jk500_rules.engine.audit import audit_files

    study = tmp_path / "sdtm"
    shutil.copytree(ROOT / "examples" / "jk500_sdtm", study)
    read = {str(path): _sha(path.read_bytes()) for path in study.glob("*.csv")}
    audit_data = audit_module.audit_data

    def edited_after_reading(*args: object, **kwargs: object) -> object:
        for path in read:
            with open(path, "ab") as handle:
                handle.write(b"\n")
        return audit_data(*args, **kwargs)

    monkeypatch.setattr(audit_module, "audit_data", edited_after_reading)
    result = audit_files(load_protocol(str(ROOT / "protocol.rules")),
                         [str(study), str(study / "src_decisions.csv")], mapping=str(study / "mapping.toml"))
    attach_provenance(result, str(ROOT / "protocol.rules"), RUN_TIME)
    inputs = {item["file"]: item["sha256"] for item in result.provenance["inputs"]}
    assert inputs and inputs == {name: read[name] for name in inputs}
    assert all(_sha(Path(name).read_bytes()) != digest for name, digest in inputs.items())


def test_an_xpt_file_is_hashed_as_read_and_refused_if_it_changes_under_the_reader(tmp_path: Path) -> None:
    import pandas as pd
    import pyreadstat

    from jk500_rules.errors import InputError
    from jk500_rules.inputs.sdtm.readers import open_xpt
    from jk500_rules.inputs.sdtm.tables import Table

    path = tmp_path / "dm.xpt"
    pyreadstat.write_xport(pd.DataFrame({"USUBJID": ["S-1", "S-2"], "AGE": [40.0, 50.0]}), str(path),
                           table_name="DM", file_format_version=5)
    names, read = open_xpt(path, ("utf-8",))
    table = Table(str(path), "DM", {n.upper() for n in names})
    read(table, names)
    assert table.sha256 == _sha(path.read_bytes()) and table.count == 2
    names, read = open_xpt(path, ("utf-8",))
    path.write_bytes(path.read_bytes() + b" " * 80)  # a whole record more, after it was hashed
    with pytest.raises(InputError, match="changed while it was being read; audit it again"):
        read(Table(str(path), "DM", {n.upper() for n in names}), names)
