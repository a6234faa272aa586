"""chartgate.md: the report as Markdown, for a pull-request comment, a wiki page or an audit file.

Order: verdict and provenance (and what the file leaves out); the summary by chart (charts as rows,
policy families as columns, each cell naming the family's policies that did not pass); the summary
by policy family; the top findings in full (resource, template, JSONPath, excerpt, every scenario it
was seen in, the first scenario's inputs and the reproduce command); every other finding per chart,
collapsed in `<details>`; waiver housekeeping; the full provenance tables. A finding is a defect (see
`defects.py`), shown once however many scenarios show it. Lists and excerpts are capped and the
findings have a byte budget, as in the HTML report; chartgate.json has everything.
"""

from __future__ import annotations

import re

from chartgate.check.verdict import render_check_named
from chartgate.report.baselined import baseline_notes, ownership_mark, split_baselined
from chartgate.report.defects import DEFECT_OUTCOMES, defect_shown_outcome, changed_values_text, policies_of, set_text
from chartgate.report.matrix import (COMMAND_CHARS, EXCERPT_CHARS, EXCERPT_LINES, MESSAGE_CHARS, NOTEWORTHY,
                                     OUTCOME_ORDER, SCENARIOS_SHOWN, Budget, build_matrix, cut, cut_lines,
                                     defects_by_chart, defects_per_cell, families, family_cell, family_summary,
                                     first_defects, policy_index, partial_coverage_text, repeat_groups, shown_totals,
                                     top_groups, values_digests)

_SYMBOL = {"passed": "✅", "failed": "❌", "warning": "🔸", "waived": "⚠️", "baselined": "📌", "error": "💥",
          "skipped": "➖"}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def text(value) -> str:
    """Plain text safe in Markdown prose and table cells (a `<redacted ...>` marker stays visible)."""
    return _SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def _code(value) -> str:
    """An inline code span that survives backticks and pipes inside the value."""
    value = str(value).replace("\n", " ")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}".replace("|", "\\|")


def _fenced(body: str, lang: str = "") -> list[str]:
    fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`+", body)), default=0))
    return [f"{fence}{lang}", body.rstrip("\n"), fence]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _header(report: dict) -> list[str]:
    summary = report["summary"]
    verdict = summary["gate"]
    helm = report["helm"]
    totals = ", ".join(f"{n} {o}" for o, n in shown_totals(report).items())
    counts = summary.get("defects") or {}
    defects = ", ".join(f"{counts.get(o, 0):,} {o}" for o in DEFECT_OUTCOMES)
    rows = [
        ("Gate", f"**{verdict.upper()}** (fails on {text(summary.get('fail_on', 'error'))} severity)"),
        ("chartgate", _code(report["tool"]["version"])),
        ("Helm", f"{_code(helm.get('version') or 'unavailable')} at {_code(helm.get('path') or '-')}, "
                 f"sha256 {_code(helm.get('sha256') or helm.get('error') or '-')}"),
        ("Kubernetes versions", ", ".join(_code(v) for v in report.get("kubernetes_versions", [])) or "-"),
        ("Charts repository commit", _code(report.get("git_commit") or "not a git checkout")),
        ("Generated", f"{text(report['generated_at'])} (run started {text(report.get('started_at', '-'))})"),
        ("Blocking", f"**{counts.get('blocking', 0):,} blocking**, {counts.get('warning', 0):,} warning "
                     f"(reported, not blocking below --fail-on {text(summary.get('fail_on', 'error'))})"),
        ("Defects", f"{_plural(counts.get('total', 0), 'defect')} ({text(defects)}), seen "
                    f"{_plural(counts.get('occurrences', 0), 'time')} across scenarios"),
        ("Results", text(totals) + " (one per policy, chart and scenario)"),
    ]
    notes = baseline_notes(report)
    if notes:
        rows.append(("Baseline and ownership", "; ".join(text(n) for n in notes)))
    unreported = summary.get("unreported_render_failures") or []
    if unreported:
        render = render_check_named(report.get("policies") or [])
        rows.insert(1, ("Did not render", f"{len(unreported)} scenario(s), not reported by {render} (it did not run): "
                        + ", ".join(_code(f"{chart} [{scenario}]") for chart, scenario in unreported[:20])
                        + (f" and {len(unreported) - 20} more" if len(unreported) > 20 else "")))
    if summary.get("incomplete"):
        rows.insert(1, ("Incomplete", text(summary["incomplete"])))
    partial = summary.get("partial")
    if partial:
        checks = partial["checks"]
        rows.insert(1, ("Partial", f"{text(partial['reason'])}. Selected {checks['selected']:,} of "
                                   f"{checks['collected']:,} collected checks; not run: "
                                   + (", ".join(_code(m) for m in partial["policy_modules"]["not_run"]) or "no module")
                                   + "; charts left out: "
                                   + (", ".join(_code(c) for c in partial["charts"]["left_out"][:50]) or "none")
                                   + ". Not the whole gate: the verdict is not green."))
    excluded = report.get("excluded_charts") or []
    if excluded:
        rows.insert(1, ("Excluded by configuration", f"{_plural(len(excluded), 'chart')}, not judged (`exclude-charts`): "
                        + ", ".join(f"{_code(x['name'])} ({_code(x['pattern'])})" for x in excluded)))
    coverage = summary.get("partial_coverage") or {}
    if coverage:
        rows.insert(1, ("Partial coverage", text(partial_coverage_text(coverage))))
    shard = report.get("shard")
    if shard:
        rows.insert(1, ("Shard", f"{shard['index']} of {shard['total']}: merge the shards "
                                 "(`chartgate merge`) for the whole verdict"))
    elif report.get("merged_from"):
        rows.insert(1, ("Merged from", ", ".join(f"shard {m['index']}/{m['total']} ({_code(m['dir'])})"
                                                  for m in report["merged_from"])))
    lines = [f"# chartgate report: gate {verdict}", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return lines + [""]


def _anchor_link(label: str, target: str) -> str:
    return f"[{label}](#{target})"


def _matrix(report: dict, linked: set[str]) -> list[str]:
    matrix = build_matrix(report)
    if not matrix.policies:
        return ["## Summary by chart", "", "No policy was evaluated.", ""]
    grouped = families(matrix)
    first = first_defects(report)
    per_cell = defects_per_cell(report)
    head = "| chart | defects | " + " | ".join(_code(f) for f in grouped) + " |"
    lines = ["## Summary by chart", "",
             "Charts as rows, policy families as columns. A cell shows the family's worst outcome over its "
             "policies and scenarios and names each policy that did not pass (linked to its first finding); "
             "`✅ 3` means three policies passed.", "",
             head, "|---" * (len(grouped) + 2) + "|"]
    for chart in matrix.charts:
        cells = []
        for policies in grouped.values():
            fcell = family_cell(matrix, chart, policies)
            if fcell is None:
                cells.append("–")
                continue
            named = []
            for policy_id, cell in fcell.policies:
                if cell.outcome in ("passed", "skipped"):
                    continue
                label = f"{_SYMBOL[cell.outcome]} {policy_id}"
                defect = first.get((chart, policy_id))
                if defect is not None and defect["id"] in linked:
                    label = _anchor_link(label, defect["id"])
                named.append(label)
            passed = fcell.count("passed")
            if passed:
                named.append(f"✅ {passed}")
            cells.append(" ".join(named) or "➖")
        n = sum(count for (c, _), count in per_cell.items() if c == chart)
        lines.append(f"| **{text(chart)}** | {n:,} | " + " | ".join(cells) + " |")
    legend = " · ".join(f"{_SYMBOL[o]} {o}" for o in OUTCOME_ORDER)
    return lines + ["", f"Legend: {legend}", ""]


def _families(report: dict) -> list[str]:
    lines = ["## Summary by policy family", "", "| family | policies | defects | charts with a defect | results |",
             "|---|---|---|---|---|"]
    for row in family_summary(report):
        results = ", ".join(f"{n:,} {o}" for o, n in row["results"].items() if n)
        defects = ", ".join(f"{n:,} {o}" for o, n in row["defects"].items() if n) or "none"
        charts = ", ".join(row["charts"][:10]) + (f" and {len(row['charts']) - 10} more" if len(row["charts"]) > 10 else "")
        lines.append(f"| {_code(row['family'])} | {' '.join(_code(p) for p in row['policies'])} | {text(defects)} | "
                     f"{text(charts) or '–'} | {text(results)} |")
    return lines + [""]


def _scenario(inputs: dict | None) -> list[str]:
    if not inputs:
        return []
    lines = ["", "Scenario inputs (first scenario):", ""]
    files = inputs.get("values_files") or []
    lines.append("- values files: " + (", ".join(_code(f) for f in files) if files else "none (chart defaults)"))
    sets = inputs.get("set") or {}
    lines.append("- `--set` values: " + (", ".join(_code(cut(set_text(k, v), 300)) for k, v in sets.items()) if sets else "none"))
    changed = changed_values_text(inputs)
    lines.append("- values that differ from the chart's defaults: "
                 + (", ".join(_code(cut(v, 300)) for v in changed) if changed else "none"))
    apis = inputs.get("api_versions") or []
    lines.append("- advertised API versions: " + (", ".join(_code(a) for a in apis) if apis else "none (bare cluster)"))
    if inputs.get("kube_version"):
        lines.append(f"- Kubernetes version: {_code(inputs['kube_version'])}")
    return lines


def _body(defect: dict, policy: dict) -> list[str]:
    lines = [f"**{text(defect['title'])}** · severity {_code(defect['severity'])} · chart {_code(defect['chart'])}", ""]
    waiver = next((o["waiver"] for o in defect["occurrences"] if o.get("waiver")), None)
    if waiver:
        lines += [f"Waived: {text(waiver.get('reason', ''))} (owner {text(waiver.get('owner', '-'))}, "
                  f"expires {text(waiver.get('expires', '-'))}, {text(waiver.get('source', ''))})", ""]
    where = [("resource", defect.get("resource")), ("template", defect.get("template")),
             ("JSONPath", defect.get("path")), ("line", defect.get("line"))]
    shown = [f"{name} {_code(value)}" for name, value in where if value not in (None, "")]
    if shown:
        lines += ["- " + " · ".join(shown), ""]
    message = cut(defect["message"], MESSAGE_CHARS)
    if defect["outcome"] == "error":
        lines += _fenced(message, "text") + [""]
    else:
        lines += ["  \n".join(text(part) for part in message.splitlines() or [""]), ""]
    if defect.get("excerpt"):
        lines += _fenced(cut_lines(defect["excerpt"], EXCERPT_LINES, EXCERPT_CHARS), "yaml") + [""]
    occurrences = defect["occurrences"]
    names = ", ".join(_code(o["scenario"] or "chart-level") + ("" if o["outcome"] == defect["outcome"]
                                                                else f" ({o['outcome']})")
                      for o in occurrences[:SCENARIOS_SHOWN])
    more = f" and {len(occurrences) - SCENARIOS_SHOWN:,} more (all in chartgate.json)" if len(occurrences) > SCENARIOS_SHOWN else ""
    lines += [f"Seen in {_plural(len(occurrences), 'scenario')}: {names}{more}"]
    notes = [(o["scenario"] or "chart-level", o.get("note") or o.get("message")) for o in occurrences
             if o.get("note") or o.get("message")]
    for name, note in notes[:5]:
        lines += [f"- {_code(name)}: {text(cut(note, 500))}"]
    first = occurrences[0]
    lines += _scenario(first.get("inputs"))
    if first.get("command"):
        lines += ["", "Reproduce:", ""] + _fenced(cut(first["command"], COMMAND_CHARS), "sh")
    if policy:
        lines += ["", f"Why: {text(policy.get('rationale', ''))}" + ("  " if policy.get("remediation") or policy.get("see") else "")]
        if policy.get("remediation"):
            lines += [f"Fix: {text(policy['remediation'])}" + ("  " if policy.get("see") else "")]
        if policy.get("see"):  # only a reference that resolves where the report is read
            lines += [f"See: {text(policy['see'])}"]
    return lines + [""]


def _named(group: list[dict]) -> list[str]:
    """Every policy reporting the group's defects (one defect may name several, see `defects.py`)."""
    return list(dict.fromkeys(p for d in group for p in policies_of(d)))


def _also(group: list[dict]) -> list[str]:
    named = _named(group)
    if len(named) == 1:
        return []
    return ["".join(f'<a id="{d["id"]}"></a>' for d in group[1:]),
            "", f"The same finding is reported by {len(named)} policies: {', '.join(_code(p) for p in named)}.", ""]


def _headline(group: list[dict]) -> str:
    defect = group[0]
    where = " ".join(_code(v) for v in (defect.get("resource"), defect.get("path")) if v)
    first_line = cut(defect["message"].split("\n")[0], 160)
    named = _named(group)
    ids = _code(defect["policy"]) + (f" +{len(named) - 1} policies" if len(named) > 1 else "")
    mark = f" **{text(ownership_mark(defect))}**" if ownership_mark(defect) else ""
    return (f"{_SYMBOL[defect_shown_outcome(defect)]} {ids}{mark} {where} {text(first_line)} "
            f"({_plural(len(defect['occurrences']), 'scenario')})")


def _findings(report: dict, budget: Budget, cuts: list[str], linked: set[str]) -> list[str]:
    policies = policy_index(report)
    defects, held = split_baselined(report.get("defects", []))
    if held:  # apart, after everything else: accepted as they stood when the baseline was written
        tail = ["## Baselined findings", "", f"{_plural(len(held), 'defect')} the repository's baseline holds: "
                "reported, not blocking.", "", "<details>", "<summary>Baselined</summary>", ""]
        tail += [f'- <a id="{d["id"]}"></a>{_headline([d])}' for d in held] + ["", "</details>", ""]
        linked.update(d["id"] for d in held)
        return _findings({**report, "defects": defects}, budget, cuts, linked) + tail if defects else \
            ["## Findings", "", "No finding outside the baseline.", ""] + tail
    if not defects:
        return ["## Findings", "", "Every evaluated policy passed (or did not apply).", ""]
    counts = ", ".join(f"{sum(defect_shown_outcome(d) == o for d in defects):,} {o}" for o in NOTEWORTHY)
    top, top_ids = top_groups(repeat_groups(defects)), set()
    lines = [f"## Top findings ({sum(len(g) for g in top)} of {len(defects):,} defects: {counts})", "",
             "Blocking first, then the most widespread. Each is one defect however many scenarios show it; one "
             "that several policies report is shown once.", ""]
    for group in top:
        defect = group[0]
        policy = policies.get(defect["policy"], {}) if len(group) == 1 else {}
        more = f" (and {len(_named(group)) - 1} more policies)" if len(_named(group)) > 1 else ""
        block = [f'<a id="{defect["id"]}"></a>', "",
                 f"### {_SYMBOL[defect_shown_outcome(defect)]} {text(defect['policy'])}{more} on "
                 f"{text(defect['chart'])}: {defect_shown_outcome(defect)}"
                 + (f" ({text(ownership_mark(defect))})" if ownership_mark(defect) else ""), ""] + _also(group) + _body(defect, policy)
        budget.add("\n".join(block))
        lines += block
        linked.update(d["id"] for d in group)
        top_ids.update(d["id"] for d in group)
    rest = [d for d in defects if d["id"] not in top_ids]
    if not rest:
        return lines
    lines += [f"## All other findings ({len(rest):,})", "", "Per chart, collapsed.", ""]
    rows_only = omitted = 0
    for chart, chart_defects in defects_by_chart({"defects": rest}).items():
        if not budget.rows:
            omitted += len(chart_defects)
            continue
        by_outcome = ", ".join(f"{n} {o}" for o in NOTEWORTHY
                               if (n := sum(defect_shown_outcome(d) == o for d in chart_defects)))
        in_top = sum(d["chart"] == chart for d in defects if d["id"] in top_ids)
        also = f"; {in_top} more in the top findings above" if in_top else ""
        block = ["<details>", f"<summary>{text(chart)}: {_plural(len(chart_defects), 'defect')} ({by_outcome}{also})"
                 "</summary>", ""]
        for group in repeat_groups(chart_defects):
            defect = group[0]
            if not budget.rows:
                omitted += len(group)
                continue
            linked.update(d["id"] for d in group)
            anchors = "".join(f'<a id="{d["id"]}"></a>' for d in group)
            if budget.full:
                policy = policies.get(defect["policy"], {}) if len(group) == 1 else {}
                item = [anchors, "", "<details>", f"<summary>{_headline(group)}</summary>", ""] + \
                    _also(group)[2:] + _body(defect, policy) + ["</details>", ""]
            else:
                rows_only += len(group)
                item = [anchors, "", f"- {_headline(group)}", ""]
            budget.add("\n".join(item))
            block += item
        lines += block + ["</details>", ""]
    if rows_only:
        cuts.append(f"{rows_only:,} findings are listed as one-line rows without details, to keep this file small.")
    if omitted:
        cuts.append(f"{omitted:,} findings are not listed at all (file size budget reached).")
    return lines


def _waivers(report: dict) -> list[str]:
    waivers = report.get("waivers") or {}
    lines = []
    for kind, advice in (("expired", "renew it or fix the finding"), ("unused", "remove it")):
        for w in waivers.get(kind) or []:
            lines.append(f"- {kind}: {_code(w['policy'])} on {_code(w['chart'])} (owner {text(w.get('owner', '-'))}, "
                         f"expires {text(w.get('expires', '-'))}, {text(w.get('source', ''))}): {advice}")
    return ["## Waivers", ""] + lines + [""] if lines else []


def _provenance(report: dict) -> list[str]:
    lines = ["## Provenance", "", "### Charts", "", "| chart | version | path | sha256 (tree incl. vendored dependencies) |",
             "|---|---|---|---|"]
    lines += [f"| {text(c['name'])} | {_code(c['version'])} | {_code(c['path'])} | {_code(c['digest'])} |"
              for c in report["charts"]]
    lines += ["", "### Policies", "", "| id | title | severity | module | module sha256 |", "|---|---|---|---|---|"]
    lines += [f"| {_code(p['id'])} | {text(p['title'])} | {text(p['severity'])} | {_code(p.get('module', ''))} | "
              f"{_code(p.get('module_sha256') or '-')} |" for p in report["policies"]]
    digests = values_digests(report)
    if digests:
        lines += ["", "### Values and overlay files", "", "<details>", f"<summary>{len(digests)} files</summary>", "",
                  "| file | sha256 |", "|---|---|"]
        lines += [f"| {_code(path)} | {_code(digest or 'unreadable')} |" for path, digest in digests.items()]
        lines += ["", "</details>"]
    broken = report.get("broken_charts") or []
    if broken:
        lines += ["", "### Charts that could not be loaded", ""]
        lines += [f"- {_code(b['name'])} ({_code(b['path'])}): {text(cut(b['error'], MESSAGE_CHARS))}" for b in broken]
    return lines + [""]


def render_markdown_output(report: dict) -> tuple[str, list[str]]:
    """The Markdown, and what it left out (for the terminal)."""
    every = {d["id"] for d in report.get("defects", [])}
    rest = sum(len(line.encode()) + 1 for line in _header(report) + _matrix(report, every) + _families(report)
               + _waivers(report) + _provenance(report))
    budget = Budget(rest=rest + 10_000)
    cuts: list[str] = []
    linked: set[str] = set()
    findings = _findings(report, budget, cuts, linked)
    lines = _header(report)
    if cuts:
        lines += ["> **Left out of this file:** " + " ".join(cuts) + " chartgate.json has every result and defect.", ""]
    lines += _matrix(report, linked) + _families(report) + findings + _waivers(report) + _provenance(report)
    return "\n".join(lines).rstrip("\n") + "\n", [f"chartgate.md: {c}" for c in cuts]


def _render_markdown(report: dict) -> str:
    return render_markdown_output(report)[0]
