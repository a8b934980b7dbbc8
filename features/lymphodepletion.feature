Feature: Lymphodepletion with cyclophosphamide and fludarabine before the first JK500 infusion
  Registry record, treatment details: "Lymphodepletion before the first infusion: cyclophosphamide
  60 mg/kg IV on day -7; fludarabine 25 mg/m2/day IV on days -6 to -2 (day 0 = first JK500 infusion)."
  Every dose may differ from its nominal dose by 10% either way, both bounds included.
  Fludarabine days and the number of fludarabine doses are judged once the first infusion is recorded.

  In the scenarios below the first JK500 infusion is on Monday 2024-01-08 (day 0): day -7 is
  2024-01-01, and days -6 to -2 run from 2024-01-02 to 2024-01-06. Each scenario asserts only the
  rules it names: its log is kept small, so other rules may well report on it.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-TRT-CY-DAY: each cyclophosphamide dose on day -7 -------------------------------------

  @JK500-TRT-CY-DAY
  Scenario: Cyclophosphamide on day -7 is no deviation
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2024-01-01 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-DAY
    And the status of JK500-TRT-CY-DAY for subject "S1" is passed

  @JK500-TRT-CY-DAY
  Scenario Outline: Cyclophosphamide on another day than day -7 is a deviation, dated on the day it was given
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | <cy date>  | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-CY-DAY for subject "S1" on "<cy date>"
    And there is exactly 1 finding of JK500-TRT-CY-DAY
    And there are no findings of JK500-TRT-CY-GIVEN

    Examples: a day early (day -8)
      | cy date    |
      | 2023-12-31 |

    Examples: a day late (day -6)
      | cy date    |
      | 2024-01-02 |

    Examples: on the day of the first infusion (day 0)
      | cy date    |
      | 2024-01-08 |

  @JK500-TRT-CY-DAY
  Scenario: Day -7 counts from the first infusion, not from a later one
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2024-01-03 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
      | S1      | 2024-01-10 | infusion         | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-CY-DAY for subject "S1" on "2024-01-03"
    And there is exactly 1 finding of JK500-TRT-CY-DAY

  @JK500-TRT-CY-DAY
  Scenario: A subject with no JK500 infusion has no day 0, so a dose waits to be judged
    Given the visit log:
      | subject | date       | event            | dose |
      | S1      | 2024-01-01 | cyclophosphamide | 60   |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-DAY
    And the status of JK500-TRT-CY-DAY for subject "S1" is pending

  # ---- JK500-TRT-CY-GIVEN: a cyclophosphamide dose at all, dated on day -7 --------------------------

  @JK500-TRT-CY-GIVEN
  Scenario: No cyclophosphamide at all is a deviation, dated on day -7 when it was due
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
      | S1      | 2024-01-10 | infusion | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-CY-GIVEN for subject "S1" on "2024-01-01"
    And there is exactly 1 finding of JK500-TRT-CY-GIVEN
    And there are no findings of JK500-TRT-CY-DAY

  @JK500-TRT-CY-GIVEN
  Scenario: A dose on the wrong day is given all the same: only JK500-TRT-CY-DAY reports it
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2023-12-31 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-GIVEN
    And the status of JK500-TRT-CY-GIVEN for subject "S1" is passed

  # ---- JK500-TRT-CY-ONCE: a single cyclophosphamide dose ------------------------------------------

  @JK500-TRT-CY-ONCE
  Scenario: One cyclophosphamide dose, on day -7
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2024-01-01 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-ONCE
    And the status of JK500-TRT-CY-ONCE for subject "S1" is passed

  @JK500-TRT-CY-ONCE
  Scenario: A second cyclophosphamide dose is a deviation dated on that dose; the off-day one is JK500-TRT-CY-DAY's
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2023-12-31 | cyclophosphamide | 60      |
      | S1      | 2024-01-01 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-CY-ONCE for subject "S1" on "2024-01-01"
    And there is exactly 1 finding of JK500-TRT-CY-ONCE
    And there is a deviation of JK500-TRT-CY-DAY for subject "S1" on "2023-12-31"
    And there is exactly 1 finding of JK500-TRT-CY-DAY

  @JK500-TRT-CY-ONCE
  Scenario: No cyclophosphamide at all is not a second dose: JK500-TRT-CY-GIVEN reports the missing one
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-ONCE
    And there is a deviation of JK500-TRT-CY-GIVEN for subject "S1" on "2024-01-01"

  # ---- JK500-TRT-CY-DOSE: 60 mg/kg, within 10% -----------------------------------------------------

  @JK500-TRT-CY-DOSE
  Scenario Outline: A cyclophosphamide dose within 10% of 60 mg/kg, bounds included, is no deviation
    Given the visit log:
      | subject | date       | event            | dose   |
      | S1      | 2024-01-01 | cyclophosphamide | <dose> |
    When the protocol is audited
    Then there are no findings of JK500-TRT-CY-DOSE
    And the status of JK500-TRT-CY-DOSE for subject "S1" is passed

    Examples:
      | dose |
      | 60   |
      | 54   |
      | 66   |

  @JK500-TRT-CY-DOSE
  Scenario Outline: A cyclophosphamide dose just beyond 10% of 60 mg/kg is a deviation
    Given the visit log:
      | subject | date       | event            | dose   |
      | S1      | 2024-01-01 | cyclophosphamide | <dose> |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-CY-DOSE for subject "S1" on "2024-01-01"
    And there is exactly 1 finding of JK500-TRT-CY-DOSE

    Examples: just below 54 mg/kg and just above 66 mg/kg
      | dose  |
      | 53.99 |
      | 66.01 |

    Examples: a dose entered in the wrong unit
      | dose |
      | 6    |

  @JK500-TRT-CY-DOSE
  Scenario: A cyclophosphamide record without its dose cannot be judged
    Given the visit log:
      | subject | date       | event            | dose |
      | S1      | 2024-01-01 | cyclophosphamide |      |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-CY-DOSE for subject "S1" on "2024-01-01"
    And there is exactly 1 finding of JK500-TRT-CY-DOSE
    And the status of JK500-TRT-CY-DOSE for subject "S1" is not evaluable because "has no dose"

  # ---- JK500-TRT-FLU-DAYS: fludarabine only on days -6 to -2 ----------------------------------------

  @JK500-TRT-FLU-DAYS
  Scenario Outline: Fludarabine on days -6 to -2, both ends included, is no deviation
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | <flu date> | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-DAYS
    And the status of JK500-TRT-FLU-DAYS for subject "S1" is passed

    Examples: day -6, the first day
      | flu date   |
      | 2024-01-02 |

    Examples: day -4
      | flu date   |
      | 2024-01-04 |

    Examples: day -2, the last day
      | flu date   |
      | 2024-01-06 |

  @JK500-TRT-FLU-DAYS
  Scenario Outline: Fludarabine outside days -6 to -2 is a deviation, dated at the dose
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | <flu date> | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DAYS for subject "S1" on "<flu date>"
    And there is exactly 1 finding of JK500-TRT-FLU-DAYS

    Examples: day -7, the cyclophosphamide day
      | flu date   |
      | 2024-01-01 |

    Examples: day -1
      | flu date   |
      | 2024-01-07 |

    Examples: on the day of the first infusion
      | flu date   |
      | 2024-01-08 |

  @JK500-TRT-FLU-DAYS
  Scenario: Each dose is judged: one dose out of five on the wrong day gives one finding
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-01 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-04 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-06 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DAYS for subject "S1" on "2024-01-01"
    And there is exactly 1 finding of JK500-TRT-FLU-DAYS

  @JK500-TRT-FLU-DAYS
  Scenario: Before the first infusion the days cannot be judged: each dose is pending
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-01 | fludarabine | 25      |
      | S1      | 2024-01-02 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited as of "2024-01-07"
    Then there are no findings of JK500-TRT-FLU-DAYS
    And JK500-TRT-FLU-DAYS has 2 pending checks
    And the status of JK500-TRT-FLU-DAYS for subject "S1" is pending because "after the data cut-off"

  @JK500-TRT-FLU-DAYS
  Scenario: On the day of the first infusion the fludarabine days are judged
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-01 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited as of "2024-01-08"
    Then there is a deviation of JK500-TRT-FLU-DAYS for subject "S1" on "2024-01-01"
    And JK500-TRT-FLU-DAYS is pending for 0 subjects

  # ---- JK500-TRT-FLU-EACH-DAY: fludarabine on each of days -6 to -2 -------------------------------

  @JK500-TRT-FLU-EACH-DAY
  Scenario: Five fludarabine doses, one on each of days -6 to -2, is no deviation
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-02 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-04 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-06 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-EACH-DAY
    And there are no findings of JK500-TRT-FLU-DAYS
    And there are no findings of JK500-TRT-FLU-DAILY
    And there are no findings of JK500-TRT-FLU-DOSE
    And the status of JK500-TRT-FLU-EACH-DAY for subject "S1" is passed

  @JK500-TRT-FLU-EACH-DAY
  Scenario: A missed day -2 dose is a deviation dated on day -2 itself, not at the last dose given
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-02 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-04 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-EACH-DAY for subject "S1" on "2024-01-06"
    And there is exactly 1 finding of JK500-TRT-FLU-EACH-DAY
    And there are no findings of JK500-TRT-FLU-DAYS

  @JK500-TRT-FLU-EACH-DAY
  Scenario: A missed day in the middle of the course is its own finding on that day
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-02 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-06 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-EACH-DAY for subject "S1" on "2024-01-04"
    And there is exactly 1 finding of JK500-TRT-FLU-EACH-DAY

  @JK500-TRT-FLU-EACH-DAY
  Scenario: A dose moved a day early leaves its own day missed, and is a deviation of the days as well
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-01 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-04 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-06 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-EACH-DAY for subject "S1" on "2024-01-02"
    And there is exactly 1 finding of JK500-TRT-FLU-EACH-DAY
    And there is a deviation of JK500-TRT-FLU-DAYS for subject "S1" on "2024-01-01"

  @JK500-TRT-FLU-EACH-DAY
  Scenario: A sixth dose on day -1 is a deviation of the days, not of the schedule
    Given the visit log:
      | subject | date       | event       | dose    |
      | S1      | 2024-01-02 | fludarabine | 25      |
      | S1      | 2024-01-03 | fludarabine | 25      |
      | S1      | 2024-01-04 | fludarabine | 25      |
      | S1      | 2024-01-05 | fludarabine | 25      |
      | S1      | 2024-01-06 | fludarabine | 25      |
      | S1      | 2024-01-07 | fludarabine | 25      |
      | S1      | 2024-01-08 | infusion    | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-EACH-DAY
    And there is a deviation of JK500-TRT-FLU-DAYS for subject "S1" on "2024-01-07"

  @JK500-TRT-FLU-EACH-DAY
  Scenario: No fludarabine at all before JK500 infusions is five findings, one per day, not a pass
    Given the visit log:
      | subject | date       | event            | dose    |
      | S1      | 2024-01-01 | cyclophosphamide | 60      |
      | S1      | 2024-01-08 | infusion         | 1000000 |
    When the protocol is audited
    Then there are exactly 5 findings of JK500-TRT-FLU-EACH-DAY
    And there is a deviation of JK500-TRT-FLU-EACH-DAY for subject "S1" on "2024-01-02"
    And there is a deviation of JK500-TRT-FLU-EACH-DAY for subject "S1" on "2024-01-06"
    And the status of JK500-TRT-FLU-EACH-DAY for subject "S1" is deviation

  @JK500-TRT-FLU-EACH-DAY
  Scenario: Before the first infusion the days are not yet known: the rule does not apply yet
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-02 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 25   |
      | S1      | 2024-01-04 | fludarabine | 25   |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-EACH-DAY
    And the status of JK500-TRT-FLU-EACH-DAY for subject "S1" is not applicable because "no visit of lymphodepletion due yet: no first infusion recorded to count from"

  # ---- JK500-TRT-FLU-DAILY: at most one fludarabine dose a day --------------------------------------

  @JK500-TRT-FLU-DAILY
  Scenario: One fludarabine dose on each of several days is no deviation
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-02 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 25   |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-DAILY
    And the status of JK500-TRT-FLU-DAILY for subject "S1" is passed

  @JK500-TRT-FLU-DAILY
  Scenario: Two fludarabine doses on the same day is a deviation, dated on that day
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-02 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 25   |
      | S1      | 2024-01-04 | fludarabine | 25   |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DAILY for subject "S1" on "2024-01-03"
    And there is exactly 1 finding of JK500-TRT-FLU-DAILY

  @JK500-TRT-FLU-DAILY
  Scenario: Days are counted per subject
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-03 | fludarabine | 25   |
      | S2      | 2024-01-03 | fludarabine | 25   |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-DAILY

  @JK500-TRT-FLU-DAILY
  Scenario: The daily limit needs no first infusion: it is judged as soon as the doses are recorded
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-03 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 12.5 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DAILY for subject "S1" on "2024-01-03"
    And the status of JK500-TRT-FLU-DAILY for subject "S1" is deviation

  # ---- JK500-TRT-FLU-DOSE: 25 mg/m2, within 10% ------------------------------------------------------

  @JK500-TRT-FLU-DOSE
  Scenario Outline: A fludarabine dose within 10% of 25 mg/m2, bounds included, is no deviation
    Given the visit log:
      | subject | date       | event       | dose   |
      | S1      | 2024-01-02 | fludarabine | <dose> |
    When the protocol is audited
    Then there are no findings of JK500-TRT-FLU-DOSE

    Examples:
      | dose |
      | 25   |
      | 22.5 |
      | 27.5 |

  @JK500-TRT-FLU-DOSE
  Scenario Outline: A fludarabine dose just beyond 10% of 25 mg/m2 is a deviation
    Given the visit log:
      | subject | date       | event       | dose   |
      | S1      | 2024-01-02 | fludarabine | <dose> |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DOSE for subject "S1" on "2024-01-02"
    And there is exactly 1 finding of JK500-TRT-FLU-DOSE

    Examples:
      | dose  |
      | 22.49 |
      | 27.51 |

  @JK500-TRT-FLU-DOSE
  Scenario: Each dose is judged, and a dose without its amount cannot be judged
    Given the visit log:
      | subject | date       | event       | dose |
      | S1      | 2024-01-02 | fludarabine | 25   |
      | S1      | 2024-01-03 | fludarabine | 30   |
      | S1      | 2024-01-04 | fludarabine |      |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-FLU-DOSE for subject "S1" on "2024-01-03"
    And there is a not evaluable finding of JK500-TRT-FLU-DOSE for subject "S1" on "2024-01-04"
    And there are exactly 2 findings of JK500-TRT-FLU-DOSE
    And the status of JK500-TRT-FLU-DOSE for subject "S1" is deviation
