"""Plan: toggles, scenarios, the covering plan within a budget; hands each chart's `Scenario` list on."""
