"""What a policy's check function receives: read-only views of a chart, its plan and its renders."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

from chartgate.discover.capabilities import CapabilityGate, advertised_apis, capability_gates
from chartgate.discover.charts import Chart
from chartgate.core.errors import RenderError
from chartgate.core.kube import DEFAULT_KUBE_VERSION
from chartgate.render.renderer import Render, Renderer
from chartgate.plan.scenarios import Scenario
from chartgate.plan.determinism import Nondeterminism, compare, kept_with_lookup, may_be_nondeterministic
from chartgate.plan.scenarios import ChartBase
from chartgate.plan.toggles import Classification, Toggle, discover_toggles

#: API groups of monitoring objects (scrape configs, rules, probes, dashboards).
_MONITORING_GROUPS = frozenset({"monitoring.coreos.com", "monitoring.googleapis.com", "opentelemetry.io",
                               "grafana.integreatly.org"})
from chartgate.core.values import with_files, with_set

T = TypeVar("T")


@dataclass
class ChartContext:
    """One chart as policies see it. Renders go through the shared renderer (memoised, cached)."""

    chart: Chart
    scenarios: list[Scenario]
    renderer: Renderer
    platform: Any = None  # chartgate.discover.platform.Platform
    golden: Any = None  # chartgate.compare.golden.GoldenStore
    kube_versions: tuple[str, ...] = (DEFAULT_KUBE_VERSION,)
    helm_versions: tuple[str, ...] = ()  # every configured Helm version; the first is `renderer`'s
    # Renderers of the other Helm versions, built on first use (locating a binary can fail).
    matrix_renderers: Callable[[], dict[str, Renderer]] = field(default=dict, repr=False)
    base: ChartBase | None = None  # what generated scenarios start from (cluster overlay, a ci file)
    chart_roots: tuple = ()  # the directory trees chartgate gates: the repository, as far as it reads
    judge_test_hooks: bool = False  # posture rules judge `helm test` hooks too (lib.podspec.chart_view)
    # What `memo` computed from renders for this chart; `release` empties it.
    _memos: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The chart's name (Chart.yaml `name`)."""
        return self.chart.name

    @cached_property
    def toggles(self) -> list[Toggle]:
        """Every boolean enabled/enable/create switch of the chart's effective values, classified."""
        classification = Classification.of(self.platform)
        return discover_toggles(self.chart, classification)

    def toggle(self, dotted_path: str) -> Toggle:
        for toggle in self.toggles:
            if toggle.dotted == dotted_path:
                return toggle
        raise KeyError(f"{self.name}: no toggle {dotted_path!r}")

    @cached_property
    def observability_toggles(self) -> list[Toggle]:
        """Toggles bound by the default-false contract: observability and overlay toggles by name or
        by the platform file, and probe toggles whose opt-in render adds monitoring objects."""
        return [t for t in self.toggles if t.must_default_false or (t.probe and self.adds_monitoring(t))]

    def adds_monitoring(self, toggle: Toggle) -> bool:
        """Does switching the toggle on add a monitoring.coreos.com object (with every API advertised)?"""
        on, off = self.try_render(f"on.{toggle.dotted}"), self.try_render(f"off.{toggle.dotted}")
        if not (on.ok and off.ok):
            return False
        before = {m.identity() for m in off.manifests}
        return any(m.group in _MONITORING_GROUPS and m.identity() not in before for m in on.manifests)

    @cached_property
    def capability_gates(self) -> list[CapabilityGate]:
        """Every `.Capabilities.APIVersions.Has` test in the chart's templates."""
        return capability_gates(self.chart)

    @cached_property
    def advertised_apis(self) -> tuple[str, ...]:
        """The optional APIs the `capabilities` scenario advertises (those the templates test)."""
        return advertised_apis(self.chart)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Per-chart state a policy computes once: `compute()` the first time `key` is asked for on
        this chart, the same value after that, until the chart's checks are done (then released
        with its renders). Use a key that names the policy or helper, e.g. `("CAP-001", "gated")`;
        a mutable value (a dict) is shared by every later call."""
        if key not in self._memos:
            self._memos[key] = compute()
        return self._memos[key]

    def release(self) -> None:
        """Forget what was computed from renders (the chart's checks are done); what planning
        produced (toggles, gates) stays."""
        self.__dict__.pop("observability_toggles", None)
        self._memos.clear()

    def scenario(self, name: str) -> Scenario:
        """The planned scenario called `name` (KeyError when there is none)."""
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(f"{self.name}: no scenario named {name!r}")

    def try_render(self, scenario: Scenario | str) -> Render:
        """Render a scenario; a failed render is returned with `.error` set (for policies that expect it)."""
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        result = self.renderer.render(self.chart, scenario)
        seen = self.__dict__.get("_rendered_by_check")
        if seen is not None:  # the engine is recording what a chart-level check looks at (provenance.py)
            seen.setdefault(scenario.name, result)
        return result

    @contextmanager
    def recording(self) -> Iterator[dict[str, Render]]:
        """Record every render a check asks for, by scenario name, while the block runs."""
        seen: dict[str, Render] = {}
        self.__dict__["_rendered_by_check"] = seen
        try:
            yield seen
        finally:
            self.__dict__.pop("_rendered_by_check", None)

    def nondeterminism(self, scenario: Scenario | str) -> Nondeterminism:
        """Fields that differ between two renders of the scenario by the primary Helm (empty when the
        templates call no function that can; see determinism.py). Memoised per scenario."""
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        return self.memo(("nondeterminism", scenario.name), lambda: self._nondeterminism(scenario))

    def _nondeterminism(self, scenario: Scenario) -> Nondeterminism:
        found = Nondeterminism()
        if may_be_nondeterministic(self.chart):
            first = self.try_render(scenario)
            second = self.renderer.render_again(self.chart, scenario)
            if first.ok and second.ok:
                found = compare(first, second, kept_with_lookup(self.chart.all_templates()))
        return found

    def infeasible(self, render: Render) -> bool:
        """A generated input the chart refuses through its own `fail`/`required` while its `default`
        scenario renders: the chart's contract (recorded, pruned), neither an error nor a finding.
        When the default does not render either, the failure is not about the input."""
        if not render.refused:
            return False
        if render.scenario.name == "default" or not any(s.name == "default" for s in self.scenarios):
            return False
        return self.try_render("default").ok

    def render(self, scenario: Scenario | str) -> Render:
        """Render a scenario; a failed render raises RenderError, which makes the result `error`."""
        __tracebackhide__ = True
        result = self.try_render(scenario)
        if result.error is not None:
            raise result.error
        return result

    @property
    def helm_matrix(self) -> tuple[str, ...]:
        """The other Helm versions configured for comparison (empty when only one is configured)."""
        return tuple(self.helm_versions[1:])

    def render_with_helm(self, version: str, scenario: Scenario | str) -> Render:
        """Render a scenario with another configured Helm version (raises RenderError on failure)."""
        __tracebackhide__ = True
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        result = self.matrix_renderers()[version].render(self.chart, scenario)
        if result.error is not None:
            raise result.error
        return result

    def values_for(self, scenario: Scenario | str) -> dict:
        """The values a scenario renders with: chart defaults (subcharts included), then each values
        file, then each --set-json, in Helm's order."""
        return _scenario_values(self.chart, self.scenario(scenario) if isinstance(scenario, str) else scenario)

    def variant(self, base: Scenario | str, name: str, *, set_values: Iterable[tuple[str, Any]] = (),
                api_versions: tuple[str, ...] | None = None, values_files: tuple | None = None) -> Scenario:
        """An ad-hoc scenario derived from a planned one (e.g. with one more API advertised)."""
        if isinstance(base, str):
            base = self.scenario(base)
        return replace(base, name=f"{base.name}+{name}", kind=base.kind,
                       set_values=base.set_values + tuple(set_values),
                       api_versions=base.api_versions if api_versions is None else tuple(api_versions),
                       values_files=base.values_files if values_files is None else tuple(values_files))


@dataclass
class ScenarioContext:
    """A chart context narrowed to one scenario whose render succeeded."""

    chart: ChartContext
    scenario: Scenario
    render: Render

    @property
    def name(self) -> str:
        """The chart's name."""
        return self.chart.name

    @property
    def manifests(self):
        """Every object of the scenario's render (a list of Manifest), in render order."""
        return self.render.manifests

    @cached_property
    def values(self) -> dict:
        """The values this scenario renders with: chart defaults (subcharts included), then each
        values file, then each --set-json, in Helm's order."""
        return self.chart.values_for(self.scenario)


def _scenario_values(chart: Chart, scenario: Scenario) -> dict:
    values = with_files(chart.effective_values, scenario.values_files)
    for dotted_path, value in scenario.set_values:
        values = with_set(values, dotted_path, value)
    return values


__all__ = ["ChartContext", "ScenarioContext", "RenderError"]
