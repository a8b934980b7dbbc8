"""The public API: what `__all__` names, its examples in docs/api.md (run in order), and in-memory audits."""

from __future__ import annotations

import csv
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jk500_rules as jk

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def test_every_public_name_resolves_and_is_documented() -> None:
    documented = DOC.read_text(encoding="utf-8")
    for name in jk.__all__:
        assert getattr(jk, name) is not None
        assert f"`{name}" in documented or name == "__version__", f"{name} is public but not in docs/api.md"
    assert sorted(dir(jk)) == sorted(jk.__all__)
    for name, module in jk._EXPORTS.items():  # each name comes from the module its table names
        value = getattr(jk, name)
        if hasattr(value, "__module__") and not isinstance(value, tuple):
            assert value.__module__.startswith(f"jk500_rules.{module}"), (name, value.__module__)
    with pytest.raises(AttributeError):
        jk.no_such_name  # noqa: B018


def test_importing_the_package_loads_no_stage_until_a_name_is_used() -> None:
    code = "import sys, jk500_rules; print(sorted(m for m in sys.modules if m.startswith('jk500_rules')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['jk500_rules', 'jk500_rules._version']"


def test_the_examples_of_docs_api_md_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/api.md, example {number}", "exec"), namespace)  # noqa: S102
    assert "JK500 " in capsys.readouterr().out


def test_an_audit_of_records_finds_what_the_audit_of_their_file_finds() -> None:
    protocol = jk.load_protocol(str(ROOT / "protocol.rules"))
    path = ROOT / "examples" / "jk500_visits.csv"
    from_file = jk.audit_files(protocol, [str(path)])
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    in_memory = jk.audit_records(protocol, rows, source="rows")

    def seen(result: jk.AuditResult) -> list[tuple]:
        return [(f.id, f.rule.id, f.subject, f.date, f.status, f.message, f.reason) for f in result.findings]

    assert seen(in_memory) == seen(from_file) and len(in_memory.findings) == 48
    assert in_memory.data.read == len(rows) == in_memory.audited + sum(in_memory.not_used.values())
    first = in_memory.findings[0].evidence[0]
    assert first.file == "rows" and rows[first.line - 1]["date"] == first.date_text


def test_private_modules_are_not_the_api() -> None:
    assert not set(jk.__all__) & {"cli", "engine", "compiler", "reports", "inputs", "language", "live", "api"}
    assert importlib.import_module("jk500_rules.api").load_protocol is jk.load_protocol
    assert os.path.basename(jk.__file__) == "__init__.py"
