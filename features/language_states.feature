Feature: Trial states: a stopping rule read by the subjects' rules
  "If 2 or more of the first 6 treated subjects have a grade 4 or worse treatment-related adverse event
  within 21 days of their first dose, enrolment pauses: no new subject may receive a first dose after the
  second such event until a committee decision `resume` is recorded."
  A trial state starts on a date found across subjects: here the 2nd of the subjects' early toxicities
  (a reference: the engine finds each subject's record), counting only the first 6 subjects by their
  first dose (ties by subject id). It ends at the first committee decision to resume dated on or after
  its start. A rule that reads a state is judged with the whole trial, once per subject, and its
  findings name the subject. A state that never started starts "never", later than any record: no pause,
  no first dose given during one.

  Background:
    Given the protocol rules:
      """
      protocol "DEMO"

      event dosing "Study drug dose" { dose: decimal in mg }
      event adverse_event "Adverse event" { grade: integer required  related: boolean required }
      trial event committee "Safety committee decision" { decision: text required }

      reference early_toxicity "Grade 4+ related AE in the 21 days from the first dose" =
          earliest adverse_event where grade >= 4 and related dated within 21 days after first dosing

      state enrolment_pause "Enrolment paused for early toxicity" =
          starts at the 2nd early_toxicity of the first 6 subjects by first dosing
          ends at first committee where decision = "resume"

      rule DEMO-PAUSE "No first dose while enrolment is paused" {
          cites "stopping rule"
          message "First dose on {date} during the enrolment pause that began on {enrolment_pause.start}."
          for first dosing
              forbid date > enrolment_pause.start
                  and (enrolment_pause.end is missing or date < enrolment_pause.end)
      }
      """

  @DEMO-PAUSE
  Scenario: A first dose after the second early toxicity, before the decision to resume, is a deviation
    Given the visit log:
      | subject | date       | event         | dose | grade | related | decision |
      | 001     | 2024-01-01 | dosing        | 10   |       |         |          |
      | 001     | 2024-01-10 | adverse_event |      | 4     | yes     |          |
      | 002     | 2024-01-03 | dosing        | 10   |       |         |          |
      | 002     | 2024-01-15 | adverse_event |      | 5     | yes     |          |
      | 003     | 2024-01-20 | dosing        | 10   |       |         |          |
      |         | 2024-02-01 | committee     |      |       |         | resume   |
      | 004     | 2024-02-01 | dosing        | 10   |       |         |          |
      | 005     | 2024-01-15 | dosing        | 10   |       |         |          |
    When the protocol is audited
    Then there is a deviation of DEMO-PAUSE for subject "003" on "2024-01-20"
    And the findings of DEMO-PAUSE say "First dose on 2024-01-20 during the enrolment pause that began on 2024-01-15."
    And there is exactly 1 finding of DEMO-PAUSE

  @DEMO-PAUSE
  Scenario: Events that do not count start no pause: grade 3, unrelated, on day 22, or in the 7th subject
    Given the visit log:
      | subject | date       | event         | dose | grade | related | decision |
      | 001     | 2024-01-01 | dosing        | 10   |       |         |          |
      | 001     | 2024-01-10 | adverse_event |      | 4     | yes     |          |
      | 002     | 2024-01-02 | dosing        | 10   |       |         |          |
      | 002     | 2024-01-10 | adverse_event |      | 3     | yes     |          |
      | 003     | 2024-01-03 | dosing        | 10   |       |         |          |
      | 003     | 2024-01-10 | adverse_event |      | 4     | no      |          |
      | 004     | 2024-01-04 | dosing        | 10   |       |         |          |
      | 004     | 2024-01-26 | adverse_event |      | 4     | yes     |          |
      | 005     | 2024-01-05 | dosing        | 10   |       |         |          |
      | 006     | 2024-01-06 | dosing        | 10   |       |         |          |
      | 007     | 2024-01-07 | dosing        | 10   |       |         |          |
      | 007     | 2024-01-12 | adverse_event |      | 4     | yes     |          |
      | 008     | 2024-02-01 | dosing        | 10   |       |         |          |
    When the protocol is audited
    Then there are no findings of DEMO-PAUSE
    And the status of DEMO-PAUSE for the trial is passed

  @DEMO-PAUSE
  Scenario: The 21 days include the 21st day after the first dose, and a pause with no decision goes on
    Given the visit log:
      | subject | date       | event         | dose | grade | related |
      | 001     | 2024-01-01 | dosing        | 10   |       |         |
      | 001     | 2024-01-10 | adverse_event |      | 4     | yes     |
      | 002     | 2024-01-02 | dosing        | 10   |       |         |
      | 002     | 2024-01-23 | adverse_event |      | 4     | yes     |
      | 003     | 2024-03-01 | dosing        | 10   |       |         |
    When the protocol is audited
    Then there is a deviation of DEMO-PAUSE for subject "003" on "2024-03-01"

  @DEMO-PAUSE
  Scenario: A first dose on the day of the second event, or on the day of the decision, is no deviation
    Given the visit log:
      | subject | date       | event         | dose | grade | related | decision |
      | 001     | 2024-01-01 | dosing        | 10   |       |         |          |
      | 001     | 2024-01-10 | adverse_event |      | 4     | yes     |          |
      | 002     | 2024-01-02 | dosing        | 10   |       |         |          |
      | 002     | 2024-01-12 | adverse_event |      | 4     | yes     |          |
      | 003     | 2024-01-12 | dosing        | 10   |       |         |          |
      |         | 2024-01-05 | committee     |      |       |         | resume   |
      |         | 2024-01-20 | committee     |      |       |         | hold     |
      |         | 2024-01-25 | committee     |      |       |         | resume   |
      | 004     | 2024-01-25 | dosing        | 10   |       |         |          |
    When the protocol is audited
    Then there are no findings of DEMO-PAUSE

  @DEMO-PAUSE
  Scenario: An early event dated only to the month leaves the pause undecided: not evaluable, never passed
    Given the visit log:
      | subject | date       | event         | dose | grade | related |
      | 001     | 2024-01-01 | dosing        | 10   |       |         |
      | 001     | 2024-01-10 | adverse_event |      | 4     | yes     |
      | 002     | 2024-01-02 | dosing        | 10   |       |         |
      | 002     | 2024-01    | adverse_event |      | 4     | yes     |
      | 003     | 2024-02-10 | dosing        | 10   |       |         |
    When the protocol is audited
    Then there is a not evaluable finding of DEMO-PAUSE for subject "003" on "2024-02-10" because "enrolment_pause cannot be told: a date it depends on is only partly known"
