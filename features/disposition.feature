Feature: Subjects who withdrew, died or stopped for toxicity are excused from what they could not receive
  A recorded discontinuation (reason: withdrew, died or toxicity) excuses the subject from six JK500
  infusions in all, from five fludarabine doses and from the fludarabine days, and from every
  follow-up window whose last day falls on or after the discontinuation date. Follow-up windows that
  ended before the discontinuation are still judged. An excused check is neither a pass nor a finding:
  its status is "excused", with the discontinuation as the reason. A discontinuation dated after the
  data cut-off is not used, so it excuses nothing in that audit.

  In the scenarios below the first JK500 infusion is on Monday 2024-01-08: the treatment period is
  over on 2024-01-29, and the first follow-up window runs from 2024-01-08 to 2024-04-07, the second
  from 2024-04-08 to 2024-07-07.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-TRT-TOTAL: not held to six infusions --------------------------------------------------

  @JK500-TRT-TOTAL
  Scenario Outline: A subject discontinued after two infusions is excused from six infusions
    Given the visit log:
      | subject | date       | event           | dose    | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |          |
      | S1      | 2024-01-10 | infusion        | 1000000 |          |
      | S1      | 2024-01-11 | discontinuation |         | <reason> |
    When the protocol is audited as of "2024-03-01"
    Then there are no findings of JK500-TRT-TOTAL
    And JK500-TRT-TOTAL has 0 pending checks
    And the status of JK500-TRT-TOTAL for subject "S1" is excused because "discontinuation on 2024-01-11"

    Examples:
      | reason   |
      | withdrew |
      | died     |
      | toxicity |

  @JK500-TRT-TOTAL
  Scenario: A discontinuation dated after the data cut-off does not excuse the missing infusions
    Given the visit log:
      | subject | date       | event           | dose    | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |          |
      | S1      | 2024-01-10 | infusion        | 1000000 |          |
      | S1      | 2024-02-15 | discontinuation |         | withdrew |
    When the protocol is audited as of "2024-02-01"
    Then there is a deviation of JK500-TRT-TOTAL for subject "S1" on "2024-01-29"
    And there is exactly 1 finding of JK500-TRT-TOTAL
    And the status of JK500-TRT-TOTAL for subject "S1" is deviation

  @JK500-TRT-TOTAL
  Scenario: A subject who received all six infusions and withdrew later has passed, not been excused
    Given the visit log:
      | subject | date       | event           | dose    | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |          |
      | S1      | 2024-01-10 | infusion        | 1000000 |          |
      | S1      | 2024-01-12 | infusion        | 1000000 |          |
      | S1      | 2024-01-15 | infusion        | 1000000 |          |
      | S1      | 2024-01-17 | infusion        | 1000000 |          |
      | S1      | 2024-01-19 | infusion        | 1000000 |          |
      | S1      | 2024-02-20 | discontinuation |         | withdrew |
    When the protocol is audited as of "2024-03-01"
    Then there are no findings of JK500-TRT-TOTAL
    And the status of JK500-TRT-TOTAL for subject "S1" is passed

  # ---- JK500-TRT-FLU-EACH-DAY and JK500-TRT-FLU-DAYS: lymphodepletion cut short ----------------------

  @JK500-TRT-FLU-EACH-DAY @JK500-TRT-FLU-DAYS
  Scenario: A subject who stopped for toxicity during lymphodepletion is excused, not left pending
    Given the visit log:
      | subject | date       | event            | dose | reason   |
      | S1      | 2024-01-01 | cyclophosphamide | 60   |          |
      | S1      | 2024-01-02 | fludarabine      | 25   |          |
      | S1      | 2024-01-03 | fludarabine      | 25   |          |
      | S1      | 2024-01-04 | discontinuation  |      | toxicity |
    When the protocol is audited as of "2024-03-01"
    Then there are no findings of JK500-TRT-FLU-EACH-DAY
    And there are no findings of JK500-TRT-FLU-DAYS
    And JK500-TRT-FLU-EACH-DAY has 0 pending checks
    And JK500-TRT-FLU-DAYS has 0 pending checks
    And the status of JK500-TRT-FLU-EACH-DAY for subject "S1" is not applicable because "no visit of lymphodepletion due yet: no first infusion recorded to count from"
    And the status of JK500-TRT-FLU-DAYS for subject "S1" is excused because "discontinuation on 2024-01-04"
    And the status of JK500-TRT-TOTAL for subject "S1" is excused

  @JK500-TRT-FLU-EACH-DAY @JK500-TRT-FLU-DAYS
  Scenario: Without a discontinuation the same subject stays pending: no first infusion, no judgement
    Given the visit log:
      | subject | date       | event            | dose |
      | S1      | 2024-01-01 | cyclophosphamide | 60   |
      | S1      | 2024-01-02 | fludarabine      | 25   |
      | S1      | 2024-01-03 | fludarabine      | 25   |
    When the protocol is audited as of "2024-03-01"
    Then there are no findings of JK500-TRT-FLU-EACH-DAY
    And JK500-TRT-FLU-EACH-DAY has 0 pending checks
    And JK500-TRT-FLU-DAYS has 2 pending checks
    And the status of JK500-TRT-FLU-DAYS for subject "S1" is pending

  # ---- JK500-FU-RESPONSE and JK500-FU-MRD: follow-up after a discontinuation -------------------------

  @JK500-FU-RESPONSE @JK500-FU-MRD
  Scenario: A subject who died in the first follow-up window is excused from every window
    Given the visit log:
      | subject | date       | event           | dose    | reason |
      | S1      | 2024-01-08 | infusion        | 1000000 |        |
      | S1      | 2024-02-01 | discontinuation |         | died   |
    When the protocol is audited as of "2026-06-01"
    Then there are no findings of JK500-FU-RESPONSE
    And there are no findings of JK500-FU-MRD
    And JK500-FU-RESPONSE has 0 pending checks
    And the status of JK500-FU-RESPONSE for subject "S1" is excused because "discontinuation on 2024-02-01"
    And the status of JK500-FU-MRD for subject "S1" is excused because "discontinuation on 2024-02-01"

  @JK500-FU-RESPONSE @JK500-FU-MRD
  Scenario Outline: A window ending on or after the discontinuation is excused; one ending before it is still judged
    Given the visit log:
      | subject | date                   | event           | dose    | reason   |
      | S1      | 2024-01-08             | infusion        | 1000000 |          |
      | S1      | <discontinuation date> | discontinuation |         | withdrew |
    When the protocol is audited as of "2026-06-01"
    Then <response outcome>
    And the status of JK500-FU-MRD for subject "S1" is <status>

    Examples: withdrew on window 1's last day: window 1 is excused
      | discontinuation date | response outcome                           | status   |
      | 2024-04-07           | there are no findings of JK500-FU-RESPONSE | excused  |

    Examples: withdrew on the next day: window 1, already over, is missed
      | discontinuation date | response outcome                                                            | status    |
      | 2024-04-08           | there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-04-07" | deviation |

  @JK500-FU-RESPONSE @JK500-FU-MRD
  Scenario: Windows before the discontinuation are judged, later ones excused
    Given the visit log:
      | subject | date       | event           | dose    | result | status   | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |        |          |          |
      | S1      | 2024-03-04 | response        |         | PR     |          |          |
      | S1      | 2024-03-04 | mrd             |         |        | positive |          |
      | S1      | 2024-08-01 | discontinuation |         |        |          | toxicity |
    When the protocol is audited as of "2026-06-01"
    Then there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-07-07"
    And there is exactly 1 finding of JK500-FU-RESPONSE
    And there is a deviation of JK500-FU-MRD for subject "S1" on "2024-07-07"
    And there is exactly 1 finding of JK500-FU-MRD
    And JK500-FU-RESPONSE has 0 pending checks

  @JK500-FU-RESPONSE @JK500-FU-MRD
  Scenario: A subject assessed in every window up to the discontinuation is excused from the later ones
    Given the visit log:
      | subject | date       | event           | dose    | result | status   | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |        |          |          |
      | S1      | 2024-03-04 | response        |         | PR     |          |          |
      | S1      | 2024-03-04 | mrd             |         |        | positive |          |
      | S1      | 2024-06-03 | response        |         | CR     |          |          |
      | S1      | 2024-06-03 | mrd             |         |        | negative |          |
      | S1      | 2024-08-01 | discontinuation |         |        |          | withdrew |
    When the protocol is audited as of "2026-06-01"
    Then there are no findings of JK500-FU-RESPONSE
    And there are no findings of JK500-FU-MRD
    And the status of JK500-FU-RESPONSE for subject "S1" is excused because "discontinuation on 2024-08-01"
    And the status of JK500-FU-MRD for subject "S1" is excused because "discontinuation on 2024-08-01"

  @JK500-FU-RESPONSE @JK500-FU-MRD
  Scenario: A discontinuation dated after the data cut-off excuses no window in that audit
    Given the visit log:
      | subject | date       | event           | dose    | reason   |
      | S1      | 2024-01-08 | infusion        | 1000000 |          |
      | S1      | 2024-05-01 | discontinuation |         | withdrew |
    When the protocol is audited as of "2024-04-07"
    Then there is a deviation of JK500-FU-RESPONSE for subject "S1" on "2024-04-07"
    And there is a deviation of JK500-FU-MRD for subject "S1" on "2024-04-07"
    And JK500-FU-RESPONSE has 7 pending checks
