Feature: Eligibility at consent and before the first infusion
  Inclusion criterion 1: the subject is at most 18 years old at consent, age counted in completed
  years from the birth date to the consent date.
  Exclusion criterion 7: no live attenuated vaccine in the 28 days before the first JK500 infusion;
  the window runs from 28 days before the first infusion up to and including its day.
  Exclusion criterion 7 also excludes a live attenuated vaccine planned within 6 months after
  administration. A log shows vaccines given, not planned: the audit checks live vaccines given
  after the day of the first infusion up to 6 months after the last infusion (calendar months,
  clamped at month ends: 31 March + 6 months is 30 September).

  Vaccination history counts as complete once the investigator's screening checklist is recorded:
  subject S1 has one in every scenario here (without it the vaccine-before rule is not evaluable).

  Background:
    Given the JK500 protocol rules
    And the visit log also has:
      | subject | date       | event     | eligible |
      | S1      | 2023-01-02 | screening | yes      |

  # ---- JK500-ELIG-AGE ------------------------------------------------------------------------

  @JK500-ELIG-AGE
  Scenario Outline: A subject who is still 18 at consent is eligible
    Given the visit log:
      | subject | date           | event   | birth_date   |
      | S1      | <consent date> | consent | <birth date> |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-AGE

    Examples: the day before the 19th birthday
      | birth date | consent date |
      | 2005-06-15 | 2024-06-14   |

    Examples: born on 29 February, still 18 on 28 February of the year they turn 19
      | birth date | consent date |
      | 2004-02-29 | 2023-02-28   |

    Examples: well under age
      | birth date | consent date |
      | 2015-09-30 | 2024-01-10   |

  @JK500-ELIG-AGE
  Scenario Outline: A subject who is 19 at consent is a deviation
    Given the visit log:
      | subject | date           | event   | birth_date   |
      | S1      | <consent date> | consent | <birth date> |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-AGE for subject "S1" on "<consent date>"
    And there is exactly 1 finding of JK500-ELIG-AGE

    Examples: on the 19th birthday
      | birth date | consent date |
      | 2005-06-15 | 2024-06-15   |

    Examples: born on 29 February, 19 on 1 March of the year they turn 19
      | birth date | consent date |
      | 2004-02-29 | 2023-03-01   |

  @JK500-ELIG-AGE
  Scenario: Each consent is checked, and only the over-age subject is reported
    Given the visit log:
      | subject | date       | event   | birth_date |
      | S1      | 2024-06-14 | consent | 2005-06-15 |
      | S2      | 2024-06-15 | consent | 2005-06-15 |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-AGE for subject "S2" on "2024-06-15"
    And there are no findings of JK500-ELIG-AGE for subject "S1"
    And there is exactly 1 finding of JK500-ELIG-AGE

  @JK500-ELIG-AGE
  Scenario: Age is judged only on a consent: without one the rule does not apply
    Given the visit log:
      | subject | date       | event     | birth_date | dose_group |
      | S1      | 2024-06-14 | consent   | 2005-06-15 |            |
      | S2      | 2024-06-14 | enrolment |            | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-AGE
    And the status of JK500-ELIG-AGE for subject "S1" is passed
    And the status of JK500-ELIG-AGE for subject "S2" is not applicable because "no consent recorded"

  # ---- JK500-EXCL-LIVE-VACCINE ---------------------------------------------------------------
  # First infusion on 2024-03-01 (2024 is a leap year): 28 days before is 2024-02-02.

  @JK500-EXCL-LIVE-VACCINE
  Scenario Outline: A live vaccine from 28 days before the first infusion up to its day is a deviation
    Given the visit log:
      | subject | date           | event       | vaccine | live_attenuated | dose    |
      | S1      | <vaccine date> | vaccination | MMR     | yes             |         |
      | S1      | 2024-03-01     | infusion    |         |                 | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "<vaccine date>"
    And there is exactly 1 finding of JK500-EXCL-LIVE-VACCINE

    Examples: 28 days before the first infusion
      | vaccine date |
      | 2024-02-02   |

    Examples: 10 days before the first infusion
      | vaccine date |
      | 2024-02-20   |

    Examples: the same day as the first infusion (the window includes its day)
      | vaccine date |
      | 2024-03-01   |

  @JK500-EXCL-LIVE-VACCINE
  Scenario Outline: A vaccine outside the window, or not live attenuated, is no deviation
    Given the visit log:
      | subject | date           | event       | vaccine   | live_attenuated | dose    |
      | S1      | <vaccine date> | vaccination | <vaccine> | <live>          |         |
      | S1      | 2024-03-01     | infusion    |           |                 | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE

    Examples: a live vaccine 29 days before the first infusion
      | vaccine date | vaccine | live |
      | 2024-02-01   | MMR     | yes  |

    Examples: a live vaccine the day after the first infusion
      | vaccine date | vaccine | live |
      | 2024-03-02   | MMR     | yes  |

    Examples: an inactivated vaccine 10 days before the first infusion
      | vaccine date | vaccine          | live |
      | 2024-02-20   | influenza (IIV4) | no   |

  @JK500-EXCL-LIVE-VACCINE
  Scenario: The window is counted back from the first infusion, not from later ones
    Given the visit log:
      | subject | date       | event       | vaccine   | live_attenuated | dose    |
      | S1      | 2024-01-30 | vaccination | MMR       | yes             |         |
      | S1      | 2024-03-01 | infusion    |           |                 | 1000000 |
      | S1      | 2024-03-02 | vaccination | varicella | yes             |         |
      | S1      | 2024-03-04 | infusion    |           |                 | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE

  @JK500-EXCL-LIVE-VACCINE
  Scenario: A live vaccine given to a subject never infused is not judged
    Given the visit log:
      | subject | date       | event       | vaccine | live_attenuated |
      | S1      | 2024-02-20 | vaccination | MMR     | yes             |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE

  @JK500-EXCL-LIVE-VACCINE
  Scenario: A subject never infused stands as not applicable, not as passed
    Given the visit log:
      | subject | date       | event       | vaccine | live_attenuated |
      | S1      | 2024-02-20 | vaccination | MMR     | yes             |
    When the protocol is audited
    Then the status of JK500-EXCL-LIVE-VACCINE for subject "S1" is not applicable because "no first infusion recorded"

  # ---- JK500-EXCL-LIVE-VACCINE-AFTER ---------------------------------------------------------
  # Infusions on 2024-03-01 (the first) and 2024-03-31 (the last): the window runs from
  # 2024-03-02 to 2024-09-30.

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario Outline: A live vaccine after the first infusion and up to 6 months after the last is a deviation
    Given the visit log:
      | subject | date           | event       | vaccine   | live_attenuated | dose    |
      | S1      | 2024-03-01     | infusion    |           |                 | 1000000 |
      | S1      | 2024-03-31     | infusion    |           |                 | 1000000 |
      | S1      | <vaccine date> | vaccination | varicella | yes             |         |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" on "<vaccine date>"
    And there is exactly 1 finding of JK500-EXCL-LIVE-VACCINE-AFTER

    Examples: the day after the first infusion
      | vaccine date |
      | 2024-03-02   |

    Examples: between infusions
      | vaccine date |
      | 2024-03-15   |

    Examples: 6 months after the last infusion, clamped to 30 September
      | vaccine date |
      | 2024-09-30   |

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario Outline: A vaccine later than 6 months after the last infusion, or not live, is no deviation
    Given the visit log:
      | subject | date           | event       | vaccine   | live_attenuated | dose    |
      | S1      | 2024-03-01     | infusion    |           |                 | 1000000 |
      | S1      | 2024-03-31     | infusion    |           |                 | 1000000 |
      | S1      | <vaccine date> | vaccination | <vaccine> | <live>          |         |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE-AFTER
    And the status of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" is passed

    Examples: a live vaccine 6 months and a day after the last infusion
      | vaccine date | vaccine   | live |
      | 2024-10-01   | varicella | yes  |

    Examples: an inactivated vaccine between infusions
      | vaccine date | vaccine          | live |
      | 2024-03-15   | influenza (IIV4) | no   |

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario: After a last infusion on 31 August, a live vaccine on 29 February of a leap year is a deviation
    Given the visit log:
      | subject | date       | event       | vaccine   | live_attenuated | dose    |
      | S1      | 2023-08-28 | infusion    |           |                 | 1000000 |
      | S1      | 2023-08-31 | infusion    |           |                 | 1000000 |
      | S1      | 2024-02-29 | vaccination | varicella | yes             |         |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" on "2024-02-29"

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario: After a last infusion on 31 August, a live vaccine on 1 March is no deviation
    Given the visit log:
      | subject | date       | event       | vaccine   | live_attenuated | dose    |
      | S1      | 2023-08-28 | infusion    |           |                 | 1000000 |
      | S1      | 2023-08-31 | infusion    |           |                 | 1000000 |
      | S1      | 2024-03-01 | vaccination | varicella | yes             |         |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE-AFTER

  @JK500-EXCL-LIVE-VACCINE-AFTER @JK500-EXCL-LIVE-VACCINE
  Scenario: A live vaccine on the day of the first infusion belongs to the 28 days before it
    Given the visit log:
      | subject | date       | event       | vaccine | live_attenuated | dose    |
      | S1      | 2024-03-01 | vaccination | MMR     | yes             |         |
      | S1      | 2024-03-01 | infusion    |         |                 | 1000000 |
      | S1      | 2024-03-04 | infusion    |         |                 | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "2024-03-01"
    And there are no findings of JK500-EXCL-LIVE-VACCINE-AFTER

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario: Vaccines after JK500 are not judged for a subject never infused
    Given the visit log:
      | subject | date       | event       | vaccine   | live_attenuated |
      | S1      | 2024-05-01 | vaccination | varicella | yes             |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE-AFTER
    And the status of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" is not applicable because "no last infusion recorded"

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario: A single infusion is both the first and the last: a live vaccine 9 days later is a deviation
    Given the visit log:
      | subject | date       | event       | vaccine | live_attenuated | dose    |
      | S1      | 2024-03-01 | infusion    |         |                 | 1000000 |
      | S1      | 2024-03-10 | vaccination | MMR     | yes             |         |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" on "2024-03-10"

  @JK500-EXCL-LIVE-VACCINE-AFTER
  Scenario Outline: Six months after the last infusion, at a month end
    Given the visit log:
      | subject | date       | event       | vaccine | live_attenuated | dose    |
      | S1      | 2023-08-31 | infusion    |         |                 | 1000000 |
      | S1      | <vaccine>  | vaccination | MMR     | yes             |         |
    When the protocol is audited
    Then there <outcome>

    Examples:
      | vaccine    | outcome                                                                                |
      | 2024-02-29 | is a deviation of JK500-EXCL-LIVE-VACCINE-AFTER for subject "S1" on "2024-02-29" |
      | 2024-03-01 | are no findings of JK500-EXCL-LIVE-VACCINE-AFTER                                       |

  @JK500-EXCL-LIVE-VACCINE
  Scenario: Without a screening checklist the vaccination history cannot be judged
    Given the visit log:
      | subject | date       | event    | dose    |
      | S2      | 2024-03-01 | infusion | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-LIVE-VACCINE for subject "S2" on "2024-03-01"
    And the status of JK500-EXCL-LIVE-VACCINE for subject "S2" is not evaluable because "no screening checklist recorded"
