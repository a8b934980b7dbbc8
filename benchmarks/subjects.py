"""The benchmark trial's timeline and each subject's records, planted deviations included.

The trial timeline keeps the escalation gate honest: three sentinel subjects open each dose group
one week apart, the SRC decides to escalate 35 days after the previous group's third subject's
last infusion, and every other subject starts later, on a Monday, at three infusions a week.
Every subject is followed up for the full 24 months, so no follow-up window lacks an assessment
(windows still open at the log's last date are pending, not findings).

A subject that is not a sentinel may carry one planted deviation, each found by exactly one rule
(PLANTED_RULE; a lab deviation by the rule of the lab's test); with deviations on, the gate for dose
group 3 is decided inside the DLT window (one trial-level finding).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from .sorted_rows import SortedRows

NOMINAL_DOSE = {1: 1_000_000, 2: 5_000_000, 3: 30_000_000}  # cells/kg, as in protocol.rules
# Each kind of planted deviation and the one rule that finds it ("lab_uln": see LAB_RULE).
PLANTED_RULE = {
    "age": "JK500-ELIG-AGE",
    "live_vaccine": "JK500-EXCL-LIVE-VACCINE",
    "weekly": "JK500-TRT-WEEKLY",
    "total": "JK500-TRT-TOTAL",
    "dose": "JK500-TRT-DOSE",
    "il2_timing": "JK500-TRT-IL2-TIMING",
    "lab_uln": None,
    "fludarabine_day": "JK500-TRT-FLU-DAYS",
    "ae_grading": "JK500-SAF-AE-GRADED",
    "src_gate": "JK500-ESC-SRC-GATE",  # trial level, not drawn per subject
}
DEVIATIONS = tuple(kind for kind in PLANTED_RULE if kind != "src_gate")

T0 = dt.date(2019, 1, 7)  # a Monday: the first infusion of the trial
ENROLMENT_SPAN_DAYS = 5 * 365
INFUSION_DAYS = (0, 2, 4, 7, 9, 11)  # Mon Wed Fri, two weeks
ASSESSMENT_MONTHS = 3  # assessment_interval in protocol.rules
FOLLOW_UP_WINDOWS = 8  # follow_up_period / assessment_interval: 24 months
SEROLOGY_TESTS = ("HIV-Ab", "HBsAg", "HBeAg", "HCV-Ab", "TP-Ab")
# test, unit, low, upper limit of normal; the first four are the ones rules read
LAB_TESTS = (("creatinine", "umol/L", 20, 80), ("bilirubin", "umol/L", 3, 20), ("AST", "U/L", 5, 40),
             ("ALT", "U/L", 5, 40), ("ANC", "10^9/L", 1.5, 8.0), ("platelets", "10^9/L", 150, 400),
             ("CRP", "mg/L", 0.5, 5))
READ_LAB_TESTS = LAB_TESTS[:4]  # the tests the screening-lab rules read
LAB_RULE = {"creatinine": "JK500-EXCL-CREATININE", "bilirubin": "JK500-EXCL-BILIRUBIN",
            "AST": "JK500-EXCL-TRANSAMINASES", "ALT": "JK500-EXCL-TRANSAMINASES"}
CONDITIONS = ("asthma", "eczema", "otitis media", "febrile neutropenia", "pneumonia", "iron deficiency",
              "migraine", "appendicitis")
AE_TERMS = ("fever", "neutropenia", "thrombocytopenia", "nausea", "headache", "rash", "fatigue",
            "cytokine release syndrome", "hypotension", "infection", "anaemia", "vomiting")
INACTIVATED = ("influenza (inactivated)", "DTaP", "hepatitis B", "pneumococcal conjugate", "meningococcal")
LIVE = ("MMR", "varicella", "rotavirus", "BCG")
RESPONSES = ("CR", "CRi", "PR", "SD", "PD")


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(-day.weekday()) % 7)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped at the month's end (as the audit's date arithmetic does)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _fmt(x: float, places: int) -> str:
    return f"{x:.{places}f}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class Plan:
    subject: str
    site: str
    group: int
    first: dt.date  # first infusion
    sentinel: bool
    deviation: str | None = None


def timeline(n_subjects: int, rng: random.Random, deviations: bool) -> tuple[list[Plan], list[tuple]]:
    """Subjects' dose groups and first infusions, and the SRC decisions that open the groups."""
    sites = [f"{s:02d}" for s in range(1, 1 + max(1, min(40, n_subjects // 25 + 1)))]
    plans: list[Plan] = []
    decisions: list[tuple[dt.date, int, str]] = []
    open_day = {1: T0}
    # Sentinels: 3 per group, one week apart; the next group opens 35 days after the third's last infusion.
    sentinel_count = min(n_subjects, 9)
    for i in range(sentinel_count):
        group, k = i // 3 + 1, i % 3
        if group not in open_day:
            break
        first = open_day[group] + dt.timedelta(days=7 * k)
        plans.append(Plan("", rng.choice(sites), group, first, True))
        if k == 2 and group < 3:
            third_last = first + dt.timedelta(days=INFUSION_DAYS[-1])
            gate = third_last + dt.timedelta(days=28 + 7)
            decisions.append((third_last + dt.timedelta(days=10), group + 1, "hold"))
            if deviations and group + 1 == 3:
                # Planted trial-level deviation: the SRC decided inside the DLT window.
                decisions.append((third_last + dt.timedelta(days=20), group + 1, "escalate"))
            else:
                decisions.append((gate, group + 1, "escalate"))
            open_day[group + 1] = _monday_on_or_after(gate)
    end = T0 + dt.timedelta(days=ENROLMENT_SPAN_DAYS)
    for _ in range(n_subjects - len(plans)):
        group = rng.choice([g for g in (1, 2, 3) if g in open_day])
        start = open_day[group] + dt.timedelta(days=21)
        first = _monday_on_or_after(start + dt.timedelta(days=rng.randrange(max(1, (end - start).days))))
        plans.append(Plan("", rng.choice(sites), group, first, False))
    plans.sort(key=lambda p: (p.first, p.site))
    counters: Counter = Counter()
    for p in plans:
        counters[p.site] += 1
        p.subject = f"{p.site}-{counters[p.site]:04d}"
    return plans, decisions


def write_subject(w: SortedRows, p: Plan, rng: random.Random) -> str | None:
    """Write one subject's records; return the rule that should find its planted deviation, if any."""
    f = p.first
    day = lambda offset: f + dt.timedelta(days=offset)  # noqa: E731
    add = lambda date, event, **values: w.add(p.site, p.subject, date, event, **values)  # noqa: E731
    expected = PLANTED_RULE.get(p.deviation) if p.deviation else None

    # Consent 14 to 24 days before the first infusion; screening (checklist, serology, labs) 0 to 3
    # days after consent, so inside the 28-day screening period; enrolment 0 to 2 days later.
    consent = day(-rng.randint(14, 24))
    screening = consent + dt.timedelta(days=rng.randint(0, 3))
    enrol = screening + dt.timedelta(days=rng.randint(0, 2))
    if p.deviation == "age":
        birth = consent - dt.timedelta(days=rng.randint(19 * 366, 20 * 365))  # 19 completed years
    else:
        birth = consent - dt.timedelta(days=rng.randint(2 * 366, 17 * 365))
    age_years = (consent - birth).days / 365.25
    weight = max(9.0, min(80.0, 8 + age_years * 3.2 + rng.gauss(0, 3)))
    signer = "subject" if age_years >= 18 else ("guardian" if age_years < 12 or rng.random() < 0.7 else "subject")
    add(consent, "consent", birth_date=birth, signed_by=signer)

    # History: AML diagnosed months before; refractory after 2-3 inductions, or relapsed 1-5 months after CR.
    if rng.random() < 0.5:
        diagnosis = consent - dt.timedelta(days=rng.randint(90, 240))
        history = {"standard_inductions": rng.choice((2, 2, 3))}
    else:
        relapse = consent - dt.timedelta(days=rng.randint(14, 40))
        cr = relapse - dt.timedelta(days=rng.randint(30, 160))
        diagnosis = cr - dt.timedelta(days=rng.randint(50, 100))
        history = {"standard_inductions": rng.choice((1, 2)), "cr_date": cr, "relapse_date": relapse}
    add(diagnosis, "diagnosis", disease="AML", classification="WHO 2016", cns_leukemia=False)
    add(screening, "disease_history", **history)
    onset = consent - dt.timedelta(days=rng.randint(60, min(700, (consent - birth).days - 30)))
    add(onset, "medical_history", condition=rng.choice(CONDITIONS), significant=rng.random() < 0.3)
    add(screening, "screening", eligible=True, active_infection=False, surgery_planned=False)
    for test in SEROLOGY_TESTS:
        add(screening, "serology", test=test, positive=False)
    bad_lab = rng.choice(tuple(LAB_RULE)) if p.deviation == "lab_uln" else None
    if bad_lab:
        expected = LAB_RULE[bad_lab]
    for test, unit, low, uln in LAB_TESTS:
        result = rng.uniform(low * 0.8, uln * 1.5)  # up to 1.5x ULN: above normal, below 2x ULN
        if test == bad_lab:
            result = rng.uniform(2.5, 4) * uln
        add(screening, "lab", test=test, result=_fmt(result, 1), uln=uln)
    add(enrol, "enrolment", dose_group=p.group, weight=_fmt(weight, 1))
    add(screening, "vital_signs", temperature=_fmt(rng.gauss(36.9, 0.3), 1), heart_rate=rng.randint(70, 130),
        systolic=rng.randint(90, 120), diastolic=rng.randint(55, 80), weight=_fmt(weight, 1))

    # Vaccines: long before consent, so never inside the 28-day window (unless planted).
    for k in range(2):
        when = consent - dt.timedelta(days=rng.randint(60, 400))
        live = rng.random() < 0.3
        if p.deviation == "live_vaccine" and k == 1:
            when, live = day(-rng.randint(1, 27)), True
        add(when, "vaccination", vaccine=rng.choice(LIVE if live else INACTIVATED), live_attenuated=live)

    # Lymphodepletion: cyclophosphamide on day -7, fludarabine on days -6 to -2, doses within 3%.
    add(day(-7), "cyclophosphamide", dose=_fmt(60 * rng.uniform(0.97, 1.03), 1))
    flu_days = [-6, -5, -4, -3, -2]
    if p.deviation == "fludarabine_day":
        flu_days.append(-1)  # a sixth dose, on day -1: each of days -6 to -2 still has its own
    for d in flu_days:
        add(day(d), "fludarabine", dose=_fmt(25 * rng.uniform(0.97, 1.03), 1))

    # Infusions between 09:00 and 14:00, each preceded the same day by IL-2 35 to 55 minutes before.
    days = list(INFUSION_DAYS)
    if p.deviation == "weekly":
        days = [0, 1, 2, 4, 9, 11]  # four in the first calendar week
    nominal = NOMINAL_DOSE[p.group]
    bad_dose = rng.randrange(6) if p.deviation == "dose" else -1
    bad_il2 = rng.randrange(6) if p.deviation == "il2_timing" else -1
    for k, d in enumerate(days):
        start = rng.randrange(9 * 60, 14 * 60, 5)
        lead = rng.randint(35, 55)
        if k == bad_il2:
            lead = rng.choice((rng.randint(5, 20), rng.randint(75, 120)))
        if p.deviation == "total" and k == len(days) - 1:
            continue  # five infusions (and IL-2 doses) instead of six
        add(day(d), "il2", dose=_fmt(100 * rng.uniform(0.97, 1.03), 0), time=_clock(start - lead))
        factor = rng.uniform(0.95, 1.05)
        if k == bad_dose:
            factor = rng.choice((0.7, 1.3))
        add(day(d), "infusion", dose=int(nominal * factor), time=_clock(start))
    add(day(0), "vital_signs", temperature=_fmt(rng.gauss(37.0, 0.4), 1), heart_rate=rng.randint(70, 130),
        systolic=rng.randint(90, 120), diastolic=rng.randint(55, 80), weight=_fmt(weight, 1))
    detected = rng.random() < 0.1
    add(day(14), "virology", test="CMV PCR", result="detected" if detected else "not detected",
        copies=rng.randint(200, 50_000) if detected else None)

    # Adverse events in the DLT window (first infusion to 28 days after the last), graded by CTCAE 5.0.
    bad_ae = rng.randrange(3) if p.deviation == "ae_grading" else -1
    for k in range(3):
        when, term, grade = day(rng.randint(0, 28)), rng.choice(AE_TERMS), rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]
        if p.deviation == "fludarabine_day" and k == 2:
            continue  # two adverse events: the sixth fludarabine dose keeps the subject at 60 records
        add(when, "adverse_event", term=term, grade=grade, grading="CTCAE 4.03" if k == bad_ae else "CTCAE 5.0")

    # Follow-up: a response and an MRD assessment in each 3-month window for 24 months.
    for k in range(FOLLOW_UP_WINDOWS):
        window = _add_months(f, ASSESSMENT_MONTHS * k)
        when = window + dt.timedelta(days=rng.randint(20, 80))  # every window is at least 89 days long
        add(when, "response", result=rng.choice(RESPONSES))
        add(when + dt.timedelta(days=rng.randint(0, 5)), "mrd", status=rng.choice(("positive", "negative")))
    return expected


def write_lab_series(w: SortedRows, p: Plan, count: int, rng: random.Random) -> None:
    """`count` more lab rows for one subject (the heavy-subject benchmark), none of them a deviation.

    Each is one of the four tests the screening-lab rules read, at most 1.5x ULN, dated from 10 days
    before the first infusion (after consent and screening, inside the screening window: those rows
    join the first infusion in the engine) to the end of the 24-month follow-up.
    """
    first = p.first - dt.timedelta(days=10)
    span = (_add_months(p.first, ASSESSMENT_MONTHS * FOLLOW_UP_WINDOWS) - first).days
    for k in range(count):
        test, _, low, uln = READ_LAB_TESTS[k % len(READ_LAB_TESTS)]
        when = first + dt.timedelta(days=rng.randrange(span))
        w.add(p.site, p.subject, when, "lab", test=test, result=_fmt(rng.uniform(low * 0.8, uln * 1.5), 1), uln=uln)
