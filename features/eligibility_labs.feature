Feature: Screening chemistry: creatinine, bilirubin, AST and ALT
  Exclusion criterion 6: serum creatinine, serum total bilirubin, or aspartate (AST) and alanine
  (ALT) aminotransferase above 2x the upper limit of normal (ULN).
  Each lab gives its own ULN in the result's unit. Exactly 2x ULN is allowed; anything above is a
  deviation, dated on the lab. "AST and ALT > 2x ULN" is read protectively: either one above 2x ULN
  is a deviation, not only both. Screening labs count in the 28 days before the first JK500
  infusion, up to and including its day; without the test in that period, or without its ULN, the
  criterion cannot be evaluated.
  First infusion on 2024-03-01 (2024 is a leap year): 28 days before is 2024-02-02.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-EXCL-CREATININE -----------------------------------------------------------------

  @JK500-EXCL-CREATININE
  Scenario Outline: Creatinine at most 2x ULN is no deviation
    Given the visit log:
      | subject | date       | event    | test       | result   | uln   | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | <result> | <uln> |         |
      | S1      | 2024-03-01 | infusion |            |          |       | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CREATININE
    And the status of JK500-EXCL-CREATININE for subject "S1" is passed

    Examples: exactly 2x ULN
      | result | uln |
      | 200    | 100 |
      | 1.4    | 0.7 |

    Examples: normal
      | result | uln |
      | 45     | 100 |

  @JK500-EXCL-CREATININE
  Scenario Outline: Creatinine above 2x ULN is a deviation
    Given the visit log:
      | subject | date       | event    | test       | result   | uln   | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | <result> | <uln> |         |
      | S1      | 2024-03-01 | infusion |            |          |       | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-CREATININE for subject "S1" on "2024-02-02"
    And there is exactly 1 finding of JK500-EXCL-CREATININE

    Examples: just above 2x ULN
      | result | uln |
      | 201    | 100 |
      | 1.41   | 0.7 |

    Examples: a millionth above 2x ULN (results are compared to six decimal places)
      | result     | uln |
      | 200.000001 | 100 |

  @JK500-EXCL-CREATININE
  Scenario Outline: Only creatinine in the screening period counts
    Given the visit log:
      | subject | date       | event    | test       | result | uln | dose    |
      | S1      | <high>     | lab      | creatinine | 350    | 100 |         |
      | S1      | 2024-02-20 | lab      | creatinine | 60     | 100 |         |
      | S1      | 2024-03-01 | infusion |            |        |     | 1000000 |
      | S1      | 2024-03-04 | infusion |            |        |     | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CREATININE

    Examples: a high value 29 days before the first infusion
      | high       |
      | 2024-02-01 |

    Examples: a high value after the first infusion
      | high       |
      | 2024-03-02 |

  @JK500-EXCL-CREATININE
  Scenario: One high creatinine in the screening period is a deviation, whatever the other results
    Given the visit log:
      | subject | date       | event    | test       | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | 60     | 100 |         |
      | S1      | 2024-02-20 | lab      | creatinine | 250    | 100 |         |
      | S1      | 2024-02-27 | lab      | creatinine | 70     | 100 |         |
      | S1      | 2024-03-01 | infusion |            |        |     | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-CREATININE for subject "S1" on "2024-02-20"
    And there is exactly 1 finding of JK500-EXCL-CREATININE

  @JK500-EXCL-CREATININE
  Scenario: A creatinine without its ULN cannot be evaluated
    Given the visit log:
      | subject | date       | event    | test       | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | 60     | 100 |         |
      | S1      | 2024-02-20 | lab      | creatinine | 90     |     |         |
      | S1      | 2024-03-01 | infusion |            |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-CREATININE for subject "S1" on "2024-02-20"
    And the status of JK500-EXCL-CREATININE for subject "S1" is not evaluable because "no uln"

  @JK500-EXCL-CREATININE
  Scenario: Other labs do not stand in for a creatinine
    Given the visit log:
      | subject | date       | event    | test      | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | bilirubin | 10     | 21  |         |
      | S1      | 2024-03-01 | infusion |           |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-CREATININE for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-CREATININE for subject "S1" is not evaluable because "no serum creatinine in the screening period"

  @JK500-EXCL-CREATININE
  Scenario: A creatinine taken 29 days before the first infusion is too old
    Given the visit log:
      | subject | date       | event    | test       | result | uln | dose    |
      | S1      | 2024-02-01 | lab      | creatinine | 60     | 100 |         |
      | S1      | 2024-03-01 | infusion |            |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-CREATININE for subject "S1" on "2024-03-01"
    And there is exactly 1 finding of JK500-EXCL-CREATININE

  @JK500-EXCL-CREATININE @JK500-EXCL-BILIRUBIN @JK500-EXCL-TRANSAMINASES
  Scenario: No screening labs at all: none of the three criteria can be evaluated, none passes
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-03-01 | infusion | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-CREATININE for subject "S1" on "2024-03-01"
    And there is a not evaluable finding of JK500-EXCL-BILIRUBIN for subject "S1" on "2024-03-01"
    And there is a not evaluable finding of JK500-EXCL-TRANSAMINASES for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-CREATININE for subject "S1" is not evaluable
    And the status of JK500-EXCL-BILIRUBIN for subject "S1" is not evaluable
    And the status of JK500-EXCL-TRANSAMINASES for subject "S1" is not evaluable

  @JK500-EXCL-CREATININE
  Scenario: Creatinine is not judged for a subject never infused
    Given the visit log:
      | subject | date       | event | test       | result | uln |
      | S1      | 2024-02-20 | lab   | creatinine | 350    | 100 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CREATININE
    And the status of JK500-EXCL-CREATININE for subject "S1" is not applicable because "no first infusion recorded"

  # ---- JK500-EXCL-BILIRUBIN ------------------------------------------------------------------

  @JK500-EXCL-BILIRUBIN
  Scenario Outline: Total bilirubin at most 2x ULN is no deviation
    Given the visit log:
      | subject | date       | event    | test      | result   | uln   | dose    |
      | S1      | 2024-02-02 | lab      | bilirubin | <result> | <uln> |         |
      | S1      | 2024-03-01 | infusion |           |          |       | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-BILIRUBIN
    And the status of JK500-EXCL-BILIRUBIN for subject "S1" is passed

    Examples: exactly 2x ULN
      | result | uln |
      | 42     | 21  |
      | 2.4    | 1.2 |

    Examples: normal
      | result | uln |
      | 12     | 21  |

  @JK500-EXCL-BILIRUBIN
  Scenario Outline: Total bilirubin above 2x ULN is a deviation
    Given the visit log:
      | subject | date       | event    | test      | result   | uln   | dose    |
      | S1      | <date>     | lab      | bilirubin | <result> | <uln> |         |
      | S1      | 2024-03-01 | infusion |           |          |       | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-BILIRUBIN for subject "S1" on "<date>"
    And there is exactly 1 finding of JK500-EXCL-BILIRUBIN

    Examples: just above 2x ULN
      | date       | result | uln |
      | 2024-02-02 | 43     | 21  |
      | 2024-02-02 | 2.5    | 1.2 |

    Examples: on the day of the first infusion
      | date       | result | uln |
      | 2024-03-01 | 60     | 21  |

  @JK500-EXCL-BILIRUBIN
  Scenario: A high bilirubin 29 days before the first infusion, with a normal one since, is no deviation
    Given the visit log:
      | subject | date       | event    | test      | result | uln | dose    |
      | S1      | 2024-02-01 | lab      | bilirubin | 60     | 21  |         |
      | S1      | 2024-02-20 | lab      | bilirubin | 15     | 21  |         |
      | S1      | 2024-03-01 | infusion |           |        |     | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-BILIRUBIN

  @JK500-EXCL-BILIRUBIN
  Scenario: A bilirubin without its ULN cannot be evaluated
    Given the visit log:
      | subject | date       | event    | test      | result | uln | dose    |
      | S1      | 2024-02-20 | lab      | bilirubin | 15     |     |         |
      | S1      | 2024-03-01 | infusion |           |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-BILIRUBIN for subject "S1" on "2024-02-20"
    And the status of JK500-EXCL-BILIRUBIN for subject "S1" is not evaluable because "no uln"

  @JK500-EXCL-BILIRUBIN
  Scenario: Without a bilirubin in the screening period the criterion cannot be evaluated
    Given the visit log:
      | subject | date       | event    | test      | result | uln | dose    |
      | S1      | 2024-02-01 | lab      | bilirubin | 15     | 21  |         |
      | S1      | 2024-03-01 | infusion |           |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-BILIRUBIN for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-BILIRUBIN for subject "S1" is not evaluable because "no total bilirubin in the screening period"

  # ---- JK500-EXCL-TRANSAMINASES --------------------------------------------------------------

  @JK500-EXCL-TRANSAMINASES
  Scenario Outline: AST and ALT both at most 2x ULN is no deviation
    Given the visit log:
      | subject | date       | event    | test | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | AST  | <ast>  | 40  |         |
      | S1      | 2024-02-02 | lab      | ALT  | <alt>  | 40  |         |
      | S1      | 2024-03-01 | infusion |      |        |     | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-TRANSAMINASES
    And the status of JK500-EXCL-TRANSAMINASES for subject "S1" is passed

    Examples:
      | ast | alt |
      | 80  | 80  |
      | 25  | 30  |

  @JK500-EXCL-TRANSAMINASES
  Scenario Outline: Either AST or ALT above 2x ULN is a deviation
    Given the visit log:
      | subject | date       | event    | test | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | AST  | <ast>  | 40  |         |
      | S1      | 2024-02-02 | lab      | ALT  | <alt>  | 40  |         |
      | S1      | 2024-03-01 | infusion |      |        |     | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-TRANSAMINASES for subject "S1" on "2024-02-02"
    And there is exactly 1 finding of JK500-EXCL-TRANSAMINASES

    Examples: AST one unit above 2x ULN, ALT normal
      | ast | alt |
      | 81  | 30  |

    Examples: ALT one unit above 2x ULN, AST normal
      | ast | alt |
      | 30  | 81  |

  @JK500-EXCL-TRANSAMINASES
  Scenario: AST and ALT both above 2x ULN are one breach of one criterion: one deviation, both results its evidence
    Given the visit log:
      | subject | date       | event    | test | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | AST  | 90     | 40  |         |
      | S1      | 2024-02-02 | lab      | ALT  | 85     | 40  |         |
      | S1      | 2024-03-01 | infusion |      |        |     | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-TRANSAMINASES for subject "S1" on "2024-02-02"
    And there is exactly 1 finding of JK500-EXCL-TRANSAMINASES
    And the finding of JK500-EXCL-TRANSAMINASES for subject "S1" lists 3 records

  @JK500-EXCL-TRANSAMINASES
  Scenario Outline: Without both AST and ALT in the screening period the criterion cannot be evaluated
    Given the visit log:
      | subject | date         | event    | test    | result | uln | dose    |
      | S1      | 2024-02-02   | lab      | <test>  | 30     | 40  |         |
      | S1      | <other date> | lab      | <other> | 30     | 40  |         |
      | S1      | 2024-03-01   | infusion |         |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-TRANSAMINASES for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-TRANSAMINASES for subject "S1" is not evaluable because "<reason>"

    Examples: the other test taken 29 days before the first infusion
      | test | other | other date | reason                         |
      | AST  | ALT   | 2024-02-01 | no ALT in the screening period |
      | ALT  | AST   | 2024-02-01 | no AST in the screening period |

    Examples: the other test not done; creatinine does not stand in for it
      | test | other      | other date | reason                         |
      | AST  | creatinine | 2024-02-02 | no ALT in the screening period |

  @JK500-EXCL-TRANSAMINASES
  Scenario: An ALT without its ULN cannot be evaluated
    Given the visit log:
      | subject | date       | event    | test | result | uln | dose    |
      | S1      | 2024-02-02 | lab      | AST  | 30     | 40  |         |
      | S1      | 2024-02-02 | lab      | ALT  | 30     |     |         |
      | S1      | 2024-03-01 | infusion |      |        |     | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-TRANSAMINASES for subject "S1" on "2024-02-02"
    And the status of JK500-EXCL-TRANSAMINASES for subject "S1" is not evaluable because "no uln"
