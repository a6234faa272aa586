"""Resource requests, memory limits and health probes (SEC-010 ... SEC-012), judged across every
planned scenario that rendered, each defect reported once with the scenarios that show it.

All three are warnings: upstream charts deliberately leave `resources: {}` to the operator (as
`helm create` does), and a maintainer can accept that with a waiver; they are not grants of
privilege. CPU limits are not required (CPU is throttled, never exhausted, and limits cause
throttling under bursts); a memory limit is (memory is exhausted, and the node's OOM killer then
picks victims among other tenants' pods too).

Judged: containers and sidecars (init containers with restartPolicy: Always) - not one-shot init
containers, ephemeral containers (which cannot set either), or `helm test` hook pods (they run only
on `helm test`). Probes are judged on long-running built-in workloads only (Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController): Jobs finish, and platforms such as Knative add
default probes to the templates of their custom resources. A readiness probe is asked for only
where a Service of the same render routes traffic to the pods.
"""

from __future__ import annotations

from typing import Iterator

from chartgate import ChartContext, NotApplicable, Severity, policy
from chartgate.podspec import LONG_RUNNING_KINDS, Container, PodSpec, Problem, chart_view, report_once, waiver_hint

REFERENCE = "docs/policies.md#sec"


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def judged_containers(ctx: ChartContext, policy_id: str, judge):
    """One finding per container (by name) and field at fault."""
    view = chart_view(ctx)
    found = view.pods()  # `helm test` hooks are left out there (setting judge-test-hooks)
    if not found:
        raise NotApplicable("no planned scenario renders a pod template (other than `helm test` hooks)")

    def problems() -> Iterator[Problem]:
        for seen in found:
            pod: PodSpec = seen.item
            for container in pod.containers:
                if not container.runs_alongside:
                    continue
                for path, what, advice, value in judge(container):
                    yield Problem(seen.manifest, seen.scenarios, path, what,
                                  f"{advice} {waiver_hint(policy_id, ctx.name, seen.manifest, 'To accept it')}", value,
                                  (container.label, path.rsplit(".", 1)[-1]))
    yield from report_once(problems(), view.scenarios)


def resource(container: Container, section: str, name: str):
    """The container's `resources.<section>.<name>`, else the pod-level `resources` (Kubernetes 1.32+
    PodLevelResources), which bounds every container of the pod."""
    own = _mapping(_mapping(container.body.get("resources")).get(section)).get(name)
    if own not in (None, ""):
        return own
    return _mapping(_mapping(container.pod.spec.get("resources")).get(section)).get(name) or None


@policy(
    id="SEC-010",
    title="Containers request CPU and memory",
    severity=Severity.WARNING,
    rationale="""Without requests the scheduler places a pod as if it needed nothing: nodes are
    overcommitted, and the pod is BestEffort, the first evicted under pressure. A limit without a
    request counts (Kubernetes copies the limit into the request).""",
    reference=REFERENCE,
)
def requests_set(ctx: ChartContext):
    def judge(c: Container):
        missing = [name for name in ("cpu", "memory")
                   if resource(c, "requests", name) is None and resource(c, "limits", name) is None]
        if missing:
            yield (f"{c.path}.resources.requests", f"{c.label} requests no {' and no '.join(missing)}",
                   "Without requests the scheduler overcommits the node and the pod is evicted first. Set "
                   f"resources.requests.{'/'.join(missing)} (usually through the chart's `resources` value).",
                   {"resources": c.body.get("resources")})
    yield from judged_containers(ctx, "SEC-010", judge)


@policy(
    id="SEC-011",
    title="Containers set a memory limit",
    severity=Severity.WARNING,
    rationale="""A container without a memory limit grows until the node runs out of memory, and
    the kernel's OOM killer then picks victims among every pod on the node. A CPU limit is not
    required: CPU is throttled, not exhausted.""",
    reference=REFERENCE,
)
def memory_limit_set(ctx: ChartContext):
    def judge(c: Container):
        if resource(c, "limits", "memory") is None:
            yield (f"{c.path}.resources.limits.memory", f"{c.label} has no memory limit",
                   "A leak then takes the node's memory from every pod on it. Set resources.limits.memory.",
                   {"resources": c.body.get("resources")})
    yield from judged_containers(ctx, "SEC-011", judge)


@policy(
    id="SEC-012",
    title="Long-running containers have a liveness probe, and pods behind a Service a readiness probe",
    severity=Severity.WARNING,
    rationale="""Without a liveness probe a hung process is never restarted. Without a readiness probe
    on any of its containers, a pod behind a Service receives traffic as soon as it starts, and a
    rolling update proceeds past pods that never become ready; a pod no Service selects (a
    leader-elected controller) needs none. Judged per render: a Service of the same render must
    select the pod's labels.""",
    reference=REFERENCE,
    kinds=LONG_RUNNING_KINDS,
)
def probes_set(ctx: ChartContext):
    view = chart_view(ctx, posture=True)  # a scenario switching the chart's probes off is its user's choice
    judged = False

    def problems() -> Iterator[Problem]:
        nonlocal judged
        for names, index in view.renders:
            for pod, _ in index.pods:
                if not pod.long_running or pod.helm_test:
                    continue
                judged = True
                hint = waiver_hint("SEC-012", ctx.name, pod.owner, "To accept it")
                containers = [c for c in pod.containers if c.list_name == "containers"]
                for c in containers:
                    if not isinstance(c.body.get("livenessProbe"), dict):
                        yield Problem(pod.owner, names, f"{c.path}.livenessProbe", f"{c.label} has no liveness probe",
                                      f"A hung process is then never restarted. Add a livenessProbe on its health "
                                      f"endpoint. {hint}", {"name": c.name, "livenessProbe": None},
                                      (c.label, "livenessProbe"))
                services = index.serving(pod)
                if services and containers and not any(isinstance(c.body.get("readinessProbe"), dict)
                                                       for c in containers):
                    shown = ", ".join(sorted(s.name for s in services))
                    yield Problem(pod.owner, names, f"{containers[0].path}.readinessProbe",
                                  f"its pods are behind Service {shown} but no container has a readiness probe",
                                  "The Service then routes traffic to a pod before it is ready, and rollouts proceed "
                                  f"past pods that never become ready. Add a readinessProbe to {containers[0].label}. "
                                  f"{hint}", {"name": containers[0].name, "readinessProbe": None},
                                  ("readinessProbe",))
    found = list(problems())
    if not judged:
        raise NotApplicable("no planned scenario renders a long-running workload (Deployment, StatefulSet, "
                            "DaemonSet, ReplicaSet)")
    yield from report_once(found, view.scenarios)
