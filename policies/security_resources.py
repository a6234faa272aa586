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
default probes to the templates of their custom resources.
"""

from __future__ import annotations

from typing import Iterator

from chartgate import ChartContext, NotApplicable, Severity, policy
from chartgate.podspec import LONG_RUNNING_KINDS, Container, PodSpec, Problem, chart_view, report_once, waiver_hint

REFERENCE = "docs/policies.md#sec"
PROBE_WHY = {"readiness": "Services route traffic to it before it is ready",
             "liveness": "a hung process is never restarted"}


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def judged_containers(ctx: ChartContext, policy_id: str, judge, *, long_running_only: bool = False):
    view = chart_view(ctx)
    found = [seen for seen in view.pods() if not seen.item.helm_test
             and (seen.item.long_running or not long_running_only)]
    if not found:
        raise NotApplicable("no planned scenario renders a long-running workload (Deployment, StatefulSet, "
                            "DaemonSet, ReplicaSet)" if long_running_only else
                            "no planned scenario renders a pod template (other than `helm test` hooks)")

    def problems() -> Iterator[Problem]:
        for seen in found:
            pod: PodSpec = seen.item
            for container in pod.containers:
                if not container.runs_alongside or (long_running_only and container.list_name != "containers"):
                    continue
                for path, what, advice, value in judge(container):
                    yield Problem(seen.manifest, seen.scenarios, path, what,
                                  f"{advice} {waiver_hint(policy_id, ctx.name, seen.manifest, 'To accept it')}", value)
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
    title="Long-running containers have liveness and readiness probes",
    severity=Severity.WARNING,
    rationale="""Without a readiness probe, Services send traffic to a pod before it is ready and a
    rolling update proceeds past pods that never become healthy; without a liveness probe a hung
    process is never restarted.""",
    reference=REFERENCE,
    kinds=LONG_RUNNING_KINDS,
)
def probes_set(ctx: ChartContext):
    def judge(c: Container):
        missing = [kind for kind in ("readiness", "liveness") if not isinstance(c.body.get(f"{kind}Probe"), dict)]
        if missing:
            yield (f"{c.path}.{missing[0]}Probe", f"{c.label} has no {' and no '.join(missing)} probe",
                   "Without it " + " and ".join(PROBE_WHY[kind] for kind in missing) + ". Add "
                   + " and ".join(f"{kind}Probe" for kind in missing) + " on its health endpoint.",
                   {"name": c.name, **{f"{k}Probe": c.body.get(f"{k}Probe") for k in ("readiness", "liveness")}})
    yield from judged_containers(ctx, "SEC-012", judge, long_running_only=True)
