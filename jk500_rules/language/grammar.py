"""The rules grammar: where it is found, and the lark parsers built from it (cached)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lark import Lark

_GRAMMAR_NAME = "protocol.lark"


def grammar_path() -> Path:
    """The grammar ships inside the package; a source checkout keeps it at the top level."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / _GRAMMAR_NAME, here.parents[1] / "grammar" / _GRAMMAR_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{_GRAMMAR_NAME} is missing from the installation")


def make_lark(**options: Any) -> Lark:
    """A lark parser of the rules grammar with the options every tool shares, plus `options`."""
    settings: dict[str, Any] = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True,
                                "maybe_placeholders": False, "cache": True}
    settings.update(options)
    return Lark(grammar_path().read_text(encoding="utf-8"), **settings)


@functools.cache
def _lark(strict: bool = False) -> Lark:
    # A parse table cached by grammar hash gives start-up without the LALR build; strict builds afresh.
    return make_lark(strict=strict, cache=not strict)


def build_parser(strict: bool = False) -> Lark:
    """The lark parser; `strict=True` makes any grammar ambiguity or terminal collision an error."""
    return _lark(strict)
