"""Record-to-finding latency of the incremental audit: `python -m benchmarks.latency`.

A JK500 trial of SUBJECTS subjects with RECORDS_PER_SUBJECT (200) records each, consistent with
protocol.rules (the audit finds nothing): screening, lymphodepletion, six infusions with IL-2, then
24 months of monthly follow-up (response, MRD and four labs a month) and adverse events. Each trial
then appends one row for one subject, a planted deviation: a fourth JK500 infusion in the first
calendar week, its dose 30 % above nominal (found by JK500-TRT-DOSE, JK500-TRT-WEEKLY,
JK500-TRT-TOTAL and JK500-TRT-IL2-TIMING). Each trial plants into another subject, so every trial
re-judges a subject of 200 records.

Timed from the row to its JK500-TRT-DOSE finding:
- api: `IncrementalAudit.add([row])`, validation included, in this process (the figure the 10 ms
  target is about);
- watch: `jk500-rules watch --interval 0.005 --format jsonl` in a child process, from appending the
  line to the log (at a random moment of the polling cycle) to reading the NEW line from the child's
  output: polling adds up to one interval, half of one on average.

Prints medians and quartiles; `--json FILE` writes them, `--profile FILE` writes a cProfile of the
api trials.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "protocol.rules"
SUBJECTS = 24
RECORDS_PER_SUBJECT = 200
T0 = dt.date(2022, 1, 3)  # a Monday: the first subject's first infusion
INFUSION_DAYS = (0, 2, 4, 7, 9, 11)  # Mon Wed Fri, two weeks
PLANTED_DAY = 1  # a Tuesday of the first week: the fourth infusion that week
NOMINAL_DOSE = 1_000_000  # dose group 1, cells/kg
PLANTED_RULE = "JK500-TRT-DOSE"
FOLLOW_UP_LABS: tuple[tuple[str, float, float], ...] = (("ANC", 1.5, 8.0), ("platelets", 150, 400), ("creatinine", 40, 80), ("CRP", 1, 5))


def columns() -> list[str]:
    """The base columns, then every field of protocol.rules once, in declaration order."""
    from jk500_rules import load_protocol
    from jk500_rules.inputs.records import BASE_COLUMNS

    protocol = load_protocol(str(RULES))
    names = list(BASE_COLUMNS)
    for event in protocol.events.values():
        names += [name for name in event.fields if name not in names and event.name not in protocol.groups]
    return names


def _months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, 28))


def subject_rows(subject: str, first: dt.date) -> list[dict[str, object]]:
    """One subject's 200 records, in the protocol's order; `first` is the first infusion (a Monday)."""
    rows: list[dict[str, object]] = []

    def add(day: dt.date, event: str, **values: object) -> None:
        rows.append({"study": "JK500", "site": "01", "subject": subject, "date": day.isoformat(), "event": event,
                     **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}})

    def day(offset: int) -> dt.date:
        return first + dt.timedelta(days=offset)

    consent = day(-20)
    screening = day(-18)
    add(consent, "consent", birth_date=consent.replace(year=consent.year - 10), signed_by="guardian")
    add(day(-200), "diagnosis", disease="AML", classification="WHO 2016", cns_leukemia="no")
    for k, condition in enumerate(("asthma", "eczema", "otitis media")):
        add(day(-400 - 100 * k), "medical_history", condition=condition, significant="no")
    add(screening, "disease_history", standard_inductions=2)
    add(screening, "screening", eligible="yes", active_infection="no", surgery_planned="no")
    for test in ("HIV-Ab", "HBsAg", "HBeAg", "HCV-Ab", "TP-Ab"):
        add(screening, "serology", test=test, positive="no")
    for test, result, uln in (("creatinine", 50, 80), ("bilirubin", 10, 20), ("AST", 30, 40), ("ALT", 30, 40),
                              ("ANC", 3, 8), ("platelets", 200, 400), ("CRP", 2, 5)):
        add(screening, "lab", test=test, result=result, uln=uln)
    add(day(-16), "enrolment", dose_group=1, weight="32.0")
    add(day(-300), "vaccination", vaccine="DTaP", live_attenuated="no")
    add(day(-250), "vaccination", vaccine="influenza (inactivated)", live_attenuated="no")
    add(day(-7), "cyclophosphamide", dose="60")
    for offset in (-6, -5, -4, -3, -2):
        add(day(offset), "fludarabine", dose="25")
    for offset in INFUSION_DAYS:
        add(day(offset), "il2", dose="100", time="09:15")
        add(day(offset), "infusion", dose=str(NOMINAL_DOSE), time="10:00")
    for k in range(6):
        add(day(3 + 4 * k), "adverse_event", term="fever", grade=1, grading="CTCAE 5.0")
    for month in range(1, 25):  # monthly follow-up for 24 months: response, MRD, four labs
        visit = _months(first, month)
        add(visit, "response", result="CR")
        add(visit, "mrd", status="negative")
        for test, value, limit in FOLLOW_UP_LABS:
            add(visit, "lab", test=test, result=value, uln=limit)
    while len(rows) < RECORDS_PER_SUBJECT:  # later adverse events, outside the DLT window
        add(day(60 + (20 * len(rows)) % 600), "adverse_event", term="rash", grade=1, grading="CTCAE 5.0")
    return rows[:RECORDS_PER_SUBJECT]


def planted_row(subject: str, first: dt.date) -> dict[str, object]:
    return {"study": "JK500", "site": "01", "subject": subject,
            "date": (first + dt.timedelta(days=PLANTED_DAY)).isoformat(), "event": "infusion",
            "dose": str(int(NOMINAL_DOSE * 1.3)), "time": "10:00"}


def trial(n_subjects: int = SUBJECTS) -> tuple[list[tuple[str, dt.date]], list[dict[str, object]], dt.date]:
    """The subjects (id, first infusion), every row in date order, and a cut-off past all follow-up."""
    subjects = [(f"JK500-01-{k + 1:03d}", T0 + dt.timedelta(days=7 * k)) for k in range(n_subjects)]
    rows = [row for subject, first in subjects for row in subject_rows(subject, first)]
    rows.sort(key=lambda r: (str(r["date"]), str(r["subject"])))
    cutoff = _months(subjects[-1][1], 25)
    return subjects, rows, cutoff


def csv_line(cols: list[str], row: dict[str, object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row.get(c, "") for c in cols])
    return out.getvalue()


def _quartiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {"median_ms": round(q[1] * 1000, 3), "q1_ms": round(q[0] * 1000, 3), "q3_ms": round(q[2] * 1000, 3),
            "min_ms": round(min(values) * 1000, 3), "max_ms": round(max(values) * 1000, 3), "trials": len(values)}


def api_latency(rounds: int, profile: str | None = None,
                idle: float = 0.05) -> tuple[dict[str, object], dict[str, float]]:
    """Per trial, `add([row])` for another subject's planted row, to its finding; `idle` seconds apart.

    Rows of a live log arrive apart: back to back, each add would find the caches warm from the last one
    and time faster than a row arriving alone.
    """
    from jk500_rules import load_protocol
    from jk500_rules.live.incremental import IncrementalAudit
    from jk500_rules.live.intake import Row

    protocol = load_protocol(str(RULES))
    subjects, rows, cutoff = trial()
    path = "latency.csv"
    times: list[float] = []
    cpu: list[float] = []
    quiet: list[float] = []
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with IncrementalAudit(protocol, as_of=cutoff) as audit:
        initial = audit.add(Row(path, line, row) for line, row in enumerate(rows, start=2))
        if initial.new or initial.rejections:
            raise SystemExit(f"benchmarks/latency.py: the generated trial is not clean: "
                             f"{[(f.rule.id, f.subject, f.message) for f in initial.new][:5]} "
                             f"{[r.reason for r in initial.rejections][:5]}")
        line = len(rows) + 2
        for k in range(rounds):
            subject, first = subjects[k % len(subjects)]
            row = Row(path, line, planted_row(subject, first) if k < len(subjects) else
                      {**planted_row(subject, first), "dose": str(NOMINAL_DOSE)})
            line += 1
            time.sleep(idle)
            if profiler:
                profiler.enable()
            start, start_cpu = time.perf_counter(), time.thread_time()
            changes = audit.add([row])
            elapsed, elapsed_cpu = time.perf_counter() - start, time.thread_time() - start_cpu
            if profiler:
                profiler.disable()
            if k < len(subjects):  # a planted deviation in a subject of 200 records
                if not any(f.rule.id == PLANTED_RULE and f.subject == subject for f in changes.new):
                    raise SystemExit(f"benchmarks/latency.py: no {PLANTED_RULE} finding for {subject}")
                times.append(elapsed)
                cpu.append(elapsed_cpu)
            else:  # a second round: the same rows at the nominal dose (no dose finding; other findings)
                quiet.append(elapsed)
    if profiler and profile:
        profiler.dump_stats(profile)
    return {**_quartiles(times), "cpu": _quartiles(cpu)}, (_quartiles(quiet) if quiet else {})


def watch_latency(interval: float, timeout: float = 60.0) -> dict[str, object]:
    """The watch command in a child process: from appending the planted line to reading its NEW event."""
    subjects, rows, cutoff = trial()
    cols = columns()
    times: list[float] = []
    reported: list[float] = []
    with tempfile.TemporaryDirectory(prefix="jk500-latency-") as folder:
        log = Path(folder) / "visits.csv"
        log.write_text(",".join(cols) + "\n" + "".join(csv_line(cols, r) for r in rows), encoding="utf-8")
        command = [sys.executable, "-m", "jk500_rules", "watch", "--rules", str(RULES), "--as-of", cutoff.isoformat(),
                   "--interval", str(interval), "--format", "jsonl", str(log)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        assert child.stdout is not None
        try:
            events = _events(child, timeout)
            first = next(events)
            if first.get("event") != "summary":
                raise SystemExit(f"benchmarks/latency.py: the watch began with {first}")
            with log.open("a", encoding="utf-8", newline="") as handle:
                rng = random.Random(1)
                for subject, day in subjects:
                    # Appends at random moments of the watch's polling cycle: a fixed pause would lock onto it.
                    time.sleep(rng.uniform(interval * 2, interval * 6))
                    start = time.perf_counter()
                    handle.write(csv_line(cols, planted_row(subject, day)))
                    handle.flush()
                    while True:
                        event = next(events)
                        if event.get("event") == "new" and event.get("rule") == PLANTED_RULE:
                            break
                    times.append(time.perf_counter() - start)
                    reported.append(event["latency_ms"] / 1000)
                    if event.get("subject") != subject:
                        raise SystemExit(f"benchmarks/latency.py: the NEW line names {event.get('subject')}")
        finally:
            child.terminate()
            child.wait(timeout=30)
    return {**_quartiles(times), "reported_by_watch": _quartiles(reported)}


def _events(child: subprocess.Popen[str], timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    assert child.stdout is not None
    for line in child.stdout:
        if time.monotonic() > deadline:
            raise SystemExit("benchmarks/latency.py: the watch took too long")
        yield json.loads(line)
    raise SystemExit(f"benchmarks/latency.py: the watch ended: {child.stderr.read() if child.stderr else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=SUBJECTS, help=f"api trials (default {SUBJECTS}, one per "
                        "subject; more plant a nominal-dose infusion into subjects again)")
    parser.add_argument("--idle", type=float, default=0.05,
                        help="seconds between the api trials, as rows of a live log come apart (default 0.05)")
    parser.add_argument("--interval", type=float, default=0.005, help="the watch's polling interval (default 0.005)")
    parser.add_argument("--no-watch", action="store_true", help="time the api only")
    parser.add_argument("--json", metavar="FILE", help="write the figures here as JSON")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the api trials (pstats format)")
    args = parser.parse_args(argv)
    figures: dict[str, object] = {
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},  # a shared machine's load shows in wall-clock times
        "subjects": SUBJECTS, "records_per_subject": RECORDS_PER_SUBJECT,
    }
    api, again = api_latency(args.rounds, args.profile, args.idle)
    figures["api"] = {"idle_s": args.idle, **api}
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"api   add(row) -> {PLANTED_RULE} finding, subject of {RECORDS_PER_SUBJECT} records: "
          f"median {api['median_ms']:.2f} ms (q1 {api['q1_ms']:.2f}, q3 {api['q3_ms']:.2f}, {api['trials']} trials); "
          f"CPU time median {api['cpu']['median_ms']:.2f} ms")  # type: ignore[index]
    if again:
        figures["api_second_round"] = again
        print(f"api   add(row), a second infusion planted into the same subjects: median {again['median_ms']:.2f} ms")
    if not args.no_watch:
        watch = watch_latency(args.interval)
        figures["watch"] = {"interval_s": args.interval, **watch}
        print(f"watch append -> NEW line read, --interval {args.interval}: median {watch['median_ms']:.2f} ms "
              f"(q1 {watch['q1_ms']:.2f}, q3 {watch['q3_ms']:.2f}, {watch['trials']} trials); the watch's own "
              f"read-to-print latency: median {watch['reported_by_watch']['median_ms']:.2f} ms")  # type: ignore[index]
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
