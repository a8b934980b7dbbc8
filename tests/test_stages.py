"""`jk500-rules compile --stage`: what each pass made of a rule, against golden files.

tests/golden/stages/NAME.STAGE.json is the output for tests/golden/compile/NAME.rules; adding a case is
adding the two files (written by `jk500-rules compile --stage STAGE NAME.rules` and read before commit).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from jk500_rules.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(GOLDEN.glob("stages/*.json"))


def compile_stage(rules: str, *stage: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(GOLDEN / "compile")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["compile", *stage, rules])
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_golden_stage_output(case: Path) -> None:
    name, stage = case.name.removesuffix(".json").rsplit(".", 1)
    code, out, _ = compile_stage(f"{name}.rules", "--stage", stage)
    assert code == 0
    assert out == case.read_text(encoding="utf-8")


def test_every_stage_case_has_its_rules_and_both_stages() -> None:
    names = {p.name.split(".")[0] for p in CASES}
    assert names and all((GOLDEN / "compile" / f"{name}.rules").is_file() for name in names)
    assert {p.name for p in CASES} == {f"{name}.{stage}.json" for name in names for stage in ("resolved", "lowered")}


def test_the_engine_stage_is_the_default_compile_output() -> None:
    assert compile_stage("table.rules", "--stage", "engine")[1] == compile_stage("table.rules")[1]
    assert json.loads(compile_stage("table.rules")[1]) == json.loads((GOLDEN / "compile" / "table.json").read_text())


def test_resolved_names_say_which_field_each_name_reads() -> None:
    document = json.loads(compile_stage("table.rules", "--stage", "resolved")[1])
    (rule,) = document["rules"]
    dose = next(name for name in rule["names"] if name["text"] == "dose")
    assert dose["reads"] == "t.dose" and dose["optional"] and dose["scale"] == 10**6 and dose["unit"] == "mg"
    assert [r["role"] for r in rule["records"]] == ["trigger", "anchor"]  # the subject, for `arm`
    assert rule["tables"] == [{"at": "19:42", "table": "nominal", "text": "nominal[arm]"}]


def test_lowered_conditions_are_engine_tests_with_their_offsets() -> None:
    document = json.loads(compile_stage("needs_unless.rules", "--stage", "lowered")[1])
    (rule,) = document["rules"]
    needs = rule["clauses"][0]
    window = needs["when"][0][1]["tests"]
    assert window == ["n1.date >= t.date - 14 (dates)", "n1.date <= t.date (dates)"]
    assert len(rule["verdict"]) == 2  # `test in ("creatinine", "creat")`: one alternative per value
    assert "lab" in document["plan"]["events"]


def test_a_stage_of_invalid_rules_is_the_diagnostic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules"
    bad.write_text('protocol "X"\nevent a "A" { n: integer }\nrule R "r" {\n    for each a\n        require m > 1\n}\n')
    code, out, err = compile_stage(str(bad), "--stage", "resolved")
    assert code == 2 and out == ""
    assert "bad.rules:5:17: error: unknown name 'm'" in err
