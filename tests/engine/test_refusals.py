"""Planning around a chart's refusals (refusals.py) within its render budget, and the render estimate
(estimate.py) against the Helm runs a gate really makes (issue 19)."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest

from chartgate.plan.covering import coverage_gaps
from chartgate.plan.refusals import learn_and_cover, _mentioned
from ..conftest import REPO, gate_config, run_gate
from .test_toggles import CONFIGMAP, gate_on, write_chart

# -- the algorithm, on a chart modelled as a function (the engine's path below renders with Helm) ------

SPACE = {f"mesh.sw{i:02d}.enabled": (False, True) for i in range(14)}
SPACE["mesh.sw13.enabled"] = (True, False)  # a switch that defaults on


def guarded(row: dict) -> str | None:
    """Four guards: sw01 and sw02 never both on; sw03 needs sw04; sw05 needs a value nothing sets; and
    sw06 needs sw13, which is on by default (turning sw13 off alone is fine, with sw06 it is not)."""
    on = {k.split(".")[1].replace("sw", "f") for k, v in row.items() if v is True}
    if {"f01", "f02"} <= on:
        return "mesh.sw01 and mesh.sw02 cannot be enabled together"
    if "f03" in on and "f04" not in on:
        return "mesh.sw03 requires mesh.sw04.enabled=true"
    if "f05" in on:
        return "mesh.sw05.endpoint is required when mesh.sw05 is enabled"
    if "f06" in on and "f13" not in on:
        return "mesh.sw06 requires mesh.sw13.enabled=true"
    return None


def counting(oracle):
    calls = []

    def render(rows):
        calls.extend(rows)
        return [oracle(r) for r in rows]
    return render, calls


def test_refusals_are_learned_and_every_feasible_pair_is_covered():
    render, calls = counting(guarded)
    coverage = learn_and_cover(SPACE, 2, [], [], render, budget=1000)
    learned = {r.items for r in coverage.refusals}
    assert (("mesh.sw01.enabled", True), ("mesh.sw02.enabled", True)) in learned
    assert (("mesh.sw03.enabled", True), ("mesh.sw04.enabled", False)) in learned  # needs sw04: its default named
    assert (("mesh.sw05.enabled", True),) in learned
    assert (("mesh.sw06.enabled", True), ("mesh.sw13.enabled", False)) in learned
    assert not coverage.uncovered and not coverage.exhausted
    assert all(guarded(row) is None for row in coverage.rows)  # every planned row renders
    # Every pair is covered by a planned row, or contains a refusal the chart was seen to make.
    refused = {c for c, _ in coverage.infeasible}
    assert set(coverage_gaps(coverage.rows, SPACE, 2)) == refused
    for combination, refusal in coverage.infeasible:
        assert refusal.within(combination)
        assert guarded({**{k: v[0] for k, v in SPACE.items()}, **dict(refusal.items)}) is not None
    # Far from a row per lost pair (4 x 91 pairs): rows and probes, a handful per guard.
    assert coverage.renders == len(calls) < 60


def test_a_spent_budget_lists_what_is_left_and_the_coverage_is_partial():
    render, calls = counting(guarded)
    coverage = learn_and_cover(SPACE, 2, [], [], render, budget=5)
    assert coverage.exhausted and coverage.partial and len(calls) <= 5
    everything = set(itertools.chain.from_iterable(
        [tuple(zip(group, levels)) for levels in itertools.product(*(SPACE[n] for n in group))]
        for group in itertools.combinations(SPACE, 2)))
    covered = everything - set(coverage_gaps(coverage.rows, SPACE, 2))
    accounted = covered | {c for c, _ in coverage.infeasible} | set(coverage.uncovered)
    assert accounted == everything  # nothing silently dropped


def test_the_message_names_the_factors_it_is_about():
    message = "execution error at (x/templates/g.yaml:3:9): features.cacheFallback requires features.mode.enabled=true"
    assert _mentioned(message, "up.features.cacheFallback.enabled")
    assert _mentioned(message, "up.features.mode.enabled")
    assert not _mentioned(message, "up.features.cacheFallback104.enabled")


# -- the engine: real Helm ------------------------------------------------------------------------------

EXCLUSIVE = ('{{- if and .Values.xOverlay.a.enabled .Values.xOverlay.b.enabled }}'
             '{{- fail "xOverlay.a and xOverlay.b are mutually exclusive" }}{{- end }}\n')


def exclusive_chart(root: Path) -> None:
    values = "xOverlay:\n" + "".join(f"  {n}: {{enabled: false}}\n" for n in ("a", "b", "c", "d"))
    objects = "".join("{{- if .Values.xOverlay.%s.enabled }}\n---\n%s{{- end }}\n" % (n, CONFIGMAP % (n, "v"))
                      for n in ("a", "b", "c", "d"))
    write_chart(root, "bp-excl", values, {"guard.yaml": EXCLUSIVE, "cm.yaml": objects,
                                          "base.yaml": CONFIGMAP % ("base", "v")})


def test_a_chart_whose_budget_runs_out_is_reported_partial_with_the_combinations_left(tmp_path):
    exclusive_chart(tmp_path / "charts")
    run = gate_on(tmp_path, tmp_path / "charts", exhaustive_threshold=0, render_budget=1)
    plan = run.gate.combination_plans["bp-excl"]
    assert plan.coverage.exhausted and plan.coverage.uncovered
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    entry = next(c for c in report["charts"] if c["name"] == "bp-excl")["plan"]
    assert entry["coverage"] == "partial" and entry["budget_exhausted"]
    assert entry["uncovered_combinations"] == [dict(c) for c in plan.coverage.uncovered]
    assert report["summary"]["partial_coverage"] == {"bp-excl": len(plan.coverage.uncovered)}
    assert "Partial coverage" in (tmp_path / "reports" / "chartgate.md").read_text()
    assert "Partial coverage" in (tmp_path / "reports" / "chartgate.html").read_text()
    assert "PARTIAL coverage" in run.gate.describe_plans()


def test_a_chart_within_its_budget_learns_the_guard_and_is_complete(tmp_path):
    exclusive_chart(tmp_path / "charts")
    run = gate_on(tmp_path, tmp_path / "charts", exhaustive_threshold=0)
    plan = run.gate.combination_plans["bp-excl"]
    assert [r.items for r in plan.coverage.refusals] == [(("xOverlay.a.enabled", True), ("xOverlay.b.enabled", True))]
    assert not plan.coverage.uncovered
    report = json.loads((tmp_path / "reports" / "chartgate.json").read_text())
    entry = next(c for c in report["charts"] if c["name"] == "bp-excl")["plan"]
    assert entry["coverage"] == "complete" and entry["learned_refusals"][0]["message"].endswith("mutually exclusive")
    assert report["summary"]["partial_coverage"] == {}


sys.path.insert(0, str(REPO / "bench"))
import monorepo  # noqa: E402


def actual_helm_runs(gate) -> int:
    return gate.renderer.stats["renders"] + sum(r.stats["renders"] for r in gate.matrix_renderers.values())


@pytest.mark.parametrize("kind", ["guarded", "operator"])
def test_the_plan_estimate_is_within_15_percent_of_the_helm_runs(tmp_path, policies, kind):
    """`--plan` (which renders nothing of the plan) against a cold gate's Helm runs, on the benchmark's
    generated charts made small: the guard-heavy bp-warden and an ordinary operator Blueprint."""
    if kind == "guarded":
        bp = monorepo.guarded_blueprint(tmp_path / "mono", 0.15)
    else:
        bp = monorepo.plan_blueprints(tmp_path / "mono", 6, 0.1)[5]
    monorepo.write_blueprint(bp, 1000 + bp.index)
    (tmp_path / "overlays").mkdir()
    config = dict(chart_root=tmp_path / "mono" / "platform", overlay_root=tmp_path / "overlays", cache=None)
    from chartgate.engine.gate import Gate
    planned = Gate(gate_config(tmp_path / "plan", plan_only=True, **config))
    estimate = planned.combination_plans[bp.chart_name].estimate
    assert planned.renderer.stats["renders"] == 0  # --plan rendered nothing
    run = run_gate(gate_config(tmp_path / "run", **config), policies)
    actual = actual_helm_runs(run.gate)
    assert abs(estimate.total - actual) <= 0.15 * actual, (estimate.describe(), actual)
    after = run.gate.combination_plans[bp.chart_name]
    if kind == "guarded":
        assert after.coverage.refusals and not after.coverage.uncovered
        assert estimate.planning > 0


def test_only_a_fail_or_required_guarded_by_a_factor_counts_as_a_guard(tmp_path):
    """A `required` of a cluster value on a line beside a toggle's is no guard (bp-sierra's estimate
    counted planning it never did); an `if` on a toggle around a `fail` is one."""
    from chartgate.discover.charts import _load_chart_dir
    from chartgate.plan.estimate import _guards_on_factors
    from chartgate.plan.planner import _Factor, _FactorKind
    values = "xOverlay:\n  a: {enabled: false}\n  b: {enabled: false}\nexternalDomain: ''\n"
    config = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
              "  a: {{ .Values.xOverlay.a.enabled | quote }}\n"
              "  url: {{ required \"externalDomain is required\" .Values.externalDomain | quote }}\n")
    chart = _load_chart_dir(write_chart(tmp_path, "bp-g", values, {"cm.yaml": config}))
    factors = [_Factor(f"xOverlay.{n}.enabled", _FactorKind.TOGGLE, (False, True)) for n in ("a", "b")]
    assert _guards_on_factors(chart, factors) == 0
    (chart.path / "templates" / "guard.yaml").write_text(EXCLUSIVE)
    assert _guards_on_factors(_load_chart_dir(chart.path), factors) == 1


def test_the_estimate_after_planning_counts_the_rows_planned_around_refusals(tmp_path):
    """The report's `renders` of a chart planned around refusals: the re-covering rows are judged, so
    counted (they were left out when the estimate was taken before they joined the plan)."""
    exclusive_chart(tmp_path / "charts")
    run = gate_on(tmp_path, tmp_path / "charts", exhaustive_threshold=0)
    plan = run.gate.combination_plans["bp-excl"]
    assert plan.repairs and all(s in plan.scenarios for s in plan.repairs)
    assert plan.estimate.planning == plan.coverage.renders - len(plan.coverage.rows)
    # These policies render only planned scenarios (no Helm comparison, no variants); a bisection probe
    # may repeat a declared scenario (one render, memoised), so planning can count one Helm run twice.
    actual = run.gate.renderer.stats["renders"]
    assert actual <= plan.estimate.judging + plan.estimate.planning <= actual * 1.15
