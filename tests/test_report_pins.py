"""No refactoring changes a report: every example's reports hash as pinned (tests/report_pins.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import unavailable
from report_pins import AUDITS, make_reports, read_pins, shared_pilot


@pytest.mark.parametrize("name", sorted(AUDITS))
def test_reports_are_byte_identical_to_the_pinned_ones(name: str, tmp_path: Path) -> None:
    if name == "cdiscpilot01" and not shared_pilot().is_dir():
        unavailable(f"the CDISC pilot SDTM data is not at {shared_pilot()}; set JK500_SHARED_DATA",
                    "every pinned report")
    pinned = {key: digest for key, digest in read_pins().items() if key.startswith(f"{name}/")}
    assert pinned, f"no pinned reports for {name}"
    made = make_reports(tmp_path, [name])
    changed = sorted(key for key in pinned.keys() | made.keys() if pinned.get(key) != made.get(key))
    assert not changed, f"reports differ from the pinned ones: {', '.join(changed)}"
