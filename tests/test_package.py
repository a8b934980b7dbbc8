"""The installed package carries its grammar and runs from any directory."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import jk500_rules
from jk500_rules.language.grammar import grammar_path

ROOT = Path(__file__).resolve().parents[1]


def test_distribution_lists_the_grammar() -> None:
    files = {str(f) for f in importlib.metadata.files("jk500-rules") or []}
    assert "jk500_rules/language/grammar/protocol.lark" in files or any(
        f.endswith(".pth") or "__editable__" in f for f in files
    ), "the wheel must carry the grammar"


def test_grammar_found_is_the_spec_in_the_checkout() -> None:
    assert grammar_path().read_text(encoding="utf-8") == (ROOT / "grammar" / "protocol.lark").read_text(
        encoding="utf-8"
    )


def test_command_runs_from_another_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "check", str(ROOT / "protocol.rules")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "no errors" in done.stdout
    assert jk500_rules.__version__ in subprocess.run(
        [sys.executable, "-m", "jk500_rules", "--version"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
