"""Values paths: reading a value at a path, spelling a path, and the values a chart's user supplies.

A values path is a tuple of keys (`Path_`): `("ingress", "hosts")`. `dotted(path)` spells it as
Helm's `--set` does for a key holding a dot; `set_syntax(path)` escapes every character `--set`
treats specially. `values_file(chart, trail)` is where a default is written: the values.yaml a
finding on it names, and its JSONPath in that file.
"""

from __future__ import annotations

from typing import Any

from chartgate.discover.charts import Chart
from chartgate.core.jsonpaths import Trail, jsonpath
from chartgate.plan.strategies import dotted as set_syntax
from chartgate.core.values import Path_, dotted, get_path, mentions_values_key, supplied_strings, supplied_values

__all__ = ["Path_", "dotted", "get_path", "mentions_values_key", "set_syntax", "supplied_strings",
           "supplied_values", "values_file"]


def values_file(chart: Chart, trail: Trail, prefix: str = "") -> tuple[str, str]:
    """(values.yaml, JSONPath in it) that sets the default at `trail` (keys and list indexes in the
    chart's values, subcharts under their keys): the chart's own values.yaml when it sets it, else
    the subchart's (`<chart>/charts/<sub>/values.yaml`, the path without the subchart key).

    `values_file(chart, ("knative-operator", "metrics", "enabled"))` ->
    (`bp-knative/charts/knative-operator/values.yaml`, `$.metrics.enabled`) when only the subchart sets it."""
    here = prefix + chart.name
    if trail and trail[0] in chart.subcharts and not _sets(chart.values, trail):
        return values_file(chart.subcharts[trail[0]], trail[1:], f"{here}/charts/")
    return f"{here}/values.yaml", jsonpath(tuple(trail))


def _sets(values: Any, trail: Trail) -> bool:
    for part in trail:
        if isinstance(part, int) and isinstance(values, list) and -len(values) <= part < len(values):
            values = values[part]
        elif isinstance(part, str) and isinstance(values, dict) and part in values:
            values = values[part]
        else:
            return False
    return True
