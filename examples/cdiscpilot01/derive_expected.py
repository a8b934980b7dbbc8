#!/usr/bin/env python3
"""Derive examples/cdiscpilot01/expected.csv from the pilot's XPT files, independently of jk500-rules.

    python examples/cdiscpilot01/derive_expected.py [FOLDER]            # (re)write expected.csv
    python examples/cdiscpilot01/derive_expected.py --check [FOLDER]    # exit 1, with a diff, if it differs
    python examples/cdiscpilot01/derive_expected.py --values [FOLDER]   # every CMTRT and CMDECOD, and its list

FOLDER holds dm.xpt, ex.xpt, ... (default: $JK500_SHARED_DATA/cdiscpilot01, else ../shared/data/cdiscpilot01
beside the checkout). The script reads the SDTM domains with pyreadstat and nothing of the tool: neither
mapping.toml nor the jk500_rules package. Each rule of protocol.rules is computed here from its meaning as
README.md states it, with the drug names of the README's review written out below (THYROID_HORMONES,
ALZHEIMER_DRUGS), so that a gap in the mapping's lists cannot reach expected.csv unseen.

Findings are dated as the report dates them: a per-record rule (`for each visit`) by the record checked; a
`require a X` checked for a subject's first dose (or first thyroid hormone) that found no qualifying X, by
the latest X its `needs` accepts (the deciding result: none qualified), and by the record checked when that
`needs` finds nothing (not evaluable); a `forbid` checked for the first dose by the latest offending record,
one finding per subject. A partial date (`2013`, `2013-11`) is the interval of the days it may be:
a condition that holds on some of them and not on others is a possible deviation.

The script stops with a message when the data hold something it does not model (a unit other than the one
the rules declare, a result that is not a number, a questionnaire whose rows disagree on the date, ...).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import difflib
import io
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "expected.csv"
RULES = HERE / "protocol.rules"

# ---- the drug lists of the review (README.md, "Which medications are which"): names as CM writes them --
# A CM row is a thyroid hormone, or an Alzheimer's drug, when its CMTRT or its CMDECOD is one of these.
THYROID_HORMONES = {
    "SYNTHROID",        # levothyroxine
    "LEVOXYL",          # levothyroxine
    "LEVOXINE",         # levothyroxine: Levoxyl's name until 1994 (0.025 mg once a day here)
    "LEVOTHROID",       # levothyroxine
    "ARMOUR THYROID",   # desiccated thyroid (T4 and T3)
}
ALZHEIMER_DRUGS = {
    "ARICEPT",                  # donepezil; CMDECOD DONEPEZIL HYDROCHLORIDE
    "DONEPEZIL HYDROCHLORIDE",  # as CMTRT (left UNCODED) and as the CMDECOD of ARICEPT
}

# ---- the protocol's numbers (protocol.rules, parameters) ----------------------------------------------
MIN_AGE = 50
MMSE_ITEMS, MMSE_LOW, MMSE_HIGH = 6, 10, 23
HACHINSKI_ITEMS, MAX_HACHINSKI = 13, 4
MIN_B12 = Decimal("130")                              # ng/L (= pg/mL)
TSH_LOW, TSH_HIGH = Decimal("0.32"), Decimal("5.0")    # mIU/L
TSH_LOW_SUPPLEMENTED, TSH_HIGH_SUPPLEMENTED = Decimal("0.03"), Decimal("6.2")
MAX_HBA1C = Decimal("9.5")                            # %
AD_DRUG_WASHOUT = 30                                  # days
SCREENING_WINDOW = 14                                 # days
VISIT_WINDOWS = {2: 3, 4: 3, 6: 3, 8: 3, 12: 4, 16: 4, 20: 4, 24: 4, 26: 3}  # week: +/- days
LAB_UNITS = {"VITB12": {"ng/L", "pg/mL"}, "TSH": {"mIU/L", "mU/L", "uIU/mL"}, "HBA1C": {"%"}}

# The rules in the order of protocol.rules: the report lists findings rule by rule in this order.
RULE_ORDER = ["CP01-ELIG-AGE", "CP01-ELIG-MMSE", "CP01-ELIG-HACHINSKI", "CP01-ELIG-B12", "CP01-ELIG-TSH",
              "CP01-ELIG-TSH-SUPPLEMENTED", "CP01-ELIG-HBA1C", "CP01-EXCL-AD-DRUGS", "CP01-SCH-SCREENING",
              *(f"CP01-SCH-WEEK-{week}" for week in VISIT_WINDOWS)]
DOMAIN_FILES = ("dm.xpt", "ex.xpt", "sv.xpt", "qsmm.xpt", "qshi.xpt", "lbch.xpt", "lbhe.xpt", "lbur.xpt", "cm.xpt")

Row = tuple[str, str, str, str]  # rule, subject, date, status
NO, MAYBE, YES = 0, 1, 2          # a condition on partial dates: false, undecided, true


class DataSurprise(Exception):
    """The data hold something this derivation does not model: stop rather than guess."""


# ---- dates -----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Span:
    """The days an ISO date may be: one day for a full date, a month or a year for a partial one."""

    low: dt.date
    high: dt.date
    text: str

    def shift(self, days: int) -> Span:
        delta = dt.timedelta(days=days)
        return Span(self.low + delta, self.high + delta, self.text)


def span(text: str) -> Span | None:
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", text):   # a datetime counts by its calendar day
        day = dt.date.fromisoformat(text[:10])
        return Span(day, day, text[:10])
    if re.fullmatch(r"\d{4}-\d{2}", text):
        year, month = int(text[:4]), int(text[5:])
        return Span(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]), text)
    if re.fullmatch(r"\d{4}", text):
        return Span(dt.date(int(text), 1, 1), dt.date(int(text), 12, 31), text)
    raise DataSurprise(f"not an ISO date: {text!r}")


def full_date(text: str, what: str) -> dt.date:
    day = span(text)
    if day is None or day.low != day.high:
        raise DataSurprise(f"{what}: a full date is needed, not {text!r}")
    return day.low


def on_or_before(a: Span, b: Span) -> int:
    """a <= b, for every day each may be (YES), for none (NO) or for some (MAYBE)."""
    return YES if a.high <= b.low else NO if a.low > b.high else MAYBE


# ---- reading ---------------------------------------------------------------------------------------


def read(folder: Path, name: str) -> list[dict[str, Any]]:
    import pyreadstat  # here, so that a missing folder is reported before a missing reader

    frame, _ = pyreadstat.read_xport(str(folder / name))
    return [{key: ("" if value is None else value) for key, value in row.items()}
            for row in frame.to_dict("records")]


def whole(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise DataSurprise(f"{what}: not a whole number: {value!r}")


@dataclass
class Questionnaire:
    """One subject's questionnaire at one visit: the item scores added up, complete or not."""

    date: dt.date
    items: int           # the item scores recorded
    total: int | None    # None when an item score is empty


def questionnaires(rows: Iterable[dict[str, Any]], category: str) -> dict[str, list[Questionnaire]]:
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["QSCAT"] != category:
            raise DataSurprise(f"QSCAT {row['QSCAT']!r} where only {category} was expected")
        groups[(row["USUBJID"], row["VISITNUM"])].append(row)
    out: dict[str, list[Questionnaire]] = defaultdict(list)
    for (subject, visit), group in groups.items():
        dates = {row["QSDTC"] for row in group}
        if len(dates) != 1:
            raise DataSurprise(f"{category} of {subject} at visit {visit}: items on several dates {sorted(dates)}")
        scores = [row["QSSTRESN"] for row in group]
        known = [whole(score, f"{category} score of {subject}") for score in scores
                 if not (isinstance(score, float) and score != score) and score != ""]
        total = sum(known) if len(known) == len(scores) else None
        out[subject].append(Questionnaire(full_date(dates.pop(), f"{category} of {subject}"), len(known), total))
    return out


def labs(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[dt.date, Decimal]]]:
    """(subject, test) -> (day, result as reported) for the tests the rules read, in the declared unit."""
    out: dict[tuple[str, str], list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for row in rows:
        test = row["LBTESTCD"]
        if test not in LAB_UNITS:
            continue
        if row["LBORRESU"] not in LAB_UNITS[test]:
            raise DataSurprise(f"{test} of {row['USUBJID']} in {row['LBORRESU']!r}, not {sorted(LAB_UNITS[test])}")
        if not re.fullmatch(r"\d+(\.\d+)?", row["LBORRES"].strip()):
            raise DataSurprise(f"{test} of {row['USUBJID']}: result {row['LBORRES']!r} is not a number")
        day = full_date(row["LBDTC"], f"{test} of {row['USUBJID']}")
        out[(row["USUBJID"], test)].append((day, Decimal(row["LBORRES"].strip())))
    return out


def is_in(row: dict[str, Any], names: set[str]) -> bool:
    return row["CMTRT"].strip().upper() in names or row["CMDECOD"].strip().upper() in names


@dataclass
class Study:
    subjects: list[str]
    ages: dict[str, list[tuple[dt.date, int]]]             # DMDTC, AGE
    first_dose: dict[str, dt.date]
    last_stop: dict[str, dt.date | None]                   # EXENDTC of the last exposure record
    visits: dict[str, list[tuple[str, dt.date]]]           # VISIT, SVSTDTC
    mmse: dict[str, list[Questionnaire]]
    hachinski: dict[str, list[Questionnaire]]
    labs: dict[tuple[str, str], list[tuple[dt.date, Decimal]]]
    thyroid: dict[str, list[dt.date]]                      # CMDTC of each thyroid-hormone row
    ad_drugs: dict[str, list[tuple[Span, Span | None]]]    # CMSTDTC, CMENDTC of each Alzheimer's-drug row


def load(folder: Path) -> Study:
    dm = read(folder, "dm.xpt")
    ages: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for row in dm:
        ages[row["USUBJID"]].append((full_date(row["DMDTC"], "DMDTC"), whole(row["AGE"], "AGE")))
    doses: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for row in read(folder, "ex.xpt"):
        doses[row["USUBJID"]].append((full_date(row["EXSTDTC"], "EXSTDTC"), row["EXENDTC"]))
    last_stop: dict[str, dt.date | None] = {}
    for subject, records in doses.items():
        records.sort()
        if len(records) > 1 and records[-1][0] == records[-2][0]:
            raise DataSurprise(f"{subject}: two last exposure records on {records[-1][0]}")
        last_stop[subject] = full_date(records[-1][1], "EXENDTC") if records[-1][1].strip() else None
    visits: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
    for row in read(folder, "sv.xpt"):
        visits[row["USUBJID"]].append((row["VISIT"], full_date(row["SVSTDTC"], "SVSTDTC")))
    lab_rows = [row for name in ("lbch.xpt", "lbhe.xpt", "lbur.xpt") for row in read(folder, name)]
    thyroid: dict[str, list[dt.date]] = defaultdict(list)
    ad_drugs: dict[str, list[tuple[Span, Span | None]]] = defaultdict(list)
    for row in read(folder, "cm.xpt"):
        if is_in(row, THYROID_HORMONES):
            thyroid[row["USUBJID"]].append(full_date(row["CMDTC"], "CMDTC"))
        if is_in(row, ALZHEIMER_DRUGS):
            start = span(row["CMSTDTC"])
            if start is None:
                raise DataSurprise(f"{row['USUBJID']}: {row['CMTRT']} without a start date")
            ad_drugs[row["USUBJID"]].append((start, span(row["CMENDTC"])))
    return Study(subjects=sorted(set(ages) | set(doses)), ages=ages,
                 first_dose={subject: records[0][0] for subject, records in doses.items()},
                 last_stop=last_stop, visits=visits, mmse=questionnaires(read(folder, "qsmm.xpt"), "MMSE"),
                 hachinski=questionnaires(read(folder, "qshi.xpt"), "MHIS-NACC"), labs=labs(lab_rows),
                 thyroid=thyroid, ad_drugs=ad_drugs)


# ---- the rules -------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the checks came to beside the findings: the README quotes these."""

    excused: Counter[str]
    checked: Counter[str]


def require(covered: int, needs_met: bool, excused: bool = False, unknown: bool = False) -> str | None:
    """The outcome of a `require a X` check, in the report's precedence: a certain match passes; then an
    excuse; then a missing `needs` record (not evaluable); then an undecided match (possible deviation);
    then a candidate whose value is empty (not evaluable: an empty value never reads as a failure)."""
    if covered == YES:
        return None
    if excused:
        return "excused"
    if not needs_met:
        return "not_evaluable"
    if covered == MAYBE:
        return "possible_deviation"
    return "not_evaluable" if unknown else "deviation"


def dated(status: str, deciding: Iterable[dt.date], checked: dt.date) -> str:
    """A deviation of a `require a X` is dated by the latest X its `needs` accepted; anything else on the record
    checked."""
    days = sorted(deciding)
    return days[-1].isoformat() if status == "deviation" and days else checked.isoformat()


def forbid(offending: list[tuple[int, Span]]) -> tuple[str, str] | None:
    """One finding for a subject's check that forbids records: a deviation dated by the latest certainly
    offending record, else a possible deviation dated by the latest possibly offending one."""
    for status, level in (("deviation", YES), ("possible_deviation", MAYBE)):
        dates = sorted(day for verdict, day in offending if verdict == level)
        if dates:
            return status, dates[-1].text
    return None


def eligibility(study: Study, tally: Tally) -> Iterable[Row]:
    """The rules checked `for first dose` (and the supplement rule, for the first thyroid hormone)."""
    for subject in study.subjects:
        first = study.first_dose.get(subject)
        if first is None:  # a screen failure: not applicable
            continue
        on = first.isoformat()
        tally.checked["dosed"] += 1

        ages = study.ages.get(subject, [])
        if not ages:
            yield "CP01-ELIG-AGE", subject, on, "not_evaluable"
        elif outcome := forbid([(YES, Span(day, day, day.isoformat())) for day, age in ages if age < MIN_AGE]):
            yield "CP01-ELIG-AGE", subject, outcome[1], outcome[0]

        for rule, scales, items, fits in (
                ("CP01-ELIG-MMSE", study.mmse, MMSE_ITEMS, lambda t: MMSE_LOW <= t <= MMSE_HIGH),
                ("CP01-ELIG-HACHINSKI", study.hachinski, HACHINSKI_ITEMS, lambda t: t <= MAX_HACHINSKI)):
            complete = [q for q in scales.get(subject, []) if q.date <= first and q.items == items]
            status = require(YES if any(q.total is not None and fits(q.total) for q in complete) else NO,
                             bool(complete), unknown=any(q.total is None for q in complete))
            if status:
                yield rule, subject, dated(status, (q.date for q in complete), first), status

        b12 = [(day, result) for day, result in study.labs.get((subject, "VITB12"), []) if day <= first]
        if status := require(YES if any(result >= MIN_B12 for _, result in b12) else NO, bool(b12)):
            yield "CP01-ELIG-B12", subject, dated(status, (day for day, _ in b12), first), status

        tsh_dated = [(day, result) for day, result in study.labs.get((subject, "TSH"), []) if day <= first]
        tsh = [result for _, result in tsh_dated]
        supplements = sorted(day for day in study.thyroid.get(subject, []) if day <= first)
        status = require(YES if any(TSH_LOW <= result <= TSH_HIGH for result in tsh) else NO, bool(tsh),
                         excused=bool(supplements))
        if status == "excused":
            tally.excused["CP01-ELIG-TSH"] += 1
        elif status:
            yield "CP01-ELIG-TSH", subject, dated(status, (day for day, _ in tsh_dated), first), status
        if supplements:  # checked once, for the subject's first thyroid-hormone record, dated on it
            tally.checked["CP01-ELIG-TSH-SUPPLEMENTED"] += 1
            fits = any(TSH_LOW_SUPPLEMENTED <= result <= TSH_HIGH_SUPPLEMENTED for result in tsh)
            if status := require(YES if fits else NO, bool(tsh)):
                yield ("CP01-ELIG-TSH-SUPPLEMENTED", subject,
                       dated(status, (day for day, _ in tsh_dated), supplements[0]), status)

        hba1c = [(YES, Span(day, day, day.isoformat())) for day, result in study.labs.get((subject, "HBA1C"), [])
                 if day <= first and result > MAX_HBA1C]
        if outcome := forbid(hba1c):
            yield "CP01-ELIG-HBA1C", subject, outcome[1], outcome[0]

        yield from ad_drugs(study, subject, first)


def ad_drugs(study: Study, subject: str, first: dt.date) -> Iterable[Row]:
    """Taken between 30 days before the first dose and the end of the last exposure record: the drug's
    span (start to end, still going when the end is empty) overlaps that period."""
    records = study.ad_drugs.get(subject, [])
    if not records:
        return
    last_stop = study.last_stop.get(subject)
    washout = Span(first, first, first.isoformat()).shift(-AD_DRUG_WASHOUT)
    offending: list[tuple[int, Span]] = []
    undecidable: list[Span] = []
    for start, stop in records:
        still_on = YES if stop is None else on_or_before(washout, stop)
        if still_on == NO:
            continue
        if last_stop is None:  # the end of treatment is unknown: the check reads an empty field
            undecidable.append(start)
            continue
        began = on_or_before(start, Span(last_stop, last_stop, last_stop.isoformat()))
        offending.append((min(began, still_on), start))
    if outcome := forbid(offending):
        yield "CP01-EXCL-AD-DRUGS", subject, outcome[1], outcome[0]
    elif undecidable:
        yield "CP01-EXCL-AD-DRUGS", subject, max(undecidable).text, "not_evaluable"


def schedule(study: Study) -> Iterable[Row]:
    for subject in study.subjects:
        first = study.first_dose.get(subject)
        if first is None:
            continue
        visits = study.visits.get(subject, [])
        screening = [day for name, day in visits if name == "SCREENING 1"]
        in_window = any(first - dt.timedelta(days=SCREENING_WINDOW) <= day <= first for day in screening)
        if status := require(YES if in_window else NO, bool(screening)):
            yield "CP01-SCH-SCREENING", subject, dated(status, screening, first), status
        for week, window in VISIT_WINDOWS.items():
            target = first + dt.timedelta(days=7 * week)
            for name, day in visits:
                if name == f"WEEK {week}" and abs((day - target).days) > window:
                    yield f"CP01-SCH-WEEK-{week}", subject, day.isoformat(), "deviation"


def derive(folder: Path) -> tuple[list[Row], Tally]:
    rules_in_file = re.findall(r"^rule (\S+)", RULES.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if rules_in_file != RULE_ORDER:
        raise DataSurprise(f"protocol.rules has the rules {rules_in_file}; this script derives {RULE_ORDER}")
    study = load(folder)
    tally = Tally(Counter(), Counter())
    rows = [*eligibility(study, tally), *schedule(study)]
    order = {rule: index for index, rule in enumerate(RULE_ORDER)}
    rows.sort(key=lambda row: (order[row[0]], row[1], row[2], row[3]))
    if len(set(rows)) != len(rows):
        raise DataSurprise("the same finding twice")
    return rows, tally


def render(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rule", "subject", "date", "status"])
    writer.writerows(rows)
    return out.getvalue()


def summary(rows: list[Row], tally: Tally) -> str:
    counts = Counter(row[0] for row in rows)
    lines = [f"{rule}: {counts[rule]}" for rule in RULE_ORDER]
    statuses = Counter(row[3] for row in rows)
    lines.append(f"{len(rows)} findings ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}); "
                 f"{tally.checked['dosed']} dosed subjects; "
                 f"{tally.checked['CP01-ELIG-TSH-SUPPLEMENTED']} on thyroid hormones before the first dose, "
                 f"{tally.excused['CP01-ELIG-TSH']} of them excused from CP01-ELIG-TSH")
    return "\n".join(lines)


def values(folder: Path) -> str:
    """Every distinct CMTRT and CMDECOD with its rows and subjects, and the list it is in (the review)."""
    rows = read(folder, "cm.xpt")
    lines = []
    for column in ("CMTRT", "CMDECOD"):
        seen: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            seen[row[column]].append(row["USUBJID"])
        lines.append(f"{column}: {len(seen)} values")
        for value in sorted(seen):
            listed = ("thyroid hormone" if value in THYROID_HORMONES else
                      "Alzheimer's drug" if value in ALZHEIMER_DRUGS else "")
            lines.append(f"  {value!r:48} {len(seen[value]):5} rows {len(set(seen[value])):4} subjects  {listed}")
    return "\n".join(lines)


def default_folder() -> Path:
    shared = os.environ.get("JK500_SHARED_DATA") or HERE.parents[2] / "shared" / "data"
    return Path(shared) / "cdiscpilot01"


def main(argv: list[str]) -> int:
    flags = [arg for arg in argv[1:] if arg.startswith("--")]
    places = [arg for arg in argv[1:] if not arg.startswith("--")]
    if len(places) > 1 or set(flags) - {"--check", "--values"} or len(flags) > 1:
        print("\n".join(__doc__.strip().splitlines()[2:5]), file=sys.stderr)
        return 2
    folder = Path(places[0]) if places else default_folder()
    missing = [name for name in DOMAIN_FILES if not (folder / name).is_file()]
    if missing:
        print(f"derive_expected.py: the CDISC pilot data are not at {folder} (missing {', '.join(missing)})",
              file=sys.stderr)
        return 2
    try:
        if flags == ["--values"]:
            print(values(folder))
            return 0
        rows, tally = derive(folder)
    except DataSurprise as surprise:
        print(f"derive_expected.py: {surprise}", file=sys.stderr)
        return 2
    text = render(rows)
    if flags == ["--check"]:
        old = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if old == text:
            print(f"{OUT.name} is up to date ({len(rows)} findings)")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                                   f"{OUT.name} (as it is)", f"{OUT.name} (as derived)"))
        print(f"{OUT.name} is out of date: run derive_expected.py")
        return 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(rows)} findings)\n{summary(rows, tally)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
