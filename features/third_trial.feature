Feature: TX118-101, a third trial: every rule of examples/third_trial/protocol.rules fires and has a near miss
  A phase 1b trial of an intravenous drug in adults with a solid tumour (examples/third_trial/README.md):
  eligibility read from references and subject attributes, infusions timed across zones and clock
  changes, a schedule of tumour scans, serious adverse events whose empty boxes mean no. The background
  is protocol.rules itself, word for word (tests/test_third_trial.py checks it), so that these
  scenarios prove the rules the example audits.

  Background:
    Given the protocol rules:
      """
      # TX118-101 (invented): a phase 1b trial of TX-118, an intravenous antibody-drug conjugate, in adults
      # with an advanced solid tumour. 3 mg/kg of the weight measured at each cycle's day 1, every 21 days;
      # tumour scans every 6 weeks; an early-toxicity stopping rule. Three sites in two time zones.
      # The protocol text is in README.md.

      protocol "TX118-101" registry "NCT00000118"

      site "01" zone "Europe/Berlin"
      site "02" zone "America/New_York"
      site "03" zone "Europe/Berlin"

      # ---- Criteria (README.md, sections 4 to 7) ----------------------------------------------------

      criterion INC-1 "Inclusion 1: aged 18 years or older at screening"
      criterion INC-2 "Inclusion 2: creatinine clearance (Cockcroft-Gault) of at least 50 mL/min at screening"
      criterion INC-3 "Inclusion 3: the latest neutrophil count in the 14 days before the first dose is at least 1.5 x 10^9/L"
      criterion INC-4 "Inclusion 4: a woman of childbearing potential has a negative pregnancy test within 72 hours before the start of the first infusion"
      criterion TRT-1 "Treatment 5.1: the dose is 3 mg/kg of the weight measured on the cycle's day 1 (or the day before), within 10 %"
      criterion TRT-2 "Treatment 5.2: the patient is weighed on each cycle's day 1, or the day before"
      criterion TRT-3 "Treatment 5.3: each infusion lasts at least 60 minutes"
      criterion TRT-4 "Treatment 5.4: each cycle starts 21 days after the previous one, within 3 days"
      criterion SOA-1 "Assessments 6.1: a tumour scan every 6 weeks from the first dose, within 7 days, until end of treatment"
      criterion SAF-1 "Safety 7.1: a serious adverse event is reported to the sponsor within 24 hours of the site becoming aware"
      criterion SAF-2 "Safety 7.2: after the 2nd early toxicity among the first 6 treated subjects, no first dose until the committee resumes enrolment"

      # ---- Vocabulary -------------------------------------------------------------------------------

      event screening "Screening visit" {
          birth_date: date required
          sex: text required             # F or M
          childbearing_potential: boolean required
          weight: decimal in kg required
          creatinine: decimal in mg/dL   # serum creatinine, for the clearance (formula crcl)
      }

      event blood_count "Blood count" {
          anc: decimal in 10^9/L         # absolute neutrophil count
      }

      event pregnancy_test "Serum pregnancy test" {
          taken: datetime required
          positive: boolean required
      }

      event vitals "Vital signs before a dose" {
          weight: decimal in kg required
      }

      event dosing "TX-118 infusion" {
          cycle: integer required
          dose: decimal in mg required
          start: datetime required
          stop: datetime                 # the infusion's end; a missing one cannot be judged
      }

      event imaging "Tumour scan (CT or MRI)" {
          modality: text required
      }

      event adverse_event "Adverse event (CTCAE 5.0)" {
          term: text required
          grade: integer required
          serious: boolean, empty means no  # sites tick serious; an empty box is not serious
          related: boolean, empty means no  # sites tick related to TX-118; an empty box is not related
          aware: datetime                # when the site became aware (serious events)
          reported: datetime             # when the sponsor received the report (serious events)
      }

      event end_of_treatment "End of treatment visit" {
          reason: text
      }

      trial event committee "Safety committee decision on enrolment" {
          decision: text required        # hold | resume
      }

      subject sex = screening.sex
      subject childbearing = screening.childbearing_potential

      # ---- References and the schedule --------------------------------------------------------------

      reference baseline_anc "Neutrophil count at baseline" = latest blood_count dated within 14 days before first dosing

      reference cycle_weight "The weight a cycle's dose is computed from" = latest vitals dated within 1 day before each dosing

      schedule scans "Tumour assessments" every 6 weeks within 7 days from first dosing until first end_of_treatment

      reference early_toxicity "Grade 4+ related AE in the 21 days from the first dose" = earliest adverse_event where grade >= 4 and related dated within 21 days after first dosing

      # Inclusion 2: creatinine clearance by Cockcroft-Gault, from the age in completed years, the weight in kg
      # and the serum creatinine in mg/dL of the screening visit, times 0.85 for women.
      formula crcl "Creatinine clearance by Cockcroft-Gault" in mL/min =
          (140 - years from birth_date to date) * weight / (72 * creatinine) * sex_factor[sex]
          empirical "Cockcroft-Gault's constant 72 carries the units: years times kg over 72 times mg/dL gives mL/min (Cockcroft and Gault, Nephron 1976)."

      # The stopping rule: the 2nd early toxicity among the first 6 treated subjects pauses enrolment until
      # the committee resumes it.
      state enrolment_pause "Enrolment paused for early toxicity" =
          starts at the 2nd early_toxicity of the first 6 subjects by first dosing
          ends at first committee where decision = "resume"

      # ---- Parameters -------------------------------------------------------------------------------

      parameter min_age = 18 years
      parameter min_anc = 1.5 10^9/L
      parameter pregnancy_test_window = 72 hours
      parameter min_infusion = 60 minutes
          choice "The infusion lasts from its recorded start to its recorded stop, in real minutes: a clock change or a time written in another zone does not lengthen or shorten it."
      parameter cycle_length = 21 days
      parameter cycle_tolerance = 3 days
      parameter report_deadline = 24 hours
      parameter sex_factor = by sex { "F": 0.85, "M": 1 }
      parameter dose_per_kg = 3 mg/kg
      parameter dose_tolerance = 10 %
          choice "Within 10 % either way of 3 mg/kg times the cycle's weight, both ends included."

      # ---- Rules ------------------------------------------------------------------------------------

      rule TX118-ELIG-AGE "Adult at screening" {
          severity major
          important yes
          category eligibility
          cites INC-1
          message "Aged under {min_age} at screening (born {birth_date})."
          choice "Age is counted in completed years on the day of the screening visit; the 18th birthday itself counts."
          for each screening
              require years from birth_date to date >= min_age
      }

      rule TX118-ELIG-ANC "The latest neutrophil count in the 14 days before the first dose is at least 1.5" {
          severity major
          important yes
          category eligibility
          cites INC-3
          message "Baseline ANC {baseline_anc.anc} x 10^9/L on {baseline_anc.date} is below {min_anc}."
          choice "The 14 days include the day of the first dose; with no count in them the check is not evaluable, not a deviation."
          for first dosing
              require baseline_anc.anc >= min_anc
      }

      rule TX118-ELIG-PREGNANCY "Negative pregnancy test within 72 hours before the first infusion" {
          severity critical
          important yes
          category eligibility
          cites INC-4
          message "No negative pregnancy test in the {pregnancy_test_window} before the first infusion started ({start})."
          choice "The 72 hours run back from the start of the first infusion; a test taken exactly 72 hours before counts."
          for first dosing where childbearing
              require a pregnancy_test where not positive and taken within pregnancy_test_window before dosing.start
      }

      rule TX118-TRT-WEIGHT "Weighed on the cycle's day 1 or the day before" {
          severity minor
          category treatment
          cites TRT-2
          message "No weight on the day of the cycle {cycle} dose or the day before."
          for each dosing
              require cycle_weight is known
      }

      rule TX118-TRT-INFUSION "Each infusion lasts at least 60 minutes" {
          severity major
          category treatment
          cites TRT-3
          message "Cycle {cycle} infusion ran from {start} to {stop}: under {min_infusion}."
          for each dosing
              require minutes from start to stop >= min_infusion
      }

      rule TX118-TRT-CYCLE "Each cycle starts 21 days after the previous one, within 3 days" {
          severity minor
          category treatment
          cites TRT-4
          message "Cycle {cycle} started on {date}, outside {cycle_tolerance} of {cycle_length} after the previous dose."
          for each dosing where previous dosing is known
              require date within cycle_tolerance of previous dosing + cycle_length
      }

      rule TX118-SCAN-MISSED "A tumour scan within 7 days of each 6-weekly due date while on treatment" {
          severity major
          category assessment
          cites SOA-1
          message "No tumour scan from {start} to {end} ({visit}, due {date})."
          for the count of imaging per scans
              require count >= 1
              judged from end
      }

      rule TX118-SCAN-TIMING "Each on-treatment tumour scan within 7 days of its due date" {
          severity minor
          category assessment
          cites SOA-1
          message "Scan on {date} is outside the window of {scans.visit} ({scans.start} to {scans.end})."
          choice "A scan that belongs to no due date (the baseline scan before the first dose) is not checked."
          for each imaging where scans is known
              require date between scans.start and scans.end
      }

      rule TX118-SAF-SAE-REPORT "Serious adverse events reach the sponsor within 24 hours" {
          severity major
          important yes
          category safety
          cites SAF-1
          message "Serious adverse event {term} reported {reported}, more than {report_deadline} after the site became aware ({aware})."
          choice "A serious event whose awareness or report time is not recorded cannot be judged: not evaluable."
          for each adverse_event where serious
              require reported <= aware + report_deadline
      }

      rule TX118-ELIG-CRCL "Creatinine clearance of at least 50 mL/min at screening" {
          severity major
          important yes
          category eligibility
          cites INC-2
          message "Creatinine clearance {crcl} at screening is below 50 mL/min."
          choice "Age in completed years on the screening day; the weight and creatinine of the same visit."
          for each screening
              require crcl >= 50 mL/min
      }

      rule TX118-TRT-DOSE "Each dose is 3 mg/kg of the cycle's weight, within 10 %" {
          severity major
          important yes
          category treatment
          cites TRT-1
          message "Cycle {cycle} dose {dose} mg is outside {dose_tolerance} of {dose_per_kg} times {cycle_weight.weight} kg."
          choice "The weight is the one measured on the dose's day or the day before (cycle_weight); with none, the dose cannot be judged."
          for each dosing
              require dose within dose_tolerance of dose_per_kg * cycle_weight.weight
      }

      rule TX118-SAF-PAUSE "No first dose while enrolment is paused for early toxicity" {
          severity critical
          important yes
          category safety
          cites SAF-2
          message "First dose on {date}, while enrolment was paused from {enrolment_pause.start}."
          choice "An event dated 21 days after the first dose still counts (within 21 days after: the first dose's day to 21 days after it); one dated 22 days after does not."
          choice "A first dose on the day of the second event, or on the day of the resume decision, is allowed."
          choice "An adverse event whose related box is empty is not related (empty means no)."
          for first dosing
              forbid date > enrolment_pause.start
                  and (enrolment_pause.end is missing or date < enrolment_pause.end)
      }
      """

  @TX118-ELIG-AGE
  Scenario: Screened the day before the 18th birthday
    Given the visit log:
      | subject | date       | event     | birth_date | sex | childbearing_potential | weight |
      | P13     | 2025-06-02 | screening | 2007-06-03 | M   | no                     | 68.0   |
    When the protocol is audited
    Then there is a deviation of TX118-ELIG-AGE for subject "P13" on "2025-06-02"
    And the findings of TX118-ELIG-AGE say "Aged under 18 years at screening (born 2007-06-03)."

  @TX118-ELIG-AGE
  Scenario: Screened on the 18th birthday
    Given the visit log:
      | subject | date       | event     | birth_date | sex | childbearing_potential | weight |
      | P11     | 2025-04-07 | screening | 2007-04-07 | F   | yes                    | 80.0   |
    When the protocol is audited
    Then there are no findings of TX118-ELIG-AGE
    And the status of TX118-ELIG-AGE for subject "P11" is passed

  @TX118-ELIG-ANC
  Scenario: The latest count before the first dose is low, although an earlier one was high enough
    Given the visit log:
      | subject | date       | event       | anc | cycle | dose | start            |
      | P07     | 2025-02-14 | blood_count | 1.8 |       |      |                  |
      | P07     | 2025-02-21 | blood_count | 1.3 |       |      |                  |
      | P07     | 2025-02-24 | dosing      |     | 1     | 246  | 2025-02-24T09:00 |
    When the protocol is audited
    Then there is a deviation of TX118-ELIG-ANC for subject "P07" on "2025-02-24"
    And the findings of TX118-ELIG-ANC say "Baseline ANC 1.3 x 10^9/L on 2025-02-21 is below 1.5 10^9/L."

  @TX118-ELIG-ANC
  Scenario: The latest count is exactly 1.5, and a lower one before it does not decide
    Given the visit log:
      | subject | date       | event       | anc | cycle | dose | start            |
      | P04     | 2025-01-20 | blood_count | 1.2 |       |      |                  |
      | P04     | 2025-01-27 | blood_count | 1.5 |       |      |                  |
      | P04     | 2025-02-03 | dosing      |     | 1     | 234  | 2025-02-03T09:00 |
    When the protocol is audited
    Then there are no findings of TX118-ELIG-ANC
    And the status of TX118-ELIG-ANC for subject "P04" is passed

  @TX118-ELIG-ANC
  Scenario: A count 15 days before the first dose is no baseline: not evaluable
    Given the visit log:
      | subject | date       | event       | anc | cycle | dose | start            |
      | P10     | 2025-03-11 | blood_count | 3.0 |       |      |                  |
      | P10     | 2025-03-26 | dosing      |     | 1     | 225  | 2025-03-26T09:00 |
    When the protocol is audited
    Then there is a not evaluable finding of TX118-ELIG-ANC for subject "P10" on "2025-03-26" because "there is no baseline_anc"

  @TX118-ELIG-PREGNANCY
  Scenario: A pregnancy test 73 hours before the first infusion started
    Given the visit log:
      | subject | date       | event          | birth_date | sex | childbearing_potential | weight | taken            | positive | cycle | dose | start            |
      | P06     | 2025-02-03 | screening      | 1979-03-03 | F   | yes                    | 66.0   |                  |          |       |      |                  |
      | P06     | 2025-02-14 | pregnancy_test |            |     |                        |        | 2025-02-14T08:00 | no       |       |      |                  |
      | P06     | 2025-02-17 | dosing         |            |     |                        |        |                  |          | 1     | 198  | 2025-02-17T09:00 |
    When the protocol is audited
    Then there is a deviation of TX118-ELIG-PREGNANCY for subject "P06" on "2025-02-17"

  @TX118-ELIG-PREGNANCY
  Scenario: Exactly 72 hours before, 73 on the wall clock across the spring clock change, and a man
    Given the visit log:
      | subject | site | date       | event          | birth_date | sex | childbearing_potential | weight | taken            | positive | cycle | dose | start            |
      | P02     | 02   | 2025-01-06 | screening      | 1985-09-02 | F   | yes                    | 62.0   |                  |          |       |      |                  |
      | P02     | 02   | 2025-01-17 | pregnancy_test |            |     |                        |        | 2025-01-17T09:30 | no       |       |      |                  |
      | P02     | 02   | 2025-01-20 | dosing         |            |     |                        |        |                  |          | 1     | 186  | 2025-01-20T09:30 |
      | X01     | 01   | 2025-03-14 | screening      | 1990-01-01 | F   | yes                    | 60.0   |                  |          |       |      |                  |
      | X01     | 01   | 2025-03-28 | pregnancy_test |            |     |                        |        | 2025-03-28T09:00 | no       |       |      |                  |
      | X01     | 01   | 2025-03-31 | dosing         |            |     |                        |        |                  |          | 1     | 180  | 2025-03-31T10:00 |
      | P01     | 01   | 2024-12-30 | screening      | 1962-04-10 | M   | no                     | 70.0   |                  |          |       |      |                  |
      | P01     | 01   | 2025-01-13 | dosing         |            |     |                        |        |                  |          | 1     | 210  | 2025-01-13T09:00 |
    When the protocol is audited
    Then there are no findings of TX118-ELIG-PREGNANCY
    And the status of TX118-ELIG-PREGNANCY for subject "P02" is passed
    And the status of TX118-ELIG-PREGNANCY for subject "X01" is passed
    And the status of TX118-ELIG-PREGNANCY for subject "P01" is not applicable

  @TX118-TRT-WEIGHT
  Scenario: Weighed two days before the cycle's dose
    Given the visit log:
      | subject | date       | event  | weight | cycle | dose | start            |
      | P08     | 2025-03-05 | vitals | 64.0   |       |      |                  |
      | P08     | 2025-03-05 | dosing |        | 1     | 192  | 2025-03-05T09:00 |
      | P08     | 2025-03-24 | vitals | 64.0   |       |      |                  |
      | P08     | 2025-03-26 | dosing |        | 2     | 192  | 2025-03-26T09:00 |
    When the protocol is audited
    Then there is exactly 1 finding of TX118-TRT-WEIGHT
    And there is a deviation of TX118-TRT-WEIGHT for subject "P08" on "2025-03-26"

  @TX118-TRT-WEIGHT
  Scenario: Weighed on the day before the dose, or on its day
    Given the visit log:
      | subject | date       | event  | weight | cycle | dose | start            |
      | P01     | 2025-02-03 | vitals | 70.0   |       |      |                  |
      | P01     | 2025-02-03 | dosing |        | 2     | 210  | 2025-02-03T09:00 |
      | P01     | 2025-02-23 | vitals | 70.0   |       |      |                  |
      | P01     | 2025-02-24 | dosing |        | 3     | 210  | 2025-02-24T09:00 |
    When the protocol is audited
    Then there are no findings of TX118-TRT-WEIGHT
    And the status of TX118-TRT-WEIGHT for subject "P01" is passed

  @TX118-TRT-INFUSION
  Scenario: An infusion of 1 h 59 on the wall clock that took 59 minutes, the night the clocks went forward
    Given the visit log:
      | subject | site | date       | event  | cycle | dose | start            | stop             |
      | P03     | 01   | 2025-03-30 | dosing | 4     | 162  | 2025-03-30T01:30 | 2025-03-30T03:29 |
    When the protocol is audited
    Then there is a deviation of TX118-TRT-INFUSION for subject "P03" on "2025-03-30"
    And the findings of TX118-TRT-INFUSION say "Cycle 4 infusion ran from 2025-03-30T01:30 to 2025-03-30T03:29: under 60 minutes."

  @TX118-TRT-INFUSION
  Scenario: Exactly 60 minutes, the stop written in UTC at the Boston site, or across the clock change
    Given the visit log:
      | subject | site | date       | event  | cycle | dose | start            | stop                   |
      | P09     | 02   | 2025-04-04 | dosing | 2     | 270  | 2025-04-04T10:00 | 2025-04-04T15:00+00:00 |
      | X03     | 01   | 2025-03-30 | dosing | 1     | 162  | 2025-03-30T01:30 | 2025-03-30T03:30       |
    When the protocol is audited
    Then there are no findings of TX118-TRT-INFUSION
    And the status of TX118-TRT-INFUSION for subject "P09" is passed
    And the status of TX118-TRT-INFUSION for subject "X03" is passed

  @TX118-TRT-INFUSION
  Scenario: An infusion whose stop is not recorded cannot be judged
    Given the visit log:
      | subject | date       | event  | cycle | dose | start            | stop |
      | P12     | 2025-04-28 | dosing | 1     | 216  | 2025-04-28T09:00 |      |
    When the protocol is audited
    Then there is a not evaluable finding of TX118-TRT-INFUSION for subject "P12" on "2025-04-28" because "dosing has no stop"

  @TX118-TRT-CYCLE
  Scenario: A cycle 25 days after the previous one
    Given the visit log:
      | subject | date       | event  | cycle | dose | start            |
      | P10     | 2025-04-16 | dosing | 2     | 225  | 2025-04-16T09:00 |
      | P10     | 2025-05-11 | dosing | 3     | 225  | 2025-05-11T09:00 |
    When the protocol is audited
    Then there is a deviation of TX118-TRT-CYCLE for subject "P10" on "2025-05-11"

  @TX118-TRT-CYCLE
  Scenario: Cycles 24 and 18 days after the previous one, and a first dose with none before it
    Given the visit log:
      | subject | date       | event  | cycle | dose | start            |
      | P02     | 2025-01-20 | dosing | 1     | 186  | 2025-01-20T09:30 |
      | P02     | 2025-02-13 | dosing | 2     | 186  | 2025-02-13T09:00 |
      | P02     | 2025-03-03 | dosing | 3     | 186  | 2025-03-03T09:00 |
    When the protocol is audited
    Then there are no findings of TX118-TRT-CYCLE
    And the status of TX118-TRT-CYCLE for subject "P02" is passed

  @TX118-SCAN-MISSED @TX118-SCAN-TIMING
  Scenario: A scan 8 days after its due date leaves the due date without a scan, and is late
    Given the visit log:
      | subject | date       | event            | cycle | dose | start            | modality | reason              |
      | P04     | 2025-02-03 | dosing           | 1     | 234  | 2025-02-03T09:00 |          |                     |
      | P04     | 2025-03-17 | imaging          |       |      |                  | CT       |                     |
      | P04     | 2025-05-06 | imaging          |       |      |                  | CT       |                     |
      | P04     | 2025-05-10 | end_of_treatment |       |      |                  |          | completed treatment |
    When the protocol is audited
    Then there is exactly 1 finding of TX118-SCAN-MISSED
    And there is a deviation of TX118-SCAN-MISSED for subject "P04" on "2025-04-28"
    And there is exactly 1 finding of TX118-SCAN-TIMING
    And there is a deviation of TX118-SCAN-TIMING for subject "P04" on "2025-05-06"
    And the findings of TX118-SCAN-TIMING say "Scan on 2025-05-06 is outside the window of due date 2 (2025-04-21 to 2025-05-05)."

  @TX118-SCAN-MISSED @TX118-SCAN-TIMING
  Scenario: A scan exactly 7 days late is on time; the baseline scan and a due date after the end of treatment are not checked
    Given the visit log:
      | subject | date       | event            | cycle | dose | start            | modality | reason              |
      | P01     | 2025-01-03 | imaging          |       |      |                  | CT       |                     |
      | P01     | 2025-01-13 | dosing           | 1     | 210  | 2025-01-13T09:00 |          |                     |
      | P01     | 2025-03-03 | imaging          |       |      |                  | CT       |                     |
      | P01     | 2025-04-06 | end_of_treatment |       |      |                  |          | completed treatment |
    When the protocol is audited
    Then there are no findings of TX118-SCAN-MISSED
    And there are no findings of TX118-SCAN-TIMING
    And the status of TX118-SCAN-MISSED for subject "P01" is passed
    And the status of TX118-SCAN-TIMING for subject "P01" is passed

  @TX118-SCAN-MISSED
  Scenario: Still on treatment, a window open at the cut-off is pending, not missed
    Given the visit log:
      | subject | date       | event   | cycle | dose | start            | modality |
      | P14     | 2025-08-15 | imaging |       |      |                  | CT       |
      | P14     | 2025-08-25 | dosing  | 1     | 177  | 2025-08-25T09:00 |          |
      | P14     | 2025-09-15 | dosing  | 2     | 177  | 2025-09-15T09:00 |          |
    When the protocol is audited as of "2025-09-30"
    Then there are no findings of TX118-SCAN-MISSED
    And TX118-SCAN-MISSED is pending for 1 subject

  @TX118-SAF-SAE-REPORT
  Scenario: A serious event reported 24 hours and 1 minute after the Berlin site became aware
    Given the visit log:
      | subject | site | date       | event         | term               | grade | serious | related | aware            | reported               |
      | P06     | 01   | 2025-03-06 | adverse_event | neutropenic sepsis | 4     | yes     | yes     | 2025-03-06T18:00 | 2025-03-07T17:01+00:00 |
    When the protocol is audited
    Then there is a deviation of TX118-SAF-SAE-REPORT for subject "P06" on "2025-03-06"

  @TX118-SAF-SAE-REPORT
  Scenario: Reported exactly 24 hours after the Boston site became aware; a late report of an event not ticked serious
    Given the visit log:
      | subject | site | date       | event         | term                | grade | serious | related | aware            | reported               |
      | P02     | 02   | 2025-02-10 | adverse_event | febrile neutropenia | 4     | yes     | yes     | 2025-02-10T20:00 | 2025-02-12T01:00+00:00 |
      | P01     | 01   | 2025-01-20 | adverse_event | rash                | 3     |         | yes     | 2025-01-20T10:00 | 2025-01-25T10:00       |
    When the protocol is audited
    Then there are no findings of TX118-SAF-SAE-REPORT
    And the status of TX118-SAF-SAE-REPORT for subject "P02" is passed
    And the status of TX118-SAF-SAE-REPORT for subject "P01" is not applicable

  @TX118-SAF-SAE-REPORT
  Scenario: A serious event whose receipt by the sponsor is not recorded cannot be judged
    Given the visit log:
      | subject | site | date       | event         | term             | grade | serious | aware            |
      | P07     | 03   | 2025-03-03 | adverse_event | thrombocytopenia | 4     | yes     | 2025-03-03T10:00 |
    When the protocol is audited
    Then there is a not evaluable finding of TX118-SAF-SAE-REPORT for subject "P07" on "2025-03-03" because "adverse_event has no reported"

  @TX118-SAF-PAUSE
  Scenario: A first dose after the second early toxicity and before the committee resumes is a deviation
    Given the visit log:
      | subject | site | date       | event         | cycle | dose | start            | term                | grade | related | decision |
      | P02     | 02   | 2025-01-27 | dosing        | 1     | 210  | 2025-01-27T09:00 |                     |       |         |          |
      | P02     | 02   | 2025-02-10 | adverse_event |       |      |                  | febrile neutropenia | 4     | yes     |          |
      | P06     | 01   | 2025-02-17 | dosing        | 1     | 180  | 2025-02-17T09:00 |                     |       |         |          |
      | P06     | 01   | 2025-03-06 | adverse_event |       |      |                  | neutropenic sepsis  | 4     | yes     |          |
      |         |      | 2025-03-12 | committee     |       |      |                  |                     |       |         | hold     |
      | P09     | 02   | 2025-03-14 | dosing        | 1     | 240  | 2025-03-14T09:00 |                     |       |         |          |
      |         |      | 2025-03-26 | committee     |       |      |                  |                     |       |         | resume   |
      | P10     | 03   | 2025-03-26 | dosing        | 1     | 200  | 2025-03-26T09:00 |                     |       |         |          |
    When the protocol is audited
    Then there is a deviation of TX118-SAF-PAUSE for subject "P09" on "2025-03-14"
    And the findings of TX118-SAF-PAUSE say "First dose on 2025-03-14, while enrolment was paused from 2025-03-06."
    And there is exactly 1 finding of TX118-SAF-PAUSE

  @TX118-SAF-PAUSE
  Scenario: Events that look like early toxicities but do not count start no pause
    Given the visit log:
      | subject | site | date       | event         | cycle | dose | start            | term               | grade | related |
      | P01     | 01   | 2025-01-13 | dosing        | 1     | 210  | 2025-01-13T09:00 |                    |       |         |
      | P01     | 01   | 2025-01-20 | adverse_event |       |      |                  | rash               | 3     | yes     |
      | P03     | 01   | 2025-01-20 | dosing        | 1     | 200  | 2025-01-20T09:00 |                    |       |         |
      | P03     | 01   | 2025-02-05 | adverse_event |       |      |                  | pulmonary embolism | 4     |         |
      | P04     | 03   | 2025-02-03 | dosing        | 1     | 190  | 2025-02-03T09:00 |                    |       |         |
      | P04     | 03   | 2025-02-25 | adverse_event |       |      |                  | febrile neutropenia | 4    | yes     |
      | P06     | 01   | 2025-02-17 | dosing        | 1     | 180  | 2025-02-17T09:00 |                    |       |         |
      | P06     | 01   | 2025-03-06 | adverse_event |       |      |                  | neutropenic sepsis | 4     | yes     |
      | P09     | 02   | 2025-03-14 | dosing        | 1     | 240  | 2025-03-14T09:00 |                    |       |         |
    When the protocol is audited
    Then there are no findings of TX118-SAF-PAUSE
    And the status of TX118-SAF-PAUSE for the trial is passed

  @TX118-ELIG-CRCL
  Scenario: A woman of 70, 58 kg, creatinine 1.1 mg/dL has a clearance of 43.57 mL/min: below 50
    Given the visit log:
      | subject | site | date       | event     | birth_date | sex | childbearing_potential | weight | creatinine |
      | P05     | 02   | 2025-01-27 | screening | 1954-08-15 | F   | no                     | 58.0   | 1.1        |
    When the protocol is audited
    Then there is a deviation of TX118-ELIG-CRCL for subject "P05" on "2025-01-27"

  @TX118-ELIG-CRCL
  Scenario: A man of 60, 54 kg, creatinine 1.2 mg/dL has exactly 50 mL/min
    Given the visit log:
      | subject | site | date       | event     | birth_date | sex | childbearing_potential | weight | creatinine |
      | P03     | 01   | 2025-01-13 | screening | 1964-11-20 | M   | no                     | 54.0   | 1.2        |
    When the protocol is audited
    Then there are no findings of TX118-ELIG-CRCL
    And the status of TX118-ELIG-CRCL for subject "P03" is passed

  @TX118-ELIG-CRCL
  Scenario: Without a creatinine the clearance cannot be worked out
    Given the visit log:
      | subject | site | date       | event     | birth_date | sex | childbearing_potential | weight | creatinine |
      | P12     | 01   | 2025-04-14 | screening | 1968-10-01 | M   | no                     | 72.0   |            |
    When the protocol is audited
    Then there is a not evaluable finding of TX118-ELIG-CRCL for subject "P12" on "2025-04-14" because "crcl cannot be worked out: screening has no creatinine"

  @TX118-TRT-DOSE
  Scenario: 240 mg for a cycle weighed at 70 kg is 14.3 % over 3 mg/kg
    Given the visit log:
      | subject | site | date       | event  | weight | cycle | dose | start            |
      | P11     | 03   | 2025-05-26 | vitals | 70.0   |       |      |                  |
      | P11     | 03   | 2025-05-26 | dosing |        | 3     | 240  | 2025-05-26T09:00 |
    When the protocol is audited
    Then there is a deviation of TX118-TRT-DOSE for subject "P11" on "2025-05-26"
    And the findings of TX118-TRT-DOSE say "Cycle 3 dose 240 mg is outside 10% of 3 mg/kg times 70.0 kg."

  @TX118-TRT-DOSE
  Scenario: 231 mg and 189 mg for 70 kg are exactly 10 % either way of 210 mg
    Given the visit log:
      | subject | site | date       | event  | weight | cycle | dose | start            |
      | P01     | 01   | 2025-01-13 | vitals | 70.0   |       |      |                  |
      | P01     | 01   | 2025-01-13 | dosing |        | 1     | 231  | 2025-01-13T09:00 |
      | P01     | 01   | 2025-02-03 | vitals | 70.0   |       |      |                  |
      | P01     | 01   | 2025-02-03 | dosing |        | 2     | 189  | 2025-02-03T09:00 |
    When the protocol is audited
    Then there are no findings of TX118-TRT-DOSE
    And the status of TX118-TRT-DOSE for subject "P01" is passed

  @TX118-TRT-DOSE
  Scenario: A dose with no weight on its day or the day before cannot be judged
    Given the visit log:
      | subject | site | date       | event  | cycle | dose | start            |
      | P08     | 02   | 2025-03-26 | dosing | 2     | 192  | 2025-03-26T09:00 |
    When the protocol is audited
    Then there is a not evaluable finding of TX118-TRT-DOSE for subject "P08" on "2025-03-26" because "there is no cycle_weight"
