"""Integer encodings of calendar dates, so that the engine can compare and shift them exactly.

A date reaches the engine three ways:
- ``day``: days since 1970-01-01, for day and week arithmetic;
- ``cal``: ``(year * 12 + month - 1) * 100 + day``, for month and year arithmetic. Adding ``100 * k``
  gives "k calendar months later" as a possibly invalid date (31 February), and comparing a real
  date with it agrees with pendulum's end-of-month clamping for ``<=`` and ``>``;
- ``calhi``: ``cal``, except that the last day of a month counts as day 31. Comparing it with such
  a shifted date agrees with clamping for ``<`` and ``>=``.
Completed years between two dates are ``(cal(b) - cal(a)) // 1200`` (and months ``// 100``): a year
counts once its anniversary day is reached, so a 29 February birthday counts on 1 March in common
years, as pendulum's ``diff().in_years()`` does (bar its known off-by-one bugs, pendulum #606).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import zoneinfo

import pendulum

EPOCH = dt.date(1970, 1, 1)
MONTH = 100
YEAR = 1200

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def epoch_day(value: dt.date) -> int:
    return value.toordinal() - EPOCH.toordinal()


def from_epoch_day(day: int) -> dt.date:
    return dt.date.fromordinal(day + EPOCH.toordinal())


def cal(value: dt.date) -> int:
    return (value.year * 12 + value.month - 1) * 100 + value.day


def calhi(value: dt.date) -> int:
    last = calendar.monthrange(value.year, value.month)[1]
    return cal(value) - value.day + 31 if value.day == last else cal(value)


def encode(name: str, value: dt.date, upper: dt.date | None = None) -> dict[str, int]:
    """The encodings of one date field, keyed by the engine's field names.

    A date known only to the month or year is an interval: `name` holds its first possible day and
    `name__hi` its last, each in the three encodings.
    """
    day, in_months, in_months_hi = _codes(value)
    low = {name: day, f"{name}__cal": in_months, f"{name}__calhi": in_months_hi}
    if upper is None:  # a full date: `with_upper_bounds` adds its `__hi` copies when a session needs them
        return low
    day, in_months, in_months_hi = _codes(upper)
    return {**low, f"{name}__hi": day, f"{name}__hi__cal": in_months, f"{name}__hi__calhi": in_months_hi}


@functools.lru_cache(maxsize=1 << 16)
def _codes(value: dt.date) -> tuple[int, int, int]:
    return epoch_day(value), cal(value), calhi(value)


def with_upper_bounds(fact: dict) -> None:
    """Give every full date of a fact its `__hi` encodings (equal to its own), as interval rules read them."""
    for name in [key.removesuffix("__calhi") for key in fact if key.endswith("__calhi") and "__hi__" not in key]:
        if f"{name}__hi" not in fact:
            fact[f"{name}__hi"] = fact[name]
            fact[f"{name}__hi__cal"] = fact[f"{name}__cal"]
            fact[f"{name}__hi__calhi"] = fact[f"{name}__calhi"]


def week_start(value: dt.date, first_weekday: str) -> dt.date:
    """The first day of the calendar week holding `value`, for weeks starting on `first_weekday`."""
    offset = (value.weekday() - WEEKDAYS.index(first_weekday)) % 7
    # The week of 0001-01-01 starts before the calendar does: its first day is taken as the calendar's
    # first, which still holds every date of that week, so the counts are unchanged.
    return dt.date.min if value.toordinal() <= offset else value - dt.timedelta(days=offset)


@functools.lru_cache(maxsize=1 << 16)  # a log's dates repeat: a trial runs over a few thousand days
def date_bounds(text: str, time_zone: str | None = None) -> tuple[dt.date, dt.date] | None:
    """The first and last day an ISO 8601 date, datetime or partial date (`2013-11`, `2013`) can be."""
    text = text.strip()
    if not text.isascii():  # int() and fromisoformat() also read other scripts' digits (٢٠٢٤, ２０２４)
        return None
    if len(text) in (4, 7) and is_partial(text):
        if len(text) == 7 and text[4] != "-":
            return None
        year, month = int(text[:4]), int(text[5:7]) if len(text) == 7 else None
        if year < 1 or month is not None and not 1 <= month <= 12:
            return None
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    day = parse_iso(text, time_zone)
    return None if day is None else (day, day)


def parse_iso(text: str, time_zone: str | None = None) -> dt.date | None:
    """The calendar date of an ISO 8601 date or datetime, or None.

    A datetime is taken as written, local to its site; with a `time_zone` (the site's, e.g.
    "Asia/Shanghai"), one that carries a UTC offset is first moved to that zone. Partial dates
    (``2013-11``, ``2013``) return None here: they are not a day (see `date_bounds`).
    """
    text = text.strip()
    if not text.isascii():
        return None
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    if len(text) > 10 and text[10] in "T ":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if time_zone is not None and moment.tzinfo is not None:
            try:
                local = pendulum.instance(moment).in_timezone(time_zone)
            except (OverflowError, ValueError):  # moved past the calendar's first or last day
                return None
            return dt.date(local.year, local.month, local.day)
        return moment.date()
    return None


def is_partial(text: str) -> bool:
    text = text.strip()
    return len(text) in (4, 7) and text.isascii() and text.replace("-", "").isdigit()


def clock_seconds(text: str) -> int | None:
    """Seconds since midnight of a clock time written HH:MM or HH:MM:SS, or None."""
    if len(text) not in (5, 8) or text[2] != ":" or not text.isascii():
        return None
    try:
        value = dt.time.fromisoformat(text)
    except ValueError:
        return None
    return value.hour * 3600 + value.minute * 60 + value.second


def add_months(value: dt.date, months: int) -> dt.date | None:
    """`value` plus calendar months, clamped to the month's last day (31 January + 1 month = 29 February).

    None when the result falls outside the calendar (years 1 to 9999).
    """
    position = value.year * 12 + value.month - 1 + months
    if not 12 <= position < 10_000 * 12:  # checked first: pendulum raises past year 9999
        return None
    shifted = pendulum.date(value.year, value.month, value.day).add(months=months)
    return dt.date(shifted.year, shifted.month, shifted.day)


def add_days(value: dt.date, days: int) -> dt.date | None:
    """`value` plus days (or minus, when negative); None when the result falls outside the calendar."""
    ordinal = value.toordinal() + days
    if not dt.date.min.toordinal() <= ordinal <= dt.date.max.toordinal():
        return None
    return dt.date.fromordinal(ordinal)


# Date-times reach the engine as whole seconds since 0001-01-01T00:00 UTC (a few hours below zero at the
# calendar's very start, for offsets east of UTC), floored: exact integers.
_FIRST_SECOND = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
_SECOND = dt.timedelta(seconds=1)
SECONDS_PER_DAY = 86_400
# The date-times read: a calendar date, `T` or a space, HH:MM[:SS[.fraction]], an optional UTC offset.
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)?")


def instant(moment: dt.datetime) -> int:
    """Seconds since 0001-01-01T00:00 UTC of an aware date-time, a fraction of a second dropped."""
    return (moment - _FIRST_SECOND) // _SECOND


def from_instant(seconds: int) -> dt.datetime:
    return _FIRST_SECOND + dt.timedelta(seconds=seconds)


@functools.lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The IANA zones (not the system's own files such as `localtime` or `posixrules`)."""
    return frozenset(zoneinfo.available_timezones())


@functools.lru_cache(maxsize=256)
def zone_info(name: str) -> dt.tzinfo | None:
    """The IANA time zone of that name, or None when there is none."""
    if name not in zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _local(naive: dt.datetime, zone: str | None, skipped: bool = False) -> tuple[int, int] | None:
    """A wall-clock time of a zone (UTC without one) as its first and last instant: two when the clocks
    go back and it happens twice; None when the clocks go forward over it and it never happens (with
    `skipped`, the instant the clocks jumped to instead: a day's start on a day that skips midnight).
    None too past the calendar's ends."""
    tz = zone_info(zone) if zone else dt.timezone.utc
    if tz is None:
        return None
    try:
        moments = [naive.replace(tzinfo=tz, fold=fold) for fold in (0, 1)]
        gap = any(m.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None) != naive for m in moments)
        seconds = sorted(instant(m) for m in moments)
    except (OverflowError, ValueError):
        return None
    if gap:  # the clocks jumped over it: the instant they jumped at is the later of the two readings
        return (seconds[1], seconds[1]) if skipped else None
    return seconds[0], seconds[1]


def datetime_bounds(text: str, zone: str | None = None) -> tuple[int, int] | None:
    """The first and last second (see `instant`) a date-time value may be, or None.

    `2025-03-04T09:00+02:00` is one instant. Without an offset, the time is the site's wall clock
    (`zone`; UTC without one). A date alone (`2025-03-04`), or a partial one (`2025-03`), is every
    second of those local days: comparisons it cannot decide are possible, never certain.
    """
    text = text.strip()
    if not text.isascii():
        return None
    if len(text) <= 10:
        days = date_bounds(text)
        if days is None:
            return None
        first = _local(dt.datetime.combine(days[0], dt.time()), zone, skipped=True)
        last = _local(dt.datetime.combine(days[1], dt.time(23, 59, 59)), zone, skipped=True)
        return None if first is None or last is None else (first[0], last[1])
    if not DATETIME.fullmatch(text):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            seconds = instant(moment)
        except OverflowError:
            return None
        return seconds, seconds
    return _local(moment.replace(microsecond=0), zone)


def clock_of(text: str, zone: str | None = None) -> str | None:
    """The wall-clock time (HH:MM or HH:MM:SS) a date-time gives, moved into `zone` when it carries an
    offset and a zone is known; None when the text has no time of day (or is not a date-time we read)."""
    text = text.strip()
    if not DATETIME.fullmatch(text):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        tz = zone_info(zone) if zone else None
        if moment.tzinfo is not None and tz is not None:
            moment = moment.astimezone(tz)
    except (ValueError, OverflowError):
        return None
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def instant_text(seconds: int) -> str:
    """An instant as ISO 8601 in UTC, for messages."""
    return from_instant(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")
