"""The engine's matches of a protocol's finders -> one reference fact per anchor (or per record tied there).

Which records are candidates is the engine's answer (compiler/finders.py). What is done here is an
order, like a record's rank: per anchor, the latest (or earliest) candidate by date, with every
candidate of that day. A candidate the engine could not decide (an empty field the filter reads, a date
only partly known) that may be the one found makes the reference undecided, never quietly skipped.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any

from ..compiler.model import DECIDED, FOUND, CompiledProtocol, Finder
from ..dates import with_upper_bounds
from .facts import Evidence, Session

Match = tuple[str, dict[str, int]]


def add_nearest_days(session: Session, protocol: CompiledProtocol) -> bool:
    """Give each anchor fact, per reference without a filter, the day of the record it finds: the latest
    (earliest) on the reference's side, or the anchor's own day when there is none, which the finder's
    side test then refuses. Returns False, adding nothing, when a record of the kinds involved has a
    partial date: such a day cannot be told, and the finders then look at every record.

    An order, like a record's rank: which of that day's records qualify is still the engine's match.
    """
    narrowed = [f for f in protocol.finders if f.near is not None]
    kinds = {kind for f in narrowed for kind in (f.event, f.anchor_event)}
    if session.partial and any("date" in record.upper for fact, evidence in zip(session.facts, session.evidence)
                               if fact["kind"] in kinds for record in evidence.records):
        return False
    for finder in narrowed:
        ordered = sorted({fact["date"] for fact in session.facts if fact["kind"] == finder.event})
        for fact in session.facts:
            if fact["kind"] == finder.anchor_event:
                day = _nearest(ordered, fact["date"], finder)
                fact[finder.near] = fact[f"{finder.near}__hi"] = fact["date"] if day is None else day
    return True


def _nearest(ordered: list[int], day: int, finder: Finder) -> int | None:
    """The latest (earliest) day in `ordered` on the finder's side of `day`, or None."""
    if finder.side == "before":
        end = bisect.bisect_right(ordered, day) if finder.inclusive else bisect.bisect_left(ordered, day)
        side = ordered[:end]
    else:
        start = bisect.bisect_left(ordered, day) if finder.inclusive else bisect.bisect_right(ordered, day)
        side = ordered[start:]
    if not side:
        return None
    return side[-1] if finder.order == "latest" else side[0]


class _Found:
    """One finder's matches: its anchors, and per anchor the candidates certain and undecided."""

    def __init__(self) -> None:
        self.anchors: set[int] = set()
        self.certain: dict[int, set[int]] = defaultdict(set)
        self.undecided: dict[int, set[int]] = defaultdict(set)
        self.empty: set[int] = set()  # candidates undecided for an empty field (the others: a partial date)


def add_reference_facts(session: Session, protocol: CompiledProtocol, matches: list[Match],
                        names: dict[str, tuple[Finder, Any]]) -> None:
    """Add to the session, for every reference the rules read, its facts: found, not found or undecided."""
    found: dict[str, _Found] = {finder.key: _Found() for finder in protocol.finders}
    for name, refs in matches:
        finder, rule = names[name]
        into, t = found[finder.key], refs["t"]
        if rule.role in ("trigger", "possible_trigger"):
            into.anchors.add(t)
        elif rule.role == "covered":
            into.certain[t].add(refs["x"])
        elif rule.role in ("unknown", "possible_covered"):
            into.undecided[t].add(refs["x"])
            if rule.role == "unknown":
                into.empty.add(refs["x"])
    added = len(session.facts)
    for finder in protocol.finders:
        into = found[finder.key]
        anchors = sorted(into.anchors)
        if finder.anchor_which != "each" and not anchors:
            anchors = [-1]  # no anchor record: one fact all the same, saying nothing was found
        for anchor in anchors:
            _add(session, protocol, finder, anchor, into.certain.get(anchor, set()),
                 into.undecided.get(anchor, set()) - into.certain.get(anchor, set()), into.empty)
    if session.partial:
        for fact in session.facts[added:]:
            with_upper_bounds(fact)


def _add(session: Session, protocol: CompiledProtocol, finder: Finder, anchor: int, certain: set[int],
         undecided: set[int], empty: set[int]) -> None:
    latest = finder.order == "latest"
    dated = [x for x in certain if not _partial(session, x)]
    undecided |= set(certain) - set(dated)
    best = (max if latest else min)((session.facts[x]["date"] for x in dated), default=None)
    # An undecided candidate matters if it may lie on or past the day found (or if nothing was found).
    matters = [x for x in undecided
               if best is None or (_high(session, x) >= best if latest else session.facts[x]["date"] <= best)]
    if matters:
        # The cause (variants.UNDECIDED_CAUSES): 1 an empty field, 2 a partial date, 3 both.
        cause = (1 if any(x in empty for x in matters) else 0) | (2 if any(x not in empty for x in matters) else 0)
        _absent(session, protocol, finder, anchor, undecided=cause)
        return
    if best is None:
        _absent(session, protocol, finder, anchor, undecided=0)
        return
    tied = sorted(x for x in dated if session.facts[x]["date"] == best)
    for x in tied:
        fact = {key: value for key, value in session.facts[x].items() if key not in ("ref", "seq", "rseq")}
        fact.update({"kind": "$ref", "refname": finder.key, "of": anchor, "ties": len(tied),
                     f"{FOUND}__known": 1, f"{DECIDED}__known": 1, "undecided": 0, "date__known": 1})
        session.add(fact, session.evidence[x])


def _absent(session: Session, protocol: CompiledProtocol, finder: Finder, anchor: int, undecided: int) -> None:
    """A reference fact with every field empty, of the same shape as a found one (the engine needs each key)."""
    spec = protocol.events[finder.event]
    fact = _empty_fact(spec)
    fact.update({"kind": "$ref", "refname": finder.key, "of": anchor, "ties": 0, f"{FOUND}__known": 0,
                 f"{DECIDED}__known": 0 if undecided else 1, "undecided": undecided, "date__known": 0})
    session.add(fact, Evidence((), {}))


def _empty_fact(spec: Any) -> dict:
    fact: dict = {"date": 0, "date__cal": 0, "date__calhi": 0}
    for name, fspec in spec.fields.items():
        fact[f"{name}__known"] = 0
        if fspec.type == "date":
            fact.update({name: 0, f"{name}__cal": 0, f"{name}__calhi": 0})
        elif fspec.type == "datetime":
            fact.update({name: 0, f"{name}__hi": 0})
        else:
            fact[name] = "" if fspec.type in ("text",) else 0
    return fact


def _partial(session: Session, index: int) -> bool:
    return any("date" in record.upper for record in session.evidence[index].records)


def _high(session: Session, index: int) -> int:
    fact = session.facts[index]
    return fact.get("date__hi", fact["date"])

