"""Pods as the kubelet will run them, judged across every planned scenario of a chart.

- `pod_spec(manifest)`: the pod spec a workload (or a bare Pod, or a custom resource that embeds a
  pod template at `spec.template`) will run, with its JSONPath.
- `effective_security_context(pod, container)`: the container's securityContext with the pod-level
  fields it inherits (pod first, the container's own fields win), as the kubelet computes it.
- `chart_view(ctx)`: the distinct pod specs, RBAC objects and ServiceAccounts of every planned
  scenario that rendered, each with the scenarios that render it, so a chart-level policy judges
  each distinct object body once and reports each defect once (`report_once`, which names those
  scenarios on the finding). `helm test` hooks are left out unless the chart context's
  `judge_test_hooks` (setting `judge-test-hooks`) is on.

A large chart renders thousands of objects in dozens of scenarios, mostly identical between
scenarios. The per-render index (which objects hold a pod spec, their content digests) is built once
per distinct render and shared by every policy that asks; it is a pure function of the render.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from chartgate.core import memo
from chartgate.parse.manifests import Manifest
from chartgate.lib.selectors import POD_TEMPLATE_PATHS, matches_labels
from chartgate.core.values import get_path, iter_leaves

if TYPE_CHECKING:
    from chartgate.check.context import ChartContext
    from chartgate.check.definition import Finding
    from chartgate.render.renderer import Render

# PodSecurityContext fields that also exist on the container's SecurityContext: the container
# inherits them from the pod unless it sets them itself (Kubernetes API reference, PodSecurityContext).
INHERITED_FIELDS = ("runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile",
                    "appArmorProfile", "windowsOptions")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Where built-in kinds keep their pod template (PodTemplate objects keep it at the top level).
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {**POD_TEMPLATE_PATHS, "PodTemplate": ("template",)}
# Built-in controllers whose pods run until replaced (probes and rolling updates matter).
LONG_RUNNING_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController")
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
HELM_TEST_HOOKS = {"test", "test-success", "test-failure"}
BUILTIN_WORKLOAD_GROUPS = ("", "apps", "batch", "extensions")
# A chart's own hardening switch: an `enabled` flag of a securityContext or probe block, found by
# the block's name (containerSecurityContext, livenessProbe) or by the fields it holds.
HARDENING_BLOCK = re.compile(r"(?i)(securitycontext|probe)$")
HARDENING_FIELDS = frozenset({"runAsUser", "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation",
                              "capabilities", "seccompProfile", "httpGet", "tcpSocket", "grpc",
                              "initialDelaySeconds", "periodSeconds", "failureThreshold"})
# A values block that says whether the chart creates a ServiceAccount: `serviceAccount: {create, name}`.
ACCOUNT_BLOCK = re.compile(r"(?i)serviceaccount$")


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def effective_security_context(pod_spec: dict, container: dict) -> dict:
    """The securityContext a container runs with: the pod's inheritable fields, overridden field by
    field by the container's own (a container's `seLinuxOptions` replaces the pod's whole)."""
    pod = _mapping(_mapping(pod_spec).get("securityContext"))
    effective = {key: pod[key] for key in INHERITED_FIELDS if key in pod and pod[key] is not None}
    effective.update({k: v for k, v in _mapping(_mapping(container).get("securityContext")).items()
                      if v is not None})
    return effective


@dataclass(frozen=True, eq=False)
class Container:
    """One container of a pod spec, with its effective securityContext."""

    pod: "PodSpec"
    list_name: str  # containers | initContainers | ephemeralContainers
    index: int
    body: dict

    @property
    def name(self) -> str:
        return str(self.body.get("name") or f"{self.list_name}[{self.index}]")

    @property
    def path(self) -> str:
        return f"{self.pod.path}.{self.list_name}[{self.index}]"

    @cached_property
    def security(self) -> dict:
        return effective_security_context(self.pod.spec, self.body)

    @property
    def label(self) -> str:
        """`container 'x'`, `init container 'x'`, `ephemeral container 'x'` for messages."""
        prefix = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f"{prefix.get(self.list_name, 'container')} '{self.name}'"

    @property
    def runs_alongside(self) -> bool:
        """A regular container, or a sidecar (an init container with restartPolicy: Always)."""
        return self.list_name == "containers" or (
            self.list_name == "initContainers" and self.body.get("restartPolicy") == "Always")


@dataclass(frozen=True, eq=False)
class PodSpec:
    """The pod spec an object will run: its owner, the spec's JSONPath and the spec itself."""

    owner: Manifest
    path: str  # e.g. $.spec.template.spec, $.spec.jobTemplate.spec.template.spec, $.spec (a Pod)
    spec: dict
    custom: bool = False  # a custom resource that embeds a pod template
    labels: dict = field(default_factory=dict)  # the labels its pods get

    @cached_property
    def containers(self) -> list[Container]:
        return [Container(self, list_name, i, body) for list_name in CONTAINER_LISTS
                for i, body in enumerate(self.spec.get(list_name) or []) if isinstance(body, dict)]

    @property
    def windows(self) -> bool:
        """Linux-only settings (capabilities, runAsUser, readOnlyRootFilesystem ...) do not apply."""
        return str(_mapping(self.spec.get("os")).get("name") or "").lower() == "windows"

    @property
    def long_running(self) -> bool:
        return self.owner.kind in LONG_RUNNING_KINDS and not self.custom

    @property
    def helm_test(self) -> bool:
        """A `helm test` hook: runs only when someone runs `helm test`, then exits."""
        return _helm_test(self.owner)

    @property
    def service_account(self) -> str:
        return str(self.spec.get("serviceAccountName") or self.spec.get("serviceAccount") or "default")


def _helm_test(manifest: Manifest) -> bool:
    hooks = {h.strip() for h in str(manifest.annotations.get("helm.sh/hook") or "").split(",")}
    return bool(hooks & HELM_TEST_HOOKS)


def pod_spec(manifest: Manifest) -> PodSpec | None:
    """The pod spec `manifest` runs: built-in workloads, bare Pods, PodTemplates, and custom
    resources whose `spec.template` is a pod template (`spec.template.spec.containers` is a list of
    containers, as in Argo Rollouts, OpenKruise or Knative Services). Other custom resources that list
    containers (partial overrides merged by an operator) are not pod specs."""
    body = manifest.body
    if manifest.kind == "Pod" and manifest.group == "":
        spec = body.get("spec")
        return PodSpec(manifest, "$.spec", spec, labels=manifest.labels) if isinstance(spec, dict) else None
    keys = TEMPLATE_PATHS.get(manifest.kind) if manifest.group in BUILTIN_WORKLOAD_GROUPS else None
    custom = keys is None
    if custom:
        keys = ("spec", "template")
    node: Any = body
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    spec = node.get("spec") if isinstance(node, dict) else None
    if not isinstance(spec, dict):
        return None
    if custom:
        containers = spec.get("containers")
        if not (isinstance(containers, list) and containers
                and all(isinstance(c, dict) and c.get("name") for c in containers)):
            return None
    labels = _mapping(_mapping(node.get("metadata")).get("labels"))
    return PodSpec(manifest, "$." + ".".join(keys) + ".spec", spec, custom, labels)


def pod_specs(manifests: Iterable[Manifest]) -> list[PodSpec]:
    """The pod specs of these objects (objects without one are left out)."""
    return [p for p in map(pod_spec, manifests) if p is not None]


# --- one index per distinct render -------------------------------------------------------------


def digest(body: Any) -> bytes:
    """A content digest of an object body (equal bodies, equal digests)."""
    return hashlib.blake2b(repr(body).encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True)
class RenderIndex:
    """What the security rules need from one render, computed once per distinct render."""

    pods: tuple[tuple[PodSpec, bytes], ...]  # every pod spec with the digest of its owner's body
    rbac: tuple[tuple[Manifest, bytes], ...]  # Roles, ClusterRoles and their bindings
    service_accounts: tuple[Manifest, ...]
    services: tuple[Manifest, ...]
    crd_groups: frozenset[str]  # API groups of the CustomResourceDefinitions this render ships

    def serving(self, pod: PodSpec) -> list[Manifest]:
        """The Services of this render that route traffic to `pod`'s pods."""
        candidates: set[int] = set()
        for key, value in pod.labels.items():  # a Service can select the pod only through its labels
            candidates.update(self._services_by_first_pair.get((key, str(value)), ()))
        return [self.services[i] for i in sorted(candidates)
                if self.services[i].namespace == pod.owner.namespace
                and matches_labels(_mapping(self.services[i].body.get("spec")).get("selector"), pod.labels)]

    @cached_property
    def _services_by_first_pair(self) -> dict[tuple[str, str], list[int]]:
        """Services with a selector, by its first label pair (a pod lacking that pair is not selected)."""
        index: dict[tuple[str, str], list[int]] = {}
        for position, service in enumerate(self.services):
            selector = _mapping(service.body.get("spec")).get("selector")
            if selector and isinstance(selector, dict):
                key, value = next(iter(selector.items()))
                index.setdefault((key, str(value)), []).append(position)
        return index


def build_index(manifests: Iterable[Manifest]) -> RenderIndex:
    """The security rules' index of one render: its pod specs, RBAC objects, ServiceAccounts, Services and CRD groups."""
    pods, rbac, accounts, services, groups = [], [], [], [], set()
    for manifest in manifests:
        kind = manifest.kind
        if kind == "CustomResourceDefinition":
            group = _mapping(manifest.body.get("spec")).get("group")
            if group:
                groups.add(str(group))
            continue
        if kind in RBAC_KINDS and manifest.group == "rbac.authorization.k8s.io":
            rbac.append((manifest, digest(manifest.body)))
            continue
        if kind == "ServiceAccount" and manifest.group == "":
            accounts.append(manifest)
            continue
        if kind == "Service" and manifest.group == "":
            services.append(manifest)
            continue
        spec = pod_spec(manifest)
        if spec is not None:
            pods.append((spec, digest(manifest.body)))
    return RenderIndex(tuple(pods), tuple(rbac), tuple(accounts), tuple(services), frozenset(groups))


#: Render indexes by the identity of the render's manifest list (renders of identical inputs share it).
_MEMO = memo.IdentityMemo(512)


def render_index(render: "Render") -> RenderIndex:
    """`build_index` of the render, memoised: renders that share their objects share one index."""
    return _MEMO.get(render.manifests, build_index)


# --- the chart-wide view ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """A distinct object body (a pod spec's owner, an RBAC object ...) and the scenarios rendering it."""

    item: Any  # PodSpec or Manifest
    scenarios: tuple[str, ...]

    @property
    def manifest(self) -> Manifest:
        return self.item.owner if isinstance(self.item, PodSpec) else self.item


@dataclass
class ChartView:
    """Every planned scenario of a chart that rendered, indexed once per distinct render."""

    renders: list[tuple[tuple[str, ...], RenderIndex]]  # (scenario names sharing a render, its index)
    scenarios: tuple[str, ...]  # every scenario that rendered, in plan order
    shipped_crd_groups: frozenset[str] = frozenset()  # groups of the CRDs in the chart's crds/ dirs
    # `helm test` hooks (Pods, and any object annotated as one) run only on `helm test`, never with the
    # release: the posture rules leave them out unless `judge-test-hooks = true`. Here, once, for all.
    judge_test_hooks: bool = False

    def _distinct(self, items) -> list[Seen]:
        found: dict[tuple, tuple[Any, list[str]]] = {}
        for names, index in self.renders:
            for item, body_digest, manifest in items(index):
                if not self.judge_test_hooks and _helm_test(manifest):
                    continue
                key = (manifest.resource_id, manifest.source, body_digest)
                entry = found.setdefault(key, (item, []))
                entry[1].extend(names)
        return [Seen(item, tuple(names)) for item, names in found.values()]

    def pods(self) -> list[Seen]:
        """Each distinct pod spec (by its owner's body) with the scenarios that render it."""
        return self._distinct(lambda index: ((p, d, p.owner) for p, d in index.pods))

    def rbac(self, *kinds: str) -> list[Seen]:
        return self._distinct(lambda index: ((m, d, m) for m, d in index.rbac if not kinds or m.kind in kinds))

    @property
    def crd_groups(self) -> frozenset[str]:
        """API groups the chart defines: CRDs in crds/ directories and CRDs any scenario renders."""
        rendered = frozenset().union(*(index.crd_groups for _, index in self.renders))
        return self.shipped_crd_groups | rendered


def hardening_switches(values: dict) -> list[tuple[str, ...]]:
    """Values paths of the chart's own hardening switches that default to on
    (`containerSecurityContext.enabled`, `livenessProbe.enabled`, a block of runAsUser ... with `enabled`)."""
    found = []
    for path, leaf in iter_leaves(values):
        if leaf is not True or len(path) < 2 or path[-1] not in ("enabled", "enable"):
            continue
        block = get_path(values, path[:-1], {})
        if HARDENING_BLOCK.search(path[-2]) or (isinstance(block, dict) and HARDENING_FIELDS & set(block)):
            found.append(path)
    return found


def account_blocks(values: dict) -> list[tuple[tuple[str, ...], bool, str]]:
    """(path of `create`, create, name) of each ServiceAccount block of the values
    (`serviceAccount: {create, name}`): with `create` off, the chart's user supplies the account."""
    found = []
    for path, leaf in iter_leaves(values):
        if len(path) >= 2 and path[-1] == "create" and isinstance(leaf, bool) and ACCOUNT_BLOCK.search(path[-2]):
            block = get_path(values, path[:-1], {})
            found.append((path, leaf, str(block.get("name") or "") if isinstance(block, dict) else ""))
    return found


def account_switches(values: dict) -> list[tuple[str, ...]]:
    """Values paths of the ServiceAccount `create` switches that default to on."""
    return [path for path, create, _ in account_blocks(values) if create]


def scenarios_keeping(ctx: "ChartContext", switches) -> list:
    """The planned scenarios that keep every switch `switches(chart defaults)` finds on: a scenario
    that turns the chart's own securityContext, probes or ServiceAccount off is its user's choice."""
    chart = getattr(ctx, "chart", None)
    defaults = getattr(chart, "effective_values", None)
    found = switches(defaults) if isinstance(defaults, dict) else []
    if not found:
        return list(ctx.scenarios)
    return [s for s in ctx.scenarios if all(get_path(ctx.values_for(s), path, None) is True for path in found)]


def chart_view(ctx: "ChartContext", *, posture: bool = False, keeping=None) -> ChartView:
    """The chart's planned scenarios that rendered (failed and infeasible renders are RENDER-001's
    and the planner's to report), grouped by shared render. `posture`: only the scenarios that keep
    the chart's hardening switches on (hardening warnings judge the chart, not a user's opt-out);
    `keeping`: only those keeping the switches that function finds on."""
    from chartgate.check.definition import NotApplicable

    grouped: dict[int, tuple[list[str], RenderIndex]] = {}
    scenarios: list[str] = []
    keeping = hardening_switches if posture else keeping
    for scenario in (scenarios_keeping(ctx, keeping) if keeping else ctx.scenarios):
        render = ctx.try_render(scenario)
        if not render.ok:
            continue
        scenarios.append(scenario.name)
        entry = grouped.setdefault(id(render.manifests), ([], render_index(render)))
        entry[0].append(scenario.name)
    if not scenarios:
        raise NotApplicable("no planned scenario that keeps the chart's own switches on rendered" if keeping
                            else "no planned scenario rendered; the render check reports why")
    chart = getattr(ctx, "chart", None)
    shipped = frozenset()
    if chart is not None and hasattr(chart, "crd_documents"):
        shipped = frozenset(str(_mapping(doc.get("spec")).get("group")) for _, doc in chart.crd_documents()
                            if _mapping(doc.get("spec")).get("group"))
    return ChartView([(tuple(names), index) for names, index in grouped.values()], tuple(scenarios), shipped,
                     judge_test_hooks=bool(getattr(ctx, "judge_test_hooks", False)))


def waiver_hint(policy_id: str, chart: str, manifest: Manifest, when: str = "If it really needs this") -> str:
    """How a maintainer accepts a finding the workload really needs."""
    return (f"{when}, add a waiver with a reason (policy: {policy_id}, chart: {chart}, "
            f"resource: \"{manifest.resource_id}\").")


# --- one finding per defect ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One defect on one object, seen in some scenarios."""

    manifest: Manifest
    scenarios: tuple[str, ...]
    path: str  # JSONPath of the offending field
    what: str  # what is wrong
    advice: str  # what to change (and how to waive)
    value: Any = field(default=None)  # the excerpt shown in reports
    # What makes two problems one defect, besides the object: a stable cause such as
    # ("container 'app'", "privileged") - never an index or a message. None: (path, what).
    key: tuple | None = None


def where(scenarios: list[str] | tuple[str, ...], every: tuple[str, ...] = ()) -> str:
    """`scenario default`, `scenarios a, b, c and 4 more`, or `all 12 scenarios` (every one that
    rendered)."""
    if every and len(every) > 1 and set(scenarios) >= set(every):
        return f"all {len(every)} scenarios"
    shown = ", ".join(scenarios[:3]) + (f" and {len(scenarios) - 3} more" if len(scenarios) > 3 else "")
    return f"scenario{'s' if len(scenarios) > 1 else ''} {shown}"


def report_once(problems: Iterable[Problem], every: tuple[str, ...] = ()) -> Iterator["Finding"]:
    """One finding per (object, cause), however many scenarios, body variants or container positions
    show it; the first problem's message and path stand for the others."""
    from chartgate.check.definition import Finding

    merged: dict[tuple, tuple[Problem, list[str]]] = {}
    for problem in problems:
        manifest = problem.manifest
        key = (manifest.resource_id, problem.key or (problem.path, problem.what))
        first, scenarios = merged.setdefault(key, (problem, []))
        seen = set(scenarios)
        scenarios.extend(s for s in problem.scenarios if s not in seen and not seen.add(s))
    order = {name: i for i, name in enumerate(every)}
    for problem, scenarios in merged.values():
        scenarios.sort(key=lambda s: order.get(s, len(order)))
        yield Finding.on(problem.manifest, problem.path,
                         f"{problem.what} ({where(scenarios, every)}). {problem.advice}",
                         value=problem.value, key=": ".join(map(str, problem.key or ())), scenarios=scenarios)


__all__ = ["CONTAINER_LISTS", "ChartView", "Container", "INHERITED_FIELDS", "LONG_RUNNING_KINDS", "PodSpec",
           "Problem", "RenderIndex", "Seen", "build_index", "chart_view", "effective_security_context",
           "hardening_switches", "account_blocks", "account_switches", "scenarios_keeping",
           "pod_spec", "pod_specs", "render_index", "report_once", "waiver_hint", "where"]
