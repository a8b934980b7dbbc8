"""`audit --format html`: one self-contained page (no browser here; tests/test_html_browser.py has one)."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import read_expected

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.reports.html_report import render_html
from jk500_rules.reports.report_content import not_evaluable_by_cause

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
EXPECTED = ROOT / "examples" / "expected.csv"

EVIL_SUBJECT = "<script>alert(1)</script>"
EVIL_MESSAGE = '"><img src=x onerror=alert(1)>'


class Page(HTMLParser):
    """Elements with their attributes and the section (timeline of a subject) they sit in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.marks: dict[str, set[str]] = {}  # timeline section's data-subject -> finding ids marked
        self.rows: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self._section: list[str | None] = []

    VOID = {"meta", "link", "br", "input", "img", "hr", "area", "base", "col", "embed", "source", "wbr"}
    SVG_VOID_OK = {"line", "circle", "rect", "polygon", "path"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        classes = (a.get("class") or "").split()
        if tag == "tr" and "finding-row" in classes:
            self.rows.append(a["data-finding-id"] or "")
        if "finding-mark" in classes:
            subject = next((s for s in reversed(self._section) if s is not None), None)
            assert subject is not None, "a finding mark outside a timeline section"
            self.marks.setdefault(subject, set()).add(a["data-finding-id"] or "")
        if tag == "script":
            self._in_script = True
        if tag in self.VOID:
            return
        self.stack.append((tag, a))
        self._section.append(a.get("data-subject") if "timeline-section" in classes else None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag in self.VOID:
            return
        while self.stack:
            open_tag, _ = self.stack.pop()
            self._section.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit_files(load_protocol(str(RULES)), [str(LOG)], keep_records=True)


@pytest.fixture(scope="module")
def html(result: AuditResult) -> str:
    return render_html(result)


def test_one_row_per_finding(result: AuditResult, html: str) -> None:
    page = parse(html)
    assert result.findings
    assert sorted(page.rows) == sorted(f.id for f in result.findings)
    assert len(set(page.rows)) == len(result.findings)
    for f in result.findings:
        assert f'id="evidence-{f.id}"' in html  # the row's evidence link has a target
        assert f'href="#evidence-{f.id}"' in html
        for record in f.evidence:
            assert record.location in html


def test_every_planted_deviation_is_marked_on_its_subjects_timeline(result: AuditResult, html: str) -> None:
    page = parse(html)
    expected = read_expected(EXPECTED)
    by_key = {(f.rule.id, f.subject or "", f.date, f.status): f for f in result.findings}
    for row in expected:
        finding = by_key[row]  # test_example.py holds the findings to expected.csv; here, the page
        assert finding.id in page.marks.get(row[1], set()), f"{row} not marked on the timeline of {row[1] or 'the trial'}"
    # Every finding is marked exactly on its own subject's timeline.
    for f in result.findings:
        holders = [s for s, ids in page.marks.items() if f.id in ids]
        assert holders == [f.subject or ""]


def test_summary_sections(result: AuditResult, html: str) -> None:
    assert 'id="by-rule"' in html and 'id="by-subject"' in html
    assert "Important deviations" in html
    for rule in result.rules:
        assert rule.id in html
    # The trial timeline shows the SRC decisions and each dose group's first infusion.
    assert "src_decision" in html and "first infusion of dose group" in html
    # No change counts without a previous report; no provenance section while it is empty.
    if not any(f.change for f in result.findings) and not result.resolved:
        assert 'id="changes"' not in html


def test_not_evaluable_findings_by_cause(tmp_path: Path) -> None:
    """Without JK500-01-008's screening checklist: one summary line for the subject and the missing
    checklist listing the seven rules it blocks; still one table row per finding, each with its cause."""
    lines = LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    log = tmp_path / "jk500_visits.csv"
    log.write_text("".join(line for line in lines if ",JK500-01-008,2024-05-15,screening," not in line),
                   encoding="utf-8")
    result = audit_files(load_protocol(str(RULES)), [str(log)], keep_records=True)
    html = render_html(result)
    page = parse(html)
    groups = not_evaluable_by_cause(result)
    summary_rows = [(a["data-subject"], a["data-cause"]) for tag, a in page.elements
                    if tag == "tr" and "cause-row" in (a.get("class") or "").split()]
    assert summary_rows == [(g["subject"] or "(trial)", g["cause"]) for g in groups]
    blocked = ("JK500-EXCL-CONGENITAL, JK500-EXCL-INFECTION, JK500-EXCL-OTHER-TRIAL, JK500-EXCL-RECENT-DISEASE, "
               "JK500-EXCL-RECENT-SURGERY, JK500-EXCL-PLANNED-SURGERY, JK500-EXCL-LIVE-VACCINE")
    assert f"<td>no screening checklist recorded</td><td>{blocked}</td>" in html
    assert summary_rows.count(("JK500-01-008", "no screening checklist recorded")) == 1
    # The findings table: a row per finding, its cause in data-cause (what the filter reads) and a column.
    causes = {a["data-finding-id"]: a["data-cause"] for tag, a in page.elements
              if tag == "tr" and "finding-row" in (a.get("class") or "").split()}
    assert causes == {f.id: f.cause or "" for f in result.findings}
    assert sum(1 for c in causes.values() if c == "no screening checklist recorded") == 7
    assert '<th data-col="6">cause</th>' in html
    options = {a.get("value") for tag, a in page.elements if tag == "option"}
    assert options == {"", "deviation", "possible_deviation", "not_evaluable"} | {g["cause"] for g in groups}


def test_no_cause_section_without_not_evaluable_findings(result: AuditResult) -> None:
    kept = dataclasses.replace(result, findings=[f for f in result.findings if f.status != "not_evaluable"],
                               explanations={})
    html = render_html(kept)
    assert 'id="by-cause"' not in html and 'id="filter-cause"' in html
    assert 'id="by-cause"' in render_html(result)


def test_changes_and_provenance(result: AuditResult) -> None:
    findings = [dataclasses.replace(f, change="new" if i % 3 else "persisting")
                for i, f in enumerate(result.findings)]
    changed = dataclasses.replace(result, findings=findings,
                                  resolved=[{"id": "F-000000000000", "rule": "JK500-X", "subject": "S-1",
                                             "date": "2024-01-01", "status": "deviation", "message": "gone"}],
                                  provenance={"tool": "jk500-rules 0.1.0", "rules_sha256": "ab" * 32,
                                              "inputs": [{"file": "examples/jk500_visits.csv", "sha256": "cd" * 32}],
                                              "run_at": "2025-01-23T10:00:00+00:00"})
    html = render_html(changed)
    new = sum(1 for f in findings if f.change == "new")
    assert f'<td class="num" id="count-new">{new}</td>' in html
    assert f'<td class="num" id="count-persisting">{len(findings) - new}</td>' in html
    assert '<td class="num" id="count-resolved">1</td>' in html
    assert 'id="provenance-table"' in html
    for text in ("rules_sha256", "ab" * 32, "cd" * 32, "run_at", "2025-01-23T10:00:00+00:00"):
        assert text in html


def _evil(result: AuditResult) -> AuditResult:
    """The example with one subject renamed to a script and one message turned into markup."""
    victim = result.findings[0].subject
    assert victim
    records = [dataclasses.replace(r, subject=EVIL_SUBJECT) if r.subject == victim else r
               for r in result.data.records]
    findings = []
    for i, f in enumerate(result.findings):
        changes: dict = {}
        if f.subject == victim:
            changes["subject"] = EVIL_SUBJECT
            changes["evidence"] = tuple(dataclasses.replace(r, subject=EVIL_SUBJECT) if r.subject == victim else r
                                        for r in f.evidence)
        if i == 0:
            changes["message"] = EVIL_MESSAGE
            changes["reason"] = EVIL_MESSAGE
        if i == 1:
            changes["review"] = {"decision": "waived", "reason": EVIL_MESSAGE, "by": EVIL_SUBJECT, "at": "2025-01-02"}
        findings.append(dataclasses.replace(f, **changes))
    data = dataclasses.replace(result.data, records=records)
    return dataclasses.replace(result, data=data, findings=findings, explanations={},
                               provenance={EVIL_SUBJECT: EVIL_MESSAGE, "inputs": [EVIL_MESSAGE]})


def test_data_is_escaped(result: AuditResult) -> None:
    evil = _evil(result)
    html = render_html(evil)
    assert EVIL_SUBJECT not in html
    assert EVIL_MESSAGE not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    page = parse(html)
    # The only script is the page's own; no element carries an event handler attribute.
    assert sum(1 for tag, _ in page.elements if tag == "script") == 1
    assert not any(name.startswith("on") for _, attrs in page.elements for name in attrs)
    assert not any("alert" in s for s in page.scripts)
    # The renamed subject's timeline (SVG text and titles too) still holds its findings' marks.
    ids = {f.id for f in evil.findings if f.subject == EVIL_SUBJECT}
    assert ids and ids <= page.marks[EVIL_SUBJECT]


def test_no_network_fetches(html: str) -> None:
    page = parse(html)
    for tag, attrs in page.elements:
        assert not (tag == "script" and "src" in attrs), "external script"
        for name in ("src", "href", "xlink:href", "srcset", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not re.match(r"^(https?:)?//", value), f"<{tag} {name}={value}> fetches from the network"
            if tag in ("img", "link", "iframe", "source", "embed", "object", "image", "use") and value:
                assert value.startswith(("#", "data:")), f"<{tag} {name}={value}>"
    assert "@import" not in html and "url(" not in html
    assert "http://" not in html and "https://" not in html
    assert "Content-Security-Policy" in html


def test_deterministic(result: AuditResult, html: str) -> None:
    again = audit_files(load_protocol(str(RULES)), [str(LOG)], keep_records=True)
    assert render_html(again) == html
    assert render_html(result) == html
    assert "object at 0x" not in html and "built-in method" not in html


def test_template_is_package_data() -> None:
    import jk500_rules.reports

    assert (Path(jk500_rules.reports.__file__).parent / "templates" / "report.html.j2").is_file()


def test_the_command_line_writes_the_html_report_with_its_provenance(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "jk500_rules", "audit", "--rules", "protocol.rules",
                           "examples/jk500_visits.csv", "--format", "html,json", "-o", str(out),
                           "--run-time", "2026-01-01T00:00:00Z"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "2026-01-01T00:00:00Z" in page and "sha256" in page.lower()
    assert page.count('class="finding-mark ') == 48
