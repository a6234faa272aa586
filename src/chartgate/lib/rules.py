"""Container and pod rules written as a predicate over a container (or pod) view.

A rule says what is wrong with one container; the helper walks every distinct pod spec of every
planned scenario that rendered (`chartgate.lib.podspec.chart_view`), reports each defect once with
the scenarios that show it, and ends each message with how to waive it for the running policy:

    @policy(id="SEC-001", ..., receives="chart", remediation="Remove `privileged` ...")
    def no_privileged_containers(ctx):
        def privileged(c: Container):
            if c.security.get("privileged") is True:
                yield Violation(f"{c.path}.securityContext.privileged", f"{c.label} runs privileged")
        yield from container_findings(ctx, privileged)

The message says what is wrong (and where); what to change is the policy's `remediation`, said
once for the rule in reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from chartgate.core.jsonpaths import up_to_missing
from chartgate.parse.manifests import Manifest
from chartgate.check.definition import Finding, NotApplicable, Severity, running_policy
from chartgate.lib.podspec import Container, PodSpec, Problem, Seen, chart_view, report_once, waiver_hint


@dataclass(frozen=True)
class Violation:
    """One thing a rule finds wrong with a container or a pod.

    `path` is the JSONPath of the offending field (of a missing one, where it goes: the finding names
    the first key the object lacks, `.resources.limits` when there are no limits), `what` the message
    (what is wrong, naming the container: `c.label`), `value` the excerpt reports show. `cause` tells
    two violations on one object apart, stable across scenarios: by default a container violation is
    one defect per container and field (the path's last part), a pod violation one per path and
    message."""

    path: str
    what: str
    value: Any = None
    cause: tuple = ()


ContainerRule = Callable[[Container], Iterable[Violation]]
PodRule = Callable[[PodSpec], Iterable[Violation]]

NO_POD = "no planned scenario renders a pod template (workload, Pod or custom resource with spec.template)"
NO_WORKLOAD_POD = "no planned scenario renders a pod template (other than `helm test` hooks)"


def accept_hint(ctx: Any, manifest: Manifest, when: str | None = None) -> str:
    """How a maintainer accepts a finding of the running policy on `manifest`: a waiver naming the
    policy, the chart and the resource. `when` opens the sentence; by default `To accept it` for a
    warning and `If it really needs this` for an error."""
    running = running_policy()
    if when is None:
        when = "To accept it" if running.severity is Severity.WARNING else "If it really needs this"
    return waiver_hint(running.id, ctx.name, manifest, when)


def _pods(ctx: Any, *, posture: bool, workload_only: bool):
    view = chart_view(ctx, posture=posture)
    found = [seen for seen in view.pods() if not (workload_only and seen.item.helm_test)]
    if not found:
        raise NotApplicable(NO_WORKLOAD_POD if workload_only else NO_POD)
    return view, found


def container_findings(ctx: Any, rule: ContainerRule, *, linux_only: bool = False, posture: bool = False,
                       workload_only: bool = False) -> Iterator[Finding]:
    """The findings of a container rule on every container of the chart's pod specs (containers,
    init and ephemeral containers), one per container (by name) and cause, naming the scenarios.

    `linux_only`: skip pods with `os.name: windows` (Linux-only settings). `posture`: a hardening
    warning, judged only on the scenarios that keep the chart's own hardening switches on.
    `workload_only`: only the containers that run alongside the application (containers and
    sidecars; not one-shot init or ephemeral containers) of pods other than `helm test` hooks.
    Raises NotApplicable when no planned scenario renders such a pod."""
    view, found = _pods(ctx, posture=posture, workload_only=workload_only)

    def problems() -> Iterator[Problem]:
        for seen in found:
            pod: PodSpec = seen.item
            if linux_only and pod.windows:
                continue
            for container in pod.containers:
                if workload_only and not container.runs_alongside:
                    continue
                for violation in rule(container):
                    yield _problem(ctx, seen, violation,
                                   (container.label, *(violation.cause or (violation.path.rsplit(".", 1)[-1],))))
    yield from report_once(problems(), view.scenarios)


def pod_findings(ctx: Any, rule: PodRule) -> Iterator[Finding]:
    """The findings of a pod rule on every distinct pod spec of the chart, one per object and cause
    (by default its path and message), naming the scenarios. Raises NotApplicable when no planned
    scenario renders a pod template."""
    view, found = _pods(ctx, posture=False, workload_only=False)
    yield from report_once((_problem(ctx, seen, violation, tuple(violation.cause) or None)
                            for seen in found for violation in rule(seen.item)), view.scenarios)


def _problem(ctx: Any, seen: Seen, violation: Violation, key: tuple | None) -> Problem:
    # A missing field's finding names the first key to add (its path resolves in the object);
    # the defect's key still comes from the violation's own path.
    path = up_to_missing(seen.manifest.body, violation.path)
    return Problem(seen.manifest, seen.scenarios, path, violation.what, accept_hint(ctx, seen.manifest),
                   violation.value, key)


__all__ = ["ContainerRule", "PodRule", "Violation", "accept_hint", "container_findings", "pod_findings"]
