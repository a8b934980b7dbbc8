"""A value of an event made from a group of rows: a column, a look-up, an aggregate, then its transforms."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..validation import ASCII_ONLY, LARGEST_DIGITS
from .cells import decimal_text
from .mapping import Value
from .readers import Study
from .tables import Table


SMALLEST_EXPONENT = -324  # a sum or a scaled value is written out in full: no operand smaller than a float


class EventProblem(Exception):
    """An event cannot be made from its rows: it becomes a rejection with this reason."""


def evaluate(value: Value, table: Table, members: list[int], subject: str | None, study: Study,
             used: list[tuple[Table, int]]) -> str:
    if value.constant is not None:
        text = value.constant
    elif value.lookup is not None:
        text = _looked_up(value, table, members[0], subject, study, used)
    elif value.column is not None and value.column not in table.columns and (value.optional or value.fallback):
        text = evaluate(value.fallback, table, members, subject, study, used) if value.fallback else ""
        return text
    elif value.aggregate is not None:
        text = _aggregate(value, _texts(value, table, members))
    elif len(members) == 1 and value.where is None:
        assert value.column is not None
        text = table.text(members[0], value.column)
    else:
        texts = sorted(set(_texts(value, table, members)) - {""})
        if len(texts) > 1:
            raise EventProblem(f"the rows disagree on {value.column} ({', '.join(repr(t) for t in texts[:4])}), "
                               f"read for {value.key}")
        text = texts[0] if texts else ""
    if value.part is None and value.mapping is None and value.scale is None:
        return text
    return _transform(value, text)


def _texts(value: Value, table: Table, members: list[int]) -> list[str]:
    """The value's column in the rows of a group that its own filter keeps."""
    assert value.column is not None
    chosen = [i for i in members if value.where(table.row(i))] if value.where is not None else members
    return table.texts(chosen, value.column)


def _looked_up(value: Value, table: Table, i: int, subject: str | None, study: Study,
               used: list[tuple[Table, int]]) -> str:
    found = study.lookup(value, subject, table, i)
    assert value.column is not None
    if len(found) == 1:
        other, j = found[0]
        used.append(found[0])
        return other.text(j, value.column)
    texts = sorted({t.text(j, value.column) for t, j in found} - {""})
    if len(texts) > 1:
        raise EventProblem(f"{len(found)} {value.lookup} rows give {value.key} different values "
                           f"({', '.join(repr(t) for t in texts[:4])})")
    used.extend(found)
    return texts[0] if texts else ""


def _aggregate(value: Value, texts: list[str]) -> str:
    present = [t for t in texts if t != ""]
    if value.aggregate == "count":
        return str(len(present))
    if len(present) < len(texts) and value.missing == "empty" or not present:
        return ""
    numbers = []
    for text in present:
        number = _operand(text) if value.aggregate == "sum" else _number(text)  # min and max do no arithmetic
        if isinstance(number, tuple):
            if value.aggregate == "sum":
                raise EventProblem(f"{value.key}: {value.column} '{text}' is {number[0]} to add up{number[1]}")
            numbers = []  # min and max of what is not numbers (dates) compare the texts
            break
        numbers.append(number)
    if value.aggregate == "sum":
        return decimal_text(sum(numbers, Decimal(0)))
    pick = min if value.aggregate == "min" else max
    if numbers:
        return present[numbers.index(pick(numbers))]
    return pick(present)


def _transform(value: Value, text: str) -> str:
    if text and value.part == "date":
        text = text[:10] if len(text) >= 10 else text
    elif value.part == "time":
        found = re.match(r"^\d{4}-\d{2}-\d{2}[T ](\d{2}:\d{2}(:\d{2})?)", text)
        text = found.group(1) if found else ""
    if text and value.mapping is not None:
        key = text.casefold() if value.ignore_case else text
        if key in value.mapping:
            text = value.mapping[key]
        elif value.other is not None:
            text = value.other
    if text and value.scale is not None:
        number = _operand(text)
        if isinstance(number, tuple):
            raise EventProblem(f"{value.key}: '{text}' is {number[0]} to scale{number[1]}")
        text = decimal_text(number * value.scale)
    return text


def _operand(text: str) -> Decimal | tuple[str, str]:
    """A cell as a number to add up or scale, or why not (what it is, a detail).

    1e1000000 overflows in a sum (decimal.Overflow, a crash) and 1e-999999 is written out with a
    million zeros: a number the engine could not hold (LARGEST_DIGITS) or smaller than any float is
    refused before any arithmetic.
    """
    number = _number(text)
    if isinstance(number, tuple) or not number:
        return number
    if number.adjusted() >= LARGEST_DIGITS:
        return "too large", f" (the engine holds numbers of at most {LARGEST_DIGITS} digits before the point)"
    if number.adjusted() < SMALLEST_EXPONENT:
        return "too small", f" (below 1e{SMALLEST_EXPONENT}, the smallest number an XPT file holds)"
    return number


def _number(text: str) -> Decimal | tuple[str, str]:
    """A cell as a number, or why not, as `validate` reads a field: Decimal alone reads ١٠٠ and 1_000."""
    if not text.isascii():
        return "not a number", ASCII_ONLY
    if "_" in text:
        return "not a number", ": digits may not be grouped with '_'"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "not a number", ""
    if not number.is_finite():
        return "not a number", ""
    return number
