"""Build the report dict (the chartgate.json contract described in the README, plus provenance) from
the run record (`record.RunRecord`: no writer sees the Gate).

Built once, redacted once, cleaned of control characters once (`safe.clean`), grouped into defects
once (`defects.group_defects`, with each defect's chart file and line); every format renders this
dict and `chartgate merge` rebuilds the same dict from shard reports (`finalise`)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from chartgate.check.definition import RENDER_ROLE
from chartgate.check.baseline import REFRESH
from chartgate.report.record import thaw
from chartgate.report.defects import defect_counts, group_defects
from chartgate.report.locate import attach_locations
from chartgate.report.safe import clean

#: `summary.gate`: `incomplete` is a run that stopped before it judged everything (always red);
#: `partial` one that judged only part of the whole gate, finding nothing blocking (never green).
VERDICTS = ("passed", "failed", "partial", "incomplete")

if TYPE_CHECKING:
    from chartgate.report.record import RunRecord


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


def _plan_entry(record: "RunRecord", name: str) -> dict:
    """How the chart's scenario space was planned: factors, rows, what was pruned, what the chart
    refused (infeasible inputs, with its own message) and what was re-planned around them."""
    plan = record.plans.get(name)
    infeasible = sorted({(r.cause_scenario, r.message) for r in record.results
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


def build_report(record: "RunRecord") -> dict:
    """The report model of a run record: the record is the only input."""
    results = list(record.results)
    policies = {r.policy.id: r.policy for r in results}
    totals = {o: 0 for o in ("passed", "failed", "waived", "baselined", "skipped", "error")}
    for r in results:
        totals[r.outcome.value] += 1
    judged = {r.chart for r in results}
    provenance = thaw(record.provenance)
    golden, waivers = record.golden, record.waivers
    report = {
        "tool": provenance["tool"],
        "helm": provenance["helm"],
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **{key: provenance[key] for key in ("started_at", "git_commit", "shard", "working_dir", "python",
                                            "kubernetes_versions", "platform", "chart_roots")},
        "charts": [{**thaw(chart), "plan": _plan_entry(record, chart["name"])} for chart in record.charts],
        "broken_charts": thaw(record.broken_charts),
        "excluded_charts": thaw(record.excluded_charts),
        "policies": [{**p.metadata(), "module": p.module_path, "see": resolvable(p.reference, record.repository),
                      "module_sha256": record.policy_modules.get(p.module_path, "")}
                     for p in sorted(policies.values(), key=lambda p: p.id)],
        "results": [_listed(r) for r in results],
        "golden": {
            "dir": str(golden.dir),
            "updated": sorted(str(p) for p in golden.written),
            "orphans": sorted(str(p) for p in golden.orphans),
            "removed": sorted(str(p) for p in golden.removed),
        },
        "waivers": {
            "file": str(waivers.file) if waivers.file else None,
            "entries": [w.to_dict() for w in waivers.entries],
            "expired": [w.to_dict() for w in waivers.expired],
            "unused": [w.to_dict() for w in waivers.unused],
        },
        "summary": {
            "gate": record.verdict,  # passed | failed | partial | incomplete
            "incomplete": record.incomplete,
            "partial": thaw(record.partial),  # what was selected and what was not (partial.Scope)
            "unreported_render_failures": [list(x) for x in record.unreported_render_failures],
            # charts whose covering plan was left incomplete (render budget spent): chart -> combinations
            "partial_coverage": dict(record.partial_coverage),
            "fail_on": record.fail_on,
            "fail_on_upstream": record.fail_on_upstream,
            "baseline": _baseline_entry(record),
            # umbrella -> {dependency chart: findings reported there, not here} (ownership.py)
            "judged_elsewhere": _judged_elsewhere(results),
            "totals": totals,
            "per_chart": record.per_chart(),
            "not_judged": sorted(({c["name"] for c in record.charts} | {b["name"] for b in record.broken_charts})
                                 - judged),
        },
    }
    if record.render_stats is not None:
        report["render_stats"] = thaw(record.render_stats)
    report["timings"] = thaw(record.timings)
    # Once, here: every format renders this dict, so no format can leak what this removed.
    return finalise(record.redactor.data(report))


def _baseline_entry(record: "RunRecord") -> dict:
    """The baseline the run used (or wrote): its file, entries, what matched and what no longer does."""
    baseline = record.baseline
    stale = thaw(baseline.stale)
    entry = {"file": str(baseline.file) if baseline.file else None, "used": bool(baseline.entries),
             "entries": baseline.entries,
             "baselined_findings": baseline.baselined_findings,
             "stale": stale, "written": None, "refused": baseline.refused}
    if baseline.written:
        entry["written"] = {"file": baseline.written[0], "entries": baseline.written[1]}
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
