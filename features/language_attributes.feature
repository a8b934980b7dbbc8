Feature: Subject attributes say to whom a rule applies
  A subject attribute read from any record type (sex from demographics, childbearing potential from the
  screening checklist) may filter the records a rule checks. The rule is then not applicable to the
  subjects it does not concern (men), instead of "excused"; a subject whose attribute is not recorded is
  checked all the same: passed if the check holds anyway, otherwise not evaluable, never dropped.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event demographics "Demographics" { sex: text }
      event screening "Screening checklist" { childbearing: boolean }
      event pregnancy_test "Pregnancy test" { positive: boolean required }
      event dosing "Study drug dose" { dose: decimal in mg required }

      subject sex = demographics.sex
      subject childbearing = screening.childbearing

      rule DEMO-PREG "Women of childbearing potential have a negative pregnancy test before each dose" {
          cites "the pregnancy-test rule"
          for each dosing where sex = "F" and childbearing
              require a pregnancy_test where not positive and date within 3 days before dosing.date
      }
      """

  @DEMO-PREG
  Scenario: A woman of childbearing potential dosed without a pregnancy test
    Given the visit log:
      | subject | date       | event        | sex | childbearing | dose |
      | F1      | 2024-01-01 | demographics | F   |              |      |
      | F1      | 2024-01-01 | screening    |     | yes          |      |
      | F1      | 2024-01-05 | dosing       |     |              | 10   |
    When the protocol is audited
    Then there is a deviation of DEMO-PREG for subject "F1" on "2024-01-05"

  @DEMO-PREG
  Scenario: The rule does not apply to men, nor to women who cannot become pregnant
    Given the visit log:
      | subject | date       | event        | sex | childbearing | dose |
      | M1      | 2024-01-01 | demographics | M   |              |      |
      | M1      | 2024-01-01 | screening    |     | yes          |      |
      | M1      | 2024-01-05 | dosing       |     |              | 10   |
      | F2      | 2024-01-01 | demographics | F   |              |      |
      | F2      | 2024-01-01 | screening    |     | no           |      |
      | F2      | 2024-01-05 | dosing       |     |              | 10   |
    When the protocol is audited
    Then there are no findings of DEMO-PREG
    And the status of DEMO-PREG for subject "M1" is not applicable
    And the status of DEMO-PREG for subject "F2" is not applicable

  @DEMO-PREG
  Scenario: A subject whose sex is not recorded is checked all the same
    Given the visit log:
      | subject | date       | event          | childbearing | positive | dose |
      | U1      | 2024-01-01 | screening      | yes          |          |      |
      | U1      | 2024-01-05 | dosing         |              |          | 10   |
      | U2      | 2024-01-01 | screening      | yes          |          |      |
      | U2      | 2024-01-04 | pregnancy_test |              | no       |      |
      | U2      | 2024-01-05 | dosing         |              |          | 10   |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-PREG for subject "U1" on "2024-01-05"
    And the status of DEMO-PREG for subject "U1" is not evaluable because "subject has no sex"
    And the status of DEMO-PREG for subject "U2" is passed
