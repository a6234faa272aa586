"""Schemas: strict Kubernetes validation, CRD schema translation, API lifecycle facts, and the SCH
policies on hand-written renders (no Helm)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chartgate.lib import schemas
from chartgate.check.context import ScenarioContext
from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.check.definition import NotApplicable
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import REPO

policies = load_policy_module(REPO / "policies" / "schemas.py")

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "labels": {"app": "api"}},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}, "template": {
        "metadata": {"labels": {"app": "api"}},
        "spec": {"containers": [{"name": "api", "image": "api:1.0", "ports": [{"containerPort": 8080}],
                                 "resources": {"limits": {"cpu": 1, "memory": "64Mi"}}}]}}},
}


def with_change(body: dict, dotted: str, value) -> dict:
    """A deep copy of `body` with one field set (`spec.template.spec.containers.0.ports.0.containerPort`)."""
    import copy
    body = copy.deepcopy(body)
    node = body
    parts = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return body


# --- built-in schemas ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_a_valid_deployment_has_no_violations(version):
    assert schemas.validate_builtin(DEPLOYMENT, version) == []


def test_unknown_fields_are_reported_at_their_own_path():
    body = with_change(DEPLOYMENT, "spec.progressDeadline", 600)
    assert schemas.validate_builtin(body, "1.33") == [
        schemas.SchemaViolation("$.spec.progressDeadline", "unknown field 'progressDeadline'")]


def test_wrong_types_say_what_was_expected():
    body = with_change(DEPLOYMENT, "spec.template.spec.containers.0.ports.0.containerPort", "8080")
    [violation] = schemas.validate_builtin(body, "1.33")
    assert violation.path == "$.spec.template.spec.containers[0].ports[0].containerPort"
    assert violation.message == "'8080' is a string, expected integer"


def test_int_or_string_and_quantities_accept_both_forms():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}}
    assert schemas.validate_builtin(service, "1.30") == []
    [violation] = schemas.validate_builtin(with_change(service, "spec.ports.0.targetPort", ["http"]), "1.30")
    assert violation.message == "['http'] is a array, expected string or integer"


def test_no_schema_means_none_not_valid():
    assert schemas.validate_builtin({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler"},
                                    "1.33") is None
    assert not schemas.has_builtin_schema("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.30")
    assert schemas.has_builtin_schema("autoscaling/v2", "HorizontalPodAutoscaler", "1.30")
    assert schemas.has_builtin_schema("v1", "ConfigMap", "1.33")


def test_identical_bodies_are_validated_once():
    schemas.validate_builtin(DEPLOYMENT, "1.33")
    before = schemas._validate_builtin_cached.cache_info().hits
    schemas.validate_builtin(dict(DEPLOYMENT), "1.33")
    assert schemas._validate_builtin_cached.cache_info().hits == before + 1


# --- API lifecycle ---------------------------------------------------------------------------------

@pytest.mark.parametrize("api_version, kind, version, expected", [
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.25", "deprecated"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.30", "removed"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.30", "deprecated"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "1.33", "removed"),
    ("policy/v1beta1", "PodSecurityPolicy", "1.30", "removed"),
    ("extensions/v1beta1", "Ingress", "1.21", "deprecated"),
    ("v1", "Endpoints", "1.33", "deprecated"),
    ("v1", "Endpoints", "1.30", None),
    ("v1", "Service", "1.33", None),
    ("apps/v1", "Deployment", "1.33", None),
])
def test_lifecycle_facts(api_version, kind, version, expected):
    status = schemas.lifecycle(api_version, kind, version)
    assert (status[0] if status else None) == expected


# --- CRD schemas -----------------------------------------------------------------------------------

def test_openapi_translation_follows_the_api_server():
    translated = schemas.to_json_schema({
        "type": "object",
        "properties": {
            "port": {"x-kubernetes-int-or-string": True},
            "name": {"type": "string", "nullable": True},
            "count": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                         "x-kubernetes-preserve-unknown-fields": True},
        },
    }, root=True)
    assert translated["additionalProperties"] is False
    assert set(translated["properties"]) >= {"apiVersion", "kind", "metadata"}
    props = translated["properties"]
    assert props["port"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert props["name"]["type"] == ["string", "null"]
    assert props["count"] == {"type": "integer", "exclusiveMinimum": 0}
    assert "additionalProperties" not in props["free"]
    assert props["labels"]["additionalProperties"] == {"type": "string"}
    assert "metadata" in props["template"]["properties"]


DATAPLANE_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: dataplanes.example.io}
spec:
  group: example.io
  names: {kind: Dataplane, plural: dataplanes}
  scope: Cluster
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [image]
              properties:
                image: {type: string}
                hostNetwork: {type: boolean}
                resources: {type: object, x-kubernetes-preserve-unknown-fields: true}
    - name: v1alpha1
      served: false
      storage: false
"""


def dataplane(spec: str, api_version: str = "example.io/v1") -> str:
    return f"""
---
# Source: chart/templates/dataplane.yaml
apiVersion: {api_version}
kind: Dataplane
metadata: {{name: default}}
spec: {spec}
"""


def context(text: str, *, crds: str = "", kube_versions=("1.30", "1.33")) -> ScenarioContext:
    import yaml
    scenario = Scenario("test", ScenarioKind.DEFAULT)
    render = Render("chart", scenario, "helm template chart", _parse_render(text, namespace="apps"))
    shipped = [("chart/crds/crd.yaml", doc) for doc in yaml.safe_load_all(crds) if doc]
    chart = SimpleNamespace(digest=f"test-{hash(crds)}", crd_documents=lambda: shipped)
    return ScenarioContext(SimpleNamespace(chart=chart, kube_versions=kube_versions, name="chart"), scenario, render)


def findings(policy, text: str, **kw):
    return list(policy.check(context(text, **kw)))


def test_custom_resource_matching_its_crd_passes():
    text = dataplane("{image: 'stunnerd:1', hostNetwork: false, resources: {limits: {cpu: 1}}}")
    assert findings(policies.custom_resources_validate, text, crds=DATAPLANE_CRD) == []


def test_custom_resource_violations_name_field_and_crd():
    text = dataplane("{image: 'stunnerd:1', hostNetwork: 'false', hostnetwork: true}")
    found = findings(policies.custom_resources_validate, text, crds=DATAPLANE_CRD)
    assert [f.path for f in found] == ["$.spec.hostNetwork", "$.spec.hostnetwork"]
    assert found[0].resource.startswith("Dataplane/") and found[0].resource.endswith("/default")
    assert "expected boolean" in found[0].message and "chart/crds/crd.yaml" in found[0].message
    assert found[0].template == "chart/templates/dataplane.yaml"


def test_custom_resource_metadata_follows_object_meta():
    text = dataplane("{image: x}").replace("metadata: {name: default}", "metadata: {name: default, labels: [a]}")
    [finding] = findings(policies.custom_resources_validate, text, crds=DATAPLANE_CRD)
    assert finding.path == "$.metadata.labels"


def test_unserved_crd_version_is_reported():
    [finding] = findings(policies.custom_resources_validate, dataplane("{image: x}", "example.io/v1alpha1"),
                         crds=DATAPLANE_CRD)
    assert finding.path == "$.apiVersion" and "serves" in finding.message and "v1" in finding.message


def test_crds_rendered_in_templates_count_too():
    text = "---\n" + DATAPLANE_CRD + dataplane("{image: 7}")
    [finding] = findings(policies.custom_resources_validate, text)
    assert finding.path == "$.spec.image"


def test_custom_resources_without_shipped_crd_are_not_judged():
    with pytest.raises(NotApplicable):
        findings(policies.custom_resources_validate, dataplane("{image: 7}"))


# --- SCH policies ----------------------------------------------------------------------------------

HPA = """
---
# Source: chart/templates/hpa.yaml
apiVersion: {api_version}
kind: HorizontalPodAutoscaler
metadata: {{name: api}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: 1
  maxReplicas: 3
"""


def test_removed_api_is_sch003_only():
    text = HPA.format(api_version="autoscaling/v2beta2")
    [finding] = findings(policies.no_removed_apis, text)
    assert finding.path == "$.apiVersion" and finding.resource == "HorizontalPodAutoscaler/apps/api"
    assert "Kubernetes 1.30 and 1.33 do not serve autoscaling/v2beta2" in finding.message
    assert "use autoscaling/v2" in finding.message
    assert findings(policies.builtin_objects_validate, text) == []  # not validated twice
    assert findings(policies.no_deprecated_apis, text) == []


def test_deprecated_then_removed_api_is_a_warning_and_an_error():
    text = """
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: {name: ops}
spec:
  priorityLevelConfiguration: {name: workload-low}
"""
    [warning] = findings(policies.no_deprecated_apis, text)
    assert "deprecated in Kubernetes 1.30" in warning.message
    assert policies.no_deprecated_apis.severity.value == "warning"
    [error] = findings(policies.no_removed_apis, text)
    assert error.message.startswith("Kubernetes 1.33 does not serve")
    assert findings(policies.builtin_objects_validate, text) == []  # valid against the 1.30 schema


def test_unknown_versions_of_builtin_groups_are_not_served():
    [finding] = findings(policies.no_removed_apis, HPA.format(api_version="autoscaling/v3"))
    assert "not in its OpenAPI schema" in finding.message


def test_builtin_violations_merge_target_versions():
    text = HPA.format(api_version="autoscaling/v2").replace("minReplicas: 1", "minReplicas: one")
    [finding] = findings(policies.builtin_objects_validate, text)
    assert finding.path == "$.spec.minReplicas" and "Kubernetes 1.30 and 1.33" in finding.message
    assert finding.template == "chart/templates/hpa.yaml"
