"""The on-demand reliability commands read their tools' output correctly (their runs are in docs/reliability.md)."""

from __future__ import annotations

from reliability.memcheck import count

REPORT = """==7== Memcheck, a memory error detector
==7==
==7== Invalid read of size 1
==7==    at 0x4C2: reduceExpressionSequence (events.c:609)
==7==    by 0x4D1: assertFact (in /venv/durable_rules_engine.cpython-311-x86_64-linux-gnu.so)
==7==
==7== Use of uninitialised value of size 8
==7==    at 0x49A: _PyEval_Vector (ceval.c:6434)
==7==
==7== 48 bytes in 1 blocks are definitely lost in loss record 3 of 9
==7==    at 0x483: malloc (vg_replace_malloc.c:381)
==7==    by 0x4E0: createRuleset (in /venv/durable_rules_engine.cpython-311-x86_64-linux-gnu.so)
==7==
==7== 1,024 (64 direct, 960 indirect) bytes in 1 blocks are definitely lost in loss record 5 of 9
==7==    at 0x483: malloc (vg_replace_malloc.c:381)
==7==    by 0x4A0: PyMem_RawMalloc (obmalloc.c:586)
==7==
==7== ERROR SUMMARY: 2 errors from 2 contexts
"""


def test_memcheck_counts_engine_errors_and_leaks_apart_from_the_interpreters() -> None:
    assert count(REPORT) == (1, 1, 1)
    assert count("==7== ERROR SUMMARY: 0 errors from 0 contexts\n") == (0, 0, 0)
