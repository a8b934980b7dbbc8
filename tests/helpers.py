"""Helpers shared by the example-audit tests: hand-written expected findings vs the audit's."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from jk500_rules.engine.results import AuditResult

Row = tuple[str, str, str, str]


def read_expected(path: Path) -> list[Row]:
    """`rule,subject,date,status` rows of an examples/**/expected.csv (subject empty: trial level)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["rule", "subject", "date", "status"]
        return [(r["rule"], r["subject"], r["date"], r["status"]) for r in reader]


def found_rows(result: AuditResult) -> list[Row]:
    return [(f.rule.id, f.subject or "", f.date, f.status) for f in result.findings]


def shared_data() -> Path:
    """The shared data folder: $JK500_SHARED_DATA, by default ../shared/data beside the checkout."""
    return Path(os.environ.get("JK500_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def unavailable(reason: str, what: str) -> None:
    """Skip for want of shared data, saying why; under CI the data must be there, so fail instead."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: {what} must run)", pytrace=False)
    pytest.skip(reason)
