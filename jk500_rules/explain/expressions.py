"""Expressions as noun phrases: event types, the record checked, values, dates and counts in words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..compiler.model import CompiledProtocol
from ..dates import WEEKDAYS
from ..errors import Span
from ..language import nodes as n
from .names import Names, Scope
from .phrases import head_noun, human_name, label_noun, ordinal, plural

_COMMENT = re.compile(r'#[^"]*$|#(?=(?:[^"]*"[^"]*")*[^"]*$).*$')  # a comment: a `#` outside any text


@dataclass(frozen=True)
class DatePhrase:
    """A date as words; `head` when it is a record's day ("that infusion" can then name it again)."""

    text: str
    head: str | None = None

    def day(self) -> str:
        return f"the day of {self.text}" if self.head else self.text

    def again(self) -> str:
        return f"that {self.head}" if self.head else self.text


class NounPhrases:
    """One rule's expressions as noun phrases, one method per node type (`_np_<Node>`), never per rule id."""

    def __init__(self, protocol: CompiledProtocol, source: n.Source, names: Names):
        self.protocol = protocol
        self.source = source
        self.names = names
        self.lines = protocol.source.splitlines()
        self.trigger_scope = Scope(source)

    def noun(self, event: str) -> str:
        """An event type in words: its label where that reads as a noun, else its name."""
        spec = self.protocol.events.get(event)
        label = spec.label if spec is not None else None
        return (label_noun(label) if label else None) or human_name(event)

    def count_noun(self) -> str:
        """What a `count` source counts, per subject and period."""
        source = self.source
        things = plural(self.noun(source.event))
        if source.period == "subject":
            return f"a subject's total number of {things} (0 if none)"
        if source.period == "day":
            return f"the number of {things} a subject has on one day"
        if source.period == "week":
            start = WEEKDAYS.index(source.week_start or "monday")
            return (f"the number of {things} a subject has in one calendar week "
                    f"({WEEKDAYS[start].title()} to {WEEKDAYS[(start + 6) % 7].title()})")
        if source.period == "schedule":
            return f"the number of {things} a subject has in one window of {self.schedule_name()}"
        assert source.interval is not None
        if source.period == "due":
            assert source.tolerance is not None
            return (f"the number of {things} a subject has within "
                    f"{self.phrase(source.tolerance, self.trigger_scope)} of one due date")
        return (f"the number of {things} a subject has in one window of "
                f"{self.phrase(source.interval, self.trigger_scope)}")

    def schedule(self) -> n.ScheduleDecl:
        """The schedule a count per visit follows, as the rules text declares it."""
        return next(s for s in self.protocol.tree.schedules if s.name == self.source.schedule)

    def schedule_name(self, schedule: n.ScheduleDecl | None = None) -> str:
        schedule = schedule or self.schedule()
        return f"the schedule {schedule.name}" + (f" ({schedule.label})" if schedule.label else "")

    def trigger_ref(self) -> DatePhrase:
        """The record checked, named from inside a clause about another record."""
        source = self.source
        noun = self.noun(source.event)
        if source.form == "each":
            return DatePhrase(f"that {noun}", head_noun(noun))
        if source.form in ("first", "last"):
            return DatePhrase(f"the subject's {source.form} {noun}", head_noun(noun))
        return DatePhrase(f"that {source.form.removeprefix('group_')} {noun}", head_noun(noun))

    def phrase(self, expr: n.Expr, scope: Scope) -> str:
        return getattr(self, f"_np_{type(expr).__name__}")(expr, scope)  # type: ignore[no-any-return]

    def date(self, expr: n.Expr, scope: Scope) -> DatePhrase:
        """A date-valued expression: a record's day, a date field, or either shifted by a duration."""
        if isinstance(expr, n.Arith) and expr.op in "+-" and self.names.type_of(expr.right, scope) == "duration":
            base = self.date(expr.left, scope)
            word = "after" if expr.op == "+" else "before"
            return DatePhrase(f"{self.phrase(expr.right, scope)} {word} {base.text}")
        if isinstance(expr, (n.AnchorRef, n.RankedRef, n.RelativeRef)) and expr.field in (None, "date"):
            return DatePhrase(self.phrase(expr, scope), head_noun(self.noun(expr.event)))
        ref = self.names.resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        if ref is not None and ref.name == "date" and ref.kind == "trigger" and scope.current != "trigger":
            return self.trigger_ref()
        return DatePhrase(self.phrase(expr, scope))

    def _np_Quantity(self, expr: n.Quantity, scope: Scope) -> str:
        return self._written(expr.span)

    def _np_Text(self, expr: n.Text, scope: Scope) -> str:
        return f'"{expr.value}"'

    def _np_Boolean(self, expr: n.Boolean, scope: Scope) -> str:
        return "yes" if expr.value else "no"

    def _np_NameRef(self, expr: n.NameRef, scope: Scope) -> str:
        ref = self.names.resolve(expr, scope)
        if ref is None:
            return expr.name if expr.field is None else f"{expr.name}.{expr.field}"
        if ref.kind == "param":
            decl = self.names.params[ref.name]
            return self._written(decl.value.span) if decl.value is not None else human_name(ref.name)
        if ref.kind == "attribute":
            return f"the subject's {human_name(ref.name)}"
        if ref.kind == "count":
            return self._count_field(ref.name)
        if ref.kind == "reference":
            return self._reference(ref.record, ref.name)
        if ref.kind == "visit":
            return self._visit(ref.record, ref.name, scope)
        if ref.kind == "state":
            return f"the {ref.name} of {human_name(ref.record)}"
        if ref.kind == "formula":
            decl = self.names.formulas[ref.name]
            return f"the {decl.label[0].lower() + decl.label[1:]} ({ref.name})" if decl.label else human_name(ref.name)
        field = human_name(ref.name) if ref.kind == "group" else ref.name
        if scope.current == "named":  # outside any clause: name the record
            if ref.kind == "sought" and scope.sought:
                return f"the {field} field of the {self.noun(scope.sought)}"
            record = self.trigger_ref()
            return f"the {field} field of {record.text.replace('that ', 'the ', 1)}"
        if ref.kind == "sought" or scope.current == "trigger":
            return "its date" if ref.name == "date" else f"its {field}"
        trigger = self.trigger_ref().text
        return trigger if ref.name == "date" else f"{trigger}'s {field}"

    def _count_field(self, name: str) -> str:
        period = self.source.period
        if name == "count":
            return self.count_noun()
        if period == "schedule":
            return {"window": "the visit's number in the schedule (1, 2, ...)", "end": "the window's last day",
                    "start": "the window's first day", "visit": "the visit's name"}.get(name, "the visit's day")
        if name == "window":
            return "the window's number (1, 2, ...)"
        if name == "end":
            return "the window's last day"
        if period == "due":
            return "the due date"
        if period == "subject":
            return f"the subject's last {self.noun(self.source.event)} (the data cut-off if none)"
        return {"day": "that day", "week": "the week's first day"}.get(period or "", "the window's first day")

    def _np_AnchorRef(self, expr: n.AnchorRef, scope: Scope) -> str:
        record = f"the subject's {expr.which} {self.noun(expr.event)}"
        return record if expr.field in (None, "date") else f"the {expr.field} of {record}"

    def _np_RelativeRef(self, expr: n.RelativeRef, scope: Scope) -> str:
        record = f"the {expr.which} {self.noun(expr.event)}"
        return record if expr.field in (None, "date") else f"the {expr.field} of {record}"

    def _reference(self, name: str, field: str) -> str:
        record = human_name(name)
        return f"the date of {record}" if field == "date" else f"the {field} of {record}"

    def _visit(self, schedule: str, field: str, scope: Scope) -> str:
        whose = "its" if scope.current == "trigger" else f"{self.trigger_ref().text}'s"
        if field == "date":
            return f"the day of {whose} visit of the schedule {schedule}"
        return {"start": f"the first day of {whose} visit's window", "end": f"the last day of {whose} visit's window",
                "window": f"{whose} visit's number", "visit": f"{whose} visit's name"}[field]

    def visit_definition(self, schedule: str) -> str:
        """Which visit of a schedule a record is given, said once per rule."""
        noun = self.noun(self.source.event)
        decl = self.names.schedules[schedule]
        until = (f", or when it or that visit is dated after the subject's {decl.until.which} "
                 f"{self.noun(decl.until.event)}" if decl.until else "")
        return (f"A {noun}'s visit of the schedule {schedule} is the one whose window holds its date, else the one "
                "whose day is nearest it (of two as near, the earlier), if it lies within half the gap to the "
                f"visits either side; it has none when the subject has no {self.noun(decl.anchor.event)} to "
                f"count from{until}.")

    def reference_definition(self, node: n.Node) -> str:
        """What a reference finds, said once per rule: `Baseline anc is the subject's latest lab where ...`."""
        if isinstance(node, n.RelativeRef):
            order, side = ("latest", "before") if node.which == "previous" else ("earliest", "after")
            record = self.noun(node.event)
            return (f"The {node.which} {record} is the subject's {order} {record} dated {side} the day of "
                    f"{self.trigger_ref().text}; several that day that disagree make the check a possible "
                    "deviation.")
        assert isinstance(node, n.ReferenceDecl)
        found = Span(node.event_span.line, node.event_span.column, node.anchor_span.end_line,
                     node.anchor_span.end_column)
        ties = {"any": "judged by any of them", "each": "judged by each of them"}.get(
            node.ties or "", "a possible deviation if they disagree")
        name = human_name(node.name)
        named = f"{node.label} ({name})" if node.label else name.capitalize()
        return (f"{named} is the subject's {node.order} {self._written(found)}; with none, a check that reads it "
                f"is not evaluable; several that day are {ties}.")

    def _np_RankedRef(self, expr: n.RankedRef, scope: Scope) -> str:
        return (f"the {expr.which} {self.noun(expr.event)} of the {ordinal(expr.rank)} subject "
                f"of the {expr.relation} {human_name(expr.attribute)}")

    def _np_GroupStateRef(self, expr: n.GroupStateRef, scope: Scope) -> str:
        return f"the {expr.field} of {human_name(expr.state)} for the {expr.relation} {human_name(expr.attribute)}"

    def _np_Lookup(self, expr: n.Lookup, scope: Scope) -> str:
        decl = self.names.params.get(expr.table)
        entries = ", ".join(self._written(e.span) for e in decl.entries) if decl else ""
        key = self.names.resolve(expr.key, scope)
        if key is not None and key.kind in ("attribute", "group"):  # "the dose group's nominal dose"
            return f"the {human_name(key.name)}'s {human_name(expr.table)} ({entries})"
        return f"the {human_name(expr.table)} for {self.phrase(expr.key, scope)} ({entries})"

    def _np_Elapsed(self, expr: n.Elapsed, scope: Scope) -> str:
        start, end = self.phrase(expr.start, scope), self.phrase(expr.end, scope)
        birth = isinstance(expr.start, n.NameRef) and "birth" in (expr.start.field or expr.start.name)
        if expr.unit == "years" and birth:
            return f"the subject's age in completed years from {start} to {end}"
        return f"the number of completed {expr.unit} from {start} to {end}"

    def _np_Arith(self, expr: n.Arith, scope: Scope) -> str:
        if self.names.type_of(expr, scope) in ("date", "datetime"):
            return self.date(expr, scope).text
        left, right = self.phrase(expr.left, scope), self.phrase(expr.right, scope)
        # Parentheses where the order of operations needs them, as the rules text writes them.
        if expr.op in "*/" and isinstance(expr.left, n.Arith) and expr.left.op in "+-":
            left = f"({left})"
        if isinstance(expr.right, n.Arith) and (expr.op == "/" or expr.op in "*-" and expr.right.op in "+-"):
            right = f"({right})"
        word = {"*": "times", "/": "divided by", "+": "plus", "-": "minus"}[expr.op]
        return f"{left} {word} {right}"

    def _written(self, span: Span) -> str:
        """A quantity or table entry as the rules text writes it, on one line ("10 %" as "10%")."""
        lines = self.lines[span.line - 1:span.end_line]
        if len(lines) == 1:
            text = lines[0][span.column - 1:span.end_column - 1]
        else:
            pieces = [lines[0][span.column - 1:], *lines[1:-1], lines[-1][:span.end_column - 1]]
            text = " ".join(_COMMENT.sub("", piece) for piece in pieces)
        return re.sub(r"(\d) %", r"\1%", re.sub(r"\s+", " ", text).strip())
