Feature: Auditing from SDTM domains
  Sites send SDTM datasets, not our visit log. A small mapping (TOML, see docs/sdtm.md) says which
  rows of which domain are which protocol events; the audit then judges them exactly as it judges a
  visit log, and accounts for every row of every domain file: mapped, not used by the protocol, or
  rejected with its reason. Dates are taken as written, partial ones included.

  Background:
    Given the JK500 protocol rules
    And the SDTM mapping:
      """
      [defaults]
      subject = "USUBJID"
      study = "STUDYID"

      [[event.screening]]
      domain = "XS"
      date = "XSDTC"
      fields.eligible = { column = "XSORRES", map = { Y = "yes", N = "no" } }

      [[event.vaccination]]
      domain = "CM"
      where = { CMCAT = "VACCINATION" }
      date = "CMSTDTC"
      fields.vaccine = "CMTRT"
      fields.live_attenuated = { column = "CMCLAS", map = { "LIVE ATTENUATED VACCINE" = "yes" }, other = "no" }

      [[event.infusion]]
      domain = "EX"
      where = { EXTRT = { equals = "jk500", ignore_case = true } }
      date = "EXSTDTC"
      fields.dose = "EXDOSE"
      fields.time = { column = "EXSTDTC", part = "time" }
      """
    And the SDTM domain "xs.csv":
      | STUDYID | DOMAIN | USUBJID | XSTESTCD | XSORRES | XSDTC      |
      | JK500   | XS     | S1      | ELIGIBLE | Y       | 2024-01-02 |

  @JK500-EXCL-LIVE-VACCINE
  Scenario: A live vaccine in CM three weeks before the first JK500 dose in EX is a deviation
    Given the SDTM domain "ex.csv":
      | STUDYID | DOMAIN | USUBJID | EXTRT | EXDOSE  | EXSTDTC          |
      | JK500   | EX     | S1      | JK500 | 1000000 | 2024-03-20T09:00 |
    And the SDTM domain "cm.csv":
      | STUDYID | DOMAIN | USUBJID | CMTRT     | CMCAT        | CMCLAS                  | CMSTDTC    |
      | JK500   | CM     | S1      | VARICELLA | VACCINATION  | LIVE ATTENUATED VACCINE | 2024-02-28 |
      | JK500   | CM     | S1      | INFLUENZA | VACCINATION  | NON-LIVE VACCINE        | 2024-03-01 |
      | JK500   | CM     | S1      | ONDANSETRON | ANTIEMETIC |                         | 2024-03-20 |
    When the SDTM domains are audited
    Then there is a deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "2024-02-28"
    And there is exactly 1 finding of JK500-EXCL-LIVE-VACCINE
    And the rows of "cm.csv" are 2 mapped, 1 not used and 0 rejected
    And the rows of "ex.csv" are 1 mapped, 0 not used and 0 rejected

  @JK500-EXCL-LIVE-VACCINE
  Scenario: A vaccination whose start date the site knows only to the month is a possible deviation
    Given the SDTM domain "ex.csv":
      | STUDYID | DOMAIN | USUBJID | EXTRT | EXDOSE  | EXSTDTC          |
      | JK500   | EX     | S1      | JK500 | 1000000 | 2024-03-20T09:00 |
    And the SDTM domain "cm.csv":
      | STUDYID | DOMAIN | USUBJID | CMTRT     | CMCAT       | CMCLAS                  | CMSTDTC |
      | JK500   | CM     | S1      | VARICELLA | VACCINATION | LIVE ATTENUATED VACCINE | 2024-02 |
    When the SDTM domains are audited
    Then there is a possible deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "2024-02" because "between 2024-02-01 and 2024-02-29"

  @JK500-EXCL-LIVE-VACCINE
  Scenario: A mapped row without a start date is rejected with its reason, not dropped
    Given the SDTM domain "ex.csv":
      | STUDYID | DOMAIN | USUBJID | EXTRT | EXDOSE  | EXSTDTC          |
      | JK500   | EX     | S1      | JK500 | 1000000 | 2024-03-20T09:00 |
    And the SDTM domain "cm.csv":
      | STUDYID | DOMAIN | USUBJID | CMTRT     | CMCAT       | CMCLAS                  | CMSTDTC |
      | JK500   | CM     | S1      | VARICELLA | VACCINATION | LIVE ATTENUATED VACCINE |         |
    When the SDTM domains are audited
    Then there are no findings of JK500-EXCL-LIVE-VACCINE
    And the rows of "cm.csv" are 0 mapped, 0 not used and 1 rejected
