#!/usr/bin/env python3
"""Write examples/jk500_visits.csv: the JK500 example visit log (deterministic, standard library only).

    python examples/make_jk500_visits.py           # (re)write jk500_visits.csv next to this script
    python examples/make_jk500_visits.py --check   # exit 1 if the CSV differs from what this script writes

The log is built in three steps, so that every planted deviation is visible in one place:
1. `protocol_rows` writes each subject's records as the protocol wants them (the SUBJECTS table holds
   the timeline: consent, enrolment, screening tests, infusion days, follow-up results);
2. `plant` changes, adds or drops rows, one commented block per planted deviation or not-evaluable
   case (`PLANT`), then the near misses that must NOT fire (`NEAR MISS`);
3. rows are sorted by date, then subject, and written with one column per field of the vocabulary.

examples/README.md tells the story; examples/expected.csv lists the findings, written by hand.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "jk500_visits.csv"
CUTOFF = dt.date(2025, 1, 22)  # the latest record: JK500-01-012's fifth infusion

# Base columns, then every field of protocol.rules' vocabulary, in the order the events declare them.
# Shared names share a column: `dose` (cyclophosphamide, fludarabine, il2, infusion), `time` (il2,
# infusion), `result` (lab: a number; response: CR/CRi/PR/SD/PD), `dose_group` (enrolment, src_decision).
COLUMNS = [
    "study", "site", "subject", "date", "event",
    "birth_date", "signed_by",                                  # consent
    "dose_group", "weight",                                     # enrolment (dose_group also src_decision)
    "eligible", "active_infection", "surgery_planned",          # screening
    "disease", "classification", "cns_leukemia",                # diagnosis
    "standard_inductions", "cr_date", "relapse_date",           # disease_history
    "condition", "significant",                                 # medical_history
    "procedure", "major",                                       # surgery
    "trial",                                                    # other_trial
    "test", "positive", "result", "uln",                        # serology, lab (result also response)
    "vaccine", "live_attenuated",                               # vaccination
    "dose", "time",                                             # cyclophosphamide, fludarabine, il2, infusion
    "term", "grade", "grading",                                 # adverse_event
    "status",                                                   # mrd
    "reason",                                                   # discontinuation
    "decision",                                                 # src_decision
]

# Order of a subject's events on one day (after date and subject): consent first, IL-2 before infusion.
EVENT_ORDER = ["src_decision", "consent", "screening", "diagnosis", "disease_history", "medical_history",
               "other_trial", "surgery", "serology", "lab", "vaccination", "enrolment", "cyclophosphamide",
               "fludarabine", "il2", "infusion", "adverse_event", "response", "mrd", "discontinuation"]

NOMINAL = {1: "1000000", 2: "5000000", 3: "30000000"}  # cells/kg per infusion, by dose group
SEROLOGY = ["HIV-Ab", "HBsAg", "HBeAg", "HCV-Ab", "TP-Ab"]
IL2_LEAD = [45, 40, 50, 45, 40, 50]  # minutes between IL-2 and the infusion's start, by infusion number


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def add_months(value: dt.date, months: int) -> dt.date:
    year, month = divmod(value.month - 1 + months, 12)
    year, month = value.year + year, month + 1
    return dt.date(year, month, min(value.day, calendar.monthrange(year, month)[1]))


def clock(text: str, minutes: int) -> str:
    t = dt.datetime.combine(dt.date(2000, 1, 1), dt.time.fromisoformat(text)) + dt.timedelta(minutes=minutes)
    return t.strftime("%H:%M")


@dataclass
class Subject:
    number: str
    group: int
    born: str
    consent: str
    signer: str
    enrolment: str
    weight: str
    infusions: list[str]               # JK500 infusion days (the README's timeline)
    start: str                         # infusion start time
    tests: str                         # screening serology and labs (28 days before the first infusion)
    screening: str                     # investigator's checklist; the disease history is recorded that day
    diagnosed: str
    history: tuple[int, str, str]      # standard inductions, CR date, relapse date ("" = none)
    labs: dict[str, tuple[str, str]]   # test -> (result, uln)
    responses: list[str]               # response at each follow-up assessment (MRD negative after CR)

    @property
    def id(self) -> str:
        return f"JK500-01-{self.number}"

    @property
    def first(self) -> dt.date:
        return d(self.infusions[0])


NORMAL_LABS = {"creatinine": ("41", "62"), "bilirubin": ("9", "21"), "AST": ("28", "40"), "ALT": ("24", "40")}


def labs(**changes: tuple[str, str]) -> dict[str, tuple[str, str]]:
    return {**NORMAL_LABS, **changes}


REFRACTORY = (2, "", "")  # two standard inductions, never in CR

SUBJECTS = [
    # dose group 1 (1e6 cells/kg): 001, 003, 002, 004 in order of starting
    Subject("001", 1, "2014-03-12", "2024-01-02", "guardian", "2024-01-10", "28.4",
            ["2024-02-05", "2024-02-07", "2024-02-09", "2024-02-12", "2024-02-14", "2024-02-16"], "10:00",
            "2024-01-08", "2024-01-09", "2023-03-02", REFRACTORY, labs(creatinine=("38", "62")),
            ["PR", "CR", "CR", "CR"]),
    Subject("002", 1, "2012-07-30", "2024-01-22", "guardian", "2024-01-29", "38.0",
            ["2024-03-04", "2024-03-06", "2024-03-08", "2024-03-11", "2024-03-13", "2024-03-17"], "10:30",
            "2024-02-20", "2024-01-26", "2022-11-14", (2, "2023-03-06", "2023-08-21"), labs(AST=("38", "40")),
            ["CRi", "CR", "CR", "CR"]),
    Subject("003", 1, "2017-10-05", "2024-01-15", "guardian", "2024-01-22", "19.6",
            ["2024-02-19", "2024-02-21", "2024-02-23", "2024-02-26", "2024-02-28", "2024-03-01"], "09:30",
            "2024-01-23", "2024-01-19", "2023-05-08", REFRACTORY, labs(creatinine=("33", "53")),
            ["SD", "PR", "PR"]),
    Subject("004", 1, "2006-03-25", "2024-02-19", "guardian", "2024-02-26", "61.2",
            ["2024-03-18", "2024-03-20", "2024-03-22", "2024-03-25", "2024-03-27", "2024-03-29"], "11:00",
            "2024-02-20", "2024-02-23", "2023-04-11", REFRACTORY, labs(),
            ["PR", "CRi", "CR", "CR"]),
    # dose group 2 (5e6 cells/kg)
    Subject("005", 2, "2019-01-22", "2024-03-18", "guardian", "2024-03-25", "15.8",
            ["2024-04-15", "2024-04-17", "2024-04-19", "2024-04-22", "2024-04-24", "2024-04-26"], "09:00",
            "2024-03-20", "2024-03-25", "2022-12-05", (2, "2023-03-20", "2023-08-14"), labs(creatinine=("29", "44")),
            ["CR", "CR", "CR", "CR"]),
    Subject("006", 2, "2015-09-08", "2024-04-08", "guardian", "2024-04-15", "24.1",
            ["2024-04-29", "2024-05-01", "2024-05-03", "2024-05-06", "2024-05-08", "2024-05-10"], "09:00",
            "2024-04-08", "2024-04-12", "2023-06-19", REFRACTORY, labs(),
            ["PR", "PR", "SD", "SD"]),
    Subject("007", 2, "2005-04-16", "2024-04-15", "subject", "2024-04-22", "58.7",
            ["2024-05-13", "2024-05-15", "2024-05-17", "2024-05-20", "2024-05-22", "2024-05-24"], "10:00",
            "2024-04-17", "2024-04-19", "2023-02-27", (1, "2023-05-15", "2023-10-30"), labs(),
            ["SD", "SD", "PR", "PR"]),
    Subject("008", 2, "2010-11-30", "2024-05-06", "guardian", "2024-05-13", "41.5",
            ["2024-06-03", "2024-06-05", "2024-06-07", "2024-06-10", "2024-06-12", "2024-06-14"], "10:30",
            "2024-05-08", "2024-05-10", "2023-03-20", REFRACTORY, labs(),
            ["CRi", "CR", "CR"]),
    # dose group 3 (3e7 cells/kg)
    Subject("009", 3, "2005-06-03", "2024-06-03", "subject", "2024-06-10", "66.0",
            ["2024-07-01", "2024-07-03", "2024-07-05", "2024-07-08", "2024-07-10", "2024-07-12"], "09:30",
            "2024-06-05", "2024-06-07", "2023-08-14", REFRACTORY, labs(creatinine=("71", "90")),
            ["PR", "PR", "SD"]),
    Subject("010", 3, "2013-02-14", "2024-06-17", "guardian", "2024-06-24", "33.2",
            ["2024-07-15", "2024-07-17", "2024-07-19", "2024-07-22", "2024-07-24", "2024-07-26"], "09:00",
            "2024-06-19", "2024-06-21", "2023-09-11", (2, "2023-12-04", "2024-04-22"), labs(),
            ["CR", "CR", "CR"]),
    Subject("011", 3, "2016-12-01", "2024-07-15", "guardian", "2024-07-22", "21.9",
            ["2024-08-07", "2024-08-09", "2024-08-11", "2024-08-12", "2024-08-14", "2024-08-16"], "10:00",
            "2024-07-16", "2024-07-18", "2023-07-03", (1, "2023-11-20", "2024-04-30"), labs(),
            ["PR", "PR"]),
    Subject("012", 3, "2011-05-19", "2024-12-09", "guardian", "2024-12-16", "44.0",
            ["2025-01-13", "2025-01-15", "2025-01-17", "2025-01-20", "2025-01-22"], "09:30",
            "2024-12-18", "2024-12-13", "2024-01-22", (2, "2024-05-13", "2024-10-28"), labs(),
            []),
]

# Records that are part of the story but not of the protocol's schedule (vaccines, history, AEs).
VACCINATIONS = [  # subject, date, vaccine, live attenuated
    ("001", "2023-05-10", "MMR", "yes"),                       # 271 days before the first infusion
    ("007", "2023-09-14", "HPV", "no"),
    ("001", "2023-10-16", "influenza (inactivated)", "no"),
    ("003", "2023-11-20", "DTaP-IPV", "no"),
    ("009", "2024-01-18", "influenza (inactivated)", "no"),
    ("005", "2024-04-05", "influenza (inactivated)", "no"),    # 10 days before the first infusion, not live
    ("010", "2024-05-02", "MMR", "yes"),                       # 74 days before the first infusion
    ("012", "2024-10-21", "COVID-19 (mRNA)", "no"),
    ("012", "2024-11-04", "influenza (inactivated)", "no"),
]
MEDICAL_HISTORY = [  # subject, date of onset, condition, clinically significant
    ("003", "2019-05-01", "asthma", "no"),
    ("010", "2023-12-01", "invasive pulmonary aspergillosis", "yes"),  # long before the 28 days
]
ADVERSE_EVENTS = [  # subject, onset, term, grade, grading: all CTCAE 5.0 unless planted
    ("001", "2024-02-10", "febrile neutropenia", "3"),
    ("002", "2024-02-28", "nausea", "1"),                      # during lymphodepletion
    ("003", "2024-02-21", "infusion related reaction", "1"),
    ("005", "2024-04-16", "fever", "1"),
    ("007", "2024-05-20", "neutrophil count decreased", "4"),
    ("008", "2024-06-10", "platelet count decreased", "3"),
    ("009", "2024-07-09", "cytokine release syndrome", "3"),
    ("010", "2024-07-30", "fatigue", "1"),
    ("011", "2024-08-13", "fever", "2"),
    ("012", "2025-01-14", "fever", "1"),
]
SRC_DECISIONS = [  # date, dose group the decision is about, decision
    ("2024-04-01", "2", "hold"),
    ("2024-04-15", "2", "escalate"),
    ("2024-06-21", "3", "escalate"),
]


# ----- step 1: the protocol's schedule ----------------------------------------------------------------


def row(subject: str | None, date: str | dt.date, event: str, **fields: str) -> dict[str, str]:
    record = dict.fromkeys(COLUMNS, "")
    record.update(study="JK500", site="01" if subject else "", subject=f"JK500-01-{subject}" if subject else "",
                  date=str(date), event=event)
    for name, value in fields.items():
        assert name in COLUMNS, name
        record[name] = value
    return record


def assessments(s: Subject) -> list[dt.date]:
    """Day 28, then two weeks into each later 3-month follow-up window, up to the cut-off."""
    dates = [s.first + dt.timedelta(days=28)]
    k = 1
    while (nxt := add_months(s.first, 3 * k) + dt.timedelta(days=14)) <= CUTOFF:
        dates.append(nxt)
        k += 1
    return [a for a in dates if a <= CUTOFF]


def protocol_rows(s: Subject) -> list[dict[str, str]]:
    n = s.number
    rows = [
        row(n, s.consent, "consent", birth_date=s.born, signed_by=s.signer),
        row(n, s.screening, "screening", eligible="yes", active_infection="no", surgery_planned="no"),
        row(n, s.diagnosed, "diagnosis", disease="AML", classification="WHO 2016", cns_leukemia="no"),
        row(n, s.screening, "disease_history", standard_inductions=str(s.history[0]),
            cr_date=s.history[1], relapse_date=s.history[2]),
        row(n, s.enrolment, "enrolment", dose_group=str(s.group), weight=s.weight),
    ]
    rows += [row(n, s.tests, "serology", test=test, positive="no") for test in SEROLOGY]
    rows += [row(n, s.tests, "lab", test=test, result=result, uln=uln) for test, (result, uln) in s.labs.items()]
    # Central line two days before lymphodepletion: minor surgery.
    rows.append(row(n, s.first - dt.timedelta(days=9), "surgery", procedure="central venous catheter insertion",
                    major="no"))
    rows.append(row(n, s.first - dt.timedelta(days=7), "cyclophosphamide", dose="60"))
    rows += [row(n, s.first - dt.timedelta(days=day), "fludarabine", dose="25") for day in range(6, 1, -1)]
    for i, day in enumerate(s.infusions):
        rows.append(row(n, day, "il2", dose="100", time=clock(s.start, -IL2_LEAD[i])))
        rows.append(row(n, day, "infusion", dose=NOMINAL[s.group], time=s.start))
    for when, result in zip(assessments(s), s.responses + s.responses[-1:] * 8):
        rows.append(row(n, when, "response", result=result))
        rows.append(row(n, when, "mrd", status="negative" if result == "CR" else "positive"))
    return rows


# ----- step 2: plants -------------------------------------------------------------------------------


@dataclass
class Log:
    rows: list[dict[str, str]] = field(default_factory=list)

    def find(self, subject: str, date: str, event: str, /, **match: str) -> dict[str, str]:
        """The one row of that subject, date and event (and field values): planting never guesses."""
        hits = [r for r in self.rows if r["subject"] == f"JK500-01-{subject}" and r["date"] == date
                and r["event"] == event and all(r[k] == v for k, v in match.items())]
        assert len(hits) == 1, (subject, date, event, match, len(hits))
        return hits[0]

    def set(self, subject: str, date: str, event: str, match: dict[str, str] | None = None, /, **values: str) -> None:
        record = self.find(subject, date, event, **(match or {}))
        for name, value in values.items():
            assert name in COLUMNS, name
            record[name] = value

    def drop(self, subject: str, date: str, event: str, /, **match: str) -> None:
        self.rows.remove(self.find(subject, date, event, **match))

    def add(self, subject: str | None, date: str, event: str, **fields: str) -> None:
        self.rows.append(row(subject, date, event, **fields))


def plant(log: Log) -> None:
    # ===== deviations kept from the six-rule example ==================================================

    # PLANT JK500-ELIG-AGE: 009 born 2005-06-03, consented on the 19th birthday (the row is in SUBJECTS).
    # PLANT JK500-EXCL-LIVE-VACCINE: 006's live varicella vaccine exactly 28 days before the first infusion.
    log.add("006", "2024-04-01", "vaccination", vaccine="varicella", live_attenuated="yes")
    # PLANT JK500-TRT-WEEKLY: 008's sixth infusion was given on Thursday 2024-06-06 instead of Friday
    # 06-14: Mon 06-03, Wed 06-05, Thu 06-06, Fri 06-07 (4 in the week), then Mon 06-10, Wed 06-12.
    for event in ("il2", "infusion"):
        log.set("008", "2024-06-14", event, date="2024-06-06")
    # PLANT JK500-TRT-TOTAL: 010's Wednesday 2024-07-24 infusion was not given: 5 in all.
    # PLANT JK500-TRT-IL2-WITH-INFUSION: ... but 010's IL-2 of that day was (08:20, no infusion after it).
    log.drop("010", "2024-07-24", "infusion")
    # PLANT JK500-TRT-DOSE: 003 at -12 % and 009 at +10.3 % of the nominal dose.
    log.set("003", "2024-02-26", "infusion", dose="880000")
    log.set("009", "2024-07-08", "infusion", dose="33100000")
    # PLANT JK500-ESC-SRC-GATE: group 3's escalation on 2024-06-21 = 007's last infusion + 28 days
    # (SRC_DECISIONS), not strictly after the DLT window.

    # ===== eligibility ================================================================================

    # PLANT JK500-ELIG-DIAGNOSIS: 002's AML was classified by the WHO 2008 criteria, not WHO 2016.
    log.set("002", "2022-11-14", "diagnosis", classification="WHO 2008")
    # PLANT JK500-ELIG-REFRACTORY: 005 relapsed 8 months after CR (2023-03-20 -> 2023-11-27).
    log.set("005", "2024-03-25", "disease_history", relapse_date="2023-11-27")
    # PLANT JK500-CONSENT-SIGNER: 012's consent was signed by the grandmother, not the subject or guardian.
    log.set("012", "2024-12-09", "consent", signed_by="grandmother")
    # PLANT JK500-CONSENT-FIRST: 011's screening bloods were drawn on 2024-07-12, three days before the
    # consent of 2024-07-15 (still inside the 28-day screening period before 2024-08-07).
    for test in SEROLOGY:
        log.set("011", "2024-07-16", "serology", {"test": test}, date="2024-07-12")
    for test in NORMAL_LABS:
        log.set("011", "2024-07-16", "lab", {"test": test}, date="2024-07-12")
    # PLANT JK500-EXCL-LEUKEMIA-TYPE: 004 had CNS leukemia at diagnosis.
    log.set("004", "2023-04-11", "diagnosis", cns_leukemia="yes")
    # PLANT JK500-EXCL-CONGENITAL: 001 has Down syndrome (medical history dated at birth).
    log.add("001", "2014-03-12", "medical_history", condition="Down syndrome", significant="yes")
    # PLANT JK500-EXCL-VIROLOGY: 008's hepatitis C antibody was positive at screening.
    log.set("008", "2024-05-08", "serology", {"test": "HCV-Ab"}, positive="yes")
    # PLANT JK500-EXCL-INFECTION: 003's screening checklist records an active systemic infection.
    log.set("003", "2024-01-19", "screening", active_infection="yes")
    # PLANT JK500-EXCL-OTHER-TRIAL: 006's last dose in another drug trial, 24 days before the first infusion.
    log.add("006", "2024-04-05", "other_trial", trial="oral FLT3 inhibitor, phase 1")
    # PLANT JK500-EXCL-RECENT-DISEASE: 007's acute pancreatitis, 15 days before the first infusion.
    log.add("007", "2024-04-28", "medical_history", condition="acute pancreatitis", significant="yes")
    # PLANT JK500-EXCL-RECENT-SURGERY: 011's appendicectomy, 14 days before the first infusion.
    log.add("011", "2024-07-24", "surgery", procedure="laparoscopic appendicectomy", major="yes")
    # PLANT JK500-EXCL-PLANNED-SURGERY: 010's screening checklist expects major (orthopaedic) surgery.
    log.set("010", "2024-06-21", "screening", surgery_planned="yes")
    # PLANT JK500-EXCL-CREATININE: 007's creatinine 150 with ULN 70 (2.14x).
    log.set("007", "2024-04-17", "lab", {"test": "creatinine"}, result="150", uln="70")
    # PLANT JK500-EXCL-BILIRUBIN: 012's total bilirubin 48 with ULN 21 (2.29x).
    log.set("012", "2024-12-18", "lab", {"test": "bilirubin"}, result="48", uln="21")
    # PLANT JK500-EXCL-TRANSAMINASES: 002's ALT 95 with ULN 40 (2.38x); its AST is normal.
    log.set("002", "2024-02-20", "lab", {"test": "ALT"}, result="95")
    # PLANT JK500-EXCL-TRANSAMINASES: 011's AST 96 and ALT 88 with ULN 40: one breach of one criterion,
    # one finding with both results as its evidence.
    log.set("011", "2024-07-12", "lab", {"test": "AST"}, result="96")
    log.set("011", "2024-07-12", "lab", {"test": "ALT"}, result="88")
    # PLANT JK500-EXCL-LIVE-VACCINE-AFTER: 004's live MMR vaccine on 2024-08-20, less than 6 months after
    # the last infusion (2024-03-29).
    log.add("004", "2024-08-20", "vaccination", vaccine="MMR", live_attenuated="yes")
    # PLANT JK500-ELIG-CONFIRMED: 008's screening checklist is dated 2024-05-15, after enrolment (05-13).
    log.set("008", "2024-05-10", "screening", date="2024-05-15")

    # ===== lymphodepletion and IL-2 ===================================================================

    # PLANT JK500-TRT-CY-DAY: 001's cyclophosphamide on day -8 (2024-01-28) instead of day -7.
    log.set("001", "2024-01-29", "cyclophosphamide", date="2024-01-28")
    # PLANT JK500-TRT-CY-ONCE: 002 had a second cyclophosphamide dose in error on day -6 (2024-02-27).
    log.add("002", "2024-02-27", "cyclophosphamide", dose="60")
    # PLANT JK500-TRT-CY-DOSE: 010's cyclophosphamide 70 mg/kg (+16.7 %).
    log.set("010", "2024-07-08", "cyclophosphamide", dose="70")
    # PLANT JK500-TRT-FLU-DAYS: 012's first fludarabine on day -7 (2025-01-06, with cyclophosphamide),
    # not day -6; five doses, one a day.
    log.set("012", "2025-01-07", "fludarabine", date="2025-01-06")
    # PLANT JK500-TRT-FLU-EACH-DAY: 007's day -2 fludarabine (2024-05-11) was not given: four doses.
    log.drop("007", "2024-05-11", "fludarabine")
    # PLANT JK500-TRT-FLU-DAILY: 011's day -3 dose given on day -4 as well: two on 2024-08-03, none on
    # 08-04; five doses in all, all within days -6 to -2.
    log.set("011", "2024-08-04", "fludarabine", date="2024-08-03")
    # PLANT JK500-TRT-FLU-DOSE: 004's day -4 fludarabine 30 mg/m2 (+20 %).
    log.set("004", "2024-03-14", "fludarabine", dose="30")
    # PLANT JK500-TRT-IL2-TIMING: 005's IL-2 at 07:45 on 2024-04-22, 75 minutes before the 09:00 infusion.
    log.set("005", "2024-04-22", "il2", time="07:45")
    # PLANT JK500-TRT-IL2-DAILY: 007 had IL-2 twice on 2024-05-17, at 09:10 and again at 09:40 (the 10:00
    # infusion has its IL-2 50 minutes before, so IL-2 timing is met).
    log.add("007", "2024-05-17", "il2", dose="100", time="09:40")
    # PLANT JK500-TRT-IL2-DOSE: 009's IL-2 150 WU/m2 on 2024-07-03 (+50 %).
    log.set("009", "2024-07-03", "il2", dose="150")

    # ===== safety and follow-up =======================================================================

    # PLANT JK500-SAF-AE-GRADED: 006's rash in the DLT window graded by CTCAE 4.03, not 5.0.
    log.add("006", "2024-05-02", "adverse_event", term="rash maculo-papular", grade="2", grading="CTCAE 4.03")
    # PLANT JK500-FU-RESPONSE: 005 has no response assessment in its 2nd window (2024-07-15 to 10-14);
    # the bone-marrow MRD of 2024-07-29 was done.
    log.drop("005", "2024-07-29", "response")
    # PLANT JK500-FU-MRD: 001 has no MRD assessment in its 2nd window (2024-05-05 to 08-04).
    log.drop("001", "2024-05-19", "mrd")

    # ===== discontinuations (excuses, not findings) ===================================================

    # 009 stopped treatment for toxicity (cytokine release syndrome, grade 3) after the 4th infusion: the
    # 07-10 and 07-12 infusions were not given. Excused from six infusions; stays in follow-up.
    for day in ("2024-07-10", "2024-07-12"):
        log.drop("009", day, "il2")
        log.drop("009", day, "infusion")
    log.add("009", "2024-07-09", "discontinuation", reason="toxicity")
    # 003 withdrew on 2024-09-02: the response of 2024-08-26 was assessed, the marrow for MRD was declined;
    # the 3rd window (2024-08-19 to 11-18) is excused for MRD, and every later window for both.
    log.set("003", "2024-09-02", "response", date="2024-08-26")
    log.drop("003", "2024-09-02", "mrd")
    log.drop("003", "2024-12-03", "response")
    log.drop("003", "2024-12-03", "mrd")
    log.add("003", "2024-09-02", "discontinuation", reason="withdrew")

    # ===== not evaluable: a value the rule reads is missing ===========================================

    # PLANT not_evaluable JK500-CONSENT-SIGNER: 003's consent does not say who signed it.
    log.set("003", "2024-01-15", "consent", signed_by="")
    # PLANT not_evaluable JK500-EXCL-LEUKEMIA-TYPE: 010's diagnosis does not record the CNS status.
    log.set("010", "2023-09-11", "diagnosis", cns_leukemia="")
    # PLANT not_evaluable JK500-EXCL-VIROLOGY: 002 had no treponema pallidum antibody test.
    log.drop("002", "2024-02-20", "serology", test="TP-Ab")
    # PLANT not_evaluable JK500-EXCL-BILIRUBIN: 006's bilirubin was recorded without its ULN.
    log.set("006", "2024-04-08", "lab", {"test": "bilirubin"}, uln="")
    # PLANT not_evaluable JK500-TRT-IL2-TIMING: 011's IL-2 of 2024-08-12 has no time.
    log.set("011", "2024-08-12", "il2", time="")
    # PLANT not_evaluable JK500-ELIG-REFRACTORY: 008 never reached CR, but the history does not give the
    # number of standard inductions.
    log.set("008", "2024-05-10", "disease_history", standard_inductions="")

    # ===== near misses: each sits on a rule's edge and must NOT fire ==================================

    # NEAR MISS JK500-TRT-DOSE: 005 at exactly +10 %, 001 at exactly -10 %.
    log.set("005", "2024-04-19", "infusion", dose="5500000")
    log.set("001", "2024-02-14", "infusion", dose="900000")
    # NEAR MISS JK500-ELIG-AGE: 007 consented the day before the 19th birthday (SUBJECTS); 004, consented by
    # the guardian at 17, re-consented on the 18th birthday: each consent is checked.
    log.add("004", "2024-03-25", "consent", birth_date="2006-03-25", signed_by="subject")
    # NEAR MISS JK500-EXCL-LIVE-VACCINE: 011's live varicella vaccine 29 days before the first infusion.
    log.add("011", "2024-07-09", "vaccination", vaccine="varicella", live_attenuated="yes")
    # NEAR MISS JK500-ELIG-REFRACTORY: 011 relapsed exactly 6 months after CR (2023-11-20 -> 2024-05-20).
    log.set("011", "2024-07-18", "disease_history", relapse_date="2024-05-20")
    # NEAR MISS JK500-CONSENT-FIRST: 006's screening bloods drawn on the day of consent (2024-04-08).
    # (dates in SUBJECTS)
    # NEAR MISS JK500-ELIG-CONFIRMED: 005's checklist on the day of enrolment (2024-03-25). (SUBJECTS)
    # NEAR MISS JK500-EXCL-VIROLOGY: 001's serology on 2024-01-08, exactly 28 days before the first
    # infusion. (SUBJECTS)
    # NEAR MISS JK500-EXCL-OTHER-TRIAL: 010's last dose in another trial 29 days before the first infusion.
    log.add("010", "2024-06-16", "other_trial", trial="venetoclax combination, phase 1/2")
    # NEAR MISS JK500-EXCL-RECENT-DISEASE: 005's significant bacteraemia 29 days before the first infusion;
    # 009's oral mucositis 11 days before, not clinically significant.
    log.add("005", "2024-03-17", "medical_history", condition="Klebsiella pneumoniae bacteraemia",
            significant="yes")
    log.add("009", "2024-06-20", "medical_history", condition="oral mucositis", significant="no")
    # NEAR MISS JK500-EXCL-RECENT-SURGERY: every central line (9 days before the first infusion) is minor.
    # NEAR MISS JK500-EXCL-CREATININE: 004's creatinine exactly 2x ULN (176.8 with ULN 88.4).
    log.set("004", "2024-02-20", "lab", {"test": "creatinine"}, result="176.8", uln="88.4")
    # NEAR MISS JK500-EXCL-BILIRUBIN: 003's high bilirubin (50, ULN 21) on 2024-01-21, the day before the
    # 28-day screening period; the repeat of 2024-01-23 is normal.
    log.add("003", "2024-01-21", "lab", test="bilirubin", result="50", uln="21")
    # NEAR MISS JK500-EXCL-LIVE-VACCINE-AFTER: 005's live varicella vaccine 6 months and 1 day after the
    # last infusion (2024-04-26 -> 2024-10-27).
    log.add("005", "2024-10-27", "vaccination", vaccine="varicella", live_attenuated="yes")
    # NEAR MISS JK500-TRT-FLU-DOSE: 002's day -4 fludarabine at exactly +10 % (27.5 mg/m2).
    log.set("002", "2024-02-29", "fludarabine", dose="27.5")
    # NEAR MISS JK500-TRT-IL2-TIMING: 006's IL-2 exactly 30 minutes before the 2024-05-06 infusion (09:00),
    # 010's exactly 60 minutes before the 2024-07-19 infusion (09:00).
    log.set("006", "2024-05-06", "il2", time="08:30")
    log.set("010", "2024-07-19", "il2", time="08:00")
    # NEAR MISS JK500-SAF-AE-GRADED: ungraded AEs just outside the DLT window: 004's vomiting during
    # lymphodepletion (before the first infusion), 007's headache 29 days after the last infusion.
    log.add("004", "2024-03-13", "adverse_event", term="vomiting")
    log.add("007", "2024-06-22", "adverse_event", term="headache")
    # NEAR MISS (in the tables above): JK500-TRT-WEEKLY, 011 starts on a Wednesday (3 + 3 infusions in
    # Monday weeks, 4 in a Sunday week or a rolling 7 days); JK500-TRT-TOTAL, 012 has 5 infusions, still in
    # treatment at the cut-off; JK500-ESC-SRC-GATE, group 2's escalation on 2024-04-15, the day after
    # 002's last infusion + 28 days and the day group 2 opens (SRC_DECISIONS); JK500-EXCL-LIVE-VACCINE,
    # live MMR for 001 and 010 long before, inactivated influenza for 005 10 days before (VACCINATIONS).
    # NEAR MISS JK500-FU-RESPONSE: 002's first-window response on the window's last day (2024-06-03)
    # instead of day 28; the day-28 MRD stays.
    log.set("002", "2024-04-01", "response", date="2024-06-03")


# ----- step 3: sort and write -------------------------------------------------------------------------


def sort_key(r: dict[str, str]) -> tuple:
    return (r["date"], r["subject"], EVENT_ORDER.index(r["event"]), r["time"], r["test"])


def build() -> str:
    log = Log()
    for s in SUBJECTS:
        log.rows += protocol_rows(s)
    for subject, date, vaccine, live in VACCINATIONS:
        log.add(subject, date, "vaccination", vaccine=vaccine, live_attenuated=live)
    for subject, date, condition, significant in MEDICAL_HISTORY:
        log.add(subject, date, "medical_history", condition=condition, significant=significant)
    for subject, date, term, grade in ADVERSE_EVENTS:
        log.add(subject, date, "adverse_event", term=term, grade=grade, grading="CTCAE 5.0")
    for date, group, decision in SRC_DECISIONS:
        log.add(None, date, "src_decision", dose_group=group, decision=decision)
    plant(log)
    rows = sorted(log.rows, key=sort_key)
    assert max(r["date"] for r in rows) == CUTOFF.isoformat(), "the cut-off is the latest record"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name} is {'up to date' if same else 'out of date: run without --check'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
