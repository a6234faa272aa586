"""Platform facts in one declarative file (`platform.yaml`): policies read them, never hard-code them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartgate.core.errors import InvalidConfig
from chartgate.core.yamlio import load_file


@dataclass(frozen=True)
class Platform:
    source: str = "built-in defaults"
    udp_port_range: tuple[int, int] = (30000, 32767)
    ingress_class: str = "cilium"
    kubernetes_versions: tuple[str, ...] = ("1.33",)
    fqdn_sentinel: str = "sovereign.chartgate.invalid"
    fqdn_allow: tuple[str, ...] = ()
    blueprint_apis: dict[str, tuple[str, ...]] = field(default_factory=dict)
    blueprint_label: str = "catalyst.openova.io/blueprint"
    # Pins the observability classification of toggles: globs on dotted values paths.
    observability_include: tuple[str, ...] = ()
    observability_exclude: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {"source": self.source, **self.raw}


def _get(data: dict, key: str, kind: type, source: str, default: Any) -> Any:
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidConfig(f"{source}: `{key}` must be a {kind.__name__}, got {value!r}")
    return value


def load_platform(path: Path | None) -> Platform:
    if path is None:
        return Platform()
    path = Path(path)
    if not path.is_file():
        raise InvalidConfig(f"platform file {path} does not exist; create it or pass --platform-config")
    source = str(path)
    data = load_file(path, what="platform file")
    if not isinstance(data, dict):
        raise InvalidConfig(f"{source}: must be a YAML mapping")
    udp = _get(data, "udpPortRange", dict, source, {"start": 30000, "end": 32767})
    try:
        start, end = int(udp["start"]), int(udp["end"])
    except (KeyError, TypeError, ValueError):
        raise InvalidConfig(f"{source}: `udpPortRange` needs integer `start` and `end`") from None
    if not 0 < start <= end <= 65535:
        raise InvalidConfig(f"{source}: `udpPortRange` {start}-{end} is not a valid port range")
    fqdn = _get(data, "fqdn", dict, source, {})
    apis = _get(data, "blueprintApis", dict, source, {})
    for bp, groups in apis.items():
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise InvalidConfig(f"{source}: `blueprintApis.{bp}` must be a list of API group names")
    versions = _get(data, "kubernetesVersions", list, source, ["1.33"])
    pinned = _get(data, "observabilityToggles", dict, source, {})
    unknown = set(pinned) - {"include", "exclude"}
    if unknown:
        raise InvalidConfig(f"{source}: `observabilityToggles` takes `include` and `exclude`, not {sorted(unknown)}")
    for key in ("include", "exclude"):
        globs = pinned.get(key, [])
        if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
            raise InvalidConfig(f"{source}: `observabilityToggles.{key}` must be a list of globs on dotted "
                                f"values paths, got {globs!r}")
    return Platform(
        source=source,
        udp_port_range=(start, end),
        ingress_class=_get(data, "ingressClass", str, source, "cilium"),
        kubernetes_versions=tuple(str(v) for v in versions),
        fqdn_sentinel=str(fqdn.get("sentinel", "sovereign.chartgate.invalid")),
        fqdn_allow=tuple(str(d) for d in fqdn.get("allow", []) or []),
        blueprint_apis={bp: tuple(groups) for bp, groups in apis.items()},
        blueprint_label=_get(data, "blueprintLabel", str, source, "catalyst.openova.io/blueprint"),
        observability_include=tuple(pinned.get("include", [])),
        observability_exclude=tuple(pinned.get("exclude", [])),
        raw=data,
    )
