Feature: Adverse events in the DLT window are graded by NCI CTCAE 5.0
  Registry, primary outcome: "DLT evaluation is defined as adverse events or laboratory abnormalities
  that occur within 4 weeks after investigational drug administration ... (grade according to NCI
  CTCAE 5.0)."
  The DLT window runs from the first JK500 infusion to 28 days after the last, both days included.
  Every adverse event dated (at onset) in that window must carry a grade from 1 to 5 and the grading
  "CTCAE 5.0"; a missing grade or grading is a deviation, not a pass.

  In the scenarios below S1's infusions are on 2024-01-08 and 2024-01-10, so the DLT window runs from
  2024-01-08 to 2024-02-07.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-SAF-AE-GRADED: grade 1 to 5 by CTCAE 5.0 for every AE in the DLT window ---------------

  @JK500-SAF-AE-GRADED
  Scenario Outline: An adverse event graded 1 to 5 by CTCAE 5.0 in the DLT window is no deviation
    Given the visit log:
      | subject | date       | event         | dose    | term  | grade   | grading   |
      | S1      | 2024-01-08 | infusion      | 1000000 |       |         |           |
      | S1      | 2024-01-10 | infusion      | 1000000 |       |         |           |
      | S1      | <onset>    | adverse_event |         | fever | <grade> | CTCAE 5.0 |
    When the protocol is audited
    Then there are no findings of JK500-SAF-AE-GRADED
    And the status of JK500-SAF-AE-GRADED for subject "S1" is passed

    Examples: on the day of the first infusion
      | onset      | grade |
      | 2024-01-08 | 1     |

    Examples: on the last day of the DLT window
      | onset      | grade |
      | 2024-02-07 | 3     |

    Examples: grade 5, the highest
      | onset      | grade |
      | 2024-01-20 | 5     |

  @JK500-SAF-AE-GRADED
  Scenario Outline: An adverse event in the DLT window without a CTCAE 5.0 grade of 1 to 5 is a deviation
    Given the visit log:
      | subject | date       | event         | dose    | term  | grade   | grading   |
      | S1      | 2024-01-08 | infusion      | 1000000 |       |         |           |
      | S1      | 2024-01-10 | infusion      | 1000000 |       |         |           |
      | S1      | <onset>    | adverse_event |         | fever | <grade> | <grading> |
    When the protocol is audited
    Then there is a deviation of JK500-SAF-AE-GRADED for subject "S1" on "<onset>"
    And there is exactly 1 finding of JK500-SAF-AE-GRADED
    And the status of JK500-SAF-AE-GRADED for subject "S1" is deviation

    Examples: no grade and no grading, on the last day of the DLT window
      | onset      | grade | grading   |
      | 2024-02-07 |       |           |

    Examples: no grade, on the day of the first infusion
      | onset      | grade | grading   |
      | 2024-01-08 |       | CTCAE 5.0 |

    Examples: a grade but no grading
      | onset      | grade | grading   |
      | 2024-01-20 | 2     |           |

    Examples: graded by an older CTCAE version
      | onset      | grade | grading    |
      | 2024-01-20 | 2     | CTCAE 4.03 |

    Examples: a grade outside 1 to 5
      | onset      | grade | grading   |
      | 2024-01-20 | 0     | CTCAE 5.0 |
      | 2024-01-20 | 6     | CTCAE 5.0 |

  @JK500-SAF-AE-GRADED
  Scenario Outline: An ungraded adverse event outside the DLT window is not judged by this rule
    Given the visit log:
      | subject | date       | event         | dose    | term  |
      | S1      | 2024-01-08 | infusion      | 1000000 |       |
      | S1      | 2024-01-10 | infusion      | 1000000 |       |
      | S1      | <onset>    | adverse_event |         | fever |
    When the protocol is audited
    Then there are no findings of JK500-SAF-AE-GRADED
    And the status of JK500-SAF-AE-GRADED for subject "S1" is not applicable

    Examples: the day after the DLT window
      | onset      |
      | 2024-02-08 |

    Examples: the day before the first infusion
      | onset      |
      | 2024-01-07 |

  @JK500-SAF-AE-GRADED
  Scenario: The DLT window follows the last infusion: a later infusion extends it
    Given the visit log:
      | subject | date       | event         | dose    | term     |
      | S1      | 2024-01-08 | infusion      | 1000000 |          |
      | S1      | 2024-01-10 | infusion      | 1000000 |          |
      | S1      | 2024-01-12 | infusion      | 1000000 |          |
      | S1      | 2024-02-08 | adverse_event |         | headache |
    When the protocol is audited
    Then there is a deviation of JK500-SAF-AE-GRADED for subject "S1" on "2024-02-08"
    And there is exactly 1 finding of JK500-SAF-AE-GRADED

  @JK500-SAF-AE-GRADED
  Scenario: Each adverse event is judged: only the ungraded one is reported
    Given the visit log:
      | subject | date       | event         | dose    | term     | grade | grading   |
      | S1      | 2024-01-08 | infusion      | 1000000 |          |       |           |
      | S1      | 2024-01-10 | infusion      | 1000000 |          |       |           |
      | S1      | 2024-01-09 | adverse_event |         | fever    | 2     | CTCAE 5.0 |
      | S1      | 2024-01-15 | adverse_event |         | rash     |       |           |
      | S1      | 2024-01-20 | adverse_event |         | nausea   | 1     | CTCAE 5.0 |
    When the protocol is audited
    Then there is a deviation of JK500-SAF-AE-GRADED for subject "S1" on "2024-01-15"
    And there is exactly 1 finding of JK500-SAF-AE-GRADED

  @JK500-SAF-AE-GRADED
  Scenario: An adverse event of a subject never infused has no DLT window to fall in
    Given the visit log:
      | subject | date       | event         | term  |
      | S1      | 2024-01-08 | adverse_event | fever |
    When the protocol is audited
    Then there are no findings of JK500-SAF-AE-GRADED
    And the status of JK500-SAF-AE-GRADED for subject "S1" is not applicable

  @JK500-SAF-AE-GRADED
  Scenario: With a single infusion the DLT window runs 28 days from it
    Given the visit log:
      | subject | date       | event         | dose    | term  | grade | grading   |
      | S1      | 2024-03-01 | infusion      | 1000000 |       |       |           |
      | S1      | 2024-03-10 | adverse_event |         | fever | 7     | CTCAE 4.0 |
    When the protocol is audited
    Then there is a deviation of JK500-SAF-AE-GRADED for subject "S1" on "2024-03-10"
