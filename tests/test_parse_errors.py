"""Golden error texts: `jk500-rules check FILE` on each tests/golden/errors/*.rules prints its *.err.

Adding a case is adding a pair of files: NAME.rules (a rules file with one kind of mistake, or several
for the one-pass case) and NAME.err (the exact stderr: exit code 2; for warning_* cases, exit code 0). The command runs in the golden
folder on a relative name, so the `file:line:col` in the text is stable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden" / "errors"
CASES = sorted(GOLDEN.glob("*.rules"))


def test_the_corpus_is_complete() -> None:
    rules = {p.stem for p in GOLDEN.glob("*.rules")}
    errs = {p.stem for p in GOLDEN.glob("*.err")}
    assert rules == errs, f"unpaired: {sorted(rules ^ errs)}"
    assert len(rules) >= 12
    assert any(name.startswith("syntax_") for name in rules)
    assert any(name.startswith("semantic_") for name in rules)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_check_prints_the_golden_error(case: Path) -> None:
    """syntax_* and semantic_* cases are errors (exit 2); warning_* cases only warn (exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "jk500_rules", "check", case.name],
        cwd=GOLDEN,
        capture_output=True,
        text=True,
    )
    expected = case.with_suffix(".err").read_text(encoding="utf-8")
    assert "Traceback" not in done.stderr
    assert done.stderr == expected
    if case.name.startswith("warning_"):
        assert done.returncode == 0 and "no errors" in done.stdout and ": error:" not in done.stderr
    else:
        assert done.stdout == ""
        assert done.returncode == 2
