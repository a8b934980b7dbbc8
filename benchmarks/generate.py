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

With deviation_rate=0 the audit finds nothing. Otherwise a seeded fraction of subjects (never a
sentinel) carries one planted deviation (benchmarks/subjects.py draws the timeline and each subject's
records), and `Generated.expected` holds the findings expected per rule. The rows go through
benchmarks/sorted_rows.py, which writes them in date order without holding the log in memory: memory
stays about constant from 10k to 10M records (the subject plans, 167k at 10M, are the only part that
grows).
"""

from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .sorted_rows import CHUNK_ROWS, SortedRows
from .subjects import DEVIATIONS, PLANTED_RULE, timeline, write_lab_series, write_subject

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
# "total" deviation changes counts (5 infusions and 5 IL-2 doses instead of 6); a "fludarabine_day"
# one trades a record (a sixth fludarabine dose, on day -1, for the third adverse event).
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
    heavy: tuple[str, ...] = ()  # subjects given `extra_labs` more lab rows (benchmarks/heavy_subject.py)


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


def generate(n_records: int, seed: int, out_dir: Path, deviation_rate: float = 0.02,
             chunk_rows: int = CHUNK_ROWS, extra_labs: int = 0, heavy_subjects: int = 0) -> Generated:
    """Write `visits-<n>-seed<seed>.csv` and `jk500-bench.rules` into out_dir; about n_records rows.

    `chunk_rows` only sets how many rows are sorted in memory at a time: the file is the same for any value.
    `extra_labs` more lab rows go to each of the `heavy_subjects` earliest subjects (sentinels first), drawn
    from a generator of their own: the other rows are those the same call without them writes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rules_path = write_rules(out_dir)
    cols = columns(rules_path)
    rng = random.Random(seed)
    n_subjects = max(1, round(n_records / RECORDS_PER_SUBJECT))
    plans, decisions = timeline(n_subjects, rng, deviation_rate > 0)
    planted: Counter = Counter()
    for p in plans:
        if not p.sentinel and rng.random() < deviation_rate:
            p.deviation = rng.choice(DEVIATIONS)
            planted[p.deviation] += 1
    expected: Counter = Counter()
    if deviation_rate > 0 and any(p.group == 3 for p in plans):
        planted["src_gate"] += 1  # the group 3 gate, decided inside the DLT window
        expected[PLANTED_RULE["src_gate"]] += 1
    suffix = f"-heavy{heavy_subjects}x{extra_labs}" if extra_labs and heavy_subjects else ""
    csv_path = out_dir / f"visits-{n_records}-seed{seed}{suffix}.csv"
    heavy = plans[:heavy_subjects] if extra_labs else []
    heavy_ids = {p.subject for p in heavy}
    lab_rng = random.Random(f"{seed}-heavy-labs")
    largest = 0
    with tempfile.TemporaryDirectory(prefix=".runs-", dir=out_dir) as run_dir:
        w = SortedRows(STUDY, cols, Path(run_dir), chunk_rows)
        for p in plans:
            before = w.rows
            rule = write_subject(w, p, rng)
            if p.subject in heavy_ids:
                write_lab_series(w, p, extra_labs, lab_rng)
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
                     csv_path.stat().st_size, runs, tuple(p.subject for p in heavy))
