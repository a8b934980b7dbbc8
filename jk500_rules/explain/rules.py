"""Explain a protocol, one rule, or a finding's rule in plain English, from the rule's syntax tree."""

from __future__ import annotations

from ..compiler.model import CompiledProtocol, CompiledRule
from ..errors import Jk500Error, did_you_mean
from ..language import nodes as n
from .deviation import DeviationSentence
from .paragraph import RuleParagraph


class UnknownRuleError(Jk500Error, KeyError):
    """Asked to explain a rule id the protocol does not have."""

    def __init__(self, rule_id: str, known: list[str]):
        hint = did_you_mean(rule_id, known)
        super().__init__(f"error: no rule {rule_id} in this protocol" + (f" ({hint})" if hint else ""))

    def __str__(self) -> str:
        return str(self.args[0])


# Every sentence follows the compiler's meaning: the text must not claim what a rule does not check.


def explain_protocol(protocol: CompiledProtocol) -> str:
    """Every rule as a short paragraph headed by its id and title, in the rules file's order."""
    registry = f", registry {protocol.registry}" if protocol.registry else ""
    count = len(protocol.rules)
    head = f"Protocol {protocol.name}{registry}: {count} rule{'s' if count != 1 else ''}."
    return "\n\n".join([head] + [explain_rule(protocol, rule.id) for rule in protocol.rules]) + "\n"


def explain_rule(protocol: CompiledProtocol, rule_id: str) -> str:
    """One rule: when a deviation is reported, what else decides the outcome, its readings."""
    rule, compiled = _find(protocol, rule_id)
    return "\n".join(RuleParagraph(protocol, rule, compiled).paragraph())


def finding_explanation(protocol: CompiledProtocol, rule_id: str) -> str:
    """The one sentence saying when the rule reports a deviation, for a finding in the audit report."""
    rule, compiled = _find(protocol, rule_id)
    return DeviationSentence(protocol, rule, compiled).deviation_sentence()


def _find(protocol: CompiledProtocol, rule_id: str) -> tuple[n.Rule, CompiledRule]:
    compiled = next((r for r in protocol.rules if r.id == rule_id), None)
    tree = protocol.tree
    rule = next((r for r in tree.rules if r.id == rule_id), None) if tree is not None else None
    if compiled is None or rule is None:
        raise UnknownRuleError(rule_id, [r.id for r in protocol.rules])
    return rule, compiled
