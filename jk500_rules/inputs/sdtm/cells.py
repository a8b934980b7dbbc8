"""Cells of domain files and constants of the mapping as text: numbers without float noise, dates ISO."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

DEFAULT_DIGITS = 10


def render_number(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """A number read from an XPT file as text, without binary noise: 6.1999999999999993 -> '6.2'.

    XPT numbers are floating point. They are rounded to `digits` significant digits (default 10, far
    more than any measurement carries, far fewer than the 15-17 where float noise shows), then written
    without an exponent and without trailing zeros: 1e6 -> '1000000', 0.0820 -> '0.082'. NaN -> ''.
    """
    if math.isnan(value) or math.isinf(value):
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(format(value, f".{digits}g")).normalize(), "f")
    return "0" if text == "-0" else text


def decimal_text(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0E+0") else text


def cell_text(value: object, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return render_number(value, digits)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes" if value.second == 0 and not value.microsecond else "seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def toml_text(value: object) -> str:
    """A constant of the mapping file as text: numbers as written, booleans as yes/no, dates ISO."""
    if isinstance(value, float):
        return render_number(value)
    return cell_text(value, DEFAULT_DIGITS)
