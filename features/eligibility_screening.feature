Feature: The investigator's screening checklist
  Exclusion criterion 8: any other condition that may keep the subject from completing the study or
  put them at significant risk, in the investigator's opinion. The opinion itself cannot be
  re-derived from data; the audit checks that the investigator recorded the subject eligible on a
  screening checklist on or before the enrolment.
  Exclusion criterion 4: no active systemic infection, as recorded on the screening checklist.
  Exclusion criterion 5: no major surgery expected during the trial. A log can show only what the
  investigator expected at screening; surgery done later is not checked against this criterion.
  Each check is made for every enrolment; a subject not enrolled is not judged.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-ELIG-CONFIRMED ------------------------------------------------------------------

  @JK500-ELIG-CONFIRMED
  Scenario Outline: Eligibility confirmed on or before the enrolment day is no deviation
    Given the visit log:
      | subject | date             | event     | eligible | dose_group |
      | S1      | <screening date> | screening | yes      |            |
      | S1      | 2024-02-01       | enrolment |          | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-CONFIRMED
    And the status of JK500-ELIG-CONFIRMED for subject "S1" is passed

    Examples:
      | screening date |
      | 2024-02-01     |
      | 2024-01-31     |

  @JK500-ELIG-CONFIRMED
  Scenario Outline: Eligibility not confirmed by the enrolment day is a deviation on the enrolment
    Given the visit log:
      | subject | date             | event     | eligible   | dose_group |
      | S1      | <screening date> | screening | <eligible> |            |
      | S1      | 2024-02-01       | enrolment |            | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-CONFIRMED for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-ELIG-CONFIRMED

    Examples: confirmed the day after the enrolment
      | screening date | eligible |
      | 2024-02-02     | yes      |

    Examples: the investigator recorded the subject not eligible
      | screening date | eligible |
      | 2024-01-31     | no       |

  @JK500-ELIG-CONFIRMED
  Scenario: Enrolment without any screening checklist is a deviation, not a pass
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-CONFIRMED for subject "S1" on "2024-02-01"
    And the status of JK500-ELIG-CONFIRMED for subject "S1" is deviation

  @JK500-ELIG-CONFIRMED
  Scenario: A confirmation on re-screening, after an earlier "not eligible", is no deviation
    Given the visit log:
      | subject | date       | event     | eligible | dose_group |
      | S1      | 2024-01-10 | screening | no       |            |
      | S1      | 2024-01-31 | screening | yes      |            |
      | S1      | 2024-02-01 | enrolment |          | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-CONFIRMED

  @JK500-ELIG-CONFIRMED
  Scenario: Confirmation is not judged for a subject screened but not enrolled
    Given the visit log:
      | subject | date       | event     | eligible |
      | S1      | 2024-01-31 | screening | no       |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-CONFIRMED
    And the status of JK500-ELIG-CONFIRMED for subject "S1" is not applicable because "no enrolment recorded"

  # ---- JK500-EXCL-INFECTION ------------------------------------------------------------------
  # The deviation is dated on the screening checklist that records the infection.

  @JK500-EXCL-INFECTION
  Scenario: A checklist that records an active systemic infection is a deviation
    Given the visit log:
      | subject | date       | event     | eligible | active_infection | dose_group |
      | S1      | 2024-01-31 | screening | yes      | yes              |            |
      | S1      | 2024-02-01 | enrolment |          |                  | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-INFECTION for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-EXCL-INFECTION

  @JK500-EXCL-INFECTION
  Scenario: A checklist that records no active infection is no deviation
    Given the visit log:
      | subject | date       | event     | eligible | active_infection | dose_group |
      | S1      | 2024-01-31 | screening | yes      | no               |            |
      | S1      | 2024-02-01 | enrolment |          |                  | 1          |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-INFECTION
    And the status of JK500-EXCL-INFECTION for subject "S1" is passed

  @JK500-EXCL-INFECTION
  Scenario: A checklist that leaves the infection question blank cannot be evaluated
    Given the visit log:
      | subject | date       | event     | eligible | active_infection | dose_group |
      | S1      | 2024-01-31 | screening | yes      |                  |            |
      | S1      | 2024-02-01 | enrolment |          |                  | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-INFECTION for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-INFECTION for subject "S1" is not evaluable because "no active_infection"

  @JK500-EXCL-INFECTION
  Scenario: Without a screening checklist the infection criterion cannot be evaluated
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-INFECTION for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-INFECTION for subject "S1" is not evaluable because "no screening checklist recorded"

  @JK500-EXCL-INFECTION
  Scenario: Infection is not judged for a subject screened but not enrolled
    Given the visit log:
      | subject | date       | event     | eligible | active_infection |
      | S1      | 2024-01-31 | screening | no       | yes              |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-INFECTION
    And the status of JK500-EXCL-INFECTION for subject "S1" is not applicable because "no enrolment recorded"

  # ---- JK500-EXCL-PLANNED-SURGERY ------------------------------------------------------------
  # The deviation is dated on the screening checklist that expects the surgery.

  @JK500-EXCL-PLANNED-SURGERY
  Scenario: A checklist that expects major surgery during the trial is a deviation
    Given the visit log:
      | subject | date       | event     | eligible | surgery_planned | dose_group |
      | S1      | 2024-01-31 | screening | yes      | yes             |            |
      | S1      | 2024-02-01 | enrolment |          |                 | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-PLANNED-SURGERY for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-EXCL-PLANNED-SURGERY

  @JK500-EXCL-PLANNED-SURGERY
  Scenario: A checklist that expects no major surgery is no deviation
    Given the visit log:
      | subject | date       | event     | eligible | surgery_planned | dose_group |
      | S1      | 2024-01-31 | screening | yes      | no              |            |
      | S1      | 2024-02-01 | enrolment |          |                 | 1          |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-PLANNED-SURGERY
    And the status of JK500-EXCL-PLANNED-SURGERY for subject "S1" is passed

  @JK500-EXCL-PLANNED-SURGERY
  Scenario: Major surgery done later, though not expected at screening, is not checked by this rule
    Given the visit log:
      | subject | date       | event     | eligible | surgery_planned | dose_group | procedure   | major |
      | S1      | 2024-01-31 | screening | yes      | no              |            |             |       |
      | S1      | 2024-02-01 | enrolment |          |                 | 1          |             |       |
      | S1      | 2024-05-20 | surgery   |          |                 |            | splenectomy | yes   |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-PLANNED-SURGERY

  @JK500-EXCL-PLANNED-SURGERY
  Scenario: A checklist that leaves the surgery question blank cannot be evaluated
    Given the visit log:
      | subject | date       | event     | eligible | surgery_planned | dose_group |
      | S1      | 2024-01-31 | screening | yes      |                 |            |
      | S1      | 2024-02-01 | enrolment |          |                 | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-PLANNED-SURGERY for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-PLANNED-SURGERY for subject "S1" is not evaluable because "no surgery_planned"

  @JK500-EXCL-PLANNED-SURGERY
  Scenario: Without a screening checklist the planned-surgery criterion cannot be evaluated
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-PLANNED-SURGERY for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-PLANNED-SURGERY for subject "S1" is not evaluable because "no screening checklist recorded"

  # ---- Without a screening checklist the history-based exclusions cannot be judged ----------------

  @JK500-EXCL-OTHER-TRIAL @JK500-EXCL-RECENT-DISEASE @JK500-EXCL-RECENT-SURGERY
  Scenario: Without a screening checklist, recent trials, diseases and surgery are not evaluable
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-03-01 | infusion | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-OTHER-TRIAL for subject "S1" on "2024-03-01"
    And there is a not evaluable finding of JK500-EXCL-RECENT-DISEASE for subject "S1" on "2024-03-01"
    And there is a not evaluable finding of JK500-EXCL-RECENT-SURGERY for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-RECENT-SURGERY for subject "S1" is not evaluable because "no screening checklist recorded"
