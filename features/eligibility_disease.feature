Feature: The leukemia: diagnosis, refractory or relapsed disease, excluded types and syndromes
  Inclusion criterion 2: acute myeloid leukemia diagnosed by the revised WHO criteria of 2016.
  Inclusion criterion 3: no complete remission (CR) after two standard-dose inductions, or relapse
  within six months after CR. "Refractory" is read as at least two standard inductions and no CR
  date recorded; six months are calendar months, clamped at month ends (31 August + 6 months is
  29 February in a leap year).
  Exclusion criterion 1: no acute promyelocytic (APL), chronic myelocytic (CML) or mixed-lineage
  (MPAL) leukemia, and no known central nervous system leukemia.
  Exclusion criterion 2: no AML with a congenital syndrome (Down syndrome, Fanconi anemia, Bloom
  syndrome, Koch's syndrome, congenital aplastic anemia). The medical history counts as complete
  once the investigator's screening checklist is recorded.
  Each check is made for every enrolment; a subject not enrolled is not judged.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-ELIG-DIAGNOSIS ------------------------------------------------------------------

  @JK500-ELIG-DIAGNOSIS
  Scenario: AML by the WHO 2016 criteria is no deviation
    Given the visit log:
      | subject | date       | event     | disease | classification | dose_group |
      | S1      | 2024-01-05 | diagnosis | AML     | WHO 2016       |            |
      | S1      | 2024-02-01 | enrolment |         |                | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-DIAGNOSIS
    And the status of JK500-ELIG-DIAGNOSIS for subject "S1" is passed

  @JK500-ELIG-DIAGNOSIS
  Scenario Outline: Another disease, or AML by another classification, is a deviation on the enrolment
    Given the visit log:
      | subject | date       | event     | disease   | classification   | dose_group |
      | S1      | 2024-01-05 | diagnosis | <disease> | <classification> |            |
      | S1      | 2024-02-01 | enrolment |           |                  | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-DIAGNOSIS for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-ELIG-DIAGNOSIS

    Examples:
      | disease | classification |
      | AML     | WHO 2008       |
      | AML     | FAB            |
      | APL     | WHO 2016       |
      | MDS     | WHO 2016       |

  @JK500-ELIG-DIAGNOSIS
  Scenario: One AML diagnosis by WHO 2016 is enough, whatever else the history holds
    Given the visit log:
      | subject | date       | event     | disease | classification | dose_group |
      | S1      | 2023-06-05 | diagnosis | MDS     | WHO 2016       |            |
      | S1      | 2024-01-05 | diagnosis | AML     | WHO 2016       |            |
      | S1      | 2024-02-01 | enrolment |         |                | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-DIAGNOSIS

  @JK500-ELIG-DIAGNOSIS
  Scenario: Enrolment without any diagnosis cannot be evaluated for AML by WHO 2016
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-ELIG-DIAGNOSIS for subject "S1" on "2024-02-01"
    And the status of JK500-ELIG-DIAGNOSIS for subject "S1" is not evaluable because "no diagnosis recorded"

  @JK500-ELIG-DIAGNOSIS
  Scenario: An AML diagnosis without its classification cannot be evaluated
    Given the visit log:
      | subject | date       | event     | disease | classification | dose_group |
      | S1      | 2024-01-05 | diagnosis | AML     |                |            |
      | S1      | 2024-02-01 | enrolment |         |                | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-ELIG-DIAGNOSIS for subject "S1" on "2024-02-01"
    And the status of JK500-ELIG-DIAGNOSIS for subject "S1" is not evaluable because "no classification"

  @JK500-ELIG-DIAGNOSIS
  Scenario: An earlier AML diagnosis by another classification does not settle an unclassified one
    Given the visit log:
      | subject | date       | event     | disease | classification | dose_group |
      | S1      | 2023-01-05 | diagnosis | AML     | WHO 2008       |            |
      | S1      | 2024-01-05 | diagnosis | AML     |                |            |
      | S1      | 2024-02-01 | enrolment |         |                | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-ELIG-DIAGNOSIS for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-ELIG-DIAGNOSIS

  @JK500-ELIG-DIAGNOSIS
  Scenario: A diagnosis without an enrolment is not judged
    Given the visit log:
      | subject | date       | event     | disease | classification |
      | S1      | 2024-01-05 | diagnosis | APL     | WHO 2016       |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-DIAGNOSIS
    And the status of JK500-ELIG-DIAGNOSIS for subject "S1" is not applicable because "no enrolment recorded"

  # ---- JK500-EXCL-LEUKEMIA-TYPE --------------------------------------------------------------
  # The rule checks each enrolment: the deviation is dated on the enrolment, with the diagnosis that shows
  # the excluded leukemia as its evidence.

  @JK500-EXCL-LEUKEMIA-TYPE
  Scenario Outline: An excluded leukemia is a deviation
    Given the visit log:
      | subject | date       | event     | disease   | classification | cns_leukemia | dose_group |
      | S1      | 2024-01-05 | diagnosis | <disease> | WHO 2016       | <cns>        |            |
      | S1      | 2024-02-01 | enrolment |           |                |              | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-EXCL-LEUKEMIA-TYPE

    Examples: acute promyelocytic, chronic myelocytic or mixed-lineage leukemia
      | disease | cns |
      | APL     | no  |
      | CML     | no  |
      | MPAL    | no  |

    Examples: AML with known central nervous system leukemia
      | disease | cns |
      | AML     | yes |

    Examples: the disease decides even when the CNS status is not recorded
      | disease | cns |
      | APL     |     |

  @JK500-EXCL-LEUKEMIA-TYPE
  Scenario: AML without CNS leukemia is no deviation
    Given the visit log:
      | subject | date       | event     | disease | classification | cns_leukemia | dose_group |
      | S1      | 2024-01-05 | diagnosis | AML     | WHO 2016       | no           |            |
      | S1      | 2024-02-01 | enrolment |         |                |              | 1          |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-LEUKEMIA-TYPE
    And the status of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" is passed

  @JK500-EXCL-LEUKEMIA-TYPE
  Scenario: AML whose CNS status is not recorded cannot be evaluated
    Given the visit log:
      | subject | date       | event     | disease | classification | cns_leukemia | dose_group |
      | S1      | 2024-01-05 | diagnosis | AML     | WHO 2016       |              |            |
      | S1      | 2024-02-01 | enrolment |         |                |              | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" is not evaluable because "no cns_leukemia"

  @JK500-EXCL-LEUKEMIA-TYPE
  Scenario: Enrolment without any diagnosis cannot be evaluated for an excluded leukemia
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-LEUKEMIA-TYPE for subject "S1" is not evaluable because "no diagnosis recorded"

  # ---- JK500-ELIG-REFRACTORY -----------------------------------------------------------------
  # The induction and remission history is recorded on 2024-08-20; enrolment is on 2024-09-02.

  @JK500-ELIG-REFRACTORY
  Scenario Outline: Two or more standard inductions without CR is refractory disease
    Given the visit log:
      | subject | date       | event           | standard_inductions | dose_group |
      | S1      | 2024-08-20 | disease_history | <inductions>        |            |
      | S1      | 2024-09-02 | enrolment       |                     | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-REFRACTORY
    And the status of JK500-ELIG-REFRACTORY for subject "S1" is passed

    Examples:
      | inductions |
      | 2          |
      | 3          |

  @JK500-ELIG-REFRACTORY
  Scenario Outline: Relapse within six months after CR is eligible, even after a single induction
    Given the visit log:
      | subject | date       | event           | standard_inductions | cr_date   | relapse_date   | dose_group |
      | S1      | 2024-08-20 | disease_history | 1                   | <cr date> | <relapse date> |            |
      | S1      | 2024-09-02 | enrolment       |                     |           |                | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-REFRACTORY

    Examples: six months to the day
      | cr date    | relapse date |
      | 2024-01-15 | 2024-07-15   |

    Examples: CR on 31 August: six months end on 29 February in a leap year
      | cr date    | relapse date |
      | 2023-08-31 | 2024-02-29   |

    Examples: CR on 31 March: six months end on 30 September
      | cr date    | relapse date |
      | 2023-03-31 | 2023-09-30   |

    Examples: relapse a few weeks after CR
      | cr date    | relapse date |
      | 2024-04-01 | 2024-05-10   |

  @JK500-ELIG-REFRACTORY
  Scenario Outline: Relapse more than six months after CR is a deviation on the enrolment
    Given the visit log:
      | subject | date       | event           | standard_inductions | cr_date   | relapse_date   | dose_group |
      | S1      | 2024-08-20 | disease_history | 1                   | <cr date> | <relapse date> |            |
      | S1      | 2024-09-02 | enrolment       |                     |           |                | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-REFRACTORY for subject "S1" on "2024-09-02"
    And there is exactly 1 finding of JK500-ELIG-REFRACTORY

    Examples: six months and a day
      | cr date    | relapse date |
      | 2024-01-15 | 2024-07-16   |

    Examples: CR on 31 August, relapse on 1 March
      | cr date    | relapse date |
      | 2023-08-31 | 2024-03-01   |

    Examples: CR on 31 March, relapse on 1 October
      | cr date    | relapse date |
      | 2023-03-31 | 2023-10-01   |

    Examples: a "relapse" dated before the CR
      | cr date    | relapse date |
      | 2024-01-15 | 2024-01-10   |

  @JK500-ELIG-REFRACTORY
  Scenario: Two inductions do not make the disease refractory once CR was reached
    Given the visit log:
      | subject | date       | event           | standard_inductions | cr_date    | relapse_date | dose_group |
      | S1      | 2024-08-20 | disease_history | 2                   | 2023-01-15 | 2024-01-10   |            |
      | S1      | 2024-09-02 | enrolment       |                     |            |              | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-REFRACTORY for subject "S1" on "2024-09-02"

  @JK500-ELIG-REFRACTORY
  Scenario: An early relapse counts even when the number of inductions is not recorded
    Given the visit log:
      | subject | date       | event           | standard_inductions | cr_date    | relapse_date | dose_group |
      | S1      | 2024-08-20 | disease_history |                     | 2023-08-31 | 2024-02-29   |            |
      | S1      | 2024-09-02 | enrolment       |                     |            |              | 1          |
    When the protocol is audited
    Then there are no findings of JK500-ELIG-REFRACTORY

  @JK500-ELIG-REFRACTORY
  Scenario: Without CR, a history that does not give the number of inductions cannot be evaluated
    Given the visit log:
      | subject | date       | event           | standard_inductions | dose_group |
      | S1      | 2024-08-20 | disease_history |                     |            |
      | S1      | 2024-09-02 | enrolment       |                     | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-ELIG-REFRACTORY for subject "S1" on "2024-09-02"
    And the status of JK500-ELIG-REFRACTORY for subject "S1" is not evaluable because "no standard_inductions"

  @JK500-ELIG-REFRACTORY
  Scenario: Enrolment without an induction and remission history cannot be evaluated
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-09-02 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-ELIG-REFRACTORY for subject "S1" on "2024-09-02"
    And the status of JK500-ELIG-REFRACTORY for subject "S1" is not evaluable because "no induction and remission history recorded"

  # ---- JK500-EXCL-CONGENITAL -----------------------------------------------------------------
  # The rule checks each enrolment: the deviation is dated on the enrolment, with the medical-history
  # record of the syndrome as its evidence.

  @JK500-EXCL-CONGENITAL
  Scenario Outline: AML with a congenital syndrome in the medical history is a deviation
    Given the visit log:
      | subject | date       | event           | condition  | eligible | dose_group |
      | S1      | 2012-03-10 | medical_history | <syndrome> |          |            |
      | S1      | 2024-01-29 | screening       |            | yes      |            |
      | S1      | 2024-02-01 | enrolment       |            |          | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-CONGENITAL for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-EXCL-CONGENITAL

    Examples:
      | syndrome                   |
      | Down syndrome              |
      | Fanconi anemia             |
      | Bloom syndrome             |
      | Koch's syndrome            |
      | congenital aplastic anemia |

  @JK500-EXCL-CONGENITAL
  Scenario: Other conditions in the medical history are no deviation
    Given the visit log:
      | subject | date       | event           | condition | significant | eligible | dose_group |
      | S1      | 2015-06-01 | medical_history | asthma    | no          |          |            |
      | S1      | 2023-11-20 | medical_history | pneumonia | yes         |          |            |
      | S1      | 2024-01-29 | screening       |           |             | yes      |            |
      | S1      | 2024-02-01 | enrolment       |           |             |          | 1          |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CONGENITAL
    And the status of JK500-EXCL-CONGENITAL for subject "S1" is passed

  @JK500-EXCL-CONGENITAL
  Scenario: Without a screening checklist an empty medical history cannot be evaluated
    Given the visit log:
      | subject | date       | event     | dose_group |
      | S1      | 2024-02-01 | enrolment | 1          |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-CONGENITAL for subject "S1" on "2024-02-01"
    And the status of JK500-EXCL-CONGENITAL for subject "S1" is not evaluable because "no screening checklist recorded"

  @JK500-EXCL-CONGENITAL
  Scenario: A recorded syndrome is a deviation even before the screening checklist
    Given the visit log:
      | subject | date       | event           | condition     | dose_group |
      | S1      | 2012-03-10 | medical_history | Down syndrome |            |
      | S1      | 2024-02-01 | enrolment       |               | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-CONGENITAL for subject "S1" on "2024-02-01"
    And there is exactly 1 finding of JK500-EXCL-CONGENITAL

  @JK500-EXCL-CONGENITAL
  Scenario: A subject not enrolled is not judged
    Given the visit log:
      | subject | date       | event           | condition     | eligible |
      | S1      | 2012-03-10 | medical_history | Down syndrome |          |
      | S1      | 2024-01-29 | screening       |               | no       |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CONGENITAL
    And the status of JK500-EXCL-CONGENITAL for subject "S1" is not applicable because "no enrolment recorded"

  @JK500-ELIG-REFRACTORY
  Scenario Outline: A complete history that shows neither refractory disease nor early relapse is a deviation
    Given the visit log:
      | subject | date       | event           | standard_inductions | cr_date   | relapse_date | dose_group |
      | S1      | 2024-08-20 | disease_history | <inductions>        | <cr date> |              |            |
      | S1      | 2024-09-02 | enrolment       |                     |           |              | 1          |
    When the protocol is audited
    Then there is a deviation of JK500-ELIG-REFRACTORY for subject "S1" on "2024-09-02"

    Examples:
      | inductions | cr date    |
      | 1          |            |
      | 2          | 2023-06-01 |
