Feature: Dose escalation: three subjects per dose group, and the Safety Review Committee's gate
  Registry, arm description: "According to the principle of dose escalation, 3 patients were assigned
  to each dose group. After completing the treatment of 3 patients in each dose group, the Safety
  Review Committee (SRC) discussed whether to enter the next dose group."
  A new dose group (2 or higher) opens with its first JK500 infusion; a subject's dose group is the one
  assigned at enrolment. A subject has finished treatment with their last JK500 infusion.
  Cohort: the new group may open only after three subjects of the previous group have finished
  treatment (a fourth subject in a group is allowed). SRC gate: before the new group opens, the SRC
  must have decided to escalate to that group, after the DLT window (28 days) following the last
  infusion of the previous group's 3rd subject to finish treatment. A decision dated the same day as
  the new group's first infusion counts (on or before). SRC decisions are trial-level: no subject.
  Both rules are judged for the trial as a whole.

  In the scenarios below, dose group 1 is S1, S2 and S3; S3 is the 3rd to finish, on 2024-01-15,
  so the DLT window ends on 2024-02-12 and the SRC may decide from 2024-02-13. Dose group 2 opens
  with S4's first infusion on 2024-03-01.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-ESC-SRC-GATE: an SRC decision to escalate, after the DLT window, before the group opens --

  @JK500-ESC-SRC-GATE
  Scenario Outline: An SRC decision to escalate after the DLT window, on or before the new group opens, is no deviation
    Given the visit log:
      | subject | date            | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20      | enrolment    | 1          |         |          |
      | S1      | 2024-01-01      | infusion     |            | 1000000 |          |
      | S1      | 2024-01-03      | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27      | enrolment    | 1          |         |          |
      | S2      | 2024-01-08      | infusion     |            | 1000000 |          |
      | S2      | 2024-01-10      | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02      | enrolment    | 1          |         |          |
      | S3      | 2024-01-13      | infusion     |            | 1000000 |          |
      | S3      | 2024-01-15      | infusion     |            | 1000000 |          |
      |         | <decision date> | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26      | enrolment    | 2          |         |          |
      | S4      | 2024-03-01      | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there are no findings of JK500-ESC-SRC-GATE
    And the status of JK500-ESC-SRC-GATE for the trial is passed

    Examples: decision on the same day as the new group's first infusion
      | decision date |
      | 2024-03-01    |

    Examples: decision on the first day after the DLT window
      | decision date |
      | 2024-02-13    |

  @JK500-ESC-SRC-GATE
  Scenario Outline: Dose group 2 opening without a valid SRC decision to escalate is a deviation
    Given the visit log:
      | subject | date            | event        | dose_group      | dose    | decision   |
      | S1      | 2023-12-20      | enrolment    | 1               |         |            |
      | S1      | 2024-01-01      | infusion     |                 | 1000000 |            |
      | S1      | 2024-01-03      | infusion     |                 | 1000000 |            |
      | S2      | 2023-12-27      | enrolment    | 1               |         |            |
      | S2      | 2024-01-08      | infusion     |                 | 1000000 |            |
      | S2      | 2024-01-10      | infusion     |                 | 1000000 |            |
      | S3      | 2024-01-02      | enrolment    | 1               |         |            |
      | S3      | 2024-01-13      | infusion     |                 | 1000000 |            |
      | S3      | 2024-01-15      | infusion     |                 | 1000000 |            |
      |         | <decision date> | src_decision | <decided group> |         | <decision> |
      | S4      | 2024-02-26      | enrolment    | 2               |         |            |
      | S4      | 2024-03-01      | infusion     |                 | 5000000 |            |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-03-01"
    And there is exactly 1 finding of JK500-ESC-SRC-GATE

    Examples: decision to escalate dated the day after the new group's first infusion
      | decision date | decision | decided group |
      | 2024-03-02    | escalate | 2             |

    Examples: decision to hold
      | decision date | decision | decided group |
      | 2024-02-20    | hold     | 2             |

    Examples: decision to stop
      | decision date | decision | decided group |
      | 2024-02-20    | stop     | 2             |

    Examples: decision to escalate on the last day of the 3rd subject's DLT window
      | decision date | decision | decided group |
      | 2024-02-12    | escalate | 2             |

    Examples: decision to escalate well before the 3rd subject's DLT window ended
      | decision date | decision | decided group |
      | 2024-02-01    | escalate | 2             |

    Examples: decision to escalate to another dose group
      | decision date | decision | decided group |
      | 2024-02-20    | escalate | 3             |

  @JK500-ESC-SRC-GATE
  Scenario: Dose group 2 opening with no SRC decision at all is a deviation
    Given the visit log:
      | subject | date       | event     | dose_group | dose    |
      | S1      | 2023-12-20 | enrolment | 1          |         |
      | S1      | 2024-01-03 | infusion  |            | 1000000 |
      | S2      | 2023-12-27 | enrolment | 1          |         |
      | S2      | 2024-01-10 | infusion  |            | 1000000 |
      | S3      | 2024-01-02 | enrolment | 1          |         |
      | S3      | 2024-01-15 | infusion  |            | 1000000 |
      | S4      | 2024-02-26 | enrolment | 2          |         |
      | S4      | 2024-03-01 | infusion  |            | 5000000 |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-03-01"
    And there is exactly 1 finding of JK500-ESC-SRC-GATE
    And the status of JK500-ESC-SRC-GATE for the trial is deviation

  @JK500-ESC-SRC-GATE
  Scenario: A hold followed by a timely decision to escalate is no deviation
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02 | enrolment    | 1          |         |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000 |          |
      |         | 2024-02-14 | src_decision | 2          |         | hold     |
      |         | 2024-02-28 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there are no findings of JK500-ESC-SRC-GATE

  @JK500-ESC-SRC-GATE
  Scenario: The window follows the 3rd subject to finish, not a later 4th subject
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02 | enrolment    | 1          |         |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000 |          |
      | S5      | 2024-01-20 | enrolment    | 1          |         |          |
      | S5      | 2024-02-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-13 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there are no findings of JK500-ESC-SRC-GATE

  @JK500-ESC-SRC-GATE
  Scenario: A dose group with fewer than 3 subjects cannot open the next one
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-20 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-03-01"
    And there is exactly 1 finding of JK500-ESC-SRC-GATE

  @JK500-ESC-SRC-GATE
  Scenario: The first dose group needs no SRC decision
    Given the visit log:
      | subject | date       | event     | dose_group | dose    |
      | S1      | 2023-12-20 | enrolment | 1          |         |
      | S1      | 2024-01-03 | infusion  |            | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-ESC-SRC-GATE
    And the status of JK500-ESC-SRC-GATE for the trial is not applicable

  @JK500-ESC-SRC-GATE
  Scenario: Dose group 3 is gated by dose group 2's 3rd subject
    Given the visit log:
      | subject | date       | event        | dose_group | dose     | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |          |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000  |          |
      | S2      | 2023-12-27 | enrolment    | 1          |          |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000  |          |
      | S3      | 2024-01-02 | enrolment    | 1          |          |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000  |          |
      |         | 2024-02-13 | src_decision | 2          |          | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |          |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000  |          |
      | S5      | 2024-02-26 | enrolment    | 2          |          |          |
      | S5      | 2024-03-04 | infusion     |            | 5000000  |          |
      | S6      | 2024-02-26 | enrolment    | 2          |          |          |
      | S6      | 2024-03-06 | infusion     |            | 5000000  |          |
      |         | 2024-04-02 | src_decision | 3          |          | escalate |
      | S7      | 2024-04-01 | enrolment    | 3          |          |          |
      | S7      | 2024-04-08 | infusion     |            | 30000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-04-08"
    And there is exactly 1 finding of JK500-ESC-SRC-GATE

  # The finding says when the gate opened and why: the window the decision had to fall in, counted from the
  # 3rd subject's last infusion (its subject and date), up to the new group's first infusion.

  @JK500-ESC-SRC-GATE
  Scenario: The SRC gate's finding says when the gate opened, and why
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02 | enrolment    | 1          |         |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000 |          |
      | S5      | 2024-01-20 | enrolment    | 1          |         |          |
      | S5      | 2024-02-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-12 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-03-01"
    And the finding of JK500-ESC-SRC-GATE for the trial names the window "src_decision window: after 2024-02-12, 28 days after cohort_complete.start for the previous dose_group: the 3rd subject's last infusion in dose group 1 (S3, 2024-01-15); on or before 2024-03-01, the first infusion of dose group 2 (S4, 2024-03-01)"

  @JK500-ESC-SRC-GATE
  Scenario: A decision on the day the gate opened is no deviation
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02 | enrolment    | 1          |         |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000 |          |
      | S5      | 2024-01-20 | enrolment    | 1          |         |          |
      | S5      | 2024-02-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-13 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there are no findings of JK500-ESC-SRC-GATE

  @JK500-ESC-SRC-GATE
  Scenario: A gate whose previous group never had a 3rd subject finish never opened
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-20 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-SRC-GATE for the trial on "2024-03-01"
    And the finding of JK500-ESC-SRC-GATE for the trial names the window "src_decision window: never opens: cohort_complete.start for the previous dose_group has not started (it starts at the 3rd subject's last infusion in dose group 1)"

  # ---- JK500-ESC-COHORT: three subjects of the previous group finish treatment first ----------------
  # Dose group 1 below: S1, S2 and S3 finish on 2024-01-03, 2024-01-10 and 2024-01-15 (the 3rd to
  # finish is S3). These scenarios assert only the cohort rule; the SRC gate is the block above.

  @JK500-ESC-COHORT
  Scenario Outline: Dose group 2 opening after three group 1 subjects have finished is no deviation
    Given the visit log:
      | subject | date            | event        | dose_group | dose    |
      | S1      | 2023-12-20      | enrolment    | 1          |         |
      | S1      | 2024-01-01      | infusion     |            | 1000000 |
      | S1      | 2024-01-03      | infusion     |            | 1000000 |
      | S2      | 2023-12-27      | enrolment    | 1          |         |
      | S2      | 2024-01-10      | infusion     |            | 1000000 |
      | S3      | 2024-01-02      | enrolment    | 1          |         |
      | S3      | 2024-01-13      | infusion     |            | 1000000 |
      | S3      | 2024-01-15      | infusion     |            | 1000000 |
      | S4      | 2024-01-10      | enrolment    | 2          |         |
      | S4      | <group 2 opens> | infusion     |            | 5000000 |
    When the protocol is audited
    Then there are no findings of JK500-ESC-COHORT
    And the status of JK500-ESC-COHORT for the trial is passed

    Examples: the day after the 3rd subject's last infusion
      | group 2 opens |
      | 2024-01-16    |

    Examples: well after, past the DLT window
      | group 2 opens |
      | 2024-03-01    |

  @JK500-ESC-COHORT
  Scenario Outline: Dose group 2 opening before three group 1 subjects have finished is a deviation
    Given the visit log:
      | subject | date            | event        | dose_group | dose    |
      | S1      | 2023-12-20      | enrolment    | 1          |         |
      | S1      | 2024-01-01      | infusion     |            | 1000000 |
      | S1      | 2024-01-03      | infusion     |            | 1000000 |
      | S2      | 2023-12-27      | enrolment    | 1          |         |
      | S2      | 2024-01-10      | infusion     |            | 1000000 |
      | S3      | 2024-01-02      | enrolment    | 1          |         |
      | S3      | 2024-01-13      | infusion     |            | 1000000 |
      | S3      | 2024-01-15      | infusion     |            | 1000000 |
      | S4      | 2024-01-10      | enrolment    | 2          |         |
      | S4      | <group 2 opens> | infusion     |            | 5000000 |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-COHORT for the trial on "<group 2 opens>"
    And there is exactly 1 finding of JK500-ESC-COHORT
    And the status of JK500-ESC-COHORT for the trial is deviation

    Examples: on the day of the 3rd subject's last infusion
      | group 2 opens |
      | 2024-01-15    |

    Examples: between the 3rd subject's infusions, while still in treatment
      | group 2 opens |
      | 2024-01-14    |

    Examples: after only two subjects had finished
      | group 2 opens |
      | 2024-01-11    |

  @JK500-ESC-COHORT
  Scenario: A dose group with only two subjects cannot open the next one, however long the wait
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      |         | 2024-02-20 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-COHORT for the trial on "2024-03-01"
    And there is exactly 1 finding of JK500-ESC-COHORT

  @JK500-ESC-COHORT
  Scenario: A fourth subject treated in dose group 1 after dose group 2 opened is allowed
    Given the visit log:
      | subject | date       | event        | dose_group | dose    | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |         |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000 |          |
      | S2      | 2023-12-27 | enrolment    | 1          |         |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000 |          |
      | S3      | 2024-01-02 | enrolment    | 1          |         |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000 |          |
      |         | 2024-02-13 | src_decision | 2          |         | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |         |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000 |          |
      | S5      | 2024-02-26 | enrolment    | 1          |         |          |
      | S5      | 2024-03-08 | infusion     |            | 1000000 |          |
    When the protocol is audited
    Then there are no findings of JK500-ESC-COHORT
    And there are no findings of JK500-ESC-SRC-GATE

  @JK500-ESC-COHORT
  Scenario: Dose group 3 waits for three dose group 2 subjects, not dose group 1's
    Given the visit log:
      | subject | date       | event        | dose_group | dose     | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |          |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000  |          |
      | S2      | 2023-12-27 | enrolment    | 1          |          |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000  |          |
      | S3      | 2024-01-02 | enrolment    | 1          |          |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000  |          |
      |         | 2024-02-13 | src_decision | 2          |          | escalate |
      | S4      | 2024-02-26 | enrolment    | 2          |          |          |
      | S4      | 2024-03-01 | infusion     |            | 5000000  |          |
      | S5      | 2024-02-26 | enrolment    | 2          |          |          |
      | S5      | 2024-03-04 | infusion     |            | 5000000  |          |
      |         | 2024-04-03 | src_decision | 3          |          | escalate |
      | S7      | 2024-04-01 | enrolment    | 3          |          |          |
      | S7      | 2024-04-08 | infusion     |            | 30000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-COHORT for the trial on "2024-04-08"
    And there is exactly 1 finding of JK500-ESC-COHORT

  @JK500-ESC-COHORT
  Scenario: Skipping dose group 2 is a deviation: dose group 3 has no previous group's subjects to wait for
    Given the visit log:
      | subject | date       | event        | dose_group | dose     | decision |
      | S1      | 2023-12-20 | enrolment    | 1          |          |          |
      | S1      | 2024-01-03 | infusion     |            | 1000000  |          |
      | S2      | 2023-12-27 | enrolment    | 1          |          |          |
      | S2      | 2024-01-10 | infusion     |            | 1000000  |          |
      | S3      | 2024-01-02 | enrolment    | 1          |          |          |
      | S3      | 2024-01-15 | infusion     |            | 1000000  |          |
      | S4      | 2024-02-20 | enrolment    | 3          |          |          |
      | S4      | 2024-03-01 | infusion     |            | 30000000 |          |
    When the protocol is audited
    Then there is a deviation of JK500-ESC-COHORT for the trial on "2024-03-01"
    And there is exactly 1 finding of JK500-ESC-COHORT

  @JK500-ESC-COHORT
  Scenario: While only dose group 1 is open there is nothing to judge
    Given the visit log:
      | subject | date       | event     | dose_group | dose    |
      | S1      | 2023-12-20 | enrolment | 1          |         |
      | S1      | 2024-01-03 | infusion  |            | 1000000 |
      | S2      | 2023-12-27 | enrolment | 1          |         |
      | S2      | 2024-01-10 | infusion  |            | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-ESC-COHORT
    And the status of JK500-ESC-COHORT for the trial is not applicable
