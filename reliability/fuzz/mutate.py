"""Mutations of a rules text: one random structural or lexical change at a time."""

from __future__ import annotations

import random
import re

from .generate import generate
from .plant import or_product, reserved_attribute, reserved_field

# The grammar's keywords and punctuation (grammar/protocol.lark), plus words that only mean something to
# the checker (types, units, severities, weekdays, field names of the seeds).
KEYWORDS = (  # noqa: SIM905 - a paragraph of words reads better than a list of quoted ones
    "protocol registry version effective governed by amendment withdraw rule criterion manual trial event in "
    "required group subject parameter choice severity category cites message important for where needs "
    "otherwise unless each of the count per day calendar week starting from through require forbid judged "
    "a an or and not within between is known missing before after years months weeks days hours minutes yes "
    "no first last previous same to"
).split()
WORDS = (  # noqa: SIM905
    "date time integer decimal text boolean mg kg mL days weeks day week months hours minutes mmol L "
    "major minor critical safety efficacy Monday Sunday consent dose screening visit birth_date weight "
    "amount result date subject trial 3rd 1st 22nd"
).split()
PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", ",", "=", "<", ">", "<=", ">=", "!=", "+", "-", "*", "/",
               ".", "%", '"', '"x"', '""', "#", "'s", "subject's"]
NUMBERS = ["0", "1", "2.5", "007", "1e3", "1E-2", "99999999999999999999", "0.0000001", "3.", "-1", "1e99"]
# Numbers far past what a rule may hold (15 digits): each must be refused at its position, quickly.
HUGE_NUMBERS = ["1e99999", "1e9999", "2.1e5000", "1e999999"]
DEEP = (300, 1000, 3000)  # nesting past the parser's depth limit (parser.MAX_DEPTH): refused, not a crash
ODD_TEXT = ["\t", "\x00", "\x0b", "\x0c", "\u00a0", "\u200b", "\u2028", "\ufeff", "\u00e9", "\u4e2d", "\U0001f600",
            "\\", "\\\"", "\"\\", "é", "İ", "ß", "\u0301", "\x7f", "\u202e", "；", "＂"]
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|<=|>=|!=|\S')


def _numbers() -> list[str]:
    return NUMBERS + HUGE_NUMBERS


def _token(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(KEYWORDS)
    if pick < 0.6:
        return rng.choice(WORDS)
    if pick < 0.85:
        return rng.choice(PUNCTUATION)
    return rng.choice(_numbers())


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _retokenize(line: str, rng: random.Random, action: str) -> str:
    spans = [m.span() for m in TOKEN.finditer(line)]
    if not spans:
        return line + " " + _token(rng) if action != "drop" else line
    start, end = rng.choice(spans)
    if action == "drop":
        return line[:start] + line[end:]
    if action == "insert":
        at = rng.choice((start, end))
        return line[:at] + " " + _token(rng) + " " + line[at:]
    return line[:start] + _token(rng) + line[end:]


def mutate(text: str, rng: random.Random, corpus: list[tuple[str, str]]) -> str:
    """One random structural or lexical change."""
    lines = _lines(text)
    kind = rng.randrange(18)
    i = rng.randrange(len(lines))
    if kind == 0:  # delete lines
        del lines[i:i + rng.choice((1, 1, 2, 5))]
    elif kind == 1:  # duplicate a line or a block
        lines[i:i] = lines[i:i + rng.choice((1, 1, 3, 10))]
    elif kind == 2:  # swap two lines
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind in (3, 4, 5):  # drop, insert or replace a token
        for _ in range(rng.choice((1, 1, 1, 2, 4))):
            i = rng.randrange(len(lines))
            lines[i] = _retokenize(lines[i], rng, ("drop", "insert", "replace")[kind - 3])
    elif kind == 6:  # truncate
        return text[:rng.randrange(len(text) + 1)]
    elif kind == 7:  # splice two files
        other = _lines(rng.choice(corpus)[1])
        return "\n".join(lines[:i] + other[rng.randrange(len(other)):])
    elif kind == 8:  # odd characters
        at = rng.randrange(len(text) + 1)
        return text[:at] + "".join(rng.choice(ODD_TEXT) for _ in range(rng.choice((1, 1, 3)))) + text[at:]
    elif kind == 9:  # random unicode code points (no surrogates: a file read as UTF-8 cannot hold them)
        at = rng.randrange(len(text) + 1)
        chars = [chr(rng.choice((rng.randrange(0x20, 0x7f), rng.randrange(0, 0xd800), rng.randrange(0xe000, 0x110000))))
                 for _ in range(rng.randrange(1, 6))]
        return text[:at] + "".join(chars) + text[at:]
    elif kind == 10:  # a very long identifier, number or text
        spans = [m for m in TOKEN.finditer(lines[i])]
        if spans:
            m = rng.choice(spans)
            size = rng.choice((300, 5000, 50000))
            filler = rng.choice(("a" * size, "9" * size, '"' + "x" * size + '"', "x_" * (size // 2)))
            lines[i] = lines[i][:m.start()] + filler + lines[i][m.end():]
    elif kind == 11:  # deep nesting, or a long chain, in a condition
        depth = rng.choice((10, 100, 200, *DEEP))
        pick = rng.randrange(5)
        if pick == 0:
            cond = "(" * depth + "1 = 1" + ")" * depth
        elif pick == 1:
            cond = "not " * depth + "yes"
        elif pick == 2:
            cond = " + ".join(["1"] * depth) + " > 0"
        elif pick == 3:
            cond = " and ".join(["yes"] * depth)
        else:
            cond = " or ".join(["1 < 2"] * depth)
        targets = [k for k, line in enumerate(lines) if re.search(r"\b(require|forbid|where)\b", line)]
        k = rng.choice(targets) if targets else i
        word = re.search(r"\b(require|forbid|where)\b", lines[k])
        lines[k] = (lines[k][:word.end()] + " " + cond if word else lines[k] + " " + cond)
    elif kind == 12:  # line endings and whitespace
        joiner = rng.choice(("\r\n", "\r", "\n\n", "\n\t", " \\\n"))
        return joiner.join(lines)
    elif kind == 13:  # a generated item in the middle of a seed
        lines[i:i] = _lines(generate(rng, items=1))
    elif kind == 14:  # odd numbers in place of numbers
        for k, line in enumerate(lines):
            lines[k] = re.sub(r"\b[0-9]+\b", lambda m: rng.choice(_numbers()) if rng.random() < 0.3 else m.group(), line)
    elif kind == 16:  # a reserved name as a field or a subject attribute (issue 14, item 6)
        return rng.choice((reserved_field, reserved_attribute))(text, rng)[0]
    elif kind == 17:  # 'or' choices that multiply out past the engine's limit (issue 14, item 4)
        return or_product(text, rng)[0]
    else:  # the same line many times
        lines[i:i] = [lines[i]] * rng.choice((50, 600))
    return "\n".join(lines)
