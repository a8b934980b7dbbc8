Feature: Names read the record they are written next to
  Inside `a X where ...`, a bare name is a field of X. A group of one event type has that type's fields,
  so "a later lab with test ANC" reads the later lab's test, never the test of the lab being checked
  (which once let a platelet count the next day excuse a low neutrophil count). A name that would read
  another record than X is an error at its position (see docs/language.md, "How names resolve").

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event lab "Laboratory result" {
          test: text required
          result: decimal required
      }

      group later_lab "A later laboratory result" = lab

      rule DEMO-ANC "A low neutrophil count is confirmed by a later one" {
          cites "the ANC rule"
          for each lab where test = "ANC"
              require result >= 1.5 unless a later_lab where test = "ANC" and date > lab.date
      }
      """

  @DEMO-ANC
  Scenario: A platelet count the next day does not excuse a low neutrophil count
    Given the visit log:
      | subject | date       | event | test | result |
      | S1      | 2024-01-01 | lab   | ANC  | 1.0    |
      | S1      | 2024-01-02 | lab   | PLT  | 150    |
    When the protocol is audited
    Then there is a deviation of DEMO-ANC for subject "S1" on "2024-01-01"

  @DEMO-ANC
  Scenario: A later neutrophil count excuses a low one
    Given the visit log:
      | subject | date       | event | test | result |
      | S1      | 2024-01-01 | lab   | ANC  | 1.0    |
      | S1      | 2024-01-03 | lab   | ANC  | 1.8    |
    When the protocol is audited
    Then there are no findings of DEMO-ANC
    And the status of DEMO-ANC for subject "S1" is excused

  @DEMO-ANC
  Scenario: A neutrophil count on the same day is not a later one
    Given the visit log:
      | subject | date       | event | test | result |
      | S1      | 2024-01-01 | lab   | ANC  | 1.0    |
      | S1      | 2024-01-01 | lab   | ANC  | 1.6    |
    When the protocol is audited
    Then there is a deviation of DEMO-ANC for subject "S1" on "2024-01-01"
