"""Facts about Kubernetes itself, derived from kubernetes-validate's bundled OpenAPI schemas."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

DEFAULT_KUBE_VERSION = "1.33"


def schema_dir(kube_version: str, strict: bool = False):
    """kubernetes-validate's folder of JSON schemas for that Kubernetes version (`strict`: the variant
    that refuses unknown fields); InvalidConfig naming the known versions when it has none."""
    major_minor = ".".join(kube_version.lstrip("v").split(".")[:2])
    base = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    name = f"v{major_minor}.0-local" + ("-strict" if strict else "")
    folder = base / name
    if not folder.is_dir():
        known = sorted(p.name for p in base.iterdir() if p.name.endswith("-local"))
        from chartgate.core.errors import InvalidConfig
        raise InvalidConfig(f"Kubernetes {kube_version} has no bundled schemas in kubernetes-validate; "
                            f"known: {', '.join(k.removesuffix('-local') for k in known)}")
    return folder


@lru_cache(maxsize=None)
def builtin_group_versions(kube_version: str = DEFAULT_KUBE_VERSION) -> frozenset[str]:
    """`group/version` strings served by a plain API server of that version (core is `v1`)."""
    definitions = json.loads((schema_dir(kube_version) / "_definitions.json").read_text())
    found = set()
    for schema in definitions.get("$defs", definitions.get("definitions", {})).values():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            found.add(f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"])
    return frozenset(found)


@lru_cache(maxsize=None)
def builtin_kinds(kube_version: str = DEFAULT_KUBE_VERSION) -> frozenset[str]:
    """`group/version/Kind` strings (core: `v1/Kind`) of the objects a plain API server of that version
    serves - what `.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget"` asks about."""
    definitions = json.loads((schema_dir(kube_version) / "_definitions.json").read_text())
    found = set()
    for schema in definitions.get("$defs", definitions.get("definitions", {})).values():
        gvks = schema.get("x-kubernetes-group-version-kind", [])
        if len(gvks) == 1:  # an object's own definition (shared types such as DeleteOptions list many)
            gvk = gvks[0]
            gv = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            found.add(f"{gv}/{gvk['kind']}")
    return frozenset(found)


def newest(versions) -> str:
    """The newest of some `1.30`-style Kubernetes versions."""
    return max(versions, key=lambda v: tuple(int(p) for p in v.lstrip("v").split(".")[:2]))


@lru_cache(maxsize=None)
def builtin_groups(kube_version: str = DEFAULT_KUBE_VERSION) -> frozenset[str]:
    """The API groups a plain cluster of that Kubernetes version serves (`""` is the core group)."""
    return frozenset(gv.rpartition("/")[0] for gv in builtin_group_versions(kube_version))


def api_group(api_version: str) -> str:
    """The group of an apiVersion: `apps` for `apps/v1`, `""` (core) for `v1`."""
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def is_builtin(api_version: str, kube_version: str = DEFAULT_KUBE_VERSION) -> bool:
    """Is the apiVersion's group served by a plain cluster of that Kubernetes version (no CRD needed)?"""
    return api_group(api_version) in builtin_groups(kube_version)
