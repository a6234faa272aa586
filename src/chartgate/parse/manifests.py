"""Parse `helm template` output into Manifest objects that remember their `# Source:` template."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import yaml

from chartgate.core import memo
from chartgate.core.errors import ManifestParseError
from chartgate.core.yamlio import load_checked, loader_for

_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)  # [ \t]: keep the # Source: line below
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)

# Built-in kinds that are not namespaced. Facts from the Kubernetes API reference.
_CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ComponentStatus",
    "CSIDriver", "CSINode", "CustomResourceDefinition", "DeviceClass", "FlowSchema", "IngressClass",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
    "Namespace", "Node", "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration",
    "RuntimeClass", "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment", "VolumeAttributesClass", "IPAddress",
    "ServiceCIDR", "ClusterTrustBundle", "ResourceSlice",
})


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object."""

    api_version: str
    kind: str
    name: str
    namespace: str | None  # None for cluster-scoped objects
    source: str  # template path from Helm's "# Source:" comment, e.g. bp-stunner/templates/hpa.yaml
    body: dict[str, Any] = field(compare=False, repr=False)
    index: int = field(default=0, compare=False)  # document position in the render

    @property
    def group(self) -> str:
        """The API group (`apps` for apps/v1; empty for the core group)."""
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def version(self) -> str:
        """The API version without its group (`v1`)."""
        return self.api_version.rpartition("/")[2]

    @property
    def resource_id(self) -> str:
        """`Kind/namespace/name`, with `-` for the namespace of cluster-scoped objects."""
        return f"{self.kind}/{self.namespace or '-'}/{self.name}"

    @property
    def labels(self) -> dict[str, str]:
        """metadata.labels (empty when it has none)."""
        return (self.body.get("metadata") or {}).get("labels") or {}

    @property
    def annotations(self) -> dict[str, str]:
        """metadata.annotations (empty when it has none)."""
        return (self.body.get("metadata") or {}).get("annotations") or {}

    def identity(self) -> tuple[str, str, str, str]:
        """(group, kind, namespace, name): the object's identity across renders."""
        return (self.group, self.kind, self.namespace or "", self.name)


def _iter_documents(text: str) -> Iterator[tuple[str, str]]:
    """Yield (source template, document text) for each non-empty YAML document in a render.

    Documents are sliced out one at a time, so a huge render is never held twice as a list of pieces.
    """
    start = 0
    for match in _SEPARATOR.finditer(text):
        yield from _document(text[start:match.start()])
        start = match.end()
    yield from _document(text[start:])


def _document(piece: str) -> Iterator[tuple[str, str]]:
    # Helm writes `# Source:` as the document's first line; only the leading comment lines are
    # searched, so a megabyte CRD is not scanned (and copied) twice for a line it cannot hold.
    head_end = 0
    while True:
        line_end = piece.find("\n", head_end)
        line = piece[head_end:] if line_end < 0 else piece[head_end:line_end]
        if line.strip() and not line.lstrip().startswith("#"):
            break
        if line_end < 0:
            head_end = len(piece)
            break
        head_end = line_end + 1
    head = piece[:head_end]
    match = _SOURCE.search(head)
    source = match.group(1).strip() if match else ""
    body = _SOURCE.sub("", head) + piece[head_end:] if match else piece
    if not body.isspace() and body:
        yield source, body


def _parse_render(text: str, *, namespace: str, cluster_scoped: frozenset[str] = frozenset(),
                 chart: str = "", scenario: str = "", command: str = "") -> list[Manifest]:
    """Parse a whole render; `namespace` fills in objects that omit it (as `helm install` would)."""
    return build_manifests(parse_documents(text, chart=chart, scenario=scenario, command=command),
                           namespace=namespace, cluster_scoped=cluster_scoped)


#: Parsed documents by their text: the scenarios of one chart render mostly the same objects, so each
#: distinct document is parsed once (bodies are shared between renders and must be treated as read-only).
_PARSED = memo.KeyedMemo(50_000)
#: Bodies read from the render cache's object store, by their content key.
_SHARED = memo.KeyedMemo(50_000)


def _parse_document(doc: str) -> object:
    key = hashlib.sha1(doc.encode("utf-8", "surrogatepass")).digest()
    return _PARSED.get(key, lambda: load_checked(doc, loader_for(doc)))


def shared_body(key: str, read: "Callable[[], str]") -> object:
    """An object body by its content key (as the render cache stores it), read and parsed the first
    time only, and shared with every other render holding it - so per-object work memoised by body
    is done once per distinct object."""
    return _SHARED.get(key, lambda: json.loads(read()))


def parse_documents(text: str, *, chart: str = "", scenario: str = "", command: str = "") -> list[tuple[str, dict]]:
    """(source template, object body) for every Kubernetes object in a render."""
    bodies: list[tuple[str, dict]] = []
    for source, doc in _iter_documents(text):
        try:
            body = _parse_document(doc)
        except yaml.YAMLError as exc:
            raise ManifestParseError(chart, scenario, f"{source or 'render'} rendered output that is not "
                                     f"valid YAML: {str(exc).splitlines()[0]}. Fix what that template emits "
                                     "(run the command below to see it)", command) from None
        if body is None:
            continue
        for item in _expand_lists(body):
            if not isinstance(item, dict) or "kind" not in item or "apiVersion" not in item:
                raise ManifestParseError(chart, scenario, f"{source or 'render'} rendered a document that is "
                                         "not a Kubernetes object (no apiVersion/kind)", command)
            bodies.append((source, item))
    return bodies


def _expand_lists(body: object) -> list:
    """A `kind: List` (v1) document is the objects in its `items`, as `helm install` applies them."""
    if isinstance(body, dict) and body.get("kind") == "List" and body.get("apiVersion") == "v1":
        items = body.get("items") or []
        return [sub for item in items for sub in _expand_lists(item)] if isinstance(items, list) else [items]
    return [body]


def build_manifests(bodies: list[tuple[str, dict]], *, namespace: str,
                    cluster_scoped: frozenset[str] = frozenset()) -> list[Manifest]:
    # CRDs rendered alongside their objects also say which kinds are cluster-scoped.
    scoped = _CLUSTER_SCOPED_KINDS | cluster_scoped | frozenset(
        crd_kind for _, body in bodies for crd_kind in [cluster_scoped_kind(body)] if crd_kind)
    manifests: list[Manifest] = []
    for index, (source, body) in enumerate(bodies):
        meta = body.get("metadata") or {}
        kind = str(body["kind"])
        ns = None if kind in scoped else str(meta.get("namespace") or namespace)
        manifests.append(Manifest(str(body["apiVersion"]), kind, str(meta.get("name", "")), ns, source,
                                  body, index))
    return manifests


def cluster_scoped_kind(body: dict) -> str | None:
    """The kind a CustomResourceDefinition declares, if it is cluster-scoped."""
    if body.get("kind") != "CustomResourceDefinition":
        return None
    spec = body.get("spec") or {}
    if spec.get("scope") == "Cluster":
        return (spec.get("names") or {}).get("kind")
    return None


def dependency_of(template: str) -> str | None:
    """`redis` for `shop/charts/redis/templates/x.yaml`; None for the chart's own templates and files."""
    parts = (template or "").split("/")
    if len(parts) >= 4 and parts[1] == "charts" and parts[2]:
        return parts[2]
    return None


def kind_summary(manifests: list[Manifest]) -> dict[str, dict[str, int]]:
    """{kind: {apiVersion: count}}, e.g. {"Deployment": {"apps/v1": 1}}."""
    counts = Counter((m.kind, m.api_version) for m in manifests)
    summary: dict[str, dict[str, int]] = {}
    for (kind, api_version), count in sorted(counts.items()):
        summary.setdefault(kind, {})[api_version] = count
    return summary
