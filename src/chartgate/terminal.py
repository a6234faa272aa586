"""Human-readable text: a failed result for pytest's failure section, and the end-of-run summary."""

from __future__ import annotations

from .policy import Result
from .redact import Redactor


def describe_result(result: Result, redactor: Redactor | None = None) -> str:
    """The failure text pytest prints; redacted (pass the gate's redactor to also scrub the secret
    values it learned from values files and rendered Secrets)."""
    policy = result.policy
    where = f"{result.chart} [{result.scenario}]" if result.scenario else result.chart
    lines = [f"{policy.id} {policy.title} ({policy.severity.value}) — {where}: {result.outcome.value}"]
    if result.message:
        lines.append(result.message)
    for finding in result.findings:
        lines.append(f"- {finding.resource or '-'}  template: {finding.template or '-'}  path: {finding.path or '-'}")
        lines.extend("    " + part for part in finding.message.splitlines())
    if result.command:
        lines.append(f"reproduce: {result.command}")
    lines.append(f"why: {policy.rationale}")
    lines.append(f"see: {policy.reference}")
    if result.findings:
        lines.append(f"To accept a finding deliberately, add a waiver for {policy.id} on {result.chart} "
                     "(with reason, owner and expiry) to waivers.yaml.")
    return (redactor or Redactor()).text("\n".join(lines))


def write_summary(tr, summary) -> None:
    tr.section("chartgate")
    for chart, counts in summary.per_chart().items():
        cells = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        tr.write_line(f"{chart}: {cells}")
    for path in summary.written:
        tr.write_line(f"golden file written: {path}")
    for path in summary.removed:
        tr.write_line(f"orphaned golden file removed: {path}")
    if summary.orphans:
        tr.write_line(f"{len(summary.orphans)} orphaned golden file(s), produced by no scenario:", red=True)
        for path in summary.orphans:
            tr.write_line(f"  {path}")
        tr.write_line("Re-run with --update-golden to delete unused golden files.")
    for waiver in summary.expired_waivers:
        tr.write_line(f"expired waiver ({waiver.source}): {waiver.policy} on {waiver.chart} expired "
                      f"{waiver.expires.isoformat()}, owner {waiver.owner}. Renew it or fix the finding.", red=True)
    for waiver in summary.unused_waivers:
        tr.write_line(f"unused waiver ({waiver.source}): {waiver.policy} on {waiver.chart} matched nothing; "
                      "remove it", yellow=True)
    for name, path in summary.reports.items():
        tr.write_line(f"report: {path}")
    tr.write_line(f"gate: {'RED' if summary.red else 'green'}", red=summary.red, green=not summary.red)
