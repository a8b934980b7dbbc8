"""Pass 1b, its names: each name a rule's conditions use, bound to the record and field it reads, typed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import Span, did_you_mean
from ..language import nodes as n
from .declare import Declarations
from .model import DECIMAL_SCALE, FOUND, STATE_ALIAS, STATE_PREFIX, VISIT_PREFIX, FieldSpec, Pattern, Schedule, Test, Window
from .operands import Unsupported, Value, typed_quantity

# What a rule makes the audit build, recorded as names resolve and summed up by the plan pass:
# ("event", name), ("group_read", group, first|last|all), ("count", event, period, week start),
# ("group_first", event, which, attribute), ("rank", event, which, attribute, rank), ("window", Window),
# ("subject",), ("reference", name), ("relative", previous|next, event, the event type checked),
# ("visit_of", Window): each record of the window's event given its visit of a schedule; ("state", name): a
# trial state; ("state_trigger", event, which): each subject's first (last) record of a type, in the trial session.
Read = tuple


@dataclass
class Scope:
    """The records a rule's names can refer to, innermost first."""

    trigger: n.Source
    level: str  # subject | trial
    exists_event: str | None = None
    in_exists: bool = False
    names_found: bool = False  # `dated by` of a `forbid a X` rule: `X.date` is the record found
    inner_alias: str = "x"  # the alias of the record a `require a`/`needs a`/`unless a` clause seeks
    finding: str | None = None  # the reference whose candidates this scope finds (its `where`)


@dataclass
class References:
    """Binds the names of one rule; collects its anchors (records besides the trigger) and what it reads."""

    decls: Declarations
    scope: Scope
    used_params: set[str]
    anchors: dict[tuple, Pattern] = field(default_factory=dict)  # in order of first mention
    reads: set[Read] = field(default_factory=set)
    values: dict[n.Node, Value] = field(default_factory=dict)
    open_formulas: set[str] = field(default_factory=set)  # formulas whose bodies are being bound

    def walk(self, expr: n.Expr) -> None:
        """Bind every name in an expression (raises Unsupported at the first that does not resolve)."""
        if isinstance(expr, n.Arith):
            self.walk(expr.left)
            self.walk(expr.right)
        elif isinstance(expr, n.Elapsed):
            self.walk(expr.start)
            self.walk(expr.end)
        elif isinstance(expr, n.Lookup):
            decl = self.decls.params.get(expr.table)
            self.used_params.add(expr.table)
            if decl is None or decl.key_attribute is None:
                tables = [p for p, d in self.decls.params.items() if d.key_attribute]
                raise Unsupported(f"'{expr.table}' is not a table parameter", expr.span,
                                  did_you_mean(expr.table, tables))
            self.walk(expr.key)
        elif isinstance(expr, n.AnchorRef):
            self.values[expr] = anchor_value(self, expr)
        elif isinstance(expr, n.RankedRef):
            self.values[expr] = ranked_value(self, expr)
        elif isinstance(expr, n.GroupStateRef):
            self.values[expr] = group_state_value(self, expr)
        elif isinstance(expr, n.RelativeRef):
            self.values[expr] = relative_value(self, expr)
        elif isinstance(expr, n.NameRef):
            self.values[expr] = self._name(expr)

    def use_subject(self) -> None:
        self.reads.add(("subject",))

    def use_schedule(self, name: str) -> Schedule:
        """A declared schedule a rule reads: its parameters and itself used, its anchor and end records read."""
        schedule = self.decls.schedules[name]
        self.used_params |= schedule.params | {f"schedule {name}"}
        self.reads.update(("event", event) for event in (schedule.anchor, schedule.until) if event)
        return schedule

    def trigger_fields(self) -> set[str]:
        source = self.scope.trigger
        if source.form == "count":
            if source.period == "schedule":
                return {"count", "date", "start", "end", "window", "visit"}
            return {"count", "date", "end", "window"} if source.period in ("window", "due") else {"count", "date"}
        if source.form.startswith("group_"):
            return {"date", source.attribute or ""}
        return set(self.decls.events[source.event].fields) | {"date"}

    def _name(self, ref: n.NameRef) -> Value:
        scope, decls = self.scope, self.decls
        if ref.field is not None:
            record = ref.name
            if (scope.in_exists or scope.names_found) and record == scope.exists_event:
                return self.field_value(scope.inner_alias, record, ref.field, ref.span)
            if record == CHECKED and ref.field.startswith(NEAR_PREFIX):
                return Value("date", ref.span, alias="t", field=ref.field)
            if record == scope.trigger.event or record == CHECKED:
                return self._trigger_field(ref.field, ref.span)
            if record == "subject":
                return self._attribute(ref.field, ref.span)
            if record in decls.references:
                return reference_value(self, decls.references[record], ref.field, ref.span)
            if record in decls.schedules:
                return schedule_value(self, record, ref.field, ref.span)
            if record in decls.states:
                return state_value(self, record, ref.field, ref.span)
            known = [scope.trigger.event] + ([scope.exists_event] if scope.in_exists and scope.exists_event else [])
            raise Unsupported(f"'{record}' is not a record this rule can read", ref.span,
                              did_you_mean(record, known) or f"this rule reads {', '.join(known)}")
        name = ref.name
        if scope.in_exists and scope.exists_event:
            event = decls.events[scope.exists_event]
            if name in event.fields or name == "date":
                return self.field_value(scope.inner_alias, scope.exists_event, name, ref.span)
            if name in self.trigger_fields():
                # Reading the checked record's field here silently judged the wrong record (issue 15).
                raise Unsupported(f"'{name}' is not a field of {scope.exists_event}", ref.span,
                                  f"write {scope.trigger.event}.{name} to mean the checked record's")
            self._refuse_member_field(scope.exists_event, name, ref.span)
        if name not in self.trigger_fields():
            self.refuse_unread_field(name, ref.span)
        if name in self.trigger_fields():
            return self._trigger_field(name, ref.span)
        if name in decls.attributes:
            return self._attribute(name, ref.span)
        if name in decls.references:
            return reference_value(self, decls.references[name], None, ref.span)
        if name in decls.schedules:
            return schedule_value(self, name, None, ref.span)
        if name in decls.states:
            return state_value(self, name, None, ref.span)
        if name in decls.formulas:
            return self._formula(decls.formulas[name], ref.span)
        if name in decls.params:
            self.used_params.add(name)
            decl = decls.params[name]
            if decl.value is None:
                raise Unsupported(f"{name} is a table; look it up with {name}[{decl.key_attribute}]", ref.span)
            return replace(typed_quantity(decl.value, decls.units), span=ref.span)
        choices = set(self.trigger_fields()) | set(decls.attributes) | set(decls.params) | set(decls.references) | \
            set(decls.formulas)
        if scope.in_exists and scope.exists_event:
            choices |= set(decls.events[scope.exists_event].fields)
        raise Unsupported(f"unknown name '{name}'", ref.span,
                          did_you_mean(name, choices) or "declare it as a field, subject attribute or parameter")

    def _formula(self, decl: n.FormulaDecl, span: Span) -> Value:
        """A formula read by a rule: its body's names bound in the rule's scope, as if it were a field of the
        record checked (a formula in `a X where ...` still reads the record checked, not X)."""
        _refuse_in_finder(self, decl.name, span)
        if decl.name in self.open_formulas:
            raise Unsupported(f"formula {decl.name} reads itself", span, "a formula cannot read its own value")
        scope = self.scope
        saved = scope.in_exists
        scope.in_exists = False
        self.open_formulas.add(decl.name)
        try:
            self.walk(decl.body)
        finally:
            scope.in_exists = saved
            self.open_formulas.discard(decl.name)
        self.used_params.add(f"formula {decl.name}")
        self.reads.add(("formula", decl.name))
        return Value("number", span, formula=decl.name)

    def _refuse_member_field(self, group: str, name: str, span: Span) -> None:
        """A field of some members of a group of several types: the group's records do not carry it."""
        members = self.decls.groups.get(group, ())
        owners = [m for m in members if name in self.decls.events[m].fields]
        if len(members) > 1 and owners:
            raise Unsupported(f"'{name}' is a field of {' and '.join(owners)}, but a {group} record "
                              f"(any of {', '.join(members)}) has only date and type", span,
                              f"read {owners[0]} itself, or make {group} a group of one event type")

    def refuse_unread_field(self, name: str, span: Span) -> None:
        """A field of the records behind a count or a group's first, which such a fact does not carry.

        Falling through to a subject attribute or parameter of the same name would read something the
        writer did not mean, so the name is an error here.
        """
        source = self.scope.trigger
        if source.form == "count":
            offered = {"window": "count, date, end and window", "due": "count, date, end and window",
                       "schedule": "count, date, start, end, window and visit"}.get(source.period or "", "count and date")
            if name in self.decls.events[source.event].fields:
                raise Unsupported(f"'{name}' is a field of {source.event}, but this rule checks a count of "
                                  f"{source.event} records, which offers only {offered}", span,
                                  "a count offers the count and its dates, not the records counted")
        elif source.form.startswith("group_"):
            if name in self.decls.events[source.event].fields:
                raise Unsupported(f"'{name}' is a field of {source.event}, but this rule checks the "
                                  f"{source.form.removeprefix('group_')} {source.event} of each {source.attribute}, "
                                  f"which offers only date and {source.attribute}", span,
                                  f"read {source.event}.{name} in a rule checked for each {source.event}")
        elif source.event in self.decls.groups:
            self._refuse_member_field(source.event, name, span)

    def _trigger_field(self, name: str, span: Span) -> Value:
        source = self.scope.trigger
        if source.form == "count":
            if name == "count" and source.period in ("due", "schedule"):
                # A partly dated record may or may not lie in a window (an interval of counts); a visit
                # an end of treatment dated only to the month may or may not precede is not known due.
                return Value("number", span, alias="t", field=name, optional=True, spread=True)
            if name in ("count", "window"):
                return Value("number", span, alias="t", field=name)
            if name == "visit":
                return Value("text", span, alias="t", field=name)
            return Value("date", span, alias="t", field=name)
        if source.form.startswith("group_"):
            if name == source.attribute:
                event, fname = self.decls.attributes[name]
                return typed_ref("t", "group", self.decls.events[event].fields[fname], span, optional=False)
            return Value("date", span, alias="t", field="date")
        return self.field_value("t", source.event, name, span)

    def field_value(self, alias: str, event: str, name: str, span: Span) -> Value:
        if name == "date":
            return Value("date", span, alias=alias, field="date")
        spec = self.decls.events[event].fields.get(name)
        if spec is None:
            raise self.decls.unknown_field(event, name, span)
        return typed_ref(alias, name, spec, span, optional=spec.may_be_unknown)

    def _attribute(self, name: str, span: Span) -> Value:
        decls = self.decls
        if name not in decls.attributes:
            raise Unsupported(f"unknown subject attribute '{name}'", span, did_you_mean(name, decls.attributes.keys()))
        if self.scope.level != "subject":
            raise Unsupported(f"a trial-level rule cannot read the subject attribute {name}", span)
        self.use_subject()
        self.anchors.setdefault(("subject",), Pattern("subject", "$subject", label="subject"))
        event, fname = decls.attributes[name]
        return typed_ref("subject", name, decls.events[event].fields[fname], span, optional=True)


def anchor_value(refs: References, ref: n.AnchorRef) -> Value:
    """`first infusion.date`: a subject's first or last record of a type, an anchor pattern of the rule."""
    event = refs.decls.events.get(ref.event)
    if event is None:
        raise refs.decls.unknown_event(ref.event, ref.span)
    level = refs.scope.level
    if event.trial_level or level != "subject":
        raise Unsupported(f"'{ref.which} {ref.event}' is a subject's record; this rule is trial-level"
                          if level != "subject" else f"{ref.event} is a trial event", ref.span)
    source = refs.scope.trigger
    refs.reads.add(("event", ref.event))
    if ref.event in refs.decls.groups:
        refs.reads.add(("group_read", ref.event, ref.which))
    if source.form == ref.which and source.event == ref.event:
        alias = "t"
    else:
        alias = f"{ref.which[0]}_{ref.event}"
        seq = "seq" if ref.which == "first" else "rseq"
        refs.anchors.setdefault((ref.which, ref.event),
                                Pattern(alias, ref.event, (Test(alias, seq, "=", 1),), f"{ref.which} {ref.event}"))
    return refs.field_value(alias, ref.event, ref.field or "date", ref.span)


def ranked_value(refs: References, ref: n.RankedRef) -> Value:
    """`the 3rd subject's last infusion in the previous dose group`: a rank fact of the trial session."""
    decls, source = refs.decls, refs.scope.trigger
    if not source.form.startswith("group_") or source.attribute != ref.attribute:
        raise Unsupported(f"'the {ref.rank}th subject's ...' needs a rule checked per {ref.attribute} group",
                          ref.span, f"check it 'for first <event> of each {ref.attribute}'")
    if ref.field not in (None, "date"):
        raise Unsupported("a ranked subject's record offers only its date", ref.span)
    if ref.event not in decls.events or decls.events[ref.event].trial_level:
        raise Unsupported(f"'{ref.event}' is not a subject-level event type", ref.span,
                          did_you_mean(ref.event, decls.events.keys()))
    if ref.relation == "previous":
        event, fname = decls.attributes[ref.attribute]
        if decls.events[event].fields[fname].type != "integer":
            raise Unsupported(f"'the previous {ref.attribute}' needs whole-number groups; "
                              f"{event}.{fname} is {decls.events[event].fields[fname].type}", ref.span)
    refs.reads.add(("rank", ref.event, ref.which, ref.attribute, ref.rank))
    refs.reads.add(("event", ref.event))
    refs.use_subject()
    alias = f"r{ref.rank}_{ref.which}_{ref.event}_{ref.relation}"
    shift = 1 if ref.relation == "previous" else 0
    ident = (Test(alias, "event", "=", ref.event), Test(alias, "which", "=", ref.which),
             Test(alias, "attribute", "=", ref.attribute), Test(alias, "rank", "=", ref.rank),
             Test(alias, "group", "=", other="t", other_field="group", offset=-shift))
    refs.anchors.setdefault(("rank", alias), Pattern(alias, "$rank", ident,
                                                     f"{ref.which} {ref.event} of the {ref.rank} subject"))
    return Value("date", ref.span, alias=alias, field="date")


# The record a reference's finder is anchored at, whatever its type, and the id of a finder's rule:
# names no rules text can write.
CHECKED = "$checked"
FINDER_PREFIX = "$find:"
NEAR_PREFIX = "near__"  # an anchor's nearest day on a reference's side (`__`: no field can be named so)


def reference_value(refs: References, decl: n.ReferenceDecl, fname: str | None, span: Span) -> Value:
    """`baseline_anc.result`: a field of the record a named reference finds, a pattern of the rule."""
    source = refs.scope.trigger
    _refuse_in_finder(refs, decl.name, span)
    if refs.scope.level != "subject":
        raise Unsupported(f"{decl.name} is a subject's record; this rule is trial-level", span)
    each = decl.anchor_which == "each"
    if each and (source.form not in ("each", "first", "last") or source.event != decl.anchor_event):
        raise Unsupported(f"{decl.name} is found for each {decl.anchor_event} checked; this rule checks "
                          f"{_checked_words(source)}", span,
                          f"read it in a rule checked for each {decl.anchor_event}, or anchor it at first "
                          f"{decl.anchor_event}")
    refs.reads.add(("reference", decl.name))
    return _found_value(refs, f"ref_{decl.name}", decl.name, decl.event, each, decl.name, fname, span)


def relative_value(refs: References, ref: n.RelativeRef) -> Value:
    """`previous dosing.dose`: a field of the subject's record of a type dated just before the one checked."""
    source = refs.scope.trigger
    label = f"{ref.which} {ref.event}"
    _refuse_in_finder(refs, label, ref.span)
    event = refs.decls.events.get(ref.event)
    if event is None:
        raise refs.decls.unknown_event(ref.event, ref.span)
    if event.trial_level or refs.scope.level != "subject":
        raise Unsupported(f"{ref.event} is a trial event" if event.trial_level else
                          f"'{label}' is a subject's record; this rule is trial-level", ref.span)
    if source.form not in ("each", "first", "last"):
        raise Unsupported(f"'{label}' is relative to the record checked; this rule checks {_checked_words(source)}",
                          ref.span, "read it in a rule checked for each, first or last record of a type")
    key = f"{label}@{source.event}"
    refs.reads.add(("relative", ref.which, ref.event, source.event))
    return _found_value(refs, f"{ref.which[:4]}_{ref.event}", key, ref.event, True, label, ref.field, ref.span)


def _found_value(refs: References, alias: str, key: str, event: str, each: bool, label: str,
                 fname: str | None, span: Span) -> Value:
    identity = (Test(alias, "refname", "=", key),)
    if each:
        identity += (Test(alias, "of", "=", other="t", other_field="ref"),)
    refs.anchors.setdefault(("reference", alias), Pattern(alias, "$ref", identity, label))
    refs.reads.add(("event", event))
    if fname is None or fname == "date":
        return Value("date", span, alias=alias, field="date", guard=FOUND)
    spec = refs.decls.events[event].fields.get(fname)
    if spec is None:
        raise refs.decls.unknown_field(event, fname, span)
    return replace(typed_ref(alias, fname, spec, span, optional=spec.may_be_unknown), guard=FOUND)


# What a record's visit of a schedule offers: `follow_up.start` and the rest (`follow_up` alone: its day).
VISIT_FIELDS = {"date": "date", "start": "date", "end": "date", "window": "number", "visit": "text"}


def schedule_value(refs: References, name: str, fname: str | None, span: Span) -> Value:
    """`follow_up.start`: a field of the visit of a schedule that the record checked belongs to."""
    source = refs.scope.trigger
    _refuse_in_finder(refs, name, span)
    if refs.scope.level != "subject":
        raise Unsupported(f"{name} gives the visit of a subject's record; this rule checks a trial event", span)
    if source.form not in ("each", "first", "last"):
        hint = (f"this rule counts per visit of {name}: its window's fields are the count's own (`start`, `end`, "
                "`visit`)" if source.period == "schedule" and source.schedule == name else
                f"read it in a rule checked for each record of a type, e.g. `for each {source.event}`")
        raise Unsupported(f"{name} gives the visit of the record checked; this rule checks {_checked_words(source)}",
                          span, hint)
    field_name = fname or "date"
    if field_name not in VISIT_FIELDS:
        raise Unsupported(f"a visit of schedule {name} has no '{field_name}'", span,
                          did_you_mean(field_name, VISIT_FIELDS) or f"it has {', '.join(VISIT_FIELDS)}")
    window = refs.use_schedule(name).window(source.event)
    refs.reads.add(("visit_of", window))
    alias = f"{VISIT_PREFIX}{name}"
    identity = (Test(alias, "refname", "=", visit_key(window)), Test(alias, "of", "=", other="t", other_field="ref"))
    refs.anchors.setdefault(("reference", alias), Pattern(alias, "$ref", identity, name))
    return Value(VISIT_FIELDS[field_name], span, alias=alias, field=field_name, guard=FOUND)


def state_value(refs: References, name: str, fname: str | None, span: Span) -> Value:
    """`enrolment_pause.start`: a field of a trial state; a state that never started has no fact, so every
    condition on it is false (no pause: no first dose given during one)."""
    decl = refs.decls.states[name]
    _refuse_in_finder(refs, name, span)
    if decl.per is not None:
        raise Unsupported(f"{name} is kept per {decl.per}", span,
                          f"write `{name}.{fname or 'start'} for the same {decl.per}` (or `the previous`) in a rule "
                          f"checked for the first record of each {decl.per}")
    alias = f"{STATE_ALIAS}{name}"
    return _state(refs, name, fname, span, alias, (Test(alias, "refname", "=", STATE_PREFIX + name),))


def group_state_value(refs: References, ref: n.GroupStateRef) -> Value:
    """`cohort_done.start for the previous dose_group`: the state of the group checked, or of the one before."""
    decl = refs.decls.states.get(ref.state)
    if decl is None:
        raise Unsupported(f"unknown state '{ref.state}'", ref.span, did_you_mean(ref.state, refs.decls.states))
    source = refs.scope.trigger
    if decl.per != ref.attribute:
        raise Unsupported(f"{ref.state} is " + (f"kept per {decl.per}" if decl.per else "one state for the whole trial"),
                          ref.attribute_span, f"write `{ref.state}.{ref.field}`" if decl.per is None else None)
    if not source.form.startswith("group_") or source.attribute != ref.attribute:
        raise Unsupported(f"'{ref.state}.{ref.field} for the {ref.relation} {ref.attribute}' needs a rule checked per "
                          f"{ref.attribute} group", ref.span, f"check it 'for first <event> of each {ref.attribute}'")
    if ref.relation == "previous":
        event, fname = refs.decls.attributes[ref.attribute]
        if refs.decls.events[event].fields[fname].type != "integer":
            raise Unsupported(f"'the previous {ref.attribute}' needs whole-number groups; "
                              f"{event}.{fname} is {refs.decls.events[event].fields[fname].type}", ref.span)
    alias = f"{STATE_ALIAS}{ref.state}_{ref.relation}"
    identity = (Test(alias, "refname", "=", STATE_PREFIX + ref.state),
                Test(alias, "group", "=", other="t", other_field="group", offset=-1 if ref.relation == "previous" else 0))
    return _state(refs, ref.state, ref.field, ref.span, alias, identity)


def _state(refs: References, name: str, fname: str | None, span: Span, alias: str, identity: tuple[Test, ...]) -> Value:
    if fname not in (None, "start", "end"):
        raise Unsupported(f"a state has a start and an end, not '{fname}'", span,
                          did_you_mean(fname or "", ("start", "end")) or f"read {name}.start or {name}.end")
    if refs.scope.level != "trial":
        source = refs.scope.trigger
        raise Unsupported(f"{name} is a trial state; this rule checks {_checked_words(source)}", span,
                          "a rule reading a trial state is checked for a subject's first or last record of a type, "
                          "or for a trial event or a group's first record")
    refs.reads.add(("state", name))
    refs.anchors.setdefault(("state", alias), Pattern(alias, "$state", identity, name))
    if fname == "end":
        return Value("date", span, alias=alias, field="end", optional=True, guard=FOUND)
    return Value("date", span, alias=alias, field="start", guard=FOUND)


def visit_key(window: Window) -> str:
    """The `refname` of the facts that give each record of `window.event` its visit of the schedule."""
    return f"visit {window.schedule}@{window.event}"


def _refuse_in_finder(refs: References, label: str, span: Span) -> None:
    finding = refs.scope.finding
    if finding is not None:
        raise Unsupported(f"{finding} is found before any rule is judged, so its `where` cannot read {label}, "
                          "which is found at the same time", span,
                          "compare the two in the rule that reads them")


def _checked_words(source: n.Source) -> str:
    if source.form == "count":
        return f"a count of {source.event} records"
    if source.form.startswith("group_"):
        return f"the {source.form.removeprefix('group_')} {source.event} of each {source.attribute}"
    return f"{source.form} {source.event}"


def typed_ref(alias: str, fname: str, spec: FieldSpec, span: Span, optional: bool) -> Value:
    """A field of a record as an operand, typed by its declaration (decimals scaled to integers)."""
    if spec.type == "date":
        return Value("date", span, alias=alias, field=fname, optional=optional)
    if spec.type in ("time", "datetime"):
        return Value(spec.type, span, alias=alias, field=fname, optional=optional)
    if spec.type in ("integer", "decimal"):
        scale = DECIMAL_SCALE if spec.type == "decimal" else 1
        return Value("number", span, alias=alias, field=fname, scale=scale, unit=spec.unit, optional=optional)
    return Value(spec.type, span, alias=alias, field=fname, optional=optional)
