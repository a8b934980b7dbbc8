"""docs/language.md cannot drift from the language: its examples compile and cover the whole grammar.

Fences the test reads (any other fence, e.g. ```text or ```sh, is prose to it):
- ```rules: a complete rules text; it must parse and compile.
- ```rules-fragment: a piece that cannot stand alone; it must parse as it is, as a rule's body, or as
  a condition. Its names are not checked.
- ```rules-error: a mistake; parsing and compiling it must fail, and the ```error fence right after it
  must appear, verbatim, in the diagnostics (the file is called doc.rules).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from lark import Lark, Token, Tree

from jk500_rules.compiler import compile_protocol
from jk500_rules.errors import RulesError
from jk500_rules.language import nodes as n
from jk500_rules.language.grammar import build_parser, grammar_path
from jk500_rules.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
FILENAME = "doc.rules"
MIN_EXAMPLES = 30

# Grammar names that never label a node of a parse tree: `?` rules that lark inlines, and rules whose
# every alternative carries an alias (`-> name`), which labels the node instead.
NEVER_IN_A_TREE = frozenset({
    "start",  # the root, in every tree: no construct of its own
    "item", "amend_item", "rule_attr", "source", "period", "verdict", "ref", "literal", "empty_value", "visit_window",
    "state_mark", "dated_date", "dated_ref",
    "cond", "and_cond", "not_cond", "atom_cond", "expr", "product", "term",
})

# Terminals whose text the writer chooses: `weeks` as a unit is a NAME, and does not show `weeks from`.
WRITERS_WORDS = frozenset({"NAME", "STRING", "NUMBER", "ORDINAL"})


@dataclass(frozen=True)
class Block:
    kind: str
    line: int  # of the opening fence, 1-based
    text: str
    error: str | None = None  # for rules-error: the text of the ```error fence that follows

    @property
    def id(self) -> str:
        return f"language.md:{self.line}"


def read_blocks() -> list[Block]:
    """Every fenced block of the document, with the line of its opening fence."""
    blocks: list[Block] = []
    lines = DOC.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.fullmatch(r"```([\w-]*)\s*", lines[index])
        if not opening:
            index += 1
            continue
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].rstrip() != "```":
            body.append(lines[index])
            index += 1
        assert index < len(lines), f"language.md:{start + 1}: a fence is never closed"
        blocks.append(Block(opening.group(1), start + 1, "\n".join(body) + "\n"))
        index += 1
    # Pair each rules-error block with the error fence that follows it.
    paired: list[Block] = []
    for block, after in zip(blocks, blocks[1:] + [None]):
        if block.kind == "rules-error":
            assert after is not None and after.kind == "error", \
                f"{block.id}: a rules-error block is followed by an ```error block"
            block = Block(block.kind, block.line, block.text, after.text.strip("\n"))
        paired.append(block)
    return paired


BLOCKS = read_blocks()
EXAMPLES = [b for b in BLOCKS if b.kind == "rules"]
FRAGMENTS = [b for b in BLOCKS if b.kind == "rules-fragment"]
MISTAKES = [b for b in BLOCKS if b.kind == "rules-error"]


def uses_versions(protocol: n.Protocol) -> bool:
    return protocol.version is not None or protocol.governed_by is not None or bool(protocol.amendments)


def test_the_document_has_enough_examples() -> None:
    assert len(EXAMPLES) >= MIN_EXAMPLES, f"{len(EXAMPLES)} ```rules examples; at least {MIN_EXAMPLES} expected"


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: b.id)
def test_example_parses_and_compiles(block: Block) -> None:
    protocol = parse(block.text, FILENAME)
    compiled = compile_protocol(protocol, FILENAME, block.text)
    if uses_versions(protocol):
        assert compiled.versions, "a versioned example compiles to its versions"


def _fragment_wrappings(text: str) -> list[str]:
    return [
        text,
        f'rule DOC-FRAGMENT "fragment" {{\n{text}}}\n',
        f'rule DOC-FRAGMENT "fragment" {{\n    for each doc_event require\n{text}}}\n',
    ]


def test_fragments_parse_when_wrapped() -> None:
    # One test for all fragments (there may be none): the page should need very few.
    for block in FRAGMENTS:
        problems = []
        for wrapped in _fragment_wrappings(block.text):
            try:
                parse(wrapped, FILENAME)
                break
            except RulesError as exc:
                problems.append(exc.render())
        else:
            pytest.fail(f"{block.id}: the fragment parses neither alone, nor as a rule body, nor as a condition:\n"
                        + "\n".join(problems))


@pytest.mark.parametrize("block", MISTAKES, ids=lambda b: b.id)
def test_mistake_gives_the_documented_error(block: Block) -> None:
    with pytest.raises(RulesError) as caught:
        compile_protocol(parse(block.text, FILENAME), FILENAME, block.text)
    assert block.error is not None
    assert block.error in caught.value.render()


# ----- every construct of the grammar has an example -----------------------------------------------


def _grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def grammar_constructs() -> set[str]:
    """Rule names and aliases of the grammar: the names a parse tree's nodes can carry."""
    text = _grammar_text()
    rules = set(re.findall(r"^[?!]*([a-z_][a-z0-9_]*)\s*:", text, re.MULTILINE))
    aliases = set(re.findall(r"->\s*([a-z_][a-z0-9_]*)", text))
    return rules | aliases


def grammar_keywords() -> set[str]:
    """Every literal word or symbol of the grammar ("for", "within", "%", "subject's", ...)."""
    words: set[str] = set()
    for line in _grammar_text().splitlines():
        if line.lstrip().startswith("//") or re.match(r"^[A-Z_]+\s*:\s*/", line):
            continue  # comments, and terminals defined by a regular expression
        words.update(re.findall(r'"((?:[^"\\]|\\.)+)"', line))
    return words


@functools.cache
def _keep_all_tokens() -> Lark:
    # The package's parser drops anonymous keywords from trees; this one keeps every token.
    return Lark(_grammar_text(), parser="lalr", lexer="contextual", keep_all_tokens=True)


def _constructs_in(text: str) -> set[str]:
    tree = build_parser().parse(text)
    return {str(subtree.data) for subtree in tree.iter_subtrees()}


def _keywords_in(text: str) -> set[str]:
    tree: Tree = _keep_all_tokens().parse(text)
    return {str(t) for t in tree.scan_values(lambda v: isinstance(v, Token) and v.type not in WRITERS_WORDS)}


def test_the_allow_list_names_real_grammar_rules() -> None:
    # An entry left behind after a grammar change would hide nothing, but it would mislead.
    assert NEVER_IN_A_TREE <= grammar_constructs()


def test_every_grammar_construct_has_an_example() -> None:
    seen: set[str] = set()
    for block in EXAMPLES:
        seen |= _constructs_in(block.text)
    missing = sorted(grammar_constructs() - NEVER_IN_A_TREE - seen)
    assert not missing, f"grammar constructs without a ```rules example in docs/language.md: {missing}"


def test_every_keyword_has_an_example() -> None:
    seen: set[str] = set()
    for block in EXAMPLES:
        seen |= _keywords_in(block.text)
    missing = sorted(grammar_keywords() - seen)
    assert not missing, f"keywords without a ```rules example in docs/language.md: {missing}"
