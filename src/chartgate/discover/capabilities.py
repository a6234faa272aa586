"""Which optional APIs and Kubernetes versions a chart's templates test for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from chartgate.discover.charts import Chart

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


def advertised_api_checks(text: str) -> Iterator[tuple[str, int]]:
    """(API as written, offset just past the test) for each `.Capabilities.APIVersions.Has "x"` in a
    template's text, in order."""
    for match in _HAS.finditer(text):
        yield match.group(1), match.end()


def capability_gates(chart: Chart) -> list[CapabilityGate]:
    gates = {CapabilityGate(api_version, source)
             for source, text in chart.all_templates().items()
             for api_version, _ in advertised_api_checks(text)}
    return sorted(gates, key=lambda g: (g.api_version, g.template))


_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_VALUES = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)")


def capability_flags(chart: Chart, scope: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Values paths a template tests in the same action as a Capabilities gate (`and (.Capabilities.
    APIVersions.Has "x") .Values.isOpenshift`), in the umbrella's values coordinates: the gate can
    only show it is live with them set, so the planner varies the booleans among them."""
    found = set()
    for text in chart.templates.values():
        for action in _ACTION.finditer(text):
            if "Capabilities.APIVersions.Has" in action.group(1):
                found |= {scope + tuple(p for p in m.group(1).split(".") if p)
                          for m in _VALUES.finditer(action.group(1))}
    for key, sub in chart.subcharts.items():
        found |= capability_flags(sub, scope + (key,))
    return found


def advertised_apis(chart: Chart) -> tuple[str, ...]:
    """Every optional API (not built into Kubernetes) any template of the chart tests for: what the
    `capabilities` profile advertises and the plan varies. Built-in APIs are the bare cluster's."""
    from chartgate.core.kube import api_group, builtin_groups, DEFAULT_KUBE_VERSION
    builtin = builtin_groups(DEFAULT_KUBE_VERSION)
    return tuple(sorted({g.api_version for g in capability_gates(chart)
                         if not ("." not in g.api_version.split("/")[0] or api_group(g.group_version) in builtin)}))


def bare_cluster_apis(chart: Chart, kube_version: str) -> tuple[str, ...]:
    """The built-in APIs the templates test for that a conformant cluster of `kube_version` serves.

    Helm answers `.Capabilities.APIVersions.Has` for built-in group/versions from its own client
    libraries, but never for `group/version/Kind` (`policy/v1/PodDisruptionBudget`), so every render
    advertises those the chart asks about - as a real API server of the target version would."""
    from chartgate.core.kube import builtin_group_versions, builtin_kinds
    served = builtin_kinds(kube_version) | builtin_group_versions(kube_version)
    return tuple(sorted({g.api_version for g in capability_gates(chart) if g.api_version in served}))


def kube_version_constraints(chart: Chart) -> tuple[str, ...]:
    return tuple(sorted({m.group(1) for text in chart.all_templates().values() for m in _KUBE_SEMVER.finditer(text)}))
