"""Pass 1a: the protocol's vocabulary (criteria, event types, groups, subject attributes, parameters), checked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..dates import zone_info, zone_names
from ..errors import Diagnostic, Span, did_you_mean
from ..language import nodes as n
from . import limits
from .model import FIELD_TYPES, RESERVED_FIELDS, CriterionSpec, EventSpec, FieldSpec, Schedule
from .operands import Unsupported, quantity_text, text_of
from .schedules import compile_schedules
from .units import known as known_unit
from .state_decls import declare_states


@dataclass(frozen=True)
class Declarations:
    """Every name the rules may use, by kind; the symbol table the later passes read."""

    criteria: dict[str, CriterionSpec]
    events: dict[str, EventSpec]  # event types, and event groups read as one event type
    groups: dict[str, tuple[str, ...]]  # group name -> its member event types
    attributes: dict[str, tuple[str, str]]  # subject attribute -> (event type, field)
    params: dict[str, n.ParamDecl]
    units: frozenset[str]  # every unit a field declares
    references: dict[str, n.ReferenceDecl] = field(default_factory=dict)
    site_zones: dict[str, str] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    states: dict[str, n.StateDecl] = field(default_factory=dict)
    formulas: dict[str, n.FormulaDecl] = field(default_factory=dict)

    def decimal_attribute(self, name: str) -> bool:
        """An attribute that is a decimal (a weight): read in amounts, never a group of subjects or a table key."""
        event, fname = self.attributes.get(name, ("", ""))
        spec = self.events[event].fields.get(fname) if event in self.events else None
        return spec is not None and spec.type == "decimal"

    def unknown_event(self, name: str, span: Span) -> Unsupported:
        return Unsupported(f"unknown event type '{name}'", span, did_you_mean(name, self.events.keys()))

    def unknown_field(self, event: str, name: str, span: Span) -> Unsupported:
        fields = list(self.events[event].fields) + ["date"]
        return Unsupported(f"event {event} has no field '{name}'", span, did_you_mean(name, fields))


def declare(tree: n.Protocol, diagnostics: list[Diagnostic]) -> Declarations:
    """Collect and check the declarations; problems go to `diagnostics`."""
    criteria = _criteria(tree, diagnostics)
    events, units = _events(tree, diagnostics)
    groups = _groups(tree, events, diagnostics)
    attributes = _attributes(tree, events, diagnostics)
    params = _parameters(tree, attributes, diagnostics)
    references = _references(tree, events, groups, attributes, params, diagnostics)
    taken = {**{name: "a parameter" for name in params}, **{name: "a reference" for name in references},
             **{name: "a subject attribute" for name in attributes}, **{name: "an event type" for name in events},
             **{name: "a group of event types" for name in groups}}
    schedules = compile_schedules(tree, events, params, frozenset(units), taken, diagnostics)
    taken |= {name: "a schedule" for name in schedules}
    states = declare_states(tree, events, attributes, references, taken, diagnostics)
    taken |= {name: "a state" for name in states}
    formulas = _formulas(tree, taken, frozenset(units), diagnostics)
    decls = Declarations(criteria, events, groups, attributes, params, frozenset(units), references,
                         _site_zones(tree, diagnostics), schedules, states, formulas)
    for decl in tree.parameters:
        if decl.key_attribute is not None and decls.decimal_attribute(decl.key_attribute):
            diagnostics.append(Diagnostic(f"a table is looked up by an integer, text or boolean attribute; "
                                          f"{decl.key_attribute} is decimal", decl.span))
    return decls


def _formulas(tree: n.Protocol, taken: dict[str, str], units: frozenset[str],
              diagnostics: list[Diagnostic]) -> dict[str, n.FormulaDecl]:
    """Named formulas: a name of their own and a unit the rules know."""
    formulas: dict[str, n.FormulaDecl] = {}
    for decl in tree.formulas:
        if decl.name in formulas or decl.name in taken or reserved(decl.name) or decl.name == "subject":
            what = "another formula" if decl.name in formulas else taken.get(decl.name)
            diagnostics.append(Diagnostic(f"'{decl.name}' already names {what}" if what else
                                          f"'{decl.name}' is reserved and cannot name a formula", decl.span,
                                          "give the formula a name of its own"))
            continue
        if decl.unit not in units and not known_unit(decl.unit) or decl.unit == "%":
            diagnostics.append(Diagnostic(f"unknown unit '{decl.unit}' for formula {decl.name}", decl.span,
                                          "a formula's unit is one a field declares, or one of grams, litres, moles, "
                                          "metres and times with their prefixes (mL/min, mg/dL)"))
            continue
        formulas[decl.name] = decl
    return formulas


def parameter_values(decls: Declarations, source_lines: list[str]) -> dict[str, object]:
    """Each parameter's value for messages, as the rules text writes it (`5.0 mIU/L`, `1e6 cells/kg`)."""

    def written(q: n.Quantity) -> str:
        text = " ".join(text_of(source_lines, q.span).split())
        return text.replace(" %", "%") if text else quantity_text(q)

    return {name: written(decl.value) if decl.value is not None else {str(e.key): written(e.value) for e in decl.entries}
            for name, decl in decls.params.items()}


def reserved(name: str) -> bool:
    """Names a record's or a subject's fact cannot carry: the audit's own keys (`kind`, `id`, `seq` ...),
    the engine runner's (`_t`: every name starting with `_`), and the suffixes the audit adds (`__known`)."""
    return name in RESERVED_FIELDS or name.startswith("_") or "__" in name


def _reserved_hint(name: str) -> str:
    if name == "date":
        return "every record already has a date; pick another name"
    if name.startswith("_"):
        return "names starting with '_' belong to the rules engine; pick another name"
    return "the audit uses this name itself; pick another name"


def _criteria(tree: n.Protocol, diagnostics: list[Diagnostic]) -> dict[str, CriterionSpec]:
    criteria: dict[str, CriterionSpec] = {}
    for decl in tree.criteria:
        if decl.id in criteria:
            diagnostics.append(Diagnostic(f"criterion {decl.id} is declared twice", decl.id_span,
                                          f"the first {decl.id} is at line {criteria[decl.id].line}"))
            continue
        criteria[decl.id] = CriterionSpec(decl.id, decl.text, decl.manual, decl.id_span.line)
    return criteria


def _events(tree: n.Protocol, diagnostics: list[Diagnostic]) -> tuple[dict[str, EventSpec], set[str]]:
    events: dict[str, EventSpec] = {}
    units: set[str] = set()
    for decl in tree.events:
        if decl.name in events:
            diagnostics.append(Diagnostic(f"event {decl.name} is declared twice", decl.span))
            continue
        if decl.name.startswith("$") or decl.name == "subject":
            diagnostics.append(Diagnostic(f"'{decl.name}' cannot name an event", decl.span))
        fields: dict[str, FieldSpec] = {}
        for f in decl.fields:
            if f.name in fields:
                diagnostics.append(Diagnostic(f"field {f.name} is declared twice in event {decl.name}", f.span))
            if reserved(f.name):
                diagnostics.append(Diagnostic(f"'{f.name}' is reserved and cannot name a field", f.span,
                                              _reserved_hint(f.name)))
            if f.type not in FIELD_TYPES:
                diagnostics.append(Diagnostic(f"unknown field type '{f.type}'", f.type_span,
                                              did_you_mean(f.type, FIELD_TYPES) or f"types are {', '.join(FIELD_TYPES)}"))
            elif f.unit and f.type not in ("decimal", "integer"):
                diagnostics.append(Diagnostic(f"only numbers carry a unit; {f.name} is {f.type}", f.span))
            fields[f.name] = FieldSpec(f.name, f.type, f.unit, f.required, _empty_value(f, diagnostics))
            if f.unit:
                units.add(f.unit)
        events[decl.name] = EventSpec(decl.name, decl.label, decl.trial_level, fields)
        limits.check_event_width(decl, fields, diagnostics)
    return events, units


def _empty_value(decl: n.FieldDecl, diagnostics: list[Diagnostic]) -> Decimal | str | bool | None:
    """The value `empty means` gives an empty cell, checked against the field's type."""
    empty = decl.empty
    if empty is None:
        return None
    if decl.required:
        diagnostics.append(Diagnostic(f"{decl.name} is required, so it is never empty", empty.span,
                                      "drop `required`, or drop `empty means`"))
        return None
    wanted = {"boolean": n.Boolean, "text": n.Text, "integer": n.Quantity, "decimal": n.Quantity}.get(decl.type)
    if wanted is None:
        diagnostics.append(Diagnostic(f"an empty {decl.type} cannot stand for a value", empty.span,
                                      "`empty means` is for yes/no, number and text fields"))
        return None
    if not isinstance(empty, wanted) or decl.type == "integer" and empty.value != empty.value.to_integral_value():
        kind = {"boolean": "yes or no", "text": "a text in quotes", "integer": "a whole number"}.get(decl.type, "a number")
        diagnostics.append(Diagnostic(f"{decl.name} is {decl.type}; an empty one means {kind}", empty.span))
        return None
    return empty.value


def _groups(tree: n.Protocol, events: dict[str, EventSpec], diagnostics: list[Diagnostic]) -> dict[str, tuple[str, ...]]:
    """Groups become event types of their own (with a `type` field naming the member), added to `events`."""
    groups: dict[str, tuple[str, ...]] = {}
    for decl in tree.groups:
        if decl.name in events:
            diagnostics.append(Diagnostic(f"'{decl.name}' already names an event type", decl.span))
            continue
        members: list[str] = []
        for member, span in decl.members:
            event = events.get(member)
            if event is None:
                diagnostics.append(Diagnostic(f"unknown event type '{member}'", span, did_you_mean(member, events.keys())))
            elif event.trial_level:
                diagnostics.append(Diagnostic(f"{member} is a trial event; a group gathers a subject's records", span))
            elif member in members:
                diagnostics.append(Diagnostic(f"{member} is listed twice in group {decl.name}", span))
            else:
                members.append(member)
        groups[decl.name] = tuple(members)
        events[decl.name] = EventSpec(decl.name, decl.label, False, _group_fields(decl, members, events, diagnostics))
    return groups


def _group_fields(decl: n.GroupDecl, members: list[str], events: dict[str, EventSpec],
                  diagnostics: list[Diagnostic]) -> dict[str, FieldSpec]:
    """`type`, naming the member; a group of one event type also offers that type's fields, so that
    `a later_lab where test = ...` reads the sought record and not, silently, the one checked."""
    fields = {"type": FieldSpec("type", "text", None, True)}
    if len(members) != 1:
        return fields
    member = events[members[0]]
    if "type" in member.fields:
        diagnostics.append(Diagnostic(
            f"{member.name} has a field named 'type', which a record of group {decl.name} uses for its member type",
            decl.span, f"rename the field, or read {member.name} without the group"))
        return fields
    return {**member.fields, **fields}


def _attributes(tree: n.Protocol, events: dict[str, EventSpec],
                diagnostics: list[Diagnostic]) -> dict[str, tuple[str, str]]:
    attributes: dict[str, tuple[str, str]] = {}
    for decl in tree.subject_attributes:
        event = events.get(decl.event)
        if event is None:
            diagnostics.append(Diagnostic(f"unknown event type '{decl.event}'", decl.source_span,
                                          did_you_mean(decl.event, events.keys())))
            continue
        if event.trial_level:
            diagnostics.append(Diagnostic(f"{decl.event} is a trial event; a subject attribute needs a subject's "
                                          "record", decl.source_span))
        spec = event.fields.get(decl.field)
        if spec is None:
            fields = list(event.fields) + ["date"]
            diagnostics.append(Diagnostic(f"event {decl.event} has no field '{decl.field}'", decl.source_span,
                                          did_you_mean(decl.field, fields)))
            continue
        if spec.type not in ("integer", "decimal", "text", "boolean"):
            diagnostics.append(Diagnostic(f"a subject attribute must be an integer, decimal, text or boolean field; "
                                          f"{decl.event}.{decl.field} is {spec.type}", decl.source_span))
        if reserved(decl.name):
            diagnostics.append(Diagnostic(f"'{decl.name}' is reserved and cannot name a subject attribute",
                                          decl.span, _reserved_hint(decl.name)))
        if decl.name in attributes:
            diagnostics.append(Diagnostic(f"subject attribute {decl.name} is declared twice", decl.span))
        attributes[decl.name] = (decl.event, decl.field)
    return attributes


def _parameters(tree: n.Protocol, attributes: dict[str, tuple[str, str]],
                diagnostics: list[Diagnostic]) -> dict[str, n.ParamDecl]:
    params: dict[str, n.ParamDecl] = {}
    for decl in tree.parameters:
        if decl.name in params:
            diagnostics.append(Diagnostic(f"parameter {decl.name} is declared twice", decl.span))
        if decl.key_attribute is not None:
            if decl.key_attribute not in attributes:
                diagnostics.append(Diagnostic(f"unknown subject attribute '{decl.key_attribute}'", decl.span,
                                              did_you_mean(decl.key_attribute, attributes.keys())))
            units = {e.value.unit for e in decl.entries}
            if len(units) > 1:
                diagnostics.append(Diagnostic(f"the entries of {decl.name} mix units: "
                                              f"{', '.join(sorted(map(str, units)))}", decl.span))
            keys = [e.key for e in decl.entries]
            repeats = Counter(keys)  # counted once: keys.count per entry was quadratic in a long table
            for entry, key in zip(decl.entries, keys):
                if repeats[key] > 1:
                    diagnostics.append(Diagnostic(f"key {key} appears twice in {decl.name}", entry.span))
                    break
        params[decl.name] = decl
    return params


def _references(tree: n.Protocol, events: dict[str, EventSpec], groups: dict[str, tuple[str, ...]],
                attributes: dict[str, tuple[str, str]], params: dict[str, n.ParamDecl],
                diagnostics: list[Diagnostic]) -> dict[str, n.ReferenceDecl]:
    """Named references: a name of their own, and subject-level records on both sides."""
    references: dict[str, n.ReferenceDecl] = {}
    for decl in tree.references:
        taken = ("an event type" if decl.name in events else "a subject attribute" if decl.name in attributes
                 else "a parameter" if decl.name in params else "another reference" if decl.name in references
                 else None)
        if taken or reserved(decl.name) or decl.name == "subject":
            diagnostics.append(Diagnostic(f"'{decl.name}' already names {taken}" if taken else
                                          f"'{decl.name}' is reserved and cannot name a reference", decl.span,
                                          "give the reference a name of its own"))
            continue
        problem = _reference_problem(decl, events, groups)
        if problem is not None:
            diagnostics.append(problem)
            if problem.message.startswith("unknown") or "trial event" in problem.message:
                continue
        references[decl.name] = decl  # one never found still reads as a reference: one error, not three
    return references


def _reference_problem(decl: n.ReferenceDecl, events: dict[str, EventSpec],
                       groups: dict[str, tuple[str, ...]]) -> Diagnostic | None:
    for name, span in ((decl.event, decl.event_span), (decl.anchor_event, decl.anchor_span)):
        event = events.get(name)
        if event is None:
            return Diagnostic(f"unknown event type '{name}'", span, did_you_mean(name, events.keys()))
        if event.trial_level:
            return Diagnostic(f"{name} is a trial event; a reference finds a subject's record", span)
    # A reference no record can satisfy: nothing of a type comes before its first or after its last (nor
    # before the first record of a group it belongs to).
    edge = {"first": "before", "last": "after"}.get(decl.anchor_which)
    within = decl.event == decl.anchor_event or decl.event in groups.get(decl.anchor_event, ())
    if within and decl.side == edge and not decl.inclusive:
        anchor = f"{decl.anchor_which} {decl.anchor_event}"
        return Diagnostic(f"no {decl.event} is dated {edge} the subject's {anchor}, so "
                          f"{decl.name} would never be found", decl.anchor_span,
                          f"write `on or {edge}` to include the {anchor} itself, or "
                          f"use `{'previous' if edge == 'before' else 'next'} {decl.event}` in a rule checked "
                          f"for each {decl.event}")
    return None


def _site_zones(tree: n.Protocol, diagnostics: list[Diagnostic]) -> dict[str, str]:
    """Each site's time zone, an IANA name (`Europe/Berlin`); a site named twice or an unknown zone is an error."""
    zones: dict[str, str] = {}
    for decl in tree.sites:
        if zone_info(decl.zone) is None:
            diagnostics.append(Diagnostic(f"unknown time zone '{decl.zone}'", decl.zone_span,
                                          (did_you_mean(decl.zone, sorted(zone_names())) if len(decl.zone) <= 64
                                           else None) or
                                          "write an IANA time zone name, e.g. \"Europe/Berlin\""))
        elif decl.site in zones:
            diagnostics.append(Diagnostic(f"site {decl.site} is given a time zone twice", decl.span))
        else:
            zones[decl.site] = decl.zone
    return zones

