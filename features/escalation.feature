Feature: Dose escalation gated by the Safety Review Committee
  Arm description: 3 patients per dose group; the SRC decides on the next dose group.
  A new dose group (2 or higher) opens with its first JK500 infusion. Before it, the SRC must have
  decided to escalate to that group, after the DLT window (28 days) following the last infusion of
  the previous group's 3rd subject to finish treatment. A decision dated the same day as the new
  group's first infusion counts (on or before). SRC decisions are trial-level: no subject.

  In the scenarios below, dose group 1 is S1, S2 and S3; S3 is the 3rd to finish, on 2024-01-15,
  so the DLT window ends on 2024-02-12 and the SRC may decide from 2024-02-13. Dose group 2 opens
  with S4's first infusion on 2024-03-01.

  Background:
    Given the JK500 protocol rules

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
