"""What a monitor brings to an audit besides the data: where the report came from, what changed since
the last report, and the decisions already taken on findings.

- Provenance: the tool's version, the SHA-256 of the rules file and of every input file read, the
  protocol versions applied, and the run time (fixed with `--run-time`, so that two runs on the same
  inputs give byte-identical reports).
- Changes (`--since PREVIOUS.json`): each finding is new or persisting by its stable id; the previous
  report's findings that are gone are resolved.
- Reviews (`--reviewed FILE`): a monitor's decision per finding id (acknowledged, or waived with a
  reason), by whom and when. Reviewed findings stay in the report, marked; a decision whose finding has
  disappeared is reported, never silently dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._version import __version__
from ..engine.results import AuditResult
from ..errors import InputError
from ..inputs.visit_logs import read_text

DECISIONS = ("acknowledged", "waived")
FAIL_ON = ("any", "important", "new", "new-important", "never")


def run_time_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in blocks (an input log may be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def attach_provenance(result: AuditResult, rules_path: str, run_time: str) -> None:
    """Record the tool, the rules file, every input file read (by content hash) and the run time.

    The hashes are those taken as the files were read (the rules text compiled, the rows audited): a
    log that grew since is named with the hash of what was audited, not of what it holds now. Only a
    file read without one (a protocol compiled from text, records given by a caller) is hashed here.
    """
    files = list(dict.fromkeys([*result.data.files, *(str(s["source"]) for s in result.data.sources)]))
    versions = sorted(result.versions) or ([result.protocol.versions[-1].name] if result.protocol.versions else [])
    protocol = result.protocol
    read = result.data.hashes
    result.provenance = {
        "tool": f"jk500-rules {__version__}",
        "rules": {"file": rules_path, "sha256": protocol.sha256 if protocol.sha256 and protocol.filename == rules_path
                  else file_sha256(Path(rules_path))},
        "inputs": [{"file": name, "sha256": read.get(name) or file_sha256(Path(name))} for name in files
                   if read.get(name) or Path(name).is_file()],
        "protocol_versions": versions,
        "trial_level_version": result.trial_version,
        "run_time": run_time,
    }


RESOLVED_FIELDS = ("id", "rule", "subject", "date", "status", "message")


def mark_changes(result: AuditResult, previous_path: str) -> None:
    """New or persisting, by finding id; what the previous report had and this one lacks is resolved.

    The previous report must be one of this protocol's, its findings each with a text id: another trial's
    findings would otherwise all be listed as resolved here.
    """
    previous = load_json(previous_path)
    if not isinstance(previous, dict) or not isinstance(previous.get("findings"), list):
        raise InputError(previous_path, "is not a JSON audit report with finding ids (audit --format json)")
    _require_same_protocol(result, previous, previous_path)
    earlier: dict[str, dict[str, Any]] = {}
    for number, finding in enumerate(previous["findings"], 1):
        if not isinstance(finding, dict):
            raise InputError(previous_path, f"finding {number} is not an object with an id")
        finding_id = finding.get("id")
        if not isinstance(finding_id, str) or not finding_id:
            raise InputError(previous_path, f"finding {number}: the id is {json.dumps(finding_id)}, not a finding id "
                             "(text such as F-a2048c77196a)")
        wrong = next((key for key in RESOLVED_FIELDS[1:]
                      if finding.get(key) is not None and not isinstance(finding[key], str)), None)
        if wrong is not None:
            raise InputError(previous_path, f"finding {number} ({finding_id}): {wrong} is not text "
                             f"({wrong}: {json.dumps(finding[wrong])})")
        earlier[finding_id] = finding
    result.findings = [replace(f, change="persisting" if f.id in earlier else "new") for f in result.findings]
    now = {f.id for f in result.findings}
    result.resolved = [{key: f.get(key) for key in RESOLVED_FIELDS}
                       for finding_id, f in sorted(earlier.items()) if finding_id not in now]


def _require_same_protocol(result: AuditResult, previous: dict[str, Any], previous_path: str) -> None:
    protocol = previous.get("protocol")
    if not isinstance(protocol, dict):
        raise InputError(previous_path, "is not a JSON audit report: it names no protocol (audit --format json)")
    then = (protocol.get("name"), protocol.get("registry"))
    now = (result.protocol.name, result.protocol.registry)
    if then != now:
        raise InputError(previous_path, f"is a report on protocol {_protocol_name(*then)}, not "
                         f"{_protocol_name(*now)}; --since compares reports of the same protocol")


def _protocol_name(name: object, registry: object) -> str:
    return f"{name} ({registry})" if registry else str(name)


def apply_reviews(result: AuditResult, reviews_path: str) -> None:
    """Mark each reviewed finding with its decision; keep decisions whose finding is gone as orphans."""
    decisions = _load_reviews(reviews_path)
    ids = {f.id for f in result.findings}
    result.findings = [replace(f, review=decisions[f.id]) if f.id in decisions else f for f in result.findings]
    result.orphan_reviews = [{"id": finding_id, **decision} for finding_id, decision in sorted(decisions.items())
                             if finding_id not in ids]


def _load_reviews(path: str) -> dict[str, dict[str, str]]:
    """A JSON list of objects, or a CSV: finding_id, decision, reason, by, at."""
    if path.lower().endswith(".json"):
        rows = load_json(path)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(path, "holds a list of decisions: [{\"finding_id\": ..., \"decision\": ...}, ...]")
        numbered = [(i + 1, _review_entry(path, i + 1, r)) for i, r in enumerate(rows)]
    else:
        reader = csv.DictReader(io.StringIO(read_text(path)))
        numbered = [(i + 2, {k: (v or "").strip() for k, v in r.items() if k}) for i, r in enumerate(reader)]
    decisions: dict[str, dict[str, str]] = {}
    for line, row in numbered:
        finding_id, decision = row.get("finding_id", ""), row.get("decision", "").lower()
        if not finding_id:
            raise InputError(path, "a decision without a finding_id", line)
        if decision not in DECISIONS:
            raise InputError(path, f"decision '{decision}' is not one of {', '.join(DECISIONS)}", line)
        if decision == "waived" and not row.get("reason"):
            raise InputError(path, f"the waiver of {finding_id} gives no reason", line)
        if finding_id in decisions:
            raise InputError(path, f"{finding_id} is decided twice", line)
        decisions[finding_id] = {"decision": decision, "reason": row.get("reason", ""), "by": row.get("by", ""),
                                 "at": row.get("at", "")}
    return decisions


def _review_entry(path: str, number: int, entry: dict[str, Any]) -> dict[str, str]:
    """A JSON decision as the CSV reader gives it: text fields, a missing or null one empty (so it is
    refused the same way); a number or object where text belongs is refused, never turned into text."""
    fields: dict[str, str] = {}
    for key, value in entry.items():
        if value is None:
            fields[key] = ""
        elif isinstance(value, str):
            fields[key] = value.strip()
        else:
            raise InputError(path, f"decision {number}: {key} is not text ({key}: {json.dumps(value)})")
    return fields


def failing(result: AuditResult, fail_on: str) -> bool:
    """Whether the findings should fail a scheduled job: waived findings never do."""
    open_findings = [f for f in result.findings if not (f.review and f.review["decision"] == "waived")]
    if fail_on == "never":
        return False
    if fail_on == "important":
        return any(f.rule.important for f in open_findings)
    if fail_on == "new":
        return any(f.change == "new" for f in open_findings)
    if fail_on == "new-important":
        return any(f.change == "new" and f.rule.important for f in open_findings)
    return bool(open_findings)


def load_json(path: str, refusal: str = "") -> Any:
    """A JSON file's value, or an InputError naming the file; `refusal` starts the reasons beyond syntax
    ("is not a JSON audit report: it ")."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not JSON ({exc.msg})", exc.lineno) from None
    except ValueError:  # an integer past the 4,300 digits Python reads
        raise InputError(path, f"{refusal}holds a number of more than 4,300 digits") from None
    except RecursionError:
        raise InputError(path, f"{refusal}holds values nested too deeply") from None
