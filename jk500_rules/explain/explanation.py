"""Syntax tree -> plain English: when each rule reports a deviation, with its parameters' values.

The text is built from the rule's syntax tree, one function per node type (`_np_<Node>` for
expressions, `_pred_<Node>` for conditions), never from a rule id, so any protocol reads the same way.
It must not claim what a rule does not check; it follows the compiler's meaning, including the edge
cases a monitor needs: a missing value is not evaluable, a `needs` record missing is not evaluable,
an `unless` record counts only up to the day the check falls due.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from operator import eq

from ..language import nodes as n
from ..compiler.model import DURATION_UNITS, CompiledProtocol, CompiledRule
from ..dates import WEEKDAYS
from ..errors import Jk500Error, Span, did_you_mean

OPS_NUMBER = {"<": "less than", "<=": "at most", ">": "more than", ">=": "at least"}
# Dates: against a record's day, or against a day some time before or after one.
OPS_DATE = {"<": "before", "<=": "on or before", ">": "after", ">=": "on or after"}
OPS_DATE_OFFSET = {"<": "earlier than", "<=": "no later than", ">": "later than", ">=": "no earlier than",
                   "=": "exactly", "!=": "not exactly"}
OPS_TIME = {"<": "earlier than", "<=": "no later than", ">": "later than", ">=": "no earlier than",
            "=": "the same as", "!=": "different from"}
NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "!=", "!=": "="}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
PREPOSITIONS = ("of", "in", "on", "to", "for", "from", "with", "at", "by")


class UnknownRuleError(Jk500Error, KeyError):
    """Asked to explain a rule id the protocol does not have."""

    def __init__(self, rule_id: str, known: list[str]):
        hint = did_you_mean(rule_id, known)
        super().__init__(f"error: no rule {rule_id} in this protocol" + (f" ({hint})" if hint else ""))

    def __str__(self) -> str:
        return str(self.args[0])


# ----- public API --------------------------------------------------------------------------------


def explain_protocol(protocol: CompiledProtocol) -> str:
    """Every rule as a short paragraph headed by its id and title, in the rules file's order."""
    registry = f", registry {protocol.registry}" if protocol.registry else ""
    count = len(protocol.rules)
    head = f"Protocol {protocol.name}{registry}: {count} rule{'s' if count != 1 else ''}."
    return "\n\n".join([head] + [explain_rule(protocol, rule.id) for rule in protocol.rules]) + "\n"


def explain_rule(protocol: CompiledProtocol, rule_id: str) -> str:
    """One rule: when a deviation is reported, what else decides the outcome, its readings."""
    rule, compiled = _find(protocol, rule_id)
    return "\n".join(_Explainer(protocol, rule, compiled).paragraph())


def finding_explanation(protocol: CompiledProtocol, rule_id: str) -> str:
    """The one sentence saying when the rule reports a deviation, for a finding in the audit report."""
    rule, compiled = _find(protocol, rule_id)
    return _Explainer(protocol, rule, compiled).deviation_sentence()


def _find(protocol: CompiledProtocol, rule_id: str) -> tuple[n.Rule, CompiledRule]:
    compiled = next((r for r in protocol.rules if r.id == rule_id), None)
    tree = protocol.tree
    rule = next((r for r in tree.rules if r.id == rule_id), None) if tree is not None else None
    if compiled is None or rule is None:
        raise UnknownRuleError(rule_id, [r.id for r in protocol.rules])
    return rule, compiled


# ----- phrases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Whose names a condition reads: the record checked, and the record an `a X where` clause seeks."""

    source: n.Source
    sought: str | None = None
    current: str = "trigger"  # whose fields "its" names: "trigger", "sought", "" (nobody's); "named": none, in full


@dataclass(frozen=True)
class _Ref:
    """A name resolved as the compiler resolves it."""

    kind: str  # sought | trigger | attribute | param | group | count
    name: str
    type: str
    optional: bool = False


@dataclass(frozen=True)
class _Date:
    """A date as words; `head` when it is a record's day ("that infusion" can then name it again)."""

    text: str
    head: str | None = None

    def day(self) -> str:
        return f"the day of {self.text}" if self.head else self.text

    def again(self) -> str:
        return f"that {self.head}" if self.head else self.text


@dataclass(frozen=True)
class _Pred:
    """A condition leaf as words: who it is about and what is said of it (without "is")."""

    about: str  # date | field | flag | other
    subject: str  # the field name (date, field, flag) or a noun phrase (other)
    complement: str
    either: bool = False  # the complement is itself an alternative ("before A or after B")


def _join(parts: list[str], word: str) -> str:
    """"a and b", "a, b, and c"; the serial comma also when the first part has an "and" or "or" inside."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and not _has(parts[0], "and") and not _has(parts[0], "or"):
        return f"{parts[0]} {word} {parts[1]}"
    return ", ".join(parts[:-1]) + f", {word} " + parts[-1]


def _has(text: str, word: str) -> bool:
    """Whether `word` joins parts of `text` outside brackets ("on or before" is one phrase)."""
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    return f" {word} " in text.replace("on or before", "").replace("on or after", "")


def _merge(parts: list[str]) -> list[str]:
    """Participles that repeat run together: "dated after A and no later than B", "with x 2 and y 3"."""
    merged: list[list[str]] = []
    for part in parts:
        lead = next((w for w in ("dated ", "with ") if part.startswith(w)), None)
        if lead and merged and merged[-1][0].startswith(lead) and not _has(part + " " + merged[-1][-1], "or"):
            merged[-1].append(part.removeprefix(lead))
        else:
            merged.append([part])
    return [_join(group, "and") for group in merged]


def _values(parts: list[str], negated: bool) -> str:
    if not negated:
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    if len(parts) == 1:
        return f"other than {parts[0]}"
    if len(parts) == 2:
        return f"neither {parts[0]} nor {parts[1]}"
    return "none of " + ", ".join(parts[:-1]) + " and " + parts[-1]


def _human(name: str) -> str:
    return name.replace("_", " ")


def _article(noun: str) -> str:
    first = noun.split()[0] if noun else ""
    if first.isupper() and len(first) > 1 and first[0] in "AEFHILMNORSX":
        return f"an {noun}"
    if first[:1].lower() in "aeiou" and not first.lower().startswith(("one", "uni", "use", "eu")):
        return f"an {noun}"
    return f"a {noun}"


def _head_index(words: list[str]) -> int:
    """The noun a plural or "that ..." attaches to: the word before a preposition or a participle."""
    for i, word in enumerate(words[1:], start=1):
        if word in PREPOSITIONS or _participle(word):
            return i - 1
    return len(words) - 1


def _plural(noun: str) -> str:
    words = noun.split()
    i = _head_index(words)
    word = words[i]
    if word.endswith("is"):
        word = word[:-2] + "es"
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        word += "es"
    elif word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        word = word[:-1] + "ies"
    else:
        word += "s"
    return " ".join(words[:i] + [word] + words[i + 1:])


IRREGULAR_PARTICIPLES = frozenset({"given", "taken", "done", "seen", "drawn", "written", "begun", "known", "shown",
                                   "made", "sent", "held", "paid", "chosen", "withdrawn", "undertaken", "run"})


def _participle(word: str) -> bool:
    return word.islower() and (word.endswith("ed") or word in IRREGULAR_PARTICIPLES)


def _head(noun: str) -> str:
    words = noun.split()
    return words[_head_index(words)]


def _decimal(value: Decimal) -> str:
    value = value.normalize()
    return format(value, "f") if abs(value) < 10**7 else str(value)


# ----- the explainer -----------------------------------------------------------------------------


class _Explainer:
    def __init__(self, protocol: CompiledProtocol, rule: n.Rule, compiled: CompiledRule):
        assert protocol.tree is not None
        self.protocol = protocol
        self.tree = protocol.tree
        self.rule = rule
        self.compiled = compiled
        self.check = rule.check
        self.source = rule.check.source
        self.lines = protocol.source.splitlines()
        self.params = {p.name: p for p in self.tree.parameters}
        self.trigger_scope = _Scope(self.source)
        self.holder = "the trial" if compiled.level == "trial" else "the subject"

    # --- the paragraph ---
    def paragraph(self) -> list[str]:
        body = [self.deviation_sentence()]
        body += self._window_sentence() + self._definitions() + self._missing_record_sentences()
        body += self._needs_sentence()
        body += self._due_sentence() + self._excuse_sentences() + self._unknown_sentence()
        body.append(self._standing_sentence())
        lines = [f"{self.rule.id}: {self.rule.title}", " ".join(body)]
        lines += [f"Reading: {text}" for text in self.rule.choices]
        for name in self._parameters_used():
            choice = self.params[name].choice
            if choice:
                lines.append(f"Reading ({name}): {choice}")
        return lines

    def deviation_sentence(self) -> str:
        verdict = self.check.verdict
        source = self.source
        where = self.check.where
        if verdict.exists_event is not None:
            sought = _Scope(source, verdict.exists_event, "sought")
            record = self._record(verdict.exists_event, verdict.cond, sought)
            if verdict.mode == "require":
                text = f"{self._for_source()}, if {self.holder} has no {record}"
            else:
                text = f"for every {record}{self._once_per()}"
        else:
            clause = self._clause(verdict.cond, verdict.mode == "require", self.trigger_scope)
            if source.form == "count":
                if where is not None:
                    clause = _join([self._wrap(self._cond(where, False, self.trigger_scope, "clause")),
                                    self._wrap((clause, "atom"))], "and")
                text = f"if {clause}"
            else:
                text = f"{self._for_source()}, if {clause}"
        return f"A deviation is reported {text}{self._citation()}."

    def _for_source(self) -> str:
        """`for SOURCE [where ...]` as the object of "reported for"."""
        source, where = self.source, self.check.where
        noun = self._noun(source.event)
        if source.form == "count":
            text = f"for {self._count_noun()}"
        elif source.form == "each":
            text = f"for any {noun}"
        elif source.form in ("first", "last"):
            text = f"for a subject's {source.form} {noun}"
        else:
            text = f"for the {source.form.removeprefix('group_')} {noun} in each {_human(source.attribute or '')}"
        if where is not None:
            text += self._attach(noun, self._mods(where, self.trigger_scope))
        return text

    def _once_per(self) -> str:
        """How often a `forbid a X` rule is checked, after "for every X ...": once per record checked."""
        source, where = self.source, self.check.where
        noun = self._noun(source.event)
        mods = self._attach(noun, self._mods(where, self.trigger_scope)) if where is not None else ""
        if source.form == "each":
            return f", once per {noun}{mods}"
        if source.form in ("first", "last"):
            if where is None and self._mentions_trigger(self.check.verdict.cond):
                return ""  # "before the subject's first infusion" already says a first infusion is needed
            return f", if the subject has a {source.form} {noun}{mods}"
        if source.form == "count":
            return f", once for {self._count_noun()}"
        which, attribute = source.form.removeprefix("group_"), _human(source.attribute or "")
        return f", once for the {which} {noun} in each {attribute}{mods}"

    def _citation(self) -> str:
        texts = [self.protocol.criteria[c].text for c, _ in self.rule.criteria if c in self.protocol.criteria]
        if self.rule.cites:
            texts.append(self.rule.cites)
        return f" ({'; '.join(texts)})" if texts else ""

    def _standing_sentence(self) -> str:
        important = "an important deviation (ICH E3)" if self.compiled.important else "not an important deviation"
        text = f"Severity {self.compiled.severity}; {important}"
        ids = [c for c, _ in self.rule.criteria]
        manual = [c for c in ids if c in self.protocol.criteria and self.protocol.criteria[c].manual]
        if ids:
            text += f"; cites {', '.join(ids)}"
        if manual:
            text += f" ({', '.join(manual)} checked by hand)"
        return text + "."

    def _window_sentence(self) -> list[str]:
        source = self.source
        if source.form != "count" or source.period != "window":
            return []
        assert source.anchor is not None and source.horizon is not None
        anchor = self._noun(source.anchor.event)
        horizon = self._np(source.horizon, self.trigger_scope)
        return [(f"The windows run back to back from the day of the subject's {source.anchor.which} {anchor}, "
                 f"the last ending the day before {horizon} after it (cut short there if need be); "
                 "a window with none counts 0.")]

    def _definitions(self) -> list[str]:
        """What an event group gathers, and which record a subject attribute comes from."""
        groups: list[str] = []
        attributes: list[str] = []
        check = self.check
        for event in [self.source.event, *(x.event for x in check.needs + check.excuses),
                      *([check.verdict.exists_event] if check.verdict.exists_event else [])]:
            if event in self.protocol.groups and event not in groups:
                groups.append(event)
        if self.source.attribute:
            attributes.append(self.source.attribute)
        for node, scope in self._scoped_nodes():
            if isinstance(node, (n.AnchorRef, n.RankedRef)) and node.event in self.protocol.groups \
                    and node.event not in groups:
                groups.append(node.event)
            ref = self._resolve(node, scope) if isinstance(node, n.NameRef) else None
            name = node.attribute if isinstance(node, n.RankedRef) else \
                ref.name if ref is not None and ref.kind == "attribute" else None
            if name is not None and name not in attributes:
                attributes.append(name)
        sentences = [f"{_article(self._noun(g)).capitalize()} is any record of type "
                     f"{_join(list(self.protocol.groups[g]), 'or')}." for g in groups]
        for name in attributes:
            event, field = self.protocol.subject_attributes[name]
            sentences.append(f"A subject's {_human(name)} is the {field} of their earliest "
                             f"{self._noun(event)} that records one.")
        return sentences

    def _needs_sentence(self) -> list[str]:
        needs = self.check.needs
        if not needs:
            return []
        items = []
        for need, reason in zip(needs, self.compiled.needs):
            scope = _Scope(self.source, need.event, "sought")
            items.append(f"{_article(self._record(need.event, need.cond, scope))} (\"{reason}\")")
        instead = "a deviation" if self.check.verdict.mode == "require" else \
            "passing (a deviation found is still reported)"
        if len(items) == 1:
            return [(f"It cannot be evaluated without {items[0]}: if {self.holder} has none, "
                     f"it is reported not evaluable instead of {instead}.")]
        return [(f"It cannot be evaluated without each of: {'; '.join(items)}; if {self.holder} lacks one, "
                 f"it is reported not evaluable, with that reason, instead of {instead}.")]

    def _due_sentence(self) -> list[str]:
        due = self.check.verdict.due
        if due is None:
            return []
        scope = replace(self.trigger_scope, current="")
        text = f"It is judged only once the data cut-off reaches {self._date(due, scope).text}"
        missing = self._missing_anchors(due)
        if missing:
            text += f"; until then, and while {_join(missing, 'or')}, it is pending"
        else:
            text += "; until then it is pending"
        return [text + "."]

    def _excuse_sentences(self) -> list[str]:
        sentences = []
        due = self.check.verdict.due
        for excuse in self.check.excuses:
            scope = _Scope(self.source, excuse.event, "sought")
            record = _article(self._record(excuse.event, excuse.cond, scope))
            if due is None:
                sentences.append(f"It is excused (no deviation) if {self.holder} has {record}, whatever its date.")
                continue
            when = self._date(due, replace(self.trigger_scope, current="")).text
            text = f"It is excused (no deviation) if {self.holder} has {record} on or before the day it falls due " \
                   f"({when})"
            missing = self._missing_anchors(due)
            if missing:
                text += f"; while {_join(missing, 'or')}, any such record excuses it"
            sentences.append(text + ".")
        return sentences

    def _missing_anchors(self, expr: n.Node) -> list[str]:
        """"the subject has no infusion": what leaves a date undefined that the record checked does not."""
        clauses: list[str] = []
        for node in _walk(expr):
            if isinstance(node, n.AnchorRef) and not self._is_trigger(node):
                clause = f"{self.holder} has no {self._noun(node.event)}"
            elif isinstance(node, n.RankedRef):
                clause = (f"the {node.relation} {_human(node.attribute)} has fewer than {node.rank} subjects "
                          f"with {_article(self._noun(node.event))}")
            else:
                continue
            if clause not in clauses:
                clauses.append(clause)
        return clauses

    def _missing_record_sentences(self) -> list[str]:
        """What the check makes of a record its condition names that may not exist (the nth subject, ...)."""
        verdict = self.check.verdict
        cond = verdict.cond
        if cond is None:
            return []
        guarded = set()
        for other in (self.check.where, verdict.due):
            if other is not None:
                guarded |= {(a.which, a.event) for a in _walk(other) if isinstance(a, n.AnchorRef)}
        sentences = []
        fails = "that is a deviation" if verdict.mode == "require" else "no deviation is reported"
        seen: set[tuple[object, ...]] = set()
        for node in _walk(cond):
            if isinstance(node, n.RankedRef) and (node.rank, node.which, node.event, node.relation) not in seen:
                seen.add((node.rank, node.which, node.event, node.relation))
                group = f"the {node.relation} {_human(node.attribute)}"
                noun = self._noun(node.event)
                outcome = fails if _conjunctive(cond, partial(eq, node)) else "a comparison with that date never holds"
                sentences.append(
                    f"The {_ordinal(node.rank)} subject of {group} is the {_ordinal(node.rank)} of its subjects, "
                    f"by date, to have their {node.which} {noun}; if it has fewer than {node.rank} such subjects, "
                    f"{outcome}.")
            elif (isinstance(node, n.AnchorRef) and verdict.mode == "require" and not self._is_trigger(node)
                  and node.event != self.source.event and (node.which, node.event) not in guarded
                  and (node.which, node.event) not in seen):
                seen.add((node.which, node.event))
                outcome = "fails the check: a deviation" if _conjunctive(cond, partial(eq, node)) else \
                    "cannot meet the part of the condition that names it"
                sentences.append(f"A subject with no {self._noun(node.event)} {outcome}.")
        return sentences

    def _unknown_sentence(self) -> list[str]:
        """Optional values the check reads: without them, it is not evaluable (never a pass)."""
        cond = self.check.verdict.cond
        if cond is None:
            return []
        scope = self._verdict_scope()
        explicit = {(self._resolve(k.subject, scope) or _Ref("", "", "")).name
                    for k, polarity in _leaves(cond) if isinstance(k, n.Known) and k.known == polarity}
        items: list[str] = []
        for node in _walk(cond):
            text = None
            if isinstance(node, n.Lookup):
                key = self._np(node.key, replace(scope, current=""))
                text = f"{key}, or its entry in the {_human(node.table)} table"
            elif isinstance(node, n.NameRef):
                ref = self._resolve(node, scope)
                if ref is not None and ref.optional and ref.name not in explicit:
                    text = self._np(node, replace(scope, current="named"))
            elif isinstance(node, n.AnchorRef) and node.field not in (None, "date"):
                spec = self.protocol.events[node.event].fields.get(node.field or "")
                if spec is not None and not spec.required:
                    text = f"the {node.field} field of the subject's {node.which} {self._noun(node.event)}"
            if text and not any(text in item for item in items):
                items = [i for i in items if i not in text]
                items.append(text)
        if not items:
            return []
        return [f"Where the outcome turns on a value not recorded ({'; '.join(items)}), it is reported not evaluable."]

    def _verdict_scope(self) -> _Scope:
        sought = self.check.verdict.exists_event
        return _Scope(self.source, sought, "sought") if sought else self.trigger_scope

    def _parameters_used(self) -> list[str]:
        names: list[str] = []
        for node, scope in self._scoped_nodes():
            ref = self._resolve(node, scope) if isinstance(node, n.NameRef) else None
            name = node.table if isinstance(node, n.Lookup) else ref.name if ref and ref.kind == "param" else None
            if name is not None and name not in names:
                names.append(name)
        return names

    def _scoped_nodes(self) -> list[tuple[n.Node, _Scope]]:
        """Every node of the check with the scope its names resolve in."""
        check, source = self.check, self.source
        roots: list[tuple[n.Node | None, _Scope]] = [
            (source.interval, self.trigger_scope), (source.horizon, self.trigger_scope),
            (check.where, self.trigger_scope), (check.verdict.due, self.trigger_scope),
            (check.verdict.cond, self._verdict_scope())]
        roots += [(clause.cond, _Scope(source, clause.event, "sought")) for clause in check.needs + check.excuses]
        return [(node, scope) for root, scope in roots if root is not None for node in _walk(root)]

    # --- nouns ---
    def _noun(self, event: str) -> str:
        """An event type in words: its label where that reads as a noun, else its name."""
        spec = self.protocol.events.get(event)
        label = spec.label if spec is not None else None
        if not label:
            return _human(event)
        text = re.sub(r"\s*\([^)]*\)", "", label).strip()
        text = re.sub(r"^(Any|Each|An|A|The)\s+", "", text)
        # A qualifier such as "before an infusion" is a description, not something the rule checks.
        text = re.sub(r"\s+(before|after|during|prior to)\s.*$", "", text)
        words = text.split()
        # "Subject withdrew, died or ..." is no noun; "Vaccine administered" names an act: the name reads better.
        if not words or "," in text or ";" in text or len(words) > 1 and _participle(words[-1]):
            return _human(event)
        proper = any(w[:1].isupper() and w[1:].islower() for w in words[1:])  # "Safety Review Committee"
        if words[0][1:] == words[0][1:].lower() and not proper:  # but "JK500 infusion", "IL-2 dose" stay
            words[0] = words[0][:1].lower() + words[0][1:]
        return " ".join(words)

    def _record(self, event: str, cond: n.Cond | None, scope: _Scope) -> str:
        """"vaccine administered, marked live_attenuated and dated ...": a record sought, without article."""
        noun = self._noun(event)
        return noun + (self._attach(noun, self._mods(cond, scope)) if cond is not None else "")

    @staticmethod
    def _attach(noun: str, mods: str) -> str:
        return f", {mods}" if _participle(noun.split()[-1]) else f" {mods}"

    def _count_noun(self) -> str:
        source = self.source
        things = _plural(self._noun(source.event))
        if source.period == "subject":
            return f"a subject's total number of {things} (0 if none)"
        if source.period == "day":
            return f"the number of {things} a subject has on one day"
        if source.period == "week":
            start = WEEKDAYS.index(source.week_start or "monday")
            return (f"the number of {things} a subject has in one calendar week "
                    f"({WEEKDAYS[start].title()} to {WEEKDAYS[(start + 6) % 7].title()})")
        assert source.interval is not None
        return f"the number of {things} a subject has in one window of {self._np(source.interval, self.trigger_scope)}"

    def _trigger_ref(self) -> _Date:
        """The record checked, named from inside a clause about another record."""
        source = self.source
        noun = self._noun(source.event)
        if source.form == "each":
            return _Date(f"that {noun}", _head(noun))
        if source.form in ("first", "last"):
            return _Date(f"the subject's {source.form} {noun}", _head(noun))
        return _Date(f"that {source.form.removeprefix('group_')} {noun}", _head(noun))

    def _is_trigger(self, ref: n.AnchorRef) -> bool:
        return ref.which == self.source.form and ref.event == self.source.event

    def _mentions_trigger(self, cond: n.Cond | None) -> bool:
        """Whether the condition can hold only with the record checked (so it need not be named)."""
        if cond is None:
            return False
        scope = self._verdict_scope()

        def names_trigger(node: n.Node) -> bool:
            if isinstance(node, n.AnchorRef):
                return self._is_trigger(node)
            ref = self._resolve(node, scope) if isinstance(node, n.NameRef) else None
            return ref is not None and ref.kind == "trigger"

        return _conjunctive(cond, names_trigger)

    # --- names ---
    def _trigger_fields(self) -> dict[str, tuple[str, bool]]:
        """Field -> (type, optional) of the record checked."""
        source = self.source
        if source.form == "count":
            fields = {"count": ("number", False), "date": ("date", False)}
            if source.period == "window":
                fields |= {"end": ("date", False), "window": ("number", False)}
            return fields
        if source.form.startswith("group_"):
            attribute = source.attribute or ""
            return {"date": ("date", False), attribute: (self._attribute_type(attribute), False)}
        return self._event_fields(source.event)

    def _event_fields(self, event: str) -> dict[str, tuple[str, bool]]:
        spec = self.protocol.events[event]
        fields = {f.name: (_kind(f.type), not f.required) for f in spec.fields.values()}
        return fields | {"date": ("date", False)}

    def _attribute_type(self, name: str) -> str:
        event, fname = self.protocol.subject_attributes[name]
        return _kind(self.protocol.events[event].fields[fname].type)

    def _resolve(self, expr: n.Expr, scope: _Scope) -> _Ref | None:
        """A name as the compiler reads it: the record sought, the record checked, the subject, a parameter."""
        if not isinstance(expr, n.NameRef):
            return None
        sought = self._event_fields(scope.sought) if scope.sought else {}
        trigger = self._trigger_fields()
        if expr.field is not None:
            record, name = expr.name, expr.field
            if scope.sought and record == scope.sought and name in sought:
                return _Ref("sought", name, *sought[name])
            if record == self.source.event and name in trigger:
                return _Ref(self._trigger_kind(name), name, *trigger[name])
            if record == "subject" and name in self.protocol.subject_attributes:
                return _Ref("attribute", name, self._attribute_type(name), True)
            return None
        name = expr.name
        if name in sought:
            return _Ref("sought", name, *sought[name])
        if name in trigger:
            return _Ref(self._trigger_kind(name), name, *trigger[name])
        if name in self.protocol.subject_attributes:
            return _Ref("attribute", name, self._attribute_type(name), True)
        if name in self.params:
            decl = self.params[name]
            return _Ref("param", name, _quantity_kind(decl.value) if decl.value else "table")
        return None

    def _trigger_kind(self, name: str) -> str:
        if self.source.form == "count":
            return "count"
        if self.source.form.startswith("group_") and name == self.source.attribute:
            return "group"
        return "trigger"

    def _type(self, expr: n.Expr, scope: _Scope) -> str:
        if isinstance(expr, n.Quantity):
            return _quantity_kind(expr)
        if isinstance(expr, n.Text):
            return "text"
        if isinstance(expr, n.Boolean):
            return "boolean"
        if isinstance(expr, n.NameRef):
            ref = self._resolve(expr, scope)
            return ref.type if ref else "number"
        if isinstance(expr, n.AnchorRef):
            return "date" if expr.field in (None, "date") else self._event_fields(expr.event)[expr.field or ""][0]
        if isinstance(expr, n.RankedRef):
            return "date"
        if isinstance(expr, n.Lookup):
            return "number"
        if isinstance(expr, n.Elapsed):
            return "elapsed"
        left = self._type(expr.left, scope)
        return left if left in ("date", "duration") else self._type(expr.right, scope)

    # --- expressions: one function per node type ---
    def _np(self, expr: n.Expr, scope: _Scope) -> str:
        return getattr(self, f"_np_{type(expr).__name__}")(expr, scope)  # type: ignore[no-any-return]

    def _np_Quantity(self, expr: n.Quantity, scope: _Scope) -> str:
        return self._written(expr.span)

    def _np_Text(self, expr: n.Text, scope: _Scope) -> str:
        return f'"{expr.value}"'

    def _np_Boolean(self, expr: n.Boolean, scope: _Scope) -> str:
        return "yes" if expr.value else "no"

    def _np_NameRef(self, expr: n.NameRef, scope: _Scope) -> str:
        ref = self._resolve(expr, scope)
        if ref is None:
            return expr.name if expr.field is None else f"{expr.name}.{expr.field}"
        if ref.kind == "param":
            decl = self.params[ref.name]
            return self._written(decl.value.span) if decl.value is not None else _human(ref.name)
        if ref.kind == "attribute":
            return f"the subject's {_human(ref.name)}"
        if ref.kind == "count":
            return self._count_field(ref.name)
        field = _human(ref.name) if ref.kind == "group" else ref.name
        if scope.current == "named":  # outside any clause: name the record
            if ref.kind == "sought" and scope.sought:
                return f"the {field} field of the {self._noun(scope.sought)}"
            record = self._trigger_ref()
            return f"the {field} field of {record.text.replace('that ', 'the ', 1)}"
        if ref.kind == "sought" or scope.current == "trigger":
            return "its date" if ref.name == "date" else f"its {field}"
        trigger = self._trigger_ref().text
        return trigger if ref.name == "date" else f"{trigger}'s {field}"

    def _count_field(self, name: str) -> str:
        period = self.source.period
        if name == "count":
            return self._count_noun()
        if name == "window":
            return "the window's number (1, 2, ...)"
        if name == "end":
            return "the window's last day"
        if period == "subject":
            return f"the subject's last {self._noun(self.source.event)} (the data cut-off if none)"
        return {"day": "that day", "week": "the week's first day"}.get(period or "", "the window's first day")

    def _np_AnchorRef(self, expr: n.AnchorRef, scope: _Scope) -> str:
        record = f"the subject's {expr.which} {self._noun(expr.event)}"
        return record if expr.field in (None, "date") else f"the {expr.field} of {record}"

    def _np_RankedRef(self, expr: n.RankedRef, scope: _Scope) -> str:
        return (f"the {expr.which} {self._noun(expr.event)} of the {_ordinal(expr.rank)} subject "
                f"of the {expr.relation} {_human(expr.attribute)}")

    def _np_Lookup(self, expr: n.Lookup, scope: _Scope) -> str:
        decl = self.params.get(expr.table)
        entries = ", ".join(self._written(e.span) for e in decl.entries) if decl else ""
        key = self._resolve(expr.key, scope)
        if key is not None and key.kind in ("attribute", "group"):  # "the dose group's nominal dose"
            return f"the {_human(key.name)}'s {_human(expr.table)} ({entries})"
        return f"the {_human(expr.table)} for {self._np(expr.key, scope)} ({entries})"

    def _np_Elapsed(self, expr: n.Elapsed, scope: _Scope) -> str:
        start, end = self._np(expr.start, scope), self._np(expr.end, scope)
        birth = isinstance(expr.start, n.NameRef) and "birth" in (expr.start.field or expr.start.name)
        if expr.unit == "years" and birth:
            return f"the subject's age in completed years from {start} to {end}"
        return f"the number of completed {expr.unit} from {start} to {end}"

    def _np_Arith(self, expr: n.Arith, scope: _Scope) -> str:
        if self._type(expr, scope) == "date":
            return self._date(expr, scope).text
        left, right = self._np(expr.left, scope), self._np(expr.right, scope)
        if expr.op == "*":
            return f"{left} times {right}"
        return f"{left} {expr.op} {right}"

    def _date(self, expr: n.Expr, scope: _Scope) -> _Date:
        """A date-valued expression: a record's day, a date field, or either shifted by a duration."""
        if isinstance(expr, n.Arith) and expr.op in "+-" and self._type(expr.right, scope) == "duration":
            base = self._date(expr.left, scope)
            word = "after" if expr.op == "+" else "before"
            return _Date(f"{self._np(expr.right, scope)} {word} {base.text}")
        if isinstance(expr, (n.AnchorRef, n.RankedRef)) and expr.field in (None, "date"):
            return _Date(self._np(expr, scope), _head(self._noun(expr.event)))
        ref = self._resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        if ref is not None and ref.name == "date" and ref.kind == "trigger" and scope.current != "trigger":
            return self._trigger_ref()
        return _Date(self._np(expr, scope))

    def _written(self, span: Span) -> str:
        """A quantity or table entry as the rules text writes it, on one line ("10 %" as "10%")."""
        lines = self.lines[span.line - 1:span.end_line]
        if len(lines) == 1:
            text = lines[0][span.column - 1:span.end_column - 1]
        else:
            text = " ".join([lines[0][span.column - 1:], *lines[1:-1], lines[-1][:span.end_column - 1]])
        return re.sub(r"(\d) %", r"\1%", re.sub(r"\s+", " ", text).strip())

    # --- conditions: one function per node type ---
    def _cond(self, cond: n.Cond, neg: bool, scope: _Scope, mode: str) -> tuple[str, str]:
        """A condition as words, `neg`ated if asked; mode "clause" (its dose is ...) or "mods" (dated ...).

        Returns the text and its shape (atom, either, and, or) so that a caller knows when to bracket it.
        """
        if isinstance(cond, n.Not):
            return self._cond(cond.item, not neg, scope, mode)
        if isinstance(cond, (n.And, n.Or)):
            if len(cond.items) == 1:
                return self._cond(cond.items[0], neg, scope, mode)
            conjunctive = isinstance(cond, n.And) != neg
            parts = [self._cond(item, neg, scope, mode) for item in cond.items]
            if conjunctive:
                texts = [self._wrap(p) if p[1] == "or" or p[1] == "either" else p[0] for p in parts]
                return _join(_merge(texts) if mode == "mods" else texts, "and"), "and"
            texts = [self._wrap(p) if p[1] == "and" else p[0] for p in parts]
            either = "either " if len(texts) == 2 and any(p[1] == "and" for p in parts) else ""
            return either + _join(texts, "or"), "or"
        pred = getattr(self, f"_pred_{type(cond).__name__}")(cond, neg, scope)
        return self._say(pred, mode), "either" if pred.either else "atom"

    @staticmethod
    def _wrap(part: tuple[str, str]) -> str:
        return f"({part[0]})" if part[1] != "atom" else part[0]

    def _clause(self, cond: n.Cond | None, neg: bool, scope: _Scope) -> str:
        return self._cond(cond, neg, scope, "clause")[0] if cond is not None else ""

    def _mods(self, cond: n.Cond | None, scope: _Scope) -> str:
        return self._cond(cond, False, scope, "mods")[0] if cond is not None else ""

    @staticmethod
    def _say(pred: _Pred, mode: str) -> str:
        if pred.about == "date" and pred.complement.startswith("not "):  # "not dated", never "dated not"
            rest = pred.complement.removeprefix("not ")
            return f"not dated {rest}" if mode == "mods" else f"it is not dated {rest}"
        if mode == "mods":
            return {"date": f"dated {pred.complement}", "field": f"with {pred.subject} {pred.complement}",
                    "flag": pred.complement}.get(pred.about, f"where {pred.subject} is {pred.complement}")
        return {"date": f"it is dated {pred.complement}", "field": f"its {pred.subject} is {pred.complement}",
                "flag": f"it is {pred.complement}"}.get(pred.about, f"{pred.subject} is {pred.complement}")

    def _about(self, expr: n.Expr, scope: _Scope, complement: str, either: bool = False) -> _Pred:
        """Whom a predicate is about: the current record's day or field, or anything else by name."""
        ref = self._resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        current = ref is not None and (ref.kind == "sought" or ref.kind in ("trigger", "group")
                                       and scope.current == "trigger")
        if current and ref is not None:
            name = _human(ref.name) if ref.kind == "group" else ref.name
            return _Pred("date" if ref.name == "date" else "field", name, complement, either)
        return _Pred("other", self._np(expr, scope), complement, either)

    def _pred_Compare(self, cond: n.Compare, neg: bool, scope: _Scope) -> _Pred:
        left, op, right = cond.left, NEGATE[cond.op] if neg else cond.op, cond.right
        if self._is_constant(left, scope) and not self._is_constant(right, scope) or \
                isinstance(right, n.Elapsed) and not isinstance(left, n.Elapsed):
            left, right, op = right, left, FLIP[op]
        kind = self._type(left, scope)
        if kind == "boolean" and isinstance(right, n.Boolean):
            return self._flag(left, right.value == (op == "="), scope)
        if kind == "date":
            return self._about(left, scope, self._date_relation(op, right, scope))
        if kind == "time":
            return self._about(left, scope, f"{OPS_TIME[op]} {self._np(right, scope)}")
        return self._about(left, scope, self._amount(left, op, right, scope))

    def _amount(self, left: n.Expr, op: str, right: n.Expr, scope: _Scope) -> str:
        value = self._np(right, scope) + self._elapsed_unit(left, right)
        constant = self._is_constant(right, scope)
        if op in OPS_NUMBER:
            ref = self._resolve(left, scope) if isinstance(left, n.NameRef) else None
            bound = self._constant(right, scope)
            if ref is not None and ref.kind == "count" and ref.name == "count" and bound is not None \
                    and (op, bound.value) in (("<", Decimal(1)), ("<=", Decimal(0))):
                return "0"  # a count below 1 is none at all
            return f"{OPS_NUMBER[op]} {value}"
        text = self._type(right, scope) == "text" or self._type(left, scope) == "text"
        if op == "=":
            return value if text and constant else f"exactly {value}" if constant else f"equal to {value}"
        return f"other than {value}" if constant else f"different from {value}"

    def _elapsed_unit(self, left: n.Expr, right: n.Expr) -> str:
        if isinstance(left, n.Elapsed) and isinstance(right, n.Quantity) and right.unit is None:
            return f" {left.unit}"
        return ""

    def _is_constant(self, expr: n.Expr, scope: _Scope) -> bool:
        if isinstance(expr, (n.Quantity, n.Text, n.Boolean)):
            return True
        ref = self._resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        return ref is not None and ref.kind == "param"

    def _flag(self, expr: n.Expr, value: bool, scope: _Scope) -> _Pred:
        pred = self._about(expr, scope, "")
        if pred.about == "field":
            return _Pred("flag", pred.subject, ("marked " if value else "not marked ") + pred.subject)
        return replace(pred, complement="yes" if value else "no")

    def _date_relation(self, op: str, right: n.Expr, scope: _Scope) -> str:
        date = self._date(right, scope)
        if isinstance(right, n.Arith):
            return f"{OPS_DATE_OFFSET[op]} {date.text}"
        if op == "=":
            return f"on {date.day()}"
        if op == "!=":
            return f"not on {date.day()}"
        return f"{OPS_DATE[op]} {date.text}"

    def _pred_Truthy(self, cond: n.Truthy, neg: bool, scope: _Scope) -> _Pred:
        return self._flag(cond.subject, not neg, scope)

    def _pred_Known(self, cond: n.Known, neg: bool, scope: _Scope) -> _Pred:
        return self._about(cond.subject, scope, "recorded" if cond.known != neg else "not recorded")

    def _pred_Member(self, cond: n.Member, neg: bool, scope: _Scope) -> _Pred:
        values = [self._np(v, scope) for v in cond.values]
        return self._about(cond.subject, scope, _values(values, cond.negated != neg))

    def _pred_Between(self, cond: n.Between, neg: bool, scope: _Scope) -> _Pred:
        if self._type(cond.subject, scope) == "date":
            if neg:
                text = f"{self._date_relation('<', cond.low, scope)} or {self._date_relation('>', cond.high, scope)}"
                return self._about(cond.subject, scope, text, either=True)
            low, high = self._date(cond.low, scope).text, self._date(cond.high, scope).text
            return self._about(cond.subject, scope, f"from {low} to {high}")
        unit = self._elapsed_unit(cond.subject, cond.high)
        low, high = self._np(cond.low, scope), self._np(cond.high, scope)
        if neg:
            return self._about(cond.subject, scope, f"less than {low} or more than {high}{unit}", either=True)
        return self._about(cond.subject, scope, f"between {low} and {high}{unit} inclusive")

    def _pred_Within(self, cond: n.Within, neg: bool, scope: _Scope) -> _Pred:
        width = self._np(cond.width, scope)
        kind = self._type(cond.width, scope)
        if kind == "duration":
            anchor = self._date(cond.anchor, scope)
            relation = cond.relation
            if neg:
                low = f"before {anchor.text}" if relation == "after" else f"earlier than {width} before {anchor.text}"
                again = anchor.again()
                high = f"after {again}" if relation == "before" else f"later than {width} after {again}"
                return self._about(cond.subject, scope, f"{low} or {high}", either=True)
            if relation == "before":
                text = f"from {width} before {anchor.text} up to {_Date(anchor.again(), anchor.head).day()}"
            elif relation == "after":
                text = f"from {anchor.day()} up to {width} after {anchor.again()}"
            else:
                text = f"from {width} before {anchor.text} to {width} after {anchor.again()}"
            return self._about(cond.subject, scope, text)
        anchor_text = self._np(cond.anchor, scope)
        bounds = self._bounds(cond, scope)
        text = f"within {width} of {anchor_text}" + (f" ({bounds})" if bounds else "")
        return self._about(cond.subject, scope, ("not " if neg else "") + text)

    def _bounds(self, cond: n.Within, scope: _Scope) -> str:
        """`within 10% of 60 mg/kg` -> "54 to 66 mg/kg": the inclusive range, for a constant value."""
        width, anchor = self._constant(cond.width, scope), self._constant(cond.anchor, scope)
        if width is None or anchor is None:
            return ""
        if width.unit == "%":
            low, high = anchor.value * (1 - width.value / 100), anchor.value * (1 + width.value / 100)
        else:
            low, high = anchor.value - width.value, anchor.value + width.value
        unit = f" {anchor.unit}" if anchor.unit else ""
        return f"{_decimal(low)} to {_decimal(high)}{unit}"

    def _constant(self, expr: n.Expr, scope: _Scope) -> n.Quantity | None:
        if isinstance(expr, n.Quantity):
            return expr
        ref = self._resolve(expr, scope) if isinstance(expr, n.NameRef) else None
        if ref is not None and ref.kind == "param":
            return self.params[ref.name].value
        return None


# ----- tree helpers ------------------------------------------------------------------------------


def _walk(node: object) -> list[n.Node]:
    """Every node under `node`, depth first, in source order."""
    found: list[n.Node] = []
    if isinstance(node, n.Node):
        found.append(node)
        for value in vars(node).values():
            found += _walk(value)
    elif isinstance(node, tuple):
        for item in node:
            found += _walk(item)
    return found


def _leaves(cond: n.Cond, polarity: bool = True) -> list[tuple[n.Cond, bool]]:
    """Leaf conditions with their polarity (False under an odd number of `not`s)."""
    if isinstance(cond, n.Not):
        return _leaves(cond.item, not polarity)
    if isinstance(cond, (n.And, n.Or)):
        return [leaf for item in cond.items for leaf in _leaves(item, polarity)]
    return [(cond, polarity)]


def _conjunctive(cond: n.Cond, reads: Callable[[n.Node], bool], neg: bool = False) -> bool:
    """Whether every way the condition can hold reads a node `reads` picks: then it cannot hold without it."""
    if isinstance(cond, n.Not):
        return _conjunctive(cond.item, reads, not neg)
    if isinstance(cond, (n.And, n.Or)):
        parts = [_conjunctive(item, reads, neg) for item in cond.items]
        return any(parts) if isinstance(cond, n.And) != neg else all(parts)
    return any(reads(node) for node in _walk(cond))


def _kind(field_type: str) -> str:
    return "number" if field_type in ("integer", "decimal") else field_type


def _quantity_kind(q: n.Quantity | None) -> str:
    if q is None or q.unit is None:
        return "number"
    if q.unit == "%":
        return "percent"
    return "duration" if q.unit in DURATION_UNITS else "number"


def _ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"
