"""The only door to durable-rules: a thread-less, leak-free runner around its C engine.

Every workaround here answers a measured engine defect (see ../shared/design/durable-rules.md):
facts not events, one batch per session id, ids 0..n-1 (the store hashes ids to 32 bits), a marker
fact and no-op rule per session (delete_state crashes on a session where no action ran), a sentinel
test closing every later pattern (an out-of-bounds read when a join's last test fails), actions
that only record matches, and every session and ruleset deleted after use. The engine never sees a
session's name: it escapes a name's non-ASCII characters in a batch but not in `delete_state`, so a
name like "患者-001" left a state it could not delete (error 309); each feed gets a numbered id of its own.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Iterable

import durable_rules_engine as _dre  # the C engine behind `durable`

__all__ = ["Engine", "EngineError"]

_SENTINEL = "_t"
_BEGIN_KIND = "$begin"
_BEGIN_RULE = "$begin"
_ruleset_numbers = itertools.count(1)
# The engine hands back each matched fact as the JSON text it was given. Every fact is sent with "id"
# as its first key, so a match's `"alias":{"id": N` is found without decoding the whole fact; a data
# value cannot fake it, since a quote inside a JSON string is always escaped.
_ID_OPENING = '{"id": '
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193
# The most matches of one rule an action message carries; more come in further messages.
CAP = 1000


class EngineError(Exception):
    """The engine refused a ruleset or a batch; a bug in the compiler or the runner, never in data."""


def _fnv1a32(text: str) -> int:
    h = _FNV_OFFSET
    for byte in text.encode():
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


class _IdHashes:
    """fnv1a32 of "0".."n-1", grown on demand, to keep a session's own id clear of fact ids."""

    def __init__(self) -> None:
        self._first_index: dict[int, int] = {}
        self._size = 0

    def collides(self, text: str, count: int) -> bool:
        while self._size < count:
            self._first_index.setdefault(_fnv1a32(str(self._size)), self._size)
            self._size += 1
        index = self._first_index.get(_fnv1a32(text))
        return index is not None and index < count


_ID_HASHES = _IdHashes()
# Decimal ids below this bound have pairwise distinct 32-bit hashes (measured upstream of us).
MAX_FACTS_PER_SESSION = 797_185


def prepare(definitions: dict[str, dict]) -> dict[str, dict]:
    """The ruleset as the engine receives it: sentinel tests on later patterns, the marker rule."""
    prepared: dict[str, dict] = {}
    for name, rule in definitions.items():
        patterns = rule["all"]
        first_alias = next(iter(patterns[0]))
        guarded = [patterns[0]]
        for pattern in patterns[1:]:
            ((alias, condition),) = pattern.items()
            tests = list(condition["$and"]) if "$and" in condition else [condition]
            tests.append({_SENTINEL: {first_alias: _SENTINEL}})
            guarded.append({alias: {"$and": tests}})
        # Up to CAP matches travel in one action message (a list): fewer trips through the action loop.
        prepared[name] = {"all": guarded, "cap": CAP}
        if "dist" in rule:
            prepared[name]["dist"] = rule["dist"]
    prepared[_BEGIN_RULE] = {"all": [{"m": {"kind": _BEGIN_KIND}}]}
    return prepared


class Engine:
    """One compiled ruleset, fed one session (subject or trial) at a time; use as a context manager."""

    def __init__(self, definitions: dict[str, dict]):
        self.definition = prepare(definitions)
        self.name = f"audit{next(_ruleset_numbers)}"
        self._session_numbers = itertools.count()
        try:
            self._handle: Any = _dre.create_ruleset(self.name, json.dumps(self.definition))
        except Exception as exc:  # the C module raises its own error type
            raise EngineError(f"the engine refused the compiled rules: {exc}") from None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            _dre.delete_ruleset(self._handle)
            self._handle = None

    def feed(self, session: str, facts: Iterable[dict]) -> list[tuple[str, dict[str, int]]]:
        """Assert one session's facts in one batch; return (rule name, {alias: fact's index}) per match.

        The index is the fact's position in `facts`; the facts themselves are not changed.
        """
        return self.run(session, *self.encode(session, facts))

    def encode(self, session: str, facts: Iterable[dict]) -> tuple[str, str]:
        """One session's batch as the engine takes it: its own id, and the JSON of its facts (the marker first,
        each fact with its id, the session id and the sentinel)."""
        facts = list(facts)
        count = len(facts) + 1
        if count > MAX_FACTS_PER_SESSION:
            raise EngineError(f"session {session} has {count} facts; at most {MAX_FACTS_PER_SESSION} fit")
        sid = f"s{next(self._session_numbers)}"
        while _ID_HASHES.collides(f"sid-{sid}", count):
            sid += "~"
        batch = [{"id": 0, "kind": _BEGIN_KIND, "sid": sid, _SENTINEL: 1}]
        batch += [{"id": index, **fact, "sid": sid, _SENTINEL: 1} for index, fact in enumerate(facts, start=1)]
        return sid, json.dumps(batch)

    def run(self, session: str, sid: str, batch: str) -> list[tuple[str, dict[str, int]]]:
        """Assert an encoded batch (`encode`), collect its matches and delete the session's state."""
        if self._handle is None:
            raise EngineError("the engine is closed")
        matches: list[tuple[str, dict[str, int]]] = []
        try:
            code, state_handle = _dre.assert_facts(self._handle, batch)
        except Exception as exc:
            raise EngineError(f"the engine refused the facts of {session}: {exc}") from None
        # Code 1 only says that some fact passed no rule's first tests; it is stored all the same.
        if code == 2:
            raise EngineError(f"the engine saw a duplicate fact id in session {session}")
        try:
            result = _dre.start_action_for_state(self._handle, state_handle)
            while result:
                matches += _parse_matches(result[1])
                follow = _dre.complete_and_start_action(self._handle, state_handle)
                result = (None, follow) if follow else None
        finally:
            _dre.delete_state(self._handle, sid)
        return matches


def _parse_matches(message: str) -> list[tuple[str, dict[str, int]]]:
    """`{"rule":{"alias":{"id": N, ...}, ...}}`, or with `cap` `{"rule":[{...}, {...}]}` ->
    [(rule, {alias: N - 1})] per match, in the message's order, skipping the marker rule."""
    # One action message holds one rule's matches; its name is ours and has no quote in it.
    rule_name = message[2:message.index('"', 2)]
    if rule_name == _BEGIN_RULE:
        return []
    matches: list[tuple[str, dict[str, int]]] = []
    refs: dict[str, int] = {}
    first_alias = None
    find = message.find
    at = find(_ID_OPENING, len(rule_name) + 4)
    while at != -1:  # each `"alias":{"id": N,` in turn: the alias is the string closing just before
        alias_start = message.rfind('"', 0, at - 2) + 1
        alias = message[alias_start:at - 2]
        if first_alias is None:
            first_alias = alias
        elif alias == first_alias:  # a match names each alias once: the first again opens the next match
            matches.append((rule_name, refs))
            refs = {}
        number_end = find(",", at + len(_ID_OPENING))
        refs[alias] = int(message[at + len(_ID_OPENING):number_end]) - 1
        at = find(_ID_OPENING, number_end)
    if not refs:
        raise EngineError(f"cannot read the engine's match message: {message[:200]}")
    matches.append((rule_name, refs))
    return matches
