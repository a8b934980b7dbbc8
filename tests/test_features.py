"""Acceptance specs: the Gherkin scenarios in features/*.feature, run against the real protocol.rules.

A protocol writer adds a scenario by editing a .feature file only. The steps they can use:

    Given the JK500 protocol rules
    Given the protocol rules:                (a docstring: a protocol of the scenario's own, in the rules
                                              language; a language feature shows a construct on it)
    And the visit log:                       (a table; may be given more than once, rows add up)
      | subject | date | event | <field> | ... |
    When the protocol is audited
    When the protocol is audited as of "YYYY-MM-DD"
    When the protocol is audited in the time zone "Asia/Shanghai"
    When the protocol is audited with strict columns   (audit --strict-columns: rows may be rejected, but only
                                                        for a value in a column their event type does not declare)

The visit log as read (features/visit_log_columns.feature):

    Then the column "unit" of the visit log is ignored in 2 rows of lab   (one warning: values ignored, rows audited)
    Then no column of the visit log is ignored
    Then line 2 of the visit log is rejected for subject "S1" on "2024-02-02" because "<part of the reason>"
    Then 2 rows of the visit log are rejected                  (the header is line 1, the table's first row line 2)

SDTM input (one scenario's own mapping, in TOML as in docs/sdtm.md, and domain files as tables):

    Given the SDTM mapping:  (a docstring)
    And the SDTM domain "ex.csv":  (a table; columns are SDTM variables)
    When the SDTM domains are audited
    Then the rows of "cm.csv" are 2 mapped, 1 not used and 0 rejected
    Then there is a possible deviation of <RULE> for subject "<S>" on "<DATE>" because "<part of the reason>"
    Then there is a deviation of <RULE> for subject "<S>" on "<DATE>"
    Then there is a not evaluable finding of <RULE> for subject "<S>" on "<DATE>"
    Then there is a deviation of <RULE> for the trial on "<DATE>"       (trial-level rules)
    Then there are no findings of <RULE>
    Then there are no findings of <RULE> for subject "<S>"
    Then there is exactly 1 finding of <RULE>  /  there are exactly N findings of <RULE>
    Then the finding of <RULE> for subject "<S>" lists N records   (its evidence: one finding, N records)
    Then <RULE> is pending for N subject(s)          (subjects with a check judged only after the cut-off)
    Then <RULE> has N pending check(s)               (checks: one per record, count, week or window)
    Then the status of <RULE> for subject "<S>" is <STATUS>
    Then the status of <RULE> for subject "<S>" is <STATUS> because "<part of the reason>"
    Then the status of <RULE> for the trial is <STATUS>
      (STATUS: passed, deviation, not evaluable, pending, excused, not applicable)
    Then the not evaluable findings are grouped by cause:   (a table: subject | cause | rules, every group
      | subject | cause | rules |                             of the reports, in their order; rules joined
                                                             by ", "; subject "the trial" at the trial level)
    Then the text report has the line "<LINE>"              (a whole line, leading spaces aside)
    Then the finding of <RULE> for subject "<S>" names the window "<part of the window's line>"
    Then the finding of <RULE> for the trial names the window "<part of the window's line>"
      (the line the text report prints under a finding: "src_decision window: after 2024-02-12, ...")

Visit-log tables: columns study and site default to the protocol's name (JK500) and 01 when left out;
an empty cell is an absent value; a trial-level event (src_decision) has an empty subject. Every row must
be accepted by the log reader: a rejected row fails the audit step, so a typo cannot make a "no
findings" pass.

Every scenario is tagged with the id of the rule it proves (@JK500-ELIG-AGE, or a rule of the
scenario's own protocol). The coverage tests at the bottom fail when a rule of protocol.rules, or of a
scenario's own protocol, lacks a scenario where it fires or a near miss where it does not.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from functools import cache
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from pytest_bdd.feature import get_features

from jk500_rules import compile_rules, load_protocol
from jk500_rules.compiler.model import CompiledProtocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.engine.results import AuditResult
from jk500_rules.inputs.records import BASE_COLUMNS
from jk500_rules.inputs.validation import column_warnings
from jk500_rules.reports.report_content import not_evaluable_by_cause
from jk500_rules.reports.text_report import to_text
from jk500_rules.reports.report_content import window_text

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "protocol.rules"
FEATURES_DIR = ROOT / "features"
DEFAULT_CELLS = {"site": "01"}  # and study: the protocol's name
STATUS_WORDS = {"deviation": "deviation", "possible deviation": "possible_deviation",
                "not evaluable finding": "not_evaluable"}

# Step texts, shared by the step definitions and the coverage tests below.
RULE = r"(?P<rule>[A-Za-z0-9][\w.-]*)"
FINDING_RE = re.compile(
    rf'there is an? (?P<status>{"|".join(STATUS_WORDS)}) of {RULE}'
    rf'(?: for subject "(?P<subject>[^"]*)"| for (?P<trial>the trial))'
    rf' on "(?P<date>[^"]*)"(?: because "(?P<reason>[^"]*)")?')
COUNT_RE = re.compile(rf"there (?:is|are) exactly (?P<count>\d+) findings? of {RULE}")
NONE_RE = re.compile(rf'there are no findings of {RULE}(?: for subject "(?P<subject>[^"]*)")?')
MESSAGE_RE = re.compile(rf'the findings of {RULE} say "(?P<message>[^"]*)"')
EVIDENCE_RE = re.compile(rf'the finding of {RULE} for subject "(?P<subject>[^"]*)" lists (?P<count>\d+) records?')
PENDING_RE = re.compile(rf"{RULE} is pending for (?P<count>\d+) subjects?")
PENDING_CHECKS_RE = re.compile(rf"{RULE} has (?P<count>\d+) pending checks?")
STANDING_WORDS = {"passed": "passed", "possible deviation": "possible_deviation", "deviation": "deviation",
                  "not evaluable": "not_evaluable",
                  "pending": "pending", "excused": "excused", "not applicable": "not_applicable"}
WINDOW_RE = re.compile(
    rf'the finding of {RULE}(?: for subject "(?P<subject>[^"]*)"| for (?P<trial>the trial))'
    rf' names the window "(?P<window>[^"]*)"')
STANDING_RE = re.compile(
    rf'the status of {RULE}(?: for subject "(?P<subject>[^"]*)"| for (?P<trial>the trial))'
    rf' is (?P<standing>{"|".join(STANDING_WORDS)})(?: because "(?P<reason>[^"]*)")?')


@cache
def protocol_rules() -> CompiledProtocol:
    return load_protocol(str(RULES_FILE))


def rule_ids() -> list[str]:
    return [rule.id for rule in protocol_rules().rules]


OWN_RULES_STEP = "the protocol rules:"


@cache
def own_protocol(text: str) -> CompiledProtocol:
    return compile_rules(text, "scenario.rules")


# Tags become pytest markers; tests/conftest.py registers one per rule id and per other tag used.
scenarios(str(FEATURES_DIR))


# ----- steps ----------------------------------------------------------------------------------------


@pytest.fixture
def log_rows() -> list[dict[str, str]]:
    return []


@pytest.fixture
def sdtm_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sdtm"
    folder.mkdir()
    return folder


@given("the SDTM mapping:")
def _given_mapping(docstring: str, sdtm_folder: Path) -> None:
    (sdtm_folder.parent / "mapping.toml").write_text(docstring + "\n", encoding="utf-8")


@given(parsers.parse('the SDTM domain "{name}":'))
def _given_domain(datatable: list[list[str]], name: str, sdtm_folder: Path) -> None:
    with (sdtm_folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for cells in datatable:
            writer.writerow([cell.strip() for cell in cells])


@when("the SDTM domains are audited", target_fixture="audit_result")
def _when_sdtm_audited(protocol: CompiledProtocol, sdtm_folder: Path) -> AuditResult:
    return audit_files(protocol, [str(sdtm_folder)], mapping=str(sdtm_folder.parent / "mapping.toml"))


@then(parsers.parse('the rows of "{name}" are {mapped:d} mapped, {unused:d} not used and {rejected:d} rejected'))
def _then_rows(audit_result: AuditResult, name: str, mapped: int, unused: int, rejected: int) -> None:
    [source] = [s for s in audit_result.data.sources if Path(str(s["source"])).name == name]
    assert (source["mapped"], source["not_mapped"], source["rejected"]) == (mapped, unused, rejected), source
    assert source["rows"] == mapped + unused + rejected


@given("the JK500 protocol rules", target_fixture="protocol")
def _given_protocol() -> CompiledProtocol:
    return protocol_rules()


@given(OWN_RULES_STEP, target_fixture="protocol")
def _given_own_protocol(docstring: str) -> CompiledProtocol:
    return own_protocol(docstring)


@given("the visit log:")
@given("the visit log also has:")
def _given_visit_log(datatable: list[list[str]], log_rows: list[dict[str, str]]) -> None:
    header = [cell.strip() for cell in datatable[0]]
    assert len(set(header)) == len(header), f"the visit-log table repeats a column: {header}"
    for cells in datatable[1:]:
        log_rows.append({column: cell.strip() for column, cell in zip(header, cells)})


def _write_log(rows: list[dict[str, str]], path: Path, study: str) -> Path:
    fields: list[str] = []
    for row in rows:
        fields += [c for c in row if c not in BASE_COLUMNS and c not in fields]
    columns = list(BASE_COLUMNS) + fields
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        defaults = {**DEFAULT_CELLS, "study": study}
        for row in rows:
            writer.writerow({c: row.get(c, defaults.get(c, "")) for c in columns})
    return path


def _audit(protocol: CompiledProtocol, rows: list[dict[str, str]], tmp_path: Path,
           as_of: dt.date | None, time_zone: str | None = None, strict_columns: bool = False) -> AuditResult:
    assert rows, "the scenario has no visit log"
    path = _write_log(rows, tmp_path / "visit_log.csv", protocol.name)
    result = audit_files(protocol, [str(path)], as_of=as_of, time_zone=time_zone, strict_columns=strict_columns)
    # Strict columns reject rows on purpose, for that reason alone: any other is still a typo in the scenario.
    rejected = [f"line {r.line}: {r.reason}" for r in result.data.rejections
                if not (strict_columns and re.fullmatch(r"\w+ has no field '[^']*' \(value '.*'\)", r.reason))]
    assert not rejected, "visit-log rows were rejected:\n" + "\n".join(rejected)
    return result


@when("the protocol is audited", target_fixture="audit_result")
def _when_audited(protocol: CompiledProtocol, log_rows: list[dict[str, str]], tmp_path: Path) -> AuditResult:
    return _audit(protocol, log_rows, tmp_path, None)


@when(parsers.parse('the protocol is audited as of "{as_of}"'), target_fixture="audit_result")
def _when_audited_as_of(protocol: CompiledProtocol, log_rows: list[dict[str, str]], tmp_path: Path,
                        as_of: str) -> AuditResult:
    return _audit(protocol, log_rows, tmp_path, dt.date.fromisoformat(as_of))


@when(parsers.parse('the protocol is audited in the time zone "{zone}"'), target_fixture="audit_result")
def _when_audited_in_zone(protocol: CompiledProtocol, log_rows: list[dict[str, str]], tmp_path: Path,
                          zone: str) -> AuditResult:
    return _audit(protocol, log_rows, tmp_path, None, zone)


@when("the protocol is audited with strict columns", target_fixture="audit_result")
def _when_audited_strictly(protocol: CompiledProtocol, log_rows: list[dict[str, str]], tmp_path: Path) -> AuditResult:
    return _audit(protocol, log_rows, tmp_path, None, strict_columns=True)


@then(parsers.re(r'the column "(?P<column>[^"]+)" of the visit log is ignored in (?P<count>\d+) rows? of '
                 r'(?P<events>[\w, ]+)'))
def _then_column_ignored(audit_result: AuditResult, column: str, count: str, events: str) -> None:
    data = audit_result.data
    warnings = [(w.column, ", ".join(w.events), w.values)
                for w in column_warnings(data.ignored, data.files, audit_result.protocol)]
    assert (column, events, int(count)) in warnings, f"the columns ignored (column, events, values): {warnings}"


@then("no column of the visit log is ignored")
def _then_no_column_ignored(audit_result: AuditResult) -> None:
    assert not audit_result.data.ignored, f"values ignored (file, column, event): {dict(audit_result.data.ignored)}"


@then(parsers.parse('line {line:d} of the visit log is rejected for subject "{subject}" on "{date}" '
                    'because "{reason}"'))
def _then_row_rejected(audit_result: AuditResult, line: int, subject: str, date: str, reason: str) -> None:
    found = [(r.line, r.subject, r.date, r.reason) for r in audit_result.data.rejections]
    assert any((r[:3] == (line, subject, date) and reason in r[3]) for r in found), f"the rows rejected: {found}"


@then(parsers.re(r"(?P<count>\d+) rows? of the visit log (?:is|are) rejected"))
def _then_rows_rejected(audit_result: AuditResult, count: str) -> None:
    found = [(r.line, r.reason) for r in audit_result.data.rejections]
    assert len(found) == int(count), f"the rows rejected: {found}"


def _known_rule(protocol: CompiledProtocol, rule: str) -> None:
    ids = [r.id for r in protocol.rules]
    assert rule in ids, f"{rule} is not a rule of the scenario's protocol; its rules are {', '.join(ids)}"


def _describe(result: AuditResult, rule: str | None = None) -> str:
    lines = [f"  {f.rule.id} {f.status} subject={f.subject!r} date={f.date!r}: {f.message}"
             for f in result.findings if rule is None or f.rule.id == rule]
    return "\n".join(lines) or "  (none)"


@then(parsers.re(FINDING_RE.pattern))
def _then_finding(audit_result: AuditResult, status: str, rule: str, subject: str | None, trial: str | None,
                  date: str, reason: str | None) -> None:
    _known_rule(audit_result.protocol, rule)
    wanted = (rule, None if trial else subject, date, STATUS_WORDS[status])
    found = [(f.rule.id, f.subject, f.date, f.status) for f in audit_result.findings]
    assert wanted in found, (f"expected a {STATUS_WORDS[status]} of {rule} for "
                             f"{'the trial' if trial else 'subject ' + repr(subject)} on {date!r}; "
                             f"findings of {rule}:\n{_describe(audit_result, rule)}")
    if reason is not None:
        reasons = [f.reason or "" for f in audit_result.findings if (f.rule.id, f.subject, f.date, f.status) == wanted]
        assert any(reason in r for r in reasons), f"no reason containing {reason!r} in {reasons}"


@then(parsers.re(COUNT_RE.pattern))
def _then_count(audit_result: AuditResult, count: str, rule: str) -> None:
    _known_rule(audit_result.protocol, rule)
    found = [f for f in audit_result.findings if f.rule.id == rule]
    assert len(found) == int(count), (f"expected {count} finding(s) of {rule}, got {len(found)}:\n"
                                      f"{_describe(audit_result, rule)}")


@then(parsers.re(EVIDENCE_RE.pattern))
def _then_evidence(audit_result: AuditResult, rule: str, subject: str, count: str) -> None:
    _known_rule(audit_result.protocol, rule)
    found = [f for f in audit_result.findings if f.rule.id == rule and f.subject == subject]
    assert len(found) == 1, f"expected one finding of {rule} for {subject}:\n{_describe(audit_result, rule)}"
    records = [f"{r.event} {r.date}" for r in found[0].evidence]
    assert len(records) == int(count), f"expected {count} evidence record(s), got {len(records)}: {records}"


@then(parsers.re(NONE_RE.pattern))
def _then_no_findings(audit_result: AuditResult, rule: str, subject: str | None) -> None:
    _known_rule(audit_result.protocol, rule)
    found = [f for f in audit_result.findings if f.rule.id == rule and (subject is None or f.subject == subject)]
    assert not found, (f"expected no findings of {rule}{'' if subject is None else ' for subject ' + subject}, "
                       f"got:\n{_describe(audit_result, rule)}")


@then(parsers.re(MESSAGE_RE.pattern))
def _then_message(audit_result: AuditResult, rule: str, message: str) -> None:
    _known_rule(audit_result.protocol, rule)
    messages = [f.message for f in audit_result.findings if f.rule.id == rule]
    assert message in messages, f"no finding of {rule} says {message!r}; they say {messages}"


@then(parsers.re(PENDING_RE.pattern))
def _then_pending(audit_result: AuditResult, rule: str, count: str) -> None:
    _known_rule(audit_result.protocol, rule)
    subjects = sorted({s.subject or "the trial" for s in audit_result.standings
                       if s.rule.id == rule and s.status == "pending"})
    assert len(subjects) == int(count), f"expected {rule} pending for {count} subject(s), got {subjects}"


@then(parsers.re(PENDING_CHECKS_RE.pattern))
def _then_pending_checks(audit_result: AuditResult, rule: str, count: str) -> None:
    _known_rule(audit_result.protocol, rule)
    assert audit_result.pending[rule] == int(count), (
        f"expected {count} pending check(s) of {rule}, got {audit_result.pending[rule]}")


@then(parsers.re(WINDOW_RE.pattern))
def _then_window(audit_result: AuditResult, rule: str, subject: str | None, trial: str | None, window: str) -> None:
    _known_rule(audit_result.protocol, rule)
    who = None if trial else subject
    lines = [window_text(f.window) for f in audit_result.findings if f.rule.id == rule and f.subject == who]
    assert lines, f"{rule} has no finding for {'the trial' if trial else 'subject ' + repr(subject)}"
    assert any(window in line for line in lines), f"no window of {rule} says {window!r}; they say {lines}"


@then(parsers.re(STANDING_RE.pattern))
def _then_standing(audit_result: AuditResult, rule: str, subject: str | None, trial: str | None, standing: str,
                   reason: str | None) -> None:
    _known_rule(audit_result.protocol, rule)
    who = None if trial else subject
    found = [s for s in audit_result.standings if s.rule.id == rule and s.subject == who]
    assert found, f"{rule} has no status for {'the trial' if trial else 'subject ' + repr(subject)}"
    status, why = found[0].status, found[0].reason or ""
    assert status == STANDING_WORDS[standing], f"{rule} for {who or 'the trial'} is {status} ({why}), not {standing}"
    if reason is not None:
        assert reason in why, f"{rule} for {who or 'the trial'}: the reason is {why!r}, not containing {reason!r}"


@then("the not evaluable findings are grouped by cause:")
def _then_causes(audit_result: AuditResult, datatable: list[list[str]]) -> None:
    header = [cell.strip() for cell in datatable[0]]
    assert header == ["subject", "cause", "rules"], f"the table's columns are subject | cause | rules, not {header}"
    wanted = [tuple(cell.strip() for cell in cells) for cells in datatable[1:]]
    found = [(group["subject"] or "the trial", group["cause"], ", ".join(group["rules"]))
             for group in not_evaluable_by_cause(audit_result)]
    assert found == wanted, "the reports group the not evaluable findings as:\n" + "\n".join(
        " | ".join(group) for group in found)


@then(parsers.parse('the text report has the line "{line}"'))
def _then_text_line(audit_result: AuditResult, line: str) -> None:
    lines = [text.strip() for text in to_text(audit_result).splitlines()]
    assert line in lines, f"no line {line!r} in the text report:\n" + "\n".join(lines)


# ----- coverage of protocol.rules by the scenarios ------------------------------------------------


def _rendered_scenarios() -> list[tuple[str, set[str], list[tuple[str, str]], frozenset[str]]]:
    """(name, tags, [(step type, step text)], its protocol's rule ids) per scenario, one per example row."""
    out = []
    for feature in get_features([str(FEATURES_DIR)]):
        for template in feature.scenarios.values():
            tags = set(template.tags) | feature.tags | (template.rule.tags if template.rule else set())
            contexts = [(ex.tags, ctx) for ex in template.examples for ctx in ex.as_contexts()] or [(set(), {})]
            for example_tags, context in contexts:
                scenario = template.render(context)
                name = f"{Path(feature.filename).name}: {scenario.name} {context or ''}".strip()
                own = [s.docstring for s in scenario.steps if s.name == OWN_RULES_STEP and s.docstring]
                ids = frozenset(r.id for r in own_protocol(own[-1]).rules) if own else frozenset(rule_ids())
                out.append((name, tags | set(example_tags), [(s.type, s.name) for s in scenario.steps], ids))
    return out


def _own_protocols() -> dict[str, frozenset[str]]:
    """The rule ids of each protocol a scenario states itself, by its first scenario's name."""
    ids = frozenset(rule_ids())
    return {name: own for name, _, _, own in _rendered_scenarios() if own != ids}


def _then_texts(steps: list[tuple[str, str]]) -> list[str]:
    return [text for kind, text in steps if kind == "then"]


def _fires(rule: str, steps: list[tuple[str, str]]) -> bool:
    for text in _then_texts(steps):
        m = FINDING_RE.fullmatch(text)
        if m and m["rule"] == rule:
            return True
        m = COUNT_RE.fullmatch(text)
        if m and m["rule"] == rule and int(m["count"]) > 0:
            return True
    return False


def _near_miss(rule: str, steps: list[tuple[str, str]]) -> bool:
    for text in _then_texts(steps):
        m = NONE_RE.fullmatch(text)
        if m and m["rule"] == rule and m["subject"] is None:
            return True
    return False


def test_scenario_titles_are_unique_within_a_feature_file() -> None:
    # pytest-bdd keys scenarios by title: a second scenario with the same title silently replaces the first.
    for feature in get_features([str(FEATURES_DIR)]):
        text = Path(feature.filename).read_text(encoding="utf-8")
        titles = re.findall(r"^\s*Scenario(?: Outline| Template)?:\s*(.+?)\s*$", text, flags=re.MULTILINE)
        repeated = sorted({t for t in titles if titles.count(t) > 1})
        assert not repeated, f"{Path(feature.filename).name} repeats scenario titles: {repeated}"


def test_every_scenario_is_tagged_with_a_rule_id() -> None:
    untagged = [name for name, tags, _, ids in _rendered_scenarios() if not tags & ids]
    assert not untagged, "scenarios without a rule-id tag:\n" + "\n".join(untagged)


def test_rule_like_tags_name_real_rules() -> None:
    prefix = protocol_rules().name + "-"
    unknown = sorted({t for _, tags, _, ids in _rendered_scenarios() for t in tags
                      if t.startswith(prefix) and t not in ids})
    assert not unknown, f"tags that are not rule ids of {RULES_FILE.name}: {', '.join(unknown)}"


def test_every_then_step_names_a_rule_of_the_protocol() -> None:
    bad = []
    for name, _, steps, ids in _rendered_scenarios():
        for text in _then_texts(steps):
            for pattern in (FINDING_RE, COUNT_RE, NONE_RE, PENDING_RE, PENDING_CHECKS_RE, STANDING_RE, WINDOW_RE):
                m = pattern.fullmatch(text)
                if m and m["rule"] not in ids:
                    bad.append(f"{name}: {text}")
    assert not bad, "Then steps naming unknown rules:\n" + "\n".join(bad)


def _rules_to_cover() -> list[str]:
    """Every rule of protocol.rules, and every rule of a protocol a scenario states itself."""
    own = {rule for ids in _own_protocols().values() for rule in ids}
    return rule_ids() + sorted(own - set(rule_ids()))


@pytest.mark.parametrize("rule", _rules_to_cover())
def test_rule_has_a_firing_scenario_and_a_near_miss(rule: str) -> None:
    scenarios_of_rule = [(name, steps) for name, tags, steps, _ in _rendered_scenarios() if rule in tags]
    assert scenarios_of_rule, f"no scenario is tagged @{rule}"
    assert any(_fires(rule, steps) for _, steps in scenarios_of_rule), (
        f"no scenario tagged @{rule} asserts that it fires ('Then there is a deviation of {rule} ...')")
    assert any(_near_miss(rule, steps) for _, steps in scenarios_of_rule), (
        f"no scenario tagged @{rule} is a near miss ('Then there are no findings of {rule}')")
