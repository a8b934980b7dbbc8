"""Units as the rules write them (`mg/dL`, `10^9/L`, `umol/L`, `mg/m2`): their kinds and exact scales.

A unit is a product of named units and powers of ten, divided by others. Two units of the same kinds
convert by an exact factor (`g/L` is 100 `mg/dL`); units of different kinds do not convert at all
(`mg/dL` and `umol/L` need a molar mass the rules do not state).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

# Named units: (kind, factor to the kind's base unit). Prefixed forms are built below.
_BASE: dict[str, tuple[str, Fraction]] = {
    "g": ("mass", Fraction(1)),
    "L": ("volume", Fraction(1)),
    "l": ("volume", Fraction(1)),
    "mol": ("amount", Fraction(1)),
    "m": ("length", Fraction(1)),
    "s": ("time", Fraction(1)),
    "sec": ("time", Fraction(1)),
    "second": ("time", Fraction(1)),
    "seconds": ("time", Fraction(1)),
    "min": ("time", Fraction(60)),
    "minute": ("time", Fraction(60)),
    "minutes": ("time", Fraction(60)),
    "h": ("time", Fraction(3600)),
    "hr": ("time", Fraction(3600)),
    "hour": ("time", Fraction(3600)),
    "hours": ("time", Fraction(3600)),
    "day": ("time", Fraction(86400)),
    "days": ("time", Fraction(86400)),
}
# Micro is `u` or `mc`: the language's names are ASCII.
_PREFIXES: dict[str, Fraction] = {"k": Fraction(10) ** 3, "d": Fraction(10) ** -1, "c": Fraction(10) ** -2,
                                  "m": Fraction(10) ** -3, "u": Fraction(10) ** -6, "mc": Fraction(10) ** -6,
                                  "n": Fraction(10) ** -9, "p": Fraction(10) ** -12}
_PREFIXABLE = ("g", "L", "l", "mol", "m")
# Every named unit, prefixed ones included (`mg`, `dL`, `umol`, `mm`); a bare name wins (`min` is minutes).
_NAMED: dict[str, tuple[str, Fraction]] = {
    prefix + base: (_BASE[base][0], _BASE[base][1] * scale) for prefix, scale in _PREFIXES.items() for base in _PREFIXABLE
} | _BASE
_KIND_WORDS = {"mass": "a mass", "volume": "a volume", "amount": "an amount of substance", "length": "a length",
               "area": "an area", "time": "a time"}
_SCALE = re.compile(r"10\^(-?\d+)")
_POWER = re.compile(r"(.+?)([23])")


@dataclass(frozen=True)
class Dimensioned:
    """A unit's exact factor (a fraction: a minute is 60 seconds) to its kinds' base units, and its kinds
    above and below the line. Kinds never cancel: mg/kg (a mass per mass) is not mmol/mol (an amount per
    amount), though both are ratios."""

    factor: Fraction
    above: tuple[str, ...]  # as written
    below: tuple[str, ...]

    @property
    def kinds(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(sorted(self.above)), tuple(sorted(self.below))

    def describe(self) -> str:
        """`a mass per volume`, `a number of cells per mass`: the unit's kind, for error messages."""
        word = " times ".join(_kind_word(k) for k in self.above) or "a number"  # a product: `a mass times a length`
        for kind in self.below:
            word += " per " + _kind_word(kind).removeprefix("a ").removeprefix("an ")
        return word


def _kind_word(kind: str) -> str:
    return _KIND_WORDS.get(kind) or ("a percentage" if kind == "%" else f"a number of {kind}")


def dimensioned(unit: str) -> Dimensioned:
    """`mg/dL` -> factor 1/100 (g/L), a mass over a volume. The first part is the numerator."""
    factor = Fraction(1)
    above: list[str] = []
    below: list[str] = []
    for index, part in enumerate(unit.split("/")):
        for piece in part.split("."):
            scale, kind = _piece(piece)
            factor = factor * scale if index == 0 else factor / scale
            if kind:
                (above if index == 0 else below).append(kind)
    return Dimensioned(factor, tuple(above), tuple(below))


def combine(left: str | None, right: str | None, divide: bool) -> str | None:
    """The unit of a product (or a quotient): the units multiplied or divided, the same unit above and below
    the line cancelled (`mg/kg` times `kg` is `mg`). None: a plain number. Other units of one kind above and
    below (`mg/kg` times `g`) stay written; `amount_conversion` cancels their kinds when it compares."""
    above_l, below_l = _pieces(left)
    above_r, below_r = _pieces(right)
    above = list(above_l + (below_r if divide else above_r))
    below: list[str] = []
    for piece in below_l + (above_r if divide else below_r):
        if piece in above:
            above.remove(piece)
        else:
            below.append(piece)
    return unit_text(tuple(above), tuple(below))


def amount_kind(unit: str) -> str:
    """A computed amount's kind in words, a kind above and below its line cancelled: `kg.dL/mg` is a volume."""
    a = dimensioned(unit)
    above, below = _cancelled(a)
    return Dimensioned(a.factor, above, below).describe()


def _cancelled(a: Dimensioned) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A unit's kinds above and below its line, each kind on both sides cancelled once."""
    above, below = list(a.above), []
    for kind in a.below:
        if kind in above:
            above.remove(kind)
        else:
            below.append(kind)
    return tuple(above), tuple(below)


def amount_conversion(amount: str | None, target: str | None) -> Fraction | None:
    """The exact factor that turns a computed amount in `amount` into one in `target`; None if they do not
    convert. A kind above and below the amount's line cancels here (`mg/kg` times `g` is a mass, `weight /
    creatinine` in kg.dL/mg a volume), the target's never (a field in `mg/kg` stays a mass per mass)."""
    if amount == target:
        return Fraction(1)
    if amount is None or target is None:
        return None
    exact = conversion(amount, target)
    if exact is not None:
        return exact
    a, b = dimensioned(amount), dimensioned(target)
    above, below = _cancelled(a)
    if (tuple(sorted(above)), tuple(sorted(below))) != b.kinds:
        return None
    return a.factor / b.factor


def unit_text(above: tuple[str, ...], below: tuple[str, ...]) -> str | None:
    """Pieces above and below the line as a unit (`mL/min`, `kg.m/s`); `10^0/min` when nothing is above."""
    if not above and not below:
        return None
    return "/".join([".".join(above) or "10^0", *below])


def _pieces(unit: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if unit is None:
        return (), ()
    parts = unit.split("/")
    return tuple(parts[0].split(".")), tuple(piece for part in parts[1:] for piece in part.split("."))


def conversion(source: str, target: str) -> Fraction | None:
    """The exact factor that turns an amount in `source` into one in `target`; None if they do not convert."""
    a, b = dimensioned(source), dimensioned(target)
    if a.kinds != b.kinds:
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
    kinds = (_piece(piece)[1] for part in unit.split("/") for piece in part.split("."))
    return all(kind is None or kind in _KIND_WORDS for kind in kinds)


def _piece(piece: str) -> tuple[Fraction, str | None]:
    """One factor of a unit: its scale, and its kind (None for a pure number)."""
    scale = _SCALE.fullmatch(piece)
    if scale:
        return Fraction(10) ** int(scale.group(1)), None
    if piece in _NAMED:
        kind, factor = _NAMED[piece]
        return factor, kind
    power = _POWER.fullmatch(piece)  # m2 (body surface area), cm3 (a millilitre)
    if power and _NAMED.get(power.group(1), ("",))[0] == "length":
        length = _NAMED[power.group(1)][1]
        if power.group(2) == "2":
            return length**2, "area"
        return length**3 * 1000, "volume"  # a cubic metre is 1000 litres
    return Fraction(1), piece  # cells, WU, IU: a kind of its own
