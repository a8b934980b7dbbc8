Feature: Date-times count hours and minutes across midnight, zones and clock changes
  A `datetime` field is an instant. With a UTC offset it is that instant; without one it is the wall
  clock of its site's time zone (`site "01" zone "Europe/Berlin"`). "Within 72 hours before each dose",
  "premedication 30 to 90 minutes before", "reported within 24 hours" are measured between instants, to
  the second, whatever the midnight, the zone or the clock change in between. A date alone in a
  `datetime` field is every second of that day: what it cannot decide is a possible deviation.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      site "01" zone "Europe/Berlin"
      site "02" zone "America/New_York"

      event pregnancy_test "Pregnancy test" { taken: datetime required  positive: boolean required }
      event dosing "Study drug dose" { start: datetime required }
      event premed "Premedication" { start: datetime required }
      event sae "Serious adverse event" { aware: datetime required  received: datetime }

      rule DEMO-PREG "A negative pregnancy test within 72 hours before each dose" {
          cites "the pregnancy-test rule"
          for each dosing
              require a pregnancy_test where not positive and taken within 72 hours before dosing.start
      }

      rule DEMO-PREMED "Premedication 30 to 90 minutes before each dose" {
          cites "the premedication rule"
          for each dosing
              require a premed where minutes from start to dosing.start between 30 and 90
      }

      rule DEMO-SAE "The sponsor receives each serious adverse event report within 24 hours" {
          cites "the SAE reporting rule"
          for each sae
              require received is known and received <= aware + 24 hours
      }
      """

  @DEMO-PREG
  Scenario: A test 72 hours and 1 minute before the dose is too early
    Given the visit log:
      | subject | date       | event          | taken            | positive | start            |
      | 001     | 2024-03-01 | pregnancy_test | 2024-03-01T08:59 | no       |                  |
      | 001     | 2024-03-04 | dosing         |                  |          | 2024-03-04T09:00 |
    When the protocol is audited
    Then there is a deviation of DEMO-PREG for subject "001" on "2024-03-04"

  @DEMO-PREG
  Scenario: A test exactly 72 hours before the dose is in time
    Given the visit log:
      | subject | date       | event          | taken            | positive | start            |
      | 002     | 2024-03-01 | pregnancy_test | 2024-03-01T09:00 | no       |                  |
      | 002     | 2024-03-04 | dosing         |                  |          | 2024-03-04T09:00 |
    When the protocol is audited
    Then there are no findings of DEMO-PREG
    And the status of DEMO-PREG for subject "002" is passed

  @DEMO-PREG
  Scenario: Across the night the clocks go forward, 73 hours on the wall clock are 72 real hours
    Given the visit log:
      | subject | date       | event          | taken            | positive | start            |
      | 003     | 2024-03-29 | pregnancy_test | 2024-03-29T09:00 | no       |                  |
      | 003     | 2024-04-01 | dosing         |                  |          | 2024-04-01T10:00 |
      | 004     | 2024-03-29 | pregnancy_test | 2024-03-29T09:00 | no       |                  |
      | 004     | 2024-04-01 | dosing         |                  |          | 2024-04-01T10:01 |
    When the protocol is audited
    Then there is exactly 1 finding of DEMO-PREG
    And there is a deviation of DEMO-PREG for subject "004" on "2024-04-01"
    And the status of DEMO-PREG for subject "003" is passed

  @DEMO-PREG
  Scenario: A test dated without its time may or may not be within 72 hours
    Given the visit log:
      | subject | date       | event          | taken      | positive | start            |
      | 005     | 2024-03-01 | pregnancy_test | 2024-03-01 | no       |                  |
      | 005     | 2024-03-04 | dosing         |            |          | 2024-03-04T12:00 |
    When the protocol is audited
    Then there is a possible deviation of DEMO-PREG for subject "005" on "2024-03-04" because "is only known to lie between 2024-02-29T23:00:00Z and 2024-03-01T22:59:59Z"

  @DEMO-PREMED
  Scenario: Premedication 45 minutes before a dose given after midnight
    Given the visit log:
      | subject | date       | event  | start            |
      | 011     | 2024-03-01 | premed | 2024-03-01T23:30 |
      | 011     | 2024-03-02 | dosing | 2024-03-02T00:15 |
    When the protocol is audited
    Then there are no findings of DEMO-PREMED
    And the status of DEMO-PREMED for subject "011" is passed

  @DEMO-PREMED
  Scenario: Premedication 105 minutes before a dose given after midnight
    Given the visit log:
      | subject | date       | event  | start            |
      | 012     | 2024-03-01 | premed | 2024-03-01T22:30 |
      | 012     | 2024-03-02 | dosing | 2024-03-02T00:15 |
    When the protocol is audited
    Then there is a deviation of DEMO-PREMED for subject "012" on "2024-03-02"

  @DEMO-SAE
  Scenario: Aware in New York in the evening, received in London the next day within 24 hours
    Given the visit log:
      | subject | site | date       | event | aware            | received               |
      | 021     | 02   | 2024-05-01 | sae   | 2024-05-01T20:00 | 2024-05-02T23:59+00:00 |
    When the protocol is audited
    Then there are no findings of DEMO-SAE
    And the status of DEMO-SAE for subject "021" is passed

  @DEMO-SAE
  Scenario: Received 24 hours and 1 minute after the site became aware, in another zone
    Given the visit log:
      | subject | site | date       | event | aware            | received               |
      | 022     | 02   | 2024-05-01 | sae   | 2024-05-01T20:00 | 2024-05-03T00:01+00:00 |
    When the protocol is audited
    Then there is a deviation of DEMO-SAE for subject "022" on "2024-05-01"
