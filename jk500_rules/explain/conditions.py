"""Conditions as words: `not`, `and` and `or` over leaf predicates, as a clause or as a record's modifiers."""

from __future__ import annotations

from ..language import nodes as n
from .expressions import NounPhrases
from .names import Names, Scope
from .phrases import attach_modifiers, join_phrases, merge_participles
from .predicates import Predicate, Predicates


class ConditionPhrases:
    """One rule's conditions in words: "its dose is ..." (a clause) or "dated ..." (a record's modifiers)."""

    def __init__(self, names: Names, nouns: NounPhrases):
        self.nouns = nouns
        self.predicates = Predicates(names, nouns)

    def phrase(self, cond: n.Cond, neg: bool, scope: Scope, mode: str) -> tuple[str, str]:
        """A condition as words, `neg`ated if asked; mode "clause" (its dose is ...) or "mods" (dated ...).

        Returns the text and its shape (atom, either, and, or) so that a caller knows when to bracket it.
        """
        if isinstance(cond, n.Not):
            return self.phrase(cond.item, not neg, scope, mode)
        if isinstance(cond, (n.And, n.Or)):
            if len(cond.items) == 1:
                return self.phrase(cond.items[0], neg, scope, mode)
            conjunctive = isinstance(cond, n.And) != neg
            parts = [self.phrase(item, neg, scope, mode) for item in cond.items]
            if conjunctive:
                texts = [bracketed(p) if p[1] == "or" or p[1] == "either" else p[0] for p in parts]
                return join_phrases(merge_participles(texts) if mode == "mods" else texts, "and"), "and"
            texts = [bracketed(p) if p[1] == "and" else p[0] for p in parts]
            either = "either " if len(texts) == 2 and any(p[1] == "and" for p in parts) else ""
            return either + join_phrases(texts, "or"), "or"
        pred = self.predicates.of(cond, neg, scope)
        return _worded(pred, mode), "either" if pred.either else "atom"

    def clause(self, cond: n.Cond | None, neg: bool, scope: Scope) -> str:
        return self.phrase(cond, neg, scope, "clause")[0] if cond is not None else ""

    def modifiers(self, cond: n.Cond | None, scope: Scope) -> str:
        return self.phrase(cond, False, scope, "mods")[0] if cond is not None else ""

    def record(self, event: str, cond: n.Cond | None, scope: Scope) -> str:
        """"vaccine administered, marked live_attenuated and dated ...": a record sought, without article."""
        noun = self.nouns.noun(event)
        return noun + (attach_modifiers(noun, self.modifiers(cond, scope)) if cond is not None else "")


def bracketed(part: tuple[str, str]) -> str:
    """A condition's words from `ConditionPhrases.phrase`, in brackets unless it is a single predicate."""
    return f"({part[0]})" if part[1] != "atom" else part[0]


def _worded(pred: Predicate, mode: str) -> str:
    """A predicate as a clause ("its dose is ...") or as a record's modifier ("with dose ...")."""
    if pred.about == "date" and pred.complement.startswith("not "):  # "not dated", never "dated not"
        rest = pred.complement.removeprefix("not ")
        return f"not dated {rest}" if mode == "mods" else f"it is not dated {rest}"
    if mode == "mods":
        return {"date": f"dated {pred.complement}", "field": f"with {pred.subject} {pred.complement}",
                "flag": pred.complement}.get(pred.about, f"where {pred.subject} is {pred.complement}")
    return {"date": f"it is dated {pred.complement}", "field": f"its {pred.subject} is {pred.complement}",
            "flag": f"it is {pred.complement}"}.get(pred.about, f"{pred.subject} is {pred.complement}")
