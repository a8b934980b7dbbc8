"""Optional phase hooks: timing wrappers around the functions the engine modules look up at call time.

A hook point that is missing, streams (returns an iterator) or runs in a worker is reported as n/a
(None), never an error. The wrappers act only in the process that installed them, never in a forked
worker.
"""

from __future__ import annotations

import inspect
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from .memory import reset_peak, status

_PARENT = os.getpid()
# The engine modules' functions timed when present: name -> phase label in the results.
HOOKS = ("read_logs", "build_sessions", "subject_session", "trial_session")

MARKS: dict[str, Any] = {"calls": Counter(), "seconds": Counter(), "streaming": set()}
_REAL: dict[str, Any] = {}


def _is_stream(value: object) -> bool:
    """A generator or iterator: the work happens later, so the call's own time says nothing."""
    return hasattr(value, "__next__") or inspect.isgenerator(value)


def _wrap(name: str) -> Callable:
    """A timing wrapper, registered in this module under its own name so that pickle finds it by reference."""
    real = _REAL[name]

    def timed(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != _PARENT:  # a forked worker inherits the patch: stay out of its way
            return real(*args, **kwargs)
        t = time.perf_counter()
        value = real(*args, **kwargs)
        now = time.perf_counter()
        MARKS["calls"][name] += 1
        MARKS["seconds"][name] += now - t
        if _is_stream(value):
            MARKS["streaming"].add(name)
        first = MARKS["calls"][name] == 1
        if name == "read_logs" and first:
            MARKS["read_end"] = now
            MARKS["rss_after_read"] = status().get("VmRSS")
        if name == "build_sessions" and first and not _is_stream(value):
            # Reset the high-water mark so the engine loop's own peak can be told apart.
            s = status()
            MARKS["rss_before_engine"] = s.get("VmRSS")
            MARKS["hwm_before_reset"] = s.get("VmHWM")
            MARKS["peak_reset"] = reset_peak()
            MARKS["sessions"] = len(value) if hasattr(value, "__len__") else None
            MARKS["engine_start"] = time.perf_counter()
        return value

    timed.__name__ = timed.__qualname__ = f"timed_{name}"
    timed.__module__, timed.__doc__, timed.__wrapped__ = __name__, real.__doc__, real  # type: ignore[attr-defined]
    globals()[timed.__name__] = timed
    return timed


def _timed_feed(self: Any, session: Any, facts: Any) -> Any:
    real = _REAL["Engine"].feed
    if os.getpid() != _PARENT:
        return real(self, session, facts)
    t = time.perf_counter()
    matches = real(self, session, facts)
    took = time.perf_counter() - t
    MARKS["calls"]["Engine.feed"] += 1
    MARKS["seconds"]["Engine.feed"] += took
    if session == "trial":
        MARKS["trial_feed_s"] = took
        MARKS["trial_facts"] = len(facts) if hasattr(facts, "__len__") else None
    return matches


TimedEngine: type | None = None  # module level, so that pickle could find it by name


def install_hooks(*modules: Any) -> list[str]:
    """Wrap whichever hook points `modules` have, each once; return their names. Never raises."""
    global TimedEngine
    installed = []
    for module in modules:
        for name in HOOKS:
            real = getattr(module, name, None)
            if name not in _REAL and callable(real) and not isinstance(real, type):
                try:
                    _REAL[name] = real
                    setattr(module, name, _wrap(name))
                    installed.append(name)
                except (AttributeError, TypeError):
                    continue
        base = getattr(module, "Engine", None)
        if "Engine" not in _REAL and isinstance(base, type) and callable(getattr(base, "feed", None)):
            try:
                _REAL["Engine"] = base
                TimedEngine = type("TimedEngine", (base,), {"feed": _timed_feed, "__module__": __name__})
                module.Engine = TimedEngine
                installed.append("Engine.feed")
            except TypeError:  # e.g. a final class
                pass
    return installed


def phase_seconds(name: str) -> float | None:
    if not MARKS["calls"][name] or name in MARKS["streaming"]:
        return None
    return MARKS["seconds"][name]
