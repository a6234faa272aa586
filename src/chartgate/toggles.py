"""Find the boolean switches in a chart's effective values and say what kind of switch each is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .charts import Chart
from .values import Path_, dotted, iter_leaves

#: Keys whose boolean value switches an optional part of the chart on or off.
TOGGLE_KEYS = {"enabled", "enable", "create"}
_OBSERVABILITY = re.compile(r"servicemonitor|podmonitor|prometheusrule|metrics|monitoring|grafana|dashboard|"
                            r"tracing|alerting", re.IGNORECASE)
_OPTIONAL_OBJECT = re.compile(r"^(hpa|autoscaling|networkpolic(y|ies)|poddisruptionbudget|pdb|gatewayclass)$",
                              re.IGNORECASE)


class ToggleCategory(str, Enum):
    OBSERVABILITY = "observability"  # scrape/alert objects, usually CRD-typed (monitoring.coreos.com)
    OVERLAY = "overlay"  # optional objects the Blueprint overlay (or the subchart) adds on request
    FEATURE = "feature"  # core switches of the payload (rbac.create, ...): not required to default false


@dataclass(frozen=True)
class Toggle:
    path: Path_
    default: bool
    category: ToggleCategory
    in_subchart: str | None  # values key of the subchart the toggle belongs to, if any

    @property
    def dotted(self) -> str:
        return dotted(self.path)

    @property
    def must_default_false(self) -> bool:
        return self.category is not ToggleCategory.FEATURE


def classify(path: Path_, overlay_keys: set[str]) -> ToggleCategory:
    parents = path[:-1]
    if any(_OBSERVABILITY.search(part) for part in parents):
        return ToggleCategory.OBSERVABILITY
    if parents and (parents[0] in overlay_keys or any(_OPTIONAL_OBJECT.match(p) for p in parents)):
        return ToggleCategory.OVERLAY
    return ToggleCategory.FEATURE


def discover_toggles(chart: Chart) -> list[Toggle]:
    """Every boolean `enabled`/`create` switch, umbrella and subcharts, as Helm would see it by default."""
    subchart_keys = set(chart.subcharts)
    overlay_keys = {key for key in chart.values if key not in subchart_keys and key != "global"}
    toggles = []
    for path, value in iter_leaves(chart.effective_values):
        if path and path[-1] in TOGGLE_KEYS and isinstance(value, bool):
            toggles.append(Toggle(path, value, classify(path, overlay_keys),
                                  path[0] if path[0] in subchart_keys else None))
    return sorted(toggles, key=lambda t: t.path)
