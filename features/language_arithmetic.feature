Feature: Computed amounts: a dose from the weight, a creatinine clearance from a formula
  "10 mg/kg of the weight, within 10 %" multiplies a dose per kg by the subject's weight (an attribute read
  at screening, or the weight a reference finds for each dose): mg/kg times kg is mg, compared with the dose
  exactly at its ends. Creatinine clearance by Cockcroft-Gault is a formula with an empirical constant,
  worked out per screening from the age in completed years, the weight, the creatinine and a factor for
  women. Each division is rounded half-even to 6 decimal places; an amount that cannot be worked out (a
  value not recorded, no weight found, completed years a partial birth date leaves open) makes the check
  not evaluable, with the reason.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event screening "Screening" {
          birth_date: date required
          weight: decimal in kg
          creatinine: decimal in mg/dL
          sex: text required
      }
      event vitals "Vital signs" { weight: decimal in kg required }
      event dosing "Study drug dose" { dose: decimal in mg required }

      subject body_weight = screening.weight
      subject sex = screening.sex

      reference cycle_weight "The weight measured on the dose's day or the day before" =
          latest vitals dated within 1 days before each dosing

      parameter dose_per_kg = 10 mg/kg
      parameter dose_tolerance = 10 %
      parameter sex_factor = by sex { "F": 0.85, "M": 1 }

      formula crcl "Creatinine clearance by Cockcroft-Gault" in mL/min =
          (140 - years from birth_date to date) * weight / (72 * creatinine) * sex_factor[sex]
          empirical "Cockcroft-Gault's constant 72 carries the units: age in years, weight in kg, creatinine in mg/dL."

      rule DEMO-DOSE-WEIGHT "Each dose is 10 mg/kg of the weight at screening, within 10 %" {
          cites "treatment"
          for each dosing
              require dose within dose_tolerance of dose_per_kg * body_weight
      }

      rule DEMO-DOSE-CYCLE "Each dose is 10 mg/kg of the cycle's weight, within 10 %" {
          cites "treatment"
          message "Dose {dose} mg is outside {dose_tolerance} of {dose_per_kg} times {cycle_weight.weight} kg."
          for each dosing
              require dose within 10 % of 10 mg/kg * cycle_weight.weight
      }

      rule DEMO-CRCL "Creatinine clearance of at least 50 mL/min at screening" {
          cites "eligibility"
          message "Creatinine clearance {crcl} at screening is below 50 mL/min."
          for each screening
              require crcl >= 50 mL/min
      }
      """

  @DEMO-DOSE-WEIGHT
  Scenario: A dose one millionth of a mg past 110 % of 10 mg/kg of the screening weight
    Given the visit log:
      | subject | date       | event     | birth_date | weight | sex | dose       |
      | 001     | 2024-01-10 | screening | 1970-01-01 | 70     | M   |            |
      | 001     | 2024-01-15 | dosing    |            |        |     | 770.000001 |
    When the protocol is audited
    Then there is a deviation of DEMO-DOSE-WEIGHT for subject "001" on "2024-01-15"

  @DEMO-DOSE-WEIGHT
  Scenario: Doses exactly at 90 % and 110 % of 10 mg/kg of the screening weight
    Given the visit log:
      | subject | date       | event     | birth_date | weight | sex | dose |
      | 002     | 2024-01-10 | screening | 1970-01-01 | 70     | M   |      |
      | 002     | 2024-01-15 | dosing    |            |        |     | 630  |
      | 002     | 2024-02-05 | dosing    |            |        |     | 770  |
    When the protocol is audited
    Then there are no findings of DEMO-DOSE-WEIGHT

  @DEMO-DOSE-WEIGHT
  Scenario: Without a weight at screening, the dose cannot be judged
    Given the visit log:
      | subject | date       | event     | birth_date | weight | sex | dose |
      | 003     | 2024-01-10 | screening | 1970-01-01 |        | M   |      |
      | 003     | 2024-01-15 | dosing    |            |        |     | 700  |
    When the protocol is audited
    Then the status of DEMO-DOSE-WEIGHT for subject "003" is not evaluable because "dose_per_kg * body_weight cannot be worked out: the subject has no body_weight"

  @DEMO-DOSE-CYCLE
  Scenario: A dose below 90 % of 10 mg/kg of the weight measured the day before
    Given the visit log:
      | subject | date       | event  | weight | dose       |
      | 004     | 2024-01-14 | vitals | 64.5   |            |
      | 004     | 2024-01-15 | dosing |        | 580.499999 |
    When the protocol is audited
    Then there is a deviation of DEMO-DOSE-CYCLE for subject "004" on "2024-01-15"
    And the findings of DEMO-DOSE-CYCLE say "Dose 580.499999 mg is outside 10% of 10 mg/kg times 64.5 kg."

  @DEMO-DOSE-CYCLE
  Scenario: A dose exactly at 90 % of 10 mg/kg of the cycle's weight, the next cycle's weight lower
    Given the visit log:
      | subject | date       | event  | weight | dose   |
      | 005     | 2024-01-15 | vitals | 64.5   |        |
      | 005     | 2024-01-15 | dosing |        | 580.5  |
      | 005     | 2024-02-04 | vitals | 60     |        |
      | 005     | 2024-02-05 | dosing |        | 660    |
    When the protocol is audited
    Then there are no findings of DEMO-DOSE-CYCLE

  @DEMO-DOSE-CYCLE
  Scenario: No weight measured on the dose's day or the day before
    Given the visit log:
      | subject | date       | event  | weight | dose |
      | 006     | 2024-01-10 | vitals | 70     |      |
      | 006     | 2024-01-15 | dosing |        | 700  |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-DOSE-CYCLE for subject "006" on "2024-01-15"
    And the status of DEMO-DOSE-CYCLE for subject "006" is not evaluable because "there is no cycle_weight"

  @DEMO-CRCL
  Scenario: A woman of 60, 54 kg, creatinine 1.2: 50 mL/min times 0.85 is below 50
    Given the visit log:
      | subject | date       | event     | birth_date | weight | creatinine | sex |
      | 007     | 2024-01-10 | screening | 1963-06-01 | 54     | 1.2        | F   |
    When the protocol is audited
    Then there is a deviation of DEMO-CRCL for subject "007" on "2024-01-10"
    And the findings of DEMO-CRCL say "Creatinine clearance 42.5 mL/min at screening is below 50 mL/min."

  @DEMO-CRCL
  Scenario: A man of 60, 54 kg, creatinine 1.2: exactly 50 mL/min
    Given the visit log:
      | subject | date       | event     | birth_date | weight | creatinine | sex |
      | 008     | 2024-01-10 | screening | 1963-06-01 | 54     | 1.2        | M   |
    When the protocol is audited
    Then there are no findings of DEMO-CRCL

  @DEMO-CRCL
  Scenario: A creatinine not recorded, and a birth year alone that leaves the age open
    Given the visit log:
      | subject | date       | event     | birth_date | weight | creatinine | sex |
      | 009     | 2024-01-10 | screening | 1963-06-01 | 54     |            | M   |
      | 010     | 2024-01-10 | screening | 1963       | 54     | 1.2        | M   |
    When the protocol is audited
    Then the status of DEMO-CRCL for subject "009" is not evaluable because "crcl cannot be worked out: screening has no creatinine"
    And the status of DEMO-CRCL for subject "010" is not evaluable because "years from birth_date to date is not certain"
