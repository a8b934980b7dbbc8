"""Pass 5b: the cause each `needs` clause names when unmet: one per record sought, across a version's rules.

Reports group not-evaluable findings by subject and cause (reports/report_content.py), so that one
missing screening checklist reads as one line listing the rules it blocks. Two clauses seek the same
record when their default reasons agree, that is the same event type and the same condition as written
(`no screening recorded`, `no lab recorded where test = "AST"`): a `lab` of another test is another
record. The cause is the reason the writers gave, when every clause seeking the record gives the same
one and it names no other record; otherwise the default reason, which names the record itself. So one
record has one cause, and a cause never stands for two records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from .model import CompiledRule


def name_need_causes(rules: list[CompiledRule]) -> list[CompiledRule]:
    """The rules with `need_causes` filled in, one per `needs` clause."""
    given: dict[str, set[str]] = defaultdict(set)  # a record sought -> the reasons its clauses give
    naming: dict[str, set[str]] = defaultdict(set)  # a reason -> the records sought it is given for
    for rule in rules:
        for reason, sought in zip(rule.needs, rule.needs_sought):
            given[sought].add(reason)
            naming[reason].add(sought)

    def cause(sought: str) -> str:
        reasons = given[sought]
        if len(reasons) == 1:
            (reason,) = reasons
            if len(naming[reason]) == 1 and (reason == sought or reason not in given):
                return reason
        return sought

    return [replace(rule, need_causes=tuple(cause(sought) for sought in rule.needs_sought)) if rule.needs else rule
            for rule in rules]
