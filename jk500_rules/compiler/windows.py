"""Pass 5b: the window a rule computes, named, so that each finding can say which days it looked at and why.

A window is the set of bounds a rule's tests put on one record's date against another record's date (its
anchor) plus an offset: `date between first infusion.date - 6 days and first infusion.date - 2 days`,
`date within screening_period before first infusion`, `date > cohort_complete.start for the previous
dose_group + dlt_window`. It is read off the lowered tests, the form the engine judges, with the rules
text's words for each anchor; or it is the window a count per window is counted in, which its facts carry.

A rule has no window when its tests do not state exactly one: alternatives (an `or`, a `not` of a range)
that bound the date differently, two lower (or upper) bounds, or a bound that could only be solved for the
other side of a calendar-month shift. No window is ever guessed.
"""

from __future__ import annotations

from ..dates import MONTH
from ..language import nodes as n
from .lower import LoweredRule
from .model import FLIP, Test, Window, WindowBound, WindowSpec
from .operands import Conj, text_of
from .resolve import ResolvedRule

# A bound before it is named: (op, anchor alias, anchor field, days, months, encoding).
_Raw = tuple[str, str, str, int, int, str]


class _NotOne(Exception):
    """The rule's tests bound the date in more than one way: it has no single window."""


def rule_window(lowered: LoweredRule, source_lines: list[str]) -> WindowSpec | None:
    """The window the rule's tests compute, or None when they compute none, or not exactly one."""
    resolved = lowered.checked.resolved
    source = resolved.rule.check.source
    if source.form == "count":
        return _count_window(resolved)
    candidates = [("x", lowered.body)] if resolved.exists else []
    # The record checked: the verdict's window, else the filter's (`for each adverse_event where date between ...`).
    candidates += [("t", lowered.body), ("t", lowered.where)]
    try:
        for subject, conjs in candidates:
            bounds = _one_window(conjs, subject)
            if bounds is not None:
                return _named(resolved, subject, bounds, source_lines)
    except _NotOne:
        return None
    return None


def _count_window(resolved: ResolvedRule) -> WindowSpec | None:
    """A count per window (`per 3 months from first infusion through ...`), per due date or per visit of a
    schedule: its facts carry each window's days. Counts per subject, day or week have no anchor."""
    windows = [read[1] for read in resolved.reads if read[0] == "window"]
    if len(windows) != 1:
        return None
    window: Window = windows[0]
    return WindowSpec("t", window.event, count=window, count_words=f"the {window.which} {window.anchor}")


def _one_window(conjs: tuple[Conj, ...], subject: str) -> tuple[_Raw | None, _Raw | None] | None:
    """The (low, high) bounds every alternative puts on the subject's date; None when none puts any.
    Raises _NotOne when alternatives differ, or one has two lower (or upper) bounds."""
    found: set[tuple[_Raw | None, _Raw | None]] = set()
    for conj in conjs:
        lows: set[_Raw] = set()
        highs: set[_Raw] = set()
        for atom in conj:
            for test in atom.tests:
                for raw in _bounds(test, subject):
                    (lows if raw[0] in (">", ">=") else highs).add(raw)
        if len(lows) > 1 or len(highs) > 1:
            raise _NotOne
        found.add((next(iter(lows), None), next(iter(highs), None)))
    if len(found) > 1:
        raise _NotOne
    bounds = next(iter(found), (None, None))
    return None if bounds == (None, None) else bounds


def _bounds(test: Test, subject: str) -> list[_Raw]:
    """`subject.date OP anchor.field + offset` as this test states it (turned round when the subject's date is
    on its right), or nothing when the test does not bound the subject's date by another record's."""
    if test.other is None or not test.dated:
        return []
    left, left_encoding = _split(test.field)
    right, right_encoding = _split(test.other_field or "")
    if test.alias == subject and left == "date" and test.other != subject:
        op, alias, field, offset, encoding = test.op, test.other, right, test.offset, left_encoding
        if encoding and right_encoding != "cal":
            raise _NotOne
    elif test.other == subject and right == "date" and test.alias != subject:
        if left_encoding or right_encoding:
            raise _NotOne  # `anchor <= date + 3 months` is not `date >= anchor - 3 months` at every month's end
        op, alias, field, offset, encoding = FLIP[test.op], test.alias, left, -test.offset, ""
    else:
        return []
    if test.factor != 1 or test.divisor or op not in (">", ">=", "<", "<=", "="):
        raise _NotOne
    if encoding and offset % MONTH:
        raise _NotOne
    days, months = (0, offset // MONTH) if encoding else (offset, 0)
    if op == "=":
        return [(">=", alias, field, days, months, encoding), ("<=", alias, field, days, months, encoding)]
    return [(op, alias, field, days, months, encoding)]


def _split(field: str) -> tuple[str, str]:
    """`date__calhi` -> ("date", "calhi"): a field and the encoding the test compares it in."""
    for encoding in ("calhi", "cal"):
        if field.endswith(f"__{encoding}"):
            return field.removesuffix(f"__{encoding}"), encoding
    return field, ""


def _named(resolved: ResolvedRule, subject: str, bounds: tuple[_Raw | None, _Raw | None],
           source_lines: list[str]) -> WindowSpec | None:
    """The bounds with their anchors' patterns and the rules text's words for them."""
    patterns = {p.alias: p for p in (resolved.trigger, *resolved.anchors, *([resolved.exists] if resolved.exists
                                                                          else []))}
    words = _words(resolved, source_lines)
    named: list[WindowBound | None] = []
    for raw in bounds:
        if raw is None:
            named.append(None)
            continue
        op, alias, field, days, months, encoding = raw
        pattern = patterns.get(alias)
        if pattern is None:
            return None
        said, group = _checked_words(resolved.rule.check.source) if alias == "t" else \
            (words.get((alias, field)) or pattern.label or alias, "")
        named.append(WindowBound(op, pattern, field, days, months, encoding, said, group))
    check = resolved.rule.check
    event = check.verdict.exists_event if subject == "x" else check.source.event
    return WindowSpec(subject, event or "", named[0], named[1])


def _words(resolved: ResolvedRule, source_lines: list[str]) -> dict[tuple[str, str], str]:
    """Per (alias, field) read as a date, the rules text first naming it: `first infusion`,
    `cohort_complete.start for the previous dose_group`."""
    words: dict[tuple[str, str], str] = {}
    for node, value in resolved.values.items():
        if value.alias is None or value.type != "date" or not isinstance(node, (n.NameRef, n.AnchorRef, n.RankedRef,
                                                                                 n.GroupStateRef, n.RelativeRef)):
            continue
        said = text_of(source_lines, node.span).removesuffix(".date").strip()
        if said.split(" ", 1)[0] in ("first", "last", "previous", "next"):
            said = f"the {said}"
        if said and said != value.field:  # a bare `date` says nothing of whose
            words.setdefault((value.alias, value.field or ""), said)
    return words


def _checked_words(source: n.Source) -> tuple[str, str]:
    """The record checked, in words, and the attribute whose value completes them."""
    if source.form in ("first", "last"):
        return f"the {source.form} {source.event}", ""
    if source.form.startswith("group_") and source.attribute:
        which = source.form.removeprefix("group_")
        return f"the {which} {source.event} of {source.attribute.replace('_', ' ')}", source.attribute
    return f"the {source.event} checked", ""
