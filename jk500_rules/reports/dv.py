"""Audit findings as SDTM DV (Protocol Deviations) with a SUPPDV, in CSV and SAS XPORT version 5.

What goes where (the choices an SDTM reviewer needs to know):

- One DV record per *subject-level* finding, whatever its status. STUDYID is the protocol's name
  (`protocol NAME`; the rules file's name without its extension if it declares none); USUBJID is the
  subject id of the visit logs as written.
- DVSEQ numbers each subject's records 1..n: by date, then by the rules' order in the rules file,
  then status and evidence, the order of the audit report. Records are sorted by USUBJID, DVSEQ.
- DVREFID is `RULE-ID:DATE` (the rule id alone when the finding has no date): stable from one audit
  to the next, so a monitor can track the same deviation across data cuts. It is not unique when a rule
  fires twice for one subject on one day; USUBJID + DVSEQ is the key.
- DVTERM is the finding's message (verbatim); DVDECOD the rule's title (the sponsor's coded term for
  what the rule checks); DVCAT the rule's `category`, upper-cased, `_` read as a space
  (`follow_up` -> `FOLLOW UP`); DVSCAT the status: DEVIATION, POSSIBLE DEVIATION or NOT EVALUABLE.
- EPOCH only where the category says it: eligibility and consent -> SCREENING, treatment ->
  TREATMENT, follow_up -> FOLLOW-UP (see EPOCHS); every other category leaves EPOCH empty, since a
  safety or assessment rule can fire in any epoch and the logs do not record epochs.
- DVSTDTC is the finding's date (ISO 8601); DVENDTC is not given (a finding is dated on one day).
- Text longer than 200 bytes (UTF-8): DVTERM, DVDECOD and DVCAT keep the first 200, the rest goes
  to SUPPDV records DVTERM1, DVTERM2... (DVDECOD1..., DVCAT1...), the SDTMIG rule for long text.
  Identifiers cannot continue elsewhere: STUDYID, USUBJID and DVREFID are cut at 200 bytes, and DV
  is refused (exit 2, before any file is written) when that would make two different subject ids one
  USUBJID (their records would be numbered as one subject's) or two different DVREFIDs one; the
  line names them (`refuse_clashes`).
- The important-deviation flag (the rule's `important yes`) is a supplemental qualifier: one SUPPDV
  record per DV record, IDVAR DVSEQ, QNAM DVIMPFL, QLABEL "Important Protocol Deviation Flag", QVAL Y
  or N, QORIG DERIVED (the tool derives it from the rules file), QEVAL empty. SDTMIG has no standard
  variable for it; the name follows the --xxxFL convention for flags (IMPORTANT_QNAM below).
- Trial-level findings (a rule about the whole trial, e.g. a dose-escalation gate) have no subject,
  and DV is a subject-level domain: they are not in DV or SUPPDV. They go to `dv_trial.csv`, with the
  DV columns (USUBJID empty, DVSEQ 1..n over the trial's findings, DVTERM, DVDECOD and DVCAT never
  cut) and the flag as a DVIMPFL column. `--format dv` without -o prints dv.csv alone and says on
  stderr how many it left out.

Files `write` makes in a folder: dv.csv, suppdv.csv, dv.xpt, suppdv.xpt, dv_trial.csv (a header
alone when there is no trial-level finding). The CSV files are safe to open in a spreadsheet: a cell
starting with = + - @, a tab or a carriage return gets a leading `'` (see csv_report.safe_cell). The XPT
files hold the values unchanged: XPORT version 5, datasets DV and SUPPDV, SDTMIG labels, character
lengths at most 200, and their header time stamps set to the data cut-off, so that two runs over the
same data give the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.results import AuditResult, Finding
from ..errors import Jk500Error
from .csv_report import csv_text

# (name, SDTMIG label); DVSEQ is the only number.
DV_VARIABLES = (
    ("STUDYID", "Study Identifier"),
    ("DOMAIN", "Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("DVSEQ", "Sequence Number"),
    ("DVREFID", "Reference ID"),
    ("DVTERM", "Protocol Deviation Term"),
    ("DVDECOD", "Protocol Deviation Coded Term"),
    ("DVCAT", "Category for Protocol Deviation"),
    ("DVSCAT", "Subcategory for Protocol Deviation"),
    ("EPOCH", "Epoch"),
    ("DVSTDTC", "Start Date/Time of Deviation"),
)
SUPPDV_VARIABLES = (
    ("STUDYID", "Study Identifier"),
    ("RDOMAIN", "Related Domain Abbreviation"),
    ("USUBJID", "Unique Subject Identifier"),
    ("IDVAR", "Identifying Variable"),
    ("IDVARVAL", "Identifying Variable Value"),
    ("QNAM", "Qualifier Variable Name"),
    ("QLABEL", "Qualifier Variable Label"),
    ("QVAL", "Data Value"),
    ("QORIG", "Origin"),
    ("QEVAL", "Evaluator"),
)
NUMERIC = frozenset({"DVSEQ"})
DATASET_LABELS = {"DV": "Protocol Deviations", "SUPPDV": "Supplemental Qualifiers for DV"}

IMPORTANT_QNAM = "DVIMPFL"
IMPORTANT_QLABEL = "Important Protocol Deviation Flag"
QORIG = "DERIVED"
EPOCHS = {"eligibility": "SCREENING", "consent": "SCREENING", "treatment": "TREATMENT",
          "follow_up": "FOLLOW-UP"}
SUBCATEGORIES = {"deviation": "DEVIATION", "possible_deviation": "POSSIBLE DEVIATION",
                 "not_evaluable": "NOT EVALUABLE"}
TEXT_LIMIT = 200  # bytes: the longest character value XPORT version 5 holds
# Text columns whose text past TEXT_LIMIT continues in SUPPDV, with the label the QLABEL is numbered from.
CONTINUED = (("DVTERM", "Protocol Deviation Term"), ("DVDECOD", "Protocol Deviation Coded Term"),
             ("DVCAT", "Category for Protocol Deviation"))

FILES = ("dv.csv", "suppdv.csv", "dv.xpt", "suppdv.xpt", "dv_trial.csv")
TRIAL_FILE = "dv_trial.csv"

Row = dict[str, Any]


@dataclass(frozen=True)
class Datasets:
    dv: list[Row]
    suppdv: list[Row]
    trial: list[Row]  # trial-level findings: DV columns plus DVIMPFL, USUBJID empty


def study_id(result: AuditResult) -> str:
    protocol = result.protocol
    return protocol.name or Path(protocol.filename).stem


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, never splitting a character ([""] for "")."""
    pieces: list[str] = []
    current, size = [], 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return pieces


def _cut(text: str) -> str:
    return chunks(text)[0]


def _record(finding: Finding, studyid: str, seq: int) -> tuple[Row, list[tuple[str, str, str]]]:
    """A DV record, and its text past 200 bytes as (QNAM, QLABEL, piece) for SUPPDV."""
    rule = finding.rule
    refid = f"{rule.id}:{finding.date}" if finding.date else rule.id
    record = {
        "STUDYID": _cut(studyid),
        "DOMAIN": "DV",
        "USUBJID": _cut(finding.subject or ""),
        "DVSEQ": seq,
        "DVREFID": _cut(refid),
        "DVTERM": finding.message,
        "DVDECOD": rule.title,
        "DVCAT": rule.category.upper().replace("_", " "),
        "DVSCAT": SUBCATEGORIES.get(finding.status, finding.status.upper().replace("_", " ")),
        "EPOCH": EPOCHS.get(rule.category.lower(), ""),
        "DVSTDTC": finding.date,
    }
    rest: list[tuple[str, str, str]] = []
    for name, label in CONTINUED:
        record[name], *more = chunks(record[name])
        rest += [(f"{name}{i}", f"{label} {i}", piece) for i, piece in enumerate(more, start=1)]
    return record, rest


def refuse_clashes(result: AuditResult) -> None:
    """Fail before anything is written when cutting identifiers to 200 bytes would make two different ones one."""
    for what, column, values in (
            ("subject ids", "USUBJID", {f.subject for f in result.findings if f.subject is not None}),
            ("finding references (rule id:date)", "DVREFID",
             {f"{f.rule.id}:{f.date}" if f.date else f.rule.id for f in result.findings})):
        by_cut: dict[str, list[str]] = {}
        for value in sorted(values):
            by_cut.setdefault(_cut(value), []).append(value)
        clashes = [group for group in by_cut.values() if len(group) > 1]
        if clashes:
            named = " and ".join(json.dumps(value, ensure_ascii=False) for value in clashes[0])
            others = len(clashes) - 1
            more = f" (and {others} more such group{'s' if others > 1 else ''})" if others else ""
            raise Jk500Error(f"jk500-rules audit: error: --format dv cannot tell apart the {what} {named}{more}: "
                             f"they share their first {TEXT_LIMIT} bytes, all that SAS XPORT keeps of {column}; "
                             f"shorten them, or leave dv out of --format")


def _supp(record: Row, qnam: str, qlabel: str, qval: str) -> Row:
    return {"STUDYID": record["STUDYID"], "RDOMAIN": "DV", "USUBJID": record["USUBJID"], "IDVAR": "DVSEQ",
            "IDVARVAL": str(record["DVSEQ"]), "QNAM": qnam, "QLABEL": qlabel, "QVAL": qval, "QORIG": QORIG,
            "QEVAL": ""}


def build(result: AuditResult) -> Datasets:
    order = {rule.id: i for i, rule in enumerate(result.rules)}

    def key(finding: Finding) -> tuple:
        rule_index, subject, date, status, evidence = finding.sort_key(order)
        return subject, date, rule_index, status, evidence

    refuse_clashes(result)
    studyid = study_id(result)
    dv: list[Row] = []
    suppdv: list[Row] = []
    trial: list[Row] = []
    seq: dict[str | None, int] = {}
    for finding in sorted(result.findings, key=key):
        seq[finding.subject] = seq.get(finding.subject, 0) + 1
        record, rest = _record(finding, studyid, seq[finding.subject])
        flag = "Y" if finding.rule.important else "N"
        if finding.subject is None:
            # dv_trial.csv is no XPT file: it keeps the whole texts.
            whole = {"DVTERM": finding.message, "DVDECOD": finding.rule.title,
                     "DVCAT": finding.rule.category.upper().replace("_", " ")}
            trial.append({**record, **whole, IMPORTANT_QNAM: flag})
            continue
        dv.append(record)
        suppdv.append(_supp(record, IMPORTANT_QNAM, IMPORTANT_QLABEL, flag))
        suppdv += [_supp(record, qnam, qlabel, piece) for qnam, qlabel, piece in rest]
    return Datasets(dv, suppdv, trial)


def _names(variables: tuple[tuple[str, str], ...]) -> list[str]:
    return [name for name, _ in variables]


def dv_csv(datasets: Datasets) -> str:
    return csv_text(_names(DV_VARIABLES), [[r[n] for n in _names(DV_VARIABLES)] for r in datasets.dv])


def suppdv_csv(datasets: Datasets) -> str:
    return csv_text(_names(SUPPDV_VARIABLES), [[r[n] for n in _names(SUPPDV_VARIABLES)] for r in datasets.suppdv])


def trial_csv(datasets: Datasets) -> str:
    names = _names(DV_VARIABLES) + [IMPORTANT_QNAM]
    return csv_text(names, [[r[n] for n in names] for r in datasets.trial])


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_HEADER_BYTES = 560  # the library and member header records, before the first NAMESTR record


def require_xport(where: str) -> None:
    """Fail with a diagnostic, not a traceback, when the packages that write XPORT are missing."""
    try:
        import pandas  # noqa: F401  (pyreadstat.write_xport takes a data frame)
        import pyreadstat  # noqa: F401
    except ImportError as exc:
        raise Jk500Error(f"{where}: error: writing SAS XPORT needs the packages pyreadstat and pandas "
                         f"({exc}); pip install pyreadstat pandas") from None


def write_xpt(path: Path, name: str, variables: tuple[tuple[str, str], ...], rows: list[Row],
              stamp: str | None = None) -> None:
    """One dataset as SAS XPORT version 5 (pyreadstat writes it from a pandas data frame).

    `stamp` (ddMMMyy:hh:mm:ss) replaces the creation and modification times in the headers.
    """
    require_xport(str(path))
    import pyreadstat

    names = _names(variables)
    columns: dict[str, list[Any]] = {n: [r[n] for r in rows] for n in names}
    pyreadstat.write_xport(_frame(columns), str(path), file_label=DATASET_LABELS.get(name, ""),
                           column_labels=[label for _, label in variables], table_name=name,
                           file_format_version=5)
    if stamp is not None:
        data = path.read_bytes()
        head = data[:_HEADER_BYTES]
        if len(_STAMP.findall(head)) == 4:  # library created, modified; member created, modified
            path.write_bytes(_STAMP.sub(stamp.encode("ascii"), head) + data[_HEADER_BYTES:])


def _frame(columns: dict[str, list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame({n: pd.Series(v, dtype="int64" if n in NUMERIC else object)
                         for n, v in columns.items()})


def xpt_stamp(result: AuditResult) -> str:
    """The data cut-off as an XPORT header time stamp (1 Jan 1970 when there is none)."""
    day = result.cutoff
    if day is None:
        return "01JAN70:00:00:00"
    return f"{day.day:02d}{_MONTHS[day.month - 1]}{day.year % 100:02d}:00:00:00"


def write(result: AuditResult, folder: Path, place: Callable[[str], Path] | None = None) -> list[Path]:
    """dv.csv, suppdv.csv, dv.xpt, suppdv.xpt and dv_trial.csv in `folder` (made if missing).

    `place` gives the path each file name is written to instead (a temporary one, renamed later).
    """
    folder.mkdir(parents=True, exist_ok=True)
    datasets = build(result)
    stamp = xpt_stamp(result)
    writes: list[Callable[[Path], object]] = [
        lambda path: path.write_text(dv_csv(datasets), encoding="utf-8"),
        lambda path: path.write_text(suppdv_csv(datasets), encoding="utf-8"),
        lambda path: write_xpt(path, "DV", DV_VARIABLES, datasets.dv, stamp),
        lambda path: write_xpt(path, "SUPPDV", SUPPDV_VARIABLES, datasets.suppdv, stamp),
        lambda path: path.write_text(trial_csv(datasets), encoding="utf-8"),
    ]
    paths = []
    for name, write_one in zip(FILES, writes):
        paths.append(place(name) if place else folder / name)  # one at a time: an error names the file written
        write_one(paths[-1])
    return paths
