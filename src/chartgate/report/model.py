"""Build the report dict (the chartgate.json contract described in the README, plus provenance) from a finished gate.

Built once, redacted once, cleaned of control characters once (`safe.clean`), grouped into defects
once (`defects.group_defects`, with each defect's chart file and line); every format renders this
dict and `chartgate merge` rebuilds the same dict from shard reports (`finalise`)."""

from __future__ import annotations

import hashlib
import platform as python_platform
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..definition import RENDER_ROLE
from ..errors import ChartgateError
from ..redact import redactor_for
from .defects import defect_counts, group_defects
from .locate import attach_locations
from .safe import clean

#: `summary.gate`: `incomplete` is a run that stopped before it judged everything (always red);
#: `partial` one that judged only part of the whole gate, finding nothing blocking (never green).
VERDICTS = ("passed", "failed", "partial", "incomplete")

if TYPE_CHECKING:
    from ..gate import Gate, GateSummary


def _repository(gate: "Gate") -> Path:
    """The repository the reports are read in: where its configuration is, else where the run started."""
    return Path(gate.config.config_file).resolve().parent if gate.config.config_file else Path.cwd()


def resolvable(reference: str, repository: Path) -> str:
    """A policy's reference as reports show it (`See: ...`): a URL, or a path (with its `#section`) that
    exists in the gated repository. A path that does not - chartgate's own docs/policies.md, read in
    another repository - is not shown: the reports carry the policy's rationale instead."""
    if re.match(r"https?://\S+$", reference):
        return reference
    path = reference.split("#", 1)[0]
    if path and not Path(path).is_absolute() and ".." not in Path(path).parts and (repository / path).exists():
        return reference
    return ""


def _helm_info(gate: "Gate") -> dict:
    try:
        helm = gate.helm
        return {"version": helm.version, "path": str(helm.path), "sha256": helm.location.sha256,
                "pinned_version": helm.location.pinned_version, "source": helm.location.source}
    except ChartgateError as exc:
        return {"version": None, "path": None, "error": str(exc)}


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _chart_entry(gate: "Gate", name: str, judged: set[str]) -> dict:
    chart = gate.charts[name]
    scenarios = []
    renderer = gate.__dict__.get("renderer")  # absent when Helm could not be set up
    for scenario in (gate.plans if gate.planned else {}).get(name, []):  # none planned after a stop
        # What the render left (kept also after the chart's renders were released); never renders.
        summary = renderer.summary(chart, scenario) if renderer is not None else None
        scenarios.append({
            "name": scenario.name,
            "kind": scenario.kind.value,
            "description": scenario.description,
            **scenario.describe_inputs(),
            "values_digests": {str(p): _digest(p) for p in scenario.values_files},
            "command": renderer.helm.command_line(renderer.request(chart, scenario)) if summary else None,
            "rendered": None if summary is None else summary.ok,
            # Helm's stderr warnings (deprecated values, ...) are kept, never mistaken for failure.
            "helm_warnings": list(summary.warnings) if summary is not None else [],
        })
    return {
        "name": chart.name,
        "path": str(chart.path),
        "version": chart.version,
        "digest": chart.digest,
        "blueprint": str(chart.blueprint_path) if chart.blueprint_path else None,
        "dependencies": [{"name": d.name, "version": d.version, "repository": d.repository}
                         for d in chart.dependencies],
        "judged": name in judged,  # false: a stopped run never reached it
        "scenarios": scenarios,
        "plan": _plan_entry(gate, name),
    }


def _plan_entry(gate: "Gate", name: str) -> dict:
    """How the chart's scenario space was planned: factors, rows, what was pruned, what the chart
    refused (infeasible inputs, with its own message) and what was re-planned around them."""
    plan = gate.combination_plans.get(name) if gate.planned else None
    infeasible = sorted({(r.cause_scenario, r.message) for r in gate.results
                         if r.chart == name and r.cause == "infeasible" and r.policy.role == RENDER_ROLE})
    if plan is None:
        return {}
    return {
        "factors": len(plan.factors), "rows": len(plan.rows), "combined_scenarios": len(plan.scenarios),
        "exhaustive": plan.exhaustive, "strength": plan.strength,
        "pruned_toggles": list(plan.pruned),
        "infeasible_scenarios": [{"scenario": s, "message": m} for s, m in infeasible],
        "infeasible_combinations": [dict(c) for c in plan.infeasible_combinations],
        "replanned_rows": [s.name for s in plan.repairs],
        **_coverage_entry(plan),
    }


def _coverage_entry(plan) -> dict:
    """The plan's coverage (`partial` when combinations were left uncovered, listed), the guards learned
    from the chart's refusals, and every render the run makes for the chart against its budget."""
    coverage, estimate = plan.coverage, plan.estimate
    entry: dict = {"coverage": "partial" if coverage is not None and coverage.partial else "complete"}
    if coverage is not None:
        entry["uncovered_combinations"] = [dict(c) for c in coverage.uncovered]
        entry["learned_refusals"] = [{"assignment": dict(r.items), "message": r.message} for r in coverage.refusals]
        entry["budget_exhausted"] = coverage.exhausted
    if estimate is not None:
        entry["renders"] = {"estimated": estimate.total, "judging": estimate.judging, "comparison": estimate.comparison,
                            "determinism": estimate.determinism, "variants": estimate.variants,
                            "planning": estimate.planning, "budget": estimate.limit}
    return entry


def shard_info(shard: str | None, placed: dict[str, int] | None = None) -> dict | None:
    """`{"index": I, "total": N, "assignment": digest}` for `--shard I/N`; None for a run over every
    selected chart. The digest of the whole chart-to-shard assignment lets `chartgate merge` refuse
    shards that split the charts differently (different timings files)."""
    if not shard:
        return None
    from ..selection import assignment_digest, parse_shard
    index, total = parse_shard(shard)
    return {"index": index, "total": total, "assignment": assignment_digest(placed or {})}


def build_report(gate: "Gate", summary: "GateSummary") -> dict:
    plans = gate.__dict__.get("combination_plans") or {}  # never planned here: a stopped run stays stopped
    results = sorted(gate.results, key=lambda r: (r.chart, r.policy.id, r.scenario or ""))
    policies = {r.policy.id: r.policy for r in results}
    totals = {o: 0 for o in ("passed", "failed", "waived", "baselined", "skipped", "error")}
    for r in results:
        totals[r.outcome.value] += 1
    judged = {r.chart for r in results}
    report = {
        "tool": {"name": "chartgate", "version": __version__},
        "helm": _helm_info(gate),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "started_at": gate.started.isoformat(timespec="seconds"),
        "git_commit": gate.git_commit(),
        "shard": shard_info(gate.config.shard, gate.shard_assignment),
        "working_dir": str(Path.cwd()),  # SARIF locations are relative to it
        "python": python_platform.python_version(),
        "kubernetes_versions": list(gate.kube_versions),
        "platform": gate.platform.to_dict(),
        "chart_roots": [str(p) for p in gate.config.chart_roots],
        "charts": [_chart_entry(gate, name, judged) for name in sorted(gate.charts)],
        "broken_charts": [{"name": b.name, "path": str(b.path), "error": str(b.error)}
                          for b in sorted(gate.broken.values(), key=lambda b: b.name)],
        "excluded_charts": [{"name": name, "path": str(path), "pattern": pattern}
                            for name, (path, pattern) in sorted(gate.excluded.items())],
        "policies": [{**p.metadata(), "module": p.module_path, "see": resolvable(p.reference, _repository(gate)),
                      "module_sha256": gate.policy_modules.get(p.module_path, "")}
                     for p in sorted(policies.values(), key=lambda p: p.id)],
        "results": [_listed(r) for r in results],
        "golden": {
            "dir": str(gate.config.golden_dir),
            "updated": sorted(str(p) for p in summary.written),
            "orphans": sorted(str(p) for p in summary.orphans),
            "removed": sorted(str(p) for p in summary.removed),
        },
        "waivers": {
            "file": str(gate.config.waivers_file) if gate.config.waivers_file else None,
            "entries": [w.to_dict() for w in gate.waivers.waivers],
            "expired": [w.to_dict() for w in summary.expired_waivers],
            "unused": [w.to_dict() for w in summary.unused_waivers],
        },
        "summary": {
            "gate": summary.verdict,  # passed | failed | partial | incomplete
            "incomplete": summary.incomplete,
            "partial": summary.partial,  # what was selected and what was not (partial.Scope)
            "unreported_render_failures": [list(x) for x in summary.unreported_render_failures],
            # charts whose covering plan was left incomplete (render budget spent): chart -> combinations
            "partial_coverage": {name: len(plan.coverage.uncovered) for name, plan in sorted(plans.items())
                                 if plan.coverage is not None and plan.coverage.partial},
            "fail_on": gate.config.fail_on,
            "fail_on_upstream": gate.config.fail_on_upstream,
            "baseline": _baseline_entry(gate, summary),
            # umbrella -> {dependency chart: findings reported there, not here} (ownership.py)
            "judged_elsewhere": _judged_elsewhere(results),
            "totals": totals,
            "per_chart": summary.per_chart(),
            "not_judged": sorted((set(gate.charts) | set(gate.broken)) - judged),
        },
    }
    if "renderer" in gate.__dict__:
        report["render_stats"] = {**gate.renderer.stats, "results_cached": gate.result_cache.hits,
                                  "results_judged": gate.result_cache.misses,
                                  "toggles_pruned": sum(len(p.pruned) for p in
                                                        (gate.combination_plans if gate.planned else {}).values()),
                                  "infeasible": sum(r.cause == "infeasible" for r in gate.results)}
    report["timings"] = gate.timings.to_dict()
    # Once, here: every format renders this dict, so no format can leak what this removed.
    return finalise(redactor_for(gate).data(report))


def _baseline_entry(gate: "Gate", summary: "GateSummary") -> dict:
    """The baseline the run used (or wrote): its file, entries, what matched and what no longer does."""
    from ..baseline import REFRESH
    path = gate.config.baseline_file
    stale = summary.stale_baseline
    entry = {"file": str(path) if path else None, "used": bool(gate.baseline.entries),
             "entries": len(gate.baseline.entries),
             "baselined_findings": sum(f.baselined for r in gate.results for f in r.findings),
             "stale": stale, "written": None, "refused": summary.baseline_refused}
    if summary.baseline_written:
        entry["written"] = {"file": summary.baseline_written[0], "entries": summary.baseline_written[1]}
    if stale:
        entry["note"] = f"{len(stale)} baseline entries no longer match; {REFRESH}"
    return entry


def _judged_elsewhere(results) -> dict:
    moved: dict[str, dict[str, int]] = {}
    for r in results:
        for chart, n in r.judged_in.items():
            row = moved.setdefault(r.chart, {})
            row[chart] = row.get(chart, 0) + n
    return {umbrella: dict(sorted(row.items())) for umbrella, row in sorted(moved.items())}


def _listed(result) -> dict:
    """A result as the report lists it. A passed or skipped result names its scenario, whose inputs and
    command are in the chart's `scenarios`: repeating them on each of tens of thousands of results
    made most of a large monorepo's report. Results with findings or errors keep them (reproduction)."""
    data = result.to_dict()
    if data["outcome"] in ("passed", "skipped"):
        data.pop("command", None)
        data.pop("scenario_inputs", None)
    return data


def finalise(report: dict, *, locate: bool = True) -> dict:
    """Clean every string of control characters and add the grouped view (`defects`, with chart file
    and line unless `locate` is false: a merge keeps the lines its shards found) and its counts."""
    report = clean(report)
    report["defects"] = group_defects(report)
    if locate:
        attach_locations(report)
    report["summary"]["defects"] = defect_counts(report["defects"])
    return report
