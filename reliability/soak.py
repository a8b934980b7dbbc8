"""`python -m reliability.soak [--audits 1000]`: memory across many audits in one process.

The bundled JK500 example is audited again and again in this one process (engines made and closed
each time, reports rendered), and the resident memory is read every 100 audits. After a warm-up the
resident size must stay flat: growth from audit 100 to the last above `--allowed-mb` exits 1.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from pathlib import Path

from jk500_rules import load_protocol
from jk500_rules.engine.audit import audit_files
from jk500_rules.reports.csv_report import to_csv
from jk500_rules.reports.json_report import to_json
from jk500_rules.reports.text_report import to_text

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:  # not Linux: the peak is all there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.soak", description=__doc__)
    parser.add_argument("--audits", type=int, default=1000)
    parser.add_argument("--allowed-mb", type=float, default=10.0,
                        help="growth allowed from audit 100 to the last (default 10 MB)")
    args = parser.parse_args(argv)
    protocol = load_protocol(str(REPO / "protocol.rules"))
    log = str(REPO / "examples" / "jk500_visits.csv")
    marks: dict[int, float] = {}
    start = time.perf_counter()
    for n in range(1, args.audits + 1):
        result = audit_files(protocol, [log], keep_records=n % 2 == 0)
        to_json(result), to_text(result), to_csv(result)
        if n % 100 == 0 or n == args.audits:
            gc.collect()
            marks[n] = rss_mb()
            print(f"audit {n:>6}: RSS {marks[n]:7.1f} MB ({time.perf_counter() - start:6.1f} s)", flush=True)
    first = marks[min(k for k in marks if k >= min(100, args.audits))]
    growth = marks[args.audits] - first
    verdict = "flat" if growth <= args.allowed_mb else "GROWING"
    print(f"soak: {args.audits} audits, {len(result.findings)} findings each; RSS {first:.1f} MB at audit "
          f"{min(100, args.audits)} -> {marks[args.audits]:.1f} MB at audit {args.audits}: {growth:+.1f} MB ({verdict})")
    return 0 if verdict == "flat" else 1


if __name__ == "__main__":
    raise SystemExit(main())
