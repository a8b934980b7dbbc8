Feature: JK500 treatment schedule and dose
  Registry, arm description: "three dose groups: 10^6, 5x10^6 and 3x10^7 JK500 cells injection /kg/
  time, three times a week, a total of 6 times."
  Three infusions a week, six in all, each at the dose group's nominal dose (group 1: 1e6, group 2:
  5e6, group 3: 3e7 cells/kg) within 10%, both bounds included; the dose group is the one assigned at
  enrolment. Weeks are calendar weeks, Monday to Sunday. The total is judged once 21 days have passed
  since the first infusion (the data cut-off is the audit's "as of" date, or else the latest record);
  a subject who withdrew, died or stopped for toxicity is excused from it (see disposition.feature).
  2024-01-01 is a Monday.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-TRT-WEEKLY ----------------------------------------------------------------------

  @JK500-TRT-WEEKLY
  Scenario: Three infusions in one Monday-to-Sunday week are allowed
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-07 | infusion | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-WEEKLY
    And the status of JK500-TRT-WEEKLY for subject "S1" is passed

  @JK500-TRT-WEEKLY
  Scenario: A fourth infusion in the same Monday-to-Sunday week is a deviation
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-07 | infusion | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-WEEKLY for subject "S1" on "2024-01-07"
    And there is exactly 1 finding of JK500-TRT-WEEKLY
    And the status of JK500-TRT-WEEKLY for subject "S1" is deviation

  @JK500-TRT-WEEKLY
  Scenario: Four infusions on four days spanning Sunday to Monday fall in two weeks
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-06 | infusion | 1000000 |
      | S1      | 2024-01-07 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-WEEKLY

  @JK500-TRT-WEEKLY
  Scenario: Weeks are counted per subject
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S2      | 2024-01-05 | infusion | 1000000 |
      | S2      | 2024-01-07 | infusion | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-WEEKLY

  # ---- JK500-TRT-TOTAL -----------------------------------------------------------------------
  # First infusion 2024-01-01: the treatment period is over from 2024-01-22.

  @JK500-TRT-TOTAL
  Scenario: Exactly six infusions is no deviation
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
      | S1      | 2024-01-12 | infusion | 1000000 |
    When the protocol is audited as of "2024-02-01"
    Then there are no findings of JK500-TRT-TOTAL
    And JK500-TRT-TOTAL is pending for 0 subjects
    And the status of JK500-TRT-TOTAL for subject "S1" is passed

  @JK500-TRT-TOTAL
  Scenario Outline: Five infusions once the treatment period is over is a deviation
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
    When the protocol is audited as of "<cut-off>"
    Then there is a deviation of JK500-TRT-TOTAL for subject "S1" on "2024-01-22"
    And there is exactly 1 finding of JK500-TRT-TOTAL
    And JK500-TRT-TOTAL is pending for 0 subjects

    Examples: cut-off on the day the period is over (first infusion + 21 days)
      | cut-off    |
      | 2024-01-22 |

    Examples: cut-off well after
      | cut-off    |
      | 2024-03-01 |

  @JK500-TRT-TOTAL
  Scenario Outline: Five infusions while the treatment period is still running is pending, not a finding
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
    When the protocol is audited as of "<cut-off>"
    Then there are no findings of JK500-TRT-TOTAL
    And JK500-TRT-TOTAL is pending for 1 subject

    Examples: cut-off the day before the period is over
      | cut-off    |
      | 2024-01-21 |

    Examples: cut-off on the day of the last infusion
      | cut-off    |
      | 2024-01-10 |

  @JK500-TRT-TOTAL
  Scenario: Without a cut-off the latest record is the cut-off, so the period is still running
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-TOTAL
    And JK500-TRT-TOTAL is pending for 1 subject
    And the status of JK500-TRT-TOTAL for subject "S1" is pending because "after the data cut-off"

  @JK500-TRT-TOTAL
  Scenario: A seventh infusion is a deviation
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S1      | 2024-01-05 | infusion | 1000000 |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
      | S1      | 2024-01-12 | infusion | 1000000 |
      | S1      | 2024-01-15 | infusion | 1000000 |
    When the protocol is audited as of "2024-02-01"
    Then there is a deviation of JK500-TRT-TOTAL for subject "S1" on "2024-01-15"
    And there is exactly 1 finding of JK500-TRT-TOTAL
    And there are no findings of JK500-TRT-WEEKLY

  @JK500-TRT-TOTAL
  Scenario: Each subject is judged on their own first infusion
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-01 | infusion | 1000000 |
      | S1      | 2024-01-03 | infusion | 1000000 |
      | S2      | 2024-01-15 | infusion | 1000000 |
      | S2      | 2024-01-17 | infusion | 1000000 |
    When the protocol is audited as of "2024-01-25"
    Then there is a deviation of JK500-TRT-TOTAL for subject "S1" on "2024-01-22"
    And there are no findings of JK500-TRT-TOTAL for subject "S2"
    And JK500-TRT-TOTAL is pending for 1 subject

  # ---- JK500-TRT-DOSE ------------------------------------------------------------------------

  @JK500-TRT-DOSE
  Scenario Outline: A dose within 10% of the dose group's nominal dose, bounds included, is no deviation
    Given the visit log:
      | subject | date       | event     | dose_group | dose   |
      | S1      | 2024-01-01 | enrolment | <group>    |        |
      | S1      | 2024-01-08 | infusion  |            | <dose> |
    When the protocol is audited
    Then there are no findings of JK500-TRT-DOSE

    Examples: dose group 1, nominal 1e6 cells/kg
      | group | dose    |
      | 1     | 1000000 |
      | 1     | 1100000 |
      | 1     | 900000  |
      | 1     | 1.1e6   |

    Examples: dose group 2, nominal 5e6 cells/kg
      | group | dose    |
      | 2     | 5500000 |
      | 2     | 4500000 |

    Examples: dose group 3, nominal 3e7 cells/kg
      | group | dose     |
      | 3     | 33000000 |
      | 3     | 27000000 |

  @JK500-TRT-DOSE
  Scenario Outline: A dose just beyond 10% of the dose group's nominal dose is a deviation
    Given the visit log:
      | subject | date       | event     | dose_group | dose   |
      | S1      | 2024-01-01 | enrolment | <group>    |        |
      | S1      | 2024-01-08 | infusion  |            | <dose> |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-DOSE for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-DOSE

    Examples: dose group 1, nominal 1e6 cells/kg
      | group | dose       |
      | 1     | 1100001    |
      | 1     | 899999     |
      | 1     | 1100000.01 |
      | 1     | 899999.99  |

    Examples: dose group 2, nominal 5e6 cells/kg
      | group | dose    |
      | 2     | 5500001 |
      | 2     | 4499999 |

    Examples: dose group 3, nominal 3e7 cells/kg
      | group | dose     |
      | 3     | 33000001 |
      | 3     | 26999999 |

    Examples: another group's nominal dose
      | group | dose     |
      | 1     | 5000000  |
      | 3     | 5000000  |

  @JK500-TRT-DOSE
  Scenario: Each infusion is checked
    Given the visit log:
      | subject | date       | event     | dose_group | dose    |
      | S1      | 2024-01-01 | enrolment | 2          |         |
      | S1      | 2024-01-08 | infusion  |            | 5000000 |
      | S1      | 2024-01-10 | infusion  |            | 6000000 |
      | S1      | 2024-01-12 | infusion  |            | 5100000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-DOSE for subject "S1" on "2024-01-10"
    And there is exactly 1 finding of JK500-TRT-DOSE

  @JK500-TRT-DOSE
  Scenario: A subject with no dose group cannot be judged
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-DOSE for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-DOSE
    And the status of JK500-TRT-DOSE for subject "S1" is not evaluable because "no dose_group"

  @JK500-TRT-DOSE
  Scenario: A subject whose dose group has no nominal dose cannot be judged
    Given the visit log:
      | subject | date       | event     | dose_group | dose    |
      | S1      | 2024-01-01 | enrolment | 4          |         |
      | S1      | 2024-01-08 | infusion  |            | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-DOSE for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-DOSE
