"""The engines a process keeps: one per protocol version, and one for partial dates, made when first needed."""

from __future__ import annotations

from typing import Any

from ..compiler.model import CompiledProtocol, CompiledRule
from .durable import Engine
from .versions import PROTOCOLS_KEPT


class Engines:
    """One engine per protocol version (and one for partial dates), made when first needed.

    Each entry holds its protocol, so that the protocol's id, the key, cannot be reused by another;
    past `kept` entries the oldest engine is closed (a long-lived worker may see many protocols).
    """

    def __init__(self, kept: int = 4 * PROTOCOLS_KEPT) -> None:
        self.kept = kept
        self._engines: dict[tuple[int, bool], tuple[CompiledProtocol, Engine, dict[str, tuple[CompiledRule, Any]]]] = {}

    def get(self, protocol: CompiledProtocol, partial: bool) -> tuple[Engine, dict[str, tuple[CompiledRule, Any]]]:
        """The engine, and each of its engine rules' (rule, engine rule) by name."""
        key = (id(protocol), partial)
        if key not in self._engines:
            while len(self._engines) >= self.kept:
                self._engines.pop(next(iter(self._engines)))[1].close()
            engine = Engine(protocol.interval_rulesets() if partial else protocol.rulesets())
            names = {er.name: (rule, er) for rule in protocol.rules
                     for er in (rule.interval_rules if partial else rule.engine_rules)}
            self._engines[key] = (protocol, engine, names)
        _, engine, names = self._engines[key]
        return engine, names

    def close(self) -> None:
        for _, engine, _ in self._engines.values():
            engine.close()
        self._engines.clear()
