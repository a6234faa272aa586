"""Configurations drawn from a Blueprint's configSchema, for property-based checks.

`config_space(blueprint, source, values)` compiles the schema into a Hypothesis strategy of
configurations; `smallest_counterexample(configurations, violates, ...)` searches it (within the
`active_profile()` budget) and shrinks what it finds. `conform(current, value)` fits a drawn value
to the type of the chart's current default (`INCOMPATIBLE` when it cannot); `current_value` reads
that default.
"""

from chartgate.plan.strategies import (INCOMPATIBLE, active_profile, config_space, conform, current_value,
                                       smallest_counterexample)

__all__ = ["INCOMPATIBLE", "active_profile", "config_space", "conform", "current_value", "smallest_counterexample"]
