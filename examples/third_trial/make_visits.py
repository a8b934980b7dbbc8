#!/usr/bin/env python3
"""Write examples/third_trial/visits.csv: the TX118-101 visit log (deterministic, standard library only).

    python examples/third_trial/make_visits.py           # (re)write visits.csv next to this script
    python examples/third_trial/make_visits.py --check   # exit 1 if visits.csv differs from what this writes

1. `protocol_rows` writes each subject's records as the protocol wants them, from the SUBJECTS table:
   screening 14 days before the first dose, a baseline scan 10 days and a blood count 7 days before it,
   a pregnancy test 2 days before it for women of childbearing potential, on each dose day the weight
   and then the infusion (3 mg/kg of that weight, 09:00 to 10:30 local), a scan on each 6-weekly due
   date up to the end of treatment, and the end of treatment 21 days after the last dose;
2. `plant` changes, adds or drops rows: one commented block per planted finding (`# PLANT`), then the
   near misses that must NOT be findings (`# NEAR MISS`);
3. rows are sorted by date, then subject, then event, and written with one column per field.

README.md tells the story and lists the findings by hand; expected.csv holds them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent / "visits.csv"
STUDY = "TX118-101"

COLUMNS = [
    "study", "site", "subject", "date", "event",
    "birth_date", "sex", "childbearing_potential", "weight", "creatinine",  # screening (weight: vitals too)
    "anc",                                                                 # blood_count
    "taken", "positive",                                                   # pregnancy_test
    "cycle", "dose", "start", "stop",                                      # dosing
    "modality",                                                            # imaging
    "term", "grade", "serious", "related", "aware", "reported",            # adverse_event
    "reason",                                                              # end_of_treatment
    "decision",                                                            # committee (trial level)
]
EVENT_ORDER = ["committee", "screening", "blood_count", "pregnancy_test", "imaging", "vitals", "dosing",
               "adverse_event", "end_of_treatment"]

DOSE_PER_KG = Decimal(3)
CYCLE = 21        # days between doses
SCAN_EVERY = 42   # days between scan due dates, counted from the first dose


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass
class Subject:
    id: str
    site: str
    sex: str
    childbearing: bool
    birth: str
    weight: str        # kg, at screening and (unless planted otherwise) at every cycle
    creatinine: str    # mg/dL at screening ("" = not recorded)
    first: str         # first dose
    cycles: int        # doses given, every 21 days unless planted otherwise
    ongoing: bool = False  # still on treatment at the cut-off: no end of treatment yet


SUBJECTS = [
    #        id     site  sex  CBP    born          kg      creat  first dose    cycles
    Subject("P01", "01", "M", False, "1962-04-10", "70.0", "0.9", "2025-01-13", 6),
    Subject("P02", "02", "F", True,  "1985-09-02", "62.0", "0.7", "2025-01-20", 4),
    Subject("P03", "01", "M", False, "1964-11-20", "54.0", "1.2", "2025-01-27", 4),
    Subject("P04", "03", "M", False, "1959-06-30", "78.0", "1.0", "2025-02-03", 6),
    Subject("P05", "02", "F", False, "1954-08-15", "58.0", "1.1", "2025-02-10", 4),
    Subject("P06", "01", "F", True,  "1979-03-03", "66.0", "0.8", "2025-02-17", 2),
    Subject("P07", "03", "M", False, "1970-12-05", "82.0", "1.0", "2025-02-24", 4),
    Subject("P08", "02", "F", False, "1958-01-22", "64.0", "0.8", "2025-03-05", 4),
    Subject("P09", "02", "M", False, "1966-07-14", "90.0", "1.1", "2025-03-14", 4),
    Subject("P10", "01", "M", False, "1972-05-09", "75.0", "0.9", "2025-03-26", 4),
    Subject("P11", "03", "F", True,  "2007-04-07", "80.0", "0.6", "2025-04-14", 4),
    Subject("P12", "01", "M", False, "1968-10-01", "72.0", "",    "2025-04-28", 4),
    Subject("P13", "02", "M", False, "2007-06-03", "68.0", "0.8", "2025-06-09", 4),
    Subject("P14", "03", "F", False, "1960-02-11", "59.0", "0.8", "2025-08-25", 2, ongoing=True),
]
CUTOFF = d("2025-09-30")  # the latest record: P14's adverse event


class Log:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def add(self, subject: Subject | None, date: dt.date | str, event: str, **fields: object) -> dict[str, str]:
        row = {"study": STUDY, "site": subject.site if subject else "", "subject": subject.id if subject else "",
               "date": str(date), "event": event}
        row.update({k: _cell(v) for k, v in fields.items()})
        self.rows.append(row)
        return row

    def find(self, subject: str, event: str, date: str) -> dict[str, str]:
        found = [r for r in self.rows if (r["subject"], r["event"], r["date"]) == (subject, event, date)]
        assert len(found) == 1, (subject, event, date, found)
        return found[0]

    def drop(self, subject: str, event: str, date: str) -> None:
        self.rows.remove(self.find(subject, event, date))

    def move(self, subject: str, event: str, date: str, to: str) -> dict[str, str]:
        row = self.find(subject, event, date)
        row["date"] = to
        return row


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def dose_for(weight: str) -> str:
    return str((DOSE_PER_KG * Decimal(weight)).normalize())


def protocol_rows(log: Log) -> None:
    for s in SUBJECTS:
        first = d(s.first)
        log.add(s, first - dt.timedelta(days=14), "screening", birth_date=s.birth, sex=s.sex,
                childbearing_potential=s.childbearing, weight=s.weight, creatinine=s.creatinine)
        log.add(s, first - dt.timedelta(days=10), "imaging", modality="CT")  # baseline scan: no due date
        log.add(s, first - dt.timedelta(days=7), "blood_count", anc="3.2")
        if s.childbearing:
            taken = first - dt.timedelta(days=2)
            log.add(s, taken, "pregnancy_test", taken=f"{taken}T08:00", positive=False)
        doses = [first + dt.timedelta(days=CYCLE * k) for k in range(s.cycles)]
        for number, day in enumerate(doses, start=1):
            log.add(s, day, "vitals", weight=s.weight)
            log.add(s, day, "dosing", cycle=number, dose=dose_for(s.weight), start=f"{day}T09:00",
                    stop=f"{day}T10:30")
        if s.ongoing:
            continue
        end = doses[-1] + dt.timedelta(days=CYCLE)
        due = first + dt.timedelta(days=SCAN_EVERY)
        while due <= end:
            log.add(s, due, "imaging", modality="CT")
            due += dt.timedelta(days=SCAN_EVERY)
        log.add(s, end, "end_of_treatment", reason="completed treatment")


def plant(log: Log) -> None:
    by_id = {s.id: s for s in SUBJECTS}

    # ---- the stopping rule (SAF-2; pending.rules): the early toxicities and the committee ----------
    # P02 (2nd subject treated): grade 4 related neutropenia exactly 21 days after the first dose
    # (2025-01-20 + 21 days): it counts, the 1st early toxicity. Its cycle 2 waits 3 more days (below).
    log.add(by_id["P02"], "2025-02-10", "adverse_event", term="febrile neutropenia", grade=4, serious=True,
            related=True, aware="2025-02-10T20:00", reported="2025-02-12T01:00+00:00")
    # P06 (6th subject treated): grade 4 related neutropenic sepsis 17 days after the first dose: the 2nd
    # early toxicity, so enrolment pauses from 2025-03-06. P06 stops treatment for toxicity.
    log.add(by_id["P06"], "2025-03-06", "adverse_event", term="neutropenic sepsis", grade=4, serious=True,
            related=True, aware="2025-03-06T18:00", reported="2025-03-07T17:01+00:00")
    log.find("P06", "end_of_treatment", "2025-03-31")["reason"] = "toxicity"
    # The committee holds on 2025-03-12 and resumes enrolment on 2025-03-26 (trial-level rows).
    log.add(None, "2025-03-12", "committee", decision="hold")
    log.add(None, "2025-03-26", "committee", decision="resume")
    # PLANT SAF-PAUSE: P09's first dose on 2025-03-14, during the pause (see SUBJECTS).

    # NEAR MISS SAF-PAUSE: events that look like early toxicities and do not count.
    # P01: grade 3 related rash (grade below 4); serious left empty: not serious.
    log.add(by_id["P01"], "2025-01-20", "adverse_event", term="rash maculo-papular", grade=3, related=True)
    # P03: grade 4 pulmonary embolism, related left empty: not related.
    log.add(by_id["P03"], "2025-02-05", "adverse_event", term="pulmonary embolism", grade=4, serious=True,
            aware="2025-02-05T11:00", reported="2025-02-05T16:00")
    # P04: grade 4 related febrile neutropenia 22 days after the first dose (2025-02-03): too late.
    log.add(by_id["P04"], "2025-02-25", "adverse_event", term="febrile neutropenia", grade=4, serious=True,
            related=True, aware="2025-02-25T09:00", reported="2025-02-25T15:00")
    # P07: grade 4 related thrombocytopenia 7 days after the first dose, but P07 is the 7th subject
    # treated. Counted, it would start the pause on 2025-03-03 and make P08's first dose (2025-03-05) a
    # finding. Its report never reached the sponsor (PLANT SAE-REPORT, not evaluable).
    log.add(by_id["P07"], "2025-03-03", "adverse_event", term="thrombocytopenia", grade=4, serious=True,
            related=True, aware="2025-03-03T10:00")
    # P10's first dose on 2025-03-26, the day the committee resumed enrolment (see SUBJECTS).

    # ---- PLANT ELIG-AGE: P13 screened on 2025-06-02, the day before the 18th birthday.
    log.move("P13", "screening", "2025-05-26", "2025-06-02")
    # NEAR MISS ELIG-AGE: P11 screened on the 18th birthday, 2025-04-07.
    log.move("P11", "screening", "2025-03-31", "2025-04-07")

    # ---- PLANT ELIG-CRCL (pending.rules): P05, a woman of 70, 58 kg, creatinine 1.1 mg/dL:
    # 70 * 58 / (72 * 1.1) = 51.26 mL/min as for a man, times 0.85 = 43.57 (see SUBJECTS).
    # Not evaluable: P12's screening creatinine is not recorded (see SUBJECTS).
    # NEAR MISS ELIG-CRCL: P03, a man of 60, 54 kg, creatinine 1.2: 80 * 54 / 86.4 = exactly 50 mL/min.

    # ---- PLANT ELIG-ANC: P07's latest count before the first dose (2025-02-21, 3 days before) is 1.3,
    # although one 10 days before was 1.8.
    log.drop("P07", "blood_count", "2025-02-17")
    log.add(by_id["P07"], "2025-02-14", "blood_count", anc="1.8")
    log.add(by_id["P07"], "2025-02-21", "blood_count", anc="1.3")
    # Not evaluable: P10's only count is 15 days before the first dose (2025-03-11).
    log.move("P10", "blood_count", "2025-03-19", "2025-03-11")
    # NEAR MISS ELIG-ANC: P04's latest count is exactly 1.5; the 1.2 of 14 days before is not the latest.
    log.find("P04", "blood_count", "2025-01-27")["anc"] = "1.5"
    log.add(by_id["P04"], "2025-01-20", "blood_count", anc="1.2")

    # ---- PLANT ELIG-PREGNANCY: P06's test at 08:00 on 2025-02-14, 73 hours before the first infusion
    # started (2025-02-17 09:00, Berlin).
    log.move("P06", "pregnancy_test", "2025-02-15", "2025-02-14")["taken"] = "2025-02-14T08:00"
    # NEAR MISS ELIG-PREGNANCY: P02's test at 09:30 on 2025-01-17, exactly 72 hours before the first
    # infusion started at 09:30 on 2025-01-20 (Boston).
    log.move("P02", "pregnancy_test", "2025-01-18", "2025-01-17")["taken"] = "2025-01-17T09:30"
    log.find("P02", "dosing", "2025-01-20")["start"] = "2025-01-20T09:30"

    # ---- PLANT TRT-WEIGHT: P08 weighed 2 days before the cycle 2 dose (2025-03-24 for 2025-03-26):
    # also no weight for the pending dose rule (not evaluable).
    log.move("P08", "vitals", "2025-03-26", "2025-03-24")
    # NEAR MISS TRT-WEIGHT: P01 weighed the day before cycle 3 (2025-02-23 for 2025-02-24).
    log.move("P01", "vitals", "2025-02-24", "2025-02-23")

    # ---- PLANT TRT-DOSE (pending.rules): P11 loses weight, 80 -> 75 -> 70 kg; the cycle 3 dose is
    # still computed from 80 kg: 240 mg against 3 * 70 = 210 mg (+14.3 %).
    for day, weight, dose in (("2025-05-05", "75.0", "225"), ("2025-05-26", "70.0", "240"),
                              ("2025-06-16", "70.0", "210")):
        log.find("P11", "vitals", day)["weight"] = weight
        log.find("P11", "dosing", day)["dose"] = dose
    # NEAR MISS TRT-DOSE: P01's cycle 1 dose is 231 mg, exactly 10 % over 3 * 70 = 210 mg.
    log.find("P01", "dosing", "2025-01-13")["dose"] = "231"

    # ---- TRT-CYCLE: P02's cycle 2 waits for the neutropenia to recover: 24 days (NEAR MISS), and the
    # later cycles follow 21 days apart.
    for old, new in (("2025-03-24", "2025-03-27"), ("2025-03-03", "2025-03-06"), ("2025-02-10", "2025-02-13")):
        log.move("P02", "vitals", old, new)
        log.move("P02", "dosing", old, new).update(start=f"{new}T09:00", stop=f"{new}T10:30")
    # P02's end of treatment follows, 21 days after cycle 4 (2025-04-17); its scans stay on the due
    # dates 2025-03-03 and 2025-04-14.
    log.move("P02", "end_of_treatment", "2025-04-14", "2025-04-17")
    # PLANT TRT-CYCLE: P10's cycle 3 is 25 days after cycle 2 (2025-05-11 for 2025-05-07); cycle 4 on
    # 2025-06-01, the end of treatment on 2025-06-22 (scans stay on the due dates 05-07 and 06-18).
    log.move("P10", "vitals", "2025-05-28", "2025-06-01")
    log.move("P10", "dosing", "2025-05-28", "2025-06-01").update(start="2025-06-01T09:00", stop="2025-06-01T10:30")
    log.move("P10", "vitals", "2025-05-07", "2025-05-11")
    log.move("P10", "dosing", "2025-05-07", "2025-05-11").update(start="2025-05-11T09:00", stop="2025-05-11T10:30")
    log.move("P10", "end_of_treatment", "2025-06-18", "2025-06-22")

    # ---- PLANT TRT-INFUSION: P03's cycle 4, an overnight infusion on 2025-03-30 in Berlin, the night
    # the clocks go forward: 01:30 to 03:29 on the wall clock, 59 real minutes. Cycle 4 is moved to
    # that day, 20 days after cycle 3 (NEAR MISS TRT-CYCLE); the end of treatment follows on 04-20,
    # before the second scan's due date (04-21): that scan is not due.
    log.move("P03", "vitals", "2025-03-31", "2025-03-30")
    log.move("P03", "dosing", "2025-03-31", "2025-03-30").update(start="2025-03-30T01:30", stop="2025-03-30T03:29")
    log.move("P03", "end_of_treatment", "2025-04-21", "2025-04-20")
    log.drop("P03", "imaging", "2025-04-21")
    # Not evaluable: P12's cycle 1 infusion has no stop time.
    log.find("P12", "dosing", "2025-04-28")["stop"] = ""
    # NEAR MISS TRT-INFUSION: P09's cycle 2 in Boston starts at 10:00 local (14:00 UTC) and the pump
    # records the stop in UTC, 15:00+00:00: exactly 60 minutes.
    log.find("P09", "dosing", "2025-04-04").update(start="2025-04-04T10:00", stop="2025-04-04T15:00+00:00")

    # ---- PLANT SCAN-MISSED and SCAN-TIMING: P04's second scan (due 2025-04-28, window 04-21 to 05-05)
    # is done on 2025-05-06, 8 days late.
    log.move("P04", "imaging", "2025-04-28", "2025-05-06")
    # NEAR MISS SCAN-MISSED and SCAN-TIMING: P01's first scan (due 2025-02-24) on 2025-03-03, 7 days late.
    log.move("P01", "imaging", "2025-02-24", "2025-03-03")
    # P14, still on treatment at the cut-off: its first scan is due 2025-10-06, window from 2025-09-29
    # (pending). Its latest record, a grade 1 fatigue on 2025-09-30, is the data cut-off.
    log.add(by_id["P14"], "2025-09-30", "adverse_event", term="fatigue", grade=1)

    # ---- SAE-REPORT: P06's report reached the sponsor 24 hours and 1 minute after the site became
    # aware (PLANT); P07's never did (not evaluable); P02's exactly 24 hours after (NEAR MISS: aware at
    # 20:00 in Boston, 01:00 UTC the next day). P01's rash, serious left empty, is not checked.


def render(log: Log) -> str:
    order = {event: i for i, event in enumerate(EVENT_ORDER)}
    rows = sorted(log.rows, key=lambda r: (r["date"], r["subject"], order[r["event"]]))
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return out.getvalue()


def build() -> str:
    log = Log()
    protocol_rows(log)
    plant(log)
    assert max(r["date"] for r in log.rows) == CUTOFF.isoformat()
    return render(log)


def main(argv: list[str]) -> int:
    text = build()
    if argv[1:] == ["--check"]:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name} is {'up to date' if same else 'out of date: run make_visits.py'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
