"""lark tree -> a rule's check: its records (`for ...`), needs, excuses and verdict."""

from __future__ import annotations

from typing import Any

from lark import Token, v_args

from ..errors import Span
from . import nodes as n
from .expression_builder import ExpressionBuilder, meta_span, token_span, unquote


@v_args(meta=True)
class CheckBuilder(ExpressionBuilder):
    """lark tree -> a rule's check, on top of the conditions and expressions it contains."""

    def check(self, meta: Any, items: list[Any]) -> n.Check:
        source = items[0]
        verdict = next(i for i in items if isinstance(i, n.Verdict))
        where = items[1] if not isinstance(items[1], (n.Need, n.Verdict)) else None
        return n.Check(span=meta_span(meta), source=source, where=where, verdict=verdict,
                       needs=tuple(i for i in items if isinstance(i, n.Need)),
                       excuses=tuple(i for i in items if isinstance(i, n.Excuse)))

    def need(self, meta: Any, items: list[Any]) -> n.Need:
        event, rest = items[1], items[2:]
        cond = next((i for i in rest if not isinstance(i, Token)), None)
        reason = next((unquote(i) for i in rest if isinstance(i, Token)), None)
        return n.Need(span=meta_span(meta), event=str(event), event_span=token_span(event), cond=cond, reason=reason)

    def excuse(self, meta: Any, items: list[Any]) -> n.Excuse:
        event = items[1]
        cond = items[2] if len(items) > 2 else None
        return n.Excuse(span=meta_span(meta), event=str(event), event_span=token_span(event), cond=cond)

    def each_source(self, meta: Any, items: list[Token]) -> n.Source:
        return n.Source(span=meta_span(meta), form="each", event=str(items[0]), event_span=token_span(items[0]))

    def anchor_source(self, meta: Any, items: list[Token]) -> n.Source:
        return n.Source(span=meta_span(meta), form=str(items[0]), event=str(items[1]), event_span=token_span(items[1]))

    def group_source(self, meta: Any, items: list[Token]) -> n.Source:
        which, event, attribute = items
        return n.Source(span=meta_span(meta), form=f"group_{which}", event=str(event), event_span=token_span(event),
                        attribute=str(attribute))

    def count_source(self, meta: Any, items: list[Any]) -> n.Source:
        event, period = items
        if isinstance(period, _Window):
            return n.Source(span=meta_span(meta), form="count", event=str(event), event_span=token_span(event),
                            period="window" if period.tolerance is None else "due", interval=period.interval,
                            anchor=period.anchor, horizon=period.horizon, tolerance=period.tolerance,
                            until=period.until)
        if period[0] == "schedule":
            return n.Source(span=meta_span(meta), form="count", event=str(event), event_span=token_span(event),
                            period="schedule", schedule=str(period[1]), schedule_span=token_span(period[1]))
        period, week_start, week_start_span = period
        return n.Source(span=meta_span(meta), form="count", event=str(event), event_span=token_span(event),
                        period=period, week_start=week_start, week_start_span=week_start_span)

    def per_subject(self, meta: Any, items: list[Any]) -> tuple[str, None, None]:
        return "subject", None, None

    def per_day(self, meta: Any, items: list[Any]) -> tuple[str, None, None]:
        return "day", None, None

    def per_window(self, meta: Any, items: list[Any]) -> Any:
        interval, which, event, horizon = items
        anchor = n.AnchorRef(span=Span(event.line, event.column, event.end_line, event.end_column), which=which,
                             event=str(event))
        return _Window(interval, anchor, horizon)

    def per_due(self, meta: Any, items: list[Any]) -> Any:
        interval, tolerance, which, event, *rest = items
        anchor = n.AnchorRef(span=token_span(event), which=which, event=str(event))
        until = n.AnchorRef(span=token_span(rest[1]), which=rest[0], event=str(rest[1])) if len(rest) > 1 else None
        horizon = rest[-1] if len(rest) % 2 else None
        return _Window(interval, anchor, horizon, tolerance, until)

    def per_schedule(self, meta: Any, items: list[Token]) -> tuple[str, Token]:
        return "schedule", items[0]

    def per_week(self, meta: Any, items: list[Token]) -> tuple[str, str, Span | None]:
        if not items:
            return "week", "monday", None
        return "week", str(items[0]).lower(), token_span(items[0])

    def require(self, meta: Any, items: list[Any]) -> n.Verdict:
        due = items[1].expr if len(items) > 1 else None
        return n.Verdict(span=meta_span(meta), mode="require", cond=items[0], due=due)

    def forbid(self, meta: Any, items: list[Any]) -> n.Verdict:
        return n.Verdict(span=meta_span(meta), mode="forbid", cond=items[0])

    def require_exists(self, meta: Any, items: list[Any]) -> n.Verdict:
        return self._exists("require", meta, items)

    def forbid_exists(self, meta: Any, items: list[Any]) -> n.Verdict:
        return self._exists("forbid", meta, items)

    def _exists(self, mode: str, meta: Any, items: list[Any]) -> n.Verdict:
        event, rest = items[1], items[2:]
        cond = next((i for i in rest if not isinstance(i, _Due)), None)
        due = next((i.expr for i in rest if isinstance(i, _Due)), None)
        return n.Verdict(
            span=meta_span(meta), mode=mode, cond=cond, exists_event=str(event), exists_span=token_span(event), due=due
        )

    def due(self, meta: Any, items: list[Any]) -> Any:
        return _Due(items[0])


class _Window:
    __slots__ = ("anchor", "horizon", "interval", "tolerance", "until")

    def __init__(self, interval: Any, anchor: n.AnchorRef, horizon: Any, tolerance: Any = None,
                 until: n.AnchorRef | None = None) -> None:
        self.interval, self.anchor, self.horizon = interval, anchor, horizon
        self.tolerance, self.until = tolerance, until


class _Due:
    __slots__ = ("expr",)

    def __init__(self, expr: Any) -> None:
        self.expr = expr
