"""Capabilities gating: API strings, built-in groups, and CAP-001's reading of presence (declared
Blueprints in the real `spec.depends` mapping form; shipped CRDs are tested in
tests/engine/test_presence.py). The differential rendering itself is proven by the cap-* mutants
(tests/policies/test_mutants.py)."""

from __future__ import annotations

import pytest

from chartgate.charts import load_chart_dir
from chartgate.context import ChartContext, ScenarioContext
from chartgate.loader import load_policy_module
from chartgate.manifests import parse_render
from chartgate.platform import Platform
from chartgate.policy import NotApplicable
from chartgate.render import Render
from chartgate.scenarios import Scenario, ScenarioKind

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
    chart = load_chart_dir(CHARTS / "bp-kserve")
    chart.blueprint = {**chart.blueprint, "spec": {**chart.blueprint["spec"], "depends": depends}}
    scenario = Scenario("default", ScenarioKind.DEFAULT)
    ctx = ChartContext(chart, [scenario], renderer=None, platform=PLATFORM, kube_versions=TARGETS)
    return ScenarioContext(ctx, scenario, Render("bp-kserve", scenario, "helm template",
                                                 parse_render(text, namespace="ns")))


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
    render = Render("c", scenario, "", parse_render(text, namespace="ns"))
    assert cap.renders_from(render, "c/templates/a.yaml")
    assert not cap.renders_from(render, "c/templates/b.yaml")
    assert cap.renders_from(render, "c/templates/_helpers.tpl")
