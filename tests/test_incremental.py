"""The incremental audit: the same result as a batch audit, re-judging only what new records touch."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from jk500_rules import load_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine import durable as engine
from jk500_rules.engine.audit import audit_files
from jk500_rules.inputs.records import Record
from jk500_rules.inputs.validation import validate
from jk500_rules.inputs.visit_logs import LogFile
from jk500_rules.live.incremental import IncrementalAudit
from jk500_rules.live.intake import Row
from jk500_rules.reports.json_report import to_json

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
CUTOFF = dt.date(2025, 1, 22)  # the example's latest record
AMENDMENT = ROOT / "examples" / "amendment"


@pytest.fixture(scope="module")
def protocol() -> CompiledProtocol:
    return load_protocol(str(RULES))


def rows_of(path: Path) -> list[Row]:
    """Every row of a log as the watch hands it over: file, line, and cells by column (or why not a row)."""
    log = LogFile(str(path))
    return [Row(str(path), line, parsed if isinstance(parsed, str) else log.as_dict(parsed))
            for line, _, parsed in log.entries()]


def increments(rows: list[Row], rng: random.Random) -> Iterator[list[Row]]:
    start = 0
    while start < len(rows):
        size = rng.randint(1, 80)
        yield rows[start:start + size]
        start += size


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The session names handed to the engine, in order."""
    names: list[str] = []
    feed = engine.Engine.feed

    def counting(self: engine.Engine, session: str, facts: object) -> object:
        names.append(session)
        return feed(self, session, facts)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.Engine, "feed", counting)
    return names


def without(rows: list[Row], subject: str, event: str) -> tuple[list[Row], Row]:
    """The rows less the first one of `subject` and `event`, and that row."""
    index = next(i for i, r in enumerate(rows)
                 if isinstance(r.values, dict) and r.values.get("subject") == subject and r.values.get("event") == event)
    return rows[:index] + rows[index + 1:], rows[index]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_increments_give_the_batch_report_byte_for_byte(protocol: CompiledProtocol, seed: int) -> None:
    batch = to_json(audit_files(protocol, [str(LOG)], CUTOFF))
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        for part in increments(rows_of(LOG), random.Random(seed)):
            audit.add(part)
        assert to_json(audit.result()) == batch


def test_rows_in_any_order_and_records_give_the_batch_report(protocol: CompiledProtocol, tmp_path: Path) -> None:
    """Shuffled rows, already validated records, and rejected rows (sorted by file and line, as in batch)."""
    bad = tmp_path / "bad.csv"
    bad.write_text("study,site,subject,date,event,dose\n"
                   "JK500,01,JK500-01-001,2024-02-30,infusion,1\n"
                   "JK500,01,JK500-01-001,2024-03-01,infuzion,1\n"
                   "JK500,01,,2024-03-01,infusion,1\n"
                   "JK500,01,JK500-01-001\n"
                   "JK500,01,JK500-01-013,2024-03-04,infusion,1000000\n", encoding="utf-8")
    batch = to_json(audit_files(protocol, [str(LOG), str(bad)], CUTOFF))
    rows = rows_of(LOG) + rows_of(bad)
    random.Random(7).shuffle(rows)
    items: list[Record | Row] = []
    for i, row in enumerate(rows):  # every other row validated already, unless it is rejected
        record = validate(row.values, row.file, row.line, protocol) if isinstance(row.values, dict) and i % 2 else row
        items.append(row if isinstance(record, str) else record)
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        changes = [audit.add(items[i:i + 50]) for i in range(0, len(items), 50)]
        assert sorted(r.location for c in changes for r in c.rejections) == [f"{bad}:{n}" for n in (2, 3, 4, 5)]
        assert to_json(audit.result()) == batch


def test_protocol_versions_give_the_batch_report(tmp_path: Path) -> None:
    amended = load_protocol(str(AMENDMENT / "protocol.rules"))
    log = AMENDMENT / "visits.csv"
    batch = audit_files(amended, [str(log)])
    with IncrementalAudit(amended, as_of=batch.cutoff) as audit:
        for part in increments(rows_of(log), random.Random(5)):
            audit.add(part)
        assert to_json(audit.result()) == to_json(batch)


def test_a_record_re_judges_its_subject_only(protocol: CompiledProtocol, fed: list[str]) -> None:
    rows, response = without(rows_of(LOG), "JK500-01-004", "response")
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        audit.add(rows)
        fed.clear()
        changes = audit.add([response])
    assert fed == ["subject:JK500-01-004"]  # a response moves no mark: the trial level is not judged again
    assert changes.subjects == ["JK500-01-004"] and not changes.trial


def test_a_record_that_moves_a_mark_re_judges_the_trial_too(protocol: CompiledProtocol, fed: list[str]) -> None:
    infusion = {"study": "JK500", "site": "01", "subject": "JK500-01-001", "event": "infusion", "dose": "1000000",
                "time": "09:30"}
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        audit.add(rows_of(LOG))
        fed.clear()
        changes = audit.add([Row("late.csv", 2, {**infusion, "date": "2024-02-13"})])  # not the first, nor the last
        assert fed == ["subject:JK500-01-001"] and not changes.trial
        fed.clear()
        changes = audit.add([Row("late.csv", 3, {**infusion, "date": "2024-06-03"})])  # the subject's last now
        assert fed == ["subject:JK500-01-001", "trial"] and changes.trial
        fed.clear()
        changes = audit.add([Row("late.csv", 4, {**infusion, "date": "2025-02-03"})])  # after the cut-off: not used
        assert fed == ["subject:JK500-01-001"] and not changes.trial


def test_an_src_decision_re_judges_the_trial_level(protocol: CompiledProtocol, fed: list[str]) -> None:
    rows = rows_of(LOG)
    index = next(i for i, r in enumerate(rows) if isinstance(r.values, dict)
                 and r.values.get("event") == "src_decision" and r.values.get("decision") == "escalate")
    decision = rows.pop(index)
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        before = audit.add(rows)
        gate = [f for f in before.new if f.rule.id == "JK500-ESC-SRC-GATE" and f.date == "2024-04-15"]
        assert len(gate) == 1 and gate[0].subject is None  # dose group 2 opened without the decision
        fed.clear()
        changes = audit.add([decision])
    assert fed == ["trial"] and changes.trial and changes.subjects == []
    assert [f.id for f in changes.resolved] == [gate[0].id] and not changes.new


def test_a_missing_record_arriving_resolves_its_finding(protocol: CompiledProtocol) -> None:
    rows, cyclophosphamide = without(rows_of(LOG), "JK500-01-003", "cyclophosphamide")  # none at all
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        before = audit.add(rows)
        missing = [f for f in before.new if f.rule.id == "JK500-TRT-CY-GIVEN" and f.subject == "JK500-01-003"]
        assert len(missing) == 1 and missing[0].status == "deviation"
        changes = audit.add([cyclophosphamide])
        assert [(f.id, f.rule.id) for f in changes.resolved] == [(missing[0].id, "JK500-TRT-CY-GIVEN")]
        assert not changes.new and missing[0].id not in {f.id for f in audit.findings()}
        assert to_json(audit.result()) == to_json(audit_files(protocol, [str(LOG)], CUTOFF))


def test_a_planted_deviation_is_new_and_rejections_name_file_and_line(protocol: CompiledProtocol) -> None:
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        audit.add(rows_of(LOG))
        planted: dict[str, object] = {"study": "JK500", "site": "01", "subject": "JK500-01-005", "date": "2024-05-07",
                   "event": "infusion", "dose": "6500000", "time": "10:00"}
        changes = audit.add([Row("more.csv", 2, planted), Row("more.csv", 3, {**planted, "event": "infuzion"}),
                             Row("more.csv", 4, "has 3 cells; the header has 37")])
    assert ("JK500-TRT-DOSE", "JK500-01-005") in {(f.rule.id, f.subject) for f in changes.new}
    assert [(r.location, r.reason) for r in changes.rejections] == [
        ("more.csv:3", "unknown event type 'infuzion' (did you mean 'infusion'?)"),
        ("more.csv:4", "has 3 cells; the header has 37")]


def test_a_live_cutoff_follows_the_calendar(protocol: CompiledProtocol, fed: list[str]) -> None:
    """Without as_of the cut-off is today; a new day judges everyone again, and checks now due appear."""
    today = [CUTOFF]
    with IncrementalAudit(protocol, today=lambda: today[0]) as audit:
        audit.add(rows_of(LOG))
        assert to_json(audit.result()) == to_json(audit_files(protocol, [str(LOG)]))  # batch: the latest date
        assert not audit.advance() and audit.cutoff == CUTOFF  # the same day: nothing judged again
        today[0] = dt.date(2025, 2, 10)
        fed.clear()
        changes = audit.advance()
        assert changes.cutoff == today[0] and len(fed) == 12 + 1  # every subject, and the trial
        # JK500-01-012's six infusions were due by 21 days after the first (2025-01-13): five were given.
        assert ("JK500-TRT-TOTAL", "JK500-01-012") in {(f.rule.id, f.subject) for f in changes.new}
        assert to_json(audit.result()) == to_json(audit_files(protocol, [str(LOG)], today[0]))


def test_close_releases_the_engines(protocol: CompiledProtocol) -> None:
    with IncrementalAudit(protocol, as_of=CUTOFF) as audit:
        audit.add(rows_of(LOG)[:50])
    with pytest.raises(ValueError, match="closed"):
        audit.add([rows_of(LOG)[60]])
