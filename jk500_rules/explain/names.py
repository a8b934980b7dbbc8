"""Name resolution as the compiler does it: what each name of a rule's check refers to, and its type."""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.model import DURATION_UNITS, CompiledProtocol
from ..compiler.references import VISIT_FIELDS
from ..language import nodes as n


@dataclass(frozen=True)
class Scope:
    """Whose names a condition reads: the record checked, and the record an `a X where` clause seeks."""

    source: n.Source
    sought: str | None = None
    current: str = "trigger"  # whose fields "its" names: "trigger", "sought", "" (nobody's); "named": none, in full


@dataclass(frozen=True)
class ResolvedName:
    """A name resolved as the compiler resolves it."""

    kind: str  # sought | trigger | attribute | param | group | count | reference | visit | state | formula
    name: str
    type: str
    optional: bool = False
    record: str = ""  # a reference, or a schedule whose visit is read: its name


class Names:
    """The names one rule's check can read: the record sought, the record checked, the subject, parameters."""

    def __init__(self, protocol: CompiledProtocol, source: n.Source):
        assert protocol.tree is not None
        self.protocol = protocol
        self.source = source
        self.params = {p.name: p for p in protocol.tree.parameters}
        self.references = {r.name: r for r in protocol.tree.references}
        self.schedules = {s.name: s for s in protocol.tree.schedules}
        self.states = {s.name: s for s in protocol.tree.states}
        self.formulas = {f.name: f for f in protocol.tree.formulas}

    def resolve(self, expr: n.Expr, scope: Scope) -> ResolvedName | None:
        """A name as the compiler reads it: the record sought, the record checked, the subject, a parameter."""
        if not isinstance(expr, n.NameRef):
            return None
        sought = self._event_fields(scope.sought) if scope.sought else {}
        trigger = self._trigger_fields()
        if expr.field is not None:
            record, name = expr.name, expr.field
            if scope.sought and record == scope.sought and name in sought:
                return ResolvedName("sought", name, *sought[name])
            if record == self.source.event and name in trigger:
                return ResolvedName(self._trigger_kind(name), name, *trigger[name])
            if record == "subject" and name in self.protocol.subject_attributes:
                return ResolvedName("attribute", name, self._attribute_type(name), True)
            if record in self.references:
                return self._reference(record, name)
            if record in self.schedules and name in VISIT_FIELDS:
                return ResolvedName("visit", name, VISIT_FIELDS[name], record=record)
            if record in self.states and name in ("start", "end"):
                return ResolvedName("state", name, "date", name == "end", record=record)
            return None
        name = expr.name
        if name in sought:
            return ResolvedName("sought", name, *sought[name])
        if name in trigger:
            return ResolvedName(self._trigger_kind(name), name, *trigger[name])
        if name in self.protocol.subject_attributes:
            return ResolvedName("attribute", name, self._attribute_type(name), True)
        if name in self.references:
            return self._reference(name, "date")
        if name in self.schedules:
            return ResolvedName("visit", "date", "date", record=name)
        if name in self.states:
            return ResolvedName("state", "start", "date", record=name)
        if name in self.formulas:
            return ResolvedName("formula", name, "number", True, record=name)
        if name in self.params:
            decl = self.params[name]
            return ResolvedName("param", name, _quantity_kind(decl.value) if decl.value else "table")
        return None

    def type_of(self, expr: n.Expr, scope: Scope) -> str:
        if isinstance(expr, n.Quantity):
            return _quantity_kind(expr)
        if isinstance(expr, n.Text):
            return "text"
        if isinstance(expr, n.Boolean):
            return "boolean"
        if isinstance(expr, n.NameRef):
            ref = self.resolve(expr, scope)
            return ref.type if ref else "number"
        if isinstance(expr, n.AnchorRef):
            return "date" if expr.field in (None, "date") else self._event_fields(expr.event)[expr.field or ""][0]
        if isinstance(expr, (n.RankedRef, n.GroupStateRef)):
            return "date"
        if isinstance(expr, n.RelativeRef):
            return "date" if expr.field in (None, "date") else self._event_fields(expr.event)[expr.field][0]
        if isinstance(expr, n.Lookup):
            return "number"
        if isinstance(expr, n.Elapsed):
            return "elapsed"
        left = self.type_of(expr.left, scope)
        return left if left in ("date", "datetime", "duration") else self.type_of(expr.right, scope)

    def is_constant(self, expr: n.Expr, scope: Scope) -> bool:
        if isinstance(expr, (n.Quantity, n.Text, n.Boolean)):
            return True
        ref = self.resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        return ref is not None and ref.kind == "param"

    def constant(self, expr: n.Expr, scope: Scope) -> n.Quantity | None:
        if isinstance(expr, n.Quantity):
            return expr
        ref = self.resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        if ref is not None and ref.kind == "param":
            return self.params[ref.name].value
        return None

    def is_trigger(self, ref: n.AnchorRef) -> bool:
        """Whether `ref` names the record checked itself."""
        return ref.which == self.source.form and ref.event == self.source.event

    def _trigger_fields(self) -> dict[str, tuple[str, bool]]:
        """Field -> (type, optional) of the record checked."""
        source = self.source
        if source.form == "count":
            fields = {"count": ("number", False), "date": ("date", False)}
            if source.period in ("window", "due", "schedule"):
                fields |= {"end": ("date", False), "window": ("number", False)}
            if source.period == "schedule":
                fields |= {"start": ("date", False), "visit": ("text", False)}
            return fields
        if source.form.startswith("group_"):
            attribute = source.attribute or ""
            return {"date": ("date", False), attribute: (self._attribute_type(attribute), False)}
        return self._event_fields(source.event)

    def _event_fields(self, event: str) -> dict[str, tuple[str, bool]]:
        spec = self.protocol.events[event]
        fields = {f.name: (_value_kind(f.type), f.may_be_unknown) for f in spec.fields.values()}
        return fields | {"date": ("date", False)}

    def _reference(self, record: str, name: str) -> ResolvedName | None:
        fields = self._event_fields(self.references[record].event)
        if name not in fields:
            return None
        return ResolvedName("reference", name, fields[name][0], True, record)

    def _attribute_type(self, name: str) -> str:
        event, fname = self.protocol.subject_attributes[name]
        return _value_kind(self.protocol.events[event].fields[fname].type)

    def _trigger_kind(self, name: str) -> str:
        if self.source.form == "count":
            return "count"
        if self.source.form.startswith("group_") and name == self.source.attribute:
            return "group"
        return "trigger"


def _value_kind(field_type: str) -> str:
    return "number" if field_type in ("integer", "decimal") else field_type


def _quantity_kind(q: n.Quantity | None) -> str:
    if q is None or q.unit is None:
        return "number"
    if q.unit == "%":
        return "percent"
    return "duration" if q.unit in DURATION_UNITS else "number"
