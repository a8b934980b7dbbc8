"""Pass 1a, trial states: each `state` declaration checked against the vocabulary (compiled in states.py)."""

from __future__ import annotations

from ..errors import Diagnostic
from ..language import nodes as n
from .model import EventSpec


def declare_states(tree: n.Protocol, events: dict[str, EventSpec], attributes: dict[str, tuple[str, str]],
                   references: dict[str, n.ReferenceDecl], taken: dict[str, str],
                   diagnostics: list[Diagnostic]) -> dict[str, n.StateDecl]:
    """The states declared, by name, each checked against the vocabulary; a problem goes to `diagnostics`."""
    states: dict[str, n.StateDecl] = {}
    for decl in tree.states:
        what = taken.get(decl.name) or ("another state" if decl.name in states else None)
        if what or decl.name in ("subject", "date") or decl.name.startswith("_") or "__" in decl.name:
            diagnostics.append(Diagnostic(f"'{decl.name}' already names {what}" if what else
                                          f"'{decl.name}' is reserved and cannot name a state", decl.span,
                                          "give the state a name of its own"))
            continue
        problems = _problems(decl, events, attributes, references)
        diagnostics += problems
        if not problems:
            states[decl.name] = decl
    return states


def _problems(decl: n.StateDecl, events: dict[str, EventSpec], attributes: dict[str, tuple[str, str]],
              references: dict[str, n.ReferenceDecl]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if decl.per is not None and decl.per not in attributes:
        out.append(Diagnostic(f"unknown subject attribute '{decl.per}'", decl.per_span or decl.span,
                              "a state is kept per group of a subject attribute (`subject dose_group = ...`)"))
    elif decl.per is not None:
        event, fname = attributes[decl.per]
        spec = events[event].fields.get(fname) if event in events else None
        if spec is not None and spec.type == "decimal":
            out.append(Diagnostic(f"a state is kept per group of an integer, text or boolean attribute; {decl.per} "
                                  "is decimal", decl.per_span or decl.span))
    if decl.mark_which is None:
        reference = references.get(decl.mark)
        if reference is None:
            out.append(Diagnostic(f"'{decl.mark}' is not a reference", decl.mark_span,
                                  "count the subjects' `first EVENT`, `last EVENT`, or a reference that finds one "
                                  "record per subject"))
        elif reference.anchor_which == "each":
            out.append(Diagnostic(f"{decl.mark} is found for each {reference.anchor_event}, not once per subject",
                                  decl.mark_span, f"anchor it at first or last {reference.anchor_event}"))
    for event, span in ((decl.mark if decl.mark_which else None, decl.mark_span),
                        (decl.among_event, decl.among_event_span)):
        if event is None:
            continue
        if event not in events:
            out.append(Diagnostic(f"unknown event type '{event}'", span or decl.span))
        elif events[event].trial_level:
            out.append(Diagnostic(f"{event} is a trial event; a state counts the subjects' records", span or decl.span))
    if decl.among is not None and decl.among < 1:
        out.append(Diagnostic("a state counts among the first 1 or more subjects", decl.among_span or decl.span))
    if decl.end_event is not None:
        event = events.get(decl.end_event)
        if event is None:
            out.append(Diagnostic(f"unknown event type '{decl.end_event}'", decl.end_span or decl.span))
        elif not event.trial_level:
            out.append(Diagnostic(f"{decl.end_event} is a subject's event; a state ends at a trial event",
                                  decl.end_span or decl.span, f"declare it `trial event {decl.end_event}`"))
    return out
