Feature: Informed consent
  Inclusion criterion 4: the subject or the guardian signs the informed consent, before any study
  procedure.
  Who signed is recorded on each consent (signed_by: subject or guardian). Study procedures are
  screening serology and labs, cyclophosphamide, fludarabine, IL-2 and JK500 infusions; a consent
  signed on the day of the first procedure counts as before it. History records (diagnosis, medical
  history, surgery) are dated when the event happened, not when it was collected, so they are not
  procedures.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-CONSENT-SIGNER ------------------------------------------------------------------

  @JK500-CONSENT-SIGNER
  Scenario Outline: Consent signed by the subject or the guardian is no deviation
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by |
      | S1      | 2024-01-10 | consent | 2012-05-01 | <signer>  |
    When the protocol is audited
    Then there are no findings of JK500-CONSENT-SIGNER
    And the status of JK500-CONSENT-SIGNER for subject "S1" is passed

    Examples:
      | signer   |
      | subject  |
      | guardian |

  @JK500-CONSENT-SIGNER
  Scenario Outline: Consent signed by anyone else is a deviation
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by |
      | S1      | 2024-01-10 | consent | 2012-05-01 | <signer>  |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-SIGNER for subject "S1" on "2024-01-10"
    And there is exactly 1 finding of JK500-CONSENT-SIGNER

    Examples:
      | signer       |
      | investigator |
      | nurse        |

  @JK500-CONSENT-SIGNER
  Scenario: A consent that does not say who signed it cannot be evaluated
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by |
      | S1      | 2024-01-10 | consent | 2012-05-01 |           |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-CONSENT-SIGNER for subject "S1" on "2024-01-10"
    And the status of JK500-CONSENT-SIGNER for subject "S1" is not evaluable because "no signed_by"

  @JK500-CONSENT-SIGNER
  Scenario: Every consent is checked, a re-consent included
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by    |
      | S1      | 2024-01-10 | consent | 2012-05-01 | guardian     |
      | S1      | 2024-04-02 | consent | 2012-05-01 | investigator |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-SIGNER for subject "S1" on "2024-04-02"
    And there is exactly 1 finding of JK500-CONSENT-SIGNER

  # ---- JK500-CONSENT-FIRST -------------------------------------------------------------------
  # Consent on 2024-01-10; the first procedure on the same day or the day before.

  @JK500-CONSENT-FIRST
  Scenario Outline: A first procedure on the day of consent is no deviation
    Given the visit log:
      | subject | date       | event       | birth_date | signed_by | test   | positive   | result   | dose   |
      | S1      | 2024-01-10 | consent     | 2012-05-01 | guardian  |        |            |          |        |
      | S1      | 2024-01-10 | <procedure> |            |           | <test> | <positive> | <result> | <dose> |
    When the protocol is audited
    Then there are no findings of JK500-CONSENT-FIRST
    And the status of JK500-CONSENT-FIRST for subject "S1" is passed

    Examples:
      | procedure | test       | positive | result | dose    |
      | serology  | HIV-Ab     | no       |        |         |
      | lab       | creatinine |          | 50     |         |
      | infusion  |            |          |        | 1000000 |

  @JK500-CONSENT-FIRST
  Scenario Outline: Any study procedure the day before consent is a deviation
    Given the visit log:
      | subject | date       | event       | birth_date | signed_by | test   | positive   | result   | dose   |
      | S1      | 2024-01-09 | <procedure> |            |           | <test> | <positive> | <result> | <dose> |
      | S1      | 2024-01-10 | consent     | 2012-05-01 | guardian  |        |            |          |        |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-FIRST for subject "S1" on "2024-01-09"
    And there is exactly 1 finding of JK500-CONSENT-FIRST

    Examples:
      | procedure        | test       | positive | result | dose    |
      | serology         | HIV-Ab     | no       |        |         |
      | lab              | creatinine |          | 50     |         |
      | cyclophosphamide |            |          |        | 60      |
      | fludarabine      |            |          |        | 25      |
      | il2              |            |          |        | 100     |
      | infusion         |            |          |        | 1000000 |

  @JK500-CONSENT-FIRST
  Scenario: Only the first procedure is judged, and the finding is dated on it
    Given the visit log:
      | subject | date       | event    | birth_date | signed_by | test       | result | dose    |
      | S1      | 2024-01-09 | lab      |            |           | creatinine | 50     |         |
      | S1      | 2024-01-10 | consent  | 2012-05-01 | guardian  |            |        |         |
      | S1      | 2024-02-01 | infusion |            |           |            |        | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-FIRST for subject "S1" on "2024-01-09"
    And there is exactly 1 finding of JK500-CONSENT-FIRST

  @JK500-CONSENT-FIRST
  Scenario: A procedure with no consent at all is a deviation, not a pass
    Given the visit log:
      | subject | date       | event | test       | result |
      | S1      | 2024-01-09 | lab   | creatinine | 50     |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-FIRST for subject "S1" on "2024-01-09"
    And the status of JK500-CONSENT-FIRST for subject "S1" is deviation

  @JK500-CONSENT-FIRST
  Scenario: History records dated before consent are not study procedures
    Given the visit log:
      | subject | date       | event           | birth_date | signed_by | disease | condition | significant | procedure    | major | test       | result |
      | S1      | 2023-06-01 | medical_history |            |           |         | pneumonia | yes         |              |       |            |        |
      | S1      | 2023-07-01 | surgery         |            |           |         |           |             | appendectomy | yes   |            |        |
      | S1      | 2024-01-05 | diagnosis       |            |           | AML     |           |             |              |       |            |        |
      | S1      | 2024-01-10 | consent         | 2012-05-01 | guardian  |         |           |             |              |       |            |        |
      | S1      | 2024-01-12 | lab             |            |           |         |           |             |              |       | creatinine | 50     |
    When the protocol is audited
    Then there are no findings of JK500-CONSENT-FIRST
    And the status of JK500-CONSENT-FIRST for subject "S1" is passed

  @JK500-CONSENT-FIRST
  Scenario: A subject with a consent and no procedure yet is not judged
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by |
      | S1      | 2024-01-10 | consent | 2012-05-01 | guardian  |
    When the protocol is audited
    Then there are no findings of JK500-CONSENT-FIRST
    And the status of JK500-CONSENT-FIRST for subject "S1" is not applicable because "no first procedure recorded"

  @JK500-CONSENT-FIRST
  Scenario: The screening checklist and enrolment are study procedures too
    Given the visit log:
      | subject | date       | event     | eligible | dose_group | birth_date | signed_by |
      | S1      | 2024-01-08 | screening | yes      |            |            |           |
      | S1      | 2024-01-08 | enrolment |          | 1          |            |           |
      | S1      | 2024-01-20 | consent   |          |            | 2015-01-01 | guardian  |
    When the protocol is audited
    Then there is a deviation of JK500-CONSENT-FIRST for subject "S1" on "2024-01-08"
