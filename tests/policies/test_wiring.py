"""Resource wiring: label selectors, pod templates, and the WIR policies on hand-written renders
(no Helm: each case is a few YAML documents parsed the way a render is)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chartgate.check.loader import load_policy_module
from chartgate.parse.manifests import _parse_render
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind
from chartgate.check.context import ScenarioContext
from chartgate.check.definition import NotApplicable
from chartgate.lib.selectors import describe, is_empty, matches, matches_labels, pod_templates

from ..conftest import REPO

wiring = load_policy_module(REPO / "policies" / "wiring.py")
NAMESPACE = "apps"


def context(text: str, values: dict | None = None) -> ScenarioContext:
    """A scenario context over `text` as if Helm had rendered it into namespace `apps` with `values`."""
    scenario = Scenario("test", ScenarioKind.DEFAULT)
    render = Render("chart", scenario, "helm template chart", _parse_render(text, namespace=NAMESPACE))
    renderer = SimpleNamespace(request=lambda chart, scenario: SimpleNamespace(namespace=NAMESPACE))
    chart_ctx = SimpleNamespace(chart=None, renderer=renderer, kube_versions=("1.30", "1.33"), name="chart",
                                values_for=lambda scenario: values or {})
    return ScenarioContext(chart_ctx, scenario, render)


def findings(policy, text: str, values: dict | None = None):
    return list(policy.check(context(text, values)))


DEPLOYMENT = """
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, tier: web}}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: api:1.0
          ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
"""

SERVICE = """
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: api, labels: {app: api}}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090, targetPort: metrics}]
"""


# --- selectors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("selector, labels, expected", [
    ({}, {"a": "1"}, True),
    (None, {"a": "1"}, False),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"}, False),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Like", "values": ["1"]}]}, {"a": "1"}, False),
])
def test_label_selector_semantics(selector, labels, expected):
    assert matches(selector, labels) is expected


def test_plain_selector_map_and_descriptions():
    assert matches_labels({"app": "api"}, {"app": "api", "x": "y"})
    assert not matches_labels({"app": "api"}, {})
    assert matches_labels({}, {})  # no terms: the caller decides whether that means "exempt"
    assert is_empty({}) and not is_empty(None) and not is_empty({"matchLabels": {"a": "b"}})
    assert describe({"matchLabels": {"a": "1"}, "matchExpressions": [
        {"key": "b", "operator": "NotIn", "values": ["x", "y"]}, {"key": "c", "operator": "DoesNotExist"}]}) \
        == "a=1,b notin (x,y),!c"


def test_pod_templates_of_every_workload_shape():
    text = DEPLOYMENT + """
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: jobs}
spec:
  schedule: "@daily"
  jobTemplate: {spec: {template: {metadata: {labels: {app: nightly}}, spec: {containers: []}}}}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, labels: {app: debug}}
spec: {containers: [{name: c, image: busybox:1, ports: [{containerPort: 1}]}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-workload}
"""
    templates = pod_templates(_parse_render(text, namespace=NAMESPACE))
    assert [(t.owner.kind, t.path, t.labels["app"]) for t in templates] == [
        ("Deployment", "$.spec.template", "api"),
        ("CronJob", "$.spec.jobTemplate.spec.template", "nightly"),
        ("Pod", "$", "debug"),
    ]
    assert [t.owner.name for t in pod_templates(_parse_render(text, namespace=NAMESPACE), "jobs")] == ["nightly"]
    assert [p["name"] for p in templates[0].container_ports()] == ["http", "metrics"]


# --- WIR-001 ---------------------------------------------------------------------------------------

SERVICE_MONITOR = """
---
# Source: chart/templates/servicemonitor.yaml
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  endpoints: [{port: metrics}]
"""


def test_service_monitor_wired_to_its_service_passes():
    assert findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + SERVICE_MONITOR) == []


def test_service_monitor_scraping_an_unnamed_port_fails_at_the_endpoint():
    broken = SERVICE_MONITOR.replace("port: metrics", "port: http-metrics")
    [finding] = findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + broken)
    assert finding.resource == "ServiceMonitor/apps/api"
    assert finding.template == "chart/templates/servicemonitor.yaml"
    assert finding.path == "$.spec.endpoints[0].port"
    assert "'http-metrics'" in finding.message and "['http', 'metrics']" in finding.message


def test_service_monitor_looks_only_in_the_selected_namespaces():
    elsewhere = SERVICE_MONITOR.replace("spec:\n", "spec:\n  namespaceSelector: {matchNames: [other]}\n", 1)
    [finding] = findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + elsewhere)
    assert finding.path == "$.spec.selector" and "namespace other" in finding.message
    anywhere = SERVICE_MONITOR.replace("spec:\n", "spec:\n  namespaceSelector: {any: true}\n", 1)
    assert findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + anywhere) == []


def test_service_monitor_target_port_may_name_a_container_port():
    by_number = SERVICE_MONITOR.replace("[{port: metrics}]", "[{targetPort: 9090}]")
    assert findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + by_number) == []
    wrong = SERVICE_MONITOR.replace("[{port: metrics}]", "[{targetPort: 9999}]")
    [finding] = findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE + wrong)
    assert finding.path == "$.spec.endpoints[0].targetPort"


def test_pod_monitor_needs_a_named_container_port():
    pod_monitor = """
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: api}
spec:
  selector: {matchExpressions: [{key: tier, operator: In, values: [web]}]}
  podMetricsEndpoints: [{port: metrics}, {port: prom}]
"""
    [finding] = findings(wiring.monitors_find_their_targets, DEPLOYMENT + pod_monitor)
    assert finding.path == "$.spec.podMetricsEndpoints[1].port"


def test_no_monitor_means_not_applicable():
    with pytest.raises(NotApplicable):
        findings(wiring.monitors_find_their_targets, DEPLOYMENT + SERVICE)


# --- WIR-002 ---------------------------------------------------------------------------------------

HPA = """
---
# Source: chart/templates/hpa.yaml
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 3
"""


def test_hpa_targeting_a_rendered_deployment_passes():
    assert findings(wiring.hpa_targets_exist, DEPLOYMENT + HPA) == []


@pytest.mark.parametrize("edit, path", [
    (("name: api}", "name: api-server}"), "$.spec.scaleTargetRef.name"),
    (("kind: Deployment, name", "kind: StatefulSet, name"), "$.spec.scaleTargetRef.name"),
    (("apiVersion: apps/v1, kind", "apiVersion: extensions/v1beta1, kind"), "$.spec.scaleTargetRef.name"),
])
def test_hpa_targeting_anything_else_fails(edit, path):
    [finding] = findings(wiring.hpa_targets_exist, DEPLOYMENT + HPA.replace(*edit))
    assert finding.path == path and "Deployment/api" in finding.message


def test_hpa_in_another_namespace_does_not_see_the_deployment():
    other = HPA.replace("metadata: {name: api}", "metadata: {name: api, namespace: other}")
    [finding] = findings(wiring.hpa_targets_exist, DEPLOYMENT + other)
    assert "namespace other" in finding.message


def test_hpa_cannot_scale_a_service():
    target = HPA.replace("apiVersion: apps/v1, kind: Deployment", "apiVersion: v1, kind: Service")
    [finding] = findings(wiring.hpa_targets_exist, DEPLOYMENT + SERVICE + target)
    assert finding.path == "$.spec.scaleTargetRef.kind"


# --- WIR-003 ---------------------------------------------------------------------------------------

NETPOL = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
"""


def test_network_policy_selecting_rendered_pods_passes():
    assert findings(wiring.network_policies_select_pods, DEPLOYMENT + NETPOL) == []


def test_network_policy_selecting_no_pod_fails():
    [finding] = findings(wiring.network_policies_select_pods, DEPLOYMENT + NETPOL.replace("app: api", "app: apx"))
    assert finding.path == "$.spec.podSelector" and "Deployment" not in finding.resource
    assert "workloads there: api" in finding.message


def test_empty_pod_selector_is_namespace_wide_by_design_and_leaves_nothing_to_judge():
    # Not a silent pass: with nothing to match, the rule says so (skipped, with the reason).
    with pytest.raises(NotApplicable, match="selects the whole namespace"):
        findings(wiring.network_policies_select_pods, NETPOL.replace("{matchLabels: {app: api}}", "{}"))


# --- WIR-004 ---------------------------------------------------------------------------------------

def test_service_selecting_its_pods_passes():
    assert findings(wiring.services_select_pods, DEPLOYMENT + SERVICE) == []


def test_service_selecting_no_pod_fails():
    [finding] = findings(wiring.services_select_pods, DEPLOYMENT + SERVICE.replace("{app: api}\n", "{app: web}\n"))
    assert finding.resource == "Service/apps/api" and finding.path == "$.spec.selector"


def test_service_named_target_port_must_be_declared():
    renamed = SERVICE.replace("targetPort: http}", "targetPort: web}")
    [finding] = findings(wiring.services_select_pods, DEPLOYMENT + renamed)
    assert finding.path == "$.spec.ports[0].targetPort"


def test_services_without_selector_are_exempt():
    headless = SERVICE.replace("  selector: {app: api}\n", "")
    external = SERVICE.replace("  selector: {app: api}\n", "  type: ExternalName\n  externalName: db.example\n"
                               "  selector: {app: nothing}\n")
    with pytest.raises(NotApplicable, match="no rendered Service has a selector"):
        findings(wiring.services_select_pods, headless + external.replace("name: api,", "name: db,"))
    # ... and beside a Service that has one, they are simply not judged.
    assert findings(wiring.services_select_pods, DEPLOYMENT + SERVICE + headless.replace("name: api,", "name: hl,")) == []


# --- WIR-005 ---------------------------------------------------------------------------------------

RBAC = """
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: leader-election}
---
# Source: chart/templates/rbac.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: leader-election}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader-election}
subjects: [{kind: ServiceAccount, name: api, namespace: apps}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: api-auth-delegator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: api, namespace: apps}, {kind: ServiceAccount, name: x, namespace: kube-system},
           {kind: Group, name: "system:authenticated"}]
"""


def test_bindings_to_rendered_and_builtin_roles_pass():
    assert findings(wiring.bindings_resolve, RBAC) == []


def test_binding_to_a_missing_role_fails_at_role_ref():
    [finding] = findings(wiring.bindings_resolve, RBAC.replace("kind: Role, name: leader-election",
                                                               "kind: Role, name: leader"))
    assert finding.resource == "RoleBinding/apps/leader-election" and finding.path == "$.roleRef.name"
    assert finding.template == "chart/templates/rbac.yaml"


def test_role_in_another_namespace_does_not_count():
    moved = RBAC.replace("metadata: {name: leader-election}\n---\n# Source",
                         "metadata: {name: leader-election, namespace: other}\n---\n# Source")
    [finding] = findings(wiring.bindings_resolve, moved)
    assert "namespace apps" in finding.message


def test_cluster_role_must_be_rendered_or_builtin():
    [finding] = findings(wiring.bindings_resolve, RBAC.replace('"system:auth-delegator"', "api-reader"))
    assert finding.resource == "ClusterRoleBinding/-/api-auth-delegator" and finding.path == "$.roleRef.name"
    assert findings(wiring.bindings_resolve, RBAC.replace('"system:auth-delegator"', "view")) == []


def test_service_account_subject_in_the_release_namespace_must_be_rendered():
    renamed = RBAC.replace("kind: ServiceAccount\nmetadata: {name: api}", "kind: ServiceAccount\nmetadata: {name: apx}")
    found = findings(wiring.bindings_resolve, renamed)
    assert [(f.resource, f.path) for f in found] == [("RoleBinding/apps/leader-election", "$.subjects[0].name"),
                                                     ("ClusterRoleBinding/-/api-auth-delegator", "$.subjects[0].name")]
    assert "ServiceAccount apps/api" in found[0].message and "ServiceAccounts: apx" in found[0].message


def test_builtin_roles_and_the_default_service_account_always_exist():
    text = """
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: default, namespace: apps}]
"""
    assert findings(wiring.bindings_resolve, text) == []
    [finding] = findings(wiring.bindings_resolve, text.replace("namespace: kube-system", "namespace: apps"))
    assert finding.path == "$.roleRef.name"


def test_an_account_a_create_false_block_leaves_to_the_user_is_not_dangling():
    renamed = RBAC.replace("kind: ServiceAccount\nmetadata: {name: api}", "kind: ServiceAccount\nmetadata: {name: apx}")
    assert findings(wiring.bindings_resolve, renamed, {"serviceAccount": {"create": False, "name": "api"}}) == []
    assert findings(wiring.bindings_resolve, renamed, {"serviceAccount": {"create": False, "name": ""}}) == []
    # another block creates `api` itself: its binding must resolve, whatever the user supplies elsewhere
    blocks = {"controller": {"serviceAccount": {"create": True, "name": "api"}},
              "webhook": {"serviceAccount": {"create": False}}}
    assert len(findings(wiring.bindings_resolve, renamed, blocks)) == 2
    assert len(findings(wiring.bindings_resolve, renamed, {"serviceAccount": {"create": True}})) == 2
    [finding] = findings(wiring.bindings_resolve, renamed)[:1]
    assert finding.key == "subject ServiceAccount apps/api"


STATEFULSET = """
---
# Source: chart/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: db:1.0, ports: [{name: sql, containerPort: 5432}]}]
"""


@pytest.mark.parametrize("selector, selects", [
    ("{app: db, statefulset.kubernetes.io/pod-name: db-0}", True),
    ("{statefulset.kubernetes.io/pod-name: db-12}", True),
    ("{apps.kubernetes.io/pod-index: '1'}", True),
    ("{app: db, controller-revision-hash: db-5d9c7b}", True),
    ("{statefulset.kubernetes.io/pod-name: other-0}", False),  # another StatefulSet's pod
    ("{statefulset.kubernetes.io/pod-name: db}", False),  # not an ordinal
    ("{app: db, pod-template-hash: 5d9c7b}", False),  # a Deployment's label, not a StatefulSet's
    ("{app: web, statefulset.kubernetes.io/pod-name: db-0}", False),
])
def test_labels_a_controller_adds_at_run_time_select_its_pods(selector, selects):
    service = f"""
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {{name: db-0}}
spec:
  selector: {selector}
  ports: [{{port: 5432, targetPort: sql}}]
"""
    found = findings(wiring.services_select_pods, STATEFULSET + service)
    assert (found == []) is selects, [f.message for f in found]
    if not selects:
        assert found[0].key == "selector"
