Feature: References name the one record a criterion judges
  "The latest neutrophil count in the 14 days before the first dose is at least 1.5" judges one record,
  picked by its date. `require a lab where ...` would pass when any ANC passes, even if a later one
  fails. A reference names the record meant: the latest (or earliest) record of a type, among those its
  `where` admits, on one side of an anchor. `previous X` and `next X` are relative to the record checked.
  The engine finds the candidates; none found is not evaluable; records tied on the day found that
  disagree are a possible deviation unless the reference says how ties are judged.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event lab "Laboratory result" { test: text required  result: decimal }
      event ps "Performance status" { score: integer required }
      event dosing "Study drug dose" { dose: decimal in mg required }

      reference baseline_anc "Neutrophil count at baseline" =
          latest lab where test = "ANC" dated within 14 days before first dosing
      reference baseline_ps = latest ps dated on or before first dosing, if tied each

      rule DEMO-ANC "The latest neutrophil count in the 14 days before the first dose is at least 1.5" {
          cites "eligibility"
          message "Baseline ANC {baseline_anc.result} on {baseline_anc.date}."
          for first dosing
              require baseline_anc.result >= 1.5
      }

      rule DEMO-PS "The latest performance status before the first dose is 0 or 1" {
          cites "eligibility"
          for first dosing
              require baseline_ps is known and baseline_ps.score <= 1
      }

      rule DEMO-CYCLE "Each dose 18 to 24 days after the previous one" {
          cites "schedule"
          for each dosing where previous dosing is known
              require date within 3 days of previous dosing + 21 days
      }
      """

  @DEMO-ANC
  Scenario: The latest count is low, although an earlier one was high enough
    Given the visit log:
      | subject | date       | event  | test | result | dose |
      | 001     | 2024-01-01 | lab    | ANC  | 2.0    |      |
      | 001     | 2024-01-08 | lab    | ANC  | 1.2    |      |
      | 001     | 2024-01-09 | lab    | PLT  | 150    |      |
      | 001     | 2024-01-10 | dosing |      |        | 10   |
    When the protocol is audited
    Then there is a deviation of DEMO-ANC for subject "001" on "2024-01-10"
    And the findings of DEMO-ANC say "Baseline ANC 1.2 on 2024-01-08."

  @DEMO-ANC
  Scenario: The latest count is high enough, although an earlier one was low
    Given the visit log:
      | subject | date       | event  | test | result | dose |
      | 002     | 2024-01-01 | lab    | ANC  | 1.0    |      |
      | 002     | 2024-01-08 | lab    | ANC  | 1.8    |      |
      | 002     | 2024-01-10 | dosing |      |        | 10   |
    When the protocol is audited
    Then there are no findings of DEMO-ANC
    And the status of DEMO-ANC for subject "002" is passed

  @DEMO-ANC
  Scenario: No count in the 14 days before the first dose cannot be judged, and says so
    Given the visit log:
      | subject | date       | event  | test | result | dose |
      | 003     | 2024-01-01 | lab    | ANC  | 2.0    |      |
      | 003     | 2024-01-30 | dosing |      |        | 10   |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-ANC for subject "003" on "2024-01-30" because "there is no baseline_anc"

  @DEMO-ANC
  Scenario: Two counts on the day found that disagree leave the check undecided; two that agree do not
    Given the visit log:
      | subject | date       | event  | test | result | dose |
      | 004     | 2024-01-05 | lab    | ANC  | 2.0    |      |
      | 004     | 2024-01-05 | lab    | ANC  | 1.0    |      |
      | 004     | 2024-01-10 | dosing |      |        | 10   |
      | 005     | 2024-01-05 | lab    | ANC  | 2.0    |      |
      | 005     | 2024-01-05 | lab    | ANC  | 1.9    |      |
      | 005     | 2024-01-10 | dosing |      |        | 10   |
    When the protocol is audited
    Then there is a possible deviation of DEMO-ANC for subject "004" on "2024-01-10" because "2 records dated 2024-01-05 tie for baseline_anc, and the check holds for some of them and not for others"
    And the status of DEMO-ANC for subject "005" is passed

  @DEMO-ANC
  Scenario: A count whose date is known only to the month may be the latest: undecided, not skipped
    Given the visit log:
      | subject | date       | event  | test | result | dose |
      | 006     | 2024-01-02 | lab    | ANC  | 2.0    |      |
      | 006     | 2024-01    | lab    | ANC  | 1.0    |      |
      | 006     | 2024-01-10 | dosing |      |        | 10   |
    When the protocol is audited
    Then the status of DEMO-ANC for subject "006" is not evaluable because "baseline_anc cannot be told: a date it depends on is only partly known"

  @DEMO-PS
  Scenario: Tied assessments judged each: one of them too high is a deviation
    Given the visit log:
      | subject | date       | event  | score | dose |
      | 011     | 2024-01-01 | ps     | 0     |      |
      | 011     | 2024-01-05 | ps     | 0     |      |
      | 011     | 2024-01-05 | ps     | 2     |      |
      | 011     | 2024-01-10 | dosing |       | 10   |
    When the protocol is audited
    Then there is a deviation of DEMO-PS for subject "011" on "2024-01-10"

  @DEMO-PS
  Scenario: An assessment on the day of the first dose counts, and an earlier worse one does not
    Given the visit log:
      | subject | date       | event  | score | dose |
      | 012     | 2024-01-05 | ps     | 2     |      |
      | 012     | 2024-01-10 | ps     | 1     |      |
      | 012     | 2024-01-10 | dosing |       | 10   |
    When the protocol is audited
    Then there are no findings of DEMO-PS
    And the status of DEMO-PS for subject "012" is passed

  @DEMO-PS
  Scenario: No assessment at all is a deviation, because the rule says so
    Given the visit log:
      | subject | date       | event  | dose |
      | 013     | 2024-01-10 | dosing | 10   |
    When the protocol is audited
    Then there is a deviation of DEMO-PS for subject "013" on "2024-01-10"

  @DEMO-CYCLE
  Scenario: A dose 10 days after the previous one
    Given the visit log:
      | subject | date       | event  | dose |
      | 021     | 2024-01-10 | dosing | 10   |
      | 021     | 2024-01-31 | dosing | 10   |
      | 021     | 2024-02-10 | dosing | 10   |
    When the protocol is audited
    Then there is exactly 1 finding of DEMO-CYCLE
    And there is a deviation of DEMO-CYCLE for subject "021" on "2024-02-10"

  @DEMO-CYCLE
  Scenario: Doses 21 and 24 days apart, and a first dose that has no previous one
    Given the visit log:
      | subject | date       | event  | dose |
      | 022     | 2024-01-10 | dosing | 10   |
      | 022     | 2024-01-31 | dosing | 10   |
      | 022     | 2024-02-24 | dosing | 10   |
      | 023     | 2024-01-10 | dosing | 10   |
    When the protocol is audited
    Then there are no findings of DEMO-CYCLE
    And the status of DEMO-CYCLE for subject "022" is passed
    And the status of DEMO-CYCLE for subject "023" is not applicable
