Feature: Response and MRD assessed in every 3 months for 24 months after the first infusion
  Registry, secondary outcomes: "Treatment response will be assessed periodically until the end of
  treatment and up to 24 months after the first injection" (ORR: CR + CRi + PR), and "To observe the
  MRD status in bone marrow" over 24 months.
  "Periodically" is read as at least one response assessment and one bone-marrow MRD assessment in
  every 3 months. The 24 months from the first JK500 infusion are cut into eight follow-up windows of
  3 calendar months; each window runs from its first day to its last day, both included.
  A window is judged once the data cut-off reaches its last day; until then it is pending. The
  finding of a missed window is dated on the window's last day, when its assessment was due at the latest. "N pending checks" counts
  checks: for one subject, one per follow-up window not yet over.

  In the scenarios below the first JK500 infusion is on 2024-01-08. The windows are:
    1: 2024-01-08 to 2024-04-07    5: 2025-01-08 to 2025-04-07
    2: 2024-04-08 to 2024-07-07    6: 2025-04-08 to 2025-07-07
    3: 2024-07-08 to 2024-10-07    7: 2025-07-08 to 2025-10-07
    4: 2024-10-08 to 2025-01-07    8: 2025-10-08 to 2026-01-07
  Discontinuation (withdrawal, death, stopping for toxicity) is in disposition.feature.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-FU-RESPONSE: a response assessment in every 3-month window --------------------------

  @JK500-FU-RESPONSE
  Scenario Outline: A response assessment within the first window, up to its last day, meets it
    Given the visit log:
      | subject | date         | event    | dose    | result |
      | S1      | 2024-01-08   | infusion | 1000000 |        |
      | S1      | <assessment> | response |         | PR     |
    When the protocol is audited as of "2024-04-07"
    Then there are no findings of JK500-FU-RESPONSE
    And JK500-FU-RESPONSE has 7 pending checks

    Examples: on the last day of the window
      | assessment |
      | 2024-04-07 |

    Examples: on the day of the first infusion
      | assessment |
      | 2024-01-08 |

  @JK500-FU-RESPONSE
  Scenario: A response assessment on the day after the window's last day is too late for it
    Given the visit log:
      | subject | date       | event    | dose    | result |
      | S1      | 2024-01-08 | infusion | 1000000 |        |
      | S1      | 2024-04-08 | response |         | PR     |
    When the protocol is audited as of "2024-07-07"
    Then there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-04-07"
    And there is exactly 1 finding of JK500-FU-RESPONSE
    And JK500-FU-RESPONSE has 6 pending checks

  @JK500-FU-RESPONSE
  Scenario Outline: A window is judged only once the data cut-off reaches its last day
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited as of "<cut-off>"
    Then there are no findings of JK500-FU-RESPONSE
    And JK500-FU-RESPONSE has 8 pending checks
    And the status of JK500-FU-RESPONSE for subject "S1" is pending because "after the data cut-off"

    Examples: the day before the first window's last day
      | cut-off    |
      | 2024-04-06 |

    Examples: the day of the first infusion
      | cut-off    |
      | 2024-01-08 |

  @JK500-FU-RESPONSE
  Scenario: No response assessment by the first window's last day is a deviation
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited as of "2024-04-07"
    Then there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-04-07"
    And there is exactly 1 finding of JK500-FU-RESPONSE
    And JK500-FU-RESPONSE has 7 pending checks
    And the status of JK500-FU-RESPONSE for subject "S1" is deviation

  @JK500-FU-RESPONSE
  Scenario: One assessment in each of the eight windows meets the whole follow-up
    Given the visit log:
      | subject | date       | event    | dose    | result |
      | S1      | 2024-01-08 | infusion | 1000000 |        |
      | S1      | 2024-03-01 | response |         | PR     |
      | S1      | 2024-06-03 | response |         | CR     |
      | S1      | 2024-09-02 | response |         | CR     |
      | S1      | 2024-12-02 | response |         | CR     |
      | S1      | 2025-03-03 | response |         | CR     |
      | S1      | 2025-06-02 | response |         | CR     |
      | S1      | 2025-09-01 | response |         | CR     |
      | S1      | 2025-12-01 | response |         | CR     |
    When the protocol is audited as of "2026-06-01"
    Then there are no findings of JK500-FU-RESPONSE
    And JK500-FU-RESPONSE has 0 pending checks
    And the status of JK500-FU-RESPONSE for subject "S1" is passed

  @JK500-FU-RESPONSE
  Scenario: Two assessments in one window do not make up for an empty window
    Given the visit log:
      | subject | date       | event    | dose    | result |
      | S1      | 2024-01-08 | infusion | 1000000 |        |
      | S1      | 2024-02-05 | response |         | SD     |
      | S1      | 2024-03-25 | response |         | PR     |
      | S1      | 2024-07-22 | response |         | CR     |
    When the protocol is audited as of "2024-10-07"
    Then there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-07-07"
    And there is exactly 1 finding of JK500-FU-RESPONSE

  @JK500-FU-RESPONSE
  Scenario: Follow-up ends 24 months after the first infusion: eight windows, no more
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited as of "2027-06-01"
    Then there are exactly 8 findings of JK500-FU-RESPONSE
    And there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2026-01-07"
    And JK500-FU-RESPONSE has 0 pending checks

  @JK500-FU-RESPONSE
  Scenario Outline: Windows count calendar months from the first infusion, clamped at month ends
    # First infusion on 2024-01-31: window 1 runs to 2024-04-29, window 2 from 2024-04-30.
    Given the visit log:
      | subject | date         | event    | dose    | result |
      | S1      | 2024-01-31   | infusion | 1000000 |        |
      | S1      | <assessment> | response |         | PR     |
    When the protocol is audited as of "2024-04-29"
    Then <outcome>

    Examples: on window 1's last day
      | assessment | outcome                                  |
      | 2024-04-29 | there are no findings of JK500-FU-RESPONSE |

    Examples: the next day, in window 2
      | assessment | outcome                                                            |
      | 2024-04-30 | there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-04-29" |

  @JK500-FU-RESPONSE
  Scenario: A subject never infused has no follow-up windows
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-01-02 | enrolment | 1          |
    When the protocol is audited as of "2026-06-01"
    Then there are no findings of JK500-FU-RESPONSE
    And the status of JK500-FU-RESPONSE for subject "S1" is not applicable

  # ---- JK500-FU-MRD: a bone-marrow MRD assessment in every 3-month window -------------------------

  @JK500-FU-MRD
  Scenario Outline: An MRD assessment within the first window, up to its last day, meets it
    Given the visit log:
      | subject | date         | event    | dose    | status   |
      | S1      | 2024-01-08   | infusion | 1000000 |          |
      | S1      | <assessment> | mrd      |         | positive |
    When the protocol is audited as of "2024-04-07"
    Then there are no findings of JK500-FU-MRD
    And JK500-FU-MRD has 7 pending checks

    Examples: on the last day of the window
      | assessment |
      | 2024-04-07 |

    Examples: on the window's first day
      | assessment |
      | 2024-01-08 |

  @JK500-FU-MRD
  Scenario Outline: No MRD assessment by a window's last day is a deviation, dated on that last day
    Given the visit log:
      | subject | date         | event    | dose    | status   |
      | S1      | 2024-01-08   | infusion | 1000000 |          |
      | S1      | <assessment> | mrd      |         | negative |
    When the protocol is audited as of "2024-07-07"
    Then there is a deviation of JK500-FU-MRD for subject "S1" on "<missed window>"
    And there is exactly 1 finding of JK500-FU-MRD
    And the status of JK500-FU-MRD for subject "S1" is deviation

    Examples: the assessment on the day after window 1's last day: window 1 is missed
      | assessment | missed window |
      | 2024-04-08 | 2024-04-07    |

    Examples: the assessment on window 1's last day: window 2 is missed
      | assessment | missed window |
      | 2024-04-07 | 2024-07-07    |

  @JK500-FU-MRD
  Scenario: Before the first window's last day MRD is pending, not a finding
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-01-08 | infusion | 1000000 |
    When the protocol is audited as of "2024-04-06"
    Then there are no findings of JK500-FU-MRD
    And JK500-FU-MRD has 8 pending checks
    And the status of JK500-FU-MRD for subject "S1" is pending

  @JK500-FU-MRD
  Scenario: MRD is judged apart from response: a response assessment does not count as MRD
    Given the visit log:
      | subject | date       | event    | dose    | result | status   |
      | S1      | 2024-01-08 | infusion | 1000000 |        |          |
      | S1      | 2024-03-04 | response |         | CR     |          |
      | S2      | 2024-01-08 | infusion | 1000000 |        |          |
      | S2      | 2024-03-04 | response |         | CR     |          |
      | S2      | 2024-03-04 | mrd      |         |        | negative |
    When the protocol is audited as of "2024-04-07"
    Then there is a deviation of JK500-FU-MRD for subject "S1" on "2024-04-07"
    And there are no findings of JK500-FU-MRD for subject "S2"
    And there are no findings of JK500-FU-RESPONSE
    And the status of JK500-FU-MRD for subject "S2" is pending
