"""One row (a visit-log line, or an event an SDTM mapping made) checked against the protocol: a Record or why not."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from ..compiler.model import DECIMAL_SCALE, CompiledProtocol, EventSpec
from ..dates import DATETIME, clock_of, clock_seconds, date_bounds, datetime_bounds, parse_iso
from ..errors import did_you_mean
from .records import BASE_COLUMNS, IgnoredColumn, Record, Rejection

TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}

# The engine holds numbers as 64-bit integers, decimals as a count of millionths (DECIMAL_SCALE):
# a value past these cannot be compared there, and is rejected rather than wrapped or rounded.
LARGEST_INTEGER = Decimal(2**63 - 1)
LARGEST_DECIMAL = LARGEST_INTEGER / DECIMAL_SCALE
LARGEST_DIGITS = len(str(2**63 - 1))  # a number whose first digit is past this place is too large
ASCII_ONLY = ": only the ASCII digits 0-9 are read as digits"


def value_text(value: object) -> str:
    """A JSON value as a cell's text: stripped, a boolean as yes or no, null as nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _named(column: str) -> str:
    """A column's name as a report can print it: a JSON key may hold a NUL, a line break or a lone surrogate."""
    return column if column.isprintable() else column.encode("unicode_escape").decode("ascii")


def _is_text(text: str) -> bool:
    """Whether `text` can be written out: a lone surrogate (JSON "\\ud800") cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(row: dict[str, object], path: str, line: int, protocol: CompiledProtocol,
             time_zone: str | None = None, date_time: str = "fill", *, strict_columns: bool = False,
             ignored: Counter | None = None) -> Record | str:
    """One row (a visit-log line, or an event an SDTM mapping made) as a Record, or the reason it is rejected.

    A time of day in the date column fills the record's time field (`date_time="fill"`), or the row is
    rejected when there is none to fill; an SDTM mapping takes the calendar day (`"day"`) and maps the
    time where it says. Times read in the site's zone (`site ... zone ...` in the rules), else `time_zone`.

    A non-empty value in a column the row's event type does not declare (a site's `unit` column) is
    ignored, the row read without it, and counted in `ignored` by (file, column, event type) once the row
    is a record: one export's extra column must not cost every row of its event type. With
    `strict_columns` it rejects the row instead. A log's union header leaves other event types' columns
    empty: an empty value is never counted.
    """
    # Most cells of a wide log are empty: drop them before any per-cell work.
    cells = {k: v.strip() if isinstance(v, str) else value_text(v) for k, v in row.items() if v != "" and v is not None}
    for column, text in cells.items():
        if "\x00" in text:  # the rules engine takes C strings: a NUL would end (or break) the value
            return f"{_named(column)} has a NUL character (byte 0)"
        if not text.isascii() and not _is_text(text):
            return f"{_named(column)} is not valid Unicode text (it holds a lone surrogate, {ascii(text)})"
    for column in ("date", "event"):
        if not cells.get(column):
            return f"no {column}"
    event_name = cells["event"]
    event = protocol.events.get(event_name)
    if event_name in protocol.groups:
        return f"'{event_name}' names a group of event types; a record gives one of {', '.join(protocol.groups[event_name])}"
    if event is None:
        hint = did_you_mean(event_name, protocol.events.keys())
        return f"unknown event type '{event_name}'" + (f" ({hint})" if hint else "")
    study = cells.get("study", "")
    if protocol.name and study and study != protocol.name:
        return f"study '{study}' is not {protocol.name}"
    subject = cells.get("subject", "") or None
    if event.trial_level and subject:
        return f"{event_name} is a trial-level event but names subject {subject}"
    if not event.trial_level and not subject:
        return f"{event_name} needs a subject"
    date_text = cells["date"]
    zone = protocol.site_zones.get(cells.get("site", ""), time_zone) if protocol.site_zones else time_zone
    bounds = date_bounds(date_text, zone)
    timed = len(date_text) > 10 and date_text[10] in "Tt "
    if bounds is None or timed and not DATETIME.fullmatch(date_text):
        return f"'{date_text}' is not a valid ISO 8601 date" + ("" if date_text.isascii() else ASCII_ONLY) + \
            (" or date-time (YYYY-MM-DDTHH:MM[:SS], with an optional UTC offset)" if timed else "")
    upper: dict[str, object] = {} if bounds[0] == bounds[1] else {"date": bounds[1]}
    values, raw, problem, undeclared = _fields(cells, event, upper, zone, strict_columns)
    if problem:
        return problem
    clock = clock_of(date_text, zone) if timed and date_time == "fill" else None
    if clock is not None:
        problem = _fill_time(date_text, clock, event, values, raw, upper, zone)
        if problem:
            return problem
    for spec in event.fields.values():
        if spec.required and spec.name not in values:
            return f"{event.name} lacks required field {spec.name}"
    if undeclared and ignored is not None:
        for column in undeclared:
            ignored[path, column, event_name] += 1
    return Record(path, line, study, cells.get("site", ""), subject, bounds[0], date_text, event_name, values, raw,
                  upper)


def rejection(row: Mapping[str, object] | None, path: str, line: int, reason: str) -> Rejection:
    """A rejected row, with its subject and date as written where the row gives them as text a report can
    print (also when the row is otherwise invalid); a row that could not be parsed has neither."""
    if row is None:
        return Rejection(path, line, reason)
    return Rejection(path, line, reason, _readable(row.get("subject")), _readable(row.get("date")))


def _readable(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else value_text(value)
    if not text or "\x00" in text or not text.isascii() and not _is_text(text):
        return None
    return text


def column_warnings(ignored: Counter, files: Sequence[str], protocol: CompiledProtocol) -> list[IgnoredColumn]:
    """One warning per file and column whose values `validate` ignored (LogData.ignored), with the total over
    the file and the event types; in the order the files were read, then by column name."""
    by_column: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for (file, column, event), count in ignored.items():
        by_column[file, column][event] += count
    order = {file: index for index, file in enumerate(files)}
    warnings = []
    for (file, column), events in sorted(by_column.items(),
                                         key=lambda item: (order.get(item[0][0], len(order)), item[0])):
        names = tuple(sorted(events))
        fields = {name for event in names if event in protocol.events for name in protocol.events[event].fields}
        warnings.append(IgnoredColumn(file, column, names, sum(events.values()), did_you_mean(column, fields)))
    return warnings


def _fill_time(date_text: str, clock: str, event: EventSpec, values: dict[str, object], raw: dict[str, str],
               upper: dict[str, object], zone: str | None) -> str | None:
    """The time of day a date-time in the date column gives, put in the record's time field; or why not."""
    times = [f for f in event.fields.values() if f.type in ("time", "datetime")]
    named = [f for f in times if f.name == "time"]
    target = named[0] if named else times[0] if len(times) == 1 else None
    if target is None:
        where = f"its fields {', '.join(f.name for f in times)} are several" if times else "it has no time field"
        return (f"the date {date_text} gives the time {clock}, but {event.name} has nowhere to keep it ({where}); "
                "write the date alone and the time in its field")
    instants = datetime_bounds(date_text, zone)
    if instants is None:  # a wall-clock time the clocks skip in the site's zone
        return f"'{date_text}' is not a date-time that exists in the site's time zone"
    if target.type == "time":
        value: object = clock_seconds(clock)
        if target.name in values and values[target.name] != value:
            return f"the date {date_text} gives the time {clock}, but {target.name} says {raw[target.name]}"
    elif target.name in values:
        given = (values[target.name], upper.get(target.name, values[target.name]))
        if given[1] < instants[0] or given[0] > instants[1]:  # no instant both may be
            return f"the date {date_text} gives the time {clock}, but {target.name} says {raw[target.name]}"
        return None
    else:
        value = instants[0]
        if instants[1] != instants[0]:  # a wall-clock hour the clocks repeat: either reading
            upper[target.name] = instants[1]
    if target.name not in values:
        values[target.name], raw[target.name] = value, clock if target.type == "time" else date_text
    return None


def _fields(cells: dict[str, str], event: EventSpec, upper: dict[str, object], zone: str | None = None,
            strict_columns: bool = False) -> tuple[dict[str, object], dict[str, str], str | None, list[str]]:
    """The typed values of the event type's fields, the texts, why not (a bad value), and the columns it
    does not declare that hold a value."""
    values: dict[str, object] = {}
    raw: dict[str, str] = {}
    undeclared: list[str] = []
    for column, text in cells.items():
        if column in BASE_COLUMNS or not text:
            continue
        spec = event.fields.get(column)
        if spec is None:
            if strict_columns:
                return {}, {}, f"{event.name} has no field '{_named(column)}' (value '{text}')", undeclared
            undeclared.append(_named(column))
            continue
        if spec.type == "date":
            bounds = date_bounds(text)
            if bounds is not None and bounds[0] != bounds[1]:
                upper[column] = bounds[1]
            value = bounds[0] if bounds else None
        elif spec.type == "datetime":
            instants = datetime_bounds(text, zone)
            if instants is not None and instants[0] != instants[1]:
                upper[column] = instants[1]
            value = instants[0] if instants else None
        else:
            value = _typed(text, spec.type)
        if value is None:
            return {}, {}, _why_not(column, text, spec.type), undeclared
        values[column] = value
        raw[column] = text
    return values, raw, None, undeclared


def _typed(text: str, type_: str) -> object | None:
    if type_ == "text":
        return text
    if type_ == "boolean":
        word = text.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    if type_ == "date":
        return parse_iso(text)
    if type_ == "time":
        return clock_seconds(text)
    if not text.isascii() or "_" in text:  # Decimal() also reads other scripts' digits (١٠٠) and 1_000
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or _too_large(number, type_):
        return None
    if type_ == "integer":
        return int(number) if number == number.to_integral_value() else None
    return number


def _too_large(number: Decimal, type_: str) -> bool:
    # adjusted() first: it reads the exponent alone, so 1e10000000 is refused before any arithmetic.
    if number.adjusted() >= LARGEST_DIGITS:
        return True
    return abs(number) > (LARGEST_INTEGER if type_ == "integer" else LARGEST_DECIMAL)


def _why_not(column: str, text: str, type_: str) -> str:
    """The reason a field's text was refused (only worked out for a rejected row)."""
    if type_ in ("integer", "decimal", "date", "datetime", "time") and not text.isascii():
        return f"{column} '{text}' is not {_article(type_)}{ASCII_ONLY}"
    if type_ in ("integer", "decimal"):
        if "_" in text:
            return f"{column} '{text}' is not {_article(type_)}: digits may not be grouped with '_'"
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and _too_large(number, type_):
            if type_ == "integer":
                return (f"{column} '{text}' is too large (at most {LARGEST_INTEGER} in size: "
                        "the engine holds whole numbers as 64-bit integers)")
            return (f"{column} '{text}' is too large (at most {LARGEST_DECIMAL} in size: "
                    "the engine holds decimals as 64-bit counts of millionths)")
    return f"{column} '{text}' is not {_article(type_)}"


def _article(type_: str) -> str:
    return {"integer": "a whole number", "decimal": "a number", "date": "a valid ISO 8601 date",
            "boolean": "yes or no", "time": "a clock time (HH:MM or HH:MM:SS)",
            "datetime": "a date-time (YYYY-MM-DDTHH:MM, with an optional UTC offset) that exists in the site's "
                        "time zone"}.get(type_, type_)
