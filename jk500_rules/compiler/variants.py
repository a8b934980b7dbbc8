"""Variants of a lowered conjunction: one per key of a table it looks up, one per optional field it reads."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from ..errors import Span
from ..language import nodes as n
from . import limits
from .lower import scaled_test
from .computed import COMPUTED_MARK, COMPUTED_PREFIX
from .model import DECIDED, FOUND, STATE_ALIAS, VISIT_PREFIX, Test
from .operands import Atom, Conj, Unsupported


def flatten(conj: Iterable[Atom]) -> tuple[tuple[Test, ...], frozenset[tuple[str, str]]]:
    tests: list[Test] = []
    reads: set[tuple[str, str]] = set()
    for atom in conj:
        tests.extend(atom.tests)
        reads |= atom.reads
    for alias, fname in sorted(reads):
        tests.append(Test(alias, f"{fname}__known", "=", 1))
    return tuple(dict.fromkeys(tests)), frozenset(reads)


# Why a reference could not be told (its facts' `undecided`, engine/reference_facts.py).
UNDECIDED_CAUSES = {1: "a record that may be it has an empty field the reference reads",
                    2: "a date it depends on is only partly known",
                    3: "a record that may be it has an empty field the reference reads, and a date it depends on "
                       "is only partly known"}


# Why a trial state could not be told: a subject's mark undecided or a record that may end it.
STATE_UNDECIDED_CAUSES = {1: "a record it depends on has an empty field its conditions read",
                          2: "a date it depends on is only partly known",
                          3: "a record it depends on has an empty field its conditions read, and a date it depends "
                             "on is only partly known"}


def _missing_reason(missing: tuple[tuple[str, str], ...], label: Callable[[str], str],
                    undecided: dict[str, int] | None = None) -> str:
    """`lab has no uln`; `lab has no p and no q`; `lab has no p; the subject's first infusion has no dose`;
    `there is no previous dosing` (a reference not found), or why it could not be told."""
    causes = undecided or {}
    by_alias: dict[str, list[str]] = {}
    for alias, fname in missing:
        by_alias.setdefault(alias, []).append(fname)
    parts = []
    for alias, fields in by_alias.items():
        amounts = [fname for fname in fields if fname.startswith(COMPUTED_PREFIX)]
        if amounts:  # the audit says why, record by record (engine/computed_facts.py)
            parts += [COMPUTED_MARK.format(field=fname) for fname in amounts]
            fields = [fname for fname in fields if fname not in amounts]
            if not fields:
                continue
        if alias.startswith(VISIT_PREFIX):  # a record's visit of a schedule (engine/schedule_facts.py)
            parts.append(f"its visit of {label(alias)} cannot be told: {UNDECIDED_CAUSES[causes[alias]]}"
                         if alias in causes else f"it belongs to no visit of {label(alias)}")
        elif alias in causes and alias.startswith(STATE_ALIAS):  # a trial state (engine/state_facts.py)
            parts.append(f"{label(alias)} cannot be told: {STATE_UNDECIDED_CAUSES[causes[alias]]}")
        elif alias in causes:
            parts.append(f"{label(alias)} cannot be told: {UNDECIDED_CAUSES[causes[alias]]}")
        elif DECIDED in fields:
            parts.append(f"{label(alias)} cannot be told: a record that may be it has an empty field the "
                         "reference reads, or a date it depends on is only partly known")
        elif FOUND in fields and len(by_alias) > 1:
            parts.append(f"there is no {label(alias)}, or it cannot be told")
        elif FOUND in fields:
            parts.append(f"there is no {label(alias)}")
        elif fields == ["count"] and alias == "t":  # a window of a schedule (engine/schedule_facts.py)
            parts.append(f"whether this {label(alias)} window was due, or on which days, cannot be told: the record "
                         "the schedule counts from or ends at is dated only in part")
        else:
            parts.append(f"{label(alias)} has no {' and no '.join(fields)}")
    return "; ".join(parts)


def _guard_variants(missing: tuple[tuple[str, str], ...],
                    reads: list[tuple[str, str]]) -> list[tuple[dict[str, int], tuple[Test, ...]]] | None:
    """For a set of empty fields: the tests a reference's flags add, once per way it can be missing.

    A reference not found (its flag 0) has every field empty: only the set naming the flag alone is
    judged, or the reason would be given twice. A field of a reference found needs the flag 1. A
    reference missing is absent or undecided, and undecided for a cause, each with its own reason
    (the causes by alias, with the tests). None: skip the set.
    """
    guarded = {alias for alias, fname in reads if fname == FOUND}
    absent = {alias for alias, fname in missing if fname == FOUND}
    untold = {alias for alias, fname in missing if fname == DECIDED} - absent
    if any(alias in absent and fname not in (FOUND, DECIDED) for alias, fname in missing):
        return None
    found = tuple(Test(alias, f"{FOUND}__known", "=", 1)
                  for alias in sorted({a for a, f in missing if f != DECIDED} & guarded - absent))
    if len(absent | untold) != 1:
        # Several references missing at once: one variant, not one per way each is missing (4^k rules).
        return [({}, found)]
    alias = next(iter(absent | untold))
    ways = [({}, found + (Test(alias, "undecided", "=", 0),))] if alias in absent else []
    # A record's visit of a schedule is undecided only for a partial date (engine/schedule_facts.py).
    causes = (2,) if alias.startswith(VISIT_PREFIX) else tuple(UNDECIDED_CAUSES)
    return ways + [({alias: cause}, found + (Test(alias, "undecided", "=", cause),)) for cause in causes]


def expand_lookups(conj: Conj, params: dict[str, n.ParamDecl]) -> Iterator[tuple[Conj, tuple[Test, ...]]]:
    """One conjunction per table key when the conjunction looks a value up in a table."""
    lookups = [lk for atom in conj for lk in atom.lookups]
    if not lookups:
        yield conj, ()
        return
    tables = {(lk[1].lookup[0], lk[1].lookup[1].alias, lk[1].lookup[1].field) for lk in lookups}  # type: ignore[index]
    if len(tables) > 1:
        raise Unsupported("a condition may look up one table by one key", conj[0].span or Span(1, 1, 1, 1))
    table, key_alias, key_field = next(iter(tables))
    for entry in params[table].entries:
        tests: list[Test] = []
        for op, factor_value, field_value in lookups:
            bound = Decimal(factor_value.const if factor_value.const is not None else 1) * entry.value.value
            tests.append(scaled_test(field_value, op, bound * field_value.scale))
        key = int(entry.key) if isinstance(entry.key, Decimal) else entry.key
        tests.append(Test(key_alias, key_field, "=", key))
        yield conj, tuple(tests)

def unknown_variants(conj: Conj, params: dict[str, n.ParamDecl],
                     label: Callable[[str], str]) -> Iterator[tuple[str, tuple[Test, ...]]]:
    """For each set of optional fields the conjunction reads: the same match with exactly those missing.

    Every set, not each field alone: with two fields missing, a variant per field would need the other
    present, no variant would match, and a check that cannot be decided would be reported a deviation.
    The variant of a set asks what the rest of the conjunction still decides: it matches when no value
    that is known contradicts the check.
    """
    # A field the rule itself tests with `is known` is a condition, not a gap in the data (a reference's
    # or a state's still reads whether it could be told).
    explicit = {(t.alias, t.field.removesuffix("__known")) for atom in conj
                if all(fname == DECIDED for _, fname in atom.reads)
                for t in atom.tests if t.field.endswith("__known") and t.const == 1}
    reads = sorted({r for atom in conj for r in atom.reads} - explicit)
    if len(reads) > limits.MAX_OPTIONAL_READS:
        raise Unsupported(f"this condition reads {len(reads)} fields that may be empty; each set of them that is "
                          "empty is judged by an engine rule of its own, and at most "
                          f"{limits.MAX_OPTIONAL_READS} such fields fit one condition",
                          conj[0].span or Span(1, 1, 1, 1),
                          "split the rule, or make some fields required or give them an `empty means`")
    for size in range(1, len(reads) + 1):
        for missing in itertools.combinations(reads, size):
            guards = _guard_variants(missing, reads)
            if guards is None:
                continue
            kept = tuple(a for a in conj if not a.reads & set(missing))
            known_flags = {(alias, f"{fname}__known") for alias, fname in missing}
            for variant, lookup_tests in expand_lookups(kept, params):
                vtests, _ = flatten(variant)
                vtests = tuple(t for t in vtests if (t.alias, t.field) not in known_flags)
                empty = tuple(Test(alias, f"{fname}__known", "=", 0) for alias, fname in missing)
                for undecided, flags in guards:
                    yield _missing_reason(missing, label, undecided), vtests + lookup_tests + empty + flags
    lookups = [lk for atom in conj for lk in atom.lookups]
    if lookups:
        table, key = lookups[0][1].lookup  # type: ignore[misc]
        kept = tuple(a for a in conj if not a.lookups)
        tests, _ = flatten(kept)
        keys = [int(e.key) if isinstance(e.key, Decimal) else e.key for e in params[table].entries]
        outside = tuple(Test(key.alias or "", key.field or "", "!=", k) for k in keys)
        known = (Test(key.alias or "", f"{key.field}__known", "=", 1),) if key.optional else ()
        yield (f"{table} has no entry for this {key.field}", tests + outside + known)
