"""Per-chart configuration: `[tool.chartgate.charts."<glob>"]` in pyproject.toml (or `charts:` in the
platform file) sets, for every chart whose name matches the glob:

    profile = "generic"                    # blueprint | generic (default: blueprint when blueprint.yaml exists)
    render_budget = 1500                   # helm runs for the chart, planning included (default: render-budget)
    enable = ["*"]                         # policy ids or families (globs) judged on the chart (default: all)
    disable = ["SEC-*", "HYG-002"]         # ... and those not judged (reported as skipped, with this reason)
                                           # the render policy is judged whatever these say

    [tool.chartgate.charts."ingress-nginx".constraints."controller.metrics.serviceMonitor.enabled"]
    requires = ["controller.metrics.enabled"]   # toggles that must be on whenever this one is on
    excludes = ["controller.hostNetwork"]       # toggles that can never be on together with it
    values = { "controller.metrics.serviceMonitor.namespace" = "monitoring" }  # set whenever it is on

Several matching entries apply in file order (platform file first, then pyproject.toml); later
entries override `profile` and `render_budget`, extend `enable`/`disable`, and add constraints.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Iterable

from chartgate.core.errors import InvalidConfig
from chartgate.discover.profiles import profile_names

_KEYS = {"profile", "enable", "disable", "constraints", "render_budget"}
_CONSTRAINT_KEYS = {"requires", "excludes", "values"}


@dataclass(frozen=True)
class _ToggleConstraint:
    """What a chart's own `fail`/`required` would otherwise have to tell the planner, declared."""

    toggle: str  # dotted values path of a boolean toggle
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    values: tuple[tuple[str, Any], ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ChartSettings:
    pattern: str  # glob on the chart name
    source: str  # where it was declared, for messages
    profile: str | None = None
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    constraints: tuple[_ToggleConstraint, ...] = ()
    render_budget: int | None = None

    def matches(self, chart: str) -> bool:
        return fnmatch.fnmatchcase(chart, self.pattern)


@dataclass(frozen=True)
class EffectiveSettings:
    """Everything that applies to one chart, merged."""

    profile: str | None = None
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    constraints: dict[str, _ToggleConstraint] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    render_budget: int | None = None  # None: the run's render-budget

    def disabled_reason(self, policy_id: str, *, always_judged: bool = False) -> str | None:
        """Why the configuration turns this policy off for the chart, or None. An `always_judged` policy
        (the render policy) is judged on every chart the gate covers, whatever `enable`/`disable` say:
        with it off, a chart that does not render passes with every other policy skipped. Such a chart
        is fixed, or left out with `exclude-charts` (which every report lists)."""
        if always_judged:
            return None
        family = policy_id.split("-", 1)[0]
        if self.enable and not any(policy_matches(policy_id, family, g) for g in self.enable):
            return f"not enabled for this chart (enable = {list(self.enable)} in {', '.join(self.sources)})"
        hit = next((g for g in self.disable if policy_matches(policy_id, family, g)), None)
        if hit is not None:
            return f"disabled for this chart (disable = {hit!r} in {', '.join(self.sources)})"
        return None


    def opted_in(self, policy_id: str) -> str | None:
        """The setting that names this policy explicitly (`enable = ["OBS-001"]` or `["OBS-*"]`, not the
        catch-all `*`), for messages; None when nothing does."""
        family = policy_id.split("-", 1)[0]
        hit = next((g for g in self.enable if g != "*" and policy_matches(policy_id, family, g)), None)
        return None if hit is None else f"enable = [{hit!r}] in {', '.join(self.sources)}"


def policy_matches(policy_id: str, family: str, pattern: str) -> bool:
    """`OBS-003` matches `OBS-003`, `OBS-*`, `OBS` and `*`."""
    return pattern == family or fnmatch.fnmatchcase(policy_id, pattern)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidConfig(f"{where} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _constraint(toggle: str, raw: Any, where: str) -> _ToggleConstraint:
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{where} must be a table with requires/excludes/values, got {raw!r}")
    unknown = set(raw) - _CONSTRAINT_KEYS
    if unknown:
        raise InvalidConfig(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_CONSTRAINT_KEYS)}")
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise InvalidConfig(f"{where}.values must be a table of dotted values paths, got {values!r}")
    return _ToggleConstraint(toggle, _strings(raw.get("requires", []), f"{where}.requires"),
                            _strings(raw.get("excludes", []), f"{where}.excludes"),
                            tuple(sorted(values.items())), where)


def parse_chart_settings(table: Any, source: str) -> tuple[ChartSettings, ...]:
    """Validate a `charts` table: {glob: {profile, enable, disable, constraints}}."""
    if not isinstance(table, dict):
        raise InvalidConfig(f"{source}: `charts` must be a table of chart-name globs, got {table!r}")
    found = []
    for pattern, raw in table.items():
        where = f'{source}: charts."{pattern}"'
        if not isinstance(raw, dict):
            raise InvalidConfig(f"{where} must be a table, got {raw!r}")
        unknown = set(raw) - _KEYS
        if unknown:
            raise InvalidConfig(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
        profile = raw.get("profile")
        if profile is not None and profile not in profile_names():
            raise InvalidConfig(f"{where}.profile must be one of {', '.join(profile_names())}, got {profile!r}")
        budget = raw.get("render_budget")
        if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
            raise InvalidConfig(f"{where}.render_budget must be a positive integer, got {budget!r}")
        constraints = raw.get("constraints") or {}
        if not isinstance(constraints, dict):
            raise InvalidConfig(f"{where}.constraints must be a table keyed by toggle path, got {constraints!r}")
        found.append(ChartSettings(
            str(pattern), where, profile,
            _strings(raw.get("enable", []), f"{where}.enable"),
            _strings(raw.get("disable", []), f"{where}.disable"),
            tuple(_constraint(str(t), c, f'{where}.constraints."{t}"') for t, c in constraints.items()),
            budget))
    return tuple(found)


def settings_for(chart: str, entries: Iterable[ChartSettings]) -> EffectiveSettings:
    profile, enable, disable, constraints, sources, budget = None, [], [], {}, [], None
    for entry in entries:
        if not entry.matches(chart):
            continue
        sources.append(entry.source)
        profile = entry.profile or profile
        budget = entry.render_budget or budget
        enable += entry.enable
        disable += entry.disable
        for constraint in entry.constraints:
            constraints[constraint.toggle] = constraint
    return EffectiveSettings(profile, tuple(enable), tuple(disable), constraints, tuple(sources), budget)
