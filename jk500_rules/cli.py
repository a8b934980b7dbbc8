"""The `jk500-rules` command line: audit, compile, check; errors as diagnostics, never tracebacks."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
from pathlib import Path

import pendulum

from ._version import __version__
from .api import load_protocol
from .engine import executor as executors
from .engine.audit import PARALLEL_FROM, audit_files
from .engine.durable import EngineError
from .engine.executor import WorkerError, default_jobs
from .engine.partition import ROWS_IN_MEMORY
from .errors import InputError, Jk500Error
from .explain import explain_protocol, explain_rule
from .inputs.visit_logs import read_text
from .reports import monitoring
from .reports.report_content import summary
from .reports.writers import check_output, parse_formats, write_reports

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2, 3, 4


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jk500-rules", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jk500-rules {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    audit = commands.add_parser("audit", help="audit visit logs against a rules file")
    audit.add_argument("--rules", required=True, help="the protocol rules file")
    audit.add_argument("logs", nargs="+", metavar="LOG",
                       help="visit logs (.csv or .jsonl), or with --mapping folders of SDTM domains (.xpt, .csv)")
    audit.add_argument("--time-zone", metavar="ZONE", type=_zone,
                       help="the site's time zone (e.g. Asia/Shanghai): a datetime with a UTC offset counts on its "
                            "local date there (default: every date as written)")
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

    from .live.watch import seconds  # the watch subcommand's own argument type

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
                            "shrinks or whose part already read changes is refused (an error line; restart the "
                            "watch to audit it afresh)")
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
    watch.add_argument("--interval", type=seconds, default=1.0, metavar="SECONDS",
                       help="how often the logs are polled for new lines (default 1)")
    watch.add_argument("--format", choices=("text", "jsonl"), default="text",
                       help="text: NEW|RESOLVED|CHANGED ID RULE SUBJECT DATE STATUS: MESSAGE lines; jsonl: one JSON "
                            "object per event, with its time and the latency from reading the row to printing")
    watch.add_argument("--exit-after", type=seconds, metavar="SECONDS",
                       help="stop after this long, with the closing summary (default: run until Ctrl-C)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "audit":
            return _audit(args)
        if args.command == "matrix":
            return _matrix(args)
        if args.command == "diff":
            return _diff(args)
        if args.command == "fmt":
            return _fmt(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "watch":
            return _watch(args)
        protocol = load_protocol(args.rules)
        if args.command == "compile":
            from .compiler.stages import stage_json  # the pass dumps, only for this command

            sys.stdout.write(stage_json(protocol, args.stage))
        else:
            if protocol.warnings:
                source = Path(args.rules).read_text(encoding="utf-8")
                for warning in protocol.warnings:
                    print(warning.render(args.rules, source), file=sys.stderr)
            warned = f", {len(protocol.warnings)} warning(s)" if protocol.warnings else ""
            versions = f" ({len(protocol.versions)} versions, the latest counted)" if len(protocol.versions) > 1 else ""
            print(f"{args.rules}: {len(protocol.rules)} rules{versions}, no errors{warned}")
        return EXIT_CLEAN
    except Jk500Error as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INVALID
    except (EngineError, WorkerError) as exc:  # the tool failed, not the input: no report is written
        print(f"jk500-rules: the audit failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one clear line, the traceback on request
        if os.environ.get("JK500_TRACEBACK"):
            raise
        print(f"jk500-rules: internal error ({type(exc).__name__}: {exc}); this is a bug in jk500-rules, please "
              "report it with the command that caused it (JK500_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return EXIT_FAILED


def _audit(args: argparse.Namespace) -> int:
    check_output(args.format, args.output)  # before the audit: no point auditing what cannot be written
    if args.fail_on.startswith("new") and not args.since:
        print(f"jk500-rules audit: --fail-on {args.fail_on} needs --since PREVIOUS.json", file=sys.stderr)
        return EXIT_INVALID
    if (args.executor == "dask") != (args.scheduler is not None):
        print("jk500-rules audit: --executor dask and --scheduler ADDRESS go together", file=sys.stderr)
        return EXIT_INVALID
    if args.executor == "dask" and args.jobs is not None:
        print("jk500-rules audit: --jobs counts local worker processes; with --executor dask the cluster's "
              "workers judge", file=sys.stderr)
        return EXIT_INVALID
    protocol = load_protocol(args.rules)
    progress = _progress if sys.stderr.isatty() and not (args.output is None and "json" in args.format) else None
    executor = executors.dask_executor(args.scheduler) if args.executor == "dask" else None
    try:
        result = audit_files(protocol, args.logs, args.as_of, args.protocol_version, args.mapping, args.time_zone,
                             progress, jobs=args.jobs or default_jobs(), executor=executor,
                             rows_in_memory=args.rows_in_memory, keep_records="html" in args.format)
    finally:
        if executor is not None:
            executor.close()
    if progress:
        print(file=sys.stderr)
    monitoring.attach_provenance(result, args.rules, args.run_time or monitoring.run_time_now())
    if args.since:
        monitoring.mark_changes(result, args.since)
    if args.reviewed:
        monitoring.apply_reviews(result, args.reviewed)
    write_reports(result, args.format, args.output)
    if result.data.rejections:
        print(f"{len(result.data.rejections)} row(s) rejected; see the summary.", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_FINDINGS if monitoring.failing(result, args.fail_on) else EXIT_CLEAN


def _progress(done: int, total: int) -> None:
    print(f"\raudited {done} of {total} subjects", end="", file=sys.stderr, flush=True)


def _matrix(args: argparse.Namespace) -> int:
    from .reports import matrix  # commands other than audit import only what they use: start-up counts

    protocol = load_protocol(args.rules)
    if args.report and args.logs:
        print("jk500-rules matrix: give either --report or logs, not both", file=sys.stderr)
        return EXIT_INVALID
    features = Path(args.features)
    if not features.is_dir():
        raise InputError(args.features, "is not a folder of .feature files")
    figures = None
    if args.report:
        figures = matrix.figures_from_report(args.report)
    elif args.logs:
        figures = matrix.figures_from_summary(", ".join(args.logs),
                                              summary(audit_files(protocol, args.logs, args.as_of,
                                                                  mapping=args.mapping)))
    document = matrix.build(protocol, matrix.read_scenarios(features), figures)
    render = {"text": matrix.to_text, "json": matrix.to_json, "csv": matrix.to_csv}[args.format]
    sys.stdout.write(render(document))
    return EXIT_CLEAN


def _diff(args: argparse.Namespace) -> int:
    from .reports import comparison

    audits = []
    for spec in (args.old, args.new):
        path, _, version = spec.partition("@")
        audits.append(audit_files(load_protocol(path), args.logs, args.as_of, version or None, args.mapping))
    old, new = audits
    result = comparison.compare(old, new, args.old, args.new)
    sys.stdout.write(comparison.to_json(result) if args.format == "json" else comparison.to_text(result))
    rejected = max(len(old.data.rejections), len(new.data.rejections))
    if rejected:
        print(f"{rejected} row(s) rejected; audit each version to see them.", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_FINDINGS if result.differs else EXIT_CLEAN


def _fmt(args: argparse.Namespace) -> int:
    """Every file is checked before any is written: a syntax error anywhere changes nothing."""
    from .language.formatter import format_source

    changes: list[tuple[Path, str]] = []
    for name in args.files:
        path = Path(name)
        text = read_text(name)
        formatted = format_source(text, name)
        if formatted != text:
            changes.append((path, formatted))
    for path, formatted in changes:
        if args.check:
            print(f"{path}: not laid out canonically (jk500-rules fmt {path})")
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"{path}: reformatted")
    if args.check and changes:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    protocol = load_protocol(args.rules)
    if args.protocol_version is not None:
        chosen = next((v.protocol for v in protocol.versions if v.name == args.protocol_version), None)
        if chosen is None:
            known = ", ".join(v.name for v in protocol.versions) or "none"
            raise InputError(args.rules, f"no protocol version '{args.protocol_version}'; versions: {known}")
        protocol = chosen
    text = explain_rule(protocol, args.rule) + "\n" if args.rule else explain_protocol(protocol)
    wrapped = [textwrap.fill(line, 100, break_long_words=False, break_on_hyphens=False) if line else line
               for line in text.splitlines()]
    sys.stdout.write("\n".join(wrapped) + "\n")
    return EXIT_CLEAN


def _watch(args: argparse.Namespace) -> int:
    from .live.watch import watch  # the watch loop, only for this command

    return watch(load_protocol(args.rules), args.paths, args.as_of, args.time_zone, args.protocol_version,
                 args.interval, args.format, args.exit_after)
