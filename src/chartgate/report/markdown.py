"""chartgate.md: the report as Markdown, for a pull-request comment, a wiki page or an audit file.

Order: verdict and provenance, the chart x policy matrix, every failed/errored/waived result with
what an author needs to fix it (resource, template, JSONPath, excerpt, scenario, reproduce command),
waiver housekeeping, then the full provenance tables.
"""

from __future__ import annotations

import re

from .matrix import NOTEWORTHY, anchor, build_matrix, noteworthy_results, policy_index, scenario_label, values_digests

SYMBOL = {"passed": "✅", "failed": "❌", "waived": "⚠️", "error": "💥", "skipped": "➖"}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def text(value) -> str:
    """Plain text safe in Markdown prose and table cells (a `<redacted ...>` marker stays visible)."""
    return _SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def code(value) -> str:
    """An inline code span that survives backticks and pipes inside the value."""
    value = str(value).replace("\n", " ")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}".replace("|", "\\|")


def fenced(body: str, lang: str = "") -> list[str]:
    fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`+", body)), default=0))
    return [f"{fence}{lang}", body.rstrip("\n"), fence]


def _header(report: dict) -> list[str]:
    verdict = report["summary"]["gate"]
    helm = report["helm"]
    totals = ", ".join(f"{n} {o}" for o, n in report["summary"]["totals"].items())
    rows = [
        ("Gate", f"**{verdict.upper()}** (fails on {text(report['summary'].get('fail_on', 'error'))} severity)"),
        ("chartgate", code(report["tool"]["version"])),
        ("Helm", f"{code(helm.get('version') or 'unavailable')} at {code(helm.get('path') or '-')}, "
                 f"sha256 {code(helm.get('sha256') or helm.get('error') or '-')}"),
        ("Kubernetes versions", ", ".join(code(v) for v in report.get("kubernetes_versions", [])) or "-"),
        ("Charts repository commit", code(report.get("git_commit") or "not a git checkout")),
        ("Generated", f"{text(report['generated_at'])} (run started {text(report.get('started_at', '-'))})"),
        ("Results", text(totals)),
    ]
    lines = [f"# chartgate report: gate {verdict}", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return lines + [""]


def _matrix(report: dict) -> list[str]:
    matrix = build_matrix(report)
    if not matrix.policies:
        return ["## Chart × policy matrix", "", "No policy was evaluated.", ""]
    head = "| chart | " + " | ".join(code(p["id"]) for p in matrix.policies) + " |"
    lines = ["## Chart × policy matrix", "",
             "Each cell aggregates the policy's scenarios on that chart; the worst outcome wins.", "",
             head, "|---" * (len(matrix.policies) + 1) + "|"]
    for chart in matrix.charts:
        cells = []
        for policy in matrix.policies:
            cell = matrix.cell(chart, policy["id"])
            if cell is None:
                cells.append("–")
                continue
            label = f"{SYMBOL[cell.outcome]} {cell.outcome} ({cell.summary()})"
            cells.append(f"[{label}](#{anchor(cell.first_noteworthy)})" if cell.first_noteworthy else label)
        lines.append(f"| **{text(chart)}** | " + " | ".join(cells) + " |")
    legend = " · ".join(f"{SYMBOL[o]} {o}" for o in SYMBOL)
    titles = "; ".join(f"{code(p['id'])} {text(p['title'])}" for p in matrix.policies)
    return lines + ["", f"Legend: {legend}", "", f"Policies: {titles}", ""]


def _scenario(result: dict) -> list[str]:
    inputs = result.get("scenario_inputs")
    if not inputs:
        return []
    lines = ["", "Scenario inputs:", ""]
    files = inputs.get("values_files") or []
    lines.append("- values files: " + (", ".join(code(f) for f in files) if files else "none (chart defaults)"))
    sets = inputs.get("set") or {}
    lines.append("- `--set` values: " + (", ".join(code(f"{k}={v}") for k, v in sets.items()) if sets else "none"))
    apis = inputs.get("api_versions") or []
    lines.append("- advertised API versions: " + (", ".join(code(a) for a in apis) if apis else "none (bare cluster)"))
    if inputs.get("kube_version"):
        lines.append(f"- Kubernetes version: {code(inputs['kube_version'])}")
    return lines


def _finding(finding: dict) -> list[str]:
    where = [("resource", finding.get("resource")), ("template", finding.get("template")),
             ("JSONPath", finding.get("path")), ("line", finding.get("line"))]
    lines = ["- " + " · ".join(f"{name} {code(value)}" for name, value in where if value not in (None, ""))]
    lines += ["", "  " + "  \n  ".join(text(part) for part in finding["message"].splitlines() or [""])]
    if finding.get("excerpt"):  # indented with the list item, every line of it
        lines += [""] + ["  " + line for block in fenced(finding["excerpt"], "yaml") for line in block.splitlines()]
    return lines + [""]


def _result(result: dict, policy: dict) -> list[str]:
    lines = [f'<a id="{anchor(result)}"></a>', "",
             f"### {SYMBOL[result['outcome']]} {text(result['policy'])} on {text(result['chart'])} "
             f"({text(scenario_label(result))}): {result['outcome']}", "",
             f"**{text(result['title'])}** · severity {code(result['severity'])}", ""]
    if result.get("waiver"):
        w = result["waiver"]
        lines += [f"Waived: {text(w.get('reason', ''))} (owner {text(w.get('owner', '-'))}, "
                  f"expires {text(w.get('expires', '-'))}, {text(w.get('source', ''))})", ""]
    if result.get("message"):
        lines += fenced(result["message"], "text") + [""]
    for finding in result["findings"]:
        lines += _finding(finding)
    lines += _scenario(result)
    if result.get("command"):
        lines += ["", "Reproduce:", ""] + fenced(result["command"], "sh")
    if policy:
        lines += ["", f"Why: {text(policy.get('rationale', ''))}  ", f"See: {text(policy.get('reference', ''))}"]
    return lines + [""]


def _waivers(report: dict) -> list[str]:
    waivers = report.get("waivers") or {}
    lines = []
    for kind, advice in (("expired", "renew it or fix the finding"), ("unused", "remove it")):
        for w in waivers.get(kind) or []:
            lines.append(f"- {kind}: {code(w['policy'])} on {code(w['chart'])} (owner {text(w.get('owner', '-'))}, "
                         f"expires {text(w.get('expires', '-'))}, {text(w.get('source', ''))}): {advice}")
    return ["## Waivers", ""] + lines + [""] if lines else []


def _provenance(report: dict) -> list[str]:
    lines = ["## Provenance", "", "### Charts", "", "| chart | version | path | sha256 (tree incl. vendored dependencies) |",
             "|---|---|---|---|"]
    lines += [f"| {text(c['name'])} | {code(c['version'])} | {code(c['path'])} | {code(c['digest'])} |"
              for c in report["charts"]]
    lines += ["", "### Policies", "", "| id | title | severity | module | module sha256 |", "|---|---|---|---|---|"]
    lines += [f"| {code(p['id'])} | {text(p['title'])} | {text(p['severity'])} | {code(p.get('module', ''))} | "
              f"{code(p.get('module_sha256') or '-')} |" for p in report["policies"]]
    digests = values_digests(report)
    if digests:
        lines += ["", "### Values and overlay files", "", "| file | sha256 |", "|---|---|"]
        lines += [f"| {code(path)} | {code(digest or 'unreadable')} |" for path, digest in digests.items()]
    broken = report.get("broken_charts") or []
    if broken:
        lines += ["", "### Charts that could not be loaded", ""]
        lines += [f"- {code(b['name'])} ({code(b['path'])}): {text(b['error'])}" for b in broken]
    return lines + [""]


def render_markdown(report: dict) -> str:
    policies = policy_index(report)
    noteworthy = noteworthy_results(report)
    lines = _header(report) + _matrix(report)
    counts = {o: sum(r["outcome"] == o for r in noteworthy) for o in NOTEWORTHY}
    lines += [f"## Findings ({', '.join(f'{n} {o}' for o, n in counts.items())})", ""]
    if not noteworthy:
        lines += ["Every evaluated policy passed (or did not apply).", ""]
    for result in noteworthy:
        lines += _result(result, policies.get(result["policy"], {}))
    lines += _waivers(report) + _provenance(report)
    return "\n".join(lines).rstrip("\n") + "\n"
