"""jk500-rules: protocol rules text -> durable-rules deviation audit of clinical-trial visit logs.

The public API is what `__all__` names (documented in docs/api.md); every other module is private and
may change. Names load on first use, so that `import jk500_rules` stays cheap for the command line.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._version import __version__

_EXPORTS = {
    # rules
    "load_protocol": "api", "compile_rules": "api", "CompiledProtocol": "compiler.model",
    "CompiledRule": "compiler.model", "explain_protocol": "explain", "explain_rule": "explain",
    # audits
    "audit_files": "engine.audit", "audit_records": "api", "AuditResult": "engine.results",
    "Finding": "engine.results", "STATUSES": "engine.results",
    "IncrementalAudit": "live.incremental", "Row": "live.intake", "Changes": "live.findings",
    # reports
    "to_text": "reports.text_report", "to_json": "reports.json_report", "to_csv": "reports.csv_report",
    "to_html": "reports.writers", "write_reports": "reports.writers", "attach_provenance": "reports.monitoring",
    "summary": "reports.report_content",
    # errors
    "Jk500Error": "errors", "RulesError": "errors", "InputError": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'jk500_rules' has no attribute '{name}'")
    value = getattr(_load(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def _load(module: str) -> ModuleType:
    """The module holding a public name, by static imports: no module is loaded by a computed name."""
    if module == "api":
        from . import api as loaded
    elif module == "compiler.model":
        from .compiler import model as loaded
    elif module == "explain":
        from . import explain as loaded
    elif module == "engine.audit":
        from .engine import audit as loaded
    elif module == "engine.results":
        from .engine import results as loaded
    elif module == "live.incremental":
        from .live import incremental as loaded
    elif module == "live.intake":
        from .live import intake as loaded
    elif module == "live.findings":
        from .live import findings as loaded
    elif module == "reports.text_report":
        from .reports import text_report as loaded
    elif module == "reports.json_report":
        from .reports import json_report as loaded
    elif module == "reports.csv_report":
        from .reports import csv_report as loaded
    elif module == "reports.writers":
        from .reports import writers as loaded
    elif module == "reports.monitoring":
        from .reports import monitoring as loaded
    elif module == "reports.report_content":
        from .reports import report_content as loaded
    else:
        from . import errors as loaded
    return loaded


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # what a type checker and an editor see: the same names, eagerly
    from .api import audit_records, compile_rules, load_protocol
    from .compiler.model import CompiledProtocol, CompiledRule
    from .engine.audit import audit_files
    from .engine.results import STATUSES, AuditResult, Finding
    from .errors import InputError, Jk500Error, RulesError
    from .explain import explain_protocol, explain_rule
    from .live.findings import Changes
    from .live.incremental import IncrementalAudit
    from .live.intake import Row
    from .reports.csv_report import to_csv
    from .reports.json_report import to_json
    from .reports.monitoring import attach_provenance
    from .reports.report_content import summary
    from .reports.text_report import to_text
    from .reports.writers import to_html, write_reports
