"""Label selectors as the API server evaluates them, and the pod templates workloads render.

Referential-integrity policies (a Service selecting pods, a NetworkPolicy selecting pods, a
ServiceMonitor selecting Services) all reduce to "does this selector match those labels".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from chartgate.parse.manifests import Manifest


def matches_labels(selector: dict | None, labels: dict) -> bool:
    """A plain label map (Service `spec.selector`, `matchLabels`): every pair must be present."""
    return all(key in labels and str(labels[key]) == str(value) for key, value in (selector or {}).items())


class LabelIndex:
    """Items by their labels, so "which of these does this plain selector pick" looks up one label
    pair instead of testing every item - a render with hundreds of Services and workloads would
    otherwise cost Services x pods per scenario. Results keep the items' order."""

    def __init__(self, items: Iterable[Any], labels_of) -> None:
        self._items = list(items)
        self._labels = [labels_of(item) or {} for item in self._items]
        self._by_pair: dict[tuple[str, str], list[int]] = {}
        for position, labels in enumerate(self._labels):
            for key, value in labels.items():
                self._by_pair.setdefault((key, str(value)), []).append(position)

    def selected_by(self, selector: dict | None) -> list:
        """The items whose labels hold every pair of `selector` (all items for an empty one)."""
        if not selector:
            return list(self._items)
        rarest = min((self._by_pair.get((key, str(value)), []) for key, value in selector.items()), key=len)
        return [self._items[i] for i in rarest if matches_labels(selector, self._labels[i])]


def matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector (`matchLabels` + `matchExpressions`). `{}` matches everything; None nothing."""
    if selector is None:
        return False
    if not matches_labels(selector.get("matchLabels"), labels):
        return False
    return all(_expression_holds(expr, labels) for expr in selector.get("matchExpressions") or [])


def _expression_holds(expr: dict, labels: dict) -> bool:
    key, operator = expr.get("key"), expr.get("operator")
    values = {str(v) for v in expr.get("values") or []}
    if operator == "In":
        return key in labels and str(labels[key]) in values
    if operator == "NotIn":
        return key not in labels or str(labels[key]) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator is rejected by the API server; it selects nothing


def is_empty(selector: dict | None) -> bool:
    """`{}` (or no terms at all): selects every object in scope."""
    return selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")


def describe(selector: dict | None) -> str:
    """A selector in kubectl's `-l` syntax, for messages."""
    if selector is None:
        return "<none>"
    terms = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), ",".join(map(str, expr.get("values") or []))
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": f"{key}",
                      "DoesNotExist": f"!{key}"}.get(op, f"{key} {op} ({values})"))
    return ",".join(terms) or "<everything>"


# --- pod templates --------------------------------------------------------------------------------

# Where each workload kind keeps its pod template (JSONPath-like key sequence).
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

# Kinds an HPA can scale without a custom resource's scale subresource.
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})


@dataclass(frozen=True)
class PodTemplate:
    """The pods a workload (or a bare Pod) will create: their labels and containers."""

    owner: Manifest
    path: str  # JSONPath of the template in the owner, `$` for a bare Pod
    labels: dict
    spec: dict

    @property
    def namespace(self) -> str | None:
        return self.owner.namespace

    def containers(self) -> list[dict]:
        return [c for key in ("initContainers", "containers") for c in self.spec.get(key) or []
                if isinstance(c, dict)]

    def container_ports(self) -> Iterator[dict]:
        for container in self.containers():
            yield from (p for p in container.get("ports") or [] if isinstance(p, dict))


# Labels a controller adds to each pod it creates, by the owner's kind: label -> the values it can
# take (a pattern, `{name}` standing for the owner's name). A selector may pick pods by them
# (a per-replica Service selecting `statefulset.kubernetes.io/pod-name: <name>-0`).
_ANY, _INDEX = r".+", r"[0-9]+"
RUNTIME_LABELS: dict[str, dict[str, str]] = {
    "Deployment": {"pod-template-hash": _ANY},
    "StatefulSet": {"statefulset.kubernetes.io/pod-name": r"{name}-[0-9]+", "apps.kubernetes.io/pod-index": _INDEX,
                    "controller-revision-hash": _ANY},
    "DaemonSet": {"controller-revision-hash": _ANY, "pod-template-generation": _INDEX},
    "Job": {"batch.kubernetes.io/job-name": r"{name}", "job-name": r"{name}",
            "batch.kubernetes.io/controller-uid": _ANY, "controller-uid": _ANY,
            "batch.kubernetes.io/job-completion-index": _INDEX},
    "CronJob": {"batch.kubernetes.io/job-name": r"{name}-[0-9]+", "job-name": r"{name}-[0-9]+",
                "batch.kubernetes.io/controller-uid": _ANY, "controller-uid": _ANY},
}
RUNTIME_KEYS = frozenset(key for labels in RUNTIME_LABELS.values() for key in labels)


def runtime_labels(template: "PodTemplate", wanted: dict | None) -> dict:
    """The template's labels plus those its controller gives its pods, valued as `wanted` (a plain
    selector) asks wherever the controller can give that value."""
    labels = dict(template.labels)
    added = RUNTIME_LABELS.get(template.owner.kind, {}) if template.owner.group in ("apps", "batch") else {}
    for key, value in (wanted or {}).items():
        pattern = added.get(key)
        if key not in labels and pattern and re.fullmatch(pattern.replace("{name}", re.escape(template.owner.name)),
                                                          str(value)):
            labels[key] = value
    return labels


def static_part(selector: dict | None) -> dict:
    """A plain selector without the labels controllers add at run time (for a LabelIndex lookup)."""
    return {k: v for k, v in (selector or {}).items() if k not in RUNTIME_KEYS}


def pod_template(manifest: Manifest) -> PodTemplate | None:
    """The pod template of a Pod or a built-in workload (its labels, spec and JSONPath), None for other objects."""
    if manifest.kind == "Pod" and manifest.group == "":
        return PodTemplate(manifest, "$", manifest.labels, manifest.body.get("spec") or {})
    keys = POD_TEMPLATE_PATHS.get(manifest.kind)
    if keys is None:
        return None
    node: Any = manifest.body
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    metadata = node.get("metadata") or {}
    return PodTemplate(manifest, "$." + ".".join(keys), metadata.get("labels") or {}, node.get("spec") or {})


def pod_templates(manifests: Iterable[Manifest], namespace: str | None = None) -> list[PodTemplate]:
    """Every pod template in a render (optionally only those in `namespace`)."""
    found = [t for t in map(pod_template, manifests) if t is not None]
    return [t for t in found if namespace is None or t.namespace == namespace]


__all__ = ["LabelIndex", "POD_TEMPLATE_PATHS", "PodTemplate", "RUNTIME_KEYS", "RUNTIME_LABELS", "SCALABLE_KINDS",
           "describe", "is_empty", "matches", "matches_labels", "pod_template", "pod_templates", "runtime_labels",
           "static_part"]
