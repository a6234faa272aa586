"""The combination planner: factor spaces from discovered toggles and capabilities, t-wise coverage
of the plans it builds, de-duplication against declared scenarios, and the `--plan` text.
No Helm runs here."""

from __future__ import annotations


import pytest

from chartgate.discover.capabilities import advertised_apis
from chartgate.discover.charts import Chart, discover, _load_chart_dir
from chartgate.plan.covering import coverage_gaps
from chartgate.plan.planner import PlanConfig, _describe_plan, describe_plans, plan_combinations
from chartgate.plan.scenarios import ScenarioKind, plan_chart
from chartgate.plan.toggles import ToggleCategory, discover_toggles

from ..conftest import CHARTS, OVERLAYS

FIXTURES = {c.name: c for c in discover([CHARTS]) if isinstance(c, Chart)}


def _space(plan):
    return {f.name: f.levels for f in plan.factors}


@pytest.fixture
def demo_chart(tmp_path) -> Chart:
    """Four toggles (one defaulting on) and two optional APIs, small enough to read."""
    chart = tmp_path / "charts" / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(
        "metrics:\n  serviceMonitor:\n    enabled: false\n"
        "hpa:\n  enabled: false\n"
        "networkPolicy:\n  enabled: false\n"
        "rbac:\n  create: true\n")
    (chart / "templates" / "sm.yaml").write_text(
        '{{- if and .Values.metrics.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}\n'
        "kind: ServiceMonitor\n{{- end }}\n"
        '{{- if .Capabilities.APIVersions.Has "gateway.networking.k8s.io/v1" }}\nkind: GatewayClass\n{{- end }}\n'
        '{{- if semverCompare ">=1.31-0" .Capabilities.KubeVersion.Version }}\nkind: Lease\n{{- end }}\n')
    (chart / "templates" / "rest.yaml").write_text(  # read, so not pruned (see references.py)
        "{{- if .Values.hpa.enabled }}hpa{{ end }}{{ if .Values.networkPolicy.enabled }}np{{ end }}"
        "{{ if .Values.rbac.create }}rbac{{ end }}\n")
    return _load_chart_dir(chart)


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("strength", [2, 3])
def test_fixture_plans_cover_every_toggle_and_capability_t_wise(name, strength):
    chart = FIXTURES[name]
    plan = plan_combinations(chart, [OVERLAYS], PlanConfig(strength=strength, exhaustive_threshold=0))
    names = {f.name for f in plan.factors}
    toggles = discover_toggles(chart)
    assert {t.dotted for t in toggles if t.referenced} <= names
    assert not names & {t.dotted for t in toggles if not t.referenced}  # pruned: they cannot change the render
    assert {f"api:{api}" for api in advertised_apis(chart)} <= names
    assert coverage_gaps(plan.rows, _space(plan), strength) == []
    assert plan.exhaustive or len(plan.rows) < plan.exhaustive_size


def test_scenarios_carry_each_rows_toggles_and_apis(demo_chart):
    plan = plan_combinations(demo_chart, config=PlanConfig(exhaustive_threshold=0))
    assert [s.name for s in plan.scenarios] == [f"plan.{i:03d}" for i in range(1, len(plan.scenarios) + 1)]
    for scenario in plan.scenarios:
        row = scenario.extra["assignment"]
        assert scenario.kind is ScenarioKind.PLAN
        # Only toggles moved off their default become --set lines.
        assert dict(scenario.set_values) == {
            k: v for k, v in row.items() if not k.startswith("api:") and v != (k == "rbac.create")}
        assert scenario.api_versions == tuple(k.removeprefix("api:") for k, v in row.items()
                                              if k.startswith("api:") and v)
        assert scenario.kube_version is None


def test_toggle_levels_start_at_the_default_and_categories_can_be_narrowed(demo_chart):
    plan = plan_combinations(demo_chart)
    levels = {f.name: f.levels for f in plan.factors}
    assert levels["rbac.create"] == (True, False)
    assert levels["hpa.enabled"] == (False, True)
    assert levels["api:gateway.networking.k8s.io/v1"] == (False, True)
    observability = frozenset({ToggleCategory.OBSERVABILITY})
    narrowed = plan_combinations(demo_chart, config=PlanConfig(categories=observability))
    assert [f.name for f in narrowed.factors if f.kind == "toggle"] == ["metrics.serviceMonitor.enabled"]


def test_small_spaces_are_planned_exhaustively(demo_chart):
    plan = plan_combinations(demo_chart, config=PlanConfig(exhaustive_threshold=64))  # 2**6 = 64
    assert plan.exhaustive and len(plan.rows) == plan.exhaustive_size == 64
    assert len(plan.scenarios) == 64
    covering = plan_combinations(demo_chart, config=PlanConfig(exhaustive_threshold=63))
    assert not covering.exhaustive and len(covering.rows) < 16


def test_rows_equal_to_declared_scenarios_are_not_planned_again():
    chart = FIXTURES["bp-kserve"]
    declared = plan_chart(chart, (OVERLAYS,))
    plan = plan_combinations(chart, [OVERLAYS], PlanConfig(exhaustive_threshold=64), existing=declared)
    dropped = dict(plan.duplicates)
    # Row 1 is every toggle at its default on a bare cluster: the `default` scenario.
    assert dropped[0] == "default"
    assert "capabilities" in dropped.values()
    assert len(plan.scenarios) + len(plan.duplicates) == len(plan.rows) == 32
    requests = {(s.values_files, s.set_values, s.api_versions) for s in [*declared, *plan.scenarios]}
    assert plan.estimated_renders == len(requests) < len(declared) + len(plan.rows)
    # The base overlay (the cluster's FQDN) is applied under every combined scenario too.
    assert all(s.values_files == (OVERLAYS / "bp-kserve" / "base.yaml",) for s in plan.scenarios)


def test_a_base_overlay_moves_the_default(demo_chart, tmp_path):
    overlays = tmp_path / "overlays"
    (overlays / "demo").mkdir(parents=True)
    (overlays / "demo" / "base.yaml").write_text("hpa:\n  enabled: true\n")
    plan = plan_combinations(demo_chart, [overlays], PlanConfig(exhaustive_threshold=64))
    assert {f.name: f.levels for f in plan.factors}["hpa.enabled"] == (True, False)
    assert plan.scenarios[0].set_values == () and plan.scenarios[0].api_versions == ()


def test_kubernetes_versions_are_a_factor_when_the_templates_compare_them(demo_chart):
    config = PlanConfig(kube_versions=("1.30", "1.33", "1.30"))
    plan = plan_combinations(demo_chart, config=config)
    assert plan.factors[-1].name == "kube-version" and plan.factors[-1].levels == ("1.30", "1.33")
    assert {s.kube_version for s in plan.scenarios} == {"v1.30.0", "v1.33.0"}
    assert coverage_gaps(plan.rows, _space(plan), 2) == []
    # The fixture charts never branch on the version: a version factor would only double the plan.
    assert all(f.kind != "kube" for f in plan_combinations(FIXTURES["bp-kserve"], config=config).factors)


def test_plans_are_deterministic():
    chart = FIXTURES["bp-stunner"]
    first = plan_combinations(chart, [OVERLAYS], PlanConfig(strength=3, exhaustive_threshold=0))
    again = plan_combinations(chart, [OVERLAYS], PlanConfig(strength=3, exhaustive_threshold=0))
    assert first.rows == again.rows and first.scenarios == again.scenarios


def test_plan_text_shows_factors_rows_and_sizes():
    chart = FIXTURES["bp-stunner"]
    declared = plan_chart(chart, (OVERLAYS,))
    plan = plan_combinations(chart, [OVERLAYS], PlanConfig(exhaustive_threshold=0), existing=declared)
    text = _describe_plan(plan)
    assert text.startswith(f"bp-stunner: 2-wise covering array (IPOG), {len(plan.rows)} of 64 combinations")
    assert "F5  api:gateway.networking.k8s.io/v1" in text
    assert "= default" in text
    assert f"estimated renders: {plan.estimated_renders}" in text
    assert describe_plans([plan]).endswith(f"estimated renders: {plan.estimated_renders}")


def test_a_chart_without_switches_plans_one_default_row(tmp_path):
    chart = tmp_path / "bare"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: bare\nversion: 1.0.0\n")
    plan = plan_combinations(_load_chart_dir(chart))
    assert plan.factors == [] and plan.rows == [{}] and len(plan.scenarios) == 1
    assert "0 factors" in _describe_plan(plan)


@pytest.mark.parametrize(("kwargs", "message"), [({"strength": 0}, "strength must be >= 1"),
                                                 ({"exhaustive_threshold": -1}, "threshold must be >= 0")])
def test_bad_config_says_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlanConfig(**kwargs)
