"""The fuzzer's cases: the seed corpus, and case `index` of run `seed` drawn from it."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

from .generate import generate
from .mutate import mutate
from .plant import Planted, plant


def _repository() -> Path:
    """The checkout the seeds come from: this source tree, or (for an installed package) the working folder."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "tests" / "golden").is_dir() else Path.cwd()


ROOT = _repository()
MAX_CASE_CHARS = 300_000  # a mutation that makes a case bigger is undone: a slow case should mean a bug


def seeds(root: Path = ROOT) -> list[tuple[str, str]]:
    """(name, text) of every rules file in the golden corpus and the examples, in a fixed order."""
    paths = sorted((root / "tests" / "golden").glob("**/*.rules"))
    paths += sorted((root / "examples").glob("**/protocol.rules"))
    paths += [p for p in [root / "protocol.rules"] if p.is_file()]
    found = [(str(p.relative_to(root)), p.read_text(encoding="utf-8")) for p in paths]
    return found or [("generated", generate(random.Random(0)))]


def case_text(seed: int, index: int, corpus: list[tuple[str, str]]) -> str:
    """Case `index` of run `seed`: a generated text (one in eight) or a seed mutated one to four times."""
    rng = random.Random(f"{seed}:{index}")
    if rng.random() < 0.125:
        text = generate(rng)
    else:
        text = rng.choice(corpus)[1]
        if text.count("\n") > 150 and rng.random() < 0.9:
            text = _some_items(text, rng)
    for _ in range(rng.choice((0, 1, 1, 1, 2, 3, 4)) if index % 8 else 1):
        changed = mutate(text, rng, corpus)
        if len(changed) <= MAX_CASE_CHARS:
            text = changed
    return as_read(text)


def planted_case(seed: int, index: int, bases: list[tuple[str, str]]) -> Planted:
    """Planted case `index` of run `seed`: one of `bases` (seeds that compile) with a construct planted
    that must be refused at its place (`plant`), and the lines the error must name."""
    rng = random.Random(f"{seed}:planted:{index}")
    return plant(rng.choice(bases)[1], rng)


_ITEM = re.compile(r"^(protocol|criterion|trial|event|group|subject|parameter|rule|version|governed|amendment)\b")


def _some_items(text: str, rng: random.Random) -> str:
    """A big seed cut to its declarations and a few of its rules: a syntax error in it is checked item by
    item, so a 700-line seed costs 50 times a small one and says little more."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _ITEM.match(line)] + [len(lines)]
    items = [lines[a:b] for a, b in itertools.pairwise(starts)]
    kept = [item for item in items if not item[0].startswith("rule") or rng.random() < 0.15]
    return "\n".join(lines[:starts[0]] + [line for item in kept for line in item])


def as_read(text: str) -> str:
    """The text as load_protocol sees it from a file: UTF-8 with a byte-order mark dropped, newlines universal."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

