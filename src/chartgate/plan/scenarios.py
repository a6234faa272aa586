"""Plan the renders of a chart: the bare-cluster default, full capabilities, each toggle's opt-in,
opt-in-without-its-API and explicit-off, and every hand-written values file.

Hand-written scenarios come from the chart's `ci/*-values.yaml` (the chart-testing convention) and
from `<overlay-root>/<chart>/*-values.yaml`; `<overlay-root>/<chart>/base.yaml`, when present, is the
cluster overlay applied under every scenario (for example the Sovereign FQDN).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from chartgate.discover.capabilities import advertised_apis, kube_version_constraints
from chartgate.discover.charts import Chart
from chartgate.plan.toggles import Toggle, discover_toggles


class ScenarioKind(str, Enum):
    """Where a scenario comes from: the chart's defaults, a toggle flipped, a values file, a plan row ..."""

    DEFAULT = "default"
    CAPABILITIES = "capabilities"
    OPT_IN = "opt-in"
    OPT_IN_NO_API = "opt-in-no-api"
    OFF = "off"
    CI = "ci"
    OVERLAY = "overlay"
    PLAN = "plan"  # a combination from the permutation planner
    RELEASE = "release"  # a Flux HelmRelease found in a cluster overlay tree
    KUBE_VERSION = "kube-version"  # default values rendered for one target Kubernetes version
    BARE = "bare"  # chart defaults only, when they are not enough (the chart requires input)


#: Scenarios chartgate made up (a toggle flipped, a plan row): when the chart refuses one through its own
#: `fail`/`required`, the input is infeasible - the chart's contract, not a defect. Hand-written inputs
#: (defaults, ci/ and overlay values files, cluster HelmReleases, target Kubernetes versions) must render.
_GENERATED_KINDS = frozenset({"capabilities", "opt-in", "opt-in-no-api", "off", "plan"})


@dataclass(frozen=True)
class Scenario:
    """One set of inputs a chart is rendered with: values files, --set values, advertised APIs and Kubernetes version."""

    name: str
    kind: ScenarioKind
    values_files: tuple[Path, ...] = ()
    set_values: tuple[tuple[str, Any], ...] = ()
    api_versions: tuple[str, ...] = ()
    kube_version: str | None = None
    toggle: str | None = None  # dotted values path, for toggle scenarios
    description: str = ""
    release: str | None = None  # overrides the default release name
    namespace: str | None = None  # overrides the default namespace
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def generated(self) -> bool:
        """Made up by chartgate (a toggle flipped, a plan row) rather than written by hand."""
        return self.kind.value in _GENERATED_KINDS

    def describe_inputs(self) -> dict[str, Any]:
        """The scenario's inputs in report form."""
        return {
            "values_files": [str(p) for p in self.values_files],
            "set": {k: v for k, v in self.set_values},
            "api_versions": list(self.api_versions),
            "kube_version": self.kube_version,
        }


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(text: str) -> str:
    """A string usable as one path component: no separators, no `..`, never empty.

    A name that had to be changed gets a short hash of the original, so `a/b` and `a b` (and `a_b`)
    never share a golden file.
    """
    cleaned = _SAFE_NAME.sub("_", text).strip(".")[:200] or "_"
    if cleaned != text:
        cleaned += "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return cleaned


def base_overlays(chart: Chart, overlay_roots: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(p for root in overlay_roots for p in [Path(root) / chart.name / "base.yaml"] if p.is_file())


def _values_file_scenarios(chart: Chart, overlay_roots: tuple[Path, ...], base: tuple[Path, ...],
                          apis: tuple[str, ...]) -> list[Scenario]:
    found = []
    if chart.path is not None:
        for path in ci_values_files(chart):
            found.append(Scenario(f"ci.{path.name.removesuffix('-values.yaml')}", ScenarioKind.CI,
                                  base + (path,), api_versions=apis,
                                  description=f"chart-testing values file ci/{path.name}"))
    for root in overlay_roots:
        for path in sorted((Path(root) / chart.name).glob("*-values.yaml")):
            found.append(Scenario(f"overlay.{path.name.removesuffix('-values.yaml')}", ScenarioKind.OVERLAY,
                                  base + (path,), api_versions=apis,
                                  description=f"overlay values file {path}"))
    return found


@dataclass(frozen=True)
class ChartBase:
    """What every generated scenario of a chart starts from.

    Normally the cluster overlay (`<overlay-root>/<chart>/base.yaml`). When the chart's bare render
    stops in its own `required`/`fail` and the chart ships `ci/*-values.yaml` (chart-testing's
    convention for the inputs a chart needs), the first ci file in sorted order is layered on top,
    and a `bare` scenario records that the chart requires input."""

    files: tuple[Path, ...] = ()
    requires_input: str | None = None  # the chart's own message when its bare render needs input
    ci_file: Path | None = None  # the ci/ values file layered under every generated scenario


def ci_values_files(chart: Chart) -> list[Path]:
    return sorted((chart.path / "ci").glob("*-values.yaml")) if chart.path is not None else []


def _toggle_values(toggle: Toggle, value: bool, constraints: dict | None = None) -> tuple[tuple[str, Any], ...]:
    """`--set-json` pairs for a toggle scenario: its enclosing toggles on (a nested toggle only acts
    inside its parent), the toggle itself, and - when it is switched on - what the chart's declared
    constraints say must come with it (`requires` on, `excludes` off, `values`)."""
    pairs = [(parent, True) for parent in toggle.parents]
    constraint = (constraints or {}).get(toggle.dotted)
    if value and constraint is not None:
        pairs += [(path, True) for path in constraint.requires]
        pairs += [(path, False) for path in constraint.excludes]
        pairs += list(constraint.values)
    return tuple(pairs) + ((toggle.dotted, value),)


def _toggle_scenarios(toggle: Toggle, base: tuple[Path, ...], apis: tuple[str, ...],
                     constraints: dict | None = None) -> list[Scenario]:
    name = toggle.dotted
    inside = f" (inside {', '.join(toggle.parents)}=true)" if toggle.parents else ""
    on, off = _toggle_values(toggle, True, constraints), _toggle_values(toggle, False, constraints)
    scenarios = [Scenario(f"on.{name}", ScenarioKind.OPT_IN, base, on, apis, toggle=name,
                          description=f"{name}=true{inside} with every optional API advertised")]
    # Without optional APIs the opt-in can only differ if a template the toggle reaches tests them or
    # renders a CRD-typed object; otherwise the plan's toggle x API pairs cover that render already.
    if toggle.api_sensitive or not apis:
        scenarios.append(Scenario(f"on-no-api.{name}", ScenarioKind.OPT_IN_NO_API, base, on, (), toggle=name,
                                  description=f"{name}=true{inside} on a bare cluster (no optional API advertised)"))
    scenarios.append(Scenario(f"off.{name}", ScenarioKind.OFF, base, off, apis, toggle=name,
                              description=f"{name}=false{inside} set explicitly, every optional API advertised"))
    return scenarios


def full_kube_version(version: str) -> str:
    """`1.30` -> `v1.30.0`: Helm 3 and 4 print a partial version differently, a full one alike."""
    parts = version.lstrip("v").split(".")
    return "v" + ".".join((parts + ["0", "0"])[:3])


def _kube_version_scenarios(chart: Chart, base: tuple[Path, ...], apis: tuple[str, ...],
                           kube_versions: tuple[str, ...]) -> list[Scenario]:
    """One scenario per target Kubernetes version, when the templates branch on the version."""
    if not kube_version_constraints(chart):
        return []
    return [Scenario(f"kube-{version}", ScenarioKind.KUBE_VERSION, base, api_versions=apis,
                     kube_version=full_kube_version(version),
                     description=f"default values on Kubernetes {version}")
            for version in kube_versions]


def plan_chart(chart: Chart, overlay_roots: tuple[Path, ...] = (), kube_versions: tuple[str, ...] = (), *,
               base: ChartBase | None = None, toggles: list[Toggle] | None = None,
               constraints: dict | None = None) -> list[Scenario]:
    overlays = base_overlays(chart, overlay_roots)
    base = base or ChartBase(overlays)
    apis = advertised_apis(chart)
    scenarios = []
    if base.requires_input:
        scenarios.append(Scenario("bare", ScenarioKind.BARE, overlays,
                                  description=f"chart defaults only; the chart requires input "
                                              f"({base.requires_input}), supplied by ci/{base.ci_file.name}"))
    on = f" on ci/{base.ci_file.name}" if base.ci_file else ""
    scenarios += [
        Scenario("default", ScenarioKind.DEFAULT, base.files, description=f"default values{on}, bare cluster"),
        Scenario("capabilities", ScenarioKind.CAPABILITIES, base.files, api_versions=apis,
                 description=f"default values{on}, every API the templates test for advertised"),
    ]
    for toggle in toggles if toggles is not None else discover_toggles(chart):
        if toggle.exercised:
            scenarios += _toggle_scenarios(toggle, base.files, apis, constraints)
    scenarios += _values_file_scenarios(chart, overlay_roots, overlays, apis)
    scenarios += _kube_version_scenarios(chart, base.files, apis, kube_versions)
    return scenarios
