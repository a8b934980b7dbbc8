Feature: A schedule counts calendar days, whatever the clocks do, and ends where the writer says
  "Imaging every week, a day either side, for 4 weeks after the first dose": due dates are calendar
  days, so a window over a clock change is as many days long as any other, and a scan late in the
  evening of a window's last day is on time. A time in the date column keeps the scan's day as
  written. Nothing is due after the horizon (`through`) or the end of treatment (`until`).

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      site "01" zone "Europe/Berlin"

      event dosing "Study drug dose" { dose: decimal in mg required }
      event imaging "Tumour imaging" { modality: text required  time: time }
      event end_of_treatment "End of treatment" { reason: text }

      schedule scans "Weekly imaging" every 1 week within 1 day from first dosing until first end_of_treatment through 4 weeks

      rule DEMO-WEEKLY-SCAN "A scan every week, a day either side, for 4 weeks" {
          cites "the imaging schedule"
          message "No imaging from {start} to {end} ({visit})."
          for the count of imaging per scans
              require count >= 1
              judged from end
      }

      rule DEMO-SCAN-ON-TIME "Each scan within a day of its due date" {
          cites "the imaging schedule"
          message "Scan on {date} is outside {scans.start} to {scans.end} ({scans.visit})."
          for each imaging where scans is known
              require date between scans.start and scans.end
      }
      """

  @DEMO-WEEKLY-SCAN @DEMO-SCAN-ON-TIME
  Scenario: Over the spring clock change, scans late on a window's last day and early on its first are on time
    Given the visit log:
      | subject | date             | event   | dose | modality |
      | 001     | 2024-03-17       | dosing  | 10   |          |
      | 001     | 2024-03-25T23:30 | imaging |      | CT       |
      | 001     | 2024-03-30T00:15 | imaging |      | CT       |
      | 001     | 2024-04-07T09:00 | imaging |      | CT       |
      | 001     | 2024-04-15T23:59 | imaging |      | CT       |
    When the protocol is audited as of "2024-06-30"
    Then there are no findings of DEMO-WEEKLY-SCAN
    And there are no findings of DEMO-SCAN-ON-TIME
    And the status of DEMO-WEEKLY-SCAN for subject "001" is passed

  @DEMO-WEEKLY-SCAN @DEMO-SCAN-ON-TIME
  Scenario: A scan a quarter of an hour into the day after its window is late, and its due date missed
    Given the visit log:
      | subject | date             | event   | dose | modality |
      | 002     | 2024-03-17       | dosing  | 10   |          |
      | 002     | 2024-03-24T10:00 | imaging |      | CT       |
      | 002     | 2024-04-02T00:15 | imaging |      | CT       |
      | 002     | 2024-04-07T10:00 | imaging |      | CT       |
      | 002     | 2024-04-14T10:00 | imaging |      | CT       |
    When the protocol is audited as of "2024-06-30"
    Then there is a deviation of DEMO-SCAN-ON-TIME for subject "002" on "2024-04-02"
    And there is exactly 1 finding of DEMO-SCAN-ON-TIME
    And there is a deviation of DEMO-WEEKLY-SCAN for subject "002" on "2024-03-31"
    And there is exactly 1 finding of DEMO-WEEKLY-SCAN

  @DEMO-WEEKLY-SCAN @DEMO-SCAN-ON-TIME
  Scenario: At the autumn clock change a scan in the hour the clocks repeat is on its day
    Given the visit log:
      | subject | date             | event   | dose | modality |
      | 003     | 2024-10-13       | dosing  | 10   |          |
      | 003     | 2024-10-20T10:00 | imaging |      | CT       |
      | 003     | 2024-10-27T02:30 | imaging |      | CT       |
      | 003     | 2024-11-03T10:00 | imaging |      | CT       |
      | 003     | 2024-11-10T10:00 | imaging |      | CT       |
    When the protocol is audited as of "2024-12-31"
    Then there are no findings of DEMO-WEEKLY-SCAN
    And there are no findings of DEMO-SCAN-ON-TIME

  @DEMO-WEEKLY-SCAN @DEMO-SCAN-ON-TIME
  Scenario: Nothing is due after 4 weeks, nor after the end of treatment; a later scan is not judged
    Given the visit log:
      | subject | date       | event            | dose | modality | reason   |
      | 004     | 2024-03-17 | dosing           | 10   |          |          |
      | 004     | 2024-03-24 | imaging          |      | CT       |          |
      | 004     | 2024-03-31 | imaging          |      | CT       |          |
      | 004     | 2024-04-07 | imaging          |      | CT       |          |
      | 004     | 2024-04-14 | imaging          |      | CT       |          |
      | 004     | 2024-05-02 | imaging          |      | MRI      |          |
      | 005     | 2024-03-17 | dosing           | 10   |          |          |
      | 005     | 2024-03-24 | imaging          |      | CT       |          |
      | 005     | 2024-03-27 | end_of_treatment |      |          | toxicity |
      | 005     | 2024-04-05 | imaging          |      | CT       |          |
    When the protocol is audited as of "2024-06-30"
    Then there are no findings of DEMO-WEEKLY-SCAN
    And there are no findings of DEMO-SCAN-ON-TIME
    And the status of DEMO-WEEKLY-SCAN for subject "005" is passed
