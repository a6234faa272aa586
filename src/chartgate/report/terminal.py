"""Human-readable text: a failed result for pytest's failure section, and the end-of-run summary.

Everything printed goes through `report.safe.printable`: a chart's ANSI escapes, NUL or BEL never
reach the terminal raw. The summary is one line per chart and one per (chart, policy) that did not
pass - however many scenarios that policy ran in - and says how pytest's counts of chartgate's items
map onto chartgate's outcomes."""

from __future__ import annotations

from pathlib import Path

from chartgate.check.definition import Outcome, Result
from chartgate.report.redact import Redactor
from chartgate.report.defects import cause_lines
from chartgate.report.model import resolvable
from chartgate.report.safe import printable
from chartgate.check.verdict import render_check_named
from chartgate.check.waivers import unwaivable

#: (chart, policy) lines at most; the rest is counted and left to the reports.
_MAX_POLICY_LINES = 300
_LINE = 200  # characters of a finding shown on a summary line


def describe_result(result: Result, redactor: Redactor | None = None, repository: Path | None = None) -> str:
    """The failure text pytest prints; redacted (pass the gate's redactor to also scrub the secret
    values it learned from values files and rendered Secrets) and free of control characters. Given the
    gated repository, the policy's reference is shown only where it resolves there, as in the reports."""
    policy = result.policy
    where = f"{result.chart} [{result.scenario}]" if result.scenario else result.chart
    lines = [f"{policy.id} {policy.title} ({policy.severity.value}) — {where}: {result.outcome.value}"]
    if result.message:
        lines.append(result.message)
    for finding in result.findings:
        lines.append(f"- {finding.resource or '-'}  template: {finding.template or '-'}  path: {finding.path or '-'}")
        lines.extend("    " + part for part in finding.message.splitlines())
        if finding.scenarios and result.scenario is None:  # a chart-level finding: its own provenance
            first = (result.reproduce or {}).get(finding.scenarios[0]) or {}
            lines.extend("    " + part for part in cause_lines(list(finding.scenarios), first.get("command", ""),
                                                                 first.get("inputs")))
    if result.scenario is not None:
        lines.extend(cause_lines([], result.command, result.scenario_inputs))
    elif result.command:
        lines.append(f"reproduce: {result.command}")
    lines.append(f"why: {policy.rationale}")
    if policy.remediation:
        lines.append(f"fix: {policy.remediation}")
    reference = policy.reference if repository is None else resolvable(policy.reference, repository)
    if reference:
        lines.append(f"see: {reference}")
    if result.findings and unwaivable(policy):
        lines.append(f"{policy.id} cannot be waived: fix the chart, or exclude it with `exclude-charts` under "
                     "[tool.chartgate] (the reports list excluded charts).")
    elif result.findings:
        lines.append(f"To accept a finding deliberately, add a waiver for {policy.id} on {result.chart} "
                     "(with reason, owner and expiry) to waivers.yaml.")
    return printable((redactor or Redactor()).text("\n".join(lines)))


def _short(text: str, limit: int = _LINE) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _pytest_counts(results: list[Result], fail_on: str, fail_on_upstream: bool = True) -> str:
    """How pytest's pass/fail/skip counts of chartgate's items map onto chartgate's outcomes: pytest
    fails an item for a blocking failure and for an `error` (chartgate could not judge); a waived
    result and a failure below --fail-on pass in pytest (the latter with a warning)."""
    by = {o: 0 for o in Outcome}
    from chartgate.check.ownership import result_blocks
    below = held = 0
    for r in results:
        by[r.outcome] += 1
        if r.outcome is Outcome.FAILED and (r.severity.value == "info" or (
                r.severity.value == "warning" and fail_on != "warning")):
            below += 1
        elif r.outcome is Outcome.FAILED and not result_blocks(r, fail_on_upstream):
            held += 1  # only baselined or upstream findings (fail-on-upstream false): a warning too
    failed, errors = by[Outcome.FAILED] - below - held, by[Outcome.ERROR]
    parts = [f"{failed + errors} failed = chartgate: {failed} failed + {errors} error"]
    passed = by[Outcome.PASSED] + by[Outcome.WAIVED] + by[Outcome.BASELINED] + below + held
    passed_parts = [f"{by[Outcome.PASSED]} passed"]
    if by[Outcome.WAIVED]:
        passed_parts.append(f"{by[Outcome.WAIVED]} waived")
    if by[Outcome.BASELINED]:
        passed_parts.append(f"{by[Outcome.BASELINED]} baselined")
    if below:
        passed_parts.append(f"{below} failed below --fail-on (shown as warnings)")
    if held:
        passed_parts.append(f"{held} failed on upstream or baselined findings only (not blocking)")
    parts.append(f"{passed} passed = {' + '.join(passed_parts)}")
    parts.append(f"{by[Outcome.SKIPPED]} skipped = {by[Outcome.SKIPPED]} skipped")
    return "pytest counts chartgate's items as " + "; ".join(parts)


def _policy_lines(report: dict) -> dict[str, list[str]]:
    """chart -> one line per policy that did not pass, from the report's defects."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for defect in report.get("defects", []):
        for policy in defect.get("policies") or [defect["policy"]]:
            grouped.setdefault((defect["chart"], policy), []).append(defect)
    lines: dict[str, list[str]] = {}
    for (chart, policy), defects in sorted(grouped.items()):
        outcome = min((d["outcome"] for d in defects), key=("error", "failed", "waived", "baselined").index)
        scenarios = {o["scenario"] for d in defects for o in d["occurrences"]}
        scope = "chart-level" if scenarios == {None} else f"in {_plural(len(scenarios), 'scenario')}"
        first = defects[0]
        where = " ".join(x for x in (first["resource"], first["path"]) if x)
        text = f"{where}: {first['message']}" if where else first["message"]
        more = f" (+{len(defects) - 1} more)" if len(defects) > 1 else ""
        lines.setdefault(chart, []).append(
            f"  {outcome:<7} {policy} [{first['severity']}]: {_plural(len(defects), 'defect')} {scope} - "
            f"{_short(text)}{more}")
    return lines


def write_summary(tr, summary) -> None:
    tr.section("chartgate")
    write = lambda text, **markup: tr.write_line(printable(text), **markup)  # noqa: E731
    report = getattr(summary.reports, "report", None) or {}
    policy_lines = _policy_lines(report)
    shown = 0
    for chart, counts in summary.per_chart().items():
        cells = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        write(f"{chart}: {cells}")
        for line in policy_lines.get(chart, []):
            if shown < _MAX_POLICY_LINES:
                write(line)
            shown += 1
    if shown > _MAX_POLICY_LINES:
        write(f"... and {shown - _MAX_POLICY_LINES} more chart/policy lines: see the reports below")
    defects = (report.get("summary") or {}).get("defects")
    if defects:
        write(f"{_plural(defects['total'], 'defect')} ({defects['failed']} failed, {defects['error']} error, "
              f"{defects['waived']} waived; {defects['blocking']} blocking), seen {defects['occurrences']} times "
              "across scenarios")
    record = summary.record
    write(_pytest_counts(list(record.results), record.fail_on, record.fail_on_upstream))
    unreported = (report.get("summary") or {}).get("unreported_render_failures") or []
    if unreported:
        shown = ", ".join(f"{chart} [{scenario}]" for chart, scenario in unreported[:10])
        more = f" and {len(unreported) - 10} more" if len(unreported) > 10 else ""
        render = render_check_named(report.get("policies") or [])
        write(f"{_plural(len(unreported), 'scenario')} did not render and {render} did not run to report "
              f"{'it' if len(unreported) == 1 else 'them'} (the gate is red): {shown}{more}", red=True)
    for path in summary.written:
        write(f"golden file written: {path}")
    for path in summary.removed:
        write(f"orphaned golden file removed: {path}")
    if summary.orphans:
        write(f"{len(summary.orphans)} orphaned golden file(s), produced by no scenario:", red=True)
        for path in summary.orphans:
            write(f"  {path}")
        if record.update_golden:
            write("Not deleted: chartgate did not write them (no chartgate header naming their chart and "
                  "scenario, or a link). Remove them by hand.", red=True)
        else:
            write("Re-run with --update-golden to delete unused golden files.")
    excluded = report.get("excluded_charts") or []
    if excluded:
        write(f"excluded by configuration (exclude-charts), not judged: "
              + ", ".join(f"{x['name']} ({x['pattern']})" for x in excluded), yellow=True)
    for waiver in summary.expired_waivers:
        write(f"expired waiver ({waiver.source}): {waiver.policy} on {waiver.chart} expired "
              f"{waiver.expires.isoformat()}, owner {waiver.owner}. Renew it or fix the finding.", red=True)
    for waiver in summary.unused_waivers:
        write(f"unused waiver ({waiver.source}): {waiver.policy} on {waiver.chart} matched nothing; "
              "remove it", yellow=True)
    from chartgate.report.baselined import baseline_notes
    for note in baseline_notes(report):
        write(note, yellow=True)
    for note in getattr(summary.reports, "notes", []):
        write(note, yellow=True)
    for name, path in summary.reports.items():
        write(f"report: {path}")
    verdict = getattr(summary, "verdict", "failed" if summary.red else "passed")
    label = {"passed": "green", "failed": "RED", "incomplete": "RED (incomplete)",
             "partial": "PARTIAL (not the whole gate: not green)"}.get(verdict, verdict)
    if getattr(summary, "incomplete", None):
        write(f"incomplete: {summary.incomplete}", red=True)
    partial = getattr(summary, "partial", None)
    if partial:
        checks = partial["checks"]
        write(f"partial: {partial['reason']}; {checks['selected']} of {checks['collected']} collected checks "
              "selected. The whole gate is every policy module of the pack on every chart.", yellow=True)
    write(f"gate: {label}", red=summary.red, green=verdict == "passed", yellow=verdict == "partial")
