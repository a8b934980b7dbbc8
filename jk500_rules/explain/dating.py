"""Which date a rule's findings carry, and how many findings one deviation makes, in words.

It follows engine/occurrences.py: the record that breaks the rule, the due date of something required
that never came, the record checked otherwise; `dated by` and `report ...` as the rules text states them.
"""

from __future__ import annotations

from dataclasses import replace

from .context import RuleContext
from .phrases import plural


class DatingSentences(RuleContext):
    """The sentences saying when a rule's findings are dated, and how they are counted."""

    def dating_sentence(self) -> list[str]:
        return [f"Each finding is dated {self._date_phrase()}{self._count_phrase()}."]

    def _date_phrase(self) -> str:
        compiled, verdict = self.compiled, self.check.verdict
        scope = replace(self.trigger_scope, current="")
        if self.rule.dated_by is not None:
            return f"{self.nouns.date(self.rule.dated_by, scope).text}, as the rules state"
        checked = self._checked_day()
        if compiled.mode == "forbid":
            if compiled.checked_for in ("first", "last") and verdict.exists_event is not None:
                sought = self.nouns.noun(verdict.exists_event)
                return f"on the day of the {sought} found (the latest, when there are several)"
            return checked
        if compiled.deciding and verdict.exists_event is not None:
            sought = self.nouns.noun(verdict.exists_event)
            return f"on the day of the latest {sought} that the rule's `needs` accepts (none of them qualified)" \
                + self._not_evaluable_phrase(checked)
        due = f"on the day it was due ({self.nouns.date(verdict.due, scope).text})" \
            if compiled.due_date is not None and verdict.due is not None else None
        if compiled.breaks:
            past = f"on the day of the {self.nouns.noun(self.source.event)} that took the count past the limit"
            if not self._may_fall_short():
                return past + self._not_evaluable_phrase(checked)
            return f"{past}; when the count is short, {due or checked}" + self._not_evaluable_phrase(checked)
        return due + self._not_evaluable_phrase(checked) if due is not None else checked

    def _not_evaluable_phrase(self, checked: str) -> str:
        """Only a deviation is dated by a record past a limit, the records sought or a due date: a finding not
        evaluable, or one a partial date leaves undecided, is dated on the record checked
        (engine/occurrences.py). Said of the findings the rule can make."""
        compiled = self.compiled
        others = []
        if compiled.needs or any(er.role == "unknown" for er in compiled.engine_rules):
            others.append("that cannot be evaluated")
        if any(er.role.startswith("possible") for er in compiled.interval_rules):
            others.append("that a partial date leaves undecided")
        return f"; a finding {' or '.join(others)}, {checked}" if others else ""

    def _may_fall_short(self) -> bool:
        """Whether a count of 0 breaks the check (`= 6`, `>= 1`, `!= 0`): then a count can fail with no record
        having taken it past a limit. When 0 holds, every count that fails has one (engine/occurrences.py)."""
        where = {test for er in self.compiled.engine_rules if er.role == "trigger" for test in er.tests}
        return not any(all(_holds(test.op, 0, test.const) for test in er.tests
                           if test.alias == "t" and test.field == "count" and test not in where)
                       for er in self.compiled.engine_rules if er.role == "covered")

    def _checked_day(self) -> str:
        source = self.source
        if source.form != "count":
            return f"on the day of {self.nouns.trigger_ref().text.replace('that ', 'the ', 1)}"
        things = plural(self.nouns.noun(source.event))
        if source.period == "subject":
            return f"on the day of the subject's last {self.nouns.noun(source.event)} (the data cut-off if none)"
        if source.period == "day":
            return "on that day"
        if source.period == "week":
            return "on the week's first day"
        if source.period in ("schedule", "due"):
            return "on the visit's day (its due date)"
        return f"on the window's first day (a window without {things} too)"

    def _count_phrase(self) -> str:
        report = self.compiled.report
        if report == "once":
            return "; one finding per subject, with every offending record as its evidence"
        if report == "each":
            return "; one finding per offending record"
        if self.compiled.mode == "forbid" and self.check.verdict.exists_event is not None:
            per = "subject" if self.compiled.checked_for in ("first", "last") else self.nouns.noun(self.source.event)
            return f"; one finding per {per}, with every such record as its evidence"
        return ""


def _holds(op: str, left: int, right: object) -> bool:
    """`left OP right` for a count's test against a number (a count is only compared with numbers)."""
    if not isinstance(right, (int, float)):
        return True  # not a number: never said to fall short on its account
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
            "=": left == right, "!=": left != right}[op]
