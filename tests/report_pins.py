"""Every report of every example, made the CLI's way, and the sha256 of each: the refactoring guard.

`tests/golden/report_hashes.txt` holds the hashes made by the code before a refactoring; a test remakes
the reports and compares, so that moving code cannot change a byte a monitor reads.
`python -m tests.report_pins` rewrites the file (only when a change of output is meant).

The audits run in a scratch folder holding links to `examples/` and to the pilot's SDTM folder, so
that every path a report names (evidence, provenance) is the same relative path on any machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
from pathlib import Path

from jk500_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "golden" / "report_hashes.txt"
RUN_TIME = "2026-01-01T00:00:00+00:00"
FORMATS = "text,json,html,csv,dv"

# name -> the audit's arguments, relative to the scratch folder.
AUDITS: dict[str, list[str]] = {
    "jk500": ["--rules", "examples/protocol.rules", "examples/jk500_visits.csv"],
    "jk500_sdtm": ["--rules", "examples/protocol.rules", "--mapping", "examples/jk500_sdtm/mapping.toml",
                   "examples/jk500_sdtm", "examples/jk500_sdtm/src_decisions.csv"],
    "amendment": ["--rules", "examples/amendment/protocol.rules", "examples/amendment/visits.csv"],
    "other_trial": ["--rules", "examples/other_trial/protocol.rules", "examples/other_trial/visits.csv"],
    "cdiscpilot01": ["--rules", "examples/cdiscpilot01/protocol.rules",
                     "--mapping", "examples/cdiscpilot01/mapping.toml", "cdiscpilot01"],
}


def shared_pilot() -> Path:
    base = os.environ.get("JK500_SHARED_DATA") or str(ROOT.parent / "shared" / "data")
    return Path(base) / "cdiscpilot01"


def make_reports(scratch: Path, names: list[str]) -> dict[str, str]:
    """Audit each named example into `scratch/out/NAME/`; return {NAME/FILE: sha256}."""
    examples = scratch / "examples"
    if not examples.exists():
        examples.mkdir(parents=True)
        for entry in (ROOT / "examples").iterdir():
            (examples / entry.name).symlink_to(entry)
        (examples / "protocol.rules").symlink_to(ROOT / "protocol.rules")
        if shared_pilot().is_dir():
            (scratch / "cdiscpilot01").symlink_to(shared_pilot())
    hashes: dict[str, str] = {}
    here = Path.cwd()
    os.chdir(scratch)
    try:
        for name in names:
            out = Path("out") / name
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = main(["audit", *AUDITS[name], "--format", FORMATS, "-o", str(out), "--run-time", RUN_TIME,
                             "--jobs", "1"])
            if code not in (0, 1):
                raise AssertionError(f"audit {name} exited {code}")
            for path in sorted(out.iterdir()):
                hashes[f"{name}/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        os.chdir(here)
    return hashes


def read_pins() -> dict[str, str]:
    pins = {}
    for line in PINS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            pins[name] = digest
    return pins


def write_pins(scratch: Path) -> None:
    if not shared_pilot().is_dir():
        sys.exit(f"the pilot's data are missing ({shared_pilot()}): every example must be pinned")
    hashes = make_reports(scratch, list(AUDITS))
    lines = ["# sha256 of every report of every example (tests/report_pins.py); remade by python -m tests.report_pins"]
    lines += [f"{digest}  {name}" for name, digest in sorted(hashes.items())]
    PINS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{PINS}: {len(hashes)} reports pinned")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        write_pins(Path(folder))
