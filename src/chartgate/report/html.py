"""chartgate.html: one self-contained page (inline CSS, no scripts, no external assets) that an
auditor can file and a release manager can read at a glance, also for a run over 50 charts and 40
policies.

Top to bottom: the verdict and what this page leaves out; the summary by chart (charts as rows,
policy families as columns; each cell shows the family's worst outcome and expands to its policies,
which link to their first defect); the summary by policy family; the top findings as full cards
(resource, template, JSONPath, the rendered YAML excerpt, every scenario it was seen in, the first
scenario's inputs and the `helm template` command that reproduces it); every other finding per
chart, collapsed (`<details>`); waiver housekeeping; the provenance. A finding is a defect (see
`defects.py`): one card however many scenarios show it. Excerpts, messages and scenario lists are
capped and the findings sections have a byte budget (`matrix._BUDGET_BYTES`), so the page stays under
5 MB; what was cut is stated on the page and in chartgate.json, which has everything. Every value
from the report goes through `html.escape`.
"""

from __future__ import annotations

from html import escape

from chartgate.check.verdict import render_check_named
from chartgate.report.baselined import baseline_notes, ownership_mark, split_baselined
from chartgate.report.defects import DEFECT_OUTCOMES, defect_shown_outcome, changed_values_text, policies_of, set_text
from chartgate.report.matrix import (COMMAND_CHARS, EXCERPT_CHARS, EXCERPT_LINES, MESSAGE_CHARS, NOTEWORTHY,
                                     OUTCOME_ORDER, SCENARIOS_SHOWN, TOP_FINDINGS, Budget, build_matrix, cut, cut_lines,
                                     defects_by_chart, defects_per_cell, families, family_cell, family_summary,
                                     first_defects, policy_index, partial_coverage_text, repeat_groups, shown_totals,
                                     top_groups, values_digests)

_SYMBOL = {"passed": "✓", "failed": "✗", "warning": "▲", "waived": "⚑", "baselined": "⚲", "error": "!", "skipped": "–"}

_CSS = """
:root { --fg:#1f2328; --muted:#57606a; --line:#d0d7de; --bg:#ffffff; --panel:#f6f8fa;
  --passed-bg:#dafbe1; --passed-fg:#0f5323; --passed-edge:#2da44e;
  --failed-bg:#ffebe9; --failed-fg:#82071e; --failed-edge:#cf222e;
  --waived-bg:#fff8c5; --waived-fg:#6c4400; --waived-edge:#bf8700;
  --warning-bg:#fff1e5; --warning-fg:#762c00; --warning-edge:#fb8f44;
  --error-bg:#fbefff; --error-fg:#512a97; --error-edge:#8250df;
  --skipped-bg:#f6f8fa; --skipped-fg:#57606a; --skipped-edge:#d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1440px; margin: 0 auto; padding: 0 24px 48px; }
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
.o-baselined { background: #eef1f4; color: #424a53; border-color: #8c959f; }
.upstream { background: #ddf4ff; color: #0a3069; border-color: #54aeff; }
.o-warning { background: var(--warning-bg); color: var(--warning-fg); border-color: var(--warning-edge); }
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
article.result.o-warning { border-left-color: var(--warning-edge); }
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
_CSS += """
.banner.gate-incomplete { background: var(--error-bg); border-color: var(--error-edge); color: var(--error-fg); }
.banner.gate-partial { background: var(--waived-bg); border-color: var(--waived-edge); color: var(--waived-fg); }
.cuts { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 8px 28px; }
table.matrix { font-size: 13px; }
table.matrix th, table.matrix td { padding: 4px 6px; }
table.matrix td, table.matrix td.cell { min-width: 0; border-left-width: 4px; }
table.matrix .label { white-space: nowrap; }
table.matrix .counts { font-size: 11px; line-height: 1.3; }
table.matrix thead th { text-align: center; }
table.matrix details summary { cursor: pointer; list-style: none; }
table.matrix details summary::-webkit-details-marker { display: none; }
table.matrix details summary::after { content: " ▾"; }
table.matrix details[open] summary::after { content: " ▴"; }
table.matrix td.cell .label { display: inline; font-size: 14px; }
table.matrix td.cell .counts { display: inline; }
table.matrix ul.policies { list-style: none; margin: 6px 0 0; padding: 0; font-size: 12px; }
table.matrix ul.policies li { padding: 1px 4px; margin: 1px 0; border-radius: 3px; white-space: nowrap; }
table.matrix th.chart { white-space: nowrap; position: sticky; left: 0; background: var(--bg); z-index: 1; }
table.matrix td.defects { text-align: right; font-weight: 700; }
details.chart { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 4px 12px; }
details.chart > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
details.defect { border-top: 1px dashed var(--line); padding: 4px 0; }
details.defect > summary { cursor: pointer; }
details.defect > summary .msg { color: var(--muted); }
.scenarios code { display: inline-block; margin: 0 4px 4px 0; padding: 0 4px; border-radius: 3px; border: 1px solid var(--line); }
.row-only { padding: 4px 0; border-top: 1px dashed var(--line); }
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _codes(values) -> str:
    return ", ".join(f"<code>{_e(v)}</code>" for v in values)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _chart_anchor(chart: str) -> str:
    import re
    return "c-" + re.sub(r"[^A-Za-z0-9_-]+", "-", chart).strip("-").lower()


def _banner(report: dict) -> str:
    summary = report["summary"]
    verdict = summary["gate"]
    helm = report["helm"]
    shard = report.get("shard")
    scope = ""
    if shard:
        scope = f" · shard {_e(shard['index'])} of {_e(shard['total'])} (merge the shards for the whole verdict)"
    elif report.get("merged_from"):
        scope = f" · merged from {len(report['merged_from'])} shards"
    why = f'<p>Incomplete: {_e(summary.get("incomplete"))}</p>' if summary.get("incomplete") else ""
    partial = summary.get("partial")
    if partial:
        checks = partial["checks"]
        left = ", ".join(partial["charts"]["left_out"][:50]) or "none"
        why += (f'<p>Partial: {_e(partial["reason"])}. Selected {_e(checks["selected"])} of {_e(checks["collected"])} '
                f'collected checks; policy modules not run: {_e(", ".join(partial["policy_modules"]["not_run"]) or "none")}'
                f'; charts left out: {_e(left)}. Not the whole gate: the verdict is not green.</p>')
    excluded = report.get("excluded_charts") or []
    if excluded:
        why += (f'<p>Excluded by configuration (<code>exclude-charts</code>), not judged: '
                + ", ".join(f"<code>{_e(x['name'])}</code> ({_e(x['pattern'])})" for x in excluded) + "</p>")
    if summary.get("partial_coverage"):
        why += f'<p>Partial coverage: {_e(partial_coverage_text(summary["partial_coverage"]))}</p>'
    unreported = summary.get("unreported_render_failures") or []
    if unreported:
        listed = ", ".join(f"{chart} [{scenario}]" for chart, scenario in unreported[:20])
        more = f" and {len(unreported) - 20} more" if len(unreported) > 20 else ""
        render = render_check_named(report.get("policies") or [])
        why += (f'<p>{len(unreported)} scenario(s) did not render and {_e(render)} did not run to report them: '
                f'{_e(listed)}{more}</p>')
    return (f'<header class="banner gate-{_e(verdict)}"><h1>chartgate report</h1>'
            f'<p class="verdict">Gate {_e(verdict.upper())}</p>{why}'
            f'<p>generated {_e(report["generated_at"])} · chartgate {_e(report["tool"]["version"])} · '
            f'Helm {_e(helm.get("version") or "unavailable")} · Kubernetes {_e(", ".join(report.get("kubernetes_versions", [])))}'
            f' · fails on {_e(summary.get("fail_on", "error"))} severity{scope}</p></header>')


def _chips(report: dict) -> str:
    totals = shown_totals(report)
    chips = "".join(f'<li class="chip o-{o}">{_SYMBOL[o]} {totals.get(o, 0)} {o}</li>' for o in OUTCOME_ORDER)
    counts = report["summary"].get("defects") or {}
    defects = ", ".join(f"{counts.get(o, 0):,} {o}" for o in DEFECT_OUTCOMES)
    split = (f'{counts.get("blocking", 0):,} blocking, {counts.get("warning", 0):,} warning '
             f'(reported, not blocking below --fail-on {report["summary"].get("fail_on", "error")})')
    return (f'<ul class="chips" aria-label="result totals">{chips}</ul>'
            f'<p class="defect-split"><strong>{_e(split)}</strong></p>'
            f'<p>{_plural(counts.get("total", 0), "defect")} ({_e(defects)}), seen '
            f'{_plural(counts.get("occurrences", 0), "time")} across scenarios; results count one per policy, '
            'chart and scenario.</p>'
            + "".join(f'<p class="baseline-note">{_e(note)}</p>' for note in baseline_notes(report)))


def _matrix(report: dict, linked: set[str]) -> str:
    matrix = build_matrix(report)
    if not matrix.policies:
        return "<section id=\"matrix\"><h2>Summary by chart</h2><p>No policy was evaluated.</p></section>"
    grouped = families(matrix)
    first = first_defects(report)
    per_cell = defects_per_cell(report)
    head = "".join(f'<th scope="col" title="{_e(", ".join(p["id"] + " " + p["title"] for p in policies))}">'
                   f'<code>{_e(family)}</code></th>' for family, policies in grouped.items())
    rows = []
    for chart in matrix.charts:
        cells = []
        n_defects = sum(n for (c, _), n in per_cell.items() if c == chart)
        for family, policies in grouped.items():
            fcell = family_cell(matrix, chart, policies)
            if fcell is None:
                cells.append('<td class="none" title="not evaluated">—</td>')
                continue
            items = []
            for policy_id, cell in fcell.policies:
                label = f"{_SYMBOL[cell.outcome]} {_e(policy_id)}"
                defect = first.get((chart, policy_id))
                if defect is not None:
                    target = defect["id"] if defect["id"] in linked else _chart_anchor(chart)
                    n = per_cell.get((chart, policy_id), 0)
                    if target in linked:
                        label = f'<a href="#{_e(target)}">{label}</a>'
                    label += f' <span class="counts">{_plural(n, "defect")}</span>'
                items.append(f'<li class="o-{cell.outcome}" data-policy="{_e(policy_id)}" data-outcome="{cell.outcome}" '
                             f'title="{_e(policy_id)} on {_e(chart)}: {_e(cell.summary())}">{label}</li>')
            outcome = fcell.outcome
            cells.append(f'<td class="cell o-{outcome}" data-outcome="{outcome}" data-family="{_e(family)}" '
                         f'title="{_e(family)} on {_e(chart)}: {_e(fcell.summary())}"><details><summary>'
                         f'<span class="label" aria-label="{outcome}">{_SYMBOL[outcome]}</span> '
                         f'<span class="counts">{_e(fcell.summary())}</span></summary>'
                         f'<ul class="policies">{"".join(items)}</ul></details></td>')
        target = _chart_anchor(chart) if _chart_anchor(chart) in linked else next(
            (d["id"] for (c, _), d in first.items() if c == chart and d["id"] in linked), None)
        name = f'<a href="#{_e(target)}">{_e(chart)}</a>' if target else _e(chart)
        rows.append(f'<tr><th scope="row" class="chart">{name}</th><td class="defects">{n_defects:,}</td>'
                    f'{"".join(cells)}</tr>')
    legend = "".join(f'<span class="o-{o}">{_SYMBOL[o]} {o}</span>' for o in OUTCOME_ORDER)
    return ('<section id="matrix"><h2>Summary by chart</h2>'
            '<p class="muted">Charts as rows, policy families as columns. A cell is coloured by the family\'s worst '
            'outcome on that chart over all its policies and scenarios (error, failed, warning - a failure below '
            '--fail-on, not blocking -, waived, passed, skipped) '
            'and counts its policies by outcome; open it for the policies, each linking to its first finding.</p>'
            f'<div class="scroll"><table class="matrix"><thead><tr><th scope="col">chart</th>'
            f'<th scope="col">defects</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'<p class="legend">{legend}</p></section>')


def _families(report: dict) -> str:
    policies = policy_index(report)
    rows = []
    for row in family_summary(report):
        titles = "; ".join(f"{pid} {policies[pid]['title']}" for pid in row["policies"] if pid in policies)
        results = ", ".join(f"{n:,} {o}" for o, n in row["results"].items() if n)
        defects = ", ".join(f"{n:,} {o}" for o, n in row["defects"].items() if n) or "none"
        charts = ", ".join(row["charts"][:10]) + (f" and {len(row['charts']) - 10} more" if len(row["charts"]) > 10 else "")
        rows.append(f'<tr><th scope="row"><code>{_e(row["family"])}</code></th>'
                    f'<td title="{_e(titles)}">{_codes(row["policies"])}</td><td>{_e(defects)}</td>'
                    f'<td>{_e(charts) or "—"}</td><td class="muted">{_e(results)}</td></tr>')
    return ('<section id="families"><h2>Summary by policy family</h2><div class="scroll"><table>'
            '<thead><tr><th>family</th><th>policies</th><th>defects</th><th>charts with a defect</th>'
            f'<th>results</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def _scenario_inputs(inputs: dict | None, scenario: str) -> str:
    if not inputs:
        return ""
    files = inputs.get("values_files") or []
    sets = inputs.get("set") or {}
    apis = inputs.get("api_versions") or []
    rows = [("values files", _codes(files) if files else "none (chart defaults)"),
            ("--set values", _codes(cut(set_text(k, v), 300) for k, v in sets.items()) if sets else "none"),
            ("values that differ from the chart's defaults",
             _codes(cut(v, 300) for v in changed_values_text(inputs)) or "none"),
            ("advertised API versions", _codes(apis) if apis else "none (bare cluster)")]
    if inputs.get("kube_version"):
        rows.append(("Kubernetes version", f"<code>{_e(inputs['kube_version'])}</code>"))
    body = "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<h4>Scenario <code>{_e(scenario)}</code></h4><dl class="facts">{body}</dl>'


def _body(defect: dict, policy: dict) -> str:
    """Everything needed to fix or reproduce one defect."""
    parts = []
    waiver = next((o["waiver"] for o in defect["occurrences"] if o.get("waiver")), None)
    if waiver:
        parts.append(f'<div class="waiver"><strong>Waived:</strong> {_e(waiver.get("reason"))}<br>'
                     f'owner {_e(waiver.get("owner"))} · expires {_e(waiver.get("expires"))} · '
                     f'<code>{_e(waiver.get("source"))}</code></div>')
    message = cut(defect["message"], MESSAGE_CHARS)
    if defect["outcome"] == "error":
        parts.append(f'<pre class="message">{_e(message)}</pre>')
    else:
        parts.append(f'<p class="message">{_e(message)}</p>')
    facts = [("resource", defect.get("resource")), ("template", defect.get("template")),
             ("JSONPath", defect.get("path")), ("file", defect.get("file") if defect.get("template") else None),
             ("line", defect.get("line"))]
    rows = "".join(f"<dt>{name}</dt><dd><code>{_e(value)}</code></dd>" for name, value in facts if value not in (None, ""))
    if rows:
        parts.append(f'<dl class="facts">{rows}</dl>')
    if defect.get("excerpt"):
        parts.append(f'<pre class="excerpt" aria-label="rendered YAML excerpt"><code>'
                     f'{_e(cut_lines(defect["excerpt"], EXCERPT_LINES, EXCERPT_CHARS))}</code></pre>')
    occurrences = defect["occurrences"]
    chips = "".join(f'<code class="o-{_e(o["outcome"])}" title="{_e(o["outcome"])}">{_e(o["scenario"] or "chart-level")}</code>'
                    for o in occurrences[:SCENARIOS_SHOWN])
    more = (f' <span class="muted">and {len(occurrences) - SCENARIOS_SHOWN:,} more (every one, with its command, '
            'is in chartgate.json)</span>') if len(occurrences) > SCENARIOS_SHOWN else ""
    parts.append(f'<h4>Seen in {_plural(len(occurrences), "scenario")}</h4><p class="scenarios">{chips}{more}</p>')
    notes = [(o["scenario"] or "chart-level", o.get("note") or o.get("message")) for o in occurrences
             if o.get("note") or o.get("message")]
    if notes:
        items = "".join(f"<li><code>{_e(name)}</code>: {_e(cut(text, 500))}</li>" for name, text in notes[:5])
        extra = f"<li class=\"muted\">and {len(notes) - 5} more</li>" if len(notes) > 5 else ""
        parts.append(f"<ul>{items}{extra}</ul>")
    first = occurrences[0]
    parts.append(_scenario_inputs(first.get("inputs"), first["scenario"] or "chart-level"))
    if first.get("command"):
        parts.append(f'<h4>Reproduce</h4><pre class="command"><code>{_e(cut(first["command"], COMMAND_CHARS))}</code></pre>')
    if policy:
        fix = f'<br>Fix: {_e(policy["remediation"])}' if policy.get("remediation") else ""
        see = f'<br>See: {_e(policy["see"])}' if policy.get("see") else ""  # only a reference that resolves
        parts.append(f'<p class="muted">Why: {_e(policy.get("rationale"))}{fix}{see}</p>')
    return "".join(parts)


def _headline(group: list[dict]) -> str:
    defect = group[0]
    where = " · ".join(_e(v) for v in (defect.get("resource"), defect.get("path")) if v)
    named = _named(group)
    ids = (f'<code>{_e(defect["policy"])}</code>' if len(named) == 1
           else f'<code>{_e(defect["policy"])}</code> +{len(named) - 1} policies')
    shown = defect_shown_outcome(defect)
    return (f'<span class="badge o-{_e(shown)}">{_SYMBOL[shown]} {_e(shown)}</span> {_upstream(defect)}'
            f'{ids} {where} <span class="msg">{_e(cut(defect["message"].split(chr(10))[0], 160))}</span> '
            f'<span class="muted">({_plural(len(defect["occurrences"]), "scenario")})</span>')


def _upstream(defect: dict) -> str:
    mark = ownership_mark(defect)
    return f'<span class="badge upstream">{_e(mark)}</span> ' if mark else ""


def _named(group: list[dict]) -> list[str]:
    """Every policy reporting the group's defects (one defect may name several, see `defects.py`)."""
    return list(dict.fromkeys(p for d in group for p in policies_of(d)))


def _also(group: list[dict]) -> str:
    """The other policies that report the same finding (see `repeat_groups`), with their anchors."""
    named = _named(group)
    if len(named) == 1:
        return ""
    anchors = "".join(f'<span id="{_e(d["id"])}"></span>' for d in group[1:])
    return (f'{anchors}<p class="muted">The same finding is reported by {len(named)} policies: '
            f'{_codes(named)}.</p>')


def _card(group: list[dict], policies: dict) -> str:
    defect = group[0]
    outcome = defect_shown_outcome(defect)
    named = _named(group)
    title = (f'<code>{_e(defect["policy"])}</code> {_e(defect["title"])}' if len(named) == 1
             else f'<code>{_e(defect["policy"])}</code> and {len(named) - 1} more policies')
    return (f'<article class="result o-{_e(outcome)}" id="{_e(defect["id"])}"><header>'
            f'<h3>{title}</h3>'
            f'<span class="badge o-{_e(outcome)}">{_SYMBOL[outcome]} {_e(outcome)}</span>'
            f'<span class="badge sev-{_e(defect["severity"])}">severity {_e(defect["severity"])}</span>{_upstream(defect)}'
            f'<span class="where">chart <strong>{_e(defect["chart"])}</strong> · '
            f'{_plural(len(defect["occurrences"]), "scenario")}</span></header>{_also(group)}'
            f'{_body(defect, policies.get(defect["policy"], {}) if len(group) == 1 else {})}</article>')


def _findings(report: dict, budget: Budget, cuts: list[str], linked: set[str]) -> str:
    policies = policy_index(report)
    defects, held = split_baselined(report.get("defects", []))
    if held:  # apart, after everything else: accepted as they stood when the baseline was written
        linked.update(d["id"] for d in held)
        rows = "".join(f'<div class="row-only" id="{_e(d["id"])}">{_headline([d])}</div>' for d in held)
        tail = (f'<section id="baselined"><h2>Baselined findings <span class="muted">({len(held):,})</span></h2>'
                '<p class="muted">Held by the repository\'s baseline: reported, not blocking.</p>'
                f'<details><summary>Baselined</summary>{rows}</details></section>')
        head = _findings({**report, "defects": defects}, budget, cuts, linked) if defects else \
            '<section id="findings"><h2>Findings</h2><p>No finding outside the baseline.</p></section>'
        return head + tail
    counts = ", ".join(f"{sum(defect_shown_outcome(d) == o for d in defects):,} {o}" for o in NOTEWORTHY)
    if not defects:
        return ('<section id="findings"><h2>Findings</h2><p>Every evaluated policy passed (or did not apply).</p>'
                '</section>')
    top, top_ids = top_groups(repeat_groups(defects)), set()
    cards = []
    for group in top:
        cards.append(budget.add(_card(group, policies)))
        linked.update(d["id"] for d in group)
        top_ids.update(d["id"] for d in group)
    shown = sum(len(g) for g in top)
    parts = [f'<section id="findings"><h2>Top findings <span class="muted">({shown} of {len(defects):,} '
             f'defects: {_e(counts)})</span></h2><p class="muted">Blocking first, then the most widespread. '
             'Each is one defect however many scenarios show it; one that several policies report is shown '
             'once.</p>', "".join(cards), "</section>"]
    rest = [d for d in defects if d["id"] not in top_ids]
    if not rest:
        return "".join(parts)
    parts.append(f'<section id="all-findings"><h2>All other findings <span class="muted">({len(rest):,})</span></h2>'
                 '<p class="muted">Per chart, collapsed: open a chart, then a finding.</p>')
    rows_only = omitted = 0
    for chart, chart_defects in defects_by_chart({"defects": rest}).items():
        if not budget.rows:
            omitted += len(chart_defects)
            continue
        by_outcome = ", ".join(f"{n} {o}" for o in NOTEWORTHY
                               if (n := sum(defect_shown_outcome(d) == o for d in chart_defects)))
        items = []
        for group in repeat_groups(chart_defects):
            defect = group[0]
            if not budget.rows:
                omitted += len(group)
                continue
            linked.update(d["id"] for d in group)
            if budget.full:
                policy = policies.get(defect["policy"], {}) if len(group) == 1 else {}
                items.append(budget.add(f'<details class="defect" id="{_e(defect["id"])}"><summary>{_headline(group)}'
                                        f'</summary>{_also(group)}{_body(defect, policy)}</details>'))
            else:
                rows_only += len(group)
                anchors = "".join(f'<span id="{_e(d["id"])}"></span>' for d in group[1:])
                items.append(budget.add(f'<div class="row-only" id="{_e(defect["id"])}">{anchors}{_headline(group)}</div>'))
        linked.add(_chart_anchor(chart))
        in_top = sum(d["chart"] == chart for d in defects if d["id"] in top_ids)
        also = f"; {in_top} more in the top findings above" if in_top else ""
        parts.append(f'<details class="chart" id="{_chart_anchor(chart)}"><summary>{_e(chart)}: '
                     f'{_plural(len(chart_defects), "defect")} ({_e(by_outcome)}{also})</summary>{"".join(items)}</details>')
    parts.append("</section>")
    if rows_only:
        cuts.append(f"{rows_only:,} findings are shown as one-line rows without details, to keep this page small.")
    if omitted:
        cuts.append(f"{omitted:,} findings are not shown at all (page size budget reached).")
    return "".join(parts)


def _waivers(report: dict) -> str:
    waivers = report.get("waivers") or {}
    items = []
    for kind, advice in (("expired", "renew it or fix the finding"), ("unused", "remove it")):
        for w in waivers.get(kind) or []:
            items.append(f"<li><strong>{kind}</strong>: <code>{_e(w.get('policy'))}</code> on <code>{_e(w.get('chart'))}"
                         f"</code>, owner {_e(w.get('owner'))}, expires {_e(w.get('expires'))} "
                         f"(<code>{_e(w.get('source'))}</code>): {advice}</li>")
    entries = waivers.get("entries") or []
    if not items and not entries:
        return ""
    rows = "".join(f"<tr><td><code>{_e(w.get('policy'))}</code></td><td>{_e(w.get('chart'))}</td>"
                   f"<td><code>{_e(w.get('resource'))}</code></td><td><code>{_e(w.get('scenario'))}</code></td>"
                   f"<td>{_e(w.get('reason'))}</td><td>{_e(w.get('owner'))}</td><td>{_e(w.get('expires'))}</td></tr>"
                   for w in entries)
    table = ("<table><thead><tr><th>policy</th><th>chart</th><th>resource</th><th>scenario</th><th>reason</th>"
             f"<th>owner</th><th>expires</th></tr></thead><tbody>{rows}</tbody></table>") if entries else ""
    return (f'<section id="waivers"><h2>Waivers</h2><p class="muted">file: <code>{_e(waivers.get("file"))}</code></p>'
            f'<ul>{"".join(items)}</ul>{table}</section>')


def _collapsible(title: str, body: str, count: int, open_below: int = 25) -> str:
    if count < open_below:
        return f"<h3>{title}</h3>{body}"
    return f"<details><summary><strong>{title}</strong> ({count:,})</summary>{body}</details>"


def _provenance(report: dict) -> str:
    helm = report["helm"]
    shard = report.get("shard")
    facts = [("chartgate", report["tool"]["version"]), ("Helm version", helm.get("version") or helm.get("error")),
             ("Helm binary", helm.get("path")), ("Helm sha256", helm.get("sha256")),
             ("Kubernetes versions", ", ".join(report.get("kubernetes_versions", []))),
             ("charts repository commit", report.get("git_commit") or "not a git checkout"),
             ("shard", f"{shard['index']} of {shard['total']}" if shard else None),
             ("merged from", ", ".join(f"{m['index']}/{m['total']} ({m['dir']})" for m in report.get("merged_from") or [])),
             ("chart roots", ", ".join(report.get("chart_roots", []))), ("working directory", report.get("working_dir")),
             ("Python", report.get("python")), ("run started", report.get("started_at")),
             ("report generated", report["generated_at"])]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v)
    charts = "".join(f"<tr><td>{_e(c['name'])}</td><td>{_e(c['version'])}</td><td><code>{_e(c['path'])}</code></td>"
                     f"<td class=\"digest\">{_e(c['digest'])}</td></tr>" for c in report["charts"])
    policies = "".join(f"<tr><td><code>{_e(p['id'])}</code></td><td>{_e(p['title'])}</td><td>{_e(p['severity'])}</td>"
                       f"<td><code>{_e(p.get('module'))}</code></td><td class=\"digest\">{_e(p.get('module_sha256'))}</td></tr>"
                       for p in report["policies"])
    digests = values_digests(report)
    files = "".join(f"<tr><td><code>{_e(path)}</code></td><td class=\"digest\">{_e(digest or 'unreadable')}</td></tr>"
                    for path, digest in digests.items())
    broken = "".join(f"<li><code>{_e(b['name'])}</code> (<code>{_e(b['path'])}</code>): {_e(cut(b['error'], MESSAGE_CHARS))}</li>"
                     for b in report.get("broken_charts") or [])
    charts_table = ('<div class="scroll"><table><thead><tr><th>chart</th><th>version</th><th>path</th>'
                    f'<th>sha256 (tree incl. vendored dependencies)</th></tr></thead><tbody>{charts}</tbody></table></div>')
    policies_table = ('<div class="scroll"><table><thead><tr><th>id</th><th>title</th><th>severity</th>'
                      f'<th>module</th><th>module sha256</th></tr></thead><tbody>{policies}</tbody></table></div>')
    files_table = ('<div class="scroll"><table><thead><tr><th>file</th><th>sha256</th>'
                   f'</tr></thead><tbody>{files}</tbody></table></div>')
    return ('<section id="provenance"><h2>Provenance</h2>'
            f'<dl class="facts">{dl}</dl>'
            + _collapsible("Charts", charts_table, len(report["charts"]))
            + (f"<h3>Charts that could not be loaded</h3><ul>{broken}</ul>" if broken else "")
            + _collapsible("Policies", policies_table, len(report["policies"]))
            + _collapsible("Values and overlay files", files_table, len(digests))
            + "</section>")


def _cuts(report: dict, cuts: list[str]) -> str:
    if not cuts:
        return ""
    items = "".join(f"<li>{_e(c)}</li>" for c in cuts)
    return (f'<section id="cuts"><ul class="cuts" aria-label="what this page leaves out">{items}'
            '<li>chartgate.json has every result, defect and scenario.</li></ul></section>')


def render_html_output(report: dict) -> tuple[str, list[str]]:
    """The page, and what it left out (for the terminal)."""
    every = {d["id"] for d in report.get("defects", [])} | {_chart_anchor(d["chart"]) for d in report.get("defects", [])}
    rest = sum(len(part.encode()) for part in (_CSS, _banner(report), _chips(report), _matrix(report, every),
                                                _families(report), _waivers(report), _provenance(report)))
    budget = Budget(rest=rest + 10_000)
    cuts: list[str] = []
    linked: set[str] = set()
    if len(report.get("defects", [])) > TOP_FINDINGS:
        cuts.append(f"Findings: the top {TOP_FINDINGS} as cards, every other one collapsed per chart below them.")
    findings = _findings(report, budget, cuts, linked)
    verdict = report["summary"]["gate"]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>chartgate report: gate {_e(verdict)}</title><style>{_CSS}</style></head><body>"
            f"{_banner(report)}<main>{_chips(report)}{_cuts(report, cuts)}{_matrix(report, linked)}"
            f"{_families(report)}{findings}{_waivers(report)}{_provenance(report)}</main></body></html>\n")
    notes = [f"chartgate.html: {c}" for c in cuts if not c.startswith("Findings: the top")]
    return page, notes


def _render_html(report: dict) -> str:
    return render_html_output(report)[0]
