Feature: Interleukin-2 before each JK500 infusion
  Registry record, treatment details: "On the day of each JK500 infusion, interleukin-2 (IL-2)
  100 WU/m2 is given subcutaneously 0.5 to 1 hour before the infusion."
  0.5 to 1 hour is read in whole minutes, both ends included: the IL-2 dose must be recorded on the
  infusion's day, 30 to 60 minutes before the infusion's start time. The IL-2 dose may differ from
  100 WU/m2 by 10% either way, both bounds included. Clock times are HH:MM.

  In the scenarios below the JK500 infusion starts at 09:30 on 2024-01-08.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-TRT-IL2-TIMING: IL-2 30 to 60 minutes before each infusion ----------------------------

  @JK500-TRT-IL2-TIMING
  Scenario Outline: IL-2 given 30 to 60 minutes before the infusion, both ends included, is no deviation
    Given the visit log:
      | subject | date       | event    | dose    | time       |
      | S1      | 2024-01-08 | il2      | 100     | <IL-2 at>  |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30      |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-TIMING
    And the status of JK500-TRT-IL2-TIMING for subject "S1" is passed

    Examples: 60 minutes before
      | IL-2 at |
      | 08:30   |

    Examples: 45 minutes before
      | IL-2 at |
      | 08:45   |

    Examples: 30 minutes before
      | IL-2 at |
      | 09:00   |

  @JK500-TRT-IL2-TIMING
  Scenario Outline: IL-2 given outside 30 to 60 minutes before the infusion is a deviation, dated at the infusion
    Given the visit log:
      | subject | date       | event    | dose    | time       |
      | S1      | 2024-01-08 | il2      | 100     | <IL-2 at>  |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30      |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING

    Examples: 61 minutes before
      | IL-2 at |
      | 08:29   |

    Examples: 29 minutes before
      | IL-2 at |
      | 09:01   |

    Examples: at the start of the infusion
      | IL-2 at |
      | 09:30   |

    Examples: after the infusion started
      | IL-2 at |
      | 10:00   |

  @JK500-TRT-IL2-TIMING
  Scenario: An infusion with no IL-2 recorded is a deviation, not a pass
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And the status of JK500-TRT-IL2-TIMING for subject "S1" is deviation

  @JK500-TRT-IL2-TIMING
  Scenario: IL-2 given on the day before the infusion does not count
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-07 | il2      | 100     | 09:00 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-TIMING
  Scenario: Each infusion needs its own IL-2: only the infusion without one is reported
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 09:00 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
      | S1      | 2024-01-10 | infusion | 1000000 | 09:30 |
      | S1      | 2024-01-12 | il2      | 100     | 13:15 |
      | S1      | 2024-01-12 | infusion | 1000000 | 14:00 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-10"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-TIMING
  Scenario: An IL-2 dose without its time cannot be judged
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     |       |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING
    And the status of JK500-TRT-IL2-TIMING for subject "S1" is not evaluable because "il2 has no time"

  @JK500-TRT-IL2-TIMING
  Scenario: An infusion without its start time cannot be judged against a timed IL-2 dose
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 09:00 |
      | S1      | 2024-01-08 | infusion | 1000000 |       |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING
    And the status of JK500-TRT-IL2-TIMING for subject "S1" is not evaluable because "infusion has no time"

  @JK500-TRT-IL2-TIMING
  Scenario: An infusion without its start time and with no IL-2 that day is still a deviation
    Given the visit log:
      | subject | date       | event    | dose    | time |
      | S1      | 2024-01-08 | infusion | 1000000 |      |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-TIMING for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-TIMING
  Scenario: One timed IL-2 dose in the window is enough, even beside an untimed one
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 09:00 |
      | S1      | 2024-01-08 | il2      | 100     |       |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-TIMING

  # ---- JK500-TRT-IL2-WITH-INFUSION: IL-2 only on an infusion day ---------------------------------

  @JK500-TRT-IL2-WITH-INFUSION
  Scenario: IL-2 on the morning of each infusion
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 08:15 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:00 |
      | S1      | 2024-01-10 | il2      | 100     | 08:15 |
      | S1      | 2024-01-10 | infusion | 1000000 | 09:00 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-WITH-INFUSION
    And the status of JK500-TRT-IL2-WITH-INFUSION for subject "S1" is passed

  @JK500-TRT-IL2-WITH-INFUSION
  Scenario: IL-2 the day before an infusion is a deviation: a seventh dose, on a day without JK500
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-07 | il2      | 100     | 20:00 |
      | S1      | 2024-01-08 | il2      | 100     | 08:15 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:00 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-WITH-INFUSION for subject "S1" on "2024-01-07"
    And there is exactly 1 finding of JK500-TRT-IL2-WITH-INFUSION
    And there are no findings of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-WITH-INFUSION
  Scenario: Without any infusion recorded, IL-2 is a deviation, not a pass
    Given the visit log:
      | subject | date       | event | dose | time  |
      | S1      | 2024-01-08 | il2   | 100  | 08:15 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-WITH-INFUSION for subject "S1" on "2024-01-08"

  # ---- JK500-TRT-IL2-DAILY: one IL-2 dose a day ------------------------------------------------------

  @JK500-TRT-IL2-DAILY
  Scenario: A second IL-2 dose on an infusion day is a deviation
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 08:15 |
      | S1      | 2024-01-08 | il2      | 100     | 08:30 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:00 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-DAILY for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-DAILY
    And there are no findings of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-DAILY
  Scenario: One IL-2 dose on each of two infusion days
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      | 100     | 08:15 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:00 |
      | S1      | 2024-01-09 | il2      | 100     | 08:15 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-DAILY

  # ---- JK500-TRT-IL2-DOSE: 100 WU/m2, within 10% -----------------------------------------------------

  @JK500-TRT-IL2-DOSE
  Scenario Outline: An IL-2 dose within 10% of 100 WU/m2, bounds included, is no deviation
    Given the visit log:
      | subject | date       | event | dose   | time  |
      | S1      | 2024-01-08 | il2   | <dose> | 09:00 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-DOSE
    And the status of JK500-TRT-IL2-DOSE for subject "S1" is passed

    Examples:
      | dose |
      | 100  |
      | 90   |
      | 110  |

  @JK500-TRT-IL2-DOSE
  Scenario Outline: An IL-2 dose just beyond 10% of 100 WU/m2 is a deviation
    Given the visit log:
      | subject | date       | event | dose   | time  |
      | S1      | 2024-01-08 | il2   | <dose> | 09:00 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-IL2-DOSE for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-DOSE

    Examples:
      | dose   |
      | 89.99  |
      | 110.01 |
      | 200    |

  @JK500-TRT-IL2-DOSE
  Scenario: An IL-2 record without its dose cannot be judged, though its timing can
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | il2      |         | 09:00 |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-TRT-IL2-DOSE for subject "S1" on "2024-01-08"
    And there is exactly 1 finding of JK500-TRT-IL2-DOSE
    And the status of JK500-TRT-IL2-DOSE for subject "S1" is not evaluable because "il2 has no dose"
    And there are no findings of JK500-TRT-IL2-TIMING

  @JK500-TRT-IL2-DOSE
  Scenario: A subject with no IL-2 recorded has no IL-2 dose to judge
    Given the visit log:
      | subject | date       | event    | dose    | time  |
      | S1      | 2024-01-08 | infusion | 1000000 | 09:30 |
    When the protocol is audited
    Then there are no findings of JK500-TRT-IL2-DOSE
    And the status of JK500-TRT-IL2-DOSE for subject "S1" is not applicable
    And the status of JK500-TRT-IL2-TIMING for subject "S1" is deviation
