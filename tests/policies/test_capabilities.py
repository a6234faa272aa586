"""Capabilities gating: API strings, built-in groups, and CAP-001's reading of presence (declared
Blueprints in the real `spec.depends` mapping form; shipped CRDs are tested in
tests/engine/test_presence.py). The differential rendering itself is proven by the cap-* mutants
(tests/policies/test_mutants.py)."""

from __future__ import annotations

import pytest

from chartgate.discover.charts import _load_chart_dir
from chartgate.check.context import ChartContext, ScenarioContext
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.discover.platform import Platform
from chartgate.check.definition import Outcome
from chartgate.check.definition import NotApplicable
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import CHARTS, REPO

cap = load_policy_module(REPO / "policies" / "capabilities.py")
TARGETS = ("1.30", "1.33")


@pytest.mark.parametrize("api, group, gv", [
    ("monitoring.coreos.com/v1", "monitoring.coreos.com", "monitoring.coreos.com/v1"),
    ("monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com", "monitoring.coreos.com/v1"),
    ("apps/v1", "apps", "apps/v1"),
    ("v1", "", "v1"),
    ("v1/Pod", "", "v1"),
])
def test_api_strings_split_into_group_and_group_version(api, group, gv):
    assert cap.api_group(api) == group
    assert cap.group_version(api) == gv


def test_without_api_drops_every_spelling_of_one_group_version():
    apis = ("gateway.networking.k8s.io/v1", "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/PodMonitor")
    assert cap.without_api(apis, "monitoring.coreos.com/v1") == ("gateway.networking.k8s.io/v1",)


def test_builtin_groups_come_from_kubernetes_validate_for_every_target():
    assert cap.is_builtin_group("", TARGETS) and cap.is_builtin_group("apps", TARGETS)
    assert cap.is_builtin_group("autoscaling", TARGETS)
    for group in ("monitoring.coreos.com", "gateway.networking.k8s.io", "cert-manager.io", "serving.kserve.io"):
        assert not cap.is_builtin_group(group, TARGETS), group


CERTIFICATE = """---
# Source: bp-demo/charts/up/templates/certificate.yaml
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: webhook}
spec: {secretName: webhook-tls, issuerRef: {name: selfsigned}}
"""
PLATFORM = Platform(blueprint_apis={"bp-cert-manager": ("cert-manager.io",)})


def cap_context(depends, text: str = CERTIFICATE) -> ScenarioContext:
    """bp-kserve's files with the given spec.depends, and a render holding `text` (no API advertised)."""
    chart = _load_chart_dir(CHARTS / "bp-kserve")
    chart.blueprint = {**chart.blueprint, "spec": {**chart.blueprint["spec"], "depends": depends}}
    scenario = Scenario("default", ScenarioKind.DEFAULT)
    ctx = ChartContext(chart, [scenario], renderer=None, platform=PLATFORM, kube_versions=TARGETS)
    return ScenarioContext(ctx, scenario, Render("bp-kserve", scenario, "helm template",
                                                 _parse_render(text, namespace="ns")))


@pytest.mark.parametrize("depends", [
    [{"blueprint": "bp-cert-manager", "version": "^1"}],  # the real format
    [{"blueprint": "bp-cert-manager", "alias": "certs", "when": "{{ .Values.tls.enabled }}"}],
    ["bp-cert-manager"],  # the older plain-name form
])
def test_a_group_provided_by_a_declared_blueprint_is_present(depends):
    assert list(cap.custom_objects_are_safe.check(cap_context(depends))) == []


def test_an_undeclared_provider_is_named_in_the_finding():
    [finding] = cap.custom_objects_are_safe.check(cap_context([{"blueprint": "bp-knative", "version": "^1"}]))
    assert finding.resource == "Certificate/ns/webhook" and finding.path == "$.apiVersion"
    assert "no Blueprint in blueprint.yaml spec.depends (bp-knative) provides cert-manager.io" in finding.message


def test_cap001_has_nothing_to_judge_without_custom_objects():
    text = "---\n# Source: bp-kserve/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    with pytest.raises(NotApplicable, match="no object of a non-built-in API"):
        list(cap.custom_objects_are_safe.check(cap_context([], text)))


def test_cap_applicability_is_declared():
    assert cap.custom_objects_are_safe.requires == ()  # every chart, Blueprint or not
    assert cap.gates_are_live.requires == ("capability-gates",)
    assert cap.custom_objects_are_safe.reference == cap.gates_are_live.reference == "docs/policies.md#cap"


def test_gates_in_helpers_count_any_object_as_proof():
    scenario = Scenario("x", ScenarioKind.DEFAULT)
    text = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    render = Render("c", scenario, "", _parse_render(text, namespace="ns"))
    assert cap.renders_from(render, "c/templates/a.yaml")
    assert not cap.renders_from(render, "c/templates/b.yaml")
    assert cap.renders_from(render, "c/templates/_helpers.tpl")


# -- CAP-002 on minimal generic charts, real Helm ----------------------------------------------------------

GUARDED_FAIL = """{{- if .Values.serviceMonitor.enabled }}
{{- if not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
{{- fail "serviceMonitor.enabled needs monitoring.coreos.com/v1: deploy the Prometheus Operator CRDs first" }}
{{- end }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: guarded}
spec: {selector: {matchLabels: {app: guarded}}, endpoints: [{port: metrics}]}
{{- end }}
"""
OPENSHIFT_FLAG = """{{- if and (.Capabilities.APIVersions.Has "apps.openshift.io/v1") .Values.reloader.isOpenshift }}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reloader-openshift}
rules: [{apiGroups: [apps.openshift.io], resources: [deploymentconfigs], verbs: [get, list, watch]}]
{{- end }}
"""
DEAD_GATE = """{{- if .Capabilities.APIVersions.Has "policy.example.io/v1" }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata: {name: dead}
data: {k: v}
"""
BROKEN_WHEN_ADVERTISED = """{{- if .Capabilities.APIVersions.Has "cert-manager.io/v1" }}
apiVersion: v1
kind: ConfigMap
metadata: {name: broken}
data: {k: {{ .Values.missing.deeper | quote }}}
{{- end }}
"""


@pytest.fixture(scope="module")
def cap002_run(tmp_path_factory, policies, render_cache):
    from ..conftest import gate_config, run_gate
    root = tmp_path_factory.mktemp("cap002")
    charts = {"guarded": ("serviceMonitor: {enabled: false}\n", GUARDED_FAIL),
              "openshift": ("reloader: {isOpenshift: false}\n", OPENSHIFT_FLAG),
              "dead": ("", DEAD_GATE), "broken": ("", BROKEN_WHEN_ADVERTISED)}
    for name, (values, template) in charts.items():
        chart = root / "charts" / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
        (chart / "values.yaml").write_text(values)
        (chart / "templates" / "gated.yaml").write_text(template)
    (root / "overlays").mkdir()
    chosen = [p for p in policies if p.id in ("CAP-002", "RENDER-001")]
    return run_gate(gate_config(root, root / "charts", root / "overlays", cache=render_cache), chosen)


def cap002(run, chart):
    [result] = [r for r in run.gate.results if r.policy.id == "CAP-002" and r.chart == chart]
    return result


def test_a_gate_guarding_the_charts_own_fail_is_live(cap002_run):
    assert cap002(cap002_run, "guarded").outcome is Outcome.PASSED


def test_a_gate_combined_with_a_flag_the_plan_varies_is_live(cap002_run):
    assert cap002(cap002_run, "openshift").outcome is Outcome.PASSED
    factors = {f.name for f in cap002_run.gate.combination_plans["openshift"].factors}
    assert "reloader.isOpenshift" in factors  # a boolean tested with the gate is a plan factor


def test_a_dead_gate_is_still_found(cap002_run):
    result = cap002(cap002_run, "dead")
    assert result.outcome is Outcome.FAILED and "is dead" in result.findings[0].message


def test_a_gate_whose_scenarios_all_fail_to_render_is_not_called_dead(cap002_run):
    result = cap002(cap002_run, "broken")
    assert result.outcome is Outcome.SKIPPED and "cannot be judged" in result.message
    render = [r for r in cap002_run.gate.results if r.policy.id == "RENDER-001" and r.chart == "broken"]
    assert any(r.outcome is Outcome.FAILED for r in render)  # the render failure is reported, by RENDER-001
