"""The grammar is unambiguous in lark's strict mode, and both trials parse to nodes that all carry a span."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import pytest

from jk500_rules.errors import Span
from jk500_rules.language import nodes as n
from jk500_rules.language.grammar import build_parser
from jk500_rules.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
RULES_FILES = [ROOT / "protocol.rules", ROOT / "examples" / "other_trial" / "protocol.rules"]


def walk(node: object) -> Iterator[n.Node]:
    """Every syntax node reachable from `node`, through fields and tuples."""
    if isinstance(node, n.Node):
        yield node
        for f in dataclasses.fields(node):
            yield from walk(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from walk(item)


def test_grammar_builds_in_strict_mode() -> None:
    # strict: a shift/reduce conflict or a regex collision between terminals is an error.
    parser = build_parser(strict=True)
    assert parser.options.parser == "lalr"


def test_strict_parser_parses_protocol_rules() -> None:
    tree = build_parser(strict=True).parse((ROOT / "protocol.rules").read_text(encoding="utf-8"))
    assert tree.data == "start"


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_file_parses(path: Path) -> None:
    protocol = parse(path.read_text(encoding="utf-8"), str(path))
    assert protocol.header is not None
    assert protocol.events and protocol.parameters and protocol.rules


def test_protocol_rules_has_the_expected_items() -> None:
    protocol = parse((ROOT / "protocol.rules").read_text(encoding="utf-8"), "protocol.rules")
    assert protocol.header is not None and protocol.header.name == "JK500"
    ids = [r.id for r in protocol.rules]
    assert len(ids) == len(set(ids)) >= 6
    assert all(rule_id.startswith("JK500-") for rule_id in ids)
    assert {a.name for a in protocol.subject_attributes} == {"dose_group"}
    assert any(e.trial_level for e in protocol.events)
    forms = {r.check.source.form for r in protocol.rules}
    assert {"each", "first", "count", "group_first"} <= forms


@pytest.mark.parametrize("path", RULES_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_node_has_a_span_inside_the_source(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    nodes = list(walk(parse(source, str(path))))
    assert len(nodes) > 50
    kinds = {type(node).__name__ for node in nodes}
    # The walk reaches every kind of node the file uses, down to the leaves.
    assert {"Rule", "Check", "Source", "Verdict", "Quantity", "NameRef", "EventDecl", "FieldDecl"} <= kinds
    for node in nodes:
        span = node.span
        assert isinstance(span, Span), node
        assert 1 <= span.line <= span.end_line <= len(lines) + 1, (node, span)
        assert span.column >= 1 and span.end_column >= 1, (node, span)
        if span.line == span.end_line:
            assert span.column <= span.end_column, (node, span)
            assert span.end_column <= len(lines[span.line - 1]) + 1, (node, span)


def test_leaf_spans_cover_their_text() -> None:
    source = (ROOT / "protocol.rules").read_text(encoding="utf-8")
    lines = source.splitlines()

    def text(span: Span) -> str:
        assert span.line == span.end_line
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]

    protocol = parse(source, "protocol.rules")
    for rule in protocol.rules:
        assert text(rule.id_span) == rule.id
        assert lines[rule.span.line - 1].startswith("rule ")
    for event in protocol.events:
        assert text(event.span) == event.name
        for f in event.fields:
            assert text(f.span) == f.name
            assert text(f.type_span) == f.type
    for node in walk(protocol):
        if isinstance(node, n.NameRef) and node.field is None:
            assert text(node.span) == node.name
        if isinstance(node, n.Quantity) and node.span.line == node.span.end_line:
            written = text(node.span)
            assert written[0].isdigit(), (node, written)
            assert node.unit is None or written.endswith(node.unit.split("/")[-1]), (node, written)
