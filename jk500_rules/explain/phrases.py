"""English helpers: operator words, labels as nouns, articles, plurals, participles, lists, decimals, ordinals."""

from __future__ import annotations

import re
from decimal import Decimal

OPS_NUMBER = {"<": "less than", "<=": "at most", ">": "more than", ">=": "at least"}
# Dates: against a record's day, or against a day some time before or after one.
OPS_DATE = {"<": "before", "<=": "on or before", ">": "after", ">=": "on or after"}
OPS_DATE_OFFSET = {"<": "earlier than", "<=": "no later than", ">": "later than", ">=": "no earlier than",
                   "=": "exactly", "!=": "not exactly"}
OPS_TIME = {"<": "earlier than", "<=": "no later than", ">": "later than", ">=": "no earlier than",
            "=": "the same as", "!=": "different from"}
PREPOSITIONS = ("of", "in", "on", "to", "for", "from", "with", "at", "by")
IRREGULAR_PARTICIPLES = frozenset({"given", "taken", "done", "seen", "drawn", "written", "begun", "known", "shown",
                                   "made", "sent", "held", "paid", "chosen", "withdrawn", "undertaken", "run"})


def join_phrases(parts: list[str], word: str) -> str:
    """"a and b", "a, b, and c"; the serial comma also when the first part has an "and" or "or" inside."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and not _has_conjunction(parts[0], "and") and not _has_conjunction(parts[0], "or"):
        return f"{parts[0]} {word} {parts[1]}"
    return ", ".join(parts[:-1]) + f", {word} " + parts[-1]


def _has_conjunction(text: str, word: str) -> bool:
    """Whether `word` joins parts of `text` outside brackets ("on or before" is one phrase)."""
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    return f" {word} " in text.replace("on or before", "").replace("on or after", "")


def merge_participles(parts: list[str]) -> list[str]:
    """Participles that repeat run together: "dated after A and no later than B", "with x 2 and y 3"."""
    merged: list[list[str]] = []
    for part in parts:
        lead = next((w for w in ("dated ", "with ") if part.startswith(w)), None)
        if lead and merged and merged[-1][0].startswith(lead) \
                and not _has_conjunction(part + " " + merged[-1][-1], "or"):
            merged[-1].append(part.removeprefix(lead))
        else:
            merged.append([part])
    return [join_phrases(group, "and") for group in merged]


def one_of_values(parts: list[str], negated: bool) -> str:
    """"a, b or c", or negated "other than a", "neither a nor b", "none of a, b and c"."""
    if not negated:
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    if len(parts) == 1:
        return f"other than {parts[0]}"
    if len(parts) == 2:
        return f"neither {parts[0]} nor {parts[1]}"
    return "none of " + ", ".join(parts[:-1]) + " and " + parts[-1]


def human_name(name: str) -> str:
    """A name of the rules text in words: "dose_group" -> "dose group"."""
    return name.replace("_", " ")


def label_noun(label: str) -> str | None:
    """An event type's label as a noun ("Each JK500 infusion" -> "JK500 infusion"), None if it reads as none."""
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()
    text = re.sub(r"^(Any|Each|An|A|The)\s+", "", text)
    # A qualifier such as "before an infusion" is a description, not something the rule checks.
    text = re.sub(r"\s+(before|after|during|prior to)\s.*$", "", text)
    words = text.split()
    # "Subject withdrew, died or ..." is no noun; "Vaccine administered" names an act: the name reads better.
    if not words or "," in text or ";" in text or len(words) > 1 and is_participle(words[-1]):
        return None
    proper = any(w[:1].isupper() and w[1:].islower() for w in words[1:])  # "Safety Review Committee"
    if words[0][1:] == words[0][1:].lower() and not proper:  # but "JK500 infusion", "IL-2 dose" stay
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


def capitalized(text: str) -> str:
    """The first letter raised, the rest as written (names keep their case, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def with_article(noun: str) -> str:
    first = noun.split()[0] if noun else ""
    if first.isupper() and len(first) > 1 and first[0] in "AEFHILMNORSX":
        return f"an {noun}"
    if first[:1].lower() in "aeiou" and not first.lower().startswith(("one", "uni", "use", "eu")):
        return f"an {noun}"
    return f"a {noun}"


def _head_index(words: list[str]) -> int:
    """The noun a plural or "that ..." attaches to: the word before a preposition or a participle."""
    for i, word in enumerate(words[1:], start=1):
        if word in PREPOSITIONS or is_participle(word):
            return i - 1
    return len(words) - 1


def head_noun(noun: str) -> str:
    words = noun.split()
    return words[_head_index(words)]


def plural(noun: str) -> str:
    words = noun.split()
    i = _head_index(words)
    word = words[i]
    if word.endswith("is"):
        word = word[:-2] + "es"
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        word += "es"
    elif word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        word = word[:-1] + "ies"
    else:
        word += "s"
    return " ".join(words[:i] + [word] + words[i + 1:])


def is_participle(word: str) -> bool:
    return word.islower() and (word.endswith("ed") or word in IRREGULAR_PARTICIPLES)


def attach_modifiers(noun: str, mods: str) -> str:
    """Modifiers after a noun, with a comma after one that ends in a participle ("vaccine administered, ...")."""
    return f", {mods}" if is_participle(noun.split()[-1]) else f" {mods}"


def decimal_text(value: Decimal) -> str:
    value = value.normalize()
    return format(value, "f") if abs(value) < 10**7 else str(value)


def ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"
