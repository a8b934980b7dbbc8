"""The engines a process keeps: one per protocol version, and one for partial dates, made when first needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..compiler.model import CompiledProtocol, CompiledRule, EngineRule, Finder
from .durable import Engine
from .facts import Session
from .split import SplitPlan, large, plan_split, split_kinds, split_sessions
from .versions import PROTOCOLS_KEPT

Match = tuple[str, dict[str, int]]  # (engine rule name, {alias: the fact's index in its session})


@dataclass
class _Entry:
    protocol: CompiledProtocol  # held, so that its id, the key, cannot be reused by another protocol
    engine: Engine
    names: dict[str, tuple[CompiledRule, Any]]  # engine rule name -> (rule, engine rule), in ruleset order
    rules: list[EngineRule]  # the same engine rules, in the same order
    plan: SplitPlan | None = None  # made when a session is first large enough to split
    parts: dict[str, Engine] = field(default_factory=dict)  # split kind -> the engine of the rules naming it

    def close(self) -> None:
        for engine in (self.engine, *self.parts.values()):
            engine.close()


class Engines:
    """One engine per protocol version (and one for partial dates), made when first needed.

    Past `kept` entries the oldest is closed (a long-lived worker may see many protocols). An entry
    also keeps, per kind of fact it has split off a large session (split.py), the engine of the
    rules naming that kind.
    """

    def __init__(self, kept: int = 4 * PROTOCOLS_KEPT) -> None:
        self.kept = kept
        self._engines: dict[tuple[int, bool], _Entry] = {}
        # The engines fed before the protocol's rules (references' finders, states' ends): the protocol is
        # held as in _Entry.
        self._finders: dict[tuple[int, bool, Any], tuple[CompiledProtocol, Engine,
                                                           dict[str, tuple[Any, EngineRule]], frozenset[str]]] = {}

    def _entry(self, protocol: CompiledProtocol, partial: bool) -> _Entry:
        key = (id(protocol), partial)
        if key not in self._engines:
            while len(self._engines) >= self.kept:
                self._engines.pop(next(iter(self._engines))).close()
            engine = Engine(protocol.interval_rulesets() if partial else protocol.rulesets())
            names = {er.name: (rule, er) for rule in protocol.rules
                     for er in (rule.interval_rules if partial else rule.engine_rules)}
            self._engines[key] = _Entry(protocol, engine, names, [er for _, er in names.values()])
        return self._engines[key]

    def get(self, protocol: CompiledProtocol, partial: bool) -> tuple[Engine, dict[str, tuple[CompiledRule, Any]]]:
        """The engine, and each of its engine rules' (rule, engine rule) by name."""
        entry = self._entry(protocol, partial)
        return entry.engine, entry.names

    def feed(self, protocol: CompiledProtocol, session: Session) -> tuple[list[Match], dict[str, tuple[CompiledRule, Any]]]:
        """Every match of the session's facts, and each engine rule's (rule, engine rule) by name.

        A large session may be fed as several engine sessions (split.py): the matches are the same,
        each found once, and come back in the order one engine session gives them, rule by rule.
        """
        entry = self._entry(protocol, session.partial)
        if session.partial or not large(session.facts):
            return entry.engine.feed(session.name, session.facts), entry.names
        if entry.plan is None:
            entry.plan = plan_split(entry.rules)
        kinds = split_kinds(entry.plan, session.facts)
        if not kinds:
            return entry.engine.feed(session.name, session.facts), entry.names
        matches: list[Match] = []
        for kind, indexes in split_sessions(entry.plan, session.facts, kinds):
            engine = entry.engine if kind is None else self._part(entry, kind)
            for name, refs in engine.feed(f"{session.name} ({kind or 'the rest'})", [session.facts[i] for i in indexes]):
                matches.append((name, {alias: indexes[i] for alias, i in refs.items()}))
        position = {er.name: index for index, er in enumerate(entry.rules)}
        matches.sort(key=lambda match: position[match[0]])  # stable: each engine session's own order within a rule
        return matches, entry.names

    def find(self, protocol: CompiledProtocol, session: Session,
             narrow: bool) -> tuple[list[Match], dict[str, tuple[Finder, Any]]]:
        """The matches of the rules that find the protocol's references, over the facts of the kinds they name;
        `narrow`: references without a filter look at the day found only (Finder.near)."""
        return self._fed_before(protocol, session, narrow, "references",
                                lambda: {er.name: (finder, er) for finder, er in
                                         protocol.finder_rules(session.partial, narrow)})

    def state_ends(self, protocol: CompiledProtocol, session: Session) -> tuple[list[Match], dict[str, tuple[Any, Any]]]:
        """The matches of the rules that find which trial records may end each state (compiler/states.py)."""
        if not any(state.end_rule is not None for state in protocol.states):
            return [], {}
        return self._fed_before(protocol, session, "states", "states",
                                lambda: {er.name: (state, er) for state in protocol.states if state.end_rule
                                         for er in (state.end_rule.interval_rules if session.partial
                                                    else state.end_rule.engine_rules)})

    def _fed_before(self, protocol: CompiledProtocol, session: Session, variant: Any, label: str,
                    rules: Callable[[], dict[str, tuple[Any, EngineRule]]]) -> tuple[list[Match], dict[str, Any]]:
        """The matches of rules fed before the protocol's own (a reference's finder, a state's end), over the
        facts of the kinds they name; their engine kept per protocol, partial dates and `variant`."""
        key = (id(protocol), session.partial, variant)
        if key not in self._finders:
            while len(self._finders) >= self.kept:
                self._finders.pop(next(iter(self._finders)))[1].close()
            names = rules()
            kinds = frozenset(p.kind for _, er in names.values() for p in er.patterns)
            self._finders[key] = (protocol, Engine({name: er.definition() for name, (_, er) in names.items()}),
                                  names, kinds)
        _, engine, names, kinds = self._finders[key]
        indexes = [i for i, fact in enumerate(session.facts) if fact["kind"] in kinds]
        matches = engine.feed(f"{session.name} ({label})", [session.facts[i] for i in indexes])
        return [(name, {alias: indexes[i] for alias, i in refs.items()}) for name, refs in matches], names

    def _part(self, entry: _Entry, kind: str) -> Engine:
        if kind not in entry.parts:
            assert entry.plan is not None
            naming = set(entry.plan.rules[kind])
            entry.parts[kind] = Engine({er.name: er.definition() for er in entry.rules if er.name in naming})
        return entry.parts[kind]

    def close(self) -> None:
        for entry in self._engines.values():
            entry.close()
        self._engines.clear()
        for _, engine, _, _ in self._finders.values():
            engine.close()
        self._finders.clear()
