"""Istio-less ingress: the ING policies on hand-written renders (no Helm)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chartgate.context import ScenarioContext
from chartgate.loader import load_policy_module
from chartgate.manifests import parse_render
from chartgate.platform import Platform
from chartgate.policy import NotApplicable
from chartgate.render import Render
from chartgate.scenarios import Scenario, ScenarioKind

from ..conftest import REPO

ing = load_policy_module(REPO / "policies" / "ingress.py")


def context(text: str, capabilities_text: str = "") -> ScenarioContext:
    scenario = Scenario("test", ScenarioKind.DEFAULT)
    render = Render("chart", scenario, "helm template chart", parse_render(text, namespace="ns"))
    everything = Render("chart", scenario, "helm template chart", parse_render(capabilities_text, namespace="ns"))
    chart_ctx = SimpleNamespace(name="chart", platform=Platform(ingress_class="cilium"),
                                try_render=lambda name: everything)
    return ScenarioContext(chart_ctx, scenario, render)


def messages(policy, text: str, capabilities_text: str = "") -> list[str]:
    return [f"{f.path}: {f.message}" for f in policy.check(context(text, capabilities_text))]


KNATIVE = """
---
# Source: chart/templates/knativeserving.yaml
apiVersion: operator.knative.dev/v1beta1
kind: KnativeServing
metadata: {name: knative-serving}
spec:
  ingress: {istio: {enabled: false}, contour: {enabled: false}, kourier: {enabled: %s}}
  config:
    network: {ingress-class: %s}
"""


def test_knative_serving_istio_less_with_the_platform_class_passes():
    assert messages(ing.knative_serving_is_istio_less, KNATIVE % ("false", "cilium")) == []


def test_knative_serving_with_kourier_or_another_class_fails():
    found = messages(ing.knative_serving_is_istio_less, KNATIVE % ("true", "kourier.ingress.networking.knative.dev"))
    assert [m.split(":")[0] for m in found] == ["$.spec.ingress.kourier.enabled",
                                                 "$.spec.config.network['ingress-class']"]


def test_istio_must_be_disabled_explicitly():
    text = KNATIVE.replace("istio: {enabled: false}, ", "") % ("false", "cilium")
    [finding] = messages(ing.knative_serving_is_istio_less, text)
    assert "the operator defaults to Istio" in finding


def kserve_config(ingress: dict | str, deploy: dict | str) -> str:
    def text(v):
        return json.dumps(v if isinstance(v, str) else json.dumps(v))
    return f"""
---
# Source: chart/charts/kserve/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {{name: inferenceservice-config}}
data:
  ingress: {text(ingress)}
  deploy: {text(deploy)}
"""


GOOD_INGRESS = {"enableGatewayApi": True, "disableIstioVirtualHost": True, "ingressClassName": "cilium"}


def test_kserve_config_as_rendered():
    good = kserve_config(GOOD_INGRESS, {"defaultDeploymentMode": "RawDeployment"})
    assert messages(ing.kserve_ingress_config, good) == []
    assert messages(ing.kserve_defaults_to_raw_deployment, good) == []
    istio = kserve_config({**GOOD_INGRESS, "disableIstioVirtualHost": False, "ingressClassName": "istio"},
                          {"defaultDeploymentMode": "Serverless"})
    assert len(messages(ing.kserve_ingress_config, istio)) == 2
    [serverless] = messages(ing.kserve_defaults_to_raw_deployment, istio)
    assert "defaultDeploymentMode='Serverless'" in serverless


def test_kserve_config_that_is_not_json_fails():
    [finding] = messages(ing.kserve_ingress_config, kserve_config("{not json", {}))
    assert "`ingress` is not valid JSON" in finding


GATEWAY = """
---
# Source: chart/templates/gateway.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec: {gatewayClassName: %s, listeners: []}
"""

GATEWAY_CLASS = """
---
# Source: chart/templates/gatewayclass.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: stunner-cilium}
spec: {controllerName: stunner.l7mp.io/gateway-operator}
"""


def test_gateway_classes():
    assert messages(ing.gateways_use_known_class, GATEWAY % "cilium") == []
    # The chart's own GatewayClass counts even when only the capabilities render has it.
    assert messages(ing.gateways_use_known_class, GATEWAY % "stunner-cilium", GATEWAY_CLASS) == []
    [finding] = messages(ing.gateways_use_known_class, GATEWAY % "istio")
    assert "gatewayClassName is 'istio'; the platform class is 'cilium'" in finding


def test_no_objects_means_not_applicable():
    for policy in (ing.knative_serving_is_istio_less, ing.kserve_ingress_config, ing.gateways_use_known_class):
        with pytest.raises(NotApplicable):
            messages(policy, GATEWAY_CLASS)


ISTIO = """
---
# Source: chart/templates/vs.yaml
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, annotations: {sidecar.istio.io/inject: "false"}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, istio-injection: enabled}}
    spec: {containers: [{name: api, image: "api:1"}]}
"""


def test_istio_objects_and_injection_markers_anywhere():
    found = [m.split(":")[0] for m in messages(ing.no_istio, ISTIO)]
    assert found == ["$.apiVersion", "$.metadata.annotations['sidecar.istio.io/inject']",
                     "$.spec.template.metadata.labels['istio-injection']"]
    assert messages(ing.no_istio, GATEWAY % "cilium") == []
