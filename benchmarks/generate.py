"""A seeded synthetic JK500 visit log, and the rules file the benchmark audits it with.

60 records per subject (see PER_SUBJECT), in protocol.rules' vocabulary: consent, screening
checklist, diagnosis, disease history, one medical-history condition, 5 screening serology tests,
7 screening labs (creatinine, bilirubin, AST and ALT, which rules read, and ANC, platelets and CRP,
which no rule tests), enrolment, 2 vaccinations long before treatment, cyclophosphamide on day -7 and
fludarabine on days -6 to -2, 6 JK500 infusions each with IL-2 35 to 55 minutes before it (clock
times), 3 graded adverse events in the DLT window, a response and an MRD assessment in each of the
eight 3-month follow-up windows, plus benchmark-only records no rule reads: 1 virology PCR and
2 vital-sign records. Trial-level SRC decisions come on top.

protocol.rules does not declare virology or vital signs, so the benchmark's rules file is
protocol.rules with those two event declarations appended (EXTRA_EVENTS): the audit then reads
those records and counts them as "not used" instead of rejecting them.

The trial timeline keeps the escalation gate honest: three sentinel subjects open each dose group
one week apart, the SRC decides to escalate 35 days after the previous group's third subject's
last infusion, and every other subject starts later, on a Monday, at three infusions a week.
Every subject is followed up for the full 24 months, so no follow-up window lacks an assessment
(windows still open at the log's last date are pending, not findings).

With deviation_rate=0 the audit finds nothing. Otherwise a seeded fraction of subjects (never a
sentinel) carries one planted deviation, each found by exactly one rule (PLANTED_RULE; a lab
deviation by the rule of the lab's test), and the gate for dose group 3 is decided inside the DLT
window (one trial-level finding). `Generated.expected` holds the findings expected per rule.

Rows are written in date order without holding the log in memory: each subject's rows are formatted
as CSV lines as they are drawn, sorted in chunks of CHUNK_ROWS, spilled to temporary run files and
merged (an external merge sort, stable, so the output is byte for byte what sorting every row in
memory gave). Memory stays about constant from 10k to 10M records (the subject plans, 167k at 10M,
are the only part that grows).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import heapq
import io
import os
import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_RULES = REPO / "protocol.rules"
STUDY = "JK500"

EXTRA_EVENTS = """

# ---- Benchmark-only vocabulary (appended by benchmarks/generate.py): no rule reads these ---------

event virology "Virology PCR (benchmark only)" {
    test: text required
    result: text required
    copies: decimal
}

event vital_signs "Vital signs (benchmark only)" {
    temperature: decimal in degC
    heart_rate: integer
    systolic: integer in mmHg
    diastolic: integer in mmHg
    weight: decimal in kg
}
"""
EXTRA_EVENT_NAMES = ("virology", "vital_signs")

# The records per subject (60 in all). A planted deviation changes values or dates, and only a
# "total" deviation changes counts (5 infusions and 5 IL-2 doses instead of 6).
PER_SUBJECT = {
    "consent": 1,
    "screening": 1,
    "diagnosis": 1,
    "disease_history": 1,
    "medical_history": 1,
    "serology": 5,
    "lab": 7,
    "enrolment": 1,
    "vaccination": 2,
    "cyclophosphamide": 1,
    "fludarabine": 5,
    "il2": 6,
    "infusion": 6,
    "adverse_event": 3,
    "response": 8,
    "mrd": 8,
    "virology": 1,
    "vital_signs": 2,
}
RECORDS_PER_SUBJECT = sum(PER_SUBJECT.values())
NOT_READ_BY_RULES = frozenset(EXTRA_EVENT_NAMES)

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
LAB_RULE = {"creatinine": "JK500-EXCL-CREATININE", "bilirubin": "JK500-EXCL-BILIRUBIN",
            "AST": "JK500-EXCL-TRANSAMINASES", "ALT": "JK500-EXCL-TRANSAMINASES"}
CONDITIONS = ("asthma", "eczema", "otitis media", "febrile neutropenia", "pneumonia", "iron deficiency",
              "migraine", "appendicitis")
AE_TERMS = ("fever", "neutropenia", "thrombocytopenia", "nausea", "headache", "rash", "fatigue",
            "cytokine release syndrome", "hypotension", "infection", "anaemia", "vomiting")
INACTIVATED = ("influenza (inactivated)", "DTaP", "hepatitis B", "pneumococcal conjugate", "meningococcal")
LIVE = ("MMR", "varicella", "rotavirus", "BCG")
RESPONSES = ("CR", "CRi", "PR", "SD", "PD")


# Rows sorted in memory at a time; a larger log is sorted in runs of this many rows and merged
# (about 60 MB of Python objects per run).
CHUNK_ROWS = 200_000


@dataclass
class Generated:
    csv_path: Path
    rules_path: Path
    records: int
    subjects: int
    events: Counter = field(default_factory=Counter)
    planted: Counter = field(default_factory=Counter)  # planted deviations by kind
    dose_groups: Counter = field(default_factory=Counter)
    expected: Counter = field(default_factory=Counter)  # expected deviation findings by rule id
    largest_subject: int = 0  # records of the subject with the most (what a per-subject audit must hold)
    trial_rows: int = 0  # records without a subject (SRC decisions)
    file_bytes: int = 0
    runs: int = 1  # sorted runs merged into the file (1: sorted in memory)


def rules_text() -> str:
    text = PROTOCOL_RULES.read_text(encoding="utf-8")
    clash = [name for name in EXTRA_EVENT_NAMES if re.search(rf"^\s*(trial\s+)?event\s+{name}\b", text, re.M)]
    if clash:
        raise SystemExit(f"benchmarks/generate.py: protocol.rules now declares {', '.join(clash)}; "
                         "drop it from EXTRA_EVENTS")
    return text + EXTRA_EVENTS


def write_rules(out_dir: Path) -> Path:
    path = Path(out_dir) / "jk500-bench.rules"
    path.write_text(rules_text(), encoding="utf-8")
    return path


def columns(rules_path: Path) -> list[str]:
    """study, site, subject, date, event, then every declared field once, in declaration order.

    Groups of event types (`group procedure = ...`) are not event types a record can have: their
    fields are left out.
    """
    from jk500_rules import load_protocol
    from jk500_rules.inputs.records import BASE_COLUMNS

    protocol = load_protocol(str(rules_path))
    names: list[str] = list(BASE_COLUMNS)
    for event in protocol.events.values():
        if event.name in protocol.groups:
            continue
        for name in event.fields:
            if name not in names:
                names.append(name)
    return names


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


class _Writer:
    """Formats each row as a CSV line as it is added and keeps at most `chunk_rows` of them.

    A full buffer is sorted by (date, subject) and spilled to a run file; `write` merges the runs.
    Sorting is stable and runs are merged earliest first, so rows with the same date and subject keep
    the order they were added in: the file is the one a single in-memory sort would give.
    """

    def __init__(self, cols: list[str], run_dir: Path, chunk_rows: int = CHUNK_ROWS):
        self.index = {c: i for i, c in enumerate(cols)}
        self.width = len(cols)
        self.header = _line(list(cols), self.width)
        self.buffer: list[tuple[str, str, str]] = []  # (date, subject, line)
        self.events: Counter = Counter()
        self.rows = 0
        self.chunk_rows = max(1, chunk_rows)
        self.run_dir = run_dir
        self.runs: list[Path] = []

    def add(self, site: str, subject: str, date: dt.date, event: str, **values: object) -> None:
        row = [""] * self.width
        iso = date.isoformat()
        row[0], row[1], row[2], row[3], row[4] = STUDY, site, subject, iso, event
        for name, value in values.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            row[self.index[name]] = str(value)
        self.rows += 1
        self.buffer.append((iso, subject, _line(row, self.width)))
        self.events[event] += 1
        if len(self.buffer) >= self.chunk_rows:
            self._spill()

    def _spill(self) -> None:
        self.buffer.sort(key=_BY_DATE_SUBJECT)
        path = self.run_dir / f"run{len(self.runs):05d}.txt"
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.writelines(entry[2] + "\n" for entry in self.buffer)
        self.runs.append(path)
        self.buffer = []

    def write(self, path: Path) -> int:
        """Write the header and every row in (date, subject, order added) order; return the runs merged."""
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            out.write(self.header + "\n")
            if not self.runs:
                self.buffer.sort(key=_BY_DATE_SUBJECT)
                out.writelines(entry[2] + "\n" for entry in self.buffer)
            else:
                if self.buffer:
                    self._spill()
                files = [run.open(encoding="utf-8", newline="", buffering=1 << 18) for run in self.runs]
                try:
                    # heapq.merge yields equal keys from the earlier run first: stable across runs.
                    out.writelines(heapq.merge(*files, key=_line_key))
                finally:
                    for fh in files:
                        fh.close()
        os.replace(tmp, path)
        return max(1, len(self.runs))


_BY_DATE_SUBJECT = itemgetter(0, 1)


def _line_key(line: str) -> tuple[str, str]:
    """(date, subject) of a formatted row: study, site and subject never hold a comma or a quote."""
    _, _, subject, date, _ = line.split(",", 4)
    return date, subject


def _line(row: list[str], width: int) -> str:
    """The row as csv.writer (QUOTE_MINIMAL, no line terminator) writes it; plain join when nothing needs quoting."""
    line = ",".join(row)
    if "\n" in line or "\r" in line:  # runs are spilled one line per row
        raise ValueError(f"generated value with a line break: {row}")
    if line.count(",") == width - 1 and '"' not in line:
        return line
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()[:-1]


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


def _subject(w: _Writer, p: _Plan, rng: random.Random) -> str | None:
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
        flu_days[-1] = -1  # the last dose a day late
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
        add(day(rng.randint(0, 28)), "adverse_event", term=rng.choice(AE_TERMS),
            grade=rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0],
            grading="CTCAE 4.03" if k == bad_ae else "CTCAE 5.0")

    # Follow-up: a response and an MRD assessment in each 3-month window for 24 months.
    for k in range(FOLLOW_UP_WINDOWS):
        window = _add_months(f, ASSESSMENT_MONTHS * k)
        when = window + dt.timedelta(days=rng.randint(20, 80))  # every window is at least 89 days long
        add(when, "response", result=rng.choice(RESPONSES))
        add(when + dt.timedelta(days=rng.randint(0, 5)), "mrd", status=rng.choice(("positive", "negative")))
    return expected


def generate(n_records: int, seed: int, out_dir: Path, deviation_rate: float = 0.02,
             chunk_rows: int = CHUNK_ROWS) -> Generated:
    """Write `visits-<n>-seed<seed>.csv` and `jk500-bench.rules` into out_dir; about n_records rows.

    `chunk_rows` only sets how many rows are sorted in memory at a time: the file is the same for any value.
    """
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
    expected: Counter = Counter()
    if deviation_rate > 0 and any(p.group == 3 for p in plans):
        planted["src_gate"] += 1  # the group 3 gate, decided inside the DLT window
        expected[PLANTED_RULE["src_gate"]] += 1
    csv_path = out_dir / f"visits-{n_records}-seed{seed}.csv"
    largest = 0
    with tempfile.TemporaryDirectory(prefix=".runs-", dir=out_dir) as run_dir:
        w = _Writer(cols, Path(run_dir), chunk_rows)
        for p in plans:
            before = w.rows
            rule = _subject(w, p, rng)
            largest = max(largest, w.rows - before)
            if rule:
                expected[rule] += 1
        before = w.rows
        for when, group, decision in decisions:
            w.add("", "", when, "src_decision", dose_group=group, decision=decision)
        trial_rows = w.rows - before
        runs = w.write(csv_path)
    return Generated(csv_path, rules_path, w.rows, len(plans), w.events, planted,
                     Counter(p.group for p in plans), expected, largest, trial_rows,
                     csv_path.stat().st_size, runs)

