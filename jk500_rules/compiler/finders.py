"""Pass 6: how the audit finds each reference the rules read, as a rule of its own compiled like any other.

A reference (`latest lab where test = "ANC" dated within 14 days before first dosing`, `previous
dosing`) becomes `for <anchor> require a <event> where <filter> and <date relation>`. The engine
matches it: its triggers are the anchors, its covered matches each anchor's candidates, its unknown
matches the candidates its filter cannot decide. The audit keeps, per anchor, the latest (or
earliest) candidate by date: an order, like a record's rank, never a condition of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import Diagnostic, Span
from ..language import nodes as n
from .check import check
from .declare import Declarations
from .emit import emitted
from .lower import lower
from .model import Finder
from .references import CHECKED, FINDER_PREFIX, NEAR_PREFIX, Read
from .resolve import ResolvedRule, resolve


@dataclass(frozen=True)
class _Wanted:
    key: str
    label: str
    order: str
    event: str
    anchor_which: str
    anchor_event: str
    side: str  # before | after
    inclusive: bool
    rule: n.Rule
    narrowed: n.Rule | None  # without a filter: the same rule, told the day to look at
    near: str | None = None  # the anchor's field holding that day


@dataclass(frozen=True)
class Found:
    """What the finders pass hands on: the finders fed, the resolved rules (for the fact plan), the
    parameters their conditions read."""

    finders: tuple[Finder, ...]
    rules: list[ResolvedRule]
    used_params: frozenset[str]


def compile_finders(tree: n.Protocol, decls: Declarations, reads: frozenset[Read], source_lines: list[str],
                    diagnostics: list[Diagnostic]) -> Found:
    """The finders of the references the rules read.

    Every declared reference is compiled, read or not, so that a mistake in one is reported; one no rule
    reads is not fed (the pipeline warns once over every version).
    """
    relative = sorted(r for r in reads if r[0] == "relative")
    wanted = [_named(decl, index) for index, decl in enumerate(decls.references.values(), start=1)]
    wanted += [_relative(read, index) for index, read in enumerate(relative, start=len(wanted) + 1)]
    used = {read[1] for read in reads if read[0] == "reference"}
    resolved = resolve(replace(tree, rules=tuple(w.rule for w in wanted)), decls, source_lines, diagnostics)
    lowered = {r.checked.resolved.rule.id: r for r in lower(check(resolved, diagnostics), diagnostics).rules}
    # The narrowed twins say nothing the plain rules have not said already.
    twins = resolve(replace(tree, rules=tuple(w.narrowed for w in wanted if w.narrowed)), decls, source_lines, [])
    narrowed = {r.checked.resolved.rule.id: r for r in lower(check(twins, []), []).rules}
    finders = []
    for want in wanted:
        rule = lowered.get(want.rule.id)
        if rule is None or (want.key in decls.references and want.key not in used):
            continue
        compiled = emitted(rule, decls, source_lines, diagnostics)
        twin = narrowed.get(want.narrowed.id) if want.narrowed is not None else None
        near = emitted(twin, decls, source_lines, []) if twin is not None else None
        if compiled is None:
            continue
        finders.append(Finder(want.key, want.label, want.order, want.event, want.anchor_which, want.anchor_event,
                              compiled, want.side, want.inclusive, want.near if near is not None else None,
                              near.engine_rules if near is not None else (),
                              near.interval_rules if near is not None else ()))
    return Found(tuple(finders), list(resolved.rules), resolved.used_params)


def _named(decl: n.ReferenceDecl, index: int) -> _Wanted:
    date = n.NameRef(span=decl.event_span, name="date")
    anchor = n.NameRef(span=decl.anchor_span, name=CHECKED, field="date")
    relation: n.Cond
    if decl.width is not None:
        span = Span(decl.width.span.line, decl.width.span.column, decl.anchor_span.end_line, decl.anchor_span.end_column)
        relation = n.Within(span=span, subject=date, width=decl.width, relation=decl.side, anchor=anchor)
    else:
        op = ("<" if decl.side == "before" else ">") + ("=" if decl.inclusive else "")
        relation = n.Compare(span=decl.span, left=date, op=op, right=anchor)
    cond = relation if decl.where is None else n.And(span=decl.where.span, items=(decl.where, relation))
    rule = _rule(decl.name, decl.span, decl.anchor_which, decl.anchor_event, decl.anchor_span, decl.event,
                 decl.event_span, cond)
    # Without a filter, the record found is the nearest one on its side when it lies towards the anchor
    # (the latest before it, the earliest after it), or when no window cuts the side short.
    towards = (decl.order, decl.side) in (("latest", "before"), ("earliest", "after"))
    narrow = decl.where is None and (towards or decl.width is None)
    near = f"{NEAR_PREFIX}{index}"
    return _Wanted(decl.name, decl.name, decl.order, decl.event, decl.anchor_which, decl.anchor_event, decl.side,
                   decl.inclusive, rule, _narrowed(rule, near) if narrow else None, near if narrow else None)


def _relative(read: Read, index: int) -> _Wanted:
    """`previous X` in a rule checked for T: the latest X dated before each T (`next`: earliest after)."""
    _, which, event, checked = read
    span = Span(1, 1, 1, 1)
    label = f"{which} {event}"
    cond = n.Compare(span=span, left=n.NameRef(span=span, name="date"), op="<" if which == "previous" else ">",
                     right=n.NameRef(span=span, name=CHECKED, field="date"))
    rule = replace(_rule(label, span, "each", checked, span, event, span, cond),
                   id=f"{FINDER_PREFIX}{label}@{checked}")
    near = f"{NEAR_PREFIX}{index}"
    return _Wanted(f"{label}@{checked}", label, "latest" if which == "previous" else "earliest", event, "each",
                   checked, "before" if which == "previous" else "after", False, rule, _narrowed(rule, near), near)


def _narrowed(rule: n.Rule, near: str) -> n.Rule:
    """A reference without a filter is a matter of order alone: the audit gives each anchor the day of the
    record found if any (`near__N`, engine/reference_facts.py): the latest or earliest on the reference's
    side; and the engine matches the records of that day, still testing the side and window. Each
    anchor then has the records of one day as candidates, not every record before it."""
    verdict = rule.check.verdict
    assert verdict.cond is not None
    span = verdict.cond.span
    day = n.Compare(span=span, left=n.NameRef(span=span, name="date"), op="=",
                    right=n.NameRef(span=span, name=CHECKED, field=near))
    cond = n.And(span=span, items=(verdict.cond, day))
    return replace(rule, id=f"{rule.id} {near}",
                   check=replace(rule.check, verdict=replace(verdict, cond=cond)))


def _rule(label: str, span: Span, which: str, anchor_event: str, anchor_span: Span, event: str, event_span: Span,
          cond: n.Cond) -> n.Rule:
    source = n.Source(span=anchor_span, form=which, event=anchor_event, event_span=anchor_span)
    verdict = n.Verdict(span=span, mode="require", cond=cond, exists_event=event, exists_span=event_span)
    return n.Rule(span=span, id=f"{FINDER_PREFIX}{label}", id_span=span, title=label, severity=None,
                  severity_span=None, category=None, cites="the reference's own declaration", message=None,
                  message_span=None, check=n.Check(span=span, source=source, where=None, verdict=verdict))
