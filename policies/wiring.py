"""Resource wiring: references between the objects of one render resolve inside that render.

A Service that selects no pods, an HPA that scales a Deployment of another name, a RoleBinding to
a Role that was renamed: each applies cleanly and does nothing, so only a cross-object check finds
it. Every policy runs on every scenario; the opt-in scenarios are where monitors, HPAs and
NetworkPolicies appear. Each finding carries its cause as `key` (`selector`, `subject ...`), so a
defect that many scenarios show (with different objects beside it) is one defect in the report.
"""

from chartgate import Applicability, Finding, NotApplicable, ScenarioContext, policy
from chartgate.lib.apis import api_group, is_builtin
from chartgate.lib.podspec import account_blocks
from chartgate.lib.selectors import (SCALABLE_KINDS, LabelIndex, describe, is_empty, matches, matches_labels,
                                 pod_templates, runtime_labels, static_part)

REFERENCE = "docs/policies.md#wir"

# Roles every Kubernetes cluster creates at start-up (the API server's RBAC bootstrap policy):
# the user-facing ClusterRoles, every `system:` role, and the Role charts of aggregated API servers
# bind in kube-system to read the front-proxy CA.
BUILTIN_CLUSTER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
BUILTIN_ROLES = frozenset({("kube-system", "extension-apiserver-authentication-reader")})
BUILTIN_ROLE_PREFIX = "system:"
# Every namespace has this ServiceAccount, so a binding to it never dangles.
DEFAULT_SERVICE_ACCOUNT = "default"


def judged(found: list, why_none: str) -> list:
    """The objects a rule can judge; none is `skipped` with the reason, never a silent pass."""
    if not found:
        raise NotApplicable(why_none)
    return found


def names(manifests) -> str:
    return ", ".join(sorted(m.name for m in manifests)) or "none"


def release_namespace(ctx: ScenarioContext) -> str:
    """The namespace Helm installs into (where namespaced objects without one land)."""
    return ctx.chart.renderer.request(ctx.chart.chart, ctx.scenario).namespace


# --- WIR-001 --------------------------------------------------------------------------------------


def monitored_namespaces(monitor) -> set[str] | None:
    """Namespaces a ServiceMonitor/PodMonitor looks in; None means all of them."""
    selector = (monitor.body.get("spec") or {}).get("namespaceSelector") or {}
    if selector.get("any") is True:
        return None
    return set(map(str, selector.get("matchNames") or [])) or {monitor.namespace}


def in_namespaces(manifests, namespaces: set[str] | None):
    return [m for m in manifests if namespaces is None or m.namespace in namespaces]


def scrape_targets(service, templates) -> set[str]:
    """What a ServiceMonitor endpoint's `targetPort` may name on this Service: its ports and
    target ports, and the ports (numbers and names) of the containers behind it."""
    found: set[str] = set()
    selector = (service.body.get("spec") or {}).get("selector")
    for port in (service.body.get("spec") or {}).get("ports") or []:
        found |= {str(port[key]) for key in ("port", "targetPort") if key in port}
    for template in templates:
        if selector and template.namespace == service.namespace and matches_labels(selector, template.labels):
            for port in template.container_ports():
                found |= {str(port[key]) for key in ("containerPort", "name") if key in port}
    return found


def service_monitor_findings(ctx: ScenarioContext, monitor):
    spec = monitor.body.get("spec") or {}
    namespaces = monitored_namespaces(monitor)
    candidates = in_namespaces(ctx.render.of_kind("Service"), namespaces)
    selected = [s for s in candidates if matches(spec.get("selector") or {}, s.labels)]
    where = "any namespace" if namespaces is None else "namespace " + ", ".join(sorted(namespaces))
    if not selected:
        yield Finding.on(monitor, "$.spec.selector",
                         f"selects no rendered Service in {where} (selector {describe(spec.get('selector'))}; "
                         f"Services there: {names(candidates)}). Prometheus would scrape nothing: align "
                         "$.spec.selector with the metrics Service's labels (or $.spec.namespaceSelector), "
                         "or add a waiver if the Service comes from another release.",
                         value=spec.get("selector"), key="selector")
        return
    templates = pod_templates(ctx.manifests)
    for index, endpoint in enumerate(spec.get("endpoints") or []):
        if "port" in endpoint:
            exposed = {str(p.get("name")) for s in selected for p in (s.body.get("spec") or {}).get("ports") or []}
            if str(endpoint["port"]) not in exposed:
                yield Finding.on(monitor, f"$.spec.endpoints[{index}].port",
                                 f"scrapes port {endpoint['port']!r}, but the selected Service(s) "
                                 f"{names(selected)} name their ports {sorted(exposed - {'None'}) or 'not at all'}. "
                                 "Use one of those names, or name the metrics port in the Service.",
                                 value=endpoint, key=f"port {endpoint['port']}")
        elif "targetPort" in endpoint:
            targets = set().union(*(scrape_targets(s, templates) for s in selected))
            if str(endpoint["targetPort"]) not in targets:
                yield Finding.on(monitor, f"$.spec.endpoints[{index}].targetPort",
                                 f"scrapes targetPort {endpoint['targetPort']!r}, which neither the selected "
                                 f"Service(s) {names(selected)} nor their pods' containers expose "
                                 f"({', '.join(sorted(targets)) or 'no ports'}). Point it at an exposed port.",
                                 value=endpoint, key=f"targetPort {endpoint['targetPort']}")


def pod_monitor_findings(ctx: ScenarioContext, monitor):
    spec = monitor.body.get("spec") or {}
    namespaces = monitored_namespaces(monitor)
    candidates = [t for t in pod_templates(ctx.manifests) if namespaces is None or t.namespace in namespaces]
    selected = [t for t in candidates if matches(spec.get("selector") or {}, t.labels)]
    if not selected:
        yield Finding.on(monitor, "$.spec.selector",
                         f"selects no rendered pod template (selector {describe(spec.get('selector'))}; "
                         f"workloads there: {names(t.owner for t in candidates)}). Align $.spec.selector "
                         "with the pod template's labels, or add a waiver if the pods come from another release.",
                         value=spec.get("selector"), key="selector")
        return
    exposed = {str(p.get("name")) for t in selected for p in t.container_ports() if p.get("name")}
    for index, endpoint in enumerate(spec.get("podMetricsEndpoints") or []):
        if "port" in endpoint and str(endpoint["port"]) not in exposed:
            yield Finding.on(monitor, f"$.spec.podMetricsEndpoints[{index}].port",
                             f"scrapes port {endpoint['port']!r}, but the selected pods of "
                             f"{names(t.owner for t in selected)} name their container ports "
                             f"{sorted(exposed) or 'not at all'}. Use one of those names.", value=endpoint,
                             key=f"port {endpoint['port']}")


@policy(
    id="WIR-001",
    title="ServiceMonitors and PodMonitors select rendered targets and scrape ports they expose",
    receives="scenario",
    applies_to=Applicability(kinds=("ServiceMonitor", "PodMonitor"), scenarios="*"),
    rationale="""A monitor whose selector or port name drifted from the Service it was written for
    is accepted by the API server and then scrapes nothing: dashboards go blank and alerts stay
    silent. The selected Services (or pods) must be in the render and expose every scraped port.""",
    reference=REFERENCE,
)
def monitors_find_their_targets(ctx: ScenarioContext):
    monitors = judged([m for m in ctx.render.of_kind("ServiceMonitor", "PodMonitor")
                       if m.group == "monitoring.coreos.com"],
                      "no monitoring.coreos.com ServiceMonitor or PodMonitor rendered in this scenario")
    for monitor in monitors:
        if monitor.kind == "ServiceMonitor":
            yield from service_monitor_findings(ctx, monitor)
        else:
            yield from pod_monitor_findings(ctx, monitor)


# --- WIR-002 --------------------------------------------------------------------------------------


@policy(
    id="WIR-002",
    title="Every HorizontalPodAutoscaler scales a rendered workload",
    receives="scenario",
    applies_to=Applicability(kinds=("HorizontalPodAutoscaler",), scenarios="*"),
    rationale="""An HPA whose scaleTargetRef names no object of the release reports
    `FailedGetScale` forever and never scales anything; the operator believes autoscaling is on.""",
    reference=REFERENCE,
)
def hpa_targets_exist(ctx: ScenarioContext):
    for hpa in ctx.render.of_kind("HorizontalPodAutoscaler"):
        ref = (hpa.body.get("spec") or {}).get("scaleTargetRef") or {}
        kind, name, api_version = ref.get("kind"), ref.get("name"), ref.get("apiVersion")
        same_namespace = [m for m in ctx.manifests if m.namespace == hpa.namespace]
        target = [m for m in same_namespace if m.kind == kind and m.name == name
                  and (not api_version or m.group == api_group(str(api_version)))]
        if not target:
            wanted = " ".join(filter(None, [api_version, f"{kind}/{name}"]))
            workloads = [f"{m.kind}/{m.name}" for m in same_namespace if m.kind in SCALABLE_KINDS or m.kind == kind]
            yield Finding.on(hpa, "$.spec.scaleTargetRef.name",
                             f"scales {wanted}, which this render does not contain in namespace {hpa.namespace} "
                             f"(workloads there: {', '.join(sorted(workloads)) or 'none'}). "
                             "Point $.spec.scaleTargetRef at the workload's kind and name "
                             "(use the same name helper as the Deployment template).", value=ref, key="scaleTargetRef")
        elif kind not in SCALABLE_KINDS and is_builtin(target[0].api_version):
            yield Finding.on(hpa, "$.spec.scaleTargetRef.kind",
                             f"scales {kind}/{name}, a built-in kind without a scale subresource. Target the "
                             f"workload instead ({', '.join(sorted(SCALABLE_KINDS))}).", value=ref,
                             key="scaleTargetRef kind")


# --- WIR-003 --------------------------------------------------------------------------------------


@policy(
    id="WIR-003",
    title="Every NetworkPolicy's podSelector selects a rendered pod template",
    receives="scenario",
    applies_to=Applicability(kinds=("NetworkPolicy",), scenarios="*"),
    rationale="""A NetworkPolicy whose podSelector matches no pod protects nothing: the pods it was
    written for keep accepting all traffic. An empty podSelector ({}) is namespace-wide by design
    and is not judged.""",
    reference=REFERENCE,
)
def network_policies_select_pods(ctx: ScenarioContext):
    templates = pod_templates(ctx.manifests)
    selecting = judged([m for m in ctx.render.of_kind("NetworkPolicy") if m.group == "networking.k8s.io"
                        and not is_empty((m.body.get("spec") or {}).get("podSelector"))],
                       "every rendered NetworkPolicy selects the whole namespace (podSelector {}): "
                       "nothing to match")
    for netpol in selecting:
        selector = (netpol.body.get("spec") or {}).get("podSelector")
        local = [t for t in templates if t.namespace == netpol.namespace]
        if not any(matches(selector, runtime_labels(t, (selector or {}).get("matchLabels"))) for t in local):
            yield Finding.on(netpol, "$.spec.podSelector",
                             f"podSelector {describe(selector)} selects no pod template rendered in namespace "
                             f"{netpol.namespace} (workloads there: {names(t.owner for t in local)}). Copy the "
                             "labels from the workload's $.spec.template.metadata.labels, or add a waiver if "
                             "the pods come from another release.", value=selector, key="podSelector")


# --- WIR-004 --------------------------------------------------------------------------------------


@policy(
    id="WIR-004",
    title="Every Service selector matches a rendered pod template that has its named target ports",
    receives="scenario",
    applies_to=Applicability(kinds=("Service",), scenarios="*"),
    rationale="""A Service whose selector matches no pod has no endpoints: clients get connection
    refused and webhooks time out. A named targetPort that no selected container declares leaves
    the Service without endpoints just the same. Services without a selector are exempt (their
    endpoints are managed by hand). Labels a controller gives each pod at run time
    (`statefulset.kubernetes.io/pod-name: <name>-0`, `pod-template-hash`, `controller-revision-hash`,
    `batch.kubernetes.io/job-name`) count as the pods' labels when the controller can give that value.""",
    reference=REFERENCE,
)
def services_select_pods(ctx: ScenarioContext):
    templates = pod_templates(ctx.manifests)
    by_labels = LabelIndex(templates, lambda t: t.labels)
    with_selector = judged([m for m in ctx.render.of_kind("Service") if m.group == ""
                            and (m.body.get("spec") or {}).get("selector")
                            and (m.body.get("spec") or {}).get("type") != "ExternalName"],
                           "no rendered Service has a selector (their endpoints are managed by hand)")
    for service in with_selector:
        spec = service.body.get("spec") or {}
        selector = spec.get("selector")
        selected = [t for t in by_labels.selected_by(static_part(selector)) if t.namespace == service.namespace
                    and matches_labels(selector, runtime_labels(t, selector))]
        if not selected:
            local = [t for t in templates if t.namespace == service.namespace]
            yield Finding.on(service, "$.spec.selector",
                             f"selector {describe({'matchLabels': selector})} matches no pod template rendered "
                             f"in namespace {service.namespace} (workloads there: "
                             f"{names(t.owner for t in local)}). Make it a subset of the workload's "
                             "$.spec.template.metadata.labels.", value=selector, key="selector")
            continue
        declared = {str(p.get("name")) for t in selected for p in t.container_ports() if p.get("name")}
        for index, port in enumerate(spec.get("ports") or []):
            target = port.get("targetPort")
            if isinstance(target, str) and not target.isdigit() and target not in declared:
                yield Finding.on(service, f"$.spec.ports[{index}].targetPort",
                                 f"targets the container port named {target!r}, but the selected pods of "
                                 f"{names(t.owner for t in selected)} declare {sorted(declared) or 'no named ports'}. "
                                 "Use a declared name or the port number.", value=port, key=f"targetPort {target}")


# --- WIR-005 --------------------------------------------------------------------------------------


def builtin_cluster_role(name: str) -> bool:
    return name in BUILTIN_CLUSTER_ROLES or name.startswith(BUILTIN_ROLE_PREFIX)


def builtin_role(namespace: str | None, name: str) -> bool:
    return (namespace, name) in BUILTIN_ROLES or name.startswith(BUILTIN_ROLE_PREFIX)


def supplied_by_user(values, account: str) -> bool:
    """With a ServiceAccount block's `create` off, the user supplies that account (named by its `name`,
    or as the chart names it): the chart's documented contract. An account another block creates is
    not the user's."""
    blocks = account_blocks(values)
    return any(not create for _, create, _ in blocks) and account not in {n for _, create, n in blocks if create}


@policy(
    id="WIR-005",
    title="RoleBindings resolve to a rendered or built-in role and to rendered ServiceAccounts",
    receives="scenario",
    applies_to=Applicability(kinds=("RoleBinding", "ClusterRoleBinding"), scenarios="*"),
    rationale="""A binding to a Role that does not exist grants nothing, and a binding for a
    ServiceAccount the release does not create grants permissions to nobody (or to a later
    namesake). Either way the workload fails at runtime with `forbidden`. A scenario that switches a
    ServiceAccount block's `create` off (`serviceAccount.create: false`) tells the user to supply the
    account: bindings to it are not dangling there.""",
    reference=REFERENCE,
)
def bindings_resolve(ctx: ScenarioContext):
    bindings = judged([m for m in ctx.render.of_kind("RoleBinding", "ClusterRoleBinding")
                       if m.group == "rbac.authorization.k8s.io"],
                      "no rbac.authorization.k8s.io RoleBinding or ClusterRoleBinding rendered in this scenario")
    roles = {(m.namespace, m.name) for m in ctx.render.of_kind("Role") if m.group == "rbac.authorization.k8s.io"}
    cluster_roles = {m.name for m in ctx.render.of_kind("ClusterRole") if m.group == "rbac.authorization.k8s.io"}
    accounts = {(m.namespace, m.name) for m in ctx.render.of_kind("ServiceAccount") if m.group == ""}
    home = release_namespace(ctx)
    for binding in bindings:
        ref = binding.body.get("roleRef") or {}
        kind, name = ref.get("kind"), str(ref.get("name"))
        if kind == "Role" and binding.kind == "RoleBinding":
            if (binding.namespace, name) not in roles and not builtin_role(binding.namespace, name):
                local = sorted(n for ns, n in roles if ns == binding.namespace)
                yield Finding.on(binding, "$.roleRef.name",
                                 f"binds Role {name!r}, which is not rendered in namespace {binding.namespace} "
                                 f"(Roles there: {', '.join(local) or 'none'}). Fix $.roleRef.name or render "
                                 "the Role.", value=ref, key=f"roleRef Role {name}")
        elif kind == "ClusterRole":
            if name not in cluster_roles and not builtin_cluster_role(name):
                yield Finding.on(binding, "$.roleRef.name",
                                 f"binds ClusterRole {name!r}, which is neither rendered (ClusterRoles: "
                                 f"{', '.join(sorted(cluster_roles)) or 'none'}) nor built in (cluster-admin, "
                                 "admin, edit, view, system:*). Fix $.roleRef.name or render the ClusterRole.",
                                 value=ref, key=f"roleRef ClusterRole {name}")
        else:
            yield Finding.on(binding, "$.roleRef.kind",
                             f"{binding.kind} cannot reference a {kind!r}; use "
                             f"{'Role or ClusterRole' if binding.kind == 'RoleBinding' else 'ClusterRole'}.",
                             value=ref)
        for index, subject in enumerate(binding.body.get("subjects") or []):
            if subject.get("kind") != "ServiceAccount":
                continue
            namespace = subject.get("namespace") or binding.namespace
            account = subject.get("name")
            if (namespace == home and account != DEFAULT_SERVICE_ACCOUNT and (namespace, account) not in accounts
                    and not supplied_by_user(ctx.values, str(account))):
                yield Finding.on(binding, f"$.subjects[{index}].name",
                                 f"grants {kind}/{name} to ServiceAccount {namespace}/{account}, which "
                                 f"the release does not render (ServiceAccounts: "
                                 f"{', '.join(sorted(n for ns, n in accounts if ns == home)) or 'none'}). Use the "
                                 "workload's serviceAccountName.", value=subject,
                                 key=f"subject ServiceAccount {namespace}/{account}")
