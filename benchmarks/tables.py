"""The benchmark's results as markdown tables (ready for benchmarks/README.md), with the issue's targets."""

from __future__ import annotations

from .measure import LARGE, nonzero

MB = 1024 * 1024
# The targets the issue sets, shown next to the figures.
TARGET_FLOOR_RATIO = 3.0  # 1M audit within 3x the read floor
TARGET_ENGINE_FLOOR_RATIO = 6.0  # the audit within 6x its engine floor (issue 19)
TARGET_FLAT = 1.3  # cost per record within 1.3x of the smallest size's, up to 10M
TARGET_PILOT_S = 1.0  # the CDISC pilot's full audit, wall

THROUGHPUT_LEGEND = (
    "start-up: imports + `load_protocol` in the audit process. audit s: `audit_files` + `to_json` "
    "(rec/s, µs/rec and the ratio to the first size use it). audit+load s: `load_protocol` + "
    "`audit_files` + `to_json` (audit/floor uses it, as before). CLI wall: `python -m jk500_rules "
    "audit --format json -o FILE` end to end (interpreter, input hashing, report writing, exit).")
MEMORY_LEGEND = (
    "audit peak: VmHWM of the audit process (`load_protocol` + `audit_files`); incl. to_json: to "
    "the end, with the report string. largest worker: RUSAGE_CHILDREN ru_maxrss once the workers "
    "exited. bound: audit peak + jobs × largest worker, an upper bound for the audit (pages shared "
    "with the parent count in each). tree PSS sampled: the largest sum of PSS (shared pages divided "
    "among their processes) over the audit process and its live workers during `audit_files`, sampled "
    "every 0.25 s or more (may miss spikes): an estimate of what the machine held. ÷ 1M's: against "
    "the same jobs value at 1M. CLI largest process: wait4's ru_maxrss (the CLI process or one of its "
    "workers, report writing included).")


def _mb(x: float | None) -> str:
    return "n/a" if x is None else f"{x / MB:,.0f}"


def _s(x: float | None, places: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{places}f}"


def _x(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _yes(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "NO")


def _table(head: list[str], rows: list[list[str]], right: int = 0) -> list[str]:
    """A markdown table; columns from index `right` on are right-aligned (figures), those before left."""
    align = ["---" if i < right else "---:" for i in range(len(head))]
    return ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def _upper_bound(a: dict) -> float | None:
    """The audit process's peak (to the end of audit_files) plus `jobs` times the largest worker's.

    No moment of the audit held more, since at most `jobs` workers run at once. to_json is left out:
    it holds the whole report as one string, which says nothing about how the audit itself scales.
    """
    if a.get("peak_rss_audit") is None:
        return None
    workers = a.get("worker_peak_rss") or a.get("worker_hwm_max") or 0
    return a["peak_rss_audit"] + ((a["jobs"] or 1) if workers else 0) * workers


def _ratio(x: float | None, y: float | None) -> float | None:
    return x / y if x and y else None


def _per_record(a: dict, records: int) -> float | None:
    return None if not a.get("work_s") else a["work_s"] / records * 1e6


def render(results: dict) -> str:
    m, rows = results["machine"], results["sizes"]
    load = m.get("loadavg")
    lines = [f"machine: {m['cpu']}, nproc {m['nproc']}, {m['implementation']} {m['python']}, {m['platform']}",
             f"date: {m['date']}   load average at start: {', '.join(f'{x:.2f}' for x in load) if load else 'n/a'}",
             (f"seed: {results['seed']}   repeat: {results['repeat']} (sizes >= {LARGE:,}: "
              f"{results['repeat_large']}); medians"),
             f"command: {results['command']}"]
    for note in results.get("notes", []):
        lines.append(f"note: {note}")
    lines.append("")

    st = results.get("startup")
    if st:
        lines += ["Start-up (medians)", ""]
        lines += _table(["what", "s"], [
            ["`python -c pass`", _s(st["python_bare_s"])],
            ["`python -m jk500_rules --version`", _s(st["cli_version_s"])],
            ["import jk500_rules.cli + audit + report", _s(st["import_s"])],
            ["`load_protocol` (parse + compile)", _s(st["compile_s"])],
            ["engine ruleset create + delete", _s(st["engine_ruleset_s"])]], right=1)
        lines.append("")

    base = {a["jobs"]: _per_record(a, r["records"]) for r in rows[:1] for a in r["audits"]}
    first_size = rows[0]["records"] if rows else 0
    lines += ["Throughput: API audit in a fresh process vs the read floor (csv + date.fromisoformat, same file)", ""]
    body = []
    for r in rows:
        for a in r["audits"]:
            us = _per_record(a, r["records"])
            ratio = us / base[a["jobs"]] if us and base.get(a["jobs"]) else None
            floor = r["floor"]["total_s"]
            cli = next((c for c in r["cli"] if c["jobs"] in (a["jobs"], None)), None)
            body.append([f"{r['records']:,}", str(a["jobs"]), _s((a["import_s"] or 0) + (a["compile_s"] or 0)),
                         _s(a["work_s"]), f"{r['records'] / a['work_s']:,.0f}", _s(us, 1), _x(ratio),
                         _s(a["total_s"]), _s(floor), f"{a['total_s'] / floor:.1f}",
                         _s(cli["wall_s"]) if cli else "n/a", _yes(a["as_planted"])])
    lines += _table(["N records", "jobs", "start-up s", "audit s", "rec/s", "µs/rec", f"÷ {first_size:,}",
                     "audit+load s", "floor s", "audit/floor", "CLI wall s", "as planted"], body)
    lines += ["", THROUGHPUT_LEGEND, ""]
    lines += _engine_floor_lines(rows)

    lines += ["Memory (MB): peak RSS of the audit process, of its largest worker, their bound, and the sampled "
              + "whole-tree peak", ""]
    body = []
    ref = {a["jobs"]: a for r in rows if r["size"] == LARGE for a in r["audits"]}
    for r in rows:
        for a in r["audits"]:
            at_1m = ref.get(a["jobs"])
            bound = _upper_bound(a)
            pss = a.get("tree_pss_peak_sampled")
            cli = next((c for c in r["cli"] if c["jobs"] in (a["jobs"], None)), None)
            body.append([f"{r['records']:,}", str(a["jobs"]), f"{r['file_bytes'] / MB:,.1f}", str(r["largest_subject"]),
                         _mb(a["peak_rss_audit"]), _mb(a["peak_rss"]), _mb(a["worker_peak_rss"]),
                         _mb(bound), _mb(pss), _x(_ratio(bound, _upper_bound(at_1m) if at_1m else None)),
                         _x(_ratio(pss, at_1m.get("tree_pss_peak_sampled") if at_1m else None)),
                         _mb(cli["max_rss"]) if cli else "n/a", _mb(r["floor"]["peak_rss"])])
    lines += _table(["N records", "jobs", "input MB", "largest subject (records)", "audit peak",
                     "peak incl. to_json", "largest worker", "bound", "tree PSS sampled", "bound ÷ 1M's",
                     "PSS ÷ 1M's", "CLI largest process", "floor peak"], body)
    lines += ["", MEMORY_LEGEND, ""]

    lines += ["Phases where measurable in the audit process (seconds, medians; n/a: not called there, called "
              + "more than once where one call is needed, or streamed)", ""]
    body = []
    for r in rows:
        for a in r["audits"]:
            growth = None if a["peak_engine"] is None or a["rss_before_engine"] is None \
                else a["peak_engine"] - a["rss_before_engine"]
            body.append([f"{r['records']:,}", str(a["jobs"]), _s(a["compile_s"]), _s(a["read_s"]),
                         _s(a["sessions_s"]), _s(a["subject_session_s"]), _s(a["trial_session_s"]),
                         _s(a["feed_s"]), _s(a["trial_feed_s"]), _s(a["engine_s"]), _s(a["other_s"]),
                         _s(a["report_s"]), _mb(a["rss_after_read"]), _mb(a["rss_before_engine"]),
                         _mb(a["peak_engine"]), _mb(growth), _mb(a["rss_end"])])
    lines += _table(["N", "jobs", "compile", "read_logs", "build_sessions", "subject_session", "trial_session",
                     "Engine.feed", "(trial feed)", "engine loop", "other", "to_json", "RSS after read",
                     "RSS pre-engine", "engine peak", "engine +MB", "RSS end"], body)
    lines.append("")

    lines += ["Identical reports across jobs (sha256 of the JSON report, every jobs value and every repeat)", ""]
    body = []
    for r in rows:
        api = ", ".join(f"{a['jobs']}: {'/'.join(s[:12] for s in a['report_sha256'])}" for a in r["audits"])
        cli = ", ".join(f"{c['jobs'] or 'default'}: {'/'.join(s[:12] for s in c['sha256'])}" for c in r["cli"])
        body.append([f"{r['records']:,}", api, _yes(r["api_identical"]), cli or "not run", _yes(r["cli_identical"])])
    lines += _table(["N", "API to_json by jobs", "identical across jobs (API)", "CLI report by jobs",
                     "identical across jobs (CLI)"], body, right=5)
    lines.append("")

    lines.append("Generated logs and record accounting (first run)")
    for r in rows:
        c = r["counts"]
        parts = [c.get(k) for k in ("read", "audited", "not_used", "rejected")]
        ok = None not in parts and parts[0] == sum(parts[1:])
        lines.append(f"- {r['records']:,} records, {r['subjects']:,} subjects, {r['file_bytes'] / MB:,.1f} MB, "
                     f"largest subject {r['largest_subject']} records, {r['trial_rows']} trial rows; generated in "
                     f"{r['generate_s']:.1f} s ({r['generate_runs_merged']} sorted run(s) merged)")
        lines.append(f"  read {c.get('read')} = audited {c.get('audited')} + not used {c.get('not_used')} + "
                     f"rejected {c.get('rejected')}: {'ok' if ok else 'MISMATCH'}; trial facts {c.get('trial_facts')}; "
                     f"findings by rule {nonzero(c.get('findings_by_rule') or {})}: "
                     f"{'as planted' if r['as_planted'] else 'NOT AS PLANTED'} {r['planted']}")
        calls = c.get("hook_calls") or {}
        said = (", ".join(f"{k} ×{v}" for k, v in calls.items()) or "none called in the audit process") \
            if c.get("hooks") else "none installed (--no-phases, or the audit module has none of them)"
        lines.append(f"  phase hooks (first run, jobs {r['audits'][0]['jobs']}): {said}")
    lines.append("")

    lines += _targets(results)

    p = results.get("pilot")
    if p:
        lines.append("")
        if "skipped" in p:
            lines.append(f"CDISC pilot: skipped: {p['skipped']}")
        else:
            lines += [f"CDISC pilot, audited from XPT by the CLI in a fresh process (`{p['command']}`)", ""]
            lines += _table(["--jobs", "wall s (median)", "runs s", "largest process MB", "exit codes"],
                            [[str(b["jobs"]) if b["jobs"] is not None else "default", _s(b["wall_s"]),
                              ", ".join(f"{x:.3f}" for x in b["runs_s"]), _mb(b["max_rss"]),
                              ", ".join(map(str, b["exit_codes"]))] for b in p.get("by_jobs", [p])], right=1)
            lines.append("")
            ph = p.get("phases")
            if ph:
                lines.append(f"  in-process: import {_s(ph['import_s'])}, load rules {_s(ph['compile_s'])}, read XPT "
                             f"{_s(ph['read_s'])}, audit {_s(ph['audit_s'])} (read + audit "
                             f"{_s(ph['audit_files_s'])}), provenance {_s(ph['provenance_s'])}, report (text) "
                             f"{_s(ph['report_s'])}; total {_s(ph['total_s'])} s, process "
                             f"{_s(ph['process_wall_s'])} s, {p.get('findings')} findings, peak "
                             f"{_mb(ph['peak_rss'])} MB")
            else:
                lines.append(f"  in-process phases not measured: {p.get('phases_skipped', '')[:300]}")

    probe = results.get("engine_probe")
    if probe and "skipped" in probe:
        lines += ["", f"Engine probe: skipped: {probe['skipped'][:300]}"]
    elif probe:
        lines.append("")
        lines.append(f"Engine probe: {probe['feeds']:,} session feeds cycling over {probe['distinct_sessions']} "
                     f"subject sessions ({probe['facts_per_session']:.1f} facts each), fresh session names, "
                     f"{probe['seconds']:.2f} s ({probe['feeds'] / probe['seconds']:,.0f} sessions/s)")
        lines.append("  RSS MB at feeds: " + ", ".join(f"{i:,}: {rss / MB:.1f}" for i, rss in probe["samples"]))
        lines.append(f"  slope after the first sample: {probe['bytes_per_feed']:.1f} bytes per session fed")
    return "\n".join(lines) + "\n"


def _engine_floor_lines(rows: list[dict]) -> list[str]:
    """The engine's floor for each audit: its own fact batches, JSON prepared beforehand, asserted one
    session per batch into a ruleset of one rule that never matches; the audit (jobs 1) against it."""
    body = []
    for r in rows:
        floor = r.get("engine_floor")
        audit = next((a for a in r["audits"] if a["jobs"] == 1), None)
        if not floor or audit is None:
            continue
        body.append([f"{r['records']:,}", f"{floor['batches']:,}", f"{floor['facts']:,}",
                     f"{floor['facts'] / r['records']:.2f}", _s(floor["total_s"]),
                     f"{floor['total_s'] / floor['facts'] * 1e6:.2f}", _s(audit["total_s"]),
                     f"{audit['total_s'] / floor['total_s']:.1f}", _yes(audit["total_s"] / floor["total_s"]
                                                                          <= TARGET_ENGINE_FLOOR_RATIO)])
    if not body:
        return []
    return ["Engine floor: the audit's own fact batches (JSON prepared beforehand) asserted into a rule that "
            "never matches, one session per batch, in the same run", ""] + _table(
        ["N records", "batches", "facts", "facts/rec", "engine floor s", "µs/fact", "audit+load s (jobs 1)",
         "audit/engine floor", f"within {TARGET_ENGINE_FLOOR_RATIO:g}×"], body) + [""]


def _targets(results: dict) -> list[str]:
    """The issue's targets against this run's figures (n/a where the run did not cover them)."""
    rows = results["sizes"]
    out = ["Targets", ""]
    body = []
    for a in (rows[0]["audits"] if rows else []):
        j = a["jobs"]
        at = {r["size"]: next(x for x in r["audits"] if x["jobs"] == j) | {"_r": r} for r in rows}
        one_m = at.get(LARGE)
        ratio = one_m["total_s"] / one_m["_r"]["floor"]["total_s"] if one_m else None
        body.append([f"1M audit within {TARGET_FLOOR_RATIO:g}× the read floor (jobs {j})",
                     "n/a (1M not run)" if ratio is None else f"{ratio:.1f}×",
                     "n/a" if ratio is None else _yes(ratio <= TARGET_FLOOR_RATIO)])
        per = {s: _per_record(x, x["_r"]["records"]) for s, x in at.items()}
        smallest = min(per)
        flat = max(v / per[smallest] for v in per.values()) if len(per) > 1 else None
        body.append([f"cost per record within {TARGET_FLAT:g}× from {smallest:,} to {max(per):,} (jobs {j})",
                     "n/a (one size)" if flat is None else f"{flat:.2f}× (largest ratio)",
                     "n/a" if flat is None else _yes(flat <= TARGET_FLAT)])
        biggest = max(at)
        if one_m and biggest > LARGE:
            b1, b2 = _upper_bound(one_m), _upper_bound(at[biggest])
            p1, p2 = one_m.get("tree_pss_peak_sampled"), at[biggest].get("tree_pss_peak_sampled")
            body.append([f"peak memory bounded by the largest subject: {biggest:,} vs 1M (jobs {j})",
                         (f"bound {_mb(b2)} / {_mb(b1)} MB = {_x(_ratio(b2, b1))}×, PSS {_mb(p2)} / {_mb(p1)} MB = "
                          f"{_x(_ratio(p2, p1))}×, for {biggest // LARGE}× the input; largest subject "
                          f"{at[biggest]['_r']['largest_subject']} records"), "no threshold set"])
    p = results.get("pilot") or {}
    if p.get("wall_s") is not None:
        best = min(p.get("by_jobs", [p]), key=lambda b: b["wall_s"])
        also = f" (best: {best['wall_s']:.3f} s with --jobs {best['jobs']})" if best["jobs"] is not None else ""
        body.append([f"CDISC pilot full audit within {TARGET_PILOT_S:g} s wall (default --jobs)",
                     f"{p['wall_s']:.3f} s{also}", _yes(p["wall_s"] <= TARGET_PILOT_S)])
    same = [r[k] for r in rows for k in ("api_identical", "cli_identical") if r[k] is not None]
    body.append(["identical output for every --jobs N", f"{len(same)} comparison(s)",
                 _yes(all(same)) if same else "n/a (one jobs value)"])
    return out + _table(["target", "this run", "met"], body, right=3)
