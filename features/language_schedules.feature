Feature: A schedule's windows are centred on its due dates, while on treatment, up to the cut-off
  "Imaging every 6 weeks ± 7 days from the first dose while on treatment" is stated once: due dates fall
  every 6 weeks after the first dose, each window runs 7 days either side, so scans on time pass whatever
  the calendar does. Due dates stop at the end of treatment; a window still open at the data cut-off is
  pending; a missed one is a finding dated at its due date.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event dosing "Study drug dose" { dose: decimal in mg required }
      event imaging "Tumour imaging" { modality: text required }
      event end_of_treatment "End of treatment" { reason: text }

      rule DEMO-SCANS "Imaging every 6 weeks, 7 days either side, while on treatment" {
          cites "the imaging schedule"
          message "No imaging within 7 days of {date} (scan {window})."
          for the count of imaging per 6 weeks within 7 days from first dosing until first end_of_treatment
              require count >= 1
              judged from end
      }
      """

  @DEMO-SCANS
  Scenario: Scans on days 36 and 84 are both on time
    Given the visit log:
      | subject | date       | event            | dose | modality | reason      |
      | 001     | 2024-01-01 | dosing           | 10   |          |             |
      | 001     | 2024-02-06 | imaging          |      | CT       |             |
      | 001     | 2024-03-25 | imaging          |      | CT       |             |
      | 001     | 2024-04-01 | end_of_treatment |      |          | progression |
    When the protocol is audited as of "2024-12-31"
    Then there are no findings of DEMO-SCANS
    And the status of DEMO-SCANS for subject "001" is passed

  @DEMO-SCANS
  Scenario: A scan a day after its window leaves that due date missed, dated at the due date
    Given the visit log:
      | subject | date       | event            | dose | modality | reason      |
      | 002     | 2024-01-01 | dosing           | 10   |          |             |
      | 002     | 2024-02-20 | imaging          |      | CT       |             |
      | 002     | 2024-03-01 | end_of_treatment |      |          | progression |
    When the protocol is audited as of "2024-12-31"
    Then there is exactly 1 finding of DEMO-SCANS
    And there is a deviation of DEMO-SCANS for subject "002" on "2024-02-12"

  @DEMO-SCANS
  Scenario: While on treatment, a window open at the cut-off is pending and the next is not yet due
    Given the visit log:
      | subject | date       | event   | dose | modality |
      | 003     | 2024-01-01 | dosing  | 10   |          |
      | 003     | 2024-02-12 | imaging |      | CT       |
      | 003     | 2024-03-25 | imaging |      | CT       |
    When the protocol is audited as of "2024-05-01"
    Then there are no findings of DEMO-SCANS
    And DEMO-SCANS has 1 pending check

  @DEMO-SCANS
  Scenario: Day 35 opens the first window and day 49 closes it: a scan on either day is on time
    Given the visit log:
      | subject | date       | event            | dose | modality | reason      |
      | 004     | 2024-01-01 | dosing           | 10   |          |             |
      | 004     | 2024-02-05 | imaging          |      | CT       |             |
      | 004     | 2024-02-20 | end_of_treatment |      |          | progression |
      | 005     | 2024-01-01 | dosing           | 10   |          |             |
      | 005     | 2024-02-19 | imaging          |      | CT       |             |
      | 005     | 2024-02-20 | end_of_treatment |      |          | progression |
    When the protocol is audited as of "2024-12-31"
    Then there are no findings of DEMO-SCANS

  @DEMO-SCANS
  Scenario: A scan on day 34, a day before the window opens, leaves the due date missed
    Given the visit log:
      | subject | date       | event            | dose | modality | reason      |
      | 006     | 2024-01-01 | dosing           | 10   |          |             |
      | 006     | 2024-02-04 | imaging          |      | CT       |             |
      | 006     | 2024-02-20 | end_of_treatment |      |          | progression |
    When the protocol is audited as of "2024-12-31"
    Then there is a deviation of DEMO-SCANS for subject "006" on "2024-02-12"
    And there is exactly 1 finding of DEMO-SCANS
