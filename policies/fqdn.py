"""No hardcoded FQDN: the Sovereign domain comes from the cluster overlay, never from the chart.

Three angles on one contract:
- FQDN-001 reads the defaults (values.yaml of the umbrella and its subcharts, blueprint configSchema).
- FQDN-002 renders with a sentinel domain in every FQDN input and looks for any other DNS name in the
  output, also inside JSON/YAML/TOML/INI documents embedded in strings (ConfigMap data, annotations).
- FQDN-003 renders without the cluster overlay and without an FQDN: the chart must either not need it
  or stop with a `required`/`fail` error naming the key, never fall back to a built-in domain.

What is *not* a hardcoded domain, and why (anything else needs `fqdn.allow` in the platform file or a
waiver with a reason):
- the sentinel and names under it; names in the platform's `fqdn.allow`;
- cluster-local names (`*.svc`, `*.cluster.local`): they never leave the cluster;
- API groups (of the render's apiVersions, shipped and rendered CRDs, RBAC and webhook `apiGroups`,
  built-in Kubernetes groups, the platform's Blueprint APIs), CRD names `<plural>.<group>`, and
  `<group>/<path>` strings such as a GatewayClass controllerName: they are identifiers, not hosts;
- label, annotation and taint key prefixes (`app.kubernetes.io/name`): identifiers as well;
- image references (fields whose key mentions `image`, `registry`, or a whole `host/path:tag` string):
  where images come from is the image-pinning policy's business, not this one's;
- Kubernetes field paths (`fieldPath: metadata.namespace`) and admission webhook names
  (`webhooks[].name`, which Kubernetes requires to look fully qualified but never resolves);
- `description` fields of CustomResourceDefinitions (schema documentation, not configuration).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable, Iterator

from chartgate import ChartContext, ChartFailed, Finding, NotApplicable, ScenarioContext, ScenarioKind, policy
from chartgate.dnsnames import Occurrence, find_names, is_cluster_local, is_within, jsonpath
from chartgate.kube import builtin_groups
from chartgate.values import Path_, dotted, get_path, iter_leaves

REFERENCE = ("DESIGN.md, contract 5 (no hardcoded FQDN); seed: bp-knative 'Sovereign FQDN sourced from values, "
             "no hardcoded fallback'")

FQDN_WORDS = {"fqdn", "domain", "domains"}  # keys that carry the cluster's domain (the FQDN inputs)
HOST_WORDS = {"host", "hosts", "hostname", "hostnames"}  # keys that name a host; must default empty too
FIELD_PATH_ROOTS = {"metadata", "spec", "status"}
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_API_VERSION_LINE = re.compile(r"^\s*apiVersion:\s*[\"']?([a-z0-9.-]+\.[a-z0-9-]+)/", re.MULTILINE)
_IMAGE_REFERENCE = re.compile(r"[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::\w[\w.-]{0,127}|@sha256:[0-9a-f]{64})")
_LISTEN_ADDRESSES = {"localhost", "*", ""}


def key_words(key: Any) -> list[str]:
    """`sovereignFqdn` -> ["sovereign", "fqdn"]; `ingress-domain` -> ["ingress", "domain"]."""
    return [w.lower() for w in _WORDS.findall(str(key))]


def names_key(key: Any, words: set[str]) -> bool:
    found = key_words(key)
    return bool(found) and found[-1] in words


# --- the chart's FQDN inputs ------------------------------------------------------------------------


def schema_properties(schema: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, dict]]:
    """Every (values path, property schema) of a blueprint configSchema."""
    if not isinstance(schema, dict):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield prefix + (str(key),), sub
            yield from schema_properties(sub, prefix + (str(key),))


def config_schema(chart) -> dict:
    spec = (chart.blueprint or {}).get("spec") or {}
    return spec.get("configSchema") or {}


def fqdn_inputs(chart) -> list[Path_]:
    """Values paths whose key says it is the cluster's FQDN or domain (values.yaml or configSchema)."""
    found = {path for path, value in iter_leaves(chart.effective_values)
             if path and names_key(path[-1], FQDN_WORDS) and (value is None or isinstance(value, (str, list)))}
    found |= {path for path, prop in schema_properties(config_schema(chart))
              if names_key(path[-1], FQDN_WORDS) and prop.get("type", "string") in ("string", "array")}
    return sorted(found)


def sentinel_values(chart, sentinel: str) -> list[tuple[str, Any]]:
    """`--set-json` pairs putting the sentinel into every FQDN input (a list input gets a one-item list)."""
    pairs = []
    for path in fqdn_inputs(chart):
        current = get_path(chart.effective_values, path, None)
        pairs.append((dotted(path), [sentinel] if isinstance(current, list) else sentinel))
    return pairs


# --- which names are acceptable ---------------------------------------------------------------------


def api_groups_of(ctx: ChartContext, manifests: Iterable = ()) -> set[str]:
    """Every API group the chart, its render or the platform knows about."""
    groups = {g for v in ctx.kube_versions for g in builtin_groups(v)}
    groups |= {g for gs in (ctx.platform.blueprint_apis or {}).values() for g in gs}
    groups |= {str((doc.get("spec") or {}).get("group", "")) for _, doc in ctx.chart.crd_documents()}
    for text in ctx.chart.all_templates().values():
        groups |= set(_API_VERSION_LINE.findall(text))
    for manifest in manifests:
        groups.add(manifest.group)
        if manifest.kind == "CustomResourceDefinition":
            groups.add(str((manifest.body.get("spec") or {}).get("group", "")))
        groups |= set(_api_groups_lists(manifest.body))
    return {g for g in groups if g}


def _api_groups_lists(node: Any) -> Iterator[str]:
    """Entries of every `apiGroups:` list (RBAC rules, webhook rules) in an object."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "apiGroups" and isinstance(value, list):
                yield from (str(g) for g in value)
            else:
                yield from _api_groups_lists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _api_groups_lists(item)


def exemption(occ: Occurrence, *, sentinel: str | None, allow: Iterable[str], api_groups: set[str],
              kind: str = "") -> str | None:
    """Why a DNS name is acceptable here, or None when it is a hardcoded domain."""
    name = occ.name
    if sentinel and is_within(name, sentinel):
        return "the sentinel FQDN"
    if any(is_within(name, domain) for domain in allow):
        return "allowed by the platform's fqdn.allow"
    if is_cluster_local(name):
        return "cluster-local"
    if name in api_groups or name.partition(".")[2] in api_groups:
        return "an API group (or a CRD name <plural>.<group>)"
    key = occ.key
    text = occ.text.strip()
    if text.startswith(name + "/") and (occ.in_key or key == "key" or str(key).endswith("Key")):
        return "a label/annotation key prefix"
    # `image: ...`, `image: {repository: ...}`, `imageRegistry: ...`: the field or its parent names an image.
    if any("image" in k.lower() for k in occ.keys()[-2:]) or key == "registry" or (
            _IMAGE_REFERENCE.fullmatch(text) and text.startswith(name)):
        return "an image reference"
    if key == "fieldPath" or name.partition(".")[0] in FIELD_PATH_ROOTS:
        return "a Kubernetes field path"
    trail = occ.inner[-1][1] if occ.inner else occ.trail
    if len(trail) >= 3 and trail[-3] == "webhooks" and isinstance(trail[-2], int) and key == "name":
        return "an admission webhook name"
    if kind == "CustomResourceDefinition" and key == "description":
        return "CRD schema documentation"
    return None


def where(occ: Occurrence) -> str:
    return occ.path + (f" (inside the embedded {occ.inner_path})" if occ.inner else "")


# --- FQDN-001: defaults -----------------------------------------------------------------------------


def values_file(ctx: ChartContext, path: Path_) -> str:
    """The values.yaml that sets `path` by default: the umbrella's, unless only a subchart sets it."""
    if path and path[0] in ctx.chart.subcharts and get_path(ctx.chart.values, path, None) is None:
        return f"{ctx.name}/charts/{path[0]}/values.yaml"
    return f"{ctx.name}/values.yaml"


def is_listen_address(value: str) -> bool:
    """`0.0.0.0`, `::`, `localhost`, `*`, a single-label in-cluster name: not a domain."""
    value = value.strip()
    if value in _LISTEN_ADDRESSES or "." not in value and re.fullmatch(r"[a-z0-9-]+", value):
        return True
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def nonempty_host_default(key: str, value: Any) -> bool:
    """A domain/FQDN key with any non-empty default, or a host key defaulting to more than an address."""
    items = value if isinstance(value, list) else [value]
    strings = [v for v in items if isinstance(v, str) and v.strip() and not is_cluster_local(v)]
    if names_key(key, FQDN_WORDS):
        return bool(strings)
    return names_key(key, HOST_WORDS) and any(not is_listen_address(v) for v in strings)


@policy(
    id="FQDN-001",
    title="No default value holds a domain, and domain/host keys default to empty",
    rationale="""A default domain ships to every Sovereign cluster that forgets to override it, and
    traffic or certificates silently go to someone else's name. The Sovereign FQDN comes from the
    cluster overlay; defaults (umbrella and subchart values, blueprint configSchema) stay empty.""",
    reference=REFERENCE,
)
def defaults_hold_no_domain(ctx: ChartContext):
    groups = api_groups_of(ctx)
    allow = ctx.platform.fqdn_allow
    flagged: set[str] = set()
    for path, value in iter_leaves(ctx.chart.effective_values):
        if path and nonempty_host_default(path[-1], value):
            flagged.add(jsonpath(path))
            yield Finding(f"`{dotted(path)}` defaults to {value!r}; a key that names a domain or host must "
                          "default to empty and be set by the cluster overlay. Remove the default (and make "
                          "the chart `required` it where it is needed), or add a waiver with a reason.",
                          template=values_file(ctx, path), path=jsonpath(path), excerpt=f"{dotted(path)}: {value!r}")
    for occ in find_names(ctx.chart.effective_values):
        if occ.path in flagged or exemption(occ, sentinel=None, allow=allow, api_groups=groups):
            continue
        flagged.add(occ.path)
        path = tuple(p for p in occ.trail if isinstance(p, str))
        yield Finding(f"the default of `{dotted(path)}` contains the domain '{occ.name}' at {where(occ)}; no "
                      "domain may be hardcoded in values. Derive it from the cluster's FQDN input, list it in "
                      "`fqdn.allow` of the platform file if it is a deliberate external dependency, or add a "
                      "waiver with a reason.", template=values_file(ctx, path), path=occ.path, excerpt=occ.text)
    yield from schema_defaults(ctx, groups, allow)


def schema_defaults(ctx: ChartContext, groups: set[str], allow) -> Iterator[Finding]:
    bp = str(ctx.chart.blueprint_path or f"{ctx.name}/blueprint.yaml")
    for path, prop in schema_properties(config_schema(ctx.chart)):
        if "default" not in prop:
            continue
        default = prop["default"]
        schema_path = "$.spec.configSchema" + "".join(f".properties.{p}" for p in path) + ".default"
        names = [o.name for o in find_names(default)
                 if not exemption(o, sentinel=None, allow=allow, api_groups=groups)]
        if nonempty_host_default(path[-1], default) or names:
            yield Finding(f"blueprint configSchema gives `{dotted(path)}` the default {default!r}; domains and "
                          "hosts must not have defaults. Remove the default, or add a waiver with a reason.",
                          template=bp, path=schema_path, excerpt=f"default: {default!r}")


# --- FQDN-002: the render with the sentinel ---------------------------------------------------------


def sentinel_render(ctx: ChartContext, scenario):
    """`scenario` rendered with the sentinel in every FQDN input (the scenario itself when there are none)."""
    pairs = sentinel_values(ctx.chart, ctx.platform.fqdn_sentinel)
    if not pairs:
        return ctx.render(scenario)
    return ctx.render(ctx.variant(scenario, "fqdn-sentinel", set_values=pairs))


def hardcoded_names(ctx: ChartContext, manifests, sentinel: str | None) -> Iterator[tuple[Any, Occurrence]]:
    """(manifest, occurrence) for every DNS name in the render that no exemption covers."""
    groups = api_groups_of(ctx, manifests)
    for manifest in manifests:
        seen = set()
        for occ in find_names(manifest.body):
            if (occ.name, occ.path, occ.inner) in seen:
                continue
            seen.add((occ.name, occ.path, occ.inner))
            if not exemption(occ, sentinel=sentinel, allow=ctx.platform.fqdn_allow, api_groups=groups,
                             kind=manifest.kind):
                yield manifest, occ


@policy(
    id="FQDN-002",
    title="With a sentinel FQDN, every DNS name in the render is the sentinel, cluster-local or an identifier",
    scenarios=(ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.OPT_IN, ScenarioKind.CI,
               ScenarioKind.OVERLAY, ScenarioKind.PLAN, ScenarioKind.RELEASE),
    rationale="""A domain written into a template, a ConfigMap's embedded JSON or an annotation is
    invisible in values.yaml but just as hardcoded. Rendering with a sentinel domain in every FQDN
    input makes every other domain in the output stand out.""",
    reference=REFERENCE,
)
def render_names_only_the_sentinel(ctx: ScenarioContext):
    sentinel = ctx.chart.platform.fqdn_sentinel
    render = sentinel_render(ctx.chart, ctx.scenario)
    inputs = ", ".join(dotted(p) for p in fqdn_inputs(ctx.chart.chart)) or "none: the chart has no FQDN input"
    for manifest, occ in hardcoded_names(ctx.chart, render.manifests, sentinel):
        yield Finding.on(manifest, occ.path,
                         f"'{occ.name}' at {where(occ)} is a hardcoded domain: rendered with the sentinel "
                         f"'{sentinel}' in the FQDN inputs ({inputs}), every DNS name must be the sentinel or "
                         "under it, cluster-local, an API group, a label key prefix or an image reference. "
                         "Derive it from the FQDN input, list it in `fqdn.allow` of the platform file if it is a "
                         "deliberate external dependency, or add a waiver with a reason.", value=occ.text)


# --- FQDN-003: no FQDN, no silent fallback ----------------------------------------------------------


def names_the_key(message: str, chart, path: Path_) -> bool:
    """The error names the input: its full values path, or its path inside the subchart that reads it."""
    candidates = {dotted(path)}
    if len(path) > 1 and path[0] in chart.subcharts:
        candidates.add(dotted(path[1:]))
    return any(c in message for c in candidates)


@policy(
    id="FQDN-003",
    title="Without the cluster overlay's FQDN the chart fails loudly, naming the key, or needs none",
    rationale="""A chart that quietly substitutes a built-in domain when the overlay forgets the FQDN
    deploys a working-looking service under the wrong name. Without the FQDN it must either render
    nothing that depends on it, or stop through `required`/`fail` with an error naming the key.""",
    reference=REFERENCE,
)
def missing_fqdn_fails_loudly(ctx: ChartContext):
    inputs = fqdn_inputs(ctx.chart)
    if not inputs:
        raise NotApplicable("the chart has no FQDN input (no values key says fqdn or domain)")
    keys = ", ".join(dotted(p) for p in inputs)
    bare = ctx.variant("default", "no-overlay", values_files=())
    render = ctx.try_render(bare)
    if render.error is not None:
        error = render.error
        if not isinstance(error, ChartFailed):
            yield Finding(f"without the cluster overlay the render breaks with a template error instead of a "
                          f"named one: {error.helm_message}. Guard the FQDN input ({keys}) with `required "
                          f"\"<key> is required: ...\"`.\nreproduce: {error.command}", template=ctx.name)
        elif not any(names_the_key(error.helm_message, ctx.chart, p) for p in inputs):
            yield Finding(f"without the cluster overlay the chart stops, but its error does not name the FQDN "
                          f"key ({keys}): {error.helm_message}. Make the `required`/`fail` message name the "
                          f"key so the operator knows what to set.\nreproduce: {error.command}", template=ctx.name)
        return
    # Names the sentinel replaces were fallbacks for the FQDN; names present either way are hardcoded
    # (FQDN-002 reports those).
    with_sentinel = ctx.render(ctx.variant(bare, "fqdn-sentinel", set_values=sentinel_values(
        ctx.chart, ctx.platform.fqdn_sentinel)))
    kept = {occ.name for _, occ in hardcoded_names(ctx, with_sentinel.manifests, ctx.platform.fqdn_sentinel)}
    for manifest, occ in hardcoded_names(ctx, render.manifests, None):
        if occ.name not in kept:
            yield Finding.on(manifest, occ.path,
                             f"without an FQDN ({keys} unset, no cluster overlay) the chart silently falls back "
                             f"to '{occ.name}' at {where(occ)}. Remove the fallback and guard the input with "
                             "`required \"<key> is required: ...\"` so a missing FQDN fails the render, naming "
                             f"the key.\nreproduce: {render.command}", value=occ.text)
