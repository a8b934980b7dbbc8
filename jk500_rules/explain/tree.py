"""Syntax tree walks: every node under one, leaf conditions with their polarity, what a condition needs."""

from __future__ import annotations

from collections.abc import Callable

from ..language import nodes as n


def walk(node: object) -> list[n.Node]:
    """Every node under `node`, depth first, in source order."""
    found: list[n.Node] = []
    if isinstance(node, n.Node):
        found.append(node)
        for value in vars(node).values():
            found += walk(value)
    elif isinstance(node, tuple):
        for item in node:
            found += walk(item)
    return found


def leaves(cond: n.Cond, polarity: bool = True) -> list[tuple[n.Cond, bool]]:
    """Leaf conditions with their polarity (False under an odd number of `not`s)."""
    if isinstance(cond, n.Not):
        return leaves(cond.item, not polarity)
    if isinstance(cond, (n.And, n.Or)):
        return [leaf for item in cond.items for leaf in leaves(item, polarity)]
    return [(cond, polarity)]


def conjunctive(cond: n.Cond, reads: Callable[[n.Node], bool], neg: bool = False) -> bool:
    """Whether every way the condition can hold reads a node `reads` picks: then it cannot hold without it."""
    if isinstance(cond, n.Not):
        return conjunctive(cond.item, reads, not neg)
    if isinstance(cond, (n.And, n.Or)):
        parts = [conjunctive(item, reads, neg) for item in cond.items]
        return any(parts) if isinstance(cond, n.And) != neg else all(parts)
    return any(reads(node) for node in walk(cond))
