"""The formats an audit is written in, and where: stdout, one file, or a folder of them (`write_reports`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ..engine.results import AuditResult
from ..errors import InputError, Jk500Error, OutputError
from ..inputs.paths import same_file
from . import atomic
from .csv_report import to_csv
from .json_report import json_parts, to_json
from .text_report import to_text


def to_html(result: AuditResult) -> str:
    from .html_report import render_html  # jinja2 is needed only for this format

    return render_html(result)


FORMATS = ("text", "json", "csv", "dv", "html")
PROVENANCE = "provenance.json"
FILE_NAMES = {"text": "report.txt", "json": "report.json", "csv": "findings.csv", "html": "report.html"}
RENDERERS = {"text": to_text, "json": to_json, "csv": to_csv, "html": to_html}


def parse_formats(text: str) -> tuple[str, ...]:
    """`--format` value: one format or several, comma-separated (argparse type)."""
    chosen: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if name not in FORMATS:
            raise argparse.ArgumentTypeError(f"'{name}' is not a format; choose from {', '.join(FORMATS)}, "
                                             "or several separated by commas")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def _folder_wanted(formats: tuple[str, ...], output: str | None) -> bool:
    """Whether -o names a folder: for dv or several formats always, for one file format if it is one."""
    if output is None:
        return False
    return len(formats) > 1 or formats == ("dv",) or Path(output).is_dir() or output.endswith(("/", "\\"))


def check_output(formats: tuple[str, ...], output: str | None) -> None:
    """Fail before the audit runs when the formats cannot be written where -o says."""
    if len(formats) > 1 and output is None:
        raise Jk500Error(f"jk500-rules audit: error: --format {','.join(formats)} writes several files; "
                         "give a folder for them with -o DIR")
    if output is not None and _folder_wanted(formats, output) and Path(output).exists() \
            and not Path(output).is_dir():
        raise InputError(output, "is a file, not a folder; --format "
                         f"{','.join(formats)} writes several files into the folder -o names")
    if output is not None and "dv" in formats:
        from . import dv

        dv.require_xport(output)  # before any file is written


def output_paths(formats: tuple[str, ...], output: str) -> list[Path]:
    """Every file writing `formats` to -o `output` may create or replace."""
    if not _folder_wanted(formats, output):
        return [Path(output)]
    from . import dv

    folder = Path(output)
    names = [PROVENANCE, *(FILE_NAMES[name] for name in formats if name != "dv")]
    if "dv" in formats:
        names += dv.FILES
    return [folder / name for name in names]


def refuse_overwriting_inputs(formats: tuple[str, ...], output: str | None, inputs: list[tuple[str, str]]) -> None:
    """Fail before the audit when -o would replace one of its own inputs, each given as (what it is, path).

    A folder among the inputs (SDTM domains) counts by the files in it: -o that folder may not replace one.
    """
    if output is None:
        return
    input_files: list[tuple[str, Path]] = []
    for role, name in inputs:
        path = Path(name)
        if path.is_dir():
            input_files += [(role, child) for child in sorted(path.iterdir()) if child.is_file()]
        else:
            input_files.append((role, path))
    for target in output_paths(formats, output):
        for role, path in input_files:
            if target.exists() and same_file(target, path):
                where = "" if str(target) == output else f" (it writes {target})"
                raise InputError(output, f"-o would write over {role} {path}{where}; write the report elsewhere")


def write_reports(result: AuditResult, formats: tuple[str, ...], output: str | None,
                  stdout: TextIO | None = None, stderr: TextIO | None = None) -> list[Path]:
    """Render each format; to stdout (one format, no -o), to the file -o names, or into the folder.

    Folder names: report.txt, report.json, findings.csv, for dv the files of dv.FILES, and
    provenance.json (the tool, input hashes and run time, which CSV and XPT cannot carry, and the list of
    the files the run wrote). Files are written whole or not at all (`atomic`): a failed run leaves the
    previous report as it was, and a folder holds one run's files, never a mix.
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    check_output(formats, output)
    if "dv" in formats:
        from . import dv

        dv.refuse_clashes(result)  # before any file is written: the run writes all its formats or none
    if output is None:
        _write_stdout(result, formats, stdout, stderr)
        return []
    try:
        if not _folder_wanted(formats, output):
            path = Path(output)
            atomic.replace_file(path, lambda temp: _write(temp, formats[0], result))
            return [path]
        return _write_folder(result, formats, Path(output))
    except OSError as exc:
        raise OutputError(atomic.named(exc.filename, output), f"cannot be written ({exc.strerror or exc}); "
                          "the previous report, if any, is left as it was") from None


def _write_stdout(result: AuditResult, formats: tuple[str, ...], stdout: TextIO, stderr: TextIO) -> None:
    from . import dv

    (only,) = formats
    if only == "dv":
        datasets = dv.build(result)
        stdout.write(dv.dv_csv(datasets))
        if datasets.trial:
            print(f"{len(datasets.trial)} trial-level finding(s) left out of DV, whose records belong to "
                  f"subjects; -o DIR writes them to {dv.TRIAL_FILE}.", file=stderr)
    elif only == "json":
        stdout.writelines(json_parts(result))
    else:
        stdout.write(RENDERERS[only](result))


def _write_folder(result: AuditResult, formats: tuple[str, ...], folder: Path) -> list[Path]:
    """Every format into `folder`, each under a temporary name until all are complete; provenance.json last."""
    from . import dv

    with atomic.FolderRun(folder, PROVENANCE, [*FILE_NAMES.values(), *dv.FILES]) as run:
        try:
            for name in formats:
                if name == "dv":
                    dv.write(result, folder, run.temp)
                else:
                    _write(run.temp(FILE_NAMES[name]), name, result)
            return run.commit(lambda temp, names: temp.write_text(atomic.manifest_text(result.provenance, names),
                                                                   encoding="utf-8"))
        except OSError as exc:
            exc.filename = exc.filename or str(run.writing)  # a failed write names no file: the one being written
            raise


def _write(path: Path, name: str, result: AuditResult) -> None:
    if name == "json":
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(json_parts(result))
    else:
        path.write_text(RENDERERS[name](result), encoding="utf-8")
