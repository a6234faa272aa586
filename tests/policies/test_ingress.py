"""Istio-less ingress: the ING policies on hand-written renders, their applicability metadata, and
ING-005 on minimal charts rendered with the real Helm (an opt-out is never a finding)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chartgate.check.context import ScenarioContext
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.discover.platform import Platform
from chartgate.check.definition import NotApplicable
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import REPO

ing = load_policy_module(REPO / "policies" / "ingress.py")


def context(text: str, capabilities_text: str = "") -> ScenarioContext:
    scenario = Scenario("test", ScenarioKind.DEFAULT)
    render = Render("chart", scenario, "helm template chart", _parse_render(text, namespace="ns"))
    everything = Render("chart", scenario, "helm template chart", _parse_render(capabilities_text, namespace="ns"))
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


def test_istio_objects_and_injection_requests_anywhere():
    found = [m.split(":")[0] for m in messages(ing.no_istio, ISTIO)]
    assert found == ["$.apiVersion", "$.spec.template.metadata.labels['istio-injection']"]
    assert messages(ing.no_istio, GATEWAY % "cilium") == []


def pod_metadata(field: str, key: str, value: str) -> str:
    return f"""
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}, {field}: {{{key}: {value}}}}}
    spec: {{containers: [{{name: api, image: "api:1"}}]}}
"""


NAMESPACE = """
---
# Source: chart/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {%s: %s}}
"""


@pytest.mark.parametrize("text", [
    pod_metadata("annotations", "sidecar.istio.io/inject", '"false"'),
    pod_metadata("labels", "sidecar.istio.io/inject", '"false"'),
    pod_metadata("annotations", "sidecar.istio.io/inject", "false"),  # a YAML boolean, too
    NAMESPACE % ("istio-injection", "disabled"),
    NAMESPACE % ("istio.io/rev", '""'),
    pod_metadata("annotations", "traffic.sidecar.istio.io/excludeOutboundPorts", '"443"'),  # no request
], ids=["inject-false-annotation", "inject-false-label", "inject-false-boolean", "namespace-disabled",
        "empty-revision", "other-istio-annotation"])
def test_opting_out_of_istio_is_never_a_finding(text):
    assert messages(ing.no_istio, text) == []


@pytest.mark.parametrize("text, path, said", [
    (pod_metadata("annotations", "sidecar.istio.io/inject", '"true"'),
     "$.spec.template.metadata.annotations['sidecar.istio.io/inject']", "sidecar.istio.io/inject='true' asks for"),
    (pod_metadata("labels", "sidecar.istio.io/inject", "true"),
     "$.spec.template.metadata.labels['sidecar.istio.io/inject']", "sidecar.istio.io/inject=True asks for"),
    (NAMESPACE % ("istio-injection", "enabled"), "$.metadata.labels['istio-injection']",
     "istio-injection='enabled' asks for Istio sidecar injection"),
    (NAMESPACE % ("istio.io/rev", "canary"), "$.metadata.labels['istio.io/rev']", "istio.io/rev='canary' asks for"),
], ids=["inject-true-annotation", "inject-true-label", "namespace-enabled", "revision"])
def test_requesting_injection_is_a_finding(text, path, said):
    [finding] = messages(ing.no_istio, text)
    assert finding.startswith(path + ":") and said in finding


@pytest.mark.parametrize("api_version, kind", [
    ("networking.istio.io/v1", "Gateway"), ("security.istio.io/v1", "PeerAuthentication"),
    ("telemetry.istio.io/v1", "Telemetry"), ("install.istio.io/v1alpha1", "IstioOperator"),
])
def test_istio_api_objects_are_findings(api_version, kind):
    text = f"---\n# Source: chart/templates/x.yaml\napiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\n"
    [finding] = messages(ing.no_istio, text)
    assert finding.startswith("$.apiVersion:") and "is an Istio object" in finding


INGRESS = """
---
# Source: chart/templates/ingress.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, annotations: {%s}}
spec:
  %s
  rules: [{host: web.example.test}]
"""
INGRESS_CLASS = """
---
# Source: chart/templates/ingressclass.yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: mesh}
spec: {controller: %s}
"""


def test_the_istio_ingress_class_is_a_finding():
    [by_name] = messages(ing.no_istio, INGRESS % ("", "ingressClassName: istio"))
    assert by_name.startswith("$.spec.ingressClassName:")
    [by_annotation] = messages(ing.no_istio, INGRESS % ("kubernetes.io/ingress.class: istio", ""))
    assert by_annotation.startswith("$.metadata.annotations['kubernetes.io/ingress.class']:")
    [controller] = messages(ing.no_istio, INGRESS_CLASS % "istio.io/ingress-controller")
    assert controller.startswith("$.spec.controller:")
    assert messages(ing.no_istio, INGRESS % ("kubernetes.io/ingress.class: cilium", "ingressClassName: cilium")) == []
    assert messages(ing.no_istio, INGRESS_CLASS % "k8s.io/ingress-nginx") == []


def test_the_istio_gateway_class_is_ing_004s_finding_not_ing_005s():
    assert messages(ing.no_istio, GATEWAY % "istio") == []


# --- applicability metadata -----------------------------------------------------------------------

def test_ing_policies_are_blueprint_rules_and_declare_their_kinds():
    from chartgate.check.definition import policies_in
    declared = {p.id: ((p.profile, *p.requires), p.kinds, p.reference) for p in policies_in(ing)}
    assert declared == {
        "ING-001": (("blueprint",), ("KnativeServing",), "docs/policies.md#ing"),
        "ING-002": (("blueprint",), ("ConfigMap",), "docs/policies.md#ing"),
        "ING-003": (("blueprint",), ("ConfigMap",), "docs/policies.md#ing"),
        "ING-004": (("blueprint",), ("Gateway",), "docs/policies.md#ing"),
        "ING-005": (("blueprint",), (), "docs/policies.md#ing"),
    }


def test_a_render_without_the_declared_kind_is_skipped_by_the_engine():
    from chartgate.check.applicability import _missing_kinds
    render = context(GATEWAY_CLASS).manifests
    assert _missing_kinds(ing.knative_serving_is_istio_less, render) == "no KnativeServing rendered in this scenario"
    assert _missing_kinds(ing.gateways_use_known_class, render) == "no Gateway rendered in this scenario"
    # An Istio Gateway is a Gateway, but not a Gateway API one: ING-004 says so instead of passing.
    istio_gateway = "---\n# Source: c/t.yaml\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n"
    with pytest.raises(NotApplicable, match="not gateway.networking.k8s.io objects"):
        messages(ing.gateways_use_known_class, istio_gateway)
    with pytest.raises(NotApplicable):
        messages(ing.kserve_ingress_config, GATEWAY_CLASS)


# --- ING-005 on minimal charts rendered with the real Helm ----------------------------------------

BLUEPRINT = """apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata: {name: %s}
spec: {version: 0.1.0}
"""
POD_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{{ .Release.Name }}-api"
  annotations: {sidecar.istio.io/inject: %s}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api, sidecar.istio.io/inject: %s}
    spec: {containers: [{name: api, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: "{{ .Release.Name }}-apps", labels: {istio-injection: %s}}
"""
# Knative's qualified form of an ingress class, `<class>.ingress.networking.knative.dev` (issue 18).
KNATIVE_SERVING = """apiVersion: operator.knative.dev/v1beta1
kind: KnativeServing
metadata: {name: knative-serving}
spec:
  ingress: {istio: {enabled: false}, contour: {enabled: false}, kourier: {enabled: false}}
  config:
    network: {ingress-class: %s.ingress.networking.knative.dev}
"""
ING_CHARTS = {
    "bp-opts-out": (True, POD_TEMPLATE % ('"false"', '"false"', "disabled")),
    "bp-requests-istio": (True, POD_TEMPLATE % ('"true"', '"false"', "enabled")),
    "generic-requests-istio": (False, POD_TEMPLATE % ('"true"', '"true"', "enabled")),
    "bp-knative-qualified-class": (True, KNATIVE_SERVING % "cilium"),
    "bp-knative-kourier-class": (True, KNATIVE_SERVING % "kourier"),
}


@pytest.fixture(scope="module")
def ing_run(tmp_path_factory, policies, render_cache):
    from chartgate.engine.gate import Gate
    from ..conftest import gate_config
    tmp = tmp_path_factory.mktemp("ing-005")
    root = tmp / "charts"
    for name, (blueprint, template) in ING_CHARTS.items():
        (root / name / "templates").mkdir(parents=True)
        (root / name / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
        (root / name / "templates" / "workload.yaml").write_text(template)
        if blueprint:
            (root / name / "blueprint.yaml").write_text(BLUEPRINT % name)
    gate = Gate(gate_config(tmp, root, root / "no-overlays", cache=render_cache))
    checks = gate.planned_checks([p for p in policies if p.id in ("ING-001", "ING-005", "FQDN-002")])
    gate.prerender(checks)
    return [gate.evaluate(check) for check in checks]


def test_ing_005_with_the_real_helm(ing_run):
    from chartgate.check.definition import Outcome
    verdicts = {(r.chart, r.scenario): r for r in ing_run if r.policy.id == "ING-005"}
    opt_out = verdicts[("bp-opts-out", "default")]
    assert opt_out.outcome is Outcome.PASSED, opt_out.findings
    requests = verdicts[("bp-requests-istio", "default")]
    assert requests.outcome is Outcome.FAILED
    assert sorted(f.path for f in requests.findings) == ["$.metadata.annotations['sidecar.istio.io/inject']",
                                                         "$.metadata.labels['istio-injection']"]
    generic = verdicts[("generic-requests-istio", "default")]
    assert generic.outcome is Outcome.SKIPPED and "Blueprint-only rule" in generic.message


def test_knative_qualified_platform_class_is_accepted_by_ing_001_and_fqdn_002(ing_run):
    from chartgate.check.definition import Outcome
    verdicts = {(r.chart, r.policy.id): r for r in ing_run if r.scenario == "default"}
    for policy in ("ING-001", "FQDN-002"):
        good = verdicts[("bp-knative-qualified-class", policy)]
        assert good.outcome is Outcome.PASSED, (policy, good.message, [f.message for f in good.findings])
    other = verdicts[("bp-knative-kourier-class", "ING-001")]
    assert other.outcome is Outcome.FAILED  # another class, qualified alike, is still a finding
    assert [f.path for f in other.findings] == ["$.spec.config.network['ingress-class']"]
