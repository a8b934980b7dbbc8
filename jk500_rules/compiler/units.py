"""Units as the rules write them (`mg/dL`, `10^9/L`, `umol/L`, `mg/m2`): their dimensions and exact scales.

A unit is a product of named units and powers of ten, divided by others. Two units with the same
dimensions convert by an exact decimal factor (`g/L` is 100 `mg/dL`); units of different dimensions do
not convert at all (`mg/dL` and `umol/L` need a molar mass the rules do not state).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

# Named units: (dimension, factor to the dimension's base unit). Prefixed forms are built below.
_BASE: dict[str, tuple[str, Fraction]] = {
    "g": ("mass", Fraction(1)),
    "L": ("volume", Fraction(1)),
    "l": ("volume", Fraction(1)),
    "mol": ("amount", Fraction(1)),
    "m": ("length", Fraction(1)),
    "s": ("time", Fraction(1)),
    "sec": ("time", Fraction(1)),
    "min": ("time", Fraction(60)),
    "h": ("time", Fraction(3600)),
    "hr": ("time", Fraction(3600)),
}
_PREFIXES: dict[str, Fraction] = {"k": Fraction(10) ** 3, "d": Fraction(10) ** -1, "c": Fraction(10) ** -2,
                                  "m": Fraction(10) ** -3, "u": Fraction(10) ** -6, "µ": Fraction(10) ** -6,
                                  "mc": Fraction(10) ** -6, "n": Fraction(10) ** -9, "p": Fraction(10) ** -12}
_PREFIXABLE = ("g", "L", "l", "mol", "m")
_DIMENSION_WORDS = {"mass": "a mass", "volume": "a volume", "amount": "an amount of substance",
                    "length": "a length", "time": "a time"}
_SCALE = re.compile(r"10\^(-?\d+)")
_POWER = re.compile(r"(.+?)(\d)")


@dataclass(frozen=True)
class Dimensioned:
    """A unit's exact factor (a fraction: a minute is 60 seconds) to its dimensions' base units, and the
    dimensions with their powers."""

    factor: Fraction
    dimensions: tuple[tuple[str, int], ...]  # sorted; a name no table knows is a dimension of its own

    def describe(self) -> str:
        """`a mass per volume`, `a count per volume`: the unit's kind, for error messages."""
        up = [d for d, p in self.dimensions for _ in range(p) if p > 0]
        down = [d for d, p in self.dimensions for _ in range(-p) if p < 0]
        word = " times ".join(_DIMENSION_WORDS.get(d, f"'{d}'") for d in up) or "a number"
        if down:
            word += " per " + " per ".join(_DIMENSION_WORDS.get(d, f"'{d}'").removeprefix("a ").removeprefix("an ")
                                           for d in down)
        return word


def dimensioned(unit: str) -> Dimensioned:
    """`mg/dL` -> factor 0.01 (g/L), dimensions mass^1 volume^-1. The first part is the numerator."""
    factor = Fraction(1)
    powers: dict[str, int] = {}
    for index, part in enumerate(unit.split("/")):
        sign = 1 if index == 0 else -1
        for piece in part.split("."):
            scale, dimension, power = _piece(piece)
            factor = factor * scale ** sign if sign > 0 else factor / scale
            if dimension:
                powers[dimension] = powers.get(dimension, 0) + sign * power
    return Dimensioned(factor, tuple(sorted((d, p) for d, p in powers.items() if p)))


def conversion(source: str, target: str) -> Fraction | None:
    """The exact factor that turns an amount in `source` into one in `target`; None if they do not convert."""
    a, b = dimensioned(source), dimensioned(target)
    if a.dimensions != b.dimensions:
        return None
    return a.factor / b.factor


def exact_decimal(value: Fraction) -> Decimal | None:
    """`value` as a decimal when it has a finite one (1/4, not 1/3); None otherwise."""
    rest, places = value.denominator, 0
    for prime in (2, 5):
        count = 0
        while rest % prime == 0:
            rest //= prime
            count += 1
        places = max(places, count)
    if rest != 1:
        return None
    # numerator / denominator = (numerator * 10**places / denominator) / 10**places, all in whole numbers.
    return Decimal(f"{value.numerator * 10**places // value.denominator}E-{places}")  # a string: never rounded


def known(unit: str) -> bool:
    """Whether every part of a unit is a named unit (with a prefix) or a power of ten."""
    return all(_piece(piece)[1] is None or _piece(piece)[1] in _DIMENSION_WORDS
               for part in unit.split("/") for piece in part.split("."))


def _piece(piece: str) -> tuple[Fraction, str | None, int]:
    """One factor of a unit: (its scale, its dimension or None for a pure number, its power)."""
    scale = _SCALE.fullmatch(piece)
    if scale:
        return Fraction(10) ** int(scale.group(1)), None, 1
    if piece in _BASE:
        dimension, factor = _BASE[piece]
        return factor, dimension, 1
    power = _POWER.fullmatch(piece)  # m2 (square metres, body surface area), cm3
    if power and power.group(1) in _with_prefixes():
        dimension, factor = _with_prefixes()[power.group(1)]
        exponent = int(power.group(2))
        return factor ** exponent, dimension, exponent
    if piece in _with_prefixes():
        dimension, factor = _with_prefixes()[piece]
        return factor, dimension, 1
    return Fraction(1), piece, 1  # cells, WU, IU: a dimension of its own


_CACHE: dict[str, tuple[str, Fraction]] = {}


def _with_prefixes() -> dict[str, tuple[str, Fraction]]:
    if not _CACHE:
        _CACHE.update(_BASE)
        for prefix, scale in _PREFIXES.items():
            for base in _PREFIXABLE:
                dimension, factor = _BASE[base]
                _CACHE.setdefault(prefix + base, (dimension, factor * scale))
    return _CACHE
