"""Computed amounts worked out for each record, in exact decimals, and added to its fact.

The compiler hands each amount as a program (compiler/computed.py); here it is evaluated per record of
its type, after the references are found, from the facts alone: never a threshold. Additions,
subtractions and products are exact; each division is rounded half-even to 6 decimal places; the value
is held in millionths like a decimal field. An amount is unknown when a value it reads is (an empty field,
no record found, an attribute not given), on a division by zero, or when completed years between dates
known only in part are not certain; the audit keeps why, for the finding's reason.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from ..compiler.computed import Const, Elapsed, Op, Read, Table, Term
from ..compiler.model import DECIDED, DECIMAL_PLACES, FOUND, CompiledProtocol
from ..dates import MONTH, YEAR
from .facts import Session, scale_decimal

_PRECISION = Context(prec=80, rounding=ROUND_HALF_EVEN)  # wide enough that no product is ever rounded
_PLACES = Decimal(1).scaleb(-DECIMAL_PLACES)
# Past this many millionths (about 2.3e12 in the amount's unit) a bound such as 200 % of the amount, or the
# amount plus a tolerance, might no longer fit the engine's 64-bit integers: such an amount is unknown.
LARGEST = 2**61


def add_computed_facts(session: Session, protocol: CompiledProtocol) -> None:
    """Give each record the rules compute an amount on its value (`amount__1`) and `amount__1__known`."""
    amounts = protocol.plan.computed
    if not amounts or session.subject is None:
        return
    facts = _Facts(session)
    for amount in amounts:
        for index in facts.by_kind.get(amount.event, []):
            fact = session.facts[index]
            value, why = _Evaluation(facts, fact).value(amount.term)
            if value is not None and abs(scale_decimal(value)) > LARGEST:
                value, why = None, "it is too large for the engine to compare exactly"
            fact[amount.field] = scale_decimal(value) if value is not None else 0
            fact[f"{amount.field}__known"] = 1 if value is not None else 0
            if value is None:
                session.unknown_amounts[(index, amount.field)] = f"{amount.label} cannot be worked out: {why}"
            elif amount.name:
                shown = format(value.normalize(), "f")
                session.evidence[index].display[amount.name] = f"{shown} {amount.unit}" if amount.unit else shown


def unknown_amount(session: Session, index: int, field: str, label: str) -> str:
    """Why an amount of a record is unknown, as the audit found it."""
    return session.unknown_amounts.get((index, field), f"{label} cannot be worked out")


class _Facts:
    """A session's facts as the programs read them: by kind, the subject's, references' and anchors'."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_kind: dict[str, list[int]] = defaultdict(list)
        self.found: dict[tuple[str, int], list[dict]] = defaultdict(list)  # (refname, anchor) -> facts
        self.found_any: dict[str, list[dict]] = defaultdict(list)
        self.subject: dict | None = None
        for index, fact in enumerate(session.facts):
            kind = fact["kind"]
            self.by_kind[kind].append(index)
            if kind == "$subject":
                self.subject = fact
            elif kind == "$ref":
                self.found[(fact["refname"], fact["of"])].append(fact)
                self.found_any[fact["refname"]].append(fact)

    def anchor(self, event: str, which: str) -> dict | None:
        key = "seq" if which == "first" else "rseq"
        return next((self.session.facts[i] for i in self.by_kind.get(event, []) if self.session.facts[i].get(key) == 1),
                    None)


class _Evaluation:
    """One program on one record: the value, or None and every reason it is unknown."""

    def __init__(self, facts: _Facts, fact: dict) -> None:
        self.facts, self.fact = facts, fact
        self.missing: list[str] = []

    def value(self, term: Term) -> tuple[Decimal | None, str]:
        with localcontext(_PRECISION):
            result = self._term(term)
        return (result if not self.missing else None), "; ".join(dict.fromkeys(self.missing))

    def _term(self, term: Term) -> Decimal | None:
        if isinstance(term, Const):
            return term.value
        if isinstance(term, Read):
            return self._number(term)
        if isinstance(term, Op):
            left, right = self._term(term.left), self._term(term.right)
            if left is None or right is None:
                return None
            if term.op == "+":
                return left + right
            if term.op == "-":
                return left - right
            if term.op == "*":
                return left * right
            if right == 0:
                self.missing.append(f"{term.text or 'a divisor'} is 0")
                return None
            return (left / right).quantize(_PLACES, rounding=ROUND_HALF_EVEN)
        if isinstance(term, Elapsed):
            return self._elapsed(term)
        return self._table(term)

    def _table(self, term: Table) -> Decimal | None:
        key = self._raw(term.key)
        if key is None:
            return None
        for entry, value in term.entries:
            if entry == key:
                return value
        self.missing.append(f"{term.name} has no entry for {term.key.field} {key}")
        return None

    def _elapsed(self, term: Elapsed) -> Decimal | None:
        """Completed units from start to end; with a date known only in part, only when they are certain."""
        start, end = self._fact(term.start), self._fact(term.end)
        if start is None or end is None:
            return None
        for fact, read in ((start, term.start), (end, term.end)):
            if not fact.get(f"{read.field}__known", 1):
                self.missing.append(self._no_value(read))
        if self.missing:
            return None
        suffix = "__cal" if term.unit in ("years", "months") else ""
        step = {"years": YEAR, "months": MONTH, "weeks": 7, "days": 1}[term.unit]

        def bounds(fact: dict, name: str) -> tuple[int, int]:
            low = fact[f"{name}{suffix}"]
            return low, fact.get(f"{name}__hi{suffix}", low)

        start_low, start_high = bounds(start, term.start.field)
        end_low, end_high = bounds(end, term.end.field)
        fewest, most = (end_low - start_high) // step, (end_high - start_low) // step
        if fewest != most:
            self.missing.append(f"{term.text} is not certain: a date it reads is only partly known "
                                f"(from {fewest} to {most})")
            return None
        return Decimal(fewest)

    def _number(self, read: Read) -> Decimal | None:
        raw = self._raw(read)
        if raw is None:
            return None
        value = Decimal(raw)
        return value.scaleb(-DECIMAL_PLACES) if read.type == "decimal" else value

    def _raw(self, read: Read) -> int | str | None:
        fact = self._fact(read)
        if fact is None:
            return None
        if not fact.get(f"{read.field}__known", 0):
            self.missing.append(self._no_value(read))
            return None
        value = fact[read.field]
        return value if isinstance(value, (int, str)) else int(value)

    def _fact(self, read: Read) -> dict | None:
        """The fact an operand is read from (tied records that agree on it: any of them), or None, noted."""
        if read.source == "field":
            return self.fact
        if read.source == "subject":
            if self.facts.subject is None:
                self.missing.append(f"the subject has no {read.field}")
            return self.facts.subject
        if read.source == "anchor":
            fact = self.facts.anchor(read.key, read.which)
            if fact is None:
                self.missing.append(f"there is no {read.label}")
            return fact
        found = self.facts.found[(read.key, self.fact["ref"])] if read.each else self.facts.found_any[read.key]
        if not found or not found[0].get(f"{FOUND}__known", 0):
            told = not found or found[0].get(f"{DECIDED}__known", 1)
            self.missing.append(f"there is no {read.label}" if told else f"{read.label} cannot be told")
            return None
        values = {(f.get(f"{read.field}__known"), f.get(read.field)) for f in found}
        if len(values) > 1:
            self.missing.append(f"{len(found)} records tie for {read.label} and differ in {read.field}")
            return None
        return found[0]

    def _no_value(self, read: Read) -> str:
        if read.source == "subject":
            return f"the subject has no {read.field}"
        if read.source == "anchor":
            return f"the {read.label} has no {read.field}"
        return f"{read.label} has no {read.field}"

