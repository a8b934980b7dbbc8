"""Computed amounts as the audit works them out: a small program per amount, read by engine/computed_facts.py.

The compiler computes nothing per record. It hands the audit, per computed amount, the record type it is
worked out on, the fact field that holds it (`amount__1`), and a program of reads, constants and operations;
the audit evaluates it in exact decimals for each record and adds the value (in millionths, like a decimal
field) and whether it is known. Thresholds stay in the engine rules: a program holds the formula only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Union

COMPUTED_PREFIX = "amount__"  # fact fields of computed amounts: `amount__1`, ... (`__`: no field is named so)
# How an unknown engine rule's reason marks a computed amount the audit fills in with why it is unknown.
COMPUTED_MARK = "[[{field}]]"


@dataclass(frozen=True)
class Read:
    """An operand read from a fact: a field of the record checked (`field`), a subject attribute
    (`subject`), a field of the record a reference finds (`found`: `key` its refname, `each` when it is
    found per record checked), or of the subject's first or last record of a type (`anchor`: `key` the type)."""

    source: str  # field | subject | found | anchor
    field: str
    type: str  # integer | decimal | date
    label: str  # the record in words: "screening", "cycle_weight", "first dosing"
    key: str = ""
    each: bool = False
    which: str = ""  # anchor: first | last


@dataclass(frozen=True)
class Const:
    value: Decimal


@dataclass(frozen=True)
class Op:
    """`left OP right`; a division is rounded half-even to 6 decimal places, `text` names its divisor."""

    op: str  # + - * /
    left: Term
    right: Term
    text: str = ""


@dataclass(frozen=True)
class Elapsed:
    """`years from A to B`: completed calendar units between two dates, a plain whole number."""

    unit: str  # years | months | weeks | days
    start: Read
    end: Read
    text: str


@dataclass(frozen=True)
class Table:
    """`sex_factor[sex]`: a table parameter's entry for a value read from a fact."""

    name: str
    entries: tuple[tuple[int | str, Decimal], ...]
    key: Read


Term = Union[Read, Const, Op, Elapsed, Table]


@dataclass(frozen=True)
class ComputedAmount:
    """One computed amount: worked out on each record of `event`, held in the fact field `field`."""

    field: str
    event: str
    term: Term
    label: str  # in reasons: "crcl" or the amount as written
    unit: str | None
    name: str = ""  # a formula's name: a message shows the value as `{name}`


def program_text(term: Term) -> str:
    """A program in one line, for `compile --stage lowered`: `(140 - years(t.birth_date, t.date)) * t.weight`."""
    if isinstance(term, Const):
        return str(term.value)
    if isinstance(term, Read):
        where = {"field": "t", "subject": "subject"}.get(term.source, term.label)
        return f"{where}.{term.field}"
    if isinstance(term, Elapsed):
        return f"{term.unit}({program_text(term.start)}, {program_text(term.end)})"
    if isinstance(term, Table):
        return f"{term.name}[{program_text(term.key)}]"
    left, right = program_text(term.left), program_text(term.right)
    if isinstance(term.left, Op) and term.left.op in "+-" and term.op in "*/":
        left = f"({left})"
    if isinstance(term.right, Op) and (term.op in "*/" or term.right.op in "+-" and term.op == "-"):
        right = f"({right})"
    return f"{left} {term.op} {right}"

