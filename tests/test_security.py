"""Nothing in rules text or data can run code, and a bug of ours ends in one line, not a traceback."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from jk500_rules import cli
from jk500_rules.cli import commands

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jk500_rules"
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"

# Calls that would turn text into code, or load a module or run a program by a name computed at run time
# (`re.compile` is not among them: only the builtin `compile` is).
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_METHODS = {"import_module", "load_source", "run_path", "system", "popen"}


def _calls(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                names.add(func.id)
            elif isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_METHODS:
                names.add(func.attr)
    return names


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_code_is_made_from_text(module: Path) -> None:
    assert not _calls(ast.parse(module.read_text(encoding="utf-8"))), module.name


def test_the_scan_would_see_an_eval() -> None:
    assert _calls(ast.parse("eval(text)\nimportlib.import_module(x)\nre.compile(p)")) == {"eval", "import_module"}


def test_an_unexpected_error_is_one_line_and_exit_4(monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(commands, "audit_files", broken)
    monkeypatch.delenv("JK500_TRACEBACK", raising=False)
    assert cli.main(["audit", "--rules", str(RULES), str(LOG)]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "internal error (KeyError: 'a bug')" in err and "Traceback" not in err
    monkeypatch.setenv("JK500_TRACEBACK", "1")
    with pytest.raises(KeyError):
        cli.main(["audit", "--rules", str(RULES), str(LOG)])
