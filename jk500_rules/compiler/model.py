"""The compiled model: what the compiler produces and every later stage reads (events, rules, tests, plan)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from dataclasses import dataclass, field

from ..errors import Diagnostic, Span
from ..language import nodes as n
from .computed import ComputedAmount

DECIMAL_PLACES = 6
DECIMAL_SCALE = 10**DECIMAL_PLACES
FIELD_TYPES = ("date", "datetime", "time", "integer", "decimal", "text", "boolean")
SEVERITIES = ("critical", "major", "minor")
DURATION_UNITS = {"day": ("days", 1), "days": ("days", 1), "week": ("days", 7), "weeks": ("days", 7),
                  "month": ("months", 1), "months": ("months", 1), "year": ("months", 12), "years": ("months", 12),
                  "hour": ("seconds", 3600), "hours": ("seconds", 3600), "minute": ("seconds", 60),
                  "minutes": ("seconds", 60)}
OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "!=", "!=": "="}
RESERVED_FIELDS = ("date", "kind", "ref", "seq", "rseq", "count", "group", "rank", "id", "sid", "end", "window")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    unit: str | None
    required: bool
    empty: Decimal | str | bool | None = None  # the value an empty cell stands for (`empty means`)

    @property
    def may_be_unknown(self) -> bool:
        """Whether a record can lack this value: neither required nor given a value when empty."""
        return not self.required and self.empty is None


@dataclass(frozen=True)
class EventSpec:
    name: str
    label: str | None
    trial_level: bool
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class Test:
    """`alias.field OP constant` or `alias.field OP other.field + offset`."""

    alias: str
    field: str
    op: str
    const: int | str | None = None
    other: str | None = None
    other_field: str | None = None
    offset: int = 0

    factor: int = 1
    dated: bool = False  # compares two dates (or a count with a number): bounded by `_bounded` when a date may be partial
    # `other * factor / divisor`, rounded up ("ceil") or down ("floor") to a whole number: a bound that is a
    # fraction of a computed amount. Exact for an amount of at least zero (C's division truncates).
    divisor: int = 0
    rounding: str = ""

    def condition(self) -> dict:
        if self.other is None:
            value: object = self.const
        else:
            ref: dict = {"$m": self.other_field} if self.other == self.alias else {self.other: self.other_field}
            if self.divisor > 1:
                ref = _fraction_of(ref, self.factor, self.divisor, self.rounding)
            elif self.factor != 1:
                ref = {"$mul": {"$l": ref, "$r": self.factor}}
            if self.offset > 0:
                value = {"$add": {"$l": ref, "$r": self.offset}}
            elif self.offset < 0:
                value = {"$sub": {"$l": ref, "$r": -self.offset}}
            else:
                value = ref
        if self.op == "=":
            return {self.field: value}
        return {OPS[self.op]: {self.field: value}}


def _fraction_of(ref: dict, num: int, den: int, rounding: str) -> dict:
    """ceil or floor of `ref * num / den` in integers that never overflow past the bound itself:
    with ref = q * den + r, it is q * num + (r * num [+ den - 1]) / den."""
    q = {"$div": {"$l": ref, "$r": den}}
    r = {"$sub": {"$l": ref, "$r": {"$mul": {"$l": q, "$r": den}}}}
    part: dict = {"$mul": {"$l": r, "$r": num}}
    if rounding == "ceil":
        part = {"$add": {"$l": part, "$r": den - 1}}
    return {"$add": {"$l": {"$mul": {"$l": q, "$r": num}}, "$r": {"$div": {"$l": part, "$r": den}}}}


@dataclass(frozen=True)
class Pattern:
    """One fact an engine rule matches: a kind, identity tests (which fact), value tests."""

    alias: str
    kind: str
    identity: tuple[Test, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class EngineRule:
    """One durable-rules rule: an ordered set of patterns and the tests on them."""

    name: str
    role: str  # trigger | due | covered | deviation | unknown | needs | excused | anchored | unanchored_excuse
    patterns: tuple[Pattern, ...]
    tests: tuple[Test, ...]
    reason: str | None = None
    need: int = 0  # which `needs` clause a `needs` rule satisfies

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", _place(self.patterns, self.tests))

    def definition(self) -> dict:
        by_alias: dict[str, list[dict]] = {p.alias: [{"kind": p.kind}] for p in self.patterns}
        for pattern in self.patterns:
            by_alias[pattern.alias].extend(t.condition() for t in pattern.identity)
        for test in self.tests:
            by_alias[test.alias].append(test.condition())
        definition: dict = {
            "all": [
                {p.alias: (by_alias[p.alias][0] if len(by_alias[p.alias]) == 1 else {"$and": by_alias[p.alias]})}
                for p in self.patterns
            ]
        }
        kinds = [p.kind for p in self.patterns]
        if len(set(kinds)) < len(kinds):
            # Two roles may be one record (a single infusion is the first and the last): by default the
            # engine never lets one fact fill two aliases, which would silently drop such matches.
            definition["dist"] = 0
        return definition


@dataclass(frozen=True)
class CriterionSpec:
    id: str
    text: str
    manual: str | None
    line: int


@dataclass(frozen=True)
class Choice:
    """A reading the protocol writer chose where the protocol is silent or ambiguous."""

    owner: str  # a rule id, or "parameter NAME"
    line: int
    text: str


@dataclass(frozen=True)
class WindowBound:
    """One side of a rule's window: the record's date `op` the anchor's `field` plus an offset, as the engine
    tests it (compiler/windows.py). `encoding` "cal" or "calhi": the test compares calendar positions
    (dates.py), the offset in calendar months; "": day numbers, the offset in days."""

    op: str  # > >= < <=
    anchor: Pattern  # the record (or state, reference, rank fact) the bound is counted from
    field: str  # its date field: date, start, end, or a date field of the record
    days: int = 0
    months: int = 0
    encoding: str = ""
    words: str = ""  # the anchor as the rules text names it: "first infusion"
    group: str = ""  # a subject attribute whose value completes `words` ("the first infusion of dose group" 3)


@dataclass(frozen=True)
class WindowSpec:
    """The window a rule computes: the bounds its tests put on one record's date (`subject`: t, the record
    checked, or x, the record sought), or (`count`) the window a count per window is counted in."""

    subject: str
    event: str
    low: WindowBound | None = None
    high: WindowBound | None = None
    count: Window | None = None
    count_words: str = ""  # the count's anchor in words: "first infusion"


@dataclass(frozen=True)
class CompiledRule:
    id: str
    title: str
    severity: str
    category: str
    cites: str | None
    message: str
    span: Span
    mode: str  # require | forbid
    level: str  # subject | trial
    trigger_event: str  # the event type the rule is checked for
    exists_event: str | None  # the event type a `require a`/`forbid a` clause looks for
    engine_rules: tuple[EngineRule, ...]
    has_due: bool
    # The same rules for sessions with a partial date: date tests over intervals (see `_bounded`), plus
    # `possible_*` rules for what such dates make possible but not certain.
    interval_rules: tuple[EngineRule, ...] = ()
    trigger_label: str = ""  # what the rule is checked for, in words: "first infusion"
    absent: str = ""  # why a subject has nothing it is checked for, when "no <trigger_label> recorded" is not why
    criteria: tuple[str, ...] = ()
    important: bool = False
    choices: tuple[str, ...] = ()
    approximate: str | None = None  # why the rule states its criterion only approximately
    needs: tuple[str, ...] = ()  # the reason each `needs` clause gives when unmet
    # What each `needs` clause seeks, in its default reason's words: the same for clauses seeking one record.
    needs_sought: tuple[str, ...] = ()
    # The cause each `needs` clause names when unmet, shared by every clause seeking the same record
    # (compiler/causes.py); reports group not-evaluable findings by it.
    need_causes: tuple[str, ...] = ()
    excuses: tuple[str, ...] = ()  # the event type of each `unless` clause
    due_text: str | None = None  # the `judged from` expression as written
    # Per reference the rule reads (its pattern alias): how records tied on the day found are judged
    # (any | each | "" for a possible deviation when they disagree), and its name in words.
    ties: tuple[tuple[str, str, str], ...] = ()
    # Message placeholders that name a reference (`{baseline_anc.result}`): the reference's alias.
    reference_aliases: tuple[tuple[str, str], ...] = ()
    # Checked for a subject's first or last record, but judged with the trial (it reads a trial state):
    # each finding names the subject whose record it is.
    per_subject: bool = False
    checked_for: str = "each"  # what `for` names: each | first | last | count | group
    # How findings are counted: one per check ("check": per record checked, or per subject for `for first X`),
    # per offending record ("each"), or per subject ("once").
    report: str = "check"
    dated_by: DateSource | None = None  # `dated by EXPR`
    due_date: DateSource | None = None  # the `judged from` date: when something required that never came was due
    # A count rule whose engine rules also match the record that took the count past its limit (`breaking`).
    breaks: bool = False
    # The aliases of the `needs a Y` clauses of a `for first|last X require a Y` rule: the Ys they match,
    # none of which qualified, decide a deviation and date it (the latest).
    deciding: tuple[str, ...] = ()
    window: WindowSpec | None = None  # the window its tests compute, named in each finding (compiler/windows.py)


@dataclass(frozen=True)
class DateSource:
    """A date the rules text states from a matched record: its field moved by days or months."""

    alias: str
    field: str
    days: int = 0
    months: int = 0
    text: str = ""  # as written: "first infusion.date - 7 days"


# The flags of a reference's fact that say a record was found, and that whether one was could be told
# (a candidate the engine could not decide leaves it undecided); `-` keeps them clear of every field name.
VISIT_PREFIX = "visit_"  # the alias of a record's visit of a schedule: `visit_follow_up`
FOUND = "ref-found"
DECIDED = "ref-decided"


@dataclass(frozen=True)
class Finder:
    """How the audit finds one reference: an engine rule set of its own, fed before the rules that read it.

    `rule` is compiled from `for <anchor> require a <event> where <filter and date relation>`: its
    triggers are the anchors, its covered matches the candidates; the audit keeps, per anchor, the
    latest (or earliest) candidate by date, with those tied on that day.
    """

    key: str  # the value of the reference facts' `refname`
    label: str  # in words: "baseline_anc", "previous dosing"
    order: str  # latest | earliest
    event: str
    anchor_which: str  # first | last | each
    anchor_event: str
    rule: CompiledRule
    side: str = "before"  # before | after
    inclusive: bool = False  # the anchor's own day counts
    # Without a filter: the anchor fact's field that holds the day of the record found on that side, and
    # the rules that match that day's records only; fed to sessions whose finder records all have full
    # dates (a partial date among them: `rule`, which looks at every record).
    near: str | None = None
    near_rules: tuple[EngineRule, ...] = ()
    near_interval_rules: tuple[EngineRule, ...] = ()


STATE_PREFIX = "state "  # the `refname` of a trial state's facts: `state enrolment_pause`
STATE_ALIAS = "state_"  # the alias of a trial state's pattern in a rule: `state_enrolment_pause`


@dataclass(frozen=True)
class TrialState:
    """A trial-level state: started on the `ordinal`th date among the subjects' marks, ended at a trial record.

    The marks are each subject's first or last record of a type (`mark` = (which, event)) or the record a
    reference finds (`mark` = ("reference", name)); `among` = (how many, which, event) counts only the first
    subjects by a record of theirs; `per` keeps one state per group of a subject attribute. The end is the first (or last) trial record of `end_event` dated on or after the
    start that `end_rule` matches (every such record, without one).
    """

    name: str
    label: str
    ordinal: int
    mark: tuple[str, str]
    per: str | None = None
    among: tuple[int, str, str] | None = None
    end: tuple[str, str] | None = None  # (which, event)
    end_rule: CompiledRule | None = None

    @property
    def attribute(self) -> str:
        return self.per or ""

    def mark_keys(self) -> list[tuple[str, str, str]]:
        """The subjects' marks this state counts (a reference's are added after its finder ran)."""
        keys = [] if self.mark[0] == "reference" else [(self.mark[1], self.mark[0], self.attribute)]
        if self.among is not None:
            keys.append((self.among[2], self.among[1], self.attribute))
        return keys


def reference_mark(name: str, attribute: str, undecided: int = 0) -> tuple[str, str, str]:
    """The key of a subject's mark for the record a reference finds, or for a reference undecided (and why:
    the `undecided` cause of its fact)."""
    return (f"{_REFERENCE_MARK}{name}", f"undecided-{undecided}" if undecided else "found", attribute)


_REFERENCE_MARK = "reference "


def is_reference_mark(key: tuple[str, str, str]) -> bool:
    return key[0].startswith(_REFERENCE_MARK)


@dataclass(frozen=True)
class FactPlan:
    """Which facts the audit must build: depends on the rules' structure, never on their thresholds.

    The one number it reads is an ordinal: `the 3rd subject's ...` needs rank facts up to the 3rd.
    """

    events: frozenset[str]
    counts: frozenset[tuple[str, str, str]]  # (event, period, week start)
    group_firsts: frozenset[tuple[str, str, str]]  # (event, which, attribute)
    ranks: frozenset[tuple[str, str, str]]  # (event, which, attribute)
    subject: bool
    windows: frozenset[Window] = frozenset()
    visits_of: frozenset[Window] = frozenset()  # schedules whose visit each record of `event` is given
    # Event groups in use: (group, its member types, which of its records the rules read: first, last, all).
    groups: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = ()
    # Per ranked key, the highest rank a rule names (`the 3rd subject's ...`): ranks past it make no fact,
    # so the trial session holds a few facts per group, not one per subject.
    rank_depth: tuple[tuple[tuple[str, str, str], int], ...] = ()
    # Marks kept for every subject: what trial states count, and the records per-subject rules judged with
    # the trial are checked for ((event, which, "")); and the references whose record is a state's mark.
    state_marks: frozenset[tuple[str, str, str]] = frozenset()
    state_references: frozenset[tuple[str, str]] = frozenset()  # (reference, attribute)
    # The amounts worked out on each record of a type, from its data and the formula alone (computed.py).
    computed: tuple[ComputedAmount, ...] = ()
    # Counts whose records are also facts of their own, each with its position in the count (`$counted`):
    # (event, period) of the count facts, so that the engine can match the record that broke a limit.
    counted: frozenset[tuple[str, str]] = frozenset()

    def depth(self, key: tuple[str, str, str]) -> int:
        return dict(self.rank_depth)[key]

    @property
    def read_events(self) -> frozenset[str]:
        """Event types whose records the audit reads: those the rules name, and groups' members."""
        return self.events | {m for name, members, _ in self.groups if name in self.events for m in members}


@dataclass(frozen=True, order=True)
class Visit:
    """One visit of a schedule: its label, its day as written, and its window in days from the anchor's day."""

    label: str
    day: int
    offset: int  # days from the anchor's day to the visit's day
    before: int  # the window opens this many days before the visit's day
    after: int  # and closes this many days after it


@dataclass(frozen=True, order=True)
class DuePeriod:
    """Due dates every `interval` from the anchor, each with `tolerance` days either side, up to a horizon."""

    interval_days: int
    interval_months: int
    tolerance_days: int
    horizon_days: int = 0  # 0 and 0: no horizon
    horizon_months: int = 0


@dataclass(frozen=True, order=True)
class Schedule:
    """A declared schedule: a visit table, or due dates every period, counted from a subject's first/last
    anchor record, up to the `until` record."""

    name: str
    which: str
    anchor: str
    anchor_day: int  # 0 or 1: the number of the anchor's own day
    visits: tuple[Visit, ...]
    until_which: str = ""
    until: str = ""
    params: frozenset[str] = frozenset()  # parameters the windows are written with
    due: DuePeriod | None = None  # a periodic schedule

    def window(self, event: str) -> Window:
        """The windows of this schedule over records of `event`."""
        due = self.due or DuePeriod(0, 0, -1)
        return Window(event, self.which, self.anchor, due.interval_days, due.interval_months, due.horizon_days,
                      due.horizon_months, due.tolerance_days, self.until_which, self.until, self.name, self.visits)


@dataclass(frozen=True, order=True)
class Window:
    """Consecutive windows of `interval` from a subject's first/last `anchor`, up to `horizon`."""

    event: str
    which: str
    anchor: str
    interval_days: int
    interval_months: int
    horizon_days: int
    horizon_months: int
    # A window per due date (`per 6 weeks within 7 days from first dosing until first end_of_treatment`):
    # centred on anchor + k x interval, k = 1, 2, ..., while on treatment; -1 for fixed blocks.
    tolerance_days: int = -1
    until_which: str = ""
    until: str = ""
    # A window per visit of a declared schedule (`per follow_up`): each visit's own window.
    schedule: str = ""
    visits: tuple[Visit, ...] = ()

    @property
    def period(self) -> str:
        if self.schedule:
            return f"schedule-{self.schedule}"
        if self.tolerance_days >= 0:
            return (f"due-{self.which}-{self.anchor}-{self.interval_days}d{self.interval_months}m-"
                    f"{self.tolerance_days}d-{self.until_which}-{self.until}"
                    + (f"-through-{self.horizon_days}d{self.horizon_months}m" if self.horizon_days or self.horizon_months
                       else ""))
        return (f"window-{self.which}-{self.anchor}-{self.interval_days}d{self.interval_months}m-"
                f"{self.horizon_days}d{self.horizon_months}m")


@dataclass(frozen=True)
class ProtocolVersion:
    name: str
    effective: dt.date | None  # None: in force from the start
    protocol: CompiledProtocol


@dataclass(frozen=True)
class CompiledProtocol:
    name: str
    registry: str | None
    filename: str
    events: dict[str, EventSpec]
    subject_attributes: dict[str, tuple[str, str]]
    parameters: dict[str, object]
    rules: tuple[CompiledRule, ...]
    plan: FactPlan
    criteria: dict[str, CriterionSpec] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()
    versions: tuple[ProtocolVersion, ...] = ()  # oldest first, this one last; empty without versions
    governed_by: str | None = None  # the event type whose first record picks a subject's version
    tree: n.Protocol | None = field(default=None, compare=False, repr=False)  # the syntax tree compiled
    source: str = field(default="", compare=False, repr=False)  # the rules text
    sha256: str = field(default="", compare=False, repr=False)  # of the bytes `source` was read from, if a file
    finders: tuple[Finder, ...] = ()  # the references the rules read, found before the rules are fed
    site_zones: dict[str, str] = field(default_factory=dict)  # `site "01" zone "Europe/Berlin"`
    states: tuple[TrialState, ...] = ()  # the trial states the rules read, computed before the trial's rules

    def finder_rules(self, partial: bool, narrow: bool) -> list[tuple[Finder, EngineRule]]:
        """The rules that find references, for full dates or (partial) over date intervals; `narrow`: the
        references without a filter look at the day found only (see Finder.near)."""
        out = []
        for finder in self.finders:
            near = finder.near_interval_rules if partial else finder.near_rules
            rules = near if narrow and finder.near else finder.rule.interval_rules if partial \
                else finder.rule.engine_rules
            out += [(finder, er) for er in rules]
        return out

    def finder_rulesets(self, partial: bool, narrow: bool = True) -> dict[str, dict]:
        return {er.name: er.definition() for _, er in self.finder_rules(partial, narrow)}

    def rulesets(self) -> dict[str, dict]:
        """The exact rule definitions handed to the engine, by engine rule name."""
        return {er.name: er.definition() for rule in self.rules for er in rule.engine_rules}

    def interval_rulesets(self) -> dict[str, dict]:
        """The rules a session with a partial date is fed to instead (see CompiledRule.interval_rules)."""
        return {er.name: er.definition() for rule in self.rules for er in rule.interval_rules}

def _place(patterns: tuple[Pattern, ...], tests: tuple[Test, ...]) -> tuple[Test, ...]:
    """Put each join test on the later of its two patterns: the engine only looks backwards."""
    order = {p.alias: i for i, p in enumerate(patterns)}
    placed = []
    for t in tests:
        if t.other is not None and t.other != t.alias and order[t.other] > order[t.alias]:
            # A scaled bound (factor, divisor) cannot be turned round; the lowering never builds one that must be.
            assert t.factor == 1 and t.divisor == 0, t
            t = Test(t.other, t.other_field or "", FLIP[t.op], other=t.alias, other_field=t.field, offset=-t.offset)
        placed.append(t)
    return tuple(placed)
