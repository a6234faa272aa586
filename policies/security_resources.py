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

from chartgate import Applicability, ChartContext, NotApplicable, Severity, policy
from chartgate.lib.podspec import LONG_RUNNING_KINDS, Container, Problem, chart_view, report_once
from chartgate.lib.rules import Violation, accept_hint, container_findings

REFERENCE = "docs/policies.md#sec"


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


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
    receives="chart",
    severity=Severity.WARNING,
    rationale="""Without requests the scheduler places a pod as if it needed nothing: nodes are
    overcommitted, and the pod is BestEffort, the first evicted under pressure. A limit without a
    request counts (Kubernetes copies the limit into the request).""",
    reference=REFERENCE,
    remediation="""Set resources.requests.cpu and resources.requests.memory (usually through the chart's
    `resources` value).""",
)
def requests_set(ctx: ChartContext):
    def judge(c: Container):
        missing = [name for name in ("cpu", "memory")
                   if resource(c, "requests", name) is None and resource(c, "limits", name) is None]
        if missing:
            yield Violation(f"{c.path}.resources.requests", f"{c.label} requests no {' and no '.join(missing)}",
                            {"resources": c.body.get("resources")})
    yield from container_findings(ctx, judge, workload_only=True)


@policy(
    id="SEC-011",
    title="Containers set a memory limit",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""A container without a memory limit grows until the node runs out of memory, and
    the kernel's OOM killer then picks victims among every pod on the node. A CPU limit is not
    required: CPU is throttled, not exhausted.""",
    reference=REFERENCE,
    remediation="Set resources.limits.memory.",
)
def memory_limit_set(ctx: ChartContext):
    def judge(c: Container):
        if resource(c, "limits", "memory") is None:
            yield Violation(f"{c.path}.resources.limits.memory", f"{c.label} has no memory limit",
                            {"resources": c.body.get("resources")})
    yield from container_findings(ctx, judge, workload_only=True)


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
    receives="chart",
    applies_to=Applicability(kinds=LONG_RUNNING_KINDS),
    remediation="""Add a livenessProbe on the health endpoint of each long-running container, and a
    readinessProbe to a container of every pod a Service routes traffic to.""",
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
                hint = accept_hint(ctx, pod.owner)
                containers = [c for c in pod.containers if c.list_name == "containers"]
                for c in containers:
                    if not isinstance(c.body.get("livenessProbe"), dict):
                        yield Problem(pod.owner, names, f"{c.path}.livenessProbe", f"{c.label} has no liveness probe",
                                      hint, {"name": c.name, "livenessProbe": None},
                                      (c.label, "livenessProbe"))
                services = index.serving(pod)
                if services and containers and not any(isinstance(c.body.get("readinessProbe"), dict)
                                                       for c in containers):
                    shown = ", ".join(sorted(s.name for s in services))
                    yield Problem(pod.owner, names, f"{containers[0].path}.readinessProbe",
                                  f"its pods are behind Service {shown} but no container has a readiness probe",
                                  hint, {"name": containers[0].name, "readinessProbe": None},
                                  ("readinessProbe",))
    found = list(problems())
    if not judged:
        raise NotApplicable("no planned scenario renders a long-running workload (Deployment, StatefulSet, "
                            "DaemonSet, ReplicaSet)")
    yield from report_once(found, view.scenarios)
