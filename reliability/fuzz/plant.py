"""Constructs planted in a rules text that `check` must refuse at their place: reserved names, and 'or'
choices that multiply out past the engine's 4,096 rules (issue 14, items 4 and 6).

Each planting returns the text and the lines (first, last) an error must name; the oracle counts a text
that compiles, or one refused only elsewhere, as a bug. The names are written out here, not read from
the compiler, so that the fuzzer checks the compiler's list instead of repeating it.
"""

from __future__ import annotations

import random
import re

# The runner's sentinel (`_t`, any leading `_`), the keys of the audit's own facts, and the suffix the
# audit gives a field's twin (`__known`): each silently changed verdicts when a field or attribute took it.
RESERVED = ("_t", "_x", "kind", "id", "sid", "date", "seq", "ref", "rseq", "rank", "window", "end", "dose__known")
ENGINE_RULES = 4096  # durable-rules' rules in one ruleset (docs/language.md, "Limits the engine sets")
EVENT = "fuzz_planted"
_EVENT_OPEN = re.compile(r'^\s*(trial\s+)?event\s+[A-Za-z_][A-Za-z0-9_]*(\s+"[^"\n]*")?\s*\{\s*$')

Planted = tuple[str, tuple[int, int], str]  # (text, (first, last) line an error must name, what was planted)


def plant(text: str, rng: random.Random) -> Planted:
    """One planted construct, chosen by `rng`, in `text` (which should compile without it)."""
    return rng.choice((reserved_field, reserved_attribute, or_product, negated_sum, filter_times_verdict))(text, rng)


def reserved_field(text: str, rng: random.Random) -> Planted:
    """A field named by a reserved name, in an event of the text (or a new one if it has none on lines)."""
    name = rng.choice(RESERVED)
    lines = text.split("\n")
    opens = [i for i, line in enumerate(lines) if _EVENT_OPEN.match(line)]
    field = f"    {name}: {rng.choice(('integer', 'text', 'decimal', 'date'))}{rng.choice(('', ' required'))}"
    if opens:
        at = rng.choice(opens) + 1
        lines.insert(at, field)
        return "\n".join(lines), (at + 1, at + 1), f"a field named {name}"
    first = len(lines) + 1
    block = [f'event {EVENT} "Planted" {{', field, "}"]
    return "\n".join([*lines, *block]), (first + 1, first + 1), f"a field named {name}"


def reserved_attribute(text: str, rng: random.Random) -> Planted:
    """A subject attribute named by a reserved name, read from a new event."""
    name = rng.choice(RESERVED)
    lines = text.split("\n")
    block = [f'event {EVENT} "Planted" {{', "    arm: integer required", "}",
             f"subject {name} = {EVENT}.arm"]
    return "\n".join([*lines, *block]), (len(lines) + 4, len(lines) + 4), f"a subject attribute named {name}"


def _event(fields: int, required: bool) -> list[str]:
    flag = " required" if required else ""
    return [f'event {EVENT} "Planted" {{', *(f"    f{k}: integer{flag}" for k in range(fields)), "}"]


def _rule(lines: list[str], block: list[str], body: list[str], what: str) -> Planted:
    """`block` (an event) and a rule holding `body` appended to `lines`; an error must fall in the rule."""
    first = len(lines) + len(block) + 1
    rule = ['rule FUZZ-PLANTED "Planted" {', '    cites "fuzz"', *body, "}"]
    return "\n".join([*lines, *block, *rule]), (first, first + len(rule) - 1), what


def _factors(rng: random.Random, start: int = 0) -> tuple[list[str], int]:
    """Choices whose product is past the engine's limit: (the factors, the fields they read)."""
    ways = rng.choice((2, 2, 3, 5))
    count = next(n for n in range(1, 64) if ways ** n > ENGINE_RULES) + rng.choice((0, 0, 1, 3, 8))
    factors = ["(" + " or ".join(f"f{start + k} = {v}" for v in range(1, ways + 1)) + ")" for k in range(count)]
    return factors, count


def _joined(parts: list[str], word: str, rng: random.Random) -> list[str]:
    """`parts` joined by `word`, on one line or one a line (the error's line is the condition's first)."""
    if rng.random() < 0.5:
        return ["        " + f" {word} ".join(parts)]
    return ["        " + parts[0], *(f"            {word} {part}" for part in parts[1:])]


def or_product(text: str, rng: random.Random) -> Planted:
    """`forbid (f0 = 1 or f0 = 2) and ... and (fN = 1 or fN = 2)`: the condition of the issue (or `require`)."""
    factors, count = _factors(rng)
    verdict = rng.choice(("forbid", "require"))
    body = ["    for each " + EVENT, "        " + verdict, *_joined(factors, "and", rng)]
    if rng.random() < 0.3:  # the same product nested one level deeper
        half = len(factors) // 2
        body = ["    for each " + EVENT, f"        {verdict} (" + " and ".join(factors[:half]) + ")",
                "            and (" + " and ".join(factors[half:]) + ")"]
    return _rule(text.split("\n"), _event(count, rng.random() < 0.5), body, f"{count} 'or' choices multiplied")


def negated_sum(text: str, rng: random.Random) -> Planted:
    """`forbid not ((f0 = 1 and f1 = 2) or ...)`: a sum, negated into a product of the terms' negations."""
    count = next(n for n in range(1, 64) if 2 ** n > ENGINE_RULES) + rng.choice((0, 1, 4))
    terms = [f"(f{k} = 1 and f{k + 1} = 2)" for k in range(count)]
    joined = _joined(terms, "or", rng)
    joined[0] = joined[0].replace("        ", "        not (", 1)
    joined[-1] += ")"
    body = ["    for each " + EVENT, "        forbid", *joined]
    return _rule(text.split("\n"), _event(count + 1, rng.random() < 0.5), body,
                 f"a negated sum of {count} alternatives of two tests")


def filter_times_verdict(text: str, rng: random.Random) -> Planted:
    """A filter and a verdict each under the limit whose product is over it (refused at the rule's id)."""
    where = 7 + rng.choice((0, 1))
    verdict = 13 - where + rng.choice((0, 1, 2))
    tests = [f"(f{k} = 1 or f{k} = 2)" for k in range(where + verdict)]
    body = ["    for each " + EVENT + " where " + " and ".join(tests[:where]),
            "        forbid " + " and ".join(tests[where:])]
    return _rule(text.split("\n"), _event(where + verdict, True), body,
                 f"a filter of 2^{where} alternatives times a verdict of 2^{verdict}")
