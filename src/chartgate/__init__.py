"""chartgate: a policy-as-code release gate for rendered Helm charts.

Policies import only what is listed in `__all__` here and in the `chartgate.lib` modules (the
documented policy helpers); a test holds `policies/*.py` to that.

PYTEST_DONT_REWRITE: `chartgate check` imports this package before it starts pytest, which would
otherwise warn that the plugin's package cannot be assertion-rewritten (it needs no rewriting).
"""

__version__ = "0.1.0"

# The public API, imported on first use (PEP 562): `import chartgate` loads nothing else, so
# `python -m chartgate.<module>` and the pytest plugin start without the whole engine.
_EXPORTS = {
    "Applicability": "check.applicability",
    "Chart": "discover.charts", "Dependency": "discover.charts",
    "ChartContext": "check.context", "ScenarioContext": "check.context",
    "ChartFailed": "core.errors", "ChartgateError": "core.errors", "HelmCrashed": "core.errors", "InvalidChart": "core.errors",
    "RenderError": "core.errors", "RenderTimeout": "core.errors",
    "Manifest": "parse.manifests",
    "Finding": "check.definition", "NotApplicable": "check.definition", "Outcome": "check.definition", "Policy": "check.definition",
    "Severity": "check.definition", "policy": "check.definition", "running_policy": "check.definition",
    "Render": "render.renderer",
    "Scenario": "plan.scenarios", "ScenarioKind": "plan.scenarios",
    "Toggle": "plan.toggles", "ToggleCategory": "plan.toggles",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        from importlib import import_module
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # once: later lookups do not come here
        return value
    raise AttributeError(f"module 'chartgate' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Applicability", "Chart", "ChartContext", "ChartFailed", "ChartgateError", "Dependency", "Finding", "HelmCrashed",
    "InvalidChart", "Manifest", "NotApplicable", "Outcome", "Policy", "Render", "RenderError", "RenderTimeout",
    "Scenario", "ScenarioContext", "ScenarioKind", "Severity", "Toggle", "ToggleCategory", "policy",
    "running_policy", "__version__",
]
