"""Schema facts for rendered objects: strict Kubernetes schemas per version, shipped CRDs'
openAPIV3Schema, and which API versions are deprecated or removed in which Kubernetes release.

Validation is the hot path of a gate run (every object of every scenario, for every target
version), so compiled validators are cached per (kind, apiVersion, Kubernetes version) or per CRD
schema, and results per object body: the same body rendered in several scenarios is checked once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import jsonschema
from referencing import Registry, Resource

from chartgate.core.jsonpaths import jsonpath
from chartgate.core.kube import DEFAULT_KUBE_VERSION, api_group, schema_dir
from chartgate.core.memo import IdentityMemo

# --- API lifecycle ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiLifecycle:
    """When Kubernetes deprecated and removed an API version (for some kinds, or all: `kinds=()`)."""

    api_version: str
    deprecated_in: str
    removed_in: str | None
    replacement: str
    kinds: tuple[str, ...] = ()

    def covers(self, api_version: str, kind: str) -> bool:
        return api_version == self.api_version and (not self.kinds or kind in self.kinds)


# Source: the Kubernetes "Deprecated API Migration Guide"
# (https://kubernetes.io/docs/reference/using-api/deprecation-guide/) and the release notes of the
# version named in `deprecated_in`. kubernetes-validate keeps some schemas after their removal
# (flowcontrol v1beta3 is still bundled for 1.33), so removal is taken from this table, and a
# version missing from the bundled schemas is reported as not served in any case.
API_LIFECYCLE: tuple[ApiLifecycle, ...] = (
    ApiLifecycle("extensions/v1beta1", "1.8", "1.16", "apps/v1",
                 ("DaemonSet", "Deployment", "ReplicaSet")),
    ApiLifecycle("extensions/v1beta1", "1.9", "1.16", "networking.k8s.io/v1", ("NetworkPolicy",)),
    ApiLifecycle("extensions/v1beta1", "1.11", "1.16", "policy/v1beta1 (itself removed in 1.25)",
                 ("PodSecurityPolicy",)),
    ApiLifecycle("extensions/v1beta1", "1.14", "1.22", "networking.k8s.io/v1", ("Ingress",)),
    ApiLifecycle("apps/v1beta1", "1.9", "1.16", "apps/v1"),
    ApiLifecycle("apps/v1beta2", "1.9", "1.16", "apps/v1"),
    ApiLifecycle("admissionregistration.k8s.io/v1beta1", "1.16", "1.22", "admissionregistration.k8s.io/v1",
                 ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")),
    ApiLifecycle("apiextensions.k8s.io/v1beta1", "1.16", "1.22", "apiextensions.k8s.io/v1"),
    ApiLifecycle("apiregistration.k8s.io/v1beta1", "1.19", "1.22", "apiregistration.k8s.io/v1"),
    ApiLifecycle("authentication.k8s.io/v1beta1", "1.19", "1.22", "authentication.k8s.io/v1", ("TokenReview",)),
    ApiLifecycle("authorization.k8s.io/v1beta1", "1.19", "1.22", "authorization.k8s.io/v1"),
    ApiLifecycle("certificates.k8s.io/v1beta1", "1.19", "1.22", "certificates.k8s.io/v1",
                 ("CertificateSigningRequest",)),
    ApiLifecycle("coordination.k8s.io/v1beta1", "1.19", "1.22", "coordination.k8s.io/v1", ("Lease",)),
    ApiLifecycle("networking.k8s.io/v1beta1", "1.19", "1.22", "networking.k8s.io/v1",
                 ("Ingress", "IngressClass")),
    ApiLifecycle("rbac.authorization.k8s.io/v1beta1", "1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ApiLifecycle("scheduling.k8s.io/v1beta1", "1.14", "1.22", "scheduling.k8s.io/v1", ("PriorityClass",)),
    ApiLifecycle("storage.k8s.io/v1beta1", "1.19", "1.22", "storage.k8s.io/v1",
                 ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")),
    ApiLifecycle("batch/v1beta1", "1.21", "1.25", "batch/v1", ("CronJob",)),
    ApiLifecycle("discovery.k8s.io/v1beta1", "1.21", "1.25", "discovery.k8s.io/v1", ("EndpointSlice",)),
    ApiLifecycle("events.k8s.io/v1beta1", "1.19", "1.25", "events.k8s.io/v1", ("Event",)),
    ApiLifecycle("autoscaling/v2beta1", "1.22", "1.25", "autoscaling/v2", ("HorizontalPodAutoscaler",)),
    ApiLifecycle("policy/v1beta1", "1.21", "1.25", "policy/v1", ("PodDisruptionBudget",)),
    ApiLifecycle("policy/v1beta1", "1.21", "1.25", "Pod Security Admission (no replacement object)",
                 ("PodSecurityPolicy",)),
    ApiLifecycle("node.k8s.io/v1beta1", "1.20", "1.25", "node.k8s.io/v1", ("RuntimeClass",)),
    ApiLifecycle("autoscaling/v2beta2", "1.23", "1.26", "autoscaling/v2", ("HorizontalPodAutoscaler",)),
    ApiLifecycle("flowcontrol.apiserver.k8s.io/v1beta1", "1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ApiLifecycle("storage.k8s.io/v1beta1", "1.24", "1.27", "storage.k8s.io/v1", ("CSIStorageCapacity",)),
    ApiLifecycle("flowcontrol.apiserver.k8s.io/v1beta2", "1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ApiLifecycle("flowcontrol.apiserver.k8s.io/v1beta3", "1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    # Still served, but the API server answers with a deprecation warning (KEP-4974, Kubernetes 1.33).
    ApiLifecycle("v1", "1.33", None, "discovery.k8s.io/v1 EndpointSlice", ("Endpoints",)),
)


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


@lru_cache(maxsize=4096)
def lifecycle(api_version: str, kind: str, kube_version: str) -> tuple[str, ApiLifecycle] | None:
    """("removed" | "deprecated", fact) for this object's API in that Kubernetes version, if any."""
    target = _version_tuple(kube_version)
    for fact in API_LIFECYCLE:
        if not fact.covers(api_version, kind):
            continue
        if fact.removed_in and target >= _version_tuple(fact.removed_in):
            return "removed", fact
        if target >= _version_tuple(fact.deprecated_in):
            return "deprecated", fact
    return None


# --- Built-in Kubernetes schemas ----------------------------------------------------------------


@dataclass(frozen=True)
class SchemaViolation:
    """One schema error: JSONPath of the offending field and what is wrong with it."""

    path: str
    message: str


@lru_cache(maxsize=None)
def _definitions(kube_version: str) -> tuple[Registry, dict[tuple[str, str, str], str], str]:
    """kubernetes-validate's strict definitions for a version: registry, GVK index, base URI."""
    data = json.loads((schema_dir(kube_version, strict=True) / "_definitions.json").read_text())
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in data["$defs"].items():
        # Objects' own definitions carry exactly one GVK; shared types (DeleteOptions...) list many.
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if len(gvks) == 1:
            gvk = gvks[0]
            index[(gvk["group"], gvk["version"], gvk["kind"])] = name
    registry = Resource.from_contents(data) @ Registry()
    return registry, index, data["$id"]


def has_builtin_schema(api_version: str, kind: str, kube_version: str) -> bool:
    """Does Kubernetes `kube_version` serve `kind` at `api_version` (according to its OpenAPI)?"""
    _, index, _ = _definitions(kube_version)
    return (api_group(api_version), api_version.rpartition("/")[2], kind) in index


@lru_cache(maxsize=None)
def _builtin_validator(api_version: str, kind: str, kube_version: str) -> jsonschema.Validator | None:
    registry, index, base = _definitions(kube_version)
    name = index.get((api_group(api_version), api_version.rpartition("/")[2], kind))
    if name is None:
        return None
    return jsonschema.Draft202012Validator({"$ref": f"{base}#/$defs/{name}"}, registry=registry)


_BY_BODY = IdentityMemo(50_000)  # body -> {schema digest: violations}: each distinct object once
_REF = re.compile(r'"\$ref": "[^"#]*#/\$defs/([^"]+)"')  # a definition another one references


@lru_cache(maxsize=None)
def schema_digest(api_version: str, kind: str, kube_version: str) -> str | None:
    """A digest of the kind's whole schema in that Kubernetes version (its definition and every
    definition it references): versions that agree validate alike, so an object is validated once
    per distinct schema, not once per target version."""
    registry, index, base = _definitions(kube_version)
    name = index.get((api_group(api_version), api_version.rpartition("/")[2], kind))
    if name is None:
        return None
    definitions = _raw_definitions(kube_version)
    seen, pending = set(), [name]
    while pending:
        current = pending.pop()
        if current in seen or current not in definitions:
            continue
        seen.add(current)
        pending += _REF.findall(json.dumps(definitions[current]))
    closure = {n: definitions[n] for n in sorted(seen)}
    return hashlib.sha256(json.dumps(closure, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=None)
def _raw_definitions(kube_version: str) -> dict:
    return json.loads((schema_dir(kube_version, strict=True) / "_definitions.json").read_text())["$defs"]


def validate_builtin(body: dict, kube_version: str) -> list[SchemaViolation] | None:
    """Strict violations of a built-in object (unknown fields, wrong types); None if no schema."""
    api_version, kind = str(body.get("apiVersion")), str(body.get("kind"))
    digest = schema_digest(api_version, kind, kube_version)
    if digest is None:
        return None
    per_schema = _BY_BODY.get(body, lambda _: {})
    if digest not in per_schema:
        per_schema[digest] = _validate_builtin_cached(canonical_json(body), api_version, kind, kube_version)
    return per_schema[digest]


@lru_cache(maxsize=8192)
def _validate_builtin_cached(text: str, api_version: str, kind: str,
                             kube_version: str) -> list[SchemaViolation] | None:
    validator = _builtin_validator(api_version, kind, kube_version)
    if validator is None:
        return None
    return violations(validator, json.loads(text))


# --- CustomResourceDefinition schemas -----------------------------------------------------------


@dataclass(frozen=True)
class CrdVersion:
    """One version of a shipped CRD: where the CRD came from and its schema (JSON text, hashable)."""

    group: str
    kind: str
    version: str
    served: bool
    schema_json: str | None  # openAPIV3Schema, None if the CRD gives none
    source: str  # crds/ file or template that ships the CRD


def crd_versions(crd: dict, source: str) -> list[CrdVersion]:
    """The versions an apiextensions.k8s.io/v1 CRD declares (empty for anything malformed)."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return []
    found = []
    for entry in spec.get("versions") or []:
        if not isinstance(entry, dict) or "name" not in entry:
            continue
        schema = (entry.get("schema") or {}).get("openAPIV3Schema")
        found.append(CrdVersion(group, kind, str(entry["name"]), bool(entry.get("served", True)),
                                canonical_json(schema) if isinstance(schema, dict) else None, source))
    return found


def crd_index(crds: Iterable[tuple[str, dict]]) -> dict[tuple[str, str], list[CrdVersion]]:
    """(group, kind) -> versions, from (source, CRD body) pairs; the first CRD for a kind wins."""
    index: dict[tuple[str, str], list[CrdVersion]] = {}
    for source, crd in crds:
        versions = crd_versions(crd, source)
        if versions and (versions[0].group, versions[0].kind) not in index:
            index[(versions[0].group, versions[0].kind)] = versions
    return index


_SHIPPED_CRDS: dict[str, dict[tuple[str, str], list[CrdVersion]]] = {}


def shipped_crds(chart) -> dict[tuple[str, str], list[CrdVersion]]:
    """crd_index of the chart's (and its subcharts') crds/ directories, parsed once per chart content."""
    key = chart.digest
    if key not in _SHIPPED_CRDS:
        _SHIPPED_CRDS[key] = crd_index(chart.crd_documents())
    return dict(_SHIPPED_CRDS[key])


def to_json_schema(node: Any, *, root: bool = False) -> Any:
    """Translate a structural OpenAPI v3 schema (as CRDs declare it) into JSON Schema 2020-12.

    What the API server does differently from plain JSON Schema: `nullable`, int-or-string,
    `exclusiveMinimum: true`; and unknown fields are rejected (strict field validation, kubectl's
    default since 1.27) unless `x-kubernetes-preserve-unknown-fields` is set.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(sub) for sub in value]
        elif key in ("type", "enum", "required", "minimum", "maximum", "minLength", "maxLength", "pattern",
                     "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "multipleOf",
                     "additionalProperties"):
            out[key] = value
        # description, format, default, example, x-kubernetes-* markers: no validation meaning here.
    if node.get("exclusiveMinimum") is True and "minimum" in out:
        out["exclusiveMinimum"] = out.pop("minimum")
    if node.get("exclusiveMaximum") is True and "maximum" in out:
        out["exclusiveMaximum"] = out.pop("maximum")
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {}).update({"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                 "metadata": {"type": "object"}})
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if root:
        # The API server validates metadata itself; the CRD may not constrain it beyond `type: object`.
        out.setdefault("properties", {}).update({"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                 "metadata": {"type": "object"}})
    return out


@lru_cache(maxsize=256)
def _crd_validator(schema_json: str) -> jsonschema.Validator:
    return jsonschema.Draft202012Validator(to_json_schema(json.loads(schema_json), root=True))


@lru_cache(maxsize=8192)
def _validate_custom_cached(text: str, schema_json: str) -> list[SchemaViolation]:
    return violations(_crd_validator(schema_json), json.loads(text))


def validate_custom(body: dict, version: CrdVersion) -> list[SchemaViolation]:
    """Violations of a custom resource against its CRD version's schema (none if it has no schema)."""
    if version.schema_json is None:
        return []
    found = _validate_custom_cached(canonical_json(body), version.schema_json)
    metadata = body.get("metadata")
    if isinstance(metadata, dict):  # metadata follows the built-in ObjectMeta schema, whatever the CRD says
        found = found + _metadata_violations(canonical_json(metadata))
    return found


@lru_cache(maxsize=4096)
def _metadata_violations(text: str) -> list[SchemaViolation]:
    registry, _, base = _definitions(DEFAULT_KUBE_VERSION)  # ObjectMeta is stable across versions
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{base}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}, registry=registry)
    return [SchemaViolation("$.metadata" + v.path[1:], v.message) for v in violations(validator, json.loads(text))]


# --- shared helpers -----------------------------------------------------------------------------


def canonical_json(data: Any) -> str:
    """Stable text of a YAML-loaded value (YAML dates become strings, as the API server sees them)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def json_path(parts: Iterable[Any]) -> str:
    """`$.spec.ports[0]` for the key trail ("spec", "ports", 0) of a schema violation."""
    return jsonpath(tuple(parts))  # an unknown field `app.kubernetes.io/x` is bracketed


def violations(validator: jsonschema.Validator, instance: Any) -> list[SchemaViolation]:
    """Every error, as (JSONPath, message); unknown fields are reported at their own path."""
    found: list[SchemaViolation] = []
    for error in validator.iter_errors(instance):
        where = list(error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False \
                and isinstance(error.instance, dict):
            known = set(error.schema.get("properties") or {})
            for name in sorted(k for k in error.instance if k not in known):
                found.append(SchemaViolation(json_path(where + [name]), f"unknown field {name!r}"))
            continue
        found.append(SchemaViolation(json_path(where), _describe(error)))
    return sorted(set(found), key=lambda v: (v.path, v.message))


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _describe(error: jsonschema.ValidationError) -> str:
    types: list[str] = []
    if error.validator == "type":
        types = _types_of({"type": error.validator_value})
    elif error.validator in ("oneOf", "anyOf"):
        types = [t for sub in error.validator_value for t in _types_of(sub)]
    if types:
        actual = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        return f"{error.instance!r} is a {actual}, expected {' or '.join(types)}"
    return error.message


def _types_of(schema: Any) -> list[str]:
    kind = schema.get("type") if isinstance(schema, dict) else None
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    return [k for k in kinds if k != "null"]


__all__ = ["API_LIFECYCLE", "ApiLifecycle", "CrdVersion", "SchemaViolation", "canonical_json", "crd_index",
           "crd_versions", "has_builtin_schema", "json_path", "lifecycle", "schema_digest", "shipped_crds",
           "to_json_schema", "validate_builtin", "validate_custom", "violations"]
