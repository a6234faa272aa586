"""What counts as present for CAP-001 and OBS-004: CRDs the chart ships (crds/ of any chart in the
tree, or rendered from templates, served versions only) and API groups of the Blueprints declared in
blueprint.yaml `spec.depends` (mapping or plain-name form, aliases and `when` included)."""

from __future__ import annotations

from types import SimpleNamespace

from chartgate.discover.charts import _load_chart_dir
from chartgate.parse.manifests import _parse_render
from chartgate.discover.platform import Platform
from chartgate.lib.presence import declared_blueprints, presence, present_groups, provided_groups, shipped_crds
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import CHARTS

PLATFORM = Platform(blueprint_apis={"bp-cert-manager": ("cert-manager.io",),
                                    "bp-cilium": ("gateway.networking.k8s.io", "cilium.io"),
                                    "bp-postgres": ("postgresql.cnpg.io",)})

RENDERED_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget}
  versions: [{name: v1, served: true}, {name: v1alpha1, served: false}]
"""


def render_of(text: str) -> Render:
    return Render("c", Scenario("default", ScenarioKind.DEFAULT), "helm template", _parse_render(text, namespace="ns"))


def stub(depends) -> SimpleNamespace:
    return SimpleNamespace(name="bp-demo", blueprint={"spec": {"depends": depends}}, blueprint_path=None,
                           crd_documents=lambda: [])


def test_shipped_crds_cover_subchart_crds_dirs_and_rendered_crds():
    chart = _load_chart_dir(CHARTS / "bp-kserve")
    crds = shipped_crds(chart, render_of(RENDERED_CRD))
    assert crds[("serving.kserve.io", "ClusterServingRuntime")] >= {"v1alpha1"}  # charts/kserve/crds/
    assert ("serving.kserve.io", "ClusterStorageContainer") in crds
    assert crds[("example.io", "Widget")] == {"v1"}  # not-served versions do not count
    assert ("example.io", "Widget") not in shipped_crds(chart)  # rendered CRDs need the render


def test_mapping_form_depends_provide_their_groups():
    chart = stub([{"blueprint": "bp-cert-manager", "version": "^1"},
                  {"blueprint": "bp-postgres", "alias": "db", "when": "{{ .Values.db.enabled }}"}, "bp-cilium"])
    assert declared_blueprints(chart) == ["bp-cert-manager", "bp-postgres", "bp-cilium"]
    assert provided_groups(chart, PLATFORM) == {"cert-manager.io": "bp-cert-manager",
                                                "postgresql.cnpg.io": "bp-postgres",
                                                "gateway.networking.k8s.io": "bp-cilium", "cilium.io": "bp-cilium"}


def test_why_present_names_the_reason_per_kind_and_version():
    chart = _load_chart_dir(CHARTS / "bp-stunner")  # ships the Dataplane CRD; depends on bp-cilium
    present = presence(chart, PLATFORM, render_of(RENDERED_CRD))
    assert "ships the CRD for Dataplane.stunner.l7mp.io" in present.why_present("stunner.l7mp.io", "Dataplane", "v1")
    # The same group, another kind: the Dataplane CRD does not make a GatewayConfig safe.
    assert present.why_present("stunner.l7mp.io", "GatewayConfig", "v1") is None
    assert present.why_present("example.io", "Widget", "v1alpha1") is None  # version not served
    assert present.why_present("gateway.networking.k8s.io", "GatewayClass", "v1") == (
        "bp-cilium (declared in blueprint.yaml spec.depends) provides gateway.networking.k8s.io")
    assert present.why_present("monitoring.coreos.com", "ServiceMonitor", "v1") is None
    assert present.depends == ("bp-cilium",)


def test_present_groups_without_platform_or_blueprint():
    chart = _load_chart_dir(CHARTS / "bp-kserve")
    assert "serving.kserve.io" in present_groups(chart)  # CRDs need no platform file
    assert "cert-manager.io" not in present_groups(chart)  # groups of depends need blueprintApis
    assert "cert-manager.io" in present_groups(chart, PLATFORM)
    chart.blueprint = None
    assert present_groups(chart, PLATFORM) == {"serving.kserve.io"}
