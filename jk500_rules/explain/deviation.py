"""A rule's first sentence: when it reports a deviation, for which records, citing its criteria."""

from __future__ import annotations

from ..language import nodes as n
from .conditions import bracketed
from .context import RuleContext
from .names import Scope
from .phrases import attach_modifiers, human_name, join_phrases
from .tree import conjunctive


class DeviationSentence(RuleContext):
    """The sentence saying when the rule reports a deviation; the audit report shows it beside each finding."""

    def deviation_sentence(self) -> str:
        verdict = self.check.verdict
        source = self.source
        where = self.check.where
        if verdict.exists_event is not None:
            sought = Scope(source, verdict.exists_event, "sought")
            record = self.conditions.record(verdict.exists_event, verdict.cond, sought)
            if verdict.mode == "require":
                text = f"{self._for_source()}, if {self.holder} has no {record}"
            else:
                text = f"for every {record}{self._once_per()}"
        else:
            clause = self.conditions.clause(verdict.cond, verdict.mode == "require", self.trigger_scope)
            if source.form == "count":
                if where is not None:
                    clause = join_phrases(
                        [bracketed(self.conditions.phrase(where, False, self.trigger_scope, "clause")),
                         bracketed((clause, "atom"))], "and")
                text = f"if {clause}"
            else:
                text = f"{self._for_source()}, if {clause}"
        return f"A deviation is reported {text}{self._citation()}."

    def _for_source(self) -> str:
        """`for SOURCE [where ...]` as the object of "reported for"."""
        source, where = self.source, self.check.where
        noun = self.nouns.noun(source.event)
        if source.form == "count":
            text = f"for {self.nouns.count_noun()}"
        elif source.form == "each":
            text = f"for any {noun}"
        elif source.form in ("first", "last"):
            text = f"for a subject's {source.form} {noun}"
        else:
            text = f"for the {source.form.removeprefix('group_')} {noun} in each {human_name(source.attribute or '')}"
        if where is not None:
            text += attach_modifiers(noun, self.conditions.modifiers(where, self.trigger_scope))
        return text

    def _once_per(self) -> str:
        """How often a `forbid a X` rule is checked, after "for every X ...": once per record checked."""
        source, where = self.source, self.check.where
        noun = self.nouns.noun(source.event)
        mods = attach_modifiers(noun, self.conditions.modifiers(where, self.trigger_scope)) if where is not None else ""
        if source.form == "each":
            return f", once per {noun}{mods}"
        if source.form in ("first", "last"):
            if where is None and self._mentions_trigger(self.check.verdict.cond):
                return ""  # "before the subject's first infusion" already says a first infusion is needed
            return f", if the subject has a {source.form} {noun}{mods}"
        if source.form == "count":
            return f", once for {self.nouns.count_noun()}"
        which, attribute = source.form.removeprefix("group_"), human_name(source.attribute or "")
        return f", once for the {which} {noun} in each {attribute}{mods}"

    def _mentions_trigger(self, cond: n.Cond | None) -> bool:
        """Whether the condition can hold only with the record checked (so it need not be named)."""
        if cond is None:
            return False
        scope = self.verdict_scope()

        def names_trigger(node: n.Node) -> bool:
            if isinstance(node, n.AnchorRef):
                return self.names.is_trigger(node)
            ref = self.names.resolve(node, scope) if isinstance(node, n.NameRef) else None
            return ref is not None and ref.kind == "trigger"

        return conjunctive(cond, names_trigger)

    def _citation(self) -> str:
        texts = [self.protocol.criteria[c].text for c, _ in self.rule.criteria if c in self.protocol.criteria]
        if self.rule.cites:
            texts.append(self.rule.cites)
        return f" ({'; '.join(texts)})" if texts else ""
