"""A rule's whole paragraph: heading, its sentences in order, definitions, severity, and its readings."""

from __future__ import annotations

from ..language import nodes as n
from .dating import DatingSentences
from .deviation import DeviationSentence
from .names import Scope
from .outcomes import OutcomeSentences
from .phrases import capitalized, human_name, join_phrases, with_article
from .tree import walk


class RuleParagraph(DeviationSentence, OutcomeSentences, DatingSentences):
    """The paragraph `jk500-rules explain` prints for one rule, one line per element."""

    def paragraph(self) -> list[str]:
        body = [self.deviation_sentence()]
        body += self._window_sentence() + self._definitions() + self.missing_record_sentences()
        body += self.needs_sentence()
        body += self.due_sentence() + self.excuse_sentences() + self.undecided_filter_sentence()
        body += self.unknown_sentence() + self.dating_sentence()
        body.append(self._standing_sentence())
        lines = [f"{self.rule.id}: {self.rule.title}", " ".join(body)]
        if self.rule.approximate is not None:
            lines.append(f"Approximate: {self.rule.approximate}")
        lines += [f"Reading: {text}" for text in self.rule.choices]
        for name in self._parameters_used():
            choice = self.names.params[name].choice
            if choice:
                lines.append(f"Reading ({name}): {choice}")
        return lines

    def _standing_sentence(self) -> str:
        important = "an important deviation (ICH E3)" if self.compiled.important else "not an important deviation"
        text = f"Severity {self.compiled.severity}; {important}"
        ids = [c for c, _ in self.rule.criteria]
        manual = [c for c in ids if c in self.protocol.criteria and self.protocol.criteria[c].manual]
        if ids:
            text += f"; cites {', '.join(ids)}"
        if manual:
            text += f" ({', '.join(manual)} checked by hand)"
        return text + "."

    def _window_sentence(self) -> list[str]:
        source = self.source
        if source.form == "count" and source.period == "schedule":
            return [self._schedule_sentence(self.nouns.schedule())]
        if source.form == "count" and source.period == "due":
            assert source.anchor is not None and source.interval is not None
            every = self.nouns.phrase(source.interval, self.trigger_scope)
            anchor = f"the subject's {source.anchor.which} {self.nouns.noun(source.anchor.event)}"
            ends = [f"up to {self.nouns.phrase(source.horizon, self.trigger_scope)} after it"
                    ] if source.horizon is not None else []
            if source.until:
                ends.append(f"up to the day of their {source.until.which} {self.nouns.noun(source.until.event)}")
            until = f", {' and '.join(ends)}, once its window has opened by the data cut-off"
            around = self.nouns.phrase(source.tolerance, self.trigger_scope)  # type: ignore[arg-type]
            return [f"A due date falls every {every} after the day of {anchor}{until}; each window runs from "
                    f"{around} before its due date to {around} after it, and a window with none counts 0."]
        if source.form != "count" or source.period != "window":
            return []
        assert source.anchor is not None and source.horizon is not None
        anchor = self.nouns.noun(source.anchor.event)
        horizon = self.nouns.phrase(source.horizon, self.trigger_scope)
        return [(f"The windows run back to back from the day of the subject's {source.anchor.which} {anchor}, "
                 f"the last ending the day before {horizon} after it (cut short there if need be); "
                 "a window with none counts 0.")]

    def _schedule_sentence(self, schedule: n.ScheduleDecl) -> str:
        anchor = f"the subject's {schedule.anchor.which} {self.nouns.noun(schedule.anchor.event)}"
        if schedule.every is not None and schedule.within is not None:
            every = self.nouns.phrase(schedule.every, self.trigger_scope)
            around = self.nouns.phrase(schedule.within, self.trigger_scope)
            ends = [f"up to {self.nouns.phrase(schedule.through, self.trigger_scope)} after it"
                    ] if schedule.through is not None else []
            if schedule.until:
                ends.append(f"up to the day of their {schedule.until.which} {self.nouns.noun(schedule.until.event)}")
            return (f"{capitalized(self.nouns.schedule_name(schedule))} has a due date every {every} after the day of {anchor}, "
                    f"{' and '.join(ends)}, once its window has opened by the data cut-off; each window runs from "
                    f"{around} before its due date to {around} after it, and a window with none counts 0.")
        visits = "; ".join((f"day {v.day}" if v.label.lower() == f"day {v.day}" else f"{v.label} on day {v.day}")
                           + self._visit_window(v) for v in schedule.visits)
        until = (f", unless its visit's day is after the day of their {schedule.until.which} "
                 f"{self.nouns.noun(schedule.until.event)}" if schedule.until else "")
        return (f"{capitalized(self.nouns.schedule_name(schedule))} numbers the day of {anchor} day {schedule.anchor_day}: "
                f"{visits}. A window counts once it has opened by the data cut-off{until}; a window with none "
                "counts 0.")

    def _visit_window(self, visit: n.VisitDecl) -> str:
        if visit.before is None or visit.after is None:
            return " exactly"
        before = self.nouns.phrase(visit.before, self.trigger_scope)
        after = self.nouns.phrase(visit.after, self.trigger_scope)
        return f", {before} either side" if visit.before is visit.after else f", from {before} before to {after} after"

    def _definitions(self) -> list[str]:
        """What an event group gathers, and which record a subject attribute comes from."""
        groups: list[str] = []
        attributes: list[str] = []
        check = self.check
        for event in [self.source.event, *(x.event for x in check.needs + check.excuses),
                      *([check.verdict.exists_event] if check.verdict.exists_event else [])]:
            if event in self.protocol.groups and event not in groups:
                groups.append(event)
        if self.source.attribute:
            attributes.append(self.source.attribute)
        for node, scope in self._scoped_nodes():
            if isinstance(node, (n.AnchorRef, n.RankedRef)) and node.event in self.protocol.groups \
                    and node.event not in groups:
                groups.append(node.event)
            ref = self.names.resolve(node, scope) if isinstance(node, n.NameRef) else None
            name = node.attribute if isinstance(node, n.RankedRef) else \
                ref.name if ref is not None and ref.kind == "attribute" else None
            if name is not None and name not in attributes:
                attributes.append(name)
        sentences = [f"{with_article(self.nouns.noun(g)).capitalize()} is any record of type "
                     f"{join_phrases(list(self.protocol.groups[g]), 'or')}." for g in groups]
        for name in attributes:
            event, field = self.protocol.subject_attributes[name]
            sentences.append(f"A subject's {human_name(name)} is the {field} of their earliest "
                             f"{self.nouns.noun(event)} that records one.")
        return sentences + self._reference_definitions() + self._amount_sentences()

    def _amount_sentences(self) -> list[str]:
        """What each formula the check reads is, and how amounts are worked out (once per rule)."""
        formulas: list[n.FormulaDecl] = []
        computed = percentage = False
        for node, scope in self._scoped_nodes():
            ref = self.names.resolve(node, scope) if isinstance(node, n.NameRef) else None
            if ref is not None and ref.kind == "formula" and self.names.formulas[ref.name] not in formulas:
                formulas.append(self.names.formulas[ref.name])
            if isinstance(node, n.Arith) and self._computed(node, scope):
                computed = True
            if isinstance(node, n.Within) and self.names.type_of(node.width, scope) == "percent" and \
                    not self.names.is_constant(node.anchor, scope) and not isinstance(node.anchor, n.Lookup):
                percentage = True
        sentences = []
        for decl in formulas:
            body = self.nouns.phrase(decl.body, self.trigger_scope)
            name = f"{decl.label} ({decl.name})" if decl.label else f"The amount {decl.name}"
            sentence = f"{name} is {body}, in {decl.unit}, worked out for each {self.nouns.noun(self.source.event)}."
            if decl.empirical is not None:
                sentence += (f" Its constants carry units (empirical), so each value is taken as a plain number in "
                             f"its own unit and the result is in {decl.unit}: {decl.empirical.rstrip('.')}.")
            sentences.append(sentence)
        if formulas or computed:
            sentences.append("Amounts are worked out exactly, each division to 6 decimal places rounded half-even; "
                             "one that cannot be worked out (a value not recorded, no record found, a divisor of 0) "
                             "makes the check not evaluable" + (", and a percentage of an amount below zero is never "
                                                                "met." if percentage else "."))
        return sentences

    def _reference_definitions(self) -> list[str]:
        """What each reference the check reads finds, once."""
        found: dict[str, n.Node] = {}
        for node, scope in self._scoped_nodes():
            if isinstance(node, n.RelativeRef):
                found.setdefault(f"{node.which} {node.event}", node)
            ref = self.names.resolve(node, scope) if isinstance(node, n.NameRef) else None
            if ref is not None and ref.kind == "reference":
                found.setdefault(ref.record, self.names.references[ref.record])
            if ref is not None and ref.kind == "visit":
                found.setdefault(f"visit {ref.record}", self.names.schedules[ref.record])
        sentences = []
        for node in found.values():
            if isinstance(node, n.ScheduleDecl):
                sentences += [self._schedule_sentence(node), self.nouns.visit_definition(node.name)]
            else:
                sentences.append(self.nouns.reference_definition(node))
        return sentences

    def _computed(self, node: n.Arith, scope: Scope) -> bool:
        """Arithmetic the audit works out per record: with a field in it, not a date moved by a duration, nor
        the exact `N * field` the engine compares as it is (as compiler/check.py decides)."""
        if self.names.type_of(node, scope) != "number":
            return False
        constant = [self.names.is_constant(part, scope) for part in (node.left, node.right)]
        if all(constant):
            return False
        if node.op == "*" and any(constant):
            factor = self.names.constant(node.left if constant[0] else node.right, scope)
            other = node.right if constant[0] else node.left
            whole = factor is not None and factor.unit is None and factor.value > 0 and \
                factor.value == factor.value.to_integral_value()
            return not (whole and isinstance(other, (n.NameRef, n.AnchorRef, n.RelativeRef)) and
                        self.names.resolve(other, scope) is not None and
                        self.names.resolve(other, scope).kind != "formula")  # type: ignore[union-attr]
        return True

    def _parameters_used(self) -> list[str]:
        used: list[str] = []
        for node, scope in self._scoped_nodes():
            ref = self.names.resolve(node, scope) if isinstance(node, n.NameRef) else None
            name = node.table if isinstance(node, n.Lookup) else ref.name if ref and ref.kind == "param" else None
            if name is not None and name not in used:
                used.append(name)
        return used

    def _scoped_nodes(self) -> list[tuple[n.Node, Scope]]:
        """Every node of the check with the scope its names resolve in."""
        check, source = self.check, self.source
        roots: list[tuple[n.Node | None, Scope]] = [
            (source.interval, self.trigger_scope), (source.horizon, self.trigger_scope),
            (source.tolerance, self.trigger_scope),
            (check.where, self.trigger_scope), (check.verdict.due, self.trigger_scope),
            (check.verdict.cond, self.verdict_scope())]
        roots += [(clause.cond, Scope(source, clause.event, "sought")) for clause in check.needs + check.excuses]
        nodes = [(node, scope) for root, scope in roots if root is not None for node in walk(root)]
        # A formula's body reads like the record checked's fields, wherever the formula is named.
        formulas = {ref.record for node, scope in nodes if isinstance(node, n.NameRef)
                    for ref in [self.names.resolve(node, scope)] if ref is not None and ref.kind == "formula"}
        for name in sorted(formulas):
            nodes += [(node, self.trigger_scope) for node in walk(self.names.formulas[name].body)]
        # A schedule's parameters: the one counted per, and those whose visits the check reads.
        read = {self.names.resolve(node, scope) for node, scope in nodes if isinstance(node, n.NameRef)}
        names = {ref.record for ref in read if ref is not None and ref.kind == "visit"}
        if source.period == "schedule":
            names.add(source.schedule or "")
        for name in sorted(names):
            schedule = self.names.schedules[name]
            extra = [side for visit in schedule.visits for side in dict.fromkeys((visit.before, visit.after))]
            extra += [schedule.every, schedule.within, schedule.through]
            nodes += [(node, self.trigger_scope) for root in extra if root is not None for node in walk(root)]
        return nodes
        return [(node, scope) for root, scope in roots if root is not None for node in walk(root)]
