"""Capabilities gating helpers: API strings, built-in groups, shipped CRDs, declared Blueprints.
The differential rendering itself is proven by the cap-* mutants (tests/policies/test_mutants.py)."""

from __future__ import annotations

import pytest

from chartgate.charts import load_chart_dir
from chartgate.context import ChartContext
from chartgate.loader import load_policy_module
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


@pytest.mark.parametrize("blueprint, expected", [
    (None, []),
    ({"spec": {}}, []),
    ({"spec": {"depends": ["bp-cilium", "bp-cert-manager"]}}, ["bp-cilium", "bp-cert-manager"]),
    ({"spec": {"depends": [{"name": "bp-cilium"}, {"version": "1.0"}]}}, ["bp-cilium"]),
])
def test_declared_blueprints_accepts_names_and_mappings(blueprint, expected):
    assert cap.declared_blueprints(blueprint) == expected


def test_shipped_crds_cover_subchart_crds_dirs_and_rendered_crds():
    chart = load_chart_dir(CHARTS / "bp-kserve")
    ctx = ChartContext(chart, [], renderer=None)
    rendered_crd = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget}
  versions: [{name: v1, served: true}, {name: v1alpha1, served: false}]
"""
    from chartgate.manifests import parse_render
    render = Render("bp-kserve", Scenario("default", ScenarioKind.DEFAULT), "helm template",
                    parse_render(rendered_crd, namespace="ns"))
    crds = cap.shipped_crds(ctx, render)
    assert crds[("serving.kserve.io", "ClusterServingRuntime")] >= {"v1alpha1"}
    assert ("serving.kserve.io", "ClusterStorageContainer") in crds
    assert crds[("example.io", "Widget")] == {"v1"}  # not-served versions do not count


def test_gates_in_helpers_count_any_object_as_proof():
    scenario = Scenario("x", ScenarioKind.DEFAULT)
    from chartgate.manifests import parse_render
    text = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    render = Render("c", scenario, "", parse_render(text, namespace="ns"))
    assert cap.renders_from(render, "c/templates/a.yaml")
    assert not cap.renders_from(render, "c/templates/b.yaml")
    assert cap.renders_from(render, "c/templates/_helpers.tpl")
