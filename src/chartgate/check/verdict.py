"""Is this result blocking? One rule, used by the plugin, the engine's summary, the terminal, every
report and `chartgate merge`.

A result blocks the gate when it is an `error` (chartgate could not judge: a broken chart, a policy
bug), or when it `failed` at a blocking severity (`error`; also `warning` under `--fail-on warning`)
and at least one of its findings counts against it - a finding held by the repository's baseline does
not, nor (with `fail-on-upstream = false`) one made by a vendored subchart's template.
"""

from __future__ import annotations

from typing import Iterable

from chartgate.check.ownership import counts_against
from chartgate.check.definition import RENDER_ROLE, Outcome, Result


def _blocking_severities(fail_on: str) -> frozenset[str]:
    """The severities whose failures block under `--fail-on`."""
    return frozenset({"error"} if fail_on == "error" else {"error", "warning"})


def is_blocking(outcome: str, severity: str, fail_on: str, *, findings_count: bool = True) -> bool:
    """The rule on plain values (a report's result dict, a merged shard): `findings_count` says whether
    any finding of a failed result counts against it (see `result_is_blocking`)."""
    if outcome == Outcome.ERROR.value:
        return True
    return outcome == Outcome.FAILED.value and severity in _blocking_severities(fail_on) and findings_count


def finding_dict_counts(finding: dict, fail_on_upstream: bool) -> bool:
    """`counts_against` for a finding as the report holds it."""
    return not finding.get("baselined") and (fail_on_upstream or finding.get("ownership") != "upstream")


def result_is_blocking(result: Result, fail_on: str, fail_on_upstream: bool = True) -> bool:
    """The rule on an engine result."""
    counted = not result.findings or any(counts_against(f, fail_on_upstream) for f in result.findings)
    return is_blocking(result.outcome.value, result.severity.value, fail_on, findings_count=counted)


def blocking_results(results: Iterable[Result], fail_on: str, fail_on_upstream: bool = True) -> list[Result]:
    return [r for r in results if result_is_blocking(r, fail_on, fail_on_upstream)]


def unreported_render_failures(results: Iterable[Result]) -> list[tuple[str, str]]:
    """(chart, scenario) that did not render, where policies were skipped for it but the render policy
    (`role="render"`) did not run to report it (e.g. deselected with -k): still a red gate."""
    results = list(results)
    reported = {(r.chart, r.scenario) for r in results if r.policy.role == RENDER_ROLE
                and r.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED)}
    unreported = {(r.chart, r.cause_scenario) for r in results
                  if r.cause == "render-failed" and (r.chart, r.cause_scenario) not in reported}
    # A chart that could not be judged at all, whose one error did not run (deselected, disabled).
    failed_charts = {r.chart for r in results if r.cause == "chart-failed"}
    reporting = {r.chart for r in results if r.cause == "chart-failed" and r.outcome is Outcome.ERROR}
    unreported |= {(chart, "all scenarios") for chart in failed_charts - reporting}
    return sorted(unreported)


def render_check_named(report_policies: Iterable[dict]) -> str:
    """How a report names the render policy: its id, when the report lists it (its metadata's `role`)."""
    return next((p["id"] for p in report_policies if p.get("role") == RENDER_ROLE), "the render check")
