"""The `jk500-rules` argument parser: every subcommand, its options and their help texts."""

from __future__ import annotations

import argparse
import datetime as dt

import pendulum

from .._version import __version__
from ..engine.audit import PARALLEL_FROM
from ..engine.executor import default_jobs
from ..engine.partition import ROWS_IN_MEMORY
from ..reports import monitoring
from ..reports.writers import parse_formats


STRICT_COLUMNS_HELP = ("reject a row that gives a value in a column its event type does not declare (by default the "
                       "value is ignored, the row audited, and one warning per file and column says how many "
                       "values were ignored)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return value


def _zone(name: str) -> str:
    try:
        pendulum.timezone(name)
    except Exception:  # pendulum raises its own not-found error types
        raise argparse.ArgumentTypeError(f"'{name}' is not a time zone (e.g. Asia/Shanghai, Europe/Paris)") from None
    return name


def build_parser(description: str | None) -> argparse.ArgumentParser:
    """The `jk500-rules` parser with every subcommand and its options; `description` heads `--help`."""
    parser = argparse.ArgumentParser(prog="jk500-rules", description=description)
    parser.add_argument("--version", action="version", version=f"jk500-rules {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    audit = commands.add_parser("audit", help="audit visit logs against a rules file")
    audit.add_argument("--rules", required=True, help="the protocol rules file")
    audit.add_argument("logs", nargs="+", metavar="LOG",
                       help="visit logs (.csv or .jsonl), or with --mapping folders of SDTM domains (.xpt, .csv)")
    audit.add_argument("--time-zone", metavar="ZONE", type=_zone,
                       help="the time zone (e.g. Asia/Shanghai) of the sites the rules give none (site \"01\" zone "
                            "\"...\"): a date-time with a UTC offset counts on its local date there, and one without "
                            "is its wall clock (default: dates as written, times without an offset in UTC)")
    audit.add_argument("--mapping", metavar="FILE",
                       help="how SDTM domains become the protocol's events (a TOML file; see docs/sdtm.md)")
    audit.add_argument("--format", type=parse_formats, default="text", metavar="FORMAT[,FORMAT...]",
                       help="text (the default), json, html (one self-contained page: summary, a sortable and "
                            "filterable findings table, a timeline per subject), csv (one row per finding; a cell a "
                            "spreadsheet would "
                            "run as a formula starts with '), or dv (SDTM protocol deviations: DV and SUPPDV as "
                            "CSV and SAS XPORT version 5, one record per subject-level finding, the important "
                            "flag as SUPPDV QNAM DVIMPFL, trial-level findings apart in dv_trial.csv). Several, "
                            "comma-separated (e.g. text,json,csv,dv), are written into the folder -o DIR")
    audit.add_argument("--as-of", type=_date, metavar="DATE",
                       help="data cut-off: later records are not used, open windows are not judged "
                            "(default: the latest date in the logs)")
    audit.add_argument("-o", "--output", metavar="FILE|DIR",
                       help="write the report here instead of stdout: a FILE for text, json or csv (a folder "
                            "gets report.txt, report.json or findings.csv); a folder, made if missing, for dv "
                            "(dv.csv, suppdv.csv, dv.xpt, suppdv.xpt, dv_trial.csv for trial-level findings) "
                            "and for several formats. Without -o, dv prints dv.csv")
    audit.add_argument("--version", dest="protocol_version", metavar="NAME",
                       help="judge every subject under this protocol version (default: the version in force "
                            "for each subject, see `governed by`)")
    audit.add_argument("--since", metavar="PREVIOUS.json",
                       help="an earlier JSON report: mark each finding new or persisting, list the resolved ones")
    audit.add_argument("--reviewed", metavar="FILE",
                       help="a monitor's decisions (CSV or JSON: finding_id, decision acknowledged|waived, reason, "
                            "by, at): shown with their findings; decisions on findings now gone are reported")
    audit.add_argument("--fail-on", choices=monitoring.FAIL_ON, default="any",
                       help="which findings make the exit code 1: any (default), important, new (needs --since), "
                            "new-important, never; waived findings never do")
    audit.add_argument("--jobs", type=_positive, default=None, metavar="N",
                       help=f"judge subjects in N worker processes (default: the core count, {default_jobs()} here); "
                            f"the report is the same for any N; logs under {PARALLEL_FROM:,} rows are audited in "
                            "this process")
    audit.add_argument("--rows-in-memory", type=_positive, default=ROWS_IN_MEMORY, metavar="N",
                       help="rows held in memory while regrouping the logs by subject; beyond, they are sorted "
                            f"externally in temporary files (default {ROWS_IN_MEMORY:,})")
    audit.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="where subjects are judged: local processes (default), or a Dask cluster (needs "
                            "--scheduler and the dask extra: pip install 'jk500-rules[dask]')")
    audit.add_argument("--scheduler", metavar="ADDRESS",
                       help="the Dask scheduler's address (e.g. tcp://10.0.0.5:8786), with --executor dask")
    audit.add_argument("--strict-columns", action="store_true", help=STRICT_COLUMNS_HELP)
    audit.add_argument("--run-time", metavar="TIME",
                       help="the run time the reports carry (default: now, UTC); fix it to compare reports byte "
                            "for byte")

    diff = commands.add_parser("diff", help="findings that appear, disappear or change between two rules versions")
    diff.add_argument("old", metavar="OLD", help="a rules file, or FILE@VERSION for one version of it")
    diff.add_argument("new", metavar="NEW", help="a rules file, or FILE@VERSION")
    diff.add_argument("logs", nargs="+", metavar="LOG", help="visit logs (.csv or .jsonl)")
    diff.add_argument("--as-of", type=_date, metavar="DATE", help="data cut-off for both audits")
    diff.add_argument("--mapping", metavar="FILE", help="read SDTM folders among the LOGs with this mapping")
    diff.add_argument("--format", choices=("text", "json"), default="text")

    compile_ = commands.add_parser(
        "compile", help="print what a compiler pass made of the rules, as JSON (default: the engine's rulesets)",
        description="Print the latest protocol version as a compiler pass left it, as deterministic JSON: "
                    "resolved (each rule's records and every name bound to the field it reads, typed), lowered "
                    "(each condition as alternatives of engine tests, and the fact plan) or engine (the exact "
                    "rulesets handed to durable-rules). See docs/architecture.md.")
    compile_.add_argument("rules")
    compile_.add_argument("--stage", choices=("resolved", "lowered", "engine"), default="engine",
                          help="which pass's output to print (default: engine)")

    check = commands.add_parser("check", help="report every error in a rules file")
    check.add_argument("rules")

    explain = commands.add_parser("explain", help="each rule in plain English")
    explain.add_argument("rules", metavar="FILE")
    explain.add_argument("rule", nargs="?", metavar="RULE", help="one rule id (default: every rule)")
    explain.add_argument("--version", dest="protocol_version", metavar="NAME",
                         help="explain this protocol version (default: the latest)")

    fmt = commands.add_parser("fmt", help="lay rules files out canonically (comments kept)")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 and name each file that is not laid out canonically")

    trace = commands.add_parser("matrix", help="criterion -> rules -> scenarios -> findings of an audit")
    trace.add_argument("--rules", required=True, help="the protocol rules file")
    trace.add_argument("--features", default="features", metavar="DIR",
                       help="folder of Gherkin .feature files (default: features)")
    trace.add_argument("--report", metavar="FILE", help="a JSON report of an earlier audit (audit --format json)")
    trace.add_argument("logs", nargs="*", metavar="LOG", help="visit logs to audit now instead of --report")
    trace.add_argument("--as-of", type=_date, metavar="DATE", help="data cut-off for auditing LOGs")
    trace.add_argument("--mapping", metavar="FILE", help="read SDTM folders among the LOGs with this mapping")
    trace.add_argument("--format", choices=("text", "json", "csv"), default="text")

    from ..live.watch import seconds  # the watch subcommand's own argument type

    watch = commands.add_parser(
        "watch", help="audit growing visit logs: one line per finding that appears or is resolved, as rows arrive",
        description="Audit the logs once (a summary line), then poll them: each appended whole line is audited "
                    "at once, re-judging only the subjects it touches (and the trial level when its facts change), "
                    "and every new, changed or resolved finding is printed. Ctrl-C stops it with a closing summary "
                    "(exit code 0).")
    watch.add_argument("--rules", required=True, help="the protocol rules file")
    watch.add_argument("paths", nargs="+", metavar="PATH",
                       help="visit logs (.csv or .jsonl) followed as they grow, or folders: their .csv and .jsonl "
                            "files, and any that appear later, are read in full and then followed. A file that "
                            "shrinks or whose part already read changes (rewritten in place) is refused (an error "
                            "line; restart the watch to audit it afresh); one renamed (a log rotated) is followed "
                            "under its new name, and a copy of rows already read is refused")
    watch.add_argument("--as-of", type=_date, metavar="DATE",
                       help="data cut-off: later records are not used, open windows are not judged. Default: "
                            "today at the site (--time-zone, else UTC), moving with the calendar: on a new day "
                            "every subject is judged once again, so that checks falling due that day are reported")
    watch.add_argument("--time-zone", metavar="ZONE", type=_zone,
                       help="the site's time zone (e.g. Asia/Shanghai): for datetimes with a UTC offset, as in "
                            "audit, and for today's date as the default cut-off")
    watch.add_argument("--version", dest="protocol_version", metavar="NAME",
                       help="judge every subject under this protocol version (default: the version in force "
                            "for each subject)")
    watch.add_argument("--strict-columns", action="store_true", help=STRICT_COLUMNS_HELP)
    watch.add_argument("--interval", type=seconds, default=1.0, metavar="SECONDS",
                       help="how often the logs are polled for new lines (default 1)")
    watch.add_argument("--format", choices=("text", "jsonl"), default="text",
                       help="text: NEW|RESOLVED|CHANGED ID RULE SUBJECT DATE STATUS: MESSAGE lines; jsonl: one JSON "
                            "object per event, with its time and the latency from reading the row to printing")
    watch.add_argument("--exit-after", type=seconds, metavar="SECONDS",
                       help="stop after this long, with the closing summary (default: run until Ctrl-C)")
    return parser
