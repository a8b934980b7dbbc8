"""The `jk500-rules` subcommands, one function each: arguments in, exit code out."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from ..api import load_protocol
from ..engine import executor as executors
from ..engine.audit import audit_files
from ..engine.executor import default_jobs
from ..errors import InputError, OutputError
from ..explain import explain_protocol, explain_rule
from ..inputs.paths import distinct_paths
from ..inputs.visit_logs import read_text
from ..reports import atomic, monitoring
from ..reports.report_content import summary, warnings
from ..reports.writers import check_output, refuse_overwriting_inputs, write_reports

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INVALID, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2, 3, 4


def distinct_logs(command: str, logs: list[str]) -> list[str]:
    """The logs with repeats left out, each repeat named on stderr: a file given twice is audited once."""
    kept, repeats = distinct_paths(logs)
    for index, first in repeats:
        print(f"jk500-rules {command}: warning: {logs[index]} (log {index + 1}) is the same file as {logs[first]} "
              f"(log {first + 1}); it is read once", file=sys.stderr)
    return kept


def run_audit(args: argparse.Namespace) -> int:
    check_output(args.format, args.output)  # before the audit: no point auditing what cannot be written
    inputs = [("the rules file", args.rules), *(("the visit log", log) for log in args.logs)]
    inputs += [(f"the {option} file", path) for option, path in
               (("--since", args.since), ("--reviewed", args.reviewed), ("--mapping", args.mapping)) if path]
    refuse_overwriting_inputs(args.format, args.output, inputs)
    args.logs = distinct_logs("audit", args.logs)
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
                             rows_in_memory=args.rows_in_memory, keep_records="html" in args.format,
                             strict_columns=args.strict_columns)
    finally:
        if executor is not None:
            executor.close()
    if progress:
        print(file=sys.stderr)
    for warning in warnings(result):
        print(f"jk500-rules audit: warning: {warning.message}", file=sys.stderr)
    monitoring.attach_provenance(result, args.rules, args.run_time or monitoring.run_time_now())
    if args.since:
        monitoring.mark_changes(result, args.since)
    if args.reviewed:
        monitoring.apply_reviews(result, args.reviewed)
    write_reports(result, args.format, args.output)
    if result.data.rejections:  # warnings alone leave the exit code as the findings make it
        print(f"{len(result.data.rejections)} row(s) rejected; see the summary.", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_FINDINGS if monitoring.failing(result, args.fail_on) else EXIT_CLEAN


def _progress(done: int, total: int) -> None:
    print(f"\raudited {done} of {total} subjects", end="", file=sys.stderr, flush=True)


def run_matrix(args: argparse.Namespace) -> int:
    from ..reports import matrix  # commands other than audit import only what they use: start-up counts

    protocol = load_protocol(args.rules)
    if args.report and args.logs:
        print("jk500-rules matrix: give either --report or logs, not both", file=sys.stderr)
        return EXIT_INVALID
    features = Path(args.features)
    if not features.is_dir():
        raise InputError(args.features, "is not a folder of .feature files")
    figures = None
    args.logs = distinct_logs("matrix", args.logs)
    if args.report:
        figures = matrix.figures_from_report(args.report, protocol)
    elif args.logs:
        figures = matrix.figures_from_summary(", ".join(args.logs),
                                              summary(audit_files(protocol, args.logs, args.as_of,
                                                                  mapping=args.mapping)))
    document = matrix.build(protocol, matrix.read_scenarios(features), figures)
    render = {"text": matrix.to_text, "json": matrix.to_json, "csv": matrix.to_csv}[args.format]
    sys.stdout.write(render(document))
    return EXIT_CLEAN


def run_diff(args: argparse.Namespace) -> int:
    from ..reports import comparison

    audits = []
    args.logs = distinct_logs("diff", args.logs)
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


def run_fmt(args: argparse.Namespace) -> int:
    """Every file is checked before any is written: a syntax error anywhere changes nothing."""
    from ..language.formatter import format_source

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
            _rewrite(path, formatted)
            print(f"{path}: reformatted")
    if args.check and changes:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _rewrite(path: Path, text: str) -> None:
    """A rules file replaced whole (its mode kept): a failure mid-write leaves the file as it was."""
    try:
        atomic.replace_file(path, lambda temp: temp.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise OutputError(str(path), f"cannot be written ({exc.strerror or exc}); it is left as it was") from None


def run_explain(args: argparse.Namespace) -> int:
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


def run_watch(args: argparse.Namespace) -> int:
    from ..live.watch import watch  # the watch loop, only for this command

    return watch(load_protocol(args.rules), args.paths, args.as_of, args.time_zone, args.protocol_version,
                 args.interval, args.format, args.exit_after, strict_columns=args.strict_columns)


def run_compile(args: argparse.Namespace) -> int:
    protocol = load_protocol(args.rules)
    from ..compiler.stages import stage_json  # the pass dumps, only for this command

    sys.stdout.write(stage_json(protocol, args.stage))
    return EXIT_CLEAN


def run_check(args: argparse.Namespace) -> int:
    protocol = load_protocol(args.rules)
    if protocol.warnings:
        source = Path(args.rules).read_text(encoding="utf-8")
        for warning in protocol.warnings:
            print(warning.render(args.rules, source), file=sys.stderr)
    warned = f", {len(protocol.warnings)} warning(s)" if protocol.warnings else ""
    versions = f" ({len(protocol.versions)} versions, the latest counted)" if len(protocol.versions) > 1 else ""
    approximate = sum(1 for rule in protocol.rules if rule.approximate is not None)
    approximated = f", {approximate} of them approximate" if approximate else ""
    print(f"{args.rules}: {len(protocol.rules)} rules{versions}{approximated}, no errors{warned}")
    return EXIT_CLEAN


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "audit": run_audit, "diff": run_diff, "compile": run_compile, "check": run_check, "explain": run_explain,
    "fmt": run_fmt, "matrix": run_matrix, "watch": run_watch,
}
