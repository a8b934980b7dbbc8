"""Rules in plain English: reads the compiled rules and their syntax tree."""

from .rules import UnknownRuleError, explain_protocol, explain_rule, finding_explanation

__all__ = ["UnknownRuleError", "explain_protocol", "explain_rule", "finding_explanation"]
