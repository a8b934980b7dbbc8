"""The compiler: syntax tree -> checked, lowered rules -> engine rulesets, as a list of passes.

versions -> declare -> resolve -> check -> lower -> plan -> emit -> causes. Each pass takes the value
the one before it returned and appends what it finds wrong to one list of diagnostics; a rule part that
fails a pass is left out of the later ones, so one mistake is reported once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..errors import Diagnostic, RulesError
from ..language import nodes as n
from . import limits
from .causes import name_need_causes
from .check import Checked, check
from .declare import declare, parameter_values
from .emit import emitted
from .finders import Found, compile_finders
from .lower import Lowered, lower
from .model import Choice, CompiledProtocol, CompiledRule, ProtocolVersion
from .plan import plan_facts
from .resolve import Resolved, resolve
from .states import compile_states
from .versions import version_trees


@dataclass(frozen=True)
class Build:
    """One protocol version through every pass: what each produced."""

    resolved: Resolved
    checked: Checked
    lowered: Lowered
    protocol: CompiledProtocol
    found: Found  # the references' finders
    state_params: frozenset[str] = frozenset()  # the parameters trial states read


def compile_protocol(tree: n.Protocol, filename: str, source: str) -> CompiledProtocol:
    """Check and lower a parsed protocol; raise RulesError listing every problem found.

    With amendments, every version is compiled in full (the original text, then each amendment in
    effective-date order applied on top of the previous version); the latest version is returned,
    and `versions` holds them all for the audit to pick per subject.
    """
    diagnostics: list[Diagnostic] = []
    compiled: list[tuple[str, dt.date | None, CompiledProtocol]] = []
    used: set[str] = set()
    for name, effective, version_tree in version_trees(tree, diagnostics):
        found: list[Diagnostic] = []
        build = compile_version(version_tree, filename, source, found)
        compiled.append((name, effective, build.protocol))
        diagnostics += [d for d in found if d not in diagnostics]
        used |= build.resolved.used_params | build.found.used_params | build.state_params
        used |= {f"state {s.name}" for s in build.protocol.states}
        used |= {f"reference {f.key}" for f in build.protocol.finders}
    diagnostics += _unused(tree, used)
    if any(d.severity == "error" for d in diagnostics):
        # Warnings wait until the errors are fixed: many follow from them (a parameter only a broken
        # rule uses looks unused).
        raise RulesError(filename, source, in_source_order([d for d in diagnostics if d.severity != "warning"]))
    versions = tuple(ProtocolVersion(name, effective, protocol) for name, effective, protocol in compiled)
    governed = tree.governed_by.event if tree.governed_by else None
    return replace(versions[-1].protocol, versions=versions if len(versions) > 1 or tree.version else (),
                   governed_by=governed,
                   warnings=tuple(in_source_order([d for d in diagnostics if d.severity != "error"])))


def compile_version(tree: n.Protocol, filename: str, source: str, diagnostics: list[Diagnostic]) -> Build:
    """Every pass over one version's syntax tree."""
    source_lines = source.splitlines()
    decls = declare(tree, diagnostics)
    resolved = resolve(tree, decls, source_lines, diagnostics)
    checked = check(resolved, diagnostics, source_lines)
    lowered = lower(checked, diagnostics)
    rules: list[CompiledRule] = []
    for rule in lowered.rules:
        compiled = emitted(rule, decls, source_lines, diagnostics)
        if compiled is not None and all(r.id != compiled.id for r in rules):
            rules.append(compiled)
    limits.check_ruleset(tree, rules, diagnostics)
    rules = name_need_causes(rules)
    reads = frozenset(read for rule in checked.rules for read in rule.resolved.reads)
    states_read = {read[1] for read in reads if read[0] == "state"}
    # A reference a state counts is found like one a rule reads.
    reads |= {("reference", decls.states[name].mark) for name in states_read if decls.states[name].mark_which is None}
    found = compile_finders(tree, decls, reads, source_lines, diagnostics)
    states = compile_states(tree, decls, states_read, source_lines, diagnostics)
    limits.check_reference_width(tree, decls.events, found.finders, diagnostics, checked.computed)
    header = tree.header
    protocol = CompiledProtocol(
        name=header.name if header else "",
        registry=header.registry if header else None,
        filename=filename,
        events=decls.events,
        subject_attributes=decls.attributes,
        parameters=parameter_values(decls, source_lines),
        rules=tuple(rules),
        plan=replace(plan_facts([r.resolved for r in checked.rules] + found.rules, decls, checked.computed),
                     counted=frozenset(_counted(rule) for rule in rules if rule.breaks)),
        criteria=decls.criteria,
        choices=tuple(
            [Choice(f"parameter {p.name}", p.span.line, p.choice) for p in tree.parameters if p.choice]
            + _empty_means_choices(tree)
            + [Choice(r.id, r.span.line, text) for r in tree.rules for text in r.choices]),
        groups=decls.groups,
        warnings=tuple(d for d in diagnostics if d.severity != "error"),
        tree=tree,
        source="\n".join(source_lines),
        finders=found.finders,
        site_zones=decls.site_zones,
        states=states.states,
    )
    return Build(resolved, checked, lowered, protocol, found, states.used_params)


def _empty_means_choices(tree: n.Protocol) -> list[Choice]:
    """Each `empty means` is a reading of the protocol the writer chose, so the matrix lists it."""
    words = {True: "yes", False: "no"}
    choices = []
    for event in tree.events:
        for field in event.fields:
            if field.empty is not None:
                value = field.empty.value
                shown = words[value] if isinstance(value, bool) else f'"{value}"' if isinstance(value, str) else value
                choices.append(Choice(f"field {event.name}.{field.name}", field.span.line,
                                      f"An empty {field.name} of {event.name} means {shown}."))
    return choices


def _unused(tree: n.Protocol, used: set[str]) -> list[Diagnostic]:
    """Warnings: parameters no rule or message uses, references and schedules no rule reads, criteria no
    rule cites (in any version)."""
    found = [Diagnostic(f"reference {r.name} is never used", r.span, "read it in a rule, or delete it",
                        severity="warning") for r in tree.references if f"reference {r.name}" not in used]
    found += [Diagnostic(f"schedule {s.name} is never used", s.span, "count per it or read its visits in a rule, "
                         "or delete it", severity="warning") for s in tree.schedules if f"schedule {s.name}" not in used]
    found += [Diagnostic(f"state {s.name} is never used", s.span, "read its start or end in a rule, or delete it",
                         severity="warning") for s in tree.states if f"state {s.name}" not in used]
    found += [Diagnostic(f"formula {f.name} is never used", f.span, "read it in a rule, or delete it",
                         severity="warning") for f in tree.formulas if f"formula {f.name}" not in used]
    declared: dict[str, n.ParamDecl] = {}
    for param in tree.parameters + tuple(p for a in tree.amendments for p in a.parameters):
        declared.setdefault(param.name, param)
    for name, param in declared.items():
        if name not in used:
            found.append(Diagnostic(f"parameter {name} is never used", param.span,
                                    "use it in a rule or a message, or delete it", severity="warning"))
    all_rules = tree.rules + tuple(r for a in tree.amendments for r in a.rules)
    cited = {c for rule in all_rules for c, _ in rule.criteria}
    for criterion in tree.criteria:
        if criterion.id not in cited and criterion.manual is None:
            found.append(Diagnostic(
                f"criterion {criterion.id} is cited by no rule", criterion.id_span,
                "cite it from a rule, or mark it `manual \"why no data can show it\"`", severity="warning"))
    return found


def in_source_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """By position in the file; a note stays right after the diagnostic it belongs to."""
    groups: list[list[Diagnostic]] = []
    for d in diagnostics:
        if d.severity == "note" and groups:
            groups[-1].append(d)
        else:
            groups.append([d])
    groups.sort(key=lambda g: (g[0].span.line, g[0].span.column) if g[0].span else (0, 0))
    return [d for group in groups for d in group]


def _counted(rule: CompiledRule) -> tuple[str, str]:
    """The (event, period) of the counts a rule checks: their records become `$counted` facts."""
    trigger = next(er for er in rule.engine_rules if er.role == "trigger").patterns[0]
    ident = {t.field: t.const for t in trigger.identity}
    return str(ident["event"]), str(ident["period"])
