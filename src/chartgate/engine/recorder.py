"""Build the run record (`record.RunRecord`) from a finished gate: the one place that reads the Gate
for the writers. Everything is copied out as plain read-only data, except the renders, which the
evidence bundle reaches through a narrow accessor (never the Renderer itself)."""

from __future__ import annotations

import hashlib
import platform as python_platform
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from chartgate import __version__
from chartgate.check.baseline import stale_entries
from chartgate.core.errors import ChartgateError
from chartgate.report.record import (BaselineState, GoldenChanges, RenderedManifests, RunRecord, WaiverState, freeze)
from chartgate.plan.scenarios import safe_name
from chartgate.check.verdict import blocking_results

if TYPE_CHECKING:
    from chartgate.engine.gate import Gate
    from chartgate.render.renderer import Render


def record_run(gate: "Gate", *, incomplete: str | None, partial: dict | None, orphans: list[Path],
               removed: list[Path], unreported: list[tuple[str, str]],
               baseline_written: tuple[str, int] | None = None, baseline_refused: str | None = None) -> RunRecord:
    """The record of the finished run. It carries the gate's one redactor (taught its inputs, every
    render and every cached result's secrets), which every writer uses."""
    config = gate.config
    # Plans made by the run (read before anything below could plan): those whose coverage is partial.
    made = gate.__dict__.get("combination_plans") or {}
    partial_coverage = {name: len(plan.coverage.uncovered) for name, plan in sorted(made.items())
                        if plan.coverage is not None and plan.coverage.partial}
    plans = gate.combination_plans if gate.planned else {}  # never planned here: a stopped run stays stopped
    scenarios = gate.plans if gate.planned else {}  # none planned after a stop (planning renders)
    renderer = gate.__dict__.get("renderer")  # absent when Helm could not be set up
    results = sorted(gate.results, key=lambda r: (r.chart, r.policy.id, r.scenario or ""))
    judged = {r.chart for r in results}
    baseline_file = config.baseline_file
    return RunRecord(
        results=tuple(results),
        provenance=freeze(_provenance(gate)),
        charts=freeze([_chart_entry(gate.charts[name], scenarios.get(name, []), renderer, name in judged)
                       for name in sorted(gate.charts)]),
        plans=freeze(dict(plans)),
        partial_coverage=freeze(partial_coverage),
        broken_charts=freeze([{"name": b.name, "path": str(b.path), "error": str(b.error)}
                              for b in sorted(gate.broken.values(), key=lambda b: b.name)]),
        excluded_charts=freeze([{"name": name, "path": str(path), "pattern": pattern}
                                for name, (path, pattern) in sorted(gate.excluded.items())]),
        policy_modules=freeze(dict(gate.policy_modules)),
        repository=_repository(config),
        golden=GoldenChanges(dir=Path(config.golden_dir), written=tuple(gate.golden.written),
                             removed=tuple(removed), orphans=tuple(orphans)),
        waivers=WaiverState(
            file=config.waivers_file, entries=tuple(gate.waivers.waivers), expired=tuple(gate.waivers.expired),
            # Every discovered chart counts as known: under --shard a waiver for another shard's chart is
            # not "unknown" (and not unused either, since this run did not judge that chart).
            unused=tuple(gate.waivers.unused(gate.results, gate.policy_ids, {c.name for c in gate.discovered}))),
        baseline=BaselineState(
            file=Path(baseline_file) if baseline_file else None, entries=len(gate.baseline.entries),
            baselined_findings=sum(f.baselined for r in gate.results for f in r.findings),
            # None when writing one: the run makes the baseline, nothing in it is stale.
            stale=() if config.write_baseline else freeze(stale_entries(gate.baseline.entries, gate.results)),
            written=baseline_written, refused=baseline_refused),
        incomplete=incomplete,
        partial=freeze(partial) if partial else None,
        unreported_render_failures=tuple(tuple(x) for x in unreported),
        fail_on=config.fail_on,
        fail_on_upstream=config.fail_on_upstream,
        update_golden=bool(config.update_golden),
        blocking=tuple(blocking_results(gate.results, config.fail_on, config.fail_on_upstream)),
        render_stats=None if renderer is None else freeze({
            **renderer.stats, "results_cached": gate.result_cache.hits, "results_judged": gate.result_cache.misses,
            "toggles_pruned": sum(len(p.pruned) for p in plans.values()),
            "infeasible": sum(r.cause == "infeasible" for r in gate.results)}),
        timings=freeze(gate.timings.to_dict()),
        report_dir=Path(config.report_dir),
        redactor=gate.redactor,
        manifests=_manifests(gate.charts, scenarios, renderer),
    )


def _repository(config) -> Path:
    """The repository the reports are read in: where its configuration is, else where the run started."""
    return Path(config.config_file).resolve().parent if config.config_file else Path.cwd()


def _provenance(gate: "Gate") -> dict:
    return {
        "tool": {"name": "chartgate", "version": __version__},
        "helm": _helm_info(gate),
        "started_at": gate.started.isoformat(timespec="seconds"),
        "git_commit": gate.git_commit(),
        "shard": _shard_info(gate.config.shard, gate.shard_assignment),
        "working_dir": str(Path.cwd()),  # SARIF locations are relative to it
        "python": python_platform.python_version(),
        "kubernetes_versions": list(gate.kube_versions),
        "platform": gate.platform.to_dict(),
        "chart_roots": [str(p) for p in gate.config.chart_roots],
    }


def _helm_info(gate: "Gate") -> dict:
    try:
        helm = gate.helm
        return {"version": helm.version, "path": str(helm.path), "sha256": helm.location.sha256,
                "pinned_version": helm.location.pinned_version, "source": helm.location.source}
    except ChartgateError as exc:
        return {"version": None, "path": None, "error": str(exc)}


def _shard_info(shard: str | None, placed: dict[str, int] | None = None) -> dict | None:
    """`{"index": I, "total": N, "assignment": digest}` for `--shard I/N`; None for a run over every
    selected chart. The digest of the whole chart-to-shard assignment lets `chartgate merge` refuse
    shards that split the charts differently (different timings files)."""
    if not shard:
        return None
    from chartgate.discover.selection import assignment_digest, parse_shard
    index, total = parse_shard(shard)
    return {"index": index, "total": total, "assignment": assignment_digest(placed or {})}


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _chart_entry(chart, planned: list, renderer, judged: bool) -> dict:
    scenarios = []
    for scenario in planned:
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
        "judged": judged,  # false: a stopped run never reached it
        "scenarios": scenarios,
    }


def _manifests(charts: dict, plans: dict, renderer) -> RenderedManifests:
    """Every planned scenario's render, then the variants policies rendered; read when the bundle is
    written (only under --evidence), so a run without one never re-reads released renders."""
    if renderer is None:  # nothing was rendered (every chart broken, or no scenario policy)
        return RenderedManifests()
    charts, plans = dict(charts), {name: list(planned) for name, planned in plans.items()}

    def walk() -> Iterator[tuple[str, "Render"]]:
        planned = set()
        for chart_name in sorted(charts):
            chart = charts[chart_name]
            for scenario in plans.get(chart_name, []):
                planned.add((chart_name, scenario.name))
                render = renderer.rendered(chart, scenario)
                if render is None and renderer.summary(chart, scenario) is not None:
                    render = renderer.render(chart, scenario)  # released after its checks: from the cache
                if render is not None:  # None: a partial run (-k, a subset of policies) never rendered it
                    yield f"manifests/{safe_name(chart_name)}/{safe_name(scenario.name)}", render
        for render in renderer.renders():
            if (render.chart, render.scenario.name) not in planned:
                yield f"manifests/{safe_name(render.chart)}/variants/{safe_name(render.scenario.name)}", render

    return RenderedManifests(walk)
