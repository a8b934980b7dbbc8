"""The HTML report's timelines: each subject's (and the trial's) records and findings as SVG geometry."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..dates import add_days
from ..engine.results import STATUSES, AuditResult, Finding
from ..inputs.records import Record

# Timeline geometry (SVG user units).
WIDTH = 1100
LABEL_WIDTH = 190  # lane names
RIGHT_PAD = 20
LANE_HEIGHT = 20
FINDING_ROW = 16
AXIS_HEIGHT = 26
EARLY_WIDTH = 70  # a compressed zone for records long before the rest (medical history, diagnosis)
BREAK_GAP = 18
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
           "#ff7f0e", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354")

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def timeline_anchor(subject: str | None) -> str:
    """A safe, stable element id for a subject's timeline (a subject id may hold any characters)."""
    if subject is None:
        return "timeline-trial"
    return "timeline-" + hashlib.sha256(subject.encode("utf-8")).hexdigest()[:12]


def values_text(record: Record) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(record.raw.items()))


# ----- dates and the time scale -------------------------------------------------------------------

def parse_day(text: str | None) -> dt.date | None:
    """An ISO date, or the first day of a partial one (2024-03, 2024); None if it is not a date."""
    if not text:
        return None
    m = _PARTIAL.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


@dataclass
class Scale:
    """Dates -> x. Piecewise linear: a compressed early zone when the first records (e.g. medical history
    years before) are far from the rest, then the main span."""

    start: dt.date
    end: dt.date
    early: tuple[dt.date, dt.date] | None = None

    @classmethod
    def over(cls, days: list[dt.date]) -> "Scale":
        days = sorted(set(days))
        if not days:
            today = dt.date(2000, 1, 1)
            return cls(today, today + dt.timedelta(days=30))
        span = (days[-1] - days[0]).days
        # The largest gap between consecutive dates: break the axis there when it dominates the span.
        best, where = 0, None
        for i in range(1, len(days)):
            gap = (days[i] - days[i - 1]).days
            if gap > best:
                best, where = gap, i
        early = None
        main = days
        if where is not None and best > 180 and best > 0.5 * span:
            early = (days[0], days[where - 1])
            main = days[where:]
        start, end = main[0], main[-1]
        pad = max(3, (end - start).days // 40)
        # The padding stops at the calendar's ends (dates of year 1 or 9999 are valid records).
        return cls(add_days(start, -pad) or dt.date.min, add_days(end, pad) or dt.date.max, early)

    @property
    def main_left(self) -> float:
        return LABEL_WIDTH + (EARLY_WIDTH + BREAK_GAP if self.early else 0)

    @property
    def right(self) -> float:
        return WIDTH - RIGHT_PAD

    def x(self, day: dt.date) -> float:
        if self.early and day < self.start:
            lo, hi = self.early
            total = max(1, (hi - lo).days)
            frac = min(1.0, max(0.0, (day - lo).days / total))
            return round(LABEL_WIDTH + 6 + frac * (EARLY_WIDTH - 12), 1)
        total = max(1, (self.end - self.start).days)
        frac = (day - self.start).days / total
        return round(self.main_left + frac * (self.right - self.main_left), 1)

    def ticks(self) -> list[dict[str, Any]]:
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        step = 1 if months <= 14 else 2 if months <= 28 else 3 if months <= 48 else 12
        day = dt.date(self.start.year, self.start.month, 1)
        ticks = []
        while day <= self.end:
            if day >= self.start and (day.month - 1) % step == 0:
                label = day.strftime("%Y-%m") if step < 12 else str(day.year)
                ticks.append({"x": self.x(day), "label": label})
            year, month = divmod(day.month, 12)
            if day.year + year > dt.MAXYEAR:  # the axis reaches December 9999: no month follows
                break
            day = dt.date(day.year + year, month + 1, 1)
        return ticks

    def early_label(self) -> str | None:
        if not self.early:
            return None
        lo, hi = self.early
        return str(lo.year) if lo.year == hi.year else f"{lo.year}–{hi.year}"


# ----- the timelines ------------------------------------------------------------------------------

@dataclass
class _Section:
    """What one timeline shows: a subject's (or the trial's) records, derived dates and findings."""

    key: str | None  # subject id, None for the trial
    records: list[Record] = field(default_factory=list)
    derived: list[tuple[str, dt.date, str]] = field(default_factory=list)  # (lane, date, tooltip)
    findings: list[Finding] = field(default_factory=list)


def _dose_group_starts(result: AuditResult) -> list[tuple[str, dt.date, str]]:
    """Each dose group's first infusion: infusions grouped by the subject's first recorded dose_group."""
    group_of: dict[str, str] = {}
    for r in sorted(result.data.records, key=lambda r: (r.date, r.location)):
        if r.subject is not None and r.subject not in group_of and r.event != "src_decision":
            value = r.raw.get("dose_group")
            if value not in (None, ""):
                group_of[r.subject] = str(value)
    first: dict[str, Record] = {}
    for r in result.data.records:
        if r.event == "infusion" and r.subject in group_of:
            group = group_of[r.subject]
            if group not in first or (r.date, r.subject or "") < (first[group].date, first[group].subject or ""):
                first[group] = r
    return [("first infusion of dose group", r.date,
             f"dose group {group}: first infusion {r.date_text}, subject {r.subject} ({r.location})")
            for group, r in sorted(first.items(), key=lambda kv: (kv[1].date, kv[0]))]


def _timeline_svg(section: _Section, views: dict[str, dict[str, Any]], colours: dict[str, str]) -> dict[str, Any]:
    """One timeline's geometry: the time scale, the findings' rows of marks, one lane per event type."""
    days = [r.date for r in section.records] + [d for _, d, _ in section.derived]
    finding_days: dict[str, tuple[dt.date, dt.date | None, dt.date | None]] = {}
    for f in section.findings:
        ev = sorted(r.date for r in f.evidence)
        day = parse_day(f.date) or (ev[0] if ev else None) or (min(days) if days else dt.date(2000, 1, 1))
        lo, hi = (ev[0], ev[-1]) if len(set(ev)) > 1 else (None, None)
        finding_days[f.id] = (day, lo, hi)
        days += [day] + ([lo, hi] if lo else [])
    scale = Scale.over(days)

    # Lanes: one per event type, in order of first occurrence.
    first_seen: dict[str, dt.date] = {}
    for r in section.records:
        first_seen[r.event] = min(first_seen.get(r.event, r.date), r.date)
    for lane, day, _ in section.derived:
        first_seen[lane] = min(first_seen.get(lane, day), day)
    lane_names = sorted(first_seen, key=lambda e: (first_seen[e], e))

    # The findings lane first: each finding on its own row where marks would overlap.
    rows_end: list[float] = []
    marks = []
    for f in sorted(section.findings, key=lambda f: (finding_days[f.id][0], f.rule.id, f.id)):
        day, lo, hi = finding_days[f.id]
        x = scale.x(day)
        left = scale.x(lo) if lo else x
        right = scale.x(hi) if hi else x
        start = min(left, x) - 8
        row = next((i for i, end in enumerate(rows_end) if end < start), None)
        if row is None:
            rows_end.append(0.0)
            row = len(rows_end) - 1
        rows_end[row] = max(right, x) + 8
        view = views[f.id]
        marks.append({"id": f.id, "status": f.status, "x": x, "row": row,
                      "band": (left, right) if lo else None,
                      "tooltip": f"{f.id} {f.rule.id} {view['status_label']} {f.date}: {f.message}"
                                 + (f" (window {lo.isoformat()} to {hi.isoformat()})" if lo else "")})
    finding_rows = max(1, len(rows_end))
    top = AXIS_HEIGHT
    findings_height = finding_rows * FINDING_ROW + 8
    for m in marks:
        m["y"] = top + 4 + m["row"] * FINDING_ROW + FINDING_ROW / 2
    lanes = []
    y = top + findings_height
    for i, name in enumerate(lane_names):
        colour = colours.get(name, PALETTE[i % len(PALETTE)])
        points = []
        for r in sorted((r for r in section.records if r.event == name), key=lambda r: (r.date, r.location)):
            tip = f"{r.event} {r.date_text} ({r.location})"
            if section.key is None and r.subject:
                tip += f" subject {r.subject}"
            values = values_text(r)
            points.append({"x": scale.x(r.date), "tooltip": tip + (f": {values}" if values else "")})
        for lane, day, tip in section.derived:
            if lane == name:
                points.append({"x": scale.x(day), "tooltip": tip, "label": tip.split(":", 1)[0]})
        lanes.append({"name": name, "y": y + LANE_HEIGHT / 2, "top": y, "colour": colour, "points": points,
                      "derived": any(lane == name for lane, _, _ in section.derived)})
        y += LANE_HEIGHT
    height = y + 6
    return {
        "width": WIDTH, "height": height, "label_width": LABEL_WIDTH, "right": scale.right,
        "main_left": scale.main_left, "ticks": scale.ticks(), "early_label": scale.early_label(),
        "early_left": LABEL_WIDTH + 4, "early_right": LABEL_WIDTH + EARLY_WIDTH - 4,
        "axis_y": AXIS_HEIGHT - 8, "findings_top": top, "findings_height": findings_height,
        "finding_rows": finding_rows, "marks": marks, "lanes": lanes,
        "start": scale.start.isoformat(), "end": scale.end.isoformat(),
    }


def timeline_views(result: AuditResult, finding_views: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The trial's timeline first (trial-level records, SRC decisions, each dose group's first infusion),
    then each subject's; `finding_views` are the findings as the page shows them, by id."""
    sections: dict[str | None, _Section] = {}
    for r in result.data.records:
        sections.setdefault(r.subject, _Section(r.subject)).records.append(r)
    for f in result.findings:
        sections.setdefault(f.subject, _Section(f.subject)).findings.append(f)
    starts = _dose_group_starts(result)
    if starts:
        sections.setdefault(None, _Section(None)).derived.extend(starts)
    # One colour per event type across every timeline.
    events = sorted({r.event for r in result.data.records} | {lane for sec in sections.values()
                                                               for lane, _, _ in sec.derived})
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(events)}
    timelines = []
    for key in sorted(sections, key=lambda k: (k is not None, k or "")):
        section = sections[key]
        counts = Counter(f.status for f in section.findings)
        timelines.append({"subject": key, "label": key if key is not None else "Trial level",
                          "anchor": timeline_anchor(key),
                          "records": len(section.records),
                          "counts": {st: counts[st] for st in STATUSES},
                          "svg": _timeline_svg(section, finding_views, colours)})
    return timelines
