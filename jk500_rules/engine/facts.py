"""Engine facts: a session of facts with the evidence behind each, and a record as one fact.

Facts the engine cannot derive (order within a subject, counts, subject attributes, a dose group's
first record, the nth subject of a group, follow-up windows) are computed from the data alone, a
subject's in subject_facts.py and the trial's in trial_facts.py. Nothing there reads a rule's
thresholds: changing one changes the engine rules, never these facts. The exceptions shape the facts
themselves: a week's first day, and a window's length and horizon.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from ..compiler.model import DECIMAL_SCALE, EventSpec
from ..dates import encode, with_upper_bounds
from ..inputs.records import Record

TRIAL_SESSION = "trial"


@dataclass(frozen=True)
class Evidence:
    """What a fact stands for: the records behind it and the values a message may quote."""

    records: tuple[Record, ...]
    display: dict[str, str]


@dataclass
class Session:
    name: str
    subject: str | None
    facts: list[dict] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    partial: bool = False  # some record has a partial date: judged by the rules over date intervals
    # Per event type, its records in content order, once a `require a` deviation has listed them (checks.py).
    considered: dict[str, tuple[Record, ...]] = field(default_factory=dict)
    # The trial session's states, started from the subjects' marks; their ends wait for the engine (judging.py).
    states: list = field(default_factory=list)
    # Why a record's computed amount is unknown, by (fact index, amount field) (computed_facts.py).
    unknown_amounts: dict[tuple[int, str], str] = field(default_factory=dict)

    def add(self, fact: dict, evidence: Evidence) -> None:
        fact["ref"] = len(self.evidence)
        self.facts.append(fact)
        self.evidence.append(evidence)


# A subject's place in the trial-level facts: per (event, which, attribute) the plan asks for, the
# subject's group value and its first (or last) record of the event.
Marks = dict[tuple[str, str, str], tuple[object, Record]]


def cutoff_fact(cutoff: dt.date) -> tuple[dict, Evidence]:
    """The fact every session ends with: the data cut-off."""
    return {"kind": "$cutoff", **encode("date", cutoff)}, Evidence((), {"date": cutoff.isoformat()})


def mark_partial(session: Session, partial: bool) -> None:
    """When some record has a partial date, every fact of the session gets its upper bounds."""
    if partial:
        session.partial = True
        for fact in session.facts:
            with_upper_bounds(fact)


def record_fact(record: Record, spec: EventSpec) -> dict:
    """A record as a fact of its event type: dates as day numbers, decimals scaled, absent fields known as 0."""
    fact: dict = {"kind": record.event, **encode("date", record.date, record.upper.get("date"))}
    for name, fspec in spec.fields.items():
        value = record.values.get(name, fspec.empty)
        known = value is not None
        fact[f"{name}__known"] = 1 if known else 0
        if fspec.type == "date":
            fact.update(encode(name, value, record.upper.get(name)) if known else _no_date(name))  # type: ignore[arg-type]
        elif fspec.type == "datetime":
            # Seconds since 0001-01-01 UTC (dates.instant); `__hi` the last second a date alone may be.
            fact[name] = value if known else 0
            fact[f"{name}__hi"] = record.upper.get(name, value) if known else 0
        elif fspec.type == "decimal":
            fact[name] = scale_decimal(value) if known else 0  # type: ignore[arg-type]
        elif fspec.type in ("integer", "boolean"):
            fact[name] = int(value) if known else 0  # type: ignore[call-overload]
        else:
            fact[name] = value if known else ""
    return fact


def _no_date(name: str) -> dict[str, int]:
    return {f"{name}{suffix}": 0 for suffix in ("", "__cal", "__calhi")}


def scale_decimal(value: Decimal) -> int:
    """A decimal as an exact integer count of millionths (rounded half-even past six places)."""
    return int((value * DECIMAL_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def record_display(record: Record) -> dict[str, str]:
    # A partial date is shown as written (2013-11), never as the first day it may be.
    return {"date": record.date_text.strip() if "date" in record.upper else record.date.isoformat(), **record.raw}

