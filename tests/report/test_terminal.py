"""The end-of-run summary: one line per chart, one per (chart, policy) that did not pass however
many scenarios it ran in, and pytest's counts stated in chartgate's terms."""

from __future__ import annotations

import re

import pytest

from chartgate.report import terminal
from chartgate.check.definition import Outcome
from chartgate.report.terminal import _pytest_counts, write_summary


class Recorder:
    def __init__(self):
        self.lines: list[str] = []

    def section(self, title, **markup):
        self.lines.append(f"== {title} ==")

    def write_line(self, line, **markup):
        self.lines.append(line)


@pytest.fixture
def summary_lines(failing_run) -> list[str]:
    tr = Recorder()
    write_summary(tr, failing_run.summary)
    return tr.lines


def test_one_line_per_chart_and_policy_not_per_scenario(summary_lines, failing_run):
    scenarios = sum(r.policy.id == "RPT-001" and r.chart == "bp-stunner" and r.outcome in (Outcome.FAILED, Outcome.WAIVED)
                    for r in failing_run.gate.results)
    assert scenarios > 10
    stunner = summary_lines[summary_lines.index(next(l for l in summary_lines if l.startswith("bp-stunner: "))):]
    stunner = stunner[1:next(i for i, l in enumerate(stunner[1:], 1) if not l.startswith("  "))]
    assert [l.split()[1] for l in stunner] == ["RPT-001", "RPT-002", "RPT-003"]
    assert stunner[0].startswith(f"  failed  RPT-001 [error]: 1 defect in {scenarios} scenarios - "
                                 "HorizontalPodAutoscaler/bp-stunner/bp-stunner-bp-stunner $.spec.maxReplicas:")
    # A chart-level finding on values.yaml is reproduced by the chart's defaults: scenario `default`.
    assert stunner[1].startswith("  failed  RPT-002 [warning]: 1 defect in 1 scenario")
    assert stunner[2].startswith("  waived  RPT-003 [error]: 1 defect in ")
    broken = [l for l in summary_lines if l.startswith("  error   ")]
    assert len(broken) == 1 and all("chart could not be loaded" in l for l in broken)  # one cause, one finding
    assert sum(len(l) > 400 for l in summary_lines if l.startswith("  ")) == 0


def test_pytest_counts_are_stated_in_chartgate_terms(summary_lines, failing_run):
    results = failing_run.gate.results
    by = {o: sum(r.outcome is o for r in results) for o in Outcome}
    warning = sum(r.outcome is Outcome.FAILED and r.severity.value == "warning" for r in results)
    line = next(l for l in summary_lines if l.startswith("pytest counts chartgate's items as "))
    failed, errors = by[Outcome.FAILED] - warning, by[Outcome.ERROR]
    assert f"{failed + errors} failed = chartgate: {failed} failed + {errors} error" in line
    assert (f"{by[Outcome.PASSED] + by[Outcome.WAIVED] + warning} passed = {by[Outcome.PASSED]} passed + "
            f"{by[Outcome.WAIVED]} waived + {warning} failed below --fail-on (shown as warnings)") in line
    assert f"{by[Outcome.SKIPPED]} skipped = {by[Outcome.SKIPPED]} skipped" in line
    assert warning == 1 and by[Outcome.WAIVED] > 10 and errors == 1  # the broken chart: one error


def test_with_fail_on_warning_the_warning_fails_in_pytest(failing_run):
    line = _pytest_counts(failing_run.gate.results, "warning")
    failed = sum(r.outcome is Outcome.FAILED for r in failing_run.gate.results)
    assert f"{failed + 1} failed = chartgate: {failed} failed + 1 error" in line and "below --fail-on" not in line


def test_defect_totals_and_the_verdict(summary_lines, failing_run):
    defects = failing_run.summary.reports.report["summary"]["defects"]
    assert f"{defects['total']} defects ({defects['failed']} failed, {defects['error']} error, " \
           f"{defects['waived']} waived; {defects['blocking']} blocking)" in "\n".join(summary_lines)
    assert summary_lines[-1] == "gate: RED"
    assert any(re.match(r"report: .*chartgate\.sarif$", l) for l in summary_lines)


def test_the_summary_is_capped(failing_run, monkeypatch):
    monkeypatch.setattr(terminal, "_MAX_POLICY_LINES", 2)
    tr = Recorder()
    write_summary(tr, failing_run.summary)
    assert len([l for l in tr.lines if l.startswith("  ")]) == 2
    assert "... and 2 more chart/policy lines: see the reports below" in tr.lines


def test_scenarios_that_did_not_render_unreported_are_named(failing_run):
    """A red gate says why even when no defect shows it (RENDER-001 deselected with -k, say)."""
    import copy

    from chartgate.report import _Written
    from chartgate.report.html import _render_html
    from chartgate.report.markdown import _render_markdown

    report = copy.deepcopy(failing_run.summary.reports.report)
    report["summary"]["unreported_render_failures"] = [["bp-stunner", "plan.003"]]
    summary = copy.copy(failing_run.summary)
    summary.reports = _Written(dict(failing_run.summary.reports), report, [])
    tr = Recorder()
    write_summary(tr, summary)
    assert ("1 scenario did not render and RENDER-001 did not run to report it (the gate is red): "
            "bp-stunner [plan.003]") in tr.lines
    assert "| Did not render | 1 scenario(s)" in _render_markdown(report)
    assert "did not render and RENDER-001 did not run to report them: bp-stunner [plan.003]" in _render_html(report)
