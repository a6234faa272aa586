"""Property tests over the Blueprint configSchema: every configuration the schema calls valid must
render as cleanly as the default, or be refused by the chart itself with a message naming the key.

Hypothesis draws partial configurations from blueprint.yaml `spec.configSchema` (see
chartgate.plan.strategies), renders each on top of the `capabilities` scenario (so Capabilities-gated
templates are exercised too) and shrinks the first counterexample to a small, reproducible one.

The render-level invariants are deliberately few, cheap and chart-agnostic:
  1. `helm template` succeeds, or fails through the chart's own `fail`/`required` with a message that
     names a values key (any other template error is a defect the user cannot act on);
  2. the output parses into Kubernetes objects (Helm's output is parsed by the renderer);
  3. every object has a string apiVersion, kind and metadata.name (or generateName);
  4. no two objects share an identity (group, kind, namespace, name) - the second would overwrite
     the first on apply.
Only violations the configuration introduces count: whatever the base render already shows is
judged by the per-scenario policies. The other modules' checks (Capabilities gating, UDP range,
FQDN, ingress class) are not re-run per example on purpose: they need scenario context (which API
is advertised, which value was asked for), each would multiply the reports of one defect, and they
already run over every planned scenario; they could be reused by calling their check functions on
a ScenarioContext built from the variant's render if a deeper profile ever wants that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from chartgate import (Applicability, ChartContext, ChartFailed, Finding, HelmCrashed, NotApplicable, Render,
                       RenderError, RenderTimeout, policy)
from chartgate.lib.configspace import active_profile, config_space, smallest_counterexample
from chartgate.lib.values import set_syntax

REFERENCE = "docs/policies.md#prop"
MAX_FINDINGS = 5
_FAIL_PREFIX = re.compile(r"^.*?execution error at \([^)]*\):\s*", re.DOTALL)
_TEMPLATE_IN_ERROR = re.compile(r"([\w.-]+(?:/charts/[\w.-]+)*/templates/[\w./-]+?\.(?:ya?ml|tpl|txt|json))")


@dataclass(frozen=True)
class Violation:
    """One broken invariant in one render; `key` identifies it across renders."""

    key: tuple
    problem: str
    resource: str = ""
    template: str = ""


def base_scenario(ctx: ChartContext) -> str:
    names = {s.name for s in ctx.scenarios}
    for name in ("capabilities", "default"):
        if name in names:
            return name
    raise NotApplicable("the plan has neither a `capabilities` nor a `default` scenario to vary")


def values_keys(ctx: ChartContext, schema_paths) -> set[str]:
    """Names a clear `fail` message may use for a values key: full dotted paths and their last part."""
    paths = set(schema_paths)

    def walk(node, prefix: tuple[str, ...]):
        if isinstance(node, dict):
            for key, child in node.items():
                paths.add(set_syntax(prefix + (str(key),)))
                walk(child, prefix + (str(key),))

    walk(ctx.chart.effective_values, ())
    return {name for path in paths for name in (path, path.rsplit(".", 1)[-1]) if len(name) >= 3}


def names_a_key(message: str, keys: set[str]) -> bool:
    words = set(re.findall(r"[\w.-]+", message)) | set(re.findall(r"\w+", message))
    return any(key in words for key in keys)


def violations(render: Render, keys: set[str]) -> list[Violation]:
    error = render.error
    if isinstance(error, ChartFailed):
        said = _FAIL_PREFIX.sub("", error.helm_message).strip()
        if said and names_a_key(said, keys):
            return []  # the chart refused the configuration itself, and says which key to change
        return [Violation(("unclear-fail",), f"the chart's own `fail`/`required` stops the render with a message "
                          f"that names no values key ({said!r}); say which key to change and how",
                          template=_template_in(error.helm_message))]
    if error is not None:
        return [Violation(("render-error", error.reason), f"`helm template` failed ({error.reason}), not through "
                          f"the chart's own `fail`: {error.helm_message}", template=_template_in(error.helm_message))]
    found, seen = [], {}
    for manifest in render.manifests:
        body, meta = manifest.body, manifest.body.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        name = meta.get("name")
        for field, value in (("apiVersion", body.get("apiVersion")), ("kind", body.get("kind")),
                             ("metadata.name", name if name is not None else meta.get("generateName"))):
            if not isinstance(value, str) or not value:
                found.append(Violation(("bad-field", field, manifest.source, manifest.kind),
                                       f"{manifest.kind} has {field} {value!r}; it must be a non-empty string",
                                       manifest.resource_id, manifest.source))
        if isinstance(name, str) and name:
            identity = manifest.identity()
            if identity in seen:
                found.append(Violation(("duplicate", identity), f"{manifest.resource_id} is rendered twice "
                                       f"({seen[identity]} and {manifest.source}); the second overwrites the first",
                                       manifest.resource_id, manifest.source))
            seen.setdefault(identity, manifest.source)
    return found


def _template_in(message: str) -> str:
    match = _TEMPLATE_IN_ERROR.search(message)
    return match.group(1) if match else ""


def describe(config) -> str:
    return "\n".join(f"  {key} = {json.dumps(value, sort_keys=True)}" for key, value in config) or "  (no values set)"


@policy(
    id="PROP-001",
    title="Every valid configuration renders cleanly or fails through the chart's own `fail`",
    rationale="""blueprint.yaml's configSchema is the contract a cluster overlay is written against:
    any configuration it admits must produce a well-formed release, or be refused by the chart with
    a message that names the key to change. Hypothesis explores that space, not only the handful of
    planned scenarios, and shrinks what it finds to a small reproducible command.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(profile="blueprint", requires=("blueprint-file", "config-schema")),
)
def valid_configurations_render(ctx: ChartContext):
    source = f"{ctx.name}/{ctx.chart.blueprint_path.name}"
    space = config_space(ctx.chart.blueprint, source, ctx.chart.effective_values)  # type-respecting draws
    if space is None:
        raise NotApplicable(f"{source} declares no spec.configSchema")
    base = base_scenario(ctx)
    baseline = ctx.try_render(base)
    if baseline.error is not None:
        raise NotApplicable(f"the `{base}` scenario itself does not render; RENDER-001 reports it")
    keys = values_keys(ctx, space.paths)
    known = {v.key for v in violations(baseline, keys)}  # the base render's own defects are judged elsewhere
    tool_failures: list[RenderError] = []

    def variant(config):
        return ctx.variant(base, "property", set_values=config)

    def render(config) -> Render:
        return ctx.try_render(variant(config))

    def render_in_parallel(configs) -> None:  # warms the renderer's memo; verdicts come after
        ctx.renderer.render_all((ctx.chart, variant(config)) for config in configs)

    def violates(config) -> bool:
        if tool_failures:
            return False
        result = render(config)
        if isinstance(result.error, (HelmCrashed, RenderTimeout)):
            tool_failures.append(result.error)  # Helm itself broke: stop exploring, report it as an error
            return False
        return any(v.key not in known for v in violations(result, keys))

    profile = active_profile()
    counterexample = smallest_counterexample(space.configurations, violates, profile, prefetch=render_in_parallel,
                                             explicit=space.boundaries, bounds=space.bounds)
    if tool_failures:
        raise tool_failures[0]
    if counterexample is None:
        return
    failing = render(counterexample)
    fresh = [v for v in violations(failing, keys) if v.key not in known]
    for violation in fresh[:MAX_FINDINGS]:
        yield Finding(
            f"a configuration {source} declares valid breaks the `{base}` render: {violation.problem}.\n"
            f"Smallest configuration found (Hypothesis profile '{profile.name}', {profile.examples} "
            f"examples, shrunk):\n{describe(counterexample)}\n"
            f"Reproduce: {failing.command}\n"
            "Make the template handle this configuration, refuse it with `fail` naming the key, or narrow "
            f"the key's configSchema (minimum/maximum/enum/pattern) in {source} so it is no longer valid.",
            resource=violation.resource, template=violation.template or source)
