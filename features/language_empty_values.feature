Feature: A field may say what an empty cell means
  Sites leave a yes/no flag empty when the answer is no. `serious: boolean, empty means no` says so once,
  in the rules: an empty cell is then "no", not an unknown value, and the rule needs no `is known and`.
  A field without `empty means` keeps today's answer: an empty value the rule reads is not evaluable.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event adverse_event "Adverse event" {
          term: text required
          serious: boolean, empty means no
          grade: integer
      }
      event dosing "Study drug dose" { dose: decimal in mg required }

      rule DEMO-SAE-DOSE "No dose on the day of a serious adverse event" {
          cites "the dose-hold rule"
          for each dosing
              forbid a adverse_event where serious and date = dosing.date
      }

      rule DEMO-SAE-GRADE "Serious adverse events are graded 3 to 5" {
          cites "the grading rule"
          for each adverse_event where serious
              require grade between 3 and 5
      }
      """

  @DEMO-SAE-DOSE
  Scenario: A dose on the day of a serious adverse event
    Given the visit log:
      | subject | date       | event         | term   | serious | dose |
      | S1      | 2024-01-01 | adverse_event | sepsis | yes     |      |
      | S1      | 2024-01-01 | dosing        |        |         | 10   |
    When the protocol is audited
    Then there is a deviation of DEMO-SAE-DOSE for subject "S1" on "2024-01-01"

  @DEMO-SAE-DOSE
  Scenario: An adverse event with serious left empty is not serious
    Given the visit log:
      | subject | date       | event         | term | serious | dose |
      | S1      | 2024-01-01 | adverse_event | rash |         |      |
      | S1      | 2024-01-01 | dosing        |      |         | 10   |
    When the protocol is audited
    Then there are no findings of DEMO-SAE-DOSE
    And the status of DEMO-SAE-DOSE for subject "S1" is passed

  @DEMO-SAE-GRADE
  Scenario: A serious adverse event graded 2
    Given the visit log:
      | subject | date       | event         | term   | serious | grade |
      | S1      | 2024-01-01 | adverse_event | sepsis | yes     | 2     |
    When the protocol is audited
    Then there is a deviation of DEMO-SAE-GRADE for subject "S1" on "2024-01-01"

  @DEMO-SAE-GRADE
  Scenario: An adverse event with serious left empty is not checked; an empty grade still is not evaluable
    Given the visit log:
      | subject | date       | event         | term   | serious | grade |
      | S1      | 2024-01-01 | adverse_event | rash   |         |       |
      | S2      | 2024-01-02 | adverse_event | sepsis | yes     |       |
    When the protocol is audited
    Then there are no findings of DEMO-SAE-GRADE for subject "S1"
    And there is a not evaluable finding of DEMO-SAE-GRADE for subject "S2" on "2024-01-02"

  @DEMO-SAE-GRADE
  Scenario: A serious adverse event graded 4
    Given the visit log:
      | subject | date       | event         | term   | serious | grade |
      | S1      | 2024-01-01 | adverse_event | sepsis | yes     | 4     |
    When the protocol is audited
    Then there are no findings of DEMO-SAE-GRADE
