Feature: Screening virology
  Exclusion criterion 3: no active virus infection: HIV antibody (HIV-Ab), hepatitis B surface or
  E antigen (HBsAg, HBeAg), hepatitis C antibody (HCV-Ab) or treponema pallidum antibody (TP-Ab)
  positive at screening.
  The registry names no length for the screening period: screening tests count in the 28 days
  before the first JK500 infusion, up to and including its day. All five tests are needed in that
  period; without one of them the criterion cannot be evaluated. A positive result is a deviation,
  dated on the positive test.
  First infusion on 2024-03-01 (2024 is a leap year): 28 days before is 2024-02-02.

  Background:
    Given the JK500 protocol rules

  # ---- JK500-EXCL-VIROLOGY -------------------------------------------------------------------

  @JK500-EXCL-VIROLOGY
  Scenario Outline: All five tests negative in the screening period is no deviation
    Given the visit log:
      | subject | date        | event    | test   | positive | dose    |
      | S1      | <test date> | serology | HIV-Ab | no       |         |
      | S1      | <test date> | serology | HBsAg  | no       |         |
      | S1      | <test date> | serology | HBeAg  | no       |         |
      | S1      | <test date> | serology | HCV-Ab | no       |         |
      | S1      | <test date> | serology | TP-Ab  | no       |         |
      | S1      | 2024-03-01  | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-VIROLOGY
    And the status of JK500-EXCL-VIROLOGY for subject "S1" is passed

    Examples: tested 28 days before the first infusion
      | test date  |
      | 2024-02-02 |

    Examples: tested on the day of the first infusion
      | test date  |
      | 2024-03-01 |

  @JK500-EXCL-VIROLOGY
  Scenario Outline: Any one test positive in the screening period is a deviation
    Given the visit log:
      | subject | date       | event    | test   | positive | dose    |
      | S1      | 2024-02-02 | serology | HIV-Ab | <hiv>    |         |
      | S1      | 2024-02-02 | serology | HBsAg  | <hbsag>  |         |
      | S1      | 2024-02-02 | serology | HBeAg  | <hbeag>  |         |
      | S1      | 2024-02-02 | serology | HCV-Ab | <hcv>    |         |
      | S1      | 2024-02-02 | serology | TP-Ab  | <tp>     |         |
      | S1      | 2024-03-01 | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-VIROLOGY for subject "S1" on "2024-02-02"
    And there is exactly 1 finding of JK500-EXCL-VIROLOGY

    Examples:
      | hiv | hbsag | hbeag | hcv | tp  |
      | yes | no    | no    | no  | no  |
      | no  | yes   | no    | no  | no  |
      | no  | no    | yes   | no  | no  |
      | no  | no    | no    | yes | no  |
      | no  | no    | no    | no  | yes |

  @JK500-EXCL-VIROLOGY
  Scenario Outline: A test missing from the screening period makes the criterion not evaluable
    Given the visit log:
      | subject | date       | event    | test   | positive | dose    |
      | S1      | <hiv date> | serology | HIV-Ab | no       |         |
      | S1      | <hbs date> | serology | HBsAg  | no       |         |
      | S1      | <hbe date> | serology | HBeAg  | no       |         |
      | S1      | <hcv date> | serology | HCV-Ab | no       |         |
      | S1      | <tp date>  | serology | TP-Ab  | no       |         |
      | S1      | 2024-03-01 | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-VIROLOGY for subject "S1" on "2024-03-01"
    And there is exactly 1 finding of JK500-EXCL-VIROLOGY
    And the status of JK500-EXCL-VIROLOGY for subject "S1" is not evaluable because "<reason>"

    Examples: one test taken 29 days before the first infusion, the others 28 days before
      | hiv date   | hbs date   | hbe date   | hcv date   | tp date    | reason                              |
      | 2024-02-01 | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-02-02 | no HIV antibody test                |
      | 2024-02-02 | 2024-02-01 | 2024-02-02 | 2024-02-02 | 2024-02-02 | no hepatitis B surface antigen test |
      | 2024-02-02 | 2024-02-02 | 2024-02-01 | 2024-02-02 | 2024-02-02 | no hepatitis B E antigen test       |
      | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-02-01 | 2024-02-02 | no hepatitis C antibody test        |
      | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-02-01 | no treponema pallidum antibody test |

    Examples: one test taken only after the first infusion
      | hiv date   | hbs date   | hbe date   | hcv date   | tp date    | reason                              |
      | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-02-02 | 2024-03-02 | no treponema pallidum antibody test |

  @JK500-EXCL-VIROLOGY
  Scenario: No screening serology at all cannot be evaluated, never a pass
    Given the visit log:
      | subject | date       | event    | dose    |
      | S1      | 2024-03-01 | infusion | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-VIROLOGY for subject "S1" on "2024-03-01"
    And the status of JK500-EXCL-VIROLOGY for subject "S1" is not evaluable because "in the screening period"

  @JK500-EXCL-VIROLOGY
  Scenario: A positive test is a deviation even when the panel is incomplete
    Given the visit log:
      | subject | date       | event    | test   | positive | dose    |
      | S1      | 2024-02-02 | serology | HIV-Ab | yes      |         |
      | S1      | 2024-03-01 | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-VIROLOGY for subject "S1" on "2024-02-02"
    And the status of JK500-EXCL-VIROLOGY for subject "S1" is deviation

  @JK500-EXCL-VIROLOGY
  Scenario: Positive results before the screening period or after the first infusion are not screening results
    Given the visit log:
      | subject | date       | event    | test   | positive | dose    |
      | S1      | 2024-01-15 | serology | HBsAg  | yes      |         |
      | S1      | 2024-02-20 | serology | HIV-Ab | no       |         |
      | S1      | 2024-02-20 | serology | HBsAg  | no       |         |
      | S1      | 2024-02-20 | serology | HBeAg  | no       |         |
      | S1      | 2024-02-20 | serology | HCV-Ab | no       |         |
      | S1      | 2024-02-20 | serology | TP-Ab  | no       |         |
      | S1      | 2024-03-01 | infusion |        |          | 1000000 |
      | S1      | 2024-03-02 | serology | HCV-Ab | yes      |         |
      | S1      | 2024-03-04 | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-VIROLOGY

  @JK500-EXCL-VIROLOGY
  Scenario: The screening period is counted back from the first infusion, not from later ones
    Given the visit log:
      | subject | date       | event    | test   | positive | dose    |
      | S1      | 2024-03-01 | infusion |        |          | 1000000 |
      | S1      | 2024-03-03 | serology | HIV-Ab | no       |         |
      | S1      | 2024-03-03 | serology | HBsAg  | no       |         |
      | S1      | 2024-03-03 | serology | HBeAg  | no       |         |
      | S1      | 2024-03-03 | serology | HCV-Ab | no       |         |
      | S1      | 2024-03-03 | serology | TP-Ab  | no       |         |
      | S1      | 2024-03-04 | infusion |        |          | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-VIROLOGY for subject "S1" on "2024-03-01"
    And there is exactly 1 finding of JK500-EXCL-VIROLOGY

  @JK500-EXCL-VIROLOGY
  Scenario: Virology is not judged for a subject never infused
    Given the visit log:
      | subject | date       | event    | test   | positive |
      | S1      | 2024-02-20 | serology | HIV-Ab | yes      |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-VIROLOGY
    And the status of JK500-EXCL-VIROLOGY for subject "S1" is not applicable because "no first infusion recorded"
