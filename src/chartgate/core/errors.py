"""One exception hierarchy for everything chartgate reports as a user-facing error.

Every message says what happened, where (chart, file, key) and what to do next.
"""

from __future__ import annotations

import re


class ChartgateError(Exception):
    """Base class: an error the user can act on (as opposed to a bug in chartgate)."""


class HelmNotFound(ChartgateError):
    """No usable Helm binary: not provisioned, not executable, or HELM_BIN points nowhere."""


class HelmChecksumMismatch(ChartgateError):
    """A provisioned Helm binary does not have the pinned sha256; it is never executed."""


class HelmVersionUnsupported(ChartgateError):
    """The Helm binary answers with a version chartgate does not support."""


class InvalidChart(ChartgateError):
    """A chart's Chart.yaml, values.yaml, blueprint.yaml or vendored dependencies are unusable."""


class InvalidConfig(ChartgateError):
    """chartgate's own configuration (platform file, pyproject table, options) is unusable."""


class InvalidWaiver(ChartgateError):
    """waivers.yaml is malformed or an entry lacks a required field."""


class InvalidYaml(ChartgateError):
    """A YAML document could not be parsed; the message names the file and line."""


class RenderError(ChartgateError):
    """`helm template` did not produce a usable render.

    Carries Helm's own message and the exact command that reproduces the failure.
    """

    #: short machine-readable reason, overridden by subclasses
    reason = "render-failed"

    def __init__(self, chart: str, scenario: str, message: str, command: str, stderr: str = ""):
        self.chart = chart
        self.scenario = scenario
        self.helm_message = message
        self.command = command
        self.stderr = stderr
        super().__init__(
            f"{chart} [{scenario}]: helm template failed ({self.reason}): {message}\n"
            f"  reproduce with: {command}"
        )


class ChartFailed(RenderError):
    """The chart itself stopped the render through `fail` or `required` (a deliberate, named error), or
    its values.schema.json rejected the values (then `chart_message` is Helm's whole message).

    Helm words it "execution error at (<template>:<line>:<col>): <message>"; `chart_message` is the
    chart's own message (whole, even over several lines) and `location` the template position.
    """

    reason = "chart-fail"

    @property
    def chart_message(self) -> str:
        """What the chart's `fail`/`required` said, without Helm's "execution error at (...)" prefix."""
        match = _CHART_FAIL_MESSAGE.match(self.helm_message)
        return match["message"].strip() if match else self.helm_message.strip()

    @property
    def location(self) -> str:
        """`<chart>/templates/<file>:<line>:<col>` of the `fail`/`required` call ("" when unknown)."""
        match = _CHART_FAIL_MESSAGE.match(self.helm_message)
        return match["location"] if match else ""


_CHART_FAIL_MESSAGE = re.compile(r"\A\s*execution error at \((?P<location>[^()\n]*)\):[ ]?(?P<message>.*)\Z", re.DOTALL)


class HelmCrashed(RenderError):
    """Helm exited abnormally (signal, panic, or no error message): a tool failure, not a chart error."""

    reason = "helm-crashed"


class RenderTimeout(RenderError):
    """A single `helm template` ran past the per-render timeout and was killed."""

    reason = "timeout"


class ManifestParseError(RenderError):
    """Helm exited 0 but its output is not valid YAML Kubernetes objects."""

    reason = "invalid-output"
