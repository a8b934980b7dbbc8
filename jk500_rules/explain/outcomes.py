"""Sentences on what else decides a rule's outcome: records needed, pending, excused, missing, not evaluable."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from operator import eq

from ..language import nodes as n
from .context import RuleContext
from .names import ResolvedName, Scope
from .phrases import human_name, join_phrases, ordinal, with_article
from .tree import conjunctive, leaves, walk


class OutcomeSentences(RuleContext):
    """Following the compiler: a missing value or `needs` record is not evaluable, an `unless` counts until due."""

    def needs_sentence(self) -> list[str]:
        needs = self.check.needs
        if not needs:
            return []
        items = []
        for need, reason in zip(needs, self.compiled.needs):
            scope = Scope(self.source, need.event, "sought")
            items.append(f"{with_article(self.conditions.record(need.event, need.cond, scope))} (\"{reason}\")")
        instead = "a deviation" if self.check.verdict.mode == "require" else \
            "passing (a deviation found is still reported)"
        if len(items) == 1:
            return [(f"It cannot be evaluated without {items[0]}: if {self.holder} has none, "
                     f"it is reported not evaluable instead of {instead}.")]
        return [(f"It cannot be evaluated without each of: {'; '.join(items)}; if {self.holder} lacks one, "
                 f"it is reported not evaluable, with that reason, instead of {instead}.")]

    def due_sentence(self) -> list[str]:
        due = self.check.verdict.due
        if due is None:
            return []
        scope = replace(self.trigger_scope, current="")
        text = f"It is judged only once the data cut-off reaches {self.nouns.date(due, scope).text}"
        missing = self._missing_anchors(due)
        if missing:
            text += f"; until then, and while {join_phrases(missing, 'or')}, it is pending"
        else:
            text += "; until then it is pending"
        return [text + "."]

    def excuse_sentences(self) -> list[str]:
        sentences = []
        due = self.check.verdict.due
        for excuse in self.check.excuses:
            scope = Scope(self.source, excuse.event, "sought")
            record = with_article(self.conditions.record(excuse.event, excuse.cond, scope))
            if due is None:
                sentences.append(f"It is excused (no deviation) if {self.holder} has {record}, whatever its date.")
                continue
            when = self.nouns.date(due, replace(self.trigger_scope, current="")).text
            text = f"It is excused (no deviation) if {self.holder} has {record} on or before the day it falls due " \
                   f"({when})"
            missing = self._missing_anchors(due)
            if missing:
                text += f"; while {join_phrases(missing, 'or')}, any such record excuses it"
            sentences.append(text + ".")
        return sentences

    def _missing_anchors(self, expr: n.Node) -> list[str]:
        """"the subject has no infusion": what leaves a date undefined that the record checked does not."""
        clauses: list[str] = []
        for node in walk(expr):
            if isinstance(node, n.AnchorRef) and not self.names.is_trigger(node):
                clause = f"{self.holder} has no {self.nouns.noun(node.event)}"
            elif isinstance(node, n.RankedRef):
                clause = (f"the {node.relation} {human_name(node.attribute)} has fewer than {node.rank} subjects "
                          f"with {with_article(self.nouns.noun(node.event))}")
            else:
                continue
            if clause not in clauses:
                clauses.append(clause)
        return clauses

    def missing_record_sentences(self) -> list[str]:
        """What the check makes of a record its condition names that may not exist (the nth subject, ...)."""
        verdict = self.check.verdict
        cond = verdict.cond
        if cond is None:
            return []
        guarded = set()
        for other in (self.check.where, verdict.due):
            if other is not None:
                guarded |= {(a.which, a.event) for a in walk(other) if isinstance(a, n.AnchorRef)}
        sentences = []
        fails = "that is a deviation" if verdict.mode == "require" else "no deviation is reported"
        seen: set[tuple[object, ...]] = set()
        for node in walk(cond):
            state = self._state_named(node)
            if state is not None and ("state", state.name) not in seen:
                seen.add(("state", state.name))
                outcome = fails if conjunctive(cond, partial(eq, node)) else "a comparison with its start never holds"
                sentences.append(self._state_sentence(state, outcome))
            elif isinstance(node, n.RankedRef) and (node.rank, node.which, node.event, node.relation) not in seen:
                seen.add((node.rank, node.which, node.event, node.relation))
                group = f"the {node.relation} {human_name(node.attribute)}"
                noun = self.nouns.noun(node.event)
                outcome = fails if conjunctive(cond, partial(eq, node)) else "a comparison with that date never holds"
                sentences.append(
                    f"The {ordinal(node.rank)} subject of {group} is the {ordinal(node.rank)} of its subjects, "
                    f"by date, to have their {node.which} {noun}; if it has fewer than {node.rank} such subjects, "
                    f"{outcome}.")
            elif (isinstance(node, n.AnchorRef) and verdict.mode == "require" and not self.names.is_trigger(node)
                  and node.event != self.source.event and (node.which, node.event) not in guarded
                  and (node.which, node.event) not in seen):
                seen.add((node.which, node.event))
                outcome = "fails the check: a deviation" if conjunctive(cond, partial(eq, node)) else \
                    "cannot meet the part of the condition that names it"
                sentences.append(f"A subject with no {self.nouns.noun(node.event)} {outcome}.")
        return sentences

    def _state_named(self, node: n.Node) -> n.StateDecl | None:
        if isinstance(node, n.GroupStateRef):
            return self.names.states.get(node.state)
        if isinstance(node, n.NameRef):
            ref = self.names.resolve(node, self.verdict_scope())
            if ref is not None and ref.kind == "state":
                return self.names.states.get(ref.record)
        return None

    def _state_sentence(self, state: n.StateDecl, outcome: str) -> str:
        """How a trial state starts and ends, and what a rule makes of one that has not started."""
        nth = ordinal(state.ordinal)
        if state.mark_which is None:
            mark = f"the {nth} of its subjects' {human_name(state.mark)} records, by date"
        else:
            mark = f"the {state.mark_which} {self.nouns.noun(state.mark)} of the {nth} of its subjects, by date, to have one"
        per = f" for each {human_name(state.per)}" if state.per else ""
        among = (f", counting only the first {state.among} subjects by their {state.among_which} "
                 f"{self.nouns.noun(state.among_event or '')}" if state.among else "")
        end = ""
        if state.end_event:
            where = f" that has {self.nouns._written(state.end_where.span)}" if state.end_where else ""
            end = (f"; it ends on the {state.end_which} {self.nouns.noun(state.end_event)}{where} dated on or after "
                   "its start")
        label = f" ({state.label})" if state.label else ""
        return (f"{human_name(state.name).capitalize()}{label} is a trial state that starts{per} on {mark}{among}"
                f"{end}; until it starts, {outcome}.")

    def undecided_filter_sentence(self) -> list[str]:
        """A `where` reading values that may be missing: such records are checked, never dropped."""
        where = self.check.where
        if where is None:
            return []
        items: list[str] = []
        for node in walk(where):
            if isinstance(node, n.NameRef):
                ref = self.names.resolve(node, self.trigger_scope)
                if ref is not None and ref.optional:
                    text = self.nouns.phrase(node, replace(self.trigger_scope, current="named"))
                    if text not in items:
                        items.append(text)
        if not items:
            return []
        return [f"When {' or '.join(items)} is not recorded, so that it is not known whether the rule applies, "
                "the record is checked all the same: it passes if the check holds, and is otherwise not evaluable."]

    def unknown_sentence(self) -> list[str]:
        """Optional values the check reads: without them, it is not evaluable (never a pass)."""
        cond = self.check.verdict.cond
        if cond is None:
            return []
        scope = self.verdict_scope()
        explicit = {(self.names.resolve(k.subject, scope) or ResolvedName("", "", "")).name
                    for k, polarity in leaves(cond) if isinstance(k, n.Known) and k.known == polarity}
        # A state's end not reached is a condition of its own (`pause.end is missing or ...`), not a gap.
        explicit |= {"end" for k, _ in leaves(cond) if isinstance(k, n.Known) and isinstance(k.subject, n.NameRef)
                     and (self.names.resolve(k.subject, scope) or ResolvedName("", "", "")).kind == "state"}
        items: list[str] = []
        for node in walk(cond):
            text = None
            if isinstance(node, n.Lookup):
                key = self.nouns.phrase(node.key, replace(scope, current=""))
                text = f"{key}, or its entry in the {human_name(node.table)} table"
            elif isinstance(node, n.NameRef):
                ref = self.names.resolve(node, scope)
                if ref is not None and ref.optional and ref.name not in explicit:
                    text = self.nouns.phrase(node, replace(scope, current="named"))
            elif isinstance(node, n.AnchorRef) and node.field not in (None, "date"):
                spec = self.protocol.events[node.event].fields.get(node.field or "")
                if spec is not None and spec.may_be_unknown:
                    text = f"the {node.field} field of the subject's {node.which} {self.nouns.noun(node.event)}"
            if text and not any(text in item for item in items):
                items = [i for i in items if i not in text]
                items.append(text)
        if not items:
            return []
        return [f"Where the outcome turns on a value not recorded ({'; '.join(items)}), it is reported not evaluable."]
