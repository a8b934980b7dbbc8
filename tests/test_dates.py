"""jk500_rules.dates agrees with pendulum: completed years, and dates shifted by calendar months.

Two checks of each claim: the integer encodings directly (many seeded random pairs, month ends and
29 February included), then the same decisions made by compiled rules inside the engine.

pendulum's `diff()` has a known defect (python-pendulum/pendulum#606, #566, #790): when the later date
falls in a month shorter than the one before it and its day is short of the earlier date's day by exactly
that difference, `precise_diff` counts a whole extra month. So pendulum finds someone born on 20 April
2006 already 18 on 19 April 2024, and someone born on 20 February 2006 already 18 on 18 February 2024.
The audit must not: on those pairs the reference is the civil rule (the anniversary is reached on the
same month and day, 29 February birthdays on 1 March in common years), which is also what pendulum
gives everywhere else.
"""

from __future__ import annotations

import calendar
import datetime as dt
import operator
import random
from pathlib import Path
from typing import Callable, Iterator

import pendulum
import pytest

from jk500_rules import load_protocol
from jk500_rules.dates import MONTH, YEAR, cal, calhi, epoch_day, from_epoch_day, week_start
from jk500_rules.engine.audit import audit_files

SEED = 20240229
LEAP_AND_MONTH_ENDS = [
    dt.date(2000, 2, 29), dt.date(2004, 2, 29), dt.date(2006, 2, 28), dt.date(2006, 3, 1),
    dt.date(2008, 2, 29), dt.date(2023, 1, 31), dt.date(2023, 2, 28), dt.date(2023, 3, 31),
    dt.date(2023, 4, 30), dt.date(2023, 5, 31), dt.date(2023, 6, 30), dt.date(2023, 8, 31),
    dt.date(2023, 12, 31), dt.date(2024, 1, 29), dt.date(2024, 1, 30), dt.date(2024, 1, 31),
    dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2024, 3, 30),
    dt.date(2024, 3, 31), dt.date(2024, 4, 30), dt.date(2024, 10, 31), dt.date(2024, 11, 30),
    dt.date(2006, 4, 20), dt.date(2006, 2, 20), dt.date(2025, 2, 28), dt.date(2025, 3, 1),
]
OPS: dict[str, Callable[[object, object], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq, "!=": operator.ne,
}


def pdate(value: dt.date) -> pendulum.Date:
    return pendulum.date(value.year, value.month, value.day)


def civil_years(a: dt.date, b: dt.date) -> int:
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))


def pendulum_full_month_defect(a: dt.date, b: dt.date) -> bool:
    """True where pendulum's precise_diff takes its 'exactly a full month' branch for a mid-month pair."""
    day_difference = b.day - a.day
    if day_difference >= 0:
        return False
    before = (b.replace(day=1) - dt.timedelta(days=1))
    shortfall = calendar.monthrange(b.year, b.month)[1] - calendar.monthrange(before.year, before.month)[1]
    return day_difference == shortfall


def random_date(rng: random.Random, start: int = 1940, end: int = 2035) -> dt.date:
    first, last = dt.date(start, 1, 1).toordinal(), dt.date(end, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(first, last))


def year_pairs(n: int) -> Iterator[tuple[dt.date, dt.date]]:
    """(birth, later date) pairs, most within a few days of an anniversary."""
    rng = random.Random(SEED)
    for a in LEAP_AND_MONTH_ENDS:
        for b in LEAP_AND_MONTH_ENDS:
            if a <= b:
                yield a, b
    for _ in range(n):
        a = rng.choice(LEAP_AND_MONTH_ENDS) if rng.random() < 0.3 else random_date(rng)
        years = rng.randint(0, 90)
        anniversary = pdate(a).add(years=years)
        b = dt.date(anniversary.year, anniversary.month, anniversary.day) + dt.timedelta(days=rng.randint(-4, 4))
        if rng.random() < 0.2:
            b = a + dt.timedelta(days=rng.randint(0, 40000))
        if b >= a:
            yield a, b


def test_epoch_day_round_trip() -> None:
    rng = random.Random(SEED)
    for _ in range(2000):
        d = random_date(rng)
        assert from_epoch_day(epoch_day(d)) == d
        assert epoch_day(d) == (pdate(d) - pendulum.date(1970, 1, 1)).in_days()


def test_completed_years_match_pendulum() -> None:
    compared = defects = 0
    for a, b in year_pairs(20000):
        years = (cal(b) - cal(a)) // YEAR
        assert years == civil_years(a, b), (a, b)
        if pendulum_full_month_defect(a, b):
            defects += 1
            continue
        assert years == pdate(a).diff(pdate(b), False).in_years(), (a, b)
        # the other way round, pendulum's signed diff is the same count, negated
        assert -years == pdate(b).diff(pdate(a), False).in_years(), (a, b)
        compared += 1
    assert compared > 15000 and defects > 0


@pytest.mark.parametrize(
    "birth, day, years",
    [
        (dt.date(2000, 2, 29), dt.date(2018, 2, 28), 17),  # 29 February birthday: older on 1 March ...
        (dt.date(2000, 2, 29), dt.date(2018, 3, 1), 18),
        (dt.date(2000, 2, 29), dt.date(2020, 2, 29), 20),  # ... or on 29 February in a leap year
        (dt.date(2006, 1, 3), dt.date(2024, 1, 2), 17),
        (dt.date(2006, 1, 3), dt.date(2024, 1, 3), 18),
        (dt.date(2005, 12, 31), dt.date(2023, 12, 31), 18),
    ],
)
def test_completed_years_at_the_edges(birth: dt.date, day: dt.date, years: int) -> None:
    assert (cal(day) - cal(birth)) // YEAR == years
    assert pdate(birth).diff(pdate(day)).in_years() == years


@pytest.mark.parametrize(
    "birth, day",
    [(dt.date(2006, 4, 20), dt.date(2024, 4, 19)), (dt.date(2006, 2, 20), dt.date(2024, 2, 18)),
     (dt.date(2006, 6, 15), dt.date(2024, 6, 14)), (dt.date(2006, 2, 20), dt.date(2023, 2, 17))],
)
def test_where_pendulum_diff_is_a_month_early_the_audit_is_not(birth: dt.date, day: dt.date) -> None:
    assert pendulum_full_month_defect(birth, day)
    assert (cal(day) - cal(birth)) // YEAR == civil_years(birth, day)
    assert pdate(birth).add(years=civil_years(birth, day) + 1) > pdate(day)  # the next birthday is still ahead


def month_cases(n: int) -> Iterator[tuple[dt.date, int, dt.date]]:
    """(a, N, x) with x within a few days of a + N months (pendulum's clamped month arithmetic)."""
    rng = random.Random(SEED + 1)
    for _ in range(n):
        a = rng.choice(LEAP_AND_MONTH_ENDS) if rng.random() < 0.5 else random_date(rng, 1990, 2030)
        months = rng.randint(-30, 30)
        target = pdate(a).add(months=months)
        x = dt.date(target.year, target.month, target.day) + dt.timedelta(days=rng.randint(-3, 3))
        yield a, months, x


def test_shifted_month_comparisons_match_pendulum() -> None:
    """How the compiler lowers `x OP a + N months`: cal for <= and >, calhi for < and >=."""
    for a, months, x in month_cases(30000):
        shifted = cal(a) + months * MONTH  # may be a date that does not exist, such as 31 February
        target = pdate(a).add(months=months)
        px = pdate(x)
        assert (cal(x) <= shifted) == (px <= target), (x, "<=", a, months)
        assert (cal(x) > shifted) == (px > target), (x, ">", a, months)
        assert (calhi(x) < shifted) == (px < target), (x, "<", a, months)
        assert (calhi(x) >= shifted) == (px >= target), (x, ">=", a, months)


def test_week_start() -> None:
    rng = random.Random(SEED + 2)
    for _ in range(500):
        d = random_date(rng, 2000, 2030)
        for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")):
            start = week_start(d, name)
            assert start.weekday() == index
            assert 0 <= (d - start).days < 7


# ----- the same decisions, made by compiled rules in the engine -------------------------------------

MONTH_SHIFTS = (1, 2, 6, 12, 18, -1, -12)
ENGINE_OPS = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
YEAR_OPS = {"<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "=": "EQ", "!=": "NE"}
AGE = 18


def engine_rules_text() -> str:
    lines = [
        'protocol "DATES"',
        'event start "Start" { }',
        'event visit "Visit" { birth_date: date required }',
    ]
    for months in MONTH_SHIFTS:
        shift = f"+ {months} months" if months > 0 else f"- {-months} months"
        for op, word in ENGINE_OPS.items():
            lines.append(f'rule M-{word}-{"P" if months > 0 else "N"}{abs(months)} "date {op} first start {shift}" {{')
            lines.append(f"    for each visit require date {op} first start {shift}")
            lines.append("}")
    for op, word in YEAR_OPS.items():
        lines.append(f'rule Y-{word} "years {op} {AGE}" {{')
        lines.append(f"    for each visit require years from birth_date to date {op} {AGE} years")
        lines.append("}")
    return "\n".join(lines) + "\n"


def test_compiled_month_and_year_comparisons_match_pendulum(tmp_path: Path) -> None:
    rules = tmp_path / "dates.rules"
    rules.write_text(engine_rules_text(), encoding="utf-8")
    protocol = load_protocol(str(rules))

    rng = random.Random(SEED + 3)
    starts = list(LEAP_AND_MONTH_ENDS) + [random_date(rng, 1995, 2006) for _ in range(12)]
    rows = ["study,site,subject,date,event,birth_date"]
    expected: set[tuple[str, str, str]] = set()
    for number, a in enumerate(starts):
        subject = f"S{number:03d}"
        rows.append(f"DATES,1,{subject},{a.isoformat()},start,")
        visits: set[dt.date] = set()
        for months in MONTH_SHIFTS:
            target = pdate(a).add(months=months)
            for delta in (-1, 0, 1):
                visits.add(dt.date(target.year, target.month, target.day) + dt.timedelta(days=delta))
        for years in (AGE, AGE + 1):
            birthday = pdate(a).add(years=years)
            for delta in (-3, -2, -1, 0, 1):
                visits.add(dt.date(birthday.year, birthday.month, birthday.day) + dt.timedelta(days=delta))
        for x in sorted(visits):
            rows.append(f"DATES,1,{subject},{x.isoformat()},visit,{a.isoformat()}")
            for months in MONTH_SHIFTS:
                target = pdate(a).add(months=months)
                for op, word in ENGINE_OPS.items():
                    if not OPS[op](pdate(x), target):
                        expected.add((f"M-{word}-{'P' if months > 0 else 'N'}{abs(months)}", subject, x.isoformat()))
            for op, word in YEAR_OPS.items():
                if not OPS[op](civil_years(a, x), AGE):
                    expected.add((f"Y-{word}", subject, x.isoformat()))
    log = tmp_path / "dates.csv"
    log.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = audit_files(protocol, [str(log)])

    assert not result.data.rejections
    found = [(f.rule.id, f.subject or "", f.date) for f in result.findings]
    assert all(f.status == "deviation" for f in result.findings)
    assert len(found) == len(set(found))
    assert {rule for rule, _, _ in expected} == {r.id for r in protocol.rules}  # every rule is exercised
    assert set(found) == expected
