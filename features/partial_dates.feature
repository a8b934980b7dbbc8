Feature: Partial dates and time zones
  Real exports carry dates known only to the month (2024-03) or the year (2005), and datetimes with a
  UTC offset. A partial date is an interval: the check is a deviation only when it fails on every day
  the date can be, passes only when it holds on every day, and otherwise is a possible deviation that
  says which date is partial and the interval it spans. Never a silent pass, never a certain deviation.
  A datetime is counted on its date as written (the site's local time), unless the audit is given the
  site's time zone: then a datetime with an offset counts on its local date in that zone.

  Background:
    Given the JK500 protocol rules
    And the visit log also has:
      | subject | date       | event     | eligible |
      | S1      | 2023-01-02 | screening | yes      |

  @JK500-EXCL-LIVE-VACCINE
  Scenario Outline: A live vaccine dated only by its month or year, before a first infusion on 2024-03-20
    Given the visit log:
      | subject | date      | event       | vaccine | live_attenuated | dose    |
      | S1      | <when>    | vaccination | MMR     | yes             |         |
      | S1      | 2024-03-20 | infusion   |         |                 | 1000000 |
    When the protocol is audited
    Then <outcome>

    Examples: the window runs from 2024-02-21 to 2024-03-20
      | when    | outcome                                                                                                                           |
      | 2024-03 | there is a possible deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "2024-03" because "between 2024-03-01 and 2024-03-31" |
      | 2024-02 | there is a possible deviation of JK500-EXCL-LIVE-VACCINE for subject "S1" on "2024-02" because "between 2024-02-01 and 2024-02-29" |
      | 2024-01 | there are no findings of JK500-EXCL-LIVE-VACCINE                                                                                  |
      | 2023    | there are no findings of JK500-EXCL-LIVE-VACCINE                                                                                  |

  @JK500-ELIG-AGE
  Scenario Outline: A birth date known only to the year
    Given the visit log:
      | subject | date       | event   | birth_date | signed_by |
      | S1      | 2024-06-15 | consent | <born>     | guardian  |
    When the protocol is audited
    Then <outcome>

    Examples: consent on 2024-06-15; at most 18 years old
      | born | outcome                                                                                                        |
      | 2006 | there are no findings of JK500-ELIG-AGE                                                                        |
      | 2005 | there is a possible deviation of JK500-ELIG-AGE for subject "S1" on "2024-06-15" because "birth_date 2005"      |
      | 2004 | there is a deviation of JK500-ELIG-AGE for subject "S1" on "2024-06-15"                                         |

  @JK500-SAF-AE-GRADED
  Scenario: An ungraded adverse event dated only by its month may or may not fall in the DLT window
    Given the visit log:
      | subject | date       | event         | dose    | term  |
      | S1      | 2024-03-20 | infusion      | 1000000 |       |
      | S1      | 2024-03    | adverse_event |         | fever |
    When the protocol is audited
    Then there is a possible deviation of JK500-SAF-AE-GRADED for subject "S1" on "2024-03" because "adverse_event date 2024-03"
    And the status of JK500-SAF-AE-GRADED for subject "S1" is possible deviation

  @JK500-TRT-WEEKLY
  Scenario: A late-evening infusion recorded in UTC counts on the site's local date
    Given the visit log:
      | subject | date                      | event    | dose    |
      | S1      | 2024-01-01T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-03T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-05T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-07T17:30:00+00:00 | infusion | 1000000 |
    When the protocol is audited in the time zone "Asia/Shanghai"
    Then there are no findings of JK500-TRT-WEEKLY

  @JK500-TRT-WEEKLY
  Scenario: Without the site's time zone the same infusion counts on its date as written
    Given the visit log:
      | subject | date                      | event    | dose    |
      | S1      | 2024-01-01T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-03T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-05T09:00:00+08:00 | infusion | 1000000 |
      | S1      | 2024-01-07T17:30:00+00:00 | infusion | 1000000 |
    When the protocol is audited
    Then there is a deviation of JK500-TRT-WEEKLY for subject "S1" on "2024-01-07"
