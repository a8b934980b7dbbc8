"""Rules texts generated from the grammar's constructs: mostly well formed, often odd in meaning."""

from __future__ import annotations

import random

_TYPES = ("date", "integer", "decimal", "text", "boolean", "time")
_UNITS = ("mg", "kg", "mL", "mmol/L", "%")


def generate(rng: random.Random, items: int | None = None) -> str:
    """A rules text built from the grammar's constructs: mostly well formed, often odd in meaning."""
    events: dict[str, list[tuple[str, str]]] = {}
    out: list[str] = []
    if items is None:
        out.append(f'protocol "{rng.choice(("DEMO", "X", ""))}"')
    for e in range(rng.randint(1, 3)):
        name = f"ev{e}"
        fields = [(f"f{k}", rng.choice(_TYPES)) for k in range(rng.randint(0, 4))]
        events[name] = fields
        trial = "trial " if rng.random() < 0.15 else ""
        body = "\n".join(f"    {f}: {t}" + (f" in {rng.choice(_UNITS)}" if t in ("integer", "decimal") and rng.random() < 0.4
                                                else "") + (" required" if rng.random() < 0.5 else "")
                         for f, t in fields)
        out.append(f'{trial}event {name} "E {e}" {{\n{body}\n}}')
    names = list(events)
    if rng.random() < 0.4 and len(names) > 1:
        out.append(f"group grp = {', '.join(names)}")
    if rng.random() < 0.5:
        out.append(f"parameter p1 = {rng.choice(('3', '28 days', '2 weeks', '5 mg', '10 %'))}")
    params = ["p1"] if "p1" in "\n".join(out) else []

    def value(event: str) -> str:
        fields = events[event]
        pick = rng.random()
        if fields and pick < 0.5:
            return f"{event}.{rng.choice(fields)[0]}"
        if pick < 0.6 and params:
            return rng.choice(params)
        if pick < 0.7:
            return f"{rng.choice(('first', 'last'))} {rng.choice(names)}"
        if pick < 0.8:
            return f"{event}.date"
        return rng.choice(("1", "2 days", "3 weeks", '"x"', "yes", "5 mg", "0.5"))

    def cond(event: str, depth: int = 0) -> str:
        pick = rng.randrange(9 if depth < 3 else 5)
        if pick == 0:
            return f"{value(event)} {rng.choice(('<', '>', '=', '!=', '<=', '>='))} {value(event)}"
        if pick == 1:
            return f"{value(event)} is {rng.choice(('known', 'missing'))}"
        if pick == 2:
            return f"{value(event)} within {rng.choice(('3 days', '2 weeks', '1'))} {rng.choice(('before', 'after', 'of'))} {value(event)}"
        if pick == 3:
            return f"{value(event)} between {value(event)} and {value(event)}"
        if pick == 4:
            return f"{value(event)} in ({rng.choice(('1, 2', chr(34) + 'a' + chr(34), '3'))})"
        if pick == 5:
            return f"not {cond(event, depth + 1)}"
        if pick == 6:
            return f"({cond(event, depth + 1)})"
        if pick == 7:
            return f"{cond(event, depth + 1)} and {cond(event, depth + 1)}"
        return f"{cond(event, depth + 1)} or {cond(event, depth + 1)}"

    for r in range(rng.randint(1, 3) if items is None else items):
        event = rng.choice(names)
        source = rng.choice((f"each {event}", f"first {event}", f"last {event}",
                             f"the count of {event} per {rng.choice(('subject', 'day', 'calendar week'))}"))
        check = f"for {source}"
        if rng.random() < 0.4:
            check += f" where {cond(event)}"
        if rng.random() < 0.3:
            check += f"\n        needs a {rng.choice(names)} where {cond(event)}"
        if rng.random() < 0.7:
            check += f"\n        require {cond(event)}"
        else:
            check += f"\n        forbid {rng.choice(('a', 'an'))} {rng.choice(names)} where {cond(event)}"
        if rng.random() < 0.2:
            check += f"\n        unless a {rng.choice(names)}"
        attrs = rng.choice(("", "severity major\n    ", "severity critical\n    message \"{subject}\"\n    "))
        out.append(f'rule R-{r} "Rule {r}" {{\n    {attrs}{check}\n}}')
    return "\n\n".join(out) + "\n"
