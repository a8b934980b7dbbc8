"""A real study end to end: the public CDISC pilot (CDISCPILOT01) audited from its SDTM XPT files.

examples/cdiscpilot01/ holds the protocol's rules, the mapping of SDTM domains to its events and the
expected findings, derived from the XPT files without the tool by derive_expected.py. The data are not in
this repository: they are read from `$JK500_SHARED_DATA/cdiscpilot01` (default: `../shared/data` beside the
checkout). Without them the audit tests are skipped, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from helpers import found_rows, read_expected, shared_data, unavailable

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.language.formatter import format_source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cdiscpilot01"
RULES = EXAMPLE / "protocol.rules"
MAPPING = EXAMPLE / "mapping.toml"
EXPECTED = EXAMPLE / "expected.csv"
DERIVATION = EXAMPLE / "derive_expected.py"
DOMAIN_FILES = ("dm.xpt", "ex.xpt", "sv.xpt", "qsmm.xpt", "qshi.xpt", "lbch.xpt", "lbhe.xpt", "lbur.xpt", "cm.xpt")


def _data_folder() -> Path:
    return shared_data() / "cdiscpilot01"


@pytest.fixture(scope="module")
def folder() -> Path:
    path = _data_folder()
    missing = [name for name in DOMAIN_FILES if not (path / name).is_file()]
    if missing:
        unavailable(f"the CDISC pilot SDTM data is not at {path} (missing {', '.join(missing)}); "
                    "set JK500_SHARED_DATA to the folder that holds cdiscpilot01/", "the CDISC pilot audit")
    try:
        import pyreadstat  # noqa: F401
    except ImportError:
        unavailable("pyreadstat is not installed: it reads the SAS XPORT files", "the CDISC pilot audit")
    return path


@pytest.fixture(scope="module")
def result(folder: Path) -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(folder)], mapping=str(MAPPING))


@pytest.fixture(scope="module")
def derivation() -> ModuleType:
    """examples/cdiscpilot01/derive_expected.py, the tool-free derivation of expected.csv, as a module."""
    spec = importlib.util.spec_from_file_location("cdiscpilot01_derive_expected", DERIVATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# ----- the rules file, without the data --------------------------------------------------------------


def test_the_rules_check_clean_and_are_laid_out_canonically() -> None:
    protocol = load_protocol(str(RULES))
    assert protocol.name == "CDISCPILOT01"
    assert not protocol.warnings
    assert len(protocol.rules) == 18
    text = RULES.read_text(encoding="utf-8")
    assert format_source(text, str(RULES)) == text


def test_expected_findings_are_listed_once_in_report_order() -> None:
    rows = read_expected(EXPECTED)
    assert len(set(rows)) == len(rows)
    order = {rule.id: i for i, rule in enumerate(load_protocol(str(RULES)).rules)}
    assert all(row[0] in order for row in rows)
    assert rows == sorted(rows, key=lambda row: (order[row[0]], row[1], row[2], row[3]))


# ----- the audit -------------------------------------------------------------------------------------


def test_findings_equal_the_independently_computed_ones(result: AuditResult) -> None:
    assert found_rows(result) == read_expected(EXPECTED)


def test_expected_csv_is_what_the_tool_free_derivation_writes(folder: Path, derivation: ModuleType) -> None:
    # derive_expected.py reads the XPT files with pyreadstat, never mapping.toml nor jk500_rules.
    rows, _ = derivation.derive(folder)
    assert rows == read_expected(EXPECTED)
    assert derivation.render(rows) == EXPECTED.read_text(encoding="utf-8")


def test_the_mapping_takes_the_medications_of_the_review(result: AuditResult, derivation: ModuleType) -> None:
    # The review (README.md) lists every CMTRT/CMDECOD value that names a thyroid hormone or an
    # Alzheimer's drug; the mapping's patterns must take exactly those rows, LEVOTHROID and LEVOXINE too.
    drugs = {event: {r.raw["drug"] for r in result.data.records if r.event == event}
             for event in ("thyroid_supplement", "alzheimer_drug")}
    assert drugs["thyroid_supplement"] == derivation.THYROID_HORMONES
    assert drugs["alzheimer_drug"] == derivation.ALZHEIMER_DRUGS
    assert {"LEVOTHROID", "LEVOXINE"} <= drugs["thyroid_supplement"]


def test_every_domain_row_is_accounted_for(result: AuditResult, folder: Path) -> None:
    data = result.data
    assert data.rejections == []
    sources = {Path(str(s["source"])).name: s for s in data.sources}
    assert sorted(sources) == sorted(DOMAIN_FILES)
    for name, source in sources.items():
        assert source["rows"] == source["mapped"] + source["not_mapped"] + source["rejected"], name
        assert Path(str(source["source"])).parent == folder
    mapped = {name: (s["domain"], s["rows"], s["mapped"]) for name, s in sources.items()}
    assert mapped == {
        "dm.xpt": ("DM", 306, 306),
        "ex.xpt": ("EX", 591, 591),
        "sv.xpt": ("SV", 3559, 3559),
        "qsmm.xpt": ("QS", 1524, 1524),  # 254 subjects x 6 MMSE items -> 254 totals
        "qshi.xpt": ("QS", 3302, 3302),  # 254 subjects x 13 Hachinski items -> 254 totals
        "lbch.xpt": ("LB", 32740, 0),  # no test the rules read is in chemistry
        "lbhe.xpt": ("LB", 21927, 8),  # HBA1C
        "lbur.xpt": ("LB", 4913, 543),  # VITB12 (272) and TSH (271), in the urinalysis file
        "cm.xpt": ("CM", 7510, 216),  # thyroid hormones (205) and donepezil (11)
    }
    events = Counter(record.event for record in data.records)
    assert events == {"demographics": 306, "dose": 591, "visit": 3559, "mmse": 254, "hachinski": 254,
                      "vitamin_b12": 272, "tsh": 271, "hba1c": 8, "thyroid_supplement": 205, "alzheimer_drug": 11}
    # The audit's own summary adds up too: read = audited + not used + rejected.
    assert data.read == len(data.records) == result.audited == 5731
    assert not result.not_used


def test_data_traps_are_read_as_the_rules_mean(result: AuditResult) -> None:
    records = result.data.records
    # XPT numbers are floats: VISITNUM 9.299999999999999 is 9.3, AGE 63.0 is 63.
    visit = next(r for r in records
                 if r.event == "visit" and r.subject == "01-711-1143" and r.raw["name"] == "UNSCHEDULED 9.3")
    assert visit.raw["number"] == "9.3"
    assert {r.raw["age"] for r in records if r.event == "demographics" and r.subject == "01-701-1015"} == {"63"}
    # TSH 6.20 is stored as 6.199999999999999 in LBSTRESN; the rules read LBORRES as reported.
    assert [r.raw["result"] for r in records if r.event == "tsh" and r.subject == "01-710-1142"] == ["6.20"]
    # A partial start date (2013-11) is an interval, not a rejection.
    partial = [r for r in records if r.event == "alzheimer_drug" and r.subject == "01-718-1170"]
    assert sorted(r.date_text for r in partial) == ["2013-11", "2013-12"] and all(r.partial for r in partial)


def test_findings_quote_the_data(result: AuditResult) -> None:
    findings = {(f.rule.id, f.subject): f for f in result.findings}
    b12 = findings[("CP01-ELIG-B12", "01-710-1300")]
    assert b12.date == "2012-12-04"  # the deciding B12 result, not the first dose
    assert b12.message == "No vitamin B12 of at least 130 ng/L on or before the first dose of 2012-12-15."
    assert [(r.location.rsplit("/", 1)[-1], r.raw["result"]) for r in b12.considered] == [("lbur.xpt:3356", "129")]
    week6 = findings[("CP01-SCH-WEEK-6", "01-715-1155")]
    assert week6.message == "Week 6 visit on 2014-04-26, not within 3 days of 42 days after the first dose."
    supplemented = findings[("CP01-ELIG-TSH-SUPPLEMENTED", "01-711-1143")]
    # Dated by the deciding TSH of 2013-03-24, not the supplement record of 2013-03-30 it is checked for.
    assert supplemented.date == "2013-03-24" and [r.raw["result"] for r in supplemented.considered] == ["0"]


def test_standings_per_rule(result: AuditResult) -> None:
    standings = Counter((s.rule.id, s.status) for s in result.standings)
    # 254 dosed subjects are judged; the 52 screen failures have no dose: not applicable.
    assert standings[("CP01-ELIG-AGE", "passed")] == 254
    assert standings[("CP01-ELIG-AGE", "not_applicable")] == 52
    # The 5 subjects on a thyroid hormone with a TSH outside 0.32-5.0 are held to 0.03-6.2 instead
    # (01-701-1034: TSH 0.27, on Levothroid); 18 of the 20 subjects on one pass that.
    assert standings[("CP01-ELIG-TSH", "excused")] == 5
    assert standings[("CP01-ELIG-TSH", "deviation")] == 4
    assert standings[("CP01-ELIG-TSH-SUPPLEMENTED", "passed")] == 18
    assert standings[("CP01-ELIG-TSH-SUPPLEMENTED", "deviation")] == 2
    # Donepezil was only started after the last dose: no overlap with the treatment period.
    assert standings[("CP01-EXCL-AD-DRUGS", "passed")] == 254
    assert result.exit_code == 1
