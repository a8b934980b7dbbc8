Feature: Visit-log columns an event type does not declare, and rejected rows
  A site's export may carry a column the protocol does not declare for an event type: a unit beside
  each lab result, a comment. Its values are ignored, with one warning per file and column saying how
  many were ignored, and the rows are audited as if the column were absent: one extra column must not
  cost the site every lab. A log mixing event types under one header leaves the other types' columns
  empty, and an empty value is no warning. With --strict-columns such a row is rejected instead (as
  before); a rejected row names its subject and date as written, and is not audited.
  First infusion on 2024-03-01; screening labs count from 2024-02-02.

  Background:
    Given the JK500 protocol rules

  @JK500-EXCL-CREATININE
  Scenario: A lab whose row gives a unit is audited, the unit ignored with one warning
    Given the visit log:
      | subject | date       | event    | test       | result | uln | unit   | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | 250    | 100 | umol/L |         |
      | S1      | 2024-02-03 | lab      | bilirubin  | 10     | 20  | umol/L |         |
      | S1      | 2024-03-01 | infusion |            |        |     |        | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-CREATININE for subject "S1" on "2024-02-02"
    And the column "unit" of the visit log is ignored in 2 rows of lab
    And 0 rows of the visit log are rejected

  @JK500-EXCL-CREATININE
  Scenario: A column another event type of the log declares, empty on the lab, is no warning
    Given the visit log:
      | subject | date       | event    | test       | result | uln | unit | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | 150    | 100 |      |         |
      | S1      | 2024-03-01 | infusion |            |        |     |      | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-CREATININE
    And the status of JK500-EXCL-CREATININE for subject "S1" is passed
    And no column of the visit log is ignored

  @JK500-EXCL-CREATININE
  Scenario: With strict columns, a lab whose row gives a unit is rejected with its subject and date
    Given the visit log:
      | subject | date       | event    | test       | result | uln | unit   | dose    |
      | S1      | 2024-02-02 | lab      | creatinine | 250    | 100 | umol/L |         |
      | S1      | 2024-03-01 | infusion |            |        |     |        | 1000000 |
    When the protocol is audited with strict columns
    Then there is a not evaluable finding of JK500-EXCL-CREATININE for subject "S1" on "2024-03-01"
    And line 2 of the visit log is rejected for subject "S1" on "2024-02-02" because "lab has no field 'unit'"
    And 1 row of the visit log is rejected
    And no column of the visit log is ignored
