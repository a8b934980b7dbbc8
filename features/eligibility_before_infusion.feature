Feature: Other trials, recent disease and recent surgery before the first infusion
  Exclusion criterion 4: no participation in a drug trial within the past 4 weeks, counted back
  from the first JK500 infusion (the last dose in the other trial is recorded).
  Exclusion criterion 5: no clinically significant disease (in the investigator's opinion) and no
  major surgical operation within 28 days before receiving the study product.
  Each window runs from 28 days before the first JK500 infusion up to and including its day.
  Medical-history records are dated at onset. A subject never infused is not judged.
  With the first infusion on 2024-03-01 (2024 is a leap year), 28 days before is 2024-02-02; with
  the first infusion on 2023-03-01, it is 2023-02-01.

  The medical history counts as complete once the investigator's screening checklist is recorded:
  every scenario here has one (without it, each of these rules is not evaluable; see
  eligibility_screening.feature).

  Background:
    Given the JK500 protocol rules
    And the visit log also has:
      | subject | date       | event     | eligible |
      | S1      | 2023-01-02 | screening | yes      |

  # ---- JK500-EXCL-OTHER-TRIAL ----------------------------------------------------------------

  @JK500-EXCL-OTHER-TRIAL
  Scenario Outline: A last dose in another drug trial in the 4 weeks before the first infusion is a deviation
    Given the visit log:
      | subject | date             | event       | trial   | dose    |
      | S1      | <last dose>      | other_trial | <trial> |         |
      | S1      | <first infusion> | infusion    |         | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-OTHER-TRIAL for subject "S1" on "<last dose>"
    And there is exactly 1 finding of JK500-EXCL-OTHER-TRIAL

    Examples: exactly 4 weeks (28 days) before
      | last dose  | first infusion | trial   |
      | 2024-02-02 | 2024-03-01     | ABC-301 |
      | 2023-02-01 | 2023-03-01     | ABC-301 |

    Examples: a week before, and on the day of the first infusion
      | last dose  | first infusion | trial   |
      | 2024-02-23 | 2024-03-01     | ABC-301 |
      | 2024-03-01 | 2024-03-01     | ABC-301 |

    Examples: the other trial's name is not needed
      | last dose  | first infusion | trial |
      | 2024-02-23 | 2024-03-01     |       |

  @JK500-EXCL-OTHER-TRIAL
  Scenario Outline: A last dose in another trial outside the 4 weeks is no deviation
    Given the visit log:
      | subject | date        | event       | trial   | dose    |
      | S1      | <last dose> | other_trial | ABC-301 |         |
      | S1      | 2024-03-01  | infusion    |         | 1000000 |
      | S1      | 2024-03-04  | infusion    |         | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-OTHER-TRIAL
    And the status of JK500-EXCL-OTHER-TRIAL for subject "S1" is passed

    Examples: 29 days before the first infusion
      | last dose  |
      | 2024-02-01 |

    Examples: after the first infusion, though before the second
      | last dose  |
      | 2024-03-02 |

  @JK500-EXCL-OTHER-TRIAL
  Scenario: Another trial is not judged for a subject never infused
    Given the visit log:
      | subject | date       | event       | trial   |
      | S1      | 2024-02-23 | other_trial | ABC-301 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-OTHER-TRIAL
    And the status of JK500-EXCL-OTHER-TRIAL for subject "S1" is not applicable because "no first infusion recorded"

  # ---- JK500-EXCL-RECENT-DISEASE -------------------------------------------------------------

  @JK500-EXCL-RECENT-DISEASE
  Scenario Outline: A clinically significant disease in the 28 days before the first infusion is a deviation
    Given the visit log:
      | subject | date       | event           | condition | significant | dose    |
      | S1      | <onset>    | medical_history | pneumonia | yes         |         |
      | S1      | 2024-03-01 | infusion        |           |             | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-RECENT-DISEASE for subject "S1" on "<onset>"
    And there is exactly 1 finding of JK500-EXCL-RECENT-DISEASE

    Examples:
      | onset      |
      | 2024-02-02 |
      | 2024-02-29 |
      | 2024-03-01 |

  @JK500-EXCL-RECENT-DISEASE
  Scenario Outline: A disease outside the window, or not clinically significant, is no deviation
    Given the visit log:
      | subject | date       | event           | condition   | significant   | dose    |
      | S1      | <onset>    | medical_history | <condition> | <significant> |         |
      | S1      | 2024-03-01 | infusion        |             |               | 1000000 |
      | S1      | 2024-03-04 | infusion        |             |               | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-RECENT-DISEASE

    Examples: significant, 29 days before the first infusion
      | onset      | condition | significant |
      | 2024-02-01 | pneumonia | yes         |

    Examples: significant, after the first infusion
      | onset      | condition | significant |
      | 2024-03-02 | pneumonia | yes         |

    Examples: not clinically significant, in the window
      | onset      | condition     | significant |
      | 2024-02-20 | mild rhinitis | no          |

    Examples: significance not recorded, outside the window
      | onset      | condition | significant |
      | 2024-01-20 | fever     |             |

  @JK500-EXCL-RECENT-DISEASE
  Scenario: A disease in the window whose significance is not recorded cannot be evaluated
    Given the visit log:
      | subject | date       | event           | condition | significant | dose    |
      | S1      | 2024-02-20 | medical_history | fever     |             |         |
      | S1      | 2024-03-01 | infusion        |           |             | 1000000 |
    When the protocol is audited
    Then there is a not evaluable finding of JK500-EXCL-RECENT-DISEASE for subject "S1" on "2024-02-20"
    And the status of JK500-EXCL-RECENT-DISEASE for subject "S1" is not evaluable because "no significant"

  @JK500-EXCL-RECENT-DISEASE
  Scenario: A recent disease is not judged for a subject never infused
    Given the visit log:
      | subject | date       | event           | condition | significant |
      | S1      | 2024-02-20 | medical_history | pneumonia | yes         |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-RECENT-DISEASE
    And the status of JK500-EXCL-RECENT-DISEASE for subject "S1" is not applicable because "no first infusion recorded"

  # ---- JK500-EXCL-RECENT-SURGERY -------------------------------------------------------------

  @JK500-EXCL-RECENT-SURGERY
  Scenario Outline: Major surgery in the 28 days before the first infusion is a deviation
    Given the visit log:
      | subject | date           | event    | procedure   | major | dose    |
      | S1      | <surgery date> | surgery  | splenectomy | yes   |         |
      | S1      | 2024-03-01     | infusion |             |       | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-EXCL-RECENT-SURGERY for subject "S1" on "<surgery date>"
    And there is exactly 1 finding of JK500-EXCL-RECENT-SURGERY

    Examples:
      | surgery date |
      | 2024-02-02   |
      | 2024-02-29   |
      | 2024-03-01   |

  @JK500-EXCL-RECENT-SURGERY
  Scenario Outline: Surgery outside the window, or not major, is no deviation
    Given the visit log:
      | subject | date           | event    | procedure   | major   | dose    |
      | S1      | <surgery date> | surgery  | <procedure> | <major> |         |
      | S1      | 2024-03-01     | infusion |             |         | 1000000 |
      | S1      | 2024-03-04     | infusion |             |         | 1000000 |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-RECENT-SURGERY
    And the status of JK500-EXCL-RECENT-SURGERY for subject "S1" is passed

    Examples: major, 29 days before the first infusion
      | surgery date | procedure   | major |
      | 2024-02-01   | splenectomy | yes   |

    Examples: major, after the first infusion
      | surgery date | procedure   | major |
      | 2024-03-02   | splenectomy | yes   |

    Examples: minor, in the window
      | surgery date | procedure              | major |
      | 2024-02-20   | central line placement | no    |

  @JK500-EXCL-RECENT-SURGERY
  Scenario: Recent surgery is not judged for a subject never infused
    Given the visit log:
      | subject | date       | event   | procedure   | major |
      | S1      | 2024-02-20 | surgery | splenectomy | yes   |
    When the protocol is audited
    Then there are no findings of JK500-EXCL-RECENT-SURGERY
    And the status of JK500-EXCL-RECENT-SURGERY for subject "S1" is not applicable because "no first infusion recorded"
