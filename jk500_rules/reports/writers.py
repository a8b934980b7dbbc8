"""The formats an audit is written in, and where: stdout, one file, or a folder of them (`write_reports`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from ..engine.results import AuditResult
from ..errors import InputError, Jk500Error
from ..inputs.paths import same_file
from .csv_report import to_csv
from .json_report import json_parts, to_json
from .text_report import to_text


def to_html(result: AuditResult) -> str:
    from .html_report import render_html  # jinja2 is needed only for this format

    return render_html(result)


FORMATS = ("text", "json", "csv", "dv", "html")
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
    names = ["provenance.json", *(FILE_NAMES[name] for name in formats if name != "dv")]
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
    provenance.json (the tool, input hashes and run time, which CSV and XPT cannot carry).
    """
    from . import dv

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    check_output(formats, output)
    if "dv" in formats:
        dv.refuse_clashes(result)  # before any file is written: the run writes all its formats or none
    if output is None:
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
        return []
    written: list[Path] = []
    try:
        if not _folder_wanted(formats, output):
            path = Path(output)
            _write(path, formats[0], result)
            return [path]
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        if result.provenance:  # CSV and DV files have no place for it: it goes beside them
            path = folder / "provenance.json"
            path.write_text(json.dumps(result.provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(path)
        for name in formats:
            if name == "dv":
                written += dv.write(result, folder)
            else:
                path = folder / FILE_NAMES[name]
                _write(path, name, result)
                written.append(path)
    except OSError as exc:
        raise InputError(str(exc.filename or output), f"cannot be written ({exc.strerror or exc})") from None
    return written


def _write(path: Path, name: str, result: AuditResult) -> None:
    if name == "json":
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(json_parts(result))
    else:
        path.write_text(RENDERERS[name](result), encoding="utf-8")
