"""chartgate: a policy-as-code release gate for rendered Helm charts.

Policies import only what is listed in `__all__` here and in the `chartgate.lib` modules (the
documented policy helpers); a test holds `policies/*.py` to that.

PYTEST_DONT_REWRITE: `chartgate check` imports this package before it starts pytest, which would
otherwise warn that the plugin's package cannot be assertion-rewritten (it needs no rewriting).
"""

__version__ = "0.1.0"

from .charts import Chart, Dependency  # noqa: E402
from .context import ChartContext, ScenarioContext  # noqa: E402
from .errors import ChartFailed, ChartgateError, HelmCrashed, InvalidChart, RenderError, RenderTimeout  # noqa: E402
from .manifests import Manifest  # noqa: E402
from .policy import Finding, NotApplicable, Outcome, Policy, Severity, policy, running_policy  # noqa: E402
from .render import Render  # noqa: E402
from .scenarios import Scenario, ScenarioKind  # noqa: E402
from .toggles import Toggle, ToggleCategory  # noqa: E402

__all__ = [
    "Chart", "ChartContext", "ChartFailed", "ChartgateError", "Dependency", "Finding", "HelmCrashed",
    "InvalidChart", "Manifest", "NotApplicable", "Outcome", "Policy", "Render", "RenderError", "RenderTimeout",
    "Scenario", "ScenarioContext", "ScenarioKind", "Severity", "Toggle", "ToggleCategory", "policy",
    "running_policy", "__version__",
]
