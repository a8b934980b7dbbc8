"""One rule being explained: its check, whom it holds for, and the phrase makers its sentences share."""

from __future__ import annotations

from ..compiler.model import CompiledProtocol, CompiledRule
from ..language import nodes as n
from .conditions import ConditionPhrases
from .expressions import NounPhrases
from .names import Names, Scope


class RuleContext:
    """A rule, its compiled form, and its names, expressions and conditions in words."""

    def __init__(self, protocol: CompiledProtocol, rule: n.Rule, compiled: CompiledRule):
        self.protocol = protocol
        self.rule = rule
        self.compiled = compiled
        self.check = rule.check
        self.source = rule.check.source
        self.trigger_scope = Scope(self.source)
        self.holder = "the trial" if compiled.level == "trial" else "the subject"
        self.names = Names(protocol, self.source)
        self.nouns = NounPhrases(protocol, self.source, self.names)
        self.conditions = ConditionPhrases(self.names, self.nouns)

    def verdict_scope(self) -> Scope:
        """Whose names the verdict's condition reads: the record an `a X where` seeks, else the record checked."""
        sought = self.check.verdict.exists_event
        return Scope(self.source, sought, "sought") if sought else self.trigger_scope
