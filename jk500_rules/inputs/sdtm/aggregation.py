"""A value of an event made from a group of rows: a column, a look-up, an aggregate, then its transforms."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .cells import decimal_text
from .mapping import Value
from .readers import Study
from .tables import Table


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
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            if value.aggregate == "sum":
                raise EventProblem(f"{value.key}: {value.column} '{text}' is not a number to add up")
            numbers = []
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
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise EventProblem(f"{value.key}: '{text}' is not a number to scale") from None
        text = decimal_text(number * value.scale)
    return text
