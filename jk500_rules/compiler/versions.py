"""Pass 0: the protocol's versions, each a whole syntax tree (the original, then each amendment applied)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ..errors import Diagnostic, Span, did_you_mean
from ..language import nodes as n


def version_trees(tree: n.Protocol, diagnostics: list[Diagnostic]) -> list[tuple[str, dt.date | None, n.Protocol]]:
    """(name, effective date, syntax tree) of each protocol version, oldest first."""
    base = replace(tree, amendments=())
    effective = effective_date(tree.version.effective, tree.version.effective_span, diagnostics) \
        if tree.version else None
    versions = [(tree.version.name if tree.version else "original", effective, base)]
    if tree.governed_by is not None:
        events = {e.name for e in tree.events}
        if tree.governed_by.event not in events:
            diagnostics.append(Diagnostic(f"unknown event type '{tree.governed_by.event}'", tree.governed_by.event_span,
                                          did_you_mean(tree.governed_by.event, events)))
    dated = []
    for amendment in tree.amendments:
        when = effective_date(amendment.effective, amendment.effective_span, diagnostics)
        if when is not None:
            dated.append((when, amendment))
    dated.sort(key=lambda item: item[0])
    names = [versions[0][0]]
    for (when, amendment), previous in zip(dated, [effective] + [w for w, _ in dated]):
        if amendment.name in names:
            diagnostics.append(Diagnostic(f"version {amendment.name} is declared twice", amendment.span))
        if previous is not None and when <= previous:
            diagnostics.append(Diagnostic(f"amendment {amendment.name} takes effect on {when}, not after the "
                                          f"version before it ({previous})", amendment.effective_span))
        names.append(amendment.name)
        current = versions[-1][2]
        params = {p.name: p for p in current.parameters}
        for param in amendment.parameters:
            params[param.name] = param
        rules = {r.id: r for r in current.rules}
        for rule in amendment.rules:
            rules[rule.id] = rule
        for withdrawal in amendment.withdrawals:
            if rules.pop(withdrawal.rule_id, None) is None:
                diagnostics.append(Diagnostic(f"amendment {amendment.name} withdraws rule {withdrawal.rule_id}, "
                                              "which is not in force before it", withdrawal.id_span,
                                              did_you_mean(withdrawal.rule_id, rules.keys())))
        versions.append((amendment.name, when,
                         replace(current, parameters=tuple(params.values()), rules=tuple(rules.values()))))
    if tree.amendments and tree.governed_by is None:
        diagnostics.append(Diagnostic("a protocol with amendments says which version governs a subject",
                                      tree.amendments[0].span, "add e.g. `governed by consent`: the version in "
                                      "force at a subject's first consent judges that subject"))
    return versions


def effective_date(text: str, span: Span, diagnostics: list[Diagnostic]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        diagnostics.append(Diagnostic(f"'{text}' is not a date (YYYY-MM-DD)", span))
        return None
