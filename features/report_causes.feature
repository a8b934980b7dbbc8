Feature: Not evaluable findings, grouped by what is missing
  One missing record can block many rules: a subject without a screening checklist cannot be judged
  against any rule that needs one. Each rule keeps its finding and its status, and the reports group the
  not evaluable findings by subject and cause: one line per subject and missing prerequisite, listing
  the rules it blocks (in the text report's summary and the HTML summary; the JSON and CSV give each
  finding its cause, and the HTML findings table can be filtered by it).
  `needs` clauses that seek the same record (the same event type and condition) name one cause; a record
  of the same type sought with another condition is another cause, and so is an empty field.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event screening "Screening checklist" {
          active_infection: boolean
          surgery_planned: boolean
      }
      event enrolment "Enrolment" { arm: text required }
      event lab "Laboratory result" {
          test: text required
          result: decimal required
          uln: decimal required
      }

      rule DEMO-INFECTION "No active infection at screening" {
          cites "exclusion 1"
          for each enrolment
              needs a screening otherwise "no screening checklist recorded"
              forbid a screening where active_infection
      }

      rule DEMO-SURGERY "No surgery planned at screening" {
          cites "exclusion 2"
          for each enrolment
              needs a screening otherwise "no screening checklist recorded"
              forbid a screening where surgery_planned
      }

      rule DEMO-CREATININE "Creatinine at most 2 x ULN" {
          cites "exclusion 3"
          for each enrolment
              needs a lab where test = "creatinine" otherwise "no creatinine recorded"
              forbid a lab where test = "creatinine" and result > 2 * uln
      }

      rule DEMO-BILIRUBIN "Bilirubin at most 2 x ULN" {
          cites "exclusion 4"
          for each enrolment
              needs a lab where test = "bilirubin" otherwise "no bilirubin recorded"
              forbid a lab where test = "bilirubin" and result > 2 * uln
      }
      """

  @DEMO-INFECTION @DEMO-SURGERY @DEMO-CREATININE @DEMO-BILIRUBIN
  Scenario: A missing screening checklist blocks two rules: one line lists both
    Given the visit log:
      | subject | date       | event     | arm | test       | result | uln |
      | S1      | 2024-01-10 | lab       |     | creatinine | 50     | 70  |
      | S1      | 2024-01-10 | lab       |     | bilirubin  | 9      | 21  |
      | S1      | 2024-01-12 | enrolment | A   |            |        |     |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-INFECTION for subject "S1" on "2024-01-12"
    And there is a not evaluable finding of DEMO-SURGERY for subject "S1" on "2024-01-12"
    And the status of DEMO-SURGERY for subject "S1" is not evaluable because "no screening checklist recorded"
    And there are no findings of DEMO-CREATININE
    And there are no findings of DEMO-BILIRUBIN
    And the not evaluable findings are grouped by cause:
      | subject | cause                           | rules                        |
      | S1      | no screening checklist recorded | DEMO-INFECTION, DEMO-SURGERY |
    And the text report has the line "S1: no screening checklist recorded — blocks DEMO-INFECTION, DEMO-SURGERY"

  @DEMO-CREATININE @DEMO-BILIRUBIN @DEMO-INFECTION @DEMO-SURGERY
  Scenario: Labs of two tests are two records: two causes, two lines
    Given the visit log:
      | subject | date       | event     | arm | active_infection | surgery_planned |
      | S1      | 2024-01-10 | screening |     | no               | no              |
      | S1      | 2024-01-12 | enrolment | A   |                  |                 |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-CREATININE for subject "S1" on "2024-01-12"
    And there is a not evaluable finding of DEMO-BILIRUBIN for subject "S1" on "2024-01-12"
    And there are no findings of DEMO-INFECTION
    And there are no findings of DEMO-SURGERY
    And the not evaluable findings are grouped by cause:
      | subject | cause                  | rules           |
      | S1      | no creatinine recorded | DEMO-CREATININE |
      | S1      | no bilirubin recorded  | DEMO-BILIRUBIN  |
    And the text report has the line "S1: no creatinine recorded — blocks DEMO-CREATININE"
    And the text report has the line "S1: no bilirubin recorded — blocks DEMO-BILIRUBIN"

  @DEMO-INFECTION @DEMO-SURGERY
  Scenario: A checklist missing and a checklist left blank are two causes, each for its subject
    Given the visit log:
      | subject | date       | event     | arm | active_infection | surgery_planned | test       | result | uln |
      | S1      | 2024-01-10 | lab       |     |                  |                 | creatinine | 50     | 70  |
      | S1      | 2024-01-10 | lab       |     |                  |                 | bilirubin  | 9      | 21  |
      | S1      | 2024-01-12 | enrolment | A   |                  |                 |            |        |     |
      | S2      | 2024-01-10 | lab       |     |                  |                 | creatinine | 50     | 70  |
      | S2      | 2024-01-10 | lab       |     |                  |                 | bilirubin  | 9      | 21  |
      | S2      | 2024-01-10 | screening |     |                  | no              |            |        |     |
      | S2      | 2024-01-12 | enrolment | A   |                  |                 |            |        |     |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-INFECTION for subject "S2" on "2024-01-12"
    And there are no findings of DEMO-SURGERY for subject "S2"
    And the not evaluable findings are grouped by cause:
      | subject | cause                             | rules                        |
      | S1      | no screening checklist recorded   | DEMO-INFECTION, DEMO-SURGERY |
      | S2      | screening has no active_infection | DEMO-INFECTION               |
