"""`format_source`: same syntax tree, same comments in the same order, stable on a second pass; exact layouts."""

from __future__ import annotations

import dataclasses
import random
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lark import Lark, Token

from jk500_rules.errors import RulesError, Span
from jk500_rules.language.formatter import format_source
from jk500_rules.language.grammar import grammar_path
from jk500_rules.language.nodes import Node
from jk500_rules.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]


def _parses(path: Path) -> bool:
    try:
        parse(path.read_text(encoding="utf-8"), str(path))
    except RulesError:
        return False
    return True


CORPUS = [
    ROOT / "protocol.rules",
    *sorted((ROOT / "examples").rglob("*.rules")),
    *sorted((ROOT / "tests" / "golden" / "compile").glob("*.rules")),
    *[p for p in sorted((ROOT / "tests" / "golden" / "errors").glob("*.rules")) if _parses(p)],
]
BROKEN = [p for p in sorted((ROOT / "tests" / "golden" / "errors").glob("*.rules")) if not _parses(p)]


def without_spans(node: Any) -> Any:
    """A syntax tree as nested tuples, every Span left out: what two layouts of one text share."""
    if isinstance(node, Span):
        return None
    if isinstance(node, Node):
        return type(node).__name__, tuple(
            (f.name, without_spans(getattr(node, f.name))) for f in dataclasses.fields(node) if f.name != "span"
        )
    if isinstance(node, tuple):
        return tuple(without_spans(item) for item in node)
    return node


def comments(text: str) -> list[str]:
    """The comments lark skips, in order, as the lexer sees them (not a regex that could miss a string)."""
    found: list[Token] = []
    Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        lexer_callbacks={"COMMENT": found.append},
        cache=True,
    ).parse(text)
    return [str(c).rstrip() for c in found]


def assert_faithful(text: str) -> str:
    formatted = format_source(text)
    assert without_spans(parse(formatted)) == without_spans(parse(text))
    assert format_source(formatted) == formatted
    assert comments(formatted) == comments(text)
    lines = formatted.split("\n")
    assert formatted == "" or (formatted.endswith("\n") and not formatted.endswith("\n\n"))
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n" not in formatted
    return formatted


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ----- the corpus --------------------------------------------------------------------------------


def test_the_corpus_covers_every_kind_of_file() -> None:
    names = {relative(p) for p in CORPUS}
    assert "protocol.rules" in names and "examples/other_trial/protocol.rules" in names
    assert sum(n.startswith("tests/golden/compile/") for n in names) >= 7
    assert sum(n.startswith("tests/golden/errors/semantic_") for n in names) >= 20
    assert all(Path(n).name.startswith("syntax_") for n in map(relative, BROKEN))


@pytest.mark.parametrize("path", CORPUS, ids=relative)
def test_formatting_keeps_the_tree_and_the_comments_and_is_stable(path: Path) -> None:
    assert_faithful(path.read_text(encoding="utf-8"))


def _respaced(text: str, rng: random.Random) -> str:
    """The same rules with the whitespace between tokens redrawn, and comments slipped in."""
    out: list[str] = []
    previous = ""
    count = 0
    for match in re.finditer(r'"([^"\\\n]|\\.)*"|#[^\n]*|\s+|[^\s"#]+', text):
        chunk = match.group()
        if chunk.strip():
            out.append(chunk)
            previous = chunk
            continue
        draw = rng.random()
        if draw < 0.15:
            chunk = "\n" + " " * rng.randint(0, 13)
        elif draw < 0.25:
            chunk = " " * rng.randint(1, 3)
        elif draw < 0.29:
            count += 1
            chunk = f"  # trailing {count}\n" + " " * rng.randint(0, 9)
        elif draw < 0.32:
            count += 1
            chunk = f"\n  # own line {count}\n"
        elif draw < 0.34:
            chunk = "\n\n\n"
        if previous.startswith("#") and "\n" not in chunk:
            chunk = "\n" + chunk
        out.append(chunk)
    return "".join(out)


RESPACED = [(ROOT / "protocol.rules", seed) for seed in range(2)] + [
    (ROOT / "examples" / "other_trial" / "protocol.rules", seed) for seed in range(4)
]


@pytest.mark.parametrize(("path", "seed"), RESPACED, ids=lambda v: relative(v) if isinstance(v, Path) else str(v))
def test_any_spacing_formats_faithfully(path: Path, seed: int) -> None:
    assert_faithful(_respaced(path.read_text(encoding="utf-8"), random.Random(seed)))


# ----- refusing a broken file --------------------------------------------------------------------


@pytest.mark.parametrize("path", BROKEN, ids=relative)
def test_a_file_that_does_not_parse_is_not_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    with pytest.raises(RulesError) as formatting:
        format_source(text, path.name)
    with pytest.raises(RulesError) as parsing:
        parse(text, path.name)
    assert formatting.value.render() == parsing.value.render()


def test_a_syntax_error_raises_rules_error() -> None:
    with pytest.raises(RulesError, match=r"rules.txt:2:\d+: error"):
        format_source('protocol "X"\nrule R "r" { for each x require }\n', "rules.txt")


# ----- exact layouts -----------------------------------------------------------------------------


def case(before: str, after: str) -> tuple[str, str]:
    return textwrap.dedent(before), textwrap.dedent(after)


CASES = {
    "one_line_rule": case(
        """\
        protocol "X"
        rule R "r" { for each x require y is known }""",
        """\
        protocol "X"

        rule R "r" {
            for each x
                require y is known
        }
        """,
    ),
    "messy_indentation": case(
        """\
        protocol   "X"  registry "NCT1"
        event visit "Visit" {   weight : decimal in mg / kg required
                when: date }
        rule R-1.2 "r" {
        severity    major
                  cites INC-1,EXC-2
          for first infusion of each dose_group where dose_group>1
        require date>first screening.date+7 days and weight*2<=nominal[dose_group]
        }
        """,
        """\
        protocol "X" registry "NCT1"

        event visit "Visit" {
            weight: decimal in mg/kg required
            when: date
        }

        rule R-1.2 "r" {
            severity major
            cites INC-1, EXC-2
            for first infusion of each dose_group where dose_group > 1
                require date > first screening.date + 7 days and weight * 2 <= nominal[dose_group]
        }
        """,
    ),
    "comments": case(
        """\
        # header
        protocol "X"



        event e {
          dose: decimal in mg # in mg
          a_much_longer_field_name: text required # past the column
          # before the brace
        }
        rule R "r" { # after the brace
           for each e   # the source
              # before the verdict
           require dose is known  and  # after and
           dose > 0 mg
             # before unless
           unless a stop
        }
        # the end
        """,
        """\
        # header
        protocol "X"

        event e {
            dose: decimal in mg            # in mg
            a_much_longer_field_name: text required  # past the column
            # before the brace
        }

        rule R "r" {                       # after the brace
            for each e                     # the source
                # before the verdict
                require dose is known and  # after and
                    dose > 0 mg
                # before unless
                unless a stop
        }
        # the end
        """,
    ),
    "long_conditions_keep_their_breaks": case(
        """\
        protocol "X"
        rule R "r" {
          for first dosing
          needs a lab where test = "creatinine" and
              date within window before first dosing otherwise "none"
          needs a lab where test = "ALT"
           otherwise "no ALT"
          forbid a lab where (a and
          b)
          or c between 1 and
          2
          or test in ("x",
          "y", "z")
        }
        """,
        """\
        protocol "X"

        rule R "r" {
            for first dosing
                needs a lab where test = "creatinine"
                    and date within window before first dosing otherwise "none"
                needs a lab where test = "ALT"
                    otherwise "no ALT"
                forbid a lab where (a
                                    and b)
                    or c between 1 and 2
                    or test in ("x",
                                "y", "z")
        }
        """,
    ),
    "clauses": case(
        """\
        protocol "X"
        rule R "r" { for the count of infusion per subject where dose > 1 mg require count = 6 judged from first infusion + treatment_period unless a discontinuation unless a death where cause = "x" }
        rule S "s" {
          for each dosing
          where dose > 50 mg
          require date > first screening
        }
        """,
        """\
        protocol "X"

        rule R "r" {
            for the count of infusion per subject where dose > 1 mg
                require count = 6
                judged from first infusion + treatment_period
                unless a discontinuation
                unless a death where cause = "x"
        }

        rule S "s" {
            for each dosing
                where dose > 50 mg
                require date > first screening
        }
        """,
    ),
    "parameters_tables_and_choices": case(
        """\
        parameter a = 1e6 cells/kg
        parameter b = 10 %  choice "why b"


        parameter t = by dose_group {1:1e6 cells/kg,2: 5E+6 cells/kg, }
        parameter u = by arm { 1: 100 mg, # first arm
          2: 200.50 mg
        } choice "why u"
        criterion INC-1 "one"
        criterion INC-2 "two" manual "by hand"
        """,
        """\
        parameter a = 1e6 cells/kg
        parameter b = 10 %
            choice "why b"

        parameter t = by dose_group { 1: 1e6 cells/kg, 2: 5E+6 cells/kg }
        parameter u = by arm {
            1: 100 mg,                     # first arm
            2: 200.50 mg,
        }
            choice "why u"

        criterion INC-1 "one"
        criterion INC-2 "two"
            manual "by hand"
        """,
    ),
    "amendments_and_versions": case(
        """\
        protocol "X"
        version "1.0" effective "2022-01-01"
        governed by consent
        group procedure "Any" = lab,dosing
        subject arm=randomisation . arm
        amendment "2.0" effective "2023-01-01" "Lower dose" {
        parameter dose = 5 mg
        parameter gap = 2 days
        withdraw rule R-1
        rule R-2 "r" { severity minor for each dosing require dose <= 5 mg }
        }
        amendment "3.0" effective "2024-01-01" { }
        """,
        """\
        protocol "X"
        version "1.0" effective "2022-01-01"
        governed by consent

        group procedure "Any" = lab, dosing

        subject arm = randomisation.arm

        amendment "2.0" effective "2023-01-01" "Lower dose" {
            parameter dose = 5 mg
            parameter gap = 2 days

            withdraw rule R-1

            rule R-2 "r" {
                severity minor
                for each dosing
                    require dose <= 5 mg
            }
        }

        amendment "3.0" effective "2024-01-01" {
        }
        """,
    ),
    "references_and_sources": case(
        """\
        rule R "r" { for first infusion of each dose_group require date > the 3rd subject's last infusion in the previous dose_group + dlt_window }
        rule S "s" { for the count of response per 3 months from first infusion through 24 months require count >= 1 judged from end }
        rule T "t" { for the count of x per calendar week starting monday require not (a or b) and c not in (1, 2) }
        """,
        """\
        rule R "r" {
            for first infusion of each dose_group
                require date > the 3rd subject's last infusion in the previous dose_group + dlt_window
        }

        rule S "s" {
            for the count of response per 3 months from first infusion through 24 months
                require count >= 1
                judged from end
        }

        rule T "t" {
            for the count of x per calendar week starting monday
                require not (a or b) and c not in (1, 2)
        }
        """,
    ),
    "nothing_but_comments": ("\n\n# one   \n\n\n\n# two\n\n", "# one\n\n# two\n"),
    "empty": ("\n \n", ""),
}


@pytest.mark.parametrize("name", list(CASES))
def test_layout(name: str) -> None:
    before, after = CASES[name]
    assert assert_faithful(before) == after
