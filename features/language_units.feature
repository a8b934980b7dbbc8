Feature: A threshold written in another unit of the same kind is converted exactly; another kind is an error
  Laboratories report in different units. A written amount is converted exactly to the unit its field
  declares: 100 10^3/uL is 100 10^9/L, and 3.0 g/dL is 30 g/L. A mass against an amount of substance
  (mg/dL against umol/L) needs a molar mass the rules do not state, so it is refused when the rules are read.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event blood_count "Blood count" { platelets: decimal in 10^9/L required  albumin: decimal in g/L }

      rule DEMO-PLATELETS "Platelets at least 100,000 per microlitre" {
          cites "eligibility"
          for each blood_count
              require platelets >= 100 10^3/uL
      }

      rule DEMO-ALBUMIN "Albumin at least 3.0 g/dL" {
          cites "eligibility"
          for each blood_count where albumin is known
              require albumin >= 3.0 g/dL
      }
      """

  @DEMO-PLATELETS @DEMO-ALBUMIN
  Scenario: Exactly at the converted thresholds, both pass
    Given the visit log:
      | subject | date       | event       | platelets | albumin |
      | 001     | 2024-01-01 | blood_count | 100       | 30      |
    When the protocol is audited
    Then there are no findings of DEMO-PLATELETS
    And there are no findings of DEMO-ALBUMIN

  @DEMO-PLATELETS @DEMO-ALBUMIN
  Scenario: Just below the converted thresholds, both are deviations
    Given the visit log:
      | subject | date       | event       | platelets | albumin |
      | 002     | 2024-01-01 | blood_count | 99.9      | 29.9    |
    When the protocol is audited
    Then there is a deviation of DEMO-PLATELETS for subject "002" on "2024-01-01"
    And there is a deviation of DEMO-ALBUMIN for subject "002" on "2024-01-01"
