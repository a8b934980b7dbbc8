"""Schedules: visit tables numbered from day 0 or day 1, due dates every period, the visit of each record.

The features (language_visit_tables, language_schedule_clocks, language_schedules, lymphodepletion) are
the acceptance specs; these tests pin the arithmetic at the edges: day numbering, month ends, the
nearest visit and its bounds, counts a partly dated record may or may not belong to, and the layout.
"""

from __future__ import annotations

import datetime as dt

import pytest

from jk500_rules import audit_records, compile_rules
from jk500_rules.compiler.model import Window
from jk500_rules.errors import RulesError
from jk500_rules.engine.schedule_facts import DueVisit, _nearest, due_visits
from jk500_rules.language.formatter import format_source

HEAD = """protocol "DEMO"
event dosing "Study drug dose" { dose: decimal in mg required }
event visit "Follow-up visit" { purpose: text }
event end_of_treatment "End of treatment" { reason: text }
"""

TIMING = """
rule DEMO-TIMING "Each visit in its window" {
    cites "the visit schedule"
    message "{date} {follow_up.visit} {follow_up.start} {follow_up.end}"
    for each visit where follow_up is known
        require date between follow_up.start and follow_up.end
}
"""

MISSED = """
rule DEMO-MISSED "Each visit happens" {
    cites "the visit schedule"
    message "{visit} {date} {start} {end} {window}"
    for the count of visit per follow_up
        require count >= 1
}
"""


def _window(rules: str) -> Window:
    protocol = compile_rules(HEAD + rules)
    (window,) = protocol.plan.windows | protocol.plan.visits_of
    return window


def _audit(rules: str, rows: list[tuple[str, str, str]], as_of: str = "2030-01-01") -> list[tuple[str, str, str]]:
    protocol = compile_rules(HEAD + rules)
    result = audit_records(protocol, [{"study": "DEMO", "site": "01", "subject": s, "date": d, "event": e,
                                       "dose": "10" if e == "dosing" else ""} for s, d, e in rows],
                           as_of=dt.date.fromisoformat(as_of))
    assert not result.data.rejections
    return sorted((f.rule.id, f.date, f.message) for f in result.findings)


@pytest.mark.parametrize("anchor_day, day, offset", [
    (1, 1, 0), (1, 15, 14), (1, -1, -1), (1, -7, -7),
    (0, 0, 0), (0, 15, 15), (0, -6, -6),
])
def test_a_visits_day_counts_from_the_anchor_as_the_table_numbers_it(anchor_day: int, day: int, offset: int) -> None:
    rules = (f'schedule follow_up from first dosing as day {anchor_day} {{\n    "V": day {day}\n}}\n' + MISSED)
    (visit,) = _window(rules).visits
    assert (visit.day, visit.offset) == (day, offset)


def test_a_day_1_table_puts_day_minus_1_the_day_before_the_anchor_and_day_1_on_it() -> None:
    rules = ('schedule follow_up from first dosing as day 1 {\n    "Run-in": day -1\n    "Start": day 1\n'
             '    "Week 2": day 15\n}\n' + MISSED)
    found = _audit(rules, [("001", "2024-03-10", "dosing")])
    assert [date for _, date, _ in found] == ["2024-03-09", "2024-03-10", "2024-03-24"]
    assert found[0][2] == "Run-in 2024-03-09 2024-03-09 2024-03-09 1"


def test_due_dates_by_months_count_each_from_the_anchor_not_from_the_previous_one() -> None:
    window = _window("schedule follow_up every 1 month within 3 days from first dosing through 4 months\n" + MISSED)
    days = [v.day for v in due_visits(window, dt.date(2024, 1, 31), None, dt.date(2030, 1, 1))]
    # Each due date is the anchor plus k months, clamped to the month's last day: Feb 29, then Mar 31.
    assert days == [dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30), dt.date(2024, 5, 31)]


def test_due_dates_stop_at_the_horizon_at_the_until_day_and_where_windows_have_not_opened() -> None:
    window = _window("schedule follow_up every 1 week within 2 days from first dosing through 4 weeks\n" + MISSED)
    anchor = dt.date(2024, 1, 1)
    assert len(list(due_visits(window, anchor, None, dt.date(2030, 1, 1)))) == 4
    assert len(list(due_visits(window, anchor, dt.date(2024, 1, 21), dt.date(2030, 1, 1)))) == 2  # Jan 8, Jan 15
    # The window of the 2nd due date (Jan 15) opens on Jan 13: by a cut-off of Jan 12 it is not due.
    assert len(list(due_visits(window, anchor, None, dt.date(2024, 1, 12)))) == 1
    assert len(list(due_visits(window, anchor, None, dt.date(2024, 1, 13)))) == 2


def _visits(*days: int) -> list[DueVisit]:
    base = dt.date(2024, 1, 1)
    return [DueVisit(i, f"V{i}", base + dt.timedelta(days=d), base + dt.timedelta(days=d - 2),
                     base + dt.timedelta(days=d + 2)) for i, d in enumerate(days, start=1)]


def _on(day: int) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=day)


def test_a_record_belongs_to_the_nearest_visit_and_a_tie_to_the_earlier() -> None:
    visits = _visits(14, 28, 56)
    assert _nearest(visits, _on(20)).number == 1  # type: ignore[union-attr]
    assert _nearest(visits, _on(21)).number == 1  # type: ignore[union-attr]  # 7 days from both
    assert _nearest(visits, _on(22)).number == 2  # type: ignore[union-attr]
    assert _nearest(visits, _on(43)).number == 3  # type: ignore[union-attr]  # 15 from 28, 13 from 56


def test_a_tie_goes_to_the_visit_whose_window_holds_the_record() -> None:
    base = dt.date(2024, 1, 1)
    visits = [DueVisit(1, "A", base, base, base),
              DueVisit(2, "B", base + dt.timedelta(days=10), base + dt.timedelta(days=5), base + dt.timedelta(days=10))]
    assert _nearest(visits, _on(5)).label == "B"  # type: ignore[union-attr]


def test_a_record_further_than_half_the_gap_beyond_the_first_or_last_visit_has_none() -> None:
    visits = _visits(14, 28)
    assert _nearest(visits, _on(7)).number == 1  # type: ignore[union-attr]  # 7 before: half the gap of 14
    assert _nearest(visits, _on(6)) is None
    assert _nearest(visits, _on(35)).number == 2  # type: ignore[union-attr]
    assert _nearest(visits, _on(36)) is None
    assert _nearest(_visits(14), _on(-300)).number == 1  # type: ignore[union-attr]  # one visit: no bound
    assert _nearest([], _on(14)) is None


def test_early_and_late_records_are_dated_at_the_record_and_missed_visits_at_their_day() -> None:
    rules = ('schedule follow_up from first dosing as day 1 {\n    "Week 2": day 15 within 3 days\n'
             '    "Week 4": day 29 within 3 days\n}\n' + TIMING + MISSED)
    found = _audit(rules, [("001", "2024-01-01", "dosing"), ("001", "2024-01-11", "visit"),
                           ("001", "2024-02-02", "visit")])
    assert found == [("DEMO-MISSED", "2024-01-15", "Week 2 2024-01-15 2024-01-12 2024-01-18 1"),
                     ("DEMO-MISSED", "2024-01-29", "Week 4 2024-01-29 2024-01-26 2024-02-01 2"),
                     ("DEMO-TIMING", "2024-01-11", "2024-01-11 Week 2 2024-01-12 2024-01-18"),
                     ("DEMO-TIMING", "2024-02-02", "2024-02-02 Week 4 2024-01-26 2024-02-01")]


def test_a_visit_nearest_one_after_the_end_of_treatment_has_none() -> None:
    rules = ('schedule follow_up from first dosing as day 1 until first end_of_treatment {\n'
             '    "Week 2": day 15 within 1 day\n    "Week 4": day 29 within 1 day\n}\n' + TIMING)
    # Day 25 is nearest Week 4 (day 29), which the end of treatment on day 26 leaves not due.
    assert _audit(rules, [("001", "2024-01-01", "dosing"), ("001", "2024-01-25", "visit"),
                          ("001", "2024-01-26", "end_of_treatment")]) == []
    # Without the end of treatment it is early for Week 4.
    assert [f[1] for f in _audit(rules, [("001", "2024-01-01", "dosing"), ("001", "2024-01-25", "visit")])] == \
        ["2024-01-25"]


@pytest.mark.parametrize("date, counted", [("2024-01", True), ("2024-02", False), ("2024", False)])
def test_a_partly_dated_record_that_may_lie_outside_the_window_leaves_a_missed_visit_possible(date: str,
                                                                                             counted: bool) -> None:
    rules = ('schedule follow_up from first dosing as day 1 {\n    "Month 1": day 15 within 20 days\n}\n'
             + MISSED)
    # The window runs from 2023-12-27 to 2024-02-04: all of January is inside, February is not.
    protocol = compile_rules(HEAD + rules)
    rows = [{"subject": "001", "date": "2023-12-31", "event": "dosing", "dose": "10"},
            {"subject": "001", "date": date, "event": "visit"}]
    result = audit_records(protocol, [{"study": "DEMO", "site": "01", **r} for r in rows],
                           as_of=dt.date(2030, 1, 1))
    (standing,) = [s for s in result.standings if s.rule.id == "DEMO-MISSED"]
    assert standing.status == ("passed" if counted else "possible_deviation")


def test_the_formatter_lays_out_both_forms_and_keeps_a_negative_day_whole() -> None:
    text = (HEAD + 'schedule  lymph "Days" from first dosing as day 0 { "D-6": day -6   "D-2" : day - 2 within 1 day }\n'
            "schedule scans every 6 weeks within 7 days   from first dosing until first end_of_treatment "
            "through 2 years\n" + MISSED.replace("follow_up", "lymph"))
    formatted = format_source(text, "t.rules")
    assert ('schedule lymph "Days" from first dosing as day 0 {\n    "D-6": day -6\n'
            '    "D-2": day -2 within 1 day\n}\n') in formatted
    assert ("schedule scans every 6 weeks within 7 days from first dosing until first end_of_treatment "
            "through 2 years\n") in formatted
    assert format_source(formatted, "t.rules") == formatted


def _standings(rules: str, rows: list[tuple[str, str, str]], as_of: str) -> dict[str, tuple[str, str | None]]:
    protocol = compile_rules(HEAD + rules)
    result = audit_records(protocol, [{"study": "DEMO", "site": "01", "subject": "001", "date": d, "event": e,
                                       "dose": "10" if e == "dosing" else ""} for d, e in rows],
                           as_of=dt.date.fromisoformat(as_of))
    return {s.rule.id: (s.status, s.reason) for s in result.standings}


EXTRA = """
rule DEMO-EXTRA "At most one visit in each window" {
    cites "the visit schedule"
    for the count of visit per follow_up
        require count <= 1
}
"""
WEEK_2 = 'schedule follow_up from first dosing as day 1 until first end_of_treatment {\n    "Week 2": day 15 within 3 days\n}\n'


def test_a_partly_dated_record_leaves_a_count_undecided_only_where_it_changes_the_outcome() -> None:
    # Two visits surely in the Week 2 window and one dated only "2024-01": at least 2, at most 3.
    standings = _standings(WEEK_2 + MISSED + EXTRA, [("2024-01-01", "dosing"), ("2024-01-14", "visit"),
                                                     ("2024-01-16", "visit"), ("2024-01", "visit")], "2024-03-01")
    assert standings["DEMO-MISSED"][0] == "passed"
    assert standings["DEMO-EXTRA"][0] == "deviation"


def test_an_anchor_dated_only_to_the_month_leaves_every_window_unplaced_so_not_evaluable() -> None:
    for rows in ([("2024-01", "dosing"), ("2024-01-15", "visit")], [("2024-01", "dosing")]):
        standings = _standings(WEEK_2 + MISSED + TIMING, rows, "2024-03-01")
        assert standings["DEMO-MISSED"][0] == "not_evaluable", rows  # no window can be placed, visits or none
    assert standings["DEMO-MISSED"][1] == ("whether this visit window was due, or on which days, cannot be told: "
                                          "the record the schedule counts from or ends at is dated only in part")


def test_the_first_anchor_is_known_when_a_partly_dated_one_cannot_be_earlier() -> None:
    # 1 March is surely the first dose: a dose dated "2024-03" is on 1 March or later.
    standings = _standings(WEEK_2 + MISSED, [("2024-03-01", "dosing"), ("2024-03", "dosing"),
                                             ("2024-03-15", "visit")], "2024-06-01")
    assert standings["DEMO-MISSED"][0] == "passed"
    # The last dose is not: with `from last dosing` the schedule cannot be placed.
    last = _standings(WEEK_2.replace("from first dosing", "from last dosing") + MISSED,
                      [("2024-03-02", "dosing"), ("2024-03", "dosing"), ("2024-03-16", "visit")], "2024-06-01")
    assert last["DEMO-MISSED"][0] == "not_evaluable"


def test_an_end_dated_in_part_after_a_visit_leaves_that_visit_due() -> None:
    rules = WEEK_2.replace('"Week 2": day 15 within 3 days', '"Week 2": day 15 within 3 days\n    "Week 8": day 57 within 3 days')
    # The first end of treatment is on 10 April or before: Week 8 (26 April) is surely not due.
    standings = _standings(rules + MISSED, [("2024-03-01", "dosing"), ("2024-03-15", "visit"),
                                            ("2024-04-10", "end_of_treatment"), ("2024-04", "end_of_treatment")],
                           "2024-12-31")
    assert standings["DEMO-MISSED"][0] == "passed"


def test_a_baseline_record_has_no_visit_whatever_the_cut_off() -> None:
    rules = "schedule follow_up every 6 weeks within 7 days from first dosing through 2 years\n" + TIMING
    for as_of in ("2024-03-10", "2024-04-20"):
        assert _audit(rules, [("001", "2024-03-01", "dosing"), ("001", "2024-02-27", "visit")], as_of) == [], as_of
    short = "schedule follow_up every 6 weeks within 7 days from first dosing through 6 weeks\n" + TIMING
    assert _audit(short, [("001", "2024-03-01", "dosing"), ("001", "2024-02-27", "visit")]) == []


def test_a_visit_an_end_dated_only_to_the_month_may_precede_is_not_evaluable() -> None:
    rules = WEEK_2.replace('"Week 2": day 15 within 3 days', '"Week 2": day 15 within 3 days\n    "Week 8": day 57 within 3 days')
    standings = _standings(rules + MISSED + TIMING, [("2024-01-01", "dosing"), ("2024-01-15", "visit"),
                                                     ("2024-02", "end_of_treatment"), ("2024-02-26", "visit")],
                           "2024-06-01")
    assert standings["DEMO-MISSED"] == ("not_evaluable", "whether this visit window was due, or on which days, cannot "
                                        "be told: the record the schedule counts from or ends at is dated only in part")
    assert standings["DEMO-TIMING"][0] == "not_evaluable"  # the Feb 26 visit: on treatment or not


def test_a_record_inside_an_asymmetric_window_belongs_to_it_though_another_visit_is_nearer() -> None:
    rules = ('schedule follow_up from first dosing as day 1 {\n'
             '    "Screening": day -28 within 0 days before and 27 days after\n    "Day 1": day 1\n}\n' + TIMING)
    # Jan 27 is 5 days before day 1 (Feb 1) and 23 days after day -28: inside the screening window.
    assert _audit(rules, [("001", "2024-02-01", "dosing"), ("001", "2024-01-27", "visit"),
                          ("001", "2024-02-01", "visit")]) == []


@pytest.mark.parametrize("every, within, accepted", [
    ("3 months", "6 weeks", True),   # 42 days, less than half of 89, the shortest 3 months
    ("3 months", "45 days", False),
    ("1 years", "170 days", True),   # less than half of 365
    ("1 years", "183 days", False),
    ("1 months", "13 days", True),   # less than half of 28 (February)
    ("1 months", "14 days", False),
])
def test_a_tolerance_must_be_less_than_half_the_shortest_period(every: str, within: str, accepted: bool) -> None:
    rules = f"schedule s every {every} within {within} from first dosing through 4 years\n" + MISSED.replace(
        "follow_up", "s")
    if accepted:
        compile_rules(HEAD + rules)
    else:
        with pytest.raises(RulesError, match="at least half the period between due dates"):
            compile_rules(HEAD + rules)


def test_rules_past_the_engines_fan_out_from_one_schedules_visits_are_refused_when_compiled() -> None:
    head = 'schedule follow_up from first dosing as day 1 {\n    "Week 2": day 15 within 3 days\n}\n'
    rule = 'rule R-{i} "r{i}" {{ cites "x" for each visit require follow_up.window <= {i} }}\n'
    compile_rules(HEAD + head + "".join(rule.format(i=i) for i in range(16)))  # 64 patterns: they run
    with pytest.raises(RulesError, match="more than 64 engine patterns read a record the same way"):
        compile_rules(HEAD + head + "".join(rule.format(i=i) for i in range(17)))
