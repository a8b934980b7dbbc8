"""When a finding is dated and how many there are (engine/occurrences.py), and what the compiler gives it to go on.

The feature file features/findings_dates.feature states the conventions for protocol writers; these tests
pin the pieces: which count limits the engine can tell the breaking record of, stated dates moved by
months, partial dates never made a day, and merged findings.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from jk500_rules.compiler.model import CompiledProtocol, DateSource
from jk500_rules.compiler.pipeline import compile_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.facts import Evidence
from jk500_rules.engine.occurrences import stated_date
from jk500_rules.engine.results import AuditResult
from jk500_rules.explain import explain_protocol
from jk500_rules.language.parser import parse

VOCABULARY = '''protocol "DATES"
event dosing "Dose" { dose: decimal in mg required }
event lab "Lab" {
    test: text required
    result: decimal required
}
parameter per_week = 2
'''


def protocol_of(rules: str) -> CompiledProtocol:
    text = VOCABULARY + rules
    return compile_protocol(parse(text, "dates.rules"), "dates.rules", text)


def audit(protocol: CompiledProtocol, rows: list[dict[str, str]], tmp_path: Path,
          as_of: str | None = None) -> AuditResult:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"study": "DATES", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date.fromisoformat(as_of) if as_of else None)
    assert not result.data.rejections, [r.reason for r in result.data.rejections]
    return result


def count_rule(verdict: str) -> str:
    return f'rule C "c" {{ cites "x" for the count of dosing per calendar week require {verdict} }}\n'


def test_only_a_limit_a_further_record_can_break_has_a_breaking_record() -> None:
    breaks = {verdict: protocol_of(count_rule(verdict)).rules[0].breaks
              for verdict in ("count <= per_week", "count < 3", "count = 2", "count != 2", "count >= 1", "count > 0")}
    assert breaks == {"count <= per_week": True, "count < 3": True, "count = 2": True, "count != 2": True,
                      "count >= 1": False, "count > 0": False}
    protocol = protocol_of(count_rule("count <= per_week"))
    assert protocol.plan.counted == frozenset({("dosing", "week-monday")})
    assert protocol_of(count_rule("count >= 1")).plan.counted == frozenset()  # no `$counted` facts asserted


def test_the_breaking_record_is_the_first_past_the_limit_whatever_the_input_order(tmp_path: Path) -> None:
    protocol = protocol_of(count_rule("count <= per_week"))
    days = ["2024-01-07", "2024-01-01", "2024-01-05", "2024-01-03"]  # one Monday week, given out of order
    rows = [{"subject": "S1", "date": day, "event": "dosing", "dose": "10"} for day in days]
    [finding] = audit(protocol, rows, tmp_path).findings
    assert (finding.date, len(finding.evidence)) == ("2024-01-05", 4)  # the third dose, every dose its evidence


def test_a_stated_date_moves_by_calendar_months_and_never_makes_a_partial_date_a_day() -> None:
    evidence = {"t": Evidence((), {"date": "2024-01-31"}), "p": Evidence((), {"date": "2024-03"})}
    assert stated_date(DateSource("t", "date", months=1), evidence, {}) == "2024-02-29"
    assert stated_date(DateSource("t", "date", days=-7), evidence, {}) == "2024-01-24"
    assert stated_date(DateSource("p", "date", days=-7), evidence, {}) is None  # only known to a month
    assert stated_date(DateSource("f", "date"), evidence, {"f": Evidence((), {"date": "2024-05-01"})}) == "2024-05-01"
    assert stated_date(DateSource("gone", "date"), evidence, {}) is None


def test_dated_by_a_first_record_reads_its_date_from_the_engine_match(tmp_path: Path) -> None:
    protocol = protocol_of('rule L "l" { cites "x" dated by first dosing.date + 1 month '
                           'for each lab where test = "ALT" require result <= 40 }\n')
    rows = [{"subject": "S1", "date": "2024-01-31", "event": "dosing", "dose": "10"},
            {"subject": "S1", "date": "2024-01-20", "event": "lab", "test": "ALT", "result": "99"},
            {"subject": "S2", "date": "2024-01-20", "event": "lab", "test": "ALT", "result": "99"}]
    found = sorted((f.subject, f.date) for f in audit(protocol, rows, tmp_path).findings)
    # S2 has no first dose: the record the date is read from is missing, so the lab checked dates it.
    assert found == [("S1", "2024-02-29"), ("S2", "2024-01-20")]


def test_report_once_per_subject_makes_one_finding_dated_by_the_latest(tmp_path: Path) -> None:
    protocol = protocol_of('rule L "l" { cites "x" report once per subject '
                           'for each lab where test = "ALT" require result <= 40 }\n')
    rows = [{"subject": "S1", "date": "2024-01-02", "event": "lab", "test": "ALT", "result": "99"},
            {"subject": "S1", "date": "2024-01-09", "event": "lab", "test": "ALT", "result": "98"},
            {"subject": "S1", "date": "2024-01-05", "event": "lab", "test": "ALT", "result": "10"}]
    [finding] = audit(protocol, rows, tmp_path).findings
    assert finding.date == "2024-01-09" and [r.date.isoformat() for r in finding.evidence] == [
        "2024-01-02", "2024-01-09"]
    assert finding.status == "deviation"


def test_dated_by_dates_a_check_its_where_cannot_decide_too(tmp_path: Path) -> None:
    """A lab without a result may or may not be one the rule checks: it is checked all the same (not
    evaluable), and its finding carries the date the rule states, as every other finding of the rule does."""
    protocol = protocol_of('event vital "Vital sign" { sign: text required  value: decimal }\n'
                           'rule V "v" { cites "x" dated by first dosing.date + 1 month '
                           'for each vital where value > 5 require sign = "pulse" }\n')
    rows = [{"subject": "S1", "date": "2024-01-31", "event": "dosing", "dose": "10"},
            {"subject": "S1", "date": "2024-01-10", "event": "vital", "sign": "weight"},
            {"subject": "S1", "date": "2024-01-11", "event": "vital", "sign": "weight", "value": "7"}]
    found = sorted((f.date, f.status) for f in audit(protocol, rows, tmp_path).findings)
    assert found == [("2024-02-29", "deviation"), ("2024-02-29", "not_evaluable")]


def test_a_finding_reported_once_per_subject_names_the_window_of_the_check_that_dates_it(tmp_path: Path) -> None:
    protocol = protocol_of('rule L "l" { cites "x" report once per subject '
                           'for each dosing require a lab where date within 3 days before dosing.date }\n')
    rows = [{"subject": "S1", "date": day, "event": "dosing", "dose": "10"} for day in ("2024-02-10", "2024-03-10")]
    [finding] = audit(protocol, rows, tmp_path).findings
    assert finding.date == "2024-03-10" and len(finding.evidence) == 2
    assert finding.window is not None and (finding.window.start, finding.window.end) == ("2024-03-07", "2024-03-10")


def test_explain_says_a_not_evaluable_finding_is_dated_on_the_record_checked(tmp_path: Path) -> None:
    """Only a deviation is dated when it was due or by the records sought; explain must not claim more."""
    due = protocol_of('event vital "Vital sign" { sign: text required  value: decimal }\n'
                      'rule P "p" { cites "x" for each dosing require a vital where date >= dosing.date and value > 1 '
                      'judged from dosing.date + 3 days }\n')
    text = explain_protocol(due)
    assert "dated on the day it was due (3 days after that dose); a finding that cannot be evaluated or that a " \
           "partial date leaves undecided, on the day of the dose." in text
    rows = [{"subject": "S1", "date": "2024-01-10", "event": "dosing", "dose": "10"},
            {"subject": "S1", "date": "2024-01", "event": "vital", "sign": "pulse", "value": "2"},
            {"subject": "S2", "date": "2024-01-10", "event": "dosing", "dose": "10"},
            {"subject": "S2", "date": "2024-01-11", "event": "vital", "sign": "pulse"},
            {"subject": "S3", "date": "2024-01-10", "event": "dosing", "dose": "10"}]
    found = sorted((f.subject, f.status, f.date) for f in audit(due, rows, tmp_path, "2024-03-01").findings)
    assert found == [("S1", "possible_deviation", "2024-01-10"), ("S2", "not_evaluable", "2024-01-10"),
                     ("S3", "deviation", "2024-01-13")]
    count = protocol_of('rule C "c" { cites "x" for the count of dosing per subject require count >= 3 '
                        'judged from first dosing + 28 days }\n')
    assert "dated on the day it was due (28 days after the subject's first dose)." in explain_protocol(count)


def test_explain_says_a_count_falls_short_exactly_when_a_count_of_0_breaks_the_rule() -> None:
    """A count that 0 satisfies has a record past the limit whenever it fails; one that 0 breaks may have none."""
    def says(verdict: str) -> bool:
        return "when the count is short" in explain_protocol(protocol_of(count_rule(verdict)))
    assert {verdict: says(verdict) for verdict in ("count = 0", "count <= 2", "count != 2", "count not in (0, 5)",
                                                   "count = 2", "count in (1, 2)")} == {
        "count = 0": False, "count <= 2": False, "count != 2": False, "count not in (0, 5)": True,
        "count = 2": True, "count in (1, 2)": True}
