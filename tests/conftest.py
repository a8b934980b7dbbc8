"""Shared test setup: scenario tags (rule ids) registered as pytest markers under --strict-markers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd.feature import get_features

from jk500_rules import load_protocol

ROOT = Path(__file__).resolve().parents[1]


def _feature_tags() -> set[str]:
    tags: set[str] = set()
    for feature in get_features([str(ROOT / "features")]):
        tags |= feature.tags
        for template in feature.scenarios.values():
            tags |= template.tags
            if template.rule is not None:
                tags |= template.rule.tags
            for examples in template.examples:
                tags |= examples.tags
    return tags


def pytest_configure(config: pytest.Config) -> None:
    rules = load_protocol(str(ROOT / "protocol.rules")).rules
    for rule in rules:
        config.addinivalue_line("markers", f"{rule.id}: scenario proving rule {rule.id} ({rule.title})")
    for tag in sorted(_feature_tags() - {rule.id for rule in rules}):
        config.addinivalue_line("markers", f"{tag}: tag used in features/*.feature")
