"""A seeded synthetic JK500 visit log, and the rules file the benchmark audits it with.

About 60 records per subject (see PER_SUBJECT): consent, enrolment, 12 labs, 5 virology tests,
1 cyclophosphamide and 5 fludarabine doses, 6 IL-2 doses, 6 JK500 infusions, 2 vaccines, 6 adverse
events and 15 vital-sign records, plus a few trial-level SRC decisions. protocol.rules does not
declare labs, virology, adverse events or vital signs, so the benchmark's rules file is
protocol.rules with those event declarations appended (EXTRA_EVENTS): the audit then reads those
records and counts them as "not used" instead of rejecting them.

The trial timeline keeps the escalation gate honest: three sentinel subjects open each dose group
one week apart, the SRC decides to escalate 35 days after the previous group's third subject's
last infusion, and every other subject starts later, on a Monday, at three infusions a week.
A seeded fraction of subjects (never a sentinel) carries one planted deviation, and the gate for
dose group 3 is decided inside the DLT window (one trial-level finding) whenever deviations are on.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_RULES = REPO / "protocol.rules"
STUDY = "JK500"

EXTRA_EVENTS = """

# ---- Benchmark-only vocabulary (appended by benchmarks/generate.py): no rule reads these ---------

event lab "Laboratory result" {
    test: text required
    value: decimal
    lab_unit: text
    uln: decimal
}

event virology "Virology PCR" {
    test: text required
    result: text required
    copies: decimal
}

event adverse_event "Adverse event" {
    term: text required
    grade: integer required
    serious: boolean
    related: text
}

event vital_signs "Vital signs" {
    temperature: decimal in degC
    heart_rate: integer
    systolic: integer in mmHg
    diastolic: integer in mmHg
    weight: decimal in kg
}
"""

# The intended records per subject without a planted deviation (60 in all).
PER_SUBJECT = {
    "consent": 1,
    "enrolment": 1,
    "lab": 12,
    "virology": 5,
    "lymphodepletion": 6,  # 1 cyclophosphamide + 5 fludarabine
    "il2": 6,
    "infusion": 6,
    "vaccination": 2,
    "adverse_event": 6,
    "vital_signs": 15,
}
RECORDS_PER_SUBJECT = sum(PER_SUBJECT.values())

NOMINAL_DOSE = {1: 1_000_000, 2: 5_000_000, 3: 30_000_000}  # cells/kg, as in protocol.rules
DEVIATIONS = ("age", "live_vaccine", "weekly", "total", "dose")

T0 = dt.date(2019, 1, 7)  # a Monday: the first infusion of the trial
ENROLMENT_SPAN_DAYS = 5 * 365
INFUSION_DAYS = (0, 2, 4, 7, 9, 11)  # Mon Wed Fri, two weeks
LAB_DAYS = (-7, -1, 1, 3, 5, 8, 10, 12, 14, 21, 28)  # plus one at consent
LAB_TESTS = (("ANC", "10^9/L", 1.5, 8.0), ("platelets", "10^9/L", 150, 400), ("haemoglobin", "g/dL", 11, 15.5),
             ("ALT", "U/L", 5, 40), ("AST", "U/L", 5, 40), ("creatinine", "umol/L", 20, 80),
             ("bilirubin", "umol/L", 3, 20), ("CRP", "mg/L", 0, 5), ("ferritin", "ug/L", 20, 300),
             ("LDH", "U/L", 120, 300), ("WBC", "10^9/L", 4, 11), ("IL-6", "pg/mL", 0, 7))
VIROLOGY_DAYS = (0, 7, 14, 28)  # plus one at consent
VIROLOGY_TESTS = ("CMV PCR", "EBV PCR", "HHV-6 PCR", "adenovirus PCR", "BK virus PCR")
AE_TERMS = ("fever", "neutropenia", "thrombocytopenia", "nausea", "headache", "rash", "fatigue",
            "cytokine release syndrome", "hypotension", "infection", "anaemia", "vomiting")
INACTIVATED = ("influenza (inactivated)", "DTaP", "hepatitis B", "pneumococcal conjugate", "meningococcal")
LIVE = ("MMR", "varicella", "rotavirus", "BCG")
VITAL_DAYS = (-6, -5, -4, -3, -2, 0, 2, 4, 7, 9, 11, 14, 21, 28)  # plus one at consent


@dataclass
class Generated:
    csv_path: Path
    rules_path: Path
    records: int
    subjects: int
    events: Counter = field(default_factory=Counter)
    planted: Counter = field(default_factory=Counter)  # planted deviations by kind
    dose_groups: Counter = field(default_factory=Counter)


def rules_text() -> str:
    return PROTOCOL_RULES.read_text(encoding="utf-8") + EXTRA_EVENTS


def write_rules(out_dir: Path) -> Path:
    path = Path(out_dir) / "jk500-bench.rules"
    path.write_text(rules_text(), encoding="utf-8")
    return path


def columns(rules_path: Path) -> list[str]:
    """study, site, subject, date, event, then every declared field once, in declaration order."""
    from jk500_rules.cli import load_protocol
    from jk500_rules.records import BASE_COLUMNS

    protocol = load_protocol(str(rules_path))
    names: list[str] = list(BASE_COLUMNS)
    for event in protocol.events.values():
        for name in event.fields:
            if name not in names:
                names.append(name)
    return names


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(-day.weekday()) % 7)


def _fmt(x: float, places: int) -> str:
    return f"{x:.{places}f}"


class _Writer:
    """Collects (date, subject, order, row) so that the log can be written in date order."""

    def __init__(self, cols: list[str]):
        self.index = {c: i for i, c in enumerate(cols)}
        self.width = len(cols)
        self.rows: list[tuple[str, str, int, list[str]]] = []
        self.events: Counter = Counter()
        self._n = 0

    def add(self, site: str, subject: str, date: dt.date, event: str, **values: object) -> None:
        row = [""] * self.width
        iso = date.isoformat()
        row[0], row[1], row[2], row[3], row[4] = STUDY, site, subject, iso, event
        for name, value in values.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            row[self.index[name]] = str(value)
        self._n += 1
        self.rows.append((iso, subject, self._n, row))
        self.events[event] += 1


@dataclass
class _Plan:
    subject: str
    site: str
    group: int
    first: dt.date  # first infusion
    sentinel: bool
    deviation: str | None = None


def _timeline(n_subjects: int, rng: random.Random, deviations: bool) -> tuple[list[_Plan], list[tuple]]:
    """Subjects' dose groups and first infusions, and the SRC decisions that open the groups."""
    sites = [f"{s:02d}" for s in range(1, 1 + max(1, min(40, n_subjects // 25 + 1)))]
    plans: list[_Plan] = []
    decisions: list[tuple[dt.date, int, str]] = []
    open_day = {1: T0}
    # Sentinels: 3 per group, one week apart; the next group opens 35 days after the third's last infusion.
    sentinel_count = min(n_subjects, 9)
    for i in range(sentinel_count):
        group, k = i // 3 + 1, i % 3
        if group not in open_day:
            break
        first = open_day[group] + dt.timedelta(days=7 * k)
        plans.append(_Plan("", rng.choice(sites), group, first, True))
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
        plans.append(_Plan("", rng.choice(sites), group, first, False))
    plans.sort(key=lambda p: (p.first, p.site))
    counters: Counter = Counter()
    for p in plans:
        counters[p.site] += 1
        p.subject = f"{p.site}-{counters[p.site]:04d}"
    return plans, decisions


def _subject(w: _Writer, p: _Plan, rng: random.Random) -> None:
    f = p.first
    day = lambda offset: f + dt.timedelta(days=offset)  # noqa: E731
    consent = day(-rng.randint(21, 35))
    enrol = consent + dt.timedelta(days=rng.randint(1, 5))
    if p.deviation == "age":
        birth = consent - dt.timedelta(days=rng.randint(19 * 366, 20 * 365))
    else:
        birth = consent - dt.timedelta(days=rng.randint(400, 17 * 365))
    age_years = (consent - birth).days / 365.25
    weight = max(8.0, min(80.0, 8 + age_years * 3.2 + rng.gauss(0, 3)))
    w.add(p.site, p.subject, consent, "consent", birth_date=birth.isoformat(),
          signed_by=rng.choice(("parent", "legal guardian", "parent", "subject and parent")))
    w.add(p.site, p.subject, enrol, "enrolment", dose_group=p.group, weight=_fmt(weight, 1))

    # Vaccines: long before consent, so never inside the 28-day window (unless planted).
    for k in range(2):
        when = consent - dt.timedelta(days=rng.randint(60, 400))
        live = rng.random() < 0.3
        if p.deviation == "live_vaccine" and k == 1:
            when, live = day(-rng.randint(1, 27)), True
        w.add(p.site, p.subject, when, "vaccination", vaccine=rng.choice(LIVE if live else INACTIVATED),
              live_attenuated=live)

    # Lymphodepletion: cyclophosphamide on day -6, fludarabine days -6..-2.
    bsa = round(0.1 * weight ** 0.5 + 0.2, 2)
    w.add(p.site, p.subject, day(-6), "lymphodepletion", drug="cyclophosphamide",
          dose=_fmt(60 * weight, 0), dose_unit="mg")
    for d in range(-6, -1):
        w.add(p.site, p.subject, day(d), "lymphodepletion", drug="fludarabine", dose=_fmt(25 * bsa, 1),
              dose_unit="mg")

    # Infusions, each preceded the same day by IL-2.
    days = list(INFUSION_DAYS)
    if p.deviation == "weekly":
        days = [0, 1, 2, 4, 9, 11]  # four in the first calendar week
    nominal = NOMINAL_DOSE[p.group]
    bad_dose = rng.randrange(6) if p.deviation == "dose" else -1
    for k, d in enumerate(days):
        w.add(p.site, p.subject, day(d), "il2", dose="1000000")
        if p.deviation == "total" and k == len(days) - 1:
            continue  # five infusions instead of six
        factor = rng.uniform(0.95, 1.05)
        if k == bad_dose:
            factor = rng.choice((0.7, 1.3))
        w.add(p.site, p.subject, day(d), "infusion", dose=int(nominal * factor))

    # Labs: one at consent, eleven around treatment.
    for k, when in enumerate([consent] + [day(d) for d in LAB_DAYS]):
        test, unit, low, high = LAB_TESTS[k % len(LAB_TESTS)]
        value = rng.uniform(low * 0.8, high * 1.1)
        w.add(p.site, p.subject, when, "lab", test=test, value=_fmt(value, 2), lab_unit=unit, uln=high)
    for k, when in enumerate([consent] + [day(d) for d in VIROLOGY_DAYS]):
        detected = rng.random() < 0.05
        w.add(p.site, p.subject, when, "virology", test=VIROLOGY_TESTS[k],
              result="detected" if detected else "not detected",
              copies=rng.randint(200, 50_000) if detected else "")
    for _ in range(6):
        w.add(p.site, p.subject, day(rng.randint(0, 28)), "adverse_event", term=rng.choice(AE_TERMS),
              grade=rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0], serious=rng.random() < 0.1,
              related=rng.choice(("unrelated", "unlikely", "possible", "probable")))
    for when in [consent] + [day(d) for d in VITAL_DAYS]:
        w.add(p.site, p.subject, when, "vital_signs", temperature=_fmt(rng.gauss(36.9, 0.4), 1),
              heart_rate=rng.randint(70, 130), systolic=rng.randint(90, 120), diastolic=rng.randint(55, 80),
              weight=_fmt(weight, 1))


def generate(n_records: int, seed: int, out_dir: Path, deviation_rate: float = 0.02) -> Generated:
    """Write `visits-<n>-seed<seed>.csv` and `jk500-bench.rules` into out_dir; about n_records rows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rules_path = write_rules(out_dir)
    cols = columns(rules_path)
    rng = random.Random(seed)
    n_subjects = max(1, round(n_records / RECORDS_PER_SUBJECT))
    plans, decisions = _timeline(n_subjects, rng, deviation_rate > 0)
    planted: Counter = Counter()
    for p in plans:
        if not p.sentinel and rng.random() < deviation_rate:
            p.deviation = rng.choice(DEVIATIONS)
            planted[p.deviation] += 1
    if deviation_rate > 0 and any(p.group == 3 for p in plans):
        planted["src_gate"] += 1  # the group 3 gate, decided inside the DLT window
    w = _Writer(cols)
    for p in plans:
        _subject(w, p, rng)
    for when, group, decision in decisions:
        w.add("", "", when, "src_decision", dose_group=group, decision=decision)
    w.rows.sort(key=lambda r: (r[0], r[1], r[2]))
    csv_path = out_dir / f"visits-{n_records}-seed{seed}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows(r[3] for r in w.rows)
    return Generated(csv_path, rules_path, len(w.rows), len(plans), w.events, planted,
                     Counter(p.group for p in plans))
