"""The rules language's syntax tree: frozen dataclasses, tuple children, a span on every node."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import Span


@dataclass(frozen=True, kw_only=True)
class Node:
    span: Span


# ----- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Quantity(Node):
    value: Decimal
    unit: str | None


@dataclass(frozen=True, kw_only=True)
class Text(Node):
    value: str


@dataclass(frozen=True, kw_only=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, kw_only=True)
class NameRef(Node):
    """`field`, `parameter` or `record.field`."""

    name: str
    field: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnchorRef(Node):
    """`first infusion` or `last infusion.dose`: the subject's first or last record of a type."""

    which: str
    event: str
    field: str | None = None


@dataclass(frozen=True, kw_only=True)
class RelativeRef(Node):
    """`previous dosing` or `next dosing.dose`: the subject's record of a type dated just before (or just
    after) the record checked."""

    which: str  # previous | next
    event: str
    field: str | None = None


@dataclass(frozen=True, kw_only=True)
class RankedRef(Node):
    """`the 3rd subject's last infusion in the previous dose_group`."""

    rank: int
    which: str
    event: str
    relation: str
    attribute: str
    field: str | None = None


@dataclass(frozen=True, kw_only=True)
class GroupStateRef(Node):
    """`cohort_done.start for the previous dose_group`: a field of a trial state kept per group."""

    state: str
    field: str
    relation: str  # previous | same
    attribute: str
    attribute_span: Span


@dataclass(frozen=True, kw_only=True)
class Lookup(Node):
    """`nominal_dose[dose_group]`: a table parameter indexed by a value."""

    table: str
    key: Expr


@dataclass(frozen=True, kw_only=True)
class Elapsed(Node):
    """`years from birth_date to date`: completed calendar units between two dates."""

    unit: str
    start: Expr
    end: Expr


@dataclass(frozen=True, kw_only=True)
class Arith(Node):
    """`a + b`, `a - b`, `a * b`, `a / b`; parentheses leave no node (each operand keeps its span)."""

    left: Expr
    op: str
    right: Expr


Expr = Quantity | Text | Boolean | NameRef | AnchorRef | RankedRef | GroupStateRef | Lookup | Elapsed | Arith


# ----- conditions --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    left: Expr
    op: str
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Within(Node):
    """`x within W before|after|of y`: a window around a date, or a tolerance around a value."""

    subject: Expr
    width: Expr
    relation: str
    anchor: Expr


@dataclass(frozen=True, kw_only=True)
class Between(Node):
    subject: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True, kw_only=True)
class Member(Node):
    """`x in ("a", "b")`, or `x not in (...)`: one of a list of constants."""

    subject: Expr
    values: tuple[Quantity | Text, ...]
    negated: bool = False


@dataclass(frozen=True, kw_only=True)
class Known(Node):
    subject: Expr
    known: bool


@dataclass(frozen=True, kw_only=True)
class Truthy(Node):
    subject: Expr


@dataclass(frozen=True, kw_only=True)
class And(Node):
    items: tuple[Cond, ...]


@dataclass(frozen=True, kw_only=True)
class Or(Node):
    items: tuple[Cond, ...]


@dataclass(frozen=True, kw_only=True)
class Not(Node):
    item: Cond


Cond = Compare | Within | Between | Member | Known | Truthy | And | Or | Not


# ----- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Source(Node):
    """What a rule is checked for: each record, a subject's first/last, a group's first, a count."""

    form: str  # each | first | last | group_first | group_last | count
    event: str
    event_span: Span
    attribute: str | None = None  # grouping attribute for group_* sources
    period: str | None = None  # count: subject | day | week | window | due | schedule
    week_start: str | None = None
    week_start_span: Span | None = None
    # count per window: `per INTERVAL from first|last EVENT through HORIZON`; per due date (period "due"):
    # `per INTERVAL within TOLERANCE from first|last EVENT [until first|last EVENT]`
    interval: Expr | None = None
    anchor: AnchorRef | None = None
    horizon: Expr | None = None
    tolerance: Expr | None = None
    until: AnchorRef | None = None
    schedule: str | None = None  # count per visit of a declared schedule: `per follow_up`
    schedule_span: Span | None = None


@dataclass(frozen=True, kw_only=True)
class Verdict(Node):
    mode: str  # require | forbid
    cond: Cond | None
    exists_event: str | None = None
    exists_span: Span | None = None
    due: Expr | None = None


@dataclass(frozen=True, kw_only=True)
class Need(Node):
    """`needs a lab where ...`: without such a record the rule cannot be judged for the subject."""

    event: str
    event_span: Span
    cond: Cond | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class Excuse(Node):
    """`unless a discontinuation where ...`: such a record excuses the subject from the rule."""

    event: str
    event_span: Span
    cond: Cond | None


@dataclass(frozen=True, kw_only=True)
class Check(Node):
    source: Source
    where: Cond | None
    verdict: Verdict
    needs: tuple[Need, ...] = ()
    excuses: tuple[Excuse, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Rule(Node):
    id: str
    id_span: Span
    title: str
    severity: str | None
    severity_span: Span | None
    category: str | None
    cites: str | None
    message: str | None
    message_span: Span | None
    check: Check
    criteria: tuple[tuple[str, Span], ...] = ()  # `cites INC-1, EXC-7`
    important: bool | None = None
    choices: tuple[str, ...] = ()
    approximate: str | None = None  # why the rule states its criterion only approximately
    dated_by: Expr | None = None  # `dated by EXPR`: the date its findings carry, instead of the default
    report: str | None = None  # `report each` | `report once per subject` ("once"): how findings are counted
    report_span: Span | None = None


@dataclass(frozen=True, kw_only=True)
class FieldDecl(Node):
    name: str
    type: str
    type_span: Span
    unit: str | None
    required: bool
    empty: Quantity | Text | Boolean | None = None  # `empty means VALUE`: what an empty cell stands for


@dataclass(frozen=True, kw_only=True)
class EventDecl(Node):
    name: str
    label: str | None
    trial_level: bool
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True, kw_only=True)
class GroupDecl(Node):
    """`group procedure = lab, infusion`: records of several event types read as one type."""

    name: str
    label: str | None
    members: tuple[tuple[str, Span], ...]


@dataclass(frozen=True, kw_only=True)
class SubjectDecl(Node):
    """`subject dose_group = enrolment.dose_group`: a per-subject attribute read from a record."""

    name: str
    event: str
    field: str
    source_span: Span


@dataclass(frozen=True, kw_only=True)
class ReferenceDecl(Node):
    """`reference baseline_anc = latest lab where test = "ANC" dated within 14 days before first dosing`.

    The latest (or earliest) record of a type, among those its `where` admits, dated on the stated side of
    an anchor: the subject's first or last record of a type, or each record a rule checks.
    """

    name: str
    label: str | None
    order: str  # latest | earliest
    event: str
    event_span: Span
    where: Cond | None
    side: str  # before | after
    inclusive: bool  # `on or before`, and every `within`, include the anchor's own day
    width: Expr | None  # `dated within 14 days before ...`
    anchor_which: str  # first | last | each
    anchor_event: str
    anchor_span: Span
    ties: str | None = None  # any | each: how records tied on the day found are judged


@dataclass(frozen=True, kw_only=True)
class StateDecl(Node):
    """`state pause = starts at the 2nd early_toxicity of the first 6 subjects by first dosing ends at first
    committee where decision = "resume"`: a trial-level state, started on a date found across subjects.

    Its start is the Nth date among the subjects' marks (a first or last record of a type, or the record a
    reference finds), counted over the first M subjects by a record of theirs when `among` says so, per
    group of a subject attribute when `per` says so. It ends at the first (or last)
    trial record of a type, among those `end_where` admits, dated on or after its start.
    """

    name: str
    label: str | None
    per: str | None
    per_span: Span | None
    ordinal: int
    ordinal_span: Span
    mark_which: str | None  # first | last; None: the mark is a reference
    mark: str  # an event type, or a reference
    mark_span: Span
    among: int | None = None
    among_span: Span | None = None
    among_which: str | None = None
    among_event: str | None = None
    among_event_span: Span | None = None
    end_which: str | None = None
    end_event: str | None = None
    end_span: Span | None = None
    end_where: Cond | None = None


@dataclass(frozen=True, kw_only=True)
class SiteDecl(Node):
    """`site "01" zone "Europe/Berlin"`: the time zone of a site's wall clock."""

    site: str
    zone: str
    zone_span: Span


@dataclass(frozen=True, kw_only=True)
class VisitDecl(Node):
    """`"Week 2": day 15 within 3 days`: one visit of a schedule, its window either side of its day."""

    label: str
    day: Decimal  # a whole number, checked by the compiler
    day_span: Span
    before: Expr | None = None  # None: the visit's day itself
    after: Expr | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleDecl(Node):
    """`schedule follow_up "Follow-up" from first dosing as day 1 { ... }`: a visit table; or due dates
    every period, `schedule scans every 6 weeks within 7 days from first dosing until ...`."""

    name: str
    label: str | None
    anchor: AnchorRef
    anchor_day: Decimal  # the number the anchor's own day has: 0 or 1, checked by the compiler
    anchor_day_span: Span
    until: AnchorRef | None
    visits: tuple[VisitDecl, ...]
    # A periodic schedule (`every 6 weeks within 7 days ...`) has these instead of visits.
    every: Expr | None = None
    within: Expr | None = None
    through: Expr | None = None


@dataclass(frozen=True, kw_only=True)
class TableEntry(Node):
    key: Decimal | str
    value: Quantity


@dataclass(frozen=True, kw_only=True)
class ParamDecl(Node):
    name: str
    value: Quantity | None = None
    key_attribute: str | None = None
    entries: tuple[TableEntry, ...] = ()
    choice: str | None = None


@dataclass(frozen=True, kw_only=True)
class FormulaDecl(Node):
    """`formula crcl "Creatinine clearance" in mL/min = EXPR [empirical "why"]`: a computed amount, read in
    rules like a field of the record checked; its names resolve in the scope of each rule that reads it."""

    name: str
    label: str | None
    unit: str
    body: Expr
    empirical: str | None = None  # why its constants carry units: each operand is a plain number in its unit


@dataclass(frozen=True, kw_only=True)
class Criterion(Node):
    """A protocol criterion, as the registry words it; `manual` when no data can show it."""

    id: str
    id_span: Span
    text: str
    manual: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProtocolDecl(Node):
    name: str
    registry: str | None


@dataclass(frozen=True, kw_only=True)
class VersionDecl(Node):
    """`version "1.0" effective "2022-09-01"`: the version of the text outside any amendment."""

    name: str
    effective: str
    effective_span: Span


@dataclass(frozen=True, kw_only=True)
class GovernedDecl(Node):
    """`governed by consent`: the version in force at a subject's first such record judges them."""

    event: str
    event_span: Span


@dataclass(frozen=True, kw_only=True)
class Withdrawal(Node):
    """`withdraw rule ID` inside an amendment."""

    rule_id: str
    id_span: Span


@dataclass(frozen=True, kw_only=True)
class Amendment(Node):
    """Parameters and rules that replace (or add to, or withdraw from) the text from a date on."""

    name: str
    effective: str
    effective_span: Span
    summary: str | None
    parameters: tuple[ParamDecl, ...]
    rules: tuple[Rule, ...]
    withdrawals: tuple[Withdrawal, ...]


@dataclass(frozen=True, kw_only=True)
class Protocol(Node):
    header: ProtocolDecl | None
    criteria: tuple[Criterion, ...]
    events: tuple[EventDecl, ...]
    groups: tuple[GroupDecl, ...]
    subject_attributes: tuple[SubjectDecl, ...]
    parameters: tuple[ParamDecl, ...]
    rules: tuple[Rule, ...]
    references: tuple[ReferenceDecl, ...] = ()
    sites: tuple[SiteDecl, ...] = ()
    schedules: tuple[ScheduleDecl, ...] = ()
    states: tuple[StateDecl, ...] = ()
    formulas: tuple[FormulaDecl, ...] = ()
    version: VersionDecl | None = None
    governed_by: GovernedDecl | None = None
    amendments: tuple[Amendment, ...] = ()
