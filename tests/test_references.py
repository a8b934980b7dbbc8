"""References (`reference NAME = latest|earliest ...`, `previous X`, `next X`): what the engine finds, ties,
undecided candidates, partial dates, large sessions, input order. The feature file
features/language_references.feature holds the monitor's view; these hold the edges."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from jk500_rules.compiler import compile_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine import engines as engines_module
from jk500_rules.engine import split
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.language.parser import parse
from tests.test_compile import ROOT

VOCABULARY = """
protocol "REF"
event lab "Laboratory result" { test: text  result: decimal required }
event imaging "Imaging" { modality: text required }
event dosing "Study drug dose" { dose: decimal in mg required }
event demographics "Demographics" { sex: text }
group assessment "Any assessment" = lab, imaging
subject sex = demographics.sex
"""


def protocol_of(rules: str) -> CompiledProtocol:
    text = VOCABULARY + rules
    return compile_protocol(parse(text, "ref.rules"), "ref.rules", text)


def audit(protocol: CompiledProtocol, rows: list[dict[str, str]], tmp_path: Path, name: str = "log") -> AuditResult:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"study": "REF", "site": "1", **r}) + "\n" for r in rows), encoding="utf-8")
    result = audit_files(protocol, [str(path)], dt.date(2025, 1, 1))
    assert not result.data.rejections, [r.reason for r in result.data.rejections]
    return result


def found(result: AuditResult, rule: str) -> list[tuple[str | None, str, str, str | None]]:
    return [(f.subject, f.date, f.status, f.reason) for f in result.findings if f.rule.id == rule]


def standing(result: AuditResult, rule: str, subject: str) -> str:
    [s] = [s for s in result.standings if s.rule.id == rule and s.subject == subject]
    return s.status


def lab(subject: str, date: str, test: str, result: str) -> dict[str, str]:
    return {"subject": subject, "date": date, "event": "lab", "test": test, "result": result}


def dose(subject: str, date: str, amount: str = "10") -> dict[str, str]:
    return {"subject": subject, "date": date, "event": "dosing", "dose": amount}


NO_HIGH = """
reference baseline = latest lab where test = "ANC" dated on or before first dosing{ties}
rule NO-HIGH "No baseline count above 10" {{
    cites "x"
    for first dosing
        forbid baseline.result > 10
}}
"""


@pytest.mark.parametrize(("ties", "status"), [("", "possible_deviation"), (", if tied any", "passed"),
                                              (", if tied each", "deviation")])
def test_a_forbid_over_tied_records_that_disagree(tmp_path: Path, ties: str, status: str) -> None:
    rows = [lab("S1", "2024-01-02", "ANC", "1.0"), lab("S1", "2024-01-02", "ANC", "11"), dose("S1", "2024-01-10")]
    result = audit(protocol_of(NO_HIGH.format(ties=ties)), rows, tmp_path)
    assert standing(result, "NO-HIGH", "S1") == status


def test_tied_records_that_agree_give_a_certain_answer_whatever_the_tie_rule(tmp_path: Path) -> None:
    rows = [lab("S1", "2024-01-02", "ANC", "12"), lab("S1", "2024-01-02", "ANC", "11"), dose("S1", "2024-01-10"),
            lab("S2", "2024-01-02", "ANC", "2"), lab("S2", "2024-01-02", "ANC", "3"), dose("S2", "2024-01-10")]
    result = audit(protocol_of(NO_HIGH.format(ties="")), rows, tmp_path)
    assert standing(result, "NO-HIGH", "S1") == "deviation"
    assert standing(result, "NO-HIGH", "S2") == "passed"
    # Both tied records broke the rule: each is a finding's evidence, on the day of the first dose.
    assert [(f.subject, f.date) for f in result.findings] == [("S1", "2024-01-10")]


def test_a_later_record_the_filter_cannot_decide_makes_the_reference_undecided(tmp_path: Path) -> None:
    rows = [lab("S1", "2024-01-02", "ANC", "2.0"), lab("S1", "2024-01-03", "", "0.5"), dose("S1", "2024-01-10"),
            lab("S2", "2024-01-01", "", "0.5"), lab("S2", "2024-01-03", "ANC", "2.0"), dose("S2", "2024-01-10")]
    result = audit(protocol_of(NO_HIGH.format(ties="").replace("> 10", "< 1.5")), rows, tmp_path)
    [(subject, _, status, reason)] = found(result, "NO-HIGH")
    assert (subject, status) == ("S1", "not_evaluable")
    assert reason == "baseline cannot be told: a record that may be it has an empty field the reference reads"
    # An undecided record earlier than the one found cannot change it.
    assert standing(result, "NO-HIGH", "S2") == "passed"


def test_a_reference_may_read_a_subject_attribute_and_say_when_it_cannot(tmp_path: Path) -> None:
    rules = """
reference female_anc = latest lab where test = "ANC" and sex = "F" dated on or before first dosing
rule F-ANC "Women: the latest count is at least 1.5" {
    cites "x"
    for first dosing
        require female_anc.result >= 1.5
}
"""
    rows = [{"subject": "F1", "date": "2024-01-01", "event": "demographics", "sex": "F"},
            lab("F1", "2024-01-02", "ANC", "1.0"), dose("F1", "2024-01-10"),
            lab("U1", "2024-01-02", "ANC", "2.0"), dose("U1", "2024-01-10")]
    result = audit(protocol_of(rules), rows, tmp_path)
    assert standing(result, "F-ANC", "F1") == "deviation"
    assert standing(result, "F-ANC", "U1") == "not_evaluable"


def test_a_group_reference_carries_the_member_type(tmp_path: Path) -> None:
    rules = """
reference last_assessment = latest assessment dated before each dosing
rule GAP "An assessment in the 7 days before each dose" {
    cites "x"
    message "Last assessment: {last_assessment.type} on {last_assessment}."
    for each dosing
        require last_assessment is known and date <= last_assessment + 7 days
}
"""
    rows = [lab("S1", "2024-01-02", "ANC", "2.0"), {"subject": "S1", "date": "2024-01-05", "event": "imaging",
                                                    "modality": "CT"},
            dose("S1", "2024-01-10"), dose("S1", "2024-01-20"), dose("S2", "2024-01-20")]
    result = audit(protocol_of(rules), rows, tmp_path)
    assert [(f.subject, f.date, f.message) for f in result.findings] == [
        ("S1", "2024-01-20", "Last assessment: imaging on 2024-01-05."),
        ("S2", "2024-01-20", "Last assessment: (none) on (none)."),
    ]


PREVIOUS = """
rule UP "Never more than the previous day's dose" {
    cites "x"
    for each dosing where previous dosing is known
        forbid dose > previous dosing.dose
}
rule NEXT "A dose is followed within 14 days, until the last" {
    cites "x"
    for each dosing where next dosing is known
        require next dosing <= date + 14 days
}
"""


def test_previous_and_next_are_relative_to_each_record_checked(tmp_path: Path) -> None:
    rows = [dose("S1", "2024-01-01", "10"), dose("S1", "2024-01-08", "12"), dose("S1", "2024-01-30", "12"),
            dose("S2", "2024-01-01", "10"), dose("S2", "2024-01-01", "20"), dose("S2", "2024-01-02", "15")]
    result = audit(protocol_of(PREVIOUS), rows, tmp_path)
    assert found(result, "UP")[0][:3] == ("S1", "2024-01-08", "deviation")
    # S2's dose of 15 follows two doses of one day, 10 and 20: they disagree, so it is undecided.
    assert found(result, "UP")[1][:3] == ("S2", "2024-01-02", "possible_deviation")
    assert len(found(result, "UP")) == 2
    # Doses on one day are not each other's previous or next: both are followed by the next day's.
    assert found(result, "NEXT") == [("S1", "2024-01-08", "deviation", None)]


def test_an_anchor_known_only_to_the_month_leaves_the_reference_undecided(tmp_path: Path) -> None:
    rules = """
reference baseline = latest lab where test = "ANC" dated within 14 days before first dosing
rule ANC "The latest count is at least 1.5" {
    cites "x"
    for first dosing
        require baseline.result >= 1.5
}
"""
    rows = [lab("S1", "2024-01-02", "ANC", "2.0"), dose("S1", "2024-01")]
    result = audit(protocol_of(rules), rows, tmp_path)
    [(_, date, status, reason)] = found(result, "ANC")
    assert (date, status) == ("2024-01", "not_evaluable")
    assert reason == "baseline cannot be told: a date it depends on is only partly known"


def test_the_engine_finds_the_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the finders' engine answering nothing, nothing is found: Python picks no record itself."""
    rules = NO_HIGH.format(ties="").replace("forbid baseline.result > 10", "require baseline.result <= 10")
    rows = [lab("S1", "2024-01-02", "ANC", "2.0"), dose("S1", "2024-01-10")]
    assert standing(audit(protocol_of(rules), rows, tmp_path), "NO-HIGH", "S1") == "passed"
    original = engines_module.Engines.find
    monkeypatch.setattr(engines_module.Engines, "find",
                        lambda self, protocol, session, narrow: ([], original(self, protocol, session, narrow)[1]))
    result = audit(protocol_of(rules), rows, tmp_path, "again")
    assert found(result, "NO-HIGH") == [("S1", "2024-01-10", "not_evaluable", "there is no baseline")]


def test_a_large_session_gives_the_findings_of_an_unsplit_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Split into engine sessions (engine/split.py), the labs go apart from the reference facts: the same
    findings all the same."""
    rules = """
reference pre_dose = latest lab where test = "ANC" dated within 3 days before each dosing, if tied any
rule PRE "A count of at least 1.0 in the 3 days before each dose" {
    cites "x"
    for each dosing
        require pre_dose.result >= 1.0
        unless a lab where test = "WAIVER" and date = dosing.date
}
"""
    split_off: list[str] = []
    original = split.split_kinds
    monkeypatch.setattr(engines_module, "split_kinds",
                        lambda plan, facts: split_off.extend(original(plan, facts)) or original(plan, facts))
    start = dt.date(2020, 1, 1)
    rows = [lab("S1", (start + dt.timedelta(days=i)).isoformat(), "ANC" if i % 3 else "PLT", f"{0.5 + i % 4}")
            for i in range(2_400)]
    rows += [dose("S1", (start + dt.timedelta(days=i)).isoformat()) for i in range(0, 2_400, 5)]
    protocol = protocol_of(rules)
    large = found(audit(protocol, rows, tmp_path, "large"), "PRE")
    assert split_off == ["lab"]
    monkeypatch.setattr(split, "SPLIT_FROM", 10**9)
    assert found(audit(protocol, rows, tmp_path, "unsplit"), "PRE") == large
    assert large  # the data have low counts, so some dose is a deviation


def test_the_findings_do_not_depend_on_the_order_of_the_rows(tmp_path: Path) -> None:
    rows = [lab("S1", "2024-01-02", "ANC", "1.0"), lab("S1", "2024-01-02", "ANC", "11"), dose("S1", "2024-01-10"),
            dose("S1", "2024-01-12", "20"), lab("S2", "2024-01-05", "ANC", "12"), dose("S2", "2024-01-06"),
            dose("S2", "2024-01-06", "5")]
    protocol = protocol_of(NO_HIGH.format(ties="") + PREVIOUS)
    first = [(f.rule.id, f.subject, f.date, f.status, f.message) for f in audit(protocol, rows, tmp_path).findings]
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    again = [(f.rule.id, f.subject, f.date, f.status, f.message)
             for f in audit(protocol, shuffled, tmp_path, "shuffled").findings]
    assert again == first and first


def test_a_protocol_without_references_has_no_finders() -> None:
    text = (ROOT / "protocol.rules").read_text(encoding="utf-8")
    protocol = compile_protocol(parse(text, "protocol.rules"), "protocol.rules", text)
    assert protocol.finders == () and protocol.finder_rulesets(False) == {}


def test_an_unused_reference_is_a_warning() -> None:
    protocol = protocol_of('reference spare = latest lab dated before last dosing\n'
                           'rule R "x" {\n cites "x"\n for each dosing\n require dose <= 10 mg\n}\n')
    assert [w.message for w in protocol.warnings] == ["reference spare is never used"]
    assert protocol.finders == ()


def test_a_reference_without_a_filter_is_matched_on_the_nearest_day_only(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`previous dosing` over 200 doses: about one candidate per dose, not every earlier dose (20,000 pairs);
    and the same findings as a session with a partial date, whose finders look at every record."""
    protocol = protocol_of(PREVIOUS)
    start = dt.date(2020, 1, 1)
    rows = [dose("S1", (start + dt.timedelta(days=i)).isoformat(), str(10 + i % 3)) for i in range(200)]
    candidates: list[int] = []
    original = engines_module.Engines.find

    def counting(self: engines_module.Engines, protocol: CompiledProtocol, session: object, narrow: bool) -> object:
        matches, names = original(self, protocol, session, narrow)  # type: ignore[arg-type]
        candidates.append(sum(1 for name, _ in matches if names[name][1].role == "covered"))
        return matches, names

    monkeypatch.setattr(engines_module.Engines, "find", counting)
    narrowed = found(audit(protocol, rows, tmp_path), "UP")
    assert candidates == [2 * 199]  # previous and next, each dose but the first (last) one
    # A dose dated only to the month, long before: the session is judged over date intervals.
    partial = found(audit(protocol, rows + [dose("S1", "2019-06", "10")], tmp_path, "partial"), "UP")
    assert candidates[1] == 2 * 200 * 201 // 2
    assert [f for f in partial if f[1] > "2020-01-01"] == narrowed
    assert len(narrowed) == 133  # every dose of 11 after 10, and of 12 after 11


EITHER = """
reference anc = latest lab where test = "ANC" dated on or before first dosing{ties}
reference ps_found = latest lab where test = "PS" dated on or before first dosing
rule EITHER "Either count high enough" {{
    cites "x"
    for first dosing
        require anc.result >= 1.5 or ps_found.result <= 1
}}
"""


def test_ties_are_judged_way_by_way_even_across_an_or(tmp_path: Path) -> None:
    """With two ties, each way of reading both is judged: one failing way among passing ones is undecided."""
    rows = [lab("S1", "2024-01-05", "ANC", "1.0"), lab("S1", "2024-01-05", "ANC", "1.2"),
            lab("S1", "2024-01-06", "PS", "0"), lab("S1", "2024-01-06", "PS", "2"), dose("S1", "2024-01-10")]
    result = audit(protocol_of(EITHER.format(ties="")), rows, tmp_path)
    assert standing(result, "EITHER", "S1") == "possible_deviation"


@pytest.mark.parametrize(("ties", "second", "status"), [
    ("", "", "not_evaluable"), (", if tied any", "", "passed"), (", if tied each", "", "not_evaluable"),
    ("", "1.0", "possible_deviation"), (", if tied any", "1.0", "passed"), (", if tied each", "1.0", "deviation")])
def test_a_tied_record_with_an_empty_field_is_unknown_never_a_pass_or_a_fail(tmp_path: Path, ties: str, second: str,
                                                                             status: str) -> None:
    rules = f"""
event cbc "Blood count" {{ result: decimal }}
reference anc = latest cbc dated on or before first dosing{ties}
rule R "The latest count is at least 1.5" {{
    cites "x"
    for first dosing
        require anc.result >= 1.5
}}
"""
    rows = [{"subject": "S1", "date": "2024-01-05", "event": "cbc", "result": "2.0"},
            {"subject": "S1", "date": "2024-01-05", "event": "cbc", **({"result": second} if second else {})},
            dose("S1", "2024-01-10")]
    result = audit(protocol_of(rules), rows, tmp_path)
    assert standing(result, "R", "S1") == status


def test_a_tie_in_the_rules_own_where_is_undecided(tmp_path: Path) -> None:
    rules = """
reference anc = latest lab where test = "ANC" dated on or before each dosing
rule W "Doses of at most 50 mg when the count is low" {
    cites "x"
    for each dosing where anc.result < 1.0
        require dose <= 50 mg
}
"""
    rows = [lab("S1", "2024-01-05", "ANC", "0.5"), lab("S1", "2024-01-05", "ANC", "1.5"),
            dose("S1", "2024-01-10", "100")]
    assert standing(audit(protocol_of(rules), rows, tmp_path), "W", "S1") == "possible_deviation"


def test_whether_a_reference_was_found_cannot_be_told_when_it_is_undecided(tmp_path: Path) -> None:
    rules = """
reference baseline_ps = latest lab where test = "PS" dated on or before first dosing
rule PS "An assessment before the first dose" {
    cites "x"
    for first dosing
        require baseline_ps is known
}
rule CYCLE "Each dose 7 days after the previous one" {
    cites "x"
    for each dosing where previous dosing is known
        require date = previous dosing + 7 days
}
"""
    rows = [lab("S1", "2024-01", "PS", "0"), dose("S1", "2024-01-10"),
            dose("S2", "2023-12-01"), dose("S2", "2024-01"), dose("S2", "2024-02-20")]
    result = audit(protocol_of(rules), rows, tmp_path)
    assert standing(result, "PS", "S1") == "not_evaluable"
    assert standing(result, "CYCLE", "S2") == "not_evaluable"


def test_a_check_due_at_a_reference_not_found_is_pending(tmp_path: Path) -> None:
    rules = """
rule J "A lab between each dose and the next" {
    cites "x"
    for each dosing
        require a lab where date > dosing.date and date < next dosing
        judged from next dosing
}
"""
    result = audit(protocol_of(rules), [dose("S1", "2024-12-28")], tmp_path)
    assert standing(result, "J", "S1") == "pending"


@pytest.mark.parametrize(("order", "side"), [("latest", "after"), ("earliest", "before")])
def test_a_window_away_from_the_anchor_finds_its_farthest_record(tmp_path: Path, order: str, side: str) -> None:
    rules = f"""
reference far = {order} lab dated within 7 days {side} first dosing
rule FAR "The farthest count in the week is at least 1" {{
    cites "x"
    for first dosing
        require far.result >= 1
}}
"""
    rows = [lab("S1", "2023-12-01", "ANC", "0.5"), lab("S1", "2024-01-07", "ANC", "2"), dose("S1", "2024-01-10"),
            lab("S1", "2024-01-13", "ANC", "2"), lab("S1", "2024-02-20", "ANC", "0.5")]
    assert standing(audit(protocol_of(rules), rows, tmp_path), "FAR", "S1") == "passed"


def test_a_parameter_read_only_by_a_reference_is_used() -> None:
    protocol = protocol_of('parameter lookback = 14 days\n'
                           'reference baseline = latest lab dated within lookback before first dosing\n'
                           'rule R "x" {\n cites "x"\n for first dosing\n require baseline.result >= 1\n}\n')
    assert not protocol.warnings
