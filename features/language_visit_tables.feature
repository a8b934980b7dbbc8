Feature: A schedule stated once gives each visit's window; missing, early, late and extra visits are findings
  "Week 2: day 15 ± 3; Week 4: day 29, 1 day before to 3 days after; Week 8: day 57 ± 7", counted from
  the first dose as day 1, is stated once as a schedule. A visit due that never happened is a finding
  dated at its day; a visit outside its window is a finding dated at the visit; two visits in one window
  is a finding of that window. Nothing is due after the end of treatment, and a window still open at the
  data cut-off is pending.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event dosing "Study drug dose" { dose: decimal in mg required }
      event visit "Follow-up visit" { purpose: text }
      event end_of_treatment "End of treatment" { reason: text }

      schedule follow_up "Follow-up visits" from first dosing as day 1 until first end_of_treatment {
          "Week 2": day 15 within 3 days
          "Week 4": day 29 within 1 day before and 3 days after
          "Week 8": day 57 within 7 days
      }

      rule DEMO-VISIT-MISSED "Each follow-up visit happens" {
          cites "the visit schedule"
          message "No {visit} visit from {start} to {end}."
          for the count of visit per follow_up
              require count >= 1
              judged from end
      }

      rule DEMO-VISIT-EXTRA "At most one visit in each window" {
          cites "the visit schedule"
          message "{count} visits in the {visit} window."
          for the count of visit per follow_up
              require count <= 1
      }

      rule DEMO-VISIT-TIMING "Each visit in its window" {
          cites "the visit schedule"
          message "Visit on {date} is outside the {follow_up.visit} window, {follow_up.start} to {follow_up.end}."
          for each visit where follow_up is known
              require date between follow_up.start and follow_up.end
      }
      """

  @DEMO-VISIT-MISSED @DEMO-VISIT-TIMING @DEMO-VISIT-EXTRA
  Scenario: Visits on the first and last days of their windows are on time (day 1 is the first dose's day)
    Given the visit log:
      | subject | date       | event            | dose | purpose | reason |
      | 001     | 2024-01-01 | dosing           | 10   |         |        |
      | 001     | 2024-01-12 | visit            |      | week 2  |        |
      | 001     | 2024-02-01 | visit            |      | week 4  |        |
      | 001     | 2024-03-04 | visit            |      | week 8  |        |
    When the protocol is audited as of "2024-06-30"
    Then there are no findings of DEMO-VISIT-MISSED
    And there are no findings of DEMO-VISIT-TIMING
    And there are no findings of DEMO-VISIT-EXTRA
    And the status of DEMO-VISIT-MISSED for subject "001" is passed
    And the status of DEMO-VISIT-TIMING for subject "001" is passed

  @DEMO-VISIT-MISSED @DEMO-VISIT-TIMING
  Scenario: A visit a day before its window is early, dated at the visit; its window is missed, dated at its day
    Given the visit log:
      | subject | date       | event            | dose | purpose | reason |
      | 002     | 2024-01-01 | dosing           | 10   |         |        |
      | 002     | 2024-01-11 | visit            |      | week 2  |        |
      | 002     | 2024-01-29 | visit            |      | week 4  |        |
      | 002     | 2024-02-26 | visit            |      | week 8  |        |
    When the protocol is audited as of "2024-06-30"
    Then there is a deviation of DEMO-VISIT-TIMING for subject "002" on "2024-01-11"
    And there is exactly 1 finding of DEMO-VISIT-TIMING
    And there is a deviation of DEMO-VISIT-MISSED for subject "002" on "2024-01-15"
    And there is exactly 1 finding of DEMO-VISIT-MISSED
    And the findings of DEMO-VISIT-TIMING say "Visit on 2024-01-11 is outside the Week 2 window, 2024-01-12 to 2024-01-18."

  @DEMO-VISIT-TIMING
  Scenario: Day 29 allows 1 day before and 3 after: 2 days before is early, 3 after on time, 4 after late
    Given the visit log:
      | subject | date       | event            | dose | purpose | reason |
      | 003     | 2024-01-01 | dosing           | 10   |         |        |
      | 003     | 2024-01-15 | visit            |      | week 2  |        |
      | 003     | 2024-01-27 | visit            |      | week 4  |        |
      | 004     | 2024-01-01 | dosing           | 10   |         |        |
      | 004     | 2024-01-15 | visit            |      | week 2  |        |
      | 004     | 2024-02-01 | visit            |      | week 4  |        |
      | 005     | 2024-01-01 | dosing           | 10   |         |        |
      | 005     | 2024-01-15 | visit            |      | week 2  |        |
      | 005     | 2024-02-02 | visit            |      | week 4  |        |
    When the protocol is audited as of "2024-02-10"
    Then there is a deviation of DEMO-VISIT-TIMING for subject "003" on "2024-01-27"
    And there is a deviation of DEMO-VISIT-TIMING for subject "005" on "2024-02-02"
    And there are exactly 2 findings of DEMO-VISIT-TIMING
    And the status of DEMO-VISIT-TIMING for subject "004" is passed

  @DEMO-VISIT-EXTRA
  Scenario: Two visits in one window is an extra visit, a finding of that window; one just outside is late
    Given the visit log:
      | subject | date       | event            | dose | purpose   | reason |
      | 006     | 2024-01-01 | dosing           | 10   |           |        |
      | 006     | 2024-01-13 | visit            |      | week 2    |        |
      | 006     | 2024-01-17 | visit            |      | unplanned |        |
      | 007     | 2024-01-01 | dosing           | 10   |           |        |
      | 007     | 2024-01-13 | visit            |      | week 2    |        |
      | 007     | 2024-01-19 | visit            |      | unplanned |        |
    When the protocol is audited as of "2024-01-20"
    Then there is a deviation of DEMO-VISIT-EXTRA for subject "006" on "2024-01-15"
    And there is exactly 1 finding of DEMO-VISIT-EXTRA
    And there are no findings of DEMO-VISIT-EXTRA for subject "007"
    And there is a deviation of DEMO-VISIT-TIMING for subject "007" on "2024-01-19"
    And there is exactly 1 finding of DEMO-VISIT-TIMING

  @DEMO-VISIT-MISSED
  Scenario: Nothing is due after the end of treatment, and a window open at the cut-off is pending
    Given the visit log:
      | subject | date       | event            | dose | purpose | reason      |
      | 007     | 2024-01-01 | dosing           | 10   |         |             |
      | 007     | 2024-01-15 | visit            |      | week 2  |             |
      | 007     | 2024-01-20 | end_of_treatment |      |         | progression |
      | 008     | 2024-01-01 | dosing           | 10   |         |             |
      | 008     | 2024-01-15 | visit            |      | week 2  |             |
    When the protocol is audited as of "2024-01-30"
    Then there are no findings of DEMO-VISIT-MISSED
    And the status of DEMO-VISIT-MISSED for subject "007" is passed
    And the status of DEMO-VISIT-MISSED for subject "008" is pending
    And DEMO-VISIT-MISSED has 1 pending check

  @DEMO-VISIT-TIMING
  Scenario: A visit after the end of treatment, or far from every visit, belongs to no visit and is not judged
    Given the visit log:
      | subject | date       | event            | dose | purpose   | reason      |
      | 009     | 2024-01-01 | dosing           | 10   |           |             |
      | 009     | 2023-12-20 | visit            |      | screening |             |
      | 009     | 2024-01-15 | visit            |      | week 2    |             |
      | 009     | 2024-01-20 | end_of_treatment |      |           | progression |
      | 009     | 2024-02-20 | visit            |      | safety    |             |
    When the protocol is audited as of "2024-06-30"
    Then there are no findings of DEMO-VISIT-TIMING
    And the status of DEMO-VISIT-TIMING for subject "009" is passed

  @DEMO-VISIT-MISSED @DEMO-VISIT-TIMING
  Scenario: Without a first dose nothing is due: the rules do not apply yet
    Given the visit log:
      | subject | date       | event | purpose |
      | 010     | 2024-01-15 | visit | week 2  |
    When the protocol is audited as of "2024-06-30"
    Then there are no findings of DEMO-VISIT-MISSED
    And there are no findings of DEMO-VISIT-TIMING
    And the status of DEMO-VISIT-MISSED for subject "010" is not applicable because "no visit of follow_up due yet: no first dosing recorded to count from"
    And the status of DEMO-VISIT-TIMING for subject "010" is not applicable

  @DEMO-VISIT-TIMING @DEMO-VISIT-MISSED
  Scenario: A visit dated only to the month cannot be told its visit, nor the count of a window it may fall in
    Given the visit log:
      | subject | date       | event            | dose | purpose | reason |
      | 011     | 2024-01-01 | dosing           | 10   |         |        |
      | 011     | 2024-01    | visit            |      | week 2  |        |
    When the protocol is audited as of "2024-02-10"
    Then there is a not evaluable finding of DEMO-VISIT-TIMING for subject "011" on "2024-01"
    And the status of DEMO-VISIT-TIMING for subject "011" is not evaluable because "cannot be told: a date it depends on is only partly known"
    And there is a possible deviation of DEMO-VISIT-MISSED for subject "011" on "2024-01-15" because "visit date 2024-01 is only known to lie between 2024-01-01 and 2024-01-31"
    And there is a possible deviation of DEMO-VISIT-MISSED for subject "011" on "2024-01-29" because "visit date 2024-01 is only known to lie between"
    And the status of DEMO-VISIT-MISSED for subject "011" is possible deviation
