"""chartgate.html: one self-contained page (inline CSS, no scripts, no external assets) that an
auditor can file and a release manager can read at a glance.

Top to bottom: the verdict, a chart x policy matrix colour-coded by outcome (each cell aggregates
the policy's scenarios on that chart, worst outcome wins, and links to its first finding), every
failed/errored/waived result with resource, template, JSONPath, the rendered YAML excerpt, the
scenario's inputs and the `helm template` command that reproduces it, waiver housekeeping, and the
provenance. Every value from the report goes through `html.escape`.
"""

from __future__ import annotations

from html import escape

from .matrix import (NOTEWORTHY, OUTCOME_ORDER, anchor, build_matrix, noteworthy_results, policy_index,
                     scenario_label, values_digests)

SYMBOL = {"passed": "✓", "failed": "✗", "waived": "⚑", "error": "!", "skipped": "–"}

_CSS = """
:root { --fg:#1f2328; --muted:#57606a; --line:#d0d7de; --bg:#ffffff; --panel:#f6f8fa;
  --passed-bg:#dafbe1; --passed-fg:#0f5323; --passed-edge:#2da44e;
  --failed-bg:#ffebe9; --failed-fg:#82071e; --failed-edge:#cf222e;
  --waived-bg:#fff8c5; --waived-fg:#6c4400; --waived-edge:#bf8700;
  --error-bg:#fbefff; --error-fg:#512a97; --error-edge:#8250df;
  --skipped-bg:#f6f8fa; --skipped-fg:#57606a; --skipped-edge:#d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1200px; margin: 0 auto; padding: 0 24px 48px; }
code, pre { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; white-space: pre; margin: 6px 0 12px; }
pre.message, pre.command { white-space: pre-wrap; overflow-wrap: anywhere; }
h1 { font-size: 26px; margin: 0; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; } h3 { font-size: 16px; margin: 20px 0 6px; }
.banner { padding: 20px 24px; border-bottom: 4px solid; margin-bottom: 16px; }
.banner p { margin: 4px 0 0; color: var(--muted); }
.banner .verdict { font-size: 18px; font-weight: 700; color: inherit; }
.banner.gate-passed { background: var(--passed-bg); border-color: var(--passed-edge); color: var(--passed-fg); }
.banner.gate-failed { background: var(--failed-bg); border-color: var(--failed-edge); color: var(--failed-fg); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; padding: 0; list-style: none; }
.chip { border: 1px solid; border-radius: 999px; padding: 2px 12px; font-weight: 600; }
.o-passed { background: var(--passed-bg); color: var(--passed-fg); border-color: var(--passed-edge); }
.o-failed { background: var(--failed-bg); color: var(--failed-fg); border-color: var(--failed-edge); }
.o-waived { background: var(--waived-bg); color: var(--waived-fg); border-color: var(--waived-edge); }
.o-error { background: var(--error-bg); color: var(--error-fg); border-color: var(--error-edge); }
.o-skipped { background: var(--skipped-bg); color: var(--skipped-fg); border-color: var(--skipped-edge); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
table.matrix td { min-width: 120px; border: 2px solid #fff; outline: 1px solid var(--line); }
table.matrix td.cell { border-left: 6px solid; }
table.matrix td a { color: inherit; text-decoration: none; display: block; }
table.matrix td a:hover .label { text-decoration: underline; }
table.matrix .label { font-weight: 700; display: block; }
table.matrix .counts { font-size: 12px; display: block; }
table.matrix td.none { color: var(--muted); text-align: center; }
.legend { color: var(--muted); font-size: 13px; }
.legend span { display: inline-block; padding: 0 8px; border: 1px solid; border-radius: 4px; margin-right: 6px; }
article.result { border: 1px solid var(--line); border-left: 6px solid; border-radius: 6px; margin: 16px 0;
  padding: 0 16px 8px; background: #fff; color: var(--fg); }
article.result.o-failed { border-left-color: var(--failed-edge); }
article.result.o-waived { border-left-color: var(--waived-edge); }
article.result.o-error { border-left-color: var(--error-edge); }
article.result > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 12px; padding-top: 10px; }
article.result h3 { margin: 0; }
.badge { border: 1px solid; border-radius: 4px; padding: 0 8px; font-size: 12px; font-weight: 700; }
.sev-error { background: var(--failed-edge); color: #fff; border-color: var(--failed-edge); }
.sev-warning { background: var(--waived-edge); color: #fff; border-color: var(--waived-edge); }
.where { color: var(--muted); }
.finding { border-top: 1px dashed var(--line); padding-top: 8px; margin-top: 8px; }
.finding p.message { margin: 6px 0; white-space: pre-wrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { font-weight: 600; color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.waiver { background: var(--waived-bg); border: 1px solid var(--waived-edge); color: var(--waived-fg);
  border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.muted { color: var(--muted); }
td.digest, dd.digest { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  overflow-wrap: anywhere; }
"""


def e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _codes(values) -> str:
    return ", ".join(f"<code>{e(v)}</code>" for v in values)


def _banner(report: dict) -> str:
    verdict = report["summary"]["gate"]
    helm = report["helm"]
    return (f'<header class="banner gate-{e(verdict)}"><h1>chartgate report</h1>'
            f'<p class="verdict">Gate {e(verdict.upper())}</p>'
            f'<p>generated {e(report["generated_at"])} · chartgate {e(report["tool"]["version"])} · '
            f'Helm {e(helm.get("version") or "unavailable")} · Kubernetes {e(", ".join(report.get("kubernetes_versions", [])))}'
            f' · fails on {e(report["summary"].get("fail_on", "error"))} severity</p></header>')


def _chips(report: dict) -> str:
    totals = report["summary"]["totals"]
    chips = "".join(f'<li class="chip o-{o}">{SYMBOL[o]} {totals.get(o, 0)} {o}</li>' for o in OUTCOME_ORDER)
    return f'<ul class="chips" aria-label="result totals">{chips}</ul>'


def _matrix(report: dict) -> str:
    matrix = build_matrix(report)
    if not matrix.policies:
        return "<section id=\"matrix\"><h2>Chart × policy matrix</h2><p>No policy was evaluated.</p></section>"
    head = "".join(f'<th scope="col" title="{e(p["title"])}"><code>{e(p["id"])}</code></th>' for p in matrix.policies)
    rows = []
    for chart in matrix.charts:
        cells = []
        for policy in matrix.policies:
            cell = matrix.cell(chart, policy["id"])
            if cell is None:
                cells.append('<td class="none" title="not evaluated">—</td>')
                continue
            inner = (f'<span class="label">{SYMBOL[cell.outcome]} {e(cell.outcome)}</span>'
                     f'<span class="counts">{e(cell.summary())}</span>')
            if cell.first_noteworthy:
                inner = f'<a href="#{e(anchor(cell.first_noteworthy))}">{inner}</a>'
            tooltip = f"{policy['id']} on {chart}: {cell.summary()}"
            cells.append(f'<td class="cell o-{e(cell.outcome)}" data-outcome="{e(cell.outcome)}" '
                         f'title="{e(tooltip)}">{inner}</td>')
        rows.append(f'<tr><th scope="row">{e(chart)}</th>{"".join(cells)}</tr>')
    legend = "".join(f'<span class="o-{o}">{SYMBOL[o]} {o}</span>' for o in OUTCOME_ORDER)
    keys = "".join(f"<dt><code>{e(p['id'])}</code></dt><dd>{e(p['title'])} "
                   f"<span class=\"muted\">({e(p['severity'])})</span></dd>" for p in matrix.policies)
    return ('<section id="matrix"><h2>Chart × policy matrix</h2>'
            '<p class="muted">One cell per chart and policy, aggregating the policy\'s scenarios: the worst '
            'outcome wins (error, failed, waived, passed, skipped). A cell with findings links to them.</p>'
            f'<div class="scroll"><table class="matrix"><thead><tr><th scope="col">chart</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div><p class="legend">{legend}</p>'
            f'<dl class="facts">{keys}</dl></section>')


def _scenario(result: dict) -> str:
    inputs = result.get("scenario_inputs")
    if not inputs:
        return ""
    files = inputs.get("values_files") or []
    sets = inputs.get("set") or {}
    apis = inputs.get("api_versions") or []
    rows = [("values files", _codes(files) if files else "none (chart defaults)"),
            ("--set values", _codes(f"{k}={v}" for k, v in sets.items()) if sets else "none"),
            ("advertised API versions", _codes(apis) if apis else "none (bare cluster)")]
    if inputs.get("kube_version"):
        rows.append(("Kubernetes version", f"<code>{e(inputs['kube_version'])}</code>"))
    body = "".join(f"<dt>{e(name)}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<h4>Scenario <code>{e(scenario_label(result))}</code></h4><dl class="facts">{body}</dl>'


def _finding(finding: dict) -> str:
    facts = [("resource", finding.get("resource")), ("template", finding.get("template")),
             ("JSONPath", finding.get("path")), ("line", finding.get("line"))]
    rows = "".join(f"<dt>{name}</dt><dd><code>{e(value)}</code></dd>" for name, value in facts
                   if value not in (None, ""))
    excerpt = (f'<pre class="excerpt" aria-label="rendered YAML excerpt"><code>{e(finding["excerpt"])}</code></pre>'
               if finding.get("excerpt") else "")
    return (f'<div class="finding"><p class="message">{e(finding["message"])}</p>'
            f'<dl class="facts">{rows}</dl>{excerpt}</div>')


def _result(result: dict, policy: dict) -> str:
    outcome = result["outcome"]
    parts = [f'<article class="result o-{e(outcome)}" id="{e(anchor(result))}"><header>'
             f'<h3><code>{e(result["policy"])}</code> {e(result["title"])}</h3>'
             f'<span class="badge o-{e(outcome)}">{SYMBOL[outcome]} {e(outcome)}</span>'
             f'<span class="badge sev-{e(result["severity"])}">severity {e(result["severity"])}</span>'
             f'<span class="where">chart <strong>{e(result["chart"])}</strong> · scenario '
             f'<code>{e(scenario_label(result))}</code></span></header>']
    waiver = result.get("waiver")
    if waiver:
        parts.append(f'<div class="waiver"><strong>Waived:</strong> {e(waiver.get("reason"))}<br>'
                     f'owner {e(waiver.get("owner"))} · expires {e(waiver.get("expires"))} · '
                     f'<code>{e(waiver.get("source"))}</code></div>')
    if result.get("message"):
        parts.append(f'<pre class="message">{e(result["message"])}</pre>')
    parts += [_finding(f) for f in result["findings"]]
    parts.append(_scenario(result))
    if result.get("command"):
        parts.append(f'<h4>Reproduce</h4><pre class="command"><code>{e(result["command"])}</code></pre>')
    if policy:
        parts.append(f'<p class="muted">Why: {e(policy.get("rationale"))}<br>See: {e(policy.get("reference"))}</p>')
    parts.append("</article>")
    return "".join(parts)


def _findings(report: dict) -> str:
    results = noteworthy_results(report)
    policies = policy_index(report)
    counts = ", ".join(f"{sum(r['outcome'] == o for r in results)} {o}" for o in NOTEWORTHY)
    body = "".join(_result(r, policies.get(r["policy"], {})) for r in results) or \
        "<p>Every evaluated policy passed (or did not apply).</p>"
    return f'<section id="findings"><h2>Findings <span class="muted">({e(counts)})</span></h2>{body}</section>'


def _waivers(report: dict) -> str:
    waivers = report.get("waivers") or {}
    items = []
    for kind, advice in (("expired", "renew it or fix the finding"), ("unused", "remove it")):
        for w in waivers.get(kind) or []:
            items.append(f"<li><strong>{kind}</strong>: <code>{e(w.get('policy'))}</code> on <code>{e(w.get('chart'))}"
                         f"</code>, owner {e(w.get('owner'))}, expires {e(w.get('expires'))} "
                         f"(<code>{e(w.get('source'))}</code>): {advice}</li>")
    entries = waivers.get("entries") or []
    if not items and not entries:
        return ""
    rows = "".join(f"<tr><td><code>{e(w.get('policy'))}</code></td><td>{e(w.get('chart'))}</td>"
                   f"<td><code>{e(w.get('resource'))}</code></td><td><code>{e(w.get('scenario'))}</code></td>"
                   f"<td>{e(w.get('reason'))}</td><td>{e(w.get('owner'))}</td><td>{e(w.get('expires'))}</td></tr>"
                   for w in entries)
    table = ("<table><thead><tr><th>policy</th><th>chart</th><th>resource</th><th>scenario</th><th>reason</th>"
             f"<th>owner</th><th>expires</th></tr></thead><tbody>{rows}</tbody></table>") if entries else ""
    return (f'<section id="waivers"><h2>Waivers</h2><p class="muted">file: <code>{e(waivers.get("file"))}</code></p>'
            f'<ul>{"".join(items)}</ul>{table}</section>')


def _provenance(report: dict) -> str:
    helm = report["helm"]
    facts = [("chartgate", report["tool"]["version"]), ("Helm version", helm.get("version") or helm.get("error")),
             ("Helm binary", helm.get("path")), ("Helm sha256", helm.get("sha256")),
             ("Kubernetes versions", ", ".join(report.get("kubernetes_versions", []))),
             ("charts repository commit", report.get("git_commit") or "not a git checkout"),
             ("chart roots", ", ".join(report.get("chart_roots", []))), ("working directory", report.get("working_dir")),
             ("Python", report.get("python")), ("run started", report.get("started_at")),
             ("report generated", report["generated_at"])]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts if v)
    charts = "".join(f"<tr><td>{e(c['name'])}</td><td>{e(c['version'])}</td><td><code>{e(c['path'])}</code></td>"
                     f"<td class=\"digest\">{e(c['digest'])}</td></tr>" for c in report["charts"])
    policies = "".join(f"<tr><td><code>{e(p['id'])}</code></td><td>{e(p['title'])}</td><td>{e(p['severity'])}</td>"
                       f"<td><code>{e(p.get('module'))}</code></td><td class=\"digest\">{e(p.get('module_sha256'))}</td></tr>"
                       for p in report["policies"])
    files = "".join(f"<tr><td><code>{e(path)}</code></td><td class=\"digest\">{e(digest or 'unreadable')}</td></tr>"
                    for path, digest in values_digests(report).items())
    broken = "".join(f"<li><code>{e(b['name'])}</code> (<code>{e(b['path'])}</code>): {e(b['error'])}</li>"
                     for b in report.get("broken_charts") or [])
    return ('<section id="provenance"><h2>Provenance</h2>'
            f'<dl class="facts">{dl}</dl>'
            '<h3>Charts</h3><div class="scroll"><table><thead><tr><th>chart</th><th>version</th><th>path</th>'
            f'<th>sha256 (tree incl. vendored dependencies)</th></tr></thead><tbody>{charts}</tbody></table></div>'
            + (f"<h3>Charts that could not be loaded</h3><ul>{broken}</ul>" if broken else "") +
            '<h3>Policies</h3><div class="scroll"><table><thead><tr><th>id</th><th>title</th><th>severity</th>'
            f'<th>module</th><th>module sha256</th></tr></thead><tbody>{policies}</tbody></table></div>'
            '<h3>Values and overlay files</h3><div class="scroll"><table><thead><tr><th>file</th><th>sha256</th>'
            f'</tr></thead><tbody>{files}</tbody></table></div></section>')


def render_html(report: dict) -> str:
    verdict = report["summary"]["gate"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>chartgate report: gate {e(verdict)}</title><style>{_CSS}</style></head><body>"
            f"{_banner(report)}<main>{_chips(report)}{_matrix(report)}{_findings(report)}{_waivers(report)}"
            f"{_provenance(report)}</main></body></html>\n")
