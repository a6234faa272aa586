"""No hardcoded FQDN: the Sovereign domain comes from the cluster overlay, never from the chart.

Three angles on one contract:
- FQDN-001 reads the defaults (values.yaml of the umbrella and its subcharts, blueprint configSchema).
- FQDN-002 renders with a sentinel domain in every FQDN input and looks for any other DNS name in the
  output, also inside JSON/YAML/TOML/INI documents embedded in strings (ConfigMap data, annotations).
- FQDN-003 renders without the cluster overlay and without an FQDN: the chart must either not need it
  or stop with a `required`/`fail` error naming the key, never fall back to a built-in domain. A
  fallback to an FQDN input's default is FQDN-001's cause, reported on the default (one defect).
FQDN-004 (information) lists, once per chart, public endpoints that shipped data names.

A finding is a name that could be a host on the internet, written where a host is meant. What is *not*
a hardcoded domain, and why (anything else needs `fqdn.allow` in the platform file or a waiver):
- the sentinel and names under it (it ends in `.invalid`, so it is recognised before the next rule);
  names in the platform's `fqdn.allow`;
- names that end in no public suffix of the Public Suffix List (`publicsuffixlist`'s bundled
  snapshot, recorded in the report's provenance): `chart-example.local`, `db.corp.internal`,
  `limits.cpu`, `kubernetes.default`; and cluster-local names (`*.svc`, `*.cluster.local`);
- reverse-DNS identifiers (`com.example.app`, `io.k8s.api`) and file names (`config.yaml`, `app.py`);
- API groups (of the render's apiVersions, shipped and rendered CRDs, RBAC and webhook `apiGroups`,
  built-in Kubernetes groups, the platform's Blueprint APIs, `group`/`apiGroup(s)` fields, also in
  embedded documents) and CRD names;
- identifiers written like domains: RBAC `resourceNames`, fields and `--flags` named `...id`,
  `...class`, `audience` or about leader election/leases, kubebuilder's `<8 hex>.<domain>` election
  ids, lists of label/annotation keys;
- qualified names `<domain>/<name>` without a scheme (`k8s.io/ingress-nginx`, `kubernetes.io/tls`,
  label keys, finalizers) and identifier fields (`provisioner`, `driver`, `controller`, `signerName`
  ...), object names (`metadata.name`, `metadata.finalizers`) and admission webhook names;
- keys of labels, annotations, selectors and ConfigMap/Secret `data` (file names), label values, and
  configuration keys: keys of embedded documents and of `key=value` lines (`spring.application.name`);
- image references (fields whose key mentions `image` or `registry`, or a whole `host/path:tag`);
- Kubernetes field paths (`fieldPath: metadata.namespace`, `resourceFieldRef.resource: limits.cpu`);
- documentation: `description`/`summary`/`docs`/`runbook` fields (also a document embedded in one),
  documentation annotations
  (`artifacthub.io/*`, `.../docs`, `.../source` ...), ConfigMap `_example` blocks (Knative's
  documentation that controllers ignore) and whole comment lines of embedded scripts and configs;
- the upstream chart's own coordinates: values under `catalystBlueprint.upstream` and any value equal
  to a Chart.yaml `dependencies[].repository`, `home` or `sources` URL (a deliberate dependency);
- (FQDN-002) names the scenario's input supplied: ci/ and overlay values files, HelmRelease values;
- public endpoints in shipped data (known_hosts entries, dashboard links): FQDN-004's, as information.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from chartgate import Applicability, ChartContext, ChartFailed, Finding, ScenarioContext, ScenarioKind, Severity, policy
from chartgate.lib.dns import (FQDN_WORDS, HOST_WORDS, Occurrence, config_schema, find_names, fqdn_inputs,
                                has_public_suffix, is_cluster_local, is_reverse_dns, is_within,
                                key_words, list_items_read, names_key, schema_properties)
from chartgate.lib.apis import builtin_groups
from chartgate.lib.configspace import INCOMPATIBLE, conform, current_value
from chartgate.lib.renders import IdentityMemo, jsonpath, trail_of
from chartgate.lib.values import Path_, dotted, get_path, supplied_strings, values_file

REFERENCE = "docs/policies.md#fqdn"
# The cause FQDN-001 (the default) and FQDN-003 (the fallback it makes) share: one defect in the report.
DEFAULT_DOMAIN = "a domain as a default"

FIELD_PATH_ROOTS = {"metadata", "spec", "status"}
# A mapping whose key's last word is one of these holds label/annotation keys (`podAnnotations`,
# `commonLabels`, `matchLabels`, `nodeSelector`).
KEYED_BY_LABELS = frozenset({"labels", "annotations", "selector"})
# ... and one of these holds label values (identifiers used for selection, never resolved).
LABEL_VALUES = frozenset({"labels", "selector"})
DATA_FIELDS = ("data", "binaryData", "stringData")
# Fields that hold identifiers written as domain names (CSI drivers, controllers, signers ...).
IDENTIFIER_FIELDS = frozenset({"provisioner", "driver", "controller", "controllerName", "controllerValue",
                               "signerName", "loadBalancerClass", "schedulerName", "group", "apiGroup",
                               "apiGroups", "resourceName", "resourceNames"})
# ... and fields or `--flags` whose words say so: an id, a class, a token audience, a leader-election
# lock (`leaderElectionID`, `--election-id=`, `ingress-class`, `ingressClassName`, `audience`).
IDENTIFIER_LAST_WORDS = frozenset({"id", "ids", "class", "audience", "audiences"})
IDENTIFIER_WORDS = frozenset({"leader", "election", "lease"})
# Keys holding a list of label or annotation keys (`ignoreAnnotations: [acme-corp.com/x]`).
KEY_LISTS = frozenset({"labels", "annotations", "label", "annotation"})
# kubebuilder's leader-election id: eight hex digits under the project's domain (`92062b70.l7mp.io`).
_LEADER_ELECTION_ID = re.compile(r"[0-9a-f]{8}\.")
# An SSH known_hosts line: `host[,host] <key type> <base64 key>` (`[ssh.github.com]:443 ssh-ed25519 AAAA...`).
_KNOWN_HOSTS_LINE = re.compile(r"^\s*(?:@[\w-]+\s+)?\S+\s+(?:ssh-|ecdsa-|sk-)[\w@.-]+\s+[A-Za-z0-9+/]{20,}")
#: What `exemption` says of an external endpoint the chart's data names: FQDN-004 reports those, once.
EXTERNAL = "an external endpoint"
# A label or annotation key inside a path expression: `.metadata.annotations."acme.io/x"`, a JSON
# pointer `/metadata/annotations/acme.io~1x`, `metadata.labels['acme.io/x']`.
_KEY_IN_PATH = r"(?:annotations|labels)(?:\.|/|\[)\s*[\"']?(?:\*\.)?{}"
_FLAG = r"--([A-Za-z][\w.-]*)(?:=|\s+)[\"']?(?:\*\.)?{}"
OBJECT_NAME_FIELDS = frozenset({"name", "generateName", "namespace", "finalizers"})
# Words of a field that documents rather than configures (`description`, `runbook_url`, `docsUrl`).
DOC_WORDS = frozenset({"description", "summary", "doc", "docs", "documentation", "runbook", "help", "homepage",
                       "readme", "changelog"})
# ... and of an annotation key that does (annotations are metadata; these name where to read more).
DOC_ANNOTATION_WORDS = DOC_WORDS | {"home", "source", "sources", "repo", "repository", "vcs", "license", "links",
                                    "link", "changes", "support", "maintainers", "icon", "website"}
DOC_ANNOTATION_PREFIXES = ("artifacthub.io/",)
UPSTREAM_METADATA = ("catalystBlueprint", "upstream")
_API_VERSION_LINE = re.compile(r"^\s*apiVersion:\s*[\"']?([a-z0-9.-]+\.[a-z0-9-]+)/", re.MULTILINE)
_IMAGE_REFERENCE = re.compile(r"[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+(?::\w[\w.-]{0,127}|@sha256:[0-9a-f]{64})")


# --- the chart's FQDN inputs ------------------------------------------------------------------------


def sentinel_values(chart, sentinel: str) -> list[tuple[str, Any]]:
    """`--set-json` pairs putting the sentinel into every FQDN input, respecting the type there: a
    string (or unset) input gets the sentinel, a list of strings a one-item list (so does an unset one
    the schema calls an array or a template ranges over); a key whose value is a list of objects or a
    mapping is never overwritten (it is no FQDN input, see `fqdn_inputs`)."""
    schema = dict(schema_properties(config_schema(chart)))
    pairs = []
    for path in fqdn_inputs(chart):
        current = current_value(chart.effective_values, path)[1]
        if current is None and ((schema.get(path) or {}).get("type") == "array" or list_items_read(chart, path)):
            current = []
        value = conform(current, sentinel)
        if value is not INCOMPATIBLE:
            pairs.append((dotted(path), value))
    return pairs


# --- which names are acceptable ---------------------------------------------------------------------


def chart_api_groups(ctx: ChartContext) -> frozenset[str]:
    """The API groups known without a render: built in, the platform's, shipped CRDs', templates'.
    Computed once per chart."""
    return ctx.memo(("FQDN", "chart api groups"), lambda: _chart_api_groups(ctx))


def _chart_api_groups(ctx: ChartContext) -> frozenset[str]:
    groups = {g for v in ctx.kube_versions for g in builtin_groups(v)}
    groups |= {g for gs in (ctx.platform.blueprint_apis or {}).values() for g in gs}
    groups |= {str((doc.get("spec") or {}).get("group", "")) for _, doc in ctx.chart.crd_documents()}
    for text in ctx.chart.all_templates().values():
        groups |= set(_API_VERSION_LINE.findall(text))
    return frozenset(groups)


def api_groups_of(ctx: ChartContext, manifests: Iterable = ()) -> set[str]:
    """Every API group the chart, its render or the platform knows about."""
    groups = set(chart_api_groups(ctx))
    for manifest in manifests:
        groups.add(manifest.group)
        if manifest.kind == "CustomResourceDefinition":
            groups.add(str((manifest.body.get("spec") or {}).get("group", "")))
        groups |= _API_GROUP_LISTS.get(manifest.body, lambda body: frozenset(_api_groups_lists(body)))
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


def metadata_urls(chart) -> frozenset[str]:
    """The URLs Chart.yaml files (the umbrella's and its subcharts') name as the chart's own
    coordinates: `dependencies[].repository`, `home`, `sources`."""
    urls = set()
    for each in chart.walk():
        meta = each.chart_yaml or {}
        urls.add(meta.get("home"))
        urls.update(meta.get("sources") or [])
        urls.update(dep.get("repository") for dep in meta.get("dependencies") or [] if isinstance(dep, dict))
    return frozenset(str(u).strip().rstrip("/") for u in urls if isinstance(u, str) and u.strip())


def _has_doc_word(key: str, words: frozenset[str]) -> bool:
    return any(word in words for word in key_words(key))


def exemption(occ: Occurrence, *, sentinel: str | None, allow: Iterable[str], api_groups: set[str],
              kind: str = "", metadata: frozenset[str] = frozenset()) -> str | None:
    """Why a DNS name is acceptable here, or None when it is a hardcoded domain."""
    name = occ.name
    if sentinel and is_within(name, sentinel):
        return "the sentinel FQDN"
    if any(is_within(name, domain) for domain in allow):
        return "allowed by the platform's fqdn.allow"
    if is_cluster_local(name):
        return "cluster-local"
    if is_reverse_dns(name):
        return "a reverse-DNS identifier"
    if not has_public_suffix(name):
        return "not under a public suffix: it cannot be a host on the internet"
    if name in api_groups or name.partition(".")[2] in api_groups:
        return "an API group (or a CRD name <plural>.<group>)"
    if _LEADER_ELECTION_ID.match(name) and any(c.isdigit() for c in name[:8]):
        return "a leader-election id (<8 hex digits>.<domain>)"
    return _position(occ, kind, metadata) or external_endpoint(occ)


def external_endpoint(occ: Occurrence) -> str | None:
    """Why a name is a public endpoint that data the chart ships names (content for a user or a
    client, not where the chart's own services are reached), or None: an SSH known_hosts entry, a
    link in a document (a Grafana dashboard's `links`, a text panel's `content`)."""
    if ("ssh-" in occ.text or "ecdsa-" in occ.text) and any(
            occ.name in line and _KNOWN_HOSTS_LINE.match(line) for line in occ.text.splitlines()):
        return f"{EXTERNAL}: a public host key in an SSH known_hosts list"
    inner = [k for _, trail in occ.inner for k in trail if isinstance(k, str)]
    if any(k in ("links", "link") for k in inner) or ("panels" in inner and inner[-1:] == ["content"]):
        return f"{EXTERNAL}: a link in a document shown to users (a dashboard's links)"
    return None


def _names_identifier(key: str) -> bool:
    words = key_words(key)
    return bool(words) and (words[-1] in IDENTIFIER_LAST_WORDS or words[-2:] == ["class", "name"]
                            or any(w in IDENTIFIER_WORDS for w in words))


def flag_of(occ: Occurrence) -> str:
    """The command-line flag the name is the value of (`--election-id=x.acme.io` -> `election-id`)."""
    match = re.search(_FLAG.format(re.escape(occ.name)), occ.text) if "--" in occ.text else None
    return match.group(1) if match else ""


def _holders(occ: Occurrence) -> list[str]:
    """The field holding the name in each document, outer first: `data.config` then, inside the
    embedded document, `spec.description` -> ["config", "description"]."""
    trails = (occ.trail,) + tuple(t for _, t in occ.inner)
    return [next((p for p in reversed(t) if isinstance(p, str)), "") for t in trails]


def _position(occ: Occurrence, kind: str, metadata: frozenset[str]) -> str | None:
    """Why the place the name sits in is not where a host is meant, or None."""
    keys = occ.keys()
    outer = tuple(p for p in occ.trail if isinstance(p, str))
    holder = keys[-1] if keys else ""  # the field holding the name (the key itself for a key)
    parent = keys[-2] if len(keys) >= 2 else ""  # the mapping holding that field
    text = occ.text.strip()
    if "_example" in keys:
        return "a documentation block (`_example`) the controller ignores"
    if any(_has_doc_word(str(h), DOC_WORDS) for h in _holders(occ)[:-1]):
        return "documentation (a document embedded in a description)"
    if occ.in_key:
        if occ.inner:
            return "a configuration key of an embedded document"
        if names_key(parent, KEYED_BY_LABELS):
            return "a label, annotation or selector key"
        if kind in ("ConfigMap", "Secret") and not occ.inner and len(outer) == 2 and outer[0] in DATA_FIELDS:
            return "a ConfigMap/Secret data key (a file name)"
    elif names_key(parent, LABEL_VALUES):
        return "a label value (an identifier used for selection)"
    if len(outer) >= 2 and names_key(outer[-2], {"annotations"}) and not occ.in_key and (
            outer[-1].startswith(DOC_ANNOTATION_PREFIXES) or _has_doc_word(outer[-1], DOC_ANNOTATION_WORDS)):
        return "a documentation annotation"
    if _has_doc_word(str(holder), DOC_WORDS):
        return "CRD schema documentation" if kind == "CustomResourceDefinition" else "documentation"
    # `image: ...`, `image: {repository: ...}`, `imageRegistry: ...`: the field or its parent names an image.
    if any("image" in k.lower() for k in keys[-2:]) or holder == "registry" or (
            _IMAGE_REFERENCE.fullmatch(text) and text.startswith(occ.name)):
        return "an image reference"
    if occ.form == "qualified":
        return "a qualified name <domain>/<name> (an identifier, not a host)"
    if "/" in occ.before.rstrip("/"):
        return "a segment of a path (after a host or a root), not a host"
    if re.search(_KEY_IN_PATH.format(re.escape(occ.name)), occ.text):
        return "a label or annotation key in a path expression"
    if occ.form == "assignment":
        return "a configuration key (`key=value`)"
    if holder == "fieldPath" or (occ.name.partition(".")[0] in FIELD_PATH_ROOTS and occ.form == "bare") or (
            holder == "resource" and parent == "resourceFieldRef"):
        return "a Kubernetes field path"
    trail = occ.inner[-1][1] if occ.inner else occ.trail
    if len(trail) >= 3 and trail[-3] == "webhooks" and isinstance(trail[-2], int) and occ.key == "name":
        return "an admission webhook name"
    if kind and parent == "metadata" and holder in OBJECT_NAME_FIELDS and not occ.inner:
        return "an object name"
    if holder in IDENTIFIER_FIELDS or (not occ.in_key and _names_identifier(str(holder))):
        return f"an identifier (`{holder}`), not a host"
    flag = flag_of(occ)
    if flag and _names_identifier(flag):
        return f"an identifier (`--{flag}`), not a host"
    innermost = occ.inner[-1][1] if occ.inner else occ.trail
    if innermost and isinstance(innermost[-1], int) and names_key(holder, KEY_LISTS):
        return "a label or annotation key in a list of keys"
    if outer[:2] == UPSTREAM_METADATA and not kind:
        return "the upstream chart's coordinates (a deliberate external dependency)"
    if metadata and text.rstrip("/") in metadata:
        return "a URL Chart.yaml names (repository, home or sources): a deliberate external dependency"
    return None


@dataclass(frozen=True)
class Judge:
    """The exemptions of one chart, applied to names found in its values or renders."""

    sentinel: str | None
    allow: tuple[str, ...]
    api_groups: frozenset[str]
    metadata: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, ctx: ChartContext, manifests: Iterable = (), *, sentinel: str | None = None) -> "Judge":
        return cls(sentinel, tuple(ctx.platform.fqdn_allow), frozenset(api_groups_of(ctx, manifests)),
                   frozenset(metadata_urls(ctx.chart)))

    def exemption(self, occ: Occurrence, kind: str = "") -> str | None:
        return exemption(occ, sentinel=self.sentinel, allow=self.allow, api_groups=self.api_groups, kind=kind,
                         metadata=self.metadata)

    def external(self, occ: Occurrence, kind: str = "") -> bool:
        return (self.exemption(occ, kind) or "").startswith(EXTERNAL)


# Rendered bodies are shared between the scenarios that render the same document (see
# manifests.parse_documents): scanning each distinct body once is most of FQDN-002's cost.
_NAMES = IdentityMemo(20_000)
_API_GROUP_LISTS = IdentityMemo(50_000)  # body -> its `apiGroups:` entries
_JUDGED = IdentityMemo(50_000)  # body -> {(judge, kind): the names no exemption covers}


_SUPPLIED = IdentityMemo(2_000)  # scenario -> the DNS names its input supplied


def supplied_names(scenario) -> frozenset[str]:
    """DNS names in what the scenario's input supplied (ci/ and overlay values files, the cluster
    overlay, a HelmRelease's values, `extraObjects` written there): the input's, not the chart's."""
    return _SUPPLIED.get(scenario, lambda s: frozenset(o.name for text in supplied_strings(s) for o in find_names(text)))


def names_in(body: Any) -> tuple[Occurrence, ...]:
    """find_names(body), memoised per body object (read-only, kept alive by the memo)."""
    return _NAMES.get(body, lambda b: tuple(find_names(b)))


def where(occ: Occurrence) -> str:
    return occ.path + (f" (inside the embedded {occ.inner_path})" if occ.inner else "")


# --- FQDN-001: defaults -----------------------------------------------------------------------------


@policy(
    id="FQDN-001",
    title="No default value holds a domain, and domain/host keys default to empty",
    receives="chart",
    rationale="""A default domain ships to every Sovereign cluster that forgets to override it, and
    traffic or certificates silently go to someone else's name. The Sovereign FQDN comes from the
    cluster overlay; defaults (umbrella and subchart values, blueprint configSchema) hold no domain.""",
    reference=REFERENCE,
)
def defaults_hold_no_domain(ctx: ChartContext):
    judge = Judge.of(ctx)
    flagged: set[str] = set()
    for occ in find_names(ctx.chart.effective_values):
        if occ.path in flagged or judge.exemption(occ):
            continue
        flagged.add(occ.path)
        path = tuple(p for p in occ.trail if isinstance(p, str))
        value = get_path(ctx.chart.effective_values, path, None)
        if not occ.in_key and not occ.inner and names_key(path[-1], FQDN_WORDS | HOST_WORDS):
            message = (f"`{dotted(path)}` defaults to {value!r}; a key that names a domain or host must default "
                       "to empty and be set by the cluster overlay. Remove the default (and make the chart "
                       "`required` it where it is needed), or add a waiver with a reason.")
        else:
            message = (f"the default of `{dotted(path)}` contains the domain '{occ.name}' at {where(occ)}; no "
                       "domain may be hardcoded in values. Derive it from the cluster's FQDN input, list it in "
                       "`fqdn.allow` of the platform file if it is a deliberate external dependency, or add a "
                       "waiver with a reason.")
        template, at = values_file(ctx.chart, occ.trail)  # the umbrella's, unless only a subchart sets it
        yield Finding(message, template=template, path=at,
                      excerpt=f"{dotted(path)}: {value!r}", cause=DEFAULT_DOMAIN)
    yield from schema_defaults(ctx, judge)


def schema_defaults(ctx: ChartContext, judge: Judge) -> Iterator[Finding]:
    bp = str(ctx.chart.blueprint_path or f"{ctx.name}/blueprint.yaml")
    for path, prop in schema_properties(config_schema(ctx.chart)):
        if "default" not in prop:
            continue
        default = prop["default"]
        schema_path = jsonpath(("spec", "configSchema", *(x for p in path for x in ("properties", p)), "default"))
        names = [o.name for o in find_names(default, path) if not judge.exemption(o)]
        if names:
            yield Finding(f"blueprint configSchema gives `{dotted(path)}` the default {default!r}, which holds the "
                          f"domain '{names[0]}'; domains and hosts must not have defaults. Remove the default, "
                          "or add a waiver with a reason.", template=bp, path=schema_path,
                          excerpt=f"default: {default!r}")


# --- FQDN-002: the render with the sentinel ---------------------------------------------------------


def sentinel_render(ctx: ChartContext, scenario):
    """`scenario` rendered with the sentinel in every FQDN input (the scenario itself when there are none)."""
    pairs = sentinel_values(ctx.chart, ctx.platform.fqdn_sentinel)
    if not pairs:
        return ctx.render(scenario)
    return ctx.render(ctx.variant(scenario, "fqdn-sentinel", set_values=pairs))


def hardcoded_names(ctx: ChartContext, manifests, sentinel: str | None) -> Iterator[tuple[Any, Occurrence]]:
    """(manifest, occurrence) for every DNS name in the render that no exemption covers. Each distinct
    object is judged once per distinct set of exemptions (scenarios of a chart mostly share both)."""
    judge = Judge.of(ctx, manifests, sentinel=sentinel)
    for manifest in manifests:
        # keyed by the judge's value, not its id: parsed bodies may be shared between charts
        verdicts = _JUDGED.get(manifest.body, lambda _: {})
        key = (judge, manifest.kind)
        if key not in verdicts:
            verdicts[key] = tuple(unexempted(names_in(manifest.body), judge, manifest.kind))
        for occ in verdicts[key]:
            yield manifest, occ


def unexempted(occurrences, judge: "Judge", kind: str) -> Iterator[Occurrence]:
    seen = set()
    for occ in occurrences:
        if (occ.name, occ.path, occ.inner) in seen:
            continue
        seen.add((occ.name, occ.path, occ.inner))
        if not judge.exemption(occ, kind):
            yield occ


@policy(
    id="FQDN-002",
    title="With a sentinel FQDN, every DNS name in the render is the sentinel, cluster-local or an identifier",
    # Every configuration a cluster receives and every toggle on its own; not the generated plan rows:
    # a domain is a literal in some template, which a single toggle's opt-in already renders, and
    # each judged scenario costs a sentinel render.
    receives="scenario",
    applies_to=Applicability(scenarios=(ScenarioKind.DEFAULT, ScenarioKind.CAPABILITIES, ScenarioKind.OPT_IN,
                                        ScenarioKind.CI, ScenarioKind.OVERLAY, ScenarioKind.RELEASE)),
    rationale="""A domain written into a template, a ConfigMap's embedded JSON or an annotation is
    invisible in values.yaml but just as hardcoded. Rendering with a sentinel domain in every FQDN
    input makes every other domain in the output stand out.""",
    reference=REFERENCE,
)
def render_names_only_the_sentinel(ctx: ScenarioContext):
    sentinel = ctx.chart.platform.fqdn_sentinel
    render = sentinel_render(ctx.chart, ctx.scenario)
    inputs = ", ".join(dotted(p) for p in fqdn_inputs(ctx.chart.chart)) or "none: the chart has no FQDN input"
    supplied = supplied_names(ctx.scenario)
    for manifest, occ in hardcoded_names(ctx.chart, render.manifests, sentinel):
        if occ.name in supplied:
            continue  # the scenario's input wrote it (a ci/ or overlay file, a HelmRelease): not hardcoded
        yield Finding.on(manifest, occ.path,
                         f"'{occ.name}' at {where(occ)} is a hardcoded domain: rendered with the sentinel "
                         f"'{sentinel}' in the FQDN inputs ({inputs}), every host name under a public suffix "
                         "must be the sentinel or under it (identifiers, cluster-local names, image references "
                         "and documentation are exempt, see docs/policies.md#fqdn). Derive it from the FQDN input, list it in `fqdn.allow` of the platform file if it is a "
                         "deliberate external dependency, or add a waiver with a reason.", value=occ.text)


# --- FQDN-003: no FQDN, no silent fallback ----------------------------------------------------------


def default_domains(ctx: ChartContext, inputs) -> dict[str, tuple[Path_, str]]:
    """name -> (FQDN input, JSONPath in the values) for each domain an FQDN input holds by default."""
    found: dict[str, tuple[Path_, str]] = {}
    for path in inputs:
        for occ in find_names(get_path(ctx.chart.effective_values, path, None), path):
            found.setdefault(occ.name, (path, occ.path))
    return found


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
    receives="chart",
    applies_to=Applicability(requires=("fqdn-inputs",)),
)
def missing_fqdn_fails_loudly(ctx: ChartContext):
    inputs = fqdn_inputs(ctx.chart)
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
    defaults, anchored = default_domains(ctx, inputs), set()
    for manifest, occ in hardcoded_names(ctx, render.manifests, None):
        if occ.name in kept:
            continue
        default = next((d for d in defaults if is_within(occ.name, d)), None)
        if default is not None:  # the fallback is an FQDN input's default: FQDN-001's defect, seen rendered
            if default in anchored:
                continue
            anchored.add(default)
            path, where_default = defaults[default]
            template, at = values_file(ctx.chart, trail_of(where_default))
            yield Finding(f"without an FQDN ({keys} unset, no cluster overlay) the chart silently falls back to "
                          f"the default '{default}' of `{dotted(path)}` (rendered at {manifest.resource_id} "
                          f"{where(occ)}). Remove the default and guard the input with `required \"<key> is "
                          f"required: ...\"` so a missing FQDN fails the render, naming the key.\nreproduce: "
                          f"{render.command}", template=template, path=at,
                          excerpt=f"{dotted(path)}: {get_path(ctx.chart.effective_values, path, None)!r}",
                          cause=DEFAULT_DOMAIN)
        else:
            yield Finding.on(manifest, occ.path,
                             f"without an FQDN ({keys} unset, no cluster overlay) the chart silently falls back "
                             f"to '{occ.name}' at {where(occ)}. Remove the fallback and guard the input with "
                             "`required \"<key> is required: ...\"` so a missing FQDN fails the render, naming "
                             f"the key.\nreproduce: {render.command}", value=occ.text)


# --- FQDN-004: external endpoints, once per chart, as information -----------------------------------


@policy(
    id="FQDN-004",
    title="External endpoints the chart's data names (information)",
    receives="chart",
    severity=Severity.INFO,
    rationale="""Public hosts in data the chart ships - SSH known_hosts entries, links in dashboards -
    are not the cluster's domain and need no change, but an air-gapped Sovereign cluster cannot reach
    them. Listed once per chart (defaults and the default render) so the owner knows they are there.""",
    reference=REFERENCE,
)
def external_endpoints(ctx: ChartContext):
    sentinel = ctx.platform.fqdn_sentinel
    judge = Judge.of(ctx, sentinel=sentinel)
    found: dict[str, str] = {}
    for occ in find_names(ctx.chart.effective_values):
        if external_endpoint(occ) and judge.external(occ):
            found.setdefault(occ.name, f"values {occ.path}")
    pairs = sentinel_values(ctx.chart, sentinel)  # the default render FQDN-002 judged
    render = ctx.try_render(ctx.variant("default", "fqdn-sentinel", set_values=pairs) if pairs else "default")
    for manifest in render.manifests if render.error is None else ():
        for occ in names_in(manifest.body):
            if occ.name not in found and external_endpoint(occ) and judge.external(occ, manifest.kind):
                found[occ.name] = f"{manifest.resource_id} {where(occ)}"
    if found:
        listed = ", ".join(f"'{name}'" for name in sorted(found))
        yield Finding(f"external endpoints in the chart's data: {listed}. Not the cluster's domain, so FQDN-001/002 "
                      "do not report them; an air-gapped cluster cannot reach them. List them in `fqdn.allow` of "
                      "the platform file to silence this note.", template=ctx.name,
                      excerpt="\n".join(f"{name}: {place}" for name, place in sorted(found.items())))
