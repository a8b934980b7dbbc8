Feature: Findings are dated when the deviation happened, and counted once per deviation
  A monitor copies findings into a deviation log and the SDTM DV dataset, where a deviation's date and
  count matter. A finding is dated by the record that breaks the rule: the dose given while an adverse
  event was ongoing, the dose that took a week past its limit, the lab result that excludes the subject.
  Something required that never came is dated when it was due (`judged from`); in a rule checked once per
  subject, a record sought that never qualified is dated by the latest such record its `needs` accepted (the
  deciding screening result); and a writer may state the date (`dated by`). A rule checked once per subject (`for first X`) gives at most one finding per subject,
  every offending record its evidence, dated by the latest; a rule checked per record gives one finding per
  record checked. `report each` and `report once per subject` say otherwise for one rule.

  Background:
    Given the protocol rules:
      """
      protocol "DATES"

      event dosing "Study drug dose" { dose: decimal in mg required }
      event lab "Laboratory result" {
          test: text required
          result: decimal required
          uln: decimal required
      }
      event adverse_event "Adverse event" {
          grade: integer required
          end_date: date
      }
      event premedication "Premedication" { dose: decimal in mg required }

      rule DATES-LIVER "AST and ALT at most 2x ULN in the 14 days before the first dose" {
          cites "Exclusion: AST or ALT above 2x ULN"
          message "{lab.test} {lab.result} on {lab.date} is above 2 x ULN ({lab.uln})."
          for first dosing
              forbid a lab where test in ("AST", "ALT") and date within 14 days before first dosing
                  and result > 2 * uln
      }

      rule DATES-ANC "Neutrophils of at least 1.5 at screening" {
          cites "Inclusion: neutrophils"
          for first dosing
              needs a lab where test = "ANC" and date <= first dosing.date otherwise "no ANC before the first dose"
              require a lab where test = "ANC" and date <= first dosing.date and result >= 1.5
      }

      rule DATES-LIVER-EACH "AST and ALT at most 2x ULN, each result reported" {
          cites "Exclusion: AST or ALT above 2x ULN"
          report each
          for first dosing
              forbid a lab where test in ("AST", "ALT") and date within 14 days before first dosing
                  and result > 2 * uln
      }

      rule DATES-ONGOING-AE "No dose while a grade 3 or higher adverse event is ongoing" {
          cites "Dose interruption"
          for each dosing
              forbid an adverse_event where grade >= 3 and date <= dosing.date
                  and (end_date is missing or end_date >= dosing.date)
      }

      rule DATES-WEEKLY "At most 2 doses in a calendar week" {
          cites "Dosing: twice a week"
          for the count of dosing per calendar week
              require count <= 2
      }

      rule DATES-TOTAL "Exactly 3 doses" {
          cites "Dosing: three doses"
          for the count of dosing per subject
              require count = 3
              judged from first dosing + 28 days
      }

      rule DATES-PREMEDICATION "Premedication the day before the first dose" {
          cites "Premedication"
          dated by dosing.date - 1 day
          for first dosing
              require a premedication
      }

      rule DATES-DOSE "Each dose is 10 mg, one finding per subject" {
          cites "Dose"
          report once per subject
          for each dosing
              require dose = 10 mg
      }
      """

  # ---- DATES-LIVER: once per subject, dated by the latest offending result --------------------------

  @DATES-LIVER
  Scenario: AST and ALT both above 2x ULN are one breach of one criterion, dated by the later result
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2024-01-02 | lab    | AST  | 100    | 40  |      |
      | S1      | 2024-01-05 | lab    | ALT  | 90     | 40  |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-LIVER for subject "S1" on "2024-01-05"
    And there is exactly 1 finding of DATES-LIVER
    And the finding of DATES-LIVER for subject "S1" lists 3 records

  @DATES-LIVER
  Scenario: A result of exactly 2x ULN is no deviation
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2024-01-02 | lab    | AST  | 80     | 40  |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there are no findings of DATES-LIVER

  # ---- DATES-ANC: a required result that never qualified, dated by the latest result looked at ---------

  @DATES-ANC
  Scenario: Two screening counts below the limit: one deviation, dated by the later count
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2024-01-02 | lab    | ANC  | 1.2    | 0   |      |
      | S1      | 2024-01-05 | lab    | ANC  | 1.3    | 0   |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-ANC for subject "S1" on "2024-01-05"
    And there is exactly 1 finding of DATES-ANC
    And the finding of DATES-ANC for subject "S1" lists 3 records

  @DATES-ANC
  Scenario: No count at all cannot be evaluated, dated on the first dose
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-10 | dosing | 10   |
    When the protocol is audited
    Then there is a not evaluable finding of DATES-ANC for subject "S1" on "2024-01-10"

  @DATES-ANC
  Scenario: A retest in range qualifies the subject
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2024-01-02 | lab    | ANC  | 1.2    | 0   |      |
      | S1      | 2024-01-05 | lab    | ANC  | 1.6    | 0   |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there are no findings of DATES-ANC

  # ---- DATES-LIVER-EACH: `report each` gives one finding per offending result -----------------------

  @DATES-LIVER-EACH
  Scenario: Reported each, two offending results are two findings, each dated by its own result
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2024-01-02 | lab    | AST  | 100    | 40  |      |
      | S1      | 2024-01-05 | lab    | ALT  | 90     | 40  |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-LIVER-EACH for subject "S1" on "2024-01-02"
    And there is a deviation of DATES-LIVER-EACH for subject "S1" on "2024-01-05"
    And there are exactly 2 findings of DATES-LIVER-EACH

  @DATES-LIVER-EACH
  Scenario: A result before the 14 days is no deviation, reported each or not
    Given the visit log:
      | subject | date       | event  | test | result | uln | dose |
      | S1      | 2023-12-20 | lab    | AST  | 100    | 40  |      |
      | S1      | 2024-01-10 | dosing |      |        |     | 10   |
    When the protocol is audited
    Then there are no findings of DATES-LIVER-EACH

  # ---- DATES-ONGOING-AE: per dose, dated by the dose given while the event was ongoing ---------------

  @DATES-ONGOING-AE
  Scenario: Each dose given during an ongoing grade 3 event is a finding dated on that dose
    Given the visit log:
      | subject | date       | event         | grade | end_date | dose |
      | S1      | 2024-01-03 | adverse_event | 3     |          |      |
      | S1      | 2024-01-05 | dosing        |       |          | 10   |
      | S1      | 2024-01-08 | dosing        |       |          | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-ONGOING-AE for subject "S1" on "2024-01-05"
    And there is a deviation of DATES-ONGOING-AE for subject "S1" on "2024-01-08"
    And there are exactly 2 findings of DATES-ONGOING-AE

  @DATES-ONGOING-AE
  Scenario: Two events ongoing at one dose are one deviation of that dose, both events its evidence
    Given the visit log:
      | subject | date       | event         | grade | end_date | dose |
      | S1      | 2024-01-02 | adverse_event | 3     |          |      |
      | S1      | 2024-01-03 | adverse_event | 4     |          |      |
      | S1      | 2024-01-05 | dosing        |       |          | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-ONGOING-AE for subject "S1" on "2024-01-05"
    And there is exactly 1 finding of DATES-ONGOING-AE
    And the finding of DATES-ONGOING-AE for subject "S1" lists 3 records

  @DATES-ONGOING-AE
  Scenario: A dose after the event ended is no deviation
    Given the visit log:
      | subject | date       | event         | grade | end_date   | dose |
      | S1      | 2024-01-03 | adverse_event | 3     | 2024-01-04 |      |
      | S1      | 2024-01-05 | dosing        |       |            | 10   |
    When the protocol is audited
    Then there are no findings of DATES-ONGOING-AE

  # ---- DATES-WEEKLY: dated by the dose that took the week past the limit -----------------------------

  @DATES-WEEKLY
  Scenario: A third and a fourth dose in one week are one finding, dated on the third
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 10   |
      | S1      | 2024-01-02 | dosing | 10   |
      | S1      | 2024-01-04 | dosing | 10   |
      | S1      | 2024-01-06 | dosing | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-WEEKLY for subject "S1" on "2024-01-04"
    And there is exactly 1 finding of DATES-WEEKLY
    And the finding of DATES-WEEKLY for subject "S1" lists 4 records

  @DATES-WEEKLY
  Scenario: Two doses in each of two weeks are no deviation
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-06 | dosing | 10   |
      | S1      | 2024-01-07 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 10   |
      | S1      | 2024-01-09 | dosing | 10   |
    When the protocol is audited
    Then there are no findings of DATES-WEEKLY

  # ---- DATES-TOTAL: too many dated by the dose past the limit, too few when they were due -------------

  @DATES-TOTAL
  Scenario: A fourth dose is the deviation, dated on the day it was given
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 10   |
      | S1      | 2024-01-15 | dosing | 10   |
      | S1      | 2024-01-22 | dosing | 10   |
    When the protocol is audited as of "2024-02-15"
    Then there is a deviation of DATES-TOTAL for subject "S1" on "2024-01-22"
    And there is exactly 1 finding of DATES-TOTAL

  @DATES-TOTAL
  Scenario: Two doses only: dated when the three were due, 28 days after the first dose
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 10   |
    When the protocol is audited as of "2024-02-15"
    Then there is a deviation of DATES-TOTAL for subject "S1" on "2024-01-29"
    And there is exactly 1 finding of DATES-TOTAL

  @DATES-TOTAL
  Scenario: Three doses are no deviation
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 10   |
      | S1      | 2024-01-15 | dosing | 10   |
    When the protocol is audited as of "2024-02-15"
    Then there are no findings of DATES-TOTAL

  # ---- DATES-PREMEDICATION: `dated by` states the date ------------------------------------------------

  @DATES-PREMEDICATION
  Scenario: No premedication is a deviation dated the day before the first dose, as the rule states
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-10 | dosing | 10   |
    When the protocol is audited
    Then there is a deviation of DATES-PREMEDICATION for subject "S1" on "2024-01-09"
    And there is exactly 1 finding of DATES-PREMEDICATION

  @DATES-PREMEDICATION
  Scenario: Premedication recorded is no deviation
    Given the visit log:
      | subject | date       | event         | dose |
      | S1      | 2024-01-09 | premedication | 5    |
      | S1      | 2024-01-10 | dosing        | 10   |
    When the protocol is audited
    Then there are no findings of DATES-PREMEDICATION

  # ---- DATES-DOSE: `report once per subject` -------------------------------------------------------

  @DATES-DOSE
  Scenario: Two wrong doses are one finding for the subject, dated by the later dose
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 12   |
      | S1      | 2024-01-03 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 12   |
      | S2      | 2024-01-01 | dosing | 8    |
    When the protocol is audited
    Then there is a deviation of DATES-DOSE for subject "S1" on "2024-01-08"
    And the finding of DATES-DOSE for subject "S1" lists 2 records
    And there is a deviation of DATES-DOSE for subject "S2" on "2024-01-01"
    And there are exactly 2 findings of DATES-DOSE

  @DATES-DOSE
  Scenario: Every dose at 10 mg is no deviation
    Given the visit log:
      | subject | date       | event  | dose |
      | S1      | 2024-01-01 | dosing | 10   |
      | S1      | 2024-01-08 | dosing | 10   |
    When the protocol is audited
    Then there are no findings of DATES-DOSE
