"""The HTML report in a real browser (headless Chromium through selenium): it runs without console
errors, the planted deviations show on their subjects' timelines, filtering and sorting work.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: apt-get install chromium chromium-driver;
.ci/run installs them). Without them the tests are skipped, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import read_expected, unavailable

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.reports.html_report import render_html

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "protocol.rules"
LOG = ROOT / "examples" / "jk500_visits.csv"
EXPECTED = ROOT / "examples" / "expected.csv"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    return None


@pytest.fixture(scope="module")
def driver():
    reason = _missing()
    if reason:
        unavailable(reason, "the browser tests")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    result = audit_files(load_protocol(str(RULES)), [str(LOG)], keep_records=True)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(result), encoding="utf-8")
    return result, path


@pytest.fixture
def page(driver, report):
    result, path = report
    driver.get(path.as_uri())
    driver.get_log("browser")  # nothing before this load counts
    driver.refresh()
    return driver, result


def _visible_rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.get_attribute("data-finding-id") for row in driver.find_elements(By.CSS_SELECTOR, "tr.finding-row")
            if row.is_displayed()]


def test_no_console_errors_and_marks_shown(page, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver, result = page
    assert driver.title.startswith("Deviation audit")
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert not severe, severe
    by_key = {(f.rule.id, f.subject or "", f.date, f.status): f for f in result.findings}
    sections = {}
    for section in driver.find_elements(By.CSS_SELECTOR, ".timeline-section"):
        sections[section.get_attribute("data-subject")] = section
    for row in read_expected(EXPECTED):
        finding = by_key[row]
        section = sections[row[1]]
        marks = section.find_elements(By.CSS_SELECTOR, f'.finding-mark[data-finding-id="{finding.id}"]')
        assert len(marks) == 1, row
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", marks[0])
        assert marks[0].is_displayed(), row
        size = marks[0].size
        assert size["width"] > 0 and size["height"] > 0, row
    driver.execute_script("window.scrollTo(0, 0);")
    assert driver.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 0
    assert len(_visible_rows(driver)) == len(result.findings)


def test_filter_by_text_and_status(page) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, result = page
    box = driver.find_element(By.ID, "filter-text")
    box.send_keys("JK500-EXCL-VIROLOGY")
    wanted = {f.id for f in result.findings if f.rule.id == "JK500-EXCL-VIROLOGY"}
    assert wanted and set(_visible_rows(driver)) == wanted
    Select(driver.find_element(By.ID, "filter-status")).select_by_value("not_evaluable")
    both = {f.id for f in result.findings if f.rule.id == "JK500-EXCL-VIROLOGY" and f.status == "not_evaluable"}
    assert both and both < wanted
    assert set(_visible_rows(driver)) == both
    assert driver.find_element(By.ID, "filter-count").text == f"{len(both)} of {len(result.findings)} shown"
    box.clear()
    box.send_keys(" ")  # an input event after clearing
    assert set(_visible_rows(driver)) == {f.id for f in result.findings if f.status == "not_evaluable"}
    Select(driver.find_element(By.ID, "filter-status")).select_by_value("")
    assert len(_visible_rows(driver)) == len(result.findings)


def test_sorting(page) -> None:
    from selenium.webdriver.common.by import By

    driver, result = page
    headers = {th.text.strip(): th for th in driver.find_elements(By.CSS_SELECTOR, "#findings thead th")}

    def column(index: int) -> list[str]:
        return [row.find_elements(By.TAG_NAME, "td")[index].text.strip()
                for row in driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")]

    headers["date"].click()
    dates = column(4)
    assert dates == sorted(dates) and dates != [None]
    assert headers["date"].get_attribute("aria-sort") == "ascending"
    headers["date"].click()
    assert column(4) == sorted(dates, reverse=True)
    assert headers["date"].get_attribute("aria-sort") == "descending"
    headers["subject"].click()
    subjects = column(3)
    assert subjects == sorted(subjects, key=lambda s: s)  # "(trial)" sorts before "JK500-..."
    headers["#"].click()
    assert [int(n) for n in column(0)] == list(range(1, len(result.findings) + 1))


def test_filter_by_cause(page) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, result = page
    causes = Select(driver.find_element(By.ID, "filter-cause"))
    causes.select_by_value("consent has no signed_by")
    wanted = {f.id for f in result.findings if f.cause == "consent has no signed_by"}
    assert len(wanted) == 1 and set(_visible_rows(driver)) == wanted
    causes.select_by_value("")
    assert len(_visible_rows(driver)) == len(result.findings)
    # A count in "Not evaluable, by cause" shows that cause's findings.
    link = driver.find_element(By.CSS_SELECTOR, 'a.show-cause[data-cause="lab has no uln"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    assert causes.first_selected_option.get_attribute("value") == "lab has no uln"
    assert set(_visible_rows(driver)) == {f.id for f in result.findings if f.cause == "lab has no uln"}
    assert driver.find_element(By.ID, "filter-count").text == f"1 of {len(result.findings)} shown"
