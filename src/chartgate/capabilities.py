"""Which optional APIs and Kubernetes versions a chart's templates test for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .charts import Chart

_HAS = re.compile(r"\.Capabilities\.APIVersions\.Has\s+\(?\s*\"([^\"]+)\"")
_KUBE_SEMVER = re.compile(r"semverCompare\s+\"([^\"]+)\"\s+[^}]*?\.Capabilities\.KubeVersion")


@dataclass(frozen=True)
class CapabilityGate:
    api_version: str  # as written: group/version or group/version/Kind
    template: str  # `# Source:`-style path of the template that tests for it

    @property
    def group_version(self) -> str:
        parts = self.api_version.split("/")
        return "/".join(parts[:2]) if len(parts) >= 2 and "." in parts[0] else parts[0]


def capability_gates(chart: Chart) -> list[CapabilityGate]:
    gates = {CapabilityGate(match.group(1), source)
             for source, text in chart.all_templates().items()
             for match in _HAS.finditer(text)}
    return sorted(gates, key=lambda g: (g.api_version, g.template))


def advertised_apis(chart: Chart) -> tuple[str, ...]:
    """Every API version any template of the chart tests for (the `capabilities` profile)."""
    return tuple(sorted({gate.api_version for gate in capability_gates(chart)}))


def kube_version_constraints(chart: Chart) -> tuple[str, ...]:
    return tuple(sorted({m.group(1) for text in chart.all_templates().values() for m in _KUBE_SEMVER.finditer(text)}))
