"""The SEC security-posture pack: the effective securityContext merge, which objects hold pod specs,
each rule on hand-written renders (no Helm) across several scenarios, and a `helm create` chart
generated at test time with the real Helm binary (precision: no error-severity finding)."""

from __future__ import annotations

import copy
import subprocess
from types import SimpleNamespace

import pytest

from chartgate.lib import podspec
from chartgate.check.loader import load_policies, load_policy_module
from chartgate.parse.manifests import build_manifests
from chartgate.check.definition import NotApplicable, Outcome, Severity
from chartgate.lib.podspec import effective_security_context, pod_spec
from chartgate.render.renderer import Render
from chartgate.plan.scenarios import Scenario, ScenarioKind

from ..conftest import REPO, gate_config, run_gate

pods = load_policy_module(REPO / "policies" / "security_pods.py")
resources = load_policy_module(REPO / "policies" / "security_resources.py")
rbac = load_policy_module(REPO / "policies" / "security_rbac.py")

SOURCE = "demo/templates/workload.yaml"


# --- the effective securityContext -----------------------------------------------------------------


def test_container_inherits_the_pods_fields_and_its_own_win():
    pod = {"securityContext": {"runAsUser": 1000, "runAsNonRoot": True, "fsGroup": 2000,
                               "supplementalGroups": [3000], "seccompProfile": {"type": "RuntimeDefault"},
                               "seLinuxOptions": {"level": "s0:c1", "user": "u"}}}
    container = {"securityContext": {"runAsUser": 0, "readOnlyRootFilesystem": True,
                                     "seLinuxOptions": {"level": "s0:c2"}}}
    assert effective_security_context(pod, container) == {
        "runAsUser": 0,  # the container's own value wins
        "runAsNonRoot": True,  # inherited
        "seccompProfile": {"type": "RuntimeDefault"},
        "seLinuxOptions": {"level": "s0:c2"},  # replaced whole, not merged key by key
        "readOnlyRootFilesystem": True,  # container-only field
    }  # fsGroup and supplementalGroups are pod-only: never part of a container's context


@pytest.mark.parametrize("pod, container, expected", [
    ({}, {}, {}),
    ({"securityContext": None}, {"securityContext": None}, {}),
    ({"securityContext": {"runAsNonRoot": True}}, {}, {"runAsNonRoot": True}),
    ({"securityContext": {"runAsNonRoot": True}}, {"securityContext": {"runAsNonRoot": False}},
     {"runAsNonRoot": False}),
    ({"securityContext": {"runAsUser": 5}}, {"securityContext": {"runAsUser": None}}, {"runAsUser": 5}),
    ({"securityContext": {"sysctls": [{"name": "x", "value": "1"}]}}, {"securityContext": {"privileged": True}},
     {"privileged": True}),
])
def test_effective_security_context_cases(pod, container, expected):
    assert effective_security_context(pod, container) == expected


# --- where pod specs live -------------------------------------------------------------------------

CONTAINER = {"name": "app", "image": "app:1.0"}


def manifest(kind, body_spec, *, api_version="apps/v1", name="demo", source=SOURCE, namespace="demo", **extra):
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **extra.pop("metadata", {})},
            **body_spec, **extra}
    return build_manifests([(source, body)], namespace=namespace)[0]


def template(spec):
    return {"spec": {"template": {"metadata": {"labels": {"app": "demo"}}, "spec": spec}}}


@pytest.mark.parametrize("kind, api_version, body, path", [
    ("Deployment", "apps/v1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
    ("StatefulSet", "apps/v1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
    ("DaemonSet", "apps/v1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
    ("ReplicaSet", "apps/v1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
    ("Job", "batch/v1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
    ("CronJob", "batch/v1", {"spec": {"jobTemplate": template({"containers": [CONTAINER]})}},
     "$.spec.jobTemplate.spec.template.spec"),
    ("Pod", "v1", {"spec": {"containers": [CONTAINER]}}, "$.spec"),
    ("PodTemplate", "v1", {"template": {"spec": {"containers": [CONTAINER]}}}, "$.template.spec"),
    ("Rollout", "argoproj.io/v1alpha1", template({"containers": [CONTAINER]}), "$.spec.template.spec"),
])
def test_pod_specs_of_every_workload_kind(kind, api_version, body, path):
    found = pod_spec(manifest(kind, body, api_version=api_version))
    assert found is not None and found.path == path
    assert [c.path for c in found.containers] == [f"{path}.containers[0]"]
    assert found.custom is (kind == "Rollout")


@pytest.mark.parametrize("kind, api_version, body", [
    # a custom resource that lists containers as partial overrides is not a pod template
    ("ClusterServingRuntime", "serving.kserve.io/v1alpha1", {"spec": {"containers": [CONTAINER]}}),
    # a custom resource whose spec.template holds something else
    ("Widget", "example.com/v1", {"spec": {"template": {"spec": {"replicas": 3}}}}),
    ("ConfigMap", "v1", {"data": {"template": "x"}}),
])
def test_objects_without_an_unambiguous_pod_template(kind, api_version, body):
    assert pod_spec(manifest(kind, body, api_version=api_version)) is None


def test_every_container_list_is_judged_with_its_own_path():
    spec = pod_spec(manifest("Deployment", template({
        "initContainers": [{"name": "init"}, {"name": "sidecar", "restartPolicy": "Always"}],
        "containers": [{"name": "main"}],
        "ephemeralContainers": [{"name": "debug"}]})))
    assert [(c.label, c.path, c.runs_alongside) for c in spec.containers] == [
        ("init container 'init'", "$.spec.template.spec.initContainers[0]", False),
        ("init container 'sidecar'", "$.spec.template.spec.initContainers[1]", True),
        ("container 'main'", "$.spec.template.spec.containers[0]", True),
        ("ephemeral container 'debug'", "$.spec.template.spec.ephemeralContainers[0]", False)]


# --- a chart context over hand-written renders ------------------------------------------------------

HARDENED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}
RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
PROBES = {"readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}


def good_container(name="app", **changes):
    container = {"name": name, "image": "app:1.0", "securityContext": copy.deepcopy(HARDENED),
                 "resources": copy.deepcopy(RESOURCES), **copy.deepcopy(PROBES)}
    for key, value in changes.items():
        if key.startswith("sc_"):
            container["securityContext"][key[3:]] = value
        elif value is None:
            container.pop(key, None)
        else:
            container[key] = value
    return container


def deployment(name="demo", containers=None, kind="Deployment", api_version="apps/v1", **pod):
    spec = {"serviceAccountName": "demo", "containers": containers or [good_container()], **pod}
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **template(spec)}


def chart_context(renders: dict[str, list[dict]], crds: list | None = None):
    """A chart context whose planned scenarios render the given object bodies (one list per scenario)."""
    scenarios = [Scenario(name, ScenarioKind.DEFAULT) for name in renders]
    by_name = {s.name: Render("demo", s, "helm template",
                              build_manifests([(SOURCE, copy.deepcopy(b)) for b in renders[s.name]], namespace="demo"))
               for s in scenarios}
    return SimpleNamespace(name="demo", scenarios=scenarios, try_render=lambda scenario: by_name[scenario.name],
                           chart=SimpleNamespace(crd_documents=lambda: [("demo/crds/x.yaml", c) for c in crds or []]))


def findings(rule, renders, **kw):
    return list(rule.check(chart_context(renders, **kw)))


def messages(rule, renders, **kw):
    return [f.message for f in findings(rule, renders, **kw)]


CONTAINER_RULES = [pods.no_privileged_containers, pods.no_privilege_escalation, pods.no_dangerous_capabilities,
                   pods.drop_all_capabilities, pods.no_root_uid, pods.runs_as_non_root,
                   pods.read_only_root_filesystem, pods.no_host_namespaces, pods.no_host_path_volumes,
                   resources.requests_set, resources.memory_limit_set, resources.probes_set]


@pytest.mark.parametrize("rule", CONTAINER_RULES, ids=lambda p: p.id)
def test_a_hardened_workload_passes_every_container_rule(rule):
    assert findings(rule, {"default": [deployment()]}) == []


@pytest.mark.parametrize("rule", CONTAINER_RULES, ids=lambda p: p.id)
def test_nothing_to_judge_is_skipped_not_passed(rule):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    with pytest.raises(NotApplicable):
        findings(rule, {"default": [config]})


def test_a_defect_in_one_scenario_is_one_finding_naming_that_scenario():
    debug = deployment(containers=[good_container(sc_privileged=True, sc_allowPrivilegeEscalation=None)])
    renders = {"default": [deployment()], "on.metrics": [deployment()], "ci.debug": [debug], "plan.001": [debug]}
    [finding] = findings(pods.no_privileged_containers, renders)
    assert (finding.resource, finding.template, finding.path) == (
        "Deployment/demo/demo", SOURCE, "$.spec.template.spec.containers[0].securityContext.privileged")
    assert finding.message.startswith(
        "container 'app' runs privileged (privileged: true) (scenarios ci.debug, plan.001).")
    assert 'add a waiver with a reason (policy: SEC-001, chart: demo, resource: "Deployment/demo/demo")' \
        in finding.message


def test_a_defect_in_every_scenario_is_one_finding():
    bare = deployment(containers=[good_container(securityContext=None)])
    renders = {name: [bare] for name in ("default", "capabilities", "on.a", "on.b", "plan.001")}
    for rule in (pods.no_privilege_escalation, pods.drop_all_capabilities, pods.runs_as_non_root,
                 pods.read_only_root_filesystem):
        [finding] = findings(rule, renders)
        assert "(all 5 scenarios)" in finding.message, rule.id


def test_init_and_ephemeral_containers_are_judged():
    spec = deployment(containers=[good_container()],
                      initContainers=[good_container("init", sc_privileged=True, sc_allowPrivilegeEscalation=None)],
                      ephemeralContainers=[good_container("debug", sc_capabilities={"drop": ["ALL"],
                                                                                    "add": ["SYS_PTRACE"]})])
    assert [f.path for f in findings(pods.no_privileged_containers, {"default": [spec]})] == [
        "$.spec.template.spec.initContainers[0].securityContext.privileged"]
    [finding] = findings(pods.no_dangerous_capabilities, {"default": [spec]})
    assert finding.message.startswith("ephemeral container 'debug' adds SYS_PTRACE (beyond the Pod Security")


def test_pod_level_settings_are_inherited_and_overridden():
    pod_level = {"runAsNonRoot": True, "runAsUser": 1000}
    inherits = deployment(containers=[good_container(sc_runAsNonRoot=None)], securityContext=pod_level)
    assert findings(pods.runs_as_non_root, {"default": [inherits]}) == []
    root_from_pod = deployment(containers=[good_container(sc_runAsNonRoot=None)], securityContext={"runAsUser": 0})
    [finding] = findings(pods.no_root_uid, {"default": [root_from_pod]})
    assert finding.path == "$.spec.template.spec.securityContext.runAsUser"  # where the 0 comes from
    overrides = deployment(containers=[good_container(sc_runAsNonRoot=False)], securityContext=pod_level)
    assert findings(pods.runs_as_non_root, {"default": [overrides]}) == []  # a non-zero UID is still pinned
    opts_out = deployment(containers=[good_container(sc_runAsNonRoot=False)], securityContext={"runAsNonRoot": True})
    [finding] = findings(pods.runs_as_non_root, {"default": [opts_out]})
    assert finding.path == "$.spec.template.spec.containers[0].securityContext.runAsNonRoot"
    assert "sets runAsNonRoot: false and no runAsUser" in finding.message


def test_explicit_root_is_sec_005_not_sec_006():
    root = deployment(containers=[good_container(sc_runAsNonRoot=None, sc_runAsUser=0)])
    assert len(findings(pods.no_root_uid, {"default": [root]})) == 1
    assert findings(pods.runs_as_non_root, {"default": [root]}) == []


def test_privileged_is_reported_once_not_as_escalation_or_capabilities_too():
    privileged = deployment(containers=[good_container(sc_privileged=True, sc_allowPrivilegeEscalation=None,
                                                       sc_capabilities={"add": ["SYS_ADMIN"]})])
    assert len(findings(pods.no_privileged_containers, {"default": [privileged]})) == 1
    for rule in (pods.no_privilege_escalation, pods.no_dangerous_capabilities, pods.drop_all_capabilities):
        assert findings(rule, {"default": [privileged]}) == [], rule.id


def test_allow_privilege_escalation_unset_and_true():
    unset = deployment(containers=[good_container(sc_allowPrivilegeEscalation=None)])
    explicit = deployment(containers=[good_container(sc_allowPrivilegeEscalation=True)])
    assert "does not set allowPrivilegeEscalation: false (Kubernetes defaults it to true)" in \
        messages(pods.no_privilege_escalation, {"default": [unset]})[0]
    assert "allows privilege escalation (allowPrivilegeEscalation: true)" in \
        messages(pods.no_privilege_escalation, {"default": [explicit]})[0]


def test_windows_pods_are_not_judged_on_linux_settings():
    windows = deployment(containers=[{"name": "app", "image": "app:1.0", "resources": RESOURCES, **PROBES}],
                         os={"name": "windows"})
    for rule in (pods.no_privilege_escalation, pods.drop_all_capabilities, pods.runs_as_non_root,
                 pods.read_only_root_filesystem, pods.no_root_uid):
        assert findings(rule, {"default": [windows]}) == [], rule.id
    host_process = deployment(containers=[good_container(sc_windowsOptions={"hostProcess": True})],
                              os={"name": "windows"})
    assert "Windows HostProcess container" in messages(pods.no_privileged_containers, {"default": [host_process]})[0]


# --- mainstream charts, judged fairly -----------------------------------------------------------


def ingress_controller():
    """The shape of a popular ingress controller: binds :80/:443 as UID 101 with NET_BIND_SERVICE."""
    container = good_container("controller", sc_runAsUser=101, sc_readOnlyRootFilesystem=False,
                               sc_capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_CHROOT"]})
    return deployment("ingress-nginx-controller", containers=[container])


def node_exporter():
    """The shape of a node exporter: host network and PID namespaces, the node's /proc, /sys and /."""
    container = good_container("node-exporter", sc_runAsUser=65534, volumeMounts=[
        {"name": "proc", "mountPath": "/host/proc", "readOnly": True},
        {"name": "sys", "mountPath": "/host/sys", "readOnly": True},
        {"name": "root", "mountPath": "/host/root", "readOnly": True, "mountPropagation": "HostToContainer"}])
    return deployment("node-exporter", containers=[container], kind="DaemonSet", hostNetwork=True, hostPID=True,
                      volumes=[{"name": "proc", "hostPath": {"path": "/proc"}},
                               {"name": "sys", "hostPath": {"path": "/sys"}},
                               {"name": "root", "hostPath": {"path": "/"}}])


def test_an_ingress_controller_with_net_bind_service_is_not_an_error():
    renders = {"default": [ingress_controller()]}
    assert findings(pods.no_dangerous_capabilities, renders) == []
    assert findings(pods.drop_all_capabilities, renders) == []
    assert findings(pods.runs_as_non_root, renders) == []
    [writable] = findings(pods.read_only_root_filesystem, renders)  # a warning its maintainers accept
    assert "container 'controller' has a writable root filesystem" in writable.message


def test_a_node_exporter_gets_host_findings_that_say_how_to_waive():
    renders = {"default": [node_exporter()]}
    host = findings(pods.no_host_namespaces, renders)
    assert [(f.resource, f.path) for f in host] == [
        ("DaemonSet/demo/node-exporter", "$.spec.template.spec.hostNetwork"),
        ("DaemonSet/demo/node-exporter", "$.spec.template.spec.hostPID")]
    assert all('add a waiver with a reason (policy: SEC-008, chart: demo, resource: "DaemonSet/demo/node-exporter")'
               in f.message for f in host)
    volumes = messages(pods.no_host_path_volumes, renders)
    assert volumes[0].startswith(
        "volume 'proc' mounts the node's '/proc' (hostPath), mounted by node-exporter (read-only)")
    assert len(volumes) == 3
    for rule in (pods.no_privileged_containers, pods.no_dangerous_capabilities, pods.no_root_uid):
        assert findings(rule, renders) == [], rule.id


# --- resources and probes ----------------------------------------------------------------------------


def test_requests_limits_and_pod_level_resources():
    renders = lambda c, **pod: {"default": [deployment(containers=[c], **pod)]}  # noqa: E731
    empty = good_container(resources={})
    assert messages(resources.requests_set, renders(empty))[0].startswith(
        "container 'app' requests no cpu and no memory")
    assert messages(resources.memory_limit_set, renders(empty))[0].startswith("container 'app' has no memory limit")
    limits_only = good_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}})
    assert findings(resources.requests_set, renders(limits_only)) == []  # Kubernetes copies limits into requests
    no_cpu_limit = good_container(resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}})
    assert findings(resources.memory_limit_set, renders(no_cpu_limit)) == []
    pod_level = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
    assert findings(resources.requests_set, renders(empty, resources=pod_level)) == []
    assert findings(resources.memory_limit_set, renders(empty, resources=pod_level)) == []


def test_one_shot_init_containers_and_helm_test_hooks_need_no_resources():
    spec = deployment(initContainers=[good_container("wait", resources={}),
                                      good_container("proxy", resources={}, restartPolicy="Always")])
    assert [f.path for f in findings(resources.requests_set, {"default": [spec]})] == [
        "$.spec.template.spec.initContainers[1].resources.requests"]
    test_pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t", "annotations": {"helm.sh/hook": "test"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "wget", "image": "busybox:1.36"}]}}
    with pytest.raises(NotApplicable):
        findings(resources.requests_set, {"default": [test_pod]})


def service(selector, name="demo"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"port": 80}]}}


def test_liveness_on_long_running_workloads_readiness_behind_services():
    no_readiness = deployment(containers=[good_container(readinessProbe=None)])
    assert findings(resources.probes_set, {"default": [no_readiness]}) == []  # no Service routes to it
    [finding] = findings(resources.probes_set, {"default": [no_readiness, service({"app": "demo"})]})
    assert (finding.path, finding.message.split(" (scenario")[0]) == (
        "$.spec.template.spec.containers[0].readinessProbe",
        "its pods are behind Service demo but no container has a readiness probe")
    assert findings(resources.probes_set, {"default": [no_readiness, service({"app": "other"})]}) == []
    sidecar = deployment(containers=[good_container(), good_container("metrics", readinessProbe=None)])
    assert findings(resources.probes_set, {"default": [sidecar, service({"app": "demo"})]}) == []
    no_liveness = deployment(containers=[good_container(), good_container("metrics", livenessProbe=None)])
    [finding] = findings(resources.probes_set, {"default": [no_liveness]})
    assert (finding.path, finding.message.split(" (scenario")[0]) == (
        "$.spec.template.spec.containers[1].livenessProbe", "container 'metrics' has no liveness probe")
    job = deployment(kind="Job", api_version="batch/v1", containers=[good_container(readinessProbe=None,
                                                                                     livenessProbe=None)])
    with pytest.raises(NotApplicable):
        findings(resources.probes_set, {"default": [job]})
    assert findings(resources.probes_set, {"default": [job, deployment(name="web")]}) == []


# --- RBAC -----------------------------------------------------------------------------------------------


def role(kind="ClusterRole", name="demo", rules=(), **extra):
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "rules": list(rules), **extra}
    if kind == "Role":
        body["metadata"]["namespace"] = "demo"
    return body


def binding(kind="ClusterRoleBinding", name="demo", role_name="demo", role_kind="ClusterRole",
            subjects=({"kind": "ServiceAccount", "name": "demo", "namespace": "demo"},)):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": list(subjects)}


def rule(groups, resources_, verbs, **extra):
    return {"apiGroups": groups, "resources": resources_, "verbs": verbs, **extra}


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com", "names": {"kind": "Widget"}}}


def test_wildcards_except_on_the_charts_own_api():
    own = role(rules=[rule(["example.com"], ["*"], ["*"])])
    assert findings(rbac.no_rbac_wildcards, {"default": [own]}, crds=[CRD]) == []  # CRD in crds/
    assert findings(rbac.no_rbac_wildcards, {"default": [own, CRD]}) == []  # CRD rendered from templates/
    [foreign] = messages(rbac.no_rbac_wildcards, {"default": [own]})
    assert foreign.startswith("grants '*' in rules[0]: resources and verbs (apiGroups ['example.com']")
    everything = role(rules=[rule(["*"], ["widgets"], ["get"])])
    assert "grants '*' in rules[0]: apiGroups" in messages(rbac.no_rbac_wildcards, {"default": [everything]},
                                                           crds=[CRD])[0]
    scale = role(rules=[rule(["apps"], ["*/scale"], ["get", "update"])])
    assert len(findings(rbac.no_rbac_wildcards, {"default": [scale]})) == 1
    urls = role(rules=[{"nonResourceURLs": ["/metrics", "/debug/*"], "verbs": ["get"]}])
    assert findings(rbac.no_rbac_wildcards, {"default": [urls]}) == []


def test_escalate_bind_impersonate_unless_restricted_by_resource_names():
    escalate = role(rules=[rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["get", "escalate", "bind"])])
    [finding] = findings(rbac.no_escalation_verbs, {"default": [escalate]})
    assert finding.path == "$.rules[0].verbs" and finding.message.startswith("grants rules[0]: escalate, bind")
    restricted = role(rules=[rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["bind"],
                                  resourceNames=["demo-aggregated"])])
    assert findings(rbac.no_escalation_verbs, {"default": [restricted]}) == []
    impersonate = role(rules=[rule([""], ["users", "groups"], ["impersonate"])])
    assert "rules[0]: impersonate (apiGroups" in messages(rbac.no_escalation_verbs, {"default": [impersonate]})[0]
    extras = role(rules=[rule(["authentication.k8s.io"], ["userextras/scopes"], ["impersonate"])])
    assert len(findings(rbac.no_escalation_verbs, {"default": [extras]})) == 1
    other = role(rules=[rule(["example.com"], ["widgets"], ["bind"])])  # a custom verb on a custom resource
    assert findings(rbac.no_escalation_verbs, {"default": [other]}) == []


def test_reading_secrets_cluster_wide():
    reader = role(rules=[rule([""], ["configmaps", "secrets"], ["get", "list", "watch"])])
    [finding] = findings(rbac.no_cluster_wide_secret_reads, {"default": [reader, binding()]})
    assert (finding.resource, finding.path) == ("ClusterRoleBinding/-/demo", "$.roleRef")
    assert finding.message.startswith("binds ClusterRole 'demo' (rules[0]: get, list, watch) in every namespace "
                                      "to ServiceAccount demo/demo (scenario default)")
    namespaced = binding("RoleBinding")  # a ClusterRole bound in one namespace is not cluster-wide
    namespaced["metadata"]["namespace"] = "demo"
    assert findings(rbac.no_cluster_wide_secret_reads, {"default": [reader, namespaced, binding(role_name="x")]}) == []
    named = role(rules=[rule([""], ["secrets"], ["get"], resourceNames=["demo-tls"])])
    assert findings(rbac.no_cluster_wide_secret_reads, {"default": [named, binding()]}) == []
    assert "built-in: reads every Secret" in messages(rbac.no_cluster_wide_secret_reads,
                                                      {"default": [binding(role_name="edit")]})[0]
    assert findings(rbac.no_cluster_wide_secret_reads, {"default": [binding(role_name="view")]}) == []
    selector = {"matchLabels": {"demo/aggregate": "true"}}
    aggregated = role(name="demo", aggregationRule={"clusterRoleSelectors": [selector]})
    part = role(name="demo-secrets", rules=[rule([""], ["secrets"], ["list"])],
                metadata={"name": "demo-secrets", "labels": {"demo/aggregate": "true"}})
    assert "demo-secrets (aggregated) rules[0]: list" in messages(rbac.no_cluster_wide_secret_reads,
                                                                 {"default": [aggregated, part, binding()]})[0]
    with pytest.raises(NotApplicable):
        findings(rbac.no_cluster_wide_secret_reads, {"default": [reader]})


def service_account(name="demo", **extra):
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}, **extra}


def test_tokens_are_judged_against_bindings_of_every_scenario():
    workload = deployment()
    [finding] = findings(rbac.token_only_when_needed, {"default": [workload, service_account()]})
    assert finding.path == "$.spec.template.spec.automountServiceAccountToken"
    assert "ServiceAccount 'demo', which no RoleBinding or ClusterRoleBinding of the chart grants anything" \
        in finding.message
    # `rbac.create: false` in one scenario: the chart grants the account something elsewhere, so it needs the API
    renders = {"default": [workload, service_account(), role(), binding()], "plan.001": [workload, service_account()]}
    assert findings(rbac.token_only_when_needed, renders) == []
    opted_out = deployment(automountServiceAccountToken=False)
    assert findings(rbac.token_only_when_needed, {"default": [opted_out, service_account()]}) == []
    account_opts_out = service_account(automountServiceAccountToken=False)
    assert findings(rbac.token_only_when_needed, {"default": [workload, account_opts_out]}) == []
    pod_overrides = deployment(automountServiceAccountToken=True)
    assert len(findings(rbac.token_only_when_needed, {"default": [pod_overrides, account_opts_out]})) == 1
    group = binding("RoleBinding", subjects=[{"kind": "Group", "name": "system:serviceaccounts:demo"}])
    group["metadata"]["namespace"] = "demo"
    assert findings(rbac.token_only_when_needed, {"default": [workload, service_account(), group]}) == []
    with pytest.raises(NotApplicable):  # the account is not the chart's: its grants live elsewhere
        findings(rbac.token_only_when_needed, {"default": [workload]})


# --- per-object work once per distinct body --------------------------------------------------------------


def test_each_distinct_render_is_indexed_once_for_every_rule():
    shared = [deployment(name=f"app-{i}") for i in range(20)] + [role(rules=[rule([""], ["pods"], ["get"])])]
    ctx = chart_context({f"plan.{i:03}": shared for i in range(30)})
    before = podspec._MEMO.computed
    for rule_ in CONTAINER_RULES + [rbac.no_rbac_wildcards, rbac.no_escalation_verbs]:
        assert list(rule_.check(ctx)) == [], rule_.id
    assert podspec._MEMO.computed - before == 30  # one index per distinct render, shared by all 14 rules
    view = podspec.chart_view(ctx)
    assert len(view.pods()) == 20  # identical bodies across 30 renders: 20 distinct pod specs
    assert all(len(seen.scenarios) == 30 for seen in view.pods())


# --- a `helm create` chart, rendered by the real Helm binary ---------------------------------------------


def test_a_helm_create_chart_has_no_error_severity_security_finding(tmp_path, render_cache):
    chart_root, overlays = tmp_path / "charts", tmp_path / "overlays"
    chart_root.mkdir(), overlays.mkdir()
    subprocess.run([str(REPO / ".tools" / "helm-v4.1.4" / "helm"), "create", "demo"], cwd=chart_root, check=True,
                   capture_output=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    security = [p for p in load_policies(REPO / "policies") if p.family == "SEC"]
    assert len(security) == 20
    run = run_gate(gate_config(tmp_path, chart_root, overlays, cache=render_cache), security)
    outcomes = {r.policy.id: r.outcome for r in run.gate.results}
    assert not [(r.policy.id, r.outcome, r.message) for r in run.gate.results if r.outcome is Outcome.ERROR]
    assert not [r.policy.id for r in run.gate.results
                if r.outcome is Outcome.FAILED and r.policy.severity is Severity.ERROR]
    # Its defaults leave the hardening to the user: warnings a maintainer accepts, each named.
    assert {p for p, o in outcomes.items() if o is Outcome.FAILED} == {
        "SEC-002", "SEC-004", "SEC-006", "SEC-007", "SEC-010", "SEC-011", "SEC-016", "SEC-017"}
    assert {p for p, o in outcomes.items() if o is Outcome.PASSED} == {  # its Deployment has both probes
        "SEC-001", "SEC-003", "SEC-005", "SEC-008", "SEC-009", "SEC-012", "SEC-020"}
    assert {p for p, o in outcomes.items() if o is Outcome.SKIPPED} == {"SEC-013", "SEC-014", "SEC-015", "SEC-018",
                                                                         "SEC-019"}
    by_policy = {r.policy.id: r for r in run.gate.results}
    # One finding per defect, however many of its planned scenarios show it.
    assert [f.resource for f in by_policy["SEC-010"].findings] == ["Deployment/demo/demo"]
    # Its `helm test` Pod runs only on `helm test`: left out of the posture rules (judge-test-hooks).
    assert [f.resource for f in by_policy["SEC-007"].findings] == ["Deployment/demo/demo"]
    assert "scenarios" in by_policy["SEC-007"].findings[0].message
    assert "default" in by_policy["SEC-007"].findings[0].scenarios


# --- one defect, one finding ------------------------------------------------------------------------------


def test_a_container_defect_is_one_finding_whichever_index_the_container_has():
    alone = deployment(containers=[good_container(resources={})])
    with_sidecar = deployment(containers=[good_container("proxy"), good_container(resources={})])
    renders = {"default": [alone], "on.proxy": [with_sidecar]}
    [finding] = findings(resources.memory_limit_set, renders)
    assert finding.message.startswith("container 'app' has no memory limit (all 2 scenarios)")
    assert finding.key == "container 'app': memory"


def test_one_finding_per_role_listing_its_wildcard_rules():
    wild = role(rules=[rule(["apps"], ["*"], ["get"]), rule([""], ["pods"], ["get"]), rule(["batch"], ["jobs"], ["*"])])
    [finding] = findings(rbac.no_rbac_wildcards, {"default": [wild]})
    assert finding.message.startswith("grants '*' in rules[0]: resources (apiGroups ['apps'], resources ['*'], "
                                      "verbs ['get']); rules[2]: verbs (apiGroups ['batch']")


def test_a_wildcard_secret_read_bound_cluster_wide_is_one_finding_naming_both_policies():
    everything = role(rules=[rule([""], ["*"], ["get", "list"])])
    renders = {"default": [everything, binding()]}
    [wild] = findings(rbac.no_rbac_wildcards, renders)
    assert "ClusterRoleBinding demo binds it in every namespace, so its subjects read every Secret of the " \
           "cluster (SEC-015 too)" in wild.message
    assert findings(rbac.no_cluster_wide_secret_reads, renders) == []
    explicit = role(rules=[rule([""], ["*"], ["get", "list"]), rule([""], ["secrets"], ["watch"])])
    [reads] = findings(rbac.no_cluster_wide_secret_reads, {"default": [explicit, binding()]})
    assert "(rules[1]: watch)" in reads.message  # the wildcard rule is SEC-013's


def test_a_binding_is_one_secret_read_finding_whatever_subject_a_scenario_gives_it():
    reader = role(rules=[rule([""], ["secrets"], ["get"])])
    renders = {"default": [reader, binding()],
               "plan.001": [reader, binding(subjects=[{"kind": "ServiceAccount", "name": "default",
                                                       "namespace": "demo"}])]}
    [finding] = findings(rbac.no_cluster_wide_secret_reads, renders)
    assert "to ServiceAccount demo/demo, ServiceAccount demo/default (all 2 scenarios)" in finding.message


# --- recall beside checkov: seccomp, webhook configurations, default ServiceAccount, hostPort -----------


def test_seccomp_runtime_default_from_the_pod_or_the_container():
    unset = deployment()
    [finding] = findings(pods.seccomp_runtime_default, {"default": [unset]})
    assert finding.message.startswith("container 'app' sets no seccomp profile (Kubernetes runs it Unconfined)")
    assert finding.path == "$.spec.template.spec.containers[0].securityContext.seccompProfile"
    pod_level = deployment(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert findings(pods.seccomp_runtime_default, {"default": [pod_level]}) == []
    localhost = deployment(containers=[good_container(sc_seccompProfile={"type": "Localhost",
                                                                         "localhostProfile": "app.json"})])
    assert findings(pods.seccomp_runtime_default, {"default": [localhost]}) == []
    unconfined = deployment(containers=[good_container(sc_seccompProfile={"type": "Unconfined"})],
                            securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert "runs Unconfined (seccompProfile.type: Unconfined)" in messages(pods.seccomp_runtime_default,
                                                                           {"default": [unconfined]})[0]
    # only a debug scenario drops it: found, naming that scenario
    [debug] = findings(pods.seccomp_runtime_default, {"default": [pod_level], "ci.debug": [unset]})
    assert "(scenario ci.debug)" in debug.message


def test_host_ports_are_errors_except_on_the_host_network():
    bound = good_container(ports=[{"name": "http", "containerPort": 8080, "hostPort": 80},
                                  {"name": "metrics", "containerPort": 9090}])
    [finding] = findings(pods.no_host_ports, {"default": [deployment(containers=[bound])]})
    assert pods.no_host_ports.severity is Severity.ERROR
    assert (finding.path, finding.message.split(" (scenario")[0]) == (
        "$.spec.template.spec.containers[0].ports[0].hostPort",
        "container 'app' binds hostPort 80 (containerPort 8080)")
    assert findings(pods.no_host_ports, {"default": [deployment(containers=[bound], hostNetwork=True)]}) == []
    assert findings(pods.no_host_ports, {"default": [deployment()]}) == []


def test_webhook_configurations_are_patched_only_by_name():
    webhooks = ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]
    patcher = role(rules=[rule(["admissionregistration.k8s.io"], webhooks, ["get", "list", "watch", "patch"])])
    [finding] = findings(rbac.webhook_configurations_by_name, {"default": [patcher]})
    assert finding.message.startswith("may update or patch every admission webhook configuration (rules[0]: ")
    assert rbac.webhook_configurations_by_name.severity is Severity.WARNING
    named = role(rules=[rule(["admissionregistration.k8s.io"], webhooks, ["update", "patch"],
                             resourceNames=["demo-webhook"]),
                        rule(["admissionregistration.k8s.io"], webhooks, ["get", "list", "watch", "create"])])
    assert findings(rbac.webhook_configurations_by_name, {"default": [named]}) == []
    wild = role(rules=[rule(["admissionregistration.k8s.io"], ["*"], ["*"])])  # SEC-013's
    assert findings(rbac.webhook_configurations_by_name, {"default": [wild]}) == []


def test_a_grant_to_the_default_service_account_is_a_warning():
    to_default = binding("RoleBinding", role_kind="Role", subjects=[{"kind": "ServiceAccount", "name": "default"}])
    to_default["metadata"]["namespace"] = "demo"
    [finding] = findings(rbac.no_default_account_grants, {"default": [to_default]})
    assert finding.message.startswith("grants Role 'demo' to the default ServiceAccount demo/default")
    assert findings(rbac.no_default_account_grants, {"default": [binding()]}) == []
    with pytest.raises(NotApplicable):
        findings(rbac.no_default_account_grants, {"default": [role()]})
